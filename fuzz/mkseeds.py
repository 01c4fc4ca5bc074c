#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Seed corpora for the fuzz targets, taken from the fixture hosts
(tests/fixtures/hosts, built with tests/mkhost.py), the shipped profiles
(configs/) and real-world samples of the files vfiokit reads.

    fuzz/mkseeds.py OUTDIR        # writes OUTDIR/<target>/<seed> files
"""
import hashlib
import os
import subprocess
import sys
import tempfile
import zlib

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOSTS = ["desktop-dgpu-igpu", "nvidia-4fn", "amd-switch", "shared-chipset", "laptop-0302",
         "sriov-server", "nonroot", "nvidia-vgpu", "intel-gvtg", "nvidia-vgpu17-vf",
         "threadripper-numa", "ryzen-2ccd", "iommu-off"]


def chunk(data, wide=False):
    if isinstance(data, str):
        data = data.encode()
    if wide:
        data = data[:65535]
        return bytes([len(data) >> 8, len(data) & 255]) + data
    data = data[:254]
    return bytes([len(data)]) + data


ABSENT = bytes([255])


class Seeds:
    def __init__(self, out):
        self.out = out

    def add(self, target, data):
        if isinstance(data, str):
            data = data.encode()
        d = os.path.join(self.out, target)
        os.makedirs(d, exist_ok=True)
        name = hashlib.sha1(data).hexdigest()[:16]
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


def read(path, binary=False):
    try:
        with open(path, "rb") as f:
            data = f.read()
        return data if binary else data.decode(errors="replace")
    except OSError:
        return None


def build_hosts(tmp):
    trees = {}
    for h in HOSTS:
        hostfile = os.path.join(SRC, "tests/fixtures/hosts", h + ".host")
        if not os.path.exists(hostfile):
            continue
        out = os.path.join(tmp, h)
        r = subprocess.run([sys.executable, os.path.join(SRC, "tests/mkhost.py"), hostfile, out],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r.returncode == 0:
            trees[h] = out
    return trees


def devices(tree):
    d = os.path.join(tree, "sys/bus/pci/devices")
    return [(a, os.path.join(d, a)) for a in sorted(os.listdir(d))] if os.path.isdir(d) else []


def main():
    out = sys.argv[1]
    s = Seeds(out)
    with tempfile.TemporaryDirectory(prefix="vfk-seeds-") as tmp:
        trees = build_hosts(tmp)

        # ---- pciaddr
        for a in ["0000:01:00.0", "01:00.0", "ffff:ff:1f.7", "0:0:0.0", "00:1f.7", "0000:01:00.8",
                  "0000:01:20.0", "../../x", "0000:01:00.0/../..", "01:00.0 ", "10000:00:00.0",
                  "0000:01:00", "0000::00.0", "+1:00.0", "0x1:00.0"]:
            s.add("pciaddr", a)
        for tree in trees.values():
            for a, _ in devices(tree)[:4]:
                s.add("pciaddr", a)

        # ---- journal
        s.add("journal", "# vfiokit journal v1\n"
              "0000:01:00.0 state=bound driver=nvidia override= owner=vfio-bind since=1732590000\n"
              "0000:01:00.1 state=pending driver=snd_hda_intel override= owner=vfio-bind since=1732590000\n")
        s.add("journal", "# vfiokit journal v1\n01:00.0 state=bound driver= override=vfio-pci owner=win11 since=0 future=x\n")
        s.add("journal", "  # comment\n\n\t0000:03:00.0\tstate=pending\tdriver=igc\n")
        s.add("journal", "0000:01:00.0 state=bound driver=../../../etc override= owner=x since=1\n")
        s.add("journal", "0000:01:00.0 state=bound driver=.. since=-1\n")
        # v2: the trailer's CRC-32 is zlib's over every byte before it
        for body in ["# vfiokit journal v2\n"
                     "0000:01:00.0 state=bound driver=nvidia override= owner=vfio-bind since=1732590000\n"
                     "0000:01:00.1 state=pending driver=snd_hda_intel override= owner=vfio-bind since=1732590000\n",
                     "# vfiokit journal v2\n"]:
            n = body.count("\n") - 1
            good = body + "# end entries=%d crc32=%08x\n" % (n, zlib.crc32(body.encode()))
            s.add("journal", good)
            s.add("journal", good[:-7])                       # torn inside the trailer
            s.add("journal", good.replace("nvidia", "nvidib"))  # edited after the checksum

        # ---- persist
        s.add("persist", "# Devices vfio-bind hands to vfio-pci at boot.\n\n[device 0000:01:00.0]\nid = 10de:2684\n\n"
              "[device 0000:01:00.1]\nid = 10de:22ba\n")
        s.add("persist", "[device 01:00.0]\nid=10de:2684\n[device 0000:01:00.0]\nid = 10DE:2684\n")
        s.add("persist", "[device ../../etc]\nid = 1:2\n")
        s.add("persist", "[device 0000:02:00.0]\nid = -1:+2\n")
        s.add("persist", "; comment\n[device 0000:02:00.0]\nid = 144d:a80a ; trailing\n")

        # ---- uevent (mode byte: 0 uevent, 1 integer attribute, 2 device link, 3 name link)
        for tree in trees.values():
            for a, p in devices(tree):
                ue = read(os.path.join(p, "uevent"))
                if ue:
                    s.add("uevent", b"\0" + ue.encode())
                for name in ("boot_vga", "numa_node", "sriov_totalvfs"):
                    v = read(os.path.join(p, name))
                    if v:
                        s.add("uevent", b"\1" + v.encode())
                try:
                    s.add("uevent", b"\2" + os.readlink(os.path.join(os.path.dirname(p), a)).encode())
                except OSError:
                    pass
                for name in ("driver", "iommu_group", "physfn"):
                    try:
                        s.add("uevent", b"\3" + os.readlink(os.path.join(p, name)).encode())
                    except OSError:
                        pass
        for t in ["/", "..", "../..", "a/.", "/abs/0000:01:00.0", "x" * 300]:
            s.add("uevent", b"\3" + t.encode())
            s.add("uevent", b"\2" + t.encode())
        s.add("uevent", b"\0PCI_CLASS=fffffffff\nPCI_ID=10000:-1\n")

        # ---- cpulist
        for v in ["0-7,16-23", "0", "", "0-4095", "4096", "3-1", "0,,1", "0-", " 0-3\n", "1,3,5-7"]:
            s.add("cpulist", v)
        for tree in trees.values():
            for a, p in devices(tree)[:3]:
                v = read(os.path.join(p, "local_cpulist"))
                if v:
                    s.add("cpulist", v.strip())
            nd = os.path.join(tree, "sys/devices/system/node")
            if os.path.isdir(nd):
                for n in os.listdir(nd):
                    v = read(os.path.join(nd, n, "cpulist"))
                    if v:
                        s.add("cpulist", v.strip())

        # ---- guards (mode byte: 0 mountinfo, 1 route + ipv6_route, 2 cmdline + modprobe.d, 3 matchers)
        s.add("guards", b"\0" + b"22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n"
              b"23 22 0:21 / /proc rw - proc proc rw\n")
        s.add("guards", b"\0" + b"25 1 254:0 / / rw - ext4 /dev/mapper/vg-root rw\n")
        s.add("guards", b"\0" + b"25 1 ../../../../etc / / rw - ext4 /dev/x rw\n")
        s.add("guards", b"\0" + b"1 1 0:1 / / rw - overlay overlay rw\n")
        route = ("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
                 "eno1\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
                 "br0\t0002A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n")
        v6 = ("00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
              "fe800000000000000000000000000001 00000400 00000001 00000000 00000003 br0\n")
        s.add("guards", b"\1" + (route + "\n--\n" + v6).encode())
        s.add("guards", b"\1" + ("x\t00000000\t0\t0\t0\t0\t0\t00000000\n../..\t00000000\t0\t0\t0\t0\t0\t00000000\n"
                                 "\n--\n" + v6.replace("br0", "..")).encode())
        s.add("guards", b"\2" + b"BOOT_IMAGE=/vmlinuz ro vfio-pci.ids=10de:2684,10de:22ba quiet\n--\n"
              b"options vfio-pci ids=10de:2684,10de:22ba\nsoftdep nvidia pre: vfio-pci\n")
        s.add("guards", b"\2" + b"vfio_pci.ids=\n--\n  options vfio_pci ids=,,10DE:2684\n")
        s.add("guards", b"\3" + b"\x10\xde\x26\x84" + b"10de:2684,10de:22ba")
        s.add("guards", b"\3" + b"../devices/pci0000:00/0000:03:00.0/nvme")
        for tree in trees.values():
            c = read(os.path.join(tree, "proc/cmdline"))
            if c:
                s.add("guards", b"\2" + c.encode() + b"\n--\n")

        # ---- profile (INI, then \xff\xfe KEY=VALUE for --set)
        for f in sorted(os.listdir(os.path.join(SRC, "configs"))):
            if f.endswith(".ini"):
                text = read(os.path.join(SRC, "configs", f)).encode()
                s.add("profile", text)
                s.add("profile", text + b"\xff\xfevm.memory=8G")
                s.add("profile", text + b"\xff\xfedisk.data.path=../../etc/shadow")
                s.add("plan", b"\0" + text)
                s.add("plan", b"\1" + text)
                s.add("plan", b"\2" + text)
        s.add("profile", b"[vm]\nname = a/b\n")
        s.add("profile", b"[vm]\nmemory = 1\n  continued\n")
        s.add("plan", b"\0[vm]\nname = x'$(reboot)'\ncmdline = a 'b' \"c\" $d `e` \\f\n[gpu]\nmode = auto\n")
        s.add("plan", b"\1[vm]\nname = <&>\ndescription = ]]> <!-- \" '\n[gpu]\nmode = mdev\n")

        # ---- scan: chunks in fuzz-scan.c's order, from the tiny host and real devices
        tiny = os.path.join(tmp, "tiny")
        subprocess.run([sys.executable, os.path.join(SRC, "tests/mkhost.py"),
                        os.path.join(SRC, "fuzz/tiny.host"), tiny],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)

        def link(p, name):
            try:
                return os.readlink(os.path.join(p, name))
            except OSError:
                return ""

        def attr(p, name):
            v = read(os.path.join(p, name), binary=True)
            return ABSENT if v is None else chunk(v)

        def scan_seed(where, gpu, port):
            data = bytes([where])
            data += attr(gpu, "uevent") + chunk(read(os.path.join(gpu, "config"), True) or b"", True)
            data += attr(gpu, "class") + attr(gpu, "vendor") + attr(gpu, "device")
            data += chunk(link(gpu, "driver")) + chunk(link(gpu, "iommu_group")) + chunk(link(gpu, "physfn"))
            for name in ("boot_vga", "driver_override", "local_cpulist", "reset_method", "power_state",
                         "current_link_speed", "current_link_width", "sriov_totalvfs", "sriov_numvfs",
                         "numa_node", "irq", "resource"):
                data += attr(gpu, name)
            data += chunk(read(os.path.join(port, "config"), True) or b"", True)
            data += attr(port, "uevent") + chunk(link(port, "iommu_group"))
            return data

        tgpu = os.path.join(tiny, "sys/bus/pci/devices/0000:01:00.0")
        tport = os.path.join(tiny, "sys/bus/pci/devices/0000:00:01.0")
        for where in (0, 1, 2, 3, 4, 9):
            s.add("scan", scan_seed(where, tgpu, tport))
        for tree in trees.values():
            devs = devices(tree)
            gpus = [p for a, p in devs if (read(os.path.join(p, "class")) or "").startswith("0x03")]
            bridges = [p for a, p in devs if (read(os.path.join(p, "class")) or "").startswith("0x0604")]
            if gpus and bridges:
                s.add("scan", scan_seed(0, gpus[0], bridges[0]))

        # ---- mdev: chunks in fuzz-mdev.c's order
        def mdev_seed(name, desc, avail, api, desc2, creatable, current, mdevctl, vgpu, mtype, query):
            return (chunk(name) + chunk(desc, True) + chunk(avail) + chunk(api) + chunk(desc2, True) +
                    chunk(creatable, True) + chunk(current) + chunk(mdevctl, True) + chunk(vgpu, True) +
                    chunk(mtype) + chunk(query))

        t4 = "num_heads=4, frl_config=60, framebuffer=2048M, max_resolution=7680x4320, max_instance=8"
        gvt = "low_gm_size: 128MB\nhigh_gm_size: 512MB\nfence: 4\nresolution: 1920x1200\nweight: 4\n"
        defn = '{\n  "mdev_type": "nvidia-231",\n  "start": "auto",\n  "attrs": []\n}\n'
        vdef = '{ "mdev_type": "nvidia-1395", "start": "manual", "attrs": [ { "a": "b" } ] }'
        s.add("mdev", mdev_seed("GRID T4-2Q", t4, "7", "vfio-pci", t4, "1395 : NVIDIA L4-4Q\n1400 : NVIDIA L4-4C\n",
                                "0", defn, vdef, "../mdev_supported_types/nvidia-231", "GRID T4-2Q"))
        s.add("mdev", mdev_seed("GVTg_V5_4", gvt, "1", "vfio-pci", "virtual display, 4 MB video memory",
                                "", "1395", "{}", "[]", "../mdev_supported_types/nvidia-232", "auto"))
        s.add("mdev", mdev_seed("", "", "-1", "", "", "0 : x\n99999999 : y\nabc", "x", "not json",
                                '{"mdev_type": "../../x"}', "../../../../../etc", "nvidia-231"))
        for h in ("nvidia-vgpu", "intel-gvtg"):
            tree = trees.get(h)
            if not tree:
                continue
            for a, p in devices(tree):
                td = os.path.join(p, "mdev_supported_types")
                if os.path.isdir(td):
                    for t in sorted(os.listdir(td))[:3]:
                        s.add("mdev", mdev_seed(read(os.path.join(td, t, "name")) or "",
                                                read(os.path.join(td, t, "description")) or "",
                                                read(os.path.join(td, t, "available_instances")) or "",
                                                "vfio-pci", "", "", "0", defn, vdef, "../mdev_supported_types/" + t,
                                                t))
        tree = trees.get("nvidia-vgpu17-vf")
        if tree:
            for a, p in devices(tree):
                c = read(os.path.join(p, "nvidia/creatable_vgpu_types"))
                if c:
                    s.add("mdev", mdev_seed("GRID T4-2Q", t4, "7", "vfio-pci", t4, c,
                                            read(os.path.join(p, "nvidia/current_vgpu_type")) or "0",
                                            defn, vdef, "../mdev_supported_types/nvidia-231", "L4-4Q"))
                    break


if __name__ == "__main__":
    main()
