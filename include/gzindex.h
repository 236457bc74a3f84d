/* gzindex: access points into a gzip file, so that a resumed read starts
 * near where an earlier one stopped instead of inflating from byte 0
 * (the idea of zlib's examples/zran.c; the code is settle's own).
 *
 * An access point is a place between two deflate blocks of a member (or
 * just after a member's gzip header, before its first block): the file
 * offset of the first byte wholly after it, the bits of the byte before
 * still to decode, the 32 KiB of text before it (deflate's window, which
 * later blocks may refer to), the text offset there, and the CRC-32 and
 * length of the member's text before it, so that the member's trailer is
 * still checked for the whole member. A point is made only where inflate
 * stops at a block boundary (zlib's Z_BLOCK), never inside a block.
 *
 * The reader of the text adds what it needs to go on (gzsrc.h,
 * gzsrc_resume): the text before `head` is read again from byte 0 (a CSV
 * reader's header), then the text from `sync` (a row boundary at or after
 * the point) is handed over, and the reader sets its counts to `records`
 * and `lines` there.
 *
 * Every point carries a check of the text right after it (vlen bytes,
 * their CRC-32): a read resumed from it compares that text before it
 * hands anything over, and inflates from byte 0 instead when it differs.
 * The packed form carries its own CRC-32, so that a damaged state row is
 * refused at unpacking. */
#ifndef GZINDEX_H
#define GZINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define GZINDEX_WINDOW 32768u      /* deflate's window */
#define GZINDEX_VMAX 16384u        /* text checked after a point */
#define GZINDEX_VMIN 64u           /* a point with less to check: none */

struct gzindex_point {
	/* the decoder's */
	uint64_t in;        /* file offset of the first byte wholly after it */
	unsigned bits;      /* 0..7: bits of byte in - 1 still to decode */
	uint64_t out;       /* text offset (all members) */
	uint32_t crc;       /* CRC-32 of the member's text before out */
	uint64_t mlen;      /* bytes of the member's text before out */
	uint32_t vlen;      /* GZINDEX_VMIN..GZINDEX_VMAX bytes of text */
	uint32_t vcrc;      /* from out, and their CRC-32 */
	uint32_t wlen;      /* 0..GZINDEX_WINDOW bytes of window */
	unsigned char window[GZINDEX_WINDOW];
	/* the reader's (gzsrc.h, gzsrc_resume) */
	uint64_t head;      /* text [0, head) is handed first */
	uint64_t sync;      /* then text from sync (>= out) */
	uint64_t records, lines; /* the reader's counts at sync */
};

/* The packed form of p, to store: *blob (the caller frees it), *n bytes.
 * The window is deflated. */
void gzindex_pack(const struct gzindex_point *p, unsigned char **blob,
		  size_t *n);

/* Unpacks a blob of gzindex_pack. Returns 0, or ST_ERROR with e filled
 * ("bad access point: ..." and what is wrong: its length, its check, a
 * field out of range) when it is not a whole, unchanged packed point. */
int gzindex_unpack(const void *blob, size_t n, struct gzindex_point *p,
		   struct err *e);

#endif
