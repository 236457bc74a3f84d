/* pool: decoding batches on several threads. The store's reader thread
 * queues copies of the batches; each decoder rates them into its own
 * part, with no lock on the aggregates; the parts are merged at the end.
 * Results do not depend on the number of threads. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "mem.h"
#include "banned.h"

/* Batches read ahead of the decoders. One is enough: the reader copies a
 * batch in a few ms, a decoder rates it in ~100. Each batch in flight is
 * a copy of up to ~5 MB: at most QUEUE + threads of them (issue 14:
 * with 2 queued and the reader's own copy waiting, 5 of them were ~25 MB
 * of a 10 M close's peak). */
enum { QUEUE = 1 };

struct qjob {
	const char *path;
	int64_t id;
	int ranged;
	void *data;
	size_t len, cap;
};

struct pool {
	struct engine *g;
	struct part *parts;
	size_t nparts;
	pthread_mutex_t mu;
	pthread_cond_t more, room;
	struct qjob q[QUEUE];
	size_t head, n;
	struct qjob spare[QUEUE + 8]; /* buffers to reuse: no page faults */
	size_t nspare;
	int done, stop;
};

static void *decoder(void *arg)
{
	struct part *w = arg;
	struct pool *pl = w->g->pool;

	for (;;) {
		struct qjob j;
		int rc;

		pthread_mutex_lock(&pl->mu);
		while (!pl->n && !pl->done && !pl->stop)
			pthread_cond_wait(&pl->more, &pl->mu);
		if (pl->stop || !pl->n) {
			int stop = pl->stop;

			pthread_mutex_unlock(&pl->mu);
			if (!stop)
				walk_sort(w); /* each part sorts its own */
			return NULL;
		}
		j = pl->q[pl->head];
		pl->head = (pl->head + 1) % QUEUE;
		pl->n--;
		pthread_cond_signal(&pl->room);
		pthread_mutex_unlock(&pl->mu);
		rc = eng_rate_batch(w, j.path, j.id, j.ranged, j.data, j.len);
		pthread_mutex_lock(&pl->mu);
		if (rc) {
			pl->stop = 1;
			pthread_cond_broadcast(&pl->more);
			pthread_cond_broadcast(&pl->room);
		}
		if (pl->nspare < sizeof(pl->spare) / sizeof(pl->spare[0]))
			pl->spare[pl->nspare++] = j;
		else
			free(j.data);
		pthread_mutex_unlock(&pl->mu);
	}
}

static const char *keep_path(struct engine *g, const char *path)
{
	return strtab_str(g->paths, strtab_put(g->paths, path, strlen(path)));
}

/* store_batches callback with one decoder: rate in place. */
static int on_batch(void *ctx, const struct store_batch *b, const void *data,
		    size_t len)
{
	struct engine *g = ctx;

	g->ndecoded++;
	return eng_rate_batch(g->r, keep_path(g, b->path), b->id, b->ranged,
			      data, len);
}

/* store_batches callback with a pool: queue a copy for the decoders. */
static int on_batch_queue(void *ctx, const struct store_batch *b,
			  const void *data, size_t len)
{
	struct engine *g = ctx;
	struct pool *pl = g->pool;
	struct qjob j;
	int stop;

	g->ndecoded++;
	memset(&j, 0, sizeof(j));
	/* a buffer is taken only once the queue has room for it, so that
	 * no copy waits beside a full queue */
	pthread_mutex_lock(&pl->mu);
	while (pl->n == QUEUE && !pl->stop)
		pthread_cond_wait(&pl->room, &pl->mu);
	if (pl->nspare)
		j = pl->spare[--pl->nspare];
	pthread_mutex_unlock(&pl->mu);
	if (j.cap < len) {
		free(j.data);
		j.cap = len;
		j.data = xmalloc(len ? len : 1);
	}
	j.path = keep_path(g, b->path);
	j.id = b->id;
	j.ranged = b->ranged;
	memcpy(j.data, data, len);
	j.len = len;
	pthread_mutex_lock(&pl->mu);
	while (pl->n == QUEUE && !pl->stop)
		pthread_cond_wait(&pl->room, &pl->mu);
	stop = pl->stop;
	if (!stop) {
		pl->q[(pl->head + pl->n) % QUEUE] = j;
		pl->n++;
		pthread_cond_signal(&pl->more);
	}
	pthread_mutex_unlock(&pl->mu);
	if (stop)
		free(j.data);
	return stop ? -1 : 0;
}

/* Moves what s gathered into d, but its walk records: walk_run() merges the
 * parts' sorted walk records as it consumes them. */
