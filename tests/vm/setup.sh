#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/vm/setup.sh — make the real-kernel test bed ready, without installing a
# kernel on this machine:
#   * the host packages the harness and its guest run on (scripts/packages.list,
#     installed by scripts/deps.sh) are checked: the first one missing is named on
#     a FAIL line (VFK_DEPS_TARGET: the deps target to check, check or demo);
#   * Debian's linux-image-6.1.*-amd64 (the one linux-image-amd64 depends on) and
#     kmod are fetched with `apt-get download` into the cache and unpacked with
#     `dpkg-deb -x`; depmod runs against the unpacked module tree.
#
# Idempotent: with a ready cache it only checks a marker file (well under a second).
#
# Environment: VFK_VM_CACHE  cache dir (default: tests/vm/cache next to this script)
#              VFK_VM_REFRESH=1  look the kernel package up again even when cached
# Exit status: 0 ready (prints "kernel <version> ready in <dir>"),
#              1 a package is missing or the kernel cannot be fetched (one "FAIL:" line
#              names it), or an unexpected error.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${VFK_VM_CACHE:-$HERE/cache}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
DEB=$CACHE/deb
KROOT=$CACHE/kernel
KMODROOT=$CACHE/kmod

# what the bed needs comes from Debian's archive: not getting it is a failure, not a skip
skip() { echo "FAIL: test bed: $*"; exit 1; }
say()  { echo "setup: $*" >&2; }

# Serialise concurrent setups sharing one cache.
exec 9>"$CACHE/.setup.lock"
flock 9

# ---- host packages -------------------------------------------------------
# Everything the bed and its guest run comes from scripts/packages.list, installed by
# scripts/deps.sh (make check / make demo run it first). The guest runs this machine's
# root, so a missing package would surface as a cascade of odd failures: name it here.
DEPS_TARGET=${VFK_DEPS_TARGET:-check}
if ! miss=$("$HERE/../../scripts/deps.sh" --check "$DEPS_TARGET"); then
	echo "FAIL: test bed: $miss"
	exit 1
fi
# a static busybox is needed: it runs as PID 1 in the initramfs
if ldd "$(command -v busybox)" 2>&1 | grep -q '=>'; then
	echo "FAIL: test bed: $(command -v busybox) is not static (package busybox-static)"
	exit 1
fi
apt_updated=0
apt_update() {	# package lists, for apt-get download of the kernel (nothing is installed)
	[ $apt_updated = 1 ] && return 0
	apt_updated=1
	timeout 600 apt-get update -qq >/dev/null 2>&1 || timeout 600 apt-get update >&2 || return 1
}

# ---- kernel + kmod from Debian packages (never installed on the host) ----
kernel_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null \
		| awk '/Depends: linux-image-6\.1\.[0-9]+-[0-9]+-amd64$/{print $2; exit}'
}
# as root, apt hands downloads to the _apt user, which cannot write the cache: keep root
APT_DL_OPTS=; [ "$(id -u)" = 0 ] && APT_DL_OPTS="-o APT::Sandbox::User=root"
fetch() { # fetch PKG -> path of the .deb in $DEB
	local pkg=$1 f
	f=$(ls "$DEB/${pkg}"_*.deb 2>/dev/null | head -n1 || true)
	if [ -z "$f" ]; then
		say "apt-get download $pkg"
		(cd "$DEB" && timeout 900 apt-get download -q $APT_DL_OPTS "$pkg" >&2) || {
			apt_update && (cd "$DEB" && timeout 900 apt-get download -q $APT_DL_OPTS "$pkg" >&2)
		} || return 1
		f=$(ls "$DEB/${pkg}"_*.deb 2>/dev/null | head -n1 || true)
	fi
	[ -n "$f" ] && echo "$f"
}

mkdir -p "$DEB"
if [ -f "$KROOT/.ready" ] && [ "${VFK_VM_REFRESH:-0}" != 1 ]; then
	KV=$(cat "$KROOT/.ready")
else
	PKG=$(kernel_pkg || true)
	if [ -z "$PKG" ]; then
		apt_update || true
		PKG=$(kernel_pkg || true)
	fi
	[ -n "$PKG" ] || skip "cannot resolve linux-image-amd64 -> linux-image-6.1.*-amd64 with apt-cache (no Debian 12 package lists?)"
	KV=${PKG#linux-image-}
	if [ "$(cat "$KROOT/.ready" 2>/dev/null)" != "$KV" ]; then
		debf=$(fetch "$PKG") || skip "apt-get download $PKG failed"
		say "unpacking $(basename "$debf")"
		rm -rf "$KROOT.new"
		dpkg-deb -x "$debf" "$KROOT.new"
		[ -f "$KROOT.new/boot/vmlinuz-$KV" ] || { echo "setup: $debf has no boot/vmlinuz-$KV" >&2; exit 1; }
		rm -rf "$KROOT"
		mv "$KROOT.new" "$KROOT"
		# keep only the newest kernel .deb
		for f in "$DEB"/linux-image-*.deb; do [ "$f" = "$debf" ] || rm -f "$f"; done
	fi
fi

if [ ! -x "$KMODROOT/bin/kmod" ]; then
	debf=$(fetch kmod) || skip "apt-get download kmod failed"
	rm -rf "$KMODROOT"
	dpkg-deb -x "$debf" "$KMODROOT.tmp"
	# kmod's package has usr/bin/kmod (bookworm) or bin/kmod (older)
	mkdir -p "$KMODROOT/bin"
	for c in "$KMODROOT.tmp/usr/bin/kmod" "$KMODROOT.tmp/bin/kmod"; do
		[ -x "$c" ] && { cp "$c" "$KMODROOT/bin/kmod"; break; }
	done
	rm -rf "$KMODROOT.tmp"
	[ -x "$KMODROOT/bin/kmod" ] || { echo "setup: no kmod binary in $debf" >&2; exit 1; }
fi
for x in depmod modprobe modinfo insmod rmmod lsmod; do ln -sf kmod "$KMODROOT/bin/$x"; done

if [ ! -s "$KROOT/lib/modules/$KV/modules.dep" ]; then
	say "depmod $KV"
	"$KMODROOT/bin/depmod" -b "$KROOT" "$KV"
fi
echo "$KV" > "$KROOT/.ready"
echo "kernel $KV ready in $CACHE"
