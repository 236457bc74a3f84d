/* walk: the ordered walk (SPEC 6 consumption order). Records that may meet
 * a limited package are kept compact per part, sorted by (tenant, ts,
 * record_id) on the part's own thread, then consumed in one merged order
 * on one thread: only there does package state change.
 *
 * What a part holds is bounded (issue 14): when it holds
 * g->opts.walk_run records, it sorts them and appends them to its own
 * unlinked temporary file as a run, each record as its struct wpack
 * (rid_off unused) and its record_id after one byte of length. The walk
 * merges every run of every part, and what each part still holds, as
 * sorted streams, each read through a small buffer. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_int.h"
#include "fault.h"
#include "mem.h"
#include "banned.h"

/* A run's read buffer: records are at most sizeof(struct wpack) + 1 +
 * 255 bytes, so one always fits. */
enum { RUN_BUF = 64 * 1024 };

/* The walk's order, (tenant, ts, record_id), of record a (its id ra: a
 * length byte, then the bytes) against b: < 0, 0 or > 0. The one rule of
 * the sort below and of walk_run's merge. */
static int key_cmp(const struct wpack *a, const unsigned char *ra,
		   const struct wpack *b, const unsigned char *rb)
{
	if (a->tenant != b->tenant)
		return a->tenant < b->tenant ? -1 : 1;
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return eng_cmp_bytes((const char *)ra + 1, ra[0], (const char *)rb + 1,
			 rb[0]);
}

/* key_cmp of a walk record of part pa and one of pb. */
static int walk_before(const struct part *pa, const struct wpack *a,
		       const struct part *pb, const struct wpack *b)
{
	return key_cmp(a, (const unsigned char *)pa->rids + a->rid_off,
		       b, (const unsigned char *)pb->rids + b->rid_off);
}

static void wswap(struct wpack *a, struct wpack *b)
{
	struct wpack t = *a;

	*a = *b;
	*b = t;
}

/* Sift-down of a max-heap of n records rooted at i (the heapsort that
 * bounds introsort's worst case). */
static void wsift(const struct part *w, struct wpack *v, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < n && walk_before(w, &v[m], w, &v[l]) < 0)
			m = l;
		if (l + 1 < n && walk_before(w, &v[m], w, &v[l + 1]) < 0)
			m = l + 1;
		if (m == i)
			return;
		wswap(&v[i], &v[m]);
		i = m;
	}
}

/* Sorts v[0..n) in place (introsort): no scratch copy of the records,
 * which qsort would allocate, as large as the records themselves. */
static void wsort(const struct part *w, struct wpack *v, size_t n,
		  int depth)
{
	while (n > 16) {
		size_t i, j, m = n / 2;

		if (depth-- == 0) {
			for (i = n / 2; i-- > 0;)
				wsift(w, v, n, i);
			for (i = n - 1; i > 0; i--) {
				wswap(&v[0], &v[i]);
				wsift(w, v, i, 0);
			}
			return;
		}
		/* median of three to v[0], then Hoare's partition */
		if (walk_before(w, &v[m], w, &v[0]) < 0)
			wswap(&v[m], &v[0]);
		if (walk_before(w, &v[n - 1], w, &v[0]) < 0)
			wswap(&v[n - 1], &v[0]);
		if (walk_before(w, &v[n - 1], w, &v[m]) < 0)
			wswap(&v[n - 1], &v[m]);
		wswap(&v[0], &v[m]);
		i = 0;
		j = n;
		for (;;) {
			do
				i++;
			while (i < n && walk_before(w, &v[i], w, &v[0]) < 0);
			do
				j--;
			while (walk_before(w, &v[0], w, &v[j]) < 0);
			if (i >= j)
				break;
			wswap(&v[i], &v[j]);
		}
		wswap(&v[0], &v[j]);
		/* recurse into the smaller side, loop on the larger */
		if (j < n - j - 1) {
			wsort(w, v, j, depth);
			v += j + 1;
			n -= j + 1;
		} else {
			wsort(w, v + j + 1, n - j - 1, depth);
			n = j;
		}
	}
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && walk_before(w, &v[j], w,
							&v[j - 1]) < 0; j--)
			wswap(&v[j], &v[j - 1]);
}

/* Sorts the walk records of w that are not sorted yet. */
void walk_sort(struct part *w)
{
	int depth = 0;
	size_t n;

	for (n = w->nwalk; n > 1; n >>= 1)
		depth += 2;
	if (w->nsorted < w->nwalk)
		wsort(w, w->walk, w->nwalk, depth);
	w->nsorted = w->nwalk;
}

static const char *walk_dir(const struct engine *g)
{
	return g->opts.tmpdir && *g->opts.tmpdir ? g->opts.tmpdir : "/tmp";
}

/* Makes w's temporary file: unlinked from the start (O_TMPFILE), or
 * made and unlinked at once where the file system has no O_TMPFILE. */
