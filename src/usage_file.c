/* usage_file: a usage file's identity before it is read (usage.h): its
 * stamp (device, inode, size, mtime) and its SHA-256, both from one open
 * descriptor, and the message for a file that changed while settle read
 * it (issue 15: the bytes parsed must be the bytes the digest is of). */
#include "usage.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gzsrc.h"
#include "mem.h"
#include "sha256.h"
#include "banned.h"

#define READ_SIZE (256u * 1024u)   /* usage_file_digest's read size */

int usage_stamp_of(int fd, struct usage_stamp *st)
{
	struct stat sb;

	if (fstat(fd, &sb) != 0)
		return -1;
	st->dev = (uint64_t)sb.st_dev;
	st->ino = (uint64_t)sb.st_ino;
	st->size = (uint64_t)sb.st_size;
	st->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 +
		       sb.st_mtim.tv_nsec;
	return 0;
}

int usage_stamp_same(const struct usage_stamp *a, const struct usage_stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns;
}

int usage_changed(struct err *e, const char *path)
{
	return err_set(e, ST_ERROR, "usage file '%s' changed while settle read "
		       "it (size, mtime or bytes); nothing of it counts: "
		       "ingest it again once it is complete", path);
}

int usage_file_open(const char *path, struct usage_stamp *st, struct err *e)
{
	int fd = gzsrc_open_regular(path, e);

	if (fd < 0)
		return -1;
	if (usage_stamp_of(fd, st) != 0) {
		err_set(e, ST_ERROR, "cannot read '%s': %s", path,
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int usage_file_reopen(const char *path, const struct usage_stamp *st,
		      struct err *e)
{
	struct usage_stamp now;
	int fd = usage_file_open(path, &now, e);

	if (fd >= 0 && !usage_stamp_same(&now, st)) {
		close(fd);
		usage_changed(e, path);
		return -1;
	}
	return fd;
}

int usage_file_hash(int fd, const char *path, const struct usage_stamp *st,
		    unsigned char sha[32], struct err *e)
{
	unsigned char *buf = xmalloc(READ_SIZE);
	struct usage_stamp after;
	struct sha256 md;
	uint64_t total = 0;
	int rc = ST_ERROR;
	ssize_t n;

	sha256_init(&md);
	for (;;) {
		/* pread: the descriptor's offset stays where its reader
		 * wants it */
		do
			n = pread(fd, buf, READ_SIZE, (off_t)total);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			err_set(e, ST_ERROR, "cannot read '%s': %s", path,
				strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		sha256_update(&md, buf, (size_t)n);
		total += (uint64_t)n;
	}
	sha256_final(&md, sha);
	if (usage_stamp_of(fd, &after) != 0 || !usage_stamp_same(st, &after) ||
	    total != st->size) {
		usage_changed(e, path);
		goto out;
	}
	rc = ST_OK;
out:
	free(buf);
	return rc;
}

int usage_file_digest(const char *path, unsigned char sha[32], uint64_t *size,
		      struct usage_stamp *st, int *fdp, struct err *e)
{
	int fd;

	if (fdp)
		*fdp = -1;
	fd = usage_file_open(path, st, e);
	if (fd < 0)
		return ST_ERROR;
	if (usage_file_hash(fd, path, st, sha, e) != ST_OK) {
		close(fd);
		return ST_ERROR;
	}
	*size = st->size;
	if (fdp)
		*fdp = fd;
	else
		close(fd);
	return ST_OK;
}
