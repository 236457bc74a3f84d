/* book: booking one rated record into a part's aggregates (see
 * engine_int.h).
 *
 * A record admitted and converted to price units (struct wrec) is booked
 * here: its usage into the open line slot of its (account, item, price
 * group), moved to the line sums when the slot changes hands, and, when
 * its tenant has packages, through the SPEC 6 rules of pkg.c into the
 * package usage per line and per (package, period). Records rated where
 * they stand wait in a small ring first, their slot prefetched. Also the
 * overflow messages of those sums and the month of an instant, cached per
 * part. part.c (admission) and walk.c (the ordered walk) call into it,
 * pool.c merges parts with its puts; it calls none of them. */
#include "engine_int.h"

#include <stdint.h>
#include <string.h>

#include "mem.h"
#include "ts.h"
#include "banned.h"

int eng_overflow(struct part *w, const char *what, int32_t period,
		 uint32_t acct, uint32_t item)
{
	const struct catalog *cat = w->g->cat;
	char p[8];

	ts_period_format(period, 1, p);
	eng_fail(w, "%s overflow for tenant '%s' item '%s' in %s (quantities too "
	     "large)", what, cat->accounts[acct].tenant, cat->items[item].code,
	     p);
	return -1;
}

int eng_line_overflow(struct part *w, size_t li)
{
	const struct line_key *k = agg_key(w->lines, li);

	return eng_overflow(w, "usage", k->period, k->acct, k->item);
}

int eng_pkg_overflow(struct part *w, size_t pkg, int32_t period)
{
	const struct package *pk = &w->g->cat->packages[pkg];
	char p[8];

	ts_period_format(period, 1, p);
	eng_fail(w, "usage overflow for tenant '%s' package '%s' in %s "
	     "(quantities too large)", pk->tenant, pk->id, p);
	return -1;
}

/* The index of line k, adding it when new. */
size_t eng_line_put(struct part *w, const struct line_key *k)
{
	int added;
	size_t i = agg_put(w->lines, k, &added);

	if (added) {
		xgrow((void **)&w->la, &w->la_cap, i + 1, sizeof(*w->la));
		memset(&w->la[i], 0, sizeof(w->la[i]));
	}
	return i;
}

/* Adds the usage kept in slot c to its line. */
static int ls_close(struct part *w, struct lslot *c)
{
	if (eng_add(w, &w->la[c->li - 1].usage, c->u))
		return eng_line_overflow(w, c->li - 1);
	c->u = 0;
	return 0;
}

/* The line slot id of record r, and the slot it uses. */
static inline uint64_t slot_id(const struct part *w, const struct wrec *r)
{
	const struct engine *g = w->g;

	return (uint64_t)r->acct * g->ngroups + g->gofs[r->item] + r->group;
}

static inline struct lslot *slot_of(const struct part *w, uint64_t id)
{
	return &w->ls[w->ls_bits ? (id * 0x9e3779b97f4a7c15ULL) >>
		      (64 - w->ls_bits) : id];
}

/* The open line of record r, or NULL on overflow. */
static struct lslot *line_of(struct part *w, const struct wrec *r)
{
	uint64_t id = slot_id(w, r);
	struct lslot *c = slot_of(w, id);
	struct line_key k;

	if (c->li && c->period == r->period && c->id == id)
		return c;
	if (c->li && ls_close(w, c))
		return NULL;
	memset(&k, 0, sizeof(k));
	k.period = r->period;
	k.acct = r->acct;
	k.item = r->item;
	k.group = r->group;
	c->li = (uint32_t)eng_line_put(w, &k) + 1;
	c->period = r->period;
	c->id = id;
	return c;
}

/* Books the records waiting in w's ring, oldest first. */
int eng_pend_flush(struct part *w)
{
	while (w->npend) {
		const struct wrec *x = &w->pend[w->pend_at];

		w->pend_at = (w->pend_at + 1) % ENG_PEND;
		w->npend--;
		if (eng_consume(w, x))
			return -1;
	}
	return 0;
}

/* Books record x after the ENG_PEND before it: its line slot and
 * account are fetched from memory while those are booked. */
int eng_pend_consume(struct part *w, const struct wrec *x)
{
	const struct catalog *cat = w->g->cat;
	size_t at;

	if (w->npend == ENG_PEND) {
		struct wrec old = w->pend[w->pend_at];

		w->pend[w->pend_at] = *x;
		w->pend_at = (w->pend_at + 1) % ENG_PEND;
		__builtin_prefetch(slot_of(w, slot_id(w, x)), 1);
		__builtin_prefetch(&cat->accounts[x->acct].postpaid, 0);
		return eng_consume(w, &old);
	}
	at = (w->pend_at + w->npend++) % ENG_PEND;
	w->pend[at] = *x;
	__builtin_prefetch(slot_of(w, slot_id(w, x)), 1);
	__builtin_prefetch(&cat->accounts[x->acct].postpaid, 0);
	return 0;
}

