# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034  # SCEN_* are read by tests/vm/lib.sh
# Scenario 35: vfio-check --fix on the guest's own root (the running system, no
# --sysroot): a systemd-boot setup (/etc/kernel/cmdline, a loader entry) gains
# vfio-pci.ids= for the GPU-like card, modprobe.d gets its options and softdeps, and
# the real update-initramfs rebuilds the initramfs with vfio-pci and that file in it.
# A second --fix changes nothing; --revert gives every file back byte for byte and
# rebuilds the initramfs without them.
SCEN_DESC="vfio-check --fix on the running guest: boot files, modprobe.d, a real update-initramfs; --revert gives it all back"
SCEN_TIMEOUT=600
SCEN_MEM=1G

scen_qemu() {
	q_boot_vga
	q_root_port rp1 0x2
	q_gpu gpu0 rp1
}

FILES=(/etc/kernel/cmdline /boot/loader/entries/test.conf /etc/initramfs-tools/modules)

sums() { sha256sum "${FILES[@]}" 2>&1; stat -c '%n %a' "${FILES[@]}" 2>&1; }

# The guest's root is the host's over 9p with a tmpfs on top: a boot setup written
# here is the guest's own and goes away with it.
boot_setup() {
	local kv=$1
	mkdir -p /boot/loader/entries /var/lib/initramfs-tools /etc/kernel
	printf 'root=/dev/vda1 ro quiet\n' > /etc/kernel/cmdline
	printf 'title Test\nlinux /vmlinuz-%s\ninitrd /initrd.img-%s\noptions root=/dev/vda1 ro quiet\n' \
		"$kv" "$kv" > /boot/loader/entries/test.conf
	chmod 0600 /boot/loader/entries/test.conf
	[ -e /etc/initramfs-tools/modules ] || printf '# modules\n' > /etc/initramfs-tools/modules
	# the kernel as a Debian system has it installed (linux-version lists /boot)
	cp "$VFK_CACHE/kernel/boot/config-$kv" "$VFK_CACHE/kernel/boot/vmlinuz-$kv" /boot/
	# a Debian system has an initramfs for its kernel: update-initramfs -u updates it.
	# Only the listed modules, gzip: MODULES=most copies ~1,000 modules over 9p, which
	# under TCG takes longer than the scenario may
	sed -i -e 's/^MODULES=.*/MODULES=list/' -e 's/^#* *COMPRESS=.*/COMPRESS=gzip/' \
		/etc/initramfs-tools/initramfs.conf
	timeout 300 update-initramfs -c -k "$kv" > /tmp/initrd-c.log 2>&1
}

# in_initrd KV PATTERN: a file of the initramfs matches PATTERN
in_initrd() { lsinitramfs "/boot/initrd.img-$1" 2>/dev/null | grep -q -E "$2"; }

