#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Launch tests with real parts: a real libvirtd (local UNIX socket and a
# loopback TCP endpoint), real QEMU (TCG), a real Debian kernel booting a tiny
# busybox guest that reports the GPU it sees on its serial console.
# Ends with "N passed, N failed, N skipped".
#
# Environment: VFK_BIN (default build/bin), VFK_VM_CACHE (kernel cache shared
# with tests/vm), VFK_LAUNCH_TIMEOUT (seconds to wait for the guest, default 120).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BIN=${VFK_BIN:-$TOP/build/bin}
TMO=${VFK_LAUNCH_TIMEOUT:-120}
P=0 F=0 S=0
pass() { echo "PASS: $*"; P=$((P + 1)); }
fail() { echo "FAIL: $*"; F=$((F + 1)); }
skip() { echo "SKIP: $*"; S=$((S + 1)); }
finish() { echo "$P passed, $F failed, $S skipped"; [ "$F" -eq 0 ]; exit $?; }

if [ "$(id -u)" != 0 ]; then
	skip "launch tests: need root to run libvirtd and bind devices"
	finish
fi
# ---- real parts: packages, kernel, daemons --------------------------------
# every package comes from scripts/packages.list (make check installs it first)
if ! miss=$("$TOP/scripts/deps.sh" --check check); then
	fail "launch tests: $miss"
	finish
