# scripts/root.sh — sourced (bash) by scripts/fresh-root.sh and tests/deb.sh: a fresh
# Debian 12 minbase root bootstrapped with mmdebstrap from this machine's mirrors,
# commands run in it as root in a private mount namespace, and its removal.
#
#   root_bootstrap DIR [PACKAGE...]       minbase (+ PACKAGEs) into DIR, which must not
#                                         exist; bounded (900 s). Returns 0, or 1 with
#                                         mmdebstrap's last lines on stderr.
#   root_run DIR TIMEOUT WORKDIR COMMAND  bash -c COMMAND in WORKDIR inside DIR as root,
#                                         with /dev, /sys, /proc, a devpts and a tmpfs
#                                         /tmp and /run of its own, a clean environment
#                                         (PATH, HOME, LANG, TERM, CI); bounded by
#                                         TIMEOUT seconds (exit 124 then).
#   root_remove_procs DIR                 end the processes still running in DIR (found
#                                         by /proc/PID/root; TERM, then KILL)
#   root_remove DIR                       the same, then remove DIR without crossing
#                                         into another file system; refused (1) while
#                                         something is mounted there.
#
# Needs root, mmdebstrap and unshare (scripts/packages.list, target ci).

# the mirrors this machine uses (deb822 or one-line sources), as mmdebstrap arguments
root_mirrors() {
	local uri suites s
	ROOT_MIRRORS=()
	while read -r uri suites; do
		for s in $suites; do ROOT_MIRRORS+=("deb $uri $s main"); done
	done < <(
		{ cat /etc/apt/sources.list.d/*.sources 2>/dev/null; echo; } | awk '
			/^URIs:/ { u = $2 } /^Suites:/ { $1 = ""; s = $0 }
			/^$/ { if (u != "" && s != "") print u, s; u = ""; s = "" }'
		grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
			| awk '$3 ~ /^bookworm/ { print $2, $3 }'
	)
	[ ${#ROOT_MIRRORS[@]} -gt 0 ] || ROOT_MIRRORS=("deb http://deb.debian.org/debian bookworm main"
		"deb http://deb.debian.org/debian bookworm-updates main"
		"deb http://deb.debian.org/debian-security bookworm-security main")
}

root_bootstrap() {	# DIR [PACKAGE...]
	local dir=$1 inc=''
	shift
	[ $# -gt 0 ] && inc="--include=$(IFS=,; echo "$*")"
	root_mirrors
	if ! timeout 900 mmdebstrap --mode=root --variant=minbase ${inc:+"$inc"} bookworm "$dir" \
		"${ROOT_MIRRORS[@]}" > "$dir.log" 2>&1; then
		tail -n 20 "$dir.log" >&2
		rm -f "$dir.log"
		return 1
	fi
	rm -f "$dir.log"
	# what any installed machine has and no package provides
	cp /etc/resolv.conf "$dir/etc/resolv.conf"
	printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > "$dir/etc/hosts"
	echo vfk-fresh > "$dir/etc/hostname"
}

root_run() {	# DIR TIMEOUT WORKDIR COMMAND
	unshare --mount --propagation private -- /bin/bash -c '
		set -e
		R=$1 TMO=$2 WD=$3; shift 3
		# the root a mount point of its own, as "/" is on a machine: libvirt makes
		# its QEMU namespaces from "/" (MS_SLAVE there fails on a plain directory)
		mount --bind "$R" "$R"
		mount --rbind /dev "$R/dev"
		# a devpts of its own, as a booted machine has one: the copies of this
		# machine'"'"'s (it may stack several) go, ptys come from the new instance
		while mountpoint -q "$R/dev/pts"; do umount -l "$R/dev/pts"; done
		mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$R/dev/pts"
		mount --bind "$R/dev/pts/ptmx" "$R/dev/ptmx"
		mount --rbind /sys "$R/sys"
		mount -t proc proc "$R/proc"
		mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
		mount -t tmpfs -o mode=755 tmpfs "$R/run"
		exec chroot "$R" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 TERM=dumb CI="${CI:-}" \
			/usr/bin/timeout -k 30 "$TMO" /bin/bash -c "cd $WD && $1"
	' root-run "$1" "$2" "$3" "$4"
}

root_remove_procs() {	# DIR
	local dir=$1 p r pids=()
	for p in /proc/[0-9]*; do
		r=$(readlink "$p/root" 2>/dev/null) || continue
		[ "$r" = "$dir" ] && pids+=("${p#/proc/}")
	done
	[ ${#pids[@]} -gt 0 ] || return 0
	echo "root: ending ${#pids[@]} process(es) left in $dir: ${pids[*]}" >&2
	kill -TERM "${pids[@]}" 2>/dev/null || true
	sleep 2
	kill -KILL "${pids[@]}" 2>/dev/null || true
}

root_remove() {	# DIR
	local dir=$1
	root_remove_procs "$dir"
	[ -d "$dir" ] || return 0
	if grep -q " $dir[/ ]" /proc/self/mountinfo; then
		echo "root: not removing $dir: something is still mounted there" >&2
		return 1
	fi
	rm -rf --one-file-system "$dir"
}
