/* engine: loading and rating from the state and the config.
 *
 * Loading reads every batch twice, never holding all records:
 *  1. the sorted record keys of all batches are merged as streams; a key
 *     seen twice makes a duplicate candidate (usually none; dup.c);
 *  2. the batches are decoded (pool.c), each distinct string of a batch
 *     resolved once; a candidate is set aside whole, any other record is
 *     checked against the config and rated at once, or kept in a compact
 *     form when it may meet a limited package (the ordered walk). Batches
 *     are independent, so several threads decode them, each into its own
 *     part (aggregates, walk records, rejects); the parts are merged.
 * Candidates are then resolved exactly (dup.c), and the walk runs per
 * tenant in (ts, record_id) order (walk.c). This file holds the loading
 * and the set-up of tenants, accounts and packages; part.c admits and
 * books each record. */
#include "engine_int.h"

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "fault.h"
#include "mem.h"
#include "ts.h"
#include "banned.h"

static int on_stored_reject(void *ctx, const char *path, uint64_t line,
			    const char *rid, const char *tenant,
			    const char *reason, const int64_t *ts)
{
	struct engine *g = ctx;
	uint32_t id = strtab_put(g->paths, path, strlen(path));
	struct span r = { rid, strlen(rid) }, t = { tenant, strlen(tenant) };
	const char *name = reason;
	int k;

	/* keep a pointer to a static reason name */
	for (k = 0; k < REJ_COUNT; k++)
		if (strcmp(reason, usage_reject_name(k)) == 0)
			name = usage_reject_name(k);
	if (name == reason)
		return eng_fail(g, "unknown reject reason '%s' in the state",
			    reason);
	eng_add_reject(g->r, strtab_str(g->paths, id), line, r, t, name, ts);
	return 0;
}

static int on_file(void *ctx, const struct store_file *f)
{
	struct engine *g = ctx;

	if (f->state == FILE_OK)
		g->files_ok++;
	else if (f->state == FILE_FAILED)
		g->files_failed++;
	return 0;
}

/* Widens tenant t's walk windows by limited package p (index pi),
 * giving the tenant its row of windows (all empty) first. */
static void widen(struct engine *g, size_t t, const struct package *p,
		  size_t pi)
{
	size_t ni = g->cat->nitems, i;
	struct tenant_info *ti = &g->ti[t];

	if (!ti->win) {
		g->walkwin = xrealloc(g->walkwin, (g->nwinrows + 1) * ni *
				      sizeof(*g->walkwin) + 1);
		memset(&g->walkwin[g->nwinrows * ni], 0,
		       ni * sizeof(*g->walkwin));
		ti->win = ++g->nwinrows;
	}
	for (i = 0; i < ni; i++) {
		struct window *w = &g->walkwin[(ti->win - 1) * ni + i];

		if (!g->book.covers[pi * ni + i] ||
		    p->valid_from >= p->valid_to)
			continue;
		if (w->from >= w->to) {
			w->from = p->valid_from;
			w->to = p->valid_to;
			continue;
		}
		if (p->valid_from < w->from)
			w->from = p->valid_from;
		if (p->valid_to > w->to)
			w->to = p->valid_to;
	}
}

/* Tenants (the ids of accounts) and their accounts; the line slots'
 * price group offsets. */
static void setup_accounts(struct engine *g)
{
	const struct catalog *cat = g->cat;
	size_t i, n;

	/* ids in the order of accounts, which are sorted by tenant */
	g->tenant_ids = strtab_new();
	for (i = 0; i < cat->naccounts; i++)
		strtab_put(g->tenant_ids, cat->accounts[i].tenant,
			   strlen(cat->accounts[i].tenant));
	n = g->ntenants = strtab_count(g->tenant_ids);
	g->ti = xcalloc(n ? n : 1, sizeof(*g->ti));
	/* accounts are sorted by (tenant, currency) */
	for (i = 0; i < cat->naccounts; i++) {
		struct span t = { cat->accounts[i].tenant,
				  strlen(cat->accounts[i].tenant) };
		struct tenant_info *ti = &g->ti[eng_find_tenant(g, t)];

		if (ti->nacct++ == 0)
			ti->acct0 = i;
	}
	g->gofs = xmalloc((cat->nitems + 1) * sizeof(*g->gofs));
	for (i = 0; i < cat->nitems; i++) {
		g->gofs[i] = g->ngroups;
		g->ngroups += cat->items[i].ngroups;
	}
}

/* The package book, each tenant's packages in consumption order, and
 * the walk windows their limited packages open (all of them when the
 * walk is forced). A package of no known tenant is never consumed. */
