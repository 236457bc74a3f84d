/* agg: open-addressing hash tables. */
#include "agg.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "banned.h"

uint64_t agg_hash(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* murmur3's finalizer: every input bit affects every output bit */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

uint64_t agg_hash64(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL), w;

	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ mix64(w)) * 0x9e3779b97f4a7c15ULL;
		h = (h << 29) | (h >> 35);
	}
	/* the last n < 8 bytes as memcpy would put them into a zeroed w;
	 * on a little-endian host by two loads, not a byte loop whose
	 * stores the load of w would wait on */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (n >= 4) {
		uint32_t lo, hi;

		memcpy(&lo, s, 4);
		memcpy(&hi, s + n - 4, 4);
		w = lo | (uint64_t)hi << (8 * (n - 4));
	} else if (n) {
		w = s[0] | (uint64_t)s[n >> 1] << (8 * (n >> 1)) |
		    (uint64_t)s[n - 1] << (8 * (n - 1));
	} else {
		w = 0;
	}
#else
	w = 0;
	memcpy(&w, s, n);
#endif
	h ^= mix64(w ^ n);
	return mix64(h);
}

struct agg {
	size_t keysize;
	unsigned char *keys;  /* count * keysize */
	size_t count, cap;
	/* per slot: (32-bit hash tag << 32) | (index + 1); 0 = empty. The
	 * tag spares most key comparisons on a probe. */
	uint64_t *slots;
	size_t nslots;
};

struct agg *agg_new(size_t keysize)
{
	struct agg *a = xcalloc(1, sizeof(*a));

	a->keysize = keysize;
	return a;
}

void agg_free(struct agg *a)
{
	if (!a)
		return;
	free(a->keys);
	free(a->slots);
	free(a);
}

static uint64_t key_hash(const struct agg *a, const void *key)
{
	return agg_hash64(key, a->keysize, 0x61676721);
}

static void agg_rehash(struct agg *a)
{
	size_t i, ns = a->nslots ? a->nslots * 2 : 64;

	free(a->slots);
	a->slots = xcalloc(ns, sizeof(*a->slots));
	a->nslots = ns;
	for (i = 0; i < a->count; i++) {
		uint64_t h = key_hash(a, a->keys + i * a->keysize);
		size_t j = h & (ns - 1);

		while (a->slots[j])
			j = (j + 1) & (ns - 1);
		a->slots[j] = (h >> 32 << 32) | (uint64_t)(i + 1);
	}
}

/* Key equality without a call for the small fixed sizes tables use. */
static int key_eq(const void *x, const void *y, size_t n)
{
	uint64_t a[2], b[2];

	/* constant sizes, so the copies compile to plain loads */
	if (n == 8) {
		memcpy(a, x, 8);
		memcpy(b, y, 8);
		return a[0] == b[0];
	}
	if (n == 16) {
		memcpy(a, x, 16);
		memcpy(b, y, 16);
		return a[0] == b[0] && a[1] == b[1];
	}
	return memcmp(x, y, n) == 0;
}

/* The slot holding key, or the empty slot where it would go; *h is the
 * key's hash. */
static size_t agg_slot(const struct agg *a, const void *key, uint64_t *h)
{
	uint64_t tag;
	size_t j;

	*h = key_hash(a, key);
	tag = *h >> 32 << 32;
	for (j = *h & (a->nslots - 1); a->slots[j];
	     j = (j + 1) & (a->nslots - 1)) {
		uint64_t v = a->slots[j];

		if ((v >> 32 << 32) == tag &&
		    key_eq(a->keys + ((v & 0xffffffffu) - 1) * a->keysize,
			   key, a->keysize))
			break;
	}
	return j;
}

size_t agg_put(struct agg *a, const void *key, int *added)
{
	uint64_t h;
	size_t j;

	if ((a->count + 1) * 2 > a->nslots)
		agg_rehash(a);
	j = agg_slot(a, key, &h);
	if (a->slots[j]) {
		if (added)
			*added = 0;
		return (size_t)(a->slots[j] & 0xffffffffu) - 1;
	}
	xgrow((void **)&a->keys, &a->cap, (a->count + 1) * a->keysize, 1);
	memcpy(a->keys + a->count * a->keysize, key, a->keysize);
	a->slots[j] = (h >> 32 << 32) | (uint64_t)(a->count + 1);
	if (added)
		*added = 1;
	return a->count++;
}

size_t agg_get(const struct agg *a, const void *key)
{
	uint64_t h;
	size_t j;

	if (!a->nslots)
		return (size_t)-1;
	j = agg_slot(a, key, &h);
	return a->slots[j] ? (size_t)(a->slots[j] & 0xffffffffu) - 1 :
			     (size_t)-1;
}

const void *agg_key(const struct agg *a, size_t i)
{
	return a->keys + i * a->keysize;
}

size_t agg_count(const struct agg *a)
{
	return a->count;
}

