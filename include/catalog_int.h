/* catalog_int: internal to the catalog module (catalog.c, the files and
 * their rows; catalog_prices.c, prices.csv and the price groups). Nothing
 * outside those two files includes it.
 *
 * A strset is a set of strings for uniqueness checks in file order;
 * cat_find_item looks an item up by code once items are sorted. */
#ifndef CATALOG_INT_H
#define CATALOG_INT_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "sheet.h"

struct strset {
	struct strtab *t;
};

/* Adds a copy of s; returns 1 (and adds nothing) if s was there. */
int cat_strset_add(struct strset *h, const char *s);
void cat_strset_free(struct strset *h);

/* Compares s[0..n) with the string t as strcmp would. */
static inline int cat_spancmp(const char *s, size_t n, const char *t)
{
	size_t m = strlen(t);
	int c = (n < m ? n : m) ? memcmp(s, t, n < m ? n : m) : 0;

	if (c)
		return c;
	return n < m ? -1 : n > m;
}

/* A code to look up: s[0..n). */
struct cat_code {
	const char *s;
	size_t n;
};

static inline int cat_key_item(const void *k, const void *e)
{
	const struct cat_code *c = k;

	return cat_spancmp(c->s, c->n, ((const struct item *)e)->code);
}

/* The item of code[0..len) (items sorted by code), or NULL. Inline here
 * so that both files of the module find items without calling each
 * other. */
static inline struct item *cat_find_item(const struct catalog *cat,
					 const char *code, size_t len)
{
	struct cat_code k = { code, len };

	if (!cat->nitems)
		return NULL;
	return bsearch(&k, cat->items, cat->nitems, sizeof(*cat->items),
		       cat_key_item);
}

/* prices.csv: its columns, and the loader of its rows into the items'
 * groups (items already loaded and sorted). Returns 0 or ST_ERROR with
 * the sheet's err filled. */
extern const struct sheet_colspec cat_price_cols[];
extern const int cat_price_ncols;
int cat_load_prices(struct sheet *s, struct catalog *cat);

/* Frees what the groups of it hold. */
void cat_free_groups(struct item *it);

#endif
