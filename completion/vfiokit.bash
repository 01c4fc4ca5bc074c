# SPDX-License-Identifier: GPL-2.0-or-later
# bash completion for vfiokit: vfio-ls, vfio-check, vfio-bind, vfio-mdev, vfio-vm.
#
# One file for the five tools. bash-completion loads completions/NAME for the
# command NAME: `make install` puts this file there as vfio-ls and links the
# other four names to it. It needs nothing of bash-completion itself.
#
# Values come from the host as the tool would see it: PCI addresses, IOMMU
# groups, mdev parents and types, SR-IOV PFs and the VMs vfiokit started are
# read below the --sysroot DIR given on the line (/ without one), by globs and
# `read` only: no command is run, completion stays instant.
#
# The option lists below are the tools' own (their --help and getopt tables);
# tests/completion.sh fails when a tool gains an option that is not here, or
# loses one that is.
#
# Option lists are kept in strings and split on purpose; $2 of _vfk_files is a
# glob on purpose.
# shellcheck disable=SC2086,SC2053

# ---- the line --------------------------------------------------------------

# Split the line up to the cursor into _vfk_w (words) and _vfk_cur (the word
# being completed) at blanks only: a PCI address (0000:01:00.0) or
# --opt=value stays one word, whatever COMP_WORDBREAKS splits. Also sets
# _vfk_root, the --sysroot DIR given before the cursor ("" for /).
_vfk_line()
{
	local line=${COMP_LINE:0:COMP_POINT} i
	read -ra _vfk_w <<<"$line"
	if [[ -z $line || $line == *[[:blank:]] ]]; then
		_vfk_cur=
	else
		_vfk_cur=${_vfk_w[${#_vfk_w[@]} - 1]}
		unset '_vfk_w[${#_vfk_w[@]}-1]'
	fi
	_vfk_root=
	for ((i = 1; i < ${#_vfk_w[@]}; i++)); do
		case ${_vfk_w[i]} in
		--sysroot) ((i + 1 < ${#_vfk_w[@]})) && _vfk_root=${_vfk_w[i + 1]} ;;
		--sysroot=*) _vfk_root=${_vfk_w[i]#--sysroot=} ;;
		esac
	done
	_vfk_root=${_vfk_root/#\~/$HOME}
	_vfk_root=${_vfk_root%/}
}

# COMPREPLY: the arguments that start with $1, cut to the part bash replaces
# (after the last ':' or '=' of $1 when COMP_WORDBREAKS splits there).
_vfk_reply()
{
	local cur=$1 w pre=
	shift
	COMPREPLY=()
	for w; do
		[[ $w == "$cur"* ]] && COMPREPLY+=("$w")
	done
	[[ $COMP_WORDBREAKS == *:* && $cur == *:* ]] && pre=${cur%"${cur##*:}"}
	[[ $COMP_WORDBREAKS == *=* && ${cur#"$pre"} == *=* ]] && pre=${cur%"${cur##*=}"}
	[[ -n $pre ]] && COMPREPLY=("${COMPREPLY[@]#"$pre"}")
	return 0
}

# Files (only those matching glob $2, when given) and directories, for $1.
_vfk_files()
{
	local cur=${1/#\~/$HOME} f
	local -a all=()
	compopt -o filenames 2>/dev/null
	while IFS= read -r f; do
		if [[ -d $f ]]; then
			all+=("$f")
		elif [[ -z $2 || $f == $2 ]]; then
			all+=("$f")
		fi
	done < <(compgen -f -- "$cur")
	_vfk_reply "$cur" "${all[@]}"
}

_vfk_dirs()
{
	local cur=${1/#\~/$HOME}
	compopt -o filenames 2>/dev/null
	local -a all
	mapfile -t all < <(compgen -d -- "$cur")
	_vfk_reply "$cur" "${all[@]}"
}

# ---- values from the host ----------------------------------------------------

# _vfk_v: the values. PCI addresses are offered in full and, when what is
# typed has no PCI domain yet, without it (01:00.0): the tools take both.
_vfk_addrs()	# [gpu|vfio|pf|mdev-parent]
{
	local p cls a
	_vfk_v=()
	case $1 in
	vfio) for p in "$_vfk_root"/sys/bus/pci/drivers/vfio-pci/*:*.*; do
			[[ -e $p ]] && _vfk_v+=("${p##*/}")
		done ;;
	pf) for p in "$_vfk_root"/sys/bus/pci/devices/*/sriov_totalvfs; do
			[[ -e $p ]] && p=${p%/*} && _vfk_v+=("${p##*/}")
		done ;;
	mdev-parent)
		for p in "$_vfk_root"/sys/class/mdev_bus/* "$_vfk_root"/sys/bus/pci/devices/*/nvidia; do
			[[ -e $p ]] || continue
			[[ $p == */nvidia ]] && p=${p%/nvidia}
			_vfk_v+=("${p##*/}")
		done ;;
	*) for p in "$_vfk_root"/sys/bus/pci/devices/*; do
			[[ -e $p ]] || continue
			if [[ $1 == gpu ]]; then
				cls=
				read -r cls 2>/dev/null <"$p/class"
				[[ -z $cls || $cls == 0x03* || $cls == 0x12* ]] || continue
			fi
			_vfk_v+=("${p##*/}")
		done ;;
	esac
	# "vfio" with nothing on vfio-pci, "gpu" in a tree without class files
	if [[ ${#_vfk_v[@]} -eq 0 && ( $1 == vfio || $1 == gpu ) ]]; then
		_vfk_addrs
		return 0
	fi
	if [[ $_vfk_cur != [0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]:* ]]; then
		for a in "${_vfk_v[@]}"; do
			[[ $a == "$_vfk_cur"* ]] || _vfk_v+=("${a#*:}")
		done
	fi
	return 0
}

_vfk_glob_names()	# glob: the last path part of every match
{
	local p
	_vfk_v=()
	for p in $1; do
		[[ -e $p ]] && _vfk_v+=("${p##*/}")
	done
	return 0
}

# The VMs vfiokit started: run/vfiokit/vms/NAME (not NAME.qmp, .log, .tmp).
_vfk_vms()
{
	local p n
	_vfk_v=()
	for p in "$_vfk_root"/run/vfiokit/vms/*; do
		[[ -f $p ]] || continue
		n=${p##*/}
		case $n in *.qmp | *.log | *.tmp | .* | -*) continue ;; esac
		_vfk_v+=("$n")
	done
	return 0
}

# The types of mdev parent $1: mdev_supported_types/*, or for NVIDIA's
# per-VF interface the ids of nvidia/creatable_vgpu_types ("ID : NAME").
_vfk_mdev_types()
{
	local d=$_vfk_root/sys/bus/pci/devices/$1 id rest
	[[ $1 == *:*:* ]] || d=$_vfk_root/sys/bus/pci/devices/0000:$1
	_vfk_glob_names "$_vfk_root/sys/class/mdev_bus/$1/mdev_supported_types/*"
	[[ ${#_vfk_v[@]} -eq 0 ]] && _vfk_glob_names "$d/mdev_supported_types/*"
	if [[ ${#_vfk_v[@]} -eq 0 && -r $d/nvidia/creatable_vgpu_types ]]; then
		while read -r id rest; do
			[[ $id == [0-9]* ]] && _vfk_v+=("$id")
		done <"$d/nvidia/creatable_vgpu_types"
	fi
	return 0
}

# ---- per tool ----------------------------------------------------------------

_vfk_common_opts="--sysroot --json --verbose -v --quiet -q --help -h --version -V"

# Walk the words after the tool's name: _vfk_cmd (first word that is not an
# option or an option's value), _vfk_args (the words after it that are not
# options), _vfk_prev (the option whose value is being completed, or "").
# $1: the options that take a value, space separated.
_vfk_walk()
{
	local i w takes=" --sysroot $1 " dashdash=
	_vfk_cmd='' _vfk_args=() _vfk_prev=''
	for ((i = 1; i < ${#_vfk_w[@]}; i++)); do
		w=${_vfk_w[i]}
		if [[ -z $dashdash && $w == -* ]]; then
			[[ $w == -- ]] && dashdash=1 && continue
			if [[ $takes == *" $w "* ]]; then
				if ((i + 1 < ${#_vfk_w[@]})); then
					((i++))
				else
					_vfk_prev=$w
				fi
			fi
		elif [[ -z $_vfk_cmd ]]; then
			_vfk_cmd=$w
		else
			_vfk_args+=("$w")
		fi
	done
	# --opt=value: complete the value
	if [[ $_vfk_cur == --*=* ]]; then
		_vfk_prev=${_vfk_cur%%=*}
		_vfk_cur=${_vfk_cur#*=}
	fi
}

_vfio_ls()
{
	local _vfk_w _vfk_cur _vfk_root _vfk_cmd _vfk_args _vfk_prev _vfk_v
	_vfk_line
	_vfk_walk "--group --device --export --node --resource-prefix --vfio-mode --svg"
	case $_vfk_prev in
	--sysroot) _vfk_dirs "$_vfk_cur"; return ;;
	--svg) _vfk_files "$_vfk_cur" '*.svg'; return ;;
	--device) _vfk_addrs; _vfk_reply "$_vfk_cur" "${_vfk_v[@]}"; return ;;
	--group) _vfk_glob_names "$_vfk_root/sys/kernel/iommu_groups/*"
		_vfk_reply "$_vfk_cur" "${_vfk_v[@]}"; return ;;
	--export) _vfk_reply "$_vfk_cur" kubevirt nova proxmox nfd cdi dra; return ;;
	--node | --resource-prefix) COMPREPLY=(); return ;;
	--vfio-mode) _vfk_reply "$_vfk_cur" auto legacy iommufd; return ;;
	esac
	_vfk_reply "$_vfk_cur" --gpus --brief --tree --svg --group --device --export --node \
		--resource-prefix --vfio-mode \
		$_vfk_common_opts
}

_vfio_check()
{
	local _vfk_w _vfk_cur _vfk_root _vfk_cmd _vfk_args _vfk_prev _vfk_v
	_vfk_line
	_vfk_walk "--gpu --hugepages"
	case $_vfk_prev in
	--sysroot) _vfk_dirs "$_vfk_cur"; return ;;
	--gpu) _vfk_addrs gpu; _vfk_reply "$_vfk_cur" "${_vfk_v[@]}"; return ;;
	--hugepages) COMPREPLY=(); return ;;
	esac
	_vfk_reply "$_vfk_cur" --fix --gpu --hugepages --revert --dry-run --user $_vfk_common_opts
}

_vfio_bind()
{
	local _vfk_w _vfk_cur _vfk_root _vfk_cmd _vfk_args _vfk_prev _vfk_v
	local cmds="bind restore status persist unpersist persisted pass-fds"
	local opts_bind="--gpu --group --include-shared --force --single-gpu -n --dry-run --timeout --owner --driver --for-user --via-fds"
	local opts_restore="--all --from-scan --force-native -n --dry-run --timeout"
	_vfk_line
	_vfk_walk "--gpu --group --timeout --owner --driver --for-user --listen"
	case $_vfk_prev in
	--sysroot) _vfk_dirs "$_vfk_cur"; return ;;
	--gpu) _vfk_addrs gpu; _vfk_reply "$_vfk_cur" "${_vfk_v[@]}"; return ;;
	--group) _vfk_glob_names "$_vfk_root/sys/kernel/iommu_groups/*"
		_vfk_reply "$_vfk_cur" "${_vfk_v[@]}"; return ;;
	--timeout | --owner) COMPREPLY=(); return ;;
	--listen) _vfk_files "$_vfk_cur"; return ;;
	# the sysroot's users, whose QEMU gets the groups' nodes (root needs none)
	--for-user) mapfile -t _vfk_v < <(awk -F: '$3 != 0 && $1 !~ /^#/ {print $1}' \
			"$_vfk_root/etc/passwd" 2>/dev/null)
		_vfk_reply "$_vfk_cur" "${_vfk_v[@]}"; return ;;
	# the VFIO drivers loaded: vfio-pci and vendors' variants (mlx5_vfio_pci, xe-vfio-pci)
	--driver) _vfk_glob_names "$_vfk_root/sys/bus/pci/drivers/*vfio?pci"
		_vfk_reply "$_vfk_cur" "${_vfk_v[@]}"; return ;;
	esac
	if [[ $_vfk_cur == -* ]]; then
		case $_vfk_cmd in
		bind) _vfk_reply "$_vfk_cur" $opts_bind $_vfk_common_opts ;;
		restore) _vfk_reply "$_vfk_cur" $opts_restore $_vfk_common_opts ;;
		status | persisted) _vfk_reply "$_vfk_cur" $_vfk_common_opts ;;
		pass-fds) _vfk_reply "$_vfk_cur" --listen ${_vfk_common_opts/--json /} ;;
		persist | unpersist) _vfk_reply "$_vfk_cur" ${_vfk_common_opts/--json /} ;;
		# options may come before the command (GNU getopt permutes)
		*) _vfk_reply "$_vfk_cur" $opts_bind $opts_restore $_vfk_common_opts ;;
		esac
		return
	fi
	case $_vfk_cmd in
	"") _vfk_reply "$_vfk_cur" $cmds ;;
	bind | persist | unpersist) _vfk_addrs; _vfk_reply "$_vfk_cur" "${_vfk_v[@]}" ;;
	restore) _vfk_addrs vfio; _vfk_reply "$_vfk_cur" "${_vfk_v[@]}" ;;
	*) COMPREPLY=() ;;
	esac
}

