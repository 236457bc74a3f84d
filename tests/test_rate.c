/* test_rate: tier maths (SPEC section 5 and the section 11 examples).
 * Every expected value below was worked out by hand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rate.h"
#include "testhelp.h"
#include "banned.h"

/* A decimal from its text; the tables are ours, so a bad one is a bug. */
static dec_t D(const char *s)
{
	dec_t v;

	if (dec_parse_signed(s, strlen(s), &v)) {
		fprintf(stderr, "bad test decimal '%s'\n", s);
		exit(2);
	}
	return v;
}

/* A non-negative 12-decimal wide value as "int.frac12". */
static const char *wide_text(dec_wide v, char *buf, size_t cap)
{
	char tmp[64];
	dec_wide ip = v / DEC_WIDE_ONE, fp = v % DEC_WIDE_ONE;
	size_t n = 0;
	int i;

	if (v < 0)
		return "(negative)";
	do {
		tmp[n++] = (char)('0' + (int)(ip % 10));
		ip /= 10;
	} while (ip);
	for (i = 0; i < (int)n && (size_t)i < cap - 1; i++)
		buf[i] = tmp[n - 1 - (size_t)i];
	buf[i++] = '.';
	for (n = 0; n < 12; n++) {
		buf[i + 11 - (int)n] = (char)('0' + (int)(fp % 10));
		fp /= 10;
	}
	buf[i + 12] = '\0';
	return buf;
}

struct tdef {
	const char *from, *to; /* to NULL: open */
	const char *price, *fee;
};

enum {
	T_EX1, T_EX6_DAY, T_EX6_MONTH, T_EX4, T_FEE, T_VFEE, T_16, T_2, T_PKG,
	T_P02, T_P15, T_0125, T_0135, T_0625, T_25, T_35, T_12345, T_12355,
	T_HUGE, T_HUGE2, T_HUGE3, T_COUNT
};

static const struct tdef *const tier_sets[T_COUNT] = {
	/* ex 1: per-call graduated tiers (CNY) */
	[T_EX1] = (const struct tdef[]){
		{ "0", "10000", "0.15", "0" },
		{ "10000", "100000", "0.10", "0" },
		{ "100000", "1000000", "0.06", "0" },
		{ "1000000", NULL, "0.02", "0" }, { NULL, NULL, NULL, NULL } },
	/* ex 6: QPS per day, and per month */
	[T_EX6_DAY] = (const struct tdef[]){
		{ "0", "10", "12.8", "0" }, { "10", "50", "10.8", "0" },
		{ "50", "100", "9.8", "0" }, { "100", NULL, "9.0", "0" },
		{ NULL, NULL, NULL, NULL } },
	[T_EX6_MONTH] = (const struct tdef[]){
		{ "0", "10", "218", "0" }, { "10", "50", "188", "0" },
		{ "50", "100", "136", "0" }, { "100", NULL, "126", "0" },
		{ NULL, NULL, NULL, NULL } },
	/* ex 4: volume tiers (USD) */
	[T_EX4] = (const struct tdef[]){
		{ "0", "100", "4.8", "0" }, { "100", "1000", "4.2", "0" },
		{ "1000", "10000", "3.8", "0" }, { "10000", NULL, "3.5", "0" },
		{ NULL, NULL, NULL, NULL } },
	/* graduated with flat fees */
	[T_FEE] = (const struct tdef[]){
		{ "0", "10", "1", "5" }, { "10", "20", "0.5", "3" },
		{ "20", NULL, "0.25", "2" }, { NULL, NULL, NULL, NULL } },
	/* volume with flat fees */
	[T_VFEE] = (const struct tdef[]){
		{ "0", "100", "2", "10" }, { "100", NULL, "1", "50" },
		{ NULL, NULL, NULL, NULL } },
	[T_16] = (const struct tdef[]){ { "0", NULL, "16", "0" },
		{ NULL, NULL, NULL, NULL } },
	[T_2] = (const struct tdef[]){ { "0", NULL, "2.00", "0" },
		{ NULL, NULL, NULL, NULL } },
	[T_PKG] = (const struct tdef[]){ { "0", NULL, "3", "1" },
		{ NULL, NULL, NULL, NULL } },
	[T_P02] = (const struct tdef[]){ { "0", NULL, "0.2", "0" },
		{ NULL, NULL, NULL, NULL } },
	[T_P15] = (const struct tdef[]){ { "0", NULL, "1.5", "0" },
		{ NULL, NULL, NULL, NULL } },
	[T_0125] = (const struct tdef[]){ { "0", NULL, "0.125", "0" },
		{ NULL, NULL, NULL, NULL } },
	[T_0135] = (const struct tdef[]){ { "0", NULL, "0.135", "0" },
		{ NULL, NULL, NULL, NULL } },
	[T_0625] = (const struct tdef[]){ { "0", NULL, "0.0625", "0" },
		{ NULL, NULL, NULL, NULL } },
	[T_25] = (const struct tdef[]){ { "0", NULL, "2.5", "0" },
		{ NULL, NULL, NULL, NULL } },
	[T_35] = (const struct tdef[]){ { "0", NULL, "3.5", "0" },
		{ NULL, NULL, NULL, NULL } },
	[T_12345] = (const struct tdef[]){ { "0", NULL, "1.2345", "0" },
		{ NULL, NULL, NULL, NULL } },
	[T_12355] = (const struct tdef[]){ { "0", NULL, "1.2355", "0" },
		{ NULL, NULL, NULL, NULL } },
	[T_HUGE] = (const struct tdef[]){ { "0", NULL, "1000000", "0" },
		{ NULL, NULL, NULL, NULL } },
	[T_HUGE2] = (const struct tdef[]){
		{ "0", "9000000000000", "9000000000000", "0" },
		{ "9000000000000", NULL, "9000000000000", "0" },
		{ NULL, NULL, NULL, NULL } },
	[T_HUGE3] = (const struct tdef[]){ { "0", NULL, "9000000000000", "0" },
		{ NULL, NULL, NULL, NULL } },
};

