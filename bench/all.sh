#!/bin/bash
# make bench: every benchmark, one after the other, whatever the one before did (a miss,
# a failure, a crash), then ONE table of every figure (bench/report.py) and the same as
# JSON, so two commits can be compared.
#
#   bench/all.sh                  (make first; `make bench` builds and runs this)
#
# Each bench/NAME.sh prints its own lines and records its figures through bench/lib.sh.
# One that ends without saying it finished (a crash, set -e, VFK_BENCH_TIMEOUT) is a row
# "bench NAME did not finish", met no, and the next one runs.
#
# Environment: VFK_BIN (build/bin), VFK_BENCH_RESULTS (build/bench-results.txt: emptied
# here first), VFK_BENCH_JSON (build/bench.json), VFK_BENCH_TIMEOUT (seconds per bench
# script, 3600), VFK_BENCH_ONLY ("run vm-gen": these scripts only), and what each script
# reads (bench/run.sh, ...).
# Exit status: 0 every goal met (or without a goal / not measured), 1 a goal missed or a
# bench did not finish, 2 no table (no figures, or bench/report.py failed).
set -u
cd "$(dirname "$0")/.." || exit 2
absolute() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
# absolute: tests/vm/bench-bind.sh hands VFK_BIN to its guest, which runs elsewhere
VFK_BIN=$(absolute "${VFK_BIN:-build/bin}")
VFK_BENCH_RESULTS=$(absolute "${VFK_BENCH_RESULTS:-build/bench-results.txt}")
export VFK_BIN VFK_BENCH_RESULTS
JSON=${VFK_BENCH_JSON:-build/bench.json}
LIMIT=${VFK_BENCH_TIMEOUT:-3600}
BENCHES=${VFK_BENCH_ONLY:-"run bind-scale vm-gen launch prealloc"}
# shellcheck source=bench/lib.sh
. bench/lib.sh
mkdir -p "$(dirname "$VFK_BENCH_RESULTS")" "$(dirname "$JSON")"
: > "$VFK_BENCH_RESULTS"

start=$(date +%s)
for b in $BENCHES; do
	echo "== bench/$b.sh"
	t0=$(date +%s)
	# its own process group (timeout's), so that a timeout also ends what it started
	BIN=$VFK_BIN timeout -k 30 "$LIMIT" "bench/$b.sh"
	rc=$?
	if ! grep -q "^#done	$b\$" "$VFK_BENCH_RESULTS"; then
		case $rc in
		124|137) why="timed out after ${LIMIT} s" ;;
		*) why="exit $rc" ;;
		esac
		echo "bench: bench/$b.sh did not finish ($why)"
		BENCH_NAME=$b bench_record "bench $b did not finish" - - - - - "it finishes" no \
			"$why; the figures it recorded before that are in the table"
	fi
	echo "== bench/$b.sh: $(( $(date +%s) - t0 )) s (exit $rc)"
	echo
done
echo "== make bench: $(( $(date +%s) - start )) s"
echo
python3 bench/report.py "$VFK_BENCH_RESULTS" "$JSON"
