/* mkdocs: writes the sample documents tests/doc/check.sh renders and
 * checks. Usage: mkdocs OUTDIR. Writes OUTDIR/documents.jsonl,
 * OUTDIR/NUMBER.html for every sample, OUTDIR/NUMBER.xml for every one
 * that gets a UBL file, and OUTDIR/expect.tsv: "NUMBER<TAB>text" rows,
 * each a text the rendered page must show (number, parties, every line's
 * amount, the total), and "NUMBER<TAB>@ubl<TAB>code<TAB>category" rows
 * for the UBL files. Amounts below are derived by hand in the comments;
 * the page's thousands grouping is redone here independently. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "banned.h"

#define M(x) ((dec_t)((x) * 1000000LL)) /* whole units */
#define C(x) ((dec_t)((x) * 10000LL))   /* hundredths */

static FILE *expect;
static const char *outdir;

static const struct doc_party seller_cn = {
	"", "Settle Cloud Services Ltd \xe7\xbb\x93\xe7\xae\x97\xe4\xba\x91",
	"1 Zhongguancun Street", "Beijing", "100080", "CN",
	"CN91110108MA01SETL9", "billing@settle.example",
	"0088:5790000435975", "CN12 3456 7890 1234 5678 90"
};
static const struct doc_party buyer_cn = {
	"t-bjyunshi",
	"\xe5\x8c\x97\xe4\xba\xac\xe4\xba\x91\xe8\xa7\x86\xe7\xa7\x91\xe6"
	"\x8a\x80\xe6\x9c\x89\xe9\x99\x90\xe5\x85\xac\xe5\x8f\xb8",
	"\xe6\xb5\xb7\xe6\xb7\x80\xe5\x8c\xba\xe4\xb8\x8a\xe5\x9c\xb0"
	"\xe5\x8d\x81\xe8\xa1\x97 10 \xe5\x8f\xb7", "Beijing", "100085",
	"CN", "91110108MA01YUNS3X", "ap@yunshi.example",
	"0088:6901234000009", ""
};
static const struct doc_party seller_de = {
	"", "Settle Cloud GmbH", "Friedrichstra\xc3\x9f" "e 12", "Berlin",
	"10117", "DE", "DE123456789", "billing@settle.example",
	"0088:4001234000022", "DE89 3704 0044 0532 0130 00"
};
static const struct doc_party buyer_de = {
	"t-muster", "Muster Analytics AG", "Hauptstra\xc3\x9f" "e 5",
	"M\xc3\xbcnchen", "80331", "DE", "DE987654321", "ap@muster.example",
	"0088:4001234000039", ""
};

/* Appends a page text check row. */
static void want(const char *number, const char *text)
{
	fprintf(expect, "%s\t%s\n", number, text);
}

/* The page's money text: grouped with commas, a negative one with the
 * typographic minus sign U+2212. */
static void want_money(const struct doc *d, dec_t v)
{
	char t[DEC_MAX_TEXT], g[64];
	size_t n = dec_format_fixed(v, d->minor, t), ip, i = 0, k = 0;

	if (t[0] == '-') {
		memcpy(g, "\xe2\x88\x92", 3);
		k = 3;
		i = 1;
	}
	for (ip = i; ip < n && t[ip] != '.'; ip++)
		;
	for (; i < ip; i++) {
		g[k++] = t[i];
		if (i + 1 < ip && (ip - i - 1) % 3 == 0)
			g[k++] = ',';
	}
	memcpy(g + k, t + ip, n - ip);
	g[k + n - ip] = '\0';
	want(d->number, g);
}

static void put(const char *name, const struct doc_buf *b)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	f = fopen(path, "w");
	if (!f || fwrite(b->p, 1, b->n, f) != b->n || fclose(f) != 0) {
		fprintf(stderr, "mkdocs: cannot write %s\n", path);
		exit(1);
	}
}

