/* report: output files of a period. */
#include "report.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "out.h"
#include "sha256.h"
#include "ts.h"
#include "banned.h"

/* Formatting helpers writing into caller buffers. */
static const char *qty(dec_t v, char *buf)
{
	dec_format(v, buf);
	return buf;
}

static const char *amt(dec_t v, int minor, char *buf)
{
	dec_format_fixed(v, minor, buf);
	return buf;
}

/* A sum of amounts (dec_t units, millionths) in 128 bits, with minor
 * (0..6) digits: the per-currency totals of summary.txt add up any number
 * of invoices exactly, so they are never wrapped or cut (SPEC 2), even
 * past what one dec_t holds. buf: at least 48 bytes. */
static const char *wide_amt(__int128 v, int minor, char *buf)
{
	unsigned __int128 mag = v < 0 ? -(unsigned __int128)v :
				(unsigned __int128)v;
	unsigned __int128 ip = mag / DEC_ONE;
	uint64_t fp = (uint64_t)(mag % DEC_ONE);
	char tmp[48];
	size_t n = 0, t = 0;
	int i;

	if (minor < 0)
		minor = 0;
	if (minor > DEC_DIGITS)
		minor = DEC_DIGITS;
	for (i = minor; i < DEC_DIGITS; i++)
		fp /= 10;
	if (v < 0 && (ip || fp))
		buf[n++] = '-';
	do {
		tmp[t++] = (char)('0' + (int)(ip % 10));
		ip /= 10;
	} while (ip);
	while (t)
		buf[n++] = tmp[--t];
	if (minor > 0) {
		buf[n++] = '.';
		for (i = minor - 1; i >= 0; i--) {
			buf[n + (size_t)i] = (char)('0' + (int)(fp % 10));
			fp /= 10;
		}
		n += (size_t)minor;
	}
	buf[n] = '\0';
	return buf;
}

static void add_file(struct report_files *out, const char *name, char *data,
		     size_t len)
{
	struct report_file *f = &out->f[out->n++];

	snprintf(f->name, sizeof(f->name), "%s", name);
	f->data = data;
	f->len = len;
}

static void add_table(struct report_files *out, const char *name,
		      struct table *t)
{
	char *data;
	size_t len;

	table_render(t, &data, &len);
	table_free(t);
	add_file(out, name, data, len);
}

/* The rows of invoices.csv, in the invoices' order (their numbers', for
 * a first close), into t. */
static void invoice_rows(const struct report *r, struct table *t)
{
	char period[16], ver[24], nl[24], b[7][DEC_MAX_TEXT];
	size_t i;

	ts_period_format(r->rp->period, 1, period);
	for (i = 0; i < r->rp->ninv; i++) {
		const struct eng_invoice *v = &r->rp->inv[i];
		const struct report_invoice *h = &r->inv[i];
		int m = dec_minor_digits(v->acct->currency);
		const char *row[16];

		snprintf(ver, sizeof(ver), "%d", h->version);
		snprintf(nl, sizeof(nl), "%zu", v->nlines);
		row[0] = h->invoice_no;
		row[1] = period;
		row[2] = v->acct->tenant;
		row[3] = v->acct->currency;
		row[4] = h->status;
		row[5] = ver;
		row[6] = nl;
		row[7] = amt(h->net, m, b[0]);
		row[8] = amt(h->tax, m, b[1]);
		row[9] = amt(h->total, m, b[2]);
		row[10] = amt(h->balance_before, m, b[3]);
		row[11] = amt(h->paid_from_balance, m, b[4]);
		row[12] = amt(h->amount_due, m, b[5]);
		row[13] = amt(h->balance_after, m, b[6]);
		row[14] = h->issue_date;
		row[15] = h->due_date;
		table_add(t, row);
	}
}

