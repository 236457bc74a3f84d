/* doc_ubl: UBL 2.1 e-invoices (Invoice 380 and 384, CreditNote 381) under
 * EN 16931 and Peppol BIS Billing 3.0. The line mapping and the tax rule
 * are explained in include/doc.h; rule ids below are EN 16931 (BR-*) and
 * Peppol (PEPPOL-EN16931-*) business rules. Elements are written in the
 * UBL 2.1 schema's sequence order; an empty value writes no element at
 * all (PEPPOL-EN16931-R008 forbids empty elements). */
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "mem.h"
#include "banned.h"

#define CUSTOMIZATION "urn:cen.eu:en16931:2017#compliant#" \
	"urn:fdc:peppol.eu:2017:poacc:billing:3.0"
#define PROFILE "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

/* Writer state: the document, its sign (a credit note states credits as
 * positive amounts) and the output. */
struct ubl {
	const struct doc *d;
	struct doc_buf *b;
	int code;  /* 380, 381 or 384 */
	int sign;  /* -1 for a credit note, else 1 */
	int depth;
};

static void xtextn(struct doc_buf *b, const char *s, size_t n)
{
	doc_buf_esc(b, s, n, DOC_ESC_XML);
}

static void xtext(struct doc_buf *b, const char *s)
{
	xtextn(b, s, strlen(s));
}

static void indent(struct ubl *u)
{
	int i;

	doc_buf_add(u->b, "\n", 1);
	for (i = 0; i < u->depth; i++)
		doc_buf_add(u->b, "  ", 2);
}

static void open_el(struct ubl *u, const char *name)
{
	indent(u);
	doc_buf_printf(u->b, "<%s>", name);
	u->depth++;
}

static void close_el(struct ubl *u, const char *name)
{
	u->depth--;
	indent(u);
	doc_buf_printf(u->b, "</%s>", name);
}

/* <name>text</name>, nothing when text is empty. */
static void el(struct ubl *u, const char *name, const char *text)
{
	if (!*text)
		return;
	indent(u);
	doc_buf_printf(u->b, "<%s>", name);
	xtext(u->b, text);
	doc_buf_printf(u->b, "</%s>", name);
}

/* <name schemeID="scheme">text</name>; no attribute when scheme is "". */
static void el_scheme(struct ubl *u, const char *name, const char *scheme,
		      const char *text, size_t textlen)
{
	indent(u);
	doc_buf_printf(u->b, "<%s", name);
	if (*scheme) {
		doc_buf_puts(u->b, " schemeID=\"");
		xtext(u->b, scheme);
		doc_buf_puts(u->b, "\"");
	}
	doc_buf_puts(u->b, ">");
	xtextn(u->b, text, textlen);
	doc_buf_printf(u->b, "</%s>", name);
}

static void el_amount(struct ubl *u, const char *name, dec_t v)
{
	indent(u);
	doc_buf_printf(u->b, "<%s currencyID=\"", name);
	xtext(u->b, u->d->currency);
	doc_buf_puts(u->b, "\">");
	doc_buf_amount(u->b, v, u->d->minor);
	doc_buf_printf(u->b, "</%s>", name);
}

static void el_dec(struct ubl *u, const char *name, const char *unit,
		   dec_t v)
{
	indent(u);
	doc_buf_printf(u->b, "<%s", name);
	if (unit) {
		doc_buf_puts(u->b, " unitCode=\"");
		xtext(u->b, unit);
		doc_buf_puts(u->b, "\"");
	}
	doc_buf_puts(u->b, ">");
	doc_buf_dec(u->b, v);
	doc_buf_printf(u->b, "</%s>", name);
}

static int is_cat(const struct doc *d, const char *c)
{
	return strcmp(d->tax.category, c) == 0;
}

/* A VAT identifier carries its country's ISO 3166 prefix (BR-CO-09). */
static int vat_prefixed(const char *id)
{
	return id[0] >= 'A' && id[0] <= 'Z' && id[1] >= 'A' && id[1] <= 'Z';
}

/* "scheme:id" with both parts non-empty; sets *colon. */
static int endpoint_ok(const char *ep, const char **colon)
{
	const char *c = strchr(ep, ':');

	if (!c || c == ep || !c[1])
		return 0;
	if (colon)
		*colon = c;
	return 1;
}

int doc_ubl_type_code(const struct doc *d)
{
	if (d->type == DOC_INVOICE)
		return d->nlines ? 380 : 0;
	if (d->total > 0)
		return 384;
	return d->total < 0 ? 381 : 0;
}

