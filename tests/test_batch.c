/* Unit tests for batch. Expected blobs are written byte by byte from the
 * layouts documented in batch.h (LEB128 varints, zigzag ts deltas, strings
 * in the order records first use them, the layout-2 mark and packed
 * UUIDs); round trips compare every field. Layout-1 blobs, which states
 * written before layout 2 hold, are written by hand as that encoder made
 * them, and must decode as they always did. */
#include "batch.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testhelp.h"
#include "banned.h"

/* ---- building records ---- */

static struct span S(const char *s)
{
	struct span sp;

	sp.p = s;
	sp.n = strlen(s);
	return sp;
}

static struct usage_rec R(uint64_t line, const char *id, const char *tenant,
			  const char *item, int64_t ts, dec_t qty,
			  const char *status, const char *dims,
			  const char *unit)
{
	struct usage_rec r;

	memset(&r, 0, sizeof(r));
	r.line = line;
	r.record_id = S(id);
	r.tenant = S(tenant);
	r.item = S(item);
	r.ts = ts;
	r.qty = qty;
	r.status = S(status);
	r.dims = S(dims);
	r.unit = S(unit);
	return r;
}

/* ---- collecting decoded records (deep copies) ---- */

struct got_rec {
	uint64_t line;
	int64_t ts;
	dec_t qty;
	char *f[6]; /* record_id, tenant, item, status, dims, unit */
	size_t n[6];
};

struct got {
	struct got_rec *r;
	size_t n, cap;
	size_t stop_at; /* return stop_rc when the stop_at-th record arrives */
	int stop_rc;
};

static int collect(void *ctx, const struct usage_rec *r)
{
	struct got *g = ctx;
	struct got_rec *o;
	const struct span *sp[6];
	int k;

	sp[0] = &r->record_id;
	sp[1] = &r->tenant;
	sp[2] = &r->item;
	sp[3] = &r->status;
	sp[4] = &r->dims;
	sp[5] = &r->unit;
	xgrow((void **)&g->r, &g->cap, g->n + 1, sizeof(*g->r));
	o = &g->r[g->n++];
	o->line = r->line;
	o->ts = r->ts;
	o->qty = r->qty;
	for (k = 0; k < 6; k++) {
		o->f[k] = xstrndup(sp[k]->p ? sp[k]->p : "", sp[k]->n);
		o->n[k] = sp[k]->n;
	}
	if (g->stop_at && g->n == g->stop_at)
		return g->stop_rc;
	return 0;
}

static void got_free(struct got *g)
{
	size_t i;
	int k;

	for (i = 0; i < g->n; i++)
		for (k = 0; k < 6; k++)
			free(g->r[i].f[k]);
	free(g->r);
	memset(g, 0, sizeof(*g));
}

static int span_is(const char *got, size_t n, struct span want)
{
	return n == want.n && memcmp(got, want.p, n) == 0;
}

/* Number of fields of decoded record g that differ from want. */
static int rec_diff(const struct got_rec *g, const struct usage_rec *want)
{
	int d = 0;

	d += g->line != want->line;
	d += g->ts != want->ts;
	d += g->qty != want->qty;
	d += !span_is(g->f[0], g->n[0], want->record_id);
	d += !span_is(g->f[1], g->n[1], want->tenant);
	d += !span_is(g->f[2], g->n[2], want->item);
	d += !span_is(g->f[3], g->n[3], want->status);
	d += !span_is(g->f[4], g->n[4], want->dims);
	d += !span_is(g->f[5], g->n[5], want->unit);
	return d;
}

/* Field-by-field checks, so that a failure says which field. */
static void check_rec(const struct got_rec *g, const struct usage_rec *w)
{
	TEST_EQ_INT(g->line, w->line);
	TEST_EQ_INT(g->ts, w->ts);
	TEST_EQ_INT(g->qty, w->qty);
	TEST_EQ_INT(g->n[0], w->record_id.n);
	TEST_TRUE(span_is(g->f[0], g->n[0], w->record_id));
	TEST_TRUE(span_is(g->f[1], g->n[1], w->tenant));
	TEST_TRUE(span_is(g->f[2], g->n[2], w->item));
	TEST_TRUE(span_is(g->f[3], g->n[3], w->status));
	TEST_TRUE(span_is(g->f[4], g->n[4], w->dims));
	TEST_TRUE(span_is(g->f[5], g->n[5], w->unit));
}

/* ---- exact layout ---- */

/* The blobs of test_layout in layout 1, as the encoder before layout 2
 * wrote them: no mark, the status index alone. */
static const unsigned char old_one[] = {
	0x03, 0x01, 't', 0x01, 'i', 0x00,
	0x01,
	0x01, 0x00, 0x01, 0x02, 0x02, 0x02, 0x00, 0x05, 0x01, 'r',
};
static const unsigned char old_two[] = {
	0x04, 0x01, 't', 0x01, 'i', 0x00, 0x01, 'j',
	0x02,
	0x01, 0x00, 0x01, 0x02, 0x02, 0x02, 0x00, 0x05, 0x01, 'r',
	0x02, 0x00, 0x03, 0x02, 0x02, 0x02, 0x05, 0xac, 0x02, 0x01, 's',
};

