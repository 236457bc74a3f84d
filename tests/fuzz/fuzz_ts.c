/* Fuzz target: RFC 3339 timestamps (ts.h), which every usage record
 * carries.
 *
 * Properties: whatever ts_parse accepts has the shape
 * YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+hh:mm|-hh:mm); formatting the instant
 * in several offsets (ts_format) gives text that parses back to the same
 * instant (when its year is one ts.h accepts); the instant lies in the period ts_period_of names, between
 * that period's start and the next one's; offsets round-trip too. */
#include "ts.h"
#include "fuzzhelp.h"
#include "banned.h"

static int digit(char c)
{
	return c >= '0' && c <= '9';
}

static void shape(const char *s, size_t n)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd";
	size_t i;

	CHECK(n >= 20);
	for (i = 0; i < 19; i++)
		CHECK(pat[i] == 'd' ? digit(s[i]) : s[i] == pat[i]);
	if (s[i] == '.') {
		size_t k = ++i;

		while (i < n && digit(s[i]))
			i++;
		CHECK(i - k >= 1 && i - k <= 9);
	}
	if (s[i] == 'Z') {
		CHECK(i + 1 == n);
	} else {
		CHECK(i + 6 == n && (s[i] == '+' || s[i] == '-') &&
		      digit(s[i + 1]) && digit(s[i + 2]) && s[i + 3] == ':' &&
		      digit(s[i + 4]) && digit(s[i + 5]));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	int offsets[4] = { 0, 8 * 3600, -(5 * 3600 + 30 * 60), 0 };
	char buf[TS_MAX_TEXT];
	int64_t t, u;
	size_t i, len;
	int off;

	if (ts_parse_offset(s, size, &off) == 0) {
		CHECK(off > -86400 && off < 86400 && off % 60 == 0);
		offsets[3] = off;
	} else {
		offsets[3] = (int)(size % 1440) * 60 - 719 * 60;
	}
	if (ts_parse(s, size, &t) != 0)
		return 0;
	shape(s, size);
	for (i = 0; i < 4; i++) {
		int p;
		int64_t start, next;

		len = ts_format(t, offsets[i], buf);
		CHECK(len == strlen(buf));
		CHECK(ts_parse_offset(buf + len - 6, 6, &off) == 0 &&
		      off == offsets[i]);
		/* ts.h rejects text outside the years 1678..2261, so an
		 * instant near either end written in another offset (e.g.
		 * 1678-01-01T00:00:00Z at -05:30) need not read back */
		if (strncmp(buf, "1678", 4) >= 0 && strncmp(buf, "2261", 4) <= 0) {
			CHECK(ts_parse(buf, len, &u) == 0);
			CHECK(u == t);
		}
		p = ts_period_of(t, offsets[i]);
		start = ts_period_start(p, offsets[i]);
		next = ts_period_start(p + 1, offsets[i]);
		CHECK(start <= t && t < next);
		CHECK(ts_period_format(p, 1, buf) == 7);
		CHECK(ts_period_parse(buf, &off) != 0 || off == p);
	}
	return 0;
}
