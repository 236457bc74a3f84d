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

/* The columns interned per record, in layout order. */
enum { COL_TENANT, COL_ITEM, COL_STATUS, COL_UNIT, COL_DIMS, NCOL };

#define KEY_SEED 0x5e771e
#define VARINT_MAX 10
/* The first bytes of a layout-2 blob: a zero written in two bytes, which
 * the minimal varints of layout 1 never are, then the layout number. */
#define MARK0 0x80
#define MARK1 0x00
#define LAYOUT 2
#define HDR_MARK 3
/* a canonical UUID: its text, and its packed form */
#define UUID_TEXT 36
#define UUID_BYTES 16
/* the varints of a record but its record_id bytes, at their longest */
#define REC_FIXED (9 * VARINT_MAX)

/* An interned string as the table and the per-column cache hold it: its
 * length and words (str_words(): for up to 16 bytes the string itself,
 * so a lookup compares in place without touching the string table), its
 * index + 1 (0: an empty slot) and batch_key()'s tenant part. Two to a
 * cache line, so a probe that hits costs one line. */
struct islot {
	uint64_t a, b;
	uint32_t len, id;
	uint64_t seed;   /* agg_hash64(s, KEY_SEED) */
};

struct batch {
	struct buf strs;     /* string table entries (len, bytes) */
	/* Encoded records, from recs.p + head on; batch_encode writes the
	 * string table and counts in the head room before them, so that
	 * the blob is made without copying the records. */
	struct buf recs;     /* recs.n counts from recs.p + head */
	size_t head;
	size_t nstr, nrec;
	uint64_t last_line;
	int64_t last_ts;
	/* open-addressing intern table, linear probing */
	struct islot *slots;
	size_t nslots;
	/* per column, the slot + 1 of the string its last record used (0:
	 * none; cleared when the table grows): consecutive records often
	 * repeat a status, a unit, an item */
	size_t last[NCOL];
	uint64_t *keys;      /* per record, sorted by batch_keys */
	uint64_t *tmp;       /* radix sort scratch */
	size_t kcap;
	size_t *off;         /* string index -> its bytes in strs */
	size_t ncap;
};

static void buf_need(struct buf *b, size_t extra)
{
	if (b->cap - b->n < extra)
		xgrow((void **)&b->p, &b->cap, b->n + extra, 1);
}

