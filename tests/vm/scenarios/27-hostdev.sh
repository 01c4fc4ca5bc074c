# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034  # SCEN_* are read by tests/vm/lib.sh
# Scenario 27: extra devices in a profile (issue 19, point 1). Besides the GPU-like card,
# the guest has an emulated NVMe controller (1b36:0010, no namespace: nothing of the
# guest's lives on it) on a root port of its own, an e1000e that carries the guest's
# default route, and a USB tablet on an xHCI controller. `vfio-vm up` with the demo
# profile, the card as [gpu] and the NVMe as [hostdev], binds all three functions in one
# transaction and gives them to an inner VM (nested KVM), whose kernel lists them all;
# `vfio-vm down` puts each back on its own driver. The NIC of the default route is
# refused with the reason before anything is touched; [usb] finds the tablet where
# sysfs says it is, and a device that is not plugged in is refused.
SCEN_DESC="extra devices: GPU + [hostdev] NVMe to a nested VM in one transaction, back at down; the default route's NIC refused; [usb] found in sysfs"
SCEN_TIMEOUT=600
SCEN_MEM=1G

scen_qemu() {
	q_boot_vga
	q_root_port rp1 0x2
	q_gpu gpu0 rp1
	q_root_port rp2 0x3
	q -device nvme,id=nvme1,bus=rp2,addr=0x0,serial=VFKHOSTDEV1
	q_root_port rp3 0x4
	q_nic e1000e nic0 rp3
	q -device qemu-xhci,id=xhci,bus=pcie.0,addr=0x5 -device usb-tablet,bus=xhci.0,port=1
}

HOLD="vm.cmdline=console=ttyS0 panic=-1 vfk_hold=1"	# the inner VM stays up

# vm OUT CMD [options...]: `vfio-vm CMD` with the demo profile, the card by address,
# the inner VM booting the test kernel and the l3 initramfs
vm() {
	local out=$1 cmd=$2
	shift 2
	run_tool "$out" vfio-vm "$cmd" "$VFK_REPO/configs/demo.ini" --set "gpu.device=$GPU" \
		--set "vm.kernel=$VFK_L3_KERNEL" --set "vm.initrd=$VFK_L3_INITRD" "$@"
}

# one_line LABEL OUT WANT: OUT.err holds one line (besides ":: step" narration) with WANT
one_line() {
	local msg
	msg=$(grep -v '^:: ' "$2.err")
	expect "$1: one line on stderr" "$(printf '%s\n' "$msg" | grep -c .)" 1
	check "$1: the line says '$3' ($msg)" grep -q -F -- "$3" <<< "$msg"
}

# json_get FILE EXPR: a value of the plan JSON, EXPR in Python over d
json_get() {
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$1" "$2" 2>&1
}

guest_main() {
	local G NG IF why rc t0 usbdev
	GPU=$(behind_port 0x1234 0x1111) HDA=$(find_dev 0x8086 0x293e)
	NVME=$(find_dev 0x1b36 0x0010) NIC=$(find_dev 0x8086 0x10d3)
	if [ -z "$GPU" ] || [ -z "$HDA" ] || [ -z "$NVME" ] || [ -z "$NIC" ]; then
		fail "topology: want VGA, HDA, NVMe and e1000e, got '$GPU' '$HDA' '$NVME' '$NIC'"
		return
	fi
	G=$(grp "$GPU") NG=$(grp "$NVME")
	info "VGA $GPU + HDA $HDA (group $G), NVMe $NVME (group $NG), e1000e $NIC"
	check "kernel: the NVMe alone in IOMMU group $NG" test -n "$NG" -a "$(group_devs "$NG")" = "$NVME "
	check "kernel: the NVMe's group is not the card's" test "$NG" != "$G"

	coldplug
	native=("$GPU=bochs-drm" "$HDA=snd_hda_intel" "$NVME=nvme" "$NIC=e1000e")
	for d in "${native[@]}"; do
		wait_drv "${d%%=*}" "${d#*=}" 5
		expect "native driver of ${d%%=*}" "$(drv "${d%%=*}")" "${d#*=}"
	done
	if [ -z "$(tool vfio-vm)" ]; then
		fail "the extra-device checks need vfio-vm (not built)"
		return
	fi

	# the guest's default route on the e1000e: the NIC the host cannot give away
	IF=$(ls "$SYSPCI/$NIC/net" 2>/dev/null | head -n1)
	ip link set "$IF" up && ip route add default dev "$IF"
	check "default route on $IF ($NIC): $(ip route show default 2>&1)" \
		grep -q "^$IF[[:space:]]00000000" /proc/net/route
	vm /tmp/nic.out plan --set "hostdev.nic.device=$NIC"
	expect "vfio-vm plan with the default route's NIC as [hostdev]: exit status" "$?" 1
	one_line "plan with the default route's NIC" /tmp/nic.out "$NIC carries the default route ($IF)"
	vm /tmp/nicup.out up --backend qemu --set "hostdev.nic.device=$NIC"
	expect "vfio-vm up with the default route's NIC as [hostdev]: exit status" "$?" 1
	one_line "up with the default route's NIC" /tmp/nicup.out "carries the default route ($IF)"
	all_native "${native[@]}" && test ! -e /run/vfiokit/vms/demo -a ! -s /run/vfiokit/journal
	check "after the refused up: every device native, no override, no record, no journal" test $? = 0

	# the plan: the card on guest bus 1, the NVMe alone on bus 2
	vm /tmp/plan.json plan --set "hostdev.nvme.device=$NVME" --json
	expect "vfio-vm plan --json with [hostdev] the NVMe: exit status" "$?" 0
	expect "plan: [hostdev.nvme] is the NVMe" "$(json_get /tmp/plan.json 'd["hostdevs"][0]["address"]')" "$NVME"
	expect "plan: its group goes with it, nothing else" \
		"$(json_get /tmp/plan.json '[f["host"] for f in d["hostdevs"][0]["functions"]]')" "['$NVME']"
	expect "plan: its guest address, after the card's root port" \
		"$(json_get /tmp/plan.json 'd["hostdevs"][0]["functions"][0]["guest"]')" "0000:02:00.0"
	check "plan: its verdict says isolated, on nvme now ($(json_get /tmp/plan.json 'd["hostdevs"][0]["verdict"]'))" \
		grep -q "isolated: IOMMU group $NG holds only it; on nvme now" <<< "$(json_get /tmp/plan.json 'd["hostdevs"][0]["verdict"]')"
	vm /tmp/plan.out plan --set "hostdev.nvme.device=$NVME"
	check "vfio-vm plan (text) names [hostdev.nvme] and where it goes" \
		grep -q "in the guest: $NVME -> 0000:02:00.0" /tmp/plan.out

	usb_checks
	to_inner_vm
	leave_restored demo "${native[@]}"
}

