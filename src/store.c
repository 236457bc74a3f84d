/* store: the SQLite state file. */
#include "store.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "store_int.h"
#include "banned.h"

struct store {
	sqlite3 *db;
	int lockfd;
	int walfd;      /* flock on PATH-wal too: see lock_wal */
	char *path;
	int version;    /* the file's schema version once open */
};

static const char *schema =
	"CREATE TABLE IF NOT EXISTS file("
	"  id INTEGER PRIMARY KEY,"
	"  path TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  sha256 BLOB NOT NULL,"
	"  state INTEGER NOT NULL,"       /* enum file_state */
	"  records INTEGER NOT NULL DEFAULT 0,"
	"  rejected INTEGER NOT NULL DEFAULT 0,"
	"  error TEXT NOT NULL DEFAULT '',"
	"  ck_raw INTEGER NOT NULL DEFAULT 0,"
	"  ck_records INTEGER NOT NULL DEFAULT 0,"
	"  ck_seq INTEGER NOT NULL DEFAULT 0);"
	/* at most one current and one loading row per path */
	"CREATE UNIQUE INDEX IF NOT EXISTS file_current ON file(path)"
	"  WHERE state != 0;"
	"CREATE UNIQUE INDEX IF NOT EXISTS file_loading ON file(path)"
	"  WHERE state = 0;"
	"CREATE INDEX IF NOT EXISTS file_sha ON file(sha256);"
	/* a rowid table, so rating can stream a batch's keys with
	 * sqlite3_blob_read */
	"CREATE TABLE IF NOT EXISTS batch("
	"  id INTEGER PRIMARY KEY,"
	"  file_id INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  nrec INTEGER NOT NULL,"
	"  data BLOB NOT NULL,"
	"  keys BLOB NOT NULL);"            /* sorted uint64, host order */
	"CREATE UNIQUE INDEX IF NOT EXISTS batch_seq ON batch(file_id, seq);"
	"CREATE TABLE IF NOT EXISTS reject("
	"  file_id INTEGER NOT NULL,"
	"  line INTEGER NOT NULL,"
	"  record_id TEXT NOT NULL,"
	"  tenant_id TEXT NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  PRIMARY KEY(file_id, line)) WITHOUT ROWID;";

static int db_fail(struct store *s, struct err *e, const char *what)
{
	return err_set(e, ST_ERROR, "%s in state file '%s': %s", what,
		       s->path, sqlite3_errmsg(s->db));
}

static int exec(struct store *s, const char *sql, struct err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, ST_ERROR, "cannot update state file '%s': %s",
			s->path, msg ? msg : "unknown error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static sqlite3_stmt *prep(struct store *s, const char *sql, struct err *e)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_fail(s, e, "cannot prepare query");
		return NULL;
	}
	return st;
}

/* Steps a statement that returns no rows, then finalizes it. */
static int run(struct store *s, sqlite3_stmt *st, struct err *e)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		db_fail(s, e, "cannot write");
		return -1;
	}
	return 0;
}

/* Ends a row loop: finalizes st; the callback's non-zero r, a step error
 * (rc not SQLITE_DONE), or 0. */
static int rows_done(struct store *s, sqlite3_stmt *st, int rc, int r,
		     struct err *e)
{
	sqlite3_finalize(st);
	if (r)
		return r;
	if (rc != SQLITE_DONE)
		return db_fail(s, e, "cannot read"), -1;
	return 0;
}

/* A state with two names is refused: the flock is the inode's, but
 * SQLite finds its journal (PATH-wal) by the name it was opened with, so
 * work committed under one name vanishes under the other. */
static int links_fail(const char *path, unsigned long n, struct err *e)
{
	return err_set(e, ST_ERROR, "state file '%s' has %lu links (hard "
		       "links): settle refuses it, since SQLite finds its "
		       "journal by name and work committed under one name "
		       "can vanish under another; keep one name and remove "
		       "the others", path, n), -1;
}

