#!/usr/bin/env python3
"""Synthetic host tree of N PCI functions for `make bench`.

Shaped like a large GPU/SR-IOV server: per root port a switch, behind it a
GPU + HDMI audio, and NIC PFs whose VFs make up the bulk of the functions.
Every function gets what libpci's sysfs backend and vfio-ls read: config,
vendor, device, class, subsystem ids, revision, irq, resource, driver and
iommu_group links, and the bus/pci/devices link.
Usage: mksynth.py N OUTDIR
"""
import os
import struct
import sys

ZERO_RES = "0x0000000000000000 0x0000000000000000 0x0000000000000000\n" * 13


def cfg(vendor, device, cls, hdr=0):
    b = bytearray(64)
    struct.pack_into("<HHHH", b, 0, vendor, device, 0x0006, 0x0010)
    b[8] = 0x01
    b[9:12] = bytes([cls & 0xff, (cls >> 8) & 0xff, (cls >> 16) & 0xff])
    b[0x0e] = hdr
    return bytes(b)


def main():
    n = int(sys.argv[1])
    out = sys.argv[2]
    sysd = os.path.join(out, "sys")
    devs_dir = os.path.join(sysd, "bus/pci/devices")
    drv_dir = os.path.join(sysd, "bus/pci/drivers")
    grp_dir = os.path.join(sysd, "kernel/iommu_groups")
    for d in (devs_dir, drv_dir, grp_dir):
        os.makedirs(d, exist_ok=True)
    for drv in ("pcieport", "nvidia", "snd_hda_intel", "mlx5_core", "vfio-pci"):
        os.makedirs(os.path.join(drv_dir, drv), exist_ok=True)
    state = {"count": 0, "group": 0}

    def add(path_parts, addr, vendor, device, cls, driver, hdr=0, group=None):
        rel = "devices/" + "/".join(path_parts + [addr])
        full = os.path.join(sysd, rel)
        os.makedirs(full, exist_ok=True)
        files = {
            "vendor": "0x%04x\n" % vendor, "device": "0x%04x\n" % device,
            "class": "0x%06x\n" % cls, "subsystem_vendor": "0x%04x\n" % vendor,
            "subsystem_device": "0x0001\n", "revision": "0x01\n", "irq": "16\n",
            "resource": ZERO_RES, "numa_node": "0\n",
        }
        files["uevent"] = ("DRIVER=%s\n" % driver if driver else "") + \
            "PCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:0001\nPCI_SLOT_NAME=%s\n" % (
                cls, vendor, device, vendor, addr)
        for k, v in files.items():
            with open(os.path.join(full, k), "w") as f:
                f.write(v)
        with open(os.path.join(full, "config"), "wb") as f:
            f.write(cfg(vendor, device, cls, hdr))
        depth = rel.count("/") + 1
        up = "../" * depth
        if driver:
            os.symlink(up + "bus/pci/drivers/" + driver, os.path.join(full, "driver"))
        if group is None:
            group = state["group"]
            state["group"] += 1
        gdir = os.path.join(grp_dir, str(group), "devices")
        os.makedirs(gdir, exist_ok=True)
        os.symlink(up + "kernel/iommu_groups/%d" % group, os.path.join(full, "iommu_group"))
        os.symlink("../../../../" + rel, os.path.join(gdir, addr))
        os.symlink("../../../" + rel, os.path.join(devs_dir, addr))
        state["count"] += 1
        return full

    domain = 0
    bus = 1
    root_dev = 1
    def next_root_port():
        nonlocal domain, bus, root_dev
        if root_dev > 31 or bus > 0xf0:
            domain += 1
            bus = 1
            root_dev = 1
        rp = "%04x:00:%02x.0" % (domain, root_dev)
        root_dev += 1
        return rp

    while state["count"] < n:
        rp = next_root_port()
        top = "pci%04x:00" % domain
        add([top], rp, 0x8086, 0x1901, 0x060400, "pcieport", hdr=1)
        # GPU + audio
        gpu_bus = bus
        bus += 1
        g = state["group"]
        state["group"] += 1
        add([top, rp], "%04x:%02x:00.0" % (domain, gpu_bus), 0x10de, 0x2684, 0x030000,
            "nvidia", hdr=0x80, group=g)
        add([top, rp], "%04x:%02x:00.1" % (domain, gpu_bus), 0x10de, 0x22ba, 0x040300,
            "snd_hda_intel", group=g)
        # a NIC PF with up to 248 VFs on the next bus numbers
        if state["count"] >= n:
            break
        rp2 = next_root_port()
        top = "pci%04x:00" % domain
        add([top], rp2, 0x8086, 0x1901, 0x060400, "pcieport", hdr=1)
        pf_bus = bus
        bus += 1
        pf = "%04x:%02x:00.0" % (domain, pf_bus)
        pfdir = add([top, rp2], pf, 0x15b3, 0x1017, 0x020000, "mlx5_core")
        vfs = min(248, n - state["count"])
        for i in range(vfs):
            fn = i + 8  # VFs from devfn 1.0 on
            addr = "%04x:%02x:%02x.%x" % (domain, pf_bus, fn // 8, fn % 8)
            vdir = add([top, rp2], addr, 0x15b3, 0x1018, 0x020000, "mlx5_core")
            os.symlink("../" + pf, os.path.join(vdir, "physfn"))
        with open(os.path.join(pfdir, "sriov_totalvfs"), "w") as f:
            f.write("%d\n" % vfs)
        with open(os.path.join(pfdir, "sriov_numvfs"), "w") as f:
            f.write("%d\n" % vfs)
    print("%d functions in %s" % (state["count"], out))


if __name__ == "__main__":
    main()
