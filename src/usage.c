/* usage: the streaming usage-file reader (SPEC section 3, "Usage files").
 *
 * Choices made where the SPEC and usage.h leave room:
 * - Gzip is told by 1f 8b as the first two raw bytes; a file of fewer than
 *   two bytes is plain. After a member ends, the next bytes must be 1f 8b
 *   and start another member; anything else (zero padding included) fails
 *   the file as "trailing garbage". EOF inside a member is "truncated".
 * - An empty file (0 raw bytes, or gzip that inflates to 0 bytes) fails.
 *   A file whose text is only blank lines or a BOM fails as "no header".
 * - Text lines in messages count LF bytes: line = 1 + LFs before the
 *   error (the header is line 1). libcsv also ends a row at a lone CR;
 *   that does not start a new text line in messages. An unterminated
 *   quoted field (found at EOF) and an over-long field are reported at the
 *   text line where their row began.
 * - Blank lines (nothing between two line breaks) are skipped by libcsv
 *   and not numbered. A line holding only spaces, or only "", is a row
 *   (spaces are never trimmed) and so a numbered record (field_count).
 * - Record length for the USAGE_MAX_RECORD check is the sum of its
 *   fields' bytes after unquoting (quotes and commas not counted).
 * - Rejected records carry their record_id and tenant cells as stored:
 *   at most USAGE_MAX_FIELD bytes each (less when the record overflowed
 *   the record buffer).
 * - libcsv buffers a whole field before handing it over; its buffer is
 *   capped at CSV_FIELD_CAP (16 MiB). A single field beyond that fails the
 *   file ("field over 16 MiB") rather than growing memory without bound.
 *   Fields from USAGE_MAX_FIELD + 1 bytes up to the cap are bad_field
 *   rejects as usage.h says.
 * - The header must fit the same limits as a record: a column name over
 *   USAGE_MAX_FIELD bytes or a header over USAGE_MAX_RECORD bytes fails
 *   the file. Column names are exact and case-sensitive; an empty name is
 *   an (ignored) unknown column, and two empty names are duplicates.
 * - Record checks run in this order; the first failing one is reported:
 *   field count; any field over USAGE_MAX_FIELD (column order); record
 *   over USAGE_MAX_RECORD; record_id; tenant_id; item; ts; quantity;
 *   dims (syntax, UTF-8, NUL); status (UTF-8, NUL); unit (UTF-8, NUL).
 * - Records numbered <= skip are counted but not validated or delivered.
 * - A reader reads its file once; a second usage_read fails.
 * - Progress counts the records numbered so far, skipped ones included.
 * - libcsv is the parser of record, but most lines never reach it: a
 *   line without a '"' that starts between rows and ends in the text at
 *   hand is split on ',' by fast_rows(), which gives exactly what libcsv
 *   gives (cells, blank lines, CR, LF and CRLF, line numbers, cuts and
 *   limits). Lines with a quote, the lines a quoted field spans, a line
 *   cut by the end of the text at hand and cells over CSV_FIELD_CAP go to
 *   libcsv. usage_set_fast(r, 0) sends everything to libcsv; the tests
 *   and the fuzz targets read every input both ways and compare.
 * - Gzip limits (usage.h) are checked after each inflate call, before its
 *   text is parsed, against the bytes inflate consumed so far (gzip
 *   headers and trailers included, every member counted): a bomb fails
 *   soon after the first MiB, without being inflated whole. A read that
 *   fails the size limit has parsed at most that many bytes of text. */
#include "usage.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <csv.h>
#include <zlib.h>

#include "sha256.h"
#include "ts.h"
#include "banned.h"

#define READ_SIZE (256u * 1024u)   /* default raw read size */
#define MAX_READ_SIZE ((size_t)1 << 30) /* fits zlib's uInt avail_in */
#define RAW_SLACK 16               /* room to keep a split gzip magic */
#define TEXT_SIZE (256u * 1024u)   /* inflate output per call */
#define RING 16                     /* inflated chunks in flight */
#define REC_CAP (USAGE_MAX_RECORD + USAGE_MAX_FIELD)
#define CSV_BLK (64u * 1024u)      /* libcsv field buffer growth step */
#define CSV_FIELD_CAP ((size_t)16 << 20)
#define NAME_SHOW 64               /* bytes of a column name in messages */
#define NO_OVER ((size_t)-1)

enum col {
	C_RECORD_ID, C_TENANT, C_ITEM, C_TS, C_QTY, C_STATUS, C_DIMS, C_UNIT,
	C_NKNOWN
};

static const char *const col_names[C_NKNOWN] = {
	"record_id", "tenant_id", "item", "ts", "quantity", "status", "dims",
	"unit"
};

#define C_NREQUIRED 5 /* C_RECORD_ID .. C_QTY */

static const unsigned char bom[3] = { 0xef, 0xbb, 0xbf };

/* A cell of the current row: in rec (libcsv's rows, whose buffer is
 * reused per field) or in the text being parsed (the fast path's rows,
 * which are whole in it). */
struct fld {
	const char *p;
	size_t len;  /* bytes kept (may be cut) */
};

struct dpair {
	const char *k, *v;
	size_t kn, vn;
};

struct usage_reader {
	char *path;
	int fd;              /* -1 for a reader over memory */
	const unsigned char *mem; /* usage_open_mem: the bytes, and */
	size_t mem_len, mem_pos;  /* how many, and how far read */
	uint64_t gz_max_ratio, gz_max_bytes; /* 0: no limit */
	uint64_t gz_in;      /* compressed bytes inflate consumed */
	int used;
	size_t read_size;
	unsigned char *raw;
	size_t raw_cap;
	z_stream zs;
	int z_live;

	/* Gzip is inflated on a thread of its own (the producer) while this
	 * one parses: chunk k of the text is in text + (k % RING) *
	 * TEXT_SIZE. The producer owns zs, raw, the fd and the counts of
	 * raw and compressed bytes; each chunk carries the counts as they
	 * were when it was inflated, so that limits, progress and
	 * checkpoints see what a reader on one thread would. */
	unsigned char *text;
	struct chunk {
		size_t n;
		uint64_t gz_in, raw_read;
	} ring[RING];
	uint64_t made, taken;   /* chunks inflated, chunks parsed */
	int threaded;           /* a producer thread runs */
	size_t prod_avail;      /* raw bytes read before it started */
	int done;               /* the producer ended, with prod_rc */
	int prod_rc;            /* 0, or -1 with perr filled (or cancel) */
	int cancel;             /* the parser stopped: the producer ends */
	struct err perr;        /* the producer's failure */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;      /* made, taken, done or cancel changed */
	struct csv_parser csv;
	size_t csv_step;     /* libcsv's buffer growth step (grow_step) */

