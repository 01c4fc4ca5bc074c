#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Shell completion (completion/vfiokit.bash), sourced in a plain non-interactive
# bash as bash-completion would load it: each case sets COMP_LINE, COMP_POINT,
# COMP_WORDS and COMP_CWORD as bash does at a TAB, calls the tool's function
# and checks COMPREPLY. Values come from a fixture host made by tests/mkhost.py
# and named with --sysroot on the line.
#
# The option lists are held against the tools themselves, both ways: every
# option a tool's --help lists is offered somewhere, every option offered is in
# that --help, and is accepted where it is offered (TOOL [COMMAND] OPTION
# [VALUE] --help exits 0: an option of another command exits 2 first).
#
# Ends with "N passed, N failed, N skipped". Environment: VFK_BIN (default
# build/bin). Usage: tests/completion.sh [NAME...] runs only the named tests.
set -o pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
BIN=${VFK_BIN:-$TOP/build/bin}
TOOLS="vfio-ls vfio-check vfio-bind vfio-mdev vfio-vm"
P=0 F=0 S=0
pass() { echo "PASS: $*"; P=$((P + 1)); }
fail() { echo "FAIL: $*"; F=$((F + 1)); }
skip() { echo "SKIP: $*"; S=$((S + 1)); }

cd "$TOP" || exit 1
# shellcheck source=../completion/vfiokit.bash
. completion/vfiokit.bash || { echo "FAIL: sourcing completion/vfiokit.bash"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vfk-completion.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/host
if ! python3 tests/mkhost.py tests/fixtures/hosts/desktop-dgpu-igpu.host "$ROOT" >/dev/null; then
	fail "tests/mkhost.py desktop-dgpu-igpu.host"
	echo "$P passed, $F failed, $S skipped"
	exit 1
fi
VGPU=$WORK/vgpu
python3 tests/mkhost.py tests/fixtures/hosts/nvidia-vgpu.host "$VGPU" >/dev/null || VGPU=
mkdir -p "$ROOT/run/vfiokit/vms"
touch "$ROOT"/run/vfiokit/vms/{win11,work-vm,win11.qmp,win11.log,work-vm.tmp}

# complete LINE: what bash offers with the cursor at the end of LINE, in
# COMPREPLY (and one per line in $out). COMP_WORDS split as bash splits them.
complete_line()
{
	local line=$1 tool func rest w
	tool=${line%% *}
	func=$(complete -p "$tool" 2>/dev/null | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
	COMP_LINE=$line
	COMP_POINT=${#line}
	COMP_WORDS=()
	rest=$line
	while [[ -n $rest ]]; do
		rest=${rest#"${rest%%[! ]*}"}
		[[ -z $rest ]] && break
		w=${rest%%[ :=]*}
		if [[ -z $w ]]; then w=${rest:0:1}; fi
		COMP_WORDS+=("$w")
		rest=${rest#"$w"}
	done
	[[ $line == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	[[ -n $func ]] && "$func" "$tool" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	out=$(printf '%s\n' "${COMPREPLY[@]}" | sort -u)
}

sorted() { printf '%s\n' "$@" | sort -u; }

# expect NAME LINE WORD...: the offers are exactly the WORDs
expect()
{
	local name=$1 line=$2
	shift 2
	complete_line "$line"
	if [[ $out == "$(sorted "$@")" ]]; then
		pass "$name"
	else
		fail "$name: '$line' offered [$(echo $out)], expected [$*]"
	fi
}

# expect_has NAME LINE WORD...: the offers include every WORD, none of the !WORDs
expect_has()
{
	local name=$1 line=$2 w bad=
	shift 2
	complete_line "$line"
	for w; do
		case $w in
		!*) grep -qxF -- "${w#!}" <<<"$out" && bad="$bad offered:${w#!}" ;;
		*) grep -qxF -- "$w" <<<"$out" || bad="$bad missing:$w" ;;
		esac
	done
	if [[ -z $bad ]]; then pass "$name"; else fail "$name: '$line' offered [$(echo $out)];$bad"; fi
}

# t NAME FUNCTION ARG...: one test, run unless other names were asked for
SELECT=" $* "
t()
{
	local name=$1 fn=$2
	shift 2
	[[ $SELECT == "  " || $SELECT == *" $name "* ]] && "$fn" "$name" "$@"
	return 0
}

# ---- words --------------------------------------------------------------
t vm-commands expect "vfio-vm " plan gen up down status wait release
t vm-command-prefix expect "vfio-vm st" status
t vm-up-option expect "vfio-vm up --back" --backend
t vm-backend-values expect "vfio-vm up --backend " libvirt qemu
t vm-backend-equals expect "vfio-vm up configs/demo.ini --backend=q" qemu
t vm-format-values expect "vfio-vm gen x.ini --format " libvirt qemu
t vm-up-only-options expect_has "vfio-vm up -" --wait --redefine --console-log '!--format' '!--stale' '!--json'
t vm-gen-options expect_has "vfio-vm gen -" --format -o --output '!--backend' '!--wait' '!--json'
t vm-release-stale expect_has "vfio-vm release --" --stale '!--set'
t bind-commands expect "vfio-bind " bind restore status persist unpersist persisted pass-fds
t mdev-commands expect "vfio-mdev " types list create remove define undefine start start-defined sriov

# ---- values from the fixture host ------------------------------------------
mapfile -t ADDRS < <(cd "$ROOT/sys/bus/pci/devices" && printf '%s\n' *)
t bind-addresses expect "vfio-bind --sysroot $ROOT bind " "${ADDRS[@]}"
t bind-addresses-after expect "vfio-bind bind --sysroot=$ROOT 0000:01:00.0 " "${ADDRS[@]}"
# bash replaces only what follows the last ':' of the word
t bind-address-colon expect "vfio-bind --sysroot $ROOT bind 0000:01:" 00.0 00.1
t bind-address-short expect "vfio-bind --sysroot $ROOT bind 01:00" 00.0 00.1
t bind-gpu-class expect_has "vfio-bind --sysroot $ROOT bind --gpu " 0000:01:00.0 0000:00:02.0 '!0000:00:14.0'
t ls-device expect "vfio-ls --sysroot $ROOT --device " "${ADDRS[@]}"
mapfile -t GROUPS_ < <(cd "$ROOT/sys/kernel/iommu_groups" && printf '%s\n' *)
t ls-group expect "vfio-ls --sysroot $ROOT --group " "${GROUPS_[@]}"
t bind-for-user expect_has "vfio-bind bind --for-user " nobody '!root'
t ls-export-formats expect "vfio-ls --export " kubevirt nova proxmox nfd cdi dra
t ls-export-prefix expect "vfio-ls --gpus --export=n" nova nfd
t ls-node-free expect "vfio-ls --export proxmox --node "
t ls-svg-files expect_has "vfio-ls --gpus --svg docs/" docs/tree-example.svg '!docs/vfio-ls.1.scd'
t check-gpu expect_has "vfio-check --sysroot $ROOT --fix --gpu " 0000:01:00.0 '!0000:00:17.0'
t sysroot-dirs expect_has "vfio-ls --sysroot ${WORK}/h" "$ROOT"
mapfile -t INIS < <(printf '%s\n' configs/*.ini)
t profile-files expect "vfio-vm plan configs/" "${INIS[@]}"
t profile-up expect "vfio-vm --sysroot $ROOT up configs/" "${INIS[@]}"
# NAME|PROFILE: the VMs, and the profiles and directories here
mapfile -t HERE_FILES < <(compgen -f -- "" | while read -r f; do [[ -d $f || $f == *.ini ]] && echo "$f"; done)
t vm-down-names expect "vfio-vm --sysroot $ROOT down " win11 work-vm "${HERE_FILES[@]}"
t vm-down-prefix expect "vfio-vm down --sysroot $ROOT w" win11 work-vm
t vm-status-names expect "vfio-vm status --sysroot $ROOT " win11 work-vm
t vm-wait-names expect_has "vfio-vm wait --sysroot $ROOT " win11 work-vm '!win11.qmp' '!win11.log' '!work-vm.tmp'
t vm-down-second-arg expect "vfio-vm down --sysroot $ROOT win11 "
if [[ -n $VGPU ]]; then
	t mdev-parents expect "vfio-mdev --sysroot $VGPU create " 0000:3b:00.0 0000:d8:00.0
	mapfile -t TYPES < <(cd "$VGPU/sys/class/mdev_bus/0000:3b:00.0/mdev_supported_types" && printf '%s\n' *)
	t mdev-types expect "vfio-mdev --sysroot $VGPU create 0000:3b:00.0 " "${TYPES[@]}"
else
	skip "mdev-parents: tests/mkhost.py nvidia-vgpu.host failed"
fi
if python3 tests/mkhost.py tests/fixtures/hosts/sriov-server.host "$WORK/sriov" >/dev/null; then
	t sriov-pfs expect "vfio-mdev --sysroot $WORK/sriov sriov " 0000:01:00.0 0000:02:00.0
	t sriov-count expect "vfio-mdev --sysroot $WORK/sriov sriov 01:00.0 " 0 1 2 3 4 5 6 7 8
else
	skip "sriov-pfs: tests/mkhost.py sriov-server.host failed"
fi

# ---- the option lists against the tools ------------------------------------
# The contexts each tool's completion knows: before the command and in each.
contexts()
{
	case $1 in
	vfio-bind) echo "" bind restore status persist unpersist persisted pass-fds ;;
	vfio-mdev) echo "" types list create remove define undefine start start-defined sriov ;;
	vfio-vm) echo "" plan gen up down status wait release ;;
	*) echo "" ;;
	esac
}
# A value for an option that takes one, good enough for the tool's parser.
value_of()
{
	case $1 in
	--sysroot) echo / ;;
	--group) echo 1 ;;
	--device | --gpu) echo 0000:01:00.0 ;;
	--hugepages) echo 16G ;;
	--timeout) echo 60 ;;
	--owner) echo test ;;
	--driver) echo vfio-pci ;;
	--for-user | --run-as) echo nobody ;;
	--listen) echo /run/vfiokit-fds.sock ;;
	--uuid) echo 3b2c9f4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f ;;
	--format | --backend) echo libvirt ;;
	--export) echo kubevirt ;;
	--node) echo pve1 ;;
	--resource-prefix) echo example.com ;;
	--vfio-mode) echo legacy ;;
	-o | --output | --console-log | --svg) echo /dev/null ;;
	--set) echo vm.name=x ;;
	-c | --connect) echo qemu:///system ;;
	esac
}
takes_value() { [[ -n $(value_of "$1") ]]; }

coverage()
{
	local name=$1 tool=$2 ctx offered help missing extra
	if [[ ! -x $BIN/$tool ]]; then
		skip "$name: no $BIN/$tool (make all)"
		return
	fi
	help=$("$BIN/$tool" --help | grep -oE '^(  -[[:alnum:]], |      )--[a-z][a-z-]*' |
	       sed -E 's/^ +//; s/, /\n/' | sort -u)
	offered=$(for ctx in $(contexts "$tool") "#"; do
			[[ $ctx == "#" ]] && ctx=
			complete_line "$tool $ctx${ctx:+ }-"
			echo "$out"
		done | sort -u)
	missing=$(comm -23 <(echo "$help") <(echo "$offered"))
	extra=$(comm -13 <(echo "$help") <(echo "$offered"))
	if [[ -z $help ]]; then
		fail "$name: no options found in $tool --help"
	elif [[ -z $missing && -z $extra ]]; then
		pass "$name"
	else
		fail "$name: in $tool --help, not completed: [$(echo $missing)]; completed, not in --help: [$(echo $extra)]"
	fi
}

accepted()
{
	local name=$1 tool=$2 ctx opt bad='' n=0 rc
	if [[ ! -x $BIN/$tool ]]; then
		skip "$name: no $BIN/$tool (make all)"
		return
	fi
	for ctx in $(contexts "$tool") "#"; do
		[[ $ctx == "#" ]] && ctx=
		complete_line "$tool $ctx${ctx:+ }-"
		for opt in $out; do
			# -V/--version prints the version and exits 0 by itself
			if takes_value "$opt"; then
				"$BIN/$tool" $ctx "$opt" "$(value_of "$opt")" --help >/dev/null 2>&1
			else
				"$BIN/$tool" $ctx "$opt" --help >/dev/null 2>&1
			fi
			rc=$?
			n=$((n + 1))
			[[ $rc == 0 ]] || bad="$bad ${ctx:-(no command)}:$opt(exit $rc)"
		done
	done
	if [[ -z $bad ]]; then pass "$name ($n probes)"; else fail "$name:$bad"; fi
}

for tool in $TOOLS; do
	t "options-$tool" coverage "$tool"
	t "accepted-$tool" accepted "$tool"
done
# the probe can fail: an option of another command is refused before --help
probe_refuses()
{
	if [[ ! -x $BIN/vfio-vm ]]; then skip "$1: no $BIN/vfio-vm"; return; fi
	"$BIN/vfio-vm" status --format libvirt --help >/dev/null 2>&1
	if [[ $? == 2 ]]; then pass "$1"; else fail "$1: vfio-vm status --format libvirt --help did not exit 2"; fi
}
t probe-refuses probe_refuses

echo "$P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
