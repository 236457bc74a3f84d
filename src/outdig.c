/* outdig: each output folder a close checks, hashed once. */
#include "outdig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "report.h"
#include "ts.h"
#include "banned.h"

struct folder {
	int period;
	int rc;                  /* report_digest_dir's */
	unsigned char sha[32];   /* rc 0 */
};

struct outdig {
	char *outdir;
	struct folder *f;
	size_t n;
};

struct outdig *outdig_new(const char *outdir)
{
	struct outdig *c = xcalloc(1, sizeof(*c));

	c->outdir = xstrdup(outdir);
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

static int read_folder(const char *outdir, int q, unsigned char sha[32])
{
	char dir[4096], ym[16];

	ts_period_format(q, 1, ym);
	snprintf(dir, sizeof(dir), "%s/%s", outdir, ym);
	return report_digest_dir(dir, sha);
}

int outdig_folder(struct outdig *c, const char *outdir, int q,
		  unsigned char sha[32])
{
	struct folder *f;
	size_t i;

	if (!c)
		return read_folder(outdir, q, sha);
	/* a close checks at most its periods: a short list */
	for (i = 0; i < c->n && c->f[i].period != q; i++)
		;
	if (i == c->n) {
		c->f = xrealloc(c->f, (c->n + 1) * sizeof(*c->f));
		f = &c->f[c->n++];
		memset(f, 0, sizeof(*f));
		f->period = q;
		f->rc = read_folder(c->outdir, q, f->sha);
	}
	f = &c->f[i];
	memcpy(sha, f->sha, 32);
	return f->rc;
}