	/* the row being parsed */
	char *rec;
	size_t rec_len;
	uint64_t rec_total;
	size_t nf;
	/* USAGE_MAX_FIELD and the room left in rec, as data: with constant
	 * bounds in sight gcc inlines the cell copy as `rep movs`, which
	 * made reading typical short cells 20% slower than libc memcpy.
	 * (fast_rows() copies nothing, but cuts cells at the same bytes.) */
	size_t cell_max, rec_room;
	size_t over_at;      /* first kept field over USAGE_MAX_FIELD, or NO_OVER */
	int fast;            /* split quote-free lines without libcsv */
	struct fld fld[USAGE_MAX_COLUMNS];

	/* the header */
	int have_header;
	size_t ncols;
	int col[C_NKNOWN];
	char (*colname)[NAME_SHOW + 8]; /* printable names, for messages */

	/* dims scratch */
	struct dpair *pairs, *ptmp;
	char *dims_out;

	char why[NAME_SHOW + 64];
	unsigned char cls[256]; /* CL_* of each byte */

	/* one read */
	const struct usage_sink *sink;
	uint64_t skip;
	struct err *e;
	uint64_t records;
	uint64_t raw_read;   /* raw bytes read (the producer's, for gzip) */
	uint64_t raw_seen;   /* raw_read when the text parsed was made */
	uint64_t last_progress;
	uint64_t text_total;
	uint64_t lf;         /* LF bytes parsed so far */
	uint64_t row_line;   /* text line where the current row began */
	int at_row_start;    /* no byte of a new row parsed yet */
	int bom_pos, bom_done;
	int stop;   /* a sink's non-zero return */
	int failed; /* e is filled */
};

const char *usage_reject_name(enum reject_reason r)
{
	switch (r) {
	case REJ_FIELD_COUNT: return "field_count";
	case REJ_BAD_FIELD: return "bad_field";
	case REJ_BAD_TS: return "bad_ts";
	case REJ_BAD_QUANTITY: return "bad_quantity";
	case REJ_UNKNOWN_TENANT: return "unknown_tenant";
	case REJ_UNKNOWN_ITEM: return "unknown_item";
	case REJ_NO_ACCOUNT: return "no_account";
	case REJ_UNIT_MISMATCH: return "unit_mismatch";
	case REJ_NO_PRICE: return "no_price";
	case REJ_DUPLICATE_CONFLICT: return "duplicate_conflict";
	case REJ_COUNT: break;
	}
	return "unknown";
}

