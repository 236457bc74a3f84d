/* walk: the ordered walk (SPEC 6 consumption order). Records that may meet
 * a limited package are kept compact per part, sorted by (tenant, ts,
 * record_id) on the part's own thread, then consumed in one merged order
 * on one thread: only there does package state change. */
#include <string.h>

#include "engine_int.h"
#include "banned.h"

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
	return eng_cmp_bytes((const char *)ra + 1, ra[0], (const char *)rb + 1,
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
static void wsort(const struct part *w, struct wpack *v, size_t n,
		  int depth)
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
void walk_sort(struct part *w)
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
int walk_run(struct engine *g)
{
	size_t pos[ENGINE_MAX_THREADS] = { 0 }, k;
	const struct wpack *wp;
	struct wrec x;

	/* the decoders sorted theirs; the first part, when it did not
	 * decode on a thread or took candidates, is sorted here */
	walk_sort(g->r);
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
		x.period = eng_period_of(g->r, wp->ts);
		if (eng_consume(g->r, &x))
			return -1;
	}
}
