/* ingest: usage files into the state. */
#include "ingest.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "fault.h"
#include "gzindex.h"
#include "gzsrc.h"
#include "mem.h"
#include "usage.h"
#include "banned.h"

/* A batch is committed when its encoding passes this size, so memory per
 * worker stays bounded whatever the checkpoint interval. */
#define BATCH_LIMIT (4u << 20)
#define PROGRESS_STEP (1u << 20)
/* Descriptors the digest pass keeps open for the load pass; past this a
 * file is opened again by path and must be the same file, unchanged. */
#define HELD_FDS 64
/* Text between two access points of a gzip file (gzindex.h): a resumed
 * ingest inflates at most about this much before its checkpoint. */
#define POINT_SPAN (1u << 20)
/* WAL pages (4 KiB) between two copies of the WAL into the state file
 * while ingest reads: at SQLite's 1000 every commit of a 4 MiB batch
 * copied the WAL and synced both files (two fdatasyncs, ~15 ms) with the
 * state lock held, and the other reader waited on it. */
#define WAL_PAGES 16384
/* Pages of a transaction held in SQLite's cache before it may write them
 * to the WAL ahead of the commit (16 MiB: a batch of BATCH_LIMIT, its
 * keys and the file's rows fit): a commit that spilled read every frame
 * of its transaction back to write its header again, with the state lock
 * held (store_spill_pages). */
#define SPILL_PAGES 4096

struct job {
	struct ingest_file *f;
	uint64_t size;
	unsigned char sha[32];
	struct usage_stamp stamp; /* the file when opened first */
	int fd;                /* kept from the open pass, or -1 */
	int load;              /* to be read */
	int digest_failed;     /* could not be opened or hashed */
	/* sha is known: from the digest pass, taken only of a file whose
	 * size some file row or another file of the run has (it may be a
	 * file seen before); of any other file, from the bytes its reader
	 * parses, or before its first mid-file commit (ensure_sha) */
	int hashed;
	int repeat;            /* the same path given earlier: ignored */
};

struct shared {
	struct store *s;
	const struct ingest_opts *o;
	struct job *jobs;
	size_t n;
	size_t next;           /* next job to take */
	pthread_mutex_t mu;    /* guards s, next, err */
	/* guards bytes, records and the progress callback: a reader never
	 * waits on another's commit (its SQLite writes, a WAL checkpoint's
	 * fsync) just to count progress */
	pthread_mutex_t pmu;
	uint64_t bytes, records;
	uint64_t total;        /* sizes of the files to read (progress) */
	int held;              /* jobs' fds kept open */
	struct err err;        /* first state error */
	int failed;
	/* copies each commit's pages into the state file beside the
	 * readers (store.h), or NULL */
	struct store_copier *copier;
};

struct pending_reject {
	uint64_t line;
	char *rid, *tenant;
	size_t rid_n, tenant_n;
	const char *reason;
	int has_ts;
	int64_t ts;
};

/* One file being read. */
struct loader {
	struct shared *sh;
	struct job *job;
	int64_t id;
	int64_t seq;
	struct batch *b;
	struct pending_reject *rej;
	size_t nrej, caprej;
	uint64_t last_ck_raw, last_raw, last_records;
	int64_t min_ts;        /* earliest record instant of the batch */
	int64_t max_ts;        /* latest one (rating skips a batch wholly
				* before the periods it settles) */
	int fd;                /* the reader's descriptor (not owned) */
	int changed;           /* the file changed while read */
	int row_sha;           /* the row holds the file's digest */
	struct usage_reader *r;
	/* the pending batch encoded and its keys sorted (prepare), before
	 * the state lock is taken */
	const void *data;
	size_t len, nkeys;
	const uint64_t *keys;
	uint64_t skip;         /* records done at the checkpoint resumed */
	struct gzindex_point *pt; /* its access point, or NULL */
	uint64_t pt_sync;      /* the sync of the last point stored */
};

/* 1 if the file being read is no longer what was hashed. */
static int file_changed(struct loader *l)
{
	struct usage_stamp now;

	if (usage_stamp_of(l->fd, &now) != 0 ||
	    !usage_stamp_same(&now, &l->job->stamp))
		l->changed = 1;
	return l->changed;
}

