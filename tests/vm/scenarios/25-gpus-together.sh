# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034  # SCEN_* are read by tests/vm/lib.sh
# Scenario 25: two GPU-like cards (VGA 1234:1111 + HDA 8086:293e each) below one PCIe
# switch whose downstream ports have no ACS, so the kernel puts both cards in one IOMMU
# group: vfio-ls calls them "together", vfio-vm refuses either card alone (naming the
# other) and gives both to one VM ([gpu] device = A,B or [gpu] count = 2), then the
# host gets all four functions back.
#
# The topology: QEMU 7.2's xio3130-downstream has no ACS capability, but Linux
# (pci_device_group) merges two downstream ports without ACS only when they are
# functions of one slot (get_pci_function_alias_group); ports at two device numbers
# each get a group of their own, with the card below. So the two downstream ports are
# functions 0 and 1 of slot 0 of the switch's internal bus.
SCEN_DESC="two GPUs in one IOMMU group behind a PCIe switch: together in vfio-ls, refused alone, given to one VM both"
SCEN_TIMEOUT=600
SCEN_MEM=1G

scen_qemu() {
	q_boot_vga
	q_root_port rp1 0x2
	q -device x3130-upstream,id=sw,bus=rp1,addr=0x0 \
	  -device xio3130-downstream,id=dp1,bus=sw,addr=0x0.0,multifunction=on,chassis=32,slot=1 \
	  -device xio3130-downstream,id=dp2,bus=sw,addr=0x0.1,chassis=32,slot=2
	q_gpu gpu0 dp1
	q_gpu gpu1 dp2
}

# vfio_vm OUT CMD PROFILE GPUS [options...]: `vfio-vm CMD PROFILE`, [gpu] device set to
# GPUS unless that is empty; the inner VM boots the test kernel and the l3 initramfs
vfio_vm() {
	local out=$1 cmd=$2 prof=$3 gpus=$4
	shift 4
	run_tool "$out" vfio-vm "$cmd" "$prof" ${gpus:+--set "gpu.device=$gpus"} \
		--set "vm.kernel=$VFK_L3_KERNEL" --set "vm.initrd=$VFK_L3_INITRD" "$@"
}

# plan_gpus JSON: the addresses of the GPUs a `vfio-vm plan --json` gives the VM, sorted
# (from "gpus" and "gpu", each an object with "address" or a list of them)
plan_gpus() {
	python3 -c '
import json, sys
try:
    d, out = json.load(open(sys.argv[1])), set()
except (OSError, ValueError) as e:
    sys.exit("no plan JSON (%s)" % e)
for k in ("gpus", "gpu"):
    v = d.get(k)
    for g in v if isinstance(v, list) else [v] if v else []:
        out.add(g.get("address") if isinstance(g, dict) else g)
print(" ".join(sorted(a for a in out if a)))' "$1" 2>&1
}

# alone CMD GPU OTHER...: `vfio-vm CMD` with GPU alone exits non-zero with one line on
# stderr (besides the ":: step" narration) naming OTHER..., and touches nothing
alone() {
	local cmd=$1 g=$2 rc msg o opt=()
	shift 2
	[ "$cmd" = up ] && opt=(--backend qemu)
	vfio_vm /tmp/alone.out "$cmd" "$VFK_REPO/configs/demo.ini" "$g" "${opt[@]}"
	rc=$?
	msg=$(grep -v '^:: ' /tmp/alone.out.err)
	check "vfio-vm $cmd with $g alone exits non-zero (exit $rc)" test "$rc" != 0
	expect "vfio-vm $cmd with $g alone: one line on stderr" "$(printf '%s\n' "$msg" | grep -c .)" 1
	for o in "$@"; do
		check "vfio-vm $cmd with $g alone: the line names $o, which shares its group ($msg)" \
			grep -q -F "${o#0000:}" <<< "$msg"
	done
}

