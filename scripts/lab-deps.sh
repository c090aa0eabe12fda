#!/bin/sh
# Debian packages the lab fleet needs (`provision lab up --install-deps` does the same when one is
# missing). For CI images that install dependencies up front.
set -eu
if [ "$(id -u)" -ne 0 ]; then echo "lab-deps.sh: run as root" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends systemd-container debootstrap nftables apt-cacher-ng openssh-client iproute2
