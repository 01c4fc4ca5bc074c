#!/bin/bash
# Build the libFuzzer targets (fuzz/fuzz-*.c) and run each for a bounded time.
#   scripts/fuzz.sh [SECONDS] [TARGET...]      (default 60 s, every target)
# Environment: FUZZ_BUILD (build-fuzz), FUZZ_JOBS (targets run at once; the
# number of CPUs), FUZZ_FLAGS (extra libFuzzer flags), FUZZ_TMPDIR (scratch
# trees; /dev/shm when writable), FUZZ_FRESH=1 (start from the seeds only, keep
# no corpus: what `make check` does, so its run time does not grow).
# Prints "PASS: fuzz-NAME (N runs in S s; M in total)" or "FAIL: fuzz-NAME"
# with the crash and its input file, and ends with "N passed, N failed, N
# skipped". A crash input is kept in $FUZZ_BUILD/crashes/; turn it into a
# regression test in tests/test-safety.c, fix, and delete it.
# Corpora accumulate in $FUZZ_BUILD/corpus/NAME across runs; the executions
# of every run add up in $FUZZ_BUILD/stats/NAME. FUZZ_GOAL=N runs each target
# only until its total reaches N executions (within SECONDS).
set -u
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
B=${FUZZ_BUILD:-build-fuzz}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}

if ! command -v "${FUZZ_CC:-clang}" >/dev/null; then
	echo "FAIL: fuzz: no ${FUZZ_CC:-clang} (Debian package clang, scripts/packages.list: scripts/deps.sh check)"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
mkdir -p "$B"
# one build at a time, however many runs start together
if ! flock "$B/.build.lock" make -s FUZZ_BUILD="$B" fuzz-build >"$B/build.log" 2>&1; then
	cat "$B/build.log" >&2
	echo "FAIL: fuzz-build"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
rm -f "$B/build.log"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in fuzz/fuzz-*.c; do
		t=${f#fuzz/fuzz-}
		targets+=("${t%.c}")
	done
fi
mkdir -p "$B/corpus" "$B/crashes" "$B/stats" "$B/logs"
src=$(pwd)
# the targets that build trees rewrite files on every run: tmpfs when there is one
scratch=${FUZZ_TMPDIR:-}
if [ -z "$scratch" ]; then
	scratch=${TMPDIR:-/tmp}
	[ -d /dev/shm ] && [ -w /dev/shm ] && scratch=/dev/shm
fi

run_one() {	# target -> writes $B/logs/NAME.result
	local t=$1 bin="$B/fuzz-$1" log="$B/logs/$1.log" tmp dict=() goal=()
	if [ -n "${FUZZ_GOAL:-}" ]; then
		local done=0
		[ -f "$B/stats/$t" ] && done=$(cat "$B/stats/$t")
		if [ "$done" -ge "$FUZZ_GOAL" ]; then
			echo "PASS: fuzz-$t (goal of $FUZZ_GOAL reached before: $done in total)" >"$B/logs/$t.result"
			return
		fi
		goal=("-runs=$((FUZZ_GOAL - done))")
	fi
	tmp=$(mktemp -d "$scratch/vfk-fuzz-$t.XXXXXX")
	local corpus="$B/corpus/$t"
	[ "${FUZZ_FRESH:-0}" = 1 ] && corpus="$tmp/corpus"
	mkdir -p "$corpus"
	[ -f "fuzz/$t.dict" ] && dict=("-dict=fuzz/$t.dict")
	TMPDIR=$tmp VFK_SRCDIR=$src \
	ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:allocator_may_return_null=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	LSAN_OPTIONS=suppressions=$src/fuzz/lsan.supp:print_suppressions=0 \
		"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
		-print_final_stats=1 -artifact_prefix="$B/crashes/$t-" "${dict[@]}" "${goal[@]}" \
		${FUZZ_FLAGS:-} "$corpus" "$B/seeds/$t" >"$log" 2>&1
	local rc=$?
	rm -rf "$tmp"
	local runs total=0
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	runs=${runs:-0}
	[ -f "$B/stats/$t" ] && total=$(cat "$B/stats/$t")
	total=$((total + runs))
	echo "$total" >"$B/stats/$t"
	if [ $rc -eq 0 ]; then
		echo "PASS: fuzz-$t ($runs runs in ${secs} s; $total in total)" >"$B/logs/$t.result"
	else
		{
			echo "FAIL: fuzz-$t (exit $rc after $runs runs; log $log)"
			grep -E "ERROR:|runtime error|invariant broken|Test unit written|SUMMARY" "$log" |
				head -n 12 | sed 's/^/  /'
		} >"$B/logs/$t.result"
	fi
}

running=0
for t in "${targets[@]}"; do
	if [ ! -x "$B/fuzz-$t" ]; then
		echo "SKIP: fuzz-$t (no such target)" >"$B/logs/$t.result"
		continue
	fi
	run_one "$t" &
	running=$((running + 1))
	if [ $running -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

P=0 F=0 S=0
for t in "${targets[@]}"; do
	r=$(cat "$B/logs/$t.result" 2>/dev/null || echo "FAIL: fuzz-$t (no result)")
	echo "$r"
	case "$r" in
	PASS:*) P=$((P + 1)) ;;
	SKIP:*) S=$((S + 1)) ;;
	*) F=$((F + 1)) ;;
	esac
done
echo "$P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
