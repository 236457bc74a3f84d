/* version: settle's version, in one place.
 *
 * `settle --version` prints it, and ledger_inputs hashes "settle " and it
 * into the inputs digest every close stores with its period (ledger.h). So
 * a settle with another version finds every earlier close's inputs
 * different and rates again instead of trusting them: bump it whenever a
 * change of settle could change outputs for the same inputs. Changing it
 * changes no state file format. */
#ifndef VERSION_H
#define VERSION_H

#define SETTLE_VERSION "0.1.0"

#endif
