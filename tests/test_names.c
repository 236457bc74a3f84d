/* Unit tests for iso4217 and suggest. Expected values are from ISO 4217
 * List One (2026-01-01) as SPEC section 2 quotes it, and edit distances
 * counted by hand. */
#include "iso4217.h"
#include "suggest.h"

#include "testhelp.h"
#include "banned.h"

static void test_iso4217(void)
{
	static const struct {
		const char *code;
		int minor;
	} t[] = {
		/* SPEC 2: JPY, KRW, VND, CLP, ISK, XAF 0; BHD, KWD, OMR, JOD,
		 * TND, IQD, LYD 3; CLF 4; most others 2 */
		{ "JPY", 0 }, { "KRW", 0 }, { "VND", 0 }, { "CLP", 0 },
		{ "ISK", 0 }, { "XAF", 0 }, { "BHD", 3 }, { "KWD", 3 },
		{ "OMR", 3 }, { "JOD", 3 }, { "TND", 3 }, { "IQD", 3 },
		{ "LYD", 3 }, { "CLF", 4 }, { "USD", 2 }, { "EUR", 2 },
		{ "CNY", 2 }, { "AED", 2 }, { "ZWG", 2 }, { "UYW", 4 },
		/* withdrawn (SPEC 2: HRK, SLL) and no minor unit (XAU, XDR,
		 * XXX): -1 */
		{ "HRK", -1 }, { "SLL", -1 }, { "XAU", -1 }, { "XDR", -1 },
		{ "XXX", -1 }, { "ZWL", -1 },
		/* not codes at all */
		{ "usd", -1 }, { "US", -1 }, { "USDX", -1 }, { "", -1 },
		{ "AAA", -1 }, { "ZZZ", -1 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		TEST_EQ_INT(iso4217_minor(t[i].code), t[i].minor);
	TEST_EQ_INT(iso4217_minor(NULL), -1);
}

static void test_distance(void)
{
	/* kitten -> sitting: k->s, e->i, +g = 3 (the textbook example) */
	TEST_EQ_INT(suggest_distance("kitten", "sitting"), 3);
	/* one deletion */
	TEST_EQ_INT(suggest_distance("record_round_mod", "record_round_mode"), 1);
	/* adjacent transposition counts 1 */
	TEST_EQ_INT(suggest_distance("clsoe", "close"), 1);
	TEST_EQ_INT(suggest_distance("", "abc"), 3);
	TEST_EQ_INT(suggest_distance("same", "same"), 0);
}

static void test_nearest(void)
{
	static const char *const cols[] = {
		"item", "currency", "model", "block_size", "usage_unit",
		"price_unit", "unit_ratio", "record_round", "record_round_mode",
		"tier_basis", "tier_bound", "name", "unit_code",
	};
	static const char *const keys[] = {
		"timezone", "invoice_prefix", "rounding", "alert_pct",
	};
	static const char *const cmds[] = {
		"ingest", "forget", "invoice", "close", "run", "status", "export",
	};
	size_t nc = sizeof(cols) / sizeof(cols[0]);

	TEST_EQ_STR(suggest_nearest("record_round_mod", cols, nc),
		    "record_round_mode");
	TEST_EQ_STR(suggest_nearest("invoice_prefx", keys, 4), "invoice_prefix");
	TEST_EQ_STR(suggest_nearest("clos", cmds, 7), "close");
	TEST_EQ_STR(suggest_nearest("ingset", cmds, 7), "ingest");
	/* "xyz" is 3 edits from "run": too far for a 3-letter word */
	TEST_TRUE(suggest_nearest("xyz", cmds, 7) == NULL);
	TEST_TRUE(suggest_nearest("comment", cols, nc) == NULL);
}

int main(void)
{
	test_iso4217();
	test_distance();
	test_nearest();
	return TEST_REPORT();
}
