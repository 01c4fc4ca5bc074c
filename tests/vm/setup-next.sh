#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/vm/setup-next.sh — the test bed's second kernel set, "next": a 6.12 kernel with
# iommufd (/dev/iommu) and the VFIO device cdev (/dev/vfio/devices/vfioN), and a QEMU
# that takes `-object iommufd` to run inside the guest. Run by run-all.sh after
# setup.sh, only when a selected scenario says SCEN_KERNEL=next. Nothing is installed
# on the host: Debian packages are fetched with apt-get from private apt states under
# the cache (their own sources.list, empty dpkg status) and unpacked with dpkg-deb -x.
#
#   * kernel: Debian's linux-image-6.12.*+deb12-amd64, the one bookworm-backports'
#     linux-image-amd64 depends on, unpacked into <cache>/kernel-next. No amd64 kernel
#     Debian ships (trixie's 6.12 and the backports up to 7.x included) is built with
#     CONFIG_IOMMUFD, and trixie's are built with gcc-14, whose kbuild tools do not run
#     on Debian 12; bookworm-backports' 6.12 is built with this machine's gcc-12. So,
#     unless its config already has CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV=y, the
#     modules that change are rebuilt out of tree from linux-source-6.12 of exactly that
#     version against its linux-headers + linux-kbuild, as a user of that kernel would
#     (DKMS-style), with IOMMUFD=m and VFIO_DEVICE_CDEV=y: iommufd.ko (new: /dev/iommu)
#     and the ones struct vfio_device's layout reaches — vfio, vfio_iommu_type1,
#     vfio-pci-core, vfio-pci. They replace the shipped ones in the module tree (modversions
#     keep any other stock module from loading against them); depmod runs with the cached
#     kmod. vmlinuz is Debian's, untouched.
#   * QEMU: trixie's qemu-system-x86 (10.0) and its dependencies, unpacked into
#     <cache>/next-root, pruned (docs, locales, other emulators). It runs from there
#     through trixie's own dynamic loader with --library-path (no chroot: file descriptors
#     a caller opened, /dev/iommu and a VFIO cdev, stay open in QEMU): the wrapper
#     <cache>/next-root/vfk/qemu-system-x86_64 (written here) execs a symlink to the
#     loader named qemu-system-x86_64, so the process is called qemu-system-x86 (comm)
#     like an installed QEMU; its ROMs and modules come from next-root (qemu-bundle).
#
# Idempotent and cached (marker files .ready); with a ready cache it costs well under a
# second. First run (~1.5-2 min): ~330 MB downloaded (kernel 106 MB, source, headers and
# kbuild 169 MB, QEMU and its libraries 38 MB, package lists 10 MB), the module build
# ~25 s; afterwards the downloads and apt states are dropped: kernel-next (119 MB) and
# next-root (109 MB) stay.
#
# Environment: VFK_VM_CACHE (as setup.sh), VFK_VM_REFRESH=1 (look the packages up again)
# Exit status: 0 ready (last line: "next: kernel <kver> (...) and QEMU <version> ready"),
#              1 a package cannot be fetched or the build failed (one "FAIL:" line).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${VFK_VM_CACHE:-$HERE/cache}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
KROOT=$CACHE/kernel-next
NROOT=$CACHE/next-root
APTD=$CACHE/next-apt
KMOD=$CACHE/kmod/bin
MIRROR=http://deb.debian.org/debian
KSUITE=bookworm-backports	# the kernel's suite (see above)
QSUITE=trixie			# QEMU's
# the rebuilt modules, by their path in the kernel's module tree; a change to the build
# below bumps RECIPE, which rebuilds a cached tree
MODS="kernel/drivers/iommu/iommufd/iommufd.ko kernel/drivers/vfio/vfio.ko
kernel/drivers/vfio/vfio_iommu_type1.ko kernel/drivers/vfio/pci/vfio-pci-core.ko
kernel/drivers/vfio/pci/vfio-pci.ko"
RECIPE=1

