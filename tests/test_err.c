/* Unit tests of err.h: err_set, and err_show's escaping of paths for a
 * terminal (issue 15: file names with ESC, TAB, CR, newline). */
#include <string.h>

#include "err.h"
#include "testhelp.h"
#include "banned.h"

/* Each row: the text, what err_show makes of it. */
static const struct {
	const char *in, *want;
} rows[] = {
	{ "usage/a.csv", "usage/a.csv" },                   /* as it is */
	{ "", "" },
	{ "a\tb", "a\\tb" },                                /* TAB */
	{ "a\rb", "a\\rb" },                                /* CR */
	{ "a\nb", "a\\nb" },                                /* LF */
	{ "\033[2J", "\\x1B[2J" },                          /* ESC */
	{ "\033]0;x\007", "\\x1B]0;x\\x07" },              /* ESC, BEL */
	{ "\001\037\177", "\\x01\\x1F\\x7F" },             /* C0, DEL */
	{ "caf\xc3\xa9.csv", "caf\xc3\xa9.csv" },           /* UTF-8 é */
	{ "\xe2\x82\xac", "\xe2\x82\xac" },                 /* U+20AC */
	{ "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" },         /* U+1F600 */
	{ "\xc2\x9b" "31m", "\\xC2\\x9B31m" },              /* C1 CSI */
	{ "\xc2\xa0", "\xc2\xa0" },                         /* U+00A0 */
	{ "\xff\xfe", "\\xFF\\xFE" },                       /* not UTF-8 */
	{ "\xc3", "\\xC3" },                                /* cut short */
	{ "\xe0\x80\x80", "\\xE0\\x80\\x80" },              /* overlong */
	{ "\xed\xa0\x80", "\\xED\\xA0\\x80" },              /* surrogate */
	{ "\xf4\x90\x80\x80", "\\xF4\\x90\\x80\\x80" },     /* > U+10FFFF */
	{ "back\\slash", "back\\slash" },                   /* printable */
};

int main(void)
{
	char buf[16];
	size_t i;
	struct err e;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		TEST_EQ_STR(ERR_SHOW(rows[i].in), rows[i].want);
	/* cut to the buffer (16 bytes: 12 of text, "...", NUL), never
	 * inside an escape or a character */
	TEST_EQ_STR(err_show("abcdefghijklmnopqrst", buf, sizeof(buf)),
		    "abcdefghijkl...");
	TEST_EQ_STR(err_show("abcdefghij\033xyz", buf, sizeof(buf)),
		    "abcdefghij...");
	TEST_EQ_STR(err_show("abcdefghij\xc3\xa9\xc3\xa9", buf, sizeof(buf)),
		    "abcdefghij\xc3\xa9...");
	TEST_EQ_STR(err_show("short", buf, sizeof(buf)), "short");
	TEST_EQ_INT(err_set(&e, ST_BUSY, "state file '%s' is in use", "s.db"),
		    ST_BUSY);
	TEST_EQ_STR(e.msg, "state file 's.db' is in use");
	return TEST_REPORT();
}
