/* ledger_skip: whether a close can change anything at all (ledger.h):
 * the digest of its inputs, the check that every final period up to P
 * was last closed with them and still has its files, and what a close
 * that changes nothing still records (ledger_mark). */
#include "ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "final.h"
#include "mem.h"
#include "outdig.h"
#include "report.h"
#include "sha256.h"
#include "ts.h"
#include "version.h"
#include "banned.h"

/* Marks period q, one of the walk of ledger_mark. */
struct mark {
	struct final *fin;
	const struct catalog *cat;
	int64_t seq;
	struct err *e;
};

static int mark_one(void *ctx, int q, const unsigned char *digest,
		    const unsigned char *inputs)
{
	struct mark *m = ctx;

	(void)digest;
	(void)inputs;
	return final_period_mark(m->fin, q, m->seq, ts_period_start(q + 1,
				 m->cat->set.tz), m->e) ? -1 : 0;
}

int ledger_mark(struct store *s, const struct catalog *cat, int p,
		struct err *e)
{
	struct mark m;
	int rc;

	if (store_begin(s, e))
		return ST_ERROR;
	m.fin = final_new(s);
	m.cat = cat;
	m.e = e;
	rc = store_log_seq(s, &m.seq, e) ||
	     final_closes(s, p, mark_one, &m, e);
	final_free(m.fin);
	if (rc || store_commit(s, e)) {
		store_rollback(s);
		return ST_ERROR;
	}
	return 0;
}

/* Adds one file row to the inputs digest. */
static int hash_file_row(void *ctx, const struct store_file *f)
{
	struct sha256 *md = ctx;
	int st = (int)f->state;

	sha256_update(md, f->path, strlen(f->path) + 1);
	sha256_update(md, f->sha, 32);
	sha256_update(md, &st, sizeof(st));
	return 0;
}

int ledger_inputs(struct store *s, const unsigned char cat[32],
		  unsigned char sha[32], struct err *e)
{
	unsigned char cfg[32];

	return ledger_inputs_cfg(s, cat, sha, cfg, e);
}

/* with its NUL: the bytes every state's inputs digests hold */
static const char version[] = "settle " SETTLE_VERSION;

void ledger_config(const unsigned char cat[32], unsigned char cfg[32])
{
	struct sha256 md;

	sha256_init(&md);
	sha256_update(&md, version, sizeof(version));
	sha256_update(&md, cat, 32);
	sha256_final(&md, cfg);
}

int ledger_inputs_cfg(struct store *s, const unsigned char cat[32],
		      unsigned char sha[32], unsigned char cfg[32],
		      struct err *e)
{
	struct sha256 md;
	int rc;

	sha256_init(&md);
	sha256_update(&md, version, sizeof(version));
	sha256_update(&md, cat, 32);
	rc = store_files(s, hash_file_row, &md, e);
	sha256_final(&md, sha);
	/* the config part alone, with the version: what resume.c compares */
	ledger_config(cat, cfg);
	return rc ? ST_ERROR : 0;
}

struct unchanged {
	int p;
	const unsigned char *inputs;
	const char *outdir;
	struct outdig *seen;
	int have;     /* p itself is final */
	int same;     /* every final period so far: same inputs, same files */
};

/* One final period up to p: closed with these inputs, and its files
 * still what that close wrote? Stops the walk at the first that is not. */
static int check_close(void *ctx, int q, const unsigned char *digest,
		       const unsigned char *inputs)
{
	struct unchanged *u = ctx;
	unsigned char disk[32];

	if (!inputs || memcmp(inputs, u->inputs, 32) != 0 || !digest) {
		u->same = 0;
		return 1;
	}
	u->have |= q == u->p;
	if (outdig_folder(u->seen, u->outdir, q, disk) != 0 ||
	    memcmp(disk, digest, 32) != 0) {
		u->same = 0;
		return 1;
	}
	return 0;
}

int ledger_unchanged(struct store *s, int p, const unsigned char inputs[32],
		     const char *outdir, struct outdig *seen, int *yes,
		     struct err *e)
{
	struct unchanged u;
	int rc;

	*yes = 0;
	memset(&u, 0, sizeof(u));
	u.p = p;
	u.inputs = inputs;
	u.outdir = outdir;
	u.seen = seen;
	u.same = 1;
	rc = final_closes(s, p, check_close, &u, e);
	if (rc && u.same)
		return ST_ERROR;
	*yes = u.have && u.same;
	return 0;
}
