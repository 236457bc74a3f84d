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
#include "ckpt.h"
#include "engine.h"
#include "fault.h"
#include "final.h"
#include "err.h"
#include "guard.h"
#include "export.h"
#include "help.h"
#include "ledger.h"
#include "mem.h"
#include "outdig.h"
#include "progress.h"
#include "report.h"
#include "resume.h"
#include "store.h"
#include "suggest.h"
#include "usage.h"
#include "ts.h"
#include "version.h"
#include "banned.h"

struct opts {
	const char *cmd;          /* the command's name */
	const char *db;
	const char *config;
	const char *out;
	const char *period_text;
	int period;
	int jobs;
	uint64_t checkpoint_bytes;
	int allow_failed, early, allow_open_earlier, force, dry_run, json;
	int verify;             /* close --verify: hash every folder */
	const char *format;       /* export's --format, NULL for all */
	unsigned formats;         /* EXPORT_* bits of format */
	int64_t now;              /* SETTLE_NOW (tests) or the clock */
	char **files;
	int nfiles;
	struct usage_opts usage;  /* from the environment */
};

static int die_usage(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A bad command line: the message, then the synopsis of cmd (NULL: of
 * every command) so the right form is in view. */
static int die_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "settle: %s\n", ERR_SHOW(msg));
	help_synopsis(stderr, cmd);
	return ST_USAGE;
}

enum { OPT_DB = 256, OPT_CONFIG, OPT_PERIOD, OPT_OUT, OPT_ALLOW_FAILED,
       OPT_CHECKPOINT, OPT_HELP, OPT_VERSION, OPT_EARLY, OPT_OPEN_EARLIER,
       OPT_FORCE, OPT_DRY_RUN, OPT_JSON, OPT_FORMAT, OPT_VERIFY };

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

/* The help_opt bit of a getopt code; 0 for --help, --version and
 * anything unknown. */
static unsigned opt_bit(int c)
{
	switch (c) {
	case OPT_DB: return HOPT_DB;
	case OPT_CONFIG: return HOPT_CONFIG;
	case OPT_PERIOD: return HOPT_PERIOD;
	case OPT_OUT: return HOPT_OUT;
	case OPT_ALLOW_FAILED: return HOPT_ALLOW_FAILED;
	case OPT_EARLY: return HOPT_EARLY;
	case OPT_OPEN_EARLIER: return HOPT_OPEN_EARLIER;
	case OPT_FORCE: return HOPT_FORCE;
	case OPT_DRY_RUN: return HOPT_DRY_RUN;
	case OPT_VERIFY: return HOPT_VERIFY;
	case OPT_JSON: return HOPT_JSON;
	case OPT_FORMAT: return HOPT_FORMAT;
	case OPT_CHECKPOINT: return HOPT_CHECKPOINT;
	case 'j': return HOPT_JOBS;
	default: return 0;
	}
}

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
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "checkpoint-mib", required_argument, NULL, OPT_CHECKPOINT },
	{ "jobs", required_argument, NULL, 'j' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 }
};

/* An option getopt does not know: its name, and the nearest option the
 * command takes when one is close (a typo). */
static int die_unknown_option(const char *cmd, unsigned allowed,
			      const char *arg)
{
	const char *names[sizeof(longopts) / sizeof(longopts[0])];
	char word[64];
	const char *near;
	size_t n = 0, k;

	for (k = 0; longopts[k].name; k++) {
		unsigned bit = opt_bit(longopts[k].val);

		if (bit & allowed && longopts[k].val != 'j')
			names[n++] = longopts[k].name;
	}
	snprintf(word, sizeof(word), "%s", arg + strspn(arg, "-"));
	word[strcspn(word, "=")] = '\0';
	near = arg[0] == '-' && arg[1] == '-' ?
	       suggest_nearest(word, names, n) : NULL;
	if (near)
		return die_usage(cmd, "unknown option '%s' (did you mean "
				 "'--%s'?)", arg, near);
	return die_usage(cmd, "unknown option '%s'", arg);
}

/* Sets one option's value; c is its getopt code. */
static int set_opt(struct opts *o, int c)
{
	long v;

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
	case OPT_VERIFY: o->verify = 1; break;
	case OPT_JSON: o->json = 1; break;
	case OPT_FORMAT: o->format = optarg; break;
	case OPT_CHECKPOINT:
		if (parse_uint(optarg, 1L << 20, &v))
			return die_usage(o->cmd, "bad --checkpoint-mib '%s'",
					 optarg);
		o->checkpoint_bytes = (uint64_t)v << 20;
		break;
	case 'j':
		if (parse_uint(optarg, 256, &v))
			return die_usage(o->cmd, "bad -j '%s' (1 to 256)",
					 optarg);
		o->jobs = (int)v;
		break;
	}
	return 0;
}

