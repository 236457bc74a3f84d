/* outdig: each output folder a close checks, hashed once (issue 14: a
 * close that changes something hashed every earlier final period's files
 * twice, for the close guard and for resume_skip).
 *
 * A struct outdig lives for one close (cmd_close) and keeps, per period
 * q, what report_digest_dir said of OUT/YYYY-MM: its result and digest,
 * taken on the first ask and never again. resume_unchanged, guard_close
 * and resume_plan ask in that order, and each compares the digest with
 * the one the state keeps for q (final.h): the folder is what the close
 * that last changed q rendered.
 *
 * Exact because nothing between the first ask and the last writes a file
 * of a final period's folder: the close writes its outputs after
 * resume_skip, and report_sweep (outswap_sweep) moves back into a folder
 * only entries that are not set files, and makes the folder again only
 * when it is missing (then it has none of them, before and after). A
 * file changed by someone else meanwhile is as if changed before the
 * close, as it was with two reads.
 *
 * Stamps (stamp.h, schema 5): with a state, a folder whose ten files all
 * still have the stat stamps the state keeps for q (trusted: not racy)
 * is taken to hold the digest those stamps vouch for, and is not read.
 * Any difference (a file missing, its size, inode, mtime or ctime) and it
 * is hashed as before; the close then records the stamps taken before
 * that hash (outdig_save) when the files still have them, so that a
 * `touch` costs one read, not one a close. A close puts the stamps of
 * the folders it wrote (outdig_put_written). verify (close --verify)
 * hashes every folder whatever its stamps. */
#ifndef OUTDIG_H
#define OUTDIG_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

struct outdig;

/* A cache for the folders of outdir (copied). s: the state whose stamps
 * it trusts and records (NULL: none, every folder hashed). verify: hash
 * every folder, but still record. outdig_free(NULL) does nothing. */
struct outdig *outdig_new(const char *outdir, struct store *s, int verify);
void outdig_free(struct outdig *c);

/* After a close that is no dry run, outside a transaction: records the
 * stamps of each folder hashed (not taken by its stamps) whose files
 * still have the stamps taken before the hash, with the digest the hash
 * gave. A cache: a failure (e filled, ST_ERROR) loses nothing but time. */
int outdig_save(struct outdig *c, struct err *e);

/* With SETTLE_TIMING=1: "output folders: N hashed, M by their stamps". */
void outdig_note(const struct outdig *c);

/* After a close put the files of final periods q[0..n) in place in
 * outdir (each folder holds exactly what digest[i] says, written or
 * checked after at), outside a transaction: records their stamps,
 * vouching from at. A failure loses nothing but time. */
int outdig_put_written(struct store *s, const char *outdir, const int *q,
		       const unsigned char (*digest)[32], size_t n,
		       int64_t at, struct err *e);

/* report_digest_dir of OUT/YYYY-MM of period q (ts_period_format's name)
 * into sha: 0, or -1 (the folder cannot be read whole: treat it as
 * changed). c: the close's cache, made for outdir, asked once per q;
 * NULL: read now. */
int outdig_folder(struct outdig *c, const char *outdir, int q,
		  unsigned char sha[32]);

#endif
