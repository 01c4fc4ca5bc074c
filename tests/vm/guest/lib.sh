# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Guest-side helpers for the scenarios of tests/vm (sourced by guest/run.sh inside the
# test guest). Results are lines on stdout:
#   PASS: what was proven      FAIL: what did not hold      SKIP: what could not be run, why
#   INFO: context for a human reading the log (not counted)

SYSPCI=/sys/bus/pci/devices
FAILS=0

ts()    { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(ts)" 'BEGIN { printf "%.1f", b - a }'; }
pass()  { echo "PASS: $*"; }
fail()  { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
skip()  { echo "SKIP: $*"; }
info()  { echo "INFO: $*"; }

# check DESC CMD... -> PASS/FAIL on the command's status
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
# expect DESC GOT WANT
expect() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1 (got '$2', want '$3')"; fi; }

# ---- PCI and IOMMU facts straight from sysfs ----
drv() { # BDF -> driver name or "none"
	if [ -e "$SYSPCI/$1/driver" ]; then basename "$(readlink "$SYSPCI/$1/driver")"; else echo none; fi
}
grp() { # BDF -> IOMMU group number or ""
	[ -e "$SYSPCI/$1/iommu_group" ] && basename "$(readlink "$SYSPCI/$1/iommu_group")"
}
ovr() { # BDF -> driver_override ("" when unset)
	local v; v=$(cat "$SYSPCI/$1/driver_override" 2>/dev/null); [ "$v" = "(null)" ] && v=; echo "$v"
}
group_devs() { ls "/sys/kernel/iommu_groups/$1/devices" 2>/dev/null | tr '\n' ' '; }
find_devs() { # VENDOR DEVICE [CLASS-PREFIX] -> matching BDFs, sorted (ids as in sysfs: 0x1234)
	local d
	for d in "$SYSPCI"/*; do
		[ "$(cat "$d/vendor")" = "$1" ] && [ "$(cat "$d/device")" = "$2" ] || continue
		[ -z "${3:-}" ] || case $(cat "$d/class") in "$3"*) ;; *) continue ;; esac
		basename "$d"
	done
}
find_dev() { find_devs "$@" | head -n1; }
# behind_port VENDOR DEVICE -> first match not on the root bus (a card in a slot, not
# the boot display that q_boot_vga puts at 0000:00:01.0)
behind_port() { find_devs "$@" | grep -v '^0000:00:' | head -n1; }
show() { lspci -nnk -s "$1" 2>/dev/null | sed 's/^/  /'; }

wait_drv() { # BDF DRIVER [SECONDS] -> 0 once the device is bound to DRIVER
	local i n=$(( ${3:-5} * 10 ))
	for ((i = 0; i < n; i++)); do [ "$(drv "$1")" = "$2" ] && return 0; sleep 0.1; done
	[ "$(drv "$1")" = "$2" ]
}

# nested_kvm: make /dev/kvm usable in the guest (kvm_amd or kvm_intel, after the CPU
# flag the emulated CPU offers). Status 0 ready; 1 it should work and does not (the
# reason on stdout: a FAIL); 2 the CPU offers neither SVM nor VMX (hardware: a SKIP).
# TCG's -cpu max always offers SVM, so in this bed only 0 is expected.
nested_kvm() {
	local m err i
	[ -c /dev/kvm ] && return 0
	if grep -qw svm /proc/cpuinfo; then m=kvm_amd
	elif grep -qw vmx /proc/cpuinfo; then m=kvm_intel
	else echo "the guest's CPU offers neither SVM nor VMX (run the bed with -cpu max)"; return 2; fi
	command -v modprobe > /dev/null || { echo "no modprobe in the guest (Debian package kmod)"; return 1; }
	err=$(modprobe "$m" 2>&1) || { echo "modprobe $m failed: $err"; return 1; }
	for ((i = 0; i < 20; i++)); do [ -c /dev/kvm ] && return 0; sleep 0.1; done
	echo "$m loaded but /dev/kvm did not appear"
	return 1
}

# Load the native driver of every PCI device, as udev coldplug would.
coldplug() {
	local a
	for a in $(cat "$SYSPCI"/*/modalias); do modprobe -q "$a" 2>/dev/null; done
}

# ---- the tools under test ----
tool() { [ -x "$VFK_BIN/$1" ] && echo "$VFK_BIN/$1"; }
# run_tool OUT-FILE TOOL ARGS... -> tool's status; stdout in OUT-FILE, stderr in OUT-FILE.err
# Every tool run is bounded (VFK_TOOL_TIMEOUT, 300 s): a wait that never ends
# (an inner VM that hangs under `up --wait`) is a failure with a name, not the
# whole guest's timeout.
run_tool() {
	local out=$1 t=$2; shift 2
	timeout -k 10 "${VFK_TOOL_TIMEOUT:-300}" "$VFK_BIN/$t" "$@" > "$out" 2> "$out.err"
	local rc=$?
	[ $rc = 124 ] && echo "$t $*: still running after ${VFK_TOOL_TIMEOUT:-300} s, stopped" >> "$out.err"
	[ -s "$out.err" ] && sed "s/^/  $t stderr: /" "$out.err" | head -n 20
	return $rc
}

# ---- raw sysfs binding (the kernel interface vfio-bind drives) ----
raw_bind() { # BDF... -> each onto vfio-pci
	local d
	modprobe vfio-pci
	for d in "$@"; do
		echo vfio-pci > "$SYSPCI/$d/driver_override"
		[ -e "$SYSPCI/$d/driver" ] && echo "$d" > "$SYSPCI/$d/driver/unbind"
		echo "$d" > /sys/bus/pci/drivers_probe
	done
}
raw_restore() { # BDF... -> override cleared, native driver probed
	local d
	for d in "$@"; do
		echo > "$SYSPCI/$d/driver_override"
		[ -e "$SYSPCI/$d/driver" ] && echo "$d" > "$SYSPCI/$d/driver/unbind"
		echo "$d" > /sys/bus/pci/drivers_probe
	done
}

# ---- VFIO group status through the C helper (tests/vm/vfio-group-status.c) ----
# group_status GROUP BDF -> 0 when the group is viable and a device fd was obtained
group_status() {
	"$VFK_GROUP_STATUS" "$1" "$2" > /tmp/vgs.out 2>&1
	local rc=$?
	sed 's/^/  vfio-group-status: /' /tmp/vgs.out
	return $rc
}

# ---- dmesg excerpts ----
DMARK=0
dmesg_mark()  { DMARK=$(dmesg | wc -l); }
dmesg_since() { dmesg | tail -n +$((DMARK + 1)) | grep -v 'Unhandled WRMSR' | sed 's/^/  dmesg: /' | tail -n "${1:-20}"; }

# ---- JSON oracle (python3 from the host root) ----
vfk_json() { python3 "$VFK_REPO/tests/vm/guest/vfk_json.py" "$@"; }
# gpu_field LS-JSON GPU KEY...: the KEYs of GPU in vfio-ls --json's gpus[], space-
# separated (a list comma-joined, a missing key "None")
gpu_field() {
	python3 -c '
import json, sys
try:
    gpus = json.load(open(sys.argv[1]))["gpus"]
except (OSError, ValueError, KeyError) as e:
    sys.exit("no vfio-ls JSON (%s)" % e)
g = {x["address"]: x for x in gpus}.get(sys.argv[2], {})
print(" ".join(",".join(v) if isinstance(v, list) else str(v)
               for v in (g.get(k) for k in sys.argv[3:])))' "$@" 2>&1
}

# relay CMD...: run a helper that prints PASS:/FAIL:/... lines and count its FAILs here;
# a helper that crashes or proves nothing is a failure itself
relay() {
	local l rc n=0
	"$@" > /tmp/relay.out 2>&1
	rc=$?
	while IFS= read -r l; do
		case $l in FAIL:*) FAILS=$((FAILS + 1)); n=$((n + 1)) ;; PASS:*) n=$((n + 1)) ;; esac
		printf '%s\n' "$l"
	done < /tmp/relay.out
	if [ $rc -gt 1 ] || [ $n = 0 ]; then fail "helper '$*' exited $rc after $n checks"; fi
}

