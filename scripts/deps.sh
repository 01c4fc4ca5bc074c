#!/bin/sh
# Install the Debian packages vfiokit builds and tests with, when missing.
# Fast no-op when everything is present. Usage: scripts/deps.sh [extra-pkg...]
set -eu
PKGS="gcc make pkg-config libpci-dev pciutils pci.ids libudev-dev libjson-c-dev libkmod-dev
      libinih-dev libxml2-dev uuid-dev libvirt-dev libvirt-clients scdoc python3 time
      clang libclang-rt-14-dev llvm valgrind $*"
missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in *" installed") ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run 'make deps' as root)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || apt-get update
apt-get install -y -qq --no-install-recommends $missing >/dev/null
