#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/vm/run-demo.sh — `make demo`: boots the test bed once with the demo scenario
# (tests/vm/demo/demo-scenario.sh) and streams the guest's narration as it happens.
# Every wait is bounded: the guest by the scenario's timeout (VFK_VM_TIMEOUT), the
# follower of its output is ended by its pid once the guest is gone.
# Exit status: 0 when the story completed (the VM saw its GPU, the host got it back);
# 1 otherwise, with one line saying which step failed.
set -uo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vm_init
out=$(VFK_DEPS_TARGET=demo "$VM_DIR/setup.sh" 2>&1)
rc=$?
if [ $rc != 0 ]; then
	echo "$out" | grep -v '^FAIL:' | tail -n 10
	echo "demo: preparing the test bed failed: $(echo "$out" | sed -n 's/^FAIL: //p' | tail -n1)"
	exit 1
fi
vm_init
vm_prepare || { echo "demo: building the guest initramfs failed"; exit 1; }
vm_new_run
echo "demo: booting Debian's $KV kernel under QEMU (TCG) with an emulated IOMMU (~2 minutes)..."
res=$RUN/demo-scenario.results.log
: > "$res"
# Stream the guest's lines as they come. The log is rewritten once the guest is done,
# and tail -F would show it again: the filter stops at the guest's last line.
tail -n +1 -F "$res" 2>/dev/null > >(tr -d '\r' | while IFS= read -r line; do
	case $line in GUEST_EXIT=*) break ;; "INFO: scenario"*) ;; *) printf '%s\n' "$line" ;; esac
done) &
TAILPID=$!
vm_run_scenario "$VM_DIR/demo/demo-scenario.sh" > "$RUN/demo.summary" 2>&1
sleep 0.5	# the last lines of a guest that has just ended
kill "$TAILPID" 2>/dev/null
wait "$TAILPID" 2>/dev/null
echo
if [ "$S_FAIL" = 0 ] && [ "$S_PASS" -ge 2 ]; then
	echo "demo: done in ${S_WALL}s — the VM saw its GPU and the host got it back."
	exit 0
fi
why=$(grep -a -m1 -E '^ *FAIL:' "$RUN/demo.summary" | sed 's/^ *FAIL: //')
echo "demo: failed: ${why:-no result from the guest} (logs in $RUN)"
tail -n 30 "$RUN/demo.summary"
exit 1
