/* ledger: settlement of final periods. */
#include "ledger.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "mem.h"
#include "report.h"
#include "sha256.h"
#include "ts.h"
#include "version.h"
#include "banned.h"

struct sline {
	char *item, *pg, *tiers;
	dec_t u, c, f, n, b, amount;
};

/* A final invoice as the state holds it. */
struct sinv {
	char *tenant;
	char currency[4];
	int64_t number;
	int version;
	dec_t total;
	struct sline *lines;
	size_t nlines;
	int seen;          /* matched by an invoice of this close */
};

/* Lines are inserted 1, 2, 4, ... 32 at a time. */
#define LINE_STMTS 6

/* Statements prepared once per close (the per-invoice writes). */
struct stmts {
	const char *sql[8];
	sqlite3_stmt *st[8];
	int n;
	sqlite3_stmt *lines[LINE_STMTS];  /* line_stmt(k): 1 << k lines */
};

/* Everything one close of one period works with. */
struct pctx {
	struct stmts *cache;
	struct store *s;
	sqlite3 *db;
	const struct catalog *cat;
	struct engine *g;
	int p;
	int64_t as_of;
	struct err *e;
	const unsigned char *inputs;
	char prefix[80];
	int was_final, version;
	unsigned char digest[32];
	struct sinv *st;             /* stored invoices, (tenant, currency) */
	size_t nst;
	struct account *ghosts;      /* accounts of vanished invoices */
	size_t nghosts;
	struct eng_period pp;
	struct report_invoice *rinv;
	dec_t *bbs;                  /* balance_before per invoice */
	struct report_adjustment *adj;
	size_t nadj;
	struct report_arrears *arr;
	size_t narr;
	size_t new_adjustments;
	struct report_files files;
};

static int db_err(struct pctx *c, const char *what)
{
	return err_set(c->e, ST_ERROR, "cannot %s in state file: %s", what,
		       sqlite3_errmsg(c->db));
}

static sqlite3_stmt *prep(struct pctx *c, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_err(c, "prepare a query");
		return NULL;
	}
	return st;
}

/* A prepared statement for sql, made once per close; reset and unbound
 * when handed out again. Not finalized by the caller. */
static sqlite3_stmt *cached(struct pctx *c, const char *sql)
{
	struct stmts *k = c->cache;
	int i;

	for (i = 0; i < k->n; i++)
		if (k->sql[i] == sql) {
			sqlite3_reset(k->st[i]);
			sqlite3_clear_bindings(k->st[i]);
			return k->st[i];
		}
	if (k->n == 8)
		abort(); /* more distinct statements than this file has */
	if (!(k->st[k->n] = prep(c, sql)))
		return NULL;
	k->sql[k->n] = sql;
	return k->st[k->n++];
}

static void stmts_release(struct stmts *k)
{
	int i;

	for (i = 0; i < k->n; i++)
		sqlite3_finalize(k->st[i]);
	k->n = 0;
	for (i = 0; i < LINE_STMTS; i++) {
		sqlite3_finalize(k->lines[i]);
		k->lines[i] = NULL;
	}
}

static const char sql_adjustment[] =
	"INSERT INTO adjustment(period, tenant, currency, seq, item,"
	" price_group, old_amount, new_amount) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)";
static const char sql_del_lines[] =
	"DELETE FROM invoice_line WHERE period = ?1 AND tenant = ?2 AND"
	" currency = ?3";
static const char sql_invoice[] =
	"INSERT OR REPLACE INTO invoice(period, tenant, currency, number,"
	" version, total) VALUES(?1,?2,?3,?4,?5,?6)";

/* The statement that inserts 1 << k lines of one invoice: ?1, ?2, ?3 are
 * the period, tenant and currency, then 9 values per line. One step per
 * statement instead of one per line, and the invoice's key bound once:
 * about a fifth less time for the 2.5 x 10^5 lines of a 10 M record
 * close. */
static sqlite3_stmt *line_stmt(struct pctx *c, int k)
{
	struct stmts *m = c->cache;
	char *sql;
	size_t cap, n;
	int r, rows = 1 << k;

	if (m->lines[k]) {
		sqlite3_reset(m->lines[k]);
		return m->lines[k];
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
	m->lines[k] = prep(c, sql);
	free(sql);
	return m->lines[k];
}

static int exec(struct pctx *c, const char *sql)
{
	if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_err(c, "update");
	return 0;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);

	return t ? t : "";
}

