/* engine: rating from the state and the config.
 *
 * Loading reads every batch twice, never holding all records:
 *  1. the sorted record keys of all batches are merged as streams; a key
 *     seen twice makes a duplicate candidate (usually none);
 *  2. the batches are decoded, each distinct string of a batch resolved
 *     once; a candidate is set aside whole, any other record is checked
 *     against the config and rated at once, or kept in a compact form
 *     when its tenant needs the ordered walk.
 * Candidates are then resolved exactly, and the walk runs per tenant in
 * (ts, record_id) order. */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "batch.h"
#include "mem.h"
#include "ts.h"
#include "usage.h"
#include "banned.h"

/* A record admitted for rating, in the form consumption needs. */
struct wrec {
	int64_t ts;
	dec_t q;            /* in price units (rounded per item) */
	size_t rid_off;     /* record_id in g->rids (walk records only) */
	uint32_t rid_n;
	uint32_t tenant;    /* index into g->tenants */
	uint32_t acct;      /* index into cat->accounts */
	uint32_t item;      /* index into cat->items */
	uint32_t group;
	int32_t period;
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
	int walk;           /* owns a limited package (or SETTLE_FORCE_WALK) */
	size_t acct0, nacct; /* its accounts: cat->accounts[acct0..+nacct) */
};

/* Resolutions of one batch's string table, made on first use. */
struct bcache {
	const struct span *strs;
	size_t n, cap;
	long *tenant;       /* -2 unknown yet, -1 none, else tenant index */
	long *item;         /* -2, -1, else item index */
	long *dims;         /* -1 unknown yet, else id in g->strs */
	signed char *ok;    /* -1 unknown yet, 0, 1 */
};

