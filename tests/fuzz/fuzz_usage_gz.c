/* Fuzz target: the usage reader over gzip. The input is CSV text; the
 * target compresses it (one or two members, the split point and the
 * level taken from the input) and reads the result.
 *
 * Properties: as fuzz_usage.c (the fast path gives what libcsv alone
 * gives, at both read sizes), and reading the gzip gives exactly what
 * reading the text as a plain file gives (unless the text itself starts
 * with the gzip magic); then once more with the default limits (ratio
 * 1000:1), which must not crash. */
#include <zlib.h>

#include "usagecheck.h"
#include "banned.h"

static struct uread plain, gz, gz_small, ref;
static struct fbuf g;

static void member(const uint8_t *in, size_t n, int level)
{
	unsigned char tmp[1 << 14];
	z_stream z;
	int zr;

	memset(&z, 0, sizeof(z));
	CHECK(deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8,
			   Z_DEFAULT_STRATEGY) == Z_OK);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	do {
		z.next_out = tmp;
		z.avail_out = sizeof(tmp);
		zr = deflate(&z, Z_FINISH);
		fbuf_add(&g, tmp, sizeof(tmp) - z.avail_out);
	} while (zr == Z_OK);
	CHECK(zr == Z_STREAM_END);
	deflateEnd(&z);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	uc_env();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned h = size ? data[0] ^ data[size - 1] ^ (unsigned)size : 0;
	size_t cut = size && (h & 1) ? (h * 7919u) % (size + 1) : size;
	int level = (int)(h >> 1) % 10;

	fbuf_reset(&g);
	member(data, cut, level);
	if (cut < size)
		member(data + cut, size - cut, level);
	uc_read(g.p, g.n, 0, 1, &gz);
	uc_read(g.p, g.n, 0, 0, &ref);
	uc_identical(&gz, &ref);
	uc_read(g.p, g.n, 1 + h % 61, 1, &gz_small);
	uc_read(g.p, g.n, 1 + h % 61, 0, &ref);
	uc_identical(&gz_small, &ref);
	uc_same(&gz, &gz_small);
	if (!(size >= 2 && data[0] == 0x1f && data[1] == 0x8b)) {
		uc_read(data, size, 0, 1, &plain);
		uc_same(&plain, &gz);
	}
	unsetenv(USAGE_ENV_MAX_RATIO);
	unsetenv(USAGE_ENV_MAX_BYTES);
	uc_read(g.p, g.n, 0, 1, &gz_small);
	uc_env();
	return 0;
}