static void add_missing(struct doc_missing *out, size_t max, size_t *n,
			const char *file, const char *key, const char *rule)
{
	if (*n < max) {
		out[*n].file = file;
		out[*n].key = key;
		out[*n].rule = rule;
	}
	(*n)++;
}

size_t doc_ubl_missing(const struct doc *d, struct doc_missing *out,
		       size_t max)
{
	static const char S[] = "settings.conf", A[] = "accounts.csv";
	const char *cat = d->tax.category;
	int o = is_cat(d, "O"), k = is_cat(d, "K");
	size_t n = 0;

	if (!doc_ubl_type_code(d))
		return 0;
	if (!*d->seller.name)
		add_missing(out, max, &n, S, "seller_name", "BR-06");
	if (!*d->seller.country)
		add_missing(out, max, &n, S, "seller_country", "BR-09");
	if (!endpoint_ok(d->seller.endpoint, NULL))
		add_missing(out, max, &n, S, "seller_endpoint",
			    "PEPPOL-EN16931-R020");
	if (!o && (!*d->seller.tax_id ||
		   (k && !vat_prefixed(d->seller.tax_id))))
		add_missing(out, max, &n, S, "seller_tax_id",
			    k ? "BR-IC-02" : "BR-S-02/BR-Z-02/BR-E-02/"
			    "BR-AE-02/BR-G-02");
	if (!*d->buyer.country)
		add_missing(out, max, &n, A, "country", "BR-11");
	if (!endpoint_ok(d->buyer.endpoint, NULL))
		add_missing(out, max, &n, A, "endpoint",
			    "PEPPOL-EN16931-R010");
	if ((strcmp(cat, "AE") == 0 && !*d->buyer.tax_id) ||
	    (k && !vat_prefixed(d->buyer.tax_id)))
		add_missing(out, max, &n, A, "tax_id",
			    k ? "BR-IC-02" : "BR-AE-02");
	if (!is_cat(d, "S") && !is_cat(d, "Z") && !*d->tax.exemption)
		add_missing(out, max, &n, A, "tax_exemption",
			    "BR-E-10/BR-AE-10/BR-IC-10/BR-G-10/BR-O-10");
	return n;
}

/* An adjustment line is one correction of |delta| (quantity 1, unit C62
 * "one"); it runs against the document when its delta has the other sign
 * than the document's (quantity -1): BR-27 wants prices of 0 or more. */
static void map_adjustment(const struct doc *d, const struct doc_line *l,
			   struct doc_ubl_line *m)
{
	dec_t v = doc_ubl_type_code(d) == 381 ? -l->delta : l->delta;

	m->unit_code = "C62";
	m->quantity = v < 0 ? -DEC_ONE : DEC_ONE;
	m->price = v < 0 ? -v : v;
	m->base_qty = 0;
	m->charge = 0;
	m->net = v;
}

/* 1 if the exact product q x p equals v (no rounding hides in it). */
static int product_is(dec_t q, dec_t p, dec_t v)
{
	return dec_wide_cmp(dec_wide_mul(q, p), dec_wide_from(v)) == 0;
}

int doc_ubl_map_line(const struct doc *d, const struct doc_line *l,
		     struct doc_ubl_line *m, struct err *e)
{
	dec_t a = l->amount, b = l->billable_qty, v, f;

	if (d->type != DOC_INVOICE) {
		map_adjustment(d, l, m);
		return 0;
	}
	m->unit_code = *l->unit_code ? l->unit_code : "C62";
	m->quantity = b;
	m->base_qty = 0;
	m->charge = 0;
	m->net = a;
	if (b <= 0 && a != 0) {
		/* an amount without billable units (a model the quantities
		 * do not explain): one unit at the amount keeps R120 */
		m->quantity = DEC_ONE;
		m->unit_code = "C62";
		m->price = a;
		return 0;
	}
	/* a flat fee the currency can state is a line charge (BG-28) */
	f = l->flat;
	if (f > 0 && f <= a && dec_round(f, d->minor, DEC_DOWN, &v) == 0 &&
	    v == f)
		m->charge = f;
	if (dec_sub(a, m->charge, &v) != 0)
		return err_set(e, ST_ERROR, "document '%s': line '%s' amount "
			       "overflows", d->number, l->item), -1;
	if (v == 0) {
		m->price = 0;
	} else if (l->ntiers == 1 && l->tiers[0].qty == b &&
		   product_is(b, l->tiers[0].unit_price, v)) {
		m->price = l->tiers[0].unit_price;
	} else {
		/* "V for B units": B x V / B = V exactly */
		m->price = v;
		m->base_qty = b;
	}
	return 0;
}

