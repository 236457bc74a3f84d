/* Unit tests for report's reading of a final period's folder:
 * report_digest_dir streams what report_load_final + report_digest hold
 * in memory, so both must give the same digest for any folder, and a
 * folder that cannot be read whole must fail (the no-change close then
 * treats it as changed). The expected digest is the one of the other
 * path, and, derived by hand from report_digest's definition (name with
 * its NUL, the length as a uint64_t in memory, the bytes; by name), of a
 * SHA-256 over the bytes built here. */
#include "report.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "sha256.h"
#include "testhelp.h"
#include "banned.h"

/* by name (strcmp), as report_digest orders them */
static const char *const sorted[] = {
	"adjustments.csv", "alerts.csv", "arrears.csv", "invoice_lines.csv",
	"invoices.csv", "package_usage.csv", "packages.csv", "rejects.csv",
	"summary.txt", "uncovered.csv",
};
#define N (sizeof(sorted) / sizeof(sorted[0]))

/* The text of file i: file 3 (invoice_lines.csv) is 200 000 bytes, so
 * that it takes several reads; file 0 is empty. */
static char *text_of(size_t i, size_t *len)
{
	size_t k;
	char *t;

	*len = i == 0 ? 0 : i == 3 ? 200000 : 10 + i;
	t = xmalloc(*len + 1);
	for (k = 0; k < *len; k++)
		t[k] = (char)('a' + (k * 7 + i) % 26);
	t[*len] = '\0';
	return t;
}

static void put(const char *dir, const char *name, const char *t, size_t n)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(t, 1, n, f) != n || fclose(f)) {
		perror(path);
		exit(2);
	}
}

int main(void)
{
	char tmpl[] = "/tmp/test_report.XXXXXX";
	unsigned char want[32], mem[32], got[32];
	struct report_files f;
	struct sha256 md;
	char path[256];
	size_t i;

	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return 2;
	}
	sha256_init(&md);
	for (i = 0; i < N; i++) {
		size_t len;
		char *t = text_of(i, &len);
		uint64_t l = len;

		put(tmpl, sorted[i], t, len);
		sha256_update(&md, sorted[i], strlen(sorted[i]) + 1);
		sha256_update(&md, &l, sizeof(l));
		sha256_update(&md, t, len);
		free(t);
	}
	sha256_final(&md, want);
	TEST_EQ_INT(report_load_final(tmpl, &f), 0);
	report_digest(&f, mem);
	report_files_release(&f);
	TEST_TRUE(memcmp(mem, want, 32) == 0);
	TEST_EQ_INT(report_digest_dir(tmpl, got), 0);
	TEST_TRUE(memcmp(got, want, 32) == 0);
	/* one byte more in one file: another digest, both ways alike */
	put(tmpl, "summary.txt", "x", 1);
	TEST_EQ_INT(report_digest_dir(tmpl, got), 0);
	TEST_TRUE(memcmp(got, want, 32) != 0);
	TEST_EQ_INT(report_load_final(tmpl, &f), 0);
	report_digest(&f, mem);
	report_files_release(&f);
	TEST_TRUE(memcmp(got, mem, 32) == 0);
	/* a file missing, or a folder in its place: -1 */
	snprintf(path, sizeof(path), "%s/alerts.csv", tmpl);
	TEST_EQ_INT(unlink(path), 0);
	TEST_EQ_INT(report_digest_dir(tmpl, got), -1);
	TEST_EQ_INT(mkdir(path, 0700), 0);
	TEST_EQ_INT(report_digest_dir(tmpl, got), -1);
	TEST_EQ_INT(rmdir(path), 0);
	for (i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpl, sorted[i]);
		unlink(path);
	}
	rmdir(tmpl);
	return TEST_REPORT();
}