/* Checks what the options leave to check: the required ones, the
 * clock, the file arguments. */
/* What a command needs besides its files: nothing; a month with its
 * config and out folder (invoice, close, run); or a month and an out
 * folder but no config (export renders what the close recorded). */
enum needs { NEED_NONE, NEED_MONTH_CONFIG, NEED_MONTH };

static int check_opts(struct opts *o, enum needs need, int min_files)
{
	const char *cmd = o->cmd;

	if (!o->db[0])
		return die_usage(cmd, "empty --db");
	if (need != NEED_NONE) {
		if (need == NEED_MONTH_CONFIG && !o->config)
			return die_usage(cmd, "missing --config");
		if (!o->out)
			return die_usage(cmd, "missing --out");
		if (!o->period_text)
			return die_usage(cmd, "missing --period");
		if (ts_period_parse(o->period_text, &o->period))
			return die_usage(cmd, "bad --period '%s' (YYYY-MM)",
					 o->period_text);
	}
	o->formats = EXPORT_ALL;
	if (o->format && export_formats(o->format, &o->formats))
		return die_usage(cmd, "bad --format '%s' (a list of json, "
				 "html, ubl)", o->format);
	if (parse_now(o))
		return die_usage(cmd, "bad SETTLE_NOW '%s' (RFC 3339, e.g. "
				 "2026-12-01T00:00:00Z)", getenv("SETTLE_NOW"));
	if (o->nfiles < min_files)
		return die_usage(cmd, "no input files");
	if (min_files == 0 && o->nfiles > 0)
		return die_usage(cmd, "unexpected argument '%s'", o->files[0]);
	return 0;
}

/* Parses the options of command o->cmd (argv[0]): only those it takes
 * (help.h). need: which of --config, --period and --out are required; files:
 * positional FILE... are expected (min count). *done: --help or
 * --version was answered. */
static int parse(int argc, char **argv, struct opts *o, enum needs need,
		 int min_files, int *done)
{
	unsigned allowed = help_options(o->cmd), bit;
	int c, rc;

	*done = 0;
	o->db = "settle.db";
	o->jobs = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (o->jobs < 1)
		o->jobs = 1;
	o->checkpoint_bytes = 64ull << 20;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":j:h", longopts, NULL)) != -1) {
		if (c == OPT_HELP || c == 'h') {
			help_command(stdout, o->cmd);
			*done = 1;
			return 0;
		}
		if (c == OPT_VERSION) {
			puts("settle " SETTLE_VERSION);
			*done = 1;
			return 0;
		}
		if (c == ':')
			return die_usage(o->cmd, "option '%s' needs a value",
					 argv[optind - 1]);
		if (!(bit = opt_bit(c)))
			return die_unknown_option(o->cmd, allowed,
						  argv[optind - 1]);
		if (!(bit & allowed)) {
			fprintf(stderr, "settle %s: option '%s' does not apply "
				"to %s (see settle help %s)\n", o->cmd,
				help_option_name(bit), o->cmd, o->cmd);
			return ST_USAGE;
		}
		if ((rc = set_opt(o, c)))
			return rc;
	}
	o->files = argv + optind;
	o->nfiles = argc - optind;
	return check_opts(o, need, min_files);
}

/* Each command: the work it does once its options are parsed, the config
 * loaded (when it takes one) and the state file open and locked. */
typedef int (*cmd_fn)(struct store *s, const struct opts *o,
		      struct catalog *cat);

static int cmd_ingest(struct store *s, const struct opts *o,
		      struct catalog *cat)
{
	(void)cat;
	return cli_ingest(s, o->files, o->nfiles, o->jobs,
			  o->checkpoint_bytes, &o->usage);
}

static int cmd_forget(struct store *s, const struct opts *o,
		      struct catalog *cat)
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
			printf("forgot %s\n", ERR_SHOW(o->files[i]));
		else
			fprintf(stderr, "settle: warning: '%s' is not "
				"registered\n", ERR_SHOW(o->files[i]));
	}
	if (store_commit(s, &e))
		goto fail;
	return ST_OK;
