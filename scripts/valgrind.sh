#!/bin/bash
# The unit suite under valgrind memcheck: no invalid read or write, no use of
# uninitialised memory, no definitely lost block — in the test processes (the
# harness forks one per test; valgrind follows forks) and in every tool they
# run (--trace-children; python, the fixture builder, and system binaries
# are not traced). Sharded over the CPUs; each shard is one run-tests.
#   scripts/valgrind.sh [BUILD] [TEST|PREFIX*...]
# Prints the tests' PASS/FAIL/SKIP lines, one FAIL per process valgrind found
# errors in (with its report), and "N passed, N failed, N skipped".
# Environment: VFK_VALGRIND_JOBS (shards; twice the number of CPUs).
set -u
cd "$(dirname "$0")/.."
B=${1:-build}
shift || true
RUN=$B/tests/run-tests

# Too slow under valgrind for the ~5 minute budget of `make check` on two
# cores; each is covered by the plain and the ASan+UBSan runs.
declare -A SLOW=(
	[failure_at_every_write_rolls_back_every_device]="binds 8 times, one run per failing write"
	[restore_after_binder_killed_midway]="kills the binder at every write"
	[emit_xml_variants_validate]="runs xmllint over every variant"
	[safety_user_input_never_becomes_a_path]="runs the tools 150 times"
	[safety_atomic_write_failing_midway_keeps_old_file]="RLIMIT_FSIZE would cut valgrind's own log"
	[safety_atomic_write_crash_midway_keeps_old_file]="RLIMIT_FSIZE would cut valgrind's own log"
	[bind_time_is_linear_in_group_size]="a timing bound; valgrind runs 20-50x slower"
	[large_group_dry_run_names_every_endpoint_once]="builds a group of 4,000 endpoints"
	[journal_of_20k_devices_loads_and_restores_whole]="a timing bound over 20,000 entries"
)

if ! command -v valgrind >/dev/null; then
	echo "FAIL: valgrind is not installed (Debian package valgrind, scripts/packages.list: scripts/deps.sh check)"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
if [ ! -x "$RUN" ]; then
	echo "valgrind: $RUN not built (make tests)" >&2
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi

# twice the CPUs: many tests wait (timeouts, tools starting) rather than compute
jobs=${VFK_VALGRIND_JOBS:-$(( $(nproc 2>/dev/null || echo 1) * 2 ))}
work=$(mktemp -d "${TMPDIR:-/tmp}/vfk-valgrind-XXXXXX")
trap 'rm -rf "$work"' EXIT
# tests drop to an unprivileged user (test-privilege.c): their tools log here too
chmod 755 "$work"
# a copy every child can read: tests run tools as other users, and the tree may
# sit below a home they cannot enter (/root in the fresh-root CI)
install -m 644 scripts/valgrind.supp "$work/valgrind.supp"

"$RUN" --list "$@" | awk '{print $1}' >"$work/all" || exit 1
: >"$work/run"
while read -r t; do
	if [ -n "${SLOW[$t]:-}" ]; then
		# outside this suite's scope, not a skip: the plain and sanitizer runs cover it
		echo "INFO: not run under valgrind: $t (${SLOW[$t]})" >>"$work/skips"
	else
		echo "$t" >>"$work/run"
	fi
done <"$work/all"

# round-robin shards, so slow neighbours spread out
for ((i = 0; i < jobs; i++)); do : >"$work/shard.$i"; done
n=0
while read -r t; do
	echo "$t" >>"$work/shard.$((n % jobs))"
	n=$((n + 1))
done <"$work/run"

for ((i = 0; i < jobs; i++)); do
	[ -s "$work/shard.$i" ] || continue
	mkdir -p "$work/logs.$i"
	chmod 1777 "$work/logs.$i"
	# shellcheck disable=SC2046
	VFK_TEST_TIMEOUT=${VFK_TEST_TIMEOUT:-300} \
	valgrind -q --tool=memcheck --trace-children=yes \
		--trace-children-skip='*python*,/usr/*,/bin/*,/sbin/*' \
		--leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
		--error-exitcode=99 --track-fds=no --num-callers=30 --vgdb=no \
		--suppressions="$work/valgrind.supp" \
		--log-file="$work/logs.$i/vg.%p" \
		"$RUN" $(cat "$work/shard.$i") >"$work/out.$i" 2>&1 &
done
wait

P=0 F=0 S=0
for ((i = 0; i < jobs; i++)); do
	[ -f "$work/out.$i" ] || continue
	# everything but each shard's own summary line
	grep -vE '^[0-9]+ passed, [0-9]+ failed' "$work/out.$i"
	P=$((P + $(grep -c '^PASS: ' "$work/out.$i")))
	F=$((F + $(grep -c '^FAIL: ' "$work/out.$i")))
	S=$((S + $(grep -c '^SKIP: ' "$work/out.$i")))
done
[ -f "$work/skips" ] && cat "$work/skips"
# a process valgrind complained about is a failure even if its test passed;
# "--PID--" lines are valgrind's own notes (a syscall it does not know, such
# as openat2, which the library then does without), "==PID==" lines are errors
for log in "$work"/logs.*/vg.*; do
	[ -f "$log" ] || continue
	grep -q '^==[0-9]*==' "$log" || continue
	F=$((F + 1))
	echo "FAIL: valgrind found errors in pid ${log##*.}:"
	grep '^==[0-9]*==' "$log" | sed 's/^/  /' | head -n 60
done
echo "$P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
