# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034  # SCEN_* are read by tests/vm/lib.sh
# Scenario 5: mediated devices (the vGPU stand-in). The kernel's sample mdev drivers —
# mtty (virtual serial ports), mbochs (a bochs display with its own framebuffer memory)
# and mdpy (a simple display) — built on the host against the test kernel's headers
# (tests/vm/build-mdev.sh), loaded in the guest, and driven with vfio-mdev: types,
# create (by id, name and short id), list, the refusals, remove; and with vfio-vm's mode
# mdev: up creates an instance, an inner VM (nested KVM) receives it and its kernel binds
# it, down (or the end of up --wait) removes it.
SCEN_DESC="mdev: sample drivers mtty/mbochs/mdpy — vfio-mdev types/create/list/refusals/remove, vfio-vm up (mode mdev) into an inner VM"
SCEN_TIMEOUT=360
SCEN_MEM=1G

# host side: the sample modules (cached) and the inner VM's initramfs with bochs-drm and
# mdpy-fb, so the inner kernel can bind what it is given
scen_prepare() {
	local out rc dir
	out=$("$VM_DIR/build-mdev.sh")
	rc=$?
	[ $rc = 0 ] || { echo "$out"; return $rc; }
	dir=$(echo "$out" | tail -n1)
	[ -s "$dir/mtty.ko" ] || { echo "build-mdev.sh printed no module dir"; return 1; }
	vm_build_l3x_initramfs "$dir/mdpy-fb.ko" || return 1
	scen_env VFK_MDEV_KO "$dir"
	scen_env VFK_L3X_INITRD "$ART/l3x-initramfs.cpio.gz"
}

scen_qemu() {
	:   # no extra devices: the sample drivers bring their own parents
}

MB=/sys/class/mdev_bus
MD=/sys/bus/mdev/devices
UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'

avail() { cat "$MB/$1/mdev_supported_types/$2/available_instances"; }   # PARENT TYPE
mdev_count() { ls "$MD" 2>/dev/null | wc -l; }

# ------------------------------------------------------------------------------------
# Inner VMs. `vfio-vm up` with a mode-mdev profile (below) creates the instance, starts
# QEMU with `-device vfio-pci,sysfsdev=/sys/bus/mdev/devices/<uuid>` and removes the
# instance at `down` or when `up --wait` sees the guest stop. The direct QEMU line is
# only the fallback for a vfio-vm without `up`.
# ------------------------------------------------------------------------------------
VMNAME=vfk-mdev
mdev_vm_profile() { # TYPE [PARENT] -> a vfiokit.ini(5) profile on stdout: mode mdev, on
	# PARENT ([gpu] device naming a parent that is no PCI GPU) or any parent
	cat <<-EOT
	[vm]
	name = $VMNAME
	memory = 256M
	vcpus = 1
	os = linux
	firmware = bios
	accel = auto
	kernel = $VFK_L3_KERNEL
	initrd = $VFK_L3X_INITRD
	cmdline = console=ttyS0 panic=-1 quiet
	serial = stdio

	[tuning]
	# nested KVM on TCG's emulated SVM boots QEMU's default model
	cpu-model = qemu64
	hugepages = no
	iothreads = 0

	[gpu]
	mode = mdev
	mdev-type = $1
	${2:+device = $2}

	[display]
	type = none

	[network]
	type = none
	EOT
}
plain_inner_vm() { # UUID... -> inner VM with those mdevs, console in /tmp/l3.log
	local devs=() u
	for u in "$@"; do devs+=(-device "vfio-pci,sysfsdev=$MD/$u"); done
	timeout 240 qemu-system-x86_64 -accel kvm -m 256 -smp 1 -nodefaults -display none \
		-no-reboot -serial file:/tmp/l3.log "${devs[@]}" \
		-kernel "$VFK_L3_KERNEL" -initrd "$VFK_L3X_INITRD" \
		-append "console=ttyS0 quiet panic=-1" > /tmp/l3.qemu.out 2>&1
}
# l3_checks LOG KIND: what the inner kernel saw and bound
l3_checks() {
	local log=$1
	grep -a '^L3 \(drv\|fb\|dmesg\|done\|insmod\)' "$log" | grep -v 'class 0x06' | sed 's/^/  /'
	case $2 in
	mbochs)
		check "inner VM's kernel lists mbochs as 1234:1111 class 0x038000" grep -q -a 'L3 pci 0x1234:0x1111 class 0x038000' "$log"
		check "inner VM: bochs-drm bound the mbochs device" grep -q -a -E 'L3 drv 0x1234:0x1111 .* driver=bochs-drm' "$log" ;;
	mdpy)
		check "inner VM's kernel lists mdpy as 1b36:000f" grep -q -a 'L3 pci 0x1b36:0x000f' "$log"
		check "inner VM: mdpy-fb bound the mdpy device" grep -q -a -E 'L3 drv 0x1b36:0x000f .* driver=mdpy-fb' "$log" ;;
	mtty)
		check "inner VM's kernel lists mtty as 4348:3253 (serial, class 0x0700)" grep -q -a 'L3 pci 0x4348:0x3253 class 0x0700' "$log" ;;
	esac
}

