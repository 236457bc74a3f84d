/* test_pkg: package consumption and alerts (SPEC section 6 and the
 * section 11 examples 3 and 5), without a store or an engine. Every
 * expected value was worked out by hand from SPEC 6; the derivation is in
 * the comment beside each case. Instants are plain numbers here: the
 * book only compares them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg.h"
#include "testhelp.h"
#include "banned.h"

/* A decimal from its text; the tables are ours, so a bad one is a bug. */
static dec_t D(const char *s)
{
	dec_t v;

	if (dec_parse(s, strlen(s), &v)) {
		fprintf(stderr, "bad test decimal '%s'\n", s);
		exit(2);
	}
	return v;
}

/* The items every case knows: 0 api_call, 1 video, 2 other. */
static char code_api[] = "api_call", code_video[] = "video",
	    code_other[] = "other";
static struct item items[3];
static char *only_video[] = { code_video };

enum { API, VIDEO, OTHER };

/* A package: quota NULL for unlimited; every item unless `video`. */
static struct package P(const char *id, int64_t priority, int64_t from,
			int64_t to, int64_t purchased, const char *quota,
			const char *unit_cost, int forgive, int video)
{
	struct package p;

	memset(&p, 0, sizeof(p));
	p.id = (char *)id; /* only read */
	p.all_items = !video;
	p.items = video ? only_video : NULL;
	p.nitems = video ? 1 : 0;
	p.unlimited = quota == NULL;
	p.quota = quota ? D(quota) : 0;
	p.unit_cost = D(unit_cost);
	p.priority = priority;
	p.valid_from = from;
	p.valid_to = to;
	p.purchased_at = purchased;
	p.forgive = forgive;
	return p;
}

/* A book over pkgs[0..n) with alert_pct 20 (the default), and the
 * tenant's order of them in ord. */
static void book(struct pkg_book *b, const struct package *pkgs, size_t n,
		 size_t *ord)
{
	size_t i;

	pkg_book_init(b, pkgs, n, items, 3, D("20"));
	for (i = 0; i < n; i++)
		ord[i] = i;
	pkg_order(pkgs, ord, n);
}

/* Consumes q of item at ts; returns pkg_consume's result. */
static int eat(struct pkg_book *b, const size_t *ord, size_t n, int64_t ts,
	       size_t item, const char *q, struct pkg_use *uses,
	       struct pkg_result *res)
{
	struct pkg_rec r;
	struct err e;

	r.ts = ts;
	r.q = D(q);
	r.item = item;
	err_clear(&e);
	return pkg_consume(b, ord, n, &r, uses, res, &e);
}

static void test_order(void)
{
	/* (priority, valid_to, purchased_at, package_id), ascending:
	 *  b has priority 10, the only one below 30: first;
	 *  among priority 30, c expires first (valid_to 100): second;
	 *  a, d, a0 all expire at 200; d was bought first (5): third;
	 *  a and a0 tie on purchased_at 10: id "a" < "a0" (a prefix sorts
	 *  first), so a, then a0. Expected: b c d a a0 = 1 2 3 0 4. */
	struct package pk[5];
	size_t ord[5] = { 0, 1, 2, 3, 4 };

	pk[0] = P("a", 30, 0, 200, 10, "1", "1", 0, 0);
	pk[1] = P("b", 10, 0, 300, 10, "1", "1", 0, 0);
	pk[2] = P("c", 30, 0, 100, 50, "1", "1", 0, 0);
	pk[3] = P("d", 30, 0, 200, 5, "1", "1", 0, 0);
	pk[4] = P("a0", 30, 0, 200, 10, "1", "1", 0, 0);
	pkg_order(pk, ord, 5);
	TEST_EQ_INT(ord[0], 1);
	TEST_EQ_INT(ord[1], 2);
	TEST_EQ_INT(ord[2], 3);
	TEST_EQ_INT(ord[3], 0);
	TEST_EQ_INT(ord[4], 4);
	/* the input order does not matter: reversed gives the same */
	{
		size_t rev[5] = { 4, 3, 2, 1, 0 };

		pkg_order(pk, rev, 5);
		TEST_EQ_INT(rev[0], 1);
		TEST_EQ_INT(rev[1], 2);
		TEST_EQ_INT(rev[2], 3);
		TEST_EQ_INT(rev[3], 0);
		TEST_EQ_INT(rev[4], 4);
	}
}

