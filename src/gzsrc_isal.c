/* gzsrc_isal: igzip's inflater of a gzip source (gzsrc_int.h; what it
 * must give and when it hands a member to zlib: gzsrc.h, "Decoders").
 * Built only with SETTLE_ISAL. */
#include "gzsrc_int.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "mem.h"
#include "banned.h"

#ifdef SETTLE_ISAL
/* Whether zlib, inflating the text up to prod_out + n, could not trip a
 * limit at any of its own checks, nor have failed on one before it. For text past what igzip had written
 * one call ago, zlib must have consumed at least what igzip had two calls
 * ago (is_in2) less ISAL_LOOK: igzip ends a call with the text it decoded
 * all written, or with its output full, and the next call writes what is
 * pending (at most its 64 KiB tmp_out_buffer) before anything else. Bombs
 * and tight limits fail this and go to zlib. */
static int isal_safe(const struct gzsrc *s, size_t n)
{
	uint64_t out = s->prod_out + n;
	uint64_t in = s->is_in2 > ISAL_LOOK ? s->is_in2 - ISAL_LOOK : 0;

	/* zlib fails the size limit on the call that passes it, and that
	 * call began after max_bytes - TEXT_SIZE: it has handed over more */
	if (s->lim.max_bytes && out + TEXT_SIZE > s->lim.max_bytes)
		return 0;
	return !s->lim.max_ratio || out <= GZSRC_RATIO_FLOOR ||
	       (unsigned __int128)out <= (unsigned __int128)s->lim.max_ratio * in;
}

/* igzip's start of a member at in[0..avail): at least the 4 bytes up to
 * FLG at hand, and FLG without the reserved bits zlib refuses (igzip
 * ignores them). Reads more as needed. Returns 0, ESCALATE (zlib decides:
 * EOF, garbage, reserved flags), or -1 with perr filled. */
static int isal_member(struct gzsrc *s, unsigned char **in, size_t *avail,
		       int *eof)
{
	ssize_t n;

	s->mem_gz = s->gz_in;        /* exact at a member boundary */
	s->mem_text = s->prod_out;
	s->streaming = 0;
	while (*avail < 4 && !*eof) {
		n = gzsrc_raw_more(s, in, avail);
		if (n < 0)
			return gzsrc_prod_fail(s, "cannot read '%s': %s", s->path,
					 strerror(errno));
		*eof = n == 0;
	}
	if (*avail < 4 || (*in)[0] != 0x1f || (*in)[1] != 0x8b ||
	    ((*in)[3] & 0xe0))
		return ESCALATE;
	isal_inflate_reset(s->is);
	s->is->crc_flag = ISAL_GZIP;
	s->is->next_in = *in;
	s->is->avail_in = (uint32_t)*avail;
	return 0;
}

/* One igzip call into the rest of gzsrc_next_buf()'s slot. A full slot, or the
 * last of a member, becomes a chunk; chunks are held until the member has
 * been checked whole or has GZSRC_HOLD bytes held. Returns 0, ESCALATE, or
 * -1 (stopped). */
static int isal_step(struct gzsrc *s, int *finished, int *out_full)
{
	struct inflate_state *st = s->is;
	unsigned char *out = gzsrc_next_buf(s);
	uint32_t in_before = st->avail_in;
	size_t produced;
	int ret;

	if (!out)
		return -1;
	st->next_out = out + s->slot_used;
	st->avail_out = (uint32_t)(TEXT_SIZE - s->slot_used);
	ret = isal_inflate(st);
	/* igzip may give back bytes it took in an earlier call: 64-bit
	 * arithmetic keeps the sum right */
	s->gz_in = s->gz_in + in_before - st->avail_in;
	produced = TEXT_SIZE - s->slot_used - st->avail_out;
	*finished = st->block_state == ISAL_BLOCK_FINISH;
	*out_full = st->avail_out == 0;
	if (ret != ISAL_DECOMP_OK || (produced && !isal_safe(s, produced)) ||
	    (!*finished && st->avail_in && st->avail_out))
		return ESCALATE;
	s->is_in2 = s->is_in1;
	s->is_in1 = s->gz_in;
	s->prod_out += produced;
	s->slot_used += produced;
	if (s->slot_used && (*out_full || *finished)) {
		gzsrc_make_chunk(s, 0, s->slot_used);
		s->slot_used = 0;
	}
	if (*finished || s->streaming || s->held_n >= GZSRC_HOLD) {
		s->streaming = !*finished;
		return gzsrc_publish(s);
	}
	return 0;
}

