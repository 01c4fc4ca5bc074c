#!/bin/bash
# Build the tiny guest the launch tests boot: busybox as PID 1, lists its PCI
# devices on the serial console, names the GPU it sees, then either powers off
# (vfk_hold=0) or stays up until stopped from outside (vfk_hold=1).
# Usage: mkguest.sh OUT.cpio.gz
set -euo pipefail
out=$1
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,proc,sys,dev}
cp "$(command -v busybox)" "$stage/bin/busybox"
for a in sh mount cat echo basename poweroff sleep; do ln -s busybox "$stage/bin/$a"; done
cat > "$stage/init" <<'EOT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo "VFK-GUEST: up: $(cat /proc/cmdline)"
for d in /sys/bus/pci/devices/*; do
	echo "VFK-GUEST: pci $(basename "$d") $(cat "$d/vendor"):$(cat "$d/device") class $(cat "$d/class")"
	case $(cat "$d/class") in
	0x03*) echo "VFK-GUEST: saw GPU $(cat "$d/vendor"):$(cat "$d/device") at $(basename "$d")" ;;
	esac
done
# the TPM is an ACPI device (tpm-crb: MSFT0101), listed whether or not a driver takes it
for d in /sys/bus/acpi/devices/MSFT0101:*; do
	[ -e "$d" ] && echo "VFK-GUEST: saw TPM $(basename "$d")"
done
echo "VFK-GUEST: done"
hold=0
for a in $(cat /proc/cmdline); do case $a in vfk_hold=1) hold=1 ;; esac; done
if [ $hold = 1 ]; then while :; do sleep 3600; done; fi
poweroff -f
EOT
chmod +x "$stage/init"
(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) > "$out"
