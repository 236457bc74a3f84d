/* dup: duplicate records (SPEC 3 duplicates). Pass 1 finds the record
 * keys (hash of tenant and record_id) seen more than once without holding
 * the records; pass 2 (part.c's on_rec) sets every record with such a
 * key aside whole; at the end the candidates are
 * resolved exactly. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "mem.h"
#include "banned.h"

/* ---- pass 1: keys seen twice, by merging the batches' sorted keys ---- */

struct kstream {
	struct store_blob *b;
	size_t n, pos;          /* keys in the batch, keys read */
	uint64_t buf[1024];
	size_t bn, bi;          /* keys in buf, next one */
	/* with two ranges, their streams share the connection: each read
	 * takes mu (store.c opens it SQLITE_OPEN_NOMUTEX); else NULL */
	pthread_mutex_t *mu;
};

struct kmerge {
	struct engine *g;
	struct store *s;
	struct kstream *ks;        /* one per batch of g->batches */
	size_t n, cap, bcap;
	struct err *e;
};

static int on_batch_id(void *ctx, const struct store_batch *b)
{
	struct kmerge *m = ctx;
	struct engine *g = m->g;
	struct kstream *k;

	if (b->nrec == 0)
		return 0;
	xgrow((void **)&m->ks, &m->cap, m->n + 1, sizeof(*m->ks));
	xgrow((void **)&g->batches, &m->bcap, m->n + 1, sizeof(*g->batches));
	k = &m->ks[m->n];
	memset(k, 0, sizeof(*k));
	k->n = b->nrec;
	k->b = store_keys_open(m->s, b->id, m->e);
	if (!k->b)
		return -1;
	g->batches[m->n].path = strtab_str(g->paths, strtab_put(
		g->paths, b->path, strlen(b->path)));
	g->batches[m->n].max_ts = b->ranged ? b->max_ts : INT64_MAX;
	g->nbatches = ++m->n;
	return 0;
}

/* Makes the next key of a stream k->buf[k->bi]: 0, 1 at its end, -1 on
 * error. */
static int kfill(struct kstream *k)
{
	size_t take = k->n - k->pos;
	int f;

	if (k->bi < k->bn)
		return 0;
	if (take == 0)
		return 1;
	if (take > sizeof(k->buf) / sizeof(k->buf[0]))
		take = sizeof(k->buf) / sizeof(k->buf[0]);
	if (k->mu)
		pthread_mutex_lock(k->mu);
	f = store_blob_read(k->b, k->buf, take * sizeof(uint64_t),
			    k->pos * sizeof(uint64_t));
	if (k->mu)
		pthread_mutex_unlock(k->mu);
	if (f)
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
	struct cand_at *at;     /* (key, batch) of every copy of a key
				 * seen twice (a batch may repeat) */
	size_t nat, atcap;
	int rc;
};

/* An open-addressing set of nonzero keys; 0 marks an empty slot. Each
 * key keeps the stream (batch) it was first seen in. */
struct kset {
	uint64_t *slot;
	uint32_t *first;        /* [cap] */
	size_t cap, used;       /* cap a power of 2 */
};

/* Doubles s's slots, placing its keys again. */
static void kset_grow(struct kset *s)
{
	size_t oc = s->cap, m, j;
	uint64_t *old = s->slot;
	uint32_t *ofirst = s->first;

	s->cap *= 2;
	s->slot = xcalloc(s->cap, sizeof(*s->slot));
	s->first = xmalloc(s->cap * sizeof(*s->first));
	for (m = 0; m < oc; m++) {
		if (!old[m])
			continue;
		j = (size_t)old[m] & (s->cap - 1);
		while (s->slot[j])
			j = (j + 1) & (s->cap - 1);
		s->slot[j] = old[m];
		s->first[j] = ofirst[m];
	}
	free(old);
	free(ofirst);
}

/* Adds key (not 0), first seen in stream bi, to s: 1 when it was there
 * already (*first: the stream it was first seen in), else 0. */
static int kset_add(struct kset *s, uint64_t key, uint32_t bi,
		    uint32_t *first)
{
	size_t j;

	if (2 * (s->used + 1) > s->cap)
		kset_grow(s);
	j = (size_t)key & (s->cap - 1);
	while (s->slot[j] && s->slot[j] != key)
		j = (j + 1) & (s->cap - 1);
	if (s->slot[j]) {
		*first = s->first[j];
		return 1;
	}
	s->slot[j] = key;
	s->first[j] = bi;
	s->used++;
	return 0;
}

