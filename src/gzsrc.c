/* gzsrc: the text of one usage file, plain or gzip (gzsrc.h). The chunk
 * ring, the raw reading and the producer thread it runs the inflater on
 * are gzsrc_ring.c's, zlib's inflater and its access points are
 * gzsrc_zlib.c's (gzsrc_int.h); here: the API, plain files, and which
 * inflater runs.
 *
 * Choices made where the SPEC and gzsrc.h leave room:
 * - An empty file (0 raw bytes) fails here; gzip that inflates to 0
 *   bytes is the reader's to fail (it sees no text).
 * - igzip never fails a read: on anything but a member it checked whole
 *   it gives up (ESCALATE), and zlib re-inflates from that member's first
 *   byte (its offset and the text before it are exact at a member
 *   boundary), inflating silently the text already published. */
#include "gzsrc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <zlib.h>

#include "gzsrc_int.h"
#include "mem.h"
#include "sha256.h"
#include "banned.h"


/* Fails the read on the consumer's side: e filled, nothing more handed
 * over. */
static int src_fail(struct gzsrc *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int src_fail(struct gzsrc *s, const char *fmt, ...)
{
	char buf[sizeof(s->e->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	err_set(s->e, ST_ERROR, "%s", buf);
	s->failed = 1;
	return -1;
}

static int read_fail(struct gzsrc *s)
{
	return src_fail(s, "cannot read '%s': %s", s->path, strerror(errno));
}

static int read_plain(struct gzsrc *s, size_t avail)
{
	unsigned char *in = s->raw;
	ssize_t n;

	if (avail && gzsrc_hand(s, in, avail, s->raw_read))
		return -1;
	for (;;) {
		avail = 0;
		n = gzsrc_raw_more(s, &in, &avail);
		if (n < 0)
			return read_fail(s);
		if (n == 0)
			return 0;
		if (gzsrc_hand(s, in, avail, s->raw_read))
			return -1;
	}
}


/* Inflates the whole file: with igzip where it is used, zlib going on
 * from a member igzip gave up; else with zlib. Returns as inflate_zlib. */
static int inflate_all(struct gzsrc *s, size_t avail)
{
#ifdef SETTLE_ISAL
	int members = 0, rc;
	unsigned char *in;

	if (gzsrc_inflate_used(s) == GZSRC_INFLATE_ISAL) {
		rc = gzsrc_isal_inflate(s, avail, &members);
		if (rc != ESCALATE)
			return rc;
		if (gzsrc_isal_rewind(s, &in, &avail))
			return -1;
		return gzsrc_inflate_zlib(s, in, avail, members);
	}
#endif
	return gzsrc_inflate_zlib(s, s->raw, avail, 0);
}

/* The producer of a read: a resumed one (gzindex.c), or the whole file. */
static int produce(struct gzsrc *s, size_t avail)
{
	return s->rp ? gzindex_inflate(s, avail) : inflate_all(s, avail);
}

/* Reads gzip: inflating on a producer thread while consuming on this
 * one, or on this one alone when no thread can be had. Either way the
 * text is handed over in the same chunks with the same counts, and a
 * failure of the gzip is reported after the text inflated before it has
 * been consumed. */
static int read_gzip(struct gzsrc *s, size_t avail)
{
	int rc = gzsrc_ring_run(s, avail, produce);

	if (s->stopped || s->failed)
		return -1;
	if (rc)
		return src_fail(s, "%s", s->perr.msg);
	return 0;
}

int gzsrc_open_regular(const char *path, struct err *e)
{
	struct stat st;
	int fd, fl;

	/* O_NONBLOCK keeps open from waiting for a writer when path is a
	 * FIFO; it is refused below */
	do
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		err_set(e, ST_ERROR, "cannot open '%s': %s", path,
			strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		err_set(e, ST_ERROR, "cannot read '%s': %s", path,
			strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		err_set(e, ST_ERROR, "cannot read '%s': is a directory", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(e, ST_ERROR, "cannot read '%s': not a regular file",
			path);
		goto fail;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		err_set(e, ST_ERROR, "cannot read '%s': %s", path,
			strerror(errno));
		goto fail;
	}
	/* read once, front to back: a larger read-ahead; only a hint */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return fd;
fail:
	close(fd);
	return -1;
}

static struct gzsrc *src_new(const char *path, int fd,
			     const struct gzsrc_limits *lim)
{
	static const struct gzsrc_limits def = GZSRC_LIMITS_DEFAULT;
	struct gzsrc *s = xcalloc(1, sizeof(*s));

	s->path = xstrdup(path);
	s->fd = fd;
	s->lim = lim ? *lim : def;
	s->read_size = READ_SIZE;
	return s;
}

struct gzsrc *gzsrc_open(const char *path, const struct gzsrc_limits *lim,
			 struct err *e)
{
	int fd = gzsrc_open_regular(path, e);

	return fd < 0 ? NULL : src_new(path, fd, lim);
}

struct gzsrc *gzsrc_open_fd(int fd, const char *path,
			    const struct gzsrc_limits *lim)
{
	return src_new(path, fd, lim);
}

void gzsrc_hash(struct gzsrc *s)
{
	if (!s->md) {
		s->md = xmalloc(sizeof(*s->md));
		sha256_init(s->md);
	}
}

int gzsrc_digest(struct gzsrc *s, unsigned char sha[32], uint64_t *raw)
{
	if (!s->md)
		return -1;
	sha256_final(s->md, sha);
	free(s->md);
	s->md = NULL;
	*raw = s->raw_read;
	return 0;
}

struct gzsrc *gzsrc_open_mem(const void *data, size_t n, const char *name,
			     const struct gzsrc_limits *lim)
{
	struct gzsrc *s = src_new(name, -1, lim);

	s->mem = n ? data : (const unsigned char *)"";
	s->mem_len = n;
	return s;
}

int gzsrc_have_isal(void)
{
#ifdef SETTLE_ISAL
	return 1;
#else
	return 0;
#endif
}

int gzsrc_inflate_parse(const char *v, enum gzsrc_inflate *out,
			struct err *e)
{
	char show[24];
	size_t i;

	*out = GZSRC_INFLATE_DEFAULT;
	if (!v || !*v || strcmp(v, "auto") == 0)
		return 0;
	if (strcmp(v, "zlib") == 0) {
		*out = GZSRC_INFLATE_ZLIB;
		return 0;
	}
	if (strcmp(v, "isal") == 0) {
		if (!gzsrc_have_isal())
			return err_set(e, ST_ERROR,
				       "%s=isal, but this settle was built without ISA-L",
				       GZSRC_ENV_INFLATE);
		*out = GZSRC_INFLATE_ISAL;
		return 0;
	}
	/* the value as given, cut and made printable */
	for (i = 0; v[i] && i < sizeof(show) - 1; i++)
		show[i] = v[i] >= 0x20 && v[i] < 0x7f ? v[i] : '?';
	show[i] = '\0';
	return err_set(e, ST_ERROR, "bad %s '%s%s' (zlib, isal or auto)",
		       GZSRC_ENV_INFLATE, show, v[i] ? "..." : "");
}

void gzsrc_set_inflate(struct gzsrc *s, enum gzsrc_inflate which)
{
	s->want = which;
}

enum gzsrc_inflate gzsrc_inflate_used(const struct gzsrc *s)
{
	if (gzsrc_have_isal() && s->want != GZSRC_INFLATE_ZLIB)
		return GZSRC_INFLATE_ISAL;
	return GZSRC_INFLATE_ZLIB;
}

void gzsrc_index(struct gzsrc *s, uint64_t span, gzsrc_point_fn fn)
{
	s->span = span;
	s->point_fn = fn;
}

void gzsrc_resume(struct gzsrc *s, const struct gzindex_point *p,
		  gzsrc_jump_fn jump)
{
	if (!s->rp)
		s->rp = xmalloc(sizeof(*s->rp));
	*s->rp = *p;
	s->jump_fn = jump;
}

int gzsrc_resumed(const struct gzsrc *s)
{
	return s->resumed;
}

void gzsrc_set_read_size(struct gzsrc *s, size_t n)
{
	if (n == 0)
		n = READ_SIZE;
	if (n > MAX_READ_SIZE)
		n = MAX_READ_SIZE;
	s->read_size = n;
}

int gzsrc_read(struct gzsrc *s, gzsrc_text_fn fn, void *ctx, struct err *e)
{
	unsigned char *in;
	size_t avail = 0;
	ssize_t n;

	s->fn = fn;
	s->ctx = ctx;
	s->e = e;
	/* a source over memory needs no more room than the bytes it has */
	s->raw_cap = s->read_size;
	if (s->mem && s->mem_len < s->raw_cap)
		s->raw_cap = s->mem_len;
	s->raw_cap += RAW_SLACK;
	s->raw = xmalloc(s->raw_cap);
	in = s->raw;
	/* the first two bytes tell gzip from plain */
	do {
		n = gzsrc_raw_more(s, &in, &avail);
		if (n < 0) {
			read_fail(s);
			goto out;
		}
	} while (n > 0 && avail < 2);
	if (avail == 0)
		src_fail(s, "empty file '%s'", s->path);
	else if (avail >= 2 && s->raw[0] == 0x1f && s->raw[1] == 0x8b)
		read_gzip(s, avail);
	else
		read_plain(s, avail);
out:
	if (s->failed)
		return ST_ERROR;
	return s->stopped;
}

void gzsrc_free(struct gzsrc *s)
{
	unsigned i;

	if (!s)
		return;
	for (i = 0; i < RING; i++)
		free(s->ring[i].pt);
	free(s->slot_pt);
	free(s->rp);
	if (s->z_live)
		inflateEnd(&s->zs);
#ifdef SETTLE_ISAL
	free(s->is);
#endif
	if (s->fd >= 0)
		close(s->fd);
	free(s->path);
	free(s->raw);
	free(s->text);
	free(s->md);
	free(s);
}
