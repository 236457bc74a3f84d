/* settle: batch billing settlement. See README.md. */
#include "cli.h"

#include <signal.h>
#include <stdio.h>

#include "banned.h"

int main(int argc, char **argv)
{
	/* Past a file-size limit (RLIMIT_FSIZE, a full quota) a write must
	 * fail with EFBIG and go through the error path that keeps the state
	 * whole, not kill the process with SIGXFSZ. */
	signal(SIGXFSZ, SIG_IGN);
	/* stdout is a log file or a pipe under cron: each line settle says
	 * of committed work (a file ingested, a period closed) is written
	 * when said, so an interrupt (whose handler exits without flushing
	 * stdio, progress.h) or a kill leaves it in the log. The lines are
	 * few (one per file and per period), so this costs nothing. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	return cli_main(argc, argv);
}
