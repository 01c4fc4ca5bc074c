# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034  # SCEN_* are read by tests/vm/lib.sh
# Scenario 70: iommufd and the VFIO device cdev on a real kernel (the next kernel set:
# Debian's 6.12 with IOMMUFD=m and VFIO_DEVICE_CDEV=y, tests/vm/setup-next.sh). The
# GPU-like card goes to vfio-pci by hand (driver_override, unbind, drivers_probe) and gets
# a cdev, /dev/vfio/devices/vfioN, beside its group node; Debian 13's QEMU 10 (the
# VFK_QEMU_NEXT wrapper) gives it to a nested-KVM inner VM through `-object iommufd`,
# once finding the cdev itself (host=BDF) and once with descriptors the caller opened
# and passed (fd=N), as libvirt and vfiokit do. While the inner VM runs, QEMU holds
# /dev/iommu and the cdevs open and no group node or /dev/vfio/vfio: the legacy API
# is not used. The card goes back to its native drivers afterwards.
#
# Then vfio-vm does the same: [vfio] backend = iommufd, and auto (chosen by asking that
# QEMU over QMP); up opens /dev/iommu and the cdevs and passes them as descriptors.
SCEN_DESC="iommufd + VFIO cdev (6.12): the card's cdev; trixie's QEMU 10 gives it to an inner VM via -object iommufd, by path and by passed fds, never opening /dev/vfio/<group>"
SCEN_KERNEL=next
SCEN_TIMEOUT=900
SCEN_MEM=1G

scen_qemu() {
	q_boot_vga
	q_root_port rp1 0x2
	q_gpu gpu0 rp1
}

# ---- facts ----
cdev_of() { # BDF -> vfioN, the device's VFIO cdev ("" when it has none)
	local d
	for d in "$SYSPCI/$1"/vfio-dev/vfio[0-9]*; do [ -e "$d" ] && basename "$d"; done
}
# fd_targets PID -> what each of the process's descriptors is, "N TARGET" a line
fd_targets() {
	local f
	for f in /proc/"$1"/fd/*; do
		[ -e "$f" ] || [ -L "$f" ] || continue
		echo "${f##*/} $(readlink "$f")"
	done
}
fd_has() { grep -q -E " $2\$" "$1"; }   # FD-LIST TARGET-RE
devnum() { # FILE -> its device number "major:minor" (decimal, as sysfs' dev files say)
	local h
	h=$(stat -L -c '%t:%T' "$1" 2>/dev/null) || return 0
	printf '%d:%d' "0x${h%:*}" "0x${h#*:}"
}
alive() { # PID -> 0 while the process runs (a zombie has ended)
	local st
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ]
}

# ---- steps ----
# The kernel of the set, iommufd and /dev/iommu.
iommufd_checks() {
	local dev
	expect "guest runs the next kernel set's kernel" "$(uname -r)" "$VFK_KV"
	check "kernel set next: the wrapper for trixie's QEMU is there (VFK_QEMU_NEXT)" test -x "${VFK_QEMU_NEXT:-/nonexistent}"
	info "$("$VFK_QEMU_NEXT" --version 2>&1 | head -n1) via $VFK_QEMU_NEXT"
	qmp_probe
	[ -c /dev/iommu ] || modprobe iommufd
	check "modprobe iommufd: module loaded" test -d /sys/module/iommufd
	check "/dev/iommu is a character device" test -c /dev/iommu
	dev=$(cat /sys/class/misc/iommu/dev 2>/dev/null)
	expect "/dev/iommu is the misc device iommufd registered (${dev:-none})" "$(devnum /dev/iommu)" "$dev"
}

