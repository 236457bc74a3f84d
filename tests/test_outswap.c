/* Unit tests for outswap (a folder's files replaced as one step) and the
 * close's use of it in report.c (report_prepare, report_finish,
 * report_sweep). Each test builds a small OUT folder by hand and checks,
 * name by name, what is there afterwards: the expected contents are the
 * bytes the test itself wrote, and the expected messages follow
 * outswap.h's text with the test's paths. */
#include "outswap.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault.h"
#include "mem.h"
#include "out.h"
#include "report.h"
#include "testhelp.h"
#include "banned.h"

static char top[64];      /* this run's scratch folder */

static void path_of(char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", top, rel);
}

static void put(const char *rel, const char *text)
{
	char p[512];
	FILE *f;

	path_of(p, sizeof(p), rel);
	f = fopen(p, "w");
	TEST_TRUE(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void mkd(const char *rel)
{
	char p[512];

	path_of(p, sizeof(p), rel);
	TEST_EQ_INT(mkdir(p, 0755), 0);
}

/* 1 when rel holds exactly text. */
static int holds(const char *rel, const char *text)
{
	char p[512], *data;
	size_t len;
	int same;

	path_of(p, sizeof(p), rel);
	if (out_read_file(p, &data, &len))
		return 0;
	same = len == strlen(text) && memcmp(data, text, len) == 0;
	free(data);
	return same;
}

static int there(const char *rel)
{
	char p[512];
	struct stat st;

	path_of(p, sizeof(p), rel);
	return lstat(p, &st) == 0;
}

static ino_t inode(const char *rel)
{
	char p[512];
	struct stat st;

	path_of(p, sizeof(p), rel);
	return lstat(p, &st) == 0 ? st.st_ino : 0;
}

/* Entries of top/rel whose name starts with prefix. */
static int count(const char *rel, const char *prefix)
{
	char p[512];
	struct dirent *de;
	DIR *d;
	int n = 0;

	path_of(p, sizeof(p), rel);
	if (!(d = opendir(p)))
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

static void reset(void)
{
	char p[512];

	path_of(p, sizeof(p), "");
	TEST_EQ_INT(outswap_remove(p), 0);
	TEST_EQ_INT(mkdir(top, 0755), 0);
}

static void fault(const char *step, const char *errname)
{
	if (step)
		setenv("SETTLE_FAULT", step, 1);
	else
		unsetenv("SETTLE_FAULT");
	if (errname)
		setenv("SETTLE_FAULT_ERRNO", errname, 1);
	else
		unsetenv("SETTLE_FAULT_ERRNO");
	fault_reload();
}

static const char *const set[] = { "invoices.csv", "summary.txt" };

/* Stages the new set ("new inv", "new sum") for out/2026-10. */
static int stage(struct outswap *w, struct err *e)
{
	char dir[512], p[4200];
	int rc;

	path_of(dir, sizeof(dir), "out/2026-10");
	rc = outswap_begin(w, dir, e);
	if (rc)
		return rc;
	snprintf(p, sizeof(p), "%s/invoices.csv", w->stage);
	TEST_EQ_INT(out_put_file(p, "new inv", 7, e), 1);
	snprintf(p, sizeof(p), "%s/summary.txt", w->stage);
	TEST_EQ_INT(out_put_file(p, "new sum", 7, e), 1);
	return 0;
}

/* The old set, a draft/ and documents/ subfolder, a user's file, a
 * planted invoices.csv.tmp (a hard link to top/outside.txt). */
static void old_folder(void)
{
	char a[512], b[512];

	mkd("out");
	mkd("out/2026-10");
	put("out/2026-10/invoices.csv", "old inv");
	put("out/2026-10/summary.txt", "old sum");
	mkd("out/2026-10/draft");
	put("out/2026-10/draft/invoices.csv", "draft inv");
	mkd("out/2026-10/documents");
	put("out/2026-10/documents/documents.jsonl", "docs");
	put("out/2026-10/notes.txt", "mine");
	put("outside.txt", "keep me");
	path_of(a, sizeof(a), "outside.txt");
	path_of(b, sizeof(b), "out/2026-10/invoices.csv.tmp");
	TEST_EQ_INT(link(a, b), 0);
}

/* What a swapped folder must hold: the new set and everything else the
 * old one had but the planted .tmp; nothing left beside it. */
static void check_new_folder(void)
{
	TEST_TRUE(holds("out/2026-10/invoices.csv", "new inv"));
	TEST_TRUE(holds("out/2026-10/summary.txt", "new sum"));
	TEST_TRUE(holds("out/2026-10/draft/invoices.csv", "draft inv"));
	TEST_TRUE(holds("out/2026-10/documents/documents.jsonl", "docs"));
	TEST_TRUE(holds("out/2026-10/notes.txt", "mine"));
	TEST_TRUE(!there("out/2026-10/invoices.csv.tmp"));
	TEST_EQ_INT(count("out/2026-10", ""), 5);
	TEST_TRUE(holds("outside.txt", "keep me"));
	/* out holds the period folder alone: no staging or old folder */
	TEST_EQ_INT(count("out", ""), 1);
}

static void test_begin(void)
{
	struct outswap w;
	struct err e;
	struct stat st;
	char dir[512], want[1200], a[512];

	reset();
	err_clear(&e);
	/* the parent is made; the staging folder is a fresh sibling named
	 * .2026-10.new-XXXXXX, mode 0755 under the umask */
	umask(027);
	path_of(dir, sizeof(dir), "out/2026-10");
	TEST_EQ_INT(outswap_begin(&w, dir, &e), 0);
	umask(022);
	TEST_EQ_INT(e.code, 0);
	TEST_EQ_INT(count("out", ".2026-10.new-"), 1);
	TEST_EQ_INT(strlen(w.stage), strlen(dir) + 1 + 11);
	TEST_EQ_INT(lstat(w.stage, &st), 0);
	TEST_TRUE(S_ISDIR(st.st_mode));
	TEST_EQ_INT(st.st_mode & 07777, 0750);
	TEST_TRUE(!there("out/2026-10"));
	/* a second one is another name */
	{
		struct outswap v;

		TEST_EQ_INT(outswap_begin(&v, dir, &e), 0);
		TEST_TRUE(strcmp(v.stage, w.stage) != 0);
		TEST_EQ_INT(count("out", ".2026-10.new-"), 2);
		outswap_abandon(&v);
		TEST_EQ_STR(v.stage, "");
	}
	outswap_abandon(&w);
	TEST_EQ_INT(count("out", ""), 0);

	/* the period folder a symlink, or a file: refused, nothing made */
	put("elsewhere", "x");
	path_of(a, sizeof(a), "elsewhere");
	TEST_EQ_INT(symlink(a, dir), 0);
	TEST_EQ_INT(outswap_begin(&w, dir, &e), ST_ERROR);
	snprintf(want, sizeof(want), "cannot write '%s': it is a symbolic "
		 "link (settle replaces a month's folder as a whole: make it "
		 "a real folder)", dir);
	TEST_EQ_STR(e.msg, want);
	TEST_EQ_STR(w.stage, "");
	TEST_EQ_INT(unlink(dir), 0);
	put("out/2026-10", "a file");
	err_clear(&e);
	TEST_EQ_INT(outswap_begin(&w, dir, &e), ST_ERROR);
	snprintf(want, sizeof(want), "'%s' is not a directory", dir);
	TEST_EQ_STR(e.msg, want);
	TEST_EQ_INT(count("out", ""), 1);
}

static void test_first_close(void)
{
	struct outswap w;
	struct err e;

	reset();
	err_clear(&e);
	/* no out/2026-10 yet: a plain rename */
	TEST_EQ_INT(stage(&w, &e), 0);
	TEST_EQ_INT(outswap_finish(&w, set, 2, &e), 0);
	TEST_EQ_INT(e.code, 0);
	TEST_TRUE(holds("out/2026-10/invoices.csv", "new inv"));
	TEST_TRUE(holds("out/2026-10/summary.txt", "new sum"));
	TEST_EQ_INT(count("out/2026-10", ""), 2);
	TEST_EQ_INT(count("out", ""), 1);
	TEST_EQ_STR(w.stage, "");
}

static void test_exchange(void)
{
	struct outswap w;
	struct err e;
	ino_t old, staged;

	reset();
	err_clear(&e);
	old_folder();
	TEST_EQ_INT(stage(&w, &e), 0);
	old = inode("out/2026-10");
	staged = inode(w.stage + strlen(top) + 1);
	/* staged: the reader still sees the whole old set */
	TEST_TRUE(holds("out/2026-10/invoices.csv", "old inv"));
	TEST_TRUE(holds("out/2026-10/summary.txt", "old sum"));
	TEST_EQ_INT(outswap_finish(&w, set, 2, &e), 0);
	TEST_EQ_INT(e.code, 0);
	check_new_folder();
	/* exchanged: out/2026-10 is the staging folder now */
	TEST_EQ_INT(inode("out/2026-10"), staged);
	TEST_TRUE(old != staged);
}

static void test_fallback(void)
{
	struct outswap w;
	struct err e;
	ino_t old;

	/* no RENAME_EXCHANGE (EINVAL, as some filesystems say; ENOSYS, an
	 * old kernel): per-file renames, the same end */
	reset();
	err_clear(&e);
	old_folder();
	TEST_EQ_INT(stage(&w, &e), 0);
	old = inode("out/2026-10");
	fault("out-exchange:1", "EINVAL");
	TEST_EQ_INT(outswap_finish(&w, set, 2, &e), 0);
	fault(NULL, NULL);
	TEST_EQ_INT(e.code, 0);
	check_new_folder();
	/* file by file: the folder itself stays */
	TEST_EQ_INT(inode("out/2026-10"), old);

	reset();
	old_folder();
	TEST_EQ_INT(stage(&w, &e), 0);
	old = inode("out/2026-10");
	fault("out-exchange:1", "ENOSYS");
	TEST_EQ_INT(outswap_finish(&w, set, 2, &e), 0);
	fault(NULL, NULL);
	check_new_folder();
	TEST_EQ_INT(inode("out/2026-10"), old);
}

static void test_exchange_fails(void)
{
	struct outswap w;
	struct err e;
	char want[1200];

	/* any other error: the old folder as it was (what was carried
	 * moved back; the planted .tmp, removed before the exchange, stays
	 * removed), the staging folder removed, the reason in e */
	reset();
	err_clear(&e);
	old_folder();
	TEST_EQ_INT(stage(&w, &e), 0);
	fault("out-exchange:1", "EIO");
	TEST_EQ_INT(outswap_finish(&w, set, 2, &e), ST_ERROR);
	fault(NULL, NULL);
	snprintf(want, sizeof(want), "cannot put the new files in place in "
		 "'%s/out/2026-10': Input/output error", top);
	TEST_EQ_STR(e.msg, want);
	TEST_TRUE(holds("out/2026-10/invoices.csv", "old inv"));
	TEST_TRUE(holds("out/2026-10/summary.txt", "old sum"));
	TEST_TRUE(holds("out/2026-10/draft/invoices.csv", "draft inv"));
	TEST_TRUE(holds("out/2026-10/documents/documents.jsonl", "docs"));
	TEST_TRUE(holds("out/2026-10/notes.txt", "mine"));
	TEST_EQ_INT(count("out/2026-10", ""), 5);
	TEST_EQ_INT(count("out", ""), 1);
	TEST_TRUE(holds("outside.txt", "keep me"));
}

static int period(const char *b)
{
	return strlen(b) == 7 && b[4] == '-';
}

static void test_sweep(void)
{
	struct err e;
	char a[512], b[512], want[1200];

	reset();
	err_clear(&e);
	old_folder();
	/* 1. a close killed while carrying the entries that are no set
	 *    files into its staging folder, before the exchange: draft/ is
	 *    there, documents/ not yet. The sweep moves draft/ back, drops
	 *    the leftover's notes.txt (out/2026-10 has its own, which
	 *    wins), the staged set and the half-written .tmp. */
	mkd("out/.2026-10.new-aB3xY9");
	put("out/.2026-10.new-aB3xY9/invoices.csv", "new inv");
	put("out/.2026-10.new-aB3xY9/summary.txt", "new sum");
	put("out/.2026-10.new-aB3xY9/invoices.csv.tmp", "half");
	path_of(a, sizeof(a), "out/2026-10/draft");
	path_of(b, sizeof(b), "out/.2026-10.new-aB3xY9/draft");
	TEST_EQ_INT(rename(a, b), 0);
	put("out/.2026-10.new-aB3xY9/notes.txt", "older copy");
	/* 2. one killed after the exchange: the old set, nothing else */
	mkd("out/.2026-11.new-000000");
	put("out/.2026-11.new-000000/invoices.csv", "old nov");
	/* 3. a symlink planted under a staging name, to a folder outside:
	 *    unlinked, never followed */
	mkd("victim");
	put("victim/invoices.csv", "victim's");
	path_of(a, sizeof(a), "victim");
	path_of(b, sizeof(b), "out/.2026-12.new-zzzzzz");
	TEST_EQ_INT(symlink(a, b), 0);
	/* 4. a hard link planted under a staging name: the name goes, the
	 *    file stays */
	path_of(a, sizeof(a), "outside.txt");
	path_of(b, sizeof(b), "out/.2027-01.new-qqqqqq");
	TEST_EQ_INT(link(a, b), 0);
	/* 5. names that are no leftover of a period: kept */
	mkd("out/.notes.new-abcdef");
	mkd("out/.2026-10.new-abc");
	mkd("out/.2026-10.new-abc!ef");

	path_of(a, sizeof(a), "out");
	TEST_EQ_INT(outswap_sweep(a, period, set, 2, &e), 0);
	TEST_EQ_INT(e.code, 0);
	TEST_TRUE(holds("out/2026-10/invoices.csv", "old inv"));
	TEST_TRUE(holds("out/2026-10/draft/invoices.csv", "draft inv"));
	TEST_TRUE(holds("out/2026-10/documents/documents.jsonl", "docs"));
	TEST_TRUE(holds("out/2026-10/notes.txt", "mine"));
	TEST_TRUE(!there("out/.2026-10.new-aB3xY9"));
	TEST_TRUE(!there("out/.2026-11.new-000000"));
	TEST_TRUE(!there("out/.2026-12.new-zzzzzz"));
	TEST_TRUE(holds("victim/invoices.csv", "victim's"));
	TEST_TRUE(!there("out/.2027-01.new-qqqqqq"));
	TEST_TRUE(holds("outside.txt", "keep me"));
	TEST_TRUE(there("out/.notes.new-abcdef"));
	TEST_TRUE(there("out/.2026-10.new-abc"));
	TEST_TRUE(there("out/.2026-10.new-abc!ef"));
	TEST_EQ_INT(count("out", ""), 4);

	/* no out folder: nothing to sweep */
	path_of(a, sizeof(a), "no-such-out");
	TEST_EQ_INT(outswap_sweep(a, period, set, 2, &e), 0);
	/* one that cannot be removed: the error names it */
	mkd("out/.2026-09.new-locked");
	put("out/.2026-09.new-locked/invoices.csv", "x");
	path_of(a, sizeof(a), "out/.2026-09.new-locked");
	TEST_EQ_INT(chmod(a, 0555), 0);
	if (geteuid() != 0) {
		path_of(b, sizeof(b), "out");
		TEST_EQ_INT(outswap_sweep(b, period, set, 2, &e), ST_ERROR);
		snprintf(want, sizeof(want), "cannot remove '%s' (left by an "
			 "interrupted close): Permission denied", a);
		TEST_EQ_STR(e.msg, want);
	}
	TEST_EQ_INT(chmod(a, 0755), 0);
}

/* A close killed after carrying draft/ into its staging folder, whose
 * month folder was then removed by hand: the sweep makes the month
 * folder again for draft/ instead of removing it with the leftover;
 * the staged set files are not carried (the next close writes them). */
static void test_sweep_month_gone(void)
{
	struct err e;
	char a[512];

	reset();
	err_clear(&e);
	mkd("out");
	mkd("out/.2026-10.new-aB3xY9");
	put("out/.2026-10.new-aB3xY9/invoices.csv", "new inv");
	mkd("out/.2026-10.new-aB3xY9/draft");
	put("out/.2026-10.new-aB3xY9/draft/invoices.csv", "draft inv");
	path_of(a, sizeof(a), "out");
	TEST_EQ_INT(outswap_sweep(a, period, set, 2, &e), 0);
	TEST_EQ_INT(e.code, 0);
	TEST_TRUE(holds("out/2026-10/draft/invoices.csv", "draft inv"));
	TEST_TRUE(!there("out/2026-10/invoices.csv"));
	TEST_TRUE(!there("out/.2026-10.new-aB3xY9"));
	TEST_EQ_INT(count("out", ""), 1);
	TEST_EQ_INT(count("out/2026-10", ""), 1);
}

static void test_remove(void)
{
	char a[512], b[512];

	/* a symlink inside a tree is removed, not what it points at */
	reset();
	mkd("victim");
	put("victim/x", "keep");
	mkd("tree");
	mkd("tree/sub");
	put("tree/sub/f", "f");
	path_of(a, sizeof(a), "victim");
	path_of(b, sizeof(b), "tree/sub/link");
	TEST_EQ_INT(symlink(a, b), 0);
	path_of(a, sizeof(a), "tree");
	TEST_EQ_INT(outswap_remove(a), 0);
	TEST_TRUE(!there("tree"));
	TEST_TRUE(holds("victim/x", "keep"));
	/* nothing there: done */
	TEST_EQ_INT(outswap_remove(a), 0);
}

/* report_prepare / report_finish: the close's two steps. */
static void files_of(struct report_files *f, const char *inv,
		     const char *sum)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->f[0].name, sizeof(f->f[0].name), "invoices.csv");
	f->f[0].data = xstrdup(inv);
	f->f[0].len = strlen(inv);
	snprintf(f->f[1].name, sizeof(f->f[1].name), "summary.txt");
	f->f[1].data = xstrdup(sum);
	f->f[1].len = strlen(sum);
	f->n = 2;
}

static void test_report_steps(void)
{
	struct report_files f;
	struct report_pending p;
	struct err e;
	char dir[512], a[512], b[512];
	size_t written = 99;
	ino_t kept;

	reset();
	err_clear(&e);
	path_of(dir, sizeof(dir), "out/2026-10");
	/* a first close: both written, staged beside, swapped in */
	files_of(&f, "inv 1", "sum 1");
	TEST_EQ_INT(report_prepare(&f, dir, &p, &e), 0);
	TEST_EQ_INT(p.written, 2);
	TEST_TRUE(!there("out/2026-10"));
	TEST_EQ_INT(count("out", ".2026-10.new-"), 1);
	TEST_EQ_INT(report_finish(&p, &written, &e), 0);
	TEST_EQ_INT(written, 2);
	TEST_TRUE(holds("out/2026-10/invoices.csv", "inv 1"));
	TEST_EQ_INT(count("out", ""), 1);
	report_files_release(&f);

	/* one file changes: the other is linked into the staging folder,
	 * not written (the same inode ends up in the folder) */
	kept = inode("out/2026-10/invoices.csv");
	files_of(&f, "inv 1", "sum 2");
	TEST_EQ_INT(report_prepare(&f, dir, &p, &e), 0);
	TEST_EQ_INT(p.written, 1);
	TEST_EQ_INT(report_finish(&p, &written, &e), 0);
	TEST_EQ_INT(written, 1);
	TEST_EQ_INT(inode("out/2026-10/invoices.csv"), kept);
	TEST_TRUE(holds("out/2026-10/summary.txt", "sum 2"));
	TEST_EQ_INT(count("out", ""), 1);

	/* nothing changes: nothing staged, nothing written */
	TEST_EQ_INT(report_prepare(&f, dir, &p, &e), 0);
	TEST_EQ_INT(p.written, 0);
	TEST_EQ_STR(p.swap.stage, "");
	TEST_EQ_INT(count("out", ""), 1);
	TEST_EQ_INT(report_finish(&p, &written, &e), 0);
	TEST_EQ_INT(written, 0);

	/* a right file with a second link (planted, to outside.txt): not
	 * linked again but written anew; outside.txt keeps its bytes */
	path_of(a, sizeof(a), "out/2026-10/invoices.csv");
	path_of(b, sizeof(b), "outside.txt");
	TEST_EQ_INT(link(a, b), 0);
	TEST_EQ_INT(report_prepare(&f, dir, &p, &e), 0);
	TEST_EQ_INT(p.written, 1);
	TEST_EQ_INT(report_finish(&p, &written, &e), 0);
	TEST_EQ_INT(written, 1);
	TEST_TRUE(inode("out/2026-10/invoices.csv") != inode("outside.txt"));
	TEST_TRUE(holds("outside.txt", "inv 1"));
	TEST_TRUE(holds("out/2026-10/invoices.csv", "inv 1"));

	/* abandoned (a failed commit): the staging folder goes, the
	 * folder is untouched */
	report_files_release(&f);
	files_of(&f, "inv 3", "sum 3");
	TEST_EQ_INT(report_prepare(&f, dir, &p, &e), 0);
	TEST_EQ_INT(count("out", ".2026-10.new-"), 1);
	report_abandon(&p);
	TEST_EQ_INT(count("out", ""), 1);
	TEST_TRUE(holds("out/2026-10/summary.txt", "sum 2"));
	report_files_release(&f);

	/* report_sweep takes YYYY-MM leftovers only */
	mkd("out/.2026-10.new-AAAAAA");
	mkd("out/.draft.new-AAAAAA");
	path_of(a, sizeof(a), "out");
	TEST_EQ_INT(report_sweep(a, &e), 0);
	TEST_TRUE(!there("out/.2026-10.new-AAAAAA"));
	TEST_TRUE(there("out/.draft.new-AAAAAA"));
	TEST_EQ_INT(e.code, 0);
}

int main(void)
{
	char tmpl[] = "/tmp/settle-test-outswap-XXXXXX";

	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(top, sizeof(top), "%s", tmpl);
	umask(022);
	test_begin();
	test_first_close();
	test_exchange();
	test_fallback();
	test_exchange_fails();
	test_sweep();
	test_sweep_month_gone();
	test_remove();
	test_report_steps();
	TEST_EQ_INT(outswap_remove(top), 0);
	return TEST_REPORT();
}
