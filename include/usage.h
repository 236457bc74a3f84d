/* usage: the streaming usage-file reader (SPEC section 3, "Usage files").
 *
 * Reads one usage file, gzip or plain CSV (the text comes from gzsrc.h,
 * which also sets out the gzip limits), parses it with libcsv (RFC 4180,
 * strict quoting), finds the columns by name in the header, checks each
 * record with the checks that need no config (record.h), and hands every
 * record or reject to a sink, in file order. The checks that need the
 * config (unknown_tenant, unknown_item, no_account, unit_mismatch,
 * no_price) and duplicates are decided later, when rating, so they are
 * not done here.
 *
 * Per-record work does no allocation and, for lines without a '"', no
 * copy: the spans handed to the sink point into buffers owned by the
 * reader (its text, or the cells libcsv unquoted) and stay valid only
 * during the callback.
 *
 * Gzip is inflated on a thread of the reader's own (gzsrc.h), a few MiB
 * of text ahead of the parse; the sink is called only on the thread that
 * called usage_read, and deliveries, progress counts and failures are
 * what one thread reading in turn would give (the inflating thread has
 * ended when usage_read returns).
 *
 * A file that cannot be read whole (not found, I/O error, bad or truncated
 * gzip, empty file, no header, missing required column, duplicate column,
 * malformed quoting, a header over USAGE_MAX_COLUMNS columns, a gzip past
 * the limits of gzsrc.h) fails: the reader returns ST_ERROR with a
 * message naming the file (and the line where it applies). The sink has
 * then seen some records, and the caller must discard them: a failed file
 * counts none.
 *
 * The module reads no environment: the gzip limits come in struct
 * usage_opts, which a front end fills (usage_opts_parse). */
#ifndef USAGE_H
#define USAGE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "gzindex.h"
#include "gzsrc.h"
#include "mem.h"
#include "record.h"

#define USAGE_MAX_COLUMNS 256     /* a wider header fails the file */

/* The environment variables through which a front end sets the gzip
 * limits (gzsrc.h) with usage_opts_parse; this module reads none. */
#define USAGE_ENV_MAX_RATIO GZSRC_ENV_MAX_RATIO
#define USAGE_ENV_MAX_BYTES GZSRC_ENV_MAX_BYTES
#define USAGE_ENV_INFLATE GZSRC_ENV_INFLATE

/* What the caller decides about reading; a NULL struct usage_opts * means
 * every default. */
struct usage_opts {
	struct gzsrc_limits gzip; /* gzsrc.h; 0 in a field: no limit */
	enum gzsrc_inflate inflate; /* the gzip decoder (gzsrc.h) */
};

/* Fills o from the texts of SETTLE_GZIP_MAX_RATIO and
 * SETTLE_GZIP_MAX_BYTES as a front end found them in its environment:
 * whole decimal numbers, 0 meaning no limit; NULL (unset) or "" gives the
 * default (GZSRC_MAX_RATIO, GZSRC_MAX_BYTES). Returns 0, or ST_ERROR with
 * e filled for any other value, naming the variable and its value (cut
 * and made printable):
 *     bad SETTLE_GZIP_MAX_RATIO 'x' (a whole number; 0 for no limit)
 * Deflate cannot exceed about 1032:1, so only runs of one repeated byte
 * (a bomb) reach the default ratio; real logs inflate 5 to 50 times. */
int usage_opts_parse(struct usage_opts *o, const char *max_ratio,
		     const char *max_bytes, struct err *e);

/* Sets o's decoder from the text of SETTLE_INFLATE (after
 * usage_opts_parse, which sets the default): gzsrc_inflate_parse's values
 * and messages. Returns 0 or ST_ERROR with e filled. */
int usage_opts_inflate(struct usage_opts *o, const char *v, struct err *e);

/* Where the reader delivers. A callback returns 0 to go on, or non-zero to
 * stop the read (usage_read then returns that value). */
struct usage_sink {
	int (*rec)(void *ctx, const struct usage_rec *r);
	int (*reject)(void *ctx, const struct usage_reject *r);
	/* Called at record boundaries about every `progress_every` bytes of
	 * raw input (and not at all when progress_every is 0): bytes read
	 * from the file so far, and the number of records (valid + rejected)
	 * delivered so far. May be NULL. */
	int (*progress)(void *ctx, uint64_t raw_bytes, uint64_t records);
	uint64_t progress_every;
	void *ctx;
};

struct usage_reader;

/* Opens path for reading with options o (NULL: the defaults; o is
 * copied). Returns NULL and fills e when it cannot be opened (missing, a
 * directory, unreadable, or not a regular file: a FIFO or a device such
 * as /dev/zero is refused at once, never waited on or read without end). */
struct usage_reader *usage_open(const char *path, const struct usage_opts *o,
				struct err *e);

/* Test and fuzz only: a reader over data[0..n) in memory (not copied: it
 * must outlive the reader), named `name` in messages, with options o
 * (NULL: the defaults). Never NULL. */
struct usage_reader *usage_open_mem(const void *data, size_t n,
				    const char *name,
				    const struct usage_opts *o);

/* Reads the whole file, delivering to sink. Records numbered <= skip are
 * parsed but not delivered (resuming after a checkpoint). Returns 0, a
 * sink's non-zero value, or ST_ERROR with e filled when the file fails. */
