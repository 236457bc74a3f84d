/* report: the output files of one period (SPEC section 8).
 *
 * Turns a rated period (engine.h) and its invoice header values into the
 * CSV tables and summary.txt, and writes them into a directory
 * (OUT/YYYY-MM/ for finals, OUT/YYYY-MM/draft/ for drafts). Every file is
 * free of run times, so the same inputs give byte-identical files. */
#ifndef REPORT_H
#define REPORT_H

#include <stddef.h>

#include "catalog.h"
#include "dec.h"
#include "engine.h"
#include "err.h"
#include "outswap.h"
#include "store.h"

/* The header values of one invoice (parallel to eng_period.inv). */
struct report_invoice {
	const char *invoice_no;  /* the caller's, kept as long as this */
	const char *status;      /* "draft" or "final" */
	int version;
	dec_t net, tax, total;   /* total = net + tax */
	dec_t balance_before, paid_from_balance, amount_due, balance_after;
	char issue_date[11], due_date[11];  /* YYYY-MM-DD */
};

/* One row of adjustments.csv. */
struct report_adjustment {
	char adjustment_no[112];
	char invoice_no[96];
	const char *tenant, *currency, *item, *price_group; /* "" for total */
	dec_t old_amount, new_amount, delta;
	int minor;
	char issue_date[11];     /* YYYY-MM-DD; "" for one of an older state */
};

/* One row of arrears.csv. */
struct report_arrears {
	const char *tenant, *currency;
	dec_t outstanding;
	int minor;
	char oldest_invoice_no[96];  /* "" when none */
	int has_dates;
	int64_t suspend_at, release_at;
	const char *status;          /* grace, suspended, released */
};

struct report {
	const struct catalog *cat;
	const struct engine *g;
	const struct eng_period *rp;
	const struct report_invoice *inv;  /* rp->ninv of them */
	int draft;
	const struct report_adjustment *adj;  /* finals only */
	size_t nadj;
	const struct report_arrears *arr;     /* finals only */
	size_t narr;
};

/* The rendered files of a period, in a fixed order. */
struct report_file {
	char name[32];       /* "invoices.csv", ... */
	char *data;          /* owned */
	size_t len;
};

struct report_files {
	struct report_file f[12];
	size_t n;
};

/* Renders every file of r (finals add adjustments.csv and arrears.csv). */
void report_render(const struct report *r, struct report_files *out);

/* report_render in two parts: report_render_lines fills out with the
 * files that read neither r->adj nor r->arr (invoices, invoice_lines,
 * package_usage, uncovered, packages, alerts, rejects), so a close can
 * render them while it still writes the state; report_render_rest then
 * appends the others (adjustments, arrears, summary.txt). */
void report_render_lines(const struct report *r, struct report_files *out);
void report_render_rest(const struct report *r, struct report_files *out);
void report_files_release(struct report_files *f);

/* SHA-256 over the names and bytes of all files, taken in name order:
 * equal digests, equal outputs. */
void report_digest(const struct report_files *f, unsigned char sha[32]);

/* Reads the files of a final period back from dir. Returns 0, or -1 when
 * one is missing or unreadable (out left empty). */
int report_load_final(const char *dir, struct report_files *out);

/* The names of a final period's files, the ones report_load_final and
 * report_digest_dir read, into *n of them (not in name order). */
const char *const *report_final_names(size_t *n);

/* report_digest of what report_load_final would load from dir, reading
 * each file a block at a time instead of holding the folder: 0, or -1
 * when a file is missing, is no regular file, cannot be read, or does
 * not hold its stat size when read through (the caller then treats the
 * folder as changed). */
int report_digest_dir(const char *dir, unsigned char sha[32]);

/* Writes OUT/rejects-unplaced.csv (outdir created when missing): the
 * rejects of every current file whose ts cell is no instant, read from
 * the state (no rating needed), in rejects.csv's columns. Written only
 * when its bytes change. Belongs to no period and no digest. */
int report_put_unplaced(struct store *s, const char *outdir, struct err *e);

/* Writes the files into dir (created when missing), each atomically and
 * only when its bytes differ from what is there; *written counts the
 * files written. */
int report_put(const struct report_files *f, const char *dir, size_t *written,
	       struct err *e);

/* report_put in two steps, for a close: the period's whole file set
 * replaced as one step (outswap.h), so that a reader of dir sees the old
 * set or the new one. report_prepare, before the state commits, writes
 * the complete set into a fresh staging folder beside dir (a file whose
 * bytes are already right in dir is hard-linked, not written again) and
 * notes it in p; when every file of dir is already right it stages
 * nothing. report_finish, after the commit, swaps the staging folder with
 * dir (the subfolders and other entries of dir are kept) and removes the
 * old set; *written: how many files' bytes changed. report_abandon
 * removes the staging folder. Each leaves p empty. */
struct report_pending {
	struct outswap swap;     /* stage "": nothing staged */
	char names[12][32];      /* the set's file names */
	size_t n;
	size_t written;          /* files whose bytes differ from dir's */
};
int report_prepare(const struct report_files *f, const char *dir,
		   struct report_pending *p, struct err *e);
int report_finish(struct report_pending *p, size_t *written, struct err *e);
void report_abandon(struct report_pending *p);

/* Removes what killed closes left in outdir (outswap_sweep): staging
 * folders OUT/.YYYY-MM.new-XXXXXX, after moving back into OUT/YYYY-MM
 * the subfolders they hold that it lacks. A close calls it first. */
int report_sweep(const char *outdir, struct err *e);

#endif
