/* Tests of access points (gzindex.h) and of reads resumed from them
 * (gzsrc_resume, usage_resume).
 *
 * The oracle is always a plain read from byte 0 with zlib, the reference
 * decoder: for every input below (gzip -1 and -9, one member or several,
 * a member boundary exactly at a point, a few sizes), every point an
 * indexed read makes is resumed from with a few sync offsets, and the
 * text handed over must be exactly the full text's [0, head) followed by
 * its [sync, end) - byte for byte, with the jump reported once, between
 * the two. A point that does not fit (a wrong offset, wrong bits, a wrong
 * check) must give the whole text after head with no jump (fallback to
 * byte 0), and a damaged packed point must be refused with its message.
 * The CSV reader resumed from a point must deliver exactly the records a
 * read from byte 0 delivers after the same skip, with the same record
 * numbers. */
#include "gzindex.h"
#include "gzsrc.h"
#include "usage.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "mem.h"
#include "testhelp.h"
#include "banned.h"

#define SPAN (256u * 1024u)

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

/* Appends one gzip member of text[0..n) at level. */
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

/* CSV rows after a header, n bytes or a little more (whole rows), from a
 * fixed seed; every 97th row with a quoted cell with a comma inside, and
 * every 89th with a quoted cell over two lines (libcsv's path), so that
 * a row spans the place of some points, and every 83rd with a quantity
 * that is no number (a reject, bad_quantity). */
static void csv_text(struct buf *b, size_t n)
{
	uint32_t x = 777;
	unsigned i = 0;
	char line[128];

	buf_add(b, "record_id,tenant_id,item,ts,quantity,dims\n", 42);
	while (b->n < n) {
		int k;

		x = x * 1103515245u + 12345u;
		i++;
		k = snprintf(line, sizeof(line),
			     i % 83 == 0 ? "r%u-%u,t%u,item%u,2026-10-%02uT00:00:00Z,x%u,\n" :
			     i % 89 == 0 ? "r%u-%u,t%u,item%u,2026-10-%02uT00:00:00Z,%u,\"a=1\nb=2\"\n" :
			     i % 97 ? "r%u-%u,t%u,item%u,2026-10-%02uT00:00:00Z,%u,\n" :
			     "r%u-%u,t%u,item%u,2026-10-%02uT00:00:00Z,%u,\"a=1,b=2\"\n",
			     i, x >> 8, (x >> 3) % 50, (x >> 11) % 300,
			     1 + (x >> 5) % 28, (x >> 17) % 1000);
		buf_add(b, line, (size_t)k);
	}
}

/* ---- reads ---- */

struct got {
	struct buf text;
	struct gzindex_point *pts;
	size_t npts;
	size_t jumps, jump_at;   /* jumps, and text handed before it */
	uint64_t sync;           /* a resumed read's: text offset after it */
};

static int collect(void *ctx, const unsigned char *p, size_t n,
		   uint64_t raw_read)
{
	struct got *g = ctx;

	(void)raw_read;
	TEST_TRUE(n > 0);
	buf_add(&g->text, p, n);
	return 0;
}

static void on_point(void *ctx, const struct gzindex_point *p)
{
	struct got *g = ctx;

	uint64_t at = g->jumps ? g->text.n - g->jump_at + g->sync : g->text.n;

	/* handed between the text before it and the text after (whose
	 * offset, after a jump, is the sync's plus what came since); a
	 * point in the text a jump drops comes before the text at sync */
	TEST_TRUE(at == p->out || (g->jumps && p->out < g->sync &&
				   at == g->sync));
	g->pts = xrealloc(g->pts, (g->npts + 1) * sizeof(*g->pts));
	g->pts[g->npts++] = *p;
}

static void on_jump(void *ctx)
{
	struct got *g = ctx;

	g->jumps++;
	g->jump_at = g->text.n;
}

static void got_free(struct got *g)
{
	free(g->text.p);
	free(g->pts);
	memset(g, 0, sizeof(*g));
}

