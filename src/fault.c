/* fault: the crash tests' kill switch and SETTLE_TIMING's phase clock
 * (see fault.h). */
#include "fault.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "banned.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char step_name[64];
static long target, hits;
static int signo = SIGKILL;
static int fail_errno;   /* SETTLE_FAULT_ERRNO's value, 0 when unset */

/* The errno values SETTLE_FAULT_ERRNO may name. */
static int errno_of(const char *name)
{
	static const struct {
		const char *name;
		int value;
	} names[] = {
		{ "EINVAL", EINVAL }, { "ENOSYS", ENOSYS }, { "EIO", EIO },
		{ "ENOSPC", ENOSPC }, { "EACCES", EACCES }, { "EXDEV", EXDEV },
	};
	size_t i;

	for (i = 0; name && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i].name) == 0)
			return names[i].value;
	return 0;
}

static void load(void)
{
	const char *v = getenv("SETTLE_FAULT");
	const char *sig = getenv("SETTLE_FAULT_SIGNAL");
	const char *colon;
	char *end;

	signo = SIGKILL;
	target = 0;
	hits = 0;
	fail_errno = errno_of(getenv("SETTLE_FAULT_ERRNO"));
	if (sig && strcmp(sig, "TERM") == 0)
		signo = SIGTERM;
	else if (sig && strcmp(sig, "INT") == 0)
		signo = SIGINT;
	else if (sig && strcmp(sig, "STOP") == 0)
		signo = SIGSTOP;

	if (!v || !(colon = strrchr(v, ':')) || (size_t)(colon - v) >=
	    sizeof(step_name))
		return;
	memcpy(step_name, v, (size_t)(colon - v));
	step_name[colon - v] = '\0';
	target = strtol(colon + 1, &end, 10);
	if (*end || target < 1)
		target = 0;
}

void fault_point(const char *step)
{
	pthread_once(&once, load);
	if (!target || fail_errno || strcmp(step, step_name) != 0)
		return;
	if (__atomic_add_fetch(&hits, 1, __ATOMIC_SEQ_CST) == target)
		kill(getpid(), signo);
}

int fault_errno(const char *step)
{
	pthread_once(&once, load);
	if (!target || !fail_errno || strcmp(step, step_name) != 0)
		return 0;
	return __atomic_add_fetch(&hits, 1, __ATOMIC_SEQ_CST) == target ?
	       fail_errno : 0;
}

void fault_reload(void)
{
	pthread_once(&once, load);
	load();
}

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* VmHWM of /proc/self/status in MB, or -1. */
static long peak_rss_mb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb < 0 ? -1 : kb / 1024;
}

void fault_phase(const char *done)
{
	static int on = -1;
	static long long last;
	long long t, d;

	if (on < 0) {
		const char *v = getenv("SETTLE_TIMING");

		on = v && strcmp(v, "1") == 0;
		last = now_ns();
	}
	if (!on || !done)
		return;
	t = now_ns();
	d = (t - last) / 1000000;
	fprintf(stderr, "settle: %-20s %5lld.%03lld s  peak RSS %ld MB\n",
		done, d / 1000, d % 1000, peak_rss_mb());
	last = t;
}

void fault_note(const char *what)
{
	const char *v = getenv("SETTLE_TIMING");

	if (v && strcmp(v, "1") == 0)
		fprintf(stderr, "settle: %s\n", what);
}
