/* final_doc: the SQL of the document data a close records (final_doc.h). */
#include "final_doc.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "store_int.h"
#include "ts.h"
#include "banned.h"

/* Made by the first close that records (final_doc.h): adding tables
 * needs no new schema version, and a state no such close touched reads
 * as "no document data". Amounts are dec_t millionths, as in final.c. */
static const char doc_schema[] =
	"CREATE TABLE IF NOT EXISTS doc_period("
	"  period INTEGER PRIMARY KEY,"
	"  seller_name TEXT NOT NULL, seller_address TEXT NOT NULL,"
	"  seller_city TEXT NOT NULL, seller_postal_code TEXT NOT NULL,"
	"  seller_country TEXT NOT NULL, seller_tax_id TEXT NOT NULL,"
	"  seller_email TEXT NOT NULL, seller_endpoint TEXT NOT NULL,"
	"  seller_iban TEXT NOT NULL, payment_terms_days INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS doc_account("
	"  period INTEGER NOT NULL, tenant TEXT NOT NULL,"
	"  currency TEXT NOT NULL, name TEXT NOT NULL,"
	"  address TEXT NOT NULL, city TEXT NOT NULL,"
	"  postal_code TEXT NOT NULL, country TEXT NOT NULL,"
	"  tax_id TEXT NOT NULL, email TEXT NOT NULL,"
	"  endpoint TEXT NOT NULL, exemption TEXT NOT NULL,"
	"  balance_before INTEGER NOT NULL,"
	"  paid_from_balance INTEGER NOT NULL,"
	"  PRIMARY KEY(period, tenant, currency)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS doc_item("
	"  period INTEGER NOT NULL, item TEXT NOT NULL, name TEXT NOT NULL,"
	"  unit TEXT NOT NULL, unit_code TEXT NOT NULL,"
	"  PRIMARY KEY(period, item)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS doc_group("
	"  period INTEGER NOT NULL, item TEXT NOT NULL,"
	"  price_group TEXT NOT NULL, label TEXT NOT NULL,"
	"  PRIMARY KEY(period, item, price_group)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS doc_flat("
	"  period INTEGER NOT NULL, tenant TEXT NOT NULL,"
	"  currency TEXT NOT NULL, item TEXT NOT NULL,"
	"  price_group TEXT NOT NULL, flat INTEGER NOT NULL,"
	"  PRIMARY KEY(period, tenant, currency, item, price_group))"
	"  WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS doc_package("
	"  period INTEGER NOT NULL, tenant TEXT NOT NULL,"
	"  currency TEXT NOT NULL, item TEXT NOT NULL,"
	"  price_group TEXT NOT NULL, package_id TEXT NOT NULL,"
	"  quantity INTEGER NOT NULL, units INTEGER NOT NULL,"
	"  PRIMARY KEY(period, tenant, currency, item, price_group,"
	"  package_id)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS doc_adjustment("
	"  period INTEGER NOT NULL, tenant TEXT NOT NULL,"
	"  currency TEXT NOT NULL, seq INTEGER NOT NULL,"
	"  due_date TEXT NOT NULL,"
	"  PRIMARY KEY(period, tenant, currency, seq)) WITHOUT ROWID;";

/* An upsert that writes only when some value differs: a close that
 * changes nothing must leave the state byte for byte as it was. */
static const char sql_period[] =
	"INSERT INTO doc_period VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"
	" ON CONFLICT(period) DO UPDATE SET seller_name = ?2,"
	" seller_address = ?3, seller_city = ?4, seller_postal_code = ?5,"
	" seller_country = ?6, seller_tax_id = ?7, seller_email = ?8,"
	" seller_endpoint = ?9, seller_iban = ?10, payment_terms_days = ?11"
	" WHERE (seller_name, seller_address, seller_city,"
	" seller_postal_code, seller_country, seller_tax_id, seller_email,"
	" seller_endpoint, seller_iban, payment_terms_days) IS NOT"
	" (?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)";
