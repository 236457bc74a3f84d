/* sha256: SHA-256 (FIPS 180-4) over a stream of bytes, in-tree so that
 * settle depends on zlib, libcsv and sqlite3 only.
 *
 * A caller's struct sha256 holds the whole state: nothing is allocated and
 * nothing can fail. Feed the bytes with any number of sha256_update calls
 * (how they are split does not change the digest), then sha256_final. On
 * x86-64 processors with the SHA extensions the blocks are hashed with
 * them, otherwise in portable C; both give the same digest. The functions
 * are safe to use from several threads, each with its own struct. */
#ifndef SHA256_H
#define SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_BYTES 32 /* digest size */

/* The fields are private to sha256.c. */
struct sha256 {
	uint32_t h[8];          /* chaining state */
	uint64_t len;           /* bytes fed so far */
	unsigned char buf[64];  /* the partial block, len % 64 bytes */
	int ni;                 /* 1: blocks go through the SHA extensions */
};

/* Starts a digest in c. */
void sha256_init(struct sha256 *c);

/* Adds n bytes at p (p may be NULL when n is 0). */
void sha256_update(struct sha256 *c, const void *p, size_t n);

/* Writes the digest of everything fed to out. c must be initialised again
 * before it is reused. */
void sha256_final(struct sha256 *c, unsigned char out[SHA256_BYTES]);

/* For tests only: on != 0 makes digests started from now on use the
 * portable code even where the SHA extensions are available, 0 restores
 * the choice by processor. Returns 1 if the SHA extensions are used when
 * not forced off (so a test can tell whether it ran both paths). */
int sha256_force_portable(int on);

#endif