static void test_layout(void)
{
	struct batch *b = batch_new();
	struct usage_rec r1 = R(1, "r", "t", "i", 0, 5, "", "", "");
	struct usage_rec r2 = R(3, "s", "t", "j", -3, 300, "", "", "");
	/* mark 0x80 0x00, layout 2; nstr=3: "t" "i" ""; nrec=1; line+1, t=0
	 * i=1, status 2 << 1 | P=0 = 4, unit/dims=2, ts zigzag(0)=0, qty 5,
	 * raw id "r" */
	static const unsigned char one[] = {
		0x80, 0x00, 0x02,
		0x03, 0x01, 't', 0x01, 'i', 0x00,
		0x01,
		0x01, 0x00, 0x01, 0x04, 0x02, 0x02, 0x00, 0x05, 0x01, 'r',
	};
	/* then "j" is string 3; line +2, ts -3 zigzags to 5, qty 300 =
	 * 0xac 0x02 */
	static const unsigned char two[] = {
		0x80, 0x00, 0x02,
		0x04, 0x01, 't', 0x01, 'i', 0x00, 0x01, 'j',
		0x02,
		0x01, 0x00, 0x01, 0x04, 0x02, 0x02, 0x00, 0x05, 0x01, 'r',
		0x02, 0x00, 0x03, 0x04, 0x02, 0x02, 0x05, 0xac, 0x02, 0x01, 's',
	};
	const void *data;
	size_t len;
	struct got g = { 0 };

	TEST_EQ_INT(batch_count(b), 0);
	batch_add(b, &r1);
	TEST_EQ_INT(batch_count(b), 1);
	batch_encode(b, &data, &len);
	TEST_EQ_INT(len, sizeof(one));
	TEST_TRUE(len == sizeof(one) && memcmp(data, one, len) == 0);

	batch_add(b, &r2);
	TEST_EQ_INT(batch_count(b), 2);
	batch_encode(b, &data, &len);
	TEST_EQ_INT(len, sizeof(two));
	TEST_TRUE(len == sizeof(two) && memcmp(data, two, len) == 0);

	/* encoding again gives the same bytes */
	batch_encode(b, &data, &len);
	TEST_TRUE(len == sizeof(two) && memcmp(data, two, len) == 0);

	/* the hand-written blobs decode to the two records, in layout 2
	 * and in layout 1 */
	TEST_EQ_INT(batch_decode(two, sizeof(two), collect, &g), 0);
	TEST_EQ_INT(g.n, 2);
	if (g.n == 2) {
		check_rec(&g.r[0], &r1);
		check_rec(&g.r[1], &r2);
	}
	got_free(&g);
	TEST_EQ_INT(batch_decode(old_two, sizeof(old_two), collect, &g), 0);
	TEST_EQ_INT(g.n, 2);
	if (g.n == 2) {
		check_rec(&g.r[0], &r1);
		check_rec(&g.r[1], &r2);
	}
	got_free(&g);
	TEST_EQ_INT(batch_decode(old_one, sizeof(old_one), collect, &g), 0);
	TEST_EQ_INT(g.n, 1);
	if (g.n == 1)
		check_rec(&g.r[0], &r1);
	got_free(&g);
	batch_free(b);
}

/* ---- round trips ---- */

static void roundtrip(struct batch *b, const struct usage_rec *recs,
		      size_t n)
{
	const void *data;
	size_t len, i;
	struct got g = { 0 };
	int diffs = 0;

	for (i = 0; i < n; i++)
		batch_add(b, &recs[i]);
	TEST_EQ_INT(batch_count(b), n);
	batch_encode(b, &data, &len);
	TEST_EQ_INT(batch_decode(data, len, collect, &g), 0);
	TEST_EQ_INT(g.n, n);
	if (g.n == n) {
		for (i = 0; i < n; i++)
			diffs += rec_diff(&g.r[i], &recs[i]);
		if (n <= 32)
			for (i = 0; i < n; i++)
				check_rec(&g.r[i], &recs[i]);
	}
	TEST_EQ_INT(diffs, 0);
	got_free(&g);
}

static void test_extremes(void)
{
	char id128[129];
	struct batch *b = batch_new();
	struct usage_rec recs[12];
	size_t n = 0;

	memset(id128, 'x', 128);
	id128[0] = ' ';   /* [ -~]: space and tilde are allowed */
	id128[127] = '~';
	id128[128] = '\0';
	/* line deltas: 1, +1, +8, +990, +2^40-1000, +1, then a large jump;
	 * ts deltas: +MAX, MIN-MAX (wraps), +MAX-MIN (wraps), -1-MAX, +2,
	 * MIN-1, -MIN (wraps), -1 and +1 around 0 */
	recs[n++] = R(1, "a", "t1", "cpu", 0, 0, "", "", "");
	recs[n++] = R(2, id128, "t1", "cpu", INT64_MAX, INT64_MAX, "", "", "");
	recs[n++] = R(10, "b", "t1", "cpu", INT64_MIN, 1, "ok", "", "");
	recs[n++] = R(1000, "c", "t2", "gpu", INT64_MAX, 0, "failed",
		      "fps=60;height=1080", "min");
	recs[n++] = R(1ULL << 40, "d", "t2", "gpu", -1, INT64_MAX, "", "", "s");
	recs[n++] = R((1ULL << 40) + 1, "e", "t2", "gpu", 1, 7, "", "k=v", "");
	recs[n++] = R(UINT64_MAX - 1, "f", "t3", "cpu", INT64_MIN, 0, "", "",
		      "");
	recs[n++] = R(UINT64_MAX, "g", "t3", "cpu", 0, 12345678901234LL, "",
		      "", "");
	recs[n++] = R(UINT64_MAX, "h", "t3", "cpu", -1, 1, "", "", "");
	recs[n++] = R(UINT64_MAX, "i", "t3", "cpu", 0, 127, "", "", "");
	recs[n++] = R(UINT64_MAX, "j", "t3", "cpu", 1000, 128, "", "", "");
	recs[n++] = R(UINT64_MAX, id128 + 127, "t3", "cpu", 999, 16383, "",
		      "", "");
	roundtrip(b, recs, n);
	batch_free(b);
}

/* Many distinct strings (several rehashes of the intern table), with the
 * repeated ones still interned once. */
static void test_many_strings(void)
{
	enum { N = 3000 };
	static char bufs[N][4][32];
	struct usage_rec *recs = xcalloc(N, sizeof(*recs));
	struct batch *b = batch_new();
	size_t i;

	for (i = 0; i < N; i++) {
		snprintf(bufs[i][0], sizeof(bufs[i][0]), "rid-%zu", i);
		snprintf(bufs[i][1], sizeof(bufs[i][1]), "tenant-%zu", i);
		snprintf(bufs[i][2], sizeof(bufs[i][2]), "item-%zu", i % 7);
		snprintf(bufs[i][3], sizeof(bufs[i][3]), "d=%zu", i);
		recs[i] = R(i * 3 + 1, bufs[i][0], bufs[i][1], bufs[i][2],
			    (i % 2 ? (int64_t)i : -(int64_t)i) * 1000000007LL,
			    (dec_t)i * 1000000, i % 3 ? "ok" : "",
			    bufs[i][3], "");
	}
	roundtrip(b, recs, N);
	batch_free(b);
	free(recs);
}