struct engine {
	const struct catalog *cat;
	unsigned char *covers;     /* [pkg * nitems + item]: package covers */
	const char **tenants;      /* sorted unique tenant ids of accounts */
	size_t ntenants;
	struct tenant_info *ti;
	struct strtab *paths;      /* file paths */
	struct strtab *strs;       /* dims texts */
	int32_t *group_of;         /* [dims id * nitems + item]: group + 2 */
	size_t group_cap;
	struct agg *candkeys;      /* keys seen more than once */
	struct crec *cands;
	size_t ncands, cands_cap;
	char *rids;                /* record ids of walk records */
	size_t rids_n, rids_cap;
	struct wrec *walk;
	size_t nwalk, walk_cap;
	struct bcache bc;
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
	struct err *e;
	const char *cur_path;
	int failed;                /* an error inside a callback */
	/* the last line and period looked up: records come in runs */
	struct line_key last_lk;
	size_t last_li, last_pi;
	int32_t last_p;
	int have_lk, have_p;
	/* the month of the last record: [span_from, span_to) is span_p */
	int64_t span_from, span_to;
	int span_p, have_span;
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

/* The price group of (item, dims), computed once per pair and kept in a
 * table indexed by (dims id, item): no hashing per record. */
static int32_t group_for(struct engine *g, uint32_t item, uint32_t dims)
{
	size_t ni = g->cat->nitems, need = ((size_t)dims + 1) * ni;
	int32_t *slot;

	if (need > g->group_cap) {
		size_t old = g->group_cap;

		xgrow((void **)&g->group_of, &g->group_cap, need,
		      sizeof(*g->group_of));
		memset(g->group_of + old, 0,
		       (g->group_cap - old) * sizeof(*g->group_of));
	}
	slot = &g->group_of[(size_t)dims * ni + item];
	if (*slot == 0) {
		const struct item *it = &g->cat->items[item];

		/* stored + 2: 0 is "not yet", 1 is "no group" */
		*slot = 2 + catalog_match_group(it, strtab_str(g->strs, dims),
						strtab_len(g->strs, dims));
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
static const char *admit(struct engine *g, long t, const struct item *it,
			 struct span unit, uint32_t dims, struct adm *a)
{
	const struct catalog *cat = g->cat;
	const struct tenant_info *ti;
	size_t k;

	if (t < 0)
		return usage_reject_name(REJ_UNKNOWN_TENANT);
	if (!it)
		return usage_reject_name(REJ_UNKNOWN_ITEM);
	ti = &g->ti[t];
	a->acct = NULL;
	for (k = 0; k < ti->nacct; k++)
		if (memcmp(cat->accounts[ti->acct0 + k].currency, it->currency,
			   4) == 0)
			a->acct = &cat->accounts[ti->acct0 + k];
	if (!a->acct)
		return usage_reject_name(REJ_NO_ACCOUNT);
	if (unit.n && !span_eq(unit, it->usage_unit))
		return usage_reject_name(REJ_UNIT_MISMATCH);
	a->group = group_for(g, (uint32_t)(it - cat->items), dims);
	if (a->group < 0)
		return usage_reject_name(REJ_NO_PRICE);
	a->tenant = t;
	a->it = it;
	return NULL;
}

static size_t line_index(struct engine *g, const struct wrec *r)
{
	struct line_key k;
	int added;
	size_t i;

	memset(&k, 0, sizeof(k));
	k.period = r->period;
	k.acct = r->acct;
	k.item = r->item;
	k.group = r->group;
	if (g->have_lk && memcmp(&k, &g->last_lk, sizeof(k)) == 0)
		return g->last_li;
	i = agg_put(g->lines, &k, &added);
	if (added) {
		xgrow((void **)&g->la, &g->la_cap, i + 1, sizeof(*g->la));
		memset(&g->la[i], 0, sizeof(g->la[i]));
	}
	g->last_lk = k;
	g->last_li = i;
	g->have_lk = 1;
	return i;
}

static struct period_count *period_count(struct engine *g, int32_t p)
{
	int added;
	size_t i;

	if (g->have_p && g->last_p == p)
		return &g->pc[g->last_pi];
	i = agg_put(g->pcounts, &p, &added);
	if (added) {
		xgrow((void **)&g->pc, &g->pc_cap, i + 1, sizeof(*g->pc));
		memset(&g->pc[i], 0, sizeof(g->pc[i]));
	}
	g->last_p = p;
	g->last_pi = i;
	g->have_p = 1;
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
static int consume(struct engine *g, const struct wrec *r)
{
	const struct catalog *cat = g->cat;
	size_t li = line_index(g, r), k;
	struct line_agg *la;
	dec_t rem = r->q, covered = 0, forgiven = 0;

	const struct tenant_info *tp = &g->ti[r->tenant];

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

/* Admits one record the config accepts: counts it in its period, and
 * rates it now or keeps it for the walk. */
static int accept(struct engine *g, const struct adm *a,
		  const struct usage_rec *r)
{
	const struct catalog *cat = g->cat;
	const struct item *it = a->it;
	struct period_count *pc;
	struct wrec w;

	memset(&w, 0, sizeof(w));
	/* records come in runs of one month: convert only on leaving it */
	if (!g->have_span || r->ts < g->span_from || r->ts >= g->span_to) {
		g->span_p = ts_period_of(r->ts, cat->set.tz);
		g->span_from = ts_period_start(g->span_p, cat->set.tz);
		g->span_to = ts_period_start(g->span_p + 1, cat->set.tz);
		g->have_span = 1;
	}
	w.period = g->span_p;
	pc = period_count(g, w.period);
	pc->records++;
	g->live++;
	if (!a->ok) {
		pc->unbillable++;
		return 0;
	}
	if (dec_div(r->qty, it->unit_ratio, it->record_round,
		    it->record_round_mode, &w.q))
		return fail(g, "quantity of item '%s' overflows in price units",
			    it->code);
	w.ts = r->ts;
	w.tenant = (uint32_t)a->tenant;
	w.acct = (uint32_t)(a->acct - cat->accounts);
	w.item = (uint32_t)(it - cat->items);
	w.group = (uint32_t)a->group;
	if (!g->ti[a->tenant].walk)
		return consume(g, &w);
	xgrow((void **)&g->rids, &g->rids_cap, g->rids_n + r->record_id.n, 1);
	memcpy(g->rids + g->rids_n, r->record_id.p, r->record_id.n);
	w.rid_off = g->rids_n;
	w.rid_n = (uint32_t)r->record_id.n;
	g->rids_n += r->record_id.n;
	xgrow((void **)&g->walk, &g->walk_cap, g->nwalk + 1, sizeof(*g->walk));
	g->walk[g->nwalk++] = w;
	return 0;
}

static int on_strings(void *ctx, const struct span *strs, size_t n)
{
	struct engine *g = ctx;
	struct bcache *c = &g->bc;
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
static void keep_candidate(struct engine *g, const struct usage_rec *r)
{
	const struct span f[6] = { r->record_id, r->tenant, r->item,
				   r->status, r->unit, r->dims };
	struct crec *c;
	int k;

	xgrow((void **)&g->cands, &g->cands_cap, g->ncands + 1,
	      sizeof(*g->cands));
	c = &g->cands[g->ncands++];
	memset(c, 0, sizeof(*c));
	c->path = g->cur_path;
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
	struct engine *g = ctx;
	struct bcache *c = &g->bc;
	const char *why;
	const struct item *it;
	struct adm a;
	uint64_t key;

	if (agg_count(g->candkeys)) {
		key = batch_key(r->tenant, r->record_id);
		if (agg_get(g->candkeys, &key) != (size_t)-1) {
			keep_candidate(g, r);
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
		c->dims[id[4]] = strtab_put(g->strs, r->dims.p, r->dims.n);
	if (c->ok[id[2]] == -1)
		c->ok[id[2]] = (signed char)status_ok(r->status);
	it = c->item[id[1]] >= 0 ? &g->cat->items[c->item[id[1]]] : NULL;
	why = admit(g, c->tenant[id[0]], it, r->unit, (uint32_t)c->dims[id[4]],
		    &a);
	if (why) {
		add_reject(g, g->cur_path, r->line, r->record_id, r->tenant,
			   why);
		return 0;
	}
	a.ok = c->ok[id[2]];
	return accept(g, &a, r) ? -1 : 0;
}

static int on_batch(void *ctx, const char *path, const void *data, size_t len)
{
	struct engine *g = ctx;
	int rc;

	g->cur_path = strtab_str(g->paths, strtab_put(g->paths, path,
						      strlen(path)));
	rc = batch_decode_ids(data, len, on_strings, on_rec, g);
	if (rc == -1 && !g->failed) {
		g->failed = 1;
		if (!g->e || !g->e->code)
			fail(g, "corrupt record batch of '%s' in the state",
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

/* The next key of a stream into *key; 0, 1 at its end, -1 on error. */
static int knext(struct kstream *k, uint64_t *key)
{
	if (k->bi == k->bn) {
		size_t take = k->n - k->pos;

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
	}
	*key = k->buf[k->bi++];
	return 0;
}

/* A binary min-heap of (key, stream). */
struct hnode {
	uint64_t key;
	size_t s;
};

static void sift_down(struct hnode *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		struct hnode t;

		if (l < n && h[l].key < h[m].key)
			m = l;
		if (l + 1 < n && h[l + 1].key < h[m].key)
			m = l + 1;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static int find_candidates(struct engine *g, struct store *s)
{
	struct kmerge m;
	struct hnode *h = NULL;
	size_t n = 0, i;
	uint64_t prev = 0, last_added = 0;
	int have_prev = 0, added_any = 0, rc = -1;

	memset(&m, 0, sizeof(m));
	m.s = s;
	m.e = g->e;
	if (store_batch_ids(s, on_batch_id, &m, g->e))
		goto out;
	h = xmalloc((m.n ? m.n : 1) * sizeof(*h));
	for (i = 0; i < m.n; i++) {
		int r = knext(&m.ks[i], &h[n].key);

		if (r < 0)
			goto bad;
		if (r == 0)
			h[n++].s = i;
	}
	for (i = n; i-- > 0;)
		sift_down(h, n, i);
	while (n > 0) {
		uint64_t key = h[0].key;
		int r;

		if (have_prev && key == prev &&
		    !(added_any && last_added == key)) {
			agg_put(g->candkeys, &key, NULL);
			last_added = key;
			added_any = 1;
		}
		prev = key;
		have_prev = 1;
		r = knext(&m.ks[h[0].s], &h[0].key);
		if (r < 0)
			goto bad;
		if (r == 1)
			h[0] = h[--n];
		sift_down(h, n, 0);
	}
	rc = 0;
	goto out;
bad:
	fail(g, "%s", "cannot read record keys in the state");
out:
	for (i = 0; i < m.n; i++)
		store_blob_close(m.ks[i].b);
	free(m.ks);
	free(h);
	return rc;
}

/* ---- duplicates among the candidates (SPEC 3) ---- */

static const struct engine *sort_g;

static int cmp_bytes(const char *a, size_t na, const char *b, size_t nb)
{
	int c = memcmp(a, b, na < nb ? na : nb);

	if (c)
		return c;
	return na < nb ? -1 : na > nb;
}

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

	memset(&r, 0, sizeof(r));
	r.line = c->line;
	r.record_id.p = c->s[C_RID];
	r.record_id.n = c->n[C_RID];
	r.tenant.p = c->s[C_TENANT];
	r.tenant.n = c->n[C_TENANT];
	r.item.p = c->s[C_ITEM];
	r.item.n = c->n[C_ITEM];
	r.status.p = c->s[C_STATUS];
	r.status.n = c->n[C_STATUS];
	r.unit.p = c->s[C_UNIT];
	r.unit.n = c->n[C_UNIT];
	r.dims.p = c->s[C_DIMS];
	r.dims.n = c->n[C_DIMS];
	r.ts = c->ts;
	r.qty = c->qty;
	return r;
}

static int resolve_candidates(struct engine *g)
{
	struct adm *adm = xcalloc(g->ncands ? g->ncands : 1, sizeof(*adm));
	size_t i, j;
	int rc = -1;

	if (g->ncands > 1)
		qsort(g->cands, g->ncands, sizeof(*g->cands), cmp_cand);
	/* rejected records take no part */
	for (i = 0; i < g->ncands; i++) {
		struct crec *c = &g->cands[i];
		struct usage_rec r = cand_rec(c);
		const char *why;

		why = admit(g, find_tenant(g, r.tenant),
			    catalog_item(g->cat, r.item.p, r.item.n), r.unit,
			    strtab_put(g->strs, r.dims.p, r.dims.n), &adm[i]);
		if (why) {
			c->dead = 1;
			add_reject(g, c->path, c->line, r.record_id, r.tenant,
				   why);
		}
		adm[i].ok = status_ok(r.status);
	}
	for (i = 0; i < g->ncands; i = j) {
		struct crec *w;
		struct usage_rec r;

		while (i < g->ncands && g->cands[i].dead)
			i++;
		if (i == g->ncands)
			break;
		w = &g->cands[i];
		for (j = i + 1; j < g->ncands; j++) {
			struct crec *d = &g->cands[j];
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
			add_reject(g, d->path, d->line, dr.record_id, dr.tenant,
				   usage_reject_name(REJ_DUPLICATE_CONFLICT));
		}
		r = cand_rec(w);
		if (accept(g, &adm[i], &r))
			goto out;
	}
	rc = 0;
out:
	free(adm);
	return rc;
}

/* ---- the ordered walk ---- */

static int cmp_walk(const void *pa, const void *pb)
{
	const struct engine *g = sort_g;
	const struct wrec *a = pa, *b = pb;

	if (a->tenant != b->tenant)
		return a->tenant < b->tenant ? -1 : 1;
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return cmp_bytes(g->rids + a->rid_off, a->rid_n, g->rids + b->rid_off,
			 b->rid_n);
}

static int walk(struct engine *g)
{
	size_t i;

	sort_g = g;
	if (g->nwalk > 1)
		qsort(g->walk, g->nwalk, sizeof(*g->walk), cmp_walk);
	for (i = 0; i < g->nwalk; i++)
		if (consume(g, &g->walk[i]))
			return -1;
	return 0;
}

/* Tenants, their accounts and packages, and who needs the walk. */
static void setup_tenants(struct engine *g)
{
	const struct catalog *cat = g->cat;
	const char *force = getenv("SETTLE_FORCE_WALK");
	int walk_all = force && strcmp(force, "1") == 0;
	size_t i, n;

	g->tenants = xmalloc((cat->naccounts ? cat->naccounts : 1) *
			     sizeof(*g->tenants));
	for (i = 0; i < cat->naccounts; i++)
		g->tenants[i] = cat->accounts[i].tenant;
	if (cat->naccounts > 1)
		qsort(g->tenants, cat->naccounts, sizeof(*g->tenants),
		      cmp_str);
	for (i = n = 0; i < cat->naccounts; i++)
		if (n == 0 || strcmp(g->tenants[n - 1], g->tenants[i]) != 0)
			g->tenants[n++] = g->tenants[i];
	g->ntenants = n;
	g->ti = xcalloc(n ? n : 1, sizeof(*g->ti));
	/* accounts are sorted by (tenant, currency) */
	for (i = 0; i < cat->naccounts; i++) {
		struct span t = { cat->accounts[i].tenant,
				  strlen(cat->accounts[i].tenant) };
		struct tenant_info *ti = &g->ti[find_tenant(g, t)];

		if (ti->nacct++ == 0)
			ti->acct0 = i;
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
			ti->walk = 1;
	}
	sort_cat = cat;
	for (i = 0; i < n; i++) {
		if (g->ti[i].npkgs > 1)
			qsort(g->ti[i].pkgs, g->ti[i].npkgs, sizeof(size_t),
			      cmp_pkg_order);
		if (walk_all)
			g->ti[i].walk = 1;
	}
}


struct engine *engine_load(struct store *s, const struct catalog *cat,
			   struct err *e)
{
	struct engine *g = xcalloc(1, sizeof(*g));

	g->cat = cat;
	g->e = e;
	g->paths = strtab_new();
	g->strs = strtab_new();
	g->candkeys = agg_new(sizeof(uint64_t));
	g->lines = agg_new(sizeof(struct line_key));
	g->pus = agg_new(sizeof(struct pu_key));
	g->pps = agg_new(sizeof(struct pp_key));
	g->pcounts = agg_new(sizeof(int32_t));
	setup_tenants(g);
	if (store_files(s, on_file, g, e) ||
	    store_rejects(s, on_stored_reject, g, e) ||
	    find_candidates(g, s) ||
	    store_batches(s, on_batch, g, e) ||
	    resolve_candidates(g) || walk(g))
		goto fail;
	/* only the aggregates are needed from here on */
	free(g->rids);
	g->rids = NULL;
	free(g->walk);
	g->walk = NULL;
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
	int k;

	if (!g)
		return;
	for (i = 0; i < g->nrej; i++) {
		free(g->rej[i].record_id);
		free(g->rej[i].tenant);
	}
	for (i = 0; i < g->ncands; i++)
		for (k = 0; k < 6; k++)
			free(g->cands[i].s[k]);
	free(g->cands);
	for (i = 0; i < g->ntenants; i++)
		free(g->ti[i].pkgs);
	free(g->ti);
	free(g->covers);
	free(g->rej);
	free(g->tenants);
	strtab_free(g->paths);
	strtab_free(g->strs);
	agg_free(g->candkeys);
	free(g->group_of);
	free(g->rids);
	free(g->walk);
	free(g->bc.tenant);
	free(g->bc.item);
	free(g->bc.dims);
	free(g->bc.ok);
	agg_free(g->lines);
	free(g->la);
	agg_free(g->pus);
	free(g->pu);
	agg_free(g->pps);
	free(g->pp);
	free(g->ps);
	agg_free(g->pcounts);
	free(g->pc);
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

