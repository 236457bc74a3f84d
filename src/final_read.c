/* final_read: the reads of final periods outside a close, each one
 * statement over the final tables (final.h): the periods before one, the
 * latest, each with its status, the digests of their closes, the totals
 * of earlier invoices per account, each account's first final invoice. */
#include "final.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "store_int.h"
#include "ts.h"
#include "banned.h"

#define col_text store_col_text

static int read_err(struct store *s, const char *what, struct err *e)
{
	return err_set(e, ST_ERROR, "cannot read %s: %s", what,
		       sqlite3_errmsg(store_conn(s)));
}

/* Runs sql (its ?1 bound to arg when it has one) and calls row for each
 * row, which reads the columns it needs; a non-zero return of row stops
 * the walk and is returned. Otherwise 0, or ST_ERROR naming what. */
static int each_row(struct store *s, const char *sql, int arg,
		    const char *what, int (*row)(sqlite3_stmt *st, void *ctx),
		    void *ctx, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	if (sqlite3_prepare_v2(store_conn(s), sql, -1, &st, NULL) != SQLITE_OK)
		return read_err(s, what, e);
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_int(st, 1, arg);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((r = row(st, ctx)) != 0)
			break;
	sqlite3_finalize(st);
	if (r)
		return r;
	return rc == SQLITE_DONE ? 0 : read_err(s, what, e);
}

struct ints {
	int **out;
	size_t *n;
};

static int row_period(sqlite3_stmt *st, void *ctx)
{
	struct ints *v = ctx;

	*v->out = xrealloc(*v->out, (*v->n + 1) * sizeof(**v->out));
	(*v->out)[(*v->n)++] = sqlite3_column_int(st, 0);
	return 0;
}

int final_periods_before(struct store *s, int before, int **out, size_t *n,
			 struct err *e)
{
	struct ints v = { out, n };

	*out = NULL;
	*n = 0;
	return each_row(s, "SELECT period FROM period WHERE period < ?1"
			" ORDER BY period", before, "periods", row_period, &v,
			e);
}

int final_latest(struct store *s, int *p, int *found, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*p = 0;
	*found = 0;
	if (sqlite3_prepare_v2(store_conn(s), "SELECT max(period) FROM period",
			       -1, &st, NULL) != SQLITE_OK)
		return read_err(s, "periods", e);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*p = sqlite3_column_int(st, 0);
		*found = 1;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : read_err(s, "periods", e);
}

struct status_walk {
	int (*fn)(void *ctx, const struct final_status *p);
	void *ctx;
};

static int row_status(sqlite3_stmt *st, void *ctx)
{
	struct status_walk *w = ctx;
	struct final_status fs;

	fs.period = sqlite3_column_int(st, 0);
	fs.version = sqlite3_column_int(st, 1);
	fs.invoices = (long)sqlite3_column_int64(st, 2);
	fs.adjustments = (long)sqlite3_column_int64(st, 3);
	fs.stale = sqlite3_column_int64(st, 4) > 0;
	return w->fn(w->ctx, &fs);
}

int final_periods(struct store *s,
		  int (*fn)(void *ctx, const struct final_status *p),
		  void *ctx, struct err *e)
{
	/* stale: a file change logged after the period's last close that
	 * touched a record before its as_of (a period closed before schema
	 * 3 has neither: any logged change counts); schema 2 has no log */
	const char *stale = store_schema(s) >= 3 ?
		" (SELECT count(*) FROM file_log l WHERE"
		"  l.seq > coalesce(p.log_seq, 0) AND l.earliest IS NOT NULL"
		"  AND (p.as_of IS NULL OR l.earliest < p.as_of))" : " 0";
	struct status_walk w = { fn, ctx };
	char sql[1024];

	snprintf(sql, sizeof(sql), "SELECT p.period, p.version,"
		 " (SELECT count(*) FROM invoice i WHERE i.period = p.period),"
		 " (SELECT count(DISTINCT tenant || ' ' || currency || ' ' ||"
		 "  seq) FROM adjustment a WHERE a.period = p.period),%s"
		 " FROM period p ORDER BY p.period", stale);
	return each_row(s, sql, 0, "periods", row_status, &w, e);
}

/* A blob column when it is a SHA-256 (32 bytes), else NULL. */
static const unsigned char *col_sha(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_bytes(st, i) != 32)
		return NULL;
	return sqlite3_column_blob(st, i);
}

struct close_walk {
	int (*fn)(void *ctx, int period, const unsigned char *digest,
		  const unsigned char *inputs);
	void *ctx;
};

static int row_close(sqlite3_stmt *st, void *ctx)
{
	struct close_walk *w = ctx;

	return w->fn(w->ctx, sqlite3_column_int(st, 0), col_sha(st, 1),
		     col_sha(st, 2));
}

int final_closes(struct store *s, int upto,
		 int (*fn)(void *ctx, int period, const unsigned char *digest,
			   const unsigned char *inputs),
		 void *ctx, struct err *e)
{
	struct close_walk w = { fn, ctx };

	return each_row(s, "SELECT period, digest, inputs FROM period"
			" WHERE period <= ?1 ORDER BY period", upto, "periods",
			row_close, &w, e);
}

