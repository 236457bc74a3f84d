/* Fuzz target: price-group filters (filter.h: filter_parse) and matching
 * (filter_holds, through catalog_match_group).
 *
 * The input is a filter text, then a NUL byte, then dims. The dims are
 * matched as they are (any bytes: no crash) and, canonicalised as the
 * usage reader does (pairs sorted by key), against two groups: the
 * filter's and a match-all one.
 * Properties: a parsed filter has one non-empty key per predicate and
 * well-formed intervals; when its keys are distinct, dims built to
 * satisfy every predicate match its group, and the same dims without one
 * predicate's key do not (they fall to the match-all group). */
#include "catalog.h"
#include "filter.h"
#include "fuzzhelp.h"
#include "banned.h"

struct kv {
	const char *k, *v;
	size_t kn, vn;
};

static int kv_cmp(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	size_t m = x->kn < y->kn ? x->kn : y->kn;
	int c = m ? memcmp(x->k, y->k, m) : 0;

	if (c)
		return c;
	return (x->kn > y->kn) - (x->kn < y->kn);
}

/* Joins pairs (sorted here) as "k=v;k=v" into b. */
static void join(struct kv *p, size_t n, struct fbuf *b)
{
	size_t i;

	fbuf_reset(b);
	if (n > 1)
		qsort(p, n, sizeof(*p), kv_cmp);
	for (i = 0; i < n; i++) {
		if (i)
			fbuf_add(b, ";", 1);
		fbuf_add(b, p[i].k, p[i].kn);
		fbuf_add(b, "=", 1);
		fbuf_add(b, p[i].v, p[i].vn);
	}
}

/* A value inside the interval of p, in its shortest text; -1 when the
 * interval holds no multiple of 0.000001. */
static int inside(const struct pred *p, char *buf)
{
	dec_t x = 0;

	if (p->has_lo) {
		x = p->lo;
		if (!p->lo_incl) {
			if (x == INT64_MAX)
				return -1;
			x++;
		}
	}
	if (p->has_hi && (x > p->hi || (x == p->hi && !p->hi_incl)))
		return -1;
	dec_format(x, buf);
	return 0;
}

static void check_filter(const char *text, const char *dims, size_t dn)
{
	struct price_group g[2];
	struct item it;
	struct pred *preds = NULL;
	const char *why = NULL;
	size_t n = 0, i, j;
	struct kv *kv, *tmp;
	char (*vals)[DEC_MAX_TEXT];
	struct fbuf b = { 0 };
	int m, distinct = 1;

	if (filter_parse(text, &preds, &n, &why) != 0) {
		CHECK(why != NULL && preds == NULL && n == 0);
		return;
	}
	CHECK(*text ? n >= 1 : n == 0);
	memset(g, 0, sizeof(g));
	memset(&it, 0, sizeof(it));
	g[0].preds = preds;
	g[0].npreds = n;
	it.groups = g;
	it.ngroups = 2;
	for (i = 0; i < n; i++) {
		CHECK(preds[i].key && preds[i].key[0]);
		CHECK(!strchr(preds[i].key, '=') && !strchr(preds[i].key, ';'));
		if (preds[i].interval) {
			CHECK(preds[i].value == NULL);
			if (preds[i].has_lo && preds[i].has_hi)
				CHECK(preds[i].lo <= preds[i].hi);
			CHECK(!preds[i].has_lo || preds[i].lo >= 0);
		} else {
			CHECK(preds[i].value && !strchr(preds[i].value, ';'));
			/* v2: a bracket opens an interval or is an error */
			CHECK(preds[i].value[0] != '(' &&
			      preds[i].value[0] != '[');
		}
		for (j = 0; j < i; j++)
			if (strcmp(preds[i].key, preds[j].key) == 0)
				distinct = 0;
	}
	/* the raw dims: any answer, no crash */
	m = catalog_match_group(&it, dims, dn);
	CHECK(m == 0 || m == 1);
	if (n == 0)
		CHECK(m == 0);

	if (!distinct || n == 0)
		goto out;
	kv = xcalloc(n, sizeof(*kv));
	vals = xcalloc(n, sizeof(*vals));
	for (i = 0; i < n; i++) {
		kv[i].k = preds[i].key;
		kv[i].kn = strlen(preds[i].key);
		if (preds[i].interval) {
			if (inside(&preds[i], vals[i]) < 0)
				goto done;
			kv[i].v = vals[i];
		} else {
			kv[i].v = preds[i].value;
		}
		kv[i].vn = strlen(kv[i].v);
	}
	join(kv, n, &b);
	CHECK(catalog_match_group(&it, b.p, b.n) == 0);
	/* each predicate is needed: without one key, no match */
	tmp = xcalloc(n, sizeof(*tmp));
	for (i = 0; i < n; i++) {
		size_t k = 0;

		for (j = 0; j < n; j++)
			if (j != i)
				tmp[k++] = kv[j];
		join(tmp, k, &b);
		CHECK(catalog_match_group(&it, b.n ? b.p : "", b.n) == 1);
	}
	free(tmp);
done:
	free(kv);
	free(vals);
out:
	free(b.p);
	filter_free(preds, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t tn = nul ? (size_t)(nul - data) : size;
	char *text = fuzz_cstr(data, tn);
	const char *dims = nul ? (const char *)nul + 1 : "";
	size_t dn = nul ? size - tn - 1 : 0;

	check_filter(text, dims, dn);
	free(text);
	return 0;
}
