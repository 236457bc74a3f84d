/* store: the SQLite state file: opening, the lock and transactions (its
 * tables: schema.c; the connection and its primitives: store_sql.c). */
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
#include "schema.h"
#include "store_int.h"
#include "banned.h"

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

/* flock(op | LOCK_NB) on path: LOCK_EX for a run, which holds it from
 * open to close (the file created when missing); LOCK_SH for STORE_PEEK,
 * taken only when no run holds the state, so the glance never meets a
 * writer stopped halfway, whose WAL index SQLite's reader would retry for
 * up to ~10 s whatever the busy timeout (walTryBeginRead's WAL_RETRY
 * sleeps); a run starting during the glance finds the lock taken and
 * exits 4, as beside any other run. Returns the fd, or -1 with e filled
 * (ST_BUSY when another holds the lock). */
static int lock_file(const char *path, int op, struct err *e)
{
	struct stat sb;

	int fd = op == LOCK_SH ? open(path, O_RDONLY | O_CLOEXEC) :
		 open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		err_set(e, ST_ERROR, "cannot open state file '%s': %s", path,
			strerror(errno));
		return -1;
	}
	if (flock(fd, op | LOCK_NB) != 0) {
		int err = errno, busy = err == EWOULDBLOCK;

		close(fd);
		if (busy)
			err_set(e, ST_BUSY,
				"state file '%s' is in use by another run",
				path);
		else
			err_set(e, ST_ERROR, "cannot lock state file '%s': %s",
				path, strerror(err));
		return -1;
	}
	if (fstat(fd, &sb) == 0 && sb.st_nlink > 1) {
		close(fd);
		return links_fail(path, (unsigned long)sb.st_nlink, e);
	}
	return fd;
}

/* Brings a state of an older version (0: a new one) to this one, in one
 * transaction. Each part's additions are a function of their own, in
 * schema.c. */
static int upgrade(struct store *s, struct err *e)
{
	char sql[64];

	if (store_exec(s, "BEGIN IMMEDIATE", e))
		return -1;
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d",
		 STORE_SCHEMA_VERSION);
	if ((s->version == 0 && schema_create(s, e)) ||
	    schema_upgrade(s, e) ||
	    store_exec(s, sql, e) || store_commit(s, e)) {
		store_rollback(s);
		return -1;
	}
	s->version = STORE_SCHEMA_VERSION;
	return 0;
}

/* Reads the file's schema version into s->version. */
static int read_version(struct store *s, const char *path, struct err *e)
{
	sqlite3_stmt *st = store_prep(s, "PRAGMA user_version", e);

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
			     SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
	free(uri);
	if (rc != SQLITE_OK)
		return store_db_fail(s, e, "cannot open"), -1;
	return read_version(s, path, e);
}

static int open_read(struct store *s, const char *path, int wait_ms,
		     struct err *e)
{
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		return store_db_fail(s, e, "cannot open"), -1;
	if (store_exec(s, "PRAGMA query_only=1", e))
		return -1;
	/* a run may hold SQLite's write lock for a moment at a checkpoint */
	sqlite3_busy_timeout(s->db, wait_ms);
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
	if (mode == STORE_PEEK && (s->lockfd = lock_file(path, LOCK_SH, e)) < 0)
		goto fail;
	if (mode == STORE_READ || mode == STORE_PEEK) {
		if (open_read(s, path, mode == STORE_READ ? 5000 : 0, e))
			goto fail;
		return s;
	}
	s->lockfd = lock_file(path, LOCK_EX, e);
	if (s->lockfd < 0 || (s->walfd = lock_wal(path, e)) == -2)
		goto fail;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		store_db_fail(s, e, "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 0);
	if (read_version(s, path, e))
		goto fail;
	if (store_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
		 "PRAGMA foreign_keys=OFF;", e))
		goto fail;
	/* the journal exists now; and the path must still be the file
	 * locked (not replaced between the lock and SQLite's open) */
	if ((s->walfd < 0 && (s->walfd = lock_wal(path, e)) == -2) ||
	    state_in_place(s, e))
		goto fail;
	if (s->version < STORE_SCHEMA_VERSION && upgrade(s, e))
		goto fail;
	/* a state made by this run has no journal until its first write
	 * (the schema, just now): lock it too, or a second run on a
	 * deleted path would share it */
	if (s->walfd < 0 && (s->walfd = lock_wal(path, e)) == -2)
		goto fail;
	return s;
fail:
	store_close(s);
	return NULL;
}

int store_dry_writes(struct store *s, struct err *e)
{
	return store_exec(s, "PRAGMA query_only=0", e);
}

int store_schema(const struct store *s)
{
	return s->version;
}

int store_snapshot(struct store *s, struct err *e)
{
	/* a deferred transaction takes its snapshot at the first read */
	return store_exec(s, "BEGIN; SELECT count(*) FROM sqlite_master", e);
}

/* A run's state deleted or replaced under it: SQLite, closing, never
 * copies the journal into a file that moved, and leaves PATH-wal beside
 * the name, where the next open of that name (a backup put back, say)
 * would replay the gone state's pages onto another file. So the journal
 * is copied here into the file this run locked and emptied (TRUNCATE, on
 * SQLite's open descriptors, not by name): that file holds what was
 * committed, as the error of state_in_place says, and PATH-wal nothing.
 * Busy (a reader of the gone file): left as it is. */
static void close_moved(struct store *s)
{
	struct stat held, now;

	if (!s->db || s->lockfd < 0 || sqlite3_db_readonly(s->db, "main"))
		return;
	if (fstat(s->lockfd, &held) != 0 ||
	    (stat(s->path, &now) == 0 && now.st_dev == held.st_dev &&
	     now.st_ino == held.st_ino))
		return;
	store_rollback(s);
	(void)sqlite3_wal_checkpoint_v2(s->db, "main",
					SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
}

void store_close(struct store *s)
{
	if (!s)
		return;
	close_moved(s);
	if (s->db)
		sqlite3_close(s->db);
	if (s->walfd >= 0)
		close(s->walfd);
	if (s->lockfd >= 0)
		close(s->lockfd);
	free(s->path);
	free(s);
}

int store_in_place(struct store *s, struct err *e)
{
	return state_in_place(s, e);
}

int store_begin(struct store *s, struct err *e)
{
	return store_exec(s, "BEGIN IMMEDIATE", e);
}

int store_commit(struct store *s, struct err *e)
{
	if (state_in_place(s, e))
		return -1;
	return store_exec(s, "COMMIT", e);
}

void store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

