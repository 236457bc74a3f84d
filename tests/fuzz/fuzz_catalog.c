/* Fuzz target: the config loader (catalog_load) on a directory written
 * from the input. The input is in the form `head` prints several files:
 *
 *   ==> items.csv <==
 *   item,currency,usage_unit
 *   ...
 *   ==> prices.csv <==
 *   ...
 *
 * Each marker line starts a file (settings.conf, items.csv, prices.csv,
 * accounts.csv, packages.csv, payments.csv; other names are skipped); a
 * file without a marker is absent, but packages.csv, which v2 requires,
 * is then a header alone (so that seeds without one still reach the files
 * after it). Bytes before the first marker are ignored.
 *
 * Properties: no crash, leak or undefined behaviour; a failure is
 * ST_ERROR with a one-line message naming the config directory, and
 * leaves the catalog empty; a success gives arrays sorted as catalog.h
 * says, look-ups that find every entry, a first-group match for every
 * item, price versions ascending with well-formed tiers, and one-line
 * warnings. */
#include <errno.h>
#include <unistd.h>

#include "catalog.h"
#include "fuzzhelp.h"
#include "banned.h"

static const char *const names[] = {
	"settings.conf", "items.csv", "prices.csv", "accounts.csv",
	"packages.csv", "payments.csv"
};
#define NNAMES (sizeof(names) / sizeof(names[0]))
#define PK_HEADER "package_id,tenant_id,items,valid_from,valid_to\n"

static char dir[64];

static void cleanup(void)
{
	char path[128];
	size_t i;

	for (i = 0; i < NNAMES; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm/settle-fuzz-XXXXXX"
					       : "/tmp/settle-fuzz-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("fuzz_catalog: mkdtemp");
		exit(2);
	}
	atexit(cleanup);
	return 0;
}

static void put(const char *name, const uint8_t *p, size_t n)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	CHECK(f != NULL);
	CHECK(n == 0 || fwrite(p, 1, n, f) == n);
	CHECK(fclose(f) == 0);
}

/* Finds the next marker line at or after data + i: sets the name's span
 * and returns the offset of the marker, or size when none. */
static size_t next_marker(const uint8_t *data, size_t size, size_t i,
			  size_t *name_at, size_t *name_len, size_t *after)
{
	for (; i < size; i++) {
		size_t j;

		if (i > 0 && data[i - 1] != '\n')
			continue;
		if (size - i < 8 || memcmp(data + i, "==> ", 4) != 0)
			continue;
		for (j = i + 4; j + 4 <= size && data[j] != '\n'; j++) {
			if (memcmp(data + j, " <==", 4) == 0 &&
			    (j + 4 == size || data[j + 4] == '\n')) {
				*name_at = i + 4;
				*name_len = j - (i + 4);
				*after = j + 4 < size ? j + 5 : size;
				return i;
			}
		}
	}
	return size;
}

static int cmp_str(const char *a, const char *b)
{
	return strcmp(a, b);
}

static void check_catalog(const struct catalog *cat)
{
	size_t i, g;

	for (i = 0; i < cat->nitems; i++) {
		const struct item *it = &cat->items[i];
		const char *cur = it->currency;

		CHECK(i == 0 || cmp_str(cat->items[i - 1].code, it->code) < 0);
		CHECK(catalog_item(cat, it->code, strlen(it->code)) == it);
		CHECK(dec_currency_valid(cur));
		CHECK(it->ngroups >= 1);
		CHECK(it->record_round >= 0 && it->record_round <= 6);
		CHECK(it->unit_ratio > 0);
		for (g = 0; g < it->ngroups; g++) {
			const struct price_group *pg = &it->groups[g];
			size_t t, v;

			CHECK(pg->nversions >= 1 && pg->label != NULL);
			CHECK(pg->first == pg->versions[0].from);
			for (v = 0; v < pg->nversions; v++) {
				const struct price_version *pv = &pg->versions[v];

				CHECK(v == 0 || pv[-1].from < pv->from);
				CHECK(catalog_version(pg, pv->from) == pv);
				CHECK(pv->ntiers >= 1);
				CHECK(pv->tiers[0].from == 0);
				CHECK(pv->tiers[pv->ntiers - 1].open);
				for (t = 0; t + 1 < pv->ntiers; t++) {
					CHECK(!pv->tiers[t].open);
					CHECK(pv->tiers[t].to ==
					      pv->tiers[t + 1].from);
				}
			}
		}
		/* a predicate fails on a missing dim, so the empty dims
		 * go to the first group without predicates, or nowhere */
		{
			int m = catalog_match_group(it, "", 0);

			for (g = 0; g < it->ngroups; g++)
				if (it->groups[g].npreds == 0)
					break;
			CHECK(m == (g < it->ngroups ? (int)g : -1));
		}
	}
	for (i = 0; i < cat->naccounts; i++) {
		const struct account *a = &cat->accounts[i];

		if (i > 0) {
			int c = cmp_str(cat->accounts[i - 1].tenant, a->tenant);

			CHECK(c < 0 || (c == 0 &&
				strcmp(cat->accounts[i - 1].currency, a->currency) < 0));
		}
		CHECK(catalog_account(cat, a->tenant, strlen(a->tenant),
				      a->currency) == a);
		CHECK(catalog_has_tenant(cat, a->tenant, strlen(a->tenant)));
	}
	for (i = 0; i < cat->npackages; i++) {
		const struct package *p = &cat->packages[i];

		CHECK(i == 0 || cmp_str(cat->packages[i - 1].id, p->id) < 0);
		CHECK(p->valid_to > p->valid_from);
		CHECK(p->unit_cost > 0);
		CHECK(catalog_has_tenant(cat, p->tenant, strlen(p->tenant)));
		for (g = 0; g < p->nitems; g++) {
			CHECK(catalog_item(cat, p->items[g],
					   strlen(p->items[g])) != NULL);
			CHECK(catalog_package_covers(p, p->items[g]));
		}
	}
	for (i = 0; i < cat->npayments; i++)
		CHECK(catalog_account(cat, cat->payments[i].tenant,
				      strlen(cat->payments[i].tenant),
				      cat->payments[i].currency) != NULL);
	CHECK(cat->set.alert_pct >= 0 && cat->set.alert_pct <= 100 * DEC_ONE);
	CHECK(cat->set.tax_rate >= 0 && cat->set.tax_rate <= 100 * DEC_ONE);
	for (i = 0; i < cat->naccounts; i++) {
		const struct account *a = &cat->accounts[i];

		CHECK(a->tax_rate >= 0 && a->tax_rate <= 100 * DEC_ONE);
		CHECK((strcmp(a->tax_category, "S") == 0) == (a->tax_rate > 0));
	}
	for (i = 0; i < cat->nwarnings; i++)
		CHECK(strchr(cat->warnings[i], '\n') == NULL);
}

