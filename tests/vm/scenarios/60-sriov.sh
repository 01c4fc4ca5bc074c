# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034  # SCEN_* are read by tests/vm/lib.sh
# Scenario 6: SR-IOV. QEMU's NVMe controller with sriov_max_vfs=2 on its own root port
# is the physical function (PF). In the guest: vfio-mdev sriov shows it, enables two VFs
# without drivers (sriov_drivers_autoprobe off), vfio-bind hands one VF to vfio-pci, an
# inner VM receives it, restore, the VFs are dropped again. Then the "VF needs PF-side
# resources" case: with autoprobe on the nvme driver takes the VFs and gives up
# (CSTS=0x2: the controller has not assigned them queues and interrupts, which takes
# NVMe Virtualization Management on the PF) — vfio-mdev must say so.
SCEN_DESC="SR-IOV: nvme PF with 2 VFs — vfio-mdev sriov, VF to vfio-pci (vfio-bind), inner VM, restore, PF-side-resources hint"
SCEN_TIMEOUT=300
SCEN_MEM=1G

scen_qemu() {
	q_root_port rp1 0x2
	# SR-IOV in QEMU's nvme needs a subsystem; each VF may get up to 2 queues and
	# 1 interrupt from the flexible pools, once the PF assigns them (virt-mgmt)
	q -device nvme-subsys,id=nvmesubsys0,nqn=vfk-sriov
	q -device "nvme,id=nvme0,bus=rp1,serial=VFKSRIOV01,subsys=nvmesubsys0,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2,max_ioqpairs=8,msix_qsize=4"
}

inner_vm() { # BDF... -> inner VM with those devices, console in /tmp/l3.log
	local devs=() d
	for d in "$@"; do devs+=(-device "vfio-pci,host=$d"); done
	timeout 240 qemu-system-x86_64 -accel kvm -m 256 -smp 1 -nodefaults -display none \
		-no-reboot -serial file:/tmp/l3.log "${devs[@]}" \
		-kernel "$VFK_L3_KERNEL" -initrd "$VFK_L3_INITRD" \
		-append "console=ttyS0 quiet panic=-1" > /tmp/l3.qemu.out 2>&1
}

sysval() { cat "$SYSPCI/$PF/$1" 2>/dev/null; }
vf_addr() { basename "$(readlink "$SYSPCI/$PF/virtfn$1" 2>/dev/null)"; }
nvme_ctrl() { ls "$SYSPCI/$1/nvme" 2>/dev/null | head -n1; }   # BDF -> nvmeN
sriov_json() { # LABEL: vfio-mdev sriov PF --json against sysfs
	run_tool /tmp/sriov.json vfio-mdev sriov "$PF" --json
	expect "$1: vfio-mdev sriov $PF --json exit status" "$?" 0
	relay python3 "$VFK_REPO/tests/vm/guest/mdev_json.py" sriov /tmp/sriov.json "$PF"
}
# refused LABEL WANT-RE ARGS...: vfio-mdev ARGS exits 1 with one line matching WANT-RE
refused() {
	local l=$1 re=$2 rc msg; shift 2
	"$VFK_BIN/vfio-mdev" "$@" > /tmp/ref.out 2> /tmp/ref.err
	rc=$?
	msg=$(grep -v '^:: ' /tmp/ref.err)
	sed 's/^/  stderr: /' /tmp/ref.err | head -n 5
	expect "$l: 'vfio-mdev $*' exit status" "$rc" 1
	expect "$l: one line on stderr" "$(printf '%s\n' "$msg" | grep -c .)" 1
	if printf '%s\n' "$msg" | grep -q -i -E "$re"; then pass "$l: the line says why (/$re/)"
	else fail "$l: the line does not match /$re/: $msg"; fi
}

