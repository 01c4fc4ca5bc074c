# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by run.sh: a [disk] that does not exist is made by up (issue 26,
# point 1): plan says so, up makes it with qemu-img at [disk] size, qcow2,
# the guest has it (virtio-blk, 1af4:1042), and a second up uses the same
# file; a disk whose directory does not exist is refused in one line before
# anything starts. Needs from run.sh: WORK, BIN, profile, TMO, pass, fail.

nd=$WORK/nd
rm -rf "$nd" && mkdir -p "$nd"
prof=$(profile vfk-launch-nd 0)
printf '[disk]\npath = %s\nsize = 1G\nbus = virtio\n' "$nd/new.qcow2" >> "$prof"
"$BIN/vfio-vm" plan "$prof" > "$WORK/nd.plan" 2>&1
grep -q "disk $nd/new.qcow2 does not exist: up makes it, 1 GiB qcow2 (\[disk\] size;" "$WORK/nd.plan" \
	&& pass "newdisk: plan says up makes the missing disk, 1 GiB qcow2" \
	|| fail "newdisk plan: $(grep -i disk "$WORK/nd.plan" | tr '\n' '|')"
if timeout $((TMO + 30)) "$BIN/vfio-vm" up "$prof" --backend qemu --console-log "$WORK/nd.log" \
	--wait -q > "$WORK/nd.out" 2>&1; then
	info=$(qemu-img info --output=json "$nd/new.qcow2" 2>&1)
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(not (d["format"] == "qcow2" and d["virtual-size"] == 1 << 30))' "$info" \
		&& pass "newdisk: up made $nd/new.qcow2, qcow2 of 1 GiB (qemu-img info)" \
		|| fail "newdisk: qemu-img info: $(echo "$info" | tr '\n' ' ')"
	grep -q "VFK-GUEST: pci .* 0x1af4:0x1042 class 0x0100" "$WORK/nd.log" \
		&& pass "newdisk: the guest has the disk (virtio-blk 1af4:1042)" \
		|| fail "newdisk: no virtio-blk in the guest: $(grep 'VFK-GUEST: pci' "$WORK/nd.log" | tr '\n' '|')"
	before=$(stat -c '%i %Y %s' "$nd/new.qcow2")
	qemu-io -c 'write -P 0x5a 0 64k' "$nd/new.qcow2" > /dev/null 2>&1
	written=$(stat -c '%i %s' "$nd/new.qcow2")
	timeout $((TMO + 30)) "$BIN/vfio-vm" up "$prof" --backend qemu --console-log "$WORK/nd2.log" \
		--wait -q > "$WORK/nd2.out" 2>&1
	[ "$(stat -c '%i %s' "$nd/new.qcow2")" = "$written" ] \
		&& qemu-io -c 'read -P 0x5a 0 64k' "$nd/new.qcow2" 2>&1 | grep -q "read 65536/65536" \
		&& ! grep -q "made disk" "$WORK/nd2.out" \
		&& pass "newdisk: a second up uses the disk as it is (same inode, the data written to it kept)" \
		|| fail "newdisk: second up: $before -> $(stat -c '%i %Y %s' "$nd/new.qcow2"); $(tr '\n' '|' < "$WORK/nd2.out")"
else
	fail "newdisk up: $(tr '\n' '|' < "$WORK/nd.out")"
fi
sed -i "s|^path = $nd/new.qcow2|path = $nd/nodir/new.qcow2|" "$prof"
"$BIN/vfio-vm" up "$prof" --backend qemu > "$WORK/nd3.out" 2> "$WORK/nd3.err"; rc=$?
[ $rc != 0 ] && [ "$(grep -vc 'warning:' "$WORK/nd3.err")" = 1 ] \
	&& grep -q "disk $nd/nodir/new.qcow2 does not exist and cannot be made: its directory" "$WORK/nd3.err" \
	&& [ ! -e /run/vfiokit/vms/vfk-launch-nd ] && [ ! -e "$nd/nodir" ] \
	&& pass "newdisk: a disk whose directory does not exist is refused in one line (exit $rc), nothing started" \
	|| fail "newdisk: missing directory: exit $rc: $(tr '\n' '|' < "$WORK/nd3.err")"
