#!/bin/sh
# Runs each unit-test binary given; prints one total line
# "unit: N passed, N failed" and exits non-zero if any binary failed.
pass=0; fail=0; bad=0
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	p=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/')
	f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	[ -n "$p" ] || p=0
	[ -n "$f" ] || f=0
	pass=$((pass + p)); fail=$((fail + f))
	if [ $rc -ne 0 ] || [ -z "$line" ]; then
		bad=$((bad + 1)); printf '%s\n' "$out" | tail -n 30
		echo "FAILED: $t (exit $rc)"
	fi
done
echo "unit: $pass passed, $fail failed"
[ $bad -eq 0 ] && [ $fail -eq 0 ]