# ---- shared bind/restore checks ----
# bound_checks LABEL GROUP BDF...: every BDF on vfio-pci, /dev/vfio/GROUP there, the
# group viable and a device fd obtainable for the first BDF
bound_checks() {
	local l=$1 g=$2 d; shift 2
	for d in "$@"; do wait_drv "$d" vfio-pci 3; expect "$l: $d on vfio-pci" "$(drv "$d")" vfio-pci; done
	check "$l: /dev/vfio/$g exists" test -c "/dev/vfio/$g"
	check "$l: VFIO group $g viable, device fd for $1 obtained (vfio-group-status)" group_status "$g" "$1"
}
# restored_checks LABEL GROUP BDF=DRIVER...: each back on its native driver with no
# driver_override left, /dev/vfio/GROUP gone
restored_checks() {
	local l=$1 g=$2 p d w; shift 2
	for p in "$@"; do
		d=${p%%=*} w=${p#*=}
		wait_drv "$d" "$w" 5
		expect "$l: $d back on $w" "$(drv "$d")" "$w"
		expect "$l: $d driver_override cleared" "$(ovr "$d")" ""
	done
	check "$l: /dev/vfio/$g gone" test ! -e "/dev/vfio/$g"
}
# leave_restored VM BDF=DRIVER...: whatever failed before, the guest's host ends restored
# (quietly when it already is): the VM down if vfiokit still has it up, leftovers given back
leave_restored() {
	local vm=$1
	shift
	[ -e "/run/vfiokit/vms/$vm" ] && run_tool /tmp/leave-down.out vfio-vm down "$vm" --timeout 5
	if ! all_native "$@" && [ -n "$(tool vfio-bind)" ]; then
		run_tool /tmp/leave-restore.out vfio-bind restore --all
		info "leftovers restored by vfio-bind restore --all (exit $?)"
	fi
}
# all_native BDF=DRIVER...: quiet form of restored_checks, for loops
all_native() {
	local p
	for p in "$@"; do
		wait_drv "${p%%=*}" "${p#*=}" 5 || return 1
		[ -z "$(ovr "${p%%=*}")" ] || return 1
	done
}
