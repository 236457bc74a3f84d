#!/bin/sh
# make install / make uninstall into a staging DESTDIR: the program lands
# at DESTDIR/PREFIX/bin/settle, mode 0755, runs, and uninstall removes
# exactly it. Prints "install: N passed, N failed".
top=$(cd "$(dirname "$0")/.." && pwd)
stage=$(mktemp -d)
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL install: $1"; fi; }
make -s -C "$top" install DESTDIR="$stage" PREFIX=/opt/settle >/dev/null
check "installed at PREFIX/bin" '[ -f "$stage/opt/settle/bin/settle" ]'
check "mode 0755" '[ "$(stat -c %a "$stage/opt/settle/bin/settle")" = 755 ]'
check "runs" '[ "$("$stage/opt/settle/bin/settle" --version)" = "$("$top/settle" --version)" ]'
make -s -C "$top" uninstall DESTDIR="$stage" PREFIX=/opt/settle >/dev/null
check "uninstall removes it" '[ ! -e "$stage/opt/settle/bin/settle" ]'
make -s -C "$top" install DESTDIR="$stage" bindir=/usr/local/sbin >/dev/null
check "bindir honoured" '[ -x "$stage/usr/local/sbin/settle" ]'
rm -rf "$stage"
echo "install: $pass passed, $fail failed"
[ $fail -eq 0 ]
