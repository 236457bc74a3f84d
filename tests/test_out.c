/* Unit tests for out: table sorting, quoting and formula escaping (SPEC 8
 * and 9), and the atomic file writer. Expected CSV texts are written by
 * hand from those rules. */
#include "out.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "testhelp.h"
#include "banned.h"

/* Renders t and compares with want; the rendered length is checked too. */
static void check_render(struct table *t, const char *want, int line)
{
	char *data = NULL;
	size_t len = 0;

	table_render(t, &data, &len);
	if (!data || len != strlen(want) || strcmp(data, want) != 0)
		fprintf(stderr, "render at line %d:\n--- got\n%s--- want\n%s",
			line, data ? data : "(null)", want);
	TEST_TRUE(data != NULL);
	TEST_EQ_INT(len, strlen(want));
	TEST_EQ_STR(data, want);
	if (data)
		TEST_EQ_INT(data[len], '\0');
	free(data);
}

#define CHECK_RENDER(t, want) check_render(t, want, __LINE__)

static void add3(struct table *t, const char *a, const char *b, const char *c)
{
	const char *cells[3];

	cells[0] = a;
	cells[1] = b;
	cells[2] = c;
	table_add(t, cells);
}

static void test_sort(void)
{
	static const char *const names[] = { "file", "line", "record_id" };
	static const enum col_kind kinds[] = { COL_TEXT, COL_INT, COL_TEXT };
	struct table *t = table_new(3, names, kinds);

	CHECK_RENDER(t, "file,line,record_id\n");
	add3(t, "b.csv", "10", "x");
	add3(t, "b.csv", "2", "y");
	add3(t, "a.csv", "100", "z");
	add3(t, "b.csv", "2", "a");
	add3(t, "B.csv", "1", "q");
	add3(t, "b.csv", "1", "z");
	add3(t, "a.csv", "99", "z");
	add3(t, "a.csv", "100", "a");
	add3(t, "b.csv", "2", "a");   /* a duplicate row stays */
	add3(t, "ab.csv", "0", "z");  /* "a.csv" < "ab.csv": '.' < 'b' */
	add3(t, "\xc3\xa9.csv", "1", "z"); /* bytes >= 0x80 after ASCII */
	TEST_EQ_INT(table_rows(t), 11);
	CHECK_RENDER(t,
		"file,line,record_id\n"
		"B.csv,1,q\n"
		"a.csv,99,z\n"
		"a.csv,100,a\n"
		"a.csv,100,z\n"
		"ab.csv,0,z\n"
		"b.csv,1,z\n"
		"b.csv,2,a\n"
		"b.csv,2,a\n"
		"b.csv,2,y\n"
		"b.csv,10,x\n"
		"\xc3\xa9.csv,1,z\n");
	/* rendering again gives the same text */
	CHECK_RENDER(t,
		"file,line,record_id\n"
		"B.csv,1,q\n"
		"a.csv,99,z\n"
		"a.csv,100,a\n"
		"a.csv,100,z\n"
		"ab.csv,0,z\n"
		"b.csv,1,z\n"
		"b.csv,2,a\n"
		"b.csv,2,a\n"
		"b.csv,2,y\n"
		"b.csv,10,x\n"
		"\xc3\xa9.csv,1,z\n");
	table_free(t);
	table_free(NULL);
}

/* COL_NUM sorts as bytes (only line, version and lines sort as numbers);
 * the numeric column may come after text columns or first. */
static void test_sort_kinds(void)
{
	static const char *const names[] = { "version", "amount", "who" };
	static const enum col_kind kinds[] = { COL_INT, COL_NUM, COL_TEXT };
	struct table *t = table_new(3, names, kinds);

	add3(t, "10", "9.00", "b");
	add3(t, "2", "10.00", "a");
	add3(t, "2", "9.00", "a");
	add3(t, "2", "-1.00", "a");
	add3(t, "1", "1.00", "c");
	add3(t, "123456789012345678901234", "0", "x");
	add3(t, "123456789012345678901233", "0", "x");
	CHECK_RENDER(t,
		"version,amount,who\n"
		"1,1.00,c\n"
		"2,-1.00,a\n"
		"2,10.00,a\n"
		"2,9.00,a\n"
		"10,9.00,b\n"
		"123456789012345678901233,0,x\n"
		"123456789012345678901234,0,x\n");
	table_free(t);
}

