# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Host-side functions of the real-kernel test bed (sourced by tests/vm/run-all.sh).
#
#   vm_init             paths: VM_DIR REPO CACHE BIN KV KROOT KMOD ART (built artifacts)
#                       of the default kernel set
#   vm_use_kernel SET   switches KSET KV KROOT ART to a kernel set: "" (default: Debian
#                       12's 6.1, tests/vm/setup.sh) or next (6.12 with iommufd and the
#                       VFIO cdev, and trixie's QEMU for inner VMs: tests/vm/setup-next.sh)
#   vm_prepare          builds, when stale, the current set's guest initramfs, the
#                       inner-VM initramfs and the vfio-group-status probe
#   vm_run_scenario F   boots the guest with scenario F's devices, runs its guest_main,
#                       counts its PASS/FAIL/SKIP lines into S_PASS S_FAIL S_SKIP
#   q_*                 QEMU topology building blocks for the scenarios' scen_qemu()
#
# A scenario file (tests/vm/scenarios/NN-name.sh) defines
#   SCEN_DESC="one line"          SCEN_TIMEOUT=seconds (default 240)   SCEN_MEM=1G
#   SCEN_KERNEL=next              (optional) boot the next kernel set instead of 6.1
#   scen_qemu()   { q_root_port rp1 0x2; q_gpu gpu0 rp1; ... }      (host side, bash)
#   guest_main()  { ... }                                             (guest side, bash)
# and optionally
#   scen_prepare() { ...; scen_env NAME VALUE; }   host side, before the guest boots:
#                 builds or fetches what the scenario needs (cached); exit status 0 ready,
#                 77 cannot be had here (last "SKIP: reason" line of its output becomes the
#                 scenario's one SKIP), anything else a failure. scen_env passes a value
#                 to the guest (a shell variable there, like VFK_*).
# and is read by both sides: the host sources it for SCEN_* and scen_qemu, the guest
# (tests/vm/guest/run.sh) for guest_main, with the helpers of tests/vm/guest/lib.sh.

# modules the initramfs needs to reach the host root; the rest comes from the full
# module tree, bind-mounted into the chroot
VM_INITRD_MODULES="virtio_pci 9pnet_virtio 9p overlay"

vm_init() {
	VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	REPO=${VFK_REPO:-$(cd "$VM_DIR/../.." && pwd)}
	CACHE=${VFK_VM_CACHE:-$VM_DIR/cache}
	mkdir -p "$CACHE"
	CACHE=$(cd "$CACHE" && pwd)
	BIN=${VFK_BIN:-$REPO/build/bin}
	case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
	KMOD=$CACHE/kmod/bin
	# the next set's QEMU: trixie's, run from its own root by a wrapper (setup-next.sh)
	QEMU_NEXT=$CACHE/next-root/vfk/qemu-system-x86_64
	VM_PREPARED=" "
	vm_use_kernel ""
}

# vm_use_kernel SET: KSET KROOT KV ART of kernel set SET ("" or default, next); KV is
# empty while the set is not set up. Each set has its own artifacts (ART), so the two
# never rebuild each other's.
vm_use_kernel() {
	case ${1:-default} in
	default) KSET=default KROOT=$CACHE/kernel ART=$CACHE/build ;;
	next) KSET=next KROOT=$CACHE/kernel-next ART=$CACHE/build-next ;;
	*) vm_log "unknown kernel set '$1' (SCEN_KERNEL: empty or next)"; return 1 ;;
	esac
	KV=$(sed -n 1p "$KROOT/.ready" 2>/dev/null)
}

# vm_next_ready: the next set is set up (tests/vm/setup-next.sh ran)
vm_next_ready() { [ -s "$CACHE/kernel-next/.ready" ] && [ -x "$QEMU_NEXT" ]; }

vm_log() { echo "vm: $*" >&2; }

# vm_stale OUT STAMP-TEXT: true when OUT must be rebuilt (missing or built from other inputs)
vm_stale() {
	local want; want=$(printf '%s' "$2" | sha1sum | cut -d' ' -f1)
	[ -s "$1" ] && [ "$(cat "$1.stamp" 2>/dev/null)" = "$want" ] && return 1
	VM_STAMP=$want
	return 0
}

