/* catalog: the config directory (SPEC section 3). */
#include "catalog.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "agg.h"
#include "mem.h"
#include "sha256.h"
#include "ts.h"
#include "banned.h"

/* Config files are read whole; anything this large is not a config. */
#define MAX_FILE_BYTES ((size_t)256 << 20)
#define MAX_CODE 64
#define MAX_COLS 12
/* Values quoted in messages are cut to this many bytes. */
#define QUOTE_MAX 72

#define ITEM_CHARS "_.-"
#define TENANT_CHARS "_.:-"
#define PREFIX_CHARS "_-"

/* ---- messages ---------------------------------------------------------- */

/* Where a value came from: file, text line and the kind of name given
 * with a column or key ("column" for CSV files, "key" for settings.conf). */
struct ctx {
	struct err *e;
	const char *path;
	const char *kind;
	long line;
};

/* A value to check: its text and the column or key it came from. */
struct val {
	struct ctx *c;
	const char *name;
	const char *v;
};

/* Makes s fit for a one-line message: control bytes become '?', long text
 * is cut (never inside a UTF-8 sequence) and marked with "...". */
static const char *quote_text(char *buf, const char *s)
{
	size_t n = strlen(s), lim = n, i;

	if (n > QUOTE_MAX) {
		lim = QUOTE_MAX;
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

/* The quoted form of s, in a buffer that lives to the end of the
 * enclosing block (a compound literal). */
#define Q(s) quote_text((char[QUOTE_MAX + 4]){ 0 }, (s))

/* Fills c->e with "WHAT at PATH:LINE (KIND NAME)"; name may be NULL. */
__attribute__((format(printf, 3, 4)))
static int fail(const struct ctx *c, const char *name, const char *fmt, ...)
{
	char what[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (name)
		return err_set(c->e, ST_ERROR, "%s at %s:%ld (%s %s)", what,
			       c->path, c->line, c->kind, Q(name));
	return err_set(c->e, ST_ERROR, "%s at %s:%ld", what, c->path, c->line);
}

static int need(struct val x)
{
	if (*x.v)
		return 0;
	return fail(x.c, x.name, "missing value");
}

static int bad(struct val x)
{
	return fail(x.c, x.name, "bad %s '%s'", x.name, Q(x.v));
}

static int bad_want(struct val x, const char *want)
{
	return fail(x.c, x.name, "bad %s '%s' (want %s)", x.name, Q(x.v), want);
}

/* ---- value checks ------------------------------------------------------ */

static int is_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9');
}

/* 1 if s is 1..MAX_CODE characters of [A-Za-z0-9] and extra. */
static int code_ok(const char *s, const char *extra)
{
	size_t n = strlen(s), i;

	if (n < 1 || n > MAX_CODE)
		return 0;
	for (i = 0; i < n; i++)
		if (!is_alnum(s[i]) && !strchr(extra, s[i]))
			return 0;
	return 1;
}

/* An optional decimal: def when empty; positive asks for > 0. */
static int val_dec(struct val x, dec_t def, int positive, dec_t *out)
{
	if (!*x.v) {
		*out = def;
		return 0;
	}
	if (dec_parse(x.v, strlen(x.v), out) < 0)
		return bad(x);
	if (positive && *out == 0)
		return bad_want(x, "above 0");
	return 0;
}

/* An optional non-negative integer: def when empty; max < 0 for none. */
static int val_int(struct val x, int64_t def, int64_t max, int64_t *out)
{
	char want[64];

	if (!*x.v) {
		*out = def;
		return 0;
	}
	if (dec_parse_int(x.v, strlen(x.v), out) < 0)
		return bad(x);
	if (max >= 0 && *out > max) {
		snprintf(want, sizeof(want), "0 to %lld", (long long)max);
		return bad_want(x, want);
	}
	return 0;
}

/* An optional word from names (NULL-terminated): its index, def when
 * empty. want lists the choices for the message. */
static int val_enum(struct val x, const char *const *names, const char *want,
		    int def, int *out)
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
	return bad_want(x, want);
}

/* A required RFC 3339 instant. */
static int val_ts(struct val x, int64_t *out)
{
	if (need(x))
		return ST_ERROR;
	if (ts_parse(x.v, strlen(x.v), out) < 0)
		return bad(x);
	return 0;
}

/* A required currency code. */
static int val_currency(struct val x, char out[4])
{
	if (need(x))
		return ST_ERROR;
	if (!dec_currency_valid(x.v))
		return bad(x);
	memcpy(out, x.v, 4);
	return 0;
}

/* 1 if v has no more decimals than the currency's minor unit. Trailing
 * zeros do not count: "12.500" is a fine CNY amount. */
static int minor_ok(dec_t v, int minor)
{
	dec_t unit = 1;
	int i;

	for (i = minor; i < DEC_DIGITS; i++)
		unit *= 10;
	return v % unit == 0;
}

static int bad_decimals(struct val x, const char *currency)
{
	char want[64];
	int minor = dec_minor_digits(currency);

	snprintf(want, sizeof(want), "at most %d decimal%s for %s", minor,
		 minor == 1 ? "" : "s", currency);
	return bad_want(x, want);
}

/* ---- a set of strings, for uniqueness checks in file order ------------- */

struct strset {
	struct strtab *t;
};

/* Adds a copy of s; returns 1 (and adds nothing) if s was there. */
static int strset_add(struct strset *h, const char *s)
{
	size_t before;

	if (!h->t)
		h->t = strtab_new();
	before = strtab_count(h->t);
	strtab_put(h->t, s, strlen(s));
	return strtab_count(h->t) == before;
}

static void strset_free(struct strset *h)
{
	strtab_free(h->t);
	h->t = NULL;
}

/* ---- files --------------------------------------------------------------- */

static char *join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = xmalloc(a + b + 2);

	memcpy(p, dir, a);
	p[a] = '/';
	memcpy(p + a + 1, name, b + 1);
	return p;
}

static int has_bom(const char *buf, size_t len)
{
	return len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0;
}

/* Reads c->path whole. A missing optional file sets *absent. */
static int slurp(const struct ctx *c, int optional, char **out, size_t *len,
		 int *absent)
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

