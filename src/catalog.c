/* catalog: the config directory (SPEC section 3). */
#include "catalog.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "catalog_int.h"
#include "fault.h"
#include "iso4217.h"
#include "mem.h"
#include "sha256.h"
#include "sheet.h"
#include "banned.h"

#define ITEM_CHARS "_.-"
#define TENANT_CHARS "_.:-"

/* ---- a set of strings, for uniqueness checks in file order ------------- */

int cat_strset_add(struct strset *h, const char *s)
{
	size_t before;

	if (!h->t)
		h->t = strtab_new();
	before = strtab_count(h->t);
	strtab_put(h->t, s, strlen(s));
	return strtab_count(h->t) == before;
}

void cat_strset_free(struct strset *h)
{
	strtab_free(h->t);
	h->t = NULL;
}

/* ---- look-ups ---------------------------------------------------------- */

struct key {
	const char *s;
	size_t n;
	const char *cur;  /* NULL: compare the tenant only */
};

static int key_account(const void *k, const void *e)
{
	const struct key *key = k;
	const struct account *a = e;
	int c = cat_spancmp(key->s, key->n, a->tenant);

	if (c || !key->cur)
		return c;
	return strcmp(key->cur, a->currency);
}

static int cmp_item(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->code,
		      ((const struct item *)b)->code);
}

static int cmp_account(const void *a, const void *b)
{
	const struct account *x = a, *y = b;
	int c = strcmp(x->tenant, y->tenant);

	return c ? c : strcmp(x->currency, y->currency);
}

static int cmp_package(const void *a, const void *b)
{
	return strcmp(((const struct package *)a)->id,
		      ((const struct package *)b)->id);
}

static int cmp_payment(const void *a, const void *b)
{
	const struct payment *x = a, *y = b;
	int c = strcmp(x->tenant, y->tenant);

	if (!c)
		c = strcmp(x->currency, y->currency);
	if (!c)
		c = x->ts < y->ts ? -1 : x->ts > y->ts;
	return c ? c : strcmp(x->id, y->id);
}

const struct item *catalog_item(const struct catalog *cat, const char *code,
				size_t len)
{
	return cat_find_item(cat, code, len);
}

const struct account *catalog_account(const struct catalog *cat,
				      const char *tenant, size_t len,
				      const char *currency)
{
	struct key k = { tenant, len, currency };

	if (!cat->naccounts)
		return NULL;
	return bsearch(&k, cat->accounts, cat->naccounts,
		       sizeof(*cat->accounts), key_account);
}

int catalog_has_tenant(const struct catalog *cat, const char *tenant,
		       size_t len)
{
	struct key k = { tenant, len, NULL };

	if (!cat->naccounts)
		return 0;
	return bsearch(&k, cat->accounts, cat->naccounts,
		       sizeof(*cat->accounts), key_account) != NULL;
}

/* The tenant id of tenant's accounts (the catalog's copy), or NULL when
 * it has none. */
static char *tenant_of(const struct catalog *cat, const char *tenant)
{
	struct key k = { tenant, strlen(tenant), NULL };
	const struct account *a;

	if (!cat->naccounts)
		return NULL;
	a = bsearch(&k, cat->accounts, cat->naccounts,
		    sizeof(*cat->accounts), key_account);
	return a ? a->tenant : NULL;
}

int catalog_package_covers(const struct package *p, const char *item)
{
	size_t i;

	if (p->all_items)
		return 1;
	for (i = 0; i < p->nitems; i++)
		if (strcmp(p->items[i], item) == 0)
			return 1;
	return 0;
}

/* ---- items.csv ---------------------------------------------------------- */

enum {
	IT_ITEM, IT_CURRENCY, IT_MODEL, IT_BLOCK, IT_UUNIT, IT_PUNIT, IT_RATIO,
	IT_RROUND, IT_RMODE, IT_BASIS, IT_BOUND, IT_NAME, IT_UNITCODE, IT_NCOLS
};

static const struct sheet_colspec item_cols[IT_NCOLS] = {
	{ "item", 1 }, { "currency", 1 }, { "model", 0 }, { "block_size", 0 },
	{ "usage_unit", 1 }, { "price_unit", 0 }, { "unit_ratio", 0 },
	{ "record_round", 0 }, { "record_round_mode", 0 },
	{ "tier_basis", 0 }, { "tier_bound", 0 }, { "name", 0 },
	{ "unit_code", 0 },
};

/* The v2 columns of an item: name and unit_code, for documents. */
static int parse_item_v2(struct sheet *s, const struct sheet_row *r,
			 struct item *it)
{
	struct sheet_val xn = sheet_col(s, r, IT_NAME);
	struct sheet_val xc = sheet_col(s, r, IT_UNITCODE);