fail:
	store_rollback(s);
	return cli_report_err(&e);
}

static int cmd_status(struct store *s, const struct opts *o,
		      struct catalog *cat)
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

static int cmd_invoice(struct store *s, const struct opts *o,
		       struct catalog *cat)
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
	       ERR_SHOW(res.dir));
	warn_failed(g);
	rc = ST_OK;
out:
	if (rc)
		rc = cli_report_err(&e);
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
				ERR_SHOW(f[i].path),
				(unsigned long long)f[i].records);
		else
			fprintf(stderr, "  failed: '%s' (%s)\n",
				ERR_SHOW(f[i].path), ERR_SHOW(f[i].why));
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

/* The config parsed in full, when only peeked at so far (load_config). */
static int parsed(struct catalog *cat, struct err *e)
{
	return cat->src ? catalog_parse(cat, e) : 0;
}

/* Whether closing o->period can change nothing, from the config's
 * digest and the state alone (ledger_unchanged, then resume_unchanged:
 * every final period up to it was last closed with these inputs and its
 * folder is what that close wrote); fills inputs and eo for the close.
 * Reads only, before the guards, which need not read again what it
 * proved (guard_opts.unchanged). */
static int close_decide(struct store *s, const struct opts *o,
			const struct catalog *cat, struct outdig *seen,
			struct engine_opts *eo, unsigned char inputs[32],
			int *same, struct err *e)
{
	cli_engine_opts(eo);
	return ledger_inputs_cfg(s, cat->digest, inputs, eo->config, e) ||
	       ledger_unchanged(s, o->period, inputs, o->out, seen, same, e) ||
	       (!*same && resume_unchanged(s, o->period, eo->config,
					   eo->full_replay, o->out, seen, same,
					   e));
}

/* e, an error after the close committed period p: ST_PARTIAL, saying
 * that p is final all the same. */
static void after_commit(struct err *e, int p)
{
	char ym[16], why[sizeof(e->msg)];

	ts_period_format(p, 1, ym);
	snprintf(why, sizeof(why), "%s", e->msg);
	err_set(e, ST_PARTIAL, "%s is final in the state, but %s; the next "
		"close writes it", ym, why);
}

/* The close after its guards: a skip when nothing can change (same),
 * else rating and settling. */
static int close_work(struct store *s, const struct opts *o,
		      struct catalog *cat, const struct guard_opts *go,
		      struct engine_opts *eo, const unsigned char inputs[32],
		      int same, struct err *e)
{
	struct engine *g = NULL;
	struct ledger_result res;
	int gap, rc = ST_ERROR;

	memset(&res, 0, sizeof(res));
	/* what a killed close left in OUT goes first (report.h) */
	if (!o->dry_run && report_sweep(o->out, e))
		goto out;
	if (guard_gap_possible(s, o->period, go, &gap, e))
		goto out;
	if (!same || gap) {
		struct eng_start start;
		int bad;

		fault_phase("config and inputs");
		eo->have_config = 1;
		if (parsed(cat, e) || !(g = engine_open(s, cat, eo, e)))
			goto out;
		/* from the end of the last period left as it is (resume.h) */
		bad = resume_plan(s, g, o->period, o->out, go->seen, gap,
				  &start, e) ||
		      engine_rate(g, s, &start, e);
		ckpt_start_release(&start);
		if (bad || guard_gap(s, g, o->period, go, e))
			goto out;
	}
	if (same) {
		if (!o->dry_run && ledger_mark(s, cat, o->period, e))
			goto out;
	} else {
		if (ledger_close(s, cat, g, o->period, inputs, o->out,
				 o->dry_run, &res, e)) {
			/* committed, but files not in place: what the close
			 * did, then the error (exit 3); the unplaced rejects
			 * are written all the same (the close was not
			 * refused), a failure there behind this error */
			if (e->code == ST_PARTIAL) {
				struct err ue;

				print_close(&res, 0);
				err_clear(&ue);
				(void)report_put_unplaced(s, o->out, &ue);
			}
			goto out;
		}
		fault_phase("settle and write");
	}
	/* the unplaced rejects belong to no period: every close that is
	 * neither refused nor a dry run writes them, from the state alone.
	 * The state is committed by now (the close, or ledger_mark), so a
	 * failure here is exit 3, not 1 ("nothing committed") */
	if (!o->dry_run && report_put_unplaced(s, o->out, e)) {
		print_close(&res, 0);
		after_commit(e, o->period);
		goto out;
	}
	print_close(&res, o->dry_run);
	/* the stamps of the folders hashed now, so that the next close need
	 * not read them (a cache: a failure costs only that); only by a close
	 * that changed the state: one that changes nothing, a repair too,
	 * leaves the state as it was (SPEC 7) */
	if (!o->dry_run && res.changed) {
		struct err se;

		err_clear(&se);
		(void)outdig_save(go->seen, &se);
	}
	rc = ST_OK;
out:
	ledger_result_release(&res);
	engine_free(g);
	return rc;
}

