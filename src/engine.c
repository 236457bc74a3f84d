/* engine: rating from the state and the config.
 *
 * Loading reads every batch twice, never holding all records:
 *  1. the sorted record keys of all batches are merged as streams; a key
 *     seen twice makes a duplicate candidate (usually none);
 *  2. the batches are decoded, each distinct string of a batch resolved
 *     once; a candidate is set aside whole, any other record is checked
 *     against the config and rated at once, or kept in a compact form
 *     when it may meet a limited package (the ordered walk). Batches are
 *     independent, so several threads decode them, each into its own
 *     part (aggregates, walk records, rejects); the parts are merged.
 * Candidates are then resolved exactly, and the walk runs per tenant in
 * (ts, record_id) order. */
#include "engine.h"

#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "batch.h"
#include "fault.h"
#include "mem.h"
#include "ts.h"
#include "usage.h"
#include "banned.h"

/* A record admitted for rating, in the form consumption needs. */
struct wrec {
	int64_t ts;
	dec_t q;            /* in price units (rounded per item) */
	uint32_t tenant;    /* id in g->tenant_ids */
	uint32_t acct;      /* index into cat->accounts */
	uint32_t item;      /* index into cat->items */
	uint32_t group;
	int32_t period;
};

/* A record kept for the walk: 32 bytes, as there may be millions. Its
 * period is the month of ts again; its record_id is in the part's rids
 * at rid_off, after one byte of length (at most 128). */
struct wpack {
	int64_t ts;
	dec_t q;
	uint32_t rid_off;
	uint32_t tenant;
	uint32_t acct;
	uint16_t item;
	uint16_t group;
};

/* A duplicate candidate, copied whole until all candidates are known. */
struct crec {
	const char *path;   /* in g->paths */
	uint64_t line;
	char *s[6];         /* record_id, tenant, item, status, unit, dims */
	size_t n[6];
	int64_t ts;
	dec_t qty;
	int dead;
};

enum { C_RID, C_TENANT, C_ITEM, C_STATUS, C_UNIT, C_DIMS };

/* What the config says of one record. */
struct adm {
	long tenant;
	const struct item *it;
	const struct account *acct;
	int32_t group;
	int ok;             /* status ok (or empty) */
};

struct line_key {
	int32_t period;
	uint32_t acct, item, group;
};

struct line_agg {
	dec_t u, c, f, n;
	size_t pu1;         /* the last package usage of the line + 1 */
};

struct pu_key {
	uint32_t line, pkg;
};

struct pp_key {
	uint32_t pkg;
	int32_t period;
};

struct pkg_state {
	dec_t left;
	int alerted;
	int64_t alert_ts;
	dec_t alert_left;
	int32_t alert_period;
};

struct period_count {
	uint64_t records, unbillable;
};

/* Per tenant: its packages in consumption order, and its accounts. */
struct tenant_info {
	size_t *pkgs;
	size_t npkgs;
	size_t acct0, nacct; /* its accounts: cat->accounts[acct0..+nacct) */
};

/* The instants [from, to) in which a record of one (tenant, item) may
 * meet a limited package of the tenant: only such records need the
 * ordered walk. Empty (from >= to) for most. */
struct window {
	int64_t from, to;
};

/* Resolutions of one batch's string table, made on first use. */
struct bcache {
	const struct span *strs;
	size_t n, cap;
	long *tenant;       /* -2 unknown yet, -1 none, else tenant index */
	long *item;         /* -2, -1, else item index */
	long *dims;         /* -1 unknown yet, else id in w->strs */
	signed char *ok;    /* -1 unknown yet, 0, 1 */
};

/* The open line of one (account, item, price group): records come in
 * runs of one month, so each adds its usage here, in one small slot,
 * and the sum moves to the line (found by a hash look-up) only when the
 * month changes or rating ends (ls_flush). 16 bytes: the slot is the one
 * cache line a record without packages touches. */
struct lslot {
	int32_t period;
	uint32_t li;        /* line index + 1, 0 for none yet */
	dec_t u;            /* usage not yet added to the line */
};

/* The last (period, index) of one package in pps. */
struct ppcache {
	int32_t period;
	size_t i;           /* index + 1, 0 for none yet */
};

/* What one decoding thread gathers from its batches. Parts only read the
 * engine; at the end they are merged into the first one, and the rest of
 * rating (candidates, the walk, the periods) works on that one. */
struct part {
	struct engine *g;
	struct err *e;             /* &err: a part's own error */
	struct err err;
	struct bcache bc;
	struct strtab *strs;       /* dims texts */
	int32_t *group_of;         /* [dims id * nitems + item]: group + 2 */
	size_t group_cap;
	struct crec *cands;
	size_t ncands, cands_cap;
	char *rids;                /* record ids of walk records */
	size_t rids_n, rids_cap;
	struct wpack *walk;
	size_t nwalk, walk_cap;
	size_t nsorted;            /* walk[0..nsorted) is sorted */
	struct eng_reject *rej;
	size_t nrej, rej_cap;
	uint64_t live;
	struct agg *lines;         /* line_key -> line_agg */
	struct line_agg *la;
	size_t la_cap;
	struct agg *pus;           /* pu_key -> pu */
	struct eng_pusage *pu;
	size_t pu_cap;
	struct agg *pps;           /* pp_key -> units used */
	dec_t *pp;
	size_t pp_cap;
	struct agg *pcounts;       /* period -> period_count */
	struct period_count *pc;
	size_t pc_cap;
	struct lslot *ls;          /* [acct * g->ngroups + g->gofs[item] + group] */
	struct ppcache *ppc;       /* [pkg] */
	const char *cur_path;
	int failed;                /* an error inside a callback */
	int32_t last_p;            /* the last period counted */
	size_t last_pi;
	int have_p;
	/* the month of the last record: [span_from, span_to) is span_p */
	int64_t span_from, span_to;
	int span_p, have_span;
};

