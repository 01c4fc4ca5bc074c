# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by run.sh: root's host step, the user's QEMU (issue 23, point 2): root runs
# `vfio-vm up --backend qemu --run-as LUSER` (the suite's own ordinary user, made by
# run.sh); QEMU is LUSER's from exec on (every thread, its login group only), and still
# uses a disk only root may open (0600 root, its name with a comma, which QEMU's options
# write twice): root opened it and passed it as a descriptor set, so QEMU's command
# line names no file of the host; the serial log and the QMP socket come the same way;
# the VM's TPM is there, its swtpm LUSER's too, the directories above its state as they
# were (root's). status says who QEMU runs as, down stops it through root's QMP socket.
# Bad input (root, a user that does not exist, the libvirt backend) is one line,
# non-zero, no record. Needs from run.sh: WORK, BIN, VM, LUSER, LUID, LGID, profile,
# wait_console, pass, fail.

ra_prof=$(profile vfk-launch-ra 1)
ra_disk=$WORK/ra,disk.qcow2	# QEMU writes a comma in a value twice: the path still found
ra_log=$WORK/ra.console
qemu-img create -q -f qcow2 "$ra_disk" 64M && chmod 600 "$ra_disk"
printf '[disk]\npath = %s\nformat = qcow2\n' "$ra_disk" >> "$ra_prof"
sed -i 's/^name = vfk-launch-ra$/&\ntpm = yes/' "$ra_prof"

ra_refused() {	# LABEL ARGS...: one line, non-zero, no record
	local l=$1 rc
	shift
	$VM up "$ra_prof" -q "$@" >"$WORK/ra.out" 2>&1
	rc=$?
	[ $rc != 0 ] && [ "$(grep -c . "$WORK/ra.out")" = 1 ] && [ ! -e /run/vfiokit/vms/vfk-launch-ra ] \
		&& pass "run-as: $l refused in one line, exit $rc, no record: $(cat "$WORK/ra.out")" \
		|| fail "run-as: $l: exit $rc, $(tr '\n' '|' < "$WORK/ra.out")"
}
ra_refused "user root" --backend qemu --run-as root
ra_refused "a user that does not exist" --backend qemu --run-as no-such-user-vfk
ra_refused "the libvirt backend" --backend libvirt --run-as $LUSER

# a QEMU that ended may stay a zombie where PID 1 does not reap: gone counts
ra_alive() { [ -n "$(awk '$3 != "Z"' "/proc/$1/stat" 2>/dev/null)" ]; }
ra_parents() { mkdir -p -m 700 /var/lib/vfiokit/swtpm; stat -c '%n %u:%g %a' /var/lib/vfiokit /var/lib/vfiokit/swtpm | tr '\n' ' '; }
ra_parents_before=$(ra_parents)
if $VM up "$ra_prof" --backend qemu --run-as $LUSER --console-log "$ra_log" -q >"$WORK/ra.out" 2>&1; then
	wait_console "$ra_log" "saw GPU 0x1af4:0x1050" \
		&& pass "run-as: root's up --run-as $LUSER boots the virtio-gpu VM (qemu backend)" \
		|| fail "run-as: no GPU line; console: $(tail -n 3 "$ra_log" 2>/dev/null | tr '\n' '|')"
	pid=$(sed -n 's/^pid=//p' /run/vfiokit/vms/vfk-launch-ra 2>/dev/null)
	uids=$(grep -h '^Uid:' /proc/"${pid:-0}"/task/*/status 2>/dev/null | sort -u | tr -s '\t ' ' ')
	groups=$(grep -h '^Groups:' /proc/"${pid:-0}"/task/*/status 2>/dev/null | sort -u | tr -s '\t ' ' ')
	[ -n "$pid" ] && [ "$uids" = "Uid: $LUID $LUID $LUID $LUID" ] && [ "$groups" = "Groups: $LGID " ] \
		&& pass "run-as: every thread of QEMU ($pid) is $LUSER's (real, effective, saved, fs uid $LUID; groups: its login group $LGID only)" \
		|| fail "run-as: QEMU '$pid': $uids / $groups"
	cmd=$(tr '\0' '\n' < /proc/"${pid:-0}"/cmdline 2>/dev/null)
	echo "$cmd" | grep -q '^file=/dev/fdset/[0-9]*,if=none,id=drive-vda,format=qcow2' \
		&& ! echo "$cmd" | grep -q -e 'ra,*disk' -e "$ra_log" -e '\.qmp' \
		&& ls -l /proc/"$pid"/fd 2>/dev/null | grep -q -- "-> $ra_disk\$" \
		&& [ "$(stat -c '%u %a' "$ra_disk")" = "0 600" ] \
		&& pass "run-as: the disk (root's, 0600) is held by $LUSER's QEMU through a descriptor set; its command line names no host file, disk, log or QMP socket" \
		|| fail "run-as: disk $(stat -c '%u %a' "$ra_disk"); cmdline: $(echo "$cmd" | grep -e fdset -e file= -e qmp -e chardev | tr '\n' ' ')"
	tpm=$(sed -n 's/^swtpm=//p' /run/vfiokit/vms/vfk-launch-ra 2>/dev/null)
	st=/var/lib/vfiokit/swtpm/vfk-launch-ra
	wait_console "$ra_log" "saw TPM MSFT0101" \
		&& [ -n "$tpm" ] && [ "$(stat -c %u "/proc/$tpm" 2>/dev/null)" = "$LUID" ] \
		&& [ "$(stat -c '%u %a' "$st" "$st/tpm2-00.permall" 2>/dev/null | sort -u)" = "$LUID 600
$LUID 700" ] \
		&& [ "$(ra_parents)" = "$ra_parents_before" ] \
		&& pass "run-as: the guest has its TPM; swtpm ($tpm) runs as $LUSER, its state $LUSER's, the directories above it as they were ($ra_parents_before)" \
		|| fail "run-as TPM: swtpm '$tpm' uid $(stat -c %u "/proc/$tpm" 2>&1); $(stat -c '%n %u %a' /var/lib/vfiokit /var/lib/vfiokit/swtpm "$st" "$st"/* 2>&1 | tr '\n' ' '); console: $(grep -a TPM "$ra_log" | head -n 2)"
	$VM status vfk-launch-ra | grep -q "QEMU (pid $pid) runs as user $LUSER" \
		&& $VM status vfk-launch-ra --json | grep -q "\"run_as\":\"$LUSER\"" \
		&& pass "run-as: status (text and JSON) says QEMU runs as $LUSER" \
		|| fail "run-as status: $($VM status vfk-launch-ra 2>&1 | tr '\n' '|')"
	$VM down vfk-launch-ra --timeout 3 -q \
		&& ! ra_alive "$pid" && [ ! -e /run/vfiokit/vms/vfk-launch-ra ] \
		&& [ ! -e /run/vfiokit/vms/vfk-launch-ra.qmp ] \
		&& pass "run-as: down stops $LUSER's QEMU through root's QMP socket, record and socket gone" \
		|| fail "run-as down: pid $pid $(ra_alive "$pid" && echo alive); $(ls /run/vfiokit/vms/vfk-launch-ra* 2>&1 | tr '\n' ' ')"
else
	fail "run-as: up --run-as $LUSER: $(tr '\n' '|' < "$WORK/ra.out")"
fi
