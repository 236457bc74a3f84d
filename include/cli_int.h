/* cli_int: internal to the cli module (cli.c, cli_ingest.c, cli_status.c
 * and cli_common.c); nothing else includes it. The cli is the only module
 * that prints or picks exit codes; `settle status` and the ingest's
 * printing live in files of their own for their size, and what they share
 * with cli.c (cli_report_err, cli_engine_opts) in cli_common.c, so cli.c
 * calls them and they call nothing of cli.c. */
#ifndef CLI_INT_H
#define CLI_INT_H

#include "engine.h"
#include "err.h"
#include "store.h"

/* The engine's options from the environment: SETTLE_RATE_THREADS
 * decoding threads (default the cores, at most ENGINE_MAX_THREADS, at
 * least 1; a number strtol cannot read counts as 0, so 1),
 * SETTLE_FORCE_WALK=1 to walk every record, and SETTLE_FULL_REPLAY=1 to
 * settle every earlier final period again (the oracle of resume.c). */
void cli_engine_opts(struct engine_opts *o);  /* cli_common.c */

/* settle status on s (opened STORE_READ): prints the state's final
 * periods (with `stale`), every file and the count of unplaced rejects,
 * as text or (json) one JSON object. config: NULL, or a config folder to
 * decide staleness by a dry-run close of the latest final period.
 * Returns the exit code: ST_PARTIAL when a file is failed or unfinished
 * or a period is stale, ST_OK, or an error's code (message printed). */
int cli_status(struct store *s, const char *db, const char *config,
	       int json);

/* Prints "settle: " and e's message (or its code's text) to stderr;
 * returns e's code, ST_ERROR when it has none. */
int cli_report_err(const struct err *e);  /* cli_common.c */

struct usage_opts;

/* settle ingest of files[0..nfiles) into s (cli_ingest.c): reads up to
 * jobs files at once, commits every checkpoint_bytes of raw input, reads
 * as usage says; prints one line per file, and on stderr every failed,
 * unreadable or duplicate file and, per file it read, its rejects by
 * reason. Returns ST_OK, ST_PARTIAL (a file failed or could not be
 * read) or an error's code (message printed). */
int cli_ingest(struct store *s, char **files, int nfiles, int jobs,
	       uint64_t checkpoint_bytes, const struct usage_opts *usage);

#endif
