# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by run.sh: a [disk] that does not exist is made by up (issue 26,
# point 1): plan says so, up makes it with qemu-img at [disk] size, qcow2,
# the guest has it (virtio-blk, 1af4:1042), and a second up uses the same
# file; a disk whose directory does not exist is refused in one line before
# anything starts. On the libvirt backend libvirt makes the disk through its
# storage API (a pool made for the job, or the pool of its directory); an
# installer that is no ISO is refused. Needs from run.sh: WORK, BIN, profile,
# TMO, pass, fail.

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

# the libvirt backend has libvirt make the disk (storage API): in a pool made
# for the job when none has the directory (gone again after), else in the
# pool that has it, which then lists it; qcow2 and raw at the planned size
nl=$WORK/nl
rm -rf "$nl" && mkdir -p "$nl/pool"
pools() { virsh -c qemu:///system pool-list --all --name 2>/dev/null | grep -c '^vfiokit-newdisk-'; }
prof=$(profile vfk-launch-nl 0)
printf '[disk]\npath = %s\nsize = 1G\nbus = virtio\n' "$nl/lv.qcow2" >> "$prof"
if timeout $((TMO + 30)) "$BIN/vfio-vm" up "$prof" --console-log "$WORK/nl.log" --wait \
	> "$WORK/nl.out" 2>&1; then
	info=$(qemu-img info --output=json "$nl/lv.qcow2" 2>&1)
	grep -q "made disk $nl/lv.qcow2 (qcow2, 1024 MiB) through libvirt's storage pool vfiokit-newdisk-[0-9]* (made for it, gone again)" "$WORK/nl.out" \
		&& [ "$(pools)" = 0 ] \
		&& python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(not (d["format"] == "qcow2" and d["virtual-size"] == 1 << 30))' "$info" \
		&& pass "newdisk (libvirt): libvirt made $nl/lv.qcow2 in a pool made for it and gone again: qcow2 of 1 GiB (qemu-img info)" \
		|| fail "newdisk (libvirt): $(pools) pools left; $(echo "$info" | tr '\n' ' '); $(tr '\n' '|' < "$WORK/nl.out")"
	grep -q "VFK-GUEST: pci .* 0x1af4:0x1042 class 0x0100" "$WORK/nl.log" \
		&& pass "newdisk (libvirt): the guest has the disk (virtio-blk 1af4:1042)" \
		|| fail "newdisk (libvirt): no virtio-blk in the guest: $(grep 'VFK-GUEST: pci' "$WORK/nl.log" | tr '\n' '|')"
else
	fail "newdisk (libvirt) up: $(tr '\n' '|' < "$WORK/nl.out")"
fi
"$BIN/vfio-vm" down vfk-launch-nl --undefine -q > /dev/null 2>&1
virsh -c qemu:///system pool-create-as vfk-nd-pool dir --target "$nl/pool" > /dev/null 2>&1
prof=$(profile vfk-launch-np 0)
printf '[disk]\npath = %s\nsize = 64M\nbus = virtio\n' "$nl/pool/p.img" >> "$prof"
if "$BIN/vfio-vm" up "$prof" > "$WORK/np.out" 2>&1; then
	cap=$(virsh -c qemu:///system vol-info --bytes "$nl/pool/p.img" 2>&1 | awk '/^Capacity:/ {print $2}')
	fmt=$(qemu-img info --output=json "$nl/pool/p.img" | python3 -c 'import json,sys; print(json.load(sys.stdin)["format"])')
	vols=$(virsh -c qemu:///system vol-list vfk-nd-pool 2>&1)
	grep -q "made disk $nl/pool/p.img (raw, 64 MiB) through libvirt's storage pool vfk-nd-pool$" "$WORK/np.out" \
		&& grep -q " p.img *$nl/pool/p.img" <<< "$vols" \
		&& [ "$cap" = $((64 << 20)) ] && [ "$fmt" = raw ] \
		&& pass "newdisk (libvirt): made in the pool that has the directory, which lists it: raw of 64 MiB" \
		|| fail "newdisk (libvirt, pool): capacity '$cap', format '$fmt'; $(tr '\n' '|' <<< "$vols"); $(tr '\n' '|' < "$WORK/np.out")"
	"$BIN/vfio-vm" down vfk-launch-np --timeout 2 --undefine -q > /dev/null 2>&1
else
	fail "newdisk (libvirt, pool) up: $(tr '\n' '|' < "$WORK/np.out")"
fi
virsh -c qemu:///system pool-destroy vfk-nd-pool > /dev/null 2>&1

# bad input: an ISO that is not one is refused in one line, nothing made
printf 'not an image\n' > "$nl/bad.iso"
prof=$(profile vfk-launch-nb 0)
printf '[disk]\npath = %s\nsize = 64M\n[disk.installer]\npath = %s\n' "$nl/nb.qcow2" "$nl/bad.iso" >> "$prof"
"$BIN/vfio-vm" up "$prof" > "$WORK/nb.out" 2> "$WORK/nb.err"; rc=$?
[ $rc != 0 ] && [ "$(grep -vc 'warning:' "$WORK/nb.err")" = 1 ] \
	&& grep -q "\[disk.installer\] $nl/bad.iso is not an ISO 9660 or UDF image: it is 13 bytes long" "$WORK/nb.err" \
	&& [ ! -e "$nl/nb.qcow2" ] && [ ! -e /run/vfiokit/vms/vfk-launch-nb ] \
	&& ! virsh -c qemu:///system dominfo vfk-launch-nb > /dev/null 2>&1 \
	&& pass "newdisk: an installer that is no ISO is refused in one line (exit $rc), no disk made, nothing defined" \
	|| fail "newdisk: installer no ISO: exit $rc: $(tr '\n' '|' < "$WORK/nb.err")"
