/* Unit tests for ts. Expected instants were computed independently of this
 * code (epoch arithmetic by hand, cross-checked with Python's datetime). */
#include "ts.h"

#include <stdint.h>
#include <string.h>

#include "testhelp.h"
#include "banned.h"

#define NA 0
#define DAY_NS (86400LL * TS_NS_PER_SEC)
#define P(y, m) ((y) * 12 + (m) - 1)

static int64_t parse_ok(const char *s)
{
	int64_t t = 0;

	TEST_EQ_INT(ts_parse(s, strlen(s), &t), 0);
	return t;
}

static void test_parse(void)
{
	static const struct {
		const char *s;
		int rc;
		int64_t t;
	} t[] = {
		{ "1970-01-01T00:00:00Z", 0, 0 },
		{ "1970-01-01T00:00:00+00:00", 0, 0 },
		{ "1970-01-01T00:00:00-00:00", 0, 0 },
		{ "1970-01-01T00:00:01Z", 0, 1000000000 },
		{ "1970-01-01T00:00:00.000000001Z", 0, 1 },
		{ "1970-01-01T00:00:00.5Z", 0, 500000000 },
		{ "1970-01-01T00:00:00.123456789Z", 0, 123456789 },
		{ "1970-01-01T00:00:00.100Z", 0, 100000000 },
		{ "1970-01-01T08:00:00+08:00", 0, 0 },
		{ "1969-12-31T19:00:00-05:00", 0, 0 },
		{ "1970-01-01T05:30:00+05:30", 0, 0 },
		{ "1969-12-31T23:59:59.999999999Z", 0, -1 },
		{ "1970-01-02T00:00:00Z", 0, DAY_NS },
		{ "2024-02-29T00:00:00Z", 0, 1709164800000000000LL },
		{ "2000-02-29T12:34:56Z", 0, 951827696000000000LL },
		{ "2026-01-31T16:00:00Z", 0, 1769875200000000000LL },
		{ "2026-02-01T00:00:00+08:00", 0, 1769875200000000000LL },
		{ "2026-03-15T10:20:30-05:00", 0, 1773588030000000000LL },
		{ "2026-03-15T15:20:30Z", 0, 1773588030000000000LL },
		{ "1678-01-01T00:00:00Z", 0, -9214560000000000000LL },
		{ "1678-01-01T00:00:00+23:59", 0, -9214646340000000000LL },
		{ "2261-12-31T23:59:59Z", 0, 9214646399000000000LL },
		{ "2261-12-31T23:59:59.999999999Z", 0, 9214646399999999999LL },
		{ "2261-12-31T23:59:59-23:59", 0, 9214732739000000000LL },
		/* calendar */
		{ "2023-02-29T00:00:00Z", -1, NA },
		{ "2026-02-30T00:00:00Z", -1, NA },
		{ "2026-02-29T00:00:00Z", -1, NA },
		{ "1900-02-29T00:00:00Z", -1, NA },
		{ "2100-02-29T00:00:00Z", -1, NA },
		{ "2026-04-31T00:00:00Z", -1, NA },
		{ "2026-13-01T00:00:00Z", -1, NA },
		{ "2026-00-10T00:00:00Z", -1, NA },
		{ "2026-01-00T00:00:00Z", -1, NA },
		{ "2026-01-32T00:00:00Z", -1, NA },
		{ "1677-12-31T23:59:59Z", -1, NA },
		{ "2262-01-01T00:00:00Z", -1, NA },
		{ "0000-01-01T00:00:00Z", -1, NA },
		{ "9999-12-31T23:59:59Z", -1, NA },
		/* clock */
		{ "2026-01-01T24:00:00Z", -1, NA },
		{ "2026-01-01T23:60:00Z", -1, NA },
		{ "2026-01-01T23:59:60Z", -1, NA },
		{ "2026-01-01T23:59:59Z", 0, 1767311999000000000LL },
		/* fraction */
		{ "1970-01-01T00:00:00.1234567890Z", -1, NA },
		{ "1970-01-01T00:00:00.Z", -1, NA },
		{ "1970-01-01T00:00:00.", -1, NA },
		{ "1970-01-01T00:00:00,5Z", -1, NA },
		{ "1970-01-01T00:00:00.5.5Z", -1, NA },
		/* letters and separators */
		{ "2026-01-01t00:00:00Z", -1, NA },
		{ "2026-01-01T00:00:00z", -1, NA },
		{ "2026-01-01 00:00:00Z", -1, NA },
		{ "2026/01/01T00:00:00Z", -1, NA },
		{ "2026-01-01T00.00.00Z", -1, NA },
		{ "2O26-01-01T00:00:00Z", -1, NA },
		{ "2026-1-01T00:00:00Z", -1, NA },
		{ "2026-01-01T0:00:00Z", -1, NA },
		{ "+2026-01-01T00:00:00Z", -1, NA },
		{ "-026-01-01T00:00:00Z", -1, NA },
		/* offsets */
		{ "2026-01-01T00:00:00", -1, NA },
		{ "2026-01-01T00:00:00+24:00", -1, NA },
		{ "2026-01-01T00:00:00+08:60", -1, NA },
		{ "2026-01-01T00:00:00+0800", -1, NA },
		{ "2026-01-01T00:00:00+08", -1, NA },
		{ "2026-01-01T00:00:00+08:00:00", -1, NA },
		{ "2026-01-01T00:00:00 +08:00", -1, NA },
		{ "2026-01-01T00:00:00Z ", -1, NA },
		{ "2026-01-01T00:00:00ZZ", -1, NA },
		{ "2026-01-01T00:00:00UTC", -1, NA },
		{ "2026-01-01", -1, NA },
		{ "", -1, NA },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int64_t v = 12345;
		int rc = ts_parse(t[i].s, strlen(t[i].s), &v);

		TEST_EQ_INT(rc, t[i].rc);
		if (rc == 0 && t[i].rc == 0)
			TEST_EQ_INT(v, t[i].t);
		if (rc != 0)
			TEST_EQ_INT(v, 12345);
		if (rc != t[i].rc)
			fprintf(stderr, "  for '%s'\n", t[i].s);
	}
	/* only s[0..n) counts */
	{
		const char *s = "1970-01-01T00:00:00Zjunk";
		int64_t v = 7;

		TEST_EQ_INT(ts_parse(s, 20, &v), 0);
		TEST_EQ_INT(v, 0);
		TEST_EQ_INT(ts_parse(s, 19, &v), -1);
		TEST_EQ_INT(ts_parse(s, 0, &v), -1);
		TEST_EQ_INT(ts_parse(NULL, 0, &v), -1);
	}
}

