/* balance: balances before a period, and arrears after a close. */
#include "balance.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carry.h"
#include "mem.h"
#include "ts.h"
#include "banned.h"

/* "balance overflow for tenant 'T' (CUR) in YYYY-MM (...)": every sum
 * of money here is checked, and one that does not fit stops the command
 * (SPEC 2: never a wrapped or dropped number). */
static int overflow(struct err *e, const struct account *a, int p)
{
	char ym[16];

	ts_period_format(p, 1, ym);
	return err_set(e, ST_ERROR, "balance overflow for tenant '%s' (%s) in "
		       "%s (opening balance, payments or invoices too large)",
		       a->tenant, a->currency, ym);
}

/* The opening balance plus the payments of a (tenant, currency) before
 * as_of, into *out; -1 when the sum overflows. Payments are sorted by
 * (tenant, currency, ts, id): a binary search to the first one, then a
 * walk while they are the account's and before as_of. */
static int credits_before(const struct catalog *cat, const struct account *a,
			  int64_t as_of, dec_t *out)
{
	const char *tenant = a->tenant, *currency = a->currency;
	size_t lo = 0, hi = cat->npayments;
	dec_t sum = a->opening_balance;

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
		if (dec_add(sum, p->amount, &sum))
			return -1;
	}
	*out = sum;
	return 0;
}

/* Current totals of final invoices of periods before p, per account,
 * sorted by (tenant, currency) as final_totals_before gives them. */
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

static int finals_add(void *ctx, const char *tenant, const char *currency,
		      dec_t sum)
{
	struct finals *f = ctx;

	f->tenant = xrealloc(f->tenant, (f->n + 1) * sizeof(*f->tenant));
	f->currency = xrealloc(f->currency, (f->n + 1) *
			       sizeof(*f->currency));
	f->sum = xrealloc(f->sum, (f->n + 1) * sizeof(*f->sum));
	f->tenant[f->n] = xstrdup(tenant);
	snprintf(f->currency[f->n], 4, "%s", currency);
	f->sum[f->n++] = sum;
	return 0;
}