static struct tier *build_tiers(int set, size_t *n)
{
	const struct tdef *d = tier_sets[set];
	struct tier *t;
	size_t i, k = 0;

	while (d[k].from)
		k++;
	t = calloc(k, sizeof(*t));
	if (!t)
		abort();
	for (i = 0; i < k; i++) {
		t[i].from = D(d[i].from);
		t[i].open = d[i].to == NULL;
		t[i].to = d[i].to ? D(d[i].to) : 0;
		t[i].unit_price = D(d[i].price);
		t[i].flat_fee = D(d[i].fee);
	}
	*n = k;
	return t;
}

#define GRAD MODEL_GRADUATED
#define VOL MODEL_VOLUME
#define PKG MODEL_PACKAGE
#define HU DEC_HALF_UP
#define HE DEC_HALF_EVEN
#define BILL 0
#define TOTAL 1
#define UPPER 0
#define LOWER 1

struct tcase {
	int line;
	enum price_model model;
	int basis_total, bound_lower, minor;
	enum dec_round mode;
	const char *block;  /* package block_size */
	int set;
	const char *u, *b;
	int rc;
	const char *amount; /* dec_format_fixed at minor; when rc is not 0,
			     * the exact error message instead */
	const char *exact;  /* NULL: not checked */
	const char *tiers;
};

#define C(...) { __LINE__, __VA_ARGS__ }
/* rate.c's overflow message for item test_item at billable quantity Q */
#define OVF(q) "amount overflows for item 'test_item' (billable quantity " \
	q ")"

