/* final: final periods — the recorded invoices, lines, adjustments and
 * period versions; all SQL touching those tables lives here, but for
 * their CREATE and upgrade steps (schema.h).
 *
 * The tables (period, invoice, invoice_line, adjustment) live in the state
 * file next to the store's own (store.h) and change inside the store's
 * transactions (store_begin/store_commit). Amounts and quantities are dec_t
 * millionths. A period's row says the invoice-number prefix of its first
 * close, how many closes changed it, the SHA-256 of its outputs and the
 * inputs digest of its last close (ledger_inputs); an invoice's row holds
 * its number, version and current total, its lines the current lines, and
 * adjustment rows every adjustment ever issued.
 *
 * Every function returns 0 (or the count or flag it names) on success and
 * ST_ERROR with e filled when SQLite fails, unless it says otherwise.
 * Strings handed to a callback live only until it returns. */
#ifndef FINAL_H
#define FINAL_H

#include <stddef.h>
#include <stdint.h>

#include "dec.h"
#include "engine.h"
#include "err.h"
#include "store.h"

/* The invoice number of the invoice `number` of period p:
 * PREFIX-YYYYMM-NNNNNN, into buf (cap bytes, always NUL-terminated). */
void final_invoice_no(const char *prefix, int p, int64_t number, char *buf,
		      size_t cap);

/* ---- one-shot reads, on the store ---- */

/* The final periods before `before`, ascending, into *out (malloc'd for
 * the caller, NULL when none) and *n. */
int final_periods_before(struct store *s, int before, int **out, size_t *n,
			 struct err *e);

/* The latest final period into *p; *found 0 when there is none. */
int final_latest(struct store *s, int *p, int *found, struct err *e);

/* A final period as status shows it. */
struct final_status {
	int period, version;
	long invoices;
	long adjustments;  /* one per invoice and close, whatever its rows */
	int stale;         /* a file holding a record before its as_of was
			    * added, corrected or forgotten after its last
			    * close (schema 3; always 0 on an older state) */
};

/* Calls fn for each final period, ascending. fn returns 0 to go on;
 * anything else stops the walk and is returned. */
int final_periods(struct store *s,
		  int (*fn)(void *ctx, const struct final_status *p),
		  void *ctx, struct err *e);

/* Calls fn for each final period up to `upto`, ascending, with the
 * digest of its outputs and the inputs of its last close (each NULL when
 * the stored value is not 32 bytes). fn returns 0 to go on; anything else
 * stops the walk and is returned (e untouched). */
int final_closes(struct store *s, int upto,
		 int (*fn)(void *ctx, int period, const unsigned char *digest,
			   const unsigned char *inputs),
		 void *ctx, struct err *e);

/* Calls fn once per (tenant, currency) with the sum of the current totals
 * of its final invoices of periods before `before`, in (tenant, currency)
 * order as bytes (strcmp's). fn returns 0 to go on; anything else stops
 * the walk and is returned. */
int final_totals_before(struct store *s, int before,
			int (*fn)(void *ctx, const char *tenant,
				  const char *currency, dec_t sum),
			void *ctx, struct err *e);

/* Calls fn once per (tenant, currency) that has a final invoice, in
 * (tenant, currency) order, with the number of its first one (earliest
 * period). fn returns 0 to go on; anything else stops the walk and is
 * returned. */
int final_accounts(struct store *s,
		   int (*fn)(void *ctx, const char *tenant,
			     const char *currency, const char *invoice_no),
		   void *ctx, struct err *e);

/* ---- the work of one close ---- */

/* A close's handle on the tables: the statements it runs once per
 * invoice or account are prepared once and kept here. final_new never
 * returns NULL; final_free finalizes them (call it before store_commit or
 * store_rollback) and frees f; NULL does nothing. s must outlive f. */
struct final;
struct final *final_new(struct store *s);
void final_free(struct final *f);

/* A period's row. */
struct final_period {
	char prefix[80];
	int version;               /* closes that changed it */
	unsigned char digest[32];  /* zeros when the stored one is not 32 B */
};

/* Reads period p's row into *out: 1 found, 0 none (out zeroed), or -1
 * with e filled. */
int final_period_get(struct final *f, int p, struct final_period *out,
		     struct err *e);

/* Writes period p's row (insert or replace). */
int final_period_put(struct final *f, int p, const char *prefix,
		     int version, const unsigned char digest[32],
		     const unsigned char inputs[32], struct err *e);

/* Records on period p's row what its last close saw (schema 3, store.h):
 * the file log's sequence number and the period's as_of. */
int final_period_mark(struct final *f, int p, int64_t log_seq, int64_t as_of,
		      struct err *e);

/* A final invoice line as stored. */
struct final_line {
	char *item, *price_group, *tiers;  /* owned */
	dec_t usage_qty, package_qty, forgiven_qty, uncovered_qty,
	      billable_qty, amount;
};

