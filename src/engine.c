/* engine: loading and rating from the state and the config.
 *
 * Loading reads every batch twice, never holding all records:
 *  1. the sorted record keys of all batches are merged as streams; a key
 *     seen twice makes a duplicate candidate (usually none; dup.c);
 *  2. the batches are decoded (pool.c), each distinct string of a batch
 *     resolved once; a candidate is set aside whole, any other record is
 *     checked against the config and rated at once, or kept in a compact
 *     form when it may meet a limited package (the ordered walk). Batches
 *     are independent, so several threads decode them, each into its own
 *     part (aggregates, walk records, rejects); the parts are merged.
 * Candidates are then resolved exactly (dup.c), and the walk runs per
 * tenant in (ts, record_id) order (walk.c). This file holds the loading,
 * the admission of one record and the part's aggregates. */
#include "engine_int.h"

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "fault.h"
#include "mem.h"
#include "ts.h"
#include "banned.h"

void eng_part_init(struct part *w, struct engine *g)
{
	const struct catalog *cat = g->cat;
	size_t nls = cat->naccounts * g->ngroups;

	memset(w, 0, sizeof(*w));
	w->g = g;
	w->e = &w->err;
	w->strs = strtab_new();
	w->lines = agg_new(sizeof(struct line_key));
	w->pus = agg_new(sizeof(struct pu_key));
	w->pkgpers = agg_new(sizeof(struct pkgper_key));
	w->pcounts = agg_new(sizeof(int32_t));
	/* written now rather than left to calloc: a zero page first read
	 * and then written faults twice, the second time with a TLB flush
	 * on every core */
	w->ls = xmalloc((nls ? nls : 1) * sizeof(*w->ls));
	memset(w->ls, 0, (nls ? nls : 1) * sizeof(*w->ls));
	w->ppc = xcalloc(cat->npackages ? cat->npackages : 1,
			 sizeof(*w->ppc));
	w->uses = xmalloc((g->max_tpkgs ? g->max_tpkgs : 1) * sizeof(*w->uses));
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
	free(w->cands);
	strtab_free(w->strs);
	free(w->group_of);
	free(w->rids);
	free(w->walk);
	free(w->bc.tenant);
	free(w->bc.item);
	free(w->bc.dims);
	free(w->bc.ok);
	agg_free(w->lines);
	free(w->la);
	agg_free(w->pus);
	free(w->pu);
	agg_free(w->pkgpers);
	free(w->pkgper);
	agg_free(w->pcounts);
	free(w->pc);
	free(w->ls);
	free(w->ppc);
	free(w->uses);
}

void eng_add_reject(struct part *w, const char *path, uint64_t line,
		    struct span rid, struct span tenant, const char *reason)
{
	struct eng_reject *r;

	xgrow((void **)&w->rej, &w->rej_cap, w->nrej + 1, sizeof(*w->rej));
	r = &w->rej[w->nrej++];
	r->path = path;
	r->line = line;
	r->record_id = xstrndup(rid.p, rid.n);
	r->tenant = xstrndup(tenant.p, tenant.n);
	r->reason = reason;
}

