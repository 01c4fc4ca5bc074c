# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034  # SCEN_* are read by tests/vm/lib.sh
# Scenario 26: a guest with two NUMA nodes (CPUs 0-1 and 2-3) and two PCIe expander
# bridges (pxb-pcie), one on each node, with a GPU-like card behind each. The kernel gives
# each card its bridge's node and local CPUs (from the bridge's ACPI _PXM); vfio-ls
# reports the node, and vfio-vm plan places the vCPUs among the card's node's CPUs and
# binds the memory there: node 1's card brings them to CPUs 2-3, node 0's keeps them on
# node 0 (CPU 1: the host keeps CPU 0), although node 1 has more free CPUs.
SCEN_DESC="a GPU on NUMA node 1 behind a PCIe expander bridge: vfio-vm places vCPUs and memory there"
SCEN_TIMEOUT=300
SCEN_MEM=1G
SCEN_SMP=4

scen_qemu() {
	q -object memory-backend-ram,id=m0,size=512M -object memory-backend-ram,id=m1,size=512M \
	  -numa node,nodeid=0,cpus=0-1,memdev=m0 -numa node,nodeid=1,cpus=2-3,memdev=m1
	q_boot_vga
	q -device pxb-pcie,id=pxb0,bus_nr=64,numa_node=0,bus=pcie.0,addr=0x4 \
	  -device pcie-root-port,id=rp1,bus=pxb0,chassis=1,slot=1,addr=0x0
	q_gpu gpu0 rp1
	q -device pxb-pcie,id=pxb1,bus_nr=128,numa_node=1,bus=pcie.0,addr=0x5 \
	  -device pcie-root-port,id=rp9,bus=pxb1,chassis=9,slot=9,addr=0x0
	q_gpu gpu9 rp9
}

# plan_place JSON: "<pinning, comma-separated> <cpu.node> <memory.node>" of a plan
plan_place() {
	python3 -c '
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except (OSError, ValueError) as e:
    sys.exit("no plan JSON (%s)" % e)
print(",".join(map(str, d["cpu"]["pinning"])), d["cpu"]["node"], d["memory"]["node"])' "$1" 2>&1
}

guest_main() {
	local vgas NEAR FAR
	mapfile -t vgas < <(find_devs 0x1234 0x1111 | grep -v '^0000:00:')
	if [ ${#vgas[@]} != 2 ]; then
		fail "topology: want 2 VGA cards behind ports, got [${vgas[*]}]"
		return
	fi
	# node 0's expander has buses from 64, node 1's from 128: its card sorts last
	NEAR=${vgas[0]} FAR=${vgas[1]}
	info "card $NEAR (node $(cat "$SYSPCI/$NEAR/numa_node"), local CPUs" \
		"$(cat "$SYSPCI/$NEAR/local_cpulist")), card $FAR (node" \
		"$(cat "$SYSPCI/$FAR/numa_node"), local CPUs $(cat "$SYSPCI/$FAR/local_cpulist"))"
	expect "kernel: two NUMA nodes" "$(ls -d /sys/devices/system/node/node[0-9]* | wc -l)" 2
	expect "kernel: the card behind the expander is on NUMA node 1" \
		"$(cat "$SYSPCI/$FAR/numa_node")" 1
	expect "kernel: its local CPUs are node 1's" "$(cat "$SYSPCI/$FAR/local_cpulist")" 2-3
	expect "kernel: the other card is on NUMA node 0" "$(cat "$SYSPCI/$NEAR/numa_node")" 0
	if [ -z "$(tool vfio-vm)" ] || [ -z "$(tool vfio-ls)" ]; then
		fail "the checks need vfio-ls and vfio-vm (not built)"
		return
	fi
	run_tool /tmp/gpus.json vfio-ls --gpus --json
	expect "vfio-ls --gpus --json exit status" "$?" 0
	expect "vfio-ls: the card behind the expander has numa_node 1" "$(gpu_field /tmp/gpus.json "$FAR" numa_node)" 1

	run_tool /tmp/far.json vfio-vm plan "$VFK_REPO/configs/demo.ini" --set "gpu.device=$FAR" \
		--set vm.vcpus=2 --json
	expect "vfio-vm plan with the card on node 1: exit status" "$?" 0
	expect "plan: vCPUs on node 1's CPUs, the vCPUs' node and the memory's node 1" \
		"$(plan_place /tmp/far.json)" "2,3 1 1"
	run_tool /tmp/near.json vfio-vm plan "$VFK_REPO/configs/demo.ini" --set "gpu.device=$NEAR" \
		--set vm.vcpus=1 --json
	expect "vfio-vm plan with the card on node 0: exit status" "$?" 0
	expect "plan: the vCPU on node 0 (CPU 1, the host keeps CPU 0) and the memory there" \
		"$(plan_place /tmp/near.json)" "1 0 0"
}
