# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034  # SCEN_* are read by tests/vm/lib.sh
# `make demo`: the whole vfiokit story, narrated, inside the test-bed guest (a real
# Linux kernel with an emulated Intel IOMMU, a GPU-like card behind a PCIe root port,
# an iGPU-like boot display). Not a test scenario: tests/vm/run-demo.sh runs it and
# streams what the guest prints.
SCEN_DESC="vfiokit demo: check, list, plan, up (GPU passthrough to a KVM guest), down"
SCEN_TIMEOUT=480
SCEN_MEM=1G

scen_prepare() {
	# the inner VM's initramfs: lists its PCI devices, names its GPU, stays up
	"$REPO/tests/launch/mkguest.sh" "$RUN/demo-guest.cpio.gz" || return 1
	scen_env VFK_DEMO_INITRD "$RUN/demo-guest.cpio.gz"
}

scen_qemu() {
	q_boot_vga
	q_root_port rp1 0x2
	q_gpu gpu0 rp1
	q_root_port rp2 0x3
	q_nic e1000e nic0 rp2
}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
explain() { printf '   %s\n' "$@"; }
step() { # TITLE COMMAND...: run a tool, show its output, time it
	local t0 rc
	printf '\n$ %s\n' "${*:2}" | sed "s|$VFK_BIN/||; s|$VFK_REPO/||g"
	t0=$(ts)
	"${@:2}" 2>&1 | sed "s|$VFK_REPO/||g"
	rc=${PIPESTATUS[0]}
	STEP_TIMES+=("$(printf '%-34s %6ss  exit %s' "$1" "$(since "$t0")" "$rc")")
	return "$rc"
}

guest_main() {
	local GPU HDA G B=$VFK_BIN t0 i
	STEP_TIMES=()
	T_START=$(ts)
	modprobe kvm_amd 2>/dev/null || modprobe kvm_intel 2>/dev/null
	coldplug
	GPU=$(behind_port 0x1234 0x1111) HDA=$(find_dev 0x8086 0x293e)
	G=$(grp "$GPU")
	wait_drv "$GPU" bochs-drm 5

	say "vfiokit demo — inside a real Linux $(uname -r) with an IOMMU"
	explain "This machine is a test bed: QEMU emulates an Intel IOMMU, a GPU-like card" \
		"(VGA $GPU + HDMI-like audio $HDA) behind a PCIe root port, and an" \
		"iGPU-like display that the host console uses. vfiokit will hand the card" \
		"to a virtual machine and give it back, without stranding the host."

	say "1. Is the host ready for passthrough?  (vfio-check)"
	explain "Every requirement, with the exact fix when it is not met."
	step "vfio-check" "$B/vfio-check"

	say "2. Which GPUs are there, and can they be passed through?  (vfio-ls)"
	explain "Devices by IOMMU group; for each GPU its functions and a verdict."
	step "vfio-ls --gpus" "$B/vfio-ls" --gpus

	say "3. What VM would the gaming-style profile give?  (vfio-vm plan)"
	explain "configs/demo.ini asks for GPU passthrough; vfio-vm explains its choice."
	step "vfio-vm plan" "$B/vfio-vm" plan "$VFK_REPO/configs/demo.ini" --set "gpu.device=$GPU"

	say "4. Start it  (vfio-vm up)"
	explain "Binds the card's IOMMU group to vfio-pci in one journalled transaction," \
		"then starts the VM on KVM (nested here) with both functions."
	rm -f /tmp/demo-console.log
	step "vfio-vm up" "$B/vfio-vm" up "$VFK_REPO/configs/demo.ini" --backend qemu \
		--set "gpu.device=$GPU" --set "vm.kernel=$VFK_L3_KERNEL" \
		--set "vm.initrd=$VFK_DEMO_INITRD" --set "vm.cmdline=console=ttyS0 quiet vfk_hold=1" \
		--console-log /tmp/demo-console.log
	t0=$(ts)
	for i in $(seq 240); do grep -q "VFK-GUEST: done" /tmp/demo-console.log 2>/dev/null && break; sleep 0.5; done
	STEP_TIMES+=("$(printf '%-34s %6ss' "guest kernel boots, lists its GPU" "$(since "$t0")")")
	explain "" "The VM's own kernel, on its serial console:"
	grep -a "VFK-GUEST" /tmp/demo-console.log | sed 's/^/     guest| /'
	if grep -q "saw GPU 0x1234:0x1111" /tmp/demo-console.log; then
		pass "the VM's kernel sees the passed-through GPU 1234:1111"
	else
		fail "the VM's kernel did not report the GPU"
	fi
	step "vfio-vm status" "$B/vfio-vm" status
	step "vfio-ls --device (while the VM runs)" "$B/vfio-ls" --device "$GPU"

	say "5. Stop it and give the card back  (vfio-vm down)"
	explain "ACPI shutdown (forced after a timeout), then every device back on its own driver."
	step "vfio-vm down" "$B/vfio-vm" down demo --timeout 5
	step "vfio-ls --device (after down)" "$B/vfio-ls" --device "$GPU"
	if [ "$(drv "$GPU")" = bochs-drm ] && [ "$(drv "$HDA")" = snd_hda_intel ] && [ ! -e "/dev/vfio/$G" ]; then
		pass "native drivers are back: $GPU on bochs-drm, $HDA on snd_hda_intel"
	else
		fail "host not restored: $GPU on $(drv "$GPU"), $HDA on $(drv "$HDA")"
	fi

	say "Summary"
	for i in "${STEP_TIMES[@]}"; do explain "$i"; done
	explain "" "total in the test bed: $(since "$T_START")s (TCG outside, KVM inside)" \
		"On a real host the same profile runs with: vfio-vm up configs/gaming-passthrough.ini"
}
