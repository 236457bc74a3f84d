/* cli: argument parsing, messages and exit codes. */
#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "engine.h"
#include "fault.h"
#include "final.h"
#include "err.h"
#include "ingest.h"
#include "ledger.h"
#include "mem.h"
#include "store.h"
#include "usage.h"
#include "ts.h"
#include "version.h"
#include "banned.h"

static const char usage_text[] =
	"usage: settle COMMAND [OPTIONS]\n"
	"\n"
	"  settle ingest  [--db FILE] [-j N] [--checkpoint-mib N] FILE...\n"
	"  settle forget  [--db FILE] FILE...\n"
	"  settle invoice [--db FILE] --config DIR --period YYYY-MM --out DIR\n"
	"  settle close   [--db FILE] --config DIR --period YYYY-MM --out DIR\n"
	"                 [--allow-failed]\n"
	"  settle run     [--db FILE] --config DIR --period YYYY-MM --out DIR\n"
	"                 [-j N] [--checkpoint-mib N] [--allow-failed] FILE...\n"
	"  settle status  [--db FILE]\n"
	"\n"
	"--db defaults to ./settle.db. -j defaults to the number of cores.\n"
	"Exit codes: 0 done; 1 error; 2 bad command line; 3 done, but some\n"
	"input files failed; 4 the state file is in use by another run.\n";

struct opts {
	const char *db;
	const char *config;
	const char *out;
	const char *period_text;
	int period;
	int jobs;
	uint64_t checkpoint_bytes;
	int allow_failed;
	char **files;
	int nfiles;
	struct usage_opts usage;  /* from the environment */
};

static int die_usage(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "settle: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", usage_text);
	return ST_USAGE;
}

static int report_err(const struct err *e)
{
	fprintf(stderr, "settle: %s\n", e->msg[0] ? e->msg : err_str(e->code));
	return e->code ? e->code : ST_ERROR;
}

enum { OPT_DB = 256, OPT_CONFIG, OPT_PERIOD, OPT_OUT, OPT_ALLOW_FAILED,
       OPT_CHECKPOINT, OPT_HELP, OPT_VERSION };

static int parse_uint(const char *s, long max, long *out)
{
	char *end;
	long v;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	v = strtol(s, &end, 10);
	if (*end || v < 1 || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Parses the options of a command. need_cfg: --config, --period and --out
 * are required; files: positional FILE... are expected (min count). */
static int parse(int argc, char **argv, struct opts *o, int need_cfg,
		 int min_files, int *done)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, OPT_DB },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "period", required_argument, NULL, OPT_PERIOD },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "allow-failed", no_argument, NULL, OPT_ALLOW_FAILED },
		{ "checkpoint-mib", required_argument, NULL, OPT_CHECKPOINT },
		{ "jobs", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	long v;
	int c;

	*done = 0;
	o->db = "settle.db";
	o->jobs = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (o->jobs < 1)
		o->jobs = 1;
	o->checkpoint_bytes = 64ull << 20;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "j:", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DB: o->db = optarg; break;
		case OPT_CONFIG: o->config = optarg; break;
		case OPT_PERIOD: o->period_text = optarg; break;
		case OPT_OUT: o->out = optarg; break;
		case OPT_ALLOW_FAILED: o->allow_failed = 1; break;
		case OPT_CHECKPOINT:
			if (parse_uint(optarg, 1L << 20, &v))
				return die_usage("bad --checkpoint-mib '%s'",
						 optarg);
			o->checkpoint_bytes = (uint64_t)v << 20;
			break;
		case 'j':
			if (parse_uint(optarg, 256, &v))
				return die_usage("bad -j '%s' (1 to 256)",
						 optarg);
			o->jobs = (int)v;
			break;
		case OPT_HELP:
			fputs(usage_text, stdout);
			*done = 1;
			return 0;
		case OPT_VERSION:
			puts("settle " SETTLE_VERSION);
			*done = 1;
			return 0;
		default:
			return die_usage("unknown option '%s'",
					 argv[optind - 1]);
		}
	}
	o->files = argv + optind;
	o->nfiles = argc - optind;
	if (!o->db[0])
		return die_usage("empty --db");
	if (need_cfg) {
		if (!o->config)
			return die_usage("missing --config");
		if (!o->out)
			return die_usage("missing --out");
		if (!o->period_text)
			return die_usage("missing --period");
		if (ts_period_parse(o->period_text, &o->period))
			return die_usage("bad --period '%s' (YYYY-MM)",
					 o->period_text);
	}
	if (o->nfiles < min_files)
		return die_usage("no input files");
	if (min_files == 0 && o->nfiles > 0)
		return die_usage("unexpected argument '%s'", o->files[0]);
	return 0;
}