struct engine {
	const struct catalog *cat;
	struct err *e;
	unsigned char *covers;     /* [pkg * nitems + item]: package covers */
	struct strtab *tenant_ids; /* tenant ids of accounts, sorted */
	size_t ntenants;
	struct tenant_info *ti;
	struct window *walkwin;    /* [tenant * nitems + item] */
	size_t *gofs;              /* [item]: its first group in a line slot row */
	size_t ngroups;            /* price groups of all items */
	struct strtab *paths;      /* file paths */
	struct agg *candkeys;      /* keys seen more than once */
	struct pkg_state *ps;      /* per package (the walk only) */
	struct part *r;            /* the merged result: parts[0] */
	struct part *parts[ENGINE_MAX_THREADS]; /* every part: their walk
						 * records stay */
	size_t nparts;
	struct engine_opts opts;   /* threads clamped to 1..ENGINE_MAX_THREADS */
	struct pool *pool;         /* while decoding on several threads */
	uint64_t duplicates, files_ok, files_failed;
};

#define fail(g, ...) err_set((g)->e, ST_ERROR, __VA_ARGS__)

/* The tenant index of t, or -1. */
static long find_tenant(const struct engine *g, struct span t)
{
	return strtab_get(g->tenant_ids, t.p, t.n);
}

static void part_init(struct part *w, struct engine *g)
{
	const struct catalog *cat = g->cat;
	size_t nls = cat->naccounts * g->ngroups;

	memset(w, 0, sizeof(*w));
	w->g = g;
	w->e = &w->err;
	w->strs = strtab_new();
	w->lines = agg_new(sizeof(struct line_key));
	w->pus = agg_new(sizeof(struct pu_key));
	w->pps = agg_new(sizeof(struct pp_key));
	w->pcounts = agg_new(sizeof(int32_t));
	/* written now rather than left to calloc: a zero page first read
	 * and then written faults twice, the second time with a TLB flush
	 * on every core */
	w->ls = xmalloc((nls ? nls : 1) * sizeof(*w->ls));
	memset(w->ls, 0, (nls ? nls : 1) * sizeof(*w->ls));
	w->ppc = xcalloc(cat->npackages ? cat->npackages : 1,
			 sizeof(*w->ppc));
}

static void part_free(struct part *w)
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
	agg_free(w->pps);
	free(w->pp);
	agg_free(w->pcounts);
	free(w->pc);
	free(w->ls);
	free(w->ppc);
}

static void add_reject(struct part *w, const char *path, uint64_t line,
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

static int status_ok(struct span s)
{
	return s.n == 0 || span_eq(s, "ok");
}

/* The config checks of SPEC 3 that follow ingest's, in order. t and it
 * are the resolved tenant and item (-1 / NULL when unknown), dims the id
 * of the canonical dims text. Returns NULL and fills a, or the reason. */
static const char *admit(struct part *w, long t, const struct item *it,
			 struct span unit, uint32_t dims, struct adm *a)
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
	a->tenant = t;
	a->it = it;
	return NULL;
}

/* The index of line k, adding it when new. */
static size_t line_put(struct part *w, const struct line_key *k)
{
	int added;
	size_t i = agg_put(w->lines, k, &added);

	if (added) {
		xgrow((void **)&w->la, &w->la_cap, i + 1, sizeof(*w->la));
		memset(&w->la[i], 0, sizeof(w->la[i]));
	}
	return i;
}

static int add(struct part *w, dec_t *acc, dec_t v)
{
	if (dec_add(*acc, v, acc))
		return fail(w, "%s overflows", "a usage sum");
	return 0;
}

/* Adds the usage kept in slot c to its line. */
static int ls_close(struct part *w, struct lslot *c)
{
	if (add(w, &w->la[c->li - 1].u, c->u))
		return -1;
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
	c->li = (uint32_t)line_put(w, &k) + 1;
	c->period = r->period;
	return c;
}

/* Closes every open line: the line sums are then complete. */
static int ls_flush(struct part *w)
{
	size_t i, n = w->g->cat->naccounts * w->g->ngroups;

	for (i = 0; i < n; i++)
		if (w->ls[i].u && ls_close(w, &w->ls[i]))
			return -1;
	return 0;
}

static struct period_count *period_count(struct part *w, int32_t p)
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
static size_t pu_put(struct part *w, size_t li, size_t pkg)
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

/* The index of (pkg, p) in pps, adding it when new. */
static size_t pp_put(struct part *w, size_t pkg, int32_t p)
{
	struct ppcache *c = &w->ppc[pkg];
	struct pp_key k = { (uint32_t)pkg, p };
	int added;
	size_t i;

	if (c->i && c->period == p)
		return c->i - 1;
	i = agg_put(w->pps, &k, &added);
	if (added) {
		xgrow((void **)&w->pp, &w->pp_cap, i + 1, sizeof(*w->pp));
		w->pp[i] = 0;
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
		i = pu_put(w, li, pkg);
		la->pu1 = i + 1;
	}
	if (add(w, &w->pu[i].qty, qty) || add(w, &w->pu[i].units, units))
		return -1;
	i = pp_put(w, pkg, p); /* may move w->pp */
	return add(w, &w->pp[i], units);
}

static const struct catalog *sort_cat;

static int cmp_pkg_order(const void *pa, const void *pb)
{
	const struct package *a = &sort_cat->packages[*(const size_t *)pa];
	const struct package *b = &sort_cat->packages[*(const size_t *)pb];

	if (a->priority != b->priority)
		return a->priority < b->priority ? -1 : 1;
	if (a->valid_to != b->valid_to)
		return a->valid_to < b->valid_to ? -1 : 1;
	if (a->purchased_at != b->purchased_at)
		return a->purchased_at < b->purchased_at ? -1 : 1;
	return strcmp(a->id, b->id);
}

