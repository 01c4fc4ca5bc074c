# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034  # SCEN_* are read by tests/vm/lib.sh
# Scenario 75: passthrough with root only for the host step (issue 23, points 2-4).
# Root binds the GPU-like card with `vfio-bind bind --for-user ann`, which gives the
# group's node /dev/vfio/N to ann (owner, mode 0600) in the same journalled
# transaction. ann, an ordinary user made here (in the kvm group, nothing else), runs
# `vfio-vm up` on the plain QEMU backend: her QEMU (uid ann, no root in the VM's
# process tree) opens the node and gives the card to an inner VM (nested KVM), whose
# kernel lists it. A second user, bob, is refused in one line, as is a second grant
# while ann holds it, and ann's VM with a hard memlock limit too small. `vfio-vm down`
# as ann gives nothing back (root's step); `vfio-bind restore` puts the node's owner
# and mode back exactly as the kernel made them, then the card back on its drivers.
SCEN_DESC="user passthrough: root binds --for-user ann, ann's own QEMU takes the card into a nested VM; bob and a small memlock limit refused; restore puts the node back exactly"
SCEN_TIMEOUT=600
SCEN_MEM=1G

scen_qemu() {
	q_boot_vga
	q_root_port rp1 0x2
	q_gpu gpu0 rp1
}

HOLD="vm.cmdline=console=ttyS0 panic=-1 vfk_hold=1"	# the inner VM stays up
ANN=1500 BOB=1501
U=/tmp/ufiles	# what ann's tools read: the build tree may be root's alone (/root)

# stat_of FILE: "uid:gid mode"
stat_of() { stat -c '%u:%g %a' "$1" 2>/dev/null; }

