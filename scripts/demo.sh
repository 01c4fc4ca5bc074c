#!/bin/bash
# make demo: build, then the whole vfiokit story narrated inside the real-kernel
# test bed: vfio-check -> vfio-ls -> vfio-vm plan -> vfio-vm up (GPU passthrough to a
# KVM guest whose kernel reports the GPU) -> vfio-vm down (native drivers back).
# Every step is bounded; a failure ends with one "demo: ..." line naming the step.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh demo || { echo "demo: installing the packages of scripts/packages.list failed" >&2; exit 1; }
make -s -j"$(nproc)" all || { echo "demo: building the library and tools failed" >&2; exit 1; }
exec tests/vm/run-demo.sh
