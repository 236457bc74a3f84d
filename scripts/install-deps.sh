#!/bin/sh
# Installs what settle needs to build and test, with apt-get, when it is
# missing: zlib, libcsv and sqlite3 (the libraries settle needs; SHA-256
# is src/sha256.c), ISA-L (libisal-dev: optional, settle inflates gzip
# with its igzip when the Makefile finds it, SPEC 10 v2), and clang with its libFuzzer runtime
# (libclang-rt-N-dev) for the fuzz targets, which `make test` runs briefly.
#   scripts/install-deps.sh [build|fuzz|all]   (default all)
# build: the libraries' headers, a C compiler, make and gzip; fuzz: clang
# and libFuzzer. make itself checks the headers first and calls this only
# when one is missing (see the Makefile); the fuzz targets call it with
# `fuzz`. Quiet and quick when everything is there: apt-get runs only when
# something is missing, and says what it installs.
set -e
what=${1:-all}
need=""
case $what in build|all)
	[ -f /usr/include/zlib.h ] || need="$need zlib1g-dev"
	[ -f /usr/include/csv.h ] || need="$need libcsv-dev"
	[ -f /usr/include/sqlite3.h ] || need="$need libsqlite3-dev"
	# optional: installed when apt has it (amd64, arm64), else skipped
	if [ ! -f /usr/include/isa-l/igzip_lib.h ] &&
	   apt-cache show libisal-dev >/dev/null 2>&1; then
		need="$need libisal-dev"
	fi
	command -v cc >/dev/null 2>&1 || need="$need gcc"
	command -v make >/dev/null 2>&1 || need="$need make"
	command -v gzip >/dev/null 2>&1 || need="$need gzip"
esac
case $what in fuzz|all)
	# libFuzzer: clang, and the runtime of its version (Debian splits it out)
	if ! command -v clang >/dev/null 2>&1; then
		need="$need clang libclang-rt-14-dev"
	else
		rt=$(clang -print-resource-dir 2>/dev/null)/lib/linux/libclang_rt.fuzzer-$(uname -m).a
		if [ ! -f "$rt" ]; then
			v=$(clang -dumpversion 2>/dev/null | cut -d. -f1)
			need="$need libclang-rt-${v:-14}-dev"
		fi
	fi
esac
case $what in build|fuzz|all) ;; *)
	echo "usage: scripts/install-deps.sh [build|fuzz|all]" >&2; exit 2 ;;
esac
[ -z "$need" ] && exit 0
echo "install-deps: installing$need" >&2
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $need >&2
