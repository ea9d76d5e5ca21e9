#!/bin/sh
# Install everything the tests need (Debian's chromium and a CJK font included) and run the
# whole test suite, the site checker's tools included. Extra arguments go to pytest. This is what CI runs (.ci/run).
set -eu
cd "$(dirname "$0")/.."
missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"
{ command -v fc-list >/dev/null && fc-list :lang=zh | grep -q .; } || missing="$missing fonts-noto-cjk fontconfig"
python3 -c "import ensurepip, venv" 2>/dev/null || missing="$missing python3-venv"
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends $missing
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# the web's judges (../shared/tools/site-check: vnu, axe-core, linkinator, Lighthouse) for tests/test_site_check.py
[ ! -f ../shared/tools/site-check/install.sh ] || sh scripts/site-check/install-tools.sh
exec .venv/bin/python -m pytest "$@"
