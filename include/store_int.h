/* store_int: internal to the store layer (store.c, store_files.c; final.c,
 * final_read.c and final_doc.c, which own the tables of final periods and of their
 * documents; resume.c, which owns the tables of resume.h; ckpt.c, which
 * owns those of ckpt.h); nothing else
 * includes it but the store's own unit test.
 *
 * The state file is one SQLite database. store_sql.c holds the
 * connection and the SQL primitives (store_sql.h, included here); store.c
 * owns the lock, the transactions and the schema; store_files.c the
 * tables of usage files, batches and rejects; final.c the tables of final
 * periods (final.h). They meet only here. */
#ifndef STORE_INT_H
#define STORE_INT_H

#include <sqlite3.h>

#include "store.h"
#include "store_sql.h"

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

#endif
