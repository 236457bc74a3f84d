/* usage: the streaming usage-file reader (SPEC section 3, "Usage files").
 *
 * The text comes from gzsrc (plain or gzip, gzsrc.h); each data row is
 * checked by record_check (record.h). What is here is the CSV: splitting
 * the text into rows and cells, the header, and the counts.
 *
 * Choices made where the SPEC and usage.h leave room:
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
 * - The gzip limits are gzsrc's (gzsrc.h): checked before each chunk of
 *   text is handed over, so a read that fails the size limit has parsed
 *   at most that many bytes of text. */
#include "usage.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csv.h>

#include "gzindex.h"
#include "sha256.h"
#include "banned.h"

#define REC_CAP (USAGE_MAX_RECORD + USAGE_MAX_FIELD)
#define CSV_BLK (64u * 1024u)      /* libcsv field buffer growth step */
#define CSV_FIELD_CAP ((size_t)16 << 20)
#define NAME_SHOW 64               /* bytes of a column name in messages */
#define NO_OVER RECORD_NO_OVER

static const unsigned char bom[3] = { 0xef, 0xbb, 0xbf };

struct usage_reader {
	char *path;
	struct gzsrc *src;   /* the text */
	int used;
	struct csv_parser csv;
	size_t csv_step;     /* libcsv's buffer growth step (grow_step) */

	/* the row being parsed. A cell is in rec (libcsv's rows, whose
	 * buffer is reused per field) or in the text being parsed (the fast
	 * path's rows, which are whole in it). */
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
	struct span fld[USAGE_MAX_COLUMNS]; /* n: bytes kept (may be cut) */

	/* the header */
	int have_header;
	size_t ncols;
	int col[RCOL_NKNOWN];
	char (*colname)[NAME_SHOW + 8]; /* printable names, for messages */

	struct record_checker chk;

	/* one read */
	const struct usage_sink *sink;
	uint64_t skip;
	struct err *e;
	uint64_t records;
	uint64_t raw_seen;   /* raw bytes read when the text parsed was made */
	uint64_t last_progress;
	uint64_t text_total;
	uint64_t lf;         /* LF bytes parsed so far */
	uint64_t row_line;   /* text line where the current row began */
	int at_row_start;    /* no byte of a new row parsed yet */
	int bom_pos, bom_done;
	int stop;   /* a sink's non-zero return */
	int failed; /* e is filled */

	/* access points (usage_index, usage_resume) */
	struct gzindex_point *pend;   /* the last one handed, not synced */
	struct gzindex_point *synced; /* the last one with its sync */
	struct gzindex_point *rp;     /* usage_resume's */
	uint64_t head_end;   /* the first row boundary after the header */
	int track;           /* head_end or a sync is still wanted */
	int in_bom;          /* parsing a BOM cut short: no offsets */
};

