/* sheet: one config file read whole (SPEC section 3, "Config"), and the
 * checks of its values, with messages that name file, line and column.
 *
 * A sheet is a CSV file (RFC 4180, strict quoting; a leading UTF-8 BOM is
 * dropped, cells keep their spaces, lines of only blanks between rows are
 * skipped) whose columns are found by name in its header. Every row knows
 * the text line it starts on (the header is line 1), and every message
 * has the form
 *   WHAT at PATH:LINE (KIND NAME)
 * e.g. "bad unit_price '1.2.3' at cfg/prices.csv:4 (column unit_price)".
 * settings.conf is not CSV, but its messages come from the same helpers
 * (sheet_slurp, struct sheet_ctx with kind "key").
 *
 * Every check returns 0, or ST_ERROR with the context's err filled; none
 * allocates what the caller must free unless it says so. Values quoted in
 * messages are cut to SHEET_QUOTE_MAX bytes and made printable. */
#ifndef SHEET_H
#define SHEET_H

#include <stddef.h>
#include <stdint.h>

#include "dec.h"
#include "err.h"

#define SHEET_MAX_CODE 64   /* longest id or code (sheet_code_ok) */
#define SHEET_MAX_COLS 24   /* most columns a sheet may look for */
#define SHEET_QUOTE_MAX 72  /* bytes of a value quoted in a message */

/* Where a value came from: file, text line and the kind of name given
 * with a column or key ("column" for CSV files, "key" for settings.conf).
 * path is not owned. */
struct sheet_ctx {
	struct err *e;
	const char *path;
	const char *kind;
	long line;
};

/* A value to check: its text and the column or key it came from. */
struct sheet_val {
	struct sheet_ctx *c;
	const char *name;
	const char *v;
};

struct sheet_cell {
	char *s;   /* NUL-terminated copy */
	size_t n;  /* its bytes (less than strlen(s) never; more with a NUL) */
};

struct sheet_row {
	long line;  /* text line where the row starts */
	struct sheet_cell *cell;
	size_t n;
};

/* The rows of a file: nrows of them, row 0 the header when there is one.
 * The file's bytes are parsed once, whole, at sheet_open: each row's
 * kept cells go to one text block (their bytes, each with a NUL) and
 * sheet_row_at only points t->cur at the row asked for (in order: the
 * next one costs one row; going back starts over from the first). A
 * config takes about its own size in memory whatever its shape, plus a
 * byte a row (a few for a row of another width than its header's or on
 * a later line than the one after the row before), once the caller has
 * dropped the bytes (sheet_open no longer needs them when it returns).
 * A row keeps at most its header's width of cells (more only counted),
 * and the header at most SHEET_MAX_HEADER. The other fields are the
 * parser's. */
#define SHEET_MAX_HEADER 1024
struct sheet_table {
	const char *buf;        /* the file's bytes (the caller's) */
	size_t len;
	size_t nrows;
	struct sheet_row head;  /* row 0 */
	struct sheet_row cur;   /* the row last parsed */
	size_t next;            /* the index of the row at `at` */
	size_t at;              /* where the parser goes on */
	long line;              /* the text line at `at` */
	long start;             /* the line where the current row starts */
	int in_row;
	int row_done, fini_done;
	size_t keep;            /* cells kept of a row (0: none) */
	char *headtext;         /* the cells of head: their bytes, NULs */
	char *text;             /* the cells of cur: their bytes, NULs */
	size_t ntext, captext;
	size_t cellcap;
	size_t *offs;           /* cur's cells in text while it is parsed */
	size_t offcap;
	void *csv;              /* the libcsv parser (struct csv_parser) */
	size_t csv_step;
	/* rows 1..nrows-1 as parsed at sheet_open: text holds their kept
	 * cells one after the other (ntext bytes, each cell with its NUL),
	 * meta each row's line and counted cells, one after the other (read
	 * in order, as rows are): a varint A = (lines since the row before
	 * - 1) * 4 + 2 when the row has cell lengths + 1 when its count of
	 * cells is not keep, then that count (a varint) when not keep, then
	 * the lengths of its kept cells (varints) when it has them. A
	 * cell's length is its strlen but in a row with a NUL byte in a
	 * cell (an error when it is fetched), which has its lengths. */
	int hold;               /* parse_row appends to text, not over it */
	unsigned char *meta;
	size_t nmeta, capmeta;
	long held_line;         /* the line of the last row put in meta */
	size_t cur_row;         /* the row t->cur holds (0: none) */
	size_t cur_text;        /* where the row after it starts in text */
	size_t cur_meta;        /* where the row after it starts in meta */
	long cur_line;          /* the line of row cur_row (0: the header's) */
	int cur_lens;           /* row cur_row has its cells' lengths */
};

struct sheet_colspec {
	const char *name;
	int required;  /* the header must have it */
};

/* One CSV config file, its columns found by name. Owns path and t. */
struct sheet {
	struct sheet_ctx c;
	char *path;
	struct sheet_table t;
	const struct sheet_colspec *cols;
	int ncols;
	int idx[SHEET_MAX_COLS]; /* column of cols[k] in the file, -1 if absent */
	size_t width;       /* header fields */
	int absent;         /* optional file not there (or empty) */
};

/* ---- messages ---- */

/* Makes s fit for a one-line message in buf (SHEET_QUOTE_MAX + 4 bytes):
 * control bytes become '?', long text is cut (never inside a UTF-8
 * sequence) and marked with "...". Returns buf. */
const char *sheet_quote(char *buf, const char *s);

/* The quoted form of s, in a buffer that lives to the end of the
 * enclosing block (a compound literal). */
#define SHEET_Q(s) sheet_quote((char[SHEET_QUOTE_MAX + 4]){ 0 }, (s))

