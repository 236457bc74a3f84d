/* store: the state file (one SQLite database, WAL mode).
 *
 * It holds the registry of usage files (identity = path as given, size,
 * SHA-256, state, counts, error), the ingested records of each file in
 * compact batches (batch.h), the records each file rejected at ingest, and
 * the checkpoint of a file whose ingest has not finished. The tables of
 * final periods (their invoices, lines and adjustments) are in the same
 * file and the same transactions, but final.h owns them.
 *
 * A file row is in one of three states: FILE_OK and FILE_FAILED rows are
 * current (at most one per path); a FILE_LOADING row is an ingest under way
 * (its batches so far and its checkpoint are committed, but nothing reads
 * them until store_file_finish makes it current in one transaction,
 * dropping the row it replaces).
 *
 * Two processes never work on one state file at once: store_open takes an
 * exclusive advisory lock (flock) on the file and fails with ST_BUSY when
 * another run holds it. */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The state's version (SQLite's user_version). 2: record batches may be
 * in layout 2 (batch.h). 3 (SPEC v2) adds, for the close guards and
 * status: each file's earliest record instant (file.earliest), a log of
 * file changes with a sequence number (file_log), the SHA-256 of every
 * output file version a close wrote per (period, name) (written), and
 * per final period the log sequence and as_of of its last close
 * (period.log_seq, period.as_of). A state of an older version is
 * upgraded in place, in one transaction, when a command that writes
 * opens it; each part's additions are their own function that adds only
 * what is missing. A settle that knows only an older version refuses a
 * newer state by name. 3 also adds the instant of each reject's ts cell
 * (reject.ts, NULL when unreadable: the reject belongs to no period) and
 * the tax and dates kept with each final invoice and adjustment
 * (final.h). Rejects of an older state have no ts: they stay unplaced
 * until their file is ingested anew. */
#define STORE_SCHEMA_VERSION 5
/* 4 (issue 14) adds each batch's range of record instants (batch.min_ts,
 * batch.max_ts; NULL in a batch stored before: unknown, so rating always
 * decodes it) and the tables of ckpt.h (what each final period left of
 * every package). 5 (issue 14) adds the tables of carry.h (what each
 * final period leaves of the balances and arrears to the next close) and
 * the stat stamps of each final period's output files (out_stamp,
 * stamp.h: a close hashes an earlier folder only when a stamp differs). */

enum file_state { FILE_LOADING = 0, FILE_OK = 1, FILE_FAILED = 2 };

struct store;

struct store_file {
	int64_t id;
	char *path;               /* owned; store_file_release frees */
	uint64_t size;
	unsigned char sha[32];
	enum file_state state;
	uint64_t records;         /* valid records kept */
	uint64_t rejected;        /* records rejected at ingest */
	char *error;              /* why it failed; "" otherwise */
	uint64_t ck_raw;          /* LOADING: raw bytes read at the checkpoint */
	uint64_t ck_records;      /* LOADING: records (valid + rejected) done */
	int64_t ck_seq;           /* LOADING: batches committed */
};

void store_file_release(struct store_file *f);

enum store_mode {
	STORE_CREATE,  /* read and write; create the file when missing */
	STORE_WRITE,   /* read and write an existing file */
	STORE_READ,    /* read only, without the lock (status) */
	STORE_PEEK     /* as STORE_READ, but never waits: a state that a run
			* beside holds fails at once (ST_BUSY); holds a
			* shared flock while open */
};

/* Opens the state file at path. STORE_CREATE and STORE_WRITE lock it and
 * bring its schema to this version (STORE_CREATE creates a missing file,
 * mode 0600); STORE_READ takes no lock and changes nothing, so it works
 * beside a run (use store_snapshot for a consistent view); it waits up
 * to 5 s for SQLite's locks, which a run holds for a moment at a
 * checkpoint. STORE_PEEK waits for nothing: it is for a glance that may
 * fail (the config-digest check before a close), never for a command's
 * answer. Without
 * STORE_CREATE a missing file is ST_ERROR `no state file 'X' (settle
 * ingest creates one)` and nothing is created. Returns NULL with e
 * filled: ST_BUSY when another run holds the lock, ST_ERROR otherwise (a
 * newer schema, not a settle state file, unreadable). */
struct store *store_open(const char *path, enum store_mode mode,
			 struct err *e);

/* The file's schema version (STORE_READ leaves an older one as it is). */
int store_schema(const struct store *s);

/* Lets a STORE_READ handle write inside transactions that it rolls back
 * (status --config's dry-run close). Its first write takes SQLite's write
 * lock, so it waits a while for a run beside, then fails. */
int store_dry_writes(struct store *s, struct err *e);

/* Starts a read transaction: every read until store_rollback sees one
 * snapshot, whatever a run beside commits meanwhile. */
