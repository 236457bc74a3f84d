/* gzindex: access points into gzip packed and unpacked, and a read
 * resumed from one (gzindex.h; the source's internals: gzsrc_int.h).
 *
 * Choices made where gzindex.h and gzsrc.h leave room:
 * - Points are made by zlib only (zs stops at block boundaries with
 *   Z_BLOCK), inside its calls in gzsrc_zlib.c, which a resumed read calls
 *   in turn; igzip cannot stop there, so a read by igzip makes none.
 *   A resumed read inflates with zlib, the reference decoder, from the
 *   point to the end of the file (and from byte 0 when it falls back).
 * - The point's member is inflated as raw deflate (windowBits -15) from
 *   the point: inflatePrime gives it the bits of the byte before, and
 *   inflateSetDictionary the window. Its CRC-32 and length go on from the
 *   point's and are compared with the member's trailer here, with zlib's
 *   own messages; the next members are zlib's gzip as in any read.
 * - Before anything after the jump is handed over, the text right after
 *   the point is inflated and compared with the point's check (vlen
 *   bytes, their CRC-32). Any doubt before that (the raw bytes end, zlib
 *   refuses the window or the bits, the text differs) goes back to byte 0
 *   with zlib and drops the text already handed over (the head), as an
 *   igzip escalation does; what the file holds is then decided as by any
 *   read. After the check, a failure is the file's (a full read fails
 *   alike: the point was made from these bytes).
 * - The window is packed deflated (compress2, level 6): text windows
 *   shrink 3 to 10 times. */
#include "gzindex.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "gzsrc_int.h"
#include "mem.h"
#include "banned.h"

#define PACK_MAGIC "SGZP1"
#define PACK_FIXED (5 + 8 + 1 + 8 + 4 + 8 + 4 + 4 + 4 + 8 * 4 + 4)

/* ---- packing ---- */

static unsigned char *put64(unsigned char *b, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		*b++ = (unsigned char)(v >> (8 * i));
	return b;
}

static unsigned char *put32(unsigned char *b, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		*b++ = (unsigned char)(v >> (8 * i));
	return b;
}

static uint64_t get64(const unsigned char **b)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | (*b)[i];
	*b += 8;
	return v;
}

static uint32_t get32(const unsigned char **b)
{
	uint32_t v = 0;
	int i;

	for (i = 3; i >= 0; i--)
		v = v << 8 | (*b)[i];
	*b += 4;
	return v;
}

void gzindex_pack(const struct gzindex_point *p, unsigned char **blob,
		  size_t *n)
{
	uLongf zlen = compressBound(p->wlen);
	unsigned char *b = xmalloc(PACK_FIXED + zlen + 4), *q = b;

	memcpy(q, PACK_MAGIC, 5);
	q = put64(q + 5, p->in);
	*q++ = (unsigned char)p->bits;
	q = put64(q, p->out);
	q = put32(q, p->crc);
	q = put64(q, p->mlen);
	q = put32(q, p->vlen);
	q = put32(q, p->vcrc);
	q = put32(q, p->wlen);
	q = put64(q, p->head);
	q = put64(q, p->sync);
	q = put64(q, p->records);
	q = put64(q, p->lines);
	if (compress2(q + 4, &zlen, p->window, p->wlen, 6) != Z_OK)
		abort();   /* only out of memory, as xmalloc */
	q = put32(q, (uint32_t)zlen);
	q += zlen;
	q = put32(q, (uint32_t)crc32(0, b, (uInt)(q - b)));
	*blob = b;
	*n = (size_t)(q - b);
}

int gzindex_unpack(const void *blob, size_t n, struct gzindex_point *p,
		   struct err *e)
{
	const unsigned char *b = blob, *q = b;
	uint32_t zlen;
	uLongf wlen;

	if (n < PACK_FIXED + 4 || memcmp(b, PACK_MAGIC, 5) != 0)
		return err_set(e, ST_ERROR, "bad access point: not one (%zu bytes)",
			       n);
	q = b + n - 4;
	if (get32(&q) != (uint32_t)crc32(0, b, (uInt)(n - 4)))
		return err_set(e, ST_ERROR, "bad access point: its CRC-32 differs");
	q = b + 5;
	memset(p, 0, sizeof(*p));
	p->in = get64(&q);
	p->bits = *q++;
	p->out = get64(&q);
	p->crc = get32(&q);
	p->mlen = get64(&q);
	p->vlen = get32(&q);
	p->vcrc = get32(&q);
	p->wlen = get32(&q);
	p->head = get64(&q);
	p->sync = get64(&q);
	p->records = get64(&q);
	p->lines = get64(&q);
	zlen = get32(&q);
	if (zlen != n - PACK_FIXED - 4)
		return err_set(e, ST_ERROR, "bad access point: length %zu",
			       n);
	if (p->bits > 7 || p->wlen > GZINDEX_WINDOW || p->sync < p->out ||
	    p->head > p->sync || p->vlen < GZINDEX_VMIN ||
	    p->vlen > GZINDEX_VMAX || p->in == 0 || p->mlen > p->out)
		return err_set(e, ST_ERROR, "bad access point: a field out of range");
	wlen = GZINDEX_WINDOW;
	if (uncompress(p->window, &wlen, q, zlen) != Z_OK || wlen != p->wlen)
		return err_set(e, ST_ERROR, "bad access point: its window does not inflate");
	return 0;
}