# vfio-vm up --wait, mode mdev: the instance exists only while the VM runs
vm_up_wait() { # PARENT TYPE
	local p=$1 t=$2 before u rc t0
	mdev_vm_profile "$t" > /tmp/mdev-vm.ini
	before=$(avail "$p" "$t")
	run_tool /tmp/plan.json vfio-vm plan /tmp/mdev-vm.ini --json
	expect "vfio-vm plan (mode mdev, mdev-type $t) exit status" "$?" 0
	u=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["mdev"]; print(m["parent"], m["type"], m["uuid"])' /tmp/plan.json 2>/dev/null)
	expect "vfio-vm plan --json: mdev parent and type" "${u% *}" "$p $t"
	u=${u##* }
	t0=$(ts)
	run_tool /tmp/up.out vfio-vm up /tmp/mdev-vm.ini --backend qemu --wait --console-log /tmp/l3.log
	rc=$?
	info "vfio-vm up --wait (mode mdev, $t) exit $rc after $(since "$t0")s"
	sed 's/^/  vfio-vm: /' /tmp/up.out | head -n 12
	expect "vfio-vm up --wait ($t) exit status" "$rc" 0
	# vfio-vm narrates on stdout (vfio-vm(1)), unlike vfio-mdev and vfio-bind (stderr)
	check "vfio-vm up narrates creating and removing the planned instance $u" \
		bash -c "grep -q 'creating .* as $u' /tmp/up.out && grep -q 'removing mediated device $u' /tmp/up.out"
	l3_checks /tmp/l3.log "$p"
	check "after the inner VM stopped: $MD/$u removed" test ! -e "$MD/$u"
	expect "after the inner VM stopped: available_instances of $t back" "$(avail "$p" "$t")" "$before"
	check "after the inner VM stopped: no VM record left" test ! -e "/run/vfiokit/vms/$VMNAME"
}

# vfio-vm up without --wait, mode mdev: the instance is there while the VM runs, down
# removes it
vm_up_down() { # PARENT TYPE
	local p=$1 t=$2 before u rc i
	mdev_vm_profile "$t" "$p" > /tmp/mdev-vm.ini
	run_tool /tmp/plan2.json vfio-vm plan /tmp/mdev-vm.ini --json
	expect "vfio-vm plan with [gpu] device = $p (a parent that is no PCI device): parent and type" \
		"$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["mdev"]; print(m["parent"], m["type"])' /tmp/plan2.json 2>/dev/null)" "$p $t"
	before=$(avail "$p" "$t")
	# the inner VM stays up (vfk_hold=1): else its watcher, not down, ends it
	run_tool /tmp/up2.out vfio-vm up /tmp/mdev-vm.ini --backend qemu --console-log /tmp/l3b.log \
		--set "vm.cmdline=console=ttyS0 panic=-1 quiet vfk_hold=1"
	expect "vfio-vm up (mode mdev, $t, no wait) exit status" "$?" 0
	run_tool /tmp/st.json vfio-vm status "$VMNAME" --json
	expect "vfio-vm status $VMNAME --json exit status" "$?" 0
	u=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["vms"][0]["mdev"])' /tmp/st.json 2>/dev/null)
	info "vfio-vm status: $(cat /tmp/st.json)"
	check "while the VM runs: its mdev $u exists, type $t" \
		test "$(basename "$(readlink "$MD/$u/mdev_type" 2>/dev/null)")" = "$t"
	expect "while the VM runs: available_instances of $t one less" "$(avail "$p" "$t")" "$((before - 1))"
	run_tool /tmp/list3.json vfio-mdev list --json
	relay python3 "$VFK_REPO/tests/vm/guest/mdev_json.py" list /tmp/list3.json --expect "$u=$p:$t"
	for ((i = 0; i < 1200; i++)); do grep -q -a 'L3 done' /tmp/l3b.log && break; sleep 0.1; done
	l3_checks /tmp/l3b.log "$p"
	run_tool /tmp/down.out vfio-vm down "$VMNAME" --timeout 5
	expect "vfio-vm down $VMNAME exit status" "$?" 0
	sed 's/^/  vfio-vm down: /' /tmp/down.out
	check "after down: $MD/$u removed" test ! -e "$MD/$u"
	expect "after down: available_instances of $t back" "$(avail "$p" "$t")" "$before"
	check "after down: no VM record left" test ! -e "/run/vfiokit/vms/$VMNAME"
}

