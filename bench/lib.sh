# shellcheck shell=bash
# bench/lib.sh — the reporting layer of `make bench`, sourced by every bench/*.sh (after
# its `cd` to the top of the tree). Each script keeps printing its own lines for a human;
# what it measured it also records here, one figure a line, and bench/report.py turns the
# lines of the whole run into one table and build/bench.json.
#
#   bench_record FIGURE PEER PEER_VALUE VALUE UNIT RATIO GOAL MET [NOTE]
#	One figure. PEER is what it is measured against (lspci -Dnnk, virt-install, bare
#	QEMU, driverctl, ...) with its PEER_VALUE in the same UNIT as VALUE, this project's
#	figure; RATIO is VALUE / PEER_VALUE (below 1: less time, less memory than the peer).
#	GOAL is the target as a reader would write it ("<= 0.15x", "< 1 s"); MET is yes or
#	no, or - when there is no goal or the figure was not measured (NOTE says why).
#	"-" for any field that does not apply.
#   bench_not_measured FIGURE PEER UNIT GOAL REASON
#	A figure this run could not measure (no root, no test bed, ...): MET -.
#   bench_done
#	The script's last word: it finished, its misses are in its rows. A script that
#	ends without it (a crash, set -e, a timeout) is reported by bench/all.sh as
#	"bench NAME did not finish", met no.
#   bench_ratio A B      A / B with 3 decimals, or - when either is - or B is 0
#   bench_met EXPR       yes when the awk expression EXPR holds, else no
#   bench_mib KIB        KiB as MiB with 1 decimal (- stays -)
#   bench_commas N       65536 -> 65,536 (for figure names)
#   bench_on_nodev DIR ARGS...
#	Runs the calling script again (with ARGS) in a private mount namespace where DIR
#	is mounted nodev, as the kernel's /sys is: the synthetic trees are then read as a
#	host's sysfs is (one open and one read an attribute, vfk_root_read_attr). Where
#	DIR is nodev already, or without root, it says so and returns: every attribute is
#	then checked before it is read, slower than on a host.
#
# The lines go to $VFK_BENCH_RESULTS (default build/bench-results.txt), appended: `make
# bench` (bench/all.sh) empties it first; a script run alone adds to what is there.
# Format: tab-separated, first the script's name (bench/NAME.sh), then the nine fields.

VFK_BENCH_RESULTS=${VFK_BENCH_RESULTS:-build/bench-results.txt}
BENCH_NAME=${BENCH_NAME:-$(basename "$0" .sh)}

_bench_field() {	# a field without tabs or newlines, "-" when empty
	local f=${1//$'\t'/ }
	f=${f//$'\n'/ }
	printf '%s' "${f:--}"
}

bench_record() {
	local line f i
	line=$(_bench_field "$BENCH_NAME")
	for i in 1 2 3 4 5 6 7 8 9; do
		f=${!i:-}
		line+=$'\t'$(_bench_field "$f")
	done
	mkdir -p "$(dirname "$VFK_BENCH_RESULTS")" 2>/dev/null || true
	printf '%s\n' "$line" >> "$VFK_BENCH_RESULTS"
}

bench_not_measured() {	# FIGURE PEER UNIT GOAL REASON
	bench_record "$1" "$2" - - "$3" - "$4" - "not measured: $5"
}

bench_done() {
	mkdir -p "$(dirname "$VFK_BENCH_RESULTS")" 2>/dev/null || true
	printf '#done\t%s\n' "$BENCH_NAME" >> "$VFK_BENCH_RESULTS"
}

bench_ratio() {
	case $1 in ''|-) echo -; return ;; esac
	case $2 in ''|-) echo -; return ;; esac
	awk -v a="$1" -v b="$2" 'BEGIN{ if (b + 0 == 0) print "-"; else printf "%.3f\n", a / b }'
}

bench_met() {
	if awk "BEGIN{exit !($1)}" 2>/dev/null; then echo yes; else echo no; fi
}

bench_mib() {
	case $1 in ''|-) echo -; return ;; esac
	awk -v k="$1" 'BEGIN{printf "%.1f\n", k / 1024}'
}

bench_commas() {
	echo "$1" | sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta'
}

bench_on_nodev() {
	local dir=$1
	shift
	[ -z "${VFK_BENCH_NODEV:-}" ] || return 0
	if findmnt -no OPTIONS --target "$dir" 2>/dev/null | tr , '\n' | grep -qx nodev; then
		return 0
	fi
	if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
		echo "bench: $dir is not mounted nodev and no mount namespace can be had here:" \
			"each attribute is checked before it is read (slower than a host's sysfs)"
		return 0
	fi
	# shellcheck disable=SC2016
	exec env VFK_BENCH_NODEV=1 unshare -m --propagation private bash -c '
		mount --bind "$1" "$1" && mount -o remount,bind,nodev "$1" ||
			echo "bench: could not mount $1 nodev: each attribute is checked before it is read"
		shift
		exec "$@"' _ "$dir" "$0" "$@"
}
