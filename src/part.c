/* part: one decoding thread's share of the rating (see engine_int.h).
 *
 * A part holds the aggregates of the batches one thread decodes: the open
 * line sums, the package usage per line and per (package, period), the
 * record counts per period, the rejects, the duplicate candidates set
 * aside whole and the records kept for the ordered walk. This file admits
 * each decoded record against the config (SPEC 3's config rejects),
 * converts it to price units and has it booked: now, by book.c (straight
 * into the aggregates, or through the SPEC 6 rules of pkg.c when its
 * tenant has packages), or later, kept for walk.c's ordered walk.
 * pool.c and dup.c call into it; it calls walk.c and book.c (walk.c
 * calls book.c too), and neither calls it back. */
#include "engine_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "mem.h"
#include "banned.h"

void eng_part_init(struct part *w, struct engine *g)
{
	const struct catalog *cat = g->cat;
	size_t nls = cat->naccounts * g->ngroups;

	memset(w, 0, sizeof(*w));
	if (nls > ENG_LS_DENSE) {
		nls = ENG_LS_DENSE;
		w->ls_bits = 18;
	}
	w->nls = nls;
	w->g = g;
	w->e = &w->err;
	w->strs = strtab_new();
	w->lines = agg_new(sizeof(struct line_key));
	w->pus = agg_new(sizeof(struct pu_key));
	w->pkgpers = agg_new(sizeof(struct pkgper_key));
	w->pcounts = agg_new(sizeof(int32_t));
	w->pfiles = agg_new(sizeof(struct pfile_key));
	/* written now rather than left to calloc: a zero page first read
	 * and then written faults twice, the second time with a TLB flush
	 * on every core */
	w->ls = xmalloc((nls ? nls : 1) * sizeof(*w->ls));
	memset(w->ls, 0, (nls ? nls : 1) * sizeof(*w->ls));
	w->ppc = xcalloc(cat->npackages ? cat->npackages : 1,
			 sizeof(*w->ppc));
	w->uses = xmalloc((g->max_tpkgs ? g->max_tpkgs : 1) * sizeof(*w->uses));
	w->run_fd = -1;
}

void eng_part_free(struct part *w)
{
	size_t i;
	int k;

	for (i = 0; i < w->nrej; i++) {
		free(w->rej[i].record_id);
		free(w->rej[i].tenant);
	}
	free(w->rej);
	for (i = 0; i < w->ncands; i++)
		for (k = 0; k < 6; k++)
			free(w->cands[i].s[k]);
	free(w->ranges);
	free(w->cands);
	strtab_free(w->strs);
	free(w->group_of);
	walk_release(w);
	free(w->bc.tenant);
	free(w->bc.item);
	free(w->bc.dims);
	free(w->bc.ok);
	free(w->bc.tref);
	agg_free(w->lines);
	free(w->la);
	agg_free(w->pus);
	free(w->pu);
	agg_free(w->pkgpers);
	free(w->pkgper);
	agg_free(w->pcounts);
	agg_free(w->pfiles);
	free(w->pc);
	free(w->ls);
	free(w->ppc);
	free(w->uses);
}

void eng_note_file(struct part *w, const char *path, int32_t p)
{
	struct pfile_key k;
	int added;

	/* records come in runs of one file and month */
	if (w->pf_path == path && w->pf_period == p)
		return;
	memset(&k, 0, sizeof(k));
	k.path = path;
	k.period = p;
	agg_put(w->pfiles, &k, &added);
	w->pf_path = path;
	w->pf_period = p;
}

