/* Tests of gzsrc's two decoders (gzsrc.h, SPEC 10 v2): zlib is the
 * reference; igzip (ISA-L, where built in) must give the same text and the
 * same failure, class and message, for every input, at every raw read
 * size. Each input below is read with both, at every read size from 1 to
 * its length + 1 for small inputs (a set of sizes for large ones), and the
 * two results compared byte for byte; the expected failures of a few are
 * written out, from RFC 1952 and zlib's own messages (the e2e cases and
 * tests/test_usage.c pin the rest). Without ISA-L the second decoder is
 * zlib again and the test checks only that. Also SETTLE_INFLATE's parse. */
#include "gzsrc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "mem.h"
#include "testhelp.h"
#include "banned.h"

struct buf {
	unsigned char *p;
	size_t n, cap;
};

static void buf_add(struct buf *b, const void *s, size_t n)
{
	xgrow((void **)&b->p, &b->cap, b->n + n + 1, 1);
	if (n)
		memcpy(b->p + b->n, s, n);
	b->n += n;
}

/* One read's result: the text, and 0 or the failure's message. */
struct result {
	struct buf text;
	int rc;
	char msg[sizeof(((struct err *)0)->msg)];
};

static int collect(void *ctx, const unsigned char *p, size_t n,
		   uint64_t raw_read)
{
	(void)raw_read;
	buf_add(ctx, p, n);
	return 0;
}

static void read_with(const struct buf *in, enum gzsrc_inflate which,
		      size_t rsize, const struct gzsrc_limits *lim,
		      struct result *r)
{
	struct gzsrc *s = gzsrc_open_mem(in->p, in->n, "f.gz", lim);
	struct err e;

	err_clear(&e);
	r->text.n = 0;
	gzsrc_set_inflate(s, which);
	gzsrc_set_read_size(s, rsize);
	r->rc = gzsrc_read(s, collect, &r->text, &e);
	snprintf(r->msg, sizeof(r->msg), "%s", r->rc ? e.msg : "");
	gzsrc_free(s);
}

static struct result rz, ri;
static long compared;

/* Reads in with both decoders at read size rsize: same rc, message, text. */
static void same_at(const struct buf *in, size_t rsize,
		    const struct gzsrc_limits *lim, const char *what)
{
	read_with(in, GZSRC_INFLATE_ZLIB, rsize, lim, &rz);
	read_with(in, GZSRC_INFLATE_ISAL, rsize, lim, &ri);
	compared++;
	if (rz.rc == ri.rc && strcmp(rz.msg, ri.msg) == 0 &&
	    rz.text.n == ri.text.n &&
	    (rz.text.n == 0 || memcmp(rz.text.p, ri.text.p, rz.text.n) == 0))
		return;
	fprintf(stderr, "%s, read size %zu: zlib %d '%s' %zu bytes; isal %d '%s' %zu bytes\n",
		what, rsize, rz.rc, rz.msg, rz.text.n, ri.rc, ri.msg,
		ri.text.n);
	TEST_TRUE(!"both decoders give the same");
}

/* same_at at every read size 1..n+1 (at most `upto`), and the default. */
static void same(const struct buf *in, const struct gzsrc_limits *lim,
		 size_t upto, const char *what)
{
	size_t k;

	for (k = 1; k <= in->n + 1 && k <= upto; k++)
		same_at(in, k, lim, what);
	same_at(in, 0, lim, what);
}

/* Appends one gzip member of text[0..n) at level (RFC 1952, zlib). */
static void member(struct buf *b, const void *text, size_t n, int level)
{
	unsigned char tmp[1 << 14];
	z_stream z;
	int zr;

	memset(&z, 0, sizeof(z));
	deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (Bytef *)(uintptr_t)text;
	z.avail_in = (uInt)n;
	do {
		z.next_out = tmp;
		z.avail_out = sizeof(tmp);
		zr = deflate(&z, Z_FINISH);
		buf_add(b, tmp, sizeof(tmp) - z.avail_out);
	} while (zr == Z_OK);
	deflateEnd(&z);
}

