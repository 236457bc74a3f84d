/* Unit tests for the carry arithmetic (carry.h) and balance_before_carry
 * (balance.h). Amounts are dec_t millionths: M(x) is x units. Every
 * expected value is the walk of SPEC 7 done by hand on the invoices
 * given: credits pay invoices with a total above 0 oldest first, and the
 * oldest one not fully paid is the first whose running sum of positive
 * totals exceeds the credits. */
#include "balance.h"
#include "carry.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testhelp.h"
#include "banned.h"

#define M(x) ((dec_t)(x) * 1000000)

/* a's open list as "period:number:total units;..." */
static void open_is(const struct carry_acct *a, const char *want)
{
	char buf[256] = "";
	size_t i, len = 0;

	for (i = 0; i < a->nopen; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
					"%d:%lld:%lld;", a->open[i].period,
					(long long)a->open[i].number,
					(long long)(a->open[i].total /
						    1000000));
	TEST_EQ_STR(buf, want);
}

static void walk(void)
{
	struct carry_acct a;

	memset(&a, 0, sizeof(a));
	/* invoices: p1 #3 10, p2 #1 -4 (a credit note: no debt), p3 #2 20,
	 * p4 #7 30 */
	TEST_EQ_INT(carry_add(&a, 1, 3, M(10)), 0);
	TEST_EQ_INT(carry_add(&a, 2, 1, M(-4)), 0);
	TEST_EQ_INT(carry_add(&a, 3, 2, M(20)), 0);
	/* total 10 - 4 + 20 = 26; the first invoice is p1 #3; untrimmed,
	 * every positive one is open */
	TEST_EQ_INT(a.total, M(26));
	TEST_EQ_INT(a.first_period, 1);
	TEST_EQ_INT(a.first_number, 3);
	TEST_EQ_INT(a.trimmed, 0);
	open_is(&a, "1:3:10;3:2:20;");
	/* credits 15: pay p1 (10), 5 left < 20: p3 is the oldest unpaid;
	 * left 5 */
	TEST_EQ_INT(carry_trim(&a, M(15)), 0);
	open_is(&a, "3:2:20;");
	TEST_EQ_INT(a.credit, M(15));
	TEST_EQ_INT(a.left, M(5));
	/* credits below 15: the carry cannot say (1), a unchanged */
	TEST_EQ_INT(carry_trim(&a, M(14)), 1);
	open_is(&a, "3:2:20;");
	TEST_EQ_INT(a.credit, M(15));
	/* p4 30 appended (its first invoice stays p1 #3) */
	TEST_EQ_INT(carry_add(&a, 4, 7, M(30)), 0);
	TEST_EQ_INT(a.total, M(56));
	TEST_EQ_INT(a.first_number, 3);
	open_is(&a, "3:2:20;4:7:30;");
	/* credits 40: 5 left + (40 - 15) = 30 pays p3 (20), 10 < 30: p4
	 * oldest unpaid (from the start: 40 pays 10 and 20, 10 < 30) */
	TEST_EQ_INT(carry_trim(&a, M(40)), 0);
	open_is(&a, "4:7:30;");
	TEST_EQ_INT(a.left, M(10));
	/* the same credits again: nothing moves */
	TEST_EQ_INT(carry_trim(&a, M(40)), 0);
	open_is(&a, "4:7:30;");
	TEST_EQ_INT(a.left, M(10));
	/* credits 60 = 10 + 20 + 30 exactly: all paid, 0 left (a walk
	 * pays an invoice when paid >= total) */
	TEST_EQ_INT(carry_trim(&a, M(60)), 0);
	open_is(&a, "");
	TEST_EQ_INT(a.left, M(0));
	/* a later invoice of 5 with credits still 60: 0 < 5, unpaid */
	TEST_EQ_INT(carry_add(&a, 5, 1, M(5)), 0);
	TEST_EQ_INT(carry_trim(&a, M(60)), 0);
	open_is(&a, "5:1:5;");
	free(a.tenant);
	free(a.open);
}

static void negative_credits(void)
{
	struct carry_acct a;

	memset(&a, 0, sizeof(a));
	/* opening balance -12 and no payment: credits -12 pay nothing (a
	 * walk with paid < 0 stops at the first positive invoice) */
	TEST_EQ_INT(carry_add(&a, 1, 1, M(3)), 0);
	TEST_EQ_INT(carry_trim(&a, M(-12)), 0);
	open_is(&a, "1:1:3;");
	TEST_EQ_INT(a.left, M(-12));
	/* a payment of 20 later: credits 8 = -12 + 20 pay the 3, 5 left */
	TEST_EQ_INT(carry_trim(&a, M(8)), 0);
	open_is(&a, "");
	TEST_EQ_INT(a.left, M(5));
	free(a.open);
}

