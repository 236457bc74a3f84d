/* doc_html: one self-contained, printable HTML page per document (SPEC
 * 12). Everything a page needs is inline: no script, no font, image or
 * style sheet from elsewhere, so a page renders the same offline, in a
 * mail client, or archived years later. Every text goes through esc(),
 * config texts included: a tenant may be named "<script>". */
#include <stdio.h>
#include <string.h>

#include "doc.h"
#include "banned.h"

/* A4 with 18 mm side margins; the table header repeats on every printed
 * page (thead as table-header-group) and rows never split. The font stack
 * names CJK fonts so Chinese tenant names render. */
static const char css[] =
	"@page{size:A4;margin:16mm 16mm 18mm 16mm;"
	"@bottom-right{content:\"Page \" counter(page) \" of \" "
	"counter(pages);font:8pt 'Noto Sans','Noto Sans CJK SC',"
	"sans-serif;color:#777}}\n"
	"*{box-sizing:border-box}\n"
	"html{-webkit-print-color-adjust:exact;print-color-adjust:exact}\n"
	"body{margin:0;color:#1d2430;font:9.5pt/1.45 'Noto Sans',"
	"'Noto Sans CJK SC','Source Han Sans SC','WenQuanYi Zen Hei',"
	"'PingFang SC','Microsoft YaHei','Helvetica Neue',Arial,"
	"sans-serif}\n"
	".page{max-width:178mm;margin:0 auto}\n"
	"header{display:flex;justify-content:space-between;"
	"align-items:flex-start;border-bottom:2.5pt solid #1f4e79;"
	"padding-bottom:5mm}\n"
	".issuer{font-size:15pt;font-weight:700;color:#1f4e79}\n"
	".issuer-sub{color:#555;font-size:8.5pt;margin-top:1mm}\n"
	".title{text-align:right}\n"
	".title h1{margin:0;font-size:20pt;letter-spacing:.06em;"
	"color:#1f4e79;font-weight:700;text-transform:uppercase}\n"
	".title .no{font-size:10.5pt;font-weight:600;margin-top:1mm}\n"
	".parties{display:flex;gap:8mm;margin:6mm 0 4mm}\n"
	".parties>div{flex:1}\n"
	".lbl{font-size:7.5pt;text-transform:uppercase;letter-spacing:.08em;"
	"color:#6b7685;margin-bottom:1mm}\n"
	".pname{font-weight:700;font-size:10.5pt}\n"
	".meta{display:grid;grid-template-columns:repeat(4,1fr);gap:2mm;"
	"background:#f2f5f9;border-radius:2mm;padding:3mm 4mm;margin:0 0 5mm}"
	"\n.meta b{display:block;font-weight:600}\n"
	".note{border-left:2pt solid #1f4e79;padding:1mm 3mm;margin:0 0 4mm;"
	"background:#f7f9fc}\n"
	"table.lines{width:100%;border-collapse:collapse}\n"
	"table.lines thead{display:table-header-group}\n"
	"table.lines th{text-align:left;font-size:7.5pt;text-transform:"
	"uppercase;letter-spacing:.06em;color:#fff;background:#1f4e79;"
	"padding:2mm 2.5mm;font-weight:600}\n"
	"table.lines td{padding:1.6mm 2.5mm;border-bottom:.5pt solid #d5dbe3;"
	"vertical-align:top}\n"
	"table.lines tr{page-break-inside:avoid;break-inside:avoid}\n"
	"table.lines tbody tr:nth-child(even) td{background:#fafbfd}\n"
	".num{text-align:right!important;white-space:nowrap;"
	"font-variant-numeric:tabular-nums}\n"
	".iname{font-weight:600}\n.glabel{color:#333}\n"
	".sub{color:#5b6573;font-size:8pt;line-height:1.35}\n"
	"@media screen{body{padding:10mm 0;background:#fff}}\n"
	".summary{display:flex;justify-content:space-between;gap:8mm;"
	"margin-top:5mm;break-inside:avoid;page-break-inside:avoid}\n"
	".pay{flex:1;font-size:8.5pt;color:#333}\n"
	"table.totals{border-collapse:collapse;min-width:75mm}\n"
	"table.totals td{padding:1.2mm 2.5mm}\n"
	"table.totals tr.total td{font-weight:700;font-size:11pt;"
	"border-top:1.5pt solid #1f4e79;border-bottom:1.5pt solid #1f4e79}\n"
	"table.totals tr.due td{font-weight:700;background:#1f4e79;"
	"color:#fff;font-size:11pt}\n"
	"table.totals tr.sep td{border-top:.5pt solid #d5dbe3}\n"
	"footer{margin-top:8mm;padding-top:3mm;border-top:.5pt solid #d5dbe3;"
	"font-size:7.5pt;color:#6b7685;break-inside:avoid}\n";

