#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/vm/run-demo.sh — `make demo`: boots the test bed once with the demo scenario
# (tests/vm/demo/demo-scenario.sh) and streams the guest's narration as it happens.
# Exit status: 0 when the story completed (the VM saw its GPU, the host got it back).
set -uo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vm_init
out=$("$VM_DIR/setup.sh" 2>&1)
rc=$?
if [ $rc = 77 ]; then
	echo "demo: the test bed cannot run here: $(echo "$out" | sed -n 's/^SKIP: //p' | tail -n1)"
	exit 1
elif [ $rc != 0 ]; then
	echo "$out"; echo "demo: preparing the test bed failed"; exit 1
fi
vm_init
vm_prepare || { echo "demo: building the guest initramfs failed"; exit 1; }
vm_new_run
echo "demo: booting Debian's $KV kernel under QEMU (TCG) with an emulated IOMMU (~2 minutes)..."
res=$RUN/demo-scenario.results.log
: > "$res"
# stream until the guest's last line: the log is rewritten once the guest is done
( tail -n +1 -F "$res" 2>/dev/null | tr -d '\r' | while IFS= read -r line; do
	case $line in GUEST_EXIT=*) break ;; "INFO: scenario"*) ;; *) printf '%s\n' "$line" ;; esac
done ) &
TAILPID=$!
vm_run_scenario "$VM_DIR/demo/demo-scenario.sh" > "$RUN/demo.summary" 2>&1
wait "$TAILPID" 2>/dev/null
pkill -f "tail -n \+1 -F $res" 2>/dev/null
echo
if [ "$S_FAIL" = 0 ] && [ "$S_PASS" -ge 2 ]; then
	echo "demo: done in ${S_WALL}s — the VM saw its GPU and the host got it back."
	exit 0
fi
echo "demo: something went wrong (logs in $RUN):"
tail -n 30 "$RUN/demo.summary"
exit 1