static int reader_fail(struct usage_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int reader_fail(struct usage_reader *r, const char *fmt, ...)
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

/* ---- rows ---- */

/* Checks a data row (record.h) and delivers the record or the reject. */
static int check_row(struct usage_reader *r, uint64_t line)
{
	struct record_row row;
	struct usage_rec u;
	struct usage_reject rj;

	row.line = line;
	row.fld = r->fld;
	row.nf = r->nf;
	row.ncols = r->ncols;
	row.col = r->col;
	row.over_at = r->over_at;
	row.over_name = r->over_at != NO_OVER ? r->colname[r->over_at] : NULL;
	row.total = r->rec_total;
	if (record_check(&r->chk, &row, &u, &rj))
		return r->sink->reject ? r->sink->reject(r->sink->ctx, &rj) : 0;
	return r->sink->rec ? r->sink->rec(r->sink->ctx, &u) : 0;
}

static void header_row(struct usage_reader *r)
{
	char name[NAME_SHOW + 8];
	size_t i, j;
	int c;

	if (r->nf > USAGE_MAX_COLUMNS) {
		reader_fail(r, "more than %d columns in the header of '%s'",
		     USAGE_MAX_COLUMNS, r->path);
		return;
	}
	if (r->over_at != NO_OVER) {
		show_name(name, sizeof(name), r->fld[r->over_at].p,
			  r->fld[r->over_at].n);
		reader_fail(r, "column name '%s' longer than %d bytes in '%s'",
		     name, USAGE_MAX_FIELD, r->path);
		return;
	}
	if (r->rec_total > USAGE_MAX_RECORD) {
		reader_fail(r, "header longer than %d bytes in '%s'",
		     USAGE_MAX_RECORD, r->path);
		return;
	}
	for (c = 0; c < RCOL_NKNOWN; c++)
		r->col[c] = -1;
	for (i = 0; i < r->nf; i++) {
		const char *p = r->fld[i].p;
		size_t n = r->fld[i].n;

		show_name(r->colname[i], sizeof(r->colname[i]), p, n);
		for (j = 0; j < i; j++) {
			if (r->fld[j].n == n &&
			    memcmp(r->fld[j].p, p, n) == 0) {
				reader_fail(r, "duplicate column '%s' in '%s'",
				     r->colname[i], r->path);
				return;
			}
		}
		for (c = 0; c < RCOL_NKNOWN; c++) {
			struct span s = { p, n };

			if (span_eq(s, record_col_names[c]))
				r->col[c] = (int)i;
		}
	}
	for (c = 0; c < RCOL_NREQUIRED; c++) {
		if (r->col[c] < 0) {
			reader_fail(r, "missing column '%s' in '%s'", record_col_names[c],
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
	struct span *f;

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
	f->n = take;
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
static void row_done(struct usage_reader *r)
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
	row_done(data);
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
			reader_fail(r, "malformed quoting in '%s' at line %llu",
			     r->path, (unsigned long long)(1 + r->lf));
		else
			reader_fail(r, "field over %zu MiB in '%s' (row starting at line %llu)",
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
		if (c == ',' || (c != '"' && j > line)) {
			/* a field ends; the usual one, kept whole, in one
			 * test (a field within USAGE_MAX_FIELD is within
			 * CSV_FIELD_CAP) */
			len = j - fstart;
			if (nf < keep && len <= USAGE_MAX_FIELD &&
			    len <= REC_CAP - kept) {
				r->fld[nf].p = (const char *)p + fstart;
				r->fld[nf].n = len;
				kept += len;
			} else {
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
					r->fld[nf].n = take;
					kept += take;
				}
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
			row_done(r);
			nf = kept = 0;
			total = 0;
			over_at = NO_OVER;
			keep = r->have_header ? r->ncols : USAGE_MAX_COLUMNS;
		}
		if (c == '"')
			goto slow;
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

/* Between two steps of parse_text, `left` bytes before the end of the
 * text handed so far: at a row boundary after the header, the first one
 * is where a resumed read's head ends, and the first one after an access
 * point is where the reader can take up again (usage_point). */
static void at_boundary(struct usage_reader *r, size_t left)
{
	uint64_t off = r->text_total - left;
	struct gzindex_point *t;

	if (!r->at_row_start || !r->have_header || r->in_bom)
		return;
	if (!r->head_end)
		r->head_end = off;
	if (r->pend) {
		r->pend->head = r->head_end;
		r->pend->sync = off;
		r->pend->records = r->records;
		r->pend->lines = r->lf;
		t = r->synced;
		r->synced = r->pend;
		r->pend = t;
		free(r->pend);
		r->pend = NULL;
	}
	r->track = 0;
}

/* Parses text: rows without a '"' by the fast path, the rest (and
 * everything when r->fast is 0) by libcsv, one call per text line.
 * Returns 0, or -1 when the read must end (failed, or a sink asked to
 * stop). */
static int parse_text(struct usage_reader *r, const unsigned char *p,
		      size_t n)
{
	while (n) {
		size_t k;

		if (r->track)
			at_boundary(r, n);
		if (r->fast && r->at_row_start) {
			k = fast_rows(r, p, n);
			if (r->stop || r->failed)
				return -1;
			p += k;
			n -= k;
			if (!n)
				break;
		}
		if (r->track)
			at_boundary(r, n);
		k = slow_line(r, p, n);
		if (!k)
			return -1;
		p += k;
		n -= k;
	}
	if (r->track)
		at_boundary(r, 0);
	return 0;
}

/* gzsrc's point, between the text before it and the text after. */
static void on_point(void *ctx, const struct gzindex_point *p)
{
	struct usage_reader *r = ctx;

	if (!r->pend)
		r->pend = xmalloc(sizeof(*r->pend));
	*r->pend = *p;
	r->track = 1;
	at_boundary(r, 0);
}

/* A resumed read jumped: the text from here is the text from the point's
 * sync, with the counts the reader had there. */
static void on_jump(void *ctx)
{
	struct usage_reader *r = ctx;

	r->records = r->rp->records;
	r->lf = r->rp->lines;
	r->text_total = r->rp->sync;
}

/* Decompressed (or plain) text: drops a leading UTF-8 BOM, even when it
 * arrives split over several calls. */
/* The text of the file (gzsrc's consumer): drops a leading UTF-8 BOM,
 * even when it arrives split over several calls, and parses the rest. */
static int feed(void *ctx, const unsigned char *p, size_t n,
		uint64_t raw_read)
{
	struct usage_reader *r = ctx;

	r->raw_seen = raw_read;
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
		r->in_bom = 1;
		if (r->bom_pos && parse_text(r, bom, (size_t)r->bom_pos))
			return -1;
		r->in_bom = 0;
	}
	return n ? parse_text(r, p, n) : 0;
}

/* ---- options ---- */

/* Parses one limit: NULL or "" leave *v alone; digits set it (0: no
 * limit). Returns 0, or ST_ERROR with e filled. */
static int parse_limit(const char *name, const char *s, uint64_t *v,
		       struct err *e)
{
	char show[NAME_SHOW + 8];
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
	show_name(show, sizeof(show), s, strlen(s));
	return err_set(e, ST_ERROR,
		       "bad %s '%s' (a whole number; 0 for no limit)", name,
		       show);
}

int usage_opts_parse(struct usage_opts *o, const char *max_ratio,
		     const char *max_bytes, struct err *e)
{
	static const struct gzsrc_limits def = GZSRC_LIMITS_DEFAULT;

	o->gzip = def;
	o->inflate = GZSRC_INFLATE_DEFAULT;
	if (parse_limit(USAGE_ENV_MAX_RATIO, max_ratio, &o->gzip.max_ratio, e) ||
	    parse_limit(USAGE_ENV_MAX_BYTES, max_bytes, &o->gzip.max_bytes, e))
		return ST_ERROR;
	return 0;
}

int usage_opts_inflate(struct usage_opts *o, const char *v, struct err *e)
{
	return gzsrc_inflate_parse(v, &o->inflate, e);
}

/* ---- the reader ---- */

/* A reader of the text of src, with its buffers and parser. */
static struct usage_reader *reader_new(const char *path, struct gzsrc *src)
{
	struct usage_reader *r = xcalloc(1, sizeof(*r));

	r->path = xstrdup(path);
	r->src = src;
	r->rec = xmalloc(REC_CAP);
	r->rec_room = REC_CAP;
	r->cell_max = USAGE_MAX_FIELD;
	r->over_at = NO_OVER;
	r->fast = 1;
	record_checker_init(&r->chk);
	r->colname = xcalloc(USAGE_MAX_COLUMNS, sizeof(*r->colname));
	csv_init(&r->csv, CSV_STRICT | CSV_STRICT_FINI);
	csv_set_space_func(&r->csv, no_space);
	csv_set_realloc_func(&r->csv, csv_grow);
	csv_set_free_func(&r->csv, free);
	csv_set_blk_size(&r->csv, CSV_BLK);
	r->csv_step = CSV_BLK;
	return r;
}

static const struct gzsrc_limits *limits(const struct usage_opts *o)
{
	return o ? &o->gzip : NULL;
}

struct usage_reader *usage_open_mem(const void *data, size_t n,
				    const char *name,
				    const struct usage_opts *o)
{
	struct gzsrc *src = gzsrc_open_mem(data, n, name, limits(o));

	if (o)
		gzsrc_set_inflate(src, o->inflate);
	return reader_new(name, src);
}

struct usage_reader *usage_open(const char *path, const struct usage_opts *o,
				struct err *e)
{
	struct gzsrc *src = gzsrc_open(path, limits(o), e);

	if (src && o)
		gzsrc_set_inflate(src, o->inflate);
	return src ? reader_new(path, src) : NULL;
}

void usage_set_fast(struct usage_reader *r, int on)
{
	r->fast = on != 0;
}

void usage_set_read_size(struct usage_reader *r, size_t n)
{
	gzsrc_set_read_size(r->src, n);
}

/* After the last text: a BOM cut short is text, libcsv's last row, and
 * the checks of a whole file. */
static void read_end(struct usage_reader *r)
{
	if (!r->bom_done && r->bom_pos) {
		r->bom_done = 1;
		if (parse_text(r, bom, (size_t)r->bom_pos))
			return;
	}
	if (csv_fini(&r->csv, on_field, on_row, r) != 0 &&
	    !r->stop && !r->failed) {
		reader_fail(r, "unterminated quoted field in '%s' (row starting at line %llu)",
			    r->path, (unsigned long long)r->row_line);
		return;
	}
	if (r->stop || r->failed)
		return;
	if (r->text_total == 0)
		reader_fail(r, "empty file '%s'", r->path);
	else if (!r->have_header)
		reader_fail(r, "no header in '%s'", r->path);
}

int usage_read(struct usage_reader *r, const struct usage_sink *sink,
	       uint64_t skip, struct err *e)
{
	int rc;

	r->e = e;
	if (r->used)
		return err_set(e, ST_ERROR, "usage file '%s' read twice",
			       r->path);
	r->used = 1;
	r->sink = sink;
	r->skip = skip;
	r->at_row_start = 1;
	/* a point past the records skipped would skip records to deliver */
	if (r->rp && r->rp->records <= skip)
		gzsrc_resume(r->src, r->rp, on_jump);
	rc = gzsrc_read(r->src, feed, r, e);
	if (rc == ST_ERROR)
		r->failed = 1;
	else if (rc == 0)
		read_end(r);
	if (r->failed)
		return ST_ERROR;
	return r->stop;
}

void usage_free(struct usage_reader *r)
{
	if (!r)
		return;
	gzsrc_free(r->src);
	csv_free(&r->csv);
	record_checker_release(&r->chk);
	free(r->pend);
	free(r->synced);
	free(r->rp);
	free(r->path);
	free(r->rec);
	free(r->colname);
	free(r);
}

struct usage_reader *usage_open_fd(int fd, const char *path,
				   const struct usage_opts *o)
{
	struct gzsrc *src;

	/* a failed seek shows as a digest that differs */
	(void)lseek(fd, 0, SEEK_SET);
	src = gzsrc_open_fd(fd, path, limits(o));
	/* the decoder asked for (SETTLE_INFLATE) reads ingest's files too */
	if (o)
		gzsrc_set_inflate(src, o->inflate);
	gzsrc_hash(src);
	return reader_new(path, src);
}

int usage_raw_digest(struct usage_reader *r, unsigned char sha[32],
		     uint64_t *size)
{
	return gzsrc_digest(r->src, sha, size);
}

void usage_index(struct usage_reader *r, uint64_t span)
{
	gzsrc_index(r->src, span, on_point);
	r->track = 1;
}

const struct gzindex_point *usage_point(const struct usage_reader *r)
{
	return r->synced;
}

void usage_resume(struct usage_reader *r, const struct gzindex_point *p)
{
	if (!r->rp)
		r->rp = xmalloc(sizeof(*r->rp));
	*r->rp = *p;
}

int usage_resumed(const struct usage_reader *r)
{
	return gzsrc_resumed(r->src);
}
