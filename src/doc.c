/* doc: the document model's buffer, UTF-8 reading and invariant checks,
 * shared by the JSON, HTML and UBL renderers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "mem.h"
#include "ts.h"
#include "banned.h"

void doc_buf_init(struct doc_buf *b)
{
	b->p = NULL;
	b->n = 0;
	b->cap = 0;
}

void doc_buf_release(struct doc_buf *b)
{
	free(b->p);
	doc_buf_init(b);
}

void doc_buf_add(struct doc_buf *b, const char *s, size_t n)
{
	void *p = b->p;

	xgrow(&p, &b->cap, b->n + n + 1, 1);
	b->p = p;
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

void doc_buf_puts(struct doc_buf *b, const char *s)
{
	doc_buf_add(b, s, strlen(s));
}

void doc_buf_printf(struct doc_buf *b, const char *fmt, ...)
{
	va_list ap;
	int k;
	void *p;

	va_start(ap, fmt);
	k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (k <= 0)
		return;
	p = b->p;
	xgrow(&p, &b->cap, b->n + (size_t)k + 1, 1);
	b->p = p;
	va_start(ap, fmt);
	vsnprintf(b->p + b->n, (size_t)k + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)k;
}

void doc_buf_amount(struct doc_buf *b, dec_t v, int minor)
{
	char t[DEC_MAX_TEXT];

	doc_buf_add(b, t, dec_format_fixed(v, minor, t));
}

void doc_buf_dec(struct doc_buf *b, dec_t v)
{
	char t[DEC_MAX_TEXT];

	doc_buf_add(b, t, dec_format(v, t));
}

size_t doc_utf8_next(const char *s, size_t n, unsigned *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned c = u[0], min;
	size_t len, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, c &= 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, c &= 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, c &= 0x07, min = 0x10000;
	} else {
		*cp = 0xfffd;
		return 1;
	}
	if (n < len)
		goto bad;
	for (i = 1; i < len; i++) {
		if ((u[i] & 0xc0) != 0x80)
			goto bad;
		c = (c << 6) | (u[i] & 0x3f);
	}
	/* overlong forms, surrogates and values past U+10FFFF are not UTF-8 */
	if (c < min || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		goto bad;
	*cp = c;
	return len;
bad:
	*cp = 0xfffd;
	return 1;
}