static int run_open(struct part *w)
{
	const char *dir = walk_dir(w->g);
	int fd = -1;

#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
	if (fd < 0) {
		size_t n = strlen(dir) + sizeof("/settle-walk-XXXXXX");
		char *tmpl = xmalloc(n);

		snprintf(tmpl, n, "%s/settle-walk-XXXXXX", dir);
		fd = mkostemp(tmpl, O_CLOEXEC);
		if (fd >= 0)
			unlink(tmpl);
		free(tmpl);
	}
	if (fd < 0)
		return eng_fail(w, "cannot make the ordered walk's temporary "
				"file in '%s': %s (set TMPDIR to a folder "
				"settle can write to)", dir, strerror(errno));
	w->run_fd = fd;
	return 0;
}

/* Writes buf[0..n) at the end of w's file. */
static int run_write(struct part *w, const char *buf, size_t n)
{
	int err = fault_errno("walk-write");

	while (n && !err) {
		ssize_t k = pwrite(w->run_fd, buf, n, (off_t)w->run_end);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			err = k < 0 ? errno : ENOSPC;
			break;
		}
		buf += k;
		n -= (size_t)k;
		w->run_end += (uint64_t)k;
	}
	if (err)
		return eng_fail(w, "cannot write the ordered walk's temporary "
				"file in '%s': %s (set TMPDIR to a folder with "
				"room)", walk_dir(w->g), strerror(err));
	return 0;
}

/* Sorts what w holds and appends it to w's file as a run; w then holds
 * nothing (its arrays are kept for the next records). */
static int run_spill(struct part *w)
{
	char *buf;
	size_t i, n = 0;
	int rc = 0;

	if (w->run_fd < 0 && run_open(w))
		return -1;
	walk_sort(w);
	xgrow((void **)&w->runs, &w->runs_cap, w->nruns + 1, sizeof(*w->runs));
	w->runs[w->nruns++] = w->run_end;
	buf = xmalloc(RUN_BUF);
	for (i = 0; i < w->nwalk && !rc; i++) {
		const unsigned char *rid =
			(const unsigned char *)w->rids + w->walk[i].rid_off;
		size_t len = sizeof(struct wpack) + 1 + rid[0];

		if (n + len > RUN_BUF) {
			rc = run_write(w, buf, n);
			n = 0;
		}
		memcpy(buf + n, &w->walk[i], sizeof(struct wpack));
		memcpy(buf + n + sizeof(struct wpack), rid, 1 + (size_t)rid[0]);
		n += len;
	}
	if (!rc && n)
		rc = run_write(w, buf, n);
	free(buf);
	w->nwalk = w->nsorted = 0;
	w->rids_n = 0;
	return rc;
}

int walk_keep(struct part *w, const struct wrec *x, struct span rid)
{
	size_t cap = w->g->opts.walk_run ? w->g->opts.walk_run :
					   ENGINE_WALK_RUN;
	struct wpack *p;

	/* ingest keeps record_id to 128 bytes; the limits keep the packing
	 * exact */
	if (rid.n > UINT8_MAX || x->item > UINT16_MAX ||
	    x->group > UINT16_MAX ||
	    w->rids_n + 1 + rid.n > UINT32_MAX)
		return eng_fail(w, "%s", "too many records for the ordered walk");
	if (w->nwalk >= cap && run_spill(w))
		return -1;
	xgrow((void **)&w->rids, &w->rids_cap, w->rids_n + 1 + rid.n, 1);
	w->rids[w->rids_n] = (char)(unsigned char)rid.n;
	memcpy(w->rids + w->rids_n + 1, rid.p, rid.n);
	xgrow((void **)&w->walk, &w->walk_cap, w->nwalk + 1, sizeof(*w->walk));
	p = &w->walk[w->nwalk++];
	p->ts = x->ts;
	p->q = x->q;
	p->rid_off = (uint32_t)w->rids_n;
	p->tenant = x->tenant;
	p->acct = x->acct;
	p->item = (uint16_t)x->item;
	p->group = (uint16_t)x->group;
	w->rids_n += 1 + rid.n;
	return 0;
}

void walk_release(struct part *w)
{
	free(w->rids);
	w->rids = NULL;
	w->rids_n = w->rids_cap = 0;
	free(w->walk);
	w->walk = NULL;
	w->nwalk = w->nsorted = w->walk_cap = 0;
	free(w->runs);
	w->runs = NULL;
	w->nruns = w->runs_cap = 0;
	if (w->run_fd >= 0)
		close(w->run_fd);
	w->run_fd = -1;
	w->run_end = 0;
}

/* One sorted stream of the merge: a run of a part's file (fd >= 0), or
 * the records a part still holds (fd -1). cur and rid are its next
 * record, valid until the stream moves on. */
struct stream {
	const struct part *w;
	int fd;
	uint64_t pos, end;   /* the run's bytes not yet read */
	char *buf;
	size_t at, len;      /* buf[at..len) read, not yet taken */
	size_t next;         /* held records: the next one's index */
	struct wpack cur;
	const unsigned char *rid; /* length byte, then the id */
};

