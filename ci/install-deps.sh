#!/bin/bash
# Installs every Debian package that building, testing and the demo need.
# Idempotent and non-interactive; run as root on Debian 12.
set -euo pipefail

packages=(
  # build
  autoconf automake libtool pkg-config make gcc gettext
  libglib2.0-dev libglib2.0-dev-bin
  libostree-dev libsolv-dev libsolvext-dev librpm-dev libgpgme-dev
  zlib1g-dev libyaml-dev libjson-glib-dev libpolkit-gobject-1-dev libcurl4-openssl-dev
  libcap-dev libdeflate-dev
  # runtime and tests
  ostree dbus-daemon dbus-bin gnupg gpg-agent rpm createrepo-c python3 bubblewrap jq
  e2fsprogs cpio attr util-linux bc time rpm2cpio
  # boot test: a deployment booted under QEMU with the stock ostree-prepare-root
  qemu-system-x86 ostree-boot busybox-static linux-image-amd64 kmod
)

if [ "$(id -u)" != 0 ]; then
  echo "install-deps.sh: must run as root (it calls apt-get)" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps.sh: all ${#packages[@]} packages already installed"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ] || [ "${TREECTL_APT_UPDATE:-}" = 1 ]; then
  apt-get update -q
fi
if ! apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
