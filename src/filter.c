/* filter: price-group filters, parsed once and matched per (item, dims)
 * pair (filter.h). */
#include "filter.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "banned.h"

void filter_free(struct pred *preds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(preds[i].key);
		free(preds[i].value);
	}
	free(preds);
}

/* Fills p from the value text v[0..n): an interval when it starts with a
 * bracket, else exact text. A bracket that opens no well-formed interval
 * is an error (SPEC 3, v2), so that `res=(1080,` is not taken as text. */
static int parse_value(const char *v, size_t n, struct pred *p,
		       const char **why)
{
	const char *comma = NULL;
	size_t i, commas = 0;

	for (i = 0; i < n; i++) {
		if (v[i] == ',') {
			commas++;
			comma = v + i;
		}
	}
	if (n == 0 || (v[0] != '(' && v[0] != '[')) {
		p->value = xstrndup(v, n);
		return 0;
	}
	if (n < 3 || (v[n - 1] != ')' && v[n - 1] != ']') || commas != 1) {
		*why = FILTER_MALFORMED;
		return -2;
	}
	p->interval = 1;
	p->has_lo = comma > v + 1;
	p->has_hi = comma < v + n - 2;
	p->lo_incl = p->has_lo && v[0] == '[';
	p->hi_incl = p->has_hi && v[n - 1] == ']';
	if ((p->has_lo && dec_parse(v + 1, (size_t)(comma - v - 1), &p->lo) < 0) ||
	    (p->has_hi && dec_parse(comma + 1, (size_t)(v + n - 2 - comma),
				    &p->hi) < 0)) {
		*why = "bad interval bound";
		return -1;
	}
	if (p->has_lo && p->has_hi &&
	    (p->lo > p->hi || (p->lo == p->hi && !(p->lo_incl && p->hi_incl)))) {
		*why = "empty interval";
		return -1;
	}
	return 0;
}

int filter_parse(const char *text, struct pred **preds, size_t *n,
		 const char **why)
{
	struct pred *v = NULL;
	size_t nv = 0, cap = 0;
	const char *s = text, *end, *eq;
	int rc = -1;

	*preds = NULL;
	*n = 0;
	if (!*text)
		return 0;
	for (;;) {
		end = strchr(s, ';');
		if (!end)
			end = s + strlen(s);
		if (end == s) {
			*why = "empty predicate";
			goto fail;
		}
		eq = memchr(s, '=', (size_t)(end - s));
		if (!eq) {
			*why = "predicate without '='";
			goto fail;
		}
		if (eq == s) {
			*why = "empty key";
			goto fail;
		}
		xgrow((void **)&v, &cap, nv + 1, sizeof(*v));
		memset(&v[nv], 0, sizeof(*v));
		v[nv].key = xstrndup(s, (size_t)(eq - s));
		nv++;
		rc = parse_value(eq + 1, (size_t)(end - eq - 1), &v[nv - 1], why);
		if (rc)
			goto fail;
		if (!*end)
			break;
		s = end + 1;
	}
	/* kept for the config's life, one array per price group: not the
	 * 16 xgrow starts with (896 bytes for one predicate) */
	*preds = xrealloc(v, nv * sizeof(*v));
	*n = nv;
	return 0;
fail:
	filter_free(v, nv);
	return rc == -2 ? -2 : -1;
}

/* Finds key's value in canonical dims "k=v;k=v". */
static int dim_find(const char *dims, size_t len, const char *key,
		    struct span *val)
{
	size_t i = 0, j, klen = strlen(key);
	const char *eq;

	while (i < len) {
		j = i;
		while (j < len && dims[j] != ';')
			j++;
		eq = memchr(dims + i, '=', j - i);
		if (eq && (size_t)(eq - dims - i) == klen &&
		    memcmp(dims + i, key, klen) == 0) {
			val->p = eq + 1;
			val->n = (size_t)(dims + j - eq - 1);
			return 1;
		}
		i = j + 1;
	}
	return 0;
}

static int pred_holds(const struct pred *p, const char *dims, size_t len)
{
	struct span v;
	dec_t x;

	if (!dim_find(dims, len, p->key, &v))
		return 0;
	if (!p->interval)
		return span_eq(v, p->value);
	if (dec_parse(v.p, v.n, &x) < 0)
		return 0;
	if (p->has_lo && (x < p->lo || (x == p->lo && !p->lo_incl)))
		return 0;
	if (p->has_hi && (x > p->hi || (x == p->hi && !p->hi_incl)))
		return 0;
	return 1;
}

int filter_holds(const struct pred *preds, size_t n, const char *dims,
		 size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!pred_holds(&preds[i], dims, len))
			return 0;
	return 1;
}