/* A config that loads (whole) peeks alike (catalog_read, catalog_peek:
 * the no-change close): the same digest, settings' time zone and
 * warnings, no row; then catalog_parse gives the same counts. */
static void check_peek(const struct catalog *whole)
{
	struct catalog cat;
	struct err e;
	size_t i;

	err_clear(&e);
	CHECK(catalog_read(dir, &cat) == 0);
	CHECK(memcmp(cat.digest, whole->digest, 32) == 0);
	CHECK(catalog_peek(&cat, &e) == 0);
	CHECK(cat.set.tz == whole->set.tz && cat.nitems == 0 &&
	      cat.naccounts == 0 && cat.nwarnings == whole->nwarnings);
	for (i = 0; i < cat.nwarnings; i++)
		CHECK(strcmp(cat.warnings[i], whole->warnings[i]) == 0);
	CHECK(catalog_parse(&cat, &e) == 0);
	CHECK(cat.nitems == whole->nitems && cat.naccounts == whole->naccounts &&
	      cat.npackages == whole->npackages &&
	      cat.npayments == whole->npayments &&
	      cat.nwarnings == whole->nwarnings);
	catalog_release(&cat);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int seen[NNAMES] = { 0 };
	struct catalog cat;
	struct err e;
	size_t at, name_at = 0, name_len = 0, after = 0, k;
	int rc;

	at = next_marker(data, size, 0, &name_at, &name_len, &after);
	while (at < size) {
		size_t start = after, nat, nlen, naft, end;

		end = next_marker(data, size, start, &nat, &nlen, &naft);
		for (k = 0; k < NNAMES; k++) {
			if (!seen[k] && strlen(names[k]) == name_len &&
			    memcmp(data + name_at, names[k], name_len) == 0) {
				put(names[k], data + start, end - start);
				seen[k] = 1;
			}
		}
		at = end;
		name_at = nat;
		name_len = nlen;
		after = naft;
	}
	for (k = 0; k < NNAMES; k++) {
		if (!seen[k] && strcmp(names[k], "packages.csv") == 0) {
			put(names[k], (const uint8_t *)PK_HEADER,
			    strlen(PK_HEADER));
		} else if (!seen[k]) {
			char path[128];

			snprintf(path, sizeof(path), "%s/%s", dir, names[k]);
			CHECK(unlink(path) == 0 || errno == ENOENT);
		}
	}
	err_clear(&e);
	rc = catalog_load(dir, &cat, &e);
	if (rc) {
		CHECK(rc == ST_ERROR && e.code == ST_ERROR);
		CHECK(e.msg[0] != '\0' && strchr(e.msg, '\n') == NULL);
		CHECK(strstr(e.msg, dir) != NULL);
		CHECK(cat.nitems == 0 && cat.naccounts == 0 &&
		      cat.npackages == 0 && cat.npayments == 0 &&
		      cat.nwarnings == 0);
	} else {
		check_catalog(&cat);
		check_peek(&cat);
	}
	catalog_release(&cat);
	return 0;
}