static int fail(struct usage_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct usage_reader *r, const char *fmt, ...)
{
	char buf[sizeof(r->e->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	err_set(r->e, ST_ERROR, "%s", buf);
	r->failed = 1;
	return -1;
}

/* Copies at most NAME_SHOW bytes of s, with bytes outside [ -~] as '?',
 * so that junk in a header cannot garble a message. */
static void show_name(char *dst, size_t cap, const char *s, size_t n)
{
	size_t i, m = n > NAME_SHOW ? NAME_SHOW : n;

	if (m > cap - 4)
		m = cap - 4;
	for (i = 0; i < m; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[i] = c >= 0x20 && c <= 0x7e ? (char)c : '?';
	}
	if (m < n) {
		memcpy(dst + m, "...", 3);
		m += 3;
	}
	dst[m] = '\0';
}

/* ---- record checks ---- */

/* Record checks run once per record and so are written for speed: eight
 * bytes at a time where the test allows (SWAR, "Bit Twiddling Hacks":
 * hasless, hasmore), a table of character classes. */
#define ONES ((uint64_t)0x0101010101010101)
#define HIGHS ((uint64_t)0x8080808080808080)

static inline uint64_t load8(const char *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return w;
}

/* Non-zero when a byte of w is outside [ -~]. */
static inline uint64_t unprintable8(uint64_t w)
{
	return ((w - ONES * 0x20) | (w + ONES * 1) | w) & HIGHS;
}

/* 1 if s is 1..max bytes, each in [ -~]. */
static int printable_span(struct span s, size_t max)
{
	size_t i;

	if (s.n < 1 || s.n > max)
		return 0;
	if (s.n >= 8) {
		uint64_t bad = 0;

		for (i = 0; i + 8 <= s.n; i += 8)
			bad |= unprintable8(load8(s.p + i));
		/* the last 8 bytes, overlapping what was checked */
		return !(bad | unprintable8(load8(s.p + s.n - 8)));
	}
	for (i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (c < 0x20 || c > 0x7e)
			return 0;
	}
	return 1;
}

/* Character classes of the id columns, bits of usage_reader.cls. */
#define CL_TENANT 1 /* [A-Za-z0-9_.:-] */
#define CL_ITEM 2   /* [A-Za-z0-9_.-] */

static void classes(unsigned char cls[256])
{
	unsigned c;

	for (c = 0; c < 256; c++) {
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9');
		int id = alnum || c == '_' || c == '.' || c == '-';

		cls[c] = (unsigned char)((id || c == ':' ? CL_TENANT : 0) |
					 (id ? CL_ITEM : 0));
	}
}

/* 1 if s is 1..max bytes, each of class bit in cls. */
static int class_span(const unsigned char cls[256], struct span s, size_t max,
		      unsigned bit)
{
	unsigned ok = bit;
	size_t i;

	if (s.n < 1 || s.n > max)
		return 0;
	for (i = 0; i < s.n; i++)
		ok &= cls[(unsigned char)s.p[i]];
	return ok != 0;
}

/* utf8_ok() from byte i on. */
static int utf8_from(struct span s, size_t i)
{
	const unsigned char *p = (const unsigned char *)s.p;
	size_t n = s.n;

	while (i < n) {
		unsigned c = p[i];
		size_t len, k;
		uint32_t cp, min;

		if (c < 0x80) {
			if (c == 0)
				return 0;
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			len = 2; cp = c & 0x1f; min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3; cp = c & 0x0f; min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4; cp = c & 0x07; min = 0x10000;
		} else {
			return 0;
		}
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

/* 1 if s is well-formed UTF-8 (no overlong forms, surrogates or code
 * points above U+10FFFF) without a NUL byte. ASCII without NUL, the
 * usual text, is passed over 8 bytes at a time (hasless(w, 1), high
 * bits). */
static inline int utf8_ok(struct span s)
{
	size_t i = 0;

	while (i + 8 <= s.n) {
		uint64_t w = load8(s.p + i);

		if (((w - ONES) | w) & HIGHS)
			return utf8_from(s, i);
		i += 8;
	}
	for (; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (c == 0 || c >= 0x80)
			return utf8_from(s, i);
	}
	return 1;
}

static int key_cmp(const struct dpair *a, const struct dpair *b)
{
	size_t m = a->kn < b->kn ? a->kn : b->kn;
	int c = m ? memcmp(a->k, b->k, m) : 0;

	if (c)
		return c;
	return (a->kn > b->kn) - (a->kn < b->kn);
}

/* Bottom-up merge sort of a[0..n) by key, using tmp (n entries); no
 * allocation, O(n log n) even for hostile dims. */
static void sort_pairs(struct dpair *a, struct dpair *tmp, size_t n)
{
	size_t w, lo;

	for (w = 1; w < n; w *= 2) {
		for (lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n;
			size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;

			while (i < mid && j < hi)
				tmp[k++] = key_cmp(&a[j], &a[i]) < 0 ? a[j++] : a[i++];
			while (i < mid)
				tmp[k++] = a[i++];
			while (j < hi)
				tmp[k++] = a[j++];
		}
		memcpy(a, tmp, n * sizeof(*a));
	}
}

/* Canonical dims: pairs sorted by key, joined "k=v;k=v". d is at most
 * USAGE_MAX_FIELD bytes (longer fields are rejected before). Returns 0,
 * or -1 when d is bad. */
static int canon_dims(struct usage_reader *r, struct span d, struct span *out)
{
	const char *p = d.p, *end = d.p + d.n;
	struct dpair prev = { NULL, NULL, 0, 0 }, cur;
	size_t np = 0, i, pos = 0;
	int sorted = 1;

	out->p = "";
	out->n = 0;
	if (d.n == 0)
		return 0;
	if (!utf8_ok(d))
		return -1;
	/* the syntax, and whether keys are already strictly ascending (as
	 * written by most producers): then d is its own canonical form */
	for (;;) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *segend = semi ? semi : end;
		const char *eq = memchr(p, '=', (size_t)(segend - p));

		if (!eq || eq == p)
			return -1;
		cur.k = p;
		cur.kn = (size_t)(eq - p);
		if (np++ && key_cmp(&prev, &cur) >= 0)
			sorted = 0;
		prev = cur;
		if (!semi)
			break;
		p = semi + 1;
	}
	if (sorted) {
		*out = d;
		return 0;
	}
	if (!r->pairs) {
		r->pairs = xcalloc(USAGE_MAX_FIELD / 2 + 2, sizeof(*r->pairs));
		r->ptmp = xcalloc(USAGE_MAX_FIELD / 2 + 2, sizeof(*r->ptmp));
		r->dims_out = xmalloc(USAGE_MAX_FIELD);
	}
	for (np = 0, p = d.p;; np++) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *segend = semi ? semi : end;
		const char *eq = memchr(p, '=', (size_t)(segend - p));

		r->pairs[np].k = p;
		r->pairs[np].kn = (size_t)(eq - p);
		r->pairs[np].v = eq + 1;
		r->pairs[np].vn = (size_t)(segend - eq - 1);
		if (!semi)
			break;
		p = semi + 1;
	}
	np++;
	sort_pairs(r->pairs, r->ptmp, np);
	for (i = 0; i < np; i++) {
		const struct dpair *q = &r->pairs[i];

		if (i > 0 && key_cmp(&r->pairs[i - 1], q) == 0)
			return -1;
		if (i > 0)
			r->dims_out[pos++] = ';';
		memcpy(r->dims_out + pos, q->k, q->kn);
		pos += q->kn;
		r->dims_out[pos++] = '=';
		if (q->vn)
			memcpy(r->dims_out + pos, q->v, q->vn);
		pos += q->vn;
	}
	out->p = r->dims_out;
	out->n = pos;
	return 0;
}

/* The cell of a known column in the current row, or an empty span when
 * the file has no such column or the row is too short. */
static struct span cell(const struct usage_reader *r, enum col c)
{
	struct span s = { "", 0 };
	int i = r->col[c];

	if (i >= 0 && (size_t)i < r->nf && (size_t)i < USAGE_MAX_COLUMNS) {
		s.p = r->fld[i].p;
		s.n = r->fld[i].len;
	}
	return s;
}

/* Delivers a reject of record u (its record_id and tenant cells). */
static int reject(struct usage_reader *r, const struct usage_rec *u,
		  enum reject_reason why, const char *text)
{
	struct usage_reject rj;

	rj.line = u->line;
	rj.record_id = u->record_id;
	rj.tenant = u->tenant;
	rj.reason = why;
	rj.why = text;
	return r->sink->reject ? r->sink->reject(r->sink->ctx, &rj) : 0;
}

static int check_row(struct usage_reader *r, uint64_t line)
{
	struct usage_rec u;
	struct span s;

	u.line = line;
	u.record_id = cell(r, C_RECORD_ID);
	u.tenant = cell(r, C_TENANT);
	if (r->nf != r->ncols) {
		snprintf(r->why, sizeof(r->why), "%zu fields, header has %zu",
			 r->nf, r->ncols);
		return reject(r, &u, REJ_FIELD_COUNT, r->why);
	}
	if (r->over_at != NO_OVER) {
		/* the first in column order: fields are kept in order */
		snprintf(r->why, sizeof(r->why),
			 "column %s longer than %d bytes",
			 r->colname[r->over_at], USAGE_MAX_FIELD);
		return reject(r, &u, REJ_BAD_FIELD, r->why);
	}
	if (r->rec_total > USAGE_MAX_RECORD) {
		snprintf(r->why, sizeof(r->why), "record longer than %d bytes",
			 USAGE_MAX_RECORD);
		return reject(r, &u, REJ_BAD_FIELD, r->why);
	}
	u.item = cell(r, C_ITEM);
	if (!printable_span(u.record_id, 128))
		return reject(r, &u, REJ_BAD_FIELD, "column record_id");
	if (!class_span(r->cls, u.tenant, 64, CL_TENANT))
		return reject(r, &u, REJ_BAD_FIELD, "column tenant_id");
	if (!class_span(r->cls, u.item, 64, CL_ITEM))
		return reject(r, &u, REJ_BAD_FIELD, "column item");
	s = cell(r, C_TS);
	if (ts_parse(s.p, s.n, &u.ts) != 0)
		return reject(r, &u, REJ_BAD_TS, "column ts");
	s = cell(r, C_QTY);
	if (dec_parse(s.p, s.n, &u.qty) != 0)
		return reject(r, &u, REJ_BAD_QUANTITY, "column quantity");
	if (canon_dims(r, cell(r, C_DIMS), &u.dims) != 0)
		return reject(r, &u, REJ_BAD_FIELD, "column dims");
	u.status = cell(r, C_STATUS);
	if (!utf8_ok(u.status))
		return reject(r, &u, REJ_BAD_FIELD, "column status");
	u.unit = cell(r, C_UNIT);
	if (!utf8_ok(u.unit))
		return reject(r, &u, REJ_BAD_FIELD, "column unit");
	return r->sink->rec ? r->sink->rec(r->sink->ctx, &u) : 0;
}

static void header_row(struct usage_reader *r)
{
	char name[NAME_SHOW + 8];
	size_t i, j;
	int c;

	if (r->nf > USAGE_MAX_COLUMNS) {
		fail(r, "more than %d columns in the header of '%s'",
		     USAGE_MAX_COLUMNS, r->path);
		return;
	}
	if (r->over_at != NO_OVER) {
		show_name(name, sizeof(name), r->fld[r->over_at].p,
			  r->fld[r->over_at].len);
		fail(r, "column name '%s' longer than %d bytes in '%s'",
		     name, USAGE_MAX_FIELD, r->path);
		return;
	}
	if (r->rec_total > USAGE_MAX_RECORD) {
		fail(r, "header longer than %d bytes in '%s'",
		     USAGE_MAX_RECORD, r->path);
		return;
	}
	for (c = 0; c < C_NKNOWN; c++)
		r->col[c] = -1;
	for (i = 0; i < r->nf; i++) {
		const char *p = r->fld[i].p;
		size_t n = r->fld[i].len;

		show_name(r->colname[i], sizeof(r->colname[i]), p, n);
		for (j = 0; j < i; j++) {
			if (r->fld[j].len == n &&
			    memcmp(r->fld[j].p, p, n) == 0) {
				fail(r, "duplicate column '%s' in '%s'",
				     r->colname[i], r->path);
				return;
			}
		}
		for (c = 0; c < C_NKNOWN; c++) {
			struct span s = { p, n };

			if (span_eq(s, col_names[c]))
				r->col[c] = (int)i;
		}
	}
	for (c = 0; c < C_NREQUIRED; c++) {
		if (r->col[c] < 0) {
			fail(r, "missing column '%s' in '%s'", col_names[c],
			     r->path);
			return;
		}
	}
	r->ncols = r->nf;
	r->have_header = 1;
}

static void data_row(struct usage_reader *r)
{
	const struct usage_sink *k = r->sink;
	uint64_t line = ++r->records;
	int rc = 0;

	if (line > r->skip)
		rc = check_row(r, line);
	if (!rc && k->progress && k->progress_every &&
	    r->raw_seen - r->last_progress >= k->progress_every) {
		r->last_progress = r->raw_seen;
		rc = k->progress(k->ctx, r->raw_seen, line);
	}
	if (rc)
		r->stop = rc;
}

/* libcsv field callback: copies the field into the record buffer (libcsv
 * reuses its own for the next field). Only the first USAGE_MAX_COLUMNS
 * fields (of data rows: the header's count) are kept; a row with more is
 * a field_count reject anyway. A kept cell is cut at USAGE_MAX_FIELD
 * bytes and at the room left in rec; fast_rows() keeps cells alike. */
static void on_field(void *s, size_t n, void *data)
{
	struct usage_reader *r = data;
	size_t i = r->nf++, take = n;
	struct fld *f;

	if (r->stop || r->failed)
		return;
	r->rec_total += n;
	if (i >= USAGE_MAX_COLUMNS || (r->have_header && i >= r->ncols))
		return;
	f = &r->fld[i];
	if (n > USAGE_MAX_FIELD && r->over_at == NO_OVER)
		r->over_at = i;
	if (take > r->cell_max)
		take = r->cell_max;
	if (take > r->rec_room)
		take = r->rec_room;
	if (take)
		memcpy(r->rec + r->rec_len, s, take);
	f->p = r->rec + r->rec_len;
	f->len = take;
	r->rec_len += take;
	r->rec_room -= take;
}

/* Forgets the fields of the row begun: how the next row starts. */
static void row_reset(struct usage_reader *r)
{
	r->nf = 0;
	r->rec_len = 0;
	r->rec_room = REC_CAP;
	r->rec_total = 0;
	r->over_at = NO_OVER;
}

/* A row is complete: the header, or a record to check and deliver. */
static void row_end(struct usage_reader *r)
{
	if (!r->stop && !r->failed) {
		if (r->have_header)
			data_row(r);
		else
			header_row(r);
	}
	row_reset(r);
	r->at_row_start = 1;
}

static void on_row(int c, void *data)
{
	(void)c;
	row_end(data);
}

/* libcsv grows its field buffer through this; refusing beyond the cap
 * makes csv_parse stop with CSV_ENOMEM instead of eating memory. libcsv
 * needs one byte more than the field (it grows when the buffer is full),
 * so a field of exactly CSV_FIELD_CAP bytes passes. */
static void *csv_grow(void *p, size_t n)
{
	if (n > CSV_FIELD_CAP + 1)
		return NULL;
	return xrealloc(p, n);
}

/* libcsv trims spaces and tabs around unquoted fields by default; settle
 * wants cells exactly as written, so nothing is a space. */
static int no_space(unsigned char c)
{
	(void)c;
	return 0;
}

/* ---- feeding text ---- */

/* libcsv grows its field buffer by a fixed step (CSV_BLK): a long field
 * would be copied once per step, quadratic where realloc cannot remap
 * (ASan, other allocators). Making the step the buffer's size after each
 * call doubles it instead; csv_grow still caps it. */
static void grow_step(struct usage_reader *r)
{
	size_t have = csv_get_buffer_size(&r->csv);

	if (have > r->csv_step) {
		r->csv_step = have;
		csv_set_blk_size(&r->csv, have);
	}
}

/* Hands libcsv one call's worth of p[0..n): up to and including the
 * first LF, or a lone CR, or all of it. One text line per call, so that
 * the line of a parse error is known exactly and the line where the
 * current row began is tracked for errors found later (an unterminated
 * quote at EOF, an over-long field). Returns the bytes parsed, or 0 when
 * the read must end (failed, or a sink asked to stop). */
static size_t slow_line(struct usage_reader *r, const unsigned char *p,
			size_t n)
{
	const unsigned char *nl = memchr(p, '\n', n);
	size_t k = nl ? (size_t)(nl - p) + 1 : n, done;
	const unsigned char *cr = memchr(p, '\r', k);

	/* libcsv also ends a row at a lone CR: the call ends after it, so
	 * that every row starts a call and row_line is known whatever the
	 * chunks (found by fuzzing: a row begun after a lone CR was placed
	 * on a later line unless a read happened to end there) */
	if (cr && cr + 1 < p + k && cr[1] != '\n') {
		k = (size_t)(cr - p) + 1;
		nl = NULL;
	}
	if (r->at_row_start) {
		r->row_line = 1 + r->lf;
		if (p[0] != '\n' && p[0] != '\r')
			r->at_row_start = 0;
	}
	done = csv_parse(&r->csv, p, k, on_field, on_row, r);
	if (r->stop || r->failed)
		return 0;
	if (done < k) {
		if (csv_error(&r->csv) == CSV_EPARSE)
			fail(r, "malformed quoting in '%s' at line %llu",
			     r->path, (unsigned long long)(1 + r->lf));
		else
			fail(r, "field over %zu MiB in '%s' (row starting at line %llu)",
			     CSV_FIELD_CAP >> 20, r->path,
			     (unsigned long long)r->row_line);
		return 0;
	}
	if (nl)
		r->lf++;
	grow_step(r);
	return k;
}

/* The fast path finds the bytes that matter to CSV (comma, quote, CR, LF)
 * 64 at a time: bit i of specials(p) is set when p[i] is one of them. */
#if defined(__SSE2__)
#include <emmintrin.h>

static inline uint64_t specials16(const unsigned char *p)
{
	const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	const __m128i a = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(',')),
				       _mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
	const __m128i b = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')),
				       _mm_cmpeq_epi8(v, _mm_set1_epi8('\n')));

	return (uint64_t)(unsigned)_mm_movemask_epi8(_mm_or_si128(a, b));
}

