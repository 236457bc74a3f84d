#!/bin/sh
# Document tests on what `settle export` writes (SPEC 12), run by `make
# doctest` after check.sh's samples. Usage: check-export.sh SETTLE OUTDIR
# - the e2e case export-documents (categories S Z E AE O, a credit note
#   381 and a corrected invoice 384) and the demo (testdata/demo) are
#   closed and exported into OUTDIR;
# - every exported UBL file passes check.sh's EN 16931 / Peppol rules,
#   with its type code and category read from the file itself, and every
#   one of 380, 381, 384 and of S, Z, E, AE, O must occur;
# - every number of each documents.jsonl equals its close's CSVs
#   (crosscheck.sh);
# - each demo page, printed to PDF by headless chromium, shows its
#   number, its buyer and its total (pdftotext), and a screenshot of the
#   first is kept (OUTDIR/demo-invoice.png) for a person to look at.
set -u
settle=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); out=$2
here=$(cd "$(dirname "$0")" && pwd); top=$(cd "$here/../.." && pwd)
fail=0
rm -rf "$out" && mkdir -p "$out" && out=$(cd "$out" && pwd) || exit 1
# the e2e case's closes and export, as its cmd runs them
case_dir="$top/tests/e2e/export-documents"
(
	cd "$out" && cp -R "$case_dir/config" "$case_dir/fixtures" . &&
	mkdir usage && export SETTLE_NOW=2026-03-01T00:00:00Z &&
	cp fixtures/u-v1.csv usage/u.csv &&
	"$settle" run --db e2e.db --config config --period 2026-01 --out e2e usage/u.csv &&
	cp fixtures/u-v2.csv usage/u.csv &&
	"$settle" run --db e2e.db --config config --period 2026-01 --out e2e usage/u.csv
	"$settle" export --db e2e.db --period 2026-01 --out e2e
	[ $? = 3 ] # INV-202601-000005 is withheld on purpose
) >"$out/e2e.log" 2>&1 || { echo "check-export: the e2e export failed (see $out/e2e.log)"; exit 1; }
(
	cd "$out" &&
	"$settle" run --db demo.db --config "$top/testdata/demo/config" --period 2026-10 --out demo "$top"/testdata/demo/usage/*.csv.gz &&
	"$settle" export --db demo.db --period 2026-10 --out demo
) >"$out/demo.log" 2>&1 || { echo "check-export: the demo export failed (see $out/demo.log)"; exit 1; }
sh "$here/crosscheck.sh" "$out/e2e/2026-01" || fail=1
sh "$here/crosscheck.sh" "$out/demo/2026-10" || fail=1

# UBL: one expect.tsv for every exported file, then check.sh --ubl
ubl="$out/ubl"
mkdir -p "$ubl"
: > "$ubl/expect.tsv"
for f in "$out"/e2e/2026-01/documents/*.xml "$out"/demo/2026-10/documents/*.xml; do
	n=$(basename "$f" .xml)
	cp "$f" "$ubl/"
	code=$(xmllint --xpath "string(/*/*[local-name()='InvoiceTypeCode' or local-name()='CreditNoteTypeCode'])" "$f")
	cat=$(xmllint --xpath "string(/*/*[local-name()='TaxTotal']/*[local-name()='TaxSubtotal']/*[local-name()='TaxCategory']/*[local-name()='ID'])" "$f")
	printf '%s\t@ubl\t%s\t%s\n' "$n" "$code" "$cat" >> "$ubl/expect.tsv"
done
for want in 380 381 384; do
	cut -f3 "$ubl/expect.tsv" | grep -qx $want || { echo "FAIL: no exported UBL file of type $want"; fail=1; }
done
for want in S Z E AE O; do
	cut -f4 "$ubl/expect.tsv" | grep -qx $want || { echo "FAIL: no exported UBL file of category $want"; fail=1; }
done
sh "$here/check.sh" --ubl "$ubl" || fail=1

# the demo pages as a customer gets them
d="$out/demo/2026-10/documents"
pages=0
for h in "$d"/*.html; do
	n=$(basename "$h" .html)
	chromium --headless --no-sandbox --disable-gpu --no-pdf-header-footer \
		--print-to-pdf="$out/$n.pdf" "file://$h" >/dev/null 2>&1
	pdftotext -enc UTF-8 "$out/$n.pdf" - 2>/dev/null | tr -s ' \n\t\f' '    ' > "$out/$n.txt"
	line=$(grep -F "\"number\":\"$n\"" "$d/documents.jsonl")
	name=$(printf '%s' "$line" | sed 's/.*"buyer":{[^}]*"name":"\([^"]*\)".*/\1/')
	total=$(printf '%s' "$line" | sed 's/.*"total":"\([^"]*\)".*/\1/' |
		sed ':a;s/\([0-9]\)\([0-9]\{3\}\)\([.,]\)/\1,\2\3/;ta')
	for t in "$n" "$name" "$total"; do
		grep -qF -- "$t" "$out/$n.txt" || { echo "FAIL: '$t' not on the page of $n"; fail=1; }
	done
	pages=$((pages + 1))
done
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=900,1273 \
	--screenshot="$out/demo-invoice.png" "file://$d/DEMO-202610-000001.html" >/dev/null 2>&1
[ -s "$out/demo-invoice.png" ] || { echo "FAIL: no screenshot of the demo invoice"; fail=1; }
[ "$pages" -ge 6 ] || { echo "FAIL: only $pages demo pages"; fail=1; }
echo "doctest: exported documents checked ($pages demo pages rendered)"
[ $fail = 0 ]
