/* gzsrc: the text of one usage file, plain or gzip, handed over in chunks
 * (SPEC section 3, "Usage files"; the reader in usage.h parses it).
 *
 * A source reads a regular file (or bytes in memory, for tests) and tells
 * gzip by its first two bytes (1f 8b); a file of fewer than two bytes is
 * plain. Plain bytes are handed over as read. Gzip is inflated member
 * after member (RFC 1952), on a thread of the source's own a few MiB of
 * text ahead of the consumer; after a member ends the next bytes must
 * start another member, anything else (zero padding included) fails the
 * file as "trailing garbage", and EOF inside a member as "truncated".
 *
 * The consumer is called only on the thread that called gzsrc_read, with
 * the text in file order, in the same chunks with the same counts whether
 * or not a thread could be had; a failure of the gzip is reported after
 * the text inflated before it has been consumed. The inflating thread has
 * ended when gzsrc_read returns.
 *
 * Gzip limits. A gzip file whose text grows past either limit fails
 * (nothing of it counts), so that a small hostile file cannot make a run
 * inflate without end. They are checked after each inflate call, before
 * its text is handed over, against the compressed bytes inflate consumed
 * so far (gzip headers and trailers included, every member counted):
 * - ratio: once more than GZSRC_RATIO_FLOOR bytes of text have been
 *   inflated, the text so far may be at most max_ratio times the
 *   compressed bytes consumed so far; the message is
 *     gzip in 'FILE' inflates past 1000 times its size (limit SETTLE_GZIP_MAX_RATIO)
 * - size: the text of the whole file (all members) may be at most
 *   max_bytes; a read that fails it has handed over at most that many:
 *     gzip in 'FILE' inflates past 68719476736 bytes (limit SETTLE_GZIP_MAX_BYTES)
 * The messages name the environment variables through which a front end
 * sets the limits (usage.h, usage_opts_parse); this module reads no
 * environment. Plain files are not limited: they are as large as they
 * look.
 *
 * Decoders (SPEC 10, v2). zlib is the reference decoder and the fallback.
 * Where settle was built with ISA-L (SETTLE_ISAL, libisal-dev), igzip
 * inflates instead, and the read gives the same text, the same chunks'
 * bytes, the same limits and the same failures with the same messages as
 * zlib would, for any input: igzip only ever decides that text is good.
 * Every failure, every limit that might trip and every doubt (a member
 * igzip rejects, reserved header flags, EOF, bytes after a member, a
 * ratio within reach of the limit) is handed to zlib, which re-inflates
 * the member from its first byte, drops the text already handed over,
 * and decides exactly as a zlib-only read would. The text of a member is
 * held back (not handed over) until igzip has checked its CRC-32 and
 * length, up to GZSRC_HOLD bytes; a member that inflates beyond that is
 * handed over as it goes. What igzip accepts and zlib refuses (deflate
 * code sets that are incomplete, which no compressor writes) can thus
 * differ only inside a member whose text igzip has already handed over
 * past GZSRC_HOLD bytes, or whose CRC-32 was forged to match: the file
 * still fails with zlib's message unless its CRC-32 and length match.
 * The counts a chunk carries (gzsrc_text_fn's raw_read) depend on the
 * decoder; the text and the failures do not. */
#ifndef GZSRC_H
#define GZSRC_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define GZSRC_MAX_RATIO 1000
#define GZSRC_MAX_BYTES ((uint64_t)64 << 30)      /* 64 GiB */
#define GZSRC_RATIO_FLOOR ((uint64_t)1 << 20)     /* 1 MiB */
#define GZSRC_ENV_MAX_RATIO "SETTLE_GZIP_MAX_RATIO"
#define GZSRC_ENV_MAX_BYTES "SETTLE_GZIP_MAX_BYTES"

/* 0 in either field: no limit. */
struct gzsrc_limits {
	uint64_t max_ratio;
	uint64_t max_bytes;
};

#define GZSRC_LIMITS_DEFAULT { GZSRC_MAX_RATIO, GZSRC_MAX_BYTES }

/* Which decoder inflates gzip (gzsrc_set_inflate). DEFAULT: ISA-L where
 * built in, else zlib. */
enum gzsrc_inflate {
	GZSRC_INFLATE_DEFAULT = 0,
	GZSRC_INFLATE_ZLIB,
	GZSRC_INFLATE_ISAL
};

#define GZSRC_ENV_INFLATE "SETTLE_INFLATE"
#define GZSRC_HOLD ((size_t)2 << 20)   /* text held per member: 2 MiB */

/* 1 when settle was built with ISA-L (and GZSRC_INFLATE_ISAL is real),
 * else 0. */
int gzsrc_have_isal(void);

/* Parses the text of SETTLE_INFLATE as a front end found it: NULL, "" or
 * "auto" gives GZSRC_INFLATE_DEFAULT, "zlib" GZSRC_INFLATE_ZLIB, "isal"
 * GZSRC_INFLATE_ISAL. Returns 0, or ST_ERROR with e filled:
 *     bad SETTLE_INFLATE 'x' (zlib, isal or auto)
 *     SETTLE_INFLATE=isal, but this settle was built without ISA-L */
int gzsrc_inflate_parse(const char *v, enum gzsrc_inflate *out,
			struct err *e);