# the human table of `vfio-mdev types`: "  TYPE  NAME (may hold blanks)  AVAIL USED FB HEADS API"
types_row() { # OUT-FILE TYPE -> "AVAIL USED API"
	awk -v t="$2" '$1 == t { print $(NF-4), $(NF-3), $NF; exit }' "$1"
}

# create_checks LABEL PARENT TYPE-ID UUID AVAIL-BEFORE: the instance in sysfs, its own
# IOMMU group and VFIO group node, one instance less free, usable through VFIO
create_checks() {
	local l=$1 p=$2 t=$3 u=$4 before=$5 g
	check "$l: $MD/$u exists" test -d "$MD/$u"
	expect "$l: its mdev_type" "$(basename "$(readlink "$MD/$u/mdev_type" 2>/dev/null)")" "$t"
	expect "$l: its parent" "$(basename "$(dirname "$(readlink -f "$MD/$u")")")" "$p"
	g=$(basename "$(readlink "$MD/$u/iommu_group" 2>/dev/null)")
	if [ -n "$g" ]; then
		expect "$l: IOMMU group $g holds only the instance" "$(group_devs "$g")" "$u "
		check "$l: /dev/vfio/$g exists" test -c "/dev/vfio/$g"
		check "$l: VFIO group $g viable, device fd for $u obtained (vfio-group-status)" group_status "$g" "$u"
	else
		fail "$l: $u has no IOMMU group"
	fi
	expect "$l: available_instances of $t dropped by one" "$(avail "$p" "$t")" "$((before - 1))"
}

