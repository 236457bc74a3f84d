/* ledger: settlement of final periods, and drafts. */
#include "ledger.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balance.h"
#include "carry.h"
#include "fault.h"
#include "final.h"
#include "final_doc.h"
#include "mem.h"
#include "outdig.h"
#include "report.h"
#include "resume.h"
#include "sha256.h"
#include "stamp.h"
#include "ts.h"
#include "banned.h"

/* What this close does with each invoice. */
struct plan {
	struct final_invoice *old;  /* the stored invoice, NULL for a new one */
	int64_t number;
	int version;
	int changed;         /* new, or differs from old: to be written */
	int fill;            /* old has no dates (a version-2 state): write
			      * them, with no new version */
	struct final_terms terms;
};

/* Everything one close of one period works with. */
struct pctx {
	struct final *fin;
	struct store *s;
	const struct catalog *cat;
	struct engine *g;
	int p;
	struct err *e;
	const unsigned char *inputs;
	const char *adj_date;        /* issue date of its adjustments */
	struct final_period stored;  /* its row; prefix: also of a new one */
	int was_final;
	int target;                  /* the period closed (not a re-settle) */
	struct final_invoice *st;    /* stored invoices, (tenant, currency) */
	size_t nst;
	struct account *ghosts;      /* accounts of vanished invoices */
	size_t nghosts;
	struct eng_period rp;
	struct plan *pl;             /* per invoice of rp */
	struct report_invoice *rinv; /* per invoice of rp */
	char *nos;                   /* their invoice numbers' texts */
	struct report_adjustment *adj;
	size_t nadj;
	struct report_arrears *arr;
	size_t narr;
	size_t new_adjustments;
	size_t numbered, revised;    /* invoices new / changed this close */
	struct ledger_sum *sums;     /* adjustment totals per currency */
	size_t nsums;
	struct report_files files;
	unsigned char digest[32];    /* of files (record_period) */
	int use_carry;               /* 0: SETTLE_FULL_REPLAY, the history */
	struct carry *prev;          /* of the final period before, or NULL:
				      * read the history (carry.h) */
	int own_prev;                /* prev is no other period's next: its
				      * accounts may be moved into next */
	struct carry next;           /* of this period, once settled */
	int have_next;
};

static void pctx_release(struct pctx *c)
{
	size_t i;

	final_invoices_release(c->st, c->nst);
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
	free(c->sums);
	free(c->arr);
	free(c->pl);
	free(c->rinv);
	free(c->nos);
	engine_period_release(&c->rp);
	report_files_release(&c->files);
	carry_release(&c->next);
}

/* The stored invoice of (tenant, currency): they are sorted so (SQLite's
 * BINARY order is strcmp's), so a binary search. */
