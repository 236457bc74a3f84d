/* gen-usage: deterministic usage-log and config generator for settle.
 *
 *   gen-usage [--records N] [--files F] [--seed S] [--tenants T]
 *             [--period YYYY-MM] [--months M] [--level L] OUTDIR
 *
 * Writes OUTDIR/usage/part-00.csv.gz .. part-(F-1).csv.gz (gzip, zlib level
 * L, default 1) and OUTDIR/config/{settings.conf,items.csv,prices.csv,
 * accounts.csv,packages.csv,payments.csv} in the formats of SPEC section 3,
 * so that every generated record is accepted by that config.
 *
 * The same arguments always give byte-identical files: all randomness comes
 * from xoshiro256** streams seeded by splitmix64 from --seed (one stream per
 * usage file, one for the config).  The config depends only on --seed,
 * --tenants and --period, never on --records or --files.
 *
 * Data shape:
 *  - tenants t00001..tNNNNN; the tenant of a record is drawn from a Zipf
 *    distribution (weight 1/k), so t00001 has about 10% of the records
 *    with 10000 tenants, t00002 about 5%, and so on;
 *  - 20 billing items (calls, video seconds, characters, GB, QPS), CNY and
 *    USD; USD items only for tenants that have a USD account (t00001..t00005
 *    and every 25th tenant);
 *  - timestamps inside the billing period (timezone +08:00), written in UTC
 *    (`Z`), about half with a millisecond fraction; each file is roughly in
 *    time order (a shard of the month with a few minutes of jitter);
 *  - record_id is a UUID-shaped string whose first 64 bits are a bijection
 *    of the record's global number, so ids never repeat;
 *  - status `ok`, 1% `failed`.
 *
 * --months M (default 1) writes M consecutive months from --period, each
 * with --records records in --files files, into OUTDIR/usage/YYYY-MM/
 * part-FF.csv.gz (M = 1 keeps OUTDIR/usage/part-FF.csv.gz and the bytes
 * of the one-month mode). Record numbers, and so record ids, continue
 * across months; month m's file f uses PRNG stream m * F + f + 1. The
 * config is the one of the first month, except that with M > 1 every
 * tenant's bought package starts in the 60 days before the first month,
 * so it is valid for most of the year and runs across many periods (the
 * scale bench's "year-long packages").
 * Floating point is used only to build the Zipf table, never for values
 * that are written. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <zlib.h>

/* ---------- PRNG ---------- */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Bijective 64-bit mixer (the splitmix64 finalizer). */
static uint64_t fmix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

struct rng {
	uint64_t s[4];
};

static void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t sm = seed ^ (stream * 0xd1342543de82ef95ULL) ^ 0x5eed5e77132ULL;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&sm);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

/* Uniform in [0, n), n < 2^32. */
static uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi]. */
static uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
	uint64_t span = hi - lo + 1;
	if (span <= 0xffffffffULL)
		return lo + rng_below(r, (uint32_t)span);
	return lo + rng_next(r) % span;
}

/* ---------- small output helpers ---------- */

struct buf {
	char *p;
	size_t len, cap;
};

static void die(const char *msg, const char *arg)
{
	fprintf(stderr, "gen-usage: %s%s%s\n", msg, arg ? ": " : "",
		arg ? arg : "");
	exit(1);
}

static void buf_reserve(struct buf *b, size_t extra)
{
	if (b->len + extra <= b->cap)
		return;
	size_t ncap = b->cap ? b->cap : 4096;
	while (ncap < b->len + extra)
		ncap *= 2;
	char *np = realloc(b->p, ncap);
	if (!np)
		die("out of memory", NULL);
	b->p = np;
	b->cap = ncap;
}

static inline void put_ch(struct buf *b, char c)
{
	b->p[b->len++] = c;
}

static inline void put_mem(struct buf *b, const char *s, size_t n)
{
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static inline void put_str(struct buf *b, const char *s)
{
	put_mem(b, s, strlen(s));
}

static inline void put_u64(struct buf *b, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		b->p[b->len++] = tmp[--n];
}

/* v zero-padded to width digits. */
static inline void put_u64w(struct buf *b, uint64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		b->p[b->len + (size_t)i] = (char)('0' + v % 10);
		v /= 10;
	}
	b->len += (size_t)width;
}

static const char hexd[] = "0123456789abcdef";

static inline void put_hex(struct buf *b, uint64_t v, int digits)
{
	for (int i = digits - 1; i >= 0; i--) {
		b->p[b->len + (size_t)i] = hexd[v & 15];
		v >>= 4;
	}
	b->len += (size_t)digits;
}

/* Fixed point with `scale` decimals, trailing zeros of the fraction
 * dropped (shortest exact form). */
static void put_fixed(struct buf *b, uint64_t v, int scale)
{
	uint64_t p = 1;
	for (int i = 0; i < scale; i++)
		p *= 10;
	put_u64(b, v / p);
	uint64_t frac = v % p;
	if (!frac)
		return;
	int digits = scale;
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	put_ch(b, '.');
	put_u64w(b, frac, digits);
}

