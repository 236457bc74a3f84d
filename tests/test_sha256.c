/* Unit tests for sha256. The expected digests are the published ones: the
 * examples of FIPS 180-2 appendix B ("abc", the 448-bit message, one
 * million 'a') and NIST's SHA-256 example values (the empty message, the
 * 896-bit message). Every check runs on both paths: the SHA extensions
 * (where the processor has them) and the portable code. */
#include "sha256.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testhelp.h"
#include "banned.h"

static void hex(const unsigned char d[SHA256_BYTES], char out[65])
{
	static const char digits[] = "0123456789abcdef";
	int i;

	for (i = 0; i < SHA256_BYTES; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[64] = '\0';
}

/* Digest of p[0..n) in one update, as hex. */
static void digest_hex(const void *p, size_t n, char out[65])
{
	struct sha256 c;
	unsigned char d[SHA256_BYTES];

	sha256_init(&c);
	sha256_update(&c, p, n);
	sha256_final(&c, d);
	hex(d, out);
}

static void test_vectors(void)
{
	static const struct {
		const char *msg;
		const char *want;
	} t[] = {
		{ "",
		  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc",
		  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
		  "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	};
	static const char million_a[] =
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
	char got[65];
	size_t i;
	int portable;

	for (portable = 0; portable <= 1; portable++) {
		sha256_force_portable(portable);
		for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
			digest_hex(t[i].msg, strlen(t[i].msg), got);
			TEST_EQ_STR(got, t[i].want);
		}
		/* an empty update with NULL changes nothing */
		digest_hex(NULL, 0, got);
		TEST_EQ_STR(got, t[0].want);
		{
			char *a = malloc(1000000);
			struct sha256 c;
			unsigned char d[SHA256_BYTES];
			size_t off, step;

			memset(a, 'a', 1000000);
			digest_hex(a, 1000000, got);
			TEST_EQ_STR(got, million_a);
			/* again in pieces of 1, 2, 3, ... bytes */
			sha256_init(&c);
			for (off = 0, step = 1; off < 1000000; off += step, step++)
				sha256_update(&c, a + off, step < 1000000 - off ?
					      step : 1000000 - off);
			sha256_final(&c, d);
			hex(d, got);
			TEST_EQ_STR(got, million_a);
			free(a);
		}
	}
	sha256_force_portable(0);
}

static uint64_t next(uint64_t *x)
{
	*x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
	return *x >> 33;
}

/* Digest of p[0..n) fed in random pieces (some empty). */
static void digest_split(const unsigned char *p, size_t n, uint64_t *x,
			 unsigned char d[SHA256_BYTES])
{
	struct sha256 c;
	size_t off = 0;

	sha256_init(&c);
	while (off < n) {
		size_t k = (size_t)(next(x) % 4 ? next(x) % 100 : next(x) % 300);

		if (k > n - off)
			k = n - off;
		sha256_update(&c, p + off, k);
		off += k;
	}
	sha256_final(&c, d);
}

/* Lengths 0..1000 (every padding case, unaligned pointers), whole and in
 * random pieces: both paths give the same digest. */
static void test_differential(void)
{
	unsigned char buf[1000 + 16], ref[SHA256_BYTES], d[SHA256_BYTES];
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	size_t n, i;
	int bad = 0, ni;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)next(&x);
	ni = sha256_force_portable(0);
	if (!ni)
		printf("test_sha256: no SHA extensions here, portable path only\n");
	for (n = 0; n <= 1000; n++) {
		const unsigned char *p = buf + n % 16;
		struct sha256 c;

		sha256_force_portable(1);
		sha256_init(&c);
		sha256_update(&c, p, n);
		sha256_final(&c, ref);
		digest_split(p, n, &x, d);
		bad += memcmp(d, ref, sizeof(d)) != 0;

		sha256_force_portable(0);
		sha256_init(&c);
		sha256_update(&c, p, n);
		sha256_final(&c, d);
		bad += memcmp(d, ref, sizeof(d)) != 0;
		digest_split(p, n, &x, d);
		bad += memcmp(d, ref, sizeof(d)) != 0;
		if (bad) {
			fprintf(stderr, "paths differ at length %zu\n", n);
			break;
		}
	}
	TEST_EQ_INT(bad, 0);
}

int main(void)
{
	test_vectors();
	test_differential();
	return TEST_REPORT();
}
