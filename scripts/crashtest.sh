#!/bin/sh
# crashtest: kill `settle run` at many points, rerun it, and check that the
# result is exactly that of one clean run (SPEC section 9).
#
#   scripts/crashtest.sh [--points N] [--timed T] [--records R] [--keep]
#                        [--verbose]
#
# Data: build/gen-usage writes two gzip files of R/2 records each (level 0,
# stored blocks: about 103 bytes per record, and the checkpoint interval
# counts file bytes read, so with --checkpoint-mib 1 a file of 100000
# records commits about 10 intermediate checkpoints) and a config; a small
# hand-written plain file adds rejects and duplicates (one exact, one
# conflicting) so that rejects.csv is not empty. The corrected file of
# scenario B is recompressed with gzip -1, the November file is level 0.
#
# Two scenarios, each with a reference made by clean runs:
#   A  a fresh state: `settle run --period 2026-10` over the three files.
#   B  from A's final state: part-01 is corrected (same path, new content:
#      every 7th record dropped) and a November file arrives;
#      `settle run --period 2026-11` re-settles October (adjustments) and
#      closes November.
# For each kill point (STEP, N) a fresh copy of the scenario's starting
# state runs with SETTLE_FAULT=STEP:N (the Nth call of STEP SIGKILLs the
# process), then the same command again without fault; every file under
# out/ must equal the reference (diff -r: no file missing, extra or
# different) and so must `settle status`. Steps: ingest-record,
# ingest-commit, close-commit, out-rename (a file written into a month's
# staging folder, before the commit), out-swap (after the commit, before
# a month's staged folder is swapped in) and out-swapped (after the swap,
# before the old set is removed); every call of the last two is a point.
# After each kill, before the rerun, every month folder of the killed
# run's out/ must be whole: exactly the scenario's start (A: no folder;
# B: A's reference) or exactly its reference, never a mix (SPEC 9: a
# reader sees the old set or the new one). How many times each step runs
# is found first (the largest N that still kills), and the points are
# spread over 1..that count, both ends included. A tenth of the points are
# double faults: a second kill during the first rerun, then a clean rerun.
#
# Timed kills (--timed T, per scenario): the steps above are counted in
# calls, and a close calls close-commit once, so they say little of where
# in time a run dies (rating, settling, rendering have no step). So T more
# kills per scenario come from outside, as kill -9 would: the run starts
# and gets SIGKILL, half of them at instants spread evenly over its
# ingest (timed by a clean `settle ingest` of the same files, counted
# from the run's start) and half spread over its close (timed by a clean
# `settle close` after that ingest, counted from the run's close start,
# where the run stops itself until the script lets it go: fault.h's
# close-begin; scenario B's close is the re-settlement of October and
# November's close). Each is then rerun and compared like the others;
# the summary counts where the kills landed (in the ingest, in the
# close, or after the run had ended). Give enough --records for a
# run of several seconds (make crashtest: 2 000 000, about 2 s a run on
# two cores; make test: 30 000, a short run, the kills still spread).
#
# Prints one line per failure (and per point with --verbose), then
# "crashtest: N passed, N failed" with the number of distinct kill points
# and the time taken; exits 1 on any failure. The work directory (tens of
# MB) is removed unless --keep is given.
set -u
points=60
timed=0
records=200000
keep=0
verbose=0
while [ $# -gt 0 ]; do
	case $1 in
	--points) points=$2; shift 2 ;;
	--timed) timed=$2; shift 2 ;;
	--records) records=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	--verbose|-v) verbose=1; shift ;;
	*) echo "usage: scripts/crashtest.sh [--points N] [--timed T]" \
		"[--records R] [--keep] [--verbose]" >&2; exit 2 ;;
	esac
done
case $points$timed$records in *[!0-9]*|'')
	echo "crashtest: --points, --timed and --records take numbers" >&2
	exit 2 ;;
esac
[ "$points" -ge 4 ] || { echo "crashtest: --points must be >= 4" >&2; exit 2; }
[ "$records" -ge 100 ] || { echo "crashtest: --records must be >= 100" >&2; exit 2; }