/* Money with exactly `minor` decimals (cents in, "123.45" out). */
static void put_money(struct buf *b, uint64_t minor_units, int minor)
{
	uint64_t p = 1;
	for (int i = 0; i < minor; i++)
		p *= 10;
	put_u64(b, minor_units / p);
	if (minor) {
		put_ch(b, '.');
		put_u64w(b, minor_units % p, minor);
	}
}

/* ---------- calendar ---------- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yy + (*m <= 2));
}

#define TZ_OFF (8 * 3600) /* the generated config's timezone, +08:00 */

/* "YYYY-MM-DDTHH:MM:SS" of UTC epoch seconds t (no zone). */
static void put_datetime(struct buf *b, int64_t t)
{
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t sod = t - days * 86400;
	int y, m, d;
	civil_from_days(days, &y, &m, &d);
	put_u64w(b, (uint64_t)y, 4);
	put_ch(b, '-');
	put_u64w(b, (uint64_t)m, 2);
	put_ch(b, '-');
	put_u64w(b, (uint64_t)d, 2);
	put_ch(b, 'T');
	put_u64w(b, (uint64_t)(sod / 3600), 2);
	put_ch(b, ':');
	put_u64w(b, (uint64_t)(sod / 60 % 60), 2);
	put_ch(b, ':');
	put_u64w(b, (uint64_t)(sod % 60), 2);
}

/* Local time in +08:00 of UTC epoch t, as RFC 3339 with offset. */
static void put_local(struct buf *b, int64_t t)
{
	put_datetime(b, t + TZ_OFF);
	put_str(b, "+08:00");
}

/* ---------- items ---------- */

enum qkind {
	Q_CALL,   /* 1, sometimes a small batch */
	Q_VIDEO,  /* 1..900 seconds */
	Q_LIVE,   /* 60..7200 seconds */
	Q_AUDIO,  /* 0.5..1800 seconds with milliseconds */
	Q_CHARS,  /* 20..3000 characters */
	Q_GB,     /* 0.000001..20 GB, 6 decimals */
	Q_QPS,    /* 1..60 */
	Q_GENSEC  /* 2..30 seconds of generated video */
};

enum dkind { D_NONE, D_REGION, D_VIDEO, D_VOICE, D_CLASS, D_LANG };

struct item {
	const char *code;
	const char *currency;
	const char *unit;
	int weight; /* per mille of records */
	enum qkind q;
	enum dkind d;
};

static const struct item items[] = {
	{"api_call", "CNY", "call", 255, Q_CALL, D_REGION},
	{"ocr_call", "CNY", "call", 120, Q_CALL, D_LANG},
	{"face_compare", "CNY", "call", 80, Q_CALL, D_REGION},
	{"face_detect", "CNY", "call", 80, Q_CALL, D_REGION},
	{"object_detect", "CNY", "call", 60, Q_CALL, D_NONE},
	{"image_segment", "CNY", "call", 50, Q_CALL, D_NONE},
	{"license_plate", "CNY", "call", 50, Q_CALL, D_REGION},
	{"text_moderation", "CNY", "call", 60, Q_CALL, D_LANG},
	{"image_gen", "CNY", "call", 30, Q_CALL, D_NONE},
	{"tts_char", "CNY", "char", 50, Q_CHARS, D_VOICE},
	{"asr_second", "CNY", "second", 40, Q_AUDIO, D_LANG},
	{"video_production", "CNY", "second", 30, Q_VIDEO, D_VIDEO},
	{"video_enhance", "CNY", "second", 20, Q_VIDEO, D_VIDEO},
	{"video_render", "CNY", "second", 20, Q_VIDEO, D_VIDEO},
	{"avatar_livestream", "CNY", "second", 10, Q_LIVE, D_NONE},
	{"storage_gb_day", "CNY", "GB", 20, Q_GB, D_CLASS},
	{"qps_day", "CNY", "QPS", 5, Q_QPS, D_NONE},
	{"voice_clone", "CNY", "call", 5, Q_CALL, D_NONE},
	{"image_animate", "USD", "call", 10, Q_CALL, D_NONE},
	{"text_to_video", "USD", "second", 5, Q_GENSEC, D_VIDEO},
};
#define NITEMS (sizeof items / sizeof items[0])

static const char *const regions[] = {
	"cn-shanghai", "cn-beijing", "cn-hangzhou", "cn-shenzhen",
	"ap-southeast-1"};
static const char *const langs[] = {"zh", "en", "ja", "zh-en"};
static const char *const voices[] = {"xiaoyun", "xiaogang", "ruoxi",
				      "aiqi", "stanley"};
static const unsigned fps_vals[] = {24, 30, 60, 120};
static const unsigned height_vals[] = {720, 1080, 1440, 2160};

static int has_usd(uint64_t k)
{
	return k <= 5 || k % 25 == 0;
}