/* Moves s to its next record: 1, or 0 at its end, or -1 on a read
 * error (w's err filled). */
static int stream_next(struct part *r, struct stream *s)
{
	const unsigned char *rid;
	size_t need, left;

	if (s->fd < 0) {
		if (s->next == s->w->nwalk)
			return 0;
		s->cur = s->w->walk[s->next++];
		s->rid = (const unsigned char *)s->w->rids + s->cur.rid_off;
		return 1;
	}
	if (s->at == s->len && s->pos == s->end)
		return 0;
	need = sizeof(struct wpack) + 1 + 255;
	if (s->len - s->at < need && s->pos < s->end) {
		memmove(s->buf, s->buf + s->at, s->len - s->at);
		s->len -= s->at;
		s->at = 0;
	}
	/* a short read (a TMPDIR on a network or FUSE file system may give
	 * one) is read on from, until a whole record is held */
	while (s->len - s->at < need && s->pos < s->end) {
		size_t want = RUN_BUF - s->len;
		ssize_t k;

		if (want > s->end - s->pos)
			want = (size_t)(s->end - s->pos);
		do
			k = pread(s->fd, s->buf + s->len, want, (off_t)s->pos);
		while (k < 0 && errno == EINTR);
		if (k <= 0)
			return eng_fail(r, "cannot read the ordered walk's "
					"temporary file in '%s': %s",
					walk_dir(r->g),
					k < 0 ? strerror(errno) :
						"it is shorter than written");
		s->len += (size_t)k;
		s->pos += (uint64_t)k;
	}
	left = s->len - s->at;
	rid = (const unsigned char *)s->buf + s->at + sizeof(struct wpack);
	if (left < sizeof(struct wpack) + 1 ||
	    left < sizeof(struct wpack) + 1 + rid[0])
		return eng_fail(r, "%s", "the ordered walk's temporary file "
				"ends inside a record");
	memcpy(&s->cur, s->buf + s->at, sizeof(struct wpack));
	s->rid = rid;
	s->at += sizeof(struct wpack) + 1 + rid[0];
	return 1;
}

/* Stream a's record before b's (key_cmp). */
static int stream_before(const struct stream *a, const struct stream *b)
{
	return key_cmp(&a->cur, a->rid, &b->cur, b->rid) < 0;
}

/* Sift-down in the min-heap h[0..n) of streams. */
static void heap_down(struct stream **h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		struct stream *t;

		if (l < n && stream_before(h[l], h[m]))
			m = l;
		if (l + 1 < n && stream_before(h[l + 1], h[m]))
			m = l + 1;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/* Consumes the walk records of every part in one (tenant, ts, record_id)
 * order: a merge of the sorted streams (every run of every part, and
 * what each still holds). Identities are unique among them (a repeated
 * one is a candidate), so the order is total. */
int walk_run(struct engine *g)
{
	struct stream *st, **h;
	size_t ns = 0, nh = 0, k, i;
	int rc = 0;

	/* the decoders sorted theirs; the first part, when it did not
	 * decode on a thread or took candidates, is sorted here */
	walk_sort(g->r);
	for (k = 0; k < g->nparts; k++)
		ns += g->parts[k]->nruns + 1;
	st = xcalloc(ns, sizeof(*st));
	h = xmalloc(ns * sizeof(*h));
	ns = 0;
	for (k = 0; k < g->nparts; k++) {
		const struct part *p = g->parts[k];

		for (i = 0; i < p->nruns; i++) {
			struct stream *s = &st[ns++];

			s->w = p;
			s->fd = p->run_fd;
			s->pos = p->runs[i];
			s->end = i + 1 < p->nruns ? p->runs[i + 1] : p->run_end;
			s->buf = xmalloc(RUN_BUF);
		}
		st[ns].w = p;
		st[ns++].fd = -1;
	}
	for (i = 0; i < ns && !rc; i++) {
		int more = stream_next(g->r, &st[i]);

		if (more < 0)
			rc = -1;
		else if (more)
			h[nh++] = &st[i];
	}
	for (i = nh / 2; i-- > 0;)
		heap_down(h, nh, i);
	while (nh && !rc) {
		struct stream *s = h[0];
		struct wrec x;
		int more;

		x.ts = s->cur.ts;
		x.q = s->cur.q;
		x.tenant = s->cur.tenant;
		x.acct = s->cur.acct;
		x.item = s->cur.item;
		x.group = s->cur.group;
		x.period = eng_period_of(g->r, s->cur.ts);
		if (eng_consume(g->r, &x)) {
			rc = -1;
			break;
		}
		more = stream_next(g->r, s);
		if (more < 0)
			rc = -1;
		else if (!more)
			h[0] = h[--nh];
		heap_down(h, nh, 0);
	}
	for (i = 0; i < ns; i++)
		free(st[i].buf);
	free(st);
	free(h);
	return rc;
}
