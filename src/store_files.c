/* store_files: the file registry of the state (store.h): usage files and
 * their states, their record batches and sorted keys, their rejects, the
 * log of file changes, and the record of every output file a close wrote.
 * The connection, the lock and the schema are store.c's; this file only
 * runs statements on them, through store_int.h. */
#include "store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "store_int.h"
#include "banned.h"

void store_file_release(struct store_file *f)
{
	free(f->path);
	free(f->error);
	memset(f, 0, sizeof(*f));
}

#define FILE_COLS "id, path, size, sha256, state, records, rejected, error," \
		  " ck_raw, ck_records, ck_seq"

static void read_file_row(sqlite3_stmt *st, struct store_file *f)
{
	const void *sha = sqlite3_column_blob(st, 3);

	memset(f, 0, sizeof(*f));
	f->id = sqlite3_column_int64(st, 0);
	f->path = xstrdup((const char *)sqlite3_column_text(st, 1));
	f->size = (uint64_t)sqlite3_column_int64(st, 2);
	if (sha && sqlite3_column_bytes(st, 3) == 32)
		memcpy(f->sha, sha, 32);
	f->state = (enum file_state)sqlite3_column_int(st, 4);
	f->records = (uint64_t)sqlite3_column_int64(st, 5);
	f->rejected = (uint64_t)sqlite3_column_int64(st, 6);
	f->error = xstrdup((const char *)sqlite3_column_text(st, 7));
	f->ck_raw = (uint64_t)sqlite3_column_int64(st, 8);
	f->ck_records = (uint64_t)sqlite3_column_int64(st, 9);
	f->ck_seq = sqlite3_column_int64(st, 10);
}

/* Runs a query expected to give at most one file row. */
static int one_file(struct store *s, sqlite3_stmt *st, struct store_file *out,
		    struct err *e)
{
	int rc = sqlite3_step(st), found = 0;

	if (rc == SQLITE_ROW) {
		read_file_row(st, out);
		found = 1;
	} else if (rc != SQLITE_DONE) {
		store_db_fail(s, e, "cannot read");
		found = -1;
	}
	sqlite3_finalize(st);
	return found;
}

/* The row of path, current (loading 0) or loading (1). */
static int file_by_path(struct store *s, const char *path, int loading,
			struct store_file *out, struct err *e)
{
	sqlite3_stmt *st = store_prep(s, loading ?
				"SELECT " FILE_COLS " FROM file"
				" WHERE path = ?1 AND state = 0" :
				"SELECT " FILE_COLS " FROM file"
				" WHERE path = ?1 AND state != 0", e);

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	return one_file(s, st, out, e);
}

int store_file_current(struct store *s, const char *path,
		       struct store_file *out, struct err *e)
{
	return file_by_path(s, path, 0, out, e);
}

int store_file_loading(struct store *s, const char *path,
		       struct store_file *out, struct err *e)
{
	return file_by_path(s, path, 1, out, e);
}

int store_paths_with_sha(struct store *s, const unsigned char sha[32],
			 const char *path, char ***paths, size_t *n,
			 struct err *e)
{
	sqlite3_stmt *st = store_prep(s, "SELECT path FROM file WHERE sha256 = ?1"
				" AND state != 0 AND path != ?2 ORDER BY path", e);
	int rc;

