/* out: the output files (SPEC section 8).
 *
 * A table is built row by row from text cells, then written as CSV with a
 * header: rows sorted by all columns left to right as bytes, except the
 * columns marked numeric-sort (line, version, lines), which sort as
 * numbers; cells quoted per RFC 4180 when they hold a comma, a quote or
 * any control character; text cells that start with '=', '+', '-', '@', a
 * tab or a carriage return prefixed with '\'' so spreadsheets do not run
 * them. Files are written to NAME.tmp in the
 * same directory, fsynced and renamed into place (mode 0644), so a reader
 * never sees half a file. */
#ifndef OUT_H
#define OUT_H

#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

#include "err.h"

enum col_kind {
	COL_TEXT,    /* user text: formula-escaped */
	COL_NUM,     /* a number or code we formatted: written as is */
	COL_INT      /* a whole number that sorts numerically */
};

struct table;

/* A table with ncols (at least 1) columns named names[i] of kind
 * kinds[i]. */
struct table *table_new(size_t ncols, const char *const *names,
			const enum col_kind *kinds);
void table_free(struct table *t);

/* Adds a row of ncols cells (copied). */
void table_add(struct table *t, const char *const *cells);

size_t table_rows(const struct table *t);

/* A table whose rows are expected in their sorted order already: each row
 * is rendered as it is added and only the last one is kept (to check the
 * order), so it costs its CSV text, not its cells too. When a row comes
 * before the one added before it, the table stops taking rows and
 * table_in_order says 0: the caller then adds them all to a table_new
 * table instead (table_render must not be called). The bytes are those
 * table_new would render for the same rows. */
struct table *table_stream(size_t ncols, const char *const *names,
			   const enum col_kind *kinds);
int table_in_order(const struct table *t);

/* Sorts the rows and renders the whole CSV text; *data is malloc'd
 * (NUL-terminated) and owned by the caller. */
void table_render(struct table *t, char **data, size_t *len);

/* Writes data to path atomically (path.tmp, fsync, rename, mode 0644)
 * unless path already holds exactly these bytes. path.tmp is always
 * created new (O_CREAT|O_EXCL|O_NOFOLLOW): one that exists, a crash's
 * leftover or a planted hard link or symlink, is unlinked first, never
 * followed or truncated. Returns 1 when written,
 * 0 when it was already so, -1 with e filled on failure. */
int out_put_file(const char *path, const char *data, size_t len,
		 struct err *e);

/* out_put_file in two steps, so that a close writes every file before it
 * commits (a full disk then fails the close with nothing committed) and
 * only renames after: out_prepare_file writes NAME.tmp (created new,
 * fsynced) and returns 1 with *tmp (malloc'd) to hand to out_finish_file
 * (the rename; 0, or -1 with e filled) or out_abandon_file (unlinks it),
 * 0 when path already holds these bytes (*tmp NULL), -1 with e filled. */
int out_prepare_file(const char *path, const char *data, size_t len,
		     char **tmp, struct err *e);
int out_finish_file(char *tmp, const char *path, struct err *e);
void out_abandon_file(char *tmp);

/* path opened for reading when it is a regular file (*sb its stat), or
 * NULL: a FIFO or device planted under an output's name is refused at
 * once, never waited on (the open does not block). */
FILE *out_open_regular(const char *path, struct stat *sb);

/* Reads the whole file at path into *data (malloc'd, NUL-terminated) and
 * *len. Returns 0, or -1 when it cannot be opened or read or is no
 * regular file (a FIFO is not waited on). */
int out_read_file(const char *path, char **data, size_t *len);

/* Creates directory path and its parents (mode 0755). */
int out_mkdirs(const char *path, struct err *e);

#endif
