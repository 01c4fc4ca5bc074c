#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The system calls of a PCI inventory (issue 25, point 1), counted with
# strace -f -c on synthetic servers of 4,096 and 65,536 functions
# (bench/mksynth.py, built here into a scratch directory): the whole
# process's calls divided by the number of functions, for vfio-ls and
# vfio-ls --json and vfio-check --json, at most VFK_SYSCALLS_MAX (4: one
# open and read of each device's uevent and one link for its group are the
# floor; a PF's VFs are known from its SR-IOV attributes, not a link each).
# A count is deterministic; timings stay in make bench. Also: failed calls
# stay under 2% of the functions (nothing is opened per device that the
# scan can know is absent).
#
# Where the test may make one (unshare -rm: a user and mount namespace), the
# trees live on a private tmpfs mounted nodev: like a real host's sysfs, a
# file there can never be a device node that opens, so the scan reads its
# attributes as it does on the running host. Otherwise on /dev/shm (tmpfs) or
# TMPDIR, where each attribute is checked before it is opened (more calls).
#
# Ends with "N passed, N failed, N skipped". Environment: VFK_BIN (default
# build/bin), VFK_SYSCALLS_SIZES (default "4096 65536"), VFK_SYSCALLS_MAX.
set -o pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
BIN=${VFK_BIN:-$TOP/build/bin}
STRACE=/usr/bin/strace
PY=/usr/bin/python3
SIZES=${VFK_SYSCALLS_SIZES:-"4096 65536"}
MAX=${VFK_SYSCALLS_MAX:-4}
P=0 F=0 S=0
pass() { echo "PASS: $*"; P=$((P + 1)); }
fail() { echo "FAIL: $*"; F=$((F + 1)); }
done_() { echo "$P passed, $F failed, $S skipped"; [[ $F -eq 0 ]]; exit; }

cd "$TOP" || exit 1

# The inner part: runs where the trees are (in the namespace, or here), prints
# one line per measurement: "RESULT tool size calls errors" or "TREE ..."
if [[ ${1:-} == --inner ]]; then
	dir=$2
	for n in $SIZES; do
		tree=$dir/synth-$n
		t0=$(date +%s.%N)
		"$PY" bench/mksynth.py "$n" "$tree" >/dev/null || { echo "TREEFAIL $n"; continue; }
		echo "TREE $n $(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t0}")"
		for tool in "vfio-ls" "vfio-ls --json" "vfio-check --json"; do
			out=$dir/strace.out
			# shellcheck disable=SC2086
			"$STRACE" -f -c -o "$out" "$BIN"/$tool --sysroot "$tree" >/dev/null 2>"$dir/err"
			rc=$?
			read -r calls errors < <(awk '$NF == "total" { print $4, (NF == 6 ? $5 : 0) }' "$out")
			echo "RESULT ${tool// /_} $n ${calls:-0} ${errors:-0} $rc"
		done
		rm -rf "$tree"
	done
	exit 0
fi

missing=0
for need in "$STRACE:strace" "$PY:python3" "$BIN/vfio-ls:vfiokit (make)" \
	    "$BIN/vfio-check:vfiokit (make)"; do
	if [[ ! -x ${need%%:*} ]]; then
		fail "${need%%:*} is missing (${need#*:})"
		missing=1
	fi
done
[[ $missing -eq 0 ]] || done_

if [[ -d /dev/shm && -w /dev/shm ]]; then base=/dev/shm; else base=${TMPDIR:-/tmp}; fi
WORK=$(mktemp -d "$base/vfk-syscalls.XXXXXX") || { fail "no scratch directory in $base"; done_; }
trap 'rm -rf "$WORK"' EXIT
results=$WORK/results
# root has its own mount namespace (a user namespace cannot be made in a
# chroot, as in the fresh root of CI); anyone else a user namespace's
if [[ $(id -u) == 0 ]]; then ns=(unshare -m); else ns=(unshare -rm); fi
if "${ns[@]}" true 2>/dev/null; then
	where="a private nodev tmpfs"
	# shellcheck disable=SC2016
	"${ns[@]}" bash -c 'mount -t tmpfs -o nodev,mode=0755 vfk-syscalls "$1" && "$2" --inner "$1"' \
		_ "$WORK" "$HERE/syscalls.sh" >"$results" 2>&1
else
	where="$base (no namespace for a nodev tmpfs: every attribute checked first)"
	"$HERE/syscalls.sh" --inner "$WORK" >"$results" 2>&1
fi
echo "# trees on $where"

for n in $SIZES; do
	if grep -q "^TREEFAIL $n\$" "$results" || ! grep -q "^TREE $n " "$results"; then
		fail "bench/mksynth.py could not build the $n-function tree"
		continue
	fi
	echo "# the $n-function tree took $(awk -v n="$n" '$1 == "TREE" && $2 == n { print $3 }' "$results") s to build"
	for tool in vfio-ls vfio-ls_--json vfio-check_--json; do
		read -r calls errors rc < <(awk -v t="$tool" -v n="$n" \
			'$1 == "RESULT" && $2 == t && $3 == n { print $4, $5, $6 }' "$results")
		name=${tool//_/ }
		if [[ -z $calls || $calls == 0 || $rc -gt 1 ]]; then
			fail "$name runs under strace on $n functions (exit ${rc:-?})"
			continue
		fi
		per=$(awk "BEGIN{printf \"%.2f\", $calls / $n}")
		if awk "BEGIN{exit !($calls <= $MAX * $n)}"; then
			pass "$name on $n functions makes at most $MAX system calls per function ($per)"
		else
			fail "$name on $n functions makes at most $MAX system calls per function ($per: $calls)"
		fi
		if awk "BEGIN{exit !($errors < 0.02 * $n)}"; then
			pass "$name on $n functions opens nothing per device that is absent ($errors failed calls)"
		else
			fail "$name on $n functions opens nothing per device that is absent ($errors failed calls, 2% is $((n / 50)))"
		fi
	done
done
done_
