/* balance: the balance ledger and arrears rules (SPEC section 7).
 *
 * Per (tenant, currency) account, at a period's as_of (the first instant of
 * the next month in the billing time zone):
 * - balance_before = opening_balance + payments with ts < as_of - current
 *   totals of the account's final invoices of earlier periods;
 * - paid_from_balance = min(total, max(balance_before, 0)), amount_due =
 *   total - paid_from_balance, balance_after = balance_before - total;
 * - an account is in arrears when its balance after a close is below 0.
 *   Credits (opening balance and payments before as_of) pay its invoices
 *   oldest first; the oldest invoice not fully paid sets the suspension
 *   and release dates and so the status (grace, suspended, released).
 *
 * Nothing here writes the state; every function returns 0 or ST_ERROR with
 * e filled (a state read failed, or a sum or date overflows). */
#ifndef BALANCE_H
#define BALANCE_H

#include <stddef.h>

#include "carry.h"
#include "catalog.h"
#include "dec.h"
#include "err.h"
#include "final.h"
#include "report.h"
#include "store.h"

/* The balance_before of accounts accts[0..n) for period p, into
 * out[0..n), with the final invoices as the state holds them (one query
 * for all accounts). */
int balance_before(struct store *s, const struct catalog *cat,
		   const struct account *const *accts, size_t n, int p,
		   dec_t *out, struct err *e);

/* balance_before from the carry prev of the last final period before p
 * (carry.h; NULL: there is none, no final invoice to subtract) instead of
 * the history: the same values. *declined 1 (out partly set) when a sum
 * overflows: then call balance_before, whose error names it. */
int balance_before_carry(const struct catalog *cat, const struct carry *prev,
			 const struct account *const *accts, size_t n, int p,
			 dec_t *out, int *declined);

/* Fills the four balance fields of inv (balance_before, paid_from_balance,
 * amount_due, balance_after) from the invoice's balance_before and total;
 * leaves the others alone. Returns 0, or -1 when balance_after overflows
 * (then it is not set). */
int balance_invoice(struct report_invoice *inv, dec_t before, dec_t total);

/* The issue date of an invoice of period p (the date of p's as_of in
 * the billing time zone) and, unless due is NULL, its due date (+
 * payment_terms_days), as YYYY-MM-DD. 0, or -1 when the due date
 * overflows. */
int balance_dates(const struct catalog *cat, int p, char issue[11],
		  char due[11]);

/* The tax and dates of invoice v of period p (SPEC 7 v2): a final
 * invoice's stored old terms keep its rate, category and dates (dates
 * derived when old has none: an invoice of a version-2 state), a new or
 * draft one (old NULL) takes its account's; net is v's sum of lines and
 * tax = net x rate / 100 rounded once to the currency's minor unit by
 * the settings' rounding. */
int balance_terms(const struct catalog *cat, int p,
		  const struct eng_invoice *v, const struct final_terms *old,
		  struct final_terms *t, struct err *e);

/* Fills every header value of h but its number, status and version:
 * net, tax, total (net + tax), the dates, and the balances from before
 * and that total. Returns 0, or ST_ERROR with e filled when a sum
 * overflows: "balance overflow for tenant 'T' (CUR) in YYYY-MM (opening
 * balance, payments or invoices too large)" (a of period p: the
 * invoice's account). */
int balance_header(struct report_invoice *h, const struct final_terms *t,
		   dec_t before, const struct account *a, int p,
		   struct err *e);

/* The accounts of cat in arrears after period p's close, in cat's
 * account order, into *out and *n: *out is malloc'd for the caller, who
 * frees it also on error (NULL when none); its tenant and currency point
 * into cat. Reads the final invoices of periods up to p through f; prefix
 * is p's invoice-number prefix (p may have no period row yet). */
int balance_arrears(struct final *f, const struct catalog *cat, int p,
		    const char *prefix, struct report_arrears **out,
		    size_t *n, struct err *e);

/* balance_arrears from next, the carry of p (carry_next: the carry of
 * the last final period before p plus p's invoices as recorded) instead
 * of the history: the same rows. Trims next at p's credits for every
 * account of cat (carry_trim), so that it can be kept for the next close;
 * out NULL: only that. *declined 1 (rows and next's trimming partial,
 * still valid carries) when the carry cannot say (credits below those it
 * was trimmed with) or a sum overflows: then build next from the history
 * (carry_next with no prev) and call this again, and failing that call
 * balance_arrears. Otherwise as balance_arrears. */
int balance_arrears_carry(struct final *f, const struct catalog *cat, int p,
			  const char *prefix, struct carry *next,
			  struct report_arrears **out, size_t *n,
			  int *declined, struct err *e);

#endif
