/* Unit tests for batch. Expected blobs are written byte by byte from the
 * layout documented in batch.h (LEB128 varints, zigzag ts deltas, strings
 * in the order records first use them); round trips compare every field. */
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

static void test_layout(void)
{
	struct batch *b = batch_new();
	struct usage_rec r1 = R(1, "r", "t", "i", 0, 5, "", "", "");
	struct usage_rec r2 = R(3, "s", "t", "j", -3, 300, "", "", "");
	/* nstr=3: "t" "i" ""; nrec=1; line+1, t=0 i=1 status/unit/dims=2,
	 * ts zigzag(0)=0, qty 5, id "r" */
	static const unsigned char one[] = {
		0x03, 0x01, 't', 0x01, 'i', 0x00,
		0x01,
		0x01, 0x00, 0x01, 0x02, 0x02, 0x02, 0x00, 0x05, 0x01, 'r',
	};
	/* then "j" is string 3; line +2, ts -3 zigzags to 5, qty 300 =
	 * 0xac 0x02 */
	static const unsigned char two[] = {
		0x04, 0x01, 't', 0x01, 'i', 0x00, 0x01, 'j',
		0x02,
		0x01, 0x00, 0x01, 0x02, 0x02, 0x02, 0x00, 0x05, 0x01, 'r',
		0x02, 0x00, 0x03, 0x02, 0x02, 0x02, 0x05, 0xac, 0x02, 0x01, 's',
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

	/* the hand-written blob decodes to the two records */
	TEST_EQ_INT(batch_decode(two, sizeof(two), collect, &g), 0);
	TEST_EQ_INT(g.n, 2);
	if (g.n == 2) {
		check_rec(&g.r[0], &r1);
		check_rec(&g.r[1], &r2);
	}
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

	/* in the blob: 4 strings ("tenant-aaaa", "cpu", "", "tenant-bbbb") */
	batch_encode(b, &data, &len);
	p = data;
	TEST_TRUE(len > 0);
	TEST_EQ_INT(p[0], 4);
	/* 1 + (1+11) + (1+3) + 1 + (1+11) bytes of table, then nrec 4 */
	TEST_EQ_INT(p[1 + 12 + 4 + 1 + 12], 4);
	batch_free(b);
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
	TEST_EQ_INT(l1, 2);
	TEST_TRUE(l1 == 2 && memcmp(d1, "\0\0", 2) == 0);
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
	TEST_EQ_INT(len, 2);
	TEST_TRUE(len == 2 && memcmp(data, "\0\0", 2) == 0);
	TEST_EQ_INT(batch_decode(data, len, collect, &g), 0);
	TEST_EQ_INT(g.n, 0);
	got_free(&g);
	batch_free(b);
}

/* ---- malformed blobs ---- */

static void test_truncated(void)
{
	struct batch *b = batch_new();
	struct usage_rec recs[4];
	char id128[129];
	const void *data;
	size_t len, k;
	unsigned char *copy;
	int bad = 0;
	struct got g = { 0 };

	memset(id128, 'q', 128);
	id128[128] = '\0';
	recs[0] = R(1, "a", "t1", "cpu", INT64_MIN, INT64_MAX, "ok", "k=v",
		    "min");
	recs[1] = R(300, id128, "t2", "gpu", INT64_MAX, 300, "", "", "");
	recs[2] = R(301, "c", "t1", "gpu", -5, 0, "failed", "", "");
	recs[3] = R(1ULL << 50, "d", "t3", "cpu", 0, 1, "", "k=w", "");
	for (k = 0; k < 4; k++)
		batch_add(b, &recs[k]);
	batch_encode(b, &data, &len);
	/* each prefix in its own exact-size allocation, so ASan sees any
	 * read past the end */
	for (k = 0; k < len; k++) {
		int rc;

		copy = xmalloc(k ? k : 1);
		memcpy(copy, data, k);
		rc = batch_decode(copy, k, collect, &g);
		if (rc != -1 && bad++ < 3)
			fprintf(stderr, "prefix %zu of %zu bytes decoded "
				"to %d, not -1\n", k, len, rc);
		got_free(&g);
		free(copy);
	}
	TEST_EQ_INT(bad, 0);

	/* a trailing byte is malformed too */
	copy = xmalloc(len + 1);
	memcpy(copy, data, len);
	copy[len] = 0;
	TEST_EQ_INT(batch_decode(copy, len + 1, collect, &g), -1);
	got_free(&g);
	/* the whole blob still decodes */
	TEST_EQ_INT(batch_decode(copy, len, collect, &g), 0);
	TEST_EQ_INT(g.n, 4);
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
	test_reset();
	test_truncated();
	test_corrupt();
	test_stop();
	/* last: under UBSan a failure here ends the run */
	test_empty();
	return TEST_REPORT();
}