struct cell {
	char *s;   /* NUL-terminated copy */
	size_t n;
};

struct row {
	long line;  /* text line where the row starts */
	struct cell *cell;
	size_t n;
};

struct table {
	struct row *rows;  /* rows[0] is the header, when there is one */
	size_t nrows, cap;
	struct row cur;    /* the row being parsed */
	size_t curcap;
	long line;         /* text line being fed to the parser */
	long start;        /* text line where the current row began */
	int in_row;
};

static void on_cell(void *data, size_t n, void *arg)
{
	struct table *t = arg;

	xgrow((void **)&t->cur.cell, &t->curcap, t->cur.n + 1,
	      sizeof(*t->cur.cell));
	t->cur.cell[t->cur.n].s = xstrndup(data ? data : "", data ? n : 0);
	t->cur.cell[t->cur.n].n = data ? n : 0;
	t->cur.n++;
}

static void on_row(int term, void *arg)
{
	struct table *t = arg;

	(void)term;
	xgrow((void **)&t->rows, &t->cap, t->nrows + 1, sizeof(*t->rows));
	t->cur.line = t->start;
	t->rows[t->nrows++] = t->cur;
	memset(&t->cur, 0, sizeof(t->cur));
	t->curcap = 0;
	t->in_row = 0;
}

/* Cells keep their spaces: nothing is trimmed. */
static int no_space(unsigned char ch)
{
	(void)ch;
	return 0;
}

static void free_row(struct row *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->cell[i].s);
	free(r->cell);
}

static void table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nrows; i++)
		free_row(&t->rows[i]);
	free(t->rows);
	free_row(&t->cur);
	memset(t, 0, sizeof(*t));
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

/* Parses buf into rows. The parser is fed one text line at a time, so
 * that every row knows the text line it starts on; a line break inside
 * quotes moves the following rows down. Lines of only blanks between rows
 * are skipped. */
static int read_table(struct ctx *c, const char *buf, size_t len,
		      struct table *t)
{
	struct csv_parser p;
	size_t i = has_bom(buf, len) ? 3 : 0, j;
	int rc = 0;

	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
		return err_set(c->e, ST_ERROR, "cannot read '%s': %s", c->path,
			       "CSV parser set-up failed");
	csv_set_space_func(&p, no_space);
	csv_set_realloc_func(&p, xrealloc);
	csv_set_free_func(&p, free);
	t->line = 1;
	while (i < len) {
		j = i;
		while (j < len && !is_term(buf[j]))
			j++;
		if (j < len)
			j++;
		if (!t->in_row && !blank(buf + i, j - i)) {
			t->in_row = 1;
			t->start = t->line;
		}
		if (t->in_row &&
		    csv_parse(&p, buf + i, j - i, on_cell, on_row, t) != j - i) {
			c->line = t->line;
			if (csv_error(&p) == CSV_EPARSE)
				rc = fail(c, NULL, "malformed CSV quoting");
			else
				rc = fail(c, NULL, "cannot parse CSV: %s",
					  csv_strerror(csv_error(&p)));
			goto done;
		}
		/* A CR counts as a line end unless an LF follows it. */
		if (buf[j - 1] == '\n' || (buf[j - 1] == '\r' &&
					   (j == len || buf[j] != '\n')))
			t->line++;
		i = j;
	}
	if (csv_fini(&p, on_cell, on_row, t) != 0) {
		c->line = t->start;
		rc = fail(c, NULL, "unterminated quoted field");
	}
done:
	csv_free(&p);
	return rc;
}

struct colspec {
	const char *name;
	int required;  /* the header must have it */
};

/* One CSV config file, its columns found by name. */
struct sheet {
	struct ctx c;
	char *path;
	struct table t;
	const struct colspec *cols;
	int ncols;
	int idx[MAX_COLS];  /* column of cols[k] in the file, -1 if absent */
	size_t width;       /* header fields */
	int absent;         /* optional file not there (or empty) */
};

static void sheet_close(struct sheet *s)
{
	table_free(&s->t);
	free(s->path);
	memset(s, 0, sizeof(*s));
}

static int map_header(struct sheet *s)
{
	const struct row *h = s->t.nrows ? &s->t.rows[0] : NULL;
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
				return fail(&s->c, NULL, "duplicate column '%s'",
					    s->cols[k].name);
			s->idx[k] = (int)j;
		}
	}
	for (k = 0; k < s->ncols; k++)
		if (s->cols[k].required && s->idx[k] < 0)
			return fail(&s->c, NULL, "missing column '%s'",
				    s->cols[k].name);
	return 0;
}

/* Reads dir/name and maps its header. An optional file that is missing or
 * has no bytes but blanks sets s->absent. */
static int sheet_open(struct sheet *s, const char *dir, const char *name,
		      const struct colspec *cols, int ncols, int optional,
		      struct err *e)
{
	char *buf;
	size_t len;
	int rc;

	memset(s, 0, sizeof(*s));
	s->path = join(dir, name);
	s->c.e = e;
	s->c.path = s->path;
	s->c.kind = "column";
	s->c.line = 1;
	s->cols = cols;
	s->ncols = ncols;
	rc = slurp(&s->c, optional, &buf, &len, &s->absent);
	if (rc || s->absent)
		return rc;
	rc = read_table(&s->c, buf, len, &s->t);
	free(buf);
	if (rc)
		return rc;
	if (optional && s->t.nrows == 0) {
		s->absent = 1;
		return 0;
	}
	return map_header(s);
}

/* Data row i (1-based after the header), checked for its width and for
 * NUL bytes; sets the line for messages. */
static int sheet_row(struct sheet *s, size_t i, const struct row **out)
{
	const struct row *r = &s->t.rows[i];
	size_t j;

	s->c.line = r->line;
	*out = r;
	if (r->n != s->width)
		return fail(&s->c, NULL, "bad field count %zu (header has %zu)",
			    r->n, s->width);
	for (j = 0; j < r->n; j++)
		if (strlen(r->cell[j].s) != r->cell[j].n)
			return fail(&s->c, s->t.rows[0].cell[j].s,
				    "NUL byte in value");
	return 0;
}