static void emit(const struct doc *d, struct doc_buf *jsonl)
{
	struct doc_buf b;
	struct err e;
	char name[256];
	size_t i;
	int st;

	doc_buf_init(&b);
	if (doc_json(d, jsonl, &e) != 0 || doc_html(d, &b, &e) != 0) {
		fprintf(stderr, "mkdocs: %s\n", e.msg);
		exit(1);
	}
	snprintf(name, sizeof(name), "%s.html", d->number);
	put(name, &b);
	b.n = 0;
	st = doc_ubl(d, &b, &e);
	if (st < 0) {
		fprintf(stderr, "mkdocs: %s\n", e.msg);
		exit(1);
	}
	if (st == DOC_UBL_WRITTEN) {
		snprintf(name, sizeof(name), "%s.xml", d->number);
		put(name, &b);
		fprintf(expect, "%s\t@ubl\t%d\t%s\n", d->number,
			doc_ubl_type_code(d), d->tax.category);
	}
	want(d->number, d->number);
	want(d->number, d->seller.name);
	want(d->number, *d->buyer.name ? d->buyer.name : d->buyer.tenant_id);
	for (i = 0; i < d->nlines; i++)
		want_money(d, d->type == DOC_INVOICE ? d->lines[i].amount :
			   d->lines[i].delta);
	want_money(d, d->total);
	doc_buf_release(&b);
}

static struct doc base(const char *number, const char *currency,
		       const struct doc_party *s, const struct doc_party *b)
{
	struct doc d;

	memset(&d, 0, sizeof(d));
	d.type = DOC_INVOICE;
	d.number = number;
	d.invoice_no = number;
	d.period = "2026-11";
	d.version = 1;
	d.issue_date = "2026-12-01";
	d.due_date = "2026-12-16";
	d.currency = currency;
	d.minor = 2;
	d.rounding = DEC_HALF_UP;
	d.seller = *s;
	d.buyer = *b;
	d.invoice_issue_date = "";
	d.tax.category = "S";
	d.tax.exemption = "";
	return d;
}

/* The CNY invoice: every line kind, Chinese buyer, 6 % VAT. */
static const struct doc_tier t_api[] = { { M(10000), C(15) },
					  { M(5000), C(10) } };
static const struct doc_tier t_video[] = { { 2333333, M(16) } };
static const struct doc_tier t_store[] = { { M(100), C(50) } };
static const struct doc_tier t_pkgm[] = { { M(2500), M(3) } };
static const struct doc_tier t_tiny[] = { { M(10), C(10) } };
static const struct doc_pkg p_api[] = { { "FREE-API-1000", M(1000),
					  M(200) } };
static const struct doc_pkg p_ocr[] = { { "PKG-OCR-300", M(300), M(300) } };
static const struct doc_line l_cn[] = {
	/* SPEC 11.1: 10000 x 0.15 + 5000 x 0.10 = 2000.00 */
	{ "api_calls", "Vision API calls", "", "All regions", "call", "C62",
	  M(16000), M(1000), 0, 0, M(15000), t_api, 2, 0, C(200000),
	  p_api, 1, 0, 0, 0 },
	/* SPEC 11.2: 2.333333 min x 16 = 37.333328 -> 37.33 */
	{ "video_production", "Video production", "fps=(30,60];res=(720,1440]",
	  "60 fps, 1080p", "minute", "MIN", 2333333, 0, 0, 0, 2333333,
	  t_video, 1, 0, C(3733), NULL, 0, 0, 0, 0 },
	/* 100 x 0.50 + flat fee 5.00 = 55.00 */
	{ "storage", "Object storage", "", "Standard", "GB-month", "C62",
	  M(100), 0, 0, 0, M(100), t_store, 1, M(5), C(5500), NULL, 0,
	  0, 0, 0 },
	/* package model, blocks of 1000: ceil(2500 / 1000) x 3 = 9.00 */
	{ "sms", "SMS notifications", "", "Mainland China", "message", "C62",
	  M(2500), 0, 0, 0, M(2500), t_pkgm, 1, 0, C(900), NULL, 0, 0, 0,
	  0 },
	/* 10 x 0.10 + flat 0.125 = 1.125 -> 1.13 (half_up) */
	{ "webhook", "Webhook deliveries", "", "", "call", "C62", M(10), 0,
	  0, 0, M(10), t_tiny, 1, 125000, C(113), NULL, 0, 0, 0, 0 },
	/* fully covered by a package: 0.00 */
	{ "ocr", "OCR pages", "", "", "page", "C62", M(300), M(300), 0, 0,
	  0, NULL, 0, 0, 0, p_ocr, 1, 0, 0, 0 },
};