static void test_offset(void)
{
	static const struct {
		const char *s;
		int rc;
		int off;
	} t[] = {
		{ "Z", 0, 0 },
		{ "+00:00", 0, 0 },
		{ "-00:00", 0, 0 },
		{ "+08:00", 0, 28800 },
		{ "-05:00", 0, -18000 },
		{ "+05:30", 0, 19800 },
		{ "-09:30", 0, -34200 },
		{ "+23:59", 0, 86340 },
		{ "-23:59", 0, -86340 },
		{ "+24:00", -1, NA },
		{ "+08:60", -1, NA },
		{ "z", -1, NA },
		{ "08:00", -1, NA },
		{ "+8:00", -1, NA },
		{ "+0800", -1, NA },
		{ "+08:00 ", -1, NA },
		{ "UTC", -1, NA },
		{ "", -1, NA },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int off = 12345;
		int rc = ts_parse_offset(t[i].s, strlen(t[i].s), &off);

		TEST_EQ_INT(rc, t[i].rc);
		if (rc == 0 && t[i].rc == 0)
			TEST_EQ_INT(off, t[i].off);
	}
}

static void test_format(void)
{
	static const struct {
		int64_t t;
		int off;
		const char *s;
	} t[] = {
		{ 0, 0, "1970-01-01T00:00:00+00:00" },
		{ 0, 28800, "1970-01-01T08:00:00+08:00" },
		{ 0, -18000, "1969-12-31T19:00:00-05:00" },
		{ 0, 19800, "1970-01-01T05:30:00+05:30" },
		{ 0, -34200, "1969-12-31T14:30:00-09:30" },
		{ 500000000, 0, "1970-01-01T00:00:00.5+00:00" },
		{ 123456789, 0, "1970-01-01T00:00:00.123456789+00:00" },
		{ 120000000, 0, "1970-01-01T00:00:00.12+00:00" },
		{ 1000, 0, "1970-01-01T00:00:00.000001+00:00" },
		{ 1, 0, "1970-01-01T00:00:00.000000001+00:00" },
		{ -1, 0, "1969-12-31T23:59:59.999999999+00:00" },
		{ -1, 28800, "1970-01-01T07:59:59.999999999+08:00" },
		{ 1709164800000000000LL, 0, "2024-02-29T00:00:00+00:00" },
		{ 1769875200000000000LL, 28800, "2026-02-01T00:00:00+08:00" },
		{ 1769875200000000000LL, 0, "2026-01-31T16:00:00+00:00" },
		{ 1773588030000000000LL, -18000, "2026-03-15T10:20:30-05:00" },
		{ INT64_MAX, 0, "2262-04-11T23:47:16.854775807+00:00" },
		{ INT64_MIN, 0, "1677-09-21T00:12:43.145224192+00:00" },
		{ INT64_MAX, 86340, "2262-04-12T23:46:16.854775807+23:59" },
		{ INT64_MIN, -86340, "1677-09-20T00:13:43.145224192-23:59" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char buf[TS_MAX_TEXT];
		size_t n = ts_format(t[i].t, t[i].off, buf);

		TEST_EQ_STR(buf, t[i].s);
		TEST_EQ_INT(n, strlen(t[i].s));
	}
}

/* Canonical text parses and formats back to itself in its own offset. */
static void test_round_trip(void)
{
	static const char *const s[] = {
		"2026-01-01T00:00:00+00:00",
		"2026-01-31T23:59:59.999999999+08:00",
		"2024-02-29T12:00:00.5-05:00",
		"2000-02-29T00:00:00.000001+05:30",
		"1678-01-01T00:00:00+00:00",
		"1678-01-01T00:00:00+23:59",
		"2261-12-31T23:59:59.999999999+00:00",
		"2261-12-31T23:59:59-23:59",
		"1969-12-31T23:59:59.1-00:30",
		"2025-12-31T16:00:00+00:00",
	};
	size_t i;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		char buf[TS_MAX_TEXT];
		size_t n = strlen(s[i]);
		int64_t t = 0;
		int off = 0;

		TEST_EQ_INT(ts_parse(s[i], n, &t), 0);
		TEST_EQ_INT(ts_parse_offset(s[i] + n - 6, 6, &off), 0);
		ts_format(t, off, buf);
		TEST_EQ_STR(buf, s[i]);
	}
}