	/* UN/ECE Recommendation 20 codes are 2 or 3 of [A-Z0-9] */
	if (*xc.v && (strlen(xc.v) < 2 || strlen(xc.v) > 3 ||
		      !sheet_code_ok(xc.v, "") ||
		      strspn(xc.v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") !=
			      strlen(xc.v)))
		return sheet_bad_note(xc, "a UN/ECE Recommendation 20 code, "
				      "e.g. MIN, SEC, HUR or C62");
	it->name = xstrdup(*xn.v ? xn.v : it->code);
	it->unit_code = xstrdup(*xc.v ? xc.v : "C62");
	return 0;
}

static int parse_item(struct sheet *s, const struct sheet_row *r,
		      struct item *it, struct strset *seen)
{
	static const char *const models[] = {
		"graduated", "volume", "package", NULL
	};
	static const char *const rmodes[] = { "half_up", "up", "down", NULL };
	static const enum dec_round rmode_val[] = {
		DEC_HALF_UP, DEC_UP, DEC_DOWN
	};
	static const char *const bases[] = { "billable", "total", NULL };
	static const char *const bounds[] = { "upper", "lower", NULL };
	struct sheet_val x = sheet_col(s, r, IT_ITEM), xu, xp;
	int64_t rr;
	int m;

	if (sheet_need(x))
		return ST_ERROR;
	if (!sheet_code_ok(x.v, ITEM_CHARS))
		return sheet_bad(x);
	if (cat_strset_add(seen, x.v))
		return sheet_fail(x.c, x.name, "duplicate item '%s'", SHEET_Q(x.v));
	it->code = xstrdup(x.v);
	if (sheet_val_currency(sheet_col(s, r, IT_CURRENCY), it->currency))
		return ST_ERROR;
	it->minor = iso4217_minor(it->currency);
	if (sheet_val_enum(sheet_col(s, r, IT_MODEL), models,
		     "graduated, volume or package", MODEL_GRADUATED, &m))
		return ST_ERROR;
	it->model = (enum price_model)m;
	if (sheet_val_dec(sheet_col(s, r, IT_BLOCK), DEC_ONE, 1, &it->block_size))
		return ST_ERROR;
	xu = sheet_col(s, r, IT_UUNIT);
	if (sheet_need(xu))
		return ST_ERROR;
	it->usage_unit = xstrdup(xu.v);
	xp = sheet_col(s, r, IT_PUNIT);
	it->price_unit = xstrdup(*xp.v ? xp.v : xu.v);
	if (sheet_val_dec(sheet_col(s, r, IT_RATIO), DEC_ONE, 1, &it->unit_ratio) ||
	    sheet_val_int(sheet_col(s, r, IT_RROUND), DEC_DIGITS, DEC_DIGITS, &rr))
		return ST_ERROR;
	it->record_round = (int)rr;
	if (sheet_val_enum(sheet_col(s, r, IT_RMODE), rmodes,
			   "half_up, up or down", 0, &m))
		return ST_ERROR;
	it->record_round_mode = rmode_val[m];
	if (sheet_val_enum(sheet_col(s, r, IT_BASIS), bases, "billable or total", 0,
		     &it->basis_total) ||
	    sheet_val_enum(sheet_col(s, r, IT_BOUND), bounds, "upper or lower", 0,
		     &it->bound_lower))
		return ST_ERROR;
	return parse_item_v2(s, r, it);
}

static int load_items(struct sheet *s, struct catalog *cat)
{
	struct strset seen = { 0 };
	const struct sheet_row *r;
	struct item *it;
	size_t cap = 0, i;
	int rc = 0;

	for (i = 1; i < s->t.nrows && !rc; i++) {
		if ((rc = sheet_row_at(s, i, &r)))
			break;
		xgrow((void **)&cat->items, &cap, cat->nitems + 1,
		      sizeof(*cat->items));
		it = &cat->items[cat->nitems++];
		memset(it, 0, sizeof(*it));
		rc = parse_item(s, r, it, &seen);
	}
	cat_strset_free(&seen);
	if (!rc && cat->nitems)
		qsort(cat->items, cat->nitems, sizeof(*cat->items), cmp_item);
	return rc;
}

/* Every item needs a price group; the message names its items.csv row. */
static int check_priced(struct sheet *s, const struct catalog *cat)
{
	const struct sheet_row *r;
	const struct item *it;
	struct sheet_val x;
	size_t i;

	for (i = 1; i < s->t.nrows; i++) {
		/* every row passed load_items: only fetched again here */
		if (sheet_row_at(s, i, &r))
			return ST_ERROR;
		x = sheet_col(s, r, IT_ITEM);
		it = cat_find_item(cat, x.v, strlen(x.v));
		if (it && it->ngroups == 0) {
			s->c.line = r->line;
			return sheet_fail(x.c, x.name, "item '%s' has no price in "
				    "prices.csv", SHEET_Q(x.v));
		}
	}
	return 0;
}

/* ---- accounts.csv ------------------------------------------------------ */

enum {
	AC_TENANT, AC_CURRENCY, AC_OPENING, AC_POSTPAID, AC_GRACE, AC_RETENTION,
	AC_NAME, AC_ADDRESS, AC_CITY, AC_POSTAL, AC_COUNTRY, AC_EMAIL, AC_TAXID,
	AC_ENDPOINT, AC_TAXRATE, AC_TAXCAT, AC_EXEMPT, AC_NCOLS
};

static const struct sheet_colspec account_cols[AC_NCOLS] = {
	{ "tenant_id", 1 }, { "currency", 1 }, { "opening_balance", 0 },
	{ "postpaid", 0 }, { "grace_days", 0 }, { "retention_days", 0 },
	{ "name", 0 }, { "address", 0 }, { "city", 0 }, { "postal_code", 0 },
	{ "country", 0 }, { "email", 0 }, { "tax_id", 0 }, { "endpoint", 0 },
	{ "tax_rate", 0 }, { "tax_category", 0 }, { "tax_exemption", 0 },
};

/* tax_rate and tax_category (SPEC 3, v2): an empty rate is the settings'
 * for category S or none, else 0; an empty category is S when the rate is
 * above 0, else O; S needs a rate above 0 and every other category 0. */
static int account_tax(struct sheet *s, const struct sheet_row *r,
		       struct account *a, const struct settings *set)
{
	static const char *const cats[] = {
		"S", "Z", "E", "AE", "K", "G", "O", NULL
	};
	struct sheet_val xr = sheet_col(s, r, AC_TAXRATE);
	struct sheet_val xc = sheet_col(s, r, AC_TAXCAT);
	int c = -1;