/* A tenant seen before costs only its record bytes; a new one also costs
 * its table entry (length varint + bytes). */
static void test_intern_once(void)
{
	struct batch *b = batch_new();
	struct usage_rec r;
	size_t s0, s1, s2, s3, len;
	const void *data;
	const unsigned char *p;

	r = R(1, "r1", "tenant-aaaa", "cpu", 100, 1, "", "", "");
	batch_add(b, &r);
	s0 = batch_size(b);
	r = R(2, "r2", "tenant-aaaa", "cpu", 100, 1, "", "", "");
	batch_add(b, &r);
	s1 = batch_size(b);
	r = R(3, "r3", "tenant-bbbb", "cpu", 100, 1, "", "", "");
	batch_add(b, &r);
	s2 = batch_size(b);
	r = R(4, "r4", "tenant-aaaa", "cpu", 100, 1, "", "", "");
	batch_add(b, &r);
	s3 = batch_size(b);
	TEST_TRUE(s1 > s0);
	TEST_TRUE(s1 - s0 < s2 - s1);
	TEST_EQ_INT(s3 - s2, s1 - s0);

	/* in the blob, after the 3-byte mark: 4 strings ("tenant-aaaa",
	 * "cpu", "", "tenant-bbbb") */
	batch_encode(b, &data, &len);
	p = data;
	TEST_TRUE(len > 3 + 1 + 12 + 4 + 1 + 12);
	TEST_EQ_INT(p[3], 4);
	/* 1 + (1+11) + (1+3) + 1 + (1+11) bytes of table, then nrec 4 */
	TEST_EQ_INT(p[3 + 1 + 12 + 4 + 1 + 12], 4);
	batch_free(b);
}

/* Strings that agree in their length and last 16 bytes (what an intern
 * slot holds of a string over 16 bytes) but differ in one earlier byte
 * are different strings: lengths 17..40 around the 32-byte compare, a
 * difference at every place before the last 16 bytes. Each decodes to
 * what it was added as, and the table holds 1 + (n - 16) strings per
 * length n (the base string and one per changed place), plus the
 * tenant, the item and "" (status and unit). */
static void test_intern_long_alike(void)
{
	static const size_t lens[] = { 17, 24, 31, 32, 33, 40 };
	struct batch *b;
	struct usage_rec recs[1 + 24 + 1];
	char text[26][41];
	struct got g = { 0 };
	const void *data;
	const unsigned char *p;
	size_t len, k, n, i, m;

	for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		n = lens[k];
		b = batch_new();
		m = 0;
		/* the base, then one copy per place 0..n-17 changed, then
		 * the base again (interned once) */
		for (i = 0; i <= n - 16 + 1; i++) {
			memset(text[i], 'a', n);
			text[i][n] = '\0';
			memcpy(text[i] + n - 3, "=zz", 3);
			if (i >= 1 && i <= n - 16)
				text[i][i - 1] = 'b';
			recs[m] = R(m + 1, "id", "t", "i", 0, 1, "", text[i], "");
			batch_add(b, &recs[m]);
			m++;
		}
		batch_encode(b, &data, &len);
		p = data;
		/* strings: "t", "i", "", the base, n - 16 variants (< 128:
		 * one varint byte) */
		TEST_EQ_INT(p[3], 3 + 1 + (n - 16));
		TEST_EQ_INT(batch_decode(data, len, collect, &g), 0);
		TEST_EQ_INT(g.n, m);
		for (i = 0; i < g.n && i < m; i++)
			TEST_EQ_INT(rec_diff(&g.r[i], &recs[i]), 0);
		got_free(&g);
		batch_free(b);
	}
}

/* ---- reset ---- */

static void test_reset(void)
{
	struct batch *b = batch_new(), *fresh = batch_new();
	struct usage_rec old[3], neu[2];
	const void *d1, *d2;
	size_t l1, l2;

	old[0] = R(5, "o1", "old-tenant", "x", 1000, 3, "s", "a=b", "u");
	old[1] = R(9, "o2", "old-tenant-2", "y", -1000, 4, "", "", "");
	old[2] = R(12, "o3", "old-tenant-3", "z", INT64_MIN, 5, "", "", "");
	neu[0] = R(1, "n1", "new", "x", 50, 6, "", "", "");
	neu[1] = R(2, "n2", "old-tenant", "y", 40, 7, "", "", "");

	roundtrip(b, old, 3);
	batch_reset(b);
	TEST_EQ_INT(batch_count(b), 0);
	/* after a reset, the batch encodes exactly as a fresh one: line and
	 * ts deltas start from 0 and the string table is empty */
	roundtrip(b, neu, 2);
	roundtrip(fresh, neu, 2);
	batch_encode(b, &d1, &l1);
	batch_encode(fresh, &d2, &l2);
	TEST_EQ_INT(l1, l2);
	TEST_TRUE(l1 == l2 && memcmp(d1, d2, l1) == 0);
	TEST_EQ_INT(batch_size(b), batch_size(fresh));

	/* reset with nothing added, then encode: an empty batch */
	batch_reset(b);
	batch_encode(b, &d1, &l1);
	TEST_EQ_INT(l1, 5);
	TEST_TRUE(l1 == 5 && memcmp(d1, "\x80\0\2\0\0", 5) == 0);
	batch_free(b);
	batch_free(fresh);
	batch_free(NULL);
}