static void esc(struct doc_buf *b, const char *s)
{
	doc_buf_esc(b, s, strlen(s), DOC_ESC_HTML);
}

/* An amount for people: thousands grouped with commas ("12,345.60"). */
static void amount(struct doc_buf *b, dec_t v, int minor)
{
	char t[DEC_MAX_TEXT];
	size_t n = dec_format_fixed(v, minor, t), i = 0, ip;

	if (t[0] == '-') {
		doc_buf_add(b, "\xe2\x88\x92", 3); /* U+2212 minus */
		i = 1;
	}
	for (ip = i; ip < n && t[ip] != '.'; ip++)
		;
	for (; i < ip; i++) {
		doc_buf_add(b, t + i, 1);
		if ((ip - i - 1) % 3 == 0 && i + 1 < ip)
			doc_buf_add(b, ",", 1);
	}
	doc_buf_add(b, t + ip, n - ip);
}

static void money(struct doc_buf *b, const struct doc *d, dec_t v)
{
	amount(b, v, d->minor);
	doc_buf_puts(b, " ");
	esc(b, d->currency);
}

/* <tag class="cls">text</tag> when text is not empty. */
static void elc(struct doc_buf *b, const char *tag, const char *cls,
		const char *text)
{
	if (!*text)
		return;
	doc_buf_printf(b, "<%s class=\"%s\">", tag, cls);
	esc(b, text);
	doc_buf_printf(b, "</%s>", tag);
}

static void party(struct doc_buf *b, const struct doc_party *p,
		  const char *label, int buyer)
{
	doc_buf_printf(b, "<div><div class=\"lbl\">%s</div>", label);
	elc(b, "div", "pname", *p->name ? p->name : p->tenant_id);
	elc(b, "div", "addr", p->address);
	if (*p->postal_code || *p->city) {
		doc_buf_puts(b, "<div>");
		esc(b, p->postal_code);
		if (*p->postal_code && *p->city)
			doc_buf_puts(b, " ");
		esc(b, p->city);
		doc_buf_puts(b, "</div>");
	}
	elc(b, "div", "country", p->country);
	if (*p->tax_id) {
		doc_buf_puts(b, "<div class=\"sub\">Tax ID ");
		esc(b, p->tax_id);
		doc_buf_puts(b, "</div>");
	}
	if (buyer && *p->name) {
		doc_buf_puts(b, "<div class=\"sub\">Customer ID ");
		esc(b, p->tenant_id);
		doc_buf_puts(b, "</div>");
	}
	elc(b, "div", "sub", p->email);
	doc_buf_puts(b, "</div>");
}

static void meta_cell(struct doc_buf *b, const char *label, const char *v)
{
	doc_buf_printf(b, "<div><span class=\"lbl\">%s</span><b>", label);
	esc(b, *v ? v : "\xe2\x80\x94"); /* an em dash for "none" */
	doc_buf_puts(b, "</b></div>");
}

static void head(struct doc_buf *b, const struct doc *d)
{
	const int adj = d->type == DOC_ADJUSTMENT;
	char first[11], last[11], period[32];

	doc_buf_puts(b, "<header><div>");
	elc(b, "div", "issuer", d->seller.name);
	if (*d->seller.address || *d->seller.city) {
		doc_buf_puts(b, "<div class=\"issuer-sub\">");
		esc(b, d->seller.address);
		if (*d->seller.address && *d->seller.city)
			doc_buf_puts(b, " \xc2\xb7 ");
		esc(b, d->seller.city);
		doc_buf_puts(b, "</div>");
	}
	/* the title says what the e-invoice's type code says (381, 384) */
	doc_buf_printf(b, "</div><div class=\"title\"><h1>%s</h1>"
		       "<div class=\"no\">No. ", !adj ? "Invoice" :
		       d->total < 0 ? "Credit note" : d->total > 0 ?
		       "Corrected invoice" : "Invoice adjustment");
	esc(b, d->number);
	doc_buf_puts(b, "</div></div></header>\n<div class=\"parties\">");
	party(b, &d->seller, "From", 0);
	party(b, &d->buyer, "Bill to", 1);
	doc_buf_puts(b, "</div>\n<div class=\"meta\">");
	meta_cell(b, "Issue date", d->issue_date);
	meta_cell(b, "Due date", d->due_date);
	doc_period_days(d->period, first, last);
	snprintf(period, sizeof(period), "%s \xe2\x80\x93 %s", first, last);
	meta_cell(b, "Service period", period);
	meta_cell(b, adj ? "Corrects invoice" : "Currency",
		  adj ? d->invoice_no : d->currency);
	doc_buf_puts(b, "</div>\n");
	if (adj) {
		doc_buf_puts(b, "<p class=\"note\">This adjustment corrects "
			     "invoice <b>");
		esc(b, d->invoice_no);
		doc_buf_puts(b, "</b>");
		if (*d->invoice_issue_date) {
			doc_buf_puts(b, " of ");
			esc(b, d->invoice_issue_date);
		}
		doc_buf_printf(b, " (now version %d). Amounts are in ",
			       d->version);
		esc(b, d->currency);
		doc_buf_puts(b, "; each line shows the amount before and "
			     "after the correction.</p>\n");
	}
}