int store_snapshot(struct store *s, struct err *e);

/* Closes and unlocks; NULL does nothing. */
void store_close(struct store *s);

/* Transactions. begin is BEGIN IMMEDIATE. */
int store_begin(struct store *s, struct err *e);
int store_commit(struct store *s, struct err *e);
void store_rollback(struct store *s);

/* The current (OK or FAILED) row of path. 1 found, 0 none, ST_ERROR < 0 is
 * never returned: errors are -1 with e filled. */
int store_file_current(struct store *s, const char *path,
		       struct store_file *out, struct err *e);

/* The LOADING row of path. 1, 0, or -1. */
int store_file_loading(struct store *s, const char *path,
		       struct store_file *out, struct err *e);

/* Every current path other than `path` with this SHA-256, sorted; *paths
 * and each string are malloc'd for the caller. 0 or -1. */
int store_paths_with_sha(struct store *s, const unsigned char sha[32],
			 const char *path, char ***paths, size_t *n,
			 struct err *e);

/* Sets how many pages the WAL holds before a commit copies it into the
 * state file (SQLite's wal_autocheckpoint; each such checkpoint syncs
 * the WAL and then the state file); *old gets the value it had. 0 or
 * -1. */
int store_wal_pages(struct store *s, int pages, int *old, struct err *e);

/* How many pages a transaction may hold in SQLite's cache before it
 * writes some to the WAL ahead of its commit (SQLite's cache_spill=N,
 * pages > 0, a multiple of 256 made one more; the cache size when that
 * is larger: 1 gives SQLite's default, about 2 MiB). A transaction
 * that spills writes those pages with provisional checksums and, at its
 * commit, reads every frame of it back and writes its header again (a
 * 4 MiB batch: ~1000 reads and as many writes more, with ingest's state
 * lock held). 0 or -1 with e filled. */
int store_spill_pages(struct store *s, int pages, struct err *e);

/* A WAL copier: a second connection to the state, on a thread of its
 * own, that copies the pages committed so far from the WAL into the
 * state file (a passive checkpoint: it never waits for or blocks a
 * writer, and never changes what the state holds) each time it is
 * kicked, so that the copy and its two fdatasyncs run beside the work
 * that follows a commit instead of all at once when the state is closed.
 * A checkpoint that cannot run (busy, or any error) is left to the next
 * kick or to store_close, which copies what is left as it always did.
 * store_copier_start returns NULL when no copier can be had (then
 * nothing changes); kick and stop do nothing with NULL. Kick may be
 * called from any thread; stop once, before store_close: it serves a
 * kick still pending, then joins the thread and closes the connection. */
struct store_copier;
struct store_copier *store_copier_start(struct store *s);
void store_copier_kick(struct store_copier *c);
void store_copier_stop(struct store_copier *c);

/* 1 if some file row (of any path, in any state) has this size, 0 if
 * none, -1 with e filled. A file whose size no row has holds content no
 * row holds (ingest reads it before it knows its SHA-256). */
int store_size_known(struct store *s, uint64_t size, struct err *e);

/* Sets the SHA-256 of row id (a LOADING row begun before its file's
 * digest was known). 0 or -1. */
int store_file_set_sha(struct store *s, int64_t id,
		       const unsigned char sha[32], struct err *e);

/* Inserts a LOADING row; sets *id. 0 or -1. */
int store_file_begin(struct store *s, const char *path, uint64_t size,
		     const unsigned char sha[32], int64_t *id, struct err *e);

/* Adds one batch blob, as number seq of file id, with the sorted keys of
 * its nrec records (batch_keys) and the range [min_ts, max_ts] of their
 * instants. */
int store_batch_put(struct store *s, int64_t id, int64_t seq, size_t nrec,
		    const void *data, size_t len, const uint64_t *keys,
		    int64_t min_ts, int64_t max_ts, struct err *e);

/* A batch as store_batch_ids lists it. */
struct store_batch {
	int64_t id;
	size_t nrec;
	const char *path;         /* its file's (valid during the call) */
	int ranged;               /* 1: [min_ts, max_ts] holds every record
				   * instant; 0: unknown (an older batch) */
	int64_t min_ts, max_ts;
};

/* Calls fn with every batch of every FILE_OK file, in (path, seq)
 * order. */
int store_batch_ids(struct store *s,
		    int (*fn)(void *ctx, const struct store_batch *b),
		    void *ctx, struct err *e);

/* A batch's sorted keys, read piece by piece (SQLite incremental blob
 * I/O), so they never need to be in memory all at once. */
struct store_blob;
struct store_blob *store_keys_open(struct store *s, int64_t id,
				   struct err *e);
