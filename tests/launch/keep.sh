# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by run.sh: domains users keep. up defines a domain once and later
# starts it as defined, so edits made with virt-xml (as virt-manager makes
# them) survive down and up; a changed profile is shown, applied only with
# up --redefine; down --undefine removes the domain and what vfiokit kept.

# The inactive definition of $1 without what the edits below change (memory,
# vCPUs and the CPU topology that follows them), as canonical text.
inactive_rest() {
	virsh -c qemu:///system dumpxml --inactive "$1" 2>/dev/null | python3 -c '
import sys, xml.etree.ElementTree as ET
d = ET.fromstring(sys.stdin.read())
for tag in ("memory", "currentMemory", "vcpu"):
    for e in d.findall(tag):
        d.remove(e)
for cpu in d.findall("cpu"):
    for t in cpu.findall("topology"):
        cpu.remove(t)
print(ET.tostring(d, encoding="unicode"))'
}
# memory in KiB and vCPUs of the inactive definition of $1: "393216 2"
mem_vcpus() {
	virsh -c qemu:///system dumpxml --inactive "$1" 2>/dev/null | python3 -c '
import sys, xml.etree.ElementTree as ET
d = ET.fromstring(sys.stdin.read())
print(d.findtext("memory"), d.findtext("vcpu"))'
}