vm_build_initramfs() {
	local out=$ART/initramfs.cpio.gz stage m f rel
	vm_stale "$out" "$KV $VM_INITRD_MODULES $(cat "$VM_DIR/guest/init") $(sha1sum "$(command -v busybox)")" || return 0
	stage=$ART/initramfs
	rm -rf "$stage"
	mkdir -p "$stage"/{bin,sbin,proc,sys,dev,host,ovl,newroot,lib/modules/"$KV"}
	cp "$(command -v busybox)" "$stage/bin/busybox"
	for m in $("$stage/bin/busybox" --list); do
		[ "$m" = busybox ] || ln -sf busybox "$stage/bin/$m"
	done
	local n=0
	while IFS= read -r f; do
		rel=${f#"$KROOT"/lib/modules/"$KV"/}
		rel=${rel%.xz}	# busybox's modprobe loads plain .ko only (6.12's are .ko.xz)
		mkdir -p "$stage/lib/modules/$KV/$(dirname "$rel")"
		case $f in
		*.ko.xz) xz -dc "$f" > "$stage/lib/modules/$KV/$rel" ;;
		*) cp "$f" "$stage/lib/modules/$KV/$rel" ;;
		esac || return 1
		n=$((n + 1))
	done < <(for m in $VM_INITRD_MODULES; do
		"$KMOD/modprobe" -d "$KROOT" -S "$KV" --show-depends "$m" | sed -n 's/^insmod \(.*\.ko[^ ]*\) *.*$/\1/p'
	done | sort -u)
	cp "$KROOT/lib/modules/$KV"/modules.{order,builtin,builtin.modinfo} "$stage/lib/modules/$KV/"
	"$KMOD/depmod" -b "$stage" "$KV"
	install -m 755 "$VM_DIR/guest/init" "$stage/init"
	(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) > "$out.tmp"
	mv "$out.tmp" "$out"
	echo "$VM_STAMP" > "$out.stamp"
	rm -rf "$stage"
	vm_log "built $(basename "$out") ($(du -h "$out" | cut -f1), $n modules)"
}