static struct final_invoice *find_stored(struct pctx *c, const char *tenant,
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

/* ---- adjustments: what changed between the stored invoice and now ---- */

static int line_same(const struct eng_line *a, const struct final_line *b)
{
	return a->usage == b->usage_qty && a->covered == b->package_qty &&
	       a->forgiven == b->forgiven_qty && a->uncovered == b->uncovered_qty &&
	       a->billable == b->billable_qty && a->amount == b->amount &&
	       strcmp(a->tiers, b->tiers) == 0;
}

/* Compares a line key (item, price group) of the engine and the state. */
static int cmp_key(const struct eng_line *a, const struct final_line *b)
{
	int k = strcmp(a->item->code, b->item);

	return k ? k : strcmp(a->item->groups[a->group].filter,
			      b->price_group);
}

/* 1 if the stored invoice v and this close's n differ in any field of
 * any line, else 0. */
static int differs(const struct final_invoice *v, const struct eng_invoice *n)
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

static int put_adjustment(struct pctx *c, const struct final_invoice *v,
			  int seq, const char *item, const char *pg, dec_t old,
			  dec_t nw)
{
	return final_adjustment_put(c->fin, c->p, v->tenant, v->currency, seq,
				    item, pg, old, nw, c->adj_date, c->e);
}

/* Adds an adjustment's total delta to its currency's sum (kept sorted by
 * code, for the close's line). */
static int add_sum(struct pctx *c, const char *currency, dec_t delta)
{
	size_t i = 0;

	while (i < c->nsums && strcmp(c->sums[i].currency, currency) < 0)
		i++;
	if (i == c->nsums || strcmp(c->sums[i].currency, currency) != 0) {
		c->sums = xrealloc(c->sums, (c->nsums + 1) * sizeof(*c->sums));
		memmove(&c->sums[i + 1], &c->sums[i],
			(c->nsums - i) * sizeof(*c->sums));
		memset(&c->sums[i], 0, sizeof(*c->sums));
		memcpy(c->sums[i].currency, currency, 3);
		c->sums[i].minor = dec_minor_digits(currency);
		c->nsums++;
	}
	if (dec_add(c->sums[i].delta, delta, &c->sums[i].delta))
		return err_set(c->e, ST_ERROR, "amount overflow in the "
			       "adjustments of %s (amounts too large)",
			       currency), -1;
	return 0;
}

/* Issues the adjustment of a changed invoice (differs): a row per
 * changed line (old or new amount 0 for a line that appeared or
 * vanished), a `tax` row when the tax changed, and a total row (totals
 * with tax; t are the new terms). Returns 0 or -1. */
static int adjust(struct pctx *c, struct final_invoice *v,
		  const struct eng_invoice *n, const struct final_terms *t)
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
			const struct final_line *l = &v->lines[j++];

			r = put_adjustment(c, v, seq, l->item, l->price_group,
					   l->amount, 0);
		} else {
			const struct eng_line *l = &n->lines[i++];
			const struct final_line *o = &v->lines[j++];

			if (!line_same(l, o))
				r = put_adjustment(c, v, seq, o->item,
						   o->price_group, o->amount,
						   l->amount);
		}
		if (r)
			return -1;
	}
	if (t->tax != v->terms.tax &&
	    put_adjustment(c, v, seq, "", "tax", v->terms.tax, t->tax))
		return -1;
	if (put_adjustment(c, v, seq, "", "", v->total, t->net + t->tax))
		return -1;
	c->new_adjustments++;
	return add_sum(c, v->currency, t->net + t->tax - v->total);
}

/* One stored adjustment row as the files show it. */
static int add_adjustment(void *ctx, const struct final_adjustment *s)
{
	struct pctx *c = ctx;
	struct report_adjustment *a;

	c->adj = xrealloc(c->adj, (c->nadj + 1) * sizeof(*c->adj));
	a = &c->adj[c->nadj++];
	memset(a, 0, sizeof(*a));
	final_invoice_no(c->stored.prefix, c->p, s->number, a->invoice_no,
			 sizeof(a->invoice_no));
	snprintf(a->adjustment_no, sizeof(a->adjustment_no), "%s-A%d",
		 a->invoice_no, s->seq);
	a->tenant = xstrdup(s->tenant);
	a->currency = xstrdup(s->currency);
	a->item = xstrdup(s->item);
	a->price_group = xstrdup(s->price_group);
	a->old_amount = s->old_amount;
	a->new_amount = s->new_amount;
	if (dec_sub(a->new_amount, a->old_amount, &a->delta))
		return err_set(c->e, ST_ERROR, "amount overflow in the "
			       "adjustments of %s (amounts too large)",
			       a->currency), -1;
	a->minor = dec_minor_digits(a->currency);
	snprintf(a->issue_date, sizeof(a->issue_date), "%s", s->issue_date);
	return 0;
}

/* ---- the steps of settling one period ---- */

/* Rates period c->p and reads what the state holds of it: its row (the
 * prefix of its first close, or the config's for a first close) and its
 * invoices. */
static int load_period(struct pctx *c)
{
	int found;

	if (engine_period(c->g, c->p, &c->rp, c->e))
		return -1;
	/* the period closed is the last one built: free the engine's line
	 * aggregates before settling it (issue 14) */
	if (c->target)
		engine_trim(c->g);
	found = final_period_get(c->fin, c->p, &c->stored, c->e);
	if (found < 0)
		return -1;
	c->was_final = found;
	if (!found)
		snprintf(c->stored.prefix, sizeof(c->stored.prefix), "%s",
			 c->cat->set.invoice_prefix);
	return final_invoices_get(c->fin, c->p, &c->st, &c->nst, c->e);
}