/* The cell of column k ("" when the file has no such column). */
static struct val col(struct sheet *s, const struct row *r, int k)
{
	struct val x;

	x.c = &s->c;
	x.name = s->cols[k].name;
	x.v = s->idx[k] < 0 ? "" : r->cell[s->idx[k]].s;
	return x;
}

/* ---- look-ups -------------------------------------------------------------- */

struct key {
	const char *s;
	size_t n;
	const char *cur;  /* NULL: compare the tenant only */
};

/* Compares s[0..n) with the string t as strcmp would. */
static int spancmp(const char *s, size_t n, const char *t)
{
	size_t m = strlen(t);
	int c = (n < m ? n : m) ? memcmp(s, t, n < m ? n : m) : 0;

	if (c)
		return c;
	return n < m ? -1 : n > m;
}

static int key_item(const void *k, const void *e)
{
	const struct key *key = k;

	return spancmp(key->s, key->n, ((const struct item *)e)->code);
}

static int key_account(const void *k, const void *e)
{
	const struct key *key = k;
	const struct account *a = e;
	int c = spancmp(key->s, key->n, a->tenant);

	if (c || !key->cur)
		return c;
	return strcmp(key->cur, a->currency);
}

static int cmp_item(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->code,
		      ((const struct item *)b)->code);
}

static int cmp_account(const void *a, const void *b)
{
	const struct account *x = a, *y = b;
	int c = strcmp(x->tenant, y->tenant);

	return c ? c : strcmp(x->currency, y->currency);
}

static int cmp_package(const void *a, const void *b)
{
	return strcmp(((const struct package *)a)->id,
		      ((const struct package *)b)->id);
}

static int cmp_payment(const void *a, const void *b)
{
	const struct payment *x = a, *y = b;
	int c = strcmp(x->tenant, y->tenant);

	if (!c)
		c = strcmp(x->currency, y->currency);
	if (!c)
		c = x->ts < y->ts ? -1 : x->ts > y->ts;
	return c ? c : strcmp(x->id, y->id);
}

static struct item *find_item(const struct catalog *cat, const char *code,
			      size_t len)
{
	struct key k = { code, len, NULL };

	if (!cat->nitems)
		return NULL;
	return bsearch(&k, cat->items, cat->nitems, sizeof(*cat->items),
		       key_item);
}

const struct item *catalog_item(const struct catalog *cat, const char *code,
				size_t len)
{
	return find_item(cat, code, len);
}

const struct account *catalog_account(const struct catalog *cat,
				      const char *tenant, size_t len,
				      const char *currency)
{
	struct key k = { tenant, len, currency };

	if (!cat->naccounts)
		return NULL;
	return bsearch(&k, cat->accounts, cat->naccounts,
		       sizeof(*cat->accounts), key_account);
}

int catalog_has_tenant(const struct catalog *cat, const char *tenant,
		       size_t len)
{
	struct key k = { tenant, len, NULL };

	if (!cat->naccounts)
		return 0;
	return bsearch(&k, cat->accounts, cat->naccounts,
		       sizeof(*cat->accounts), key_account) != NULL;
}

int catalog_package_covers(const struct package *p, const char *item)
{
	size_t i;

	if (p->all_items)
		return 1;
	for (i = 0; i < p->nitems; i++)
		if (strcmp(p->items[i], item) == 0)
			return 1;
	return 0;
}

/* ---- filters ---------------------------------------------------------------- */

void catalog_free_preds(struct pred *preds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(preds[i].key);
		free(preds[i].value);
	}
	free(preds);
}

/* Fills p from the value text v[0..n): an interval when it is bracketed
 * and holds exactly one ',', else exact text. */
static int parse_value(const char *v, size_t n, struct pred *p,
		       const char **why)
{
	const char *comma = NULL;
	size_t i, commas = 0;

	for (i = 0; i < n; i++) {
		if (v[i] == ',') {
			commas++;
			comma = v + i;
		}
	}
	if (n < 3 || (v[0] != '(' && v[0] != '[') ||
	    (v[n - 1] != ')' && v[n - 1] != ']') || commas != 1) {
		p->value = xstrndup(v, n);
		return 0;
	}
	p->interval = 1;
	p->has_lo = comma > v + 1;
	p->has_hi = comma < v + n - 2;
	p->lo_incl = p->has_lo && v[0] == '[';
	p->hi_incl = p->has_hi && v[n - 1] == ']';
	if ((p->has_lo && dec_parse(v + 1, (size_t)(comma - v - 1), &p->lo) < 0) ||
	    (p->has_hi && dec_parse(comma + 1, (size_t)(v + n - 2 - comma),
				    &p->hi) < 0)) {
		*why = "bad interval bound";
		return -1;
	}
	if (p->has_lo && p->has_hi &&
	    (p->lo > p->hi || (p->lo == p->hi && !(p->lo_incl && p->hi_incl)))) {
		*why = "empty interval";
		return -1;
	}
	return 0;
}

int catalog_parse_filter(const char *text, struct pred **preds, size_t *n,
			 const char **why)
{
	struct pred *v = NULL;
	size_t nv = 0, cap = 0;
	const char *s = text, *end, *eq;

	*preds = NULL;
	*n = 0;
	if (!*text)
		return 0;
	for (;;) {
		end = strchr(s, ';');
		if (!end)
			end = s + strlen(s);
		if (end == s) {
			*why = "empty predicate";
			goto fail;
		}
		eq = memchr(s, '=', (size_t)(end - s));
		if (!eq) {
			*why = "predicate without '='";
			goto fail;
		}
		if (eq == s) {
			*why = "empty key";
			goto fail;
		}
		xgrow((void **)&v, &cap, nv + 1, sizeof(*v));
		memset(&v[nv], 0, sizeof(*v));
		v[nv].key = xstrndup(s, (size_t)(eq - s));
		nv++;
		if (parse_value(eq + 1, (size_t)(end - eq - 1), &v[nv - 1], why))
			goto fail;
		if (!*end)
			break;
		s = end + 1;
	}
	*preds = v;
	*n = nv;
	return 0;
fail:
	catalog_free_preds(v, nv);
	return -1;
}

