# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034  # SCEN_* are read by tests/vm/lib.sh
# Scenario 65: a real CDI consumer (issue 20 point 4). The GPU-like card's group goes
# to vfio-pci with vfio-bind; `vfio-ls --export cdi` writes the Container Device
# Interface spec into /etc/cdi; Debian 12's podman (4.3, CDI library 0.5.2) reads it
# and gives a container the group's VFIO nodes for `--device KIND=NAME`. Inside the
# container (a busybox rootfs, no image, no network) the nodes are character devices
# with the host's numbers and a VMM's first ioctls on them succeed: the group is
# viable and a device fd comes back. Without --device the container has no group node
# (and the device cgroup refuses one bind-mounted in); an unknown name is refused.
SCEN_DESC="CDI: vfio-ls --export cdi read by podman 4.3; the group's VFIO nodes in a container, usable there"
SCEN_TIMEOUT=600
SCEN_MEM=1G

scen_qemu() {
	q_boot_vga
	q_root_port rp1 0x2
	q_gpu gpu0 rp1
}

# The container holds busybox and nothing else: the probe that does a VMM's first
# VFIO calls (tests/vm/vfio-group-status.c, built dynamic by lib.sh) is built again,
# static (glibc's libc.a: Debian's libc6-dev), into the bed's build cache.
scen_prepare() {
	local src=$VM_DIR/vfio-group-status.c out=$ART/vfio-group-status.static
	if [ ! -x "$out" ] || [ "$src" -nt "$out" ]; then
		if ! ${CC:-cc} -static -O2 -Wall -Wextra -o "$out.$$" "$src"; then
			echo "cannot build a static vfio-group-status (needs libc.a, Debian package libc6-dev)"
			return 1
		fi
		mv "$out.$$" "$out"
	fi
	scen_env VFK_GROUP_STATUS_STATIC "$out"
}

# podman as this guest can run it. The guest is a chroot into the host's root (overlay
# on 9p) with no systemd, no journald, no network. Measured in this bed (podman 4.3.1,
# crun 1.8.1): what it cannot do without is
#   * cgroup v2 mounted on /sys/fs/cgroup (guest_main mounts it; guest/init does not):
#     crun refuses to start anything without it, even with --cgroups=disabled
#     ("invalid file system type on '/sys/fs/cgroup'");
#   * --network none: the default bridge network fails here (CNI's bridge plugin:
#     "could not add cni-podman0: operation not supported");
#   * --rootfs DIR: no image, so no pull (no network) and no image store.
# The rest podman would fall back to by itself (with warnings and probing); spelt out,
# the scenario does not depend on those fallbacks:
#   --root/--runroot/--tmpdir  podman's storage and state of its own, on the guest's
#                       overlay and /run tmpfs, apart from the host's /var/lib/containers
#   --storage-driver vfs    overlay-on-overlay (the guest's root is an overlay) is
#                       refused by the overlay driver ("not supported over overlayfs");
#                       vfs works on any directory and --rootfs copies nothing anyway
#   --cgroup-manager cgroupfs  systemd is not PID 1 (the default "systemd" needs its
#                       bus); cgroupfs writes cgroup v2 directly and crun attaches its
#                       device-cgroup eBPF program, so what the container may open is
#                       exactly what the OCI spec allows (CDI adds its nodes there)
#   --events-backend file   the default is journald, which does not run here
# The log driver is left at podman's default, k8s-file (a file; not journald).
# No --security-opt: the guest kernel has AppArmor on, but podman applies its profile
# only when it finds apparmor_parser (Debian's apparmor, not in the bed), and there is
# no SELinux; podman's default seccomp profile (containers-common) allows the ioctls.
PM_ROOT=/var/lib/vfk-podman PM_RUN=/run/vfk-podman
# (PM_DEBUG=1: --log-level debug, for what the CDI registry said about a spec it
# would not load: podman logs that only at debug level)
pm() {
	timeout -k 5 "${PM_TIMEOUT:-180}" podman --root "$PM_ROOT" --runroot "$PM_RUN" \
		--tmpdir "$PM_RUN/libpod" --storage-driver vfs --cgroup-manager cgroupfs \
		--events-backend file ${PM_DEBUG:+--log-level debug} "$@"
}
# prun OUT [podman run options...] -- COMMAND...: a container from the busybox rootfs,
# removed when it ends; stdout in OUT, stderr in OUT.err, podman's exit status.
# --rootfs is a flag saying the first argument is a directory, not an image: every
# other option comes before it.
prun() {
	local out=$1 rc o=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do o+=("$1"); shift; done
	shift
	pm run --rm --network none "${o[@]}" --rootfs "$ROOTFS" "$@" > "$out" 2> "$out.err"
	rc=$?
	[ $rc = 124 ] && echo "podman run: still running after ${PM_TIMEOUT:-180} s, stopped" >> "$out.err"
	return $rc
}

