#!/bin/bash
# scripts/deps.sh — install what a target needs, from scripts/packages.list (the one list).
#
#   scripts/deps.sh [TARGET...]          install the missing packages of these targets
#   scripts/deps.sh --check TARGET...    install nothing; print the first package whose
#                                        probe fails, in one line, and exit 1
#   scripts/deps.sh --list TARGET...     the packages of these targets, one a line
#
# TARGET: build (default), check, demo, bench, ci, deb. A fast no-op when all is there.
# Exit status: 0 ready; 1 a package is missing and cannot be installed (not root, or
# apt-get failed: the line says which); 2 usage.
set -euo pipefail
LIST=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/packages.list

mode=install
case ${1:-} in
--check) mode=check; shift ;;
--list) mode=list; shift ;;
-h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
-*) echo "deps: unknown option '$1'" >&2; exit 2 ;;
esac
[ $# -gt 0 ] || set -- build
for t in "$@"; do
	case $t in build|check|demo|bench|ci|deb) ;; *) echo "deps: unknown target '$t' (build check demo bench ci deb)" >&2; exit 2 ;; esac
done

# the list's lines for the targets asked: "package probe"
selected() {
	local pkg tg probe rest t
	while read -r pkg tg probe rest; do
		case $pkg in ''|'#'*) continue ;; esac
		for t in "$@"; do
			case ",$tg," in *",$t,"*) echo "$pkg $probe"; break ;; esac
		done
	done < "$LIST"
}

probe_ok() {
	case $1 in
	-) return 0 ;;
	/*) [ -e "$1" ] ;;
	*) PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin command -v "$1" > /dev/null 2>&1 ;;
	esac
}

installed() {
	case $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) in
	*" installed") return 0 ;; *) return 1 ;;
	esac
}

mapfile -t lines < <(selected "$@" | sort -u)
case $mode in
list)
	for l in "${lines[@]}"; do echo "${l%% *}"; done
	exit 0 ;;
check)
	for l in "${lines[@]}"; do
		pkg=${l%% *} probe=${l#* }
		probe_ok "$probe" || { echo "missing: $probe (Debian package $pkg; 'scripts/deps.sh $*' installs it)"; exit 1; }
	done
	exit 0 ;;
esac

missing=()
for l in "${lines[@]}"; do
	pkg=${l%% *} probe=${l#* }
	installed "$pkg" && probe_ok "$probe" && continue
	missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages: ${missing[*]} (run 'scripts/deps.sh $*' as root)" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# bounded: a stuck mirror must not hang make check or make demo
if ! timeout 600 apt-get update -q > "$log" 2>&1; then
	echo "deps: apt-get update failed: $(grep -E '^(E|W):' "$log" | head -n1)" >&2
	exit 1
fi
if ! timeout 1800 apt-get install -y -q --no-install-recommends "${missing[@]}" > "$log" 2>&1; then
	echo "deps: apt-get install failed: $(grep -E '^E:' "$log" | head -n1)" >&2
	tail -n 20 "$log" >&2
	exit 1
fi
for l in "${lines[@]}"; do
	pkg=${l%% *} probe=${l#* }
	probe_ok "$probe" || { echo "deps: $pkg is installed but $probe is not there" >&2; exit 1; }
done