/* Finds key's value in canonical dims "k=v;k=v". */
static int dim_find(const char *dims, size_t len, const char *key,
		    struct span *val)
{
	size_t i = 0, j, klen = strlen(key);
	const char *eq;

	while (i < len) {
		j = i;
		while (j < len && dims[j] != ';')
			j++;
		eq = memchr(dims + i, '=', j - i);
		if (eq && (size_t)(eq - dims - i) == klen &&
		    memcmp(dims + i, key, klen) == 0) {
			val->p = eq + 1;
			val->n = (size_t)(dims + j - eq - 1);
			return 1;
		}
		i = j + 1;
	}
	return 0;
}

static int pred_holds(const struct pred *p, const char *dims, size_t len)
{
	struct span v;
	dec_t x;

	if (!dim_find(dims, len, p->key, &v))
		return 0;
	if (!p->interval)
		return span_eq(v, p->value);
	if (dec_parse(v.p, v.n, &x) < 0)
		return 0;
	if (p->has_lo && (x < p->lo || (x == p->lo && !p->lo_incl)))
		return 0;
	if (p->has_hi && (x > p->hi || (x == p->hi && !p->hi_incl)))
		return 0;
	return 1;
}

int catalog_match_group(const struct item *it, const char *dims, size_t len)
{
	size_t g, i;

	for (g = 0; g < it->ngroups; g++) {
		const struct price_group *pg = &it->groups[g];

		for (i = 0; i < pg->npreds; i++)
			if (!pred_holds(&pg->preds[i], dims, len))
				break;
		if (i == pg->npreds)
			return (int)g;
	}
	return -1;
}

/* ---- settings.conf ------------------------------------------------------- */

static void trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t' || **s == '\r')) {
		(*s)++;
		(*n)--;
	}
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' ||
		      (*s)[*n - 1] == '\r'))
		(*n)--;
}

static int apply_setting(struct ctx *c, const char *key, const char *v,
			 struct settings *set)
{
	static const char *const rounding[] = { "half_up", "half_even", NULL };
	struct val x;
	int m;

	x.c = c;
	x.name = key;
	x.v = v;
	if (strcmp(key, "timezone") == 0) {
		set->tz = 0;
		if (*v && ts_parse_offset(v, strlen(v), &set->tz) < 0)
			return bad(x);
	} else if (strcmp(key, "invoice_prefix") == 0) {
		if (!*v)
			v = "INV";
		if (!code_ok(v, PREFIX_CHARS))
			return bad(x);
		memcpy(set->invoice_prefix, v, strlen(v) + 1);
	} else if (strcmp(key, "rounding") == 0) {
		if (val_enum(x, rounding, "half_up or half_even", 0, &m))
			return ST_ERROR;
		set->rounding = m ? DEC_HALF_EVEN : DEC_HALF_UP;
	} else if (strcmp(key, "alert_pct") == 0) {
		if (val_dec(x, 20 * DEC_ONE, 0, &set->alert_pct))
			return ST_ERROR;
		if (set->alert_pct > 100 * DEC_ONE)
			return bad_want(x, "0 to 100");
	}
	return 0;
}

static int settings_line(struct ctx *c, const char *s, size_t n,
			 struct settings *set)
{
	const char *hash = memchr(s, '#', n), *eq, *k, *v;
	size_t kn, vn;
	char *key, *val;
	int rc;

	if (hash)
		n = (size_t)(hash - s);
	trim(&s, &n);
	if (!n)
		return 0;
	if (memchr(s, '\0', n))
		return fail(c, NULL, "NUL byte in line");
	eq = memchr(s, '=', n);
	k = s;
	kn = eq ? (size_t)(eq - s) : 0;
	trim(&k, &kn);
	if (!eq || !kn) {
		key = xstrndup(s, n);
		rc = fail(c, NULL, eq ? "missing key in '%s'" : "missing '=' in '%s'",
			  Q(key));
		free(key);
		return rc;
	}
	v = eq + 1;
	vn = (size_t)(s + n - v);
	trim(&v, &vn);
	key = xstrndup(k, kn);
	val = xstrndup(v, vn);
	rc = apply_setting(c, key, val, set);
	free(key);
	free(val);
	return rc;
}

static int load_settings(const char *dir, struct settings *set, struct err *e)
{
	struct ctx c;
	char *buf = NULL;
	const char *nl;
	size_t len, i, end;
	int absent, rc;

	c.e = e;
	c.path = join(dir, "settings.conf");
	c.kind = "key";
	c.line = 1;
	rc = slurp(&c, 1, &buf, &len, &absent);
	if (!rc && !absent) {
		i = has_bom(buf, len) ? 3 : 0;
		for (; i < len && !rc; c.line++) {
			nl = memchr(buf + i, '\n', len - i);
			end = nl ? (size_t)(nl - buf) : len;
			rc = settings_line(&c, buf + i, end - i, set);
			i = end + 1;
		}
	}
	free(buf);
	free((char *)c.path);
	return rc;
}

/* ---- items.csv ---------------------------------------------------------- */

enum {
	IT_ITEM, IT_CURRENCY, IT_MODEL, IT_BLOCK, IT_UUNIT, IT_PUNIT, IT_RATIO,
	IT_RROUND, IT_RMODE, IT_BASIS, IT_BOUND, IT_NCOLS
};

static const struct colspec item_cols[IT_NCOLS] = {
	{ "item", 1 }, { "currency", 1 }, { "model", 0 }, { "block_size", 0 },
	{ "usage_unit", 1 }, { "price_unit", 0 }, { "unit_ratio", 0 },
	{ "record_round", 0 }, { "record_round_mode", 0 },
	{ "tier_basis", 0 }, { "tier_bound", 0 },
};

static int parse_item(struct sheet *s, const struct row *r, struct item *it,
		      struct strset *seen)
{
	static const char *const models[] = {
		"graduated", "volume", "package", NULL
	};
	static const char *const rmodes[] = { "half_up", "up", "down", NULL };
	static const enum dec_round rmode_val[] = {
		DEC_HALF_UP, DEC_UP, DEC_DOWN
	};
	static const char *const bases[] = { "billable", "total", NULL };
	static const char *const bounds[] = { "upper", "lower", NULL };
	struct val x = col(s, r, IT_ITEM), xu, xp;
	int64_t rr;
	int m;