static void test_empty(void)
{
	struct batch *b = batch_new();
	const void *data;
	size_t len;
	struct got g = { 0 };

	TEST_EQ_INT(batch_count(b), 0);
	batch_encode(b, &data, &len);
	TEST_EQ_INT(len, 5);
	TEST_TRUE(len == 5 && memcmp(data, "\x80\0\2\0\0", 5) == 0);
	TEST_EQ_INT(batch_decode(data, len, collect, &g), 0);
	TEST_EQ_INT(g.n, 0);
	got_free(&g);
	/* the empty batch of layout 1 */
	TEST_EQ_INT(batch_decode("\0\0", 2, collect, &g), 0);
	TEST_EQ_INT(g.n, 0);
	got_free(&g);
	batch_free(b);
}

/* ---- malformed blobs ---- */

/* Decodes every proper prefix of data[0..len), each in its own
 * exact-size allocation so that ASan sees any read past the end; returns
 * how many did not fail with -1. */
static int prefixes_decoding(const void *data, size_t len)
{
	struct got g = { 0 };
	size_t k;
	int bad = 0;

	for (k = 0; k < len; k++) {
		unsigned char *copy = xmalloc(k ? k : 1);
		int rc;

		memcpy(copy, data, k);
		rc = batch_decode(copy, k, collect, &g);
		if (rc != -1 && bad++ < 3)
			fprintf(stderr, "prefix %zu of %zu bytes decoded "
				"to %d, not -1\n", k, len, rc);
		got_free(&g);
		free(copy);
	}
	return bad;
}

static void test_truncated(void)
{
	struct batch *b = batch_new();
	struct usage_rec recs[6];
	char id128[129];
	const void *data;
	size_t len, k;
	unsigned char *copy;
	struct got g = { 0 };

	memset(id128, 'q', 128);
	id128[128] = '\0';
	recs[0] = R(1, "a", "t1", "cpu", INT64_MIN, INT64_MAX, "ok", "k=v",
		    "min");
	recs[1] = R(300, id128, "t2", "gpu", INT64_MAX, 300, "", "", "");
	recs[2] = R(301, "c", "t1", "gpu", -5, 0, "failed", "", "");
	/* packed ids, one at the very end of the blob */
	recs[3] = R(302, "56299769-b887-b354-b54b-f9ccd321c68d", "t2", "gpu",
		    -5, 0, "failed", "", "");
	recs[4] = R(1ULL << 50, "d", "t3", "cpu", 0, 1, "", "k=w", "");
	recs[5] = R((1ULL << 50) + 1, "ffffffff-0000-0000-0000-00000000000f",
		    "t3", "cpu", 0, 1, "", "k=w", "");
	for (k = 0; k < 6; k++)
		batch_add(b, &recs[k]);
	batch_encode(b, &data, &len);
	TEST_EQ_INT(prefixes_decoding(data, len), 0);
	/* and in layout 1 */
	TEST_EQ_INT(prefixes_decoding(old_two, sizeof(old_two)), 0);

	/* a trailing byte is malformed too */
	copy = xmalloc(len + 1);
	memcpy(copy, data, len);
	copy[len] = 0;
	TEST_EQ_INT(batch_decode(copy, len + 1, collect, &g), -1);
	got_free(&g);
	/* the whole blob still decodes */
	TEST_EQ_INT(batch_decode(copy, len, collect, &g), 0);
	TEST_EQ_INT(g.n, 6);
	if (g.n == 6)
		for (k = 0; k < 6; k++)
			check_rec(&g.r[k], &recs[k]);
	got_free(&g);
	free(copy);
	batch_free(b);
}

static void test_corrupt(void)
{
	/* the one-record blob of test_layout, with one byte changed */
	static const unsigned char one[] = {
		0x03, 0x01, 't', 0x01, 'i', 0x00,
		0x01,
		0x01, 0x00, 0x01, 0x02, 0x02, 0x02, 0x00, 0x05, 0x01, 'r',
	};
	unsigned char c[sizeof(one)];
	struct got g = { 0 };
	/* a qty of 2^63 (above INT64_MAX) */
	static const unsigned char bigqty[] = {
		0x01, 0x01, 't', 0x01,
		0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01,
		0x01, 'r',
	};
	/* an 11-byte varint */
	static const unsigned char longvar[] = {
		0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		0x00, 0x00,
	};
	/* nstr far larger than the blob */
	static const unsigned char bignstr[] = { 0xff, 0xff, 0x03, 0x00 };
	int k;

	TEST_EQ_INT(batch_decode(one, sizeof(one), collect, &g), 0);
	TEST_EQ_INT(g.n, 1);
	got_free(&g);
	/* string index 3 of a 3-string table, in each string field */
	for (k = 8; k <= 12; k++) {
		memcpy(c, one, sizeof(c));
		c[k] = 0x03;
		TEST_EQ_INT(batch_decode(c, sizeof(c), collect, &g), -1);
		TEST_EQ_INT(g.n, 0);
		got_free(&g);
	}
	/* record id longer than what is left */
	memcpy(c, one, sizeof(c));
	c[15] = 0x02;
	TEST_EQ_INT(batch_decode(c, sizeof(c), collect, &g), -1);
	got_free(&g);
	/* string length longer than what is left */
	memcpy(c, one, sizeof(c));
	c[1] = 0x7f;
	TEST_EQ_INT(batch_decode(c, sizeof(c), collect, &g), -1);
	got_free(&g);
	/* two records announced, one present */
	memcpy(c, one, sizeof(c));
	c[6] = 0x02;
	TEST_EQ_INT(batch_decode(c, sizeof(c), collect, &g), -1);
	got_free(&g);

	TEST_EQ_INT(batch_decode(bigqty, sizeof(bigqty), collect, &g), -1);
	TEST_EQ_INT(g.n, 0);
	got_free(&g);
	TEST_EQ_INT(batch_decode(longvar, sizeof(longvar), collect, &g), -1);
	got_free(&g);
	TEST_EQ_INT(batch_decode(bignstr, sizeof(bignstr), collect, &g), -1);
	got_free(&g);
	TEST_EQ_INT(batch_decode(one, 0, collect, &g), -1);
	got_free(&g);
}

