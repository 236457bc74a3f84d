/* Unit tests for dec: every expected value below was worked out by hand. */
#include "dec.h"

#include <stdint.h>
#include <string.h>

#include "testhelp.h"
#include "banned.h"

#define NA 0 /* expected value when the call must fail */

/* 10^36 without a 128-bit literal */
#define E36 ((dec_wide)1000000000000000000LL * 1000000000000000000LL)
#define E18 1000000000000000000LL

static void test_parse(void)
{
	static const struct {
		const char *s;
		int rc;
		dec_t v;
	} t[] = {
		{ "0", 0, 0 },
		{ "7", 0, 7000000 },
		{ "007", 0, 7000000 },
		{ "1.5", 0, 1500000 },
		{ "0.5", 0, 500000 },
		{ "00.50", 0, 500000 },
		{ "0.000001", 0, 1 },
		{ "2.333333", 0, 2333333 },
		{ "1.000000", 0, 1000000 },
		{ "15000", 0, 15000000000LL },
		{ "9223372036854.775807", 0, INT64_MAX },
		{ "0009223372036854.775807", 0, INT64_MAX },
		{ "9223372036854", 0, 9223372036854000000LL },
		{ "9223372036854.775808", -1, NA },
		{ "9223372036854.8", -1, NA },
		{ "9223372036855", -1, NA },
		{ "99999999999999999999999999999999999999999", -1, NA },
		{ "1.1234567", -1, NA },
		{ "0.0000001", -1, NA },
		{ "1e9", -1, NA },
		{ "1E9", -1, NA },
		{ "-0", -1, NA },
		{ "-1", -1, NA },
		{ "+1", -1, NA },
		{ "0x10", -1, NA },
		{ " 1", -1, NA },
		{ "1 ", -1, NA },
		{ "1,000", -1, NA },
		{ "1_000", -1, NA },
		{ "", -1, NA },
		{ ".", -1, NA },
		{ "1.", -1, NA },
		{ ".5", -1, NA },
		{ "1.2.3", -1, NA },
		{ "1..2", -1, NA },
		{ "nan", -1, NA },
		{ "1.5-", -1, NA },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		dec_t v = 12345;
		int rc = dec_parse(t[i].s, strlen(t[i].s), &v);

		TEST_EQ_INT(rc, t[i].rc);
		if (rc == 0 && t[i].rc == 0)
			TEST_EQ_INT(v, t[i].v);
		if (rc != 0)
			TEST_EQ_INT(v, 12345); /* untouched on failure */
	}
	/* Only s[0..n) counts. */
	{
		dec_t v;

		TEST_EQ_INT(dec_parse("1.25xyz", 4, &v), 0);
		TEST_EQ_INT(v, 1250000);
		TEST_EQ_INT(dec_parse("1\0", 2, &v), -1);
		TEST_EQ_INT(dec_parse(NULL, 0, &v), -1);
	}
}

static void test_parse_signed(void)
{
	static const struct {
		const char *s;
		int rc;
		dec_t v;
	} t[] = {
		{ "-12.50", 0, -12500000 },
		{ "12.50", 0, 12500000 },
		{ "-0", 0, 0 },
		{ "-0.000", 0, 0 },
		{ "0", 0, 0 },
		{ "-0.000001", 0, -1 },
		{ "-9223372036854.775807", 0, -INT64_MAX },
		{ "-9223372036854.775808", 0, INT64_MIN },
		{ "-9223372036854.775809", -1, NA },
		{ "9223372036854.775808", -1, NA },
		{ "-", -1, NA },
		{ "--1", -1, NA },
		{ "-+1", -1, NA },
		{ "+1", -1, NA },
		{ "- 1", -1, NA },
		{ "1-", -1, NA },
		{ "-.5", -1, NA },
		{ "-1.", -1, NA },
		{ "-1e2", -1, NA },
		{ "", -1, NA },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		dec_t v = 12345;
		int rc = dec_parse_signed(t[i].s, strlen(t[i].s), &v);

		TEST_EQ_INT(rc, t[i].rc);
		if (rc == 0 && t[i].rc == 0)
			TEST_EQ_INT(v, t[i].v);
	}
}

static void test_parse_int(void)
{
	static const struct {
		const char *s;
		int rc;
		int64_t v;
	} t[] = {
		{ "0", 0, 0 },
		{ "007", 0, 7 },
		{ "42", 0, 42 },
		{ "999999999999999999", 0, 999999999999999999LL },
		{ "000000000000000000", 0, 0 },
		{ "1000000000000000000", -1, NA },
		{ "0000000000000000001", -1, NA },
		{ "", -1, NA },
		{ "-1", -1, NA },
		{ "+1", -1, NA },
		{ "1.0", -1, NA },
		{ " 1", -1, NA },
		{ "1 ", -1, NA },
		{ "1e3", -1, NA },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int64_t v = 12345;
		int rc = dec_parse_int(t[i].s, strlen(t[i].s), &v);

		TEST_EQ_INT(rc, t[i].rc);
		if (rc == 0 && t[i].rc == 0)
			TEST_EQ_INT(v, t[i].v);
	}
}

