/* final: the SQL of final periods, invoices, lines and adjustments (their
 * CREATE and upgrade steps are schema.c's). */
#include "final.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "store_int.h"
#include "ts.h"
#include "banned.h"

void final_invoice_no(const char *prefix, int p, int64_t number, char *buf,
		      size_t cap)
{
	char ym[16];

	ts_period_format(p, 0, ym);
	snprintf(buf, cap, "%.64s-%.6s-%06lld", prefix, ym, (long long)number);
}

#define col_text store_col_text

/* ---- the work of one close ---- */

/* Lines are inserted 1, 2, 4, ... 32 at a time. */
#define LINE_STMTS 6
/* New invoices, and their lines across invoices, ADD_ROWS to an INSERT
 * (-DADD_ROWS=2 runs the e2e cases through it) */
#ifndef ADD_ROWS
#define ADD_ROWS 32
#endif

struct final {
	sqlite3 *db;
	const char *sql[8];   /* cached(): keyed by the text's address */
	sqlite3_stmt *st[8];
	int n;
	sqlite3_stmt *lines[LINE_STMTS];  /* line_stmt(k): 1 << k lines */
	sqlite3_stmt *inv_rows, *line_rows;  /* ADD_ROWS rows, each whole */
};

struct final *final_new(struct store *s)
{
	struct final *f = xcalloc(1, sizeof(*f));

	f->db = store_conn(s);
	return f;
}

void final_free(struct final *f)
{
	int i;

	if (!f)
		return;
	for (i = 0; i < f->n; i++)
		sqlite3_finalize(f->st[i]);
	for (i = 0; i < LINE_STMTS; i++)
		sqlite3_finalize(f->lines[i]);
	sqlite3_finalize(f->inv_rows);
	sqlite3_finalize(f->line_rows);
	free(f);
}

static int db_err(struct final *f, const char *what, struct err *e)
{
	return err_set(e, ST_ERROR, "cannot %s in state file: %s", what,
		       sqlite3_errmsg(f->db));
}

static sqlite3_stmt *prep(struct final *f, const char *sql, struct err *e)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(f->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_err(f, "prepare a query", e);
		return NULL;
	}
	return st;
}

/* A prepared statement for sql, made once per handle; reset and unbound
 * when handed out again. Not finalized by the caller. */
static sqlite3_stmt *cached(struct final *f, const char *sql, struct err *e)
{
	int i;

	for (i = 0; i < f->n; i++)
		if (f->sql[i] == sql) {
			sqlite3_reset(f->st[i]);
			sqlite3_clear_bindings(f->st[i]);
			return f->st[i];
		}
	if (f->n == 8)
		abort(); /* more distinct statements than this file has */
	if (!(f->st[f->n] = prep(f, sql, e)))
		return NULL;
	f->sql[f->n] = sql;
	return f->st[f->n++];
}

static int exec(struct final *f, const char *sql, struct err *e)
{
	if (sqlite3_exec(f->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_err(f, "update", e);
	return 0;
}

int final_savepoint(struct final *f, int p, struct err *e)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "SAVEPOINT p%d", p);
	return exec(f, sql, e);
}

int final_savepoint_undo(struct final *f, int p, struct err *e)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "ROLLBACK TO p%d", p);
	return exec(f, sql, e);
}

int final_savepoint_keep(struct final *f, int p, struct err *e)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "RELEASE p%d", p);
	return exec(f, sql, e);
}

int final_period_get(struct final *f, int p, struct final_period *out,
		     struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	st = prep(f, "SELECT prefix, version, digest FROM period"
		  " WHERE period = ?1", e);
	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, p);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(out->prefix, sizeof(out->prefix), "%s",
			 col_text(st, 0));
		out->version = sqlite3_column_int(st, 1);
		if (sqlite3_column_bytes(st, 2) == 32)
			memcpy(out->digest, sqlite3_column_blob(st, 2), 32);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_err(f, "read periods", e);
		return -1;
	}
	return rc == SQLITE_ROW;
}