static void write_invoices(const struct report *r, struct report_files *out)
{
	static const char *const names[] = {
		"invoice_no", "period", "tenant_id", "currency", "status",
		"version", "lines", "net", "tax", "total", "balance_before",
		"paid_from_balance", "amount_due", "balance_after",
		"issue_date", "due_date" };
	static const enum col_kind kinds[] = {
		COL_TEXT, COL_NUM, COL_TEXT, COL_NUM, COL_NUM, COL_INT,
		COL_INT, COL_NUM, COL_NUM, COL_NUM, COL_NUM, COL_NUM, COL_NUM,
		COL_NUM, COL_NUM, COL_NUM };
	struct table *t = table_stream(16, names, kinds);

	invoice_rows(r, t);
	if (!table_in_order(t)) {
		table_free(t);
		t = table_new(16, names, kinds);
		invoice_rows(r, t);
	}
	add_table(out, "invoices.csv", t);
}

/* Asks the CPU for the lines' tiers and package usage of v, which lie
 * all over the heap: fetched while the caller works on the invoice before,
 * they cost a fraction of the cache misses one at a time would. */
static void prefetch_lines(const struct eng_invoice *v)
{
	size_t j;

	for (j = 0; j < v->nlines; j++) {
		__builtin_prefetch(v->lines[j].tiers);
		if (v->lines[j].npu)
			__builtin_prefetch(v->lines[j].pu);
	}
}

/* The rows of invoice_lines.csv, package_usage.csv and uncovered.csv
 * into t, u and c, in the invoices' and their lines' order; a NULL table
 * is skipped. */
static void line_rows(const struct report *r, struct table *t,
		      struct table *u, struct table *c)
{
	char b[7][DEC_MAX_TEXT];
	size_t i, j, k;

	if (r->rp->ninv)
		prefetch_lines(&r->rp->inv[0]);
	for (i = 0; i < r->rp->ninv; i++) {
		const struct eng_invoice *v = &r->rp->inv[i];

		if (i + 1 < r->rp->ninv)
			prefetch_lines(&r->rp->inv[i + 1]);
		for (j = 0; j < v->nlines; j++) {
			const struct eng_line *l = &v->lines[j];
			const char *grp = l->item->groups[l->group].filter;
			const char *row[12];

			row[0] = r->inv[i].invoice_no;
			row[1] = v->acct->tenant;
			row[2] = l->item->code;
			row[3] = grp;
			row[4] = l->item->price_unit;
			if (t) {
				row[5] = qty(l->usage, b[0]);
				row[6] = qty(l->covered, b[1]);
				row[7] = qty(l->forgiven, b[2]);
				row[8] = qty(l->uncovered, b[3]);
				row[9] = qty(l->billable, b[4]);
				row[10] = l->tiers;
				row[11] = amt(l->amount, l->item->minor, b[5]);
				table_add(t, row);
			}
			for (k = 0; u && k < l->npu; k++) {
				const struct eng_pusage *p = &l->pu[k];

				if (p->qty == 0 && p->units == 0)
					continue;
				row[4] = r->cat->packages[p->pkg].id;
				row[5] = qty(p->qty, b[5]);
				row[6] = qty(p->units, b[6]);
				table_add(u, row);
			}
			if (c && l->uncovered > 0) {
				const char *crow[4] = {
					v->acct->tenant, l->item->code, grp,
					qty(l->uncovered, b[0]) };

				table_add(c, crow);
			}
		}
	}
}

/* invoice_lines.csv, package_usage.csv and uncovered.csv: streamed (their
 * rows come sorted on a first close), each one that is not built again
 * as a table to sort. */