# as USER [prlimit options] -- CMD...: CMD as USER with their own runtime directory,
# no PAM in between (setpriv), under the memlock limit given, bounded
as() {
	local user=$1 uid lim=()
	shift
	while [ "$1" != -- ]; do lim+=("$1"); shift; done
	shift
	uid=$(id -u "$user")
	[ ${#lim[@]} = 0 ] && lim=(--memlock=unlimited:unlimited)
	timeout -k 10 300 prlimit "${lim[@]}" setpriv --reuid="$uid" --regid="$uid" --init-groups \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="/home/$user" LC_ALL=C \
		XDG_RUNTIME_DIR="/run/user/$uid" "$@"
}

# uvm OUT USER [prlimit options] -- CMD [options]: the user's vfio-vm with ann's copy
# of the demo profile, the card by address, the inner VM's kernel and initramfs
uvm() {
	local out=$1 user=$2 lim=()
	shift 2
	while [ "$1" != -- ]; do lim+=("$1"); shift; done
	shift
	local cmd=$1
	shift
	as "$user" "${lim[@]}" -- "$U/vfio-vm" "$cmd" "$U/demo.ini" --set "gpu.device=$GPU" \
		--set "vm.kernel=$U/vmlinuz" --set "vm.initrd=$U/l3.cpio.gz" "$@" > "$out" 2> "$out.err"
}

# one_line LABEL OUT WANT: OUT.err holds one line (besides ":: step" narration) with WANT
one_line() {
	local msg
	msg=$(grep -v '^:: ' "$2.err")
	expect "$1: one line on stderr" "$(printf '%s\n' "$msg" | grep -c .)" 1
	check "$1: the line says '$3' ($msg)" grep -q -F -- "$3" <<< "$msg"
}

users() {
	local u
	groupadd -f kvm
	useradd -m -u "$ANN" -G kvm ann && useradd -m -u "$BOB" -G kvm bob
	check "users ann ($ANN) and bob ($BOB) made, in the kvm group" test $? = 0
	for u in "$ANN" "$BOB"; do install -d -m 700 -o "$u" -g "$u" "/run/user/$u"; done
	# what udev's rule would do on a real host (the bed runs no udevd)
	chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
	mkdir -p "$U"
	install -m 755 "$VFK_BIN/vfio-vm" "$U/vfio-vm"
	install -m 644 "$VFK_REPO/configs/demo.ini" "$U/demo.ini"
	install -m 644 "$VFK_L3_KERNEL" "$U/vmlinuz"
	install -m 644 "$VFK_L3_INITRD" "$U/l3.cpio.gz"
}

guest_main() {
	local G why before node rc t0 qpid
	GPU=$(behind_port 0x1234 0x1111) HDA=$(find_dev 0x8086 0x293e)
	if [ -z "$GPU" ] || [ -z "$HDA" ]; then
		fail "topology: want the card's VGA and HDA, got '$GPU' '$HDA'"
		return
	fi
	G=$(grp "$GPU") node=/dev/vfio/$G
	info "VGA $GPU + HDA $HDA (group $G)"
	coldplug
	native=("$GPU=bochs-drm" "$HDA=snd_hda_intel")
	for d in "${native[@]}"; do wait_drv "${d%%=*}" "${d#*=}" 5; done
	why=$(nested_kvm)
	case $? in
	0) ;;
	2) skip "user passthrough: $why"; return ;;
	*) fail "nested KVM in the guest: $why"; return ;;
	esac
	users

	# the node as the kernel makes it, seen through a plain bind
	run_tool /tmp/b0.out vfio-bind bind --gpu "$GPU"
	expect "plain bind exit status" "$?" 0
	before=$(stat_of "$node")
	info "$node as the kernel makes it: $before"
	run_tool /tmp/r0.out vfio-bind restore --all
	all_native "${native[@]}"
	check "plain restore: the card native again" test $? = 0

	run_tool /tmp/b1.out vfio-bind bind --gpu "$GPU" --for-user nosuchuser
	expect "bind --for-user nosuchuser: exit status" "$?" 2
	one_line "bind --for-user nosuchuser" /tmp/b1.out "no user 'nosuchuser' on this host"
	check "after the refused bind: the card native, no journal" all_native "${native[@]}"

	run_tool /tmp/b2.out vfio-bind bind --gpu "$GPU" --for-user ann
	expect "bind --for-user ann: exit status" "$?" 0
	bound_checks "bound for ann" "$G" "$GPU" "$HDA"
	expect "$node is ann's, mode 600, group as before" "$(stat_of "$node")" \
		"$ANN:$(echo "$before" | cut -d' ' -f1 | cut -d: -f2) 600"
	run_tool /tmp/st.out vfio-bind status
	check "vfio-bind status says the card is ann's: $(grep -m1 "$GPU" /tmp/st.out)" \
		grep -q "$GPU .*for user ann (uid $ANN): $node" /tmp/st.out
	run_tool /tmp/b3.out vfio-bind bind --gpu "$GPU" --for-user bob
	expect "a second grant (bob) while ann holds the card: exit status" "$?" 1
	one_line "a second grant" /tmp/b3.out "already held"
	expect "after the second grant: $node still ann's" "$(stat_of "$node" | cut -d' ' -f1)" \
		"$ANN:$(echo "$before" | cut -d' ' -f1 | cut -d: -f2)"

	# bob cannot have it
	uvm /tmp/bob.out bob --memlock=unlimited:unlimited -- up --backend qemu
	expect "bob's vfio-vm up of the card: exit status" "$?" 1
	one_line "bob's up" /tmp/bob.out "$GPU (group $G) is not granted to bob: its node belongs to uid $ANN"
	check "bob's up made no VM" test ! -e "/run/user/$BOB/vfiokit/vms/demo"

	# ann, with a hard memlock limit below what VFIO pins
	uvm /tmp/small.out ann --memlock=65536:65536 -- up --backend qemu
	expect "ann's up under a 64 KiB memlock limit: exit status" "$?" 1
	one_line "ann's up under a 64 KiB memlock limit" /tmp/small.out \
		"which only root raises: root adds /etc/security/limits.d/vfiokit-ann.conf"

	# ann's VM, her QEMU, the card in the inner VM
	t0=$(ts)
	uvm /tmp/up.out ann --memlock=unlimited:unlimited -- up --backend qemu --set "$HOLD" \
		--console-log "/run/user/$ANN/l3.log"
	rc=$?
	info "ann's vfio-vm up exit $rc after $(since "$t0") s"
	sed 's/^/  vfio-vm: /' /tmp/up.out | head -n 20
	[ -s /tmp/up.out.err ] && sed 's/^/  vfio-vm stderr: /' /tmp/up.out.err | head -n 10
	expect "ann's vfio-vm up --backend qemu with the card: exit status" "$rc" 0
	qpid=$(sed -n 's/^pid=//p' "/run/user/$ANN/vfiokit/vms/demo" 2>/dev/null)
	expect "the VM's QEMU runs as ann" "$(ps -o uid= -p "$qpid" 2>/dev/null | tr -d ' ')" "$ANN"
	check "no root in the VM's process tree (QEMU $qpid and its threads' owners: $(ps -L -o uid= -p "$qpid" 2>/dev/null | sort -u | tr -d ' \n'))" \
		test -n "$qpid" -a -z "$(ps -L -o uid= -p "$qpid" 2>/dev/null | tr -d ' ' | grep -vx "$ANN")"
	check "ann's QEMU holds $node open" sh -c "ls -l /proc/$qpid/fd 2>/dev/null | grep -q ' $node\$'"
	for ((t = 0; t < 900; t++)); do grep -q -a "L3 done" "/run/user/$ANN/l3.log" 2>/dev/null && break; sleep 0.2; done
	grep -a '^L3' "/run/user/$ANN/l3.log" 2>/dev/null | sed 's/^/  /'
	check "the inner VM's kernel lists the VGA 1234:1111" \
		grep -q -a 'L3 pci 0x1234:0x1111 class 0x0300' "/run/user/$ANN/l3.log"
	as ann -- "$U/vfio-vm" status > /tmp/ust.out 2>&1
	check "ann's vfio-vm status lists demo running: $(head -n1 /tmp/ust.out)" grep -q "demo" /tmp/ust.out
	as ann -- "$U/vfio-vm" down demo --timeout 5 > /tmp/down.out 2>&1
	expect "ann's vfio-vm down exit status" "$?" 0
	check "after ann's down: her QEMU is gone" test ! -d "/proc/$qpid"
	expect "after ann's down: the card stays on vfio-pci (giving it back is root's)" "$(drv "$GPU")" vfio-pci
	expect "after ann's down: $node still ann's" "$(stat_of "$node" | cut -d' ' -f1)" \
		"$ANN:$(echo "$before" | cut -d' ' -f1 | cut -d: -f2)"

	# root takes it back: one function first (the node stays), then the rest
	run_tool /tmp/r1.out vfio-bind restore "$HDA"
	expect "restore of $HDA: exit status" "$?" 0
	expect "with $GPU still on vfio-pci, $node is back as the kernel made it, exactly" \
		"$(stat_of "$node")" "$before"
	run_tool /tmp/r2.out vfio-bind restore --all
	expect "restore --all: exit status" "$?" 0
	restored_checks "after restore" "$G" "${native[@]}"
	uvm /tmp/bob2.out ann --memlock=unlimited:unlimited -- plan
	check "after restore, ann's plan says up refuses it: the card is on bochs-drm" \
		grep -q "up refuses it: .*$GPU (group $G) is not bound for you: it is on bochs-drm" /tmp/bob2.out
	leave_restored demo "${native[@]}"
}