/* ---------- generation state ---------- */

struct gen {
	uint64_t records, files, seed, tenants, months;
	int year, month, level;
	int tw;            /* digits of tenant numbers */
	int64_t start;     /* UTC epoch of the period's first instant */
	int64_t span;      /* seconds in the period */
	char mdir[16];      /* YYYY-MM of the month being written (--months) */
	uint64_t *cdf;     /* Zipf CDF scaled to 2^53, tenants entries */
	uint32_t *guide;   /* first CDF index per top 16 bits */
	uint8_t lut_all[1000], lut_cny[1000];
	const char *outdir;
};

static void build_tables(struct gen *g)
{
	uint64_t t = g->tenants;
	g->cdf = malloc(t * sizeof *g->cdf);
	g->guide = malloc(65537 * sizeof *g->guide);
	if (!g->cdf || !g->guide)
		die("out of memory", NULL);
	double h = 0;
	for (uint64_t k = 1; k <= t; k++)
		h += 1.0 / (double)k;
	double acc = 0;
	const double scale = 9007199254740992.0; /* 2^53 */
	for (uint64_t k = 1; k <= t; k++) {
		acc += 1.0 / (double)k;
		double c = acc / h * scale;
		g->cdf[k - 1] = c >= scale ? (uint64_t)1 << 53 : (uint64_t)c;
	}
	g->cdf[t - 1] = (uint64_t)1 << 53;
	/* guide[j]: first index i with cdf[i] > j << 37 */
	uint64_t i = 0;
	for (uint64_t j = 0; j <= 65536; j++) {
		uint64_t u = j << 37;
		while (i < t - 1 && g->cdf[i] <= u)
			i++;
		g->guide[j] = (uint32_t)i;
	}

	int pos = 0, pos2 = 0, wcny = 0;
	for (size_t k = 0; k < NITEMS; k++) {
		for (int w = 0; w < items[k].weight; w++)
			g->lut_all[pos++] = (uint8_t)k;
		if (!strcmp(items[k].currency, "CNY"))
			wcny += items[k].weight;
	}
	if (pos != 1000)
		die("item weights must sum to 1000", NULL);
	/* CNY-only table: the same proportions among CNY items */
	for (size_t k = 0; k < NITEMS; k++) {
		if (strcmp(items[k].currency, "CNY"))
			continue;
		int n = items[k].weight * 1000 / wcny;
		for (int w = 0; w < n && pos2 < 1000; w++)
			g->lut_cny[pos2++] = (uint8_t)k;
	}
	while (pos2 < 1000)
		g->lut_cny[pos2++] = 0; /* rounding leftovers: api_call */
}

static uint64_t sample_tenant(const struct gen *g, uint64_t r)
{
	uint64_t u = r >> 11; /* 53 bits */
	uint64_t i = g->guide[u >> 37];
	while (g->cdf[i] <= u)
		i++;
	return i + 1;
}

static void put_tenant(struct buf *b, const struct gen *g, uint64_t k)
{
	put_ch(b, 't');
	put_u64w(b, k, g->tw);
}

/* ---------- usage files ---------- */

static void gen_record(struct buf *b, const struct gen *g, struct rng *r,
		       uint64_t gidx, int64_t ts)
{
	uint64_t k = sample_tenant(g, rng_next(r));
	uint32_t x = rng_below(r, 1000);
	const struct item *it = &items[has_usd(k) ? g->lut_all[x] :
						    g->lut_cny[x]];

	/* record_id: UUID-shaped; the first 64 bits are a bijection of the
	 * global record number, so ids are unique across all files. */
	uint64_t hi = fmix64(gidx + g->seed * 0x9e3779b97f4a7c15ULL);
	uint64_t lo = fmix64(hi ^ 0x6a09e667f3bcc909ULL);
	put_hex(b, hi >> 32, 8);
	put_ch(b, '-');
	put_hex(b, (hi >> 16) & 0xffff, 4);
	put_ch(b, '-');
	put_hex(b, hi & 0xffff, 4);
	put_ch(b, '-');
	put_hex(b, lo >> 48, 4);
	put_ch(b, '-');
	put_hex(b, lo & 0xffffffffffffULL, 12);
	put_ch(b, ',');

	put_tenant(b, g, k);
	put_ch(b, ',');
	put_str(b, it->code);
	put_ch(b, ',');

	uint64_t rr = rng_next(r);
	put_datetime(b, ts);
	if (rr & 1) {
		put_ch(b, '.');
		put_u64w(b, (rr >> 1) % 1000, 3);
	}
	put_ch(b, 'Z');
	put_ch(b, ',');
	rr >>= 11;

	switch (it->q) {
	case Q_CALL:
		if (rr % 100 < 85)
			put_ch(b, '1');
		else
			put_u64(b, 2 + (rr >> 8) % 19);
		break;
	case Q_VIDEO:
		put_u64(b, 1 + rr % 900);
		break;
	case Q_LIVE:
		put_u64(b, 60 + rr % 7141);
		break;
	case Q_AUDIO:
		put_fixed(b, 500 + rr % 1799501, 3);
		break;
	case Q_CHARS:
		put_u64(b, 20 + rr % 2981);
		break;
	case Q_GB:
		put_fixed(b, 1 + rr % 20000000, 6);
		break;
	case Q_QPS:
		put_u64(b, 1 + rr % 60);
		break;
	case Q_GENSEC:
		put_u64(b, 2 + rr % 29);
		break;
	}
	put_ch(b, ',');

	uint32_t st = rng_below(r, 1000);
	put_str(b, st < 10 ? "failed" : "ok");
	put_ch(b, ',');

	uint64_t dr = rng_next(r);
	switch (it->d) {
	case D_NONE:
		break;
	case D_REGION:
		put_str(b, "region=");
		put_str(b, regions[dr % 5]);
		break;
	case D_LANG:
		put_str(b, "lang=");
		put_str(b, langs[dr % 4]);
		break;
	case D_VOICE:
		put_str(b, "voice=");
		put_str(b, voices[dr % 5]);
		break;
	case D_CLASS:
		put_str(b, dr % 4 ? "class=standard" : "class=archive");
		break;
	case D_VIDEO:
		put_str(b, "fps=");
		put_u64(b, fps_vals[dr & 3]);
		put_str(b, ";height=");
		put_u64(b, height_vals[(dr >> 2) & 3]);
		break;
	}
	put_ch(b, ',');
	put_str(b, it->unit);
	put_ch(b, '\n');
}

