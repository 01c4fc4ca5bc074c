#!/bin/bash
# tests/deb.sh — the Debian packages (debian/), end to end:
#   1. scripts/mkdeb.sh copies the tree to a temporary directory and runs
#      `dpkg-buildpackage -us -uc -b` there: vfiokit, libvfiokit0, libvfiokit-dev;
#   2. lintian on the result: no E: tag;
#   3. what each .deb holds (dpkg-deb): tools, man pages, udev rules, units,
#      completion, the library under /usr/lib/<triplet> named after its SONAME,
#      header, .pc;
#   4. a fresh Debian 12 minbase root (mmdebstrap, scripts/root.sh: the same
#      bootstrap as scripts/fresh-root.sh): `apt-get install ./*.deb` resolves their
#      Depends from the archive; there the installed vfio-check and vfio-ls read a
#      fixture host tree (tests/mkhost.py), pkg-config finds vfiokit, a C program
#      including <vfiokit.h> links with -lvfiokit and runs; then apt-get remove
#      leaves only the conffiles and purge + autoremove leave no file behind.
#
#   tests/deb.sh            as root (mmdebstrap, chroot); needs network to the mirror
#   VFK_DEB_KEEP=1          keep the work directory and the root (paths printed)
#
# Every step is bounded. One PASS:/FAIL:/SKIP: line per check, then
# "N passed, N failed, N skipped"; exit 1 when a check failed.
set -u
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
T0=$(date +%s)
P=0 F=0 S=0
pass() { echo "PASS: $*"; P=$((P + 1)); }
fail() { echo "FAIL: $*"; F=$((F + 1)); }
skip() { echo "SKIP: $*"; S=$((S + 1)); }
say() { echo "deb: $*"; }
finish() {
	say "$(( $(date +%s) - T0 ))s in all"
	echo "$P passed, $F failed, $S skipped"
	[ "$F" -eq 0 ]
	exit
}
# check WHAT COND...: PASS when the command COND succeeds, else FAIL (and status 1)
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; return 1; fi; }

VERSION=$(sed -n 's/^VERSION *:= *//p' Makefile)
SOVERSION=$(sed -n 's/^SOVERSION *:= *//p' Makefile)
TOOLS=$(sed -n 's/^TOOLS *:= *//p' Makefile)
LIBPKG=libvfiokit$SOVERSION
ROOT_UID=$(id -u)

# ---- what this needs: scripts/packages.list (targets build, deb)
if [ "$ROOT_UID" = 0 ]; then
	scripts/deps.sh build deb || { fail "installing the packages of scripts/packages.list (build, deb) failed"; finish; }
fi
for need in dpkg-buildpackage:dpkg-dev dh:debhelper lintian:lintian python3:python3 readelf:binutils; do
	command -v "${need%%:*}" > /dev/null || { fail "no ${need%%:*} (Debian package ${need#*:}: scripts/deps.sh build deb)"; finish; }
done
TRIPLET=$(dpkg-architecture -qDEB_HOST_MULTIARCH)

WORK=$(mktemp -d /var/tmp/vfk-deb.XXXXXX)
ROOT=$WORK/root
. scripts/root.sh
cleanup() {
	if [ "${VFK_DEB_KEEP:-0}" = 1 ]; then
		[ -d "$ROOT" ] && root_remove_procs "$ROOT"
		say "kept: $WORK (packages in $WORK/out, the root in $ROOT)"
	else
		{ [ -d "$ROOT" ] && ! root_remove "$ROOT"; } || rm -rf --one-file-system "$WORK"
	fi
}
trap cleanup EXIT

# ---- 1. the build
DEBVER=$(dpkg-parsechangelog -S Version)
check "debian/changelog's version $DEBVER is the Makefile's VERSION $VERSION (native package)" \
	[ "$DEBVER" = "$VERSION" ]
t=$(date +%s)
if ! timeout -k 30 1900 scripts/mkdeb.sh "$WORK/out"; then
	fail "dpkg-buildpackage -us -uc -b from a clean copy of the tree (the reason above; VFK_DEB_KEEP=1 keeps the copy and its log)"
	finish
