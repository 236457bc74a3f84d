/* ckpt: what each final period left of every package (see include/ckpt.h
 * for what is kept and why it is exact). Owns the tables ckpt_period and
 * ckpt_pkg (store_int.h: the store layer; their CREATE is schema.c's). */
#include "ckpt.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "mem.h"
#include "store_int.h"
#include "ts.h"
#include "banned.h"

static int db_err(struct store *s, const char *what, struct err *e)
{
	return err_set(e, ST_ERROR, "cannot %s the state: %s", what,
		       sqlite3_errmsg(store_conn(s)));
}

/* *same 1 when period q has a checkpoint kept with config digest config. */
static int period_row(struct store *s, int q, const unsigned char config[32],
		      int *same, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	*same = 0;
	if (sqlite3_prepare_v2(store_conn(s), "SELECT config FROM ckpt_period"
			       " WHERE period = ?1", -1, &st, NULL) != SQLITE_OK)
		return db_err(s, "read", e);
	sqlite3_bind_int(st, 1, q);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32 &&
	    memcmp(sqlite3_column_blob(st, 0), config, 32) == 0)
		*same = 1;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_err(s, "read", e);
}

void ckpt_start_release(struct eng_start *st)
{
	free(st->st);
	memset(st, 0, sizeof(*st));
	st->from = INT64_MIN;
}

int ckpt_load(struct store *s, const struct catalog *cat, int q,
	      const unsigned char config[32], struct eng_start *out,
	      int *found, struct err *e)
{
	struct eng_start r = { INT64_MIN, NULL, 0 };
	struct strtab *ids;
	sqlite3_stmt *st;
	size_t i, cap = 0;
	int rc, same, ok = 1;

	*found = 0;
	if (period_row(s, q, config, &same, e))
		return ST_ERROR;
	if (!same)
		return 0;
	if (sqlite3_prepare_v2(store_conn(s), "SELECT package_id, used,"
			       " alert_ts, alert_left FROM ckpt_pkg WHERE"
			       " period = ?1", -1, &st, NULL) != SQLITE_OK)
		return db_err(s, "read", e);
	/* package ids are unique (SPEC 3): id i is package i */
	ids = strtab_new();
	for (i = 0; i < cat->npackages; i++)
		strtab_put(ids, cat->packages[i].id,
			   strlen(cat->packages[i].id));
	sqlite3_bind_int(st, 1, q);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = store_col_text(st, 0);
		long k = strtab_get(ids, id, strlen(id));
		struct eng_pkgstate *ps;

		if (k < 0) {
			ok = 0; /* not this config's: no checkpoint */
			continue;
		}
		xgrow((void **)&r.st, &cap, r.n + 1, sizeof(*r.st));
		ps = &r.st[r.n++];
		memset(ps, 0, sizeof(*ps));
		ps->pkg = (size_t)k;
		ps->used = sqlite3_column_int64(st, 1);
		if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
			ps->alerted = 1;
			ps->alert_ts = sqlite3_column_int64(st, 2);
			ps->alert_left = sqlite3_column_int64(st, 3);
		}
	}
	sqlite3_finalize(st);
	strtab_free(ids);
	if (rc != SQLITE_DONE) {
		free(r.st);
		return db_err(s, "read", e);
	}
	if (!ok) {
		free(r.st);
		return 0;
	}
	r.from = ts_period_start(q + 1, cat->set.tz);
	*out = r;
	*found = 1;
	return 0;
}

/* Period p's rows: the state of every package valid across its end with
 * something used or an alert by then (others start from nothing). */
static int put_period(struct store *s, struct engine *g, int p,
		      const unsigned char config[32], sqlite3_stmt *ins,
		      struct err *e)
{
	const struct catalog *cat = engine_catalog(g);
	int64_t end = ts_period_start(p + 1, cat->set.tz);
	sqlite3_stmt *st;
	size_t i;
	int rc;

	if (sqlite3_prepare_v2(store_conn(s), "DELETE FROM ckpt_pkg WHERE"
			       " period = ?1", -1, &st, NULL) != SQLITE_OK)
		return db_err(s, "write", e);
	sqlite3_bind_int(st, 1, p);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(s, "write", e);
	if (sqlite3_prepare_v2(store_conn(s), "INSERT OR REPLACE INTO"
			       " ckpt_period(period, config) VALUES (?1, ?2)",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(s, "write", e);
	sqlite3_bind_int(st, 1, p);
	sqlite3_bind_blob(st, 2, config, 32, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(s, "write", e);
	for (i = 0; i < cat->npackages; i++) {
		const struct package *pk = &cat->packages[i];
		struct eng_pkgstate ps;

		if (pk->valid_from >= end || pk->valid_to <= end)
			continue;
		if (engine_pkg_state(g, i, p, &ps, e))
			return ST_ERROR;
		if (ps.used == 0 && !ps.alerted)
			continue;
		sqlite3_reset(ins);
		sqlite3_bind_int(ins, 1, p);
		sqlite3_bind_text(ins, 2, pk->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 3, ps.used);
		if (ps.alerted) {
			sqlite3_bind_int64(ins, 4, ps.alert_ts);
			sqlite3_bind_int64(ins, 5, ps.alert_left);
		} else {
			sqlite3_bind_null(ins, 4);
			sqlite3_bind_null(ins, 5);
		}
		if (sqlite3_step(ins) != SQLITE_DONE)
			return db_err(s, "write", e);
	}
	return 0;
}

struct range_put {
	struct store *s;
	struct err *e;
};

static int put_range(void *ctx, int64_t id, int64_t min_ts, int64_t max_ts)
{
	struct range_put *rp = ctx;

	return store_batch_range(rp->s, id, min_ts, max_ts, rp->e);
}

int ckpt_record(struct store *s, struct engine *g, const int *periods,
		size_t n, const unsigned char config[32], struct err *e)
{
	struct range_put rp = { s, e };
	const struct catalog *cat = engine_catalog(g);
	int64_t from = engine_from(g, NULL, NULL);
	sqlite3_stmt *ins;
	size_t i;
	int rc = 0;

	/* a state made before version 4 has the tables from its upgrade */
	if (sqlite3_prepare_v2(store_conn(s), "INSERT INTO ckpt_pkg(period,"
			       " package_id, used, alert_ts, alert_left)"
			       " VALUES (?1, ?2, ?3, ?4, ?5)", -1, &ins,
			       NULL) != SQLITE_OK)
		return db_err(s, "write", e);
	for (i = 0; i < n && !rc; i++)
		if (ts_period_start(periods[i], cat->set.tz) >= from)
			rc = put_period(s, g, periods[i], config, ins, e);
	sqlite3_finalize(ins);
	/* batches of an older state get the range this rating learned:
	 * later closes may skip them */
	if (!rc && engine_new_ranges(g, put_range, &rp))
		rc = ST_ERROR;
	return rc;
}
