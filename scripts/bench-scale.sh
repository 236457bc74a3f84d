# bench-scale.sh: the scale modes of scripts/bench.sh (issue 14), sourced
# by it after its options and tools are set up (see bench.sh's header:
# --mode months, --mode tenants). Uses bench.sh's TIME, SETTLE, mode,
# months, records, tenants, say and die. Not meant to be run alone.
# shellcheck shell=sh disable=SC2154,SC2153 # variables set by bench.sh

case $mode in
months)
	[ -n "$records" ] || records=300000
	[ -n "$tenants" ] || tenants=50000
	gen="build/gen-usage --records $records --files 3 --tenants $tenants --months $months --period 2025-01 --seed 1"
	data=bench-data/months-$months-$records-$tenants ;;
tenants)
	[ -n "$records" ] || records=2000000
	[ -n "$tenants" ] || tenants=500000
	gen="build/gen-usage --records $records --files 10 --tenants $tenants --period 2025-01 --seed 1"
	data=bench-data/tenants-$records-$tenants ;;
esac
if [ "$(cat "$data/.complete" 2>/dev/null)" != "$gen" ]; then
	say "generating into $data: $gen"
	rm -rf "$data" "$data.tmp"
	mkdir -p bench-data
	$gen "$data.tmp" >&2 || die "gen-usage failed"
	echo "$gen" >"$data.tmp/.complete"
	mv "$data.tmp" "$data" || die "cannot move $data.tmp into place"
else
	say "reusing $data"
fi
config=$data/config
work=$data/work
rm -rf "$work"
mkdir -p "$work" || exit 1
cp "$SETTLE" "$work/settle" || die "cannot copy $SETTLE"
settle=$work/settle
rev=$(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- src include Makefile 2>/dev/null || echo "+dirty")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
db=$work/state.db
out=$work/out
failed=0

# timed NAME CMD...: runs CMD with SETTLE_TIMING=1 under GNU time; sets
# secs (wall), cpu (user + sys: the figure to trust on a shared machine)
# and rss_mb; its stderr is kept in $data/timing-NAME.txt.
timed() {
	tname=$1
	shift
	SETTLE_TIMING=1 $TIME -f '%e %M %U %S' -o "$work/time.out" "$@" \
		>"$work/log" 2>"$data/timing-$tname.txt"
	rc=$?
	tm=$(tail -n 1 "$work/time.out")
	secs=${tm%% *}
	rss_mb=$(echo "$tm" | awk '{ printf "%.1f", $2 * 1024 / 1e6 }')
	cpu=$(echo "$tm" | awk '{ printf "%.2f", $3 + $4 }')
	if [ "$rc" -ne 0 ]; then
		say "$tname: exit $rc; $(tail -n 3 "$data/timing-$tname.txt" | tr '\n' ' ')"
		failed=1
	fi
	return "$rc"
}

header() {
	cpu=$(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo 2>/dev/null | head -n 1)
	echo "settle $rev on $(nproc) cores${cpu:+ ($cpu)}, $(uname -sr)"
	echo "data: $gen"
	echo
}

run_months() {
	header
	echo "(ingest and close: CPU s = user + sys, wall s; time x is close CPU / month 1's)"
	printf '%-8s %9s %9s %9s %9s %9s %9s %9s %9s\n' month "ing CPU" "ing wall" \
		"close CPU" "wall" "RSS MB" "time x" "RSS x" "state MB"
	t1="" r1=""
	for dir in "$data"/usage/*/; do
		ym=$(basename "$dir")
		timed "ingest-$ym" "$settle" ingest --db "$db" "$dir"part-*.csv.gz ||
			return 1
		ing=$secs icpu=$cpu
		timed "close-$ym" "$settle" close --db "$db" --config "$config" \
			--period "$ym" --out "$out" || return 1
		[ -n "$t1" ] || { t1=$cpu; r1=$rss_mb; }
		size=$(du -k "$db" | awk '{ printf "%.1f", $1 * 1024 / 1e6 }')
		awk -v m="$ym" -v ic="$icpu" -v i="$ing" -v c="$cpu" -v s="$secs" \
			-v r="$rss_mb" -v t1="$t1" -v r1="$r1" -v z="$size" 'BEGIN {
			printf "%-8s %9.2f %9.2f %9.2f %9.2f %9.1f %9.2f %9.2f %9s\n", m, ic,
				i, c, s, r, c / (t1 > 0 ? t1 : 0.01), r / r1, z }'
	done
	# the last month closed again with nothing changed
	timed "noop-$ym" "$settle" close --db "$db" --config "$config" \
		--period "$ym" --out "$out" || return 1
	awk -v c="$cpu" -v s="$secs" -v r="$rss_mb" -v t1="$t1" -v r1="$r1" -v l="$(head -n 1 "$work/log")" 'BEGIN {
		printf "%-8s %9s %9s %9.2f %9.2f %9.1f %9.2f %9.2f   (%s)\n", "again", "", "",
			c, s, r, c / (t1 > 0 ? t1 : 0.01), r / r1, l }'
}

run_tenants() {
	header
	ym=2025-01
	printf '%-22s %9s %9s %9s\n' measurement "CPU s" "wall s" "RSS MB"
	timed ingest "$settle" ingest --db "$db" "$data"/usage/part-*.csv.gz || return 1
	printf '%-22s %9.2f %9.2f %9.1f\n' "ingest" "$cpu" "$secs" "$rss_mb"
	timed close "$settle" close --db "$db" --config "$config" \
		--period "$ym" --out "$out" || return 1
	printf '%-22s %9.2f %9.2f %9.1f   (%s)\n' "close" "$cpu" "$secs" "$rss_mb" \
		"$(head -n 1 "$work/log")"
	timed noop "$settle" close --db "$db" --config "$config" \
		--period "$ym" --out "$out" || return 1
	printf '%-22s %9.2f %9.2f %9.1f   (%s)\n' "close (no change)" "$cpu" "$secs" \
		"$rss_mb" "$(head -n 1 "$work/log")"
}

# the table goes to stdout and is kept in results.txt; a failed step
# leaves its exit status in $work/rc (the function runs in a pipeline)
echo 0 >"$work/rc"
{ if [ "$mode" = months ]; then run_months; else run_tenants; fi ||
	echo 1 >"$work/rc"; } | tee "$data/results.txt"
[ "$(cat "$work/rc")" = 0 ] || failed=1
exit "$failed"
