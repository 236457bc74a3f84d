/* usagecheck.h: reads bytes with the usage reader (usage_open_mem) into a
 * log of every delivery, checking on the way what usage.h promises of a
 * record and a reject. Shared by fuzz_usage.c and fuzz_usage_gz.c. */
#ifndef USAGECHECK_H
#define USAGECHECK_H

#include <stdio.h>

#include "fuzzhelp.h"
#include "usage.h"

struct uread {
	struct fbuf log;  /* one line per delivery */
	uint64_t next;    /* the line the next delivery must have */
	int rc;
	char msg[1024];
};

static int uc_printable(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e;
}

static int uc_tenant_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' ||
	       c == '-';
}

static int uc_item_char(unsigned char c)
{
	return uc_tenant_char(c) && c != ':';
}

static int uc_all(struct span s, size_t max, int (*ok)(unsigned char))
{
	size_t i;

	if (s.n < 1 || s.n > max)
		return 0;
	for (i = 0; i < s.n; i++)
		if (!ok((unsigned char)s.p[i]))
			return 0;
	return 1;
}

/* Canonical dims: "" or k=v pairs joined by ';', keys non-empty, strictly
 * ascending as bytes, no NUL. */
static int uc_dims_ok(struct span d)
{
	const char *p = d.p, *end = d.p + d.n, *prev = NULL;
	size_t prevn = 0;

	if (d.n == 0)
		return 1;
	if (memchr(d.p, '\0', d.n))
		return 0;
	for (;;) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *segend = semi ? semi : end;
		const char *eq = memchr(p, '=', (size_t)(segend - p));
		size_t kn, m;
		int c;

		if (!eq || eq == p)
			return 0;
		kn = (size_t)(eq - p);
		if (prev) {
			m = prevn < kn ? prevn : kn;
			c = memcmp(prev, p, m);
			if (c > 0 || (c == 0 && prevn >= kn))
				return 0;
		}
		prev = p;
		prevn = kn;
		if (!semi)
			return 1;
		p = semi + 1;
	}
}

static int uc_rec(void *ctx, const struct usage_rec *u)
{
	struct uread *r = ctx;
	char tmp[128];

	CHECK(u->line == r->next);
	r->next++;
	CHECK(uc_all(u->record_id, 128, uc_printable));
	CHECK(uc_all(u->tenant, 64, uc_tenant_char));
	CHECK(uc_all(u->item, 64, uc_item_char));
	CHECK(u->qty >= 0);
	CHECK(uc_dims_ok(u->dims));
	CHECK(!memchr(u->status.p, '\0', u->status.n));
	CHECK(!memchr(u->unit.p, '\0', u->unit.n));
	CHECK(u->status.n <= USAGE_MAX_FIELD && u->unit.n <= USAGE_MAX_FIELD);
	snprintf(tmp, sizeof(tmp), "R %llu|%lld|%lld|",
		 (unsigned long long)u->line, (long long)u->ts,
		 (long long)u->qty);
	fbuf_str(&r->log, tmp);
	fbuf_add(&r->log, u->record_id.p, u->record_id.n);
	fbuf_str(&r->log, "|");
	fbuf_add(&r->log, u->tenant.p, u->tenant.n);
	fbuf_str(&r->log, "|");
	fbuf_add(&r->log, u->item.p, u->item.n);
	fbuf_str(&r->log, "|");
	fbuf_add(&r->log, u->status.p, u->status.n);
	fbuf_str(&r->log, "|");
	fbuf_add(&r->log, u->dims.p, u->dims.n);
	fbuf_str(&r->log, "|");
	fbuf_add(&r->log, u->unit.p, u->unit.n);
	fbuf_str(&r->log, "\n");
	return 0;
}