/* CSV-like lines, n bytes, from a fixed seed: compresses about 3:1. */
static void lines(struct buf *b, size_t n)
{
	uint32_t x = 12345;
	char line[80];

	while (b->n < n) {
		int k;

		x = x * 1103515245u + 12345u;
		k = snprintf(line, sizeof(line), "r%u,t%u,item-%u,2026-10-%02uT00:00:00Z,%u\n",
			     x >> 8, (x >> 3) % 50, (x >> 11) % 300,
			     1 + (x >> 5) % 28, (x >> 17) % 1000);
		buf_add(b, line, (size_t)k < n - b->n ? (size_t)k : n - b->n);
	}
}

static const char *csv = "record_id,tenant_id,item,ts,quantity\n"
			 "r1,t1,cpu,2026-10-01T00:00:00Z,1\n"
			 "r2,t1,cpu,2026-10-02T00:00:00Z,2\n";

/* ---- small inputs: every read size ---- */

static void test_small(void)
{
	struct buf one = {0}, b = {0};
	size_t i;

	member(&one, csv, strlen(csv), 6);
	same(&one, NULL, SIZE_MAX, "one member");
	TEST_EQ_INT(rz.rc, 0);
	TEST_EQ_INT(rz.text.n, strlen(csv));

	/* multi-member, read whole; empty members anywhere */
	member(&b, "", 0, 6);
	member(&b, csv, 20, 1);
	member(&b, "", 0, 9);
	member(&b, csv + 20, strlen(csv) - 20, 0);
	member(&b, "", 0, 6);
	same(&b, NULL, SIZE_MAX, "members");
	TEST_EQ_INT(rz.rc, 0);
	TEST_EQ_INT(rz.text.n, strlen(csv));

	/* only empty members: no text, no failure (the reader's to fail) */
	b.n = 0;
	member(&b, "", 0, 6);
	member(&b, "", 0, 6);
	same(&b, NULL, SIZE_MAX, "empty members");
	TEST_EQ_INT(rz.rc, 0);
	TEST_EQ_INT(rz.text.n, 0);

	/* truncated at every byte */
	for (i = 2; i < one.n; i++) {
		b.n = 0;
		buf_add(&b, one.p, i);
		same(&b, NULL, 8, "truncated");
		TEST_EQ_STR(rz.msg, "truncated gzip in 'f.gz'");
	}

	/* bad CRC-32, bad ISIZE (RFC 1952 2.3.1: the last 8 bytes) */
	b.n = 0;
	buf_add(&b, one.p, one.n);
	b.p[b.n - 8] ^= 1;
	same(&b, NULL, SIZE_MAX, "bad crc");
	TEST_EQ_STR(rz.msg, "corrupt gzip in 'f.gz': incorrect data check");
	b.p[b.n - 8] ^= 1;
	b.p[b.n - 1] ^= 0x80;
	same(&b, NULL, SIZE_MAX, "bad isize");
	TEST_EQ_STR(rz.msg, "corrupt gzip in 'f.gz': incorrect length check");

	/* trailing garbage, a member cut short after a whole one */
	{
		static const struct { const char *s; size_t n; } tail[] = {
			{ "x", 1 }, { "\0\0\0\0", 4 }, { "\x1f", 1 },
			{ "\x1f\x8c", 2 }, { "\x1f\x8b", 2 },
			{ "\x1f\x8b\x08", 3 }, { "\x1f\x8b\x07\0", 4 },
			{ "\x1f\x8b\x08\0\0\0\0\0\0\x03", 10 },
		};
		for (i = 0; i < sizeof(tail) / sizeof(tail[0]); i++) {
			b.n = 0;
			buf_add(&b, one.p, one.n);
			buf_add(&b, tail[i].s, tail[i].n);
			same(&b, NULL, SIZE_MAX, "after a member");
			TEST_TRUE(rz.rc != 0);
		}
	}

	/* reserved FLG bits (zlib refuses, igzip would not), FHCRC, FNAME */
	b.n = 0;
	buf_add(&b, one.p, one.n);
	b.p[3] |= 0x20;
	same(&b, NULL, SIZE_MAX, "reserved flag");
	TEST_EQ_STR(rz.msg, "corrupt gzip in 'f.gz': unknown header flags set");
	{
		/* header with FNAME "a" and FHCRC, then one's deflate data */
		unsigned char h[16] = { 0x1f, 0x8b, 8, 0x0a, 0, 0, 0, 0, 0, 3,
					'a', 0 };
		uLong c = crc32(0, h, 12);

		h[12] = (unsigned char)(c & 0xff);
		h[13] = (unsigned char)(c >> 8);
		b.n = 0;
		buf_add(&b, h, 14);
		buf_add(&b, one.p + 10, one.n - 10);
		same(&b, NULL, SIZE_MAX, "fname fhcrc");
		TEST_EQ_INT(rz.rc, 0);
		b.p[12] ^= 1;
		same(&b, NULL, SIZE_MAX, "bad fhcrc");
		TEST_EQ_STR(rz.msg, "corrupt gzip in 'f.gz': header crc mismatch");
	}

	/* every byte of a member flipped in turn (bit 0, then bit 6) */
	for (i = 0; i < one.n; i++) {
		int bit;

		for (bit = 0; bit < 8; bit += 6) {
			b.n = 0;
			buf_add(&b, one.p, one.n);
			b.p[i] ^= (unsigned char)(1 << bit);
			same(&b, NULL, 4, "flipped byte");
		}
	}
	free(one.p);
	free(b.p);
}

