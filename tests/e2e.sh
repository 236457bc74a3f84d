#!/bin/sh
# Golden end-to-end tests: one folder per case under tests/e2e/ (see
# tests/README.md).
#   CASE/cmd      shell commands, run in a fresh copy of CASE with the
#                 settle under test first on PATH (as `settle`) and
#                 $TESTDATA naming the tree's testdata/ folder
#   CASE/expect/  expected files, compared byte for byte: `stdout`,
#                 `stderr` and `exit` of cmd (all three required), and
#                 any file cmd leaves behind (e.g.
#                 expect/out/2026-01/draft/invoices.csv)
#   CASE/ignore   optional: files cmd leaves behind that are not compared
#                 (state files, scratch data), one shell glob per line,
#                 relative to the case folder, matched as by `case`, so
#                 `*` also crosses `/`; a glob that names a folder covers
#                 everything under it; `#` starts a comment line
# Fails closed: a case FAILS when an expect file differs or is missing
# (including any of exit, stdout, stderr), and when cmd leaves a file that
# was not copied in from the case, has no expect file and no ignore glob.
# Usage: tests/e2e.sh SETTLE [CASE...]; prints "e2e: N passed, N failed".
# E2E_DIR=folder runs the cases of another folder (tests/e2e-selftest.sh).
# With UPDATE=1 it also writes the actual file into expect/ for every
# difference, missing expect file and unexpected output, and says so; the
# case still FAILS in that run: review and commit by hand (tests/README.md).
LC_ALL=C; export LC_ALL	# one byte order for sort and comm
settle=$1; shift
case $settle in /*) ;; *) settle=$(pwd)/$settle ;; esac
top=$(cd "$(dirname "$0")/.." && pwd)
root=${E2E_DIR:-$top/tests/e2e}
root=$(cd "$root" && pwd) || exit 2
# cmd scripts may copy shared inputs from $TESTDATA (testdata/ of the tree)
export TESTDATA="$top/testdata"
# and load a state an older settle wrote from its SQL text with $SQLLOAD
# (build/sqlload, tests/sqlload.c; make e2e and make test build it)
export SQLLOAD="$top/build/sqlload"
[ $# -gt 0 ] || set -- $(cd "$root" && ls -d */ | tr -d /)
bindir=$(mktemp -d); ln -s "$settle" "$bindir/settle"
pass=0; fail=0

# ignored PATH GLOBFILE: is PATH, or one of its folders, matched by a glob
# line of GLOBFILE?
ignored() {
	[ -f "$2" ] || return 1
	while IFS= read -r g; do
		case $g in ''|'#'*) continue ;; esac
		g=${g%/}; p=$1
		while :; do
			# shellcheck disable=SC2254
			case $p in $g) return 0 ;; esac
			case $p in */*) p=${p%/*} ;; *) break ;; esac
		done
	done <"$2"
	return 1
}

# update CASEDIR WORK FILE WHY: with UPDATE=1, copy the actual FILE into
# expect/ for review.
update() {
	[ -n "$UPDATE" ] || return 0
	mkdir -p "$(dirname "$1/expect/$3")"
	cp "$2/$3" "$1/expect/$3"
	echo "    UPDATE: wrote expect/$3 ($4): review it before committing"
}

for c in "$@"; do
	src=$root/$c
	[ -f "$src/cmd" ] || { echo "--- $c: no cmd"; fail=$((fail + 1)); \
		echo "FAIL e2e $c"; continue; }
	work=$(mktemp -d)
	cp -R "$src/." "$work/"
	rm -rf "$work/expect" "$work/ignore"
	in=$(mktemp); exp=$(mktemp); left=$(mktemp)
	( cd "$work" && find . ! -type d ) | sort >"$in"
	( cd "$work" && PATH="$bindir:$PATH" sh ./cmd >stdout 2>stderr; echo $? >exit )
	ok=1
	for f in exit stdout stderr; do
		if [ ! -f "$src/expect/$f" ]; then
			ok=0
			echo "--- $c: expect/$f is missing (every case states exit, stdout, stderr)"
			update "$src" "$work" "${f#./}" missing
		fi
	done
	[ -d "$src/expect" ] && ( cd "$src/expect" && find . ! -type d ) | sort >"$exp"
	while IFS= read -r f; do
		if ! cmp -s "$src/expect/$f" "$work/$f"; then
			ok=0
			if [ -e "$work/$f" ]; then
				echo "--- $c: ${f#./} differs"
				diff -u "$src/expect/$f" "$work/$f" 2>&1 | head -n 40
				update "$src" "$work" "${f#./}" differs
			else
				echo "--- $c: ${f#./} expected but not written"
			fi
		fi
	done <"$exp"
	# every other file cmd left behind must be covered by CASE/ignore
	( cd "$work" && find . ! -type d ) | sort |
		comm -23 - "$in" | comm -23 - "$exp" >"$left"
	while IFS= read -r f; do
		case $f in ./exit|./stdout|./stderr) continue ;; esac
		ignored "${f#./}" "$src/ignore" && continue
		ok=0
		echo "--- $c: ${f#./} written but neither expected nor ignored"
		update "$src" "$work" "${f#./}" unexpected
	done <"$left"
	rm -f "$in" "$exp" "$left"
	if [ $ok = 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL e2e $c"; fi
	rm -rf "$work"
done
rm -rf "$bindir"
echo "e2e: $pass passed, $fail failed"
[ $fail -eq 0 ]
