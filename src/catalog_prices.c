/* catalog_prices: prices.csv, its price groups and their versions (SPEC
 * section 3, "prices.csv"), and the choice of a record's group. */
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "catalog_int.h"
#include "mem.h"
#include "ts.h"
#include "banned.h"

enum {
	PR_ITEM, PR_FILTER, PR_FROM, PR_TO, PR_PRICE, PR_FLAT, PR_VALID,
	PR_LABEL, PR_NCOLS
};

const struct sheet_colspec cat_price_cols[PR_NCOLS] = {
	{ "item", 1 }, { "filter", 0 }, { "tier_from", 1 }, { "tier_to", 0 },
	{ "unit_price", 1 }, { "flat_fee", 0 }, { "valid_from", 0 },
	{ "label", 0 },
};
const int cat_price_ncols = PR_NCOLS;

/* ---- choosing a group ---------------------------------------------------- */

int catalog_match_group(const struct item *it, const char *dims, size_t len)
{
	size_t g;

	for (g = 0; g < it->ngroups; g++)
		if (filter_holds(it->groups[g].preds, it->groups[g].npreds,
				 dims, len))
			return (int)g;
	return -1;
}

int catalog_match_group_in(const struct item *it, size_t start,
			   const char *dims, size_t len, int32_t p)
{
	size_t g;

	for (g = start; g < it->ngroups; g++)
		if (it->groups[g].first <= p &&
		    filter_holds(it->groups[g].preds, it->groups[g].npreds,
				 dims, len))
			return (int)g;
	return -1;
}

const struct price_version *catalog_version(const struct price_group *g,
					    int32_t p)
{
	size_t i = g->nversions;

	/* versions are few and ascending: the last one that has begun */
	while (i-- > 0)
		if (g->versions[i].from <= p)
			return &g->versions[i];
	return NULL;
}

/* ---- rows ------------------------------------------------------------------ */

/* Checks one tier t against the tiers the version v already has. */
static int check_tier(struct sheet *s, const struct sheet_row *r,
		      const struct item *it, const struct price_version *v,
		      const struct tier *t)
{
	const struct tier *prev = v->ntiers ? &v->tiers[v->ntiers - 1] : NULL;
	struct sheet_val xf = sheet_col(s, r, PR_FROM), xt = sheet_col(s, r, PR_TO);
	char buf[DEC_MAX_TEXT];

	if (it->model == MODEL_PACKAGE && prev)
		return sheet_fail(xf.c, xf.name, "second tier for package model "
			    "item '%s'", SHEET_Q(it->code));
	if (!prev && t->from != 0)
		return sheet_fail(xf.c, xf.name, "first tier_from '%s' is not 0",
			    SHEET_Q(xf.v));
	if (prev && prev->open)
		return sheet_fail(xf.c, xf.name, "tier_from '%s' follows an open "
			    "tier", SHEET_Q(xf.v));
	if (prev && t->from != prev->to) {
		dec_format(prev->to, buf);
		return sheet_fail(xf.c, xf.name, "tier_from '%s' does not continue "
			    "the previous tier_to '%s'", SHEET_Q(xf.v), buf);
	}
	if (!t->open && t->to <= t->from)
		return sheet_fail(xt.c, xt.name, "tier_to '%s' is not above "
			    "tier_from '%s'", SHEET_Q(xt.v), SHEET_Q(xf.v));
	if (it->model == MODEL_PACKAGE && !t->open)
		return sheet_bad_want(xt, "empty for package model");
	return 0;
}

/* Where each (item, filter text) group is, so that finding a row's group
 * costs the same with 10 groups or 100 000 (a walk over the item's groups
 * made loading quadratic). */
struct gindex {
	struct strtab *filters;   /* filter texts, by id */
	struct agg *keys;         /* (item, filter id) -> dense index */
	size_t *group;            /* dense index -> the group's index */
	size_t cap;
};

