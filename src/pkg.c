/* pkg: package consumption and alerts (SPEC section 6). */
#include "pkg.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "banned.h"

void pkg_book_init(struct pkg_book *b, const struct package *pkgs,
		   size_t npkgs, const struct item *items, size_t nitems,
		   dec_t alert_pct)
{
	size_t i;

	memset(b, 0, sizeof(*b));
	b->pkgs = pkgs;
	b->npkgs = npkgs;
	b->nitems = nitems;
	b->alert_pct = alert_pct;
	b->st = xcalloc(npkgs ? npkgs : 1, sizeof(*b->st));
	b->covers = xcalloc(npkgs * nitems + 1, 1);
	/* one table look-up per package and record, no string compare */
	for (i = 0; i < npkgs * nitems; i++)
		b->covers[i] = (unsigned char)catalog_package_covers(
			&pkgs[i / nitems], items[i % nitems].code);
	for (i = 0; i < npkgs; i++)
		b->st[i].left = pkgs[i].quota;
}

void pkg_book_release(struct pkg_book *b)
{
	free(b->covers);
	free(b->st);
	memset(b, 0, sizeof(*b));
}

/* Compares packages through pointers, so that the comparison needs no
 * context (qsort passes none): the pointer is the key. */
static int cmp_pkg_order(const void *pa, const void *pb)
{
	const struct package *a = *(const struct package *const *)pa;
	const struct package *b = *(const struct package *const *)pb;

	if (a->priority != b->priority)
		return a->priority < b->priority ? -1 : 1;
	if (a->valid_to != b->valid_to)
		return a->valid_to < b->valid_to ? -1 : 1;
	if (a->purchased_at != b->purchased_at)
		return a->purchased_at < b->purchased_at ? -1 : 1;
	return strcmp(a->id, b->id);
}

void pkg_order(const struct package *pkgs, size_t *idx, size_t n)
{
	const struct package **v;
	size_t i;

	if (n < 2)
		return;
	v = xmalloc(n * sizeof(*v));
	for (i = 0; i < n; i++)
		v[i] = &pkgs[idx[i]];
	/* package ids are unique: a total order, whatever qsort does */
	qsort(v, n, sizeof(*v), cmp_pkg_order);
	for (i = 0; i < n; i++)
		idx[i] = (size_t)(v[i] - pkgs);
	free(v);
}

static int overflow(struct err *e, const char *what)
{
	err_set(e, ST_ERROR, "%s overflows", what);
	return -1;
}

/* Fires p's alert when its units left are at alert_pct of its quota or
 * below for the first time: left <= quota * pct / 100, compared exactly
 * in 128 bits. */
static void check_alert(const struct pkg_book *b, const struct package *p,
			struct pkg_state *st, int64_t ts)
{
	if (!st->alerted && (dec_wide)st->left * 100 <=
	    (dec_wide)p->quota * b->alert_pct / DEC_ONE) {
		st->alerted = 1;
		st->alert_ts = ts;
		st->alert_left = st->left;
	}
}

/* What limited package p (state st) covers of rem price units: *cov
 * price units for *units package units. */
static int limited_cover(const struct package *p, const struct pkg_state *st,
			 dec_t rem, dec_t *cov, dec_t *units, struct err *e)
{
	dec_t need;

	if (dec_mul(rem, p->unit_cost, 6, DEC_HALF_UP, &need))
		return overflow(e, "package units");
	if (st->left >= need) {
		*cov = rem;
		*units = need;
		return 0;
	}
	/* exhausted: all it has left pays for left / unit_cost, rounded
	 * down so that it never pays for more than it has */
	if (dec_div(st->left, p->unit_cost, 6, DEC_DOWN, cov))
		return overflow(e, "package cover");
	*units = st->left;
	return 0;
}

int pkg_consume(struct pkg_book *b, const size_t *order, size_t n,
		const struct pkg_rec *r, struct pkg_use *uses,
		struct pkg_result *res, struct err *e)
{
	dec_t rem = r->q;
	size_t k;

	/* covered and forgiven never exceed q: plain sums cannot overflow */
	res->covered = res->forgiven = 0;
	res->nuse = 0;
	for (k = 0; k < n && rem > 0; k++) {
		size_t pi = order[k];
		const struct package *p = &b->pkgs[pi];
		struct pkg_state *st = &b->st[pi];
		struct pkg_use *u;

		if (r->ts < p->valid_from || r->ts >= p->valid_to ||
		    !b->covers[pi * b->nitems + r->item])
			continue;
		if (!p->unlimited && st->left <= 0)
			continue;
		u = &uses[res->nuse];
		u->pkg = pi;
		if (p->unlimited) {
			if (dec_mul(rem, p->unit_cost, 6, DEC_HALF_UP,
				    &u->units))
				return overflow(e, "package units");
			u->qty = rem;
		} else if (limited_cover(p, st, rem, &u->qty, &u->units, e)) {
			return -1;
		}
		res->nuse++;
		res->covered += u->qty;
		rem -= u->qty;
		if (p->unlimited)
			break;
		st->left -= u->units;
		check_alert(b, p, st, r->ts);
		if (rem > 0 && p->forgive) {
			res->forgiven = rem;
			rem = 0;
		}
	}
	res->rest = rem;
	return 0;
}