/* Layout 2 blobs with one thing wrong. */
static void test_corrupt_packed(void)
{
	/* one record, raw id "r", status 2 << 1 | 0 at [13] */
	static const unsigned char one[] = {
		0x80, 0x00, 0x02,
		0x03, 0x01, 't', 0x01, 'i', 0x00,
		0x01,
		0x01, 0x00, 0x01, 0x04, 0x02, 0x02, 0x00, 0x05, 0x01, 'r',
	};
	/* one record, packed id, status 2 << 1 | 1 */
	static const unsigned char upk[] = {
		0x80, 0x00, 0x02,
		0x03, 0x01, 't', 0x01, 'i', 0x00,
		0x01,
		0x01, 0x00, 0x01, 0x05, 0x02, 0x02, 0x00, 0x05,
		0x56, 0x29, 0x97, 0x69, 0xb8, 0x87, 0xb3, 0x54,
		0xb5, 0x4b, 0xf9, 0xcc, 0xd3, 0x21, 0xc6, 0x8d,
	};
	unsigned char c[sizeof(upk) + 1];
	struct got g = { 0 };
	int k;

	TEST_EQ_INT(batch_decode(one, sizeof(one), collect, &g), 0);
	TEST_EQ_INT(g.n, 1);
	got_free(&g);
	TEST_EQ_INT(batch_decode(upk, sizeof(upk), collect, &g), 0);
	TEST_EQ_INT(g.n, 1);
	if (g.n == 1)
		TEST_TRUE(g.r[0].n[0] == 36 &&
			  memcmp(g.r[0].f[0],
				 "56299769-b887-b354-b54b-f9ccd321c68d",
				 36) == 0);
	got_free(&g);
	/* the mark without a layout, with an unknown one, or layout 1
	 * marked (it never is) */
	TEST_EQ_INT(batch_decode("\x80\x00", 2, collect, &g), -1);
	TEST_EQ_INT(batch_decode("\x80\x00\x01\x00\x00", 5, collect, &g), -1);
	TEST_EQ_INT(batch_decode("\x80\x00\x03\x00\x00", 5, collect, &g), -1);
	TEST_EQ_INT(batch_decode("\x80\x00\x00\x00\x00", 5, collect, &g), -1);
	TEST_EQ_INT(batch_decode("\x80\x00\x80", 3, collect, &g), -1);
	TEST_EQ_INT(g.n, 0);
	/* the mark and layout, then nothing */
	TEST_EQ_INT(batch_decode("\x80\x00\x02", 3, collect, &g), -1);
	/* status index 3 of a 3-string table, raw and packed */
	for (k = 6; k <= 7; k++) {
		memcpy(c, one, sizeof(one));
		c[13] = (unsigned char)k;
		TEST_EQ_INT(batch_decode(c, sizeof(one), collect, &g), -1);
		memcpy(c, upk, sizeof(upk));
		c[13] = (unsigned char)k;
		TEST_EQ_INT(batch_decode(c, sizeof(upk), collect, &g), -1);
	}
	TEST_EQ_INT(g.n, 0);
	/* the packed flag on a raw id: 16 bytes wanted, 2 left */
	memcpy(c, one, sizeof(one));
	c[13] = 0x05;
	TEST_EQ_INT(batch_decode(c, sizeof(one), collect, &g), -1);
	/* no flag on a packed id: an id length of 0x56, 15 bytes left */
	memcpy(c, upk, sizeof(upk));
	c[13] = 0x04;
	TEST_EQ_INT(batch_decode(c, sizeof(upk), collect, &g), -1);
	TEST_EQ_INT(g.n, 0);
	/* a byte after the 16 (found after the record was delivered) */
	memcpy(c, upk, sizeof(upk));
	c[sizeof(upk)] = 0;
	TEST_EQ_INT(batch_decode(c, sizeof(upk) + 1, collect, &g), -1);
	got_free(&g);
}

/* ---- packed record ids ---- */

#define UUID "56299769-b887-b354-b54b-f9ccd321c68d"

/* The blob of one record (line 1, tenant "t", item "i", ts 0, qty 5, the
 * rest empty) with the given id. */
static void encode_one(struct batch *b, const char *id, size_t n,
		       const void **data, size_t *len)
{
	struct usage_rec r = R(1, "", "t", "i", 0, 5, "", "", "");

	r.record_id.p = id;
	r.record_id.n = n;
	batch_reset(b);
	batch_add(b, &r);
	batch_encode(b, data, len);
}

/* 1 if the one record of data decodes with record_id id[0..n) */
static int decodes_to(const void *data, size_t len, const char *id,
		      size_t n)
{
	struct got g = { 0 };
	int ok = batch_decode(data, len, collect, &g) == 0 && g.n == 1 &&
		 g.r[0].n[0] == n && memcmp(g.r[0].f[0], id, n) == 0;

	got_free(&g);
	return ok;
}

/* The blob head both record forms share: mark, table, nrec, and the
 * record's varints up to its status field. */
static const unsigned char head_one[] = {
	0x80, 0x00, 0x02,
	0x03, 0x01, 't', 0x01, 'i', 0x00,
	0x01,
	0x01, 0x00, 0x01,
};
/* after the status field: unit, dims, ts, qty */
static const unsigned char tail_one[] = { 0x02, 0x02, 0x00, 0x05 };

/* 1 if data is the blob of encode_one with id packed (to the 16 bytes
 * pk) or raw. */
static int is_blob(const unsigned char *data, size_t len, const char *id,
		   size_t n, const unsigned char *pk)
{
	size_t h = sizeof(head_one), t = sizeof(tail_one);

	if (len != h + 1 + t + (pk ? 16 : 1 + n) ||
	    memcmp(data, head_one, h) != 0 || data[h] != (pk ? 0x05 : 0x04) ||
	    memcmp(data + h + 1, tail_one, t) != 0)
		return 0;
	if (pk)
		return memcmp(data + h + 1 + t, pk, 16) == 0;
	return data[h + 1 + t] == n && memcmp(data + h + 2 + t, id, n) == 0;
}

