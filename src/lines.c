/* lines: what one period gives (SPEC 5, 6, 7): its invoice lines from the
 * line aggregates, rated and grouped per account, its package rows and
 * its alerts. */
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "mem.h"
#include "ts.h"
#include "banned.h"

/* Sorting lines of a period: (account, item code, price group). */
static int cmp_line(const void *pa, const void *pb)
{
	const struct eng_line *a = pa, *b = pb;
	int c;

	if (a->acct != b->acct)
		return a->acct < b->acct ? -1 : 1;
	c = strcmp(a->item->code, b->item->code);
	if (c)
		return c;
	return strcmp(a->item->groups[a->group].filter,
		      b->item->groups[b->group].filter);
}

/* A package usage with its package's id beside it: the comparison needs
 * no catalog (package ids are unique, so the order is total). */
struct pu_by_id {
	const char *id;
	struct eng_pusage pu;
};

static int cmp_pu(const void *pa, const void *pb)
{
	const struct pu_by_id *a = pa, *b = pb;

	return strcmp(a->id, b->id);
}

/* Sorts the n package usages of one line by package id. */
static void sort_pu(const struct catalog *cat, struct eng_pusage *pu,
		    size_t n)
{
	struct pu_by_id *v = xmalloc(n * sizeof(*v));
	size_t i;

	for (i = 0; i < n; i++) {
		v[i].id = cat->packages[pu[i].pkg].id;
		v[i].pu = pu[i];
	}
	qsort(v, n, sizeof(*v), cmp_pu);
	for (i = 0; i < n; i++)
		pu[i] = v[i].pu;
	free(v);
}

/* Builds the lines of period p (not yet grouped into invoices). */
static int period_lines(struct engine *g, int p, struct eng_line **out,
			size_t *nout)
{
	const struct catalog *cat = g->cat;
	size_t nl = agg_count(g->r->lines), npu = agg_count(g->r->pus), i;
	size_t *slot = xmalloc((nl ? nl : 1) * sizeof(*slot));
	struct eng_line *lines = NULL;
	size_t n = 0, cap = 0;

	for (i = 0; i < nl; i++) {
		const struct line_key *k = agg_key(g->r->lines, i);
		const struct line_agg *a = &g->r->la[i];
		struct eng_line *l;
		struct rated rt;
		size_t tcap;

		slot[i] = (size_t)-1;
		if (k->period != p || a->u <= 0)
			continue;
		xgrow((void **)&lines, &cap, n + 1, sizeof(*lines));
		l = &lines[n];
		memset(l, 0, sizeof(*l));
		l->acct = &cat->accounts[k->acct];
		l->item = &cat->items[k->item];
		l->group = k->group;
		l->u = a->u;
		l->c = a->c;
		l->f = a->f;
		l->n = a->n;
		l->b = a->u - a->c - a->f - a->n;
		if (rate_line(l->item, &l->item->groups[l->group], l->u, l->b,
			      cat->set.rounding, &rt, g->e)) {
			free(slot);
			*out = lines;
			*nout = n;
			return ST_ERROR;
		}
		l->amount = rt.amount;
		/* "qty@price" per slice, ';' between: always fits */
		tcap = rt.nslices * (2 * DEC_MAX_TEXT + 2) + 1;
		l->tiers = xmalloc(tcap);
		rate_format_tiers(rt.slices, rt.nslices, l->tiers, tcap);
		free(rt.slices);
		slot[i] = n++;
	}
	for (i = 0; i < npu; i++) {
		const struct pu_key *k = agg_key(g->r->pus, i);
		struct eng_line *l;

		if (slot[k->line] == (size_t)-1)
			continue;
		l = &lines[slot[k->line]];
		l->pu = xrealloc(l->pu, (l->npu + 1) * sizeof(*l->pu));
		l->pu[l->npu++] = g->r->pu[i];
	}
	for (i = 0; i < n; i++)
		if (lines[i].npu > 1)
			sort_pu(cat, lines[i].pu, lines[i].npu);
	if (n > 1)
		qsort(lines, n, sizeof(*lines), cmp_line);
	free(slot);
	*out = lines;
	*nout = n;
	return 0;
}

