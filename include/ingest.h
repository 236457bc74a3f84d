/* ingest: reading usage files into the state (SPEC sections 3, 4, 9).
 *
 * For each path: its SHA-256 and size decide what happens (the same
 * content as registered: nothing; new content: a corrected file that
 * replaces the old records in one step; content already registered under
 * another path, or given earlier in the same call: a duplicate delivery,
 * skipped). A file is read by the usage reader; valid records go into
 * batches (batch.h), rejects into the state, and everything is committed
 * with the file's checkpoint. A large file commits intermediate
 * checkpoints, and an ingest of the same content that finds one resumes
 * after it. Up to `jobs` files are read at once; nothing in the result
 * depends on that number.
 *
 * A file's bytes are hashed once where they can be. Its digest is taken
 * before it is read only when its size is that of some file row or of
 * another file of the call (it may be content seen before); a file of any
 * other size is new content, and its reader's hash of the bytes it parses
 * is its digest (a large file is hashed whole once more before its first
 * intermediate checkpoint, whose row a resumed ingest matches by digest).
 * A file is read for its records from the descriptor opened first (or,
 * past a few dozen files, opened again by path and checked to be the same
 * file with the same size and mtime), and the bytes the reader parses are
 * hashed as they are read: when they differ from the digest, or are not
 * the whole file, or the file's size or mtime changed (checked at every
 * checkpoint too), the file fails with usage_changed's message and none
 * of its records count. A file that changes during its digest is not
 * registered. */
#ifndef INGEST_H
#define INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

struct usage_opts;

enum ingest_outcome {
	ING_NEW,        /* a path not registered before */
	ING_REPLACED,   /* corrected content under a registered path */
	ING_UNCHANGED,  /* same content as registered: nothing done */
	ING_DUPLICATE,  /* same content as another path: skipped */
	ING_FAILED,     /* read failed: registered as failed, none counted */
	ING_UNREADABLE  /* could not be opened: not registered */
};

struct ingest_file {
	const char *path;          /* as given (not owned) */
	enum ingest_outcome outcome;
	uint64_t records;          /* valid records kept */
	uint64_t rejected;         /* records rejected at ingest */
	uint64_t resumed_from;     /* records skipped thanks to a checkpoint */
	char *dup_of;              /* ING_DUPLICATE: the other path (owned) */
	char msg[1024];            /* ING_FAILED / ING_UNREADABLE: why */
};

struct ingest_opts {
	int jobs;                  /* files read at once (>= 1); digests
	                            * run on at least two threads */
	uint64_t checkpoint_bytes; /* raw input between checkpoints */
	/* Called now and then from one thread at a time with the totals so
	 * far (raw bytes read, of `total`: the sizes of the files being
	 * read; records); may be NULL. */
	void (*progress)(void *ctx, uint64_t bytes, uint64_t total,
			 uint64_t records);
	void *progress_ctx;
	/* How files are read (gzip limits; usage.h): not copied, NULL for
	 * the defaults. */
	const struct usage_opts *usage;
};

/* Ingests n files into s. Fills files[0..n) (the caller sets .path and
 * frees dup_of). Returns 0 when every file was handled (some may have
 * failed: see outcomes), or ST_ERROR with e filled when the state could
 * not be written (then nothing of the failing step was committed). */
int ingest_run(struct store *s, struct ingest_file *files, size_t n,
	       const struct ingest_opts *o, struct err *e);

#endif
