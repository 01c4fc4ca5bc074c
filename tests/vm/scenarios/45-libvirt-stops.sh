# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034  # SCEN_* are read by tests/vm/lib.sh
# Scenario 45: the libvirt backend restores the host however the VM ends. Inside the
# guest a real libvirtd (this machine's, run as the guest's system instance, configs in
# the tmpfs overlay) carries vfiokit's shipped hook libvirt/qemu-hook as `make install`
# installs it (/etc/libvirt/hooks/qemu.d/vfiokit, calling the tools under test);
# `vfio-vm up --backend libvirt` gives the GPU-like card to a nested-KVM inner VM.
# Nothing of vfiokit stays running: only libvirt's release hook (`vfio-vm release
# NAME`) can put the card back, when the inner VM powers itself off, on `virsh
# destroy`, after a libvirtd restart, and when QEMU died while libvirtd was down. The
# domain stays defined: a later up starts it as defined, or with --redefine (here: the
# inner VM told to stay up) replaces its definition with the profile's; a foreign
# domain of the same name it leaves alone.
SCEN_DESC="libvirt backend: the release hook restores the host whatever ends the VM (poweroff, destroy, libvirtd restart, QEMU killed while libvirtd is down)"
SCEN_TIMEOUT=420	# runs in 130-170 s; a guest the bed freezes costs less before its rerun
SCEN_MEM=1536M

scen_qemu() {
	q_boot_vga
	q_root_port rp1 0x2
	q_gpu gpu0 rp1
}

HOLD="vm.cmdline=console=ttyS0 panic=-1 vfk_hold=1"	# the inner VM stays up
HOOK=/etc/libvirt/hooks/qemu.d/vfiokit
REC=/run/vfiokit/vms/demo
LVPID=/run/libvirtd.pid