guest_main() {
	local gpu hda kv before t0 d
	gpu=$(behind_port 0x1234 0x1111)
	hda=$(find_dev 0x8086 0x293e)
	kv=$(uname -r)
	if [ -z "$gpu" ] || [ -z "$(tool vfio-check)" ]; then
		fail "topology or tools: card '$gpu', vfio-check '$(tool vfio-check)'"
		return
	fi
	if ! command -v update-initramfs > /dev/null; then
		fail "update-initramfs is not installed (initramfs-tools, scripts/packages.list)"
		return
	fi
	coldplug
	wait_drv "$gpu" bochs-drm 5
	t0=$(ts)
	boot_setup "$kv"
	info "the guest's own initramfs made in $(since "$t0") s"
	if [ ! -s "/boot/initrd.img-$kv" ]; then
		fail "update-initramfs -c could not make the guest's initramfs:"
		tail -n 5 /tmp/initrd-c.log | sed 's/^/  /'
		return
	fi
	check "before --fix the initramfs has no vfiokit.conf" \
		test -z "$(lsinitramfs "/boot/initrd.img-$kv" | grep vfiokit.conf)"
	before=$(sums)

	run_tool /tmp/dry.out vfio-check --fix --dry-run --gpu "$gpu"
	expect "vfio-check --fix --dry-run exit status" "$?" 0
	check "the dry run shows the loader entry's new options line" \
		grep -q "^+options root=/dev/vda1 ro quiet vfio-pci.ids=1234:1111,8086:293e$" /tmp/dry.out
	check "the dry run names update-initramfs" grep -q "^  update-initramfs -u -k all$" /tmp/dry.out
	expect "the dry run wrote nothing" "$(sums)" "$before"
	check "the dry run made no modprobe.d file" test ! -e /etc/modprobe.d/vfiokit.conf

	t0=$(ts)
	VFK_TOOL_TIMEOUT=500 run_tool /tmp/fix.out vfio-check --fix --gpu "$gpu"
	expect "vfio-check --fix exit status" "$?" 0
	info "vfio-check --fix (with update-initramfs) took $(since "$t0") s"
	check "/etc/kernel/cmdline gained vfio-pci.ids for the card's two functions" \
		grep -q -x "root=/dev/vda1 ro quiet vfio-pci.ids=1234:1111,8086:293e" /etc/kernel/cmdline
	check "the loader entry's options line too, its mode kept" \
		test "$(grep '^options' /boot/loader/entries/test.conf)" = \
		"options root=/dev/vda1 ro quiet vfio-pci.ids=1234:1111,8086:293e" \
		-a "$(stat -c %a /boot/loader/entries/test.conf)" = 600
	check "modprobe.d: vfio-pci options and a softdep before bochs and snd_hda_intel" \
		grep -q -x "options vfio-pci ids=1234:1111,8086:293e" /etc/modprobe.d/vfiokit.conf -a \
		-n "$(grep -x 'softdep bochs pre: vfio-pci' /etc/modprobe.d/vfiokit.conf)" -a \
		-n "$(grep -x 'softdep snd_hda_intel pre: vfio-pci' /etc/modprobe.d/vfiokit.conf)"
	check "the rebuilt initramfs holds vfio-pci" in_initrd "$kv" "/vfio-pci\.ko"
	check "the rebuilt initramfs holds the modprobe.d file" in_initrd "$kv" "etc/modprobe.d/vfiokit.conf$"
	d=$(mktemp -d)
	(cd "$d" && unmkinitramfs "/boot/initrd.img-$kv" . 2>/dev/null)
	check "the softdep is in the initramfs' copy" \
		grep -r -q -x "softdep bochs pre: vfio-pci" "$d" --include=vfiokit.conf
	rm -rf "$d"
	check "the journal records the files and update-initramfs" \
		grep -q "^run update-initramfs -u -k all$" /var/lib/vfiokit/fix/journal

	run_tool /tmp/fix2.out vfio-check --fix --gpu "$gpu"
	expect "a second --fix exit status" "$?" 0
	check "a second --fix has nothing to change" grep -q "^Nothing to change" /tmp/fix2.out

	t0=$(ts)
	VFK_TOOL_TIMEOUT=500 run_tool /tmp/revert.out vfio-check --revert
	expect "vfio-check --revert exit status" "$?" 0
	info "vfio-check --revert (with update-initramfs) took $(since "$t0") s"
	expect "--revert: every file and mode as before" "$(sums)" "$before"
	check "--revert removed the modprobe.d file it had created" test ! -e /etc/modprobe.d/vfiokit.conf
	check "--revert rebuilt the initramfs without it" \
		test -e "/boot/initrd.img-$kv" -a -z "$(lsinitramfs "/boot/initrd.img-$kv" | grep vfiokit.conf)"
	check "--revert dropped its journal" test ! -e /var/lib/vfiokit/fix/journal
	[ -n "$hda" ] && expect "the card's audio is still on its driver (nothing was bound)" \
		"$(drv "$hda")" snd_hda_intel
}