static void test_periods(void)
{
	int64_t t;
	int p = 0;
	char buf[8];

	/* Beijing: the last 8 hours of 31 January UTC are February */
	t = parse_ok("2026-01-31T16:00:00Z");
	TEST_EQ_INT(ts_period_of(t, 28800), P(2026, 2));
	TEST_EQ_INT(ts_period_of(t, 0), P(2026, 1));
	TEST_EQ_INT(ts_period_of(t - 1, 28800), P(2026, 1));
	TEST_EQ_INT(ts_period_start(P(2026, 2), 28800), t);
	/* New York style -05:00: February starts at 05:00Z */
	t = parse_ok("2026-02-01T05:00:00Z");
	TEST_EQ_INT(ts_period_of(t, -18000), P(2026, 2));
	TEST_EQ_INT(ts_period_of(t - 1, -18000), P(2026, 1));
	TEST_EQ_INT(ts_period_of(t, 0), P(2026, 2));
	TEST_EQ_INT(ts_period_start(P(2026, 2), -18000), t);
	TEST_EQ_INT(ts_period_start(P(2026, 2), -18000), 1769922000000000000LL);
	/* year boundary */
	t = parse_ok("2025-12-31T16:00:00Z");
	TEST_EQ_INT(ts_period_of(t, 28800), P(2026, 1));
	TEST_EQ_INT(ts_period_of(t - 1, 28800), P(2025, 12));
	TEST_EQ_INT(ts_period_start(P(2026, 1), 28800), t);
	TEST_EQ_INT(ts_period_start(P(2026, 1), 0), 1767225600000000000LL);
	TEST_EQ_INT(ts_period_start(P(2025, 12), 0), 1764547200000000000LL);
	TEST_EQ_INT(ts_period_of(1767225600000000000LL - 1, 0), P(2025, 12));
	/* month lengths */
	TEST_EQ_INT(ts_period_start(P(2024, 3), 0) - ts_period_start(P(2024, 2), 0),
		    29 * DAY_NS);
	TEST_EQ_INT(ts_period_start(P(2026, 3), 0) - ts_period_start(P(2026, 2), 0),
		    28 * DAY_NS);
	TEST_EQ_INT(ts_period_start(P(2100, 3), 0) - ts_period_start(P(2100, 2), 0),
		    28 * DAY_NS);
	TEST_EQ_INT(ts_period_start(P(2000, 3), 0) - ts_period_start(P(2000, 2), 0),
		    29 * DAY_NS);
	TEST_EQ_INT(ts_period_start(P(1970, 1), 0), 0);
	TEST_EQ_INT(ts_period_start(P(1970, 1), 28800), -28800 * TS_NS_PER_SEC);
	TEST_EQ_INT(ts_period_start(P(1969, 12), 0), -31 * DAY_NS);
	TEST_EQ_INT(ts_period_of(0, 0), P(1970, 1));
	TEST_EQ_INT(ts_period_of(0, -1), P(1969, 12));
	/* limits of the instant range */
	TEST_EQ_INT(ts_period_of(INT64_MIN, 0), P(1677, 9));
	TEST_EQ_INT(ts_period_of(INT64_MAX, 0), P(2262, 4));
	TEST_EQ_INT(ts_period_start(P(1678, 1), 0), -9214560000000000000LL);
	TEST_EQ_INT(ts_period_start(P(1678, 1), 86340), -9214646340000000000LL);
	TEST_EQ_INT(ts_period_start(P(2262, 1), -86340),
		    9214732740000000000LL);
	TEST_EQ_INT(ts_period_start(0, 0), INT64_MIN);       /* saturates */
	TEST_EQ_INT(ts_period_start(P(3000, 1), 0), INT64_MAX);

	/* parse */
	{
		static const struct {
			const char *s;
			int rc;
			int p;
		} pt[] = {
			{ "2026-01", 0, P(2026, 1) },
			{ "2026-12", 0, P(2026, 12) },
			{ "1970-01", 0, 23640 },
			{ "1678-01", 0, P(1678, 1) },
			{ "2261-12", 0, P(2261, 12) },
			{ "1677-12", -1, NA },
			{ "2262-01", -1, NA },
			{ "2026-13", -1, NA },
			{ "2026-00", -1, NA },
			{ "2026-1", -1, NA },
			{ "26-01", -1, NA },
			{ "202601", -1, NA },
			{ "2026-01 ", -1, NA },
			{ " 2026-01", -1, NA },
			{ "2026/01", -1, NA },
			{ "2026-01-01", -1, NA },
			{ "+026-01", -1, NA },
			{ "", -1, NA },
		};
		size_t i;

		for (i = 0; i < sizeof(pt) / sizeof(pt[0]); i++) {
			p = 12345;
			TEST_EQ_INT(ts_period_parse(pt[i].s, &p), pt[i].rc);
			if (pt[i].rc == 0)
				TEST_EQ_INT(p, pt[i].p);
		}
		TEST_EQ_INT(ts_period_parse(NULL, &p), -1);
	}

	/* format */
	TEST_EQ_INT(ts_period_format(P(2026, 1), 1, buf), 7);
	TEST_EQ_STR(buf, "2026-01");
	TEST_EQ_INT(ts_period_format(P(2026, 1), 0, buf), 6);
	TEST_EQ_STR(buf, "202601");
	TEST_EQ_INT(ts_period_format(P(2025, 12), 1, buf), 7);
	TEST_EQ_STR(buf, "2025-12");
	TEST_EQ_INT(ts_period_format(P(1678, 1), 0, buf), 6);
	TEST_EQ_STR(buf, "167801");
	TEST_EQ_INT(ts_period_parse("2024-02", &p), 0);
	ts_period_format(p, 1, buf);
	TEST_EQ_STR(buf, "2024-02");
}

