/* engine_int: the structures and helpers shared by the engine's files.
 * INTERNAL to src/engine.c, part.c, book.c, pool.c, dup.c, walk.c and
 * lines.c: nothing else includes it; the engine's API is include/engine.h.
 *
 * The pieces, each calling only those below it:
 *  engine.c  loading (engine_open: tenants, accounts and packages, the
 *            stored rejects, dup.c's pass 1; engine_rate: a checkpoint's
 *            package states, pool.c, dup.c's resolution and walk.c, in
 *            that order; engine_load both);
 *  pool.c    decoding batches on several threads, one part each, and
 *            merging the parts (pool_*);
 *  dup.c     SPEC 3 duplicates: keys seen twice and the batches holding
 *            them (pass 1), resolving the candidates exactly (dup_*);
 *  part.c    one thread's share: decoding a batch (eng_rate_batch),
 *            admission of one record (eng_admit, eng_accept), duplicate
 *            candidates set aside, the per-thread aggregates of a part
 *            (eng_part_*, eng_period_count, the rejects), each admitted
 *            record handed to book.c now or to walk.c for later;
 *  walk.c    the ordered walk of records that may meet a limited
 *            package (walk_*);
 *  book.c    booking one rated record into a part's aggregates: the line
 *            slots, the ring of records waiting, the package usage
 *            (eng_consume: the SPEC 6 rules themselves are pkg.c's, a
 *            public module, include/pkg.h), their puts and overflow
 *            messages, the month of an instant (eng_period_of);
 *  lines.c   the invoice lines and package rows of one period
 *            (engine_period), from the merged part.
 * Functions return 0 or -1 with the part's (or the engine's) err filled,
 * unless said otherwise. Ownership: the engine owns its parts; a part
 * owns everything it points to but `g` and strings in g->paths. */
#ifndef ENGINE_INT_H
#define ENGINE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "agg.h"
#include "engine.h"
#include "pkg.h"
#include "record.h"

struct pool;

/* A record admitted for rating, in the form consumption needs. */
struct wrec {
	int64_t ts;
	dec_t q;            /* in price units (rounded per item) */
	uint32_t tenant;    /* id in g->tenant_ids */
	uint32_t acct;      /* index into cat->accounts */
	uint32_t item;      /* index into cat->items */
	uint32_t group;
	int32_t period;
};

/* A record kept for the walk: 32 bytes, as there may be millions. Its
 * period is the month of ts again; its record_id is in the part's rids
 * at rid_off, after one byte of length (at most 128). */
struct wpack {
	int64_t ts;
	dec_t q;
	uint32_t rid_off;
	uint32_t tenant;
	uint32_t acct;
	uint16_t item;
	uint16_t group;
};

/* A duplicate candidate, copied whole until all candidates are known. */
struct crec {
	const char *path;   /* in g->paths */
	uint64_t line;
	char *s[6];         /* record_id, tenant, item, status, unit, dims */
	size_t n[6];
	int64_t ts;
	dec_t qty;
	int dead;
};

enum { C_RID, C_TENANT, C_ITEM, C_STATUS, C_UNIT, C_DIMS };

/* What the config says of one record. */
struct adm {
	long tenant;
	const struct item *it;
	const struct account *acct;
	size_t win;         /* the tenant's tenant_info.win */
	int32_t group;
	int32_t period;     /* of the record's ts */
	int ok;             /* status ok (or empty) */
};

/* What admission read of one tenant, kept per tenant string of a batch
 * (struct bcache): g->ti[] and cat->accounts[] are a cache miss each per
 * record otherwise (issue 17). */
struct tref {
	uint32_t cur;       /* the currency acct is the account in (its 4
			     * bytes); 0: nothing kept yet */
	const struct account *acct; /* NULL: the tenant has none in it */
	size_t win;
};

struct line_key {
	int32_t period;
	uint32_t acct, item, group;
};

