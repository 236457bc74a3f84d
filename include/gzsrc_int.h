/* gzsrc_int: internal to the gzip source. Nothing else includes it but
 * the source's own files and their unit tests. Its files, each calling
 * only the ones listed before it (no call runs back up):
 *   gzsrc_ring.c   the raw reading (gzsrc_raw_more, hashed once per byte),
 *                  the producer's failure (gzsrc_prod_fail), the chunk
 *                  ring and the producer thread it runs (gzsrc_ring_run)
 *   gzsrc_zlib.c   zlib's inflater, the reference and the fallback, and
 *                  the access points it makes as it inflates
 *   gzsrc_isal.c   igzip's inflater (SETTLE_ISAL only)
 *   gzindex.c      a read resumed from an access point (with zlib), and
 *                  the packed form of a point (gzindex.h)
 *   gzsrc.c        the public API (gzsrc.h), plain reading, and the
 *                  choice of the producer: a resumed read, igzip with
 *                  zlib going on from a member it gave up, or zlib
 * The ring calls back only through the function pointers it is given
 * (the producer; the consumer's fn, point_fn and jump_fn).
 *
 * The producer (the inflating thread, or the caller's thread when none
 * could be had) owns zs, raw, the fd and the counts; it makes chunks of
 * text in the ring's slots with gzsrc_next_buf / gzsrc_make_chunk and
 * hands them over with gzsrc_publish (gzsrc_ring.c's opening comment
 * says who owns which slot when). Invariants: chunks are handed over in
 * the order made, with the counts they were made with; at most
 * HOLD_CHUNKS (< RING) are held unpublished, and whether one is held
 * depends only on the input, so a read on one thread and a read on two
 * hand over the same chunks; a failure of the producer (perr) reaches
 * the consumer only after every chunk published before it. */
#ifndef GZSRC_INT_H
#define GZSRC_INT_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include <zlib.h>
#ifdef SETTLE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#include "gzindex.h"
#include "gzsrc.h"
#include "sha256.h"

#define READ_SIZE (256u * 1024u)   /* default raw read size */
#define MAX_READ_SIZE ((size_t)1 << 30) /* fits zlib's uInt avail_in */
#define RAW_SLACK 16               /* room to keep a split gzip magic */
#define TEXT_SIZE (256u * 1024u)   /* inflate output per call */
#define RING 16                    /* inflated chunks in flight */
#define HOLD_CHUNKS (GZSRC_HOLD / TEXT_SIZE) /* < RING */
#define ESCALATE 1                 /* igzip gives the member to zlib */
/* igzip's input ahead of the text it handed out, at the end of a call
 * (its 64-bit bit buffer, its tmp_in_buffer of ISAL_DEF_MAX_HDR_SIZE,
 * a few literals decoded but not written), rounded up generously */
#define ISAL_LOOK 1024u

/* The producer of a gzip read (gzsrc_ring_run): inflates from the avail
 * raw bytes at s->raw, making and publishing chunks. Returns 0, or -1:
 * failed (perr filled) or told to stop. */
typedef int (*gzsrc_produce_fn)(struct gzsrc *s, size_t avail);

struct chunk {
	size_t off, n;          /* text at slot + off */
	uint64_t raw_read;
	uint64_t pos;           /* text offset of its first byte */
	struct gzindex_point *pt; /* an access point in it, or NULL */
	int jump;               /* the first text after a resume's jump */
};

struct gzsrc {
	char *path;
	int fd;              /* -1 for a source over memory */
	const unsigned char *mem; /* gzsrc_open_mem: the bytes, and */
	size_t mem_len, mem_pos;  /* how many, and how far read */
	struct gzsrc_limits lim;
	enum gzsrc_inflate want;  /* gzsrc_set_inflate */
	uint64_t gz_in;      /* compressed bytes consumed (the producer's) */
	uint64_t raw_read;   /* raw bytes read (the producer's, for gzip) */
	uint64_t raw_hi;     /* the most raw_read was before a seek back */
	uint64_t prod_out;   /* text inflated, all members (the producer's) */
	uint64_t skip;       /* a zlib replay drops text below this */
	uint64_t pub_out;    /* text published */
	uint64_t mem_gz, mem_text; /* gz_in and prod_out where a member began */
	struct sha256 *md;   /* gzsrc_hash: every raw byte read, or NULL */
	size_t read_size;
	unsigned char *raw;
	size_t raw_cap;
	z_stream zs;
	int z_live;
#ifdef SETTLE_ISAL
	struct inflate_state *is;
	uint64_t is_in1, is_in2;  /* gz_in after the last two igzip calls */
#endif

	/* the ring of inflated chunks (gzsrc_ring.c's opening comment) */
	unsigned char *text;
	struct chunk ring[RING];
	uint64_t made, taken;   /* chunks published, chunks consumed */
	unsigned held;          /* chunks made, not yet published, */
	size_t held_n;          /* with this much text */
	size_t slot_used;       /* igzip's text in the slot after them */
	int streaming;          /* igzip's member is being published */
	int threaded;           /* a producer thread runs */
	gzsrc_produce_fn produce; /* what it runs */
	size_t prod_avail;      /* raw bytes read before it started */
	int done;               /* the producer ended, with prod_rc */
	int prod_rc;            /* 0, or -1 with perr filled (or cancel) */
	int cancel;             /* the consumer stopped: the producer ends */
	struct err perr;        /* the producer's failure */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;      /* made, taken, done or cancel changed */

