/* guard: the refusals of a close. */
#include "guard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "carry.h"
#include "final.h"
#include "mem.h"
#include "out.h"
#include "outdig.h"
#include "report.h"
#include "sha256.h"
#include "ts.h"
#include "banned.h"

/* ---- failed and unfinished files ---- */

struct incomplete {
	struct guard_file *f;
	size_t n;
};

static int add_incomplete(void *ctx, const struct store_file *f)
{
	struct incomplete *in = ctx;
	struct guard_file *g;

	if (f->state == FILE_OK)
		return 0;
	in->f = xrealloc(in->f, (in->n + 1) * sizeof(*in->f));
	g = &in->f[in->n++];
	g->path = xstrdup(f->path);
	g->unfinished = f->state == FILE_LOADING;
	g->why = xstrdup(f->error);
	g->records = f->ck_records;
	return 0;
}

int guard_incomplete(struct store *s, struct guard_file **out, size_t *n,
		     struct err *e)
{
	struct incomplete in = { NULL, 0 };
	int rc = store_files(s, add_incomplete, &in, e);

	*out = in.f;
	*n = in.n;
	return rc ? ST_ERROR : 0;
}

void guard_files_release(struct guard_file *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(f[i].path);
		free(f[i].why);
	}
	free(f);
}

int guard_files(int p, size_t n, const struct guard_opts *o, struct err *e)
{
	char ym[16];

	if (!n || o->allow_failed)
		return 0;
	ts_period_format(p, 1, ym);
	if (n == 1)
		return err_set(e, ST_ERROR, "cannot close %s: 1 usage file is "
			       "not complete (forget it, ingest a good copy, "
			       "or use --allow-failed)", ym);
	return err_set(e, ST_ERROR, "cannot close %s: %zu usage files are not "
		       "complete (forget them, ingest good copies, or use "
		       "--allow-failed)", ym, n);
}

/* ---- accounts with a final invoice ---- */

struct accounts {
	const struct catalog *cat;
	const char *ym;
	struct err *e;
};

static int check_account(void *ctx, const char *tenant, const char *currency,
			 const char *invoice_no)
{
	struct accounts *a = ctx;

	if (catalog_account(a->cat, tenant, strlen(tenant), currency))
		return 0;
	return err_set(a->e, ST_ERROR, "cannot close %s: account '%s' (%s) "
		       "has final invoice %s but is missing from accounts.csv "
		       "(a customer who left keeps its row)", a->ym, tenant,
		       currency, invoice_no);
}

/* ---- the period's end, an empty period ---- */

static int check_time(struct store *s, const struct catalog *cat, int p,
		      const struct guard_opts *o, const char *ym,
		      struct err *e)
{
	int64_t as_of = ts_period_start(p + 1, cat->set.tz), earliest;
	char when[TS_MAX_TEXT];
	int have;

	if (o->early)
		return 0;
	if (as_of > o->now) {
		ts_format(as_of, cat->set.tz, when);
		return err_set(e, ST_ERROR, "cannot close %s: the period has "
			       "not ended (it ends at %s); use --early to close "
			       "it now", ym, when);
	}
	if (store_earliest(s, &earliest, &have, e))
		return ST_ERROR;
	if (!have || ts_period_of(earliest, cat->set.tz) > p)
		return err_set(e, ST_ERROR, "cannot close %s: no usage file "
			       "holds a record of it or of an earlier period "
			       "(check --period; use --early to close an empty "
			       "period anyway)", ym);
	return 0;
}

/* ---- files in OUT/Q/ this state did not write ---- */

/* The files of SPEC 8 in a period's folder; no other name is checked. */
static const char *const period_files[] = {
	"invoices.csv", "invoice_lines.csv", "adjustments.csv",
	"packages.csv", "alerts.csv", "package_usage.csv", "uncovered.csv",
	"arrears.csv", "rejects.csv", "summary.txt"
};

/* A period closed before version 3 has no written rows: its folder is
 * its own when it is exactly what the state's digest says. */
static int legacy_own(const char *dir, const unsigned char *digest)
{
	struct report_files f;
	unsigned char disk[32];

	if (!digest || report_load_final(dir, &f) != 0)
		return 0;
	report_digest(&f, disk);
	report_files_release(&f);
	return memcmp(disk, digest, 32) == 0;
}

struct foreign {
	struct store *s;
	const struct guard_opts *o;
	int p;
	const char *ym;
	struct err *e;
	int p_final;     /* p is a final period */
};

/* 1 when dir/name exists and holds bytes this state never wrote as
 * `name` of period q; 0; -1 on a state error. */
static int is_foreign(struct store *s, int q, const char *dir,
		      const char *name, struct err *e)
{
	char path[4200], *data;
	unsigned char sha[32];
	struct sha256 md;
	struct stat sb;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
		return 0;
	if (out_read_file(path, &data, &len))
		return 1;
	sha256_init(&md);
	sha256_update(&md, data, len);
	sha256_final(&md, sha);
	free(data);
	switch (store_written_has(s, q, name, sha, e)) {
	case 0: return 1;
	case 1: return 0;
	default: return -1;
	}
}