	if (need(x))
		return ST_ERROR;
	if (!code_ok(x.v, ITEM_CHARS))
		return bad(x);
	if (strset_add(seen, x.v))
		return fail(x.c, x.name, "duplicate item '%s'", Q(x.v));
	it->code = xstrdup(x.v);
	if (val_currency(col(s, r, IT_CURRENCY), it->currency))
		return ST_ERROR;
	it->minor = dec_minor_digits(it->currency);
	if (val_enum(col(s, r, IT_MODEL), models,
		     "graduated, volume or package", MODEL_GRADUATED, &m))
		return ST_ERROR;
	it->model = (enum price_model)m;
	if (val_dec(col(s, r, IT_BLOCK), DEC_ONE, 1, &it->block_size))
		return ST_ERROR;
	xu = col(s, r, IT_UUNIT);
	if (need(xu))
		return ST_ERROR;
	it->usage_unit = xstrdup(xu.v);
	xp = col(s, r, IT_PUNIT);
	it->price_unit = xstrdup(*xp.v ? xp.v : xu.v);
	if (val_dec(col(s, r, IT_RATIO), DEC_ONE, 1, &it->unit_ratio) ||
	    val_int(col(s, r, IT_RROUND), DEC_DIGITS, DEC_DIGITS, &rr))
		return ST_ERROR;
	it->record_round = (int)rr;
	if (val_enum(col(s, r, IT_RMODE), rmodes, "half_up, up or down", 0, &m))
		return ST_ERROR;
	it->record_round_mode = rmode_val[m];
	if (val_enum(col(s, r, IT_BASIS), bases, "billable or total", 0,
		     &it->basis_total) ||
	    val_enum(col(s, r, IT_BOUND), bounds, "upper or lower", 0,
		     &it->bound_lower))
		return ST_ERROR;
	return 0;
}

static int load_items(struct sheet *s, struct catalog *cat)
{
	struct strset seen = { 0 };
	const struct row *r;
	struct item *it;
	size_t cap = 0, i;
	int rc = 0;

	for (i = 1; i < s->t.nrows && !rc; i++) {
		if ((rc = sheet_row(s, i, &r)))
			break;
		xgrow((void **)&cat->items, &cap, cat->nitems + 1,
		      sizeof(*cat->items));
		it = &cat->items[cat->nitems++];
		memset(it, 0, sizeof(*it));
		rc = parse_item(s, r, it, &seen);
	}
	strset_free(&seen);
	if (!rc && cat->nitems)
		qsort(cat->items, cat->nitems, sizeof(*cat->items), cmp_item);
	return rc;
}

/* Every item needs a price group; the message names its items.csv row. */
static int check_priced(struct sheet *s, const struct catalog *cat)
{
	const struct row *r;
	const struct item *it;
	struct val x;
	size_t i;

	for (i = 1; i < s->t.nrows; i++) {
		r = &s->t.rows[i];
		x = col(s, r, IT_ITEM);
		it = find_item(cat, x.v, strlen(x.v));
		if (it && it->ngroups == 0) {
			s->c.line = r->line;
			return fail(x.c, x.name, "item '%s' has no price in "
				    "prices.csv", Q(x.v));
		}
	}
	return 0;
}

/* ---- prices.csv --------------------------------------------------------- */

enum { PR_ITEM, PR_FILTER, PR_FROM, PR_TO, PR_PRICE, PR_FLAT, PR_NCOLS };

static const struct colspec price_cols[PR_NCOLS] = {
	{ "item", 1 }, { "filter", 0 }, { "tier_from", 1 }, { "tier_to", 0 },
	{ "unit_price", 1 }, { "flat_fee", 0 },
};

/* The text line of each group's last row, per item (same indexes as
 * cat->items and it->groups), for the "last tier is open" check. */
struct lastlines {
	long **line;
};

/* Checks one tier t against the tiers the group g already has. */
static int check_tier(struct sheet *s, const struct row *r,
		      const struct item *it, const struct price_group *g,
		      const struct tier *t)
{
	const struct tier *prev = g->ntiers ? &g->tiers[g->ntiers - 1] : NULL;
	struct val xf = col(s, r, PR_FROM), xt = col(s, r, PR_TO);
	char buf[DEC_MAX_TEXT];

	if (it->model == MODEL_PACKAGE && prev)
		return fail(xf.c, xf.name, "second tier for package model "
			    "item '%s'", Q(it->code));
	if (!prev && t->from != 0)
		return fail(xf.c, xf.name, "first tier_from '%s' is not 0",
			    Q(xf.v));
	if (prev && prev->open)
		return fail(xf.c, xf.name, "tier_from '%s' follows an open "
			    "tier", Q(xf.v));
	if (prev && t->from != prev->to) {
		dec_format(prev->to, buf);
		return fail(xf.c, xf.name, "tier_from '%s' does not continue "
			    "the previous tier_to '%s'", Q(xf.v), buf);
	}
	if (!t->open && t->to <= t->from)
		return fail(xt.c, xt.name, "tier_to '%s' is not above "
			    "tier_from '%s'", Q(xt.v), Q(xf.v));
	if (it->model == MODEL_PACKAGE && !t->open)
		return bad_want(xt, "empty for package model");
	return 0;
}

static int price_row(struct sheet *s, const struct row *r,
		     struct catalog *cat, struct lastlines *ll)
{
	struct val xi = col(s, r, PR_ITEM), xf = col(s, r, PR_FILTER);
	struct val xto = col(s, r, PR_TO);
	struct item *it;
	struct price_group *g;
	struct pred *preds;
	struct tier t;
	const char *why = "";
	size_t gi, ii, np;