static void setup_packages(struct engine *g)
{
	const struct catalog *cat = g->cat;
	size_t i, n = g->ntenants;

	pkg_book_init(&g->book, cat->packages, cat->npackages, cat->items,
		      cat->nitems, cat->set.alert_pct);
	for (i = 0; i < cat->npackages; i++) {
		struct span t = { cat->packages[i].tenant,
				  strlen(cat->packages[i].tenant) };
		long k = eng_find_tenant(g, t);
		struct tenant_info *ti;

		if (k < 0)
			continue;
		ti = &g->ti[k];
		ti->pkgs = xrealloc(ti->pkgs, (ti->npkgs + 1) *
				    sizeof(*ti->pkgs));
		ti->pkgs[ti->npkgs++] = i;
		if (!cat->packages[i].unlimited)
			widen(g, (size_t)k, &cat->packages[i], i);
	}
	for (i = 0; i < n; i++) {
		pkg_order(cat->packages, g->ti[i].pkgs, g->ti[i].npkgs);
		if (g->ti[i].npkgs > g->max_tpkgs)
			g->max_tpkgs = g->ti[i].npkgs;
	}
	/* opts.force_walk: part.c walks every record */
}

/* Frees every part but the result. */
static void free_parts(struct engine *g)
{
	size_t i;

	for (i = 1; i < g->nparts; i++) {
		eng_part_free(g->parts[i]);
		free(g->parts[i]);
	}
	g->nparts = 0;
}

struct engine *engine_open(struct store *s, const struct catalog *cat,
			   const struct engine_opts *opts, struct err *e)
{
	struct engine *g = xcalloc(1, sizeof(*g));

	g->cat = cat;
	g->e = e;
	g->opts = *opts;
	g->from = INT64_MIN;
	if (g->opts.threads < 1)
		g->opts.threads = 1;
	if (g->opts.threads > ENGINE_MAX_THREADS)
		g->opts.threads = ENGINE_MAX_THREADS;
#ifdef M_MMAP_THRESHOLD
	/* Walk records and line tables grow by doubling while batches of a
	 * few MiB come and go. glibc raises its mmap threshold to the size of
	 * the largest block freed, after which the growing arrays live in the
	 * heap and realloc copies them (old and new both resident): at 10 M
	 * records that was 40 MB of peak. Fixed at 1 MiB, large blocks stay
	 * mapped and grow in place. */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
	g->paths = strtab_new();
	g->candkeys = agg_new(sizeof(uint64_t));
	setup_accounts(g);
	setup_packages(g);
	g->r = xmalloc(sizeof(*g->r));
	eng_part_init(g->r, g);
	fault_phase("engine setup");
	if (store_files(s, on_file, g, e) ||
	    store_rejects(s, on_stored_reject, g, e))
		goto fail;
	fault_phase("stored rejects");
	if (dup_find_candidates(g, s))
		goto fail;
	fault_phase("duplicate keys");
	return g;
fail:
	if (g->r)
		eng_part_error(g, g->r);
	if (e && !e->code)
		err_set(e, ST_ERROR, "cannot rate");
	engine_free(g);
	return NULL;
}

/* Each package's state at start->from: what it used (every package,
 * for its packages.csv rows), and, limited, its units left and alert. */
static void apply_start(struct engine *g, const struct eng_start *start)
{
	const struct catalog *cat = g->cat;
	size_t i;

	g->from = start->from;
	g->ck_used = xcalloc(cat->npackages + 1, sizeof(*g->ck_used));
	for (i = 0; i < start->n; i++) {
		const struct eng_pkgstate *ps = &start->st[i];
		struct pkg_state *st = &g->book.st[ps->pkg];

		g->ck_used[ps->pkg] = ps->used;
		if (cat->packages[ps->pkg].unlimited)
			continue;
		st->left = cat->packages[ps->pkg].quota - ps->used;
		st->alerted = ps->alerted;
		st->alert_ts = ps->alert_ts;
		st->alert_left = ps->alert_left;
	}
}

/* Frees what only decoding and rating read (issue 14: ~50 MB at
 * 500 000 tenants, held until the period was settled): the other parts,
 * the walk records, the line slots and per-batch caches of the merged
 * part, each tenant's packages and walk windows, the tenant index and
 * the candidate key set. engine_period, engine_pkg_state, the rejects,
 * the counts and engine_dup_paths read none of them. */