static int merge_part(struct part *d, struct part *s)
{
	size_t n = agg_count(s->lines), i;
	size_t *map = xmalloc((n ? n : 1) * sizeof(*map));
	int rc = -1;

	for (i = 0; i < n; i++) {
		struct line_agg *a, *b = &s->la[i];

		map[i] = eng_line_put(d, agg_key(s->lines, i));
		a = &d->la[map[i]];
		if (eng_add(d, &a->usage, b->usage) || eng_add(d, &a->covered, b->covered) ||
		    eng_add(d, &a->forgiven, b->forgiven) || eng_add(d, &a->uncovered, b->uncovered)) {
			eng_line_overflow(d, map[i]);
			goto out;
		}
	}
	for (i = 0; i < agg_count(s->pus); i++) {
		const struct pu_key *k = agg_key(s->pus, i);
		size_t j = eng_pu_put(d, map[k->line], k->pkg);

		if (eng_add(d, &d->pu[j].qty, s->pu[i].qty) ||
		    eng_add(d, &d->pu[j].units, s->pu[i].units)) {
			eng_line_overflow(d, map[k->line]);
			goto out;
		}
	}
	for (i = 0; i < agg_count(s->pkgpers); i++) {
		const struct pkgper_key *k = agg_key(s->pkgpers, i);
		/* may move d->pkgper */
		size_t j = eng_pkgper_put(d, k->pkg, k->period);

		if (eng_add(d, &d->pkgper[j], s->pkgper[i])) {
			eng_pkg_overflow(d, k->pkg, k->period);
			goto out;
		}
	}
	for (i = 0; i < agg_count(s->pcounts); i++) {
		struct period_count *pc = eng_period_count(
			d, *(const int32_t *)agg_key(s->pcounts, i));

		pc->records += s->pc[i].records;
		pc->unbillable += s->pc[i].unbillable;
		pc->duplicates += s->pc[i].duplicates;
	}
	for (i = 0; i < agg_count(s->pfiles); i++) {
		int added;

		agg_put(d->pfiles, agg_key(s->pfiles, i), &added);
	}
	/* rejects and candidates change hands */
	xgrow((void **)&d->rej, &d->rej_cap, d->nrej + s->nrej,
	      sizeof(*d->rej));
	if (s->nrej)
		memcpy(d->rej + d->nrej, s->rej, s->nrej * sizeof(*s->rej));
	d->nrej += s->nrej;
	s->nrej = 0;
	xgrow((void **)&d->cands, &d->cands_cap, d->ncands + s->ncands,
	      sizeof(*d->cands));
	if (s->ncands)
		memcpy(d->cands + d->ncands, s->cands,
		       s->ncands * sizeof(*s->cands));
	d->ncands += s->ncands;
	s->ncands = 0;
	xgrow((void **)&d->ranges, &d->ranges_cap, d->nranges + s->nranges,
	      sizeof(*d->ranges));
	if (s->nranges)
		memcpy(d->ranges + d->nranges, s->ranges,
		       s->nranges * sizeof(*s->ranges));
	d->nranges += s->nranges;
	s->nranges = 0;
	d->live += s->live;
	rc = 0;
out:
	free(map);
	return rc;
}

/* Decodes and rates every batch into g->r. Results do not depend on the
 * number of threads: every sum is exact, and what depends on order (the
 * walk, the candidates, the rejects) is sorted later. */
/* Sets up pool pl and parts 1..n-1 of g, and starts up to n decoders.
 * Returns how many started. */
static size_t start_decoders(struct engine *g, struct pool *pl,
			     pthread_t *tid, size_t n)
{
	size_t started = 0, i;

	memset(pl, 0, sizeof(*pl));
	pthread_mutex_init(&pl->mu, NULL);
	pthread_cond_init(&pl->more, NULL);
	pthread_cond_init(&pl->room, NULL);
	g->pool = pl;
	for (i = 1; i < n; i++) {
		g->parts[i] = xmalloc(sizeof(struct part));
		eng_part_init(g->parts[i], g);
	}
	g->nparts = n;
	for (i = 0; i < n; i++) {
		if (pthread_create(&tid[i], NULL, decoder, g->parts[i]))
			break;
		started++;
	}
	return started;
}

/* Tells the decoders there is no more (or, after an error rc, to stop),
 * waits for them and frees the queued and spare buffers. */
static void stop_decoders(struct engine *g, struct pool *pl,
			  const pthread_t *tid, size_t started, int rc)
{
	size_t i;

	pthread_mutex_lock(&pl->mu);
	pl->done = 1;
	if (rc)
		pl->stop = 1;
	pthread_cond_broadcast(&pl->more);
	pthread_mutex_unlock(&pl->mu);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	for (i = 0; i < pl->n; i++)
		free(pl->q[(pl->head + i) % QUEUE].data);
	for (i = 0; i < pl->nspare; i++)
		free(pl->spare[i].data);
	g->pool = NULL;
}

/* Passes on the parts' errors, or merges parts 1..n-1 into g->r. */
static int gather_parts(struct engine *g, size_t n, int rc)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (g->parts[i]->err.code) {
			eng_part_error(g, g->parts[i]);
			rc = -1;
		}
	for (i = 1; i < n && !rc; i++)
		if (eng_ls_flush(g->parts[i]) ||
		    merge_part(g->r, g->parts[i])) {
			eng_part_error(g, g->parts[i]);
			eng_part_error(g, g->r);
			rc = -1;
		}
	return rc;
}

int pool_rate_batches(struct engine *g, struct store *s)
{
	struct pool pl;
	pthread_t tid[ENGINE_MAX_THREADS];
	size_t n = g->opts.threads, started;
	int rc;

	g->parts[0] = g->r;
	g->nparts = 1;
	if (n == 1)
		return store_batches(s, g->from, on_batch, g, g->e);
	started = start_decoders(g, &pl, tid, n);
	/* batches wholly before g->from are not read (engine.h eng_start) */
	rc = started ? store_batches(s, g->from, on_batch_queue, g, g->e) :
		       store_batches(s, g->from, on_batch, g, g->e);
	stop_decoders(g, &pl, tid, started, rc);
	/* a stopped pool is an error some part or the reader has said */
	rc = gather_parts(g, n, rc || pl.stop ? -1 : 0);
	pthread_cond_destroy(&pl.more);
	pthread_cond_destroy(&pl.room);
	pthread_mutex_destroy(&pl.mu);
	return rc;
}