	if (need(xi))
		return ST_ERROR;
	it = find_item(cat, xi.v, strlen(xi.v));
	if (!it)
		return fail(xi.c, xi.name, "unknown item '%s'", Q(xi.v));
	ii = (size_t)(it - cat->items);
	for (gi = 0; gi < it->ngroups; gi++)
		if (strcmp(it->groups[gi].filter, xf.v) == 0)
			break;
	if (gi == it->ngroups) {
		if (catalog_parse_filter(xf.v, &preds, &np, &why) < 0)
			return fail(xf.c, xf.name, "bad filter '%s' (%s)",
				    Q(xf.v), why);
		it->groups = xrealloc(it->groups,
				      (it->ngroups + 1) * sizeof(*it->groups));
		g = &it->groups[it->ngroups++];
		memset(g, 0, sizeof(*g));
		g->filter = xstrdup(xf.v);
		g->preds = preds;
		g->npreds = np;
		ll->line[ii] = xrealloc(ll->line[ii],
					it->ngroups * sizeof(**ll->line));
	}
	g = &it->groups[gi];
	ll->line[ii][gi] = r->line;

	memset(&t, 0, sizeof(t));
	if (need(col(s, r, PR_FROM)) ||
	    val_dec(col(s, r, PR_FROM), 0, 0, &t.from))
		return ST_ERROR;
	t.open = !*xto.v;
	if (val_dec(xto, 0, 0, &t.to) ||
	    need(col(s, r, PR_PRICE)) ||
	    val_dec(col(s, r, PR_PRICE), 0, 0, &t.unit_price) ||
	    val_dec(col(s, r, PR_FLAT), 0, 0, &t.flat_fee) ||
	    check_tier(s, r, it, g, &t))
		return ST_ERROR;
	g->tiers = xrealloc(g->tiers, (g->ntiers + 1) * sizeof(*g->tiers));
	g->tiers[g->ntiers++] = t;
	return 0;
}

/* Every group must end with an open tier; reported at the group's last
 * row, the first such row in file order. */
static int check_open(struct sheet *s, const struct catalog *cat,
		      const struct lastlines *ll)
{
	const struct item *bad_it = NULL;
	const struct price_group *bad_g = NULL;
	const struct tier *last;
	char buf[DEC_MAX_TEXT];
	long at = 0;
	size_t i, g;

	for (i = 0; i < cat->nitems; i++) {
		for (g = 0; g < cat->items[i].ngroups; g++) {
			const struct price_group *pg = &cat->items[i].groups[g];

			if (pg->tiers[pg->ntiers - 1].open)
				continue;
			if (!bad_g || ll->line[i][g] < at) {
				bad_it = &cat->items[i];
				bad_g = pg;
				at = ll->line[i][g];
			}
		}
	}
	if (!bad_g)
		return 0;
	last = &bad_g->tiers[bad_g->ntiers - 1];
	dec_format(last->to, buf);
	s->c.line = at;
	return fail(&s->c, "tier_to", "last tier of item '%s' has tier_to '%s' "
		    "(want empty)", Q(bad_it->code), buf);
}

static int load_prices(struct sheet *s, struct catalog *cat)
{
	struct lastlines ll;
	const struct row *r;
	size_t i;
	int rc = 0;

	ll.line = xcalloc(cat->nitems, sizeof(*ll.line));
	for (i = 1; i < s->t.nrows && !rc; i++) {
		rc = sheet_row(s, i, &r);
		if (!rc)
			rc = price_row(s, r, cat, &ll);
	}
	if (!rc)
		rc = check_open(s, cat, &ll);
	for (i = 0; i < cat->nitems; i++)
		free(ll.line[i]);
	free(ll.line);
	return rc;
}

/* ---- accounts.csv ------------------------------------------------------ */

enum {
	AC_TENANT, AC_CURRENCY, AC_OPENING, AC_POSTPAID, AC_GRACE, AC_RETENTION,
	AC_NAME, AC_NCOLS
};

static const struct colspec account_cols[AC_NCOLS] = {
	{ "tenant_id", 1 }, { "currency", 1 }, { "opening_balance", 0 },
	{ "postpaid", 0 }, { "grace_days", 0 }, { "retention_days", 0 },
	{ "name", 0 },
};

static int parse_account(struct sheet *s, const struct row *r,
			 struct account *a, struct strset *seen)
{
	static const char *const yesno[] = { "yes", "no", NULL };
	struct val xt = col(s, r, AC_TENANT), xc = col(s, r, AC_CURRENCY);
	struct val xo = col(s, r, AC_OPENING);
	char keybuf[MAX_CODE + 8];
	int m;

	if (need(xt))
		return ST_ERROR;
	if (!code_ok(xt.v, TENANT_CHARS))
		return bad(xt);
	a->tenant = xstrdup(xt.v);
	if (val_currency(xc, a->currency))
		return ST_ERROR;
	snprintf(keybuf, sizeof(keybuf), "%s,%s", a->tenant, a->currency);
	if (strset_add(seen, keybuf))
		return fail(xc.c, xc.name, "duplicate account for tenant '%s' "
			    "in '%s'", Q(a->tenant), a->currency);
	if (*xo.v) {
		if (dec_parse_signed(xo.v, strlen(xo.v),
				     &a->opening_balance) < 0)
			return bad(xo);
		if (!minor_ok(a->opening_balance,
			      dec_minor_digits(a->currency)))
			return bad_decimals(xo, a->currency);
	}
	if (val_enum(col(s, r, AC_POSTPAID), yesno, "yes or no", 0, &m))
		return ST_ERROR;
	a->postpaid = m == 0;
	if (val_int(col(s, r, AC_GRACE), 15, -1, &a->grace_days) ||
	    val_int(col(s, r, AC_RETENTION), 15, -1, &a->retention_days))
		return ST_ERROR;
	a->name = xstrdup(col(s, r, AC_NAME).v);
	return 0;
}

static int load_accounts(struct sheet *s, struct catalog *cat)
{
	struct strset seen = { 0 };
	const struct row *r;
	struct account *a;
	size_t cap = 0, i;
	int rc = 0;

	for (i = 1; i < s->t.nrows && !rc; i++) {
		if ((rc = sheet_row(s, i, &r)))
			break;
		xgrow((void **)&cat->accounts, &cap, cat->naccounts + 1,
		      sizeof(*cat->accounts));
		a = &cat->accounts[cat->naccounts++];
		memset(a, 0, sizeof(*a));
		rc = parse_account(s, r, a, &seen);
	}
	strset_free(&seen);
	if (!rc && cat->naccounts)
		qsort(cat->accounts, cat->naccounts, sizeof(*cat->accounts),
		      cmp_account);
	return rc;
}