/* The rule's tax of a taxable amount: round(taxable x rate / 100) to 2
 * decimals with XPath's round, halves toward positive infinity (the
 * BR-S-09 / BR-CO-17 test). Exact: integer maths on the 12-decimal
 * product, whose units of 10^-12 are hundredths of a cent of percent. */
static dec_t rule_tax(dec_t taxable, dec_t rate)
{
	dec_wide w = dec_wide_mul(taxable, rate); /* taxable x rate, 1e-12 */
	dec_wide unit = DEC_WIDE_ONE;             /* 1 cent after / 100 */
	dec_wide x = w + unit / 2, q = x / unit;

	if (x % unit != 0 && x < 0)
		q--; /* floor, not truncation */
	return (dec_t)(q * (DEC_ONE / 100));
}

static void party_tax(struct ubl *u, const char *id, const char *scheme)
{
	open_el(u, "cac:PartyTaxScheme");
	el(u, "cbc:CompanyID", id);
	open_el(u, "cac:TaxScheme");
	el(u, "cbc:ID", scheme);
	close_el(u, "cac:TaxScheme");
	close_el(u, "cac:PartyTaxScheme");
}

static void address(struct ubl *u, const struct doc_party *p,
		    const char *tag)
{
	open_el(u, tag);
	el(u, "cbc:StreetName", p->address);
	el(u, "cbc:CityName", p->city);
	el(u, "cbc:PostalZone", p->postal_code);
	open_el(u, "cac:Country");
	el(u, "cbc:IdentificationCode", p->country);
	close_el(u, "cac:Country");
	close_el(u, tag);
}

/* A party (BG-4 seller / BG-7 buyer). The seller's endpoint is also its
 * identifier (BT-29) so that BR-CO-26 holds without a VAT identifier
 * (category O); a scheme that is not an ISO 6523 ICD (4 digits from 0)
 * is left off, as BT-29's scheme is optional. */
static void party(struct ubl *u, const struct doc_party *p, int seller)
{
	const char *colon = NULL, *tax = p->tax_id, *name = p->name;
	char scheme[16] = "";
	size_t sl;

	if (!*name && !seller)
		name = p->tenant_id;
	open_el(u, seller ? "cac:AccountingSupplierParty" :
		"cac:AccountingCustomerParty");
	open_el(u, "cac:Party");
	if (endpoint_ok(p->endpoint, &colon)) {
		sl = (size_t)(colon - p->endpoint);
		if (sl < sizeof(scheme)) {
			memcpy(scheme, p->endpoint, sl);
			scheme[sl] = '\0';
		}
		el_scheme(u, "cbc:EndpointID", scheme, colon + 1,
			  strlen(colon + 1));
		if (seller) {
			open_el(u, "cac:PartyIdentification");
			el_scheme(u, "cbc:ID", strlen(scheme) == 4 &&
				  scheme[0] == '0' ? scheme : "", colon + 1,
				  strlen(colon + 1));
			close_el(u, "cac:PartyIdentification");
		}
	}
	if (!seller && *p->tenant_id) {
		open_el(u, "cac:PartyIdentification");
		el(u, "cbc:ID", p->tenant_id);
		close_el(u, "cac:PartyIdentification");
	}
	if (*name) {
		open_el(u, "cac:PartyName");
		el(u, "cbc:Name", name);
		close_el(u, "cac:PartyName");
	}
	address(u, p, "cac:PostalAddress");
	if (is_cat(u->d, "O"))
		tax = ""; /* BR-O-02: no VAT identifier of either party */
	if (*tax && vat_prefixed(tax))
		party_tax(u, tax, "VAT");
	else if (*tax && seller)
		party_tax(u, tax, "TAX"); /* BT-32 */
	open_el(u, "cac:PartyLegalEntity");
	el(u, "cbc:RegistrationName", name);
	if (*tax && !seller && !vat_prefixed(tax))
		el(u, "cbc:CompanyID", tax); /* BT-47 */
	close_el(u, "cac:PartyLegalEntity");
	if (*p->email) {
		open_el(u, "cac:Contact");
		el(u, "cbc:ElectronicMail", p->email);
		close_el(u, "cac:Contact");
	}
	close_el(u, "cac:Party");
	close_el(u, seller ? "cac:AccountingSupplierParty" :
		 "cac:AccountingCustomerParty");
}

