#!/bin/bash
# Benchmark (issue 19, point 6): time from starting QEMU to its QMP greeting
# with 4 GiB of guest memory preallocated, by 1 thread (QEMU's default) and by
# one per vCPU (what vfio-vm plans: prealloc-threads). QEMU runs paused (-S,
# no guest code), so the figure is the preallocation plus QEMU's own start.
# Memory comes from huge pages when enough are free on a hugetlbfs mount,
# else from memfd (normal pages). Less than 4 GiB + 1 GiB available: the size
# is scaled down and said. TCG: the accelerator plays no part in the
# preallocation, and not every machine's /dev/kvm can start a VM.
# Target: one thread per vCPU at least 1.2x faster than one thread (median of
# VFK_BENCH_REPS runs each, alternated); on a 1-CPU machine only reported.
# Also recorded for the table of make bench (bench/lib.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
REPS=${VFK_BENCH_REPS:-5}
MIB=${VFK_BENCH_PREALLOC_MIB:-4096}
FIGURE="QEMU start to QMP ready, guest memory preallocated by one thread per vCPU (TCG, paused)"
PEER="prealloc-threads=1 (QEMU's default)"
GOAL="<= 0.833x (1.2x faster)"
skip() {
	echo "prealloc bench: $1 (skipped)"
	bench_not_measured "$FIGURE" "$PEER" s "$GOAL" "$1"
	bench_done
	exit 0
}
QEMU=$(command -v qemu-system-x86_64) || skip "no qemu-system-x86_64"
command -v python3 >/dev/null || skip "needs python3"

meminfo() { awk -v k="$1:" '$1 == k {print $2}' /proc/meminfo; }
avail=$(( $(meminfo MemAvailable) / 1024 ))
note=""
if [ "$avail" -lt $((MIB + 1024)) ]; then
	MIB=$(( (avail - 1024) / 2 / 256 * 256 ))
	[ "$MIB" -ge 256 ] || skip "only ${avail} MiB available"
	note=" (scaled down from 4096 MiB: ${avail} MiB available)"
fi
vcpus=$(nproc)
hp_free_mib=$(( $(meminfo HugePages_Free) * $(meminfo Hugepagesize) / 1024 ))
hp_mount=$(awk '$3 == "hugetlbfs" {print $2; exit}' /proc/mounts)
if [ -n "$hp_mount" ] && [ "$hp_free_mib" -ge "$MIB" ]; then
	backend="memory-backend-file,mem-path=$hp_mount"
	what="huge pages ($hp_mount)"
else
	backend="memory-backend-memfd"
	what="memfd, normal pages (${hp_free_mib} MiB of huge pages free)"
fi
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# One start: seconds from exec to QMP's greeting, then quit.
once() {	# THREADS
	python3 - "$QEMU" "$W/qmp.sock" "$MIB" "$1" "$vcpus" "$backend" <<'EOF'
import os, socket, subprocess, sys, time
qemu, sock, mib, threads, vcpus, backend = sys.argv[1:]
try:
    os.unlink(sock)
except FileNotFoundError:
    pass
argv = [qemu, "-nodefaults", "-no-user-config", "-display", "none", "-S",
        "-machine", "q35,accel=tcg,memory-backend=mem0", "-smp", vcpus, "-m", mib + "M",
        "-object", "%s,id=mem0,size=%sM,prealloc=on,prealloc-threads=%s" % (backend, mib, threads),
        "-qmp", "unix:%s,server=on,wait=off" % sock]
t0 = time.monotonic()
p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.PIPE)
greeting, s = b"", None
while time.monotonic() - t0 < 120 and p.poll() is None:
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)
        s.settimeout(120)
        while b"\n" not in greeting:
            chunk = s.recv(4096)
            if not chunk:
                break
            greeting += chunk
        break
    except OSError:
        s.close()
        s = None
        time.sleep(0.005)
t = time.monotonic() - t0
if s is None or b'"QMP"' not in greeting:
    p.kill()
    sys.stderr.write("no QMP greeting: %s\n" % p.stderr.read().decode(errors="replace").strip())
    sys.exit(1)
s.sendall(b'{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n')
try:
    p.wait(timeout=30)
except subprocess.TimeoutExpired:
    p.kill()
print("%.3f" % t)
EOF
}

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

once 1 >/dev/null || skip "QEMU did not start"	# warm-up
failed() {	# WHAT
	echo "prealloc bench: $1 failed"
	bench_record "$FIGURE" "$PEER" - - s - "$([ "$vcpus" -lt 2 ] && echo - || echo "$GOAL")" no "$1 failed"
	bench_done
	exit 1
}
one=() many=()
for _ in $(seq "$REPS"); do
	one+=("$(once 1)") || failed "a run with 1 thread"
	many+=("$(once "$vcpus")") || failed "a run with $vcpus threads"
done
m1=$(median "${one[@]}") mn=$(median "${many[@]}")
echo "start to QMP ready, ${MIB} MiB preallocated${note}, ${what}, ${vcpus} vCPUs (median of $REPS, TCG, paused):"
printf '  %-30s %6ss   (runs: %s)\n' "prealloc-threads=1" "$m1" "${one[*]}"
printf '  %-30s %6ss   (runs: %s)\n' "prealloc-threads=$vcpus (per vCPU)" "$mn" "${many[*]}"
speedup=$(awk -v a="$m1" -v b="$mn" 'BEGIN{printf "%.2f", (b > 0 ? a / b : 0)}')
note="${MIB} MiB${note}, ${what}, ${vcpus} vCPUs, median of $REPS; ${speedup}x faster"
if [ "$vcpus" -lt 2 ]; then
	echo "  speedup: ${speedup}x (one CPU: no target)"
	bench_record "$FIGURE" "$PEER" "$m1" "$mn" s "$(bench_ratio "$mn" "$m1")" - - "$note; one CPU: no target"
	bench_done
	exit 0
fi
echo "  speedup: ${speedup}x (target >= 1.2x)"
bench_record "$FIGURE" "$PEER" "$m1" "$mn" s "$(bench_ratio "$mn" "$m1")" "$GOAL" \
	"$(bench_met "$speedup >= 1.2")" "$note"
bench_done
awk -v s="$speedup" 'BEGIN{exit !(s >= 1.2)}'