static void overflow(void)
{
	struct carry_acct a;

	memset(&a, 0, sizeof(a));
	/* two invoices of INT64_MAX / 2 + 1 add up past INT64_MAX: -1,
	 * the caller reads the history (whose error names the account) */
	TEST_EQ_INT(carry_add(&a, 1, 1, INT64_MAX / 2 + 1), 0);
	TEST_EQ_INT(carry_add(&a, 2, 1, INT64_MAX / 2 + 1), -1);
	free(a.open);
	/* trimmed at INT64_MIN, then credits INT64_MAX: their difference
	 * does not fit: -1, a unchanged */
	memset(&a, 0, sizeof(a));
	TEST_EQ_INT(carry_add(&a, 1, 1, M(1)), 0);
	TEST_EQ_INT(carry_trim(&a, INT64_MIN), 0);
	TEST_EQ_INT(carry_trim(&a, INT64_MAX), -1);
	TEST_EQ_INT(a.credit, INT64_MIN);
	open_is(&a, "1:1:1;");
	free(a.open);
}

static void before(void)
{
	/* accounts a CNY (opening 100) and b CNY (opening -50); a payment
	 * of 7 to a at ts 5 (before any as_of of 2026) */
	struct account accts[2];
	struct payment pay;
	struct catalog cat;
	struct carry c;
	struct carry_acct ca;
	const struct account *list[2] = { &accts[0], &accts[1] };
	dec_t out[2];
	int declined;

	memset(accts, 0, sizeof(accts));
	memset(&pay, 0, sizeof(pay));
	memset(&cat, 0, sizeof(cat));
	accts[0].tenant = (char *)"a";
	accts[1].tenant = (char *)"b";
	memcpy(accts[0].currency, "CNY", 4);
	memcpy(accts[1].currency, "CNY", 4);
	accts[0].opening_balance = M(100);
	accts[1].opening_balance = M(-50);
	pay.id = (char *)"P";
	pay.tenant = (char *)"a";
	memcpy(pay.currency, "CNY", 4);
	pay.amount = M(7);
	pay.ts = 5;
	cat.accounts = accts;
	cat.naccounts = 2;
	cat.payments = &pay;
	cat.npayments = 1;
	/* a's final invoices before the period add up to 30; b has none:
	 * a 100 + 7 - 30 = 77, b -50 */
	memset(&ca, 0, sizeof(ca));
	ca.tenant = (char *)"a";
	memcpy(ca.currency, "CNY", 4);
	ca.total = M(30);
	c.period = 0;
	c.a = &ca;
	c.n = 1;
	TEST_EQ_INT(balance_before_carry(&cat, &c, list, 2, 24312, out,
					 &declined), 0);
	TEST_EQ_INT(declined, 0);
	TEST_EQ_INT(out[0], M(77));
	TEST_EQ_INT(out[1], M(-50));
	/* no carry at all (no final period before): credits alone */
	TEST_EQ_INT(balance_before_carry(&cat, NULL, list, 2, 24312, out,
					 &declined), 0);
	TEST_EQ_INT(out[0], M(107));
	/* 107 - INT64_MIN does not fit: declined, for balance_before to
	 * report with its words */
	ca.total = INT64_MIN;
	TEST_EQ_INT(balance_before_carry(&cat, &c, list, 2, 24312, out,
					 &declined), 0);
	TEST_EQ_INT(declined, 1);
}

static void find(void)
{
	struct carry_acct as[3];
	struct carry c;

	memset(as, 0, sizeof(as));
	/* strcmp's order: "a" CNY < "a" USD < "b" CNY */
	as[0].tenant = (char *)"a";
	memcpy(as[0].currency, "CNY", 4);
	as[1].tenant = (char *)"a";
	memcpy(as[1].currency, "USD", 4);
	as[2].tenant = (char *)"b";
	memcpy(as[2].currency, "CNY", 4);
	c.period = 0;
	c.a = as;
	c.n = 3;
	TEST_TRUE(carry_find(&c, "a", "USD") == &as[1]);
	TEST_TRUE(carry_find(&c, "b", "CNY") == &as[2]);
	TEST_TRUE(carry_find(&c, "a", "EUR") == NULL);
	TEST_TRUE(carry_find(&c, "c", "CNY") == NULL);
}

int main(void)
{
	/* string literals stand in for the catalog's strings: never
	 * freed or written */
	walk();
	negative_credits();
	overflow();
	before();
	find();
	return TEST_REPORT();
}