static void test_uuid_packs(void)
{
	static const struct {
		const char *id;
		unsigned char pk[16];
	} packs[] = {
		{ UUID, { 0x56, 0x29, 0x97, 0x69, 0xb8, 0x87, 0xb3, 0x54,
			  0xb5, 0x4b, 0xf9, 0xcc, 0xd3, 0x21, 0xc6, 0x8d } },
		{ "00000000-0000-0000-0000-000000000000", { 0 } },
		{ "ffffffff-ffff-ffff-ffff-ffffffffffff",
		  { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
		{ "01234567-89ab-cdef-0a1b-2c3d4e5f6789",
		  { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
		    0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x67, 0x89 } },
	};
	struct batch *b = batch_new();
	const void *data;
	size_t len, i;

	for (i = 0; i < sizeof(packs) / sizeof(packs[0]); i++) {
		encode_one(b, packs[i].id, 36, &data, &len);
		/* 16 bytes for the id, and the flag costs none */
		TEST_EQ_INT(len, sizeof(head_one) + 1 + sizeof(tail_one) + 16);
		TEST_TRUE(is_blob(data, len, packs[i].id, 36, packs[i].pk));
		TEST_TRUE(decodes_to(data, len, packs[i].id, 36));
	}
	batch_free(b);
}

/* Ids that are UUID-like but not exactly the canonical lowercase form
 * stay raw and come back byte for byte. */
static void test_uuid_near_misses(void)
{
	static const char *const raw[] = {
		"56299769-B887-B354-B54B-F9CCD321C68D", /* uppercase */
		"56299769-b887-b354-b54b-f9ccd321c68D", /* one uppercase */
		"A6299769-b887-b354-b54b-f9ccd321c68d",
		"56299769b887-b354-b54b-f9ccd321c68d",  /* 35: a hyphen gone */
		"56299769-b887-b354-b54b-f9ccd321c68",  /* 35: a digit gone */
		UUID "0",                               /* 37 */
		"0" UUID,                               /* 37 */
		"5629976-9b887-b354-b54b-f9ccd321c68d", /* hyphen moved */
		"56299769-b887-b354-b54bf-9ccd321c68d",
		"56299769xb887-b354-b54b-f9ccd321c68d", /* not a hyphen */
		"56299769_b887_b354_b54b_f9ccd321c68d",
		"56299769 b887 b354 b54b f9ccd321c68d",
		"56299769-b887-b354-b54b-f9ccd321c68g", /* 'f' + 1 */
		"56299769-b887-b354-b54b-f9ccd321c68`", /* 'a' - 1 */
		"56299769-b887-b354-b54b-f9ccd321c68:", /* '9' + 1 */
		"56299769-b887-b354-b54b-f9ccd321c68/", /* '0' - 1 */
		"/6299769-b887-b354-b54b-f9ccd321c68d",
		"56299769-b887-b354-b54b-f9ccd321c6-d", /* '-' for a digit */
		"56299769-b887-b354-b54b-f9ccd32 1c68d",
		"{56299769-b887-b354-b54b-f9ccd321c68}",
		"urn:uuid:56299769-b887-b354-b54b-f9c",
		"------------------------------------",
		"56299769-b887-b354-b54b-f9ccd321c68",
		"56299769-b887-b354-b54b",
		"x",
	};
	struct batch *b = batch_new();
	const void *data;
	size_t len, i;

	for (i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
		size_t n = strlen(raw[i]);

		encode_one(b, raw[i], n, &data, &len);
		TEST_EQ_INT(len, sizeof(head_one) + 1 + sizeof(tail_one) +
				 1 + n);
		TEST_TRUE(is_blob(data, len, raw[i], n, NULL));
		TEST_TRUE(decodes_to(data, len, raw[i], n));
	}
	batch_free(b);
}

/* Every byte value at every position of a UUID: it packs exactly when
 * the id is still canonical, and always comes back as it was. */
static void test_uuid_each_byte(void)
{
	struct batch *b = batch_new();
	char id[37];
	const void *data;
	size_t len, pos;
	int c, wrong = 0;

	for (pos = 0; pos < 36; pos++) {
		for (c = 0; c < 256; c++) {
			int hyphen = pos == 8 || pos == 13 || pos == 18 ||
				     pos == 23;
			int canon = hyphen ? c == '-' :
				    (c >= '0' && c <= '9') ||
				    (c >= 'a' && c <= 'f');
			size_t want = sizeof(head_one) + 1 +
				      sizeof(tail_one) + (canon ? 16 : 37);

			memcpy(id, UUID, 37);
			id[pos] = (char)c;
			encode_one(b, id, 36, &data, &len);
			if (len != want || !decodes_to(data, len, id, 36)) {
				if (wrong++ < 5)
					fprintf(stderr, "byte %d at %zu: "
						"%zu bytes, want %zu\n", c,
						pos, len, want);
			}
		}
	}
	TEST_EQ_INT(wrong, 0);
	batch_free(b);
}

/* What batch_decode_ids gives for each record. */
struct got_ids {
	const struct span *strs;
	size_t nstr;
	uint32_t ids[8][5];
	char rid[8][40];
	size_t rid_n[8];
	size_t n;
};

static int ids_strs(void *ctx, const struct span *s, size_t n)
{
	struct got_ids *g = ctx;

	g->strs = s;
	g->nstr = n;
	return 0;
}

static int ids_rec(void *ctx, const struct usage_rec *r,
		   const uint32_t ids[5])
{
	struct got_ids *g = ctx;

	if (g->n == 8 || r->record_id.n > 40)
		return 1;
	memcpy(g->ids[g->n], ids, sizeof(g->ids[0]));
	memcpy(g->rid[g->n], r->record_id.p, r->record_id.n);
	g->rid_n[g->n] = r->record_id.n;
	/* the table given first is the one the record's spans are from */
	if (ids[2] >= g->nstr || g->strs[ids[2]].p != r->status.p ||
	    g->strs[ids[0]].p != r->tenant.p)
		return 2;
	g->n++;
	return 0;
}

static const char upper[] = "56299769-B887-B354-B54B-F9CCD321C68D";

/* Writes at blob a layout-1 blob, as the encoder before layout 2 made it,
 * with the ids that layout 2 packs or not and an odd status index (which
 * layout 2 would read as the packed flag); returns its length. */
static size_t old_blob(unsigned char *blob)
{
	/* strings "t" "i" "" "failed" */
	static const unsigned char table[] = {
		0x04, 0x01, 't', 0x01, 'i', 0x00, 0x06,
		'f', 'a', 'i', 'l', 'e', 'd',
		0x04,
	};
	/* (line delta, tenant, item, status, unit, dims, ts, qty, id_len) */
	static const unsigned char rec1[] = {
		0x01, 0x00, 0x01, 0x02, 0x02, 0x02, 0x00, 0x05, 36,
	};
	static const unsigned char rec2[] = {
		0x01, 0x00, 0x01, 0x03, 0x02, 0x02, 0x02, 0x00, 36,
	};
	static const unsigned char rec3[] = {
		0x02, 0x00, 0x01, 0x02, 0x02, 0x02, 0x00, 0x07, 0x01, 'x',
	};
	static const unsigned char rec4[] = {
		0x01, 0x00, 0x01, 0x03, 0x02, 0x02, 0x01, 0x07, 0x00,
	};
	size_t n = 0;

#define CAT(p, len) (memcpy(blob + n, (p), (len)), n += (len))
	CAT(table, sizeof(table));
	CAT(rec1, sizeof(rec1));
	CAT(UUID, 36);
	CAT(rec2, sizeof(rec2));
	CAT(upper, 36);
	CAT(rec3, sizeof(rec3));
	CAT(rec4, sizeof(rec4));
#undef CAT
	return n;
}

/* old_blob() decodes as it always did. */
static void test_old_layout(void)
{
	struct usage_rec want[4];
	unsigned char blob[160];
	size_t n = old_blob(blob), k, len;
	struct got g = { 0 };
	struct got_ids gi;
	struct batch *b = batch_new();
	const void *data;
	static const uint32_t status[4] = { 2, 3, 2, 3 };

	want[0] = R(1, UUID, "t", "i", 0, 5, "", "", "");
	want[1] = R(2, upper, "t", "i", 1, 0, "failed", "", "");
	want[2] = R(4, "x", "t", "i", 1, 7, "", "", "");
	/* an empty id: ingest never stores one, the encoder allowed it */
	want[3] = R(5, "", "t", "i", 0, 7, "failed", "", "");

	TEST_EQ_INT(batch_decode(blob, n, collect, &g), 0);
	TEST_EQ_INT(g.n, 4);
	if (g.n == 4)
		for (k = 0; k < 4; k++)
			check_rec(&g.r[k], &want[k]);
	got_free(&g);
	TEST_EQ_INT(prefixes_decoding(blob, n), 0);

	memset(&gi, 0, sizeof(gi));
	TEST_EQ_INT(batch_decode_ids(blob, n, ids_strs, ids_rec, &gi), 0);
	TEST_EQ_INT(gi.nstr, 4);
	TEST_EQ_INT(gi.n, 4);
	for (k = 0; k < gi.n; k++) {
		TEST_EQ_INT(gi.ids[k][0], 0);
		TEST_EQ_INT(gi.ids[k][1], 1);
		TEST_EQ_INT(gi.ids[k][2], status[k]);
		TEST_EQ_INT(gi.ids[k][3], 2);
		TEST_EQ_INT(gi.ids[k][4], 2);
		TEST_TRUE(span_is(gi.rid[k], gi.rid_n[k], want[k].record_id));
	}

	/* the same records encoded now: the UUID packs (21 bytes fewer,
	 * the rest as raw as before), plus the 3-byte mark */
	for (k = 0; k < 4; k++)
		batch_add(b, &want[k]);
	batch_encode(b, &data, &len);
	TEST_EQ_INT(len, n + 3 - 21);
	memset(&gi, 0, sizeof(gi));
	TEST_EQ_INT(batch_decode_ids(data, len, ids_strs, ids_rec, &gi), 0);
	TEST_EQ_INT(gi.n, 4);
	for (k = 0; k < gi.n; k++) {
		TEST_EQ_INT(gi.ids[k][2], status[k]);
		TEST_TRUE(span_is(gi.rid[k], gi.rid_n[k], want[k].record_id));
	}
	batch_free(b);
}

/* Record keys come from the id text: the same (tenant, id) gives the same
 * key packed or raw, in a new batch or an old one, so duplicates across
 * them are found. */
static void test_keys_from_text(void)
{
	static const char *const ids[] = {
		UUID, "56299769-B887-B354-B54B-F9CCD321C68D",
		"00000000-0000-0000-0000-000000000000", "x",
	};
	struct batch *b = batch_new();
	struct usage_rec recs[8];
	uint64_t want[8];
	const uint64_t *keys;
	size_t n = 0, nk, i, j;
	const void *data;
	size_t len;
	struct got g = { 0 };
	unsigned char blob[160];

	for (i = 0; i < 4; i++) {
		recs[n] = R(n + 1, ids[i], "tenant-a", "cpu", 0, 1, "", "", "");
		want[n] = batch_key(S("tenant-a"), S(ids[i]));
		n++;
		recs[n] = R(n + 1, ids[i], "tenant-b", "cpu", 0, 1, "", "", "");
		want[n] = batch_key(S("tenant-b"), S(ids[i]));
		n++;
	}
	for (i = 0; i < n; i++)
		batch_add(b, &recs[i]);
	batch_encode(b, &data, &len);
	/* decoded records key as the originals did */
	TEST_EQ_INT(batch_decode(data, len, collect, &g), 0);
	TEST_EQ_INT(g.n, n);
	for (i = 0; i < g.n && i < n; i++) {
		struct span t, r;

		t.p = g.r[i].f[1];
		t.n = g.r[i].n[1];
		r.p = g.r[i].f[0];
		r.n = g.r[i].n[0];
		TEST_TRUE(batch_key(t, r) == want[i]);
	}
	got_free(&g);
	/* the stored keys are the same set, sorted */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && want[j - 1] > want[j]; j--) {
			uint64_t x = want[j];

			want[j] = want[j - 1];
			want[j - 1] = x;
		}
	batch_keys(b, &keys, &nk);
	TEST_EQ_INT(nk, n);
	TEST_TRUE(nk == n && memcmp(keys, want, n * sizeof(*keys)) == 0);
	batch_free(b);

	/* the UUID of a layout-1 blob keys as a packed one does */
	b = batch_new();
	recs[0] = R(1, UUID, "t", "i", 0, 5, "", "", "");
	batch_add(b, &recs[0]);
	batch_keys(b, &keys, &nk);
	TEST_EQ_INT(nk, 1);
	batch_encode(b, &data, &len);
	TEST_EQ_INT(batch_decode(data, len, collect, &g), 0);
	len = old_blob(blob);
	TEST_EQ_INT(batch_decode(blob, len, collect, &g), 0);
	TEST_EQ_INT(g.n, 5);
	if (g.n == 5) {
		struct span t = { g.r[1].f[1], g.r[1].n[1] };
		struct span r = { g.r[1].f[0], g.r[1].n[0] };

		TEST_TRUE(span_is(g.r[1].f[0], g.r[1].n[0], S(UUID)));
		TEST_TRUE(batch_key(t, r) == keys[0]);
		t.p = g.r[0].f[1];
		r.p = g.r[0].f[0];
		TEST_TRUE(batch_key(t, r) == keys[0]);
	}
	got_free(&g);
	batch_free(b);
}

/* ---- sorted keys at every size and shape ---- */

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return (a > b) - (a < b);
}