/* ---- packages.csv ------------------------------------------------------ */

enum {
	PK_ID, PK_TENANT, PK_ITEMS, PK_QUOTA, PK_COST, PK_PRIORITY, PK_FROM,
	PK_TO, PK_BOUGHT, PK_OVERFLOW, PK_NCOLS
};

static const struct colspec package_cols[PK_NCOLS] = {
	{ "package_id", 1 }, { "tenant_id", 1 }, { "items", 1 },
	{ "quota", 0 }, { "unit_cost", 0 }, { "priority", 0 },
	{ "valid_from", 1 }, { "valid_to", 1 }, { "purchased_at", 0 },
	{ "overflow", 0 },
};

/* items: "*" or ';'-separated item codes of items.csv. */
static int package_items(struct val x, const struct catalog *cat,
			 struct package *p)
{
	const char *s = x.v, *end;
	size_t cap = 0;
	char *code;
	int rc;

	if (need(x))
		return ST_ERROR;
	if (strcmp(x.v, "*") == 0) {
		p->all_items = 1;
		return 0;
	}
	for (;;) {
		end = strchr(s, ';');
		if (!end)
			end = s + strlen(s);
		if (end == s)
			return bad_want(x, "no empty entry");
		if (!find_item(cat, s, (size_t)(end - s))) {
			code = xstrndup(s, (size_t)(end - s));
			rc = fail(x.c, x.name, "unknown item '%s'", Q(code));
			free(code);
			return rc;
		}
		xgrow((void **)&p->items, &cap, p->nitems + 1,
		      sizeof(*p->items));
		p->items[p->nitems++] = xstrndup(s, (size_t)(end - s));
		if (!*end)
			return 0;
		s = end + 1;
	}
}

static int parse_package(struct sheet *s, const struct row *r,
			 const struct catalog *cat, struct package *p,
			 struct strset *seen)
{
	static const char *const overflows[] = { "split", "forgive", NULL };
	struct val xi = col(s, r, PK_ID), xt = col(s, r, PK_TENANT);
	struct val xq = col(s, r, PK_QUOTA), xf = col(s, r, PK_FROM);
	struct val xto = col(s, r, PK_TO), xb = col(s, r, PK_BOUGHT);
	char want[128];

	if (need(xi))
		return ST_ERROR;
	if (strset_add(seen, xi.v))
		return fail(xi.c, xi.name, "duplicate package_id '%s'",
			    Q(xi.v));
	p->id = xstrdup(xi.v);
	if (need(xt))
		return ST_ERROR;
	if (!catalog_has_tenant(cat, xt.v, strlen(xt.v)))
		return fail(xt.c, xt.name, "unknown tenant '%s'", Q(xt.v));
	p->tenant = xstrdup(xt.v);
	if (package_items(col(s, r, PK_ITEMS), cat, p))
		return ST_ERROR;
	p->unlimited = !*xq.v;
	if (val_dec(xq, 0, 0, &p->quota) ||
	    val_dec(col(s, r, PK_COST), DEC_ONE, 1, &p->unit_cost) ||
	    val_int(col(s, r, PK_PRIORITY), 100, -1, &p->priority) ||
	    val_ts(xf, &p->valid_from) || val_ts(xto, &p->valid_to))
		return ST_ERROR;
	if (p->valid_to <= p->valid_from) {
		snprintf(want, sizeof(want), "after valid_from '%s'", Q(xf.v));
		return bad_want(xto, want);
	}
	p->purchased_at = p->valid_from;
	if (*xb.v && val_ts(xb, &p->purchased_at))
		return ST_ERROR;
	return val_enum(col(s, r, PK_OVERFLOW), overflows, "split or forgive",
			0, &p->forgive);
}

static int load_packages(struct sheet *s, struct catalog *cat)
{
	struct strset seen = { 0 };
	const struct row *r;
	struct package *p;
	size_t cap = 0, i;
	int rc = 0;

	for (i = 1; i < s->t.nrows && !rc; i++) {
		if ((rc = sheet_row(s, i, &r)))
			break;
		xgrow((void **)&cat->packages, &cap, cat->npackages + 1,
		      sizeof(*cat->packages));
		p = &cat->packages[cat->npackages++];
		memset(p, 0, sizeof(*p));
		rc = parse_package(s, r, cat, p, &seen);
	}
	strset_free(&seen);
	if (!rc && cat->npackages)
		qsort(cat->packages, cat->npackages, sizeof(*cat->packages),
		      cmp_package);
	return rc;
}

/* ---- payments.csv ------------------------------------------------------ */

enum { PY_ID, PY_TENANT, PY_CURRENCY, PY_AMOUNT, PY_TS, PY_NCOLS };

static const struct colspec payment_cols[PY_NCOLS] = {
	{ "payment_id", 1 }, { "tenant_id", 1 }, { "currency", 1 },
	{ "amount", 1 }, { "ts", 1 },
};

/* Checks a row into p (strings not yet copied: they point into the row). */
static int parse_payment(struct sheet *s, const struct row *r,
			 const struct catalog *cat, struct payment *p)
{
	struct val xi = col(s, r, PY_ID), xt = col(s, r, PY_TENANT);
	struct val xc = col(s, r, PY_CURRENCY), xa = col(s, r, PY_AMOUNT);

	if (need(xi) || need(xt))
		return ST_ERROR;
	if (!catalog_has_tenant(cat, xt.v, strlen(xt.v)))
		return fail(xt.c, xt.name, "unknown tenant '%s'", Q(xt.v));
	if (val_currency(xc, p->currency))
		return ST_ERROR;
	if (!catalog_account(cat, xt.v, strlen(xt.v), p->currency))
		return fail(xc.c, xc.name, "no account for tenant '%s' in '%s'",
			    Q(xt.v), p->currency);
	if (need(xa))
		return ST_ERROR;
	if (dec_parse(xa.v, strlen(xa.v), &p->amount) < 0)
		return bad(xa);
	if (!minor_ok(p->amount, dec_minor_digits(p->currency)))
		return bad_decimals(xa, p->currency);
	if (val_ts(col(s, r, PY_TS), &p->ts))
		return ST_ERROR;
	p->id = (char *)xi.v;
	p->tenant = (char *)xt.v;
	return 0;
}