static void write_lines(const struct report *r, struct report_files *out)
{
	static const char *const names[] = {
		"invoice_no", "tenant_id", "item", "price_group", "unit",
		"usage_qty", "package_qty", "forgiven_qty", "uncovered_qty",
		"billable_qty", "tiers", "amount" };
	static const enum col_kind kinds[] = {
		COL_TEXT, COL_TEXT, COL_TEXT, COL_TEXT, COL_TEXT, COL_NUM,
		COL_NUM, COL_NUM, COL_NUM, COL_NUM, COL_NUM, COL_NUM };
	static const char *const unames[] = {
		"invoice_no", "tenant_id", "item", "price_group", "package_id",
		"quantity", "units" };
	static const enum col_kind ukinds[] = {
		COL_TEXT, COL_TEXT, COL_TEXT, COL_TEXT, COL_TEXT, COL_NUM,
		COL_NUM };
	static const char *const cnames[] = {
		"tenant_id", "item", "price_group", "quantity" };
	static const enum col_kind ckinds[] = {
		COL_TEXT, COL_TEXT, COL_TEXT, COL_NUM };
	struct table *t = table_stream(12, names, kinds);
	struct table *u = table_stream(7, unames, ukinds);
	struct table *c = table_stream(4, cnames, ckinds);
	struct table *t2 = NULL, *u2 = NULL, *c2 = NULL;

	line_rows(r, t, u, c);
	if (!table_in_order(t))
		t2 = table_new(12, names, kinds);
	if (!table_in_order(u))
		u2 = table_new(7, unames, ukinds);
	if (!table_in_order(c))
		c2 = table_new(4, cnames, ckinds);
	if (t2 || u2 || c2)
		line_rows(r, t2, u2, c2);
	if (t2) {
		table_free(t);
		t = t2;
	}
	if (u2) {
		table_free(u);
		u = u2;
	}
	if (c2) {
		table_free(c);
		c = c2;
	}
	add_table(out, "invoice_lines.csv", t);
	add_table(out, "package_usage.csv", u);
	add_table(out, "uncovered.csv", c);
}

static void write_packages(const struct report *r, struct report_files *out)
{
	static const char *const names[] = {
		"package_id", "tenant_id", "quota", "used_before",
		"used_in_period", "remaining", "expired_in_period", "alert_ts" };
	static const enum col_kind kinds[] = {
		COL_TEXT, COL_TEXT, COL_NUM, COL_NUM, COL_NUM, COL_NUM,
		COL_NUM, COL_NUM };
	static const char *const anames[] = {
		"package_id", "tenant_id", "ts", "remaining", "quota" };
	static const enum col_kind akinds[] = {
		COL_TEXT, COL_TEXT, COL_NUM, COL_NUM, COL_NUM };
	struct table *t = table_new(8, names, kinds);
	struct table *a = table_new(5, anames, akinds);
	char b[5][DEC_MAX_TEXT], ts[TS_MAX_TEXT];
	int tz = r->cat->set.tz;
	size_t i;

	for (i = 0; i < r->rp->npkgs; i++) {
		const struct eng_pkgrow *p = &r->rp->pkgs[i];
		int lim = !p->pkg->unlimited;
		const char *row[8];

		row[0] = p->pkg->id;
		row[1] = p->pkg->tenant;
		row[2] = lim ? qty(p->pkg->quota, b[0]) : "";
		row[3] = qty(p->used_before, b[1]);
		row[4] = qty(p->used_in, b[2]);
		row[5] = lim ? qty(p->remaining, b[3]) : "";
		row[6] = lim && p->has_expired ? qty(p->expired, b[4]) : "";
		row[7] = "";
		if (p->has_alert) {
			ts_format(p->alert_ts, tz, ts);
			row[7] = ts;
		}
		if (lim && !p->has_expired)
			row[6] = "0";
		table_add(t, row);
	}
	for (i = 0; i < r->rp->nalerts; i++) {
		const struct eng_alert *al = &r->rp->alerts[i];
		const char *row[5];

		ts_format(al->ts, tz, ts);
		row[0] = al->pkg->id;
		row[1] = al->pkg->tenant;
		row[2] = ts;
		row[3] = qty(al->remaining, b[0]);
		row[4] = qty(al->pkg->quota, b[1]);
		table_add(a, row);
	}
	add_table(out, "packages.csv", t);
	add_table(out, "alerts.csv", a);
}

