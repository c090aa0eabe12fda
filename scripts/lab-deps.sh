#!/bin/sh
# Debian packages the lab fleet and the tests need (`provision lab up --install-deps` installs the
# lab's own when one is missing). Installs only what is missing; .ci/run and the demo call it.
set -eu
# qemu-system-x86: lab hosts booted as VMs (lab.machine: vm; test/e2e/vm.test.ts, bench/audit.ts)
pkgs="systemd-container debootstrap nftables apt-cacher-ng openssh-client iproute2 bash curl age ssh-audit qemu-system-x86"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
[ -z "$missing" ] && { echo "lab-deps: all present ($pkgs)"; exit 0; }
if [ "$(id -u)" -ne 0 ]; then
  echo "lab-deps: missing Debian packages:$missing — install them as root (apt-get install$missing)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $missing
