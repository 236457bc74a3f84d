/* Unit tests for catalog: the config loader, its checks and messages, and
 * price-group filters. Error cases write a config dir "cfg" in a fresh
 * temporary directory (so that messages read "cfg/prices.csv:4"); the
 * valid case loads testdata/config-ok. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "dec.h"
#include "mem.h"
#include "sheet.h"
#include "ts.h"
#include "testhelp.h"
#include "banned.h"

static dec_t D(const char *s)
{
	dec_t v;

	if (dec_parse_signed(s, strlen(s), &v) < 0) {
		fprintf(stderr, "bad test decimal %s\n", s);
		abort();
	}
	return v;
}

static int64_t T(const char *s)
{
	int64_t t;

	if (ts_parse(s, strlen(s), &t) < 0) {
		fprintf(stderr, "bad test instant %s\n", s);
		abort();
	}
	return t;
}

static int cat_empty(const struct catalog *c)
{
	return !c->items && !c->nitems && !c->accounts && !c->naccounts &&
	       !c->packages && !c->npackages && !c->payments && !c->npayments;
}

/* ---- sheet: rows parsed once, fetched in order and again ------------------- */

/* The rows of a sheet are parsed whole at sheet_open and held; each
 * sheet_row_at points at a held row. The bytes below, by hand: a BOM, the
 * header "a,b,c" (line 1); row 1 on lines 2-3 (a quoted cell holds a line
 * break: "x\ny"); a blank line 4 (skipped); row 2 on line 5 ("q""r" is
 * q"r, an empty last cell); row 3 on line 6 is 4 cells wide (counted 4,
 * 3 kept), row 4 on line 7 has an empty first cell; row 5 on line 8 has
 * a NUL byte inside its cell b (n, NUL, l: 3 bytes), row 6 on line 9 no
 * line end. */
static void test_sheet_rows(void)
{
	static const char text[] = "\xEF\xBB\xBF" "a,b,c\n"
		"1,\"x\ny\",3\n"
		"  \n"
		"4,\"q\"\"r\",\n"
		"5,6,7,8\n"
		",9,\"\"\n"
		"7,n\0l,8\n"
		"x,y,z";
	static const struct sheet_colspec cols[] = { { "a", 1 }, { "c", 0 } };
	struct sheet_bytes b = { (char *)text, sizeof(text) - 1, 0 };
	const struct sheet_row *r;
	struct sheet s;
	struct err e = { 0 };
	int pass;

	TEST_EQ_INT(sheet_open(&s, "cfg", "t.csv", cols, 2, 0, &b, 0, &e), 0);
	TEST_EQ_INT(s.t.nrows, 7); /* the header and 6 rows */
	/* twice in order: the second pass starts over from the first row */
	for (pass = 0; pass < 2; pass++) {
		TEST_EQ_INT(sheet_row_at(&s, 1, &r), 0);
		TEST_EQ_INT(r->line, 2);
		TEST_EQ_INT(r->n, 3);
		TEST_EQ_STR(r->cell[0].s, "1");
		TEST_EQ_STR(r->cell[1].s, "x\ny");
		TEST_EQ_INT(r->cell[1].n, 3);
		TEST_EQ_STR(sheet_col(&s, r, 1).v, "3");
		TEST_EQ_INT(sheet_row_at(&s, 2, &r), 0);
		TEST_EQ_INT(r->line, 5);
		TEST_EQ_STR(r->cell[1].s, "q\"r");
		TEST_EQ_STR(r->cell[2].s, "");
		TEST_EQ_INT(r->cell[2].n, 0);
		/* 4 cells against a header of 3: the message of the width */
		TEST_EQ_INT(sheet_row_at(&s, 3, &r), ST_ERROR);
		TEST_EQ_STR(e.msg, "bad field count 4 (header has 3) at cfg/t.csv:6");
		TEST_EQ_INT(r->n, 4);
		TEST_EQ_STR(r->cell[2].s, "7");
		TEST_EQ_INT(sheet_row_at(&s, 4, &r), 0);
		TEST_EQ_INT(r->line, 7);
		TEST_EQ_STR(r->cell[0].s, "");
		TEST_EQ_STR(r->cell[1].s, "9");
		TEST_EQ_STR(r->cell[2].s, "");
		TEST_EQ_INT(sheet_row_at(&s, 5, &r), ST_ERROR);
		TEST_EQ_STR(e.msg, "NUL byte in value at cfg/t.csv:8 (column b)");
		TEST_EQ_INT(r->cell[1].n, 3);
		TEST_EQ_STR(r->cell[2].s, "8");
		TEST_EQ_INT(sheet_row_at(&s, 6, &r), 0);
		TEST_EQ_INT(r->line, 9);
		TEST_EQ_STR(r->cell[0].s, "x");
		TEST_EQ_STR(r->cell[2].s, "z");
	}
	/* a row fetched out of order, then the one before it */
	TEST_EQ_INT(sheet_row_at(&s, 4, &r), 0);
	TEST_EQ_STR(r->cell[1].s, "9");
	TEST_EQ_INT(sheet_row_at(&s, 2, &r), 0);
	TEST_EQ_STR(r->cell[0].s, "4");
	/* from row 2 to row 6, over the row with a NUL byte */
	TEST_EQ_INT(sheet_row_at(&s, 6, &r), 0);
	TEST_EQ_STR(r->cell[1].s, "y");
	/* past the last row: a caller's mistake, told at the line of the row
	 * fetched last (row 6, line 9) */
	TEST_EQ_INT(sheet_row_at(&s, 7, &r), ST_ERROR);
	TEST_EQ_STR(e.msg, "row 7 is gone at cfg/t.csv:9");
	sheet_close(&s);
	err_clear(&e);
}

/* Rows without a quote are split at their commas (RFC 4180: a field that
 * is not quoted is the bytes between commas, spaces kept). By hand: the
 * header "a,b,c" ends with CR LF (line 1); row 1 " x , ,y" ends with a
 * CR alone (line 2: three cells, the middle one a space); the LF-only
 * line 3 holds ",," (three empty cells); row 3 on line 4, CR LF, is
 * "1,\"2\",3" (a quoted cell among plain ones); row 4 on line 5 is
 * "p,q," with no line end: its last cell empty. */
static void test_sheet_plain_rows(void)
{
	static const char text[] = "a,b,c\r\n"
		" x , ,y\r"
		",,\n"
		"1,\"2\",3\r\n"
		"p,q,";
	static const struct sheet_colspec cols[] = { { "a", 1 } };
	struct sheet_bytes b = { (char *)text, sizeof(text) - 1, 0 };
	const struct sheet_row *r;
	struct sheet s;
	struct err e = { 0 };

	TEST_EQ_INT(sheet_open(&s, "cfg", "p.csv", cols, 1, 0, &b, 0, &e), 0);
	TEST_EQ_INT(s.width, 3);
	TEST_EQ_STR(s.t.head.cell[2].s, "c");
	TEST_EQ_INT(s.t.nrows, 5);
	TEST_EQ_INT(sheet_row_at(&s, 1, &r), 0);
	TEST_EQ_INT(r->line, 2);
	TEST_EQ_STR(r->cell[0].s, " x ");
	TEST_EQ_STR(r->cell[1].s, " ");
	TEST_EQ_STR(r->cell[2].s, "y");
	TEST_EQ_INT(sheet_row_at(&s, 2, &r), 0);
	TEST_EQ_INT(r->line, 3);
	TEST_EQ_STR(r->cell[0].s, "");
	TEST_EQ_STR(r->cell[2].s, "");
	TEST_EQ_INT(sheet_row_at(&s, 3, &r), 0);
	TEST_EQ_INT(r->line, 4);
	TEST_EQ_STR(r->cell[1].s, "2");
	TEST_EQ_STR(r->cell[2].s, "3");
	TEST_EQ_INT(sheet_row_at(&s, 4, &r), 0);
	TEST_EQ_INT(r->line, 5);
	TEST_EQ_INT(r->n, 3);
	TEST_EQ_STR(r->cell[0].s, "p");
	TEST_EQ_STR(r->cell[1].s, "q");
	TEST_EQ_STR(r->cell[2].s, "");
	sheet_close(&s);
	err_clear(&e);
}

/* Line ends found past sheet.c's 1024-byte look-ahead: a file whose lines
 * end in CR alone (no LF anywhere: the header "a,b" and 400 rows "xN,y"
 * for N = 0..399, each its own line, so row r, "x(r-1),y", is on line
 * r + 1), and a plain row whose first cell is 2000 bytes of 'z' before
 * its LF. */
static void test_sheet_long_lines(void)
{
	static const struct sheet_colspec cols[] = { { "a", 1 } };
	struct sheet_bytes b;
	const struct sheet_row *r;
	struct sheet s;
	struct err e = { 0 };
	char *text = xmalloc(8192), want[16];
	size_t n = 0;
	int k;

	n += (size_t)snprintf(text + n, 8192 - n, "a,b\r");
	for (k = 0; k < 400; k++)
		n += (size_t)snprintf(text + n, 8192 - n, "x%d,y\r", k);
	b.buf = text;
	b.len = n;
	b.absent = 0;
	TEST_EQ_INT(sheet_open(&s, "cfg", "cr.csv", cols, 1, 0, &b, 0, &e), 0);
	TEST_EQ_INT(s.t.nrows, 401);
	for (k = 1; k <= 400; k += 133) {
		TEST_EQ_INT(sheet_row_at(&s, (size_t)k, &r), 0);
		TEST_EQ_INT(r->line, k + 1);
		snprintf(want, sizeof(want), "x%d", k - 1);
		TEST_EQ_STR(r->cell[0].s, want);
		TEST_EQ_STR(r->cell[1].s, "y");
	}
	sheet_close(&s);
	n = (size_t)snprintf(text, 8192, "a,b\n");
	memset(text + n, 'z', 2000);
	n += 2000;
	n += (size_t)snprintf(text + n, 8192 - n, ",w\nq,v\n");
	b.len = n;
	TEST_EQ_INT(sheet_open(&s, "cfg", "long.csv", cols, 1, 0, &b, 0, &e), 0);
	TEST_EQ_INT(s.t.nrows, 3);
	TEST_EQ_INT(sheet_row_at(&s, 1, &r), 0);
	TEST_EQ_INT(r->cell[0].n, 2000);
	TEST_EQ_STR(r->cell[1].s, "w");
	TEST_EQ_INT(sheet_row_at(&s, 2, &r), 0);
	TEST_EQ_INT(r->line, 3);
	TEST_EQ_STR(r->cell[0].s, "q");
	sheet_close(&s);
	free(text);
	err_clear(&e);
}

/* What sheet.c keeps of each row past one byte (sheet.h: a varint of the
 * line step and flags, the count of cells when not the header's width,
 * the cells' lengths when one holds a NUL), each taking two bytes here.
 * By hand: the header "a,b" (line 1), 40 empty lines (2..41), row 1
 * "p,q" on line 42 (40 lines after the one after the header: (42 - 1 -
 * 1) * 4 = 160), row 2 of 200 empty cells (199 commas) on line 43, row 3
 * "r," then 150 'w', a NUL and 'v' (cell b: 152 bytes) on line 44, and
 * row 4 "s,t" on line 45. Twice: the second pass starts over. */
static void test_sheet_held_varints(void)
{
	static const struct sheet_colspec cols[] = { { "a", 1 } };
	struct sheet_bytes b;
	const struct sheet_row *r;
	struct sheet s;
	struct err e = { 0 };
	char *text = xmalloc(1024);
	size_t n = 0;
	int pass;

	n += (size_t)snprintf(text + n, 1024 - n, "a,b\n");
	memset(text + n, '\n', 40);
	n += 40;
	n += (size_t)snprintf(text + n, 1024 - n, "p,q\n");
	memset(text + n, ',', 199);
	n += 199;
	text[n++] = '\n';
	n += (size_t)snprintf(text + n, 1024 - n, "r,");
	memset(text + n, 'w', 150);
	n += 150;
	text[n++] = '\0';
	n += (size_t)snprintf(text + n, 1024 - n, "v\ns,t\n");
	b.buf = text;
	b.len = n;
	b.absent = 0;
	TEST_EQ_INT(sheet_open(&s, "cfg", "v.csv", cols, 1, 0, &b, 0, &e), 0);
	TEST_EQ_INT(s.t.nrows, 5);
	for (pass = 0; pass < 2; pass++) {
		TEST_EQ_INT(sheet_row_at(&s, 1, &r), 0);
		TEST_EQ_INT(r->line, 42);
		TEST_EQ_STR(r->cell[0].s, "p");
		TEST_EQ_STR(r->cell[1].s, "q");
		TEST_EQ_INT(sheet_row_at(&s, 2, &r), ST_ERROR);
		TEST_EQ_STR(e.msg, "bad field count 200 (header has 2) at "
			    "cfg/v.csv:43");
		TEST_EQ_INT(r->n, 200);
		TEST_EQ_STR(r->cell[1].s, "");
		TEST_EQ_INT(sheet_row_at(&s, 3, &r), ST_ERROR);
		TEST_EQ_STR(e.msg, "NUL byte in value at cfg/v.csv:44 (column b)");
		TEST_EQ_STR(r->cell[0].s, "r");
		TEST_EQ_INT(r->cell[1].n, 152);
		TEST_EQ_INT(sheet_row_at(&s, 4, &r), 0);
		TEST_EQ_INT(r->line, 45);
		TEST_EQ_STR(r->cell[0].s, "s");
		TEST_EQ_STR(r->cell[1].s, "t");
	}
	sheet_close(&s);
	free(text);
	err_clear(&e);
}

