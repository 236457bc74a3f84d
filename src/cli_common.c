/* cli_common: what every command's file of the cli shares (cli_int.h):
 * printing an error, and the engine's options from the environment. */
#include "cli_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"

int cli_report_err(const struct err *e)
{
	fprintf(stderr, "settle: %s\n",
		e->msg[0] ? ERR_SHOW(e->msg) : err_str(e->code));
	return e->code ? e->code : ST_ERROR;
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
	/* the walk's runs (tests: a few records a run) and their file */
	v = getenv("SETTLE_WALK_RUN");
	n = v && *v ? strtol(v, NULL, 10) : 0;
	o->walk_run = n > 0 ? (size_t)n : 0;
	o->tmpdir = getenv("TMPDIR");
	o->have_config = 0;
}
