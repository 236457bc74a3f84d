/* ckpt: what each final period left of every package (issue 14: a close
 * costs what its month holds), so that a close can rate from the end of
 * the last earlier final period it leaves as it is (resume.h) instead of
 * from the start of time.
 *
 * Package consumption is the only state that crosses a period's end
 * (SPEC 6: per tenant in (ts, record_id) order, across periods), so the
 * state at the end of period q is, per package valid across that end,
 * the package units used before it and its alert (when, at what units
 * left) if it fired before it. ckpt_record keeps it for every period the
 * engine rated whole, with the config digest it was rated with (tables
 * ckpt_period and ckpt_pkg, made by the store's upgrade to version 4:
 * schema.c), inside the close's transaction and only when the close
 * changed something, as resume_record. ckpt_load gives it back as where
 * rating starts (engine.h eng_start).
 *
 * Exact because it is used only for a period q that resume_skip leaves as
 * it is: no record before q's end changed since the close that last
 * settled or kept q, and the config is the same; the close that wrote
 * the rows rated q whole with that config, and one that changed nothing
 * wrote nothing (then q's rows are what a rating now would give, or q is
 * settled again by the next close). A row of another config digest, a
 * package id the config does not have, or no row is no checkpoint.
 *
 * All return 0, or ST_ERROR with e filled on a state error. */
#ifndef CKPT_H
#define CKPT_H

#include <stddef.h>

#include "catalog.h"
#include "engine.h"
#include "err.h"
#include "store.h"

/* The state at the end of period q, kept with config digest config, into
 * *st (from: the start of period q + 1); *found 0 (st unset) when there
 * is none. Release st with ckpt_start_release. */
int ckpt_load(struct store *s, const struct catalog *cat, int q,
	      const unsigned char config[32], struct eng_start *st,
	      int *found, struct err *e);
void ckpt_start_release(struct eng_start *st);

/* Inside the close's transaction: for each of periods[0..n) that the
 * engine rated whole (its start at or after engine_from), replaces its
 * rows by the state at its end, with config digest config; and keeps the
 * range of record instants of every batch the engine decoded that had
 * none (engine_new_ranges: a state upgraded from version 3). */
int ckpt_record(struct store *s, struct engine *g, const int *periods,
		size_t n, const unsigned char config[32], struct err *e);

#endif
