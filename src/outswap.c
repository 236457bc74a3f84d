/* outswap: a folder's files replaced as one step (see outswap.h). */
#include "outswap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault.h"
#include "mem.h"
#include "out.h"
#include "banned.h"

/* The suffix mkdtemp fills: ".new-" and six characters. */
#define STAGE_TAG ".new-"
#define STAGE_RAND 6

/* Splits path into its folder (no trailing slash, "." when none) and
 * its last name. */
static void split(const char *path, char *parent, size_t psize, char *base,
		  size_t bsize)
{
	const char *slash = strrchr(path, '/');
	size_t k;

	if (!slash) {
		snprintf(parent, psize, ".");
		snprintf(base, bsize, "%s", path);
		return;
	}
	snprintf(base, bsize, "%s", slash + 1);
	k = (size_t)(slash - path);
	while (k > 1 && path[k - 1] == '/')
		k--;
	if (k == 0)
		k = 1;  /* "/x": the root */
	snprintf(parent, psize, "%.*s", (int)k, path);
}

/* fsync of a folder, so that the names it holds survive a power loss;
 * best effort (some filesystems refuse it on folders). */
static void sync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* mkdtemp, but mode 0755 under the umask (a period folder's mode, as
 * out_mkdirs makes them): the XXXXXX at the end of path filled with
 * random letters and digits until mkdir(2) makes a new folder. mkdir
 * fails on any existing name, a symlink or a planted file included, and
 * never follows one: the folder is always new. 0, or -1 with errno. */