static const char sql_account[] =
	"INSERT INTO doc_account VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,"
	"?12,?13,?14) ON CONFLICT(period, tenant, currency) DO UPDATE SET"
	" name = ?4, address = ?5, city = ?6, postal_code = ?7,"
	" country = ?8, tax_id = ?9, email = ?10, endpoint = ?11,"
	" exemption = ?12, balance_before = ?13, paid_from_balance = ?14"
	" WHERE (name, address, city, postal_code, country, tax_id, email,"
	" endpoint, exemption, balance_before, paid_from_balance) IS NOT"
	" (?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)";
static const char sql_item[] =
	"INSERT INTO doc_item VALUES(?1,?2,?3,?4,?5) ON CONFLICT(period, item)"
	" DO UPDATE SET name = ?3, unit = ?4, unit_code = ?5"
	" WHERE (name, unit, unit_code) IS NOT (?3,?4,?5)";
static const char sql_group[] =
	"INSERT INTO doc_group VALUES(?1,?2,?3,?4)"
	" ON CONFLICT(period, item, price_group) DO UPDATE SET label = ?4"
	" WHERE label IS NOT ?4";
static const char sql_flat[] =
	"INSERT INTO doc_flat VALUES(?1,?2,?3,?4,?5,?6)";
static const char sql_package[] =
	"INSERT INTO doc_package VALUES(?1,?2,?3,?4,?5,?6,?7,?8)";
static const char sql_adjustment[] =
	"INSERT OR IGNORE INTO doc_adjustment VALUES(?1,?2,?3,?4,?5)";

/* sql_account for ACC_BATCH rows in one statement (the values of row k
 * are parameters 14 k + 1 .. 14 k + 14): one step per 32 invoices
 * instead of one each. */
#ifndef ACC_BATCH
#define ACC_BATCH 32  /* -DACC_BATCH=2 runs the e2e cases through it */
#endif
static char *accounts_sql(void)
{
	static const char row[] = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
	static const char head[] = "INSERT INTO doc_account VALUES";
	static const char tail[] =
		" ON CONFLICT(period, tenant, currency) DO UPDATE SET"
		" name = excluded.name, address = excluded.address,"
		" city = excluded.city, postal_code = excluded.postal_code,"
		" country = excluded.country, tax_id = excluded.tax_id,"
		" email = excluded.email, endpoint = excluded.endpoint,"
		" exemption = excluded.exemption,"
		" balance_before = excluded.balance_before,"
		" paid_from_balance = excluded.paid_from_balance"
		" WHERE (name, address, city, postal_code, country, tax_id,"
		" email, endpoint, exemption, balance_before,"
		" paid_from_balance) IS NOT (excluded.name, excluded.address,"
		" excluded.city, excluded.postal_code, excluded.country,"
		" excluded.tax_id, excluded.email, excluded.endpoint,"
		" excluded.exemption, excluded.balance_before,"
		" excluded.paid_from_balance)";
	size_t cap = sizeof(head) + ACC_BATCH * sizeof(row) + sizeof(tail);
	char *sql = xmalloc(cap);
	size_t n = 0, k;

	memcpy(sql, head, sizeof(head) - 1);
	n = sizeof(head) - 1;
	for (k = 0; k < ACC_BATCH; k++) {
		if (k)
			sql[n++] = ',';
		memcpy(sql + n, row, sizeof(row) - 1);
		n += sizeof(row) - 1;
	}
	memcpy(sql + n, tail, sizeof(tail));
	return sql;
}

/* The recorder: statements prepared once per put. */
struct rec {
	sqlite3 *db;
	const struct final_doc_src *src;
	struct err *e;
	sqlite3_stmt *st[8];
};

enum { S_PERIOD, S_ACCOUNT, S_ITEM, S_GROUP, S_FLAT, S_PACKAGE, S_ADJ,
       S_ACCOUNTS };