top=$(cd "$(dirname "$0")/.." && pwd)
SETTLE=${SETTLE:-$top/settle}
case $SETTLE in /*) ;; *) SETTLE=$(pwd)/$SETTLE ;; esac
GEN=$top/build/gen-usage
[ -x "$SETTLE" ] || { echo "crashtest: no $SETTLE (make settle)" >&2; exit 2; }
[ -x "$GEN" ] || make -C "$top" -s build/gen-usage >/dev/null ||
	{ echo "crashtest: cannot build $GEN" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/crashtest.XXXXXX")
[ $keep = 1 ] || trap 'rm -rf "$work"; exit 130' INT TERM
start=$(date +%s)
pass=0
fail=0
tried=0         # distinct kill points that did kill
missed=0        # points past the step's last call (ran to the end)
t_ingest=0      # timed kills that landed in the ingest,
t_close=0       # in the close,
t_late=0        # after the run had ended

say() { [ $verbose = 1 ] && echo "$@"; return 0; }

# ---------- data ----------
half=$((records / 2))
"$GEN" --records "$records" --files 2 --tenants 60 --period 2026-10 --level 0 \
	"$work/gen" >/dev/null 2>&1 || exit 2
"$GEN" --records $((records / 4 + 1)) --files 1 --tenants 60 --seed 2 --level 0 \
	--period 2026-11 "$work/gen-nov" >/dev/null 2>&1 || exit 2
mkdir "$work/dataA" "$work/dataB"
cp -R "$work/gen/config" "$work/config"
cp "$work/gen/usage/part-00.csv.gz" "$work/gen/usage/part-01.csv.gz" \
	"$work/dataA/"
# extra.csv: a bad timestamp (rejected at ingest), an unknown tenant
# (rejected at close), an exact duplicate of part-00's first record
# (counted once) and a conflicting one of its second record.
{
	echo "record_id,tenant_id,item,ts,quantity,status,dims,unit"
	echo "x-1,t00001,api_call,2026-10-32T00:00:00Z,1,ok,,call"
	echo "x-2,nobody,api_call,2026-10-05T00:00:00Z,1,ok,,call"
	gzip -dc "$work/dataA/part-00.csv.gz" | sed -n 2p
	gzip -dc "$work/dataA/part-00.csv.gz" | sed -n 3p |
		awk -F, -v OFS=, '{ $5 = "123.25"; print }'
} > "$work/dataA/extra.csv"
cp "$work/dataA/part-00.csv.gz" "$work/dataA/extra.csv" "$work/dataB/"
gzip -dc "$work/dataA/part-01.csv.gz" | awk 'NR == 1 || NR % 7 != 0' |
	gzip -1 -n > "$work/dataB/part-01.csv.gz"
cp "$work/gen-nov/usage/part-00.csv.gz" "$work/dataB/nov.csv.gz"

FILES_A="usage/extra.csv usage/part-00.csv.gz usage/part-01.csv.gz"
FILES_B="$FILES_A usage/nov.csv.gz"

# ---------- one scenario run ----------
# setup DIR SCENARIO: a fresh working dir holding the scenario's start
# state; usage/ and config/ are links, so file identities (paths as given)
# are the same in every dir.
setup() {
	rm -rf "$1"; mkdir -p "$1"
	ln -s "$work/config" "$1/config"
	if [ "$2" = A ]; then
		ln -s "$work/dataA" "$1/usage"
	else
		ln -s "$work/dataB" "$1/usage"
		cp -R "$work/refA/out" "$1/out"
		cp "$work/refA/"s.db* "$1/"
	fi
}

# run DIR SCENARIO [FAULT]: settle run of the scenario in DIR; returns its
# exit code (137 when the fault killed it).
run() {
	if [ "$2" = A ]; then
		period=2026-10; files=$FILES_A
	else
		period=2026-11; files=$FILES_B
	fi
	# settle is not the subshell's last command, so the subshell waits
	# for it and its "Killed" notice goes to the log, not to the user
	( cd "$1" && SETTLE_FAULT=${3:-} "$SETTLE" run --db s.db \
		--checkpoint-mib 1 --config config --period $period --out out \
		$files; exit $? ) >>"$1/log" 2>&1
}

status() { ( cd "$1" && "$SETTLE" status --db s.db 2>&1 ); }

now_ms() { date +%s%3N; }

# kill_at DIR SCENARIO MS [close]: starts the scenario's run in DIR and
# sends it SIGKILL after MS milliseconds; returns 0 when that killed it.
# With "close", the MS count from the start of the run's close: the run
# stops itself there (SETTLE_FAULT=close-begin:1, SETTLE_FAULT_SIGNAL=
# STOP), and the clock starts when it is let go. So a close kill lands in
# the close however slow the ingest before it was (a loaded machine), not
# at an instant of the clean run's wall time that may still be ingest.
kill_at() {
	if [ "$2" = A ]; then
		period=2026-10; files=$FILES_A
	else
		period=2026-11; files=$FILES_B
	fi
	fault=; fsig=
	[ "${4:-}" = close ] && fault=close-begin:1 && fsig=STOP
	# exec: $! is settle itself
	( cd "$1" && SETTLE_FAULT=$fault SETTLE_FAULT_SIGNAL=$fsig \
		exec "$SETTLE" run --db s.db --checkpoint-mib 1 \
		--config config --period $period --out out $files ) \
		>>"$1/log" 2>&1 &
	pid=$!
	if [ -n "$fault" ]; then
		# wait until it stops at the close's start (state T), or ends
		while [ -r /proc/$pid/stat ] &&
		      [ "$(sed 's/.*) \(.\).*/\1/' /proc/$pid/stat \
			2>/dev/null)" != T ]; do
			sleep 0.01
		done
		kill -CONT $pid 2>/dev/null
	fi
	sleep "$(awk -v ms="$3" 'BEGIN { printf "%.3f", ms / 1000 }')"
	kill -KILL $pid 2>/dev/null
	wait $pid
	[ $? -eq 137 ]
}