# [usb]: the tablet found where sysfs has it; ids nobody has refused in one line
usb_checks() {
	local d bus port
	for d in /sys/bus/usb/devices/*; do
		[ "$(cat "$d/idVendor" 2>/dev/null):$(cat "$d/idProduct" 2>/dev/null)" = 0627:0001 ] || continue
		bus=$(cat "$d/busnum") port=$(cat "$d/devpath")
	done
	if [ -z "$bus" ]; then
		fail "sysfs: no USB tablet 0627:0001 (xhci_pci loaded: $(grep -c '^xhci_pci ' /proc/modules))"
		return
	fi
	vm /tmp/usb.json plan --set usb.tablet.device=0627:0001 --json
	expect "vfio-vm plan with [usb] 0627:0001: exit status" "$?" 0
	expect "plan: the tablet on bus $bus port $port, as sysfs says" \
		"$(json_get /tmp/usb.json '"%d %s" % (d["usb"][0]["bus"], d["usb"][0]["port"])')" "$bus $port"
	run_tool /tmp/usb.argv vfio-vm gen "$VFK_REPO/configs/demo.ini" --format qemu \
		--set "gpu.device=$GPU" --set usb.tablet.device=0627:0001 --set usb.tablet.bus="$bus" \
		--set usb.tablet.port="$port"
	check "gen --format qemu: usb-host by ids, hostbus and hostport" \
		grep -q "usb-host,id=usbhost0,bus=xhci.0,vendorid=0x0627,productid=0x0001,hostbus=$bus,hostport=$port" /tmp/usb.argv
	vm /tmp/nousb.out plan --set usb.x.device=dead:beef
	expect "vfio-vm plan with [usb] dead:beef (not plugged in): exit status" "$?" 1
	one_line "plan with a USB device not plugged in" /tmp/nousb.out "no such USB device is plugged in"
}

# up: the card and the NVMe to an inner VM in one transaction; its kernel lists both;
# down: each back on its own driver
to_inner_vm() {
	local t
	why=$(nested_kvm)
	case $? in
	0) ;;
	2) skip "inner VM with the GPU and the NVMe: $why"; return ;;
	*) fail "nested KVM in the guest: $why"; return ;;
	esac
	t0=$(ts)
	vm /tmp/up.out up --backend qemu --set "hostdev.nvme.device=$NVME" --set "$HOLD" \
		--console-log /tmp/l3.log
	rc=$?
	info "vfio-vm up (GPU $GPU,$HDA + NVMe $NVME) exit $rc after $(since "$t0")s"
	sed 's/^/  vfio-vm: /' /tmp/up.out | head -n 20
	expect "vfio-vm up with [hostdev] the NVMe: exit status" "$rc" 0
	for d in "$GPU" "$HDA" "$NVME"; do
		expect "while the VM runs, $d is on" "$(drv "$d")" vfio-pci
	done
	expect "while the VM runs, the NIC stays on" "$(drv "$NIC")" e1000e
	run_tool /tmp/status.json vfio-vm status demo --json
	check "status --json lists the NVMe as held by demo" grep -q "\"address\":\"$NVME\"" /tmp/status.json
	for ((t = 0; t < 900; t++)); do grep -q -a "L3 done" /tmp/l3.log 2>/dev/null && break; sleep 0.2; done
	grep -a '^L3' /tmp/l3.log 2>/dev/null | sed 's/^/  /'
	check "inner VM's kernel lists the VGA 1234:1111" grep -q -a 'L3 pci 0x1234:0x1111 class 0x0300' /tmp/l3.log
	check "inner VM's kernel lists the HDA 8086:293e" grep -q -a 'L3 pci 0x8086:0x293e class 0x0403' /tmp/l3.log
	check "inner VM's kernel lists the NVMe 1b36:0010" grep -q -a 'L3 pci 0x1b36:0x0010 class 0x010802' /tmp/l3.log
	grep -q -a "L3 done" /tmp/l3.log 2>/dev/null || tail -n 15 /tmp/l3.log 2>/dev/null | sed 's/^/  l3 console: /'
	run_tool /tmp/down.out vfio-vm down demo --timeout 5
	expect "vfio-vm down exit status" "$?" 0
	restored_checks "after vfio-vm down" "$G" "$GPU=bochs-drm" "$HDA=snd_hda_intel"
	restored_checks "after vfio-vm down" "$NG" "$NVME=nvme"
	check "no VM record left after down" test ! -e /run/vfiokit/vms/demo
}