int final_period_put(struct final *f, int p, const char *prefix,
		     int version, const unsigned char digest[32],
		     const unsigned char inputs[32], struct err *e)
{
	sqlite3_stmt *st = prep(f, "INSERT OR REPLACE INTO period("
				"period, prefix, version, digest, inputs)"
				" VALUES(?1, ?2, ?3, ?4, ?5)", e);
	int rc;

	if (!st)
		return ST_ERROR;
	sqlite3_bind_int(st, 1, p);
	sqlite3_bind_text(st, 2, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, version);
	sqlite3_bind_blob(st, 4, digest, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, inputs, 32, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_err(f, "write the period", e);
}

void final_invoices_release(struct final_invoice *inv, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < inv[i].nlines; j++) {
			free(inv[i].lines[j].item);
			free(inv[i].lines[j].price_group);
			free(inv[i].lines[j].tiers);
		}
		free(inv[i].lines);
		free(inv[i].tenant);
	}
	free(inv);
}

static int load_invoices(struct final *f, int p, struct final_invoice **out,
			 size_t *n, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	st = prep(f, "SELECT tenant, currency, number, version, total, net,"
		  " tax, tax_rate, tax_category, issue_date, due_date"
		  " FROM invoice WHERE period = ?1 ORDER BY tenant, currency",
		  e);
	if (!st)
		return ST_ERROR;
	sqlite3_bind_int(st, 1, p);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct final_invoice *v;

		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		v = &(*out)[(*n)++];
		memset(v, 0, sizeof(*v));
		v->tenant = xstrdup(col_text(st, 0));
		snprintf(v->currency, sizeof(v->currency), "%s",
			 col_text(st, 1));
		v->number = sqlite3_column_int64(st, 2);
		v->version = sqlite3_column_int(st, 3);
		v->total = sqlite3_column_int64(st, 4);
		v->terms.net = sqlite3_column_int64(st, 5);
		v->terms.tax = sqlite3_column_int64(st, 6);
		v->terms.tax_rate = sqlite3_column_int64(st, 7);
		snprintf(v->terms.tax_category,
			 sizeof(v->terms.tax_category), "%s", col_text(st, 8));
		snprintf(v->terms.issue_date, sizeof(v->terms.issue_date),
			 "%s", col_text(st, 9));
		snprintf(v->terms.due_date, sizeof(v->terms.due_date), "%s",
			 col_text(st, 10));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_err(f, "read invoices", e);
}

/* The lines come in the invoices' order, so one walk matches them. */
static int load_lines(struct final *f, int p, struct final_invoice *inv,
		      size_t n, struct err *e)
{
	sqlite3_stmt *st;
	size_t k = 0;
	int rc;

	st = prep(f, "SELECT tenant, currency, item, price_group, usage_qty,"
		  " package_qty, forgiven_qty, uncovered_qty, billable_qty,"
		  " tiers, amount FROM invoice_line WHERE period = ?1"
		  " ORDER BY tenant, currency, item, price_group", e);
	if (!st)
		return ST_ERROR;
	sqlite3_bind_int(st, 1, p);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct final_invoice *v;
		struct final_line *l;

		while (k < n && (strcmp(inv[k].tenant, col_text(st, 0)) != 0 ||
				 strcmp(inv[k].currency, col_text(st, 1)) != 0))
			k++;
		if (k == n)
			break;
		v = &inv[k];
		v->lines = xrealloc(v->lines, (v->nlines + 1) *
				    sizeof(*v->lines));
		l = &v->lines[v->nlines++];
		l->item = xstrdup(col_text(st, 2));
		l->price_group = xstrdup(col_text(st, 3));
		l->usage_qty = sqlite3_column_int64(st, 4);
		l->package_qty = sqlite3_column_int64(st, 5);
		l->forgiven_qty = sqlite3_column_int64(st, 6);
		l->uncovered_qty = sqlite3_column_int64(st, 7);
		l->billable_qty = sqlite3_column_int64(st, 8);
		l->tiers = xstrdup(col_text(st, 9));
		l->amount = sqlite3_column_int64(st, 10);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_err(f, "read invoice lines", e);
	return 0;
}