/* Invoices that lost every line keep their number, with no lines: one
 * empty invoice for each stored invoice this close has none for, of the
 * config's account or (when it is gone from the config) of a stand-in. */
static void add_ghosts(struct pctx *c)
{
	unsigned char *seen = xcalloc(c->nst ? c->nst : 1, 1);
	size_t i, nreal = c->rp.ninv;

	for (i = 0; i < nreal; i++) {
		struct final_invoice *old = find_stored(c,
			c->rp.inv[i].acct->tenant, c->rp.inv[i].acct->currency);

		if (old)
			seen[old - c->st] = 1;
	}
	for (i = 0; i < c->nst; i++) {
		if (seen[i])
			continue;
		c->ghosts = xrealloc(c->ghosts, (c->nghosts + 1) *
				     sizeof(*c->ghosts));
		memset(&c->ghosts[c->nghosts], 0, sizeof(*c->ghosts));
		c->ghosts[c->nghosts].tenant = xstrdup(c->st[i].tenant);
		c->ghosts[c->nghosts].doc = &account_no_doc;
		memcpy(c->ghosts[c->nghosts].currency, c->st[i].currency, 4);
		c->nghosts++;
	}
	free(seen);
	for (i = 0; i < c->nghosts; i++) {
		const struct account *real = catalog_account(c->cat,
			c->ghosts[i].tenant, strlen(c->ghosts[i].tenant),
			c->ghosts[i].currency);
		struct eng_invoice *v;

		c->rp.inv = xrealloc(c->rp.inv, (c->rp.ninv + 1) *
				     sizeof(*c->rp.inv));
		v = &c->rp.inv[c->rp.ninv++];
		memset(v, 0, sizeof(*v));
		v->acct = real ? real : &c->ghosts[i];
	}
}

/* balance_before of each invoice of rp (of period p), malloc'd; NULL on
 * error: from prev, the carry of the final period before p (carry.h),
 * unless it is NULL or a sum overflows, else from the history. */
static dec_t *balances_of(struct store *s, const struct catalog *cat,
			  const struct carry *prev, const struct eng_period *rp,
			  int p, struct err *e)
{
	const struct account **accts = xmalloc((rp->ninv + 1) *
					       sizeof(*accts));
	dec_t *bbs = xmalloc((rp->ninv + 1) * sizeof(*bbs));
	size_t i;
	int rc = 0, declined = 1;

	for (i = 0; i < rp->ninv; i++)
		accts[i] = rp->inv[i].acct;
	if (prev)
		balance_before_carry(cat, prev, accts, rp->ninv, p, bbs,
				     &declined);
	if (declined)
		rc = balance_before(s, cat, accts, rp->ninv, p, bbs, e);
	free(accts);
	if (rc) {
		free(bbs);
		return NULL;
	}
	return bbs;
}

/* Numbers each invoice and fills its header: a stored invoice keeps its
 * number (and gets a new version when it differs), a new one takes the
 * next free number. */
