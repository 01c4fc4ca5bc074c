# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by run.sh: a normal user's VM (issue 23, points 1 and 4). The suite's own
# ordinary user (run.sh makes it: LUSER, uid LUID, login group LGID, in no other
# group, so no /dev/kvm: TCG) runs vfio-vm on the running host with a
# runtime directory of its own: plan says user mode, up (qemu backend)
# starts QEMU as the user, its records stay in the user's directory and none
# in /run/vfiokit, status and down work; the same VM through a real session
# libvirtd (libvirt's client starts it for the user), whose QEMU is the user's
# too; and a VM with host devices or
# without XDG_RUNTIME_DIR is refused in one line (a QEMU that ended may stay
# a zombie where PID 1 does not reap: gone counts). Needs from run.sh: WORK,
# BIN, profile, wait_console, pass, fail, skip.

RL_UID=$LUID RL_GID=$LGID
RL_XDG=$WORK/rl-xdg
# the user's copy of the tool (it carries the library): the build tree may be
# where the user cannot go (below /root in the fresh-root CI)
RL_BIN=$WORK/rl-bin
mkdir -p "$RL_BIN" && cp "$BIN/vfio-vm" "$RL_BIN/" && chmod 755 "$RL_BIN" "$RL_BIN/vfio-vm"
rl_run() {	# vfio-vm ARGS as the user, bounded
	timeout -k 5 "${VFK_TOOL_TIMEOUT:-300}" setpriv --reuid=$RL_UID --regid=$RL_GID \
		--clear-groups env -i PATH=/usr/bin:/bin XDG_RUNTIME_DIR="$RL_XDG" \
		XDG_STATE_HOME="$RL_XDG/state" HOME="$RL_XDG/home" "$RL_BIN/vfio-vm" "$@"
}
rl_virsh() {	# virsh ARGS on the user's session libvirtd
	timeout -k 5 60 setpriv --reuid=$RL_UID --regid=$RL_GID --clear-groups env -i \
		PATH=/usr/bin:/bin XDG_RUNTIME_DIR="$RL_XDG" HOME="$RL_XDG/home" \
		virsh -q -c qemu:///session "$@"
}

# The virtio-gpu VM through session libvirt: a libvirtd of the user's, started by
# libvirt's client on first use, runs QEMU as the user; down keeps the domain
rl_session() {
	local log=$RL_XDG/rl-session.console pid
	if ! rl_run up "$prof" --backend libvirt --console-log "$log" -q >"$WORK/rl.out" 2>&1; then
		fail "rootless session libvirt up: $(tr '\n' '|' < "$WORK/rl.out")"
		return
	fi
	wait_console "$log" "saw GPU 0x1af4:0x1050" \
		&& pass "rootless: the user's virtio-gpu VM boots through session libvirt (qemu:///session)" \
		|| fail "rootless session: no GPU line; console: $(tail -n 3 "$log" 2>/dev/null | tr '\n' '|')"
	pid=$(cat "$RL_XDG/libvirt/qemu/run/vfk-launch-rl.pid" 2>/dev/null)
	[ -n "$pid" ] && [ "$(stat -c %u "/proc/$pid" 2>/dev/null)" = $RL_UID ] \
		&& [ -n "$(pgrep -u $RL_UID -x libvirtd)" ] && [ -z "$(pgrep -u 0 -f 'libvirtd.*--timeout')" ] \
		&& pass "rootless: the session's libvirtd and its QEMU (pid $pid) run as uid $RL_UID, no root in the VM's process tree" \
		|| fail "rootless session: QEMU pid '$pid' uid $(stat -c %u "/proc/$pid" 2>&1); libvirtd: $(pgrep -a -f 'libvirtd.*--timeout' | tr '\n' '|')"
	rl_run status | grep -q "vfk-launch-rl: running (libvirt qemu:///session)" \
		&& pass "rootless: status lists the session VM running on qemu:///session" \
		|| fail "rootless session status: $(rl_run status 2>&1 | tr '\n' '|')"
	rl_run down vfk-launch-rl --timeout 5 -q \
		&& [ "$(rl_virsh domstate vfk-launch-rl 2>&1 | head -n 1)" = "shut off" ] \
		&& [ ! -e "$RL_XDG/vfiokit/vms/vfk-launch-rl" ] \
		&& pass "rootless: down stops the session domain (kept, shut off) and drops the user's record" \
		|| fail "rootless session down: $(rl_virsh domstate vfk-launch-rl 2>&1 | tr '\n' '|')"
	rl_virsh undefine vfk-launch-rl --nvram >/dev/null 2>&1
}

