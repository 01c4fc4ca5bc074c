#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The two images the journey test (journey.sh) boots where a user would boot
# Windows Setup and then Windows (issue 26, point 4):
#
#  OUT/system.iso     the "installed system": isolinux boots the launch guest's
#                     kernel and initramfs (vfk_role=installed). A hybrid image
#                     (isohybrid MBR): it boots from a CD and, written to a disk,
#                     from the disk.
#  OUT/installer.iso  the "installer": the same kernel with an initramfs that
#                     loads the virtio block driver, writes system.iso onto the
#                     first virtio disk (/dev/vda), says so on the serial
#                     console and powers off, as an OS installer does.
#
# Both from scripts/packages.list: xorriso, isolinux, syslinux-common, busybox.
# Usage: mkjourney.sh KERNEL-TREE GUEST.cpio.gz OUTDIR
#   KERNEL-TREE: the test bed's unpacked kernel (boot/vmlinuz-*, lib/modules/*)
set -euo pipefail
ktree=$1 guest=$2 out=$3
kernel=$(ls "$ktree"/boot/vmlinuz-* | head -n 1)
kv=${kernel##*/vmlinuz-}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# iso DIR OUT APPEND INITRD: a BIOS-bootable hybrid ISO of the kernel and INITRD
iso() {
	local dir=$1
	mkdir -p "$dir"
	cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$dir/"
	cp "$kernel" "$dir/vmlinuz"
	cp "$4" "$dir/initrd.gz"
	printf 'SERIAL 0 115200\nDEFAULT vfk\nPROMPT 0\nTIMEOUT 0\nLABEL vfk\n  KERNEL /vmlinuz\n  APPEND initrd=/initrd.gz %s\n' \
		"$3" > "$dir/isolinux.cfg"
	xorriso -as mkisofs -quiet -o "$2" -V VFK -isohybrid-mbr /usr/lib/ISOLINUX/isohdpfx.bin \
		-c boot.cat -b isolinux.bin -no-emul-boot -boot-load-size 4 -boot-info-table "$dir" \
		2>"$stage/xorriso.err" || { cat "$stage/xorriso.err" >&2; return 1; }
}

iso "$stage/sys" "$out/system.iso" "console=ttyS0 panic=-1 vfk_role=installed vfk_hold=1" "$guest"

# the installer's initramfs: busybox, the virtio block driver and what it needs, the image
r=$stage/inst
mkdir -p "$r"/{bin,proc,sys,dev,mod}
cp "$(command -v busybox)" "$r/bin/busybox"
for a in sh mount cat echo sleep insmod dd sync poweroff wc ls dmesg tail; do ln -s busybox "$r/bin/$a"; done
for m in virtio_pci virtio_blk; do	# modprobe takes one module: more are its parameters
	modprobe -d "$ktree" -S "$kv" --show-depends "$m"
done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' > "$stage/mods"
n=0
while read -r m; do
	n=$((n + 1))
	cp "$m" "$r/mod/$(printf '%02d' $n)-${m##*/}"
done < "$stage/mods"
cp "$out/system.iso" "$r/system.iso"
cat > "$r/init" <<'EOT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "VFK-GUEST: installer up: $(cat /proc/cmdline)"
for m in /mod/*.ko; do insmod "$m" || echo "VFK-GUEST: insmod $m failed"; done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ -b /dev/vda ] && dd if=/system.iso of=/dev/vda bs=1M conv=fsync 2>/dev/null; then
	sync
	echo "VFK-GUEST: installed onto vda: $(wc -c < /system.iso) bytes"
else
	echo "VFK-GUEST: installing failed: no /dev/vda or dd failed"
	ls /sys/bus/virtio/devices /dev | tr "\n" " "; dmesg | tail -n 15
fi
poweroff -f
EOT
chmod +x "$r/init"
(cd "$r" && find . | cpio -o -H newc --quiet | gzip -1) > "$stage/installer.cpio.gz"
iso "$stage/instiso" "$out/installer.iso" "console=ttyS0 panic=-1 vfk_role=installer" "$stage/installer.cpio.gz"
