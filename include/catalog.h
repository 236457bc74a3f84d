/* catalog: the config directory (SPEC section 3): settings.conf
 * (settings.h), items.csv, prices.csv, accounts.csv, packages.csv,
 * payments.csv, each read as a sheet (sheet.h); price-group filters are
 * filter.h's.
 *
 * catalog_load reads and checks every file before anything else happens.
 * The first error stops it with a message naming file, line (the text line;
 * the header is line 1) and column, e.g.
 *   bad unit_price '1.2.3' at cfg/prices.csv:4 (column unit_price)
 * Every file but settings.conf and payments.csv is required (a header
 * alone means none). Unknown columns and settings keys are not errors:
 * they are kept as warnings (cat->warnings) for the command line to print.
 * All strings are owned by the catalog and freed by catalog_release; no
 * string field is NULL after a successful load ("" when not given).
 *
 * Price versions (SPEC 3, v2): rows of prices.csv with the same (item,
 * filter) form a price group, and those with the same valid_from one
 * version of it. In period P a group prices with its version of the
 * latest valid_from <= P; a group with no version for P takes no part in
 * P (catalog_match_group_in). */
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

/* valid_from empty: the version applies since always */
#define PRICE_ALWAYS INT32_MIN

/* One version of a price group: its tiers (ascending, from 0,
 * contiguous, the last one open). */
struct price_version {
	int32_t from;        /* first period (ts.h numbering) or PRICE_ALWAYS */
	struct tier *tiers;
	size_t ntiers;
	long line;           /* text line of its last row in prices.csv */
};

struct price_group {
	char *filter;        /* text exactly as written; "" matches all */
	char *label;         /* (v2) label column; default the filter text */
	struct pred *preds;  /* its predicates (filter.h) */
	size_t npreds;
	struct price_version *versions; /* ascending from, distinct; >= 1 */
	size_t nversions;
	int32_t first;       /* versions[0].from: no period before is priced */
	long line;           /* text line of its first row in prices.csv */
};

struct item {
	char *code;
	char currency[4];
	char *name;              /* (v2) default the item code */
	char *unit_code;         /* (v2) UN/ECE Rec 20, default "C62" */
	int minor;               /* ISO 4217 minor unit of currency */
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

/* (v2) The buyer on documents, all "" when not given: most accounts give
 * none, and share account_no_doc (8 bytes an account, not 64). */
struct account_doc {
	const char *address, *city, *postal_code, *country, *email, *tax_id;
	const char *endpoint;       /* "scheme:id" */
	const char *tax_exemption;  /* reason text for E, AE, K, G, O */
};

/* Every field "": the doc of an account that gives none. */
extern const struct account_doc account_no_doc;

struct account {
	char *tenant;
	char currency[4];
	int postpaid;
	dec_t opening_balance;   /* may be negative */
	int64_t grace_days;      /* default 15 */
	int64_t retention_days;  /* default 15 */
	char *name;              /* "" when not given */
	/* never NULL: &account_no_doc when the row gives none (also for
	 * an account made up outside a catalog) */
	const struct account_doc *doc;
	dec_t tax_rate;          /* percent 0..100 of the invoice's net */
	char tax_category[3];    /* UNCL5305: S Z E AE K G O */
};

struct package {
	char *id;
	char *tenant;
	char **items;            /* the items' codes, in the catalog's
				  * blocks; NULL when all_items */
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
	/* warnings met while loading, in file order, each without a
	 * "warning: " prefix: "unknown column 'record_round_mod' in
	 * cfg/items.csv (did you mean 'record_round_mode'?)" */
	char **warnings;
	size_t nwarnings;
	/* SHA-256 of the bytes of every config file as read and parsed by
	 * catalog_load (a missing optional file counts as absent), so two
	 * catalogs with equal digests are the same config, and a file edited
	 * after it was read cannot pass for the one this catalog holds */
	unsigned char digest[32];
	/* catalog_read's bytes while only peeked at (catalog_peek); NULL
	 * once parsed (catalog_parse, catalog_load) */
	struct catalog_src *src;
	/* the texts of accounts and packages, back to back in blocks
	 * (catalog.c); a package's tenant and items point at its account's
	 * tenant and the items' codes */
	struct cat_block *strs;
};

/* Loads dir/settings.conf (optional), items.csv, prices.csv, accounts.csv,
 * packages.csv and payments.csv (optional). A required file that is
 * missing: "missing config file 'cfg/packages.csv' (every config file but
 * payments.csv is required; a header alone means none)". Returns 0, or
 * ST_ERROR with e filled and cat left empty (no warnings either). */
int catalog_load(const char *dir, struct catalog *cat, struct err *e);

/* catalog_load in steps, so that a close that can change nothing (cli.c)
 * need not parse 500 000 accounts to find that out. catalog_read reads
 * every file of dir once, in catalog_load's order, into cat->src and
 * their digest into cat->digest (the same as catalog_load's), and
 * returns 0; or 1 when a file cannot be read (cat->digest is then
 * meaningless; catalog_parse reports the error in its place). Nothing is
 * read from dir after it.
 * catalog_parse parses those bytes: 0, or ST_ERROR with e filled and cat
 * left empty, exactly as catalog_load (which is catalog_read, then
 * catalog_parse).
 * catalog_peek parses only settings.conf and each file's header: cat->set
 * and cat->warnings as catalog_parse would set them, no row (no item,
 * account, package or payment), cat->src kept for a catalog_parse
 * later. Only for a config known to load (a close of this settle recorded
 * its digest): the rows of any other may hold errors it does not see. */
struct catalog_src;
int catalog_read(const char *dir, struct catalog *cat);
int catalog_parse(struct catalog *cat, struct err *e);
int catalog_peek(struct catalog *cat, struct err *e);

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
 * canonical dims text ("k=v;k=v", "" for none), or -1 (no_price), versions
 * aside: the engine caches it per (item, dims). */
int catalog_match_group(const struct item *it, const char *dims, size_t len);

/* The index of the first group from index start on whose predicates all
 * hold and that has a version for period p, or -1 (no_price). */
int catalog_match_group_in(const struct item *it, size_t start,
			   const char *dims, size_t len, int32_t p);

/* The version of g for period p: the one of the latest from <= p, or NULL
 * when g has none for p (then g->first > p). */
const struct price_version *catalog_version(const struct price_group *g,
					    int32_t p);

/* 1 if the package covers the item code. */
int catalog_package_covers(const struct package *p, const char *item);

#endif
