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
if [ "$(id -u)" = 0 ]; then
  TOOLS_DIR=$TOOLS_DIR bash "$INSTALL"
else  # install.sh calls apt-get itself: run it with sudo, then hand the tools folder back
  mkdir -p "$TOOLS_DIR"
  sudo env TOOLS_DIR="$TOOLS_DIR" bash "$INSTALL"
  sudo chown -R "$(id -u):$(id -g)" "$TOOLS_DIR"
fi
echo "$want" > "$STAMP"