# reference: clean runs, timed
setup "$work/refA" A
t0=$(now_ms)
run "$work/refA" A || { echo "crashtest: clean run A failed:"; cat "$work/refA/log"; exit 1; }
msA=$(($(now_ms) - t0))
status "$work/refA" > "$work/refA.status"
setup "$work/refB" B
t0=$(now_ms)
run "$work/refB" B || { echo "crashtest: clean run B failed:"; cat "$work/refB/log"; exit 1; }
msB=$(($(now_ms) - t0))
status "$work/refB" > "$work/refB.status"
# how long the ingest part takes: a clean ingest of the same files
for sc in A B; do
	setup "$work/ing$sc" $sc
	[ $sc = A ] && files=$FILES_A || files=$FILES_B
	[ $sc = A ] && period=2026-10 || period=2026-11
	t0=$(now_ms)
	( cd "$work/ing$sc" && "$SETTLE" ingest --db s.db --checkpoint-mib 1 \
		$files ) >/dev/null 2>&1
	eval "ing$sc=\$((\$(now_ms) - t0))"
	# and the close after it, on its own (the close kills' span)
	t0=$(now_ms)
	( cd "$work/ing$sc" && "$SETTLE" close --db s.db --config config \
		--period $period --out out ) >/dev/null 2>&1
	eval "cls$sc=\$((\$(now_ms) - t0))"
	rm -rf "$work/ing$sc"
done
echo "crashtest: $records records; a clean run takes $msA ms (A: ingest" \
	"$ingA ms, close $clsA ms), $msB ms (B: ingest $ingB ms, close" \
	"$clsB ms)"

# kills SCENARIO STEP N: does the fault STEP:N kill the run?
kills() {
	setup "$work/probe" "$1"
	run "$work/probe" "$1" "$2:$3"
	[ $? -eq 137 ]
}

# calls SCENARIO STEP: how many times STEP runs (largest N that kills),
# by doubling from a first guess, then bisection.
calls() {
	lo=0; n=${3:-1}
	[ "$n" -ge 1 ] || n=1
	# a guess that kills: go up; one that does not: go down
	if kills "$1" "$2" "$n"; then
		lo=$n
		if ! kills "$1" "$2" $((n + 1)); then echo "$n"; return; fi
		hi=$((n * 2))
		while kills "$1" "$2" "$hi"; do lo=$hi; hi=$((hi * 2)); done
	else
		hi=$n
		while [ "$hi" -gt 1 ]; do
			m=$((hi / 2))
			if kills "$1" "$2" "$m"; then lo=$m; break; fi
			hi=$m
		done
		[ "$lo" -eq 0 ] && { echo 0; return; }
	fi
	while [ $((hi - lo)) -gt 1 ]; do
		m=$(((lo + hi) / 2))
		if kills "$1" "$2" "$m"; then lo=$m; else hi=$m; fi
	done
	echo "$lo"
}

