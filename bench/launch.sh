#!/bin/bash
# Benchmark (issue 6): time from `vfio-vm up --backend qemu` to the guest's first
# console line, against the bare QEMU command `vfio-vm gen --format qemu` prints for
# the same guest. Target: <= 3% overhead. Needs root (vfio-vm up) and the test-bed
# kernel (tests/vm/setup.sh fetches it). Also recorded for the table of make bench
# (bench/lib.sh); a run that shows no console line makes it a miss.
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
BIN=${VFK_BIN:-build/bin}
REPS=${VFK_BENCH_REPS:-5}
FIGURE="vfio-vm up --backend qemu: start to first console line (TCG)"
PEER="bare QEMU (vfio-vm gen --format qemu)"
GOAL="<= 1.03x (3% overhead)"
skip() {
	echo "launch bench: $1 (skipped)"
	bench_not_measured "$FIGURE" "$PEER" s "$GOAL" "$1"
	bench_done
	exit 0
}
[ "$(id -u)" = 0 ] || skip "needs root"
tests/vm/setup.sh >/dev/null 2>&1 || skip "no test-bed kernel"
KERNEL=$(ls "${VFK_VM_CACHE:-tests/vm/cache}"/kernel/boot/vmlinuz-* | head -n 1)
W=$(mktemp -d /var/tmp/vfk-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
tests/launch/mkguest.sh "$W/guest.cpio.gz"
cat > "$W/bench.ini" <<EOT
[vm]
name = vfk-bench-launch
memory = 256M
vcpus = 1
os = linux
firmware = bios
kernel = $(readlink -f "$KERNEL")
initrd = $W/guest.cpio.gz
cmdline = console=ttyS0 vfk_hold=1
serial = stdio
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

now() { date +%s.%N; }
first_line() {	# FILE START -> seconds until FILE holds a complete line
	local f=$1 t0=$2
	for _ in $(seq 6000); do
		if [ -s "$f" ] && head -c 4096 "$f" | grep -q $'\n' 2>/dev/null; then
			awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.4f", b-a}'
			return 0
		fi
		sleep 0.005
	done
	echo 0; return 1
}

"$BIN/vfio-vm" gen "$W/bench.ini" --format qemu > "$W/argv.sh"
vt=() qt=() bad_up=0 bad_bare=0
for i in $(seq "$REPS"); do
	rm -f "$W/up.log"
	t0=$(now)
	"$BIN/vfio-vm" up "$W/bench.ini" --backend qemu --console-log "$W/up.log" -q 2>/dev/null
	t=$(first_line "$W/up.log" "$t0") || bad_up=$((bad_up + 1))
	vt+=("$t")
	"$BIN/vfio-vm" down vfk-bench-launch --timeout 1 -q

	rm -f "$W/bare.log"
	t0=$(now)
	bash -c "exec $(tr -d '\\\n' < "$W/argv.sh")" > "$W/bare.log" 2>/dev/null < /dev/null &
	pid=$!
	t=$(first_line "$W/bare.log" "$t0") || bad_bare=$((bad_bare + 1))
	qt+=("$t")
	kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
done
mean() { printf '%s\n' "$@" | awk '{s+=$1} END{printf "%.4f", s/NR}'; }
mv=$(mean "${vt[@]}") mq=$(mean "${qt[@]}")
echo "launch to first console line (mean of $REPS, TCG):"
echo "  vfio-vm up --backend qemu   ${mv}s   (runs: ${vt[*]})"
echo "  bare QEMU (gen --format qemu) ${mq}s   (runs: ${qt[*]})"
awk -v a="$mv" -v b="$mq" 'BEGIN{printf "  overhead: %+.1f%% (target <= 3%%)\n", (b > 0 ? (a/b-1)*100 : 0)}'
if [ "$bad_up" != 0 ] || [ "$bad_bare" != 0 ]; then
	echo "  no console line: vfio-vm up in $bad_up, bare QEMU in $bad_bare of $REPS runs"
	bench_record "$FIGURE" "$PEER" "$mq" "$mv" s "$(bench_ratio "$mv" "$mq")" "$GOAL" no \
		"no console line in $bad_up (vfio-vm up) and $bad_bare (bare) of $REPS runs (counted as 0 s)"
else
	bench_record "$FIGURE" "$PEER" "$mq" "$mv" s "$(bench_ratio "$mv" "$mq")" "$GOAL" \
		"$(bench_met "$mq > 0 && $mv / $mq <= 1.03")" "mean of $REPS runs"
fi
bench_done
