/* record: the checks of a usage record that need no config (record.h).
 *
 * Record checks run once per record and so are written for speed: eight
 * bytes at a time where the test allows (SWAR, "Bit Twiddling Hacks":
 * hasless, hasmore), a table of character classes, and no allocation
 * (the dims scratch is made once per checker). */
#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts.h"
#include "banned.h"

/* A key=value pair of a dims cell, for sorting by key. */
struct record_pair {
	const char *k, *v;
	size_t kn, vn;
};

const char *const record_col_names[RCOL_NKNOWN] = {
	"record_id", "tenant_id", "item", "ts", "quantity", "status", "dims",
	"unit"
};

const char *usage_reject_name(enum reject_reason r)
{
	switch (r) {
	case REJ_FIELD_COUNT: return "field_count";
	case REJ_BAD_FIELD: return "bad_field";
	case REJ_BAD_TS: return "bad_ts";
	case REJ_BAD_QUANTITY: return "bad_quantity";
	case REJ_UNKNOWN_TENANT: return "unknown_tenant";
	case REJ_UNKNOWN_ITEM: return "unknown_item";
	case REJ_NO_ACCOUNT: return "no_account";
	case REJ_UNIT_MISMATCH: return "unit_mismatch";
	case REJ_NO_PRICE: return "no_price";
	case REJ_DUPLICATE_CONFLICT: return "duplicate_conflict";
	case REJ_COUNT: break;
	}
	return "unknown";
}

#define ONES ((uint64_t)0x0101010101010101)
#define HIGHS ((uint64_t)0x8080808080808080)

static inline uint64_t load8(const char *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return w;
}

/* Non-zero when a byte of w is outside [ -~]. */
static inline uint64_t unprintable8(uint64_t w)
{
	return ((w - ONES * 0x20) | (w + ONES * 1) | w) & HIGHS;
}

/* 1 if s is 1..max bytes, each in [ -~]. */
static int printable_span(struct span s, size_t max)
{
	size_t i;

	if (s.n < 1 || s.n > max)
		return 0;
	if (s.n >= 8) {
		uint64_t bad = 0;

		for (i = 0; i + 8 <= s.n; i += 8)
			bad |= unprintable8(load8(s.p + i));
		/* the last 8 bytes, overlapping what was checked */
		return !(bad | unprintable8(load8(s.p + s.n - 8)));
	}
	for (i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (c < 0x20 || c > 0x7e)
			return 0;
	}
	return 1;
}

/* Character classes of the id columns, bits of record_checker.cls. */
#define CL_TENANT 1 /* [A-Za-z0-9_.:-] */
#define CL_ITEM 2   /* [A-Za-z0-9_.-] */

static void classes(unsigned char cls[256])
{
	unsigned c;

	for (c = 0; c < 256; c++) {
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9');
		int id = alnum || c == '_' || c == '.' || c == '-';

		cls[c] = (unsigned char)((id || c == ':' ? CL_TENANT : 0) |
					 (id ? CL_ITEM : 0));
	}
}

/* 1 if s is 1..max bytes, each of class bit in cls: four lookups a
 * step, the last four bytes overlapping the steps before (ANDing a
 * class in twice changes nothing). */
static int class_span(const unsigned char cls[256], struct span s, size_t max,
		      unsigned bit)
{
	const unsigned char *p = (const unsigned char *)s.p;
	unsigned ok = bit;
	size_t i;

	if (s.n < 1 || s.n > max)
		return 0;
	if (s.n < 4) {
		for (i = 0; i < s.n; i++)
			ok &= cls[p[i]];
		return ok != 0;
	}
	for (i = 0; i + 4 <= s.n; i += 4)
		ok &= cls[p[i]] & cls[p[i + 1]] & cls[p[i + 2]] & cls[p[i + 3]];
	p += s.n - 4;
	ok &= cls[p[0]] & cls[p[1]] & cls[p[2]] & cls[p[3]];
	return ok != 0;
}

