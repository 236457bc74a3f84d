/* err: status codes and error context.
 *
 * Every module returns an int status (0 = ok) and fills a caller's
 * struct err with a one-line message in git's form: lowercase, what failed
 * first, the subject quoted, e.g.
 *   bad quantity '1.2.3' at usage/a.csv.gz:1042 (column quantity)
 * Only the CLI prints messages or exits. */
#ifndef ERR_H
#define ERR_H

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

#endif