/* Progress on stderr, only when it is a terminal. */
struct progress {
	struct timespec start;
	uint64_t total;
	long last_ms;
};

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)(t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void show_progress(void *ctx, uint64_t bytes, uint64_t records)
{
	struct progress *p = ctx;
	long ms = ms_since(&p->start);
	unsigned long long mbs, rps, eta = 0;

	if (ms - p->last_ms < 200 || ms <= 0)
		return;
	p->last_ms = ms;
	mbs = (unsigned long long)(bytes / 1000 / (uint64_t)ms);
	rps = (unsigned long long)(records * 1000 / (uint64_t)ms);
	if (p->total > bytes && bytes > 0)
		eta = (unsigned long long)((p->total - bytes) * (uint64_t)ms /
					   bytes / 1000);
	fprintf(stderr, "\rsettle: %llu MB read, %llu records, %llu MB/s, "
		"%llu records/s, ETA %llus   ",
		(unsigned long long)(bytes >> 20),
		(unsigned long long)records, mbs, rps, eta);
}

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

/* Ingests o->files; prints one line per file. Returns the exit code. */
static int do_ingest(struct store *s, const struct opts *o)
{
	struct ingest_file *f = xcalloc((size_t)o->nfiles, sizeof(*f));
	struct ingest_opts io;
	struct progress pr;
	struct err e;
	int i, rc, failed = 0;

	memset(&io, 0, sizeof(io));
	memset(&pr, 0, sizeof(pr));
	io.jobs = o->jobs;
	io.checkpoint_bytes = o->checkpoint_bytes;
	io.usage = &o->usage;
	if (isatty(STDERR_FILENO)) {
		clock_gettime(CLOCK_MONOTONIC, &pr.start);
		io.progress = show_progress;
		io.progress_ctx = &pr;
	}
	for (i = 0; i < o->nfiles; i++)
		f[i].path = o->files[i];
	err_clear(&e);
	rc = ingest_run(s, f, (size_t)o->nfiles, &io, &e);
	if (io.progress)
		fputs("\r\033[K", stderr);
	for (i = 0; i < o->nfiles; i++) {
		switch (f[i].outcome) {
		case ING_FAILED:
		case ING_UNREADABLE:
			failed = 1;
			fprintf(stderr, "settle: %s: %s\n",
				f[i].outcome == ING_FAILED ? "file failed" :
				"cannot read file", f[i].msg);
			break;
		case ING_DUPLICATE:
			fprintf(stderr, "settle: warning: '%s' has the same "
				"content as '%s': skipped\n", f[i].path,
				f[i].dup_of);
			break;
		default:
			break;
		}
		if (rc == 0 && f[i].outcome != ING_UNREADABLE)
			printf("%-10s %s: %llu records, %llu rejected%s\n",
			       outcome_word(f[i].outcome), f[i].path,
			       (unsigned long long)f[i].records,
			       (unsigned long long)f[i].rejected,
			       f[i].resumed_from ? " (resumed)" : "");
		free(f[i].dup_of);
	}
	free(f);
	if (rc)
		return report_err(&e);
	return failed ? ST_PARTIAL : ST_OK;
}

/* Each command: the work it does once its options are parsed, the config
 * loaded (when it takes one) and the state file open and locked. */
typedef int (*cmd_fn)(struct store *s, const struct opts *o,
		      const struct catalog *cat);

static int cmd_ingest(struct store *s, const struct opts *o,
		      const struct catalog *cat)
{
	(void)cat;
	return do_ingest(s, o);
}

static int cmd_forget(struct store *s, const struct opts *o,
		      const struct catalog *cat)
{
	struct err e;
	int i;

	(void)cat;
	err_clear(&e);
	if (store_begin(s, &e))
		goto fail;
	for (i = 0; i < o->nfiles; i++) {
		int r = store_file_forget(s, o->files[i], &e);

		if (r < 0)
			goto fail;
		if (r)
			printf("forgot %s\n", o->files[i]);
		else
			fprintf(stderr, "settle: warning: '%s' is not "
				"registered\n", o->files[i]);
	}
	if (store_commit(s, &e))
		goto fail;
	return ST_OK;
fail:
	store_rollback(s);
	return report_err(&e);
}

static int print_file(void *ctx, const struct store_file *f)
{
	(void)ctx;
	switch (f->state) {
	case FILE_OK:
		printf("file %s ok: %llu records, %llu rejected\n", f->path,
		       (unsigned long long)f->records,
		       (unsigned long long)f->rejected);
		break;
	case FILE_FAILED:
		printf("file %s failed: %s\n", f->path, f->error);
		break;
	case FILE_LOADING:
		printf("file %s unfinished: checkpoint after %llu records "
		       "(%llu bytes read)\n", f->path,
		       (unsigned long long)f->ck_records,
		       (unsigned long long)f->ck_raw);
		break;
	}
	return 0;
}

static int print_period(void *ctx, int p, int version, long invoices,
			long adjustments)
{
	char ym[16];

	(void)ctx;
	ts_period_format(p, 1, ym);
	printf("period %s final, version %d: %ld invoices, %ld adjustments\n",
	       ym, version, invoices, adjustments);
	return 0;
}

static int cmd_status(struct store *s, const struct opts *o,
		      const struct catalog *cat)
{
	struct err e;

	(void)cat;
	err_clear(&e);
	printf("state %s (schema %d)\n", o->db, STORE_SCHEMA_VERSION);
	if (final_periods(s, print_period, NULL, &e) ||
	    store_files(s, print_file, NULL, &e))
		return report_err(&e);
	return ST_OK;
}

static void warn_failed(const struct engine *g)
{
	struct eng_counts c;

	engine_counts(g, &c);
	if (c.files_failed)
		fprintf(stderr, "settle: warning: %llu usage files failed and "
			"are not counted\n", (unsigned long long)c.files_failed);
}

/* The engine's options from the environment: SETTLE_RATE_THREADS
 * decoding threads (default the cores, at most ENGINE_MAX_THREADS, at
 * least 1; a number strtol cannot read counts as 0, so 1), and
 * SETTLE_FORCE_WALK=1 to walk every record. */
static void engine_opts_from_env(struct engine_opts *o)
{
	const char *v = getenv("SETTLE_RATE_THREADS");
	const char *force = getenv("SETTLE_FORCE_WALK");
	long n = v && *v ? strtol(v, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);

	o->threads = n < 1 ? 1 : n > ENGINE_MAX_THREADS ? ENGINE_MAX_THREADS :
							(size_t)n;
	o->force_walk = force && strcmp(force, "1") == 0;
}

static int cmd_invoice(struct store *s, const struct opts *o,
		       const struct catalog *cat)
{
	struct engine *g = NULL;
	struct engine_opts eo;
	struct ledger_draft res;
	struct err e;
	char period[16];
	int rc = ST_ERROR;

	err_clear(&e);
	engine_opts_from_env(&eo);
	g = engine_load(s, cat, &eo, &e);
	if (!g || ledger_draft(s, cat, g, o->period, o->out, &res, &e))
		goto out;
	ts_period_format(o->period, 1, period);
	printf("draft %s: %zu invoices written to %s\n", period, res.invoices,
	       res.dir);
	warn_failed(g);
	rc = ST_OK;
out:
	if (rc)
		rc = report_err(&e);
	engine_free(g);
	return rc;
}

/* The first failed file, for the refusal message. */
static int find_failed(void *ctx, const struct store_file *f)
{
	char **name = ctx;

	if (f->state == FILE_FAILED && !*name)
		*name = xstrdup(f->path);
	return 0;
}

static int cmd_close(struct store *s, const struct opts *o,
		     const struct catalog *cat)
{
	struct engine *g = NULL;
	struct engine_opts eo;
	struct ledger_result res;
	struct err e;
	char *failed = NULL, period[16];
	int rc = ST_ERROR;

	err_clear(&e);
	ts_period_format(o->period, 1, period);
	if (store_files(s, find_failed, &failed, &e))
		goto out;
	if (failed && !o->allow_failed) {
		err_set(&e, ST_ERROR, "cannot close %s: usage file '%s' failed "
			"(forget it, ingest a good copy, or use "
			"--allow-failed)", period, failed);
		goto out;
	}
	{
		unsigned char inputs[32];
		int same;

		if (ledger_inputs(s, o->config, inputs, &e) ||
		    ledger_unchanged(s, o->period, inputs, o->out, &same, &e))
			goto out;
		if (same) {
			printf("no changes\n");
			rc = ST_OK;
			goto out;
		}
		fault_phase("config and inputs");
		engine_opts_from_env(&eo);
		g = engine_load(s, cat, &eo, &e);
		if (!g || ledger_close(s, cat, g, o->period, inputs, o->out,
				       &res, &e))
			goto out;
		fault_phase("settle and write");
	}
	if (res.was_final && !res.changed)
		printf("no changes\n");
	else
		printf("final %s: %zu invoices, %zu adjustments, %zu in "
		       "arrears%s\n", period, res.invoices, res.adjustments,
		       res.arrears, res.resettled ? " (earlier periods "
		       "re-settled)" : "");
	warn_failed(g);
	rc = ST_OK;
out:
	if (rc)
		rc = report_err(&e);
	free(failed);
	engine_free(g);
	return rc;
}

static int cmd_run(struct store *s, const struct opts *o,
		   const struct catalog *cat)
{
	int irc = do_ingest(s, o), rc;

	if (irc != ST_OK && irc != ST_PARTIAL)
		return irc;
	rc = cmd_close(s, o, cat);
	return rc == ST_OK ? irc : rc;
}

/* Parses, loads the config (a bad one stops the command before the state
 * file is even created), opens the state, runs fn. */
static int dispatch(int argc, char **argv, int need_cfg, int min_files,
		    cmd_fn fn)
{
	struct opts o;
	struct catalog cat;
	struct store *s;
	struct err e;
	size_t i;
	int done, rc;

	fault_phase(NULL); /* SETTLE_TIMING's clock starts here */
	memset(&o, 0, sizeof(o));
	memset(&cat, 0, sizeof(cat));
	rc = parse(argc, argv, &o, need_cfg, min_files, &done);
	if (rc || done)
		return rc;
	err_clear(&e);
	/* a bad limit in the environment is the command's error, not every
	 * file's */
	if (usage_opts_parse(&o.usage, getenv(USAGE_ENV_MAX_RATIO),
			     getenv(USAGE_ENV_MAX_BYTES), &e) ||
	    (need_cfg && catalog_load(o.config, &cat, &e)))
		return report_err(&e);
	/* config warnings (unknown columns and keys) come first; they never
	 * change the exit code */
	for (i = 0; i < cat.nwarnings; i++)
		fprintf(stderr, "settle: warning: %s\n", cat.warnings[i]);
	s = store_open(o.db, &e);
	if (!s) {
		rc = report_err(&e);
	} else {
		rc = fn(s, &o, &cat);
		store_close(s);
	}
	catalog_release(&cat);
	return rc;
}

int cli_main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int need_cfg, min_files;
		cmd_fn fn;
	} cmds[] = {
		{ "ingest", 0, 1, cmd_ingest },
		{ "forget", 0, 1, cmd_forget },
		{ "status", 0, 0, cmd_status },
		{ "invoice", 1, 0, cmd_invoice },
		{ "close", 1, 0, cmd_close },
		{ "run", 1, 1, cmd_run },
	};
	size_t i;

	if (argc < 2)
		return die_usage("missing command");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage_text, stdout);
		return ST_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		puts("settle " SETTLE_VERSION);
		return ST_OK;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return dispatch(argc - 1, argv + 1, cmds[i].need_cfg,
					cmds[i].min_files, cmds[i].fn);
	return die_usage("unknown command '%s'", argv[1]);
}