# What vfiokit asks a QEMU before it plans an iommufd VM (lib/launch/vmm-caps.c): no
# machine, QMP on stdio, its QOM types (every module with some is loaded), within 20 s.
qmp_probe() {
	local t0 out
	t0=$(ts)
	out=$(printf '%s\n' '{"execute":"qmp_capabilities"}' \
		'{"execute":"qom-list-types","arguments":{"implements":"object"}}' '{"execute":"quit"}' |
		timeout 60 "$VFK_QEMU_NEXT" -machine none -nodefaults -display none -qmp stdio 2>&1)
	case $out in
	*'"name": "iommufd"'*)
		pass "trixie's QEMU over QMP (no machine): qom-list-types lists iommufd ($(since "$t0") s)"
		awk -v a="$t0" -v b="$(ts)" 'BEGIN { exit !(b - a > 20) }' &&
			info "the QMP probe took longer than the 20 s vfio-vm waits for it (QEMU_ASK_MS)" ;;
	*) fail "trixie's QEMU over QMP (no machine): no iommufd in qom-list-types after $(since "$t0") s: $(echo "$out" | tail -n 3 | tr '\n' ' ')" ;;
	esac
}

# The card to vfio-pci by hand: each function gets a cdev beside the group node.
card_to_vfio() {
	local d c
	raw_bind "$GPU" "$HDA"
	for d in "$GPU" "$HDA"; do
		wait_drv "$d" vfio-pci 5
		expect "raw bind: $d on vfio-pci" "$(drv "$d")" vfio-pci
		c=$(cdev_of "$d")
		check "raw bind: $d has a VFIO cdev in sysfs (vfio-dev/${c:-none})" test -n "$c"
		[ -n "$c" ] || continue
		check "raw bind: /dev/vfio/devices/$c is a character device" test -c "/dev/vfio/devices/$c"
		expect "raw bind: /dev/vfio/devices/$c is $d's cdev (major:minor from sysfs)" \
			"$(devnum "/dev/vfio/devices/$c")" "$(cat "$SYSPCI/$d/vfio-dev/$c/dev" 2>/dev/null)"
	done
	CV=$(cdev_of "$GPU") CH=$(cdev_of "$HDA")
	check "raw bind: the group node /dev/vfio/$G is there too (CONFIG_VFIO_GROUP)" test -c "/dev/vfio/$G"
}

