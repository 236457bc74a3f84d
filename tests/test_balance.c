/* Unit tests for balance_dates: the issue date is the date of a period's
 * as_of (the first day of the next month, SPEC 7) and the due date that
 * plus payment_terms_days. Expected dates worked out by hand and
 * cross-checked with Python's datetime.date + timedelta(days=N). The
 * dates of the last (period, zone, terms) are kept between calls: the
 * calls alternate keys so that a kept date of another key would show. */
#include "balance.h"

#include <stdint.h>
#include <string.h>

#include "testhelp.h"
#include "banned.h"

#define P(y, m) ((y) * 12 + (m) - 1)

static void dates(const struct catalog *cat, int p, const char *issue,
		  const char *due)
{
	char i[11], d[11];

	memset(i, 'x', sizeof(i));
	memset(d, 'x', sizeof(d));
	TEST_EQ_INT(balance_dates(cat, p, i, d), 0);
	TEST_EQ_STR(i, issue);
	TEST_EQ_STR(d, due);
}

int main(void)
{
	struct catalog a, b;
	char i[11], d[11] = "untouched";

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.set.payment_terms_days = 15;
	b.set.payment_terms_days = 30;
	/* 2025-01: as_of 2025-02-01; + 15 days = 2025-02-16 */
	dates(&a, P(2025, 1), "2025-02-01", "2025-02-16");
	/* the same period, 30 days: February 2025 has 28, so 03-03 */
	dates(&b, P(2025, 1), "2025-02-01", "2025-03-03");
	/* 2024-02: as_of 2024-03-01 (after the 29th), + 15 = 03-16 */
	dates(&a, P(2024, 2), "2024-03-01", "2024-03-16");
	dates(&a, P(2025, 1), "2025-02-01", "2025-02-16");
	/* 12 h west of UTC: the as_of is local midnight, the same date */
	b.set.tz = -12 * 3600;
	dates(&b, P(2025, 1), "2025-02-01", "2025-03-03");
	/* the largest terms the config takes: 36500 days, 2125-01-08 */
	a.set.payment_terms_days = 36500;
	dates(&a, P(2025, 1), "2025-02-01", "2125-01-08");
	/* terms x 86400 x 10^9 ns overflows: -1 with a due date asked
	 * for (it is left alone), 0 without, the issue date given */
	a.set.payment_terms_days = INT64_MAX / 1000;
	TEST_EQ_INT(balance_dates(&a, P(2025, 1), i, d), -1);
	TEST_EQ_STR(d, "untouched");
	memset(i, 'x', sizeof(i));
	TEST_EQ_INT(balance_dates(&a, P(2025, 1), i, NULL), 0);
	TEST_EQ_STR(i, "2025-02-01");
	dates(&b, P(2025, 1), "2025-02-01", "2025-03-03");
	return TEST_REPORT();
}