/* 0 when path still names the locked file and it has one name; checked
 * before every commit, so that a state deleted or replaced under a run
 * fails the run instead of taking work no one will see. */
static int state_in_place(struct store *s, struct err *e)
{
	struct stat held, now;

	if (s->lockfd < 0)
		return 0;
	if (fstat(s->lockfd, &held) != 0)
		return err_set(e, ST_ERROR, "cannot read state file '%s': %s",
			       s->path, strerror(errno)), -1;
	if (stat(s->path, &now) != 0 || now.st_dev != held.st_dev ||
	    now.st_ino != held.st_ino)
		return err_set(e, ST_ERROR, "state file '%s' was deleted or "
			       "replaced while settle ran: nothing more is "
			       "written to it (this step was not committed; "
			       "what was committed before is in the file that "
			       "was at that path)", s->path), -1;
	if (held.st_nlink > 1)
		return links_fail(s->path, (unsigned long)held.st_nlink, e);
	return 0;
}

/* Locks PATH-wal when it exists. A run whose state path was deleted (or
 * replaced) keeps its journal by that name; a second run on the path
 * makes a new file, whose flock is free, and would then share the old
 * run's journal: this lock refuses it (exit 4) instead. Returns the fd,
 * -1 when there is no journal to lock (or it cannot be opened), -2 with
 * e filled when another run holds it. */
static int lock_wal(const char *path, struct err *e)
{
	size_t n = strlen(path);
	char *wal = xmalloc(n + 5);
	int fd;

	memcpy(wal, path, n);
	memcpy(wal + n, "-wal", 5);
	fd = open(wal, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	free(wal);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int busy = errno == EWOULDBLOCK;

		close(fd);
		if (!busy)
			return -1;
		err_set(e, ST_BUSY, "state file '%s' is in use by another run",
			path);
		return -2;
	}
	return fd;
}

static int lock_file(const char *path, struct err *e)
{
	struct stat sb;

	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		err_set(e, ST_ERROR, "cannot open state file '%s': %s", path,
			strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int busy = errno == EWOULDBLOCK;

		close(fd);
		if (busy)
			err_set(e, ST_BUSY,
				"state file '%s' is in use by another run",
				path);
		else
			err_set(e, ST_ERROR, "cannot lock state file '%s': %s",
				path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == 0 && sb.st_nlink > 1) {
		close(fd);
		return links_fail(path, (unsigned long)sb.st_nlink, e);
	}
	return fd;
}

int store_has_column(struct store *s, const char *table, const char *col,
		     int *yes, struct err *e)
{
	sqlite3_stmt *st = prep(s, "SELECT count(*) FROM pragma_table_info(?1)"
				" WHERE name = ?2", e);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, col, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*yes = rc == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return db_fail(s, e, "cannot read"), -1;
	return 0;
}

/* Adds a column unless the table has it already. */
static int add_column(struct store *s, const char *t, const char *c,
		      const char *decl, struct err *e)
{
	char sql[256];
	int yes;

	if (store_has_column(s, t, c, &yes, e))
		return -1;
	if (yes)
		return 0;
	snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN %s %s", t, c,
		 decl);
	return exec(s, sql, e);
}

/* Version 3: the instant of a reject's ts cell, NULL when it has none
 * (or the reject was stored by an older settle, which did not keep it). */
static int upgrade_rejects_ts(struct store *s, struct err *e)
{
	return add_column(s, "reject", "ts", "INTEGER", e);
}

/* Version 3, the close guards' part (store.h): each file's earliest
 * record instant, the log of file changes, the record of every output
 * file version a close wrote, and what a period remembers of its last
 * close. Adds only what is missing, so it runs on any older state. */