#define FLUSH_AT (1u << 20)

static void gz_put(gzFile f, const char *path, struct buf *b)
{
	if (b->len && gzwrite(f, b->p, (unsigned)b->len) != (int)b->len) {
		int e;
		const char *m = gzerror(f, &e);
		die(e == Z_ERRNO ? strerror(errno) : m, path);
	}
	b->len = 0;
}

static uint64_t gen_file(const struct gen *g, uint64_t f, uint64_t first,
			 uint64_t n)
{
	char path[4096];
	/* f is month * files + file */
	if (g->months > 1)
		snprintf(path, sizeof path, "%s/usage/%s/part-%02llu.csv.gz",
			 g->outdir, g->mdir, (unsigned long long)(f % g->files));
	else
		snprintf(path, sizeof path, "%s/usage/part-%02llu.csv.gz",
			 g->outdir, (unsigned long long)f);
	char mode[8];
	snprintf(mode, sizeof mode, "wb%d", g->level);
	gzFile gz = gzopen(path, mode);
	if (!gz)
		die("cannot create", path);
	gzbuffer(gz, 1u << 20);

	struct buf b = {0};
	buf_reserve(&b, FLUSH_AT + 4096);
	put_str(&b, "record_id,tenant_id,item,ts,quantity,status,dims,unit\n");
	uint64_t raw = 0;

	struct rng r;
	rng_seed(&r, g->seed, f + 1);
	for (uint64_t i = 0; i < n; i++) {
		/* shard of the month in time order, +-5 minutes of jitter */
		int64_t ts = g->start + (int64_t)((i * (uint64_t)g->span) / n);
		ts += (int64_t)rng_below(&r, 601) - 300;
		if (ts < g->start)
			ts = g->start;
		if (ts >= g->start + g->span)
			ts = g->start + g->span - 1;
		gen_record(&b, g, &r, first + i, ts);
		if (b.len >= FLUSH_AT) {
			raw += b.len;
			gz_put(gz, path, &b);
		}
	}
	raw += b.len;
	gz_put(gz, path, &b);
	int rc = gzclose(gz);
	if (rc != Z_OK)
		die("cannot write", path);
	free(b.p);
	return raw;
}

/* ---------- config ---------- */

static void write_file(const struct gen *g, const char *name,
		       const struct buf *b)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/config/%s", g->outdir, name);
	FILE *fp = fopen(path, "wb");
	if (!fp)
		die(strerror(errno), path);
	if (fwrite(b->p, 1, b->len, fp) != b->len || fclose(fp) != 0)
		die("cannot write", path);
}

static void gen_settings(const struct gen *g)
{
	struct buf b = {0};
	buf_reserve(&b, 1024);
	put_str(&b, "# generated by gen-usage\n"
		    "timezone = +08:00      # Beijing time bounds the periods\n"
		    "invoice_prefix = INV\n"
		    "rounding = half_up\n"
		    "alert_pct = 20         # alert at 20% of a package left\n");
	write_file(g, "settings.conf", &b);
	free(b.p);
}

