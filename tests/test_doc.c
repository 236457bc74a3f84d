/* Unit tests for doc: exact documents.jsonl lines (SPEC 12), JSON and
 * HTML escaping, the UBL line mapping (PEPPOL-EN16931-R120), the UBL
 * document choice, totals and missing-data list. Expected values are
 * derived by hand in the comments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "testhelp.h"
#include "banned.h"

#define M(x) ((dec_t)((x) * 1000000LL)) /* whole units */
#define C(x) ((dec_t)((x) * 10000LL))   /* hundredths */

static const struct doc_party seller = {
	"", "Acme", "Main St 1", "Berlin", "10117", "DE", "DE123456789",
	"b@acme.example", "0088:4001234000022", "DE89370400440532013000"
};
static const struct doc_party buyer = {
	"t1", "Bob \"B\" \\ Co", "", "", "", "DE", "DE987654321", "",
	"0088:4001234000039", ""
};

static const struct doc_tier tiers1[] = { { M(10000), C(15) },
					  { M(5000), C(10) } };
static const struct doc_pkg pkgs1[] = { { "P1", M(1000), M(200) } };
static const struct doc_line line1[] = {
	/* SPEC 11.1: 10000 x 0.15 + 5000 x 0.10 = 2000.00 */
	{ "api", "API calls", "", "All", "call", "C62", M(16000), M(1000), 0,
	  0, M(15000), tiers1, 2, 0, C(200000), pkgs1, 1, 0, 0, 0 },
};

static struct doc invoice(void)
{
	struct doc d;

	memset(&d, 0, sizeof(d));
	d.type = DOC_INVOICE;
	d.number = d.invoice_no = "INV-202611-000001";
	d.period = "2026-11";
	d.version = 1;
	d.issue_date = "2026-12-01";
	d.due_date = "2026-12-16";
	d.currency = "EUR";
	d.minor = 2;
	d.seller = seller;
	d.buyer = buyer;
	d.lines = line1;
	d.nlines = 1;
	d.net = C(200000);
	d.tax.rate = M(19);
	d.tax.category = "S";
	d.tax.exemption = "";
	d.tax.amount = C(38000); /* 2000.00 x 19 % = 380.00 */
	d.total = C(238000);
	d.balance_before = C(10000);
	d.paid_from_balance = C(10000);
	d.amount_due = C(228000);  /* 2380.00 - 100.00 */
	d.balance_after = -C(228000);
	d.invoice_issue_date = "";
	return d;
}

static void test_json_invoice(void)
{
	struct doc d = invoice();
	struct doc_buf b = { 0 };
	struct err e;

	TEST_EQ_INT(doc_json(&d, &b, &e), 0);
	TEST_EQ_STR(b.p,
		"{\"type\":\"invoice\",\"number\":\"INV-202611-000001\","
		"\"invoice_no\":\"INV-202611-000001\",\"period\":\"2026-11\","
		"\"version\":1,\"issue_date\":\"2026-12-01\",\"due_date\":"
		"\"2026-12-16\",\"currency\":\"EUR\",\"seller\":{\"name\":"
		"\"Acme\",\"address\":\"Main St 1\",\"city\":\"Berlin\","
		"\"postal_code\":\"10117\",\"country\":\"DE\",\"tax_id\":"
		"\"DE123456789\",\"email\":\"b@acme.example\",\"endpoint\":"
		"\"0088:4001234000022\",\"iban\":\"DE89370400440532013000\"},"
		"\"buyer\":{\"tenant_id\":\"t1\",\"name\":\"Bob \\\"B\\\" "
		"\\\\ Co\",\"address\":\"\",\"city\":\"\",\"postal_code\":\"\","
		"\"country\":\"DE\",\"tax_id\":\"DE987654321\",\"email\":\"\","
		"\"endpoint\":\"0088:4001234000039\"},\"lines\":[{\"item\":"
		"\"api\",\"name\":\"API calls\",\"price_group\":\"\",\"label\":"
		"\"All\",\"unit\":\"call\",\"unit_code\":\"C62\",\"usage_qty\":"
		"\"16000\",\"package_qty\":\"1000\",\"forgiven_qty\":\"0\","
		"\"uncovered_qty\":\"0\",\"billable_qty\":\"15000\",\"tiers\":"
		"[{\"qty\":\"10000\",\"unit_price\":\"0.15\"},{\"qty\":\"5000\","
		"\"unit_price\":\"0.1\"}],\"amount\":\"2000.00\",\"packages\":"
		"[{\"package_id\":\"P1\",\"quantity\":\"1000\",\"units\":"
		"\"200\"}]}],\"net\":\"2000.00\",\"tax\":{\"rate\":\"19\","
		"\"category\":\"S\",\"exemption\":\"\",\"amount\":\"380.00\"},"
		"\"total\":\"2380.00\",\"balance_before\":\"100.00\","
		"\"paid_from_balance\":\"100.00\",\"amount_due\":\"2280.00\","
		"\"balance_after\":\"-2280.00\"}\n");
	doc_buf_release(&b);
}

