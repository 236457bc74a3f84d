/* dec: exact fixed-point decimals (SPEC section 2).
 *
 * A dec_t is a signed 64-bit count of millionths: 1.5 is 1500000.
 * Every quantity, price and amount in settle is a dec_t; binary floating
 * point never touches one. Products and quotients go through 128-bit
 * intermediates; every operation that could leave the int64 range returns
 * -1 instead of a wrapped value.
 *
 * Exact amounts: a product of two dec_t has 12 decimals. Rating keeps such
 * sums exact in a dec_wide (int128 with 12 decimals) and rounds once, per
 * invoice line, with dec_wide_round(). */
#ifndef DEC_H
#define DEC_H

#include <stddef.h>
#include <stdint.h>

typedef int64_t dec_t;
typedef __int128 dec_wide;

#define DEC_DIGITS 6
#define DEC_ONE ((dec_t)1000000)
#define DEC_WIDE_ONE ((dec_wide)1000000000000LL) /* 1 with 12 decimals */
#define DEC_MAX_TEXT 32 /* buffer size for any formatted dec_t, with NUL */

/* Rounding modes. For negative values "up" and "half up" go away from
 * zero and "down" toward zero, so that rounding is symmetric. */
enum dec_round {
	DEC_HALF_UP,   /* .5 away from zero (commercial rounding) */
	DEC_HALF_EVEN, /* .5 to the even neighbour (banker's rounding) */
	DEC_UP,        /* away from zero: ceiling for positive values */
	DEC_DOWN       /* toward zero: truncation */
};

/* Parses an unsigned decimal `digits[.digits]` of at most 6 fractional
 * digits from s[0..n) (no sign, exponent, separators or spaces; "1." and
 * ".5" are bad). Returns 0 and sets *out, or -1 when the text is bad or the
 * value does not fit. */
int dec_parse(const char *s, size_t n, dec_t *out);

/* As dec_parse, but a single leading '-' is allowed ("-12.50"). "-0" is 0. */
int dec_parse_signed(const char *s, size_t n, dec_t *out);

/* Parses a plain non-negative integer of at most 18 digits. 0 or -1. */
int dec_parse_int(const char *s, size_t n, int64_t *out);

/* Writes v in its shortest exact form ("2.333333", "15000", "0.5", "-3")
 * to buf (at least DEC_MAX_TEXT bytes), NUL-terminated; returns length. */
size_t dec_format(dec_t v, char *buf);

/* Writes v with exactly `digits` fractional digits (0..6); v must already
 * be rounded to that many (the extra digits are cut, not rounded).
 * "2000.00" for digits 2, "5" for digits 0. Returns length. */
size_t dec_format_fixed(dec_t v, int digits, char *buf);

/* Checked arithmetic: 0 and *out set, or -1 on overflow. */
int dec_add(dec_t a, dec_t b, dec_t *out);
int dec_sub(dec_t a, dec_t b, dec_t *out);

/* *out = a * b rounded to `digits` decimals (0..6) by mode. */
int dec_mul(dec_t a, dec_t b, int digits, enum dec_round mode, dec_t *out);

/* *out = a / b rounded to `digits` decimals (0..6) by mode; -1 also when
 * b is 0. */
int dec_div(dec_t a, dec_t b, int digits, enum dec_round mode, dec_t *out);

/* *out = v rounded to `digits` decimals (0..6) by mode. This,
 * dec_wide_round and dec_percent are the only places settle rounds. */
int dec_round(dec_t v, int digits, enum dec_round mode, dec_t *out);

/* *out = v x pct / 100 rounded once to `digits` decimals (0..6) by mode:
 * a tax of pct percent on v (SPEC 7 v2). -1 when it does not fit. */
int dec_percent(dec_t v, dec_t pct, int digits, enum dec_round mode,
		dec_t *out);

/* Exact product of two dec_t as a 12-decimal wide value (cannot overflow). */
dec_wide dec_wide_mul(dec_t a, dec_t b);

/* A dec_t as a 12-decimal wide value. */
dec_wide dec_wide_from(dec_t v);

/* Checked sum of wide values; -1 if it leaves +-10^36 (far beyond any
 * amount that could be rounded back into a dec_t). */
int dec_wide_add(dec_wide a, dec_wide b, dec_wide *out);

/* Rounds a 12-decimal wide value to `digits` decimals (0..6) by mode and
 * returns it as a dec_t; -1 if it does not fit. */
int dec_wide_round(dec_wide v, int digits, enum dec_round mode, dec_t *out);

/* Compares two wide values: -1, 0 or 1. */
int dec_wide_cmp(dec_wide a, dec_wide b);

/* Parses a rounding mode name: "half_up", "half_even", "up", "down".
 * Returns 0 and sets *out, or -1. */
int dec_round_parse(const char *s, enum dec_round *out);

/* The ISO 4217 exponent (minor digits) of a currency code, from the
 * table of iso4217.h (0 for JPY, KRW, VND, CLP, ISK, XAF; 3 for BHD, KWD,
 * OMR, JOD, TND, IQD, LYD; 4 for CLF); 2 for a code not in the table. */
int dec_minor_digits(const char *currency);

/* 1 if s is three capital ASCII letters. */
int dec_currency_valid(const char *s);

#endif
