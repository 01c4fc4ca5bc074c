# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034  # SCEN_* are read by tests/vm/lib.sh
# Scenario 3: the boot-time hook. With the project's udev rule installed and the GPU
# persisted (vfio-bind persist), a coldplug (systemd-udevd + udevadm trigger, as at
# boot) must put the GPU on vfio-pci before any native driver holds it, while other
# devices get their native drivers. Here the GPU is the only display (and the boot VGA):
# the single-GPU host, where binding at boot is the way to keep the console off it.
SCEN_DESC="boot hook: project udev rule + vfio-bind persist -> GPU on vfio-pci at coldplug"
SCEN_TIMEOUT=240
SCEN_MEM=1G

scen_qemu() {
	q_root_port rp1 0x2
	q_gpu gpu0 rp1
	q_root_port rp2 0x3
	q_nic e1000e nic0 rp2
}

# Install the project into the guest's (tmpfs overlay) root, as a packager would:
# `make install` when it installs the udev rule (-o all: the guest never compiles), else
# tools and rules (@BINDIR@ filled in) copied by hand.
install_project() {
	local rc=1 f
	if make -s -C "$VFK_REPO" -n -o all install PREFIX=/usr/local 2>/dev/null | grep -q 'rules'; then
		info "installing with: make -C $VFK_REPO -o all install PREFIX=/usr/local"
		make -s -C "$VFK_REPO" -o all install PREFIX=/usr/local > /tmp/install.out 2>&1
		rc=$?
		sed 's/^/  install: /' /tmp/install.out | tail -n 10
		if [ $rc = 0 ]; then
			pass "make install (prefix /usr/local)"
		elif ! make -s -C "$VFK_REPO" -q all 2>/dev/null; then
			skip "make install: the build tree is older than its sources (run make first); installing by hand"
		else
			fail "make install (prefix /usr/local) exit status $rc on an up-to-date build tree"
		fi
	else
		info "make install does not install udev rules: installing by hand"
	fi
	if [ $rc != 0 ]; then
		mkdir -p /usr/local/bin /etc/udev/rules.d
		cp "$VFK_BIN"/* /usr/local/bin/
		for f in "$VFK_REPO"/udev/*.rules; do
			sed 's|@BINDIR@|/usr/local/bin|g' "$f" > "/etc/udev/rules.d/$(basename "$f")"
		done
	fi
	grep -l vfio /etc/udev/rules.d/*.rules /usr/lib/udev/rules.d/*.rules 2>/dev/null | sed 's/^/  installed rule: /'
}

guest_main() {
	local rules GPU HDA NIC G VB
	rules=$(ls "$VFK_REPO"/udev/*.rules 2>/dev/null)
	if [ -z "$rules" ]; then
		skip "boot hook: $VFK_REPO/udev/ has no *.rules yet (comes with the binding issue)"
		return
	fi
	VB=$(tool vfio-bind)
	if [ -z "$VB" ]; then
		skip "boot hook: vfio-bind not built yet (needed for 'vfio-bind persist')"
		return
	fi
	GPU=$(find_dev 0x1234 0x1111) HDA=$(find_dev 0x8086 0x293e) NIC=$(find_dev 0x8086 0x10d3)
	G=$(grp "$GPU")
	info "VGA $GPU + HDA $HDA (group $G), NIC $NIC; rules: $(echo $rules | xargs -n1 basename | tr '\n' ' ')"
	expect "before coldplug no driver holds the VGA" "$(drv "$GPU")" none

	install_project
	# both functions: the group goes to vfio-pci whole or it is not viable
	run_tool /tmp/persist.out vfio-bind persist "$GPU" "$HDA"
	expect "vfio-bind persist $GPU $HDA exit status" "$?" 0
	sed 's/^/  persist: /' /tmp/persist.out | head -n 5
	[ -r /etc/vfiokit/vfio-bind.conf ] && sed 's/^/  vfio-bind.conf: /' /etc/vfiokit/vfio-bind.conf
	expect "persisting does not bind anything yet" "$(drv "$GPU")" none

	# coldplug as systemd does at boot; udevadm ignores requests in a chroot without this
	export SYSTEMD_IGNORE_CHROOT=1
	udevadm monitor --kernel --property --subsystem-match=pci > /tmp/uevents.log 2>&1 &
	local mon=$!
	dmesg_mark
	/lib/systemd/systemd-udevd --daemon --resolve-names=never
	check "systemd-udevd answers" udevadm control --ping
	udevadm trigger --action=add --type=subsystems
	udevadm trigger --action=add --type=devices
	udevadm settle -t 60
	info "udev settled at $(ts)s"
	sleep 1
	kill "$mon" 2>/dev/null

	wait_drv "$GPU" vfio-pci 5
	expect "after coldplug the persisted VGA $GPU is on vfio-pci" "$(drv "$GPU")" vfio-pci
	expect "after coldplug its audio function $HDA is on vfio-pci (group $G must be viable)" "$(drv "$HDA")" vfio-pci
	check "/dev/vfio/$G exists" test -c "/dev/vfio/$G"
	check "VFIO group $G viable, device fd for $GPU obtained" group_status "$G" "$GPU"
	wait_drv "$NIC" e1000e 5
	expect "the NIC $NIC, not persisted, got its native driver e1000e" "$(drv "$NIC")" e1000e
	# every kernel "bind" uevent for the GPU's functions names vfio-pci: no native
	# driver held them first
	local binds
	binds=$(awk -v a="$GPU" -v b="$HDA" '
		/^KERNEL\[/ { act = $2; dev = substr($3, length($3) - 11) }
		/^DRIVER=/ && act == "bind" && (dev == a || dev == b) { print substr($0, 8) }
	' /tmp/uevents.log | sort -u | tr '\n' ' ')
	info "drivers in the bind uevents of $GPU and $HDA: ${binds:-none}"
	expect "no native driver bound the GPU's functions before vfio-pci (bind uevents)" "$binds" "vfio-pci "
	dmesg_since 15
	udevadm control --exit
}
