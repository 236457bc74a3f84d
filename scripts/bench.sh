#!/bin/sh
# make bench: time settle against the zlib floor and its peers, on the same
# generated data, in one run.
#
#   scripts/bench.sh [--records N] [--runs R] [--files F] [--no-duckdb]
#   scripts/bench.sh --mode months [--months M] [--records N] [--tenants T]
#   scripts/bench.sh --mode tenants [--records N] [--tenants T]
#
# --mode months (issue 14, history): build/gen-usage --months M (default
# 12) from 2025-01, N records a month (default 300000) in 3 files, T
# tenants (default 50000), year-long packages; then, on one state, for
# each month in turn: ingest its files, close it. One row per month: the
# ingest's and the close's CPU seconds (user + sys: the figure on a
# shared machine) and wall time, the close's peak RSS, its CPU and RSS as
# a ratio to month 1's (the goal: every month within 1.5x of month 1),
# and the state file's size; then a row "again": the last month closed
# again, nothing changed. --mode tenants shows CPU and wall seconds too.
# --mode tenants (issue 14, many tenants): build/gen-usage --tenants T
# (default 500000: ~520 k accounts, ~100 k packages) and N records
# (default 2000000) in 10 files, one month (2025-01); rows: ingest, the
# close, and a close again with nothing changed (must print "no
# changes"). Both modes run each close once (--runs is ignored), with
# SETTLE_TIMING=1, and keep its phases in bench-data/MODE-.../timing-*.txt;
# the table is also kept in that folder's results.txt.
#
# Data: build/gen-usage --seed 1 --records N --files F (default 1000000
# records in 10 files; 10000000 is the full target), generated once into
# bench-data/N-F/ (git ignores bench-data/) and reused when present.
#
# Each measurement runs R times (default 3); the table shows the median wall
# time and the highest peak RSS of the runs (GNU time's %M), records/s and
# MB/s (uncompressed CSV bytes, 10^6, per second of the median), and both
# figures as a ratio to the zlib floor (build/zfloor: inflate + count lines,
# one core), and the time as a ratio to the ISA-L floor (build/zfloor
# --isal: the same with ISA-L's igzip; a dash where settle was built
# without ISA-L). Rows:
#   zfloor             the zlib floor
#   zfloor (ISA-L)     the ISA-L floor (skipped without libisal-dev)
#   gzip -dc           gzip -dc FILES > /dev/null
#   ingest -j 1        settle ingest from an empty state (db removed first)
#   ingest -j NPROC    the same with one reader per core (settle's default)
#   ingest -j NPROC (zlib)  the same with SETTLE_INFLATE=zlib (only where
#                      settle inflates with ISA-L by default)
#   close              settle close of the month on a copy of an ingested db
#   rerun (no change)  settle run (ingest + close) on a copy of a db and an
#                      out dir that already have all of it
#   duckdb GROUP BY t=1/t=2  DuckDB (@duckdb/node-api from the npm
#                      registry, installed into bench-data/duckdb/):
#                      SELECT tenant_id, item, count(*), sum(quantity) FROM
#                      read_csv(the same files) GROUP BY ALL, SET threads=N;
#                      timed as the whole node process, so it includes
#                      node's start (~0.1 s, ~50 MB RSS). Reported as
#                      skipped (with the reason) when it cannot be installed.
# All timings are warm-cache (the files are read once before timing).
# The settle binary is copied once at the start, so a rebuild during the
# run does not change what is measured. Environment: SETTLE (binary to
# measure, default ./settle, built with make), NPM (default npm), NODE
# (default node). Exit status: 0, or 1 when a settle step failed.
# shellcheck disable=SC2317 # functions called through measure's $setup
set -u
cd "$(dirname "$0")/.." || exit 1

records=""
runs=3
files=10
duckdb=1
mode=default
months=12
tenants=""
usage() {
	echo "usage: scripts/bench.sh [--records N] [--runs R] [--files F] [--no-duckdb]" >&2
	echo "       scripts/bench.sh --mode months|tenants [--months M] [--records N] [--tenants T]" >&2
	exit 2
}
# posnum V: V is a whole number above 0
posnum() { case $1 in '' | *[!0-9]* | 0*) return 1 ;; *) return 0 ;; esac; }
while [ $# -gt 0 ]; do
	case $1 in
	--records) [ $# -ge 2 ] || usage; posnum "$2" || usage
		records=$2; shift 2 ;;
	--runs) [ $# -ge 2 ] || usage; posnum "$2" || usage
		runs=$2; shift 2 ;;
	--files) [ $# -ge 2 ] || usage; posnum "$2" || usage
		files=$2; shift 2 ;;
	--no-duckdb) duckdb=0; shift ;;
	--mode) [ $# -ge 2 ] || usage
		case $2 in default | months | tenants) mode=$2 ;; *) usage ;; esac
		shift 2 ;;
	--months) [ $# -ge 2 ] || usage; posnum "$2" || usage
		months=$2; shift 2 ;;
	--tenants) [ $# -ge 2 ] || usage; posnum "$2" || usage
		tenants=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d; /^# shellcheck/d; s/^# \{0,1\}//'
		exit 0 ;;
	*) usage ;;
	esac