# spread K M: K distinct numbers spread over 1..M, both ends included
spread() {
	k=$1; m=$2
	[ "$k" -gt "$m" ] && k=$m
	[ "$k" -le 0 ] && return
	if [ "$k" -eq 1 ]; then echo $(((m + 1) / 2)); return; fi
	i=0
	while [ $i -lt "$k" ]; do
		echo $((1 + i * (m - 1) / (k - 1)))
		i=$((i + 1))
	done
}

# check DIR SCENARIO LABEL: compare DIR with the scenario's reference
check() {
	ref=$work/ref$2
	d=$(diff -r "$ref/out" "$1/out" 2>&1)
	s=$(status "$1" | diff "$ref.status" - 2>&1)
	if [ -z "$d$s" ]; then
		pass=$((pass + 1))
		say "ok   $3"
		rm -rf "$1"
	else
		fail=$((fail + 1))
		echo "FAIL $3"
		[ -n "$d" ] && echo "$d" | head -n 20 | sed 's/^/    /'
		[ -n "$s" ] && echo "$s" | head -n 20 | sed 's/^/    /'
	fi
}

# whole DIR SCENARIO LABEL: after a kill, each month folder of DIR/out
# is the scenario's start (B: refA's; a month the start had not: no
# folder) or its reference, byte for byte; a mix is a failure.
whole() {
	for m in $(ls "$work/ref$2/out"); do
		[ -d "$work/ref$2/out/$m" ] || continue
		if [ "$2" = B ] && [ -d "$work/refA/out/$m" ]; then
			old=$work/refA/out/$m
		else
			old=
		fi
		if [ ! -e "$1/out/$m" ]; then
			[ -z "$old" ] && continue
		elif diff -r "$work/ref$2/out/$m" "$1/out/$m" >/dev/null 2>&1; then
			continue
		elif [ -n "$old" ] && diff -r "$old" "$1/out/$m" >/dev/null 2>&1; then
			continue
		fi
		fail=$((fail + 1))
		echo "FAIL $3: out/$m is neither the old set nor the new one"
		diff -r "$work/ref$2/out/$m" "$1/out/$m" 2>&1 | head -n 5 | sed 's/^/    /'
	done
}

# point SCENARIO FAULT [FAULT2]: kill at FAULT, optionally kill the first
# rerun at FAULT2, rerun clean, compare.
point() {
	label="$1 $2${3:+ then $3}"
	dir=$work/pt-$1-$(echo "$2${3:+-$3}" | tr ':' '_')
	setup "$dir" "$1"
	run "$dir" "$1" "$2"; rc=$?
	if [ $rc -ne 137 ]; then
		missed=$((missed + 1))
		say "note $label: not killed (exit $rc)"
	else
		tried=$((tried + 1))
		whole "$dir" "$1" "$label"
		# how far back the state is: the status of a killed ingest
		[ $verbose = 1 ] && status "$dir" | grep unfinished | sed 's/^/    /'
	fi
	if [ -n "${3:-}" ]; then
		run "$dir" "$1" "$3"; rc=$?
		[ $rc -eq 137 ] || say "note $label: second fault not reached (exit $rc)"
	fi
	run "$dir" "$1"; rc=$?
	if [ $rc -ne 0 ]; then
		fail=$((fail + 1))
		echo "FAIL $label: rerun exit $rc"
		tail -n 5 "$dir/log" | sed 's/^/    /'
		return
	fi
	check "$dir" "$1" "$label"
}

# timed_point SCENARIO MS [close]: SIGKILL the run after MS ms (of the
# run, or of its close), rerun, compare.
timed_point() {
	label="$1 killed at $2 ms${3:+ of the close}"
	dir=$work/tm-$1-$2${3:+c}
	setup "$dir" "$1"
	# (2>/dev/null: the shell's "Killed" notice)
	if kill_at "$dir" "$1" "$2" ${3:-} 2>/dev/null; then
		tried=$((tried + 1))
		whole "$dir" "$1" "$label"
		# the ingest was done when every file is what the clean
		# run's status says
		if [ "$(status "$dir" | grep '^file')" = \
		     "$(grep '^file' "$work/ref$1.status")" ]; then
			t_close=$((t_close + 1)); where="in the close"
		else
			t_ingest=$((t_ingest + 1)); where="in the ingest"
		fi
		say "note $label: $where"
	else
		missed=$((missed + 1)); t_late=$((t_late + 1))
		say "note $label: the run had ended"
	fi
	run "$dir" "$1"; rc=$?
	if [ $rc -ne 0 ]; then
		fail=$((fail + 1))
		echo "FAIL $label: rerun exit $rc"
		tail -n 5 "$dir/log" | sed 's/^/    /'
		return
	fi
	check "$dir" "$1" "$label"
}

