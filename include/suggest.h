/* suggest: the known name nearest to a mistyped one, for "did you mean"
 * hints (unknown config columns and keys, mistyped commands).
 *
 * Distance is the optimal string alignment distance (Levenshtein with
 * adjacent transpositions) over bytes. A name is suggested only when it is
 * close enough to be a plausible typo: distance at most 2, and at most a
 * third of the longer name's length (rounded up), so short words are not
 * matched to unrelated ones. Ties go to the first name in the list. */
#ifndef SUGGEST_H
#define SUGGEST_H

#include <stddef.h>

/* The edit distance of a and b (NUL-terminated); names longer than 64
 * bytes count as far from everything (returns 1000). */
int suggest_distance(const char *a, const char *b);

/* The entry of names[0..n) nearest to word, or NULL when none is close
 * enough. The result points into names. */
const char *suggest_nearest(const char *word, const char *const *names,
			    size_t n);

#endif
