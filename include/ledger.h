/* ledger: settlement (SPEC section 7) — final periods, invoice numbers,
 * versions and adjustments, the balance ledger and arrears.
 *
 * It keeps, in the state file, every final period (its invoice-number
 * prefix, how many closes changed it, and the SHA-256 of its outputs), each
 * final invoice (number, version, current total) with its current lines,
 * and every adjustment issued. */
#ifndef LEDGER_H
#define LEDGER_H

#include <stddef.h>

#include "catalog.h"
#include "dec.h"
#include "engine.h"
#include "err.h"
#include "store.h"

struct ledger_result {
	int was_final;          /* the period had been closed before */
	int changed;            /* the state changed (else: "no changes") */
	size_t resettled;       /* earlier final periods re-settled */
	size_t invoices;        /* invoices of the period */
	size_t adjustments;     /* adjustments issued by this close */
	size_t arrears;         /* accounts in arrears after the close */
	size_t files_written;   /* output files whose bytes changed */
};

/* SHA-256 of everything a close depends on besides the earlier closes:
 * the config files of cfgdir and the current usage files (path, content,
 * state), and this settle's version. */
int ledger_inputs(struct store *s, const char *cfgdir, unsigned char sha[32],
		  struct err *e);

/* Sets *yes when closing p again cannot change anything: p and every
 * earlier final period were last changed by a close with these inputs,
 * and their files in outdir/YYYY-MM/ are exactly what the state says.
 * Lets a rerun with no change skip rating altogether. (A close that
 * changes nothing leaves the state untouched, inputs included, so after
 * an input change that changes no output the next close rates again.) */
int ledger_unchanged(struct store *s, int p, const unsigned char inputs[32],
		     const char *outdir, int *yes, struct err *e);

/* Closes period p: re-settles every earlier final period whose outputs
 * changed (in period order), then settles p, in one transaction; then
 * writes the outputs under outdir/YYYY-MM/. g must be loaded from s with
 * cat; inputs is ledger_inputs() of this close. Returns 0, or ST_ERROR
 * with e filled (nothing committed). */
int ledger_close(struct store *s, const struct catalog *cat,
		 struct engine *g, int p, const unsigned char inputs[32],
		 const char *outdir, struct ledger_result *res, struct err *e);

/* balance_before of accounts accts[0..n) for period p, into out[0..n):
 * opening balance + payments before p's as_of - current totals of final
 * invoices of earlier periods (one query for all). Returns 0 or
 * ST_ERROR. */
int ledger_balances_before(struct store *s, const struct catalog *cat,
			   const struct account *const *accts, size_t n, int p,
			   dec_t *out, struct err *e);

/* Calls fn for each final period: period, version, invoices. */
int ledger_periods(struct store *s,
		   int (*fn)(void *ctx, int period, int version,
			     long invoices, long adjustments),
		   void *ctx, struct err *e);

#endif
