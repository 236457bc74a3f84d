/* Tests of the usage-file reader: every input is read at every raw read
 * size from 1 to its length (libcsv's own test does the same for chunks),
 * plain, gzip and multi-member gzip; broken gzip, header errors, every
 * reject reason the reader gives, and the file digest. */
#include "usage.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "testhelp.h"
#include "banned.h"

/* ---- the reader as settle's front end opens it ---- */

/* The options from the environment, as the front end makes them. */
static int env_opts(struct usage_opts *o, struct err *e)
{
	return usage_opts_parse(o, getenv(USAGE_ENV_MAX_RATIO),
				getenv(USAGE_ENV_MAX_BYTES), e);
}

static int check_env(struct err *e)
{
	struct usage_opts o;

	return env_opts(&o, e);
}

/* usage_open with the options from the environment: NULL with e filled
 * when they are bad. */
static struct usage_reader *open_env(const char *path, struct err *e)
{
	struct usage_opts o;

	if (env_opts(&o, e))
		return NULL;
	return usage_open(path, &o, e);
}

static struct usage_reader *open_mem_env(const void *data, size_t n,
					 const char *name, struct err *e)
{
	struct usage_opts o;

	if (env_opts(&o, e))
		return NULL;
	return usage_open_mem(data, n, name, &o);
}

/* ---- a growing byte buffer ---- */

struct buf {
	char *p;
	size_t n, cap;
};