static const struct tcase cases[] = {
	/* SPEC 11 ex 1: 10000 x 0.15 + 5000 x 0.10 */
	C(GRAD, BILL, UPPER, 2, HU, "1", T_EX1, "15000", "15000", 0,
	  "2000.00", "2000.000000000000", "10000@0.15;5000@0.1"),
	/* graduated, billable, around every boundary */
	C(GRAD, BILL, UPPER, 2, HU, "1", T_EX1, "0", "0", 0,
	  "0.00", "0.000000000000", ""),
	C(GRAD, BILL, UPPER, 2, HU, "1", T_EX1, "0.5", "0.5", 0,
	  "0.08", "0.075000000000", "0.5@0.15"),
	C(GRAD, BILL, UPPER, 2, HU, "1", T_EX1, "9999.999999", "9999.999999",
	  0, "1500.00", "1499.999999850000", "9999.999999@0.15"),
	C(GRAD, BILL, UPPER, 2, HU, "1", T_EX1, "10000", "10000", 0,
	  "1500.00", "1500.000000000000", "10000@0.15"),
	C(GRAD, BILL, UPPER, 2, HU, "1", T_EX1, "10000.000001",
	  "10000.000001", 0, "1500.00", "1500.000000100000",
	  "10000@0.15;0.000001@0.1"),
	C(GRAD, BILL, UPPER, 2, HU, "1", T_EX1, "100000", "100000", 0,
	  "10500.00", "10500.000000000000", "10000@0.15;90000@0.1"),
	C(GRAD, BILL, UPPER, 2, HU, "1", T_EX1, "100000.000001",
	  "100000.000001", 0, "10500.00", "10500.000000060000",
	  "10000@0.15;90000@0.1;0.000001@0.06"),
	C(GRAD, BILL, UPPER, 2, HU, "1", T_EX1, "1000000", "1000000", 0,
	  "64500.00", "64500.000000000000",
	  "10000@0.15;90000@0.1;900000@0.06"),
	C(GRAD, BILL, UPPER, 2, HU, "1", T_EX1, "1000000.000001",
	  "1000000.000001", 0, "64500.00", "64500.000000020000",
	  "10000@0.15;90000@0.1;900000@0.06;0.000001@0.02"),
	C(GRAD, BILL, UPPER, 2, HU, "1", T_EX1, "2500000", "2500000", 0,
	  "94500.00", "94500.000000000000",
	  "10000@0.15;90000@0.1;900000@0.06;1500000@0.02"),
	C(GRAD, BILL, UPPER, 2, HU, "1", T_EX1, "10.3333", "10.3333", 0,
	  "1.55", "1.549995000000", "10.3333@0.15"),
	/* billable basis ignores u beyond b */
	C(GRAD, BILL, UPPER, 2, HU, "1", T_EX1, "50000", "15000", 0,
	  "2000.00", "2000.000000000000", "10000@0.15;5000@0.1"),
	/* tier_bound does not matter for graduated */
	C(GRAD, BILL, LOWER, 2, HU, "1", T_EX1, "10000", "10000", 0,
	  "1500.00", "1500.000000000000", "10000@0.15"),

	/* graduated, basis total: the billable units are the last (u-b, u] */
	C(GRAD, TOTAL, UPPER, 2, HU, "1", T_EX1, "15000", "15000", 0,
	  "2000.00", "2000.000000000000", "10000@0.15;5000@0.1"),
	C(GRAD, TOTAL, UPPER, 2, HU, "1", T_EX1, "15000", "5000", 0,
	  "500.00", "500.000000000000", "5000@0.1"),
	C(GRAD, TOTAL, UPPER, 2, HU, "1", T_EX1, "15000", "6000", 0,
	  "650.00", "650.000000000000", "1000@0.15;5000@0.1"),
	C(GRAD, TOTAL, UPPER, 2, HU, "1", T_EX1, "15000", "0", 0,
	  "0.00", "0.000000000000", ""),
	C(GRAD, TOTAL, UPPER, 2, HU, "1", T_EX1, "10000", "0.000001", 0,
	  "0.00", "0.000000150000", "0.000001@0.15"),
	C(GRAD, TOTAL, UPPER, 2, HU, "1", T_EX1, "10000.000001",
	  "0.000002", 0, "0.00", "0.000000250000",
	  "0.000001@0.15;0.000001@0.1"),
	C(GRAD, TOTAL, UPPER, 2, HU, "1", T_EX1, "2000000", "1500000", 0,
	  "50000.00", "50000.000000000000", "500000@0.06;1000000@0.02"),
	C(GRAD, TOTAL, UPPER, 2, HU, "1", T_EX1, "3000000", "1000000", 0,
	  "20000.00", "20000.000000000000", "1000000@0.02"),

	/* flat fees, graduated: charged once per tier whose slice is used */
	C(GRAD, BILL, UPPER, 2, HU, "1", T_FEE, "0", "0", 0,
	  "0.00", "0.000000000000", ""),
	C(GRAD, BILL, UPPER, 2, HU, "1", T_FEE, "0.000001", "0.000001", 0,
	  "5.00", "5.000001000000", "0.000001@1"),
	C(GRAD, BILL, UPPER, 2, HU, "1", T_FEE, "10", "10", 0,
	  "15.00", "15.000000000000", "10@1"),
	C(GRAD, BILL, UPPER, 2, HU, "1", T_FEE, "10.000001", "10.000001", 0,
	  "18.00", "18.000000500000", "10@1;0.000001@0.5"),
	C(GRAD, BILL, UPPER, 2, HU, "1", T_FEE, "25", "25", 0,
	  "26.25", "26.250000000000", "10@1;10@0.5;5@0.25"),
	/* total: the tier 2 fee was reached by u-b = 15, only tier 3's */
	C(GRAD, TOTAL, UPPER, 2, HU, "1", T_FEE, "25", "10", 0,
	  "5.75", "5.750000000000", "5@0.5;5@0.25"),
	/* total: u-b = 10 has not entered tier 2, so its fee is charged */
	C(GRAD, TOTAL, UPPER, 2, HU, "1", T_FEE, "25", "15", 0,
	  "11.25", "11.250000000000", "10@0.5;5@0.25"),
	C(GRAD, TOTAL, UPPER, 2, HU, "1", T_FEE, "20", "0.000001", 0,
	  "0.00", "0.000000500000", "0.000001@0.5"),
	C(GRAD, TOTAL, UPPER, 2, HU, "1", T_FEE, "10.000001", "0.000001", 0,
	  "3.00", "3.000000500000", "0.000001@0.5"),
	C(GRAD, TOTAL, UPPER, 2, HU, "1", T_FEE, "25", "25", 0,
	  "26.25", "26.250000000000", "10@1;10@0.5;5@0.25"),
	C(GRAD, TOTAL, UPPER, 2, HU, "1", T_FEE, "25", "0", 0,
	  "0.00", "0.000000000000", ""),

	/* volume, upper bound (from < q <= to), billable */
	C(VOL, BILL, UPPER, 2, HU, "1", T_EX4, "0", "0", 0,
	  "0.00", "0.000000000000", ""),
	C(VOL, BILL, UPPER, 2, HU, "1", T_EX4, "0.5", "0.5", 0,
	  "2.40", "2.400000000000", "0.5@4.8"),
	C(VOL, BILL, UPPER, 2, HU, "1", T_EX4, "100", "100", 0,
	  "480.00", "480.000000000000", "100@4.8"),
	C(VOL, BILL, UPPER, 2, HU, "1", T_EX4, "100.000001", "100.000001", 0,
	  "420.00", "420.000004200000", "100.000001@4.2"),
	C(VOL, BILL, UPPER, 2, HU, "1", T_EX4, "1000", "1000", 0,
	  "4200.00", "4200.000000000000", "1000@4.2"),
	C(VOL, BILL, UPPER, 2, HU, "1", T_EX4, "10000", "10000", 0,
	  "38000.00", "38000.000000000000", "10000@3.8"),
	C(VOL, BILL, UPPER, 2, HU, "1", T_EX4, "10000.000001",
	  "10000.000001", 0, "35000.00", "35000.000003500000",
	  "10000.000001@3.5"),
	C(VOL, BILL, UPPER, 2, HU, "1", T_EX4, "50000", "50000", 0,
	  "175000.00", "175000.000000000000", "50000@3.5"),
	/* volume, lower bound (from <= q < to), billable */
	C(VOL, BILL, LOWER, 2, HU, "1", T_EX4, "0.5", "0.5", 0,
	  "2.40", "2.400000000000", "0.5@4.8"),
	C(VOL, BILL, LOWER, 2, HU, "1", T_EX4, "99.999999", "99.999999", 0,
	  "480.00", "479.999995200000", "99.999999@4.8"),
	C(VOL, BILL, LOWER, 2, HU, "1", T_EX4, "100", "100", 0,
	  "420.00", "420.000000000000", "100@4.2"),
	C(VOL, BILL, LOWER, 2, HU, "1", T_EX4, "1000", "1000", 0,
	  "3800.00", "3800.000000000000", "1000@3.8"),
	C(VOL, BILL, LOWER, 2, HU, "1", T_EX4, "10000", "10000", 0,
	  "35000.00", "35000.000000000000", "10000@3.5"),
	/* volume, basis total: the tier of u prices b */
	C(VOL, TOTAL, LOWER, 2, HU, "1", T_EX4, "1100", "1095", 0,
	  "4161.00", "4161.000000000000", "1095@3.8"), /* SPEC 11 ex 4 */
	C(VOL, BILL, LOWER, 2, HU, "1", T_EX4, "1100", "1095", 0,
	  "4161.00", "4161.000000000000", "1095@3.8"),
	C(VOL, TOTAL, LOWER, 2, HU, "1", T_EX4, "1000", "995", 0,
	  "3781.00", "3781.000000000000", "995@3.8"),
	C(VOL, BILL, LOWER, 2, HU, "1", T_EX4, "1000", "995", 0,
	  "4179.00", "4179.000000000000", "995@4.2"),
	C(VOL, TOTAL, UPPER, 2, HU, "1", T_EX4, "1000", "995", 0,
	  "4179.00", "4179.000000000000", "995@4.2"),
	C(VOL, TOTAL, UPPER, 2, HU, "1", T_EX4, "100", "50", 0,
	  "240.00", "240.000000000000", "50@4.8"),
	C(VOL, TOTAL, UPPER, 2, HU, "1", T_EX4, "100.000001", "0.000001", 0,
	  "0.00", "0.000004200000", "0.000001@4.2"),
	C(VOL, TOTAL, LOWER, 2, HU, "1", T_EX4, "1100", "0", 0,
	  "0.00", "0.000000000000", ""),
	C(VOL, TOTAL, UPPER, 2, HU, "1", T_EX4, "20000", "20000", 0,
	  "70000.00", "70000.000000000000", "20000@3.5"),
	/* volume flat fees: the fee of the chosen tier, once */
	C(VOL, BILL, UPPER, 2, HU, "1", T_VFEE, "100", "100", 0,
	  "210.00", "210.000000000000", "100@2"),
	C(VOL, BILL, UPPER, 2, HU, "1", T_VFEE, "100.5", "100.5", 0,
	  "150.50", "150.500000000000", "100.5@1"),
	C(VOL, BILL, LOWER, 2, HU, "1", T_VFEE, "100", "100", 0,
	  "150.00", "150.000000000000", "100@1"),
	C(VOL, TOTAL, UPPER, 2, HU, "1", T_VFEE, "150", "30", 0,
	  "80.00", "80.000000000000", "30@1"),
	C(VOL, BILL, UPPER, 2, HU, "1", T_VFEE, "150", "30", 0,
	  "70.00", "70.000000000000", "30@2"),
	C(VOL, TOTAL, UPPER, 2, HU, "1", T_VFEE, "150", "0", 0,
	  "0.00", "0.000000000000", ""),

	/* package: ceil(b / block) x price + fee; basis does not apply */
	C(PKG, BILL, UPPER, 2, HU, "10", T_PKG, "0", "0", 0,
	  "0.00", "0.000000000000", ""),
	C(PKG, BILL, UPPER, 2, HU, "10", T_PKG, "0.000001", "0.000001", 0,
	  "4.00", "4.000000000000", "0.000001@3"),
	C(PKG, BILL, UPPER, 2, HU, "10", T_PKG, "10", "10", 0,
	  "4.00", "4.000000000000", "10@3"),
	C(PKG, BILL, UPPER, 2, HU, "10", T_PKG, "10.000001", "10.000001", 0,
	  "7.00", "7.000000000000", "10.000001@3"),
	C(PKG, BILL, UPPER, 2, HU, "10", T_PKG, "25", "25", 0,
	  "10.00", "10.000000000000", "25@3"),
	C(PKG, BILL, UPPER, 2, HU, "10", T_PKG, "30", "30", 0,
	  "10.00", "10.000000000000", "30@3"),
	C(PKG, TOTAL, UPPER, 2, HU, "10", T_PKG, "100", "10", 0,
	  "4.00", "4.000000000000", "10@3"),
	C(PKG, BILL, UPPER, 2, HU, "1", T_P02, "2.5", "2.5", 0,
	  "0.60", "0.600000000000", "2.5@0.2"),
	C(PKG, BILL, UPPER, 2, HU, "0.5", T_P15, "1.2", "1.2", 0,
	  "4.50", "4.500000000000", "1.2@1.5"),
	C(PKG, BILL, UPPER, 2, HU, "0.000001", T_P15, "1.2", "1.2", 0,
	  "1800000.00", "1800000.000000000000", "1.2@1.5"),

	/* rounding once at the minor unit: .125 and .135 at 2 digits */
	C(GRAD, BILL, UPPER, 2, HU, "1", T_0125, "1", "1", 0,
	  "0.13", "0.125000000000", "1@0.125"),
	C(GRAD, BILL, UPPER, 2, HE, "1", T_0125, "1", "1", 0,
	  "0.12", "0.125000000000", "1@0.125"),
	C(GRAD, BILL, UPPER, 2, HU, "1", T_0135, "1", "1", 0,
	  "0.14", "0.135000000000", "1@0.135"),
	C(GRAD, BILL, UPPER, 2, HE, "1", T_0135, "1", "1", 0,
	  "0.14", "0.135000000000", "1@0.135"),
	/* the .5 comes from the product, not the price */
	C(GRAD, BILL, UPPER, 2, HU, "1", T_0625, "2", "2", 0,
	  "0.13", "0.125000000000", "2@0.0625"),
	C(GRAD, BILL, UPPER, 2, HE, "1", T_0625, "2", "2", 0,
	  "0.12", "0.125000000000", "2@0.0625"),
	/* .125 reached only by summing tiers, rounded once at the end */
	C(GRAD, BILL, UPPER, 2, HU, "1", T_EX1, "10001.25", "10001.25", 0,
	  "1500.13", "1500.125000000000", "10000@0.15;1.25@0.1"),
	C(GRAD, BILL, UPPER, 2, HE, "1", T_EX1, "10001.25", "10001.25", 0,
	  "1500.12", "1500.125000000000", "10000@0.15;1.25@0.1"),
	C(VOL, BILL, UPPER, 2, HE, "1", T_0125, "1", "1", 0,
	  "0.12", "0.125000000000", "1@0.125"),
	C(PKG, BILL, UPPER, 2, HE, "1", T_0125, "1", "1", 0,
	  "0.12", "0.125000000000", "1@0.125"),
	/* half_even away from a tie is ordinary rounding */
	C(GRAD, BILL, UPPER, 2, HE, "1", T_0125, "1.000001", "1.000001", 0,
	  "0.13", "0.125000125000", "1.000001@0.125"),
	/* JPY, minor 0 */
	C(GRAD, BILL, UPPER, 0, HU, "1", T_25, "1", "1", 0,
	  "3", "2.500000000000", "1@2.5"),
	C(GRAD, BILL, UPPER, 0, HE, "1", T_25, "1", "1", 0,
	  "2", "2.500000000000", "1@2.5"),
	C(GRAD, BILL, UPPER, 0, HU, "1", T_35, "1", "1", 0,
	  "4", "3.500000000000", "1@3.5"),
	C(GRAD, BILL, UPPER, 0, HE, "1", T_35, "1", "1", 0,
	  "4", "3.500000000000", "1@3.5"),
	C(GRAD, BILL, UPPER, 0, HU, "1", T_2, "1.25", "1.25", 0,
	  "3", "2.500000000000", "1.25@2"),
	C(GRAD, BILL, UPPER, 0, HE, "1", T_2, "1.25", "1.25", 0,
	  "2", "2.500000000000", "1.25@2"),
	/* minor 3 (BHD, KWD, ...) */
	C(GRAD, BILL, UPPER, 3, HU, "1", T_12345, "1", "1", 0,
	  "1.235", "1.234500000000", "1@1.2345"),
	C(GRAD, BILL, UPPER, 3, HE, "1", T_12345, "1", "1", 0,
	  "1.234", "1.234500000000", "1@1.2345"),
	C(GRAD, BILL, UPPER, 3, HU, "1", T_12355, "1", "1", 0,
	  "1.236", "1.235500000000", "1@1.2355"),
	C(GRAD, BILL, UPPER, 3, HE, "1", T_12355, "1", "1", 0,
	  "1.236", "1.235500000000", "1@1.2355"),
	C(GRAD, BILL, UPPER, 3, HU, "1", T_EX1, "15000", "15000", 0,
	  "2000.000", "2000.000000000000", "10000@0.15;5000@0.1"),

	/* SPEC 11 ex 2: 140 s at 60 fps 1080p = 2.333333 min x 16 */
	C(GRAD, BILL, UPPER, 2, HU, "1", T_16, "2.333333", "2.333333", 0,
	  "37.33", "37.333328000000", "2.333333@16"),
	/* SPEC 11 ex 5 tail: 2.50 min at 2.00 */
	C(GRAD, BILL, UPPER, 2, HU, "1", T_2, "4.17", "2.5", 0,
	  "5.00", "5.000000000000", "2.5@2"),
	C(GRAD, TOTAL, UPPER, 2, HU, "1", T_2, "12.5", "2.5", 0,
	  "5.00", "5.000000000000", "2.5@2"),
	/* SPEC 11 ex 6: 40 QPS, per day and per month */
	C(GRAD, BILL, UPPER, 2, HU, "1", T_EX6_DAY, "40", "40", 0,
	  "452.00", "452.000000000000", "10@12.8;30@10.8"),
	C(GRAD, BILL, UPPER, 2, HU, "1", T_EX6_MONTH, "40", "40", 0,
	  "7820.00", "7820.000000000000", "10@218;30@188"),
	C(GRAD, BILL, UPPER, 2, HU, "1", T_EX6_DAY, "150", "150", 0,
	  "1500.00", "1500.000000000000",
	  "10@12.8;40@10.8;50@9.8;50@9"),

	/* Errors: the message is the one src/rate.c sets for the case
	 * (rate.h: ST_ERROR "with e filled on overflow"), in git's form,
	 * the item quoted, quantities in dec_format's shortest form.
	 * overflow: the rounded amount does not fit a dec_t (9e12 x 1e6 =
	 * 9e18 > INT64_MAX / 1e6 = 9.22e12 whole units) */
	C(GRAD, BILL, UPPER, 2, HU, "1", T_HUGE, "9000000000000",
	  "9000000000000", ST_ERROR, OVF("9000000000000"), NULL, NULL),
	C(VOL, BILL, UPPER, 2, HU, "1", T_HUGE, "9000000000000",
	  "9000000000000", ST_ERROR, OVF("9000000000000"), NULL, NULL),
	/* overflow: the exact sum leaves the wide range */
	C(GRAD, BILL, UPPER, 2, HU, "1", T_HUGE2, "9200000000000",
	  "9200000000000", ST_ERROR, OVF("9200000000000"), NULL, NULL),
	C(VOL, BILL, UPPER, 2, HU, "1", T_HUGE2, "9200000000000",
	  "9200000000000", ST_ERROR, OVF("9200000000000"), NULL, NULL),
	/* overflow: a block count of 9e18 at a huge price */
	C(PKG, BILL, UPPER, 2, HU, "0.000001", T_HUGE3, "9000000000000",
	  "9000000000000", ST_ERROR, OVF("9000000000000"), NULL, NULL),
	C(PKG, BILL, UPPER, 2, HU, "0.000001", T_HUGE, "9000000000000",
	  "9000000000000", ST_ERROR, OVF("9000000000000"), NULL, NULL),
	/* package: the exact sum fits, the rounded amount does not */
	C(PKG, BILL, UPPER, 2, HU, "1", T_HUGE, "9000000000000",
	  "9000000000000", ST_ERROR, OVF("9000000000000"), NULL, NULL),
	/* the caller's contract 0 <= b <= u: billable quoted, usage not */
	C(GRAD, BILL, UPPER, 2, HU, "1", T_EX1, "5", "6", ST_ERROR,
	  "bad billable quantity '6' for item 'test_item' (usage 5)",
	  NULL, NULL),
	C(GRAD, BILL, UPPER, 2, HU, "1", T_EX1, "5", "-1", ST_ERROR,
	  "bad billable quantity '-1' for item 'test_item' (usage 5)",
	  NULL, NULL),
};

