#!/bin/bash
# make check: install what is missing, build, run the unit suite and the shell
# completion's (tests/completion.sh), the inventory's system calls per function (tests/syscalls.sh), vfio-ls --svg through real renderers (tests/svg-render.sh), the Debian packages (tests/deb.sh), the unit suite again under ASan+UBSan
# and under valgrind, a short run of every fuzz target, then
# the real-kernel suite (tests/vm) when QEMU can be had.
# VFK_SKIP_DEB=1, VFK_SKIP_VALGRIND=1, VFK_SKIP_FUZZ=1, VFK_SKIP_VM=1 leave a suite out.
# Ends with one line "N passed, N failed, N skipped" summed over all suites.
set -u
cd "$(dirname "$0")/.."
T0=$(date +%s)
scripts/deps.sh check || { echo "check: installing the packages of scripts/packages.list failed" >&2; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

P=0 F=0 S=0 broken="" times=()
mmss() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
suite() {	# name, command...
	local name=$1 log sum t
	shift
	log=$(mktemp)
	echo "=== $name ==="
	t=$(date +%s)
	"$@" 2>&1 | tee "$log"
	local rc=${PIPESTATUS[0]}
	t=$(( $(date +%s) - t ))
	sum=$(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$log" | tail -n 1)
	rm -f "$log"
	times+=("$(printf '%-12s %7s  %s' "$name" "$(mmss $t)" "${sum:-no result line (exit $rc)}")")
	if [ -z "$sum" ]; then
		echo "=== $name: no result line (exit $rc) ==="
		F=$((F + 1)); broken="$broken $name"
		return
	fi
	set -- $sum
	P=$((P + $1)); F=$((F + $3)); S=$((S + ${5:-0}))
	if [ "$rc" -ne 0 ] && [ "$3" -eq 0 ]; then
		echo "=== $name: exit $rc ==="
		F=$((F + 1)); broken="$broken $name"
	fi
}

if ! make -s -j"$(nproc)" all tests; then
	echo "check: build failed" >&2
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
times+=("$(printf '%-12s %7s' deps+build "$(mmss $(( $(date +%s) - T0 )))")")
suite unit build/tests/run-tests
suite completion tests/completion.sh
# system calls per PCI function of an inventory, counted with strace
suite syscalls tests/syscalls.sh
# vfio-ls --svg drawn by two real renderers (librsvg, headless Chromium)
suite svg-render tests/svg-render.sh
# The Debian packages built, lintian'd, installed in a fresh Debian 12 root and run there.
if [ "${VFK_SKIP_DEB:-0}" = 1 ]; then
	echo "=== Debian package suite skipped (VFK_SKIP_DEB=1) ==="
	S=$((S + 1))
else
	suite deb tests/deb.sh
fi
suite sanitizers make -s check-san
# The unit suite again under valgrind memcheck (make check-valgrind). Valgrind
# lacks openat2: there the safety tests prove the path layer's fallback walk.
if [ "${VFK_SKIP_VALGRIND:-0}" = 1 ]; then
	echo "=== valgrind suite skipped (VFK_SKIP_VALGRIND=1) ==="
	S=$((S + 1))
else
	suite valgrind scripts/valgrind.sh build
fi
if [ "${VFK_SKIP_FUZZ:-0}" = 1 ]; then
	echo "=== fuzz smoke run skipped (VFK_SKIP_FUZZ=1) ==="
	S=$((S + 1))
else
	# every fuzz target from its seeds for a few seconds (make fuzz runs longer)
	suite fuzz env FUZZ_FRESH=1 scripts/fuzz.sh "${VFK_FUZZ_CHECK_TIME:-5}"
fi
if [ "${VFK_SKIP_LAUNCH:-0}" = 1 ]; then
	echo "=== launch suite skipped (VFK_SKIP_LAUNCH=1) ==="
	S=$((S + 1))
else
	suite launch tests/launch/run.sh
fi
if [ "${VFK_SKIP_VM:-0}" = 1 ]; then
	echo "=== real-kernel suite skipped (VFK_SKIP_VM=1) ==="
	S=$((S + 1))
elif [ -x tests/vm/run-all.sh ]; then
	suite real-kernel tests/vm/run-all.sh
fi
[ -n "$broken" ] && echo "suites without a clean result:$broken"
echo "=== make check: per-suite wall time, $(mmss $(( $(date +%s) - T0 ))) in all"
printf '  %s\n' "${times[@]}"
echo "$P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