static inline uint64_t specials(const unsigned char *p)
{
	return specials16(p) | specials16(p + 16) << 16 |
	       specials16(p + 32) << 32 | specials16(p + 48) << 48;
}
#else
static inline uint64_t specials(const unsigned char *p)
{
	uint64_t m = 0;
	unsigned i;

	for (i = 0; i < 64; i++)
		if (p[i] == ',' || p[i] == '"' || p[i] == '\r' || p[i] == '\n')
			m |= (uint64_t)1 << i;
	return m;
}
#endif

/* specials() of p[0..n), bits at and past n clear. */
static inline uint64_t window(const unsigned char *p, size_t n)
{
	unsigned char tmp[64];

	if (n >= 64)
		return specials(p);
	memset(tmp, 0, sizeof(tmp));
	memcpy(tmp, p, n);
	return specials(tmp);
}

/* The fast path: splits the rows at the start of p[0..n) that are whole
 * in it and hold no '"', splitting them on ',' as libcsv would, cells
 * pointing into p (no copy). It runs only between rows (at_row_start:
 * libcsv then holds nothing), and so sees what libcsv would: a row is
 * the bytes up to the first CR or LF, split at every ','; a CR, an LF or
 * a CRLF with nothing before it is a blank line; lines count LF bytes.
 * It stops before a row libcsv must see: one with a '"' (quoted fields,
 * malformed quoting, fields spanning lines), one not ended in p (the
 * next text goes on with it), or one with a field over CSV_FIELD_CAP
 * (libcsv fails it). Returns the bytes consumed; after a row that ended
 * the read (a sink's stop, a bad header) it returns at once. */
