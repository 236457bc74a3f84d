/* carry: what each final period leaves of the history to the next close
 * (issue 14: a close costs what its month holds), so that balances,
 * arrears and the close guard read one period's invoices and the carry of
 * the last final period before it instead of every earlier invoice.
 *
 * The carry of final period q holds, per (tenant, currency) with a final
 * invoice of a period <= q:
 * - total: the sum of the current totals of those invoices (what
 *   balance_before subtracts for the next period, SPEC 7);
 * - the period and number of its first one (what the close guard asks);
 * - the arrears walk (SPEC 7: credits pay invoices oldest first) cut at
 *   `credit`, the credits it was last trimmed with: `open` lists, oldest
 *   first, a suffix of its invoices with a total above 0 that holds every
 *   one credits of `credit` leave not fully paid (once carry_trim ran,
 *   exactly those: the first is the oldest unpaid one), and `left` is
 *   what those credits left after paying the ones before the suffix.
 *
 * Why it is exact: the walk pays positive invoices oldest first, so for
 * credits C the oldest unpaid one is the first whose running sum of
 * positive totals exceeds C; for C >= credit every invoice left out of
 * `open` is paid (its running sum is <= credit) and paying them leaves
 * left + (C - credit). For C < credit the carry cannot say (carry_trim
 * returns 1) and the caller reads the history. An account never trimmed
 * (trimmed 0) lists every positive invoice in `open`.
 *
 * A carry is kept (tables carry_period and carry_acct, the store's
 * upgrade to version 5: schema.c) only by a close that changed
 * something, inside its transaction, for every period it settled; the
 * rows of a period whose outputs changed and of every later one are dropped
 * in the same transaction, because their sums include its old totals. So
 * a row is there only while every invoice up to its period is what it
 * was made from. Only the carries of the last 3 months up to the period
 * closed are kept (ledger.c: closing the next month or a recent one
 * again); no row (a state upgraded from 4, a stale later period)
 * means: read the history (final.h), as SETTLE_FULL_REPLAY=1 always does.
 *
 * Functions touching the state return 0 or ST_ERROR with e filled. */
#ifndef CARRY_H
#define CARRY_H

#include <stddef.h>
#include <stdint.h>

#include "dec.h"
#include "err.h"
#include "final.h"
#include "store.h"

/* An invoice not fully paid by the credits its account was trimmed with. */
struct carry_open {
	int period;
	int64_t number;
	dec_t total;            /* > 0 */
};

/* One account's carry. */
struct carry_acct {
	char *tenant;           /* owned */
	char currency[4];
	dec_t total;            /* its final invoices' totals, summed */
	int first_period;       /* its first final invoice */
	int64_t first_number;
	int trimmed;            /* credit and left hold */
	dec_t credit, left;
	struct carry_open *open;  /* owned, oldest first */
	size_t nopen, capopen;
};

/* A period's carry, accounts sorted by (tenant, currency) as strcmp's. */
struct carry {
	int period;
	struct carry_acct *a;
	size_t n;
};

void carry_release(struct carry *c);

/* ---- the arithmetic (no state) ---- */

/* Adds to a its invoice `number` of period p (later than every one it
 * has) with total t: 0, or -1 when the sum of totals overflows (a is
 * then unusable: read the history, whose error names the account). */
int carry_add(struct carry_acct *a, int p, int64_t number, dec_t t);

/* Trims a's open list at credits c (opening balance and payments before
 * the as_of in question): drops the invoices c pays, oldest first. 0;
 * 1 when c is below the credits a was trimmed with (the carry cannot
 * say: read the history); -1 when a sum overflows. a is unchanged
 * unless 0 is returned. */
int carry_trim(struct carry_acct *a, dec_t c);

/* The account of (tenant, currency) in c, NULL when it has none. */
const struct carry_acct *carry_find(const struct carry *c,
				    const char *tenant, const char *currency);

/* ---- building one ---- */

/* The carry of period p, into *out: prev (the carry of the last final
 * period before p; NULL: every invoice up to p is read instead) plus p's
 * own invoices as the state holds them now, read through f. An account's
 * new positive invoice is appended to its open list, which keeps the
 * list a suffix of its positive invoices that holds every one not fully
 * paid at `credit` (carry_trim then walks it). take: prev's accounts
 * are moved into *out, not copied (prev is left with empty accounts:
 * release it, use it no more). 0 (*overflow 1 when a sum overflows: no
 * carry, read the history) or ST_ERROR. Release *out also on error. */
int carry_next(struct final *f, struct carry *prev, int take, int p,
	       struct carry *out, int *overflow, struct err *e);

/* ---- the state ---- */

/* The carry of period q into *c; *found 0 (c empty) when it has none. */
int carry_load(struct store *s, int q, struct carry *c, int *found,
	       struct err *e);

/* The carry of the latest final period before `before` (INT32_MAX: of
 * the latest one), as carry_load; *found 0 also when there is no final
 * period before it (then *none 1: there is no history to read). */
int carry_load_before(struct store *s, int before, struct carry *c,
		      int *found, int *none, struct err *e);

/* The invoice-number prefix of final period q, asked once per period
 * (final_period_get) and kept in px; prefix when q has no row yet (the
 * period being closed the first time). NULL with e filled on a state error. */
struct carry_prefixes {
	int *period;
	char (*prefix)[80];
	size_t n;
};
const char *carry_prefix(struct final *f, struct carry_prefixes *px, int q,
			 const char *prefix, struct err *e);
void carry_prefixes_release(struct carry_prefixes *px);

/* final_accounts (final.h) from the carry of the latest final period
 * when it has one (one row per account instead of every invoice), else
 * final_accounts itself: the same calls in the same order. */
int carry_accounts(struct store *s,
		   int (*fn)(void *ctx, const char *tenant,
			     const char *currency, const char *invoice_no),
		   void *ctx, struct err *e);

/* Inside the close's transaction: drops the carry of p and of every
 * period after it (p's outputs changed: their sums include its old
 * totals). */
int carry_drop_from(struct store *s, int p, struct err *e);

/* Inside the close's transaction: drops the carry of every period
 * before p (no longer needed: a close that would read one reads the
 * history instead). */
int carry_drop_before(struct store *s, int p, struct err *e);

/* Inside the close's transaction: replaces the carry of c->period by c. */
int carry_save(struct store *s, const struct carry *c, struct err *e);

#endif