	*paths = NULL;
	*n = 0;
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, sha, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*paths = xrealloc(*paths, (*n + 1) * sizeof(**paths));
		(*paths)[(*n)++] = xstrdup((const char *)
					   sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(s, e, "cannot read"), -1;
	return 0;
}

int store_wal_pages(struct store *s, int pages, int *old, struct err *e)
{
	sqlite3_stmt *st = store_prep(s, "PRAGMA wal_autocheckpoint", e);
	char sql[64];
	int rc;

	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*old = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return store_db_fail(s, e, "cannot read"), -1;
	snprintf(sql, sizeof(sql), "PRAGMA wal_autocheckpoint=%d", pages);
	return store_exec(s, sql, e);
}

int store_spill_pages(struct store *s, int pages, struct err *e)
{
	char sql[64];

	/* SQLite also reads N as a boolean, by its low byte (its
	 * getSafetyLevel): 4096 would turn spilling off altogether */
	if (pages < 1)
		pages = 1;
	if ((pages & 0xff) == 0)
		pages++;
	snprintf(sql, sizeof(sql), "PRAGMA cache_spill=%d", pages);
	return store_exec(s, sql, e);
}

struct store_copier {
	sqlite3 *db;            /* its own connection, used on its thread */
	pthread_t thread;
	pthread_mutex_t mu;     /* guards kicked and stop */
	pthread_cond_t cv;
	int kicked, stop;
};

static void *copier_main(void *arg)
{
	struct store_copier *c = arg;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->kicked && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		/* a kick before the stop is served first */
		if (!c->kicked)
			break;
		c->kicked = 0;
		pthread_mutex_unlock(&c->mu);
		/* BUSY (another checkpoint runs) or an error: the next kick,
		 * or store_close, copies it */
		(void)sqlite3_wal_checkpoint_v2(c->db, "main",
						SQLITE_CHECKPOINT_PASSIVE,
						NULL, NULL);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

struct store_copier *store_copier_start(struct store *s)
{
	/* the path SQLite opened (absolute), checked to still name the
	 * locked state: no second connection to a file that replaced it
	 * (the run's next commit fails on that anyway). Were it replaced
	 * in the moment between the check and the open, the copier would
	 * checkpoint the other file, which changes nothing in it. */
	const char *path = sqlite3_db_filename(store_conn(s), "main");
	struct store_copier *c;
	struct err e = { 0 };

	if (!path || !*path || store_in_place(s, &e)) {
		err_clear(&e);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_db_config(c->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1,
			      NULL) != SQLITE_OK ||
	    /* a first read, so that the connection knows the state is in
	     * WAL mode (a checkpoint is a no-op until it does) */
	    sqlite3_exec(c->db, "SELECT count(*) FROM sqlite_master", NULL,
			 NULL, NULL) != SQLITE_OK) {
		sqlite3_close(c->db);
		free(c);
		return NULL;
	}
	sqlite3_busy_timeout(c->db, 0);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&c->thread, NULL, copier_main, c) != 0) {
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
		sqlite3_close(c->db);
		free(c);
		return NULL;
	}
	return c;
}

/* Sets *flag (c->kicked or c->stop) under c's lock and wakes the copier. */
static void copier_tell(struct store_copier *c, int *flag)
{
	pthread_mutex_lock(&c->mu);
	*flag = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

void store_copier_kick(struct store_copier *c)
{
	if (c)
		copier_tell(c, &c->kicked);
}

void store_copier_stop(struct store_copier *c)
{
	if (!c)
		return;
	copier_tell(c, &c->stop);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	sqlite3_close(c->db);
	free(c);
}

int store_size_known(struct store *s, uint64_t size, struct err *e)
{
	sqlite3_stmt *st = store_prep(s, "SELECT 1 FROM file WHERE size = ?1"
				      " LIMIT 1", e);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE)
		return store_db_fail(s, e, "cannot read"), -1;
	return 0;
}

int store_file_set_sha(struct store *s, int64_t id,
		       const unsigned char sha[32], struct err *e)
{
	sqlite3_stmt *st = store_prep(s, "UPDATE file SET sha256 = ?2"
				      " WHERE id = ?1", e);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_blob(st, 2, sha, 32, SQLITE_STATIC);
	return store_run(s, st, e);
}

int store_file_begin(struct store *s, const char *path, uint64_t size,
		     const unsigned char sha[32], int64_t *id, struct err *e)
{
	sqlite3_stmt *st;

	st = store_prep(s, "INSERT INTO file(path, size, sha256, state)"
		  " VALUES(?1, ?2, ?3, 0)", e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)size);
	sqlite3_bind_blob(st, 3, sha, 32, SQLITE_STATIC);
	if (store_run(s, st, e))
		return -1;
	*id = sqlite3_last_insert_rowid(store_conn(s));
	return 0;
}

