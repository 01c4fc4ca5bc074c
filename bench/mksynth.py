#!/usr/bin/env python3
"""Synthetic host trees for `make bench`.

  mksynth.py N OUTDIR
    A large GPU/SR-IOV server of N PCI functions: per root port a switch,
    behind it a GPU + HDMI audio, and NIC PFs whose VFs make up the bulk of
    the functions (bench/run.sh: vfio-ls against lspci).

  mksynth.py --hgx N OUTDIR
    An NVIDIA HGX H100 8-GPU server (tests/fixtures/hosts/hgx-h100.host's
    board) of N PCI functions: two NUMA nodes, four PCIe switches each with
    two H100s, two ConnectX NICs and an NVMe drive, the four NVSwitches, the
    BMC's VGA behind a PCIe-to-PCI bridge, and NIC VFs making up the rest
    (bench/run.sh: vfio-ls --json/--gpus/--brief against lspci).

  mksynth.py --one-group N OUTDIR
    A desktop-like host (boot iGPU, NVMe holding /, the NIC of the default
    route, each in its own group) plus ONE IOMMU group of N endpoints: PCH
    root ports and switches without ACS, a dGPU + audio and then NICs and
    NVMe controllers, 8 functions a slot (bench/bind-scale.sh: vfio-bind).
    Prints the group's number on its last line ("group G").

Every function gets what libpci's sysfs backend and vfio-ls read: config,
vendor, device, class, subsystem ids, revision, irq, resource, driver and
iommu_group links, and the bus/pci/devices link.
"""
import os
import struct
import sys

ZERO_RES = "0x0000000000000000 0x0000000000000000 0x0000000000000000\n" * 13

# PCIe capability port types (PCI_EXP_TYPE_*)
PCIE_ENDPOINT, PCIE_ROOT_PORT, PCIE_UPSTREAM, PCIE_DOWNSTREAM = 0, 4, 5, 6
PCIE_PCI_BRIDGE = 7  # PCIe to conventional PCI
PCI_CONVENTIONAL = -1  # no PCIe capability, 256 bytes as root reads them


def cfg(vendor, device, cls, hdr=0, pcie=None, acs=None):
    """Config space: the 64-byte header (what an unprivileged reader gets), 256
    bytes without capabilities (@pcie PCI_CONVENTIONAL), or 4 KiB with a PCIe
    capability at 0x40 (type @pcie) and no extended capability, so no ACS;
    with @acs (True: enabled, False: present but off) an ACS capability at
    0x100."""
    b = bytearray(64 if pcie is None else 256 if pcie == PCI_CONVENTIONAL else 4096)
    struct.pack_into("<HHHH", b, 0, vendor, device, 0x0006, 0x0010)
    b[8] = 0x01
    b[9:12] = bytes([cls & 0xff, (cls >> 8) & 0xff, (cls >> 16) & 0xff])
    b[0x0e] = hdr
    if pcie is not None and pcie != PCI_CONVENTIONAL:
        b[0x34] = 0x40
        struct.pack_into("<BBH", b, 0x40, 0x10, 0x00, 0x0002 | (pcie << 4))
        if acs is not None:  # ACS (0x000d) v1, last: SV TB RR CR UF, control
            struct.pack_into("<IHH", b, 0x100, 0x000d | (1 << 16), 0x001f,
                             0x001d if acs else 0x0000)
    return bytes(b)


