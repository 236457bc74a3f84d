/* guard: the refusals of a close (SPEC section 4, v2).
 *
 * A close (and the close of `run`, and `close --dry-run`) refuses, exit 1,
 * with nothing changed, unless the flag that allows it:
 *   - a registered usage file is failed or unfinished (--allow-failed);
 *   - an account that has a final invoice is missing from accounts.csv
 *     (no flag: a customer who left keeps its row);
 *   - the period has not ended: its as_of is later than now (--early);
 *   - no usage file holds a record of the period or of an earlier one, a
 *     typo such as 2025-11 for 2026-11 (--early too: closing an empty
 *     period on purpose is closing it before its usage);
 *   - OUT/Q/, for the period or an earlier final one, holds a file named
 *     in SPEC 8 whose bytes are no version this state wrote there
 *     (--force);
 *   - a period Q between the first final period and this one is not
 *     final but would have invoice lines (--allow-open-earlier).
 * Each check fills e with the exact message (ST_ERROR) and returns
 * ST_ERROR; 0 when it passes. Nothing here prints or writes. */
#ifndef GUARD_H
#define GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "engine.h"
#include "err.h"
#include "outdig.h"
#include "store.h"

struct guard_opts {
	int allow_failed, early, allow_open_earlier, force;
	int64_t now;           /* the current instant (ts.h) */
	const char *outdir;
	/* the close was shown to change nothing (ledger_unchanged or
	 * resume_unchanged): p is final, and every final period up to p was
	 * last closed with this config and its folder holds exactly what
	 * that close rendered, which the same close recorded as written.
	 * guard_close then skips what that proves: the files of OUT/Q/
	 * (each is a version this state wrote) and, when no final period
	 * is later than p, the accounts (every final invoice is of an
	 * account of the config a close last passed this check with, and
	 * that close's config is this one) */
	int unchanged;
	/* the close's folder digests (outdig.h), shared with resume; NULL:
	 * each folder is hashed here for itself */
	struct outdig *seen;
	/* SETTLE_FULL_REPLAY=1: the accounts from every final invoice, not
	 * the carry of the latest final period (carry.h) */
	int full_replay;
};

/* A registered usage file that is not complete. */
struct guard_file {
	char *path;            /* owned */
	int unfinished;        /* 1: an interrupted ingest; 0: failed */
	char *why;             /* failed: the reason (owned) */
	uint64_t records;      /* unfinished: records at its checkpoint */
};

/* Every failed or unfinished file, by path, into *out (malloc'd; free
 * with guard_files_release, also on error) and *n. */
int guard_incomplete(struct store *s, struct guard_file **out, size_t *n,
		     struct err *e);
void guard_files_release(struct guard_file *f, size_t n);

/* The refusal for n incomplete files (n > 0) when !o->allow_failed:
 * `cannot close P: N usage files are not complete (forget them, ingest
 * good copies, or use --allow-failed)`; the caller names each file. */
int guard_files(int p, size_t n, const struct guard_opts *o,
		struct err *e);

/* Sets *yes when o->unchanged proves the account check passes (below):
 * then guard_close needs no account of cat, only its settings. */
int guard_accounts_proved(struct store *s, int p, const struct guard_opts *o,
			  int *yes, struct err *e);

/* The checks that need no rating: accounts, the period's end, an empty
 * period, files this state did not write. */
int guard_close(struct store *s, const struct catalog *cat, int p,
		const struct guard_opts *o, struct err *e);

/* Sets *yes when a period between the first final period and p is not
 * final (only then can there be a gap, and guard_gap needs a rating). */
int guard_gap_possible(struct store *s, int p, const struct guard_opts *o,
		       int *yes, struct err *e);

/* The gap check, with g loaded from s. */
int guard_gap(struct store *s, struct engine *g, int p,
	      const struct guard_opts *o, struct err *e);

#endif
