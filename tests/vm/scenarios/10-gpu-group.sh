# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034  # SCEN_* are read by tests/vm/lib.sh
# Scenario 1: a GPU-like card (VGA + HDA audio, two functions of one slot behind a PCIe
# root port), a NIC on another root port, and a GPU in a shared group (cirrus-vga and an
# e1000 behind a pcie-pci-bridge). Inventory, readiness, bind, restore, kill -9 recovery,
# refusal of the shared group.
SCEN_DESC="GPU VGA+HDA slot, NIC, shared group behind pcie-pci-bridge: vfio-ls, vfio-check, bind/restore, kill -9"
SCEN_TIMEOUT=360
SCEN_MEM=1G

scen_qemu() {
	q_boot_vga
	q_root_port rp1 0x2
	q_gpu gpu0 rp1
	q_root_port rp2 0x3
	q_nic e1000e nic0 rp2
	q_root_port rp3 0x4
	q -device pcie-pci-bridge,id=pb0,bus=rp3,addr=0x0
	q -device cirrus-vga,id=cir0,bus=pb0,addr=0x1
	q_nic e1000 nic1 pb0 0x2
}

# kill -9 of `vfio-bind bind --gpu` before each of its write(2) calls in turn (strace
# injects SIGKILL), then `vfio-bind restore --all` must bring everything back.
kill_points() {
	local k rc rrc st done=0 bad=0 mid=0 max=32
	local native=("$GPU=bochs-drm" "$HDA=snd_hda_intel")
	if ! command -v strace > /dev/null; then
		skip "kill -9 mid-bind: strace not installed (tests/vm/setup.sh installs it)"
		return
	fi
	for ((k = 1; k <= max; k++)); do
		( strace -qq -o /dev/null -e trace=write,writev,pwrite64 \
			-e inject=write,writev,pwrite64:signal=KILL:when=$k \
			"$VB" bind --gpu "$GPU" > /tmp/kill.out 2>&1 ) 2> /dev/null
		rc=$?
		st="VGA=$(drv "$GPU")/override='$(ovr "$GPU")' HDA=$(drv "$HDA")/override='$(ovr "$HDA")'"
		if [ $rc -ne 137 ]; then
			done=1
			info "kill -9: bind --gpu ran to the end (rc $rc) when the kill point was write #$k: $st"
		else
			info "kill -9 before write #$k: $st"
			case $st in *vfio-pci*|*=none/*) mid=$((mid + 1)) ;; esac
		fi
		"$VB" restore --all > /tmp/restore.out 2>&1
		rrc=$?
		if [ $rrc -ne 0 ] || ! all_native "${native[@]}" || [ -e "/dev/vfio/$G" ]; then
			bad=$((bad + 1))
			fail "kill -9 before write #$k of 'vfio-bind bind --gpu $GPU' ($st), then 'vfio-bind restore --all' (rc $rrc): VGA=$(drv "$GPU")/'$(ovr "$GPU")' HDA=$(drv "$HDA")/'$(ovr "$HDA")' /dev/vfio/$G $(test -e "/dev/vfio/$G" && echo present || echo gone)"
			sed 's/^/  restore: /' /tmp/restore.out | head -n 10
			raw_restore "$GPU" "$HDA"    # start the next kill point from a clean state
		fi
		[ $done = 1 ] && break
	done
	if [ $done = 0 ]; then
		fail "kill -9: 'vfio-bind bind --gpu' still made writes after $max kill points"
	elif [ $bad = 0 ]; then
		pass "kill -9 before each of the $((k - 1)) writes of 'vfio-bind bind --gpu $GPU', then 'vfio-bind restore --all': native drivers back, overrides cleared, /dev/vfio/$G gone every time"
	fi
	[ $mid -gt 0 ] && info "kill -9: $mid kill points left a half-bound group behind before restore"
}

# A journal cut mid-line (a crash, a full disk or an editor): `vfio-bind restore` refuses
# it in one line and touches nothing; `restore --from-scan` gives the devices it still
# names back to the drivers their modaliases select and keeps the damaged file aside.
damaged_journal() {
	local j=/run/vfiokit/journal rc
	run_tool /tmp/dj-bind.out vfio-bind bind --gpu "$GPU"
	expect "damaged journal: vfio-bind bind --gpu $GPU exit status" "$?" 0
	if [ "$(drv "$GPU")" != vfio-pci ] || [ "$(sed -n 3p $j | cut -d' ' -f1)" != "$HDA" ]; then
		fail "damaged journal: after the bind $GPU is on $(drv "$GPU") and line 3 of $j is '$(sed -n 3p $j)' (want vfio-pci and $HDA's entry)"
		raw_restore "$GPU" "$HDA"
		return
	fi
	# header and the VGA's entry whole, the HDA's entry cut 30 bytes in, no trailer
	{ head -n 2 $j; sed -n 3p $j | head -c 30; } > /tmp/dj-cut
	cat /tmp/dj-cut > $j
	info "damaged journal: $(wc -c < $j) bytes, last line '$(tail -n 1 $j)'"
	run_tool /tmp/dj-restore.out vfio-bind restore --all
	rc=$?
	expect "damaged journal: vfio-bind restore --all refuses it (exit status)" "$rc" 3
	check "damaged journal: the refusal is one line naming $j, line 3, the cut and --from-scan" \
		eval "[ \$(wc -l < /tmp/dj-restore.out.err) = 1 ] && grep -q '^vfio-bind: $j: line 3: entry cut short (no newline at end of file) (vfio-bind restore --from-scan recovers)\$' /tmp/dj-restore.out.err"
	run_tool /tmp/dj-status.out vfio-bind status
	expect "damaged journal: vfio-bind status refuses it too (exit status)" "$?" 3
	expect "damaged journal: after the refusals $GPU still on vfio-pci" "$(drv "$GPU")" vfio-pci
	expect "damaged journal: after the refusals $HDA still on vfio-pci" "$(drv "$HDA")" vfio-pci
	expect "damaged journal: after the refusals $GPU's driver_override still vfio-pci" "$(ovr "$GPU")" vfio-pci
	check "damaged journal: the refused journal is unchanged" cmp -s $j /tmp/dj-cut
	run_tool /tmp/dj-dry.out vfio-bind restore --from-scan --dry-run
	expect "damaged journal: vfio-bind restore --from-scan --dry-run exit status" "$?" 0
	expect "damaged journal: after the dry run $GPU still on vfio-pci" "$(drv "$GPU")" vfio-pci
	check "damaged journal: the dry run left the journal as it was" cmp -s $j /tmp/dj-cut
	run_tool /tmp/dj-scan.out vfio-bind restore --from-scan
	expect "damaged journal: vfio-bind restore --from-scan exit status" "$?" 0
	sed 's/^/  from-scan: /' /tmp/dj-scan.out | head -n 12
	restored_checks "damaged journal: restore --from-scan" "$G" "$GPU=bochs-drm" "$HDA=snd_hda_intel"
	check "damaged journal: --from-scan said where $GPU landed" grep -q "$GPU: back with the host, now on bochs-drm" /tmp/dj-scan.out
	check "damaged journal: --from-scan kept the damaged file as $j.damaged, byte for byte" cmp -s $j.damaged /tmp/dj-cut
	check "damaged journal: --from-scan left no journal (nothing held)" test ! -e $j
	run_tool /tmp/dj-status2.out vfio-bind status
	expect "damaged journal: vfio-bind status after the recovery exit status" "$?" 0
	rm -f $j.damaged*
}

guest_main() {
	BOOT=0000:00:01.0
	GPU=$(behind_port 0x1234 0x1111) HDA=$(find_dev 0x8086 0x293e) NIC=$(find_dev 0x8086 0x10d3)
	SGPU=$(find_dev 0x1013 0x00b8) SNIC=$(find_dev 0x8086 0x100e) PB=$(find_dev 0x1b36 0x000e)
	if [ -z "$GPU" ] || [ -z "$HDA" ] || [ -z "$NIC" ] || [ -z "$SGPU" ] || [ -z "$SNIC" ]; then
		fail "topology: VGA=$GPU HDA=$HDA NIC=$NIC cirrus=$SGPU e1000=$SNIC (a device is missing)"
		lspci -nn
		return
	fi
	G=$(grp "$GPU") SG=$(grp "$SGPU")
	info "boot VGA $BOOT (group $(grp $BOOT)), VGA $GPU + HDA $HDA (group $G), NIC $NIC (group $(grp "$NIC")), cirrus $SGPU + e1000 $SNIC behind bridge $PB (group $SG)"
	for g in $(ls /sys/kernel/iommu_groups | sort -n); do info "group $g: $(group_devs "$g")"; done

	# -- the kernel side of the topology: what the checks below rely on --
	expect "kernel: VGA and HDA share IOMMU group $G" "$(grp "$HDA")" "$G"
	expect "kernel: VGA's group holds exactly its two functions" "$(group_devs "$G")" "$GPU $HDA "
	check "kernel: NIC $NIC in a group of its own" test "$(group_devs "$(grp "$NIC")")" = "$NIC "
	expect "kernel: e1000 behind the pcie-pci-bridge shares cirrus' group $SG" "$(grp "$SNIC")" "$SG"
	expect "kernel: $BOOT is the boot VGA" "$(cat $SYSPCI/$BOOT/boot_vga)" 1
	expect "kernel: the card $GPU is a secondary GPU" "$(cat $SYSPCI/$GPU/boot_vga)" 0

	coldplug
	for p in "$BOOT=bochs-drm" "$GPU=bochs-drm" "$HDA=snd_hda_intel" "$NIC=e1000e" "$SGPU=cirrus" "$SNIC=e1000"; do
		wait_drv "${p%%=*}" "${p#*=}" 5
		expect "native driver of ${p%%=*}" "$(drv "${p%%=*}")" "${p#*=}"
	done

	# -- vfio-ls agrees with the kernel --
	if [ -n "$(tool vfio-ls)" ]; then
		run_tool /tmp/ls.json vfio-ls --json
		expect "vfio-ls --json exit status" "$?" 0
		relay vfk_json ls /tmp/ls.json --functions "$GPU=$GPU,$HDA" --isolated "$GPU" \
			--blocked "$SGPU=$SNIC" --driver "$GPU=bochs-drm"
		run_tool /tmp/ls.txt vfio-ls
		expect "vfio-ls (human view) exit status" "$?" 0
		check "vfio-ls (human view) names the GPU $GPU and the blocker $SNIC" \
			eval "grep -q '${GPU#0000:}' /tmp/ls.txt && grep -q '${SNIC#0000:}' /tmp/ls.txt"
		sed 's/^/  vfio-ls: /' /tmp/ls.txt | head -n 60
	else
		skip "vfio-ls checks: $VFK_BIN/vfio-ls not built"
	fi

	# -- vfio-check sees the IOMMU --
	if [ -n "$(tool vfio-check)" ]; then
		run_tool /tmp/check.json vfio-check --json
		rc=$?
		check "vfio-check --json exits 0 (ready) or 1 (not ready), got $rc" test $rc -le 1
		relay vfk_json check /tmp/check.json
		run_tool /tmp/check.txt vfio-check
		sed 's/^/  vfio-check: /' /tmp/check.txt | head -n 30
	else
		skip "vfio-check checks: $VFK_BIN/vfio-check not built"
	fi

	# -- bind, prove the group usable, restore --
	VB=$(tool vfio-bind)
	if [ -n "$VB" ]; then
		run_tool /tmp/bind.out vfio-bind bind --gpu "$GPU"
		expect "vfio-bind bind --gpu $GPU exit status" "$?" 0
		bound_checks "vfio-bind bind --gpu" "$G" "$GPU" "$HDA"
		expect "NIC $NIC untouched by the bind" "$(drv "$NIC")" e1000e
		if [ -n "$(tool vfio-ls)" ]; then
			run_tool /tmp/ls2.json vfio-ls --json
			relay vfk_json ls /tmp/ls2.json --only --driver "$GPU=vfio-pci" --driver "$HDA=vfio-pci"
		fi
		run_tool /tmp/status.json vfio-bind status --json
		expect "vfio-bind status --json exit status" "$?" 0
		check "vfio-bind status --json is JSON naming $GPU" \
			eval "python3 -m json.tool /tmp/status.json > /dev/null && grep -q '$GPU' /tmp/status.json"
		sed 's/^/  status: /' /tmp/status.json | head -n 20

		run_tool /tmp/restore.out vfio-bind restore --all
		expect "vfio-bind restore --all exit status" "$?" 0
		restored_checks "vfio-bind restore --all" "$G" "$GPU=bochs-drm" "$HDA=snd_hda_intel"

		# the shared group is refused, with the blocker named, and nothing moves
		run_tool /tmp/refuse.out vfio-bind bind --gpu "$SGPU"
		rc=$?
		check "vfio-bind bind --gpu $SGPU (shared group) is refused, exit $rc" test $rc -ne 0
		check "the refusal names the blocker $SNIC" \
			eval "grep -q '${SNIC#0000:}' /tmp/refuse.out /tmp/refuse.out.err"
		sed 's/^/  refusal: /' /tmp/refuse.out | head -n 5
		expect "after the refusal cirrus $SGPU still on cirrus" "$(drv "$SGPU")" cirrus
		expect "after the refusal e1000 $SNIC still on e1000" "$(drv "$SNIC")" e1000
		expect "after the refusal no driver_override on $SGPU" "$(ovr "$SGPU")" ""

		kill_points
		damaged_journal

		# the boot VGA holds the console: refused unless deliberately taken
		run_tool /tmp/boot.out vfio-bind bind --gpu "$BOOT"
		rc=$?
		check "vfio-bind bind --gpu $BOOT (boot VGA, console) is refused, exit $rc" test $rc = 1
		expect "after the refusal the boot VGA is still on bochs-drm" "$(drv "$BOOT")" bochs-drm
		run_tool /tmp/single.out vfio-bind bind --single-gpu --gpu "$BOOT"
		expect "vfio-bind bind --single-gpu --gpu $BOOT exit status" "$?" 0
		bound_checks "bind --single-gpu" "$(grp "$BOOT")" "$BOOT"
		run_tool /tmp/restore3.out vfio-bind restore --all
		expect "vfio-bind restore --all exit status" "$?" 0
		restored_checks "restore --all of the boot VGA" "$(grp "$BOOT")" "$BOOT=bochs-drm"
	else
		skip "vfio-bind bind --gpu / status --json / restore --all: vfio-bind not built yet"
		skip "vfio-bind refuses the shared group $SG with blocker $SNIC: vfio-bind not built yet"
		skip "kill -9 mid-bind then vfio-bind restore --all: vfio-bind not built yet"
		skip "damaged journal refused, then vfio-bind restore --from-scan: vfio-bind not built yet"
		# the raw kernel sequence vfio-bind drives, so the kernel side stays proven
		raw_bind "$GPU" "$HDA"
		bound_checks "raw driver_override bind" "$G" "$GPU" "$HDA"
		raw_restore "$GPU" "$HDA"
		restored_checks "raw restore" "$G" "$GPU=bochs-drm" "$HDA=snd_hda_intel"
		# the shared group is not viable while the e1000 holds it
		raw_bind "$SGPU"
		"$VFK_GROUP_STATUS" "$SG" > /tmp/vgs-shared.out 2>&1
		expect "raw: cirrus alone on vfio-pci leaves shared group $SG not viable (exit 1)" "$?" 1
		raw_restore "$SGPU"
		wait_drv "$SGPU" cirrus 5
		expect "raw restore: cirrus back" "$(drv "$SGPU")" cirrus
	fi
}
