/* Fuzz target: record batches (batch.h), the form in which the state
 * keeps ingested records, in layout 1 (states written before packed ids)
 * and layout 2.
 *
 * The input is used twice.
 * 1. As a blob, in an allocation of its exact size (libFuzzer's): any
 *    bytes decode to 0 or -1 without reading outside them;
 *    batch_decode and batch_decode_ids agree; every string span lies in
 *    the blob, and a record_id is either in the blob or the 36 bytes of
 *    a canonical lowercase UUID (a packed one) outside it; the table
 *    indexes are in range and name the record's strings. A blob that
 *    decodes is encoded again from its records, which must decode to
 *    the same records.
 * 2. As a recipe for up to 200 records whose ids are canonical UUIDs,
 *    near misses (a byte changed, one dropped or added), uppercase ones,
 *    short, 128-char and raw ids: encoding then decoding gives every field
 *    back byte for byte, an id is packed exactly when it is a canonical
 *    lowercase UUID, the keys are batch_key() of the text, and a prefix
 *    of the blob, or the blob and one more byte, is malformed. */
#include "batch.h"
#include "fuzzhelp.h"
#include "banned.h"

/* ---- records, copied out of the callbacks ---- */

enum { F_RID, F_TENANT, F_ITEM, F_STATUS, F_UNIT, F_DIMS, NF };

struct crec {
	uint64_t line;
	int64_t ts;
	dec_t qty;
	char *s[NF];
	size_t n[NF];
	int packed; /* record_id outside the blob */
};

struct crecs {
	struct crec *r;
	size_t n, cap;
	const unsigned char *blob;
	size_t len;
	const struct span *strs; /* batch_decode_ids's table */
	size_t nstr;
};

static void crecs_free(struct crecs *c)
{
	size_t i;
	int k;

	for (i = 0; i < c->n; i++)
		for (k = 0; k < NF; k++)
			free(c->r[i].s[k]);
	free(c->r);
	c->r = NULL;
	c->n = c->cap = 0;
}

/* 1 if s[0..n) is 8-4-4-4-12 lowercase hex digits joined by '-'. */
static int canonical(const char *s, size_t n)
{
	size_t i;

	if (n != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		int c = (unsigned char)s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') ||
			     (c >= 'a' && c <= 'f'))) {
			return 0;
		}
	}
	return 1;
}

static int in_blob(const struct crecs *c, struct span s)
{
	uintptr_t p = (uintptr_t)s.p, b = (uintptr_t)c->blob;

	if (s.n == 0)
		return 1; /* where an empty span points is not read */
	return p >= b && s.n <= c->len && p - b <= c->len - s.n;
}

static int on_rec(void *ctx, const struct usage_rec *r)
{
	struct crecs *c = ctx;
	const struct span f[NF] = { r->record_id, r->tenant, r->item,
				    r->status, r->unit, r->dims };
	struct crec *o;
	int k;

	for (k = F_TENANT; k < NF; k++)
		CHECK(in_blob(c, f[k]));
	xgrow((void **)&c->r, &c->cap, c->n + 1, sizeof(*c->r));
	o = &c->r[c->n++];
	o->line = r->line;
	o->ts = r->ts;
	o->qty = r->qty;
	CHECK(r->qty >= 0);
	o->packed = !in_blob(c, r->record_id);
	if (o->packed)
		CHECK(canonical(r->record_id.p, r->record_id.n));
	for (k = 0; k < NF; k++) {
		o->s[k] = xmalloc(f[k].n + 1);
		if (f[k].n)
			memcpy(o->s[k], f[k].p, f[k].n);
		o->n[k] = f[k].n;
	}
	return 0;
}

static int on_strs(void *ctx, const struct span *s, size_t n)
{
	struct crecs *c = ctx;
	size_t i;

	for (i = 0; i < n; i++)
		CHECK(in_blob(c, s[i]));
	c->strs = s;
	c->nstr = n;
	return 0;
}

static int on_rec_ids(void *ctx, const struct usage_rec *r,
		      const uint32_t ids[5])
{
	struct crecs *c = ctx;
	const struct span f[5] = { r->tenant, r->item, r->status, r->unit,
				   r->dims };
	int k;

	for (k = 0; k < 5; k++) {
		CHECK(ids[k] < c->nstr);
		CHECK(c->strs[ids[k]].p == f[k].p &&
		      c->strs[ids[k]].n == f[k].n);
	}
	return on_rec(ctx, r);
}

