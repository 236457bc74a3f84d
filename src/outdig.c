/* outdig: each output folder a close checks, hashed once, and not at all
 * when its files' stamps say it is as recorded (outdig.h, stamp.h). */
#include "outdig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "mem.h"
#include "report.h"
#include "stamp.h"
#include "ts.h"
#include "banned.h"

struct folder {
	int period;
	int rc;                  /* report_digest_dir's */
	unsigned char sha[32];   /* rc 0 */
	int by_stamp;            /* taken by its stamps, not read */
	int fresh;               /* hashed, and stamps holds what was
				  * stat'ed before the hash */
	struct stamp_folder stamps;
};

struct outdig {
	char *outdir;
	struct store *s;
	int verify;
	struct folder *f;
	size_t n;
};

struct outdig *outdig_new(const char *outdir, struct store *s, int verify)
{
	struct outdig *c = xcalloc(1, sizeof(*c));

	c->outdir = xstrdup(outdir);
	c->s = s;
	c->verify = verify;
	return c;
}

void outdig_free(struct outdig *c)
{
	if (!c)
		return;
	free(c->f);
	free(c->outdir);
	free(c);
}

static void folder_dir(const char *outdir, int q, char *dir, size_t size)
{
	char ym[16];

	ts_period_format(q, 1, ym);
	snprintf(dir, size, "%s/%s", outdir, ym);
}

/* The stamps of every final file of dir into f (names too, at unset):
 * 0, or -1 when one is missing or no regular file. */
static int stat_folder(const char *dir, struct stamp_folder *f)
{
	const char *const *names;
	char path[4200];
	size_t i, n;

	names = report_final_names(&n);
	f->n = 0;
	for (i = 0; i < n && i < STAMP_MAX_FILES; i++) {
		snprintf(f->names[i], sizeof(f->names[0]), "%s", names[i]);
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stamp_path(path, &f->st[i]))
			return -1;
	}
	f->n = i;
	return 0;
}

/* 1 when now (stat_folder's) matches rec file for file, each trusted. */
static int folder_trusted(const struct stamp_folder *rec,
			  const struct stamp_folder *now)
{
	size_t i, j;

	if (rec->n != now->n)
		return 0;
	for (i = 0; i < now->n; i++) {
		for (j = 0; j < rec->n &&
		     strcmp(rec->names[j], now->names[i]) != 0; j++)
			;
		if (j == rec->n || !stamp_trusted(&rec->st[j], rec->at,
						  &now->st[i]))
			return 0;
	}
	return 1;
}

/* Period q's folder into f: by its stamps when they are trusted, else
 * hashed (with the stamps taken before, when c has a state). */
static void read_folder(struct outdig *c, const char *outdir,
			struct folder *f)
{
	struct stamp_folder rec, *now = &f->stamps;
	char dir[4096];
	struct err e;
	int have = 0, stated;

	folder_dir(outdir, f->period, dir, sizeof(dir));
	if (!c || !c->s) {
		f->rc = report_digest_dir(dir, f->sha);
		return;
	}
	memset(now, 0, sizeof(*now));
	now->period = f->period;
	/* an instant before the stat and the read: a change after it makes
	 * the stamps racy (stamp.h) */
	now->at = stamp_clock();
	stated = stat_folder(dir, now) == 0;
	err_clear(&e);
	if (stated && !c->verify &&
	    stamp_load(c->s, f->period, &rec, &have, &e) == 0 && have &&
	    folder_trusted(&rec, now)) {
		memcpy(f->sha, rec.digest, 32);
		f->rc = 0;
		f->by_stamp = 1;
		return;
	}
	f->rc = report_digest_dir(dir, f->sha);
	if (f->rc == 0 && stated) {
		memcpy(now->digest, f->sha, 32);
		f->fresh = 1;
	}
}

int outdig_folder(struct outdig *c, const char *outdir, int q,
		  unsigned char sha[32])
{
	struct folder *f, one;
	size_t i;

	if (!c) {
		memset(&one, 0, sizeof(one));
		one.period = q;
		read_folder(NULL, outdir, &one);
		memcpy(sha, one.sha, 32);
		return one.rc;
	}
	/* a close checks at most its periods: a short list */
	for (i = 0; i < c->n && c->f[i].period != q; i++)
		;
	if (i == c->n) {
		c->f = xrealloc(c->f, (c->n + 1) * sizeof(*c->f));
		f = &c->f[c->n++];
		memset(f, 0, sizeof(*f));
		f->period = q;
		read_folder(c, c->outdir, f);
	}
	f = &c->f[i];
	memcpy(sha, f->sha, 32);
	return f->rc;
}

/* 1 when the files of f's folder still have the stamps f took. */
static int still(const char *outdir, const struct stamp_folder *f)
{
	struct stamp_folder now;
	char dir[4096];
	size_t i;

	folder_dir(outdir, f->period, dir, sizeof(dir));
	if (stat_folder(dir, &now) || now.n != f->n)
		return 0;
	for (i = 0; i < f->n; i++)
		if (memcmp(&now.st[i], &f->st[i], sizeof(now.st[i])) != 0)
			return 0;
	return 1;
}

int outdig_save(struct outdig *c, struct err *e)
{
	struct stamp_folder *keep;
	size_t i, n = 0;
	int rc;

	if (!c || !c->s || !c->n)
		return 0;
	keep = xcalloc(c->n, sizeof(*keep));
	/* a folder this close rewrote has new stamps (outdig_put_written's)
	 * and fails still(): those stay */
	for (i = 0; i < c->n; i++)
		if (c->f[i].fresh && still(c->outdir, &c->f[i].stamps))
			keep[n++] = c->f[i].stamps;
	rc = stamp_save(c->s, keep, n, e);
	free(keep);
	return rc;
}

void outdig_note(const struct outdig *c)
{
	size_t i, stamped = 0;
	char msg[96];

	if (!c)
		return;
	for (i = 0; i < c->n; i++)
		stamped += (size_t)c->f[i].by_stamp;
	snprintf(msg, sizeof(msg), "output folders: %zu hashed, %zu by their "
		 "stamps", c->n - stamped, stamped);
	fault_note(msg);
}

int outdig_put_written(struct store *s, const char *outdir, const int *q,
		       const unsigned char (*digest)[32], size_t n,
		       int64_t at, struct err *e)
{
	struct stamp_folder *f = xcalloc(n ? n : 1, sizeof(*f));
	size_t i, k = 0;
	char dir[4096];
	int rc;

	for (i = 0; i < n; i++) {
		folder_dir(outdir, q[i], dir, sizeof(dir));
		if (stat_folder(dir, &f[k]))
			continue;
		f[k].period = q[i];
		f[k].at = at;
		memcpy(f[k].digest, digest[i], 32);
		k++;
	}
	rc = stamp_save(s, f, k, e);
	free(f);
	return rc;
}
