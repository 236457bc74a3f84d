/* engine: rating, from the state and the config (SPEC sections 3, 5, 6).
 *
 * engine_load reads the ingested records of every current file without
 * ever holding them all: it reads the sorted record keys of all batches
 * as streams, one slice of the key space at a time into a small set, to
 * find identities seen twice (duplicate candidates, usually none), then decodes each batch once, resolving each of its distinct
 * strings once, decides the config-dependent rejects (unknown_tenant,
 * unknown_item, no_account, unit_mismatch, no_price), converts quantities
 * to price units and rates each record at once. Candidates are kept whole
 * and resolved exactly at the end (SPEC 3 duplicates). It keeps only
 * aggregates: per (period, tenant, item, price group) the usage U and its
 * covered, forgiven and uncovered parts; per package and period the units
 * used; the alerts.
 *
 * Package consumption is the only place where record order matters, and
 * only for a record that may meet a package with a limited quota (one of
 * its tenant's, covering its item, valid at some instant between the
 * earliest and the latest such package): such records are kept in a
 * compact form, sorted by (ts, record_id) and walked one by one. Every
 * other record is rated where it stands, in any order, since its result
 * does not depend on the others. engine_opts.force_walk walks every
 * record (tests check both ways agree). Each decoding thread holds at
 * most engine_opts.walk_run such records: beyond, it writes them sorted
 * to an unlinked temporary file as a run, and the walk merges the runs
 * as streams (issue 14: the walk's memory does not grow with the month;
 * a failure to make or write that file is an error of the close).
 *
 * A close may rate from a checkpoint instead of from the start of time
 * (engine_open, then engine_rate with an eng_start, ckpt.h): only the
 * batches that may hold a record at or after its instant are decoded,
 * and every package starts from its state there.
 *
 * Batches are decoded on engine_opts.threads threads; no result depends
 * on that number. The engine reads no environment: the CLI fills
 * engine_opts (from SETTLE_RATE_THREADS and SETTLE_FORCE_WALK).
 *
 * engine_period then builds the invoice lines of one period. */
#ifndef ENGINE_H
#define ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "dec.h"
#include "err.h"
#include "rate.h"
#include "store.h"

struct eng_pusage {
	size_t pkg;            /* index into cat->packages */
	dec_t qty;             /* price units covered */
	dec_t units;           /* package units used */
};

struct eng_line {
	const struct account *acct;
	const struct item *item;
	uint32_t group;        /* index into item->groups */
	uint32_t npu;          /* package usages in pu (beside group: 96
				* bytes a line, not 104) */
	/* SPEC 5: U, C, F, N and B = U - C - F - N, in price units */
	dec_t usage, covered, forgiven, uncovered, billable;
	dec_t amount;          /* rounded line amount */
	dec_t flat;            /* flat fees in it, exact (rate.h) */
	const char *tiers;     /* `tiers` column text (the period's) */
	struct eng_pusage *pu; /* package usage, sorted by package id (the
				* period's); NULL when npu is 0 */
};

/* One (tenant, currency) with at least one line in the period. */
struct eng_invoice {
	const struct account *acct;
	struct eng_line *lines; /* sorted by (item, price group), in the
				 * period's lines (NULL when nlines is 0) */
	size_t nlines;
	dec_t total;            /* sum of the rounded line amounts */
};

struct eng_pkgrow {
	const struct package *pkg;
	dec_t used_before, used_in, remaining, expired;
	int has_expired;        /* valid_to falls in the period */
	int has_alert;
	int64_t alert_ts;
};

struct eng_alert {
	const struct package *pkg;
	int64_t ts;
	dec_t remaining;
};

struct eng_reject {
	const char *path;       /* owned by the engine */
	uint64_t line;
	char *record_id, *tenant;
	const char *reason;
	int placed;             /* its ts cell reads as an instant ... */
	int32_t period;         /* ... of this period (SPEC 8 rejects.csv) */
};

struct eng_block;

/* What one period gives. Its invoices' lines are one array, their tiers
 * texts and package usages a few blocks (issue 14: a malloc per line,
 * text and invoice cost ~40 MB at 600 000 lines); all owned by it and
 * freed by engine_period_release. */
struct eng_period {
	int period;
	struct eng_invoice *inv; /* sorted by (tenant, currency) */
	size_t ninv;
	struct eng_line *lines;  /* every invoice's lines, in invoice order */
	size_t nlines_all;
	struct eng_block *blocks; /* tiers texts and package usages */
	struct eng_pkgrow *pkgs; /* every package valid in the period */
	size_t npkgs;
	struct eng_alert *alerts;
	size_t nalerts;
	uint64_t records;       /* ok + unbillable records of the period */
	uint64_t unbillable;
	uint64_t files;         /* current files holding a record or a
				   reject of the period */
	uint64_t rejected;      /* rejects placed in the period */
	uint64_t duplicates;    /* identical repeats of its records */
};

struct engine;

/* How the engine runs; no output depends on it. */
struct engine_opts {
	size_t threads;  /* decoding threads, 1..ENGINE_MAX_THREADS (0 is
			  * taken as 1, more as ENGINE_MAX_THREADS) */
	int force_walk;  /* 1: every record takes the ordered walk */
	size_t walk_run; /* walk records a decoding thread holds before it
			  * writes them, sorted, to a temporary file
			  * (0: ENGINE_WALK_RUN) */
	const char *tmpdir; /* where that file is made (NULL: "/tmp");
			     * must outlive the engine */
	/* read by resume.c, not by rating: */
	int full_replay; /* 1: a close settles every earlier final period,
			  * never leaving one as it is (the test oracle) */
	int have_config; /* config holds the config's digest */
	unsigned char config[32]; /* ledger_inputs_cfg's config digest */
};