# what the set needs comes from Debian's archive: not getting it is a failure, not a skip
fail() { echo "FAIL: test bed (kernel set next): $*"; exit 1; }
say()  { echo "setup-next: $*" >&2; }

[ -x "$KMOD/kmod" ] || fail "no $KMOD/kmod: run tests/vm/setup.sh first"
exec 8>"$CACHE/.setup-next.lock"
flock -w 3600 8 || fail "another setup-next.sh held $CACHE/.setup-next.lock for an hour"

# ---- private apt states: one per suite, nothing of the host's apt state touched ----
# apt_init NAME SOURCES-LINE: $APTD/NAME with an empty dpkg status (every dependency
# is fetched); apt_get NAME ARGS... / apt_cache NAME ARGS... run against it
apt_init() {
	local d=$APTD/$1
	mkdir -p "$d"/etc/apt/apt.conf.d "$d"/etc/apt/preferences.d "$d"/etc/apt/sources.list.d \
		"$d"/var/lib/apt/lists/partial "$d"/var/cache/apt/archives/partial "$d"/var/lib/dpkg
	: > "$d/var/lib/dpkg/status"
	echo "$2" > "$d/etc/apt/sources.list"
	{
		echo "Dir \"$d/\";"
		echo 'Dir::Etc::TrustedParts "/etc/apt/trusted.gpg.d/";'	# Debian's archive keys
		echo 'Dir::Etc::Trusted "/etc/apt/trusted.gpg";'
		echo 'APT::Architecture "amd64"; APT::Architectures { "amd64"; };'
		echo 'APT::Install-Recommends "false"; Acquire::Languages "none";'
		# as root, apt hands downloads to the _apt user, which cannot write the cache
		[ "$(id -u)" = 0 ] && echo 'APT::Sandbox::User "root";'
	} > "$d/apt.conf"
}
# apt_get's output goes to $APTD/NAME/apt.log; its tail is shown when it fails
apt_get() {
	local n=$1 rc=0; shift
	APT_CONFIG=$APTD/$n/apt.conf timeout 900 apt-get -q "$@" >> "$APTD/$n/apt.log" 2>&1 || rc=$?
	[ $rc = 0 ] || tail -n 15 "$APTD/$n/apt.log" >&2
	return $rc
}
apt_cache() { local n=$1; shift; APT_CONFIG=$APTD/$n/apt.conf apt-cache "$@"; }
apt_update() {
	[ -e "$APTD/$1/.updated" ] && return 0
	say "apt-get update ($1: $(cat "$APTD/$1/etc/apt/sources.list"))"
	apt_get "$1" update || return 1
	touch "$APTD/$1/.updated"
}
apt_drop() { rm -rf "${APTD:?}/${1:?}"; rmdir "$APTD" 2>/dev/null || true; }
# download NAME PKG[=VER]... -> into $APTD/NAME/deb
download() {
	local n=$1; shift
	mkdir -p "$APTD/$n/deb"
	(cd "$APTD/$n/deb" && apt_get "$n" download "$@")
}

# ---- the kernel --------------------------------------------------------------
kernel_ready() { # sets KV
	KV=$(sed -n 1p "$KROOT/.ready" 2>/dev/null)
	[ -n "$KV" ] && [ "$(sed -n 2p "$KROOT/.ready")" = "recipe $RECIPE" ] &&
		[ -s "$KROOT/lib/modules/$KV/modules.dep" ]
}