struct total_walk {
	int (*fn)(void *ctx, const char *tenant, const char *currency,
		  dec_t sum);
	void *ctx;
	int before;
	struct err *e;
	char tenant[256], *long_tenant;  /* the account being added up */
	char currency[4];
	dec_t sum;
	int have;
};

static const char *walk_tenant(const struct total_walk *w)
{
	return w->long_tenant ? w->long_tenant : w->tenant;
}

/* Hands the account added up so far to fn. */
static int total_flush(struct total_walk *w)
{
	int r = w->have ? w->fn(w->ctx, walk_tenant(w), w->currency, w->sum) :
		0;

	free(w->long_tenant);
	w->long_tenant = NULL;
	w->have = 0;
	return r;
}

/* One invoice: added to its account's sum, checked (SQLite's sum()
 * would stop with its own "integer overflow", naming no account). */
static int row_total(sqlite3_stmt *st, void *ctx)
{
	struct total_walk *w = ctx;
	const char *tenant = col_text(st, 0), *currency = col_text(st, 1);
	dec_t v = sqlite3_column_int64(st, 2);
	char ym[16];
	int r;

	if (w->have && strcmp(walk_tenant(w), tenant) == 0 &&
	    strcmp(w->currency, currency) == 0) {
		if (!dec_add(w->sum, v, &w->sum))
			return 0;
		ts_period_format(w->before, 1, ym);
		return err_set(w->e, ST_ERROR, "balance overflow for tenant "
			       "'%s' (%s) in %s (its final invoices of earlier "
			       "periods add up past what an amount holds)",
			       tenant, currency, ym);
	}
	if ((r = total_flush(w)) != 0)
		return r;
	if (strlen(tenant) < sizeof(w->tenant))
		snprintf(w->tenant, sizeof(w->tenant), "%s", tenant);
	else
		w->long_tenant = xstrdup(tenant);
	snprintf(w->currency, sizeof(w->currency), "%s", currency);
	w->sum = v;
	w->have = 1;
	return 0;
}

int final_totals_before(struct store *s, int before,
			int (*fn)(void *ctx, const char *tenant,
				  const char *currency, dec_t sum),
			void *ctx, struct err *e)
{
	struct total_walk w;
	int rc;

	memset(&w, 0, sizeof(w));
	w.fn = fn;
	w.ctx = ctx;
	w.before = before;
	w.e = e;
	/* every invoice, by account (the index's order; SQLite's BINARY
	 * order is strcmp's), added up here with a check */
	rc = each_row(s, "SELECT tenant, currency, total FROM invoice"
		      " WHERE period < ?1 ORDER BY tenant, currency", before,
		      "invoices in state file", row_total, &w, e);
	if (!rc)
		rc = total_flush(&w);
	free(w.long_tenant);
	return rc;
}

struct invoice_walk {
	int (*fn)(void *ctx, const char *tenant, const char *currency,
		  int period, int64_t number, dec_t total, const char *prefix);
	void *ctx;
};

static int row_invoice(sqlite3_stmt *st, void *ctx)
{
	struct invoice_walk *w = ctx;
	const char *prefix = sqlite3_column_type(st, 5) == SQLITE_NULL ?
			     NULL : col_text(st, 5);

	return w->fn(w->ctx, col_text(st, 0), col_text(st, 1),
		     sqlite3_column_int(st, 2), sqlite3_column_int64(st, 3),
		     sqlite3_column_int64(st, 4), prefix);
}

int final_invoices_upto(struct store *s, int upto,
			int (*fn)(void *ctx, const char *tenant,
				  const char *currency, int period,
				  int64_t number, dec_t total,
				  const char *prefix),
			void *ctx, struct err *e)
{
	struct invoice_walk w = { fn, ctx };

	/* the invoice_account index gives the order */
	return each_row(s, "SELECT i.tenant, i.currency, i.period, i.number,"
			" i.total, p.prefix FROM invoice i"
			" LEFT JOIN period p ON p.period = i.period"
			" WHERE i.period <= ?1"
			" ORDER BY i.tenant, i.currency, i.period", upto,
			"invoices in state file", row_invoice, &w, e);
}

struct account_walk {
	int (*fn)(void *ctx, const char *tenant, const char *currency,
		  const char *invoice_no);
	void *ctx;
};

static int row_account(sqlite3_stmt *st, void *ctx)
{
	struct account_walk *w = ctx;
	char no[96];

	final_invoice_no(col_text(st, 4), sqlite3_column_int(st, 2),
			 sqlite3_column_int64(st, 3), no, sizeof(no));
	return w->fn(w->ctx, col_text(st, 0), col_text(st, 1), no);
}

int final_accounts(struct store *s,
		   int (*fn)(void *ctx, const char *tenant,
			     const char *currency, const char *invoice_no),
		   void *ctx, struct err *e)
{
	struct account_walk w = { fn, ctx };

	/* each account's first final invoice (its earliest period) */
	return each_row(s, "SELECT i.tenant, i.currency, i.period, i.number,"
			" p.prefix FROM invoice i JOIN period p ON"
			" p.period = i.period WHERE i.period = (SELECT"
			" min(period) FROM invoice j WHERE j.tenant = i.tenant"
			" AND j.currency = i.currency)"
			" ORDER BY i.tenant, i.currency", 0, "invoices",
			row_account, &w, e);
}
