/* batch: the compact form in which the state keeps ingested records.
 *
 * Ingest packs valid records into batches of a few MiB; each batch is one
 * blob in the state (SPEC 3: "the state keeps what rating needs,
 * compactly"). A batch is self-contained: a table of the distinct strings
 * it uses (tenant, item, status, unit, dims), then the records as varints
 * (line and ts as deltas from the previous record). Rating decodes them
 * back into struct usage_rec without touching the usage files again.
 *
 * Layout 2, which batch_encode writes (integers are LEB128 varints, the
 * ts delta zigzag-coded):
 *   0x80 0x00 2 (the mark: a zero in two bytes, then the layout number);
 *   nstr, then nstr x (len, bytes); nrec, then nrec x
 *   (line_delta, tenant, item, status << 1 | P, unit, dims, ts_delta,
 *    qty, id)
 * where id is 16 bytes when P is 1: the record_id is a canonical UUID
 * (8-4-4-4-12 lowercase hex digits joined by '-', 36 bytes of text), and
 * the bytes are its 32 digits in order, two per byte, high nibble first;
 * when P is 0, id is (id_len, id bytes) as written. Only that exact form
 * packs: an uppercase or otherwise UUID-like id stays raw, so every id
 * decodes to the bytes it was added with.
 *
 * Layout 1, which the state holds from before layout 2, is the same
 * without the mark and P: the status field is the index alone and every
 * id is (id_len, id bytes). Its varints are minimal, so it never starts
 * with 0x80 0x00; the decoder tells the two apart by that and reads both.
 * (A decoder that knows only layout 1 reads a layout-2 blob as nstr = 0
 * with records, and rejects it as malformed.) */
#ifndef BATCH_H
#define BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

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

/* Decodes a blob made by batch_encode (either layout), calling fn for
 * each record in order. The spans of r point into data, except a packed
 * record_id, which is expanded into a buffer of the decode call: copy
 * what must outlive the callback. Returns 0, fn's non-zero value, or -1
 * if the blob is malformed (never reading outside data[0..len)). */
int batch_decode(const void *data, size_t len,
		 int (*fn)(void *ctx, const struct usage_rec *r), void *ctx);

/* As batch_decode, but first calls strs with the batch's string table,
 * then fn with each record and the table indexes of its tenant, item,
 * status, unit and dims (ids[0..4]), so a caller can resolve each
 * distinct string once per batch. The table's spans point into data and
 * are valid until the call returns; record spans as for batch_decode. */
int batch_decode_ids(const void *data, size_t len,
		     int (*strs)(void *ctx, const struct span *s, size_t n),
		     int (*fn)(void *ctx, const struct usage_rec *r,
			       const uint32_t ids[5]),
		     void *ctx);

#endif