static int plan_invoices(struct pctx *c)
{
	int64_t maxnum = 0;
	dec_t *bbs;
	/* "PREFIX-YYYYMM-NNNNNN": final_invoice_no keeps at most 64 bytes
	 * of the prefix, a number has at most 20 digits */
	size_t i, used = 0, most = strnlen(c->stored.prefix, 64) + 30;

	for (i = 0; i < c->nst; i++)
		if (c->st[i].number > maxnum)
			maxnum = c->st[i].number;
	c->rinv = xcalloc(c->rp.ninv ? c->rp.ninv : 1, sizeof(*c->rinv));
	c->nos = xmalloc((c->rp.ninv ? c->rp.ninv : 1) * most);
	if (!(bbs = balances_of(c->s, c->cat, c->use_carry ? c->prev : NULL,
				&c->rp, c->p, c->e)))
		return -1;
	c->pl = xmalloc((c->rp.ninv + 1) * sizeof(*c->pl));
	for (i = 0; i < c->rp.ninv; i++) {
		const struct eng_invoice *v = &c->rp.inv[i];
		struct plan *q = &c->pl[i];
		struct report_invoice *h = &c->rinv[i];

		q->old = find_stored(c, v->acct->tenant, v->acct->currency);
		if (q->old) {
			q->number = q->old->number;
			q->changed = differs(q->old, v);
			q->version = q->old->version + q->changed;
			c->revised += (size_t)q->changed;
			q->fill = !q->old->terms.issue_date[0];
		} else {
			q->number = ++maxnum;
			q->version = 1;
			q->changed = 1;
			c->numbered++;
		}
		if (balance_terms(c->cat, c->p, v,
				  q->old ? &q->old->terms : NULL, &q->terms,
				  c->e)) {
			free(bbs);
			return -1;
		}
		final_invoice_no(c->stored.prefix, c->p, q->number,
				 c->nos + used, most);
		h->invoice_no = c->nos + used;
		used += strlen(h->invoice_no) + 1;
		h->status = "final";
		h->version = q->version;
		if (balance_header(h, &q->terms, bbs[i], v->acct, c->p,
				   c->e)) {
			free(bbs);
			return -1;
		}
	}
	free(bbs);
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

/* New invoices are recorded a block at a time (final_invoices_add). */
#define NEW_BLOCK 1024

/* Records in the state the invoices that changed (with their
 * adjustments), in order. */
static int record_invoices(struct pctx *c)
{
	struct final_fresh *blk = xmalloc(NEW_BLOCK * sizeof(*blk));
	size_t i, nb = 0;
	int rc = -1;

	for (i = 0; i < c->rp.ninv; i++) {
		const struct eng_invoice *v = &c->rp.inv[i];
		const struct plan *q = &c->pl[i];

		if (i + 1 < c->rp.ninv)
			prefetch_tiers(&c->rp.inv[i + 1]);
		if (!q->changed && !q->fill)
			continue;
		if (!q->old) {
			blk[nb].v = v;
			blk[nb].number = q->number;
			blk[nb].version = q->version;
			blk[nb++].terms = &q->terms;
			if (nb == NEW_BLOCK && final_invoices_add(
				    c->fin, c->p, blk, nb, c->e))
				goto out;
			nb %= NEW_BLOCK;
			continue;
		}
		if (q->changed && adjust(c, q->old, v, &q->terms))
			goto out;
		if (final_invoice_put(c->fin, c->p, v, q->number, q->version,
				      &q->terms, c->e))
			goto out;
	}
	rc = nb && final_invoices_add(c->fin, c->p, blk, nb, c->e) ? -1 : 0;
out:
	free(blk);
	return rc;
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

/* The arrears after p's close and the carry of p (c->next, c->have_next):
 * from the carry of the period before and p's invoices, else (no carry,
 * or it cannot say) from the history (carry.h); under SETTLE_FULL_REPLAY
 * the arrears always from the history, the oracle, and the carry too. */
static int arrears_of(struct pctx *c)
{
	struct carry *from = c->use_carry ? c->prev : NULL;
	int over, declined = 1, period = from ? from->period : 0;
	size_t had = from ? from->n : 0;

	for (;;) {
		if (carry_next(c->fin, from, from && c->own_prev, c->p,
			       &c->next, &over, c->e))
			return -1;
		if (!over && balance_arrears_carry(c->fin, c->cat, c->p,
				c->stored.prefix, &c->next,
				c->use_carry ? &c->arr : NULL, &c->narr,
				&declined, c->e))
			return -1;
		if (!declined || !from)
			break;
		/* the carry cannot say: from the history */
		free(c->arr);
		c->arr = NULL;
		c->narr = 0;
		carry_release(&c->next);
		from = NULL;
	}
	c->have_next = !declined;
	if (c->use_carry && !declined) {
		if (from && had) {
			char ym[16], msg[64];

			/* SETTLE_TIMING=1: which path (tests) */
			ts_period_format(period, 1, ym);
			snprintf(msg, sizeof(msg), "balances from the carry "
				 "of %s", ym);
			fault_note(msg);
		}
		return 0;
	}
	free(c->arr);
	c->arr = NULL;
	c->narr = 0;
	return balance_arrears(c->fin, c->cat, c->p, c->stored.prefix,
			       &c->arr, &c->narr, c->e);
}

/* Records the invoices, then reads back the arrears and adjustments, and
 * renders every file. The files that need no adjustments or arrears are
 * rendered on a second thread meanwhile (nothing else touches the
 * connection; both threads only read c->rp). */
static int record_and_render(struct pctx *c)
{
	struct render_job job;
	pthread_t tid;
	int threaded, failed;

	memset(&job, 0, sizeof(job));
	job.r.cat = c->cat;
	job.r.g = c->g;
	job.r.rp = &c->rp;
	job.r.inv = c->rinv;
	job.files = &c->files;
	threaded = pthread_create(&tid, NULL, render_lines, &job) == 0;
	if (!threaded)
		render_lines(&job);
	failed = record_invoices(c);
	/* the plan is read by record_invoices alone: freed before the
	 * rendering ends, where the close's memory peaks (issue 14) */
	free(c->pl);
	c->pl = NULL;
	failed = failed || arrears_of(c) ||
		 final_adjustments(c->fin, c->p, add_adjustment, c, c->e);
	if (threaded)
		pthread_join(tid, NULL);
	if (failed)
		return -1;
	job.r.adj = c->adj;
	job.r.nadj = c->nadj;
	job.r.arr = c->arr;
	job.r.narr = c->narr;
	report_render_rest(&job.r, &c->files);
	return 0;
}

/* Keeps the period's writes and records its new version when its files
 * changed; else undoes them, leaving the state byte for byte as it was.
 * Sets *changed. */
static int record_period(struct pctx *c, int *changed)
{
	unsigned char *digest = c->digest;

	report_digest(&c->files, digest);
	if (c->was_final && memcmp(digest, c->stored.digest, 32) == 0) {
		if (final_savepoint_undo(c->fin, c->p, c->e))
			return -1;
	} else {
		if (final_period_put(c->fin, c->p, c->stored.prefix,
				     c->stored.version + 1, digest, c->inputs,
				     c->e))
			return -1;
		*changed = 1;
	}
	return final_savepoint_keep(c->fin, c->p, c->e);
}

/* Records what the period's documents need (final_doc.h): every close
 * of a period, a no-op too, refreshes parties and names; a re-settle
 * too; an earlier period that stays as it was only gets them when it has
 * none. The lines' numbers are rewritten when its files changed. */
static int record_docs(struct pctx *c, int changed)
{
	struct final_doc_src src;
	int have;

	if (final_doc_has(c->s, c->p, &have, c->e))
		return -1;
	if (!c->target && !changed && have)
		return 0;
	src.cat = c->cat;
	src.p = c->p;
	src.rp = &c->rp;
	src.inv = c->rinv;
	src.adj = c->adj;
	src.nadj = c->nadj;
	return final_doc_put(c->s, &src, changed || !have, c->e);
}

/* Settles period c->p inside the open transaction. Sets *changed. */
static int settle(struct pctx *c, int *changed)
{
	*changed = 0;
	if (load_period(c) || final_savepoint(c->fin, c->p, c->e))
		return -1;
	add_ghosts(c);
	if (plan_invoices(c) || record_and_render(c))
		return -1;
	return record_period(c, changed) || record_docs(c, *changed);
}

/* ---- the close ---- */

struct release_job {
	struct pctx *ctx;
	size_t n;
};

/* Frees the rated periods, which nothing reads once the files are
 * rendered (a few large blocks each now: lines, texts and usages are
 * pooled per period, lines.c). */
static void *release_periods(void *arg)
{
	struct release_job *j = arg;
	size_t i;

	for (i = 0; i < j->n; i++)
		engine_period_release(&j->ctx[i].rp);
	return NULL;
}

/* Writes the complete file set of every period closed, changed or not,
 * into a staging folder beside OUT/YYYY-MM before the commit (report.h),
 * so that a full disk fails the close with nothing committed (exit 1
 * keeps its meaning); a period whose files are all right stages
 * nothing. */
static int prepare_outputs(const struct pctx *ctx, size_t n,
			   const char *outdir, struct report_pending *pend,
			   struct err *e)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char dir[4096], ym[16];

		ts_period_format(ctx[i].p, 1, ym);
		snprintf(dir, sizeof(dir), "%s/%s", outdir, ym);
		if (report_prepare(&ctx[i].files, dir, &pend[i], e))
			return ST_ERROR;
	}
	return 0;
}