int usage_read(struct usage_reader *r, const struct usage_sink *sink,
	       uint64_t skip, struct err *e);

/* Test only: sets how many raw bytes each read of the file asks for
 * (default 256 KiB; 0 restores the default; at most 1 GiB), so that tests
 * can feed the gzip and CSV parsers at every chunk size 1..n. Call before
 * usage_read. */
void usage_set_read_size(struct usage_reader *r, size_t n);

/* Test only: on (the default) lets the reader split lines without a '"'
 * itself; 0 sends every line through libcsv, the parser of record. Both
 * give the same deliveries, failures and messages for any input: the
 * differential tests (tests/test_usage.c, tests/fuzz/) read each input
 * both ways. Call before usage_read. */
void usage_set_fast(struct usage_reader *r, int on);

/* Access points (gzindex.h), so that a later read of the same file can
 * resume near a checkpoint instead of inflating gzip from byte 0.
 *
 * usage_index: call before usage_read. Where zlib inflates gzip, a point
 * is made every `span` bytes of text (gzsrc_index); the reader completes
 * each at the first row boundary at or after it (its sync, with the
 * records and LFs counted there) and keeps the last one completed.
 *
 * usage_point: during usage_read (from a sink callback) or after it, the
 * last point completed, whose records are at most the records numbered so
 * far; NULL when none. Valid until the reader's next callback or
 * usage_free; copy or pack it (gzindex_pack) to keep it.
 *
 * usage_resume: call before usage_read(r, sink, skip, e) of the same file
 * (same bytes); p is copied. When p->records <= skip, the read takes the
 * header from byte 0, then jumps to the point and parses on from its
 * sync with its counts; records <= skip are still not delivered, so the
 * deliveries, failures and messages are those of a read from byte 0
 * (gzsrc_resume: a point that does not fit goes on from byte 0).
 *
 * usage_resumed: after usage_read, gzsrc_resumed's value (1 jumped, -1
 * fell back to byte 0, 0 not resumed). */
void usage_index(struct usage_reader *r, uint64_t span);
const struct gzindex_point *usage_point(const struct usage_reader *r);
void usage_resume(struct usage_reader *r, const struct gzindex_point *p);
int usage_resumed(const struct usage_reader *r);

/* Closes the reader; NULL does nothing. */
void usage_free(struct usage_reader *r);

/* What a file was when it was hashed: which file (device, inode), its
 * size and its mtime. A file read for its records must still be that file
 * with those values, and its bytes must hash the same, or the read fails:
 * a file rewritten or appended to while settle reads it never registers
 * records under a digest they do not come from. */
struct usage_stamp {
	uint64_t dev, ino, size;
	int64_t mtime_ns;
};

/* The stamp of an open file; 0, or -1 with errno set. */
int usage_stamp_of(int fd, struct usage_stamp *st);

/* 1 if the two stamps are of the same file, unchanged. */
int usage_stamp_same(const struct usage_stamp *a, const struct usage_stamp *b);

/* Fills e with the message of a file that changed while read and returns
 * ST_ERROR: "usage file 'F' changed while settle read it (size, mtime or
 * bytes); nothing of it counts: ingest it again once it is complete". */
int usage_changed(struct err *e, const char *path);

/* Opens path as gzsrc_open_regular does (its checks and messages) and
 * takes its stamp. Returns the descriptor (the caller owns it), or -1
 * with e filled. */
int usage_file_open(const char *path, struct usage_stamp *st, struct err *e);

/* usage_file_open of a file that must still be the one stamped st: -1
 * with usage_changed's message when it is not. */
int usage_file_reopen(const char *path, const struct usage_stamp *st,
		      struct err *e);

/* SHA-256 of fd's bytes from offset 0 (read by pread: fd's offset does
 * not move), of the file stamped st at its open: they must be st->size
 * bytes and the stamp the same after the read, or it fails with
 * usage_changed's message. Returns 0, or ST_ERROR with e filled. */
int usage_file_hash(int fd, const char *path, const struct usage_stamp *st,
		    unsigned char sha[32], struct err *e);

/* SHA-256 (sha256.h) and size of the file's raw bytes, and its stamp
 * (taken at open; a file whose stamp differs after the read fails with
 * usage_changed's message). fd NULL: the file is closed; else *fd is the
 * open descriptor, for usage_open_fd (the caller owns it). Returns 0, or
 * ST_ERROR with e filled (as usage_open, a path that is not a regular
 * file is refused). */
int usage_file_digest(const char *path, unsigned char sha[32], uint64_t *size,
		      struct usage_stamp *st, int *fd, struct err *e);

/* A reader over fd (from usage_file_digest or gzsrc_open_regular; the
 * reader owns it and reads it from its start), named path in messages,
 * that hashes every raw byte it reads: usage_raw_digest. */
struct usage_reader *usage_open_fd(int fd, const char *path,
				   const struct usage_opts *o);

/* After usage_read of a usage_open_fd reader: the SHA-256 and count of
 * the raw bytes read. Returns 0, or -1 for another reader. */
int usage_raw_digest(struct usage_reader *r, unsigned char sha[32],
		     uint64_t *size);

#endif
