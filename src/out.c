/* out: sorted CSV tables written atomically. */
#include "out.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault.h"
#include "mem.h"
#include "banned.h"

struct table {
	size_t ncols;
	char **names;
	enum col_kind *kinds;
	int has_int;         /* a column sorts as numbers */
	/* cell texts back to back (NUL-terminated) in one arena, in the order
	 * they were added: a table of 10^5 rows would otherwise be 10^6 small
	 * mallocs, and a row's cells are one span, so a cell ends where the
	 * next one starts */
	char *text;
	size_t ntext, textcap;
	size_t *cells;       /* rows * ncols offsets into text, row-major */
	unsigned char *quoted; /* per row: some cell needs CSV quoting */
	size_t nrows, cap, qcap;
	size_t added;        /* rows added (a streamed table holds one) */
	size_t extra;        /* bytes the quoting adds, over all rows */
	/* a streamed table (table_stream) keeps only its last row, for the
	 * order check, and renders each row into out as it comes */
	int stream;
	int disorder;        /* a row came before the one added before it */
	char *out;
	size_t nout, outcap;
};

struct table *table_new(size_t ncols, const char *const *names,
			const enum col_kind *kinds)
{
	struct table *t = xcalloc(1, sizeof(*t));
	size_t i;

	t->ncols = ncols;
	t->names = xmalloc(ncols * sizeof(*t->names));
	t->kinds = xmalloc(ncols * sizeof(*t->kinds));
	for (i = 0; i < ncols; i++) {
		t->names[i] = xstrdup(names[i]);
		t->kinds[i] = kinds[i];
		t->has_int |= kinds[i] == COL_INT;
	}
	return t;
}

void table_free(struct table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->ncols; i++)
		free(t->names[i]);
	free(t->text);
	free(t->cells);
	free(t->quoted);
	free(t->out);
	free(t->names);
	free(t->kinds);
	free(t);
}

/* Bytes that end a cell's plain run: its NUL, and what makes a CSV cell
 * need quotes: a comma, a quote, and every control character (line
 * breaks, but also a tab or an escape, so that no reader splits or
 * trims the cell or shows it raw). */
static const unsigned char stop[256] = {
	[0] = 1, [1] = 1, [2] = 1, [3] = 1, [4] = 1, [5] = 1, [6] = 1, [7] = 1,
	[8] = 1, [9] = 1, [10] = 1, [11] = 1, [12] = 1, [13] = 1, [14] = 1,
	[15] = 1, [16] = 1, [17] = 1, [18] = 1, [19] = 1, [20] = 1, [21] = 1,
	[22] = 1, [23] = 1, [24] = 1, [25] = 1, [26] = 1, [27] = 1, [28] = 1,
	[29] = 1, [30] = 1, [31] = 1, [127] = 1, [','] = 1, ['"'] = 1 };

/* The length of s; adds to *extra what quoting it in CSV adds (2 and a
 * byte per '"'), nothing when it needs no quotes. One pass. */
static size_t cell_len(const char *s, size_t *extra)
{
	size_t n = 0;

	while (!stop[(unsigned char)s[n]])
		n++;
	if (s[n]) {
		*extra += 2;
		for (; s[n]; n++)
			*extra += s[n] == '"';
	}
	return n;
}

/* Formula-like text gets a leading quote (SPEC 9: '=', '+', '-', '@',
 * a tab or a carriage return first). */
static int formula(const char *s, enum col_kind k)
{
	return k == COL_TEXT && (s[0] == '=' || s[0] == '+' || s[0] == '-' ||
				 s[0] == '@' || s[0] == '\t' || s[0] == '\r');
}

static void stream_row(struct table *t, size_t extra);

