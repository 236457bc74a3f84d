/* sha256: SHA-256 (FIPS 180-4), portable C plus an x86-64 path through
 * the SHA extensions, picked once at run time. */
#include "sha256.h"

#include <stdatomic.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SHA256_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

#include "banned.h"

static const uint32_t K[64] __attribute__((aligned(16))) = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2 };

static uint32_t load_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void store_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

#define ROR(x, n) ((x) >> (n) | (x) << (32 - (n)))
#define CH(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define MAJ(x, y, z) (((x) & (y)) | ((z) & ((x) | (y))))
#define S0(x) (ROR(x, 2) ^ ROR(x, 13) ^ ROR(x, 22))
#define S1(x) (ROR(x, 6) ^ ROR(x, 11) ^ ROR(x, 25))
#define s0(x) (ROR(x, 7) ^ ROR(x, 18) ^ ((x) >> 3))
#define s1(x) (ROR(x, 17) ^ ROR(x, 19) ^ ((x) >> 10))

/* One round; the caller rotates the roles of a..h instead of moving them. */
#define ROUND(a, b, c, d, e, f, g, h, i) do { \
	uint32_t t1_ = h + S1(e) + CH(e, f, g) + K[i] + w[(i) & 15]; \
	d += t1_; \
	h = t1_ + S0(a) + MAJ(a, b, c); \
} while (0)

/* The message schedule in place over 16 words (FIPS 180-4 6.2.2 step 1). */
#define SCHED(i) (w[(i) & 15] += s1(w[((i) - 2) & 15]) + w[((i) - 7) & 15] + \
		  s0(w[((i) - 15) & 15]))

static void blocks_c(uint32_t st[8], const unsigned char *p, size_t n)
{
	uint32_t w[16];
	int i, j;

	for (; n; n--, p += 64) {
		uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
		uint32_t e = st[4], f = st[5], g = st[6], h = st[7];

		for (j = 0; j < 16; j++)
			w[j] = load_be32(p + 4 * j);
		for (i = 0; i < 64; i += 8) {
			if (i >= 16)
				for (j = i; j < i + 8; j++)
					SCHED(j);
			ROUND(a, b, c, d, e, f, g, h, i);
			ROUND(h, a, b, c, d, e, f, g, i + 1);
			ROUND(g, h, a, b, c, d, e, f, i + 2);
			ROUND(f, g, h, a, b, c, d, e, i + 3);
			ROUND(e, f, g, h, a, b, c, d, i + 4);
			ROUND(d, e, f, g, h, a, b, c, i + 5);
			ROUND(c, d, e, f, g, h, a, b, i + 6);
			ROUND(b, c, d, e, f, g, h, a, i + 7);
		}
		st[0] += a; st[1] += b; st[2] += c; st[3] += d;
		st[4] += e; st[5] += f; st[6] += g; st[7] += h;
	}
}

#ifdef SHA256_X86
/* Four rounds g*4 .. g*4+3 with the SHA extensions (Intel's "New
 * Instructions Supporting the Secure Hash Algorithm on Intel Architecture
 * Processors", 2013). m[g % 4] holds the message words of these rounds;
 * while they run, msg1/msg2 compute the words of rounds 16 later. g is a
 * constant in every use, so the conditions fold away. */
#define NI_ROUNDS(g) do { \
	__m128i k_ = _mm_add_epi32(m[(g) & 3], \
				   _mm_load_si128((const __m128i *)&K[4 * (g)])); \
	s1 = _mm_sha256rnds2_epu32(s1, s0, k_); \
	if ((g) >= 3 && (g) <= 14) { \
		__m128i t_ = _mm_alignr_epi8(m[(g) & 3], m[((g) - 1) & 3], 4); \
		m[((g) + 1) & 3] = _mm_add_epi32(m[((g) + 1) & 3], t_); \
		m[((g) + 1) & 3] = _mm_sha256msg2_epu32(m[((g) + 1) & 3], \
							m[(g) & 3]); \
	} \
	k_ = _mm_shuffle_epi32(k_, 0x0e); \
	s0 = _mm_sha256rnds2_epu32(s0, s1, k_); \
	if ((g) >= 1 && (g) <= 12) \
		m[((g) - 1) & 3] = _mm_sha256msg1_epu32(m[((g) - 1) & 3], \
							m[(g) & 3]); \
} while (0)

