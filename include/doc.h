/* doc: invoice and adjustment documents (SPEC section 12), rendered from a
 * plain model as a JSON line, an HTML page or a UBL 2.1 e-invoice.
 *
 * The model is filled by the caller (export, from what the ledger
 * recorded) and only read here: every pointer in it is owned by the
 * caller and must outlive the call; every string is UTF-8 and never NULL
 * ("" when empty). Money and quantities are dec_t (exact millionths);
 * nothing here uses floating point or rounds an amount the ledger
 * settled, except the one EN 16931 tax rule described at doc_ubl().
 *
 * Invariants doc_check() verifies and every renderer relies on:
 * - amounts (line amounts, old/new/delta, net, tax, total, balances) have
 *   at most `minor` decimals, minor is 0..6;
 * - an invoice's net is the sum of its line amounts; an adjustment's net
 *   is the sum of its lines' deltas and each delta is new - old;
 * - total = net + tax.amount; for an invoice amount_due = total -
 *   paid_from_balance and balance_after = balance_before - total;
 * - tax.category is one of S Z E AE K G O; only S has a rate above 0;
 * - period is "YYYY-MM"; issue_date is "YYYY-MM-DD"; due_date and
 *   invoice_issue_date are "YYYY-MM-DD" or "".
 *
 * Output goes to a growable buffer (struct doc_buf) the caller owns;
 * renderers append to it, so one buffer can collect a whole
 * documents.jsonl. Renderers return 0, or -1 with e filled when the model
 * breaks an invariant (then the buffer holds a partial text the caller
 * must drop). Nothing here prints, exits or touches files. */
#ifndef DOC_H
#define DOC_H

#include <stddef.h>

#include "dec.h"
#include "err.h"

enum doc_type {
	DOC_INVOICE,    /* a final invoice */
	DOC_ADJUSTMENT  /* an adjustment (-A1, -A2, ...) of a final invoice */
};

/* A party on a document. For the seller these are the settings.conf
 * seller_* keys, for the buyer the accounts.csv columns of its account.
 * endpoint is "scheme:id" (a Peppol electronic address, scheme an EAS
 * code such as 0088). tenant_id is the buyer's only; iban the seller's. */
struct doc_party {
	const char *tenant_id;
	const char *name;
	const char *address;
	const char *city;
	const char *postal_code;
	const char *country;   /* ISO 3166-1 alpha-2 */
	const char *tax_id;
	const char *email;
	const char *endpoint;
	const char *iban;
};

/* One billed tier slice, as in invoice_lines.csv `tiers` (qty@unit_price);
 * flat fees are not in it (see doc_line.flat). */
struct doc_tier {
	dec_t qty;
	dec_t unit_price;
};

/* One package that covered part of a line (package_usage.csv). */
struct doc_pkg {
	const char *package_id;
	dec_t quantity; /* price units */
	dec_t units;    /* package units */
};

/* One line. An invoice line is one (item, price group) of invoice_lines.csv:
 * amount = the line amount, rounded once; flat = the flat fees the line
 * charged (exact, not rounded), so that amount = round(sum of tier qty x
 * unit_price + flat) for graduated and volume lines. An adjustment line
 * is one changed-line row of adjustments.csv (never the tax or total row):
 * old_amount, new_amount, delta; its quantity fields are unused. */
struct doc_line {
	const char *item;
	const char *name;        /* items.csv name (human description) */
	const char *price_group; /* filter text, "" for match-all */
	const char *label;       /* prices.csv label */
	const char *unit;        /* price_unit */
	const char *unit_code;   /* UN/ECE Rec 20 code of unit ("MIN", "C62") */
	dec_t usage_qty, package_qty, forgiven_qty, uncovered_qty, billable_qty;
	const struct doc_tier *tiers;
	size_t ntiers;
	dec_t flat;
	dec_t amount;
	const struct doc_pkg *packages;
	size_t npackages;
	dec_t old_amount, new_amount, delta; /* adjustments only */
};

struct doc_tax {
	dec_t rate;              /* percent: 6 is 6 % */
	const char *category;    /* UNCL5305: S Z E AE K G O */
	const char *exemption;   /* reason text for E AE K G O, else "" */
	dec_t amount;            /* an adjustment: the tax delta */
};

struct doc {
	enum doc_type type;
	const char *number;      /* own number: invoice or adjustment */
	const char *invoice_no;  /* the invoice (an invoice: its own number) */
	const char *period;      /* "YYYY-MM" */
	int version;             /* invoice version after this document */
	const char *issue_date;
	const char *due_date;
	const char *currency;
	int minor;               /* ISO 4217 exponent of currency */
	enum dec_round rounding; /* the settings' rounding (informational) */
	struct doc_party seller, buyer;
	const struct doc_line *lines;
	size_t nlines;
	dec_t net;               /* an adjustment: its deltas */
	struct doc_tax tax;
	dec_t total;
	/* invoices only */
	dec_t balance_before, paid_from_balance, amount_due, balance_after;
	/* adjustments only: the corrected invoice's issue date ("" unknown) */
	const char *invoice_issue_date;
};

