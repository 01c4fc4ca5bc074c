# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by run.sh: the virt-manager round trip. A domain written by
# `vfio-vm gen` for the shipped gaming profile (on a fixture desktop: its
# dGPU's functions as hostdevs, vCPU pinning, 2 MiB huge pages, Hyper-V
# enlightenments, Looking Glass, TPM, Secure Boot) is defined in this run's
# libvirtd and edited as virt-manager edits it (virt-xml --edit --memory: a
# smaller memory needs currentMemory too, virt-xml's plain N sets only that;
# --edit --vcpus). What vfiokit put there must all still be in the dumped
# definition. It is only defined, never started: the dGPU is the fixture's,
# and this machine's devices are never bound. (Status of an edited domain
# that runs: keep.sh.)

# The parts of a domain definition vfiokit is responsible for, one per line,
# sorted: hostdev sources, vcpupin and emulatorpin, huge pages, each Hyper-V
# feature, the Looking Glass shmem, TPM, the Secure Boot loader, the metadata.
vfiokit_parts() {
	python3 -c '
import sys, xml.etree.ElementTree as ET
d = ET.parse(sys.argv[1]).getroot()
out = []
for a in d.findall("devices/hostdev/source/address"):
    out.append("hostdev %s:%s:%s.%s" % tuple(int(a.get(k), 16) for k in ("domain", "bus", "slot", "function")))
for p in d.findall("cputune/vcpupin"):
    out.append("vcpupin %s %s" % (p.get("vcpu"), p.get("cpuset")))
for p in d.findall("cputune/emulatorpin"):
    out.append("emulatorpin " + p.get("cpuset"))
for p in d.findall("memoryBacking/hugepages/page"):
    out.append("hugepages %s %s" % (p.get("size"), p.get("unit", "KiB")))
if d.find("memoryBacking/hugepages") is not None:
    out.append("hugepages")
for f in d.findall("features/hyperv/*"):
    out.append("hyperv %s %s %s" % (f.tag, f.get("state"), f.get("retries", "")))
for s in d.findall("devices/shmem"):
    m, z = s.find("model"), s.find("size")
    out.append("shmem %s %s %s%s" % (s.get("name"), m.get("type") if m is not None else "",
                                    z.text if z is not None else "", z.get("unit") if z is not None else ""))
for t in d.findall("devices/tpm"):
    out.append("tpm " + t.get("model", ""))
for l in d.findall("os/loader"):
    out.append("loader secure=" + l.get("secure", "no"))
if d.find("features/smm") is not None:
    out.append("smm " + d.find("features/smm").get("state", "on"))
for m in d.findall("metadata/*"):
    out.append("metadata " + m.tag)
print("\n".join(sorted(out)))' "$1"
}
has_part() { grep -q -E "^$2( |\$)" <<<"$1"; }

host=$WORK/rt-host
prof=$WORK/vfk-launch-rt.ini
if ! python3 "$TOP/tests/mkhost.py" "$TOP/tests/fixtures/hosts/desktop-dgpu-igpu.host" "$host" >"$WORK/err" 2>&1; then
	fail "round trip: building the fixture desktop: $(cat "$WORK/err")"
else
	sed -e 's/^name = .*/name = vfk-launch-rt/' -e 's/^hugepages = .*/hugepages = 2M/' \
		-e 's/^kvm-hidden = no/kvm-hidden = no\nhyperv = yes/' \
		-e "s|^path = .*\\.qcow2|path = $WORK/rt.qcow2|" "$TOP/configs/gaming-passthrough.ini" > "$prof"
	if "$VM" gen --sysroot "$host" "$prof" --format libvirt -o "$WORK/rt.xml" 2>"$WORK/err"; then
		gen_parts=$(vfiokit_parts "$WORK/rt.xml")
		missing=""
		for p in hostdev vcpupin emulatorpin hugepages "hyperv relaxed" shmem tpm "loader secure=yes" metadata; do
			has_part "$gen_parts" "$p" || missing="$missing [$p]"
		done
		[ -z "$missing" ] \
			&& pass "gen writes every part the round trip checks (hostdevs, pinning, huge pages, Hyper-V, Looking Glass, TPM, Secure Boot, metadata)" \
			|| fail "gen's domain lacks$missing"
		if virsh -c qemu:///system define "$WORK/rt.xml" >/dev/null 2>"$WORK/err"; then
			virsh -c qemu:///system dumpxml --inactive vfk-launch-rt > "$WORK/rt-defined.xml" 2>/dev/null
			before=$(vfiokit_parts "$WORK/rt-defined.xml")
			[ "$before" = "$gen_parts" ] \
				&& pass "libvirt defines all of gen's parts as written ($(wc -l <<<"$before") of them)" \
				|| fail "libvirt's definition differs from gen's: $(diff <(echo "$gen_parts") <(echo "$before") | grep '^[<>]' | head -n 4 | tr '\n' '|')"
			timeout 120 virt-xml -c qemu:///system vfk-launch-rt --edit --memory memory=8192,currentMemory=8192 >/dev/null 2>"$WORK/vx1" &&
				timeout 120 virt-xml -c qemu:///system vfk-launch-rt --edit \
					--vcpus 20,sockets=1,dies=1,cores=10,threads=2 >/dev/null 2>"$WORK/vx2"
			rc=$?
			virsh -c qemu:///system dumpxml --inactive vfk-launch-rt > "$WORK/rt-edited.xml" 2>/dev/null
			got=$(python3 -c '
import sys, xml.etree.ElementTree as ET
d = ET.parse(sys.argv[1]).getroot()
print(d.findtext("memory"), d.findtext("currentMemory"), d.findtext("vcpu"))' "$WORK/rt-edited.xml" 2>/dev/null)
			[ $rc = 0 ] && [ "$got" = "8388608 8388608 20" ] \
				&& pass "virt-xml edits the gen'd domain (memory and current memory 8 GiB, 20 vCPUs)" \
				|| fail "virt-xml edits: exit $rc, memory/current/vCPUs '$got': $(cat "$WORK/vx1" "$WORK/vx2" | tr '\n' ' ')"
			after=$(vfiokit_parts "$WORK/rt-edited.xml")
			[ -n "$before" ] && [ "$after" = "$before" ] \
				&& pass "after the edits the definition still carries every hostdev, the pinning, huge pages, Hyper-V, Looking Glass, TPM, Secure Boot and vfiokit's metadata" \
				|| fail "the edits lost vfiokit's parts: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | head -n 4 | tr '\n' '|')"
			virsh -c qemu:///system undefine --nvram vfk-launch-rt >/dev/null 2>&1
		else
			fail "round trip: libvirt refused gen's domain: $(head -c 400 "$WORK/err")"
		fi
	else
		fail "round trip: vfio-vm gen: $(cat "$WORK/err")"
	fi
fi
