/* help: what each command is, which options it takes, and the texts of
 * `settle help [COMMAND]` (also `settle COMMAND --help` and `-h`).
 *
 * The one table of commands and options: the cli takes from it which
 * options a command accepts (an option outside a command's set is a bad
 * command line naming it), so the help and the parser cannot disagree.
 * Texts are static; nothing here allocates. Every function takes
 * NUL-terminated strings and never NULL. */
#ifndef HELP_H
#define HELP_H

#include <stdio.h>

/* The options a command may take, one bit each (--help, -h and --version
 * go everywhere and have no bit). */
enum help_opt {
	HOPT_DB = 1u << 0,
	HOPT_CONFIG = 1u << 1,
	HOPT_PERIOD = 1u << 2,
	HOPT_OUT = 1u << 3,
	HOPT_JOBS = 1u << 4,
	HOPT_CHECKPOINT = 1u << 5,
	HOPT_DRY_RUN = 1u << 6,
	HOPT_ALLOW_FAILED = 1u << 7,
	HOPT_EARLY = 1u << 8,
	HOPT_OPEN_EARLIER = 1u << 9,
	HOPT_FORCE = 1u << 10,
	HOPT_JSON = 1u << 11,
	HOPT_FORMAT = 1u << 12,
	HOPT_VERIFY = 1u << 13
};

/* The options command takes (help_opt bits), or 0 for a name that is no
 * command ("help" takes none and is a command: it returns 0 too, so ask
 * help_is_command to tell them apart). */
unsigned help_options(const char *command);

/* 1 when name is a command settle has (help included), else 0. */
int help_is_command(const char *name);

/* The option's spelling on the command line ("--db", "-j"); opt is one
 * bit of enum help_opt. "?" for anything else. */
const char *help_option_name(unsigned opt);

/* The command nearest to a mistyped word (suggest.h), or NULL. The
 * result is a static string. */
const char *help_nearest_command(const char *word);

/* Writes the general help: every command with its synopsis and what it
 * does, the exit codes, and how to get a command's help. */
void help_general(FILE *f);

/* Writes command's help: its synopsis, what it does, each option it
 * takes, and an example. Returns 0, or -1 (nothing written) when command
 * is not a command. */
int help_command(FILE *f, const char *command);

/* Writes command's synopsis lines alone ("usage: settle close ..."), for
 * a bad command line; the general synopsis when command is NULL or not a
 * command. */
void help_synopsis(FILE *f, const char *command);

#endif
