/* lines: what one period gives (SPEC 5, 6, 7): its invoice lines from the
 * line aggregates, rated and grouped per account, its package rows and
 * its alerts. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "mem.h"
#include "ts.h"
#include "banned.h"

/* The period's tiers texts and package usages, in 1 MiB blocks: one
 * malloc per block instead of one per text and per line's usages. */
struct eng_block {
	struct eng_block *next;
	size_t used, cap;
	char data[];
};

#define ENG_BLOCK ((size_t)1 << 20)

/* n bytes, aligned for dec_t and pointers, at the end of the newest
 * block of *bp (a new block when they do not fit). Until the next call,
 * block_trim may give back the bytes after the first m of them. */
static void *block_take(struct eng_block **bp, size_t n)
{
	struct eng_block *b = *bp;
	size_t at = b ? (b->used + 7) & ~(size_t)7 : 0;

	if (!b || at > b->cap || b->cap - at < n) {
		size_t cap = n > ENG_BLOCK ? n : ENG_BLOCK;

		b = xmalloc(sizeof(*b) + cap);
		b->next = *bp;
		b->cap = cap;
		*bp = b;
		at = 0;
	}
	b->used = at + n;
	return b->data + at;
}

/* Keeps m of the n bytes block_take(bp, n) just gave at p. */
static void block_trim(struct eng_block *b, const void *p, size_t m)
{
	b->used = (size_t)((const char *)p - b->data) + m;
}

static void blocks_free(struct eng_block *b)
{
	while (b) {
		struct eng_block *next = b->next;

		free(b);
		b = next;
	}
}

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

/* Fills line l from the aggregate a of key k, and rates it; its tiers
 * text goes into the blocks *bp. Returns 0, or ST_ERROR with g->e
 * filled (l->tiers is then NULL). */
static int make_line(struct engine *g, const struct line_key *k,
		     const struct line_agg *a, struct eng_line *l,
		     struct eng_block **bp)
{
	const struct catalog *cat = g->cat;
	const struct price_group *pg;
	struct rated rt;
	size_t tcap;
	char p[8], *t;

	memset(l, 0, sizeof(*l));
	l->acct = &cat->accounts[k->acct];
	l->item = &cat->items[k->item];
	l->group = k->group;
	l->usage = a->usage;
	l->covered = a->covered;
	l->forgiven = a->forgiven;
	l->uncovered = a->uncovered;
	l->billable = a->usage - a->covered - a->forgiven - a->uncovered;
	pg = &l->item->groups[l->group];
	/* the version of the line's period: admission chose only groups
	 * that have one */
	if (rate_line(l->item, pg, catalog_version(pg, k->period), l->usage,
		      l->billable, cat->set.rounding, &rt, g->e)) {
		ts_period_format(k->period, 1, p);
		if (rt.overflow)
			err_set(g->e, ST_ERROR, "amount overflow for tenant '%s' "
				"item '%s' in %s (quantities or prices too "
				"large)", l->acct->tenant, l->item->code, p);
		return ST_ERROR;
	}
	l->amount = rt.amount;
	l->flat = rt.flat;
	/* "qty@price" per slice, ';' between: always fits */
	tcap = rt.nslices * (2 * DEC_MAX_TEXT + 2) + 1;
	t = block_take(bp, tcap);
	rate_format_tiers(rt.slices, rt.nslices, t, tcap);
	block_trim(*bp, t, strlen(t) + 1);
	l->tiers = t;
	free(rt.slices);
	return 0;
}

/* Gives each of lines[] its package usages (in the blocks *bp), sorted
 * by package id. slot maps a line aggregate to its index in lines, or
 * (size_t)-1. Counted first, so each line's usages are one array of
 * their size, in the aggregate's order as before. */
static void attach_pu(const struct engine *g, const size_t *slot,
		      struct eng_line *lines, size_t n, struct eng_block **bp)
{
	size_t npu = agg_count(g->r->pus), i;

	for (i = 0; i < npu; i++) {
		const struct pu_key *k = agg_key(g->r->pus, i);

		if (slot[k->line] != (size_t)-1)
			lines[slot[k->line]].npu++;
	}
	for (i = 0; i < n; i++)
		if (lines[i].npu) {
			lines[i].pu = block_take(bp, lines[i].npu *
						 sizeof(*lines[i].pu));
			lines[i].npu = 0;
		}
	for (i = 0; i < npu; i++) {
		const struct pu_key *k = agg_key(g->r->pus, i);
		struct eng_line *l;

		if (slot[k->line] == (size_t)-1)
			continue;
		l = &lines[slot[k->line]];
		l->pu[l->npu++] = g->r->pu[i];
	}
	for (i = 0; i < n; i++)
		if (lines[i].npu > 1)
			sort_pu(g->cat, lines[i].pu, lines[i].npu);
}

