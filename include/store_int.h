/* store_int: internal to the store layer (store.c, store_files.c; final.c,
 * final_read.c and final_doc.c, which own the tables of final periods and of their
 * documents; resume.c, which owns the tables of resume.h; ckpt.c, which
 * owns those of ckpt.h); nothing else
 * includes it but the store's own unit test.
 *
 * The state file is one SQLite database. store.c owns the connection, the
 * lock and the schema; store_files.c the tables of usage files, batches
 * and rejects; final.c the tables of final periods (final.h). They meet
 * only here. */
#ifndef STORE_INT_H
#define STORE_INT_H

#include <sqlite3.h>

#include "store.h"

/* A text column, "" for NULL. */
static inline const char *store_col_text(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);

	return t ? t : "";
}

/* The connection of s, for final.c only (and tests/test_store.c): it
 * prepares its statements on it. Never NULL for an open store; owned by s (store_close closes it). */
struct sqlite3 *store_conn(struct store *s);

/* 0 when s's path still names the file s locked, with one name (what
 * store_commit checks before every commit); -1 with e filled. For
 * store_files.c's WAL copier, which opens that path a second time. */
int store_in_place(struct store *s, struct err *e);

/* The CREATE statements of final.c's tables. store_open runs them right
 * after its own, in the same transaction, when it creates a state: one
 * schema, in one fixed order, whatever the module that owns a table. */
extern const char final_schema[];

/* The CREATE statements of ckpt.c's tables (ckpt.h), IF NOT EXISTS: run
 * by store_open's upgrade to version 4, on a new state and an older one. */
extern const char ckpt_schema[];

/* stamp.c's table (stamp.h), IF NOT EXISTS: run by the upgrade to
 * version 5. */
extern const char stamp_schema[];
/* The CREATE statements of carry.c's tables (carry.h), IF NOT EXISTS:
 * run by store_open's upgrade to version 5, on a new state and an older
 * one. */
extern const char carry_schema[];

/* Adds to final.c's tables the columns of STORE_SCHEMA_VERSION that are
 * missing (an older state, or one just created from final_schema). Run
 * by store_open inside its upgrade transaction. 0 or -1 with e filled. */
int final_upgrade(struct store *s, struct err *e);

/* The statements of store.c and store_files.c, on s's connection:
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