/* Reads gz with zlib; indexed when span, resumed from p when p. Returns
 * gzsrc_read's value; msg: its message. */
static const struct gzsrc_limits *lim; /* NULL: the defaults */

static int read_gz(const struct buf *gz, uint64_t span,
		   const struct gzindex_point *p, size_t rsize, struct got *g,
		   char *msg, int *resumed)
{
	struct gzsrc *s = gzsrc_open_mem(gz->p, gz->n, "f.gz", lim);
	struct err e;
	int rc;

	err_clear(&e);
	memset(g, 0, sizeof(*g));
	gzsrc_set_inflate(s, GZSRC_INFLATE_ZLIB);
	gzsrc_set_read_size(s, rsize);
	if (span)
		gzsrc_index(s, span, on_point);
	if (p) {
		gzsrc_resume(s, p, on_jump);
		g->sync = p->sync;
	}
	rc = gzsrc_read(s, collect, g, &e);
	snprintf(msg, sizeof(e.msg), "%s", rc ? e.msg : "");
	if (resumed)
		*resumed = gzsrc_resumed(s);
	gzsrc_free(s);
	return rc;
}

static int same_text(const struct buf *a, const unsigned char *b, size_t n)
{
	return a->n == n && (n == 0 || memcmp(a->p, b, n) == 0);
}

/* Every point of gz (text full, read whole with rc/msg), resumed with
 * head and sync chosen around it: full[0, head) + full[sync, end). */
static void resume_every_point(const char *what, const struct buf *gz,
			       const struct buf *full, int rc_full,
			       const char *msg_full, size_t min_points)
{
	char msg[256];
	struct got ix, g;
	size_t i, d;
	int rc;

	rc = read_gz(gz, SPAN, NULL, 0, &ix, msg, NULL);
	/* an indexed read gives the text and the failure of a plain one */
	TEST_EQ_INT(rc, rc_full);
	TEST_EQ_STR(msg, msg_full);
	TEST_TRUE(same_text(&ix.text, full->p, full->n));
	if (ix.npts < min_points)
		fprintf(stderr, "%s: %zu points\n", what, ix.npts);
	TEST_TRUE(ix.npts >= min_points);
	for (i = 0; i < ix.npts; i++) {
		static const uint64_t delta[] = { 0, 1, 4097, 300000 };

		for (d = 0; d < sizeof(delta) / sizeof(delta[0]); d++) {
			struct gzindex_point p = ix.pts[i];
			struct buf want = { 0 };
			int resumed;

			p.head = 42 < p.out ? 42 : p.out;
			p.sync = p.out + delta[d];
			if (p.sync > full->n)
				continue;
			buf_add(&want, full->p, (size_t)p.head);
			buf_add(&want, full->p + p.sync, full->n - p.sync);
			rc = read_gz(gz, SPAN, &p, d % 2 ? 4096 : 0, &g, msg,
				     &resumed);
			TEST_EQ_INT(rc, rc_full);
			TEST_EQ_STR(msg, msg_full);
			TEST_EQ_INT(resumed, 1);
			if (!same_text(&g.text, want.p, want.n)) {
				fprintf(stderr, "%s: point %zu (out %llu) sync +%llu: %zu bytes, want %zu\n",
					what, i, (unsigned long long)p.out,
					(unsigned long long)delta[d], g.text.n,
					want.n);
				TEST_TRUE(!"resumed text is the full text's");
			}
			/* the jump comes once, right after the head, unless
			 * nothing follows the sync */
			TEST_TRUE(g.jumps == 1 || p.sync == full->n);
			if (g.jumps)
				TEST_EQ_INT(g.jump_at, p.head);
			got_free(&g);
			free(want.p);
		}
	}
	got_free(&ix);
}

/* ---- inputs ---- */