int store_batch_put(struct store *s, int64_t id, int64_t seq, size_t nrec,
		    const void *data, size_t len, const uint64_t *keys,
		    int64_t min_ts, int64_t max_ts, struct err *e)
{
	sqlite3_stmt *st = store_prep(s, "INSERT INTO batch(file_id, seq, nrec, data,"
				" keys, min_ts, max_ts) VALUES(?1, ?2, ?3, ?4,"
				" ?5, ?6, ?7)", e);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, seq);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)nrec);
	sqlite3_bind_blob64(st, 4, data, len, SQLITE_STATIC);
	sqlite3_bind_blob64(st, 5, keys, nrec * sizeof(*keys), SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, min_ts);
	sqlite3_bind_int64(st, 7, max_ts);
	return store_run(s, st, e);
}

int store_batch_ids(struct store *s,
		    int (*fn)(void *ctx, const struct store_batch *b),
		    void *ctx, struct err *e)
{
	sqlite3_stmt *st = store_prep(s, "SELECT b.id, b.nrec, f.path, b.min_ts,"
				" b.max_ts FROM file f"
				" JOIN batch b ON b.file_id = f.id"
				" WHERE f.state = 1 ORDER BY f.path, b.seq", e);
	int rc, r = 0;

	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_batch b;

		b.id = sqlite3_column_int64(st, 0);
		b.nrec = (size_t)sqlite3_column_int64(st, 1);
		b.path = store_col_text(st, 2);
		b.ranged = sqlite3_column_type(st, 3) != SQLITE_NULL &&
			   sqlite3_column_type(st, 4) != SQLITE_NULL;
		b.min_ts = b.ranged ? sqlite3_column_int64(st, 3) : INT64_MIN;
		b.max_ts = b.ranged ? sqlite3_column_int64(st, 4) : INT64_MAX;
		r = fn(ctx, &b);
		if (r)
			break;
	}
	return store_rows_done(s, st, rc, r, e);
}

struct store_blob {
	sqlite3_blob *b;
};

struct store_blob *store_keys_open(struct store *s, int64_t id,
				   struct err *e)
{
	sqlite3_blob *b = NULL;
	struct store_blob *sb;

	if (sqlite3_blob_open(store_conn(s), "main", "batch", "keys", id, 0, &b) !=
	    SQLITE_OK) {
		sqlite3_blob_close(b);
		store_db_fail(s, e, "cannot read record keys");
		return NULL;
	}
	sb = xmalloc(sizeof(*sb));
	sb->b = b;
	return sb;
}

int store_blob_read(struct store_blob *b, void *buf, size_t n, size_t off)
{
	return sqlite3_blob_read(b->b, buf, (int)n, (int)off) == SQLITE_OK ?
	       0 : -1;
}

void store_blob_close(struct store_blob *b)
{
	if (!b)
		return;
	sqlite3_blob_close(b->b);
	free(b);
}

int store_reject_put(struct store *s, int64_t id, uint64_t line,
		     const char *record_id, size_t rid_len, const char *tenant,
		     size_t tenant_len, const char *reason, const int64_t *ts,
		     struct err *e)
{
	sqlite3_stmt *st = store_prep(s, "INSERT OR REPLACE INTO reject(file_id, line,"
				" record_id, tenant_id, reason, ts)"
				" VALUES(?1, ?2, ?3, ?4, ?5, ?6)", e);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)line);
	sqlite3_bind_text(st, 3, record_id, (int)rid_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, tenant, (int)tenant_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, reason, -1, SQLITE_STATIC);
	if (ts)
		sqlite3_bind_int64(st, 6, *ts);
	return store_run(s, st, e);
}

int store_checkpoint_point(struct store *s, int64_t id, const void *blob,
			   size_t n, struct err *e)
{
	sqlite3_stmt *st;
	int yes;

	if (store_has_column(s, "file", "ck_point", &yes, e))
		return -1;
	if (!yes)
		return 0;
	st = store_prep(s, "UPDATE file SET ck_point = ?2 WHERE id = ?1", e);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (blob)
		sqlite3_bind_blob(st, 2, blob, (int)n, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 2);
	return store_run(s, st, e);
}