void table_add(struct table *t, const char *const *cells)
{
	size_t i, extra = 0, need = 0, *row, *len;

	if (t->disorder)
		return;  /* the caller builds a sorted table instead */
	xgrow((void **)&t->cells, &t->cap, (t->nrows + 2) * t->ncols,
	      sizeof(*t->cells));
	xgrow((void **)&t->quoted, &t->qcap, t->nrows + 1, 1);
	row = &t->cells[t->nrows * t->ncols];
	/* the next row's slots hold the lengths for now */
	len = row + t->ncols;
	for (i = 0; i < t->ncols; i++) {
		len[i] = cell_len(cells[i], &extra);
		need += len[i] + 1 + (size_t)formula(cells[i], t->kinds[i]);
	}
	xgrow((void **)&t->text, &t->textcap, t->ntext + need, 1);
	for (i = 0; i < t->ncols; i++) {
		char *o = t->text + t->ntext;

		row[i] = t->ntext;
		if (formula(cells[i], t->kinds[i]))
			*o++ = '\'';
		memcpy(o, cells[i], len[i] + 1);
		t->ntext = (size_t)(o - t->text) + len[i] + 1;
	}
	t->quoted[t->nrows++] = extra != 0;
	t->extra += extra;
	t->added++;
	if (t->stream)
		stream_row(t, extra);
}

size_t table_rows(const struct table *t)
{
	return t->added;
}

/* Where row r's span of text ends (one past its last NUL). */
static size_t row_end(const struct table *t, size_t r)
{
	return r + 1 < t->nrows ? t->cells[(r + 1) * t->ncols] : t->ntext;
}

/* Compares two non-negative integers written in decimal, na and nb
 * bytes long. */
static int cmp_int(const char *a, size_t na, const char *b, size_t nb)
{
	while (na > 1 && *a == '0') {
		a++;
		na--;
	}
	while (nb > 1 && *b == '0') {
		b++;
		nb--;
	}
	if (na != nb)
		return na < nb ? -1 : 1;
	return memcmp(a, b, na);
}

/* Compares rows ra and rb: column by column, as bytes or, for COL_INT,
 * as numbers. A row is its cells' NUL-terminated texts back to back, and
 * NUL is below every other byte, so when no column sorts as numbers one
 * memcmp of the two spans gives the same order as strcmp column by
 * column. */
static int cmp_rows(const struct table *t, size_t ra, size_t rb)
{
	const size_t *a = &t->cells[ra * t->ncols];
	const size_t *b = &t->cells[rb * t->ncols];
	size_t ea = row_end(t, ra), eb = row_end(t, rb), i;

	if (!t->has_int) {
		size_t na = ea - a[0], nb = eb - b[0];
		int c = memcmp(t->text + a[0], t->text + b[0],
			       na < nb ? na : nb);

		if (c)
			return c;
		return na < nb ? -1 : na > nb;
	}
	for (i = 0; i < t->ncols; i++) {
		size_t na = (i + 1 < t->ncols ? a[i + 1] : ea) - a[i];
		size_t nb = (i + 1 < t->ncols ? b[i + 1] : eb) - b[i];
		const char *x = t->text + a[i], *y = t->text + b[i];
		int c;

		/* na, nb count the NUL */
		if (t->kinds[i] == COL_INT)
			c = cmp_int(x, na - 1, y, nb - 1);
		else
			c = memcmp(x, y, na < nb ? na : nb);
		if (c)
			return c;
	}
	return 0;
}

static int cmp_row(const void *pa, const void *pb, void *ctx)
{
	return cmp_rows(ctx, *(const size_t *)pa, *(const size_t *)pb);
}

/* A growing byte buffer. */
struct obuf {
	char *p;
	size_t n, cap;
};

static void ob_put(struct obuf *b, const char *s, size_t n)
{
	xgrow((void **)&b->p, &b->cap, b->n + n + 1, 1);
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void put_cell(struct obuf *b, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		ob_put(b, s, strlen(s));
		return;
	}
	ob_put(b, "\"", 1);
	for (; *s; s++) {
		if (*s == '"')
			ob_put(b, "\"", 1);
		ob_put(b, s, 1);
	}
	ob_put(b, "\"", 1);
}

/* Writes cell s (n bytes) quoted per RFC 4180 at o, when it holds a
 * comma, quote or control character; returns the bytes written. */
static size_t quote_cell(char *o, const char *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n && !stop[(unsigned char)s[i]]; i++)
		;
	if (i == n) {
		memcpy(o, s, n);
		return n;
	}
	o[k++] = '"';
	for (i = 0; i < n; i++) {
		if (s[i] == '"')
			o[k++] = '"';
		o[k++] = s[i];
	}
	o[k++] = '"';
	return k;
}

/* Writes row r as CSV at o, which has room for its text and quoting;
 * returns the bytes written. */