static int db_err(sqlite3 *db, const char *what, struct err *e)
{
	return err_set(e, ST_ERROR, "cannot %s document data in state file: "
		       "%s", what, sqlite3_errmsg(db));
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, nz(s), -1, SQLITE_STATIC);
}

/* Steps st once and resets it for the next row. */
static int step(struct rec *r, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : db_err(r->db, "write", r->e);
}

static int put_seller(struct rec *r)
{
	const struct settings *set = &r->src->cat->set;
	sqlite3_stmt *st = r->st[S_PERIOD];
	int f;

	sqlite3_bind_int(st, 1, r->src->p);
	for (f = 0; f < SELLER_NFIELDS; f++)
		bind_text(st, 2 + f, set->seller[f]);
	sqlite3_bind_int64(st, 11, set->payment_terms_days);
	return step(r, st);
}

/* Binds the doc_account row of (a, h) as parameters b+1 .. b+14. */
static void bind_account(struct rec *r, sqlite3_stmt *st, int b,
			 const struct account *a,
			 const struct report_invoice *h)
{
	sqlite3_bind_int(st, b + 1, r->src->p);
	bind_text(st, b + 2, a->tenant);
	bind_text(st, b + 3, a->currency);
	bind_text(st, b + 4, a->name);
	bind_text(st, b + 5, a->doc->address);
	bind_text(st, b + 6, a->doc->city);
	bind_text(st, b + 7, a->doc->postal_code);
	bind_text(st, b + 8, a->doc->country);
	bind_text(st, b + 9, a->doc->tax_id);
	bind_text(st, b + 10, a->doc->email);
	bind_text(st, b + 11, a->doc->endpoint);
	bind_text(st, b + 12, a->doc->tax_exemption);
	sqlite3_bind_int64(st, b + 13, h->balance_before);
	sqlite3_bind_int64(st, b + 14, h->paid_from_balance);
}

/* The doc_account rows of invoices [i, i + n) of the period: ACC_BATCH
 * at a time with one statement, the rest one by one. */
static int put_accounts(struct rec *r, size_t i, size_t n)
{
	const struct final_doc_src *src = r->src;
	size_t k;

	if (n == ACC_BATCH) {
		for (k = 0; k < n; k++)
			bind_account(r, r->st[S_ACCOUNTS], 14 * (int)k,
				     src->rp->inv[i + k].acct,
				     &src->inv[i + k]);
		return step(r, r->st[S_ACCOUNTS]);
	}
	for (k = 0; k < n; k++) {
		bind_account(r, r->st[S_ACCOUNT], 0, src->rp->inv[i + k].acct,
			     &src->inv[i + k]);
		if (step(r, r->st[S_ACCOUNT]))
			return ST_ERROR;
	}
	return 0;
}

/* Items and groups are recorded once each: seen[] marks them, one byte
 * per group of every item, at goff[item index] on. */
struct seen {
	unsigned char *item, *group;
	size_t *goff;
};

static int put_group(struct rec *r, struct seen *sn, const struct item *it,
		     size_t g)
{
	size_t k = (size_t)(it - r->src->cat->items);
	sqlite3_stmt *st;

	if (!sn->item[k]) {
		sn->item[k] = 1;
		st = r->st[S_ITEM];
		sqlite3_bind_int(st, 1, r->src->p);
		bind_text(st, 2, it->code);
		bind_text(st, 3, it->name);
		bind_text(st, 4, it->price_unit);
		bind_text(st, 5, it->unit_code);
		if (step(r, st))
			return ST_ERROR;
	}
	if (sn->group[sn->goff[k] + g])
		return 0;
	sn->group[sn->goff[k] + g] = 1;
	st = r->st[S_GROUP];
	sqlite3_bind_int(st, 1, r->src->p);
	bind_text(st, 2, it->code);
	bind_text(st, 3, it->groups[g].filter);
	bind_text(st, 4, it->groups[g].label);
	return step(r, st);
}

