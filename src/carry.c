/* carry: what each final period leaves of the history to the next close
 * (see include/carry.h for what is kept and why it is exact). Owns the
 * tables carry_period and carry_acct (store_int.h: the store layer; their
 * CREATE is schema.c's). */
#include "carry.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "store_int.h"
#include "banned.h"

#define OPEN_BYTES 20

static void acct_release(struct carry_acct *a)
{
	free(a->tenant);
	free(a->open);
	memset(a, 0, sizeof(*a));
}

void carry_release(struct carry *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		acct_release(&c->a[i]);
	free(c->a);
	c->a = NULL;
	c->n = 0;
}

/* ---- the arithmetic ---- */

static void open_push(struct carry_acct *a, int p, int64_t number, dec_t t)
{
	if (a->nopen == a->capopen) {
		a->capopen = a->capopen ? 2 * a->capopen : 4;
		a->open = xrealloc(a->open, a->capopen * sizeof(*a->open));
	}
	a->open[a->nopen].period = p;
	a->open[a->nopen].number = number;
	a->open[a->nopen++].total = t;
}

int carry_add(struct carry_acct *a, int p, int64_t number, dec_t t)
{
	if (!a->first_number) {
		/* its first invoice (numbers start at 1) */
		a->first_period = p;
		a->first_number = number;
	}
	if (dec_add(a->total, t, &a->total))
		return -1;
	if (t > 0)
		open_push(a, p, number, t);
	return 0;
}

int carry_trim(struct carry_acct *a, dec_t c)
{
	dec_t paid = c, d;
	size_t k = 0;

	if (a->trimmed) {
		/* the invoices before the open ones took credit - left of
		 * credit, all of them paid: paid = c - (credit - left) */
		if (c < a->credit)
			return 1;
		if (dec_sub(c, a->credit, &d) || dec_add(a->left, d, &paid))
			return -1;
	}
	/* the walk of SPEC 7: oldest first, stop at the first not fully
	 * paid (a total above 0 is in open, paid stays >= 0) */
	while (k < a->nopen && paid >= a->open[k].total)
		paid -= a->open[k++].total;
	if (k) {
		memmove(a->open, a->open + k, (a->nopen - k) * sizeof(*a->open));
		a->nopen -= k;
	}
	a->trimmed = 1;
	a->credit = c;
	a->left = paid;
	return 0;
}

static int acct_cmp(const struct carry_acct *a, const char *tenant,
		    const char *currency)
{
	int k = strcmp(a->tenant, tenant);

	return k ? k : strcmp(a->currency, currency);
}

