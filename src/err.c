/* err: status codes and error context. */
#include <stdarg.h>
#include <stdio.h>

#include "err.h"
#include "banned.h"

void err_clear(struct err *e)
{
	if (!e)
		return;
	e->code = 0;
	e->msg[0] = '\0';
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

const char *err_str(int code)
{
	switch (code) {
	case ST_OK: return "ok";
	case ST_ERROR: return "error";
	case ST_USAGE: return "bad command line";
	case ST_PARTIAL: return "some input files failed";
	case ST_BUSY: return "state file in use";
	}
	return "unknown status";
}