static void test_add_days(void)
{
	int64_t r = 0;

	TEST_EQ_INT(ts_add_days(0, 1, &r), 0);
	TEST_EQ_INT(r, DAY_NS);
	TEST_EQ_INT(ts_add_days(0, -1, &r), 0);
	TEST_EQ_INT(r, -DAY_NS);
	TEST_EQ_INT(ts_add_days(parse_ok("2024-02-14T10:00:00Z"), 15, &r), 0);
	TEST_EQ_INT(r, parse_ok("2024-02-29T10:00:00Z"));
	TEST_EQ_INT(ts_add_days(parse_ok("2026-02-14T10:00:00Z"), 15, &r), 0);
	TEST_EQ_INT(r, parse_ok("2026-03-01T10:00:00Z"));
	TEST_EQ_INT(ts_add_days(5, 0, &r), 0);
	TEST_EQ_INT(r, 5);
	TEST_EQ_INT(ts_add_days(0, 106751, &r), 0);
	TEST_EQ_INT(r, 9223286400000000000LL);
	r = 77;
	TEST_EQ_INT(ts_add_days(0, 106752, &r), -1);
	TEST_EQ_INT(r, 77);
	TEST_EQ_INT(ts_add_days(0, -106752, &r), -1);
	TEST_EQ_INT(ts_add_days(INT64_MAX, 1, &r), -1);
	TEST_EQ_INT(ts_add_days(INT64_MIN, -1, &r), -1);
	TEST_EQ_INT(ts_add_days(0, INT64_MAX, &r), -1);
	TEST_EQ_INT(ts_add_days(0, INT64_MIN, &r), -1);
	TEST_EQ_INT(ts_add_days(INT64_MAX, -1, &r), 0);
	TEST_EQ_INT(r, INT64_MAX - DAY_NS);
}