ti=$((timed / 2))        # kills in the ingest, per scenario
tc=$((timed - ti))       # in the close
for sc in A B; do
	if [ $sc = A ]; then mi=$ingA; mc=$clsA; else mi=$ingB; mc=$clsB; fi
	i=1
	while [ $i -le $ti ]; do
		timed_point $sc $((mi * i / (ti + 1)))
		i=$((i + 1))
	done
	i=1
	while [ $i -le $tc ]; do
		timed_point $sc $((mc * i / (tc + 1))) close
		i=$((i + 1))
	done
done
[ "$timed" -gt 0 ] && echo "crashtest: timed kills: $t_ingest in the" \
	"ingest, $t_close in the close, $t_late after the run's end"

# ---------- plan ----------
double=$((points / 10))
pb=$(((points - double) / 2))
pa=$((points - double - pb))

# records each scenario reads: from the reference status (A: every file;
# B: the corrected part-01 and nov.csv.gz), a guess checked by calls()
recs() { grep "$2" "$1" | sed 's/.*: \([0-9]*\) records.*/\1/' |
	awk '{ s += $1 } END { print s + 0 }'; }
guessA=$(recs "$work/refA.status" '^file ')
guessB=$(recs "$work/refB.status" '^file usage/\(part-01\|nov\)')

for sc in A B; do
	if [ $sc = A ]; then budget=$pa; g=$guessA; else budget=$pb; g=$guessB; fi
	nrec=$(calls $sc ingest-record "$g")
	ncom=$(calls $sc ingest-commit 4)
	ncc=$(calls $sc close-commit 1)
	nren=$(calls $sc out-rename 10)
	[ $sc = A ] && g=1 || g=2
	nswp=$(calls $sc out-swap $g)
	nswd=$(calls $sc out-swapped $g)
	echo "crashtest: scenario $sc: $nrec records read, $ncom ingest" \
		"commits, $ncc close commits, $nren staged files," \
		"$nswp swaps ($nswd exchanges)"
	kcc=$ncc; [ $kcc -gt $((budget / 6 + 1)) ] && kcc=$((budget / 6 + 1))
	kcom=$(((budget + 3) / 4)); [ $kcom -gt "$ncom" ] && kcom=$ncom
	kren=$(((budget + 3) / 4)); [ $kren -gt "$nren" ] && kren=$nren
	krec=$((budget - kcc - kcom - kren))
	for n in $(spread $kcc "$ncc"); do point $sc close-commit:$n; done
	for n in $(spread $kcom "$ncom"); do point $sc ingest-commit:$n; done
	for n in $(spread $kren "$nren"); do point $sc out-rename:$n; done
	n=1; while [ $n -le "$nswp" ]; do point $sc out-swap:$n; n=$((n + 1)); done
	n=1; while [ $n -le "$nswd" ]; do point $sc out-swapped:$n; n=$((n + 1)); done
	for n in $(spread $krec "$nrec"); do point $sc ingest-record:$n; done
	eval "nrec$sc=$nrec ncom$sc=$ncom nren$sc=$nren"
done

# double faults: a kill while ingesting, then one in the resumed run
i=0
while [ $i -lt $double ]; do
	if [ $((i % 2)) -eq 0 ]; then sc=A; nr=$nrecA; nc=$ncomA; nn=$nrenA
	else sc=B; nr=$nrecB; nc=$ncomB; nn=$nrenB; fi
	first=ingest-record:$((nr * (2 * i + 1) / (2 * double + 2) + 1))
	case $((i % 4)) in
	0|1) second=ingest-commit:1 ;;
	2) second=close-commit:1 ;;
	*) second=out-rename:$(((nn + 1) / 2)) ;;
	esac
	[ "$nc" -ge 1 ] || second=close-commit:1
	point $sc "$first" "$second"
	i=$((i + 1))
done

end=$(date +%s)
echo "crashtest: $tried distinct kill points ($missed not reached)," \
	"$((end - start)) s"
echo "crashtest: $pass passed, $fail failed"
if [ $keep = 0 ]; then
	rm -rf "$work"
else
	echo "crashtest: work directory kept: $work"
fi
[ $fail -eq 0 ]
