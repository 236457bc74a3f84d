#!/bin/sh
# Document tests (SPEC 12). Usage: check.sh MKDOCS OUTDIR
# MKDOCS (tests/doc/mkdocs.c) writes sample documents into OUTDIR; then
# - every UBL file must be well-formed (xmllint --noout) and pass the
#   EN 16931 and Peppol BIS 3.0 rules settle relies on, written below as
#   XPath 1.0 from the rules' published text (rule ids quoted);
# - every HTML page must be self-contained, and rendered by headless
#   chromium to PDF must show its number, both parties, every line's
#   amount and the total (pdftotext); the 200-line invoice must span more
#   than one page with the table header on each; hostile names must show
#   as literal text; a few pages are also saved as PNG screenshots
#   (OUTDIR/*.png) for a person to look at.
# Fails closed: no sample, no UBL file or a missing tool is a failure.
#
# check.sh --ubl DIR: the UBL rules only, on the files DIR/expect.tsv
# lists (tests/doc/check-export.sh writes it for the files `settle
# export` wrote).
set -u
ubl_only=0
if [ "$1" = --ubl ]; then ubl_only=1; out=$2; else mk=$1; out=$2; fi
fail=0; checks=0
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
ok() { checks=$((checks + 1)); }

for t in xmllint chromium pdftotext pdfinfo; do
	command -v $t >/dev/null 2>&1 || { echo "check.sh: $t missing (scripts/install-doc-deps.sh)"; exit 1; }
done
if [ $ubl_only = 0 ]; then
	rm -rf "$out" && mkdir -p "$out" || exit 1
	"$mk" "$out" || { echo "check.sh: $mk failed"; exit 1; }
fi
[ -s "$out/expect.tsv" ] || { echo "check.sh: no samples"; exit 1; }

# ---------------------------------------------------------------- UBL
# x FILE EXPR: evaluates an XPath 1.0 boolean in which cac:Name and
# cbc:Name mean the UBL element of that local name.
x() {
	e=$(printf '%s' "$2" | sed "s/c[ab]c:\([A-Za-z]*\)/*[local-name()='\1']/g")
	xmllint --xpath "boolean($e)" "$1" 2>/dev/null
}
# rule FILE ID EXPR: the rule holds, or a failure naming it.
rule() {
	if [ "$(x "$1" "$3")" = true ]; then ok; else bad "$2 in $(basename "$1")"; fi
}
# EQ A B: two amounts equal, up to binary floating error (XPath 1.0 has
# only doubles; every amount here has at most 2 decimals).
EQ() { printf '((%s) - (%s) < 0.005 and (%s) - (%s) < 0.005)' "$1" "$2" "$2" "$1"; }