/* Reads n bytes at off; 0 or -1. */
int store_blob_read(struct store_blob *b, void *buf, size_t n, size_t off);
void store_blob_close(struct store_blob *b);

/* Adds one reject row; ts is the instant of its ts cell, NULL when the
 * cell does not read as one. */
int store_reject_put(struct store *s, int64_t id, uint64_t line,
		     const char *record_id, size_t rid_len, const char *tenant,
		     size_t tenant_len, const char *reason, const int64_t *ts,
		     struct err *e);

/* Records the checkpoint of a LOADING file. */
int store_checkpoint(struct store *s, int64_t id, uint64_t raw,
		     uint64_t records, int64_t seq, struct err *e);

/* The access point (gzindex.h, packed) of a LOADING file's checkpoint,
 * so that a resumed ingest of a gzip file starts near it: n bytes at
 * blob, or none (blob NULL). Kept in the file row's ck_point column,
 * which the upgrade step "ck_point" adds; a state without it (an older
 * one opened without an upgrade) keeps no point: 0, nothing done. */
int store_checkpoint_point(struct store *s, int64_t id, const void *blob,
			   size_t n, struct err *e);

/* The access point stored for row id: *blob (the caller frees it), *n
 * bytes; *blob NULL when there is none. Returns 0, or -1 with e filled. */
int store_file_point(struct store *s, int64_t id, void **blob, size_t *n,
		     struct err *e);

/* Lowers the earliest record instant of row id to ts (version 3). */
int store_file_earliest(struct store *s, int64_t id, int64_t ts,
			struct err *e);

/* The earliest record instant of all current ok files into *ts, *have 1;
 * *have 0 when they hold no record. A file ingested before version 3
 * (no instant kept) counts as INT64_MIN + 1: earlier than everything. */
int store_earliest(struct store *s, int64_t *ts, int *have, struct err *e);

/* The rejects of current ok files that belong to no period (no readable
 * ts; every reject of a state whose reject table has no ts column). */
int store_unplaced(struct store *s, uint64_t *n, struct err *e);

/* The sequence number of the last logged file change (0: none). Every
 * store_file_finish and store_file_forget logs one, with the earliest
 * record instant of the records it added or removed. */
int store_log_seq(struct store *s, int64_t *seq, struct err *e);

/* Records that a close wrote a file `name` of period p with these bytes
 * (their SHA-256). */
int store_written_put(struct store *s, int p, const char *name,
		      const unsigned char sha[32], struct err *e);

/* 1 if a close of this state wrote `name` of period p with these bytes
 * (sha NULL: any file of period p at all), 0 if not, -1 on error. */
int store_written_has(struct store *s, int p, const char *name,
		      const unsigned char *sha, struct err *e);

/* Makes LOADING row id current with the given state and error (NULL for
 * none), deleting the previous current row of the same path and its data,
 * and counting the row's records and rejects from what it holds. For
 * FILE_FAILED, the row's own batches and rejects are deleted first (a
 * failed file counts none of its records). Call inside a transaction. */
int store_file_finish(struct store *s, int64_t id, enum file_state st,
		      const char *error, struct err *e);

/* Deletes row id and everything it holds (a stale LOADING row). */
int store_file_drop(struct store *s, int64_t id, struct err *e);

/* Withdraws path: deletes its current row, its LOADING row, and their
 * data. 1 if there was something, 0 if the path was not registered. */
int store_file_forget(struct store *s, const char *path, struct err *e);

/* Calls fn for every file row, current and loading, ordered by path then
 * state. fn returns 0 to go on. */
int store_files(struct store *s,
		int (*fn)(void *ctx, const struct store_file *f), void *ctx,
		struct err *e);

/* Calls fn for every batch of every FILE_OK file that may hold a record
 * at or after instant from (its max_ts >= from, or unknown), in (path,
 * seq) order, with the batch (b->path its file's path) and its blob.
 * INT64_MIN: every batch. */
int store_batches(struct store *s, int64_t from,
		  int (*fn)(void *ctx, const struct store_batch *b,
			    const void *data, size_t len),
		  void *ctx, struct err *e);

/* Sets the range of record instants of batch id when it has none (a
 * batch stored before version 4; rating learns it when it decodes the
 * batch). 0 or -1 with e filled. */
int store_batch_range(struct store *s, int64_t id, int64_t min_ts,
		      int64_t max_ts, struct err *e);

/* Calls fn for every reject stored for FILE_OK files, in (path, line)
 * order; ts points at the instant of its ts cell, NULL when none. */
int store_rejects(struct store *s,
		  int (*fn)(void *ctx, const char *path, uint64_t line,
			    const char *record_id, const char *tenant,
			    const char *reason, const int64_t *ts),
		  void *ctx, struct err *e);

#endif