static int upgrade_guards(struct store *s, struct err *e)
{
	return add_column(s, "file", "earliest", "INTEGER", e) ||
	       exec(s, "CREATE TABLE IF NOT EXISTS file_log("
		    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
		    "  path TEXT NOT NULL,"
		    "  earliest INTEGER);"  /* NULL: the change held no record */
		    "CREATE TABLE IF NOT EXISTS written("
		    "  period INTEGER NOT NULL,"
		    "  name TEXT NOT NULL,"
		    "  sha256 BLOB NOT NULL,"
		    "  PRIMARY KEY(period, name, sha256)) WITHOUT ROWID;", e) ||
	       add_column(s, "period", "log_seq", "INTEGER", e) ||
	       add_column(s, "period", "as_of", "INTEGER", e);
}

/* Brings a state of an older version (0: a new one) to this one, in one
 * transaction. Each part's additions are a function of their own. */
static int upgrade(struct store *s, struct err *e)
{
	char sql[64];

	if (exec(s, "BEGIN IMMEDIATE", e))
		return -1;
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d",
		 STORE_SCHEMA_VERSION);
	if ((s->version == 0 &&
	     (exec(s, schema, e) || exec(s, final_schema, e))) ||
	    upgrade_guards(s, e) || upgrade_rejects_ts(s, e) ||
	    final_upgrade(s, e) || exec(s, sql, e) || store_commit(s, e)) {
		store_rollback(s);
		return -1;
	}
	s->version = STORE_SCHEMA_VERSION;
	return 0;
}

/* Reads the file's schema version into s->version. */
static int read_version(struct store *s, const char *path, struct err *e)
{
	sqlite3_stmt *st = prep(s, "PRAGMA user_version", e);

	if (!st)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		int code = sqlite3_errcode(s->db);

		sqlite3_finalize(st);
		if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
			err_set(e, ST_ERROR, "'%s' is not a settle state file: "
				"%s", path, sqlite3_errmsg(s->db));
		else
			err_set(e, ST_ERROR, "cannot open state file '%s': %s",
				path, sqlite3_errmsg(s->db));
		return -1;
	}
	s->version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (s->version > STORE_SCHEMA_VERSION)
		return err_set(e, ST_ERROR, "state file '%s' has schema "
			       "version %d, newer than this settle's %d", path,
			       s->version, STORE_SCHEMA_VERSION), -1;
	return 0;
}

/* Opens without the lock: a reader beside a run (store.h). Read-write
 * at SQLite's level (query_only keeps it from writing) so that, when it
 * is the last connection, closing it removes the -wal and -shm files a
 * read-only connection would leave behind; SQLite itself opens a file it
 * may not write read-only. */
/* 1 when SQLite may read path as immutable (no locks, no -shm): in a
 * folder this process may not write, SQLite cannot make the -shm file
 * that reading a WAL state needs, and fails at the first read. When no
 * -wal file is beside the state either, no run can be writing it (a
 * writer makes that file first), so the state as it is on disk is
 * the snapshot. */
static int may_read_immutable(struct store *s, const char *path)
{
	int code = sqlite3_extended_errcode(s->db) & 0xff;
	char wal[4096];
	struct stat sb;

	if (code != SQLITE_READONLY && code != SQLITE_CANTOPEN)
		return 0;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	return stat(wal, &sb) != 0 && errno == ENOENT;
}

/* Opens path with SQLite's immutable=1 (a URI: the path's bytes other
 * than letters, digits and "/._-" percent-encoded). */
static int open_immutable(struct store *s, const char *path, struct err *e)
{
	size_t n = strlen(path), i, k = 5, cap = n * 3 + 32;
	char *uri = xmalloc(cap);
	int rc;

	memcpy(uri, "file:", 5);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)path[i];

		if (isalnum(ch) || strchr("/._-", ch))
			uri[k++] = (char)ch;
		else
			k += (size_t)snprintf(uri + k, cap - k, "%%%02X", ch);
	}
	snprintf(uri + k, cap - k, "?immutable=1");
	sqlite3_close(s->db);
	s->db = NULL;
	rc = sqlite3_open_v2(uri, &s->db, SQLITE_OPEN_READONLY |
			     SQLITE_OPEN_URI, NULL);
	free(uri);
	if (rc != SQLITE_OK)
		return db_fail(s, e, "cannot open"), -1;
	return read_version(s, path, e);
}

