/* final_doc: what a close records with a final period so that its
 * documents (SPEC 12, `settle export`) show what was closed even after
 * the config changes: the seller and payment terms of settings.conf, each
 * invoiced account's buyer fields, tax exemption text and balance
 * figures, the item names, price units and unit codes, the group labels,
 * each line's flat fees (exact) and package usage, and each adjustment's
 * due date. Part of the final module (final.h): all SQL of its doc_*
 * tables lives in src/final_doc.c.
 *
 * The tables are made by the first close that records (CREATE TABLE IF
 * NOT EXISTS inside the close's transaction), so the state's schema stays
 * 3 and a state no close of this settle touched simply has none: a read
 * then finds nothing (*found 0). Rows change only when their values
 * differ, so a close that changes nothing leaves the state byte for byte
 * as it was. Every function returns 0, or ST_ERROR with e filled. */
#ifndef FINAL_DOC_H
#define FINAL_DOC_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "dec.h"
#include "engine.h"
#include "err.h"
#include "report.h"
#include "store.h"

/* What one settle of period p gives to record: the rated period (its
 * invoices, ghosts of vanished ones included), the header values of each
 * of its invoices (parallel to rp->inv) and every adjustment row of the
 * period. */
struct final_doc_src {
	const struct catalog *cat;
	int p;
	const struct eng_period *rp;
	const struct report_invoice *inv;
	const struct report_adjustment *adj;
	size_t nadj;
};

/* Sets *yes when period p has document data. */
int final_doc_has(struct store *s, int p, int *yes, struct err *e);

/* Records the document data of one settle, inside the caller's
 * transaction: parties, names, labels, unit codes and balances always
 * (only rows that differ are written); the lines' flat fees and package
 * usage when `lines` is set (the period's outputs changed, or it has no
 * document data yet), replacing the period's old ones; the due date of
 * every adjustment that has none yet (issue date + payment_terms_days
 * when its total delta is above 0, else ""), which then stays. */
int final_doc_put(struct store *s, const struct final_doc_src *src,
		  int lines, struct err *e);

/* ---- reading, for export ---- */

struct final_doc_account {
	char *tenant;
	char currency[4];
	/* name address city postal_code country tax_id email endpoint
	 * exemption, owned, never NULL */
	char *f[9];
	dec_t balance_before, paid_from_balance;
};

struct final_doc_item {
	char *item, *name, *unit, *unit_code;
};

struct final_doc_group {
	char *item, *price_group, *label;
};

/* A line's flat fees (only lines that have some are stored). */
struct final_doc_flat {
	char *tenant, *item, *price_group;
	char currency[4];
	dec_t flat;
};

struct final_doc_pkg {
	char *tenant, *item, *price_group, *package_id;
	char currency[4];
	dec_t quantity, units;
};

struct final_doc_adj {
	char *tenant;
	char currency[4];
	int seq;
	char due_date[11];
};

/* Everything recorded for one period; each array sorted by its key
 * columns in order, as bytes (strcmp), so look-ups can bisect. */
struct final_doc {
	char *seller[SELLER_NFIELDS];   /* owned */
	int64_t payment_terms_days;
	struct final_doc_account *acc;
	size_t nacc;
	struct final_doc_item *items;
	size_t nitems;
	struct final_doc_group *groups;
	size_t ngroups;
	struct final_doc_flat *flats;
	size_t nflats;
	struct final_doc_pkg *pkgs;
	size_t npkgs;
	struct final_doc_adj *adjs;
	size_t nadjs;
};

/* Reads period p's document data into *out (release it with
 * final_doc_release, also on error); *found 0 when p has none (out
 * left empty). */
int final_doc_get(struct store *s, int p, struct final_doc *out, int *found,
		  struct err *e);
void final_doc_release(struct final_doc *d);

#endif