/* After the commit: each period's staged set swapped in (report_finish).
 * The state is final by now, so a failure is no exit 1 ("nothing
 * committed") but ST_PARTIAL, naming the period and why; every period is
 * tried. A crash or failure here is repaired by the same close, which
 * renders the files from the committed state (`repaired N files`). */
static int finish_outputs(struct store *s, const char *outdir, int64_t at,
			  const struct pctx *ctx, struct report_pending *pend,
			  size_t n, struct ledger_result *res, struct err *e)
{
	struct err first, why;
	size_t i, w, failed = 0, k = 0;
	unsigned char (*digest)[32] = xcalloc(n, sizeof(*digest));
	int *placed = xcalloc(n, sizeof(*placed));
	char ym[16];

	err_clear(&first);
	for (i = 0; i < n; i++) {
		err_clear(&why);
		if (report_finish(&pend[i], &w, &why)) {
			if (!failed++) {
				ts_period_format(ctx[i].p, 1, ym);
				first = why;
			}
			continue;
		}
		res->files_written += w;
		placed[k] = ctx[i].p;
		memcpy(digest[k++], ctx[i].digest, 32);
	}
	/* each folder in place holds its digest, read or written after at:
	 * its stamps (outdig.h); a failure costs the next close a read. Only
	 * when the close changed the state: one that changes nothing, a
	 * repair too, leaves the state as it was (SPEC 7) */
	err_clear(&why);
	if (res->changed)
		(void)outdig_put_written(s, outdir, placed, (const unsigned
					 char (*)[32])digest, k, at, &why);
	free(placed);
	free(digest);
	if (!failed)
		return 0;
	if (failed == 1)
		return err_set(e, ST_PARTIAL, "%s is final in the state, but "
			       "its files could not be put in place (%s); the "
			       "same close puts them in place", ym, first.msg);
	return err_set(e, ST_PARTIAL, "%s and %zu more periods are final in "
		       "the state, but their files could not be put in place "
		       "(%s); the same close puts them in place", ym,
		       failed - 1, first.msg);
}

