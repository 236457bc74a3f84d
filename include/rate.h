/* rate: the tier maths of SPEC section 5, for one invoice line.
 *
 * Given a price group, the month's usage U and billable part B (both in
 * price units), computes the exact amount as a 12-decimal wide value,
 * rounds it once to the currency's minor unit, and lists the billed
 * slices for the `tiers` column. */
#ifndef RATE_H
#define RATE_H

#include <stddef.h>

#include "catalog.h"
#include "dec.h"
#include "err.h"

struct slice {
	dec_t qty;
	dec_t unit_price;
};

struct rated {
	dec_wide exact;    /* amount before rounding (12 decimals) */
	dec_t amount;      /* rounded to it->minor digits */
	dec_t flat;        /* the flat fees in exact (documents map them as
			    * line charges, doc.h) */
	struct slice *slices; /* billed slices in tier order (owned; free) */
	size_t nslices;
	int overflow;      /* set when rate_line failed because of overflow */
};

/* Rates one line: item it (model, basis, bound, block size, minor digits),
 * group g (named in messages) with the tiers of its version v (the one of
 * the line's period), usage u and billable b (0 <= b <= u), rounding mode.
 * Returns 0 and fills out (free out->slices with free()), or ST_ERROR with
 * e filled (and out->overflow set when the amount overflows: the caller,
 * who knows tenant and period, may say so better). */
int rate_line(const struct item *it, const struct price_group *g,
	      const struct price_version *v, dec_t u, dec_t b,
	      enum dec_round mode, struct rated *out, struct err *e);

/* Writes the `tiers` text ("10000@0.15;5000@0.1") of slices to buf of
 * size cap; returns the length, or -1 if it does not fit. */
int rate_format_tiers(const struct slice *s, size_t n, char *buf, size_t cap);

#endif