static void run_case(const struct tcase *c)
{
	struct price_group pg = { 0 };
	struct price_version g = { 0 };
	struct item it = { 0 };
	struct rated r;
	struct err e;
	char buf[512], amt[DEC_MAX_TEXT], wide[64];
	int rc;

	it.code = (char *)"test_item";
	it.minor = c->minor;
	it.model = c->model;
	it.block_size = D(c->block);
	it.basis_total = c->basis_total;
	it.bound_lower = c->bound_lower;
	pg.filter = (char *)"";
	g.tiers = build_tiers(c->set, &g.ntiers);
	err_clear(&e);

	rc = rate_line(&it, &pg, &g, D(c->u), D(c->b), c->mode, &r, &e);
	if (rc != c->rc)
		fprintf(stderr, "case at line %d: %s\n", c->line, e.msg);
	TEST_EQ_INT(rc, c->rc);
	/* the flag tells an overflow from the other errors */
	TEST_EQ_INT(r.overflow, c->rc != 0 &&
		    strncmp(c->amount, "amount overflows", 16) == 0);
	if (c->rc) {
		if (strcmp(e.msg, c->amount))
			fprintf(stderr, "case at line %d\n", c->line);
		TEST_EQ_STR(e.msg, c->amount);
		TEST_TRUE(r.slices == NULL && r.nslices == 0);
	} else if (rc == 0) {
		dec_format_fixed(r.amount, c->minor, amt);
		if (strcmp(amt, c->amount))
			fprintf(stderr, "case at line %d\n", c->line);
		TEST_EQ_STR(amt, c->amount);
		if (c->exact) {
			wide_text(r.exact, wide, sizeof(wide));
			if (strcmp(wide, c->exact))
				fprintf(stderr, "case at line %d\n", c->line);
			TEST_EQ_STR(wide, c->exact);
		}
		TEST_TRUE(rate_format_tiers(r.slices, r.nslices, buf,
					    sizeof(buf)) >= 0);
		if (strcmp(buf, c->tiers))
			fprintf(stderr, "case at line %d\n", c->line);
		TEST_EQ_STR(buf, c->tiers);
	}
	free(r.slices);
	free(g.tiers);
}

