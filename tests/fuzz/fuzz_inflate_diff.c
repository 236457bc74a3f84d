/* Fuzz target: gzsrc's two decoders on any bytes (gzsrc.h, SPEC 10 v2).
 * The input is read as a gzip (or plain) file with zlib, the reference,
 * and with igzip (ISA-L, where built in; else zlib again), at the default
 * read size and at a small one taken from the input, with the default
 * limits and with tight ones (ratio 2..9, size 1 MiB) taken from the
 * input.
 *
 * Properties: both decoders give the same result (0 or the failure), the
 * same message, and the same text byte for byte, at each read size and
 * limit. */
#include "fuzzhelp.h"

#include "gzsrc.h"
#include "banned.h"

struct res {
	struct fbuf text;
	int rc;
	char msg[sizeof(((struct err *)0)->msg)];
};

static struct res rz, ri;

static int collect(void *ctx, const unsigned char *p, size_t n,
		   uint64_t raw_read)
{
	(void)raw_read;
	fbuf_add(ctx, p, n);
	return 0;
}

static void run(const uint8_t *data, size_t size, enum gzsrc_inflate which,
		size_t rsize, const struct gzsrc_limits *lim, struct res *r)
{
	struct gzsrc *s = gzsrc_open_mem(data, size, "f.gz", lim);
	struct err e;

	err_clear(&e);
	fbuf_reset(&r->text);
	gzsrc_set_inflate(s, which);
	gzsrc_set_read_size(s, rsize);
	r->rc = gzsrc_read(s, collect, &r->text, &e);
	snprintf(r->msg, sizeof(r->msg), "%s", r->rc ? e.msg : "");
	gzsrc_free(s);
}

static void same(const uint8_t *data, size_t size, size_t rsize,
		 const struct gzsrc_limits *lim)
{
	run(data, size, GZSRC_INFLATE_ZLIB, rsize, lim, &rz);
	run(data, size, GZSRC_INFLATE_ISAL, rsize, lim, &ri);
	if (rz.rc != ri.rc || strcmp(rz.msg, ri.msg) != 0 ||
	    !fbuf_eq(&rz.text, &ri.text))
		fprintf(stderr, "read size %zu: zlib %d '%s' %zu bytes; isal %d '%s' %zu bytes\n",
			rsize, rz.rc, rz.msg, rz.text.n, ri.rc, ri.msg,
			ri.text.n);
	CHECK(rz.rc == ri.rc);
	CHECK(strcmp(rz.msg, ri.msg) == 0);
	CHECK(fbuf_eq(&rz.text, &ri.text));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned h = size ? data[size - 1] : 0;
	struct gzsrc_limits tight = { 2 + h % 8, (h & 0x80) ? 1u << 20 : 0 };

	same(data, size, 0, NULL);
	same(data, size, 1 + h % 61, NULL);
	same(data, size, 0, &tight);
	return 0;
}