static size_t render_row(const struct table *t, size_t r, char *o)
{
	const size_t *c = &t->cells[r * t->ncols];
	size_t end = row_end(t, r), j, n = 0;

	if (!t->quoted[r]) {
		/* the text with each cell's NUL turned into ',' or '\n' */
		memcpy(o, t->text + c[0], end - c[0]);
		for (j = 1; j < t->ncols; j++)
			o[c[j] - c[0] - 1] = ',';
		o[end - c[0] - 1] = '\n';
		return end - c[0];
	}
	for (j = 0; j < t->ncols; j++) {
		size_t e = (j + 1 < t->ncols ? c[j + 1] : end) - 1;

		n += quote_cell(o + n, t->text + c[j], e - c[j]);
		o[n++] = j + 1 < t->ncols ? ',' : '\n';
	}
	return n;
}

static void put_header(const struct table *t, struct obuf *b)
{
	size_t j;

	for (j = 0; j < t->ncols; j++) {
		if (j)
			ob_put(b, ",", 1);
		put_cell(b, t->names[j]);
	}
	ob_put(b, "\n", 1);
}

struct table *table_stream(size_t ncols, const char *const *names,
			   const enum col_kind *kinds)
{
	struct table *t = table_new(ncols, names, kinds);
	struct obuf b = { NULL, 0, 0 };

	put_header(t, &b);
	t->stream = 1;
	t->out = b.p;
	t->nout = b.n;
	t->outcap = b.cap;
	return t;
}

/* The row just added to a streamed table (extra: what its quoting adds):
 * out of order with the one before, the table gives up (table_in_order);
 * else it is rendered onto out and becomes the only row kept. */
static void stream_row(struct table *t, size_t extra)
{
	size_t r = t->nrows - 1, start = t->cells[r * t->ncols], i;

	if (r && cmp_rows(t, r - 1, r) > 0) {
		t->disorder = 1;
		free(t->out);
		t->out = NULL;
		t->nout = t->outcap = 0;
		return;
	}
	xgrow((void **)&t->out, &t->outcap,
	      t->nout + (t->ntext - start) + extra + 1, 1);
	t->nout += render_row(t, r, t->out + t->nout);
	t->out[t->nout] = '\0';
	if (!r)
		return;
	memmove(t->text, t->text + start, t->ntext - start);
	t->ntext -= start;
	for (i = 0; i < t->ncols; i++)
		t->cells[i] = t->cells[r * t->ncols + i] - start;
	t->quoted[0] = t->quoted[r];
	t->nrows = 1;
}

int table_in_order(const struct table *t)
{
	return !t->disorder;
}

void table_render(struct table *t, char **data, size_t *len)
{
	struct obuf b = { NULL, 0, 0 };
	size_t *order = NULL;
	size_t i, r;

	if (t->stream) {
		if (t->disorder)
			abort(); /* the caller's to check table_in_order */
		*data = t->out;
		*len = t->nout;
		t->out = NULL;
		t->nout = t->outcap = 0;
		return;
	}
	/* rows mostly come sorted already: a pass to see, before sorting */
	for (i = 1; i < t->nrows; i++)
		if (cmp_rows(t, i - 1, i) > 0)
			break;
	if (i < t->nrows) {
		order = xmalloc(t->nrows * sizeof(*order));
		for (i = 0; i < t->nrows; i++)
			order[i] = i;
		qsort_r(order, t->nrows, sizeof(*order), cmp_row, t);
	}
	put_header(t, &b);
	/* the body is the text with each cell's NUL turned into its ',' or
	 * '\n', plus the quoting: exactly this many bytes */
	xgrow((void **)&b.p, &b.cap, b.n + t->ntext + t->extra + 1, 1);
	for (i = 0; i < t->nrows; i++) {
		r = order ? order[i] : i;
		b.n += render_row(t, r, b.p + b.n);
	}
	b.p[b.n] = '\0';
	free(order);
	*data = b.p;
	*len = b.n;
}

FILE *out_open_regular(const char *path, struct stat *sb)
{
	FILE *f;
	int fd;

	/* O_NONBLOCK and a regular file only: a FIFO or a device planted
	 * under an output's name is refused at once, never waited on or
	 * read without end (a regular file ignores the flag) */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		return NULL;
	if (fstat(fd, sb) != 0 || !S_ISREG(sb->st_mode) ||
	    !(f = fdopen(fd, "rb"))) {
		close(fd);
		return NULL;
	}
	return f;
}