struct gkey {
	uint64_t item;            /* index in cat->items */
	uint64_t filter;          /* id in filters */
};

/* Grows arrays that gain one element at a time by doubling: their
 * capacity is the power of two at or above their count, so no field
 * holds it. */
static void *grow_one(void *p, size_t n, size_t elem)
{
	if (n == 0 || (n & (n - 1)) == 0)
		p = xrealloc(p, (n ? 2 * n : 1) * elem);
	return p;
}

/* The group of item it with filter text xf, made (and its filter
 * parsed) when new; its label is the row's label cell or the filter. */
static int group_of(struct sheet *s, const struct sheet_row *r,
		    struct item *it, size_t item_index, struct gindex *ix,
		    struct price_group **out)
{
	struct sheet_val xf = sheet_col(s, r, PR_FILTER);
	struct sheet_val xl = sheet_col(s, r, PR_LABEL);
	const char *label = *xl.v ? xl.v : xf.v;
	struct price_group *g;
	struct pred *preds;
	const char *why = "";
	struct gkey k;
	size_t gi, np, d;
	int rc, added;

	memset(&k, 0, sizeof(k));
	k.item = item_index;
	k.filter = strtab_put(ix->filters, xf.v, strlen(xf.v));
	d = agg_put(ix->keys, &k, &added);
	gi = added ? it->ngroups : ix->group[d];
	if (gi < it->ngroups) {
		g = &it->groups[gi];
		if (strcmp(g->label, label) != 0)
			return sheet_fail(xl.c, xl.name, "price group '%s' of item "
				    "'%s' has label '%s' here and '%s' at line "
				    "%ld (one label per group; an empty cell "
				    "means the filter text)", SHEET_Q(xf.v),
				    SHEET_Q(it->code), SHEET_Q(label),
				    SHEET_Q(g->label), g->line);
		*out = g;
		return 0;
	}
	rc = filter_parse(xf.v, &preds, &np, &why);
	if (rc == -2)
		return sheet_bad_note(xf, why);
	if (rc < 0)
		return sheet_fail(xf.c, xf.name, "bad filter '%s' (%s)",
				  SHEET_Q(xf.v), why);
	xgrow((void **)&ix->group, &ix->cap, d + 1, sizeof(*ix->group));
	ix->group[d] = it->ngroups;
	it->groups = grow_one(it->groups, it->ngroups, sizeof(*it->groups));
	g = &it->groups[it->ngroups++];
	memset(g, 0, sizeof(*g));
	g->filter = xstrdup(xf.v);
	g->label = xstrdup(label);
	g->preds = preds;
	g->npreds = np;
	g->line = r->line;
	*out = g;
	return 0;
}

/* The version of g that the row's valid_from names, made when new (in
 * its place among the others, ascending). */
static int version_of(struct sheet *s, const struct sheet_row *r,
		      struct price_group *g, struct price_version **out)
{
	struct sheet_val xv = sheet_col(s, r, PR_VALID);
	int32_t from = PRICE_ALWAYS;
	int p;
	size_t i;

	if (*xv.v) {
		if (ts_period_parse(xv.v, &p) < 0)
			return sheet_bad_note(xv, "expected YYYY-MM, e.g. 2026-11");
		from = p;
	}
	for (i = 0; i < g->nversions && g->versions[i].from < from; i++)
		;
	if (i == g->nversions || g->versions[i].from != from) {
		g->versions = grow_one(g->versions, g->nversions,
				       sizeof(*g->versions));
		memmove(&g->versions[i + 1], &g->versions[i],
			(g->nversions - i) * sizeof(*g->versions));
		memset(&g->versions[i], 0, sizeof(g->versions[i]));
		g->versions[i].from = from;
		g->nversions++;
		g->first = g->versions[0].from;
	}
	*out = &g->versions[i];
	return 0;
}

