#!/bin/sh
# Installs what the document tests (make doctest, tests/doc/check.sh) need,
# with apt-get, only when something is missing: a headless browser to
# render the HTML pages to PDF and PNG (chromium), pdftotext (poppler-utils),
# xmllint (libxml2-utils), and a font with CJK glyphs so Chinese tenant
# names render (fonts-noto-cjk). Quiet and quick when everything is there.
set -e
need=""
command -v chromium >/dev/null 2>&1 || need="$need chromium"
if ! command -v pdftotext >/dev/null 2>&1 || ! command -v pdfinfo >/dev/null 2>&1; then
	need="$need poppler-utils"
fi
command -v xmllint >/dev/null 2>&1 || need="$need libxml2-utils"
command -v fc-list >/dev/null 2>&1 || need="$need fontconfig"
if ! fc-list :lang=zh family 2>/dev/null | grep -q .; then
	need="$need fonts-noto-cjk"
fi
[ -z "$need" ] && exit 0
echo "install-doc-deps: installing$need" >&2
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $need >&2