static void test_quoting(void)
{
	static const char *const names[] = { "a,b", "say \"hi\"", "c" };
	static const enum col_kind kinds[] = { COL_TEXT, COL_TEXT, COL_NUM };
	struct table *t = table_new(3, names, kinds);

	add3(t, "1,2", "x", "");
	add3(t, "2", "say \"hi\"", "a\nb");
	add3(t, "3", "cr\rhere", "crlf\r\n");
	add3(t, "4", "\"", "plain text");
	add3(t, "5", "", "semi;colon");
	CHECK_RENDER(t,
		"\"a,b\",\"say \"\"hi\"\"\",c\n"
		"\"1,2\",x,\n"
		"2,\"say \"\"hi\"\"\",\"a\nb\"\n"
		"3,\"cr\rhere\",\"crlf\r\n\"\n"
		"4,\"\"\"\",plain text\n"
		"5,,semi;colon\n");
	table_free(t);
}

/* The raw cell values sort, not their quoted forms: "a b" (0x20) before
 * "a,b" (0x2c), though the quoted "\"a,b\"" starts with 0x22. */
static void test_sort_before_quoting(void)
{
	static const char *const names[] = { "k" };
	static const enum col_kind kinds[] = { COL_TEXT };
	struct table *t = table_new(1, names, kinds);
	const char *c[1];

	c[0] = "a,b";
	table_add(t, c);
	c[0] = "a b";
	table_add(t, c);
	c[0] = "a";
	table_add(t, c);
	CHECK_RENDER(t, "k\na\na b\n\"a,b\"\n");
	table_free(t);
}

/* Text columns only: a cell that is a prefix of the other sorts first,
 * whatever follows in the row ("a","z" before "ab","a"); rows added in
 * order, rows needing quotes among them, and a table in reverse order. */
static void test_sort_text_rows(void)
{
	static const char *const names[] = { "k", "v" };
	static const enum col_kind kinds[] = { COL_TEXT, COL_NUM };
	struct table *t = table_new(2, names, kinds);
	const char *c[2];

	c[0] = "a";
	c[1] = "z";
	table_add(t, c);
	c[0] = "ab";
	c[1] = "a";
	table_add(t, c);
	c[0] = "ab";
	c[1] = "a,b";
	table_add(t, c);
	c[0] = "b";
	c[1] = "";
	table_add(t, c);
	c[0] = "b";
	c[1] = "\"x\"";
	table_add(t, c);
	CHECK_RENDER(t, "k,v\na,z\nab,a\nab,\"a,b\"\nb,\n"
		     "b,\"\"\"x\"\"\"\n");
	table_free(t);

	t = table_new(2, names, kinds);
	c[0] = "b";
	c[1] = "\"x\"";
	table_add(t, c);
	c[0] = "b";
	c[1] = "";
	table_add(t, c);
	c[0] = "ab";
	c[1] = "a,b";
	table_add(t, c);
	c[0] = "ab";
	c[1] = "a";
	table_add(t, c);
	c[0] = "a";
	c[1] = "z";
	table_add(t, c);
	CHECK_RENDER(t, "k,v\na,z\nab,a\nab,\"a,b\"\nb,\n"
		     "b,\"\"\"x\"\"\"\n");
	table_free(t);
}

static void test_formula(void)
{
	static const char *const names[] = { "text", "num", "int" };
	static const enum col_kind kinds[] = { COL_TEXT, COL_NUM, COL_INT };
	struct table *t = table_new(3, names, kinds);

	add3(t, "=SUM(A1:A9)", "-12.50", "1");
	add3(t, "+1", "+3", "2");
	add3(t, "-1", "-0.000001", "3");
	add3(t, "@cmd", "@x", "4");
	add3(t, "a=b", "1.00", "5");
	add3(t, "=1,2", "0", "6");
	add3(t, "=\"x\"", "0", "7");
	add3(t, " =x", "0", "8");
	add3(t, "", "", "9");
	CHECK_RENDER(t,
		"text,num,int\n"
		",,9\n"
		" =x,0,8\n"
		"'+1,+3,2\n"
		"'-1,-0.000001,3\n"
		"\"'=\"\"x\"\"\",0,7\n"
		"\"'=1,2\",0,6\n"
		"'=SUM(A1:A9),-12.50,1\n"
		"'@cmd,@x,4\n"
		"a=b,1.00,5\n");
	table_free(t);
}