static void test_levels_and_members(void)
{
	static const size_t sizes[] = { 300000, 1200000, 3000000 };
	static const int levels[] = { 1, 9 };
	size_t si, li;

	for (si = 0; si < 3; si++)
		for (li = 0; li < 2; li++) {
			struct buf text = { 0 }, one = { 0 }, three = { 0 };
			char what[64];
			size_t a, b;

			csv_text(&text, sizes[si]);
			member(&one, text.p, text.n, levels[li]);
			snprintf(what, sizeof(what), "one member, %zu, -%d",
				 text.n, levels[li]);
			/* points: about one per SPAN of text (the first
			 * after SPAN), at most one per 256 KiB slot */
			resume_every_point(what, &one, &text, 0, "",
					   text.n / SPAN / 2);
			/* three members, cut at a third and two thirds */
			a = text.n / 3;
			b = 2 * text.n / 3;
			member(&three, text.p, a, levels[li]);
			member(&three, text.p + a, b - a, levels[li]);
			member(&three, text.p + b, text.n - b, levels[li]);
			snprintf(what, sizeof(what), "three members, %zu, -%d",
				 text.n, levels[li]);
			resume_every_point(what, &three, &text, 0, "",
					   text.n / SPAN / 2);
			free(text.p);
			free(one.p);
			free(three.p);
		}
}

/* Members of exactly SPAN bytes: the first point after SPAN is just after
 * the second member's gzip header (a boundary before any block), at text
 * offset SPAN, with an empty window, the member's CRC-32 of nothing (0)
 * and length 0; resuming there is resuming at the member boundary. */
static void test_member_boundary(void)
{
	struct buf text = { 0 }, gz = { 0 };
	struct got ix;
	char msg[256];
	size_t i, found = 0;

	csv_text(&text, 4 * SPAN);
	text.n = 4 * SPAN;
	for (i = 0; i < 4; i++)
		member(&gz, text.p + i * SPAN, SPAN, 6);
	TEST_EQ_INT(read_gz(&gz, SPAN, NULL, 0, &ix, msg, NULL), 0);
	for (i = 0; i < ix.npts; i++)
		if (ix.pts[i].out % SPAN == 0) {
			found++;
			TEST_EQ_INT(ix.pts[i].wlen, 0);
			TEST_EQ_INT(ix.pts[i].crc, 0);
			TEST_EQ_INT(ix.pts[i].mlen, 0);
			TEST_EQ_INT(ix.pts[i].bits, 0);
		}
	TEST_TRUE(found >= 1);
	got_free(&ix);
	resume_every_point("members of SPAN bytes", &gz, &text, 0, "", 3);
	free(text.p);
	free(gz.p);
}

/* A file whose last member's trailer is damaged, or cut: the resumed
 * read fails as the full one does, after the same text. */
static void test_bad_end(void)
{
	struct buf text = { 0 }, gz = { 0 }, cut = { 0 };
	struct got g;
	char msg[256], want[256];
	int rc;

	csv_text(&text, 1500000);
	member(&gz, text.p, text.n, 6);
	/* the CRC-32 of the text is the trailer's first 4 bytes (RFC 1952) */
	gz.p[gz.n - 8] ^= 0x01;
	rc = read_gz(&gz, 0, NULL, 0, &g, msg, NULL);
	TEST_EQ_INT(rc, ST_ERROR);
	TEST_EQ_STR(msg, "corrupt gzip in 'f.gz': incorrect data check");
	snprintf(want, sizeof(want), "%s", msg);
	got_free(&g);
	resume_every_point("bad CRC-32", &gz, &text, ST_ERROR, want, 2);
	gz.p[gz.n - 8] ^= 0x01;
	/* ISIZE, the last 4 bytes */
	gz.p[gz.n - 1] ^= 0x01;
	resume_every_point("bad ISIZE", &gz, &text, ST_ERROR,
			   "corrupt gzip in 'f.gz': incorrect length check", 2);
	gz.p[gz.n - 1] ^= 0x01;
	/* cut inside the trailer: every byte of text, then "truncated" */
	buf_add(&cut, gz.p, gz.n - 3);
	resume_every_point("cut trailer", &cut, &text, ST_ERROR,
			   "truncated gzip in 'f.gz'", 2);
	free(text.p);
	free(gz.p);
	free(cut.p);
}

