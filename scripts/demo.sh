#!/usr/bin/env bash
# `npm run demo`: boot the lab fleet (real Debian hosts on this machine) and converge it.
set -euo pipefail
cd "$(dirname "$0")/.."
provision() { node dist/src/cli/main.js "$@"; }
if [ "$(id -u)" -ne 0 ]; then
  echo "the lab boots containers and creates a bridge: run as root (e.g. sudo npm run demo)" >&2
  exit 1
fi
bash scripts/lab-deps.sh
provision lab up inventory/lab --install-deps
provision check inventory/lab
set +e
provision plan inventory/lab; code=$?
set -e
[ "$code" -eq 1 ] && exit 1
provision apply inventory/lab
echo
echo "Converged. Run it again to see a no-op run:   node dist/src/cli/main.js apply inventory/lab"
echo "Stop the lab fleet when done:                node dist/src/cli/main.js lab down inventory/lab"
