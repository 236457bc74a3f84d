/* doc_json: one documents.jsonl line per document (SPEC 12). The key
 * order is fixed here, not derived from the model, because ERPs diff and
 * hash these lines: it must not move when the struct does. */
#include <stdio.h>
#include <string.h>

#include "doc.h"
#include "banned.h"

/* A JSON string per RFC 8259: quote, backslash and C0 controls escaped
 * (as \u00XX, one form for all so the output is predictable), other valid
 * UTF-8 as is, invalid bytes as \ufffd so the line stays valid JSON. */
static void jstr(struct doc_buf *b, const char *s)
{
	size_t n = strlen(s), i = 0, k;
	unsigned cp;

	doc_buf_add(b, "\"", 1);
	while (i < n) {
		k = doc_utf8_next(s + i, n - i, &cp);
		if (cp == '"' || cp == '\\') {
			doc_buf_add(b, "\\", 1);
			doc_buf_add(b, s + i, 1);
		} else if (cp < 0x20) {
			doc_buf_printf(b, "\\u%04x", cp);
		} else if (cp == 0xfffd && k == 1) {
			doc_buf_puts(b, "\\ufffd");
		} else {
			doc_buf_add(b, s + i, k);
		}
		i += k;
	}
	doc_buf_add(b, "\"", 1);
}

/* "key": */
static void key(struct doc_buf *b, const char *k, int first)
{
	if (!first)
		doc_buf_add(b, ",", 1);
	jstr(b, k);
	doc_buf_add(b, ":", 1);
}

static void kstr(struct doc_buf *b, const char *k, const char *v, int first)
{
	key(b, k, first);
	jstr(b, v);
}

static void kamount(struct doc_buf *b, const char *k, dec_t v, int minor)
{
	key(b, k, 0);
	doc_buf_add(b, "\"", 1);
	doc_buf_amount(b, v, minor);
	doc_buf_add(b, "\"", 1);
}

static void kdec(struct doc_buf *b, const char *k, dec_t v, int first)
{
	key(b, k, first);
	doc_buf_add(b, "\"", 1);
	doc_buf_dec(b, v);
	doc_buf_add(b, "\"", 1);
}

static void party(struct doc_buf *b, const struct doc_party *p, int buyer)
{
	doc_buf_add(b, "{", 1);
	if (buyer)
		kstr(b, "tenant_id", p->tenant_id, 1);
	kstr(b, "name", p->name, !buyer);
	kstr(b, "address", p->address, 0);
	kstr(b, "city", p->city, 0);
	kstr(b, "postal_code", p->postal_code, 0);
	kstr(b, "country", p->country, 0);
	kstr(b, "tax_id", p->tax_id, 0);
	kstr(b, "email", p->email, 0);
	kstr(b, "endpoint", p->endpoint, 0);
	if (!buyer)
		kstr(b, "iban", p->iban, 0);
	doc_buf_add(b, "}", 1);
}

static void invoice_line(struct doc_buf *b, const struct doc_line *l,
			 int minor)
{
	size_t i;

	kstr(b, "unit", l->unit, 0);
	kstr(b, "unit_code", l->unit_code, 0);
	kdec(b, "usage_qty", l->usage_qty, 0);
	kdec(b, "package_qty", l->package_qty, 0);
	kdec(b, "forgiven_qty", l->forgiven_qty, 0);
	kdec(b, "uncovered_qty", l->uncovered_qty, 0);
	kdec(b, "billable_qty", l->billable_qty, 0);
	key(b, "tiers", 0);
	doc_buf_add(b, "[", 1);
	for (i = 0; i < l->ntiers; i++) {
		doc_buf_puts(b, i ? ",{" : "{");
		kdec(b, "qty", l->tiers[i].qty, 1);
		kdec(b, "unit_price", l->tiers[i].unit_price, 0);
		doc_buf_add(b, "}", 1);
	}
	doc_buf_add(b, "]", 1);
	kamount(b, "amount", l->amount, minor);
	key(b, "packages", 0);
	doc_buf_add(b, "[", 1);
	for (i = 0; i < l->npackages; i++) {
		doc_buf_puts(b, i ? ",{" : "{");
		kstr(b, "package_id", l->packages[i].package_id, 1);
		kdec(b, "quantity", l->packages[i].quantity, 0);
		kdec(b, "units", l->packages[i].units, 0);
		doc_buf_add(b, "}", 1);
	}
	doc_buf_add(b, "]", 1);
}

static void lines(struct doc_buf *b, const struct doc *d)
{
	const struct doc_line *l;
	size_t i;

	key(b, "lines", 0);
	doc_buf_add(b, "[", 1);
	for (i = 0; i < d->nlines; i++) {
		l = &d->lines[i];
		doc_buf_puts(b, i ? ",{" : "{");
		kstr(b, "item", l->item, 1);
		kstr(b, "name", l->name, 0);
		kstr(b, "price_group", l->price_group, 0);
		kstr(b, "label", l->label, 0);
		if (d->type == DOC_INVOICE) {
			invoice_line(b, l, d->minor);
		} else {
			kamount(b, "old_amount", l->old_amount, d->minor);
			kamount(b, "new_amount", l->new_amount, d->minor);
			kamount(b, "delta", l->delta, d->minor);
		}
		doc_buf_add(b, "}", 1);
	}
	doc_buf_add(b, "]", 1);
}

int doc_json(const struct doc *d, struct doc_buf *out, struct err *e)
{
	if (doc_check(d, e) != 0)
		return -1;
	doc_buf_add(out, "{", 1);
	kstr(out, "type", d->type == DOC_INVOICE ? "invoice" : "adjustment",
	     1);
	kstr(out, "number", d->number, 0);
	kstr(out, "invoice_no", d->invoice_no, 0);
	kstr(out, "period", d->period, 0);
	key(out, "version", 0);
	doc_buf_printf(out, "%d", d->version);
	kstr(out, "issue_date", d->issue_date, 0);
	kstr(out, "due_date", d->due_date, 0);
	kstr(out, "currency", d->currency, 0);
	key(out, "seller", 0);
	party(out, &d->seller, 0);
	key(out, "buyer", 0);
	party(out, &d->buyer, 1);
	lines(out, d);
	kamount(out, "net", d->net, d->minor);
	key(out, "tax", 0);
	doc_buf_add(out, "{", 1);
	kdec(out, "rate", d->tax.rate, 1);
	kstr(out, "category", d->tax.category, 0);
	kstr(out, "exemption", d->tax.exemption, 0);
	kamount(out, "amount", d->tax.amount, d->minor);
	doc_buf_add(out, "}", 1);
	kamount(out, "total", d->total, d->minor);
	if (d->type == DOC_INVOICE) {
		kamount(out, "balance_before", d->balance_before, d->minor);
		kamount(out, "paid_from_balance", d->paid_from_balance,
			d->minor);
		kamount(out, "amount_due", d->amount_due, d->minor);
		kamount(out, "balance_after", d->balance_after, d->minor);
	}
	doc_buf_add(out, "}\n", 2);
	return 0;
}
