#!/usr/bin/env bash
# Installs Debian's chromium for the dashboard's browser tests when it is missing. The tests drive
# /usr/bin/chromium with puppeteer-core, which never downloads a browser of its own: this script
# is the only install step. Idempotent: does nothing when /usr/bin/chromium exists.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends chromium fonts-dejavu-core