static void drop_rating(struct engine *g)
{
	struct part *r = g->r;
	size_t i;

	free_parts(g);
	walk_release(r);
	free(r->ls);
	r->ls = NULL;
	r->nls = 0;
	free(r->ppc);
	r->ppc = NULL;
	free(r->uses);
	r->uses = NULL;
	free(r->bc.tenant);
	free(r->bc.item);
	free(r->bc.dims);
	free(r->bc.ok);
	free(r->bc.tref);
	memset(&r->bc, 0, sizeof(r->bc));
	free(r->group_of);
	r->group_of = NULL;
	r->group_cap = 0;
	strtab_free(r->strs);
	r->strs = NULL;
	for (i = 0; i < g->ntenants; i++)
		free(g->ti[i].pkgs);
	free(g->ti);
	g->ti = NULL;
	g->ntenants = 0;
	free(g->walkwin);
	g->walkwin = NULL;
	g->nwinrows = 0;
	free(g->gofs);
	g->gofs = NULL;
	strtab_free(g->tenant_ids);
	g->tenant_ids = NULL;
	agg_free(g->candkeys);
	g->candkeys = NULL;
}

void engine_trim(struct engine *g)
{
	struct part *r = g->r;

	agg_free(r->lines);
	r->lines = NULL;
	free(r->la);
	r->la = NULL;
	r->la_cap = 0;
	agg_free(r->pus);
	r->pus = NULL;
	free(r->pu);
	r->pu = NULL;
	r->pu_cap = 0;
	g->trimmed = 1;
}

int engine_rate(struct engine *g, struct store *s,
		const struct eng_start *start, struct err *e)
{
	g->e = e;
	if (start && start->from > INT64_MIN)
		apply_start(g, start);
	if (pool_rate_batches(g, s))
		goto fail;
	if (g->from > INT64_MIN) {
		char msg[64];

		snprintf(msg, sizeof(msg), "decoded %zu of %zu batches",
			 g->ndecoded, g->nbatches);
		fault_note(msg);
	}
	fault_phase("decode and rate");
	/* the candidates admitted are booked before the walk's records */
	if (dup_resolve_candidates(g) || eng_pend_flush(g->r) ||
	    walk_run(g) || eng_ls_flush(g->r))
		goto fail;
	fault_phase("ordered walk");
	/* only the merged aggregates are needed from here on */
	drop_rating(g);
	return 0;
fail:
	eng_part_error(g, g->r);
	if (e && !e->code)
		err_set(e, ST_ERROR, "cannot rate");
	return ST_ERROR;
}

struct engine *engine_load(struct store *s, const struct catalog *cat,
			   const struct engine_opts *opts, struct err *e)
{
	struct engine *g = engine_open(s, cat, opts, e);

	if (g && engine_rate(g, s, NULL, e)) {
		engine_free(g);
		return NULL;
	}
	return g;
}

int64_t engine_from(const struct engine *g, size_t *decoded, size_t *all)
{
	if (decoded)
		*decoded = g->ndecoded;
	if (all)
		*all = g->nbatches;
	return g->from;
}

int engine_new_ranges(const struct engine *g,
		      int (*fn)(void *ctx, int64_t id, int64_t min_ts,
				int64_t max_ts),
		      void *ctx)
{
	size_t i;
	int r = 0;

	for (i = 0; i < g->r->nranges && !r; i++)
		r = fn(ctx, g->r->ranges[i].id, g->r->ranges[i].min_ts,
		       g->r->ranges[i].max_ts);
	return r;
}

void engine_set_skip(struct engine *g, size_t skip)
{
	g->have_skip = 1;
	g->skip = skip;
}

int engine_skip(const struct engine *g, size_t *skip)
{
	*skip = g->skip;
	return g->have_skip;
}

void engine_free(struct engine *g)
{
	size_t i;

	if (!g)
		return;
	free_parts(g);
	if (g->r) {
		eng_part_free(g->r);
		free(g->r);
	}
	for (i = 0; i < g->ntenants; i++)
		free(g->ti[i].pkgs);
	free(g->ti);
	free(g->walkwin);
	free(g->gofs);
	pkg_book_release(&g->book);
	strtab_free(g->tenant_ids);
	strtab_free(g->paths);
	agg_free(g->candkeys);
	free(g->pp_first);
	free(g->pp_idx);
	free(g->batches);
	free(g->cand_at);
	free(g->ck_used);
	free(g);
}

const struct eng_reject *engine_rejects(const struct engine *g, size_t *n)
{
	*n = g->r->nrej;
	return g->r->rej;
}

const struct engine_opts *engine_opts_of(const struct engine *g)
{
	return &g->opts;
}

const struct catalog *engine_catalog(const struct engine *g)
{
	return g->cat;
}

void engine_counts(const struct engine *g, struct eng_counts *c)
{
	c->files_ok = g->files_ok;
	c->files_failed = g->files_failed;
	c->records = g->r->live;
	c->duplicates = g->duplicates;
	c->rejected = g->r->nrej;
}
