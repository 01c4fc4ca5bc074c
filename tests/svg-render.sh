#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vfio-ls --svg through real renderers: librsvg (rsvg-convert, what GNOME's
# image viewer and most converters use) and Chromium (chromium-headless-shell,
# the engine of every Chromium-based browser). For each fixture host:
#
#  - the SVG's own labels (its <text>s, read with Python's XML parser) hold the
#    host's addresses and the verdicts the host should show;
#  - rsvg-convert renders it without an error, to a PNG that is not blank:
#    enough non-white pixels and enough distinct colours (the groups' fills);
#  - Chromium screenshots it, not blank either, and, given the SVG inline in
#    an HTML page, lays out every <text> with a real font (non-zero length),
#    the label asked for among them, and no label running out of its box.
#
# PNGs are decoded with zlib in Python (no imaging library needed).
# Ends with "N passed, N failed, N skipped". Environment: VFK_BIN (default
# build/bin). Usage: tests/svg-render.sh [NAME...] runs only the named tests.
set -o pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
BIN=${VFK_BIN:-$TOP/build/bin}
RSVG=/usr/bin/rsvg-convert
CHROME=/usr/bin/chromium-headless-shell
PY=/usr/bin/python3
P=0 F=0 S=0
pass() { echo "PASS: $*"; P=$((P + 1)); }
fail() { echo "FAIL: $*"; F=$((F + 1)); }
skip() { echo "SKIP: $*"; S=$((S + 1)); }
done_() { echo "$P passed, $F failed, $S skipped"; [[ $F -eq 0 ]]; exit; }

cd "$TOP" || exit 1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vfk-svg-render.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# A program the test drives comes from a package of the test dependencies:
# its absence is a failure naming the package, never a skip.
missing=0
for need in "$RSVG:librsvg2-bin" "$CHROME:chromium-headless-shell" "$PY:python3" \
	    "$BIN/vfio-ls:vfiokit (make)"; do
	if [[ ! -x ${need%%:*} ]]; then
		fail "${need%%:*} is missing (${need#*:})"
		missing=1
	fi
done
[[ $missing -eq 0 ]] || done_

# png_stats PNG: "WIDTH HEIGHT NONWHITE_PERMILLE DISTINCT_COLOURS"
png_stats()
{
	"$PY" - "$1" <<'EOF'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        assert depth == 8 and ctype in (2, 6) and interlace == 0, "PNG kind %d/%d" % (depth, ctype)
        bpp = 3 if ctype == 2 else 4
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw, stride = zlib.decompress(idat), w * bpp
prev, nonwhite, colours = bytearray(stride), 0, set()
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp):
        px = bytes(line[x:x + 3])
        # transparent counts as white: rsvg leaves the page's outside clear
        if bpp == 4 and line[x + 3] == 0:
            px = b"\xff\xff\xff"
        if px != b"\xff\xff\xff":
            nonwhite += 1
        colours.add(px)
    prev = line
print(w, h, nonwhite * 1000 // (w * h), len(colours))
EOF
}

# svg_labels SVG: every <text>'s content, one a line
svg_labels()
{
	"$PY" - "$1" <<'EOF'
import sys, xml.etree.ElementTree as ET
for t in ET.parse(sys.argv[1]).getroot().iter("{http://www.w3.org/2000/svg}text"):
    print("".join(t.itertext()))
EOF
}

# svg_size SVG: "WIDTH HEIGHT" of the root
svg_size()
{
	"$PY" -c 'import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot(); print(r.get("width"), r.get("height"))' "$1"
}

# not_blank NAME PNG MIN_PERMILLE MIN_COLOURS
not_blank()
{
	local w h ink cols
	if ! read -r w h ink cols < <(png_stats "$2"); then
		fail "$1: $2 is no PNG this test reads"
		return
	fi
	if [[ $ink -ge $3 && $cols -ge $4 ]]; then
		pass "$1 (${w}x$h, $ink‰ ink, $cols colours)"
	else
		fail "$1: blank or nearly: ${w}x$h, $ink‰ not white (want $3), $cols colours (want $4)"
	fi
}

# The HTML page that lays the SVG out in Chromium and writes what it found
# into <body data-result="...">, which --dump-dom prints.
html_page()
{
	echo '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
	sed '1{/^<?xml/d}' "$1"
	echo "<script>const LABEL = $("$PY" -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$2");"
	cat <<'EOF'
const texts = document.querySelectorAll("svg text");
let shaped = 0, over = 0, want = 0;
for (const t of texts) {
	if (t.getComputedTextLength() > 0) shaped++;
	if (t.textContent === LABEL && t.getBBox().width > 0) want++;
	const box = t.parentNode.querySelector("rect.node");
	if (t.parentNode.tagName === "g" && box) {
		const b = t.getBBox(), r = box.getBBox();
		if (b.x + b.width > r.x + r.width || b.x < r.x) over++;
	}
}
document.body.setAttribute("data-result", "texts=" + texts.length + " shaped=" + shaped +
			   " label=" + want + " over=" + over);