int final_invoices_get(struct final *f, int p, struct final_invoice **out,
		       size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	if (load_invoices(f, p, out, n, e))
		return ST_ERROR;
	return load_lines(f, p, *out, *n, e);
}

static const char sql_del_lines[] =
	"DELETE FROM invoice_line WHERE period = ?1 AND tenant = ?2 AND"
	" currency = ?3";
static const char sql_invoice[] =
	"INSERT OR REPLACE INTO invoice(period, tenant, currency, number,"
	" version, total, net, tax, tax_rate, tax_category, issue_date,"
	" due_date) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)";
/* invoices the period has none of yet: plain inserts (a row that is
 * there after all fails the close rather than being replaced), one or
 * ADD_ROWS (rows_stmt) at a time; their lines ADD_ROWS at a time too */
static const char sql_new_invoice[] =
	"INSERT INTO invoice(period, tenant, currency, number,"
	" version, total, net, tax, tax_rate, tax_category, issue_date,"
	" due_date) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)";
static const char sql_invoice_rows[] =
	"INSERT INTO invoice(period, tenant, currency, number,"
	" version, total, net, tax, tax_rate, tax_category, issue_date,"
	" due_date) VALUES";
static const char sql_line_rows[] =
	"INSERT INTO invoice_line(period, tenant, currency, item,"
	" price_group, usage_qty, package_qty, forgiven_qty, uncovered_qty,"
	" billable_qty, tiers, amount) VALUES";
static const char sql_adjustment[] =
	"INSERT INTO adjustment(period, tenant, currency, seq, item,"
	" price_group, old_amount, new_amount, issue_date)"
	" VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)";
/* The statement that inserts 1 << k lines of one invoice: ?1, ?2, ?3 are
 * the period, tenant and currency, then 9 values per line. One step per
 * statement instead of one per line, and the invoice's key bound once:
 * about a fifth less time for the 2.5 x 10^5 lines of a 10 M record
 * close. */
static sqlite3_stmt *line_stmt(struct final *f, int k, struct err *e)
{
	char *sql;
	size_t cap, n;
	int r, rows = 1 << k;

	if (f->lines[k]) {
		sqlite3_reset(f->lines[k]);
		return f->lines[k];
	}
	cap = 256 + (size_t)rows * 64;
	sql = xmalloc(cap);
	n = (size_t)snprintf(sql, cap, "INSERT INTO invoice_line(period,"
			     " tenant, currency, item, price_group, usage_qty,"
			     " package_qty, forgiven_qty, uncovered_qty,"
			     " billable_qty, tiers, amount) VALUES");
	for (r = 0; r < rows; r++) {
		int b = 4 + 9 * r;

		n += (size_t)snprintf(sql + n, cap - n, "%s(?1,?2,?3,?%d,?%d,"
				      "?%d,?%d,?%d,?%d,?%d,?%d,?%d)",
				      r ? "," : "", b, b + 1, b + 2, b + 3,
				      b + 4, b + 5, b + 6, b + 7, b + 8);
	}
	f->lines[k] = prep(f, sql, e);
	free(sql);
	return f->lines[k];
}

/* Binds the key of an invoice, (period, tenant, currency), as
 * parameters b + 1 .. b + 3. */
static void bind_key_at(sqlite3_stmt *st, int b, int p, const char *tenant,
			const char *currency)
{
	sqlite3_bind_int(st, b + 1, p);
	sqlite3_bind_text(st, b + 2, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, b + 3, currency, -1, SQLITE_STATIC);
}

/* The key as ?1..?3. */
static void bind_key(sqlite3_stmt *st, int p, const char *tenant,
		     const char *currency)
{
	bind_key_at(st, 0, p, tenant, currency);
}

/* Inserts the lines of v, as many per statement as line_stmt allows. */
static int put_lines(struct final *f, int p, const struct eng_invoice *v,
		     struct err *e)
{
	sqlite3_stmt *st;
	size_t i;