/* SPEC 9 (v2): a text cell that starts with a tab or a carriage return
 * is guarded with a leading quote too, and any control character makes a
 * cell quoted (RFC 4180 quotes line breaks; tabs and escapes are quoted
 * as well so that no reader trims, splits or shows them raw). Rows sort
 * by bytes after the guard: "'\t" and "'\r" both start with 0x27, then
 * 0x09 < 0x0d; "a\x1bb" (0x61) after them; "plain" (0x70) last. */
static void test_control_chars(void)
{
	static const char *const names[] = { "text", "num", "int" };
	static const enum col_kind kinds[] = { COL_TEXT, COL_NUM, COL_INT };
	struct table *t = table_new(3, names, kinds);

	add3(t, "\t=cmd", "0", "1");
	add3(t, "\r=cmd", "0", "2");
	add3(t, "a\x1b[31mb", "0", "3");
	add3(t, "plain", "0", "4");
	CHECK_RENDER(t,
		"text,num,int\n"
		"\"'\t=cmd\",0,1\n"
		"\"'\r=cmd\",0,2\n"
		"\"a\x1b[31mb\",0,3\n"
		"plain,0,4\n");
	table_free(t);
}

/* table_add copies the cells. */
static void test_copies(void)
{
	static const enum col_kind kinds[] = { COL_TEXT };
	char *names_buf = xstrdup("name");
	const char *nm[1];
	struct table *t;
	char buf[8];
	const char *c[1];

	nm[0] = names_buf;
	t = table_new(1, nm, kinds);
	free(names_buf);
	memcpy(buf, "abc", 4);
	c[0] = buf;
	table_add(t, c);
	memcpy(buf, "zzz", 4);
	TEST_EQ_INT(table_rows(t), 1);
	CHECK_RENDER(t, "name\nabc\n");
	table_free(t);
}

/* ---- files ---- */