fi
DEB_TOOLS=$(ls "$WORK"/out/vfiokit_"$DEBVER"_*.deb 2>/dev/null)
DEB_LIB=$(ls "$WORK"/out/"$LIBPKG"_"$DEBVER"_*.deb 2>/dev/null)
DEB_DEV=$(ls "$WORK"/out/libvfiokit-dev_"$DEBVER"_*.deb 2>/dev/null)
if [ -z "$DEB_TOOLS" ] || [ -z "$DEB_LIB" ] || [ -z "$DEB_DEV" ]; then
	fail "dpkg-buildpackage made vfiokit, $LIBPKG and libvfiokit-dev (made: $(cd "$WORK/out" && echo *.deb))"
	finish
fi
pass "dpkg-buildpackage -us -uc -b from a clean copy of the tree builds vfiokit, $LIBPKG (the Makefile's SOVERSION $SOVERSION) and libvfiokit-dev ($(( $(date +%s) - t ))s)"

# ---- 2. lintian
t=$(date +%s)
timeout 600 lintian -I --fail-on none "$WORK"/out/*.changes > "$WORK/lintian.txt" 2>&1
lrc=$?
grep -E '^[EWIPX]: ' "$WORK/lintian.txt" | sed 's/^/  lintian: /'
nE=$(grep -c '^E: ' "$WORK/lintian.txt") nW=$(grep -c '^W: ' "$WORK/lintian.txt") nI=$(grep -c '^I: ' "$WORK/lintian.txt")
if [ $lrc -ne 0 ]; then
	fail "lintian ran (exit $lrc): $(grep -v '^[EWIPXN]: ' "$WORK/lintian.txt" | head -n 3)"
else
	check "lintian on the .changes (the three packages and their -dbgsym): no E: tag ($nE errors, $nW warnings, $nI info; $(( $(date +%s) - t ))s)" \
		[ "$nE" -eq 0 ]
fi

# ---- 3. what each package holds
# has DEB TYPE PATH...: dpkg-deb -c lists each PATH (./ relative) with that file type (- l d)
has() {
	local deb=$1 type=$2 p miss=''
	shift 2
	for p in "$@"; do
		awk -v p="./$p" -v ty="$type" '$6 == p && substr($1, 1, 1) == ty { f = 1 } END { exit !f }' \
			"$WORK/$(basename "$deb").list" || miss="$miss $p"
	done
	[ -z "$miss" ] || echo "  missing from $(basename "$deb"):$miss" >&2
	[ -z "$miss" ]
}
for d in "$DEB_TOOLS" "$DEB_LIB" "$DEB_DEV"; do dpkg-deb -c "$d" > "$WORK/$(basename "$d").list"; done
tools=() mans=() comps=() rules=() units=()
for t in $TOOLS; do tools+=("usr/bin/$t"); comps+=("usr/share/bash-completion/completions/$t"); done
for m in docs/*.scd; do m=${m##*/}; m=${m%.scd}; mans+=("usr/share/man/man${m##*.}/$m.gz"); done
for r in udev/*.rules; do rules+=("lib/udev/rules.d/${r##*/}"); done
for u in systemd/*.service systemd/*.socket; do units+=("lib/systemd/system/${u##*/}"); done
check "vfiokit holds the tools in /usr/bin ($TOOLS)" has "$DEB_TOOLS" - "${tools[@]}"
check "vfiokit holds a man page for each docs/*.scd (${#mans[@]}: ${mans[*]##*/})" has "$DEB_TOOLS" - "${mans[@]}"
check "vfiokit holds the udev rules (${rules[*]##*/}) and the modprobe.d file" \
	has "$DEB_TOOLS" - "${rules[@]}" etc/modprobe.d/vfiokit.conf
check "vfiokit holds the systemd units (${units[*]##*/}) and the libvirt hook" \
	has "$DEB_TOOLS" - "${units[@]}" etc/libvirt/hooks/qemu.d/vfiokit
check "vfiokit holds bash completion for the ${#comps[@]} tools" has "$DEB_TOOLS" - "${comps[0]}" &&
	check "  ... the other tools' completion links to it" has "$DEB_TOOLS" l "${comps[@]:1}"
check "vfiokit ships no enablement symlink (its postinst enables vfiokit-restore.service)" \
	bash -c "! grep -q 'target.wants' '$WORK/$(basename "$DEB_TOOLS").list'"
check "$LIBPKG holds libvfiokit.so.$VERSION and the link libvfiokit.so.$SOVERSION in /usr/lib/$TRIPLET" \
	has "$DEB_LIB" - "usr/lib/$TRIPLET/libvfiokit.so.$VERSION" &&
	has "$DEB_LIB" l "usr/lib/$TRIPLET/libvfiokit.so.$SOVERSION"