/* TaxCategory / ClassifiedTaxCategory: O has no rate (BR-O-05, BR-O-14
 * ...); S and Z take no exemption reason (BR-S-10, BR-Z-10); the others
 * need one (BR-E-10, BR-AE-10, BR-IC-10, BR-G-10, BR-O-10). */
static void tax_category(struct ubl *u, const char *tag, int reason)
{
	const struct doc *d = u->d;

	open_el(u, tag);
	el(u, "cbc:ID", d->tax.category);
	if (!is_cat(d, "O")) {
		el_dec(u, "cbc:Percent", NULL, d->tax.rate);
	}
	if (reason && !is_cat(d, "S") && !is_cat(d, "Z"))
		el(u, "cbc:TaxExemptionReason", d->tax.exemption);
	open_el(u, "cac:TaxScheme");
	el(u, "cbc:ID", "VAT");
	close_el(u, "cac:TaxScheme");
	close_el(u, tag);
}

static void property(struct ubl *u, const char *name, const char *value)
{
	if (!*value)
		return;
	open_el(u, "cac:AdditionalItemProperty");
	el(u, "cbc:Name", name);
	el(u, "cbc:Value", value);
	close_el(u, "cac:AdditionalItemProperty");
}

/* The settle details of an invoice line as item properties (BT-160/161):
 * price group, each tier slice, the flat fee, the packages used. */
static void line_properties(struct ubl *u, const struct doc_line *l)
{
	struct doc_buf t;
	size_t i;

	doc_buf_init(&t);
	property(u, "Price group", l->price_group);
	for (i = 0; i < l->ntiers; i++) {
		t.n = 0;
		doc_buf_dec(&t, l->tiers[i].qty);
		doc_buf_printf(&t, " %s x ", *l->unit ? l->unit : "unit");
		doc_buf_dec(&t, l->tiers[i].unit_price);
		property(u, "Tier slice", t.p);
	}
	if (l->flat) {
		t.n = 0;
		doc_buf_dec(&t, l->flat);
		property(u, "Flat fee", t.p);
	}
	for (i = 0; i < l->npackages; i++) {
		t.n = 0;
		doc_buf_printf(&t, "%s: ", l->packages[i].package_id);
		doc_buf_dec(&t, l->packages[i].quantity);
		doc_buf_printf(&t, " %s", l->unit);
		property(u, "Package", t.p);
	}
	doc_buf_release(&t);
}

static void item(struct ubl *u, const struct doc_line *l)
{
	const struct doc *d = u->d;
	struct doc_buf t;

	doc_buf_init(&t);
	open_el(u, "cac:Item");
	if (d->type == DOC_ADJUSTMENT) {
		doc_buf_puts(&t, "Correction of the line: ");
		doc_buf_amount(&t, l->old_amount, d->minor);
		doc_buf_puts(&t, " -> ");
		doc_buf_amount(&t, l->new_amount, d->minor);
		el(u, "cbc:Description", t.p);
		t.n = 0;
	}
	doc_buf_puts(&t, *l->name ? l->name : l->item);
	if (*l->label) {
		doc_buf_puts(&t, ", ");
		doc_buf_puts(&t, l->label);
	}
	el(u, "cbc:Name", t.p);
	open_el(u, "cac:SellersItemIdentification");
	el(u, "cbc:ID", l->item);
	close_el(u, "cac:SellersItemIdentification");
	tax_category(u, "cac:ClassifiedTaxCategory", 0);
	if (d->type == DOC_INVOICE)
		line_properties(u, l);
	else
		property(u, "Price group", l->price_group);
	close_el(u, "cac:Item");
	doc_buf_release(&t);
}

static void line(struct ubl *u, const struct doc_line *l, size_t no,
		 const struct doc_ubl_line *m)
{
	const char *tag = u->code == 381 ? "cac:CreditNoteLine" :
		"cac:InvoiceLine";

	open_el(u, tag);
	indent(u);
	doc_buf_printf(u->b, "<cbc:ID>%zu</cbc:ID>", no);
	el_dec(u, u->code == 381 ? "cbc:CreditedQuantity" :
	       "cbc:InvoicedQuantity", m->unit_code, m->quantity);
	el_amount(u, "cbc:LineExtensionAmount", m->net);
	if (m->charge) {
		open_el(u, "cac:AllowanceCharge");
		el(u, "cbc:ChargeIndicator", "true");
		el(u, "cbc:AllowanceChargeReason", "Flat fee"); /* BR-42 */
		el_amount(u, "cbc:Amount", m->charge);
		close_el(u, "cac:AllowanceCharge");
	}
	item(u, l);
	open_el(u, "cac:Price");
	el_amount(u, "cbc:PriceAmount", m->price);
	if (m->base_qty) /* R130: same unit as the quantity */
		el_dec(u, "cbc:BaseQuantity", m->unit_code, m->base_qty);
	close_el(u, "cac:Price");
	close_el(u, tag);
}