# inner_iommufd LABEL ARGS...: trixie's QEMU on nested KVM with the vfio-pci ARGS; the
# inner kernel lists its PCI devices and stays up (vfk_hold=1) while we look at QEMU's
# descriptors, then QEMU is stopped. QEMU_PID, L3LOG and /tmp/qemu-fds.txt for the caller.
inner_iommufd() {
	local l=$1 t t0 rc out
	shift
	L3LOG=/tmp/l3-${l// /-}.log out=/tmp/qemu-${l// /-}.out
	rm -f "$L3LOG"
	t0=$(ts)
	"$VFK_QEMU_NEXT" -accel kvm -m 256 -smp 1 -nodefaults -display none -no-reboot \
		-serial "file:$L3LOG" "$@" -kernel "$VFK_L3_KERNEL" -initrd "$VFK_L3_INITRD" \
		-append "console=ttyS0 quiet panic=-1 vfk_hold=1" > "$out" 2>&1 &
	QEMU_PID=$!
	for ((t = 0; t < 1500; t++)); do
		grep -q -a "L3 done" "$L3LOG" 2>/dev/null && break
		alive "$QEMU_PID" || break
		sleep 0.2
	done
	fd_targets "$QEMU_PID" > /tmp/qemu-fds.txt
	info "$l: inner VM up after $(since "$t0")s; QEMU $QEMU_PID ($(cat "/proc/$QEMU_PID/comm" 2>/dev/null)) holds: $(awk '$2 ~ /^\/dev\// { print $2 }' /tmp/qemu-fds.txt | sort -u | tr '\n' ' ')"
	grep -a '^L3 pci' "$L3LOG" 2>/dev/null | grep -v 'class 0x06' | sed 's/^/  /'
	check "$l: inner kernel lists the passed-through VGA 1234:1111" grep -q -a 'L3 pci 0x1234:0x1111 class 0x0300' "$L3LOG"
	check "$l: inner kernel lists the passed-through HDA 8086:293e" grep -q -a 'L3 pci 0x8086:0x293e class 0x0403' "$L3LOG"
	check "$l: QEMU holds /dev/iommu open" fd_has /tmp/qemu-fds.txt /dev/iommu
	check "$l: QEMU holds $GPU's cdev /dev/vfio/devices/$CV open" fd_has /tmp/qemu-fds.txt "/dev/vfio/devices/$CV"
	check "$l: QEMU holds $HDA's cdev /dev/vfio/devices/$CH open" fd_has /tmp/qemu-fds.txt "/dev/vfio/devices/$CH"
	check "$l: QEMU holds no group node /dev/vfio/<group> and no /dev/vfio/vfio (the legacy API unused)" \
		eval '! grep -q -E " /dev/vfio/([0-9]+|noiommu-[0-9]+|vfio)\$" /tmp/qemu-fds.txt'
	kill -TERM "$QEMU_PID" 2>/dev/null
	for ((t = 0; t < 50; t++)); do alive "$QEMU_PID" || break; sleep 0.2; done
	alive "$QEMU_PID" && { info "$l: QEMU still there 10 s after SIGTERM, killed"; kill -KILL "$QEMU_PID"; }
	wait "$QEMU_PID" 2>/dev/null
	rc=$?
	if ! grep -q -a "L3 done" "$L3LOG" 2>/dev/null; then
		sed 's/^/  qemu: /' "$out" | tail -n 15
		tail -n 15 "$L3LOG" 2>/dev/null | sed 's/^/  l3 console: /'
	fi
	info "$l: QEMU ended (status $rc)"
}

# QEMU finds each cdev itself from host=BDF (sysfs vfio-dev/vfioN).
inner_by_path() {
	inner_iommufd "iommufd by path" -object iommufd,id=iommufd0 \
		-device "vfio-pci,host=$GPU,iommufd=iommufd0" -device "vfio-pci,host=$HDA,iommufd=iommufd0"
}

# The caller opens /dev/iommu and the cdevs and passes the descriptors (fd=N), as a
# management layer that drops privileges does; the QEMU process holds those very numbers.
inner_by_fds() {
	local fdi fdv fdh
	if ! exec {fdi}<>/dev/iommu {fdv}<>"/dev/vfio/devices/$CV" {fdh}<>"/dev/vfio/devices/$CH"; then
		fail "passed fds: cannot open /dev/iommu, /dev/vfio/devices/$CV and $CH read-write"
		return
	fi
	inner_iommufd "iommufd by passed fds" -object "iommufd,id=i0,fd=$fdi" \
		-device "vfio-pci,fd=$fdv,iommufd=i0" -device "vfio-pci,fd=$fdh,iommufd=i0"
	exec {fdi}<&- {fdv}<&- {fdh}<&-
	check "passed fds: QEMU used the descriptors it was given: fd $fdi /dev/iommu, fd $fdv $CV, fd $fdh $CH" \
		eval "grep -q -x '$fdi /dev/iommu' /tmp/qemu-fds.txt && grep -q -x '$fdv /dev/vfio/devices/$CV' /tmp/qemu-fds.txt && grep -q -x '$fdh /dev/vfio/devices/$CH' /tmp/qemu-fds.txt"
}

# vfio-vm does it all: plan chooses iommufd (asking this QEMU over QMP), up binds the
# card, opens /dev/iommu and the cdevs itself and passes them to QEMU (fd=N), down gives
# the card back. @1: the [vfio] backend asked for (iommufd, or auto: chosen).
vfio_vm_iommufd() {
	local want=$1 l="vfio-vm (backend = $1)" pid t log=/tmp/l3-vfiovm-$1.log
	local -a set=(--set "gpu.device=$GPU" --set "vm.emulator=$VFK_QEMU_NEXT"
		--set "vm.kernel=$VFK_L3_KERNEL" --set "vm.initrd=$VFK_L3_INITRD"
		--set "vfio.backend=$want")
	run_tool "/tmp/plan-$want.out" vfio-vm plan "$VFK_REPO/configs/demo.ini" "${set[@]}"
	expect "$l: plan exit status" "$?" 0
	sed -n '/^VFIO backend/,+1p' "/tmp/plan-$want.out" | sed 's/^/  /'
	check "$l: plan says VFIO backend: iommufd" grep -q -x "VFIO backend: iommufd" "/tmp/plan-$want.out"
	[ "$want" = auto ] && check "$l: plan's reason names trixie's QEMU and its iommufd object" \
		grep -q "QEMU 10\..*has the iommufd object and vfio-pci's iommufd property" "/tmp/plan-$want.out"
	run_tool "/tmp/gen-$want.out" vfio-vm gen "$VFK_REPO/configs/demo.ini" --format qemu "${set[@]}"
	check "$l: gen --format qemu writes -object iommufd,id=iommufd0 and iommufd= on the card's vfio-pci" \
		eval "grep -q -- 'iommufd,id=iommufd0' '/tmp/gen-$want.out' && grep -q -- 'vfio-pci,host=$GPU,iommufd=iommufd0' '/tmp/gen-$want.out'"
	run_tool "/tmp/up-$want.out" vfio-vm up "$VFK_REPO/configs/demo.ini" --backend qemu "${set[@]}" \
		--set "vm.cmdline=console=ttyS0 panic=-1 vfk_hold=1" --console-log "$log"
	expect "$l: up exit status" "$?" 0
	for ((t = 0; t < 1500; t++)); do grep -q -a "L3 done" "$log" 2>/dev/null && break; sleep 0.2; done
	run_tool "/tmp/status-$want.out" vfio-vm status demo --json
	pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["vms"][0]["pid"])' "/tmp/status-$want.out" 2>/dev/null)
	CV=$(cdev_of "$GPU") CH=$(cdev_of "$HDA")
	fd_targets "${pid:-0}" > /tmp/qemu-fds.txt
	info "$l: QEMU ${pid:-?} holds: $(awk '$2 ~ /^\/dev\// { print $2 }' /tmp/qemu-fds.txt | sort -u | tr '\n' ' ')"
	check "$l: inner kernel lists the passed-through VGA 1234:1111" grep -q -a 'L3 pci 0x1234:0x1111 class 0x0300' "$log"
	check "$l: inner kernel lists the passed-through HDA 8086:293e" grep -q -a 'L3 pci 0x8086:0x293e class 0x0403' "$log"
	check "$l: QEMU holds /dev/iommu, opened and passed by vfio-vm" fd_has /tmp/qemu-fds.txt /dev/iommu
	check "$l: QEMU holds the cdevs of $GPU (${CV:-none}) and $HDA (${CH:-none})" \
		eval "[ -n '$CV' ] && [ -n '$CH' ] && fd_has /tmp/qemu-fds.txt /dev/vfio/devices/$CV && fd_has /tmp/qemu-fds.txt /dev/vfio/devices/$CH"
	check "$l: QEMU holds no group node and no /dev/vfio/vfio" \
		eval '! grep -q -E " /dev/vfio/([0-9]+|noiommu-[0-9]+|vfio)\$" /tmp/qemu-fds.txt'
	check "$l: QEMU's command line passes descriptors (fd=), not host= addresses" \
		eval "tr '\\0' '\\n' < /proc/${pid:-0}/cmdline | grep -q '^vfio-pci,fd=' && ! tr '\\0' '\\n' < /proc/${pid:-0}/cmdline | grep -q '^vfio-pci,host='"
	grep -q -a "L3 done" "$log" || tail -n 15 "$log" 2>/dev/null | sed 's/^/  l3 console: /'
	run_tool "/tmp/down-$want.out" vfio-vm down demo --timeout 5
	expect "$l: down exit status" "$?" 0
	restored_checks "$l: after down" "$G" "$GPU=bochs-drm" "$HDA=snd_hda_intel"
	check "$l: the cdevs went with vfio-pci" test -z "$(cdev_of "$GPU")$(cdev_of "$HDA")"
}