static int load_stored(struct pctx *c)
{
	sqlite3_stmt *st;
	int rc;

	st = prep(c, "SELECT prefix, version, digest FROM period"
		  " WHERE period = ?1");
	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, c->p);
	snprintf(c->prefix, sizeof(c->prefix), "%s",
		 c->cat->set.invoice_prefix);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		c->was_final = 1;
		snprintf(c->prefix, sizeof(c->prefix), "%s", col_text(st, 0));
		c->version = sqlite3_column_int(st, 1);
		if (sqlite3_column_bytes(st, 2) == 32)
			memcpy(c->digest, sqlite3_column_blob(st, 2), 32);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(c, "read periods");
	st = prep(c, "SELECT tenant, currency, number, version, total"
		  " FROM invoice WHERE period = ?1 ORDER BY tenant, currency");
	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, c->p);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sinv *v;

		c->st = xrealloc(c->st, (c->nst + 1) * sizeof(*c->st));
		v = &c->st[c->nst++];
		memset(v, 0, sizeof(*v));
		v->tenant = xstrdup(col_text(st, 0));
		snprintf(v->currency, sizeof(v->currency), "%s",
			 col_text(st, 1));
		v->number = sqlite3_column_int64(st, 2);
		v->version = sqlite3_column_int(st, 3);
		v->total = sqlite3_column_int64(st, 4);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(c, "read invoices");
	st = prep(c, "SELECT tenant, currency, item, price_group, usage_qty,"
		  " package_qty, forgiven_qty, uncovered_qty, billable_qty,"
		  " tiers, amount FROM invoice_line WHERE period = ?1"
		  " ORDER BY tenant, currency, item, price_group");
	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, c->p);
	{
		size_t k = 0;

		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct sinv *v;
			struct sline *l;

			while (k < c->nst &&
			       (strcmp(c->st[k].tenant, col_text(st, 0)) != 0 ||
				strcmp(c->st[k].currency, col_text(st, 1)) != 0))
				k++;
			if (k == c->nst)
				break;
			v = &c->st[k];
			v->lines = xrealloc(v->lines, (v->nlines + 1) *
					    sizeof(*v->lines));
			l = &v->lines[v->nlines++];
			l->item = xstrdup(col_text(st, 2));
			l->pg = xstrdup(col_text(st, 3));
			l->u = sqlite3_column_int64(st, 4);
			l->c = sqlite3_column_int64(st, 5);
			l->f = sqlite3_column_int64(st, 6);
			l->n = sqlite3_column_int64(st, 7);
			l->b = sqlite3_column_int64(st, 8);
			l->tiers = xstrdup(col_text(st, 9));
			l->amount = sqlite3_column_int64(st, 10);
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_err(c, "read invoice lines");
	return 0;
}

/* The stored invoice of (tenant, currency): they are sorted so (SQLite's
 * BINARY order is strcmp's), so a binary search. */
