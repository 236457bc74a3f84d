/* Unit tests for store: the state file's creation, lock and schema checks,
 * and the file registry with its batches, rejects and checkpoints. Each
 * test works in its own directory under /tmp, removed at the end. */
#include "store.h"

#include <fcntl.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "store_int.h" /* store_conn: the tests read the state directly */
#include "testhelp.h"

/* record keys for store_batch_put: the store keeps them as given */
static const uint64_t zk[16];

/* The first current row, by path, with this sha under another path:
 * 1 found, 0 none, -1 error (what ingest asks of the store). */
static int by_sha(struct store *s, const unsigned char *sha, const char *path,
		  struct store_file *f, struct err *e)
{
	char **paths;
	size_t n, i;
	int rc;

	if (store_paths_with_sha(s, sha, path, &paths, &n, e))
		return -1;
	rc = n ? store_file_current(s, paths[0], f, e) : 0;
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	return rc;
}
#include "banned.h"

/* ---- temp dirs ---- */

static char tmpdir[64];

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static char *path_in(const char *name)
{
	size_t n = strlen(tmpdir) + strlen(name) + 2;
	char *p = xmalloc(n);

	snprintf(p, n, "%s/%s", tmpdir, name);
	return p;
}

/* ---- helpers ---- */

/* The single integer a query gives (with ?1 bound to arg), or -999. */
static long long q1(struct store *s, const char *sql, long long arg)
{
	sqlite3_stmt *st = NULL;
	long long v = -999;

	if (sqlite3_prepare_v2(store_conn(s), sql, -1, &st, NULL) != SQLITE_OK)
		return v;
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_int64(st, 1, arg);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void sha_fill(unsigned char sha[32], unsigned char seed)
{
	int i;

	for (i = 0; i < 32; i++)
		sha[i] = (unsigned char)(seed + i * 7);
}

/* Appends to a growing text, for comparing callback sequences. */
struct text {
	char *p;
	size_t n, cap;
};

static void text_add(struct text *t, const char *s, size_t n)
{
	xgrow((void **)&t->p, &t->cap, t->n + n + 1, 1);
	memcpy(t->p + t->n, s, n);
	t->n += n;
	t->p[t->n] = '\0';
}

static void text_str(struct text *t, const char *s)
{
	text_add(t, s, strlen(s));
}

static void text_u64(struct text *t, unsigned long long v)
{
	char b[32];
	int n = snprintf(b, sizeof(b), "%llu", v);

	text_add(t, b, (size_t)n);
}

static const char *text_get(struct text *t)
{
	return t->p ? t->p : "";
}

static void text_free(struct text *t)
{
	free(t->p);
	memset(t, 0, sizeof(*t));
}

/* "path:state:records:rejected:error;" per row */
static int files_fn(void *ctx, const struct store_file *f)
{
	struct text *t = ctx;

	text_str(t, f->path);
	text_str(t, ":");
	text_u64(t, (unsigned)f->state);
	text_str(t, ":");
	text_u64(t, f->records);
	text_str(t, ":");
	text_u64(t, f->rejected);
	text_str(t, ":");
	text_str(t, f->error);
	text_str(t, ";");
	return 0;
}

/* "path:<hex of data>;" per batch */
static int batches_fn(void *ctx, const struct store_batch *b,
		      const void *data, size_t len)
{
	struct text *t = ctx;
	const unsigned char *p = data;
	size_t i;

	text_str(t, b->path);
	text_str(t, ":");
	for (i = 0; i < len; i++) {
		char h[3];

		snprintf(h, sizeof(h), "%02x", p[i]);
		text_add(t, h, 2);
	}
	text_str(t, ";");
	return 0;
}

/* "path:line:record_id:tenant:reason[@ts];" per reject (@ts when it
 * has one) */
static int rejects_fn(void *ctx, const char *path, uint64_t line,
		      const char *record_id, const char *tenant,
		      const char *reason, const int64_t *ts)
{
	struct text *t = ctx;

	text_str(t, path);
	text_str(t, ":");
	text_u64(t, line);
	text_str(t, ":");
	text_str(t, record_id);
	text_str(t, ":");
	text_str(t, tenant);
	text_str(t, ":");
	text_str(t, reason);
	if (ts) {
		text_str(t, "@");
		text_u64(t, (uint64_t)*ts);
	}
	text_str(t, ";");
	return 0;
}

static void check_files(struct store *s, const char *want, int line)
{
	struct text t = { 0 };
	struct err e;

	err_clear(&e);
	TEST_EQ_INT(store_files(s, files_fn, &t, &e), 0);
	if (strcmp(text_get(&t), want) != 0)
		fprintf(stderr, "files at line %d\n", line);
	TEST_EQ_STR(text_get(&t), want);
	text_free(&t);
}

static void check_batches(struct store *s, const char *want, int line)
{
	struct text t = { 0 };
	struct err e;

	err_clear(&e);
	TEST_EQ_INT(store_batches(s, INT64_MIN, batches_fn, &t, &e), 0);
	if (strcmp(text_get(&t), want) != 0)
		fprintf(stderr, "batches at line %d\n", line);
	TEST_EQ_STR(text_get(&t), want);
	text_free(&t);
}

static void check_rejects(struct store *s, const char *want, int line)
{
	struct text t = { 0 };
	struct err e;

	err_clear(&e);
	TEST_EQ_INT(store_rejects(s, rejects_fn, &t, &e), 0);
	if (strcmp(text_get(&t), want) != 0)
		fprintf(stderr, "rejects at line %d\n", line);
	TEST_EQ_STR(text_get(&t), want);
	text_free(&t);
}

#define CHECK_FILES(s, w) check_files(s, w, __LINE__)
#define CHECK_BATCHES(s, w) check_batches(s, w, __LINE__)
#define CHECK_REJECTS(s, w) check_rejects(s, w, __LINE__)

/* What versions 3, 4 and 5 added, dropped again: an older state's
 * tables. */
#define OLD_SCHEMA_SQL V5_SQL V4_SQL "ALTER TABLE reject DROP COLUMN ts;" \
	"ALTER TABLE invoice DROP COLUMN net;" \
	"ALTER TABLE invoice DROP COLUMN tax;" \
	"ALTER TABLE invoice DROP COLUMN tax_rate;" \
	"ALTER TABLE invoice DROP COLUMN tax_category;" \
	"ALTER TABLE invoice DROP COLUMN issue_date;" \
	"ALTER TABLE invoice DROP COLUMN due_date;" \
	"ALTER TABLE adjustment DROP COLUMN issue_date;" \
	"INSERT INTO invoice(period, tenant, currency, number, version," \
	" total) VALUES(1, 't', 'CNY', 1, 1, 5000000);"

/* What version 5 added, dropped again. */
#define V5_SQL "DROP TABLE out_stamp; DROP TABLE carry_acct;" \
	"DROP TABLE carry_period;"

/* What version 4 added, dropped again. */
#define V4_SQL "ALTER TABLE batch DROP COLUMN min_ts;" \
	"ALTER TABLE batch DROP COLUMN max_ts;" \
	"DROP TABLE ckpt_period; DROP TABLE ckpt_pkg;" \
	"DROP INDEX invoice_account; CREATE INDEX invoice_account ON" \
	" invoice(tenant, currency, period);"

/* ---- open, lock, schema ---- */

static void test_open(void)
{
	char *db = path_in("open.db");
	struct store *s, *s2;
	struct err e;
	struct stat st;

	umask(022);
	err_clear(&e);
	TEST_TRUE(access(db, F_OK) != 0);
	s = store_open(db, STORE_CREATE, &e);
	TEST_TRUE(s != NULL);
	TEST_EQ_INT(e.code, 0);
	if (!s) {
		fprintf(stderr, "store_open: %s\n", e.msg);
		free(db);
		return;
	}
	TEST_EQ_INT(stat(db, &st), 0);
	TEST_EQ_INT(st.st_mode & 07777, 0600);
	TEST_EQ_INT(q1(s, "PRAGMA user_version", 0), 5);
	TEST_EQ_INT(q1(s, "SELECT count(*) FROM sqlite_master WHERE type ="
		       " 'table' AND name IN ('file', 'batch', 'reject')", 0),
		    3);
	TEST_EQ_INT(q1(s, "SELECT count(*) FROM file", 0), 0);

	/* a second open of the same file, even in this process, is busy */
	err_clear(&e);
	s2 = store_open(db, STORE_CREATE, &e);
	TEST_TRUE(s2 == NULL);
	TEST_EQ_INT(e.code, ST_BUSY);
	TEST_TRUE(strstr(e.msg, db) != NULL);
	store_close(s2);
	/* the failed open did not drop the first one's lock */
	err_clear(&e);
	s2 = store_open(db, STORE_CREATE, &e);
	TEST_TRUE(s2 == NULL);
	TEST_EQ_INT(e.code, ST_BUSY);
	store_close(s2);

	/* the first is still usable */
	err_clear(&e);
	TEST_EQ_INT(store_begin(s, &e), 0);
	TEST_EQ_INT(store_commit(s, &e), 0);
	store_close(s);
	store_close(NULL);

	/* closed: it opens again, and the schema is kept */
	err_clear(&e);
	s = store_open(db, STORE_CREATE, &e);
	TEST_TRUE(s != NULL);
	if (s) {
		TEST_EQ_INT(q1(s, "PRAGMA user_version", 0), 5);
		TEST_EQ_INT(stat(db, &st), 0);
		TEST_EQ_INT(st.st_mode & 07777, 0600);
		store_close(s);
	}
	free(db);

	/* a directory that does not exist: an error naming the path */
	db = path_in("no/such/dir/state.db");
	err_clear(&e);
	s = store_open(db, STORE_CREATE, &e);
	TEST_TRUE(s == NULL);
	TEST_EQ_INT(e.code, ST_ERROR);
	TEST_TRUE(strstr(e.msg, db) != NULL);
	store_close(s);
	free(db);
}

static void test_newer(void)
{
	char *db = path_in("newer.db");
	sqlite3 *h = NULL;
	struct store *s;
	struct err e;
	sqlite3_stmt *st = NULL;
	int v = -1;

	TEST_EQ_INT(sqlite3_open(db, &h), SQLITE_OK);
	TEST_EQ_INT(sqlite3_exec(h, "CREATE TABLE x(a); PRAGMA user_version"
				 " = 99;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);

	err_clear(&e);
	s = store_open(db, STORE_CREATE, &e);
	TEST_TRUE(s == NULL);
	TEST_EQ_INT(e.code, ST_ERROR);
	TEST_TRUE(strstr(e.msg, "newer") != NULL);
	TEST_TRUE(strstr(e.msg, db) != NULL);
	store_close(s);
	/* refused again the same way: the failed open left no lock */
	err_clear(&e);
	s = store_open(db, STORE_CREATE, &e);
	TEST_TRUE(s == NULL);
	TEST_EQ_INT(e.code, ST_ERROR);
	store_close(s);

	/* and the file is untouched */
	h = NULL;
	TEST_EQ_INT(sqlite3_open(db, &h), SQLITE_OK);
	if (sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	TEST_EQ_INT(v, 99);
	st = NULL;
	v = -1;
	if (sqlite3_prepare_v2(h, "SELECT count(*) FROM sqlite_master WHERE"
			       " name = 'file'", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	TEST_EQ_INT(v, 0);
	sqlite3_close(h);
	free(db);
}

static void test_not_sqlite(void)
{
	char *db = path_in("junk.db");
	unsigned char junk[8192], back[8192];
	uint32_t x = 12345;
	struct store *s;
	struct err e;
	size_t i;
	FILE *f;

	for (i = 0; i < sizeof(junk); i++) {
		x = x * 1103515245u + 12345u;
		junk[i] = (unsigned char)(x >> 16);
	}
	f = fopen(db, "wb");
	TEST_TRUE(f != NULL);
	if (!f) {
		free(db);
		return;
	}
	TEST_EQ_INT(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
	fclose(f);

	err_clear(&e);
	s = store_open(db, STORE_CREATE, &e);
	TEST_TRUE(s == NULL);
	TEST_EQ_INT(e.code, ST_ERROR);
	TEST_TRUE(strstr(e.msg, db) != NULL);
	store_close(s);

	/* the file is left as it was */
	f = fopen(db, "rb");
	TEST_TRUE(f != NULL);
	if (f) {
		TEST_EQ_INT(fread(back, 1, sizeof(back), f), sizeof(back));
		TEST_EQ_INT(fgetc(f), EOF);
		fclose(f);
		TEST_TRUE(memcmp(junk, back, sizeof(junk)) == 0);
	}
	free(db);
}

/* ---- the file registry ---- */

static void test_roundtrip(void)
{
	char *db = path_in("rt.db");
	struct store *s;
	struct store_file f;
	struct err e;
	unsigned char sha_a[32], sha_b[32];
	int64_t id1 = -1, id2 = -1;
	static const unsigned char blob1[] = { 0x00, 0x01, 0xff, 0x00, 0x7f };
	static const unsigned char blob2[] = { 0xab, 0xcd };
	static const unsigned char blob3[] = { 0x42 };

	sha_fill(sha_a, 1);
	sha_fill(sha_b, 200);
	err_clear(&e);
	s = store_open(db, STORE_CREATE, &e);
	TEST_TRUE(s != NULL);
	if (!s) {
		free(db);
		return;
	}

	/* ingest of u/a.csv: a LOADING row with batches, rejects and a
	 * checkpoint; seq 2 is put before seq 1 */
	TEST_EQ_INT(store_begin(s, &e), 0);
	TEST_EQ_INT(store_file_begin(s, "u/a.csv", 123, sha_a, &id1, &e), 0);
	TEST_TRUE(id1 > 0);
	TEST_EQ_INT(store_batch_put(s, id1, 2, 2, blob2, sizeof(blob2), zk, INT64_MIN, INT64_MAX, &e),
		    0);
	TEST_EQ_INT(store_batch_put(s, id1, 1, 3, blob1, sizeof(blob1), zk, INT64_MIN, INT64_MAX, &e),
		    0);
	TEST_EQ_INT(store_reject_put(s, id1, 7, "r7", 2, "t1", 2, "bad_ts",
				     NULL, &e), 0);
	/* lengths given: only the first rid_len / tenant_len bytes count;
	 * a ts is kept as given */
	TEST_EQ_INT(store_reject_put(s, id1, 3, "r3XYZ", 2, "t2,more", 2,
				     "bad_field", &(int64_t){ 1234 }, &e), 0);
	TEST_EQ_INT(store_checkpoint(s, id1, 4096, 7, 2, &e), 0);
	TEST_EQ_INT(store_commit(s, &e), 0);
	TEST_EQ_INT(e.code, 0);

	TEST_EQ_INT(store_file_loading(s, "u/a.csv", &f, &e), 1);
	TEST_EQ_INT(f.id, id1);
	TEST_EQ_STR(f.path, "u/a.csv");
	TEST_EQ_INT(f.size, 123);
	TEST_TRUE(memcmp(f.sha, sha_a, 32) == 0);
	TEST_EQ_INT(f.state, FILE_LOADING);
	TEST_EQ_INT(f.records, 0);
	TEST_EQ_INT(f.rejected, 0);
	TEST_EQ_STR(f.error, "");
	TEST_EQ_INT(f.ck_raw, 4096);
	TEST_EQ_INT(f.ck_records, 7);
	TEST_EQ_INT(f.ck_seq, 2);
	store_file_release(&f);
	TEST_EQ_INT(store_file_current(s, "u/a.csv", &f, &e), 0);
	TEST_EQ_INT(store_file_loading(s, "u/other.csv", &f, &e), 0);
	/* a loading row is listed, but its data is not read */
	CHECK_FILES(s, "u/a.csv:0:0:0:;");
	CHECK_BATCHES(s, "");
	CHECK_REJECTS(s, "");
	/* and it is not found by content */
	TEST_EQ_INT(by_sha(s, sha_a, "u/x.csv", &f, &e), 0);

	/* a second LOADING row for the same path is refused */
	{
		int64_t dup = -1;

		err_clear(&e);
		TEST_EQ_INT(store_file_begin(s, "u/a.csv", 1, sha_b, &dup, &e),
			    -1);
		TEST_EQ_INT(e.code, ST_ERROR);
		TEST_EQ_INT(q1(s, "SELECT count(*) FROM file", 0), 1);
	}

	/* finish: current, counted from what it holds */
	err_clear(&e);
	TEST_EQ_INT(store_begin(s, &e), 0);
	TEST_EQ_INT(store_file_finish(s, id1, FILE_OK, NULL, &e), 0);
	TEST_EQ_INT(store_commit(s, &e), 0);
	TEST_EQ_INT(e.code, 0);
	TEST_EQ_INT(store_file_loading(s, "u/a.csv", &f, &e), 0);
	TEST_EQ_INT(store_file_current(s, "u/a.csv", &f, &e), 1);
	TEST_EQ_INT(f.id, id1);
	TEST_EQ_STR(f.path, "u/a.csv");
	TEST_EQ_INT(f.size, 123);
	TEST_TRUE(memcmp(f.sha, sha_a, 32) == 0);
	TEST_EQ_INT(f.state, FILE_OK);
	TEST_EQ_INT(f.records, 5);
	TEST_EQ_INT(f.rejected, 2);
	TEST_EQ_STR(f.error, "");
	TEST_EQ_INT(f.ck_raw, 0);
	TEST_EQ_INT(f.ck_records, 0);
	TEST_EQ_INT(f.ck_seq, 0);
	store_file_release(&f);
	TEST_TRUE(f.path == NULL && f.error == NULL);
	CHECK_FILES(s, "u/a.csv:1:5:2:;");
	CHECK_BATCHES(s, "u/a.csv:0001ff007f;u/a.csv:abcd;");
	CHECK_REJECTS(s, "u/a.csv:3:r3:t2:bad_field@1234;"
		      "u/a.csv:7:r7:t1:bad_ts;");

	/* found by content under another path only */
	TEST_EQ_INT(by_sha(s, sha_a, "u/copy.csv", &f, &e), 1);
	TEST_EQ_INT(f.id, id1);
	TEST_EQ_STR(f.path, "u/a.csv");
	store_file_release(&f);
	TEST_EQ_INT(by_sha(s, sha_a, "u/a.csv", &f, &e), 0);
	TEST_EQ_INT(by_sha(s, sha_b, "u/copy.csv", &f, &e), 0);

	/* a corrected u/a.csv: while it loads, the old data is what is
	 * read */
	err_clear(&e);
	TEST_EQ_INT(store_begin(s, &e), 0);
	TEST_EQ_INT(store_file_begin(s, "u/a.csv", 200, sha_b, &id2, &e), 0);
	TEST_TRUE(id2 > 0 && id2 != id1);
	TEST_EQ_INT(store_batch_put(s, id2, 1, 4, blob3, sizeof(blob3), zk, INT64_MIN, INT64_MAX, &e),
		    0);
	TEST_EQ_INT(store_commit(s, &e), 0);
	CHECK_FILES(s, "u/a.csv:0:0:0:;u/a.csv:1:5:2:;");
	CHECK_BATCHES(s, "u/a.csv:0001ff007f;u/a.csv:abcd;");
	CHECK_REJECTS(s, "u/a.csv:3:r3:t2:bad_field@1234;"
		      "u/a.csv:7:r7:t1:bad_ts;");

	/* finishing it replaces the old row and all its data */
	TEST_EQ_INT(store_begin(s, &e), 0);
	TEST_EQ_INT(store_file_finish(s, id2, FILE_OK, NULL, &e), 0);
	TEST_EQ_INT(store_commit(s, &e), 0);
	TEST_EQ_INT(e.code, 0);
	TEST_EQ_INT(store_file_current(s, "u/a.csv", &f, &e), 1);
	TEST_EQ_INT(f.id, id2);
	TEST_EQ_INT(f.size, 200);
	TEST_TRUE(memcmp(f.sha, sha_b, 32) == 0);
	TEST_EQ_INT(f.records, 4);
	TEST_EQ_INT(f.rejected, 0);
	store_file_release(&f);
	CHECK_FILES(s, "u/a.csv:1:4:0:;");
	CHECK_BATCHES(s, "u/a.csv:42;");
	CHECK_REJECTS(s, "");
	TEST_EQ_INT(q1(s, "SELECT count(*) FROM file WHERE id = ?1", id1), 0);
	TEST_EQ_INT(q1(s, "SELECT count(*) FROM batch WHERE file_id = ?1",
		       id1), 0);
	TEST_EQ_INT(q1(s, "SELECT count(*) FROM reject WHERE file_id = ?1",
		       id1), 0);
	/* the old content is no longer found, the new one is */
	TEST_EQ_INT(by_sha(s, sha_a, "u/copy.csv", &f, &e), 0);
	TEST_EQ_INT(by_sha(s, sha_b, "u/copy.csv", &f, &e), 1);
	TEST_EQ_INT(f.id, id2);
	store_file_release(&f);

	/* kept across a reopen */
	store_close(s);
	err_clear(&e);
	s = store_open(db, STORE_CREATE, &e);
	TEST_TRUE(s != NULL);
	if (s) {
		CHECK_FILES(s, "u/a.csv:1:4:0:;");
		CHECK_BATCHES(s, "u/a.csv:42;");
		store_close(s);
	}
	free(db);
}

static void test_failed_file(void)
{
	char *db = path_in("failed.db");
	struct store *s;
	struct store_file f;
	struct err e;
	unsigned char sha[32], sha2[32], sha3[32];
	int64_t ok = -1, bad = -1, first = -1;
	static const unsigned char blob[] = { 1, 2, 3 };

	sha_fill(sha, 9);
	sha_fill(sha2, 10);
	sha_fill(sha3, 11);
	err_clear(&e);
	s = store_open(db, STORE_CREATE, &e);
	TEST_TRUE(s != NULL);
	if (!s) {
		free(db);
		return;
	}

	/* u/b.csv fails: its own batches and rejects go, nothing counts */
	TEST_EQ_INT(store_begin(s, &e), 0);
	TEST_EQ_INT(store_file_begin(s, "u/b.csv", 10, sha, &bad, &e), 0);
	TEST_EQ_INT(store_batch_put(s, bad, 1, 3, blob, sizeof(blob), zk, INT64_MIN, INT64_MAX, &e), 0);
	TEST_EQ_INT(store_reject_put(s, bad, 2, "r", 1, "t", 1, "bad_ts",
				     NULL, &e), 0);
	TEST_EQ_INT(store_checkpoint(s, bad, 100, 4, 1, &e), 0);
	TEST_EQ_INT(store_file_finish(s, bad, FILE_FAILED,
				      "truncated gzip in 'u/b.csv'", &e), 0);
	TEST_EQ_INT(store_commit(s, &e), 0);
	TEST_EQ_INT(e.code, 0);
	TEST_EQ_INT(store_file_current(s, "u/b.csv", &f, &e), 1);
	TEST_EQ_INT(f.id, bad);
	TEST_EQ_INT(f.state, FILE_FAILED);
	TEST_EQ_INT(f.records, 0);
	TEST_EQ_INT(f.rejected, 0);
	TEST_EQ_STR(f.error, "truncated gzip in 'u/b.csv'");
	TEST_EQ_INT(f.ck_raw, 0);
	TEST_EQ_INT(f.ck_records, 0);
	TEST_EQ_INT(f.ck_seq, 0);
	store_file_release(&f);
	TEST_EQ_INT(q1(s, "SELECT count(*) FROM batch WHERE file_id = ?1",
		       bad), 0);
	TEST_EQ_INT(q1(s, "SELECT count(*) FROM reject WHERE file_id = ?1",
		       bad), 0);
	CHECK_FILES(s, "u/b.csv:2:0:0:truncated gzip in 'u/b.csv';");
	CHECK_BATCHES(s, "");
	CHECK_REJECTS(s, "");

	/* u/c.csv loads fine, then a corrected u/c.csv fails: the failed
	 * row replaces the old one, whose data goes too */
	TEST_EQ_INT(store_begin(s, &e), 0);
	TEST_EQ_INT(store_file_begin(s, "u/c.csv", 20, sha2, &first, &e), 0);
	TEST_EQ_INT(store_batch_put(s, first, 1, 2, blob, sizeof(blob), zk, INT64_MIN, INT64_MAX, &e),
		    0);
	TEST_EQ_INT(store_reject_put(s, first, 5, "r5", 2, "t", 1, "no_price",
				     NULL, &e), 0);
	TEST_EQ_INT(store_file_finish(s, first, FILE_OK, "", &e), 0);
	TEST_EQ_INT(store_commit(s, &e), 0);
	CHECK_FILES(s, "u/b.csv:2:0:0:truncated gzip in 'u/b.csv';"
		    "u/c.csv:1:2:1:;");
	CHECK_BATCHES(s, "u/c.csv:010203;");
	CHECK_REJECTS(s, "u/c.csv:5:r5:t:no_price;");
	/* a FAILED row is current: found by content */
	TEST_EQ_INT(by_sha(s, sha, "u/z.csv", &f, &e), 1);
	TEST_EQ_INT(f.id, bad);
	store_file_release(&f);

	TEST_EQ_INT(store_begin(s, &e), 0);
	TEST_EQ_INT(store_file_begin(s, "u/c.csv", 21, sha3, &ok, &e), 0);
	TEST_EQ_INT(store_batch_put(s, ok, 1, 9, blob, sizeof(blob), zk, INT64_MIN, INT64_MAX, &e), 0);
	TEST_EQ_INT(store_file_finish(s, ok, FILE_FAILED, "bad", &e), 0);
	TEST_EQ_INT(store_commit(s, &e), 0);
	CHECK_FILES(s, "u/b.csv:2:0:0:truncated gzip in 'u/b.csv';"
		    "u/c.csv:2:0:0:bad;");
	CHECK_BATCHES(s, "");
	CHECK_REJECTS(s, "");
	TEST_EQ_INT(q1(s, "SELECT count(*) FROM batch", 0), 0);
	TEST_EQ_INT(q1(s, "SELECT count(*) FROM reject", 0), 0);
	TEST_EQ_INT(q1(s, "SELECT count(*) FROM file", 0), 2);
	store_close(s);
	free(db);
}

static void test_forget_drop(void)
{
	char *db = path_in("forget.db");
	struct store *s;
	struct store_file f;
	struct err e;
	unsigned char sha[32];
	int64_t a = -1, a2 = -1, b = -1, c = -1;
	static const unsigned char blob[] = { 7 };

	sha_fill(sha, 3);
	err_clear(&e);
	s = store_open(db, STORE_CREATE, &e);
	TEST_TRUE(s != NULL);
	if (!s) {
		free(db);
		return;
	}
	TEST_EQ_INT(store_begin(s, &e), 0);
	/* u/a.csv: current and loading; u/b.csv: current; u/c.csv: loading */
	TEST_EQ_INT(store_file_begin(s, "u/a.csv", 1, sha, &a, &e), 0);
	TEST_EQ_INT(store_batch_put(s, a, 1, 1, blob, 1, zk, INT64_MIN, INT64_MAX, &e), 0);
	TEST_EQ_INT(store_reject_put(s, a, 1, "x", 1, "t", 1, "bad_ts",
				     NULL, &e), 0);
	TEST_EQ_INT(store_file_finish(s, a, FILE_OK, NULL, &e), 0);
	TEST_EQ_INT(store_file_begin(s, "u/a.csv", 2, sha, &a2, &e), 0);
	TEST_EQ_INT(store_batch_put(s, a2, 1, 1, blob, 1, zk, INT64_MIN, INT64_MAX, &e), 0);
	TEST_EQ_INT(store_file_begin(s, "u/b.csv", 3, sha, &b, &e), 0);
	TEST_EQ_INT(store_batch_put(s, b, 1, 1, blob, 1, zk, INT64_MIN, INT64_MAX, &e), 0);
	TEST_EQ_INT(store_file_finish(s, b, FILE_OK, NULL, &e), 0);
	TEST_EQ_INT(store_file_begin(s, "u/c.csv", 4, sha, &c, &e), 0);
	TEST_EQ_INT(store_batch_put(s, c, 1, 1, blob, 1, zk, INT64_MIN, INT64_MAX, &e), 0);
	TEST_EQ_INT(store_checkpoint(s, c, 10, 1, 1, &e), 0);
	TEST_EQ_INT(store_commit(s, &e), 0);
	TEST_EQ_INT(e.code, 0);
	/* ordered by path, then state */
	CHECK_FILES(s, "u/a.csv:0:0:0:;u/a.csv:1:1:1:;u/b.csv:1:1:0:;"
		    "u/c.csv:0:0:0:;");
	CHECK_BATCHES(s, "u/a.csv:07;u/b.csv:07;");

	/* the same content under u/a.csv and u/b.csv: each finds the
	 * other */
	TEST_EQ_INT(by_sha(s, sha, "u/a.csv", &f, &e), 1);
	TEST_EQ_STR(f.path, "u/b.csv");
	store_file_release(&f);
	TEST_EQ_INT(by_sha(s, sha, "u/b.csv", &f, &e), 1);
	TEST_EQ_STR(f.path, "u/a.csv");
	store_file_release(&f);

	/* forget u/a.csv: both rows and their data */
	TEST_EQ_INT(store_file_forget(s, "u/a.csv", &e), 1);
	TEST_EQ_INT(store_file_current(s, "u/a.csv", &f, &e), 0);
	TEST_EQ_INT(store_file_loading(s, "u/a.csv", &f, &e), 0);
	TEST_EQ_INT(q1(s, "SELECT count(*) FROM batch WHERE file_id = ?1", a),
		    0);
	TEST_EQ_INT(q1(s, "SELECT count(*) FROM batch WHERE file_id = ?1",
		       a2), 0);
	TEST_EQ_INT(q1(s, "SELECT count(*) FROM reject WHERE file_id = ?1",
		       a), 0);
	CHECK_FILES(s, "u/b.csv:1:1:0:;u/c.csv:0:0:0:;");
	CHECK_BATCHES(s, "u/b.csv:07;");
	CHECK_REJECTS(s, "");
	TEST_EQ_INT(store_file_forget(s, "u/a.csv", &e), 0);
	TEST_EQ_INT(store_file_forget(s, "u/never.csv", &e), 0);
	TEST_EQ_INT(by_sha(s, sha, "u/b.csv", &f, &e), 0);

	/* forget a path with only a LOADING row */
	TEST_EQ_INT(store_file_forget(s, "u/c.csv", &e), 1);
	TEST_EQ_INT(q1(s, "SELECT count(*) FROM batch WHERE file_id = ?1", c),
		    0);
	CHECK_FILES(s, "u/b.csv:1:1:0:;");

	/* drop a stale LOADING row */
	TEST_EQ_INT(store_file_begin(s, "u/d.csv", 5, sha, &c, &e), 0);
	TEST_EQ_INT(store_batch_put(s, c, 1, 1, blob, 1, zk, INT64_MIN, INT64_MAX, &e), 0);
	TEST_EQ_INT(store_reject_put(s, c, 1, "x", 1, "t", 1, "bad_ts",
				     NULL, &e), 0);
	TEST_EQ_INT(store_file_drop(s, c, &e), 0);
	TEST_EQ_INT(store_file_loading(s, "u/d.csv", &f, &e), 0);
	TEST_EQ_INT(q1(s, "SELECT count(*) FROM batch WHERE file_id = ?1", c),
		    0);
	TEST_EQ_INT(q1(s, "SELECT count(*) FROM reject WHERE file_id = ?1",
		       c), 0);
	CHECK_FILES(s, "u/b.csv:1:1:0:;");
	TEST_EQ_INT(e.code, 0);
	store_close(s);
	free(db);
}

/* A rolled-back transaction leaves nothing. */
static void test_rollback(void)
{
	char *db = path_in("rb.db");
	struct store *s;
	struct store_file f;
	struct err e;
	unsigned char sha[32];
	int64_t id = -1;

	sha_fill(sha, 5);
	err_clear(&e);
	s = store_open(db, STORE_CREATE, &e);
	TEST_TRUE(s != NULL);
	if (!s) {
		free(db);
		return;
	}
	TEST_EQ_INT(store_begin(s, &e), 0);
	TEST_EQ_INT(store_file_begin(s, "u/r.csv", 1, sha, &id, &e), 0);
	TEST_EQ_INT(store_batch_put(s, id, 1, 1, "x", 1, zk, INT64_MIN, INT64_MAX, &e), 0);
	store_rollback(s);
	TEST_EQ_INT(store_file_loading(s, "u/r.csv", &f, &e), 0);
	CHECK_FILES(s, "");
	TEST_EQ_INT(q1(s, "SELECT count(*) FROM batch", 0), 0);
	/* rollback outside a transaction does nothing */
	store_rollback(s);
	TEST_EQ_INT(e.code, 0);
	store_close(s);
	free(db);
}

/* Version 3 (store.h): an older state opened by a writer gets what it
 * lacks, in place; a reader leaves it as it is. */
static void test_upgrade_guards(void)
{
	char *db = path_in("v1.db");
	struct store *s;
	struct err e;

	err_clear(&e);
	s = store_open(db, STORE_CREATE, &e);
	TEST_TRUE(s != NULL);
	if (!s) {
		free(db);
		return;
	}
	TEST_EQ_INT(q1(s, "PRAGMA user_version", 0), 5);
	/* make it a version-1 state: none of version 3's additions */
	TEST_EQ_INT(sqlite3_exec(store_conn(s), "DROP TABLE file_log;"
				 " DROP TABLE written;"
				 " ALTER TABLE file DROP COLUMN earliest;"
				 " ALTER TABLE period DROP COLUMN log_seq;"
				 " ALTER TABLE period DROP COLUMN as_of;"
				 " PRAGMA user_version=1", NULL, NULL, NULL),
		    SQLITE_OK);
	store_close(s);
	/* a reader leaves it at 1 */
	err_clear(&e);
	s = store_open(db, STORE_READ, &e);
	TEST_TRUE(s != NULL);
	if (s) {
		TEST_EQ_INT(store_schema(s), 1);
		store_close(s);
	}
	err_clear(&e);
	s = store_open(db, STORE_WRITE, &e);
	TEST_TRUE(s != NULL);
	if (!s) {
		free(db);
		return;
	}
	TEST_EQ_INT(store_schema(s), 5);
	TEST_EQ_INT(q1(s, "PRAGMA user_version", 0), 5);
	TEST_EQ_INT(q1(s, "SELECT count(*) FROM sqlite_master WHERE name IN"
		       " ('file_log', 'written')", 0), 2);
	TEST_EQ_INT(q1(s, "SELECT count(*) FROM pragma_table_info('period')"
		       " WHERE name IN ('log_seq', 'as_of')", 0), 2);
	TEST_EQ_INT(q1(s, "SELECT count(*) FROM pragma_table_info('file')"
		       " WHERE name = 'earliest'", 0), 1);
	TEST_EQ_INT(e.code, 0);
	store_close(s);
	free(db);
}

/* Only a creating open makes a state file (SPEC 4 v2); a reader takes no
 * lock. */
static void test_modes(void)
{
	char *db = path_in("none.db");
	char wal[4200];
	struct store *s, *r;
	struct err e;

	err_clear(&e);
	s = store_open(db, STORE_WRITE, &e);
	TEST_TRUE(s == NULL);
	TEST_EQ_INT(e.code, ST_ERROR);
	TEST_TRUE(strstr(e.msg, "no state file '") != NULL);
	TEST_TRUE(strstr(e.msg, "' (settle ingest creates one)") != NULL);
	TEST_TRUE(access(db, F_OK) != 0);
	err_clear(&e);
	s = store_open(db, STORE_READ, &e);
	TEST_TRUE(s == NULL);
	TEST_EQ_INT(e.code, ST_ERROR);
	TEST_TRUE(access(db, F_OK) != 0);
	snprintf(wal, sizeof(wal), "%s-wal", db);
	TEST_TRUE(access(wal, F_OK) != 0);

	err_clear(&e);
	s = store_open(db, STORE_CREATE, &e);
	TEST_TRUE(s != NULL);
	r = store_open(db, STORE_READ, &e);
	TEST_TRUE(r != NULL);
	if (r) {
		TEST_EQ_INT(store_snapshot(r, &e), 0);
		TEST_EQ_INT(store_schema(r), 5);
		store_rollback(r);
		store_close(r);
	}
	store_close(s);
	free(db);
}

/* Opens db with `first` (which must succeed), then with `second` while
 * the first is open: second's error code (0 when it opened too). */
static int second_open(const char *db, enum store_mode first,
		       enum store_mode second)
{
	struct store *a, *b;
	struct err e;
	int code;

	err_clear(&e);
	a = store_open(db, first, &e);
	TEST_TRUE(a != NULL);
	err_clear(&e);
	b = store_open(db, second, &e);
	code = b ? 0 : e.code;
	store_close(b);
	store_close(a);
	return code;
}

/* STORE_PEEK never waits (the close's glance at the config digest, which
 * made a run beside a stopped one wait SQLite's 5 s before saying "busy",
 * exit 124 under `timeout 5` in e2e settle-busy). A raw connection in
 * locking_mode=EXCLUSIVE holds the state's write lock, which in WAL mode
 * also shuts out readers: STORE_PEEK fails, and does so before
 * STORE_READ's 5000 ms busy wait could have run out (2000 ms is the
 * bound checked, well above an open's cost even under the sanitizers). */
static void test_peek_no_wait(void)
{
	char *db = path_in("held.db");
	struct store *s, *r;
	struct timespec t0, t1;
	sqlite3 *raw = NULL;
	struct err e;
	long long ms;

	err_clear(&e);
	s = store_open(db, STORE_CREATE, &e);
	TEST_TRUE(s != NULL);
	store_close(s);
	TEST_EQ_INT(sqlite3_open(db, &raw), SQLITE_OK);
	TEST_EQ_INT(sqlite3_exec(raw, "PRAGMA locking_mode=EXCLUSIVE;"
				 "BEGIN EXCLUSIVE; CREATE TABLE peek_t(x);",
				 NULL, NULL, NULL), SQLITE_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = store_open(db, STORE_PEEK, &e);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	TEST_TRUE(r == NULL);
	store_close(r);
	ms = (long long)(t1.tv_sec - t0.tv_sec) * 1000 +
	     (t1.tv_nsec - t0.tv_nsec) / 1000000;
	TEST_TRUE(ms < 2000);
	sqlite3_exec(raw, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(raw);
	/* the lock gone, the same peek reads the state */
	err_clear(&e);
	r = store_open(db, STORE_PEEK, &e);
	TEST_TRUE(r != NULL);
	if (r)
		TEST_EQ_INT(store_schema(r), 5);
	store_close(r);
	/* a run holds the state (its flock): the peek does not touch
	 * SQLite at all and says busy, so a writer stopped halfway
	 * through its WAL index (which SQLite's readers retry ~10 s
	 * whatever the busy timeout) is never met */
	TEST_EQ_INT(second_open(db, STORE_WRITE, STORE_PEEK), ST_BUSY);
	/* and while a peek is open, a run is refused (exit 4), as beside
	 * any other run */
	TEST_EQ_INT(second_open(db, STORE_PEEK, STORE_WRITE), ST_BUSY);
	free(db);
}

/* Makes db an older state: a new one with version 3's columns dropped
 * (SQLite 3.35+ drops columns) and user_version set to `version`, and
 * one file with a reject of no ts. */
static void make_old(const char *db, int version)
{
	struct store *s;
	struct err e;
	unsigned char sha[32];
	int64_t id = -1;
	char sql[64];

	sha_fill(sha, 6);
	err_clear(&e);
	s = store_open(db, STORE_CREATE, &e);
	TEST_TRUE(s != NULL);
	if (!s)
		return;
	TEST_EQ_INT(store_begin(s, &e), 0);
	TEST_EQ_INT(store_file_begin(s, "u/v.csv", 1, sha, &id, &e), 0);
	TEST_EQ_INT(store_reject_put(s, id, 2, "r", 1, "t", 1, "bad_field",
				     NULL, &e), 0);
	TEST_EQ_INT(store_file_finish(s, id, FILE_OK, NULL, &e), 0);
	TEST_EQ_INT(store_commit(s, &e), 0);
	TEST_EQ_INT(sqlite3_exec(store_conn(s), OLD_SCHEMA_SQL, NULL, NULL,
				 NULL), SQLITE_OK);
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", version);
	TEST_EQ_INT(sqlite3_exec(store_conn(s), sql, NULL, NULL, NULL),
		    SQLITE_OK);
	TEST_EQ_INT(q1(s, "SELECT count(*) FROM pragma_table_info('reject')"
		       " WHERE name = 'ts'", 0), 0);
	store_close(s);
}

/* A version-1 or version-2 state becomes version 3 when opened, in one
 * step that adds only the missing columns: its reject keeps its row,
 * with no ts (it belongs to no period); a second open changes nothing. */
static void test_upgrade_periods(void)
{
	static const int versions[] = { 1, 2 };
	size_t k;

	for (k = 0; k < 2; k++) {
		char name[32], *db;
		struct store *s;
		struct err e;

		snprintf(name, sizeof(name), "v%d.db", versions[k]);
		db = path_in(name);
		make_old(db, versions[k]);
		err_clear(&e);
		s = store_open(db, STORE_WRITE, &e);
		TEST_TRUE(s != NULL);
		if (!s) {
			free(db);
			continue;
		}
		TEST_EQ_INT(q1(s, "PRAGMA user_version", 0), 5);
		TEST_EQ_INT(q1(s, "SELECT count(*) FROM pragma_table_info("
			       "'reject') WHERE name = 'ts'", 0), 1);
		CHECK_REJECTS(s, "u/v.csv:2:r:t:bad_field;");
		/* the invoice from before tax: net = its total 5.00, tax
		 * and rate 0, no category or dates (the next close gives
		 * the dates) */
		TEST_EQ_INT(q1(s, "SELECT net FROM invoice", 0), 5000000);
		TEST_EQ_INT(q1(s, "SELECT total FROM invoice", 0), 5000000);
		TEST_EQ_INT(q1(s, "SELECT tax + tax_rate FROM invoice", 0), 0);
		TEST_EQ_INT(q1(s, "SELECT count(*) FROM invoice WHERE"
			       " tax_category = '' AND issue_date = '' AND"
			       " due_date = ''", 0), 1);
		TEST_EQ_INT(q1(s, "SELECT count(*) FROM pragma_table_info("
			       "'adjustment') WHERE name = 'issue_date'", 0),
			    1);
		store_close(s);
		err_clear(&e);
		s = store_open(db, STORE_WRITE, &e);
		TEST_TRUE(s != NULL);
		if (s) {
			TEST_EQ_INT(q1(s, "PRAGMA user_version", 0), 5);
			CHECK_REJECTS(s, "u/v.csv:2:r:t:bad_field;");
			store_close(s);
		}
		free(db);
	}
}

static int count_batch(void *ctx, const struct store_batch *b)
{
	int *n = ctx;

	/* a batch stored before version 4 has no range: unknown */
	TEST_EQ_INT(b->ranged, 0);
	(*n)++;
	return 0;
}

static int count_blob(void *ctx, const struct store_batch *b,
		      const void *data, size_t len)
{
	int *n = ctx;

	(void)b;
	(void)data;
	(void)len;
	(*n)++;
	return 0;
}

static int ranged_batch(void *ctx, const struct store_batch *b)
{
	int *n = ctx;

	TEST_EQ_INT(b->ranged, 1);
	TEST_EQ_INT(b->min_ts, 100);
	TEST_EQ_INT(b->max_ts, 200);
	(*n)++;
	return 0;
}

/* Version 4: a version-3 state gets the batch ranges (NULL for its
 * batches: rating decodes them from any instant) and the checkpoint
 * tables; a batch stored now keeps its range, and store_batches skips
 * it only when it is wholly before the instant asked for. */
static void test_upgrade_ckpt(void)
{
	char *db = path_in("v3.db");
	struct store *s;
	struct err e;
	unsigned char sha[32];
	int64_t id = -1, id2 = -1;
	int n = 0;

	sha_fill(sha, 7);
	err_clear(&e);
	s = store_open(db, STORE_CREATE, &e);
	TEST_TRUE(s != NULL);
	if (!s) {
		free(db);
		return;
	}
	TEST_EQ_INT(store_begin(s, &e), 0);
	TEST_EQ_INT(store_file_begin(s, "u/a.csv", 1, sha, &id, &e), 0);
	TEST_EQ_INT(store_batch_put(s, id, 1, 1, "x", 1, zk, 5, 6, &e), 0);
	TEST_EQ_INT(store_file_finish(s, id, FILE_OK, NULL, &e), 0);
	TEST_EQ_INT(store_commit(s, &e), 0);
	TEST_EQ_INT(sqlite3_exec(store_conn(s), V5_SQL V4_SQL
				 " PRAGMA user_version=3", NULL, NULL, NULL),
		    SQLITE_OK);
	store_close(s);
	s = store_open(db, STORE_WRITE, &e);
	TEST_TRUE(s != NULL);
	if (!s) {
		free(db);
		return;
	}
	TEST_EQ_INT(store_schema(s), 5);
	TEST_EQ_INT(q1(s, "SELECT count(*) FROM batch WHERE min_ts IS NULL"
		       " AND max_ts IS NULL", 0), 1);
	TEST_EQ_INT(q1(s, "SELECT count(*) FROM ckpt_period", -1), 0);
	TEST_EQ_INT(q1(s, "SELECT count(*) FROM ckpt_pkg", -1), 0);
	/* the account index covers what balances read of each invoice */
	TEST_EQ_INT(q1(s, "SELECT count(*) FROM pragma_index_info("
		       "'invoice_account') WHERE name IN ('number', 'total')",
		       -1), 2);
	TEST_EQ_INT(store_batch_ids(s, count_batch, &n, &e), 0);
	TEST_EQ_INT(n, 1);
	n = 0;
	TEST_EQ_INT(store_batches(s, INT64_MAX, count_blob, &n, &e), 0);
	TEST_EQ_INT(n, 1);
	/* a close that decodes it keeps its range: from 7 it is skipped */
	TEST_EQ_INT(store_batch_range(s, q1(s, "SELECT id FROM batch", 0), 5,
				      6, &e), 0);
	n = 0;
	TEST_EQ_INT(store_batches(s, 7, count_blob, &n, &e), 0);
	TEST_EQ_INT(n, 0);
	n = 0;
	TEST_EQ_INT(store_batches(s, 6, count_blob, &n, &e), 0);
	TEST_EQ_INT(n, 1);
	/* a new file's batch holds instants 100..200 */
	sha_fill(sha, 8);
	TEST_EQ_INT(store_begin(s, &e), 0);
	TEST_EQ_INT(store_file_begin(s, "u/b.csv", 1, sha, &id2, &e), 0);
	TEST_EQ_INT(store_batch_put(s, id2, 1, 1, "y", 1, zk, 100, 200, &e),
		    0);
	TEST_EQ_INT(store_file_finish(s, id2, FILE_OK, NULL, &e), 0);
	TEST_EQ_INT(store_commit(s, &e), 0);
	TEST_EQ_INT(sqlite3_exec(store_conn(s), "DELETE FROM batch WHERE"
				 " max_ts = 6", NULL, NULL, NULL),
		    SQLITE_OK);
	n = 0;
	TEST_EQ_INT(store_batch_ids(s, ranged_batch, &n, &e), 0);
	TEST_EQ_INT(n, 1);
	/* from 200 it is read (its last record), from 201 not */
	n = 0;
	TEST_EQ_INT(store_batches(s, 200, count_blob, &n, &e), 0);
	TEST_EQ_INT(n, 1);
	n = 0;
	TEST_EQ_INT(store_batches(s, 201, count_blob, &n, &e), 0);
	TEST_EQ_INT(n, 0);
	store_close(s);
	free(db);
}

/* Version 5: a version-4 state gets the table of output stamps
 * (stamp.h) and the carry's tables (carry.h), empty: its next close
 * hashes every folder and reads the history, as before; a second open
 * changes nothing. */
static void test_upgrade_stamps(void)
{
	char *db = path_in("v4.db");
	struct store *s;
	struct err e;
	int k;

	err_clear(&e);
	s = store_open(db, STORE_CREATE, &e);
	TEST_TRUE(s != NULL);
	if (!s) {
		free(db);
		return;
	}
	TEST_EQ_INT(sqlite3_exec(store_conn(s), V5_SQL
				 " PRAGMA user_version=4", NULL, NULL, NULL),
		    SQLITE_OK);
	store_close(s);
	for (k = 0; k < 2; k++) {
		err_clear(&e);
		s = store_open(db, STORE_WRITE, &e);
		TEST_TRUE(s != NULL);
		if (!s)
			break;
		TEST_EQ_INT(store_schema(s), 5);
		TEST_EQ_INT(q1(s, "PRAGMA user_version", 0), 5);
		TEST_EQ_INT(q1(s, "SELECT count(*) FROM out_stamp", -1), 0);
		/* and carry.h's two tables, empty */
		TEST_EQ_INT(q1(s, "SELECT count(*) FROM carry_period", -1), 0);
		TEST_EQ_INT(q1(s, "SELECT count(*) FROM carry_acct", -1), 0);
		/* its nine columns, period and name the key */
		TEST_EQ_INT(q1(s, "SELECT count(*) FROM pragma_table_info("
			       "'out_stamp')", -1), 9);
		TEST_EQ_INT(q1(s, "SELECT count(*) FROM pragma_table_info("
			       "'out_stamp') WHERE pk > 0 AND name IN"
			       " ('period', 'name')", -1), 2);
		store_close(s);
	}
	free(db);
}

/* store_size_known: any row of any path and state counts; and
 * store_file_set_sha gives a LOADING row begun with zeros its digest
 * (what ingest does for a file read before it was hashed); and
 * store_wal_pages, which ingest sets for its run. */
static void test_size_known(void)
{
	char *db = path_in("size.db");
	struct store *s;
	struct store_file f;
	struct err e;
	unsigned char zero[32], sha[32];
	int64_t id = -1;

	memset(zero, 0, sizeof(zero));
	sha_fill(sha, 7);
	err_clear(&e);
	s = store_open(db, STORE_CREATE, &e);
	TEST_TRUE(s != NULL);
	if (!s) {
		free(db);
		return;
	}
	TEST_EQ_INT(store_size_known(s, 300, &e), 0);
	TEST_EQ_INT(store_begin(s, &e), 0);
	TEST_EQ_INT(store_file_begin(s, "u/z.csv", 300, zero, &id, &e), 0);
	TEST_EQ_INT(store_commit(s, &e), 0);
	/* a LOADING row counts; other sizes do not */
	TEST_EQ_INT(store_size_known(s, 300, &e), 1);
	TEST_EQ_INT(store_size_known(s, 299, &e), 0);
	TEST_EQ_INT(store_size_known(s, 301, &e), 0);
	TEST_EQ_INT(store_begin(s, &e), 0);
	TEST_EQ_INT(store_file_set_sha(s, id, sha, &e), 0);
	TEST_EQ_INT(store_file_finish(s, id, FILE_FAILED, "bad", &e), 0);
	TEST_EQ_INT(store_commit(s, &e), 0);
	/* the row holds the digest set, and counts once failed too */
	TEST_EQ_INT(store_file_current(s, "u/z.csv", &f, &e), 1);
	TEST_TRUE(memcmp(f.sha, sha, 32) == 0);
	TEST_EQ_INT(f.size, 300);
	store_file_release(&f);
	TEST_EQ_INT(store_size_known(s, 300, &e), 1);
	/* store_wal_pages: SQLite's default is 1000 pages (its
	 * SQLITE_DEFAULT_WAL_AUTOCHECKPOINT); each call gives the value the
	 * one before set */
	{
		int old = -1;

		TEST_EQ_INT(store_wal_pages(s, 16384, &old, &e), 0);
		TEST_EQ_INT(old, 1000);
		TEST_EQ_INT(store_wal_pages(s, old, &old, &e), 0);
		TEST_EQ_INT(old, 16384);
		TEST_EQ_INT(store_wal_pages(s, 1000, &old, &e), 0);
		TEST_EQ_INT(old, 1000);
	}
	store_close(s);
	free(db);
}

/* store_spill_pages and the WAL copier (store.h): a commit's pages are
 * copied from the WAL into the state file by the copier's connection
 * once it is kicked, and what the state holds does not change. */
static void test_copier(void)
{
	char *db = path_in("copier.db");
	unsigned char *blob = xmalloc(65536), sha[32];
	struct store *s;
	struct stat st;
	struct err e;
	int64_t id = -1;
	int old = -1, deflt;
	size_t i;

	for (i = 0; i < 65536; i++)
		blob[i] = (unsigned char)(i * 7 + 3);
	sha_fill(sha, 9);
	err_clear(&e);
	s = store_open(db, STORE_CREATE, &e);
	TEST_TRUE(s != NULL);
	if (!s) {
		free(blob);
		free(db);
		return;
	}
	/* NULL: nothing happens */
	store_copier_kick(NULL);
	store_copier_stop(NULL);
	/* cache_spill reads back the threshold set; 1 gives SQLite's own
	 * again (the cache size in pages, as it was before) */
	deflt = (int)q1(s, "PRAGMA cache_spill", 0);
	TEST_TRUE(deflt > 1);
	TEST_EQ_INT(store_spill_pages(s, 4000, &e), 0);
	TEST_EQ_INT(q1(s, "PRAGMA cache_spill", 0), 4000);
	/* 4096 is read as 4097, not as "off" (0: its low byte) */
	TEST_EQ_INT(store_spill_pages(s, 4096, &e), 0);
	TEST_EQ_INT(q1(s, "PRAGMA cache_spill", 0), 4097);
	TEST_EQ_INT(store_spill_pages(s, 1, &e), 0);
	TEST_EQ_INT(q1(s, "PRAGMA cache_spill", 0), deflt);
	/* no automatic copy at the commit (16384 pages of WAL allowed) */
	TEST_EQ_INT(store_wal_pages(s, 16384, &old, &e), 0);
	TEST_EQ_INT(store_begin(s, &e), 0);
	TEST_EQ_INT(store_file_begin(s, "u/c.csv", 65536, sha, &id, &e), 0);
	TEST_EQ_INT(store_batch_put(s, id, 0, 0, blob, 65536, zk, 0, 0, &e),
		    0);
	TEST_EQ_INT(store_commit(s, &e), 0);
	/* the 64 KiB blob is in the WAL only: the state file holds the
	 * schema's pages, fewer than the blob's 16 */
	TEST_EQ_INT(stat(db, &st), 0);
	TEST_TRUE(st.st_size < 65536);
	{
		struct store_copier *c = store_copier_start(s);

		TEST_TRUE(c != NULL);
		store_copier_kick(c);
		/* the kick is served before the stop */
		store_copier_stop(c);
	}
	/* now the state file holds the blob's 16 pages (4096 bytes each)
	 * and more, and the state reads as before */
	TEST_EQ_INT(stat(db, &st), 0);
	TEST_TRUE(st.st_size >= 65536 + 4096);
	TEST_EQ_INT(q1(s, "SELECT length(data) FROM batch WHERE file_id = ?1",
		       id), 65536);
	{
		sqlite3_stmt *q = NULL;

		TEST_EQ_INT(sqlite3_prepare_v2(store_conn(s), "SELECT data FROM"
					       " batch", -1, &q, NULL),
			    SQLITE_OK);
		TEST_EQ_INT(sqlite3_step(q), SQLITE_ROW);
		TEST_TRUE(sqlite3_column_bytes(q, 0) == 65536 &&
			  memcmp(sqlite3_column_blob(q, 0), blob, 65536) == 0);
		sqlite3_finalize(q);
	}
	TEST_EQ_INT(store_wal_pages(s, old, &old, &e), 0);
	store_close(s);
	/* closed: the state opens again with the row */
	s = store_open(db, STORE_READ, &e);
	TEST_TRUE(s != NULL);
	if (s) {
		TEST_EQ_INT(q1(s, "SELECT count(*) FROM batch", 0), 1);
		store_close(s);
	}
	free(blob);
	free(db);
}

int main(void)
{
	char tmpl[] = "/tmp/settle-test-store-XXXXXX";
	struct stat st;

	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(tmpdir, sizeof(tmpdir), "%s", tmpl);
	test_open();
	test_newer();
	test_not_sqlite();
	test_roundtrip();
	test_failed_file();
	test_size_known();
	test_copier();
	test_forget_drop();
	test_rollback();
	test_upgrade_guards();
	test_upgrade_periods();
	test_upgrade_ckpt();
	test_upgrade_stamps();
	test_modes();
	test_peek_no_wait();
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	TEST_TRUE(stat(tmpdir, &st) != 0);
	return TEST_REPORT();
}