/* Name and group label, then a small-print line that starts with item
 * code and price group and that the caller continues and closes. */
static void describe(struct doc_buf *b, const struct doc_line *l)
{
	doc_buf_puts(b, "<td><span class=\"iname\">");
	esc(b, *l->name ? l->name : l->item);
	doc_buf_puts(b, "</span>");
	if (*l->label) {
		doc_buf_puts(b, " <span class=\"glabel\">\xe2\x80\x94 ");
		esc(b, l->label);
		doc_buf_puts(b, "</span>");
	}
	doc_buf_puts(b, "<div class=\"sub\">");
	esc(b, l->item);
	if (*l->price_group && strcmp(l->price_group, l->label) != 0) {
		doc_buf_puts(b, " \xc2\xb7 ");
		esc(b, l->price_group);
	}
}

static void qty(struct doc_buf *b, dec_t v, const char *unit)
{
	doc_buf_dec(b, v);
	if (*unit) {
		doc_buf_puts(b, " ");
		esc(b, unit);
	}
}

/* The rest of describe()'s line: usage and what packages covered; then
 * a line of tier slices and flat fee. */
static void details(struct doc_buf *b, const struct doc_line *l)
{
	static const char dot[] = " \xc2\xb7 ";
	size_t i;

	/* usage is worth a mention only when it is not what is billed */
	if (l->usage_qty != l->billable_qty || l->npackages) {
		doc_buf_puts(b, dot);
		doc_buf_puts(b, "usage ");
		qty(b, l->usage_qty, l->unit);
	}
	for (i = 0; i < l->npackages; i++) {
		doc_buf_puts(b, dot);
		doc_buf_puts(b, "package ");
		esc(b, l->packages[i].package_id);
		doc_buf_puts(b, " ");
		qty(b, l->packages[i].quantity, l->unit);
	}
	if (!l->npackages && l->package_qty) {
		doc_buf_puts(b, dot);
		doc_buf_puts(b, "packages ");
		qty(b, l->package_qty, l->unit);
	}
	if (l->forgiven_qty) {
		doc_buf_puts(b, dot);
		doc_buf_puts(b, "forgiven ");
		qty(b, l->forgiven_qty, l->unit);
	}
	if (l->uncovered_qty) {
		doc_buf_puts(b, dot);
		doc_buf_puts(b, "not billed ");
		qty(b, l->uncovered_qty, l->unit);
	}
	doc_buf_puts(b, "</div>");
	if (!l->ntiers && !l->flat)
		return;
	doc_buf_puts(b, "<div class=\"sub\">");
	for (i = 0; i < l->ntiers; i++) {
		if (i)
			doc_buf_puts(b, " + ");
		qty(b, l->tiers[i].qty, l->unit);
		doc_buf_puts(b, " \xc3\x97 ");
		doc_buf_dec(b, l->tiers[i].unit_price);
	}
	if (l->flat) {
		doc_buf_puts(b, l->ntiers ? " + flat fee " : "Flat fee ");
		doc_buf_dec(b, l->flat);
	}
	doc_buf_puts(b, "</div>");
}

static void lines(struct doc_buf *b, const struct doc *d)
{
	const int adj = d->type == DOC_ADJUSTMENT;
	const struct doc_line *l;
	size_t i;

	doc_buf_puts(b, "<table class=\"lines\"><thead><tr><th>#</th>"
		     "<th>Description</th>");
	if (adj)
		doc_buf_puts(b, "<th class=\"num\">Previous</th><th class=\""
			     "num\">Corrected</th><th class=\"num\">"
			     "Difference</th>");
	else
		doc_buf_puts(b, "<th class=\"num\">Quantity</th><th class=\""
			     "num\">Amount</th>");
	doc_buf_puts(b, "</tr></thead>\n<tbody>\n");
	for (i = 0; i < d->nlines; i++) {
		l = &d->lines[i];
		doc_buf_printf(b, "<tr><td class=\"sub\">%zu</td>", i + 1);
		describe(b, l);
		if (adj) {
			doc_buf_puts(b, "</div></td><td class=\"num\">");
			amount(b, l->old_amount, d->minor);
			doc_buf_puts(b, "</td><td class=\"num\">");
			amount(b, l->new_amount, d->minor);
			doc_buf_puts(b, "</td><td class=\"num\">");
			amount(b, l->delta, d->minor);
		} else {
			details(b, l);
			doc_buf_puts(b, "</td><td class=\"num\">");
			qty(b, l->billable_qty, l->unit);
			doc_buf_puts(b, "</td><td class=\"num\">");
			amount(b, l->amount, d->minor);
		}
		doc_buf_puts(b, "</td></tr>\n");
	}
	if (!d->nlines)
		doc_buf_printf(b, "<tr><td></td><td colspan=\"%d\">No billable"
			       " usage in this period.</td></tr>\n",
			       adj ? 4 : 3);
	doc_buf_puts(b, "</tbody></table>\n");
}

