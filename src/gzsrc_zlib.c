/* gzsrc_zlib: zlib's inflater of a gzip source, the reference decoder
 * and the fallback (gzsrc_int.h; gzsrc.h, "Decoders"), and the access
 * points it makes as it goes (gzindex.h). gzsrc.c reads a file with it,
 * gzindex.c a resumed read; it names neither.
 *
 * Choices made where gzsrc.h and gzindex.h leave room:
 * - Access points are made inside zlib's calls: with gzsrc_index on, a
 *   call is inflate(Z_BLOCK) repeated until the input or the output runs
 *   out, so calls end, and the limits are checked, where a read without
 *   points would. At most one point is made per call (point_at_boundary),
 *   in the slot being filled, and gets its check when the slot is final
 *   (point_slot_done, from gzsrc_zlib_emit); the ring hands it over with
 *   that slot's chunk. */
#include "gzsrc_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "mem.h"
#include "banned.h"

/* ---- making points ---- */

/* zs stopped at a block boundary after `produced` bytes of text in the
 * slot at out, the next byte of input at file offset in: makes a point
 * when one is due. */
static void point_at_boundary(struct gzsrc *s, const unsigned char *out,
			      size_t produced, uint64_t in)
{
	z_stream *zs = &s->zs;
	uint64_t t = s->prod_out + produced;
	struct gzindex_point *p;
	uInt wlen = 0;

	if (s->slot_pt || t < s->last_pt + s->span)
		return;
	p = xcalloc(1, sizeof(*p));
	p->in = in;
	p->bits = (unsigned)zs->data_type & 7;
	p->out = t;
	if (s->raw_mode) {
		p->crc = (uint32_t)crc32(s->rcrc, out, (uInt)produced);
		p->mlen = s->rlen + produced;
	} else {
		/* gzip mode: zlib's running check and the member's count */
		p->crc = (uint32_t)zs->adler;
		p->mlen = zs->total_out;
	}
	if (inflateGetDictionary(zs, p->window, &wlen) != Z_OK) {
		free(p);
		return;
	}
	p->wlen = wlen;
	s->slot_pt = p;
	s->last_pt = t;
}

/* The slot's n bytes are final: the point made in it gets its check of
 * the text after it (or is dropped). */
static void point_slot_done(struct gzsrc *s, const unsigned char *out,
			    size_t n)
{
	struct gzindex_point *p = s->slot_pt;
	size_t at = (size_t)(p->out - s->prod_out), v = n - at;

	if (v > GZINDEX_VMAX)
		v = GZINDEX_VMAX;
	if (v < GZINDEX_VMIN) {
		free(p);
		s->slot_pt = NULL;
		return;
	}
	p->vlen = (uint32_t)v;
	p->vcrc = (uint32_t)crc32(0, out + at, (uInt)v);
}

/* ---- inflating ---- */

/* The gzip limits of gzsrc.h, for `more` bytes of text just inflated by
 * zlib after s->prod_out, from gz_in compressed bytes. Returns 0, or -1
 * with perr filled. */
static int gz_limits(struct gzsrc *s, size_t more)
{
	uint64_t out = s->prod_out + more;

	if (s->lim.max_bytes && out > s->lim.max_bytes)
		return gzsrc_prod_fail(s, "gzip in '%s' inflates past %llu bytes (limit %s)",
				 s->path, (unsigned long long)s->lim.max_bytes,
				 GZSRC_ENV_MAX_BYTES);
	if (s->lim.max_ratio && out > GZSRC_RATIO_FLOOR &&
	    (unsigned __int128)out >
	    (unsigned __int128)s->lim.max_ratio * s->gz_in)
		return gzsrc_prod_fail(s, "gzip in '%s' inflates past %llu times its size (limit %s)",
				 s->path, (unsigned long long)s->lim.max_ratio,
				 GZSRC_ENV_MAX_RATIO);
	return 0;
}

/* zlib's n bytes of text just inflated into gzsrc_next_buf()'s slot: checks the
 * limits, drops what a replay has already published, and hands over the
 * rest. Returns 0, or -1 (failed with perr filled, or stopped). */
int gzsrc_zlib_emit(struct gzsrc *s, size_t n)
{
	uint64_t end = s->prod_out + n;
	size_t off = 0;

	if (s->slot_pt)
		point_slot_done(s, s->text + ((s->made + s->held) % RING) *
				TEXT_SIZE, n);
	if (gz_limits(s, n))
		return -1;
	if (s->skip > s->prod_out)
		off = s->skip >= end ? n : (size_t)(s->skip - s->prod_out);
	s->prod_out = end;
	if (off == n) {
		free(s->slot_pt);
		s->slot_pt = NULL;
		return 0;
	}
	gzsrc_make_chunk(s, off, n - off);
	return gzsrc_publish(s);
}