const struct carry_acct *carry_find(const struct carry *c,
				    const char *tenant, const char *currency)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int k = acct_cmp(&c->a[mid], tenant, currency);

		if (!k)
			return &c->a[mid];
		if (k < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- building one ---- */

struct builder {
	struct carry *prev;
	int take;             /* move prev's accounts instead of copying */
	size_t next;          /* prev's next account to copy */
	struct carry *out;
	size_t cap;
	int overflow;
};

static struct carry_acct *push(struct builder *b)
{
	struct carry_acct *a;

	if (b->out->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 1024;
		b->out->a = xrealloc(b->out->a, b->cap * sizeof(*b->out->a));
	}
	a = &b->out->a[b->out->n++];
	memset(a, 0, sizeof(*a));
	return a;
}

static void copy_acct(struct builder *b, struct carry_acct *src)
{
	struct carry_acct *a = push(b);

	*a = *src;
	if (b->take) {
		/* prev gives up its strings and list */
		src->tenant = NULL;
		src->open = NULL;
		src->nopen = src->capopen = 0;
		return;
	}
	a->tenant = xstrdup(src->tenant);
	a->capopen = src->nopen;
	a->open = NULL;
	if (src->nopen) {
		a->open = xmalloc(src->nopen * sizeof(*a->open));
		memcpy(a->open, src->open, src->nopen * sizeof(*a->open));
	}
}

/* One invoice, in (tenant, currency) order, then period order: prev's
 * accounts before it are copied, then it goes to its account's carry. */
static int add_invoice(struct builder *b, const char *tenant,
		       const char *currency, int p, int64_t number,
		       dec_t total)
{
	struct carry_acct *a = b->out->n ? &b->out->a[b->out->n - 1] : NULL;

	while (b->prev && b->next < b->prev->n) {
		int k = acct_cmp(&b->prev->a[b->next], tenant, currency);

		if (k > 0)
			break;
		copy_acct(b, &b->prev->a[b->next++]);
		a = &b->out->a[b->out->n - 1];
	}
	if (!a || acct_cmp(a, tenant, currency) != 0) {
		a = push(b);
		a->tenant = xstrdup(tenant);
		snprintf(a->currency, sizeof(a->currency), "%s", currency);
	}
	if (carry_add(a, p, number, total)) {
		b->overflow = 1;
		return 1;
	}
	return 0;
}

static int one_period(void *ctx, const char *tenant, const char *currency,
		      int64_t number, dec_t total)
{
	struct builder *b = ctx;

	return add_invoice(b, tenant, currency, b->out->period, number,
			   total);
}

static int any_period(void *ctx, const char *tenant, const char *currency,
		      int period, int64_t number, dec_t total,
		      const char *prefix)
{
	(void)prefix;
	return add_invoice(ctx, tenant, currency, period, number, total);
}

int carry_next(struct final *f, struct carry *prev, int take, int p,
	       struct carry *out, int *overflow, struct err *e)
{
	struct builder b;
	int rc;

	memset(out, 0, sizeof(*out));
	out->period = p;
	memset(&b, 0, sizeof(b));
	b.prev = prev;
	b.take = take;
	b.out = out;
	rc = prev ? final_period_totals(f, p, one_period, &b, e) :
		    final_all_invoices(f, p, "", any_period, &b, e);
	*overflow = b.overflow;
	if (b.overflow)
		return 0;
	if (rc)
		return ST_ERROR;
	while (prev && b.next < prev->n)
		copy_acct(&b, &prev->a[b.next++]);
	return 0;
}

/* ---- the state ---- */

void carry_prefixes_release(struct carry_prefixes *px)
{
	free(px->period);
	free(px->prefix);
	memset(px, 0, sizeof(*px));
}

const char *carry_prefix(struct final *f, struct carry_prefixes *px, int q,
			 const char *prefix, struct err *e)
{
	struct final_period row;
	size_t i;
	int r;

	for (i = 0; i < px->n; i++)
		if (px->period[i] == q)
			return px->prefix[i];
	if ((r = final_period_get(f, q, &row, e)) < 0)
		return NULL;
	px->period = xrealloc(px->period, (px->n + 1) * sizeof(*px->period));
	px->prefix = xrealloc(px->prefix, (px->n + 1) * sizeof(*px->prefix));
	px->period[px->n] = q;
	/* the period closed has no row yet the first time */
	snprintf(px->prefix[px->n], sizeof(px->prefix[0]), "%s",
		 r ? row.prefix : prefix);
	return px->prefix[px->n++];
}

static int db_err(struct store *s, const char *what, struct err *e)
{
	return err_set(e, ST_ERROR, "cannot %s the carry in the state: %s",
		       what, sqlite3_errmsg(store_conn(s)));
}

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
	int i;

	for (i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int bytes)
{
	uint64_t v = 0;
	int i;

	for (i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* One row of carry_acct into a; -1 when its open blob is malformed. */
static int read_row(sqlite3_stmt *st, struct carry_acct *a)
{
	const unsigned char *blob = sqlite3_column_blob(st, 7);
	size_t len = (size_t)sqlite3_column_bytes(st, 7), i;

	memset(a, 0, sizeof(*a));
	a->tenant = xstrdup(store_col_text(st, 0));
	snprintf(a->currency, sizeof(a->currency), "%s",
		 store_col_text(st, 1));
	a->total = sqlite3_column_int64(st, 2);
	a->first_period = sqlite3_column_int(st, 3);
	a->first_number = sqlite3_column_int64(st, 4);
	a->trimmed = sqlite3_column_type(st, 5) != SQLITE_NULL;
	a->credit = sqlite3_column_int64(st, 5);
	a->left = sqlite3_column_int64(st, 6);
	if (len % OPEN_BYTES)
		return -1;
	a->nopen = a->capopen = len / OPEN_BYTES;
	if (a->nopen)
		a->open = xmalloc(a->nopen * sizeof(*a->open));
	for (i = 0; i < a->nopen; i++) {
		const unsigned char *q = blob + i * OPEN_BYTES;

		a->open[i].period = (int)(int32_t)(uint32_t)get_le(q, 4);
		a->open[i].number = (int64_t)get_le(q + 4, 8);
		a->open[i].total = (int64_t)get_le(q + 12, 8);
	}
	return 0;
}

/* *yes 1 when period q's carry is complete (a row of carry_period). */
static int have_carry(struct store *s, int q, int *yes, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(store_conn(s), "SELECT 1 FROM carry_period"
			       " WHERE period = ?1", -1, &st, NULL) != SQLITE_OK)
		return db_err(s, "read", e);
	sqlite3_bind_int(st, 1, q);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	*yes = rc == SQLITE_ROW;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(s, "read", e);
	return 0;
}

int carry_load(struct store *s, int q, struct carry *c, int *found,
	       struct err *e)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc, have;

	memset(c, 0, sizeof(*c));
	c->period = q;
	*found = 0;
	if (have_carry(s, q, &have, e))
		return ST_ERROR;
	if (!have)
		return 0;
	if (sqlite3_prepare_v2(store_conn(s), "SELECT tenant, currency, total,"
			       " first_period, first_number, credit, left, open"
			       " FROM carry_acct WHERE period = ?1"
			       " ORDER BY tenant, currency", -1, &st,
			       NULL) != SQLITE_OK)
		return db_err(s, "read", e);
	sqlite3_bind_int(st, 1, q);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (c->n == cap) {
			cap = cap ? 2 * cap : 1024;
			c->a = xrealloc(c->a, cap * sizeof(*c->a));
		}
		if (read_row(st, &c->a[c->n++])) {
			sqlite3_finalize(st);
			carry_release(c);
			return 0;  /* not one this settle wrote: no carry */
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		carry_release(c);
		return db_err(s, "read", e);
	}
	*found = 1;
	return 0;
}

int carry_load_before(struct store *s, int before, struct carry *c,
		      int *found, int *none, struct err *e)
{
	int *ps = NULL;
	size_t n = 0;
	int rc;

	memset(c, 0, sizeof(*c));
	*found = 0;
	*none = 0;
	if (final_periods_before(s, before, &ps, &n, e))
		return ST_ERROR;
	if (!n) {
		*none = 1;
		free(ps);
		return 0;
	}
	rc = carry_load(s, ps[n - 1], c, found, e);
	free(ps);
	return rc;
}

/* Deletes the carry rows of the periods from p on (later) or before p. */
static int drop(struct store *s, int p, int later, struct err *e)
{
	sqlite3_stmt *st;
	static const char *const sql[2][2] = {
		{ "DELETE FROM carry_period WHERE period < ?1",
		  "DELETE FROM carry_acct WHERE period < ?1" },
		{ "DELETE FROM carry_period WHERE period >= ?1",
		  "DELETE FROM carry_acct WHERE period >= ?1" },
	};
	size_t i;

	for (i = 0; i < 2; i++) {
		if (sqlite3_prepare_v2(store_conn(s), sql[later][i], -1, &st,
				       NULL) != SQLITE_OK)
			return db_err(s, "drop", e);
		sqlite3_bind_int(st, 1, p);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			return db_err(s, "drop", e);
		}
		sqlite3_finalize(st);
	}
	return 0;
}