static void test_split(void)
{
	/* first (priority 0, quota 10, split) and second (priority 10,
	 * quota 100). A record of 15 at ts 50: first needs 15 x 1 = 15,
	 * has 10: covers 10 / 1 = 10, uses its 10, is exhausted; 5 goes on
	 * to second, which needs 5, has 100: covers 5, keeps 95. Covered
	 * 15, nothing forgiven or left. first's 0 left is <= 10 x 20 / 100
	 * = 2: its alert fires with ts 50; second's 95 > 20 does not.
	 * Then 3 at ts 60: first has nothing left and is skipped; second
	 * covers 3, keeps 92. */
	struct package pk[2];
	struct pkg_book b;
	struct pkg_use u[2];
	struct pkg_result r;
	size_t ord[2];

	pk[0] = P("second", 10, 0, 1000, 0, "100", "1", 0, 0);
	pk[1] = P("first", 0, 0, 1000, 0, "10", "1", 0, 0);
	book(&b, pk, 2, ord);
	TEST_EQ_INT(eat(&b, ord, 2, 50, API, "15", u, &r), 0);
	TEST_EQ_INT(r.covered, D("15"));
	TEST_EQ_INT(r.forgiven, 0);
	TEST_EQ_INT(r.rest, 0);
	TEST_EQ_INT(r.nuse, 2);
	TEST_EQ_INT(u[0].pkg, 1);
	TEST_EQ_INT(u[0].qty, D("10"));
	TEST_EQ_INT(u[0].units, D("10"));
	TEST_EQ_INT(u[1].pkg, 0);
	TEST_EQ_INT(u[1].qty, D("5"));
	TEST_EQ_INT(u[1].units, D("5"));
	TEST_EQ_INT(b.st[1].left, 0);
	TEST_EQ_INT(b.st[0].left, D("95"));
	TEST_EQ_INT(b.st[1].alerted, 1);
	TEST_EQ_INT(b.st[1].alert_ts, 50);
	TEST_EQ_INT(b.st[1].alert_left, 0);
	TEST_EQ_INT(b.st[0].alerted, 0);
	TEST_EQ_INT(eat(&b, ord, 2, 60, API, "3", u, &r), 0);
	TEST_EQ_INT(r.nuse, 1);
	TEST_EQ_INT(u[0].pkg, 0);
	TEST_EQ_INT(u[0].qty, D("3"));
	TEST_EQ_INT(r.covered, D("3"));
	TEST_EQ_INT(r.rest, 0);
	TEST_EQ_INT(b.st[0].left, D("92"));
	TEST_EQ_INT(b.st[1].alert_ts, 50); /* fired once */
	pkg_book_release(&b);
}

static void test_forgive(void)
{
	/* Same as test_split, but first forgives: of 15 it covers 10 and
	 * the 5 it cannot cover are forgiven, so second (next in order) is
	 * never reached and keeps its 100. */
	struct package pk[2];
	struct pkg_book b;
	struct pkg_use u[2];
	struct pkg_result r;
	size_t ord[2];

	pk[0] = P("first", 0, 0, 1000, 0, "10", "1", 1, 0);
	pk[1] = P("second", 10, 0, 1000, 0, "100", "1", 0, 0);
	book(&b, pk, 2, ord);
	TEST_EQ_INT(eat(&b, ord, 2, 50, API, "15", u, &r), 0);
	TEST_EQ_INT(r.covered, D("10"));
	TEST_EQ_INT(r.forgiven, D("5"));
	TEST_EQ_INT(r.rest, 0);
	TEST_EQ_INT(r.nuse, 1);
	TEST_EQ_INT(u[0].pkg, 0);
	TEST_EQ_INT(b.st[1].left, D("100"));
	/* first now has 0 left and is skipped: second covers the next
	 * record of 4 whole, and nothing is forgiven */
	TEST_EQ_INT(eat(&b, ord, 2, 51, API, "4", u, &r), 0);
	TEST_EQ_INT(r.covered, D("4"));
	TEST_EQ_INT(r.forgiven, 0);
	TEST_EQ_INT(u[0].pkg, 1);
	pkg_book_release(&b);
}

