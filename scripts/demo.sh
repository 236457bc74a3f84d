#!/bin/sh
# make demo: ingest the bundled demo usage, show the draft for October 2026,
# then close the month. Outputs go to demo-out/, the state to demo.db.
set -e
cd "$(dirname "$0")/.."
rm -rf demo-out demo.db demo.db-wal demo.db-shm
./settle ingest --db demo.db testdata/demo/usage/*.csv.gz
./settle invoice --db demo.db --config testdata/demo/config \
	--period 2026-10 --out demo-out
./settle status --db demo.db
echo
echo "== demo-out/2026-10/draft/invoices.csv"
cat demo-out/2026-10/draft/invoices.csv
echo
echo "== demo-out/2026-10/draft/invoice_lines.csv"
cat demo-out/2026-10/draft/invoice_lines.csv
echo
echo "== demo-out/2026-10/draft/summary.txt"
cat demo-out/2026-10/draft/summary.txt