# refused LABEL WANT-RE ARGS...: vfio-mdev ARGS must exit 1, creating nothing, and say why
# in one line (stderr without the ":: step" narration) matching WANT-RE
refused() {
	local l=$1 re=$2 n0 rc msg; shift 2
	n0=$(mdev_count)
	"$VFK_BIN/vfio-mdev" "$@" > /tmp/ref.out 2> /tmp/ref.err
	rc=$?
	msg=$(grep -v '^:: ' /tmp/ref.err)
	sed 's/^/  stderr: /' /tmp/ref.err | head -n 5
	expect "$l: 'vfio-mdev $*' exit status" "$rc" 1
	expect "$l: one line on stderr" "$(printf '%s\n' "$msg" | grep -c .)" 1
	if printf '%s\n' "$msg" | grep -q -i -E "$re"; then pass "$l: the line says why (/$re/)"
	else fail "$l: the line does not match /$re/: $msg"; fi
	expect "$l: nothing created" "$(mdev_count)" "$n0"
	check "$l: nothing on stdout" test ! -s /tmp/ref.out
}

guest_main() {
	local VM t p u rc G ty out
	VM=$(tool vfio-mdev)

	modprobe vfio_iommu_type1 && modprobe mdev
	check "modprobe vfio_iommu_type1 mdev" test -d /sys/module/mdev
	dmesg_mark
	insmod "$VFK_MDEV_KO/mtty.ko" && insmod "$VFK_MDEV_KO/mbochs.ko" count=128 \
		&& insmod "$VFK_MDEV_KO/mdpy.ko"
	expect "insmod mtty, mbochs count=128, mdpy" "$?" 0
	dmesg_since 5
	expect "kernel: mdev parents" "$(ls "$MB" | tr '\n' ' ')" "mbochs mdpy mtty "
	for p in mtty mbochs mdpy; do
		for t in "$MB/$p"/mdev_supported_types/*; do
			info "sysfs: $p/$(basename "$t") name='$(cat "$t/name" 2>/dev/null)' available_instances=$(cat "$t/available_instances") device_api=$(cat "$t/device_api")"
		done
	done
	if [ -z "$VM" ]; then
		skip "mdev: vfio-mdev not built"
		return
	fi

	# -- types: human table and JSON against sysfs --
	run_tool /tmp/types.out vfio-mdev types
	expect "vfio-mdev types exit status" "$?" 0
	sed 's/^/  types: /' /tmp/types.out
	local bad=0 row want
	for p in mtty mbochs mdpy; do
		grep -q "^$p " /tmp/types.out || { fail "vfio-mdev types: no parent line for $p"; bad=1; }
		for t in "$MB/$p"/mdev_supported_types/*; do
			ty=$(basename "$t")
			row=$(types_row /tmp/types.out "$ty")
			want="$(cat "$t/available_instances") 0 $(cat "$t/device_api")"
			[ "$row" = "$want" ] || { fail "vfio-mdev types: row $ty says '$row' (AVAIL USED API), sysfs '$want'"; bad=1; }
		done
	done
	[ $bad = 0 ] && pass "vfio-mdev types lists mtty-1/mtty-2, mbochs-small/medium/large, mdpy-vga/xga/hd with AVAIL and API = sysfs"
	run_tool /tmp/types.json vfio-mdev types --json
	expect "vfio-mdev types --json exit status" "$?" 0
	relay python3 "$VFK_REPO/tests/vm/guest/mdev_json.py" types /tmp/types.json
	run_tool /tmp/types1.out vfio-mdev types mbochs
	expect "vfio-mdev types mbochs exit status" "$?" 0
	check "vfio-mdev types mbochs lists only mbochs' types" \
		test "$(awk '$1 ~ /^(mtty|mdpy|mbochs)-/ { print $1 }' /tmp/types1.out | tr '\n' ' ')" = "mbochs-large mbochs-medium mbochs-small "

	# -- create: by name (mtty), by short id (mbochs), by id with --uuid (mdpy) --
	local UT UB UP="5e1b2c3d-4f50-4617-8293-a4b5c6d7e8f9" before
	before=$(avail mtty mtty-2)
	run_tool /tmp/c1.out vfio-mdev create mtty "dual port serial"
	expect "vfio-mdev create mtty 'dual port serial' (type by name) exit status" "$?" 0
	UT=$(cat /tmp/c1.out)
	check "create prints the new instance's UUID ($UT)" grep -q -E "$UUID_RE" /tmp/c1.out
	create_checks "mtty-2 $UT" mtty mtty-2 "$UT" "$before"

	before=$(avail mbochs mbochs-small)
	run_tool /tmp/c2.out vfio-mdev create mbochs small
	expect "vfio-mdev create mbochs small (type by short id) exit status" "$?" 0
	UB=$(cat /tmp/c2.out)
	check "create prints the new instance's UUID ($UB)" grep -q -E "$UUID_RE" /tmp/c2.out
	create_checks "mbochs-small $UB" mbochs mbochs-small "$UB" "$before"

	before=$(avail mdpy mdpy-vga)
	run_tool /tmp/c3.out vfio-mdev create mdpy mdpy-vga --uuid "$UP"
	expect "vfio-mdev create mdpy mdpy-vga --uuid $UP exit status" "$?" 0
	expect "create --uuid prints that UUID" "$(cat /tmp/c3.out)" "$UP"
	create_checks "mdpy-vga $UP" mdpy mdpy-vga "$UP" "$before"

	# -- list: JSON against sysfs, the human view --
	run_tool /tmp/list.json vfio-mdev list --json
	expect "vfio-mdev list --json exit status" "$?" 0
	relay python3 "$VFK_REPO/tests/vm/guest/mdev_json.py" list /tmp/list.json \
		--expect "$UT=mtty:mtty-2" --expect "$UB=mbochs:mbochs-small" --expect "$UP=mdpy:mdpy-vga"
	run_tool /tmp/list.out vfio-mdev list
	expect "vfio-mdev list exit status" "$?" 0
	sed 's/^/  list: /' /tmp/list.out
	bad=0
	for u in "$UT" "$UB" "$UP"; do
		G=$(basename "$(readlink "$MD/$u/iommu_group")")
		awk -v u="$u" -v g="$G" '$1 == u && $0 ~ "(^| )" g " +active" { f = 1 } END { exit !f }' /tmp/list.out \
			|| { fail "vfio-mdev list: no line '$u ... $G active'"; bad=1; }
	done
	[ $bad = 0 ] && pass "vfio-mdev list shows the three instances with their groups, active"
	run_tool /tmp/types2.out vfio-mdev types
	row=$(types_row /tmp/types2.out mbochs-small)
	expect "vfio-mdev types after create: mbochs-small AVAIL USED API" "$row" "$(avail mbochs mbochs-small) 1 vfio-pci"

	# -- vfio-vm up, mode mdev: an inner VM receives a new instance; then removed --
	local why krc
	why=$(nested_kvm); krc=$?
	if [ $krc = 2 ]; then
		skip "mdev inner VM: $why"
	elif [ $krc != 0 ]; then
		fail "mdev inner VM: nested KVM in the guest: $why"
	elif [ -n "$(tool vfio-vm)" ] && "$VFK_BIN/vfio-vm" --help 2>&1 | grep -q '^  up '; then
		vm_up_wait mbochs mbochs-small
		vm_up_down mdpy mdpy-vga
	else
		skip "vfio-vm up (mode mdev): vfio-vm has no 'up' yet; the instances go to a plain QEMU"
		local t0
		t0=$(ts)
		plain_inner_vm "$UB" "$UP" "$UT"
		rc=$?
		info "inner VM (qemu -accel kvm, vfio-pci sysfsdev= mbochs, mdpy, mtty) exit $rc after $(since "$t0")s"
		sed 's/^/  inner qemu: /' /tmp/l3.qemu.out | head -n 10
		expect "inner VM ran to its end (qemu exit status)" "$rc" 0
		l3_checks /tmp/l3.log mbochs
		l3_checks /tmp/l3.log mdpy
		l3_checks /tmp/l3.log mtty
	fi

	# -- refusals: one clear line, exit 1, nothing created --
	before=$(avail mbochs mbochs-large)
	info "mbochs-large: $before free (128 MB of mbochs memory, 4 MB taken by mbochs-small)"
	local UL=()
	for ((rc = 0; rc < before; rc++)); do
		"$VM" create mbochs mbochs-large > /tmp/cl.out 2> /tmp/cl.err && UL+=("$(cat /tmp/cl.out)")
	done
	expect "mbochs-large filled up ($before created)" "$(avail mbochs mbochs-large)" 0
	refused "full type" "no free instance of mbochs-large" create mbochs mbochs-large
	refused "unknown type" "nosuch.*types:.*mtty-1" create mtty nosuch
	refused "unknown parent" "nosuch" create nosuch mtty-1
	refused "unknown instance" "no active mediated device" remove 00000000-1111-4222-8333-444444444444
	if [ -n "$(tool vfio-vm)" ] && "$VFK_BIN/vfio-vm" --help 2>&1 | grep -q '^  up '; then
		local n0 msg
		n0=$(mdev_count)
		mdev_vm_profile mbochs-large > /tmp/mdev-vm.ini
		"$VFK_BIN/vfio-vm" up /tmp/mdev-vm.ini --backend qemu > /tmp/vr.out 2> /tmp/vr.err
		rc=$? msg=$(grep -v '^:: ' /tmp/vr.err)
		expect "vfio-vm up with a full mdev-type: exit status" "$rc" 1
		check "vfio-vm up with a full mdev-type: one line saying so ($msg)" \
			test "$(printf '%s\n' "$msg" | grep -c .)" = 1 -a -n "$(printf '%s' "$msg" | grep 'mbochs-large.*no free instance')"
		mdev_vm_profile nosuch > /tmp/mdev-vm.ini
		"$VFK_BIN/vfio-vm" up /tmp/mdev-vm.ini --backend qemu > /tmp/vr.out 2> /tmp/vr.err
		rc=$? msg=$(grep -v '^:: ' /tmp/vr.err)
		expect "vfio-vm up with an unknown mdev-type: exit status" "$rc" 1
		check "vfio-vm up with an unknown mdev-type: one line saying so ($msg)" \
			test "$(printf '%s\n' "$msg" | grep -c .)" = 1 -a -n "$(printf '%s' "$msg" | grep 'no mediated device type matches.*nosuch')"
		expect "the refused vfio-vm up calls created nothing" "$(mdev_count)" "$n0"
		check "the refused vfio-vm up calls left no VM record" test ! -e "/run/vfiokit/vms/$VMNAME"
	fi
	for u in "${UL[@]}"; do "$VM" -q remove "$u"; done

	# -- remove: gone, a free instance back --
	for spec in "$UT:mtty:mtty-2" "$UB:mbochs:mbochs-small" "$UP:mdpy:mdpy-vga"; do
		u=${spec%%:*} p=${spec#*:} t=${spec##*:} p=${p%%:*}
		before=$(avail "$p" "$t")
		G=$(basename "$(readlink "$MD/$u/iommu_group")")
		run_tool /tmp/rm.out vfio-mdev remove "$u"
		expect "vfio-mdev remove $u ($t) exit status" "$?" 0
		check "remove $t: $MD/$u gone" test ! -e "$MD/$u"
		check "remove $t: /dev/vfio/$G gone" test ! -e "/dev/vfio/$G"
		expect "remove $t: available_instances back up by one" "$(avail "$p" "$t")" "$((before + 1))"
	done
	run_tool /tmp/list2.json vfio-mdev list --json
	relay python3 "$VFK_REPO/tests/vm/guest/mdev_json.py" list /tmp/list2.json --none
	run_tool /tmp/types3.json vfio-mdev types --json
	relay python3 "$VFK_REPO/tests/vm/guest/mdev_json.py" types /tmp/types3.json
	dmesg_since 10
}