static struct table *rejects_table(void)
{
	static const char *const names[] = {
		"file", "line", "record_id", "tenant_id", "reason" };
	static const enum col_kind kinds[] = {
		COL_TEXT, COL_INT, COL_TEXT, COL_TEXT, COL_NUM };

	return table_new(5, names, kinds);
}

static void add_reject(struct table *t, const char *path, uint64_t line,
		       const char *record_id, const char *tenant,
		       const char *reason)
{
	char num[24];
	const char *row[5];

	snprintf(num, sizeof(num), "%llu", (unsigned long long)line);
	row[0] = path;
	row[1] = num;
	row[2] = record_id;
	row[3] = tenant;
	row[4] = reason;
	table_add(t, row);
}

/* The rejects whose ts falls in the period (SPEC 8 v2): a file with no
 * record of the period leaves this file as it is. */
static void write_rejects(const struct report *r, struct report_files *out)
{
	struct table *t = rejects_table();
	const struct eng_reject *rj;
	size_t i, n;

	rj = engine_rejects(r->g, &n);
	for (i = 0; i < n; i++)
		if (rj[i].placed && rj[i].period == r->rp->period)
			add_reject(t, rj[i].path, rj[i].line, rj[i].record_id,
				   rj[i].tenant, rj[i].reason);
	add_table(out, "rejects.csv", t);
}

static int unplaced_row(void *ctx, const char *path, uint64_t line,
			const char *record_id, const char *tenant,
			const char *reason, const int64_t *ts)
{
	if (!ts)
		add_reject(ctx, path, line, record_id, tenant, reason);
	return 0;
}

int report_put_unplaced(struct store *s, const char *outdir, struct err *e)
{
	struct table *t = rejects_table();
	char path[4096], *data;
	size_t len;
	int rc;

	if (store_rejects(s, unplaced_row, t, e)) {
		table_free(t);
		return ST_ERROR;
	}
	table_render(t, &data, &len);
	table_free(t);
	snprintf(path, sizeof(path), "%s/rejects-unplaced.csv", outdir);
	rc = out_mkdirs(outdir, e) ? ST_ERROR :
	     out_put_file(path, data, len, e) < 0 ? ST_ERROR : 0;
	free(data);
	return rc;
}

static void write_adjustments(const struct report *r, struct report_files *out)
{
	static const char *const names[] = {
		"adjustment_no", "invoice_no", "tenant_id", "currency", "item",
		"price_group", "old_amount", "new_amount", "delta",
		"issue_date" };
	static const enum col_kind kinds[] = {
		COL_TEXT, COL_TEXT, COL_TEXT, COL_NUM, COL_TEXT, COL_TEXT,
		COL_NUM, COL_NUM, COL_NUM, COL_NUM };
	struct table *t = table_new(10, names, kinds);
	char b[3][DEC_MAX_TEXT];
	size_t i;

	for (i = 0; i < r->nadj; i++) {
		const struct report_adjustment *a = &r->adj[i];
		const char *row[10] = {
			a->adjustment_no, a->invoice_no, a->tenant, a->currency,
			a->item, a->price_group,
			amt(a->old_amount, a->minor, b[0]),
			amt(a->new_amount, a->minor, b[1]),
			amt(a->delta, a->minor, b[2]), a->issue_date };

		table_add(t, row);
	}
	add_table(out, "adjustments.csv", t);
}