static int finals_load(struct store *s, int before, struct finals *f,
		       struct err *e)
{
	memset(f, 0, sizeof(*f));
	return final_totals_before(s, before, finals_add, f, e);
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

int balance_before(struct store *s, const struct catalog *cat,
		   const struct account *const *accts, size_t n, int p,
		   dec_t *out, struct err *e)
{
	int64_t as_of = ts_period_start(p + 1, cat->set.tz);
	struct finals f;
	size_t i;
	int rc = 0;

	if (finals_load(s, p, &f, e)) {
		finals_release(&f);
		return ST_ERROR;
	}
	for (i = 0; i < n && !rc; i++) {
		const struct account *a = accts[i];
		dec_t b = 0;

		if (credits_before(cat, a, as_of, &b) ||
		    dec_sub(b, finals_of(&f, a->tenant, a->currency), &b))
			rc = overflow(e, a, p);
		out[i] = b;
	}
	finals_release(&f);
	return rc;
}

int balance_before_carry(const struct catalog *cat, const struct carry *prev,
			 const struct account *const *accts, size_t n, int p,
			 dec_t *out, int *declined)
{
	int64_t as_of = ts_period_start(p + 1, cat->set.tz);
	size_t i;

	*declined = 0;
	for (i = 0; i < n; i++) {
		const struct account *a = accts[i];
		const struct carry_acct *c = prev ? carry_find(prev, a->tenant,
							       a->currency) : NULL;
		dec_t b = 0;

		/* an overflow is the history's to report, with its words */
		if (credits_before(cat, a, as_of, &b) ||
		    (c && dec_sub(b, c->total, &b))) {
			*declined = 1;
			return 0;
		}
		out[i] = b;
	}
	return 0;
}

int balance_invoice(struct report_invoice *inv, dec_t before, dec_t total)
{
	dec_t avail = before > 0 ? before : 0;

	inv->balance_before = before;
	inv->paid_from_balance = total < avail ? total : avail;
	/* paid_from_balance is total or between 0 and total: no overflow */
	inv->amount_due = total - inv->paid_from_balance;
	return dec_sub(before, total, &inv->balance_after) ? -1 : 0;
}

/* The dates of the last (period, zone, terms) asked for: every invoice
 * of a close asks for the same ones, and formatting them was 5% of the
 * 500 000-tenant close. Per thread, keyed by the values that make them,
 * so any catalog may ask. */
static _Thread_local struct {
	int valid, p, tz;
	int64_t terms;
	int due_rc;         /* -1: the due date overflows */
	char issue[11], due[11];
} memo;

int balance_dates(const struct catalog *cat, int p, char issue[11],
		  char due[11])
{
	int64_t as_of, d;
	char buf[TS_MAX_TEXT];

	if (!memo.valid || memo.p != p || memo.tz != cat->set.tz ||
	    memo.terms != cat->set.payment_terms_days) {
		memo.valid = 1;
		memo.p = p;
		memo.tz = cat->set.tz;
		memo.terms = cat->set.payment_terms_days;
		as_of = ts_period_start(p + 1, cat->set.tz);
		ts_format(as_of, cat->set.tz, buf);
		snprintf(memo.issue, sizeof(memo.issue), "%.10s", buf);
		/* days are 24 h: offsets are fixed, there is no DST */
		memo.due_rc = 0;
		memo.due[0] = '\0';
		if (__builtin_mul_overflow(cat->set.payment_terms_days,
					   (int64_t)86400 * 1000000000, &d) ||
		    __builtin_add_overflow(as_of, d, &d)) {
			memo.due_rc = -1;
		} else {
			ts_format(d, cat->set.tz, buf);
			snprintf(memo.due, sizeof(memo.due), "%.10s", buf);
		}
	}
	memcpy(issue, memo.issue, sizeof(memo.issue));
	if (!due)
		return 0;
	if (memo.due_rc)
		return -1;
	memcpy(due, memo.due, sizeof(memo.due));
	return 0;
}

int balance_terms(const struct catalog *cat, int p,
		  const struct eng_invoice *v, const struct final_terms *old,
		  struct final_terms *t, struct err *e)
{
	const struct account *a = v->acct;