done

say() { echo "bench: $*" >&2; }
die() { say "$*"; exit 1; }

# ---------- tools ----------
TIME=/usr/bin/time
if ! $TIME -f '%e %M' -o /dev/null true 2>/dev/null; then
	say "GNU time missing: installing the 'time' package"
	sudo=""
	[ "$(id -u)" = 0 ] || sudo="sudo"
	{ DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq time ||
	  { $sudo apt-get update -qq &&
	    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq time; }; } >&2
	$TIME -f '%e %M' -o /dev/null true 2>/dev/null ||
		die "needs GNU time at /usr/bin/time (apt-get install time)"
fi

make -s build/gen-usage build/zfloor >&2 || die "cannot build build/gen-usage and build/zfloor"
if [ -z "${SETTLE:-}" ]; then
	make -s settle >&2 || die "cannot build ./settle"
	SETTLE=./settle
fi
[ -x "$SETTLE" ] || die "$SETTLE: not an executable"

ncpu=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)

# nanosecond clock when date has %N (GNU), else GNU time's 10 ms %e
now_ns() { date +%s%N; }
case $(now_ns) in *[!0-9]*) hires=0 ;; *) hires=1 ;; esac

# ---------- the scale modes (issue 14) ----------
if [ "$mode" != default ]; then
	. scripts/bench-scale.sh
	exit $?
fi
[ -n "$records" ] || records=1000000

# ---------- data ----------
data=bench-data/$records-$files
period=2026-10
gen="build/gen-usage --records $records --files $files --seed 1 --period $period"
if [ "$(cat "$data/.complete" 2>/dev/null)" != "$gen" ]; then
	say "generating $records records in $files files into $data"
	rm -rf "$data" "$data.tmp"
	mkdir -p bench-data
	$gen "$data.tmp" >&2 || die "gen-usage failed"
	echo "$gen" >"$data.tmp/.complete"
	mv "$data.tmp" "$data" || die "cannot move $data.tmp into place"
else
	say "reusing $data"
fi
set -- "$data"/usage/part-*.csv.gz
[ -f "$1" ] || die "$data/usage holds no part-*.csv.gz"
config=$data/config

work=$data/work
rm -rf "$work"
mkdir -p "$work/res" || exit 1
cp "$SETTLE" "$work/settle" || die "cannot copy $SETTLE"
# what is measured: HEAD, +dirty when the sources differ from it
rev=$(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- src include Makefile 2>/dev/null || echo "+dirty")
settle=$work/settle
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# warm the page cache and learn the sizes (zfloor also checks the files)
zout=$(build/zfloor "$@") || die "zfloor failed on $data: $zout"
bytes_out=$(echo "$zout" | sed -n 's/.*bytes_out=\([0-9]*\).*/\1/p')
bytes_in=$(echo "$zout" | sed -n 's/.*bytes_in=\([0-9]*\).*/\1/p')
lines=$(echo "$zout" | sed -n 's/.*lines=\([0-9]*\).*/\1/p')
nfiles=$#
nrec=$((lines - nfiles)) # one header line per file, no blank lines

# ---------- measuring ----------
failed=0
order=""  # measurement keys, in table order

# measure KEY NAME OUT SETUP CMD...: run SETUP (a shell function, untimed),
# then CMD with stdout to OUT, `runs` times; one "seconds rss_kib" line per
# run in $work/res/KEY. A nonzero exit marks the row failed.
measure() {
	key=$1 name=$2 mout=$3 setup=$4
	shift 4
	order="$order $key"
	echo "$name" >"$work/res/$key.name"
	: >"$work/res/$key"
	i=1
	while [ "$i" -le "$runs" ]; do
		say "$name: run $i of $runs"
		$setup
		t0=$(now_ns)
		$TIME -f '%e %M' -o "$work/time.out" "$@" >"$mout" 2>"$work/err.out"
		rc=$?
		t1=$(now_ns)
		tm=$(tail -n 1 "$work/time.out")
		if [ "$rc" -ne 0 ]; then
			say "$name: exit $rc; $(tail -n 3 "$work/err.out" | tr '\n' ' ')"
			say "$name: $tm (seconds, peak RSS KiB)"
			echo "failed (exit $rc after ${tm% *} s, peak RSS ${tm#* } KiB)" \
				>"$work/res/$key.fail"
			return 1
		fi
		if [ "$hires" = 1 ]; then
			secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
		else
			secs=${tm% *}
		fi
		echo "$secs ${tm#* }" >>"$work/res/$key"
		i=$((i + 1))
	done
	return 0
}