static char tmpdir[64];

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static void rm_tree(const char *p)
{
	nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *path_in(const char *name)
{
	size_t n = strlen(tmpdir) + strlen(name) + 2;
	char *p = xmalloc(n);

	snprintf(p, n, "%s/%s", tmpdir, name);
	return p;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	size_t cap = 0, n = 0, k;

	if (!f)
		return NULL;
	do {
		xgrow((void **)&p, &cap, n + 4096, 1);
		k = fread(p + n, 1, 4096, f);
		n += k;
	} while (k > 0);
	fclose(f);
	*len = n;
	return p;
}

static int same_file(const char *path, const char *want, size_t wlen)
{
	size_t n = 0;
	char *p = slurp(path, &n);
	int ok = p && n == wlen && memcmp(p, want, n) == 0;

	free(p);
	return ok;
}

/* Number of directory entries other than . and .. */
static int dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

/* Sets the file's mtime to a fixed instant long ago. */
static void age(const char *p)
{
	struct timespec ts[2];

	ts[0].tv_sec = ts[1].tv_sec = 1000000000;
	ts[0].tv_nsec = ts[1].tv_nsec = 123;
	TEST_EQ_INT(utimensat(AT_FDCWD, p, ts, 0), 0);
}

static void test_put_file(void)
{
	char *p = path_in("invoices.csv");
	char *tmp = path_in("invoices.csv.tmp");
	struct err e;
	struct stat st;
	const char *a = "x,y\n1,2\n";
	const char *b = "x,y\n1,3\n";

	err_clear(&e);
	/* written when new; mode 0644 whatever the umask */
	umask(077);
	TEST_EQ_INT(out_put_file(p, a, strlen(a), &e), 1);
	umask(022);
	TEST_EQ_INT(e.code, 0);
	TEST_TRUE(same_file(p, a, strlen(a)));
	TEST_TRUE(!exists(tmp));
	TEST_EQ_INT(dir_entries(tmpdir), 1);
	TEST_EQ_INT(stat(p, &st), 0);
	TEST_EQ_INT(st.st_mode & 07777, 0644);
	TEST_TRUE(S_ISREG(st.st_mode));

	/* the same bytes again: not written, mtime unchanged */
	age(p);
	TEST_EQ_INT(out_put_file(p, a, strlen(a), &e), 0);
	TEST_EQ_INT(stat(p, &st), 0);
	TEST_EQ_INT(st.st_mtim.tv_sec, 1000000000);
	TEST_EQ_INT(st.st_mtim.tv_nsec, 123);
	TEST_TRUE(!exists(tmp));

	/* other bytes of the same length: written, replaced whole */
	TEST_EQ_INT(out_put_file(p, b, strlen(b), &e), 1);
	TEST_TRUE(same_file(p, b, strlen(b)));
	TEST_EQ_INT(stat(p, &st), 0);
	TEST_TRUE(st.st_mtim.tv_sec != 1000000000);
	/* a prefix of what is there, and a longer text */
	TEST_EQ_INT(out_put_file(p, b, 4, &e), 1);
	TEST_TRUE(same_file(p, b, 4));
	TEST_EQ_INT(out_put_file(p, b, strlen(b), &e), 1);
	TEST_TRUE(same_file(p, b, strlen(b)));
	TEST_EQ_INT(out_put_file(p, b, strlen(b), &e), 0);

	/* a file of mode 0600 with other bytes ends up 0644 */
	TEST_EQ_INT(chmod(p, 0600), 0);
	TEST_EQ_INT(out_put_file(p, a, strlen(a), &e), 1);
	TEST_EQ_INT(stat(p, &st), 0);
	TEST_EQ_INT(st.st_mode & 07777, 0644);
	TEST_TRUE(!exists(tmp));
	TEST_EQ_INT(dir_entries(tmpdir), 1);
	TEST_EQ_INT(e.code, 0);
	free(p);
	free(tmp);
}

static void test_put_file_empty_and_big(void)
{
	char *p = path_in("empty.csv");
	char *q = path_in("big.csv");
	struct err e;
	struct stat st;
	size_t n = 300000, i;
	char *big = xmalloc(n);

	err_clear(&e);
	TEST_EQ_INT(out_put_file(p, "", 0, &e), 1);
	TEST_EQ_INT(stat(p, &st), 0);
	TEST_EQ_INT(st.st_size, 0);
	TEST_EQ_INT(out_put_file(p, "", 0, &e), 0);
	TEST_EQ_INT(out_put_file(p, "x", 1, &e), 1);
	TEST_TRUE(same_file(p, "x", 1));
	TEST_EQ_INT(out_put_file(p, "", 0, &e), 1);
	TEST_EQ_INT(stat(p, &st), 0);
	TEST_EQ_INT(st.st_size, 0);

	/* larger than one read buffer: compared whole */
	for (i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	TEST_EQ_INT(out_put_file(q, big, n, &e), 1);
	TEST_EQ_INT(out_put_file(q, big, n, &e), 0);
	big[n - 1] = '!';
	TEST_EQ_INT(out_put_file(q, big, n, &e), 1);
	TEST_TRUE(same_file(q, big, n));
	big[70000] = '!';
	TEST_EQ_INT(out_put_file(q, big, n, &e), 1);
	TEST_TRUE(same_file(q, big, n));
	TEST_EQ_INT(out_put_file(q, big, n - 1, &e), 1);
	TEST_TRUE(same_file(q, big, n - 1));
	TEST_EQ_INT(out_put_file(q, big, n - 1, &e), 0);
	TEST_EQ_INT(e.code, 0);
	free(big);
	free(p);
	free(q);
}

static void test_put_file_fail(void)
{
	char *p = path_in("no/such/dir/x.csv");
	struct err e;

	err_clear(&e);
	TEST_EQ_INT(out_put_file(p, "a", 1, &e), -1);
	TEST_EQ_INT(e.code, ST_ERROR);
	TEST_TRUE(strstr(e.msg, "no/such/dir/x.csv") != NULL);
	free(p);
}

static int is_dir(const char *p, mode_t *mode)
{
	struct stat st;

	if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
		return 0;
	*mode = st.st_mode & 07777;
	return 1;
}

static void test_mkdirs(void)
{
	char *abc = path_in("d/a/b/c");
	char *ab = path_in("d/a/b");
	char *d = path_in("d");
	char *slash = path_in("e/f/");
	char *ef = path_in("e/f");
	char *file = path_in("plain");
	char *under = path_in("plain/sub");
	struct err e;
	mode_t m = 0;
	FILE *f;

	umask(022);
	err_clear(&e);
	TEST_EQ_INT(out_mkdirs(abc, &e), 0);
	TEST_EQ_INT(e.code, 0);
	TEST_TRUE(is_dir(d, &m));
	TEST_EQ_INT(m, 0755);
	TEST_TRUE(is_dir(ab, &m));
	TEST_TRUE(is_dir(abc, &m));
	TEST_EQ_INT(m, 0755);
	/* again: already there */
	TEST_EQ_INT(out_mkdirs(abc, &e), 0);
	TEST_EQ_INT(out_mkdirs(ab, &e), 0);
	TEST_EQ_INT(e.code, 0);
	/* a trailing slash */
	TEST_EQ_INT(out_mkdirs(slash, &e), 0);
	TEST_TRUE(is_dir(ef, &m));

	/* under a regular file: fails, naming the path */
	f = fopen(file, "w");
	TEST_TRUE(f != NULL);
	if (f)
		fclose(f);
	err_clear(&e);
	TEST_TRUE(out_mkdirs(under, &e) != 0);
	TEST_EQ_INT(e.code, ST_ERROR);
	TEST_TRUE(strstr(e.msg, "plain") != NULL);
	/* the path itself a regular file: not a directory, so it fails */
	err_clear(&e);
	TEST_TRUE(out_mkdirs(file, &e) != 0);
	TEST_EQ_INT(e.code, ST_ERROR);
	free(abc);
	free(ab);
	free(d);
	free(slash);
	free(ef);
	free(file);
	free(under);
}

/* table_stream: rows added in sorted order render as a table_new table
 * of the same rows would (header, quoting, formula prefix: the texts
 * below are written from those rules); the order check uses the sort's
 * rules (a COL_INT column as numbers, a formula prefix before the
 * compare); a row before the one added before makes table_in_order 0. */
static void test_stream(void)
{
	static const char *const names[] = { "file", "line", "note" };
	static const enum col_kind kinds[] = { COL_TEXT, COL_INT, COL_TEXT };
	struct table *t = table_stream(3, names, kinds);

	TEST_EQ_INT(table_in_order(t), 1);
	CHECK_RENDER(t, "file,line,note\n");
	table_free(t);

	t = table_stream(3, names, kinds);
	/* "+y" is stored "'+y": below "'x" ('+' 0x2b < 'x'), though "+y"
	 * as written is above it ('+' 0x2b > '\'' 0x27) */
	add3(t, "+y", "0", "-z");
	add3(t, "+y", "0", "-z");    /* an equal row is in order */
	add3(t, "'x", "1", "a");
	add3(t, "'x", "9", "b,c");    /* 9 < 10 as numbers */
	add3(t, "'x", "10", "q\"q");
	add3(t, "a", "0", "plain");  /* 'a' 0x61 > '\'' 0x27 */
	TEST_EQ_INT(table_in_order(t), 1);
	TEST_EQ_INT(table_rows(t), 6);
	CHECK_RENDER(t,
		"file,line,note\n"
		"'+y,0,'-z\n"
		"'+y,0,'-z\n"
		"'x,1,a\n"
		"'x,9,\"b,c\"\n"
		"'x,10,\"q\"\"q\"\n"
		"a,0,plain\n");
	table_free(t);

	/* "10" before "9" as numbers is out of order; rows after that are
	 * not taken */
	t = table_stream(3, names, kinds);
	add3(t, "a", "10", "x");
	add3(t, "a", "9", "x");
	TEST_EQ_INT(table_in_order(t), 0);
	add3(t, "b", "1", "x");
	TEST_EQ_INT(table_in_order(t), 0);
	table_free(t);

	/* bytes: "B" (0x42) sorts before "a" (0x61), so "a" then "B" is out
	 * of order */
	t = table_stream(3, names, kinds);
	add3(t, "a", "1", "x");
	add3(t, "B", "1", "x");
	TEST_EQ_INT(table_in_order(t), 0);
	table_free(t);
}

int main(void)
{
	char tmpl[] = "/tmp/settle-test-out-XXXXXX";

	test_sort();
	test_sort_kinds();
	test_quoting();
	test_sort_before_quoting();
	test_sort_text_rows();
	test_formula();
	test_control_chars();
	test_copies();
	test_stream();

	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(tmpdir, sizeof(tmpdir), "%s", tmpl);
	test_put_file();
	test_put_file_empty_and_big();
	test_put_file_fail();
	test_mkdirs();
	rm_tree(tmpdir);
	TEST_TRUE(!exists(tmpdir));
	return TEST_REPORT();
}