T='/*/cac:LegalMonetaryTotal'
L='/*/cac:InvoiceLine | /*/cac:CreditNoteLine'
SUB='/*/cac:TaxTotal/cac:TaxSubtotal'
ubl_files=0
while IFS="$(printf '\t')" read -r num tag code cat; do
	[ "$tag" = "@ubl" ] || continue
	f="$out/$num.xml"
	ubl_files=$((ubl_files + 1))
	if ! xmllint --noout "$f"; then bad "xmllint $num.xml"; continue; fi
	ok
	# document level: BR-01 specification id (R004 Peppol's value),
	# R001 profile, BR-02 number, BR-03 issue date, BR-04 type code,
	# BR-05 currency, R003 buyer reference, BR-16 at least one line
	rule "$f" BR-01 "/*/cbc:CustomizationID = 'urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0'"
	rule "$f" PEPPOL-EN16931-R001 "/*/cbc:ProfileID = 'urn:fdc:peppol.eu:2017:poacc:billing:01:1.0'"
	rule "$f" BR-02 "/*/cbc:ID = '$num'"
	rule "$f" BR-03 "string-length(/*/cbc:IssueDate) = 10"
	rule "$f" BR-04 "/*/cbc:InvoiceTypeCode = '$code' or /*/cbc:CreditNoteTypeCode = '$code'"
	rule "$f" BR-05 "string-length(/*/cbc:DocumentCurrencyCode) = 3"
	rule "$f" PEPPOL-EN16931-R003 "/*/cbc:BuyerReference"
	rule "$f" BR-16 "count($L) >= 1"
	rule "$f" PEPPOL-EN16931-R002 "count(/*/cbc:Note) <= 1"
	rule "$f" PEPPOL-EN16931-R008 "not(//*[not(*) and not(normalize-space())])"
	rule "$f" PEPPOL-EN16931-R051 "not(//*[@currencyID and @currencyID != /*/cbc:DocumentCurrencyCode])"
	# BR-DEC-*: every amount (currencyID) has at most 2 decimals
	rule "$f" BR-DEC "not(//*[@currencyID][string-length(substring-after(., '.')) > 2])"
	# BR-29: the invoicing period ends on or after its start
	rule "$f" BR-29 "number(translate(/*/cac:InvoicePeriod/cbc:EndDate, '-', '')) >= number(translate(/*/cac:InvoicePeriod/cbc:StartDate, '-', ''))"
	# parties: BR-06/BR-07 names, BR-08/BR-09 and BR-10/BR-11 postal
	# address with country, R020/R010 electronic addresses with scheme,
	# BR-CO-26 a seller identifier, legal or VAT identifier
	S='/*/cac:AccountingSupplierParty/cac:Party'
	B='/*/cac:AccountingCustomerParty/cac:Party'
	rule "$f" BR-06 "$S/cac:PartyLegalEntity/cbc:RegistrationName"
	rule "$f" BR-07 "$B/cac:PartyLegalEntity/cbc:RegistrationName"
	rule "$f" BR-09 "string-length($S/cac:PostalAddress/cac:Country/cbc:IdentificationCode) = 2"
	rule "$f" BR-11 "string-length($B/cac:PostalAddress/cac:Country/cbc:IdentificationCode) = 2"
	rule "$f" PEPPOL-EN16931-R020 "$S/cbc:EndpointID/@schemeID"
	rule "$f" PEPPOL-EN16931-R010 "$B/cbc:EndpointID/@schemeID"
	rule "$f" BR-CO-26 "$S/cac:PartyIdentification/cbc:ID or $S/cac:PartyLegalEntity/cbc:CompanyID or $S/cac:PartyTaxScheme[cac:TaxScheme/cbc:ID = 'VAT']/cbc:CompanyID"
	# BR-CO-09: a VAT identifier starts with a country prefix
	rule "$f" BR-CO-09 "not(//cac:PartyTaxScheme[cac:TaxScheme/cbc:ID = 'VAT'][translate(substring(cbc:CompanyID, 1, 2), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', '') != ''])"
	# lines: BR-21..BR-26 id, quantity, unit, net, item name, price;
	# BR-27 price not negative; PEPPOL-EN16931-R120 net = quantity x
	# price / base quantity + charges - allowances; R121 base quantity
	# above 0; R130 base quantity unit = quantity unit
	rule "$f" BR-21..26 "not(($L)[not(cbc:ID) or not(cbc:InvoicedQuantity/@unitCode or cbc:CreditedQuantity/@unitCode) or not(cbc:LineExtensionAmount) or not(cac:Item/cbc:Name) or not(cac:Price/cbc:PriceAmount)])"
	rule "$f" BR-27 "not(($L)/cac:Price/cbc:PriceAmount[. < 0])"
	rule "$f" PEPPOL-EN16931-R121 "not(($L)/cac:Price/cbc:BaseQuantity[. <= 0])"
	rule "$f" PEPPOL-EN16931-R130 "not(($L)/cac:Price/cbc:BaseQuantity[@unitCode != (../../cbc:InvoicedQuantity/@unitCode | ../../cbc:CreditedQuantity/@unitCode)])"
	n=$(xmllint --xpath "count($(printf '%s' "$L" | sed "s/c[ab]c:\([A-Za-z]*\)/*[local-name()='\1']/g"))" "$f")
	i=1
	while [ "$i" -le "$n" ]; do
		ln="(($L))[$i]"
		q="sum($ln/cbc:InvoicedQuantity | $ln/cbc:CreditedQuantity)"
		base="(sum($ln/cac:Price/cbc:BaseQuantity) + number(not($ln/cac:Price/cbc:BaseQuantity)))"
		ch="sum($ln/cac:AllowanceCharge[cbc:ChargeIndicator = 'true']/cbc:Amount)"
		al="sum($ln/cac:AllowanceCharge[cbc:ChargeIndicator = 'false']/cbc:Amount)"
		rule "$f" "PEPPOL-EN16931-R120 line $i" "$(EQ "$ln/cbc:LineExtensionAmount" "$q * $ln/cac:Price/cbc:PriceAmount div $base + $ch - $al")"
		i=$((i + 1))
	done
	# sums: BR-CO-10 lines = LineExtensionAmount; BR-CO-13 tax
	# exclusive = lines (no document allowances or charges); BR-CO-14
	# tax total = sum of the breakdown; BR-CO-15 inclusive = exclusive +
	# tax; BR-CO-16 payable = inclusive - prepaid + rounding; R053 one
	# tax total with breakdown; BR-CO-18 at least one breakdown
	rule "$f" BR-CO-10 "$(EQ "sum(($L)/cbc:LineExtensionAmount)" "$T/cbc:LineExtensionAmount")"
	rule "$f" BR-CO-13 "$(EQ "$T/cbc:TaxExclusiveAmount" "$T/cbc:LineExtensionAmount")"
	rule "$f" BR-CO-14 "$(EQ "/*/cac:TaxTotal/cbc:TaxAmount" "sum($SUB/cbc:TaxAmount)")"
	rule "$f" BR-CO-15 "$(EQ "$T/cbc:TaxInclusiveAmount" "$T/cbc:TaxExclusiveAmount + /*/cac:TaxTotal/cbc:TaxAmount")"
	rule "$f" BR-CO-16 "$(EQ "$T/cbc:PayableAmount" "$T/cbc:TaxInclusiveAmount - sum($T/cbc:PrepaidAmount) + sum($T/cbc:PayableRoundingAmount)")"
	rule "$f" PEPPOL-EN16931-R053 "count(/*/cac:TaxTotal[cac:TaxSubtotal]) = 1"
	rule "$f" BR-CO-18 "count($SUB) >= 1"
	# BR-CO-25: a positive amount due needs a due date or payment terms
	rule "$f" BR-CO-25 "not($T/cbc:PayableAmount > 0) or /*/cbc:DueDate or /*/cac:PaymentTerms/cbc:Note"
	# the breakdown's taxable amount is the sum of the lines of its
	# category (BR-S-08, BR-Z-08, BR-E-08, BR-AE-08, BR-O-08: one
	# category per settle document)
	rule "$f" "BR-$cat-08" "$(EQ "$SUB/cbc:TaxableAmount" "sum(($L)[cac:Item/cac:ClassifiedTaxCategory/cbc:ID = '$cat']/cbc:LineExtensionAmount)")"
	rule "$f" "BR-$cat-01" "$SUB/cac:TaxCategory/cbc:ID = '$cat' and count($SUB) = 1 and not(($L)[cac:Item/cac:ClassifiedTaxCategory/cbc:ID != '$cat'])"
	case $code in
	381|384) # BR-55 / SPEC 12: a correction references its invoice
		rule "$f" BR-55 "/*/cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID" ;;
	esac
	VATS="$S/cac:PartyTaxScheme/cbc:CompanyID"
	case $cat in
	S)	# BR-S-02 seller VAT or tax registration id; BR-S-05 line rate
		# above 0; BR-S-09 / BR-CO-17 tax = taxable x rate / 100
		# rounded to 2 decimals; BR-S-10 no exemption reason
		rule "$f" BR-S-02 "$VATS"
		rule "$f" BR-S-05 "not(($L)/cac:Item/cac:ClassifiedTaxCategory[not(cbc:Percent > 0)])"
		rule "$f" BR-S-09 "$(EQ "$SUB/cbc:TaxAmount" "round($SUB/cbc:TaxableAmount * $SUB/cac:TaxCategory/cbc:Percent) div 100")"
		rule "$f" BR-S-10 "not($SUB/cac:TaxCategory/cbc:TaxExemptionReason)" ;;
	Z|E|AE)	# BR-x-02 seller id; BR-x-05 line rate 0; BR-x-06 rate 0;
		# BR-x-09 tax 0; BR-Z-10 no exemption reason, BR-E-10 and
		# BR-AE-10 a reason; BR-AE-02 also the buyer's VAT or legal id
		rule "$f" "BR-$cat-02" "$VATS"
		rule "$f" "BR-$cat-05" "not(($L)/cac:Item/cac:ClassifiedTaxCategory[not(cbc:Percent = 0)])"
		rule "$f" "BR-$cat-06" "$SUB/cac:TaxCategory/cbc:Percent = 0"
		rule "$f" "BR-$cat-09" "$SUB/cbc:TaxAmount = 0"
		if [ "$cat" = Z ]; then
			rule "$f" BR-Z-10 "not($SUB/cac:TaxCategory/cbc:TaxExemptionReason)"
		else
			rule "$f" "BR-$cat-10" "string-length($SUB/cac:TaxCategory/cbc:TaxExemptionReason) > 0"
		fi
		[ "$cat" = AE ] && rule "$f" BR-AE-02-buyer "$B/cac:PartyTaxScheme[cac:TaxScheme/cbc:ID = 'VAT']/cbc:CompanyID or $B/cac:PartyLegalEntity/cbc:CompanyID" ;;
	O)	# BR-O-02 no VAT id of seller or buyer; BR-O-05 no line rate;
		# BR-O-09 tax 0; BR-O-10 a reason; BR-O-11 no other category
		rule "$f" BR-O-02 "not(//cac:PartyTaxScheme[cac:TaxScheme/cbc:ID = 'VAT'])"
		rule "$f" BR-O-05 "not(($L)/cac:Item/cac:ClassifiedTaxCategory/cbc:Percent) and not($SUB/cac:TaxCategory/cbc:Percent)"
		rule "$f" BR-O-09 "$SUB/cbc:TaxAmount = 0"
		rule "$f" BR-O-10 "string-length($SUB/cac:TaxCategory/cbc:TaxExemptionReason) > 0"
		rule "$f" BR-O-11 "count(/*/cac:TaxTotal/cac:TaxSubtotal) = 1" ;;
	esac