# skip KEY NAME REASON: a row that was not measured
skip() {
	order="$order $1"
	echo "$2" >"$work/res/$1.name"
	echo "skipped ($3)" >"$work/res/$1.fail"
}

# setup functions for measure (called through $setup)
db=$work/state.db
out=$work/out
nothing() { :; }
fresh_db() { rm -f "$db" "$db-wal" "$db-shm" "$db-journal"; }
# copy_state FROM: the state file (and any sidecar files) from FROM
copy_state() {
	fresh_db
	for s in "" -wal -shm -journal; do
		[ -f "$1$s" ] && cp "$1$s" "$db$s"
	done
	return 0
}
ingested_db() { copy_state "$work/ingested.db"; rm -rf "$out"; }
closed_state() {
	copy_state "$work/closed.db"
	rm -rf "$out"
	cp -R "$work/closed-out" "$out"
}
# keep_state NAME: save the state left by the last run as NAME.db
keep_state() {
	for s in "" -wal -shm -journal; do
		rm -f "$work/$1.db$s"
		[ -f "$db$s" ] && cp "$db$s" "$work/$1.db$s"
	done
	return 0
}

measure zfloor "zfloor" /dev/null nothing build/zfloor "$@"
have_isal=0
if build/zfloor --isal "$1" >/dev/null 2>&1; then
	have_isal=1
	measure zfloori "zfloor (ISA-L)" /dev/null nothing build/zfloor --isal "$@"
else
	skip zfloori "zfloor (ISA-L)" "built without ISA-L (libisal-dev)"
fi
measure gzip "gzip -dc" /dev/null nothing gzip -dc "$@"

measure ingest1 "ingest -j 1" "$work/log" fresh_db \
	"$settle" ingest --db "$db" -j 1 "$@" || failed=1
# the state left by a complete ingest feeds close
ingest_ok=0
if [ -f "$work/res/ingest1.fail" ]; then :; else keep_state ingested; ingest_ok=1; fi
measure ingestn "ingest -j $ncpu" "$work/log" fresh_db \
	"$settle" ingest --db "$db" -j "$ncpu" "$@" || failed=1
if [ "$ingest_ok" = 0 ] && [ ! -f "$work/res/ingestn.fail" ]; then
	keep_state ingested
	ingest_ok=1
fi
if [ "$have_isal" = 1 ]; then
	measure ingestz "ingest -j $ncpu (zlib)" "$work/log" fresh_db \
		env SETTLE_INFLATE=zlib "$settle" ingest --db "$db" -j "$ncpu" "$@" ||
		failed=1
fi

close_ok=0
if [ "$ingest_ok" = 1 ]; then
	if measure close "close" "$work/log" ingested_db \
		"$settle" close --db "$db" --config "$config" \
		--period "$period" --out "$out"; then
		keep_state closed
		rm -rf "$work/closed-out"
		cp -R "$out" "$work/closed-out"
		close_ok=1
	else
		failed=1
	fi
else
	skip close "close" "no ingested state"
fi
if [ "$close_ok" = 1 ]; then
	measure rerun "rerun (no change)" "$work/log" closed_state \
		"$settle" run --db "$db" --config "$config" --period "$period" \
		--out "$out" "$@" || failed=1
	# a rerun must really find nothing to do
	if [ ! -f "$work/res/rerun.fail" ] &&
	   ! grep -q "no changes" "$work/log" "$work/err.out"; then
		say "rerun did not report 'no changes': $(tail -n 1 "$work/log")"
	fi
else
	skip rerun "rerun (no change)" "no closed state"