/* Package consumption of one ok record (SPEC section 6). Package state
 * (quota left, alerts) is the engine's: only the walk, which runs on one
 * thread, reaches a limited package. */
static int consume(struct part *w, const struct wrec *r)
{
	struct engine *g = w->g;
	const struct catalog *cat = g->cat;
	struct lslot *ls = line_of(w, r);
	size_t li, k;
	struct line_agg *la;
	dec_t rem = r->q, covered = 0, forgiven = 0;
	const struct tenant_info *tp = &g->ti[r->tenant];

	if (!ls)
		return -1;
	li = ls->li - 1;
	for (k = 0; k < tp->npkgs && rem > 0; k++) {
		size_t pi = tp->pkgs[k];
		const struct package *p = &cat->packages[pi];
		struct pkg_state *st = &g->ps[pi];
		dec_t need, cov, units;

		if (r->ts < p->valid_from || r->ts >= p->valid_to ||
		    !g->covers[pi * cat->nitems + r->item])
			continue;
		if (p->unlimited) {
			if (dec_mul(rem, p->unit_cost, 6, DEC_HALF_UP, &units))
				return fail(w, "%s overflows", "package units");
			if (cover(w, li, pi, r->period, rem, units) ||
			    add(w, &covered, rem))
				return -1;
			rem = 0;
			break;
		}
		if (st->left <= 0)
			continue;
		if (dec_mul(rem, p->unit_cost, 6, DEC_HALF_UP, &need))
			return fail(w, "%s overflows", "package units");
		if (st->left >= need) {
			cov = rem;
			units = need;
		} else {
			if (dec_div(st->left, p->unit_cost, 6, DEC_DOWN, &cov))
				return fail(w, "%s overflows", "package cover");
			units = st->left;
		}
		st->left -= units;
		rem -= cov;
		if (cover(w, li, pi, r->period, cov, units) ||
		    add(w, &covered, cov))
			return -1;
		/* left <= quota * pct / 100, compared exactly */
		if (!st->alerted && (dec_wide)st->left * 100 <=
		    (dec_wide)p->quota * cat->set.alert_pct / DEC_ONE) {
			st->alerted = 1;
			st->alert_ts = r->ts;
			st->alert_left = st->left;
			st->alert_period = r->period;
		}
		if (rem > 0 && p->forgive) {
			forgiven = rem;
			rem = 0;
		}
	}
	if (add(w, &ls->u, r->q))
		return -1;
	if (!covered && !forgiven &&
	    (rem == 0 || cat->accounts[r->acct].postpaid))
		return 0; /* the usual: no package, billed */
	la = &w->la[li];
	if (add(w, &la->c, covered) || add(w, &la->f, forgiven))
		return -1;
	if (rem > 0 && !cat->accounts[r->acct].postpaid)
		return add(w, &la->n, rem);
	return 0;
}

/* The period of instant ts. Records come in runs of one month: the
 * month is converted only when ts leaves the last one. */
static int32_t period_of(struct part *w, int64_t ts)
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
static int accept(struct part *w, const struct adm *a,
		  const struct usage_rec *r)
{
	const struct catalog *cat = w->g->cat;
	const struct item *it = a->it;
	struct period_count *pc;
	const struct window *win;
	struct wrec x;

	memset(&x, 0, sizeof(x));
	x.period = period_of(w, r->ts);
	pc = period_count(w, x.period);
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
		return fail(w, "quantity of item '%s' overflows in price units",
			    it->code);
	x.ts = r->ts;
	x.tenant = (uint32_t)a->tenant;
	x.acct = (uint32_t)(a->acct - cat->accounts);
	x.item = (uint32_t)(it - cat->items);
	x.group = (uint32_t)a->group;
	win = &w->g->walkwin[(size_t)a->tenant * cat->nitems + x.item];
	if (x.ts < win->from || x.ts >= win->to)
		return consume(w, &x);
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

	if (agg_count(g->candkeys)) {
		key = batch_key(r->tenant, r->record_id);
		if (agg_get(g->candkeys, &key) != (size_t)-1) {
			keep_candidate(w, r);
			return 0;
		}
	}
	if (c->tenant[id[0]] == -2)
		c->tenant[id[0]] = find_tenant(g, r->tenant);
	if (c->item[id[1]] == -2) {
		it = catalog_item(g->cat, r->item.p, r->item.n);
		c->item[id[1]] = it ? (long)(it - g->cat->items) : -1;
	}
	if (c->dims[id[4]] == -1)
		c->dims[id[4]] = strtab_put(w->strs, r->dims.p, r->dims.n);
	if (c->ok[id[2]] == -1)
		c->ok[id[2]] = (signed char)status_ok(r->status);
	it = c->item[id[1]] >= 0 ? &g->cat->items[c->item[id[1]]] : NULL;
	why = admit(w, c->tenant[id[0]], it, r->unit, (uint32_t)c->dims[id[4]],
		    &a);
	if (why) {
		add_reject(w, w->cur_path, r->line, r->record_id, r->tenant,
			   why);
		return 0;
	}
	a.ok = c->ok[id[2]];
	return accept(w, &a, r) ? -1 : 0;
}

/* Decodes and rates one batch of the file at path (a string the engine
 * keeps) into w. */
