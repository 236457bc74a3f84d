/* catalog: the config directory (SPEC section 3): settings.conf
 * (settings.h), items.csv, prices.csv, accounts.csv, packages.csv,
 * payments.csv, each read as a sheet (sheet.h); price-group filters are
 * filter.h's.
 *
 * catalog_load reads and checks every file before anything else happens.
 * The first error stops it with a message naming file, line (the text line;
 * the header is line 1) and column, e.g.
 *   bad unit_price '1.2.3' at cfg/prices.csv:4 (column unit_price)
 * All strings are owned by the catalog and freed by catalog_release. */
#ifndef CATALOG_H
#define CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "dec.h"
#include "err.h"
#include "filter.h"
#include "settings.h"

enum price_model { MODEL_GRADUATED, MODEL_VOLUME, MODEL_PACKAGE };

struct tier {
	dec_t from;
	dec_t to;       /* meaningless when open */
	int open;       /* 1 for the unbounded last tier */
	dec_t unit_price;
	dec_t flat_fee;
};

struct price_group {
	char *filter;        /* text exactly as written; "" matches all */
	struct pred *preds;  /* its predicates (filter.h) */
	size_t npreds;
	struct tier *tiers;
	size_t ntiers;
};

struct item {
	char *code;
	char currency[4];
	int minor;               /* dec_minor_digits(currency) */
	enum price_model model;
	dec_t block_size;        /* package model, default 1 */
	char *usage_unit;
	char *price_unit;        /* default usage_unit */
	dec_t unit_ratio;        /* default 1 */
	int record_round;        /* 0..6, default 6 */
	enum dec_round record_round_mode; /* half_up, up or down */
	int basis_total;         /* tier_basis total */
	int bound_lower;         /* tier_bound lower */
	struct price_group *groups; /* in prices.csv file order */
	size_t ngroups;
};

struct account {
	char *tenant;
	char currency[4];
	dec_t opening_balance;   /* may be negative */
	int postpaid;
	int64_t grace_days;      /* default 15 */
	int64_t retention_days;  /* default 15 */
	char *name;              /* "" when not given */
	dec_t tax_rate; /* percent, SPEC 7 */
	char tax_category[3]; /* UNCL5305: S Z E AE K G O */
};

struct package {
	char *id;
	char *tenant;
	char **items;            /* NULL when all_items */
	size_t nitems;
	int all_items;           /* items = "*" */
	int unlimited;           /* quota empty */
	dec_t quota;
	dec_t unit_cost;         /* default 1, > 0 */
	int64_t priority;        /* default 100 */
	int64_t valid_from, valid_to, purchased_at; /* instants (ts.h) */
	int forgive;             /* overflow forgive (else split) */
};

struct payment {
	char *id;
	char *tenant;
	char currency[4];
	dec_t amount;
	int64_t ts;
};

/* Arrays are sorted: items by code, accounts by (tenant, currency),
 * packages by id, payments by (tenant, currency, ts, id); duplicates of a
 * payment_id are dropped (the first row counts). */
struct catalog {
	struct settings set;
	struct item *items;
	size_t nitems;
	struct account *accounts;
	size_t naccounts;
	struct package *packages;
	size_t npackages;
	struct payment *payments;
	size_t npayments;
};

/* Loads dir/settings.conf (optional), items.csv, prices.csv, accounts.csv,
 * packages.csv (optional) and payments.csv (optional). Returns 0, or
 * ST_ERROR with e filled and cat left empty. */
int catalog_load(const char *dir, struct catalog *cat, struct err *e);

/* SHA-256 over the bytes of every config file of dir (a missing one
 * counts as absent), so two configs with equal digests load the same.
 * Returns 0, or ST_ERROR with e filled when a file cannot be read. */
int catalog_digest(const char *dir, unsigned char sha[32], struct err *e);

/* Frees everything cat holds and leaves it empty. */
void catalog_release(struct catalog *cat);

/* Look-ups by binary search; NULL when absent. */
const struct item *catalog_item(const struct catalog *cat, const char *code,
				size_t len);
const struct account *catalog_account(const struct catalog *cat,
				      const char *tenant, size_t len,
				      const char *currency);
/* 1 if some account has this tenant id. */
int catalog_has_tenant(const struct catalog *cat, const char *tenant,
		       size_t len);

/* The index of the first group of it whose predicates all hold for the
 * canonical dims text ("k=v;k=v", "" for none), or -1 (no_price). */
int catalog_match_group(const struct item *it, const char *dims, size_t len);

/* 1 if the package covers the item code. */
int catalog_package_covers(const struct package *p, const char *item);

#endif