fi
rm -f "$work"/*.db "$work"/*.db-* "$db"* 2>/dev/null
rm -rf "$out" "$work/closed-out"

# ---------- DuckDB peer ----------
dd_version=""
if [ "$duckdb" = 0 ]; then
	dd_skip="--no-duckdb"
else
	dd_skip=""
	NODE=${NODE:-node}
	NPM=${NPM:-npm}
	dd=bench-data/duckdb
	if ! command -v "$NODE" >/dev/null 2>&1; then
		dd_skip="node not found"
	elif [ ! -f "$dd/node_modules/@duckdb/node-api/package.json" ] ||
	     ! cmp -s scripts/duckdb/package.json "$dd/package.json"; then
		if ! command -v "$NPM" >/dev/null 2>&1; then
			dd_skip="npm not found"
		else
			say "installing @duckdb/node-api into $dd"
			rm -rf "$dd"
			mkdir -p "$dd"
			cp scripts/duckdb/package.json "$dd/package.json"
			"$NPM" install --prefix "$dd" --no-audit --no-fund \
				--no-package-lock >"$work/npm.log" 2>&1
			rc=$?
			if [ "$rc" -ne 0 ] ||
			   [ ! -f "$dd/node_modules/@duckdb/node-api/package.json" ]; then
				why=$(grep -v 'npm warn' "$work/npm.log" | grep . |
					head -n 2 | tr '\n' ' ' | sed 's/ *$//' | cut -c1-100)
				dd_skip="npm install @duckdb/node-api: exit $rc${why:+: $why}"
				rm -rf "$dd"
			fi
		fi
	fi
	if [ -z "$dd_skip" ]; then
		# one untimed query: checks it works and counts what it saw
		probe=$("$NODE" scripts/duckdb/bench-duckdb.mjs "$dd" \
			"$data/usage/part-*.csv.gz" 1 2>"$work/err.out")
		case $probe in
		*"records=$nrec "*)
			dd_version=$(echo "$probe" | sed -n 's/.*version=//p') ;;
		"") dd_skip="query failed: $(tail -n 1 "$work/err.out" | cut -c1-100)" ;;
		*) dd_skip="counted other records than $nrec: $probe" ;;
		esac
	fi
fi
for t in 1 2; do
	if [ -z "$dd_skip" ]; then
		measure "duckdb$t" "duckdb GROUP BY t=$t" "$work/log" nothing \
			"$NODE" scripts/duckdb/bench-duckdb.mjs "$dd" \
			"$data/usage/part-*.csv.gz" "$t"
	else
		skip "duckdb$t" "duckdb GROUP BY t=$t" "$dd_skip"
	fi
done
[ -n "$dd_skip" ] && echo "duckdb: skipped ($dd_skip)" >&2

# ---------- report (also kept in $data/results.txt) ----------
# median KEY -> "seconds peak_rss_kib" (median time, highest RSS of the runs)
median() {
	sort -n "$work/res/$1" | awk '
		{ t[NR] = $1; if ($2 > m) m = $2 }
		END {
			if (NR % 2) s = t[(NR + 1) / 2]
			else s = (t[NR / 2] + t[NR / 2 + 1]) / 2
			printf "%.3f %d\n", s, m
		}'
}
report() {
	floor=$(median zfloor)
	ifloor=0
	[ -f "$work/res/zfloori.fail" ] || [ ! -s "$work/res/zfloori" ] ||
		ifloor=$(median zfloori | cut -d' ' -f1)
	cpu=$(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo 2>/dev/null | head -n 1)
	echo "settle $rev on $ncpu cores${cpu:+ ($cpu)}, $(uname -sr)"
	awk -v n="$nrec" -v f="$nfiles" -v bi="$bytes_in" -v bo="$bytes_out" -v r="$runs" 'BEGIN {
		printf "data: %d records in %d gzip files, %.1f MB gzip, %.1f MB CSV (%.1f B/record); median of %d runs, peak RSS the highest\n",
			n, f, bi / 1e6, bo / 1e6, bo / n, r }'
	[ -n "$dd_version" ] && echo "duckdb: $dd_version (@duckdb/node-api, timed as the whole node process)"
	echo
	printf '%-27s %9s %12s %9s %9s %9s %9s %9s\n' "measurement" "median s" "records/s" "MB/s" \
		"RSS MB" "time x" "RSS x" "x ISA-L"
	for key in $order; do
		name=$(cat "$work/res/$key.name")
		if [ -f "$work/res/$key.fail" ]; then
			printf '%-27s %s\n' "$name" "$(cat "$work/res/$key.fail")"
			continue
		fi
		median "$key" | awk -v name="$name" -v n="$nrec" -v bo="$bytes_out" -v fl="$floor" \
			-v ifl="$ifloor" '{
			split(fl, f, " ")
			s = $1; if (s <= 0) s = 0.001
			xi = ifl > 0 ? sprintf("%9.2f", $1 / ifl) : sprintf("%9s", "-")
			printf "%-27s %9.3f %12.0f %9.1f %9.1f %9.2f %9.2f %s\n", name, $1,
				n / s, bo / 1e6 / s, $2 * 1024 / 1e6, $1 / f[1], $2 / f[2], xi }'
	done
}
report | tee "$data/results.txt"
exit "$failed"
