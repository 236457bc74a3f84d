/* Unit tests for outdig: a close's cache of report_digest_dir per period.
 * The expected digests are derived here by hand from report_digest's
 * definition (SPEC-free: name with its NUL, the length as a uint64_t in
 * memory, the bytes; files by name), over bytes built here, as in
 * test_report.c. What is checked: the cache gives report_digest_dir's
 * result for OUT/YYYY-MM; it reads a period's folder once (a change
 * made after the first ask is not seen through the same cache, and is
 * through NULL or a new cache); a folder that cannot be read whole is -1
 * and stays so in the cache; periods are kept apart. */
#include "outdig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"
#include "sha256.h"
#include "ts.h"
#include "testhelp.h"
#include "banned.h"

/* by name (strcmp), as report_digest orders them */
static const char *const sorted[] = {
	"adjustments.csv", "alerts.csv", "arrears.csv", "invoice_lines.csv",
	"invoices.csv", "package_usage.csv", "packages.csv", "rejects.csv",
	"summary.txt", "uncovered.csv",
};
#define N (sizeof(sorted) / sizeof(sorted[0]))

static void put(const char *dir, const char *name, const char *t)
{
	char path[512];
	size_t n = strlen(t);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(t, 1, n, f) != n || fclose(f)) {
		perror(path);
		exit(2);
	}
}

/* Fills dir with the ten files, file i holding its name then tag, and
 * the digest derived by hand into want. */
static void fill(const char *dir, const char *tag, unsigned char want[32])
{
	struct sha256 md;
	char text[128];
	size_t i;

	mkdir(dir, 0700);
	sha256_init(&md);
	for (i = 0; i < N; i++) {
		uint64_t l;

		snprintf(text, sizeof(text), "%s %s\n", sorted[i], tag);
		put(dir, sorted[i], text);
		l = strlen(text);
		sha256_update(&md, sorted[i], strlen(sorted[i]) + 1);
		sha256_update(&md, &l, sizeof(l));
		sha256_update(&md, text, l);
	}
	sha256_final(&md, want);
}

static void empty(const char *dir)
{
	char path[512];
	size_t i;

	for (i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, sorted[i]);
		unlink(path);
	}
	rmdir(dir);
}

int main(void)
{
	char out[] = "/tmp/test_outdig.XXXXXX", d3[256], d4[256];
	unsigned char want3[32], want3b[32], want4[32], got[32], ref[32];
	struct outdig *c;
	int q3, q4, q5;

	if (!mkdtemp(out)) {
		perror("mkdtemp");
		return 2;
	}
	TEST_EQ_INT(ts_period_parse("2025-03", &q3), 0);
	TEST_EQ_INT(ts_period_parse("2025-04", &q4), 0);
	TEST_EQ_INT(ts_period_parse("2025-05", &q5), 0);
	snprintf(d3, sizeof(d3), "%s/2025-03", out);
	snprintf(d4, sizeof(d4), "%s/2025-04", out);
	fill(d3, "v1", want3);
	fill(d4, "v1", want4);
	/* the two folders differ only in their path: equal digests (the
	 * digest is over names and bytes), so each is also checked against
	 * report_digest_dir of its own path */
	TEST_TRUE(memcmp(want3, want4, 32) == 0);
	TEST_EQ_INT(report_digest_dir(d3, ref), 0);
	TEST_TRUE(memcmp(ref, want3, 32) == 0);

	/* NULL: read now, report_digest_dir's result */
	TEST_EQ_INT(outdig_folder(NULL, out, q3, got), 0);
	TEST_TRUE(memcmp(got, want3, 32) == 0);

	c = outdig_new(out, NULL, 0);
	TEST_EQ_INT(outdig_folder(c, out, q3, got), 0);
	TEST_TRUE(memcmp(got, want3, 32) == 0);
	/* 2025-03 changed after the first ask: the cache keeps what it read
	 * (asked once a close), a read now sees the change */
	fill(d3, "v2", want3b);
	TEST_TRUE(memcmp(want3, want3b, 32) != 0);
	memset(got, 0, sizeof(got));
	TEST_EQ_INT(outdig_folder(c, out, q3, got), 0);
	TEST_TRUE(memcmp(got, want3, 32) == 0);
	TEST_EQ_INT(outdig_folder(NULL, out, q3, got), 0);
	TEST_TRUE(memcmp(got, want3b, 32) == 0);
	/* 2025-04, first asked after 2025-03 changed: its own entry */
	fill(d4, "v2", want4);
	TEST_EQ_INT(outdig_folder(c, out, q4, got), 0);
	TEST_TRUE(memcmp(got, want4, 32) == 0);
	/* 2025-05 has no folder: -1, and still -1 once it is made */
	TEST_EQ_INT(outdig_folder(c, out, q5, got), -1);
	{
		char d5[256];
		unsigned char w5[32];

		snprintf(d5, sizeof(d5), "%s/2025-05", out);
		fill(d5, "v1", w5);
		TEST_EQ_INT(outdig_folder(c, out, q5, got), -1);
		TEST_EQ_INT(outdig_folder(NULL, out, q5, got), 0);
		TEST_TRUE(memcmp(got, w5, 32) == 0);
		empty(d5);
	}
	outdig_free(c);
	outdig_free(NULL);

	/* a new cache (the next close) reads again */
	c = outdig_new(out, NULL, 0);
	TEST_EQ_INT(outdig_folder(c, out, q3, got), 0);
	TEST_TRUE(memcmp(got, want3b, 32) == 0);
	outdig_free(c);

	empty(d3);
	empty(d4);
	rmdir(out);
	return TEST_REPORT();
}
