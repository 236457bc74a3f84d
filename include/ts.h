/* ts: instants, fixed UTC offsets and billing periods.
 *
 * An instant is an int64 count of nanoseconds since 1970-01-01T00:00:00Z.
 * That covers the years 1678 to 2261; RFC 3339 text outside 1678-01-01 ..
 * 2261-12-31 is rejected. A fixed offset is a number of seconds east of UTC.
 * A period is a calendar month, numbered year * 12 + (month - 1). */
#ifndef TS_H
#define TS_H

#include <stddef.h>
#include <stdint.h>

#define TS_NS_PER_SEC 1000000000LL
#define TS_MAX_TEXT 48 /* buffer size for a formatted instant, with NUL */

/* Parses RFC 3339 `YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)` from
 * s[0..n): 'T' and 'Z' upper case only, 1 to 9 fraction digits, a real
 * calendar date (2026-02-30 is bad), hour 00-23, minute and second 00-59
 * (no leap second), offset hours 00-23 and minutes 00-59. Returns 0 and
 * sets *out, or -1. */
int ts_parse(const char *s, size_t n, int64_t *out);

/* Parses a fixed offset `+hh:mm` or `-hh:mm` (or "Z") into seconds east of
 * UTC. Returns 0 or -1. */
int ts_parse_offset(const char *s, size_t n, int *out);

/* Formats t in the offset as `YYYY-MM-DDTHH:MM:SS[.frac]+hh:mm`, the
 * fraction only when not zero and without trailing zeros; "+00:00" for
 * offset 0. buf holds at least TS_MAX_TEXT bytes. Returns length. */
size_t ts_format(int64_t t, int offset, char *buf);

/* The period (month) that holds instant t in the offset. */
int ts_period_of(int64_t t, int offset);

/* The first instant of period p in the offset. */
int64_t ts_period_start(int p, int offset);

/* Parses `YYYY-MM` into a period. Returns 0 or -1. */
int ts_period_parse(const char *s, int *out);

/* Writes p to buf (at least 8 bytes) as `YYYY-MM` when dash is non-zero,
 * else as `YYYYMM` (the form in invoice numbers). Returns the length. */
size_t ts_period_format(int p, int dash, char *buf);

/* t plus a whole number of days, checked: 0 or -1 if out of range. */
int ts_add_days(int64_t t, int64_t days, int64_t *out);

#endif
