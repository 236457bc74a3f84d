/* stamp: what a file's stat says of it, so that a close need not read an
 * earlier final period's folder again when nothing touched it (issue 14;
 * the way git's index, make and rsync tell a file unchanged).
 *
 * A stamp is a file's identity: st_dev, st_ino, st_size, st_mtim and
 * st_ctim (ns). The state keeps, per final period, a stamp of each file
 * of its folder OUT/YYYY-MM/, the instant `at` they vouch from and the
 * folder digest (report_digest) they vouch for: "when these files still
 * have these stamps, the folder's digest is this". A row is written only
 * when that was true: right after a close put the files in place (at:
 * before the close read or wrote any of them), or after a close hashed
 * the folder and found its files still as stat'ed (at: before the hash).
 *
 * Racy stamps (git's "racily clean"): a file changed within a timestamp
 * tick of `at` may keep its stamp through a second change (same size,
 * same mtime and ctime, the tick not having moved). So a stamp is trusted
 * only when its mtime and ctime are both older than at - STAMP_SLACK_NS
 * (2 s: the coarsest timestamps of a common filesystem, FAT's; ext4,
 * XFS, btrfs and tmpfs keep ns, the kernel's clock ticks in ms). A racy
 * stamp costs a hash, never a wrong answer; the next close that hashes
 * the folder records a stamp that is no longer racy.
 *
 * Owns the table out_stamp of the state (created by the upgrade to
 * schema 5, schema.c). */
#ifndef STAMP_H
#define STAMP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "err.h"
#include "store.h"

#define STAMP_SLACK_NS (2 * (int64_t)1000000000)

struct stamp {
	int64_t dev, ino, size, mtime, ctime;   /* times in ns */
};

void stamp_of(const struct stat *sb, struct stamp *st);

/* The stamp of path (stat, following links as the open of a read does):
 * 0, or -1 when it is missing or no regular file. */
int stamp_path(const char *path, struct stamp *st);

/* 1 when now is rec and rec may be trusted: rec's mtime and ctime both
 * earlier than at - STAMP_SLACK_NS; else 0. */
int stamp_trusted(const struct stamp *rec, int64_t at,
		  const struct stamp *now);

/* CLOCK_REALTIME in ns (the clock file times come from). */
int64_t stamp_clock(void);

/* A folder's stamps: files names[i] with stamps st[i], vouching from at
 * for digest. */
#define STAMP_MAX_FILES 12
struct stamp_folder {
	int period;
	int64_t at;
	unsigned char digest[32];
	size_t n;
	char names[STAMP_MAX_FILES][32];
	struct stamp st[STAMP_MAX_FILES];
};

/* Period q's stamps into *f (*have 0 when the state has none, or an
 * older state has no table). 0, or ST_ERROR with e filled. */
int stamp_load(struct store *s, int q, struct stamp_folder *f, int *have,
	       struct err *e);

/* Replaces the stamps of each of f[0..n) in one transaction of its own
 * (no transaction may be open). 0, or ST_ERROR with e filled (nothing
 * written). */
int stamp_save(struct store *s, const struct stamp_folder *f, size_t n,
	       struct err *e);

#endif
