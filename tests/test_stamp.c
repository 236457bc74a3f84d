/* Unit tests for stamp: the stat identity of a file, the racy rule, the
 * rows of out_stamp, and outdig's use of them (a folder whose stamps
 * match is taken by them, unread; any difference, or verify, reads it).
 *
 * The racy rule (stamp.h): a stamp is trusted only when its mtime and
 * ctime are both earlier than at - STAMP_SLACK_NS (2 s); the table below
 * puts each time on either side of that bound, 1 ns apart. That a folder
 * is not read is shown by stamps saved with a digest no folder has (32
 * bytes of 0xab): outdig answers with it only when it did not read. */
#include "stamp.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "outdig.h"
#include "report.h"
#include "store.h"
#include "ts.h"
#include "testhelp.h"
#include "banned.h"

#define S STAMP_SLACK_NS

static void test_trusted(void)
{
	/* at = 100 s; the bound is at - 2 s = 98 s; OLD: an hour before */
	const int64_t at = 100 * (int64_t)1000000000, b = at - S;
	const int64_t OLD = b - 3600 * (int64_t)1000000000;
	const struct {
		int64_t mtime, ctime;
		int diff;     /* 1 dev 2 ino 3 size 4 mtime 5 ctime; 0 none */
		int want;
		const char *why;
	} t[] = {
		{ OLD, OLD, 0, 1, "old, unchanged: trusted" },
		{ OLD, OLD, 1, 0, "another device" },
		{ OLD, OLD, 2, 0, "another inode" },
		{ OLD, OLD, 3, 0, "another size" },
		{ OLD, OLD, 4, 0, "another mtime" },
		{ OLD, OLD, 5, 0, "another ctime (cp -p: only it changes)" },
		{ b - 1, b - 1, 0, 1, "both 1 ns before the bound: trusted" },
		{ b - 1, b, 0, 0, "ctime at the bound: racy" },
		{ b, b - 1, 0, 0, "mtime at the bound: racy" },
		{ OLD, b + 5, 0, 0, "ctime after the bound" },
		{ at, OLD, 0, 0, "mtime at at itself (a future mtime too)" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct stamp rec, now;

		rec.dev = 8;
		rec.ino = 1234;
		rec.size = 77;
		rec.mtime = t[i].mtime;
		rec.ctime = t[i].ctime;
		now = rec;
		switch (t[i].diff) {
		case 1: now.dev++; break;
		case 2: now.ino++; break;
		case 3: now.size++; break;
		case 4: now.mtime++; break;
		case 5: now.ctime++; break;
		}
		if (stamp_trusted(&rec, at, &now) != t[i].want)
			fprintf(stderr, "stamp_trusted row %zu: %s\n", i,
				t[i].why);
		TEST_EQ_INT(stamp_trusted(&rec, at, &now), t[i].want);
	}
}

static void put(const char *path, const char *t)
{
	FILE *f = fopen(path, "wb");

	if (!f || fputs(t, f) < 0 || fclose(f)) {
		perror(path);
		exit(2);
	}
}

static void test_path(const char *dir)
{
	char path[512];
	struct stamp st;
	struct stat sb;

	snprintf(path, sizeof(path), "%s/f", dir);
	put(path, "hello\n");
	TEST_EQ_INT(stat(path, &sb), 0);
	TEST_EQ_INT(stamp_path(path, &st), 0);
	TEST_EQ_INT(st.dev, (int64_t)sb.st_dev);
	TEST_EQ_INT(st.ino, (int64_t)sb.st_ino);
	TEST_EQ_INT(st.size, 6);
	TEST_EQ_INT(st.mtime, (int64_t)sb.st_mtim.tv_sec * 1000000000 +
		    sb.st_mtim.tv_nsec);
	TEST_EQ_INT(st.ctime, (int64_t)sb.st_ctim.tv_sec * 1000000000 +
		    sb.st_ctim.tv_nsec);
	/* a folder and a missing file are no regular file: -1 */
	TEST_EQ_INT(stamp_path(dir, &st), -1);
	snprintf(path, sizeof(path), "%s/missing", dir);
	TEST_EQ_INT(stamp_path(path, &st), -1);
	snprintf(path, sizeof(path), "%s/f", dir);
	unlink(path);
}

/* Fills OUT/2025-03 with the ten files of a final folder. */
static void fill(const char *dir, const char *tag)
{
	const char *const *names;
	char path[1024], text[128];
	size_t i, n;

	mkdir(dir, 0700);
	names = report_final_names(&n);
	TEST_EQ_INT(n, 10);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		snprintf(text, sizeof(text), "%s %s\n", names[i], tag);
		put(path, text);
	}
}

/* The stamps of dir's files, vouching for digest from at. */
static void stamps_of(const char *dir, int q, int64_t at,
		      const unsigned char digest[32], struct stamp_folder *f)
{
	const char *const *names;
	char path[1024];
	size_t i, n;

	memset(f, 0, sizeof(*f));
	names = report_final_names(&n);
	for (i = 0; i < n; i++) {
		snprintf(f->names[i], sizeof(f->names[0]), "%s", names[i]);
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		TEST_EQ_INT(stamp_path(path, &f->st[i]), 0);
	}
	f->n = n;
	f->period = q;
	f->at = at;
	memcpy(f->digest, digest, 32);
}

