/* agg: hash tables for aggregation and string interning.
 *
 * An agg maps fixed-size binary keys to dense indexes 0, 1, 2, ... in the
 * order keys were first added, so the caller keeps its aggregates in a
 * plain array indexed the same way. A strtab does the same for strings.
 * Both use open addressing with linear probing and grow by doubling; a
 * slot holds the key's hash (an agg's a 32-bit tag of it) beside where
 * the key is, so a probe rarely reads a key that is not the one looked
 * for. */
#ifndef AGG_H
#define AGG_H

#include <stddef.h>
#include <stdint.h>

struct agg;

/* A table of keys of keysize bytes (compare with memcmp: zero padding). */
struct agg *agg_new(size_t keysize);
void agg_free(struct agg *a);

/* The index of key, adding it when new (*added set to 1 then, else 0;
 * added may be NULL). */
size_t agg_put(struct agg *a, const void *key, int *added);

/* The index of key, or (size_t)-1 when absent. */
size_t agg_get(const struct agg *a, const void *key);

/* The key of index i. */
const void *agg_key(const struct agg *a, size_t i);

size_t agg_count(const struct agg *a);

struct strtab;

struct strtab *strtab_new(void);
void strtab_free(struct strtab *t);

/* The id of the string p[0..n), adding a copy when new. The copy (with
 * a NUL after it) stays where it is until strtab_free: strtab_str's
 * pointers are valid while the table lives, however many strings follow. */
uint32_t strtab_put(struct strtab *t, const char *p, size_t n);

/* The id of the string p[0..n), or -1 when it was never added. */
long strtab_get(const struct strtab *t, const char *p, size_t n);

/* The NUL-terminated string of id, and its length. */
const char *strtab_str(const struct strtab *t, uint32_t id);
size_t strtab_len(const struct strtab *t, uint32_t id);

size_t strtab_count(const struct strtab *t);

/* 64-bit FNV-1a of bytes. */
uint64_t agg_hash(const void *p, size_t n);

/* A faster 64-bit hash of bytes, 8 at a time, chained through seed (pass
 * one call's result as the next one's seed to hash several pieces). Good
 * spread; not for adversaries. */
uint64_t agg_hash64(const void *p, size_t n, uint64_t seed);

#endif