int eng_overflow(struct part *w, const char *what, int32_t period,
		 uint32_t acct, uint32_t item)
{
	const struct catalog *cat = w->g->cat;
	char p[8];

	ts_period_format(period, 1, p);
	fail(w, "%s overflow for tenant '%s' item '%s' in %s (quantities too "
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
	fail(w, "usage overflow for tenant '%s' package '%s' in %s "
	     "(quantities too large)", pk->tenant, pk->id, p);
	return -1;
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
		      struct span unit, uint32_t dims, int64_t ts,
		      struct adm *a)
{
	const struct catalog *cat = w->g->cat;
	const struct tenant_info *ti;
	size_t k;

	if (t < 0)
		return usage_reject_name(REJ_UNKNOWN_TENANT);
	if (!it)
		return usage_reject_name(REJ_UNKNOWN_ITEM);
	ti = &w->g->ti[t];
	a->acct = NULL;
	for (k = 0; k < ti->nacct; k++)
		if (memcmp(cat->accounts[ti->acct0 + k].currency, it->currency,
			   4) == 0)
			a->acct = &cat->accounts[ti->acct0 + k];
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

/* The open line of record r, or NULL on overflow. */
static struct lslot *line_of(struct part *w, const struct wrec *r)
{
	const struct engine *g = w->g;
	struct lslot *c = &w->ls[(size_t)r->acct * g->ngroups +
				 g->gofs[r->item] + r->group];
	struct line_key k;

	if (c->li && c->period == r->period)
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
	return c;
}

/* Closes every open line: the line sums are then complete. */
int eng_ls_flush(struct part *w)
{
	size_t i, n = w->g->cat->naccounts * w->g->ngroups;

	for (i = 0; i < n; i++)
		if (w->ls[i].u && ls_close(w, &w->ls[i]))
			return -1;
	return 0;
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

/* Admits one record the config accepts: counts it in its period, and
 * rates it now or keeps it for the walk. */
int eng_accept(struct part *w, const struct adm *a,
	       const struct usage_rec *r)
{
	const struct catalog *cat = w->g->cat;
	const struct item *it = a->it;
	struct period_count *pc;
	const struct window *win;
	struct wrec x;

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
		return eng_overflow(w, "quantity", x.period,
				    (uint32_t)(a->acct - cat->accounts),
				    (uint32_t)(it - cat->items));
	x.ts = r->ts;
	x.tenant = (uint32_t)a->tenant;
	x.acct = (uint32_t)(a->acct - cat->accounts);
	x.item = (uint32_t)(it - cat->items);
	x.group = (uint32_t)a->group;
	win = &w->g->walkwin[(size_t)a->tenant * cat->nitems + x.item];
	if (x.ts < win->from || x.ts >= win->to)
		return eng_consume(w, &x);
	/* ingest keeps record_id to 128 bytes; the limits keep the packing
	 * exact */
	if (r->record_id.n > UINT8_MAX || x.item > UINT16_MAX ||
	    x.group > UINT16_MAX ||
	    w->rids_n + 1 + r->record_id.n > UINT32_MAX)
		return fail(w, "%s", "too many records for the ordered walk");
	xgrow((void **)&w->rids, &w->rids_cap, w->rids_n + 1 + r->record_id.n,
	      1);
	w->rids[w->rids_n] = (char)(unsigned char)r->record_id.n;
	memcpy(w->rids + w->rids_n + 1, r->record_id.p, r->record_id.n);
	xgrow((void **)&w->walk, &w->walk_cap, w->nwalk + 1, sizeof(*w->walk));
	w->walk[w->nwalk].ts = x.ts;
	w->walk[w->nwalk].q = x.q;
	w->walk[w->nwalk].rid_off = (uint32_t)w->rids_n;
	w->walk[w->nwalk].tenant = x.tenant;
	w->walk[w->nwalk].acct = x.acct;
	w->walk[w->nwalk].item = (uint16_t)x.item;
	w->walk[w->nwalk].group = (uint16_t)x.group;
	w->nwalk++;
	w->rids_n += 1 + r->record_id.n;
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
		c->cap = n;
	}
	for (i = 0; i < n; i++) {
		c->tenant[i] = c->item[i] = -2;
		c->dims[i] = -1;
		c->ok[i] = -1;
	}
	c->strs = strs;
	c->n = n;
	return 0;
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

	if (agg_count(g->candkeys)) {
		key = batch_key(r->tenant, r->record_id);
		if (agg_get(g->candkeys, &key) != (size_t)-1) {
			dup_keep_candidate(w, r);
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
	why = eng_admit(w, c->tenant[id[0]], it, r->unit,
			(uint32_t)c->dims[id[4]], r->ts, &a);
	if (why) {
		eng_add_reject(w, w->cur_path, r->line, r->record_id, r->tenant,
			   why);
		return 0;
	}
	a.ok = c->ok[id[2]];
	return eng_accept(w, &a, r) ? -1 : 0;
}

/* Decodes and rates one batch of the file at path (a string the engine
 * keeps) into w. */
int eng_rate_batch(struct part *w, const char *path, const void *data,
		   size_t len)
{
	int rc;

	w->cur_path = path;
	rc = batch_decode_ids(data, len, on_strings, on_rec, w);
	if (rc == -1 && !w->failed) {
		w->failed = 1;
		if (!w->e->code)
			fail(w, "corrupt record batch of '%s' in the state",
			     path);
	}
	return rc ? -1 : 0;
}

static int on_stored_reject(void *ctx, const char *path, uint64_t line,
			    const char *rid, const char *tenant,
			    const char *reason)
{
	struct engine *g = ctx;
	uint32_t id = strtab_put(g->paths, path, strlen(path));
	struct span r = { rid, strlen(rid) }, t = { tenant, strlen(tenant) };
	const char *name = reason;
	int k;

	/* keep a pointer to a static reason name */
	for (k = 0; k < REJ_COUNT; k++)
		if (strcmp(reason, usage_reject_name(k)) == 0)
			name = usage_reject_name(k);
	if (name == reason)
		return fail(g, "unknown reject reason '%s' in the state",
			    reason);
	eng_add_reject(g->r, strtab_str(g->paths, id), line, r, t, name);
	return 0;
}

static int on_file(void *ctx, const struct store_file *f)
{
	struct engine *g = ctx;

	if (f->state == FILE_OK)
		g->files_ok++;
	else if (f->state == FILE_FAILED)
		g->files_failed++;
	return 0;
}

/* Widens tenant t's walk windows by limited package p (index pi). */
static void widen(struct engine *g, size_t t, const struct package *p,
		  size_t pi)
{
	size_t ni = g->cat->nitems, i;

	for (i = 0; i < ni; i++) {
		struct window *w = &g->walkwin[t * ni + i];

		if (!g->book.covers[pi * ni + i] ||
		    p->valid_from >= p->valid_to)
			continue;
		if (w->from >= w->to) {
			w->from = p->valid_from;
			w->to = p->valid_to;
			continue;
		}
		if (p->valid_from < w->from)
			w->from = p->valid_from;
		if (p->valid_to > w->to)
			w->to = p->valid_to;
	}
}

/* Tenants (the ids of accounts) and their accounts; the line slots'
 * price group offsets. */
static void setup_accounts(struct engine *g)
{
	const struct catalog *cat = g->cat;
	size_t i, n;

	/* ids in the order of accounts, which are sorted by tenant */
	g->tenant_ids = strtab_new();
	for (i = 0; i < cat->naccounts; i++)
		strtab_put(g->tenant_ids, cat->accounts[i].tenant,
			   strlen(cat->accounts[i].tenant));
	n = g->ntenants = strtab_count(g->tenant_ids);
	g->ti = xcalloc(n ? n : 1, sizeof(*g->ti));
	/* accounts are sorted by (tenant, currency) */
	for (i = 0; i < cat->naccounts; i++) {
		struct span t = { cat->accounts[i].tenant,
				  strlen(cat->accounts[i].tenant) };
		struct tenant_info *ti = &g->ti[eng_find_tenant(g, t)];

		if (ti->nacct++ == 0)
			ti->acct0 = i;
	}
	g->gofs = xmalloc((cat->nitems + 1) * sizeof(*g->gofs));
	for (i = 0; i < cat->nitems; i++) {
		g->gofs[i] = g->ngroups;
		g->ngroups += cat->items[i].ngroups;
	}
}

/* The package book, each tenant's packages in consumption order, and
 * the walk windows their limited packages open (all of them when the
 * walk is forced). A package of no known tenant is never consumed. */
static void setup_packages(struct engine *g)
{
	const struct catalog *cat = g->cat;
	size_t i, n = g->ntenants;

	g->walkwin = xcalloc(n * cat->nitems + 1, sizeof(*g->walkwin));
	pkg_book_init(&g->book, cat->packages, cat->npackages, cat->items,
		      cat->nitems, cat->set.alert_pct);
	for (i = 0; i < cat->npackages; i++) {
		struct span t = { cat->packages[i].tenant,
				  strlen(cat->packages[i].tenant) };
		long k = eng_find_tenant(g, t);
		struct tenant_info *ti;

		if (k < 0)
			continue;
		ti = &g->ti[k];
		ti->pkgs = xrealloc(ti->pkgs, (ti->npkgs + 1) *
				    sizeof(*ti->pkgs));
		ti->pkgs[ti->npkgs++] = i;
		if (!cat->packages[i].unlimited)
			widen(g, (size_t)k, &cat->packages[i], i);
	}
	for (i = 0; i < n; i++) {
		pkg_order(cat->packages, g->ti[i].pkgs, g->ti[i].npkgs);
		if (g->ti[i].npkgs > g->max_tpkgs)
			g->max_tpkgs = g->ti[i].npkgs;
	}
	if (g->opts.force_walk)
		for (i = 0; i < n * cat->nitems; i++) {
			g->walkwin[i].from = INT64_MIN;
			g->walkwin[i].to = INT64_MAX;
		}
}

/* Passes a part's error on to the engine's caller (the first one wins). */
void eng_part_error(struct engine *g, const struct part *w)
{
	if (g->e && !g->e->code && w->err.code)
		err_set(g->e, w->err.code, "%s", w->err.msg);
}

/* Frees every part but the result. */
static void free_parts(struct engine *g)
{
	size_t i;

	for (i = 1; i < g->nparts; i++) {
		eng_part_free(g->parts[i]);
		free(g->parts[i]);
	}
	g->nparts = 0;
}

struct engine *engine_load(struct store *s, const struct catalog *cat,
			   const struct engine_opts *opts, struct err *e)
{
	struct engine *g = xcalloc(1, sizeof(*g));

	g->cat = cat;
	g->e = e;
	g->opts = *opts;
	if (g->opts.threads < 1)
		g->opts.threads = 1;
	if (g->opts.threads > ENGINE_MAX_THREADS)
		g->opts.threads = ENGINE_MAX_THREADS;
#ifdef M_MMAP_THRESHOLD
	/* Walk records and line tables grow by doubling while batches of a
	 * few MiB come and go. glibc raises its mmap threshold to the size of
	 * the largest block freed, after which the growing arrays live in the
	 * heap and realloc copies them (old and new both resident): at 10 M
	 * records that was 40 MB of peak. Fixed at 1 MiB, large blocks stay
	 * mapped and grow in place. */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
	g->paths = strtab_new();
	g->candkeys = agg_new(sizeof(uint64_t));
	setup_accounts(g);
	setup_packages(g);
	g->r = xmalloc(sizeof(*g->r));
	eng_part_init(g->r, g);
	fault_phase("engine setup");
	if (store_files(s, on_file, g, e) ||
	    store_rejects(s, on_stored_reject, g, e))
		goto fail;
	fault_phase("stored rejects");
	if (dup_find_candidates(g, s))
		goto fail;
	fault_phase("duplicate keys");
	if (pool_rate_batches(g, s))
		goto fail;
	fault_phase("decode and rate");
	if (dup_resolve_candidates(g) || walk_run(g) || eng_ls_flush(g->r))
		goto fail;
	fault_phase("ordered walk");
	/* only the merged aggregates are needed from here on */
	free_parts(g);
	free(g->r->rids);
	g->r->rids = NULL;
	free(g->r->walk);
	g->r->walk = NULL;
	g->r->nwalk = g->r->nsorted = 0;
	return g;
fail:
	if (g->r)
		eng_part_error(g, g->r);
	if (e && !e->code)
		err_set(e, ST_ERROR, "cannot rate");
	engine_free(g);
	return NULL;
}

void engine_free(struct engine *g)
{
	size_t i;

	if (!g)
		return;
	free_parts(g);
	if (g->r) {
		eng_part_free(g->r);
		free(g->r);
	}
	for (i = 0; i < g->ntenants; i++)
		free(g->ti[i].pkgs);
	free(g->ti);
	free(g->walkwin);
	free(g->gofs);
	pkg_book_release(&g->book);
	strtab_free(g->tenant_ids);
	strtab_free(g->paths);
	agg_free(g->candkeys);
	free(g);
}

const struct eng_reject *engine_rejects(const struct engine *g, size_t *n)
{
	*n = g->r->nrej;
	return g->r->rej;
}

void engine_counts(const struct engine *g, struct eng_counts *c)
{
	c->files_ok = g->files_ok;
	c->files_failed = g->files_failed;
	c->records = g->r->live;
	c->duplicates = g->duplicates;
	c->rejected = g->r->nrej;
}
