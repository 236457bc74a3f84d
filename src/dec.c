/* dec: exact fixed-point decimals. */
#include "dec.h"

#include <stdint.h>
#include <string.h>

#include "iso4217.h"
#include "banned.h"

/* 10^0 .. 10^12: the scales a dec_t or dec_wide is rounded between. */
static const int64_t pow10_tab[13] = {
	1LL, 10LL, 100LL, 1000LL, 10000LL, 100000LL, 1000000LL,
	10000000LL, 100000000LL, 1000000000LL, 10000000000LL,
	100000000000LL, 1000000000000LL
};

/* 10^36, the bound of a dec_wide sum (built at compile time from pieces
 * because C has no 128-bit literals). */
#define WIDE_BOUND ((dec_wide)1000000000000000000LL * (dec_wide)1000000000000000000LL)

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int mode_valid(enum dec_round mode)
{
	return mode == DEC_HALF_UP || mode == DEC_HALF_EVEN ||
	       mode == DEC_UP || mode == DEC_DOWN;
}

/* n / d rounded to an integer by mode, d > 0. Rounding is decided on the
 * exact remainder, so a value is only ever rounded once. 2 * |r| < 2 * d
 * cannot overflow for any d settle passes (d <= 2^64). */
static dec_wide div_round(dec_wide n, dec_wide d, enum dec_round mode)
{
	dec_wide q = n / d, r = n % d, ar, twice;
	int away = 0;

	if (r == 0)
		return q;
	ar = r < 0 ? -r : r;
	twice = ar * 2;
	switch (mode) {
	case DEC_HALF_UP:
		away = twice >= d;
		break;
	case DEC_HALF_EVEN:
		away = twice > d || (twice == d && (q & 1) != 0);
		break;
	case DEC_UP:
		away = 1;
		break;
	case DEC_DOWN:
		away = 0;
		break;
	}
	if (away)
		q += n < 0 ? -1 : 1;
	return q;
}

/* q counts units of 10^-digits; scale it back to millionths if it fits. */
static int to_dec(dec_wide q, int digits, dec_t *out)
{
	int64_t scale = pow10_tab[DEC_DIGITS - digits];

	if (q > INT64_MAX / scale || q < INT64_MIN / scale)
		return -1;
	*out = (dec_t)(q * scale);
	return 0;
}

/* Parses the unsigned magnitude; limit is the largest magnitude allowed,
 * in millionths. */
static int parse_mag(const char *s, size_t n, dec_wide limit, dec_wide *out)
{
	dec_wide v = 0;
	size_t i = 0, fd = 0;

	if (!s || n == 0)
		return -1;
	if (!is_digit(s[0]))
		return -1;
	for (; i < n && is_digit(s[i]); i++) {
		v = v * 10 + (s[i] - '0');
		if (v * DEC_ONE > limit)
			return -1;
	}
	v *= DEC_ONE;
	if (i < n) {
		if (s[i] != '.' || i + 1 >= n)
			return -1;
		for (i++; i < n; i++, fd++) {
			if (!is_digit(s[i]) || fd >= DEC_DIGITS)
				return -1;
			v += (dec_wide)(s[i] - '0') * pow10_tab[DEC_DIGITS - 1 - fd];
		}
		if (v > limit)
			return -1;
	}
	*out = v;
	return 0;
}

int dec_parse(const char *s, size_t n, dec_t *out)
{
	dec_wide v;

	if (parse_mag(s, n, INT64_MAX, &v) < 0)
		return -1;
	*out = (dec_t)v;
	return 0;
}

int dec_parse_signed(const char *s, size_t n, dec_t *out)
{
	dec_wide v;

	if (!s || n == 0 || s[0] != '-')
		return dec_parse(s, n, out);
	/* The negative range is one larger: INT64_MIN itself parses. */
	if (parse_mag(s + 1, n - 1, -(dec_wide)INT64_MIN, &v) < 0)
		return -1;
	*out = (dec_t)-v;
	return 0;
}

int dec_parse_int(const char *s, size_t n, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (!s || n == 0 || n > 18)
		return -1;
	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Writes the magnitude's integer part and `digits` fraction digits (all
 * of them, or with trailing zeros trimmed); the sign only when the printed
 * value is not zero. Built by hand: no format can truncate. */
