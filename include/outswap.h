/* outswap: the files of a folder replaced as one step (SPEC 9: a reader
 * sees the old set or the new one, never a mix).
 *
 * The new set is written into a staging folder beside the folder DIR,
 * PARENT/.BASE.new-XXXXXX, made as mkdtemp does: always created new,
 * never an existing name (a planted symlink or file there is skipped,
 * never followed), on the same filesystem as DIR. Once it is complete, one
 * renameat2(RENAME_EXCHANGE) swaps it with DIR (a plain rename when DIR
 * does not exist yet); the staging name then holds the old set, which is
 * removed. Entries of DIR that are not in the set (subfolders such as
 * draft/ and documents/, a user's own files) are moved into the staging
 * folder just before the exchange, so they are in DIR again after it;
 * between those moves and the exchange a reader of DIR sees the whole
 * old set without them. `NAME.tmp` of a set file in DIR (a leftover of
 * a per-file write) is removed then.
 *
 * Where the filesystem has no RENAME_EXCHANGE (EINVAL, ENOSYS), the set
 * is put in place file by file (rename each staged file over its name in
 * DIR, fault point "out-rename" before each): a kill then can leave DIR
 * mixed, which the next close repairs.
 *
 * Fault points (fault.h): "out-swap" after the moves, before the
 * exchange; "out-swapped" after it, before the old set is removed;
 * fault_errno("out-exchange") makes the exchange fail.
 *
 * A kill leaves a staging folder behind: outswap_sweep, called by the
 * next close, moves back into DIR what DIR lacks of the entries that are
 * not set files (the subfolders carried over) and removes the rest. No
 * reader of DIR by its name ever sees a staging folder: its name starts
 * with a dot and is never a period's name. */
#ifndef OUTSWAP_H
#define OUTSWAP_H

#include <stddef.h>

#include "err.h"

struct outswap {
	char dir[4096];    /* the folder replaced */
	char stage[4096];  /* its staging folder, "" when none */
};

/* Creates the staging folder of dir (mode 0755 under the umask, as
 * out_mkdirs makes folders; dir's parent is made
 * when missing) into w->stage. dir itself, when it exists, must be a
 * directory and not a symlink (it is replaced as a whole). Returns 0, or
 * ST_ERROR with e filled and w->stage "". */
int outswap_begin(struct outswap *w, const char *dir, struct err *e);

/* Puts the staged set (whose file names are names[0..n)) in place of
 * w->dir as described above, removes the old set and w->stage.
 * Returns 0; or ST_ERROR with e filled (`cannot put the new files in
 * place in 'DIR': REASON`), after moving back what it carried and
 * removing the staging folder, so that w->dir holds what it held (when
 * something carried cannot go back, the staging folder is kept for the
 * next close's sweep rather than removed with it). */
int outswap_finish(struct outswap *w, const char *const *names, size_t n,
		   struct err *e);

/* Removes the staging folder, if any (w->stage becomes ""). */
void outswap_abandon(struct outswap *w);

/* The leftovers of killed runs in outdir: every entry named
 * .BASE.new-XXXXXX for which ours(BASE) is 1. A directory: each of its
 * entries that is not in names (nor NAME.tmp of one) is moved back into
 * outdir/BASE when that lacks the name (outdir/BASE is made again when
 * it was removed, so a carried draft/ is never lost); then it is
 * removed. Anything else there (a symlink, a file) is unlinked, never
 * followed. A missing outdir has none. Returns 0, or ST_ERROR with e
 * filled when an entry cannot be moved back (the leftover is kept) or
 * a leftover cannot be removed. */
int outswap_sweep(const char *outdir, int (*ours)(const char *base),
		  const char *const *names, size_t n, struct err *e);

/* Removes path and everything under it without following a symlink (a
 * symlink is removed, not what it points at). 0, or -1 with errno. */
int outswap_remove(const char *path);

#endif
