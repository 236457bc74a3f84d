/* cli: the command line (SPEC section 4). The only module that parses
 * arguments and prints to the user; main() returns what cli_main returns,
 * which is the exit code (err.h ST_*). */
#ifndef CLI_H
#define CLI_H

int cli_main(int argc, char **argv);

#endif