static int uc_reject(void *ctx, const struct usage_reject *j)
{
	struct uread *r = ctx;
	char tmp[128];

	CHECK(j->line == r->next);
	r->next++;
	/* the reader decides only what needs no config */
	CHECK(j->reason == REJ_FIELD_COUNT || j->reason == REJ_BAD_FIELD ||
	      j->reason == REJ_BAD_TS || j->reason == REJ_BAD_QUANTITY);
	CHECK(j->record_id.n <= USAGE_MAX_FIELD);
	CHECK(j->tenant.n <= USAGE_MAX_FIELD);
	CHECK(j->why && strlen(j->why) < 200);
	snprintf(tmp, sizeof(tmp), "J %llu|%s|%s|",
		 (unsigned long long)j->line, usage_reject_name(j->reason),
		 j->why);
	fbuf_str(&r->log, tmp);
	fbuf_add(&r->log, j->record_id.p, j->record_id.n);
	fbuf_str(&r->log, "|");
	fbuf_add(&r->log, j->tenant.p, j->tenant.n);
	fbuf_str(&r->log, "\n");
	return 0;
}

/* Reads data[0..n) at read size sz (0: the default) into r; fast 0 sends
 * every line through libcsv (usage_set_fast), the reference. */
static void uc_read(const void *data, size_t n, size_t sz, int fast,
		    struct uread *r)
{
	struct usage_sink s = { uc_rec, uc_reject, NULL, 0, r };
	struct usage_reader *rd;
	struct usage_opts o;
	struct err e;

	fbuf_reset(&r->log);
	r->next = 1;
	err_clear(&e);
	/* the limits from the environment (uc_env), as the front end reads
	 * them */
	CHECK(usage_opts_parse(&o, getenv(USAGE_ENV_MAX_RATIO),
			       getenv(USAGE_ENV_MAX_BYTES), &e) == 0);
	rd = usage_open_mem(data, n, "fuzz.csv", &o);
	CHECK(rd != NULL);
	usage_set_read_size(rd, sz);
	usage_set_fast(rd, fast);
	r->rc = usage_read(rd, &s, 0, &e);
	usage_free(rd);
	CHECK(r->rc == 0 || r->rc == ST_ERROR);
	CHECK(r->rc == 0 ? e.msg[0] == '\0' : e.msg[0] != '\0');
	CHECK(r->rc == 0 || strstr(e.msg, "'fuzz.csv'") != NULL);
	memcpy(r->msg, e.msg, sizeof(r->msg));
}

/* The size limit may cut a read at a chunk boundary: a read that failed
 * on it may have seen fewer records, or failed on it where a read in
 * other chunks first failed on bad text. Both still fail. */
static int uc_is_limit(const struct uread *r)
{
	return r->rc == ST_ERROR && strstr(r->msg, "(limit SETTLE_GZIP_") != NULL;
}

/* Two reads of the same text give the same result. */
static void uc_same(const struct uread *a, const struct uread *b)
{
	if (uc_is_limit(a) || uc_is_limit(b)) {
		CHECK(a->rc == ST_ERROR && b->rc == ST_ERROR);
		return;
	}
	if (a->rc != b->rc || strcmp(a->msg, b->msg) != 0 ||
	    !fbuf_eq(&a->log, &b->log)) {
		fprintf(stderr, "rc %d vs %d\nmsg '%s'\nvs  '%s'\n", a->rc,
			b->rc, a->msg, b->msg);
		CHECK(!"two reads of the same text differ");
	}
}

/* The fast path and libcsv read the same bytes at the same read size:
 * the same deliveries, result and message, limits included. */
static void uc_identical(const struct uread *fast, const struct uread *slow)
{
	if (fast->rc != slow->rc || strcmp(fast->msg, slow->msg) != 0 ||
	    !fbuf_eq(&fast->log, &slow->log)) {
		fprintf(stderr, "fast: rc %d '%s'\n%s\nlibcsv: rc %d '%s'\n%s\n",
			fast->rc, fast->msg, fast->log.p ? fast->log.p : "",
			slow->rc, slow->msg, slow->log.p ? slow->log.p : "");
		CHECK(!"the fast path and libcsv differ");
	}
}

/* Limits that make the chunk-size property exact: no ratio limit (it is
 * checked against the compressed bytes consumed so far, which depends on
 * the chunks), a small size limit so that a gzip bomb stays quick. */
static void uc_env(void)
{
	setenv(USAGE_ENV_MAX_RATIO, "0", 1);
	setenv(USAGE_ENV_MAX_BYTES, "4194304", 1);
}

#endif
