/* err: status codes and error context.
 *
 * Every module returns an int status (0 = ok) and fills a caller's
 * struct err with a one-line message in git's form: lowercase, what failed
 * first, the subject quoted, e.g.
 *   bad quantity '1.2.3' at usage/a.csv.gz:1042 (column quantity)
 * Only the CLI prints messages or exits. */
#ifndef ERR_H
#define ERR_H

#include <stddef.h>

/* Status codes; the values are the process exit codes of SPEC section 4. */
enum {
	ST_OK = 0,      /* done */
	ST_ERROR = 1,   /* error: nothing of the failing step committed */
	ST_USAGE = 2,   /* bad command line */
	ST_PARTIAL = 3, /* done, but some input files failed */
	ST_BUSY = 4     /* the state file is in use by another run */
};

struct err {
	int code;       /* one of ST_*, 0 when no error was recorded */
	char msg[1024]; /* NUL-terminated message, "" when none */
};

/* Clears e (code 0, empty message). e may be NULL. */
void err_clear(struct err *e);

/* Records code and a printf-style message in e (may be NULL) and returns
 * code, so that `return err_set(e, ST_ERROR, "...")` reads naturally. */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A short fixed description of a status code ("ok", "error", ...). */
const char *err_str(int code);

/* Text fit for a terminal: s (a path, or a message that names paths) with
 * every byte that is not printable escaped, so that a file name holding
 * ESC, TAB, CR or a newline can neither move the cursor nor forge a line:
 * \t \r \n for those, \xHH for other control bytes and DEL, for the
 * C1 controls as UTF-8 (C2 80..C2 9F: \xC2\x9B) and for bytes that are
 * not UTF-8; everything else (printable ASCII, other UTF-8) as it is.
 * Written to buf (cap bytes, NUL-terminated; text that does not fit is
 * cut at a character and ends "..."). Returns buf. Every path the CLI
 * prints goes through it, in messages and in its listings. */
#define ERR_SHOW_MAX 8192
const char *err_show(const char *s, char *buf, size_t cap);

/* err_show into a buffer that lives to the end of the enclosing block. */
#define ERR_SHOW(s) err_show((s), (char[ERR_SHOW_MAX]){ 0 }, ERR_SHOW_MAX)

#endif