/* room for "id-%zu-%zu" of any size_t pair: the sanitizer build checks it */
#define IDLEN 48

/* Adds records with ids[0..n) (tenant "t") and checks batch_keys against
 * batch_key() of each, sorted by qsort: the same multiset, ascending. */
static void check_keys(struct batch *b, char (*ids)[IDLEN], size_t n)
{
	uint64_t *want = calloc(n ? n : 1, sizeof(*want));
	const uint64_t *keys;
	struct usage_rec r;
	size_t k, nk;

	batch_reset(b);
	for (k = 0; k < n; k++) {
		r = R(k + 1, ids[k], "t", "i", 0, 1, "", "", "");
		batch_add(b, &r);
		want[k] = batch_key(S("t"), S(ids[k]));
	}
	qsort(want, n, sizeof(*want), cmp_u64);
	batch_keys(b, &keys, &nk);
	TEST_EQ_INT(nk, n);
	TEST_TRUE(nk == n && (n == 0 || memcmp(keys, want, n * sizeof(*keys)) == 0));
	free(want);
}

static void test_keys_sorted(void)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 16, 17, 255, 256, 4097,
					100000 };
	size_t big = 100000, k, m, s;
	char (*ids)[IDLEN] = calloc(big, sizeof(*ids));
	struct batch *b = batch_new();

	/* random-looking ids: the keys spread over every part */
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (k = 0; k < sizes[s]; k++)
			snprintf(ids[k], sizeof(ids[k]), "id-%zu-%zu", s, k);
		check_keys(b, ids, sizes[s]);
	}
	/* repeated ids: equal keys side by side */
	for (k = 0; k < 5000; k++)
		snprintf(ids[k], sizeof(ids[k]), "dup-%zu", k % 7);
	check_keys(b, ids, 5000);
	/* ids whose keys share their top 16 bits (found by search, as a
	 * crafted file could hold them): one large group, sorted by the
	 * fallback, among 3000 others */
	m = 0;
	for (k = 0; m < 40; k++) {
		char id[IDLEN];

		snprintf(id, sizeof(id), "x%zu", k);
		if (batch_key(S("t"), S(id)) >> 48 == 0x1234)
			memcpy(ids[m++], id, sizeof(id));
	}
	for (k = 0; k < 3000; k++)
		snprintf(ids[m + k], sizeof(ids[0]), "other-%zu", k);
	check_keys(b, ids, m + 3000);
	/* and only they: every key in one part and one group */
	check_keys(b, ids, m);
	batch_free(b);
	free(ids);
}

