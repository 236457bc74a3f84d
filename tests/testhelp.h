/* testhelp.h: a tiny unit-test harness (after Redis src/testhelp.h).
 *
 *   TEST_EQ_INT(a, b), TEST_EQ_STR(a, b), TEST_TRUE(cond)
 *   return TEST_REPORT(); at the end of main.
 * Each check prints the failing expression with file and line; the report
 * prints "N passed, N failed" and returns non-zero if any failed. */
#ifndef TESTHELP_H
#define TESTHELP_H

#include <stdio.h>
#include <string.h>

static int test_passed, test_failed;

#define TEST_TRUE(cond) do { \
	if (cond) test_passed++; \
	else { test_failed++; \
		fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define TEST_EQ_INT(a, b) do { \
	long long test_a_ = (long long)(a), test_b_ = (long long)(b); \
	if (test_a_ == test_b_) test_passed++; \
	else { test_failed++; \
		fprintf(stderr, "FAIL %s:%d: %s == %s (%lld vs %lld)\n", \
			__FILE__, __LINE__, #a, #b, test_a_, test_b_); } \
} while (0)

#define TEST_EQ_STR(a, b) do { \
	const char *test_a_ = (a), *test_b_ = (b); \
	if (test_a_ && test_b_ && strcmp(test_a_, test_b_) == 0) test_passed++; \
	else { test_failed++; \
		fprintf(stderr, "FAIL %s:%d: %s == %s ('%s' vs '%s')\n", \
			__FILE__, __LINE__, #a, #b, test_a_ ? test_a_ : "(null)", \
			test_b_ ? test_b_ : "(null)"); } \
} while (0)

#define TEST_REPORT() ( \
	printf("%s: %d passed, %d failed\n", __FILE__, test_passed, test_failed), \
	test_failed ? 1 : 0)

#endif