static void gen_items(const struct gen *g)
{
	struct buf b = {0};
	buf_reserve(&b, 1u << 16);
	put_str(&b, "item,currency,model,block_size,usage_unit,price_unit,"
		    "unit_ratio,record_round,record_round_mode,tier_basis,"
		    "tier_bound\n");
	for (size_t k = 0; k < NITEMS; k++) {
		const struct item *it = &items[k];
		const char *code = it->code;
		put_str(&b, code);
		put_ch(&b, ',');
		put_str(&b, it->currency);
		put_ch(&b, ',');
		if (!strcmp(code, "tts_char")) {
			/* 2.00 per started block of 10000 characters */
			put_str(&b, "package,10000,char,char,,,,,\n");
		} else if (!strcmp(code, "image_animate")) {
			/* SPEC example 4 */
			put_str(&b, "volume,,call,call,,,,total,lower\n");
		} else if (!strcmp(code, "video_enhance")) {
			/* seconds billed per minute, exact to 6 decimals:
			 * SPEC example 2 (140 s at 60 fps, 1080p: 37.33) */
			put_str(&b, "graduated,,second,minute,60,,,,\n");
		} else if (it->q == Q_VIDEO || it->q == Q_LIVE) {
			/* seconds billed per minute at 2 decimals, like the
			 * MetaStudio price book (SPEC example 5) */
			put_str(&b, "graduated,,second,minute,60,2,");
			put_str(&b, it->q == Q_LIVE ? "up" : "half_up");
			put_str(&b, ",,\n");
		} else if (it->q == Q_AUDIO) {
			put_str(&b, "graduated,,second,minute,60,,,,\n");
		} else if (!strcmp(code, "api_call")) {
			/* tiers reached by the covered calls count */
			put_str(&b, "graduated,,call,,,,,total,\n");
		} else {
			put_str(&b, ",,");
			put_str(&b, it->unit);
			put_str(&b, ",,,,,,\n");
		}
	}
	write_file(g, "items.csv", &b);
	free(b.p);
}

/* One price row: item, filter (quoted when it holds a comma), tier, price,
 * flat fee. */
static void price_row(struct buf *b, const char *item, const char *filter,
		      const char *from, const char *to, const char *price,
		      const char *flat)
{
	buf_reserve(b, 512);
	put_str(b, item);
	put_ch(b, ',');
	if (strchr(filter, ',')) {
		put_ch(b, '"');
		put_str(b, filter);
		put_ch(b, '"');
	} else {
		put_str(b, filter);
	}
	put_ch(b, ',');
	put_str(b, from);
	put_ch(b, ',');
	put_str(b, to);
	put_ch(b, ',');
	put_str(b, price);
	put_ch(b, ',');
	put_str(b, flat);
	put_ch(b, '\n');
}

