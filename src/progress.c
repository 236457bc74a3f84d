/* progress: the terminal progress line and the interrupt handler
 * (progress.h). */
#include "progress.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"

static const char erase[] = "\r\033[K";

/* 1 while a line is on the terminal: the handler erases it then. */
static volatile sig_atomic_t drawn;

static void on_interrupt(int sig)
{
	static const char msg[] =
		"settle: interrupted; run the same command again to resume\n";

	if (drawn && write(STDERR_FILENO, erase, sizeof(erase) - 1) < 0)
		_exit(128 + sig);
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(128 + sig);
	/* no atexit, no stdio flush: what was not committed is dropped,
	 * as a kill would (progress.h) */
	_exit(128 + sig);
}

void progress_on_interrupt(void)
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	/* a second signal while the first is handled waits: one message */
	sigaddset(&sa.sa_mask, SIGINT);
	sigaddset(&sa.sa_mask, SIGTERM);
	/* a SIGINT ignored from the start (a `cmd &` job of a shell without
	 * job control) stays ignored: a Ctrl-C at the terminal is not meant
	 * for such a job (progress.h) */
	if (sigaction(SIGINT, NULL, &old) != 0 || old.sa_handler != SIG_IGN)
		sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int progress_start(struct progress *p)
{
	memset(p, 0, sizeof(*p));
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	return isatty(STDERR_FILENO);
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)(t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

void progress_show(void *ctx, uint64_t bytes, uint64_t total,
		   uint64_t records)
{
	struct progress *p = ctx;
	long ms = ms_since(&p->start);
	unsigned long long mbs, rps;
	char line[256], eta[32] = "";
	int n;

	if (ms - p->last_ms < 200 || ms <= 0)
		return;
	p->last_ms = ms;
	mbs = (unsigned long long)(bytes / 1000 / (uint64_t)ms);
	rps = (unsigned long long)(records * 1000 / (uint64_t)ms);
	/* the rest at the speed so far; the sizes are of the files as
	 * stored, so gzip and plain files count alike */
	if (total > bytes && bytes > 0)
		snprintf(eta, sizeof(eta), ", ETA %llus",
			 (unsigned long long)((total - bytes) * (uint64_t)ms /
					      bytes / 1000));
	n = snprintf(line, sizeof(line), "\rsettle: %llu of %llu MB read, "
		     "%llu records, %llu MB/s, %llu records/s%s\033[K",
		     (unsigned long long)(bytes >> 20),
		     (unsigned long long)(total >> 20),
		     (unsigned long long)records, mbs, rps, eta);
	/* one write, so an interrupt meets a whole line or none */
	drawn = 1;
	if (n > 0 && write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

void progress_end(void)
{
	if (drawn && write(STDERR_FILENO, erase, sizeof(erase) - 1) < 0)
		return;
	drawn = 0;
}