static void free_rejects(struct loader *l)
{
	size_t i;

	for (i = 0; i < l->nrej; i++) {
		free(l->rej[i].rid);
		free(l->rej[i].tenant);
	}
	l->nrej = 0;
}

/* Encodes the pending batch and sorts its keys, for flush: work of the
 * reader's own, done before it takes the state lock. */
static void prepare(struct loader *l)
{
	if (!batch_count(l->b))
		return;
	batch_encode(l->b, &l->data, &l->len);
	batch_keys(l->b, &l->keys, &l->nkeys);
}

/* Writes the pending batch (prepare()d) and rejects (inside the
 * caller's transaction). */
static int flush(struct loader *l, struct err *e)
{
	size_t i;

	if (batch_count(l->b)) {
		/* the file's earliest record, committed with its batch so a
		 * resumed ingest keeps it (status's staleness, store.h) */
		if (store_batch_put(l->sh->s, l->id, l->seq, l->nkeys, l->data,
				    l->len, l->keys, l->min_ts, l->max_ts, e) ||
		    store_file_earliest(l->sh->s, l->id, l->min_ts, e))
			return -1;
		l->min_ts = INT64_MAX;
		l->max_ts = INT64_MIN;
		l->seq++;
		batch_reset(l->b);
	}
	for (i = 0; i < l->nrej; i++) {
		struct pending_reject *r = &l->rej[i];

		if (store_reject_put(l->sh->s, l->id, r->line, r->rid, r->rid_n,
				     r->tenant, r->tenant_n, r->reason,
				     r->has_ts ? &r->ts : NULL, e))
			return -1;
	}
	free_rejects(l);
	return 0;
}

/* What one ingest transaction writes, besides flushing the pending batch
 * and rejects. */
struct step {
	int finish;             /* 0: a checkpoint; 1: end the LOADING row */
	uint64_t raw, records;  /* checkpoint position */
	const unsigned char *pt; /* checkpoint: a new access point, packed, */
	size_t ptn;             /* or NULL (the one stored stays) */
	enum file_state state;  /* finish: the row's new state */
	const char *msg;        /* finish: why it failed */
};

/* The digest into the LOADING row of a file read before it was known
 * (made with zeros, a digest no file has, so that an ingest cut short
 * before it leaves a row: unfinished, never resumed), in the caller's
 * transaction, once job->sha is known. */
static int row_sha(struct loader *l, struct err *e)
{
	if (l->row_sha || !l->job->hashed)
		return 0;
	if (store_file_set_sha(l->sh->s, l->id, l->job->sha, e))
		return -1;
	l->row_sha = 1;
	return 0;
}

/* Runs one ingest transaction under the state lock; on failure records
 * the first state error for the whole run. */
static int commit_step(struct loader *l, const struct step *st)
{
	struct shared *sh = l->sh;
	struct err e;
	int rc = 0;

	err_clear(&e);
	if (!(st->finish && st->state == FILE_FAILED))
		prepare(l);
	pthread_mutex_lock(&sh->mu);
	if (store_begin(sh->s, &e) || row_sha(l, &e) ||
	    (!(st->finish && st->state == FILE_FAILED) && flush(l, &e)) ||
	    (st->finish ?
	     store_file_finish(sh->s, l->id, st->state, st->msg, &e) ||
	     store_checkpoint_point(sh->s, l->id, NULL, 0, &e) :
	     store_checkpoint(sh->s, l->id, st->raw, st->records, l->seq,
			      &e) ||
	     (st->pt &&
	      store_checkpoint_point(sh->s, l->id, st->pt, st->ptn, &e)))) {
		rc = -1;
	} else {
		fault_point("ingest-commit");
		if (store_commit(sh->s, &e))
			rc = -1;
	}
	if (rc) {
		store_rollback(sh->s);
		if (!sh->failed) {
			sh->err = e;
			sh->failed = 1;
		}
	} else if (st->finish) {
		struct store_file f;

		if (store_file_current(sh->s, l->job->f->path, &f, &e) == 1) {
			l->job->f->records = f.records;
			l->job->f->rejected = f.rejected;
			store_file_release(&f);
		}
	}
	pthread_mutex_unlock(&sh->mu);
	if (!rc)
		store_copier_kick(sh->copier);
	return rc;
}