static struct sinv *find_stored(struct pctx *c, const char *tenant,
				const char *currency)
{
	size_t lo = 0, hi = c->nst;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int k = strcmp(c->st[mid].tenant, tenant);

		if (!k)
			k = strcmp(c->st[mid].currency, currency);
		if (!k)
			return &c->st[mid];
		if (k < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* PREFIX-YYYYMM-NNNNNN */
static void invoice_no(const char *prefix, int p, int64_t number, char *buf,
		       size_t cap)
{
	char ym[16];

	ts_period_format(p, 0, ym);
	snprintf(buf, cap, "%.64s-%.6s-%06lld", prefix, ym, (long long)number);
}

static int line_same(const struct eng_line *a, const struct sline *b)
{
	return a->u == b->u && a->c == b->c && a->f == b->f && a->n == b->n &&
	       a->b == b->b && a->amount == b->amount &&
	       strcmp(a->tiers, b->tiers) == 0;
}

/* Compares a line key (item, price group) of the engine and the state. */
static int cmp_key(const struct eng_line *a, const struct sline *b)
{
	int k = strcmp(a->item->code, b->item);

	return k ? k : strcmp(a->item->groups[a->group].filter, b->pg);
}

static int put_adjustment(struct pctx *c, const struct sinv *v, int seq,
			  const char *item, const char *pg, dec_t old,
			  dec_t nw)
{
	sqlite3_stmt *st = cached(c, sql_adjustment);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, c->p);
	sqlite3_bind_text(st, 2, v->tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, v->currency, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, seq);
	sqlite3_bind_text(st, 5, item, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, pg, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, old);
	sqlite3_bind_int64(st, 8, nw);
	rc = sqlite3_step(st);
	return rc == SQLITE_DONE ? 0 : db_err(c, "write an adjustment");
}

/* 1 if the stored invoice v and this close's n differ in any field of
 * any line, else 0. */
static int differs(const struct sinv *v, const struct eng_invoice *n)
{
	size_t i;

	if (n->nlines != v->nlines)
		return 1;
	for (i = 0; i < n->nlines; i++)
		if (cmp_key(&n->lines[i], &v->lines[i]) != 0 ||
		    !line_same(&n->lines[i], &v->lines[i]))
			return 1;
	return 0;
}

/* Issues the adjustment of a changed invoice (differs): a row per
 * changed line and a total row. Returns 0 or -1. */
static int adjust(struct pctx *c, struct sinv *v, const struct eng_invoice *n)
{
	size_t i = 0, j = 0;
	int seq = v->version;

	while (i < n->nlines || j < v->nlines) {
		int k = i == n->nlines ? 1 : j == v->nlines ? -1 :
			cmp_key(&n->lines[i], &v->lines[j]);
		int r = 0;

		if (k < 0) {
			const struct eng_line *l = &n->lines[i++];

			r = put_adjustment(c, v, seq, l->item->code,
					   l->item->groups[l->group].filter, 0,
					   l->amount);
		} else if (k > 0) {
			const struct sline *l = &v->lines[j++];

			r = put_adjustment(c, v, seq, l->item, l->pg, l->amount,
					   0);
		} else {
			const struct eng_line *l = &n->lines[i++];
			const struct sline *o = &v->lines[j++];

			if (!line_same(l, o))
				r = put_adjustment(c, v, seq, o->item, o->pg,
						   o->amount, l->amount);
		}
		if (r)
			return -1;
	}
	if (put_adjustment(c, v, seq, "", "", v->total, n->total))
		return -1;
	c->new_adjustments++;
	return 0;
}

/* Asks the CPU for the tiers texts of v's lines, which lie all over the
 * heap: fetched while the invoice before is written instead of one cache
 * miss at a time when bound. */
static void prefetch_tiers(const struct eng_invoice *v)
{
	size_t j;

	for (j = 0; j < v->nlines; j++)
		__builtin_prefetch(v->lines[j].tiers);
}

static int write_invoice(struct pctx *c, const struct eng_invoice *n,
			 int64_t number, int version)
{
	const char *t = n->acct->tenant, *cur = n->acct->currency;
	sqlite3_stmt *st;
	size_t i;

	if (!(st = cached(c, sql_del_lines)))
		return -1;
	sqlite3_bind_int(st, 1, c->p);
	sqlite3_bind_text(st, 2, t, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, cur, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_err(c, "write invoice lines");
	if (!(st = cached(c, sql_invoice)))
		return -1;
	sqlite3_bind_int(st, 1, c->p);
	sqlite3_bind_text(st, 2, t, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, cur, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, number);
	sqlite3_bind_int(st, 5, version);
	sqlite3_bind_int64(st, 6, n->total);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_err(c, "write an invoice");
	for (i = 0; i < n->nlines;) {
		size_t left = n->nlines - i;
		int k = LINE_STMTS - 1, r;

		while ((size_t)1 << k > left)
			k--;
		if (!(st = line_stmt(c, k)))
			return -1;
		sqlite3_bind_int(st, 1, c->p);
		sqlite3_bind_text(st, 2, t, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, cur, -1, SQLITE_STATIC);
		for (r = 0; r < 1 << k; r++, i++) {
			const struct eng_line *l = &n->lines[i];
			int b = 4 + 9 * r;

			sqlite3_bind_text(st, b, l->item->code, -1,
					  SQLITE_STATIC);
			sqlite3_bind_text(st, b + 1,
					  l->item->groups[l->group].filter, -1,
					  SQLITE_STATIC);
			sqlite3_bind_int64(st, b + 2, l->u);
			sqlite3_bind_int64(st, b + 3, l->c);
			sqlite3_bind_int64(st, b + 4, l->f);
			sqlite3_bind_int64(st, b + 5, l->n);
			sqlite3_bind_int64(st, b + 6, l->b);
			sqlite3_bind_text(st, b + 7, l->tiers, -1,
					  SQLITE_STATIC);
			sqlite3_bind_int64(st, b + 8, l->amount);
		}
		if (sqlite3_step(st) != SQLITE_DONE)
			return db_err(c, "write invoice lines");
	}
	return 0;
}

/* Sum of the payments of a (tenant, currency) before as_of. Payments are
 * sorted by (tenant, currency, ts, id): a binary search to the first one,
 * then a walk while they are the account's and before as_of. */
static dec_t payments_before(const struct catalog *cat, const char *tenant,
			     const char *currency, int64_t as_of)
{
	size_t lo = 0, hi = cat->npayments;
	dec_t sum = 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct payment *p = &cat->payments[mid];
		int k = strcmp(p->tenant, tenant);

		if (!k)
			k = strcmp(p->currency, currency);
		if (k < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < cat->npayments; lo++) {
		const struct payment *p = &cat->payments[lo];

		if (strcmp(p->tenant, tenant) != 0 ||
		    strcmp(p->currency, currency) != 0 || p->ts >= as_of)
			break;
		dec_add(sum, p->amount, &sum);
	}
	return sum;
}

/* Current totals of final invoices of periods before p, per account. */
struct finals {
	char **tenant;
	char (*currency)[4];
	dec_t *sum;
	size_t n;
};

static void finals_release(struct finals *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->tenant[i]);
	free(f->tenant);
	free(f->currency);
	free(f->sum);
	memset(f, 0, sizeof(*f));
}

/* One query for every account (sorted as SQLite's BINARY order, which is
 * strcmp's). */
static int finals_load(sqlite3 *db, int before, struct finals *f)
{
	sqlite3_stmt *st = NULL;
	int rc;

	memset(f, 0, sizeof(*f));
	if (sqlite3_prepare_v2(db, "SELECT tenant, currency, sum(total) FROM"
			       " invoice WHERE period < ?1 GROUP BY tenant,"
			       " currency ORDER BY tenant, currency", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, before);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		f->tenant = xrealloc(f->tenant, (f->n + 1) * sizeof(*f->tenant));
		f->currency = xrealloc(f->currency, (f->n + 1) *
				       sizeof(*f->currency));
		f->sum = xrealloc(f->sum, (f->n + 1) * sizeof(*f->sum));
		f->tenant[f->n] = xstrdup((const char *)
					  sqlite3_column_text(st, 0));
		snprintf(f->currency[f->n], 4, "%s",
			 (const char *)sqlite3_column_text(st, 1));
		f->sum[f->n++] = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static dec_t finals_of(const struct finals *f, const char *tenant,
		       const char *currency)
{
	size_t lo = 0, hi = f->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int k = strcmp(f->tenant[mid], tenant);

		if (!k)
			k = strcmp(f->currency[mid], currency);
		if (!k)
			return f->sum[mid];
		if (k < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

int ledger_balances_before(struct store *s, const struct catalog *cat,
			   const struct account *const *accts, size_t n, int p,
			   dec_t *out, struct err *e)
{
	int64_t as_of = ts_period_start(p + 1, cat->set.tz);
	struct finals f;
	size_t i;
	int rc = 0;

	if (finals_load(store_db(s), p, &f)) {
		finals_release(&f);
		return err_set(e, ST_ERROR, "cannot read invoices in state "
			       "file: %s", sqlite3_errmsg(store_db(s)));
	}
	for (i = 0; i < n && !rc; i++) {
		const struct account *a = accts[i];
		dec_t b = a->opening_balance;

		if (dec_add(b, payments_before(cat, a->tenant, a->currency,
					       as_of), &b) ||
		    dec_sub(b, finals_of(&f, a->tenant, a->currency), &b))
			rc = err_set(e, ST_ERROR, "balance of '%s' overflows",
				     a->tenant);
		out[i] = b;
	}
	finals_release(&f);
	return rc;
}

/* Arrears of every account after this close (SPEC section 7). */
static int arrears(struct pctx *c)
{
	const struct catalog *cat = c->cat;
	/* each invoice with the prefix of its period's first close (this
	 * period's row may not be written yet: ?4 stands in) */
	sqlite3_stmt *st = prep(c, "SELECT i.period, i.number, i.total,"
				" coalesce(p.prefix, ?4) FROM invoice i"
				" LEFT JOIN period p ON p.period = i.period"
				" WHERE i.tenant = ?1 AND i.currency = ?2 AND"
				" i.period <= ?3 ORDER BY i.period");
	size_t i;

	if (!st)
		return -1;
	for (i = 0; i < cat->naccounts; i++) {
		const struct account *a = &cat->accounts[i];
		dec_t credit = a->opening_balance, bal, paid;
		struct report_arrears *r;
		int found = 0, rc, oldest_p = 0;
		int64_t oldest_no = 0;
		char oldest_prefix[80];

		dec_add(credit, payments_before(cat, a->tenant, a->currency,
						c->as_of), &credit);
		bal = credit;
		paid = credit;
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, a->tenant, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, a->currency, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, c->p);
		sqlite3_bind_text(st, 4, c->prefix, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			dec_t total = sqlite3_column_int64(st, 2);

			if (dec_sub(bal, total, &bal)) {
				sqlite3_finalize(st);
				return err_set(c->e, ST_ERROR, "balance of "
					       "'%s' overflows", a->tenant);
			}
			if (found || total <= 0)
				continue;
			if (paid >= total) {
				paid -= total;
			} else {
				found = 1;
				oldest_p = sqlite3_column_int(st, 0);
				oldest_no = sqlite3_column_int64(st, 1);
				snprintf(oldest_prefix, sizeof(oldest_prefix),
					 "%s", col_text(st, 3));
			}
		}
		if (rc != SQLITE_DONE) {
			sqlite3_finalize(st);
			return db_err(c, "read invoices");
		}
		if (bal >= 0)
			continue;
		c->arr = xrealloc(c->arr, (c->narr + 1) * sizeof(*c->arr));
		r = &c->arr[c->narr++];
		memset(r, 0, sizeof(*r));
		r->tenant = a->tenant;
		r->currency = a->currency;
		r->outstanding = -bal;
		r->minor = dec_minor_digits(a->currency);
		r->status = "grace";
		if (found) {
			int64_t inv_as_of = ts_period_start(oldest_p + 1,
							    cat->set.tz);

			invoice_no(oldest_prefix, oldest_p, oldest_no,
				   r->oldest_invoice_no,
				   sizeof(r->oldest_invoice_no));
			r->has_dates = 1;
			if (ts_add_days(inv_as_of, a->grace_days,
					&r->suspend_at) ||
			    ts_add_days(r->suspend_at, a->retention_days,
					&r->release_at)) {
				sqlite3_finalize(st);
				return err_set(c->e, ST_ERROR, "suspension date "
					       "of '%s' out of range",
					       a->tenant);
			}
			r->status = c->as_of < r->suspend_at ? "grace" :
				    c->as_of < r->release_at ? "suspended" :
				    "released";
		}
	}
	sqlite3_finalize(st);
	return 0;
}

static int load_adjustments(struct pctx *c)
{
	sqlite3_stmt *st = prep(c, "SELECT a.tenant, a.currency, a.seq,"
				" a.item, a.price_group, a.old_amount,"
				" a.new_amount, i.number FROM adjustment a"
				" JOIN invoice i ON i.period = a.period AND"
				" i.tenant = a.tenant AND"
				" i.currency = a.currency"
				" WHERE a.period = ?1");
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, c->p);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct report_adjustment *a;
		const char *tenant = col_text(st, 0);

		c->adj = xrealloc(c->adj, (c->nadj + 1) * sizeof(*c->adj));
		a = &c->adj[c->nadj++];
		memset(a, 0, sizeof(*a));
		invoice_no(c->prefix, c->p, sqlite3_column_int64(st, 7),
			   a->invoice_no, sizeof(a->invoice_no));
		snprintf(a->adjustment_no, sizeof(a->adjustment_no), "%s-A%d",
			 a->invoice_no, sqlite3_column_int(st, 2));
		a->tenant = xstrdup(tenant);
		a->currency = xstrdup(col_text(st, 1));
		a->item = xstrdup(col_text(st, 3));
		a->price_group = xstrdup(col_text(st, 4));
		a->old_amount = sqlite3_column_int64(st, 5);
		a->new_amount = sqlite3_column_int64(st, 6);
		a->delta = a->new_amount - a->old_amount;
		a->minor = dec_minor_digits(a->currency);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_err(c, "read adjustments");
}

static void pctx_release(struct pctx *c)
{
	size_t i, j;

	for (i = 0; i < c->nst; i++) {
		for (j = 0; j < c->st[i].nlines; j++) {
			free(c->st[i].lines[j].item);
			free(c->st[i].lines[j].pg);
			free(c->st[i].lines[j].tiers);
		}
		free(c->st[i].lines);
		free(c->st[i].tenant);
	}
	free(c->st);
	for (i = 0; i < c->nghosts; i++)
		free(c->ghosts[i].tenant);
	free(c->ghosts);
	for (i = 0; i < c->nadj; i++) {
		free((char *)c->adj[i].tenant);
		free((char *)c->adj[i].currency);
		free((char *)c->adj[i].item);
		free((char *)c->adj[i].price_group);
	}
	free(c->adj);
	free(c->arr);
	free(c->rinv);
	free(c->bbs);
	engine_period_release(&c->pp);
	report_files_release(&c->files);
}

/* What this close does with each invoice. */
struct plan {
	struct sinv *old;    /* the stored invoice, NULL for a new one */
	int64_t number;
	int version;
	int changed;         /* new, or differs from old: to be written */
};

/* Writes the invoices that changed (with their adjustments), in order. */
static int write_invoices(struct pctx *c, const struct plan *pl)
{
	size_t i;

	for (i = 0; i < c->pp.ninv; i++) {
		const struct eng_invoice *v = &c->pp.inv[i];

		if (i + 1 < c->pp.ninv)
			prefetch_tiers(&c->pp.inv[i + 1]);
		if (!pl[i].changed)
			continue;
		if (pl[i].old && adjust(c, pl[i].old, v))
			return -1;
		if (write_invoice(c, v, pl[i].number, pl[i].version))
			return -1;
	}
	return 0;
}

struct render_job {
	struct report r;
	struct report_files *files;
};

static void *render_lines(void *arg)
{
	struct render_job *j = arg;

	report_render_lines(&j->r, j->files);
	return NULL;
}

/* Settles period c->p inside the open transaction. Sets *changed. */
static int settle(struct pctx *c, int *changed)
{
	struct report r;
	struct render_job job;
	struct plan *pl;
	pthread_t tid;
	unsigned char digest[32];
	int64_t maxnum = 0;
	size_t i, nreal;
	int threaded, failed;
	char sp[64];

	*changed = 0;
	c->as_of = ts_period_start(c->p + 1, c->cat->set.tz);
	if (engine_period(c->g, c->p, &c->pp, c->e) || load_stored(c))
		return -1;
	snprintf(sp, sizeof(sp), "SAVEPOINT p%d", c->p);
	if (exec(c, sp))
		return -1;
	for (i = 0; i < c->nst; i++)
		if (c->st[i].number > maxnum)
			maxnum = c->st[i].number;
	/* invoices that lost every line keep their number, with no lines */
	nreal = c->pp.ninv;
	for (i = 0; i < nreal; i++) {
		struct sinv *old = find_stored(c, c->pp.inv[i].acct->tenant,
					       c->pp.inv[i].acct->currency);

		if (old)
			old->seen = 1;
	}
	for (i = 0; i < c->nst; i++) {
		if (c->st[i].seen)
			continue;
		c->ghosts = xrealloc(c->ghosts, (c->nghosts + 1) *
				     sizeof(*c->ghosts));
		memset(&c->ghosts[c->nghosts], 0, sizeof(*c->ghosts));
		c->ghosts[c->nghosts].tenant = xstrdup(c->st[i].tenant);
		memcpy(c->ghosts[c->nghosts].currency, c->st[i].currency, 4);
		c->nghosts++;
	}
	for (i = 0; i < c->nghosts; i++) {
		const struct account *real = catalog_account(c->cat,
			c->ghosts[i].tenant, strlen(c->ghosts[i].tenant),
			c->ghosts[i].currency);
		struct eng_invoice *v;

		c->pp.inv = xrealloc(c->pp.inv, (c->pp.ninv + 1) *
				     sizeof(*c->pp.inv));
		v = &c->pp.inv[c->pp.ninv++];
		memset(v, 0, sizeof(*v));
		v->acct = real ? real : &c->ghosts[i];
	}
	c->rinv = xcalloc(c->pp.ninv ? c->pp.ninv : 1, sizeof(*c->rinv));
	{
		const struct account **accts = xmalloc((c->pp.ninv + 1) *
						       sizeof(*accts));

		int rc;

		c->bbs = xmalloc((c->pp.ninv + 1) * sizeof(*c->bbs));
		for (i = 0; i < c->pp.ninv; i++)
			accts[i] = c->pp.inv[i].acct;
		rc = ledger_balances_before(c->s, c->cat, accts, c->pp.ninv,
					    c->p, c->bbs, c->e);
		free(accts);
		if (rc)
			return -1;
	}
	pl = xmalloc((c->pp.ninv + 1) * sizeof(*pl));
	for (i = 0; i < c->pp.ninv; i++) {
		const struct eng_invoice *v = &c->pp.inv[i];
		struct plan *q = &pl[i];
		struct report_invoice *h = &c->rinv[i];

		q->old = find_stored(c, v->acct->tenant, v->acct->currency);
		if (q->old) {
			q->number = q->old->number;
			q->changed = differs(q->old, v);
			q->version = q->old->version + q->changed;
		} else {
			q->number = ++maxnum;
			q->version = 1;
			q->changed = 1;
		}
		invoice_no(c->prefix, c->p, q->number, h->invoice_no,
			   sizeof(h->invoice_no));
		h->status = "final";
		h->version = q->version;
		report_balances(h, c->bbs[i], v->total);
	}
	/* the files that need no adjustments or arrears are rendered on a
	 * second thread while this one writes the state (nothing else
	 * touches the connection meanwhile); both only read c->pp */
	memset(&job, 0, sizeof(job));
	job.r.cat = c->cat;
	job.r.g = c->g;
	job.r.pp = &c->pp;
	job.r.inv = c->rinv;
	job.files = &c->files;
	threaded = pthread_create(&tid, NULL, render_lines, &job) == 0;
	if (!threaded)
		render_lines(&job);
	failed = write_invoices(c, pl) || arrears(c) || load_adjustments(c);
	if (threaded)
		pthread_join(tid, NULL);
	free(pl);
	if (failed)
		return -1;
	r = job.r;
	r.adj = c->adj;
	r.nadj = c->nadj;
	r.arr = c->arr;
	r.narr = c->narr;
	report_render_rest(&r, &c->files);
	report_digest(&c->files, digest);
	if (c->was_final && memcmp(digest, c->digest, 32) == 0) {
		/* nothing changed: undo whatever the savepoint holds, and
		 * leave the state byte for byte as it was */
		snprintf(sp, sizeof(sp), "ROLLBACK TO p%d", c->p);
		if (exec(c, sp))
			return -1;
	} else {
		sqlite3_stmt *st = prep(c, "INSERT OR REPLACE INTO period("
					"period, prefix, version, digest, inputs)"
					" VALUES(?1, ?2, ?3, ?4, ?5)");
		int rc;

		if (!st)
			return -1;
		sqlite3_bind_int(st, 1, c->p);
		sqlite3_bind_text(st, 2, c->prefix, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, c->version + 1);
		sqlite3_bind_blob(st, 4, digest, 32, SQLITE_STATIC);
		sqlite3_bind_blob(st, 5, c->inputs, 32, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return db_err(c, "write the period");
		*changed = 1;
	}
	snprintf(sp, sizeof(sp), "RELEASE p%d", c->p);
	return exec(c, sp);
}

static int final_periods(struct store *s, int before, int **out, size_t *n,
			 struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(store_db(s), "SELECT period FROM period WHERE"
			       " period < ?1 ORDER BY period", -1, &st,
			       NULL) != SQLITE_OK)
		return err_set(e, ST_ERROR, "cannot read periods: %s",
			       sqlite3_errmsg(store_db(s)));
	sqlite3_bind_int(st, 1, before);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 :
	       err_set(e, ST_ERROR, "cannot read periods: %s",
		       sqlite3_errmsg(store_db(s)));
}

struct release_job {
	struct pctx *ctx;
	size_t n;
};

/* Frees the rated periods (10^5 scattered tiers texts and package usage
 * arrays take ~30 ms), which nothing reads once the files are rendered. */
static void *release_periods(void *arg)
{
	struct release_job *j = arg;
	size_t i;

	for (i = 0; i < j->n; i++)
		engine_period_release(&j->ctx[i].pp);
	return NULL;
}

int ledger_close(struct store *s, const struct catalog *cat,
		 struct engine *g, int p, const unsigned char inputs[32],
		 const char *outdir, struct ledger_result *res, struct err *e)
{
	struct pctx *ctx = NULL;
	struct stmts cache;
	struct release_job rel;
	pthread_t rtid;
	int *periods = NULL, *changed = NULL;
	size_t n = 0, i;
	int rc = ST_ERROR, releasing = 0;

	memset(res, 0, sizeof(*res));
	memset(&cache, 0, sizeof(cache));
	if (final_periods(s, p, &periods, &n, e))
		return ST_ERROR;
	periods = xrealloc(periods, (n + 1) * sizeof(*periods));
	periods[n++] = p;
	ctx = xcalloc(n, sizeof(*ctx));
	changed = xcalloc(n, sizeof(*changed));
	if (store_begin(s, e))
		goto out;
	for (i = 0; i < n; i++) {
		struct pctx *c = &ctx[i];

		c->s = s;
		c->db = store_db(s);
		c->cat = cat;
		c->g = g;
		c->p = periods[i];
		c->e = e;
		c->inputs = inputs;
		c->cache = &cache;
		if (settle(c, &changed[i]))
			goto out;
		if (changed[i]) {
			res->changed = 1;
			res->adjustments += c->new_adjustments;
			if (i < n - 1)
				res->resettled++;
		}
	}
	res->was_final = ctx[n - 1].was_final;
	res->invoices = ctx[n - 1].pp.ninv;
	res->arrears = ctx[n - 1].narr;
	/* freed on a second thread during the commit and the writes */
	rel.ctx = ctx;
	rel.n = n;
	releasing = pthread_create(&rtid, NULL, release_periods, &rel) == 0;
	stmts_release(&cache);
	fault_point("close-commit");
	if (store_commit(s, e))
		goto out;
	/* outputs after the commit: a crash here leaves files a rerun
	 * rewrites, since they are rendered from the committed state */
	for (i = 0; i < n; i++) {
		char dir[4096], ym[16];
		size_t w;

		/* every period, changed or not: a rerun after a crash between
		 * the commit and the renames puts back what the state says
		 * (files already right are not touched) */
		ts_period_format(periods[i], 1, ym);
		snprintf(dir, sizeof(dir), "%s/%s", outdir, ym);
		if (report_put(&ctx[i].files, dir, &w, e))
			goto out;
		res->files_written += w;
	}
	rc = 0;
out:
	stmts_release(&cache);
	if (rc)
		store_rollback(s);
	if (releasing)
		pthread_join(rtid, NULL);
	for (i = 0; i < n; i++)
		pctx_release(&ctx[i]);
	free(ctx);
	free(changed);
	free(periods);
	return rc;
}

int ledger_periods(struct store *s,
		   int (*fn)(void *ctx, int period, int version,
			     long invoices, long adjustments),
		   void *ctx, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	if (sqlite3_prepare_v2(store_db(s), "SELECT p.period, p.version,"
			       " (SELECT count(*) FROM invoice i WHERE"
			       "  i.period = p.period),"
			       " (SELECT count(DISTINCT tenant || ' ' ||"
			       "  currency || ' ' || seq) FROM adjustment a"
			       "  WHERE a.period = p.period)"
			       " FROM period p ORDER BY p.period", -1, &st,
			       NULL) != SQLITE_OK)
		return err_set(e, ST_ERROR, "cannot read periods: %s",
			       sqlite3_errmsg(store_db(s)));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = fn(ctx, sqlite3_column_int(st, 0),
		       sqlite3_column_int(st, 1),
		       (long)sqlite3_column_int64(st, 2),
		       (long)sqlite3_column_int64(st, 3));
		if (r)
			break;
	}
	sqlite3_finalize(st);
	if (r)
		return r;
	return rc == SQLITE_DONE ? 0 :
	       err_set(e, ST_ERROR, "cannot read periods: %s",
		       sqlite3_errmsg(store_db(s)));
}

/* Adds one file row to the inputs digest. */
static int hash_file_row(void *ctx, const struct store_file *f)
{
	struct sha256 *md = ctx;
	int st = (int)f->state;

	sha256_update(md, f->path, strlen(f->path) + 1);
	sha256_update(md, f->sha, 32);
	sha256_update(md, &st, sizeof(st));
	return 0;
}

int ledger_inputs(struct store *s, const char *cfgdir, unsigned char sha[32],
		  struct err *e)
{
	/* with its NUL: the bytes every state's inputs digests hold */
	static const char version[] = "settle " SETTLE_VERSION;
	unsigned char cfg[32];
	struct sha256 md;
	int rc;

	if (catalog_digest(cfgdir, cfg, e))
		return ST_ERROR;
	sha256_init(&md);
	sha256_update(&md, version, sizeof(version));
	sha256_update(&md, cfg, 32);
	rc = store_files(s, hash_file_row, &md, e);
	sha256_final(&md, sha);
	return rc ? ST_ERROR : 0;
}

int ledger_unchanged(struct store *s, int p, const unsigned char inputs[32],
		     const char *outdir, int *yes, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc, have = 0, same = 1;

	*yes = 0;
	if (sqlite3_prepare_v2(store_db(s), "SELECT period, digest, inputs"
			       " FROM period WHERE period <= ?1"
			       " ORDER BY period", -1, &st, NULL) != SQLITE_OK)
		return err_set(e, ST_ERROR, "cannot read periods: %s",
			       sqlite3_errmsg(store_db(s)));
	sqlite3_bind_int(st, 1, p);
	/* every final period up to p: closed with these inputs, and its
	 * files still what that close wrote */
	while (same && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct report_files f;
		unsigned char disk[32];
		char dir[4096], ym[16];
		int q = sqlite3_column_int(st, 0);

		if (sqlite3_column_bytes(st, 2) != 32 ||
		    memcmp(sqlite3_column_blob(st, 2), inputs, 32) != 0 ||
		    sqlite3_column_bytes(st, 1) != 32) {
			same = 0;
			break;
		}
		have |= q == p;
		ts_period_format(q, 1, ym);
		snprintf(dir, sizeof(dir), "%s/%s", outdir, ym);
		if (report_load_final(dir, &f) != 0) {
			same = 0;
			break;
		}
		report_digest(&f, disk);
		report_files_release(&f);
		if (memcmp(disk, sqlite3_column_blob(st, 1), 32) != 0)
			same = 0;
	}
	if (same && rc != SQLITE_DONE) {
		sqlite3_finalize(st);
		return err_set(e, ST_ERROR, "cannot read periods: %s",
			       sqlite3_errmsg(store_db(s)));
	}
	sqlite3_finalize(st);
	*yes = have && same;
	return 0;
}