static void test_points(void)
{
	/* SPEC 11 example 3: 5000 points, 0.2 points per call. Each call
	 * (q = 1) needs 1 x 0.2 = 0.2 points; 5000 / 0.2 = 25000 calls are
	 * covered exactly, leaving 0. The 25001st finds 0 left: the package
	 * is skipped, the call is rest (pay-as-you-go). The alert (20 %:
	 * left <= 1000) fires when 5000 - 0.2 k <= 1000, k >= 20000: at
	 * call 20000 (ts 20000), with exactly 1000 left, and never again. */
	struct package pk[1];
	struct pkg_book b;
	struct pkg_use u[1];
	struct pkg_result r;
	size_t ord[1];
	int64_t k;
	int bad = 0;

	pk[0] = P("points", 30, 0, 1000000, 0, "5000", "0.2", 0, 0);
	book(&b, pk, 1, ord);
	for (k = 1; k <= 25000; k++) {
		if (eat(&b, ord, 1, k, API, "1", u, &r) ||
		    r.covered != D("1") || r.rest != 0 || r.nuse != 1 || u[0].units != D("0.2"))
			bad++;
		if (k == 19999)
			TEST_EQ_INT(b.st[0].alerted, 0);
	}
	TEST_EQ_INT(bad, 0);
	TEST_EQ_INT(b.st[0].left, 0);
	TEST_EQ_INT(b.st[0].alerted, 1);
	TEST_EQ_INT(b.st[0].alert_ts, 20000);
	TEST_EQ_INT(b.st[0].alert_left, D("1000"));
	TEST_EQ_INT(eat(&b, ord, 1, 25001, API, "1", u, &r), 0);
	TEST_EQ_INT(r.covered, 0);
	TEST_EQ_INT(r.forgiven, 0);
	TEST_EQ_INT(r.rest, D("1"));
	TEST_EQ_INT(r.nuse, 0);
	pkg_book_release(&b);
}