	if (*xc.v && sheet_val_enum(xc, cats, "S, Z, E, AE, K, G or O", 0, &c))
		return ST_ERROR;
	if (sheet_val_dec(xr, c <= 0 ? set->tax_rate : 0, 0, &a->tax_rate))
		return ST_ERROR;
	if (a->tax_rate > 100 * DEC_ONE)
		return sheet_bad_want(xr, "0 to 100");
	if (c < 0)
		c = a->tax_rate > 0 ? 0 : 6;
	if (c == 0 && a->tax_rate == 0)
		return sheet_bad_note(xc, "category S needs a tax_rate above 0, "
				      "here or in settings.conf");
	if (c > 0 && a->tax_rate > 0)
		return sheet_bad_note(xr, "only tax_category S has a rate "
				      "above 0");
	memcpy(a->tax_category, cats[c], strlen(cats[c]) + 1);
	return 0;
}

/* A block of account and package texts: one malloc per 1 MiB instead
 * of one per text (a malloc'd "t000123" takes 32 bytes, as much as the
 * text of most accounts' row). */
struct cat_block {
	struct cat_block *next;
	size_t used, cap;
	char text[];
};

#define CAT_BLOCK ((size_t)1 << 20)

/* A copy of v in cat's blocks, freed with the catalog. */
static char *cat_str(struct cat_block **strs, const char *v)
{
	size_t n = strlen(v) + 1;
	struct cat_block *b = *strs;
	char *o;

	if (!b || b->cap - b->used < n) {
		size_t cap = n > CAT_BLOCK ? n : CAT_BLOCK;

		b = xmalloc(sizeof(*b) + cap);
		b->next = *strs;
		b->used = 0;
		b->cap = cap;
		*strs = b;
	}
	o = b->text + b->used;
	memcpy(o, v, n);
	b->used += n;
	return o;
}

/* The empty text every empty optional cell of an account shares: most
 * are empty, and a copy each cost 32 bytes of heap. */
static char empty_str[1];

/* The document fields of every account that gives none. */
const struct account_doc account_no_doc = { "", "", "", "", "", "", "", "" };

/* n bytes aligned for a struct of pointers in cat's blocks, freed with
 * the catalog. */
static void *cat_alloc(struct cat_block **strs, size_t n)
{
	struct cat_block *b = *strs;
	size_t at = b ? (b->used + 7) & ~(size_t)7 : 0;
	void *o;

	if (!b || at > b->cap || b->cap - at < n) {
		b = xmalloc(sizeof(*b) + CAT_BLOCK);
		b->next = *strs;
		b->used = 0;
		b->cap = CAT_BLOCK;
		*strs = b;
		at = 0;
	}
	o = b->text + at;
	b->used = at + n;
	return o;
}

static char *opt_str(struct cat_block **strs, const char *v)
{
	return *v ? cat_str(strs, v) : empty_str;
}

/* The v2 columns of an account: the buyer on documents and its tax. */
static int parse_account_v2(struct sheet *s, const struct sheet_row *r,
			    struct account *a, const struct settings *set,
			    struct cat_block **strs)
{
	struct sheet_val xc = sheet_col(s, r, AC_COUNTRY);
	struct sheet_val xe = sheet_col(s, r, AC_ENDPOINT);
	const char *colon = strchr(xe.v, ':');
	struct account_doc v;

