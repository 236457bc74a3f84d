/* cli: argument parsing, messages and exit codes. */
#include "cli.h"
#include "cli_int.h"

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
#include "guard.h"
#include "ingest.h"
#include "ledger.h"
#include "mem.h"
#include "report.h"
#include "resume.h"
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
	"                 [--dry-run] [--allow-failed] [--early]\n"
	"                 [--allow-open-earlier] [--force]\n"
	"  settle run     [--db FILE] --config DIR --period YYYY-MM --out DIR\n"
	"                 [-j N] [--checkpoint-mib N] [close's flags] FILE...\n"
	"  settle status  [--db FILE] [--config DIR] [--json]\n"
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
	int allow_failed, early, allow_open_earlier, force, dry_run, json;
	int64_t now;              /* SETTLE_NOW (tests) or the clock */
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
       OPT_CHECKPOINT, OPT_HELP, OPT_VERSION, OPT_EARLY, OPT_OPEN_EARLIER,
       OPT_FORCE, OPT_DRY_RUN, OPT_JSON };

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

/* The current instant: SETTLE_NOW (RFC 3339) when set, for tests that
 * need a fixed clock (a period "has not ended" until its as_of), else
 * the system clock. 0 or -1 (a bad SETTLE_NOW). */
static int parse_now(struct opts *o)
{
	const char *v = getenv("SETTLE_NOW");
	struct timespec t;

	if (v)
		return ts_parse(v, strlen(v), &o->now);
	clock_gettime(CLOCK_REALTIME, &t);
	o->now = (int64_t)t.tv_sec * TS_NS_PER_SEC + t.tv_nsec;
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
		{ "early", no_argument, NULL, OPT_EARLY },
		{ "allow-open-earlier", no_argument, NULL, OPT_OPEN_EARLIER },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "json", no_argument, NULL, OPT_JSON },
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
		case OPT_EARLY: o->early = 1; break;
		case OPT_OPEN_EARLIER: o->allow_open_earlier = 1; break;
		case OPT_FORCE: o->force = 1; break;
		case OPT_DRY_RUN: o->dry_run = 1; break;
		case OPT_JSON: o->json = 1; break;
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
	if (parse_now(o))
		return die_usage("bad SETTLE_NOW '%s' (RFC 3339, e.g. "
				 "2026-12-01T00:00:00Z)", getenv("SETTLE_NOW"));
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

static int cmd_status(struct store *s, const struct opts *o,
		      const struct catalog *cat)
{
	(void)cat;
	return cli_status(s, o->db, o->config, o->json);
}

static void warn_failed(const struct engine *g)
{
	struct eng_counts c;

	engine_counts(g, &c);
	if (c.files_failed)
		fprintf(stderr, "settle: warning: %llu usage files failed and "
			"are not counted\n", (unsigned long long)c.files_failed);
}