build_modules() { # the iommufd + cdev-enabled VFIO modules for $KV ($VER) -> into $KROOT
	local mm src w h b cc f kb
	mm=$(echo "$KV" | cut -d. -f1,2)
	src=linux-source-$mm
	w=$APTD/kbuild
	rm -rf "$w"
	mkdir -p "$w"
	kb=$(apt_cache kernel depends "linux-headers-$KV=$VER" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-\(headers\|kbuild\)-[^ ]*\)$/\1/p' | sort -u | tr '\n' ' ')
	[ -n "$kb" ] || fail "cannot resolve the dependencies of linux-headers-$KV=$VER in $KSUITE"
	local pkgs=("$src=$VER" "linux-headers-$KV=$VER")
	for f in $kb; do pkgs+=("$f=$VER"); done
	download kernel "${pkgs[@]}" ||
		fail "apt-get download of $src, linux-headers-$KV and $kb=$VER from $KSUITE failed"
	for f in "$APTD"/kernel/deb/linux-headers-*.deb "$APTD"/kernel/deb/linux-kbuild-*.deb; do
		dpkg-deb -x "$f" "$w/hdr"
	done
	h=$w/hdr/usr/src/linux-headers-$KV
	[ -f "$h/Makefile" ] || fail "linux-headers-$KV=$VER has no Makefile"
	# the arch tree's Makefile includes the common tree by its absolute /usr/src path
	sed -i "s#^include /usr/src/#include $w/hdr/usr/src/#" "$h/Makefile"

	say "extracting drivers/vfio, drivers/iommu, lib/interval_tree.c from $src $VER"
	mkdir -p "$w/src"
	dpkg-deb --fsys-tarfile "$APTD"/kernel/deb/"$src"_*.deb | tar -xO "./usr/src/$src.tar.xz" |
		tar -xJ -C "$w/src" --strip-components=1 --wildcards "$src/drivers/vfio/*" \
			"$src/drivers/iommu/*" "$src/lib/interval_tree.c"
	[ -s "$w/src/drivers/iommu/iommufd/main.c" ] || fail "$src $VER has no drivers/iommu/iommufd"

	# the tree as Kbuild wants it: our Kbuild files say which objects, the -D's say
	# what the kernel's .config would (IOMMUFD=m, VFIO_DEVICE_CDEV=y, and the interval
	# tree span iterator iommufd needs, which vmlinux lacks without IOMMUFD: its
	# functions are built into iommufd.ko, unexported)
	b=$w/build
	mkdir -p "$b/drivers/iommu/iommufd" "$b/drivers/vfio/pci"
	cp "$w/src/drivers/iommu/iommu-priv.h" "$b/drivers/iommu/"
	cp "$w/src/drivers/iommu/iommufd/"*.[ch] "$b/drivers/iommu/iommufd/"
	cp "$w/src/drivers/vfio/"*.[ch] "$b/drivers/vfio/"
	cp "$w/src/drivers/vfio/pci/"*.[ch] "$b/drivers/vfio/pci/"
	{
		sed -n '1,/^#include <linux\/export.h>/p' "$w/src/lib/interval_tree.c"
		awk '/^#ifdef CONFIG_INTERVAL_TREE_SPAN_ITER/ { p = 1; next } p && /^#endif/ { exit } p' \
			"$w/src/lib/interval_tree.c" | grep -v '^EXPORT_SYMBOL'
	} > "$b/drivers/iommu/iommufd/span_iter.c"
	grep -q '^void interval_tree_span_iter_first' "$b/drivers/iommu/iommufd/span_iter.c" ||
		fail "no interval_tree_span_iter_first in $src's lib/interval_tree.c"
	cat > "$b/Kbuild" <<-'EOF'
	subdir-ccflags-y += -DCONFIG_IOMMUFD_MODULE=1 -DCONFIG_VFIO_DEVICE_CDEV=1 -DCONFIG_INTERVAL_TREE_SPAN_ITER=1
	obj-m += drivers/iommu/iommufd/ drivers/vfio/
	EOF
	cat > "$b/drivers/iommu/iommufd/Kbuild" <<-'EOF'
	iommufd-y := device.o fault.o hw_pagetable.o io_pagetable.o ioas.o main.o pages.o vfio_compat.o span_iter.o
	obj-m += iommufd.o
	EOF
	cat > "$b/drivers/vfio/Kbuild" <<-'EOF'
	vfio-y := vfio_main.o device_cdev.o group.o iommufd.o container.o virqfd.o
	obj-m += vfio.o vfio_iommu_type1.o pci/
	EOF
	cat > "$b/drivers/vfio/pci/Kbuild" <<-'EOF'
	vfio-pci-core-y := vfio_pci_core.o vfio_pci_intrs.o vfio_pci_rdwr.o vfio_pci_config.o
	vfio-pci-y := vfio_pci.o vfio_pci_igd.o
	obj-m += vfio-pci-core.o vfio-pci.o
	EOF
	cc=gcc-12
	command -v "$cc" > /dev/null || cc=gcc
	grep -q "^CONFIG_CC_VERSION_TEXT=\"x86_64-linux-gnu-$cc " "$h/.config" ||
		say "note: $KV was built with $(sed -n 's/^CONFIG_CC_VERSION_TEXT=//p' "$h/.config"), building with $cc"
	say "building $(for f in $MODS; do basename "$f" .ko; done | tr '\n' ' ')against linux-headers-$KV ($VER) with $cc"
	# no BTF for the modules (pahole is not needed: they load without it)
	if ! timeout 1800 make -s -C "$h" M="$b" CC="$cc" CONFIG_DEBUG_INFO_BTF_MODULES= \
		-j"$(nproc)" modules > "$w/build.log" 2>&1; then
		tail -n 30 "$w/build.log" >&2
		fail "building the iommufd/VFIO modules against linux-headers-$KV failed (log above)"
	fi
	local m base
	for m in $MODS; do
		base=$(basename "$m")
		f=$(find "$b" -name "$base" | head -n1)
		[ -n "$f" ] || fail "the build made no $base"
		rm -f "$KROOT.new/lib/modules/$KV/$m".*
		mkdir -p "$(dirname "$KROOT.new/lib/modules/$KV/$m")"
		strip --strip-debug -o "$KROOT.new/lib/modules/$KV/$m" "$f"
	done
	echo "IOMMUFD=m and VFIO_DEVICE_CDEV=y: $(for m in $MODS; do basename "$m" .ko; done |
		tr '\n' ' ')rebuilt from $src $VER with $cc" > "$KROOT.new/.iommufd"
	rm -rf "$w"
}