int store_file_point(struct store *s, int64_t id, void **blob, size_t *n,
		     struct err *e)
{
	sqlite3_stmt *st;
	int yes, rc;

	*blob = NULL;
	*n = 0;
	if (store_has_column(s, "file", "ck_point", &yes, e))
		return -1;
	if (!yes)
		return 0;
	st = store_prep(s, "SELECT ck_point FROM file WHERE id = ?1", e);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_BLOB) {
		*n = (size_t)sqlite3_column_bytes(st, 0);
		*blob = xmalloc(*n ? *n : 1);
		memcpy(*blob, sqlite3_column_blob(st, 0), *n);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_fail(s, e, "cannot read"), -1;
	return 0;
}

int store_checkpoint(struct store *s, int64_t id, uint64_t raw,
		     uint64_t records, int64_t seq, struct err *e)
{
	sqlite3_stmt *st = store_prep(s, "UPDATE file SET ck_raw = ?2,"
				" ck_records = ?3, ck_seq = ?4 WHERE id = ?1", e);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)raw);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)records);
	sqlite3_bind_int64(st, 4, seq);
	return store_run(s, st, e);
}

/* Deletes the data of row id (batches, rejects), and the row if row. */
static int drop_data(struct store *s, int64_t id, int row, struct err *e)
{
	static const char *const sql[] = {
		"DELETE FROM batch WHERE file_id = ?1",
		"DELETE FROM reject WHERE file_id = ?1",
		"DELETE FROM file WHERE id = ?1",
	};
	size_t i;

	for (i = 0; i < (row ? 3u : 2u); i++) {
		sqlite3_stmt *st = store_prep(s, sql[i], e);

		if (!st)
			return -1;
		sqlite3_bind_int64(st, 1, id);
		if (store_run(s, st, e))
			return -1;
	}
	return 0;
}

int store_file_drop(struct store *s, int64_t id, struct err *e)
{
	return drop_data(s, id, 1, e);
}

int store_file_earliest(struct store *s, int64_t id, int64_t ts,
			struct err *e)
{
	sqlite3_stmt *st = store_prep(s, "UPDATE file SET earliest ="
				" min(coalesce(earliest, ?2), ?2) WHERE id = ?1",
				e);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, ts);
	return store_run(s, st, e);
}

/* The earliest record instant of the rows it names, as the log keeps
 * it: a row with records but no earliest (ingested by a state before
 * version 3) counts as earlier than everything. */
#define ROW_EARLIEST "CASE WHEN records > 0 AND earliest IS NULL" \
		     " THEN -9223372036854775807 ELSE earliest END"

/* Logs a change of a file's records: the new row id (its records gone
 * when dropped) and the current row it replaces (old, -1 for none). */
static int log_change(struct store *s, int64_t id, int64_t old, int dropped,
		      struct err *e)
{
	sqlite3_stmt *st = store_prep(s, "INSERT INTO file_log(path, earliest)"
				" SELECT coalesce((SELECT path FROM file WHERE"
				" id = ?1), (SELECT path FROM file WHERE"
				" id = ?2)), min(e) FROM (SELECT " ROW_EARLIEST
				" AS e FROM file WHERE (id = ?2 AND state = 1)"
				" OR (id = ?1 AND ?3 = 0))", e);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, old);
	sqlite3_bind_int(st, 3, dropped);
	return store_run(s, st, e);
}

int store_earliest(struct store *s, int64_t *ts, int *have, struct err *e)
{
	sqlite3_stmt *st = store_prep(s, "SELECT min(" ROW_EARLIEST ") FROM file"
				" WHERE state = 1 AND records > 0", e);
	int rc;

	*have = 0;
	*ts = 0;
	if (!st)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*have = 1;
		*ts = sqlite3_column_int64(st, 0);
	}
	return store_rows_done(s, st, rc == SQLITE_ROW ? SQLITE_DONE : rc, 0, e);
}