static int rate_batch(struct part *w, const char *path, const void *data,
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

/* ---- the ordered walk ---- */

static int cmp_bytes(const char *a, size_t na, const char *b, size_t nb)
{
	int c = memcmp(a, b, na < nb ? na : nb);

	if (c)
		return c;
	return na < nb ? -1 : na > nb;
}


/* (tenant, ts, record_id) of a walk record of part pa before one of pb. */
static int walk_before(const struct part *pa, const struct wpack *a,
		       const struct part *pb, const struct wpack *b)
{
	const unsigned char *ra, *rb;

	if (a->tenant != b->tenant)
		return a->tenant < b->tenant ? -1 : 1;
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	ra = (const unsigned char *)pa->rids + a->rid_off;
	rb = (const unsigned char *)pb->rids + b->rid_off;
	return cmp_bytes((const char *)ra + 1, ra[0], (const char *)rb + 1,
			 rb[0]);
}

static void wswap(struct wpack *a, struct wpack *b)
{
	struct wpack t = *a;

	*a = *b;
	*b = t;
}

/* Sift-down of a max-heap of n records rooted at i (the heapsort that
 * bounds introsort's worst case). */
static void wsift(const struct part *w, struct wpack *v, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < n && walk_before(w, &v[m], w, &v[l]) < 0)
			m = l;
		if (l + 1 < n && walk_before(w, &v[m], w, &v[l + 1]) < 0)
			m = l + 1;
		if (m == i)
			return;
		wswap(&v[i], &v[m]);
		i = m;
	}
}

/* Sorts v[0..n) in place (introsort): no scratch copy of the records,
 * which qsort would allocate, as large as the records themselves. */
static void wsort(const struct part *w, struct wpack *v, size_t n, int depth)
{
	while (n > 16) {
		size_t i, j, m = n / 2;

		if (depth-- == 0) {
			for (i = n / 2; i-- > 0;)
				wsift(w, v, n, i);
			for (i = n - 1; i > 0; i--) {
				wswap(&v[0], &v[i]);
				wsift(w, v, i, 0);
			}
			return;
		}
		/* median of three to v[0], then Hoare's partition */
		if (walk_before(w, &v[m], w, &v[0]) < 0)
			wswap(&v[m], &v[0]);
		if (walk_before(w, &v[n - 1], w, &v[0]) < 0)
			wswap(&v[n - 1], &v[0]);
		if (walk_before(w, &v[n - 1], w, &v[m]) < 0)
			wswap(&v[n - 1], &v[m]);
		wswap(&v[0], &v[m]);
		i = 0;
		j = n;
		for (;;) {
			do
				i++;
			while (i < n && walk_before(w, &v[i], w, &v[0]) < 0);
			do
				j--;
			while (walk_before(w, &v[0], w, &v[j]) < 0);
			if (i >= j)
				break;
			wswap(&v[i], &v[j]);
		}
		wswap(&v[0], &v[j]);
		/* recurse into the smaller side, loop on the larger */
		if (j < n - j - 1) {
			wsort(w, v, j, depth);
			v += j + 1;
			n -= j + 1;
		} else {
			wsort(w, v + j + 1, n - j - 1, depth);
			n = j;
		}
	}
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && walk_before(w, &v[j], w,
							&v[j - 1]) < 0; j--)
			wswap(&v[j], &v[j - 1]);
}

/* Sorts the walk records of w that are not sorted yet. */
static void sort_walk(struct part *w)
{
	int depth = 0;
	size_t n;

	for (n = w->nwalk; n > 1; n >>= 1)
		depth += 2;
	if (w->nsorted < w->nwalk)
		wsort(w, w->walk, w->nwalk, depth);
	w->nsorted = w->nwalk;
}

/* Consumes the walk records of every part in one (tenant, ts, record_id)
 * order: a merge of the parts' sorted records. Identities are unique
 * among them (a repeated one is a candidate), so the order is total. */
static int walk(struct engine *g)
{
	size_t pos[ENGINE_MAX_THREADS] = { 0 }, k;
	const struct wpack *wp;
	struct wrec x;

	/* the decoders sorted theirs; the first part, when it did not
	 * decode on a thread or took candidates, is sorted here */
	sort_walk(g->r);
	for (;;) {
		const struct part *best = NULL;
		size_t bi = 0;

		for (k = 0; k < g->nparts; k++) {
			const struct part *p = g->parts[k];

			if (pos[k] == p->nwalk)
				continue;
			if (!best || walk_before(p, &p->walk[pos[k]], best,
						 &best->walk[pos[bi]]) < 0) {
				best = p;
				bi = k;
			}
		}
		if (!best)
			return 0;
		wp = &best->walk[pos[bi]++];
		x.ts = wp->ts;
		x.q = wp->q;
		x.tenant = wp->tenant;
		x.acct = wp->acct;
		x.item = wp->item;
		x.group = wp->group;
		x.period = period_of(g->r, wp->ts);
		if (consume(g->r, &x))
			return -1;
	}
}

/* ---- decoding batches on several threads ---- */

enum { QUEUE = 2 };        /* batches read ahead of the decoders */

struct qjob {
	const char *path;
	void *data;
	size_t len, cap;
};

struct pool {
	struct engine *g;
	struct part *parts;
	size_t nparts;
	pthread_mutex_t mu;
	pthread_cond_t more, room;
	struct qjob q[QUEUE];
	size_t head, n;
	struct qjob spare[QUEUE + 8]; /* buffers to reuse: no page faults */
	size_t nspare;
	int done, stop;
};

static void *decoder(void *arg)
{
	struct part *w = arg;
	struct pool *pl = w->g->pool;

	for (;;) {
		struct qjob j;
		int rc;

		pthread_mutex_lock(&pl->mu);
		while (!pl->n && !pl->done && !pl->stop)
			pthread_cond_wait(&pl->more, &pl->mu);
		if (pl->stop || !pl->n) {
			int stop = pl->stop;

			pthread_mutex_unlock(&pl->mu);
			if (!stop)
				sort_walk(w); /* each part sorts its own */
			return NULL;
		}
		j = pl->q[pl->head];
		pl->head = (pl->head + 1) % QUEUE;
		pl->n--;
		pthread_cond_signal(&pl->room);
		pthread_mutex_unlock(&pl->mu);
		rc = rate_batch(w, j.path, j.data, j.len);
		pthread_mutex_lock(&pl->mu);
		if (rc) {
			pl->stop = 1;
			pthread_cond_broadcast(&pl->more);
			pthread_cond_broadcast(&pl->room);
		}
		if (pl->nspare < sizeof(pl->spare) / sizeof(pl->spare[0]))
			pl->spare[pl->nspare++] = j;
		else
			free(j.data);
		pthread_mutex_unlock(&pl->mu);
	}
}

