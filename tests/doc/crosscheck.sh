#!/bin/sh
# crosscheck.sh PERIOD_DIR: every number of the exported documents.jsonl
# equals the CSVs of the same close (SPEC 12: "Every number in every
# document equals the CSVs"), and the documents add up:
# - every invoice of invoices.csv and every adjustment of adjustments.csv
#   has exactly one document, and no document is extra;
# - an invoice: its lines are the invoice_lines.csv rows of its number
#   (item, price_group, unit, every quantity, amount), they sum to its net,
#   net + tax = total, and net, tax, total, the four balances, version,
#   issue_date and due_date equal its invoices.csv row;
# - an adjustment: its lines are its changed-line rows (old, new, delta),
#   they sum to its net, its tax is the tax row's delta (0 without one),
#   its total the total row's delta, net + tax = total.
# Amounts are compared as integers of minor units (the dot removed), so
# no floating point decides anything. Plain sh and awk: python is not
# guaranteed where the tests run. Prints one summary line; exit 1 on any
# difference.
set -u
d=${1:?usage: crosscheck.sh OUT/YYYY-MM}
j="$d/documents/documents.jsonl"
for f in "$j" "$d/invoices.csv" "$d/invoice_lines.csv" "$d/adjustments.csv"; do
	[ -s "$f" ] || { echo "crosscheck: $f missing"; exit 1; }
