#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/vm/build-mdev.sh — the kernel's sample mediated-device drivers for the test guest
# (scenario 50-mdev): mtty (virtual serial ports), mbochs (a bochs display with its own
# framebuffer memory), mdpy (a simple display) and mdpy-fb (the inner VM's driver for mdpy).
#
# Built out of tree from samples/vfio-mdev/ of Debian's linux-source-6.1 against the
# unpacked linux-headers-<kver>-{amd64,common} + linux-kbuild-6.1 of exactly the version
# of the test bed's kernel (tests/vm/setup.sh). Everything is fetched with
# `apt-get download` and unpacked with `dpkg-deb -x`: nothing is installed on the host.
#
# Output: <cache>/mdev/<kver>/{mtty,mbochs,mdpy,mdpy-fb}.ko (+ .stamp). A second run with
# the same kernel is a no-op (well under a second). Once the modules are built, the big
# downloads are dropped (linux-source is 140 MB); only the sample sources stay.
#
# Environment: VFK_VM_CACHE (as setup.sh), CC (default gcc-12, the kernel's compiler,
#              falling back to gcc)
# Exit status: 0 ready (prints the module dir), 1 a download or the build failed
#              (the reason on stderr).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${VFK_VM_CACHE:-$HERE/cache}
CACHE=$(cd "$CACHE" && pwd)
KV=$(cat "$CACHE/kernel/.ready" 2>/dev/null || true)
DEB=$CACHE/deb
MODS=(mtty mbochs mdpy mdpy-fb)

# Everything this needs is in scripts/packages.list or in Debian's archive: not
# getting it is a failure, never a skip.
skip() { echo "mdev sample drivers: $*" >&2; exit 1; }
say()  { echo "build-mdev: $*" >&2; }

[ -n "$KV" ] || skip "the test-bed kernel is not set up (run tests/vm/setup.sh)"
OUT=$CACHE/mdev/$KV
WORK=$CACHE/mdev/work

exec 9>"$CACHE/.mdev.lock"
flock 9

ready() {
	local m
	for m in "${MODS[@]}"; do [ -s "$OUT/$m.ko" ] || return 1; done
	[ "$(cat "$OUT/.stamp" 2>/dev/null)" = "$KV" ]
}
if ready; then
	echo "$OUT"
	exit 0
fi

# The Debian version of the kernel package, so the headers and sources match it exactly.
VER=
f=$(ls "$DEB"/linux-image-"$KV"_*.deb 2>/dev/null | head -n1 || true)
[ -n "$f" ] && VER=$(dpkg-deb -f "$f" Version)
[ -n "$VER" ] || VER=$(apt-cache show "linux-image-$KV" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
[ -n "$VER" ] || skip "cannot tell the Debian version of linux-image-$KV"
ABI=${KV%-amd64}          # 6.1.0-56
MM=$(echo "$KV" | cut -d. -f1,2)   # 6.1
SRC=linux-source-$MM KB=linux-kbuild-$MM

CC=${CC:-}
if [ -z "$CC" ]; then
	if command -v gcc-12 >/dev/null; then CC=gcc-12; elif command -v gcc >/dev/null; then CC=gcc; fi
fi
[ -n "$CC" ] || skip "no C compiler (gcc-12) on the host"
command -v make >/dev/null || skip "no make on the host"

APT_DL_OPTS=; [ "$(id -u)" = 0 ] && APT_DL_OPTS="-o APT::Sandbox::User=root"
mkdir -p "$DEB"
fetch() { # PKG -> path of PKG_VER_*.deb in $DEB
	local p=$1 f
	f=$(ls "$DEB/${p}_${VER}_"*.deb 2>/dev/null | head -n1 || true)
	if [ -z "$f" ]; then
		say "apt-get download $p=$VER"
		# shellcheck disable=SC2086
		(cd "$DEB" && timeout 900 apt-get download -q $APT_DL_OPTS "$p=$VER" >&2) || return 1
		f=$(ls "$DEB/${p}_${VER}_"*.deb 2>/dev/null | head -n1 || true)
	fi
	[ -n "$f" ] && echo "$f"
}

# ---- the sample sources (kept: a few hundred KB) ----
S=$CACHE/mdev/src-$VER
if [ ! -s "$S/mtty.c" ]; then
	debf=$(fetch "$SRC") || skip "apt-get download $SRC=$VER failed"
	say "extracting samples/vfio-mdev from $(basename "$debf")"
	rm -rf "$S.tmp"
	mkdir -p "$S.tmp"
	dpkg-deb --fsys-tarfile "$debf" | tar -xO "./usr/src/$SRC.tar.xz" \
		| tar -xJ -C "$S.tmp" --strip-components=3 --wildcards "$SRC/samples/vfio-mdev/*"
	[ -s "$S.tmp/mtty.c" ] || { say "no samples/vfio-mdev/mtty.c in $debf"; exit 1; }
	rm -rf "$S"
	mv "$S.tmp" "$S"
	rm -f "$debf"
fi

# ---- headers + kbuild, unpacked ----
H=$WORK/hdr/usr/src/linux-headers-$KV
if [ ! -f "$H/Makefile" ]; then
	rm -rf "$WORK/hdr"
	mkdir -p "$WORK/hdr"
	for p in "linux-headers-$KV" "linux-headers-$ABI-common" "$KB"; do
		debf=$(fetch "$p") || skip "apt-get download $p=$VER failed"
		dpkg-deb -x "$debf" "$WORK/hdr"
	done
fi
# the arch tree's Makefile includes the common tree by its absolute /usr/src path
sed -i "s#^include /usr/src/#include $WORK/hdr/usr/src/#" "$H/Makefile"

# ---- build ----
B=$WORK/build
rm -rf "$B"
mkdir -p "$B"
cp "$S"/*.[ch] "$B/"
printf 'obj-m += %s\n' "${MODS[@]/%/.o}" > "$B/Makefile"
say "building ${MODS[*]} against linux-headers-$KV ($VER) with $CC"
if ! make -s -C "$H" M="$B" CC="$CC" modules > "$WORK/build.log" 2>&1; then
	tail -n 30 "$WORK/build.log" >&2
	exit 1
fi
mkdir -p "$OUT"
for m in "${MODS[@]}"; do cp "$B/$m.ko" "$OUT/$m.ko"; done
echo "$KV" > "$OUT/.stamp"
# keep the cache lean: the headers and their .debs are only needed to build
rm -rf "$WORK"
rm -f "$DEB"/linux-headers-*.deb "$DEB/${KB}_"*.deb
say "built $(cd "$OUT" && echo *.ko)"
echo "$OUT"
