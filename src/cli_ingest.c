/* cli_ingest: `settle ingest` (and the ingest of `run`): one line per
 * file on stdout, failures, duplicates and each file's rejects on
 * stderr, and the progress line on a terminal. Part of the cli module
 * (cli_int.h). */
#include "cli_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "mem.h"
#include "progress.h"
#include "record.h"
#include "usage.h"
#include "banned.h"

static const char *outcome_word(enum ingest_outcome o)
{
	switch (o) {
	case ING_NEW: return "new";
	case ING_REPLACED: return "replaced";
	case ING_UNCHANGED: return "unchanged";
	case ING_DUPLICATE: return "duplicate";
	case ING_FAILED: return "failed";
	case ING_UNREADABLE: return "unreadable";
	}
	return "?";
}

/* The rejects of the files one ingest read, per reason. */
struct reject_count {
	uint64_t by[REJ_COUNT];
	uint64_t first_line;      /* 0: none seen */
};

struct reject_counts {
	const struct ingest_file *f;
	size_t n, last;           /* last: the file of the previous reject */
	struct reject_count *c;
};

static int on_reject_row(void *ctx, const char *path, uint64_t line,
			 const char *record_id, const char *tenant,
			 const char *reason, const int64_t *ts)
{
	struct reject_counts *rc = ctx;
	size_t i = rc->last;
	int k;

	(void)record_id;
	(void)tenant;
	(void)ts;
	/* rows come in path order: the file of the last row, else search */
	if (i >= rc->n || strcmp(rc->f[i].path, path) != 0)
		for (i = 0; i < rc->n; i++)
			if (strcmp(rc->f[i].path, path) == 0)
				break;
	if (i == rc->n)
		return 0;
	rc->last = i;
	for (k = 0; k < REJ_COUNT; k++)
		if (strcmp(usage_reject_name((enum reject_reason)k), reason) == 0)
			break;
	if (k == REJ_COUNT)
		return 0;
	rc->c[i].by[k]++;
	if (!rc->c[i].first_line || line < rc->c[i].first_line)
		rc->c[i].first_line = line;
	return 0;
}

/* Counts the rejects of the files this ingest read (new or replaced),
 * from the state, so a resumed file counts those before its checkpoint
 * too. Returns 0 (out->c allocated), or -1 after a warning: the ingest
 * is committed, and only the summary is lost. */
static int count_rejects(struct store *s, const struct ingest_file *f,
			 size_t n, struct reject_counts *out)
{
	struct err e;
	size_t i;
	int any = 0;

	memset(out, 0, sizeof(*out));
	out->f = f;
	out->n = n;
	out->c = xcalloc(n ? n : 1, sizeof(*out->c));
	for (i = 0; i < n; i++)
		any |= f[i].rejected > 0 && (f[i].outcome == ING_NEW ||
					     f[i].outcome == ING_REPLACED);
	err_clear(&e);
	if (any && store_rejects(s, on_reject_row, out, &e)) {
		fprintf(stderr, "settle: warning: cannot count the rejects: "
			"%s\n", ERR_SHOW(e.msg));
		free(out->c);
		return -1;
	}
	return 0;
}

/* "settle: warning: 'a.csv': 3 records rejected (2 bad_ts, 1
 * bad_quantity; the first at line 4); ..." for a file this ingest read,
 * so that a cron mail shows it. */
static void warn_rejects(const struct ingest_file *f,
			 const struct reject_count *c)
{
	int k, first = 1;

	if (!f->rejected || (f->outcome != ING_NEW &&
			     f->outcome != ING_REPLACED))
		return;
	fprintf(stderr, "settle: warning: '%s': %llu record%s rejected (",
		ERR_SHOW(f->path), (unsigned long long)f->rejected,
		f->rejected == 1 ? "" : "s");
	for (k = 0; k < REJ_COUNT; k++) {
		if (!c->by[k])
			continue;
		fprintf(stderr, "%s%llu %s", first ? "" : ", ",
			(unsigned long long)c->by[k],
			usage_reject_name((enum reject_reason)k));
		first = 0;
	}
	if (c->first_line)
		fprintf(stderr, "%sthe first is record %llu", first ? "" : "; ",
			(unsigned long long)c->first_line);
	fputs("); rejects.csv of a draft or close lists them\n", stderr);
}

int cli_ingest(struct store *s, char **files, int nfiles, int jobs,
	       uint64_t checkpoint_bytes, const struct usage_opts *usage)
{
	struct ingest_file *f = xcalloc((size_t)nfiles, sizeof(*f));
	struct ingest_opts io;
	struct progress pr;
	struct reject_counts rej;
	struct err e;
	int i, rc, rc_count = -1, failed = 0;

	memset(&io, 0, sizeof(io));
	io.jobs = jobs;
	io.checkpoint_bytes = checkpoint_bytes;
	io.usage = usage;
	if (progress_start(&pr)) {
		io.progress = progress_show;
		io.progress_ctx = &pr;
	}
	for (i = 0; i < nfiles; i++)
		f[i].path = files[i];
	err_clear(&e);
	rc = ingest_run(s, f, (size_t)nfiles, &io, &e);
	progress_end();
	if (rc == 0)
		rc_count = count_rejects(s, f, (size_t)nfiles, &rej);
	for (i = 0; i < nfiles; i++) {
		switch (f[i].outcome) {
		case ING_FAILED:
		case ING_UNREADABLE:
			failed = 1;
			fprintf(stderr, "settle: %s: %s\n",
				f[i].outcome == ING_FAILED ? "file failed" :
				"cannot read file", ERR_SHOW(f[i].msg));
			break;
		case ING_DUPLICATE:
			fprintf(stderr, "settle: warning: '%s' has the same "
				"content as '%s': skipped\n",
				ERR_SHOW(f[i].path), ERR_SHOW(f[i].dup_of));
			break;
		default:
			break;
		}
		if (rc_count == 0)
			warn_rejects(&f[i], &rej.c[i]);
		if (rc == 0 && f[i].outcome != ING_UNREADABLE)
			printf("%-10s %s: %llu record%s, %llu rejected%s\n",
			       outcome_word(f[i].outcome), ERR_SHOW(f[i].path),
			       (unsigned long long)f[i].records,
			       f[i].records == 1 ? "" : "s",
			       (unsigned long long)f[i].rejected,
			       f[i].resumed_from ? " (resumed)" : "");
		free(f[i].dup_of);
	}
	free(f);
	if (rc_count == 0)
		free(rej.c);
	if (rc)
		return cli_report_err(&e);
	return failed ? ST_PARTIAL : ST_OK;
}

