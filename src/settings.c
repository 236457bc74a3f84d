/* settings: settings.conf (settings.h). */
#include "settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "sheet.h"
#include "ts.h"
#include "banned.h"

#define PREFIX_CHARS "_-"

const char *const settings_seller_keys[SELLER_NFIELDS] = {
	"seller_name", "seller_address", "seller_city", "seller_postal_code",
	"seller_country", "seller_tax_id", "seller_email", "seller_endpoint",
	"seller_iban",
};

/* Every key settings.conf knows, for the nearest-name hint. */
static const char *const known_keys[] = {
	"timezone", "invoice_prefix", "rounding", "alert_pct", "tax_rate",
	"payment_terms_days", "seller_name", "seller_address", "seller_city",
	"seller_postal_code", "seller_country", "seller_tax_id",
	"seller_email", "seller_endpoint", "seller_iban",
};

/* Sets a seller field, checking the two that have a form. */
static int apply_seller(struct sheet_val x, int f, struct settings *set)
{
	const char *colon = strchr(x.v, ':');

	if (f == SELLER_COUNTRY && *x.v && !sheet_country_ok(x.v))
		return sheet_bad_note(x, "ISO 3166-1 alpha-2, e.g. DE");
	if (f == SELLER_ENDPOINT && *x.v &&
	    (!colon || colon == x.v || !colon[1]))
		return sheet_bad_note(x, "scheme:id, e.g. 0088:5790000435975");
	free(set->seller[f]);
	set->seller[f] = xstrdup(x.v);
	return 0;
}


static void trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t' || **s == '\r')) {
		(*s)++;
		(*n)--;
	}
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' ||
		      (*s)[*n - 1] == '\r'))
		(*n)--;
}

static int apply_setting(struct sheet_ctx *c, struct sheet_warns *w,
			 const char *key, const char *v, struct settings *set)
{
	char where[4096];
	static const char *const rounding[] = { "half_up", "half_even", NULL };
	struct sheet_val x;
	int m, f;

	x.c = c;
	x.name = key;
	x.v = v;
	if (strcmp(key, "timezone") == 0) {
		set->tz = 0;
		if (*v && ts_parse_offset(v, strlen(v), &set->tz) < 0)
			/* a zone name (Europe/Berlin, UTC, CET) is the
			 * likely mistake: say why settle takes none */
			return sheet_bad_want(x, strpbrk(v, "+-") ?
				"+hh:mm, -hh:mm or Z" :
				"a fixed offset such as +01:00, not a zone "
				"name: a month's bounds are fixed instants "
				"that daylight saving must not move");
	} else if (strcmp(key, "invoice_prefix") == 0) {
		if (!*v)
			v = "INV";
		if (!sheet_code_ok(v, PREFIX_CHARS))
			return sheet_bad(x);
		memcpy(set->invoice_prefix, v, strlen(v) + 1);
	} else if (strcmp(key, "rounding") == 0) {
		if (sheet_val_enum(x, rounding, "half_up or half_even", 0, &m))
			return ST_ERROR;
		set->rounding = m ? DEC_HALF_EVEN : DEC_HALF_UP;
	} else if (strcmp(key, "alert_pct") == 0) {
		if (sheet_val_dec(x, 20 * DEC_ONE, 0, &set->alert_pct))
			return ST_ERROR;
		if (set->alert_pct > 100 * DEC_ONE)
			return sheet_bad_want(x, "0 to 100");
	} else if (strcmp(key, "tax_rate") == 0) {
		if (sheet_val_dec(x, 0, 0, &set->tax_rate))
			return ST_ERROR;
		if (set->tax_rate > 100 * DEC_ONE)
			return sheet_bad_want(x, "0 to 100");
	} else if (strcmp(key, "payment_terms_days") == 0) {
		if (sheet_val_int(x, 15, 36500, &set->payment_terms_days))
			return ST_ERROR;
	} else {
		for (f = 0; f < SELLER_NFIELDS; f++)
			if (strcmp(key, settings_seller_keys[f]) == 0)
				return apply_seller(x, f, set);
		snprintf(where, sizeof(where), "%s:%ld", c->path, c->line);
		sheet_warn_unknown(w, "key", key, where, known_keys,
				   sizeof(known_keys) / sizeof(known_keys[0]));
	}
	return 0;
}

static int settings_line(struct sheet_ctx *c, struct sheet_warns *w,
			 const char *s, size_t n, struct settings *set)
{
	const char *hash = memchr(s, '#', n), *eq, *k, *v;
	size_t kn, vn;
	char *key, *val;
	int rc;

	if (hash)
		n = (size_t)(hash - s);
	trim(&s, &n);
	if (!n)
		return 0;
	if (memchr(s, '\0', n))
		return sheet_fail(c, NULL, "NUL byte in line");
	eq = memchr(s, '=', n);
	k = s;
	kn = eq ? (size_t)(eq - s) : 0;
	trim(&k, &kn);
	if (!eq || !kn) {
		key = xstrndup(s, n);
		rc = sheet_fail(c, NULL, eq ? "missing key in '%s'" : "missing '=' in '%s'",
			  SHEET_Q(key));
		free(key);
		return rc;
	}
	v = eq + 1;
	vn = (size_t)(s + n - v);
	trim(&v, &vn);
	key = xstrndup(k, kn);
	val = xstrndup(v, vn);
	rc = apply_setting(c, w, key, val, set);
	free(key);
	free(val);
	return rc;
}

int settings_load(const char *dir, const struct sheet_bytes *b,
		  struct settings *set, struct sheet_warns *w, struct err *e)
{
	struct sheet_ctx c;
	const char *buf = b->buf, *nl;
	size_t len = b->len, i, end;
	int rc = 0, f;

	memset(set, 0, sizeof(*set));
	set->payment_terms_days = 15;
	for (f = 0; f < SELLER_NFIELDS; f++)
		set->seller[f] = xstrdup("");
	set->tz = 0;
	memcpy(set->invoice_prefix, "INV", 4);
	set->rounding = DEC_HALF_UP;
	set->alert_pct = 20 * DEC_ONE;
	set->tax_rate = 0;
	set->payment_terms_days = 15;
	c.e = e;
	c.path = sheet_join(dir, "settings.conf");
	c.kind = "key";
	c.line = 1;
	if (!b->absent) {
		i = sheet_has_bom(buf, len) ? 3 : 0;
		for (; i < len && !rc; c.line++) {
			nl = memchr(buf + i, '\n', len - i);
			end = nl ? (size_t)(nl - buf) : len;
			rc = settings_line(&c, w, buf + i, end - i, set);
			i = end + 1;
		}
	}
	free((char *)c.path);
	return rc;
}


void settings_release(struct settings *set)
{
	int f;

	for (f = 0; f < SELLER_NFIELDS; f++) {
		free(set->seller[f]);
		set->seller[f] = NULL;
	}
}
