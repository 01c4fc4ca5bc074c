#!/bin/bash
# scripts/mkdeb.sh — build the Debian packages (debian/) from a clean copy of the tree.
#
#   scripts/mkdeb.sh [OUTDIR]     default build/deb (make deb)
#
# Copies the tree's files (git: the tracked ones and the new ones not ignored;
# without git: every file but .git and what .gitignore names) to
# OUTDIR/src/vfiokit-VERSION, runs `dpkg-buildpackage -us -uc -b` there and moves
# the results to OUTDIR: vfiokit_*.deb, libvfiokit0_*.deb, libvfiokit-dev_*.deb,
# the .changes and .buildinfo. The copy is removed after a good build (kept after a
# failed one, with its log OUTDIR/build.log). Never touches the tree's own build
# directories: the package build runs `make clean` in the copy.
# DEB_BUILD_OPTIONS defaults to parallel=$(nproc); VFK_DEB_TIMEOUT bounds the build
# (default 1800 s). Exit status: 0 built, 1 failed (the reason in one line), 2 usage.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
case ${1:-} in -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;; -*) echo "mkdeb: unknown option '$1'" >&2; exit 2 ;; esac
OUT=${1:-$REPO/build/deb}
say() { echo "mkdeb: $*" >&2; }

for t in dpkg-buildpackage dpkg-checkbuilddeps dh; do
	command -v "$t" > /dev/null || { say "no $t (Debian packages dpkg-dev, debhelper: scripts/deps.sh build deb)"; exit 1; }
done
VERSION=$(sed -n 's/^VERSION *:= *//p' "$REPO/Makefile")
DEBVER=$(cd "$REPO" && dpkg-parsechangelog -S Version)
[ "$DEBVER" = "$VERSION" ] || say "note: debian/changelog is at $DEBVER, the Makefile's VERSION is $VERSION"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
SRC=$OUT/src/vfiokit-$DEBVER
rm -rf "$OUT/src" "$OUT"/*.deb "$OUT"/*.changes "$OUT"/*.buildinfo "$OUT/build.log"
mkdir -p "$SRC"

# the clean copy
if git -C "$REPO" rev-parse --is-inside-work-tree > /dev/null 2>&1; then
	(cd "$REPO" && git ls-files -z --cached --others --exclude-standard \
		| while IFS= read -r -d '' f; do [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"; done \
		| tar --null -T - -cf -) | tar -C "$SRC" -xf -
else
	# the patterns of .gitignore (/build*/ *.o *.d /tests/vm/cache/ run) and .git
	tar -C "$REPO" --exclude=./.git --exclude='./build*' --exclude='*.o' --exclude='*.d' \
		--exclude=./tests/vm/cache --exclude=run -cf - . | tar -C "$SRC" -xf -
fi

cd "$SRC"
if ! miss=$(dpkg-checkbuilddeps 2>&1); then
	say "build dependencies missing: ${miss#*: }(scripts/deps.sh build deb)"
	exit 1
fi
export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-parallel=$(nproc)}
say "dpkg-buildpackage -us -uc -b in $SRC (log: $OUT/build.log)"
if ! timeout -k 30 "${VFK_DEB_TIMEOUT:-1800}" dpkg-buildpackage -us -uc -b > "$OUT/build.log" 2>&1; then
	tail -n 25 "$OUT/build.log" >&2
	say "dpkg-buildpackage failed (exit status above; the copy is kept in $SRC)"
	exit 1
fi
cd "$OUT"
mv src/*.deb src/*.changes src/*.buildinfo .
rm -rf src
ls -1 "$OUT"/*.deb