/* What a final invoice keeps with its lines (SPEC 7 v2): net, tax at
 * tax_rate (percent) of category tax_category, and the dates
 * (YYYY-MM-DD) of the close that numbered it. Its total is net + tax.
 * An invoice of a version-2 state has rate 0, category and dates "". */
struct final_terms {
	dec_t net, tax, tax_rate;
	char tax_category[3];
	char issue_date[11], due_date[11];
};

/* A final invoice as stored, with its current lines sorted by (item,
 * price group) as bytes. */
struct final_invoice {
	char *tenant;                      /* owned */
	char currency[4];
	int64_t number;
	int version;
	dec_t total;                       /* net + tax */
	struct final_terms terms;
	struct final_line *lines;          /* owned */
	size_t nlines;
};

/* The invoices of period p, sorted by (tenant, currency) as bytes, into
 * *out (malloc'd; free with final_invoices_release, also on error) and
 * *n. */
int final_invoices_get(struct final *f, int p, struct final_invoice **out,
		       size_t *n, struct err *e);
void final_invoices_release(struct final_invoice *inv, size_t n);

/* Records v as invoice `number`, version `version` of period p, with
 * terms (its total is terms->net + terms->tax): its row (insert or
 * replace) and exactly its lines. v's strings are bound without a copy
 * and read during the call only. */
int final_invoice_put(struct final *f, int p, const struct eng_invoice *v,
		      int64_t number, int version,
		      const struct final_terms *terms, struct err *e);
/* A new invoice for final_invoices_add: v and terms as for
 * final_invoice_put. */
struct final_fresh {
	const struct eng_invoice *v;
	int64_t number;
	int version;
	const struct final_terms *terms;
};

/* final_invoice_put for the n invoices of a, which period p has none of
 * yet for their accounts (new invoices): no lines to delete first, plain
 * inserts of up to 32 rows each, invoices and then their lines across
 * invoices; a row that is there already is an error. */
int final_invoices_add(struct final *f, int p, const struct final_fresh *a,
		       size_t n, struct err *e);

/* Adds one adjustment row: number seq of the invoice of (tenant,
 * currency) in period p, for (item, price group), "" and "tax" for its
 * tax row, "" and "" for the invoice's total row; issue_date
 * (YYYY-MM-DD) is kept with it. */
int final_adjustment_put(struct final *f, int p, const char *tenant,
			 const char *currency, int seq, const char *item,
			 const char *price_group, dec_t old_amount,
			 dec_t new_amount, const char *issue_date,
			 struct err *e);

/* One adjustment row, with the number of the invoice it adjusts. */
struct final_adjustment {
	const char *tenant, *currency, *item, *price_group;
	int seq;
	int64_t number;
	dec_t old_amount, new_amount;
	const char *issue_date;  /* "" for one of a version-2 state */
};

/* Calls fn for every adjustment row of period p (in the order of the
 * table's key). fn returns 0 to go on; anything else stops the walk and is
 * returned. */
int final_adjustments(struct final *f, int p,
		      int (*fn)(void *ctx, const struct final_adjustment *a),
		      void *ctx, struct err *e);

/* Calls fn for every final invoice of periods up to upto, of every
 * account, sorted by (tenant, currency, period) in SQLite's BINARY order
 * (strcmp's, the catalog's order of accounts), with its period, number,
 * total and the prefix of its period (prefix_upto for a period with no
 * row yet: the one being closed). One pass over the invoices instead of
 * one query per account. fn returns 0 to go on; anything else stops the
 * walk and is returned. */
int final_all_invoices(struct final *f, int upto, const char *prefix_upto,
		       int (*fn)(void *ctx, const char *tenant,
				 const char *currency, int period,
				 int64_t number, dec_t total,
				 const char *prefix),
		       void *ctx, struct err *e);

/* Calls fn for every final invoice of period p, sorted by (tenant,
 * currency) as strcmp's, with its number and current total (one period's
 * rows: what carry.h adds to the carry of the period before). fn returns
 * 0 to go on; anything else stops the walk and is returned. */
int final_period_totals(struct final *f, int p,
			int (*fn)(void *ctx, const char *tenant,
				  const char *currency, int64_t number,
				  dec_t total),
			void *ctx, struct err *e);

/* A savepoint named after period p, so that one period's writes can be
 * undone (final_savepoint_undo: ROLLBACK TO, the savepoint stays open) or
 * kept (final_savepoint_keep: RELEASE) inside the close's transaction. */
int final_savepoint(struct final *f, int p, struct err *e);
int final_savepoint_undo(struct final *f, int p, struct err *e);
int final_savepoint_keep(struct final *f, int p, struct err *e);

#endif