struct gzsrc;

/* Opens path read-only if it is a regular file (after symlinks). A FIFO
 * or a device (/dev/zero, /dev/stdin) is refused at once, never waited on
 * or read without end: settle may read each file twice (digest, then
 * records) and must see it end. Returns the fd (the caller closes it), or
 * -1 with e filled ("cannot open 'F': ...", "cannot read 'F': is a
 * directory", "cannot read 'F': not a regular file"). */
int gzsrc_open_regular(const char *path, struct err *e);

/* A source over path (gzsrc_open_regular's checks and messages): NULL
 * with e filled when it cannot be opened. lim NULL: the defaults. path is
 * copied; it names the file in messages. */
struct gzsrc *gzsrc_open(const char *path, const struct gzsrc_limits *lim,
			 struct err *e);

/* A source over fd, a regular file open for reading at the offset to read
 * from (gzsrc_open_regular's; the source closes it), named path in
 * messages. */
struct gzsrc *gzsrc_open_fd(int fd, const char *path,
			    const struct gzsrc_limits *lim);

/* Makes the next gzsrc_read hash every raw byte it reads, as it reads
 * it (the compressed bytes of a gzip file), for gzsrc_digest. */
void gzsrc_hash(struct gzsrc *s);

/* After gzsrc_read: the SHA-256 of the raw bytes it read and their
 * count. Returns 0, or -1 when gzsrc_hash was not called (or the digest
 * was taken already). A read that ended early read only some bytes. */
int gzsrc_digest(struct gzsrc *s, unsigned char sha[32], uint64_t *raw);

/* A source over data[0..n) (not copied: it must outlive the source),
 * named `name` in messages. lim NULL: the defaults. */
struct gzsrc *gzsrc_open_mem(const void *data, size_t n, const char *name,
			     const struct gzsrc_limits *lim);

/* Test only: how many raw bytes each read asks for (default 256 KiB; 0
 * restores the default; at most 1 GiB). Call before gzsrc_read. */
void gzsrc_set_read_size(struct gzsrc *s, size_t n);

/* Chooses the decoder of the next gzsrc_read (the default: DEFAULT).
 * GZSRC_INFLATE_ISAL without ISA-L built in is zlib. */
void gzsrc_set_inflate(struct gzsrc *s, enum gzsrc_inflate which);

/* The decoder a read of gzip would use: GZSRC_INFLATE_ZLIB or _ISAL. */
enum gzsrc_inflate gzsrc_inflate_used(const struct gzsrc *s);

/* The consumer: n > 0 bytes of text at p (valid during the call), made
 * when raw_read raw bytes of the file had been read. Returns 0 to go on,
 * or a negative value to stop the read. */
typedef int (*gzsrc_text_fn)(void *ctx, const unsigned char *p, size_t n,
			     uint64_t raw_read);

struct gzindex_point;

/* An access point (gzindex.h) at text offset p->out, handed to the
 * consumer on its thread between the text before p->out and the text
 * after it; p is valid during the call (copy what is kept). */
typedef void (*gzsrc_point_fn)(void *ctx, const struct gzindex_point *p);

/* A resumed read (gzsrc_resume) jumped: the next text handed over is the
 * text from the point's sync offset. */
typedef void (*gzsrc_jump_fn)(void *ctx);

/* Makes the next gzsrc_read of gzip make access points while zlib
 * inflates (not igzip: it cannot stop at a block boundary), one at the
 * first deflate block boundary after each `span` bytes of text (at most
 * one per 256 KiB of text), handing each to fn(ctx) (gzsrc_read's ctx).
 * The text and the failures are those of a read without points. */
void gzsrc_index(struct gzsrc *s, uint64_t span, gzsrc_point_fn fn);

/* Makes the next gzsrc_read of gzip a resumed one: it hands over the
 * text [0, p->head) (inflated from byte 0), then calls jump(ctx) and
 * hands over the text from p->sync on, inflated from the point with zlib
 * (the raw bytes before it are read and hashed, not inflated; the
 * point's member's trailer is still checked whole). When the point does
 * not fit the file (it cannot be reached, its window does not inflate,
 * or the text after it does not match its check) nothing wrong is handed
 * over: the read goes on from byte 0 with zlib, hands over the text after
 * p->head, and never calls jump. The limits are checked with the counts
 * of the whole file, at the resumed read's own inflate calls. p is
 * copied. */
void gzsrc_resume(struct gzsrc *s, const struct gzindex_point *p,
		  gzsrc_jump_fn jump);

/* After a read with gzsrc_resume: 1 it jumped, -1 it went on from byte
 * 0, 0 it was not resumed (plain text, or no point). */
int gzsrc_resumed(const struct gzsrc *s);

/* Reads the whole source once, handing its text to fn. Returns 0 at its
 * end, fn's negative value when fn stopped it, or ST_ERROR with e filled:
 * "empty file 'F'" (no raw bytes), a read error, bad, corrupt or
 * truncated gzip, trailing garbage, or a limit. */
int gzsrc_read(struct gzsrc *s, gzsrc_text_fn fn, void *ctx, struct err *e);

/* Closes the source; NULL does nothing. */
void gzsrc_free(struct gzsrc *s);

#endif
