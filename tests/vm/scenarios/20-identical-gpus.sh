# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034  # SCEN_* are read by tests/vm/lib.sh
# Scenario 2: two identical GPU-like cards (VGA 1234:1111 + HDA 8086:293e each) on two
# root ports. Same ids, so only the address tells them apart: binding one by address
# must leave the other on its native drivers.
SCEN_DESC="two identical GPUs on two root ports: bind one by address, the other stays native"
SCEN_TIMEOUT=240
SCEN_MEM=1G

scen_qemu() {
	q_boot_vga
	q_root_port rp1 0x2
	q_gpu gpu0 rp1
	q_root_port rp2 0x3
	q_gpu gpu1 rp2
}

guest_main() {
	local vgas hdas A B AH BH GA GB
	mapfile -t vgas < <(find_devs 0x1234 0x1111 | grep -v '^0000:00:')
	mapfile -t hdas < <(find_devs 0x8086 0x293e)
	if [ ${#vgas[@]} != 2 ] || [ ${#hdas[@]} != 2 ]; then
		fail "topology: want 2 VGA + 2 HDA, got VGA [${vgas[*]}] HDA [${hdas[*]}]"
		return
	fi
	A=${vgas[0]} B=${vgas[1]} AH=${hdas[0]} BH=${hdas[1]}
	GA=$(grp "$A") GB=$(grp "$B")
	info "GPU A $A + $AH (group $GA), GPU B $B + $BH (group $GB)"
	check "kernel: the two GPUs are in different IOMMU groups ($GA, $GB)" test "$GA" != "$GB"
	expect "kernel: group $GA holds exactly GPU A's functions" "$(group_devs "$GA")" "$A $AH "
	expect "kernel: group $GB holds exactly GPU B's functions" "$(group_devs "$GB")" "$B $BH "

	coldplug
	local native=("$A=bochs-drm" "$AH=snd_hda_intel" "$B=bochs-drm" "$BH=snd_hda_intel") p
	for p in "${native[@]}"; do
		wait_drv "${p%%=*}" "${p#*=}" 5
		expect "native driver of ${p%%=*}" "$(drv "${p%%=*}")" "${p#*=}"
	done

	if [ -n "$(tool vfio-ls)" ]; then
		run_tool /tmp/ls.json vfio-ls --json
		expect "vfio-ls --json exit status" "$?" 0
		relay vfk_json ls /tmp/ls.json --functions "$A=$A,$AH" --functions "$B=$B,$BH" \
			--isolated "$A" --isolated "$B"
	else
		skip "vfio-ls checks: $VFK_BIN/vfio-ls not built"
	fi

	VB=$(tool vfio-bind)
	if [ -n "$VB" ]; then
		run_tool /tmp/bind.out vfio-bind bind --gpu "$A"
		expect "vfio-bind bind --gpu $A exit status" "$?" 0
		bound_checks "bind --gpu A" "$GA" "$A" "$AH"
		expect "bind --gpu A: GPU B $B still on bochs-drm" "$(drv "$B")" bochs-drm
		expect "bind --gpu A: GPU B audio $BH still on snd_hda_intel" "$(drv "$BH")" snd_hda_intel
		expect "bind --gpu A: no driver_override on $B" "$(ovr "$B")" ""
		check "bind --gpu A: /dev/vfio/$GB absent" test ! -e "/dev/vfio/$GB"
		if [ -n "$(tool vfio-ls)" ]; then
			run_tool /tmp/ls2.json vfio-ls --json
			relay vfk_json ls /tmp/ls2.json --only --driver "$A=vfio-pci" --driver "$B=bochs-drm"
		fi
		run_tool /tmp/restore.out vfio-bind restore --all
		expect "vfio-bind restore --all exit status" "$?" 0
		restored_checks "restore --all" "$GA" "$A=bochs-drm" "$AH=snd_hda_intel"

		# the plain per-device form, on the other card
		run_tool /tmp/bind2.out vfio-bind bind "$B" "$BH"
		expect "vfio-bind bind $B $BH exit status" "$?" 0
		bound_checks "bind B by addresses" "$GB" "$B" "$BH"
		expect "bind B: GPU A $A still on bochs-drm" "$(drv "$A")" bochs-drm
		expect "bind B: GPU A audio $AH still on snd_hda_intel" "$(drv "$AH")" snd_hda_intel
		run_tool /tmp/restore2.out vfio-bind restore --all
		expect "vfio-bind restore --all exit status" "$?" 0
		restored_checks "restore --all" "$GB" "$B=bochs-drm" "$BH=snd_hda_intel"
	else
		skip "vfio-bind bind --gpu A leaves identical GPU B native: vfio-bind not built yet"
		skip "vfio-bind bind ADDR... / restore --all on GPU B: vfio-bind not built yet"
		raw_bind "$A" "$AH"
		bound_checks "raw bind of GPU A" "$GA" "$A" "$AH"
		expect "raw bind of A: GPU B $B still on bochs-drm" "$(drv "$B")" bochs-drm
		expect "raw bind of A: GPU B audio $BH still on snd_hda_intel" "$(drv "$BH")" snd_hda_intel
		check "raw bind of A: /dev/vfio/$GB absent" test ! -e "/dev/vfio/$GB"
		raw_restore "$A" "$AH"
		restored_checks "raw restore" "$GA" "$A=bochs-drm" "$AH=snd_hda_intel"
	fi
}