check "libvfiokit-dev holds vfiokit.h, vfiokit.pc, libvfiokit.a and the link libvfiokit.so" \
	has "$DEB_DEV" - usr/include/vfiokit.h "usr/lib/$TRIPLET/pkgconfig/vfiokit.pc" "usr/lib/$TRIPLET/libvfiokit.a" &&
	has "$DEB_DEV" l "usr/lib/$TRIPLET/libvfiokit.so"
check "no other package holds a library file (libvfiokit.so* only in $LIBPKG and -dev)" \
	bash -c "! grep -q 'libvfiokit\\.' '$WORK/$(basename "$DEB_TOOLS").list'"
mkdir -p "$WORK/x/tools" "$WORK/x/lib" "$WORK/x/dev"
dpkg-deb -x "$DEB_TOOLS" "$WORK/x/tools" && dpkg-deb -x "$DEB_LIB" "$WORK/x/lib" && dpkg-deb -x "$DEB_DEV" "$WORK/x/dev"
soname=$(LC_ALL=C readelf -d "$WORK/x/lib/usr/lib/$TRIPLET/libvfiokit.so.$VERSION" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
check "the library's SONAME $soname is libvfiokit.so.$SOVERSION, and its package is named after it ($LIBPKG)" \
	[ "$soname" = "libvfiokit.so.$SOVERSION" ]
check "@BINDIR@ replaced by /usr/bin in the udev rules, units and libvirt hook" \
	bash -c "cd '$WORK/x/tools' && ! grep -rl '@BINDIR@' etc lib && grep -q '/usr/bin/vfio-bind' lib/udev/rules.d/60-vfiokit.rules"
pc=$WORK/x/dev/usr/lib/$TRIPLET/pkgconfig/vfiokit.pc
check "vfiokit.pc says prefix=/usr, libdir=/usr/lib/$TRIPLET, version $VERSION" \
	bash -c "grep -qx 'prefix=/usr' '$pc' && grep -qx 'libdir=/usr/lib/$TRIPLET' '$pc' && grep -qx 'Version: $VERSION' '$pc'"
field() { dpkg-deb -f "$1" "$2"; }
check "Multi-Arch: same for $LIBPKG and libvfiokit-dev, foreign for vfiokit" \
	[ "$(field "$DEB_LIB" Multi-Arch) $(field "$DEB_DEV" Multi-Arch) $(field "$DEB_TOOLS" Multi-Arch)" = "same same foreign" ]
check "libvfiokit-dev depends on $LIBPKG (= $DEBVER); $LIBPKG on libpci3 (shlibs) and libkmod2 (loaded at run time)" \
	bash -c "dpkg-deb -f '$DEB_DEV' Depends | grep -qF '$LIBPKG (= $DEBVER)' &&
		dpkg-deb -f '$DEB_LIB' Depends | grep -q 'libpci3' && dpkg-deb -f '$DEB_LIB' Depends | grep -qw 'libkmod2'"

# ---- 4. install and use them in a fresh Debian 12 minbase root
if [ "$ROOT_UID" != 0 ]; then
	skip "install in a fresh Debian 12 root: needs root (mmdebstrap, chroot)"
	finish
fi
for need in mmdebstrap:mmdebstrap unshare:util-linux; do
	command -v "${need%%:*}" > /dev/null || { fail "no ${need%%:*} (Debian package ${need#*:}: scripts/deps.sh deb)"; finish; }
done
t=$(date +%s)
if ! root_bootstrap "$ROOT"; then
	fail "bootstrap a Debian 12 minbase root (mmdebstrap)"
	finish
fi
say "a fresh Debian 12 minbase root in $ROOT in $(( $(date +%s) - t ))s"
mkdir -p "$ROOT/root/debs" "$ROOT/root/fx"
cp "$DEB_TOOLS" "$DEB_LIB" "$DEB_DEV" "$ROOT/root/debs/"
for h in ready iommu-off; do
	python3 tests/mkhost.py "tests/fixtures/hosts/$h.host" "$ROOT/root/fx/$h" ||
		{ fail "tests/mkhost.py made the fixture host '$h'"; finish; }
done
cat > "$ROOT/root/probe.c" <<'EOF'
#include <stdio.h>
#include <vfiokit.h>

int main(int argc, char **argv)
{
	struct vfk_ctx *ctx;
	struct vfk_host *host;

	if (argc != 2 || vfk_ctx_new(argv[1], &ctx) < 0 || vfk_host_scan(ctx, &host) < 0)
		return 1;
	printf("vfiokit %s: %zu IOMMU groups, IOMMU %s\n", vfk_version(),
	       vfk_host_group_count(host), vfk_host_iommu_enabled(host) ? "enabled" : "off");
	vfk_host_unref(host);
	vfk_ctx_unref(ctx);
	return 0;
}
EOF

# in_root TIMEOUT COMMAND: run it in /root inside the root; output in $WORK/out.txt, status returned
in_root() {
	root_run "$ROOT" "$1" /root "$2" < /dev/null > "$WORK/out.txt" 2>&1
}
show() { sed 's/^/  | /' "$WORK/out.txt" | tail -n "${1:-15}"; }
APT='DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Dpkg::Use-Pty=0'
# every file of the root but the volatile and per-run places (/root holds this test's files)
cat > "$ROOT/root/snap.sh" <<'END'
find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp -o -path /root \
	-o -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/cache -o -path /var/log \) -prune -o -print | sort
