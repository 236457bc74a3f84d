/* usage: the streaming usage-file reader (SPEC section 3, "Usage files").
 *
 * Reads one usage file, gzip (told by the magic bytes 1f 8b, multi-member
 * read whole) or plain CSV, parses it with libcsv (RFC 4180, strict
 * quoting), finds the columns by name in the header, validates each record
 * with the checks that need no config, and hands every record or reject to a
 * sink, in file order. The checks that need the config (unknown_tenant,
 * unknown_item, no_account, unit_mismatch, no_price) and duplicates are
 * decided later, when rating, so they are not done here.
 *
 * Per-record work does no allocation and, for lines without a '"', no
 * copy: the spans handed to the sink point into buffers owned by the
 * reader (its text, or the cells libcsv unquoted) and stay valid only
 * during the callback.
 *
 * Gzip is inflated on a thread of the reader's own, a few MiB of text
 * ahead of the parse; the sink is called only on the thread that called
 * usage_read, and deliveries, progress counts and failures are what one
 * thread reading in turn would give (the inflating thread has ended when
 * usage_read returns).
 *
 * A file that cannot be read whole (not found, I/O error, bad or truncated
 * gzip, empty file, no header, missing required column, duplicate column,
 * malformed quoting, a header over USAGE_MAX_COLUMNS columns, a gzip past
 * the limits below) fails: the reader returns ST_ERROR with a message
 * naming the file (and the line where it applies). The sink has then seen some records, and the caller
 * must discard them: a failed file counts none. */
#ifndef USAGE_H
#define USAGE_H

#include <stddef.h>
#include <stdint.h>

#include "dec.h"
#include "err.h"
#include "mem.h"

#define USAGE_MAX_FIELD 4096      /* a longer field: reject bad_field */
#define USAGE_MAX_RECORD 65536    /* a longer record: reject bad_field */
#define USAGE_MAX_COLUMNS 256     /* a wider header fails the file */

/* Gzip limits. A gzip file whose text grows past either limit fails
 * (nothing of it counts), so that a small hostile file cannot make a run
 * inflate without end:
 * - ratio: once more than USAGE_GZIP_RATIO_FLOOR bytes of text have been
 *   inflated, the text so far may be at most RATIO times the compressed
 *   bytes consumed so far; the message is
 *     gzip in 'FILE' inflates past 1000 times its size (limit SETTLE_GZIP_MAX_RATIO)
 * - size: the text of the whole file (all members) may be at most BYTES;
 *     gzip in 'FILE' inflates past 68719476736 bytes (limit SETTLE_GZIP_MAX_BYTES)
 * The environment variables SETTLE_GZIP_MAX_RATIO and SETTLE_GZIP_MAX_BYTES
 * set them, as whole decimal numbers; 0 means no limit; unset or empty
 * means the default. Any other value makes usage_open fail:
 *     bad SETTLE_GZIP_MAX_RATIO 'x' (a whole number; 0 for no limit)
 * Deflate cannot exceed about 1032:1, so only runs of one repeated byte
 * (a bomb) reach the default ratio; real logs inflate 5 to 50 times.
 * Plain files are not limited: they are as large as they look. */
#define USAGE_GZIP_MAX_RATIO 1000
#define USAGE_GZIP_MAX_BYTES ((uint64_t)64 << 30)      /* 64 GiB */
#define USAGE_GZIP_RATIO_FLOOR ((uint64_t)1 << 20)     /* 1 MiB */
#define USAGE_ENV_MAX_RATIO "SETTLE_GZIP_MAX_RATIO"
#define USAGE_ENV_MAX_BYTES "SETTLE_GZIP_MAX_BYTES"

/* Reject reasons, in SPEC order of precedence; the names are the codes of
 * rejects.csv. */
enum reject_reason {
	REJ_FIELD_COUNT,
	REJ_BAD_FIELD,
	REJ_BAD_TS,
	REJ_BAD_QUANTITY,
	REJ_UNKNOWN_TENANT,
	REJ_UNKNOWN_ITEM,
	REJ_NO_ACCOUNT,
	REJ_UNIT_MISMATCH,
	REJ_NO_PRICE,
	REJ_DUPLICATE_CONFLICT,
	REJ_COUNT
};

/* "field_count", "bad_field", ... */
const char *usage_reject_name(enum reject_reason r);

/* One valid record. All spans point into the reader's buffers. */
struct usage_rec {
	uint64_t line;         /* record number: first record after header = 1 */
	struct span record_id; /* [ -~]{1,128} */
	struct span tenant;    /* [A-Za-z0-9_.:-]{1,64} */
	struct span item;      /* [A-Za-z0-9_.-]{1,64} */
	int64_t ts;            /* instant, ns since the epoch (ts.h) */
	dec_t qty;             /* quantity in the item's usage unit */
	struct span status;    /* as written; "" when empty or no column (= ok) */
	struct span dims;      /* canonical: pairs sorted by key, joined "k=v;k=v";
	                          "" when none */
	struct span unit;      /* as written; "" when empty or no column */
};

/* One rejected record. record_id and tenant are the raw cells of those
 * columns (empty when the row is too short to have them). */
struct usage_reject {
	uint64_t line;
	struct span record_id;
	struct span tenant;
	enum reject_reason reason;
	const char *why; /* short detail for messages, e.g. "column ts" */
};

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

/* Opens path for reading. Returns NULL and fills e when it cannot be
 * opened (missing, a directory, unreadable, or not a regular file: a FIFO
 * or a device such as /dev/zero is refused at once, never waited on or
 * read without end), or when the gzip limits in the environment are bad. */
struct usage_reader *usage_open(const char *path, struct err *e);

/* Checks SETTLE_GZIP_MAX_RATIO and SETTLE_GZIP_MAX_BYTES as usage_open
 * would. Returns 0, or ST_ERROR with e filled (the message names the
 * variable and its value). A front end may call it before any work, so
 * that a bad value stops the command before files are read. */
int usage_check_env(struct err *e);

/* Test and fuzz only: a reader over data[0..n) in memory (not copied: it
 * must outlive the reader), named `name` in messages. The gzip limits come
 * from the environment as for usage_open. NULL with e filled when the
 * environment holds a bad limit. */
struct usage_reader *usage_open_mem(const void *data, size_t n,
				    const char *name, struct err *e);

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

/* Closes the reader; NULL does nothing. */
void usage_free(struct usage_reader *r);

/* SHA-256 (sha256.h) and size of the file's raw bytes.
 * Returns 0, or ST_ERROR with e filled (as usage_open, a path that is not
 * a regular file is refused). */
int usage_file_digest(const char *path, unsigned char sha[32], uint64_t *size,
		      struct err *e);

#endif
