/* ledger: settlement (SPEC section 7) — closing periods and drafts.
 *
 * A close makes a period final: it numbers its invoices (numbers never
 * change once given), issues an adjustment for every final invoice that
 * changed since the period's last close, re-settles the earlier final
 * periods whose outputs changed, and writes the files under OUT/YYYY-MM/.
 * What it records (periods, invoices, lines, adjustments) is final.h's;
 * the balance and arrears rules are balance.h's. A draft records nothing.
 *
 * Every function returns 0, or ST_ERROR with e filled. */
#ifndef LEDGER_H
#define LEDGER_H

#include <stddef.h>

#include "catalog.h"
#include "dec.h"
#include "engine.h"
#include "err.h"
#include "outdig.h"
#include "store.h"

/* The adjustment total of one currency in one period. */
struct ledger_sum {
	char currency[4];
	dec_t delta;            /* sum of the total rows' deltas */
	int minor;              /* the currency's minor digits */
};

/* What a close did (or, dry, would do) to one period. */
struct ledger_period {
	int period;
	int changed;            /* its files changed: it gets a new version */
	size_t invoices;        /* invoices of the period */
	size_t numbered;        /* invoices numbered by this close */
	size_t revised;         /* final invoices that changed */
	size_t adjustments;     /* adjustments issued by this close */
	struct ledger_sum *sums; /* per currency, by code (owned) */
	size_t nsums;
	size_t arrears;         /* accounts in arrears after it */
};

struct ledger_result {
	int was_final;          /* the period had been closed before */
	int changed;            /* the state changed (else: "no changes") */
	size_t resettled;       /* earlier final periods re-settled */
	size_t invoices;        /* invoices of the period */
	size_t adjustments;     /* adjustments issued by this close */
	size_t arrears;         /* accounts in arrears after the close */
	size_t files_written;   /* output files whose bytes changed */
	struct ledger_period *periods; /* each period settled, in order: the
					* earlier final ones, then p (owned) */
	size_t nperiods;
};

/* Frees res->periods. */
void ledger_result_release(struct ledger_result *res);

/* SHA-256 of everything a close depends on besides the earlier closes:
 * the config (cfg: the digest of the catalog the close uses, catalog.h,
 * never the files read again), the current usage files (path, content,
 * state), and this settle's version (version.h). */
int ledger_inputs(struct store *s, const unsigned char cat[32],
		  unsigned char sha[32], struct err *e);
/* The same, and into cfg the digest of the config and settle's version
 * alone (engine_opts.config, for resume.h). */
int ledger_inputs_cfg(struct store *s, const unsigned char cat[32],
		      unsigned char sha[32], unsigned char cfg[32],
		      struct err *e);
/* That cfg alone, from the catalog's digest. */
void ledger_config(const unsigned char cat[32], unsigned char cfg[32]);

/* Sets *yes when closing p again cannot change anything: p and every
 * earlier final period were last changed by a close with these inputs,
 * and their files in outdir/YYYY-MM/ are exactly what the state says.
 * Lets a rerun with no change skip rating altogether. (A close that
 * changes nothing leaves the state untouched, inputs included, so after
 * an input change that changes no output the next close rates again.)
 * seen: the close's folder digests (outdig.h: each folder hashed once, or
 * taken by its stamps), or NULL (hashed here). */
int ledger_unchanged(struct store *s, int p, const unsigned char inputs[32],
		     const char *outdir, struct outdig *seen, int *yes,
		     struct err *e);

/* Closes period p: re-settles every earlier final period whose outputs
 * changed (in period order), then settles p, in one transaction; records
 * the bytes of every file it renders (store_written_put) and what each
 * period's close saw (final_period_mark); then writes the outputs under
 * outdir/YYYY-MM/. dry: the same work, rolled back, and no file written.
 * g must be loaded from s with cat; inputs is ledger_inputs() of this
 * close. Fills *res (release it, also on error). The files of each
 * period are replaced as one step (report.h). On ST_ERROR nothing is
 * committed; ST_PARTIAL: committed (res filled), but a period's files
 * could not be put in place (e says which and why; the same close puts
 * them in place). */
int ledger_close(struct store *s, const struct catalog *cat,
		 struct engine *g, int p, const unsigned char inputs[32],
		 const char *outdir, int dry, struct ledger_result *res,
		 struct err *e);

/* After a close skipped by ledger_unchanged: records on p and every
 * earlier final period that a close saw the current file log (status's
 * staleness), in its own transaction. */
int ledger_mark(struct store *s, const struct catalog *cat, int p,
		struct err *e);

struct ledger_draft {
	size_t invoices;        /* invoices of the period */
	size_t files_written;   /* output files whose bytes changed */
	char dir[4096];         /* the folder written: OUT/YYYY-MM/draft */
};

/* Writes the drafts of period p (invoice_no DRAFT, status draft, version
 * 1, balances from the final invoices as the state holds them) under
 * outdir/YYYY-MM/draft/. Changes no state. g must be loaded from s with
 * cat. Fills *res. */
int ledger_draft(struct store *s, const struct catalog *cat,
		 struct engine *g, int p, const char *outdir,
		 struct ledger_draft *res, struct err *e);

#endif
