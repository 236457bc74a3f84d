/* export: `settle export` (SPEC 12), the documents of one final period
 * rendered from the state alone: documents.jsonl, NUMBER.html and
 * NUMBER.xml under OUT/YYYY-MM/documents/.
 *
 * It reads the final tables (final.h) and the document data the close
 * recorded (final_doc.h) in one snapshot, never rates, takes no config
 * and no lock, builds the doc.h model of every invoice and adjustment of
 * the period in number order (an invoice, then its -A1, -A2, ...), checks
 * each (doc_check) and renders it. Every file is written to a temporary
 * name and renamed (out.h), so the same state gives the same bytes.
 * Nothing here prints: what the command line says comes back in struct
 * export_result. */
#ifndef EXPORT_H
#define EXPORT_H

#include <stddef.h>

#include "err.h"
#include "store.h"

enum {
	EXPORT_JSON = 1,  /* documents.jsonl */
	EXPORT_HTML = 2,  /* NUMBER.html */
	EXPORT_UBL = 4,   /* NUMBER.xml */
	EXPORT_ALL = 7
};

/* Parses a --format list, a comma-separated non-empty subset of json,
 * html, ubl (each at most once), into *formats. 0, or -1 when list is
 * anything else. */
int export_formats(const char *list, unsigned *formats);

struct export_result {
	int stale;              /* files changed since its last close */
	size_t invoices, adjustments;
	size_t html, ubl;       /* files of each kind written */
	int json;               /* documents.jsonl written */
	/* one message per withheld UBL file, naming the document and the
	 * missing settings ("DEMO-202610-000001: settings.conf
	 * seller_tax_id (BR-S-02)"), owned */
	char **withheld;
	size_t nwithheld;
	char dir[4096];         /* OUT/YYYY-MM/documents */
};

/* Exports period p of s (opened STORE_READ, or any mode) into
 * outdir/YYYY-MM/documents/ in the given formats (EXPORT_*). Fills *res
 * (release it, also on error). Returns 0 (withheld UBL files are listed
 * in res, not an error), or ST_ERROR with e filled: p is not final, was
 * closed by a settle that recorded no document data, the state breaks a
 * document invariant, or a read or write fails. */
int export_period(struct store *s, int p, const char *outdir,
		  unsigned formats, struct export_result *res, struct err *e);
void export_result_release(struct export_result *res);

#endif
