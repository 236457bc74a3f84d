#!/bin/sh
# Runs the libFuzzer targets: tests/fuzz/run.sh SECONDS BINARY...
# For each target T (build/fuzz/fuzz_T): first replays every input of
# tests/fuzz/regress/T/ (crashes found before, kept as regression tests),
# then fuzzes for SECONDS from the seeds in tests/fuzz/corpus/T/, writing
# new inputs to build/fuzz/corpus/T/ (never to the tree) and a crash to
# build/fuzz/crash-T-*. Prints one line per target with its executions;
# exits non-zero at the first target that fails.
secs=$1; shift
top=$(cd "$(dirname "$0")/../.." && pwd)
passed=0
for bin in "$@"; do
	t=$(basename "$bin"); t=${t#fuzz_}
	seeds=$top/tests/fuzz/corpus/$t
	work=$top/build/fuzz/corpus/$t
	log=$top/build/fuzz/$t.log
	mkdir -p "$work" "$seeds"
	dict=""
	[ -f "$top/tests/fuzz/$t.dict" ] && dict="-dict=$top/tests/fuzz/$t.dict"
	case $t in
	dec|ts) maxlen=64 ;;
	filter) maxlen=512 ;;
	catalog) maxlen=8192 ;;
	*) maxlen=16384 ;;
	esac
	reg=$top/tests/fuzz/regress/$t
	if [ -d "$reg" ] && [ -n "$(ls -A "$reg")" ]; then
		if ! "$bin" $dict "$reg"/* >"$log" 2>&1; then
			tail -n 40 "$log"
			echo "FAIL fuzz $t: a regression input fails again (log $log)"
			exit 1
		fi
	fi
	# shellcheck disable=SC2086
	if ! "$bin" $dict -max_total_time="$secs" -max_len=$maxlen -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$top/build/fuzz/crash-$t-" \
		"$work" "$seeds" >"$log" 2>&1; then
		grep -v '^#\|^INFO' "$log" | tail -n 60
		echo "FAIL fuzz $t: see $log; the input is in build/fuzz/crash-$t-*"
		exit 1
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	echo "fuzz $t: $runs runs in ${secs}s ($rate/s), no crash"
	passed=$((passed + 1))
done
echo "fuzz: $passed passed, 0 failed"