	for (i = 0; i < v->nlines;) {
		size_t left = v->nlines - i;
		int k = LINE_STMTS - 1, r;

		while ((size_t)1 << k > left)
			k--;
		if (!(st = line_stmt(f, k, e)))
			return ST_ERROR;
		bind_key(st, p, v->acct->tenant, v->acct->currency);
		for (r = 0; r < 1 << k; r++, i++) {
			const struct eng_line *l = &v->lines[i];
			int b = 4 + 9 * r;

			sqlite3_bind_text(st, b, l->item->code, -1,
					  SQLITE_STATIC);
			sqlite3_bind_text(st, b + 1,
					  l->item->groups[l->group].filter, -1,
					  SQLITE_STATIC);
			sqlite3_bind_int64(st, b + 2, l->usage);
			sqlite3_bind_int64(st, b + 3, l->covered);
			sqlite3_bind_int64(st, b + 4, l->forgiven);
			sqlite3_bind_int64(st, b + 5, l->uncovered);
			sqlite3_bind_int64(st, b + 6, l->billable);
			sqlite3_bind_text(st, b + 7, l->tiers, -1,
					  SQLITE_STATIC);
			sqlite3_bind_int64(st, b + 8, l->amount);
		}
		if (sqlite3_step(st) != SQLITE_DONE)
			return db_err(f, "write invoice lines", e);
	}
	return 0;
}