/* ---- the valid fixture ---------------------------------------------------- */

static void check_tiers(const struct price_group *pg, const char *const *t,
			size_t n)
{
	const struct price_version *g = &pg->versions[0];
	size_t i;

	/* one version, since always */
	TEST_EQ_INT(pg->nversions, 1);
	TEST_EQ_INT(pg->first, PRICE_ALWAYS);
	TEST_EQ_INT(g->from, PRICE_ALWAYS);
	TEST_EQ_INT(g->ntiers, n);
	if (g->ntiers != n)
		return;
	/* t holds from, to ("" = open), unit_price, flat_fee per tier */
	for (i = 0; i < n; i++) {
		TEST_EQ_INT(g->tiers[i].from, D(t[4 * i]));
		TEST_EQ_INT(g->tiers[i].open, !*t[4 * i + 1]);
		if (*t[4 * i + 1])
			TEST_EQ_INT(g->tiers[i].to, D(t[4 * i + 1]));
		TEST_EQ_INT(g->tiers[i].unit_price, D(t[4 * i + 2]));
		TEST_EQ_INT(g->tiers[i].flat_fee, D(t[4 * i + 3]));
	}
}

static void test_config_ok(void)
{
	static const char *const api_tiers[] = {
		"0", "10000", "0.15", "0", "10000", "100000", "0.1", "0",
		"100000", "1000000", "0.06", "0", "1000000", "", "0.02", "0",
	};
	static const char *const vision_tiers[] = {
		"0", "100", "4.8", "0", "100", "1000", "4.2", "0",
		"1000", "10000", "3.8", "0", "10000", "", "3.5", "0",
	};
	static const char *const qps_cn_tiers[] = {
		"0", "10", "12.8", "0", "10", "50", "10.8", "1.25",
		"50", "100", "9.8", "0", "100", "", "9", "0",
	};
	static const char *const qps_all_tiers[] = { "0", "", "20", "0" };
	static const char *const pkg_tiers[] = { "0", "", "2", "0.5" };
	static const char *const matrix[9][2] = {
		{ "fps=(0,30];height=(0,720]", "4" },
		{ "fps=(0,30];height=(720,1440]", "8" },
		{ "fps=(0,30];height=(1440,2160]", "24" },
		{ "fps=(30,60];height=(0,720]", "8" },
		{ "fps=(30,60];height=(720,1440]", "16" },
		{ "fps=(30,60];height=(1440,2160]", "48" },
		{ "fps=(60,120];height=(0,720]", "16" },
		{ "fps=(60,120];height=(720,1440]", "32" },
		{ "fps=(60,120];height=(1440,2160]", "96" },
	};
	struct catalog cat;
	struct err e;
	const struct item *it;
	const struct account *a;
	const struct package *p;
	size_t i;
	int g;

	err_clear(&e);
	TEST_EQ_INT(catalog_load("testdata/config-ok", &cat, &e), 0);
	TEST_EQ_STR(e.msg, "");
	if (e.code)
		return;

	TEST_EQ_INT(cat.set.tz, 8 * 3600);
	TEST_EQ_STR(cat.set.invoice_prefix, "ACME-1");
	TEST_EQ_INT(cat.set.rounding, DEC_HALF_EVEN);
	TEST_EQ_INT(cat.set.alert_pct, D("12.5"));

	/* items, sorted by code */
	TEST_EQ_INT(cat.nitems, 5);
	if (cat.nitems != 5)
		goto out;
	TEST_EQ_STR(cat.items[0].code, "api_calls");
	TEST_EQ_STR(cat.items[1].code, "avatar_video");
	TEST_EQ_STR(cat.items[2].code, "minutes_pkg");
	TEST_EQ_STR(cat.items[3].code, "qps");
	TEST_EQ_STR(cat.items[4].code, "vision");

	it = &cat.items[0];
	TEST_EQ_STR(it->currency, "CNY");
	TEST_EQ_INT(it->minor, 2);
	TEST_EQ_INT(it->model, MODEL_GRADUATED);
	TEST_EQ_INT(it->block_size, DEC_ONE);
	TEST_EQ_STR(it->usage_unit, "call");
	TEST_EQ_STR(it->price_unit, "call");
	TEST_EQ_INT(it->unit_ratio, DEC_ONE);
	TEST_EQ_INT(it->record_round, 6);
	TEST_EQ_INT(it->record_round_mode, DEC_HALF_UP);
	TEST_EQ_INT(it->basis_total, 0);
	TEST_EQ_INT(it->bound_lower, 0);
	TEST_EQ_INT(it->ngroups, 1);
	TEST_EQ_STR(it->groups[0].filter, "");
	TEST_EQ_INT(it->groups[0].npreds, 0);
	check_tiers(&it->groups[0], api_tiers, 4);

	it = &cat.items[1];
	TEST_EQ_STR(it->usage_unit, "second");
	TEST_EQ_STR(it->price_unit, "minute");
	TEST_EQ_INT(it->unit_ratio, 60 * DEC_ONE);
	TEST_EQ_INT(it->ngroups, 9);
	for (i = 0; i < 9 && i < it->ngroups; i++) {
		TEST_EQ_STR(it->groups[i].filter, matrix[i][0]);
		TEST_EQ_INT(it->groups[i].npreds, 2);
		TEST_EQ_INT(it->groups[i].versions[0].ntiers, 1);
		TEST_EQ_INT(it->groups[i].versions[0].tiers[0].unit_price,
			    D(matrix[i][1]));
		TEST_EQ_INT(it->groups[i].versions[0].tiers[0].open, 1);
	}
	/* SPEC 11 example 2: 60 fps, 1080p is the 16-per-minute group */
	g = catalog_match_group(it, "fps=60;height=1080", 18);
	TEST_EQ_INT(g, 4);
	if (g >= 0) {
		TEST_EQ_STR(it->groups[g].filter,
			    "fps=(30,60];height=(720,1440]");
		TEST_EQ_INT(it->groups[g].versions[0].tiers[0].unit_price,
			    16 * DEC_ONE);
	}
	TEST_EQ_INT(catalog_match_group(it, "fps=30;height=720", 17), 0);
	TEST_EQ_INT(catalog_match_group(it, "fps=30.000001;height=720.5", 26), 4);
	TEST_EQ_INT(catalog_match_group(it, "fps=120;height=2160", 19), 8);
	TEST_EQ_INT(catalog_match_group(it, "fps=121;height=2160", 19), -1);
	TEST_EQ_INT(catalog_match_group(it, "fps=60", 6), -1);
	TEST_EQ_INT(catalog_match_group(it, "", 0), -1);
	/* len bounds the dims: the bytes after it are not read */
	TEST_EQ_INT(catalog_match_group(it, "fps=60;height=1080;x", 18), 4);
	TEST_EQ_INT(catalog_match_group(it, "fps=60;height=10800", 18), 4);

	it = &cat.items[2];
	TEST_EQ_STR(it->currency, "JPY");
	TEST_EQ_INT(it->minor, 0);
	TEST_EQ_INT(it->model, MODEL_PACKAGE);
	TEST_EQ_INT(it->block_size, 100 * DEC_ONE);
	TEST_EQ_INT(it->record_round, 2);
	TEST_EQ_INT(it->record_round_mode, DEC_UP);
	TEST_EQ_INT(it->ngroups, 1);
	check_tiers(&it->groups[0], pkg_tiers, 1);

	it = &cat.items[3];
	TEST_EQ_STR(it->usage_unit, "QPS-day");
	TEST_EQ_STR(it->price_unit, "QPS-day");
	TEST_EQ_INT(it->record_round, 0);
	TEST_EQ_INT(it->record_round_mode, DEC_DOWN);
	TEST_EQ_INT(it->basis_total, 0);
	TEST_EQ_INT(it->bound_lower, 0);
	/* groups in order of their first row; rows interleaved */
	TEST_EQ_INT(it->ngroups, 2);
	if (it->ngroups == 2) {
		TEST_EQ_STR(it->groups[0].filter, "region=cn");
		check_tiers(&it->groups[0], qps_cn_tiers, 4);
		TEST_EQ_STR(it->groups[1].filter, "");
		check_tiers(&it->groups[1], qps_all_tiers, 1);
		TEST_EQ_INT(catalog_match_group(it, "region=cn", 9), 0);
		TEST_EQ_INT(catalog_match_group(it, "region=us", 9), 1);
		TEST_EQ_INT(catalog_match_group(it, "", 0), 1);
	}

	it = &cat.items[4];
	TEST_EQ_STR(it->currency, "USD");
	TEST_EQ_INT(it->model, MODEL_VOLUME);
	TEST_EQ_INT(it->basis_total, 1);
	TEST_EQ_INT(it->bound_lower, 1);
	check_tiers(&it->groups[0], vision_tiers, 4);

	/* item look-ups take a length, not a NUL */
	TEST_TRUE(catalog_item(&cat, "vision", 6) == &cat.items[4]);
	TEST_TRUE(catalog_item(&cat, "vision,xyz", 6) == &cat.items[4]);
	TEST_TRUE(catalog_item(&cat, "api_calls", 9) == &cat.items[0]);
	TEST_TRUE(catalog_item(&cat, "qps", 3) == &cat.items[3]);
	TEST_TRUE(catalog_item(&cat, "visio", 5) == NULL);
	TEST_TRUE(catalog_item(&cat, "visionx", 7) == NULL);
	TEST_TRUE(catalog_item(&cat, "", 0) == NULL);

	/* accounts, sorted by (tenant, currency) */
	TEST_EQ_INT(cat.naccounts, 3);
	if (cat.naccounts != 3)
		goto out;
	a = &cat.accounts[0];
	TEST_EQ_STR(a->tenant, "acme");
	TEST_EQ_STR(a->currency, "CNY");
	TEST_EQ_INT(a->opening_balance, D("-12.5"));
	TEST_EQ_INT(a->postpaid, 0);
	TEST_EQ_INT(a->grace_days, 7);
	TEST_EQ_INT(a->retention_days, 30);
	TEST_EQ_STR(a->name, "Acme, Inc.");
	a = &cat.accounts[1];
	TEST_EQ_STR(a->tenant, "acme");
	TEST_EQ_STR(a->currency, "USD");
	TEST_EQ_INT(a->opening_balance, 0);
	TEST_EQ_INT(a->postpaid, 1);
	TEST_EQ_INT(a->grace_days, 15);
	TEST_EQ_INT(a->retention_days, 15);
	TEST_EQ_STR(a->name, "");
	a = &cat.accounts[2];
	TEST_EQ_STR(a->tenant, "beta:eu");
	TEST_EQ_STR(a->currency, "JPY");
	TEST_EQ_INT(a->opening_balance, 1000 * DEC_ONE);
	TEST_EQ_INT(a->postpaid, 1);
	TEST_EQ_INT(a->grace_days, 0);
	TEST_EQ_INT(a->retention_days, 0);
	TEST_EQ_STR(a->name, "Beta");
	TEST_TRUE(catalog_account(&cat, "acme", 4, "USD") == &cat.accounts[1]);
	TEST_TRUE(catalog_account(&cat, "acme!", 4, "CNY") == &cat.accounts[0]);
	TEST_TRUE(catalog_account(&cat, "acme", 4, "JPY") == NULL);
	TEST_TRUE(catalog_account(&cat, "beta:eu", 7, "JPY") == &cat.accounts[2]);
	TEST_TRUE(catalog_account(&cat, "beta", 4, "JPY") == NULL);
	TEST_EQ_INT(catalog_has_tenant(&cat, "acme", 4), 1);
	TEST_EQ_INT(catalog_has_tenant(&cat, "beta:eu", 7), 1);
	TEST_EQ_INT(catalog_has_tenant(&cat, "beta", 4), 0);
	TEST_EQ_INT(catalog_has_tenant(&cat, "zeta", 4), 0);

	/* packages, sorted by id */
	TEST_EQ_INT(cat.npackages, 2);
	if (cat.npackages != 2)
		goto out;
	p = &cat.packages[0];
	TEST_EQ_STR(p->id, "free");
	TEST_EQ_STR(p->tenant, "beta:eu");
	TEST_EQ_INT(p->all_items, 1);
	TEST_EQ_INT(p->nitems, 0);
	TEST_TRUE(p->items == NULL);
	TEST_EQ_INT(p->unlimited, 1);
	TEST_EQ_INT(p->unit_cost, DEC_ONE);
	TEST_EQ_INT(p->priority, 100);
	TEST_EQ_INT(p->valid_from, T("2025-12-31T16:00:00Z"));
	TEST_EQ_INT(p->valid_to, T("2026-01-31T16:00:00Z"));
	TEST_EQ_INT(p->purchased_at, T("2025-12-31T10:00:00Z"));
	TEST_EQ_INT(p->forgive, 1);
	TEST_EQ_INT(catalog_package_covers(p, "anything"), 1);
	p = &cat.packages[1];
	TEST_EQ_STR(p->id, "pts");
	TEST_EQ_STR(p->tenant, "acme");
	TEST_EQ_INT(p->all_items, 0);
	TEST_EQ_INT(p->nitems, 2);
	if (p->nitems == 2) {
		TEST_EQ_STR(p->items[0], "api_calls");
		TEST_EQ_STR(p->items[1], "vision");
	}
	TEST_EQ_INT(p->unlimited, 0);
	TEST_EQ_INT(p->quota, 5000 * DEC_ONE);
	TEST_EQ_INT(p->unit_cost, D("0.2"));
	TEST_EQ_INT(p->priority, 30);
	TEST_EQ_INT(p->valid_from, T("2026-01-01T00:00:00Z"));
	TEST_EQ_INT(p->valid_to, T("2027-01-01T00:00:00Z"));
	TEST_EQ_INT(p->purchased_at, p->valid_from);
	TEST_EQ_INT(p->forgive, 0);
	TEST_EQ_INT(catalog_package_covers(p, "vision"), 1);
	TEST_EQ_INT(catalog_package_covers(p, "api_calls"), 1);
	TEST_EQ_INT(catalog_package_covers(p, "qps"), 0);

	/* payments, sorted by (tenant, currency, ts, id); p2's repeat dropped */
	TEST_EQ_INT(cat.npayments, 3);
	if (cat.npayments != 3)
		goto out;
	TEST_EQ_STR(cat.payments[0].id, "p1");
	TEST_EQ_STR(cat.payments[0].tenant, "acme");
	TEST_EQ_STR(cat.payments[0].currency, "CNY");
	TEST_EQ_INT(cat.payments[0].amount, 50 * DEC_ONE);
	TEST_EQ_INT(cat.payments[0].ts, T("2026-01-10T00:00:00Z"));
	TEST_EQ_STR(cat.payments[1].id, "p2");
	TEST_EQ_INT(cat.payments[1].amount, D("100.5"));
	TEST_EQ_INT(cat.payments[1].ts, T("2026-01-15T00:00:00Z"));
	TEST_EQ_STR(cat.payments[2].id, "p3");
	TEST_EQ_STR(cat.payments[2].tenant, "beta:eu");
	TEST_EQ_STR(cat.payments[2].currency, "JPY");
	TEST_EQ_INT(cat.payments[2].amount, 1000 * DEC_ONE);
out:
	catalog_release(&cat);
	TEST_TRUE(cat_empty(&cat));
	catalog_release(&cat);  /* twice is fine */
	catalog_release(NULL);
}

