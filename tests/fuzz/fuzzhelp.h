/* fuzzhelp.h: what the libFuzzer targets of tests/fuzz/ share.
 *
 * A target breaks a property with CHECK(cond), which prints the condition
 * and aborts, so that libFuzzer saves the input as a crash. Targets are
 * built with clang -fsanitize=fuzzer,address,undefined (`make fuzz`). */
#ifndef FUZZHELP_H
#define FUZZHELP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, \
			__LINE__, #cond); \
		abort(); \
	} \
} while (0)

/* A growing byte buffer. */
struct fbuf {
	char *p;
	size_t n, cap;
};

static inline void fbuf_add(struct fbuf *b, const void *s, size_t n)
{
	xgrow((void **)&b->p, &b->cap, b->n + n + 1, 1);
	if (n)
		memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static inline void fbuf_str(struct fbuf *b, const char *s)
{
	fbuf_add(b, s, strlen(s));
}

static inline void fbuf_reset(struct fbuf *b)
{
	b->n = 0;
	if (b->p)
		b->p[0] = '\0';
}

static inline int fbuf_eq(const struct fbuf *a, const struct fbuf *b)
{
	return a->n == b->n && (a->n == 0 || memcmp(a->p, b->p, a->n) == 0);
}

/* A NUL-terminated copy of data[0..n) (owned by the caller). */
static inline char *fuzz_cstr(const uint8_t *data, size_t n)
{
	char *s = xmalloc(n + 1);

	if (n)
		memcpy(s, data, n);
	s[n] = '\0';
	return s;
}

#endif