/* ---- callback stops ---- */

static void test_stop(void)
{
	struct batch *b = batch_new();
	struct usage_rec recs[5];
	const void *data;
	size_t len, k;
	struct got g = { 0 };

	for (k = 0; k < 5; k++)
		recs[k] = R(k + 1, "r", "t", "i", (int64_t)k, (dec_t)k, "", "",
			    "");
	for (k = 0; k < 5; k++)
		batch_add(b, &recs[k]);
	batch_encode(b, &data, &len);

	g.stop_at = 2;
	g.stop_rc = 7;
	TEST_EQ_INT(batch_decode(data, len, collect, &g), 7);
	TEST_EQ_INT(g.n, 2);
	got_free(&g);

	g.stop_at = 1;
	g.stop_rc = -9;
	TEST_EQ_INT(batch_decode(data, len, collect, &g), -9);
	TEST_EQ_INT(g.n, 1);
	got_free(&g);

	g.stop_at = 5;
	g.stop_rc = 3;
	TEST_EQ_INT(batch_decode(data, len, collect, &g), 3);
	TEST_EQ_INT(g.n, 5);
	got_free(&g);
	batch_free(b);
}

int main(void)
{
	test_layout();
	test_extremes();
	test_many_strings();
	test_intern_once();
	test_intern_long_alike();
	test_reset();
	test_truncated();
	test_corrupt();
	test_corrupt_packed();
	test_uuid_packs();
	test_uuid_near_misses();
	test_uuid_each_byte();
	test_old_layout();
	test_keys_from_text();
	test_keys_sorted();
	test_stop();
	/* last: under UBSan a failure here ends the run */
	test_empty();
	return TEST_REPORT();
}