/* Builds the lines of period p (not yet grouped into invoices), sorted
 * by (account, item, price group). On ST_ERROR, *out still holds the
 * *nout lines made before (the caller frees them). */
static int period_lines(struct engine *g, int p, struct eng_line **out,
			size_t *nout, struct eng_block **bp)
{
	size_t nl = agg_count(g->r->lines), i;
	size_t *slot = xmalloc((nl ? nl : 1) * sizeof(*slot));
	struct eng_line *lines;
	size_t n = 0;
	int rc = 0;

	/* counted first: the array is the period's to keep, at its size */
	for (i = 0; i < nl; i++)
		n += ((const struct line_key *)agg_key(g->r->lines, i))->period
			== p && g->r->la[i].usage > 0;
	lines = xmalloc((n ? n : 1) * sizeof(*lines));
	n = 0;
	for (i = 0; i < nl; i++) {
		const struct line_key *k = agg_key(g->r->lines, i);
		const struct line_agg *a = &g->r->la[i];

		slot[i] = (size_t)-1;
		if (k->period != p || a->usage <= 0)
			continue;
		rc = make_line(g, k, a, &lines[n], bp);
		if (rc)
			goto out;
		slot[i] = n++;
	}
	attach_pu(g, slot, lines, n, bp);
	if (n > 1)
		qsort(lines, n, sizeof(*lines), cmp_line);
out:
	free(slot);
	*out = lines;
	*nout = n;
	return rc;
}

/* Groups out->lines (sorted by account) into invoices of out, one per
 * account, and sums their totals unless rc already says an error.
 * Returns rc, or ST_ERROR with e filled when a total overflows. */
static int group_invoices(struct eng_period *out, int rc, struct err *e)
{
	struct eng_line *lines = out->lines;
	size_t i, j, k, n = 0, nlines = out->nlines_all;
	char p[8];

	ts_period_format(out->period, 1, p);
	for (i = 0; i < nlines; i = j) {
		for (j = i + 1; j < nlines && lines[j].acct == lines[i].acct;
		     j++)
			;
		n++;
	}
	out->inv = xmalloc((n ? n : 1) * sizeof(*out->inv));
	for (i = 0; i < nlines; i = j) {
		struct eng_invoice *inv;

		for (j = i + 1; j < nlines && lines[j].acct == lines[i].acct;
		     j++)
			;
		inv = &out->inv[out->ninv++];
		inv->acct = lines[i].acct;
		inv->nlines = j - i;
		inv->lines = &lines[i];
		inv->total = 0;
		if (rc)
			continue;
		for (k = i; k < j; k++)
			if (!rc && dec_add(inv->total, lines[k].amount,
					   &inv->total))
				rc = err_set(e, ST_ERROR, "amount overflow for "
					     "tenant '%s' item '%s' in %s "
					     "(quantities or prices too large)",
					     inv->acct->tenant,
					     lines[k].item->code, p);
	}
	return rc;
}

/* Groups the (package, period) usages by package, once per engine: a
 * period's package rows then read only their own package's usages
 * instead of scanning all of them per package (quadratic in packages:
 * ~3 s of a 500 000-tenant close). A stable counting sort keeps each
 * package's usages in the order of the aggregate, so every sum adds the
 * same values in the same order as a scan would. */
static void index_pkgpers(struct engine *g)
{
	size_t np = agg_count(g->r->pkgpers), n = g->cat->npackages, j;
	size_t *next;

	g->pp_first = xcalloc(n + 2, sizeof(*g->pp_first));
	g->pp_idx = xmalloc((np ? np : 1) * sizeof(*g->pp_idx));
	for (j = 0; j < np; j++)
		g->pp_first[((const struct pkgper_key *)
			     agg_key(g->r->pkgpers, j))->pkg + 2]++;
	for (j = 2; j < n + 2; j++)
		g->pp_first[j] += g->pp_first[j - 1];
	/* pp_first[pkg + 1] is now pkg's start; filling moves it to its end */
	next = g->pp_first + 1;
	for (j = 0; j < np; j++)
		g->pp_idx[next[((const struct pkgper_key *)
				agg_key(g->r->pkgpers, j))->pkg]++] = j;
}

/* Package units used by package pi before period p and in it. */
static int package_use(struct engine *g, size_t pi, int p,
		       struct eng_pkgrow *row, struct err *e)
{
	size_t x, j;

	if (!g->pp_first)
		index_pkgpers(g);
	/* rating from a checkpoint: what it used before (engine.h) */
	if (g->ck_used)
		row->used_before = g->ck_used[pi];
	for (x = g->pp_first[pi]; x < g->pp_first[pi + 1]; x++) {
		const struct pkgper_key *k;
		dec_t *sum;

		j = g->pp_idx[x];
		k = agg_key(g->r->pkgpers, j);
		sum = k->period < p ? &row->used_before : &row->used_in;
		if (k->pkg != pi || k->period > p)
			continue;
		if (dec_add(*sum, g->r->pkgper[j], sum)) {
			char per[8];

			ts_period_format(p, 1, per);
			return err_set(e, ST_ERROR, "usage overflow for tenant "
				       "'%s' package '%s' in %s (quantities "
				       "too large)", row->pkg->tenant,
				       row->pkg->id, per);
		}
	}
	return 0;
}