/* ---- a resumed read (the producer) ---- */

/* Why a resumed read goes back to byte 0: nothing after the jump has been
 * handed over, so the whole read is decided as by any read. */
static int fall_back(struct gzsrc *s)
{
	unsigned char *in;
	size_t avail = 0;

	err_clear(&s->perr);
	s->resumed = -1;
	s->raw_mode = 0;
	s->jump_pending = 0;
	free(s->slot_pt);
	s->slot_pt = NULL;
	if (s->raw_read > s->raw_hi)
		s->raw_hi = s->raw_read;
	/* the head handed over is not handed again */
	s->skip = s->pub_out;
	s->gz_in = 0;
	s->prod_out = 0;
	s->raw_read = 0;
	s->last_pt = 0;
	if (s->mem)
		s->mem_pos = 0;
	else if (lseek(s->fd, 0, SEEK_SET) < 0)
		return gzsrc_prod_fail(s, "cannot read '%s': %s", s->path,
				       strerror(errno));
	if (s->z_live && inflateReset2(&s->zs, 15 + 16) != Z_OK)
		return gzsrc_prod_fail(s, "bad gzip in '%s'", s->path);
	in = s->raw;
	if (gzsrc_raw_more(s, &in, &avail) < 0)
		return gzsrc_prod_fail(s, "cannot read '%s': %s", s->path,
				       strerror(errno));
	return gzsrc_inflate_zlib(s, s->raw, avail, 0);
}

/* Reads (and hashes) the raw bytes up to file offset at without
 * inflating them; *in, *avail: the bytes from `at` on. 0, or -1 at EOF
 * or a read error (the caller falls back). */
static int seek_raw(struct gzsrc *s, uint64_t at, unsigned char **in,
		    size_t *avail)
{
	if (s->raw_read > at) {
		/* the head read past it: read again from a multiple of
		 * read_size (raw_hi: those bytes are not hashed twice) */
		uint64_t base = at - at % s->read_size;

		if (s->raw_read > s->raw_hi)
			s->raw_hi = s->raw_read;
		s->raw_read = base;
		if (s->mem)
			s->mem_pos = (size_t)base;
		else if (lseek(s->fd, (off_t)base, SEEK_SET) < 0)
			return -1;
	}
	do {
		*in = s->raw;
		*avail = 0;
		if (gzsrc_raw_more(s, in, avail) <= 0)
			return -1;
	} while (s->raw_read <= at);
	*in = s->raw + (*avail - (size_t)(s->raw_read - at));
	*avail = (size_t)(s->raw_read - at);
	return 0;
}

/* Inflates the point's check into the slot: 0 when the vlen bytes after
 * the point are those the point was made with, else -1. */
static int check_text(struct gzsrc *s, unsigned char *out, int *eof)
{
	const struct gzindex_point *p = s->rp;
	z_stream *zs = &s->zs;
	size_t got = 0, produced;
	uint64_t span = s->span;
	int zr = Z_OK;

	s->span = 0;                 /* no point inside the check */
	while (got < p->vlen) {
		if (zs->avail_in == 0) {
			unsigned char *in = s->raw;
			size_t avail = 0;
			ssize_t n;

			if (*eof)
				break;
			n = gzsrc_raw_more(s, &in, &avail);
			if (n < 0)
				break;
			*eof = n == 0;
			zs->next_in = in;
			zs->avail_in = (uInt)avail;
			continue;
		}
		zr = gzsrc_zcall(s, out + got, p->vlen - got, &produced);
		got += produced;
		if (zr != Z_OK && zr != Z_BUF_ERROR)
			break;
	}
	s->span = span;
	if (got < p->vlen || crc32(0, out, (uInt)got) != p->vcrc)
		return -1;
	return 0;
}

/* The member's trailer after the raw deflate: its CRC-32 and length
 * against the text's, with zlib's messages. 0, or -1 with perr filled. */