/* Graduated tiers from a list "0-10000:0.15 10000-100000:0.10 100000-:0.02" */
static void price_tiers(struct buf *b, const char *item, const char *filter,
			const char *spec)
{
	char tmp[512];
	snprintf(tmp, sizeof tmp, "%s", spec);
	char *save = NULL;
	for (char *tok = strtok_r(tmp, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		char *colon = strchr(tok, ':');
		char *dash = strchr(tok, '-');
		if (!colon || !dash || dash > colon)
			die("bad built-in tier spec", spec);
		*colon = 0;
		*dash = 0;
		price_row(b, item, filter, tok, dash + 1, colon + 1, "");
	}
}

static void gen_prices(const struct gen *g)
{
	struct buf b = {0};
	buf_reserve(&b, 1u << 16);
	put_str(&b, "item,filter,tier_from,tier_to,unit_price,flat_fee\n");
	/* SPEC example 1 */
	const char *ex1 = "0-10000:0.15 10000-100000:0.10 "
			  "100000-1000000:0.06 1000000-:0.02";
	price_tiers(&b, "api_call", "", ex1);
	price_tiers(&b, "ocr_call", "",
		    "0-50000:0.01 50000-500000:0.008 500000-:0.005");
	price_tiers(&b, "face_compare", "",
		    "0-10000:0.015 10000-100000:0.012 100000-:0.008");
	price_tiers(&b, "face_detect", "",
		    "0-10000:0.01 10000-100000:0.008 100000-:0.006");
	price_tiers(&b, "object_detect", "",
		    "0-10000:0.01 10000-100000:0.008 100000-:0.005");
	price_tiers(&b, "image_segment", "",
		    "0-10000:0.02 10000-100000:0.015 100000-:0.01");
	price_tiers(&b, "license_plate", "", ex1);
	price_tiers(&b, "text_moderation", "",
		    "0-100000:0.0025 100000-1000000:0.002 1000000-:0.0015");
	price_tiers(&b, "image_gen", "", "0-1000:0.20 1000-:0.16");
	price_row(&b, "tts_char", "", "0", "", "2.00", "");
	price_tiers(&b, "asr_second", "", "0-1000:0.02 1000-:0.015");
	/* SPEC example 2: per-minute matrix by frame rate and height */
	static const char *const fps_f[3] = {"fps=(,30]", "fps=(30,60]",
					     "fps=(60,120]"};
	static const char *const h_f[3] = {"height=(,720]", "height=(720,1440]",
					   "height=(1440,2160]"};
	static const char *const mat[3][3] = {
		{"4.00", "8.00", "24.00"},
		{"8.00", "16.00", "48.00"},
		{"16.00", "32.00", "96.00"}};
	static const char *const vids[2] = {"video_production", "video_enhance"};
	for (int v = 0; v < 2; v++)
		for (int i = 0; i < 3; i++)
			for (int j = 0; j < 3; j++) {
				char f[128];
				snprintf(f, sizeof f, "%s;%s", fps_f[i], h_f[j]);
				price_row(&b, vids[v], f, "0", "", mat[i][j], "");
			}
	/* render: 4K costs more, everything else one graduated group */
	price_tiers(&b, "video_render", "height=2160",
		    "0-600:3.00 600-:2.40");
	price_tiers(&b, "video_render", "",
		    "0-600:1.20 600-6000:1.00 6000-:0.80");
	price_row(&b, "avatar_livestream", "", "0", "", "0.30", "");
	price_row(&b, "storage_gb_day", "class=archive", "0", "", "0.0005",
		  "");
	price_tiers(&b, "storage_gb_day", "", "0-150:0 150-:0.0045");
	/* SPEC example 6 */
	price_tiers(&b, "qps_day", "",
		    "0-10:12.8 10-50:10.8 50-100:9.8 100-:9.0");
	price_row(&b, "voice_clone", "", "0", "", "9.90", "");
	/* SPEC example 4: volume tiers, tier_bound lower */
	price_tiers(&b, "image_animate", "",
		    "0-100:4.8 100-1000:4.2 1000-10000:3.8 10000-:3.5");
	price_tiers(&b, "text_to_video", "height=2160", "0-:0.12");
	price_row(&b, "text_to_video", "", "0", "", "0.05", "2.00");
	write_file(g, "prices.csv", &b);
	free(b.p);
}

static const char *const name_a[] = {
	"Blue", "Golden", "Silver", "Red", "Green", "Bright", "Swift", "Clear",
	"Nova", "Summit", "River", "Harbor", "Maple", "Cedar", "Jade", "Pearl"};
static const char *const name_b[] = {
	"Vision", "Media", "Retail", "Logistics", "Health", "Finance",
	"Education", "Games", "Travel", "Security", "Studio", "Motors",
	"Foods", "Energy", "Cloud", "Robotics"};
static const char *const name_c[] = {"Co. Ltd", "Inc", "Group", "Labs",
				     "Tech", "Holdings", "Partners", "Ltd"};

static void gen_accounts(const struct gen *g)
{
	struct rng r;
	rng_seed(&r, g->seed, 0xacc0);
	struct buf b = {0};
	buf_reserve(&b, 256);
	put_str(&b, "tenant_id,currency,name,opening_balance,postpaid,"
		    "grace_days,retention_days\n");
	for (uint64_t k = 1; k <= g->tenants; k++) {
		buf_reserve(&b, 512);
		uint64_t x = rng_next(&r);
		const char *a = name_a[x & 15], *n = name_b[(x >> 4) & 15];
		const char *c = name_c[(x >> 8) & 7];
		/* CNY account */
		put_tenant(&b, g, k);
		put_str(&b, ",CNY,");
		put_str(&b, a);
		put_ch(&b, ' ');
		put_str(&b, n);
		put_ch(&b, ' ');
		put_str(&b, c);
		put_ch(&b, ',');
		uint32_t kind = rng_below(&r, 100);
		if (kind < 70)
			put_money(&b, rng_range(&r, 0, 2000000), 2);
		else if (kind < 90) {
			/* empty: 0 */
		} else if (kind < 98)
			put_money(&b, rng_range(&r, 10000000, 50000000), 2);
		else {
			put_ch(&b, '-');
			put_money(&b, rng_range(&r, 1, 500) * 50, 2);
		}
		put_ch(&b, ',');
		/* the ten biggest tenants are always postpaid */
		if (k > 10 && rng_below(&r, 100) < 2)
			put_str(&b, "no");
		else if (rng_below(&r, 2))
			put_str(&b, "yes");
		put_ch(&b, ',');
		uint32_t gd = rng_below(&r, 100);
		if (gd < 10)
			put_str(&b, "7");
		else if (gd < 15)
			put_str(&b, "30");
		put_ch(&b, ',');
		if (rng_below(&r, 100) < 5)
			put_str(&b, "30");
		put_ch(&b, '\n');
		if (has_usd(k)) {
			put_tenant(&b, g, k);
			put_str(&b, ",USD,");
			put_str(&b, a);
			put_ch(&b, ' ');
			put_str(&b, n);
			put_str(&b, " International,");
			put_money(&b, rng_range(&r, 0, 500000), 2);
			put_str(&b, ",yes,,\n");
		}
	}
	write_file(g, "accounts.csv", &b);
	free(b.p);
}

static void pkg_row(struct buf *b, const struct gen *g, const char *kind,
		    uint64_t k, int n, const char *its, const char *quota,
		    const char *unit_cost, const char *prio, int64_t from,
		    int64_t to, int64_t bought, const char *overflow)
{
	buf_reserve(b, 512);
	put_str(b, kind);
	put_ch(b, '-');
	put_tenant(b, g, k);
	put_ch(b, '-');
	put_u64(b, (uint64_t)n);
	put_ch(b, ',');
	put_tenant(b, g, k);
	put_ch(b, ',');
	put_str(b, its);
	put_ch(b, ',');
	put_str(b, quota);
	put_ch(b, ',');
	put_str(b, unit_cost);
	put_ch(b, ',');
	put_str(b, prio);
	put_ch(b, ',');
	put_local(b, from);
	put_ch(b, ',');
	put_local(b, to);
	put_ch(b, ',');
	if (bought != from)
		put_local(b, bought);
	put_ch(b, ',');
	put_str(b, overflow);
	put_ch(b, '\n');
}

static void gen_packages(const struct gen *g)
{
	struct rng r;
	rng_seed(&r, g->seed, 0xbacc);
	struct buf b = {0};
	buf_reserve(&b, 256);
	put_str(&b, "package_id,tenant_id,items,quota,unit_cost,priority,"
		    "valid_from,valid_to,purchased_at,overflow\n");
	const int64_t day = 86400, ps = g->start, pe = g->start + g->span;
	static const char *const pts_q[] = {"5000", "10000", "50000",
					    "500000"};
	static const char *const min_q[] = {"60", "600", "3000"};
	for (uint64_t k = 1; k <= g->tenants; k++) {
		if (k % 10 != 1)
			continue;
		int n = 1;
		/* free tier for the month, consumed first */
		pkg_row(&b, g, "free", k, n++, "api_call;ocr_call", "1000", "",
			"0", ps, pe, ps, "");
		uint32_t kind = rng_below(&r, 100);
		/* bought some time in the last 400 days, valid one year: a few
		 * expired before the period, a few expire inside it */
		int64_t from = ps - (int64_t)rng_range(&r, 0, 400) * day;
		if (g->months > 1) /* year-long: valid across the months */
			from = ps - (from - ps + 400 * day) % (61 * day);
		int64_t to = from + 365 * day;
		int64_t bought = from - (int64_t)rng_range(&r, 0, 3) * 3600;
		if (kind < 50 || k == 1) {
			pkg_row(&b, g, "pts", k, n++, "*",
				pts_q[rng_below(&r, 4)], "0.2", "30", from, to,
				bought, "");
		} else if (kind < 80) {
			pkg_row(&b, g, "min", k, n++,
				"video_production;video_enhance",
				min_q[rng_below(&r, 3)], "", "20", from, to,
				bought, "forgive");
		} else {
			pkg_row(&b, g, "ocr", k, n++, "ocr_call", "100000", "",
				"20", from, to, bought, "split");
		}
		if (k == 1) {
			/* a second points package of the same priority that
			 * expires later: used after the first one */
			pkg_row(&b, g, "pts", k, n++, "*", "500000", "0.2", "30",
				ps - 10 * day, ps + 355 * day,
				ps - 10 * day, "");
			pkg_row(&b, g, "min", k, n++,
				"video_production;video_enhance", "600", "", "20",
				ps - 30 * day, ps + 335 * day, ps - 30 * day,
				"forgive");
		}
		if (k % 1000 == 1)
			/* unlimited monthly subscription (prepaid QPS) */
			pkg_row(&b, g, "sub", k, n++, "face_compare;face_detect",
				"", "", "10", ps, pe, ps - day, "");
	}
	write_file(g, "packages.csv", &b);
	free(b.p);
}

static void gen_payments(const struct gen *g)
{
	struct rng r;
	rng_seed(&r, g->seed, 0xfa1d);
	struct buf b = {0};
	buf_reserve(&b, 256);
	put_str(&b, "payment_id,tenant_id,currency,amount,ts\n");
	uint64_t n = 0;
	for (uint64_t k = 1; k <= g->tenants; k++) {
		if (!(k == 2 || k % 97 == 5))
			continue;
		int64_t ts = g->start - 20 * 86400 +
			     (int64_t)rng_range(&r, 0, (uint64_t)g->span);
		buf_reserve(&b, 256);
		put_str(&b, "pay-");
		put_u64w(&b, ++n, 6);
		put_ch(&b, ',');
		put_tenant(&b, g, k);
		put_str(&b, ",CNY,");
		put_money(&b, rng_range(&r, 1000, 50000) * 100 +
				      rng_below(&r, 2) * rng_below(&r, 100),
			  2);
		put_ch(&b, ',');
		put_local(&b, ts);
		put_ch(&b, '\n');
		if (has_usd(k)) {
			put_str(&b, "pay-");
			put_u64w(&b, ++n, 6);
			put_ch(&b, ',');
			put_tenant(&b, g, k);
			put_str(&b, ",USD,");
			put_money(&b, rng_range(&r, 100, 5000) * 100, 2);
			put_ch(&b, ',');
			put_local(&b, ts + 3600);
			put_ch(&b, '\n');
		}
	}
	write_file(g, "payments.csv", &b);
	free(b.p);
}

/* ---------- main ---------- */

/* Point g's period (start, span, mdir) at month mo of year y. */
static void set_month(struct gen *g, int y, int mo)
{
	int64_t d0 = days_from_civil(y, (unsigned)mo, 1);
	int64_t d1 = mo == 12 ? days_from_civil(y + 1, 1, 1) :
				days_from_civil(y, (unsigned)mo + 1, 1);
	g->start = d0 * 86400 - TZ_OFF;
	g->span = (d1 - d0) * 86400;
	snprintf(g->mdir, sizeof g->mdir, "%04d-%02d", y % 10000, mo % 100);
}

static void usage(void)
{
	fputs("usage: gen-usage [--records N] [--files F] [--seed S] "
	      "[--tenants T] [--period YYYY-MM] [--months M] [--level L] "
	      "OUTDIR\n",
	      stderr);
	exit(2);
}

static uint64_t parse_u64(const char *opt, const char *s, uint64_t lo,
			  uint64_t hi)
{
	char *end;
	errno = 0;
	if (!s || !*s || *s < '0' || *s > '9')
		die("bad number for", opt);
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		die("bad number for", opt);
	return v;
}

static void mkdir_p(const char *path)
{
	char tmp[4096];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof tmp)
		die("bad directory", path);
	memcpy(tmp, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (tmp[i] == '/' || tmp[i] == 0) {
			char c = tmp[i];
			tmp[i] = 0;
			if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
				die(strerror(errno), tmp);
			tmp[i] = c;
		}
	}
}

