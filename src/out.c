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
	char **cells;        /* rows * ncols, row-major */
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
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	for (i = 0; i < t->ncols; i++)
		free(t->names[i]);
	free(t->cells);
	free(t->names);
	free(t->kinds);
	free(t);
}

/* A text cell as written: formula-like text gets a leading quote. */
static char *cell_text(const char *s, enum col_kind k)
{
	size_t n = strlen(s);
	char *p;

	if (k != COL_TEXT || !(s[0] == '=' || s[0] == '+' || s[0] == '-' ||
			       s[0] == '@'))
		return xstrndup(s, n);
	p = xmalloc(n + 2);
	p[0] = '\'';
	memcpy(p + 1, s, n + 1);
	return p;
}

void table_add(struct table *t, const char *const *cells)
{
	size_t i;

	xgrow((void **)&t->cells, &t->cap, (t->nrows + 1) * t->ncols,
	      sizeof(*t->cells));
	for (i = 0; i < t->ncols; i++)
		t->cells[t->nrows * t->ncols + i] = cell_text(cells[i],
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
	char *const *a = *(char *const *const *)pa;
	char *const *b = *(char *const *const *)pb;
	size_t i;

	for (i = 0; i < t->ncols; i++) {
		int c = t->kinds[i] == COL_INT ? cmp_int(a[i], b[i]) :
			strcmp(a[i], b[i]);

		if (c)
			return c;
	}
	return 0;
}

static void put_cell(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* Opens path.tmp for writing. */
static FILE *open_tmp(const char *path, char **tmp, struct err *e)
{
	size_t n = strlen(path) + 5;
	FILE *f;
	int fd;

	*tmp = xmalloc(n);
	snprintf(*tmp, n, "%s.tmp", path);
	fd = open(*tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0644);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		err_set(e, ST_ERROR, "cannot write '%s': %s", *tmp,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		free(*tmp);
		*tmp = NULL;
		return NULL;
	}
	fchmod(fd, 0644);
	return f;
}

/* Flushes, fsyncs, closes and renames tmp onto path. */
static int close_tmp(FILE *f, char *tmp, const char *path, struct err *e)
{
	int bad = ferror(f) || fflush(f) != 0 || fsync(fileno(f)) != 0;
	int saved = errno;

	if (fclose(f) != 0 && !bad) {
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
	return bad ? ST_ERROR : 0;
}

int table_write(struct table *t, const char *path, struct err *e)
{
	char ***rows = xmalloc((t->nrows ? t->nrows : 1) * sizeof(*rows));
	char *tmp;
	FILE *f;
	size_t i, j;

	for (i = 0; i < t->nrows; i++)
		rows[i] = &t->cells[i * t->ncols];
	sort_table = t;
	qsort(rows, t->nrows, sizeof(*rows), cmp_row);
	f = open_tmp(path, &tmp, e);
	if (!f) {
		free(rows);
		return ST_ERROR;
	}
	for (j = 0; j < t->ncols; j++) {
		if (j)
			fputc(',', f);
		put_cell(f, t->names[j]);
	}
	fputc('\n', f);
	for (i = 0; i < t->nrows; i++) {
		for (j = 0; j < t->ncols; j++) {
			if (j)
				fputc(',', f);
			put_cell(f, rows[i][j]);
		}
		fputc('\n', f);
	}
	free(rows);
	return close_tmp(f, tmp, path, e);
}

int out_write_file(const char *path, const char *text, size_t len,
		   struct err *e)
{
	char *tmp;
	FILE *f = open_tmp(path, &tmp, e);

	if (!f)
		return ST_ERROR;
	fwrite(text, 1, len, f);
	return close_tmp(f, tmp, path, e);
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
	free(p);
	return rc;
}
