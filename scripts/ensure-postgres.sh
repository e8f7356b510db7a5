#!/usr/bin/env bash
# Installs Debian's postgresql when its server binaries are missing. The @vigil/postgres tests start
# their own throwaway clusters from /usr/lib/postgresql/*/bin (initdb, pg_ctl); no server is
# started or enabled here. Idempotent: does nothing when an initdb is already installed.
set -euo pipefail
if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends postgresql