static void test_minutes(void)
{
	/* SPEC 11 example 5: a 10-minute package (unit_cost 1), videos of
	 * 300, 250, 200 s; with record_round 2 the engine makes them
	 * 300/60 = 5.00, 250/60 = 4.1666.. -> 4.17 and 200/60 = 3.333.. ->
	 * 3.33 minutes before consumption. 5.00 covered (5 left), 4.17
	 * covered (0.83 left); the third needs 3.33 and finds 0.83: 0.83 /
	 * 1 = 0.83 covered, all 0.83 used; with forgive the other 2.50 are
	 * forgiven and nothing is left to bill. The alert (left <= 10 x 20
	 * / 100 = 2) fires on the second video (0.83 left), not again on
	 * the third. With split the 2.50 are rest instead (the engine bills
	 * them postpaid: 2.50 x 2.00 = 5.00). */
	struct package pk[1];
	struct pkg_book b;
	struct pkg_use u[1];
	struct pkg_result r;
	size_t ord[1];
	int forgive;

	for (forgive = 1; forgive >= 0; forgive--) {
		pk[0] = P("minutes", 20, 0, 1000, 0, "10", "1", forgive, 1);
		book(&b, pk, 1, ord);
		TEST_EQ_INT(eat(&b, ord, 1, 1, VIDEO, "5.00", u, &r), 0);
		TEST_EQ_INT(r.covered, D("5"));
		TEST_EQ_INT(b.st[0].left, D("5"));
		TEST_EQ_INT(b.st[0].alerted, 0);
		TEST_EQ_INT(eat(&b, ord, 1, 2, VIDEO, "4.17", u, &r), 0);
		TEST_EQ_INT(r.covered, D("4.17"));
		TEST_EQ_INT(b.st[0].left, D("0.83"));
		TEST_EQ_INT(b.st[0].alerted, 1);
		TEST_EQ_INT(b.st[0].alert_ts, 2);
		TEST_EQ_INT(b.st[0].alert_left, D("0.83"));
		TEST_EQ_INT(eat(&b, ord, 1, 3, VIDEO, "3.33", u, &r), 0);
		TEST_EQ_INT(r.covered, D("0.83"));
		TEST_EQ_INT(u[0].qty, D("0.83"));
		TEST_EQ_INT(u[0].units, D("0.83"));
		TEST_EQ_INT(r.forgiven, forgive ? D("2.5") : 0);
		TEST_EQ_INT(r.rest, forgive ? 0 : D("2.5"));
		TEST_EQ_INT(b.st[0].left, 0);
		TEST_EQ_INT(b.st[0].alert_ts, 2);
		TEST_EQ_INT(b.st[0].alert_left, D("0.83"));
		/* the package covers only video */
		TEST_EQ_INT(eat(&b, ord, 1, 4, OTHER, "1", u, &r), 0);
		TEST_EQ_INT(r.nuse, 0);
		TEST_EQ_INT(r.rest, D("1"));
		pkg_book_release(&b);
	}
}

static void test_rounding(void)
{
	/* Quota 1, unit_cost 0.6, a record of 5: it needs 5 x 0.6 = 3 > 1,
	 * so it covers 1 / 0.6 = 1.6666666.. rounded DOWN to 6 decimals =
	 * 1.666666 (half up would give 1.666667), uses its whole 1, and
	 * 5 - 1.666666 = 3.333334 is rest. */
	struct package pk[1];
	struct pkg_book b;
	struct pkg_use u[1];
	struct pkg_result r;
	size_t ord[1];

	pk[0] = P("p", 0, 0, 1000, 0, "1", "0.6", 0, 0);
	book(&b, pk, 1, ord);
	TEST_EQ_INT(eat(&b, ord, 1, 1, API, "5", u, &r), 0);
	TEST_EQ_INT(r.covered, D("1.666666"));
	TEST_EQ_INT(u[0].units, D("1"));
	TEST_EQ_INT(r.rest, D("3.333334"));
	TEST_EQ_INT(b.st[0].left, 0);
	pkg_book_release(&b);

	/* What a package needs is rounded half up: 0.000003 x 0.5 =
	 * 0.0000015 -> 0.000002. A quota of 0.000002 then has enough: it
	 * covers the whole 0.000003 and keeps 0. */
	pk[0] = P("p", 0, 0, 1000, 0, "0.000002", "0.5", 0, 0);
	book(&b, pk, 1, ord);
	TEST_EQ_INT(eat(&b, ord, 1, 1, API, "0.000003", u, &r), 0);
	TEST_EQ_INT(r.covered, D("0.000003"));
	TEST_EQ_INT(u[0].units, D("0.000002"));
	TEST_EQ_INT(r.rest, 0);
	TEST_EQ_INT(b.st[0].left, 0);
	pkg_book_release(&b);
}