struct line_agg {
	dec_t usage, covered, forgiven, uncovered;
	size_t pu1;         /* the last package usage of the line + 1 */
};

struct pu_key {
	uint32_t line, pkg;
};

struct pkgper_key {
	uint32_t pkg;
	int32_t period;
};

struct period_count {
	uint64_t records, unbillable, duplicates;
};

/* A (period, file) pair: the file holds a record or a reject of the
 * period. path is the file's string in g->paths (one pointer per path);
 * the padding is zeroed, as keys hash as bytes. */
struct pfile_key {
	const char *path;
	int32_t period;
	int32_t pad;
};

/* Per tenant: its packages in consumption order, and its accounts. */
struct tenant_info {
	size_t *pkgs;
	size_t npkgs;
	size_t acct0, nacct; /* its accounts: cat->accounts[acct0..+nacct) */
	size_t win;          /* its row of walk windows + 1; 0: none, as it
			      * has no limited package (most tenants) */
};

/* The instants [from, to) in which a record of one (tenant, item) may
 * meet a limited package of the tenant: only such records need the
 * ordered walk. Empty (from >= to) for most. */
struct window {
	int64_t from, to;
};

/* Resolutions of one batch's string table, made on first use. */
struct bcache {
	const struct span *strs;
	size_t n, cap;
	long *tenant;       /* -2 unknown yet, -1 none, else tenant index */
	long *item;         /* -2, -1, else item index */
	long *dims;         /* -1 unknown yet, else id in w->strs */
	signed char *ok;    /* -1 unknown yet, 0, 1 */
	struct tref *tref;  /* by tenant string */
};

/* The open line of one (account, item, price group): records come in
 * runs of one month, so each adds its usage here, in one small slot,
 * and the sum moves to the line (found by a hash look-up) only when the
 * month changes, another (account, item, group) takes the slot, or
 * rating ends (ls_flush). 24 bytes: the slot is the one cache line a
 * record without packages touches. Up to ENG_LS_DENSE (account, item,
 * group) triples each has its own slot; beyond, slots are shared by hash
 * (a 500 000-account config needed 225 MB of slots per thread): sums
 * are exact, so when a line's usage moves to it changes no result. */
struct lslot {
	int32_t period;
	uint32_t li;        /* line index + 1, 0 for none yet */
	dec_t u;            /* usage not yet added to the line */
	uint64_t id;        /* acct * ngroups + gofs[item] + group */
};

#define ENG_LS_DENSE ((size_t)1 << 18)

/* Records rated where they stand wait in a ring of this many before they
 * are booked, their line slot and account prefetched meanwhile: the
 * slot is a cache miss per record in a table of megabytes (issue 17).
 * Their order never matters (engine.h). */
#define ENG_PEND 8

/* The range of record instants of a decoded batch that had none in the
 * state (stored before version 4), for ckpt_record to keep. */
struct eng_range {
	int64_t id, min_ts, max_ts;
};

/* The last (period, index) of one package in pkgpers. */
struct ppcache {
	int32_t period;
	size_t i;           /* index + 1, 0 for none yet */
};

/* What one decoding thread gathers from its batches. Parts only read the
 * engine; at the end they are merged into the first one, and the rest of
 * rating (candidates, the walk, the periods) works on that one. */
