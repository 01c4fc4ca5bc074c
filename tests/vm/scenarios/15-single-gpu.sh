# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034  # SCEN_* are read by tests/vm/lib.sh
# Scenario: single-GPU passthrough of the host's only display. A real systemd manager
# runs a display manager (a unit that display-manager.service points at) and the boot
# VGA drives the framebuffer console. `vfio-bind bind --single-gpu` must stop the
# display manager through systemd's D-Bus API, release the virtual console, bind, and
# `vfio-bind restore` give everything back in reverse order; killed at any write or
# D-Bus message of the bind, `restore --all` must still bring all of it back.
#
# The guest's PID 1 is the test bed's init, not systemd, so the manager is systemd's
# per-user instance (the same program and the same org.freedesktop.systemd1 API)
# registered on a bus listening at /run/dbus/system_bus_socket, where vfiokit looks.
SCEN_DESC="single-GPU: display manager stopped through systemd, console released, all given back in reverse order, also after kill -9"
SCEN_TIMEOUT=420
SCEN_MEM=1G

scen_qemu() {
	q_boot_vga
}

DM=vfk-dm.service

uctl() { SYSTEMD_IGNORE_CHROOT=1 XDG_RUNTIME_DIR=/run/user/0 timeout 30 systemctl --user "$@"; }
dm_state() { uctl is-active "$DM" 2>/dev/null; }
vt_bound() { cat "/sys/class/vtconsole/$VT/bind"; }
# Is org.freedesktop.systemd1 on the bus at /run/dbus/system_bus_socket?
on_bus() {
	timeout 10 busctl --address=unix:path=/run/dbus/system_bus_socket list --no-pager 2>/dev/null |
		grep -q '^org.freedesktop.systemd1 '
}

# systemd's manager with a display manager unit that display-manager.service stands
# for, started; its bus (dbus-user-session's dbus.socket, at /run/user/0/bus) mounted
# where vfiokit expects the system bus.
start_systemd() {
	local t
	grep -q cgroup2 /proc/mounts || mount -t cgroup2 none /sys/fs/cgroup
	mkdir -p /run/dbus /run/user/0 /run/systemd/system /etc/systemd/user
	chmod 700 /run/user/0
	cat > "/etc/systemd/user/$DM" <<-EOF
	[Unit]
	Description=a display manager stand-in: holds the DRM device open as a display server does
	[Service]
	ExecStart=/bin/sh -c 'exec 3<>/dev/dri/card0; exec sleep 100000'
	EOF
	ln -sf "$DM" /etc/systemd/user/display-manager.service
	XDG_RUNTIME_DIR=/run/user/0 setsid /lib/systemd/systemd --user > /tmp/systemd.log 2>&1 < /dev/null &
	for ((t = 0; t < 100; t++)); do
		[ -S /run/user/0/bus ] && case $(uctl is-system-running 2>/dev/null) in
			running|degraded) break ;; esac
		sleep 0.2
	done
	touch /run/dbus/system_bus_socket
	mount --bind /run/user/0/bus /run/dbus/system_bus_socket || return 1
	uctl start dbus.service	# the manager joins the bus once its daemon runs
	for ((t = 0; t < 100; t++)); do on_bus && break; sleep 0.2; done
	uctl start "$DM"
}