static int load_payments(struct sheet *s, struct catalog *cat)
{
	struct strset seen = { 0 };
	const struct row *r;
	struct payment p;
	size_t cap = 0, i;
	int rc = 0;

	for (i = 1; i < s->t.nrows && !rc; i++) {
		memset(&p, 0, sizeof(p));
		rc = sheet_row(s, i, &r);
		if (!rc)
			rc = parse_payment(s, r, cat, &p);
		/* A payment_id counts once: its first row. */
		if (rc || strset_add(&seen, p.id))
			continue;
		p.id = xstrdup(p.id);
		p.tenant = xstrdup(p.tenant);
		xgrow((void **)&cat->payments, &cap, cat->npayments + 1,
		      sizeof(*cat->payments));
		cat->payments[cat->npayments++] = p;
	}
	strset_free(&seen);
	if (!rc && cat->npayments)
		qsort(cat->payments, cat->npayments, sizeof(*cat->payments),
		      cmp_payment);
	return rc;
}

/* ---- the whole directory ------------------------------------------------ */

/* Opens dir/name and hands it to load (skipped for an absent optional
 * file). */
static int load_sheet(const char *dir, const char *name,
		      const struct colspec *cols, int ncols, int optional,
		      int (*load)(struct sheet *, struct catalog *),
		      struct catalog *cat, struct err *e)
{
	struct sheet s;
	int rc = sheet_open(&s, dir, name, cols, ncols, optional, e);

	if (!rc && !s.absent)
		rc = load(&s, cat);
	sheet_close(&s);
	return rc;
}

int catalog_load(const char *dir, struct catalog *cat, struct err *e)
{
	struct sheet items;
	int rc;

	memset(cat, 0, sizeof(*cat));
	cat->set.tz = 0;
	memcpy(cat->set.invoice_prefix, "INV", 4);
	cat->set.rounding = DEC_HALF_UP;
	cat->set.alert_pct = 20 * DEC_ONE;

	rc = load_settings(dir, &cat->set, e);
	/* items.csv stays open until prices.csv is read: an item without a
	 * price group is reported at its own row. */
	memset(&items, 0, sizeof(items));
	if (!rc)
		rc = sheet_open(&items, dir, "items.csv", item_cols, IT_NCOLS,
				0, e);
	if (!rc)
		rc = load_items(&items, cat);
	if (!rc)
		rc = load_sheet(dir, "prices.csv", price_cols, PR_NCOLS, 0,
				load_prices, cat, e);
	if (!rc)
		rc = check_priced(&items, cat);
	sheet_close(&items);
	if (!rc)
		rc = load_sheet(dir, "accounts.csv", account_cols, AC_NCOLS, 0,
				load_accounts, cat, e);
	if (!rc)
		rc = load_sheet(dir, "packages.csv", package_cols, PK_NCOLS, 1,
				load_packages, cat, e);
	if (!rc)
		rc = load_sheet(dir, "payments.csv", payment_cols, PY_NCOLS, 1,
				load_payments, cat, e);
	if (rc)
		catalog_release(cat);
	return rc ? ST_ERROR : 0;
}

void catalog_release(struct catalog *cat)
{
	size_t i, g;

	if (!cat)
		return;
	for (i = 0; i < cat->nitems; i++) {
		struct item *it = &cat->items[i];

		for (g = 0; g < it->ngroups; g++) {
			free(it->groups[g].filter);
			catalog_free_preds(it->groups[g].preds,
					   it->groups[g].npreds);
			free(it->groups[g].tiers);
		}
		free(it->groups);
		free(it->code);
		free(it->usage_unit);
		free(it->price_unit);
	}
	free(cat->items);
	for (i = 0; i < cat->naccounts; i++) {
		free(cat->accounts[i].tenant);
		free(cat->accounts[i].name);
	}
	free(cat->accounts);
	for (i = 0; i < cat->npackages; i++) {
		for (g = 0; g < cat->packages[i].nitems; g++)
			free(cat->packages[i].items[g]);
		free(cat->packages[i].items);
		free(cat->packages[i].id);
		free(cat->packages[i].tenant);
	}
	free(cat->packages);
	for (i = 0; i < cat->npayments; i++) {
		free(cat->payments[i].id);
		free(cat->payments[i].tenant);
	}
	free(cat->payments);
	memset(cat, 0, sizeof(*cat));
}

int catalog_digest(const char *dir, unsigned char sha[32], struct err *e)
{
	static const char *const names[] = {
		"settings.conf", "items.csv", "prices.csv", "accounts.csv",
		"packages.csv", "payments.csv" };
	struct sha256 md;
	size_t i;
	int rc = 0;

	sha256_init(&md);
	for (i = 0; i < sizeof(names) / sizeof(names[0]) && !rc; i++) {
		char *path = join(dir, names[i]), buf[65536];
		FILE *f = fopen(path, "rb");
		uint64_t total = 0;
		size_t k;

		sha256_update(&md, names[i], strlen(names[i]) + 1);
		if (!f) {
			if (errno != ENOENT)
				rc = err_set(e, ST_ERROR, "cannot open '%s': %s",
					     path, strerror(errno));
			sha256_update(&md, "-", 1);
			free(path);
			continue;
		}
		while ((k = fread(buf, 1, sizeof(buf), f)) > 0) {
			sha256_update(&md, buf, k);
			total += k;
		}
		if (ferror(f))
			rc = err_set(e, ST_ERROR, "cannot read '%s'", path);
		sha256_update(&md, &total, sizeof(total));
		fclose(f);
		free(path);
	}
	sha256_final(&md, sha);
	return rc;
}