static int same_recs(const struct crecs *a, const struct crecs *b)
{
	size_t i;
	int k;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		const struct crec *x = &a->r[i], *y = &b->r[i];

		if (x->line != y->line || x->ts != y->ts || x->qty != y->qty)
			return 0;
		for (k = 0; k < NF; k++)
			if (x->n[k] != y->n[k] ||
			    (x->n[k] && memcmp(x->s[k], y->s[k], x->n[k])))
				return 0;
	}
	return 1;
}

static struct usage_rec to_rec(const struct crec *x)
{
	struct usage_rec r;
	struct span *f[NF];
	int k;

	memset(&r, 0, sizeof(r));
	f[F_RID] = &r.record_id;
	f[F_TENANT] = &r.tenant;
	f[F_ITEM] = &r.item;
	f[F_STATUS] = &r.status;
	f[F_UNIT] = &r.unit;
	f[F_DIMS] = &r.dims;
	for (k = 0; k < NF; k++) {
		f[k]->p = x->s[k];
		f[k]->n = x->n[k];
	}
	r.line = x->line;
	r.ts = x->ts;
	r.qty = x->qty;
	return r;
}

/* Decodes data[0..len) both ways into *out (which the caller frees);
 * returns the decode's result. */
static int decode_both(const unsigned char *data, size_t len,
		       struct crecs *out)
{
	struct crecs b = { 0 };
	int rc, rc2;

	memset(out, 0, sizeof(*out));
	out->blob = b.blob = data;
	out->len = b.len = len;
	rc = batch_decode(data, len, on_rec, out);
	rc2 = batch_decode_ids(data, len, on_strs, on_rec_ids, &b);
	CHECK(rc == 0 || rc == -1);
	CHECK(rc == rc2);
	CHECK(same_recs(out, &b));
	crecs_free(&b);
	return rc;
}

/* Decodes an exact-size copy of data[0..len), expecting -1. */
static void expect_malformed(const unsigned char *data, size_t len)
{
	unsigned char *copy = xmalloc(len ? len : 1);
	struct crecs c;

	if (len)
		memcpy(copy, data, len);
	CHECK(decode_both(copy, len, &c) == -1);
	crecs_free(&c);
	free(copy);
}

/* Encodes recs into b (reset first), checks the blob decodes to them,
 * packed exactly when canonical, with the keys of their text. */
static void roundtrip(struct batch *b, const struct crecs *recs,
		      size_t cut)
{
	const void *data;
	const uint64_t *keys;
	uint64_t *want;
	size_t len, nk, i, j;
	struct crecs got;
	unsigned char *copy;

	batch_reset(b);
	for (i = 0; i < recs->n; i++) {
		struct usage_rec r = to_rec(&recs->r[i]);

		batch_add(b, &r);
	}
	CHECK(batch_count(b) == recs->n);
	batch_encode(b, &data, &len);
	copy = xmalloc(len + 1);
	memcpy(copy, data, len);
	CHECK(decode_both(copy, len, &got) == 0);
	CHECK(same_recs(recs, &got));
	for (i = 0; i < got.n; i++)
		CHECK(got.r[i].packed ==
		      canonical(got.r[i].s[F_RID], got.r[i].n[F_RID]));
	crecs_free(&got);
	/* a trailing byte, and a proper prefix */
	copy[len] = (unsigned char)cut;
	expect_malformed(copy, len + 1);
	expect_malformed(copy, cut % len);
	free(copy);

	want = xmalloc((recs->n ? recs->n : 1) * sizeof(*want));
	for (i = 0; i < recs->n; i++) {
		struct usage_rec r = to_rec(&recs->r[i]);

		want[i] = batch_key(r.tenant, r.record_id);
		for (j = i; j > 0 && want[j - 1] > want[j]; j--) {
			uint64_t x = want[j];

			want[j] = want[j - 1];
			want[j - 1] = x;
		}
	}
	batch_keys(b, &keys, &nk);
	CHECK(nk == recs->n);
	CHECK(nk == 0 || memcmp(keys, want, nk * sizeof(*keys)) == 0);
	free(want);
}

/* ---- records from the input ---- */

struct in {
	const uint8_t *p;
	size_t n, i;
};

static unsigned next(struct in *in)
{
	return in->i < in->n ? in->p[in->i++] : 0;
}

static uint64_t next64(struct in *in)
{
	uint64_t v = 0;
	int k;

	for (k = 0; k < 8; k++)
		v = v << 8 | next(in);
	return v;
}

/* A canonical UUID from 16 input bytes, its digits in upper case if
 * upper. */