	/* access points: made by zlib (gzsrc_zlib.c) while gzsrc_index is
	 * on; a resumed read from rp (gzindex.c) */
	uint64_t span;          /* text between points; 0: none made */
	gzsrc_point_fn point_fn;
	struct gzindex_point *slot_pt; /* made in the slot being filled */
	uint64_t last_pt;       /* text offset of the last point made */
	int raw_mode;           /* zs inflates raw deflate (a resumed member) */
	uint32_t rcrc;          /* raw_mode: the member's CRC-32 and length */
	uint64_t rlen;          /* of text so far, checked at its trailer */
	uint64_t stop_at;       /* inflate_zlib stops at this text offset */
	struct gzindex_point *rp; /* gzsrc_resume's point, or NULL */
	gzsrc_jump_fn jump_fn;
	int jump_pending;       /* the next chunk made is the first after it */
	int resumed;            /* 1 jumped, -1 fell back to byte 0 */

	/* the consumer's side of one read */
	gzsrc_text_fn fn;
	void *ctx;
	struct err *e;
	int stopped;            /* fn's negative value */
	int failed;             /* e is filled */
};

/* ---- gzsrc_ring.c: the raw reading and the chunk ring ---- */

/* Hands text to the consumer (fn); remembers a stop (fn's value in
 * stopped). Returns 0, or -1 when fn stopped the read. */
int gzsrc_hand(struct gzsrc *s, const unsigned char *p, size_t n,
	       uint64_t raw_read);

/* The producer's failure: kept in perr until the consumer, having taken
 * the text inflated before it, reaches it. Returns -1. */
int gzsrc_prod_fail(struct gzsrc *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Moves the unconsumed input [*in, *in + *avail) to the start of the raw
 * buffer and reads up to read_size more bytes after it, hashing them
 * (gzsrc_hash). Returns the count read (0 at EOF), or -1 with errno set. */
ssize_t gzsrc_raw_more(struct gzsrc *s, unsigned char **in, size_t *avail);

/* The slot for the next chunk made: waits while the ring is full. NULL
 * when the consumer has stopped. */
unsigned char *gzsrc_next_buf(struct gzsrc *s);

/* Makes a chunk of the n bytes at off in gzsrc_next_buf()'s slot, held
 * until gzsrc_publish(). */
void gzsrc_make_chunk(struct gzsrc *s, size_t off, size_t n);

/* Hands the held chunks over. Returns 0, or -1 when the consumer has
 * stopped. */
int gzsrc_publish(struct gzsrc *s);

/* Runs produce over the avail raw bytes at s->raw on a thread of its own
 * while this thread takes the chunks it publishes, in order, handing
 * them to fn (and their points to point_fn), until it is done or the
 * consumer stops; or on this thread alone when no thread can be had.
 * Either way the text is handed over in the same chunks with the same
 * counts, and the producer has ended on return. Returns produce's value
 * (perr cleared first, filled by a failure). */
int gzsrc_ring_run(struct gzsrc *s, size_t avail, gzsrc_produce_fn produce);

/* ---- gzsrc_zlib.c: the zlib inflater, which makes the access points ---- */

#define STOP_AT 2               /* inflate_zlib reached stop_at */

/* zlib's n bytes of text just inflated into gzsrc_next_buf()'s slot:
 * checks the limits, drops what a replay has already published, and
 * hands over the rest. Returns 0, or -1 (failed, or stopped). */
int gzsrc_zlib_emit(struct gzsrc *s, size_t n);

/* One inflate call of zs into out[0..room), as inflate(Z_NO_FLUSH) would
 * make it, but in steps of Z_BLOCK while access points are made (a point
 * at most per call). Counts gz_in. Returns zlib's code;
 * *produced: the text made. */
int gzsrc_zcall(struct gzsrc *s, unsigned char *out, size_t room,
		size_t *produced);

/* Inflates with zlib every member in turn from the raw bytes at hand
 * (avail of them, at in), `members` of them having ended before. Returns
 * 0, STOP_AT when prod_out reached stop_at, or -1: failed (perr filled)
 * or told to stop. */
int gzsrc_inflate_zlib(struct gzsrc *s, unsigned char *in, size_t avail,
		       int members);

/* ---- gzindex.c: a resumed read ---- */

/* The producer of a resumed read (gzsrc_resume), avail raw bytes at
 * hand; returns as gzsrc_inflate_zlib. */
int gzindex_inflate(struct gzsrc *s, size_t avail);

/* ---- gzsrc_isal.c: igzip's inflater ---- */

#ifdef SETTLE_ISAL
/* Inflates with igzip member after member (the first at s->raw, avail
 * bytes), counting those that ended well in *members. Returns 0 at a
 * clean end, ESCALATE when zlib must go on from the member that began at
 * mem_gz, or -1 (failed with perr filled, or stopped). */
int gzsrc_isal_inflate(struct gzsrc *s, size_t avail, int *members);

/* Seeks back to the member that began at mem_gz for zlib, and drops the
 * text igzip made of it but did not publish; zlib then goes on from
 * mem_gz at (*in, *avail). Returns 0, or -1 with perr filled. */
int gzsrc_isal_rewind(struct gzsrc *s, unsigned char **in, size_t *avail);
#endif

#endif
