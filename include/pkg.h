/* pkg: package consumption and alerts (SPEC section 6), with no store and
 * no engine: the rules alone, so they can be tested alone.
 *
 * A pkg_book holds what consumption needs of a catalog's packages: which
 * items each one covers, and each one's state (quota left, its alert).
 * pkg_order puts a tenant's packages in consumption order; pkg_consume
 * consumes one ok record from them and says what each package covered,
 * what was forgiven and what is left for pay-as-you-go.
 *
 * Invariants:
 *  - only a limited package's state is ever read or written, and only
 *    for a record inside its validity that it covers: records that can
 *    meet no limited package may be consumed on several threads at once;
 *  - records that may meet a limited package must be consumed one at a
 *    time, per tenant in (ts, record_id) order (the SPEC's order): the
 *    book does not sort;
 *  - the book does not own the packages or items it was made from; they
 *    must outlive it. */
#ifndef PKG_H
#define PKG_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "dec.h"
#include "err.h"

/* One package's state during consumption. */
struct pkg_state {
	dec_t left;         /* package units left: the quota at first */
	int alerted;        /* the alert has fired (once, never again) */
	int64_t alert_ts;   /* ts of the record that fired it */
	dec_t alert_left;   /* units left just after that record */
};

struct pkg_book {
	const struct package *pkgs; /* [npkgs] (not owned) */
	size_t npkgs, nitems;
	unsigned char *covers;      /* [pkg * nitems + item]: 1 when the
				     * package covers the item (owned) */
	struct pkg_state *st;       /* [npkgs] (owned) */
	dec_t alert_pct;            /* alert when left <= quota * pct / 100 */
};

/* Fills b for pkgs[0..npkgs) and items[0..nitems) (item codes are what
 * packages name). Every package starts with its whole quota left. */
void pkg_book_init(struct pkg_book *b, const struct package *pkgs,
		   size_t npkgs, const struct item *items, size_t nitems,
		   dec_t alert_pct);
/* Frees what b holds (not the packages); b may be all zero. */
void pkg_book_release(struct pkg_book *b);

/* Sorts idx[0..n), indexes into pkgs, into consumption order: (priority,
 * valid_to, purchased_at, package_id), each ascending. */
void pkg_order(const struct package *pkgs, size_t *idx, size_t n);

/* One ok record: q price units of item (an index into the book's items)
 * at instant ts. */
struct pkg_rec {
	int64_t ts;
	dec_t q;
	size_t item;
};

/* What one package covered of a record. */
struct pkg_use {
	size_t pkg;         /* index into the book's packages */
	dec_t qty;          /* price units covered (may be 0 when the last
			     * units left pay for less than 0.000001) */
	dec_t units;        /* package units used */
};

/* What a record came to: covered + forgiven + rest = q. rest is billable
 * or uncovered, as the account says (not the book's business). */
struct pkg_result {
	dec_t covered, forgiven, rest;
	size_t nuse;        /* uses[0..nuse) were filled, in order */
};

/* Consumes record r from the packages order[0..n) (indexes into the
 * book, in pkg_order's order: a tenant's packages), skipping those not
 * valid at r->ts, not covering r->item or with nothing left. A package
 * needs q * unit_cost units (half up to 6 decimals); with fewer left it
 * covers left / unit_cost (down to 6 decimals), uses all it has left, and
 * the rest goes on (split) or is forgiven (forgive). An unlimited package
 * covers all that reaches it. A limited package's alert fires the first
 * time its units left fall to alert_pct of its quota or below.
 * uses must have room for n. Returns 0, or -1 with e filled when a
 * product or quotient overflows; then uses[0..res->nuse) is what was
 * consumed before, and the rest of res is unset. */
int pkg_consume(struct pkg_book *b, const size_t *order, size_t n,
		const struct pkg_rec *r, struct pkg_use *uses,
		struct pkg_result *res, struct err *e);

#endif