/* The limits count the whole file in a resumed read: a file that passes
 * a limit after a point fails the resumed read with the same message,
 * after the same text (the default test sizes end on a call boundary
 * alike: TEXT_SIZE chunks from the point or from byte 0 both reach the
 * limit within the call that passes it). */
static void test_limits(void)
{
	static const struct gzsrc_limits size_lim = { 0, 2000000 };
	static const struct gzsrc_limits ratio_lim = { 100, 0 };
	struct buf text = { 0 }, gz = { 0 }, zeros = { 0 };
	struct got g;
	char msg[256];
	int rc;

	/* size: 2000000 bytes of text allowed, 3 MB in the file */
	csv_text(&text, 3000000);
	member(&gz, text.p, text.n, 6);
	lim = &size_lim;
	rc = read_gz(&gz, 0, NULL, 0, &g, msg, NULL);
	TEST_EQ_INT(rc, ST_ERROR);
	TEST_EQ_STR(msg, "gzip in 'f.gz' inflates past 2000000 bytes (limit SETTLE_GZIP_MAX_BYTES)");
	/* at most the limit handed over (gzsrc.h) */
	TEST_TRUE(g.text.n <= 2000000 && g.text.n > 0);
	got_free(&g);
	/* resumed: the same failure; the text differs by the chunks'
	 * boundaries, so only the message is compared here */
	{
		struct got ix;
		size_t i;

		TEST_EQ_INT(read_gz(&gz, SPAN, NULL, 0, &ix, msg, NULL),
			    ST_ERROR);
		TEST_TRUE(ix.npts >= 2);
		for (i = 0; i < ix.npts; i++) {
			struct gzindex_point p = ix.pts[i];
			int resumed;

			p.head = 42;
			p.sync = p.out;
			rc = read_gz(&gz, SPAN, &p, 0, &g, msg, &resumed);
			TEST_EQ_INT(rc, ST_ERROR);
			TEST_EQ_INT(resumed, 1);
			TEST_EQ_STR(msg, "gzip in 'f.gz' inflates past 2000000 bytes (limit SETTLE_GZIP_MAX_BYTES)");
			/* never more than the limit's worth of text */
			TEST_TRUE(g.text.n - g.jump_at + p.sync <= 2000000);
			got_free(&g);
		}
		got_free(&ix);
	}
	/* ratio: 1 MB of the CSV (about 3:1, some 0.4 MB of gzip), then a
	 * member of 64 MiB of zeros (about 1000:1, some 65 KB): the whole
	 * file is about 65 MB from 0.45 MB, past 100:1 inside the zeros */
	xgrow((void **)&zeros.p, &zeros.cap, 64u << 20, 1);
	memset(zeros.p, 0, 64u << 20);
	gz.n = 0;
	member(&gz, text.p, 1000000, 6);
	member(&gz, zeros.p, 64u << 20, 9);
	lim = &ratio_lim;
	{
		struct got ix;
		size_t i;

		rc = read_gz(&gz, SPAN, NULL, 0, &ix, msg, NULL);
		TEST_EQ_INT(rc, ST_ERROR);
		TEST_EQ_STR(msg, "gzip in 'f.gz' inflates past 100 times its size (limit SETTLE_GZIP_MAX_RATIO)");
		TEST_TRUE(ix.npts >= 2);
		/* the points in the CSV, and one in 16 in the zeros */
		for (i = 0; i < ix.npts; i += ix.pts[i].out < 1000000 ? 1 : 16) {
			struct gzindex_point p = ix.pts[i];
			int resumed;

			p.head = 42;
			p.sync = p.out;
			rc = read_gz(&gz, SPAN, &p, 0, &g, msg, &resumed);
			TEST_EQ_INT(rc, ST_ERROR);
			TEST_EQ_INT(resumed, 1);
			TEST_EQ_STR(msg, "gzip in 'f.gz' inflates past 100 times its size (limit SETTLE_GZIP_MAX_RATIO)");
			got_free(&g);
		}
		got_free(&ix);
	}
	lim = NULL;
	free(text.p);
	free(gz.p);
	free(zeros.p);
}