static void write_arrears(const struct report *r, struct report_files *out)
{
	static const char *const names[] = {
		"tenant_id", "currency", "outstanding", "oldest_invoice_no",
		"suspend_at", "release_at", "status" };
	static const enum col_kind kinds[] = {
		COL_TEXT, COL_NUM, COL_NUM, COL_TEXT, COL_NUM, COL_NUM,
		COL_NUM };
	struct table *t = table_new(7, names, kinds);
	char b[DEC_MAX_TEXT], s1[TS_MAX_TEXT], s2[TS_MAX_TEXT];
	size_t i;

	for (i = 0; i < r->narr; i++) {
		const struct report_arrears *a = &r->arr[i];
		const char *row[7];

		s1[0] = s2[0] = '\0';
		if (a->has_dates) {
			ts_format(a->suspend_at, r->cat->set.tz, s1);
			ts_format(a->release_at, r->cat->set.tz, s2);
		}
		row[0] = a->tenant;
		row[1] = a->currency;
		row[2] = amt(a->outstanding, a->minor, b);
		row[3] = a->oldest_invoice_no;
		row[4] = s1;
		row[5] = s2;
		row[6] = a->status;
		table_add(t, row);
	}
	add_table(out, "arrears.csv", t);
}

/* Appends printf-style text to a growing buffer. */
struct text {
	char *p;
	size_t n, cap;
};

static void tprintf(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void tprintf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (k < 0)
		return;
	xgrow((void **)&t->p, &t->cap, t->n + (size_t)k + 1, 1);
	va_start(ap, fmt);
	vsnprintf(t->p + t->n, (size_t)k + 1, fmt, ap);
	va_end(ap);
	t->n += (size_t)k;
}

static int cmp_cur(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void write_summary(const struct report *r, struct report_files *out)
{
	struct text t = { NULL, 0, 0 };
	const char **cur = xmalloc((r->rp->ninv + 1) * sizeof(*cur));
	char period[16], w[48];
	size_t i, j, ncur = 0, arrears = 0;

	/* the period's own counts only (SPEC 8 v2): failed files hold no
	 * record of any period, so they are in no summary (status and
	 * close name them) */
	ts_period_format(r->rp->period, 1, period);
	tprintf(&t, "settle %s %s\n", r->draft ? "draft" : "final", period);
	tprintf(&t, "files: %llu with records of this period\n",
		(unsigned long long)r->rp->files);
	tprintf(&t, "records: %llu in period (%llu unbillable)\n",
		(unsigned long long)r->rp->records,
		(unsigned long long)r->rp->unbillable);
	tprintf(&t, "rejected: %llu\n", (unsigned long long)r->rp->rejected);
	tprintf(&t, "duplicates: %llu counted once\n",
		(unsigned long long)r->rp->duplicates);
	for (i = 0; i < r->rp->ninv; i++) {
		const char *cu = r->rp->inv[i].acct->currency;

		for (j = 0; j < ncur && strcmp(cur[j], cu) != 0; j++)
			;
		if (j == ncur)
			cur[ncur++] = cu;
	}
	qsort(cur, ncur, sizeof(*cur), cmp_cur);
	for (i = 0, j = 0; i < r->rp->ninv; i++)
		if (i == 0 || strcmp(r->rp->inv[i].acct->tenant,
				     r->rp->inv[i - 1].acct->tenant) != 0)
			j++;
	tprintf(&t, "tenants: %zu\n", j);
	tprintf(&t, "invoices: %zu\n", r->rp->ninv);
	for (j = 0; j < ncur; j++) {
		__int128 sum[3] = { 0, 0, 0 };
		int m = dec_minor_digits(cur[j]);

		for (i = 0; i < r->rp->ninv; i++)
			if (strcmp(r->rp->inv[i].acct->currency, cur[j]) == 0) {
				sum[0] += r->inv[i].net;
				sum[1] += r->inv[i].tax;
				sum[2] += r->inv[i].total;
			}
		tprintf(&t, "net %s: %s\n", cur[j], wide_amt(sum[0], m, w));
		tprintf(&t, "tax %s: %s\n", cur[j], wide_amt(sum[1], m, w));
		tprintf(&t, "total %s: %s\n", cur[j], wide_amt(sum[2], m, w));
	}
	if (r->draft) {
		for (i = 0; i < r->rp->ninv; i++)
			arrears += r->inv[i].balance_after < 0;
	} else {
		arrears = r->narr;
	}
	tprintf(&t, "arrears: %zu\n", arrears);
	free(cur);
	if (!t.p)
		t.p = xstrdup("");
	add_file(out, "summary.txt", t.p, t.n);
}

void report_render_lines(const struct report *r, struct report_files *out)
{
	memset(out, 0, sizeof(*out));
	write_invoices(r, out);
	write_lines(r, out);
	write_packages(r, out);
	write_rejects(r, out);
}

void report_render_rest(const struct report *r, struct report_files *out)
{
	if (!r->draft) {
		write_adjustments(r, out);
		write_arrears(r, out);
	}
	write_summary(r, out);
}

void report_render(const struct report *r, struct report_files *out)
{
	report_render_lines(r, out);
	report_render_rest(r, out);
}

void report_files_release(struct report_files *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->f[i].data);
	memset(f, 0, sizeof(*f));
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct report_file *)a)->name,
		      ((const struct report_file *)b)->name);
}

