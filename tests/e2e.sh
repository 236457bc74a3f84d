#!/bin/sh
# Golden end-to-end tests: one folder per case under tests/e2e/.
#   CASE/cmd      shell commands, run in a fresh copy of CASE with the
#                 settle under test first on PATH (as `settle`) and
#                 $TESTDATA naming the tree's testdata/ folder
#   CASE/expect/  expected files, compared byte for byte: `stdout`,
#                 `stderr` and `exit` of cmd, and any file cmd leaves
#                 behind (e.g. expect/out/2026-01/draft/invoices.csv)
# Usage: tests/e2e.sh SETTLE [CASE...]; prints "e2e: N passed, N failed".
# With UPDATE=1 it shows the diff and copies actual into expect/ for
# review (never to make a red test green unchecked).
settle=$1; shift
case $settle in /*) ;; *) settle=$(pwd)/$settle ;; esac
top=$(cd "$(dirname "$0")/.." && pwd)
root=$top/tests/e2e
# cmd scripts may copy shared inputs from $TESTDATA (testdata/ of the tree)
export TESTDATA="$top/testdata"
[ $# -gt 0 ] || set -- $(cd "$root" && ls -d */ | tr -d /)
bindir=$(mktemp -d); ln -s "$settle" "$bindir/settle"
pass=0; fail=0
for c in "$@"; do
	src=$root/$c
	[ -f "$src/cmd" ] || continue
	work=$(mktemp -d)
	cp -R "$src/." "$work/"
	rm -rf "$work/expect"
	( cd "$work" && PATH="$bindir:$PATH" sh ./cmd >stdout 2>stderr; echo $? >exit )
	ok=1
	for f in $(cd "$src/expect" && find . -type f | sort); do
		if ! cmp -s "$src/expect/$f" "$work/$f"; then
			ok=0
			echo "--- $c: $f differs"
			diff -u "$src/expect/$f" "$work/$f" 2>&1 | head -n 40
			if [ -n "$UPDATE" ]; then
				mkdir -p "$(dirname "$src/expect/$f")"; cp "$work/$f" "$src/expect/$f"
			fi
		fi
	done
	if [ $ok = 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL e2e $c"; fi
	rm -rf "$work"
done
rm -rf "$bindir"
echo "e2e: $pass passed, $fail failed"
[ $fail -eq 0 ]
