/* Unit tests for agg (dense-index hash table of fixed-size keys) and
 * strtab (string interning). */
#include "agg.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "testhelp.h"
#include "banned.h"

#define ABSENT ((size_t)-1)

/* A key with padding between its fields, zeroed as agg.h asks. It is
 * filled in place: a struct copied by value need not keep its padding. */
struct key {
	uint32_t tenant;
	uint8_t kind;
	uint64_t period;
};

static void K(struct key *k, uint32_t tenant, uint8_t kind, uint64_t period)
{
	memset(k, 0, sizeof(*k));
	k->tenant = tenant;
	k->kind = kind;
	k->period = period;
}

static void test_agg_basic(void)
{
	struct agg *a = agg_new(sizeof(struct key));
	struct key k0, k1, k2, k3, probe, want;
	int added = -1;

	K(&k0, 1, 0, 100);
	K(&k1, 2, 0, 100);
	K(&k2, 1, 1, 100);
	K(&k3, 1, 0, 101);

	TEST_EQ_INT(agg_count(a), 0);
	/* absent keys in an empty table */
	TEST_TRUE(agg_get(a, &k0) == ABSENT);

	TEST_EQ_INT(agg_put(a, &k0, &added), 0);
	TEST_EQ_INT(added, 1);
	added = -1;
	TEST_EQ_INT(agg_put(a, &k1, &added), 1);
	TEST_EQ_INT(added, 1);
	added = -1;
	TEST_EQ_INT(agg_put(a, &k0, &added), 0);
	TEST_EQ_INT(added, 0);
	TEST_EQ_INT(agg_put(a, &k2, NULL), 2);
	TEST_EQ_INT(agg_put(a, &k2, NULL), 2);
	added = -1;
	TEST_EQ_INT(agg_put(a, &k1, &added), 1);
	TEST_EQ_INT(added, 0);
	TEST_EQ_INT(agg_count(a), 3);

	TEST_EQ_INT(agg_get(a, &k0), 0);
	TEST_EQ_INT(agg_get(a, &k1), 1);
	TEST_EQ_INT(agg_get(a, &k2), 2);
	/* differs from k0 only in the last field */
	TEST_TRUE(agg_get(a, &k3) == ABSENT);
	TEST_EQ_INT(agg_count(a), 3);

	/* agg_key gives the stored bytes, a copy of the caller's key */
	K(&probe, 7, 7, 7);
	added = -1;
	TEST_EQ_INT(agg_put(a, &probe, &added), 3);
	TEST_EQ_INT(added, 1);
	memset(&probe, 0xee, sizeof(probe));
	K(&want, 7, 7, 7);
	TEST_TRUE(memcmp(agg_key(a, 3), &want, sizeof(want)) == 0);
	TEST_TRUE(memcmp(agg_key(a, 0), &k0, sizeof(k0)) == 0);
	TEST_TRUE(memcmp(agg_key(a, 1), &k1, sizeof(k1)) == 0);
	TEST_TRUE(memcmp(agg_key(a, 2), &k2, sizeof(k2)) == 0);
	TEST_EQ_INT(agg_count(a), 4);
	agg_free(a);
	agg_free(NULL);
}

/* Keys that differ only in one byte, and a 1-byte key size. */
static void test_agg_bytes(void)
{
	struct agg *a = agg_new(1);
	unsigned char c;
	int i, bad = 0;

	for (i = 255; i >= 0; i--) {
		int added = -1;

		c = (unsigned char)i;
		if (agg_put(a, &c, &added) != (size_t)(255 - i) || added != 1)
			bad++;
	}
	TEST_EQ_INT(bad, 0);
	TEST_EQ_INT(agg_count(a), 256);
	c = 0;
	TEST_EQ_INT(agg_get(a, &c), 255);
	c = 255;
	TEST_EQ_INT(agg_get(a, &c), 0);
	TEST_EQ_INT(*(const unsigned char *)agg_key(a, 10), 245);
	agg_free(a);
}

/* 100000 keys: many rehashes; every key keeps its first-seen index. */
static void test_agg_many(void)
{
	enum { N = 100000 };
	struct agg *a = agg_new(sizeof(struct key));
	size_t i;
	int bad_put = 0, bad_added = 0, bad_get = 0, bad_key = 0,
	    bad_absent = 0, bad_again = 0;

	for (i = 0; i < N; i++) {
		/* spread so that neighbours differ in several fields */
		struct key k;
		int added = -1;

		K(&k, (uint32_t)(i * 2654435761u), (uint8_t)(i % 3), i / 3);
		if (agg_put(a, &k, &added) != i)
			bad_put++;
		if (added != 1)
			bad_added++;
	}
	TEST_EQ_INT(agg_count(a), N);
	for (i = 0; i < N; i++) {
		struct key k, other;
		int added = -1;

		K(&k, (uint32_t)(i * 2654435761u), (uint8_t)(i % 3), i / 3);
		K(&other, (uint32_t)(i * 2654435761u), (uint8_t)(i % 3 + 3),
		  i / 3);

		if (agg_get(a, &k) != i)
			bad_get++;
		if (memcmp(agg_key(a, i), &k, sizeof(k)) != 0)
			bad_key++;
		if (agg_get(a, &other) != ABSENT)
			bad_absent++;
		if (agg_put(a, &k, &added) != i || added != 0)
			bad_again++;
	}
	TEST_EQ_INT(bad_put, 0);
	TEST_EQ_INT(bad_added, 0);
	TEST_EQ_INT(bad_get, 0);
	TEST_EQ_INT(bad_key, 0);
	TEST_EQ_INT(bad_absent, 0);
	TEST_EQ_INT(bad_again, 0);
	TEST_EQ_INT(agg_count(a), N);
	agg_free(a);
}

