/* batch: compact record batches (see batch.h for the layout). */
#include "batch.h"

#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "mem.h"
#include "banned.h"

struct buf {
	unsigned char *p;
	size_t n, cap;
};

struct batch {
	struct buf strs;     /* string table entries (len, bytes) */
	struct buf recs;     /* encoded records */
	struct buf out;      /* strs + recs, made by batch_encode */
	size_t nstr, nrec;
	uint64_t last_line;
	int64_t last_ts;
	/* open-addressing intern table: slot -> string index + 1 */
	uint32_t *slots;
	size_t nslots;
	uint64_t *keys;      /* per record, sorted by batch_keys */
	uint64_t *tmp;       /* radix sort scratch */
	size_t kcap;
	size_t *off;         /* string index -> offset of its bytes in strs */
	size_t *len;
	size_t ncap;
};

static void buf_need(struct buf *b, size_t extra)
{
	xgrow((void **)&b->p, &b->cap, b->n + extra, 1);
}

static void put_varint(struct buf *b, uint64_t v)
{
	buf_need(b, 10);
	while (v >= 0x80) {
		b->p[b->n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	b->p[b->n++] = (unsigned char)v;
}

static void put_bytes(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	buf_need(b, n);
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void rehash(struct batch *b)
{
	size_t i, ns = b->nslots ? b->nslots * 2 : 256;

	free(b->slots);
	b->slots = xcalloc(ns, sizeof(*b->slots));
	b->nslots = ns;
	for (i = 0; i < b->nstr; i++) {
		uint64_t h = agg_hash((const char *)b->strs.p + b->off[i],
					b->len[i]);
		size_t j = h & (ns - 1);

		while (b->slots[j])
			j = (j + 1) & (ns - 1);
		b->slots[j] = (uint32_t)(i + 1);
	}
}

/* The index of string s in the batch's table, adding it when new. */
static uint64_t intern(struct batch *b, struct span s)
{
	uint64_t h;
	size_t j;

	if ((b->nstr + 1) * 2 > b->nslots)
		rehash(b);
	h = agg_hash(s.p, s.n);
	for (j = h & (b->nslots - 1); b->slots[j];
	     j = (j + 1) & (b->nslots - 1)) {
		size_t i = b->slots[j] - 1;

		if (b->len[i] == s.n &&
		    memcmp(b->strs.p + b->off[i], s.p, s.n) == 0)
			return i;
	}
	if (b->nstr == b->ncap) {
		size_t cap = b->ncap;

		xgrow((void **)&b->off, &cap, b->nstr + 1, sizeof(*b->off));
		xgrow((void **)&b->len, &b->ncap, b->nstr + 1,
		      sizeof(*b->len));
	}
	put_varint(&b->strs, s.n);
	b->off[b->nstr] = b->strs.n;
	b->len[b->nstr] = s.n;
	put_bytes(&b->strs, s.p, s.n);
	b->slots[j] = (uint32_t)(b->nstr + 1);
	return b->nstr++;
}

struct batch *batch_new(void)
{
	return xcalloc(1, sizeof(struct batch));
}

void batch_free(struct batch *b)
{
	if (!b)
		return;
	free(b->strs.p);
	free(b->recs.p);
	free(b->out.p);
	free(b->slots);
	free(b->off);
	free(b->len);
	free(b->keys);
	free(b->tmp);
	free(b);
}

void batch_reset(struct batch *b)
{
	b->strs.n = b->recs.n = b->out.n = 0;
	b->nstr = b->nrec = 0;
	b->last_line = 0;
	b->last_ts = 0;
	if (b->slots)
		memset(b->slots, 0, b->nslots * sizeof(*b->slots));
}

void batch_add(struct batch *b, const struct usage_rec *r)
{
	uint64_t zz;
	int64_t d;

	put_varint(&b->recs, r->line - b->last_line);
	put_varint(&b->recs, intern(b, r->tenant));
	put_varint(&b->recs, intern(b, r->item));
	put_varint(&b->recs, intern(b, r->status));
	put_varint(&b->recs, intern(b, r->unit));
	put_varint(&b->recs, intern(b, r->dims));
	/* wrapping difference, undone the same way when decoding */
	d = (int64_t)((uint64_t)r->ts - (uint64_t)b->last_ts);
	zz = ((uint64_t)d << 1) ^ (uint64_t)(d >> 63);
	put_varint(&b->recs, zz);
	put_varint(&b->recs, (uint64_t)r->qty);
	put_varint(&b->recs, r->record_id.n);
	put_bytes(&b->recs, r->record_id.p, r->record_id.n);
	xgrow((void **)&b->keys, &b->kcap, b->nrec + 1, sizeof(*b->keys));
	b->keys[b->nrec] = batch_key(r->tenant, r->record_id);
	b->last_line = r->line;
	b->last_ts = r->ts;
	b->nrec++;
}

uint64_t batch_key(struct span tenant, struct span record_id)
{
	return agg_hash64(record_id.p, record_id.n,
			  agg_hash64(tenant.p, tenant.n, 0x5e771e));
}

/* LSD radix sort, a byte at a time: a batch holds ~10^5 keys and qsort
 * would cost more than the rest of encoding it. */
void batch_keys(struct batch *b, const uint64_t **keys, size_t *n)
{
	size_t cnt[256], i, shift, cap = b->nrec;
	uint64_t *src = b->keys, *dst;

	*n = b->nrec;
	*keys = b->keys;
	if (b->nrec < 2)
		return;
	b->tmp = xrealloc(b->tmp, cap * sizeof(*b->tmp));
	dst = b->tmp;
	for (shift = 0; shift < 64; shift += 8) {
		size_t sum = 0;

		memset(cnt, 0, sizeof(cnt));
		for (i = 0; i < b->nrec; i++)
			cnt[(src[i] >> shift) & 0xff]++;
		for (i = 0; i < 256; i++) {
			size_t c = cnt[i];

			cnt[i] = sum;
			sum += c;
		}
		for (i = 0; i < b->nrec; i++)
			dst[cnt[(src[i] >> shift) & 0xff]++] = src[i];
		src = dst;
		dst = src == b->keys ? b->tmp : b->keys;
	}
	/* 8 passes: the sorted keys are back in b->keys */
	*keys = src;
}

size_t batch_count(const struct batch *b)
{
	return b->nrec;
}

size_t batch_size(const struct batch *b)
{
	return b->strs.n + b->recs.n + 20;
}

void batch_encode(struct batch *b, const void **data, size_t *len)
{
	b->out.n = 0;
	put_varint(&b->out, b->nstr);
	put_bytes(&b->out, b->strs.p, b->strs.n);
	put_varint(&b->out, b->nrec);
	put_bytes(&b->out, b->recs.p, b->recs.n);
	*data = b->out.p;
	*len = b->out.n;
}

static int get_varint(const unsigned char **p, const unsigned char *end,
		      uint64_t *v)
{
	uint64_t x = 0;
	int shift = 0;

	while (*p < end && shift < 64) {
		unsigned char c = *(*p)++;

		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return 0;
		}
		shift += 7;
	}
	return -1;
}

/* Decodes, calling strs once then fn per record (either may be NULL). */
static int decode(const void *data, size_t len,
		  int (*strsfn)(void *ctx, const struct span *s, size_t n),
		  int (*fn)(void *ctx, const struct usage_rec *r),
		  int (*idfn)(void *ctx, const struct usage_rec *r,
			      const uint32_t ids[5]),
		  void *ctx)
{
	const unsigned char *p = data, *end = p + len;
	struct span *strs = NULL;
	uint64_t nstr, nrec, i, v;
	struct usage_rec r;
	int rc = -1;

	if (get_varint(&p, end, &nstr) || nstr > len)
		return -1;
	strs = xmalloc((size_t)(nstr ? nstr : 1) * sizeof(*strs));
	for (i = 0; i < nstr; i++) {
		if (get_varint(&p, end, &v) || v > (uint64_t)(end - p))
			goto out;
		strs[i].p = (const char *)p;
		strs[i].n = (size_t)v;
		p += v;
	}
	if (strsfn) {
		int k = strsfn(ctx, strs, (size_t)nstr);

		if (k) {
			rc = k;
			goto out;
		}
	}
	if (get_varint(&p, end, &nrec))
		goto out;
	memset(&r, 0, sizeof(r));
	for (i = 0; i < nrec; i++) {
		uint64_t f[9]; /* the varints of one record, in layout order */
		uint32_t ids[5];
		int k;

		for (k = 0; k < 9; k++)
			if (get_varint(&p, end, &f[k]))
				goto out;
		for (k = 1; k <= 5; k++) {
			if (f[k] >= nstr)
				goto out;
			ids[k - 1] = (uint32_t)f[k];
		}
		if (f[7] > INT64_MAX || f[8] > (uint64_t)(end - p))
			goto out;
		r.line += f[0];
		r.tenant = strs[f[1]];
		r.item = strs[f[2]];
		r.status = strs[f[3]];
		r.unit = strs[f[4]];
		r.dims = strs[f[5]];
		r.ts = (int64_t)((uint64_t)r.ts +
				 ((f[6] >> 1) ^ (~(f[6] & 1) + 1)));
		r.qty = (dec_t)f[7];
		r.record_id.p = (const char *)p;
		r.record_id.n = (size_t)f[8];
		p += f[8];
		k = fn ? fn(ctx, &r) : idfn(ctx, &r, ids);
		if (k) {
			rc = k;
			goto out;
		}
	}
	rc = p == end ? 0 : -1;
out:
	free(strs);
	return rc;
}

int batch_decode(const void *data, size_t len,
		 int (*fn)(void *ctx, const struct usage_rec *r), void *ctx)
{
	return decode(data, len, NULL, fn, NULL, ctx);
}

int batch_decode_ids(const void *data, size_t len,
		     int (*strs)(void *ctx, const struct span *s, size_t n),
		     int (*fn)(void *ctx, const struct usage_rec *r,
			       const uint32_t ids[5]),
		     void *ctx)
{
	return decode(data, len, strs, NULL, fn, ctx);
}
