/* fault: diagnostic switches read from the environment: a kill switch for
 * the crash tests, and a phase clock for profiling.
 *
 * A test-only switch that kills the process at a named step:
 *
 * SETTLE_FAULT=STEP:N in the environment makes the Nth call of
 * fault_point("STEP") in this process raise SIGKILL (no cleanup, no
 * atexit), as a crash or kill -9 would. Steps are named where they are
 * called: "ingest-commit" (before a commit of ingest), "ingest-record"
 * (after a record is read), "close-begin" (once, as a close or the close
 * of a run starts: the crash test stops the run there to time its kills
 * from the close's start), "close-commit", "out-rename" (between writing
 * an output file and renaming it: a draft's, or one staged by a close
 * before its commit), "out-swap" and "out-swapped" (before and after a
 * close swaps a month's staged folder in, outswap.h), "config-read"
 * (after every config file is read into memory, before it is parsed:
 * nothing is read from the folder after it). Without the variable it
 * costs one getenv per
 * process. SETTLE_FAULT_SIGNAL=TERM or INT sends that signal instead of
 * SIGKILL (the interrupt handler's tests, progress.h); STOP stops the
 * process there, so that a test can change a file under a running settle
 * (the config, a usage file being read) and then send SIGCONT. */
#ifndef FAULT_H
#define FAULT_H

void fault_point(const char *step);

/* A test-only switch that makes a system call fail instead of killing:
 * with SETTLE_FAULT=STEP:N and SETTLE_FAULT_ERRNO=NAME (EINVAL, ENOSYS,
 * EIO, ENOSPC, EACCES, EXDEV), the Nth call of fault_errno("STEP")
 * returns that errno value; every other call, and every call without
 * both variables, returns 0. The caller then fails as if its call had
 * (the crash tests' "out-exchange": the exchange of a period's folder,
 * outswap.h; "walk-write": a write of the ordered walk's temporary
 * file, engine.h). fault_point never fires for a step while
 * SETTLE_FAULT_ERRNO is set. */
int fault_errno(const char *step);

/* Reads the variables again and restarts the count (unit tests that set
 * them with setenv; not thread-safe). */
void fault_reload(void);

/* SETTLE_TIMING=1 makes each call print to stderr the wall time since the
 * previous call under the name of the phase that just ended, and the peak
 * RSS so far, for profiling; fault_phase(NULL) only starts the clock.
 * Without the variable it does nothing. */
void fault_phase(const char *done);
/* With SETTLE_TIMING=1, prints "settle: WHAT" to stderr (how a phase
 * went, e.g. where rating started); otherwise nothing. */
void fault_note(const char *what);

#endif