/* Reads the keys of stream k below end (0: to the stream's end) into
 * set; a key seen before in the slice goes to dups. *zero counts the
 * keys 0, which the set cannot hold. Returns 0, or -1 on a read error. */
static void at_add(struct krange *r, uint64_t key, size_t bi)
{
	xgrow((void **)&r->at, &r->atcap, r->nat + 1, sizeof(*r->at));
	r->at[r->nat].key = key;
	r->at[r->nat++].batch = bi;
}

static int slice_stream(struct krange *r, uint32_t bi, uint64_t end,
			struct kset *set, int *zero, uint32_t *zfirst)
{
	struct kstream *k = &r->ks[bi];
	uint32_t first = 0;
	int f;

	while ((f = kfill(k)) == 0) {
		uint64_t key = k->buf[k->bi];

		if (end && key >= end)
			break;
		k->bi++;
		if (key == 0 && (*zero)++ == 0)
			*zfirst = bi;
		if (key == 0 ? *zero > 1 : kset_add(set, key, bi, &first)) {
			agg_put(r->dups, &key, NULL);
			/* which batches hold it (the first again for a third
			 * copy: duplicates are dropped when sorted) */
			at_add(r, key, key == 0 ? *zfirst : first);
			at_add(r, key, bi);
		}
	}
	return f < 0 ? -1 : 0;
}

/* Finds the keys seen twice in r's share, one slice at a time: a slice
 * of every stream (keys are hashes, so slices hold about the same number
 * of keys) goes into an open-addressing set small enough for the cache.
 * Each key is read once and looked up once: no merge order is needed to
 * find equal keys. */
