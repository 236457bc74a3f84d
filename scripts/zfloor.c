/* zfloor: the "zlib floor" baseline for settle's ingest.
 *
 *   zfloor [--isal] FILE...
 *
 * Inflates every file (gzip, multi-member read whole; a file without the
 * gzip magic is read as plain text) and counts its lines, doing nothing
 * else, then prints
 *   files=N bytes_in=N bytes_out=N lines=N
 * An ingest cannot be faster than this on one core.  A line is a '\n'
 * byte, plus a last line without one.  A bad or truncated gzip file is an
 * error (exit 1, after the other files).
 *
 * --isal: inflate with ISA-L's igzip instead (the "ISA-L floor"; built
 * only where the Makefile found libisal-dev, i.e. with SETTLE_ISAL; else
 * --isal is an error, exit 2). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#ifdef SETTLE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#define IN_SIZE (512u * 1024)
#define OUT_SIZE (1024u * 1024)

struct totals {
	unsigned long long files, bytes_in, bytes_out, lines;
};

static unsigned long long count_nl(const unsigned char *p, size_t n)
{
	unsigned long long c = 0;
	const unsigned char *end = p + n;
	while (p < end) {
		const unsigned char *q = memchr(p, '\n', (size_t)(end - p));
		if (!q)
			break;
		c++;
		p = q + 1;
	}
	return c;
}

static void count_out(const unsigned char *out, size_t got,
		      unsigned long long *lines, int *last,
		      unsigned long long *bout)
{
	if (!got)
		return;
	*lines += count_nl(out, got);
	*last = out[got - 1];
	*bout += got;
}

#ifdef SETTLE_ISAL
/* igzip over the gzip file fp whose first n bytes are in `in`: member
 * after member. Returns 0, or -1 (message printed). */
static int isal_file(const char *path, FILE *fp, unsigned char *in,
		     size_t n, unsigned char *out, unsigned long long *bin,
		     unsigned long long *lines, int *last,
		     unsigned long long *bout)
{
	static struct inflate_state st;
	int in_member = 0, out_full = 0;

	isal_inflate_init(&st);
	st.next_in = in;
	st.avail_in = (uint32_t)n;
	for (;;) {
		if (st.avail_in == 0 && !out_full) {
			n = fread(in, 1, IN_SIZE, fp);
			*bin += n;
			if (n == 0)
				break;
			st.next_in = in;
			st.avail_in = (uint32_t)n;
		}
		if (!in_member) {
			/* another gzip member follows */
			isal_inflate_reset(&st);
			st.crc_flag = ISAL_GZIP;
			in_member = 1;
		}
		st.next_out = out;
		st.avail_out = OUT_SIZE;
		int r = isal_inflate(&st);
		size_t got = OUT_SIZE - st.avail_out;
		out_full = st.avail_out == 0;
		count_out(out, got, lines, last, bout);
		if (r != ISAL_DECOMP_OK) {
			fprintf(stderr, "zfloor: %s: bad gzip data (igzip %d)\n",
				path, r);
			return -1;
		}
		if (st.block_state == ISAL_BLOCK_FINISH) {
			in_member = 0;
			out_full = 0;
		}
	}
	if (in_member) {
		fprintf(stderr, "zfloor: %s: truncated gzip file\n", path);
		return -1;
	}
	return 0;
}
#endif

static int use_isal;

/* Returns 0 on success, -1 (message printed) on error. */
static int one_file(const char *path, unsigned char *in, unsigned char *out,
		    struct totals *t)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		fprintf(stderr, "zfloor: %s: %s\n", path, strerror(errno));
		return -1;
	}
	unsigned long long bin = 0, bout = 0, lines = 0;
	int last = '\n', rc = 0;
	size_t n = fread(in, 1, IN_SIZE, fp);
	bin += n;
	int gz = n >= 2 && in[0] == 0x1f && in[1] == 0x8b;

	if (!gz) {
		while (n > 0) {
			lines += count_nl(in, n);
			last = in[n - 1];
			bout += n;
			n = fread(in, 1, IN_SIZE, fp);
			bin += n;
		}
#ifdef SETTLE_ISAL
	} else if (use_isal) {
		rc = isal_file(path, fp, in, n, out, &bin, &lines, &last,
			       &bout);
#endif
	} else {
		z_stream zs;
		memset(&zs, 0, sizeof zs);
		if (inflateInit2(&zs, 15 + 16) != Z_OK) {
			fprintf(stderr, "zfloor: %s: inflateInit2 failed\n",
				path);
			fclose(fp);
			return -1;
		}
		zs.next_in = in;
		zs.avail_in = (uInt)n;
		int in_member = 1, out_full = 0;
		for (;;) {
			/* a full output buffer may hide pending output: call
			 * inflate again before asking for more input */
			if (zs.avail_in == 0 && !out_full) {
				n = fread(in, 1, IN_SIZE, fp);
				bin += n;
				if (n == 0)
					break;
				zs.next_in = in;
				zs.avail_in = (uInt)n;
			}
			if (!in_member) {
				/* another gzip member follows */
				inflateReset(&zs);
				in_member = 1;
			}
			zs.next_out = out;
			zs.avail_out = OUT_SIZE;
			int zr = inflate(&zs, Z_NO_FLUSH);
			size_t got = OUT_SIZE - zs.avail_out;
			out_full = zs.avail_out == 0;
			if (got) {
				lines += count_nl(out, got);
				last = out[got - 1];
				bout += got;
			}
			if (zr == Z_STREAM_END) {
				in_member = 0; /* all of its output is out */
				out_full = 0;
			} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
				fprintf(stderr, "zfloor: %s: bad gzip data: %s\n",
					path, zs.msg ? zs.msg : "error");
				rc = -1;
				break;
			}
		}
		if (rc == 0 && in_member) {
			fprintf(stderr, "zfloor: %s: truncated gzip file\n",
				path);
			rc = -1;
		}
		inflateEnd(&zs);
	}
	if (ferror(fp)) {
		fprintf(stderr, "zfloor: %s: read error\n", path);
		rc = -1;
	}
	fclose(fp);
	if (bout && last != '\n')
		lines++;
	t->files++;
	t->bytes_in += bin;
	t->bytes_out += bout;
	t->lines += lines;
	return rc;
}

int main(int argc, char **argv)
{
	int first = 1;

	if (argc > 1 && strcmp(argv[1], "--isal") == 0) {
#ifndef SETTLE_ISAL
		fputs("zfloor: built without ISA-L (libisal-dev)\n", stderr);
		return 2;
#endif
		use_isal = 1;
		first = 2;
	}
	if (argc <= first) {
		fputs("usage: zfloor [--isal] FILE...\n", stderr);
		return 2;
	}
	unsigned char *in = malloc(IN_SIZE), *out = malloc(OUT_SIZE);
	if (!in || !out) {
		fputs("zfloor: out of memory\n", stderr);
		return 1;
	}
	struct totals t = {0, 0, 0, 0};
	int status = 0;
	for (int i = first; i < argc; i++)
		if (one_file(argv[i], in, out, &t) != 0)
			status = 1;
	printf("files=%llu bytes_in=%llu bytes_out=%llu lines=%llu\n",
	       t.files, t.bytes_in, t.bytes_out, t.lines);
	free(in);
	free(out);
	return status;
}