struct part {
	struct engine *g;
	struct err *e;             /* &err: a part's own error */
	struct err err;
	struct bcache bc;
	struct strtab *strs;       /* dims texts */
	int32_t *group_of;         /* [dims id * nitems + item]: group + 2 */
	size_t group_cap;
	struct crec *cands;
	size_t ncands, cands_cap;
	char *rids;                /* record ids of walk records */
	size_t rids_n, rids_cap;
	struct wpack *walk;        /* at most g->opts.walk_run; when full,
				    * sorted and written out as a run */
	size_t nwalk, walk_cap;
	size_t nsorted;            /* walk[0..nsorted) is sorted */
	int run_fd;                /* the runs' temporary file, or -1 */
	uint64_t run_end;          /* bytes written to it */
	uint64_t *runs;            /* run i: [runs[i], runs[i + 1] or
				    * run_end) of the file */
	size_t nruns, runs_cap;
	struct eng_reject *rej;
	size_t nrej, rej_cap;
	uint64_t live;
	struct agg *lines;         /* line_key -> line_agg */
	struct line_agg *la;
	size_t la_cap;
	struct agg *pus;           /* pu_key -> pu */
	struct eng_pusage *pu;
	size_t pu_cap;
	struct agg *pkgpers;       /* pkgper_key -> index into pkgper */
	dec_t *pkgper;             /* package units used, per (package, period) */
	size_t pkgper_cap;
	struct agg *pfiles;        /* pfile_key set */
	const char *pf_path;       /* the last pair put, to skip repeats */
	int32_t pf_period;
	struct agg *pcounts;       /* period -> period_count */
	struct period_count *pc;
	size_t pc_cap;
	struct lslot *ls;          /* [id], or [hash of id] when there are
				    * more ids than ENG_LS_DENSE */
	size_t nls;                /* slots */
	int ls_bits;               /* 0: dense; else hash to this many bits */
	struct wrec pend[ENG_PEND]; /* records waiting to be booked: */
	size_t pend_at, npend;     /* pend[pend_at..+npend), mod ENG_PEND */
	struct ppcache *ppc;       /* [pkg] */
	struct pkg_use *uses;      /* [g->max_tpkgs]: one record's */
	const char *cur_path;
	int64_t bmin, bmax;        /* record instants of the batch decoded */
	struct eng_range *ranges;  /* of decoded batches without one */
	size_t nranges, ranges_cap;
	int failed;                /* an error inside a callback */
	int32_t last_p;            /* the last period counted */
	size_t last_pi;
	int have_p;
	/* the month of the last record: [span_from, span_to) is span_p */
	int64_t span_from, span_to;
	int span_p, have_span;
};

/* A batch holding records, as the duplicate pass lists it. */
struct eng_batch {
	const char *path;          /* in g->paths */
	int64_t max_ts;            /* INT64_MAX when unknown */
};

/* A duplicate candidate key and a batch holding it (g->batches). */
struct cand_at {
	uint64_t key;
	size_t batch;
};

struct engine {
	const struct catalog *cat;
	struct err *e;
	struct strtab *tenant_ids; /* tenant ids of accounts, sorted */
	size_t ntenants;
	struct tenant_info *ti;
	struct window *walkwin;    /* [(ti->win - 1) * nitems + item]: rows
				    * only for tenants with a limited
				    * package, ~1 KB less per tenant */
	size_t nwinrows;
	size_t *gofs;              /* [item]: its first group in a line
				    * slot row */
	size_t ngroups;            /* price groups of all items */
	struct strtab *paths;      /* file paths */
	struct agg *candkeys;      /* keys seen more than once */
	struct pkg_book book;      /* packages: what they cover, their state
				    * (limited ones: the walk only) */
	size_t max_tpkgs;          /* the most packages of one tenant */
	struct part *r;            /* the merged result: parts[0] */
	struct part *parts[ENGINE_MAX_THREADS]; /* every part: their walk
						 * records stay */
	size_t nparts;
	struct engine_opts opts;   /* threads in 1..ENGINE_MAX_THREADS */
	struct pool *pool;         /* while decoding on several threads */
	uint64_t duplicates, files_ok, files_failed;
	/* lines.c: r->pkgpers grouped by package, made on first use:
	 * pp_idx[pp_first[pkg] .. pp_first[pkg + 1]) are its indexes */
	size_t *pp_first, *pp_idx;
	/* dup.c: every batch with records, and where each candidate key
	 * is (sorted by key) */
	struct eng_batch *batches;
	size_t nbatches, ndecoded;
	struct cand_at *cand_at;
	size_t ncand_at;
	/* rating from a checkpoint (engine.h eng_start): records before
	 * `from` are not rated; ck_used[pkg] is what each package used
	 * before it (NULL: nothing) */
	int64_t from;
	dec_t *ck_used;
	int have_skip;
	size_t skip;
	int trimmed;               /* engine_trim: no line aggregates left */
};