/* ---- a scratch config dir --------------------------------------------------- */

static const char ABSENT[] = "(absent)";

static const char B_ITEMS[] =
	"item,currency,usage_unit,model\n"
	"vp,CNY,second,\n"
	"calls,CNY,call,\n"
	"pk,USD,GB,package\n";
static const char B_PRICES[] =
	"item,filter,tier_from,tier_to,unit_price\n"
	"vp,,0,,0.5\n"
	"calls,,0,10,0.15\n"
	"calls,,10,,0.10\n"
	"pk,,0,,3\n";
static const char B_ACCOUNTS[] =
	"tenant_id,currency\n"
	"acme,CNY\n"
	"acme,USD\n";

#define PK_HDR "package_id,tenant_id,items,quota,unit_cost,priority," \
	"valid_from,valid_to,purchased_at,overflow\n"
#define PK_OK "p1,acme,*,100,,,2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,,\n"
/* what sheet_val_currency says of a code outside ISO 4217 List One */
#define CUR_NOTE "not a current ISO 4217 code with a minor unit)"
#define PY_HDR "payment_id,tenant_id,currency,amount,ts\n"
#define PY_OK "t1,acme,CNY,10.50,2026-01-05T00:00:00Z\n"

/* The files of one case: NULL is the base file for items, prices and
 * accounts, a header alone for packages and no file for payments (and
 * settings); ABSENT is no file. */
struct files {
	const char *settings, *items, *prices, *accounts, *packages, *payments;
	size_t items_len;  /* bytes of items when it holds a NUL; else 0 */
};

static void put(const char *name, const char *text, const char *base,
		size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "cfg/%s", name);
	if (!text)
		text = base;
	if (!text || text == ABSENT) {
		unlink(path);
		return;
	}
	f = fopen(path, "wb");
	if (!f || fwrite(text, 1, len ? len : strlen(text), f) !=
			  (len ? len : strlen(text)) || fclose(f)) {
		perror(path);
		exit(2);
	}
}

static void write_cfg(const struct files *fs)
{
	put("settings.conf", fs->settings, NULL, 0);
	put("items.csv", fs->items, B_ITEMS, fs->items_len);
	put("prices.csv", fs->prices, B_PRICES, 0);
	put("accounts.csv", fs->accounts, B_ACCOUNTS, 0);
	put("packages.csv", fs->packages, PK_HDR, 0);
	put("payments.csv", fs->payments, NULL, 0);
}

static int ncases;

/* Loads the case's config and checks that it fails with exactly `want`
 * and leaves the catalog empty. */
static void run_case(int line, const char *want, const struct files *fs)
{
	struct catalog cat;
	struct err e;
	int rc, failed = test_failed;

	ncases++;
	write_cfg(fs);
	err_clear(&e);
	memset(&cat, 0xA5, sizeof(cat));
	rc = catalog_load("cfg", &cat, &e);
	TEST_EQ_INT(rc, ST_ERROR);
	TEST_EQ_INT(e.code, ST_ERROR);
	TEST_EQ_STR(e.msg, want);
	TEST_TRUE(cat_empty(&cat));
	if (rc == 0)
		catalog_release(&cat);
	if (test_failed != failed)
		fprintf(stderr, "  (case at %s:%d)\n", __FILE__, line);
}

#define ERR(want, ...) run_case(__LINE__, (want), &(struct files){ __VA_ARGS__ })

static int load_ok(const struct files *fs, struct catalog *cat)
{
	struct err e;
	int rc;

	write_cfg(fs);
	err_clear(&e);
	rc = catalog_load("cfg", cat, &e);
	TEST_EQ_INT(rc, 0);
	TEST_EQ_STR(e.msg, "");
	return rc;
}

/* ---- valid configs that exercise defaults and syntax ------------------------- */

static void test_defaults(void)
{
	struct catalog cat;

	/* no settings.conf, packages.csv or payments.csv */
	if (load_ok(&(struct files){ 0 }, &cat) == 0) {
		TEST_EQ_INT(cat.set.tz, 0);
		TEST_EQ_STR(cat.set.invoice_prefix, "INV");
		TEST_EQ_INT(cat.set.rounding, DEC_HALF_UP);
		TEST_EQ_INT(cat.set.alert_pct, 20 * DEC_ONE);
		TEST_EQ_INT(cat.nitems, 3);
		TEST_EQ_INT(cat.naccounts, 2);
		TEST_EQ_INT(cat.npackages, 0);
		TEST_EQ_INT(cat.npayments, 0);
		TEST_EQ_STR(cat.items[2].code, "vp");
		TEST_EQ_INT(cat.items[2].ngroups, 1);
		TEST_EQ_INT(cat.items[1].model, MODEL_PACKAGE);
		TEST_EQ_INT(cat.items[1].block_size, DEC_ONE);
		TEST_EQ_INT(cat.items[1].minor, 2);
		catalog_release(&cat);
	}

	/* empty values mean the default; later lines win; comments, CRLF,
	 * blank lines and unknown keys */
	if (load_ok(&(struct files){
		    .settings = "\xEF\xBB\xBF# all defaults\r\n"
				"timezone = -05:30\r\n"
				"timezone =\r\n"
				"invoice_prefix = X # comment\r\n"
				"invoice_prefix = # back to INV\r\n"
				"   \t\r\n"
				"rounding =\r\n"
				"alert_pct = 0\r\n"
				"alert_pct=\r\n"
				"colour = blue\r\n"
				"# timezone = bad\r\n",
		    .packages = PK_HDR,
		    .payments = PY_HDR,
	    }, &cat) == 0) {
		/* v2: an unknown key is a warning; nothing is near "colour" */
		TEST_EQ_INT(cat.nwarnings, 1);
		if (cat.nwarnings == 1)
			TEST_EQ_STR(cat.warnings[0], "unknown key 'colour' in "
				    "cfg/settings.conf:10");
		TEST_EQ_INT(cat.set.tz, 0);
		TEST_EQ_STR(cat.set.invoice_prefix, "INV");
		TEST_EQ_INT(cat.set.rounding, DEC_HALF_UP);
		TEST_EQ_INT(cat.set.alert_pct, 20 * DEC_ONE);
		TEST_EQ_INT(cat.npackages, 0);
		TEST_EQ_INT(cat.npayments, 0);
		catalog_release(&cat);
	}

	if (load_ok(&(struct files){
		    .settings = "timezone=-05:30\nalert_pct=100\n"
				"invoice_prefix=a_B-9\nrounding=half_even",
		    .packages = PK_HDR,
	    }, &cat) == 0) {
		TEST_EQ_INT(cat.set.tz, -(5 * 3600 + 30 * 60));
		TEST_EQ_STR(cat.set.invoice_prefix, "a_B-9");
		TEST_EQ_INT(cat.set.rounding, DEC_HALF_EVEN);
		TEST_EQ_INT(cat.set.alert_pct, 100 * DEC_ONE);
		TEST_EQ_INT(cat.npackages, 0);
		catalog_release(&cat);
	}

	if (load_ok(&(struct files){ .settings = "timezone = Z\n" }, &cat) == 0) {
		TEST_EQ_INT(cat.set.tz, 0);
		catalog_release(&cat);
	}

	/* trailing zeros are not extra decimals; a file without a final
	 * newline; a tier_to written as 10.0 continues into 10 */
	if (load_ok(&(struct files){
		    .prices = "item,tier_from,tier_to,unit_price\n"
			      "vp,0,,0.5\ncalls,0,10.0,0.15\ncalls,10,,0.1\n"
			      "pk,0,,3",
		    .accounts = "tenant_id,currency,opening_balance\n"
				"acme,CNY,-12.500\nacme,USD,3.10000",
		    .payments = PY_HDR "t1,acme,USD,1.000,2026-01-01T00:00:00Z",
	    }, &cat) == 0) {
		TEST_EQ_INT(cat.accounts[0].opening_balance, D("-12.5"));
		TEST_EQ_INT(cat.accounts[1].opening_balance, D("3.1"));
		TEST_EQ_INT(cat.npayments, 1);
		TEST_EQ_INT(cat.items[0].groups[0].versions[0].ntiers, 2);
		catalog_release(&cat);
	}

	/* a repeated payment_id counts once (its first row), wherever it is */
	if (load_ok(&(struct files){
		    .payments = PY_HDR
				"x,acme,CNY,1,2026-01-02T00:00:00Z\n"
				"y,acme,CNY,2,2026-01-01T00:00:00Z\n"
				"x,acme,USD,3,2026-01-01T00:00:00Z\n",
	    }, &cat) == 0) {
		TEST_EQ_INT(cat.npayments, 2);
		TEST_EQ_STR(cat.payments[0].id, "y");
		TEST_EQ_STR(cat.payments[1].id, "x");
		TEST_EQ_STR(cat.payments[1].currency, "CNY");
		TEST_EQ_INT(cat.payments[1].amount, DEC_ONE);
		catalog_release(&cat);
	}

	/* cells are not trimmed: a filter keeps its spaces as its name */
	if (load_ok(&(struct files){
		    .prices = "item,filter,tier_from,unit_price\n"
			      "vp, a=1 ,0,1\nvp,,0,2\ncalls,,0,1\npk,,0,1\n",
	    }, &cat) == 0) {
		const struct item *it = catalog_item(&cat, "vp", 2);

		TEST_EQ_STR(it->groups[0].filter, " a=1 ");
		TEST_EQ_STR(it->groups[0].preds[0].key, " a");
		TEST_EQ_STR(it->groups[0].preds[0].value, "1 ");
		TEST_EQ_INT(catalog_match_group(it, "a=1", 3), 1);
		TEST_EQ_INT(catalog_match_group(it, " a=1 ", 5), 0);
		catalog_release(&cat);
	}
}

/* ---- every check, with its exact message --------------------------------- */

static void test_settings_errors(void)
{
	char line[128], want[256];

	ERR("missing '=' in 'timezone +08:00' at cfg/settings.conf:2",
	    .settings = "# tz\ntimezone +08:00 # eight\n");
	ERR("missing key in '= 5' at cfg/settings.conf:1",
	    .settings = "= 5\n");
	ERR("bad timezone '+8' (want +hh:mm, -hh:mm or Z) at "
	    "cfg/settings.conf:1 (key timezone)",
	    .settings = "timezone = +8\n");
	ERR("bad timezone '+08:00:00' (want +hh:mm, -hh:mm or Z) at "
	    "cfg/settings.conf:1 (key timezone)",
	    .settings = "timezone = +08:00:00\n");
	/* a zone name: settle says why it takes fixed offsets (issue 16) */
	ERR("bad timezone 'UTC' (want a fixed offset such as +01:00, not a "
	    "zone name: a month's bounds are fixed instants that daylight "
	    "saving must not move) at cfg/settings.conf:1 (key timezone)",
	    .settings = "timezone = UTC\n");
	ERR("bad invoice_prefix 'INV/1' at cfg/settings.conf:3 "
	    "(key invoice_prefix)",
	    .settings = "\n\ninvoice_prefix = INV/1\n");
	ERR("bad invoice_prefix 'A B' at cfg/settings.conf:1 (key invoice_prefix)",
	    .settings = "invoice_prefix = A B\n");
	snprintf(line, sizeof(line), "invoice_prefix = %065d\n", 0);
	snprintf(want, sizeof(want), "bad invoice_prefix '%065d' at "
		 "cfg/settings.conf:1 (key invoice_prefix)", 0);
	ERR(want, .settings = line);
	ERR("bad rounding 'up' (want half_up or half_even) at "
	    "cfg/settings.conf:1 (key rounding)",
	    .settings = "rounding = up\n");
	ERR("bad rounding 'HALF_UP' (want half_up or half_even) at "
	    "cfg/settings.conf:1 (key rounding)",
	    .settings = "rounding = HALF_UP\n");
	ERR("bad alert_pct '100.5' (want 0 to 100) at cfg/settings.conf:1 "
	    "(key alert_pct)",
	    .settings = "alert_pct = 100.5\n");
	ERR("bad alert_pct '-5' at cfg/settings.conf:1 (key alert_pct)",
	    .settings = "alert_pct = -5\n");
	ERR("bad alert_pct '20%' at cfg/settings.conf:2 (key alert_pct)",
	    .settings = "rounding = half_even\nalert_pct = 20%\n");
}

