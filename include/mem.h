/* mem: allocation that never returns NULL, and byte spans.
 *
 * Out of memory is not a condition settle can recover from in a useful
 * way, so it aborts in exactly one place (here) and no caller checks
 * for NULL (git's xmalloc, Redis zmalloc). */
#ifndef MEM_H
#define MEM_H

#include <stddef.h>

/* A view into bytes owned by someone else; not NUL-terminated. */
struct span {
	const char *p;
	size_t n;
};

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Grows *p (of *cap elements of size elem) so that it holds at least
 * need elements; doubles to amortise. */
void xgrow(void **p, size_t *cap, size_t need, size_t elem);

/* 1 if the span equals the NUL-terminated string s. */
int span_eq(struct span a, const char *s);

#endif
