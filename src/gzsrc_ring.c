/* gzsrc_ring: the raw reading and the chunk ring a gzip source's
 * inflaters share (gzsrc_int.h): the producer reads raw bytes and makes
 * chunks of text in the ring's slots, the consumer takes them in order.
 *
 * Choices made where gzsrc.h leaves room:
 * - Gzip is inflated on a thread of its own (the producer) while the
 *   caller's thread consumes: chunk k of the text is in text + (k % RING)
 *   * TEXT_SIZE. The producer owns zs, raw, the fd and the counts of raw
 *   and compressed bytes; each chunk carries the counts as they were when
 *   it was inflated, so that progress and checkpoints see what a reader
 *   on one thread would. The limits are checked on the producer's side,
 *   on the text it inflated so far (prod_out), before a chunk is made.
 * - Chunks are made, then published: the producer may hold up to
 *   HOLD_CHUNKS made chunks the consumer cannot see yet (igzip's text of
 *   a member whose trailer it has not checked, gzsrc.h). Slot k of the
 *   ring belongs to the producer while k >= made, to the consumer while
 *   taken <= k < made. Whether a chunk is held depends only on the input,
 *   never on timing, so threaded and unthreaded reads hand over the same.
 * - An access point (gzindex.h) rides with the chunk of the slot it was
 *   made in and is handed over between the text before it and the text
 *   after (chunk_take). */
#include "gzsrc_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mem.h"
#include "sha256.h"
#include "banned.h"

/* Hands text to the consumer; remembers a stop. */
int gzsrc_hand(struct gzsrc *s, const unsigned char *p, size_t n,
	       uint64_t raw_read)
{
	int rc = s->fn(s->ctx, p, n, raw_read);

	if (rc)
		s->stopped = rc;
	return rc ? -1 : 0;
}

/* Moves the unconsumed input [*in, *in + *avail) to the start of the raw
 * buffer and reads up to read_size more bytes after it. Returns the count
 * read (0 at EOF), or -1 with errno set. */
ssize_t gzsrc_raw_more(struct gzsrc *s, unsigned char **in, size_t *avail)
{
	ssize_t n;

	if (*avail && *in != s->raw)
		memmove(s->raw, *in, *avail);
	*in = s->raw;
	if (s->mem) {
		size_t k = s->mem_len - s->mem_pos;

		if (k > s->read_size)
			k = s->read_size;
		if (k)
			memcpy(s->raw + *avail, s->mem + s->mem_pos, k);
		s->mem_pos += k;
		n = (ssize_t)k;
	} else {
		do
			n = read(s->fd, s->raw + *avail, s->read_size);
		while (n < 0 && errno == EINTR);
	}
	if (n < 0)
		return -1;
	/* the bytes parsed are the bytes hashed (ingest compares them with
	 * the digest it registers), each once: after igzip hands a member
	 * back to zlib, the bytes read again below raw_hi are not hashed
	 * again */
	if (s->md && n > 0) {
		uint64_t from = s->raw_read, to = s->raw_read + (uint64_t)n;

		if (from < s->raw_hi)
			from = s->raw_hi < to ? s->raw_hi : to;
		if (to > from)
			sha256_update(s->md, s->raw + *avail +
				      (size_t)(from - s->raw_read),
				      (size_t)(to - from));
	}
	*avail += (size_t)n;
	s->raw_read += (uint64_t)n;
	return n;
}

