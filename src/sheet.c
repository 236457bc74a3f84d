/* sheet: config files read whole, their CSV and their values (sheet.h). */
#include "sheet.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "iso4217.h"
#include "mem.h"
#include "sha256.h"
#include "suggest.h"
#include "ts.h"
#include "banned.h"

/* Config files are read whole; anything this large is not a config. */
#define MAX_FILE_BYTES ((size_t)256 << 20)

/* ---- messages ---------------------------------------------------------- */

/* Makes s fit for a one-line message: control bytes become '?', long text
 * is cut (never inside a UTF-8 sequence) and marked with "...". */
const char *sheet_quote(char *buf, const char *s)
{
	size_t n = strlen(s), lim = n, i;

	if (n > SHEET_QUOTE_MAX) {
		lim = SHEET_QUOTE_MAX;
		while (lim > 0 && ((unsigned char)s[lim] & 0xC0) == 0x80)
			lim--;
	}
	for (i = 0; i < lim; i++) {
		unsigned char ch = (unsigned char)s[i];

		buf[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	if (lim < n) {
		memcpy(buf + lim, "...", 3);
		lim += 3;
	}
	buf[lim] = '\0';
	return buf;
}

/* Fills c->e with "WHAT at PATH:LINE (KIND NAME)"; name may be NULL. */
int sheet_fail(const struct sheet_ctx *c, const char *name,
	       const char *fmt, ...)
{
	char what[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (name)
		return err_set(c->e, ST_ERROR, "%s at %s:%ld (%s %s)", what,
			       c->path, c->line, c->kind, SHEET_Q(name));
	return err_set(c->e, ST_ERROR, "%s at %s:%ld", what, c->path, c->line);
}

int sheet_need(struct sheet_val x)
{
	if (*x.v)
		return 0;
	return sheet_fail(x.c, x.name, "missing value");
}

int sheet_bad(struct sheet_val x)
{
	return sheet_fail(x.c, x.name, "bad %s '%s'", x.name, SHEET_Q(x.v));
}

int sheet_bad_want(struct sheet_val x, const char *want)
{
	return sheet_fail(x.c, x.name, "bad %s '%s' (want %s)", x.name,
			  SHEET_Q(x.v), want);
}

int sheet_bad_note(struct sheet_val x, const char *note)
{
	return err_set(x.c->e, ST_ERROR, "bad %s '%s' at %s:%ld (%s %s; %s)",
		       x.name, SHEET_Q(x.v), x.c->path, x.c->line, x.c->kind,
		       SHEET_Q(x.name), note);
}

/* ---- warnings ------------------------------------------------------------ */

void sheet_warn(struct sheet_warns *w, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	xgrow((void **)&w->msg, &w->cap, w->n + 1, sizeof(*w->msg));
	w->msg[w->n++] = xstrdup(buf);
}

void sheet_warn_unknown(struct sheet_warns *w, const char *kind,
			const char *word, const char *where,
			const char *const *names, size_t n)
{
	const char *near = suggest_nearest(word, names, n);

	if (near)
		sheet_warn(w, "unknown %s '%s' in %s (did you mean '%s'?)", kind,
			   SHEET_Q(word), where, near);
	else
		sheet_warn(w, "unknown %s '%s' in %s", kind, SHEET_Q(word),
			   where);
}

void sheet_warns_free(struct sheet_warns *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		free(w->msg[i]);
	free(w->msg);
	memset(w, 0, sizeof(*w));
}

/* ---- value checks ------------------------------------------------------ */

static int is_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9');
}

/* 1 if s is 1..SHEET_MAX_CODE characters of [A-Za-z0-9] and extra. */
int sheet_code_ok(const char *s, const char *extra)
{
	size_t n = strlen(s), i;

	if (n < 1 || n > SHEET_MAX_CODE)
		return 0;
	for (i = 0; i < n; i++)
		if (!is_alnum(s[i]) && !strchr(extra, s[i]))
			return 0;
	return 1;
}

int sheet_country_ok(const char *s)
{
	return strlen(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' &&
	       s[1] <= 'Z';
}

/* An optional decimal: def when empty; positive asks for > 0. */
int sheet_val_dec(struct sheet_val x, dec_t def, int positive, dec_t *out)
{
	if (!*x.v) {
		*out = def;
		return 0;
	}
	if (dec_parse(x.v, strlen(x.v), out) < 0)
		return sheet_bad(x);
	if (positive && *out == 0)
		return sheet_bad_want(x, "above 0");
	return 0;
}

/* An optional non-negative integer: def when empty; max < 0 for none. */
int sheet_val_int(struct sheet_val x, int64_t def, int64_t max,
		  int64_t *out)
{
	char want[64];

	if (!*x.v) {
		*out = def;
		return 0;
	}
	if (dec_parse_int(x.v, strlen(x.v), out) < 0)
		return sheet_bad(x);
	if (max >= 0 && *out > max) {
		snprintf(want, sizeof(want), "0 to %lld", (long long)max);
		return sheet_bad_want(x, want);
	}
	return 0;
}

/* An optional word from names (NULL-terminated): its index, def when
 * empty. want lists the choices for the message. */
int sheet_val_enum(struct sheet_val x, const char *const *names,
		   const char *want, int def, int *out)
{
	int i;

	if (!*x.v) {
		*out = def;
		return 0;
	}
	for (i = 0; names[i]; i++) {
		if (strcmp(x.v, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return sheet_bad_want(x, want);
}

/* A required RFC 3339 instant. */
int sheet_val_ts(struct sheet_val x, int64_t *out)
{
	if (sheet_need(x))
		return ST_ERROR;
	if (ts_parse(x.v, strlen(x.v), out) < 0)
		return sheet_bad(x);
	return 0;
}

/* A required currency code. */
int sheet_val_currency(struct sheet_val x, char out[4])
{
	if (sheet_need(x))
		return ST_ERROR;
	if (!dec_currency_valid(x.v) || iso4217_minor(x.v) < 0)
		return sheet_bad_note(x, "not a current ISO 4217 code with a "
				      "minor unit");
	memcpy(out, x.v, 4);
	return 0;
}

/* 1 if v has no more decimals than the currency's minor unit. Trailing
 * zeros do not count: "12.500" is a fine CNY amount. */
int sheet_minor_ok(dec_t v, int minor)
{
	dec_t unit = 1;
	int i;

	for (i = minor; i < DEC_DIGITS; i++)
		unit *= 10;
	return v % unit == 0;
}

int sheet_bad_decimals(struct sheet_val x, const char *currency)
{
	char want[64];
	int minor = dec_minor_digits(currency);

	snprintf(want, sizeof(want), "at most %d decimal%s for %s", minor,
		 minor == 1 ? "" : "s", currency);
	return sheet_bad_want(x, want);
}

/* ---- files --------------------------------------------------------------- */

char *sheet_join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = xmalloc(a + b + 2);

	memcpy(p, dir, a);
	p[a] = '/';
	memcpy(p + a + 1, name, b + 1);
	return p;
}

int sheet_has_bom(const char *buf, size_t len)
{
	return len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0;
}

/* Reads c->path whole. A missing optional file sets *absent. */
int sheet_slurp(const struct sheet_ctx *c, int optional, char **out,
		size_t *len, int *absent)
{
	FILE *f = fopen(c->path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, got;
	int er;

	*out = NULL;
	*len = 0;
	*absent = 0;
	if (!f) {
		if (optional && errno == ENOENT) {
			*absent = 1;
			return 0;
		}
		if (errno == ENOENT)
			return err_set(c->e, ST_ERROR, "missing config file '%s' "
				       "(every config file but payments.csv is "
				       "required; a header alone means none)",
				       c->path);
		return err_set(c->e, ST_ERROR, "cannot open '%s': %s", c->path,
			       strerror(errno));
	}
	for (;;) {
		xgrow((void **)&buf, &cap, n + 65536, 1);
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
		if (n > MAX_FILE_BYTES) {
			fclose(f);
			free(buf);
			return err_set(c->e, ST_ERROR,
				       "cannot read '%s': larger than %zu MiB",
				       c->path, MAX_FILE_BYTES >> 20);
		}
	}
	if (ferror(f)) {
		er = errno;
		fclose(f);
		free(buf);
		return err_set(c->e, ST_ERROR, "cannot read '%s': %s", c->path,
			       strerror(er));
	}
	fclose(f);
	*out = buf;
	*len = n;
	return 0;
}

/* ---- CSV tables ---------------------------------------------------------- */

/* libcsv is fed at most this much at a time, and its field buffer step
 * is raised to the buffer's size between feeds, so a long cell grows it
 * by doubling (libcsv alone grows it by a fixed step: quadratic where
 * realloc cannot remap, as under ASan). */
#define FEED_MAX ((size_t)64 << 10)

/* A cell of the row being parsed: its bytes go to t->text, its offset to
 * t->offs until the row ends (t->text may move). Past t->keep cells a row
 * is only counted: a row wider than its header is an error anyway. */
static void on_cell(void *data, size_t n, void *arg)
{
	struct sheet_table *t = arg;
	size_t k = t->cur.n++;

	if (k >= t->keep)
		return;
	if (!data)
		n = 0;
	/* a call only when something must grow: this runs for every cell */
	if (k + 1 > t->cellcap)
		xgrow((void **)&t->cur.cell, &t->cellcap, k + 1,
		      sizeof(*t->cur.cell));
	if (k + 1 > t->offcap)
		xgrow((void **)&t->offs, &t->offcap, k + 1, sizeof(*t->offs));
	if (t->ntext + n + 1 > t->captext)
		xgrow((void **)&t->text, &t->captext, t->ntext + n + 1, 1);
	if (n)
		memcpy(t->text + t->ntext, data, n);
	t->text[t->ntext + n] = '\0';
	t->offs[k] = t->ntext;
	t->cur.cell[k].n = n;
	t->ntext += n + 1;
}

static void on_row(int term, void *arg)
{
	struct sheet_table *t = arg;
	size_t k, kept = t->cur.n < t->keep ? t->cur.n : t->keep;

	(void)term;
	for (k = 0; k < kept; k++)
		t->cur.cell[k].s = t->text + t->offs[k];
	t->cur.line = t->start;
	t->row_done = 1;
	t->in_row = 0;
}

/* Cells keep their spaces: nothing is trimmed. */
static int no_space(unsigned char ch)
{
	(void)ch;
	return 0;
}

static int is_term(char ch)
{
	return ch == '\n' || ch == '\r';
}

/* 1 if s[0..n) is spaces and tabs up to its line end. */
static int blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && !is_term(s[i]); i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

/* (Re)starts the parser at the first row of t->buf. */
static void table_rewind(struct sheet_table *t)
{
	struct csv_parser *p = t->csv;

	if (!p)
		p = t->csv = xmalloc(sizeof(*p));
	else
		csv_free(p);
	/* csv_init only fails to allocate with a NULL realloc function */
	(void)csv_init(p, CSV_STRICT | CSV_STRICT_FINI);
	csv_set_space_func(p, no_space);
	csv_set_realloc_func(p, xrealloc);
	csv_set_free_func(p, free);
	t->csv_step = 128;
	t->at = sheet_has_bom(t->buf, t->len) ? 3 : 0;
	t->line = 1;
	t->in_row = 0;
	t->next = 0;
	t->fini_done = 0;
}

static void table_free(struct sheet_table *t)
{
	if (t->csv) {
		csv_free(t->csv);
		free(t->csv);
	}
	free(t->head.cell);
	free(t->headtext);
	free(t->cur.cell);
	free(t->offs);
	free(t->text);
	free(t->meta);
	memset(t, 0, sizeof(*t));
}

/* Feeds one text line to libcsv, a piece at a time. */
static int feed(struct sheet_ctx *c, struct sheet_table *t, const char *s,
		size_t n)
{
	struct csv_parser *p = t->csv;
	size_t k, have;

	while (n) {
		k = n < FEED_MAX ? n : FEED_MAX;
		if (csv_parse(p, s, k, on_cell, on_row, t) != k) {
			c->line = t->line;
			if (csv_error(p) == CSV_EPARSE)
				return sheet_fail(c, NULL, "malformed CSV quoting");
			return sheet_fail(c, NULL, "cannot parse CSV: %s",
					  csv_strerror(csv_error(p)));
		}
		have = csv_get_buffer_size(p);
		if (have > t->csv_step) {
			t->csv_step = have;
			csv_set_blk_size(p, have);
		}
		s += k;
		n -= k;
	}
	return 0;
}

/* Lines this long at most are looked for with memchr (a file whose lines
 * end in CR alone would otherwise have memchr look for an LF to its end
 * at every line). */
#define LINE_PEEK ((size_t)1024)

/* Where the text line from buf[i] ends (its CR or LF, or len), and in
 * *quote whether a quote comes before that. */
static size_t line_end(const char *buf, size_t i, size_t len, int *quote)
{
	size_t peek = len - i < LINE_PEEK ? len - i : LINE_PEEK, j;
	const char *lf = memchr(buf + i, '\n', peek), *cr;

	if (lf || peek == len - i) {
		j = lf ? (size_t)(lf - buf) : len;
		if ((cr = memchr(buf + i, '\r', j - i)))
			j = (size_t)(cr - buf);
		*quote = memchr(buf + i, '"', j - i) != NULL;
		return j;
	}
	*quote = 0;
	for (j = i; j < len && !is_term(buf[j]); j++)
		*quote |= buf[j] == '"';
	return j;
}

/* A whole row on one text line s[0..n) (its line end left out) with no
 * quote in it: its cells are the spans between commas, as libcsv would
 * give them (nothing else is special in a field that is not quoted), so
 * they go to on_cell and on_row without it. */
static void plain_row(struct sheet_table *t, const char *s, size_t n)
{
	const char *end = s + n, *comma;

	for (;;) {
		comma = memchr(s, ',', (size_t)(end - s));
		if (!comma)
			break;
		on_cell((void *)s, (size_t)(comma - s), t);
		s = comma + 1;
	}
	on_cell((void *)s, (size_t)(end - s), t);
	on_row('\n', t);
}

/* Parses the next row into t->cur. The parser is fed one text line at a
 * time, so that every row knows the text line it starts on; a line break
 * inside quotes moves the following rows down. Lines of only blanks
 * between rows are skipped. A row on one line without a quote (most rows
 * of a config) is split at its commas here, not fed to libcsv. Returns 1
 * for a row, 0 at the end, or -1 with c's err filled. */
static int parse_row(struct sheet_ctx *c, struct sheet_table *t)
{
	const char *buf = t->buf;
	size_t i = t->at, j, len = t->len;
	int quote;

	t->cur.n = 0;
	if (!t->hold)
		t->ntext = 0;
	t->row_done = 0;
	while (i < len && !t->row_done) {
		j = line_end(buf, i, len, &quote);
		if (j < len)
			j++;
		if (!t->in_row && !blank(buf + i, j - i)) {
			t->in_row = 1;
			t->start = t->line;
			if (!quote)
				plain_row(t, buf + i, j - i - (is_term(
					  buf[j - 1]) ? 1 : 0));
		}
		if (t->in_row && feed(c, t, buf + i, j - i))
			return -1;
		/* A CR counts as a line end unless an LF follows it. */
		if (buf[j - 1] == '\n' || (buf[j - 1] == '\r' &&
					   (j == len || buf[j] != '\n')))
			t->line++;
		i = j;
	}
	t->at = i;
	if (!t->row_done && !t->fini_done) {
		t->fini_done = 1;
		if (csv_fini(t->csv, on_cell, on_row, t) != 0) {
			c->line = t->start;
			sheet_fail(c, NULL, "unterminated quoted field");
			return -1;
		}
	}
	if (!t->row_done)
		return 0;
	t->next++;
	return 1;
}

/* Parses the header of t->buf, the first row (at most SHEET_MAX_HEADER
 * cells kept): 1, 0 when there is none, -1 with c's err filled. */
static int parse_head(struct sheet_ctx *c, struct sheet_table *t)
{
	int rc;

	table_rewind(t);
	t->keep = SHEET_MAX_HEADER + 1;
	rc = parse_row(c, t);
	if (rc == 1) {
		/* the header, kept apart from the rows parsed later */
		t->head = t->cur;
		t->headtext = t->text;
		t->cur.cell = NULL;
		t->text = NULL;
		t->cellcap = t->captext = 0;
		t->nrows = 1;
		t->keep = 0;
	}
	return rc;
}

static int check_head(struct sheet_ctx *c, const struct sheet_table *t)
{
	if (t->head.n > SHEET_MAX_HEADER) {
		c->line = t->head.line;
		return sheet_fail(c, NULL, "more than %d columns in the header",
				  SHEET_MAX_HEADER);
	}
	return 0;
}

/* Appends v to t->meta as a varint (7 bits a byte, low first). */
static void meta_put(struct sheet_table *t, uint64_t v)
{
	if (t->nmeta + 10 > t->capmeta)
		xgrow((void **)&t->meta, &t->capmeta, t->nmeta + 10, 1);
	while (v >= 0x80) {
		t->meta[t->nmeta++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	t->meta[t->nmeta++] = (unsigned char)v;
}

/* The varint of t->meta at *at, which moves past it. */
static uint64_t meta_get(const struct sheet_table *t, size_t *at)
{
	uint64_t v = 0;
	unsigned char b;
	int sh = 0;

	do {
		b = t->meta[(*at)++];
		v |= (uint64_t)(b & 0x7f) << sh;
		sh += 7;
	} while (b & 0x80);
	return v;
}

/* Keeps the row just parsed in t->meta (sheet.h): its line and its count
 * of cells (its kept cells' bytes stay in t->text), and its cells'
 * lengths when one of them holds a NUL byte (else each cell's length is
 * its strlen). Most rows take one byte: the line after the row before,
 * the header's width, no NUL. */
static void hold_row(struct sheet_table *t)
{
	size_t kept = t->cur.n < t->keep ? t->cur.n : t->keep, k;
	int lens, other = t->cur.n != t->keep;

	for (k = 0; k < kept; k++)
		if (strlen(t->cur.cell[k].s) != t->cur.cell[k].n)
			break;
	lens = k < kept;
	meta_put(t, (uint64_t)(t->cur.line - t->held_line - 1) * 4 +
		    (uint64_t)(lens * 2 + other));
	t->held_line = t->cur.line;
	if (other)
		meta_put(t, t->cur.n);
	for (k = 0; lens && k < kept; k++)
		meta_put(t, t->cur.cell[k].n);
}

/* Shrinks the byte array *p of capacity *cap to its n bytes in use (at
 * least 1); nothing when *p is NULL or full. */
static void fit(void **p, size_t *cap, size_t n)
{
	if (!*p || n >= *cap)
		return;
	*p = xrealloc(*p, n ? n : 1);
	*cap = n ? n : 1;
}

/* Parses the whole of t->buf once: keeps the header, and every data row
 * in t->text and t->meta (at most the header's width of cells; none of a
 * header too wide, which is an error anyway). */
static int read_table(struct sheet_ctx *c, struct sheet_table *t)
{
	int rc = parse_head(c, t);

	if (rc == 1) {
		t->hold = 1;
		t->held_line = t->cur_line = t->head.line;
		t->ntext = 0; /* the header's text went to t->headtext */
		t->keep = t->head.n <= SHEET_MAX_HEADER ? t->head.n : 0;
	}
	while (rc == 1 && (rc = parse_row(c, t)) == 1) {
		t->nrows++;
		hold_row(t);
	}
	/* held to the end of the sheet: no room to spare */
	fit((void **)&t->text, &t->captext, t->ntext);
	fit((void **)&t->meta, &t->capmeta, t->nmeta);
	return rc < 0 ? ST_ERROR : check_head(c, t);
}

/* The header alone (sheet_open's header_only); the rows are not read. */
static int read_header(struct sheet_ctx *c, struct sheet_table *t)
{
	return parse_head(c, t) < 0 ? ST_ERROR : check_head(c, t);
}

void sheet_close(struct sheet *s)
{
	table_free(&s->t);
	free(s->path);
	memset(s, 0, sizeof(*s));
}

static int map_header(struct sheet *s)
{
	const struct sheet_row *h = s->t.nrows ? &s->t.head : NULL;
	size_t j;
	int k;

	s->c.line = h ? h->line : 1;
	s->width = h ? h->n : 0;
	for (k = 0; k < s->ncols; k++)
		s->idx[k] = -1;
	for (j = 0; j < s->width; j++) {
		for (k = 0; k < s->ncols; k++) {
			if (h->cell[j].n != strlen(s->cols[k].name) ||
			    memcmp(h->cell[j].s, s->cols[k].name,
				   h->cell[j].n) != 0)
				continue;
			if (s->idx[k] >= 0)
				return sheet_fail(&s->c, NULL, "duplicate column '%s'",
					    s->cols[k].name);
			s->idx[k] = (int)j;
		}
	}
	for (k = 0; k < s->ncols; k++)
		if (s->cols[k].required && s->idx[k] < 0)
			return sheet_fail(&s->c, NULL, "missing column '%s'",
				    s->cols[k].name);
	return 0;
}

void sheet_unknown_columns(const struct sheet *s, struct sheet_warns *w)
{
	const char *names[SHEET_MAX_COLS];
	const struct sheet_row *h = s->t.nrows ? &s->t.head : NULL;
	size_t j;
	int k, known;

	for (k = 0; k < s->ncols; k++)
		names[k] = s->cols[k].name;
	for (j = 0; h && j < h->n; j++) {
		known = 0;
		for (k = 0; k < s->ncols; k++)
			if (s->idx[k] == (int)j)
				known = 1;
		if (!known)
			sheet_warn_unknown(w, "column", h->cell[j].s, s->path,
					   names, (size_t)s->ncols);
	}
}

/* 1 when the first line has a ';' and no ',': a header in a
 * semicolon-separated file. */
static int semicolon_header(const char *buf, size_t len)
{
	size_t i = sheet_has_bom(buf, len) ? 3 : 0;
	int semi = 0;

	for (; i < len && !is_term(buf[i]); i++) {
		if (buf[i] == ',')
			return 0;
		semi |= buf[i] == ';';
	}
	return semi;
}

void sheet_digest_add(struct sha256 *md, const char *name, const char *buf,
		      size_t len, int absent)
{
	uint64_t total = len;

	if (!md)
		return;
	sha256_update(md, name, strlen(name) + 1);
	if (absent) {
		sha256_update(md, "-", 1);
		return;
	}
	sha256_update(md, buf, len);
	sha256_update(md, &total, sizeof(total));
}

/* Maps the header of dir/name, whose bytes are b (borrowed). An optional
 * file that is missing or has no bytes but blanks sets s->absent. */
int sheet_open(struct sheet *s, const char *dir, const char *name,
	       const struct sheet_colspec *cols, int ncols, int optional,
	       const struct sheet_bytes *b, int header_only, struct err *e)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->path = sheet_join(dir, name);
	s->c.e = e;
	s->c.path = s->path;
	s->c.kind = "column";
	s->c.line = 1;
	s->cols = cols;
	s->ncols = ncols;
	s->absent = b->absent;
	if (s->absent)
		return 0;
	/* rows are parsed from the bytes when asked for */
	s->t.buf = b->buf;
	s->t.len = b->len;
	rc = header_only ? read_header(&s->c, &s->t) : read_table(&s->c, &s->t);
	if (!rc && optional && s->t.nrows == 0) {
		s->absent = 1;
		return 0;
	}
	if (!rc)
		rc = map_header(s);
	/* a file saved with ';' (a spreadsheet's CSV in many locales)
	 * fails as bad quoting or a missing column: say why */
	if (rc && semicolon_header(b->buf, b->len)) {
		s->c.line = 1;
		rc = sheet_fail(&s->c, NULL, "the file seems to use ';' as "
				"separator; settle reads comma-separated CSV "
				"(save it with ',')");
	}
	/* the parser and the bytes are done with: every row is held (or
	 * none is read) */
	if (s->t.csv) {
		csv_free(s->t.csv);
		free(s->t.csv);
		s->t.csv = NULL;
	}
	s->t.buf = NULL;
	s->t.len = 0;
	return rc;
}

/* Data row i (1-based after the header), checked for its width and for
 * NUL bytes; sets the line for messages. */
int sheet_row_at(struct sheet *s, size_t i, const struct sheet_row **out)
{
	struct sheet_table *t = &s->t;
	struct sheet_row *r = &t->cur;
	size_t j, k, kept, n, cells;
	uint64_t a;

	if (!t->hold || i < 1 || i >= t->nrows)
		return sheet_fail(&s->c, NULL, "row %zu is gone", i);
	/* rows come in order; going back starts over from the first */
	if (i <= t->cur_row) {
		t->cur_row = t->cur_text = t->cur_meta = 0;
		t->cur_line = t->head.line;
	}
	for (; t->cur_row < i; t->cur_row++) {
		a = meta_get(t, &t->cur_meta);
		t->cur_line += (long)(a >> 2) + 1;
		t->cur_lens = (a & 2) != 0;
		cells = a & 1 ? (size_t)meta_get(t, &t->cur_meta) : t->keep;
		kept = cells < t->keep ? cells : t->keep;
		if (t->cur_row + 1 == i)
			xgrow((void **)&r->cell, &t->cellcap, kept,
			      sizeof(*r->cell));
		for (k = 0; k < kept; k++) {
			char *cs = t->text + t->cur_text;

			n = t->cur_lens ? (size_t)meta_get(t, &t->cur_meta) :
					  strlen(cs);
			if (t->cur_row + 1 == i) {
				r->cell[k].s = cs;
				r->cell[k].n = n;
			}
			t->cur_text += n + 1;
		}
		r->n = cells;
		r->line = t->cur_line;
	}

	s->c.line = r->line;
	*out = r;
	if (r->n != s->width)
		return sheet_fail(&s->c, NULL, "bad field count %zu (header has %zu)",
			    r->n, s->width);
	/* a row held without lengths has none but strlen's (hold_row) */
	for (j = 0; t->cur_lens && j < r->n; j++)
		if (strlen(r->cell[j].s) != r->cell[j].n)
			return sheet_fail(&s->c, s->t.head.cell[j].s,
				    "NUL byte in value");
	return 0;
}

/* The cell of column k ("" when the file has no such column). */
struct sheet_val sheet_col(struct sheet *s, const struct sheet_row *r,
			   int k)
{
	struct sheet_val x;

	x.c = &s->c;
	x.name = s->cols[k].name;
	x.v = s->idx[k] < 0 ? "" : r->cell[s->idx[k]].s;
	return x;
}

