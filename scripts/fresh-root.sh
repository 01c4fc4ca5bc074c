#!/bin/bash
# scripts/fresh-root.sh — run the README's commands on a fresh Debian 12 machine: a
# minbase root bootstrapped now (mmdebstrap, plus make), the commit under test cloned
# into it, each command run there as root in a private mount namespace (chroot with
# /dev, /sys, /proc, a tmpfs /tmp and /run). Whatever the commands need they must
# install themselves: nothing of this machine's packages is visible in there.
#
#   scripts/fresh-root.sh [options] [COMMAND...]     default commands: 'make check' 'make demo'
#     --root DIR      bootstrap into DIR (must not exist; default a new dir in /var/tmp)
#     --keep          leave the root behind (its path is printed); default: removed
#     --rev REV       commit to clone (default HEAD of this repository)
#     --timeout SEC   bound for each command (default 3000)
#
# Each command's output streams through; then one line per command with its exit
# status and wall time. Exit status: 0 when every command exited 0, 1 otherwise,
# 2 usage, 3 the root could not be made.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT='' KEEP=0 REV=HEAD TMO=3000
while [ $# -gt 0 ]; do
	case $1 in
	--root) ROOT=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	--rev) REV=$2; shift 2 ;;
	--timeout) TMO=$2; shift 2 ;;
	-h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
	--) shift; break ;;
	-*) echo "fresh-root: unknown option '$1'" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || set -- "make check" "make demo"
[ "$(id -u)" = 0 ] || { echo "fresh-root: needs root (bootstrap, chroot, mounts)" >&2; exit 2; }

say() { echo "fresh-root: $*" >&2; }
"$REPO/scripts/deps.sh" ci || { say "cannot install the CI host's own tools"; exit 3; }
COMMIT=$(git -C "$REPO" rev-parse --verify "$REV^{commit}") || { say "no commit '$REV'"; exit 2; }

if [ -z "$ROOT" ]; then
	ROOT=$(mktemp -d /var/tmp/vfk-fresh.XXXXXX)
	rmdir "$ROOT"
fi
[ -e "$ROOT" ] && { say "$ROOT exists; give a new path"; exit 2; }

# Processes still running in the root (a daemon a suite left behind) are ended by
# their pid, found through /proc/PID/root; then the root is removed without ever
# crossing into another file system (the namespace's mounts are gone with it):
# root_remove of scripts/root.sh.
. "$REPO/scripts/root.sh"
cleanup() {
	if [ $KEEP = 1 ]; then
		root_remove_procs "$ROOT"
		say "root kept: $ROOT"
	else
		root_remove "$ROOT" || true
	fi
}
trap cleanup EXIT

t0=$(date +%s)
say "bootstrapping a Debian 12 minbase root (+make) in $ROOT"
root_bootstrap "$ROOT" make || { say "mmdebstrap failed"; exit 3; }
git clone -q --no-hardlinks "$REPO" "$ROOT/root/vfiokit"
git -C "$ROOT/root/vfiokit" checkout -q --detach "$COMMIT"
say "root ready in $(( $(date +%s) - t0 ))s; commit $(git -C "$REPO" log -1 --format='%h %s' "$COMMIT")"

# run_in_root COMMAND: bash -c COMMAND in /root/vfiokit inside the root, bounded
run_in_root() { root_run "$ROOT" "$TMO" /root/vfiokit "$1"; }
export CI="${CI:-}"
results=() fails=0 last_sum=''
LOG=$(mktemp)
for cmd in "$@"; do
	say "=== $cmd"
	s=$(date +%s)
	set +e
	run_in_root "$cmd" < /dev/null 2>&1 | tee "$LOG"
	rc=${PIPESTATUS[0]}
	set -e
	sum=$(grep -a -E '^[0-9]+ passed, [0-9]+ failed' "$LOG" | tail -n1 || true)
	w=$(( $(date +%s) - s ))
	[ $rc = 124 ] && say "'$cmd' hit its bound of ${TMO}s"
	results+=("$(printf '%-14s exit %-3s %4dm%02ds  %s' "$cmd" "$rc" $((w / 60)) $((w % 60)) "$sum")")
	[ -n "$sum" ] && last_sum=$sum
	[ $rc = 0 ] || fails=$((fails + 1))
done
echo "fresh root (Debian 12 minbase + make, commit ${COMMIT:0:12}), $(( $(date +%s) - t0 ))s in all:"
printf '  %s\n' "${results[@]}"
rm -f "$LOG"
# the test runner's closing line last, for whoever reads only that
[ -n "$last_sum" ] && echo "$last_sum"
[ $fails = 0 ]