/* The totals of one document, as written. */
struct totals {
	dec_t lines;    /* sum of line nets: LineExtension = TaxExclusive */
	dec_t tax;      /* the rule's tax */
	dec_t rounding; /* settled tax - rule tax */
	dec_t prepaid;
	dec_t payable;
};

static int totals(struct ubl *u, struct doc_ubl_line *maps,
		  struct totals *t, struct err *e)
{
	const struct doc *d = u->d;
	dec_t settled_tax = u->sign * d->tax.amount, incl;
	size_t i;

	t->lines = 0;
	for (i = 0; i < d->nlines; i++) {
		if (doc_ubl_map_line(d, &d->lines[i], &maps[i], e) != 0)
			return -1;
		if (dec_add(t->lines, maps[i].net, &t->lines) != 0)
			return err_set(e, ST_ERROR, "document '%s': sum "
				       "overflows", d->number), -1;
	}
	/* BR-CO-10 holds by construction; this guards the mapping */
	if (t->lines != u->sign * d->net)
		return err_set(e, ST_ERROR, "document '%s': UBL lines do not "
			       "add up to the net", d->number), -1;
	t->tax = is_cat(d, "S") ? rule_tax(t->lines, d->tax.rate) : 0;
	t->rounding = settled_tax - t->tax;
	t->prepaid = d->type == DOC_INVOICE ? d->paid_from_balance : 0;
	incl = t->lines + t->tax;
	t->payable = incl - t->prepaid + t->rounding; /* BR-CO-16 */
	if (t->payable != u->sign * d->total - t->prepaid)
		return err_set(e, ST_ERROR, "document '%s': UBL payable does "
			       "not match the total", d->number), -1;
	return 0;
}

/* Document head: identifiers, dates, references, parties (BR-01..BR-11,
 * PEPPOL-EN16931-R001/R003/R010/R020, BR-55 for corrections). */
static void head(struct ubl *u)
{
	const struct doc *d = u->d;
	char first[11], last[11];

	el(u, "cbc:CustomizationID", CUSTOMIZATION);
	el(u, "cbc:ProfileID", PROFILE);
	el(u, "cbc:ID", d->number);
	el(u, "cbc:IssueDate", d->issue_date);
	if (u->code != 381)
		el(u, "cbc:DueDate", d->due_date);
	indent(u);
	doc_buf_printf(u->b, u->code == 381 ?
		       "<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>" :
		       "<cbc:InvoiceTypeCode>%d</cbc:InvoiceTypeCode>",
		       u->code);
	if (d->type == DOC_ADJUSTMENT) {
		struct doc_buf t;

		doc_buf_init(&t);
		doc_buf_printf(&t, "Adjustment of invoice %s for %s "
			       "(invoice version %d)", d->invoice_no,
			       d->period, d->version);
		el(u, "cbc:Note", t.p); /* one note only: R002 */
		doc_buf_release(&t);
	}
	el(u, "cbc:DocumentCurrencyCode", d->currency);
	el(u, "cbc:BuyerReference", d->buyer.tenant_id); /* R003 */
	doc_period_days(d->period, first, last);
	open_el(u, "cac:InvoicePeriod");
	el(u, "cbc:StartDate", first);
	el(u, "cbc:EndDate", last);
	close_el(u, "cac:InvoicePeriod");
	if (d->type == DOC_ADJUSTMENT) {
		open_el(u, "cac:BillingReference");
		open_el(u, "cac:InvoiceDocumentReference");
		el(u, "cbc:ID", d->invoice_no);
		el(u, "cbc:IssueDate", d->invoice_issue_date);
		close_el(u, "cac:InvoiceDocumentReference");
		close_el(u, "cac:BillingReference");
	}
	party(u, &d->seller, 1);
	party(u, &d->buyer, 0);
	if (is_cat(d, "K")) { /* BR-IC-12: deliver-to country */
		open_el(u, "cac:Delivery");
		open_el(u, "cac:DeliveryLocation");
		address(u, &d->buyer, "cac:Address");
		close_el(u, "cac:DeliveryLocation");
		close_el(u, "cac:Delivery");
	}
}