/* An adjustment: api 2000.00 -> 1990.00 (delta -10.00); tax 380.00 ->
 * 378.10 (1990 x 19 %), delta -1.90; total -11.90. JPY-free: minor 2. */
static const struct doc_line adj1[] = {
	{ "api", "API calls", "", "All", "", "", 0, 0, 0, 0, 0, NULL, 0, 0,
	  0, NULL, 0, C(200000), C(199000), -C(1000) },
};

static struct doc adjustment(void)
{
	struct doc d = invoice();

	d.type = DOC_ADJUSTMENT;
	d.number = "INV-202611-000001-A1";
	d.version = 2;
	d.issue_date = "2027-01-01";
	d.due_date = "";
	d.invoice_issue_date = "2026-12-01";
	d.lines = adj1;
	d.net = -C(1000);
	d.tax.amount = -C(190);
	d.total = -C(1190);
	d.balance_before = d.paid_from_balance = 0;
	d.amount_due = d.balance_after = 0;
	return d;
}

static void test_json_adjustment(void)
{
	struct doc d = adjustment();
	struct doc_buf b = { 0 };
	struct err e;
	const char *lines;

	TEST_EQ_INT(doc_json(&d, &b, &e), 0);
	lines = b.p ? strstr(b.p, "\"lines\"") : NULL;
	TEST_EQ_STR(lines,
		"\"lines\":[{\"item\":\"api\",\"name\":\"API calls\","
		"\"price_group\":\"\",\"label\":\"All\",\"old_amount\":"
		"\"2000.00\",\"new_amount\":\"1990.00\",\"delta\":\"-10.00\"}],"
		"\"net\":\"-10.00\",\"tax\":{\"rate\":\"19\",\"category\":"
		"\"S\",\"exemption\":\"\",\"amount\":\"-1.90\"},\"total\":"
		"\"-11.90\"}\n");
	TEST_TRUE(strncmp(b.p, "{\"type\":\"adjustment\",\"number\":"
			  "\"INV-202611-000001-A1\",\"invoice_no\":"
			  "\"INV-202611-000001\",\"period\":\"2026-11\","
			  "\"version\":2,", 103) == 0);
	doc_buf_release(&b);
}

/* RFC 8259: controls as \u00XX, UTF-8 as is, a stray byte as \ufffd. */
static void test_json_escape(void)
{
	struct doc d = invoice();
	struct doc_buf b = { 0 };
	struct err e;

	d.buyer.name = "a\nb\x01\t\xe5\x8c\x97\xff/";
	TEST_EQ_INT(doc_json(&d, &b, &e), 0);
	TEST_TRUE(b.p && strstr(b.p, "\"name\":\"a\\u000ab\\u0001\\u0009"
				"\xe5\x8c\x97\\ufffd/\"") != NULL);
	doc_buf_release(&b);
}

