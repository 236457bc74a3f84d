/* Fuzz target: the decimal parser and formatter (dec.h).
 *
 * The input is one or two texts separated by a space (the second, when
 * there, is an operand for arithmetic).
 * Properties:
 * - dec_parse, dec_parse_signed and dec_parse_int accept exactly what a
 *   small reference parser here accepts (SPEC 2: digits[.digits], at most
 *   6 fraction digits, no sign but the one '-' of the signed form, the
 *   value within int64 millionths), with the same value;
 * - round trip: whatever parses formats (dec_format) to text that parses
 *   back to the same value, and that text is the shortest form (no
 *   leading zeros, no trailing fraction zeros, no "-0"); the same for
 *   dec_format_fixed at 6 digits;
 * - dec_add, dec_sub, dec_mul and dec_div of two parsed values match
 *   128-bit reference arithmetic, rounding included, and report
 *   overflow instead of wrapping. */
#include "dec.h"
#include "fuzzhelp.h"
#include "banned.h"

typedef __int128 i128;

static int digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reference parser: 0 and *out (magnitude with sign) or -1. */
static int ref_parse(const char *s, size_t n, int allow_sign, i128 *out)
{
	size_t i = 0, fd = 0;
	int neg = 0;
	i128 v = 0;

	if (allow_sign && n > 0 && s[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i >= n || !digit(s[i]))
		return -1;
	for (; i < n && digit(s[i]); i++) {
		v = v * 10 + (s[i] - '0');
		if (v > ((i128)1 << 100))
			return -1;
	}
	for (fd = 0; fd < 6; fd++)
		v *= 10;
	if (i < n) {
		i128 scale = 100000;

		if (s[i] != '.' || i + 1 >= n)
			return -1;
		for (i++, fd = 0; i < n; i++, fd++) {
			if (!digit(s[i]) || fd >= 6)
				return -1;
			v += (s[i] - '0') * scale;
			scale /= 10;
		}
	}
	if (neg)
		v = -v;
	if (v > INT64_MAX || v < INT64_MIN)
		return -1;
	*out = v;
	return 0;
}

/* The shortest form of v, built independently of dec_format. */
static void ref_format(int64_t v, char *buf)
{
	uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
	uint64_t ip = mag / 1000000, fp = mag % 1000000;
	int nf = 6;
	char frac[8];
	int k;

	while (nf > 0 && fp % 10 == 0) {
		fp /= 10;
		nf--;
	}
	for (k = nf - 1; k >= 0; k--) {
		frac[k] = (char)('0' + fp % 10);
		fp /= 10;
	}
	frac[nf] = '\0';
	snprintf(buf, DEC_MAX_TEXT, "%s%llu%s%s", v < 0 ? "-" : "",
		 (unsigned long long)ip, nf ? "." : "", frac);
}

/* n / d rounded to an integer by mode (d > 0), on the exact remainder. */
static i128 ref_div_round(i128 n, i128 d, enum dec_round mode)
{
	i128 q = n / d, r = n % d, ar = r < 0 ? -r : r;
	int away = 0;

	if (r == 0)
		return q;
	switch (mode) {
	case DEC_HALF_UP: away = 2 * ar >= d; break;
	case DEC_HALF_EVEN: away = 2 * ar > d || (2 * ar == d && (q % 2) != 0); break;
	case DEC_UP: away = 1; break;
	case DEC_DOWN: away = 0; break;
	}
	return away ? q + (n < 0 ? -1 : 1) : q;
}

static const i128 p10[7] = { 1, 10, 100, 1000, 10000, 100000, 1000000 };

/* a exact with 12 decimals (a*b) or any exact rational num/den, rounded
 * to `digits` decimals and given back in millionths; -1 if it leaves
 * int64. num/den is the value in millionths (den > 0). */
static int ref_round(i128 num, i128 den, int digits, enum dec_round mode,
		     int64_t *out)
{
	i128 q = ref_div_round(num, den * p10[6 - digits], mode);

	q *= p10[6 - digits];
	if (q > INT64_MAX || q < INT64_MIN)
		return -1;
	*out = (int64_t)q;
	return 0;
}

static void one(const char *s, size_t n)
{
	char buf[DEC_MAX_TEXT], ref[DEC_MAX_TEXT];
	dec_t v, w;
	int64_t iv;
	i128 r;
	int ok, rok;
	size_t len;

	/* unsigned */
	ok = dec_parse(s, n, &v) == 0;
	rok = ref_parse(s, n, 0, &r) == 0;
	CHECK(ok == rok);
	if (ok) {
		CHECK(v == (int64_t)r && v >= 0);
		len = dec_format(v, buf);
		CHECK(len == strlen(buf));
		ref_format(v, ref);
		CHECK(strcmp(buf, ref) == 0);
		CHECK(dec_parse(buf, len, &w) == 0 && w == v);
		len = dec_format_fixed(v, 6, buf);
		CHECK(dec_parse(buf, len, &w) == 0 && w == v);
	}
	/* signed */
	ok = dec_parse_signed(s, n, &v) == 0;
	rok = ref_parse(s, n, 1, &r) == 0;
	CHECK(ok == rok);
	if (ok) {
		CHECK(v == (int64_t)r);
		len = dec_format(v, buf);
		ref_format(v, ref);
		CHECK(strcmp(buf, ref) == 0);
		CHECK(strcmp(buf, "-0") != 0);
		CHECK(dec_parse_signed(buf, len, &w) == 0 && w == v);
		len = dec_format_fixed(v, 6, buf);
		CHECK(dec_parse_signed(buf, len, &w) == 0 && w == v);
	}
	/* plain integers of at most 18 digits */
	{
		size_t i;

		rok = n >= 1 && n <= 18;
		for (i = 0; i < n && rok; i++)
			rok = digit(s[i]);
		ok = dec_parse_int(s, n, &iv) == 0;
		CHECK(ok == rok);
		if (ok && (i128)iv * 1000000 <= INT64_MAX)
			CHECK(dec_parse(s, n, &v) == 0 &&
			      (i128)v == (i128)iv * 1000000);
	}
}

static void arith(dec_t a, dec_t b, unsigned sel)
{
	int digits = (int)(sel % 7);
	enum dec_round mode = (enum dec_round)((sel / 7) % 4);
	int64_t want;
	dec_t got;
	i128 x;
	int ok, rok;

	x = (i128)a + b;
	ok = dec_add(a, b, &got) == 0;
	CHECK(ok == (x >= INT64_MIN && x <= INT64_MAX));
	CHECK(!ok || got == (int64_t)x);
	x = (i128)a - b;
	ok = dec_sub(a, b, &got) == 0;
	CHECK(ok == (x >= INT64_MIN && x <= INT64_MAX));
	CHECK(!ok || got == (int64_t)x);
	/* a * b in millionths is a*b / 10^6 */
	rok = ref_round((i128)a * b, 1000000, digits, mode, &want) == 0;
	ok = dec_mul(a, b, digits, mode, &got) == 0;
	CHECK(ok == rok);
	CHECK(!ok || got == want);
	/* a / b in millionths is a * 10^6 / b */
	if (b != 0) {
		i128 num = (i128)a * 1000000, den = b;

		if (den < 0) {
			num = -num;
			den = -den;
		}
		rok = ref_round(num, den, digits, mode, &want) == 0;
	} else {
		rok = 0;
	}
	ok = dec_div(a, b, digits, mode, &got) == 0;
	CHECK(ok == rok);
	CHECK(!ok || got == want);
	/* rounding alone */
	rok = ref_round(a, 1, digits, mode, &want) == 0;
	ok = dec_round(a, digits, mode, &got) == 0;
	CHECK(ok == rok);
	CHECK(!ok || got == want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const char *sp = memchr(s, ' ', size);
	dec_t a, b;

	if (!sp) {
		one(s, size);
		return 0;
	}
	one(s, (size_t)(sp - s));
	one(sp + 1, size - (size_t)(sp - s) - 1);
	if (dec_parse_signed(s, (size_t)(sp - s), &a) == 0 &&
	    dec_parse_signed(sp + 1, size - (size_t)(sp - s) - 1, &b) == 0)
		arith(a, b, (unsigned)size);
	return 0;
}