/* A growable text buffer; p is NUL-terminated when n > 0. Zero it (or
 * doc_buf_init) before use; doc_buf_release frees p and zeroes it. */
struct doc_buf {
	char *p;
	size_t n, cap;
};

void doc_buf_init(struct doc_buf *b);
void doc_buf_release(struct doc_buf *b);
void doc_buf_add(struct doc_buf *b, const char *s, size_t n);
void doc_buf_puts(struct doc_buf *b, const char *s);
void doc_buf_printf(struct doc_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends an amount with exactly `minor` digits ("2000.00", "-3.50"). */
void doc_buf_amount(struct doc_buf *b, dec_t v, int minor);
/* Appends a quantity, price or rate in its shortest exact form. */
void doc_buf_dec(struct doc_buf *b, dec_t v);

/* Decodes one UTF-8 character of s[0..n), n > 0: sets *cp and returns its
 * length. A byte that does not start a valid, shortest-form, non-surrogate
 * sequence gives U+FFFD and length 1, so every renderer writes valid UTF-8
 * whatever the config held. */
size_t doc_utf8_next(const char *s, size_t n, unsigned *cp);

/* Appends cp as UTF-8. */
void doc_buf_utf8(struct doc_buf *b, unsigned cp);

/* Appends s[0..n) as markup text, so a text is never markup, even
 * inside an attribute: & < > " escaped, and ' as &#39; (DOC_ESC_HTML) or
 * &apos; (DOC_ESC_XML); C0 controls but tab and LF (HTML) or tab, LF and
 * CR (XML, which can carry CR but no other), DEL in HTML, and invalid
 * UTF-8 become U+FFFD. */
enum doc_esc { DOC_ESC_HTML, DOC_ESC_XML };
void doc_buf_esc(struct doc_buf *b, const char *s, size_t n,
		 enum doc_esc mode);

/* Checks the invariants above. 0, or -1 with e naming the document and
 * the broken rule. */
int doc_check(const struct doc *d, struct err *e);

/* The service period of d: the first and last day of d->period as
 * "YYYY-MM-DD" into first and last (11 bytes each). 0, or -1 when period
 * is not a valid "YYYY-MM". */
int doc_period_days(const char *period, char *first, char *last);

/* ---- documents.jsonl (src/doc_json.c) ----
 * Appends d as one JSON object on one line (ending in '\n') with exactly
 * the keys SPEC 12 lists, in its order, every key present: type, number,
 * invoice_no, period, version (a JSON integer), issue_date, due_date,
 * currency, seller{name address city postal_code country tax_id email
 * endpoint iban}, buyer{tenant_id name address city postal_code country
 * tax_id email endpoint}, lines, net, tax{rate category exemption amount},
 * total, and for an invoice balance_before paid_from_balance amount_due
 * balance_after. Invoice lines: item name price_group label unit unit_code
 * usage_qty package_qty forgiven_qty uncovered_qty billable_qty
 * tiers[{qty unit_price}] amount packages[{package_id quantity units}];
 * adjustment lines: item name price_group label old_amount new_amount
 * delta. Money with exactly `minor` digits, quantities, prices and rates in
 * shortest form, all as JSON strings. Strings are escaped per RFC 8259
 * (", \ and control characters as \u00XX), other valid UTF-8 is written
 * as is, invalid bytes as \ufffd. */
int doc_json(const struct doc *d, struct doc_buf *out, struct err *e);

/* ---- NUMBER.html (src/doc_html.c) ----
 * Appends one self-contained HTML5 page (inline CSS, no script, no
 * external resource, UTF-8) laid out for A4 print: seller and buyer,
 * number, issue and due date, service period, the lines (name and group
 * label, quantity with its unit, tier slices, flat fee, packages, amount;
 * an adjustment: old, new and difference), net, tax with its rate or
 * exemption reason, total, balance and amount due; an adjustment names the
 * invoice it corrects. The lines table repeats its header on every printed
 * page and never splits a row. Every text is HTML-escaped (& < > " ').
 * A buyer without a name is shown by its tenant_id. */
int doc_html(const struct doc *d, struct doc_buf *out, struct err *e);

/* ---- NUMBER.xml (src/doc_ubl.c) ----
 * UBL 2.1, EN 16931, Peppol BIS Billing 3.0.
 *
 * Which document: an invoice with lines is an Invoice 380; an adjustment
 * with total delta above 0 an Invoice 384, below 0 a CreditNote 381, both
 * with a BillingReference to the invoice (its number and issue date). An
 * invoice without lines and an adjustment with total delta 0 get none.
 * Note: Peppol BIS 3.0 (PEPPOL-EN16931-P0112) takes 384 only when both
 * parties are German; SPEC 12 asks for 384 regardless.
 *
 * Line mapping (PEPPOL-EN16931-R120: line net = quantity x price / base
 * quantity + line charges - line allowances; BR-CO-10: the sum of the line
 * nets is LineExtensionAmount). One UBL line per settle line, and its net
 * is exactly the settled line amount A, so the document's sums are the
 * ledger's sums. For an invoice line with billable quantity B and flat fee
 * F (mapped by doc_ubl_map_line):
 * - F above 0 with at most `minor` decimals is a line charge ("Flat fee",
 *   BG-28) and the rest V = A - F is priced; otherwise V = A;
 * - one tier slice of quantity B whose exact B x unit_price equals V:
 *   quantity B, price unit_price, no base quantity (the plain case);
 * - otherwise (several slices, a rounded product, the package model's
 *   started blocks): quantity B, price V, base quantity B, i.e. "V for B
 *   units", so B x V / B = V holds exactly, with no rounding;
 * - V = 0 (nothing billed): quantity B, price 0.
 * The tier slices stay visible as item properties. An adjustment line is
 * one correction: quantity 1 (C62) and price |delta|, quantity -1 when
 * the delta runs against the document (a rise in a credit note, a drop in
 * a 384); a credit note states credits as positive amounts.
 *
 * Tax: one breakdown (settle has one category per invoice); taxable =
 * the sum of the line nets; for S the tax amount written is the rule's
 * round-half-up(taxable x rate / 100) to 2 decimals (BR-S-09, BR-CO-17)
 * and any difference to the settled tax (half_even ties; an adjustment's
 * tax delta, which is a difference of two rounded taxes) goes to
 * PayableRoundingAmount (BT-114), so the amount due stays the settled one
 * (BR-CO-16). Other categories: rate 0 (none for O), tax 0, the
 * exemption text for E AE K G O. Category O carries no VAT identifier of
 * either party (BR-O-02). A tax_id that starts with two capital letters
 * is a VAT identifier (BT-31/BT-48, BR-CO-09); otherwise the seller's is
 * a tax registration identifier (BT-32) and the buyer's a legal
 * registration identifier (BT-47).
 *
 * Returns DOC_UBL_WRITTEN after appending the XML, another DOC_UBL_*
 * (nothing appended) when no file is due or allowed, or -1 with e filled
 * when d breaks an invariant. */
enum doc_ubl_status {
	DOC_UBL_WRITTEN = 0,
	DOC_UBL_NONE = 1,     /* no UBL document for this one (see above) */
	DOC_UBL_DECIMALS = 2, /* currency has more than 2 minor digits (BR-DEC-23) */
	DOC_UBL_MISSING = 3   /* required data missing: see doc_ubl_missing */
};
int doc_ubl(const struct doc *d, struct doc_buf *out, struct err *e);

/* The UNCL1001 type code d gets: 380, 381, 384, or 0 for none. */
int doc_ubl_type_code(const struct doc *d);

/* A setting the e-invoice of a document needs and the config did not
 * give (or gave in an unusable form). file is "settings.conf" or
 * "accounts.csv", key the setting or column name. */
struct doc_missing {
	const char *file;
	const char *key;
	const char *rule; /* the rule that needs it, e.g. "BR-09" */
};

/* Lists into out (room for max entries) what d's UBL file needs and lacks:
 * seller_name (BR-06), seller_country (BR-09), seller_endpoint (R020),
 * seller_tax_id for every category but O (BR-S/Z/E/AE/G-02; for K it must
 * be a VAT identifier, BR-IC-02), the buyer's country (BR-11), endpoint
 * (R010), tax_id for AE and K (BR-AE-02, BR-IC-02), tax_exemption for
 * E AE K G O (BR-E-10 ...). An endpoint counts as given when it reads
 * "scheme:id" with both parts non-empty. Returns how many there are (may
 * exceed max; only max are stored); 0 when d gets no UBL file. */
size_t doc_ubl_missing(const struct doc *d, struct doc_missing *out,
		       size_t max);

/* How one settle line becomes one UBL line (see doc_ubl above). Amounts
 * are as written in the document (a credit note's are credits). */
struct doc_ubl_line {
	dec_t quantity;
	const char *unit_code;
	dec_t price;
	dec_t base_qty;  /* 0: no BaseQuantity (it is 1) */
	dec_t charge;    /* flat fee as a line charge, 0 for none */
	dec_t net;       /* LineExtensionAmount = quantity x price / base + charge */
};

/* Maps line l of d. 0, or -1 with e filled when a value overflows. */
int doc_ubl_map_line(const struct doc *d, const struct doc_line *l,
		     struct doc_ubl_line *m, struct err *e);

#endif