static int cmd_close(struct store *s, const struct opts *o,
		     struct catalog *cat)
{
	struct guard_opts go;
	struct guard_file *inc = NULL;
	struct engine_opts eo;
	unsigned char inputs[32];
	size_t ninc = 0;
	struct err e;
	int same = 0, proved, rc = ST_ERROR;

	err_clear(&e);
	fault_point("close-begin");
	guard_opts_of(o, &go);
	/* each output folder hashed once by this close, whichever check asks
	 * first, or taken by its stamps unless --verify (outdig.h) */
	go.seen = outdig_new(o->out, s, o->verify);
	if (guard_incomplete(s, &inc, &ninc, &e))
		goto out;
	if (guard_files(o->period, ninc, &go, &e)) {
		rc = cli_report_err(&e);
		print_incomplete(inc, ninc);
		goto done;
	}
	if (close_decide(s, o, cat, go.seen, &eo, inputs, &same, &e))
		goto out;
	go.unchanged = same;
	go.full_replay = eo.full_replay;
	if (guard_accounts_proved(s, o->period, &go, &proved, &e) ||
	    (!proved && parsed(cat, &e)) ||
	    guard_close(s, cat, o->period, &go, &e) ||
	    close_work(s, o, cat, &go, &eo, inputs, same, &e))
		goto out;
	rc = ST_OK;
	outdig_note(go.seen);
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
		rc = cli_report_err(&e);
done:
	guard_files_release(inc, ninc);
	outdig_free(go.seen);
	return rc;
}

static int cmd_run(struct store *s, const struct opts *o,
		   struct catalog *cat)
{
	int irc = cli_ingest(s, o->files, o->nfiles, o->jobs,
			     o->checkpoint_bytes, &o->usage), rc;

	if (irc != ST_OK && irc != ST_PARTIAL)
		return irc;
	rc = cmd_close(s, o, cat);
	return rc == ST_OK ? irc : rc;
}

/* settle export (SPEC 12; export.h does the work). Exit 3 when a UBL
 * file was withheld, naming each document and what it lacks. */
static int cmd_export(struct store *s, const struct opts *o,
		      struct catalog *cat)
{
	struct export_result res;
	struct err e;
	size_t i;
	int rc;

	(void)cat;
	err_clear(&e);
	if (export_period(s, o->period, o->out, o->formats, &res, &e)) {
		export_result_release(&res);
		return cli_report_err(&e);
	}
	if (res.stale)
		fprintf(stderr, "settle: warning: %s is stale (its usage "
			"files changed since its last close): the documents "
			"show it as last closed\n", o->period_text);
	for (i = 0; i < res.nwithheld; i++)
		fprintf(stderr, "settle: no UBL file for %s\n",
			res.withheld[i]);
	printf("exported %s: %zu invoice%s, %zu adjustment%s: %s%zu HTML, "
	       "%zu UBL in %s\n", o->period_text, res.invoices,
	       res.invoices == 1 ? "" : "s", res.adjustments,
	       res.adjustments == 1 ? "" : "s",
	       res.json ? "documents.jsonl, " : "",
	       res.html, res.ubl, res.dir);
	rc = res.nwithheld ? ST_PARTIAL : ST_OK;
	export_result_release(&res);
	return rc;
}

/* A close (or run) whose config a close of this settle recorded, so that
 * it loads, only peeks at it (the settings, the headers and so the
 * warnings, catalog_peek): cmd_close parses it when the close may change
 * something, and 500 000 accounts are not parsed to find that nothing
 * can. Anything else is parsed here, before the state is opened for the
 * command, as catalog_load does. The state is asked read-only, so
 * nothing happens to it before the config is known to load, and without
 * waiting (STORE_PEEK): a state a run beside holds is parsed in full
 * here, and the open that follows says the state is busy (exit 4) at
 * once instead of after SQLite's busy wait. */