static void cny(struct doc_buf *jsonl)
{
	struct doc d = base("INV-202611-000001", "CNY", &seller_cn,
			    &buyer_cn);

	d.lines = l_cn;
	d.nlines = 6;
	/* 2000.00 + 37.33 + 55.00 + 9.00 + 1.13 + 0 = 2102.46 */
	d.net = C(210246);
	d.tax.rate = M(6);
	d.tax.amount = C(12615); /* 2102.46 x 6 % = 126.1476 -> 126.15 */
	d.total = C(222861);
	d.balance_before = C(50000);
	d.paid_from_balance = C(50000);
	d.amount_due = C(172861);
	d.balance_after = -C(172861);
	emit(&d, jsonl);
}

/* Its credit note: api 2000.00 -> 1990.00, video 37.33 -> 0; net -47.33;
 * tax 126.15 -> round(2055.13 x 6 %) = 123.31, delta -2.84 (the rule's
 * 47.33 x 6 % = 2.8398 -> 2.84 too); total -50.17. */
static const struct doc_line l_cn_a1[] = {
	{ "api_calls", "Vision API calls", "", "All regions", "", "", 0, 0,
	  0, 0, 0, NULL, 0, 0, 0, NULL, 0, C(200000), C(199000), -C(1000) },
	{ "video_production", "Video production", "fps=(30,60];res=(720,1440]",
	  "60 fps, 1080p", "", "", 0, 0, 0, 0, 0, NULL, 0, 0, 0, NULL, 0,
	  C(3733), 0, -C(3733) },
};

static void cny_credit(struct doc_buf *jsonl)
{
	struct doc d = base("INV-202611-000001-A1", "CNY", &seller_cn,
			    &buyer_cn);

	d.type = DOC_ADJUSTMENT;
	d.invoice_no = "INV-202611-000001";
	d.invoice_issue_date = "2026-12-01";
	d.issue_date = "2027-01-01";
	d.due_date = "";
	d.version = 2;
	d.lines = l_cn_a1;
	d.nlines = 2;
	d.net = -C(4733);
	d.tax.rate = M(6);
	d.tax.amount = -C(284);
	d.total = -C(5017);
	emit(&d, jsonl);
}

/* 200 lines: line i bills i x 10 calls at 0.25 = i x 2.50; net = 2.50 x
 * (200 x 201 / 2) = 50250.00; 19 % = 9547.50; total 59797.50. */
static void long_invoice(struct doc_buf *jsonl)
{
	static struct doc_line l[200];
	static struct doc_tier t[200];
	static char items[200][32], names[200][48];
	struct doc d = base("INV-202611-000002", "EUR", &seller_de,
			    &buyer_de);
	int i;

	for (i = 0; i < 200; i++) {
		snprintf(items[i], sizeof(items[i]), "metric_%03d", i + 1);
		snprintf(names[i], sizeof(names[i]), "Monitoring metric %03d",
			 i + 1);
		t[i].qty = M(10 * (i + 1));
		t[i].unit_price = C(25);
		memset(&l[i], 0, sizeof(l[i]));
		l[i].item = items[i];
		l[i].name = names[i];
		l[i].price_group = "";
		l[i].label = "";
		l[i].unit = "call";
		l[i].unit_code = "C62";
		l[i].usage_qty = l[i].billable_qty = t[i].qty;
		l[i].tiers = &t[i];
		l[i].ntiers = 1;
		l[i].amount = C(250) * (i + 1);
	}
	d.lines = l;
	d.nlines = 200;
	d.net = C(5025000);
	d.tax.rate = M(19);
	d.tax.amount = C(954750);
	d.total = C(5979750);
	d.amount_due = C(5979750);
	d.balance_after = -C(5979750);
	emit(&d, jsonl);
}

/* Hostile texts, zero rated (Z): 4 x 12.50 = 50.00, tax 0. */
static const struct doc_tier t_one[] = { { M(4), C(1250) } };
static const struct doc_line l_evil[] = {
	{ "export_job", "=HYPERLINK(\"http://x\",\"y\")", "a=<b>",
	  "=HYPERLINK(\"http://x\",\"y\")", "job", "C62", M(4), 0, 0, 0,
	  M(4), t_one, 1, 0, C(5000), NULL, 0, 0, 0, 0 },
};

static void hostile(struct doc_buf *jsonl)
{
	struct doc_party b = buyer_de;
	struct doc d = base("INV-202611-000003", "EUR", &seller_de, &b);

	b.tenant_id = "t-evil";
	b.name = "<script>alert(1)</script>";
	b.address = "\"Quotes' & <ampersands>\"";
	d.buyer = b;
	d.lines = l_evil;
	d.nlines = 1;
	d.tax.category = "Z";
	d.net = d.total = d.amount_due = C(5000);
	d.balance_after = -C(5000);
	emit(&d, jsonl);
}