static int open_read(struct store *s, const char *path, struct err *e)
{
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK)
		return db_fail(s, e, "cannot open"), -1;
	if (exec(s, "PRAGMA query_only=1", e))
		return -1;
	/* a run may hold SQLite's write lock for a moment at a checkpoint */
	sqlite3_busy_timeout(s->db, 5000);
	if (read_version(s, path, e)) {
		if (!may_read_immutable(s, path))
			return -1;
		err_clear(e);
		if (open_immutable(s, path, e))
			return -1;
	}
	if (s->version == 0)
		return err_set(e, ST_ERROR, "'%s' is not a settle state file: "
			       "it holds no settle tables", path), -1;
	return 0;
}

struct store *store_open(const char *path, enum store_mode mode,
			 struct err *e)
{
	struct store *s = xcalloc(1, sizeof(*s));
	struct stat sb;

	s->path = xstrdup(path);
	s->lockfd = -1;
	s->walfd = -1;
	if (mode != STORE_CREATE && stat(path, &sb) != 0 && errno == ENOENT) {
		err_set(e, ST_ERROR, "no state file '%s' (settle ingest "
			"creates one)", path);
		goto fail;
	}
	if (mode == STORE_READ) {
		if (open_read(s, path, e))
			goto fail;
		return s;
	}
	s->lockfd = lock_file(path, e);
	if (s->lockfd < 0 || (s->walfd = lock_wal(path, e)) == -2)
		goto fail;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		db_fail(s, e, "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 0);
	if (read_version(s, path, e))
		goto fail;
	if (exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
		 "PRAGMA foreign_keys=OFF;", e))
		goto fail;
	/* the journal exists now; and the path must still be the file
	 * locked (not replaced between the lock and SQLite's open) */
	if ((s->walfd < 0 && (s->walfd = lock_wal(path, e)) == -2) ||
	    state_in_place(s, e))
		goto fail;
	if (s->version < STORE_SCHEMA_VERSION && upgrade(s, e))
		goto fail;
	return s;
fail:
	store_close(s);
	return NULL;
}

int store_dry_writes(struct store *s, struct err *e)
{
	return exec(s, "PRAGMA query_only=0", e);
}

int store_schema(const struct store *s)
{
	return s->version;
}

int store_snapshot(struct store *s, struct err *e)
{
	/* a deferred transaction takes its snapshot at the first read */
	return exec(s, "BEGIN; SELECT count(*) FROM sqlite_master", e);
}

void store_close(struct store *s)
{
	if (!s)
		return;
	if (s->db)
		sqlite3_close(s->db);
	if (s->walfd >= 0)
		close(s->walfd);
	if (s->lockfd >= 0)
		close(s->lockfd);
	free(s->path);
	free(s);
}

struct sqlite3 *store_conn(struct store *s)
{
	return s->db;
}

int store_begin(struct store *s, struct err *e)
{
	return exec(s, "BEGIN IMMEDIATE", e);
}

int store_commit(struct store *s, struct err *e)
{
	if (state_in_place(s, e))
		return -1;
	return exec(s, "COMMIT", e);
}

void store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

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
		db_fail(s, e, "cannot read");
		found = -1;
	}
	sqlite3_finalize(st);
	return found;
}