#define MISSING_NOTE "(every config file but payments.csv is required; " \
	"a header alone means none)"

static void test_file_errors(void)
{
	/* v2: every file but payments.csv (and settings.conf) is required */
	ERR("missing config file 'cfg/items.csv' " MISSING_NOTE,
	    .items = ABSENT);
	ERR("missing config file 'cfg/prices.csv' " MISSING_NOTE,
	    .prices = ABSENT);
	ERR("missing config file 'cfg/accounts.csv' " MISSING_NOTE,
	    .accounts = ABSENT);
	ERR("missing config file 'cfg/packages.csv' " MISSING_NOTE,
	    .packages = ABSENT);
	/* a required file with no header is not "none" */
	ERR("missing column 'package_id' at cfg/packages.csv:1",
	    .packages = "");
	ERR("missing column 'item' at cfg/items.csv:1", .items = "");
	ERR("missing column 'tenant_id' at cfg/accounts.csv:1",
	    .accounts = "\n\n");
	ERR("bad field count 2 (header has 3) at cfg/items.csv:2",
	    .items = "item,currency,usage_unit\nvp,CNY\n");
	ERR("bad field count 4 (header has 3) at cfg/items.csv:3",
	    .items = "item,currency,usage_unit\nvp,CNY,s\ncalls,CNY,call,\n");
	ERR("malformed CSV quoting at cfg/items.csv:2",
	    .items = "item,currency,usage_unit\nvp,C\"NY,second\n");
	ERR("malformed CSV quoting at cfg/items.csv:2",
	    .items = "item,currency,usage_unit\nvp,\"CNY\" ,second\n");
	ERR("unterminated quoted field at cfg/items.csv:3",
	    .items = "item,currency,usage_unit\nvp,CNY,second\n"
		     "\"calls,CNY,call\n\n");
	ERR("NUL byte in value at cfg/items.csv:2 (column usage_unit)",
	    .items = "item,currency,usage_unit\nvp,CNY,sec\0ond\n",
	    .items_len = sizeof("item,currency,usage_unit\nvp,CNY,sec\0ond\n") - 1);
	/* text lines: BOM ignored, a quoted line break and a blank line
	 * move the later rows down */
	ERR("bad currency 'cny' at cfg/items.csv:5 (column currency; "
	    CUR_NOTE,
	    .items = "\xEF\xBB\xBFitem,currency,usage_unit,note\n"
		     "vp,CNY,second,\"a\nb\"\n\ncalls,cny,call,\n");
	/* CRLF; a line of blanks is blank */
	ERR("missing value at cfg/items.csv:4 (column usage_unit)",
	    .items = "item,currency,usage_unit\r\nvp,CNY,second\r\n \t\r\n"
		     "calls,CNY,\r\n");
	/* the header need not be on line 1 */
	ERR("missing column 'usage_unit' at cfg/items.csv:3",
	    .items = "\n\nitem,currency\nvp,CNY\n");
	/* the first error in file order wins */
	ERR("bad currency 'x' at cfg/items.csv:2 (column currency; "
	    CUR_NOTE,
	    .items = "item,currency,usage_unit\nvp,x,second\nvp,CNY,\n");
}

static void test_items_errors(void)
{
	char items[256], want[256];

	ERR("missing column 'item' at cfg/items.csv:1",
	    .items = "code,currency,usage_unit\nvp,CNY,second\n");
	ERR("missing column 'currency' at cfg/items.csv:1",
	    .items = "item,usage_unit\nvp,second\n");
	ERR("missing column 'usage_unit' at cfg/items.csv:1",
	    .items = "item,currency,unit\nvp,CNY,second\n");
	ERR("duplicate column 'item' at cfg/items.csv:1",
	    .items = "item,currency,usage_unit,item\nvp,CNY,second,vp\n");
	ERR("missing value at cfg/items.csv:3 (column item)",
	    .items = "item,currency,usage_unit\nvp,CNY,second\n,CNY,call\n");
	ERR("bad item 'v p' at cfg/items.csv:2 (column item)",
	    .items = "item,currency,usage_unit\nv p,CNY,second\n");
	ERR("bad item ' vp' at cfg/items.csv:2 (column item)",
	    .items = "item,currency,usage_unit\n vp,CNY,second\n");
	ERR("bad item 'a:b' at cfg/items.csv:2 (column item)",
	    .items = "item,currency,usage_unit\na:b,CNY,second\n");
	snprintf(items, sizeof(items), "item,currency,usage_unit\n%065d,CNY,s\n",
		 0);
	snprintf(want, sizeof(want), "bad item '%065d' at cfg/items.csv:2 "
		 "(column item)", 0);
	ERR(want, .items = items);
	ERR("duplicate item 'vp' at cfg/items.csv:4 (column item)",
	    .items = "item,currency,usage_unit\nvp,CNY,second\n"
		     "calls,CNY,call\nvp,USD,second\n");
	ERR("missing value at cfg/items.csv:2 (column currency)",
	    .items = "item,currency,usage_unit\nvp,,second\n");
	ERR("bad currency 'cny' at cfg/items.csv:2 (column currency; "
	    CUR_NOTE,
	    .items = "item,currency,usage_unit\nvp,cny,second\n");
	ERR("bad currency 'CNYY' at cfg/items.csv:2 (column currency; "
	    CUR_NOTE,
	    .items = "item,currency,usage_unit\nvp,CNYY,second\n");
	ERR("bad model 'tiered' (want graduated, volume or package) at "
	    "cfg/items.csv:2 (column model)",
	    .items = "item,currency,usage_unit,model\nvp,CNY,second,tiered\n");
	ERR("bad block_size '0' (want above 0) at cfg/items.csv:2 "
	    "(column block_size)",
	    .items = "item,currency,usage_unit,block_size\nvp,CNY,s,0\n");
	ERR("bad block_size '1.5.0' at cfg/items.csv:2 (column block_size)",
	    .items = "item,currency,usage_unit,block_size\nvp,CNY,s,1.5.0\n");
	ERR("missing value at cfg/items.csv:2 (column usage_unit)",
	    .items = "item,currency,usage_unit\nvp,CNY,\n");
	ERR("bad unit_ratio '0.000' (want above 0) at cfg/items.csv:2 "
	    "(column unit_ratio)",
	    .items = "item,currency,usage_unit,unit_ratio\nvp,CNY,s,0.000\n");
	ERR("bad unit_ratio '-60' at cfg/items.csv:2 (column unit_ratio)",
	    .items = "item,currency,usage_unit,unit_ratio\nvp,CNY,s,-60\n");
	ERR("bad record_round '7' (want 0 to 6) at cfg/items.csv:2 "
	    "(column record_round)",
	    .items = "item,currency,usage_unit,record_round\nvp,CNY,s,7\n");
	ERR("bad record_round '1.5' at cfg/items.csv:2 (column record_round)",
	    .items = "item,currency,usage_unit,record_round\nvp,CNY,s,1.5\n");
	ERR("bad record_round_mode 'half_even' (want half_up, up or down) at "
	    "cfg/items.csv:2 (column record_round_mode)",
	    .items = "item,currency,usage_unit,record_round_mode\n"
		     "vp,CNY,s,half_even\n");
	ERR("bad tier_basis 'net' (want billable or total) at cfg/items.csv:2 "
	    "(column tier_basis)",
	    .items = "item,currency,usage_unit,tier_basis\nvp,CNY,s,net\n");
	ERR("bad tier_bound 'both' (want upper or lower) at cfg/items.csv:2 "
	    "(column tier_bound)",
	    .items = "item,currency,usage_unit,tier_bound\nvp,CNY,s,both\n");
	/* quoted values: control bytes shown as '?', long text cut */
	ERR("bad item 'a?b' at cfg/items.csv:2 (column item)",
	    .items = "item,currency,usage_unit\na\tb,CNY,second\n");
	snprintf(items, sizeof(items), "item,currency,usage_unit\n%0100d,CNY,s\n",
		 7);
	snprintf(want, sizeof(want), "bad item '%072d...' at cfg/items.csv:2 "
		 "(column item)", 0);
	ERR(want, .items = items);
	/* every item needs a price group: named at its items.csv row */
	ERR("item 'orphan' has no price in prices.csv at cfg/items.csv:3 "
	    "(column item)",
	    .items = "item,currency,usage_unit\nvp,CNY,s\norphan,CNY,s\n"
		     "calls,CNY,call\npk,USD,GB\nzz,CNY,s\n");
}

static void test_prices_errors(void)
{
	ERR("missing column 'tier_from' at cfg/prices.csv:1",
	    .prices = "item,unit_price\nvp,1\n");
	ERR("missing column 'unit_price' at cfg/prices.csv:1",
	    .prices = "item,tier_from,price\nvp,0,1\n");
	ERR("missing value at cfg/prices.csv:2 (column item)",
	    .prices = "item,tier_from,unit_price\n,0,1\n");
	ERR("unknown item 'foo' at cfg/prices.csv:3 (column item)",
	    .prices = "item,tier_from,unit_price\nvp,0,1\nfoo,0,1\n");
	ERR("missing value at cfg/prices.csv:2 (column tier_from)",
	    .prices = "item,tier_from,unit_price\nvp,,1\n");
	ERR("bad tier_from 'zero' at cfg/prices.csv:2 (column tier_from)",
	    .prices = "item,tier_from,unit_price\nvp,zero,1\n");
	ERR("bad tier_to '1e3' at cfg/prices.csv:3 (column tier_to)",
	    .prices = "item,tier_from,tier_to,unit_price\nvp,0,,1\n"
		      "calls,0,1e3,1\n");
	ERR("missing value at cfg/prices.csv:2 (column unit_price)",
	    .prices = "item,tier_from,unit_price\nvp,0,\n");
	ERR("bad unit_price '1.2.3' at cfg/prices.csv:4 (column unit_price)",
	    .prices = "item,tier_from,unit_price\nvp,0,1\npk,0,2\n"
		      "calls,0,1.2.3\n");
	ERR("bad unit_price '0.0000001' at cfg/prices.csv:2 (column unit_price)",
	    .prices = "item,tier_from,unit_price\nvp,0,0.0000001\n");
	ERR("bad flat_fee '-1' at cfg/prices.csv:2 (column flat_fee)",
	    .prices = "item,tier_from,unit_price,flat_fee\nvp,0,1,-1\n");
	ERR("first tier_from '5' is not 0 at cfg/prices.csv:3 (column tier_from)",
	    .prices = "item,tier_from,tier_to,unit_price\nvp,0,,1\n"
		      "calls,5,,1\n");
	ERR("tier_from '5' does not continue the previous tier_to '10' at "
	    "cfg/prices.csv:5 (column tier_from)",
	    .prices = "item,filter,tier_from,tier_to,unit_price\n"
		      "vp,,0,,0.5\ncalls,,0,10,0.15\npk,,0,,3\n"
		      "calls,,5,,0.10\n");
	/* the same item with another filter is another group */
	ERR("first tier_from '10' is not 0 at cfg/prices.csv:4 "
	    "(column tier_from)",
	    .prices = "item,filter,tier_from,tier_to,unit_price\n"
		      "vp,,0,,0.5\ncalls,,0,10,0.15\n"
		      "calls,a=1,10,,0.10\n");
	ERR("tier_from '10' follows an open tier at cfg/prices.csv:4 "
	    "(column tier_from)",
	    .prices = "item,tier_from,tier_to,unit_price\nvp,0,,1\n"
		      "calls,0,,1\ncalls,10,,1\npk,0,,1\n");
	ERR("tier_to '10' is not above tier_from '10' at cfg/prices.csv:4 "
	    "(column tier_to)",
	    .prices = "item,tier_from,tier_to,unit_price\nvp,0,,1\n"
		      "calls,0,10,1\ncalls,10,10,1\n");
	ERR("tier_to '0' is not above tier_from '0' at cfg/prices.csv:2 "
	    "(column tier_to)",
	    .prices = "item,tier_from,tier_to,unit_price\nvp,0,0,1\n");
	ERR("last tier of item 'calls' has tier_to '100' (want empty) at "
	    "cfg/prices.csv:4 (column tier_to)",
	    .prices = "item,tier_from,tier_to,unit_price\nvp,0,,1\n"
		      "calls,0,10,1\ncalls,10,100,1\npk,0,,1\n");
	/* of two groups without an open end, the one whose last row comes
	 * first is named */
	ERR("last tier of item 'vp' has tier_to '5.5' (want empty) at "
	    "cfg/prices.csv:3 (column tier_to)",
	    .prices = "item,tier_from,tier_to,unit_price\n"
		      "calls,0,10,1\nvp,0,5.50,1\ncalls,10,100,1\npk,0,,1\n");
	ERR("bad tier_to '10' (want empty for package model) at "
	    "cfg/prices.csv:3 (column tier_to)",
	    .prices = "item,tier_from,tier_to,unit_price\nvp,0,,1\n"
		      "pk,0,10,1\n");
	ERR("second tier for package model item 'pk' at cfg/prices.csv:4 "
	    "(column tier_from)",
	    .prices = "item,tier_from,tier_to,unit_price\nvp,0,,1\n"
		      "pk,0,,1\npk,0,,2\n");
	ERR("first tier_from '1' is not 0 at cfg/prices.csv:3 "
	    "(column tier_from)",
	    .prices = "item,tier_from,tier_to,unit_price\nvp,0,,1\n"
		      "pk,1,,1\n");
	ERR("bad filter 'a=1;;b=2' (empty predicate) at cfg/prices.csv:2 "
	    "(column filter)",
	    .prices = "item,filter,tier_from,unit_price\nvp,a=1;;b=2,0,1\n");
	ERR("bad filter 'a=1;' (empty predicate) at cfg/prices.csv:2 "
	    "(column filter)",
	    .prices = "item,filter,tier_from,unit_price\nvp,a=1;,0,1\n");
	ERR("bad filter ';' (empty predicate) at cfg/prices.csv:2 "
	    "(column filter)",
	    .prices = "item,filter,tier_from,unit_price\nvp,;,0,1\n");
	ERR("bad filter '=5' (empty key) at cfg/prices.csv:2 (column filter)",
	    .prices = "item,filter,tier_from,unit_price\nvp,=5,0,1\n");
	ERR("bad filter 'region' (predicate without '=') at cfg/prices.csv:2 "
	    "(column filter)",
	    .prices = "item,filter,tier_from,unit_price\nvp,region,0,1\n");
	ERR("bad filter 'fps=(a,5]' (bad interval bound) at cfg/prices.csv:2 "
	    "(column filter)",
	    .prices = "item,filter,tier_from,unit_price\nvp,\"fps=(a,5]\",0,1\n");
	ERR("bad filter 'fps=(30, 60]' (bad interval bound) at "
	    "cfg/prices.csv:2 (column filter)",
	    .prices = "item,filter,tier_from,unit_price\n"
		      "vp,\"fps=(30, 60]\",0,1\n");
	ERR("bad filter 'fps=(60,30]' (empty interval) at cfg/prices.csv:2 "
	    "(column filter)",
	    .prices = "item,filter,tier_from,unit_price\n"
		      "vp,\"fps=(60,30]\",0,1\n");
}