/* Random deflate data after a gzip header: zlib refuses most of it at
 * once (incomplete or bad code sets), igzip would decode some of it. */
static void test_garbage(void)
{
	struct buf b = {0};
	uint32_t x = 7;
	int t, i;

	for (t = 0; t < 300; t++) {
		b.n = 0;
		buf_add(&b, "\x1f\x8b\x08\0\0\0\0\0\0\x03", 10);
		for (i = 0; i < 200 + t * 7; i++) {
			unsigned char c;

			x = x * 1103515245u + 12345u;
			c = (unsigned char)(x >> 16);
			if (i == 0)
				c = (unsigned char)((c & ~6u) | (t % 3 == 0 ? 4 : 2));
			buf_add(&b, &c, 1);
		}
		same_at(&b, 0, NULL, "garbage");
		same_at(&b, 1 + (size_t)t % 37, NULL, "garbage");
	}
	free(b.p);
}

/* ---- large inputs: held text, published text, limits ---- */

static void test_large(void)
{
	static const size_t sizes[] = { 1, 4093, 65536, 262144, 0 };
	struct buf text = {0}, gz = {0}, b = {0};
	struct gzsrc_limits lim;
	size_t i, k;

	lines(&text, (size_t)5 << 20);     /* past GZSRC_HOLD: published */
	member(&gz, text.p, text.n, 6);
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
		same_at(&gz, sizes[k], NULL, "large");
	TEST_EQ_INT(rz.rc, 0);
	TEST_EQ_INT(rz.text.n, text.n);

	/* failures after text was published: zlib replays the member */
	b.n = 0;
	buf_add(&b, gz.p, gz.n);
	b.p[b.n - 5] ^= 4;
	same_at(&b, 0, NULL, "large bad crc");
	TEST_EQ_STR(rz.msg, "corrupt gzip in 'f.gz': incorrect data check");
	TEST_EQ_INT(rz.text.n, text.n);
	for (i = 1; i < 5; i++) {
		b.n = 0;
		buf_add(&b, gz.p, gz.n * i / 5);
		same_at(&b, 0, NULL, "large truncated");
		same_at(&b, 65536, NULL, "large truncated");
		TEST_EQ_STR(rz.msg, "truncated gzip in 'f.gz'");
	}
	b.n = 0;
	buf_add(&b, gz.p, gz.n);
	b.p[gz.n / 2] ^= 0x10;
	same_at(&b, 0, NULL, "large corrupt");
	TEST_TRUE(rz.rc != 0);
	b.n = 0;
	member(&b, csv, strlen(csv), 6);
	buf_add(&b, gz.p, gz.n);
	buf_add(&b, "junk", 4);
	same_at(&b, 0, NULL, "large then junk");
	TEST_EQ_STR(rz.msg, "trailing garbage after gzip data in 'f.gz'");

	/* the size limit at and around the text's length, in members */
	b.n = 0;
	member(&b, text.p, text.n / 3, 6);
	member(&b, text.p + text.n / 3, text.n - text.n / 3, 6);
	{
		const uint64_t caps[] = { 1, 262144, text.n / 3, text.n - 1,
					  text.n, text.n + 1 };
		for (k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
			lim.max_ratio = 0;
			lim.max_bytes = caps[k];
			same_at(&b, 0, &lim, "size limit");
			same_at(&b, 100000, &lim, "size limit");
			TEST_EQ_INT(rz.rc != 0, caps[k] < text.n);
		}
	}
	/* the ratio limit near the text's own ratio (~2.5), and a bomb */
	for (k = 1; k <= 6; k++) {
		lim.max_ratio = k;
		lim.max_bytes = 0;
		same_at(&gz, 0, &lim, "ratio limit");
		same_at(&gz, 30000, &lim, "ratio limit");
	}
	text.n = 0;
	xgrow((void **)&text.p, &text.cap, (size_t)8 << 20, 1);
	memset(text.p, 'a', (size_t)8 << 20);
	text.n = (size_t)8 << 20;
	gz.n = 0;
	member(&gz, text.p, text.n, 9);
	same_at(&gz, 0, NULL, "bomb");
	TEST_EQ_STR(rz.msg, "gzip in 'f.gz' inflates past 1000 times its size (limit SETTLE_GZIP_MAX_RATIO)");
	for (k = 500; k <= 1100; k += 100) {
		lim.max_ratio = k;
		lim.max_bytes = 0;
		same_at(&gz, 0, &lim, "bomb ratio");
	}
	free(text.p);
	free(gz.p);
	free(b.p);
}

