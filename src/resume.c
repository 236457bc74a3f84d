/* resume: which earlier final periods a close may leave as they are (see
 * include/resume.h for the rule and why it is exact). Owns the tables
 * resume_period, resume_snap and resume_file of the state; reads final.c's
 * period table and store.c's file_log (store_int.h: the store layer). */
#include "resume.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"
#include "fault.h"
#include "mem.h"
#include "outdig.h"
#include "store_int.h"
#include "ts.h"
#include "banned.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS resume_period("
	"  period INTEGER PRIMARY KEY,"
	"  config BLOB NOT NULL);"       /* config digest of its last close */
	"CREATE TABLE IF NOT EXISTS resume_snap("
	"  seq INTEGER PRIMARY KEY);"    /* a snapshot of the files at seq */
	"CREATE TABLE IF NOT EXISTS resume_file("
	"  seq INTEGER NOT NULL,"
	"  path TEXT NOT NULL,"
	"  rej_period INTEGER,"          /* its first placed reject's period */
	"  cand INTEGER NOT NULL,"       /* 1: holds a duplicate candidate */
	"  PRIMARY KEY(seq, path));";

static int db_err(struct store *s, const char *what, struct err *e)
{
	return err_set(e, ST_ERROR, "cannot %s the state: %s", what,
		       sqlite3_errmsg(store_conn(s)));
}

/* What the current data says of one file: its first placed reject's
 * period (INT32_MAX: none) and whether it holds a duplicate candidate. */
struct finfo {
	const char *path;  /* the engine's */
	int32_t rej;
	int cand;
};

struct now {
	struct finfo *f;
	size_t n;
	int owned;         /* the paths are copies (read from a snapshot) */
};

static void now_free(struct now *w)
{
	size_t i;

	if (w->owned)
		for (i = 0; i < w->n; i++)
			free((char *)w->f[i].path);
	free(w->f);
}

/* The entry of path, or NULL. */
static struct finfo *finfo_find(struct now *w, const char *path)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (w->f[i].path == path || strcmp(w->f[i].path, path) == 0)
			return &w->f[i];
	return NULL;
}

/* The entry of path (a string the engine owns), added when new. */
static struct finfo *finfo_get(struct now *w, const char *path)
{
	struct finfo *f = finfo_find(w, path);

	if (f)
		return f;
	w->f = xrealloc(w->f, (w->n + 1) * sizeof(*w->f));
	w->f[w->n].path = path;
	w->f[w->n].rej = INT32_MAX;
	w->f[w->n].cand = 0;
	return &w->f[w->n++];
}

/* The files with a placed reject or a candidate (usually few). Rejects
 * may be many, but of few files: the last one found is tried first. */
static void now_load(const struct engine *g, struct now *w)
{
	const struct eng_reject *rj;
	const char **cp;
	struct finfo *last = NULL;
	size_t n, i;

	memset(w, 0, sizeof(*w));
	rj = engine_rejects(g, &n);
	for (i = 0; i < n; i++) {
		if (!rj[i].placed)
			continue;
		if (!last || last->path != rj[i].path)
			last = finfo_get(w, rj[i].path);
		if (rj[i].period < last->rej)
			last->rej = rj[i].period;
	}
	cp = engine_dup_paths(g, &n);
	for (i = 0; i < n; i++)
		finfo_get(w, cp[i])->cand = 1;
	free(cp);
}