int main(int argc, char **argv)
{
	struct gen g = {.records = 1000000, .files = 10, .seed = 1,
			.tenants = 10000, .months = 1, .year = 2026,
			.month = 10, .level = 1};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--records"))
			g.records = parse_u64(a, v, 0, (uint64_t)1 << 40), i++;
		else if (!strcmp(a, "--files"))
			g.files = parse_u64(a, v, 1, 10000), i++;
		else if (!strcmp(a, "--seed"))
			g.seed = parse_u64(a, v, 0, UINT64_MAX), i++;
		else if (!strcmp(a, "--tenants"))
			g.tenants = parse_u64(a, v, 1, 99999999), i++;
		else if (!strcmp(a, "--months"))
			g.months = parse_u64(a, v, 1, 120), i++;
		else if (!strcmp(a, "--level"))
			g.level = (int)parse_u64(a, v, 0, 9), i++;
		else if (!strcmp(a, "--period")) {
			if (!v || strlen(v) != 7 || v[4] != '-')
				die("bad --period (want YYYY-MM)", v);
			char y[5] = {v[0], v[1], v[2], v[3], 0};
			char m[3] = {v[5], v[6], 0};
			g.year = (int)parse_u64(a, y, 1971, 9998);
			g.month = (int)parse_u64(a, m, 1, 12);
			i++;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h"))
			usage();
		else if (a[0] == '-' && a[1])
			die("unknown option", a);
		else if (!g.outdir)
			g.outdir = a;
		else
			usage();
	}
	if (!g.outdir)
		usage();

	g.tw = 5;
	for (uint64_t t = g.tenants; t >= 100000; t /= 10)
		g.tw++;
	set_month(&g, g.year, g.month);
	build_tables(&g);

	char dir[4096];
	snprintf(dir, sizeof dir, "%s/usage", g.outdir);
	mkdir_p(dir);
	snprintf(dir, sizeof dir, "%s/config", g.outdir);
	mkdir_p(dir);

	gen_settings(&g);
	gen_items(&g);
	gen_prices(&g);
	gen_accounts(&g);
	gen_packages(&g);
	gen_payments(&g);

	uint64_t raw = 0, first = 0;
	int y = g.year, mo = g.month;
	for (uint64_t m = 0; m < g.months; m++) {
		set_month(&g, y, mo);
		if (g.months > 1) {
			snprintf(dir, sizeof dir, "%s/usage/%s", g.outdir,
				 g.mdir);
			mkdir_p(dir);
		}
		for (uint64_t f = 0; f < g.files; f++) {
			uint64_t n = g.records / g.files +
				     (f < g.records % g.files);
			raw += gen_file(&g, m * g.files + f, first, n);
			first += n;
		}
		if (++mo > 12)
			mo = 1, y++;
	}
	fprintf(stderr,
		"gen-usage: %llu records in %llu files, %llu bytes of CSV "
		"(%.1f bytes/record), %llu tenants, period %04d-%02d%s\n",
		(unsigned long long)(g.records * g.months),
		(unsigned long long)(g.files * g.months),
		(unsigned long long)raw,
		g.records ? (double)raw / (double)(g.records * g.months) : 0.0,
		(unsigned long long)g.tenants, g.year, g.month,
		g.months > 1 ? " and the months after it" : "");
	free(g.cdf);
	free(g.guide);
	return 0;
}