done
awk '
# one CSV record (RFC 4180, no line breaks inside fields) into f[1..n];
# a text cell guarded against spreadsheets (SPEC 9) loses its quote
function csv(line, f,    n, i, c, q, v) {
	n = 0; v = ""; q = 0
	for (i = 1; i <= length(line); i++) {
		c = substr(line, i, 1)
		if (q) {
			if (c == "\"" && substr(line, i + 1, 1) == "\"") { v = v c; i++ }
			else if (c == "\"") q = 0
			else v = v c
		} else if (c == "\"") q = 1
		else if (c == ",") { f[++n] = unguard(v); v = "" }
		else v = v c
	}
	f[++n] = unguard(v)
	return n
}
function unguard(v) {
	return (v ~ /^\047[-=+@\t\r]/) ? substr(v, 2) : v
}
# minor units of an amount ("-6.60" -> -660)
function units(s) { gsub(/\./, "", s); return s + 0 }
# the JSON string value of the first "key":"..." in s (no escapes here:
# the values compared are numbers, codes and dates)
function jget(s, key,    i, r) {
	i = index(s, "\"" key "\":\"")
	if (!i) return "?missing?"
	r = substr(s, i + length(key) + 4)
	return substr(r, 1, index(r, "\"") - 1)
}
function jint(s, key,    i, r) {
	i = index(s, "\"" key "\":")
	r = substr(s, i + length(key) + 3)
	return r + 0
}
function eq(what, a, b) {
	checks++
	if (a != b) { print "crosscheck: " what ": document " a ", CSV " b; bad++ }
}
FILENAME ~ /invoices\.csv$/ {
	n = csv($0, f)
	if (FNR == 1) { for (i = 1; i <= n; i++) ic[f[i]] = i; next }
	no = f[ic["invoice_no"]]; inv[no] = 1
	for (k in ic) iv[no, k] = f[ic[k]]
	next
}
FILENAME ~ /invoice_lines\.csv$/ {
	n = csv($0, f)
	if (FNR == 1) { for (i = 1; i <= n; i++) lc[f[i]] = i; next }
	no = f[lc["invoice_no"]]; key = no SUBSEP f[lc["item"]] SUBSEP f[lc["price_group"]]
	nl[no]++; line[key] = 1
	for (k in lc) lv[key, k] = f[lc[k]]
	next
}
FILENAME ~ /adjustments\.csv$/ {
	n = csv($0, f)
	if (FNR == 1) { for (i = 1; i <= n; i++) ac[f[i]] = i; next }
	no = f[ac["adjustment_no"]]; adj[no] = 1
	key = no SUBSEP f[ac["item"]] SUBSEP f[ac["price_group"]]
	if (f[ac["item"]] != "") na[no]++
	arow[key] = 1
	for (k in ac) av[key, k] = f[ac[k]]
	next
}
{	# documents.jsonl
	type = jget($0, "type"); no = jget($0, "number")
	seen[no]++
	ls = substr($0, index($0, "\"lines\":[") + 9)
	top = substr(ls, index(ls, "],\"net\":") + 2)
	ls = substr(ls, 1, index(ls, "],\"net\":") - 1)
	tax = substr(top, index(top, "\"tax\":{"))
	tax = substr(tax, 1, index(tax, "}"))
	net = units(jget(top, "net")); t = units(jget(tax, "amount"))
	tot = units(jget(top, "total"))
	eq(no " net + tax = total", net + t, tot)
	cnt = split(ls, parts, /\{"item":"/)
	sum = 0; nlines = 0
	for (i = 2; i <= cnt; i++) {
		p = parts[i]; item = substr(p, 1, index(p, "\"") - 1)
		key = no SUBSEP item SUBSEP jget(p, "price_group"); nlines++
		if (type == "invoice") {
			if (!(key in line)) { eq(no " line " item, "present", "absent"); continue }
			sum += units(jget(p, "amount"))
			eq(no " " item " amount", jget(p, "amount"), lv[key, "amount"])
			split("unit usage_qty package_qty forgiven_qty uncovered_qty billable_qty", q, " ")
			for (k = 1; k <= 6; k++)
				eq(no " " item " " q[k], jget(p, q[k]), lv[key, q[k]])
		} else {
			if (!(key in arow)) { eq(no " line " item, "present", "absent"); continue }
			sum += units(jget(p, "delta"))
			eq(no " " item " old", jget(p, "old_amount"), av[key, "old_amount"])
			eq(no " " item " new", jget(p, "new_amount"), av[key, "new_amount"])
			eq(no " " item " delta", jget(p, "delta"), av[key, "delta"])
		}
	}
	eq(no " sum of lines = net", sum, net)
	if (type == "invoice") {
		ninv++
		if (!(no in inv)) { eq(no, "a document", "no invoices.csv row"); next }
		eq(no " lines", nlines, nl[no] + 0)
		eq(no " net", jget(top, "net"), iv[no, "net"])
		eq(no " tax", jget(tax, "amount"), iv[no, "tax"])
		eq(no " total", jget(top, "total"), iv[no, "total"])
		split("balance_before paid_from_balance amount_due balance_after", q, " ")
		for (k = 1; k <= 4; k++) eq(no " " q[k], jget(top, q[k]), iv[no, q[k]])
		eq(no " version", jint($0, "version"), iv[no, "version"])
		eq(no " issue_date", jget($0, "issue_date"), iv[no, "issue_date"])
		eq(no " due_date", jget($0, "due_date"), iv[no, "due_date"])
	} else {
		nadj++
		if (!(no in adj)) { eq(no, "a document", "no adjustments.csv row"); next }
		eq(no " lines", nlines, na[no] + 0)
		eq(no " tax delta", t, ((no SUBSEP "" SUBSEP "tax") in arow) ? units(av[no, "", "tax", "delta"]) : 0)
		eq(no " total delta", jget(top, "total"), av[no, "", "", "delta"])
		eq(no " issue_date", jget($0, "issue_date"), av[no, "", "", "issue_date"])
	}
}
END {
	for (no in inv) eq(no " documents", seen[no] + 0, 1)
	for (no in adj) eq(no " documents", seen[no] + 0, 1)
	printf "crosscheck: %d invoices, %d adjustments, %d checks, %d failed\n", ninv, nadj, checks, bad
	exit bad > 0
}' "$d/invoices.csv" "$d/invoice_lines.csv" "$d/adjustments.csv" "$j"