static size_t fast_rows(struct usage_reader *r, const unsigned char *p,
			size_t n)
{
	/* the row's cells as on_field() keeps them, in registers */
	size_t keep = r->have_header ? r->ncols : USAGE_MAX_COLUMNS;
	size_t nf = 0, kept = 0, over_at = NO_OVER, len, take;
	uint64_t total = 0;
	size_t base = 0, line = 0, fstart = 0, j;
	uint64_t bits = window(p, n);

	for (;;) {
		unsigned char c;

		while (!bits) {
			base += 64;
			if (base >= n)
				goto slow;
			bits = window(p + base, n - base);
			/* a CRLF across windows: its LF is consumed */
			if (line > base)
				bits &= ~(uint64_t)0 << (line - base);
		}
		j = base + (size_t)__builtin_ctzll(bits);
		bits &= bits - 1;
		c = p[j];
		if (c == '"')
			goto slow;
		if (c == ',' || j > line) {
			/* a field ends */
			len = j - fstart;
			if (len > CSV_FIELD_CAP)
				goto slow;
			if (nf < keep) {
				take = len;
				if (take > USAGE_MAX_FIELD) {
					if (over_at == NO_OVER)
						over_at = nf;
					take = USAGE_MAX_FIELD;
				}
				if (take > REC_CAP - kept)
					take = REC_CAP - kept;
				r->fld[nf].p = (const char *)p + fstart;
				r->fld[nf].len = take;
				kept += take;
			}
			nf++;
			total += len;
			fstart = j + 1;
			if (c == ',')
				continue;
			/* CR or LF after a field: the row ends */
			r->nf = nf;
			r->rec_len = kept;
			r->rec_room = REC_CAP - kept;
			r->rec_total = total;
			r->over_at = over_at;
			row_end(r);
			nf = kept = 0;
			total = 0;
			over_at = NO_OVER;
			keep = r->have_header ? r->ncols : USAGE_MAX_COLUMNS;
		}
		/* the row's CR or LF, or a blank line's */
		if (c == '\n') {
			r->lf++;
		} else if (j + 1 < n && p[j + 1] == '\n') {
			r->lf++;
			j++;
			bits &= bits - 1;
		}
		line = fstart = j + 1;
		if (r->stop || r->failed)
			return line;
	}
slow:
	/* the row begun goes to libcsv from its start */
	return line;
}