# The inner VM's initramfs (scenario passthrough-launch): busybox, lists the PCI
# devices it was given as "L3 pci <vendor>:<device> class <class> <bdf>", powers off —
# or, with vfk_hold=1 on its command line, stays up until stopped from outside.
vm_build_l3_initramfs() {
	local out=$ART/l3-initramfs.cpio.gz stage a
	local init='#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
for d in /sys/bus/pci/devices/*; do
	echo "L3 pci $(cat $d/vendor):$(cat $d/device) class $(cat $d/class) $(basename $d)"
done
echo "L3 done after $(cut -d" " -f1 /proc/uptime)s"
case " $(cat /proc/cmdline) " in *" vfk_hold=1 "*) while :; do sleep 60; done ;; esac
poweroff -f
'
	vm_stale "$out" "$init $(sha1sum "$(command -v busybox)")" || return 0
	stage=$ART/l3-initramfs
	rm -rf "$stage"
	mkdir -p "$stage"/{bin,proc,sys,dev}
	cp "$(command -v busybox)" "$stage/bin/busybox"
	for a in sh mount cat echo basename cut poweroff sleep; do ln -sf busybox "$stage/bin/$a"; done
	printf '%s' "$init" > "$stage/init"
	chmod 755 "$stage/init"
	(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) > "$out.tmp"
	mv "$out.tmp" "$out"
	echo "$VM_STAMP" > "$out.stamp"
	rm -rf "$stage"
}

# The inner VM's initramfs for devices that want a driver (scenarios mdev, sriov):
# lists its PCI devices ("L3 pci ..."), loads the drivers it carries for the devices
# present — bochs-drm (+ drm helpers) for 1234:1111, the sample mdpy-fb for 1b36:000f —
# then lists them again with their drivers ("L3 drv <vendor>:<device> <bdf> driver=X")
# and the framebuffers they registered ("L3 fb ..."), and powers off.
# vm_build_l3x_initramfs [MDPY-FB.KO]
vm_build_l3x_initramfs() {
	local out=$ART/l3x-initramfs.cpio.gz stage a f k mods
	local init='#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
drv() { if [ -e $1/driver ]; then basename $(readlink $1/driver); else echo none; fi; }
lsp() {
	for d in /sys/bus/pci/devices/*; do
		echo "L3 $1 $(cat $d/vendor):$(cat $d/device) class $(cat $d/class) $(basename $d) driver=$(drv $d)"
	done
}
have() { grep -q -x "$1" /tmp/ids; }
lsp pci
for d in /sys/bus/pci/devices/*; do echo "$(cat $d/vendor):$(cat $d/device)"; done > /tmp/ids
load() { for m in /$1/*.ko; do [ -e "$m" ] && { insmod "$m" || echo "L3 insmod $m failed"; }; done; }
have 0x1234:0x1111 && load drm
have 0x1b36:0x000f && load mdpy
sleep 1
lsp drv
for f in /sys/class/graphics/fb[0-9]*; do
	[ -e $f ] && echo "L3 fb $(basename $f) name=$(cat $f/name | tr " " _) virtual_size=$(cat $f/virtual_size)"
done
dmesg | grep -E "bochs-drm|mdpy|\\[drm\\]" | head -n 8 | sed "s/^/L3 dmesg: /"
echo "L3 done after $(cut -d" " -f1 /proc/uptime)s"
case " $(cat /proc/cmdline) " in *" vfk_hold=1 "*) while :; do sleep 60; done ;; esac
poweroff -f
'
	mods=$("$KMOD/modprobe" -d "$KROOT" -S "$KV" --show-depends bochs | sed -n 's/^insmod \([^ ]*\.ko[^ ]*\) *$/\1/p')
	vm_stale "$out" "$init $mods ${1:+$(sha1sum "$1")} $(sha1sum "$(command -v busybox)")" || return 0
	stage=$ART/l3x-initramfs
	rm -rf "$stage"
	mkdir -p "$stage"/{bin,proc,sys,dev,tmp,drm,mdpy}
	cp "$(command -v busybox)" "$stage/bin/busybox"
	for a in sh mount cat echo basename cut poweroff readlink grep insmod sleep dmesg head sed tr; do
		ln -sf busybox "$stage/bin/$a"
	done
	k=0
	for f in $mods; do
		k=$((k + 1))
		cp "$f" "$stage/drm/$(printf %02d $k)-$(basename "$f")"
	done
	[ -n "${1:-}" ] && cp "$1" "$stage/mdpy/"
	printf '%s' "$init" > "$stage/init"
	chmod 755 "$stage/init"
	(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) > "$out.tmp"
	mv "$out.tmp" "$out"
	echo "$VM_STAMP" > "$out.stamp"
	rm -rf "$stage"
	vm_log "built $(basename "$out") ($(du -h "$out" | cut -f1))"
}

vm_build_group_status() {
	local src=$VM_DIR/vfio-group-status.c out=$ART/vfio-group-status
	[ -x "$out" ] && [ "$out" -nt "$src" ] && return 0
	${CC:-cc} -O2 -Wall -Wextra -o "$out.tmp" "$src" && mv "$out.tmp" "$out"
}

vm_prepare() {
	local lk rc=0
	mkdir -p "$ART"
	# runs sharing the cache build one set's artifacts one at a time (they share the
	# staging dirs): the others wait, then find them fresh
	exec {lk}> "$ART/.prepare.lock"
	if ! flock -w 900 "$lk"; then
		vm_log "another run has held $ART/.prepare.lock for 15 minutes"
		exec {lk}>&-
		return 1
	fi
	vm_build_initramfs && vm_build_l3_initramfs && vm_build_group_status || rc=1
	exec {lk}>&-
	[ $rc = 0 ] && VM_PREPARED+="$KSET "
	return $rc
}

# ---- per-run scratch dir (host paths are visible to the guest through 9p) ----
vm_new_run() {
	local keep=${VFK_VM_KEEP_RUNS:-3} old
	mkdir -p "$CACHE/runs"
	RUN=$CACHE/runs/$(date +%Y%m%d-%H%M%S)-$$
	# the env file's path goes on the kernel command line: no blanks there
	case $RUN in *[[:space:]]*) RUN=$(mktemp -d "${TMPDIR:-/tmp}/vfk-vm.XXXXXX") ;; esac
	mkdir -p "$RUN"
	# drop all but the newest $keep runs, never one whose run-all.sh (the pid in its
	# name) is still running: several runs may share the cache
	local pid
	for old in $(ls -1d "$CACHE"/runs/*/ 2>/dev/null | sort | head -n -"$keep"); do
		pid=${old%/}
		pid=${pid##*-}
		case $pid in *[!0-9]*|'') ;; *) kill -0 "$pid" 2>/dev/null && continue ;; esac
		rm -rf "$old"
	done
}