void doc_buf_utf8(struct doc_buf *b, unsigned cp)
{
	char t[4];
	size_t n;

	if (cp < 0x80) {
		t[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		t[0] = (char)(0xc0 | (cp >> 6));
		t[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		t[0] = (char)(0xe0 | (cp >> 12));
		t[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		t[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		t[0] = (char)(0xf0 | (cp >> 18));
		t[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		t[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		t[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	doc_buf_add(b, t, n);
}

void doc_buf_esc(struct doc_buf *b, const char *s, size_t n,
		 enum doc_esc mode)
{
	int xml = mode == DOC_ESC_XML;
	size_t i = 0, k;
	unsigned cp;

	while (i < n) {
		k = doc_utf8_next(s + i, n - i, &cp);
		switch (cp) {
		case '&': doc_buf_puts(b, "&amp;"); break;
		case '<': doc_buf_puts(b, "&lt;"); break;
		case '>': doc_buf_puts(b, "&gt;"); break;
		case '"': doc_buf_puts(b, "&quot;"); break;
		case '\'': doc_buf_puts(b, xml ? "&apos;" : "&#39;"); break;
		default:
			if ((cp < 0x20 && cp != '\t' && cp != '\n' &&
			     !(xml && cp == '\r')) || (!xml && cp == 0x7f) ||
			    (cp == 0xfffd && k == 1))
				doc_buf_utf8(b, 0xfffd);
			else
				doc_buf_add(b, s + i, k);
		}
		i += k;
	}
}

static int is_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int doc_period_days(const char *period, char *first, char *last)
{
	char t[TS_MAX_TEXT];
	int64_t end;
	int p;

	/* the last day is the day before the next month's first, in UTC
	 * (ts.h does the calendar) */
	if (strlen(period) != 7 || ts_period_parse(period, &p) ||
	    ts_add_days(ts_period_start(p + 1, 0), -1, &end))
		return -1;
	memcpy(first, period, 7);
	memcpy(first + 7, "-01", 4);
	ts_format(end, 0, t);
	memcpy(last, t, 10);
	last[10] = '\0';
	return 0;
}

/* "YYYY-MM-DD" with a real month and day. */
static int date_valid(const char *s)
{
	char first[11], last[11], ym[8];
	int d;

	if (strlen(s) != 10 || s[7] != '-' || !is_digits(s + 8, 2))
		return 0;
	memcpy(ym, s, 7);
	ym[7] = '\0';
	if (doc_period_days(ym, first, last) != 0)
		return 0;
	d = (s[8] - '0') * 10 + (s[9] - '0');
	return d >= 1 && d <= (last[8] - '0') * 10 + (last[9] - '0');
}

/* 1 if v has at most `minor` decimals. */
static int fits_minor(dec_t v, int minor)
{
	dec_t r;

	return dec_round(v, minor, DEC_DOWN, &r) == 0 && r == v;
}

static int cat_known(const char *c)
{
	static const char *const cats[] = { "S", "Z", "E", "AE", "K", "G",
					    "O" };
	size_t i;

	for (i = 0; i < sizeof(cats) / sizeof(cats[0]); i++)
		if (strcmp(c, cats[i]) == 0)
			return 1;
	return 0;
}

static int party_ok(const struct doc_party *p)
{
	return p->tenant_id && p->name && p->address && p->city &&
	       p->postal_code && p->country && p->tax_id && p->email &&
	       p->endpoint && p->iban;
}

static int line_ok(const struct doc *d, const struct doc_line *l,
		   dec_t *sum, struct err *e)
{
	dec_t v;
	size_t i;

	if (!l->item || !l->name || !l->price_group || !l->label ||
	    !l->unit || !l->unit_code)
		return err_set(e, ST_ERROR, "document '%s': line with a NULL "
			       "text", d->number), -1;
	for (i = 0; i < l->npackages; i++)
		if (!l->packages[i].package_id)
			return err_set(e, ST_ERROR, "document '%s': package "
				       "with a NULL id", d->number), -1;
	if (d->type == DOC_INVOICE) {
		if (!fits_minor(l->amount, d->minor) || l->amount < 0)
			return err_set(e, ST_ERROR, "document '%s': line '%s' "
				       "amount is not a rounded amount",
				       d->number, l->item), -1;
		return dec_add(*sum, l->amount, sum);
	}
	if (!fits_minor(l->old_amount, d->minor) ||
	    !fits_minor(l->new_amount, d->minor) ||
	    dec_sub(l->new_amount, l->old_amount, &v) != 0 || v != l->delta)
		return err_set(e, ST_ERROR, "document '%s': line '%s' delta "
			       "is not new_amount - old_amount", d->number,
			       l->item), -1;
	return dec_add(*sum, l->delta, sum);
}

static int sums_ok(const struct doc *d, dec_t sum, struct err *e)
{
	dec_t v;

	if (sum != d->net)
		return err_set(e, ST_ERROR, "document '%s': net is not the "
			       "sum of its lines", d->number), -1;
	if (dec_add(d->net, d->tax.amount, &v) != 0 || v != d->total)
		return err_set(e, ST_ERROR, "document '%s': total is not net "
			       "+ tax", d->number), -1;
	if (d->type != DOC_INVOICE)
		return 0;
	if (dec_sub(d->total, d->paid_from_balance, &v) != 0 ||
	    v != d->amount_due)
		return err_set(e, ST_ERROR, "document '%s': amount_due is not "
			       "total - paid_from_balance", d->number), -1;
	if (dec_sub(d->balance_before, d->total, &v) != 0 ||
	    v != d->balance_after)
		return err_set(e, ST_ERROR, "document '%s': balance_after is "
			       "not balance_before - total", d->number), -1;
	return 0;
}

int doc_check(const struct doc *d, struct err *e)
{
	const dec_t money[] = { d->net, d->tax.amount, d->total,
				d->balance_before, d->paid_from_balance,
				d->amount_due, d->balance_after };
	char first[11], last[11];
	dec_t sum = 0;
	size_t i;

	err_clear(e);
	if (!d->number || !d->invoice_no || !d->period || !d->issue_date ||
	    !d->due_date || !d->currency || !d->tax.category ||
	    !d->tax.exemption || !d->invoice_issue_date ||
	    !party_ok(&d->seller) || !party_ok(&d->buyer) ||
	    (d->nlines && !d->lines))
		return err_set(e, ST_ERROR, "document with a NULL text"), -1;
	if (d->minor < 0 || d->minor > DEC_DIGITS)
		return err_set(e, ST_ERROR, "document '%s': bad minor digits "
			       "%d", d->number, d->minor), -1;
	if (doc_period_days(d->period, first, last) != 0 ||
	    !date_valid(d->issue_date) ||
	    (*d->due_date && !date_valid(d->due_date)) ||
	    (*d->invoice_issue_date && !date_valid(d->invoice_issue_date)))
		return err_set(e, ST_ERROR, "document '%s': bad period or "
			       "date", d->number), -1;
	if (!cat_known(d->tax.category) || d->tax.rate < 0 ||
	    d->tax.rate > 100 * DEC_ONE ||
	    (strcmp(d->tax.category, "S") == 0) != (d->tax.rate > 0))
		return err_set(e, ST_ERROR, "document '%s': bad tax category "
			       "'%s' or rate", d->number, d->tax.category), -1;
	for (i = 0; i < sizeof(money) / sizeof(money[0]); i++)
		if (!fits_minor(money[i], d->minor))
			return err_set(e, ST_ERROR, "document '%s': an amount "
				       "has more than %d decimals", d->number,
				       d->minor), -1;
	for (i = 0; i < d->nlines; i++)
		if (line_ok(d, &d->lines[i], &sum, e) != 0)
			return e && e->code ? -1 : (err_set(e, ST_ERROR,
				"document '%s': sum overflows", d->number), -1);
	return sums_ok(d, sum, e);
}