void report_digest(const struct report_files *f, unsigned char sha[32])
{
	struct sha256 c;
	struct report_file sorted[sizeof(f->f) / sizeof(f->f[0])];
	size_t i;

	/* by name, so the digest does not depend on rendering order */
	memcpy(sorted, f->f, f->n * sizeof(*sorted));
	qsort(sorted, f->n, sizeof(*sorted), cmp_file);
	sha256_init(&c);
	for (i = 0; i < f->n; i++) {
		uint64_t len = sorted[i].len;

		sha256_update(&c, sorted[i].name, strlen(sorted[i].name) + 1);
		sha256_update(&c, &len, sizeof(len));
		sha256_update(&c, sorted[i].data, sorted[i].len);
	}
	sha256_final(&c, sha);
}

/* The files of a final period's folder. */
static const char *const final_names[] = {
	"invoices.csv", "invoice_lines.csv", "package_usage.csv",
	"uncovered.csv", "packages.csv", "alerts.csv", "rejects.csv",
	"adjustments.csv", "arrears.csv", "summary.txt" };
#define NFINAL (sizeof(final_names) / sizeof(final_names[0]))

const char *const *report_final_names(size_t *n)
{
	*n = NFINAL;
	return final_names;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Adds dir/name to md as report_digest does (name, length, bytes),
 * reading it a block at a time. -1 when it is no regular file, cannot be
 * read, or its length is not its stat size when read through. */
static int digest_file(struct sha256 *md, const char *dir, const char *name)
{
	char path[4096], buf[65536];
	struct stat sb;
	uint64_t len, got = 0;
	size_t k;
	int bad;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = out_open_regular(path, &sb)))
		return -1;
	len = (uint64_t)sb.st_size;
	sha256_update(md, name, strlen(name) + 1);
	sha256_update(md, &len, sizeof(len));
	while ((k = fread(buf, 1, sizeof(buf), f)) > 0) {
		sha256_update(md, buf, k);
		got += k;
	}
	bad = ferror(f);
	fclose(f);
	return bad || got != len ? -1 : 0;
}

int report_digest_dir(const char *dir, unsigned char sha[32])
{
	const char *names[NFINAL];
	struct sha256 md;
	size_t i;

	/* report_digest's order: by name */
	memcpy(names, final_names, sizeof(names));
	qsort(names, NFINAL, sizeof(names[0]), cmp_name);
	sha256_init(&md);
	for (i = 0; i < NFINAL; i++)
		if (digest_file(&md, dir, names[i]))
			return -1;
	sha256_final(&md, sha);
	return 0;
}

int report_load_final(const char *dir, struct report_files *out)
{
	const char *const *names = final_names;
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < NFINAL; i++) {
		char path[4096], *data;
		size_t len;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (out_read_file(path, &data, &len)) {
			report_files_release(out);
			return -1;
		}
		add_file(out, names[i], data, len);
	}
	return 0;
}