done < "$out/expect.tsv"
if [ $ubl_only = 1 ]; then
	echo "doctest: $checks passed, $fail failed ($ubl_files exported UBL files in $out)"
	[ "$fail" -eq 0 ]
	exit
fi
[ "$ubl_files" -ge 8 ] || bad "only $ubl_files UBL files"
# the checks themselves fail closed: a payable amount off by 0.01 breaks
# BR-CO-16, a price off by 0.02 breaks R120 on its line
m="$out/mutant.xml"
sed 's|<cbc:PayableAmount currencyID="CNY">1728.61|<cbc:PayableAmount currencyID="CNY">1728.62|; s|<cbc:PriceAmount currencyID="CNY">37.33|<cbc:PriceAmount currencyID="CNY">37.35|' \
	"$out/INV-202611-000001.xml" > "$m"
[ "$(x "$m" "$(EQ "$T/cbc:PayableAmount" "$T/cbc:TaxInclusiveAmount - sum($T/cbc:PrepaidAmount) + sum($T/cbc:PayableRoundingAmount)")")" = false ] && ok || bad "BR-CO-16 check does not catch a wrong payable amount"
ln="(($L))[2]"
[ "$(x "$m" "$(EQ "$ln/cbc:LineExtensionAmount" "$ln/cbc:InvoicedQuantity * $ln/cac:Price/cbc:PriceAmount div $ln/cac:Price/cbc:BaseQuantity")")" = false ] && ok || bad "R120 check does not catch a wrong price"
rm -f "$m"