/* Before the first checkpoint of a file read without its digest: its
 * LOADING row is what a resumed ingest matches by digest, so the whole
 * file is hashed here (from the reader's
 * descriptor; its reader still hashes what it parses, and read_same
 * compares the two at the end). 0, or -1 when the file changed. */
static int ensure_sha(struct loader *l)
{
	struct err e;

	if (l->job->hashed)
		return 0;
	err_clear(&e);
	if (usage_file_hash(l->fd, l->job->f->path, &l->job->stamp,
			    l->job->sha, &e) != ST_OK) {
		l->changed = 1;
		return -1;
	}
	l->job->hashed = 1;
	return 0;
}

/* Commits what is pending with a checkpoint after `records` records. */
static int checkpoint(struct loader *l, uint64_t raw, uint64_t records)
{
	struct step st = { 0, raw, records, NULL, 0, FILE_LOADING, NULL };
	const struct gzindex_point *p = l->r ? usage_point(l->r) : NULL;
	unsigned char *blob = NULL;
	int rc;

	/* records of a file that changed under the reader are never
	 * committed, not even at a checkpoint */
	if (file_changed(l) || ensure_sha(l))
		return -1;
	l->last_ck_raw = raw;
	/* the reader's last point, when it is a new one (its records are
	 * at most these: usage.h) */
	if (p && p->sync != l->pt_sync) {
		gzindex_pack(p, &blob, &st.ptn);
		st.pt = blob;
	}
	rc = commit_step(l, &st);
	if (!rc && p)
		l->pt_sync = p->sync;
	free(blob);
	return rc;
}

/* Ends the LOADING row: current with state st (a failed file keeps none
 * of its records). */
static int finish(struct loader *l, enum file_state state, const char *msg)
{
	struct step st = { 1, 0, 0, NULL, 0, state, msg };

	return commit_step(l, &st);
}

static int on_rec(void *ctx, const struct usage_rec *r)
{
	struct loader *l = ctx;

	batch_add(l->b, r);
	if (r->ts < l->min_ts)
		l->min_ts = r->ts;
	if (r->ts > l->max_ts)
		l->max_ts = r->ts;
	fault_point("ingest-record");
	return 0;
}

static int on_reject(void *ctx, const struct usage_reject *r)
{
	struct loader *l = ctx;
	struct pending_reject *p;

	xgrow((void **)&l->rej, &l->caprej, l->nrej + 1, sizeof(*l->rej));
	p = &l->rej[l->nrej++];
	p->line = r->line;
	p->rid = xstrndup(r->record_id.p, r->record_id.n);
	p->rid_n = r->record_id.n;
	p->tenant = xstrndup(r->tenant.p, r->tenant.n);
	p->tenant_n = r->tenant.n;
	p->reason = usage_reject_name(r->reason);
	p->has_ts = r->has_ts;
	p->ts = r->ts;
	return 0;
}

static int on_progress(void *ctx, uint64_t raw, uint64_t records)
{
	struct loader *l = ctx;
	struct shared *sh = l->sh;

	pthread_mutex_lock(&sh->pmu);
	sh->bytes += raw - l->last_raw;
	sh->records += records - l->last_records;
	if (sh->o->progress)
		sh->o->progress(sh->o->progress_ctx, sh->bytes, sh->total,
				sh->records);
	pthread_mutex_unlock(&sh->pmu);
	l->last_raw = raw;
	l->last_records = records;
	/* no checkpoint among the records a resumed read skips: it would
	 * move the checkpoint back before records already committed */
	if (records <= l->skip)
		return 0;
	if (batch_size(l->b) >= BATCH_LIMIT ||
	    raw - l->last_ck_raw >= sh->o->checkpoint_bytes)
		return checkpoint(l, raw, records) ? -1 : 0;
	return 0;
}

/* The access point stored with the checkpoint resumed, into l->pt (NULL
 * when none, or when it does not unpack: the read then inflates from
 * byte 0, as before points). Under the state lock. */
static int load_point(struct loader *l, struct err *e)
{
	struct gzindex_point p;
	struct err pe;
	void *blob;
	size_t n;

	if (store_file_point(l->sh->s, l->id, &blob, &n, e))
		return -1;
	err_clear(&pe);
	if (blob && gzindex_unpack(blob, n, &p, &pe) == 0) {
		l->pt = xmalloc(sizeof(*l->pt));
		*l->pt = p;
	}
	free(blob);
	return 0;
}

