# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by run.sh: the first hour as a test (issue 26, point 4). A profile names a disk
# that does not exist ([disk] size = 1G) and an installer ([disk.installer]); the suite's
# own bootable images (mkjourney.sh) stand in for Windows Setup and Windows: the
# installer boots from its CD-ROM, writes the "installed system" onto the first virtio
# disk and powers off. So: plan says it will make the disk; up (--wait) makes it, qcow2
# of the size asked, and the VM boots the installer from the CD, which installs; then
# up --installed boots what was installed, from the disk alone (no CD-ROM left in QEMU's
# command line, and the disk was empty before the installer ran). qemu backend. Needs
# from run.sh: WORK, CACHE, HERE, BIN, VM, TMO, profile, wait_console, pass, fail.

jr_disk=$WORK/jr-disk.qcow2
# run.sh's profile, booting from its media instead of the suite's kernel
jr_prof=$(profile vfk-launch-jr 0)
sed -i '/^kernel = /d; /^initrd = /d; /^cmdline = /d' "$jr_prof"
printf '[disk]\npath = %s\nsize = 1G\n[disk.installer]\npath = %s\n' "$jr_disk" "$WORK/installer.iso" >> "$jr_prof"

jr_cmdline() { tr '\0' '\n' < "/proc/$(sed -n 's/^pid=//p' /run/vfiokit/vms/vfk-launch-jr 2>/dev/null)/cmdline" 2>/dev/null; }

if ! "$HERE/mkjourney.sh" "$CACHE/kernel" "$WORK/guest.cpio.gz" "$WORK" 2>"$WORK/jr.err"; then
	fail "journey: building the installer and system images: $(tr '\n' '|' < "$WORK/jr.err")"
else
	chmod 644 "$WORK/installer.iso" "$WORK/system.iso"
	$VM plan "$jr_prof" >"$WORK/jr.plan" 2>&1
	grep -q "disk $jr_disk does not exist: up makes it, 1 GiB qcow2" "$WORK/jr.plan" \
		&& [ ! -e "$jr_disk" ] \
		&& pass "journey: plan says up makes the missing disk, 1 GiB qcow2, and makes nothing itself" \
		|| fail "journey plan: $(grep -i disk "$WORK/jr.plan" | tr '\n' '|')"
	# the installer powers the VM off when it is done: up --wait returns then
	if timeout -k 5 $((TMO * 2)) "$BIN/vfio-vm" up "$jr_prof" --backend qemu --wait \
		--console-log "$WORK/jr1.console" -q >"$WORK/jr.out" 2>&1; then
		jr_info=$(qemu-img info --output=json "$jr_disk" 2>/dev/null)
		echo "$jr_info" | grep -q '"format": "qcow2"' && echo "$jr_info" | grep -q '"virtual-size": 1073741824,' \
			&& pass "journey: up made the missing disk: qcow2, virtual size 1 GiB" \
			|| fail "journey: the disk: $(echo "$jr_info" | tr -d '\n' | head -c 300)"
		grep -a -q "VFK-GUEST: installer up: .*vfk_role=installer" "$WORK/jr1.console" \
			&& grep -a -q "VFK-GUEST: installed onto vda: [0-9]* bytes" "$WORK/jr1.console" \
			&& pass "journey: the VM booted the installer from its CD-ROM, which installed onto the new disk and powered off" \
			|| fail "journey: installer console: $(grep -a VFK-GUEST "$WORK/jr1.console" | tr '\n' '|')"
		if $VM up "$jr_prof" --backend qemu --installed --console-log "$WORK/jr2.console" -q \
			>"$WORK/jr.out" 2>&1; then
			wait_console "$WORK/jr2.console" "VFK-GUEST: up: .*vfk_role=installed" \
				&& ! grep -q "installer.iso\|media=cdrom" <<<"$(jr_cmdline)" \
				&& pass "journey: up --installed boots the installed system from the disk alone (no CD-ROM in QEMU's command line)" \
				|| fail "journey --installed: console $(grep -a VFK-GUEST "$WORK/jr2.console" | head -n 2 | tr '\n' '|'); QEMU: $(jr_cmdline | grep -e iso -e cdrom)"
			$VM down vfk-launch-jr --timeout 2 -q || fail "journey: down"
		else
			fail "journey: up --installed: $(tr '\n' '|' < "$WORK/jr.out")"
		fi
	else
		fail "journey: up of the installer: $(tr '\n' '|' < "$WORK/jr.out"); console: $(grep -a VFK-GUEST "$WORK/jr1.console" | tr '\n' '|')"
	fi
fi