	if (*xc.v && !sheet_country_ok(xc.v))
		return sheet_bad_note(xc, "ISO 3166-1 alpha-2, e.g. DE");
	if (*xe.v && (!colon || colon == xe.v || !colon[1]))
		return sheet_bad_note(xe, "scheme:id, e.g. 0088:5790000435975");
	v.address = sheet_col(s, r, AC_ADDRESS).v;
	v.city = sheet_col(s, r, AC_CITY).v;
	v.postal_code = sheet_col(s, r, AC_POSTAL).v;
	v.country = xc.v;
	v.email = sheet_col(s, r, AC_EMAIL).v;
	v.tax_id = sheet_col(s, r, AC_TAXID).v;
	v.endpoint = xe.v;
	v.tax_exemption = sheet_col(s, r, AC_EXEMPT).v;
	a->doc = &account_no_doc;
	if (*v.address || *v.city || *v.postal_code || *v.country ||
	    *v.email || *v.tax_id || *v.endpoint || *v.tax_exemption) {
		struct account_doc *d = cat_alloc(strs, sizeof(*d));

		d->address = opt_str(strs, v.address);
		d->city = opt_str(strs, v.city);
		d->postal_code = opt_str(strs, v.postal_code);
		d->country = opt_str(strs, v.country);
		d->email = opt_str(strs, v.email);
		d->tax_id = opt_str(strs, v.tax_id);
		d->endpoint = opt_str(strs, v.endpoint);
		d->tax_exemption = opt_str(strs, v.tax_exemption);
		a->doc = d;
	}
	return account_tax(s, r, a, set);
}

/* prev: the tenant of the account before, or NULL. */
/* The duplicate check of accounts.csv. While every account so far came
 * after the one before it in cmp_account's order, a new one that comes
 * after the last cannot equal any earlier one and needs no set (nor, at
 * the end, a sort): most files list their accounts sorted. At the first
 * account out of that order every earlier key goes into the set, and from
 * there on each account is checked against the set, as if it had been
 * used from the first row. */
struct account_seen {
	struct strset set;
	int ordered;  /* accounts[0..n) strictly ascending */
};

/* Adds "tenant,currency" of a (tenant ids hold no comma) to u's set: 1
 * when it was there. */
static int account_key_add(struct account_seen *u, const struct account *a)
{
	char keybuf[SHEET_MAX_CODE + 8];

	snprintf(keybuf, sizeof(keybuf), "%s,%s", a->tenant, a->currency);
	return cat_strset_add(&u->set, keybuf);
}

/* 1 when accounts[n] (its tenant and currency set) repeats one of
 * accounts[0..n). */
static int account_dup(struct account_seen *u, const struct account *accounts,
		       size_t n)
{
	size_t i;

	if (u->ordered) {
		if (!n || cmp_account(&accounts[n - 1], &accounts[n]) < 0)
			return 0;
		u->ordered = 0;
		for (i = 0; i < n; i++)
			(void)account_key_add(u, &accounts[i]);
	}
	return account_key_add(u, &accounts[n]);
}

static int parse_account(struct sheet *s, const struct sheet_row *r,
			 struct account *accounts, size_t n,
			 struct account_seen *seen,
			 const struct settings *set, struct cat_block **strs)
{
	struct account *a = &accounts[n];
	const char *prev = n ? accounts[n - 1].tenant : NULL;
	static const char *const yesno[] = { "yes", "no", NULL };
	struct sheet_val xt = sheet_col(s, r, AC_TENANT);
	struct sheet_val xc = sheet_col(s, r, AC_CURRENCY);
	struct sheet_val xo = sheet_col(s, r, AC_OPENING);
	int m;

	if (sheet_need(xt))
		return ST_ERROR;
	if (!sheet_code_ok(xt.v, TENANT_CHARS))
		return sheet_bad(xt);
	/* accounts of one tenant come together: one copy of its id */
	a->tenant = prev && strcmp(prev, xt.v) == 0 ? (char *)prev :
		    cat_str(strs, xt.v);
	if (sheet_val_currency(xc, a->currency))
		return ST_ERROR;
	if (account_dup(seen, accounts, n))
		return sheet_fail(xc.c, xc.name, "duplicate account for tenant '%s' "
			    "in '%s'", SHEET_Q(a->tenant), a->currency);
	if (*xo.v) {
		if (dec_parse_signed(xo.v, strlen(xo.v),
				     &a->opening_balance) < 0)
			return sheet_bad(xo);
		if (!sheet_minor_ok(a->opening_balance,
			      iso4217_minor(a->currency)))
			return sheet_bad_decimals(xo, a->currency);
	}
	if (sheet_val_enum(sheet_col(s, r, AC_POSTPAID), yesno, "yes or no", 0, &m))
		return ST_ERROR;
	a->postpaid = m == 0;
	if (sheet_val_int(sheet_col(s, r, AC_GRACE), 15, -1, &a->grace_days) ||
	    sheet_val_int(sheet_col(s, r, AC_RETENTION), 15, -1, &a->retention_days))
		return ST_ERROR;
	a->name = opt_str(strs, sheet_col(s, r, AC_NAME).v);
	return parse_account_v2(s, r, a, set, strs);
}

static int load_accounts(struct sheet *s, struct catalog *cat)
{
	struct account_seen seen = { { 0 }, 1 };
	const struct sheet_row *r;
	size_t cap = 0, i;
	int rc = 0;

	for (i = 1; i < s->t.nrows && !rc; i++) {
		if ((rc = sheet_row_at(s, i, &r)))
			break;
		xgrow((void **)&cat->accounts, &cap, cat->naccounts + 1,
		      sizeof(*cat->accounts));
		memset(&cat->accounts[cat->naccounts], 0,
		       sizeof(*cat->accounts));
		rc = parse_account(s, r, cat->accounts, cat->naccounts++,
				   &seen, &cat->set, &cat->strs);
	}
	cat_strset_free(&seen.set);
	/* strictly ascending already: the sort would leave it as it is */
	if (!rc && cat->naccounts && !seen.ordered)
		qsort(cat->accounts, cat->naccounts, sizeof(*cat->accounts),
		      cmp_account);
	return rc;
}

/* ---- packages.csv ------------------------------------------------------ */

enum {
	PK_ID, PK_TENANT, PK_ITEMS, PK_QUOTA, PK_COST, PK_PRIORITY, PK_FROM,
	PK_TO, PK_BOUGHT, PK_OVERFLOW, PK_NCOLS
};

static const struct sheet_colspec package_cols[PK_NCOLS] = {
	{ "package_id", 1 }, { "tenant_id", 1 }, { "items", 1 },
	{ "quota", 0 }, { "unit_cost", 0 }, { "priority", 0 },
	{ "valid_from", 1 }, { "valid_to", 1 }, { "purchased_at", 0 },
	{ "overflow", 0 },
};

/* items: "*" or ';'-separated item codes of items.csv. */
static int package_items(struct sheet_val x, struct catalog *cat,
			 struct package *p)
{
	const char *s = x.v, *end;
	size_t n = 1;
	char *code;
	int rc;

