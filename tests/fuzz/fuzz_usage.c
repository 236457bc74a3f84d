/* Fuzz target: the usage reader over raw bytes (plain CSV, gzip, junk).
 *
 * Properties: no crash, leak or undefined behaviour; every record and
 * reject is what usage.h promises (usagecheck.h); lines count 1, 2, 3...;
 * reading the same bytes in chunks of 1..64 bytes gives exactly what
 * reading them in 256 KiB chunks gives (the reader's result may not
 * depend on how read() splits the file); and at both sizes the fast path
 * gives exactly what libcsv alone gives (usage_set_fast). */
#include "usagecheck.h"
#include "banned.h"

static struct uread big, small, ref;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	uc_env();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t sz = size ? 1 + data[size - 1] % 64 : 1;

	uc_read(data, size, 0, 1, &big);
	uc_read(data, size, 0, 0, &ref);
	uc_identical(&big, &ref);
	uc_read(data, size, sz, 1, &small);
	uc_read(data, size, sz, 0, &ref);
	uc_identical(&small, &ref);
	uc_same(&big, &small);
	return 0;
}
