#!/bin/sh
# Install the tools of ../shared/tools/site-check (Nu Html Checker, axe-core, linkinator,
# Lighthouse, Playwright, feedparser) by running its install.sh, unless the same install.sh
# already ran into TOOLS_DIR. Node.js comes from apt when missing.
set -eu
SHARED=$(cd "$(dirname "$0")/../../../shared" && pwd)
INSTALL=$SHARED/tools/site-check/install.sh
TOOLS_DIR=${TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/site-check}
STAMP=$TOOLS_DIR/.installed-by-sitegen
want=$(sha256sum "$INSTALL" | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -x "$TOOLS_DIR/node_modules/.bin/lighthouse" ]; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends nodejs npm
fi
TOOLS_DIR=$TOOLS_DIR bash "$INSTALL"
mkdir -p "$TOOLS_DIR" && echo "$want" > "$STAMP"