# every virsh call bounded: a libvirtd that hangs is a failure, not a stuck guest
lv() { timeout 30 virsh -q -c qemu:///system "$@"; }
domstate() { lv domstate demo 2>/dev/null | head -n1; }

# ---- the guest's libvirtd -------------------------------------------------------
# Configs go into the overlay's /etc/libvirt: the guest is its own machine, so its
# libvirtd is the normal system instance (sockets in /run/libvirt). QEMU runs as root
# with no DAC relabelling, namespaces or cgroups (the chroot has neither systemd nor a
# cgroup mount), and writes its own logs (no virtlogd).
lvd_config() {
	cat > /etc/libvirt/libvirtd.conf <<-'EOF'
	auth_unix_ro = "none"
	auth_unix_rw = "none"
	log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
	EOF
	cat > /etc/libvirt/qemu.conf <<-'EOF'
	user = "root"
	group = "root"
	dynamic_ownership = 0
	remember_owner = 0
	security_driver = "none"
	stdio_handler = "file"
	namespaces = [ ]
	cgroup_controllers = [ ]
	EOF
	mkdir -p /var/log/libvirt/qemu /var/lib/libvirt /run/libvirt
	# libvirtd's first start probes every qemu-system-* it finds (QEMU runs per binary
	# and accelerator, many seconds each under TCG): the overlay hides the i386 one,
	# which no VM here uses
	rm -f /usr/bin/qemu-system-i386
	: > /var/log/libvirt/libvirtd.log	# the host's own lines stay out of this run's
}

lvd_answers() { virsh -q -c qemu:///system version > /dev/null 2>&1; }
lvd_up() { # -> 0 once libvirtd answers (at most 60 s)
	libvirtd -d -p "$LVPID" || return 1
	within 60 lvd_answers
}

lvd_gone() { ! kill -0 "$1" 2> /dev/null; }
lvd_down() { # SIGTERM, then (after 20 s) SIGKILL -> 0 once the daemon is gone
	local pid
	pid=$(cat "$LVPID" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	within 20 lvd_gone "$pid" && return 0
	kill -KILL "$pid" 2>/dev/null
	within 5 lvd_gone "$pid"
}

lvd_log() { tail -n "${1:-15}" /var/log/libvirt/libvirtd.log 2>/dev/null | sed 's/^/  libvirtd.log: /'; }

# The shipped hook, installed as a packager would: on the host (fast, and the guest
# never compiles) `make -o all install` into a staging root with BINDIR the tools under
# test; the guest copies the staged hook into its overlay's /etc.
scen_prepare() {
	local st=$RUN/45-stage
	rm -rf "$st"
	make -s -C "$REPO" -o all install DESTDIR="$st" BINDIR="$BIN" || {
		echo "make -o all install DESTDIR=$st BINDIR=$BIN failed"
		return 1
	}
	scen_env VFK_STAGE "$st"
}

install_hook() {
	check "make install staged an executable $HOOK" test -x "$VFK_STAGE$HOOK"
	check "the staged hook calls this build's vfio-vm release" \
		grep -q "^$VFK_BIN/vfio-vm release \"\$1\"" "$VFK_STAGE$HOOK"
	mkdir -p "${HOOK%/*}"
	install -m 755 "$VFK_STAGE$HOOK" "$HOOK"
}

# run_tool vfio-vm with a bound: a vfio-vm stuck on libvirt is one failure, not a
# guest that hangs until the scenario's timeout
vm_tool() { # OUT SECONDS ARGS...
	local out=$1 s=$2 rc
	shift 2
	timeout -k 5 "$s" "$VFK_BIN/vfio-vm" "$@" > "$out" 2> "$out.err"
	rc=$?
	[ -s "$out.err" ] && sed "s/^/  vfio-vm stderr: /" "$out.err" | head -n 20
	[ $rc = 124 ] && echo "  vfio-vm $1 killed after $s s"
	return $rc
}

# vfio-vm up with the demo profile on the guest's libvirtd, the card picked by address
vm_up() { # OUT CONSOLE-LOG [extra options...]
	local out=$1 log=$2
	shift 2
	rm -f "$log"
	vm_tool "$out" 120 up "$VFK_REPO/configs/demo.ini" --backend libvirt \
		--connect qemu:///system --set "gpu.device=$GPU" --set "vm.kernel=$VFK_L3_KERNEL" \
		--set "vm.initrd=$VFK_L3_INITRD" --console-log "$log" "$@"
}

# within SECONDS CMD...: 0 as soon as CMD succeeds, 1 once SECONDS of wall time have
# passed (bash's SECONDS: a loop of forks is much slower than its count under TCG)
within() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}
l3_done() { grep -q "L3 done" "$1" 2> /dev/null; }	# the inner VM listed its devices
record_gone() { [ ! -e "$REC" ]; }			# the host restored (the record dropped)

# dead PID: gone, or a zombie nobody has reaped yet
dead() { [ ! -d "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }

# QEMU of the domain, as libvirt recorded it
qemu_pid() { cat /run/libvirt/qemu/demo.pid 2>/dev/null; }

# The host as it was before up: card and audio function on their native drivers, no
# vfio-vm left running, no VM record (vfio-vm status lists nothing).
restored() { # LABEL
	restored_checks "$1" "$G" "$GPU=bochs-drm" "$HDA=snd_hda_intel"
	check "$1: no vfio-vm process left" test -z "$(pgrep -x vfio-vm)"
	vm_tool /tmp/st.json 30 status --json
	check "$1: vfio-vm status --json lists no VM" grep -q -x '{"vms":\[\]}' /tmp/st.json
}

# A VM that should be gone and is not: end it so the next case starts clean.
cleanup_vm() {
	[ -e "$REC" ] || return 0
	info "cleaning up after a failed case: virsh destroy, vfio-vm down"
	lv destroy demo > /dev/null 2>&1
	vm_tool /tmp/cleanup.out 60 down demo --timeout 2
	lvd_log 10
}

# status --json of a running VM: on libvirt qemu:///system, running, both functions
# held, and the restore armed by the hook (field "restore"; no watcher process: on
# libvirt nothing of vfiokit stays running)
status_checks() { # LABEL
	local got
	vm_tool /tmp/status.json 30 status demo --json
	got=$(python3 - /tmp/status.json "$GPU" "$HDA" <<-'EOF'
	import json, sys
	v = json.load(open(sys.argv[1]))["vms"]
	v = v[0] if len(v) == 1 else {}
	want = {"name": "demo", "backend": "libvirt", "uri": "qemu:///system", "state": "running"}
	bad = ["%s=%s" % (k, v.get(k)) for k in want if v.get(k) != want[k]]
	held = sorted(d["address"] for d in v.get("devices", []))
	if held != sorted(sys.argv[2:4]):
	    bad.append("devices=%s" % ",".join(held))
	print(" ".join(bad) or "ok")
	print(v.get("restore"))
	EOF
	)
	check "$1: status --json: demo on libvirt qemu:///system, running, $GPU and $HDA held$([ "${got%%$'\n'*}" = ok ] || echo " (got: ${got%%$'\n'*})")" \
		test "${got%%$'\n'*}" = ok
	check "$1: status --json: restore armed by the libvirt hook $HOOK (got '${got#*$'\n'}')" \
		test "${got#*$'\n'}" = "libvirt hook $HOOK"
	check "$1: no watcher process (on libvirt the hook alone restores)" \
		test -z "$(ps -eo stat=,comm= | awk '$2 == "vfk-watch" && $1 !~ /^Z/')"
	expect "$1: $GPU on" "$(drv "$GPU")" vfio-pci
	expect "$1: $HDA on" "$(drv "$HDA")" vfio-pci
}

guest_main() {
	local GPU HDA G rc t0 why
	GPU=$(behind_port 0x1234 0x1111) HDA=$(find_dev 0x8086 0x293e)
	G=$(grp "$GPU")
	info "VGA $GPU + HDA $HDA (group $G)"

	why=$(nested_kvm)
	case $? in
	0) ;;
	2) skip "libvirt stops: $why"; return ;;
	*) fail "nested KVM in the guest: $why"; return ;;
	esac
	pass "nested KVM: /dev/kvm present in the guest"
	if [ -z "$(tool vfio-vm)" ]; then
		fail "libvirt stops need vfio-vm (not built)"
		return
	fi
	local miss=""
	for why in libvirtd virsh; do command -v "$why" > /dev/null || miss+=" $why"; done
	if [ -n "$miss" ]; then
		fail "libvirt stops need$miss (Debian packages libvirt-daemon-system, libvirt-clients: scripts/deps.sh check)"
		return
	fi

	coldplug
	wait_drv "$GPU" bochs-drm 5
	expect "native driver of $GPU" "$(drv "$GPU")" bochs-drm
	wait_drv "$HDA" snd_hda_intel 5
	expect "native driver of $HDA" "$(drv "$HDA")" snd_hda_intel

	install_hook
	lvd_config
	t0=$(ts)
	lvd_up
	rc=$?
	info "libvirtd $(libvirtd --version | awk '{print $NF}') answers after $(since "$t0") s"
	if [ $rc != 0 ]; then
		fail "libvirtd (the guest's system instance, hook installed) answers within 60 s"
		lvd_log
		return
	fi
	pass "libvirtd (the guest's system instance, hook installed) answers"

	case_poweroff
	case_destroy
	case_keep
	case_restart
	case_dead_while_down
	case_foreign

	lvd_down
	info "libvirtd stopped at $(ts) s; log tail:"
	lvd_log 8
}

# a. the inner VM powers itself off (no hold)
case_poweroff() {
	local t0 rc
	t0=$(ts)
	vm_up /tmp/up-a.out /tmp/l3a.log
	rc=$?
	info "a. vfio-vm up (libvirt) exit $rc after $(since "$t0") s"
	sed 's/^/  vfio-vm: /' /tmp/up-a.out | head -n 20
	expect "a. vfio-vm up --backend libvirt exit status" "$rc" 0
	if [ $rc != 0 ]; then lvd_log; cleanup_vm; return; fi
	check "a. up warns of nothing (the hook is installed)" \
		test -z "$(grep -i 'warning' /tmp/up-a.out.err)"
	check "a. no vfio-vm process stays behind up" test -z "$(pgrep -x vfio-vm)"
	within 120 l3_done /tmp/l3a.log
	info "a. inner VM: $(grep -a -m1 'L3 done' /tmp/l3a.log) (at $(ts) s)"
	check "a. the inner VM listed the passed-through VGA 1234:1111 and powered itself off" \
		grep -q 'L3 pci 0x1234:0x1111 class 0x0300' /tmp/l3a.log
	t0=$(ts)
	within 10 record_gone
	rc=$?
	check "a. inner VM powered off: host restored within 10 s of its last line ($(since "$t0") s)" \
		test $rc = 0
	expect "a. libvirt keeps the domain defined, shut off" "$(domstate)" "shut off"
	restored "a. after the inner VM powered off"
	cleanup_vm
}

# b. virsh destroy of a running VM; up --redefine first replaces the definition of
# the shut-off domain a. left (the inner VM now told to stay up)
case_destroy() {
	local t0 rc
	t0=$(ts)
	vm_up /tmp/up-b.out /tmp/l3b.log --set "$HOLD" --redefine
	rc=$?
	info "b. vfio-vm up exit $rc after $(since "$t0") s"
	expect "b. vfio-vm up again over the shut-off domain demo exit status" "$rc" 0
	if [ $rc != 0 ]; then sed 's/^/  vfio-vm: /' /tmp/up-b.out; lvd_log; cleanup_vm; return; fi
	check "b. up --redefine says it replaced the definition the last up left" \
		grep -q "redefining demo from the profile" /tmp/up-b.out
	expect "b. libvirt reports the domain running" "$(domstate)" running
	status_checks "b. while the VM runs"
	lv destroy demo > /tmp/destroy.out 2>&1
	expect "b. virsh destroy exit status" "$?" 0
	t0=$(ts)
	within 10 record_gone
	rc=$?
	check "b. virsh destroy: host restored within 10 s of destroy returning ($(since "$t0") s)" \
		test $rc = 0
	restored "b. after virsh destroy"
	cleanup_vm
}

# f. the domain is its user's to edit: what virt-xml changed in it (memory and the
# description, as virt-manager would; the vCPU count is edited in tests/launch/keep.sh:
# a second vCPU makes this nested-under-TCG inner VM too slow to boot) survives down and up, and so does everything vfiokit put there
# (the card's hostdev, the vCPU pinning, vfiokit's metadata)
kept_parts() { lv dumpxml --inactive demo 2>/dev/null | grep -c -E '<hostdev |<vcpupin |<emulatorpin |<vfiokit:vm '; }
case_keep() {
	local rc before after
	if ! command -v virt-xml > /dev/null; then
		fail "f. virt-xml is not installed (virtinst, scripts/packages.list)"
		return
	fi
	before=$(kept_parts)
	timeout 60 virt-xml -c qemu:///system demo --edit --memory 384 > /tmp/vx.out 2>&1 &&
		timeout 60 virt-xml -c qemu:///system demo --edit \
			--metadata description="edited with virt-xml" >> /tmp/vx.out 2>&1
	expect "f. virt-xml edits the shut-off domain (memory 384 MiB, a description): exit status" "$?" 0
	[ -s /tmp/vx.out ] && sed 's/^/  virt-xml: /' /tmp/vx.out | head -n 5
	vm_up /tmp/up-f.out /tmp/l3f.log --set "$HOLD"
	rc=$?
	expect "f. vfio-vm up of the edited domain exit status" "$rc" 0
	if [ $rc != 0 ]; then sed 's/^/  vfio-vm: /' /tmp/up-f.out; lvd_log; cleanup_vm; return; fi
	check "f. up starts the domain as defined" grep -q "starting the domain demo as defined" /tmp/up-f.out
	within 120 l3_done /tmp/l3f.log
	check "f. the inner VM of the edited domain still gets the card (VGA 1234:1111)" \
		grep -q 'L3 pci 0x1234:0x1111 class 0x0300' /tmp/l3f.log
	after=$(kept_parts)
	check "f. the card's hostdevs, the pinning and vfiokit's metadata are all still defined ($after of $before)" \
		test "$before" -gt 0 -a "$after" = "$before"
	expect "f. the edited memory is kept (KiB)" \
		"$(lv dumpxml --inactive demo | sed -n "s/.*<memory unit='KiB'>\([0-9]*\)<.*/\1/p")" 393216
	expect "f. the edited description is kept" \
		"$(lv dumpxml --inactive demo | sed -n 's/.*<description>\(.*\)<\/description>.*/\1/p')" "edited with virt-xml"
	expect "f. libvirt runs the edited domain with 384 MiB" \
		"$(lv dominfo demo | awk '/^Max memory:/ {print $3}')" 393216
	vm_tool /tmp/down-f.out 60 down demo --timeout 5
	expect "f. vfio-vm down exit status" "$?" 0
	expect "f. down keeps the domain defined, shut off" "$(domstate)" "shut off"
	restored "f. after down"
	cleanup_vm
}

# c. libvirtd restarted while the VM runs (here: while its kernel boots): the VM goes
# on, the record stays; a destroy after the restart still restores the host
case_restart() {
	local t0 rc pid
	t0=$(ts)
	vm_up /tmp/up-c.out /tmp/l3c.log --set "$HOLD"
	rc=$?
	info "c. vfio-vm up exit $rc after $(since "$t0") s"
	expect "c. vfio-vm up (held inner VM) exit status" "$rc" 0
	if [ $rc != 0 ]; then sed 's/^/  vfio-vm: /' /tmp/up-c.out; lvd_log; cleanup_vm; return; fi
	pid=$(qemu_pid)
	check "c. libvirtd stops (SIGTERM) with the VM running" lvd_down
	check "c. the inner QEMU (pid $pid) keeps running without libvirtd" kill -0 "$pid"
	check "c. the VM record stays while libvirtd is down" test -e "$REC"
	t0=$(ts)
	lvd_up
	rc=$?
	check "c. libvirtd starts again and answers ($(since "$t0") s)" test $rc = 0
	expect "c. after the restart libvirt reports the domain running" "$(domstate)" running
	check "c. after the restart the same QEMU (pid $pid) runs" test "$(qemu_pid)" = "$pid" -a -d "/proc/$pid"
	check "c. after the restart the VM record stays" test -e "$REC"
	status_checks "c. after the libvirtd restart"
	lv destroy demo > /tmp/destroy.out 2>&1
	expect "c. virsh destroy after the restart exit status" "$?" 0
	t0=$(ts)
	within 10 record_gone
	rc=$?
	check "c. destroy after the libvirtd restart: host restored within 10 s ($(since "$t0") s)" \
		test $rc = 0
	restored "c. after the restart and destroy"
	cleanup_vm
}

# d. QEMU killed while libvirtd is down; libvirtd, started again, finds it dead
case_dead_while_down() {
	local t0 rc pid
	t0=$(ts)
	vm_up /tmp/up-d.out /tmp/l3d.log --set "$HOLD"
	rc=$?
	info "d. vfio-vm up exit $rc after $(since "$t0") s"
	expect "d. vfio-vm up (held inner VM) exit status" "$rc" 0
	if [ $rc != 0 ]; then sed 's/^/  vfio-vm: /' /tmp/up-d.out; lvd_log; cleanup_vm; return; fi
	pid=$(qemu_pid)
	check "d. libvirtd stops (SIGTERM) with the VM running" lvd_down
	t0=$(ts)
	kill -KILL "$pid"
	within 20 dead "$pid"
	rc=$?
	check "d. kill -9 of the inner QEMU (pid $pid) while libvirtd is down: it is gone ($(since "$t0") s)" \
		test $rc = 0
	check "d. with libvirtd down nothing restores: the record stays" test -e "$REC"
	expect "d. with libvirtd down the card stays on" "$(drv "$GPU")" vfio-pci
	t0=$(ts)
	lvd_up
	rc=$?
	check "d. libvirtd starts again and answers ($(since "$t0") s)" test $rc = 0
	t0=$(ts)
	within 10 record_gone
	rc=$?
	check "d. libvirtd found the domain dead, its release hook restored the host within 10 s of libvirtd answering ($(since "$t0") s)" \
		test $rc = 0
	expect "d. libvirt reports the domain shut off" "$(domstate)" "shut off"
	restored "d. after QEMU died while libvirtd was down"
	cleanup_vm
}

# e. a shut-off domain named demo that vfiokit did not define (no vfiokit metadata):
# up refuses and undoes its binding; the domain stays as it was
case_foreign() {
	local uuid rc
	printf '%s\n' "<domain type='qemu'><name>demo</name><memory unit='MiB'>64</memory>" \
		"<os><type arch='x86_64'>hvm</type></os></domain>" > /tmp/foreign.xml
	lv undefine demo > /dev/null 2>&1
	lv define /tmp/foreign.xml > /dev/null 2>&1
	uuid=$(lv domuuid demo 2> /dev/null)
	vm_up /tmp/up-e.out /tmp/l3e.log --set "$HOLD"
	rc=$?
	expect "e. vfio-vm up over a foreign shut-off domain demo: exit status" "$rc" 1
	check "e. the refusal says vfiokit did not define that domain, in one line" \
		test "$(grep -c . /tmp/up-e.out.err)" = 1 -a -n "$(grep "exists that vfiokit did not define" /tmp/up-e.out.err)"
	check "e. the foreign domain stays defined, same UUID ($uuid)" \
		test -n "$uuid" -a "$(lv domuuid demo 2> /dev/null)" = "$uuid"
	restored "e. after the refused up"
	lv undefine demo > /dev/null 2>&1
	cleanup_vm
}