	if (sheet_need(x))
		return ST_ERROR;
	if (strcmp(x.v, "*") == 0) {
		p->all_items = 1;
		return 0;
	}
	/* one entry more than ';'s, in the catalog's blocks: a malloc per
	 * package's list (grown from 16) took 128 bytes for most */
	for (end = s; (end = strchr(end, ';')); end++)
		n++;
	p->items = cat_alloc(&cat->strs, n * sizeof(*p->items));
	for (;;) {
		end = strchr(s, ';');
		if (!end)
			end = s + strlen(s);
		if (end == s)
			return sheet_bad_want(x, "no empty entry");
		if (!cat_find_item(cat, s, (size_t)(end - s))) {
			code = xstrndup(s, (size_t)(end - s));
			rc = sheet_fail(x.c, x.name, "unknown item '%s'", SHEET_Q(code));
			free(code);
			return rc;
		}
		/* the item's own code */
		p->items[p->nitems++] = cat_find_item(cat, s,
						      (size_t)(end - s))->code;
		if (!*end)
			return 0;
		s = end + 1;
	}
}

static int parse_package(struct sheet *s, const struct sheet_row *r,
			 struct catalog *cat, struct package *p,
			 struct strset *seen)
{
	static const char *const overflows[] = { "split", "forgive", NULL };
	struct sheet_val xi = sheet_col(s, r, PK_ID), xt = sheet_col(s, r, PK_TENANT);
	struct sheet_val xq = sheet_col(s, r, PK_QUOTA), xf = sheet_col(s, r, PK_FROM);
	struct sheet_val xto = sheet_col(s, r, PK_TO), xb = sheet_col(s, r, PK_BOUGHT);
	char want[128];