/* Fills the err of g (an engine or a part) with ST_ERROR; returns it. */
#define eng_fail(g, ...) err_set((g)->e, ST_ERROR, __VA_ARGS__)

/* The tenant index of t, or -1. */
static inline long eng_find_tenant(const struct engine *g, struct span t)
{
	return strtab_get(g->tenant_ids, t.p, t.n);
}

/* memcmp order of two byte strings, a shorter prefix first. */
static inline int eng_cmp_bytes(const char *a, size_t na, const char *b,
				size_t nb)
{
	int c = memcmp(a, b, na < nb ? na : nb);

	if (c)
		return c;
	return na < nb ? -1 : na > nb;
}

/* *acc += v, or -1 with w's err filled on overflow. */
static inline int eng_add(struct part *w, dec_t *acc, dec_t v)
{
	if (dec_add(*acc, v, acc))
		return eng_fail(w, "%s overflows", "a usage sum");
	return 0;
}

/* ---- part.c ---- */

void eng_part_init(struct part *w, struct engine *g);
void eng_part_free(struct part *w);
/* Passes a part's error on to the engine's caller (the first one wins). */
void eng_part_error(struct engine *g, const struct part *w);
/* Adds a reject; rid and tenant are copied, path and reason are kept;
 * ts is the instant of its ts cell (NULL: none; it belongs to no
 * period), and a placed reject marks its file as one of its period's. */
void eng_add_reject(struct part *w, const char *path, uint64_t line,
		    struct span rid, struct span tenant, const char *reason,
		    const int64_t *ts);
/* Notes that the file at path (a string of g->paths) holds a record or
 * reject of period p. */
void eng_note_file(struct part *w, const char *path, int32_t p);
/* An empty status reads "ok". */
int eng_status_ok(struct span s);
/* The config checks of SPEC 3 that follow ingest's, in order. t and it
 * are the resolved tenant and item (-1 / NULL when unknown), dims the id
 * of the canonical dims text in w->strs, ts the record's instant (its
 * period picks the price versions); tc, when not NULL, what was read of
 * tenant t before (or zeros), kept up to date. Returns NULL and fills a
 * (but a->ok), or the reject reason (a static string). */
const char *eng_admit(struct part *w, long t, const struct item *it,
		      struct tref *tc, struct span unit, uint32_t dims,
		      int64_t ts, struct adm *a);
/* Admits one record the config accepts: counts it in its period, and
 * rates it now or keeps it for the walk. */
int eng_accept(struct part *w, const struct adm *a,
	       const struct usage_rec *r);
/* Decodes and rates one batch (id; ranged: the state knows its range of
 * record instants, else w->ranges learns it) of the file at path (a
 * string the engine keeps) into w. */
int eng_rate_batch(struct part *w, const char *path, int64_t id, int ranged,
		   const void *data, size_t len);
/* The counts of period p in w's aggregates, adding them when new. May
 * move w->pc. */
struct period_count *eng_period_count(struct part *w, int32_t p);

/* ---- book.c ---- */

/* Booking: a rated record (struct wrec: its period, account, item, group
 * and quantity in price units known) is added to the sums of its part w,
 * and, when its tenant has packages, consumed through pkg.c first.
 * Invariants:
 *  - only w's aggregates change, and g->book's package state, which only
 *    the walk (on one thread) reaches for a limited package: parts book
 *    on their own threads without a lock;
 *  - a line's usage is w->la[li].usage plus what its open slot (w->ls)
 *    and the ring (w->pend) still hold; the line sums are complete only
 *    after eng_ls_flush;
 *  - the ring holds at most ENG_PEND records, all rated where they stand
 *    (their order never matters, engine.h), and none past its batch:
 *    callers flush it at a batch's end, after the candidates and before
 *    they report an error of a later record or step, so the first error
 *    in the records' order is the one reported;
 *  - every sum is checked (eng_add): on overflow w's err is filled with
 *    the message below and -1 returned; what was booked before stays. */

