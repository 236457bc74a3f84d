/* help: the commands, their options and their help texts (help.h). */
#include "help.h"

#include <string.h>

#include "suggest.h"
#include "banned.h"

/* One option: its bit, its spelling with its argument, and one line on
 * what it does. The order is the order of every help text. */
static const struct {
	unsigned bit;
	const char *name, *arg, *what;
} options[] = {
	{ HOPT_DB, "--db", "FILE",
	  "the state file (default ./settle.db)" },
	{ HOPT_CONFIG, "--config", "DIR",
	  "the config folder (settings.conf and the CSV files)" },
	{ HOPT_PERIOD, "--period", "YYYY-MM", "the month" },
	{ HOPT_OUT, "--out", "DIR",
	  "where the month's folder OUT/YYYY-MM/ is written" },
	{ HOPT_JOBS, "-j", "N",
	  "read up to N files at once (default: number of cores)" },
	{ HOPT_CHECKPOINT, "--checkpoint-mib", "N",
	  "input between two checkpoints of one file (default 64)" },
	{ HOPT_JSON, "--json", NULL, "print one JSON object instead of text" },
	{ HOPT_DRY_RUN, "--dry-run", NULL,
	  "show what the close would do; write nothing" },
	{ HOPT_ALLOW_FAILED, "--allow-failed", NULL,
	  "close without the failed or unfinished files (exit 3)" },
	{ HOPT_EARLY, "--early", NULL,
	  "close before the month ends, or with no usage in it" },
	{ HOPT_OPEN_EARLIER, "--allow-open-earlier", NULL,
	  "close while an earlier month with usage is open" },
	{ HOPT_FORCE, "--force", NULL,
	  "replace output files this state did not write" },
	{ HOPT_VERIFY, "--verify", NULL,
	  "read every earlier month's files, even unchanged ones" },
	{ HOPT_FORMAT, "--format", "LIST",
	  "documents to write: json, html, ubl, comma-separated (default all)" },
};

#define CLOSE_FLAGS (HOPT_DRY_RUN | HOPT_ALLOW_FAILED | HOPT_EARLY | \
		     HOPT_OPEN_EARLIER | HOPT_FORCE | HOPT_VERIFY)
#define CFG (HOPT_CONFIG | HOPT_PERIOD | HOPT_OUT)

/* One command: its name, options, synopsis (its arguments, one line
 * each, without the name),
 * what it does, and an example. */
static const struct command {
	const char *name;
	unsigned opts;
	const char *synopsis, *summary, *what, *example;
} commands[] = {
	{ "ingest", HOPT_DB | HOPT_JOBS | HOPT_CHECKPOINT,
	  "[--db FILE] [-j N] [--checkpoint-mib N] FILE...\n",
	  "add or replace usage files in the state",
	  "Reads usage files (CSV, plain or gzip) into the state file, which it\n"
	  "creates when missing. Prints one line per file: new, replaced,\n"
	  "unchanged, duplicate or failed. A file interrupted half-way resumes\n"
	  "from its last checkpoint when ingested again.\n",
	  "settle ingest --db /var/lib/settle/settle.db logs/2026-10-*.csv.gz" },
	{ "forget", HOPT_DB,
	  "[--db FILE] FILE...\n",
	  "withdraw usage files and their records",
	  "Withdraws registered files, their records and their rejects. An\n"
	  "unknown path is a warning, not an error.\n",
	  "settle forget logs/2026-10-03.csv.gz" },
	{ "invoice", HOPT_DB | CFG,
	  "[--db FILE] --config DIR --period YYYY-MM --out DIR\n",
	  "write a month's draft invoices",
	  "Writes the month's drafts to OUT/YYYY-MM/draft/. Changes no state.\n",
	  "settle invoice --config cfg --period 2026-10 --out out" },
	{ "close", HOPT_DB | CFG | CLOSE_FLAGS,
	  "[--db FILE] --config DIR --period YYYY-MM --out DIR\n"
	  "[--dry-run] [--allow-failed] [--early]\n"
	  "[--allow-open-earlier] [--force] [--verify]\n",
	  "make a month final",
	  "Makes the month final in OUT/YYYY-MM/: numbers its invoices, writes\n"
	  "its adjustments and arrears, and first re-settles every earlier\n"
	  "final month whose data changed. It refuses (exit 1, nothing changed)\n"
	  "while a file is failed or unfinished, before the month has ended,\n"
	  "when no file holds usage of the month, over files it did not write,\n"
	  "and when an earlier month with usage is not final; each refusal\n"
	  "names the flag that overrides it.\n",
	  "settle close --dry-run --config cfg --period 2026-10 --out out\n"
	  "  settle close --config cfg --period 2026-10 --out out" },
	{ "run", HOPT_DB | CFG | HOPT_JOBS | HOPT_CHECKPOINT | CLOSE_FLAGS,
	  "[--db FILE] --config DIR --period YYYY-MM --out DIR\n"
	  "[-j N] [--checkpoint-mib N] [close's flags] FILE...\n",
	  "ingest, then close",
	  "Ingests the files, then closes the month. When the close is refused\n"
	  "the ingest stays committed and run exits 1.\n",
	  "settle run --config cfg --period 2026-10 --out out logs/*.csv.gz" },
	{ "status", HOPT_DB | HOPT_CONFIG | HOPT_JSON,
	  "[--db FILE] [--config DIR] [--json]\n",
	  "what is final, what is registered, what needs attention",
	  "Lists final months (version, invoices, adjustments, stale), every\n"
	  "registered file and the rejects with no month. It only reads, and\n"
	  "runs beside an ingest or a close. With --config it also finds months\n"
	  "that config changes would rewrite. Exit 3 when something needs\n"
	  "attention (a failed or unfinished file, a stale month).\n",
	  "settle status --config cfg" },
	{ "export", HOPT_DB | HOPT_PERIOD | HOPT_OUT | HOPT_FORMAT,
	  "[--db FILE] --period YYYY-MM --out DIR [--format json,html,ubl]\n",
	  "write a final month's invoice documents",
	  "Writes OUT/YYYY-MM/documents/: documents.jsonl (one JSON object per\n"
	  "invoice and adjustment, for ERPs and payment systems), one printable\n"
	  "HTML page per document, and one UBL 2.1 e-invoice (EN 16931, Peppol\n"
	  "BIS 3) per invoice and non-zero adjustment, exactly as the close that\n"
	  "last settled the month recorded them. It only reads the state and\n"
	  "takes no config. Exit 1 when the month is not final; exit 3 when a\n"
	  "UBL file was withheld (the missing setting is named).\n",
	  "settle export --period 2026-10 --out out --format html,ubl" },
	{ "help", 0,
	  "[COMMAND]\n",
	  "this help, or a command's options and an example",
	  "Prints the list of commands, or one command's options and an\n"
	  "example (as settle COMMAND --help does).\n",
	  "settle help close" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))