static void test_format(void)
{
	struct slice s[2];
	char buf[64];

	s[0].qty = D("10000");
	s[0].unit_price = D("0.15");
	s[1].qty = D("5000");
	s[1].unit_price = D("0.10");

	TEST_EQ_INT(rate_format_tiers(NULL, 0, buf, sizeof(buf)), 0);
	TEST_EQ_STR(buf, "");
	TEST_EQ_INT(rate_format_tiers(s, 2, buf, sizeof(buf)), 19);
	TEST_EQ_STR(buf, "10000@0.15;5000@0.1");
	TEST_EQ_INT(rate_format_tiers(s, 1, buf, sizeof(buf)), 10);
	TEST_EQ_STR(buf, "10000@0.15");
	/* exactly fits: 19 characters and the NUL */
	TEST_EQ_INT(rate_format_tiers(s, 2, buf, 20), 19);
	TEST_EQ_STR(buf, "10000@0.15;5000@0.1");
	TEST_EQ_INT(rate_format_tiers(s, 2, buf, 19), -1);
	TEST_EQ_INT(rate_format_tiers(s, 2, buf, 12), -1);
	TEST_EQ_INT(rate_format_tiers(s, 1, buf, 1), -1);
	TEST_EQ_INT(rate_format_tiers(NULL, 0, buf, 1), 0);
	TEST_EQ_STR(buf, "");
	TEST_EQ_INT(rate_format_tiers(NULL, 0, buf, 0), -1);
}