/* Fills c->e with "WHAT at PATH:LINE (KIND NAME)"; name may be NULL (then
 * without the parenthesis). Returns ST_ERROR. */
int sheet_fail(const struct sheet_ctx *c, const char *name,
	       const char *fmt, ...) __attribute__((format(printf, 3, 4)));

int sheet_need(struct sheet_val x);   /* "missing value" when empty */
int sheet_bad(struct sheet_val x);    /* "bad NAME 'V'" */
int sheet_bad_want(struct sheet_val x, const char *want); /* ... (want W) */
/* "bad NAME 'V' at PATH:LINE (KIND NAME; NOTE)": the note says what a
 * good value looks like. */
int sheet_bad_note(struct sheet_val x, const char *note);

/* ---- warnings ---- */

/* Warnings met while reading config files (SPEC 3: unknown columns and
 * keys), in the order met; each message is owned by the list, without a
 * "warning: " prefix (the printer adds it). */
struct sheet_warns {
	char **msg;
	size_t n, cap;
};

/* Adds a formatted message to w. */
void sheet_warn(struct sheet_warns *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Adds "unknown KIND 'WORD' in WHERE", with " (did you mean 'NAME'?)"
 * when one of names[0..n) is close (suggest.h). */
void sheet_warn_unknown(struct sheet_warns *w, const char *kind,
			const char *word, const char *where,
			const char *const *names, size_t n);

/* Frees every message and leaves w empty. */
void sheet_warns_free(struct sheet_warns *w);

/* ---- value checks ---- */

/* 1 if s is 1..SHEET_MAX_CODE characters of [A-Za-z0-9] and extra. */
int sheet_code_ok(const char *s, const char *extra);

/* 1 if s is two capital ASCII letters (the form of ISO 3166-1 alpha-2;
 * whether the code is assigned is not checked). */
int sheet_country_ok(const char *s);

/* An optional decimal: def when empty; positive asks for > 0. */
int sheet_val_dec(struct sheet_val x, dec_t def, int positive, dec_t *out);

/* An optional non-negative integer: def when empty; max < 0 for none. */
int sheet_val_int(struct sheet_val x, int64_t def, int64_t max,
		  int64_t *out);

/* An optional word from names (NULL-terminated): its index, def when
 * empty. want lists the choices for the message. */
int sheet_val_enum(struct sheet_val x, const char *const *names,
		   const char *want, int def, int *out);

/* A required RFC 3339 instant (ts.h). */
int sheet_val_ts(struct sheet_val x, int64_t *out);

/* A required currency code of ISO 4217 with a minor unit (iso4217.h),
 * copied with its NUL into out; else "bad NAME 'V' ... (column NAME; not
 * a current ISO 4217 code with a minor unit)". */
int sheet_val_currency(struct sheet_val x, char out[4]);

/* 1 if v has no more decimals than the currency's minor unit. Trailing
 * zeros do not count: "12.500" is a fine CNY amount. */
int sheet_minor_ok(dec_t v, int minor);

/* "bad NAME 'V' (want at most N decimals for CUR)". */
int sheet_bad_decimals(struct sheet_val x, const char *currency);

/* ---- files ---- */

/* "dir/name", to free. */
char *sheet_join(const char *dir, const char *name);

/* 1 if buf starts with a UTF-8 BOM. */
int sheet_has_bom(const char *buf, size_t len);

/* Reads c->path whole into *out (to free; NULL when absent) and *len. A
 * missing optional file sets *absent and is not an error; a missing
 * required one is "missing config file 'PATH' (every config file but
 * payments.csv is required; a header alone means none)". */
int sheet_slurp(const struct sheet_ctx *c, int optional, char **out,
		size_t *len, int *absent);

/* Adds one config file to the config's digest, in the form every state's
 * inputs digests hold: its name with the NUL, then "-" when the file is
 * absent, else its bytes and their count (a uint64_t as in memory). md
 * NULL does nothing. The bytes are those just read and parsed, so the
 * digest a close records is of the config it used (a file edited while
 * settle runs cannot slip in). */
struct sha256;
void sheet_digest_add(struct sha256 *md, const char *name, const char *buf,
		      size_t len, int absent);

/* ---- sheets ---- */

/* The bytes of one config file as read (sheet_slurp): buf NULL and
 * absent 1 for a missing optional file. */
struct sheet_bytes {
	char *buf;
	size_t len;
	int absent;
};

/* Maps the header of dir/name, read into b, to cols (ncols <=
 * SHEET_MAX_COLS, not copied), and parses its rows (held in s). b's bytes
 * stay the caller's; s does not read them once sheet_open returns. An optional file that is missing or has no bytes but blanks
 * sets s->absent. header_only: every row but the header is left unread
 * and unchecked (sheet_row_at must not be called): the warnings of a
 * config known to load (catalog_peek). s is filled even on error:
 * sheet_close it. */
int sheet_open(struct sheet *s, const char *dir, const char *name,
	       const struct sheet_colspec *cols, int ncols, int optional,
	       const struct sheet_bytes *b, int header_only, struct err *e);

/* Frees what s holds and leaves it empty. */
void sheet_close(struct sheet *s);

/* Warns of every header column of s that is none of its cols, with the
 * nearest known column name. */
void sheet_unknown_columns(const struct sheet *s, struct sheet_warns *w);

/* Data row i (1-based after the header), checked for its width and for
 * NUL bytes; sets the line for messages. */
int sheet_row_at(struct sheet *s, size_t i, const struct sheet_row **out);

/* The cell of column k of row r ("" when the file has no such column). */
struct sheet_val sheet_col(struct sheet *s, const struct sheet_row *r,
			   int k);

#endif