_vfio_mdev()
{
	local _vfk_w _vfk_cur _vfk_root _vfk_cmd _vfk_args _vfk_prev _vfk_v n d i total
	local -a more
	local cmds="types list create remove define undefine start start-defined sriov"
	_vfk_line
	_vfk_walk "--uuid"
	case $_vfk_prev in
	--sysroot) _vfk_dirs "$_vfk_cur"; return ;;
	--uuid) COMPREPLY=(); return ;;
	esac
	if [[ $_vfk_cur == -* ]]; then
		case $_vfk_cmd in
		types | list) _vfk_reply "$_vfk_cur" $_vfk_common_opts ;;
		create) _vfk_reply "$_vfk_cur" --uuid --define --manual -n --dry-run \
			${_vfk_common_opts/--json /} ;;
		define) _vfk_reply "$_vfk_cur" --uuid --manual -n --dry-run \
			${_vfk_common_opts/--json /} ;;
		remove | undefine | start | start-defined)
			_vfk_reply "$_vfk_cur" -n --dry-run ${_vfk_common_opts/--json /} ;;
		sriov) _vfk_reply "$_vfk_cur" --no-autoprobe --autoprobe --force -n --dry-run \
			$_vfk_common_opts ;;
		*) _vfk_reply "$_vfk_cur" --uuid --define --manual --no-autoprobe --autoprobe \
			--force -n --dry-run $_vfk_common_opts ;;
		esac
		return
	fi
	n=${#_vfk_args[@]}
	_vfk_v=()
	case $_vfk_cmd in
	"") read -ra _vfk_v <<<"$cmds" ;;
	types | start-defined) ((n == 0)) && _vfk_addrs mdev-parent ;;
	create) if ((n == 0)); then _vfk_addrs mdev-parent
		elif ((n == 1)); then _vfk_mdev_types "${_vfk_args[0]}"; fi ;;
	define)	# ID (an active instance) | PARENT TYPE
		if ((n == 0)); then
			_vfk_addrs mdev-parent
			more=("${_vfk_v[@]}")
			_vfk_glob_names "$_vfk_root/sys/bus/mdev/devices/*"
			_vfk_v+=("${more[@]}")
		elif ((n == 1)) && [[ ${_vfk_args[0]} == *:*.* ]]; then
			_vfk_mdev_types "${_vfk_args[0]}"
		fi ;;
	remove) ((n == 0)) && _vfk_glob_names "$_vfk_root/sys/bus/mdev/devices/*" ;;
	undefine | start)	# defined: mdevctl.d/PARENT/UUID, vgpu/VF
		if ((n == 0)); then
			_vfk_glob_names "$_vfk_root/etc/mdevctl.d/*/*"
			more=("${_vfk_v[@]}")
			_vfk_glob_names "$_vfk_root/etc/vfiokit/vgpu/*"
			_vfk_v+=("${more[@]}")
		fi ;;
	sriov)	# PF COUNT: 0 .. sriov_totalvfs
		if ((n == 0)); then
			_vfk_addrs pf
		elif ((n == 1)); then
			d=$_vfk_root/sys/bus/pci/devices/${_vfk_args[0]}
			[[ ${_vfk_args[0]} == *:*:* ]] || d=$_vfk_root/sys/bus/pci/devices/0000:${_vfk_args[0]}
			total=0
			read -r total 2>/dev/null <"$d/sriov_totalvfs"
			[[ $total =~ ^[0-9]+$ ]] || total=0
			for ((i = 0; i <= total; i++)); do _vfk_v+=("$i"); done
		fi ;;
	esac
	_vfk_reply "$_vfk_cur" "${_vfk_v[@]}"
}

