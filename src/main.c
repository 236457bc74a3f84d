/* settle: batch billing settlement. See README.md. */
#include "cli.h"
#include "banned.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