/* The row of path, current (loading 0) or loading (1). */
static int file_by_path(struct store *s, const char *path, int loading,
			struct store_file *out, struct err *e)
{
	sqlite3_stmt *st = prep(s, loading ?
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
	sqlite3_stmt *st = prep(s, "SELECT path FROM file WHERE sha256 = ?1"
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
		return db_fail(s, e, "cannot read"), -1;
	return 0;
}

int store_file_begin(struct store *s, const char *path, uint64_t size,
		     const unsigned char sha[32], int64_t *id, struct err *e)
{
	sqlite3_stmt *st;

	st = prep(s, "INSERT INTO file(path, size, sha256, state)"
		  " VALUES(?1, ?2, ?3, 0)", e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)size);
	sqlite3_bind_blob(st, 3, sha, 32, SQLITE_STATIC);
	if (run(s, st, e))
		return -1;
	*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int store_batch_put(struct store *s, int64_t id, int64_t seq, size_t nrec,
		    const void *data, size_t len, const uint64_t *keys,
		    struct err *e)
{
	sqlite3_stmt *st = prep(s, "INSERT INTO batch(file_id, seq, nrec, data,"
				" keys) VALUES(?1, ?2, ?3, ?4, ?5)", e);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, seq);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)nrec);
	sqlite3_bind_blob64(st, 4, data, len, SQLITE_STATIC);
	sqlite3_bind_blob64(st, 5, keys, nrec * sizeof(*keys), SQLITE_STATIC);
	return run(s, st, e);
}

int store_batch_ids(struct store *s,
		    int (*fn)(void *ctx, int64_t id, size_t nrec), void *ctx,
		    struct err *e)
{
	sqlite3_stmt *st = prep(s, "SELECT b.id, b.nrec FROM file f"
				" JOIN batch b ON b.file_id = f.id"
				" WHERE f.state = 1 ORDER BY f.path, b.seq", e);
	int rc, r = 0;

	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = fn(ctx, sqlite3_column_int64(st, 0),
		       (size_t)sqlite3_column_int64(st, 1));
		if (r)
			break;
	}
	return rows_done(s, st, rc, r, e);
}

struct store_blob {
	sqlite3_blob *b;
};

struct store_blob *store_keys_open(struct store *s, int64_t id,
				   struct err *e)
{
	sqlite3_blob *b = NULL;
	struct store_blob *sb;

	if (sqlite3_blob_open(s->db, "main", "batch", "keys", id, 0, &b) !=
	    SQLITE_OK) {
		sqlite3_blob_close(b);
		db_fail(s, e, "cannot read record keys");
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
	sqlite3_stmt *st = prep(s, "INSERT OR REPLACE INTO reject(file_id, line,"
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
	return run(s, st, e);
}

int store_checkpoint(struct store *s, int64_t id, uint64_t raw,
		     uint64_t records, int64_t seq, struct err *e)
{
	sqlite3_stmt *st = prep(s, "UPDATE file SET ck_raw = ?2,"
				" ck_records = ?3, ck_seq = ?4 WHERE id = ?1", e);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)raw);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)records);
	sqlite3_bind_int64(st, 4, seq);
	return run(s, st, e);
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
		sqlite3_stmt *st = prep(s, sql[i], e);

		if (!st)
			return -1;
		sqlite3_bind_int64(st, 1, id);
		if (run(s, st, e))
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
	sqlite3_stmt *st = prep(s, "UPDATE file SET earliest ="
				" min(coalesce(earliest, ?2), ?2) WHERE id = ?1",
				e);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, ts);
	return run(s, st, e);
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
	sqlite3_stmt *st = prep(s, "INSERT INTO file_log(path, earliest)"
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
	return run(s, st, e);
}

