#!/bin/bash
# make demo: build, then show vfio-check and vfio-ls on this machine and on a
# bundled sample host (a desktop with an iGPU for the host and a dGPU to give away).
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh
make -s all
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
BIN=build/bin
say "vfio-check on this machine: is it ready for passthrough?"
"$BIN/vfio-check" || true
say "vfio-ls on this machine"
"$BIN/vfio-ls"
SAMPLE=$(mktemp -d)
trap 'rm -rf "$SAMPLE"' EXIT
python3 tests/mkhost.py tests/fixtures/hosts/desktop-dgpu-igpu.host "$SAMPLE/host"
say "A sample host (tests/fixtures/hosts/desktop-dgpu-igpu.host): vfio-check"
"$BIN/vfio-check" --sysroot "$SAMPLE/host" || true
say "The sample host's GPUs: which can be passed through, and why"
"$BIN/vfio-ls" --sysroot "$SAMPLE/host" --gpus
SHARED=tests/fixtures/hosts/shared-chipset.host
if [ -f "$SHARED" ]; then
	python3 tests/mkhost.py "$SHARED" "$SAMPLE/shared"
	say "A host whose GPU sits in a shared chipset group: vfio-ls names the blockers"
	"$BIN/vfio-ls" --sysroot "$SAMPLE/shared" --gpus
fi