/* utf8_ok() from byte i on. */
static int utf8_from(struct span s, size_t i)
{
	const unsigned char *p = (const unsigned char *)s.p;
	size_t n = s.n;

	while (i < n) {
		unsigned c = p[i];
		size_t len, k;
		uint32_t cp, min;

		if (c < 0x80) {
			if (c == 0)
				return 0;
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			len = 2; cp = c & 0x1f; min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3; cp = c & 0x0f; min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4; cp = c & 0x07; min = 0x10000;
		} else {
			return 0;
		}
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

static inline uint64_t load4(const char *p)
{
	uint32_t w;

	memcpy(&w, p, 4);
	return w;
}

/* 1 if s is well-formed UTF-8 (no overlong forms, surrogates or code
 * points above U+10FFFF) without a NUL byte. ASCII without NUL, the
 * usual text, is passed over 8 bytes at a time (hasless(w, 1), high
 * bits), the last word overlapping the one before; a cell under 8 bytes
 * is one word of two overlapping 4-byte loads, or of its bytes and
 * padding of 0x01. */
static inline int utf8_ok(struct span s)
{
	size_t i;
	uint64_t w;

	if (s.n >= 8) {
		for (i = 0; i + 8 <= s.n; i += 8) {
			w = load8(s.p + i);
			if (((w - ONES) | w) & HIGHS)
				return utf8_from(s, i);
		}
		w = load8(s.p + s.n - 8);
	} else if (s.n >= 4) {
		w = load4(s.p) | load4(s.p + s.n - 4) << 32;
	} else if (s.n) {
		w = (unsigned char)s.p[0] |
		    (uint64_t)(unsigned char)s.p[s.n >> 1] << 8 |
		    (uint64_t)(unsigned char)s.p[s.n - 1] << 16 |
		    ONES << 24;
	} else {
		return 1;
	}
	if (((w - ONES) | w) & HIGHS)
		return utf8_from(s, 0);
	return 1;
}

static int key_cmp(const struct record_pair *a, const struct record_pair *b)
{
	size_t m = a->kn < b->kn ? a->kn : b->kn;
	int c = m ? memcmp(a->k, b->k, m) : 0;

	if (c)
		return c;
	return (a->kn > b->kn) - (a->kn < b->kn);
}

/* Bottom-up merge sort of a[0..n) by key, using tmp (n entries); no
 * allocation, O(n log n) even for hostile dims. */
static void sort_pairs(struct record_pair *a, struct record_pair *tmp, size_t n)
{
	size_t w, lo;

	for (w = 1; w < n; w *= 2) {
		for (lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n;
			size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;

			while (i < mid && j < hi)
				tmp[k++] = key_cmp(&a[j], &a[i]) < 0 ? a[j++] : a[i++];
			while (i < mid)
				tmp[k++] = a[i++];
			while (j < hi)
				tmp[k++] = a[j++];
		}
		memcpy(a, tmp, n * sizeof(*a));
	}
}

/* Sorts d's pairs by key into k->dims_out, joined "k=v;k=v"; d's syntax
 * was checked (every pair has a non-empty key and an '='). Returns the
 * length, or -1 when two keys are equal. */
static int sort_dims(struct record_checker *k, struct span d)
{
	const char *p = d.p, *end = d.p + d.n;
	size_t np, i, pos = 0;

	if (!k->pairs) {
		k->pairs = xcalloc(USAGE_MAX_FIELD / 2 + 2, sizeof(*k->pairs));
		k->ptmp = xcalloc(USAGE_MAX_FIELD / 2 + 2, sizeof(*k->ptmp));
		k->dims_out = xmalloc(USAGE_MAX_FIELD);
	}
	for (np = 0;; np++) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *segend = semi ? semi : end;
		const char *eq = memchr(p, '=', (size_t)(segend - p));

		k->pairs[np].k = p;
		k->pairs[np].kn = (size_t)(eq - p);
		k->pairs[np].v = eq + 1;
		k->pairs[np].vn = (size_t)(segend - eq - 1);
		if (!semi)
			break;
		p = semi + 1;
	}
	np++;
	sort_pairs(k->pairs, k->ptmp, np);
	for (i = 0; i < np; i++) {
		const struct record_pair *q = &k->pairs[i];

		if (i > 0 && key_cmp(&k->pairs[i - 1], q) == 0)
			return -1;
		if (i > 0)
			k->dims_out[pos++] = ';';
		memcpy(k->dims_out + pos, q->k, q->kn);
		pos += q->kn;
		k->dims_out[pos++] = '=';
		if (q->vn)
			memcpy(k->dims_out + pos, q->v, q->vn);
		pos += q->vn;
	}
	return (int)pos;
}

/* Canonical dims: pairs sorted by key, joined "k=v;k=v". d is at most
 * USAGE_MAX_FIELD bytes (longer fields are rejected before). Returns 0,
 * or -1 when d is bad. */
static int canon_dims(struct record_checker *k, struct span d,
		      struct span *out)
{
	const char *p = d.p, *end = d.p + d.n;
	struct record_pair prev = { NULL, NULL, 0, 0 }, cur;
	size_t np = 0;
	int sorted = 1, n;

	out->p = "";
	out->n = 0;
	if (d.n == 0)
		return 0;
	if (!utf8_ok(d))
		return -1;
	/* the syntax, and whether keys are already strictly ascending (as
	 * written by most producers): then d is its own canonical form */
	for (;;) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *segend = semi ? semi : end;
		const char *eq = memchr(p, '=', (size_t)(segend - p));

		if (!eq || eq == p)
			return -1;
		cur.k = p;
		cur.kn = (size_t)(eq - p);
		if (np++ && key_cmp(&prev, &cur) >= 0)
			sorted = 0;
		prev = cur;
		if (!semi)
			break;
		p = semi + 1;
	}
	if (sorted) {
		*out = d;
		return 0;
	}
	n = sort_dims(k, d);
	if (n < 0)
		return -1;
	out->p = k->dims_out;
	out->n = (size_t)n;
	return 0;
}

