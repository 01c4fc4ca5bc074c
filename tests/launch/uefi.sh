# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by run.sh: UEFI guests (OVMF) on both backends, with and without
# Secure Boot and a TPM. That the firmware really ran is read from the guest
# kernel's own console lines ("efi: EFI v2..." only an EFI boot prints;
# "secureboot: Secure boot enabled" only under Secure Boot).

uefi_profile() {	# name firmware tpm -> path
	local p
	p=$(profile "$1" 1)
	sed -i "s/^firmware = bios\$/firmware = $2\ntpm = $3/" "$p"
	echo "$p"
}
NVRAM=/var/lib/vfiokit/nvram

# qemu backend: the variable store made from the template at the first up,
# kept, reused; the socket directory made and removed
prof=$(uefi_profile vfk-launch-ue uefi no)
rm -f "$NVRAM/vfk-launch-ue_VARS.fd"
if "$VM" up "$prof" --backend qemu --console-log "$WORK/ue.log" >"$WORK/ue.out" 2>&1; then
	wait_console "$WORK/ue.log" "efi: EFI v2" && wait_console "$WORK/ue.log" "saw GPU" \
		&& pass "qemu backend: an OVMF guest boots (the guest kernel logs 'efi: EFI v2')" \
		|| fail "qemu backend UEFI: no EFI line; $(cat "$WORK/ue.out" | tr '\n' '|') console: $(tail -n 3 "$WORK/ue.log" | tr '\n' '|')"
	tmpl=$(sed -n 's/.*creating the UEFI variable store .* from \(.*\)$/\1/p' "$WORK/ue.out")
	[ -n "$tmpl" ] && [ "$(stat -c '%a %s' "$NVRAM/vfk-launch-ue_VARS.fd" 2>/dev/null)" = "600 $(stat -c %s "$tmpl")" ] \
		&& pass "the VM's UEFI variable store is made from the firmware's template (0600, its size)" \
		|| fail "variable store: $(ls -l "$NVRAM/vfk-launch-ue_VARS.fd" 2>&1); up said $(tr '\n' '|' < "$WORK/ue.out")"
	ino=$(stat -c %i "$NVRAM/vfk-launch-ue_VARS.fd" 2>/dev/null)
	[ "$(stat -c %a /run/vfiokit/vm/vfk-launch-ue 2>/dev/null)" = 700 ] \
		&& pass "the VM's socket directory /run/vfiokit/vm/NAME is made (0700)" \
		|| fail "socket directory: $(ls -ld /run/vfiokit/vm/vfk-launch-ue 2>&1)"
	"$VM" down vfk-launch-ue --timeout 2 -q
	[ ! -e /run/vfiokit/vm/vfk-launch-ue ] && [ -e "$NVRAM/vfk-launch-ue_VARS.fd" ] \
		&& pass "down removes the socket directory and keeps the variable store" \
		|| fail "after down: $(ls -ld /run/vfiokit/vm/vfk-launch-ue "$NVRAM/vfk-launch-ue_VARS.fd" 2>&1 | tr '\n' '|')"
	if "$VM" up "$prof" --backend qemu --console-log "$WORK/ue2.log" >"$WORK/ue.out" 2>&1; then
		! grep -q "creating the UEFI variable store" "$WORK/ue.out" \
			&& [ "$(stat -c %i "$NVRAM/vfk-launch-ue_VARS.fd")" = "$ino" ] \
			&& wait_console "$WORK/ue2.log" "efi: EFI v2" \
			&& pass "a second up boots from the kept variable store, not a fresh copy" \
			|| fail "second up: $(tr '\n' '|' < "$WORK/ue.out")"
		"$VM" down vfk-launch-ue --timeout 2 --undefine -q
	else
		fail "second up (qemu, UEFI): $(cat "$WORK/ue.out")"
	fi
	[ ! -e "$NVRAM/vfk-launch-ue_VARS.fd" ] && pass "down --undefine (qemu) removes the variable store" \
		|| fail "down --undefine left $NVRAM/vfk-launch-ue_VARS.fd"
else
	fail "up --backend qemu with firmware = uefi: $(cat "$WORK/ue.out")"
fi

# qemu backend, Secure Boot and a TPM: SMM, the .ms template, swtpm
prof=$(uefi_profile vfk-launch-us uefi-secure yes)
if "$VM" up "$prof" --backend qemu --console-log "$WORK/us.log" -q 2>"$WORK/err"; then
	wait_console "$WORK/us.log" "saw TPM MSFT0101" && grep -q "secureboot: Secure boot enabled" "$WORK/us.log" \
		&& pass "qemu backend: OVMF with Secure Boot (the kernel reports it enabled) and a TPM 2.0" \
		|| fail "qemu Secure Boot + TPM: $(grep -a 'secureboot\|efi:\|VFK-GUEST: saw' "$WORK/us.log" | tr '\n' '|')"
	"$VM" down vfk-launch-us --timeout 2 --undefine -q
else
	fail "up --backend qemu with uefi-secure and a TPM: $(cat "$WORK/err")"
fi

# libvirt: the same guests through libvirt's own NVRAM and swtpm handling
prof=$(uefi_profile vfk-launch-lu uefi yes)
if "$VM" up "$prof" --console-log "$WORK/lu.log" -q 2>"$WORK/err"; then
	wait_console "$WORK/lu.log" "saw TPM MSFT0101" && grep -q "efi: EFI v2" "$WORK/lu.log" \
		&& pass "libvirt: an OVMF guest boots with a TPM 2.0 ('efi: EFI v2', MSFT0101)" \
		|| fail "libvirt UEFI + TPM: $(grep -a 'efi:\|VFK-GUEST: saw' "$WORK/lu.log" | tr '\n' '|')"
	nv=$(virsh -c qemu:///system dumpxml vfk-launch-lu | sed -n 's|.*<nvram[^>]*>\(.*\)</nvram>.*|\1|p')
	"$VM" down vfk-launch-lu --timeout 2 -q
	[ -n "$nv" ] && [ -e "$nv" ] && pass "down keeps the domain's NVRAM ($nv)" || fail "NVRAM '$nv' gone after down"
	"$VM" down vfk-launch-lu --undefine -q
	[ -n "$nv" ] && [ ! -e "$nv" ] && pass "down --undefine removes the domain's NVRAM" || fail "NVRAM '$nv' left after --undefine"
else
	fail "up (libvirt) with firmware = uefi and a TPM: $(cat "$WORK/err")"
fi
prof=$(uefi_profile vfk-launch-ls uefi-secure no)
if "$VM" up "$prof" --console-log "$WORK/ls.log" -q 2>"$WORK/err"; then
	wait_console "$WORK/ls.log" "saw GPU" && grep -q "secureboot: Secure boot enabled" "$WORK/ls.log" \
		&& pass "libvirt: OVMF with Secure Boot (the kernel reports it enabled)" \
		|| fail "libvirt Secure Boot: $(grep -a 'secureboot\|efi:' "$WORK/ls.log" | tr '\n' '|')"
	"$VM" down vfk-launch-ls --timeout 2 --undefine -q
else
	fail "up (libvirt) with uefi-secure: $(cat "$WORK/err")"
fi
