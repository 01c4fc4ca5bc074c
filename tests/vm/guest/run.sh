#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Runs INSIDE the test guest, chrooted into the host root (overlay over 9p), as
#   bash tests/vm/guest/run.sh <env-file>
# Loads guest/lib.sh and the scenario named by VFK_SCENARIO, runs its guest_main and
# reports PASS:/FAIL:/SKIP:/INFO: lines, then GUEST_EXIT=<number of FAILs>.
# Everything goes to the console (ttyS0) and to ttyS1, which the host keeps as the
# scenario's result log (kernel messages never land there).
# shellcheck disable=SC1090
. "$1" || { echo "GUEST_EXIT=98"; exit 98; }
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C HOME=/root TMPDIR=/tmp
export VFK_REPO VFK_BIN VFK_CACHE VFK_KV VFK_SCENARIO VFK_RUN VFK_GROUP_STATUS VFK_L3_INITRD \
	VFK_L3_KERNEL VFK_KERNEL_SET VFK_KROOT VFK_QEMU_NEXT VFK_L3_KERNEL_NEXT
cd /tmp || exit 98

# A guest the host will kill at its timeout leaves no word of what it waited for.
# Shortly before that, say it on ttyS1 as HANG: lines (the host prints them with the
# failure): the process tree with each task's state and kernel wait channel, the
# kernel stacks of tasks in uninterruptible sleep, and the kernel's own list of
# blocked tasks on the console (sysrq w).
hang_report() {
	local p st
	echo "HANG: still running at $(cut -d' ' -f1 /proc/uptime)s of the guest, ${VFK_TIMEOUT}s allowed"
	ps -eo pid,ppid,stat,etimes,wchan:24,args --sort=pid 2>/dev/null |
		awk '$3 !~ /I/ && $6 !~ /^\[/' | cut -c1-160 | sed 's/^/HANG: /'
	for p in /proc/[0-9]*; do
		st=$(awk '{print $3}' "$p/stat" 2>/dev/null)
		[ "$st" = D ] || continue
		echo "HANG: kernel stack of ${p#/proc/} ($(tr '\0' ' ' < "$p/cmdline" | cut -c1-80)):"
		sed 's/^/HANG:   /' "$p/stack" 2>/dev/null | head -n 20
	done
	echo w > /proc/sysrq-trigger 2>/dev/null
}
watchdog() {
	[ "${VFK_TIMEOUT:-0}" -gt 90 ] || return 0
	sleep $((VFK_TIMEOUT - 60))
	hang_report > /dev/ttyS1 2>&1
}

. "$VFK_REPO/tests/vm/guest/lib.sh"
. "$VFK_SCENARIO"

main() {
	trap 'echo "GUEST_EXIT=$FAILS"' EXIT
	info "scenario $(basename "$VFK_SCENARIO" .sh) starts at $(ts)s: kernel $(uname -r), $(nproc) cpu(s), tools from $VFK_BIN"
	guest_main
	info "scenario $(basename "$VFK_SCENARIO" .sh) ends at $(ts)s"
}

stty -F /dev/ttyS1 raw -echo 2>/dev/null
watchdog &
WATCHDOG=$!
main 2>&1 | tee /dev/ttyS1
rc=${PIPESTATUS[0]}
kill "$WATCHDOG" 2> /dev/null
exit "$rc"