/* Payment means (BG-16, BR-61: a credit transfer names the account) and
 * terms (BR-CO-25: a positive amount due needs a due date or terms). */
static void payment(struct ubl *u, const struct totals *t)
{
	const struct doc *d = u->d;

	if (t->payable > 0 && u->code != 381 && *d->seller.iban) {
		open_el(u, "cac:PaymentMeans");
		el(u, "cbc:PaymentMeansCode", "30");
		el(u, "cbc:PaymentID", d->number);
		open_el(u, "cac:PayeeFinancialAccount");
		el(u, "cbc:ID", d->seller.iban);
		close_el(u, "cac:PayeeFinancialAccount");
		close_el(u, "cac:PaymentMeans");
	}
	if (t->payable <= 0)
		return;
	open_el(u, "cac:PaymentTerms");
	if (u->code == 381)
		el(u, "cbc:Note", "Credited to the customer's account "
		   "balance");
	else if (*d->due_date)
		el(u, "cbc:Note", "Payable by the due date");
	else
		el(u, "cbc:Note", "Payable on receipt");
	close_el(u, "cac:PaymentTerms");
}

/* Tax total with one breakdown (R053, BR-CO-14, BR-CO-18) and the
 * monetary totals (BR-CO-10, BR-CO-13, BR-CO-15, BR-CO-16). */
static void money(struct ubl *u, const struct totals *t)
{
	open_el(u, "cac:TaxTotal");
	el_amount(u, "cbc:TaxAmount", t->tax);
	open_el(u, "cac:TaxSubtotal");
	el_amount(u, "cbc:TaxableAmount", t->lines);
	el_amount(u, "cbc:TaxAmount", t->tax);
	tax_category(u, "cac:TaxCategory", 1);
	close_el(u, "cac:TaxSubtotal");
	close_el(u, "cac:TaxTotal");
	open_el(u, "cac:LegalMonetaryTotal");
	el_amount(u, "cbc:LineExtensionAmount", t->lines);
	el_amount(u, "cbc:TaxExclusiveAmount", t->lines);
	el_amount(u, "cbc:TaxInclusiveAmount", t->lines + t->tax);
	if (t->prepaid)
		el_amount(u, "cbc:PrepaidAmount", t->prepaid);
	if (t->rounding)
		el_amount(u, "cbc:PayableRoundingAmount", t->rounding);
	el_amount(u, "cbc:PayableAmount", t->payable);
	close_el(u, "cac:LegalMonetaryTotal");
}

int doc_ubl(const struct doc *d, struct doc_buf *out, struct err *e)
{
	struct ubl u;
	struct doc_ubl_line *maps;
	struct totals t;
	const char *root;
	size_t i;

	if (doc_check(d, e) != 0)
		return -1;
	u.d = d;
	u.b = out;
	u.code = doc_ubl_type_code(d);
	u.sign = u.code == 381 ? -1 : 1;
	u.depth = 1;
	if (!u.code)
		return DOC_UBL_NONE;
	if (d->minor > 2)
		return DOC_UBL_DECIMALS; /* BR-DEC-23 and the other BR-DEC */
	if (doc_ubl_missing(d, NULL, 0))
		return DOC_UBL_MISSING;
	maps = xcalloc(d->nlines, sizeof(*maps));
	if (totals(&u, maps, &t, e) != 0) {
		free(maps);
		return -1;
	}
	root = u.code == 381 ? "CreditNote" : "Invoice";
	doc_buf_printf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		       "<%s xmlns=\"urn:oasis:names:specification:ubl:schema:"
		       "xsd:%s-2\"\n  xmlns:cac=\"urn:oasis:names:"
		       "specification:ubl:schema:xsd:CommonAggregateComponents"
		       "-2\"\n  xmlns:cbc=\"urn:oasis:names:specification:ubl:"
		       "schema:xsd:CommonBasicComponents-2\">", root, root);
	head(&u);
	payment(&u, &t);
	money(&u, &t);
	for (i = 0; i < d->nlines; i++)
		line(&u, &d->lines[i], i + 1, &maps[i]);
	doc_buf_printf(out, "\n</%s>\n", root);
	free(maps);
	return DOC_UBL_WRITTEN;
}