guest_main() {
	local BOOT=0000:00:01.0 G VB rc k st
	coldplug
	wait_drv "$BOOT" bochs-drm 5
	expect "the only GPU $BOOT is on" "$(drv "$BOOT")" bochs-drm
	G=$(grp "$BOOT")
	VB=$(tool vfio-bind)
	if [ -z "$VB" ]; then
		fail "single-GPU needs vfio-bind (not built)"
		return
	fi
	VT=$(grep -l "frame buffer" /sys/class/vtconsole/*/name 2>/dev/null | head -n 1)
	VT=$(basename "$(dirname "$VT")")
	check "the framebuffer console ($VT) is bound to the GPU's framebuffer" test "$(vt_bound)" = 1
	vts() { local v; for v in /sys/class/vtconsole/*; do printf '%s[%s]=%s ' "${v##*/}" "$(cat "$v/name")" "$(cat "$v/bind")"; done; }
	info "vtconsoles: $(vts)"
	start_systemd
	check "systemd's manager is on the bus (org.freedesktop.systemd1)" on_bus
	check "systemd runs the display manager (display-manager.service -> $DM)" \
		test "$(dm_state)" = active
	[ "$(dm_state)" = active ] || { sed 's/^/  systemd: /' /tmp/systemd.log | tail -n 15; return; }

	run_tool /tmp/refuse.out vfio-bind bind --gpu "$BOOT"
	expect "without --single-gpu the host's only GPU is refused (exit 1)" "$?" 1
	expect "after the refusal the display manager still runs" "$(dm_state)" active

	run_tool /tmp/single.out vfio-bind bind --single-gpu --gpu "$BOOT"
	expect "vfio-bind bind --single-gpu exit status" "$?" 0
	sed 's/^/  bind: /' /tmp/single.out
	expect "the display manager was stopped through systemd" "$(dm_state)" inactive
	# fbcon removes the console once the framebuffer under it is gone
	check "the virtual console $VT was released before the bind (then gone with the framebuffer)" \
		eval "grep -q 'releasing virtual console $VT' /tmp/single.out && test \"\$(vt_bound 2>/dev/null)\" != 1"
	bound_checks "bind --single-gpu" "$G" "$BOOT"
	check "the record names the GPU, then the display manager, then the console" \
		test "$(cut -d' ' -f1 /run/vfiokit/consoles | tr '\n' ' ')" = "gpu unit vtcon "

	run_tool /tmp/restore.out vfio-bind restore --all
	expect "vfio-bind restore --all exit status" "$?" 0
	sed 's/^/  restore: /' /tmp/restore.out
	restored_checks "after restore" "$G" "$BOOT=bochs-drm"
	expect "after restore the console $VT is bound again" "$(vt_bound)" 1
	expect "after restore the display manager runs again" "$(dm_state)" active
	check "restore gave back the console before starting the display manager" \
		awk '/re-attaching virtual console/ {c = NR} /starting the display manager/ {d = NR}
		     END {exit !(c && d && c < d)}' /tmp/restore.out
	check "the console record is empty after restore" test ! -s /run/vfiokit/consoles

	# kill -9 before each write(2) or D-Bus message of the bind in turn
	local bad=0 done=0
	for ((k = 1; k <= 40; k++)); do
		( strace -qq -f -o /dev/null -e trace=write,writev,pwrite64,sendmsg \
			-e inject=write,writev,pwrite64,sendmsg:signal=KILL:when=$k \
			"$VB" bind --single-gpu --gpu "$BOOT" > /tmp/kill.out 2>&1 ) 2> /dev/null
		rc=$?
		st="GPU=$(drv "$BOOT") dm=$(dm_state) $VT=$(vt_bound 2>/dev/null)"
		[ $rc -ne 137 ] && done=1
		"$VB" restore --all > /tmp/krestore.out 2>&1
		info "kill point $k: rc $rc, state $st, restore rc $?, consoles: $(vts)"
		wait_drv "$BOOT" bochs-drm 5
		if [ "$(drv "$BOOT")" != bochs-drm ] || [ "$(dm_state)" != active ] ||
		   [ "$(vt_bound)" != 1 ] || [ -n "$(ovr "$BOOT")" ]; then
			bad=$((bad + 1))
			fail "kill -9 at write/message #$k of bind --single-gpu ($st), then restore --all: GPU=$(drv "$BOOT") dm=$(dm_state) $VT=$(vt_bound)"
			sed 's/^/  restore: /' /tmp/krestore.out | head -n 8
			uctl start "$DM"
			[ "$(vt_bound)" = 1 ] || echo 1 > "/sys/class/vtconsole/$VT/bind"
		fi
		[ $done = 1 ] && break
	done
	if [ $done = 0 ]; then
		fail "kill -9: bind --single-gpu still wrote after 40 kill points"
	elif [ $bad = 0 ]; then
		pass "kill -9 at each of the $((k - 1)) writes and D-Bus messages of bind --single-gpu, then restore --all: GPU, console and display manager back every time"
	fi
}
