#!/bin/bash
# Benchmark (issue 6): time from `vfio-vm up --backend qemu` to the guest's first
# console line, against the bare QEMU command `vfio-vm gen --format qemu` prints for
# the same guest. Target: <= 3% overhead. Needs root (vfio-vm up) and the test-bed
# kernel (tests/vm/setup.sh fetches it).
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${VFK_BIN:-build/bin}
REPS=${VFK_BENCH_REPS:-5}
[ "$(id -u)" = 0 ] || { echo "launch bench: needs root (skipped)"; exit 0; }
tests/vm/setup.sh >/dev/null 2>&1 || { echo "launch bench: no test-bed kernel (skipped)"; exit 0; }
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
vt=() qt=()
for i in $(seq "$REPS"); do
	rm -f "$W/up.log"
	t0=$(now)
	"$BIN/vfio-vm" up "$W/bench.ini" --backend qemu --console-log "$W/up.log" -q 2>/dev/null
	vt+=("$(first_line "$W/up.log" "$t0")")
	"$BIN/vfio-vm" down vfk-bench-launch --timeout 1 -q

	rm -f "$W/bare.log"
	t0=$(now)
	bash -c "exec $(tr -d '\\\n' < "$W/argv.sh")" > "$W/bare.log" 2>/dev/null < /dev/null &
	pid=$!
	qt+=("$(first_line "$W/bare.log" "$t0")")
	kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
done
mean() { printf '%s\n' "$@" | awk '{s+=$1} END{printf "%.4f", s/NR}'; }
mv=$(mean "${vt[@]}") mq=$(mean "${qt[@]}")
echo "launch to first console line (mean of $REPS, TCG):"
echo "  vfio-vm up --backend qemu   ${mv}s   (runs: ${vt[*]})"
echo "  bare QEMU (gen --format qemu) ${mq}s   (runs: ${qt[*]})"
awk -v a="$mv" -v b="$mq" 'BEGIN{printf "  overhead: %+.1f%% (target <= 3%%)\n", (a/b-1)*100}'