int gzsrc_prod_fail(struct gzsrc *s, const char *fmt, ...)
{
	char buf[sizeof(s->perr.msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	err_set(&s->perr, ST_ERROR, "%s", buf);
	return -1;
}

/* The slot for the next chunk made: waits while the ring is full. NULL
 * when the consumer has stopped. */
unsigned char *gzsrc_next_buf(struct gzsrc *s)
{
	uint64_t k;
	int cancel = 0;

	if (s->threaded) {
		pthread_mutex_lock(&s->mu);
		while (s->made + s->held - s->taken >= RING && !s->cancel)
			pthread_cond_wait(&s->cv, &s->mu);
		cancel = s->cancel;
		pthread_mutex_unlock(&s->mu);
	}
	/* only the producer changes made and held */
	k = s->made + s->held;
	return cancel ? NULL : s->text + (k % RING) * TEXT_SIZE;
}

/* The consumer's side of one chunk. */
static int chunk_take(struct gzsrc *s, uint64_t k)
{
	struct chunk *c = &s->ring[k % RING];
	const unsigned char *t = s->text + (k % RING) * TEXT_SIZE + c->off;
	struct gzindex_point *p = c->pt;
	size_t cut;

	if (c->jump)
		s->jump_fn(s->ctx);
	if (!p)
		return gzsrc_hand(s, t, c->n, c->raw_read);
	/* the point goes between the text before it and the text after */
	c->pt = NULL;
	cut = p->out > c->pos ? (size_t)(p->out - c->pos) : 0;
	if (cut > c->n)
		cut = c->n;
	if (cut && gzsrc_hand(s, t, cut, c->raw_read)) {
		free(p);
		return -1;
	}
	s->point_fn(s->ctx, p);
	free(p);
	return cut < c->n ? gzsrc_hand(s, t + cut, c->n - cut, c->raw_read) : 0;
}

/* Makes a chunk of the n bytes at off in gzsrc_next_buf()'s slot, held until
 * gzsrc_publish(). */
void gzsrc_make_chunk(struct gzsrc *s, size_t off, size_t n)
{
	struct chunk *c = &s->ring[(s->made + s->held) % RING];

	c->off = off;
	c->n = n;
	c->raw_read = s->raw_read > s->raw_hi ? s->raw_read : s->raw_hi;
	/* the text made so far ends with this chunk's */
	c->pos = s->prod_out - n;
	free(c->pt);            /* of a held chunk a rewind dropped */
	c->pt = s->slot_pt;
	s->slot_pt = NULL;
	c->jump = s->jump_pending;
	s->jump_pending = 0;
	s->held++;
	s->held_n += n;
}

/* Hands the held chunks over. Returns 0, or -1 when the consumer has
 * stopped. */
int gzsrc_publish(struct gzsrc *s)
{
	int stop;

	s->pub_out += s->held_n;
	s->held_n = 0;
	if (!s->threaded) {
		for (; s->held; s->held--, s->made++, s->taken++)
			if (chunk_take(s, s->made))
				return -1;
		return 0;
	}
	pthread_mutex_lock(&s->mu);
	s->made += s->held;
	s->held = 0;
	stop = s->cancel;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return stop ? -1 : 0;
}

static void *producer(void *arg)
{
	struct gzsrc *s = arg;
	int rc = s->produce(s, s->prod_avail);

	pthread_mutex_lock(&s->mu);
	s->prod_rc = rc;
	s->done = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Takes the chunks the producer publishes, in order, until it is done or
 * the consumer stops; then stops and joins it. */
static void ring_drain(struct gzsrc *s)
{
	for (;;) {
		int stop;

		pthread_mutex_lock(&s->mu);
		while (s->taken == s->made && !s->done)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->taken == s->made) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		pthread_mutex_unlock(&s->mu);
		/* slot taken is the consumer's until taken moves on */
		stop = chunk_take(s, s->taken);
		pthread_mutex_lock(&s->mu);
		s->taken++;
		if (stop)
			s->cancel = 1;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		if (stop)
			break;
	}
	pthread_join(s->thread, NULL);
}

int gzsrc_ring_run(struct gzsrc *s, size_t avail, gzsrc_produce_fn produce)
{
	int rc;

	err_clear(&s->perr);
	s->text = xmalloc((size_t)RING * TEXT_SIZE);
	s->produce = produce;
	s->prod_avail = avail;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->threaded = 1;
	if (pthread_create(&s->thread, NULL, producer, s) == 0) {
		ring_drain(s);
		rc = s->prod_rc;
	} else {
		s->threaded = 0;
		rc = produce(s, avail);
	}
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	return rc;
}
