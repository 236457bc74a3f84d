/* Fuzz target: the money sums of the balance ledger and the summary
 * (balance.h, report.h) with extreme amounts (issue 15: every sum of
 * money checked).
 *
 * The input is read as a stream of values (each a selector byte, then
 * for a raw value 8 bytes little-endian; the selector also picks the
 * extremes INT64_MAX, INT64_MIN and values near them, so that the fuzzer
 * reaches every boundary at once). It describes one account (opening
 * balance), up to 4 payments (amount, before or after the period's
 * as_of), up to 4 final invoices of earlier periods and of the period
 * itself (net, tax), stored in a state file made once per process (each
 * input in a transaction that is rolled back), a new invoice (net, tax)
 * and up to 4 draft invoices for the summary. Properties, each checked
 * against 128-bit reference arithmetic here:
 * - balance_before: an error, or exactly opening + payments before as_of
 *   - totals of earlier final invoices; an error whenever that value is
 *   outside int64 (never a wrapped or dropped number);
 * - balance_header: an error, or total = net + tax, balance_after =
 *   before - total, paid_from_balance = min(total, max(before, 0)),
 *   amount_due = total - paid_from_balance, all exact; an error whenever
 *   total or balance_after does not fit;
 * - balance_arrears: an error, or the account in arrears exactly when
 *   credits - totals up to the period < 0, with that outstanding amount;
 * - summary.txt (report_render_rest): the net, tax and total lines of the
 *   currency are the exact sums, however far past int64 they go. */
#include <stdint.h>
#include <unistd.h>

#include "balance.h"
#include "catalog.h"
#include "final.h"
#include "report.h"
#include "store.h"
#include "ts.h"
#include "fuzzhelp.h"
#include "banned.h"

typedef __int128 i128;

static struct store *st;
static struct final *fin;
static char dbpath[64];

static void cleanup(void)
{
	char p[80];

	final_free(fin);
	store_close(st);
	unlink(dbpath);
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct err e;
	int fd;

	(void)argc;
	(void)argv;
	snprintf(dbpath, sizeof(dbpath), "/tmp/fuzz_ledger.XXXXXX");
	fd = mkstemp(dbpath);
	CHECK(fd >= 0);
	close(fd);
	unlink(dbpath);
	st = store_open(dbpath, STORE_CREATE, &e);
	if (!st)
		fprintf(stderr, "fuzz_ledger: %s\n", e.msg);
	CHECK(st != NULL);
	fin = final_new(st);
	atexit(cleanup);
	return 0;
}

struct in {
	const uint8_t *p;
	size_t n;
};

static int64_t take(struct in *in)
{
	uint64_t v = 0;
	uint8_t sel;
	int i;

	if (in->n == 0)
		return 0;
	sel = *in->p++;
	in->n--;
	switch (sel % 8) {
	case 0: return INT64_MAX - (sel >> 3);
	case 1: return INT64_MIN + (sel >> 3);
	case 2: return (int64_t)(sel >> 3) * 1000000;
	case 3: return -(int64_t)(sel >> 3) * 1000000;
	case 4: return INT64_MAX / 2 + (sel >> 3);
	default:
		for (i = 0; i < 8 && in->n; i++, in->p++, in->n--)
			v |= (uint64_t)*in->p << (8 * i);
		return (int64_t)v;
	}
}

static int fits(i128 v)
{
	return v >= INT64_MIN && v <= INT64_MAX;
}

/* The reference text of an amount with 2 decimals (v a multiple of
 * 10000 millionths). */
static void ref_amount(i128 v, char *buf)
{
	unsigned __int128 m = v < 0 ? -(unsigned __int128)v :
				      (unsigned __int128)v;
	char tmp[64];
	int n = 0, k = 0;

	m /= 10000;  /* hundredths */
	do {
		tmp[n++] = (char)('0' + (int)(m % 10));
		m /= 10;
	} while (m || n < 3);
	if (v < 0)
		buf[k++] = '-';
	while (n > 2)
		buf[k++] = tmp[--n];
	buf[k++] = '.';
	buf[k++] = tmp[1];
	buf[k++] = tmp[0];
	buf[k] = '\0';
}

static int P;  /* the period: 2026-10 */

static void check_summary(struct in *in, struct account *a,
			  struct catalog *cat)
{
	struct eng_invoice ev[4];
	struct report_invoice ri[4];
	struct eng_period rp;
	struct report r;
	struct report_files out;
	i128 sum[3] = { 0, 0, 0 };
	char want[3][80], *s;
	size_t i, n = in->n ? (size_t)(in->p[0] % 4) + 1 : 1;