void eng_add_reject(struct part *w, const char *path, uint64_t line,
		    struct span rid, struct span tenant, const char *reason,
		    const int64_t *ts)
{
	struct eng_reject *r;

	xgrow((void **)&w->rej, &w->rej_cap, w->nrej + 1, sizeof(*w->rej));
	r = &w->rej[w->nrej++];
	r->path = path;
	r->line = line;
	r->record_id = xstrndup(rid.p, rid.n);
	r->tenant = xstrndup(tenant.p, tenant.n);
	r->reason = reason;
	r->placed = ts != NULL;
	r->period = ts ? eng_period_of(w, *ts) : 0;
	if (ts)
		eng_note_file(w, path, r->period);
}

/* The price group of (item, dims), computed once per pair and kept in a
 * table indexed by (dims id, item): no hashing per record. */
static int32_t group_for(struct part *w, uint32_t item, uint32_t dims)
{
	const struct catalog *cat = w->g->cat;
	size_t ni = cat->nitems, need = ((size_t)dims + 1) * ni;
	int32_t *slot;

	if (need > w->group_cap) {
		size_t old = w->group_cap;

		xgrow((void **)&w->group_of, &w->group_cap, need,
		      sizeof(*w->group_of));
		memset(w->group_of + old, 0,
		       (w->group_cap - old) * sizeof(*w->group_of));
	}
	slot = &w->group_of[(size_t)dims * ni + item];
	if (*slot == 0) {
		const struct item *it = &cat->items[item];

		/* stored + 2: 0 is "not yet", 1 is "no group" */
		*slot = 2 + catalog_match_group(it, strtab_str(w->strs, dims),
						strtab_len(w->strs, dims));
	}
	return *slot - 2;
}

int eng_status_ok(struct span s)
{
	return s.n == 0 || span_eq(s, "ok");
}

/* The config checks of SPEC 3 that follow ingest's, in order. t and it
 * are the resolved tenant and item (-1 / NULL when unknown), dims the id
 * of the canonical dims text. Returns NULL and fills a, or the reason. */
const char *eng_admit(struct part *w, long t, const struct item *it,
		      struct tref *tc, struct span unit, uint32_t dims,
		      int64_t ts, struct adm *a)
{
	const struct catalog *cat = w->g->cat;
	const struct tenant_info *ti;
	uint32_t cur;
	size_t k;

	if (t < 0)
		return usage_reject_name(REJ_UNKNOWN_TENANT);
	if (!it)
		return usage_reject_name(REJ_UNKNOWN_ITEM);
	memcpy(&cur, it->currency, sizeof(cur));
	if (tc && tc->cur == cur) {
		a->acct = tc->acct;
		a->win = tc->win;
	} else {
		ti = &w->g->ti[t];
		a->acct = NULL;
		a->win = ti->win;
		for (k = 0; k < ti->nacct; k++)
			if (memcmp(cat->accounts[ti->acct0 + k].currency,
				   it->currency, 4) == 0)
				a->acct = &cat->accounts[ti->acct0 + k];
		if (tc) {
			tc->cur = cur;
			tc->acct = a->acct;
			tc->win = a->win;
		}
	}
	if (!a->acct)
		return usage_reject_name(REJ_NO_ACCOUNT);
	if (unit.n && !span_eq(unit, it->usage_unit))
		return usage_reject_name(REJ_UNIT_MISMATCH);
	a->group = group_for(w, (uint32_t)(it - cat->items), dims);
	if (a->group < 0)
		return usage_reject_name(REJ_NO_PRICE);
	a->period = eng_period_of(w, ts);
	/* the cached group has no version for this period (a price that
	 * begins later): the next group whose predicates hold and that has
	 * one (SPEC 3, v2); rare, so not cached */
	if (it->groups[a->group].first > a->period) {
		a->group = catalog_match_group_in(it, (size_t)a->group + 1,
						  strtab_str(w->strs, dims),
						  strtab_len(w->strs, dims),
						  a->period);
		if (a->group < 0)
			return usage_reject_name(REJ_NO_PRICE);
	}
	a->tenant = t;
	a->it = it;
	return NULL;
}

struct period_count *eng_period_count(struct part *w, int32_t p)
{
	int added;
	size_t i;

