/* batch: the compact form in which the state keeps ingested records.
 *
 * Ingest packs valid records into batches of a few MiB; each batch is one
 * blob in the state (SPEC 3: "the state keeps what rating needs,
 * compactly"). A batch is self-contained: a table of the distinct strings
 * it uses (tenant, item, status, unit, dims), then the records as varints
 * (line and ts as deltas from the previous record). Rating decodes them
 * back into struct usage_rec without touching the usage files again.
 *
 * Layout (all integers LEB128 varints, ts delta zigzag-coded):
 *   nstr, then nstr x (len, bytes); nrec, then nrec x
 *   (line_delta, tenant, item, status, unit, dims, ts_delta, qty,
 *    id_len, id bytes) */
#ifndef BATCH_H
#define BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "usage.h"

struct batch;

struct batch *batch_new(void);
void batch_free(struct batch *b);

/* Appends a copy of r. */
void batch_add(struct batch *b, const struct usage_rec *r);

/* Records held, and an estimate of the encoded size in bytes. */
size_t batch_count(const struct batch *b);
size_t batch_size(const struct batch *b);

/* Encodes the batch; *data stays valid until the next batch_add or
 * batch_reset. */
void batch_encode(struct batch *b, const void **data, size_t *len);

/* Empties the batch for reuse. */
void batch_reset(struct batch *b);

/* The key of a record's identity (tenant, record_id): equal identities
 * give equal keys; different ones rarely collide, and a collision only
 * makes a duplicate candidate that rating then checks in full. */
uint64_t batch_key(struct span tenant, struct span record_id);

/* The keys of the records held, sorted ascending (host byte order when
 * stored); valid until the next batch_add or batch_reset. Rating merges
 * the sorted keys of all batches to find duplicates without holding them
 * all. */
void batch_keys(struct batch *b, const uint64_t **keys, size_t *n);

/* Decodes a blob made by batch_encode, calling fn for each record in order
 * (spans point into data). Returns 0, fn's non-zero value, or -1 if the
 * blob is malformed. */
int batch_decode(const void *data, size_t len,
		 int (*fn)(void *ctx, const struct usage_rec *r), void *ctx);

/* As batch_decode, but first calls strs with the batch's string table,
 * then fn with each record and the table indexes of its tenant, item,
 * status, unit and dims (ids[0..4]), so a caller can resolve each
 * distinct string once per batch. */
int batch_decode_ids(const void *data, size_t len,
		     int (*strs)(void *ctx, const struct span *s, size_t n),
		     int (*fn)(void *ctx, const struct usage_rec *r,
			       const uint32_t ids[5]),
		     void *ctx);

#endif
