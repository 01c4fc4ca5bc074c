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

. "$VFK_REPO/tests/vm/guest/lib.sh"
. "$VFK_SCENARIO"

main() {
	trap 'echo "GUEST_EXIT=$FAILS"' EXIT
	info "scenario $(basename "$VFK_SCENARIO" .sh) starts at $(ts)s: kernel $(uname -r), $(nproc) cpu(s), tools from $VFK_BIN"
	guest_main
	info "scenario $(basename "$VFK_SCENARIO" .sh) ends at $(ts)s"
}

stty -F /dev/ttyS1 raw -echo 2>/dev/null
main 2>&1 | tee /dev/ttyS1
exit "${PIPESTATUS[0]}"