/* Overflow messages name tenant, item and period (SPEC 2): fills w's err
 * with "WHAT overflow for tenant 'T' item 'I' in YYYY-MM (quantities too
 * large)" for account acct and item, of line li, or of package pkg
 * ("... package 'P' ..."); each returns -1. */
int eng_overflow(struct part *w, const char *what, int32_t period,
		 uint32_t acct, uint32_t item);
int eng_line_overflow(struct part *w, size_t li);
int eng_pkg_overflow(struct part *w, size_t pkg, int32_t period);

/* The index of line k / of (line li, pkg) / of (pkg, period p) in w's
 * aggregates, adding it when new. May move the arrays they index (w->la,
 * w->pu, w->pkgper). */
size_t eng_line_put(struct part *w, const struct line_key *k);
size_t eng_pu_put(struct part *w, size_t li, size_t pkg);
size_t eng_pkgper_put(struct part *w, size_t pkg, int32_t p);
/* Package consumption of one ok record, booked into w's aggregates. */
int eng_consume(struct part *w, const struct wrec *r);
/* The period of instant ts (cached per part: records come in runs). */
int32_t eng_period_of(struct part *w, int64_t ts);
/* Books the records waiting in w's ring (eng_pend_consume), oldest first:
 * before an error of a later record or step is reported, so that the
 * first error in the records' order is the one reported. */
int eng_pend_flush(struct part *w);
/* Books record x after the ENG_PEND records waiting before it, its line
 * slot and account prefetched meanwhile: x is copied into the ring (it
 * need not outlive the call), and the oldest booked when the ring is
 * full. */
int eng_pend_consume(struct part *w, const struct wrec *x);
/* Books the records waiting in w's ring, then closes every open line
 * slot: the line sums are then complete. */
int eng_ls_flush(struct part *w);

/* ---- pool.c ---- */

/* Decodes and rates every batch into g->r, on g->opts.threads threads
 * (one part each, merged into g->r; g->parts[] keeps them all, as the
 * walk merges their walk records). Returns 0 or -1 with g->e filled. */
int pool_rate_batches(struct engine *g, struct store *s);

/* ---- dup.c ---- */

/* Pass 1: fills g->candkeys with the record keys seen more than once
 * among all batches, g->batches with every batch holding records, and
 * g->cand_at with the batches holding each such key. Returns 0 or -1
 * with g->e filled. */
int dup_find_candidates(struct engine *g, struct store *s);
/* Resolves g->r's candidates (SPEC 3 duplicates): the winner of each
 * (tenant, record_id) is admitted, identical repeats counted in
 * g->duplicates, conflicting ones rejected. */
int dup_resolve_candidates(struct engine *g);

/* ---- walk.c ---- */

/* Sorts the walk records of w that are not sorted yet. */
void walk_sort(struct part *w);
/* Keeps a walk record (fields of x, and its record_id rid) in w; when
 * w holds g->opts.walk_run of them, sorts them and writes them out as a
 * run to w's temporary file in g->opts.tmpdir (made at the first run),
 * so that what the walk holds in memory does not grow with the month. */
int walk_keep(struct part *w, const struct wrec *x, struct span rid);
/* Consumes the walk records of every part (their runs and what each
 * still holds) in (tenant, ts, record_id) order into g->r: a merge of
 * sorted streams. */
int walk_run(struct engine *g);
/* Frees w's walk records and closes its temporary file. */
void walk_release(struct part *w);

#endif