# scen_env NAME VALUE: from scen_prepare, a variable for the guest side of the scenario
SCEN_ENV=()
scen_env() { SCEN_ENV+=("$1=$2"); }

# ---- QEMU topology building blocks ----
QDEV=()
q() { QDEV+=("$@"); }
VM_AUDIO=0
VM_NETN=0
q_root_port() { # ID ADDR  (a pcie-root-port on pcie.0 at ADDR; chassis/slot from ADDR)
	local n=$(( $2 ))
	q -device "pcie-root-port,id=$1,bus=pcie.0,chassis=$n,slot=$n,addr=$2"
}
q_gpu() { # ID BUS: GPU-like card, VGA 1234:1111 at fn 0 + HDA 8086:293e (with codec) at fn 1
	if [ $VM_AUDIO = 0 ]; then q -audiodev none,id=snd0; VM_AUDIO=1; fi
	q -device "VGA,id=$1,bus=$2,addr=0x0,multifunction=on" \
	  -device "ich9-intel-hda,id=$1-hda,bus=$2,addr=0x0.1" \
	  -device "hda-duplex,bus=$1-hda.0,audiodev=snd0"
}
q_boot_vga() { # the host's own display, like an iGPU: VGA 1234:1111 on pcie.0 at 00:01.0,
	# found first by the firmware, so it is the boot VGA and the GPUs behind root ports are
	# secondary (the usual passthrough host: iGPU for the console, dGPU for the guest)
	q -device "VGA,id=igpu,bus=pcie.0,addr=0x1"
}
q_nic() { # MODEL ID BUS [ADDR]: a NIC on a hub port (no host networking)
	VM_NETN=$((VM_NETN + 1))
	q -netdev "hubport,id=net$VM_NETN,hubid=0" \
	  -device "$1,id=$2,bus=$3,addr=${4:-0x0},netdev=net$VM_NETN,romfile="
}

# ---- running one scenario ----
# vm_run_scenario FILE -> S_PASS S_FAIL S_SKIP S_WALL, logs in $RUN/<name>.{console,results}.log
# A scenario, run once more on a fresh guest when the first run hit a known
# fault of the test bed itself, which no code of ours causes and which a fresh
# boot does not repeat:
#  - TCG's emulated SVM/VMX can leave the guest's CPU stuck in KVM while it
#    runs the inner VM (the guest kernel reports "soft lockup ... [qemu-system-x86");
#  - the 6.12 guest kernel trapping on its own text ("Oops: int3" with the
#    trap in the middle of an instruction of __schedule): most likely live text
#    patching (jump labels and static calls are rewritten through int3 while
#    the other vCPU runs) that multi-threaded TCG does not see whole;
#  - a guest killed at the scenario's timeout: twice (stop 36's CI, and a fresh-root
#    run of stop 37) scenario 45's guest went silent for minutes where every step
#    has a bound of 125 s, right after an inner VM had run; its watchdog (guest/
#    run.sh, which prints what a task waits for as HANG: lines) never fired: the
#    guest's kernel itself had stopped, its vCPUs stuck in TCG. The HANG lines, or
#    their absence, stay in the first run's output and are shown with the rerun.
# The first run's output is kept in its log and named; only the second run
# counts, so a fault that comes back every time still fails.
vm_run_scenario() {
	local file=$1 name out f
	name=$(basename "$file" .sh)
	out=$RUN/$name.attempt1.out
	if [ "${VFK_VM_VERBOSE:-0}" = 1 ]; then
		vm_run_scenario_once "$file"
		return
	fi
	vm_run_scenario_once "$file" > "$out"
	if [ "$S_FAIL" -gt 0 ] && grep -q 'guest killed after .* timeout' "$out"; then
		for f in "$RUN/$name".*.log; do mv "$f" "${f%.log}.attempt1.log"; done
		echo "INFO: $name: the first run's guest hung until its timeout ($S_FAIL failed); run" \
			"once more on a fresh guest (first run: $out); what it waited for:"
		grep -a '^ *HANG:' "$out" | head -n 40 | sed 's/^ */  INFO: /'
		grep -a -q '^ *HANG:' "$out" ||
			echo "  INFO: no word from the guest's watchdog: its kernel itself stopped" \
				"(all vCPUs stuck in TCG: a fault of the test bed, not of a task)"
		vm_run_scenario_once "$file"
		return
	fi
	if [ "$S_FAIL" -gt 0 ] && grep -a -q -E 'soft lockup.*\[qemu-system-x86|Oops: int3' "$RUN/$name.console.log"; then
		local lock f
		lock=$(grep -a -m1 -E 'soft lockup|Oops: int3' "$RUN/$name.console.log" | tr -d '\r')
		for f in "$RUN/$name".*.log; do mv "$f" "${f%.log}.attempt1.log"; done
		echo "INFO: $name: test bed fault in the first run ($S_FAIL failed): the guest kernel" \
			"reports '${lock#*] }' (TCG: nested virtualisation or live-patched kernel text); run" \
			"once more on a fresh guest" \
			"(first run: $out)"
		vm_run_scenario_once "$file"
		return
	fi
	cat "$out"
}

