/* cli_int: internal to the cli module (cli.c and cli_status.c); nothing
 * else includes it. The cli is the only module that prints or picks exit
 * codes; `settle status` lives in its own file for its size. */
#ifndef CLI_INT_H
#define CLI_INT_H

#include "engine.h"
#include "err.h"
#include "store.h"

/* The engine's options from the environment: SETTLE_RATE_THREADS
 * decoding threads (default the cores, at most ENGINE_MAX_THREADS, at
 * least 1; a number strtol cannot read counts as 0, so 1), and
 * SETTLE_FORCE_WALK=1 to walk every record. */
void cli_engine_opts(struct engine_opts *o);

/* settle status on s (opened STORE_READ): prints the state's final
 * periods (with `stale`), every file and the count of unplaced rejects,
 * as text or (json) one JSON object. config: NULL, or a config folder to
 * decide staleness by a dry-run close of the latest final period.
 * Returns the exit code: ST_PARTIAL when a file is failed or unfinished
 * or a period is stale, ST_OK, or an error's code (message printed). */
int cli_status(struct store *s, const char *db, const char *config,
	       int json);

#endif