int out_read_file(const char *path, char **data, size_t *len)
{
	struct obuf b = { NULL, 0, 0 };
	char buf[65536];
	size_t k;
	int bad;
	struct stat sb;
	FILE *f;

	*data = NULL;
	*len = 0;
	if (!(f = out_open_regular(path, &sb)))
		return -1;
	while ((k = fread(buf, 1, sizeof(buf), f)) > 0)
		ob_put(&b, buf, k);
	bad = ferror(f);
	fclose(f);
	if (bad) {
		free(b.p);
		return -1;
	}
	*data = b.p ? b.p : xstrdup("");
	*len = b.n;
	return 0;
}

/* 1 if path holds exactly data[0..len). */
static int same_content(const char *path, const char *data, size_t len)
{
	char *old;
	size_t n;
	int same;

	if (out_read_file(path, &old, &n))
		return 0;
	same = n == len && memcmp(old, data, len) == 0;
	free(old);
	return same;
}

/* Creates tmp new, for writing: never an existing name. A NAME.tmp that
 * is there (left by a crash, or planted: a hard link to a file outside
 * the out folder, a symlink) is unlinked, which removes only that name,
 * never following it or touching what it points at, and the file is made
 * again with O_EXCL, a few times if something keeps putting it back. */
static int create_new(const char *tmp)
{
	int fd = -1, tries;

	for (tries = 0; tries < 4 && fd < 0; tries++) {
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
			  O_NOFOLLOW, 0644);
		if (fd < 0 && (errno != EEXIST ||
			       (unlink(tmp) != 0 && errno != ENOENT)))
			return -1;
	}
	if (fd < 0)
		errno = EEXIST;
	return fd;
}

int out_prepare_file(const char *path, const char *data, size_t len,
		     char **tmp_out, struct err *e)
{
	size_t n = strlen(path) + 5;
	char *tmp;
	int fd, bad = 0, saved = 0;
	size_t off = 0;

	*tmp_out = NULL;
	if (same_content(path, data, len))
		return 0;
	tmp = xmalloc(n);
	snprintf(tmp, n, "%s.tmp", path);
	fd = create_new(tmp);
	if (fd < 0) {
		err_set(e, ST_ERROR, "cannot write '%s': %s", tmp,
			strerror(errno));
		free(tmp);
		return -1;
	}
	fchmod(fd, 0644);
	while (off < len && !bad) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			bad = 1;
			saved = w < 0 ? errno : ENOSPC;
		} else {
			off += (size_t)w;
		}
	}
	if (!bad && fsync(fd) != 0) {
		bad = 1;
		saved = errno;
	}
	if (close(fd) != 0 && !bad) {
		bad = 1;
		saved = errno;
	}
	if (bad) {
		err_set(e, ST_ERROR, "cannot write '%s': %s", path,
			strerror(saved));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	*tmp_out = tmp;
	return 1;
}

int out_finish_file(char *tmp, const char *path, struct err *e)
{
	int rc = 0;

	fault_point("out-rename");
	if (rename(tmp, path) != 0) {
		rc = err_set(e, ST_ERROR, "cannot write '%s': %s", path,
			     strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return rc ? -1 : 0;
}

void out_abandon_file(char *tmp)
{
	if (tmp)
		unlink(tmp);
	free(tmp);
}

int out_put_file(const char *path, const char *data, size_t len,
		 struct err *e)
{
	char *tmp;
	int rc = out_prepare_file(path, data, len, &tmp, e);

	if (rc <= 0)
		return rc;
	return out_finish_file(tmp, path, e) ? -1 : 1;
}

int out_mkdirs(const char *path, struct err *e)
{
	char *p = xstrdup(path);
	size_t i, n = strlen(p);
	int rc = 0;

	for (i = 1; i <= n && !rc; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			rc = err_set(e, ST_ERROR, "cannot create directory "
				     "'%s': %s", p, strerror(errno));
		if (i < n)
			p[i] = '/';
	}
	if (!rc) {
		struct stat st;

		if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
			rc = err_set(e, ST_ERROR, "'%s' is not a directory",
				     path);
	}
	free(p);
	return rc;
}