	if (w->have_p && w->last_p == p)
		return &w->pc[w->last_pi];
	i = agg_put(w->pcounts, &p, &added);
	if (added) {
		xgrow((void **)&w->pc, &w->pc_cap, i + 1, sizeof(*w->pc));
		memset(&w->pc[i], 0, sizeof(w->pc[i]));
	}
	w->last_p = p;
	w->last_pi = i;
	w->have_p = 1;
	return &w->pc[i];
}

/* Admits one record the config accepts: counts it in its period, and
 * rates it now or keeps it for the walk. */
int eng_accept(struct part *w, const struct adm *a,
	       const struct usage_rec *r)
{
	const struct catalog *cat = w->g->cat;
	const struct item *it = a->it;
	struct period_count *pc;
	const struct window *win;
	size_t tw;
	struct wrec x;

	/* rating from a checkpoint: what came before is in it */
	if (r->ts < w->g->from)
		return 0;
	memset(&x, 0, sizeof(x));
	x.period = a->period;
	pc = eng_period_count(w, x.period);
	pc->records++;
	w->live++;
	if (!a->ok) {
		pc->unbillable++;
		return 0;
	}
	if (it->unit_ratio == DEC_ONE && it->record_round >= 6)
		x.q = r->qty; /* q = quantity: nothing to divide or round */
	else if (dec_div(r->qty, it->unit_ratio, it->record_round,
			 it->record_round_mode, &x.q))
		/* the records before it are booked first: an overflow of
		 * theirs is the first error, as when booking went along */
		return eng_pend_flush(w) ? -1 :
		       eng_overflow(w, "quantity", x.period,
				    (uint32_t)(a->acct - cat->accounts),
				    (uint32_t)(it - cat->items));
	x.ts = r->ts;
	x.tenant = (uint32_t)a->tenant;
	x.acct = (uint32_t)(a->acct - cat->accounts);
	x.item = (uint32_t)(it - cat->items);
	x.group = (uint32_t)a->group;
	/* no limited package of the tenant: rated where it stands */
	tw = a->win;
	if (!w->g->opts.force_walk) {
		if (!tw)
			return eng_pend_consume(w, &x);
		win = &w->g->walkwin[(tw - 1) * cat->nitems + x.item];
		if (x.ts < win->from || x.ts >= win->to)
			return eng_pend_consume(w, &x);
	}
	if (walk_keep(w, &x, r->record_id)) {
		struct err keep = *w->e;

		/* an overflow of a record before it is the first error */
		if (!eng_pend_flush(w))
			*w->e = keep;
		return -1;
	}
	return 0;
}

static int on_strings(void *ctx, const struct span *strs, size_t n)
{
	struct part *w = ctx;
	struct bcache *c = &w->bc;
	size_t i;

	if (n > c->cap) {
		c->tenant = xrealloc(c->tenant, n * sizeof(*c->tenant));
		c->item = xrealloc(c->item, n * sizeof(*c->item));
		c->dims = xrealloc(c->dims, n * sizeof(*c->dims));
		c->ok = xrealloc(c->ok, n);
		c->tref = xrealloc(c->tref, n * sizeof(*c->tref));
		c->cap = n;
	}
	for (i = 0; i < n; i++) {
		c->tenant[i] = c->item[i] = -2;
		c->dims[i] = -1;
		c->ok[i] = -1;
	}
	if (n)
		memset(c->tref, 0, n * sizeof(*c->tref));
	c->strs = strs;
	c->n = n;
	return 0;
}

