#!/bin/sh
# Installs what settle needs to build and test, with apt-get, when a header
# is missing: zlib, libcsv, sqlite3 and OpenSSL's libcrypto (for SHA-256).
# Quiet and quick when everything is there.
set -e
need=""
[ -f /usr/include/zlib.h ] || need="$need zlib1g-dev"
[ -f /usr/include/csv.h ] || need="$need libcsv-dev"
[ -f /usr/include/sqlite3.h ] || need="$need libsqlite3-dev"
[ -f /usr/include/openssl/evp.h ] || need="$need libssl-dev"
command -v cc >/dev/null 2>&1 || need="$need gcc"
command -v make >/dev/null 2>&1 || need="$need make"
command -v gzip >/dev/null 2>&1 || need="$need gzip"
[ -z "$need" ] && exit 0
echo "install-deps: installing$need" >&2
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $need >&2
