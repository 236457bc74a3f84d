/* err: status codes and error context. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

/* The length of the UTF-8 character at p (n bytes left) that is no C1
 * control, or 0. */
static size_t utf8_ok(const unsigned char *p, size_t n)
{
	size_t k, i;

	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		k = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		k = 3;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		k = 4;
	else
		return 0;
	if (k > n)
		return 0;
	for (i = 1; i < k; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	/* overlong, surrogates, past U+10FFFF, and the C1 controls */
	if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0) ||
	    (p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90) ||
	    (p[0] == 0xC2 && p[1] <= 0x9F))
		return 0;
	return k;
}

const char *err_show(const char *s, char *buf, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0, left = 0, k, i;
	char tmp[8];
	size_t t;

	while (p[left])
		left++;
	while (*p) {
		t = 0;
		k = 1;
		if (*p == '\t' || *p == '\r' || *p == '\n') {
			tmp[t++] = '\\';
			tmp[t++] = *p == '\t' ? 't' : *p == '\r' ? 'r' : 'n';
		} else if (*p < 0x20 || *p == 0x7f ||
			   (*p >= 0x80 && !(k = utf8_ok(p, left)))) {
			k = 1;
			tmp[t++] = '\\';
			tmp[t++] = 'x';
			tmp[t++] = hex[*p >> 4];
			tmp[t++] = hex[*p & 15];
		} else {
			for (i = 0; i < k; i++)
				tmp[t++] = (char)p[i];
		}
		if (n + t + 4 > cap) {
			/* room for "..." and the NUL */
			if (cap >= 4) {
				memcpy(buf + n, "...", 3);
				n += 3;
			}
			break;
		}
		memcpy(buf + n, tmp, t);
		n += t;
		p += k;
		left -= k;
	}
	if (cap)
		buf[n < cap ? n : cap - 1] = '\0';
	return buf;
}