int carry_drop_from(struct store *s, int p, struct err *e)
{
	return drop(s, p, 1, e);
}

int carry_drop_before(struct store *s, int p, struct err *e)
{
	return drop(s, p, 0, e);
}

static int put_period(struct store *s, int p, int present, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(store_conn(s), present ?
			       "INSERT OR REPLACE INTO carry_period(period)"
			       " VALUES (?1)" :
			       "DELETE FROM carry_period WHERE period = ?1;",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(s, "write", e);
	sqlite3_bind_int(st, 1, p);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(s, "write", e);
	if (present || sqlite3_prepare_v2(store_conn(s), "DELETE FROM"
					  " carry_acct WHERE period = ?1", -1,
					  &st, NULL) != SQLITE_OK)
		return present ? 0 : db_err(s, "write", e);
	sqlite3_bind_int(st, 1, p);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_err(s, "write", e);
}

int carry_save(struct store *s, const struct carry *c, struct err *e)
{
	sqlite3_stmt *st;
	unsigned char *blob = NULL;
	size_t i, j, cap = 0;
	int rc = 0;

	if (put_period(s, c->period, 0, e))
		return ST_ERROR;
	if (sqlite3_prepare_v2(store_conn(s), "INSERT INTO carry_acct(period,"
			       " tenant, currency, total, first_period,"
			       " first_number, credit, left, open) VALUES"
			       " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", -1, &st,
			       NULL) != SQLITE_OK)
		return db_err(s, "write", e);
	for (i = 0; i < c->n && !rc; i++) {
		const struct carry_acct *a = &c->a[i];

		if (a->nopen * OPEN_BYTES > cap) {
			cap = a->nopen * OPEN_BYTES;
			blob = xrealloc(blob, cap);
		}
		for (j = 0; j < a->nopen; j++) {
			unsigned char *q = blob + j * OPEN_BYTES;

			put_le(q, (uint32_t)a->open[j].period, 4);
			put_le(q + 4, (uint64_t)a->open[j].number, 8);
			put_le(q + 12, (uint64_t)a->open[j].total, 8);
		}
		sqlite3_reset(st);
		sqlite3_bind_int(st, 1, c->period);
		sqlite3_bind_text(st, 2, a->tenant, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, a->currency, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, a->total);
		sqlite3_bind_int(st, 5, a->first_period);
		sqlite3_bind_int64(st, 6, a->first_number);
		if (a->trimmed) {
			sqlite3_bind_int64(st, 7, a->credit);
			sqlite3_bind_int64(st, 8, a->left);
		} else {
			sqlite3_bind_null(st, 7);
			sqlite3_bind_null(st, 8);
		}
		sqlite3_bind_blob(st, 9, blob ? (const void *)blob : "",
				  (int)(a->nopen * OPEN_BYTES), SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_err(s, "write", e);
	}
	sqlite3_finalize(st);
	free(blob);
	return rc ? rc : put_period(s, c->period, 1, e);
}

int carry_accounts(struct store *s,
		   int (*fn)(void *ctx, const char *tenant,
			     const char *currency, const char *invoice_no),
		   void *ctx, struct err *e)
{
	struct carry_prefixes px;
	struct final *f;
	sqlite3_stmt *st;
	int *ps = NULL, q, have, rc, r = 0;
	size_t n = 0;

	if (final_periods_before(s, INT_MAX, &ps, &n, e))
		return ST_ERROR;
	q = n ? ps[n - 1] : 0;
	free(ps);
	if (!n)
		return 0;  /* no final period, no final invoice */
	if (have_carry(s, q, &have, e))
		return ST_ERROR;
	if (!have)
		return final_accounts(s, fn, ctx, e);
	/* only what the check asks of each account, in the key's order */
	if (sqlite3_prepare_v2(store_conn(s), "SELECT tenant, currency,"
			       " first_period, first_number FROM carry_acct"
			       " WHERE period = ?1 ORDER BY tenant, currency",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(s, "read", e);
	sqlite3_bind_int(st, 1, q);
	f = final_new(s);
	memset(&px, 0, sizeof(px));
	while (!r && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *prefix;
		int fp = sqlite3_column_int(st, 2);
		char no[96];

		if (!(prefix = carry_prefix(f, &px, fp, "", e))) {
			r = ST_ERROR;
			break;
		}
		final_invoice_no(prefix, fp, sqlite3_column_int64(st, 3), no,
				 sizeof(no));
		r = fn(ctx, store_col_text(st, 0), store_col_text(st, 1), no);
	}
	sqlite3_finalize(st);
	final_free(f);
	carry_prefixes_release(&px);
	if (!r && rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_err(s, "read", e);
	return r;
}