vm_run_scenario_once() {
	local file=$1 name envf con res tmo mem rc t0 t1 ok
	name=$(basename "$file" .sh)
	envf=$RUN/$name.env
	con=$RUN/$name.console.log
	res=$RUN/$name.results.log
	S_PASS=0 S_FAIL=0 S_SKIP=0 S_WALL=0

	unset -f scen_qemu guest_main scen_prepare
	SCEN_DESC='' SCEN_TIMEOUT='' SCEN_MEM='' SCEN_SMP='' SCEN_KERNEL=''
	QDEV=() VM_AUDIO=0 VM_NETN=0 SCEN_ENV=()
	# shellcheck disable=SC1090
	. "$file"
	# the scenario's kernel set, its artifacts built once per run
	local why=
	if ! vm_use_kernel "$SCEN_KERNEL"; then
		why="SCEN_KERNEL='$SCEN_KERNEL' names no kernel set"
	elif [ -z "$KV" ]; then
		why="kernel set $KSET is not set up (tests/vm/setup${SCEN_KERNEL:+-$SCEN_KERNEL}.sh)"
	elif [ "${VM_PREPARED#* "$KSET" }" = "$VM_PREPARED" ] && ! vm_prepare; then
		why="building the guest initramfs of kernel set $KSET ($KV) failed"
	fi
	if [ -n "$why" ]; then
		echo "=== $name: $SCEN_DESC"
		echo "  FAIL: $name: $why"
		S_FAIL=1
		echo "--- $name: pass 0, fail 1, skip 0 in 0s"
		return
	fi
	if declare -F scen_prepare > /dev/null; then
		local pout prc
		# not in a subshell: scen_env must reach SCEN_ENV
		scen_prepare > "$RUN/$name.prepare.log" 2>&1
		prc=$?
		pout=$(cat "$RUN/$name.prepare.log")
		if [ $prc != 0 ]; then
			echo "=== $name: $SCEN_DESC"
			if [ $prc = 77 ]; then
				echo "  SKIP: $name: $(printf '%s\n' "$pout" | sed -n 's/^SKIP: //p' | tail -n1)"
				S_SKIP=1
			else
				echo "  FAIL: $name: preparing the scenario on the host failed (exit $prc):"
				printf '%s\n' "$pout" | tail -n 20 | sed 's/^/    | /'
				S_FAIL=1
			fi
			echo "--- $name: pass $S_PASS, fail $S_FAIL, skip $S_SKIP in 0s"
			return
		fi
	fi
	scen_qemu
	tmo=${VFK_VM_TIMEOUT:-${SCEN_TIMEOUT:-240}}
	mem=${SCEN_MEM:-1G}

	{
		printf 'VFK_REPO=%q\n' "$REPO"
		printf 'VFK_BIN=%q\n' "$BIN"
		printf 'VFK_CACHE=%q\n' "$CACHE"
		printf 'VFK_KV=%q\n' "$KV"
		printf 'VFK_RUN=%q\n' "$RUN"
		printf 'VFK_SCENARIO=%q\n' "$(cd "$(dirname "$file")" && pwd)/$(basename "$file")"
		printf 'VFK_GROUP_STATUS=%q\n' "$ART/vfio-group-status"
		printf 'VFK_L3_INITRD=%q\n' "$ART/l3-initramfs.cpio.gz"
		printf 'VFK_L3_KERNEL=%q\n' "$KROOT/boot/vmlinuz-$KV"
		printf 'VFK_KERNEL_SET=%q\n' "$KSET"
		printf 'VFK_KROOT=%q\n' "$KROOT"
		printf 'VFK_TIMEOUT=%q\n' "$tmo"
		if vm_next_ready; then
			# trixie's QEMU (iommufd) and the 6.12 kernel, for an inner VM
			printf 'VFK_QEMU_NEXT=%q\n' "$QEMU_NEXT"
			printf 'VFK_L3_KERNEL_NEXT=%q\n' "$CACHE/kernel-next/boot/vmlinuz-$(sed -n 1p "$CACHE/kernel-next/.ready")"
		fi
		local e
		for e in "${SCEN_ENV[@]}"; do printf '%s=%q\n' "${e%%=*}" "${e#*=}"; done
	} > "$envf"

	local cmd=(qemu-system-x86_64
		-accel tcg,tb-size=256 -machine q35 -cpu max -smp "${VFK_VM_SMP:-${SCEN_SMP:-2}}" -m "$mem"
		-nodefaults -nographic -monitor none -no-reboot
		-serial stdio -serial "file:$res"
		-device intel-iommu,intremap=on,caching-mode=on
		"${QDEV[@]}"
		# the host's / over 9p, on pcie.0 by name: a scenario's pxb-pcie is a root
		# bus too, and QEMU would put the device there, where it cannot go
		-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap
		-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot,bus=pcie.0
		-kernel "$KROOT/boot/vmlinuz-$KV" -initrd "$ART/initramfs.cpio.gz"
		-append "console=ttyS0 intel_iommu=on iommu=pt panic=-1 loglevel=4 no_timer_check vfk_env=$envf")
	printf '%q ' "${cmd[@]}" > "$RUN/$name.qemu-cmd"
	echo >> "$RUN/$name.qemu-cmd"

	echo "=== $name: $SCEN_DESC"
	: > "$res"
	t0=$(date +%s.%N)
	if [ "${VFK_VM_VERBOSE:-0}" = 1 ]; then
		timeout -k 5 "$tmo" "${cmd[@]}" < /dev/null 2>&1 | tee "$con"
		rc=${PIPESTATUS[0]}
	else
		timeout -k 5 "$tmo" "${cmd[@]}" < /dev/null > "$con" 2>&1
		rc=$?
	fi
	t1=$(date +%s.%N)
	S_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }')

	tr -d '\r' < "$res" > "$res.tmp" && mv "$res.tmp" "$res"
	grep -a -E '^(PASS|FAIL|SKIP|INFO):' "$res" | sed 's/^/  /'
	S_PASS=$(grep -a -c '^PASS:' "$res")
	S_FAIL=$(grep -a -c '^FAIL:' "$res")
	S_SKIP=$(grep -a -c '^SKIP:' "$res")
	ok=$(grep -a -o '^GUEST_EXIT=[0-9]*' "$res" | tail -n1 | cut -d= -f2)
	if [ -z "$ok" ]; then
		S_FAIL=$((S_FAIL + 1))
		if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
			echo "  FAIL: $name: guest killed after ${tmo}s timeout (no GUEST_EXIT); console tail:"
			grep -a '^HANG:' "$res" | head -n 60 | sed 's/^/    /'
		else
			echo "  FAIL: $name: guest ended without a result (qemu exit $rc); console tail:"
		fi
		tr -d '\r' < "$con" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' | tail -n "${VFK_VM_TAIL:-40}" | sed 's/^/    | /'
	elif [ "$ok" != "$S_FAIL" ]; then
		# the guest script counted differently than its lines say (e.g. it died mid-way)
		echo "  FAIL: $name: GUEST_EXIT=$ok but $S_FAIL FAIL lines; console tail:"
		S_FAIL=$((S_FAIL + 1))
		tr -d '\r' < "$con" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' | tail -n "${VFK_VM_TAIL:-40}" | sed 's/^/    | /'
	fi
	echo "--- $name: pass $S_PASS, fail $S_FAIL, skip $S_SKIP in ${S_WALL}s (logs: $RUN/$name.*)"
}