/* Closes every open line: the line sums are then complete. */
int eng_ls_flush(struct part *w)
{
	size_t i, n = w->nls;

	if (eng_pend_flush(w))
		return -1;
	for (i = 0; i < n; i++)
		if (w->ls[i].u && ls_close(w, &w->ls[i]))
			return -1;
	return 0;
}

/* The index of (line, pkg) in pus, adding it when new. */
size_t eng_pu_put(struct part *w, size_t li, size_t pkg)
{
	struct pu_key k = { (uint32_t)li, (uint32_t)pkg };
	int added;
	size_t i = agg_put(w->pus, &k, &added);

	if (added) {
		xgrow((void **)&w->pu, &w->pu_cap, i + 1, sizeof(*w->pu));
		memset(&w->pu[i], 0, sizeof(w->pu[i]));
		w->pu[i].pkg = pkg;
	}
	return i;
}

/* The index of (pkg, p) in pkgpers, adding it when new. */
size_t eng_pkgper_put(struct part *w, size_t pkg, int32_t p)
{
	struct ppcache *c = &w->ppc[pkg];
	struct pkgper_key k = { (uint32_t)pkg, p };
	int added;
	size_t i;

	if (c->i && c->period == p)
		return c->i - 1;
	i = agg_put(w->pkgpers, &k, &added);
	if (added) {
		xgrow((void **)&w->pkgper, &w->pkgper_cap, i + 1, sizeof(*w->pkgper));
		w->pkgper[i] = 0;
	}
	c->period = p;
	c->i = i + 1;
	return i;
}

/* Records that package pkg covered qty price units with units package
 * units of line li in period p. */
static int cover(struct part *w, size_t li, size_t pkg, int32_t p,
		 dec_t qty, dec_t units)
{
	struct line_agg *la = &w->la[li];
	size_t i;

	/* a line is mostly covered by one package: remember the last */
	if (la->pu1 && w->pu[la->pu1 - 1].pkg == pkg) {
		i = la->pu1 - 1;
	} else {
		i = eng_pu_put(w, li, pkg);
		la->pu1 = i + 1;
	}
	if (eng_add(w, &w->pu[i].qty, qty) ||
	    eng_add(w, &w->pu[i].units, units))
		return eng_line_overflow(w, li);
	i = eng_pkgper_put(w, pkg, p); /* may move w->pkgper */
	if (eng_add(w, &w->pkgper[i], units))
		return eng_pkg_overflow(w, pkg, p);
	return 0;
}

/* Package consumption of one ok record (SPEC section 6, pkg.c), booked
 * into w's aggregates. Package state (quota left, alerts) is the
 * engine's: only the walk, which runs on one thread, reaches a limited
 * package. */
int eng_consume(struct part *w, const struct wrec *r)
{
	struct engine *g = w->g;
	const struct catalog *cat = g->cat;
	const struct tenant_info *tp = &g->ti[r->tenant];
	struct lslot *ls = line_of(w, r);
	struct pkg_result res = { 0, 0, r->q, 0 };
	struct line_agg *la;
	size_t li, k;
	int postpaid = cat->accounts[r->acct].postpaid;

	if (!ls)
		return -1;
	li = ls->li - 1;
	if (tp->npkgs) {
		struct pkg_rec pr = { r->ts, r->q, r->item };
		int rc = pkg_consume(&g->book, tp->pkgs, tp->npkgs, &pr,
				     w->uses, &res, w->e);

		/* what was consumed is booked before an overflow of the
		 * next package is reported, as when booking went along */
		for (k = 0; k < res.nuse; k++)
			if (cover(w, li, w->uses[k].pkg, r->period,
				  w->uses[k].qty, w->uses[k].units))
				return -1;
		if (rc)
			return eng_overflow(w, "package usage", r->period,
					    r->acct, r->item);
	}
	if (eng_add(w, &ls->u, r->q))
		return eng_line_overflow(w, li);
	if (!res.covered && !res.forgiven && (res.rest == 0 || postpaid))
		return 0; /* the usual: no package, billed */
	la = &w->la[li];
	if (eng_add(w, &la->covered, res.covered) ||
	    eng_add(w, &la->forgiven, res.forgiven) ||
	    (res.rest > 0 && !postpaid &&
	     eng_add(w, &la->uncovered, res.rest)))
		return eng_line_overflow(w, li);
	return 0;
}

/* The period of instant ts. Records come in runs of one month: the
 * month is converted only when ts leaves the last one. */
int32_t eng_period_of(struct part *w, int64_t ts)
{
	const struct catalog *cat = w->g->cat;

	if (!w->have_span || ts < w->span_from || ts >= w->span_to) {
		w->span_p = ts_period_of(ts, cat->set.tz);
		w->span_from = ts_period_start(w->span_p, cat->set.tz);
		w->span_to = ts_period_start(w->span_p + 1, cat->set.tz);
		w->have_span = 1;
	}
	return w->span_p;
}
