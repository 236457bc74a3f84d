/* ts: instants, fixed UTC offsets and billing periods.
 *
 * Calendar arithmetic is Howard Hinnant's days_from_civil/civil_from_days
 * (proleptic Gregorian), never libc's time functions: those depend on the
 * process time zone and on time_t's range. */
#include "ts.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "banned.h"

#define SECS_PER_DAY 86400LL
#define NS_PER_DAY (SECS_PER_DAY * TS_NS_PER_SEC)
#define YEAR_MIN 1678
#define YEAR_MAX 2261

/* Days since 1970-01-01 of the civil date y-m-d (m 1..12, d 1..31). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The civil date of day z since 1970-01-01. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The number in s[0..n) of plain digits, or -1. n is at most 4. */
static int digits(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* Local wall time of t in the offset: days since the epoch and
 * nanoseconds into that day. 128-bit so that no offset can overflow. */
static void local_split(int64_t t, int offset, int64_t *days, int64_t *ns)
{
	__int128 local = (__int128)t + (__int128)offset * TS_NS_PER_SEC;
	__int128 q = local / NS_PER_DAY, r = local % NS_PER_DAY;

	if (r < 0) {
		r += NS_PER_DAY;
		q--;
	}
	*days = (int64_t)q;
	*ns = (int64_t)r;
}

int ts_parse_offset(const char *s, size_t n, int *out)
{
	int hh, mm;

	if (!s)
		return -1;
	if (n == 1 && s[0] == 'Z') {
		*out = 0;
		return 0;
	}
	if (n != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':')
		return -1;
	hh = digits(s + 1, 2);
	mm = digits(s + 4, 2);
	if (hh < 0 || hh > 23 || mm < 0 || mm > 59)
		return -1;
	*out = (s[0] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
	return 0;
}

/* The value of the digit c, or a value above 9 when c is not a digit */
static inline unsigned dv(char c)
{
	return (unsigned)(unsigned char)c - '0';
}

/* The 8 bytes at p as a number, p[0] the low byte; le4: 4 bytes. */
static inline uint64_t le8(const char *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

static inline uint64_t le4(const char *p)
{
	uint32_t w;

	memcpy(&w, p, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap32(w);
#endif
	return w;
}

#define ONES 0x0101010101010101ULL

/* Non-zero unless every byte of w under mask dm is a digit and every
 * byte under sm is the byte of sp there: a digit is 0x3?, and 0x3? + 6
 * is still 0x3? only for 0x30..0x39. (A carry out of a byte above 0xf9
 * can spoil the next byte's test, but that byte fails the first test.) */
static inline uint64_t off_pattern(uint64_t w, uint64_t dm, uint64_t sm,
				   uint64_t sp)
{
	uint64_t hi = ONES * 0xf0;

	return ((w & hi & dm) ^ (ONES * 0x30 & dm)) |
	       (((w + ONES * 6) & hi & dm) ^ (ONES * 0x30 & dm)) |
	       ((w & sm) ^ sp);
}

/* Byte i of w's low nibbles: the digit at that place. */
#define DIG(w, i) ((int)(((w) >> (8 * (i))) & 0x0f))

/* ts_parse runs once per usage record, so the fixed part of the text
 * (YYYY-MM-DDTHH:MM:SS) is checked 8 bytes at a time, without a branch
 * per digit; the fraction and the offset follow. */
int ts_parse(const char *s, size_t n, int64_t *out)
{
	uint64_t w0, w1, w2;
	int year, mon, day, hh, mm, ss, offset = 0;
	int64_t frac = 0;
	size_t i = 19, nd = 0;
	__int128 ns;

	if (!s || n < 20)
		return -1;
	/* "YYYY-MM-", "DDTHH:MM", "M:SS" (byte 15 again) */
	w0 = le8(s);
	w1 = le8(s + 8);
	w2 = le4(s + 15);
	if (off_pattern(w0, 0x00ffff00ffffffffULL, 0xff0000ff00000000ULL,
			0x2d00002d00000000ULL) |
	    off_pattern(w1, 0xffff00ffff00ffffULL, 0x0000ff0000ff0000ULL,
			0x00003a0000540000ULL) |
	    off_pattern(w2, 0xffff00ffULL, 0xff00ULL, 0x3a00ULL))
		return -1;
	year = DIG(w0, 0) * 1000 + DIG(w0, 1) * 100 + DIG(w0, 2) * 10 +
	       DIG(w0, 3);
	mon = DIG(w0, 5) * 10 + DIG(w0, 6);
	day = DIG(w1, 0) * 10 + DIG(w1, 1);
	hh = DIG(w1, 3) * 10 + DIG(w1, 4);
	mm = DIG(w1, 6) * 10 + DIG(w1, 7);
	ss = DIG(w2, 2) * 10 + DIG(w2, 3);
	if (year < YEAR_MIN || year > YEAR_MAX || mon < 1 || mon > 12 ||
	    day < 1 || (day > 28 && day > days_in_month(year, mon)) ||
	    hh > 23 || mm > 59 || ss > 59)
		return -1;
	if (s[i] == '.') {
		for (i++; i < n && dv(s[i]) <= 9; i++, nd++) {
			if (nd >= 9)
				return -1;
			frac = frac * 10 + dv(s[i]);
		}
		if (nd == 0)
			return -1;
		for (; nd < 9; nd++)
			frac *= 10;
	}
	/* "Z", the usual, without the call */
	if (!(i + 1 == n && s[i] == 'Z') &&
	    ts_parse_offset(s + i, n - i, &offset) < 0)
		return -1;
	ns = (__int128)days_from_civil(year, mon, day) * SECS_PER_DAY;
	ns += hh * 3600 + mm * 60 + ss - offset;
	ns = ns * TS_NS_PER_SEC + frac;
	if (ns > INT64_MAX || ns < INT64_MIN)
		return -1;
	*out = (int64_t)ns;
	return 0;
}

size_t ts_format(int64_t t, int offset, char *buf)
{
	int64_t days, ns, y, secs, frac, aoff;
	int m, d, len, nf = 9;
	char fbuf[12];

	local_split(t, offset, &days, &ns);
	civil_from_days(days, &y, &m, &d);
	secs = ns / TS_NS_PER_SEC;
	frac = ns % TS_NS_PER_SEC;
	fbuf[0] = '\0';
	if (frac) {
		while (frac % 10 == 0) {
			frac /= 10;
			nf--;
		}
		snprintf(fbuf, sizeof(fbuf), ".%0*lld", nf, (long long)frac);
	}
	/* Offsets are whole minutes; seconds of an odd offset are not shown. */
	aoff = offset < 0 ? -(int64_t)offset : offset;
	len = snprintf(buf, TS_MAX_TEXT,
		       "%04lld-%02d-%02dT%02d:%02d:%02d%s%c%02d:%02d",
		       (long long)y, m, d, (int)(secs / 3600),
		       (int)(secs / 60 % 60), (int)(secs % 60), fbuf,
		       offset < 0 ? '-' : '+', (int)(aoff / 3600),
		       (int)(aoff / 60 % 60));
	if (len < 0)
		return 0;
	return (size_t)len < TS_MAX_TEXT ? (size_t)len : TS_MAX_TEXT - 1;
}

int ts_period_of(int64_t t, int offset)
{
	int64_t days, ns, y;
	int m, d;

	local_split(t, offset, &days, &ns);
	civil_from_days(days, &y, &m, &d);
	return (int)(y * 12 + (m - 1));
}

int64_t ts_period_start(int p, int offset)
{
	int64_t y = floor_div(p, 12);
	int m = (int)(p - y * 12) + 1;
	__int128 ns;

	ns = (__int128)days_from_civil(y, m, 1) * NS_PER_DAY -
	     (__int128)offset * TS_NS_PER_SEC;
	/* Only periods far outside the instant range get here. */
	if (ns > INT64_MAX)
		return INT64_MAX;
	if (ns < INT64_MIN)
		return INT64_MIN;
	return (int64_t)ns;
}

int ts_period_parse(const char *s, int *out)
{
	int y, m;

	if (!s || strlen(s) != 7 || s[4] != '-')
		return -1;
	y = digits(s, 4);
	m = digits(s + 5, 2);
	if (y < YEAR_MIN || y > YEAR_MAX || m < 1 || m > 12)
		return -1;
	*out = y * 12 + (m - 1);
	return 0;
}

size_t ts_period_format(int p, int dash, char *buf)
{
	int64_t y = floor_div(p, 12);
	int m = (int)(p - y * 12) + 1, len;

	len = snprintf(buf, 8, dash ? "%04lld-%02d" : "%04lld%02d",
		       (long long)y, m);
	if (len < 0)
		return 0;
	return len < 8 ? (size_t)len : 7;
}

int ts_add_days(int64_t t, int64_t days, int64_t *out)
{
	int64_t d, r;

	if (__builtin_mul_overflow(days, NS_PER_DAY, &d) ||
	    __builtin_add_overflow(t, d, &r))
		return -1;
	*out = r;
	return 0;
}