static void test_accounts_errors(void)
{
	ERR("missing column 'tenant_id' at cfg/accounts.csv:1",
	    .accounts = "tenant,currency\nacme,CNY\n");
	ERR("missing column 'currency' at cfg/accounts.csv:1",
	    .accounts = "tenant_id\nacme\n");
	ERR("missing value at cfg/accounts.csv:3 (column tenant_id)",
	    .accounts = "tenant_id,currency\nacme,CNY\n,CNY\n");
	ERR("bad tenant_id 'ac me' at cfg/accounts.csv:2 (column tenant_id)",
	    .accounts = "tenant_id,currency\nac me,CNY\n");
	ERR("bad tenant_id 'a/b' at cfg/accounts.csv:2 (column tenant_id)",
	    .accounts = "tenant_id,currency\na/b,CNY\n");
	ERR("missing value at cfg/accounts.csv:2 (column currency)",
	    .accounts = "tenant_id,currency\nacme,\n");
	ERR("bad currency 'usd' at cfg/accounts.csv:2 (column currency; "
	    CUR_NOTE,
	    .accounts = "tenant_id,currency\nacme,usd\n");
	ERR("duplicate account for tenant 'acme' in 'CNY' at "
	    "cfg/accounts.csv:4 (column currency)",
	    .accounts = "tenant_id,currency\nacme,CNY\nacme,USD\nacme,CNY\n");
	ERR("bad opening_balance '1.2.3' at cfg/accounts.csv:2 "
	    "(column opening_balance)",
	    .accounts = "tenant_id,currency,opening_balance\nacme,CNY,1.2.3\n");
	ERR("bad opening_balance '+5' at cfg/accounts.csv:2 "
	    "(column opening_balance)",
	    .accounts = "tenant_id,currency,opening_balance\nacme,CNY,+5\n");
	ERR("bad opening_balance '12.345' (want at most 2 decimals for CNY) at "
	    "cfg/accounts.csv:2 (column opening_balance)",
	    .accounts = "tenant_id,currency,opening_balance\nacme,CNY,12.345\n");
	ERR("bad opening_balance '-1.5' (want at most 0 decimals for JPY) at "
	    "cfg/accounts.csv:3 (column opening_balance)",
	    .accounts = "tenant_id,currency,opening_balance\nacme,CNY,1\n"
			"acme,JPY,-1.5\n");
	ERR("bad opening_balance '1.2345' (want at most 3 decimals for KWD) at "
	    "cfg/accounts.csv:2 (column opening_balance)",
	    .accounts = "tenant_id,currency,opening_balance\nacme,KWD,1.2345\n");
	ERR("bad postpaid 'maybe' (want yes or no) at cfg/accounts.csv:2 "
	    "(column postpaid)",
	    .accounts = "tenant_id,currency,postpaid\nacme,CNY,maybe\n");
	ERR("bad postpaid 'Yes' (want yes or no) at cfg/accounts.csv:2 "
	    "(column postpaid)",
	    .accounts = "tenant_id,currency,postpaid\nacme,CNY,Yes\n");
	ERR("bad grace_days '-1' at cfg/accounts.csv:2 (column grace_days)",
	    .accounts = "tenant_id,currency,grace_days\nacme,CNY,-1\n");
	ERR("bad retention_days '1.5' at cfg/accounts.csv:2 "
	    "(column retention_days)",
	    .accounts = "tenant_id,currency,retention_days\nacme,CNY,1.5\n");
}

/* accounts.csv's duplicate check (catalog.c, account_dup) needs no set
 * while the rows come in ascending (tenant, currency) order, byte order
 * as strcmp: a row after the last cannot repeat any row before it. The
 * first row out of order puts every earlier key into the set. Each case
 * names the row (text line) whose key repeats an earlier one: the first
 * such row, whichever path finds it. */
static void test_accounts_order(void)
{
	struct catalog cat;
	size_t i;
	int k;
	/* ascending throughout; the repeat is of the row just before it */
	ERR("duplicate account for tenant 'b' in 'USD' at cfg/accounts.csv:4 "
	    "(column currency)",
	    .accounts = "tenant_id,currency\na,USD\nb,USD\nb,USD\n");
	/* 'b' < 'a' breaks the order at line 3; line 4 repeats line 2, which
	 * the set only holds if the rows before the break were added */
	ERR("duplicate account for tenant 'b' in 'USD' at cfg/accounts.csv:4 "
	    "(column currency)",
	    .accounts = "tenant_id,currency\nb,USD\na,USD\nb,USD\n");
	/* the break at line 5 (b after c); line 6 repeats line 2, the first
	 * row of the ascending part */
	ERR("duplicate account for tenant 'a' in 'EUR' at cfg/accounts.csv:6 "
	    "(column currency)",
	    .accounts = "tenant_id,currency\na,EUR\na,USD\nc,EUR\nb,EUR\n"
			"a,EUR\n");
	/* same tenant, currencies descending: EUR < USD, so line 3 breaks
	 * the order but repeats nothing; line 4 repeats line 3 */
	ERR("duplicate account for tenant 'a' in 'EUR' at cfg/accounts.csv:4 "
	    "(column currency)",
	    .accounts = "tenant_id,currency\na,USD\na,EUR\na,EUR\n");
	/* tenant "a-" < "a0" < "aa" in byte order ('-' 0x2d, '0' 0x30, 'a'
	 * 0x61) and "a" < "a-" (a prefix first): the first text comes
	 * sorted, loads and stays in file order; the second holds the same
	 * accounts out of order and comes out sorted the same way */
	for (k = 0; k < 2; k++) {
		static const char *const text[2] = {
			"tenant_id,currency\na,CNY\na,USD\na-,USD\na0,EUR\n"
			"aa,CNY\n",
			"tenant_id,currency\naa,CNY\na0,EUR\na,USD\na-,USD\n"
			"a,CNY\n",
		};
		static const char *const want[][2] = {
			{ "a", "CNY" }, { "a", "USD" }, { "a-", "USD" },
			{ "a0", "EUR" }, { "aa", "CNY" },
		};

		if (load_ok(&(struct files){ .accounts = text[k] }, &cat))
			continue;
		TEST_EQ_INT(cat.naccounts, 5);
		for (i = 0; i < cat.naccounts && i < 5; i++) {
			TEST_EQ_STR(cat.accounts[i].tenant, want[i][0]);
			TEST_EQ_STR(cat.accounts[i].currency, want[i][1]);
		}
		catalog_release(&cat);
	}
}

static void test_packages_errors(void)
{
	ERR("missing column 'valid_to' at cfg/packages.csv:1",
	    .packages = "package_id,tenant_id,items,valid_from\n"
			"p1,acme,*,2026-01-01T00:00:00Z\n");
	ERR("missing column 'items' at cfg/packages.csv:1",
	    .packages = "package_id,tenant_id,valid_from,valid_to\n");
	ERR("missing value at cfg/packages.csv:2 (column package_id)",
	    .packages = PK_HDR ",acme,*,,,,2026-01-01T00:00:00Z,"
			"2026-02-01T00:00:00Z,,\n");
	ERR("duplicate package_id 'p1' at cfg/packages.csv:3 (column package_id)",
	    .packages = PK_HDR PK_OK PK_OK);
	ERR("missing value at cfg/packages.csv:2 (column tenant_id)",
	    .packages = PK_HDR "p1,,*,,,,2026-01-01T00:00:00Z,"
			"2026-02-01T00:00:00Z,,\n");
	ERR("unknown tenant 'nobody' at cfg/packages.csv:2 (column tenant_id)",
	    .packages = PK_HDR "p1,nobody,*,,,,2026-01-01T00:00:00Z,"
			"2026-02-01T00:00:00Z,,\n");
	ERR("missing value at cfg/packages.csv:2 (column items)",
	    .packages = PK_HDR "p1,acme,,,,,2026-01-01T00:00:00Z,"
			"2026-02-01T00:00:00Z,,\n");
	ERR("bad items 'vp;;calls' (want no empty entry) at cfg/packages.csv:2 "
	    "(column items)",
	    .packages = PK_HDR "p1,acme,vp;;calls,,,,2026-01-01T00:00:00Z,"
			"2026-02-01T00:00:00Z,,\n");
	ERR("bad items 'vp;' (want no empty entry) at cfg/packages.csv:2 "
	    "(column items)",
	    .packages = PK_HDR "p1,acme,vp;,,,,2026-01-01T00:00:00Z,"
			"2026-02-01T00:00:00Z,,\n");
	ERR("unknown item 'foo' at cfg/packages.csv:2 (column items)",
	    .packages = PK_HDR "p1,acme,vp;foo,,,,2026-01-01T00:00:00Z,"
			"2026-02-01T00:00:00Z,,\n");
	ERR("unknown item '*' at cfg/packages.csv:2 (column items)",
	    .packages = PK_HDR "p1,acme,*;vp,,,,2026-01-01T00:00:00Z,"
			"2026-02-01T00:00:00Z,,\n");
	ERR("bad quota 'lots' at cfg/packages.csv:2 (column quota)",
	    .packages = PK_HDR "p1,acme,*,lots,,,2026-01-01T00:00:00Z,"
			"2026-02-01T00:00:00Z,,\n");
	ERR("bad unit_cost '0' (want above 0) at cfg/packages.csv:2 "
	    "(column unit_cost)",
	    .packages = PK_HDR "p1,acme,*,,0,,2026-01-01T00:00:00Z,"
			"2026-02-01T00:00:00Z,,\n");
	ERR("bad unit_cost '-0.2' at cfg/packages.csv:2 (column unit_cost)",
	    .packages = PK_HDR "p1,acme,*,,-0.2,,2026-01-01T00:00:00Z,"
			"2026-02-01T00:00:00Z,,\n");
	ERR("bad priority '-1' at cfg/packages.csv:2 (column priority)",
	    .packages = PK_HDR "p1,acme,*,,,-1,2026-01-01T00:00:00Z,"
			"2026-02-01T00:00:00Z,,\n");
	ERR("bad priority '1.5' at cfg/packages.csv:2 (column priority)",
	    .packages = PK_HDR "p1,acme,*,,,1.5,2026-01-01T00:00:00Z,"
			"2026-02-01T00:00:00Z,,\n");
	ERR("missing value at cfg/packages.csv:2 (column valid_from)",
	    .packages = PK_HDR "p1,acme,*,,,,,2026-02-01T00:00:00Z,,\n");
	ERR("bad valid_from '2026-01-01' at cfg/packages.csv:2 "
	    "(column valid_from)",
	    .packages = PK_HDR "p1,acme,*,,,,2026-01-01,"
			"2026-02-01T00:00:00Z,,\n");
	ERR("bad valid_to '2026-02-30T00:00:00Z' at cfg/packages.csv:2 "
	    "(column valid_to)",
	    .packages = PK_HDR "p1,acme,*,,,,2026-01-01T00:00:00Z,"
			"2026-02-30T00:00:00Z,,\n");
	ERR("bad valid_to '2026-01-01T08:00:00+08:00' (want after valid_from "
	    "'2026-01-01T00:00:00Z') at cfg/packages.csv:2 (column valid_to)",
	    .packages = PK_HDR "p1,acme,*,,,,2026-01-01T00:00:00Z,"
			"2026-01-01T08:00:00+08:00,,\n");
	ERR("bad purchased_at 'yesterday' at cfg/packages.csv:2 "
	    "(column purchased_at)",
	    .packages = PK_HDR "p1,acme,*,,,,2026-01-01T00:00:00Z,"
			"2026-02-01T00:00:00Z,yesterday,\n");
	ERR("bad overflow 'drop' (want split or forgive) at cfg/packages.csv:2 "
	    "(column overflow)",
	    .packages = PK_HDR "p1,acme,*,,,,2026-01-01T00:00:00Z,"
			"2026-02-01T00:00:00Z,,drop\n");
}