/* Finds or makes the LOADING row of the job; sets resume point. */
static int start(struct loader *l, uint64_t *skip)
{
	struct shared *sh = l->sh;
	struct store_file f;
	struct err e;
	int rc = 0, found;

	err_clear(&e);
	*skip = 0;
	pthread_mutex_lock(&sh->mu);
	found = store_file_loading(sh->s, l->job->f->path, &f, &e);
	if (found < 0)
		rc = -1;
	/* a file not hashed yet has a size no row has, and its row gets
	 * zeros for its digest until it is (row_sha) */
	l->row_sha = l->job->hashed;
	if (found == 1 && l->job->hashed &&
	    memcmp(f.sha, l->job->sha, 32) == 0 && f.size == l->job->size) {
		l->id = f.id;
		l->seq = f.ck_seq;
		*skip = f.ck_records;
		l->last_ck_raw = f.ck_raw;
		rc = load_point(l, &e);
	} else if (!rc) {
		/* a stale row (other content) goes; then a new one */
		if (store_begin(sh->s, &e) ||
		    (found == 1 && store_file_drop(sh->s, f.id, &e)) ||
		    store_file_begin(sh->s, l->job->f->path, l->job->size,
				     l->job->sha, &l->id, &e) ||
		    store_commit(sh->s, &e)) {
			store_rollback(sh->s);
			rc = -1;
		}
	}
	if (found == 1)
		store_file_release(&f);
	if (rc && !sh->failed) {
		sh->err = e;
		sh->failed = 1;
	}
	pthread_mutex_unlock(&sh->mu);
	return rc;
}

/* The reader of the job's file: over the descriptor opened first (its
 * digest was taken from it, when it was), or the path opened again when
 * it was not kept, which must then be the same file with the same size
 * and mtime. */
static struct usage_reader *open_reader(struct loader *l, struct err *e)
{
	struct job *job = l->job;
	int fd = job->fd;

	job->fd = -1;
	if (fd < 0) {
		fd = usage_file_reopen(job->f->path, &job->stamp, e);
		if (fd < 0)
			return NULL;
	}
	l->fd = fd;
	l->r = usage_open_fd(fd, job->f->path, l->sh->o->usage);
	/* gzip read by zlib: points for the next resume; and this read
	 * resumed from the checkpoint's, when there is one */
	usage_index(l->r, POINT_SPAN);
	if (l->pt)
		usage_resume(l->r, l->pt);
	return l->r;
}

/* 1 if the bytes the reader parsed are those the digest was of, and the
 * file is still what was hashed; of a file read before its digest was
 * known, the digest of the bytes parsed is the file's when they are all
 * of it, unchanged: the one pass hashes what it parses. */
static int read_same(struct loader *l, struct usage_reader *r)
{
	unsigned char sha[32];
	uint64_t size;

	if (usage_raw_digest(r, sha, &size) != 0 || size != l->job->size ||
	    (l->job->hashed && memcmp(sha, l->job->sha, 32) != 0) ||
	    file_changed(l))
		return 0;
	if (!l->job->hashed) {
		memcpy(l->job->sha, sha, 32);
		l->job->hashed = 1;
	}
	return 1;
}

/* b: the worker's batch, empty; kept across files so that its buffers
 * (a few MiB) are not given back to the kernel and faulted in again. */