/* igzip over one member, its first bytes given to it by isal_member.
 * Returns 0 when it ended well, ESCALATE, or -1. */
static int isal_run(struct gzsrc *s, int *eof)
{
	struct inflate_state *st = s->is;
	unsigned char *in;
	size_t avail;
	int finished = 0, out_full = 0, rc;
	ssize_t n;

	for (;;) {
		if (st->avail_in == 0 && !out_full) {
			if (*eof)
				return ESCALATE;     /* truncated: zlib says so */
			in = s->raw;
			avail = 0;
			n = gzsrc_raw_more(s, &in, &avail);
			if (n < 0)
				return gzsrc_prod_fail(s, "cannot read '%s': %s",
						 s->path, strerror(errno));
			*eof = n == 0;
			st->next_in = in;
			st->avail_in = (uint32_t)avail;
		}
		rc = isal_step(s, &finished, &out_full);
		if (rc || finished)
			return rc;
	}
}

/* Inflates with igzip member after member (the first at s->raw, avail
 * bytes), counting those that ended well in *members. Returns 0 at a
 * clean end, ESCALATE when zlib must go on from the member that began at
 * mem_gz, or -1 (failed with perr filled, or stopped). */
int gzsrc_isal_inflate(struct gzsrc *s, size_t avail, int *members)
{
	unsigned char *in = s->raw;
	int eof = 0, rc;
	ssize_t n;

	if (!s->is)
		s->is = xmalloc(sizeof(*s->is));
	isal_inflate_init(s->is);
	for (;;) {
		if (*members) {
			in = s->is->next_in;
			avail = s->is->avail_in;
			if (avail == 0 && !eof) {
				n = gzsrc_raw_more(s, &in, &avail);
				if (n < 0)
					return gzsrc_prod_fail(s, "cannot read '%s': %s",
							 s->path, strerror(errno));
				eof = n == 0;
			}
			if (avail == 0)
				return 0;    /* EOF right after a member */
		}
		rc = isal_member(s, &in, &avail, &eof);
		if (!rc)
			rc = isal_run(s, &eof);
		if (rc)
			return rc;
		++*members;
	}
}

/* Seeks back to the member that began at mem_gz for zlib, and drops the
 * text igzip made of it but did not publish; zlib_emit drops what was.
 * zlib must see the input in the same pieces as a read by zlib alone
 * (which reads at multiples of read_size), so that it ends its calls, and
 * checks the limits, where that read would: the read restarts at the
 * multiple of read_size before mem_gz, and zlib goes on from mem_gz in it
 * (*in, *avail). Returns 0, or -1 with perr filled. */
int gzsrc_isal_rewind(struct gzsrc *s, unsigned char **in, size_t *avail)
{
	uint64_t base = s->mem_gz - s->mem_gz % s->read_size;
	size_t skip = (size_t)(s->mem_gz - base);

	if (s->raw_read > s->raw_hi)
		s->raw_hi = s->raw_read;
	s->held = 0;
	s->held_n = 0;
	s->slot_used = 0;
	s->skip = s->pub_out;
	s->gz_in = s->mem_gz;
	s->raw_read = base;
	s->prod_out = s->mem_text;
	if (s->mem)
		s->mem_pos = (size_t)base;
	else if (lseek(s->fd, (off_t)base, SEEK_SET) < 0)
		return gzsrc_prod_fail(s, "cannot read '%s': %s", s->path,
				 strerror(errno));
	*in = s->raw;
	*avail = 0;
	if (gzsrc_raw_more(s, in, avail) < 0)
		return gzsrc_prod_fail(s, "cannot read '%s': %s", s->path,
				 strerror(errno));
	if (*avail < skip)
		skip = *avail;
	*in += skip;
	*avail -= skip;
	return 0;
}

#endif