static void test_payments_errors(void)
{
	ERR("missing column 'ts' at cfg/payments.csv:1",
	    .payments = "payment_id,tenant_id,currency,amount\n");
	ERR("missing column 'payment_id' at cfg/payments.csv:1",
	    .payments = "id,tenant_id,currency,amount,ts\n");
	ERR("missing value at cfg/payments.csv:3 (column payment_id)",
	    .payments = PY_HDR PY_OK ",acme,CNY,1,2026-01-05T00:00:00Z\n");
	ERR("missing value at cfg/payments.csv:2 (column tenant_id)",
	    .payments = PY_HDR "t1,,CNY,1,2026-01-05T00:00:00Z\n");
	ERR("unknown tenant 'nobody' at cfg/payments.csv:2 (column tenant_id)",
	    .payments = PY_HDR "t1,nobody,CNY,1,2026-01-05T00:00:00Z\n");
	ERR("bad currency 'cny' at cfg/payments.csv:2 (column currency; "
	    CUR_NOTE,
	    .payments = PY_HDR "t1,acme,cny,1,2026-01-05T00:00:00Z\n");
	ERR("no account for tenant 'acme' in 'JPY' at cfg/payments.csv:2 "
	    "(column currency)",
	    .payments = PY_HDR "t1,acme,JPY,1,2026-01-05T00:00:00Z\n");
	ERR("missing value at cfg/payments.csv:2 (column amount)",
	    .payments = PY_HDR "t1,acme,CNY,,2026-01-05T00:00:00Z\n");
	ERR("bad amount '-5' at cfg/payments.csv:2 (column amount)",
	    .payments = PY_HDR "t1,acme,CNY,-5,2026-01-05T00:00:00Z\n");
	ERR("bad amount '10.005' (want at most 2 decimals for CNY) at "
	    "cfg/payments.csv:2 (column amount)",
	    .payments = PY_HDR "t1,acme,CNY,10.005,2026-01-05T00:00:00Z\n");
	ERR("missing value at cfg/payments.csv:2 (column ts)",
	    .payments = PY_HDR "t1,acme,CNY,1,\n");
	ERR("bad ts '2026-01-05 00:00:00' at cfg/payments.csv:2 (column ts)",
	    .payments = PY_HDR "t1,acme,CNY,1,2026-01-05 00:00:00\n");
	/* a repeated payment_id is dropped, but its row is still checked */
	ERR("bad amount 'x' at cfg/payments.csv:3 (column amount)",
	    .payments = PY_HDR PY_OK "t1,acme,CNY,x,2026-01-05T00:00:00Z\n");
}

/* ---- filters ---------------------------------------------------------------- */

/* The index of the group that dims matches, among groups with the given
 * filter texts; -2 if a filter does not parse. */
static int match(const char *const *filters, size_t n, const char *dims)
{
	struct item it;
	const char *why;
	size_t i;
	int r = 0;

	memset(&it, 0, sizeof(it));
	it.groups = xcalloc(n, sizeof(*it.groups));
	it.ngroups = n;
	for (i = 0; i < n; i++)
		if (filter_parse(filters[i], &it.groups[i].preds,
					 &it.groups[i].npreds, &why) < 0)
			r = -2;
	if (r == 0)
		r = catalog_match_group(&it, dims, strlen(dims));
	for (i = 0; i < n; i++)
		filter_free(it.groups[i].preds, it.groups[i].npreds);
	free(it.groups);
	return r;
}

#define M1(filter, dims) match((const char *const[]){ filter }, 1, (dims))

static void test_filter_parse(void)
{
	struct pred *p;
	size_t n;
	const char *why = NULL;

	TEST_EQ_INT(filter_parse("", &p, &n, &why), 0);
	TEST_EQ_INT(n, 0);
	TEST_TRUE(p == NULL);

	TEST_EQ_INT(filter_parse("fps=(30,60];region=cn-north", &p, &n,
					 &why), 0);
	TEST_EQ_INT(n, 2);
	if (n == 2) {
		TEST_EQ_STR(p[0].key, "fps");
		TEST_EQ_INT(p[0].interval, 1);
		TEST_TRUE(p[0].value == NULL);
		TEST_EQ_INT(p[0].has_lo, 1);
		TEST_EQ_INT(p[0].lo_incl, 0);
		TEST_EQ_INT(p[0].lo, 30 * DEC_ONE);
		TEST_EQ_INT(p[0].has_hi, 1);
		TEST_EQ_INT(p[0].hi_incl, 1);
		TEST_EQ_INT(p[0].hi, 60 * DEC_ONE);
		TEST_EQ_STR(p[1].key, "region");
		TEST_EQ_INT(p[1].interval, 0);
		TEST_EQ_STR(p[1].value, "cn-north");
	}
	filter_free(p, n);

	TEST_EQ_INT(filter_parse("fps=(60,]", &p, &n, &why), 0);
	TEST_EQ_INT(n, 1);
	TEST_EQ_INT(p[0].interval, 1);
	TEST_EQ_INT(p[0].has_lo, 1);
	TEST_EQ_INT(p[0].has_hi, 0);
	filter_free(p, n);

	TEST_EQ_INT(filter_parse("x=[,2.5)", &p, &n, &why), 0);
	TEST_EQ_INT(p[0].has_lo, 0);
	TEST_EQ_INT(p[0].has_hi, 1);
	TEST_EQ_INT(p[0].hi_incl, 0);
	TEST_EQ_INT(p[0].hi, D("2.5"));
	filter_free(p, n);

	/* not an interval: unbracketed text; an empty value */
	TEST_EQ_INT(filter_parse("c=1,2;d=;f=1)", &p, &n, &why), 0);
	TEST_EQ_INT(n, 3);
	if (n == 3) {
		TEST_EQ_INT(p[0].interval, 0);
		TEST_EQ_STR(p[0].value, "1,2");
		TEST_EQ_STR(p[1].value, "");
		TEST_EQ_STR(p[2].value, "1)");
	}
	filter_free(p, n);
	/* v2: a value that opens with a bracket must be a whole interval: no
	 * comma, two commas, no closing bracket, too short are errors */
	{
		static const char *const bad[] = {
			"a=(1)", "b=(1,2,3)", "e=[1,2", "res=(1080,", "x=(",
			"x=[]", "x=(,", "x=[a]", "k=v;x=(1,2)z",
		};
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			why = NULL;
			p = (struct pred *)1;
			TEST_EQ_INT(filter_parse(bad[i], &p, &n, &why), -2);
			TEST_TRUE(p == NULL && n == 0);
			TEST_EQ_STR(why ? why : "", FILTER_MALFORMED);
		}
	}
	/* a value holding '=' keeps it */
	TEST_EQ_INT(filter_parse("a=b=c", &p, &n, &why), 0);
	TEST_EQ_STR(p[0].key, "a");
	TEST_EQ_STR(p[0].value, "b=c");
	filter_free(p, n);
	TEST_EQ_INT(filter_parse("x=[5,5]", &p, &n, &why), 0);
	filter_free(p, n);
	TEST_EQ_INT(filter_parse("x=(,)", &p, &n, &why), 0);
	TEST_EQ_INT(p[0].has_lo + p[0].has_hi, 0);
	filter_free(p, n);

	/* errors leave nothing to free */
	TEST_EQ_INT(filter_parse("a=1;;b=2", &p, &n, &why), -1);
	TEST_EQ_STR(why, "empty predicate");
	TEST_TRUE(p == NULL && n == 0);
	TEST_EQ_INT(filter_parse("a=1;", &p, &n, &why), -1);
	TEST_EQ_STR(why, "empty predicate");
	TEST_EQ_INT(filter_parse(";a=1", &p, &n, &why), -1);
	TEST_EQ_STR(why, "empty predicate");
	TEST_EQ_INT(filter_parse("a=1;=2", &p, &n, &why), -1);
	TEST_EQ_STR(why, "empty key");
	TEST_EQ_INT(filter_parse("a=1;b", &p, &n, &why), -1);
	TEST_EQ_STR(why, "predicate without '='");
	TEST_EQ_INT(filter_parse("x=(1,b]", &p, &n, &why), -1);
	TEST_EQ_STR(why, "bad interval bound");
	TEST_EQ_INT(filter_parse("x=(-1,5]", &p, &n, &why), -1);
	TEST_EQ_STR(why, "bad interval bound");
	TEST_EQ_INT(filter_parse("x=(1.,5]", &p, &n, &why), -1);
	TEST_EQ_STR(why, "bad interval bound");
	TEST_EQ_INT(filter_parse("x=(5,1)", &p, &n, &why), -1);
	TEST_EQ_STR(why, "empty interval");
	TEST_EQ_INT(filter_parse("x=(5,5]", &p, &n, &why), -1);
	TEST_EQ_STR(why, "empty interval");
	TEST_EQ_INT(filter_parse("x=[5,5)", &p, &n, &why), -1);
	TEST_EQ_STR(why, "empty interval");
	TEST_TRUE(p == NULL && n == 0);
}

static void test_filter_match(void)
{
	/* exact text */
	TEST_EQ_INT(M1("region=cn", "region=cn"), 0);
	TEST_EQ_INT(M1("region=cn", "a=1;region=cn;z=2"), 0);
	TEST_EQ_INT(M1("region=cn", "region=us"), -1);
	TEST_EQ_INT(M1("region=cn", "region=cnx"), -1);
	TEST_EQ_INT(M1("region=cn", "region=c"), -1);
	TEST_EQ_INT(M1("region=cn", "regio=cn"), -1);
	TEST_EQ_INT(M1("region=cn", "xregion=cn"), -1);
	TEST_EQ_INT(M1("n=60", "n=60.0"), -1);  /* text, not number */
	TEST_EQ_INT(M1("k=", "k="), 0);
	TEST_EQ_INT(M1("k=", "j=1"), -1);
	TEST_EQ_INT(M1("k=1,2,3", "k=1,2,3"), 0);  /* text: no bracket */
	TEST_EQ_INT(M1("k=b=c", "k=b=c"), 0);

	/* (a,b] */
	TEST_EQ_INT(M1("fps=(30,60]", "fps=30"), -1);
	TEST_EQ_INT(M1("fps=(30,60]", "fps=30.000001"), 0);
	TEST_EQ_INT(M1("fps=(30,60]", "fps=60"), 0);
	TEST_EQ_INT(M1("fps=(30,60]", "fps=60.000"), 0);
	TEST_EQ_INT(M1("fps=(30,60]", "fps=60.000001"), -1);
	/* [a,b) */
	TEST_EQ_INT(M1("x=[1,2)", "x=0.999999"), -1);
	TEST_EQ_INT(M1("x=[1,2)", "x=1"), 0);
	TEST_EQ_INT(M1("x=[1,2)", "x=1.5"), 0);
	TEST_EQ_INT(M1("x=[1,2)", "x=2"), -1);
	/* (a,b) */
	TEST_EQ_INT(M1("x=(1,2)", "x=1"), -1);
	TEST_EQ_INT(M1("x=(1,2)", "x=1.5"), 0);
	TEST_EQ_INT(M1("x=(1,2)", "x=2"), -1);
	/* [a,b] */
	TEST_EQ_INT(M1("x=[1,2]", "x=1"), 0);
	TEST_EQ_INT(M1("x=[1,2]", "x=2"), 0);
	TEST_EQ_INT(M1("x=[1,2]", "x=2.000001"), -1);
	TEST_EQ_INT(M1("x=[5,5]", "x=5"), 0);
	/* open bounds */
	TEST_EQ_INT(M1("fps=(60,]", "fps=60"), -1);
	TEST_EQ_INT(M1("fps=(60,]", "fps=61"), 0);
	TEST_EQ_INT(M1("fps=(60,]", "fps=999999999999"), 0);
	TEST_EQ_INT(M1("fps=[,10]", "fps=0"), 0);
	TEST_EQ_INT(M1("fps=[,10]", "fps=10"), 0);
	TEST_EQ_INT(M1("fps=[,10]", "fps=10.1"), -1);
	TEST_EQ_INT(M1("x=(,)", "x=0"), 0);
	TEST_EQ_INT(M1("x=(,)", "x=12345.678"), 0);
	/* a missing dim fails */
	TEST_EQ_INT(M1("fps=(0,]", ""), -1);
	TEST_EQ_INT(M1("fps=(0,]", "height=1080"), -1);
	TEST_EQ_INT(M1("region=cn", ""), -1);
	/* a dim that is not a decimal fails an interval */
	TEST_EQ_INT(M1("x=(,)", "x=abc"), -1);
	TEST_EQ_INT(M1("x=(,)", "x="), -1);
	TEST_EQ_INT(M1("fps=(0,]", "fps=-5"), -1);
	TEST_EQ_INT(M1("fps=(0,]", "fps=1e3"), -1);
	TEST_EQ_INT(M1("fps=(0,]", "fps= 5"), -1);
	TEST_EQ_INT(M1("fps=(0,]", "fps=0.0000001"), -1);
	/* every predicate must hold */
	TEST_EQ_INT(M1("a=1;b=(0,5]", "a=1;b=5"), 0);
	TEST_EQ_INT(M1("a=1;b=(0,5]", "a=1;b=6"), -1);
	TEST_EQ_INT(M1("a=1;b=(0,5]", "a=2;b=5"), -1);
	TEST_EQ_INT(M1("a=1;b=(0,5]", "b=5"), -1);
	/* the empty filter matches everything */
	TEST_EQ_INT(M1("", ""), 0);
	TEST_EQ_INT(M1("", "a=1"), 0);

	/* the first group in order wins */
	{
		static const char *const f[] = {
			"fps=(0,100]", "fps=(0,50]", "region=cn", ""
		};

		TEST_EQ_INT(match(f, 4, "fps=20"), 0);
		TEST_EQ_INT(match(f, 4, "fps=20;region=cn"), 0);
		TEST_EQ_INT(match(f, 4, "fps=200;region=cn"), 2);
		TEST_EQ_INT(match(f, 4, "fps=200"), 3);
		TEST_EQ_INT(match(f, 4, ""), 3);
		TEST_EQ_INT(match(f, 3, "fps=200"), -1);
	}
	/* SPEC 11 example 2 as a matrix: fps x height */
	{
		static const char *const f[] = {
			"fps=(0,30];height=(0,720]",
			"fps=(0,30];height=(720,1440]",
			"fps=(0,30];height=(1440,2160]",
			"fps=(30,60];height=(0,720]",
			"fps=(30,60];height=(720,1440]",
			"fps=(30,60];height=(1440,2160]",
			"fps=(60,120];height=(0,720]",
			"fps=(60,120];height=(720,1440]",
			"fps=(60,120];height=(1440,2160]",
		};

		TEST_EQ_INT(match(f, 9, "fps=60;height=1080"), 4);
		TEST_EQ_INT(match(f, 9, "fps=24;height=480"), 0);
		TEST_EQ_INT(match(f, 9, "fps=30;height=1440"), 1);
		TEST_EQ_INT(match(f, 9, "fps=30.5;height=1440.5"), 5);
		TEST_EQ_INT(match(f, 9, "fps=90;height=720"), 6);
		TEST_EQ_INT(match(f, 9, "fps=120;height=2160"), 8);
		TEST_EQ_INT(match(f, 9, "fps=60;height=2161"), -1);
		TEST_EQ_INT(match(f, 9, "fps=0;height=1080"), -1);
		TEST_EQ_INT(match(f, 9, "fps=60"), -1);
		TEST_EQ_INT(match(f, 9, "fps=sixty;height=1080"), -1);
		TEST_EQ_INT(match(f, 9, "fps=60;height=1080;lang=en"), 4);
	}
}