static void test_html_escape(void)
{
	struct doc d = invoice();
	struct doc_buf b = { 0 };
	struct err e;

	d.buyer.name = "<script>alert(1)</script>";
	d.buyer.address = "=HYPERLINK(\"http://x\",'y') & co";
	TEST_EQ_INT(doc_html(&d, &b, &e), 0);
	TEST_TRUE(b.p && strstr(b.p, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	TEST_TRUE(b.p && !strstr(b.p, "<script"));
	TEST_TRUE(b.p && strstr(b.p, "=HYPERLINK(&quot;http://x&quot;,"
				"&#39;y&#39;) &amp; co"));
	/* service period: November's first and last day */
	TEST_TRUE(b.p && strstr(b.p, "2026-11-01 \xe2\x80\x93 2026-11-30"));
	TEST_TRUE(b.p && strstr(b.p, "2,380.00 EUR"));
	TEST_TRUE(b.p && strstr(b.p, "thead{display:table-header-group}"));
	doc_buf_release(&b);
}

/* The line mapping table: settled line -> UBL quantity, price, base
 * quantity, charge and net (R120: net = qty x price / base + charge). */
static void test_map_line(void)
{
	static const struct doc_tier one[] = { { M(100), C(50) } };
	static const struct doc_tier video[] = { { 2333333, M(16) } };
	static const struct doc_tier blocks[] = { { M(2500), M(3) } };
	static const struct doc_tier tiny[] = { { M(10), C(10) } };
	static const struct {
		const struct doc_tier *t;
		size_t nt;
		dec_t billable, flat, amount;
		dec_t qty, price, base, charge;
	} cases[] = {
		/* one slice, exact: 100 x 0.50 = 50.00 -> plain price */
		{ one, 1, M(100), 0, C(5000), M(100), C(50), 0, 0 },
		/* + flat 5.00 as a charge: 100 x 0.50 + 5.00 = 55.00 */
		{ one, 1, M(100), M(5), C(5500), M(100), C(50), 0, M(5) },
		/* 2.333333 x 16 = 37.333328 -> 37.33: "37.33 per
		 * 2.333333" */
		{ video, 1, 2333333, 0, C(3733), 2333333, C(3733), 2333333, 0 },
		/* graduated: two slices -> 2000.00 per 15000 */
		{ tiers1, 2, M(15000), 0, C(200000), M(15000), C(200000),
		  M(15000), 0 },
		/* package model: ceil(2500 / 1000) x 3 = 9.00 */
		{ blocks, 1, M(2500), 0, C(900), M(2500), C(900), M(2500), 0 },
		/* flat 0.125 has 3 decimals: folded, 1.125 -> 1.13 */
		{ tiny, 1, M(10), 125000, C(113), M(10), C(113), M(10), 0 },
		/* fully covered: quantity 0, price 0 */
		{ NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	};
	struct doc d = invoice();
	struct doc_line l = line1[0];
	struct doc_ubl_line m;
	struct err e;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		l.tiers = cases[i].t;
		l.ntiers = cases[i].nt;
		l.billable_qty = cases[i].billable;
		l.flat = cases[i].flat;
		l.amount = cases[i].amount;
		TEST_EQ_INT(doc_ubl_map_line(&d, &l, &m, &e), 0);
		TEST_EQ_INT(m.quantity, cases[i].qty);
		TEST_EQ_INT(m.price, cases[i].price);
		TEST_EQ_INT(m.base_qty, cases[i].base);
		TEST_EQ_INT(m.charge, cases[i].charge);
		TEST_EQ_INT(m.net, cases[i].amount);
	}
	/* adjustment lines in a credit note: a drop of 10.00 is a credit of
	 * quantity 1 at 10.00 */
	d = adjustment();
	TEST_EQ_INT(doc_ubl_map_line(&d, &adj1[0], &m, &e), 0);
	TEST_EQ_INT(m.quantity, M(1));
	TEST_EQ_INT(m.price, C(1000));
	TEST_EQ_INT(m.net, C(1000));
	TEST_EQ_STR(m.unit_code, "C62");
}

static int has(const struct doc_buf *b, const char *s)
{
	int ok = b->p && strstr(b->p, s) != NULL;

	if (!ok)
		fprintf(stderr, "missing in UBL: %s\n", s);
	return ok;
}

static void test_ubl_invoice(void)
{
	struct doc d = invoice();
	struct doc_buf b = { 0 };
	struct err e;

	TEST_EQ_INT(doc_ubl_type_code(&d), 380);
	TEST_EQ_INT(doc_ubl(&d, &b, &e), DOC_UBL_WRITTEN);
	TEST_TRUE(has(&b, "<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>"));
	TEST_TRUE(has(&b, "<cbc:CustomizationID>urn:cen.eu:en16931:2017"
		      "#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
		      "</cbc:CustomizationID>"));
	TEST_TRUE(has(&b, "<cbc:EndpointID schemeID=\"0088\">4001234000022"));
	/* 15000 calls, 2000.00 per 15000 (R120: 15000 x 2000 / 15000) */
	TEST_TRUE(has(&b, "<cbc:InvoicedQuantity unitCode=\"C62\">15000<"));
	TEST_TRUE(has(&b, "<cbc:PriceAmount currencyID=\"EUR\">2000.00<"));
	TEST_TRUE(has(&b, "<cbc:BaseQuantity unitCode=\"C62\">15000<"));
	/* BR-S-09: 2000.00 x 19 % = 380.00; prepaid 100, due 2280.00 */
	TEST_TRUE(has(&b, "<cbc:TaxAmount currencyID=\"EUR\">380.00<"));
	TEST_TRUE(has(&b, "<cbc:TaxInclusiveAmount currencyID=\"EUR\">"
		      "2380.00<"));
	TEST_TRUE(has(&b, "<cbc:PrepaidAmount currencyID=\"EUR\">100.00<"));
	TEST_TRUE(has(&b, "<cbc:PayableAmount currencyID=\"EUR\">2280.00<"));
	TEST_TRUE(has(&b, "<cbc:Name>Bob &quot;B&quot; \\ Co</cbc:Name>"));
	doc_buf_release(&b);
}

static void test_ubl_credit_note(void)
{
	struct doc d = adjustment();
	struct doc_buf b = { 0 };
	struct err e;

	TEST_EQ_INT(doc_ubl_type_code(&d), 381);
	TEST_EQ_INT(doc_ubl(&d, &b, &e), DOC_UBL_WRITTEN);
	TEST_TRUE(has(&b, "<CreditNote xmlns=\"urn:oasis:names:specification"
		      ":ubl:schema:xsd:CreditNote-2\""));
	TEST_TRUE(has(&b, "<cbc:CreditNoteTypeCode>381<"));
	TEST_TRUE(has(&b, "<cac:InvoiceDocumentReference>\n      <cbc:ID>"
		      "INV-202611-000001</cbc:ID>\n      <cbc:IssueDate>"
		      "2026-12-01</cbc:IssueDate>"));
	/* credits as positive amounts: 10.00 net, 1.90 tax (10 x 19 %) */
	TEST_TRUE(has(&b, "<cbc:CreditedQuantity unitCode=\"C62\">1<"));
	TEST_TRUE(has(&b, "<cbc:TaxAmount currencyID=\"EUR\">1.90<"));
	TEST_TRUE(has(&b, "<cbc:PayableAmount currencyID=\"EUR\">11.90<"));
	TEST_TRUE(b.p && !strstr(b.p, "DueDate"));
	doc_buf_release(&b);
}

/* 384 whose tax delta is not the rule's: net +0.03, tax delta 0 (19.01
 * before and after); the rule's tax of 0.03 x 19 % = 0.0057 is 0.01, so
 * the file states 0.01 and rounding -0.01: payable 0.03 (BR-CO-16). */
static void test_ubl_corrected(void)
{
	static const struct doc_line l[] = {
		{ "s", "Support", "", "", "", "", 0, 0, 0, 0, 0, NULL, 0, 0,
		  0, NULL, 0, C(10003), C(10006), C(3) },
	};
	struct doc d = adjustment();
	struct doc_buf b = { 0 };
	struct err e;

	d.lines = l;
	d.net = C(3);
	d.tax.amount = 0;
	d.total = C(3);
	d.due_date = "2027-01-16";
	TEST_EQ_INT(doc_ubl_type_code(&d), 384);
	TEST_EQ_INT(doc_ubl(&d, &b, &e), DOC_UBL_WRITTEN);
	TEST_TRUE(has(&b, "<cbc:InvoiceTypeCode>384<"));
	TEST_TRUE(has(&b, "<cbc:DueDate>2027-01-16<"));
	TEST_TRUE(has(&b, "<cbc:TaxAmount currencyID=\"EUR\">0.01<"));
	TEST_TRUE(has(&b, "<cbc:PayableRoundingAmount currencyID=\"EUR\">"
		      "-0.01<"));
	TEST_TRUE(has(&b, "<cbc:PayableAmount currencyID=\"EUR\">0.03<"));
	doc_buf_release(&b);
}

static void test_ubl_status(void)
{
	struct doc d = adjustment();
	struct doc_buf b = { 0 };
	struct doc_missing m[8];
	struct err e;

	/* a zero delta gets no file */
	d.net = d.total = d.tax.amount = 0;
	d.nlines = 0;
	TEST_EQ_INT(doc_ubl(&d, &b, &e), DOC_UBL_NONE);
	/* three minor digits: BR-DEC-23 */
	d = invoice();
	d.minor = 3;
	TEST_EQ_INT(doc_ubl(&d, &b, &e), DOC_UBL_DECIMALS);
	TEST_EQ_INT(b.n, 0);
	/* O: no tax ids needed, an exemption reason is */
	d = invoice();
	d.tax.category = "O";
	d.tax.rate = 0;
	d.tax.amount = 0;
	d.total = d.net;
	d.amount_due = d.total - d.paid_from_balance;
	d.balance_after = d.balance_before - d.total;
	d.seller.tax_id = "";
	d.buyer.endpoint = "0088";
	TEST_EQ_INT(doc_ubl_missing(&d, m, 8), 2);
	TEST_EQ_STR(m[0].key, "endpoint");
	TEST_EQ_STR(m[0].file, "accounts.csv");
	TEST_EQ_STR(m[1].key, "tax_exemption");
	TEST_EQ_INT(doc_ubl(&d, &b, &e), DOC_UBL_MISSING);
	d.buyer.endpoint = "0088:4001234000039";
	d.tax.exemption = "Outside the scope";
	d.seller.tax_id = "DE123456789";
	TEST_EQ_INT(doc_ubl(&d, &b, &e), DOC_UBL_WRITTEN);
	TEST_TRUE(b.p && !strstr(b.p, "DE123456789")); /* BR-O-02 */
	TEST_TRUE(b.p && !strstr(b.p, "cbc:Percent"));  /* BR-O-05 */
	b.n = 0;
	/* AE needs the buyer's tax id; S the seller's and the country */
	d = invoice();
	d.tax.category = "AE";
	d.tax.rate = 0;
	d.tax.amount = 0;
	d.tax.exemption = "Reverse charge";
	d.total = d.net;
	d.amount_due = d.total - d.paid_from_balance;
	d.balance_after = d.balance_before - d.total;
	d.buyer.tax_id = "";
	d.seller.country = "";
	TEST_EQ_INT(doc_ubl_missing(&d, m, 8), 2);
	TEST_EQ_STR(m[0].key, "seller_country");
	TEST_EQ_STR(m[0].rule, "BR-09");
	TEST_EQ_STR(m[1].key, "tax_id");
	/* a broken invariant is an error, not a document */
	d = invoice();
	d.net += C(1);
	TEST_EQ_INT(doc_ubl(&d, &b, &e), -1);
	TEST_TRUE(strstr(e.msg, "net is not the sum") != NULL);
	TEST_EQ_INT(doc_json(&d, &b, &e), -1);
	doc_buf_release(&b);
}

static void test_period(void)
{
	char a[11], z[11];

	TEST_EQ_INT(doc_period_days("2028-02", a, z), 0);
	TEST_EQ_STR(a, "2028-02-01");
	TEST_EQ_STR(z, "2028-02-29");
	TEST_EQ_INT(doc_period_days("2100-02", a, z), 0);
	TEST_EQ_STR(z, "2100-02-28");
	TEST_EQ_INT(doc_period_days("2026-13", a, z), -1);
}

int main(void)
{
	test_json_invoice();
	test_json_adjustment();
	test_json_escape();
	test_html_escape();
	test_map_line();
	test_ubl_invoice();
	test_ubl_credit_note();
	test_ubl_corrected();
	test_ubl_status();
	test_period();
	return TEST_REPORT();
}