/* After a member, only another member may follow: reads until two bytes
 * are at hand (or EOF), checks for the gzip magic and restarts the
 * inflater. Returns 0, or -1 with perr filled. */
static int next_member(struct gzsrc *s, int *eof)
{
	z_stream *zs = &s->zs;
	unsigned char *in = zs->next_in;
	size_t avail = zs->avail_in;
	ssize_t n;
	int zr;

	while (avail < 2 && !*eof) {
		n = gzsrc_raw_more(s, &in, &avail);
		if (n < 0)
			return gzsrc_prod_fail(s, "cannot read '%s': %s", s->path,
					 strerror(errno));
		*eof = n == 0;
	}
	zs->next_in = in;
	zs->avail_in = (uInt)avail;
	if (avail < 2 || in[0] != 0x1f || in[1] != 0x8b)
		return gzsrc_prod_fail(s, "trailing garbage after gzip data in '%s'",
				 s->path);
	zr = inflateReset(zs);
	if (zr != Z_OK)
		return gzsrc_prod_fail(s, "bad gzip in '%s': %s", s->path,
				 zError(zr));
	return 0;
}

int gzsrc_zcall(struct gzsrc *s, unsigned char *out, size_t room,
		size_t *produced)
{
	z_stream *zs = &s->zs;
	uInt in_before = zs->avail_in;
	int zr;

	zs->next_out = out;
	zs->avail_out = (uInt)room;
	for (;;) {
		uInt ai = zs->avail_in, ao = zs->avail_out;

		zr = inflate(zs, s->span ? Z_BLOCK : Z_NO_FLUSH);
		/* Z_NO_FLUSH returns when the input or the output runs out
		 * (or at the end, or an error): so does this loop, so that
		 * the limits are checked where they would be */
		if (!s->span || zr != Z_OK || !zs->avail_out ||
		    !zs->avail_in || (ai == zs->avail_in && ao == zs->avail_out))
			break;
		/* 128: at a block boundary (or just after a gzip header);
		 * 64: the block before was the last, only a trailer follows */
		if ((zs->data_type & 128) && !(zs->data_type & 64))
			point_at_boundary(s, out, room - zs->avail_out,
					  s->gz_in + (in_before - zs->avail_in));
	}
	s->gz_in += in_before - zs->avail_in;
	*produced = room - zs->avail_out;
	return zr;
}

/* Inflates with zlib every member in turn (RFC 1952 allows
 * concatenation), handing the text to gzsrc_zlib_emit(). */
int gzsrc_inflate_zlib(struct gzsrc *s, unsigned char *in, size_t avail,
			int members)
{
	z_stream *zs = &s->zs;
	int in_member = 0, out_full = 0, eof = 0, zr;
	unsigned char *out;
	ssize_t n;

	if (!s->z_live) {
		memset(zs, 0, sizeof(*zs));
		zr = inflateInit2(zs, 15 + 16);
		if (zr != Z_OK)
			return gzsrc_prod_fail(s, "cannot start gzip for '%s': %s",
					 s->path, zError(zr));
		s->z_live = 1;
	} else if ((zr = inflateReset(zs)) != Z_OK) {
		return gzsrc_prod_fail(s, "bad gzip in '%s': %s", s->path,
				 zError(zr));
	}
	zs->next_in = in;
	zs->avail_in = (uInt)avail;
	for (;;) {
		size_t produced, room = TEXT_SIZE;

		if (zs->avail_in == 0 && !out_full) {
			if (eof)
				break;
			avail = 0;
			n = gzsrc_raw_more(s, &in, &avail);
			if (n < 0)
				return gzsrc_prod_fail(s, "cannot read '%s': %s",
						 s->path, strerror(errno));
			eof = n == 0;
			zs->next_in = in;
			zs->avail_in = (uInt)avail;
			continue;
		}
		if (!in_member && members > 0 && next_member(s, &eof))
			return -1;
		in_member = 1;
		out = gzsrc_next_buf(s);
		if (!out)
			return -1;
		if (s->stop_at && s->stop_at - s->prod_out < room)
			room = (size_t)(s->stop_at - s->prod_out);
		zr = gzsrc_zcall(s, out, room, &produced);
		out_full = produced == room;
		if (produced && gzsrc_zlib_emit(s, produced))
			return -1;
		if (s->stop_at && s->prod_out == s->stop_at)
			return STOP_AT;
		if (zr == Z_STREAM_END) {
			in_member = 0;
			members++;
			out_full = 0;
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			return gzsrc_prod_fail(s, "corrupt gzip in '%s': %s", s->path,
					 zs->msg ? zs->msg : zError(zr));
		}
	}
	if (in_member)
		return gzsrc_prod_fail(s, "truncated gzip in '%s'", s->path);
	return 0;
}