int store_unplaced(struct store *s, uint64_t *n, struct err *e)
{
	sqlite3_stmt *st;
	int rc, placed;

	*n = 0;
	if (store_has_column(s, "reject", "ts", &placed, e))
		return -1;
	st = store_prep(s, placed ? "SELECT count(*) FROM reject r JOIN file f ON"
		  " f.id = r.file_id WHERE f.state = 1 AND r.ts IS NULL" :
		  "SELECT count(*) FROM reject r JOIN file f ON"
		  " f.id = r.file_id WHERE f.state = 1", e);
	if (!st)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*n = (uint64_t)sqlite3_column_int64(st, 0);
	return store_rows_done(s, st, rc == SQLITE_ROW ? SQLITE_DONE : rc, 0, e);
}

int store_log_seq(struct store *s, int64_t *seq, struct err *e)
{
	sqlite3_stmt *st = store_prep(s, "SELECT coalesce(max(seq), 0)"
				" FROM file_log", e);
	int rc;

	*seq = 0;
	if (!st)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*seq = sqlite3_column_int64(st, 0);
	return store_rows_done(s, st, rc == SQLITE_ROW ? SQLITE_DONE : rc, 0, e);
}

int store_written_put(struct store *s, int p, const char *name,
		      const unsigned char sha[32], struct err *e)
{
	sqlite3_stmt *st = store_prep(s, "INSERT OR IGNORE INTO written(period,"
				" name, sha256) VALUES(?1, ?2, ?3)", e);

	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, p);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, sha, 32, SQLITE_STATIC);
	return store_run(s, st, e);
}

int store_written_has(struct store *s, int p, const char *name,
		      const unsigned char *sha, struct err *e)
{
	sqlite3_stmt *st = store_prep(s, sha ?
				"SELECT count(*) FROM written WHERE period = ?1"
				" AND name = ?2 AND sha256 = ?3" :
				"SELECT count(*) FROM written WHERE period = ?1",
				e);
	int rc, n = 0;

	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, p);
	if (sha) {
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, sha, 32, SQLITE_STATIC);
	}
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	if (store_rows_done(s, st, rc == SQLITE_ROW ? SQLITE_DONE : rc, 0, e))
		return -1;
	return n > 0;
}

int store_file_finish(struct store *s, int64_t id, enum file_state state,
		      const char *error, struct err *e)
{
	sqlite3_stmt *st;
	int64_t old = -1;
	int rc;

	st = store_prep(s, "SELECT b.id FROM file a JOIN file b ON a.path = b.path"
		  " WHERE a.id = ?1 AND b.state != 0", e);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		old = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_fail(s, e, "cannot read"), -1;
	/* the change touches the periods of the old records and the new */
	if (log_change(s, id, old, state == FILE_FAILED, e))
		return -1;
	if (old >= 0 && drop_data(s, old, 1, e))
		return -1;
	if (state == FILE_FAILED && drop_data(s, id, 0, e))
		return -1;
	st = store_prep(s, "UPDATE file SET state = ?2, error = ?3,"
		  " earliest = CASE WHEN ?2 = 2 THEN NULL ELSE earliest END,"
		  " records = (SELECT coalesce(sum(nrec), 0) FROM batch"
		  "   WHERE file_id = ?1),"
		  " rejected = (SELECT count(*) FROM reject WHERE file_id = ?1),"
		  " ck_raw = 0, ck_records = 0, ck_seq = 0 WHERE id = ?1", e);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, (int)state);
	sqlite3_bind_text(st, 3, error ? error : "", -1, SQLITE_STATIC);
	return store_run(s, st, e);
}

int store_file_forget(struct store *s, const char *path, struct err *e)
{
	sqlite3_stmt *st = store_prep(s, "SELECT id FROM file WHERE path = ?1", e);
	int64_t ids[2];
	int n = 0, rc, i;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 2)
		ids[n++] = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_db_fail(s, e, "cannot read"), -1;
	for (i = 0; i < n; i++)
		if (log_change(s, -1, ids[i], 1, e) ||
		    drop_data(s, ids[i], 1, e))
			return -1;
	return n > 0;
}

int store_files(struct store *s,
		int (*fn)(void *ctx, const struct store_file *f), void *ctx,
		struct err *e)
{
	sqlite3_stmt *st = store_prep(s, "SELECT " FILE_COLS " FROM file"
				" ORDER BY path, state", e);
	struct store_file f;
	int rc, r = 0;

	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_file_row(st, &f);
		r = fn(ctx, &f);
		store_file_release(&f);
		if (r)
			break;
	}
	return store_rows_done(s, st, rc, r, e);
}

