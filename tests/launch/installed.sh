# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by run.sh: from installing to daily use (issue 26, point 3). A
# domain defined with its installer CD-ROM and edited with virt-xml (as
# virt-manager would) is started with up --installed: the CD-ROM leaves the
# definition, the edit stays, the VM runs; on the qemu backend the installer
# is not in QEMU's command line. Needs from run.sh: WORK, VM, profile,
# wait_console, pass, fail.

iso=$WORK/installer.iso
# an ISO 9660 volume descriptor alone stands in (the guest boots its kernel):
# up refuses installation media that is no CD image
rm -f "$iso" && truncate -s 34816 "$iso" && chmod 644 "$iso" \
	&& printf '\001CD001\001' | dd of="$iso" bs=1 seek=32768 conv=notrunc status=none
in_def() { virsh -c qemu:///system dumpxml --inactive vfk-launch-in 2>/dev/null | grep -c "$iso"; }
prof=$(profile vfk-launch-in 1)
printf '[disk.installer]\npath = %s\n' "$iso" >> "$prof"
if "$VM" up "$prof" -q 2>"$WORK/err"; then
	[ "$(in_def)" = 1 ] && pass "installed: the domain is defined with the installer CD-ROM" \
		|| fail "installed: the installer is not in the definition ($(in_def))"
	"$VM" down vfk-launch-in --timeout 2 -q || fail "installed: down"
	virt-xml -c qemu:///system vfk-launch-in --edit --metadata description="edited by hand" \
		>/dev/null 2>"$WORK/vx" || fail "installed: virt-xml: $(cat "$WORK/vx")"
	if "$VM" up "$prof" --installed >"$WORK/up-in" 2>&1; then
		[ "$(in_def)" = 0 ] \
			&& grep -q "installed: the installation media on sd[a-z] taken out of the domain vfk-launch-in" "$WORK/up-in" \
			&& pass "up --installed takes the installer CD-ROM out of the kept domain's definition" \
			|| fail "up --installed: $(in_def) left; $(tr '\n' '|' < "$WORK/up-in")"
		[ "$(virsh -c qemu:///system dumpxml --inactive vfk-launch-in | sed -n 's:.*<description>\(.*\)</description>.*:\1:p')" = "edited by hand" ] \
			&& [ "$(virsh -c qemu:///system domstate vfk-launch-in 2>/dev/null | head -n1)" = running ] \
			&& pass "up --installed keeps the domain's other edits (its description) and the VM runs" \
			|| fail "up --installed: description or state lost: $(virsh -c qemu:///system domstate vfk-launch-in 2>&1)"
		! grep -q "differs from the one its domain was defined from" "$WORK/up-in" \
			&& pass "up --installed records the definition as vfiokit's: no warning of a changed profile" \
			|| fail "up --installed warned: $(tr '\n' '|' < "$WORK/up-in")"
		"$VM" down vfk-launch-in --timeout 2 -q
	else
		fail "up --installed: $(tr '\n' '|' < "$WORK/up-in")"
	fi
	"$VM" down vfk-launch-in --undefine -q 2>/dev/null
else
	fail "installed: first up: $(cat "$WORK/err")"
fi
if "$VM" up "$prof" --installed --backend qemu --console-log "$WORK/in.log" -q 2>"$WORK/err"; then
	pid=$(sed -n 's/^pid=//p' /run/vfiokit/vms/vfk-launch-in 2>/dev/null)
	[ -n "$pid" ] && ! tr '\0' '\n' < "/proc/$pid/cmdline" | grep -q "$iso" \
		&& wait_console "$WORK/in.log" "saw GPU" \
		&& pass "qemu backend, up --installed: the installer is not in QEMU's command line, the guest runs" \
		|| fail "qemu backend --installed: pid '$pid': $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>&1 | head -c 300)"
	"$VM" down vfk-launch-in --timeout 2 -q
else
	fail "qemu backend --installed: $(cat "$WORK/err")"
fi