static void test_format(void)
{
	static const struct {
		dec_t v;
		const char *s;
	} t[] = {
		{ 0, "0" },
		{ 1, "0.000001" },
		{ -1, "-0.000001" },
		{ 100, "0.0001" },
		{ 500000, "0.5" },
		{ 1200000, "1.2" },
		{ 2333333, "2.333333" },
		{ 15000000000LL, "15000" },
		{ -3000000, "-3" },
		{ -250000, "-0.25" },
		{ 1000000, "1" },
		{ 10000000, "10" },
		{ 1010000, "1.01" },
		{ INT64_MAX, "9223372036854.775807" },
		{ INT64_MIN, "-9223372036854.775808" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char buf[DEC_MAX_TEXT];
		size_t n = dec_format(t[i].v, buf);

		TEST_EQ_STR(buf, t[i].s);
		TEST_EQ_INT(n, strlen(t[i].s));
	}
}

static void test_format_fixed(void)
{
	static const struct {
		dec_t v;
		int digits;
		const char *s;
	} t[] = {
		{ 2000000000, 2, "2000.00" },
		{ -1500000, 2, "-1.50" },
		{ 5000000, 0, "5" },
		{ -5000000, 0, "-5" },
		{ 0, 2, "0.00" },
		{ 0, 0, "0" },
		{ 0, 6, "0.000000" },
		{ 1234000, 3, "1.234" },
		{ 7, 6, "0.000007" },
		{ 1239000, 2, "1.23" },  /* extra digits are cut */
		{ -1, 2, "0.00" },       /* no "-0.00" */
		{ -10000, 2, "-0.01" },
		{ INT64_MAX, 6, "9223372036854.775807" },
		{ INT64_MIN, 6, "-9223372036854.775808" },
		{ INT64_MIN, 0, "-9223372036854" },
		{ INT64_MAX, 2, "9223372036854.77" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char buf[DEC_MAX_TEXT];
		size_t n = dec_format_fixed(t[i].v, t[i].digits, buf);

		TEST_EQ_STR(buf, t[i].s);
		TEST_EQ_INT(n, strlen(t[i].s));
	}
}

static void test_add_sub(void)
{
	dec_t r = 0;

	TEST_EQ_INT(dec_add(1500000, 2250000, &r), 0);
	TEST_EQ_INT(r, 3750000);
	TEST_EQ_INT(dec_add(INT64_MIN, INT64_MAX, &r), 0);
	TEST_EQ_INT(r, -1);
	TEST_EQ_INT(dec_add(INT64_MAX, 0, &r), 0);
	TEST_EQ_INT(r, INT64_MAX);
	TEST_EQ_INT(dec_add(INT64_MAX, 1, &r), -1);
	TEST_EQ_INT(dec_add(INT64_MIN, -1, &r), -1);
	TEST_EQ_INT(dec_sub(1000000, 2500000, &r), 0);
	TEST_EQ_INT(r, -1500000);
	TEST_EQ_INT(dec_sub(INT64_MIN, 1, &r), -1);
	TEST_EQ_INT(dec_sub(0, INT64_MIN, &r), -1);
	TEST_EQ_INT(dec_sub(-1, INT64_MIN, &r), 0);
	TEST_EQ_INT(r, INT64_MAX);
}

static void test_round(void)
{
	static const struct {
		dec_t v;
		int digits;
		enum dec_round mode;
		int rc;
		dec_t r;
	} t[] = {
		/* .5 at digits 0, every mode, both signs */
		{ 2500000, 0, DEC_HALF_UP, 0, 3000000 },
		{ 2500000, 0, DEC_HALF_EVEN, 0, 2000000 },
		{ 2500000, 0, DEC_UP, 0, 3000000 },
		{ 2500000, 0, DEC_DOWN, 0, 2000000 },
		{ -2500000, 0, DEC_HALF_UP, 0, -3000000 },
		{ -2500000, 0, DEC_HALF_EVEN, 0, -2000000 },
		{ -2500000, 0, DEC_UP, 0, -3000000 },
		{ -2500000, 0, DEC_DOWN, 0, -2000000 },
		{ 3500000, 0, DEC_HALF_EVEN, 0, 4000000 },
		{ -3500000, 0, DEC_HALF_EVEN, 0, -4000000 },
		{ 500000, 0, DEC_HALF_UP, 0, 1000000 },
		{ 500000, 0, DEC_HALF_EVEN, 0, 0 },
		{ 500000, 0, DEC_UP, 0, 1000000 },
		{ 500000, 0, DEC_DOWN, 0, 0 },
		{ -500000, 0, DEC_HALF_UP, 0, -1000000 },
		{ -500000, 0, DEC_HALF_EVEN, 0, 0 },
		{ -500000, 0, DEC_UP, 0, -1000000 },
		{ -500000, 0, DEC_DOWN, 0, 0 },
		/* below and above the half */
		{ 2499999, 0, DEC_HALF_UP, 0, 2000000 },
		{ 2499999, 0, DEC_UP, 0, 3000000 },
		{ 2500001, 0, DEC_HALF_EVEN, 0, 3000000 },
		{ -2499999, 0, DEC_HALF_UP, 0, -2000000 },
		{ -2499999, 0, DEC_UP, 0, -3000000 },
		{ -2499999, 0, DEC_DOWN, 0, -2000000 },
		{ 2600000, 0, DEC_DOWN, 0, 2000000 },
		{ -2600000, 0, DEC_HALF_EVEN, 0, -3000000 },
		/* digits 2: banker's vs commercial */
		{ 125000, 2, DEC_HALF_EVEN, 0, 120000 },
		{ 135000, 2, DEC_HALF_EVEN, 0, 140000 },
		{ 125000, 2, DEC_HALF_UP, 0, 130000 },
		{ -125000, 2, DEC_HALF_EVEN, 0, -120000 },
		{ -135000, 2, DEC_HALF_EVEN, 0, -140000 },
		{ -125000, 2, DEC_HALF_UP, 0, -130000 },
		{ 125000, 2, DEC_UP, 0, 130000 },
		{ 125000, 2, DEC_DOWN, 0, 120000 },
		{ 125001, 2, DEC_HALF_EVEN, 0, 130000 },
		/* the smallest unit */
		{ 1, 0, DEC_UP, 0, 1000000 },
		{ -1, 0, DEC_UP, 0, -1000000 },
		{ 1, 0, DEC_DOWN, 0, 0 },
		{ 1, 0, DEC_HALF_UP, 0, 0 },
		{ 1, 5, DEC_UP, 0, 10 },
		{ 5, 5, DEC_HALF_UP, 0, 10 },
		{ 5, 5, DEC_HALF_EVEN, 0, 0 },
		{ 15, 5, DEC_HALF_EVEN, 0, 20 },
		/* digits 6 and zero are identities */
		{ 1234567, 6, DEC_UP, 0, 1234567 },
		{ -1234567, 6, DEC_HALF_EVEN, 0, -1234567 },
		{ 0, 0, DEC_UP, 0, 0 },
		{ 0, 3, DEC_HALF_UP, 0, 0 },
		{ 1234500, 3, DEC_HALF_EVEN, 0, 1234000 },
		{ 1234500, 3, DEC_HALF_UP, 0, 1235000 },
		/* limits */
		{ INT64_MAX, 6, DEC_UP, 0, INT64_MAX },
		{ INT64_MAX, 0, DEC_DOWN, 0, 9223372036854000000LL },
		{ INT64_MAX, 0, DEC_HALF_UP, -1, NA },
		{ INT64_MAX, 0, DEC_UP, -1, NA },
		{ INT64_MAX, 5, DEC_HALF_UP, -1, NA },
		{ INT64_MAX, 5, DEC_DOWN, 0, 9223372036854775800LL },
		{ INT64_MIN, 0, DEC_DOWN, 0, -9223372036854000000LL },
		{ INT64_MIN, 0, DEC_UP, -1, NA },
		{ INT64_MIN, 0, DEC_HALF_UP, -1, NA },
		{ INT64_MIN, 6, DEC_HALF_UP, 0, INT64_MIN },
		/* bad arguments */
		{ 1, 7, DEC_HALF_UP, -1, NA },
		{ 1, -1, DEC_HALF_UP, -1, NA },
		{ 1, 2, (enum dec_round)9, -1, NA },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		dec_t r = 12345;
		int rc = dec_round(t[i].v, t[i].digits, t[i].mode, &r);

		TEST_EQ_INT(rc, t[i].rc);
		if (rc == 0 && t[i].rc == 0)
			TEST_EQ_INT(r, t[i].r);
		if (rc != 0)
			TEST_EQ_INT(r, 12345);
		/* dec_wide_round agrees on every dec_t */
		r = 12345;
		rc = dec_wide_round(dec_wide_from(t[i].v), t[i].digits,
				    t[i].mode, &r);
		TEST_EQ_INT(rc, t[i].rc);
		if (rc == 0 && t[i].rc == 0)
			TEST_EQ_INT(r, t[i].r);
	}
}

static void test_mul(void)
{
	static const struct {
		dec_t a, b;
		int digits;
		enum dec_round mode;
		int rc;
		dec_t r;
	} t[] = {
		{ 2333333, 16000000, 6, DEC_HALF_UP, 0, 37333328 },
		{ 2333333, 16000000, 2, DEC_HALF_UP, 0, 37330000 },
		{ 1500000, 1500000, 1, DEC_HALF_UP, 0, 2300000 },
		{ 1500000, 1500000, 1, DEC_HALF_EVEN, 0, 2200000 },
		{ 1500000, 1500000, 1, DEC_UP, 0, 2300000 },
		{ 1500000, 1500000, 1, DEC_DOWN, 0, 2200000 },
		{ -1500000, 1500000, 1, DEC_HALF_UP, 0, -2300000 },
		{ -1500000, 1500000, 1, DEC_HALF_EVEN, 0, -2200000 },
		{ 1500000, -1500000, 1, DEC_UP, 0, -2300000 },
		{ -1500000, -1500000, 1, DEC_DOWN, 0, 2200000 },
		/* 0.000001 * 0.5 = 0.0000005 */
		{ 1, 500000, 6, DEC_HALF_UP, 0, 1 },
		{ 1, 500000, 6, DEC_HALF_EVEN, 0, 0 },
		{ 1, 500000, 6, DEC_UP, 0, 1 },
		{ 1, 500000, 6, DEC_DOWN, 0, 0 },
		{ -1, 500000, 6, DEC_HALF_UP, 0, -1 },
		{ 1, 1, 6, DEC_UP, 0, 1 },
		{ 1, 1, 6, DEC_HALF_UP, 0, 0 },
		/* 0.999999 * 0.005 = 0.004999995: one rounding gives 0.00,
		 * rounding to 6 digits first would give 0.01 */
		{ 999999, 5000, 2, DEC_HALF_UP, 0, 0 },
		{ 999999, 5000, 6, DEC_HALF_UP, 0, 5000 },
		{ 0, INT64_MAX, 0, DEC_UP, 0, 0 },
		{ INT64_MIN, 1000000, 6, DEC_HALF_UP, 0, INT64_MIN },
		{ INT64_MAX, -1000000, 6, DEC_HALF_UP, 0, -INT64_MAX },
		/* 3,000,000 * 3,000,000 = 9e12 fits, 3.1e6 squared does not */
		{ 3000000000000LL, 3000000000000LL, 6, DEC_HALF_UP, 0,
		  9000000000000000000LL },
		{ 3100000000000LL, 3100000000000LL, 6, DEC_HALF_UP, -1, NA },
		{ INT64_MAX, 2000000, 6, DEC_HALF_UP, -1, NA },
		{ INT64_MIN, -1000000, 6, DEC_HALF_UP, -1, NA },
		{ INT64_MIN, INT64_MIN, 0, DEC_DOWN, -1, NA },
		{ 1, 1, 7, DEC_HALF_UP, -1, NA },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		dec_t r = 12345;
		int rc = dec_mul(t[i].a, t[i].b, t[i].digits, t[i].mode, &r);

		TEST_EQ_INT(rc, t[i].rc);
		if (rc == 0 && t[i].rc == 0)
			TEST_EQ_INT(r, t[i].r);
	}
}

static void test_div(void)
{
	static const struct {
		dec_t a, b;
		int digits;
		enum dec_round mode;
		int rc;
		dec_t r;
	} t[] = {
		{ 140000000, 60000000, 6, DEC_HALF_UP, 0, 2333333 },
		{ 250000000, 60000000, 2, DEC_HALF_UP, 0, 4170000 },
		{ 250000000, 60000000, 2, DEC_HALF_EVEN, 0, 4170000 },
		{ 250000000, 60000000, 2, DEC_DOWN, 0, 4160000 },
		{ 250000000, 60000000, 2, DEC_UP, 0, 4170000 },
		{ -250000000, 60000000, 2, DEC_HALF_UP, 0, -4170000 },
		{ 250000000, -60000000, 2, DEC_HALF_UP, 0, -4170000 },
		{ -250000000, -60000000, 2, DEC_HALF_UP, 0, 4170000 },
		{ -250000000, 60000000, 2, DEC_DOWN, 0, -4160000 },
		/* 1 / 8 = 0.125 */
		{ 1000000, 8000000, 2, DEC_HALF_EVEN, 0, 120000 },
		{ 1000000, 8000000, 2, DEC_HALF_UP, 0, 130000 },
		{ -1000000, 8000000, 2, DEC_HALF_EVEN, 0, -120000 },
		{ -1000000, 8000000, 2, DEC_HALF_UP, 0, -130000 },
		{ 1000000, 3000000, 6, DEC_HALF_UP, 0, 333333 },
		{ 1000000, 3000000, 6, DEC_UP, 0, 333334 },
		{ 2000000, 3000000, 6, DEC_DOWN, 0, 666666 },
		{ 2000000, 3000000, 6, DEC_HALF_UP, 0, 666667 },
		{ 5000000, 2000000, 0, DEC_HALF_EVEN, 0, 2000000 },
		{ 5000000, 2000000, 0, DEC_HALF_UP, 0, 3000000 },
		{ 2, 3, 0, DEC_HALF_UP, 0, 1000000 },
		{ 1, 3, 6, DEC_HALF_UP, 0, 333333 },
		{ 15000000000LL, 60000000, 6, DEC_HALF_UP, 0, 250000000 },
		{ 0, 7000000, 6, DEC_UP, 0, 0 },
		{ INT64_MIN, INT64_MIN, 6, DEC_HALF_UP, 0, 1000000 },
		{ INT64_MIN, 1000000, 6, DEC_HALF_UP, 0, INT64_MIN },
		{ 1, INT64_MIN, 6, DEC_UP, 0, -1 },
		{ 1, INT64_MIN, 6, DEC_HALF_UP, 0, 0 },
		{ INT64_MAX, INT64_MAX, 0, DEC_DOWN, 0, 1000000 },
		{ INT64_MIN, -1000000, 6, DEC_HALF_UP, -1, NA },
		{ INT64_MAX, 500000, 6, DEC_HALF_UP, -1, NA },
		{ INT64_MAX, 1, 0, DEC_DOWN, -1, NA },
		{ 1000000, 0, 6, DEC_HALF_UP, -1, NA },
		{ 0, 0, 6, DEC_HALF_UP, -1, NA },
		{ 1000000, 1000000, 7, DEC_HALF_UP, -1, NA },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		dec_t r = 12345;
		int rc = dec_div(t[i].a, t[i].b, t[i].digits, t[i].mode, &r);

		TEST_EQ_INT(rc, t[i].rc);
		if (rc == 0 && t[i].rc == 0)
			TEST_EQ_INT(r, t[i].r);
	}
}

/* dec_percent: tax = net x rate / 100, rounded once to the minor unit.
 * Values in millionths; expected by hand. */
static void test_percent(void)
{
	static const struct {
		dec_t v, pct;
		int digits;
		enum dec_round mode;
		int rc;
		dec_t want;
	} t[] = {
		/* 100.00 at 19%: 19.00 exactly */
		{ 100000000, 19000000, 2, DEC_HALF_UP, 0, 19000000 },
		/* 0 at any rate, any value at 0%: 0 */
		{ 0, 19000000, 2, DEC_HALF_UP, 0, 0 },
		{ 123450000, 0, 2, DEC_HALF_UP, 0, 0 },
		/* 10.05 x 6% = 0.603 -> 0.60 */
		{ 10050000, 6000000, 2, DEC_HALF_UP, 0, 600000 },
		/* 0.25 x 10% = 0.025: a tie; half_up 0.03, half_even 0.02,
		 * up 0.03, down 0.02 */
		{ 250000, 10000000, 2, DEC_HALF_UP, 0, 30000 },
		{ 250000, 10000000, 2, DEC_HALF_EVEN, 0, 20000 },
		{ 250000, 10000000, 2, DEC_UP, 0, 30000 },
		{ 250000, 10000000, 2, DEC_DOWN, 0, 20000 },
		/* 0.35 x 10% = 0.035: half_even goes to the even 0.04 */
		{ 350000, 10000000, 2, DEC_HALF_EVEN, 0, 40000 },
		/* 8.1%: 33.33 x 8.1 / 100 = 2.69973 -> 2.70 */
		{ 33330000, 8100000, 2, DEC_HALF_UP, 0, 2700000 },
		/* rounded once, not twice: 1.00 x 0.4999995% = 0.004999995
		 * -> 0.00 (a first rounding to 6 digits would give 0.005000
		 * and then 0.01) */
		{ 1000000, 499999, 2, DEC_HALF_UP, 0, 0 },
		/* 0 minor digits (JPY): 1234 x 10% = 123.4 -> 123; 1235 x
		 * 10% = 123.5 -> 124 half_up */
		{ 1234000000, 10000000, 0, DEC_HALF_UP, 0, 123000000 },
		{ 1235000000, 10000000, 0, DEC_HALF_UP, 0, 124000000 },
		/* 3 digits (KWD): 1.234 x 5% = 0.0617 -> 0.062 */
		{ 1234000, 5000000, 3, DEC_HALF_UP, 0, 62000 },
		/* negative (a credit): symmetric, -0.25 x 10% -> -0.03 */
		{ -250000, 10000000, 2, DEC_HALF_UP, 0, -30000 },
		/* 100% of the largest value fits; the product of two huge
		 * values does not */
		{ INT64_MAX, 100000000, 6, DEC_HALF_UP, 0, INT64_MAX },
		{ INT64_MAX, INT64_MAX, 2, DEC_HALF_UP, -1, 0 },
		/* bad digits or mode */
		{ 1000000, 1000000, 7, DEC_HALF_UP, -1, 0 },
		{ 1000000, 1000000, -1, DEC_HALF_UP, -1, 0 },
		{ 1000000, 1000000, 2, (enum dec_round)9, -1, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		dec_t r = 0;
		int rc = dec_percent(t[i].v, t[i].pct, t[i].digits, t[i].mode,
				     &r);

		TEST_EQ_INT(rc, t[i].rc);
		if (rc == 0)
			TEST_EQ_INT(r, t[i].want);
	}
}

static void test_wide(void)
{
	dec_wide w = 0;
	dec_t r = 0;

	/* 2.333333 * 16 = 37.333328 exactly, then 37.33 */
	w = dec_wide_mul(2333333, 16000000);
	TEST_TRUE(w == (dec_wide)37333328000000LL);
	TEST_EQ_INT(dec_wide_round(w, 2, DEC_HALF_UP, &r), 0);
	TEST_EQ_INT(r, 37330000);
	TEST_EQ_INT(dec_wide_round(w, 6, DEC_HALF_UP, &r), 0);
	TEST_EQ_INT(r, 37333328);

	TEST_TRUE(dec_wide_mul(INT64_MIN, INT64_MIN) == (dec_wide)1 << 126);
	TEST_TRUE(dec_wide_mul(INT64_MIN, INT64_MAX) ==
		  -((dec_wide)1 << 126) + ((dec_wide)1 << 63));
	TEST_TRUE(dec_wide_from(1500000) == (dec_wide)1500000000000LL);
	TEST_TRUE(dec_wide_from(-1) == -(dec_wide)1000000);
	TEST_TRUE(dec_wide_from(INT64_MIN) == (dec_wide)INT64_MIN * 1000000);

	/* sums: exact, bounded at +-10^36 inclusive */
	TEST_EQ_INT(dec_wide_add(dec_wide_mul(1, 1), dec_wide_mul(2, 3), &w), 0);
	TEST_TRUE(w == 7);
	TEST_EQ_INT(dec_wide_add(E36, 0, &w), 0);
	TEST_TRUE(w == E36);
	TEST_EQ_INT(dec_wide_add(-E36, 0, &w), 0);
	TEST_TRUE(w == -E36);
	w = 5;
	TEST_EQ_INT(dec_wide_add(E36, 1, &w), -1);
	TEST_TRUE(w == 5);
	TEST_EQ_INT(dec_wide_add(-E36, -1, &w), -1);
	TEST_EQ_INT(dec_wide_add(E36 * 100, E36 * 100, &w), -1);
	TEST_EQ_INT(dec_wide_add(E36 * 100, -E36 * 100, &w), 0);
	TEST_TRUE(w == 0);

	/* the 12th decimal counts: 0.0000005 and 0.0000015 */
	TEST_EQ_INT(dec_wide_round(500000, 6, DEC_HALF_UP, &r), 0);
	TEST_EQ_INT(r, 1);
	TEST_EQ_INT(dec_wide_round(500000, 6, DEC_HALF_EVEN, &r), 0);
	TEST_EQ_INT(r, 0);
	TEST_EQ_INT(dec_wide_round(1500000, 6, DEC_HALF_EVEN, &r), 0);
	TEST_EQ_INT(r, 2);
	TEST_EQ_INT(dec_wide_round(-500000, 6, DEC_HALF_UP, &r), 0);
	TEST_EQ_INT(r, -1);
	TEST_EQ_INT(dec_wide_round(1, 6, DEC_UP, &r), 0);
	TEST_EQ_INT(r, 1);
	TEST_EQ_INT(dec_wide_round(-1, 6, DEC_UP, &r), 0);
	TEST_EQ_INT(r, -1);
	TEST_EQ_INT(dec_wide_round(999999999999LL, 2, DEC_DOWN, &r), 0);
	TEST_EQ_INT(r, 990000);
	TEST_EQ_INT(dec_wide_round(4999999999LL, 2, DEC_HALF_UP, &r), 0);
	TEST_EQ_INT(r, 0); /* 0.004999999999 */
	TEST_EQ_INT(dec_wide_round(5000000000LL, 2, DEC_HALF_UP, &r), 0);
	TEST_EQ_INT(r, 10000); /* 0.005 */
	/* 0.125 and 0.135 in banker's rounding */
	TEST_EQ_INT(dec_wide_round(125000000000LL, 2, DEC_HALF_EVEN, &r), 0);
	TEST_EQ_INT(r, 120000);
	TEST_EQ_INT(dec_wide_round(135000000000LL, 2, DEC_HALF_EVEN, &r), 0);
	TEST_EQ_INT(r, 140000);
	/* does not fit */
	TEST_EQ_INT(dec_wide_round(dec_wide_from(INT64_MAX) + 1, 6, DEC_UP, &r), -1);
	TEST_EQ_INT(dec_wide_round(dec_wide_from(INT64_MAX) + 1, 6, DEC_DOWN, &r), 0);
	TEST_EQ_INT(r, INT64_MAX);
	TEST_EQ_INT(dec_wide_round(dec_wide_from(INT64_MIN) - 1, 6, DEC_DOWN, &r), 0);
	TEST_EQ_INT(r, INT64_MIN);
	TEST_EQ_INT(dec_wide_round(dec_wide_from(INT64_MIN) - 1, 6, DEC_UP, &r), -1);
	TEST_EQ_INT(dec_wide_round(E36, 2, DEC_HALF_UP, &r), -1);
	TEST_EQ_INT(dec_wide_round(-E36, 0, DEC_DOWN, &r), -1);
	TEST_EQ_INT(dec_wide_round(1, 7, DEC_DOWN, &r), -1);

	TEST_EQ_INT(dec_wide_cmp(1, 2), -1);
	TEST_EQ_INT(dec_wide_cmp(2, 1), 1);
	TEST_EQ_INT(dec_wide_cmp(7, 7), 0);
	TEST_EQ_INT(dec_wide_cmp(-E36, E36), -1);
	TEST_EQ_INT(dec_wide_cmp(E36 * 100, (dec_wide)E18), 1);
}

static void test_names(void)
{
	static const struct {
		const char *s;
		int rc;
		enum dec_round mode;
	} rt[] = {
		{ "half_up", 0, DEC_HALF_UP },
		{ "half_even", 0, DEC_HALF_EVEN },
		{ "up", 0, DEC_UP },
		{ "down", 0, DEC_DOWN },
		{ "HALF_UP", -1, DEC_HALF_UP },
		{ "half-up", -1, DEC_HALF_UP },
		{ "halfup", -1, DEC_HALF_UP },
		{ "up ", -1, DEC_HALF_UP },
		{ " down", -1, DEC_HALF_UP },
		{ "", -1, DEC_HALF_UP },
	};
	static const struct {
		const char *c;
		int minor;
		int valid;
	} ct[] = {
		{ "JPY", 0, 1 }, { "KRW", 0, 1 }, { "VND", 0, 1 },
		{ "BHD", 3, 1 }, { "KWD", 3, 1 }, { "OMR", 3, 1 },
		{ "JOD", 3, 1 }, { "TND", 3, 1 },
		{ "USD", 2, 1 }, { "EUR", 2, 1 }, { "CNY", 2, 1 },
		{ "XYZ", 2, 1 },
		/* ISO 4217 List One: ISK, CLP, XAF have no minor unit, IQD
		 * and LYD three digits, CLF four */
		{ "ISK", 0, 1 }, { "CLP", 0, 1 }, { "XAF", 0, 1 },
		{ "IQD", 3, 1 }, { "LYD", 3, 1 }, { "CLF", 4, 1 },
		{ "jpy", 2, 0 }, { "JPYX", 2, 0 }, { "JP", 2, 0 },
		{ "", 2, 0 }, { "U1D", 2, 0 }, { "US ", 2, 0 },
	};
	size_t i;
	enum dec_round m;

	for (i = 0; i < sizeof(rt) / sizeof(rt[0]); i++) {
		m = (enum dec_round)-1;
		TEST_EQ_INT(dec_round_parse(rt[i].s, &m), rt[i].rc);
		if (rt[i].rc == 0)
			TEST_EQ_INT(m, rt[i].mode);
	}
	TEST_EQ_INT(dec_round_parse(NULL, &m), -1);
	for (i = 0; i < sizeof(ct) / sizeof(ct[0]); i++) {
		TEST_EQ_INT(dec_minor_digits(ct[i].c), ct[i].minor);
		TEST_EQ_INT(dec_currency_valid(ct[i].c), ct[i].valid);
	}
	TEST_EQ_INT(dec_currency_valid(NULL), 0);
}

/* Every formatted value parses back to itself. */
static void test_round_trip(void)
{
	static const dec_t v[] = {
		0, 1, -1, 10, 999999, 1000000, 1000001, 2333333, 15000000000LL,
		INT64_MAX, INT64_MIN, INT64_MIN + 1, -12500000,
	};
	size_t i;
	int d;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char buf[DEC_MAX_TEXT];
		dec_t r = 0, rounded;
		size_t n = dec_format(v[i], buf);

		TEST_EQ_INT(dec_parse_signed(buf, n, &r), 0);
		TEST_EQ_INT(r, v[i]);
		for (d = 0; d <= DEC_DIGITS; d++) {
			if (dec_round(v[i], d, DEC_DOWN, &rounded) < 0)
				continue;
			n = dec_format_fixed(rounded, d, buf);
			r = 0;
			TEST_EQ_INT(dec_parse_signed(buf, n, &r), 0);
			TEST_EQ_INT(r, rounded);
		}
	}
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return rng_state ^ (rng_state >> 29);
}

/* Mutated text: nothing crashes (sanitizers), and whatever parses prints
 * back to text that parses to the same value. */
static void test_fuzz_parse(void)
{
	static const char *const seeds[] = {
		"9223372036854.775807", "0.000001", "-12.50", "007", "1.5",
	};
	static const char alphabet[] = "0123456789.-+e ,x";
	int i, bad = 0, ok = 0;

	for (i = 0; i < 200000; i++) {
		char s[40], buf[DEC_MAX_TEXT];
		const char *seed = seeds[i % 5];
		size_t n = strlen(seed), k;
		int muts;
		dec_t v, v2;

		memcpy(s, seed, n);
		for (muts = (int)(rng() % 3) + 1; muts > 0; muts--) {
			uint64_t x = rng();

			k = (size_t)(x >> 33) % (n + 1);
			if (k < n)
				s[k] = alphabet[(x >> 8) % (sizeof(alphabet) - 1)];
			else if ((x & 1) && n > 0)
				n--;
			else if (n < sizeof(s))
				s[n++] = alphabet[(x >> 8) % (sizeof(alphabet) - 1)];
		}
		if (dec_parse_signed(s, n, &v) < 0)
			continue;
		ok++;
		dec_format(v, buf);
		if (dec_parse_signed(buf, strlen(buf), &v2) < 0 || v2 != v)
			bad++;
		if (dec_parse(s, n, &v2) == 0 && (v2 != v || s[0] == '-'))
			bad++;
	}
	TEST_TRUE(ok > 1000);
	TEST_EQ_INT(bad, 0);
}

/* Random values: each mode lands on a neighbour of the exact value on the
 * side its definition says, and the half modes within half a unit. */
static void test_round_props(void)
{
	int i, bad = 0;

	for (i = 0; i < 200000; i++) {
		dec_t v = (dec_t)rng() >> (rng() % 63);
		int d = (int)(rng() % 7);
		dec_t unit = 1, r[4];
		int m, ok[4];

		for (m = d; m < DEC_DIGITS; m++)
			unit *= 10;
		if (rng() & 1)
			v = -v;
		for (m = 0; m < 4; m++)
			ok[m] = dec_round(v, d, (enum dec_round)m, &r[m]) == 0;
		if (!ok[DEC_DOWN]) {
			bad++;
			continue;
		}
		/* DOWN: toward zero, less than a unit away */
		if (r[DEC_DOWN] % unit || (v >= 0 ? (r[DEC_DOWN] > v ||
		    v - r[DEC_DOWN] >= unit) : (r[DEC_DOWN] < v ||
		    r[DEC_DOWN] - v >= unit)))
			bad++;
		for (m = 0; m < 3; m++) {
			__int128 diff;

			if (!ok[m])
				continue; /* only near INT64 limits */
			diff = (__int128)r[m] - v;
			if (diff < 0)
				diff = -diff;
			if (r[m] % unit || diff >= unit)
				bad++;
			if (m != DEC_UP && 2 * diff > unit)
				bad++;
			if (m == DEC_UP && (v >= 0 ? r[m] < v : r[m] > v))
				bad++;
		}
		/* the wide path agrees */
		for (m = 0; m < 4; m++) {
			dec_t w;
			int wok = dec_wide_round(dec_wide_from(v), d,
						 (enum dec_round)m, &w) == 0;

			if (wok != ok[m] || (wok && w != r[m]))
				bad++;
		}
	}
	TEST_EQ_INT(bad, 0);
}

int main(void)
{
	test_parse();
	test_parse_signed();
	test_parse_int();
	test_format();
	test_format_fixed();
	test_add_sub();
	test_round();
	test_mul();
	test_div();
	test_wide();
	test_percent();
	test_names();
	test_round_trip();
	test_fuzz_parse();
	test_round_props();
	return TEST_REPORT();
}
