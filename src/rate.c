/* rate: the tier maths of SPEC section 5. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "rate.h"
#include "mem.h"
#include "banned.h"

/* dec_wide_add refuses sums beyond +-10^36; products built here by hand
 * (package blocks) are held to the same bound. */
#define WIDE_LIMIT ((dec_wide)1000000000000000000LL * \
		    (dec_wide)1000000000000000000LL)

static const char *code_of(const struct item *it)
{
	return it->code ? it->code : "";
}

static int overflow(const struct item *it, dec_t b, struct err *e)
{
	char q[DEC_MAX_TEXT];

	dec_format(b, q);
	return err_set(e, ST_ERROR,
		       "amount overflows for item '%s' (billable quantity %s)",
		       code_of(it), q);
}

/* exact += qty * price, checked. */
static int add_product(dec_wide *exact, dec_t qty, dec_t price)
{
	return dec_wide_add(*exact, dec_wide_mul(qty, price), exact);
}

static void push_slice(struct rated *out, dec_t qty, dec_t price)
{
	out->slices[out->nslices].qty = qty;
	out->slices[out->nslices].unit_price = price;
	out->nslices++;
}

/* G(c) - G(a) for 0 <= a <= c: the units of (a, c] in each tier, and the
 * flat fee of every tier that c reaches but a does not (a <= from < c),
 * so a fee the first a units already paid is not paid again. */
static int graduated(const struct price_version *g, dec_t a, dec_t c,
		     struct rated *out)
{
	size_t i;

	out->slices = xmalloc(g->ntiers * sizeof(*out->slices));
	for (i = 0; i < g->ntiers; i++) {
		const struct tier *t = &g->tiers[i];
		dec_t lo = a > t->from ? a : t->from;
		dec_t hi = (!t->open && t->to < c) ? t->to : c;

		if (hi <= lo)
			continue;
		/* both are non-negative, so hi - lo cannot overflow */
		if (add_product(&out->exact, hi - lo, t->unit_price))
			return -1;
		if (a <= t->from && t->flat_fee &&
		    (dec_wide_add(out->exact, dec_wide_from(t->flat_fee),
				  &out->exact) ||
		     dec_add(out->flat, t->flat_fee, &out->flat)))
			return -1;
		push_slice(out, hi - lo, t->unit_price);
	}
	return 0;
}

/* V(x): upper holds from < x <= to (x = 0 in the first tier), lower holds
 * from <= x < to; an open tier has no upper end. NULL if none holds x. */
static const struct tier *volume_tier(const struct price_version *g,
				      int bound_lower, dec_t x)
{
	size_t i;

	if (!bound_lower && x == 0)
		return &g->tiers[0];
	for (i = 0; i < g->ntiers; i++) {
		const struct tier *t = &g->tiers[i];

		if (bound_lower) {
			if (x >= t->from && (t->open || x < t->to))
				return t;
		} else {
			if (x > t->from && (t->open || x <= t->to))
				return t;
		}
	}
	return NULL;
}

static int package(const struct item *it, const struct tier *t, dec_t b,
		   struct rated *out)
{
	/* b and block_size share the scale, so the block count is an
	 * integer quotient of their raw values, rounded up. */
	int64_t blocks = b / it->block_size + (b % it->block_size != 0);
	dec_wide price = dec_wide_from(t->unit_price);
	dec_wide mag = price < 0 ? -price : price;

	if (mag && blocks > WIDE_LIMIT / mag)
		return -1;
	out->exact = price * blocks;
	if (t->flat_fee && dec_wide_add(out->exact, dec_wide_from(t->flat_fee),
					&out->exact))
		return -1;
	out->flat = t->flat_fee;
	out->slices = xmalloc(sizeof(*out->slices));
	push_slice(out, b, t->unit_price);
	return 0;
}

int rate_line(const struct item *it, const struct price_group *pg,
	      const struct price_version *g, dec_t u, dec_t b,
	      enum dec_round mode, struct rated *out, struct err *e)
{
	char qb[DEC_MAX_TEXT], qu[DEC_MAX_TEXT];
	const struct tier *t;
	int rc = ST_OK;

	out->exact = 0;
	out->amount = 0;
	out->flat = 0;
	out->slices = NULL;
	out->nslices = 0;
	out->overflow = 0;
	if (b < 0 || b > u) {
		dec_format(b, qb);
		dec_format(u, qu);
		return err_set(e, ST_ERROR,
			       "bad billable quantity '%s' for item '%s' "
			       "(usage %s)", qb, code_of(it), qu);
	}
	if (!g || !g->ntiers)
		return err_set(e, ST_ERROR, "no tiers in price group '%s' "
			       "of item '%s'", pg->filter ? pg->filter : "",
			       code_of(it));
	if (b == 0)
		return ST_OK;

	switch (it->model) {
	case MODEL_GRADUATED:
		if (it->basis_total ? graduated(g, u - b, u, out)
				    : graduated(g, 0, b, out))
			goto overflow;
		break;
	case MODEL_VOLUME:
		t = volume_tier(g, it->bound_lower, it->basis_total ? u : b);
		if (!t) {
			dec_format(it->basis_total ? u : b, qb);
			rc = err_set(e, ST_ERROR, "no tier holds quantity %s "
				     "in price group '%s' of item '%s'", qb,
				     pg->filter ? pg->filter : "", code_of(it));
			goto fail;
		}
		if (add_product(&out->exact, b, t->unit_price) ||
		    (t->flat_fee &&
		     dec_wide_add(out->exact, dec_wide_from(t->flat_fee),
				  &out->exact)))
			goto overflow;
		out->flat = t->flat_fee;
		out->slices = xmalloc(sizeof(*out->slices));
		push_slice(out, b, t->unit_price);
		break;
	case MODEL_PACKAGE:
		if (g->ntiers != 1 || !g->tiers[0].open ||
		    it->block_size <= 0) {
			rc = err_set(e, ST_ERROR, "package item '%s' needs one "
				     "open tier and a positive block_size",
				     code_of(it));
			goto fail;
		}
		if (package(it, &g->tiers[0], b, out))
			goto overflow;
		break;
	default:
		rc = err_set(e, ST_ERROR, "unknown price model %d of item '%s'",
			     (int)it->model, code_of(it));
		goto fail;
	}

	if (dec_wide_round(out->exact, it->minor, mode, &out->amount))
		goto overflow;
	return ST_OK;

overflow:
	rc = overflow(it, b, e);
	out->overflow = 1;
fail:
	free(out->slices);
	out->slices = NULL;
	out->nslices = 0;
	out->exact = 0;
	out->amount = 0;
	out->flat = 0;
	return rc;
}

int rate_format_tiers(const struct slice *s, size_t n, char *buf, size_t cap)
{
	char q[DEC_MAX_TEXT], p[DEC_MAX_TEXT];
	size_t len = 0, i;

	if (!cap)
		return -1;
	for (i = 0; i < n; i++) {
		size_t ql = dec_format(s[i].qty, q);
		size_t pl = dec_format(s[i].unit_price, p);
		size_t need = (i ? 1 : 0) + ql + 1 + pl;

		if (need >= cap - len)
			return -1;
		if (i)
			buf[len++] = ';';
		memcpy(buf + len, q, ql);
		len += ql;
		buf[len++] = '@';
		memcpy(buf + len, p, pl);
		len += pl;
	}
	buf[len] = '\0';
	return len > INT_MAX ? -1 : (int)len;
}