# What the container reports: each node given ("node PATH char MAJ:MIN open ok", the
# numbers in hex as stat's %t:%T prints them; "open refused: WHY" when opening it
# read-write fails; "missing"), then, with a group, a VMM's first VFIO calls on it.
# The open is tried in a subshell: a redirection that fails on a special builtin ends
# a POSIX shell.
# sh -c "$INSIDE" sh GROUP|- BDF NODE...
# shellcheck disable=SC2016  # expanded by the container's shell
INSIDE='g=$1 bdf=$2
shift 2
for n in "$@"; do
	if [ -c "$n" ]; then
		if (exec 3<> "$n") 2> /tmp/open.err; then o=ok; else o="refused: $(cat /tmp/open.err)"; fi
		echo "node $n char $(stat -c %t:%T "$n") open $o"
	elif [ -e "$n" ]; then echo "node $n not a character device"
	else echo "node $n missing"; fi
done
if [ "$g" != - ]; then /bin/vfio-group-status "$g" "$bdf"; echo "vgs-exit $?"; fi'

# node_line OUT PATH -> what the container said about PATH
node_line() { sed -n "s|^node $2 ||p" "$1"; }
host_node() { [ -c "$1" ] && echo "char $(stat -c %t:%T "$1")" || echo missing; }

# spec_get FILE WHAT -> version | kind | mode (VFIOKIT_VFIO_MODE in the spec's env) |
# names (the devices') | nodes (the spec's own edits' device nodes, then each device's)
spec_get() {
	python3 -c '
import json, sys
try:
    s = json.load(open(sys.argv[1]))
except (OSError, ValueError) as e:
    sys.exit("not JSON: %s" % e)
nodes = lambda e: [n.get("path", "?") for n in (e or {}).get("deviceNodes", [])]
devs = s.get("devices", [])
print(" ".join({
    "version": [str(s.get("cdiVersion"))],
    "kind": [str(s.get("kind"))],
    "mode": [e.partition("=")[2] for e in (s.get("containerEdits") or {}).get("env", [])
             if e.startswith("VFIOKIT_VFIO_MODE=")] or ["None"],
    "names": [d.get("name", "?") for d in devs],
    "nodes": nodes(s.get("containerEdits")) + [p for d in devs for p in nodes(d.get("containerEdits"))],
}[sys.argv[2]]))' "$1" "$2" 2>&1
}

# The nodes a runtime must give for the card's group, from sysfs: iommufd when the
# host has /dev/iommu and every function its VFIO cdev (Linux 6.6+), else the group
# API (6.1 here: no cdevs).
want_nodes() { # BDF...
	local d c cdevs=""
	for d in "$@"; do
		c=$(basename "$(echo "$SYSPCI/$d"/vfio-dev/vfio*)")
		if [ ! -c /dev/iommu ] || [ ! -c "/dev/vfio/devices/$c" ]; then
			echo "/dev/vfio/vfio /dev/vfio/$(grp "$1")"
			return
		fi
		cdevs+=" /dev/vfio/devices/$c"
	done
	echo "/dev/iommu$cdevs"
}

