# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034  # SCEN_* are read by tests/vm/lib.sh
# Scenario 4: a real passthrough launch. Inside the guest, KVM runs nested (TCG's
# -cpu max emulates AMD SVM, kvm_amd loads); the GPU-like card is bound to vfio-pci
# and handed to an inner VM, whose kernel must list it.
# Until the launch issue lands, a plain qemu line starts the inner VM; the launch issue
# replaces it with `vfio-vm up`.
SCEN_DESC="passthrough launch: nested-KVM inner VM receives the GPU's functions via vfio-pci"
SCEN_TIMEOUT=360
SCEN_MEM=1G

scen_qemu() {
	q_boot_vga
	q_root_port rp1 0x2
	q_gpu gpu0 rp1
}

inner_vm() { # BDF... -> inner VM with those devices, console in /tmp/l3.log
	local devs=() d
	for d in "$@"; do devs+=(-device "vfio-pci,host=$d"); done
	timeout 240 qemu-system-x86_64 -accel kvm -m 256 -smp 1 -nodefaults -display none \
		-no-reboot -serial file:/tmp/l3.log "${devs[@]}" \
		-kernel "$VFK_L3_KERNEL" -initrd "$VFK_L3_INITRD" \
		-append "console=ttyS0 quiet panic=-1" > /tmp/l3.qemu.out 2>&1
}

guest_main() {
	local GPU HDA G VB rc t0
	GPU=$(behind_port 0x1234 0x1111) HDA=$(find_dev 0x8086 0x293e)
	G=$(grp "$GPU")
	info "VGA $GPU + HDA $HDA (group $G)"

	modprobe kvm_amd 2>/dev/null || modprobe kvm_intel 2>/dev/null
	info "cpu flags: $(grep -o -w -E 'vmx|svm|npt|hypervisor' /proc/cpuinfo | sort -u | tr '\n' ' ') kvm modules: $(grep -o -E '^kvm[a-z_]*' /proc/modules | tr '\n' ' ')"
	if [ ! -c /dev/kvm ]; then
		skip "passthrough launch: no /dev/kvm in the guest (nested virtualization unavailable)"
		return
	fi
	pass "nested KVM: /dev/kvm present in the guest"

	coldplug
	wait_drv "$GPU" bochs-drm 5
	expect "native driver of $GPU" "$(drv "$GPU")" bochs-drm

	VB=$(tool vfio-bind)
	if [ -n "$VB" ]; then
		run_tool /tmp/bind.out vfio-bind bind --gpu "$GPU"
		expect "vfio-bind bind --gpu $GPU exit status" "$?" 0
	else
		skip "passthrough launch binds with vfio-bind: not built yet (raw driver_override used)"
		raw_bind "$GPU" "$HDA"
	fi
	bound_checks "before launch" "$G" "$GPU" "$HDA"

	t0=$(ts)
	inner_vm "$GPU" "$HDA"
	rc=$?
	info "inner VM (qemu -accel kvm, vfio-pci host=$GPU,$HDA) exit $rc after $(since "$t0")s"
	sed 's/^/  inner qemu: /' /tmp/l3.qemu.out | head -n 10
	grep -a '^L3' /tmp/l3.log | sed 's/^/  /'
	expect "inner VM ran to its end (qemu exit status)" "$rc" 0
	check "inner VM's kernel lists the passed-through VGA 1234:1111" grep -q 'L3 pci 0x1234:0x1111 class 0x0300' /tmp/l3.log
	check "inner VM's kernel lists the passed-through HDA 8086:293e" grep -q 'L3 pci 0x8086:0x293e class 0x0403' /tmp/l3.log
	[ $rc = 0 ] || tail -n 15 /tmp/l3.log | sed 's/^/  l3 console: /'

	if [ -n "$VB" ]; then
		run_tool /tmp/restore.out vfio-bind restore --all
		expect "vfio-bind restore --all exit status" "$?" 0
	else
		raw_restore "$GPU" "$HDA"
	fi
	restored_checks "after the inner VM" "$G" "$GPU=bochs-drm" "$HDA=snd_hda_intel"
}