/* Writes v at p, which has room for VARINT_MAX bytes; returns the end. */
static inline unsigned char *varint_at(unsigned char *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	return p;
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static void put_varint(struct buf *b, uint64_t v)
{
	buf_need(b, VARINT_MAX);
	b->n = (size_t)(varint_at(b->p + b->n, v) - b->p);
}

static void put_bytes(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	buf_need(b, n);
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

/* Where the 32 hex digits of a canonical UUID's text are, in pairs: the
 * text is 8-4-4-4-12 digits with '-' at 8, 13, 18 and 23. */
static const unsigned char uuid_pair[UUID_BYTES] = {
	0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34,
};

/* Little-endian loads, whatever the host: the first byte is the low one
 * (compilers make them one load). */
static inline uint64_t le32(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[3] << 24;
}

static inline uint64_t le64(const unsigned char *p)
{
	return le32(p) | le32(p + 4) << 32;
}

#define ONES 0x0101010101010101ULL
#define HIGH (ONES * 0x80)

/* Packs 8 hex digits, the first in w's low byte, into 4 bytes at out,
 * high nibble first; returns non-zero if one is not a lowercase hex
 * digit. A word at a time and without branches: ids are random digits,
 * which a branch per digit would mispredict. */
static inline uint64_t hex8(uint64_t w, unsigned char *out)
{
	/* with every byte below 0x80, x + (0x80 - lo) sets a byte's high
	 * bit iff it is >= lo, x + (0x7f - hi) iff it is > hi, and no
	 * carry crosses bytes */
	uint64_t x = w & ~HIGH;
	uint64_t digit = (x + ONES * (0x80 - '0')) &
			 ~(x + ONES * (0x7f - '9'));
	uint64_t letter = (x + ONES * (0x80 - 'a')) &
			  ~(x + ONES * (0x7f - 'f'));
	/* '0'..'9' are 0x30..0x39, 'a'..'f' 0x61..0x66: the low nibble,
	 * plus 9 for a letter */
	uint64_t v = (w & ONES * 0x0f) + 9 * (w >> 6 & ONES);
	uint64_t t = (v << 4 | v >> 8) & 0x00ff00ff00ff00ffULL;

	t = (t | t >> 8) & 0x0000ffff0000ffffULL;
	t = (t | t >> 16) & 0xffffffffULL;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	{
		uint32_t t32 = (uint32_t)t;

		memcpy(out, &t32, 4);
	}
#else
	out[0] = (unsigned char)t;
	out[1] = (unsigned char)(t >> 8);
	out[2] = (unsigned char)(t >> 16);
	out[3] = (unsigned char)(t >> 24);
#endif
	return (w & HIGH) | (~(digit | letter) & HIGH);
}

/* Packs s[0..n) into out if it is a canonical lowercase UUID: its 32
 * digits as 16 bytes, high nibble first. Returns 1 if it packed, 0 if the
 * id must stay raw (out then holds junk). */
static int uuid_pack(const char *s, size_t n, unsigned char *out)
{
	const unsigned char *u = (const unsigned char *)s;
	uint64_t bad;

	if (n != UUID_TEXT)
		return 0;
	bad = (u[8] ^ '-') | (u[13] ^ '-') | (u[18] ^ '-') | (u[23] ^ '-');
	bad |= hex8(le64(u), out);
	bad |= hex8(le32(u + 9) | le32(u + 14) << 32, out + 4);
	bad |= hex8(le32(u + 19) | le32(u + 24) << 32, out + 8);
	bad |= hex8(le64(u + 28), out + 12);
	return bad == 0;
}

/* The 36 bytes of text at out of the UUID packed at p. */
static void uuid_unpack(const unsigned char *p, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t k;

	out[8] = out[13] = out[18] = out[23] = '-';
	for (k = 0; k < UUID_BYTES; k++) {
		out[uuid_pair[k]] = digits[p[k] >> 4];
		out[uuid_pair[k] + 1] = digits[p[k] & 0xf];
	}
}

static inline uint64_t load8(const char *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return w;
}

static inline uint64_t load4(const char *p)
{
	uint32_t w;

	memcpy(&w, p, 4);
	return w;
}

/* 64x64 -> 128 multiply, halves folded (wyhash's mum) */
static inline uint64_t mum(uint64_t a, uint64_t b)
{
	unsigned __int128 r = (unsigned __int128)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

#define K1 0xa0761d6478bd642fULL
#define K2 0xe7037ed1a0b428dbULL

/* The words of s[0..n) that, with n, tell it from any other string of
 * up to 16 bytes: the string itself in two overlapping loads, or its
 * bytes spread out for n < 4; for a longer string, its last 16 bytes
 * (a filter: equal words then need a full compare). */
static inline void str_words(const char *p, size_t n, uint64_t *a, uint64_t *b)
{
	if (n >= 8) {
		*a = load8(p + (n > 16 ? n - 16 : 0));
		*b = load8(p + n - 8);
	} else if (n >= 4) {
		*a = load4(p);
		*b = load4(p + n - 4);
	} else if (n) {
		*a = (uint64_t)(unsigned char)p[0] << 16 |
		     (uint64_t)(unsigned char)p[n >> 1] << 8 |
		     (unsigned char)p[n - 1];
		*b = 0;
	} else {
		*a = *b = 0;
	}
}

/* The hash of the intern table, after wyhash: one multiply for the
 * short strings records are made of, from their words. Only the table
 * uses it; record keys are agg_hash64 (batch_key). */
static inline uint64_t str_hash(const char *p, size_t n, uint64_t a,
				uint64_t b)
{
	uint64_t h = n * K2;
	size_t i;

	for (i = 0; i + 16 < n; i += 16)
		h = mum(load8(p + i) ^ K1, load8(p + i + 8) ^ h);
	return mum(a ^ K1, b ^ h);
}

static void rehash(struct batch *b)
{
	size_t i, ns = b->nslots ? b->nslots * 2 : 256;
	struct islot *old = b->slots;
	size_t oldn = b->nslots;

	b->slots = xcalloc(ns, sizeof(*b->slots));
	b->nslots = ns;
	for (i = 0; i < oldn; i++) {
		const struct islot *o = &old[i];
		const char *p;
		size_t j;

		if (!o->id)
			continue;
		p = (const char *)b->strs.p + b->off[o->id - 1];
		j = str_hash(p, o->len, o->a, o->b) & (ns - 1);
		while (b->slots[j].id)
			j = (j + 1) & (ns - 1);
		b->slots[j] = *o;
	}
	free(old);
	memset(b->last, 0, sizeof(b->last));
}

/* 1 if the interned string e is s, whose words are a, b: the words
 * hold up to 16 bytes, or the last 16; up to 32 (dims such as
 * "region=eu-central-1") the first 16 are two more loads, no call */
static inline int same(const struct batch *b, const struct islot *e,
		       struct span s, uint64_t a, uint64_t w)
{
	const char *t;

	if (e->len != s.n || e->a != a || e->b != w)
		return 0;
	if (s.n <= 16)
		return 1;
	t = (const char *)b->strs.p + b->off[e->id - 1];
	if (s.n <= 32)
		return load8(t) == load8(s.p) && load8(t + 8) == load8(s.p + 8);
	return memcmp(t, s.p, s.n) == 0;
}

/* intern() past its first probe: probes on, adding s when new. */
static __attribute__((noinline)) const struct islot *
intern_find(struct batch *b, int col, struct span s, uint64_t a, uint64_t w)
{
	struct islot *e;
	size_t j, mask;

	if ((b->nstr + 1) * 2 > b->nslots)
		rehash(b);
	mask = b->nslots - 1;
	for (j = str_hash(s.p, s.n, a, w) & mask; b->slots[j].id;
	     j = (j + 1) & mask) {
		if (same(b, &b->slots[j], s, a, w)) {
			b->last[col] = j + 1;
			return &b->slots[j];
		}
	}
	if (b->nstr == b->ncap)
		xgrow((void **)&b->off, &b->ncap, b->nstr + 1, sizeof(*b->off));
	put_varint(&b->strs, s.n);
	b->off[b->nstr] = b->strs.n;
	put_bytes(&b->strs, s.p, s.n);
	e = &b->slots[j];
	e->a = a;
	e->b = w;
	e->len = (uint32_t)s.n;
	e->id = (uint32_t)++b->nstr;
	/* batch_key()'s tenant part, once per distinct string */
	e->seed = agg_hash64(s.p, s.n, KEY_SEED);
	b->last[col] = j + 1;
	return e;
}

/* The entry of string s in the batch's table (its index is id - 1),
 * adding it when new; col is the column it comes from. The entry is
 * valid until the next intern. The column's last string and the first
 * slot probed are tried here, the rest in intern_find. */
static inline __attribute__((always_inline)) const struct islot *
intern(struct batch *b, int col, struct span s)
{
	const struct islot *e;
	uint64_t a, w;
	size_t j;

	str_words(s.p, s.n, &a, &w);
	if (b->last[col]) {
		e = &b->slots[b->last[col] - 1];
		if (same(b, e, s, a, w))
			return e;
	}
	if (b->nslots) {
		j = str_hash(s.p, s.n, a, w) & (b->nslots - 1);
		e = &b->slots[j];
		if (e->id && same(b, e, s, a, w)) {
			b->last[col] = j + 1;
			return e;
		}
	}
	return intern_find(b, col, s, a, w);
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
	free(b->slots);
	free(b->off);
	free(b->keys);
	free(b->tmp);
	free(b);
}

void batch_reset(struct batch *b)
{
	b->strs.n = b->recs.n = 0;
	b->nstr = b->nrec = 0;
	b->last_line = 0;
	b->last_ts = 0;
	memset(b->last, 0, sizeof(b->last));
	if (b->slots)
		memset(b->slots, 0, b->nslots * sizeof(*b->slots));
}

void batch_add(struct batch *b, const struct usage_rec *r)
{
	const struct islot *te = intern(b, COL_TENANT, r->tenant);
	uint64_t seed = te->seed;
	size_t t = te->id - 1;
	size_t it = intern(b, COL_ITEM, r->item)->id - 1;
	size_t st = intern(b, COL_STATUS, r->status)->id - 1;
	size_t un = intern(b, COL_UNIT, r->unit)->id - 1;
	size_t di = intern(b, COL_DIMS, r->dims)->id - 1;
	unsigned char *p, uuid[UUID_BYTES];
	int packed = uuid_pack(r->record_id.p, r->record_id.n, uuid);
	uint64_t zz;
	int64_t d;

	if (b->recs.cap - b->head - b->recs.n < REC_FIXED + r->record_id.n)
		xgrow((void **)&b->recs.p, &b->recs.cap,
		      b->head + b->recs.n + REC_FIXED + r->record_id.n, 1);
	p = b->recs.p + b->head + b->recs.n;
	p = varint_at(p, r->line - b->last_line);
	p = varint_at(p, t);
	p = varint_at(p, it);
	/* the status index shares its varint with the packed flag: a
	 * status is one of few strings, early in the table, so the flag
	 * rarely costs a byte */
	p = varint_at(p, (uint64_t)st << 1 | (uint64_t)packed);
	p = varint_at(p, un);
	p = varint_at(p, di);
	/* wrapping difference, undone the same way when decoding */
	d = (int64_t)((uint64_t)r->ts - (uint64_t)b->last_ts);
	zz = ((uint64_t)d << 1) ^ (uint64_t)(d >> 63);
	p = varint_at(p, zz);
	p = varint_at(p, (uint64_t)r->qty);
	if (packed) {
		memcpy(p, uuid, UUID_BYTES);
		p += UUID_BYTES;
	} else {
		p = varint_at(p, r->record_id.n);
		if (r->record_id.n)
			memcpy(p, r->record_id.p, r->record_id.n);
		p += r->record_id.n;
	}
	b->recs.n = (size_t)(p - (b->recs.p + b->head));
	if (b->nrec == b->kcap)
		xgrow((void **)&b->keys, &b->kcap, b->nrec + 1,
		      sizeof(*b->keys));
	/* batch_key(), the tenant's part known from interning it */
	b->keys[b->nrec] = agg_hash64(r->record_id.p, r->record_id.n, seed);
	b->last_line = r->line;
	b->last_ts = r->ts;
	b->nrec++;
}

uint64_t batch_key(struct span tenant, struct span record_id)
{
	return agg_hash64(record_id.p, record_id.n,
			  agg_hash64(tenant.p, tenant.n, KEY_SEED));
}

/* Sorting the keys: a batch holds ~10^5 of them (a MiB), and qsort, or
 * eight LSD radix passes over all of them, would cost more than the rest
 * of encoding it. Keys are hashes, spread evenly: a split on the top byte
 * (the only pass over the whole array) and a split of each part on the
 * next byte (within the cache) leave groups of a few keys, which an
 * insertion sort finishes; a larger group (many keys alike in their top
 * 16 bits, as crafted record ids could make) goes to an LSD radix sort of
 * its other bytes, so no input costs more than O(n) passes. */

#define SMALL_GROUP 16

static void insertion_sort(uint64_t *a, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++) {
		uint64_t v = a[i];

		for (j = i; j > 0 && a[j - 1] > v; j--)
			a[j] = a[j - 1];
		a[j] = v;
	}
}

/* Sorts a[0..n) by its low `bytes` bytes (the others are equal), LSD, a
 * byte at a time, with t as scratch; the result is in a. A pass is
 * skipped when every key has the same byte there. */
static void lsd_sort(uint64_t *a, uint64_t *t, size_t n, unsigned bytes)
{
	uint32_t cnt[8][256];
	uint64_t *src = a, *dst = t, *x;
	unsigned d;
	size_t i;

	memset(cnt, 0, sizeof(cnt[0]) * bytes);
	for (i = 0; i < n; i++)
		for (d = 0; d < bytes; d++)
			cnt[d][(src[i] >> (8 * d)) & 0xff]++;
	for (d = 0; d < bytes; d++) {
		uint32_t *c = cnt[d], sum = 0;
		unsigned shift = 8 * d;

		if (c[(src[0] >> shift) & 0xff] == n)
			continue;
		for (i = 0; i < 256; i++) {
			uint32_t k = c[i];

			c[i] = sum;
			sum += k;
		}
		for (i = 0; i < n; i++)
			dst[c[(src[i] >> shift) & 0xff]++] = src[i];
		x = src;
		src = dst;
		dst = x;
	}
	if (src != a)
		memcpy(a, src, n * sizeof(*a));
}

/* Moves src[0..n) into dst[0..n) in order of the byte at `shift` (a
 * stable counting sort); bounds[k]..bounds[k + 1] is then the part with
 * byte k. */
static void split(const uint64_t *src, uint64_t *dst, size_t n,
		  unsigned shift, uint32_t bounds[257])
{
	uint32_t pos[256];
	size_t i;

	memset(bounds, 0, 257 * sizeof(*bounds));
	for (i = 0; i < n; i++)
		bounds[((src[i] >> shift) & 0xff) + 1]++;
	for (i = 0; i < 256; i++) {
		bounds[i + 1] += bounds[i];
		pos[i] = bounds[i];
	}
	for (i = 0; i < n; i++)
		dst[pos[(src[i] >> shift) & 0xff]++] = src[i];
}

/* Sorts src[0..n), whose keys share their top byte, into dst[0..n)
 * (src is left as scratch). */
static void sort_part(uint64_t *src, uint64_t *dst, size_t n)
{
	uint32_t g[257];
	size_t k;

	split(src, dst, n, 48, g);
	for (k = 0; k < 256; k++) {
		size_t lo = g[k], m = g[k + 1] - lo;

		if (m <= SMALL_GROUP)
			insertion_sort(dst + lo, m);
		else
			lsd_sort(dst + lo, src + lo, m, 6);
	}
}

void batch_keys(struct batch *b, const uint64_t **keys, size_t *n)
{
	uint32_t part[257];
	size_t k, nrec = b->nrec;

	*n = nrec;
	*keys = b->keys;
	if (nrec < 2)
		return;
	b->tmp = xrealloc(b->tmp, nrec * sizeof(*b->tmp));
	/* keys -> tmp by the top byte, then each part back into keys */
	split(b->keys, b->tmp, nrec, 56, part);
	for (k = 0; k < 256; k++) {
		size_t lo = part[k], m = part[k + 1] - lo;

		if (m <= SMALL_GROUP) {
			insertion_sort(b->tmp + lo, m);
			if (m)
				memcpy(b->keys + lo, b->tmp + lo,
				       m * sizeof(*b->keys));
		} else {
			sort_part(b->tmp + lo, b->keys + lo, m);
		}
	}
}

size_t batch_count(const struct batch *b)
{
	return b->nrec;
}

size_t batch_size(const struct batch *b)
{
	return b->strs.n + b->recs.n + 20;
}

/* Head room kept before the records for the string table: enough for
 * the tables of typical batches, so that encoding moves no records. */
#define HEAD_MIN (64u << 10)

void batch_encode(struct batch *b, const void **data, size_t *len)
{
	size_t hdr = HDR_MARK + varint_len(b->nstr) + b->strs.n +
		     varint_len(b->nrec);
	unsigned char *p;

	if (hdr > b->head || !b->recs.p) {
		/* more room: move the records once; later batches of the
		 * same batch (batch_reset keeps it) fit */
		size_t head = hdr * 2 > HEAD_MIN ? hdr * 2 : HEAD_MIN;

		xgrow((void **)&b->recs.p, &b->recs.cap, head + b->recs.n, 1);
		if (b->recs.n)
			memmove(b->recs.p + head, b->recs.p + b->head,
				b->recs.n);
		b->head = head;
	}
	*data = p = b->recs.p + b->head - hdr;
	*p++ = MARK0;
	*p++ = MARK1;
	*p++ = LAYOUT;
	p = varint_at(p, b->nstr);
	if (b->strs.n)
		memcpy(p, b->strs.p, b->strs.n);
	p = varint_at(p + b->strs.n, b->nrec);
	*len = hdr + b->recs.n;
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

/* Reads a blob's layout mark and string table from *pp, leaving *pp at
 * the record count. *strs (malloc'd, pointing into the blob) is set
 * whenever the call returns 0; -1 on a malformed blob. */
static int decode_strings(const unsigned char **pp, const unsigned char *end,
			  size_t len, struct span **strs, uint64_t *nstr,
			  int *packing)
{
	const unsigned char *p = *pp;
	uint64_t i, v;

	*packing = 0;
	if (len >= 2 && p[0] == MARK0 && p[1] == MARK1) {
		p += 2;
		if (get_varint(&p, end, &v) || v != LAYOUT)
			return -1;
		*packing = 1;
	}
	if (get_varint(&p, end, nstr) || *nstr > len)
		return -1;
	*strs = xmalloc((size_t)(*nstr ? *nstr : 1) * sizeof(**strs));
	for (i = 0; i < *nstr; i++) {
		if (get_varint(&p, end, &v) || v > (uint64_t)(end - p)) {
			free(*strs);
			*strs = NULL;
			return -1;
		}
		(*strs)[i].p = (const char *)p;
		(*strs)[i].n = (size_t)v;
		p += v;
	}
	*pp = p;
	return 0;
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
	uint64_t nstr, nrec, i;
	struct usage_rec r;
	/* the text of a packed record_id, for the callback */
	char uuid[UUID_TEXT];
	int rc = -1, packing;

	if (decode_strings(&p, end, len, &strs, &nstr, &packing))
		return -1;
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
		int k, packed = 0;

		for (k = 0; k < 8; k++)
			if (get_varint(&p, end, &f[k]))
				goto out;
		if (packing) {
			packed = (int)(f[3] & 1);
			f[3] >>= 1;
		}
		if (packed)
			f[8] = UUID_BYTES;
		else if (get_varint(&p, end, &f[8]))
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
		if (packed) {
			uuid_unpack(p, uuid);
			r.record_id.p = uuid;
			r.record_id.n = UUID_TEXT;
		} else {
			r.record_id.p = (const char *)p;
			r.record_id.n = (size_t)f[8];
		}
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