guest_main() {
	local GPU HDA G KIND PG rc n want t0 spec=/etc/cdi/vfiokit.json
	local -a NODES BINDS
	GPU=$(behind_port 0x1234 0x1111) HDA=$(find_dev 0x8086 0x293e)
	G=$(grp "$GPU")
	info "VGA $GPU + HDA $HDA (group $G)"

	# Debian's podman (with conmon, crun and containers-common) is a line of
	# scripts/packages.list: without it this is a failure, not a skip
	if ! command -v podman > /dev/null; then
		fail "podman is not installed (Debian package podman; scripts/packages.list)"
		return
	fi
	if [ -z "$(tool vfio-bind)" ] || [ -z "$(tool vfio-ls)" ]; then
		skip "CDI with podman: vfio-bind or vfio-ls not built"
		return
	fi
	if [ ! -x "${VFK_GROUP_STATUS_STATIC:-}" ]; then
		fail "no static vfio-group-status from scen_prepare ('${VFK_GROUP_STATUS_STATIC:-}')"
		return
	fi
	info "$(podman --version 2>&1), $(crun --version 2>&1 | head -n1), $(conmon --version 2>&1 | head -n1)"

	# cgroup v2, as a systemd host has it (guest/init mounts none): podman's cgroupfs
	# manager and crun's device cgroup work there
	if ! mountpoint -q /sys/fs/cgroup; then
		mount -t cgroup2 cgroup2 /sys/fs/cgroup || fail "mount cgroup2 on /sys/fs/cgroup"
	fi
	mkdir -p "$PM_ROOT" "$PM_RUN" /etc/cdi

	# the container's root: busybox (static, Debian's busybox-static) and the probe
	ROOTFS=/tmp/cdi-rootfs
	mkdir -p "$ROOTFS"/{bin,dev,proc,sys,etc,tmp,run}
	cp "$(command -v busybox)" "$ROOTFS/bin/busybox"
	for n in sh stat cat; do ln -sf busybox "$ROOTFS/bin/$n"; done
	cp "$VFK_GROUP_STATUS_STATIC" "$ROOTFS/bin/vfio-group-status"
	echo "root:x:0:0:root:/:/bin/sh" > "$ROOTFS/etc/passwd"
	echo "root:x:0:" > "$ROOTFS/etc/group"

	coldplug
	wait_drv "$GPU" bochs-drm 5
	expect "native driver of $GPU" "$(drv "$GPU")" bochs-drm

	# -- the spec: written before the bind (the nodes need not exist yet) and after --
	run_tool /tmp/cdi-before.json vfio-ls --export cdi --device "$GPU"
	expect "vfio-ls --export cdi --device $GPU before the bind: exit status" "$?" 0
	run_tool /tmp/bind.out vfio-bind bind --gpu "$GPU"
	expect "vfio-bind bind --gpu $GPU exit status" "$?" 0
	bound_checks "vfio-bind bind --gpu" "$G" "$GPU" "$HDA"
	if [ "$(drv "$GPU")" != vfio-pci ]; then
		fail "the card is not on vfio-pci: no container can be given its group"
		leave_restored none "$GPU=bochs-drm" "$HDA=snd_hda_intel"
		return
	fi
	run_tool /tmp/cdi.json vfio-ls --export cdi --device "$GPU"
	expect "vfio-ls --export cdi --device $GPU exit status" "$?" 0
	sed 's/^/  cdi: /' /tmp/cdi.json
	info "spec: cdiVersion $(spec_get /tmp/cdi.json version), mode $(spec_get /tmp/cdi.json mode)"
	KIND=$(spec_get /tmp/cdi.json kind)
	expect "the spec's kind" "$KIND" vfiokit.org/vfio
	expect "the spec names one device, $GPU" "$(spec_get /tmp/cdi.json names)" "$GPU"
	want=$(want_nodes "$GPU" "$HDA")
	expect "the spec's device nodes are the group's, as the kernel offers them" \
		"$(spec_get /tmp/cdi.json nodes)" "$want"
	case $want in /dev/iommu*) PG=- ;; *) PG=$G ;; esac
	# in legacy mode the nodes go by group: the spec need not wait for the bind
	[ "$PG" != - ] && check "the spec written before the bind is the same" \
		cmp -s /tmp/cdi-before.json /tmp/cdi.json
	read -ra NODES <<< "$want"
	cp /tmp/cdi.json "$spec"

	# -- podman reads the spec as vfio-ls wrote it --
	t0=$(ts)
	PM_DEBUG=1 prun /tmp/c1.out --device "$KIND=$GPU" -- /bin/sh -c "$INSIDE" sh "$PG" "$GPU" "${NODES[@]}"
	rc=$?
	if [ $rc != 0 ]; then
		# podman's error, and the CDI registry's own complaint from its debug log
		local why
		why=$(sed -n 's/.*msg="The following error was triggered when refreshing the CDI registry: \(.*\)"$/\1/p' /tmp/c1.out.err |
			sed 's/\\n\\t\* / /g; s/\\n//g; s/\\"/"/g' | head -n 1)
		fail "podman run --device $KIND=$GPU with the spec as vfio-ls wrote it: exit $rc: $(grep -v '^time=' /tmp/c1.out.err | head -n 1); podman's CDI registry (debug log): ${why:-nothing}"
	else
		pass "podman run --device $KIND=$GPU with the spec as vfio-ls wrote it: exit 0"
	fi
	info "that podman run took $(since "$t0") s"
	sed 's/^/  container: /' /tmp/c1.out
	grep -v '^time=' /tmp/c1.out.err | sed 's/^/  container stderr: /' | head -n 10
	for n in "${NODES[@]}"; do
		expect "in the container $n is the host's character device, opened read-write" \
			"$(node_line /tmp/c1.out "$n")" "$(host_node "$n") open ok"
	done
	if [ "$PG" != - ]; then
		check "in the container: VFIO API version, Type1, group $G viable, container set, device fd for $GPU (vfio-group-status exit 0)" \
			eval "grep -q '^group $G viable' /tmp/c1.out && grep -q '^vgs-exit 0$' /tmp/c1.out"
	else
		skip "in the container: the iommufd nodes are not probed further (vfio-group-status speaks the group API)"
	fi

	# -- without --device: none of the nodes; bind-mounted in, the device cgroup says no --
	prun /tmp/c2.out -- /bin/sh -c "$INSIDE" sh "$PG" "$GPU" "${NODES[@]}"
	expect "podman run without --device: exit status" "$?" 0
	sed 's/^/  no device: /' /tmp/c2.out
	for n in "${NODES[@]}"; do
		expect "without --device the container has no $n" "$(node_line /tmp/c2.out "$n")" missing
	done
	[ "$PG" != - ] && check "without --device the probe cannot open the group (exit 3)" grep -q '^vgs-exit 3$' /tmp/c2.out
	BINDS=()
	for n in "${NODES[@]}"; do BINDS+=(-v "$n:$n"); done
	prun /tmp/c3.out "${BINDS[@]}" -- /bin/sh -c "$INSIDE" sh - "$GPU" "${NODES[@]}"
	expect "podman run with the nodes bind-mounted, no --device: exit status" "$?" 0
	sed 's/^/  bind-mounted: /' /tmp/c3.out
	grep -v '^time=' /tmp/c3.out.err | sed 's/^/  bind-mounted stderr: /' | head -n 5
	for n in "${NODES[@]}"; do
		check "bind-mounted without --device, $n is there but the device cgroup refuses to open it ($(node_line /tmp/c3.out "$n"))" \
			eval "node_line /tmp/c3.out '$n' | grep -q '^$(host_node "$n") open refused: .*Operation not permitted$'"
	done

	# -- an unknown name --
	prun /tmp/c4.out --device "$KIND=0000:99:00.0" -- /bin/true
	rc=$?
	grep -v '^time=' /tmp/c4.out.err | sed 's/^/  unknown name: /' | head -n 3
	check "podman run --device $KIND=0000:99:00.0 (no such device in the spec) fails, exit $rc" test $rc -ne 0
	check "the refusal names $KIND=0000:99:00.0" grep -q "$KIND=0000:99:00.0" /tmp/c4.out.err

	# -- give the card back --
	run_tool /tmp/restore.out vfio-bind restore "$GPU" "$HDA"
	expect "vfio-bind restore $GPU $HDA exit status" "$?" 0
	restored_checks "vfio-bind restore" "$G" "$GPU=bochs-drm" "$HDA=snd_hda_intel"
	# the spec names a node that is gone now: the runtime refuses, it does not start a
	# container without the device
	prun /tmp/c5.out --device "$KIND=$GPU" -- /bin/true
	rc=$?
	grep -v '^time=' /tmp/c5.out.err | sed 's/^/  after restore: /' | head -n 3
	check "after the restore podman refuses --device $KIND=$GPU (its node ${NODES[-1]} is gone), exit $rc" \
		eval "[ $rc -ne 0 ] && grep -q '${NODES[-1]}' /tmp/c5.out.err"
	rm -f "$spec"
	leave_restored none "$GPU=bochs-drm" "$HDA=snd_hda_intel"
}