	if (sheet_need(xi))
		return ST_ERROR;
	if (cat_strset_add(seen, xi.v))
		return sheet_fail(xi.c, xi.name, "duplicate package_id '%s'",
			    SHEET_Q(xi.v));
	p->id = cat_str(&cat->strs, xi.v);
	if (sheet_need(xt))
		return ST_ERROR;
	if (!(p->tenant = tenant_of(cat, xt.v)))
		return sheet_fail(xt.c, xt.name, "unknown tenant '%s'", SHEET_Q(xt.v));
	if (package_items(sheet_col(s, r, PK_ITEMS), cat, p))
		return ST_ERROR;
	p->unlimited = !*xq.v;
	if (sheet_val_dec(xq, 0, 0, &p->quota) ||
	    sheet_val_dec(sheet_col(s, r, PK_COST), DEC_ONE, 1, &p->unit_cost) ||
	    sheet_val_int(sheet_col(s, r, PK_PRIORITY), 100, -1, &p->priority) ||
	    sheet_val_ts(xf, &p->valid_from) || sheet_val_ts(xto, &p->valid_to))
		return ST_ERROR;
	if (p->valid_to <= p->valid_from) {
		snprintf(want, sizeof(want), "after valid_from '%s'", SHEET_Q(xf.v));
		return sheet_bad_want(xto, want);
	}
	p->purchased_at = p->valid_from;
	if (*xb.v && sheet_val_ts(xb, &p->purchased_at))
		return ST_ERROR;
	return sheet_val_enum(sheet_col(s, r, PK_OVERFLOW), overflows,
			      "split or forgive", 0, &p->forgive);
}

static int load_packages(struct sheet *s, struct catalog *cat)
{
	struct strset seen = { 0 };
	const struct sheet_row *r;
	struct package *p;
	size_t cap = 0, i;
	int rc = 0;

	for (i = 1; i < s->t.nrows && !rc; i++) {
		if ((rc = sheet_row_at(s, i, &r)))
			break;
		xgrow((void **)&cat->packages, &cap, cat->npackages + 1,
		      sizeof(*cat->packages));
		p = &cat->packages[cat->npackages++];
		memset(p, 0, sizeof(*p));
		rc = parse_package(s, r, cat, p, &seen);
	}
	cat_strset_free(&seen);
	if (!rc && cat->npackages)
		qsort(cat->packages, cat->npackages, sizeof(*cat->packages),
		      cmp_package);
	return rc;
}

/* ---- payments.csv ------------------------------------------------------ */

enum { PY_ID, PY_TENANT, PY_CURRENCY, PY_AMOUNT, PY_TS, PY_NCOLS };

static const struct sheet_colspec payment_cols[PY_NCOLS] = {
	{ "payment_id", 1 }, { "tenant_id", 1 }, { "currency", 1 },
	{ "amount", 1 }, { "ts", 1 },
};

/* Checks a row into p (strings not yet copied: they point into the row). */
static int parse_payment(struct sheet *s, const struct sheet_row *r,
			 const struct catalog *cat, struct payment *p)
{
	struct sheet_val xi = sheet_col(s, r, PY_ID), xt = sheet_col(s, r, PY_TENANT);
	struct sheet_val xc = sheet_col(s, r, PY_CURRENCY);
	struct sheet_val xa = sheet_col(s, r, PY_AMOUNT);

	if (sheet_need(xi) || sheet_need(xt))
		return ST_ERROR;
	if (!catalog_has_tenant(cat, xt.v, strlen(xt.v)))
		return sheet_fail(xt.c, xt.name, "unknown tenant '%s'", SHEET_Q(xt.v));
	if (sheet_val_currency(xc, p->currency))
		return ST_ERROR;
	if (!catalog_account(cat, xt.v, strlen(xt.v), p->currency))
		return sheet_fail(xc.c, xc.name, "no account for tenant '%s' in '%s'",
			    SHEET_Q(xt.v), p->currency);
	if (sheet_need(xa))
		return ST_ERROR;
	if (dec_parse(xa.v, strlen(xa.v), &p->amount) < 0)
		return sheet_bad(xa);
	if (!sheet_minor_ok(p->amount, iso4217_minor(p->currency)))
		return sheet_bad_decimals(xa, p->currency);
	if (sheet_val_ts(sheet_col(s, r, PY_TS), &p->ts))
		return ST_ERROR;
	p->id = (char *)xi.v;
	p->tenant = (char *)xt.v;
	return 0;
}

static int load_payments(struct sheet *s, struct catalog *cat)
{
	struct strset seen = { 0 };
	const struct sheet_row *r;
	struct payment p;
	size_t cap = 0, i;
	int rc = 0;

	for (i = 1; i < s->t.nrows && !rc; i++) {
		memset(&p, 0, sizeof(p));
		rc = sheet_row_at(s, i, &r);
		if (!rc)
			rc = parse_payment(s, r, cat, &p);
		/* A payment_id counts once: its first row. */
		if (rc || cat_strset_add(&seen, p.id))
			continue;
		p.id = xstrdup(p.id);
		p.tenant = xstrdup(p.tenant);
		xgrow((void **)&cat->payments, &cap, cat->npayments + 1,
		      sizeof(*cat->payments));
		cat->payments[cat->npayments++] = p;
	}
	cat_strset_free(&seen);
	if (!rc && cat->npayments)
		qsort(cat->payments, cat->npayments, sizeof(*cat->payments),
		      cmp_payment);
	return rc;
}

/* ---- the whole directory ------------------------------------------------ */

/* The config files in the order they are read, hashed and parsed. */
enum { F_SETTINGS, F_ITEMS, F_PRICES, F_ACCOUNTS, F_PACKAGES, F_PAYMENTS,
       F_NFILES };
static const struct {
	const char *name;
	int optional;
} cfg_files[F_NFILES] = {
	{ "settings.conf", 1 }, { "items.csv", 0 }, { "prices.csv", 0 },
	{ "accounts.csv", 0 }, { "packages.csv", 0 }, { "payments.csv", 1 },
};

/* The bytes of every config file, read once (catalog_read). */
struct catalog_src {
	char *dir;
	struct sheet_bytes f[F_NFILES];
	int nread;         /* files read; the next one failed with rerr */
	struct err rerr;
};

static void src_free(struct catalog_src *src)
{
	int k;

	if (!src)
		return;
	for (k = 0; k < F_NFILES; k++)
		free(src->f[k].buf);
	free(src->dir);
	free(src);
}

int catalog_read(const char *dir, struct catalog *cat)
{
	struct catalog_src *src = xcalloc(1, sizeof(*src));
	struct sha256 md;
	int k;

	memset(cat, 0, sizeof(*cat));
	cat->src = src;
	src->dir = xstrdup(dir);
	sha256_init(&md);
	for (k = 0; k < F_NFILES; k++) {
		struct sheet_bytes *b = &src->f[k];
		struct sheet_ctx c;
		int rc;

		memset(&c, 0, sizeof(c));
		c.e = &src->rerr;
		c.path = sheet_join(dir, cfg_files[k].name);
		rc = sheet_slurp(&c, cfg_files[k].optional, &b->buf, &b->len,
				 &b->absent);
		free((char *)c.path);
		if (rc)
			return 1;
		sheet_digest_add(&md, cfg_files[k].name, b->buf, b->len,
				 b->absent);
		src->nread++;
	}
	sha256_final(&md, cat->digest);
	fault_point("config-read");
	return 0;
}

/* File k's bytes, or the error that stopped catalog_read there (so
 * that a file that cannot be read is reported where catalog_load read it
 * file by file: after the errors of the files before it). */
static int src_file(const struct catalog_src *src, int k,
		    const struct sheet_bytes **b, struct err *e)
{
	if (k >= src->nread) {
		if (e)
			*e = src->rerr;
		return ST_ERROR;
	}
	*b = &src->f[k];
	return 0;
}

/* Drops file k's bytes once parsed (a full parse keeps none). */
static void src_done(struct catalog_src *src, int k, int rows)
{
	if (!rows || k >= src->nread)
		return;
	free(src->f[k].buf);
	src->f[k].buf = NULL;
}

/* Opens file k (header_only unless rows), warns of its unknown columns
 * and hands it to load (skipped for an absent optional file and without
 * rows). */
static int load_sheet(struct catalog_src *src, int k,
		      const struct sheet_colspec *cols, int ncols, int rows,
		      int (*load)(struct sheet *, struct catalog *),
		      struct catalog *cat, struct sheet_warns *w, struct err *e)
{
	const struct sheet_bytes *b;
	struct sheet s;
	int rc;