	if (old) {
		/* a final invoice keeps the rate, category and dates of
		 * the close that numbered it (SPEC 7 v2) */
		*t = *old;
	} else {
		memset(t, 0, sizeof(*t));
		t->tax_rate = a->tax_rate;
		snprintf(t->tax_category, sizeof(t->tax_category), "%s",
			 a->tax_category);
	}
	/* an invoice of a version-2 state has no dates: this close gives
	 * them, from its period's as_of and the current settings */
	if (!t->issue_date[0] &&
	    balance_dates(cat, p, t->issue_date, t->due_date))
		return err_set(e, ST_ERROR, "due date of the invoice of '%s' "
			       "(%s) overflows (payment_terms_days)",
			       a->tenant, a->currency);
	t->net = v->total;
	if (dec_percent(t->net, t->tax_rate, dec_minor_digits(a->currency),
			cat->set.rounding, &t->tax) ||
	    dec_add(t->net, t->tax, &(dec_t){ 0 }))
		return err_set(e, ST_ERROR, "tax of the invoice of '%s' (%s) "
			       "overflows", a->tenant, a->currency);
	return 0;
}

int balance_header(struct report_invoice *h, const struct final_terms *t,
		   dec_t before, const struct account *a, int p, struct err *e)
{
	h->net = t->net;
	h->tax = t->tax;
	memcpy(h->issue_date, t->issue_date, sizeof(h->issue_date));
	memcpy(h->due_date, t->due_date, sizeof(h->due_date));
	if (dec_add(t->net, t->tax, &h->total))
		return err_set(e, ST_ERROR, "tax of the invoice of '%s' (%s) "
			       "overflows", a->tenant, a->currency);
	if (balance_invoice(h, before, h->total))
		return overflow(e, a, p);
	return 0;
}

/* One account's walk over its final invoices, oldest period first. */
struct walk {
	const struct account *a;
	int p;              /* the period closed */
	struct err *e;
	dec_t bal;          /* credits - totals so far */
	dec_t paid;         /* credits left to pay invoices with */
	int found;          /* the oldest invoice not fully paid: */
	int oldest_p;
	int64_t oldest_no;
	char oldest_prefix[80];
};

static int walk_invoice(void *ctx, int period, int64_t number, dec_t total,
			const char *prefix)
{
	struct walk *w = ctx;

	if (dec_sub(w->bal, total, &w->bal))
		return overflow(w->e, w->a, w->p);
	if (w->found || total <= 0)
		return 0;
	if (w->paid >= total) {
		w->paid -= total;
	} else {
		w->found = 1;
		w->oldest_p = period;
		w->oldest_no = number;
		snprintf(w->oldest_prefix, sizeof(w->oldest_prefix), "%s",
			 prefix);
	}
	return 0;
}

/* The row of an account in arrears: outstanding amount, and with its
 * oldest unpaid invoice the dates and the status at as_of. */
static int arrears_row(const struct catalog *cat, const struct walk *w,
		       int64_t as_of, struct report_arrears *r,
		       struct err *e)
{
	const struct account *a = w->a;
	int64_t inv_as_of;