static int price_row(struct sheet *s, const struct sheet_row *r,
		     struct catalog *cat, struct gindex *ix)
{
	struct sheet_val xi = sheet_col(s, r, PR_ITEM);
	struct sheet_val xto = sheet_col(s, r, PR_TO);
	struct item *it;
	struct price_group *g = NULL;
	struct price_version *v = NULL;
	struct tier t;

	if (sheet_need(xi))
		return ST_ERROR;
	it = cat_find_item(cat, xi.v, strlen(xi.v));
	if (!it)
		return sheet_fail(xi.c, xi.name, "unknown item '%s'", SHEET_Q(xi.v));
	if (group_of(s, r, it, (size_t)(it - cat->items), ix, &g) ||
	    version_of(s, r, g, &v))
		return ST_ERROR;
	v->line = r->line;

	memset(&t, 0, sizeof(t));
	if (sheet_need(sheet_col(s, r, PR_FROM)) ||
	    sheet_val_dec(sheet_col(s, r, PR_FROM), 0, 0, &t.from))
		return ST_ERROR;
	t.open = !*xto.v;
	if (sheet_val_dec(xto, 0, 0, &t.to) ||
	    sheet_need(sheet_col(s, r, PR_PRICE)) ||
	    sheet_val_dec(sheet_col(s, r, PR_PRICE), 0, 0, &t.unit_price) ||
	    sheet_val_dec(sheet_col(s, r, PR_FLAT), 0, 0, &t.flat_fee) ||
	    check_tier(s, r, it, v, &t))
		return ST_ERROR;
	v->tiers = grow_one(v->tiers, v->ntiers, sizeof(*v->tiers));
	v->tiers[v->ntiers++] = t;
	return 0;
}

/* Every version must end with an open tier; reported at the version's
 * last row, the first such row in file order. */
static int check_open(struct sheet *s, const struct catalog *cat)
{
	const struct item *bad_it = NULL;
	const struct price_version *bad = NULL;
	char buf[DEC_MAX_TEXT];
	size_t i, g, k;

	for (i = 0; i < cat->nitems; i++) {
		for (g = 0; g < cat->items[i].ngroups; g++) {
			const struct price_group *pg = &cat->items[i].groups[g];

			for (k = 0; k < pg->nversions; k++) {
				const struct price_version *v = &pg->versions[k];

				if (v->tiers[v->ntiers - 1].open)
					continue;
				if (!bad || v->line < bad->line) {
					bad_it = &cat->items[i];
					bad = v;
				}
			}
		}
	}
	if (!bad)
		return 0;
	dec_format(bad->tiers[bad->ntiers - 1].to, buf);
	s->c.line = bad->line;
	return sheet_fail(&s->c, "tier_to", "last tier of item '%s' has tier_to '%s' "
		    "(want empty)", SHEET_Q(bad_it->code), buf);
}

int cat_load_prices(struct sheet *s, struct catalog *cat)
{
	const struct sheet_row *r;
	struct gindex ix;
	size_t i;
	int rc = 0;

	memset(&ix, 0, sizeof(ix));
	ix.filters = strtab_new();
	ix.keys = agg_new(sizeof(struct gkey));
	for (i = 1; i < s->t.nrows && !rc; i++) {
		rc = sheet_row_at(s, i, &r);
		if (!rc)
			rc = price_row(s, r, cat, &ix);
	}
	strtab_free(ix.filters);
	agg_free(ix.keys);
	free(ix.group);
	return rc ? rc : check_open(s, cat);
}

void cat_free_groups(struct item *it)
{
	size_t g, k;

	for (g = 0; g < it->ngroups; g++) {
		struct price_group *pg = &it->groups[g];

		free(pg->filter);
		free(pg->label);
		filter_free(pg->preds, pg->npreds);
		for (k = 0; k < pg->nversions; k++)
			free(pg->versions[k].tiers);
		free(pg->versions);
	}
	free(it->groups);
	it->groups = NULL;
	it->ngroups = 0;
}
