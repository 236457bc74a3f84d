/* settle: batch billing settlement. See README.md. */
#include "cli.h"

#include <signal.h>

#include "banned.h"

int main(int argc, char **argv)
{
	/* Past a file-size limit (RLIMIT_FSIZE, a full quota) a write must
	 * fail with EFBIG and go through the error path that keeps the state
	 * whole, not kill the process with SIGXFSZ. */
	signal(SIGXFSZ, SIG_IGN);
	return cli_main(argc, argv);
}