static void load_file(struct shared *sh, struct job *job, struct batch *b)
{
	struct loader l;
	struct usage_reader *r;
	struct usage_sink sink;
	struct err e;
	uint64_t skip;
	int rc;

	memset(&l, 0, sizeof(l));
	l.min_ts = INT64_MAX;
	l.max_ts = INT64_MIN;
	l.sh = sh;
	l.job = job;
	if (start(&l, &skip))
		return;
	job->f->resumed_from = skip;
	l.skip = skip;
	l.b = b;
	memset(&sink, 0, sizeof(sink));
	sink.rec = on_rec;
	sink.reject = on_reject;
	sink.progress = on_progress;
	sink.progress_every = PROGRESS_STEP;
	sink.ctx = &l;
	err_clear(&e);
	r = open_reader(&l, &e);
	rc = r ? usage_read(r, &sink, skip, &e) : ST_ERROR;
	if (r && (l.changed || (rc == 0 && !read_same(&l, r))))
		rc = usage_changed(&e, job->f->path);
	/* a failed file read before its digest was known is registered
	 * under the digest of the file (read again); when that cannot be
	 * had (unreadable, or changed), under none a file has: zeros */
	if (rc != 0 && !job->hashed) {
		struct err he;

		err_clear(&he);
		if (!r || usage_file_hash(l.fd, job->f->path, &job->stamp,
					  job->sha, &he) != ST_OK)
			memset(job->sha, 0, sizeof(job->sha));
		job->hashed = 1;
	}
	usage_free(r);
	l.r = NULL;
	free(l.pt);
	if (rc == 0) {
		finish(&l, FILE_OK, NULL);
	} else if (!sh->failed) {
		/* the file itself is bad: registered as failed */
		job->f->outcome = ING_FAILED;
		snprintf(job->f->msg, sizeof(job->f->msg), "%s", e.msg);
		batch_reset(l.b);
		free_rejects(&l);
		finish(&l, FILE_FAILED, e.msg);
		job->f->records = job->f->rejected = 0;
	}
	free_rejects(&l);
	free(l.rej);
	batch_reset(l.b);
}

/* Opens each file and takes its stamp (its size), keeping the first
 * HELD_FDS descriptors for the passes after. */
static void open_files(struct shared *sh)
{
	size_t i;

	for (i = 0; i < sh->n; i++) {
		struct job *job = &sh->jobs[i];
		struct err e;

		if (job->repeat)
			continue;
		err_clear(&e);
		job->fd = usage_file_open(job->f->path, &job->stamp, &e);
		if (job->fd < 0) {
			job->digest_failed = 1;
			snprintf(job->f->msg, sizeof(job->f->msg), "%s", e.msg);
			continue;
		}
		job->size = job->stamp.size;
		if (sh->held < HELD_FDS) {
			sh->held++;
		} else {
			close(job->fd);
			job->fd = -1;
		}
	}
}

static int by_size(const void *a, const void *b)
{
	const struct job *x = *(struct job *const *)a;
	const struct job *y = *(struct job *const *)b;

	return x->size < y->size ? -1 : x->size > y->size;
}

/* Marks (hashed = -1) the files whose digest decide() needs before
 * they are read: those whose size another file of the run or some file
 * row has. Any other file holds content no row and no other file of the
 * run holds (whatever its bytes): it is new or replaced, read in one
 * pass that hashes what it parses. 0, or -1 with e filled. */
static int need_digests(struct shared *sh, struct err *e)
{
	struct job **by = xmalloc((sh->n ? sh->n : 1) * sizeof(*by));
	size_t i, k = 0;
	int rc = 0;

	for (i = 0; i < sh->n; i++)
		if (!sh->jobs[i].repeat && !sh->jobs[i].digest_failed)
			by[k++] = &sh->jobs[i];
	qsort(by, k, sizeof(*by), by_size);
	for (i = 0; i < k; i++) {
		int known;

		if ((i > 0 && by[i - 1]->size == by[i]->size) ||
		    (i + 1 < k && by[i + 1]->size == by[i]->size)) {
			by[i]->hashed = -1;
			continue;
		}
		known = store_size_known(sh->s, by[i]->size, e);
		if (known < 0) {
			rc = -1;
			break;
		}
		if (known)
			by[i]->hashed = -1;
	}
	free(by);
	return rc;
}

/* The digest pass over the files need_digests marked, from the
 * descriptor kept, or the path opened again (the same file, unchanged). */
static void *worker_digest(void *arg)
{
	struct shared *sh = arg;

	for (;;) {
		struct job *job;
		struct err e;
		size_t i;
		int fd;

		pthread_mutex_lock(&sh->mu);
		i = sh->next++;
		pthread_mutex_unlock(&sh->mu);
		if (i >= sh->n)
			return NULL;
		job = &sh->jobs[i];
		if (job->repeat || job->digest_failed || job->hashed != -1)
			continue;
		err_clear(&e);
		fd = job->fd >= 0 ? job->fd :
		     usage_file_reopen(job->f->path, &job->stamp, &e);
		if (fd < 0 || usage_file_hash(fd, job->f->path, &job->stamp,
					      job->sha, &e) != ST_OK) {
			job->digest_failed = 1;
			job->hashed = 0;
			snprintf(job->f->msg, sizeof(job->f->msg), "%s", e.msg);
		} else {
			job->hashed = 1;
		}
		if (fd >= 0 && fd != job->fd)
			close(fd);
	}
}