/* The item and group of an adjustment row, when the config still has
 * them (one it lost keeps what an earlier close recorded). */
static int put_adj_group(struct rec *r, struct seen *sn,
			 const struct report_adjustment *a)
{
	const struct item *it;
	size_t g;

	if (!a->item[0])
		return 0;  /* the tax and total rows */
	it = catalog_item(r->src->cat, a->item, strlen(a->item));
	if (!it)
		return 0;
	for (g = 0; g < it->ngroups; g++)
		if (strcmp(it->groups[g].filter, a->price_group) == 0)
			return put_group(r, sn, it, g);
	return 0;
}

static int put_line_numbers(struct rec *r, const struct eng_invoice *v,
			    const struct eng_line *l)
{
	const struct catalog *cat = r->src->cat;
	sqlite3_stmt *st;
	size_t k;

	if (l->flat) {
		st = r->st[S_FLAT];
		sqlite3_bind_int(st, 1, r->src->p);
		bind_text(st, 2, v->acct->tenant);
		bind_text(st, 3, v->acct->currency);
		bind_text(st, 4, l->item->code);
		bind_text(st, 5, l->item->groups[l->group].filter);
		sqlite3_bind_int64(st, 6, l->flat);
		if (step(r, st))
			return ST_ERROR;
	}
	for (k = 0; k < l->npu; k++) {
		/* package_usage.csv leaves these out too (SPEC 8) */
		if (!l->pu[k].qty && !l->pu[k].units)
			continue;
		st = r->st[S_PACKAGE];
		sqlite3_bind_int(st, 1, r->src->p);
		bind_text(st, 2, v->acct->tenant);
		bind_text(st, 3, v->acct->currency);
		bind_text(st, 4, l->item->code);
		bind_text(st, 5, l->item->groups[l->group].filter);
		bind_text(st, 6, cat->packages[l->pu[k].pkg].id);
		sqlite3_bind_int64(st, 7, l->pu[k].qty);
		sqlite3_bind_int64(st, 8, l->pu[k].units);
		if (step(r, st))
			return ST_ERROR;
	}
	return 0;
}

/* The due date an adjustment shows (SPEC 7 v2): issue date + the
 * payment terms of the close that issues it, for a positive total delta
 * only; "" otherwise or when the date is unusable. */
static void adj_due(const struct settings *set, const char *issue,
		    dec_t delta, char due[11])
{
	char t[TS_MAX_TEXT + 16];
	int64_t at;

	due[0] = '\0';
	if (delta <= 0 || strlen(issue) != 10)
		return;
	snprintf(t, sizeof(t), "%sT00:00:00Z", issue);
	if (ts_parse(t, strlen(t), &at) ||
	    ts_add_days(at, set->payment_terms_days, &at))
		return;
	ts_format(at, 0, t);
	memcpy(due, t, 10);
	due[10] = '\0';
}

/* The sequence number N of an adjustment number "...-AN". */
static int adj_seq(const char *no)
{
	const char *a = strrchr(no, 'A');
	int n = 0;

	for (a = a ? a + 1 : ""; *a >= '0' && *a <= '9' && n < 100000000; a++)
		n = n * 10 + (*a - '0');
	return n;
}

static int put_adjustment(struct rec *r, const struct report_adjustment *a)
{
	sqlite3_stmt *st = r->st[S_ADJ];
	char due[11];

	if (a->item[0] || a->price_group[0])
		return 0;  /* one row per adjustment: its total row */
	adj_due(&r->src->cat->set, a->issue_date, a->delta, due);
	sqlite3_bind_int(st, 1, r->src->p);
	bind_text(st, 2, a->tenant);
	bind_text(st, 3, a->currency);
	sqlite3_bind_int(st, 4, adj_seq(a->adjustment_no));
	bind_text(st, 5, due);
	return step(r, st);
}