static const char *keep_path(struct engine *g, const char *path)
{
	return strtab_str(g->paths, strtab_put(g->paths, path, strlen(path)));
}

/* store_batches callback with one decoder: rate in place. */
static int on_batch(void *ctx, const char *path, const void *data, size_t len)
{
	struct engine *g = ctx;

	return rate_batch(g->r, keep_path(g, path), data, len);
}

/* store_batches callback with a pool: queue a copy for the decoders. */
static int on_batch_queue(void *ctx, const char *path, const void *data,
			  size_t len)
{
	struct engine *g = ctx;
	struct pool *pl = g->pool;
	struct qjob j;
	int stop;

	memset(&j, 0, sizeof(j));
	pthread_mutex_lock(&pl->mu);
	if (pl->nspare)
		j = pl->spare[--pl->nspare];
	pthread_mutex_unlock(&pl->mu);
	if (j.cap < len) {
		free(j.data);
		j.cap = len;
		j.data = xmalloc(len ? len : 1);
	}
	j.path = keep_path(g, path);
	memcpy(j.data, data, len);
	j.len = len;
	pthread_mutex_lock(&pl->mu);
	while (pl->n == QUEUE && !pl->stop)
		pthread_cond_wait(&pl->room, &pl->mu);
	stop = pl->stop;
	if (!stop) {
		pl->q[(pl->head + pl->n) % QUEUE] = j;
		pl->n++;
		pthread_cond_signal(&pl->more);
	}
	pthread_mutex_unlock(&pl->mu);
	if (stop)
		free(j.data);
	return stop ? -1 : 0;
}

/* Moves what s gathered into d, but its walk records: walk() merges the
 * parts' sorted walk records as it consumes them. */
static int merge_part(struct part *d, struct part *s)
{
	size_t n = agg_count(s->lines), i;
	size_t *map = xmalloc((n ? n : 1) * sizeof(*map));
	int rc = -1;

	for (i = 0; i < n; i++) {
		struct line_agg *a, *b = &s->la[i];

		map[i] = line_put(d, agg_key(s->lines, i));
		a = &d->la[map[i]];
		if (add(d, &a->u, b->u) || add(d, &a->c, b->c) ||
		    add(d, &a->f, b->f) || add(d, &a->n, b->n))
			goto out;
	}
	for (i = 0; i < agg_count(s->pus); i++) {
		const struct pu_key *k = agg_key(s->pus, i);
		size_t j = pu_put(d, map[k->line], k->pkg);

		if (add(d, &d->pu[j].qty, s->pu[i].qty) ||
		    add(d, &d->pu[j].units, s->pu[i].units))
			goto out;
	}
	for (i = 0; i < agg_count(s->pps); i++) {
		const struct pp_key *k = agg_key(s->pps, i);
		size_t j = pp_put(d, k->pkg, k->period); /* may move d->pp */

		if (add(d, &d->pp[j], s->pp[i]))
			goto out;
	}
	for (i = 0; i < agg_count(s->pcounts); i++) {
		struct period_count *pc = period_count(
			d, *(const int32_t *)agg_key(s->pcounts, i));

		pc->records += s->pc[i].records;
		pc->unbillable += s->pc[i].unbillable;
	}
	/* rejects and candidates change hands */
	xgrow((void **)&d->rej, &d->rej_cap, d->nrej + s->nrej,
	      sizeof(*d->rej));
	if (s->nrej)
		memcpy(d->rej + d->nrej, s->rej, s->nrej * sizeof(*s->rej));
	d->nrej += s->nrej;
	s->nrej = 0;
	xgrow((void **)&d->cands, &d->cands_cap, d->ncands + s->ncands,
	      sizeof(*d->cands));
	if (s->ncands)
		memcpy(d->cands + d->ncands, s->cands,
		       s->ncands * sizeof(*s->cands));
	d->ncands += s->ncands;
	s->ncands = 0;
	d->live += s->live;
	rc = 0;
out:
	free(map);
	return rc;
}

/* Passes a part's error on to the engine's caller (the first one wins). */
static void part_error(struct engine *g, const struct part *w)
{
	if (g->e && !g->e->code && w->err.code)
		err_set(g->e, w->err.code, "%s", w->err.msg);
}

/* Decodes and rates every batch into g->r. Results do not depend on the
 * number of threads: every sum is exact, and what depends on order (the
 * walk, the candidates, the rejects) is sorted later. */