setup_kernel() {
	local pkg debf
	apt_init kernel "deb $MIRROR $KSUITE main"
	apt_update kernel || fail "apt-get update of $KSUITE from $MIRROR failed"
	pkg=$(apt_cache kernel depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-6\.12\.[^ ]*-amd64$/ { print $2; exit }')
	[ -n "$pkg" ] || fail "cannot resolve linux-image-amd64 -> linux-image-6.12.*-amd64 in $KSUITE"
	KV=${pkg#linux-image-}
	VER=$(apt_cache kernel show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
	[ -n "$VER" ] || fail "no version of $pkg in $KSUITE"
	if (kernel_ready) && [ "$(sed -n 1p "$KROOT/.ready")" = "$KV" ] &&
		[ "$(sed -n 3p "$KROOT/.ready")" = "$VER" ]; then
		apt_drop kernel	# VFK_VM_REFRESH=1: still the newest
		return
	fi
	say "kernel $pkg $VER from $KSUITE"
	download kernel "$pkg=$VER" || fail "apt-get download $pkg=$VER from $KSUITE failed"
	debf=$(ls "$APTD"/kernel/deb/"$pkg"_*.deb)
	rm -rf "$KROOT.new"
	dpkg-deb -x "$debf" "$KROOT.new"
	rm -rf "$KROOT.new/usr/share/doc" "$KROOT.new/usr/share/bug"
	# merged-/usr kernels ship usr/lib/modules: kmod's -b wants lib/modules
	[ -d "$KROOT.new/lib/modules/$KV" ] || [ ! -d "$KROOT.new/usr/lib/modules/$KV" ] ||
		ln -s usr/lib "$KROOT.new/lib"
	[ -f "$KROOT.new/boot/vmlinuz-$KV" ] || fail "$pkg has no boot/vmlinuz-$KV"
	[ -d "$KROOT.new/lib/modules/$KV/kernel" ] || fail "$pkg has no module tree"
	local c=$KROOT.new/boot/config-$KV
	if grep -q -E '^CONFIG_IOMMUFD=(y|m)$' "$c" && grep -q '^CONFIG_VFIO_DEVICE_CDEV=y$' "$c"; then
		echo "iommufd and the vfio cdev as shipped" > "$KROOT.new/.iommufd"
	else
		local need
		for need in CONFIG_VFIO=m CONFIG_VFIO_PCI=m CONFIG_VFIO_GROUP=y CONFIG_VFIO_CONTAINER=y \
			CONFIG_IOMMU_API=y CONFIG_INTERVAL_TREE=y CONFIG_MODVERSIONS=y; do
			grep -q "^$need\$" "$c" || fail "$pkg's config has no $need: cannot add iommufd as modules"
		done
		build_modules
	fi
	say "depmod $KV"
	"$KMOD/depmod" -b "$KROOT.new" "$KV"
	rm -rf "$KROOT"
	mv "$KROOT.new" "$KROOT"
	printf '%s\nrecipe %s\n%s\n' "$KV" "$RECIPE" "$VER" > "$KROOT/.ready"
	apt_drop kernel
}

if [ "${VFK_VM_REFRESH:-0}" = 1 ] || ! kernel_ready; then
	setup_kernel
fi
# what the guest's modprobe will do: vfio-pci pulls in the rebuilt vfio, which needs iommufd
deps=$("$KMOD/modprobe" -d "$KROOT" -S "$KV" --show-depends vfio-pci 2>&1) ||
	fail "modprobe --show-depends vfio-pci on $KV: $deps"
case $deps in
*/iommufd.ko*) ;;
*) grep -q -E '^CONFIG_IOMMUFD=y$' "$KROOT/boot/config-$KV" ||
	fail "vfio-pci of $KV does not pull in iommufd: $(echo "$deps" | tr '\n' ' ')" ;;
esac

# ---- QEMU from trixie --------------------------------------------------------
qemu_ready() { [ -s "$NROOT/.ready" ] && [ -x "$NROOT/usr/bin/qemu-system-x86_64" ]; }
setup_qemu() {
	local f v n=0
	apt_init qemu "deb $MIRROR $QSUITE main"
	apt_update qemu || fail "apt-get update of $QSUITE from $MIRROR failed"
	v=$(apt_cache qemu show --no-all-versions qemu-system-x86 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
	if qemu_ready && [ -n "$v" ] && [ "$(sed -n 1p "$NROOT/.ready")" = "$v" ]; then
		apt_drop qemu	# VFK_VM_REFRESH=1: still the newest
		return
	fi
	say "fetching qemu-system-x86 $v and its dependencies from $QSUITE"
	apt_get qemu install --download-only -y qemu-system-x86 ||
		fail "apt-get install --download-only qemu-system-x86 from $QSUITE failed"
	rm -rf "$NROOT.new"
	mkdir -p "$NROOT.new"
	for f in "$APTD"/qemu/var/cache/apt/archives/*.deb; do
		dpkg-deb -x "$f" "$NROOT.new"
		n=$((n + 1))
	done
	[ -x "$NROOT.new/usr/bin/qemu-system-x86_64" ] || fail "no usr/bin/qemu-system-x86_64 in $QSUITE's qemu-system-x86"
	# lean: no docs, translations, other emulators or maintainer tooling
	rm -rf "$NROOT.new"/usr/share/{doc,man,info,locale,lintian,bug,bash-completion,perl5,debconf,pixmaps} \
		"$NROOT.new"/usr/bin/qemu-system-i386 "$NROOT.new"/usr/bin/qemu-system-x86_64-microvm \
		"$NROOT.new/var"
	dpkg-deb -f "$(ls "$APTD"/qemu/var/cache/apt/archives/qemu-system-x86_*.deb)" Version > "$NROOT.new/.ready"
	echo "$n packages from $QSUITE" >> "$NROOT.new/.ready"
	rm -rf "$NROOT"
	mv "$NROOT.new" "$NROOT"
	apt_drop qemu
}
if [ "${VFK_VM_REFRESH:-0}" = 1 ] || ! qemu_ready; then
	setup_qemu
fi

# The wrapper (rewritten each time: it names the cache's absolute path). QEMU runs as
# the same process (exec), so the caller's open file descriptors are QEMU's.
LD=$NROOT/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
[ -x "$LD" ] || fail "no dynamic loader in $NROOT"
# comm is the basename of what execve ran: the loader, by a link called qemu-system-x86_64
mkdir -p "$NROOT/vfk/ld"
ln -sfn ../../usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$NROOT/vfk/ld/qemu-system-x86_64"
# QEMU's compiled-in paths (ROMs, data, its modules under /usr/lib/x86_64-linux-gnu/qemu)
# are the host's, where Debian 12's QEMU keeps its own (a module of another build
# aborts QEMU 10 when it lists its QOM types, as vfiokit's iommufd probe does). QEMU
# takes them below <dir of its executable>/qemu-bundle when that exists (a build
# tree's layout), and its executable is the loader here: point that at this root.
ln -sfn ../../.. "$NROOT/usr/lib/x86_64-linux-gnu/qemu-bundle"
W=$NROOT/vfk/qemu-system-x86_64
case $NROOT in *"'"*) fail "the cache path $NROOT has a quote in it" ;; esac
{
	echo '#!/bin/sh'
	echo "# Debian $QSUITE's qemu-system-x86_64 $(sed -n 1p "$NROOT/.ready"), run from $NROOT"
	printf "R='%s'\n" "$NROOT"
	cat <<-'EOF'
	# through its own dynamic loader (written by tests/vm/setup-next.sh). No chroot: the
	# file descriptors the caller opened stay open in QEMU, the same process. ROMs and
	# modules come from $R (usr/lib/x86_64-linux-gnu/qemu-bundle -> $R).
	exec "$R/vfk/ld/qemu-system-x86_64" --library-path "$R/usr/lib/x86_64-linux-gnu" \
		--argv0 "$0" "$R/usr/bin/qemu-system-x86_64" "$@"
	EOF
} > "$W.tmp"
chmod 755 "$W.tmp"
mv "$W.tmp" "$W"

v=$(timeout 60 "$W" --version 2>&1 | head -n1) || fail "$W --version: $v"
fw=$(timeout 60 "$W" -L help 2>&1) || fail "$W -L help: $fw"
if [ -z "$fw" ] || printf '%s\n' "$fw" | grep -q -v "^$NROOT/"; then
	fail "$W looks for its ROMs outside $NROOT: $(echo "$fw" | tr '\n' ' ')"
fi
# what vfiokit asks a QEMU (lib/launch/vmm-caps.c): its QOM types over QMP, which loads
# every module that has some
qmp=$(printf '%s\n' '{"execute":"qmp_capabilities"}' \
	'{"execute":"qom-list-types","arguments":{"implements":"object"}}' '{"execute":"quit"}' |
	timeout 60 "$W" -machine none -nodefaults -display none -qmp stdio 2>&1) || true
case $qmp in
*'"name": "iommufd"'*) ;;
*) fail "$v ($W) lists no iommufd object type over QMP: $(echo "$qmp" | tail -n 3 | tr '\n' ' ')" ;;
esac
timeout 60 "$W" -device vfio-pci,help 2>&1 | grep -q '^ *iommufd=' || fail "$v ($W): vfio-pci has no iommufd property"
echo "next: kernel $KV ($(sed -n 3p "$KROOT/.ready"), $(cat "$KROOT/.iommufd")) and $v ready in $CACHE"