static void row(struct doc_buf *b, const struct doc *d, const char *cls,
		const char *label, dec_t v)
{
	doc_buf_printf(b, "<tr class=\"%s\"><td>%s</td><td class=\"num\">",
		       cls, label);
	money(b, d, v);
	doc_buf_puts(b, "</td></tr>\n");
}

static void tax_row(struct doc_buf *b, const struct doc *d)
{
	doc_buf_puts(b, "<tr><td>");
	if (strcmp(d->tax.category, "S") == 0) {
		doc_buf_puts(b, "VAT ");
		doc_buf_dec(b, d->tax.rate);
		doc_buf_puts(b, "%");
	} else {
		doc_buf_puts(b, "VAT 0% (");
		esc(b, d->tax.category);
		doc_buf_puts(b, ")");
		elc(b, "div", "sub", d->tax.exemption);
	}
	doc_buf_puts(b, "</td><td class=\"num\">");
	money(b, d, d->tax.amount);
	doc_buf_puts(b, "</td></tr>\n");
}

static void summary(struct doc_buf *b, const struct doc *d)
{
	const int adj = d->type == DOC_ADJUSTMENT;

	doc_buf_puts(b, "<div class=\"summary\"><div class=\"pay\">");
	if (!adj && d->amount_due > 0 && *d->seller.iban) {
		doc_buf_puts(b, "<div class=\"lbl\">Payment</div>Please "
			     "transfer the amount due to IBAN <b>");
		esc(b, d->seller.iban);
		doc_buf_puts(b, "</b>, quoting <b>");
		esc(b, d->number);
		doc_buf_puts(b, "</b>");
		if (*d->due_date) {
			doc_buf_puts(b, " by ");
			esc(b, d->due_date);
		}
		doc_buf_puts(b, ".");
	} else if (!adj && d->amount_due <= 0) {
		doc_buf_puts(b, "<div class=\"lbl\">Payment</div>Paid in full "
			     "from your account balance. No payment is "
			     "due.");
	} else if (adj) {
		doc_buf_puts(b, "<div class=\"lbl\">Settlement</div>The "
			     "difference is booked to your account balance.");
	}
	doc_buf_puts(b, "</div><table class=\"totals\">\n");
	row(b, d, "", adj ? "Net difference" : "Net amount", d->net);
	tax_row(b, d);
	row(b, d, "total", adj ? "Total difference" : "Total", d->total);
	if (!adj) {
		row(b, d, "sep", "Balance before", d->balance_before);
		row(b, d, "", "Paid from balance", d->paid_from_balance);
		row(b, d, "due", "Amount due", d->amount_due);
		row(b, d, "", "Balance after", d->balance_after);
	}
	doc_buf_puts(b, "</table></div>\n");
}

static void footer(struct doc_buf *b, const struct doc *d)
{
	const struct doc_party *s = &d->seller;

	doc_buf_puts(b, "<footer>");
	esc(b, *s->name ? s->name : "");
	if (*s->tax_id) {
		doc_buf_puts(b, " \xc2\xb7 Tax ID ");
		esc(b, s->tax_id);
	}
	if (*s->email) {
		doc_buf_puts(b, " \xc2\xb7 ");
		esc(b, s->email);
	}
	if (*s->endpoint) {
		doc_buf_puts(b, " \xc2\xb7 e-invoicing ");
		esc(b, s->endpoint);
	}
	doc_buf_puts(b, "</footer>\n");
}

int doc_html(const struct doc *d, struct doc_buf *out, struct err *e)
{
	if (doc_check(d, e) != 0)
		return -1;
	doc_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
		     "<meta charset=\"utf-8\">\n<title>");
	esc(out, d->type == DOC_INVOICE ? "Invoice " : "Adjustment ");
	esc(out, d->number);
	doc_buf_puts(out, "</title>\n<style>\n");
	doc_buf_puts(out, css);
	doc_buf_puts(out, "</style></head>\n<body><div class=\"page\">\n");
	head(out, d);
	lines(out, d);
	summary(out, d);
	footer(out, d);
	doc_buf_puts(out, "</div></body></html>\n");
	return 0;
}