int report_put(const struct report_files *f, const char *dir, size_t *written,
	       struct err *e)
{
	char path[4096];
	size_t i;

	*written = 0;
	if (out_mkdirs(dir, e))
		return ST_ERROR;
	for (i = 0; i < f->n; i++) {
		int rc;

		snprintf(path, sizeof(path), "%s/%s", dir, f->f[i].name);
		rc = out_put_file(path, f->f[i].data, f->f[i].len, e);
		if (rc < 0)
			return ST_ERROR;
		*written += (size_t)rc;
	}
	return 0;
}

/* 1 when dir/name is a plain file (not a symlink, no other link to it)
 * holding exactly data[0..len): a staging folder may link it. */
static int kept(const char *dir, const struct report_file *f)
{
	char path[4096], *old;
	struct stat st;
	size_t n;
	int same;

	snprintf(path, sizeof(path), "%s/%s", dir, f->name);
	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1 || (uint64_t)st.st_size != f->len)
		return 0;
	if (out_read_file(path, &old, &n))
		return 0;
	same = n == f->len && memcmp(old, f->data, n) == 0;
	free(old);
	return same;
}

/* Replaces stage with dir in e's message. */
static void unstage_msg(struct err *e, const char *stage, const char *dir)
{
	char *at, buf[sizeof(e->msg)];

	if (!e || !(at = strstr(e->msg, stage)))
		return;
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - e->msg), e->msg,
		 dir, at + strlen(stage));
	memcpy(e->msg, buf, sizeof(buf));
}

int report_prepare(const struct report_files *f, const char *dir,
		   struct report_pending *p, struct err *e)
{
	unsigned char same[sizeof(f->f) / sizeof(f->f[0])];
	size_t i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < f->n; i++) {
		snprintf(p->names[i], sizeof(p->names[i]), "%s", f->f[i].name);
		same[i] = (unsigned char)kept(dir, &f->f[i]);
		p->written += !same[i];
	}
	p->n = f->n;
	if (!p->written)
		return 0;
	if (outswap_begin(&p->swap, dir, e)) {
		p->n = 0;
		return ST_ERROR;
	}
	for (i = 0; i < f->n; i++) {
		char from[4200], to[4200];

		snprintf(to, sizeof(to), "%s/%s", p->swap.stage, f->f[i].name);
		snprintf(from, sizeof(from), "%s/%s", dir, f->f[i].name);
		/* a link, not a copy; written when linking fails */
		if (same[i] && link(from, to) == 0)
			continue;
		if (out_put_file(to, f->f[i].data, f->f[i].len, e) < 0) {
			/* the message names the file in dir, not in the
			 * staging folder the user never sees */
			unstage_msg(e, p->swap.stage, dir);
			report_abandon(p);
			return ST_ERROR;
		}
	}
	return 0;
}

int report_finish(struct report_pending *p, size_t *written, struct err *e)
{
	const char *names[sizeof(p->names) / sizeof(p->names[0])];
	size_t i;
	int rc = 0;

	*written = 0;
	if (p->swap.stage[0]) {
		for (i = 0; i < p->n; i++)
			names[i] = p->names[i];
		rc = outswap_finish(&p->swap, names, p->n, e);
		if (!rc)
			*written = p->written;
	}
	p->n = 0;
	return rc ? ST_ERROR : 0;
}

void report_abandon(struct report_pending *p)
{
	outswap_abandon(&p->swap);
	p->n = 0;
}

/* YYYY-MM: a period folder's name. */
static int period_name(const char *b)
{
	size_t i;

	if (strlen(b) != 7 || b[4] != '-')
		return 0;
	for (i = 0; i < 7; i++)
		if (i != 4 && (b[i] < '0' || b[i] > '9'))
			return 0;
	return 1;
}

int report_sweep(const char *outdir, struct err *e)
{
	return outswap_sweep(outdir, period_name, final_names,
			     sizeof(final_names) / sizeof(final_names[0]), e);
}