/* ---- v2: new columns and keys, price versions, warnings ------------------- */

/* ts.h period numbering: year * 12 + month - 1 */
#define PER(y, m) ((y) * 12 + (m) - 1)

static void test_v2_defaults(void)
{
	struct catalog cat;
	const struct account *a;
	int f;

	/* nothing v2 given: the defaults of SPEC 3 */
	if (load_ok(&(struct files){ 0 }, &cat) == 0) {
		TEST_EQ_INT(cat.set.tax_rate, 0);
		TEST_EQ_INT(cat.set.payment_terms_days, 15);
		for (f = 0; f < SELLER_NFIELDS; f++)
			TEST_EQ_STR(cat.set.seller[f], "");
		TEST_EQ_STR(cat.items[0].name, "calls");  /* sorted: calls */
		TEST_EQ_STR(cat.items[0].unit_code, "C62");
		TEST_EQ_STR(cat.items[0].groups[0].label, "");
		a = &cat.accounts[0];
		TEST_EQ_INT(a->tax_rate, 0);
		TEST_EQ_STR(a->tax_category, "O");   /* rate 0: outside scope */
		TEST_EQ_STR(a->doc->address, "");
		TEST_EQ_STR(a->doc->country, "");
		TEST_EQ_STR(a->doc->endpoint, "");
		TEST_EQ_STR(a->doc->tax_exemption, "");
		TEST_EQ_INT(cat.nwarnings, 0);
		catalog_release(&cat);
	}

	/* every v2 field given; settings tax_rate 19 is the default of an
	 * account with category S or none, and 0 for another category */
	if (load_ok(&(struct files){
		    .settings = "tax_rate = 19\npayment_terms_days = 30\n"
				"seller_name = Cloud Co\nseller_country = DE\n"
				"seller_endpoint = 0088:5790000435975\n"
				"seller_iban = DE89370400440532013000\n",
		    .items = "item,currency,usage_unit,name,unit_code\n"
			     "vp,CNY,second,Video production,SEC\n"
			     "calls,CNY,call,,\npk,USD,GB,,\n",
		    .accounts = "tenant_id,currency,address,city,postal_code,"
				"country,email,tax_id,endpoint,tax_rate,"
				"tax_category,tax_exemption\n"
				"a1,CNY,Main St 1,Berlin,10115,DE,a@x.de,"
				"DE123,9930:DE123,,,\n"
				"a2,CNY,,,,,,,,,E,Medical services\n"
				"a3,CNY,,,,,,,,8.1,,\n"
				"a4,CNY,,,,,,,,0,Z,\n"
				"a5,CNY,,,,,,,,,S,\n"
				"acme,USD,,,,,,,,,AE,Reverse charge\n",
	    }, &cat) == 0) {
		TEST_EQ_INT(cat.set.tax_rate, D("19"));
		TEST_EQ_INT(cat.set.payment_terms_days, 30);
		TEST_EQ_STR(cat.set.seller[SELLER_NAME], "Cloud Co");
		TEST_EQ_STR(cat.set.seller[SELLER_COUNTRY], "DE");
		TEST_EQ_STR(cat.set.seller[SELLER_ENDPOINT],
			    "0088:5790000435975");
		TEST_EQ_STR(cat.set.seller[SELLER_IBAN],
			    "DE89370400440532013000");
		TEST_EQ_STR(cat.set.seller[SELLER_CITY], "");
		TEST_EQ_STR(cat.items[2].code, "vp");
		TEST_EQ_STR(cat.items[2].name, "Video production");
		TEST_EQ_STR(cat.items[2].unit_code, "SEC");
		TEST_EQ_STR(cat.items[0].name, "calls");
		TEST_EQ_STR(cat.items[0].unit_code, "C62");
		TEST_EQ_INT(cat.naccounts, 6);
		if (cat.naccounts == 6) {
			a = &cat.accounts[0];  /* a1: settings' 19, so S */
			TEST_EQ_STR(a->doc->address, "Main St 1");
			TEST_EQ_STR(a->doc->city, "Berlin");
			TEST_EQ_STR(a->doc->postal_code, "10115");
			TEST_EQ_STR(a->doc->country, "DE");
			TEST_EQ_STR(a->doc->email, "a@x.de");
			TEST_EQ_STR(a->doc->tax_id, "DE123");
			TEST_EQ_STR(a->doc->endpoint, "9930:DE123");
			TEST_EQ_INT(a->tax_rate, D("19"));
			TEST_EQ_STR(a->tax_category, "S");
			a = &cat.accounts[1];  /* a2: E, so 0 */
			TEST_EQ_INT(a->tax_rate, 0);
			TEST_EQ_STR(a->tax_category, "E");
			TEST_EQ_STR(a->doc->tax_exemption, "Medical services");
			a = &cat.accounts[2];  /* a3: its own 8.1, so S */
			TEST_EQ_INT(a->tax_rate, D("8.1"));
			TEST_EQ_STR(a->tax_category, "S");
			a = &cat.accounts[3];  /* a4: 0 and Z */
			TEST_EQ_INT(a->tax_rate, 0);
			TEST_EQ_STR(a->tax_category, "Z");
			a = &cat.accounts[4];  /* a5: S and the settings' 19 */
			TEST_EQ_INT(a->tax_rate, D("19"));
			TEST_EQ_STR(a->tax_category, "S");
			a = &cat.accounts[5];  /* acme USD: AE, so 0 */
			TEST_EQ_INT(a->tax_rate, 0);
			TEST_EQ_STR(a->tax_category, "AE");
		}
		catalog_release(&cat);
	}

	/* minor units come from the ISO 4217 table */
	if (load_ok(&(struct files){
		    .items = "item,currency,usage_unit\nvp,ISK,s\n"
			     "calls,CLF,call\npk,LYD,GB\n",
		    .accounts = "tenant_id,currency,opening_balance\n"
				"acme,ISK,-12\nacme,CLF,1.2345\nacme,LYD,0.125\n",
	    }, &cat) == 0) {
		TEST_EQ_INT(cat.items[0].minor, 4);  /* calls CLF */
		TEST_EQ_INT(cat.items[1].minor, 3);  /* pk LYD */
		TEST_EQ_INT(cat.items[2].minor, 0);  /* vp ISK */
		catalog_release(&cat);
	}
}

static void test_v2_errors(void)
{
	ERR("bad tax_rate '101' (want 0 to 100) at cfg/settings.conf:1 "
	    "(key tax_rate)", .settings = "tax_rate = 101\n");
	ERR("bad tax_rate '-1' at cfg/settings.conf:1 (key tax_rate)",
	    .settings = "tax_rate = -1\n");
	ERR("bad payment_terms_days '1.5' at cfg/settings.conf:2 "
	    "(key payment_terms_days)",
	    .settings = "\npayment_terms_days = 1.5\n");
	ERR("bad seller_country 'de' at cfg/settings.conf:1 (key "
	    "seller_country; ISO 3166-1 alpha-2, e.g. DE)",
	    .settings = "seller_country = de\n");
	ERR("bad seller_endpoint '0088' at cfg/settings.conf:1 (key "
	    "seller_endpoint; scheme:id, e.g. 0088:5790000435975)",
	    .settings = "seller_endpoint = 0088\n");
	ERR("bad unit_code 'minute' at cfg/items.csv:2 (column unit_code; a "
	    "UN/ECE Recommendation 20 code, e.g. MIN, SEC, HUR or C62)",
	    .items = "item,currency,usage_unit,unit_code\nvp,CNY,s,minute\n");
	ERR("bad currency 'HRK' at cfg/items.csv:2 (column currency; " CUR_NOTE,
	    .items = "item,currency,usage_unit\nvp,HRK,s\n");
	ERR("bad currency 'XAU' at cfg/accounts.csv:3 (column currency; "
	    CUR_NOTE, .accounts = "tenant_id,currency\nacme,CNY\nacme,XAU\n");
	ERR("bad currency 'SLL' at cfg/payments.csv:2 (column currency; "
	    CUR_NOTE, .payments = PY_HDR "t1,acme,SLL,1,2026-01-05T00:00:00Z");
	/* opening balances follow the table: ISK has no minor unit */
	ERR("bad opening_balance '1.5' (want at most 0 decimals for ISK) at "
	    "cfg/accounts.csv:2 (column opening_balance)",
	    .items = "item,currency,usage_unit\nvp,ISK,s\ncalls,ISK,c\n"
		     "pk,ISK,GB\n",
	    .accounts = "tenant_id,currency,opening_balance\nacme,ISK,1.5\n");
	/* tax: the category's rule */
	ERR("bad tax_category 'S' at cfg/accounts.csv:2 (column tax_category; "
	    "category S needs a tax_rate above 0, here or in settings.conf)",
	    .accounts = "tenant_id,currency,tax_category\nacme,CNY,S\n"
			"acme,USD,\n");
	ERR("bad tax_category 'S' at cfg/accounts.csv:2 (column tax_category; "
	    "category S needs a tax_rate above 0, here or in settings.conf)",
	    .settings = "tax_rate = 19\n",
	    .accounts = "tenant_id,currency,tax_rate,tax_category\n"
			"acme,CNY,0,S\nacme,USD,,\n");
	ERR("bad tax_rate '5' at cfg/accounts.csv:3 (column tax_rate; only "
	    "tax_category S has a rate above 0)",
	    .accounts = "tenant_id,currency,tax_rate,tax_category\n"
			"acme,CNY,,\nacme,USD,5,E\n");
	ERR("bad tax_rate '100.5' (want 0 to 100) at cfg/accounts.csv:2 "
	    "(column tax_rate)",
	    .accounts = "tenant_id,currency,tax_rate\nacme,CNY,100.5\n");
	ERR("bad tax_category 's' (want S, Z, E, AE, K, G or O) at "
	    "cfg/accounts.csv:2 (column tax_category)",
	    .accounts = "tenant_id,currency,tax_category\nacme,CNY,s\n");
	ERR("bad country 'Germany' at cfg/accounts.csv:2 (column country; "
	    "ISO 3166-1 alpha-2, e.g. DE)",
	    .accounts = "tenant_id,currency,country\nacme,CNY,Germany\n");
	ERR("bad endpoint ':123' at cfg/accounts.csv:2 (column endpoint; "
	    "scheme:id, e.g. 0088:5790000435975)",
	    .accounts = "tenant_id,currency,endpoint\nacme,CNY,:123\n");
	/* prices: valid_from, labels, malformed intervals */
	ERR("bad valid_from '2026-11-01' at cfg/prices.csv:4 (column "
	    "valid_from; expected YYYY-MM, e.g. 2026-11)",
	    .prices = "item,filter,tier_from,unit_price,valid_from\n"
		      "vp,,0,0.5,\ncalls,,0,0.15,\ncalls,,0,0.2,2026-11-01\n"
		      "pk,,0,3,\n");
	ERR("price group 'fps=60' of item 'vp' has label '60 fps' here and "
	    "'fps=60' at line 2 (one label per group; an empty cell means the "
	    "filter text) at cfg/prices.csv:5 (column label)",
	    .prices = "item,filter,tier_from,unit_price,valid_from,label\n"
		      "vp,fps=60,0,0.5,,\nvp,,0,0.4,,\ncalls,,0,0.15,,\n"
		      "vp,fps=60,0,0.6,2026-11,60 fps\npk,,0,3,,\n");
	ERR("bad filter 'res=(1080,' at cfg/prices.csv:5 (column filter; "
	    FILTER_MALFORMED ")",
	    .prices = "item,filter,tier_from,unit_price\n"
		      "vp,,0,0.5\ncalls,,0,0.15\npk,,0,3\nvp,\"res=(1080,\",0,1\n");
	/* each version's tiers are checked on their own */
	ERR("first tier_from '10' is not 0 at cfg/prices.csv:4 (column "
	    "tier_from)",
	    .prices = "item,tier_from,tier_to,unit_price,valid_from\n"
		      "vp,0,10,0.5,\nvp,10,,0.4,\nvp,10,,0.3,2026-11\n"
		      "calls,0,,0.15,\npk,0,,3,\n");
	ERR("last tier of item 'vp' has tier_to '10' (want empty) at "
	    "cfg/prices.csv:3 (column tier_to)",
	    .prices = "item,tier_from,tier_to,unit_price,valid_from\n"
		      "vp,0,,0.5,\nvp,0,10,0.3,2026-11\n"
		      "calls,0,,0.15,\npk,0,,3,\n");
}