/* Parses text: rows without a '"' by the fast path, the rest (and
 * everything when r->fast is 0) by libcsv, one call per text line.
 * Returns 0, or -1 when the read must end (failed, or a sink asked to
 * stop). */
static int parse(struct usage_reader *r, const unsigned char *p, size_t n)
{
	while (n) {
		size_t k;

		if (r->fast && r->at_row_start) {
			k = fast_rows(r, p, n);
			if (r->stop || r->failed)
				return -1;
			p += k;
			n -= k;
			if (!n)
				break;
		}
		k = slow_line(r, p, n);
		if (!k)
			return -1;
		p += k;
		n -= k;
	}
	return 0;
}

/* Decompressed (or plain) text: drops a leading UTF-8 BOM, even when it
 * arrives split over several calls. */
static int feed(struct usage_reader *r, const unsigned char *p, size_t n)
{
	r->text_total += n;
	while (!r->bom_done && n) {
		if (*p == bom[r->bom_pos]) {
			p++;
			n--;
			if (++r->bom_pos == 3)
				r->bom_done = 1;
			continue;
		}
		r->bom_done = 1;
		if (r->bom_pos && parse(r, bom, (size_t)r->bom_pos))
			return -1;
	}
	return n ? parse(r, p, n) : 0;
}

/* Moves the unconsumed input [*in, *in + *avail) to the start of the raw
 * buffer and reads up to read_size more bytes after it. Returns the count
 * read (0 at EOF), or -1 with errno set. */
static ssize_t raw_more(struct usage_reader *r, unsigned char **in,
			size_t *avail)
{
	ssize_t n;

	if (*avail && *in != r->raw)
		memmove(r->raw, *in, *avail);
	*in = r->raw;
	if (r->mem) {
		size_t k = r->mem_len - r->mem_pos;

		if (k > r->read_size)
			k = r->read_size;
		if (k)
			memcpy(r->raw + *avail, r->mem + r->mem_pos, k);
		r->mem_pos += k;
		n = (ssize_t)k;
	} else {
		do
			n = read(r->fd, r->raw + *avail, r->read_size);
		while (n < 0 && errno == EINTR);
	}
	if (n < 0)
		return -1;
	*avail += (size_t)n;
	r->raw_read += (uint64_t)n;
	return n;
}

static int read_fail(struct usage_reader *r)
{
	return fail(r, "cannot read '%s': %s", r->path, strerror(errno));
}

static int read_plain(struct usage_reader *r, size_t avail)
{
	unsigned char *in = r->raw;
	ssize_t n;

	r->raw_seen = r->raw_read;
	if (avail && feed(r, in, avail))
		return -1;
	for (;;) {
		avail = 0;
		n = raw_more(r, &in, &avail);
		if (n < 0)
			return read_fail(r);
		if (n == 0)
			return 0;
		r->raw_seen = r->raw_read;
		if (feed(r, in, avail))
			return -1;
	}
}

/* The gzip limits of usage.h, for `more` bytes of text about to be parsed
 * after r->text_total, inflated from gz_in compressed bytes. Returns 0, or
 * -1 with the reader failed. */
static int gz_limits(struct usage_reader *r, size_t more, uint64_t gz_in)
{
	uint64_t out = r->text_total + more;

	if (r->gz_max_bytes && out > r->gz_max_bytes)
		return fail(r, "gzip in '%s' inflates past %llu bytes (limit %s)",
			    r->path, (unsigned long long)r->gz_max_bytes,
			    USAGE_ENV_MAX_BYTES);
	if (r->gz_max_ratio && out > USAGE_GZIP_RATIO_FLOOR &&
	    (unsigned __int128)out >
	    (unsigned __int128)r->gz_max_ratio * gz_in)
		return fail(r, "gzip in '%s' inflates past %llu times its size (limit %s)",
			    r->path, (unsigned long long)r->gz_max_ratio,
			    USAGE_ENV_MAX_RATIO);
	return 0;
}

/* The producer's failure: kept in perr until the parser, having parsed
 * the text inflated before it, reaches it. */