static void buf_add(struct buf *b, const void *s, size_t n)
{
	xgrow((void **)&b->p, &b->cap, b->n + n + 1, 1);
	if (n)
		memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void buf_addf(struct buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	buf_add(b, tmp, (size_t)n);
}

static void buf_rep(struct buf *b, char c, size_t n)
{
	xgrow((void **)&b->p, &b->cap, b->n + n + 1, 1);
	memset(b->p + b->n, c, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void buf_reset(struct buf *b)
{
	b->n = 0;
	if (b->p)
		b->p[0] = '\0';
}

static const char *buf_cstr(struct buf *b)
{
	if (!b->p)
		buf_add(b, "", 0);
	return b->p;
}

/* ---- a sink that logs everything it is given ---- */

struct coll {
	struct buf log;
	int ndeliv;       /* rec + reject calls */
	int stop_at;      /* return stop_val on this delivery (1-based) */
	int stop_val;
	int nprog;
	uint64_t prog_raw[64], prog_recs[64];
	int prog_stop_at; /* return 9 from this progress call (1-based) */
};

static int on_rec(void *ctx, const struct usage_rec *u)
{
	struct coll *c = ctx;
	struct buf *b = &c->log;

	buf_addf(b, "R %llu|", (unsigned long long)u->line);
	buf_add(b, u->record_id.p, u->record_id.n);
	buf_str(b, "|");
	buf_add(b, u->tenant.p, u->tenant.n);
	buf_str(b, "|");
	buf_add(b, u->item.p, u->item.n);
	buf_addf(b, "|%lld|%lld|", (long long)u->ts, (long long)u->qty);
	buf_add(b, u->status.p, u->status.n);
	buf_str(b, "|");
	buf_add(b, u->dims.p, u->dims.n);
	buf_str(b, "|");
	buf_add(b, u->unit.p, u->unit.n);
	buf_str(b, "\n");
	c->ndeliv++;
	return c->ndeliv == c->stop_at ? c->stop_val : 0;
}

static int on_rej(void *ctx, const struct usage_reject *j)
{
	struct coll *c = ctx;
	struct buf *b = &c->log;

	buf_addf(b, "J %llu|", (unsigned long long)j->line);
	buf_add(b, j->record_id.p, j->record_id.n);
	buf_str(b, "|");
	buf_add(b, j->tenant.p, j->tenant.n);
	buf_addf(b, "|%s|%s\n", usage_reject_name(j->reason), j->why);
	c->ndeliv++;
	return c->ndeliv == c->stop_at ? c->stop_val : 0;
}

static int on_prog(void *ctx, uint64_t raw, uint64_t recs)
{
	struct coll *c = ctx;

	if (c->nprog < 64) {
		c->prog_raw[c->nprog] = raw;
		c->prog_recs[c->nprog] = recs;
	}
	c->nprog++;
	return c->nprog == c->prog_stop_at ? 9 : 0;
}

static void coll_reset(struct coll *c)
{
	struct buf keep = c->log;

	memset(c, 0, sizeof(*c));
	c->log = keep;
	buf_reset(&c->log);
}

/* ---- files ---- */

static char tmp_path[64];

static void write_tmp(const void *data, size_t n)
{
	int fd;

	snprintf(tmp_path, sizeof(tmp_path), "/tmp/test_usage_XXXXXX");
	fd = mkstemp(tmp_path);
	if (fd < 0 || (n && write(fd, data, n) != (ssize_t)n)) {
		perror("test_usage: temp file");
		exit(2);
	}
	close(fd);
}

/* Reads tmp_path at the given read size (0: the default). */
static int run(size_t read_size, uint64_t skip, uint64_t progress_every,
	       struct coll *c, struct err *e)
{
	struct usage_sink s = { on_rec, on_rej, on_prog, progress_every, c };
	struct usage_reader *r;
	int rc;

	err_clear(e);
	r = open_env(tmp_path, e);
	if (!r)
		return -100;
	usage_set_read_size(r, read_size);
	rc = usage_read(r, &s, skip, e);
	usage_free(r);
	return rc;
}

/* Writes data to a temp file, reads it with the default read size. */
static int run_mem(const void *data, size_t n, struct coll *c, struct err *e)
{
	int rc;

	write_tmp(data, n);
	coll_reset(c);
	rc = run(0, 0, 0, c, e);
	unlink(tmp_path);
	return rc;
}

/* gzip of in[0..n) appended to out (one member). */
static void gz_member(struct buf *out, const void *in, size_t n, int level)
{
	unsigned char tmp[1 << 16];
	z_stream z;
	int zr;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		exit(2);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	do {
		z.next_out = tmp;
		z.avail_out = sizeof(tmp);
		zr = deflate(&z, Z_FINISH);
		buf_add(out, tmp, sizeof(tmp) - z.avail_out);
	} while (zr == Z_OK);
	if (zr != Z_STREAM_END)
		exit(2);
	deflateEnd(&z);
}

/* The expected message of a failure: fmt with its one "%s" replaced by
 * the temp file's path. */
static const char *msg(const char *fmt)
{
	static char m[1024];
	const char *at = strstr(fmt, "%s");
	size_t k = at ? (size_t)(at - fmt) : strlen(fmt);

	snprintf(m, sizeof(m), "%.*s%s%s", (int)k, fmt, at ? tmp_path : "",
		 at ? at + 2 : "");
	return m;
}

/* ---- the main input ---- */

/* A BOM, a CRLF header, quoted commas and quotes, a quoted line break, a
 * CRLF blank line and an LF blank line, a cell with a leading space,
 * mixed line ends and no final newline. */
static const char *const main_parts[] = {
	"\xEF\xBB\xBFrecord_id,tenant_id,item,ts,quantity,status,dims,unit\r\n",
	"r1,t1,video,2026-01-15T10:00:00Z,140,ok,fps=60;height=1080,second\r\n",
	"\"r,2\",t1,video,2026-01-15T10:00:01Z,1.5,,\"b=2;a=1\",\r\n",
	"\r\n",
	"\"r\"\"3\",t2,api.call,2026-01-31T23:59:59+08:00,15000,\"fail\ned\",,\n",
	"r4,t2,api,2026-02-01T00:00:00Z, 12,ok,,\n",
	"r5,t3,api\n",
	"\n",
	"r6,t3,api,2026-02-30T00:00:00Z,1,,,\n",
	"r7,t3,api,2026-02-01T00:00:00.5Z,0.000001,,a=1;a=2,\n",
	"r8,bad tenant,api,2026-02-01T00:00:00Z,1,,,\n",
	"r9,t3,api,2026-03-01T00:00:00-05:00,7,ok,k=v=w,unit",
};
#define N_PARTS (sizeof(main_parts) / sizeof(main_parts[0]))

static const char main_log[] =
	"R 1|r1|t1|video|1768471200000000000|140000000|ok|fps=60;height=1080|second\n"
	"R 2|r,2|t1|video|1768471201000000000|1500000||a=1;b=2|\n"
	"R 3|r\"3|t2|api.call|1769875199000000000|15000000000|fail\ned||\n"
	"J 4|r4|t2|bad_quantity|column quantity\n"
	"J 5|r5|t3|field_count|3 fields, header has 8\n"
	"J 6|r6|t3|bad_ts|column ts\n"
	"J 7|r7|t3|bad_field|column dims\n"
	"J 8|r8|bad tenant|bad_field|column tenant_id\n"
	"R 9|r9|t3|api|1772341200000000000|7000000|ok|k=v=w|unit\n";

/* Raw offset just after the byte that ends each record (CR of CRLF, LF,
 * or the end of the file), for the progress test. */
static uint64_t main_rec_end[10];

static void build_main(struct buf *b)
{
	size_t i;
	int rec = 0;

	buf_reset(b);
	for (i = 0; i < N_PARTS; i++) {
		const char *p = main_parts[i];
		size_t n = strlen(p);

		buf_str(b, p);
		if (i == 0 || strcmp(p, "\r\n") == 0 || strcmp(p, "\n") == 0)
			continue;
		rec++;
		if (n >= 2 && p[n - 2] == '\r')
			main_rec_end[rec] = b->n - 1;
		else
			main_rec_end[rec] = b->n;
	}
}

/* Reads data at every read size 1..n and checks the whole log each time. */
static void every_size(const struct buf *data, const char *want,
		       const char *what)
{
	struct coll c;
	struct err e;
	size_t sz;
	int bad = 0;

	memset(&c, 0, sizeof(c));
	write_tmp(data->p, data->n);
	for (sz = 1; sz <= data->n; sz++) {
		int rc;

		coll_reset(&c);
		rc = run(sz, 0, 0, &c, &e);
		if (rc != 0 || strcmp(buf_cstr(&c.log), want) != 0) {
			if (!bad++)
				fprintf(stderr, "%s at read size %zu: rc %d (%s)\n%s",
					what, sz, rc, e.msg, buf_cstr(&c.log));
		}
	}
	/* one check per read size, so a failure at any size counts */
	TEST_EQ_INT(bad, 0);
	coll_reset(&c);
	TEST_EQ_INT(run(0, 0, 0, &c, &e), 0);
	TEST_EQ_STR(buf_cstr(&c.log), want);
	unlink(tmp_path);
	free(c.log.p);
}

static void test_main_input(void)
{
	struct buf text = { 0 }, g = { 0 };
	size_t split = 0;

	build_main(&text);
	every_size(&text, main_log, "plain");

	gz_member(&g, text.p, text.n, 9);
	every_size(&g, main_log, "gzip");

	/* two members, split inside the quoted line break of record 3 */
	split = (size_t)(strstr(text.p, "fail\ned") - text.p) + 5;
	buf_reset(&g);
	gz_member(&g, text.p, split, 6);
	gz_member(&g, text.p + split, text.n - split, 6);
	every_size(&g, main_log, "2-member gzip");

	/* four members: the BOM split after its first byte, an empty member */
	buf_reset(&g);
	gz_member(&g, text.p, 1, 1);
	gz_member(&g, "", 0, 1);
	gz_member(&g, text.p + 1, split - 1, 1);
	gz_member(&g, text.p + split, text.n - split, 1);
	every_size(&g, main_log, "4-member gzip");

	free(text.p);
	free(g.p);
}

/* skip: records 1..3 are counted but not delivered; numbering goes on. */
static void test_skip(void)
{
	struct buf text = { 0 };
	struct coll c;
	struct err e;
	const char *after3 = strstr(main_log, "J 4|");
	size_t sz;
	int bad = 0;

	memset(&c, 0, sizeof(c));
	build_main(&text);
	write_tmp(text.p, text.n);
	for (sz = 1; sz <= text.n; sz += 7) {
		coll_reset(&c);
		if (run(sz, 3, 0, &c, &e) != 0 ||
		    strcmp(buf_cstr(&c.log), after3) != 0)
			bad++;
	}
	TEST_EQ_INT(bad, 0);
	coll_reset(&c);
	TEST_EQ_INT(run(0, 9, 0, &c, &e), 0);
	TEST_EQ_STR(buf_cstr(&c.log), "");
	coll_reset(&c);
	TEST_EQ_INT(run(0, 1000, 0, &c, &e), 0);
	TEST_EQ_STR(buf_cstr(&c.log), "");
	unlink(tmp_path);
	free(text.p);
	free(c.log.p);
}

static void test_progress_and_stop(void)
{
	struct buf text = { 0 };
	struct coll c;
	struct err e;
	int i;

	memset(&c, 0, sizeof(c));
	build_main(&text);
	write_tmp(text.p, text.n);

	/* one read of the whole file: one call, at the first record */
	coll_reset(&c);
	TEST_EQ_INT(run(text.n, 0, 1, &c, &e), 0);
	TEST_EQ_INT(c.nprog, 1);
	TEST_EQ_INT(c.prog_raw[0], text.n);
	TEST_EQ_INT(c.prog_recs[0], 1);

	/* byte by byte, every byte: a call at every record boundary, with
	 * the raw bytes read up to that record's end */
	coll_reset(&c);
	TEST_EQ_INT(run(1, 0, 1, &c, &e), 0);
	TEST_EQ_INT(c.nprog, 9);
	for (i = 0; i < 9; i++) {
		TEST_EQ_INT(c.prog_recs[i], i + 1);
		TEST_EQ_INT(c.prog_raw[i], main_rec_end[i + 1]);
	}

	/* byte by byte, every 100 bytes: at the first boundary past each 100
	 * bytes since the last call */
	coll_reset(&c);
	TEST_EQ_INT(run(1, 0, 100, &c, &e), 0);
	{
		uint64_t last = 0;
		int k = 0, rec;

		for (rec = 1; rec <= 9; rec++) {
			if (main_rec_end[rec] - last >= 100) {
				TEST_EQ_INT(c.prog_recs[k], rec);
				TEST_EQ_INT(c.prog_raw[k], main_rec_end[rec]);
				last = main_rec_end[rec];
				k++;
			}
		}
		TEST_TRUE(k >= 2);
		TEST_EQ_INT(c.nprog, k);
	}

	/* skipped records still advance progress */
	coll_reset(&c);
	TEST_EQ_INT(run(1, 9, 1, &c, &e), 0);
	TEST_EQ_INT(c.nprog, 9);
	TEST_EQ_STR(buf_cstr(&c.log), "");

	/* a progress callback's non-zero return stops the read */
	coll_reset(&c);
	c.prog_stop_at = 2;
	TEST_EQ_INT(run(1, 0, 1, &c, &e), 9);
	TEST_EQ_INT(c.ndeliv, 2);

	/* a sink's non-zero return stops the read at once, at any read
	 * size, and usage_read returns it */
	for (i = 1; i <= (int)text.n; i += 13) {
		coll_reset(&c);
		c.stop_at = 4;
		c.stop_val = 42;
		TEST_EQ_INT(run((size_t)i, 0, 0, &c, &e), 42);
		TEST_EQ_INT(c.ndeliv, 4);
	}
	coll_reset(&c);
	c.stop_at = 9;
	c.stop_val = -3;
	TEST_EQ_INT(run(0, 0, 0, &c, &e), -3);
	TEST_EQ_INT(c.ndeliv, 9);
	unlink(tmp_path);
	free(text.p);
	free(c.log.p);
}

/* ---- rejects ---- */

#define RH "tenant_id,x,record_id,item,ts,quantity,dims,status,unit\n"
#define TS0 "2026-01-01T00:00:00Z"
#define NS0 "1767225600000000000"

/* A reject keeps the instant of its ts cell when the cell reads as one,
 * whatever check failed, so that it can be placed in a period (SPEC 8
 * v2); field_count (no trustworthy columns) and bad_ts never have one.
 * Rows are given as cells of the header record_id, tenant_id, item, ts,
 * quantity, dims. */
static void test_reject_ts(void)
{
	static const struct {
		const char *cells[7];
		size_t nf;
		size_t over_at;
		const char *reason;
		int has_ts;
	} cases[] = {
		/* a good record: not a reject */
		{ { "r", "t", "i", TS0, "1", "" }, 6, RECORD_NO_OVER, NULL, 0 },
		/* too few / too many fields, ts cell fine: no period */
		{ { "r", "t", "i", TS0, "1" }, 5, RECORD_NO_OVER,
		  "field_count", 0 },
		{ { "r", "t", "i", TS0, "1", "", "x" }, 7, RECORD_NO_OVER,
		  "field_count", 0 },
		/* checks before ts fail, ts fine: placed */
		{ { "", "t", "i", TS0, "1", "" }, 6, RECORD_NO_OVER,
		  "bad_field", 1 },
		{ { "r", "t t", "i", TS0, "1", "" }, 6, RECORD_NO_OVER,
		  "bad_field", 1 },
		{ { "r", "t", "i", TS0, "1", "" }, 6, 1, "bad_field", 1 },
		/* ... and ts bad too: not placed */
		{ { "", "t", "i", "2026-13-01T00:00:00Z", "1", "" }, 6,
		  RECORD_NO_OVER, "bad_field", 0 },
		{ { "r", "t", "i", "", "1", "" }, 6, RECORD_NO_OVER, "bad_ts",
		  0 },
		/* checks after ts: placed */
		{ { "r", "t", "i", TS0, "-1", "" }, 6, RECORD_NO_OVER,
		  "bad_quantity", 1 },
		{ { "r", "t", "i", TS0, "1", "a" }, 6, RECORD_NO_OVER,
		  "bad_field", 1 },
	};
	static const int col[RCOL_NKNOWN] = { 0, 1, 2, 3, 4, -1, 5, -1 };
	struct record_checker k;
	size_t i, j;

	record_checker_init(&k);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct span f[7];
		struct record_row row;
		struct usage_rec u;
		struct usage_reject rj;
		int rc;

		for (j = 0; j < cases[i].nf; j++) {
			f[j].p = cases[i].cells[j];
			f[j].n = strlen(cases[i].cells[j]);
		}
		memset(&row, 0, sizeof(row));
		row.line = i + 1;
		row.fld = f;
		row.nf = cases[i].nf;
		row.ncols = 6;
		row.col = col;
		row.over_at = cases[i].over_at;
		row.over_name = "tenant_id";
		memset(&rj, 0xff, sizeof(rj));
		rc = record_check(&k, &row, &u, &rj);
		TEST_EQ_INT(rc, cases[i].reason != NULL);
		if (!rc)
			continue;
		TEST_EQ_STR(usage_reject_name(rj.reason), cases[i].reason);
		TEST_EQ_INT(rj.has_ts, cases[i].has_ts);
		/* TS0 is NS0 ns after the epoch */
		if (cases[i].has_ts)
			TEST_EQ_INT(rj.ts, 1767225600000000000LL);
	}
	record_checker_release(&k);
}

static void test_rejects(void)
{
	struct buf in = { 0 }, want = { 0 }, g = { 0 }, big = { 0 };
	struct coll c;
	struct err e;
	int i;
	static const size_t sizes[] = { 1, 2, 3, 7, 64, 4095, 4096, 4097, 0 };

	memset(&c, 0, sizeof(c));
	buf_str(&in, RH);
	/* 1 */
	buf_str(&in, "t1,,r1,i1," TS0 ",1,,,\n");
	buf_str(&want, "R 1|r1|t1|i1|" NS0 "|1000000|||\n");
	/* 2: too few fields; record_id's column is past the row's end */
	buf_str(&in, "t1\n");
	buf_str(&want, "J 2||t1|field_count|1 fields, header has 9\n");
	/* 3: too many */
	buf_str(&in, "t1,,r3,i1," TS0 ",1,,,,extra\n");
	buf_str(&want, "J 3|r3|t1|field_count|10 fields, header has 9\n");
	/* 4: empty record_id */
	buf_str(&in, "t1,,,i1," TS0 ",1,,,\n");
	buf_str(&want, "J 4||t1|bad_field|column record_id\n");
	/* 5: record_id of 129 bytes; 6: of 128 bytes */
	buf_str(&in, "t1,,");
	buf_rep(&in, 'a', 129);
	buf_str(&in, ",i1," TS0 ",1,,,\n");
	buf_str(&want, "J 5|");
	buf_rep(&want, 'a', 129);
	buf_str(&want, "|t1|bad_field|column record_id\n");
	buf_str(&in, "t1,,");
	buf_rep(&in, 'b', 128);
	buf_str(&in, ",i1," TS0 ",1,,,\n");
	buf_str(&want, "R 6|");
	buf_rep(&want, 'b', 128);
	buf_str(&want, "|t1|i1|" NS0 "|1000000|||\n");
	/* 7: tab in record_id; 8: non-ASCII in record_id */
	buf_str(&in, "t1,,r\t7,i1," TS0 ",1,,,\n");
	buf_str(&want, "J 7|r\t7|t1|bad_field|column record_id\n");
	buf_str(&in, "t1,,r\xc3\xa9,i1," TS0 ",1,,,\n");
	buf_str(&want, "J 8|r\xc3\xa9|t1|bad_field|column record_id\n");
	/* 9: every tenant character class; spaces kept in record_id */
	buf_str(&in, "t:1.a-b_C,, r 9 ,i.t-e_M9," TS0 ",1,,,\n");
	buf_str(&want, "R 9| r 9 |t:1.a-b_C|i.t-e_M9|" NS0 "|1000000|||\n");
	/* 10: empty tenant; 11: 65-byte tenant; 12: trailing space */
	buf_str(&in, ",,r10,i1," TS0 ",1,,,\n");
	buf_str(&want, "J 10|r10||bad_field|column tenant_id\n");
	buf_rep(&in, 't', 65);
	buf_str(&in, ",,r11,i1," TS0 ",1,,,\n");
	buf_str(&want, "J 11|r11|");
	buf_rep(&want, 't', 65);
	buf_str(&want, "|bad_field|column tenant_id\n");
	buf_str(&in, "t1 ,,r12,i1," TS0 ",1,,,\n");
	buf_str(&want, "J 12|r12|t1 |bad_field|column tenant_id\n");
	/* 13: ':' is a tenant character, not an item one; 14: empty item */
	buf_str(&in, "t1,,r13,a:b," TS0 ",1,,,\n");
	buf_str(&want, "J 13|r13|t1|bad_field|column item\n");
	buf_str(&in, "t1,,r14,," TS0 ",1,,,\n");
	buf_str(&want, "J 14|r14|t1|bad_field|column item\n");
	/* 15-16: bad ts */
	buf_str(&in, "t1,,r15,i1,2026-01-01 00:00:00Z,1,,,\n");
	buf_str(&want, "J 15|r15|t1|bad_ts|column ts\n");
	buf_str(&in, "t1,,r16,i1,,1,,,\n");
	buf_str(&want, "J 16|r16|t1|bad_ts|column ts\n");
	/* 17-21: bad quantity, spaces not trimmed */
	buf_str(&in, "t1,,r17,i1," TS0 ",1.2.3,,,\n");
	buf_str(&want, "J 17|r17|t1|bad_quantity|column quantity\n");
	buf_str(&in, "t1,,r18,i1," TS0 ",-1,,,\n");
	buf_str(&want, "J 18|r18|t1|bad_quantity|column quantity\n");
	buf_str(&in, "t1,,r19,i1," TS0 ",1.1234567,,,\n");
	buf_str(&want, "J 19|r19|t1|bad_quantity|column quantity\n");
	buf_str(&in, "t1,,r20,i1," TS0 ",,,,\n");
	buf_str(&want, "J 20|r20|t1|bad_quantity|column quantity\n");
	buf_str(&in, "t1,,r21,i1," TS0 ",12 ,,,\n");
	buf_str(&want, "J 21|r21|t1|bad_quantity|column quantity\n");
	/* 22-26: bad dims */
	buf_str(&in, "t1,,r22,i1," TS0 ",1,a,,\n");
	buf_str(&want, "J 22|r22|t1|bad_field|column dims\n");
	buf_str(&in, "t1,,r23,i1," TS0 ",1,=1,,\n");
	buf_str(&want, "J 23|r23|t1|bad_field|column dims\n");
	buf_str(&in, "t1,,r24,i1," TS0 ",1,a=1;,,\n");
	buf_str(&want, "J 24|r24|t1|bad_field|column dims\n");
	buf_str(&in, "t1,,r25,i1," TS0 ",1,a=1;;b=2,,\n");
	buf_str(&want, "J 25|r25|t1|bad_field|column dims\n");
	buf_str(&in, "t1,,r26,i1," TS0 ",1,a=1;b=1;a=3,,\n");
	buf_str(&want, "J 26|r26|t1|bad_field|column dims\n");
	/* 27-28: canonical dims; a value may hold '=' and may be empty */
	buf_str(&in, "t1,,r27,i1," TS0 ",1,b=2;a=1,,\n");
	buf_str(&want, "R 27|r27|t1|i1|" NS0 "|1000000||a=1;b=2|\n");
	buf_str(&in, "t1,,r28,i1," TS0 ",1,z=;y=1;x=a=b;\xc3\xa9=1;B=0,,\n");
	buf_str(&want, "R 28|r28|t1|i1|" NS0 "|1000000||B=0;x=a=b;y=1;z=;\xc3\xa9=1|\n");
	/* 29: invalid UTF-8 in dims */
	buf_str(&in, "t1,,r29,i1," TS0 ",1,a=\xff,,\n");
	buf_str(&want, "J 29|r29|t1|bad_field|column dims\n");
	/* 30-33: status and unit must be UTF-8 without NUL */
	buf_str(&in, "t1,,r30,i1," TS0 ",1,,\xff,\n");
	buf_str(&want, "J 30|r30|t1|bad_field|column status\n");
	buf_str(&in, "t1,,r31,i1," TS0 ",1,,o");
	buf_add(&in, "\0", 1);
	buf_str(&in, "k,\n");
	buf_str(&want, "J 31|r31|t1|bad_field|column status\n");
	buf_str(&in, "t1,,r32,i1," TS0 ",1,,,\xc3\n");
	buf_str(&want, "J 32|r32|t1|bad_field|column unit\n");
	buf_str(&in, "t1,,r33,i1," TS0 ",1,,\xc0\xaf,\n");
	buf_str(&want, "J 33|r33|t1|bad_field|column status\n");
	/* 34: a surrogate in dims; 35: valid UTF-8 status and unit pass */
	buf_str(&in, "t1,,r34,i1," TS0 ",1,a=\xed\xa0\x80,,\n");
	buf_str(&want, "J 34|r34|t1|bad_field|column dims\n");
	buf_str(&in, "t1,,r35,i1," TS0 ",1,, \xc3\xa9\xf0\x9f\x98\x80,sec\n");
	buf_str(&want, "R 35|r35|t1|i1|" NS0 "|1000000| \xc3\xa9\xf0\x9f\x98\x80||sec\n");
	/* 36-38: the order of checks */
	buf_str(&in, "t1,,,i1,x,y,a,,\n");
	buf_str(&want, "J 36||t1|bad_field|column record_id\n");
	buf_str(&in, "t1,,r37,i1,x,y,a,,\n");
	buf_str(&want, "J 37|r37|t1|bad_ts|column ts\n");
	buf_str(&in, "t1,,r38,i1," TS0 ",y,a,\xff,\xff\n");
	buf_str(&want, "J 38|r38|t1|bad_quantity|column quantity\n");
	/* 39: an unknown column of 4097 bytes; 40: of 4096 bytes */
	buf_str(&in, "t1,");
	buf_rep(&in, 'x', 4097);
	buf_str(&in, ",r39,i1," TS0 ",1,,,\n");
	buf_str(&want, "J 39|r39|t1|bad_field|column x longer than 4096 bytes\n");
	buf_str(&in, "t1,");
	buf_rep(&in, 'x', 4096);
	buf_str(&in, ",r40,i1," TS0 ",1,,,\n");
	buf_str(&want, "R 40|r40|t1|i1|" NS0 "|1000000|||\n");
	/* 41: a wrong field count wins over an oversize field */
	buf_str(&in, "t1,");
	buf_rep(&in, 'x', 5000);
	buf_str(&in, ",r41\n");
	buf_str(&want, "J 41|r41|t1|field_count|3 fields, header has 9\n");
	/* 42: an oversize record_id, over a bad ts; the reject shows its
	 * first 4096 bytes */
	buf_str(&in, "t1,,");
	buf_rep(&in, 'r', 5000);
	buf_str(&in, ",i1,x,1,,,\n");
	buf_str(&want, "J 42|");
	buf_rep(&want, 'r', 4096);
	buf_str(&want, "|t1|bad_field|column record_id longer than 4096 bytes\n");
	/* 43: a line of spaces is a record, not a blank line */
	buf_str(&in, "   \n");
	buf_str(&want, "J 43||   |field_count|1 fields, header has 9\n");
	/* 44: so is a line holding an empty quoted cell */
	buf_str(&in, "\"\"\n");
	buf_str(&want, "J 44|||field_count|1 fields, header has 9\n");
	/* 45: quoted cells, a quoted tenant with a quote is bad */
	buf_str(&in, "\"t\"\"1\",\"a,b\",\"r45\",\"i1\",\"" TS0 "\",\"2.5\",\"\",\"\",\"\"\n");
	buf_str(&want, "J 45|r45|t\"1|bad_field|column tenant_id\n");
	/* 46: a dims value may hold '=' but no key may be empty after ';' */
	buf_str(&in, "t1,,r46,i1," TS0 ",1,a=1;=2,,\n");
	buf_str(&want, "J 46|r46|t1|bad_field|column dims\n");
	/* 47: a key that is a prefix of another sorts first */
	buf_str(&in, "t1,,r47,i1," TS0 ",1,ab=1;a=2;a\x7f=3;A=4,,\n");
	buf_str(&want, "R 47|r47|t1|i1|" NS0 "|1000000||A=4;a=2;ab=1;a\x7f=3|\n");

	write_tmp(in.p, in.n);
	for (i = 0; i == 0 || sizes[i - 1]; i++) {
		coll_reset(&c);
		TEST_EQ_INT(run(sizes[i], 0, 0, &c, &e), 0);
		TEST_EQ_STR(buf_cstr(&c.log), buf_cstr(&want));
	}
	unlink(tmp_path);
	/* the same through gzip at a few read sizes */
	gz_member(&g, in.p, in.n, 6);
	write_tmp(g.p, g.n);
	for (i = 0; i == 0 || sizes[i - 1]; i++) {
		coll_reset(&c);
		TEST_EQ_INT(run(sizes[i], 0, 0, &c, &e), 0);
		TEST_EQ_STR(buf_cstr(&c.log), buf_cstr(&want));
	}
	unlink(tmp_path);

	/* a record over USAGE_MAX_RECORD: 17 fields of 4000 bytes; one of
	 * 16 such fields passes */
	buf_reset(&in);
	buf_str(&in, "record_id,tenant_id,item,ts,quantity");
	for (i = 0; i < 17; i++)
		buf_addf(&in, ",a%d", i);
	buf_str(&in, "\nr1,t1,i1," TS0 ",1");
	for (i = 0; i < 17; i++) {
		buf_str(&in, ",");
		buf_rep(&in, 'z', 4000);
	}
	buf_str(&in, "\nr2,t1,i1," TS0 ",1");
	for (i = 0; i < 17; i++) {
		buf_str(&in, ",");
		buf_rep(&in, 'z', i < 16 ? 4000 : 0);
	}
	buf_str(&in, "\n");
	TEST_EQ_INT(run_mem(in.p, in.n, &c, &e), 0);
	TEST_EQ_STR(buf_cstr(&c.log),
		    "J 1|r1|t1|bad_field|record longer than 65536 bytes\n"
		    "R 2|r2|t1|i1|" NS0 "|1000000|||\n");

	/* many dims pairs, reversed: sorted by key, bytewise */
	buf_reset(&in);
	buf_reset(&want);
	buf_reset(&big);
	buf_str(&in, "record_id,tenant_id,item,ts,quantity,dims\nr1,t1,i1," TS0 ",1,");
	for (i = 499; i >= 0; i--)
		buf_addf(&in, "k%03d=v%s", i, i ? ";" : "");
	for (i = 0; i < 500; i++)
		buf_addf(&big, "k%03d=v%s", i, i < 499 ? ";" : "");
	buf_str(&want, "R 1|r1|t1|i1|" NS0 "|1000000||");
	buf_str(&want, buf_cstr(&big));
	buf_str(&want, "|\n");
	/* the same with one repeated key far from its twin */
	buf_str(&in, "\nr2,t1,i1," TS0 ",1,k250=x;");
	buf_str(&in, buf_cstr(&big));
	buf_str(&in, "\n");
	buf_str(&want, "J 2|r2|t1|bad_field|column dims\n");
	TEST_EQ_INT(run_mem(in.p, in.n, &c, &e), 0);
	TEST_EQ_STR(buf_cstr(&c.log), buf_cstr(&want));

	/* no optional columns at all: status, dims and unit are "" */
	{
		static const char q[] = "quantity,ts,item,tenant_id,record_id\r\n"
					"0.5," TS0 ",i,t,r\r\n";

		TEST_EQ_INT(run_mem(q, sizeof(q) - 1, &c, &e), 0);
	}
	TEST_EQ_STR(buf_cstr(&c.log), "R 1|r|t|i|" NS0 "|500000|||\n");

	free(in.p);
	free(want.p);
	free(g.p);
	free(big.p);
	free(c.log.p);
}

/* ---- whole-file failures ---- */

#define HDR "record_id,tenant_id,item,ts,quantity\n"

static void test_header(void)
{
	struct buf in = { 0 }, g = { 0 };
	struct coll c;
	struct err e;
	int i;

	memset(&c, 0, sizeof(c));
	/* header only: 0 records, with or without the final newline */
	TEST_EQ_INT(run_mem(HDR, strlen(HDR), &c, &e), 0);
	TEST_EQ_INT(c.ndeliv, 0);
	TEST_EQ_INT(run_mem(HDR, strlen(HDR) - 1, &c, &e), 0);
	TEST_EQ_INT(c.ndeliv, 0);
	TEST_EQ_INT(run_mem("\xEF\xBB\xBF" HDR "\n\r\n", strlen(HDR) + 6, &c, &e), 0);
	TEST_EQ_INT(c.ndeliv, 0);

	/* a missing required column, and names are case-sensitive */
	TEST_EQ_INT(run_mem("record_id,tenant_id,item,quantity\nr,t,i,1\n", 42, &c, &e),
		    ST_ERROR);
	TEST_EQ_STR(e.msg, msg("missing column 'ts' in '%s'"));
	TEST_EQ_INT(c.ndeliv, 0);
	TEST_EQ_INT(run_mem("Record_id,tenant_id,item,ts,quantity\n", 37, &c, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, msg("missing column 'record_id' in '%s'"));
	TEST_EQ_INT(e.code, ST_ERROR);
	/* duplicate columns, known or not */
	TEST_EQ_INT(run_mem("record_id,tenant_id,item,ts,quantity,item\n", 42, &c, &e),
		    ST_ERROR);
	TEST_EQ_STR(e.msg, msg("duplicate column 'item' in '%s'"));
	/* a lone "x" after the header is a record, not a header cell */
	TEST_EQ_INT(run_mem(HDR "x", strlen(HDR) + 1, &c, &e), 0);
	TEST_EQ_STR(buf_cstr(&c.log), "J 1|x||field_count|1 fields, header has 5\n");
	TEST_EQ_INT(run_mem("x,record_id,tenant_id,item,ts,quantity,x\n", 41, &c, &e),
		    ST_ERROR);
	TEST_EQ_STR(e.msg, msg("duplicate column 'x' in '%s'"));

	/* 256 columns are fine, 257 fail */
	buf_str(&in, "record_id,tenant_id,item,ts,quantity");
	for (i = 5; i < 256; i++)
		buf_addf(&in, ",c%d", i);
	buf_str(&in, "\n");
	TEST_EQ_INT(run_mem(in.p, in.n, &c, &e), 0);
	in.n--;
	buf_str(&in, ",c256\n");
	TEST_EQ_INT(run_mem(in.p, in.n, &c, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, msg("more than 256 columns in the header of '%s'"));

	/* a column name over USAGE_MAX_FIELD */
	buf_reset(&in);
	buf_str(&in, HDR);
	in.n--;
	buf_str(&in, ",");
	buf_rep(&in, 'n', 4097);
	buf_str(&in, "\n");
	TEST_EQ_INT(run_mem(in.p, in.n, &c, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, msg("column name 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...' longer than 4096 bytes in '%s'"));

	/* empty: no bytes, or gzip of nothing */
	TEST_EQ_INT(run_mem("", 0, &c, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, msg("empty file '%s'"));
	gz_member(&g, "", 0, 6);
	TEST_EQ_INT(run_mem(g.p, g.n, &c, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, msg("empty file '%s'"));
	/* no header: only a BOM, only blank lines */
	TEST_EQ_INT(run_mem("\xEF\xBB\xBF", 3, &c, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, msg("no header in '%s'"));
	TEST_EQ_INT(run_mem("\n\r\n\n", 4, &c, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, msg("no header in '%s'"));
	/* a part of a BOM is text */
	TEST_EQ_INT(run_mem("\xEF\xBB", 2, &c, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, msg("missing column 'record_id' in '%s'"));

	free(in.p);
	free(g.p);
	free(c.log.p);
}

static void test_quoting(void)
{
	struct coll c;
	struct err e;
	static const char q1[] = HDR "r1,t1,i,\"" TS0 "\"x,1\n";
	static const char q2[] = HDR "\"r\n1\",t1,i," TS0 ",1\nr2,t\"1,i," TS0 ",1\n";
	static const char q3[] = HDR "r1,t1,i," TS0 ",1\n\n\"r2,t1,i\n," TS0 ",1\n";
	static const char q4[] = HDR "r1,t1,i," TS0 ",\"1\" \n";
	size_t sz;
	int bad = 0;

	memset(&c, 0, sizeof(c));
	TEST_EQ_INT(run_mem(q1, sizeof(q1) - 1, &c, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, msg("malformed quoting in '%s' at line 2"));
	/* the text line counts the line break inside a quoted cell */
	TEST_EQ_INT(run_mem(q2, sizeof(q2) - 1, &c, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, msg("malformed quoting in '%s' at line 4"));
	TEST_EQ_INT(c.ndeliv, 1);
	/* an unterminated quote: the line where its row began */
	TEST_EQ_INT(run_mem(q3, sizeof(q3) - 1, &c, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, msg("unterminated quoted field in '%s' (row starting at line 4)"));
	TEST_EQ_INT(c.ndeliv, 1);
	/* a space after a closing quote is strict-mode junk */
	TEST_EQ_INT(run_mem(q4, sizeof(q4) - 1, &c, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, msg("malformed quoting in '%s' at line 2"));

	/* the same messages at every read size */
	write_tmp(q2, sizeof(q2) - 1);
	for (sz = 1; sz <= sizeof(q2); sz++) {
		coll_reset(&c);
		if (run(sz, 0, 0, &c, &e) != ST_ERROR ||
		    strcmp(e.msg, msg("malformed quoting in '%s' at line 4")))
			bad++;
	}
	unlink(tmp_path);
	write_tmp(q3, sizeof(q3) - 1);
	for (sz = 1; sz <= sizeof(q3); sz++) {
		coll_reset(&c);
		if (run(sz, 0, 0, &c, &e) != ST_ERROR ||
		    strcmp(e.msg, msg("unterminated quoted field in '%s' (row starting at line 4)")))
			bad++;
	}
	unlink(tmp_path);
	TEST_EQ_INT(bad, 0);

	/* lone CRs end rows but not text lines: a row begun after one is
	 * on the line of the CR, at every read size (fuzzing found the
	 * line depended on where reads ended) */
	{
		static const char q5[] = HDR "r1,t1,i," TS0 ",1\rr2,t1,i," TS0
			",1\r\r\rr3,\"t1\n\n";
		static const char q6[] = HDR "r1,t1,i," TS0 ",1\r\n\r\rx\"y\n";

		write_tmp(q5, sizeof(q5) - 1);
		for (sz = 0; sz <= sizeof(q5); sz++) {
			coll_reset(&c);
			if (run(sz, 0, 0, &c, &e) != ST_ERROR || c.ndeliv != 2 ||
			    strcmp(e.msg, msg("unterminated quoted field in '%s' (row starting at line 2)")))
				bad++;
		}
		unlink(tmp_path);
		write_tmp(q6, sizeof(q6) - 1);
		for (sz = 0; sz <= sizeof(q6); sz++) {
			coll_reset(&c);
			if (run(sz, 0, 0, &c, &e) != ST_ERROR || c.ndeliv != 1 ||
			    strcmp(e.msg, msg("malformed quoting in '%s' at line 3")))
				bad++;
		}
		unlink(tmp_path);
		TEST_EQ_INT(bad, 0);
	}
	free(c.log.p);
}

/* A field beyond libcsv's 16 MiB buffer cap fails the file. */
static void test_huge_field(void)
{
	struct buf in = { 0 };
	struct coll c;
	struct err e;

	memset(&c, 0, sizeof(c));
	buf_str(&in, HDR "r1,t1,i," TS0 ",1\n\n\"");
	buf_rep(&in, 'h', ((size_t)16 << 20) + 10);
	buf_str(&in, "\",t1,i," TS0 ",1\n");
	TEST_EQ_INT(run_mem(in.p, in.n, &c, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, msg("field over 16 MiB in '%s' (row starting at line 4)"));
	TEST_EQ_INT(c.ndeliv, 1);

	/* the bound is exact, at any read size (libcsv's buffer grows by
	 * doubling steps up to the cap): 16 MiB pass, as a bad_field
	 * reject; one byte more fails */
	{
		static const size_t szs[] = { 0, 4093, 65536 };
		size_t k, i;
		int bad = 0;

		for (k = 0; k < 2; k++) {
			buf_reset(&in);
			buf_str(&in, HDR "r1,t1,i," TS0 ",");
			buf_rep(&in, '7', ((size_t)16 << 20) + k);
			buf_str(&in, "\n");
			write_tmp(in.p, in.n);
			for (i = 0; i < 3; i++) {
				int rc;

				coll_reset(&c);
				rc = run(szs[i], 0, 0, &c, &e);
				if (k == 0 && (rc != 0 || strcmp(buf_cstr(&c.log),
				    "J 1|r1|t1|bad_field|column quantity longer than 4096 bytes\n")))
					bad++;
				if (k == 1 && (rc != ST_ERROR || strcmp(e.msg,
				    msg("field over 16 MiB in '%s' (row starting at line 2)"))))
					bad++;
			}
			unlink(tmp_path);
		}
		TEST_EQ_INT(bad, 0);
	}
	free(in.p);
	free(c.log.p);
}

static void test_bad_gzip(void)
{
	struct buf text = { 0 }, g = { 0 }, t = { 0 }, big = { 0 };
	struct coll c;
	struct err e;
	size_t cut, i, sz;
	int bad = 0, kinds_trunc = 0, by_gzip = 0;

	memset(&c, 0, sizeof(c));
	build_main(&text);
	gz_member(&g, text.p, text.n, 9);

	/* truncated at every point past the magic, at a few read sizes */
	for (cut = 2; cut < g.n; cut++) {
		static const size_t szs[] = { 1, 5, 0 };

		write_tmp(g.p, cut);
		for (sz = 0; sz < 3; sz++) {
			coll_reset(&c);
			if (run(szs[sz], 0, 0, &c, &e) != ST_ERROR ||
			    strcmp(e.msg, msg("truncated gzip in '%s'")) != 0)
				bad++;
			else
				kinds_trunc++;
		}
		unlink(tmp_path);
	}
	TEST_EQ_INT(bad, 0);
	TEST_EQ_INT(kinds_trunc, 3 * (int)(g.n - 2));

	/* a truncated member after a good one also fails */
	buf_reset(&t);
	buf_add(&t, g.p, g.n);
	buf_add(&t, g.p, g.n / 2);
	TEST_EQ_INT(run_mem(t.p, t.n, &c, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, msg("truncated gzip in '%s'"));
	/* the sink saw every record of the first member: the caller must
	 * throw them away, since the file counts none */
	TEST_EQ_INT(c.ndeliv, 9);

	/* a big file cut in its trailer: every record reached the sink, and
	 * still the read fails */
	for (i = 0; i < 5000; i++)
		buf_addf(&big, "%sr%zu,t1,i1," TS0 ",%zu\n", i ? "" : HDR, i, i);
	buf_reset(&t);
	gz_member(&t, big.p, big.n, 6);
	TEST_EQ_INT(run_mem(t.p, t.n - 3, &c, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, msg("truncated gzip in '%s'"));
	TEST_EQ_INT(c.ndeliv, 5000);
	TEST_EQ_INT(run_mem(t.p, t.n, &c, &e), 0);
	TEST_EQ_INT(c.ndeliv, 5000);

	/* a flipped byte anywhere the format checks it fails the file
	 * (bytes 4..9, MTIME XFL OS, are not checked by gzip). Garbage
	 * inflated before the CRC is reached may first fail as CSV (a bad
	 * header, bad quoting): the file fails either way. */
	bad = 0;
	for (i = 2; i < g.n; i++) {
		if (i >= 4 && i <= 9)
			continue;
		buf_reset(&t);
		buf_add(&t, g.p, g.n);
		t.p[i] ^= (char)0xff;
		write_tmp(t.p, t.n);
		coll_reset(&c);
		if (run(i % 2 ? 0 : 3, 0, 0, &c, &e) != ST_ERROR ||
		    strstr(e.msg, tmp_path) == NULL) {
			fprintf(stderr, "flip %zu: %s\n", i, e.msg);
			bad++;
		}
		if (strstr(e.msg, "gzip in"))
			by_gzip++;
		unlink(tmp_path);
	}
	TEST_EQ_INT(bad, 0);
	TEST_TRUE(by_gzip > 0);
	/* a bad CRC, exactly */
	buf_reset(&t);
	buf_add(&t, g.p, g.n);
	t.p[t.n - 8] ^= 1;
	TEST_EQ_INT(run_mem(t.p, t.n, &c, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, msg("corrupt gzip in '%s': incorrect data check"));
	/* a bad length */
	buf_reset(&t);
	buf_add(&t, g.p, g.n);
	t.p[t.n - 1] ^= 1;
	TEST_EQ_INT(run_mem(t.p, t.n, &c, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, msg("corrupt gzip in '%s': incorrect length check"));

	/* anything after a member that is not a member */
	{
		static const struct { const char *s; size_t n; const char *m; } tails[] = {
			{ "x", 1, "trailing garbage after gzip data in '%s'" },
			{ "\n", 1, "trailing garbage after gzip data in '%s'" },
			{ "\x1f", 1, "trailing garbage after gzip data in '%s'" },
			{ "\0\0\0\0", 4, "trailing garbage after gzip data in '%s'" },
			{ "\x1f\x8c", 2, "trailing garbage after gzip data in '%s'" },
			{ "r10,t1,i," TS0 ",1\n", 28, "trailing garbage after gzip data in '%s'" },
			{ "\x1f\x8b", 2, "truncated gzip in '%s'" },
			{ "\x1f\x8b\x08\0\0\0\0\0\0\x03", 10, "truncated gzip in '%s'" },
			/* zlib reads CM and FLG together */
			{ "\x1f\x8b\x07", 3, "truncated gzip in '%s'" },
			{ "\x1f\x8b\x07\0", 4, "corrupt gzip in '%s': unknown compression method" },
		};

		bad = 0;
		for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
			buf_reset(&t);
			buf_add(&t, g.p, g.n);
			buf_add(&t, tails[i].s, tails[i].n);
			write_tmp(t.p, t.n);
			for (sz = 1; sz <= t.n; sz++) {
				coll_reset(&c);
				if (run(sz, 0, 0, &c, &e) != ST_ERROR ||
				    strcmp(e.msg, msg(tails[i].m)) != 0) {
					bad++;
					fprintf(stderr, "tail %zu size %zu: %s\n",
						i, sz, e.msg);
				}
			}
			unlink(tmp_path);
		}
		TEST_EQ_INT(bad, 0);
	}

	free(text.p);
	free(g.p);
	free(t.p);
	free(big.p);
	free(c.log.p);
}

/* ---- limits (issue #6) ---- */

/* Reads data from memory at read size sz (0: default); rc and log. */
static int run_memr(const void *data, size_t n, size_t sz, struct coll *c,
		    struct err *e)
{
	struct usage_sink s = { on_rec, on_rej, NULL, 0, c };
	struct usage_reader *r;
	int rc;

	coll_reset(c);
	err_clear(e);
	r = open_mem_env(data, n, "mem.csv", e);
	if (!r)
		return -100;
	usage_set_read_size(r, sz);
	rc = usage_read(r, &s, 0, e);
	usage_free(r);
	return rc;
}

/* The reader over memory gives what the reader over a file gives, at
 * every read size, plain and gzip. */
static void test_mem_reader(void)
{
	struct buf text = { 0 }, g = { 0 };
	struct coll c;
	struct err e;
	size_t sz;
	int bad = 0;

	memset(&c, 0, sizeof(c));
	build_main(&text);
	gz_member(&g, text.p, text.n, 9);
	for (sz = 0; sz <= text.n; sz++) {
		if (run_memr(text.p, text.n, sz, &c, &e) != 0 ||
		    strcmp(buf_cstr(&c.log), main_log) != 0)
			bad++;
		if (sz <= g.n && (run_memr(g.p, g.n, sz, &c, &e) != 0 ||
				  strcmp(buf_cstr(&c.log), main_log) != 0))
			bad++;
	}
	TEST_EQ_INT(bad, 0);
	TEST_EQ_INT(run_memr("", 0, 0, &c, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, "empty file 'mem.csv'");
	TEST_EQ_INT(run_memr(g.p, g.n - 1, 3, &c, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, "truncated gzip in 'mem.csv'");
	free(text.p);
	free(g.p);
	free(c.log.p);
}

/* Field, record and header limits at their exact bounds, and NUL bytes
 * in every column. */
static void test_limits_exact(void)
{
	struct buf in = { 0 }, want = { 0 };
	struct coll c;
	struct err e;
	size_t base, fill;
	int i;

	memset(&c, 0, sizeof(c));
	/* a record of exactly 65536 bytes of cells passes; 65537 is
	 * bad_field. Cells: r1 t1 i1 TS0 1 = 27 bytes, then 17 extras. */
	buf_str(&in, "record_id,tenant_id,item,ts,quantity");
	for (i = 0; i < 17; i++)
		buf_addf(&in, ",a%d", i);
	base = 2 + 2 + 2 + strlen(TS0) + 1;
	for (i = 0; i < 2; i++) {
		size_t left = 65536 + (size_t)i - base;
		int k;

		buf_addf(&in, "\nr%d,t1,i1," TS0 ",1", i + 1);
		for (k = 0; k < 17; k++) {
			fill = left > 4096 ? 4096 : left;
			left -= fill;
			buf_str(&in, ",");
			buf_rep(&in, 'z', fill);
		}
	}
	buf_str(&in, "\n");
	TEST_EQ_INT(run_mem(in.p, in.n, &c, &e), 0);
	TEST_EQ_STR(buf_cstr(&c.log),
		    "R 1|r1|t1|i1|" NS0 "|1000000|||\n"
		    "J 2|r2|t1|bad_field|record longer than 65536 bytes\n");

	/* quoting does not count: a quoted 4096-byte cell holding quotes
	 * and commas passes; 4097 bytes do not */
	buf_reset(&in);
	buf_str(&in, "record_id,tenant_id,item,ts,quantity,note\n");
	for (i = 0; i < 2; i++) {
		buf_addf(&in, "r%d,t1,i1," TS0 ",1,\"", i + 1);
		buf_rep(&in, ',', 2000);
		buf_str(&in, "\"\"\"\"");  /* two quotes */
		buf_rep(&in, 'q', 2094 + (size_t)i);
		buf_str(&in, "\"\n");
	}
	TEST_EQ_INT(run_mem(in.p, in.n, &c, &e), 0);
	TEST_EQ_STR(buf_cstr(&c.log),
		    "R 1|r1|t1|i1|" NS0 "|1000000|||\n"
		    "J 2|r2|t1|bad_field|column note longer than 4096 bytes\n");

	/* a header of 256 columns with a record of 256 cells works; a row
	 * of 1000 cells under it is field_count */
	buf_reset(&in);
	buf_str(&in, "record_id,tenant_id,item,ts,quantity");
	for (i = 5; i < 256; i++)
		buf_addf(&in, ",c%d", i);
	buf_str(&in, "\nr1,t1,i1," TS0 ",1");
	for (i = 5; i < 256; i++)
		buf_str(&in, ",x");
	buf_str(&in, "\nr2,t1,i1," TS0 ",1");
	for (i = 5; i < 1000; i++)
		buf_str(&in, ",x");
	buf_str(&in, "\n");
	TEST_EQ_INT(run_mem(in.p, in.n, &c, &e), 0);
	TEST_EQ_STR(buf_cstr(&c.log),
		    "R 1|r1|t1|i1|" NS0 "|1000000|||\n"
		    "J 2|r2|t1|field_count|1000 fields, header has 256\n");
	/* a header of 1000 columns fails */
	buf_reset(&in);
	buf_str(&in, "record_id,tenant_id,item,ts,quantity");
	for (i = 5; i < 1000; i++)
		buf_addf(&in, ",c%d", i);
	buf_str(&in, "\n");
	TEST_EQ_INT(run_mem(in.p, in.n, &c, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, msg("more than 256 columns in the header of '%s'"));

	/* a NUL byte in each column: a bad_field, bad_ts or bad_quantity
	 * reject, never a cut string */
	buf_reset(&in);
	buf_reset(&want);
	buf_str(&in, "record_id,tenant_id,item,ts,quantity,status,dims,unit\n");
	buf_str(&in, "r");
	buf_add(&in, "\0", 1);
	buf_str(&in, "1,t1,i1," TS0 ",1,,,\n");
	buf_str(&want, "J 1|r");
	buf_add(&want, "\0", 1);
	buf_str(&want, "1|t1|bad_field|column record_id\n");
	buf_str(&in, "r2,t");
	buf_add(&in, "\0", 1);
	buf_str(&in, ",i1," TS0 ",1,,,\n");
	buf_str(&want, "J 2|r2|t");
	buf_add(&want, "\0", 1);
	buf_str(&want, "|bad_field|column tenant_id\n");
	buf_str(&in, "r3,t1,i");
	buf_add(&in, "\0", 1);
	buf_str(&in, "," TS0 ",1,,,\n");
	buf_str(&want, "J 3|r3|t1|bad_field|column item\n");
	buf_str(&in, "r4,t1,i1,2026-01-01T00:00:00Z");
	buf_add(&in, "\0", 1);
	buf_str(&in, ",1,,,\n");
	buf_str(&want, "J 4|r4|t1|bad_ts|column ts\n");
	buf_str(&in, "r5,t1,i1," TS0 ",1");
	buf_add(&in, "\0", 1);
	buf_str(&in, ",,,\n");
	buf_str(&want, "J 5|r5|t1|bad_quantity|column quantity\n");
	buf_str(&in, "r6,t1,i1," TS0 ",1,,a=");
	buf_add(&in, "\0", 1);
	buf_str(&in, ",\n");
	buf_str(&want, "J 6|r6|t1|bad_field|column dims\n");
	buf_str(&in, "r7,t1,i1," TS0 ",1,,,s");
	buf_add(&in, "\0", 1);
	buf_str(&in, "\n");
	buf_str(&want, "J 7|r7|t1|bad_field|column unit\n");
	buf_str(&in, "\"r8\",t1,i1," TS0 ",1,\"");
	buf_add(&in, "\0", 1);
	buf_str(&in, "\",,\n");
	buf_str(&want, "J 8|r8|t1|bad_field|column status\n");
	TEST_EQ_INT(run_mem(in.p, in.n, &c, &e), 0);
	TEST_EQ_INT(c.log.n, want.n);
	TEST_TRUE(c.log.n == want.n && memcmp(c.log.p, want.p, want.n) == 0);
	/* a NUL in a column name: an unknown column, shown as '?' */
	{
		static const char h[] = "record_id,tenant_id,item,ts,quantity,a\0b,a\0b\n";

		TEST_EQ_INT(run_mem(h, sizeof(h) - 1, &c, &e), ST_ERROR);
		TEST_EQ_STR(e.msg, msg("duplicate column 'a?b' in '%s'"));
	}
	/* a file of NUL bytes only: one cell of a header */
	buf_reset(&in);
	buf_rep(&in, '\0', 5000);
	TEST_EQ_INT(run_mem(in.p, in.n, &c, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, msg("column name '????????????????????????????????????????????????????????????????...' longer than 4096 bytes in '%s'"));

	free(in.p);
	free(want.p);
	free(c.log.p);
}

static void env_set(const char *ratio, const char *bytes)
{
	if (ratio)
		setenv(USAGE_ENV_MAX_RATIO, ratio, 1);
	else
		unsetenv(USAGE_ENV_MAX_RATIO);
	if (bytes)
		setenv(USAGE_ENV_MAX_BYTES, bytes, 1);
	else
		unsetenv(USAGE_ENV_MAX_BYTES);
}

/* gzip of HDR then `n` bytes of newlines (blank lines: no records), in
 * `members` members. */
static void blank_gz(struct buf *g, size_t n, int members, int level)
{
	struct buf t = { 0 };
	size_t cut;

	buf_reset(g);
	buf_str(&t, HDR);
	buf_rep(&t, '\n', n);
	cut = members > 1 ? t.n / 2 : t.n;
	gz_member(g, t.p, cut, level);
	if (members > 1)
		gz_member(g, t.p + cut, t.n - cut, level);
	free(t.p);
}

static void test_gzip_limits(void)
{
	static const size_t sizes[] = { 1, 7, 4096, 0 };
	struct buf g = { 0 }, t = { 0 };
	struct coll c;
	struct err e;
	size_t i;
	int bad = 0;
	const char *ratio_msg =
		"gzip in 'mem.csv' inflates past 1000 times its size (limit SETTLE_GZIP_MAX_RATIO)";

	memset(&c, 0, sizeof(c));
	env_set(NULL, NULL);
	TEST_EQ_INT(check_env(&e), 0);

	/* 8 MiB of blank lines at level 9 (about 1030:1) is a bomb */
	blank_gz(&g, (size_t)8 << 20, 1, 9);
	TEST_TRUE(g.n < ((size_t)8 << 20) / 1000);
	for (i = 0; i < 4; i++) {
		if (run_memr(g.p, g.n, sizes[i], &c, &e) != ST_ERROR ||
		    strcmp(e.msg, ratio_msg) != 0) {
			bad++;
			fprintf(stderr, "ratio at %zu: %s\n", sizes[i], e.msg);
		}
	}
	TEST_EQ_INT(bad, 0);
	/* through a file too, as ingest reads it */
	write_tmp(g.p, g.n);
	coll_reset(&c);
	TEST_EQ_INT(run(0, 0, 0, &c, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, msg("gzip in '%s' inflates past 1000 times its size (limit SETTLE_GZIP_MAX_RATIO)"));
	unlink(tmp_path);
	/* the same with the limit raised, or off: a header and no records */
	env_set("2000", NULL);
	TEST_EQ_INT(run_memr(g.p, g.n, 0, &c, &e), 0);
	env_set("0", NULL);
	TEST_EQ_INT(run_memr(g.p, g.n, 0, &c, &e), 0);
	TEST_EQ_INT(c.ndeliv, 0);
	/* two members count together */
	env_set(NULL, NULL);
	blank_gz(&g, (size_t)8 << 20, 2, 9);
	TEST_EQ_INT(run_memr(g.p, g.n, 0, &c, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, ratio_msg);

	/* the ratio applies only past 1 MiB of text: exactly 1 MiB passes
	 * even at ratio 10, one byte more fails */
	env_set("10", NULL);
	blank_gz(&g, ((size_t)1 << 20) - strlen(HDR), 1, 9);
	bad = 0;
	for (i = 0; i < 4; i++)
		if (run_memr(g.p, g.n, sizes[i], &c, &e) != 0)
			bad++;
	TEST_EQ_INT(bad, 0);
	blank_gz(&g, ((size_t)1 << 20) - strlen(HDR) + 1, 1, 9);
	for (i = 0; i < 4; i++)
		if (run_memr(g.p, g.n, sizes[i], &c, &e) != ST_ERROR ||
		    strcmp(e.msg, "gzip in 'mem.csv' inflates past 10 times its size (limit SETTLE_GZIP_MAX_RATIO)") != 0)
			bad++;
	TEST_EQ_INT(bad, 0);
	/* ordinary logs are far below the default ratio */
	env_set(NULL, NULL);
	buf_reset(&t);
	buf_str(&t, HDR);
	for (i = 0; t.n < ((size_t)3 << 20); i++)
		buf_addf(&t, "r%zu,t1,i1," TS0 ",%zu\n", i, i % 1000);
	buf_reset(&g);
	gz_member(&g, t.p, t.n, 9);
	TEST_EQ_INT(run_memr(g.p, g.n, 0, &c, &e), 0);
	TEST_EQ_INT(c.ndeliv, (int)i);

	/* the size limit: text of exactly N bytes passes, N + 1 fails, at
	 * every read size, across members; plain files are not limited */
	env_set(NULL, "1000");
	buf_reset(&t);
	buf_str(&t, HDR);
	while (t.n < 1000)
		buf_addf(&t, "r%zu,t1,i1," TS0 ",1\n", t.n);
	t.n = 1000;
	buf_reset(&g);
	gz_member(&g, t.p, 500, 6);
	gz_member(&g, t.p + 500, 500, 6);
	bad = 0;
	for (i = 1; i <= g.n; i++)
		if (run_memr(g.p, g.n, i, &c, &e) != 0)
			bad++;
	TEST_EQ_INT(bad, 0);
	env_set(NULL, "999");
	for (i = 1; i <= g.n; i++)
		if (run_memr(g.p, g.n, i, &c, &e) != ST_ERROR ||
		    strcmp(e.msg, "gzip in 'mem.csv' inflates past 999 bytes (limit SETTLE_GZIP_MAX_BYTES)") != 0)
			bad++;
	TEST_EQ_INT(bad, 0);
	env_set(NULL, "10");
	TEST_EQ_INT(run_memr(t.p, t.n, 0, &c, &e), 0);
	env_set("1", "1");
	TEST_EQ_INT(run_memr(t.p, t.n, 0, &c, &e), 0);

	/* bad values: check_env and every open fail, naming it */
	{
		static const struct { const char *r, *b, *m; } envs[] = {
			{ "abc", NULL, "bad SETTLE_GZIP_MAX_RATIO 'abc' (a whole number; 0 for no limit)" },
			{ "-1", NULL, "bad SETTLE_GZIP_MAX_RATIO '-1' (a whole number; 0 for no limit)" },
			{ " 5", NULL, "bad SETTLE_GZIP_MAX_RATIO ' 5' (a whole number; 0 for no limit)" },
			{ "5 ", NULL, "bad SETTLE_GZIP_MAX_RATIO '5 ' (a whole number; 0 for no limit)" },
			{ NULL, "64G", "bad SETTLE_GZIP_MAX_BYTES '64G' (a whole number; 0 for no limit)" },
			{ NULL, "1e6", "bad SETTLE_GZIP_MAX_BYTES '1e6' (a whole number; 0 for no limit)" },
			{ NULL, "12345678901234567890", "bad SETTLE_GZIP_MAX_BYTES '12345678901234567890' (a whole number; 0 for no limit)" },
			{ NULL, "\x1b[31m", "bad SETTLE_GZIP_MAX_BYTES '?[31m' (a whole number; 0 for no limit)" },
		};

		bad = 0;
		for (i = 0; i < sizeof(envs) / sizeof(envs[0]); i++) {
			env_set(envs[i].r, envs[i].b);
			err_clear(&e);
			if (check_env(&e) != ST_ERROR ||
			    strcmp(e.msg, envs[i].m) != 0) {
				bad++;
				fprintf(stderr, "env %zu: %s\n", i, e.msg);
			}
			if (run_memr(t.p, t.n, 0, &c, &e) != -100 ||
			    strcmp(e.msg, envs[i].m) != 0)
				bad++;
			write_tmp(t.p, t.n);
			err_clear(&e);
			if (open_env(tmp_path, &e) != NULL ||
			    strcmp(e.msg, envs[i].m) != 0)
				bad++;
			unlink(tmp_path);
		}
		TEST_EQ_INT(bad, 0);
	}
	/* empty means the default; 19 digits are fine */
	env_set("", "9999999999999999999");
	TEST_EQ_INT(check_env(&e), 0);
	blank_gz(&g, (size_t)8 << 20, 1, 9);
	TEST_EQ_INT(run_memr(g.p, g.n, 0, &c, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, ratio_msg);

	env_set(NULL, NULL);
	free(g.p);
	free(t.p);
	free(c.log.p);
}

static void test_open(void)
{
	struct coll c;
	struct err e;
	struct usage_reader *r;
	struct usage_sink s = { on_rec, on_rej, NULL, 0, &c };

	memset(&c, 0, sizeof(c));
	err_clear(&e);
	TEST_TRUE(open_env("/nonexistent/usage.csv", &e) == NULL);
	TEST_EQ_STR(e.msg, "cannot open '/nonexistent/usage.csv': No such file or directory");
	TEST_EQ_INT(e.code, ST_ERROR);
	err_clear(&e);
	TEST_TRUE(open_env("/tmp", &e) == NULL);
	TEST_EQ_STR(e.msg, "cannot read '/tmp': is a directory");
	usage_free(NULL);
	/* devices and FIFOs are refused at once, not read without end or
	 * waited on for a writer */
	TEST_TRUE(open_env("/dev/zero", &e) == NULL);
	TEST_EQ_STR(e.msg, "cannot read '/dev/zero': not a regular file");
	TEST_TRUE(open_env("/dev/null", &e) == NULL);
	TEST_EQ_STR(e.msg, "cannot read '/dev/null': not a regular file");
	{
		char fifo[64];

		snprintf(fifo, sizeof(fifo), "/tmp/test_usage_fifo_%d",
			 (int)getpid());
		unlink(fifo);
		TEST_EQ_INT(mkfifo(fifo, 0600), 0);
		err_clear(&e);
		TEST_TRUE(open_env(fifo, &e) == NULL);
		TEST_TRUE(strstr(e.msg, "': not a regular file") != NULL);
		unlink(fifo);
	}
	/* a symlink to a regular file is followed */
	write_tmp(HDR "r,t,i," TS0 ",1\n", strlen(HDR "r,t,i," TS0 ",1\n"));
	{
		char link[80];

		snprintf(link, sizeof(link), "%s.lnk", tmp_path);
		unlink(link);
		TEST_EQ_INT(symlink(tmp_path, link), 0);
		r = open_env(link, &e);
		TEST_TRUE(r != NULL);
		if (r) {
			TEST_EQ_INT(usage_read(r, &s, 0, &e), 0);
			TEST_EQ_INT(c.ndeliv, 1);
			usage_free(r);
		}
		unlink(link);
		/* a symlink loop */
		TEST_EQ_INT(symlink(link, link), 0);
		TEST_TRUE(open_env(link, &e) == NULL);
		TEST_TRUE(strstr(e.msg, "Too many levels of symbolic links") != NULL);
		unlink(link);
	}
	unlink(tmp_path);
	coll_reset(&c);

	/* a reader reads once */
	write_tmp(HDR "r,t,i," TS0 ",1\n", strlen(HDR "r,t,i," TS0 ",1\n"));
	r = open_env(tmp_path, &e);
	TEST_TRUE(r != NULL);
	if (r) {
		TEST_EQ_INT(usage_read(r, &s, 0, &e), 0);
		TEST_EQ_INT(c.ndeliv, 1);
		TEST_EQ_INT(usage_read(r, &s, 0, &e), ST_ERROR);
		TEST_EQ_STR(e.msg, msg("usage file '%s' read twice"));
		usage_free(r);
	}
	unlink(tmp_path);
	free(c.log.p);
}

static void test_names(void)
{
	static const char *const want[REJ_COUNT] = {
		"field_count", "bad_field", "bad_ts", "bad_quantity",
		"unknown_tenant", "unknown_item", "no_account",
		"unit_mismatch", "no_price", "duplicate_conflict"
	};
	int i;

	for (i = 0; i < REJ_COUNT; i++)
		TEST_EQ_STR(usage_reject_name((enum reject_reason)i), want[i]);
}

static void hex(const unsigned char *sha, char *out)
{
	static const char d[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 32; i++) {
		out[2 * i] = d[sha[i] >> 4];
		out[2 * i + 1] = d[sha[i] & 15];
	}
	out[64] = '\0';
}

static void test_digest(void)
{
	unsigned char sha[32], sha2[32];
	char h[65];
	uint64_t size = 0, size2 = 0;
	struct usage_stamp st, st2;
	struct usage_reader *r;
	struct usage_sink sink;
	struct coll c;
	struct err e;
	int fd;

	/* `sha256sum testdata/usage/digest.csv`, `wc -c` */
	TEST_EQ_INT(usage_file_digest("testdata/usage/digest.csv", sha, &size, &st, NULL, &e), 0);
	hex(sha, h);
	TEST_EQ_STR(h, "64a2b083c22dfd9514767ce397a908a1534afa3194d6f737cd00b2d8a464aeec");
	TEST_EQ_INT(size, 289);
	/* `sha256sum testdata/usage/digest.csv.gz`: the raw bytes, not the
	 * decompressed text */
	TEST_EQ_INT(usage_file_digest("testdata/usage/digest.csv.gz", sha, &size, &st, NULL, &e), 0);
	hex(sha, h);
	TEST_EQ_STR(h, "0d9980945e3aa053086c276c8b88eea63f0ad9df0fe459bc4e4a8f5d5619c78f");
	TEST_EQ_INT(size, 176);
	/* the empty file */
	write_tmp("", 0);
	TEST_EQ_INT(usage_file_digest(tmp_path, sha, &size, &st, NULL, &e), 0);
	hex(sha, h);
	TEST_EQ_STR(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	TEST_EQ_INT(size, 0);
	unlink(tmp_path);
	TEST_EQ_INT(usage_file_digest("/nonexistent/x", sha, &size, &st, NULL, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, "cannot open '/nonexistent/x': No such file or directory");
	TEST_EQ_INT(usage_file_digest("/tmp", sha, &size, &st, NULL, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, "cannot read '/tmp': is a directory");
	TEST_EQ_INT(usage_file_digest("/dev/zero", sha, &size, &st, NULL, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, "cannot read '/dev/zero': not a regular file");

	/* the descriptor kept from the digest: the reader parses and hashes
	 * the same bytes (gzip: the compressed ones), and the stamp is the
	 * file's: same file, size (`wc -c`) and mtime */
	TEST_EQ_INT(usage_file_digest("testdata/usage/digest.csv.gz", sha, &size,
				      &st, &fd, &e), 0);
	TEST_TRUE(fd >= 0);
	TEST_EQ_INT(st.size, 176);
	TEST_EQ_INT(usage_stamp_of(fd, &st2), 0);
	TEST_TRUE(usage_stamp_same(&st, &st2));
	st2.mtime_ns++;
	TEST_TRUE(!usage_stamp_same(&st, &st2));
	r = usage_open_fd(fd, "digest.csv.gz", NULL);
	memset(&c, 0, sizeof(c));
	memset(&sink, 0, sizeof(sink));
	sink.rec = on_rec;
	sink.reject = on_rej;
	sink.ctx = &c;
	TEST_EQ_INT(usage_read(r, &sink, 0, &e), 0);
	TEST_EQ_INT(usage_raw_digest(r, sha2, &size2), 0);
	TEST_TRUE(memcmp(sha, sha2, 32) == 0);
	TEST_EQ_INT(size2, 176);
	/* taken once */
	TEST_EQ_INT(usage_raw_digest(r, sha2, &size2), -1);
	usage_free(r);
	free(c.log.p);

	/* usage_file_open, then usage_file_hash by pread: the same digest as
	 * above (`sha256sum testdata/usage/digest.csv.gz`), and the
	 * descriptor's offset does not move */
	fd = usage_file_open("testdata/usage/digest.csv.gz", &st, &e);
	TEST_TRUE(fd >= 0);
	TEST_EQ_INT(st.size, 176);
	TEST_EQ_INT(usage_file_hash(fd, "d.gz", &st, sha2, &e), 0);
	hex(sha2, h);
	TEST_EQ_STR(h, "0d9980945e3aa053086c276c8b88eea63f0ad9df0fe459bc4e4a8f5d5619c78f");
	TEST_EQ_INT(lseek(fd, 0, SEEK_CUR), 0);
	/* a stamp that is not the file's: changed */
	st2 = st;
	st2.mtime_ns++;
	TEST_EQ_INT(usage_file_hash(fd, "d.gz", &st2, sha2, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, "usage file 'd.gz' changed while settle read it "
		    "(size, mtime or bytes); nothing of it counts: ingest it "
		    "again once it is complete");
	close(fd);
	/* reopened: the same file, unchanged, or refused as changed */
	fd = usage_file_reopen("testdata/usage/digest.csv.gz", &st, &e);
	TEST_TRUE(fd >= 0);
	if (fd >= 0)
		close(fd);
	TEST_EQ_INT(usage_file_reopen("testdata/usage/digest.csv.gz", &st2,
				      &e), -1);
	TEST_EQ_STR(e.msg, "usage file 'testdata/usage/digest.csv.gz' changed "
		    "while settle read it (size, mtime or bytes); nothing of "
		    "it counts: ingest it again once it is complete");
	TEST_EQ_INT(usage_file_open("/dev/zero", &st2, &e), -1);
	TEST_EQ_STR(e.msg, "cannot read '/dev/zero': not a regular file");
	/* a file cut after it was stamped (same mtime put back): 289 bytes
	 * stamped, 10 read: changed */
	write_tmp("abcdefghij", 10);
	fd = usage_file_open(tmp_path, &st, &e);
	TEST_TRUE(fd >= 0);
	st.size = 289;
	TEST_EQ_INT(usage_file_hash(fd, "cut.csv", &st, sha2, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, "usage file 'cut.csv' changed while settle read it "
		    "(size, mtime or bytes); nothing of it counts: ingest it "
		    "again once it is complete");
	close(fd);
	unlink(tmp_path);

	TEST_EQ_INT(usage_changed(&e, "a.csv"), ST_ERROR);
	TEST_EQ_STR(e.msg, "usage file 'a.csv' changed while settle read it "
		    "(size, mtime or bytes); nothing of it counts: ingest it "
		    "again once it is complete");
}

/* The fixture files read through the reader, as the CLI would. */
static void test_fixtures(void)
{
	struct usage_sink s;
	struct usage_reader *r;
	struct coll c;
	struct err e;
	static const char want[] =
		"R 1|r1|tenant-a|video_production|1768471200000000000|140000000|ok|fps=60;height=1080|second\n"
		"R 2|r2|tenant-a|video_production|1768474800000000000|250000000||fps=30;height=720|second\n"
		"J 3|r3|tenant-b|bad_quantity|column quantity\n";
	static const char *const files[] = {
		"testdata/usage/digest.csv", "testdata/usage/digest.csv.gz"
	};
	size_t i;

	memset(&c, 0, sizeof(c));
	s.rec = on_rec;
	s.reject = on_rej;
	s.progress = NULL;
	s.progress_every = 0;
	s.ctx = &c;
	for (i = 0; i < 2; i++) {
		coll_reset(&c);
		r = open_env(files[i], &e);
		TEST_TRUE(r != NULL);
		if (!r)
			continue;
		TEST_EQ_INT(usage_read(r, &s, 0, &e), 0);
		TEST_EQ_STR(buf_cstr(&c.log), want);
		usage_free(r);
	}
	free(c.log.p);
}

/* ---- the fast path against libcsv (issue #5) ---- */

/* The reader splits lines without a '"' itself and hands the rest to
 * libcsv; usage_set_fast(r, 0) sends every line to libcsv. Both must give
 * the same deliveries, progress calls, result and message for any input,
 * at any read size, plain or gzip, with skip, progress and a sink's stop. */

static int on_prog_log(void *ctx, uint64_t raw, uint64_t recs)
{
	struct coll *c = ctx;

	buf_addf(&c->log, "P %llu %llu\n", (unsigned long long)raw,
		 (unsigned long long)recs);
	return 0;
}

struct way {
	struct coll c;
	int rc;
	char msg[sizeof(((struct err *)0)->msg)];
};

struct how {
	size_t sz;          /* read size, 0: the default */
	uint64_t skip;
	uint64_t every;     /* progress_every */
	int stop_at;        /* the sink returns 7 on this delivery, 0: never */
};

static void read_way(const struct buf *in, const struct how *h, int fast,
		     struct way *w)
{
	struct usage_sink s = { on_rec, on_rej, on_prog_log, h->every, &w->c };
	struct usage_reader *r;
	struct err e;

	coll_reset(&w->c);
	w->c.stop_at = h->stop_at;
	w->c.stop_val = 7;
	err_clear(&e);
	r = open_mem_env(in->p, in->n, "diff.csv", &e);
	if (!r) {
		w->rc = -100;
	} else {
		usage_set_read_size(r, h->sz);
		usage_set_fast(r, fast);
		w->rc = usage_read(r, &s, h->skip, &e);
		usage_free(r);
	}
	snprintf(w->msg, sizeof(w->msg), "%s", e.msg);
}

static struct way way_fast, way_slow;
static int diff_shown;

/* Reads in both ways; 1 if they agree (the first difference is shown). */
static int same_both_ways(const struct buf *in, const struct how *h)
{
	read_way(in, h, 1, &way_fast);
	read_way(in, h, 0, &way_slow);
	if (way_fast.rc == way_slow.rc &&
	    strcmp(way_fast.msg, way_slow.msg) == 0 &&
	    way_fast.c.log.n == way_slow.c.log.n &&
	    memcmp(buf_cstr(&way_fast.c.log), buf_cstr(&way_slow.c.log),
		   way_fast.c.log.n) == 0)
		return 1;
	if (!diff_shown++) {
		size_t i;

		fprintf(stderr, "fast and libcsv differ at read size %zu, skip %llu, "
			"progress %llu, stop %d on %zu bytes:\n'",
			h->sz, (unsigned long long)h->skip,
			(unsigned long long)h->every, h->stop_at, in->n);
		for (i = 0; i < in->n && i < 600; i++) {
			unsigned char ch = (unsigned char)in->p[i];

			if (ch >= 0x20 && ch < 0x7f && ch != '\\')
				fputc(ch, stderr);
			else
				fprintf(stderr, "\\x%02x", ch);
		}
		fprintf(stderr, "'\nfast: rc %d '%s'\n%s\nlibcsv: rc %d '%s'\n%s\n",
			way_fast.rc, way_fast.msg, buf_cstr(&way_fast.c.log),
			way_slow.rc, way_slow.msg, buf_cstr(&way_slow.c.log));
	}
	return 0;
}

/* xorshift64*: the same inputs on every run */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static size_t pick(size_t n)
{
	return (size_t)(rnd() % n);
}

#define PICK(a) ((a)[pick(sizeof(a) / sizeof((a)[0]))])

static const char *const ends[] = {
	"\n", "\n", "\n", "\r\n", "\r\n", "\r", "\n\n", "\r\n\r\n", "\r\r\n",
	"\n\r", "\r\r"
};

/* Cells by column, good and bad, quoted and not. */
static const char *const cells[8][8] = {
	{ "r1", "r-2", "\"r,3\"", "\"r\"\"4\"", "", "r 5", "\"\"", "r\xc3\xa9" },
	{ "t1", "t.2:x", "\"t3\"", "bad tenant", "", "t\"4", "t1 ", "\"t\n5\"" },
	{ "api", "video", "\"api\"", "a b", "", "i\r", "item.x", "\"i,j\"" },
	{ TS0, "2026-02-30T00:00:00Z", "\"" TS0 "\"", "2026-01-15T10:00:00.5+08:00",
	  "", "x", TS0 " ", "2026-01-31T23:59:59-05:00" },
	{ "1", "1.5", " 12", "\"7\"", "", "-1", "0.000001", "1e3" },
	{ "ok", "", "\"fail\ned\"", "\xff", "a\"b", "\"\"\"\"", "ok\r", "fail" },
	{ "", "a=1;b=2", "b=2;a=1", "a=1;a=2", "\"x=1,y=2\"", "=1", "k=v=w",
	  "z=1;y=2;x=3" },
	{ "", "second", "call", "\"s\"", "u\xe2\x82", "\"\r\n\"", "call,", "s" },
};

static const char *const hdr8 =
	"record_id,tenant_id,item,ts,quantity,status,dims,unit";

/* The cells of the wide header's last columns: item, ts, quantity,
 * tenant_id, record_id. */
static const size_t wide_cols[5] = { 2, 3, 4, 1, 0 };

/* Bytes that matter to CSV and to the checks, for mutations. */
static const char noise[] = ",\",\"\r\n\r\n\0 ax\xef\xbb\xbf\xff\t;=";

/* Appends a field of n bytes, no CSV specials (and no trailing newline). */
static void long_field(struct buf *b, size_t n)
{
	buf_rep(b, (char)('a' + pick(26)), n);
}

/* A random usage file: BOM or not, a header (mostly good), rows of good
 * and bad cells with every line end, blank lines, long cells, then a few
 * bytes changed, inserted or cut. */
static void gen_input(struct buf *b)
{
	size_t rows, i, k, wide = 0;

	buf_reset(b);
	switch (pick(12)) {
	case 0: case 1: case 2: buf_str(b, "\xEF\xBB\xBF"); break;
	case 3: buf_str(b, "\xEF\xBB"); break;
	default: break;
	}
	switch (pick(10)) {
	case 0:
		buf_str(b, "record_id,tenant_id,item,ts,quantity");
		break;
	case 1:
		buf_str(b, "\"record_id\",tenant_id,\"item\",ts,quantity,dims");
		break;
	case 2:
		/* wide rows: 24 columns, the ids last, so that the record
		 * buffer's room (USAGE_MAX_RECORD + USAGE_MAX_FIELD) may
		 * cut them */
		wide = 24;
		for (k = 0; k < 19; k++)
			buf_addf(b, "x%zu,", k);
		buf_str(b, "item,ts,quantity,tenant_id,record_id");
		break;
	case 3:
		buf_str(b, "record_id,tenant_id,item");
		break;
	default:
		buf_str(b, hdr8);
		break;
	}
	buf_str(b, PICK(ends));
	rows = wide ? pick(6) : pick(25);
	for (i = 0; i < rows; i++) {
		size_t ncol = wide ? wide : 8;

		if (pick(8) == 0)
			ncol = pick(12);
		for (k = 0; k < ncol; k++) {
			if (k)
				buf_str(b, ",");
			if (wide && k < 19) {
				long_field(b, pick(8) ? 3600 + pick(700) : 3);
				continue;
			}
			if (pick(40) == 0)
				long_field(b, 4090 + pick(12));
			else if (pick(200) == 0)
				long_field(b, 70000 + pick(10));
			else
				buf_str(b, cells[wide ? wide_cols[(k - 19) % 5] : k % 8]
					    [pick(5) ? 0 : 1 + pick(7)]);
		}
		buf_str(b, pick(30) ? PICK(ends) : "");
	}
	if (pick(4) == 0)
		buf_str(b, PICK(ends));
	/* mutations */
	k = pick(4);
	while (k-- && b->n) {
		size_t at = pick(b->n + 1);
		char ch = noise[pick(sizeof(noise) - 1)];

		switch (pick(3)) {
		case 0:
			if (at < b->n)
				b->p[at] = ch;
			break;
		case 1:
			buf_add(b, "", 1);
			memmove(b->p + at + 1, b->p + at, b->n - 1 - at);
			b->p[at] = ch;
			break;
		default:
			b->n = at;
			b->p[b->n] = '\0';
			break;
		}
	}
}

/* A short string of CSV specials and letters, after a header. */
static void gen_short(struct buf *b)
{
	static const char alpha[] = ",,\"\"\r\n\nab\0 ";
	size_t n = pick(40), i;

	buf_reset(b);
	if (pick(3))
		buf_str(b, pick(2) ? HDR : "a\n");
	for (i = 0; i < n; i++)
		buf_add(b, &alpha[pick(sizeof(alpha) - 1)], 1);
}

static void random_how(struct how *h, size_t n)
{
	static const size_t sizes[] = { 0, 0, 1, 2, 3, 5, 8, 13, 64, 100, 333,
					4096, 65536 };

	h->sz = sizes[pick(sizeof(sizes) / sizeof(sizes[0]))];
	if (h->sz > n + 1 && pick(2))
		h->sz = 1 + pick(n + 1);
	/* large inputs (wide rows) read in small pieces take too long */
	if (n > 20000 && h->sz && h->sz < 4096)
		h->sz = 1000 + pick(8192);
	h->skip = pick(4) ? 0 : pick(4);
	h->every = pick(3) ? 0 : 1 + pick(300);
	h->stop_at = pick(5) ? 0 : 1 + (int)pick(6);
}

static void test_fast_vs_libcsv(void)
{
	struct buf in = { 0 }, g = { 0 };
	struct how h;
	size_t t, sz, cut;
	int bad = 0, level;

	memset(&way_fast, 0, sizeof(way_fast));
	memset(&way_slow, 0, sizeof(way_slow));
	/* the fixed inputs of the other tests, at every read size */
	build_main(&in);
	memset(&h, 0, sizeof(h));
	for (sz = 0; sz <= in.n + 1; sz++) {
		h.sz = sz;
		bad += !same_both_ways(&in, &h);
	}
	TEST_EQ_INT(bad, 0);
	/* short inputs of specials, at every read size */
	for (t = 0; t < 1000; t++) {
		gen_short(&in);
		memset(&h, 0, sizeof(h));
		for (sz = 0; sz <= in.n + 1; sz++) {
			h.sz = sz;
			bad += !same_both_ways(&in, &h);
		}
	}
	TEST_EQ_INT(bad, 0);
	/* generated files: plain at several read sizes, and as gzip (one or
	 * two members) */
	for (t = 0; t < 2000; t++) {
		gen_input(&in);
		for (sz = 0; sz < 4; sz++) {
			random_how(&h, in.n);
			bad += !same_both_ways(&in, &h);
		}
		if (t % 4)
			continue;
		buf_reset(&g);
		level = (int)pick(10);
		cut = pick(2) ? in.n : pick(in.n + 1);
		gz_member(&g, in.p, cut, level);
		if (cut < in.n)
			gz_member(&g, in.p + cut, in.n - cut, level);
		random_how(&h, g.n);
		bad += !same_both_ways(&g, &h);
	}
	TEST_EQ_INT(bad, 0);

	/* a cell over libcsv's 16 MiB cap where the fast path sees the
	 * whole line in one read: it fails as libcsv fails it (the message
	 * of test_huge_field); 16 MiB pass, a bad_field reject */
	for (t = 0; t < 2; t++) {
		buf_reset(&in);
		buf_str(&in, HDR "r1,t1,i," TS0 ",1\n" "r2,t1,i," TS0 ",");
		buf_rep(&in, '7', ((size_t)16 << 20) + t);
		buf_str(&in, "\nr3,t1,i," TS0 ",1\n");
		memset(&h, 0, sizeof(h));
		h.sz = in.n + 1;
		read_way(&in, &h, 1, &way_fast);
		TEST_EQ_INT(way_fast.rc, t ? ST_ERROR : 0);
		TEST_EQ_STR(way_fast.msg, t ?
			    "field over 16 MiB in 'diff.csv' (row starting at line 3)" : "");
		TEST_EQ_STR(buf_cstr(&way_fast.c.log), t ?
			    "R 1|r1|t1|i|" NS0 "|1000000|||\n" :
			    "R 1|r1|t1|i|" NS0 "|1000000|||\n"
			    "J 2|r2|t1|bad_field|column quantity longer than 4096 bytes\n"
			    "R 3|r3|t1|i|" NS0 "|1000000|||\n");
	}
	free(in.p);
	free(g.p);
	free(way_fast.c.log.p);
	free(way_slow.c.log.p);
}

int main(void)
{
	test_names();
	test_main_input();
	test_skip();
	test_progress_and_stop();
	test_rejects();
	test_reject_ts();
	test_header();
	test_quoting();
	test_huge_field();
	test_bad_gzip();
	test_open();
	test_mem_reader();
	test_limits_exact();
	test_gzip_limits();
	test_digest();
	test_fixtures();
	test_fast_vs_libcsv();
	return TEST_REPORT();
}