/* Records in the state, before the commit, the bytes of every file this
 * close renders (the guard on OUT/Q/ knows them as this state's) and, on
 * each period's row, the file log it saw and its as_of. */
static int record_close(struct store *s, const struct catalog *cat,
			struct final *fin, const struct pctx *ctx, size_t n,
			struct err *e)
{
	int64_t seq;
	size_t i, j;

	if (store_log_seq(s, &seq, e))
		return ST_ERROR;
	for (i = 0; i < n; i++) {
		const struct report_files *f = &ctx[i].files;

		for (j = 0; j < f->n; j++) {
			unsigned char sha[32];
			struct sha256 md;

			sha256_init(&md);
			sha256_update(&md, f->f[j].data, f->f[j].len);
			sha256_final(&md, sha);
			if (store_written_put(s, ctx[i].p, f->f[j].name, sha, e))
				return ST_ERROR;
		}
		if (final_period_mark(fin, ctx[i].p, seq, ts_period_start(
				      ctx[i].p + 1, cat->set.tz), e))
			return ST_ERROR;
	}
	return 0;
}

/* Inside the transaction of a close that changed something: drops the
 * carry of every period whose outputs changed and of every later one
 * (their sums hold its old totals), then keeps the carry of every period
 * settled that has one (carry.h), and only those of the CARRY_KEEP
 * months up to the period closed. */
#define CARRY_KEEP 3

static int keep_carries(struct store *s, const struct pctx *ctx, size_t n,
			const struct ledger_result *res, struct err *e)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (res->periods[i].changed) {
			if (carry_drop_from(s, ctx[i].p, e))
				return ST_ERROR;
			break;
		}
	for (i = 0; i < n; i++)
		if (ctx[i].have_next && carry_save(s, &ctx[i].next, e))
			return ST_ERROR;
	/* a close reads the carry of the period before the first one it
	 * settles: the last few cover closing the next month and closing
	 * a recent one again; an older one is read from the history */
	return carry_drop_before(s, ctx[n - 1].p - CARRY_KEEP + 1, e);
}