int store_batch_range(struct store *s, int64_t id, int64_t min_ts,
		      int64_t max_ts, struct err *e)
{
	sqlite3_stmt *st = store_prep(s, "UPDATE batch SET min_ts = ?2,"
				" max_ts = ?3 WHERE id = ?1 AND (min_ts IS NULL"
				" OR max_ts IS NULL)", e);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, min_ts);
	sqlite3_bind_int64(st, 3, max_ts);
	return store_run(s, st, e);
}

int store_batches(struct store *s, int64_t from,
		  int (*fn)(void *ctx, const struct store_batch *b,
			    const void *data, size_t len),
		  void *ctx, struct err *e)
{
	/* file by file, each by its (file_id, seq) index: one query with
	 * ORDER BY path, seq made SQLite sort the blobs themselves (84 MB of
	 * sorter memory for 1 M records) */
	sqlite3_stmt *fs = store_prep(s, "SELECT id, path FROM file WHERE state = 1"
				" ORDER BY path", e);
	sqlite3_stmt *bs = store_prep(s, "SELECT data, id, nrec, min_ts, max_ts"
				" FROM batch WHERE file_id = ?1"
				" AND (max_ts IS NULL OR max_ts >= ?2)"
				" ORDER BY seq", e);
	int rc = SQLITE_DONE, brc, r = 0;

	if (!fs || !bs) {
		sqlite3_finalize(fs);
		sqlite3_finalize(bs);
		return -1;
	}
	while (!r && (rc = sqlite3_step(fs)) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(fs, 1);

		sqlite3_reset(bs);
		sqlite3_bind_int64(bs, 1, sqlite3_column_int64(fs, 0));
		sqlite3_bind_int64(bs, 2, from);
		while ((brc = sqlite3_step(bs)) == SQLITE_ROW) {
			struct store_batch b;

			b.id = sqlite3_column_int64(bs, 1);
			b.nrec = (size_t)sqlite3_column_int64(bs, 2);
			b.path = path;
			b.ranged = sqlite3_column_type(bs, 3) != SQLITE_NULL &&
				   sqlite3_column_type(bs, 4) != SQLITE_NULL;
			b.min_ts = b.ranged ? sqlite3_column_int64(bs, 3) :
					      INT64_MIN;
			b.max_ts = b.ranged ? sqlite3_column_int64(bs, 4) :
					      INT64_MAX;
			r = fn(ctx, &b, sqlite3_column_blob(bs, 0),
			       (size_t)sqlite3_column_bytes(bs, 0));
			if (r)
				break;
		}
		if (!r && brc != SQLITE_DONE) {
			rc = brc;
			break;
		}
	}
	sqlite3_finalize(bs);
	return store_rows_done(s, fs, rc, r, e);
}

int store_rejects(struct store *s,
		  int (*fn)(void *ctx, const char *path, uint64_t line,
			    const char *record_id, const char *tenant,
			    const char *reason, const int64_t *ts),
		  void *ctx, struct err *e)
{
	sqlite3_stmt *st = store_prep(s, "SELECT f.path, r.line, r.record_id,"
				" r.tenant_id, r.reason, r.ts FROM file f"
				" JOIN reject r ON r.file_id = f.id"
				" WHERE f.state = 1 ORDER BY f.path, r.line", e);
	int rc, r = 0;

	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t ts = sqlite3_column_int64(st, 5);
		int has = sqlite3_column_type(st, 5) != SQLITE_NULL;

		r = fn(ctx, (const char *)sqlite3_column_text(st, 0),
		       (uint64_t)sqlite3_column_int64(st, 1),
		       (const char *)sqlite3_column_text(st, 2),
		       (const char *)sqlite3_column_text(st, 3),
		       (const char *)sqlite3_column_text(st, 4),
		       has ? &ts : NULL);
		if (r)
			break;
	}
	return store_rows_done(s, st, rc, r, e);
}
