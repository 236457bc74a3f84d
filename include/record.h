/* record: what a valid usage record is (SPEC section 3, "Usage files"),
 * and the checks that tell it from a reject without the config.
 *
 * The usage reader (usage.h) splits a file into rows and hands each data
 * row to record_check, which decides, in the SPEC's order, whether it is a
 * record or a reject, and why. The checks that need the config
 * (unknown_tenant, unknown_item, no_account, unit_mismatch, no_price) and
 * duplicates are decided later, when rating; their reasons are listed here
 * so that every reject code has one home. Batches (batch.h) and rating
 * (engine.h) keep and read records as struct usage_rec.
 *
 * Names: struct usage_rec, struct usage_reject, enum reject_reason and
 * usage_reject_name keep the usage_ prefix they had when this module was
 * part of usage.c; batches and rating use them under those names.
 *
 * Every span a check gives back points into the row's cells or into the
 * checker's scratch (canonical dims), and stays valid only until the next
 * record_check with the same checker. Checks allocate nothing per record
 * (the dims scratch is made once, the first time dims need sorting). */
#ifndef RECORD_H
#define RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "dec.h"
#include "mem.h"

#define USAGE_MAX_FIELD 4096      /* a longer field: reject bad_field */
#define USAGE_MAX_RECORD 65536    /* a longer record: reject bad_field */

/* Reject reasons, in SPEC order of precedence; the names are the codes of
 * rejects.csv. */
enum reject_reason {
	REJ_FIELD_COUNT,
	REJ_BAD_FIELD,
	REJ_BAD_TS,
	REJ_BAD_QUANTITY,
	REJ_UNKNOWN_TENANT,
	REJ_UNKNOWN_ITEM,
	REJ_NO_ACCOUNT,
	REJ_UNIT_MISMATCH,
	REJ_NO_PRICE,
	REJ_DUPLICATE_CONFLICT,
	REJ_COUNT
};

/* "field_count", "bad_field", ...; "unknown" outside the enum. */
const char *usage_reject_name(enum reject_reason r);

/* One valid record. All spans point into the reader's buffers. */
struct usage_rec {
	uint64_t line;         /* record number: first record after header = 1 */
	struct span record_id; /* [ -~]{1,128} */
	struct span tenant;    /* [A-Za-z0-9_.:-]{1,64} */
	struct span item;      /* [A-Za-z0-9_.-]{1,64} */
	int64_t ts;            /* instant, ns since the epoch (ts.h) */
	dec_t qty;             /* quantity in the item's usage unit */
	struct span status;    /* as written; "" when empty or no column (= ok) */
	struct span dims;      /* canonical: pairs sorted by key, joined "k=v;k=v";
	                          "" when none */
	struct span unit;      /* as written; "" when empty or no column */
};

/* One rejected record. record_id and tenant are the raw cells of those
 * columns (empty when the row is too short to have them). */
struct usage_reject {
	uint64_t line;
	struct span record_id;
	struct span tenant;
	enum reject_reason reason;
	const char *why; /* short detail for messages, e.g. "column ts" */
	int has_ts;      /* the ts cell is a valid RFC 3339 timestamp, also
	                    when another check failed (never for
	                    field_count or bad_ts): the reject's period */
	int64_t ts;      /* that instant (ts.h) when has_ts */
};

/* The columns a record is read from, by name in the file's header; the
 * first RCOL_NREQUIRED must be there. */
enum record_col {
	RCOL_RECORD_ID, RCOL_TENANT, RCOL_ITEM, RCOL_TS, RCOL_QTY,
	RCOL_STATUS, RCOL_DIMS, RCOL_UNIT,
	RCOL_NKNOWN
};
#define RCOL_NREQUIRED 5 /* RCOL_RECORD_ID .. RCOL_QTY */

/* "record_id", "tenant_id", "item", "ts", "quantity", "status", "dims",
 * "unit", by enum record_col. */
extern const char *const record_col_names[RCOL_NKNOWN];

#define RECORD_NO_OVER ((size_t)-1)

/* One data row as the reader split it. Cells are cut at USAGE_MAX_FIELD
 * bytes (and where the record buffer ran out); fld holds the first
 * min(nf, ncols) of them. */
struct record_row {
	uint64_t line;          /* record number */
	const struct span *fld; /* the kept cells, in column order */
	size_t nf;              /* fields in the row */
	size_t ncols;           /* fields in the header */
	const int *col;         /* col[RCOL_*]: its field index, or -1 */
	size_t over_at;         /* first field over USAGE_MAX_FIELD bytes, or
	                           RECORD_NO_OVER */
	const char *over_name;  /* that field's column name, printable (when
	                           over_at is set) */
	uint64_t total;         /* bytes of all fields, after unquoting */
};

/* What record_check needs between rows; the fields are record.c's. Fill it
 * with record_checker_init, free what it holds with
 * record_checker_release. */
struct record_checker {
	unsigned char cls[256];         /* character classes of the id columns */
	struct record_pair *pairs, *ptmp; /* dims sorting scratch, or NULL */
	char *dims_out;                 /* canonical dims, when sorted here */
	char why[128];                  /* the detail of the last reject */
};

void record_checker_init(struct record_checker *k);
void record_checker_release(struct record_checker *k);

/* Checks row in the order the SPEC gives: field count; any field over
 * USAGE_MAX_FIELD (column order); record over USAGE_MAX_RECORD;
 * record_id; tenant_id; item; ts; quantity; dims (syntax, UTF-8, NUL);
 * status (UTF-8, NUL); unit (UTF-8, NUL). Returns 0 with u filled (dims
 * canonical), or 1 with rj filled by the first check that fails (its why
 * points into k or is a constant; has_ts and ts say whether the row's ts
 * cell reads as an instant, for placing the reject in a period). */
int record_check(struct record_checker *k, const struct record_row *row,
		 struct usage_rec *u, struct usage_reject *rj);

#endif