#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static const struct command *find(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

unsigned help_options(const char *command)
{
	const struct command *c = find(command);

	return c ? c->opts : 0;
}

int help_is_command(const char *name)
{
	return find(name) != NULL;
}

const char *help_option_name(unsigned opt)
{
	size_t i;

	for (i = 0; i < NOPTIONS; i++)
		if (options[i].bit == opt)
			return options[i].name;
	return "?";
}

const char *help_nearest_command(const char *word)
{
	const char *names[NCOMMANDS];
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		names[i] = commands[i].name;
	return suggest_nearest(word, names, NCOMMANDS);
}

/* The synopsis lines of c: lead, the name padded to width, its
 * arguments; continuation lines indented under the first argument. */
static void synopsis(FILE *f, const struct command *c, const char *lead,
		     int width)
{
	const char *p = c->synopsis, *nl;
	int indent = (int)strlen(lead) + width;

	while (*p && (nl = strchr(p, '\n'))) {
		if (p == c->synopsis)
			fprintf(f, "%s%-*s%.*s\n", lead, width, c->name,
				(int)(nl - p), p);
		else
			fprintf(f, "%*s%.*s\n", indent, "", (int)(nl - p), p);
		p = nl + 1;
	}
}

static const char exit_codes[] =
	"Exit codes:\n"
	"  0        done\n"
	"  1        error (nothing of the failing step committed)\n"
	"  2        bad command line\n"
	"  3        done, but some input files failed (status: something\n"
	"           needs attention; export: a UBL file was withheld;\n"
	"           close: final, but a month's files not in place)\n"
	"  4        the state file is in use by another run\n"
	"  130, 143 interrupted (SIGINT, SIGTERM): the same command resumes\n";

void help_general(FILE *f)
{
	size_t i;

	fputs("usage: settle COMMAND [OPTIONS]\n\n"
	      "settle rates metered usage logs into invoices: ingest the logs\n"
	      "into a state file, draft a month with invoice, make it final with\n"
	      "close (run does both), send its documents with export.\n\n"
	      "Commands:\n", f);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fputs("\n", f);
	for (i = 0; i < NCOMMANDS; i++)
		synopsis(f, &commands[i], "  settle ", 8);
	fputs("\n'settle help COMMAND' or 'settle COMMAND --help' shows a "
	      "command's options\nand an example. --db defaults to "
	      "./settle.db; --version prints the version.\n\n", f);
	fputs(exit_codes, f);
}

int help_command(FILE *f, const char *command)
{
	const struct command *c = find(command);
	size_t i;

	if (!c)
		return -1;
	synopsis(f, c, "usage: settle ", (int)strlen(c->name) + 1);
	fprintf(f, "\n%s", c->what);
	if (c->opts) {
		fputs("\nOptions:\n", f);
		for (i = 0; i < NOPTIONS; i++) {
			char spelled[64];

			if (!(c->opts & options[i].bit))
				continue;
			snprintf(spelled, sizeof(spelled), "%s%s%s",
				 options[i].name, options[i].arg ? " " : "",
				 options[i].arg ? options[i].arg : "");
			fprintf(f, "  %-22s %s\n", spelled, options[i].what);
		}
	}
	fprintf(f, "\nExample:\n  %s\n", c->example);
	return 0;
}

void help_synopsis(FILE *f, const char *command)
{
	const struct command *c = command ? find(command) : NULL;
	size_t i;

	if (c) {
		synopsis(f, c, "usage: settle ", (int)strlen(c->name) + 1);
		fprintf(f, "(settle help %s shows its options)\n", c->name);
		return;
	}
	fputs("usage: settle COMMAND [OPTIONS]\n", f);
	for (i = 0; i < NCOMMANDS; i++)
		synopsis(f, &commands[i], "  settle ", 8);
	fputs("(settle help COMMAND shows a command's options)\n", f);
}
