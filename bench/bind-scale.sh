#!/bin/bash
# make bench: `vfio-bind --dry-run bind --group G` on ONE IOMMU group of 1k, 4k and
# 16k endpoints (bench/mksynth.py --one-group: PCH root ports and switches without
# ACS, a dGPU, NICs and NVMe controllers). Prints per size the median wall time (the
# target's measure) and CPU time (user + system: what other load on the machine
# changes least), the peak RSS, vfio-ls on the same tree for scale (the scan every
# tool pays) and PASS/MISS against the target of issue 21: binding is linear in the
# group's size, 16k endpoints under 1 s (so every smaller group too).
#
#   BIN=build/bin                     the tools to measure
#   VFK_BENCH_BIND_SIZES="1000 4000 16000"
#   VFK_BENCH_REPS=5                  runs per size (the median is reported)
#   VFK_BENCH_BIND_TIMEOUT=60         seconds before a run counts as a miss
#
# Exit status: 0 when every run worked (misses included), 1 when the tool failed
# or its dry run did not name every endpoint exactly once. Every size is also
# recorded for the table of make bench (bench/lib.sh), misses and failures as met no.
set -u
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
BIN=${BIN:-build/bin}
SIZES=${VFK_BENCH_BIND_SIZES:-"1000 4000 16000"}
REPS=${VFK_BENCH_REPS:-5}
LIMIT=${VFK_BENCH_BIND_TIMEOUT:-60}
TARGET=1.0

figure() { echo "vfio-bind --dry-run bind --group, one group of $(bench_commas "$1") endpoints: time"; }
goal() { if [ "$1" -le 16000 ]; then echo "< ${TARGET} s"; else echo -; fi; }
if [ ! -x "$BIN/vfio-bind" ]; then
	echo "bind-scale: no $BIN/vfio-bind (make first)" >&2
	for n in $SIZES; do bench_not_measured "$(figure "$n")" - s "$(goal "$n")" "no $BIN/vfio-bind"; done
	bench_done
	exit 1
fi
# tmpfs: a 16k tree is a quarter of a million small files
base=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && base=/dev/shm
bench_on_nodev "$base" "$@"
work=$(mktemp -d -p "$base" vfiokit-bind-scale.XXXXXX) || exit 1
trap 'rm -rf "$work"' EXIT

# One timed run: prints "wall_s maxrss_kib cpu_s exit_status" (maxrss "-" without
# /usr/bin/time); the tool's stdout goes to $work/out, its stderr to $work/err.
timed() {
	local tf=$work/time rc
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -o "$tf" -f '%e %M %U %S' timeout "$LIMIT" "$@" >"$work/out" 2>"$work/err"
		rc=$?
	else
		local TIMEFORMAT='%R - %U %S'
		{ time timeout "$LIMIT" "$@" >"$work/out" 2>"$work/err"; } 2>"$tf"
		rc=$?
	fi
	tail -n 1 "$tf" | awk -v rc="$rc" '{ printf "%s %s %.2f %s\n", $1, $2, $3 + $4, rc }'
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

row() { printf '%-9s %-9s %-9s %-11s %-15s %s\n' "$@"; }

failed=0
row endpoints "bind -n" "(cpu)" "peak RSS" "vfio-ls (scan)" "target: 16k under ${TARGET}s"
prev=""
for n in $SIZES; do
	tree=$work/tree-$n
	group=$(python3 bench/mksynth.py --one-group "$n" "$tree" | sed -n 's/^group //p')
	if [ -z "$group" ]; then
		echo "bind-scale: generating a group of $n endpoints failed" >&2
		bench_record "$(figure "$n")" - - - s - "$(goal "$n")" no "generating the tree failed"
		failed=1
		continue
	fi
	times="" cpus="" rss=0 verdict=""
	for _ in $(seq "$REPS"); do
		read -r t m c rc < <(timed "$BIN/vfio-bind" --sysroot "$tree" -n bind --group "$group")
		if [ "$rc" = 124 ]; then
			verdict="MISS (a run took over ${LIMIT}s)"
			break
		fi
		if [ "$rc" != 0 ]; then
			verdict="FAIL (vfio-bind exit $rc: $(head -n 1 "$work/err"))"
			failed=1
			break
		fi
		times="$times $t"
		cpus="$cpus $c"
		[ "$m" != - ] && [ "$m" -gt "$rss" ] && rss=$m
	done
	if [ -z "$verdict" ]; then
		# every endpoint once, no bridge: the dry run's driver_override writes
		got=$(grep -c '/driver_override <- vfio-pci$' "$work/out")
		uniq=$(grep '/driver_override <- vfio-pci$' "$work/out" | sort -u | wc -l)
		if [ "$got" != "$n" ] || [ "$uniq" != "$n" ]; then
			verdict="FAIL (the dry run wrote $got overrides for $uniq devices, expected $n)"
			failed=1
		fi
	fi
	lsmed=""
	for _ in 1 2 3; do
		read -r t _ _ _ < <(timed "$BIN/vfio-ls" --sysroot "$tree")
		lsmed="$lsmed $t"
	done
	lsmed=$(echo "$lsmed" | median)
	if [ -z "$verdict" ]; then
		med=$(echo "$times" | median)
		cpu=$(echo "$cpus" | median)
		if awk "BEGIN{exit !($med < $TARGET)}"; then verdict=PASS; else verdict=MISS; fi
		[ "$n" -le 16000 ] || verdict="$verdict (informational: above 16k)"
		row "$n" "${med}s" "${cpu}s" "${rss}KiB" "${lsmed}s" "$verdict"
		met=-
		[ "$n" -gt 16000 ] || met=$([ "${verdict%% *}" = PASS ] && echo yes || echo no)
		bench_record "$(figure "$n")" "vfio-ls, same tree (the scan)" "$lsmed" "$med" s \
			"$(bench_ratio "$med" "$lsmed")" "$(goal "$n")" "$met" \
			"median of $REPS; cpu ${cpu} s, peak RSS $(bench_mib "$rss") MiB"
		if [ -n "$prev" ]; then
			set -- $prev
			awk "BEGIN{ if ($2 > 0) printf \"          %.1fx the endpoints of %d: %.1fx the time (linear: %.1fx)\n\", $n/$1, $1, $med/$2, $n/$1 }"
		fi
		prev="$n $med"
	else
		row "$n" - - - "${lsmed}s" "$verdict"
		met=no
		[ "$n" -le 16000 ] || [ "${verdict%% *}" != MISS ] || met=-
		bench_record "$(figure "$n")" "vfio-ls, same tree (the scan)" "$lsmed" - s - "$(goal "$n")" "$met" "$verdict"
		prev=""
	fi
	rm -rf "$tree"
done
bench_done
exit "$failed"