static int make_new_dir(char *path)
{
	static const char abc[] = "abcdefghijklmnopqrstuvwxyz"
				  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	char *x = path + strlen(path) - STAGE_RAND;
	unsigned char r[STAGE_RAND];
	int tries, i;

	for (tries = 0; tries < 100; tries++) {
		if (getentropy(r, sizeof(r)) != 0)
			return -1;
		for (i = 0; i < STAGE_RAND; i++)
			x[i] = abc[r[i] % (sizeof(abc) - 1)];
		if (mkdir(path, 0755) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

int outswap_begin(struct outswap *w, const char *dir, struct err *e)
{
	char parent[4096], base[256];
	struct stat st;
	int k;

	snprintf(w->dir, sizeof(w->dir), "%s", dir);
	w->stage[0] = '\0';
	if (lstat(dir, &st) == 0 && S_ISLNK(st.st_mode))
		return err_set(e, ST_ERROR, "cannot write '%s': it is a "
			       "symbolic link (settle replaces a month's "
			       "folder as a whole: make it a real folder)",
			       dir);
	if (lstat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
		return err_set(e, ST_ERROR, "'%s' is not a directory", dir);
	split(dir, parent, sizeof(parent), base, sizeof(base));
	if (out_mkdirs(parent, e))
		return ST_ERROR;
	k = snprintf(w->stage, sizeof(w->stage), "%s/.%s" STAGE_TAG "XXXXXX",
		     parent, base);
	if (k < 0 || (size_t)k >= sizeof(w->stage)) {
		w->stage[0] = '\0';
		return err_set(e, ST_ERROR, "cannot write '%s': %s", dir,
			       strerror(ENAMETOOLONG));
	}
	if (make_new_dir(w->stage)) {
		int saved = errno;

		w->stage[0] = '\0';
		return err_set(e, ST_ERROR, "cannot create a staging folder "
			       "for '%s': %s", dir, strerror(saved));
	}
	return 0;
}

/* ---- removing a tree ---- */

static int remove_at(int dfd, const char *name, int depth)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd, pass;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0) == 0 || errno == ENOENT ? 0 : -1;
	if (depth > 32) {
		errno = ELOOP;
		return -1;
	}
	/* two passes: removing entries while reading a folder may make
	 * readdir skip some */
	for (pass = 0; pass < 2; pass++) {
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC);
		if (fd < 0)
			return -1;
		d = fdopendir(fd);
		if (!d) {
			close(fd);
			return -1;
		}
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if (remove_at(dirfd(d), de->d_name, depth + 1)) {
				int saved = errno;

				closedir(d);
				errno = saved;
				return -1;
			}
		}
		closedir(d);
		if (unlinkat(dfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
			return 0;
		if (errno != ENOTEMPTY && errno != EEXIST)
			return -1;
	}
	return -1;
}

int outswap_remove(const char *path)
{
	return remove_at(AT_FDCWD, path, 0);
}

void outswap_abandon(struct outswap *w)
{
	if (w->stage[0])
		(void)outswap_remove(w->stage);
	w->stage[0] = '\0';
}

/* ---- the set's names ---- */

static int in_set(const char *name, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

/* NAME.tmp of a set file: the temporary name of a per-file write. */
static int set_tmp(const char *name, const char *const *names, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		k = strlen(names[i]);
		if (strncmp(name, names[i], k) == 0 &&
		    strcmp(name + k, ".tmp") == 0)
			return 1;
	}
	return 0;
}

/* The names in folder path, but . and .. (malloc'd array of malloc'd
 * names); -1 with errno when it cannot be read. */
static int list_dir(const char *path, char ***out, size_t *n)
{
	DIR *d = opendir(path);
	struct dirent *de;

	*out = NULL;
	*n = 0;
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = xstrdup(de->d_name);
	}
	closedir(d);
	return 0;
}

static void free_names(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* dir/name into out; -1 (ENAMETOOLONG) when it does not fit. */
static int join(char *out, size_t size, const char *dir, const char *name)
{
	int k = snprintf(out, size, "%s/%s", dir, name);

	if (k < 0 || (size_t)k >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Renames from/name to to/name. */
static int move_entry(const char *from, const char *to, const char *name)
{
	char a[8192], b[8192];

	if (join(a, sizeof(a), from, name) || join(b, sizeof(b), to, name))
		return -1;
	return rename(a, b);
}

/* ---- the swap ---- */

/* Moves the entries of w->dir that are not set files into the staging
 * folder (NAME.tmp of a set file is removed); *moved lists them (the
 * first *nmoved of all). 0, or -1 with errno. */
static int carry(struct outswap *w, const char *const *names, size_t n,
		 char ***moved, size_t *nmoved)
{
	char **all, path[8192];
	size_t nall, i;
	int rc = 0;

	*moved = NULL;
	*nmoved = 0;
	if (list_dir(w->dir, &all, &nall))
		return -1;
	for (i = 0; i < nall && !rc; i++) {
		if (in_set(all[i], names, n))
			continue;
		if (set_tmp(all[i], names, n)) {
			/* unlinking removes only the name: a planted hard
			 * link or symlink is never followed */
			if (join(path, sizeof(path), w->dir, all[i]) ||
			    (unlink(path) != 0 && errno != ENOENT))
				rc = -1;
			continue;
		}
		if (move_entry(w->dir, w->stage, all[i]) != 0) {
			rc = -1;
			break;
		}
		*moved = xrealloc(*moved, (*nmoved + 1) * sizeof(**moved));
		(*moved)[(*nmoved)++] = all[i];
		all[i] = NULL;
	}
	free_names(all, nall);
	return rc;
}

/* Moves the carried entries back from from into to; how many could not
 * be moved (they are the user's: the caller then keeps from). */
static size_t carry_back(const char *from, const char *to, char **moved,
			 size_t nmoved)
{
	size_t i, left = 0;

	for (i = 0; i < nmoved; i++)
		if (move_entry(from, to, moved[i]) != 0)
			left++;
	return left;
}

/* No RENAME_EXCHANGE here: the staged files renamed one by one over
 * their names in w->dir. */
static int per_file(struct outswap *w, const char *const *names, size_t n,
		    struct err *e)
{
	size_t i;

	for (i = 0; i < n; i++) {
		fault_point("out-rename");
		if (move_entry(w->stage, w->dir, names[i]) != 0)
			return err_set(e, ST_ERROR, "cannot put the new files "
				       "in place in '%s': %s", w->dir,
				       strerror(errno));
	}
	return 0;
}

int outswap_finish(struct outswap *w, const char *const *names, size_t n,
		   struct err *e)
{
	char parent[4096], base[256];
	char **moved = NULL;
	size_t nmoved = 0;
	struct stat st;
	int rc = 0, saved = 0, keep = 0;

	split(w->dir, parent, sizeof(parent), base, sizeof(base));
	sync_dir(w->stage);
	if (lstat(w->dir, &st) != 0 && errno == ENOENT) {
		/* the first close of the period: no old set */
		fault_point("out-swap");
		if (rename(w->stage, w->dir) != 0)
			rc = err_set(e, ST_ERROR, "cannot put the new files in "
				     "place in '%s': %s", w->dir,
				     strerror(errno));
		else
			w->stage[0] = '\0';
		sync_dir(parent);
		outswap_abandon(w);
		return rc;
	}
	if (carry(w, names, n, &moved, &nmoved) == 0) {
		fault_point("out-swap");
		saved = fault_errno("out-exchange");
		if (!saved && renameat2(AT_FDCWD, w->stage, AT_FDCWD, w->dir,
					RENAME_EXCHANGE) != 0)
			saved = errno;
	} else {
		saved = errno;
	}
	if (!saved) {
		/* the staging name now holds the old set */
		fault_point("out-swapped");
		sync_dir(parent);
	} else {
		/* a draft/ or documents/ that cannot go back stays in the
		 * staging folder for the next sweep (outswap_sweep), never
		 * removed with it */
		if (carry_back(w->stage, w->dir, moved, nmoved))
			keep = 1;
		if (saved == EINVAL || saved == ENOSYS) {
			rc = per_file(w, names, n, e);
			sync_dir(w->dir);
		} else {
			rc = err_set(e, ST_ERROR, "cannot put the new files "
				     "in place in '%s': %s", w->dir,
				     strerror(saved));
		}
	}
	free_names(moved, nmoved);
	if (keep)
		w->stage[0] = '\0';
	/* a leftover that cannot be removed now is the next sweep's */
	outswap_abandon(w);
	return rc;
}

/* ---- leftovers ---- */

/* 1 when name is .BASE.new-XXXXXX with ours(BASE); base (size >=
 * strlen(name)) gets BASE. */
static int leftover_name(const char *name, int (*ours)(const char *),
			 char *base, size_t bsize)
{
	size_t k = strlen(name), tag = strlen(STAGE_TAG), i;

	if (name[0] != '.' || k < 2 + tag + STAGE_RAND || k - 1 >= bsize)
		return 0;
	for (i = k - STAGE_RAND; i < k; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9')))
			return 0;
	if (strncmp(name + k - STAGE_RAND - tag, STAGE_TAG, tag) != 0)
		return 0;
	memcpy(base, name + 1, k - 1 - tag - STAGE_RAND);
	base[k - 1 - tag - STAGE_RAND] = '\0';
	return ours(base);
}

/* Moves back from leftover into dir what dir lacks of the entries that
 * are not set files; a dir removed since (by hand, after a kill between
 * the carry and the exchange) is made again for them, so that a user's
 * draft/ or documents/ is never removed with the leftover. -1 when an
 * entry could not go back (the caller keeps the leftover). */
static int recover(const char *leftover, const char *dir,
		   const char *const *names, size_t n)
{
	char **all, path[8192];
	struct stat st;
	size_t nall, i;
	int missing, rc = 0;

	if (lstat(dir, &st) == 0)
		missing = 0;
	else if (errno == ENOENT)
		missing = 1;
	else
		return -1;
	if (!missing && !S_ISDIR(st.st_mode))
		return -1;
	if (list_dir(leftover, &all, &nall))
		return -1;
	for (i = 0; i < nall && !rc; i++) {
		if (in_set(all[i], names, n) || set_tmp(all[i], names, n))
			continue;
		if (missing) {
			if (mkdir(dir, 0755) != 0 && errno != EEXIST)
				rc = -1;
			missing = 0;
		}
		if (!rc && join(path, sizeof(path), dir, all[i]) == 0 &&
		    lstat(path, &st) != 0 && errno == ENOENT &&
		    move_entry(leftover, dir, all[i]) != 0)
			rc = -1;
	}
	free_names(all, nall);
	return rc;
}

int outswap_sweep(const char *outdir, int (*ours)(const char *base),
		  const char *const *names, size_t n, struct err *e)
{
	char **all, base[256], path[8192], dir[8192];
	struct stat st;
	size_t nall, i;
	int rc = 0;

	if (list_dir(outdir, &all, &nall))
		return errno == ENOENT || errno == ENOTDIR ? 0 :
		       err_set(e, ST_ERROR, "cannot read '%s': %s", outdir,
			       strerror(errno));
	for (i = 0; i < nall && !rc; i++) {
		if (!leftover_name(all[i], ours, base, sizeof(base)))
			continue;
		if (join(path, sizeof(path), outdir, all[i]) ||
		    join(dir, sizeof(dir), outdir, base))
			continue;
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
		    recover(path, dir, names, n) != 0)
			rc = err_set(e, ST_ERROR, "cannot move back what '%s' "
				     "holds of '%s' (left by an interrupted "
				     "close; move it by hand): %s", path, dir,
				     strerror(errno));
		else if (outswap_remove(path) != 0)
			rc = err_set(e, ST_ERROR, "cannot remove '%s' (left by "
				     "an interrupted close): %s", path,
				     strerror(errno));
	}
	free_names(all, nall);
	return rc;
}