/* What one settled period tells the caller; takes over c->sums. */
static void period_result(struct pctx *c, int changed,
			  struct ledger_period *r)
{
	memset(r, 0, sizeof(*r));
	r->period = c->p;
	r->changed = changed;
	r->invoices = c->rp.ninv;
	r->numbered = c->numbered;
	r->revised = c->revised;
	r->adjustments = c->new_adjustments;
	r->sums = c->sums;
	r->nsums = c->nsums;
	r->arrears = c->narr;
	c->sums = NULL;
	c->nsums = 0;
}

void ledger_result_release(struct ledger_result *res)
{
	size_t i;

	for (i = 0; i < res->nperiods; i++)
		free(res->periods[i].sums);
	free(res->periods);
	res->periods = NULL;
	res->nperiods = 0;
}

/* Settles every period of ctx in the open transaction; fills res. */
static int settle_all(struct pctx *ctx, size_t n, struct ledger_result *res)
{
	size_t i;
	int changed;

	res->periods = xcalloc(n, sizeof(*res->periods));
	for (i = 0; i < n; i++) {
		struct pctx *c = &ctx[i];

		if (i)
			c->prev = ctx[i - 1].have_next ? &ctx[i - 1].next : NULL;
		if (settle(c, &changed))
			return ST_ERROR;
		period_result(c, changed, &res->periods[res->nperiods++]);
		if (changed) {
			res->changed = 1;
			res->adjustments += c->new_adjustments;
			if (i < n - 1)
				res->resettled++;
		}
	}
	res->was_final = ctx[n - 1].was_final;
	res->invoices = ctx[n - 1].rp.ninv;
	res->arrears = ctx[n - 1].narr;
	return 0;
}

/* The carry of the final period before the first period this close
 * settles into *prev, and ctx[0].prev: prev, or NULL when it has none
 * (read the history); an empty carry when no final period is before it. */
static int load_prev(struct store *s, struct pctx *ctx, struct carry *prev,
		     struct err *e)
{
	int found, none;

	if (!ctx[0].use_carry)
		return 0;
	if (carry_load_before(s, ctx[0].p, prev, &found, &none, e))
		return ST_ERROR;
	ctx[0].prev = found || none ? prev : NULL;
	ctx[0].own_prev = 1;
	return 0;
}

int ledger_close(struct store *s, const struct catalog *cat,
		 struct engine *g, int p, const unsigned char inputs[32],
		 const char *outdir, int dry, struct ledger_result *res,
		 struct err *e)
{
	struct pctx *ctx = NULL;
	struct report_pending *pend = NULL;
	struct final *fin;
	struct release_job rel;
	int64_t at = 0;
	pthread_t rtid;
	int *periods = NULL, latest, found;
	size_t n = 0, i, skip, all;
	int rc = ST_ERROR, releasing = 0;
	char adj_date[11];
	struct carry prev;

