/* export: the documents of a final period, from the state alone. */
#include "export.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "final.h"
#include "final_doc.h"
#include "iso4217.h"
#include "mem.h"
#include "out.h"
#include "ts.h"
#include "banned.h"

int export_formats(const char *list, unsigned *formats)
{
	static const char *const names[] = { "json", "html", "ubl" };
	const char *s = list, *c;
	size_t n, i;

	*formats = 0;
	for (;;) {
		c = strchr(s, ',');
		n = c ? (size_t)(c - s) : strlen(s);
		for (i = 0; i < 3; i++)
			if (strlen(names[i]) == n && memcmp(s, names[i], n) == 0)
				break;
		if (i == 3 || (*formats & (1u << i)))
			return -1;
		*formats |= 1u << i;
		if (!c)
			return 0;
		s = c + 1;
	}
}

void export_result_release(struct export_result *res)
{
	size_t i;

	for (i = 0; i < res->nwithheld; i++)
		free(res->withheld[i]);
	free(res->withheld);
	res->withheld = NULL;
	res->nwithheld = 0;
}

/* One adjustment row as the state holds it (copied out of the walk). */
struct adj_row {
	char *tenant, *item, *price_group, *issue_date;
	char currency[4];
	int seq;
	dec_t old_amount, new_amount;
};

/* Everything the period's documents are built from. */
struct xp {
	int p;
	char prefix[80];
	struct final_doc fd;
	struct final_invoice *inv;   /* by (tenant, currency) */
	size_t ninv;
	struct adj_row *rows;        /* by (tenant, currency, seq, item, pg) */
	size_t nrows;
	unsigned formats;
	struct doc_buf json;
	struct export_result *res;
	struct err *e;
};

/* A document to write: an invoice (seq 0) or an adjustment, with the
 * number of its invoice, for the number order. */
struct order {
	int64_t number;
	int seq;
	size_t inv;       /* index into xp.inv */
	size_t row;       /* an adjustment's first row in xp.rows */
};

static int add_row(void *ctx, const struct final_adjustment *a)
{
	struct xp *x = ctx;
	struct adj_row *r;

	x->rows = xrealloc(x->rows, (x->nrows + 1) * sizeof(*x->rows));
	r = &x->rows[x->nrows++];
	r->tenant = xstrdup(a->tenant);
	snprintf(r->currency, sizeof(r->currency), "%s", a->currency);
	r->item = xstrdup(a->item);
	r->price_group = xstrdup(a->price_group);
	r->issue_date = xstrdup(a->issue_date);
	r->seq = a->seq;
	r->old_amount = a->old_amount;
	r->new_amount = a->new_amount;
	return 0;
}

static int cmp_row(const void *a, const void *b)
{
	const struct adj_row *x = a, *y = b;
	int k = strcmp(x->tenant, y->tenant);

	if (!k)
		k = strcmp(x->currency, y->currency);
	if (!k)
		k = (x->seq > y->seq) - (x->seq < y->seq);
	if (!k)
		k = strcmp(x->item, y->item);
	return k ? k : strcmp(x->price_group, y->price_group);
}

static void xp_release(struct xp *x)
{
	size_t i;

	final_doc_release(&x->fd);
	final_invoices_release(x->inv, x->ninv);
	for (i = 0; i < x->nrows; i++) {
		free(x->rows[i].tenant);
		free(x->rows[i].item);
		free(x->rows[i].price_group);
		free(x->rows[i].issue_date);
	}
	free(x->rows);
	doc_buf_release(&x->json);
}

/* ---- look-ups in the recorded document data (sorted arrays) ---- */

/* What a look-up asks for; each array compares the fields its key has. */
struct look {
	const char *tenant, *currency, *item, *pg;
	int seq;
};

/* The first index of base[0..n) (elements of size bytes, sorted) whose
 * element does not compare below key; n when none. */
