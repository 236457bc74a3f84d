/* fault: diagnostic switches read from the environment: a kill switch for
 * the crash tests, and a phase clock for profiling.
 *
 * A test-only switch that kills the process at a named step:
 *
 * SETTLE_FAULT=STEP:N in the environment makes the Nth call of
 * fault_point("STEP") in this process raise SIGKILL (no cleanup, no
 * atexit), as a crash or kill -9 would. Steps are named where they are
 * called: "ingest-commit" (before a commit of ingest), "ingest-record"
 * (after a record is read), "close-commit", "out-rename" (between writing
 * an output file and renaming it), "config-read" (after the whole config
 * is read and parsed). Without the variable it costs one getenv per
 * process. SETTLE_FAULT_SIGNAL=TERM or INT sends that signal instead of
 * SIGKILL (the interrupt handler's tests, progress.h); STOP stops the
 * process there, so that a test can change a file under a running settle
 * (the config, a usage file being read) and then send SIGCONT. */
#ifndef FAULT_H
#define FAULT_H

void fault_point(const char *step);

/* SETTLE_TIMING=1 makes each call print to stderr the wall time since the
 * previous call under the name of the phase that just ended, and the peak
 * RSS so far, for profiling; fault_phase(NULL) only starts the clock.
 * Without the variable it does nothing. */
void fault_phase(const char *done);
/* With SETTLE_TIMING=1, prints "settle: WHAT" to stderr (how a phase
 * went, e.g. where rating started); otherwise nothing. */
void fault_note(const char *what);

#endif
