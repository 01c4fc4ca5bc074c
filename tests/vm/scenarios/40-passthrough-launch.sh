# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034  # SCEN_* are read by tests/vm/lib.sh
# Scenario 4: a real passthrough launch. Inside the guest, KVM runs nested (TCG's
# -cpu max emulates AMD SVM, kvm_amd loads); `vfio-vm up` binds the GPU-like card to
# vfio-pci and hands it to an inner VM (QEMU backend, KVM), whose kernel must list it;
# the host is restored when the inner VM powers off (--wait, or the watcher `up` leaves
# behind with no terminal kept open), when its QEMU is killed, and on `vfio-vm down`.
SCEN_DESC="passthrough launch: vfio-vm up gives the GPU to a nested-KVM inner VM; the host is restored however it ends"
SCEN_TIMEOUT=600
SCEN_MEM=1G

scen_qemu() {
	q_boot_vga
	q_root_port rp1 0x2
	q_gpu gpu0 rp1
}

HOLD="vm.cmdline=console=ttyS0 panic=-1 vfk_hold=1"	# the inner VM stays up

# vfio-vm up with the demo profile, the card picked by address (two 1234:1111 exist)
vm_up() { # OUT CONSOLE-LOG GPU [extra options...]
	local out=$1 log=$2 gpu=$3
	shift 3
	run_tool "$out" vfio-vm up "$VFK_REPO/configs/demo.ini" --backend qemu \
		--set "gpu.device=$gpu" --set "vm.kernel=$VFK_L3_KERNEL" \
		--set "vm.initrd=$VFK_L3_INITRD" --console-log "$log" "$@"
}