static int put_lines(struct rec *r)
{
	const struct eng_period *rp = r->src->rp;
	char sql[128];
	size_t i, j;

	snprintf(sql, sizeof(sql), "DELETE FROM doc_flat WHERE period = %d;"
		 "DELETE FROM doc_package WHERE period = %d", r->src->p,
		 r->src->p);
	if (sqlite3_exec(r->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_err(r->db, "write", r->e);
	for (i = 0; i < rp->ninv; i++)
		for (j = 0; j < rp->inv[i].nlines; j++)
			if (put_line_numbers(r, &rp->inv[i],
					     &rp->inv[i].lines[j]))
				return ST_ERROR;
	return 0;
}

static int put_all(struct rec *r, struct seen *sn, int lines)
{
	const struct final_doc_src *src = r->src;
	size_t i, j;

	if (put_seller(r))
		return ST_ERROR;
	for (i = 0; i < src->rp->ninv; i += ACC_BATCH) {
		size_t n = src->rp->ninv - i;

		if (put_accounts(r, i, n < ACC_BATCH ? n : ACC_BATCH))
			return ST_ERROR;
	}
	for (i = 0; i < src->rp->ninv; i++) {
		const struct eng_invoice *v = &src->rp->inv[i];

		for (j = 0; j < v->nlines; j++)
			if (put_group(r, sn, v->lines[j].item,
				      v->lines[j].group))
				return ST_ERROR;
	}
	for (i = 0; i < src->nadj; i++)
		if (put_adj_group(r, sn, &src->adj[i]) ||
		    put_adjustment(r, &src->adj[i]))
			return ST_ERROR;
	return lines ? put_lines(r) : 0;
}

int final_doc_put(struct store *s, const struct final_doc_src *src,
		  int lines, struct err *e)
{
	char *batch = accounts_sql();
	const char *const sqls[8] = {
		sql_period, sql_account, sql_item, sql_group, sql_flat,
		sql_package, sql_adjustment, batch
	};
	const struct catalog *cat = src->cat;
	struct rec r;
	struct seen sn;
	size_t i, ng = 0;
	int rc = ST_ERROR;

	memset(&r, 0, sizeof(r));
	r.db = store_conn(s);
	r.src = src;
	r.e = e;
	sn.item = xcalloc(cat->nitems + 1, 1);
	sn.goff = xcalloc(cat->nitems + 1, sizeof(*sn.goff));
	for (i = 0; i < cat->nitems; i++) {
		sn.goff[i] = ng;
		ng += cat->items[i].ngroups;
	}
	sn.group = xcalloc(ng + 1, 1);
	if (sqlite3_exec(r.db, doc_schema, NULL, NULL, NULL) != SQLITE_OK) {
		db_err(r.db, "make the tables of", e);
		goto out;
	}
	for (i = 0; i < 8; i++)
		if (sqlite3_prepare_v2(r.db, sqls[i], -1, &r.st[i], NULL) !=
		    SQLITE_OK) {
			db_err(r.db, "prepare", e);
			goto out;
		}
	rc = put_all(&r, &sn, lines);
out:
	for (i = 0; i < 8; i++)
		sqlite3_finalize(r.st[i]);
	free(batch);
	free(sn.item);
	free(sn.goff);
	free(sn.group);
	return rc;
}

/* ---- reading ---- */

/* 1 when the state has the table (a close of this settle made it). */
static int has_table(sqlite3 *db, const char *name, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE"
			       " type = 'table' AND name = ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return db_err(db, "read", e), -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(db, "read", e), -1;
	return rc == SQLITE_ROW;
}

int final_doc_has(struct store *s, int p, int *yes, struct err *e)
{
	sqlite3 *db = store_conn(s);
	sqlite3_stmt *st = NULL;
	int rc = has_table(db, "doc_period", e);

	*yes = 0;
	if (rc <= 0)
		return rc < 0 ? ST_ERROR : 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM doc_period WHERE period ="
			       " ?1", -1, &st, NULL) != SQLITE_OK)
		return db_err(db, "read", e);
	sqlite3_bind_int(st, 1, p);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(db, "read", e);
	*yes = rc == SQLITE_ROW;
	return 0;
}

