/* stamp: a file's stat identity, and the stamps the state keeps of each
 * final period's folder (see include/stamp.h for why a match is exact).
 * Owns the table out_stamp (store_int.h: the store layer; its CREATE is
 * schema.c's). */
#include "stamp.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store_int.h"
#include "banned.h"

void stamp_of(const struct stat *sb, struct stamp *st)
{
	st->dev = (int64_t)sb->st_dev;
	st->ino = (int64_t)sb->st_ino;
	st->size = (int64_t)sb->st_size;
	st->mtime = (int64_t)sb->st_mtim.tv_sec * 1000000000 +
		    sb->st_mtim.tv_nsec;
	st->ctime = (int64_t)sb->st_ctim.tv_sec * 1000000000 +
		    sb->st_ctim.tv_nsec;
}

int stamp_path(const char *path, struct stamp *st)
{
	struct stat sb;

	memset(st, 0, sizeof(*st));
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
		return -1;
	stamp_of(&sb, st);
	return 0;
}

int stamp_trusted(const struct stamp *rec, int64_t at,
		  const struct stamp *now)
{
	/* racy: changed too close to at for its stamp to show a change */
	if (at < INT64_MIN + STAMP_SLACK_NS ||
	    rec->mtime >= at - STAMP_SLACK_NS ||
	    rec->ctime >= at - STAMP_SLACK_NS)
		return 0;
	return rec->dev == now->dev && rec->ino == now->ino &&
	       rec->size == now->size && rec->mtime == now->mtime &&
	       rec->ctime == now->ctime;
}

int64_t stamp_clock(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int db_err(struct store *s, const char *what, struct err *e)
{
	return err_set(e, ST_ERROR, "cannot %s the state: %s", what,
		       sqlite3_errmsg(store_conn(s)));
}

int stamp_load(struct store *s, int q, struct stamp_folder *f, int *have,
	       struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	memset(f, 0, sizeof(*f));
	f->period = q;
	*have = 0;
	/* a state older than schema 5 (a read-only open) has no table:
	 * no stamps */
	if (sqlite3_prepare_v2(store_conn(s), "SELECT name, dev, ino, size,"
			       " mtime, ctime, at, digest FROM out_stamp"
			       " WHERE period = ?1 ORDER BY name", -1, &st,
			       NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int(st, 1, q);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		struct stamp *t;

		if (f->n == STAMP_MAX_FILES || !name ||
		    strlen(name) >= sizeof(f->names[0]) ||
		    sqlite3_column_bytes(st, 7) != 32 ||
		    (f->n && (sqlite3_column_int64(st, 6) != f->at ||
			      memcmp(sqlite3_column_blob(st, 7), f->digest,
				     32) != 0))) {
			/* not rows stamp_save wrote: no stamps */
			f->n = 0;
			break;
		}
		snprintf(f->names[f->n], sizeof(f->names[0]), "%s", name);
		t = &f->st[f->n++];
		t->dev = sqlite3_column_int64(st, 1);
		t->ino = sqlite3_column_int64(st, 2);
		t->size = sqlite3_column_int64(st, 3);
		t->mtime = sqlite3_column_int64(st, 4);
		t->ctime = sqlite3_column_int64(st, 5);
		f->at = sqlite3_column_int64(st, 6);
		memcpy(f->digest, sqlite3_column_blob(st, 7), 32);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(s, "read", e);
	*have = f->n > 0;
	return 0;
}

static int save_one(struct store *s, sqlite3_stmt *del, sqlite3_stmt *ins,
		    const struct stamp_folder *f)
{
	size_t i;

	sqlite3_bind_int(del, 1, f->period);
	if (sqlite3_step(del) != SQLITE_DONE)
		return -1;
	sqlite3_reset(del);
	for (i = 0; i < f->n; i++) {
		const struct stamp *t = &f->st[i];

		sqlite3_bind_int(ins, 1, f->period);
		sqlite3_bind_text(ins, 2, f->names[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 3, t->dev);
		sqlite3_bind_int64(ins, 4, t->ino);
		sqlite3_bind_int64(ins, 5, t->size);
		sqlite3_bind_int64(ins, 6, t->mtime);
		sqlite3_bind_int64(ins, 7, t->ctime);
		sqlite3_bind_int64(ins, 8, f->at);
		sqlite3_bind_blob(ins, 9, f->digest, 32, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			return -1;
		sqlite3_reset(ins);
	}
	(void)s;
	return 0;
}

int stamp_save(struct store *s, const struct stamp_folder *f, size_t n,
	       struct err *e)
{
	sqlite3_stmt *del = NULL, *ins = NULL;
	size_t i;
	int bad = 0;

	if (!n)
		return 0;
	if (store_begin(s, e))
		return ST_ERROR;
	if (sqlite3_prepare_v2(store_conn(s), "DELETE FROM out_stamp WHERE"
			       " period = ?1", -1, &del, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(store_conn(s), "INSERT INTO out_stamp(period,"
			       " name, dev, ino, size, mtime, ctime, at,"
			       " digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
			       " ?8, ?9)", -1, &ins, NULL) != SQLITE_OK)
		bad = 1;
	for (i = 0; i < n && !bad; i++)
		bad = save_one(s, del, ins, &f[i]);
	if (bad)
		db_err(s, "write", e);
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	if (bad || store_commit(s, e)) {
		store_rollback(s);
		return ST_ERROR;
	}
	return 0;
}