static int check_trailer(struct gzsrc *s, int *eof)
{
	z_stream *zs = &s->zs;
	unsigned char *in = zs->next_in;
	size_t avail = zs->avail_in;
	const unsigned char *q;
	ssize_t n;

	while (avail < 8 && !*eof) {
		n = gzsrc_raw_more(s, &in, &avail);
		if (n < 0)
			return gzsrc_prod_fail(s, "cannot read '%s': %s",
					       s->path, strerror(errno));
		*eof = n == 0;
	}
	if (avail < 8)
		return gzsrc_prod_fail(s, "truncated gzip in '%s'", s->path);
	q = in;
	if (get32(&q) != s->rcrc)
		return gzsrc_prod_fail(s, "corrupt gzip in '%s': incorrect data check",
				       s->path);
	if (get32(&q) != (uint32_t)s->rlen)
		return gzsrc_prod_fail(s, "corrupt gzip in '%s': incorrect length check",
				       s->path);
	s->gz_in += 8;
	zs->next_in = in + 8;
	zs->avail_in = (uInt)(avail - 8);
	return 0;
}

int gzindex_inflate(struct gzsrc *s, size_t avail)
{
	const struct gzindex_point *p = s->rp;
	z_stream *zs = &s->zs;
	uint64_t at = p->in - (p->bits ? 1 : 0);
	unsigned char *in, *out;
	int rc, zr, eof = 0, out_full = 0;
	size_t produced;

	/* the head, inflated from byte 0; no point is made in it */
	s->last_pt = p->out;
	if (p->head) {
		s->stop_at = p->head;
		rc = gzsrc_inflate_zlib(s, s->raw, avail, 0);
		s->stop_at = 0;
		if (rc != STOP_AT)
			return fall_back(s);
	} else if (!s->z_live) {
		memset(zs, 0, sizeof(*zs));
		if (inflateInit2(zs, -15) != Z_OK)
			return fall_back(s);
		s->z_live = 1;
	}
	/* the raw bytes before the point: hashed, not inflated */
	if (seek_raw(s, at, &in, &avail) ||
	    inflateReset2(zs, -15) != Z_OK)
		return fall_back(s);
	if (p->bits) {
		if (inflatePrime(zs, (int)p->bits, in[0] >> (8 - p->bits)) != Z_OK)
			return fall_back(s);
		in++;
		avail--;
	}
	if (p->wlen && inflateSetDictionary(zs, p->window, p->wlen) != Z_OK)
		return fall_back(s);
	zs->next_in = in;
	zs->avail_in = (uInt)avail;
	s->gz_in = p->in;
	s->prod_out = p->out;
	s->skip = p->sync;
	s->raw_mode = 1;
	s->rcrc = p->crc;
	s->rlen = p->mlen;
	out = gzsrc_next_buf(s);
	if (!out)
		return -1;
	if (check_text(s, out, &eof))
		return fall_back(s);
	/* from here on the text is the file's: hand it over */
	s->jump_pending = 1;
	s->resumed = 1;
	s->rcrc = (uint32_t)crc32(s->rcrc, out, p->vlen);
	s->rlen += p->vlen;
	if (gzsrc_zlib_emit(s, p->vlen))
		return -1;
	for (;;) {
		if (zs->avail_in == 0 && !out_full) {
			unsigned char *more = s->raw;
			size_t got = 0;
			ssize_t n;

			if (eof)
				return gzsrc_prod_fail(s, "truncated gzip in '%s'",
						       s->path);
			n = gzsrc_raw_more(s, &more, &got);
			if (n < 0)
				return gzsrc_prod_fail(s, "cannot read '%s': %s",
						       s->path, strerror(errno));
			eof = n == 0;
			zs->next_in = more;
			zs->avail_in = (uInt)got;
			continue;
		}
		out = gzsrc_next_buf(s);
		if (!out)
			return -1;
		zr = gzsrc_zcall(s, out, TEXT_SIZE, &produced);
		out_full = produced == TEXT_SIZE;
		s->rcrc = (uint32_t)crc32(s->rcrc, out, (uInt)produced);
		s->rlen += produced;
		if (produced && gzsrc_zlib_emit(s, produced))
			return -1;
		if (zr == Z_STREAM_END)
			break;
		if (zr != Z_OK && zr != Z_BUF_ERROR)
			return gzsrc_prod_fail(s, "corrupt gzip in '%s': %s",
					       s->path,
					       zs->msg ? zs->msg : zError(zr));
	}
	if (check_trailer(s, &eof))
		return -1;
	/* the next members, as any read: zlib's gzip */
	s->raw_mode = 0;
	if (inflateReset2(zs, 15 + 16) != Z_OK)
		return gzsrc_prod_fail(s, "bad gzip in '%s'", s->path);
	in = zs->next_in;
	avail = zs->avail_in;
	if (avail && in != s->raw) {
		memmove(s->raw, in, avail);
		in = s->raw;
	}
	return gzsrc_inflate_zlib(s, in, avail, 1);
}
