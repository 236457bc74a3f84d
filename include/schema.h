/* schema: every table of the state file and every step that upgrades an
 * older state, in one place: the store's own (file, batch, reject,
 * file_log, written: store.h), those of final periods (final.h), of
 * checkpoints (ckpt.h), of output stamps (stamp.h) and of carries
 * (carry.h). Those modules own their tables and run every other
 * statement on them; only the CREATE and ALTER texts live here, so that
 * store_open makes and upgrades a state without naming them: they call
 * the store, and the store never calls them back. Internal to the store
 * layer: store.c includes it, nothing else.
 *
 * Invariants. The texts are part of the state format: SQLite keeps each
 * CREATE as written and appends each added column to it, so a table's
 * text never changes and the steps never change order; a new schema
 * version adds its step at the end of schema_upgrade. Each step adds
 * only what is missing (IF NOT EXISTS, a column only when the table
 * lacks it), so it runs on a new state and on any older one. Both
 * functions call only store_sql.h's primitives, inside the transaction
 * of their caller (store_open's upgrade), and commit nothing.
 *
 * Not here: final_doc.c's doc_* tables, which a close makes itself
 * (final_doc.h), and SQLite's user_version, which store.c sets. */
#ifndef SCHEMA_H
#define SCHEMA_H

#include "err.h"

struct store;

/* Makes the tables of a new state (version 0): the store's, then final
 * periods'. 0, or -1 with e filled. */
int schema_create(struct store *s, struct err *e);

/* Brings the tables to STORE_SCHEMA_VERSION: every step, in order,
 * adding what is missing (a new state gets its later tables here too).
 * 0, or -1 with e filled. */
int schema_upgrade(struct store *s, struct err *e);

#endif