int store_earliest(struct store *s, int64_t *ts, int *have, struct err *e)
{
	sqlite3_stmt *st = prep(s, "SELECT min(" ROW_EARLIEST ") FROM file"
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
	return rows_done(s, st, rc == SQLITE_ROW ? SQLITE_DONE : rc, 0, e);
}

int store_unplaced(struct store *s, uint64_t *n, struct err *e)
{
	sqlite3_stmt *st;
	int rc, placed;

	*n = 0;
	if (store_has_column(s, "reject", "ts", &placed, e))
		return -1;
	st = prep(s, placed ? "SELECT count(*) FROM reject r JOIN file f ON"
		  " f.id = r.file_id WHERE f.state = 1 AND r.ts IS NULL" :
		  "SELECT count(*) FROM reject r JOIN file f ON"
		  " f.id = r.file_id WHERE f.state = 1", e);
	if (!st)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*n = (uint64_t)sqlite3_column_int64(st, 0);
	return rows_done(s, st, rc == SQLITE_ROW ? SQLITE_DONE : rc, 0, e);
}

int store_log_seq(struct store *s, int64_t *seq, struct err *e)
{
	sqlite3_stmt *st = prep(s, "SELECT coalesce(max(seq), 0)"
				" FROM file_log", e);
	int rc;

	*seq = 0;
	if (!st)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*seq = sqlite3_column_int64(st, 0);
	return rows_done(s, st, rc == SQLITE_ROW ? SQLITE_DONE : rc, 0, e);
}

int store_written_put(struct store *s, int p, const char *name,
		      const unsigned char sha[32], struct err *e)
{
	sqlite3_stmt *st = prep(s, "INSERT OR IGNORE INTO written(period,"
				" name, sha256) VALUES(?1, ?2, ?3)", e);

	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, p);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, sha, 32, SQLITE_STATIC);
	return run(s, st, e);
}

int store_written_has(struct store *s, int p, const char *name,
		      const unsigned char *sha, struct err *e)
{
	sqlite3_stmt *st = prep(s, sha ?
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
	if (rows_done(s, st, rc == SQLITE_ROW ? SQLITE_DONE : rc, 0, e))
		return -1;
	return n > 0;
}

int store_file_finish(struct store *s, int64_t id, enum file_state state,
		      const char *error, struct err *e)
{
	sqlite3_stmt *st;
	int64_t old = -1;
	int rc;

	st = prep(s, "SELECT b.id FROM file a JOIN file b ON a.path = b.path"
		  " WHERE a.id = ?1 AND b.state != 0", e);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		old = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(s, e, "cannot read"), -1;
	/* the change touches the periods of the old records and the new */
	if (log_change(s, id, old, state == FILE_FAILED, e))
		return -1;
	if (old >= 0 && drop_data(s, old, 1, e))
		return -1;
	if (state == FILE_FAILED && drop_data(s, id, 0, e))
		return -1;
	st = prep(s, "UPDATE file SET state = ?2, error = ?3,"
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
	return run(s, st, e);
}

int store_file_forget(struct store *s, const char *path, struct err *e)
{
	sqlite3_stmt *st = prep(s, "SELECT id FROM file WHERE path = ?1", e);
	int64_t ids[2];
	int n = 0, rc, i;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 2)
		ids[n++] = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_fail(s, e, "cannot read"), -1;
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
	sqlite3_stmt *st = prep(s, "SELECT " FILE_COLS " FROM file"
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
	return rows_done(s, st, rc, r, e);
}

int store_batches(struct store *s,
		  int (*fn)(void *ctx, const char *path, const void *data,
			    size_t len),
		  void *ctx, struct err *e)
{
	/* file by file, each by its (file_id, seq) index: one query with
	 * ORDER BY path, seq made SQLite sort the blobs themselves (84 MB of
	 * sorter memory for 1 M records) */
	sqlite3_stmt *fs = prep(s, "SELECT id, path FROM file WHERE state = 1"
				" ORDER BY path", e);
	sqlite3_stmt *bs = prep(s, "SELECT data FROM batch WHERE file_id = ?1"
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
		while ((brc = sqlite3_step(bs)) == SQLITE_ROW) {
			r = fn(ctx, path, sqlite3_column_blob(bs, 0),
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
	sqlite3_finalize(fs);
	if (r)
		return r;
	if (rc != SQLITE_DONE)
		return db_fail(s, e, "cannot read"), -1;
	return 0;
}

int store_rejects(struct store *s,
		  int (*fn)(void *ctx, const char *path, uint64_t line,
			    const char *record_id, const char *tenant,
			    const char *reason, const int64_t *ts),
		  void *ctx, struct err *e)
{
	sqlite3_stmt *st = prep(s, "SELECT f.path, r.line, r.record_id,"
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
	return rows_done(s, st, rc, r, e);
}
