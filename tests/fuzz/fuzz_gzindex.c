/* Fuzz target: access points and reads resumed from them (gzindex.h,
 * gzsrc_resume). The input is read as a gzip (or plain) file with zlib,
 * without limits, once plain and once making points (span 1: one at the
 * first block boundary of each 256 KiB slot of text); then every point
 * is resumed from, with head and sync taken from the input, once as made
 * and once with a field changed (the offset, the bits, the check, the
 * window, the member's CRC-32 or length) chosen by the input.
 *
 * Properties: the read making points gives the plain read's result,
 * message and text; a resume from a point as made gives the same result
 * and message and exactly text[0, head) + text[sync, end), having
 * jumped; a resume from a changed point never ends well with other text
 * (it jumps and gives that text, or goes back to byte 0 and gives the
 * whole text after head, or fails). */
#include "fuzzhelp.h"

#include "gzindex.h"
#include "gzsrc.h"
#include "banned.h"

struct res {
	struct fbuf text;
	int rc;
	char msg[sizeof(((struct err *)0)->msg)];
	struct gzindex_point *pts;
	size_t npts;
	int jumps, resumed;
};

static struct res plain, ix, rs;

static int collect(void *ctx, const unsigned char *p, size_t n,
		   uint64_t raw_read)
{
	struct res *r = ctx;

	(void)raw_read;
	fbuf_add(&r->text, p, n);
	return 0;
}

static void on_point(void *ctx, const struct gzindex_point *p)
{
	struct res *r = ctx;

	r->pts = xrealloc(r->pts, (r->npts + 1) * sizeof(*r->pts));
	r->pts[r->npts++] = *p;
}

static void on_jump(void *ctx)
{
	((struct res *)ctx)->jumps++;
}

static void run(const uint8_t *data, size_t size, int index,
		const struct gzindex_point *p, struct res *r)
{
	static const struct gzsrc_limits none = { 0, 0 };
	struct gzsrc *s = gzsrc_open_mem(data, size, "f.gz", &none);
	struct err e;

	err_clear(&e);
	fbuf_reset(&r->text);
	r->npts = 0;
	r->jumps = 0;
	gzsrc_set_inflate(s, GZSRC_INFLATE_ZLIB);
	if (index)
		gzsrc_index(s, 1, on_point);
	if (p)
		gzsrc_resume(s, p, on_jump);
	r->rc = gzsrc_read(s, collect, r, &e);
	snprintf(r->msg, sizeof(r->msg), "%s", r->rc ? e.msg : "");
	r->resumed = gzsrc_resumed(s);
	gzsrc_free(s);
}

/* text[0, head) + text[sync, end) of the plain read */
static int is_resumed_text(const struct res *r, const struct gzindex_point *p)
{
	size_t tail = plain.text.n - (size_t)p->sync;

	return r->text.n == p->head + tail &&
	       memcmp(r->text.p, plain.text.p, (size_t)p->head) == 0 &&
	       memcmp(r->text.p + p->head, plain.text.p + p->sync, tail) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned h = size ? data[size - 1] : 0, g = size > 1 ? data[size - 2] : 0;
	size_t i;

	run(data, size, 0, NULL, &plain);
	run(data, size, 1, NULL, &ix);
	CHECK(ix.rc == plain.rc);
	CHECK(strcmp(ix.msg, plain.msg) == 0);
	CHECK(fbuf_eq(&ix.text, &plain.text));
	for (i = 0; i < ix.npts; i++) {
		struct gzindex_point p = ix.pts[i];
		uint64_t room = plain.text.n - p.out;

		p.head = h % (p.out + 1);
		p.sync = p.out + (room ? g % (room + 1) : 0);
		run(data, size, 1, &p, &rs);
		CHECK(rs.rc == plain.rc);
		CHECK(strcmp(rs.msg, plain.msg) == 0);
		CHECK(rs.resumed == 1);
		CHECK(is_resumed_text(&rs, &p));
		switch ((h + g + i) % 6) {
		case 0: p.in += 1 + g % 3; break;
		case 1: p.bits = (p.bits + 1 + g % 7) % 8; break;
		case 2: p.vcrc ^= 1u << (g % 32); break;
		case 3: if (p.wlen) p.window[g % p.wlen] ^= 1; break;
		case 4: p.crc ^= 1u << (g % 32); break;
		default: p.mlen += 1; break;
		}
		run(data, size, 1, &p, &rs);
		if (rs.rc == 0 && rs.resumed == 1)
			CHECK(is_resumed_text(&rs, &p));
		if (rs.rc == 0 && rs.resumed == -1) {
			CHECK(rs.jumps == 0);
			CHECK(rs.text.n == plain.text.n);
			CHECK(fbuf_eq(&rs.text, &plain.text));
		}
	}
	free(ix.pts);
	ix.pts = NULL;
	return 0;
}