#define ENGINE_MAX_THREADS 8
/* 65536 walk records are ~2 MB, and ~2.4 MB of 36-byte record ids */
#define ENGINE_WALK_RUN 65536

/* Loads and rates everything. Returns NULL with e filled on a state error
 * or an arithmetic overflow. cat must outlive the engine; opts is read
 * during the call only. engine_open then engine_rate(NULL). */
struct engine *engine_load(struct store *s, const struct catalog *cat,
			   const struct engine_opts *opts, struct err *e);
void engine_free(struct engine *g);

/* One package's state at an instant (a checkpoint, ckpt.h): package
 * units used before it (limited or not), and its alert when it fired
 * before it. */
struct eng_pkgstate {
	size_t pkg;            /* index into cat->packages */
	dec_t used;
	int alerted;
	int64_t alert_ts;
	dec_t alert_left;
};

/* Where rating starts (issue 14): records before `from` are not rated
 * (their periods come out empty: only periods from the one holding
 * `from` on are exact), and each package starts from its state st[] at
 * that instant (a package not listed has none: nothing used, no alert).
 * Exact when st is what rating from the start gives at `from` for the
 * same records and config (ckpt.h) and no duplicate candidate lies both
 * in a batch wholly before `from` and in one that is not
 * (engine_dups_split). */
struct eng_start {
	int64_t from;
	struct eng_pkgstate *st; /* owned by the caller */
	size_t n;
};

/* The first half of engine_load: tenants, accounts and packages, the
 * rejects stored at ingest and the duplicate keys, with the batches
 * holding each (engine_rejects then has only the stored rejects, and
 * engine_dup_paths is complete). NULL with e filled on an error. */
struct engine *engine_open(struct store *s, const struct catalog *cat,
			   const struct engine_opts *opts, struct err *e);
/* The second half: decodes every batch that may hold a record at or
 * after start->from (start NULL: every batch, from the start of time)
 * and rates. Returns 0, or ST_ERROR with e filled (free g then). */
int engine_rate(struct engine *g, struct store *s,
		const struct eng_start *start, struct err *e);
/* 1 when some duplicate candidate key is held both by a batch wholly
 * before instant from (its record instants known, all earlier) and by
 * one that is not: rating from `from` would miss a copy. */
int engine_dups_split(const struct engine *g, int64_t from);
/* The instant rating started from (INT64_MIN: the start of time), and
 * how many batches it decoded of how many. */
int64_t engine_from(const struct engine *g, size_t *decoded, size_t *all);
/* The state of package pi at the end of period p (p at or after the
 * period rating started in), into *out. 0, or ST_ERROR with e filled
 * on an overflow. */
int engine_pkg_state(struct engine *g, size_t pi, int p,
		     struct eng_pkgstate *out, struct err *e);
/* Each decoded batch that had no range of record instants in the state
 * (stored before version 4) as fn(ctx, batch id, min, max), for the
 * close to keep (ckpt_record). Returns fn's first non-zero value, or 0. */
int engine_new_ranges(const struct engine *g,
		      int (*fn)(void *ctx, int64_t id, int64_t min_ts,
				int64_t max_ts),
		      void *ctx);

/* A plan made before rating, for the ledger (resume.h): how many final
 * periods before the one closed are left as they are. */
void engine_set_skip(struct engine *g, size_t skip);
int engine_skip(const struct engine *g, size_t *skip);

/* Builds period p. Returns 0, or ST_ERROR (overflow) with e filled and
 * out released (engine_period_release), holding nothing. */
int engine_period(struct engine *g, int p, struct eng_period *out,
		  struct err *e);
void engine_period_release(struct eng_period *rp);

/* Frees the line and package-usage aggregates (the largest part of the
 * engine after rating: ~75 MB at 500 000 accounts) once the caller has
 * built the last period it needs: engine_period may not be called again.
 * Package states (engine_pkg_state), rejects, counts and duplicate paths
 * stay. */
void engine_trim(struct engine *g);

/* Every rejected record of every current file, in no set order (the
 * outputs sort their rows); a reject with placed 0 belongs to no period
 * (report_put_unplaced writes those from the state). */
const struct eng_reject *engine_rejects(const struct engine *g, size_t *n);

/* Counts over all current files (eng_period has those of one period). */
struct eng_counts {
	uint64_t files_ok, files_failed;
	uint64_t records;      /* valid records after duplicates */
	uint64_t duplicates;   /* identical repeats counted once */
	uint64_t rejected;
};
void engine_counts(const struct engine *g, struct eng_counts *c);

/* The options the engine was loaded with, and its catalog. */
const struct engine_opts *engine_opts_of(const struct engine *g);
const struct catalog *engine_catalog(const struct engine *g);

/* The distinct files (paths, strings the engine owns) holding a record
 * whose (tenant, record_id) occurs more than once among current files
 * (a duplicate candidate, identical or conflicting), in no set order.
 * The array is malloc'd (free it); *n its length. */
const char **engine_dup_paths(const struct engine *g, size_t *n);

#endif