int engine_period(struct engine *g, int p, struct eng_period *out,
		  struct err *e)
{
	const struct catalog *cat = g->cat;
	struct eng_line *lines;
	size_t nlines, i, j;
	int64_t start = ts_period_start(p, cat->set.tz);
	int64_t end = ts_period_start(p + 1, cat->set.tz);
	size_t pci;
	int rc;

	memset(out, 0, sizeof(*out));
	out->period = p;
	g->e = e;
	rc = period_lines(g, p, &lines, &nlines);
	/* group lines into invoices, one per account */
	for (i = 0; i < nlines; i = j) {
		struct eng_invoice *inv;

		for (j = i + 1; j < nlines && lines[j].acct == lines[i].acct;
		     j++)
			;
		out->inv = xrealloc(out->inv, (out->ninv + 1) *
				    sizeof(*out->inv));
		inv = &out->inv[out->ninv++];
		inv->acct = lines[i].acct;
		inv->nlines = j - i;
		inv->lines = xmalloc(inv->nlines * sizeof(*inv->lines));
		memcpy(inv->lines, &lines[i], inv->nlines * sizeof(*lines));
		/* each line now belongs to its invoice */
		inv->total = 0;
		if (rc)
			continue;
		for (size_t k = i; k < j; k++)
			if (dec_add(inv->total, lines[k].amount, &inv->total))
				rc = err_set(e, ST_ERROR, "invoice total of "
					     "'%s' overflows",
					     inv->acct->tenant);
	}
	free(lines);
	if (rc)
		return rc;
	for (i = 0; i < cat->npackages; i++) {
		const struct package *pk = &cat->packages[i];
		const struct pkg_state *st = &g->book.st[i];
		struct eng_pkgrow *row;
		size_t np = agg_count(g->r->pps);
		int ap;

		if (!(pk->valid_from < end && pk->valid_to > start))
			continue;
		out->pkgs = xrealloc(out->pkgs, (out->npkgs + 1) *
				     sizeof(*out->pkgs));
		row = &out->pkgs[out->npkgs++];
		memset(row, 0, sizeof(*row));
		row->pkg = pk;
		for (j = 0; j < np; j++) {
			const struct pp_key *k = agg_key(g->r->pps, j);

			if (k->pkg != i || k->period > p)
				continue;
			if (dec_add(k->period < p ? row->used_before :
				    row->used_in, g->r->pp[j],
				    k->period < p ? &row->used_before :
				    &row->used_in))
				return err_set(e, ST_ERROR, "usage of package "
					       "'%s' overflows", pk->id);
		}
		if (!pk->unlimited) {
			row->remaining = pk->quota - row->used_before -
					 row->used_in;
			if (ts_period_of(pk->valid_to - 1, cat->set.tz) == p) {
				row->has_expired = 1;
				row->expired = row->remaining;
			}
		}
		/* the alert's period is its record's: the month of its ts */
		ap = st->alerted ? ts_period_of(st->alert_ts, cat->set.tz) : 0;
		if (st->alerted && ap <= p) {
			row->has_alert = 1;
			row->alert_ts = st->alert_ts;
		}
		if (st->alerted && ap == p) {
			struct eng_alert *a;

			out->alerts = xrealloc(out->alerts, (out->nalerts + 1) *
					       sizeof(*out->alerts));
			a = &out->alerts[out->nalerts++];
			a->pkg = pk;
			a->ts = st->alert_ts;
			a->remaining = st->alert_left;
		}
	}
	pci = agg_get(g->r->pcounts, &(int32_t){ p });
	if (pci != (size_t)-1) {
		out->records = g->r->pc[pci].records;
		out->unbillable = g->r->pc[pci].unbillable;
	}
	return 0;
}

void engine_period_release(struct eng_period *pp)
{
	size_t i, j;

	for (i = 0; i < pp->ninv; i++) {
		for (j = 0; j < pp->inv[i].nlines; j++) {
			free(pp->inv[i].lines[j].tiers);
			free(pp->inv[i].lines[j].pu);
		}
		free(pp->inv[i].lines);
	}
	free(pp->inv);
	free(pp->pkgs);
	free(pp->alerts);
	memset(pp, 0, sizeof(*pp));
}