</script></body></html>
EOF
}

selected()
{
	local n
	[[ $# -eq 1 ]] && return 0
	for n in "${@:2}"; do [[ $1 == "$n" ]] && return 0; done
	return 1
}

# render NAME ROOT LABEL...: the SVG of ROOT, its labels, both renderers
render()
{
	local name=$1 root=$2 svg=$WORK/$1.svg w h res
	shift 2
	if ! "$BIN/vfio-ls" --sysroot "$root" --svg "$svg" 2>"$WORK/$name.err"; then
		fail "$name: vfio-ls --svg: $(head -1 "$WORK/$name.err")"
		return
	fi
	svg_labels "$svg" >"$WORK/$name.labels" || { fail "$name: the SVG does not parse"; return; }
	local l miss=""
	for l in "$@"; do grep -qxF -- "$l" "$WORK/$name.labels" || miss+=" '$l'"; done
	if [[ -z $miss ]]; then pass "$name-labels ($(wc -l <"$WORK/$name.labels") texts)"
	else fail "$name-labels: not in the SVG:$miss"; fi

	if "$RSVG" --format png -z 0.5 -o "$WORK/$name-rsvg.png" "$svg" 2>"$WORK/$name.rsvg.err"; then
		not_blank "$name-rsvg" "$WORK/$name-rsvg.png" 30 12
	else
		fail "$name-rsvg: rsvg-convert exit $?: $(head -3 "$WORK/$name.rsvg.err")"
	fi

	read -r w h < <(svg_size "$svg")
	[[ $h -gt 2000 ]] && h=2000
	timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--screenshot="$WORK/$name-chrome.png" --window-size="$w,$h" "file://$svg" \
		>"$WORK/$name.chrome.log" 2>&1
	if [[ -s $WORK/$name-chrome.png ]]; then
		not_blank "$name-chromium" "$WORK/$name-chrome.png" 30 12
	else
		fail "$name-chromium: no screenshot: $(tail -2 "$WORK/$name.chrome.log")"
	fi

	html_page "$svg" "$1" >"$WORK/$name.html"
	res=$(timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --dump-dom \
		"file://$WORK/$name.html" 2>"$WORK/$name.dom.log" |
	      sed -n 's/.*data-result="\([^"]*\)".*/\1/p')
	local kv texts=0 shaped=-1 label=0 over=-1
	for kv in $res; do local "${kv%%=*}=${kv#*=}"; done
	if [[ -z $res ]]; then
		fail "$name-chromium-text: no result from the page: $(tail -2 "$WORK/$name.dom.log")"
	elif [[ $texts -gt 0 && $shaped -eq $texts && $label -ge 1 && $over -eq 0 ]]; then
		pass "$name-chromium-text ($res)"
	else
		fail "$name-chromium-text: $res (every text shaped, '$1' shown, none over its box)"
	fi
}

host()
{
	local name=$1
	# the names of tests/fixtures/svg/pci.ids, whatever this machine's pci.ids says
	python3 tests/mkhost.py "tests/fixtures/hosts/$name.host" "$WORK/$name" >/dev/null &&
		mkdir -p "$WORK/$name/usr/share/misc" &&
		cp tests/fixtures/svg/pci.ids "$WORK/$name/usr/share/misc/pci.ids"
	echo "$WORK/$name"
}

selected shared-chipset "$@" &&
	render shared-chipset "$(host shared-chipset)" "GPU: isolated" "GPU: NOT isolated" \
		"shared group 6 starts here" "02:00.0" "NVIDIA GeForce GTX 970"
selected desktop-dgpu-igpu "$@" &&
	render desktop-dgpu-igpu "$(host desktop-dgpu-igpu)" "GPU: isolated" "01:00.0" \
		"NVIDIA GeForce RTX 4090" "pcieport · ACS: isolates below"
selected hgx-h100 "$@" &&
	render hgx-h100 "$(host hgx-h100)" "GPU: together with 1 other" "GPU: isolated" \
		"NVSwitch: GPU fabric" "Broadcom PEX890xx PCIe Gen 5 Switch"
selected desktop-slots "$@" &&
	render desktop-slots "$(host desktop-slots)" "slot PCIEX16_1" "slot PCIEX16_2: empty"
selected amd-switch "$@" &&
	render amd-switch "$(host amd-switch)" "shared group 8 starts here" "0c:00.0"
if selected synth-hgx-300 "$@"; then
	if python3 bench/mksynth.py --hgx 300 "$WORK/synth" >/dev/null; then
		render synth-hgx-300 "$WORK/synth" "GPU: isolated" "64 more functions"
	else
		fail "synth-hgx-300: bench/mksynth.py --hgx 300"
	fi
fi
done_