static int prod_fail(struct usage_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int prod_fail(struct usage_reader *r, const char *fmt, ...)
{
	char buf[sizeof(r->perr.msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	err_set(&r->perr, ST_ERROR, "%s", buf);
	return -1;
}

/* The buffer for the next chunk: waits while the ring is full. NULL when
 * the parser has stopped. */
static unsigned char *next_buf(struct usage_reader *r)
{
	unsigned char *p;

	if (!r->threaded)
		return r->text;
	pthread_mutex_lock(&r->mu);
	while (r->made - r->taken >= RING && !r->cancel)
		pthread_cond_wait(&r->cv, &r->mu);
	p = r->cancel ? NULL : r->text + (r->made % RING) * TEXT_SIZE;
	pthread_mutex_unlock(&r->mu);
	return p;
}

/* The parse of one chunk: the limits, then the text. */
static int take(struct usage_reader *r, const unsigned char *p,
		const struct chunk *c)
{
	r->raw_seen = c->raw_read;
	return gz_limits(r, c->n, c->gz_in) || feed(r, p, c->n) ? -1 : 0;
}

/* Hands over n bytes of text just inflated into next_buf()'s buffer.
 * Returns 0, or -1 when the parser has stopped. */
static int emit(struct usage_reader *r, const unsigned char *p, size_t n)
{
	struct chunk c = { n, r->gz_in, r->raw_read };
	int stop;

	if (!r->threaded)
		return take(r, p, &c);
	pthread_mutex_lock(&r->mu);
	r->ring[r->made % RING] = c;
	r->made++;
	stop = r->cancel;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return stop ? -1 : 0;
}

/* Inflates every member in turn (RFC 1952 allows concatenation), handing
 * the text to emit(). Returns 0, or -1: failed (perr filled) or told to
 * stop. */
static int inflate_all(struct usage_reader *r, size_t avail)
{
	z_stream *zs = &r->zs;
	int in_member = 0, members = 0, out_full = 0, eof = 0, zr;
	unsigned char *in = r->raw, *out;
	ssize_t n;

	memset(zs, 0, sizeof(*zs));
	zr = inflateInit2(zs, 15 + 16);
	if (zr != Z_OK)
		return prod_fail(r, "cannot start gzip for '%s': %s", r->path,
				 zError(zr));
	r->z_live = 1;
	zs->next_in = in;
	zs->avail_in = (uInt)avail;
	for (;;) {
		size_t produced;
		uInt in_before;

		if (zs->avail_in == 0 && !out_full) {
			if (eof)
				break;
			avail = 0;
			n = raw_more(r, &in, &avail);
			if (n < 0)
				return prod_fail(r, "cannot read '%s': %s",
						 r->path, strerror(errno));
			eof = n == 0;
			zs->next_in = in;
			zs->avail_in = (uInt)avail;
			continue;
		}
		if (!in_member && members > 0) {
			/* only another member may follow a member */
			in = zs->next_in;
			avail = zs->avail_in;
			while (avail < 2 && !eof) {
				n = raw_more(r, &in, &avail);
				if (n < 0)
					return prod_fail(r, "cannot read '%s': %s",
							 r->path,
							 strerror(errno));
				eof = n == 0;
			}
			zs->next_in = in;
			zs->avail_in = (uInt)avail;
			if (avail < 2 || in[0] != 0x1f || in[1] != 0x8b)
				return prod_fail(r, "trailing garbage after gzip data in '%s'",
						 r->path);
			zr = inflateReset(zs);
			if (zr != Z_OK)
				return prod_fail(r, "bad gzip in '%s': %s",
						 r->path, zError(zr));
		}
		in_member = 1;
		out = next_buf(r);
		if (!out)
			return -1;
		zs->next_out = out;
		zs->avail_out = TEXT_SIZE;
		in_before = zs->avail_in;
		zr = inflate(zs, Z_NO_FLUSH);
		r->gz_in += in_before - zs->avail_in;
		produced = TEXT_SIZE - zs->avail_out;
		out_full = zs->avail_out == 0;
		if (produced && emit(r, out, produced))
			return -1;
		if (zr == Z_STREAM_END) {
			in_member = 0;
			members++;
			out_full = 0;
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			return prod_fail(r, "corrupt gzip in '%s': %s", r->path,
					 zs->msg ? zs->msg : zError(zr));
		}
	}
	if (in_member)
		return prod_fail(r, "truncated gzip in '%s'", r->path);
	return 0;
}

static void *producer(void *arg)
{
	struct usage_reader *r = arg;
	int rc = inflate_all(r, r->prod_avail);

	pthread_mutex_lock(&r->mu);
	r->prod_rc = rc;
	r->done = 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* Parses the chunks the producer makes, in order, until it is done or
 * the parse stops; then stops and joins it. */
static void consume(struct usage_reader *r)
{
	for (;;) {
		struct chunk c;
		int stop;

		pthread_mutex_lock(&r->mu);
		while (r->taken == r->made && !r->done)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->taken == r->made) {
			pthread_mutex_unlock(&r->mu);
			break;
		}
		c = r->ring[r->taken % RING];
		pthread_mutex_unlock(&r->mu);
		stop = take(r, r->text + (r->taken % RING) * TEXT_SIZE, &c);
		pthread_mutex_lock(&r->mu);
		r->taken++;
		if (stop)
			r->cancel = 1;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
		if (stop)
			break;
	}
	pthread_join(r->thread, NULL);
}

/* Reads gzip: inflating on a producer thread while parsing on this one,
 * or on this one alone when no thread can be had. Either way the text is
 * parsed in the same chunks with the same counts, and a failure of the
 * gzip is reported after the text inflated before it has been parsed. */
static int read_gzip(struct usage_reader *r, size_t avail)
{
	int rc;

	err_clear(&r->perr);
	r->text = xmalloc((size_t)RING * TEXT_SIZE);
	r->prod_avail = avail;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->threaded = 1;
	if (pthread_create(&r->thread, NULL, producer, r) == 0) {
		consume(r);
		rc = r->prod_rc;
	} else {
		r->threaded = 0;
		rc = inflate_all(r, avail);
	}
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	if (r->stop || r->failed)
		return -1;
	if (rc)
		return fail(r, "%s", r->perr.msg);
	return 0;
}

/* Parses one limit variable: unset or "" leave *v alone; digits set it
 * (0: no limit). Returns 0, or ST_ERROR with e filled. */
static int env_limit(const char *name, uint64_t *v, struct err *e)
{
	const char *s = getenv(name);
	uint64_t x = 0;
	size_t i;

	if (!s || !*s)
		return 0;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 19)
			goto bad;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return 0;
bad:
	{
		char show[NAME_SHOW + 8];

		show_name(show, sizeof(show), s, strlen(s));
		return err_set(e, ST_ERROR,
			       "bad %s '%s' (a whole number; 0 for no limit)",
			       name, show);
	}
}

static int env_limits(uint64_t *ratio, uint64_t *bytes, struct err *e)
{
	*ratio = USAGE_GZIP_MAX_RATIO;
	*bytes = USAGE_GZIP_MAX_BYTES;
	if (env_limit(USAGE_ENV_MAX_RATIO, ratio, e) ||
	    env_limit(USAGE_ENV_MAX_BYTES, bytes, e))
		return ST_ERROR;
	return 0;
}

int usage_check_env(struct err *e)
{
	uint64_t ratio, bytes;

	return env_limits(&ratio, &bytes, e);
}

/* A reader over fd (-1 for memory) with its buffers and parser. */
static struct usage_reader *reader_new(const char *path, int fd,
				       uint64_t ratio, uint64_t bytes)
{
	struct usage_reader *r = xcalloc(1, sizeof(*r));

	r->path = xstrdup(path);
	r->fd = fd;
	r->gz_max_ratio = ratio;
	r->gz_max_bytes = bytes;
	r->read_size = READ_SIZE;
	r->rec = xmalloc(REC_CAP);
	r->rec_room = REC_CAP;
	r->cell_max = USAGE_MAX_FIELD;
	r->over_at = NO_OVER;
	r->fast = 1;
	classes(r->cls);
	r->colname = xcalloc(USAGE_MAX_COLUMNS, sizeof(*r->colname));
	csv_init(&r->csv, CSV_STRICT | CSV_STRICT_FINI);
	csv_set_space_func(&r->csv, no_space);
	csv_set_realloc_func(&r->csv, csv_grow);
	csv_set_free_func(&r->csv, free);
	csv_set_blk_size(&r->csv, CSV_BLK);
	r->csv_step = CSV_BLK;
	return r;
}

struct usage_reader *usage_open_mem(const void *data, size_t n,
				    const char *name, struct err *e)
{
	struct usage_reader *r;
	uint64_t ratio, bytes;

	if (env_limits(&ratio, &bytes, e))
		return NULL;
	r = reader_new(name, -1, ratio, bytes);
	r->mem = n ? data : (const unsigned char *)"";
	r->mem_len = n;
	return r;
}

/* Opens path for reading if it is a regular file (after symlinks).
 * O_NONBLOCK keeps open from waiting for a writer when path is a FIFO; a
 * FIFO or a device (/dev/zero, /dev/stdin) is refused: settle reads each
 * file twice (digest, then records) and must see it end. Returns the fd,
 * or -1 with e filled. */
static int open_regular(const char *path, struct err *e)
{
	struct stat st;
	int fd, fl;

	do
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		err_set(e, ST_ERROR, "cannot open '%s': %s", path,
			strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		err_set(e, ST_ERROR, "cannot read '%s': %s", path,
			strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		err_set(e, ST_ERROR, "cannot read '%s': is a directory", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(e, ST_ERROR, "cannot read '%s': not a regular file",
			path);
		goto fail;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		err_set(e, ST_ERROR, "cannot read '%s': %s", path,
			strerror(errno));
		goto fail;
	}
	/* read once, front to back: a larger read-ahead; only a hint */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return fd;
fail:
	close(fd);
	return -1;
}

struct usage_reader *usage_open(const char *path, struct err *e)
{
	uint64_t ratio, bytes;
	int fd;

	if (env_limits(&ratio, &bytes, e))
		return NULL;
	fd = open_regular(path, e);
	if (fd < 0)
		return NULL;
	return reader_new(path, fd, ratio, bytes);
}

void usage_set_fast(struct usage_reader *r, int on)
{
	r->fast = on != 0;
}

void usage_set_read_size(struct usage_reader *r, size_t n)
{
	if (n == 0)
		n = READ_SIZE;
	if (n > MAX_READ_SIZE)
		n = MAX_READ_SIZE;
	r->read_size = n;
}

int usage_read(struct usage_reader *r, const struct usage_sink *sink,
	       uint64_t skip, struct err *e)
{
	unsigned char *in = r->raw;
	size_t avail = 0;
	ssize_t n;

	r->e = e;
	if (r->used)
		return err_set(e, ST_ERROR, "usage file '%s' read twice",
			       r->path);
	r->used = 1;
	/* a reader over memory needs no more room than the bytes it has */
	r->raw_cap = r->read_size;
	if (r->mem && r->mem_len < r->raw_cap)
		r->raw_cap = r->mem_len;
	r->raw_cap += RAW_SLACK;
	r->raw = xmalloc(r->raw_cap);
	in = r->raw;
	r->sink = sink;
	r->skip = skip;
	r->at_row_start = 1;
	/* the first two bytes tell gzip from plain */
	do {
		n = raw_more(r, &in, &avail);
		if (n < 0) {
			read_fail(r);
			goto out;
		}
	} while (n > 0 && avail < 2);
	if (avail == 0) {
		fail(r, "empty file '%s'", r->path);
		goto out;
	}
	if (avail >= 2 && r->raw[0] == 0x1f && r->raw[1] == 0x8b) {
		if (read_gzip(r, avail))
			goto out;
	} else if (read_plain(r, avail)) {
		goto out;
	}
	if (!r->bom_done && r->bom_pos) {
		r->bom_done = 1;
		if (parse(r, bom, (size_t)r->bom_pos))
			goto out;
	}
	if (csv_fini(&r->csv, on_field, on_row, r) != 0 &&
	    !r->stop && !r->failed) {
		fail(r, "unterminated quoted field in '%s' (row starting at line %llu)",
		     r->path, (unsigned long long)r->row_line);
		goto out;
	}
	if (r->stop || r->failed)
		goto out;
	if (r->text_total == 0)
		fail(r, "empty file '%s'", r->path);
	else if (!r->have_header)
		fail(r, "no header in '%s'", r->path);
out:
	if (r->failed)
		return ST_ERROR;
	return r->stop;
}

void usage_free(struct usage_reader *r)
{
	if (!r)
		return;
	if (r->z_live)
		inflateEnd(&r->zs);
	csv_free(&r->csv);
	if (r->fd >= 0)
		close(r->fd);
	free(r->path);
	free(r->raw);
	free(r->text);
	free(r->rec);
	free(r->colname);
	free(r->pairs);
	free(r->ptmp);
	free(r->dims_out);
	free(r);
}

int usage_file_digest(const char *path, unsigned char sha[32], uint64_t *size,
		      struct err *e)
{
	unsigned char *buf = NULL;
	struct sha256 md;
	uint64_t total = 0;
	int fd, rc = ST_ERROR;
	ssize_t n;

	fd = open_regular(path, e);
	if (fd < 0)
		return ST_ERROR;
	sha256_init(&md);
	buf = xmalloc(READ_SIZE);
	for (;;) {
		do
			n = read(fd, buf, READ_SIZE);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			err_set(e, ST_ERROR, "cannot read '%s': %s", path,
				strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		sha256_update(&md, buf, (size_t)n);
		total += (uint64_t)n;
	}
	sha256_final(&md, sha);
	*size = total;
	rc = ST_OK;
out:
	free(buf);
	close(fd);
	return rc;
}