static int load_config(const struct opts *o, int lazy, struct catalog *cat,
		       struct err *e)
{
	struct store *s;
	struct err se;
	unsigned char cfg[32];
	int known = 0;

	if (catalog_read(o->config, cat) == 0 && lazy &&
	    (s = store_open(o->db, STORE_PEEK, &se))) {
		ledger_config(cat->digest, cfg);
		if (resume_config_known(s, cfg, &known, &se))
			known = 0;
		store_close(s);
	}
	return known ? catalog_peek(cat, e) : catalog_parse(cat, e);
}

/* Parses, loads the config (a bad one stops the command before the state
 * file is even created), opens the state, runs fn. */
static int dispatch(int argc, char **argv, enum needs need, int min_files,
		    enum store_mode mode, cmd_fn fn, int lazy)
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
	o.cmd = argv[0];
	rc = parse(argc, argv, &o, need, min_files, &done);
	if (rc || done)
		return rc;
	/* status only reads: stopping it needs no word on resuming */
	if (mode != STORE_READ)
		progress_on_interrupt();
	err_clear(&e);
	/* a bad limit in the environment is the command's error, not every
	 * file's */
	if (usage_opts_parse(&o.usage, getenv(USAGE_ENV_MAX_RATIO),
			     getenv(USAGE_ENV_MAX_BYTES), &e) ||
	    usage_opts_inflate(&o.usage, getenv(USAGE_ENV_INFLATE), &e) ||
	    (need == NEED_MONTH_CONFIG && load_config(&o, lazy, &cat, &e)))
		return cli_report_err(&e);
	/* config warnings (unknown columns and keys) come first; they never
	 * change the exit code */
	for (i = 0; i < cat.nwarnings; i++)
		fprintf(stderr, "settle: warning: %s\n",
			ERR_SHOW(cat.warnings[i]));
	s = store_open(o.db, mode, &e);
	if (!s) {
		rc = cli_report_err(&e);
	} else {
		rc = fn(s, &o, &cat);
		store_close(s);
	}
	catalog_release(&cat);
	return rc;
}

/* An unknown command, with the nearest one when it looks like a typo. */
static int die_unknown_command(const char *word)
{
	const char *near = help_nearest_command(word);

	if (near)
		return die_usage(NULL, "unknown command '%s' (did you mean "
				 "'%s'?)", word, near);
	return die_usage(NULL, "unknown command '%s'", word);
}

/* settle help [COMMAND], settle --help, settle -h. */
static int cmd_help(int argc, char **argv)
{
	if (argc < 2) {
		help_general(stdout);
		return ST_OK;
	}
	if (argc > 2)
		return die_usage(NULL, "unexpected argument '%s'", argv[2]);
	if (!help_is_command(argv[1]))
		return die_unknown_command(argv[1]);
	help_command(stdout, argv[1]);
	return ST_OK;
}

int cli_main(int argc, char **argv)
{
	static const struct {
		const char *name;
		enum needs need;
		int min_files;
		enum store_mode mode;  /* only ingest and run make a state */
		cmd_fn fn;
		int lazy;              /* load_config may only peek */
	} cmds[] = {
		{ "ingest", NEED_NONE, 1, STORE_CREATE, cmd_ingest, 0 },
		{ "forget", NEED_NONE, 1, STORE_WRITE, cmd_forget, 0 },
		{ "status", NEED_NONE, 0, STORE_READ, cmd_status, 0 },
		{ "invoice", NEED_MONTH_CONFIG, 0, STORE_WRITE, cmd_invoice, 0 },
		{ "close", NEED_MONTH_CONFIG, 0, STORE_WRITE, cmd_close, 1 },
		{ "run", NEED_MONTH_CONFIG, 1, STORE_CREATE, cmd_run, 1 },
		{ "export", NEED_MONTH, 0, STORE_READ, cmd_export, 0 },
	};
	size_t i;

	if (argc < 2)
		return die_usage(NULL, "missing command");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return cmd_help(argc - 1, argv + 1);
	if (strcmp(argv[1], "--version") == 0) {
		puts("settle " SETTLE_VERSION);
		return ST_OK;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return dispatch(argc - 1, argv + 1, cmds[i].need,
					cmds[i].min_files, cmds[i].mode,
					cmds[i].fn, cmds[i].lazy);
	return die_unknown_command(argv[1]);
}
