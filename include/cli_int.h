/* cli_int: internal to the cli module (cli.c and cli_status.c); nothing
 * else includes it. The cli is the only module that prints or picks exit
 * codes; `settle status` lives in its own file for its size. */
#ifndef CLI_INT_H
#define CLI_INT_H

#include "err.h"
#include "store.h"

/* settle status on s (opened STORE_READ): prints the state's final
 * periods (with `stale`), every file and the count of unplaced rejects,
 * as text or (json) one JSON object. config: NULL, or a config folder to
 * decide staleness by a dry-run close of the latest final period.
 * Returns the exit code: ST_PARTIAL when a file is failed or unfinished
 * or a period is stale, ST_OK, or an error's code (message printed). */
int cli_status(struct store *s, const char *db, const char *config,
	       int json);

#endif