fi
"$TOP/tests/vm/setup.sh" >/dev/null 2>&1
rc=$?
if [ $rc = 77 ]; then skip "launch tests: no guest kernel (tests/vm/setup.sh skipped)"; finish; fi
[ $rc = 0 ] || { fail "tests/vm/setup.sh failed (exit $rc)"; finish; }
CACHE=${VFK_VM_CACHE:-$TOP/tests/vm/cache}
KERNEL=$(ls "$CACHE"/kernel/boot/vmlinuz-* 2>/dev/null | head -n 1)
[ -n "$KERNEL" ] || { fail "no kernel in $CACHE"; finish; }
WORK=$(mktemp -d /var/tmp/vfk-launch.XXXXXX)
chmod 755 "$WORK"	# libvirt's QEMU runs as libvirt-qemu and reads kernel, initrd, logs here
cleanup() {
	for d in $(virsh -c qemu:///system list --all --name 2>/dev/null | grep '^vfk-launch'); do
		virsh -c qemu:///system destroy "$d" >/dev/null 2>&1
		virsh -c qemu:///system undefine --nvram "$d" >/dev/null 2>&1
		rm -f "/var/lib/vfiokit/domains/$d.xml"
	done
	local f pid i
	for f in "${DAEMONS[@]}"; do
		pid=$(cat "$f" 2>/dev/null) || continue
		kill -TERM "$pid" 2>/dev/null || continue
		for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$pid" 2>/dev/null
	done
	[ "$HOOK_OURS" = 1 ] && rm -f "$HOOK"
	if [ -n "${LUID:-}" ]; then	# the suite's user, with whatever it still runs
		pkill -KILL -u "$LUID" 2>/dev/null
		userdel "$LUSER" 2>/dev/null
	fi
	rm -rf "$WORK"
}
DAEMONS=()
trap cleanup EXIT
# An ordinary user of the suite's own (issue 23), for the rootless and run-as tests:
# made here (a name of ours: one left by a killed run is taken over), removed at the end
LUSER=vfk-launch-user
id -u "$LUSER" >/dev/null 2>&1 ||
	useradd --no-create-home --user-group --shell /usr/sbin/nologin "$LUSER" 2>"$WORK/useradd.err"
LUID=$(id -u "$LUSER" 2>/dev/null) LGID=$(id -g "$LUSER" 2>/dev/null)
[ -n "$LUID" ] && [ "$LUID" != 0 ] || { fail "making the suite's user $LUSER: $(cat "$WORK/useradd.err")"; LUID=; finish; }
"$HERE/mkguest.sh" "$WORK/guest.cpio.gz" || { fail "building the guest initramfs"; finish; }
cp "$KERNEL" "$WORK/vmlinuz"
chmod 644 "$WORK/vmlinuz" "$WORK/guest.cpio.gz"

# libvirtd below a subreaper (see subreaper.py: the QEMUs it daemonizes must be
# reaped, and PID 1 here may not reap); returns once libvirtd -d has set up
start_libvirtd() {
	local i
	rm -f "$WORK/libvirtd.pid"
	"$HERE/subreaper.py" libvirtd -d --listen -f "$HERE/libvirtd-test.conf" -p "$WORK/libvirtd.pid" \
		</dev/null >/dev/null 2>"$WORK/libvirtd.start" &
	for ((i = 0; i < 100; i++)); do [ -s "$WORK/libvirtd.pid" ] && break; sleep 0.1; done
}
# daemons this run starts are ended by their pid when it ends (libvirtd first)
if ! pgrep -x virtlogd >/dev/null; then
	virtlogd -d -p "$WORK/virtlogd.pid" && DAEMONS=("$WORK/virtlogd.pid" "${DAEMONS[@]}")
fi
# vfiokit's libvirt hook, calling this build's vfio-vm: libvirtd loads hooks
# only when it starts, so only a libvirtd this run starts has it
HOOK=/etc/libvirt/hooks/qemu.d/vfiokit HOOK_OURS=0
if ! pgrep -x libvirtd >/dev/null && [ ! -e "$HOOK" ]; then
	mkdir -p "${HOOK%/*}"
	sed "s|@BINDIR@|$BIN|g" "$TOP/libvirt/qemu-hook" > "$HOOK" && chmod 755 "$HOOK" && HOOK_OURS=1
fi
if ! pgrep -x libvirtd >/dev/null; then
	start_libvirtd
	[ -s "$WORK/libvirtd.pid" ] || { fail "starting libvirtd: $(cat "$WORK/libvirtd.start")"; finish; }
	DAEMONS=("$WORK/libvirtd.pid" "${DAEMONS[@]}")
	STARTED_LIBVIRTD=1
fi
for _ in $(seq 50); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.2; done
virsh -c qemu:///system version >/dev/null 2>&1 || { fail "libvirtd does not answer"; finish; }
REMOTE=0
virsh -c qemu+tcp://127.0.0.1/system version >/dev/null 2>&1 && REMOTE=1

profile() {	# name hold -> path
	cat > "$WORK/$1.ini" <<EOT
[vm]
name = $1
memory = 256M
vcpus = 1
os = linux
firmware = bios
kernel = $WORK/vmlinuz
initrd = $WORK/guest.cpio.gz
cmdline = console=ttyS0 panic=-1 vfk_hold=$2
serial = pty
[tuning]
hugepages = no
iothreads = 0
[gpu]
mode = virtio
virgl = no
[display]
type = none
[network]
type = none
EOT
	echo "$WORK/$1.ini"
}

wait_console() {	# log pattern -> 0 when seen within TMO
	local t=0
	while [ $t -lt $((TMO * 5)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.2; t=$((t + 1))
	done
	return 1
}

domstate() { virsh -c "${2:-qemu:///system}" domstate "$1" 2>/dev/null | head -n 1; }
# every run of the tool is bounded: a libvirtd that stops answering (it once
# hung in its own QEMU capability probe) is a named failure, not a hung suite
vfio_vm() { timeout -k 5 "${VFK_TOOL_TIMEOUT:-300}" "$BIN/vfio-vm" "$@"; }
VM=vfio_vm
# a run that was killed halfway leaves records behind: end those VMs first
for n in lv tr rm qm wt lw bad qw qk qn qd hp hd hr ke kh ue us lu ls; do
	"$VM" down "vfk-launch-$n" --timeout 1 --undefine -q >/dev/null 2>&1
	"$VM" down "vfk-launch-$n" --undefine --backend qemu -q >/dev/null 2>&1
done

# ---- libvirt, local --------------------------------------------------------
prof=$(profile vfk-launch-lv 1)
log=$WORK/lv.log
if "$VM" up "$prof" --console-log "$log" -q; then
	pass "up (libvirt) defines and starts the domain"
	[ "$(domstate vfk-launch-lv)" = running ] && pass "libvirt reports the domain running" \
		|| fail "domain state is '$(domstate vfk-launch-lv)'"
	if wait_console "$log" "saw GPU 0x1af4:0x1050"; then
		pass "the guest kernel saw its virtio-gpu (1af4:1050) on the serial console"
	else
		fail "no GPU line on the guest console within ${TMO}s; tail: $(tail -n 3 "$log" 2>/dev/null | tr '\n' '|')"
	fi
	st=$("$VM" status --json)
	echo "$st" | python3 -c 'import json,sys; d=json.load(sys.stdin); v=[x for x in d["vms"] if x["name"]=="vfk-launch-lv"]; sys.exit(0 if v and v[0]["state"]=="running" and v[0]["backend"]=="libvirt" else 1)' \
		&& pass "status --json shows the VM running on libvirt" || fail "status --json: $st"
	"$VM" up "$prof" -q 2>"$WORK/err"; rc=$?
	[ $rc = 1 ] && grep -q "already up" "$WORK/err" && [ "$(wc -l < "$WORK/err")" -le 2 ] \
		&& pass "a second up of the same VM is refused (exit 1, 'already up')" \
		|| fail "second up: exit $rc: $(cat "$WORK/err")"
	if "$VM" down vfk-launch-lv --timeout 5 -q; then
		pass "down stops the VM (ACPI, then forced after 5 s)"
	else
		fail "down failed"
	fi
	[ "$(domstate vfk-launch-lv)" = "shut off" ] \
		&& pass "down keeps the domain defined (shut off): it is the user's VM" \
		|| fail "after down the domain is '$(domstate vfk-launch-lv)', not shut off"
	[ -e /run/vfiokit/vms/vfk-launch-lv ] && fail "VM record left in /run/vfiokit/vms" \
		|| pass "down drops the VM record"
	"$VM" up "$prof" -q && "$VM" down vfk-launch-lv --timeout 2 -q \
		&& pass "up of a VM whose domain is defined starts it again" \
		|| fail "second up/down of the kept domain failed"
else
	fail "up (libvirt) failed"
fi
. "$HERE/keep.sh"
. "$HERE/roundtrip.sh"

# ---- libvirt, transient -----------------------------------------------------
prof=$(profile vfk-launch-tr 1)
if "$VM" up "$prof" --transient -q; then
	p=$(virsh -c qemu:///system dominfo vfk-launch-tr 2>/dev/null | awk '/^Persistent:/{print $2}')
	[ "$p" = no ] && pass "up --transient creates a transient domain" || fail "transient domain persistent='$p'"
	"$VM" down vfk-launch-tr --timeout 2 -q && ! virsh -c qemu:///system dominfo vfk-launch-tr >/dev/null 2>&1 \
		&& pass "down of a transient domain leaves nothing" || fail "transient down"
else
	fail "up --transient failed"
fi

# ---- libvirt, remote over TCP ------------------------------------------------
if [ $REMOTE = 1 ]; then
	prof=$(profile vfk-launch-rm 1)
	# through libvirt this host's KVM looks usable (libvirt's own capabilities
	# say so) although it cannot run a normal guest here: say TCG
	sed -i 's/^vcpus = 1$/vcpus = auto\naccel = tcg/' "$prof"
	# the plan reads the host through libvirt (node devices, capabilities)
	cpu_of() { python3 -c 'import json,sys; d=json.load(sys.stdin); c=d["cpu"]; print(c["vcpus"], c["topology"], c["pinning"], c["emulator_cpus"])'; }
	l=$("$VM" plan "$prof" --json | cpu_of)
	r=$("$VM" plan "$prof" --connect qemu+tcp://127.0.0.1/system --json | cpu_of)
	[ -n "$l" ] && [ "$l" = "$r" ] \
		&& pass "plan --connect qemu+tcp://127.0.0.1/system reads the host through libvirt: vCPUs, topology and pinning as from sysfs ($r)" \
		|| fail "remote plan differs: local '$l', through libvirt '$r'"
	if "$VM" up "$prof" --connect qemu+tcp://127.0.0.1/system -q; then
		[ "$(domstate vfk-launch-rm qemu+tcp://127.0.0.1/system)" = running ] \
			&& pass "up --connect qemu+tcp://127.0.0.1/system starts the VM on the remote endpoint" \
			|| fail "remote domain state '$(domstate vfk-launch-rm qemu+tcp://127.0.0.1/system)'"
		"$VM" status vfk-launch-rm | grep "qemu+tcp://127.0.0.1/system" >/dev/null \
			&& pass "status names the remote URI" || fail "status lacks the URI"
		"$VM" down vfk-launch-rm --timeout 2 -q && pass "down reaches the remote endpoint" || fail "remote down"
	else
		fail "up --connect qemu+tcp://127.0.0.1/system failed"
	fi
else
	skip "remote libvirt: libvirtd was already running without the test TCP endpoint"
fi

# ---- plain QEMU with QMP -----------------------------------------------------
prof=$(profile vfk-launch-qm 1)
log=$WORK/qm.log
if "$VM" up "$prof" --backend qemu --console-log "$log" -q; then
	pass "up --backend qemu starts QEMU"
	wait_console "$log" "saw GPU 0x1af4:0x1050" && pass "the QEMU guest saw its virtio-gpu" \
		|| fail "no GPU line from the QEMU guest"
	"$VM" status vfk-launch-qm | grep "running" >/dev/null && pass "status asks QEMU over QMP: running" \
		|| fail "status: $("$VM" status vfk-launch-qm)"
	pid=$("$VM" status vfk-launch-qm --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["vms"][0]["pid"])')
	# the plan's pinning, as the kernel reports each QEMU thread's affinity
	if pins=$("$VM" plan "$prof" --json | python3 -c 'import json,sys; c=json.load(sys.stdin)["cpu"]; print(",".join(map(str,c["pinning"])), c["emulator_cpus"] or "")') \
	   && [ -n "${pins%% *}" ]; then
		got=$(for t in /proc/"$pid"/task/*; do
			printf '%s=%s;' "$(cat "$t/comm")" "$(awk '/^Cpus_allowed_list/ {print $2}' "$t/status")"
		done)
		want_vcpu=${pins%% *} want_emu=${pins#* } bad=
		IFS=';' read -ra th <<<"$got"
		for x in "${th[@]}"; do
			case ${x%%=*} in
			"CPU 0/"*) [ "${x#*=}" = "$want_vcpu" ] || bad+=" $x" ;;
			*) [ "${x#*=}" = "$want_emu" ] || bad+=" $x" ;;
			esac
		done
		[ -z "$bad" ] && echo "$got" | grep "CPU 0/" >/dev/null \
			&& pass "QEMU's vCPU thread runs on CPU $want_vcpu, its other threads on $want_emu, as planned" \
			|| fail "thread affinity differs from the plan (vCPU $want_vcpu, others $want_emu):${bad:- no vCPU thread} [$got]"
	else
		skip "the plan pins nothing on this host"
	fi
	# gone, or a zombie that init has not reaped yet
	"$VM" down vfk-launch-qm --timeout 2 -q && { ! kill -0 "$pid" 2>/dev/null ||
		[ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = Z ]; } \
		&& pass "down ends QEMU (powerdown, then quit over QMP)" || fail "QEMU $pid still there after down"
else
	fail "up --backend qemu failed"
fi

# the TPM: swtpm started for QEMU, state kept for the next boot, gone after down
prof=$(profile vfk-launch-tpm 1)
sed -i 's/^firmware = bios$/&\ntpm = yes/' "$prof"
log=$WORK/tpm.log
rm -rf /var/lib/vfiokit/swtpm/vfk-launch-tpm
if "$VM" up "$prof" --backend qemu --console-log "$log" -q 2>"$WORK/err"; then
	tpid=$(sed -n 's/^swtpm=//p' /run/vfiokit/vms/vfk-launch-tpm)
	[ "${tpid:-0}" -gt 0 ] && [ "$(cat /proc/"$tpid"/comm 2>/dev/null)" = swtpm ] \
		&& pass "up starts swtpm for a VM with a TPM (pid $tpid)" || fail "no swtpm process recorded (${tpid:-none})"
	wait_console "$log" "saw TPM MSFT0101" && pass "the guest sees a TPM 2.0 (ACPI MSFT0101, tpm-crb)" \
		|| fail "no TPM in the guest: $(grep VFK-GUEST "$log" | tr '\n' ' ')"
	# gone, or a zombie that init has not reaped yet
	"$VM" down vfk-launch-tpm --timeout 2 -q && { ! kill -0 "$tpid" 2>/dev/null ||
		[ "$(ps -o stat= -p "$tpid" 2>/dev/null | cut -c1)" = Z ]; } \
		&& [ ! -e /run/vfiokit/vm/vfk-launch-tpm ] \
		&& pass "down ends QEMU and its swtpm, and removes the TPM's socket directory" \
		|| fail "swtpm $tpid or /run/vfiokit/vm/vfk-launch-tpm still there after down"
	ls /var/lib/vfiokit/swtpm/vfk-launch-tpm/tpm2-00.permall >/dev/null 2>&1 \
		&& [ "$(stat -c %a /var/lib/vfiokit/swtpm/vfk-launch-tpm)" = 700 ] \
		&& pass "the TPM's state is kept in /var/lib/vfiokit/swtpm/vfk-launch-tpm (0700)" \
		|| fail "TPM state not kept: $(ls -la /var/lib/vfiokit/swtpm/vfk-launch-tpm 2>&1 | tr '\n' ' ')"
	rm -rf /var/lib/vfiokit/swtpm/vfk-launch-tpm
else
	fail "up of a VM with a TPM (qemu backend): $(cat "$WORK/err")"
fi

# the same TPM through libvirt, which runs swtpm (and swtpm_setup) itself
prof=$(profile vfk-launch-ltpm 1)
sed -i 's/^firmware = bios$/&\ntpm = yes/' "$prof"
log=$WORK/ltpm.log
if "$VM" up "$prof" --console-log "$log" -q 2>"$WORK/err"; then
	wait_console "$log" "saw TPM MSFT0101" && pass "libvirt: the guest sees a TPM 2.0 (<tpm model='tpm-crb'>, swtpm by libvirt)" \
		|| fail "libvirt: no TPM in the guest: $(grep VFK-GUEST "$log" | tr '\n' ' ')"
	"$VM" down vfk-launch-ltpm --timeout 2 -q || fail "libvirt TPM VM: down failed"
else
	fail "up of a VM with a TPM (libvirt): $(cat "$WORK/err")"
fi

. "$HERE/uefi.sh"
. "$HERE/rootless.sh"
. "$HERE/newdisk.sh"
. "$HERE/installed.sh"
. "$HERE/runas.sh"
. "$HERE/journey.sh"

prof=$(profile vfk-launch-wt 0)
log=$WORK/wt.log
if timeout $((TMO + 30)) "$BIN/vfio-vm" up "$prof" --backend qemu --console-log "$log" --wait -q; then
	grep -q "saw GPU" "$log" && [ ! -e /run/vfiokit/vms/vfk-launch-wt ] \
		&& pass "up --wait returns when the guest powers itself off, and cleans up" \
		|| fail "up --wait: console or record wrong"
else
	fail "up --wait failed or hung"
fi

prof=$(profile vfk-launch-lw 0)
log=$WORK/lw.log
if timeout $((TMO + 30)) "$BIN/vfio-vm" up "$prof" --console-log "$log" --wait -q; then
	[ "$(domstate vfk-launch-lw)" = "shut off" ] && [ ! -e /run/vfiokit/vms/vfk-launch-lw ] \
		&& pass "up --wait (libvirt lifecycle event) cleans up when the guest powers off, the domain kept" \
		|| fail "libvirt --wait: domain '$(domstate vfk-launch-lw)', record $(ls /run/vfiokit/vms/vfk-launch-lw 2>&1)"
	"$VM" down vfk-launch-lw --undefine -q && ! virsh -c qemu:///system dominfo vfk-launch-lw >/dev/null 2>&1 \
		&& pass "down --undefine of a VM that is not up undefines its domain" \
		|| fail "down --undefine left vfk-launch-lw defined"
else
	fail "up --wait (libvirt) failed or hung"
fi

# ---- the host restored however the VM ends (no terminal kept open) ----------
gone_within() {	# NAME SECONDS -> 0 when the VM's record is gone in time
	local t
	for ((t = 0; t < $2 * 5; t++)); do
		[ -e "/run/vfiokit/vms/$1" ] || return 0
		sleep 0.2
	done
	return 1
}
# live watchers (an exited one stays a zombie until whatever adopted it reaps it)
watchers() { ps -eo stat=,pid=,comm= | awk '$3 == "vfk-watch" && $1 !~ /^Z/ {printf "%s ", $2}'; }

# QEMU: a watcher process restores the host when QEMU ends
prof=$(profile vfk-launch-qw 0)
if "$VM" up "$prof" --backend qemu --console-log "$WORK/qw.log" -q; then
	"$VM" status vfk-launch-qw | grep "restored by the watcher (pid [0-9]*)" >/dev/null \
		&& pass "up --backend qemu arms a watcher; status names it" \
		|| fail "status of a watched VM: $("$VM" status vfk-launch-qw 2>&1 | tr '\n' '|')"
	gone_within vfk-launch-qw $((TMO + 10)) && grep -q "saw GPU" "$WORK/qw.log" && [ -z "$(watchers)" ] \
		&& pass "the guest powered itself off: its watcher cleaned up and ended, no terminal kept open" \
		|| fail "after the guest's poweroff: record $(ls /run/vfiokit/vms/vfk-launch-qw 2>&1), watchers '$(watchers)'"
else
	fail "up --backend qemu (watched) failed"
fi
prof=$(profile vfk-launch-qk 1)
if "$VM" up "$prof" --backend qemu -q; then
	pid=$(sed -n 's/^pid=//p' /run/vfiokit/vms/vfk-launch-qk)
	kill -KILL "$pid"
	gone_within vfk-launch-qk 10 && [ -z "$(watchers)" ] \
		&& pass "kill -9 of QEMU: the watcher restored the host within 10 s" \
		|| fail "kill -9 of QEMU $pid: record still there or watcher left ('$(watchers)')"
else
	fail "up --backend qemu (for kill -9) failed"
fi
prof=$(profile vfk-launch-qn 1)
if "$VM" up "$prof" --backend qemu -q; then
	w=$(sed -n 's/^watcher=//p' /run/vfiokit/vms/vfk-launch-qn)
	kill -KILL "$w"
	sleep 0.3
	"$VM" status vfk-launch-qn | grep "nothing restores the host until vfio-vm down vfk-launch-qn" >/dev/null \
		&& pass "a killed watcher: status says nothing restores the host" \
		|| fail "status after the watcher was killed: $("$VM" status vfk-launch-qn 2>&1 | tr '\n' '|')"
	"$VM" down vfk-launch-qn --timeout 2 -q && [ ! -e /run/vfiokit/vms/vfk-launch-qn ] \
		&& pass "down still restores a VM whose watcher is gone" || fail "down after the watcher was killed"
else
	fail "up --backend qemu (for the killed watcher) failed"
fi
prof=$(profile vfk-launch-qd 1)
if "$VM" up "$prof" --backend qemu -q; then
	"$VM" down vfk-launch-qd --timeout 2 -q && [ ! -e /run/vfiokit/vms/vfk-launch-qd ] && [ -z "$(watchers)" ] \
		&& pass "down ends the watcher first and cleans up alone" \
		|| fail "down of a watched VM: watchers '$(watchers)'"
else
	fail "up --backend qemu (for down) failed"
fi

# libvirt: its release hook calls vfio-vm release, whatever stopped the domain
if [ "$HOOK_OURS" = 1 ]; then
	prof=$(profile vfk-launch-hp 0)
	if "$VM" up "$prof" --console-log "$WORK/hp.log" -q; then
		"$VM" status vfk-launch-hp | grep "restored by the libvirt hook /etc/libvirt/hooks/qemu.d/vfiokit" >/dev/null \
			&& pass "up (libvirt) with the hook installed: status says the hook restores the host" \
			|| fail "status of a hooked VM: $("$VM" status vfk-launch-hp 2>&1 | tr '\n' '|')"
		gone_within vfk-launch-hp $((TMO + 10)) && grep -q "saw GPU" "$WORK/hp.log" \
			&& pass "libvirt: the guest powered itself off and the release hook cleaned up" \
			|| fail "libvirt poweroff: record still there"
	else
		fail "up (libvirt, hooked) failed"
	fi
	prof=$(profile vfk-launch-hd 1)
	if "$VM" up "$prof" -q; then
		virsh -c qemu:///system destroy vfk-launch-hd >/dev/null 2>&1
		gone_within vfk-launch-hd 10 && pass "virsh destroy: the release hook cleaned up within 10 s" \
			|| fail "virsh destroy: record still there"
		virsh -c qemu:///system undefine vfk-launch-hd >/dev/null 2>&1
	else
		fail "up (libvirt, for destroy) failed"
	fi
	prof=$(profile vfk-launch-hr 1)
	if [ "${STARTED_LIBVIRTD:-0}" = 1 ] && "$VM" up "$prof" -q; then
		pid=$(cat "$WORK/libvirtd.pid")
		kill -TERM "$pid"
		for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
		start_libvirtd
		for _ in $(seq 50); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.2; done
		[ "$(domstate vfk-launch-hr)" = running ] && [ -e /run/vfiokit/vms/vfk-launch-hr ] \
			&& pass "libvirtd restarted while the VM runs: VM and record kept" \
			|| fail "after the libvirtd restart: state '$(domstate vfk-launch-hr)'"
		virsh -c qemu:///system destroy vfk-launch-hr >/dev/null 2>&1
		gone_within vfk-launch-hr 10 && pass "after the libvirtd restart the release hook still cleans up" \
			|| fail "after the libvirtd restart: record still there after destroy"
		virsh -c qemu:///system undefine vfk-launch-hr >/dev/null 2>&1
	else
		skip "libvirtd restart: this run did not start libvirtd"
	fi
else
	skip "the libvirt hook: libvirtd was already running or $HOOK exists (libvirtd loads hooks when it starts)"
fi

# ---- failures are undone -----------------------------------------------------
prof=$(profile vfk-launch-bad 1)
sed -i "s|^kernel = .*|kernel = $WORK/no-such-kernel|" "$prof"
"$VM" up "$prof" --backend qemu -q 2>"$WORK/err"; rc=$?
[ $rc = 3 ] && [ ! -e /run/vfiokit/vms/vfk-launch-bad ] && grep -q "QEMU exited at start" "$WORK/err" \
	&& pass "a QEMU that cannot start is reported in one line and leaves no record" \
	|| fail "bad kernel (qemu): exit $rc: $(cat "$WORK/err")"
"$VM" up "$prof" -q 2>"$WORK/err"; rc=$?
[ $rc = 3 ] && ! virsh -c qemu:///system dominfo vfk-launch-bad >/dev/null 2>&1 \
	&& pass "a domain libvirt cannot start is undefined again (exit 3)" \
	|| fail "bad kernel (libvirt): exit $rc: $(cat "$WORK/err")"
"$VM" down no-such-vm 2>"$WORK/err"; rc=$?
[ $rc = 1 ] && pass "down of an unknown VM: exit 1, one line" || fail "down unknown: exit $rc"

finish
