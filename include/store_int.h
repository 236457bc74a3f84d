/* store_int: internal to the store layer (store.c, store_files.c; final.c,
 * final_read.c and final_doc.c, which own the tables of final periods and of their
 * documents; resume.c, which owns the tables of resume.h; ckpt.c, stamp.c
 * and carry.c, which own those of ckpt.h, stamp.h and carry.h); nothing
 * else includes it but the store's own unit test.
 *
 * The state file is one SQLite database. store_sql.c holds the
 * connection and the SQL primitives (store_sql.h, included here); store.c
 * owns the lock and the transactions; schema.c every table's CREATE and
 * upgrade step (schema.h, store.c's alone); store_files.c the
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

#endif