__attribute__((target("sha,sse4.1")))
static void blocks_ni(uint32_t st[8], const unsigned char *p, size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL,
					     0x0405060700010203LL);
	__m128i s0, s1, t, save0, save1, m[4];

	/* the instructions want the state as ABEF and CDGH */
	t = _mm_loadu_si128((const __m128i *)&st[0]);       /* DCBA */
	s1 = _mm_loadu_si128((const __m128i *)&st[4]);      /* HGFE */
	t = _mm_shuffle_epi32(t, 0xb1);                     /* CDAB */
	s1 = _mm_shuffle_epi32(s1, 0x1b);                   /* EFGH */
	s0 = _mm_alignr_epi8(t, s1, 8);                     /* ABEF */
	s1 = _mm_blend_epi16(s1, t, 0xf0);                  /* CDGH */
	for (; n; n--, p += 64) {
		/* 16 blocks ahead: hashing a large buffer in memory goes from
		 * 1250 to 1700 MB/s on the Xeon VM this was measured on (the
		 * same as from cache), and it costs nothing from cache */
		if (n > 16)
			_mm_prefetch((const char *)p + 1024, _MM_HINT_T0);
		save0 = s0;
		save1 = s1;
		m[0] = _mm_shuffle_epi8(
			_mm_loadu_si128((const __m128i *)(p + 0)), bswap);
		m[1] = _mm_shuffle_epi8(
			_mm_loadu_si128((const __m128i *)(p + 16)), bswap);
		m[2] = _mm_shuffle_epi8(
			_mm_loadu_si128((const __m128i *)(p + 32)), bswap);
		m[3] = _mm_shuffle_epi8(
			_mm_loadu_si128((const __m128i *)(p + 48)), bswap);
		NI_ROUNDS(0); NI_ROUNDS(1); NI_ROUNDS(2); NI_ROUNDS(3);
		NI_ROUNDS(4); NI_ROUNDS(5); NI_ROUNDS(6); NI_ROUNDS(7);
		NI_ROUNDS(8); NI_ROUNDS(9); NI_ROUNDS(10); NI_ROUNDS(11);
		NI_ROUNDS(12); NI_ROUNDS(13); NI_ROUNDS(14); NI_ROUNDS(15);
		s0 = _mm_add_epi32(s0, save0);
		s1 = _mm_add_epi32(s1, save1);
	}
	t = _mm_shuffle_epi32(s0, 0x1b);                    /* FEBA */
	s1 = _mm_shuffle_epi32(s1, 0xb1);                   /* DCHG */
	s0 = _mm_blend_epi16(t, s1, 0xf0);                  /* DCBA */
	s1 = _mm_alignr_epi8(s1, t, 8);                     /* HGFE */
	_mm_storeu_si128((__m128i *)&st[0], s0);
	_mm_storeu_si128((__m128i *)&st[4], s1);
}

/* CPUID rather than __builtin_cpu_supports("sha"): clang 14, which builds
 * the fuzz targets, does not know that feature name. */
static int cpu_has_ni(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) ||
	    !(c & bit_SSE4_1))
		return 0;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return 0;
	return (b & bit_SHA) != 0;
}
#else
static int cpu_has_ni(void)
{
	return 0;
}
#endif

/* 0: not checked yet, 1: no SHA extensions, 2: SHA extensions. Atomic
 * because ingest threads may be the first to ask; they all store the same
 * value. */
static atomic_int have_ni;
static atomic_int forced;

static int use_ni(void)
{
	int v = atomic_load_explicit(&have_ni, memory_order_relaxed);

	if (!v) {
		v = cpu_has_ni() ? 2 : 1;
		atomic_store_explicit(&have_ni, v, memory_order_relaxed);
	}
	return v == 2;
}

int sha256_force_portable(int on)
{
	atomic_store_explicit(&forced, on != 0, memory_order_relaxed);
	return use_ni();
}

static void blocks(struct sha256 *c, const unsigned char *p, size_t n)
{
#ifdef SHA256_X86
	if (c->ni) {
		blocks_ni(c->h, p, n);
		return;
	}
#endif
	blocks_c(c->h, p, n);
}

void sha256_init(struct sha256 *c)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

	memcpy(c->h, iv, sizeof(iv));
	c->len = 0;
	c->ni = !atomic_load_explicit(&forced, memory_order_relaxed) &&
		use_ni();
}

void sha256_update(struct sha256 *c, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t have = (size_t)(c->len & 63);

	if (!n)
		return;
	c->len += n;
	if (have) {
		size_t take = 64 - have < n ? 64 - have : n;

		memcpy(c->buf + have, p, take);
		p += take;
		n -= take;
		if (have + take < 64)
			return;
		blocks(c, c->buf, 1);
	}
	if (n >= 64) {
		blocks(c, p, n / 64);
		p += n & ~(size_t)63;
		n &= 63;
	}
	if (n)
		memcpy(c->buf, p, n);
}

void sha256_final(struct sha256 *c, unsigned char out[SHA256_BYTES])
{
	size_t have = (size_t)(c->len & 63);
	uint64_t bits = c->len << 3;
	int i;

	/* FIPS 180-4 5.1.1: a 1 bit, zeros, the length in bits */
	c->buf[have++] = 0x80;
	if (have > 56) {
		memset(c->buf + have, 0, 64 - have);
		blocks(c, c->buf, 1);
		have = 0;
	}
	memset(c->buf + have, 0, 56 - have);
	store_be32(c->buf + 56, (uint32_t)(bits >> 32));
	store_be32(c->buf + 60, (uint32_t)bits);
	blocks(c, c->buf, 1);
	for (i = 0; i < 8; i++)
		store_be32(out + 4 * i, c->h[i]);
}