static void make_uuid(struct in *in, char *out, int upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t i, k = 0;

	for (i = 0; i < 16; i++) {
		unsigned v = next(in);

		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[k++] = '-';
		out[k++] = digits[v >> 4];
		out[k++] = digits[v & 15];
	}
}

/* Writes a record_id from the input at id (room for 129 bytes); returns
 * its length. */
static size_t make_id(struct in *in, char *id)
{
	static const char near[] = "0123456789abcdef-ABCDEFg/:`{ ";
	unsigned kind = next(in) % 8, pos, c;
	size_t n, i;

	switch (kind) {
	case 0:
	case 1:
		make_uuid(in, id, 0);
		return 36;
	case 2:
		make_uuid(in, id, 1);
		return 36;
	case 3: /* a near miss: one byte changed, dropped or added */
		make_uuid(in, id, 0);
		pos = next(in) % 36;
		c = next(in);
		switch (c % 3) {
		case 0:
			id[pos] = (char)next(in);
			return 36;
		case 1:
			memmove(id + pos, id + pos + 1, 35 - pos);
			return 35;
		default:
			memmove(id + pos + 1, id + pos, 36 - pos);
			id[pos] = near[next(in) % (sizeof(near) - 1)];
			return 37;
		}
	case 4: /* short */
		n = 1 + next(in) % 8;
		for (i = 0; i < n; i++)
			id[i] = (char)(' ' + next(in) % 95);
		return n;
	case 5: /* 128 bytes, a UUID first */
		make_uuid(in, id, 0);
		for (i = 36; i < 128; i++)
			id[i] = (char)(' ' + (next(in) + i) % 95);
		return 128;
	case 6: /* any bytes, empty included */
		n = next(in) % 129;
		for (i = 0; i < n; i++)
			id[i] = (char)next(in);
		return n;
	default: /* 36 bytes near the UUID alphabet */
		for (i = 0; i < 36; i++)
			id[i] = near[next(in) % (sizeof(near) - 1)];
		if (next(in) & 1)
			id[8] = id[13] = id[18] = id[23] = '-';
		return 36;
	}
}

static char *dup_str(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);

	if (n)
		memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static void make_recs(struct in *in, struct crecs *out)
{
	static const char *const tenants[] = { "t1", "tenant-2", "" };
	static const char *const items[] = { "cpu", "gpu" };
	static const char *const statuses[] = { "", "ok", "failed" };
	static const char *const units[] = { "", "s" };
	static const char *const dims[] = { "", "k=v", "a=1;b=2" };
	uint64_t line = 0;
	int64_t ts = 0;

	memset(out, 0, sizeof(*out));
	while (in->i < in->n && out->n < 200) {
		unsigned f = next(in);
		char id[130];
		size_t n = make_id(in, id);
		struct crec *o;
		const char *s;

		xgrow((void **)&out->r, &out->cap, out->n + 1, sizeof(*out->r));
		o = &out->r[out->n++];
		line += f & 0x80 ? next64(in) : 1 + (f & 3);
		ts = (int64_t)(f & 0x40 ? next64(in) : (uint64_t)ts + (f & 7));
		o->line = line;
		o->ts = ts;
		o->qty = (dec_t)(f & 0x20 ? next64(in) >> 1 : f);
		o->s[F_RID] = dup_str(id, n);
		o->n[F_RID] = n;
#define PICK(k, tab) (s = tab[(f >> (k)) % (sizeof(tab) / sizeof(tab[0]))])
		PICK(0, tenants);
		o->s[F_TENANT] = dup_str(s, strlen(s));
		o->n[F_TENANT] = strlen(s);
		PICK(1, items);
		o->s[F_ITEM] = dup_str(s, strlen(s));
		o->n[F_ITEM] = strlen(s);
		PICK(2, statuses);
		o->s[F_STATUS] = dup_str(s, strlen(s));
		o->n[F_STATUS] = strlen(s);
		PICK(3, units);
		o->s[F_UNIT] = dup_str(s, strlen(s));
		o->n[F_UNIT] = strlen(s);
		PICK(4, dims);
		o->s[F_DIMS] = dup_str(s, strlen(s));
		o->n[F_DIMS] = strlen(s);
#undef PICK
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct batch *b = batch_new();
	struct crecs blob, recs;
	struct in in = { data, size, 0 };

	/* 1: the input as a blob */
	if (decode_both(data, size, &blob) == 0)
		roundtrip(b, &blob, size);
	crecs_free(&blob);

	/* 2: the input as records */
	make_recs(&in, &recs);
	roundtrip(b, &recs, size > 0 ? data[0] * 7u + size : 0);
	crecs_free(&recs);
	batch_free(b);
	return 0;
}