/* A strtab keeps its texts in blocks that never move (strtab_str's
 * pointers stay valid), one malloc per block rather than per string; a
 * block is at least STRTAB_BLOCK0 bytes and doubles up to
 * STRTAB_BLOCK_MAX, a longer text gets a block of its own. Each text is
 * stored as its length and id (STRTAB_HEAD bytes, unaligned), then its
 * bytes and a NUL. A slot holds a text's 64-bit hash and a pointer to
 * its bytes (NULL = empty): a probe compares the hash first, and a hit
 * then reads one place, the header beside the text (in a large table the
 * slot and the text are a cache miss each; an id array and a length array
 * would be two more). A rehash moves slots by their stored hashes without
 * reading a text. */
#define STRTAB_BLOCK0 ((size_t)4 << 10)
#define STRTAB_BLOCK_MAX ((size_t)1 << 20)
#define STRTAB_SEED 0x73747274u
#define STRTAB_HEAD (sizeof(size_t) + sizeof(uint32_t))

struct strtab_block {
	struct strtab_block *next;
	char text[];
};

struct strtab_slot {
	uint64_t hash;
	const char *text;
};

struct strtab {
	const char **strs;            /* by id */
	size_t count, cap;
	struct strtab_slot *slots;
	size_t nslots;
	struct strtab_block *blocks;  /* newest first */
	char *at;                     /* free room in the newest block */
	size_t left, blocksize;
};

struct strtab *strtab_new(void)
{
	return xcalloc(1, sizeof(struct strtab));
}

void strtab_free(struct strtab *t)
{
	struct strtab_block *b, *next;

	if (!t)
		return;
	for (b = t->blocks; b; b = next) {
		next = b->next;
		free(b);
	}
	free(t->strs);
	free(t->slots);
	free(t);
}

static size_t text_len(const char *text)
{
	size_t n;

	memcpy(&n, text - STRTAB_HEAD, sizeof(n));
	return n;
}

static uint32_t text_id(const char *text)
{
	uint32_t id;

	memcpy(&id, text - sizeof(id), sizeof(id));
	return id;
}

/* A copy of p[0..n), its header before and a NUL after, in t's blocks. */
static char *strtab_copy(struct strtab *t, const char *p, size_t n,
			 uint32_t id)
{
	size_t need = STRTAB_HEAD + n + 1;
	char *s;

	if (need > t->left) {
		size_t size;
		struct strtab_block *b;

		t->blocksize = !t->blocksize ? STRTAB_BLOCK0 :
			       t->blocksize < STRTAB_BLOCK_MAX ?
			       t->blocksize * 2 : t->blocksize;
		size = need > t->blocksize ? need : t->blocksize;
		b = xmalloc(sizeof(*b) + size);
		b->next = t->blocks;
		t->blocks = b;
		t->at = b->text;
		t->left = size;
	}
	memcpy(t->at, &n, sizeof(n));
	memcpy(t->at + sizeof(n), &id, sizeof(id));
	s = t->at + STRTAB_HEAD;
	memcpy(s, p, n);
	s[n] = '\0';
	t->at += need;
	t->left -= need;
	return s;
}

static void strtab_rehash(struct strtab *t)
{
	size_t i, ns = t->nslots ? t->nslots * 2 : 64;
	struct strtab_slot *old = t->slots;

	t->slots = xcalloc(ns, sizeof(*t->slots));
	for (i = 0; i < t->nslots; i++) {
		size_t j = old[i].hash & (ns - 1);

		if (!old[i].text)
			continue;
		while (t->slots[j].text)
			j = (j + 1) & (ns - 1);
		t->slots[j] = old[i];
	}
	free(old);
	t->nslots = ns;
}

/* The slot holding p[0..n), or the empty slot where it would go; *h is
 * its hash. */
static size_t strtab_slot(const struct strtab *t, const char *p, size_t n,
			  uint64_t *h)
{
	size_t j;

	*h = agg_hash64(p, n, STRTAB_SEED);
	for (j = *h & (t->nslots - 1); t->slots[j].text;
	     j = (j + 1) & (t->nslots - 1)) {
		const char *s = t->slots[j].text;

		if (t->slots[j].hash == *h && text_len(s) == n &&
		    memcmp(s, p, n) == 0)
			break;
	}
	return j;
}

uint32_t strtab_put(struct strtab *t, const char *p, size_t n)
{
	uint64_t h;
	size_t j;

	if ((t->count + 1) * 2 > t->nslots)
		strtab_rehash(t);
	j = strtab_slot(t, p, n, &h);
	if (t->slots[j].text)
		return text_id(t->slots[j].text);
	xgrow((void **)&t->strs, &t->cap, t->count + 1, sizeof(*t->strs));
	t->strs[t->count] = strtab_copy(t, p, n, (uint32_t)t->count);
	t->slots[j].hash = h;
	t->slots[j].text = t->strs[t->count];
	return (uint32_t)t->count++;
}

long strtab_get(const struct strtab *t, const char *p, size_t n)
{
	uint64_t h;
	size_t j;

	if (!t->nslots)
		return -1;
	j = strtab_slot(t, p, n, &h);
	return t->slots[j].text ? (long)text_id(t->slots[j].text) : -1;
}

const char *strtab_str(const struct strtab *t, uint32_t id)
{
	return t->strs[id];
}

size_t strtab_len(const struct strtab *t, uint32_t id)
{
	return text_len(t->strs[id]);
}

size_t strtab_count(const struct strtab *t)
{
	return t->count;
}