	memset(ev, 0, sizeof(ev));
	memset(ri, 0, sizeof(ri));
	memset(&rp, 0, sizeof(rp));
	for (i = 0; i < n; i++) {
		ev[i].acct = a;
		ri[i].net = take(in) / 10000 * 10000;
		ri[i].tax = take(in) / 10000 * 10000;
		ri[i].total = take(in) / 10000 * 10000;
		sum[0] += ri[i].net;
		sum[1] += ri[i].tax;
		sum[2] += ri[i].total;
	}
	rp.period = P;
	rp.inv = ev;
	rp.ninv = n;
	memset(&r, 0, sizeof(r));
	r.cat = cat;
	r.rp = &rp;
	r.inv = ri;
	r.draft = 1;
	memset(&out, 0, sizeof(out));
	report_render_rest(&r, &out);
	CHECK(out.n == 1 && strcmp(out.f[0].name, "summary.txt") == 0);
	for (i = 0; i < 3; i++) {
		char amt[64];

		ref_amount(sum[i], amt);
		snprintf(want[i], sizeof(want[i]), "\n%s CNY: %s\n",
			 i == 0 ? "net" : i == 1 ? "tax" : "total", amt);
		s = strstr(out.f[0].data, want[i]);
		if (!s)
			fprintf(stderr, "want %s in:\n%s", want[i],
				out.f[0].data);
		CHECK(s != NULL);
	}
	report_files_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char zero[32];
	struct in in = { data, size };
	struct payment pay[4];
	struct account a;
	const struct account *ap = &a;
	struct catalog cat;
	struct final_terms t;
	struct report_invoice h;
	struct report_arrears *arr = NULL;
	struct eng_invoice v;
	struct err e;
	int64_t as_of;
	i128 credits, before_ref, upto_ref, total_ref, after_ref;
	dec_t before = 0;
	size_t i, npay, nfin, narr = 0;
	int rc;

	CHECK(ts_period_parse("2026-10", &P) == 0);
	as_of = ts_period_start(P + 1, 0);
	memset(&cat, 0, sizeof(cat));
	memset(&a, 0, sizeof(a));
	a.tenant = (char *)"t";
	memcpy(a.currency, "CNY", 4);
	a.grace_days = 15;
	a.retention_days = 15;
	a.opening_balance = take(&in);
	credits = a.opening_balance;
	npay = in.n ? in.p[0] % 5 : 0;
	for (i = 0; i < npay; i++) {
		pay[i].id = (char *)"p";
		pay[i].tenant = a.tenant;
		memcpy(pay[i].currency, "CNY", 4);
		pay[i].amount = take(&in);
		/* ts sorted: the first ones before as_of, maybe the last not */
		pay[i].ts = as_of - 4 + (int64_t)i +
			    (in.n && (in.p[0] & 0x80) ? 1 : 0);
		if (pay[i].ts < as_of)
			credits += pay[i].amount;
	}
	cat.accounts = &a;
	cat.naccounts = 1;
	cat.payments = pay;
	cat.npayments = npay;
	cat.set.rounding = DEC_HALF_UP;

	CHECK(store_begin(st, &e) == 0);
	/* final invoices: periods P-3..P (P's own counts for arrears only) */
	nfin = in.n ? in.p[0] % 5 : 0;
	before_ref = credits;
	upto_ref = credits;
	memset(&v, 0, sizeof(v));
	v.acct = &a;
	for (i = 0; i < nfin; i++) {
		int q = P - 3 + (int)i;

		memset(&t, 0, sizeof(t));
		t.net = take(&in);
		t.tax = take(&in);
		if (!fits((i128)t.net + t.tax))
			t.tax = 0;
		snprintf(t.issue_date, sizeof(t.issue_date), "2026-01-01");
		snprintf(t.due_date, sizeof(t.due_date), "2026-01-16");
		CHECK(final_period_put(fin, q, "INV", 1, zero, zero, &e) == 0);
		CHECK(final_invoice_put(fin, q, &v, 1, 1, &t, &e) == 0);
		if (q < P)
			before_ref -= (i128)t.net + t.tax;
		upto_ref -= (i128)t.net + t.tax;
	}

	/* balance_before: exact or an error, an error when out of range */
	rc = balance_before(st, &cat, &ap, 1, P, &before, &e);
	if (rc == 0)
		CHECK((i128)before == before_ref);
	if (!fits(before_ref))
		CHECK(rc != 0);
	if (rc != 0)
		before = take(&in);

	/* balance_header */
	memset(&t, 0, sizeof(t));
	t.net = take(&in);
	t.tax = take(&in);
	memset(&h, 0, sizeof(h));
	rc = balance_header(&h, &t, before, &a, P, &e);
	total_ref = (i128)t.net + t.tax;
	after_ref = (i128)before - total_ref;
	if (!fits(total_ref) || !fits(after_ref))
		CHECK(rc != 0);
	if (rc == 0) {
		i128 avail = before > 0 ? before : 0;
		i128 paid = total_ref < avail ? total_ref : avail;

		CHECK((i128)h.total == total_ref);
		CHECK((i128)h.balance_after == after_ref);
		CHECK((i128)h.paid_from_balance == paid);
		CHECK((i128)h.amount_due == total_ref - paid);
	}

	/* balance_arrears over the finals up to P */
	rc = balance_arrears(fin, &cat, P, "INV", &arr, &narr, &e);
	if (!fits(upto_ref) || !fits(-upto_ref))
		CHECK(rc != 0);
	if (rc == 0) {
		CHECK(narr == (upto_ref < 0 ? 1u : 0u));
		if (narr)
			CHECK((i128)arr[0].outstanding == -upto_ref);
	}
	free(arr);
	store_rollback(st);

	check_summary(&in, &a, &cat);
	return 0;
}
