/* settings: settings.conf of the config directory (SPEC section 3,
 * "settings.conf").
 *
 * Lines of KEY = VALUE; '#' starts a comment; blanks around keys and
 * values and blank lines are ignored; a leading UTF-8 BOM is dropped.
 * Known keys: timezone (an offset, default UTC), invoice_prefix (1..64 of
 * [A-Za-z0-9_-], default "INV"), rounding (half_up or half_even, default
 * half_up), alert_pct (0 to 100, default 20); other keys are ignored. An
 * empty value gives the default. Messages name file, line and key
 * (sheet.h), e.g. "bad rounding 'x' (want half_up or half_even) at
 * cfg/settings.conf:3 (key rounding)". */
#ifndef SETTINGS_H
#define SETTINGS_H

#include <stdint.h>

#include "dec.h"
#include "err.h"

struct settings {
	int tz;                   /* offset in seconds east of UTC */
	char invoice_prefix[65];  /* default "INV" */
	enum dec_round rounding;  /* DEC_HALF_UP or DEC_HALF_EVEN */
	dec_t alert_pct;          /* default 20 */
	dec_t tax_rate;
	int64_t payment_terms_days;
};

/* Fills set with the defaults, then reads dir/settings.conf over them (a
 * missing file leaves the defaults). Returns 0, or ST_ERROR with e filled
 * at the first bad line (set then holds the lines before it). */
int settings_load(const char *dir, struct settings *set, struct err *e);

#endif
