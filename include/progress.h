/* progress: the progress line of a long command on a terminal, and what
 * an interrupt (SIGINT, SIGTERM) does.
 *
 * The line (MB read, records, MB/s, records/s, ETA from the total size
 * of the files being read) is drawn on stderr only when stderr is a
 * terminal, at most five times a second, and erased when the work ends.
 * An interrupt erases a half-drawn line, prints
 *     settle: interrupted; run the same command again to resume
 * and exits 128 + the signal (130 for SIGINT, 143 for SIGTERM) at once.
 * Exiting without a commit is safe at any instant: SQLite drops a
 * transaction that was not committed, and every step of settle is
 * written to be killed anywhere and resumed by the same command (the
 * crash tests kill it with SIGKILL at each step). The handler calls only
 * write(2) and _exit(2), which are async-signal-safe.
 *
 * One progress line per process (the handler must know whether one is
 * drawn); the progress functions may be called from any thread, one at a
 * time. */
#ifndef PROGRESS_H
#define PROGRESS_H

#include <stdint.h>
#include <time.h>

struct progress {
	struct timespec start;
	long last_ms;             /* when the line was last drawn */
};

/* Installs the interrupt handler for SIGTERM, and for SIGINT unless the
 * process started with SIGINT ignored (a background job of a shell
 * without job control, as `cmd &` in a script): that stays ignored, as
 * the shell meant, so a Ctrl-C at the terminal does not stop the job. */
void progress_on_interrupt(void);

/* Starts p; returns 1 when stderr is a terminal (draw with
 * progress_show), else 0 (draw nothing). */
int progress_start(struct progress *p);

/* Draws the line (ctx: a started struct progress): bytes of total read
 * so far (total 0: unknown, no ETA), records so far. Matches the
 * progress callback of ingest.h. */
void progress_show(void *ctx, uint64_t bytes, uint64_t total,
		   uint64_t records);

/* Erases the line, if one is drawn. */
void progress_end(void);

#endif