static int rate_batches(struct engine *g, struct store *s)
{
	struct pool pl;
	pthread_t tid[ENGINE_MAX_THREADS];
	size_t n = g->opts.threads, started = 0, i;
	int rc;

	g->parts[0] = g->r;
	g->nparts = 1;
	if (n == 1)
		return store_batches(s, on_batch, g, g->e);
	memset(&pl, 0, sizeof(pl));
	pthread_mutex_init(&pl.mu, NULL);
	pthread_cond_init(&pl.more, NULL);
	pthread_cond_init(&pl.room, NULL);
	g->pool = &pl;
	for (i = 1; i < n; i++) {
		g->parts[i] = xmalloc(sizeof(struct part));
		part_init(g->parts[i], g);
	}
	g->nparts = n;
	for (i = 0; i < n; i++) {
		if (pthread_create(&tid[i], NULL, decoder, g->parts[i]))
			break;
		started++;
	}
	rc = started ? store_batches(s, on_batch_queue, g, g->e) :
		       store_batches(s, on_batch, g, g->e);
	pthread_mutex_lock(&pl.mu);
	pl.done = 1;
	if (rc)
		pl.stop = 1;
	pthread_cond_broadcast(&pl.more);
	pthread_mutex_unlock(&pl.mu);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	for (i = 0; i < pl.n; i++)
		free(pl.q[(pl.head + i) % QUEUE].data);
	for (i = 0; i < pl.nspare; i++)
		free(pl.spare[i].data);
	g->pool = NULL;
	for (i = 0; i < n; i++)
		if (g->parts[i]->err.code) {
			part_error(g, g->parts[i]);
			rc = -1;
		}
	for (i = 1; i < n && !rc && !pl.stop; i++)
		if (ls_flush(g->parts[i]) || merge_part(g->r, g->parts[i])) {
			part_error(g, g->parts[i]);
			part_error(g, g->r);
			rc = -1;
		}
	pthread_cond_destroy(&pl.more);
	pthread_cond_destroy(&pl.room);
	pthread_mutex_destroy(&pl.mu);
	return rc || pl.stop ? -1 : 0;
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
		return fail(g, "unknown reject reason '%s' in the state", reason);
	add_reject(g->r, strtab_str(g->paths, id), line, r, t, name);
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

/* ---- pass 1: keys seen twice, by merging the batches' sorted keys ---- */

struct kstream {
	struct store_blob *b;
	size_t n, pos;          /* keys in the batch, keys read */
	uint64_t buf[1024];
	size_t bn, bi;          /* keys in buf, next one */
};

struct kmerge {
	struct store *s;
	struct kstream *ks;
	size_t n, cap;
	struct err *e;
};

static int on_batch_id(void *ctx, int64_t id, size_t nrec)
{
	struct kmerge *m = ctx;
	struct kstream *k;

	if (nrec == 0)
		return 0;
	xgrow((void **)&m->ks, &m->cap, m->n + 1, sizeof(*m->ks));
	k = &m->ks[m->n];
	memset(k, 0, sizeof(*k));
	k->n = nrec;
	k->b = store_keys_open(m->s, id, m->e);
	if (!k->b)
		return -1;
	m->n++;
	return 0;
}

/* Makes the next key of a stream k->buf[k->bi]: 0, 1 at its end, -1 on
 * error. */
static int kfill(struct kstream *k)
{
	size_t take = k->n - k->pos;

	if (k->bi < k->bn)
		return 0;
	if (take == 0)
		return 1;
	if (take > sizeof(k->buf) / sizeof(k->buf[0]))
		take = sizeof(k->buf) / sizeof(k->buf[0]);
	if (store_blob_read(k->b, k->buf, take * sizeof(uint64_t),
			    k->pos * sizeof(uint64_t)))
		return -1;
	k->pos += take;
	k->bn = take;
	k->bi = 0;
	return 0;
}

/* One share of the key space, slices [s0, s1) of 2^bits: streams
 * positioned at its first key and ending before the next share's; keys
 * seen twice go to dups. */
struct krange {
	struct kstream *ks;
	size_t n;
	unsigned bits;
	uint64_t s0, s1;
	struct agg *dups;
	int rc;
};

/* Finds the keys seen twice in r's share, one slice at a time: a slice
 * of every stream (keys are hashes, so slices hold about the same number
 * of keys) goes into an open-addressing set small enough for the cache.
 * Each key is read once and looked up once: no merge order is needed to
 * find equal keys. */
static void *merge_range(void *arg)
{
	struct krange *r = arg;
	size_t cap = 1 << 12, used, i;
	uint64_t *set = xmalloc(cap * sizeof(*set)), sl;

	r->rc = -1;
	for (sl = r->s0; sl < r->s1; sl++) {
		/* the slice's end; the last one runs to the streams' end */
		uint64_t end = sl + 1 < (1ULL << r->bits) ?
				       (sl + 1) << (64 - r->bits) : 0;
		int zero = 0;

		memset(set, 0, cap * sizeof(*set));
		used = 0;
		for (i = 0; i < r->n; i++) {
			struct kstream *k = &r->ks[i];
			int f;

			while ((f = kfill(k)) == 0) {
				uint64_t key = k->buf[k->bi];
				size_t j;

				if (end && key >= end)
					break;
				k->bi++;
				if (key == 0) { /* 0 marks an empty slot */
					if (zero++)
						agg_put(r->dups, &key, NULL);
					continue;
				}
				if (2 * (used + 1) > cap) {
					size_t oc = cap, m;
					uint64_t *old = set;

					cap *= 2;
					set = xcalloc(cap, sizeof(*set));
					for (m = 0; m < oc; m++) {
						if (!old[m])
							continue;
						j = (size_t)old[m] & (cap - 1);
						while (set[j])
							j = (j + 1) & (cap - 1);
						set[j] = old[m];
					}
					free(old);
				}
				j = (size_t)key & (cap - 1);
				while (set[j] && set[j] != key)
					j = (j + 1) & (cap - 1);
				if (set[j])
					agg_put(r->dups, &key, NULL);
				else {
					set[j] = key;
					used++;
				}
			}
			if (f < 0)
				goto out;
		}
	}
	r->rc = 0;
out:
	free(set);
	return NULL;
}

/* The position of the first key >= v in stream k (keys sorted). */
static int lower_bound(struct kstream *k, uint64_t v, size_t *at)
{
	size_t lo = 0, hi = k->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t key;

		if (store_blob_read(k->b, &key, sizeof(key),
				    mid * sizeof(uint64_t)))
			return -1;
		if (key < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return 0;
}

/* Keys seen twice among all batches. Keys are hashes, so the space
 * splits evenly: below 2^63 and from it up are searched on two threads
 * when there are two cores (SQLite serialises the blob reads themselves). */
static int find_candidates(struct engine *g, struct store *s)
{
	struct kmerge m;
	struct krange r[2];
	pthread_t tid;
	size_t nr = g->opts.threads > 1 ? 2 : 1, i, j, total = 0;
	unsigned bits = 1;
	int rc = -1, threaded = 0;

	memset(&m, 0, sizeof(m));
	memset(r, 0, sizeof(r));
	m.s = s;
	m.e = g->e;
	if (store_batch_ids(s, on_batch_id, &m, g->e))
		goto out;
	/* slices of about 16 k keys: a set of 32 k slots, 256 KiB */
	for (i = 0; i < m.n; i++)
		total += m.ks[i].n;
	while (bits < 40 && (total >> bits) > (1 << 14))
		bits++;
	for (j = 0; j < nr; j++) {
		r[j].ks = xcalloc(m.n ? m.n : 1, sizeof(*r[j].ks));
		r[j].n = m.n;
		r[j].bits = bits;
		r[j].s0 = j * ((1ULL << bits) / nr);
		r[j].s1 = (j + 1) * ((1ULL << bits) / nr);
		r[j].dups = j ? agg_new(sizeof(uint64_t)) : g->candkeys;
	}
	for (i = 0; i < m.n; i++) {
		size_t mid = m.ks[i].n;

		if (nr == 2 && lower_bound(&m.ks[i], 1ULL << 63, &mid))
			goto bad;
		r[0].ks[i].b = r[1 % nr].ks[i].b = m.ks[i].b;
		r[0].ks[i].pos = 0;
		r[0].ks[i].n = mid;
		if (nr == 2) {
			r[1].ks[i].pos = mid;
			r[1].ks[i].n = m.ks[i].n;
		}
	}
	if (nr == 2 && pthread_create(&tid, NULL, merge_range, &r[1]) == 0)
		threaded = 1;
	merge_range(&r[0]);
	if (nr == 2 && threaded)
		pthread_join(tid, NULL);
	else if (nr == 2)
		merge_range(&r[1]);
	for (j = 0; j < nr; j++)
		if (r[j].rc)
			goto bad;
	if (nr == 2)
		for (i = 0; i < agg_count(r[1].dups); i++)
			agg_put(g->candkeys, agg_key(r[1].dups, i), NULL);
	rc = 0;
	goto out;
bad:
	fail(g, "%s", "cannot read record keys in the state");
out:
	for (i = 0; i < m.n; i++)
		store_blob_close(m.ks[i].b);
	free(m.ks);
	for (j = 0; j < nr; j++)
		free(r[j].ks);
	if (nr == 2)
		agg_free(r[1].dups);
	return rc;
}

/* ---- duplicates among the candidates (SPEC 3) ---- */



/* (tenant, record_id, path, line): the winner of a group comes first. */
static int cmp_cand(const void *pa, const void *pb)
{
	const struct crec *a = pa, *b = pb;
	int c = cmp_bytes(a->s[C_TENANT], a->n[C_TENANT], b->s[C_TENANT],
			  b->n[C_TENANT]);

	if (c)
		return c;
	c = cmp_bytes(a->s[C_RID], a->n[C_RID], b->s[C_RID], b->n[C_RID]);
	if (c)
		return c;
	c = strcmp(a->path, b->path);
	if (c)
		return c;
	return a->line < b->line ? -1 : a->line > b->line;
}

/* Same meaning (SPEC 3): instant, quantity, dims, status, item, unit; an
 * empty status reads "ok", an empty unit the item's usage unit. */
static int same_meaning(const struct crec *a, const struct crec *b,
			const struct item *it)
{
	const char *ua = a->n[C_UNIT] ? a->s[C_UNIT] : it->usage_unit;
	const char *ub = b->n[C_UNIT] ? b->s[C_UNIT] : it->usage_unit;
	const char *sa = a->n[C_STATUS] ? a->s[C_STATUS] : "ok";
	const char *sb = b->n[C_STATUS] ? b->s[C_STATUS] : "ok";

	return a->ts == b->ts && a->qty == b->qty &&
	       strcmp(a->s[C_DIMS], b->s[C_DIMS]) == 0 &&
	       strcmp(sa, sb) == 0 && strcmp(ua, ub) == 0 &&
	       strcmp(a->s[C_ITEM], b->s[C_ITEM]) == 0;
}

static struct usage_rec cand_rec(const struct crec *c)
{
	struct usage_rec r;
	/* in the order of c->s, as keep_candidate filled it */
	struct span *f[6] = { &r.record_id, &r.tenant, &r.item,
			      &r.status, &r.unit, &r.dims };
	int k;

	memset(&r, 0, sizeof(r));
	r.line = c->line;
	for (k = 0; k < 6; k++) {
		f[k]->p = c->s[k];
		f[k]->n = c->n[k];
	}
	r.ts = c->ts;
	r.qty = c->qty;
	return r;
}

static int resolve_candidates(struct engine *g)
{
	struct part *pt = g->r;
	struct adm *adm = xcalloc(pt->ncands ? pt->ncands : 1, sizeof(*adm));
	size_t i, j;
	int rc = -1;

	if (pt->ncands > 1)
		qsort(pt->cands, pt->ncands, sizeof(*pt->cands), cmp_cand);
	/* rejected records take no part */
	for (i = 0; i < pt->ncands; i++) {
		struct crec *c = &pt->cands[i];
		struct usage_rec r = cand_rec(c);
		const char *why;

		why = admit(pt, find_tenant(g, r.tenant),
			    catalog_item(g->cat, r.item.p, r.item.n), r.unit,
			    strtab_put(pt->strs, r.dims.p, r.dims.n), &adm[i]);
		if (why) {
			c->dead = 1;
			add_reject(pt, c->path, c->line, r.record_id, r.tenant,
				   why);
		}
		adm[i].ok = status_ok(r.status);
	}
	for (i = 0; i < pt->ncands; i = j) {
		struct crec *w;
		struct usage_rec r;

		while (i < pt->ncands && pt->cands[i].dead)
			i++;
		if (i == pt->ncands)
			break;
		w = &pt->cands[i];
		for (j = i + 1; j < pt->ncands; j++) {
			struct crec *d = &pt->cands[j];
			struct usage_rec dr;

			if (cmp_bytes(d->s[C_TENANT], d->n[C_TENANT],
				      w->s[C_TENANT], w->n[C_TENANT]) ||
			    cmp_bytes(d->s[C_RID], d->n[C_RID], w->s[C_RID],
				      w->n[C_RID]))
				break;
			if (d->dead)
				continue;
			d->dead = 1;
			if (same_meaning(d, w, adm[i].it)) {
				g->duplicates++;
				continue;
			}
			dr = cand_rec(d);
			add_reject(pt, d->path, d->line, dr.record_id, dr.tenant,
				   usage_reject_name(REJ_DUPLICATE_CONFLICT));
		}
		r = cand_rec(w);
		if (accept(pt, &adm[i], &r))
			goto out;
	}
	rc = 0;
out:
	free(adm);
	return rc;
}

/* Widens tenant t's walk windows by limited package p (index pi). */
static void widen(struct engine *g, size_t t, const struct package *p,
		  size_t pi)
{
	size_t ni = g->cat->nitems, i;

	for (i = 0; i < ni; i++) {
		struct window *w = &g->walkwin[t * ni + i];

		if (!g->covers[pi * ni + i] || p->valid_from >= p->valid_to)
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

/* Tenants, their accounts and packages, and who needs the walk. */
static void setup_tenants(struct engine *g)
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
		struct tenant_info *ti = &g->ti[find_tenant(g, t)];

		if (ti->nacct++ == 0)
			ti->acct0 = i;
	}
	g->walkwin = xcalloc(n * cat->nitems + 1, sizeof(*g->walkwin));
	g->gofs = xmalloc((cat->nitems + 1) * sizeof(*g->gofs));
	for (i = 0; i < cat->nitems; i++) {
		g->gofs[i] = g->ngroups;
		g->ngroups += cat->items[i].ngroups;
	}
	g->ps = xcalloc(cat->npackages ? cat->npackages : 1, sizeof(*g->ps));
	g->covers = xcalloc(cat->npackages * cat->nitems + 1, 1);
	for (i = 0; i < cat->npackages * cat->nitems; i++)
		g->covers[i] = (unsigned char)catalog_package_covers(
			&cat->packages[i / cat->nitems],
			cat->items[i % cat->nitems].code);
	for (i = 0; i < cat->npackages; i++) {
		struct span t = { cat->packages[i].tenant,
				  strlen(cat->packages[i].tenant) };
		long k = find_tenant(g, t);
		struct tenant_info *ti;

		g->ps[i].left = cat->packages[i].quota;
		if (k < 0)
			continue;
		ti = &g->ti[k];
		ti->pkgs = xrealloc(ti->pkgs, (ti->npkgs + 1) *
				    sizeof(*ti->pkgs));
		ti->pkgs[ti->npkgs++] = i;
		if (!cat->packages[i].unlimited)
			widen(g, (size_t)k, &cat->packages[i], i);
	}
	sort_cat = cat;
	for (i = 0; i < n; i++)
		if (g->ti[i].npkgs > 1)
			qsort(g->ti[i].pkgs, g->ti[i].npkgs, sizeof(size_t),
			      cmp_pkg_order);
	if (g->opts.force_walk)
		for (i = 0; i < n * cat->nitems; i++) {
			g->walkwin[i].from = INT64_MIN;
			g->walkwin[i].to = INT64_MAX;
		}
}


/* Frees every part but the result. */
static void free_parts(struct engine *g)
{
	size_t i;

	for (i = 1; i < g->nparts; i++) {
		part_free(g->parts[i]);
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
	setup_tenants(g);
	g->r = xmalloc(sizeof(*g->r));
	part_init(g->r, g);
	fault_phase("engine setup");
	if (store_files(s, on_file, g, e) ||
	    store_rejects(s, on_stored_reject, g, e))
		goto fail;
	fault_phase("stored rejects");
	if (find_candidates(g, s))
		goto fail;
	fault_phase("duplicate keys");
	if (rate_batches(g, s))
		goto fail;
	fault_phase("decode and rate");
	if (resolve_candidates(g) || walk(g) || ls_flush(g->r))
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
		part_error(g, g->r);
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
		part_free(g->r);
		free(g->r);
	}
	for (i = 0; i < g->ntenants; i++)
		free(g->ti[i].pkgs);
	free(g->ti);
	free(g->walkwin);
	free(g->gofs);
	free(g->covers);
	strtab_free(g->tenant_ids);
	strtab_free(g->paths);
	agg_free(g->candkeys);
	free(g->ps);
	free(g);
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

static int cmp_pu(const void *pa, const void *pb)
{
	const struct eng_pusage *a = pa, *b = pb;

	return strcmp(sort_cat->packages[a->pkg].id,
		      sort_cat->packages[b->pkg].id);
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
	sort_cat = cat;
	for (i = 0; i < n; i++)
		if (lines[i].npu > 1)
			qsort(lines[i].pu, lines[i].npu, sizeof(*lines[i].pu),
			      cmp_pu);
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
		const struct pkg_state *st = &g->ps[i];
		struct eng_pkgrow *row;
		size_t np = agg_count(g->r->pps);

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
		if (st->alerted && st->alert_period <= p) {
			row->has_alert = 1;
			row->alert_ts = st->alert_ts;
		}
		if (st->alerted && st->alert_period == p) {
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

