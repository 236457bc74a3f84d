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
 * close, as it was with two reads. */
#ifndef OUTDIG_H
#define OUTDIG_H

struct outdig;

/* A cache for the folders of outdir (copied). outdig_free(NULL) does
 * nothing. */
struct outdig *outdig_new(const char *outdir);
void outdig_free(struct outdig *c);

/* report_digest_dir of OUT/YYYY-MM of period q (ts_period_format's name)
 * into sha: 0, or -1 (the folder cannot be read whole: treat it as
 * changed). c: the close's cache, made for outdir, asked once per q;
 * NULL: read now. */
int outdig_folder(struct outdig *c, const char *outdir, int q,
		  unsigned char sha[32]);

#endif