class Tree:
    def __init__(self, out, drivers):
        self.sysd = os.path.join(out, "sys")
        self.out = out
        self.devs_dir = os.path.join(self.sysd, "bus/pci/devices")
        drv_dir = os.path.join(self.sysd, "bus/pci/drivers")
        self.grp_dir = os.path.join(self.sysd, "kernel/iommu_groups")
        for d in (self.devs_dir, drv_dir, self.grp_dir):
            os.makedirs(d, exist_ok=True)
        for drv in drivers:
            os.makedirs(os.path.join(drv_dir, drv), exist_ok=True)
        self.count = 0
        self.group = 0

    def new_group(self):
        self.group += 1
        return self.group - 1

    def add(self, path_parts, addr, vendor, device, cls, driver, hdr=0, group=None,
            pcie=None, acs=None, numa=0, cpus=None):
        rel = "devices/" + "/".join(path_parts + [addr])
        full = os.path.join(self.sysd, rel)
        os.makedirs(full, exist_ok=True)
        files = {
            "vendor": "0x%04x\n" % vendor, "device": "0x%04x\n" % device,
            "class": "0x%06x\n" % cls, "subsystem_vendor": "0x%04x\n" % vendor,
            "subsystem_device": "0x0001\n", "revision": "0x01\n", "irq": "16\n",
            "resource": ZERO_RES, "numa_node": "%d\n" % numa,
        }
        if cpus:
            files["local_cpulist"] = cpus + "\n"
        files["uevent"] = ("DRIVER=%s\n" % driver if driver else "") + \
            "PCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:0001\nPCI_SLOT_NAME=%s\n" % (
                cls, vendor, device, vendor, addr)
        for k, v in files.items():
            with open(os.path.join(full, k), "w") as f:
                f.write(v)
        with open(os.path.join(full, "config"), "wb") as f:
            f.write(cfg(vendor, device, cls, hdr, pcie, acs))
        depth = rel.count("/") + 1
        up = "../" * depth
        if driver:
            os.symlink(up + "bus/pci/drivers/" + driver, os.path.join(full, "driver"))
        if group is None:
            group = self.new_group()
        gdir = os.path.join(self.grp_dir, str(group), "devices")
        os.makedirs(gdir, exist_ok=True)
        os.symlink(up + "kernel/iommu_groups/%d" % group, os.path.join(full, "iommu_group"))
        os.symlink("../../../../" + rel, os.path.join(gdir, addr))
        os.symlink("../../../" + rel, os.path.join(self.devs_dir, addr))
        self.count += 1
        return full

    def write(self, rel, text):
        path = os.path.join(self.out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    def link(self, rel, target):
        path = os.path.join(self.out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.symlink(target, path)


def sriov_attrs(pfdir, vfs, offset, stride):
    """A PF's SR-IOV attributes as the kernel writes them: VF k at routing ID
    PF + offset + k * stride."""
    for name, value in (("sriov_totalvfs", vfs), ("sriov_numvfs", vfs),
                        ("sriov_offset", offset), ("sriov_stride", stride)):
        with open(os.path.join(pfdir, name), "w") as f:
            f.write("%d\n" % value)


def server(n, out):
    t = Tree(out, ("pcieport", "nvidia", "snd_hda_intel", "mlx5_core", "vfio-pci"))
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

    while t.count < n:
        rp = next_root_port()
        top = "pci%04x:00" % domain
        t.add([top], rp, 0x8086, 0x1901, 0x060400, "pcieport", hdr=1)
        # GPU + audio
        gpu_bus = bus
        bus += 1
        g = t.new_group()
        t.add([top, rp], "%04x:%02x:00.0" % (domain, gpu_bus), 0x10de, 0x2684, 0x030000,
              "nvidia", hdr=0x80, group=g)
        t.add([top, rp], "%04x:%02x:00.1" % (domain, gpu_bus), 0x10de, 0x22ba, 0x040300,
              "snd_hda_intel", group=g)
        # a NIC PF with up to 248 VFs on the next bus numbers
        if t.count >= n:
            break
        rp2 = next_root_port()
        top = "pci%04x:00" % domain
        t.add([top], rp2, 0x8086, 0x1901, 0x060400, "pcieport", hdr=1)
        pf_bus = bus
        bus += 1
        pf = "%04x:%02x:00.0" % (domain, pf_bus)
        pfdir = t.add([top, rp2], pf, 0x15b3, 0x1017, 0x020000, "mlx5_core")
        vfs = min(248, n - t.count)
        for i in range(vfs):
            fn = i + 8  # VFs from devfn 1.0 on
            addr = "%04x:%02x:%02x.%x" % (domain, pf_bus, fn // 8, fn % 8)
            vdir = t.add([top, rp2], addr, 0x15b3, 0x1018, 0x020000, "mlx5_core")
            os.symlink("../" + pf, os.path.join(vdir, "physfn"))
            os.symlink("../" + addr, os.path.join(pfdir, "virtfn%d" % i))
        sriov_attrs(pfdir, vfs, 8, 1)
    print("%d functions in %s" % (t.count, out))


# hgx(): the board of tests/fixtures/hosts/hgx-h100.host. Two sockets of 56
# cores x 2 threads (NUMA nodes 0 and 1) and four PCIe switches, two a socket,
# each on a root port: (root bus, NUMA node, GPUs share one group, NVSwitches
# behind it). Socket 1's switches leave ACS off on their GPU ports, so each
# GPU pair shares a group with the two ports, as in the published listings.
HGX_NODE_CPUS = ("0-55,112-167", "56-111,168-223")
HGX_SWITCHES = ((0x15, 0, False, 2), (0x37, 0, False, 0),
                (0x97, 1, True, 2), (0xb7, 1, True, 0))
HGX_GPU = (0x10de, 0x2330, 0x030200, "nvidia")       # H100 SXM5 80GB, 3D controller
HGX_NIC = (0x15b3, 0x101d, 0x020000, "mlx5_core")    # ConnectX-6 Dx
HGX_NIC_VF = (0x15b3, 0x101e, 0x020000, "mlx5_core")
HGX_NVSWITCH = (0x10de, 0x22a3, 0x068000, "nvidia")  # bridge: other
HGX_NVME = (0x144d, 0xa824, 0x010802, "nvme")
HGX_SWITCH_PORT = (0x1000, 0xc030, 0x060400, "pcieport")  # Broadcom PEX89104


def hgx(n, out):
    """An HGX H100 8-GPU server of N functions, the NIC VFs making up what the
    board itself does not: per switch a root port, the upstream port, and a
    downstream port each for 2 GPUs, 2 NICs, the NVSwitches and an NVMe."""
    ports = [[HGX_GPU, HGX_GPU, HGX_NIC, HGX_NIC] + [HGX_NVSWITCH] * fab + [HGX_NVME]
             for _, _, _, fab in HGX_SWITCHES]
    # host bridge, ISA + SMBus, BMC root port + bridge + VGA; a switch: root
    # port, upstream port, and a downstream port + endpoint per device
    fixed = 3 + 3 + sum(2 + 2 * len(p) for p in ports)
    nics = sum(p.count(HGX_NIC) for p in ports)
    if n < fixed:
        sys.exit("mksynth: an HGX server has %d functions before any VF, not %d" % (fixed, n))
    vfs = [(n - fixed) // nics + (1 if i < (n - fixed) % nics else 0) for i in range(nics)]
    t = Tree(out, ("pcieport", "nvidia", "mlx5_core", "nvme", "ast", "i801_smbus",
                   "vfio-pci"))

    node0 = HGX_NODE_CPUS[0]
    top = "pci0000:00"
    t.add([top], "0000:00:00.0", 0x8086, 0x09a2, 0x060000, None, pcie=PCI_CONVENTIONAL,
          cpus=node0)
    g = t.new_group()
    t.add([top], "0000:00:1f.0", 0x8086, 0x1b81, 0x060100, None, hdr=0x80, group=g,
          pcie=PCI_CONVENTIONAL, cpus=node0)
    t.add([top], "0000:00:1f.4", 0x8086, 0x1bc9, 0x0c0500, "i801_smbus", group=g,
          pcie=PCI_CONVENTIONAL, cpus=node0)
    # the BMC's AST2600 on conventional PCI behind its AST1150 bridge: boot VGA
    rp = "0000:00:1c.0"
    t.add([top], rp, 0x8086, 0x1bb8, 0x060400, "pcieport", hdr=1, pcie=PCIE_ROOT_PORT,
          acs=True, cpus=node0)
    g = t.new_group()
    t.add([top, rp], "0000:02:00.0", 0x1a03, 0x1150, 0x060400, None, hdr=1, group=g,
          pcie=PCIE_PCI_BRIDGE, cpus=node0)
    vga = t.add([top, rp, "0000:02:00.0"], "0000:03:00.0", 0x1a03, 0x2000, 0x030000, "ast",
                group=g, pcie=PCI_CONVENTIONAL, cpus=node0)
    with open(os.path.join(vga, "boot_vga"), "w") as f:
        f.write("1\n")
    os.makedirs(os.path.join(vga, "drm/card0"))  # ast drives the console

    bus = 0
    pf_index = 0
    for (base, node, shared, _), kinds in zip(HGX_SWITCHES, ports):
        cpus = HGX_NODE_CPUS[node]
        bus = max(base, bus)
        top = "pci0000:%02x" % bus
        rp = "0000:%02x:01.0" % bus
        t.add([top], rp, 0x8086, 0x352a, 0x060400, "pcieport", hdr=1, pcie=PCIE_ROOT_PORT,
              acs=True, numa=node, cpus=cpus)
        us = "0000:%02x:00.0" % (bus + 1)
        t.add([top, rp], us, *HGX_SWITCH_PORT, hdr=1, pcie=PCIE_UPSTREAM, numa=node, cpus=cpus)
        ds_bus = bus + 2
        bus += 3
        pair = t.new_group() if shared else None
        for port, kind in enumerate(kinds):
            together = shared and kind == HGX_GPU
            ds = "0000:%02x:%02x.0" % (ds_bus, port)
            t.add([top, rp, us], ds, *HGX_SWITCH_PORT, hdr=1, pcie=PCIE_DOWNSTREAM,
                  acs=not together, group=pair if together else None, numa=node, cpus=cpus)
            path = [top, rp, us, ds]
            nvf = vfs[pf_index] if kind == HGX_NIC else 0
            if bus + (8 + nvf - 1) // 256 > 0xff:
                sys.exit("mksynth: %d functions need more than 256 buses" % n)
            ep = "0000:%02x:00.0" % bus
            epdir = t.add(path, ep, *kind, group=pair if together else None,
                          pcie=PCIE_ENDPOINT, numa=node, cpus=cpus)
            bus += 1
            if kind != HGX_NIC:
                continue
            # its VFs from devfn 1.0 on, on the next buses past 248 (ARI)
            pf_index += 1
            for i in range(nvf):
                rid = ((bus - 1) << 8) + 8 + i
                addr = "0000:%02x:%02x.%x" % (rid >> 8, (rid >> 3) & 0x1f, rid & 7)
                vdir = t.add(path, addr, *HGX_NIC_VF, pcie=PCIE_ENDPOINT, numa=node, cpus=cpus)
                os.symlink("../" + ep, os.path.join(vdir, "physfn"))
                os.symlink("../" + addr, os.path.join(epdir, "virtfn%d" % i))
            bus += (8 + nvf - 1) // 256 if nvf else 0
            sriov_attrs(epdir, nvf, 8, 1)
    assert t.count == n, (t.count, n)
    print("%d functions in %s: 9 GPUs, 4 NVSwitches, %d NIC VFs" % (t.count, out, n - fixed))


def host_basics(t):
    """What every host has outside the big group, so the guards have real work:
    boot iGPU, the NVMe holding / and the NIC of the default route."""
    top = "pci0000:00"
    t.add([top], "0000:00:00.0", 0x8086, 0x4660, 0x060000, None)
    t.add([top], "0000:00:02.0", 0x8086, 0x4680, 0x030000, "i915")
    with open(os.path.join(t.devs_dir, "0000:00:02.0", "boot_vga"), "w") as f:
        f.write("1\n")
    t.add([top], "0000:00:06.0", 0x8086, 0x464d, 0x060400, "pcieport", hdr=1,
          pcie=PCIE_ROOT_PORT)
    t.add([top, "0000:00:06.0"], "0000:01:00.0", 0x144d, 0xa808, 0x010802, "nvme",
          pcie=PCIE_ENDPOINT)
    t.add([top], "0000:00:1f.6", 0x8086, 0x1a1e, 0x020000, "e1000e")
    t.write("proc/self/mountinfo",
            "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n"
            "23 22 0:21 / /proc rw - proc proc rw\n")
    t.link("sys/dev/block/259:2", "../../devices/pci0000:00/0000:00:06.0/0000:01:00.0"
           "/nvme/nvme0/nvme0n1/nvme0n1p2")
    t.write("proc/net/route",
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
            "eno1\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n")
    t.link("sys/class/net/eno1/device", "../../../devices/pci0000:00/0000:00:1f.6")
    t.write("proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/nvme0n1p2 ro intel_iommu=on\n")
    return 2  # first free bus


def one_group(n, out):
    """N endpoints in one group: PCH root ports 00:1c.0-7 without ACS, each with
    a switch (no ACS) of up to 32 downstream ports, each port a bus of 32 slots
    x 8 functions. The bridges are in the group too, as on a real host."""
    t = Tree(out, ("pcieport", "i915", "nvme", "e1000e", "nvidia", "snd_hda_intel",
                   "igb", "vfio-pci"))
    bus = host_basics(t)
    g = t.new_group()
    top = "pci0000:00"
    left = n
    gpu = ((0x10de, 0x2684, 0x030000, "nvidia"), (0x10de, 0x22ba, 0x040300, "snd_hda_intel"))
    kinds = ((0x8086, 0x1521, 0x020000, "igb"), (0x144d, 0xa808, 0x010802, "nvme"))
    for rp_fn in range(8):
        if left <= 0:
            break
        if bus + 2 > 0xff:
            sys.exit("mksynth: %d endpoints need more than 256 buses" % n)
        rp = "0000:00:1c.%d" % rp_fn
        t.add([top], rp, 0x8086, 0x7ab8, 0x060400, "pcieport", hdr=0x81, group=g,
              pcie=PCIE_ROOT_PORT)
        us = "0000:%02x:00.0" % bus
        t.add([top, rp], us, 0x10b5, 0x8747, 0x060400, "pcieport", hdr=1, group=g,
              pcie=PCIE_UPSTREAM)
        ds_bus = bus + 1
        bus += 2
        for port in range(32):
            if left <= 0:
                break
            if bus > 0xff:
                sys.exit("mksynth: %d endpoints need more than 256 buses" % n)
            ds = "0000:%02x:%02x.0" % (ds_bus, port)
            t.add([top, rp, us], ds, 0x10b5, 0x8747, 0x060400, "pcieport", hdr=1, group=g,
                  pcie=PCIE_DOWNSTREAM)
            for slot in range(32):
                is_gpu = left == n  # the first slot: the dGPU the group is for
                for fn in range(len(gpu) if is_gpu else 8):
                    if left <= 0:
                        break
                    addr = "0000:%02x:%02x.%d" % (bus, slot, fn)
                    ident = gpu[fn] if is_gpu else kinds[slot % 2]
                    t.add([top, rp, us, ds], addr, *ident, hdr=0x80, group=g,
                          pcie=PCIE_ENDPOINT)
                    left -= 1
            bus += 1
    if left > 0:
        sys.exit("mksynth: %d endpoints do not fit behind 8 root ports" % n)
    print("%d functions in %s, %d endpoints in one group" % (t.count, out, n))
    print("group %d" % g)


def main():
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "--one-group":
        one_group(int(args[1]), args[2])
    elif len(args) == 3 and args[0] == "--hgx":
        hgx(int(args[1]), args[2])
    elif len(args) == 2:
        server(int(args[0]), args[1])
    else:
        sys.exit("usage: mksynth.py [--one-group | --hgx] N OUTDIR")


if __name__ == "__main__":
    main()
