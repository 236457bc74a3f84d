/* resume: which earlier final periods a close may leave as they are
 * (issue 14: a close costs what its month holds).
 *
 * Closing P re-settles every earlier final period whose outputs changed
 * (SPEC 7). A period Q's outputs depend only on its own records, the
 * config and the ledger of the periods before it, so Q cannot change
 * when, since the close that last settled or kept it:
 *  - the config (and settle's version) is the same;
 *  - no file change logged since (file_log, status's staleness) touched
 *    a record before Q's as_of;
 *  - no file changed since holds, now or at that close, a reject placed
 *    in Q or earlier, or a record whose identity occurs twice (a
 *    duplicate candidate, which may win or lose against a record of Q:
 *    neither is seen by the file log's earliest instant);
 *  - its files on disk are what the state says (else the close repairs
 *    them, which needs its rendering);
 * and the same holds for every final period before Q. resume_skip finds
 * that prefix; the ledger settles only the periods after it, and marks
 * the skipped ones as seen like the rest. resume_record keeps, in the
 * state, what the next close needs to decide: the config digest each
 * period was last closed with, per file log sequence the files with
 * a placed reject or a duplicate candidate, and (ckpt_record) what each
 * period rated whole left of every package (tables resume_period,
 * resume_snap, resume_file, made on first use; an older settle ignores
 * them). A state without them (older closes) skips nothing.
 *
 * engine_opts.full_replay (SETTLE_FULL_REPLAY=1) skips nothing: the
 * oracle the e2e suite compares against. Results never depend on it.
 *
 * Both return 0, or ST_ERROR with e filled on a state error. */
#ifndef RESUME_H
#define RESUME_H

#include <stddef.h>

#include "catalog.h"
#include "engine.h"
#include "err.h"
#include "final.h"
#include "outdig.h"
#include "store.h"

/* periods[0..n): the final periods before the one being closed, in
 * order. Sets *skip to how many of the first ones need no settling (what
 * resume_plan decided, when it ran on g).
 * outdir holds the outputs (their files must be what the state says);
 * seen: the close's folder digests (outdig.h: each folder hashed once a
 * close, shared with the guard), or NULL (hashed here). The same in
 * resume_plan and resume_unchanged. */
int resume_skip(struct store *s, const struct engine *g, const int *periods,
		size_t n, const char *outdir, struct outdig *seen, size_t *skip,
		struct err *e);

/* Before a close of p rates (g opened, not rated: engine_open): decides
 * how many final periods before p it leaves as they are (by the rule
 * above, from the stored rejects and the batches holding duplicate keys;
 * resume_skip then gives that number), and where rating may start:
 * *start is the checkpoint (ckpt.h) at the end of the latest such period
 * that has one, or from the start of time (from INT64_MIN, no states)
 * when none has, when a duplicate candidate has a copy in a batch before
 * it and one after (engine_dups_split), when gap (a non-final period
 * before p may need rating), or under full_replay. Release *start with
 * ckpt_start_release after engine_rate. With SETTLE_TIMING=1 a start
 * from a checkpoint is noted on stderr ("rating from YYYY-MM"). */
int resume_plan(struct store *s, struct engine *g, int p, const char *outdir,
		struct outdig *seen, int gap, struct eng_start *start,
		struct err *e);

/* Sets *yes when closing p can change nothing, without rating: p is
 * final, and it and every final period before it pass the rule above,
 * with what a close recorded of the current files (the snapshot at the
 * current file log sequence: same sequence, same files; without one
 * *yes is 0). Then the close is a no-op as ledger_unchanged's. Reads
 * only. full_replay: *yes 0. */
int resume_unchanged(struct store *s, int p, const unsigned char config[32],
		     int full_replay, const char *outdir, struct outdig *seen,
		     int *yes, struct err *e);

/* Sets *yes when a close recorded this config digest (as resume_record
 * does, the engine's config) for some period: a config with these bytes
 * loaded under this settle. Reads only. */
int resume_config_known(struct store *s, const unsigned char config[32],
			int *yes, struct err *e);

/* Marks periods[0..n), left as they are by resume_skip, as seen by this
 * close (final_period_mark: status's staleness), as the ledger marks the
 * periods it settles, inside the close's transaction. */
int resume_mark(struct store *s, const struct catalog *cat, struct final *fin,
		const int *periods, size_t n, struct err *e);

/* Inside the close's transaction, after every period in periods[0..n)
 * was marked with the current file log sequence, when the close changed
 * something (one that changes nothing leaves the state byte for byte as
 * it was, so a period closed since with another config that changed
 * nothing is settled again next time: slower, never wrong): records the config
 * digest of each, and the snapshot of the current files for that
 * sequence; drops snapshots no period refers to. Does nothing when the
 * engine has no config digest. */
int resume_record(struct store *s, const struct engine *g, const int *periods,
		  size_t n, struct err *e);

#endif