/* Keeps a duplicate candidate whole. */
static void keep_candidate(struct part *w, const struct usage_rec *r)
{
	const struct span f[6] = { r->record_id, r->tenant, r->item,
				   r->status, r->unit, r->dims };
	struct crec *c;
	int k;

	xgrow((void **)&w->cands, &w->cands_cap, w->ncands + 1,
	      sizeof(*w->cands));
	c = &w->cands[w->ncands++];
	memset(c, 0, sizeof(*c));
	c->path = w->cur_path;
	c->line = r->line;
	c->ts = r->ts;
	c->qty = r->qty;
	for (k = 0; k < 6; k++) {
		c->s[k] = xstrndup(f[k].p, f[k].n);
		c->n[k] = f[k].n;
	}
}

/* One ingested record: a candidate, a reject, or admitted. */
static int on_rec(void *ctx, const struct usage_rec *r, const uint32_t id[5])
{
	struct part *w = ctx;
	struct engine *g = w->g;
	struct bcache *c = &w->bc;
	const char *why;
	const struct item *it;
	struct adm a;
	uint64_t key;

	eng_note_file(w, w->cur_path, eng_period_of(w, r->ts));
	if (r->ts < w->bmin)
		w->bmin = r->ts;
	if (r->ts > w->bmax)
		w->bmax = r->ts;
	if (agg_count(g->candkeys)) {
		key = batch_key(r->tenant, r->record_id);
		if (agg_get(g->candkeys, &key) != (size_t)-1) {
			keep_candidate(w, r);
			return 0;
		}
	}
	if (c->tenant[id[0]] == -2)
		c->tenant[id[0]] = eng_find_tenant(g, r->tenant);
	if (c->item[id[1]] == -2) {
		it = catalog_item(g->cat, r->item.p, r->item.n);
		c->item[id[1]] = it ? (long)(it - g->cat->items) : -1;
	}
	if (c->dims[id[4]] == -1)
		c->dims[id[4]] = strtab_put(w->strs, r->dims.p, r->dims.n);
	if (c->ok[id[2]] == -1)
		c->ok[id[2]] = (signed char)eng_status_ok(r->status);
	it = c->item[id[1]] >= 0 ? &g->cat->items[c->item[id[1]]] : NULL;
	why = eng_admit(w, c->tenant[id[0]], it, &c->tref[id[0]], r->unit,
			(uint32_t)c->dims[id[4]], r->ts, &a);
	if (why) {
		eng_add_reject(w, w->cur_path, r->line, r->record_id, r->tenant,
			   why, &r->ts);
		return 0;
	}
	a.ok = c->ok[id[2]];
	return eng_accept(w, &a, r) ? -1 : 0;
}

/* Decodes and rates one batch of the file at path (a string the engine
 * keeps) into w. */
int eng_rate_batch(struct part *w, const char *path, int64_t id, int ranged,
		   const void *data, size_t len)
{
	int rc;

	w->cur_path = path;
	w->bmin = INT64_MAX;
	w->bmax = INT64_MIN;
	rc = batch_decode_ids(data, len, on_strings, on_rec, w);
	/* the ring never holds a record past its batch: what fails after
	 * it (the next batch, the walk) fails after its records are booked.
	 * A batch found corrupt books the records before the fault first;
	 * one that failed with an error has met the first in order. */
	if (!w->e->code && eng_pend_flush(w))
		rc = -1;
	if (rc == 0 && !ranged && w->bmin <= w->bmax) {
		xgrow((void **)&w->ranges, &w->ranges_cap, w->nranges + 1,
		      sizeof(*w->ranges));
		w->ranges[w->nranges].id = id;
		w->ranges[w->nranges].min_ts = w->bmin;
		w->ranges[w->nranges++].max_ts = w->bmax;
	}
	if (rc == -1 && !w->failed) {
		w->failed = 1;
		if (!w->e->code)
			eng_fail(w, "corrupt record batch of '%s' in the state",
			     path);
	}
	return rc ? -1 : 0;
}

/* Passes a part's error on to the engine's caller (the first one wins). */
void eng_part_error(struct engine *g, const struct part *w)
{
	if (g->e && !g->e->code && w->err.code)
		err_set(g->e, w->err.code, "%s", w->err.msg);
}