_vfio_vm()
{
	local _vfk_w _vfk_cur _vfk_root _vfk_cmd _vfk_args _vfk_prev _vfk_v
	local cmds="plan gen up down status wait release" o
	_vfk_line
	_vfk_walk "--format -o --output --set --backend -c --connect --console-log --timeout --run-as"
	case $_vfk_prev in
	--sysroot) _vfk_dirs "$_vfk_cur"; return ;;
	# the users QEMU may run as (root needs no --run-as)
	--run-as) mapfile -t _vfk_v < <(awk -F: '$3 != 0 && $1 !~ /^#/ {print $1}' \
			"$_vfk_root/etc/passwd" 2>/dev/null)
		_vfk_reply "$_vfk_cur" "${_vfk_v[@]}"; return ;;
	--format | --backend) _vfk_reply "$_vfk_cur" libvirt qemu; return ;;
	-c | --connect) _vfk_reply "$_vfk_cur" qemu:///system qemu:///session; return ;;
	-o | --output | --console-log) _vfk_files "$_vfk_cur"; return ;;
	--set | --timeout) COMPREPLY=(); return ;;
	esac
	if [[ $_vfk_cur == -* ]]; then
		o=${_vfk_common_opts/--json /}
		case $_vfk_cmd in
		plan) _vfk_reply "$_vfk_cur" --set --installed -c --connect $_vfk_common_opts ;;
		gen) _vfk_reply "$_vfk_cur" --format -o --output --set --installed -c --connect $o ;;
		up) _vfk_reply "$_vfk_cur" --set --installed --backend -c --connect --transient --redefine \
			--wait --console-log --single-gpu --force --run-as $o ;;
		down) _vfk_reply "$_vfk_cur" --timeout --undefine --backend -c --connect $o ;;
		status) _vfk_reply "$_vfk_cur" $_vfk_common_opts ;;
		wait) _vfk_reply "$_vfk_cur" $o ;;
		release) _vfk_reply "$_vfk_cur" --stale $o ;;
		# before the command: only the generic options
		*) _vfk_reply "$_vfk_cur" $o ;;
		esac
		return
	fi
	if [[ -z $_vfk_cmd ]]; then
		_vfk_reply "$_vfk_cur" $cmds
		return
	fi
	COMPREPLY=()
	((${#_vfk_args[@]} == 0)) || return 0
	case $_vfk_cmd in
	plan | gen | up) _vfk_files "$_vfk_cur" '*.ini' ;;
	down | wait)	# NAME|PROFILE
		_vfk_files "$_vfk_cur" '*.ini'
		local -a files=("${COMPREPLY[@]}")
		_vfk_vms
		_vfk_reply "$_vfk_cur" "${_vfk_v[@]}"
		COMPREPLY+=("${files[@]}") ;;
	status | release) _vfk_vms; _vfk_reply "$_vfk_cur" "${_vfk_v[@]}" ;;
	esac
}

complete -F _vfio_ls vfio-ls
complete -F _vfio_check vfio-check
complete -F _vfio_bind vfio-bind
complete -F _vfio_mdev vfio-mdev
complete -F _vfio_vm vfio-vm