static void *worker_load(void *arg)
{
	struct shared *sh = arg;
	struct batch *b = batch_new();

	for (;;) {
		size_t i;

		pthread_mutex_lock(&sh->mu);
		while (sh->next < sh->n && !sh->jobs[sh->next].load)
			sh->next++;
		i = sh->next++;
		pthread_mutex_unlock(&sh->mu);
		if (i >= sh->n || sh->failed)
			break;
		load_file(sh, &sh->jobs[i], b);
	}
	batch_free(b);
	return NULL;
}

static void close_job(struct job *job)
{
	if (job->fd >= 0)
		close(job->fd);
	job->fd = -1;
}

/* Runs fn on k threads (the calling one when k is 1). */
static void run_workers(struct shared *sh, void *(*fn)(void *), int k)
{
	pthread_t *t;
	int i;

	sh->next = 0;
	if ((size_t)k > sh->n)
		k = (int)sh->n;
	if (k <= 1) {
		fn(sh);
		return;
	}
	t = xmalloc((size_t)k * sizeof(*t));
	for (i = 0; i < k; i++)
		if (pthread_create(&t[i], NULL, fn, sh) != 0)
			break;
	k = i;
	if (k == 0)
		fn(sh);
	for (i = 0; i < k; i++)
		pthread_join(t[i], NULL);
	free(t);
}

/* The sha a registered path holds once this run is done: its new content
 * when this run reads it, else what it holds now; NULL when that is not
 * known yet (a content no row has). */
static const unsigned char *final_sha(const struct shared *sh,
				      const char *path,
				      const unsigned char *now)
{
	size_t j;

	for (j = 0; j < sh->n; j++)
		if (!sh->jobs[j].repeat && !sh->jobs[j].digest_failed &&
		    strcmp(sh->jobs[j].f->path, path) == 0)
			/* not hashed: a size no row has, so not now's */
			return sh->jobs[j].hashed ? sh->jobs[j].sha : NULL;
	return now;
}

/* Decides what happens to each file. A content is kept under one path:
 * a registered path that still holds it after this run, else the first
 * path of this run that has it (argument order); any other path with the
 * same content is a duplicate delivery. So the outcome does not depend on
 * how files are split across runs or ordered within one. */
static int decide(struct shared *sh, struct err *e)
{
	size_t i, j, k;

	for (i = 0; i < sh->n; i++) {
		struct job *job = &sh->jobs[i];
		struct store_file cur;
		char **paths = NULL;
		size_t npaths = 0;
		int has_cur;

		if (job->repeat)
			continue;
		if (job->digest_failed) {
			job->f->outcome = ING_UNREADABLE;
			continue;
		}
		has_cur = store_file_current(sh->s, job->f->path, &cur, e);
		if (has_cur < 0)
			return -1;
		if (!job->hashed) {
			/* a size no row and no other file has: new content */
			if (has_cur)
				store_file_release(&cur);
			job->f->outcome = has_cur ? ING_REPLACED : ING_NEW;
			job->load = 1;
			continue;
		}
		if (has_cur && memcmp(cur.sha, job->sha, 32) == 0 &&
		    cur.size == job->size) {
			if (cur.state == FILE_FAILED) {
				/* read it again: the failure may have been
				 * the disk's or a limit's, not the bytes' */
				store_file_release(&cur);
				job->f->outcome = ING_REPLACED;
				job->load = 1;
				continue;
			} else {
				job->f->outcome = ING_UNCHANGED;
				job->f->records = cur.records;
				job->f->rejected = cur.rejected;
			}
			store_file_release(&cur);
			continue;
		}
		if (has_cur)
			store_file_release(&cur);
		if (store_paths_with_sha(sh->s, job->sha, job->f->path, &paths,
					 &npaths, e))
			return -1;
		for (k = 0; k < npaths; k++) {
			const unsigned char *fs = final_sha(sh, paths[k],
							    job->sha);

			if (fs && memcmp(fs, job->sha, 32) == 0)
				break;
		}
		if (k < npaths) {
			job->f->outcome = ING_DUPLICATE;
			job->f->dup_of = xstrdup(paths[k]);
		}
		for (k = 0; k < npaths; k++)
			free(paths[k]);
		free(paths);
		if (job->f->outcome == ING_DUPLICATE)
			continue;
		for (j = 0; j < i; j++)
			if (!sh->jobs[j].digest_failed && !sh->jobs[j].repeat &&
			    sh->jobs[j].hashed &&
			    memcmp(sh->jobs[j].sha, job->sha, 32) == 0)
				break;
		if (j < i) {
			job->f->outcome = ING_DUPLICATE;
			job->f->dup_of = xstrdup(sh->jobs[j].f->path);
			continue;
		}
		job->f->outcome = has_cur ? ING_REPLACED : ING_NEW;
		job->load = 1;
	}
	return 0;
}