prof=$(profile vfk-launch-ke 1)
# a profile that pins, and whose domain has more than the defaults to lose
sed -i 's/^vcpus = 1$/vcpus = 1\ndescription = kept across down and up/' "$prof"
if "$VM" up "$prof" -q 2>"$WORK/err"; then
	before=$(inactive_rest vfk-launch-ke)
	virt-xml -c qemu:///system vfk-launch-ke --edit --memory 384 >/dev/null 2>"$WORK/vx1" &&
		virt-xml -c qemu:///system vfk-launch-ke --edit --vcpus 2,sockets=1,dies=1,cores=2,threads=1 >/dev/null 2>"$WORK/vx2" \
		|| fail "virt-xml edits: $(cat "$WORK/vx1" "$WORK/vx2" | tr '\n' ' ')"
	"$VM" down vfk-launch-ke --timeout 2 -q || fail "down of the edited VM"
	if "$VM" up "$prof" >"$WORK/up2" 2>&1; then
		[ "$(mem_vcpus vfk-launch-ke)" = "393216 2" ] \
			&& pass "edits made with virt-xml (memory 384 MiB, 2 vCPUs) survive down and up" \
			|| fail "after down/up the definition has memory/vCPUs '$(mem_vcpus vfk-launch-ke)'"
		[ "$(virsh -c qemu:///system dominfo vfk-launch-ke | awk '/^CPU\(s\):/{print $2}')" = 2 ] \
			&& pass "the VM started from the edited definition runs with 2 vCPUs" \
			|| fail "running VM: $(virsh -c qemu:///system dominfo vfk-launch-ke | tr '\n' '|')"
		[ "$(inactive_rest vfk-launch-ke)" = "$before" ] \
			&& pass "everything else vfiokit defined (devices, pinning, memory backing, metadata) is still there" \
			|| fail "the definition changed beyond the edits: $(diff <(echo "$before") <(inactive_rest vfk-launch-ke) | head -n 5 | tr '\n' '|')"
		grep -q "starting the domain vfk-launch-ke as defined" "$WORK/up2" \
			&& pass "up says it starts the domain as defined" || fail "up said: $(tr '\n' '|' < "$WORK/up2")"
		"$VM" status vfk-launch-ke | grep running >/dev/null \
			&& pass "status still recognises the VM started from the kept domain" \
			|| fail "status: $("$VM" status vfk-launch-ke 2>&1 | tr '\n' '|')"
		"$VM" plan "$prof" | grep "is defined from this plan" >/dev/null \
			&& pass "plan says the domain is defined from this plan (edits in the domain are not profile changes)" \
			|| fail "plan does not say the domain is defined from it"
		"$VM" down vfk-launch-ke --timeout 2 -q
	else
		fail "second up of the edited VM: $(cat "$WORK/up2")"
	fi
	# the profile changes: shown, not applied, until --redefine
	sed -i 's/^memory = 256M$/memory = 320M/' "$prof"
	out=$("$VM" plan "$prof")
	echo "$out" | grep "was defined from another plan" >/dev/null && echo "$out" | grep '^-.*<memory unit="MiB">256</memory>' >/dev/null \
		&& echo "$out" | grep '^+.*<memory unit="MiB">320</memory>' >/dev/null \
		&& pass "plan shows how a changed profile differs from the definition (a diff of the memory line)" \
		|| fail "plan after the profile changed: $(echo "$out" | tail -n 12 | tr '\n' '|')"
	"$VM" plan "$prof" --json | python3 -c 'import json,sys; d=json.load(sys.stdin)["definition"]; sys.exit(0 if d["state"]=="changed" and "320</memory>" in d["diff"] else 1)' \
		&& pass "plan --json: definition.state 'changed' with the diff" || fail "plan --json lacks the definition change"
	if "$VM" up "$prof" >"$WORK/up3" 2>&1; then
		grep -q "differs from the one its domain was defined from" "$WORK/up3" && [ "$(mem_vcpus vfk-launch-ke)" = "393216 2" ] \
			&& pass "up with a changed profile warns and starts the domain as defined (edits kept)" \
			|| fail "up with a changed profile: $(tr '\n' '|' < "$WORK/up3"), definition $(mem_vcpus vfk-launch-ke)"
		"$VM" down vfk-launch-ke --timeout 2 -q
	else
		fail "up with a changed profile: $(cat "$WORK/up3")"
	fi
	uuid=$(virsh -c qemu:///system domuuid vfk-launch-ke 2>/dev/null)
	if "$VM" up "$prof" --redefine -q 2>"$WORK/err"; then
		[ "$(mem_vcpus vfk-launch-ke)" = "327680 1" ] \
			&& pass "up --redefine applies the profile (320 MiB, 1 vCPU)" \
			|| fail "after --redefine: $(mem_vcpus vfk-launch-ke)"
		[ -n "$uuid" ] && [ "$(virsh -c qemu:///system domuuid vfk-launch-ke)" = "$uuid" ] \
			&& pass "up --redefine keeps the domain's UUID (the guest's system UUID)" \
			|| fail "UUID was '$uuid', now '$(virsh -c qemu:///system domuuid vfk-launch-ke)'"
		"$VM" down vfk-launch-ke --timeout 2 --undefine -q
		! virsh -c qemu:///system dominfo vfk-launch-ke >/dev/null 2>&1 && [ ! -e /var/lib/vfiokit/domains/vfk-launch-ke.xml ] \
			&& pass "down --undefine removes the domain and the XML it was defined from" \
			|| fail "down --undefine left the domain or /var/lib/vfiokit/domains/vfk-launch-ke.xml"
	else
		fail "up --redefine: $(cat "$WORK/err")"
	fi
else
	fail "up (libvirt, to keep): $(cat "$WORK/err")"
fi

# a domain of the same name that vfiokit did not define is not replaced unasked
prof=$(profile vfk-launch-kh 1)
"$VM" gen "$prof" --format libvirt | sed '/<metadata>/,/<\/metadata>/d' > "$WORK/kh.xml"
if virsh -c qemu:///system define "$WORK/kh.xml" >/dev/null 2>&1; then
	"$VM" up "$prof" -q 2>"$WORK/err"; rc=$?
	[ $rc != 0 ] && grep -q "exists that vfiokit did not define" "$WORK/err" && [ "$(wc -l < "$WORK/err")" = 1 ] \
		&& [ ! -e /run/vfiokit/vms/vfk-launch-kh ] \
		&& pass "up refuses to replace a domain vfiokit did not define (exit $rc, one line)" \
		|| fail "up over a foreign domain: exit $rc: $(cat "$WORK/err")"
	"$VM" down vfk-launch-kh --undefine -q 2>"$WORK/err"; rc=$?
	[ $rc != 0 ] && virsh -c qemu:///system dominfo vfk-launch-kh >/dev/null 2>&1 \
		&& pass "down --undefine leaves a domain vfiokit did not define (exit $rc)" \
		|| fail "down --undefine of a foreign domain: exit $rc"
	"$VM" up "$prof" --redefine -q 2>"$WORK/err" \
		&& virsh -c qemu:///system dumpxml vfk-launch-kh | grep "vfiokit.org/xmlns" >/dev/null \
		&& pass "up --redefine replaces it with the profile's domain" \
		|| fail "up --redefine over a foreign domain: $(cat "$WORK/err")"
	"$VM" down vfk-launch-kh --timeout 2 --undefine -q
else
	fail "virsh define of a hand-made domain failed"
fi