static void *merge_range(void *arg)
{
	struct krange *r = arg;
	struct kset set = { NULL, NULL, 1 << 12, 0 };
	uint64_t sl;
	uint32_t zfirst = 0;
	size_t i;

	set.slot = xmalloc(set.cap * sizeof(*set.slot));
	set.first = xmalloc(set.cap * sizeof(*set.first));
	r->rc = -1;
	for (sl = r->s0; sl < r->s1; sl++) {
		/* the slice's end; the last one runs to the streams' end */
		uint64_t end = sl + 1 < (1ULL << r->bits) ?
				       (sl + 1) << (64 - r->bits) : 0;
		int zero = 0;

		memset(set.slot, 0, set.cap * sizeof(*set.slot));
		set.used = 0;
		for (i = 0; i < r->n; i++)
			if (slice_stream(r, (uint32_t)i, end, &set, &zero,
					 &zfirst))
				goto out;
	}
	r->rc = 0;
out:
	free(set.slot);
	free(set.first);
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

/* Shares the streams of m between the nr (1 or 2) ranges r: keys below
 * 2^63 to r[0], the others to r[1], in slices of 2^bits; with two, their
 * reads take mu. r[0] gathers its duplicates into dups0. Returns 0, or
 * -1 on a read error. */
static int share_streams(struct kmerge *m, struct krange *r, size_t nr,
			 unsigned bits, struct agg *dups0,
			 pthread_mutex_t *mu)
{
	size_t i, j;

	for (j = 0; j < nr; j++) {
		r[j].ks = xcalloc(m->n ? m->n : 1, sizeof(*r[j].ks));
		r[j].n = m->n;
		r[j].bits = bits;
		r[j].s0 = j * ((1ULL << bits) / nr);
		r[j].s1 = (j + 1) * ((1ULL << bits) / nr);
		r[j].dups = j ? agg_new(sizeof(uint64_t)) : dups0;
	}
	for (i = 0; i < m->n; i++) {
		size_t mid = m->ks[i].n;

		if (nr == 2 && lower_bound(&m->ks[i], 1ULL << 63, &mid))
			return -1;
		r[0].ks[i].b = r[1 % nr].ks[i].b = m->ks[i].b;
		r[0].ks[i].mu = r[1 % nr].ks[i].mu = nr == 2 ? mu : NULL;
		r[0].ks[i].pos = 0;
		r[0].ks[i].n = mid;
		if (nr == 2) {
			r[1].ks[i].pos = mid;
			r[1].ks[i].n = m->ks[i].n;
		}
	}
	return 0;
}

/* Runs merge_range on the nr ranges, the second on a thread of its own
 * when one can be started. Returns 0, or -1 when a range failed. */
static int run_ranges(struct krange *r, size_t nr)
{
	pthread_t tid;
	int threaded = 0;
	size_t j;

	if (nr == 2 && pthread_create(&tid, NULL, merge_range, &r[1]) == 0)
		threaded = 1;
	merge_range(&r[0]);
	if (nr == 2 && threaded)
		pthread_join(tid, NULL);
	else if (nr == 2)
		merge_range(&r[1]);
	for (j = 0; j < nr; j++)
		if (r[j].rc)
			return -1;
	return 0;
}

static int cmp_cand_at(const void *pa, const void *pb)
{
	const struct cand_at *a = pa, *b = pb;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->batch < b->batch ? -1 : a->batch > b->batch;
}

/* Which batches hold each candidate key (g->cand_at, sorted, each pair
 * once), from what the ranges noted, so that a close knows before
 * decoding the files holding a candidate and whether rating from a
 * later instant would miss a copy. */
static void gather_at(struct engine *g, struct krange *r, size_t nr)
{
	size_t j, i, n = 0;

	for (j = 0; j < nr; j++)
		n += r[j].nat;
	g->cand_at = xmalloc((n ? n : 1) * sizeof(*g->cand_at));
	for (j = 0; j < nr; j++) {
		if (r[j].nat)
			memcpy(g->cand_at + g->ncand_at, r[j].at,
			       r[j].nat * sizeof(*r[j].at));
		g->ncand_at += r[j].nat;
	}
	if (g->ncand_at > 1)
		qsort(g->cand_at, g->ncand_at, sizeof(*g->cand_at),
		      cmp_cand_at);
	for (i = n = 0; i < g->ncand_at; i++)
		if (!n || g->cand_at[n - 1].key != g->cand_at[i].key ||
		    g->cand_at[n - 1].batch != g->cand_at[i].batch)
			g->cand_at[n++] = g->cand_at[i];
	g->ncand_at = n;
}

int engine_dups_split(const struct engine *g, int64_t from)
{
	size_t i, j;

	for (i = 0; i < g->ncand_at; i = j) {
		int before = 0, after = 0;

		for (j = i; j < g->ncand_at &&
			    g->cand_at[j].key == g->cand_at[i].key; j++) {
			if (g->batches[g->cand_at[j].batch].max_ts < from)
				before = 1;
			else
				after = 1;
		}
		if (before && after)
			return 1;
	}
	return 0;
}

/* Keys seen twice among all batches. Keys are hashes, so the space
 * splits evenly: below 2^63 and from it up are searched on two threads
 * when there are two cores (a mutex of ours serialises the blob reads:
 * the connection has no mutex of its own, store.c). */
int dup_find_candidates(struct engine *g, struct store *s)
{
	struct kmerge m;
	struct krange r[2];
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	size_t nr = g->opts.threads > 1 ? 2 : 1, i, j, total = 0;
	unsigned bits = 1;
	int rc = -1;

	memset(&m, 0, sizeof(m));
	memset(r, 0, sizeof(r));
	m.g = g;
	m.s = s;
	m.e = g->e;
	if (store_batch_ids(s, on_batch_id, &m, g->e))
		goto out;
	/* slices of about 16 k keys: a set of 32 k slots, 256 KiB */
	for (i = 0; i < m.n; i++)
		total += m.ks[i].n;
	while (bits < 40 && (total >> bits) > (1 << 14))
		bits++;
	if (share_streams(&m, r, nr, bits, g->candkeys, &mu) || run_ranges(r, nr)) {
		eng_fail(g, "%s", "cannot read record keys in the state");
		goto out;
	}
	if (nr == 2)
		for (i = 0; i < agg_count(r[1].dups); i++)
			agg_put(g->candkeys, agg_key(r[1].dups, i), NULL);
	gather_at(g, r, nr);
	rc = 0;
out:
	for (i = 0; i < m.n; i++)
		store_blob_close(m.ks[i].b);
	free(m.ks);
	for (j = 0; j < nr; j++) {
		free(r[j].ks);
		free(r[j].at);
	}
	if (nr == 2)
		agg_free(r[1].dups);
	pthread_mutex_destroy(&mu);
	return rc;
}

/* ---- duplicates among the candidates (SPEC 3) ---- */

/* (tenant, record_id, path, line): the winner of a group comes first. */
static int cmp_cand(const void *pa, const void *pb)
{
	const struct crec *a = pa, *b = pb;
	int c = eng_cmp_bytes(a->s[C_TENANT], a->n[C_TENANT], b->s[C_TENANT],
			  b->n[C_TENANT]);

	if (c)
		return c;
	c = eng_cmp_bytes(a->s[C_RID], a->n[C_RID], b->s[C_RID], b->n[C_RID]);
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

/* Checks every candidate against the config as a record: a rejected
 * one is dead (rejected records take no part in the duplicates rule);
 * adm[i] is what the config says of candidate i. */
static void admit_candidates(struct engine *g, struct adm *adm)
{
	struct part *pt = g->r;
	size_t i;

	for (i = 0; i < pt->ncands; i++) {
		struct crec *c = &pt->cands[i];
		struct usage_rec r = cand_rec(c);
		const char *why;

		why = eng_admit(pt, eng_find_tenant(g, r.tenant),
				catalog_item(g->cat, r.item.p, r.item.n), NULL,
				r.unit,
				strtab_put(pt->strs, r.dims.p, r.dims.n),
				r.ts, &adm[i]);
		if (why) {
			c->dead = 1;
			eng_add_reject(pt, c->path, c->line, r.record_id,
				       r.tenant, why, &c->ts);
		}
		adm[i].ok = eng_status_ok(r.status);
	}
}

static int same_identity(const struct crec *a, const struct crec *b)
{
	return eng_cmp_bytes(a->s[C_TENANT], a->n[C_TENANT], b->s[C_TENANT],
			     b->n[C_TENANT]) == 0 &&
	       eng_cmp_bytes(a->s[C_RID], a->n[C_RID], b->s[C_RID],
			     b->n[C_RID]) == 0;
}

/* Settles the live candidates after winner w (of item it) with its
 * identity, up to the first with another: an identical repeat is
 * counted, a conflicting one rejected. Returns the index after them. */
static size_t settle_group(struct engine *g, size_t wi, const struct item *it)
{
	struct part *pt = g->r;
	const struct crec *w = &pt->cands[wi];
	size_t j;

	for (j = wi + 1; j < pt->ncands && same_identity(&pt->cands[j], w);
	     j++) {
		struct crec *d = &pt->cands[j];
		struct usage_rec dr;

		if (d->dead)
			continue;
		d->dead = 1;
		if (same_meaning(d, w, it)) {
			g->duplicates++;
			eng_period_count(pt, eng_period_of(pt, d->ts))
				->duplicates++;
			continue;
		}
		dr = cand_rec(d);
		eng_add_reject(pt, d->path, d->line, dr.record_id, dr.tenant,
			       usage_reject_name(REJ_DUPLICATE_CONFLICT),
			       &d->ts);
	}
	return j;
}

int dup_resolve_candidates(struct engine *g)
{
	struct part *pt = g->r;
	struct adm *adm = xcalloc(pt->ncands ? pt->ncands : 1, sizeof(*adm));
	size_t i, j;
	int rc = -1;

	if (pt->ncands > 1)
		qsort(pt->cands, pt->ncands, sizeof(*pt->cands), cmp_cand);
	admit_candidates(g, adm);
	/* sorted, the first live candidate of an identity wins */
	for (i = 0; i < pt->ncands; i = j) {
		struct usage_rec r;

		while (i < pt->ncands && pt->cands[i].dead)
			i++;
		if (i == pt->ncands)
			break;
		j = settle_group(g, i, adm[i].it);
		r = cand_rec(&pt->cands[i]);
		if (eng_accept(pt, &adm[i], &r))
			goto out;
	}
	rc = 0;
out:
	free(adm);
	return rc;
}


const char **engine_dup_paths(const struct engine *g, size_t *n)
{
	const struct part *pt = g->r;
	const char **v = xmalloc((pt->ncands ? pt->ncands : 1) * sizeof(*v));
	size_t i, j;

	*n = 0;
	/* candidates are few; paths are unique pointers of g->paths. The
	 * batches holding a candidate key name them all before decoding
	 * (and when rating skips batches); a decoded candidate's path is
	 * one of them too */
	v = xrealloc(v, (pt->ncands + g->ncand_at + 1) * sizeof(*v));
	for (i = 0; i < pt->ncands + g->ncand_at; i++) {
		const char *p = i < pt->ncands ? pt->cands[i].path :
			g->batches[g->cand_at[i - pt->ncands].batch].path;

		for (j = 0; j < *n && v[j] != p; j++)
			;
		if (j == *n)
			v[(*n)++] = p;
	}
	return v;
}