static char *col(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);

	return xstrdup(t ? t : "");
}

static void col_cur(sqlite3_stmt *st, int i, char cur[4])
{
	const char *t = (const char *)sqlite3_column_text(st, i);

	snprintf(cur, 4, "%s", t ? t : "");
}

/* Runs sql (?1 = p) and calls row() for each row, growing *arr of
 * elements of size sz: row fills the zeroed element at the end. */
static int read_rows(sqlite3 *db, int p, const char *sql, void **arr,
		     size_t *n, size_t sz,
		     void (*row)(sqlite3_stmt *st, void *el), struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_err(db, "read", e);
	sqlite3_bind_int(st, 1, p);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char *base;

		*arr = xrealloc(*arr, (*n + 1) * sz);
		base = (char *)*arr + *n * sz;
		memset(base, 0, sz);
		row(st, base);
		(*n)++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_err(db, "read", e);
}

static void row_account(sqlite3_stmt *st, void *el)
{
	struct final_doc_account *a = el;
	int f;

	a->tenant = col(st, 0);
	col_cur(st, 1, a->currency);
	for (f = 0; f < 9; f++)
		a->f[f] = col(st, 2 + f);
	a->balance_before = sqlite3_column_int64(st, 11);
	a->paid_from_balance = sqlite3_column_int64(st, 12);
}

static void row_item(sqlite3_stmt *st, void *el)
{
	struct final_doc_item *it = el;

	it->item = col(st, 0);
	it->name = col(st, 1);
	it->unit = col(st, 2);
	it->unit_code = col(st, 3);
}

static void row_group(sqlite3_stmt *st, void *el)
{
	struct final_doc_group *g = el;

	g->item = col(st, 0);
	g->price_group = col(st, 1);
	g->label = col(st, 2);
}

static void row_flat(sqlite3_stmt *st, void *el)
{
	struct final_doc_flat *f = el;

	f->tenant = col(st, 0);
	col_cur(st, 1, f->currency);
	f->item = col(st, 2);
	f->price_group = col(st, 3);
	f->flat = sqlite3_column_int64(st, 4);
}

static void row_pkg(sqlite3_stmt *st, void *el)
{
	struct final_doc_pkg *k = el;

	k->tenant = col(st, 0);
	col_cur(st, 1, k->currency);
	k->item = col(st, 2);
	k->price_group = col(st, 3);
	k->package_id = col(st, 4);
	k->quantity = sqlite3_column_int64(st, 5);
	k->units = sqlite3_column_int64(st, 6);
}

static void row_adj(sqlite3_stmt *st, void *el)
{
	struct final_doc_adj *a = el;
	const char *t = (const char *)sqlite3_column_text(st, 3);

	a->tenant = col(st, 0);
	col_cur(st, 1, a->currency);
	a->seq = sqlite3_column_int(st, 2);
	snprintf(a->due_date, sizeof(a->due_date), "%s", t ? t : "");
}