guest_main() {
	local vgas hdas A B AH BH G d extra="" two
	mapfile -t vgas < <(find_devs 0x1234 0x1111 | grep -v '^0000:00:')
	mapfile -t hdas < <(find_devs 0x8086 0x293e)
	if [ ${#vgas[@]} != 2 ] || [ ${#hdas[@]} != 2 ]; then
		fail "topology: want 2 VGA + 2 HDA behind the switch, got VGA [${vgas[*]}] HDA [${hdas[*]}]"
		return
	fi
	A=${vgas[0]} B=${vgas[1]} AH=${hdas[0]} BH=${hdas[1]}
	G=$(grp "$A")
	info "GPU A $A + $AH, GPU B $B + $BH; group $G: $(for d in $(group_devs "$G"); do
		printf '%s(%s) ' "$d" "$(cut -c3-6 "$SYSPCI/$d/class")"; done)"
	check "kernel: both cards' four functions in one IOMMU group ($G)" \
		test -n "$G" -a "$(grp "$AH")" = "$G" -a "$(grp "$B")" = "$G" -a "$(grp "$BH")" = "$G"
	for d in $(group_devs "$G"); do
		case " $A $AH $B $BH " in *" $d "*) continue ;; esac
		case $(cat "$SYSPCI/$d/class") in 0x0604*) ;; *) extra+=" $d" ;; esac
	done
	expect "kernel: group $G holds no other endpoint (only the switch's ports besides)" "$extra" ""
	check "kernel: the boot VGA 0000:00:01.0 is in another group" test "$(grp 0000:00:01.0)" != "$G"

	coldplug
	local native=("$A=bochs-drm" "$AH=snd_hda_intel" "$B=bochs-drm" "$BH=snd_hda_intel")
	for d in "${native[@]}"; do
		wait_drv "${d%%=*}" "${d#*=}" 5
		expect "native driver of ${d%%=*}" "$(drv "${d%%=*}")" "${d#*=}"
	done

	if [ -n "$(tool vfio-ls)" ]; then
		run_tool /tmp/ls.json vfio-ls --json
		expect "vfio-ls --json exit status" "$?" 0
		relay vfk_json ls /tmp/ls.json --functions "$A=$A,$AH" --functions "$B=$B,$BH" \
			--blocked "$A=$B,$BH" --blocked "$B=$A,$AH"
		run_tool /tmp/gpus.json vfio-ls --gpus --json
		expect "vfio-ls --gpus --json exit status" "$?" 0
		expect "vfio-ls --gpus: GPU A's verdict is together, with GPU B" "$(gpu_field /tmp/gpus.json "$A" verdict together)" "together $B"
		expect "vfio-ls --gpus: GPU B's verdict is together, with GPU A" "$(gpu_field /tmp/gpus.json "$B" verdict together)" "together $A"
	else
		skip "vfio-ls checks: $VFK_BIN/vfio-ls not built"
	fi

	if [ -z "$(tool vfio-vm)" ]; then
		fail "the vfio-vm checks need vfio-vm (not built)"
		return
	fi
	# one card alone is refused, naming the other; up touches nothing
	alone plan "$A" "$B"
	alone plan "$B" "$A"
	alone up "$A" "$B"
	all_native "${native[@]}" && test ! -e /run/vfiokit/vms/demo
	check "after up with $A alone: all four functions native, no override, no VM record" test $? = 0

	# both, named as a list (with and without blanks after the comma)
	for two in "$A,$B" "$A, $B"; do
		vfio_vm /tmp/plan2.json plan "$VFK_REPO/configs/demo.ini" "$two" --json
		expect "vfio-vm plan --set 'gpu.device=$two' exit status" "$?" 0
		expect "vfio-vm plan --json with 'gpu.device=$two' lists both GPUs" "$(plan_gpus /tmp/plan2.json)" "$A $B"
	done
	vfio_vm /tmp/plan2.out plan "$VFK_REPO/configs/demo.ini" "$A,$B"
	expect "vfio-vm plan (text) with gpu.device=$A,$B exit status" "$?" 0
	# [gpu] count = 2 picks the two that can go together, never the boot VGA
	sed '/^device *=/d' "$VFK_REPO/configs/demo.ini" > /tmp/count.ini
	vfio_vm /tmp/count.json plan /tmp/count.ini "" --set gpu.count=2 --json
	expect "vfio-vm plan --set gpu.count=2 exit status" "$?" 0
	expect "vfio-vm plan with gpu.count=2 picks GPUs A and B (not the boot VGA)" "$(plan_gpus /tmp/count.json)" "$A $B"

	both_to_vm
	leave_restored demo "${native[@]}"
}

# vfio-vm up --wait gives both cards to an inner VM (nested KVM), whose kernel lists
# them; the host has all four functions back once it powered off
both_to_vm() {
	local why rc t0 n
	why=$(nested_kvm)
	case $? in
	0) ;;
	2) skip "inner VM with both GPUs: $why"; return ;;
	*) fail "nested KVM in the guest: $why"; return ;;
	esac
	t0=$(ts)
	vfio_vm /tmp/up.out up "$VFK_REPO/configs/demo.ini" "$A,$B" --backend qemu \
		--console-log /tmp/l3.log --wait
	rc=$?
	info "vfio-vm up --wait (inner VM with $A,$AH,$B,$BH) exit $rc after $(since "$t0")s"
	sed 's/^/  vfio-vm: /' /tmp/up.out | head -n 20
	grep -a '^L3' /tmp/l3.log 2>/dev/null | sed 's/^/  /'
	expect "vfio-vm up --wait with gpu.device=$A,$B exit status" "$rc" 0
	n=$(grep -a -c 'L3 pci 0x1234:0x1111 class 0x0300' /tmp/l3.log 2>/dev/null)
	expect "inner VM's kernel lists two VGA 1234:1111" "${n:-0}" 2
	n=$(grep -a -c 'L3 pci 0x8086:0x293e class 0x0403' /tmp/l3.log 2>/dev/null)
	expect "inner VM's kernel lists two HDA 8086:293e" "${n:-0}" 2
	[ $rc = 0 ] || tail -n 15 /tmp/l3.log 2>/dev/null | sed 's/^/  l3 console: /'
	restored_checks "after the inner VM with both GPUs powered off" "$G" "${native[@]}"
	check "no VM record left after --wait" test ! -e /run/vfiokit/vms/demo
}