static void test_unlimited(void)
{
	/* limited (priority 0, quota 2) before unlimited (priority 10,
	 * unit_cost 0.2). A record of 5: limited covers 2, is exhausted;
	 * unlimited covers the other 3 for 3 x 0.2 = 0.6 units. Unlimited
	 * packages have no quota and no alert: its state is never touched,
	 * however much it covers (1000 more records of 7, 1.4 units each). */
	struct package pk[2];
	struct pkg_book b;
	struct pkg_use u[2];
	struct pkg_result r;
	size_t ord[2];
	int i, bad = 0;

	pk[0] = P("sub", 10, 0, 1000000, 0, NULL, "0.2", 0, 0);
	pk[1] = P("free", 0, 0, 1000000, 0, "2", "1", 0, 0);
	book(&b, pk, 2, ord);
	TEST_EQ_INT(eat(&b, ord, 2, 1, API, "5", u, &r), 0);
	TEST_EQ_INT(r.nuse, 2);
	TEST_EQ_INT(u[0].pkg, 1);
	TEST_EQ_INT(u[0].qty, D("2"));
	TEST_EQ_INT(u[1].pkg, 0);
	TEST_EQ_INT(u[1].qty, D("3"));
	TEST_EQ_INT(u[1].units, D("0.6"));
	TEST_EQ_INT(r.covered, D("5"));
	TEST_EQ_INT(r.rest, 0);
	for (i = 0; i < 1000; i++)
		if (eat(&b, ord, 2, 2 + i, API, "7", u, &r) || r.nuse != 1 ||
		    u[0].units != D("1.4") || r.covered != D("7"))
			bad++;
	TEST_EQ_INT(bad, 0);
	TEST_EQ_INT(b.st[0].alerted, 0);
	TEST_EQ_INT(b.st[0].left, 0);
	pkg_book_release(&b);
}

static void test_validity(void)
{
	/* valid_from <= ts < valid_to: at ts 99 and 200 the package is not
	 * eligible (all rest); at 100 and 199 it covers. */
	struct package pk[1];
	struct pkg_book b;
	struct pkg_use u[1];
	struct pkg_result r;
	size_t ord[1];

	pk[0] = P("p", 0, 100, 200, 0, "100", "1", 0, 0);
	book(&b, pk, 1, ord);
	TEST_EQ_INT(eat(&b, ord, 1, 99, API, "1", u, &r), 0);
	TEST_EQ_INT(r.rest, D("1"));
	TEST_EQ_INT(eat(&b, ord, 1, 200, API, "1", u, &r), 0);
	TEST_EQ_INT(r.rest, D("1"));
	TEST_EQ_INT(eat(&b, ord, 1, 100, API, "1", u, &r), 0);
	TEST_EQ_INT(r.covered, D("1"));
	TEST_EQ_INT(eat(&b, ord, 1, 199, API, "1", u, &r), 0);
	TEST_EQ_INT(r.covered, D("1"));
	TEST_EQ_INT(b.st[0].left, D("98"));
	/* a record of 0 touches nothing */
	TEST_EQ_INT(eat(&b, ord, 1, 150, API, "0", u, &r), 0);
	TEST_EQ_INT(r.nuse, 0);
	TEST_EQ_INT(r.rest, 0);
	pkg_book_release(&b);
}

static void test_overflow(void)
{
	/* 9000000000000 x 1000 does not fit a dec_t (max about 9.2e12):
	 * an error, never a wrapped number. */
	struct package pk[1];
	struct pkg_book b;
	struct pkg_use u[1];
	struct pkg_result r;
	struct pkg_rec rec;
	struct err e;
	size_t ord[1];

	pk[0] = P("p", 0, 0, 1000, 0, "1", "1000", 0, 0);
	book(&b, pk, 1, ord);
	rec.ts = 1;
	rec.q = D("9000000000000");
	rec.item = API;
	err_clear(&e);
	TEST_EQ_INT(pkg_consume(&b, ord, 1, &rec, u, &r, &e), -1);
	TEST_EQ_INT(e.code, ST_ERROR);
	TEST_EQ_STR(e.msg, "package units overflows");
	TEST_EQ_INT(r.nuse, 0);
	pkg_book_release(&b);
}

int main(void)
{
	items[API].code = code_api;
	items[VIDEO].code = code_video;
	items[OTHER].code = code_other;
	test_order();
	test_split();
	test_forgive();
	test_points();
	test_minutes();
	test_rounding();
	test_unlimited();
	test_validity();
	test_overflow();
	return TEST_REPORT();
}