static int read_seller(sqlite3 *db, int p, struct final_doc *d,
		       struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc, f;

	if (sqlite3_prepare_v2(db, "SELECT seller_name, seller_address,"
			       " seller_city, seller_postal_code,"
			       " seller_country, seller_tax_id, seller_email,"
			       " seller_endpoint, seller_iban,"
			       " payment_terms_days FROM doc_period"
			       " WHERE period = ?1", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_err(db, "read", e);
	sqlite3_bind_int(st, 1, p);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		for (f = 0; f < SELLER_NFIELDS; f++)
			d->seller[f] = col(st, f);
		d->payment_terms_days = sqlite3_column_int64(st, 9);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : db_err(db, "read", e);
}

int final_doc_get(struct store *s, int p, struct final_doc *d, int *found,
		  struct err *e)
{
	sqlite3 *db = store_conn(s);

	memset(d, 0, sizeof(*d));
	if (final_doc_has(s, p, found, e))
		return ST_ERROR;
	if (!*found)
		return 0;
	/* ORDER BY in SQLite's BINARY collation: strcmp's order */
	return read_seller(db, p, d, e) ||
	       read_rows(db, p, "SELECT tenant, currency, name, address, city,"
			 " postal_code, country, tax_id, email, endpoint,"
			 " exemption, balance_before, paid_from_balance FROM"
			 " doc_account WHERE period = ?1 ORDER BY tenant,"
			 " currency", (void **)&d->acc, &d->nacc,
			 sizeof(*d->acc), row_account, e) ||
	       read_rows(db, p, "SELECT item, name, unit, unit_code FROM"
			 " doc_item WHERE period = ?1 ORDER BY item",
			 (void **)&d->items, &d->nitems, sizeof(*d->items),
			 row_item, e) ||
	       read_rows(db, p, "SELECT item, price_group, label FROM"
			 " doc_group WHERE period = ?1 ORDER BY item,"
			 " price_group", (void **)&d->groups, &d->ngroups,
			 sizeof(*d->groups), row_group, e) ||
	       read_rows(db, p, "SELECT tenant, currency, item, price_group,"
			 " flat FROM doc_flat WHERE period = ?1 ORDER BY"
			 " tenant, currency, item, price_group",
			 (void **)&d->flats, &d->nflats, sizeof(*d->flats),
			 row_flat, e) ||
	       read_rows(db, p, "SELECT tenant, currency, item, price_group,"
			 " package_id, quantity, units FROM doc_package WHERE"
			 " period = ?1 ORDER BY tenant, currency, item,"
			 " price_group, package_id", (void **)&d->pkgs,
			 &d->npkgs, sizeof(*d->pkgs), row_pkg, e) ||
	       read_rows(db, p, "SELECT tenant, currency, seq, due_date FROM"
			 " doc_adjustment WHERE period = ?1 ORDER BY tenant,"
			 " currency, seq", (void **)&d->adjs, &d->nadjs,
			 sizeof(*d->adjs), row_adj, e) ? ST_ERROR : 0;
}

void final_doc_release(struct final_doc *d)
{
	size_t i;
	int f;

	for (f = 0; f < SELLER_NFIELDS; f++)
		free(d->seller[f]);
	for (i = 0; i < d->nacc; i++) {
		free(d->acc[i].tenant);
		for (f = 0; f < 9; f++)
			free(d->acc[i].f[f]);
	}
	for (i = 0; i < d->nitems; i++) {
		free(d->items[i].item);
		free(d->items[i].name);
		free(d->items[i].unit);
		free(d->items[i].unit_code);
	}
	for (i = 0; i < d->ngroups; i++) {
		free(d->groups[i].item);
		free(d->groups[i].price_group);
		free(d->groups[i].label);
	}
	for (i = 0; i < d->nflats; i++) {
		free(d->flats[i].tenant);
		free(d->flats[i].item);
		free(d->flats[i].price_group);
	}
	for (i = 0; i < d->npkgs; i++) {
		free(d->pkgs[i].tenant);
		free(d->pkgs[i].item);
		free(d->pkgs[i].price_group);
		free(d->pkgs[i].package_id);
	}
	for (i = 0; i < d->nadjs; i++)
		free(d->adjs[i].tenant);
	free(d->acc);
	free(d->items);
	free(d->groups);
	free(d->flats);
	free(d->pkgs);
	free(d->adjs);
	memset(d, 0, sizeof(*d));
}
