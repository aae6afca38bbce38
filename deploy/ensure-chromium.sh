#!/usr/bin/env bash
# The browser tests drive Debian's Chromium through Playwright (no browser
# download: Playwright is pointed at /usr/bin/chromium). Install it if missing.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
  exit 0
fi
echo "chromium is not installed and cannot be installed here (needs root and apt-get);" \
     "browser tests will be skipped: install it with 'sudo apt-get install chromium'." >&2