/* Mutated and random inputs: nothing crashes (run under sanitizers), and
 * whatever parses formats back to text that parses to the same instant. */
static void test_fuzz(void)
{
	static const char *const seeds[] = {
		"2026-01-31T23:59:59.123456789+08:00",
		"2024-02-29T00:00:00Z",
		"1678-01-01T00:00:00-23:59",
		"2261-12-31T23:59:59.9+23:59",
	};
	static const char alphabet[] = "0123456789-:T.Z+ tz9";
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	int i, bad = 0, ok = 0;

	for (i = 0; i < 200000; i++) {
		char s[64], buf[TS_MAX_TEXT];
		const char *seed = seeds[i % 4];
		size_t n = strlen(seed), k;
		int64_t t, t2;
		int muts, off = 0;

		memcpy(s, seed, n);
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		for (muts = (int)(x >> 60) % 4 + 1; muts > 0; muts--) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			k = (size_t)(x >> 33) % (n + 1);
			if (k < n)
				s[k] = alphabet[(x >> 20) % (sizeof(alphabet) - 1)];
			else if ((x >> 20) & 1 && n > 0)
				n--;
			else if (n < sizeof(s))
				s[n++] = alphabet[(x >> 24) % (sizeof(alphabet) - 1)];
		}
		if (ts_parse(s, n, &t) < 0)
			continue;
		ok++;
		/* in its own offset: in UTC the year may leave 1678..2261 */
		if (s[n - 1] == 'Z')
			off = 0;
		else if (ts_parse_offset(s + n - 6, 6, &off) < 0)
			bad++;
		ts_format(t, off, buf);
		if (ts_parse(buf, strlen(buf), &t2) < 0 || t2 != t) {
			fprintf(stderr, "%.*s -> %s\n", (int)n, s, buf);
			bad++;
		}
	}
	TEST_TRUE(ok > 0);
	TEST_EQ_INT(bad, 0);
}

/* Offsets outside what ts_parse_offset yields must not overflow either. */
static void test_extreme_offsets(void)
{
	static const int off[] = { INT32_MIN, INT32_MAX, -86399, 86399, 59 };
	size_t i;

	for (i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		char buf[TS_MAX_TEXT];
		size_t n;

		n = ts_format(INT64_MIN, off[i], buf);
		TEST_TRUE(n > 0 && n < TS_MAX_TEXT && strlen(buf) == n);
		n = ts_format(INT64_MAX, off[i], buf);
		TEST_TRUE(n > 0 && n < TS_MAX_TEXT && strlen(buf) == n);
		(void)ts_period_of(INT64_MIN, off[i]);
		(void)ts_period_of(INT64_MAX, off[i]);
		(void)ts_period_start(INT32_MIN, off[i]);
		(void)ts_period_start(INT32_MAX, off[i]);
	}
	{
		char buf[TS_MAX_TEXT];

		ts_format(0, INT32_MIN, buf);
		TEST_EQ_STR(buf, "1901-12-13T20:45:52-596523:14");
	}
}

int main(void)
{
	test_parse();
	test_offset();
	test_format();
	test_round_trip();
	test_periods();
	test_add_days();
	test_fuzz();
	test_extreme_offsets();
	return TEST_REPORT();
}