# --------------------------------------------------------------- HTML
pages=$(ls "$out"/*.html | wc -l)
[ "$pages" -ge 9 ] || bad "only $pages HTML pages"
for h in "$out"/*.html; do
	# self-contained: no script, no external resource
	if grep -qiE '<script|<link|<img|<iframe|src=|href=|@import|url\(' "$h"; then
		bad "$(basename "$h") is not self-contained"
	else ok; fi
done
render() { # render HTML PDF
	chromium --headless --no-sandbox --disable-gpu --no-pdf-header-footer \
		--print-to-pdf="$2" "file://$(cd "$(dirname "$1")" && pwd)/$(basename "$1")" >/dev/null 2>&1
}
shot() { # shot HTML PNG
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--window-size=900,1273 --screenshot="$2" \
		"file://$(cd "$(dirname "$1")" && pwd)/$(basename "$1")" >/dev/null 2>&1
}
# two browsers at a time: the machine has two cores
set -- "$out"/*.html
while [ $# -gt 0 ]; do
	render "$1" "${1%.html}.pdf" &
	if [ $# -gt 1 ]; then render "$2" "${2%.html}.pdf"; shift; fi
	wait; shift
done
shot "$out/INV-202611-000001.html" "$out/invoice-cny.png" &
shot "$out/INV-202611-000003.html" "$out/invoice-hostile.png"
wait
shot "$out/INV-202611-000001-A1.html" "$out/credit-note.png"
for p in invoice-cny invoice-hostile credit-note; do
	[ -s "$out/$p.png" ] && ok || bad "no screenshot $p.png"
done

# every expected text is in the PDF's text (whitespace folded, so a
# name wrapped over two lines still matches)
for pdf in "$out"/*.pdf; do
	[ -s "$pdf" ] || { bad "no PDF $(basename "$pdf")"; continue; }
	pdftotext -enc UTF-8 "$pdf" - | tr -s ' \n\t\f' '    ' > "${pdf%.pdf}.txt"
done
while IFS="$(printf '\t')" read -r num text rest; do
	[ "$text" = "@ubl" ] && continue
	if grep -qF -- "$text" "$out/$num.txt" 2>/dev/null; then ok
	else bad "'$text' not on the page of $num"; fi
done < "$out/expect.tsv"

# the hostile names are literal text on the page
for s in '<script>alert(1)</script>' '=HYPERLINK("http://x","y")'; do
	grep -qF -- "$s" "$out/INV-202611-000003.txt" && ok || bad "hostile '$s' not shown as text"
done
# the CJK buyer name renders with real glyphs (pdftotext gets it back)
grep -qF '北京云视科技有限公司' "$out/INV-202611-000001.txt" && ok || bad "CJK buyer name not on the page"

# the 200-line invoice: more than one page, the table header on each
# page that has lines
long="$out/INV-202611-000002.pdf"
np=$(pdfinfo "$long" 2>/dev/null | sed -n 's/^Pages: *//p')
[ "${np:-0}" -gt 1 ] && ok || bad "200-line invoice has ${np:-0} pages"
i=1
while [ "$i" -le "${np:-0}" ]; do
	t=$(pdftotext -f "$i" -l "$i" "$long" - | tr -s ' \n' '  ')
	# a page with lines has the header; the last may hold only totals
	case $t in
	*DESCRIPTION*QUANTITY*AMOUNT*) ok ;;
	*"Monitoring metric"*) bad "page $i of the 200-line invoice has lines but no table header" ;;
	*"Amount due"*) ok ;;
	*) bad "page $i of the 200-line invoice is empty" ;;
	esac
	i=$((i + 1))
done
# the short invoice fits one page
np=$(pdfinfo "$out/INV-202611-000001.pdf" | sed -n 's/^Pages: *//p')
[ "$np" = 1 ] && ok || bad "the 6-line invoice takes $np pages"

echo "doctest: $checks passed, $fail failed ($ubl_files UBL files, $pages pages)"
[ "$fail" -eq 0 ]