static size_t format_digits(dec_t v, int digits, int trim, char *buf)
{
	uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
	uint64_t ip = mag / DEC_ONE, fp = mag % DEC_ONE;
	char tmp[DEC_MAX_TEXT];
	size_t n = 0, t = 0;
	int nf = digits, i;

	fp /= (uint64_t)pow10_tab[DEC_DIGITS - digits];
	if (trim) {
		while (nf > 0 && fp % 10 == 0) {
			fp /= 10;
			nf--;
		}
	}
	if (v < 0 && (ip || fp))
		buf[n++] = '-';
	do {
		tmp[t++] = (char)('0' + ip % 10);
		ip /= 10;
	} while (ip);
	while (t)
		buf[n++] = tmp[--t];
	if (nf > 0) {
		buf[n++] = '.';
		for (i = nf - 1; i >= 0; i--) {
			buf[n + i] = (char)('0' + fp % 10);
			fp /= 10;
		}
		n += nf;
	}
	buf[n] = '\0';
	return n;
}

size_t dec_format(dec_t v, char *buf)
{
	return format_digits(v, DEC_DIGITS, 1, buf);
}

size_t dec_format_fixed(dec_t v, int digits, char *buf)
{
	if (digits < 0)
		digits = 0;
	if (digits > DEC_DIGITS)
		digits = DEC_DIGITS;
	return format_digits(v, digits, 0, buf);
}

int dec_add(dec_t a, dec_t b, dec_t *out)
{
	dec_t r;

	if (__builtin_add_overflow(a, b, &r))
		return -1;
	*out = r;
	return 0;
}

int dec_sub(dec_t a, dec_t b, dec_t *out)
{
	dec_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return -1;
	*out = r;
	return 0;
}

int dec_mul(dec_t a, dec_t b, int digits, enum dec_round mode, dec_t *out)
{
	return dec_wide_round(dec_wide_mul(a, b), digits, mode, out);
}

int dec_div(dec_t a, dec_t b, int digits, enum dec_round mode, dec_t *out)
{
	dec_wide n, d;

	if (b == 0 || digits < 0 || digits > DEC_DIGITS || !mode_valid(mode))
		return -1;
	/* a / b is a plain ratio (both in millionths); scaled to 10^-digits. */
	n = (dec_wide)a * pow10_tab[digits];
	d = b;
	if (d < 0) {
		n = -n;
		d = -d;
	}
	return to_dec(div_round(n, d, mode), digits, out);
}

int dec_round(dec_t v, int digits, enum dec_round mode, dec_t *out)
{
	if (digits < 0 || digits > DEC_DIGITS || !mode_valid(mode))
		return -1;
	return to_dec(div_round(v, pow10_tab[DEC_DIGITS - digits], mode),
		      digits, out);
}

int dec_percent(dec_t v, dec_t pct, int digits, enum dec_round mode,
		dec_t *out)
{
	if (digits < 0 || digits > DEC_DIGITS || !mode_valid(mode))
		return -1;
	/* v x pct is exact in 10^-12 units (at most 2^126); / 100 and the
	 * rounding to 10^-digits are one division, so one rounding */
	return to_dec(div_round((dec_wide)v * pct,
				(dec_wide)pow10_tab[2 * DEC_DIGITS - digits] *
				100, mode), digits, out);
}

dec_wide dec_wide_mul(dec_t a, dec_t b)
{
	return (dec_wide)a * b;
}

dec_wide dec_wide_from(dec_t v)
{
	return (dec_wide)v * DEC_ONE;
}

int dec_wide_add(dec_wide a, dec_wide b, dec_wide *out)
{
	dec_wide r;

	if (__builtin_add_overflow(a, b, &r))
		return -1;
	if (r > WIDE_BOUND || r < -WIDE_BOUND)
		return -1;
	*out = r;
	return 0;
}

int dec_wide_round(dec_wide v, int digits, enum dec_round mode, dec_t *out)
{
	if (digits < 0 || digits > DEC_DIGITS || !mode_valid(mode))
		return -1;
	return to_dec(div_round(v, pow10_tab[2 * DEC_DIGITS - digits], mode),
		      digits, out);
}

int dec_wide_cmp(dec_wide a, dec_wide b)
{
	return a < b ? -1 : a > b;
}

int dec_round_parse(const char *s, enum dec_round *out)
{
	static const struct {
		const char *name;
		enum dec_round mode;
	} names[] = {
		{ "half_up", DEC_HALF_UP },
		{ "half_even", DEC_HALF_EVEN },
		{ "up", DEC_UP },
		{ "down", DEC_DOWN },
	};
	size_t i;

	if (!s)
		return -1;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].mode;
			return 0;
		}
	}
	return -1;
}

int dec_minor_digits(const char *currency)
{
	int m = iso4217_minor(currency);

	/* the catalog refuses codes the table lacks; 2 keeps a caller that
	 * never went through it (a state's stored code) printing amounts */
	return m < 0 ? 2 : m;
}

int dec_currency_valid(const char *s)
{
	int i;

	if (!s)
		return 0;
	for (i = 0; i < 3; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return 0;
	return s[3] == '\0';
}