# Root's host step and the user's QEMU (issue 23): vfio-vm up --run-as ann on the iommufd
# backend. Root binds the card, opens /dev/iommu, the cdevs, the serial log and the QMP
# socket and sets QEMU's memlock limit; QEMU is ann's from exec on (every thread), holds
# the descriptors, and no node changes owner or mode while the inner VM has the card.
# What ann's QEMU still opens by path (itself, the inner kernel and initramfs) sits where
# ann may go: the build tree may be root's alone (/root).
RUNAS_UID=1500
runas_files() {
	local nr=${VFK_QEMU_NEXT%/vfk/*}
	mkdir -p /tmp/ufiles /tmp/nr && chmod 755 /tmp/ufiles
	mountpoint -q /tmp/nr || mount --bind "$nr" /tmp/nr
	# the test bed's wrapper names the cache by its path: the same through /tmp/nr
	sed "s|^R=.*|R='/tmp/nr'|" "$VFK_QEMU_NEXT" > /tmp/ufiles/qemu-next
	cp "$VFK_L3_KERNEL" /tmp/ufiles/l3-kernel && cp "$VFK_L3_INITRD" /tmp/ufiles/l3-initrd.gz
	chmod 755 /tmp/ufiles/qemu-next && chmod 644 /tmp/ufiles/l3-kernel /tmp/ufiles/l3-initrd.gz
}
node_modes() { stat -c '%n %u:%g %a' /dev/iommu /dev/vfio/[0-9]* /dev/vfio/devices/* 2>/dev/null; }
vfio_vm_run_as() {
	local l="vfio-vm up --run-as ann (iommufd)" pid log=/tmp/ufiles/l3-runas.log t before rc
	local -a set=(--set "gpu.device=$GPU" --set "vm.emulator=/tmp/ufiles/qemu-next"
		--set "vm.kernel=/tmp/ufiles/l3-kernel" --set "vm.initrd=/tmp/ufiles/l3-initrd.gz")
	# as udev leaves it on a real host: /dev/kvm for the kvm group (this guest has no udev rules)
	groupadd -f kvm && chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
	id ann >/dev/null 2>&1 || useradd -m -u "$RUNAS_UID" -G kvm ann
	check "user ann ($RUNAS_UID) made, in the kvm group (for /dev/kvm), no other" \
		test "$(id -u ann 2>/dev/null) $(id -Gn ann 2>/dev/null)" = "$RUNAS_UID ann kvm"
	runas_files
	run_tool /tmp/up-runas-group.out vfio-vm up "$VFK_REPO/configs/demo.ini" --backend qemu "${set[@]}" \
		--set vfio.backend=group --run-as ann
	rc=$?
	check "$l: on the group backend refused in one line naming iommufd, exit non-zero, no record" \
		eval "[ $rc != 0 ] && [ \$(grep -c . /tmp/up-runas-group.out.err) = 1 ] && grep -q 'backend = iommufd' /tmp/up-runas-group.out.err && [ ! -e /run/vfiokit/vms/demo ]"
	expect "$l: the refusal bound nothing ($GPU on its native driver)" "$(drv "$GPU")" bochs-drm
	before=$(node_modes)
	run_tool /tmp/up-runas.out vfio-vm up "$VFK_REPO/configs/demo.ini" --backend qemu "${set[@]}" \
		--set vfio.backend=iommufd --set "vm.cmdline=console=ttyS0 panic=-1 vfk_hold=1" \
		--console-log "$log" --run-as ann
	rc=$?
	expect "$l: up exit status" "$rc" 0
	for ((t = 0; rc == 0 && t < 1500; t++)); do grep -q -a "L3 done" "$log" 2>/dev/null && break; sleep 0.2; done
	pid=$(sed -n 's/^pid=//p' /run/vfiokit/vms/demo 2>/dev/null)
	check "$l: inner kernel lists the passed-through VGA 1234:1111" grep -q -a 'L3 pci 0x1234:0x1111 class 0x0300' "$log"
	check "$l: every thread of QEMU ${pid:-?} runs as ann ($RUNAS_UID), real, effective, saved and fs" \
		eval "[ -n '$pid' ] && ! grep -h '^Uid:' /proc/$pid/task/*/status | grep -v -q -x 'Uid:.$RUNAS_UID.$RUNAS_UID.$RUNAS_UID.$RUNAS_UID'"
	info "$l: QEMU's $(grep 'Max locked memory' "/proc/${pid:-0}/limits" 2>/dev/null | tr -s ' ')"
	check "$l: QEMU's memlock limit is set from root's side: soft = hard, finite, at least the inner VM's 256 MiB" \
		eval "awk '/Max locked memory/ { exit !(\$4 == \$5 && \$4 ~ /^[0-9]+\$/ && \$4 >= 256 * 1048576) }' /proc/${pid:-0}/limits"
	fd_targets "${pid:-0}" > /tmp/qemu-fds.txt
	CV=$(cdev_of "$GPU")
	check "$l: ann's QEMU holds /dev/iommu and the card's cdev ${CV:-none}, opened and passed by root" \
		eval "[ -n '$CV' ] && fd_has /tmp/qemu-fds.txt /dev/iommu && fd_has /tmp/qemu-fds.txt /dev/vfio/devices/$CV"
	info "$l: nodes while ann's VM runs: $(node_modes | tr '\n' ' ')"
	check "$l: no device node became ann's (/dev/iommu as before up; cdevs and group node root's)" \
		eval "[ \"\$(node_modes | grep '^/dev/iommu ')\" = \"\$(echo \"\$before\" | grep '^/dev/iommu ')\" ] && ! node_modes | grep -q ' $RUNAS_UID:'"
	check "$l: status says QEMU runs as ann" eval "'$VFK_BIN/vfio-vm' status demo | grep -q 'runs as user ann'"
	grep -q -a "L3 done" "$log" || tail -n 15 "$log" 2>/dev/null | sed 's/^/  l3 console: /'
	run_tool /tmp/down-runas.out vfio-vm down demo --timeout 5
	expect "$l: down exit status" "$?" 0
	restored_checks "$l: after down" "$G" "$GPU=bochs-drm" "$HDA=snd_hda_intel"
}

# Passthrough with root only for the host step, the iommufd way (issue 23, point 2): root
# binds the card for ann by descriptor (vfio-bind bind --for-user ann --via-fds: no node
# changes owner) and runs the descriptor service (this guest has no systemd: vfio-bind
# pass-fds --listen, as vfiokit-fds.socket would run it). ann's OWN vfio-vm (user mode,
# no root in its process tree) asks the service for /dev/iommu and the cdevs and gives
# the card to the inner VM; bob's is refused in one line by the service; root's restore
# ends the grant.
as_user() { # USER CMD...: as USER (setpriv, no PAM), their runtime directory, 2 GiB memlock
	local uid
	uid=$(id -u "$1")
	shift
	timeout -k 10 300 prlimit --memlock=2147483648:2147483648 setpriv --reuid="$uid" \
		--regid="$uid" --init-groups env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/tmp/ufiles LC_ALL=C XDG_RUNTIME_DIR="/run/user/$uid" "$@"
}
vfio_vm_user_fds() {
	local l="ann's own vfio-vm, the card by descriptor" pid log=/tmp/ufiles/l3-fds.log t rc
	local before spid sock=/run/vfiokit-fds.sock u
	local -a set=(--set "gpu.device=$GPU" --set "vm.emulator=/tmp/ufiles/qemu-next"
		--set "vm.kernel=/tmp/ufiles/l3-kernel" --set "vm.initrd=/tmp/ufiles/l3-initrd.gz"
		--set "vm.cmdline=console=ttyS0 panic=-1 vfk_hold=1")
	id bob >/dev/null 2>&1 || useradd -m -u $((RUNAS_UID + 1)) -G kvm bob
	for u in ann bob; do install -d -m 700 -o "$u" -g "$u" "/run/user/$(id -u "$u")"; done
	install -m 755 "$VFK_BIN/vfio-vm" /tmp/ufiles/vfio-vm
	install -m 644 "$VFK_REPO/configs/demo.ini" /tmp/ufiles/demo.ini
	chmod 1777 /tmp/ufiles
	before=$(node_modes)
	run_tool /tmp/bind-fds.out vfio-bind bind --gpu "$GPU" --for-user ann --via-fds
	expect "$l: root's vfio-bind bind --for-user ann --via-fds exit status" "$?" 0
	info "$l: nodes after the bind: $(node_modes | tr '\n' ' ')"
	check "$l: the bind gave ann no node (/dev/iommu as before, the group node and cdevs root's)" \
		eval "[ \"\$(node_modes | grep '^/dev/iommu ')\" = \"\$(echo \"\$before\" | grep '^/dev/iommu ')\" ] && ! node_modes | grep -q ' $RUNAS_UID:' && node_modes | grep -q '^/dev/vfio/$G 0:0 600\$'"
	check "$l: the journal holds ann's grant by descriptor" grep -q "user=$RUNAS_UID:.* fds=$G" /run/vfiokit/journal
	"$VFK_BIN/vfio-bind" pass-fds --listen "$sock" > /tmp/pass-fds.log 2>&1 &
	spid=$!
	for ((t = 0; t < 50; t++)); do [ -S "$sock" ] && break; sleep 0.1; done
	check "$l: root's service listens at $sock, for anyone (mode 666)" eval "[ -S $sock ] && [ \$(stat -c %a $sock) = 666 ]"
	as_user ann /tmp/ufiles/vfio-vm plan /tmp/ufiles/demo.ini "${set[@]}" > /tmp/plan-fds.out 2>&1
	# the plan's text is wrapped: its words are compared, not its lines
	check "$l: ann's plan takes the card as descriptors from root's service" \
		eval "tr -s ' \n' '  ' < /tmp/plan-fds.out | grep -q \"descriptors from root's service\""
	tr -s ' \n' '  ' < /tmp/plan-fds.out | grep -q "descriptors from root's service" ||
		sed 's/^/  plan: /' /tmp/plan-fds.out | head -n 40
	as_user ann /tmp/ufiles/vfio-vm up /tmp/ufiles/demo.ini --backend qemu "${set[@]}" \
		--console-log "$log" > /tmp/up-fds.out 2>&1
	rc=$?
	expect "$l: ann's up exit status" "$rc" 0
	[ "$rc" = 0 ] || sed 's/^/  up: /' /tmp/up-fds.out | tail -n 5
	for ((t = 0; rc == 0 && t < 1500; t++)); do grep -q -a "L3 done" "$log" 2>/dev/null && break; sleep 0.2; done
	pid=$(sed -n 's/^pid=//p' "/run/user/$RUNAS_UID/vfiokit/vms/demo" 2>/dev/null)
	check "$l: inner kernel lists the passed-through VGA 1234:1111" grep -q -a 'L3 pci 0x1234:0x1111 class 0x0300' "$log"
	check "$l: every thread of QEMU ${pid:-?} runs as ann, started by ann's own vfio-vm" \
		eval "[ -n '$pid' ] && ! grep -h '^Uid:' /proc/$pid/task/*/status | grep -v -q -x 'Uid:.$RUNAS_UID.$RUNAS_UID.$RUNAS_UID.$RUNAS_UID'"
	fd_targets "${pid:-0}" > /tmp/qemu-fds.txt
	CV=$(cdev_of "$GPU") CH=$(cdev_of "$HDA")
	check "$l: ann's QEMU holds /dev/iommu and both cdevs (${CV:-none}, ${CH:-none}) from root's service" \
		eval "[ -n '$CV' ] && fd_has /tmp/qemu-fds.txt /dev/iommu && fd_has /tmp/qemu-fds.txt /dev/vfio/devices/$CV && fd_has /tmp/qemu-fds.txt /dev/vfio/devices/$CH"
	check "$l: no device node is ann's while her VM has the card" eval "! node_modes | grep -q ' $RUNAS_UID:'"
	check "$l: the service logged the hand-over to uid $RUNAS_UID" grep -q "uid $RUNAS_UID .*2 device" /tmp/pass-fds.log
	as_user bob /tmp/ufiles/vfio-vm up /tmp/ufiles/demo.ini --backend qemu "${set[@]}" \
		--set vm.name=bobs > /tmp/up-bob.out 2>&1
	rc=$?
	check "$l: bob's up refused by the service in one line naming the grant, exit non-zero" \
		eval "[ $rc != 0 ] && grep -q \"descriptor service refused: .*not granted to uid $((RUNAS_UID + 1))\" /tmp/up-bob.out"
	check "$l: bob has no VM record" test ! -e "/run/user/$((RUNAS_UID + 1))/vfiokit/vms/bobs"
	as_user ann /tmp/ufiles/vfio-vm down demo --timeout 5 > /tmp/down-fds.out 2>&1
	expect "$l: ann's down exit status" "$?" 0
	expect "$l: ann's down gave nothing back (root's step): $GPU still on vfio-pci" "$(drv "$GPU")" vfio-pci
	run_tool /tmp/restore-fds.out vfio-bind restore --all
	expect "$l: root's restore exit status" "$?" 0
	restored_checks "$l: after root's restore" "$G" "$GPU=bochs-drm" "$HDA=snd_hda_intel"
	check "$l: after restore no node's owner or mode differs from before the bind" \
		test "$(node_modes | grep -v '/dev/vfio/devices/')" = "$(echo "$before" | grep -v '/dev/vfio/devices/')"
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
}

# Back to the native drivers: the cdevs go with vfio-pci.
card_back() {
	raw_restore "$GPU" "$HDA"
	restored_checks "raw restore" "$G" "$GPU=bochs-drm" "$HDA=snd_hda_intel"
	check "raw restore: $GPU and $HDA have no VFIO cdev left" test -z "$(cdev_of "$GPU")$(cdev_of "$HDA")"
	check "raw restore: /dev/vfio/devices/$CV and $CH gone" \
		test ! -e "/dev/vfio/devices/$CV" -a ! -e "/dev/vfio/devices/$CH"
}

guest_main() {
	local GPU HDA G CV CH why QEMU_PID L3LOG
	GPU=$(behind_port 0x1234 0x1111) HDA=$(find_dev 0x8086 0x293e)
	G=$(grp "$GPU")
	info "VGA $GPU + HDA $HDA (group $G), kernel $(uname -r)"
	coldplug
	wait_drv "$GPU" bochs-drm 5
	wait_drv "$HDA" snd_hda_intel 5
	expect "native driver of $GPU" "$(drv "$GPU")" bochs-drm
	expect "native driver of $HDA" "$(drv "$HDA")" snd_hda_intel

	iommufd_checks
	if [ ! -c /dev/iommu ] || [ ! -x "${VFK_QEMU_NEXT:-/nonexistent}" ]; then
		fail "no iommufd or no QEMU for it: the inner VMs are not run"
		return
	fi
	why=$(nested_kvm)
	case $? in
	0) pass "nested KVM: /dev/kvm present in the guest" ;;
	2) skip "inner VMs through iommufd: $why"; return ;;
	*) fail "nested KVM in the guest: $why"; return ;;
	esac

	card_to_vfio
	if [ -z "$CV" ] || [ -z "$CH" ]; then
		fail "no VFIO cdev for the card: the inner VMs are not run"
	else
		inner_by_path
		inner_by_fds
	fi
	card_back
	if [ -n "$(tool vfio-vm)" ]; then
		vfio_vm_iommufd iommufd
		vfio_vm_iommufd auto
		vfio_vm_run_as
		vfio_vm_user_fds
	else
		fail "vfio-vm is not built: the iommufd backend of vfio-vm is not tried"
	fi
	kernel_log_checks
}

# What the kernel said about the modules built for this set (unsigned: they taint it)
# and nothing worse: no WARNING, BUG or oops while iommufd and the cdevs were used.
kernel_log_checks() {
	dmesg | grep -a -E 'iommufd|vfio|taint' | grep -v -e 'Unhandled WRMSR' -e vfk_env | head -n 8 | sed 's/^/  dmesg: /'
	if dmesg | grep -a -q -E 'WARNING:|BUG:|Oops|Call Trace'; then
		fail "kernel log: a WARNING, BUG or call trace during the scenario"
		dmesg | grep -a -E -A 12 'WARNING:|BUG:|Oops' | head -n 40 | sed 's/^/  dmesg: /'
	else
		pass "kernel log: no WARNING, BUG or call trace during the scenario"
	fi
}