/* Structural errors of a group (catalog rejects them; rate must not
 * crash or misprice if one slips through). */
static void test_bad_groups(void)
{
	struct tier two[2];
	struct price_group pg = { 0 };
	struct price_version g = { 0 };
	struct item it = { 0 };
	struct rated r;
	struct err e;

	it.code = (char *)"x";
	it.minor = 2;
	it.block_size = D("1");
	pg.filter = (char *)"";

	it.model = MODEL_GRADUATED;
	TEST_EQ_INT(rate_line(&it, &pg, &g, D("1"), D("1"), DEC_HALF_UP, &r, &e),
		    ST_ERROR);
	TEST_EQ_STR(e.msg, "no tiers in price group '' of item 'x'");
	TEST_TRUE(r.slices == NULL);
	TEST_EQ_INT(r.overflow, 0);
	/* no version for the period at all */
	TEST_EQ_INT(rate_line(&it, &pg, NULL, D("1"), D("1"), DEC_HALF_UP, &r,
			      &e), ST_ERROR);
	TEST_EQ_STR(e.msg, "no tiers in price group '' of item 'x'");

	memset(two, 0, sizeof(two));
	two[0].to = D("10");
	two[0].unit_price = D("1");
	two[1].from = D("10");
	two[1].open = 1;
	two[1].unit_price = D("2");
	g.tiers = two;
	g.ntiers = 2;
	it.model = MODEL_PACKAGE;
	TEST_EQ_INT(rate_line(&it, &pg, &g, D("1"), D("1"), DEC_HALF_UP, &r, &e),
		    ST_ERROR);
	TEST_EQ_STR(e.msg, "package item 'x' needs one open tier and a "
		    "positive block_size");

	g.ntiers = 1;
	g.tiers = &two[1];
	two[1].from = 0;
	it.block_size = 0;
	err_clear(&e);
	TEST_EQ_INT(rate_line(&it, &pg, &g, D("1"), D("1"), DEC_HALF_UP, &r, &e),
		    ST_ERROR);
	TEST_EQ_STR(e.msg, "package item 'x' needs one open tier and a "
		    "positive block_size");
	it.block_size = D("1");
	TEST_EQ_INT(rate_line(&it, &pg, &g, D("1"), D("1"), DEC_HALF_UP, &r, &e),
		    0);
	TEST_EQ_INT(r.amount, D("2"));
	free(r.slices);

	/* volume: a gap in the tiers holds nothing */
	two[1].from = D("20");
	g.tiers = two;
	g.ntiers = 2;
	it.model = MODEL_VOLUME;
	TEST_EQ_INT(rate_line(&it, &pg, &g, D("15"), D("15"), DEC_HALF_UP, &r,
			      &e), ST_ERROR);
	TEST_EQ_STR(e.msg, "no tier holds quantity 15 in price group '' of "
		    "item 'x'");
	TEST_TRUE(r.slices == NULL);
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	test_format();
	test_bad_groups();
	return TEST_REPORT();
}