/* One plain line of 3 x 33.33 = 99.99, for the categories E, AE, O. */
static const struct doc_tier t_plain[] = { { M(3), C(3333) } };
static const struct doc_line l_plain[] = {
	{ "consulting", "Integration support", "", "", "hour", "HUR", M(3), 0,
	  0, 0, M(3), t_plain, 1, 0, C(9999), NULL, 0, 0, 0, 0 },
};

static void category(struct doc_buf *jsonl, const char *number,
		     const char *cat, const char *why, const char *cur)
{
	struct doc_party b = buyer_de;
	struct doc d = base(number, cur, &seller_de, &b);

	if (strcmp(cat, "AE") == 0) {
		b.tenant_id = "t-lyon";
		b.name = "Lyon Data SARL";
		b.city = "Lyon";
		b.postal_code = "69001";
		b.country = "FR";
		b.tax_id = "FR40303265045";
		b.endpoint = "0088:3001234000047";
	}
	d.buyer = b;
	d.lines = l_plain;
	d.nlines = 1;
	d.tax.category = cat;
	d.tax.exemption = why;
	d.net = d.total = d.amount_due = C(9999);
	d.balance_after = -C(9999);
	emit(&d, jsonl);
}

/* 384: invoice 100.03 (tax 19.0057 -> 19.01, total 119.04) corrected to
 * 100.06 (tax 19.0114 -> 19.01): net +0.03, tax delta 0, total +0.03.
 * The rule's tax of 0.03 is 0.0057 -> 0.01, so the UBL file states tax
 * 0.01 and a rounding amount of -0.01 (payable 0.03). */
static const struct doc_tier t_fix[] = { { M(1), C(10003) } };
static const struct doc_line l_fix[] = {
	{ "support", "Premium support", "", "", "month", "MON", M(1), 0, 0, 0,
	  M(1), t_fix, 1, 0, C(10003), NULL, 0, 0, 0, 0 },
};
static const struct doc_line l_fix_a1[] = {
	{ "support", "Premium support", "", "", "", "", 0, 0, 0, 0, 0, NULL,
	  0, 0, 0, NULL, 0, C(10003), C(10006), C(3) },
};

static void corrected(struct doc_buf *jsonl)
{
	struct doc d = base("INV-202611-000007", "EUR", &seller_de,
			    &buyer_de);

	d.lines = l_fix;
	d.nlines = 1;
	d.net = C(10003);
	d.tax.rate = M(19);
	d.tax.amount = C(1901);
	d.total = d.amount_due = C(11904);
	d.balance_after = -C(11904);
	emit(&d, jsonl);
	d.type = DOC_ADJUSTMENT;
	d.number = "INV-202611-000007-A1";
	d.invoice_issue_date = "2026-12-01";
	d.issue_date = "2027-01-01";
	d.due_date = "2027-01-16";
	d.version = 2;
	d.lines = l_fix_a1;
	d.net = C(3);
	d.tax.amount = 0;
	d.total = C(3);
	d.amount_due = d.balance_after = 0;
	emit(&d, jsonl);
}

int main(int argc, char **argv)
{
	struct doc_buf jsonl;
	char path[512];

	if (argc != 2) {
		fprintf(stderr, "usage: mkdocs OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	snprintf(path, sizeof(path), "%s/expect.tsv", outdir);
	expect = fopen(path, "w");
	if (!expect) {
		fprintf(stderr, "mkdocs: cannot write %s\n", path);
		return 1;
	}
	doc_buf_init(&jsonl);
	cny(&jsonl);
	cny_credit(&jsonl);
	long_invoice(&jsonl);
	hostile(&jsonl);
	category(&jsonl, "INV-202611-000004", "E", "Exempt financial "
		 "service, Article 135(1)(d) of Directive 2006/112/EC",
		 "EUR");
	category(&jsonl, "INV-202611-000005", "AE", "Reverse charge: VAT "
		 "due by the customer, Article 196 of Directive "
		 "2006/112/EC", "EUR");
	category(&jsonl, "INV-202611-000006", "O", "Not subject to VAT: "
		 "services supplied outside the scope of VAT", "USD");
	corrected(&jsonl);
	put("documents.jsonl", &jsonl);
	doc_buf_release(&jsonl);
	return fclose(expect) == 0 ? 0 : 1;
}