static void test_strtab(void)
{
	struct strtab *t = strtab_new();
	const char buf[] = "abcdef";
	uint32_t abc, ab, anb, anc, a, empty;

	TEST_EQ_INT(strtab_count(t), 0);
	abc = strtab_put(t, "abc", 3);
	ab = strtab_put(t, "ab", 2);
	anb = strtab_put(t, "a\0b", 3);
	anc = strtab_put(t, "a\0c", 3);
	a = strtab_put(t, "a", 1);
	empty = strtab_put(t, "", 0);
	/* dense ids in first-seen order */
	TEST_EQ_INT(abc, 0);
	TEST_EQ_INT(ab, 1);
	TEST_EQ_INT(anb, 2);
	TEST_EQ_INT(anc, 3);
	TEST_EQ_INT(a, 4);
	TEST_EQ_INT(empty, 5);
	TEST_EQ_INT(strtab_count(t), 6);

	/* the same bytes again, from other buffers */
	TEST_EQ_INT(strtab_put(t, buf, 3), abc);
	TEST_EQ_INT(strtab_put(t, buf, 2), ab);
	TEST_EQ_INT(strtab_put(t, buf, 1), a);
	TEST_EQ_INT(strtab_put(t, buf + 6, 0), empty);
	TEST_EQ_INT(strtab_put(t, "a\0bx", 3), anb);
	TEST_EQ_INT(strtab_put(t, "abc\0", 4), 6); /* a NUL more: new */
	TEST_EQ_INT(strtab_count(t), 7);

	TEST_EQ_STR(strtab_str(t, abc), "abc");
	TEST_EQ_INT(strtab_len(t, abc), 3);
	TEST_EQ_STR(strtab_str(t, ab), "ab");
	TEST_EQ_INT(strtab_len(t, ab), 2);
	TEST_EQ_STR(strtab_str(t, empty), "");
	TEST_EQ_INT(strtab_len(t, empty), 0);
	TEST_EQ_INT(strtab_len(t, anb), 3);
	TEST_TRUE(memcmp(strtab_str(t, anb), "a\0b", 4) == 0);
	TEST_TRUE(memcmp(strtab_str(t, anc), "a\0c", 4) == 0);
	TEST_EQ_INT(strtab_len(t, 6), 4);
	TEST_TRUE(memcmp(strtab_str(t, 6), "abc\0", 5) == 0);
	/* a copy: not the caller's buffer */
	TEST_TRUE(strtab_str(t, abc) != buf);
	strtab_free(t);
	strtab_free(NULL);
}

static void test_strtab_many(void)
{
	enum { N = 50000 };
	struct strtab *t = strtab_new();
	char s[32];
	size_t i;
	int bad_put = 0, bad_again = 0, bad_str = 0;

	for (i = 0; i < N; i++) {
		int n = snprintf(s, sizeof(s), "tenant-%zu", i);

		if (strtab_put(t, s, (size_t)n) != i)
			bad_put++;
	}
	TEST_EQ_INT(strtab_count(t), N);
	for (i = 0; i < N; i++) {
		int n = snprintf(s, sizeof(s), "tenant-%zu", i);

		if (strtab_put(t, s, (size_t)n) != i)
			bad_again++;
		if (strtab_len(t, (uint32_t)i) != (size_t)n ||
		    strcmp(strtab_str(t, (uint32_t)i), s) != 0)
			bad_str++;
	}
	TEST_EQ_INT(bad_put, 0);
	TEST_EQ_INT(bad_again, 0);
	TEST_EQ_INT(bad_str, 0);
	TEST_EQ_INT(strtab_count(t), N);
	strtab_free(t);
}

/* agg.h: a text stays where strtab_put copied it while more follow. The
 * texts go into blocks of 4 KiB doubling to 1 MiB, a longer one alone in
 * its own, so these cross every case: 3 000 texts of 100 bytes (with
 * the NUL and a 12-byte header, 64-bit, ~339 kB: blocks of 4, ..., 128 KiB
 * fill up to less than one text's room and a 256 KiB one takes the
 * rest), then one of 2 MiB (longer than any block: a block of its own),
 * then a 0-byte one (the NUL alone). Every pointer taken when
 * its text was added must still be that text, with the length put, at
 * the end; each text is its index in decimal padded with 'x' to its
 * length, so no two are equal and ids are 0, 1, 2, ... in order. */