/* The cell of a known column, or an empty span when the file has no such
 * column or the row is too short. A column's index is below the header's
 * width, so a cell below nf is one the reader kept. */
static inline struct span cell(const struct record_row *row,
			       enum record_col c)
{
	struct span s = { "", 0 };
	int i = row->col[c];

	if (i >= 0 && (size_t)i < row->nf)
		s = row->fld[i];
	return s;
}

static int reject(struct usage_reject *rj, enum reject_reason why,
		  const char *text)
{
	rj->reason = why;
	rj->why = text;
	return 1;
}

/* The checks of the row's shape: field count and lengths. */
static int check_shape(struct record_checker *k, const struct record_row *row,
		       struct usage_reject *rj)
{
	if (row->nf != row->ncols) {
		snprintf(k->why, sizeof(k->why), "%zu fields, header has %zu",
			 row->nf, row->ncols);
		return reject(rj, REJ_FIELD_COUNT, k->why);
	}
	if (row->over_at != RECORD_NO_OVER) {
		/* the first in column order: fields are kept in order */
		snprintf(k->why, sizeof(k->why),
			 "column %s longer than %d bytes", row->over_name,
			 USAGE_MAX_FIELD);
		return reject(rj, REJ_BAD_FIELD, k->why);
	}
	if (row->total > USAGE_MAX_RECORD) {
		snprintf(k->why, sizeof(k->why), "record longer than %d bytes",
			 USAGE_MAX_RECORD);
		return reject(rj, REJ_BAD_FIELD, k->why);
	}
	return 0;
}

/* cell() of a row that passed check_shape: it has every column of the
 * header, and a required column is always there. */
static inline struct span known_cell(const struct record_row *row,
				     enum record_col c)
{
	static const struct span none = { "", 0 };
	int i = row->col[c];

	if (c < RCOL_NREQUIRED)
		return row->fld[i];
	return i >= 0 ? row->fld[i] : none;
}

static int check_row(struct record_checker *k, const struct record_row *row,
		     struct usage_rec *u, struct usage_reject *rj)
{
	struct span s;

	u->line = rj->line = row->line;
	u->record_id = rj->record_id = cell(row, RCOL_RECORD_ID);
	u->tenant = rj->tenant = cell(row, RCOL_TENANT);
	if (check_shape(k, row, rj))
		return 1;
	u->item = known_cell(row, RCOL_ITEM);
	if (!printable_span(u->record_id, 128))
		return reject(rj, REJ_BAD_FIELD, "column record_id");
	if (!class_span(k->cls, u->tenant, 64, CL_TENANT))
		return reject(rj, REJ_BAD_FIELD, "column tenant_id");
	if (!class_span(k->cls, u->item, 64, CL_ITEM))
		return reject(rj, REJ_BAD_FIELD, "column item");
	s = known_cell(row, RCOL_TS);
	if (ts_parse(s.p, s.n, &u->ts) != 0)
		return reject(rj, REJ_BAD_TS, "column ts");
	s = known_cell(row, RCOL_QTY);
	if (dec_parse(s.p, s.n, &u->qty) != 0)
		return reject(rj, REJ_BAD_QUANTITY, "column quantity");
	if (canon_dims(k, known_cell(row, RCOL_DIMS), &u->dims) != 0)
		return reject(rj, REJ_BAD_FIELD, "column dims");
	u->status = known_cell(row, RCOL_STATUS);
	if (!utf8_ok(u->status))
		return reject(rj, REJ_BAD_FIELD, "column status");
	u->unit = known_cell(row, RCOL_UNIT);
	if (!utf8_ok(u->unit))
		return reject(rj, REJ_BAD_FIELD, "column unit");
	return 0;
}

int record_check(struct record_checker *k, const struct record_row *row,
		 struct usage_rec *u, struct usage_reject *rj)
{
	struct span s;

	if (!check_row(k, row, u, rj))
		return 0;
	/* A reject belongs to the period of its ts when the cell reads as
	 * an instant, whatever check failed (SPEC 8, rejects.csv): parsed
	 * again here, as rejects are rare. A row of the wrong width has no
	 * trustworthy columns, and bad_ts has no instant. */
	rj->has_ts = 0;
	rj->ts = 0;
	if (rj->reason == REJ_FIELD_COUNT || rj->reason == REJ_BAD_TS)
		return 1;
	s = cell(row, RCOL_TS);
	rj->has_ts = ts_parse(s.p, s.n, &rj->ts) == 0;
	return 1;
}

void record_checker_init(struct record_checker *k)
{
	memset(k, 0, sizeof(*k));
	classes(k->cls);
}

void record_checker_release(struct record_checker *k)
{
	free(k->pairs);
	free(k->ptmp);
	free(k->dims_out);
	k->pairs = k->ptmp = NULL;
	k->dims_out = NULL;
}