/* Points that do not fit: the read goes on from byte 0 (text after head,
 * no jump); a damaged packed point is refused. */
static void test_bad_points(void)
{
	struct buf text = { 0 }, gz = { 0 };
	struct gzindex_point p, q;
	struct got ix, g;
	struct err e;
	char msg[256];
	unsigned char *blob;
	size_t n, i;
	int resumed;

	csv_text(&text, 1500000);
	member(&gz, text.p, text.n, 6);
	TEST_EQ_INT(read_gz(&gz, SPAN, NULL, 0, &ix, msg, NULL), 0);
	TEST_TRUE(ix.npts >= 2);
	p = ix.pts[1];
	p.head = 42;
	p.sync = p.out + 10;
	for (i = 0; i < 5; i++) {
		q = p;
		switch (i) {
		case 0: q.in += 1; break;            /* a byte off */
		case 1: q.bits = (q.bits + 3) % 8; break; /* other bits */
		case 2: q.vcrc ^= 1; break;          /* another check */
		case 3: q.in = gz.n + 5; break;      /* past the end */
		case 4: q.in = 10; q.bits = 0; break; /* the first block */
		}
		err_clear(&e);
		TEST_EQ_INT(read_gz(&gz, SPAN, &q, 0, &g, msg, &resumed), 0);
		TEST_EQ_INT(resumed, -1);
		TEST_EQ_INT(g.jumps, 0);
		TEST_TRUE(same_text(&g.text, text.p, text.n));
		got_free(&g);
	}
	/* packed and unpacked: the same point */
	gzindex_pack(&p, &blob, &n);
	TEST_EQ_INT(gzindex_unpack(blob, n, &q, &e), 0);
	TEST_TRUE(q.in == p.in && q.bits == p.bits && q.out == p.out &&
		  q.crc == p.crc && q.mlen == p.mlen && q.vlen == p.vlen &&
		  q.vcrc == p.vcrc && q.wlen == p.wlen && q.head == p.head &&
		  q.sync == p.sync && q.records == p.records &&
		  q.lines == p.lines &&
		  memcmp(q.window, p.window, p.wlen) == 0);
	/* a byte of the offset, of the window's deflate: the blob's check */
	blob[6] ^= 0x40;
	TEST_EQ_INT(gzindex_unpack(blob, n, &q, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, "bad access point: its CRC-32 differs");
	blob[6] ^= 0x40;
	blob[n - 20] ^= 0x01;
	TEST_EQ_INT(gzindex_unpack(blob, n, &q, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, "bad access point: its CRC-32 differs");
	blob[n - 20] ^= 0x01;
	TEST_EQ_INT(gzindex_unpack(blob, n - 1, &q, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, "bad access point: its CRC-32 differs");
	TEST_EQ_INT(gzindex_unpack(blob, 10, &q, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, "bad access point: not one (10 bytes)");
	free(blob);
	got_free(&ix);
	free(text.p);
	free(gz.p);
}

/* ---- the CSV reader ---- */

struct recs {
	struct buf out;        /* "line record_id\n" per record delivered */
	const struct usage_reader *r;
	uint64_t want_at;      /* take the point at this record's progress */
	struct gzindex_point pt;
	uint64_t pt_records;   /* records numbered when it was taken */
	int have;
};

static int rec_fn(void *ctx, const struct usage_rec *u)
{
	struct recs *k = ctx;
	char line[200];
	int n = snprintf(line, sizeof(line), "%llu %.*s\n",
			 (unsigned long long)u->line, (int)u->record_id.n,
			 u->record_id.p);

	buf_add(&k->out, line, (size_t)n);
	return 0;
}

static int rej_fn(void *ctx, const struct usage_reject *u)
{
	struct recs *k = ctx;
	char line[200];
	int n = snprintf(line, sizeof(line), "%llu reject %.*s %s\n",
			 (unsigned long long)u->line, (int)u->record_id.n,
			 u->record_id.p, usage_reject_name(u->reason));

	buf_add(&k->out, line, (size_t)n);
	return 0;
}

static int prog_fn(void *ctx, uint64_t raw, uint64_t records)
{
	struct recs *k = ctx;
	const struct gzindex_point *p;

	(void)raw;
	if (!k->have && records >= k->want_at && (p = usage_point(k->r))) {
		k->pt = *p;
		k->pt_records = records;
		k->have = 1;
	}
	return 0;
}

static void test_usage_resume(void)
{
	struct buf text = { 0 }, gz = { 0 };
	struct usage_opts o;
	struct err e;
	uint64_t at;

	csv_text(&text, 6000000);
	member(&gz, text.p, text.n, 6);
	TEST_EQ_INT(usage_opts_parse(&o, NULL, NULL, &e), 0);
	o.inflate = GZSRC_INFLATE_ZLIB;
	for (at = 5000; at < 90000; at += 21000) {
		static const size_t rsizes[] = { 0, 4096, 65537, 1000003 };
		size_t rsize = rsizes[(at / 21000) % 4];
		struct usage_sink sink;
		struct usage_reader *r;
		struct recs full, res;
		size_t i, from = 0, lines = 0;

		memset(&full, 0, sizeof(full));
		memset(&res, 0, sizeof(res));
		memset(&sink, 0, sizeof(sink));
		sink.rec = rec_fn;
		sink.reject = rej_fn;
		sink.progress = prog_fn;
		sink.progress_every = 64 * 1024;
		sink.ctx = &full;
		full.want_at = at;
		r = usage_open_mem(gz.p, gz.n, "f.gz", &o);
		full.r = r;
		usage_set_read_size(r, rsize);
		usage_index(r, SPAN);
		TEST_EQ_INT(usage_read(r, &sink, 0, &e), 0);
		usage_free(r);
		TEST_TRUE(full.have);
		/* rejects are delivered too (every 83rd record) */
		TEST_TRUE(memmem(full.out.p, full.out.n, " reject ", 8) != NULL);
		if (!full.have)
			continue;
		/* the point's records are at most those numbered when taken */
		TEST_TRUE(full.pt.records <= full.pt_records);
		TEST_TRUE(full.pt.head <= full.pt.sync);
		/* resumed with skip = the records numbered at the checkpoint */
		sink.ctx = &res;
		r = usage_open_mem(gz.p, gz.n, "f.gz", &o);
		res.r = r;
		usage_set_read_size(r, rsize);
		usage_index(r, SPAN);
		usage_resume(r, &full.pt);
		TEST_EQ_INT(usage_read(r, &sink, full.pt_records, &e), 0);
		TEST_EQ_INT(usage_resumed(r), 1);
		usage_free(r);
		/* want: full's lines after the first pt_records records */
		for (i = 0; i < full.out.n && lines < full.pt_records; i++)
			if (full.out.p[i] == '\n') {
				lines++;
				from = i + 1;
			}
		TEST_TRUE(same_text(&res.out, full.out.p + from,
				    full.out.n - from));
		free(full.out.p);
		free(res.out.p);
	}
	free(text.p);
	free(gz.p);
}

int main(void)
{
	test_levels_and_members();
	test_member_boundary();
	test_bad_end();
	test_bad_points();
	test_limits();
	test_usage_resume();
	return TEST_REPORT();
}