# The inner QEMU's threads, as the kernel reports their affinity, against the plan:
# the vCPU thread on the planned CPU, every other thread on the host's share.
pin_checks() { # STATUS-JSON
	local pid plan vcpu emu t name cpus bad="" seen=0
	pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["vms"][0]["pid"])' "$1")
	plan=$(tool vfio-vm) && plan=$("$plan" plan "$VFK_REPO/configs/demo.ini" --json \
		--set "gpu.device=$GPU" --set "vm.kernel=$VFK_L3_KERNEL" --set "vm.initrd=$VFK_L3_INITRD" |
		python3 -c 'import json,sys; c=json.load(sys.stdin)["cpu"]; print(",".join(map(str,c["pinning"])), c["emulator_cpus"] or "-")')
	vcpu=${plan%% *} emu=${plan#* }
	if [ -z "$vcpu" ]; then
		skip "the plan pins nothing in this guest"
		return
	fi
	for t in /proc/"$pid"/task/*; do
		name=$(cat "$t/comm") cpus=$(awk '/^Cpus_allowed_list/ {print $2}' "$t/status")
		case $name in
		"CPU 0/"*) seen=1; [ "$cpus" = "$vcpu" ] || bad+=" [$name]=$cpus" ;;
		*) [ "$cpus" = "$emu" ] || bad+=" [$name]=$cpus" ;;
		esac
	done
	check "inner QEMU's vCPU thread on CPU $vcpu, its other threads on $emu, as planned${bad:+ (off:$bad)}" \
		test "$seen" = 1 -a -z "$bad"
}

guest_main() {
	local GPU HDA G rc t0
	GPU=$(behind_port 0x1234 0x1111) HDA=$(find_dev 0x8086 0x293e)
	G=$(grp "$GPU")
	info "VGA $GPU + HDA $HDA (group $G)"

	local why
	why=$(nested_kvm)
	case $? in
	0) ;;
	2) skip "passthrough launch: $why"; return ;;
	*) fail "nested KVM in the guest: $why"; return ;;
	esac
	info "cpu flags: $(grep -o -w -E 'vmx|svm|npt|hypervisor' /proc/cpuinfo | sort -u | tr '\n' ' ') kvm modules: $(grep -o -E '^kvm[a-z_]*' /proc/modules | tr '\n' ' ')"
	pass "nested KVM: /dev/kvm present in the guest"
	if [ -z "$(tool vfio-vm)" ]; then
		fail "passthrough launch needs vfio-vm (not built)"
		return
	fi

	coldplug
	wait_drv "$GPU" bochs-drm 5
	expect "native driver of $GPU" "$(drv "$GPU")" bochs-drm

	run_tool /tmp/plan.out vfio-vm plan "$VFK_REPO/configs/demo.ini" --set "gpu.device=$GPU"
	expect "vfio-vm plan of the demo profile exit status" "$?" 0
	check "plan chooses passthrough of $GPU" grep -q "GPU mode: passthrough" /tmp/plan.out
	check "plan runs the inner VM on KVM (nested)" grep -q "KVM" /tmp/plan.out
	# QEMU's VGA has no PCIe capability, yet sits straight below a PCIe root port:
	# an emulated card, not a BMC's display behind a PCIe-to-PCI bridge
	run_tool /tmp/ls.out vfio-ls --device "$GPU"
	check "vfio-ls calls the card discrete (its own link from a root port)" \
		grep -q "discrete: its own PCIe link from" /tmp/ls.out

	# 1. up --wait: the inner VM lists its devices and powers off; vfio-vm restores the host
	t0=$(ts)
	vm_up /tmp/up.out /tmp/l3.log "$GPU" --wait
	rc=$?
	info "vfio-vm up --wait (inner VM on KVM with $GPU,$HDA) exit $rc after $(since "$t0")s"
	sed 's/^/  vfio-vm: /' /tmp/up.out | head -n 20
	grep -a '^L3' /tmp/l3.log | sed 's/^/  /'
	expect "vfio-vm up --wait exit status" "$rc" 0
	check "inner VM's kernel lists the passed-through VGA 1234:1111" grep -q 'L3 pci 0x1234:0x1111 class 0x0300' /tmp/l3.log
	check "inner VM's kernel lists the passed-through HDA 8086:293e" grep -q 'L3 pci 0x8086:0x293e class 0x0403' /tmp/l3.log
	[ $rc = 0 ] || tail -n 15 /tmp/l3.log | sed 's/^/  l3 console: /'
	restored_checks "after the inner VM powered off (up --wait)" "$G" "$GPU=bochs-drm" "$HDA=snd_hda_intel"
	check "no VM record left after --wait" test ! -e /run/vfiokit/vms/demo

	# 2. up, status while it runs, then down
	vm_up /tmp/up2.out /tmp/l3b.log "$GPU" --set "$HOLD"
	expect "vfio-vm up (no wait) exit status" "$?" 0
	run_tool /tmp/status.out vfio-vm status demo --json
	check "status --json lists the GPU's functions as held by demo" \
		grep -q "\"address\":\"$GPU\"" /tmp/status.out
	expect "while the VM runs, $GPU is on" "$(drv "$GPU")" vfio-pci
	pin_checks /tmp/status.out
	run_tool /tmp/down.out vfio-vm down demo --timeout 5
	expect "vfio-vm down exit status" "$?" 0
	restored_checks "after vfio-vm down" "$G" "$GPU=bochs-drm" "$HDA=snd_hda_intel"
	check "no VM record left after down" test ! -e /run/vfiokit/vms/demo
	by_itself
}

# Until the VM record is gone (the host restored), at most $1 seconds.
record_gone() {
	local t
	for ((t = 0; t < $1 * 5; t++)); do
		[ -e /run/vfiokit/vms/demo ] || return 0
		sleep 0.2
	done
	return 1
}

# The host comes back with nothing kept open: the inner VM powers itself off, or
# its QEMU is killed; the watcher `up` left behind restores it.
by_itself() {
	local t0 pid
	vm_up /tmp/up3.out /tmp/l3c.log "$GPU"
	expect "vfio-vm up (watched, no terminal kept) exit status" "$?" 0
	check "no vfio-vm process stays behind up" test -z "$(pgrep -x vfio-vm)"
	run_tool /tmp/status3.out vfio-vm status demo
	check "status says the watcher restores the host" grep -q "restored by the watcher" /tmp/status3.out
	for ((t = 0; t < 600; t++)); do grep -q "L3 done" /tmp/l3c.log && break; sleep 0.2; done
	check "the inner VM listed its devices and powered itself off" grep -q "L3 done" /tmp/l3c.log
	t0=$(ts)
	record_gone 10
	check "host restored within 10 s of the inner VM's last line ($(since "$t0") s)" \
		test ! -e /run/vfiokit/vms/demo
	restored_checks "after the inner VM powered itself off" "$G" "$GPU=bochs-drm" "$HDA=snd_hda_intel"
	check "no watcher left" test -z "$(ps -eo stat=,comm= | awk '$2 == "vfk-watch" && $1 !~ /^Z/')"

	vm_up /tmp/up4.out /tmp/l3d.log "$GPU" --set "$HOLD"
	expect "vfio-vm up (for kill -9) exit status" "$?" 0
	expect "while the VM runs, $GPU is on" "$(drv "$GPU")" vfio-pci
	pid=$(sed -n 's/^pid=//p' /run/vfiokit/vms/demo)
	kill -KILL "$pid"
	record_gone 10
	check "kill -9 of the inner QEMU: host restored within 10 s" test ! -e /run/vfiokit/vms/demo
	restored_checks "after kill -9 of QEMU" "$G" "$GPU=bochs-drm" "$HDA=snd_hda_intel"
	soft_reboot
}

# Until process $2 has ended (a zombie counts as ended), at most $1 seconds.
ended_within() {
	local t
	for ((t = 0; t < $1 * 5; t++)); do
		[ "$(awk '{print $3}' "/proc/$2/stat" 2>/dev/null)" = "" ] && return 0
		[ "$(awk '{print $3}' "/proc/$2/stat" 2>/dev/null)" = Z ] && return 0
		sleep 0.2
	done
	return 1
}

# systemd's soft-reboot: every process ends, QEMU and its watcher at once, while
# the kernel (the card on vfio-pci) and /run (journal, record) stay. The shipped
# boot unit's command, run as systemd would run it, gives the card back.
soft_reboot() {
	local unit=$VFK_REPO/systemd/vfiokit-restore.service qemu watcher line rc
	local -a cmd
	vm_up /tmp/up5.out /tmp/l3e.log "$GPU" --set "$HOLD"
	expect "vfio-vm up (for the soft-reboot) exit status" "$?" 0
	qemu=$(sed -n 's/^pid=//p' /run/vfiokit/vms/demo)
	watcher=$(sed -n 's/^watcher=//p' /run/vfiokit/vms/demo)
	kill -KILL "$watcher" "$qemu"
	ended_within 10 "$qemu" && ended_within 10 "$watcher"
	check "soft-reboot: QEMU and its watcher ended" test $? = 0
	sleep 1
	check "soft-reboot: nothing restored the host (record left)" test -e /run/vfiokit/vms/demo
	expect "soft-reboot: with nobody left, $GPU stays on" "$(drv "$GPU")" vfio-pci
	run_tool /tmp/status5.out vfio-vm status demo
	check "status says nothing restores the host now" grep -q "nothing restores the host" /tmp/status5.out
	# the unit's condition holds, then its ExecStart= line, @BINDIR@ as installed
	check "boot unit's ConditionDirectoryNotEmpty=/run/vfiokit/vms holds" \
		test -n "$(ls -A /run/vfiokit/vms)"
	line=$(sed -n 's/^ExecStart=//p' "$unit" | sed "s|@BINDIR@|$VFK_BIN|g")
	read -ra cmd <<< "$line"
	"${cmd[@]}" > /tmp/boot.out 2>&1
	rc=$?
	sed 's/^/  vfiokit-restore.service: /' /tmp/boot.out
	expect "boot unit (vfio-vm release --stale) exit status" "$rc" 0
	check "boot unit says it restored the VM that had gone" grep -q "restored for 1 VM" /tmp/boot.out
	restored_checks "after the soft-reboot's boot unit" "$G" "$GPU=bochs-drm" "$HDA=snd_hda_intel"
	check "no VM record left after the boot unit" test ! -e /run/vfiokit/vms/demo
	"${cmd[@]}" > /tmp/boot2.out 2>&1
	expect "boot unit run again: nothing to do, exit status" "$?" 0
}
