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
	/* cell texts back to back (NUL-terminated) in one arena: a table of
	 * 10^5 rows would otherwise be 10^6 small mallocs */
	char *text;
	size_t ntext, textcap;
	size_t *cells;       /* rows * ncols offsets into text, row-major */
	size_t nrows, cap;
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
	free(t->names);
	free(t->kinds);
	free(t);
}

/* Appends a cell as written: formula-like text gets a leading quote. */
static size_t put_text(struct table *t, const char *s, enum col_kind k)
{
	size_t n = strlen(s), off = t->ntext;
	int quote = k == COL_TEXT && (s[0] == '=' || s[0] == '+' ||
				      s[0] == '-' || s[0] == '@');

	xgrow((void **)&t->text, &t->textcap, t->ntext + n + 2, 1);
	if (quote)
		t->text[t->ntext++] = '\'';
	memcpy(t->text + t->ntext, s, n + 1);
	t->ntext += n + 1;
	return off;
}

void table_add(struct table *t, const char *const *cells)
{
	size_t i;

	xgrow((void **)&t->cells, &t->cap, (t->nrows + 1) * t->ncols,
	      sizeof(*t->cells));
	for (i = 0; i < t->ncols; i++)
		t->cells[t->nrows * t->ncols + i] = put_text(t, cells[i],
							     t->kinds[i]);
	t->nrows++;
}

size_t table_rows(const struct table *t)
{
	return t->nrows;
}

/* Compares two non-negative integers written in decimal. */
static int cmp_int(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);

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
	return strcmp(a, b);
}

static const struct table *sort_table; /* qsort has no context argument */

static int cmp_row(const void *pa, const void *pb)
{
	const struct table *t = sort_table;
	const size_t *a = *(const size_t *const *)pa;
	const size_t *b = *(const size_t *const *)pb;
	size_t i;

	for (i = 0; i < t->ncols; i++) {
		const char *x = t->text + a[i], *y = t->text + b[i];
		int c = t->kinds[i] == COL_INT ? cmp_int(x, y) : strcmp(x, y);

		if (c)
			return c;
	}
	return 0;
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

void table_render(struct table *t, char **data, size_t *len)
{
	size_t **rows = xmalloc((t->nrows ? t->nrows : 1) * sizeof(*rows));
	struct obuf b = { NULL, 0, 0 };
	size_t i, j;

	for (i = 0; i < t->nrows; i++)
		rows[i] = &t->cells[i * t->ncols];
	sort_table = t;
	qsort(rows, t->nrows, sizeof(*rows), cmp_row);
	for (j = 0; j < t->ncols; j++) {
		if (j)
			ob_put(&b, ",", 1);
		put_cell(&b, t->names[j]);
	}
	ob_put(&b, "\n", 1);
	for (i = 0; i < t->nrows; i++) {
		for (j = 0; j < t->ncols; j++) {
			if (j)
				ob_put(&b, ",", 1);
			put_cell(&b, t->text + rows[i][j]);
		}
		ob_put(&b, "\n", 1);
	}
	free(rows);
	*data = b.p;
	*len = b.n;
}

int out_read_file(const char *path, char **data, size_t *len)
{
	struct obuf b = { NULL, 0, 0 };
	char buf[65536];
	size_t k;
	int bad;
	FILE *f = fopen(path, "rb");

	*data = NULL;
	*len = 0;
	if (!f)
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

int out_put_file(const char *path, const char *data, size_t len,
		 struct err *e)
{
	size_t n = strlen(path) + 5;
	char *tmp;
	int fd, bad = 0, saved = 0;
	size_t off = 0;

	if (same_content(path, data, len))
		return 0;
	tmp = xmalloc(n);
	snprintf(tmp, n, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0644);
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
	if (!bad) {
		fault_point("out-rename");
		if (rename(tmp, path) != 0) {
			bad = 1;
			saved = errno;
		}
	}
	if (bad) {
		err_set(e, ST_ERROR, "cannot write '%s': %s", path,
			strerror(saved));
		unlink(tmp);
	}
	free(tmp);
	return bad ? -1 : 1;
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
