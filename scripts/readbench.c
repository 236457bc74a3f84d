/* readbench: the usage reader alone, for timing and profiling it.
 *
 *   readbench [--slow] [--runs N] FILE...
 *
 * Reads every file with usage_open + usage_read into a sink that only
 * counts (records, rejects, and a checksum of record lines and lengths, so
 * that the work cannot be skipped), then prints
 *   files=N records=N rejects=N sum=N seconds=S
 * with S the wall time of the reads (best of N runs, default 1). --slow
 * makes every line go through libcsv (usage_set_fast(r, 0)), the reference
 * path of the reader's differential tests. A file that fails prints its
 * message on stderr; the exit status is then 1.
 *
 * Build: `make build/readbench` (make test builds it too, so that it
 * follows the reader's interface). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "usage.h"
#include "banned.h"

struct count {
	uint64_t recs, rejs, sum;
};

static int on_rec(void *ctx, const struct usage_rec *u)
{
	struct count *c = ctx;

	c->recs++;
	c->sum += u->line + u->record_id.n + u->tenant.n + u->item.n +
		  (uint64_t)u->qty + u->dims.n + u->unit.n + u->status.n;
	return 0;
}

static int on_rej(void *ctx, const struct usage_reject *j)
{
	struct count *c = ctx;

	c->rejs++;
	c->sum += j->line;
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct usage_sink sink = { on_rec, on_rej, NULL, 0, NULL };
	struct count c;
	double best = 0;
	int i, first = 1, fast = 1, runs = 1, run, status = 0;

	while (first < argc && argv[first][0] == '-') {
		if (strcmp(argv[first], "--slow") == 0) {
			fast = 0;
			first++;
		} else if (strcmp(argv[first], "--runs") == 0 &&
			   first + 1 < argc) {
			runs = (int)strtol(argv[first + 1], NULL, 10);
			first += 2;
		} else {
			break;
		}
	}
	if (first >= argc || runs < 1) {
		fputs("usage: readbench [--slow] [--runs N] FILE...\n", stderr);
		return 2;
	}
	for (run = 0; run < runs; run++) {
		double t0 = now(), t;

		memset(&c, 0, sizeof(c));
		sink.ctx = &c;
		for (i = first; i < argc; i++) {
			struct usage_reader *r;
			struct err e;

			err_clear(&e);
			r = usage_open(argv[i], NULL, &e);
			if (r) {
				usage_set_fast(r, fast);
				if (usage_read(r, &sink, 0, &e) == 0) {
					usage_free(r);
					continue;
				}
			}
			usage_free(r);
			fprintf(stderr, "readbench: %s\n", e.msg);
			status = 1;
		}
		t = now() - t0;
		if (run == 0 || t < best)
			best = t;
	}
	printf("files=%d records=%llu rejects=%llu sum=%llu seconds=%.3f\n",
	       argc - first, (unsigned long long)c.recs,
	       (unsigned long long)c.rejs, (unsigned long long)c.sum, best);
	return status;
}