END
# after apt-get remove: a file of the packages still there (but a conffile), a conffile gone
cat > "$ROOT/root/leftover.sh" <<'END'
while read -r f; do
	[ -d "$f" ] && continue		# a directory, or a link to one (/lib on a merged /usr)
	if [ -e "$f" ] || [ -L "$f" ]; then grep -qxF "$f" /root/conffiles || echo "left: $f"; fi
done < /root/files
while read -r f; do [ -e "$f" ] || echo "conffile gone: $f"; done < /root/conffiles
END
# purge what remove left (only packages with conffiles are still known to dpkg),
# then the packages that came in for their Depends
cat > "$ROOT/root/purge.sh" <<'END'
set -e
export DEBIAN_FRONTEND=noninteractive
rc=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "$@" 2> /dev/null | awk '$1 == "rc" { print $2 }')
echo "purging: $rc"
apt-get -q -y -o Dpkg::Use-Pty=0 purge $rc
apt-get -q -y -o Dpkg::Use-Pty=0 autoremove --purge
END
# the tools and the library: ldd of each
cat > "$ROOT/root/ldd.sh" <<'END'
for f in /usr/bin/vfio-* /usr/lib/*/libvfiokit.so.[0-9]*.*; do
	[ -e "$f" ] || { echo "missing: $f"; continue; }
	ldd "$f" | sed "s|^|$f: |"
done
END

# the compiler for the -dev check first, so that the snapshot before the install has it
t=$(date +%s)
if ! in_root 900 "$APT update && $APT install --no-install-recommends gcc libc6-dev pkg-config && sh snap.sh > before"; then
	show; fail "apt-get update and install gcc, pkg-config in the root"; finish
fi
say "gcc and pkg-config in the root in $(( $(date +%s) - t ))s"
t=$(date +%s)
if in_root 900 "cd /root/debs && $APT install --no-install-recommends ./*.deb" &&
	in_root 60 "dpkg-query -W -f='\${Package} \${Status}\n' vfiokit $LIBPKG libvfiokit-dev | grep -vc ' install ok installed\$' | grep -qx 0"; then
	pass "apt-get install ./*.deb in a fresh Debian 12 minbase root: the three packages' Depends resolved from the archive, no Recommends ($(( $(date +%s) - t ))s)"
else
	show; fail "apt-get install ./*.deb in a fresh Debian 12 minbase root"; finish
fi

in_root 60 'sh ldd.sh'
check "ldd: the tools and libvfiokit find every library they are linked with (libpci.so.3 among them)" \
	bash -c "! grep -qE 'not found|^missing' '$WORK/out.txt' && [ \$(grep -c 'libpci.so.3 => /' '$WORK/out.txt') = $(( $(echo $TOOLS | wc -w) + 1 )) ]" || show
check "libkmod.so.2, loaded at run time (not linked), came with the Depends" in_root 30 'ldconfig -p | grep -q "libkmod.so.2 "'
in_root 30 'vfio-ls --version'
check "installed vfio-ls --version says $VERSION" grep -qw -- "$VERSION" "$WORK/out.txt"

in_root 60 'vfio-check --sysroot /root/fx/ready'; rc=$?
check "installed vfio-check --sysroot <fixture 'ready'>: exit 0 and 'Ready.' (got exit $rc)" \
	bash -c "[ $rc = 0 ] && grep -qx 'Ready.' '$WORK/out.txt' && grep -q '^PASS  vfio-modules' '$WORK/out.txt'" || show
in_root 60 'vfio-check --sysroot /root/fx/iommu-off'; rc=$?
check "installed vfio-check --sysroot <fixture 'iommu-off'>: exit 1 and 'Not ready:' (got exit $rc)" \
	bash -c "[ $rc = 1 ] && grep -q '^Not ready:' '$WORK/out.txt'" || show
in_root 60 'vfio-ls --sysroot /root/fx/ready'; rc=$?
cp "$WORK/out.txt" "$WORK/vfio-ls.txt"
groups=$(grep -c '^IOMMU group [0-9]*:$' "$WORK/vfio-ls.txt")
check "installed vfio-ls --sysroot <fixture 'ready'>: exit 0, $groups IOMMU groups, the RTX 4090 named from pci.ids (got exit $rc)" \
	bash -c "[ $rc = 0 ] && grep -qx 'IOMMU: enabled, $groups groups' '$WORK/vfio-ls.txt' && [ $groups -gt 0 ] &&
		grep -q '^  0000:01:00.0 \[0300\] VGA compatible controller: NVIDIA Corporation .*GeForce RTX 4090' '$WORK/vfio-ls.txt'" || show
in_root 30 'zcat /usr/share/man/man1/vfio-ls.1.gz | grep -c "^\.TH "'
check "the installed man pages are roff made by scdoc (vfio-ls.1 has a .TH line)" grep -qx 1 "$WORK/out.txt"
in_root 30 'for t in '"$TOOLS"'; do bash -c ". /usr/share/bash-completion/completions/$t && complete -p $t"; done'
check "each tool's installed bash completion file loads and registers its completion" \
	[ "$(grep -c '^complete -F _vfio' "$WORK/out.txt")" = "$(echo $TOOLS | wc -w)" ]
check "vfiokit-restore.service enabled by the postinst (multi-user.target.wants, as make install does)" \
	in_root 30 '[ "$(readlink /etc/systemd/system/multi-user.target.wants/vfiokit-restore.service)" = /lib/systemd/system/vfiokit-restore.service ]'

in_root 30 'pkg-config --cflags --libs vfiokit'; rc=$?
check "pkg-config --cflags --libs vfiokit in the root: exit 0, -lvfiokit (got exit $rc: $(head -c 200 "$WORK/out.txt"))" \
	bash -c "[ $rc = 0 ] && grep -qw -- '-lvfiokit' '$WORK/out.txt'"
in_root 120 'gcc -Wall -Werror -o probe probe.c $(pkg-config --cflags --libs vfiokit) && readelf -d probe | grep -q "NEEDED.*\[libvfiokit.so.'"$SOVERSION"'\]" && ./probe /root/fx/ready'
check "a C program including <vfiokit.h> builds with pkg-config's flags, links -lvfiokit (NEEDED libvfiokit.so.$SOVERSION) and scans the fixture: 'vfiokit $VERSION: $groups IOMMU groups, IOMMU enabled'" \
	grep -qx "vfiokit $VERSION: $groups IOMMU groups, IOMMU enabled" "$WORK/out.txt" || show

# removal: first remove (the conffiles stay, as dpkg keeps them), then purge
in_root 60 "dpkg-query -L vfiokit $LIBPKG libvfiokit-dev | sort -u > files && cp /var/lib/dpkg/info/vfiokit.conffiles conffiles"
in_root 300 "$APT remove vfiokit $LIBPKG libvfiokit-dev && sh leftover.sh"; rc=$?
check "apt-get remove: no file of the packages is left but their conffiles ($(tr '\n' ' ' < "$ROOT/root/conffiles" 2>/dev/null))" \
	bash -c "[ $rc = 0 ] && ! grep -qE '^(left|conffile gone): ' '$WORK/out.txt'" || show
in_root 300 "sh purge.sh vfiokit $LIBPKG libvfiokit-dev && sh snap.sh > after && diff before after"
rc=$?
check "apt-get purge, autoremove --purge: the root's files are exactly those before the install (no file left)" [ $rc = 0 ] || show 30

finish