void cli_engine_opts(struct engine_opts *o)
{
	const char *v = getenv("SETTLE_RATE_THREADS");
	const char *force = getenv("SETTLE_FORCE_WALK");
	long n = v && *v ? strtol(v, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);

	o->threads = n < 1 ? 1 : n > ENGINE_MAX_THREADS ? ENGINE_MAX_THREADS :
							(size_t)n;
	o->force_walk = force && strcmp(force, "1") == 0;
	force = getenv("SETTLE_FULL_REPLAY");
	o->full_replay = force && strcmp(force, "1") == 0;
	o->have_config = 0;
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
	cli_engine_opts(&eo);
	g = engine_load(s, cat, &eo, &e);
	if (!g || ledger_draft(s, cat, g, o->period, o->out, &res, &e) ||
	    report_put_unplaced(s, o->out, &e))
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

/* One line per failed or unfinished file, after a refusal or warning. */
static void print_incomplete(const struct guard_file *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (f[i].unfinished)
			fprintf(stderr, "  unfinished: '%s' (interrupted after "
				"%llu records; settle ingest resumes it)\n",
				f[i].path, (unsigned long long)f[i].records);
		else
			fprintf(stderr, "  failed: '%s' (%s)\n", f[i].path,
				f[i].why);
}

/* ", 1 adjustment (CNY -3.00, USD 1.00)" or ", 0 adjustments". */
static void print_adjustments(const struct ledger_period *r)
{
	size_t i;

	printf(", %zu adjustment%s", r->adjustments,
	       r->adjustments == 1 ? "" : "s");
	for (i = 0; i < r->nsums; i++) {
		char amt[64];

		dec_format_fixed(r->sums[i].delta, r->sums[i].minor, amt);
		printf("%s%s %s", i ? ", " : " (", r->sums[i].currency, amt);
	}
	if (r->nsums)
		putchar(')');
}

/* The close's lines: one per period it changed, earlier ones first. */
static void print_close(const struct ledger_result *res, int dry)
{
	size_t i, shown = 0;

	if (dry)
		printf("dry run: nothing was written\n");
	for (i = 0; i < res->nperiods; i++) {
		const struct ledger_period *r = &res->periods[i];
		int last = i + 1 == res->nperiods;
		char ym[16];

		if (!r->changed)
			continue;
		shown++;
		ts_period_format(r->period, 1, ym);
		printf("%s %s: %zu invoice%s (%zu numbered, %zu changed)",
		       last ? "final" : "re-settled", ym, r->invoices,
		       r->invoices == 1 ? "" : "s", r->numbered, r->revised);
		print_adjustments(r);
		if (last)
			printf(", %zu in arrears", r->arrears);
		putchar('\n');
	}
	if (!shown)
		printf("no changes\n");
	if (!shown && res->files_written)
		printf("repaired %zu file%s\n", res->files_written,
		       res->files_written == 1 ? "" : "s");
}

static void guard_opts_of(const struct opts *o, struct guard_opts *go)
{
	memset(go, 0, sizeof(*go));
	go->allow_failed = o->allow_failed;
	go->early = o->early;
	go->allow_open_earlier = o->allow_open_earlier;
	go->force = o->force;
	go->now = o->now;
	go->outdir = o->out;
}

/* The close after its guards: a skip when nothing can change, else
 * rating and settling. */
static int close_work(struct store *s, const struct opts *o,
		      const struct catalog *cat, const struct guard_opts *go,
		      struct err *e)
{
	struct engine *g = NULL;
	struct engine_opts eo;
	struct ledger_result res;
	unsigned char inputs[32];
	int same, gap, rc = ST_ERROR;

	memset(&res, 0, sizeof(res));
	cli_engine_opts(&eo);
	if (ledger_inputs_cfg(s, o->config, inputs, eo.config, e) ||
	    ledger_unchanged(s, o->period, inputs, o->out, &same, e) ||
	    (!same && resume_unchanged(s, o->period, eo.config,
				       eo.full_replay, o->out, &same, e)) ||
	    guard_gap_possible(s, o->period, go, &gap, e))
		goto out;
	if (!same || gap) {
		fault_phase("config and inputs");
		eo.have_config = 1;
		if (!(g = engine_load(s, cat, &eo, e)) ||
		    guard_gap(s, g, o->period, go, e))
			goto out;
	}
	if (same) {
		if (!o->dry_run && ledger_mark(s, cat, o->period, e))
			goto out;
	} else {
		if (ledger_close(s, cat, g, o->period, inputs, o->out,
				 o->dry_run, &res, e))
			goto out;
		fault_phase("settle and write");
	}
	/* the unplaced rejects belong to no period: every close that is
	 * neither refused nor a dry run writes them, from the state alone */
	if (!o->dry_run && report_put_unplaced(s, o->out, e))
		goto out;
	print_close(&res, o->dry_run);
	rc = ST_OK;
out:
	ledger_result_release(&res);
	engine_free(g);
	return rc;
}

static int cmd_close(struct store *s, const struct opts *o,
		     const struct catalog *cat)
{
	struct guard_opts go;
	struct guard_file *inc = NULL;
	size_t ninc = 0;
	struct err e;
	int rc = ST_ERROR;

	err_clear(&e);
	guard_opts_of(o, &go);
	if (guard_incomplete(s, &inc, &ninc, &e))
		goto out;
	if (guard_files(o->period, ninc, &go, &e)) {
		rc = report_err(&e);
		print_incomplete(inc, ninc);
		goto done;
	}
	if (guard_close(s, cat, o->period, &go, &e) ||
	    close_work(s, o, cat, &go, &e))
		goto out;
	rc = ST_OK;
	if (ninc) {
		fprintf(stderr, "settle: warning: %zu usage file%s not "
			"complete; none of %s records count\n", ninc,
			ninc == 1 ? " is" : "s are", ninc == 1 ? "its" :
			"their");
		print_incomplete(inc, ninc);
		/* a dry run exits 0 whatever it would do (SPEC 4) */
		rc = o->dry_run ? ST_OK : ST_PARTIAL;
	}
out:
	if (rc == ST_ERROR)
		rc = report_err(&e);
done:
	guard_files_release(inc, ninc);
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
		    enum store_mode mode, cmd_fn fn)
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
	s = store_open(o.db, mode, &e);
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
		enum store_mode mode;  /* only ingest and run make a state */
		cmd_fn fn;
	} cmds[] = {
		{ "ingest", 0, 1, STORE_CREATE, cmd_ingest },
		{ "forget", 0, 1, STORE_WRITE, cmd_forget },
		{ "status", 0, 0, STORE_READ, cmd_status },
		{ "invoice", 1, 0, STORE_WRITE, cmd_invoice },
		{ "close", 1, 0, STORE_WRITE, cmd_close },
		{ "run", 1, 1, STORE_CREATE, cmd_run },
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
					cmds[i].min_files, cmds[i].mode,
					cmds[i].fn);
	return die_usage("unknown command '%s'", argv[1]);
}