static void test_strtab_blocks(void)
{
	enum { N = 3000, LEN = 100, BIG = 2 << 20 };
	struct strtab *t = strtab_new();
	const char *ptr[N + 2];
	char s[LEN + 1], *big = xmalloc(BIG);
	size_t i;
	int bad_id = 0, bad_ptr = 0;

	for (i = 0; i < N; i++) {
		memset(s, 'x', LEN);
		s[snprintf(s, sizeof(s), "%zu", i)] = 'x';
		if (strtab_put(t, s, LEN) != i)
			bad_id++;
		ptr[i] = strtab_str(t, (uint32_t)i);
	}
	memset(big, 'b', BIG);
	TEST_EQ_INT(strtab_put(t, big, BIG), N);
	ptr[N] = strtab_str(t, N);
	TEST_EQ_INT(strtab_put(t, "", 0), N + 1);
	ptr[N + 1] = strtab_str(t, N + 1);
	/* the empty text again is the same id, not a second copy */
	TEST_EQ_INT(strtab_put(t, "x", 0), N + 1);
	TEST_EQ_INT(strtab_count(t), N + 2);
	for (i = 0; i < N; i++) {
		memset(s, 'x', LEN);
		s[snprintf(s, sizeof(s), "%zu", i)] = 'x';
		s[LEN] = '\0';
		if (ptr[i] != strtab_str(t, (uint32_t)i) ||
		    strtab_len(t, (uint32_t)i) != LEN || strcmp(ptr[i], s) != 0)
			bad_ptr++;
		if (strtab_get(t, s, LEN) != (long)i)
			bad_id++;
	}
	TEST_EQ_INT(bad_id, 0);
	TEST_EQ_INT(bad_ptr, 0);
	TEST_TRUE(ptr[N] == strtab_str(t, N));
	TEST_EQ_INT(strtab_len(t, N), BIG);
	TEST_TRUE(memcmp(ptr[N], big, BIG) == 0 && ptr[N][BIG] == '\0');
	TEST_EQ_STR(ptr[N + 1], "");
	/* a text that differs only in its last byte is absent */
	big[BIG - 1] = 'c';
	TEST_EQ_INT(strtab_get(t, big, BIG), -1);
	TEST_EQ_INT(strtab_get(t, big, BIG - 1), -1);
	free(big);
	strtab_free(t);
}

/* agg.h documents agg_hash as the 64-bit FNV-1a of the bytes; these are
 * the published FNV-1a test vectors (offset basis for "", and the values
 * for "a" and "foobar" from the FNV reference test suite). */
static void test_hash(void)
{
	TEST_TRUE(agg_hash("", 0) == 0xcbf29ce484222325ULL);
	TEST_TRUE(agg_hash("a", 1) == 0xaf63dc4c8601ec8cULL);
	TEST_TRUE(agg_hash("foobar", 6) == 0x85944171f73967e8ULL);
	/* a function of the bytes only */
	TEST_TRUE(agg_hash("abcdef", 3) == agg_hash("abc", 3));
}

/* agg_hash64 keys the records the state keeps (batch.h), so its values
 * must never change: this is the function as written when states were
 * first made (8 bytes at a time through murmur3's finalizer, then the
 * last n < 8 bytes copied into a zeroed word), restated plainly; every
 * length 0..64 at every alignment and a few seeds must agree with it. */
static uint64_t ref_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t ref_hash64(const unsigned char *s, size_t n, uint64_t seed)
{
	uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL), w;
	size_t i;

	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ ref_mix64(w)) * 0x9e3779b97f4a7c15ULL;
		h = (h << 29) | (h >> 35);
	}
	w = 0;
	for (i = 0; i < n; i++)
		((unsigned char *)&w)[i] = s[i];
	h ^= ref_mix64(w ^ n);
	return ref_mix64(h);
}

static void test_hash64_stable(void)
{
	static const uint64_t seeds[] = { 0, 0x5e771e, 0x61676721,
					  0xffffffffffffffffULL };
	unsigned char buf[80];
	size_t n, a, k, bad = 0;

	for (k = 0; k < sizeof(buf); k++)
		buf[k] = (unsigned char)(k * 37 + 11);
	for (k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++)
		for (a = 0; a < 8; a++)
			for (n = 0; n <= 64; n++)
				bad += agg_hash64(buf + a, n, seeds[k]) !=
				       ref_hash64(buf + a, n, seeds[k]);
	TEST_EQ_INT(bad, 0);
	/* a function of the n bytes only, not of those after them */
	memcpy(buf, "abcdefghijk", 11);
	TEST_TRUE(agg_hash64(buf, 3, 7) == agg_hash64("abc", 3, 7));
	TEST_TRUE(agg_hash64(buf, 11, 7) == agg_hash64("abcdefghijk", 11, 7));
}

int main(void)
{
	test_agg_basic();
	test_agg_bytes();
	test_agg_many();
	test_strtab();
	test_strtab_many();
	test_strtab_blocks();
	test_hash();
	test_hash64_stable();
	return TEST_REPORT();
}
