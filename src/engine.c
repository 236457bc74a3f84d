/* engine: rating from the state and the config. */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "batch.h"
#include "mem.h"
#include "ts.h"
#include "usage.h"
#include "banned.h"

/* One valid record. */
struct rrec {
	int64_t ts;
	dec_t qty;          /* in the usage unit, as ingested */
	dec_t q;            /* in price units (rounded per item) */
	uint64_t line;
	size_t rid_off;     /* record_id in g->rids */
	uint32_t rid_n;
	uint32_t tenant;    /* index into g->tenants */
	uint32_t acct;      /* index into cat->accounts */
	uint32_t item;      /* index into cat->items */
	uint32_t group;
	uint32_t file;      /* path id in g->paths */
	uint32_t status;    /* id in g->strs, "" read as "ok" */
	uint32_t unit;      /* id in g->strs, "" read as the usage unit */
	uint32_t dims;      /* id in g->strs */
	int32_t period;
	uint8_t dead;       /* an identical duplicate or a conflict */
};

struct line_key {
	int32_t period;
	uint32_t acct, item, group;
};

struct line_agg {
	dec_t u, c, f, n;
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

struct engine {
	const struct catalog *cat;
	const char **tenants;      /* sorted unique tenant ids of accounts */
	size_t ntenants;
	struct strtab *paths;      /* file paths */
	struct strtab *strs;       /* status, unit and dims texts */
	uint32_t ok_id;            /* id of "ok" in strs */
	uint32_t *unit_ids;        /* per item: id of its usage unit */
	struct agg *groups;        /* (item, dims id) -> group cache */
	int32_t *group_of;
	size_t group_cap;
	char *rids;                /* record ids, back to back */
	size_t rids_n, rids_cap;
	struct rrec *recs;
	size_t nrecs, recs_cap;
	struct eng_reject *rej;
	size_t nrej, rej_cap;
	uint64_t duplicates, files_ok, files_failed, live;
	struct agg *lines;         /* line_key -> line_agg */
	struct line_agg *la;
	size_t la_cap;
	struct agg *pus;           /* pu_key -> pu_val */
	struct eng_pusage *pu;
	size_t pu_cap;
	struct agg *pps;           /* pp_key -> units used */
	dec_t *pp;
	size_t pp_cap;
	struct pkg_state *ps;      /* per package */
	struct agg *pcounts;       /* period -> period_count */
	struct period_count *pc;
	size_t pc_cap;
	int *periods;
	size_t nperiods;
	struct err *e;
	uint32_t cur_file;
};

#define fail(g, ...) err_set((g)->e, ST_ERROR, __VA_ARGS__)

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The tenant index of t, or -1. */
static long find_tenant(const struct engine *g, struct span t)
{
	size_t lo = 0, hi = g->ntenants;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *s = g->tenants[mid];
		int c = strncmp(s, t.p, t.n);

		if (c == 0 && s[t.n] != '\0')
			c = 1;
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static void add_reject(struct engine *g, const char *path, uint64_t line,
		       struct span rid, struct span tenant, const char *reason)
{
	struct eng_reject *r;

	xgrow((void **)&g->rej, &g->rej_cap, g->nrej + 1, sizeof(*g->rej));
	r = &g->rej[g->nrej++];
	r->path = path;
	r->line = line;
	r->record_id = xstrndup(rid.p, rid.n);
	r->tenant = xstrndup(tenant.p, tenant.n);
	r->reason = reason;
}

/* The price group of (item, dims), computed once per pair. */
static int32_t group_for(struct engine *g, uint32_t item, uint32_t dims)
{
	uint32_t key[2] = { item, dims };
	int added;
	size_t i = agg_put(g->groups, key, &added);

	if (added) {
		const struct item *it = &g->cat->items[item];

		xgrow((void **)&g->group_of, &g->group_cap, i + 1,
		      sizeof(*g->group_of));
		g->group_of[i] = catalog_match_group(it,
			strtab_str(g->strs, dims), strtab_len(g->strs, dims));
	}
	return g->group_of[i];
}

/* Checks one ingested record against the config and keeps it. */
static int on_record(void *ctx, const struct usage_rec *r)
{
	struct engine *g = ctx;
	const struct catalog *cat = g->cat;
	const char *path = strtab_str(g->paths, g->cur_file);
	const struct item *it;
	const struct account *acct;
	struct rrec *x;
	long t;
	int32_t grp;
	uint32_t dims;

	t = find_tenant(g, r->tenant);
	if (t < 0) {
		add_reject(g, path, r->line, r->record_id, r->tenant,
			   usage_reject_name(REJ_UNKNOWN_TENANT));
		return 0;
	}
	it = catalog_item(cat, r->item.p, r->item.n);
	if (!it) {
		add_reject(g, path, r->line, r->record_id, r->tenant,
			   usage_reject_name(REJ_UNKNOWN_ITEM));
		return 0;
	}
	acct = catalog_account(cat, r->tenant.p, r->tenant.n, it->currency);
	if (!acct) {
		add_reject(g, path, r->line, r->record_id, r->tenant,
			   usage_reject_name(REJ_NO_ACCOUNT));
		return 0;
	}
	if (r->unit.n && !span_eq(r->unit, it->usage_unit)) {
		add_reject(g, path, r->line, r->record_id, r->tenant,
			   usage_reject_name(REJ_UNIT_MISMATCH));
		return 0;
	}
	dims = strtab_put(g->strs, r->dims.p, r->dims.n);
	grp = group_for(g, (uint32_t)(it - cat->items), dims);
	if (grp < 0) {
		add_reject(g, path, r->line, r->record_id, r->tenant,
			   usage_reject_name(REJ_NO_PRICE));
		return 0;
	}
	xgrow((void **)&g->recs, &g->recs_cap, g->nrecs + 1, sizeof(*g->recs));
	x = &g->recs[g->nrecs++];
	memset(x, 0, sizeof(*x));
	x->ts = r->ts;
	x->qty = r->qty;
	x->line = r->line;
	x->tenant = (uint32_t)t;
	x->acct = (uint32_t)(acct - cat->accounts);
	x->item = (uint32_t)(it - cat->items);
	x->group = (uint32_t)grp;
	x->file = g->cur_file;
	x->status = r->status.n ? strtab_put(g->strs, r->status.p, r->status.n)
				: g->ok_id;
	x->unit = r->unit.n ? strtab_put(g->strs, r->unit.p, r->unit.n)
			    : g->unit_ids[x->item];
	x->dims = dims;
	xgrow((void **)&g->rids, &g->rids_cap, g->rids_n + r->record_id.n, 1);
	memcpy(g->rids + g->rids_n, r->record_id.p, r->record_id.n);
	x->rid_off = g->rids_n;
	x->rid_n = (uint32_t)r->record_id.n;
	g->rids_n += r->record_id.n;
	return 0;
}

static int on_batch(void *ctx, const char *path, const void *data, size_t len)
{
	struct engine *g = ctx;

	g->cur_file = strtab_put(g->paths, path, strlen(path));
	if (batch_decode(data, len, on_record, g) != 0)
		return fail(g, "corrupt record batch of '%s' in the state", path);
	return 0;
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
	add_reject(g, strtab_str(g->paths, id), line, r, t, name);
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

/* qsort has no context argument; the engine being sorted. */
static const struct engine *sort_g;

static int cmp_rid(const struct engine *g, const struct rrec *a,
		   const struct rrec *b)
{
	size_t n = a->rid_n < b->rid_n ? a->rid_n : b->rid_n;
	int c = memcmp(g->rids + a->rid_off, g->rids + b->rid_off, n);

	if (c)
		return c;
	return a->rid_n < b->rid_n ? -1 : a->rid_n > b->rid_n;
}

/* (tenant, record_id, path, line): duplicates side by side, the winner
 * (smallest file identity, then line) first. */
static int cmp_dedup(const void *pa, const void *pb)
{
	const struct engine *g = sort_g;
	const struct rrec *a = &g->recs[*(const size_t *)pa];
	const struct rrec *b = &g->recs[*(const size_t *)pb];
	int c;

	if (a->tenant != b->tenant)
		return a->tenant < b->tenant ? -1 : 1;
	c = cmp_rid(g, a, b);
	if (c)
		return c;
	if (a->file != b->file)
		return strcmp(strtab_str(g->paths, a->file),
			      strtab_str(g->paths, b->file));
	return a->line < b->line ? -1 : a->line > b->line;
}

/* Same meaning: the same instant, quantity, dims, status, item and unit. */
static int same_meaning(const struct rrec *a, const struct rrec *b)
{
	return a->ts == b->ts && a->qty == b->qty && a->dims == b->dims &&
	       a->status == b->status && a->item == b->item &&
	       a->unit == b->unit;
}

static void dedup(struct engine *g)
{
	size_t *idx = xmalloc((g->nrecs ? g->nrecs : 1) * sizeof(*idx));
	size_t i, j;

	for (i = 0; i < g->nrecs; i++)
		idx[i] = i;
	sort_g = g;
	qsort(idx, g->nrecs, sizeof(*idx), cmp_dedup);
	for (i = 0; i < g->nrecs; i = j) {
		struct rrec *w = &g->recs[idx[i]];

		for (j = i + 1; j < g->nrecs; j++) {
			struct rrec *d = &g->recs[idx[j]];
			struct span rid, ten;

			if (d->tenant != w->tenant || cmp_rid(g, d, w) != 0)
				break;
			d->dead = 1;
			if (same_meaning(d, w)) {
				g->duplicates++;
				continue;
			}
			rid.p = g->rids + d->rid_off;
			rid.n = d->rid_n;
			ten.p = g->tenants[d->tenant];
			ten.n = strlen(ten.p);
			add_reject(g, strtab_str(g->paths, d->file), d->line,
				   rid, ten,
				   usage_reject_name(REJ_DUPLICATE_CONFLICT));
		}
	}
	free(idx);
}

static size_t line_index(struct engine *g, const struct rrec *r)
{
	struct line_key k;
	int added;
	size_t i;

	memset(&k, 0, sizeof(k));
	k.period = r->period;
	k.acct = r->acct;
	k.item = r->item;
	k.group = r->group;
	i = agg_put(g->lines, &k, &added);
	if (added) {
		xgrow((void **)&g->la, &g->la_cap, i + 1, sizeof(*g->la));
		memset(&g->la[i], 0, sizeof(g->la[i]));
	}
	return i;
}

static struct period_count *period_count(struct engine *g, int32_t p)
{
	int added;
	size_t i = agg_put(g->pcounts, &p, &added);

	if (added) {
		xgrow((void **)&g->pc, &g->pc_cap, i + 1, sizeof(*g->pc));
		memset(&g->pc[i], 0, sizeof(g->pc[i]));
	}
	return &g->pc[i];
}

static int add(struct engine *g, dec_t *acc, dec_t v)
{
	if (dec_add(*acc, v, acc))
		return fail(g, "%s overflows", "a usage sum");
	return 0;
}

/* Records that package pkg covered qty price units with units package
 * units of line li in period p. */
static int cover(struct engine *g, size_t li, size_t pkg, int32_t p,
		 dec_t qty, dec_t units)
{
	struct pu_key k = { (uint32_t)li, (uint32_t)pkg };
	struct pp_key pk = { (uint32_t)pkg, p };
	int added;
	size_t i = agg_put(g->pus, &k, &added);

	if (added) {
		xgrow((void **)&g->pu, &g->pu_cap, i + 1, sizeof(*g->pu));
		memset(&g->pu[i], 0, sizeof(g->pu[i]));
		g->pu[i].pkg = pkg;
	}
	if (add(g, &g->pu[i].qty, qty) || add(g, &g->pu[i].units, units))
		return -1;
	i = agg_put(g->pps, &pk, &added);
	if (added) {
		xgrow((void **)&g->pp, &g->pp_cap, i + 1, sizeof(*g->pp));
		g->pp[i] = 0;
	}
	return add(g, &g->pp[i], units);
}

/* Per tenant: its packages in consumption order. */
struct tenant_pkgs {
	size_t *idx;
	size_t n;
	int limited;     /* owns a package with a quota */
};

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

/* Package consumption of one ok record (SPEC section 6). */
static int consume(struct engine *g, const struct rrec *r,
		   const struct tenant_pkgs *tp)
{
	const struct catalog *cat = g->cat;
	const struct item *it = &cat->items[r->item];
	size_t li = line_index(g, r), k;
	struct line_agg *la;
	dec_t rem = r->q, covered = 0, forgiven = 0;

	for (k = 0; k < tp->n && rem > 0; k++) {
		size_t pi = tp->idx[k];
		const struct package *p = &cat->packages[pi];
		struct pkg_state *st = &g->ps[pi];
		dec_t need, cov, units;

		if (r->ts < p->valid_from || r->ts >= p->valid_to ||
		    !catalog_package_covers(p, it->code))
			continue;
		if (p->unlimited) {
			if (dec_mul(rem, p->unit_cost, 6, DEC_HALF_UP, &units))
				return fail(g, "%s overflows", "package units");
			if (cover(g, li, pi, r->period, rem, units) ||
			    add(g, &covered, rem))
				return -1;
			rem = 0;
			break;
		}
		if (st->left <= 0)
			continue;
		if (dec_mul(rem, p->unit_cost, 6, DEC_HALF_UP, &need))
			return fail(g, "%s overflows", "package units");
		if (st->left >= need) {
			cov = rem;
			units = need;
		} else {
			if (dec_div(st->left, p->unit_cost, 6, DEC_DOWN, &cov))
				return fail(g, "%s overflows", "package cover");
			units = st->left;
		}
		st->left -= units;
		rem -= cov;
		if (cover(g, li, pi, r->period, cov, units) ||
		    add(g, &covered, cov))
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
	la = &g->la[li];
	if (add(g, &la->u, r->q) || add(g, &la->c, covered) ||
	    add(g, &la->f, forgiven))
		return -1;
	if (rem > 0 && !cat->accounts[r->acct].postpaid)
		return add(g, &la->n, rem);
	return 0;
}

static int cmp_walk(const void *pa, const void *pb)
{
	const struct engine *g = sort_g;
	const struct rrec *a = &g->recs[*(const size_t *)pa];
	const struct rrec *b = &g->recs[*(const size_t *)pb];

	if (a->tenant != b->tenant)
		return a->tenant < b->tenant ? -1 : 1;
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return cmp_rid(g, a, b);
}

static int rate_records(struct engine *g)
{
	const struct catalog *cat = g->cat;
	struct tenant_pkgs *tp = xcalloc(g->ntenants ? g->ntenants : 1,
					 sizeof(*tp));
	const char *force = getenv("SETTLE_FORCE_WALK");
	int walk_all = force && strcmp(force, "1") == 0;
	size_t *walk = NULL, nwalk = 0, i;
	int rc = -1;

	g->ps = xcalloc(cat->npackages ? cat->npackages : 1, sizeof(*g->ps));
	for (i = 0; i < cat->npackages; i++) {
		struct span t = { cat->packages[i].tenant,
				  strlen(cat->packages[i].tenant) };
		long ti = find_tenant(g, t);

		g->ps[i].left = cat->packages[i].quota;
		if (ti < 0)
			continue;
		tp[ti].idx = xrealloc(tp[ti].idx, (tp[ti].n + 1) *
				      sizeof(size_t));
		tp[ti].idx[tp[ti].n++] = i;
		if (!cat->packages[i].unlimited)
			tp[ti].limited = 1;
	}
	sort_cat = cat;
	for (i = 0; i < g->ntenants; i++)
		if (tp[i].n > 1)
			qsort(tp[i].idx, tp[i].n, sizeof(size_t),
			      cmp_pkg_order);
	walk = xmalloc((g->nrecs ? g->nrecs : 1) * sizeof(*walk));
	for (i = 0; i < g->nrecs; i++) {
		struct rrec *r = &g->recs[i];
		const struct item *it = &cat->items[r->item];
		struct period_count *pc;

		if (r->dead)
			continue;
		r->period = ts_period_of(r->ts, cat->set.tz);
		pc = period_count(g, r->period);
		pc->records++;
		if (r->status != g->ok_id) {
			pc->unbillable++;
			continue;
		}
		if (dec_div(r->qty, it->unit_ratio, it->record_round,
			    it->record_round_mode, &r->q)) {
			fail(g, "quantity of item '%s' overflows in price units",
			     it->code);
			goto out;
		}
		if (walk_all || tp[r->tenant].limited)
			walk[nwalk++] = i;
		else if (consume(g, r, &tp[r->tenant]))
			goto out;
	}
	sort_g = g;
	qsort(walk, nwalk, sizeof(*walk), cmp_walk);
	for (i = 0; i < nwalk; i++)
		if (consume(g, &g->recs[walk[i]], &tp[g->recs[walk[i]].tenant]))
			goto out;
	rc = 0;
out:
	for (i = 0; i < g->ntenants; i++)
		free(tp[i].idx);
	free(tp);
	free(walk);
	return rc;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

struct engine *engine_load(struct store *s, const struct catalog *cat,
			   struct err *e)
{
	struct engine *g = xcalloc(1, sizeof(*g));
	size_t i, n;

	g->cat = cat;
	g->e = e;
	g->paths = strtab_new();
	g->strs = strtab_new();
	g->groups = agg_new(2 * sizeof(uint32_t));
	g->lines = agg_new(sizeof(struct line_key));
	g->pus = agg_new(sizeof(struct pu_key));
	g->pps = agg_new(sizeof(struct pp_key));
	g->pcounts = agg_new(sizeof(int32_t));
	g->ok_id = strtab_put(g->strs, "ok", 2);
	g->unit_ids = xmalloc((cat->nitems ? cat->nitems : 1) *
			      sizeof(*g->unit_ids));
	for (i = 0; i < cat->nitems; i++)
		g->unit_ids[i] = strtab_put(g->strs, cat->items[i].usage_unit,
					    strlen(cat->items[i].usage_unit));
	g->tenants = xmalloc((cat->naccounts ? cat->naccounts : 1) *
			     sizeof(*g->tenants));
	for (i = 0; i < cat->naccounts; i++)
		g->tenants[i] = cat->accounts[i].tenant;
	qsort(g->tenants, cat->naccounts, sizeof(*g->tenants), cmp_str);
	for (i = n = 0; i < cat->naccounts; i++)
		if (n == 0 || strcmp(g->tenants[n - 1], g->tenants[i]) != 0)
			g->tenants[n++] = g->tenants[i];
	g->ntenants = n;
	if (store_files(s, on_file, g, e) ||
	    store_rejects(s, on_stored_reject, g, e) ||
	    store_batches(s, on_batch, g, e))
		goto fail;
	dedup(g);
	if (rate_records(g))
		goto fail;
	n = agg_count(g->pcounts);
	g->periods = xmalloc((n ? n : 1) * sizeof(*g->periods));
	for (i = 0; i < n; i++)
		g->periods[i] = *(const int32_t *)agg_key(g->pcounts, i);
	g->nperiods = n;
	qsort(g->periods, n, sizeof(*g->periods), cmp_int);
	for (i = 0; i < g->nrecs; i++)
		g->live += !g->recs[i].dead;
	/* only the aggregates are needed from here on */
	free(g->rids);
	g->rids = NULL;
	free(g->recs);
	g->recs = NULL;
	return g;
fail:
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
	for (i = 0; i < g->nrej; i++) {
		free(g->rej[i].record_id);
		free(g->rej[i].tenant);
	}
	free(g->rej);
	free(g->tenants);
	strtab_free(g->paths);
	strtab_free(g->strs);
	free(g->unit_ids);
	agg_free(g->groups);
	free(g->group_of);
	free(g->rids);
	free(g->recs);
	agg_free(g->lines);
	free(g->la);
	agg_free(g->pus);
	free(g->pu);
	agg_free(g->pps);
	free(g->pp);
	free(g->ps);
	agg_free(g->pcounts);
	free(g->pc);
	free(g->periods);
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
	size_t nl = agg_count(g->lines), npu = agg_count(g->pus), i;
	size_t *slot = xmalloc((nl ? nl : 1) * sizeof(*slot));
	struct eng_line *lines = NULL;
	size_t n = 0, cap = 0;

	for (i = 0; i < nl; i++) {
		const struct line_key *k = agg_key(g->lines, i);
		const struct line_agg *a = &g->la[i];
		struct eng_line *l;
		struct rated rt;
		char buf[4096];

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
		if (rate_format_tiers(rt.slices, rt.nslices, buf,
				      sizeof(buf)) < 0) {
			buf[0] = '\0';
		}
		l->tiers = xstrdup(buf);
		free(rt.slices);
		slot[i] = n++;
	}
	for (i = 0; i < npu; i++) {
		const struct pu_key *k = agg_key(g->pus, i);
		struct eng_line *l;

		if (slot[k->line] == (size_t)-1)
			continue;
		l = &lines[slot[k->line]];
		l->pu = xrealloc(l->pu, (l->npu + 1) * sizeof(*l->pu));
		l->pu[l->npu++] = g->pu[i];
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
		size_t np = agg_count(g->pps);

		if (!(pk->valid_from < end && pk->valid_to > start))
			continue;
		out->pkgs = xrealloc(out->pkgs, (out->npkgs + 1) *
				     sizeof(*out->pkgs));
		row = &out->pkgs[out->npkgs++];
		memset(row, 0, sizeof(*row));
		row->pkg = pk;
		for (j = 0; j < np; j++) {
			const struct pp_key *k = agg_key(g->pps, j);

			if (k->pkg != i || k->period > p)
				continue;
			if (dec_add(k->period < p ? row->used_before :
				    row->used_in, g->pp[j],
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
	pci = agg_get(g->pcounts, &(int32_t){ p });
	if (pci != (size_t)-1) {
		out->records = g->pc[pci].records;
		out->unbillable = g->pc[pci].unbillable;
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
	*n = g->nrej;
	return g->rej;
}

void engine_counts(const struct engine *g, struct eng_counts *c)
{
	c->files_ok = g->files_ok;
	c->files_failed = g->files_failed;
	c->records = g->live;
	c->duplicates = g->duplicates;
	c->rejected = g->nrej;
}

const int *engine_periods(const struct engine *g, size_t *n)
{
	*n = g->nperiods;
	return g->periods;
}