if ! command -v setpriv >/dev/null || ! setpriv --reuid=$RL_UID --regid=$RL_GID --clear-groups \
	test -x "$RL_BIN/vfio-vm"; then
	fail "rootless: the user cannot run $RL_BIN/vfio-vm (setpriv is util-linux's; $WORK is 0755)"
else
	rm -rf "$RL_XDG"
	mkdir -m 700 "$RL_XDG" && chown $RL_UID:$RL_GID "$RL_XDG"
	prof=$(profile vfk-launch-rl 1)
	chmod 644 "$prof"
	rl_log=$RL_XDG/rl.console	# written by the user's QEMU
	rl_run plan "$prof" >"$WORK/rl.out" 2>&1
	grep -q "Runs in user mode: state in $RL_XDG/vfiokit and $RL_XDG/state/vfiokit, libvirt qemu:///session: not root (uid $RL_UID)" "$WORK/rl.out" \
		&& pass "rootless: plan as a normal user says user mode, where, and why" \
		|| fail "rootless plan: $(tail -n 3 "$WORK/rl.out" | tr '\n' '|')"
	if rl_run up "$prof" --backend qemu --console-log "$rl_log" -q >"$WORK/rl.out" 2>&1; then
		wait_console "$rl_log" "saw GPU 0x1af4:0x1050" \
			&& pass "rootless: the user's virtio-gpu VM boots (qemu backend, no root)" \
			|| fail "rootless: no GPU line; console: $(tail -n 3 "$rl_log" 2>/dev/null | tr '\n' '|')"
		pid=$(sed -n 's/^pid=//p' "$RL_XDG/vfiokit/vms/vfk-launch-rl" 2>/dev/null)
		[ -n "$pid" ] && [ "$(stat -c %u "/proc/$pid" 2>/dev/null)" = $RL_UID ] \
			&& [ ! -e /run/vfiokit/vms/vfk-launch-rl ] \
			&& [ "$(stat -c %a "$RL_XDG/vfiokit")" = 700 ] \
			&& pass "rootless: QEMU runs as uid $RL_UID; its record is in \$XDG_RUNTIME_DIR/vfiokit (0700), none in /run/vfiokit" \
			|| fail "rootless: QEMU pid '$pid' uid $(stat -c %u "/proc/$pid" 2>&1); $(ls -ld "$RL_XDG/vfiokit" /run/vfiokit/vms/vfk-launch-rl 2>&1 | tr '\n' '|')"
		rl_run status | grep -q "vfk-launch-rl: running (qemu)" \
			&& pass "rootless: status lists the user's VM running" \
			|| fail "rootless status: $(rl_run status 2>&1 | tr '\n' '|')"
		rl_run down vfk-launch-rl --timeout 2 -q \
			&& [ ! -e "$RL_XDG/vfiokit/vms/vfk-launch-rl" ] \
			&& ! ps -o stat= -p "$pid" 2>/dev/null | grep -qv '^Z' \
			&& pass "rootless: down stops the user's QEMU and drops its record" \
			|| fail "rootless down: $(ls "$RL_XDG/vfiokit/vms" 2>&1 | tr '\n' ' ')"
	else
		fail "rootless up: $(tr '\n' '|' < "$WORK/rl.out")"
	fi
	rl_session
	pkill -u $RL_UID -x libvirtd	# the session daemon would idle on for 120 s
	sed -i 's/^mode = virtio$/mode = passthrough/' "$prof"
	rl_run up "$prof" --backend qemu >"$WORK/rl.out" 2>"$WORK/rl.err"; rc=$?
	{ [ $rc = 1 ] && grep -q "needs host devices" "$WORK/rl.err" && [ "$(wc -l < "$WORK/rl.err")" = 1 ]; } ||
		{ [ $rc = 1 ] && grep -q "no GPU\|cannot be given\|not possible" "$WORK/rl.err"; } \
		&& [ ! -e "$RL_XDG/vfiokit/vms/vfk-launch-rl" ] \
		&& pass "rootless: a passthrough VM is refused in one line (exit 1), nothing started" \
		|| fail "rootless passthrough: exit $rc: $(tr '\n' '|' < "$WORK/rl.err")"
	timeout 60 setpriv --reuid=$RL_UID --regid=$RL_GID --clear-groups env -i PATH=/usr/bin:/bin \
		"$RL_BIN/vfio-vm" status >"$WORK/rl.out" 2>&1; rc=$?
	[ $rc = 3 ] && grep -q "XDG_RUNTIME_DIR is not set" "$WORK/rl.out" \
		&& pass "rootless: without XDG_RUNTIME_DIR one line says what to do (exit 3)" \
		|| fail "rootless without XDG_RUNTIME_DIR: exit $rc: $(tr '\n' '|' < "$WORK/rl.out")"
	rm -rf "$RL_XDG"
fi