static void test_parse(void)
{
	enum gzsrc_inflate w;
	struct err e;

	err_clear(&e);
	TEST_EQ_INT(gzsrc_inflate_parse(NULL, &w, &e), 0);
	TEST_EQ_INT(w, GZSRC_INFLATE_DEFAULT);
	TEST_EQ_INT(gzsrc_inflate_parse("", &w, &e), 0);
	TEST_EQ_INT(gzsrc_inflate_parse("auto", &w, &e), 0);
	TEST_EQ_INT(w, GZSRC_INFLATE_DEFAULT);
	TEST_EQ_INT(gzsrc_inflate_parse("zlib", &w, &e), 0);
	TEST_EQ_INT(w, GZSRC_INFLATE_ZLIB);
	if (gzsrc_have_isal()) {
		TEST_EQ_INT(gzsrc_inflate_parse("isal", &w, &e), 0);
		TEST_EQ_INT(w, GZSRC_INFLATE_ISAL);
	} else {
		TEST_EQ_INT(gzsrc_inflate_parse("isal", &w, &e), ST_ERROR);
		TEST_EQ_STR(e.msg, "SETTLE_INFLATE=isal, but this settle was built without ISA-L");
	}
	TEST_EQ_INT(gzsrc_inflate_parse("ZLIB", &w, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, "bad SETTLE_INFLATE 'ZLIB' (zlib, isal or auto)");
	TEST_EQ_INT(gzsrc_inflate_parse("x\ny", &w, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, "bad SETTLE_INFLATE 'x?y' (zlib, isal or auto)");
	TEST_EQ_INT(gzsrc_inflate_parse("0123456789012345678901234567", &w, &e),
		    ST_ERROR);
	TEST_EQ_STR(e.msg, "bad SETTLE_INFLATE '01234567890123456789012...' (zlib, isal or auto)");
}

int main(void)
{
	printf("test_gzsrc: second decoder is %s\n",
	       gzsrc_have_isal() ? "ISA-L igzip" : "zlib (no ISA-L built in)");
	test_parse();
	test_small();
	test_garbage();
	test_large();
	TEST_TRUE(compared > 0);
	free(rz.text.p);
	free(ri.text.p);
	return TEST_REPORT();
}