int engine_pkg_state(struct engine *g, size_t pi, int p,
		     struct eng_pkgstate *out, struct err *e)
{
	const struct pkg_state *st = &g->book.st[pi];
	struct eng_pkgrow row;

	memset(out, 0, sizeof(*out));
	memset(&row, 0, sizeof(row));
	row.pkg = &g->cat->packages[pi];
	out->pkg = pi;
	if (package_use(g, pi, p, &row, e))
		return ST_ERROR;
	if (dec_add(row.used_before, row.used_in, &out->used))
		return err_set(e, ST_ERROR, "usage overflow for tenant '%s'"
			       " package '%s' (quantities too large)",
			       row.pkg->tenant, row.pkg->id);
	/* an alert fires once: by the end of p when its record is before */
	if (!row.pkg->unlimited && st->alerted &&
	    st->alert_ts < ts_period_start(p + 1, g->cat->set.tz)) {
		out->alerted = 1;
		out->alert_ts = st->alert_ts;
		out->alert_left = st->alert_left;
	}
	return 0;
}

/* Adds the packages.csv row of package pi (valid in period p) to out,
 * and its alert when it fired in p. */
static int package_row(struct engine *g, size_t pi, int p,
		       struct eng_period *out, struct err *e)
{
	const struct catalog *cat = g->cat;
	const struct package *pk = &cat->packages[pi];
	const struct pkg_state *st = &g->book.st[pi];
	struct eng_pkgrow *row;
	int ap;

	out->pkgs = xrealloc(out->pkgs, (out->npkgs + 1) * sizeof(*out->pkgs));
	row = &out->pkgs[out->npkgs++];
	memset(row, 0, sizeof(*row));
	row->pkg = pk;
	if (package_use(g, pi, p, row, e))
		return ST_ERROR;
	if (!pk->unlimited) {
		row->remaining = pk->quota - row->used_before - row->used_in;
		/* SPEC 6 (v2): what is left at valid_to expires in the
		 * period of the last valid instant, and from then on nothing
		 * remains, so quota = used_before + used_in + remaining +
		 * expired on every row */
		if (ts_period_of(pk->valid_to - 1, cat->set.tz) == p) {
			row->has_expired = 1;
			row->expired = row->remaining;
			row->remaining = 0;
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
	return 0;
}

/* The files and rejects of period p (SPEC 8 v2: summary.txt counts
 * only what belongs to the period). */
static void period_counts(const struct engine *g, int p,
			  struct eng_period *out)
{
	size_t i;

	for (i = 0; i < agg_count(g->r->pfiles); i++)
		out->files += ((const struct pfile_key *)
			       agg_key(g->r->pfiles, i))->period == p;
	for (i = 0; i < g->r->nrej; i++)
		out->rejected += g->r->rej[i].placed &&
				 g->r->rej[i].period == p;
}

int engine_period(struct engine *g, int p, struct eng_period *out,
		  struct err *e)
{
	const struct catalog *cat = g->cat;
	size_t i, pci;
	int64_t start = ts_period_start(p, cat->set.tz);
	int64_t end = ts_period_start(p + 1, cat->set.tz);
	int rc;

	assert(!g->trimmed);
	memset(out, 0, sizeof(*out));
	out->period = p;
	g->e = e;
	rc = period_lines(g, p, &out->lines, &out->nlines_all, &out->blocks);
	rc = group_invoices(out, rc, e);
	for (i = 0; !rc && i < cat->npackages; i++) {
		const struct package *pk = &cat->packages[i];

		if (pk->valid_from < end && pk->valid_to > start &&
		    package_row(g, i, p, out, e))
			rc = ST_ERROR;
	}
	if (rc) {
		/* a failed period holds nothing (guard_gap's loop relies on
		 * it) */
		engine_period_release(out);
		return rc;
	}
	pci = agg_get(g->r->pcounts, &(int32_t){ p });
	if (pci != (size_t)-1) {
		out->records = g->r->pc[pci].records;
		out->unbillable = g->r->pc[pci].unbillable;
		out->duplicates = g->r->pc[pci].duplicates;
	}
	period_counts(g, p, out);
	return 0;
}

void engine_period_release(struct eng_period *rp)
{
	free(rp->lines);
	blocks_free(rp->blocks);
	free(rp->inv);
	free(rp->pkgs);
	free(rp->alerts);
	memset(rp, 0, sizeof(*rp));
}
