/* store_sql: the bottom of the store layer: the state's connection and
 * the primitives every file of the layer runs its SQL with. It calls
 * nothing else of the layer, so store.c (the lock, the transactions, the
 * schema) and the files that own tables (store_files.c, final.c, ckpt.c,
 * ...) all call it, and none of them is called back. Included through
 * store_int.h; internal to the layer.
 *
 * struct store is the handle of an open state (store.h keeps it
 * opaque). Its fields are store.c's: store_open fills them and
 * store_close frees them. store_sql.c reads db (open from store_open's
 * return to store_close) and path (the state's path as given, for
 * messages); every other file reaches the connection through store_conn
 * and never touches a field. */
#ifndef STORE_SQL_H
#define STORE_SQL_H

#include <sqlite3.h>

#include "err.h"

/* The connection is opened SQLITE_OPEN_NOMUTEX (multi-thread mode: no
 * lock in every bind and step, ~7% of the 500 000-tenant close), which
 * holds while one thread at a time uses it. The threads that may run
 * beside the one that opened it: ingest's workers (ingest.c) use the
 * store only under their shared mutex; the decoders (pool.c), the
 * inflate producer (gzsrc.c) and the close's render and release threads
 * (ledger.c) never touch it; dup.c's two key ranges read blobs of it and
 * take a mutex of their own around each read. A new thread that uses
 * the store must do the same. */
struct store {
	sqlite3 *db;
	int lockfd;
	int walfd;      /* flock on PATH-wal too: see store.c's lock_wal */
	char *path;
	int version;    /* the file's schema version once open */
};

/* A text column, "" for NULL. */
static inline const char *store_col_text(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);

	return t ? t : "";
}

/* The connection of s, for the files of the layer that prepare their
 * statements on it themselves (final.c, ckpt.c, ...; and
 * tests/test_store.c). Never NULL for an open store; owned by s
 * (store_close closes it). */
struct sqlite3 *store_conn(struct store *s);

/* The statements of the layer's files, on s's connection:
 * store_db_fail fills e with what failed and SQLite's message and returns
 * ST_ERROR; store_exec runs sql (several statements); store_prep prepares
 * one (NULL with e filled); store_run steps a statement that returns no
 * rows and finalizes it; store_rows_done ends a row loop (finalizes st;
 * the callback's non-zero r, a step error when rc is not SQLITE_DONE, or
 * 0). The others return 0 or -1 with e filled. */
int store_db_fail(struct store *s, struct err *e, const char *what);
int store_exec(struct store *s, const char *sql, struct err *e);
sqlite3_stmt *store_prep(struct store *s, const char *sql, struct err *e);
int store_run(struct store *s, sqlite3_stmt *st, struct err *e);
int store_rows_done(struct store *s, sqlite3_stmt *st, int rc, int r,
		    struct err *e);

/* Sets *yes when table has column col. 0 or -1 with e filled. */
int store_has_column(struct store *s, const char *table, const char *col,
		     int *yes, struct err *e);

#endif
