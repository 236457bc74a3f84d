/* iso4217: the currency codes of ISO 4217 List One and their minor units.
 *
 * The table is List One as published 2026-01-01 (SPEC section 2): every
 * current code that has a minor unit. Withdrawn codes (HRK, SLL, ZWL,
 * ANG) and codes with no minor unit (XAU, XAG, XPD, XPT, XDR, XSU, XUA,
 * the bond units XBA..XBD, XTS, XXX) are absent, so a config naming them
 * is refused. The table is sorted by code and immutable. */
#ifndef ISO4217_H
#define ISO4217_H

/* The minor unit (0..4) of the NUL-terminated three-letter code, or -1
 * when code is not a current ISO 4217 code with a minor unit. */
int iso4217_minor(const char *code);

#endif