/* 1 when the table exists (an older state has none of ours). */
static int have_table(struct store *s, const char *name, int *yes,
		      struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	*yes = 0;
	if (sqlite3_prepare_v2(store_conn(s), "SELECT 1 FROM sqlite_master"
			       " WHERE type = 'table' AND name = ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return db_err(s, "read", e);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*yes = rc == SQLITE_ROW;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_err(s, "read", e);
}

/* Q's row: the log sequence and as_of of its last close, the digest of
 * its outputs, the config digest it was closed with. *ok 0 when any is
 * missing (then Q must be settled). */
struct qrow {
	int64_t seq, as_of;
	unsigned char digest[32], config[32];
	int snap;          /* a snapshot of the files at seq exists */
};

static int q_row(struct store *s, int q, struct qrow *r, int *ok,
		 struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	*ok = 0;
	if (sqlite3_prepare_v2(store_conn(s), "SELECT p.log_seq, p.as_of,"
			       " p.digest, r.config, (SELECT count(*) FROM"
			       " resume_snap n WHERE n.seq = p.log_seq)"
			       " FROM period p JOIN resume_period r ON"
			       " r.period = p.period WHERE p.period = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(s, "read", e);
	sqlite3_bind_int(st, 1, q);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL &&
	    sqlite3_column_type(st, 1) != SQLITE_NULL &&
	    sqlite3_column_bytes(st, 2) == 32 &&
	    sqlite3_column_bytes(st, 3) == 32 &&
	    sqlite3_column_int(st, 4) > 0) {
		r->seq = sqlite3_column_int64(st, 0);
		r->as_of = sqlite3_column_int64(st, 1);
		memcpy(r->digest, sqlite3_column_blob(st, 2), 32);
		memcpy(r->config, sqlite3_column_blob(st, 3), 32);
		*ok = 1;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_err(s, "read", e);
}

/* Whether the file changes logged after Q's close leave Q as it was:
 * none touched a record before its as_of, and no file changed holds (at
 * that close or now) a reject placed in Q or before, or a candidate. */
static int q_files(struct store *s, struct now *w, int q,
		   const struct qrow *r, int *ok, struct err *e)
{
	sqlite3_stmt *st;
	int rc = SQLITE_DONE;

	*ok = 1;
	if (sqlite3_prepare_v2(store_conn(s), "SELECT l.earliest, l.path,"
			       " f.rej_period, coalesce(f.cand, 0) FROM file_log l"
			       " LEFT JOIN resume_file f ON f.seq = ?1 AND"
			       " f.path = l.path WHERE l.seq > ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return db_err(s, "read", e);
	sqlite3_bind_int64(st, 1, r->seq);
	/* SQLITE_ROW when the walk stops early at a change that counts */
	while (*ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(st, 1);
		struct finfo *fi;

		if (sqlite3_column_type(st, 0) != SQLITE_NULL &&
		    sqlite3_column_int64(st, 0) < r->as_of)
			*ok = 0;
		if (sqlite3_column_type(st, 2) != SQLITE_NULL &&
		    sqlite3_column_int(st, 2) <= q)
			*ok = 0;
		if (sqlite3_column_int(st, 3))
			*ok = 0;
		if (*ok && path && (fi = finfo_find(w, path)) &&
		    (fi->rej <= q || fi->cand))
			*ok = 0;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_err(s, "read", e);
		sqlite3_finalize(st);
		return ST_ERROR;
	}
	sqlite3_finalize(st);
	return 0;
}

/* Q's files on disk are what the state says it wrote last (hashed once
 * per close: seen, outdig.h). */
static int q_disk(const char *outdir, struct outdig *seen, int q,
		  const struct qrow *r)
{
	unsigned char disk[32];

	return outdig_folder(seen, outdir, q, disk) == 0 &&
	       memcmp(disk, r->digest, 32) == 0;
}

/* How many of periods[0..n) from the first pass the rule of resume.h,
 * w being what the current files hold, into *k. */
static int skip_prefix(struct store *s, struct now *w,
		       const unsigned char config[32], const int *periods,
		       size_t n, const char *outdir, struct outdig *seen,
		       size_t *k, struct err *e)
{
	size_t i;
	int ok, rc = 0;

	*k = 0;
	for (i = 0; i < n; i++) {
		struct qrow r;

		if ((rc = q_row(s, periods[i], &r, &ok, e)) || !ok ||
		    memcmp(r.config, config, 32) != 0)
			break;
		if ((rc = q_files(s, w, periods[i], &r, &ok, e)) || !ok ||
		    !q_disk(outdir, seen, periods[i], &r))
			break;
		*k = i + 1;
	}
	return rc ? ST_ERROR : 0;
}

int resume_skip(struct store *s, const struct engine *g, const int *periods,
		size_t n, const char *outdir, struct outdig *seen, size_t *skip,
		struct err *e)
{
	const struct engine_opts *o = engine_opts_of(g);
	struct now w;
	int yes, rc;

	*skip = 0;
	/* decided before rating (resume_plan): rating may have started
	 * after the periods it leaves */
	if (engine_skip(g, skip))
		return 0;
	if (!n || o->full_replay || !o->have_config)
		return 0;
	if (have_table(s, "resume_file", &yes, e))
		return ST_ERROR;
	if (!yes)
		return 0;
	now_load(g, &w);
	rc = skip_prefix(s, &w, o->config, periods, n, outdir, seen, skip, e);
	now_free(&w);
	return rc;
}

/* What the snapshot at seq says of the current files into *w; *have 0
 * when no close took one at seq. */
static int now_read(struct store *s, int64_t seq, struct now *w, int *have,
		    struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	memset(w, 0, sizeof(*w));
	w->owned = 1;
	*have = 0;
	if (sqlite3_prepare_v2(store_conn(s), "SELECT n.seq, f.path,"
			       " f.rej_period, f.cand FROM resume_snap n LEFT"
			       " JOIN resume_file f ON f.seq = n.seq WHERE"
			       " n.seq = ?1", -1, &st, NULL) != SQLITE_OK)
		return db_err(s, "read", e);
	sqlite3_bind_int64(st, 1, seq);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct finfo *f;

		*have = 1;
		if (sqlite3_column_type(st, 1) == SQLITE_NULL)
			continue;
		w->f = xrealloc(w->f, (w->n + 1) * sizeof(*w->f));
		f = &w->f[w->n++];
		f->path = xstrdup((const char *)sqlite3_column_text(st, 1));
		f->rej = sqlite3_column_type(st, 2) == SQLITE_NULL ? INT32_MAX :
			 sqlite3_column_int(st, 2);
		f->cand = sqlite3_column_int(st, 3);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_err(s, "read", e);
}

int resume_unchanged(struct store *s, int p, const unsigned char config[32],
		     int full_replay, const char *outdir, struct outdig *seen,
		     int *yes, struct err *e)
{
	struct now w = { NULL, 0, 1 };
	int *periods = NULL, have, rc;
	size_t n = 0, k = 0;
	int64_t seq;

	*yes = 0;
	if (full_replay)
		return 0;
	if (have_table(s, "resume_file", &have, e))
		return ST_ERROR;
	if (!have)
		return 0;
	if (store_log_seq(s, &seq, e) || now_read(s, seq, &w, &have, e) ||
	    final_periods_before(s, p + 1, &periods, &n, e)) {
		now_free(&w);
		free(periods);
		return ST_ERROR;
	}
	rc = 0;
	/* p itself must be final, and pass the rule like every earlier one */
	if (have && n && periods[n - 1] == p)
		rc = skip_prefix(s, &w, config, periods, n, outdir, seen, &k,
				 e);
	*yes = !rc && have && n && periods[n - 1] == p && k == n;
	now_free(&w);
	free(periods);
	return rc;
}

int resume_config_known(struct store *s, const unsigned char config[32],
			int *yes, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (have_table(s, "resume_period", yes, e))
		return ST_ERROR;
	if (!*yes)
		return 0;
	*yes = 0;
	if (sqlite3_prepare_v2(store_conn(s), "SELECT 1 FROM resume_period"
			       " WHERE config = ?1 LIMIT 1", -1, &st,
			       NULL) != SQLITE_OK)
		return db_err(s, "read", e);
	sqlite3_bind_blob(st, 1, config, 32, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*yes = rc == SQLITE_ROW;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_err(s, "read", e);
}

/* Snapshot of the current files at seq, unless one was taken. */
static int put_snapshot(struct store *s, const struct engine *g, int64_t seq,
			struct err *e)
{
	sqlite3_stmt *st;
	struct now w;
	size_t i;
	int rc = SQLITE_DONE;

	if (sqlite3_prepare_v2(store_conn(s), "INSERT OR IGNORE INTO"
			       " resume_snap(seq) VALUES (?1)", -1, &st,
			       NULL) != SQLITE_OK)
		return db_err(s, "write", e);
	sqlite3_bind_int64(st, 1, seq);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(s, "write", e);
	/* the same sequence means the same files: one snapshot is enough */
	if (sqlite3_changes(store_conn(s)) == 0)
		return 0;
	if (sqlite3_prepare_v2(store_conn(s), "INSERT OR REPLACE INTO"
			       " resume_file(seq, path, rej_period, cand)"
			       " VALUES (?1, ?2, ?3, ?4)", -1, &st,
			       NULL) != SQLITE_OK)
		return db_err(s, "write", e);
	now_load(g, &w);
	for (i = 0; i < w.n && rc == SQLITE_DONE; i++) {
		sqlite3_bind_int64(st, 1, seq);
		sqlite3_bind_text(st, 2, w.f[i].path, -1, SQLITE_STATIC);
		if (w.f[i].rej == INT32_MAX)
			sqlite3_bind_null(st, 3);
		else
			sqlite3_bind_int(st, 3, w.f[i].rej);
		sqlite3_bind_int(st, 4, w.f[i].cand);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	now_free(&w);
	return rc == SQLITE_DONE ? 0 : db_err(s, "write", e);
}

int resume_record(struct store *s, const struct engine *g, const int *periods,
		  size_t n, struct err *e)
{
	const struct engine_opts *o = engine_opts_of(g);
	sqlite3_stmt *st;
	int64_t seq;
	size_t i;
	int rc = SQLITE_DONE;

	if (!o->have_config)
		return 0;
	if (sqlite3_exec(store_conn(s), schema, NULL, NULL, NULL) != SQLITE_OK)
		return db_err(s, "write", e);
	if (store_log_seq(s, &seq, e))
		return ST_ERROR;
	if (sqlite3_prepare_v2(store_conn(s), "INSERT OR REPLACE INTO"
			       " resume_period(period, config) VALUES (?1, ?2)",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(s, "write", e);
	for (i = 0; i < n && rc == SQLITE_DONE; i++) {
		sqlite3_bind_int(st, 1, periods[i]);
		sqlite3_bind_blob(st, 2, o->config, 32, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(s, "write", e);
	if (put_snapshot(s, g, seq, e) ||
	    ckpt_record(s, (struct engine *)g, periods, n, o->config, e))
		return ST_ERROR;
	/* a snapshot no period's close saw can never be asked for */
	if (sqlite3_exec(store_conn(s), "DELETE FROM resume_file WHERE seq NOT"
			 " IN (SELECT log_seq FROM period WHERE log_seq IS NOT"
			 " NULL); DELETE FROM resume_snap WHERE seq NOT IN"
			 " (SELECT log_seq FROM period WHERE log_seq IS NOT"
			 " NULL);", NULL, NULL, NULL) != SQLITE_OK)
		return db_err(s, "write", e);
	return 0;
}

int resume_mark(struct store *s, const struct catalog *cat, struct final *fin,
		const int *periods, size_t n, struct err *e)
{
	int64_t seq;
	size_t i;

	if (store_log_seq(s, &seq, e))
		return ST_ERROR;
	for (i = 0; i < n; i++)
		if (final_period_mark(fin, periods[i], seq, ts_period_start(
				      periods[i] + 1, cat->set.tz), e))
			return ST_ERROR;
	return 0;
}

int resume_plan(struct store *s, struct engine *g, int p, const char *outdir,
		struct outdig *seen, int gap, struct eng_start *start,
		struct err *e)
{
	const struct engine_opts *o = engine_opts_of(g);
	const struct catalog *cat = engine_catalog(g);
	int *periods = NULL, found = 0;
	size_t n = 0, skip = 0, k;

	memset(start, 0, sizeof(*start));
	start->from = INT64_MIN;
	if (o->full_replay || !o->have_config)
		return 0;
	if (final_periods_before(s, p, &periods, &n, e) ||
	    resume_skip(s, g, periods, n, outdir, seen, &skip, e)) {
		free(periods);
		return ST_ERROR;
	}
	engine_set_skip(g, skip);
	/* a non-final earlier period may need rating (guard_gap): all of it */
	for (k = gap ? 0 : skip; k > 0 && !found; k--)
		if (ckpt_load(s, cat, periods[k - 1], o->config, start, &found,
			      e)) {
			free(periods);
			return ST_ERROR;
		}
	/* a copy of a candidate in a batch not decoded: from the start */
	if (found && engine_dups_split(g, start->from))
		ckpt_start_release(start);
	if (start->from > INT64_MIN) {
		char ym[16], msg[64];

		ts_period_format(ts_period_of(start->from, cat->set.tz), 1, ym);
		snprintf(msg, sizeof(msg), "rating from %s", ym);
		fault_note(msg);
	}
	free(periods);
	return 0;
}