int ingest_run(struct store *s, struct ingest_file *files, size_t n,
	       const struct ingest_opts *o, struct err *e)
{
	struct shared sh;
	size_t i, j;
	int wal = 0, wal_set;

	memset(&sh, 0, sizeof(sh));
	sh.s = s;
	sh.o = o;
	sh.n = n;
	sh.jobs = xcalloc(n ? n : 1, sizeof(*sh.jobs));
	pthread_mutex_init(&sh.mu, NULL);
	pthread_mutex_init(&sh.pmu, NULL);
	for (i = 0; i < n; i++) {
		sh.jobs[i].f = &files[i];
		sh.jobs[i].fd = -1;
		files[i].records = files[i].rejected = 0;
		files[i].resumed_from = 0;
		files[i].dup_of = NULL;
		files[i].msg[0] = '\0';
	}
	/* the same path twice: the later mention changes nothing */
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			if (strcmp(files[i].path, files[j].path) == 0)
				sh.jobs[i].repeat = 1;
	/* each file's bytes are hashed once: by the digest pass when decide
	 * needs its digest before it is read (a size seen before), else by
	 * its reader, which hashes the bytes it parses */
	open_files(&sh);
	if (need_digests(&sh, &sh.err) == 0) {
		/* digests take a core each and a small buffer: even one
		 * worker (whose reader inflates on a second thread) gets
		 * two */
		run_workers(&sh, worker_digest, o->jobs < 2 ? 2 : o->jobs);
	} else
		sh.failed = 1;
	if (!sh.failed && decide(&sh, &sh.err) == 0 &&
	    store_wal_pages(s, WAL_PAGES, &wal, &sh.err) == 0 &&
	    store_spill_pages(s, SPILL_PAGES, &sh.err) == 0) {
		struct err we;

		/* a resumed file is read from its start too */
		for (i = 0; i < n; i++)
			if (sh.jobs[i].load)
				sh.total += sh.jobs[i].size;
			else
				close_job(&sh.jobs[i]);
		/* the WAL is copied into the state file as the readers go,
		 * not all of it when the state is closed */
		sh.copier = store_copier_start(s);
		run_workers(&sh, worker_load, o->jobs < 1 ? 1 : o->jobs);
		store_copier_stop(sh.copier);
		sh.copier = NULL;
		/* SQLite's again for what follows (a close in `settle run`);
		 * a failure here changes no data */
		err_clear(&we);
		(void)store_wal_pages(s, wal, &wal_set, &we);
		(void)store_spill_pages(s, 1, &we);
	} else
		sh.failed = 1;
	for (i = 0; i < n; i++)
		close_job(&sh.jobs[i]);
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			if (strcmp(files[i].path, files[j].path) == 0) {
				files[i] = files[j];
				files[i].dup_of = files[j].dup_of ?
					xstrdup(files[j].dup_of) : NULL;
				/* the second mention finds it done */
				if (files[i].outcome == ING_NEW ||
				    files[i].outcome == ING_REPLACED)
					files[i].outcome = ING_UNCHANGED;
				break;
			}
	pthread_mutex_destroy(&sh.mu);
	pthread_mutex_destroy(&sh.pmu);
	free(sh.jobs);
	if (sh.failed) {
		if (e)
			*e = sh.err;
		return ST_ERROR;
	}
	return 0;
}