	if (src_file(src, k, &b, e))
		return ST_ERROR;
	rc = sheet_open(&s, src->dir, cfg_files[k].name, cols, ncols,
			cfg_files[k].optional, b, !rows, e);
	/* the rows are held in s: the bytes can go before they are loaded */
	src_done(src, k, rows);
	if (!rc && !s.absent) {
		sheet_unknown_columns(&s, w);
		if (rows)
			rc = load(&s, cat);
	}
	sheet_close(&s);
	return rc;
}

/* Everything after items.csv and prices.csv. */
static int load_rest(struct catalog_src *src, struct catalog *cat, int rows,
		     struct sheet_warns *w, struct err *e)
{
	int rc = load_sheet(src, F_ACCOUNTS, account_cols, AC_NCOLS, rows,
			    load_accounts, cat, w, e);

	if (!rc)
		rc = load_sheet(src, F_PACKAGES, package_cols, PK_NCOLS, rows,
				load_packages, cat, w, e);
	if (!rc)
		rc = load_sheet(src, F_PAYMENTS, payment_cols, PY_NCOLS, rows,
				load_payments, cat, w, e);
	return rc;
}

/* Parses what catalog_read read into cat: every row, or (!rows) the
 * settings and each file's header only. */
static int parse(struct catalog *cat, int rows, struct err *e)
{
	struct catalog_src *src = cat->src;
	const struct sheet_bytes *b;
	struct sheet_warns w = { 0 };
	struct sheet items;
	int rc;

	rc = src_file(src, F_SETTINGS, &b, e) ||
	     settings_load(src->dir, b, &cat->set, &w, e);
	src_done(src, F_SETTINGS, rows);
	/* items.csv stays open until prices.csv is read: an item without a
	 * price group is reported at its own row. */
	memset(&items, 0, sizeof(items));
	if (!rc && !(rc = src_file(src, F_ITEMS, &b, e)))
		rc = sheet_open(&items, src->dir, "items.csv", item_cols,
				IT_NCOLS, 0, b, !rows, e);
	src_done(src, F_ITEMS, rows);
	if (!rc) {
		sheet_unknown_columns(&items, &w);
		if (rows)
			rc = load_items(&items, cat);
	}
	if (!rc)
		rc = load_sheet(src, F_PRICES, cat_price_cols,
				cat_price_ncols, rows, cat_load_prices, cat,
				&w, e);
	if (!rc && rows)
		rc = check_priced(&items, cat);
	sheet_close(&items);
	if (!rc)
		rc = load_rest(src, cat, rows, &w, e);
	if (rc) {
		sheet_warns_free(&w);
		return ST_ERROR;
	}
	cat->warnings = w.msg;
	cat->nwarnings = w.n;
	return 0;
}

/* Empties cat but for its bytes and digest. */
static void clear_parsed(struct catalog *cat)
{
	struct catalog_src *src = cat->src;
	unsigned char digest[32];

	memcpy(digest, cat->digest, 32);
	cat->src = NULL;
	catalog_release(cat);
	cat->src = src;
	memcpy(cat->digest, digest, 32);
}

int catalog_peek(struct catalog *cat, struct err *e)
{
	clear_parsed(cat);
	if (parse(cat, 0, e)) {
		catalog_release(cat);
		return ST_ERROR;
	}
	return 0;
}

int catalog_parse(struct catalog *cat, struct err *e)
{
	clear_parsed(cat);
	if (parse(cat, 1, e)) {
		catalog_release(cat);
		return ST_ERROR;
	}
	src_free(cat->src);
	cat->src = NULL;
	return 0;
}

int catalog_load(const char *dir, struct catalog *cat, struct err *e)
{
	catalog_read(dir, cat);
	return catalog_parse(cat, e);
}

void catalog_release(struct catalog *cat)
{
	size_t i;

	if (!cat)
		return;
	for (i = 0; i < cat->nitems; i++) {
		struct item *it = &cat->items[i];

		cat_free_groups(it);
		free(it->code);
		free(it->usage_unit);
		free(it->price_unit);
		free(it->name);
		free(it->unit_code);
	}
	free(cat->items);
	free(cat->accounts);
	free(cat->packages);
	while (cat->strs) {
		struct cat_block *b = cat->strs;

		cat->strs = b->next;
		free(b);
	}
	for (i = 0; i < cat->npayments; i++) {
		free(cat->payments[i].id);
		free(cat->payments[i].tenant);
	}
	free(cat->payments);
	for (i = 0; i < cat->nwarnings; i++)
		free(cat->warnings[i]);
	free(cat->warnings);
	settings_release(&cat->set);
	src_free(cat->src);
	memset(cat, 0, sizeof(*cat));
}