static void test_v2_versions(void)
{
	struct catalog cat;
	const struct price_group *g;
	const struct item *it;

	/* vp: group "" since always at 0.5, from 2026-12 at 0.7, from
	 * 2026-11 at 0.6 (rows in any order; versions sorted), labelled
	 * "All" on every row; group "fps=60" only from 2026-11, its label
	 * the filter text */
	if (load_ok(&(struct files){
		    .prices = "item,filter,tier_from,tier_to,unit_price,"
			      "valid_from,label\n"
			      "vp,fps=60,0,,0.9,2026-11,\n"
			      "vp,,0,,0.5,,All\n"
			      "vp,,0,,0.7,2026-12,All\n"
			      "vp,,0,10,0.6,2026-11,All\n"
			      "vp,,10,,0.55,2026-11,All\n"
			      "calls,,0,,0.15,,\npk,,0,,3,,\n",
	    }, &cat) == 1)
		return;
	it = catalog_item(&cat, "vp", 2);
	TEST_TRUE(it && it->ngroups == 2);
	if (!it || it->ngroups != 2) {
		catalog_release(&cat);
		return;
	}
	g = &it->groups[0];
	TEST_EQ_STR(g->filter, "fps=60");
	TEST_EQ_STR(g->label, "fps=60");
	TEST_EQ_INT(g->nversions, 1);
	TEST_EQ_INT(g->first, PER(2026, 11));
	TEST_TRUE(catalog_version(g, PER(2026, 10)) == NULL);
	TEST_TRUE(catalog_version(g, PER(2026, 11)) == &g->versions[0]);
	TEST_TRUE(catalog_version(g, PER(2030, 1)) == &g->versions[0]);
	g = &it->groups[1];
	TEST_EQ_STR(g->label, "All");
	TEST_EQ_INT(g->nversions, 3);
	TEST_EQ_INT(g->first, PRICE_ALWAYS);
	if (g->nversions == 3) {
		TEST_EQ_INT(g->versions[0].from, PRICE_ALWAYS);
		TEST_EQ_INT(g->versions[1].from, PER(2026, 11));
		TEST_EQ_INT(g->versions[2].from, PER(2026, 12));
		TEST_EQ_INT(g->versions[1].ntiers, 2);
		TEST_EQ_INT(g->versions[1].tiers[1].unit_price, D("0.55"));
		TEST_TRUE(catalog_version(g, PER(1990, 1)) == &g->versions[0]);
		TEST_TRUE(catalog_version(g, PER(2026, 10)) == &g->versions[0]);
		TEST_TRUE(catalog_version(g, PER(2026, 11)) == &g->versions[1]);
		TEST_TRUE(catalog_version(g, PER(2026, 12)) == &g->versions[2]);
		TEST_TRUE(catalog_version(g, PER(2027, 6)) == &g->versions[2]);
	}
	/* the group choice: fps=60 matches first, but has no version before
	 * 2026-11, so October's record falls through to the match-all one */
	TEST_EQ_INT(catalog_match_group(it, "fps=60", 6), 0);
	TEST_EQ_INT(catalog_match_group_in(it, 0, "fps=60", 6, PER(2026, 10)), 1);
	TEST_EQ_INT(catalog_match_group_in(it, 0, "fps=60", 6, PER(2026, 11)), 0);
	TEST_EQ_INT(catalog_match_group_in(it, 1, "fps=60", 6, PER(2026, 11)), 1);
	TEST_EQ_INT(catalog_match_group_in(it, 0, "", 0, PER(2026, 10)), 1);
	TEST_EQ_INT(catalog_match_group_in(it, 2, "", 0, PER(2026, 10)), -1);
	catalog_release(&cat);

	/* a group whose only version starts later, and no other group: no
	 * group for earlier periods */
	if (load_ok(&(struct files){
		    .prices = "item,tier_from,unit_price,valid_from\n"
			      "vp,0,0.5,2027-01\ncalls,0,0.15,\npk,0,3,\n",
	    }, &cat) == 0) {
		it = catalog_item(&cat, "vp", 2);
		TEST_EQ_INT(catalog_match_group(it, "", 0), 0);
		TEST_EQ_INT(catalog_match_group_in(it, 0, "", 0, PER(2026, 12)),
			    -1);
		TEST_EQ_INT(catalog_match_group_in(it, 0, "", 0, PER(2027, 1)),
			    0);
		catalog_release(&cat);
	}
}

static void test_v2_warnings(void)
{
	struct catalog cat;

	/* unknown columns in file order (settings first), with the nearest
	 * known name when one is close (suggest.h) */
	if (load_ok(&(struct files){
		    .settings = "# s\ntimezone = +08:00\ninvoice_prefx = X\n",
		    .items = "item,currency,usage_unit,record_round_mod\n"
			     "vp,CNY,s,up\ncalls,CNY,c,\npk,USD,GB,\n",
		    .prices = "item,tier_from,unit_price,comment\n"
			      "vp,0,0.5,x\ncalls,0,0.15,\npk,0,3,\n",
		    .accounts = "tenant_id,currency,tax_categroy\n"
				"acme,CNY,\nacme,USD,\n",
		    .packages = "package_id,tenant_id,items,valid_from,"
				"valid_to,quota,\n",
	    }, &cat) == 0) {
		static const char *const want[] = {
			"unknown key 'invoice_prefx' in cfg/settings.conf:3 "
			"(did you mean 'invoice_prefix'?)",
			"unknown column 'record_round_mod' in cfg/items.csv "
			"(did you mean 'record_round_mode'?)",
			"unknown column 'comment' in cfg/prices.csv",
			"unknown column 'tax_categroy' in cfg/accounts.csv "
			"(did you mean 'tax_category'?)",
			"unknown column '' in cfg/packages.csv",
		};
		size_t i;

		TEST_EQ_INT(cat.nwarnings, 5);
		for (i = 0; i < 5 && i < cat.nwarnings; i++)
			TEST_EQ_STR(cat.warnings[i], want[i]);
		/* the unknown key changed nothing */
		TEST_EQ_STR(cat.set.invoice_prefix, "INV");
		TEST_EQ_INT(cat.items[2].record_round_mode, DEC_HALF_UP);
		catalog_release(&cat);
		TEST_EQ_INT(cat.nwarnings, 0);
	}
}

/* catalog_read, catalog_peek and catalog_parse (the no-change close):
 * the steps give catalog_load's catalog, digest, warnings and errors;
 * peek gives the settings and warnings alone; nothing is read from the
 * folder after catalog_read. */
static void test_steps(void)
{
	static const struct files fs = {
		.settings = "timezone = +08:00\ninvoice_prefx = X\n",
		.accounts = "tenant_id,currency,tax_categroy\n"
			    "acme,CNY,\nacme,USD,\n",
	};
	/* the warnings of fs, as test_v2_warnings derives them */
	static const char *const want[] = {
		"unknown key 'invoice_prefx' in cfg/settings.conf:2 "
		"(did you mean 'invoice_prefix'?)",
		"unknown column 'tax_categroy' in cfg/accounts.csv "
		"(did you mean 'tax_category'?)",
	};
	struct catalog whole, cat;
	struct err e;
	size_t i;

	if (load_ok(&fs, &whole) != 0)
		return;
	/* read, then peek: the settings (+08:00 is 28800 s) and the
	 * same warnings, no row; the same digest */
	TEST_EQ_INT(catalog_read("cfg", &cat), 0);
	TEST_TRUE(memcmp(cat.digest, whole.digest, 32) == 0);
	/* every file goes: only the bytes read count from here */
	unlink("cfg/settings.conf");
	unlink("cfg/items.csv");
	unlink("cfg/prices.csv");
	unlink("cfg/accounts.csv");
	unlink("cfg/packages.csv");
	err_clear(&e);
	TEST_EQ_INT(catalog_peek(&cat, &e), 0);
	TEST_EQ_STR(e.msg, "");
	TEST_EQ_INT(cat.set.tz, whole.set.tz);
	TEST_EQ_INT(cat.set.tz, 28800);
	TEST_TRUE(cat_empty(&cat));
	TEST_TRUE(cat.src != NULL);
	TEST_EQ_INT(cat.nwarnings, 2);
	for (i = 0; i < 2 && i < cat.nwarnings; i++) {
		TEST_EQ_STR(cat.warnings[i], want[i]);
		TEST_EQ_STR(whole.warnings[i], want[i]);
	}
	/* then parse: catalog_load's catalog (3 items, 2 accounts, from
	 * the base files of the fixture), the warnings once */
	TEST_EQ_INT(catalog_parse(&cat, &e), 0);
	TEST_EQ_STR(e.msg, "");
	TEST_TRUE(cat.src == NULL);
	TEST_EQ_INT(cat.nitems, 3);
	TEST_EQ_INT(cat.naccounts, 2);
	TEST_EQ_INT(cat.nitems, whole.nitems);
	TEST_EQ_STR(cat.accounts[1].currency, "USD");
	TEST_EQ_INT(cat.nwarnings, 2);
	TEST_TRUE(memcmp(cat.digest, whole.digest, 32) == 0);
	catalog_release(&cat);
	catalog_release(&whole);
	/* a file that cannot be read is reported where catalog_load read
	 * it: after the errors of the files before it (items.csv's bad
	 * currency, not the missing accounts.csv), and instead of the rows
	 * after it */
	ERR("bad currency 'x' at cfg/items.csv:2 (column currency; "
	    CUR_NOTE, .items = "item,currency,usage_unit\nvp,x,second\n",
	    .accounts = ABSENT);
	ERR("missing config file 'cfg/accounts.csv' " MISSING_NOTE,
	    .accounts = ABSENT, .packages = "package_id\n\"\n");
	write_cfg(&(struct files){ .accounts = ABSENT });
	TEST_EQ_INT(catalog_read("cfg", &cat), 1);
	TEST_EQ_INT(catalog_parse(&cat, &e), ST_ERROR);
	TEST_EQ_STR(e.msg, "missing config file 'cfg/accounts.csv' "
		    MISSING_NOTE);
	TEST_TRUE(cat_empty(&cat) && cat.src == NULL && !cat.nwarnings);
}

int main(void)
{
	char tmpl[] = "/tmp/test_catalog.XXXXXX";
	char *cwd = getcwd(NULL, 0);
	static const char *const names[] = {
		"settings.conf", "items.csv", "prices.csv", "accounts.csv",
		"packages.csv", "payments.csv",
	};
	char path[128];
	size_t i;

	test_sheet_rows();
	test_sheet_plain_rows();
	test_sheet_long_lines();
	test_sheet_held_varints();
	test_config_ok();
	test_filter_parse();
	test_filter_match();

	if (!cwd || !mkdtemp(tmpl) || chdir(tmpl) != 0 ||
	    mkdir("cfg", 0700) != 0) {
		perror("scratch dir");
		return 2;
	}
	test_defaults();
	test_settings_errors();
	test_file_errors();
	test_steps();
	test_items_errors();
	test_prices_errors();
	test_accounts_errors();
	test_accounts_order();
	test_packages_errors();
	test_payments_errors();
	test_v2_defaults();
	test_v2_errors();
	test_v2_versions();
	test_v2_warnings();
	printf("%d error cases\n", ncases);

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "cfg/%s", names[i]);
		unlink(path);
	}
	rmdir("cfg");
	if (chdir(cwd) != 0)
		perror(cwd);
	rmdir(tmpl);
	free(cwd);
	return TEST_REPORT();
}