guest_main() {
	local VM VB C i VF0 VF1 G0 G1 GP rc t0 d
	PF=
	for d in $(find_devs 0x1b36 0x0010); do [ -e "$SYSPCI/$d/sriov_totalvfs" ] && PF=$d; done
	if [ -z "$PF" ]; then
		fail "topology: no SR-IOV capable NVMe (1b36:0010 with sriov_totalvfs)"
		lspci -nn
		return
	fi
	GP=$(grp "$PF")
	modprobe nvme
	for ((i = 0; i < 100; i++)); do
		C=$(nvme_ctrl "$PF")
		[ -n "$C" ] && [ "$(cat "/sys/class/nvme/$C/state" 2>/dev/null)" = live ] && break
		sleep 0.1
	done
	info "PF $PF (group $GP): driver $(drv "$PF"), controller ${C:-none} $(cat "/sys/class/nvme/$C/state" 2>/dev/null), sriov_totalvfs $(sysval sriov_totalvfs), offset $(sysval sriov_offset) stride $(sysval sriov_stride)"
	expect "kernel: PF $PF on nvme, controller live" "$(drv "$PF") $(cat "/sys/class/nvme/$C/state" 2>/dev/null)" "nvme live"
	expect "kernel: sriov_totalvfs" "$(sysval sriov_totalvfs)" 2

	VM=$(tool vfio-mdev) VB=$(tool vfio-bind)
	if [ -z "$VM" ]; then
		skip "SR-IOV: vfio-mdev not built"
		return
	fi
	modprobe vfio-pci

	# -- show --
	run_tool /tmp/show.out vfio-mdev sriov
	expect "vfio-mdev sriov exit status" "$?" 0
	sed 's/^/  sriov: /' /tmp/show.out
	check "vfio-mdev sriov: '$PF ... 0 of 2 VFs, drivers_autoprobe on'" \
		grep -q -E "^$PF .*\\(nvme\\): 0 of 2 VFs, drivers_autoprobe on" /tmp/show.out
	sriov_json "no VFs"
	refused "too many VFs" "at most 2" sriov "$PF" 3
	refused "not a PF" "not an SR-IOV physical function" sriov 0000:00:00.0 1

	# -- enable two VFs without drivers --
	run_tool /tmp/on.out vfio-mdev sriov "$PF" 2 --no-autoprobe
	expect "vfio-mdev sriov $PF 2 --no-autoprobe exit status" "$?" 0
	expect "sriov_numvfs" "$(sysval sriov_numvfs)" 2
	expect "sriov_drivers_autoprobe written to 0" "$(sysval sriov_drivers_autoprobe)" 0
	VF0=$(vf_addr 0) VF1=$(vf_addr 1)
	G0=$(grp "$VF0") G1=$(grp "$VF1")
	info "VF0 $VF0 (group $G0, $(cat "$SYSPCI/$VF0/vendor"):$(cat "$SYSPCI/$VF0/device")), VF1 $VF1 (group $G1)"
	for d in "$VF0" "$VF1"; do
		expect "VF $d: physfn -> $PF" "$(basename "$(readlink "$SYSPCI/$d/physfn")")" "$PF"
		expect "VF $d came up without a driver" "$(drv "$d")" none
		[ -n "$(grp "$d")" ] && expect "VF $d alone in IOMMU group $(grp "$d")" "$(group_devs "$(grp "$d")")" "$d "
	done
	check "VFs in IOMMU groups of their own (PF $GP, VF0 $G0, VF1 $G1)" \
		test -n "$G0" -a -n "$G1" -a "$G0" != "$G1" -a "$G0" != "$GP" -a "$G1" != "$GP"
	run_tool /tmp/show2.out vfio-mdev sriov "$PF"
	expect "vfio-mdev sriov $PF exit status" "$?" 0
	sed 's/^/  sriov: /' /tmp/show2.out
	check "vfio-mdev sriov $PF: 2 of 2 VFs, autoprobe off, each VF with its group, no driver" \
		bash -c "grep -q '2 of 2 VFs, drivers_autoprobe off' /tmp/show2.out &&
			grep -q -E 'VF 0 +$VF0 +group $G0 +\\(no driver\\)' /tmp/show2.out &&
			grep -q -E 'VF 1 +$VF1 +group $G1 +\\(no driver\\)' /tmp/show2.out"
	sriov_json "2 VFs"
	refused "a VF is not a PF" "is a VF.*$PF" sriov "$VF0" 1
	if [ -n "$(tool vfio-ls)" ]; then
		run_tool /tmp/ls.json vfio-ls --json
		expect "vfio-ls --json exit status (with VFs)" "$?" 0
		relay vfk_json ls /tmp/ls.json
	fi

	# -- one VF to vfio-pci, into an inner VM, back --
	if [ -n "$VB" ]; then
		run_tool /tmp/bind.out vfio-bind bind "$VF0"
		expect "vfio-bind bind $VF0 (a VF) exit status" "$?" 0
		bound_checks "VF0 bound" "$G0" "$VF0"
		expect "VF1 $VF1 untouched" "$(drv "$VF1")" none
		refused "dropping VFs while vfiokit holds one" "$VF0.*held.*vfio-bind restore" sriov "$PF" 0
		expect "VFs still enabled after the refusal" "$(sysval sriov_numvfs)" 2

		local why krc
		why=$(nested_kvm); krc=$?
		if [ $krc = 0 ]; then
			t0=$(ts)
			inner_vm "$VF0"
			rc=$?
			info "inner VM (qemu -accel kvm, vfio-pci host=$VF0) exit $rc after $(since "$t0")s"
			sed 's/^/  inner qemu: /' /tmp/l3.qemu.out | head -n 10
			grep -a '^L3' /tmp/l3.log | sed 's/^/  /'
			expect "inner VM ran to its end (qemu exit status)" "$rc" 0
			check "inner VM's kernel lists the VF as 1b36:0010 class 0x010802" grep -q -a 'L3 pci 0x1b36:0x0010 class 0x010802' /tmp/l3.log
		elif [ $krc = 2 ]; then
			skip "SR-IOV inner VM: $why"
		else
			fail "SR-IOV inner VM: nested KVM in the guest: $why"
		fi

		run_tool /tmp/restore.out vfio-bind restore "$VF0"
		expect "vfio-bind restore $VF0 exit status" "$?" 0
		restored_checks "VF0 restored" "$G0" "$VF0=none"
	else
		skip "SR-IOV: VF to vfio-pci and an inner VM: vfio-bind not built"
	fi

	run_tool /tmp/off.out vfio-mdev sriov "$PF" 0
	expect "vfio-mdev sriov $PF 0 exit status" "$?" 0
	expect "sriov_numvfs back to 0" "$(sysval sriov_numvfs)" 0
	check "VFs gone ($VF0 $VF1, virtfn links)" test ! -e "$SYSPCI/$VF0" -a ! -e "$SYSPCI/$VF1" -a ! -e "$SYSPCI/$PF/virtfn0"
	expect "PF still on nvme, controller live" "$(drv "$PF") $(cat "/sys/class/nvme/$C/state" 2>/dev/null)" "nvme live"

	# -- VFs that need PF-side resources first: with autoprobe on, nvme takes them and gives up --
	# autoprobe is still off from --no-autoprobe above: --autoprobe turns it back on
	dmesg_mark
	t0=$(ts)
	"$VM" sriov "$PF" 2 --autoprobe > /tmp/on2.out 2> /tmp/on2.err
	rc=$?
	info "vfio-mdev sriov $PF 2 --autoprobe took $(since "$t0")s"
	sed 's/^/  stderr: /' /tmp/on2.err
	expect "vfio-mdev sriov $PF 2 --autoprobe exit status" "$rc" 0
	expect "sriov_drivers_autoprobe written back to 1" "$(sysval sriov_drivers_autoprobe)" 1
	VF0=$(vf_addr 0) VF1=$(vf_addr 1)
	# the nvme driver binds, waits for the controller (CAP.TO, 7.5 s here) and releases it
	for ((i = 0; i < 300; i++)); do
		[ "$(dmesg | tail -n +$((DMARK + 1)) | grep -c 'CSTS=0x2')" -ge 2 ] \
			&& [ "$(drv "$VF0")" = none ] && [ "$(drv "$VF1")" = none ] && break
		sleep 0.1
	done
	info "the nvme driver gave the VFs up after $(since "$t0")s"
	dmesg_since 12
	check "kernel: nvme could not bring the VFs up without PF-side setup (CSTS=0x2 in the log)" \
		bash -c "dmesg | tail -n +$((DMARK + 1)) | grep -q 'Device not ready; aborting initialisation, CSTS=0x2'"
	expect "kernel: the VFs end up without a driver" "$(drv "$VF0") $(drv "$VF1")" "none none"
	for d in "$VF0" "$VF1"; do
		if grep -q "VF $d came up without a driver.*PF-side resources.*virt-mgmt" /tmp/on2.err; then
			pass "vfio-mdev sriov names $d as driverless and hints at PF-side resources (nvme virt-mgmt)"
		else
			fail "vfio-mdev sriov $PF 2 (autoprobe on) did not name $d as driverless with the PF-side-resources hint (stderr: $(tr '\n' ' ' < /tmp/on2.err))"
		fi
	done
	run_tool /tmp/show3.out vfio-mdev sriov "$PF"
	sed 's/^/  sriov: /' /tmp/show3.out
	check "vfio-mdev sriov $PF shows both VFs without a driver" \
		test "$(grep -c -E 'VF [01] .*\(no driver\)' /tmp/show3.out)" = 2

	# -- the hint is right: once the PF assigns them queues and interrupts and sets them
	# online (NVMe Virtualization Management, what `nvme virt-mgmt` does), the same VFs
	# come up on nvme --
	local NA="$VFK_REPO/tests/vm/guest/nvme_admin.py" k c
	for k in 1 2; do
		python3 "$NA" "/dev/$C" assign "$k" 2 1 2>&1 | sed 's/^/  nvme_admin: /'
	done
	python3 "$NA" "/dev/$C" list 2>&1 | sed 's/^/  nvme_admin list: /'
	dmesg_mark
	for d in "$VF0" "$VF1"; do echo "$d" > /sys/bus/pci/drivers_probe; done
	for d in "$VF0" "$VF1"; do
		for ((i = 0; i < 100; i++)); do
			c=$(nvme_ctrl "$d")
			[ -n "$c" ] && [ "$(cat "/sys/class/nvme/$c/state" 2>/dev/null)" = live ] && break
			sleep 0.1
		done
		expect "after PF-side setup, VF $d on nvme with a live controller" \
			"$(drv "$d") $(cat "/sys/class/nvme/$c/state" 2>/dev/null)" "nvme live"
	done
	dmesg_since 6

	run_tool /tmp/off2.out vfio-mdev sriov "$PF" 0
	expect "vfio-mdev sriov $PF 0 (VFs on nvme, not held by vfiokit) exit status" "$?" 0
	expect "sriov_numvfs back to 0" "$(sysval sriov_numvfs)" 0
}