	memset(r, 0, sizeof(*r));
	r->tenant = a->tenant;
	r->currency = a->currency;
	r->outstanding = -w->bal;
	r->minor = dec_minor_digits(a->currency);
	r->status = "grace";
	if (!w->found)
		return 0;
	inv_as_of = ts_period_start(w->oldest_p + 1, cat->set.tz);
	final_invoice_no(w->oldest_prefix, w->oldest_p, w->oldest_no,
			 r->oldest_invoice_no, sizeof(r->oldest_invoice_no));
	r->has_dates = 1;
	if (ts_add_days(inv_as_of, a->grace_days, &r->suspend_at) ||
	    ts_add_days(r->suspend_at, a->retention_days, &r->release_at))
		return err_set(e, ST_ERROR, "suspension date of '%s' out of "
			       "range", a->tenant);
	r->status = as_of < r->suspend_at ? "grace" :
		    as_of < r->release_at ? "suspended" : "released";
	return 0;
}

/* balance_arrears walks every account (in the catalog's order) beside
 * one sorted pass over every final invoice (final_all_invoices). */
struct arrears {
	const struct catalog *cat;
	int p;
	int64_t as_of;
	struct err *e;
	size_t next;        /* the account walked, or the next one */
	int open;           /* w is accounts[next]'s walk */
	struct walk w;
	struct report_arrears **out;
	size_t *n;
};

/* Starts the walk of accounts[m->next]: its credits before as_of. */
static int account_begin(struct arrears *m)
{
	const struct account *a = &m->cat->accounts[m->next];
	dec_t credit = 0;

	if (credits_before(m->cat, a, m->as_of, &credit))
		return overflow(m->e, a, m->p);
	memset(&m->w, 0, sizeof(m->w));
	m->w.a = a;
	m->w.p = m->p;
	m->w.e = m->e;
	m->w.bal = credit;
	m->w.paid = credit;
	m->open = 1;
	return 0;
}

/* Ends the walk of accounts[m->next]: its arrears row when it owes. */
static int account_end(struct arrears *m)
{
	m->open = 0;
	m->next++;
	/* the outstanding amount is -bal */
	if (m->w.bal == INT64_MIN)
		return overflow(m->e, m->w.a, m->p);
	if (m->w.bal >= 0)
		return 0;
	*m->out = xrealloc(*m->out, (*m->n + 1) * sizeof(**m->out));
	return arrears_row(m->cat, &m->w, m->as_of, &(*m->out)[(*m->n)++],
			   m->e);
}

/* One final invoice: the walk of its account, after ending those before
 * it (accounts with no invoice are walked too: credits alone); an
 * invoice of an account the catalog does not have is no one's walk. */
static int arrears_invoice(void *ctx, const char *tenant,
			   const char *currency, int period, int64_t number,
			   dec_t total, const char *prefix)
{
	struct arrears *m = ctx;

	while (m->next < m->cat->naccounts) {
		const struct account *a = &m->cat->accounts[m->next];
		int c = strcmp(a->tenant, tenant);

		if (!c)
			c = strcmp(a->currency, currency);
		if (c > 0)
			return 0;
		if (!m->open && account_begin(m))
			return ST_ERROR;
		if (!c)
			return walk_invoice(&m->w, period, number, total,
					    prefix);
		if (account_end(m))
			return ST_ERROR;
	}
	return 0;
}

int balance_arrears(struct final *f, const struct catalog *cat, int p,
		    const char *prefix, struct report_arrears **out,
		    size_t *n, struct err *e)
{
	struct arrears m;

	memset(&m, 0, sizeof(m));
	m.cat = cat;
	m.p = p;
	m.as_of = ts_period_start(p + 1, cat->set.tz);
	m.e = e;
	m.out = out;
	m.n = n;
	*out = NULL;
	*n = 0;
	if (final_all_invoices(f, p, prefix, arrears_invoice, &m, e))
		return ST_ERROR;
	while (m.next < cat->naccounts)
		if ((!m.open && account_begin(&m)) || account_end(&m))
			return ST_ERROR;
	return 0;
}

int balance_arrears_carry(struct final *f, const struct catalog *cat, int p,
			  const char *prefix, struct carry *next,
			  struct report_arrears **out, size_t *n,
			  int *declined, struct err *e)
{
	int64_t as_of = ts_period_start(p + 1, cat->set.tz);
	size_t i, j = 0;
	struct carry_prefixes px;
	const char *pre;
	int rc = 0;

	*declined = 0;
	if (out) {
		*out = NULL;
		*n = 0;
	}
	memset(&px, 0, sizeof(px));
	for (i = 0; i < cat->naccounts && !rc && !*declined; i++) {
		const struct account *a = &cat->accounts[i];
		struct carry_acct *c = NULL;
		struct walk w;
		dec_t credit;
		int k = 1;

		/* both sorted by (tenant, currency) as strcmp's */
		while (j < next->n) {
			k = strcmp(next->a[j].tenant, a->tenant);
			if (!k)
				k = strcmp(next->a[j].currency, a->currency);
			if (k >= 0)
				break;
			j++;
		}
		if (j < next->n && !k)
			c = &next->a[j];
		if (credits_before(cat, a, as_of, &credit)) {
			*declined = 1;
			break;
		}
		memset(&w, 0, sizeof(w));
		w.a = a;
		w.p = p;
		w.bal = credit;
		if ((c && (carry_trim(c, credit) != 0 ||
			   dec_sub(credit, c->total, &w.bal))) ||
		    w.bal == INT64_MIN) {
			*declined = 1;
			break;
		}
		if (!out || w.bal >= 0)
			continue;
		if (c && c->nopen) {
			w.found = 1;
			w.oldest_p = c->open[0].period;
			w.oldest_no = c->open[0].number;
			pre = carry_prefix(f, &px, w.oldest_p, prefix, e);
			if (!pre) {
				rc = ST_ERROR;
				break;
			}
			snprintf(w.oldest_prefix, sizeof(w.oldest_prefix), "%s",
				 pre);
		}
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		rc = arrears_row(cat, &w, as_of, &(*out)[(*n)++], e);
	}
	carry_prefixes_release(&px);
	return rc;
}