/* One period q (final, or p itself): its files in OUT/Q/. */
static int check_folder(struct foreign *c, int q, const unsigned char *digest)
{
	unsigned char disk[32];
	char dir[4096], ym[16];
	size_t i;
	int any;

	/* the folder is what the close that last changed q rendered: that
	 * close recorded each of its files as written (ledger.c:
	 * record_period stores the digest of the files record_close
	 * records, in one transaction), or, with no written row for q, it
	 * is the legacy_own case. Then no file is foreign, and the digest
	 * is the one resume_skip needs (outdig.h: hashed once) */
	if (digest && outdig_folder(c->o->seen, c->o->outdir, q, disk) == 0 &&
	    memcmp(disk, digest, 32) == 0)
		return 0;
	ts_period_format(q, 1, ym);
	snprintf(dir, sizeof(dir), "%s/%s", c->o->outdir, ym);
	any = store_written_has(c->s, q, NULL, NULL, c->e);
	if (any < 0)
		return ST_ERROR;
	if (!any && legacy_own(dir, digest))
		return 0;
	for (i = 0; i < sizeof(period_files) / sizeof(period_files[0]); i++) {
		int r = is_foreign(c->s, q, dir, period_files[i], c->e);

		if (r < 0)
			return ST_ERROR;
		if (r)
			return err_set(c->e, ST_ERROR, "cannot close %s: "
				       "'%s/%s' was not written by this state "
				       "(another state's month or a hand "
				       "edit); use another --out, or --force "
				       "to replace it", c->ym, dir,
				       period_files[i]);
	}
	return 0;
}

/* Each final period up to p in turn; records whether p is one. */
static int check_final_folder(void *ctx, int q, const unsigned char *digest,
			      const unsigned char *inputs)
{
	struct foreign *c = ctx;

	(void)inputs;
	c->p_final |= q == c->p;
	return check_folder(c, q, digest);
}

static int check_outputs(struct store *s, int p, const struct guard_opts *o,
			 const char *ym, struct err *e)
{
	struct foreign c = { s, o, p, ym, e, 0 };

	if (o->force)
		return 0;
	if (final_closes(s, p, check_final_folder, &c, e))
		return ST_ERROR;
	return c.p_final ? 0 : check_folder(&c, p, NULL);
}

/* Whether o->unchanged proves the account check passes: when no final
 * period is later than p. The latest close M that changed anything
 * closed a period up to p (a close makes its period final), ran this
 * check in full (it was no no-op) and billed only accounts of its config,
 * and no close changed a final invoice since; M recorded its config on a
 * final period up to p (its inputs digest on each period whose outputs
 * changed, resume_period on each it marked), nothing overwrote that, and
 * o->unchanged says that record is this config's. */
int guard_accounts_proved(struct store *s, int p, const struct guard_opts *o,
			  int *yes, struct err *e)
{
	int latest, found;

	*yes = 0;
	if (!o->unchanged)
		return 0;
	if (final_latest(s, &latest, &found, e))
		return ST_ERROR;
	*yes = found && latest <= p;
	return 0;
}

int guard_close(struct store *s, const struct catalog *cat, int p,
		const struct guard_opts *o, struct err *e)
{
	char ym[16];
	struct accounts a;
	int proved;

	ts_period_format(p, 1, ym);
	a.cat = cat;
	a.ym = ym;
	a.e = e;
	if (guard_accounts_proved(s, p, o, &proved, e) ||
	    (!proved && (o->full_replay ?
			 final_accounts(s, check_account, &a, e) :
			 carry_accounts(s, check_account, &a, e))) ||
	    check_time(s, cat, p, o, ym, e) ||
	    (!o->unchanged && check_outputs(s, p, o, ym, e)))
		return ST_ERROR;
	return 0;
}

/* ---- a gap in the closed months ---- */

/* The final periods before p, and whether each period between the first
 * of them and p is final. */
static int finals_before(struct store *s, int p, int **ps, size_t *n,
			 struct err *e)
{
	return final_periods_before(s, p, ps, n, e) ? ST_ERROR : 0;
}

int guard_gap_possible(struct store *s, int p, const struct guard_opts *o,
		       int *yes, struct err *e)
{
	int *ps = NULL;
	size_t n = 0;

	*yes = 0;
	if (o->allow_open_earlier)
		return 0;
	if (finals_before(s, p, &ps, &n, e))
		return ST_ERROR;
	/* n finals in [ps[0], p): a hole when they are fewer than months */
	*yes = n > 0 && (size_t)(p - ps[0]) > n;
	free(ps);
	return 0;
}

int guard_gap(struct store *s, struct engine *g, int p,
	      const struct guard_opts *o, struct err *e)
{
	int *ps = NULL, q, rc = 0;
	size_t n = 0, i = 0;

	if (o->allow_open_earlier || finals_before(s, p, &ps, &n, e))
		return o->allow_open_earlier ? 0 : ST_ERROR;
	for (q = n ? ps[0] : p; q < p && !rc; q++) {
		struct eng_period rp;
		char ym[16], qy[16], fy[16];

		if (i < n && ps[i] == q) {
			i++;
			continue;
		}
		if (engine_period(g, q, &rp, e)) {
			rc = ST_ERROR;
			break;
		}
		if (rp.ninv > 0) {
			ts_period_format(p, 1, ym);
			ts_period_format(q, 1, qy);
			ts_period_format(ps[i - 1], 1, fy);
			rc = err_set(e, ST_ERROR, "cannot close %s: %s has usage "
				     "and is not final while %s is (close %s "
				     "first, or use --allow-open-earlier)", ym,
				     qy, fy, qy);
		}
		engine_period_release(&rp);
	}
	free(ps);
	return rc;
}