int final_invoice_put(struct final *f, int p, const struct eng_invoice *v,
		      int64_t number, int version,
		      const struct final_terms *terms, struct err *e)
{
	const char *t = v->acct->tenant, *cur = v->acct->currency;
	sqlite3_stmt *st;

	if (!(st = cached(f, sql_del_lines, e)))
		return ST_ERROR;
	bind_key(st, p, t, cur);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_err(f, "write invoice lines", e);
	if (!(st = cached(f, sql_invoice, e)))
		return ST_ERROR;
	bind_key(st, p, t, cur);
	sqlite3_bind_int64(st, 4, number);
	sqlite3_bind_int(st, 5, version);
	sqlite3_bind_int64(st, 6, terms->net + terms->tax);
	sqlite3_bind_int64(st, 7, terms->net);
	sqlite3_bind_int64(st, 8, terms->tax);
	sqlite3_bind_int64(st, 9, terms->tax_rate);
	sqlite3_bind_text(st, 10, terms->tax_category, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, terms->issue_date, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, terms->due_date, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_err(f, "write an invoice", e);
	return put_lines(f, p, v, e);
}

/* The statement in *slot, made on first use: head, then ADD_ROWS rows of
 * 12 parameters each (row r's are 12 r + 1 .. 12 r + 12). */
static sqlite3_stmt *rows_stmt(struct final *f, sqlite3_stmt **slot,
			       const char *head, struct err *e)
{
	static const char row[] = "(?,?,?,?,?,?,?,?,?,?,?,?)";
	size_t hn = strlen(head), cap, n, r;
	char *sql;

	if (*slot) {
		sqlite3_reset(*slot);
		return *slot;
	}
	cap = hn + ADD_ROWS * sizeof(row) + 1;
	sql = xmalloc(cap);
	memcpy(sql, head, hn);
	n = hn;
	for (r = 0; r < ADD_ROWS; r++) {
		if (r)
			sql[n++] = ',';
		memcpy(sql + n, row, sizeof(row) - 1);
		n += sizeof(row) - 1;
	}
	sql[n] = '\0';
	*slot = prep(f, sql, e);
	free(sql);
	return *slot;
}

/* Binds the invoice row of a as parameters b + 1 .. b + 12, in
 * sql_new_invoice's order. */
static void bind_invoice(sqlite3_stmt *st, int b, int p,
			 const struct final_fresh *a)
{
	const struct final_terms *t = a->terms;

	sqlite3_bind_int(st, b + 1, p);
	sqlite3_bind_text(st, b + 2, a->v->acct->tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, b + 3, a->v->acct->currency, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, b + 4, a->number);
	sqlite3_bind_int(st, b + 5, a->version);
	sqlite3_bind_int64(st, b + 6, t->net + t->tax);
	sqlite3_bind_int64(st, b + 7, t->net);
	sqlite3_bind_int64(st, b + 8, t->tax);
	sqlite3_bind_int64(st, b + 9, t->tax_rate);
	sqlite3_bind_text(st, b + 10, t->tax_category, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, b + 11, t->issue_date, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, b + 12, t->due_date, -1, SQLITE_STATIC);
}

/* Binds line l of v as parameters b + 1 .. b + 12, in the order of
 * line_stmt's columns (its key first). */
static void bind_line(sqlite3_stmt *st, int b, int p,
		      const struct eng_invoice *v, const struct eng_line *l)
{
	bind_key_at(st, b, p, v->acct->tenant, v->acct->currency);
	sqlite3_bind_text(st, b + 4, l->item->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, b + 5, l->item->groups[l->group].filter, -1,
			  SQLITE_STATIC);
	sqlite3_bind_int64(st, b + 6, l->usage);
	sqlite3_bind_int64(st, b + 7, l->covered);
	sqlite3_bind_int64(st, b + 8, l->forgiven);
	sqlite3_bind_int64(st, b + 9, l->uncovered);
	sqlite3_bind_int64(st, b + 10, l->billable);
	sqlite3_bind_text(st, b + 11, l->tiers, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, b + 12, l->amount);
}

int final_invoices_add(struct final *f, int p, const struct final_fresh *a,
		       size_t n, struct err *e)
{
	sqlite3_stmt *st;
	size_t i, j, left = 0;
	int r, rows;

	for (i = 0; i < n;) {
		rows = n - i >= ADD_ROWS ? ADD_ROWS : 1;
		st = rows > 1 ? rows_stmt(f, &f->inv_rows, sql_invoice_rows, e)
			      : cached(f, sql_new_invoice, e);
		if (!st)
			return ST_ERROR;
		for (r = 0; r < rows; r++)
			bind_invoice(st, 12 * r, p, &a[i++]);
		if (sqlite3_step(st) != SQLITE_DONE)
			return db_err(f, "write an invoice", e);
	}
	/* the lines, a cursor (i, j) over every invoice's */
	for (i = 0; i < n; i++)
		left += a[i].v->nlines;
	for (i = j = 0; left;) {
		rows = left >= ADD_ROWS ? ADD_ROWS : 1;
		st = rows > 1 ? rows_stmt(f, &f->line_rows, sql_line_rows, e)
			      : line_stmt(f, 0, e);
		if (!st)
			return ST_ERROR;
		for (r = 0; r < rows; r++) {
			while (j == a[i].v->nlines) {
				i++;
				j = 0;
			}
			bind_line(st, 12 * r, p, a[i].v, &a[i].v->lines[j++]);
		}
		if (sqlite3_step(st) != SQLITE_DONE)
			return db_err(f, "write invoice lines", e);
		left -= (size_t)rows;
	}
	return 0;
}

int final_adjustment_put(struct final *f, int p, const char *tenant,
			 const char *currency, int seq, const char *item,
			 const char *price_group, dec_t old_amount,
			 dec_t new_amount, const char *issue_date,
			 struct err *e)
{
	sqlite3_stmt *st = cached(f, sql_adjustment, e);

	if (!st)
		return ST_ERROR;
	bind_key(st, p, tenant, currency);
	sqlite3_bind_int(st, 4, seq);
	sqlite3_bind_text(st, 5, item, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, price_group, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, old_amount);
	sqlite3_bind_int64(st, 8, new_amount);
	sqlite3_bind_text(st, 9, issue_date, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_err(f, "write an adjustment", e);
	return 0;
}

int final_adjustments(struct final *f, int p,
		      int (*fn)(void *ctx, const struct final_adjustment *a),
		      void *ctx, struct err *e)
{
	sqlite3_stmt *st = prep(f, "SELECT a.tenant, a.currency, a.seq,"
				" a.item, a.price_group, a.old_amount,"
				" a.new_amount, i.number, a.issue_date"
				" FROM adjustment a"
				" JOIN invoice i ON i.period = a.period AND"
				" i.tenant = a.tenant AND"
				" i.currency = a.currency"
				" WHERE a.period = ?1", e);
	int rc, r = 0;

	if (!st)
		return ST_ERROR;
	sqlite3_bind_int(st, 1, p);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct final_adjustment a;

		a.tenant = col_text(st, 0);
		a.currency = col_text(st, 1);
		a.seq = sqlite3_column_int(st, 2);
		a.item = col_text(st, 3);
		a.price_group = col_text(st, 4);
		a.old_amount = sqlite3_column_int64(st, 5);
		a.new_amount = sqlite3_column_int64(st, 6);
		a.number = sqlite3_column_int64(st, 7);
		a.issue_date = col_text(st, 8);
		if ((r = fn(ctx, &a)) != 0)
			break;
	}
	sqlite3_finalize(st);
	if (r)
		return r;
	return rc == SQLITE_DONE ? 0 : db_err(f, "read adjustments", e);
}

int final_all_invoices(struct final *f, int upto, const char *prefix_upto,
		       int (*fn)(void *ctx, const char *tenant,
				 const char *currency, int period,
				 int64_t number, dec_t total,
				 const char *prefix),
		       void *ctx, struct err *e)
{
	sqlite3_stmt *st = prep(f, "SELECT i.tenant, i.currency, i.period,"
				" i.number, i.total, coalesce(p.prefix, ?2)"
				" FROM invoice i LEFT JOIN period p ON"
				" p.period = i.period WHERE i.period <= ?1"
				" ORDER BY i.tenant, i.currency, i.period", e);
	int rc, r = 0;

	if (!st)
		return ST_ERROR;
	sqlite3_bind_int(st, 1, upto);
	sqlite3_bind_text(st, 2, prefix_upto, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = fn(ctx, col_text(st, 0), col_text(st, 1),
		       sqlite3_column_int(st, 2), sqlite3_column_int64(st, 3),
		       sqlite3_column_int64(st, 4), col_text(st, 5));
		if (r)
			break;
	}
	if (!r && rc != SQLITE_DONE)
		r = db_err(f, "read invoices", e);
	sqlite3_finalize(st);
	return r;
}

int final_period_totals(struct final *f, int p,
			int (*fn)(void *ctx, const char *tenant,
				  const char *currency, int64_t number,
				  dec_t total),
			void *ctx, struct err *e)
{
	/* the primary key's order: (period, tenant, currency) */
	sqlite3_stmt *st = prep(f, "SELECT tenant, currency, number, total"
				" FROM invoice WHERE period = ?1"
				" ORDER BY tenant, currency", e);
	int rc, r = 0;

	if (!st)
		return ST_ERROR;
	sqlite3_bind_int(st, 1, p);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = fn(ctx, col_text(st, 0), col_text(st, 1),
		       sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3));
		if (r)
			break;
	}
	if (!r && rc != SQLITE_DONE)
		r = db_err(f, "read invoices", e);
	sqlite3_finalize(st);
	return r;
}

int final_period_mark(struct final *f, int p, int64_t log_seq, int64_t as_of,
		      struct err *e)
{
	/* only when it differs: a close that changes nothing leaves the
	 * state byte for byte as it was */
	sqlite3_stmt *st = prep(f, "UPDATE period SET log_seq = ?2, as_of = ?3"
				" WHERE period = ?1 AND (log_seq IS NOT ?2 OR"
				" as_of IS NOT ?3)", e);
	int rc;

	if (!st)
		return ST_ERROR;
	sqlite3_bind_int(st, 1, p);
	sqlite3_bind_int64(st, 2, log_seq);
	sqlite3_bind_int64(st, 3, as_of);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_err(f, "write the period", e);
}