	memset(res, 0, sizeof(*res));
	memset(&prev, 0, sizeof(prev));
	if (final_periods_before(s, p, &periods, &n, e) ||
	    final_latest(s, &latest, &found, e))
		return ST_ERROR;
	/* an adjustment is dated the as_of of the latest final period once
	 * this close is done (SPEC 7 v2) */
	if (!found || latest < p)
		latest = p;
	balance_dates(cat, latest, adj_date, NULL);
	periods = xrealloc(periods, (n + 1) * sizeof(*periods));
	periods[n++] = p;
	/* earlier final periods that cannot have changed are not settled
	 * again, only marked as seen by this close (resume.h) */
	/* a close decided it in resume_plan (engine_skip), with each folder
	 * hashed once (outdig.h) */
	if (resume_skip(s, g, periods, n - 1, outdir, NULL, &skip, e)) {
		free(periods);
		return ST_ERROR;
	}
	ctx = xcalloc(n - skip, sizeof(*ctx));
	all = n;
	n -= skip;
	fin = final_new(s);
	if (store_begin(s, e))
		goto out;
	for (i = 0; i < n; i++) {
		ctx[i].fin = fin;
		ctx[i].s = s;
		ctx[i].cat = cat;
		ctx[i].g = g;
		ctx[i].p = periods[skip + i];
		ctx[i].e = e;
		ctx[i].inputs = inputs;
		ctx[i].adj_date = adj_date;
		ctx[i].target = i == n - 1;
		ctx[i].use_carry = !engine_opts_of(g)->full_replay;
	}
	if (n && load_prev(s, ctx, &prev, e))
		goto out;
	if (settle_all(ctx, n, res) || record_close(s, cat, fin, ctx, n, e) ||
	    resume_mark(s, cat, fin, periods, skip, e) ||
	    /* a close that changes nothing leaves the state as it was */
	    (res->changed && (resume_record(s, g, periods, all, e) ||
			      keep_carries(s, ctx, n, res, e))))
		goto out;
	/* freed on a second thread during the commit and the writes */
	rel.ctx = ctx;
	rel.n = n;
	releasing = pthread_create(&rtid, NULL, release_periods, &rel) == 0;
	final_free(fin);
	fin = NULL;
	if (dry) {
		/* everything but the commit and the files */
		store_rollback(s);
		rc = 0;
		goto out;
	}
	pend = xcalloc(n, sizeof(*pend));
	/* before any file is read or written: what the stamps vouch from */
	at = stamp_clock();
	if (prepare_outputs(ctx, n, outdir, pend, e))
		goto out;
	fault_point("close-commit");
	if (store_commit(s, e))
		goto out;
	/* swapped in after the commit: a crash here leaves the old set, or
	 * the new one, which a rerun puts right from the committed state */
	rc = finish_outputs(s, outdir, at, ctx, pend, n, res, e);
out:
	for (i = 0; pend && i < n; i++)
		report_abandon(&pend[i]);
	free(pend);
	final_free(fin);
	if (rc == ST_ERROR)
		store_rollback(s);
	if (releasing)
		pthread_join(rtid, NULL);
	for (i = 0; i < n; i++)
		pctx_release(&ctx[i]);
	free(ctx);
	free(periods);
	carry_release(&prev);
	return rc;
}

int ledger_draft(struct store *s, const struct catalog *cat,
		 struct engine *g, int p, const char *outdir,
		 struct ledger_draft *res, struct err *e)
{
	struct eng_period rp;
	struct report_invoice *inv = NULL;
	struct report_files rf;
	struct report r;
	dec_t *bbs = NULL;
	struct carry prev;
	char ym[16];
	size_t i;
	int rc = ST_ERROR, found = 0, none = 0;

	memset(res, 0, sizeof(*res));
	memset(&rp, 0, sizeof(rp));
	memset(&rf, 0, sizeof(rf));
	memset(&prev, 0, sizeof(prev));
	if (engine_period(g, p, &rp, e))
		goto out;
	engine_trim(g);
	if ((!engine_opts_of(g)->full_replay &&
	     carry_load_before(s, p, &prev, &found, &none, e)) ||
	    !(bbs = balances_of(s, cat, found || none ? &prev : NULL, &rp, p,
				e)))
		goto out;
	inv = xcalloc(rp.ninv ? rp.ninv : 1, sizeof(*inv));
	for (i = 0; i < rp.ninv; i++) {
		struct final_terms t;

		/* a draft takes the current config's rate and dates */
		if (balance_terms(cat, p, &rp.inv[i], NULL, &t, e))
			goto out;
		inv[i].invoice_no = "DRAFT";
		inv[i].status = "draft";
		inv[i].version = 1;
		if (balance_header(&inv[i], &t, bbs[i], rp.inv[i].acct, p, e))
			goto out;
	}
	memset(&r, 0, sizeof(r));
	r.cat = cat;
	r.g = g;
	r.rp = &rp;
	r.inv = inv;
	r.draft = 1;
	ts_period_format(p, 1, ym);
	snprintf(res->dir, sizeof(res->dir), "%s/%s/draft", outdir, ym);
	report_render(&r, &rf);
	if (report_put(&rf, res->dir, &res->files_written, e))
		goto out;
	res->invoices = rp.ninv;
	rc = 0;
out:
	report_files_release(&rf);
	free(bbs);
	free(inv);
	engine_period_release(&rp);
	carry_release(&prev);
	return rc;
}
