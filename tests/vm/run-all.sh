#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/vm/run-all.sh — vfiokit's real-kernel test bed (see tests/vm/README.md).
# Boots Debian's 6.1 kernel under QEMU (TCG, q35 + emulated intel-iommu) once per
# scenario in tests/vm/scenarios/ (a scenario with SCEN_KERNEL=next: the 6.12 kernel
# set with iommufd, tests/vm/setup-next.sh), runs the build tree's tools inside, and
# ends with one line "N passed, N failed, N skipped" summing every scenario.
#
#   tests/vm/run-all.sh                 every scenario
#   tests/vm/run-all.sh gpu launch      the scenarios whose file name contains a word given
#   tests/vm/run-all.sh -l              list the scenarios
#
# Environment: VFK_BIN (tools, default <repo>/build/bin), VFK_VM_CACHE (default
# tests/vm/cache), VFK_VM_TIMEOUT (seconds per guest, overrides each scenario's own),
# VFK_VM_VERBOSE=1 (stream the guest console), VFK_VM_KEEP_RUNS (run dirs kept, 3).
# Exit status: 0 when nothing failed, 1 when a check failed or the bed could not be made
# ready (then one FAIL line names what is missing).
set -uo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vm_init

usage() { sed -n '5,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
list=0 sel=()
while [ $# -gt 0 ]; do
	case $1 in
	-l|--list) list=1 ;;
	-h|--help) usage; exit 0 ;;
	-*) echo "run-all.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	*) sel+=("$1") ;;
	esac
	shift
done

scenarios=()
for f in "$VM_DIR"/scenarios/[0-9]*.sh; do
	[ -e "$f" ] || continue
	if [ ${#sel[@]} -gt 0 ]; then
		m=0
		for w in "${sel[@]}"; do case $(basename "$f") in *"$w"*) m=1 ;; esac; done
		[ $m = 1 ] || continue
	fi
	scenarios+=("$f")
done
if [ $list = 1 ]; then
	for f in "$VM_DIR"/scenarios/[0-9]*.sh; do
		printf '%-24s %s\n' "$(basename "$f" .sh)" "$(sed -n 's/^SCEN_DESC="\(.*\)"$/\1/p' "$f")"
	done
	exit 0
fi
if [ ${#scenarios[@]} -eq 0 ]; then
	echo "run-all.sh: no scenario matches: ${sel[*]}" >&2
	exit 2
fi

T0=$(date +%s)
out=$("$VM_DIR/setup.sh" 2>&1)
rc=$?
if [ $rc != 0 ]; then
	# the reason is setup's FAIL line: one line, not the cascade every scenario would give
	echo "$out" | grep -v '^FAIL:' | tail -n 10 | sed 's/^/  setup| /'
	echo "$out" | grep '^FAIL:' | tail -n1 | grep . || echo "FAIL: tests/vm/setup.sh failed (exit $rc)"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
echo "$out" | tail -n1
vm_init   # setup.sh just wrote the kernel version

# the next kernel set, only when a selected scenario boots it; when it cannot be made
# ready, its one FAIL line counts once and those scenarios are not run
next_fail=
for f in "${scenarios[@]}"; do
	grep -q -E '^SCEN_KERNEL="?next"?([[:space:]]|$)' "$f" || continue
	out=$("$VM_DIR/setup-next.sh" 2>&1)
	rc=$?
	if [ $rc != 0 ]; then
		echo "$out" | grep -v '^FAIL:' | tail -n 10 | sed 's/^/  setup-next| /'
		next_fail=$(echo "$out" | grep '^FAIL:' | tail -n1)
		: "${next_fail:=FAIL: tests/vm/setup-next.sh failed (exit $rc)}"
		echo "$next_fail"
	else
		echo "$out" | tail -n1
	fi
	break
done
if ! vm_prepare; then
	echo "FAIL: building the guest initramfs or the vfio-group-status probe failed"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
vm_new_run
echo "vm: repo $REPO, tools $BIN, run dir $RUN"
[ -x "$BIN/vfio-ls" ] || echo "vm: note: $BIN/vfio-ls is not built (run make); its checks will SKIP"
if [ -z "${VFK_BIN:-}" ] && ! make -s -C "$REPO" -q all > /dev/null 2>&1; then
	echo "vm: note: $REPO/build is older than its sources: the guest tests the old tools (make check-vm builds first)"
fi

TP=0 TF=0 TS=0
[ -n "$next_fail" ] && TF=1
timing=()
for f in "${scenarios[@]}"; do
	if [ -n "$next_fail" ] && grep -q -E '^SCEN_KERNEL="?next"?([[:space:]]|$)' "$f"; then
		echo "=== $(basename "$f" .sh): not run: the next kernel set is not ready (above)"
		continue
	fi
	vm_run_scenario "$f"
	TP=$((TP + S_PASS)) TF=$((TF + S_FAIL)) TS=$((TS + S_SKIP))
	timing+=("$(printf '%-24s %4ss  pass %-3s fail %-3s skip %s' "$(basename "$f" .sh)" "$S_WALL" "$S_PASS" "$S_FAIL" "$S_SKIP")")
done

echo "=== timings (TCG, ${VFK_VM_SMP:-2} vCPUs), total $(( $(date +%s) - T0 ))s:"
[ ${#timing[@]} = 0 ] || printf '  %s\n' "${timing[@]}"
echo "$TP passed, $TF failed, $TS skipped"
[ "$TF" = 0 ]
