#!/bin/sh
# make demo: ingest the bundled demo usage (testdata/demo), show the draft
# for October 2026, close the month, then export its documents (JSON,
# HTML, UBL e-invoices) into demo-out/2026-10/documents/. Outputs go to
# demo-out/, the state to demo.db; both are made anew each time.
set -e
cd "$(dirname "$0")/.."
rm -rf demo-out demo.db demo.db-wal demo.db-shm
cfg=testdata/demo/config
./settle ingest --db demo.db testdata/demo/usage/*.csv.gz
./settle invoice --db demo.db --config $cfg --period 2026-10 --out demo-out
./settle close --db demo.db --config $cfg --period 2026-10 --out demo-out
./settle status --db demo.db
./settle export --db demo.db --period 2026-10 --out demo-out
for f in invoices.csv invoice_lines.csv package_usage.csv arrears.csv \
	rejects.csv summary.txt; do
	echo
	echo "== demo-out/2026-10/$f"
	cat demo-out/2026-10/$f
done
echo
echo "== demo-out/2026-10/documents/ (open the .html files in a browser)"
ls demo-out/2026-10/documents
