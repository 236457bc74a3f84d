/* filter: the price-group filter language of prices.csv (SPEC section 3,
 * "prices.csv", column filter), and matching it against a record's dims.
 *
 * A filter is "" (matches all) or predicates joined by ';', each
 * KEY=VALUE. VALUE is an interval when it starts with '(' or '[': it
 * must then end with ')' or ']' and hold exactly one ',', its bounds are
 * decimals (dec.h), either may be empty (unbounded), and the interval may
 * not be empty; any other VALUE is exact text. A predicate holds for canonical dims
 * ("k=v;k=v", keys sorted and distinct; record.h) when the key is there
 * and its value equals the text, or parses as a decimal inside the
 * interval.
 *
 * Matching runs once per distinct (item, dims) pair of a rating, so it
 * allocates nothing and reads the dims in place. */
#ifndef FILTER_H
#define FILTER_H

#include <stddef.h>

#include "dec.h"

/* One predicate of a filter: key=value (exact text) or a numeric interval. */
struct pred {
	char *key;
	int interval;      /* 0: exact match against value */
	char *value;       /* exact text, when !interval */
	int has_lo, lo_incl;
	int has_hi, hi_incl;
	dec_t lo, hi;
};

/* What a well-formed interval is: the reason filter_parse gives for a
 * value that starts with a bracket but is not one. */
#define FILTER_MALFORMED "an interval is (a,b], [a,b), (a,b) or [a,b] " \
	"with numbers or an empty bound"

/* Parses a filter text into *preds (n of them; NULL and 0 for ""), owned
 * by the caller (filter_free). Returns 0; or -1 with *preds NULL, *n 0
 * and a short constant reason in *why ("empty predicate", "predicate
 * without '='", "empty key", "bad interval bound", "empty interval"); or
 * -2 likewise with FILTER_MALFORMED in *why, for a value that starts with
 * '(' or '[' and is no interval ("(1080,", "[a]", "(1,2,3)"). */
int filter_parse(const char *text, struct pred **preds, size_t *n,
		 const char **why);

/* Frees preds[0..n) and the array; NULL does nothing. */
void filter_free(struct pred *preds, size_t n);

/* 1 if every predicate of preds[0..n) holds for the canonical dims text
 * dims[0..len) ("" for none); 1 for n == 0. */
int filter_holds(const struct pred *preds, size_t n, const char *dims,
		 size_t len);

#endif