static void test_rows_and_outdig(const char *tmp)
{
	char db[512], out[512], d3[600], path[700];
	unsigned char fake[32], real[32], got[32];
	struct stamp_folder f, back;
	struct outdig *c;
	struct store *s;
	struct err e;
	int q3, have;
	size_t i;

	snprintf(db, sizeof(db), "%s/s.db", tmp);
	snprintf(out, sizeof(out), "%s/out", tmp);
	mkdir(out, 0700);
	TEST_EQ_INT(ts_period_parse("2025-03", &q3), 0);
	snprintf(d3, sizeof(d3), "%s/2025-03", out);
	fill(d3, "v1");
	TEST_EQ_INT(report_digest_dir(d3, real), 0);
	memset(fake, 0xab, sizeof(fake));
	err_clear(&e);
	s = store_open(db, STORE_CREATE, &e);
	TEST_TRUE(s != NULL);
	if (!s)
		return;

	/* none yet */
	TEST_EQ_INT(stamp_load(s, q3, &back, &have, &e), 0);
	TEST_EQ_INT(have, 0);
	/* saved, loaded back field for field */
	stamps_of(d3, q3, stamp_clock() + 3600 * S, fake, &f);
	TEST_EQ_INT(stamp_save(s, &f, 1, &e), 0);
	TEST_EQ_INT(stamp_load(s, q3, &back, &have, &e), 0);
	TEST_EQ_INT(have, 1);
	TEST_EQ_INT(back.n, 10);
	TEST_EQ_INT(back.at, f.at);
	TEST_TRUE(memcmp(back.digest, fake, 32) == 0);
	for (i = 0; i < back.n; i++) {
		size_t j;

		for (j = 0; j < f.n && strcmp(f.names[j], back.names[i]); j++)
			;
		TEST_TRUE(j < f.n);
		if (j < f.n)
			TEST_TRUE(memcmp(&f.st[j], &back.st[i],
					 sizeof(f.st[j])) == 0);
	}
	/* another period: none */
	TEST_EQ_INT(stamp_load(s, q3 + 1, &back, &have, &e), 0);
	TEST_EQ_INT(have, 0);

	/* trusted (at an hour after every file time): outdig answers with
	 * the stamps' digest, the folder unread */
	c = outdig_new(out, s, 0);
	TEST_EQ_INT(outdig_folder(c, out, q3, got), 0);
	TEST_TRUE(memcmp(got, fake, 32) == 0);
	outdig_free(c);
	/* verify: read, the folder's own digest */
	c = outdig_new(out, s, 1);
	TEST_EQ_INT(outdig_folder(c, out, q3, got), 0);
	TEST_TRUE(memcmp(got, real, 32) == 0);
	outdig_free(c);
	/* no state: read */
	c = outdig_new(out, NULL, 0);
	TEST_EQ_INT(outdig_folder(c, out, q3, got), 0);
	TEST_TRUE(memcmp(got, real, 32) == 0);
	outdig_free(c);

	/* racy: the same stamps vouching from now (each file younger than
	 * 2 s): read */
	stamps_of(d3, q3, stamp_clock(), fake, &f);
	TEST_EQ_INT(stamp_save(s, &f, 1, &e), 0);
	c = outdig_new(out, s, 0);
	TEST_EQ_INT(outdig_folder(c, out, q3, got), 0);
	TEST_TRUE(memcmp(got, real, 32) == 0);
	outdig_free(c);

	/* one file rewritten (another size): read, whatever its stamp */
	stamps_of(d3, q3, stamp_clock() + 3600 * S, fake, &f);
	TEST_EQ_INT(stamp_save(s, &f, 1, &e), 0);
	snprintf(path, sizeof(path), "%s/summary.txt", d3);
	put(path, "summary.txt v2, longer\n");
	TEST_EQ_INT(report_digest_dir(d3, real), 0);
	c = outdig_new(out, s, 0);
	TEST_EQ_INT(outdig_folder(c, out, q3, got), 0);
	TEST_TRUE(memcmp(got, real, 32) == 0);
	/* outdig_save records what it hashed: now the real digest, with
	 * the files' stamps, vouching from before the read */
	TEST_EQ_INT(outdig_save(c, &e), 0);
	outdig_free(c);
	TEST_EQ_INT(stamp_load(s, q3, &back, &have, &e), 0);
	TEST_EQ_INT(have, 1);
	TEST_TRUE(memcmp(back.digest, real, 32) == 0);
	TEST_TRUE(back.at <= stamp_clock());

	/* one file missing: -1, unread by stamps */
	stamps_of(d3, q3, stamp_clock() + 3600 * S, fake, &f);
	TEST_EQ_INT(stamp_save(s, &f, 1, &e), 0);
	unlink(path);
	c = outdig_new(out, s, 0);
	TEST_EQ_INT(outdig_folder(c, out, q3, got), -1);
	outdig_free(c);

	/* outdig_put_written: the stamps of the folder as it is, from at */
	put(path, "summary.txt v3\n");
	TEST_EQ_INT(report_digest_dir(d3, real), 0);
	TEST_EQ_INT(outdig_put_written(s, out, &q3,
				       (const unsigned char (*)[32])&real, 1,
				       12345, &e), 0);
	TEST_EQ_INT(stamp_load(s, q3, &back, &have, &e), 0);
	TEST_EQ_INT(have, 1);
	TEST_EQ_INT(back.at, 12345);
	TEST_TRUE(memcmp(back.digest, real, 32) == 0);
	stamps_of(d3, q3, 12345, real, &f);
	for (i = 0; i < back.n; i++)
		TEST_TRUE(memcmp(&back.st[i], &f.st[i], sizeof(f.st[i])) ==
			  0 || strcmp(back.names[i], f.names[i]) != 0);
	store_close(s);
}

int main(void)
{
	char tmp[] = "/tmp/test_stamp.XXXXXX", cmd[64];

	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 2;
	}
	test_trusted();
	test_path(tmp);
	test_rows_and_outdig(tmp);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	if (system(cmd) != 0)
		perror(cmd);
	return TEST_REPORT();
}
