/* settings: settings.conf of the config directory (SPEC section 3,
 * "settings.conf").
 *
 * Lines of KEY = VALUE; '#' starts a comment; blanks around keys and
 * values and blank lines are ignored; a leading UTF-8 BOM is dropped.
 * Known keys: timezone (an offset, default UTC), invoice_prefix (1..64 of
 * [A-Za-z0-9_-], default "INV"), rounding (half_up or half_even, default
 * half_up), alert_pct (0 to 100, default 20), (v2) tax_rate (a percent 0
 * to 100, default 0), payment_terms_days (0 to 36500, default 15) and the seller's
 * fields (text, default ""; seller_country two capital letters,
 * seller_endpoint "scheme:id"). An unknown key is ignored with a warning
 * naming file, line and the nearest known key (sheet.h). An empty value
 * gives the default. Messages name file, line and key (sheet.h), e.g.
 * "bad rounding 'x' (want half_up or half_even) at cfg/settings.conf:3
 * (key rounding)". */
#ifndef SETTINGS_H
#define SETTINGS_H

#include <stdint.h>

#include "dec.h"
#include "err.h"

struct sheet_warns;
struct sheet_bytes;

/* The seller's fields, in the order of settings_seller_keys. */
enum seller_field {
	SELLER_NAME, SELLER_ADDRESS, SELLER_CITY, SELLER_POSTAL_CODE,
	SELLER_COUNTRY, SELLER_TAX_ID, SELLER_EMAIL, SELLER_ENDPOINT,
	SELLER_IBAN, SELLER_NFIELDS
};

struct settings {
	int tz;                   /* offset in seconds east of UTC */
	char invoice_prefix[65];  /* default "INV" */
	enum dec_round rounding;  /* DEC_HALF_UP or DEC_HALF_EVEN */
	dec_t alert_pct;          /* default 20 */
	dec_t tax_rate;           /* (v2) percent, default 0 */
	int64_t payment_terms_days; /* (v2) default 15 */
	/* (v2) the issuer on documents, owned, "" when not given:
	 * seller[SELLER_NAME] is seller_name, and so on */
	char *seller[SELLER_NFIELDS];
};

/* The key of each seller field ("seller_name", ...). */
extern const char *const settings_seller_keys[SELLER_NFIELDS];

/* Fills set with the defaults, then parses dir/settings.conf, read into
 * b (sheet.h), over them (a missing file leaves the defaults), adding a
 * warning to w for each unknown key. Returns 0, or ST_ERROR with e filled
 * at the first bad line (set then holds the lines before it;
 * settings_release it either way). */
int settings_load(const char *dir, const struct sheet_bytes *b,
		  struct settings *set, struct sheet_warns *w, struct err *e);

/* Frees the strings set owns (the seller's fields). */
void settings_release(struct settings *set);

#endif
