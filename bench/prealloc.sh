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
set -uo pipefail
cd "$(dirname "$0")/.."
REPS=${VFK_BENCH_REPS:-5}
MIB=${VFK_BENCH_PREALLOC_MIB:-4096}
QEMU=$(command -v qemu-system-x86_64) || { echo "prealloc bench: no qemu-system-x86_64 (skipped)"; exit 0; }
command -v python3 >/dev/null || { echo "prealloc bench: needs python3 (skipped)"; exit 0; }

meminfo() { awk -v k="$1:" '$1 == k {print $2}' /proc/meminfo; }
avail=$(( $(meminfo MemAvailable) / 1024 ))
note=""
if [ "$avail" -lt $((MIB + 1024)) ]; then
	MIB=$(( (avail - 1024) / 2 / 256 * 256 ))
	[ "$MIB" -ge 256 ] || { echo "prealloc bench: only ${avail} MiB available (skipped)"; exit 0; }
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

once 1 >/dev/null || { echo "prealloc bench: QEMU did not start (skipped)"; exit 0; }	# warm-up
one=() many=()
for _ in $(seq "$REPS"); do
	one+=("$(once 1)") || { echo "prealloc bench: a run with 1 thread failed"; exit 1; }
	many+=("$(once "$vcpus")") || { echo "prealloc bench: a run with $vcpus threads failed"; exit 1; }
done
m1=$(median "${one[@]}") mn=$(median "${many[@]}")
echo "start to QMP ready, ${MIB} MiB preallocated${note}, ${what}, ${vcpus} vCPUs (median of $REPS, TCG, paused):"
printf '  %-30s %6ss   (runs: %s)\n' "prealloc-threads=1" "$m1" "${one[*]}"
printf '  %-30s %6ss   (runs: %s)\n' "prealloc-threads=$vcpus (per vCPU)" "$mn" "${many[*]}"
speedup=$(awk -v a="$m1" -v b="$mn" 'BEGIN{printf "%.2f", (b > 0 ? a / b : 0)}')
if [ "$vcpus" -lt 2 ]; then
	echo "  speedup: ${speedup}x (one CPU: no target)"
	exit 0
fi
echo "  speedup: ${speedup}x (target >= 1.2x)"
awk -v s="$speedup" 'BEGIN{exit !(s >= 1.2)}'
