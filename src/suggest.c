/* Nearest-name suggestions; see suggest.h. */
#include "suggest.h"

#include <string.h>

#include "banned.h"

#define SUGGEST_MAX 64

static int min3(int a, int b, int c)
{
	int m = a < b ? a : b;

	return m < c ? m : c;
}

int suggest_distance(const char *a, const char *b)
{
	/* three rows of the dynamic-programming table: i-2, i-1, i */
	int r[3][SUGGEST_MAX + 1];
	size_t na = strlen(a), nb = strlen(b), i, j;

	if (na > SUGGEST_MAX || nb > SUGGEST_MAX)
		return 1000;
	for (j = 0; j <= nb; j++)
		r[0][j] = (int)j;
	for (i = 1; i <= na; i++) {
		int *cur = r[i % 3], *prev = r[(i + 2) % 3], *back2 = r[(i + 1) % 3];

		cur[0] = (int)i;
		for (j = 1; j <= nb; j++) {
			int cost = a[i - 1] != b[j - 1];

			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1,
				      prev[j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && back2[j - 2] + 1 < cur[j])
				cur[j] = back2[j - 2] + 1;
		}
	}
	return r[na % 3][nb];
}

const char *suggest_nearest(const char *word, const char *const *names,
			    size_t n)
{
	const char *best = NULL;
	int bestd = 3;
	size_t i;

	for (i = 0; i < n; i++) {
		size_t la = strlen(word), lb = strlen(names[i]);
		size_t longer = la > lb ? la : lb;
		int d = suggest_distance(word, names[i]);

		if (d < bestd && (size_t)d * 3 <= longer + 2) {
			best = names[i];
			bestd = d;
		}
	}
	return best;
}