static size_t lower(const void *base, size_t n, size_t size,
		    const struct look *key,
		    int (*cmp)(const void *el, const struct look *key))
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (cmp((const char *)base + mid * size, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* An element at i that equals key, or NULL. */
static const void *found(const void *base, size_t n, size_t size,
			 const struct look *key,
			 int (*cmp)(const void *el, const struct look *key))
{
	size_t i = lower(base, n, size, key, cmp);

	if (i < n && cmp((const char *)base + i * size, key) == 0)
		return (const char *)base + i * size;
	return NULL;
}

/* (tenant, currency), then (item, price group) when the key has them. */
static int cmp_account(const char *t, const char *c, const struct look *k)
{
	int r = strcmp(t, k->tenant);

	return r ? r : strcmp(c, k->currency);
}

static int cmp_line(const char *t, const char *c, const char *i,
		    const char *g, const struct look *k)
{
	int r = cmp_account(t, c, k);

	if (!r)
		r = strcmp(i, k->item);
	return r ? r : strcmp(g, k->pg);
}

static int cmp_acc(const void *el, const struct look *k)
{
	const struct final_doc_account *a = el;

	return cmp_account(a->tenant, a->currency, k);
}

static int cmp_item(const void *el, const struct look *k)
{
	return strcmp(((const struct final_doc_item *)el)->item, k->item);
}

static int cmp_group(const void *el, const struct look *k)
{
	const struct final_doc_group *g = el;
	int r = strcmp(g->item, k->item);

	return r ? r : strcmp(g->price_group, k->pg);
}

static int cmp_flat(const void *el, const struct look *k)
{
	const struct final_doc_flat *f = el;

	return cmp_line(f->tenant, f->currency, f->item, f->price_group, k);
}

static int cmp_pkg(const void *el, const struct look *k)
{
	const struct final_doc_pkg *p = el;

	return cmp_line(p->tenant, p->currency, p->item, p->price_group, k);
}

static int cmp_adj(const void *el, const struct look *k)
{
	const struct final_doc_adj *a = el;
	int r = cmp_account(a->tenant, a->currency, k);

	return r ? r : (a->seq > k->seq) - (a->seq < k->seq);
}

static const struct final_doc_account *find_acc(const struct xp *x,
						const char *tenant,
						const char *currency)
{
	struct look k = { tenant, currency, NULL, NULL, 0 };

	return found(x->fd.acc, x->fd.nacc, sizeof(*x->fd.acc), &k, cmp_acc);
}

static const struct final_doc_item *find_item(const struct xp *x,
					      const char *item)
{
	struct look k = { NULL, NULL, item, NULL, 0 };

	return found(x->fd.items, x->fd.nitems, sizeof(*x->fd.items), &k,
		     cmp_item);
}

static const char *find_label(const struct xp *x, const char *item,
			      const char *pg)
{
	struct look k = { NULL, NULL, item, pg, 0 };
	const struct final_doc_group *g = found(x->fd.groups, x->fd.ngroups,
						sizeof(*x->fd.groups), &k,
						cmp_group);

	return g ? g->label : pg;  /* SPEC 3: the label defaults to the
				    * filter text */
}

static dec_t find_flat(const struct xp *x, const char *t, const char *c,
		       const char *item, const char *pg)
{
	struct look k = { t, c, item, pg, 0 };
	const struct final_doc_flat *f = found(x->fd.flats, x->fd.nflats,
					       sizeof(*x->fd.flats), &k,
					       cmp_flat);

	return f ? f->flat : 0;
}

/* The packages of one line: the first index of its run in fd.pkgs and
 * its length. */
static size_t find_pkgs(const struct xp *x, const char *t, const char *c,
			const char *item, const char *pg, size_t *n)
{
	struct look k = { t, c, item, pg, 0 };
	size_t lo = lower(x->fd.pkgs, x->fd.npkgs, sizeof(*x->fd.pkgs), &k,
			  cmp_pkg), end;

	for (end = lo; end < x->fd.npkgs; end++)
		if (cmp_pkg(&x->fd.pkgs[end], &k) != 0)
			break;
	*n = end - lo;
	return lo;
}

static const char *find_due(const struct xp *x, const char *tenant,
			    const char *currency, int seq)
{
	struct look k = { tenant, currency, NULL, NULL, seq };
	const struct final_doc_adj *a = found(x->fd.adjs, x->fd.nadjs,
					      sizeof(*x->fd.adjs), &k,
					      cmp_adj);

	return a ? a->due_date : "";
}

/* ---- building one document ---- */

/* A document and the arrays it points into (owned). */
struct built {
	struct doc d;
	struct doc_line *lines;
	struct doc_tier *tiers;
	struct doc_pkg *pkgs;
	char number[128], invoice_no[112], period[8];
};

static void built_release(struct built *b)
{
	free(b->lines);
	free(b->tiers);
	free(b->pkgs);
}

static void parties(const struct xp *x, const char *tenant,
		    const char *currency, struct doc *d)
{
	static const char *const none[9] = { "", "", "", "", "", "", "", "",
					     "" };
	const struct final_doc_account *a = find_acc(x, tenant, currency);
	const char *const *f = a ? (const char *const *)a->f : none;
	char *const *s = x->fd.seller;

	d->seller.tenant_id = "";
	d->seller.name = s[SELLER_NAME];
	d->seller.address = s[SELLER_ADDRESS];
	d->seller.city = s[SELLER_CITY];
	d->seller.postal_code = s[SELLER_POSTAL_CODE];
	d->seller.country = s[SELLER_COUNTRY];
	d->seller.tax_id = s[SELLER_TAX_ID];
	d->seller.email = s[SELLER_EMAIL];
	d->seller.endpoint = s[SELLER_ENDPOINT];
	d->seller.iban = s[SELLER_IBAN];
	d->buyer.tenant_id = tenant;
	d->buyer.name = f[0];
	d->buyer.address = f[1];
	d->buyer.city = f[2];
	d->buyer.postal_code = f[3];
	d->buyer.country = f[4];
	d->buyer.tax_id = f[5];
	d->buyer.email = f[6];
	d->buyer.endpoint = f[7];
	d->buyer.iban = "";
	/* the reason text belongs to the other categories only (doc.h) */
	d->tax.exemption = strcmp(d->tax.category, "S") == 0 ? "" : f[8];
}

/* The common head of both kinds of document. */
static int head(const struct xp *x, const struct final_invoice *v,
		struct built *b)
{
	struct doc *d = &b->d;

	memset(d, 0, sizeof(*d));
	ts_period_format(x->p, 1, b->period);
	final_invoice_no(x->prefix, x->p, v->number, b->invoice_no,
			 sizeof(b->invoice_no));
	d->invoice_no = b->invoice_no;
	d->period = b->period;
	d->currency = v->currency;
	d->minor = iso4217_minor(v->currency);
	if (d->minor < 0)
		return err_set(x->e, ST_ERROR, "invoice %s: currency '%s' is "
			       "not an ISO 4217 code", b->invoice_no,
			       v->currency), -1;
	d->rounding = DEC_HALF_UP;
	d->tax.rate = v->terms.tax_rate;
	d->tax.category = v->terms.tax_category;
	d->invoice_issue_date = "";
	parties(x, v->tenant, v->currency, d);
	return 0;
}

/* Reads a `tiers` text ("10000@0.15;5000@0.1") into t (room for its
 * slices); returns how many, or -1 when it is no such text. */
static long parse_tiers(const char *s, struct doc_tier *t)
{
	long n = 0;

	while (*s) {
		const char *at = strchr(s, '@'), *end = strchr(s, ';');

		if (!end)
			end = s + strlen(s);
		if (!at || at > end || dec_parse(s, (size_t)(at - s),
						 &t[n].qty) ||
		    dec_parse(at + 1, (size_t)(end - at - 1),
			      &t[n].unit_price))
			return -1;
		n++;
		s = *end ? end + 1 : end;
	}
	return n;
}

static void line_names(const struct xp *x, const char *item, const char *pg,
		       struct doc_line *l)
{
	const struct final_doc_item *it = find_item(x, item);

	l->item = item;
	l->price_group = pg;
	l->name = it ? it->name : item;
	l->unit = it ? it->unit : "";
	l->unit_code = it ? it->unit_code : "C62";
	l->label = find_label(x, item, pg);
}

/* Tier slices and packages of every line of v go into b's arrays. */
static int invoice_lines(const struct xp *x, const struct final_invoice *v,
			 struct built *b)
{
	size_t i, ntiers = 0, npk = 0, nt = 0, np = 0;
	const char *c;

	for (i = 0; i < v->nlines; i++) {
		size_t k;

		for (c = v->lines[i].tiers, ntiers += *c != 0; *c; c++)
			ntiers += *c == ';';
		find_pkgs(x, v->tenant, v->currency, v->lines[i].item,
			  v->lines[i].price_group, &k);
		npk += k;
	}
	b->lines = xcalloc(v->nlines + 1, sizeof(*b->lines));
	b->tiers = xcalloc(ntiers + 1, sizeof(*b->tiers));
	b->pkgs = xcalloc(npk + 1, sizeof(*b->pkgs));
	for (i = 0; i < v->nlines; i++) {
		const struct final_line *f = &v->lines[i];
		struct doc_line *l = &b->lines[i];
		size_t first, n, k;
		long got;

		line_names(x, f->item, f->price_group, l);
		l->usage_qty = f->usage_qty;
		l->package_qty = f->package_qty;
		l->forgiven_qty = f->forgiven_qty;
		l->uncovered_qty = f->uncovered_qty;
		l->billable_qty = f->billable_qty;
		l->amount = f->amount;
		l->flat = find_flat(x, v->tenant, v->currency, f->item,
				    f->price_group);
		if ((got = parse_tiers(f->tiers, b->tiers + nt)) < 0)
			return err_set(x->e, ST_ERROR, "invoice %s: bad tiers "
				       "'%s' in the state", b->invoice_no,
				       f->tiers), -1;
		l->tiers = b->tiers + nt;
		l->ntiers = (size_t)got;
		nt += (size_t)got;
		first = find_pkgs(x, v->tenant, v->currency, f->item,
				  f->price_group, &n);
		l->packages = b->pkgs + np;
		l->npackages = n;
		for (k = 0; k < n; k++, np++) {
			b->pkgs[np].package_id = x->fd.pkgs[first + k].package_id;
			b->pkgs[np].quantity = x->fd.pkgs[first + k].quantity;
			b->pkgs[np].units = x->fd.pkgs[first + k].units;
		}
	}
	b->d.lines = b->lines;
	b->d.nlines = v->nlines;
	return 0;
}

static int build_invoice(const struct xp *x, const struct final_invoice *v,
			 struct built *b)
{
	const struct final_doc_account *a;
	struct doc *d = &b->d;

	if (head(x, v, b) || invoice_lines(x, v, b))
		return -1;
	snprintf(b->number, sizeof(b->number), "%s", b->invoice_no);
	d->type = DOC_INVOICE;
	d->number = b->number;
	d->version = v->version;
	d->issue_date = v->terms.issue_date;
	d->due_date = v->terms.due_date;
	d->net = v->terms.net;
	d->tax.amount = v->terms.tax;
	d->total = v->total;
	a = find_acc(x, v->tenant, v->currency);
	if (a) {
		d->balance_before = a->balance_before;
		d->paid_from_balance = a->paid_from_balance;
	}
	/* both follow from the two the close recorded (SPEC 7) */
	if (dec_sub(d->total, d->paid_from_balance, &d->amount_due) ||
	    dec_sub(d->balance_before, d->total, &d->balance_after))
		return err_set(x->e, ST_ERROR, "invoice %s: balance overflows",
			       b->number), -1;
	return 0;
}

/* An adjustment from its rows rows[first..] of one seq: the changed
 * lines, the tax row ("" and "tax") and the total row ("" and ""). */
static int build_adjustment(const struct xp *x, const struct final_invoice *v,
			    size_t first, struct built *b)
{
	const struct adj_row *r0 = &x->rows[first];
	struct doc *d = &b->d;
	size_t i, n = 0;

	if (head(x, v, b))
		return -1;
	snprintf(b->number, sizeof(b->number), "%s-A%d", b->invoice_no,
		 r0->seq);
	d->type = DOC_ADJUSTMENT;
	d->number = b->number;
	d->version = r0->seq + 1;
	d->issue_date = r0->issue_date[0] ? r0->issue_date :
					    v->terms.issue_date;
	d->due_date = find_due(x, v->tenant, v->currency, r0->seq);
	d->invoice_issue_date = v->terms.issue_date;
	for (i = first; i < x->nrows && x->rows[i].seq == r0->seq &&
	     strcmp(x->rows[i].tenant, r0->tenant) == 0 &&
	     strcmp(x->rows[i].currency, r0->currency) == 0; i++)
		n++;
	b->lines = xcalloc(n + 1, sizeof(*b->lines));
	for (i = first; i < first + n; i++) {
		const struct adj_row *r = &x->rows[i];
		dec_t delta;

		if (dec_sub(r->new_amount, r->old_amount, &delta))
			return err_set(x->e, ST_ERROR, "adjustment %s: delta "
				       "overflows", b->number), -1;
		if (!r->item[0] && !r->price_group[0]) {
			d->total = delta;
		} else if (!r->item[0]) {
			d->tax.amount = delta;  /* the tax row */
		} else {
			struct doc_line *l = &b->lines[d->nlines++];

			line_names(x, r->item, r->price_group, l);
			l->old_amount = r->old_amount;
			l->new_amount = r->new_amount;
			l->delta = delta;
			if (dec_add(d->net, delta, &d->net))
				return err_set(x->e, ST_ERROR, "adjustment %s: "
					       "net overflows", b->number), -1;
		}
	}
	d->lines = b->lines;
	return 0;
}

/* ---- writing ---- */

static void withhold(struct export_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void withhold(struct export_result *res, const char *fmt, ...)
{
	struct doc_buf m;
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	doc_buf_init(&m);
	if (k > 0) {
		char *t = xmalloc((size_t)k + 1);

		va_start(ap, fmt);
		vsnprintf(t, (size_t)k + 1, fmt, ap);
		va_end(ap);
		doc_buf_puts(&m, t);
		free(t);
	}
	res->withheld = xrealloc(res->withheld, (res->nwithheld + 1) *
				 sizeof(*res->withheld));
	res->withheld[res->nwithheld++] = m.p ? m.p : xstrdup("");
}

/* Says why d gets no UBL file when it is due one. */
static void withheld(struct export_result *res, const struct doc *d, int st)
{
	struct doc_missing m[16];
	struct doc_buf t;
	size_t n, i;

	if (st == DOC_UBL_DECIMALS) {
		withhold(res, "%s: currency %s has %d minor digits, EN 16931 "
			 "allows 2 (BR-DEC-23)", d->number, d->currency,
			 d->minor);
		return;
	}
	n = doc_ubl_missing(d, m, 16);
	doc_buf_init(&t);
	for (i = 0; i < n && i < 16; i++) {
		if (i)
			doc_buf_puts(&t, ", ");
		if (strcmp(m[i].file, "accounts.csv") == 0)
			doc_buf_printf(&t, "accounts.csv %s of tenant '%s' %s "
				       "(%s)", m[i].key, d->buyer.tenant_id,
				       d->currency, m[i].rule);
		else
			doc_buf_printf(&t, "%s %s (%s)", m[i].file, m[i].key,
				       m[i].rule);
	}
	withhold(res, "%s: missing %s", d->number, t.p ? t.p : "data");
	doc_buf_release(&t);
}

static int put(const struct xp *x, const char *name, const struct doc_buf *b)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", x->res->dir, name);
	/* 1 written, 0 already so: both are done */
	return out_put_file(path, b->p ? b->p : "", b->n, x->e) < 0 ? -1 : 0;
}

/* Checks and renders one document into the files its formats ask for. */
static int emit(struct xp *x, struct built *b)
{
	const struct doc *d = &b->d;
	struct doc_buf page;
	char name[160];
	int rc = -1, st;

	doc_buf_init(&page);
	if (doc_check(d, x->e) ||
	    ((x->formats & EXPORT_JSON) && doc_json(d, &x->json, x->e)))
		goto out;
	if (x->formats & EXPORT_HTML) {
		snprintf(name, sizeof(name), "%s.html", d->number);
		if (doc_html(d, &page, x->e) || put(x, name, &page))
			goto out;
		x->res->html++;
	}
	if (x->formats & EXPORT_UBL) {
		page.n = 0;
		st = doc_ubl(d, &page, x->e);
		if (st < 0)
			goto out;
		snprintf(name, sizeof(name), "%s.xml", d->number);
		if (st == DOC_UBL_WRITTEN) {
			if (put(x, name, &page))
				goto out;
			x->res->ubl++;
		} else if (st != DOC_UBL_NONE) {
			withheld(x->res, d, st);
		}
	}
	rc = 0;
out:
	doc_buf_release(&page);
	return rc;
}

static int cmp_order(const void *a, const void *b)
{
	const struct order *x = a, *y = b;

	if (x->number != y->number)
		return x->number < y->number ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Every document of the period in number order: each invoice, then its
 * adjustments by seq. *n set; the array is malloc'd. */
static struct order *plan(const struct xp *x, size_t *n)
{
	struct order *o = xmalloc((x->ninv + x->nrows + 1) * sizeof(*o));
	size_t i, k = 0, j = 0;

	*n = 0;
	for (i = 0; i < x->ninv; i++) {
		o[*n].number = x->inv[i].number;
		o[*n].seq = 0;
		o[*n].inv = i;
		o[(*n)++].row = 0;
	}
	/* rows and invoices are both sorted by (tenant, currency) */
	for (i = 0; i < x->nrows; i++) {
		const struct adj_row *r = &x->rows[i];

		if (i && r->seq == x->rows[i - 1].seq &&
		    strcmp(r->tenant, x->rows[i - 1].tenant) == 0 &&
		    strcmp(r->currency, x->rows[i - 1].currency) == 0)
			continue;
		while (j < x->ninv && (strcmp(x->inv[j].tenant, r->tenant) < 0 ||
		       (strcmp(x->inv[j].tenant, r->tenant) == 0 &&
			strcmp(x->inv[j].currency, r->currency) < 0)))
			j++;
		if (j == x->ninv || strcmp(x->inv[j].tenant, r->tenant) ||
		    strcmp(x->inv[j].currency, r->currency))
			continue;  /* cannot be: the row joins its invoice */
		o[*n].number = x->inv[j].number;
		o[*n].seq = r->seq;
		o[*n].inv = j;
		o[(*n)++].row = i;
		k++;
	}
	qsort(o, *n, sizeof(*o), cmp_order);
	return o;
}

static int emit_all(struct xp *x)
{
	size_t n, i;
	struct order *o = plan(x, &n);
	int rc = 0;

	for (i = 0; i < n && !rc; i++) {
		struct built b;

		memset(&b, 0, sizeof(b));
		if (o[i].seq == 0) {
			rc = build_invoice(x, &x->inv[o[i].inv], &b);
			x->res->invoices++;
		} else {
			rc = build_adjustment(x, &x->inv[o[i].inv], o[i].row,
					      &b);
			x->res->adjustments++;
		}
		if (!rc)
			rc = emit(x, &b);
		built_release(&b);
	}
	free(o);
	if (!rc && (x->formats & EXPORT_JSON)) {
		rc = put(x, "documents.jsonl", &x->json);
		x->res->json = !rc;
	}
	return rc;
}

struct find_period {
	int p, found, stale;
};

static int look(void *ctx, const struct final_status *fs)
{
	struct find_period *f = ctx;

	if (fs->period != f->p)
		return 0;
	f->found = 1;
	f->stale = fs->stale;
	return -1;  /* stops the walk; never a status code */
}

/* Reads what the documents are built from, in the open snapshot. */
static int load(struct store *s, struct xp *x)
{
	struct find_period fp = { x->p, 0, 0 };
	struct final_period row;
	struct final *fin;
	char ym[8];
	int found, rc;

	ts_period_format(x->p, 1, ym);
	if (final_periods(s, look, &fp, x->e) != 0 && !fp.found)
		return -1;
	if (!fp.found)
		return err_set(x->e, ST_ERROR, "period %s is not final: only "
			       "a close makes documents (drafts have none)",
			       ym), -1;
	x->res->stale = fp.stale;
	if (final_doc_get(s, x->p, &x->fd, &found, x->e))
		return -1;
	if (!found)
		return err_set(x->e, ST_ERROR, "period %s has no document data:"
			       " it was closed by an older settle; close it "
			       "again to record it", ym), -1;
	fin = final_new(s);
	rc = final_period_get(fin, x->p, &row, x->e) < 0 ||
	     final_invoices_get(fin, x->p, &x->inv, &x->ninv, x->e) ||
	     final_adjustments(fin, x->p, add_row, x, x->e);
	final_free(fin);
	if (rc)
		return -1;
	snprintf(x->prefix, sizeof(x->prefix), "%s", row.prefix);
	if (x->nrows) /* qsort wants a real array, even of nothing */
		qsort(x->rows, x->nrows, sizeof(*x->rows), cmp_row);
	return 0;
}

int export_period(struct store *s, int p, const char *outdir,
		  unsigned formats, struct export_result *res, struct err *e)
{
	struct xp x;
	char ym[8];
	int rc = ST_ERROR;

	memset(res, 0, sizeof(*res));
	memset(&x, 0, sizeof(x));
	x.p = p;
	x.formats = formats;
	x.res = res;
	x.e = e;
	err_clear(e);
	ts_period_format(p, 1, ym);
	snprintf(res->dir, sizeof(res->dir), "%s/%s/documents", outdir, ym);
	if (store_snapshot(s, e))
		return ST_ERROR;
	if (load(s, &x) == 0 && out_mkdirs(res->dir, e) == 0 &&
	    emit_all(&x) == 0)
		rc = 0;
	store_rollback(s);
	xp_release(&x);
	if (rc && !e->code)
		err_set(e, ST_ERROR, "export of %s failed", ym);
	return rc;
}
