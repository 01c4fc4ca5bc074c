#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Turn a fixture host description into a sysroot tree shaped like a real
Linux host (sysfs, procfs, devfs and a few files from /usr, /run, /etc).

    mkhost.py HOSTFILE OUTDIR

The format is documented in tests/fixtures/README.md. The tree is made only
of regular files, directories and *relative* symlinks, so it can be copied
or moved. Exit status: 0 on success, 1 on a bad description (one line on
stderr naming file:line), 2 on usage errors.
"""

import os
import shlex
import struct
import sys


class FixtureError(Exception):
    pass


# ------------------------------------------------------------------ tables

# PCI Express device/port type (PCIe capability register bits 7:4).
PCIE_TYPES = {
    "endpoint": 0x0, "legacy": 0x1, "rootport": 0x4, "upstream": 0x5,
    "downstream": 0x6, "pcibridge": 0x7, "pcie-bridge": 0x8, "rciep": 0x9,
    "rcec": 0xa, "none": None,
}
BRIDGE_PCIE_TYPES = ("rootport", "upstream", "downstream", "pcibridge", "pcie-bridge")

# link speed (GT/s) -> encoding used in LnkCap/LnkSta, and the kernel's string
SPEEDS = {"2.5": 1, "5.0": 2, "8.0": 3, "16.0": 4, "32.0": 5, "64.0": 6}

# Loadable module -> path below lib/modules/<release>/ (real file names).
MODULE_PATHS = {
    "vfio": "kernel/drivers/vfio/vfio.ko",
    "vfio_pci": "kernel/drivers/vfio/pci/vfio-pci.ko",
    "vfio_pci_core": "kernel/drivers/vfio/pci/vfio-pci-core.ko",
    "vfio_iommu_type1": "kernel/drivers/vfio/vfio_iommu_type1.ko",
    "vfio_virqfd": "kernel/drivers/vfio/vfio_virqfd.ko",
    "mlx5_vfio_pci": "kernel/drivers/vfio/pci/mlx5/mlx5-vfio-pci.ko",
    "nvgrace_gpu_vfio_pci": "kernel/drivers/vfio/pci/nvgrace-gpu/nvgrace-gpu-vfio-pci.ko",
    "xe_vfio_pci": "kernel/drivers/vfio/pci/xe/xe-vfio-pci.ko",
    "irqbypass": "kernel/virt/lib/irqbypass.ko",
    "kvm": "kernel/arch/x86/kvm/kvm.ko",
    "kvm_intel": "kernel/arch/x86/kvm/kvm-intel.ko",
    "kvm_amd": "kernel/arch/x86/kvm/kvm-amd.ko",
    "mdev": "kernel/drivers/vfio/mdev/mdev.ko",
    "i915": "kernel/drivers/gpu/drm/i915/i915.ko",
    "amdgpu": "kernel/drivers/gpu/drm/amd/amdgpu/amdgpu.ko",
    "xe": "kernel/drivers/gpu/drm/xe/xe.ko",
    "nouveau": "kernel/drivers/gpu/drm/nouveau/nouveau.ko",
    "ast": "kernel/drivers/gpu/drm/ast/ast.ko",
    "nvidia": "updates/dkms/nvidia.ko",
    "nvidia_drm": "updates/dkms/nvidia-drm.ko",
    "nvidia_modeset": "updates/dkms/nvidia-modeset.ko",
    "gim": "updates/dkms/gim.ko",
    "snd_hda_intel": "kernel/sound/pci/hda/snd-hda-intel.ko",
    "xhci_pci": "kernel/drivers/usb/host/xhci-pci.ko",
    "i2c_nvidia_gpu": "kernel/drivers/i2c/busses/i2c-nvidia-gpu.ko",
    "i2c_i801": "kernel/drivers/i2c/busses/i2c-i801.ko",
    "i2c_piix4": "kernel/drivers/i2c/busses/i2c-piix4.ko",
    "ahci": "kernel/drivers/ata/ahci.ko",
    "nvme": "kernel/drivers/nvme/host/nvme.ko",
    "e1000e": "kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko",
    "igb": "kernel/drivers/net/ethernet/intel/igb/igb.ko",
    "igc": "kernel/drivers/net/ethernet/intel/igc/igc.ko",
    "ixgbe": "kernel/drivers/net/ethernet/intel/ixgbe/ixgbe.ko",
    "i40e": "kernel/drivers/net/ethernet/intel/i40e/i40e.ko",
    "iavf": "kernel/drivers/net/ethernet/intel/iavf/iavf.ko",
    "r8169": "kernel/drivers/net/ethernet/realtek/r8169.ko",
    "tg3": "kernel/drivers/net/ethernet/broadcom/tg3.ko",
    "mlx5_core": "kernel/drivers/net/ethernet/mellanox/mlx5/core/mlx5_core.ko",
    "iwlwifi": "kernel/drivers/net/wireless/intel/iwlwifi/iwlwifi.ko",
    "mei_me": "kernel/drivers/misc/mei/mei-me.ko",
    "intel_pch_thermal": "kernel/drivers/thermal/intel/intel_pch_thermal.ko",
    "snd_sof_pci_intel_tgl": "kernel/sound/soc/sof/intel/snd-sof-pci-intel-tgl.ko",
    "k10temp": "kernel/drivers/hwmon/k10temp.ko",
    "ccp": "kernel/drivers/crypto/ccp/ccp.ko",
    "mpt3sas": "kernel/drivers/scsi/mpt3sas/mpt3sas.ko",
}
# What each module needs (for modules.dep and proc/modules' "used by").
MODULE_DEPS = {
    "vfio_pci": ["vfio_pci_core", "vfio", "irqbypass"],
    "vfio_pci_core": ["vfio", "irqbypass"],
    "mlx5_vfio_pci": ["vfio_pci_core", "vfio", "irqbypass", "mlx5_core"],
    "nvgrace_gpu_vfio_pci": ["vfio_pci_core", "vfio", "irqbypass"],
    "xe_vfio_pci": ["vfio_pci_core", "vfio", "irqbypass"],
    "vfio_iommu_type1": ["vfio"],
    "mdev": ["vfio"],
    "kvm": ["irqbypass"],
    "kvm_intel": ["kvm"],
    "kvm_amd": ["kvm", "ccp"],
    "nvidia_drm": ["nvidia_modeset"],
    "nvidia_modeset": ["nvidia"],
}
# PCI driver name (as in /sys/bus/pci/drivers) -> module; None = built in.
DRIVER_MODULES = {
    "pcieport": None, "shpchp": None,
    "vfio-pci": "vfio_pci", "xe-vfio-pci": "xe_vfio_pci",
    "xhci_hcd": "xhci_pci", "nvidia-gpu": "i2c_nvidia_gpu",
    "i801_smbus": "i2c_i801", "piix4_smbus": "i2c_piix4",
    "sof-audio-pci-intel-tgl": "snd_sof_pci_intel_tgl",
}
# Loaded module -> PCI driver directory it registers (sys/bus/pci/drivers/NAME,
# sys/module/MOD/drivers/pci:NAME).
MODULE_PCI_DRIVERS = {
    "vfio_pci": "vfio-pci", "mlx5_vfio_pci": "mlx5_vfio_pci",
    "nvgrace_gpu_vfio_pci": "nvgrace_gpu_vfio_pci", "xe_vfio_pci": "xe-vfio-pci",
}
# Module -> its vfio_pci: aliases in modules.alias (the PCI_DRIVER_OVERRIDE_DEVICE_VFIO
# entries of its id table, as modpost writes them): vfio-pci's own matches any
# device; the variant drivers' ids are the upstream tables' (mlx5/main.c,
# nvgrace-gpu/main.c; xe/main.c takes INTEL_BMG_IDS and INTEL_PTL_IDS, a few here).
MODULE_VFIO_ALIASES = {
    "vfio_pci": ["v*d*sv*sd*bc*sc*i*"],
    "mlx5_vfio_pci": ["v000015B3d0000101Esv*sd*bc*sc*i*"],
    "nvgrace_gpu_vfio_pci": ["v000010DEd0000%04Xsv*sd*bc*sc*i*" % d
                             for d in (0x2342, 0x2345, 0x2348, 0x2941, 0x31C2)],
    "xe_vfio_pci": ["v00008086d0000%04Xsv*sd*bc*sc*i*" % d
                    for d in (0xE20B, 0xE20C, 0xE211, 0xE212, 0xB080)],
}

BASE_CPU_FLAGS = (
    "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush "
    "mmx fxsr sse sse2 ht syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl "
    "xtopology nonstop_tsc cpuid aperfmperf pni pclmulqdq ssse3 fma cx16 pcid sse4_1 "
    "sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand lahf_lm abm 3dnowprefetch "
    "fsgsbase bmi1 avx2 smep bmi2 erms invpcid rdseed adx smap clflushopt xsaveopt "
    "xsavec xgetbv1 xsaves arat umip"
).split()

# Keys a `dev` line accepts.
DEV_KEYS = {
    "parent", "class", "id", "sub", "rev", "group", "driver", "override", "boot_vga",
    "numa", "cpus", "reset", "pcie", "link", "maxlink", "power", "acs", "vfs", "totalvfs",
    "physfn", "drm", "fb", "fbname", "config", "irq", "slot", "runtime",
    "vgpu_types", "vgpu_current", "bars", "reset_attr", "nosoftrst", "stuck",
}
# BAR kinds of `bars=` -> the flags the kernel prints in `resource`, and whether
# the BAR takes two BAR registers (64-bit).
BAR_KINDS = {
    "mem32": (0x00040200, False), "pref32": (0x00042208, False),
    "mem64": (0x00140204, True), "pref64": (0x0014220c, True), "io": (0x00040101, False),
}
SIZE_SUFFIX = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
# Keys of the mediated-device lines (mdevtype, mdev, mdevctl).
MDEVTYPE_KEYS = {"name", "description", "available", "api"}
MDEV_KEYS = {"parent", "type", "group", "driver"}
MDEVCTL_KEYS = {"type", "start", "attrs"}
# Keys of a `usb` line.
SMBIOS_SLOT_KEYS = {"port", "bdf", "gen", "width", "type", "usage", "id", "version"}
USB_KEYS = {"controller", "id", "dev", "class", "manufacturer", "product"}


# ------------------------------------------------------------------ helpers

def is_vfio_driver(drv):
    """vfio-pci or a vendor's variant (mlx5_vfio_pci, xe-vfio-pci), as
    vfk_driver_is_vfio() says."""
    return bool(drv) and (drv == "vfio-pci" or drv.endswith("vfio_pci") or
                          drv.endswith("-vfio-pci"))


def parse_addr(s, where):
    parts = s.split(":")
    try:
        if len(parts) == 2:
            parts = ["0000"] + parts
        if len(parts) != 3 or "." not in parts[2]:
            raise ValueError
        dev, fn = parts[2].split(".")
        a = (int(parts[0], 16), int(parts[1], 16), int(dev, 16), int(fn, 16))
        if a[0] > 0xffff or a[1] > 0xff or a[2] > 31 or a[3] > 7:
            raise ValueError
        return a
    except ValueError:
        raise FixtureError("%s: bad PCI address '%s'" % (where, s))


def fmt_addr(a):
    return "%04x:%02x:%02x.%x" % a


def parse_hexid(s, where, bits=16):
    try:
        v = int(s, 16)
    except ValueError:
        raise FixtureError("%s: bad hex value '%s'" % (where, s))
    if v >= 1 << bits:
        raise FixtureError("%s: value '%s' too large" % (where, s))
    return v


def parse_cpulist(s):
    cpus = set()
    if not s:
        return cpus
    for part in s.split(","):
        if "-" in part:
            a, b = part.split("-")
            cpus.update(range(int(a), int(b) + 1))
        else:
            cpus.add(int(part))
    return cpus


def fmt_cpulist(cpus):
    out, cpus = [], sorted(cpus)
    i = 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        out.append(str(cpus[i]) if i == j else "%d-%d" % (cpus[i], cpus[j]))
        i = j + 1
    return ",".join(out)


def fmt_cpumask(cpus, nbits):
    """The kernel's %*pb bitmap format: 32-bit hex chunks, comma separated."""
    mask = 0
    for c in cpus:
        mask |= 1 << c
    chunks = []
    nchunks = max(1, (nbits + 31) // 32)
    for i in range(nchunks - 1, -1, -1):
        v = (mask >> (32 * i)) & 0xffffffff
        if i == nchunks - 1 and nbits % 32:
            width = (nbits % 32 + 3) // 4
        else:
            width = 8
        chunks.append("%0*x" % (width, v))
    return ",".join(chunks)


def parse_speed(s, where):
    s = s.strip()
    if s.lower().endswith("gt/s"):
        s = s[:-4]
    try:
        s = "%.1f" % float(s)
    except ValueError:
        raise FixtureError("%s: bad link speed '%s'" % (where, s))
    if s not in SPEEDS:
        raise FixtureError("%s: unknown link speed '%s'" % (where, s))
    return s


def parse_link(s, where):
    # "16.0GT/s,x16"
    try:
        speed, width = s.split(",")
        if not width.startswith("x"):
            raise ValueError
        return parse_speed(speed, where), int(width[1:])
    except ValueError:
        raise FixtureError("%s: bad link '%s' (want e.g. 16.0GT/s,x16)" % (where, s))


class Tree:
    """Writes below OUTDIR; every path given is relative to it."""

    def __init__(self, root):
        self.root = root

    def p(self, rel):
        return os.path.join(self.root, rel)

    def mkdir(self, rel):
        os.makedirs(self.p(rel), exist_ok=True)

    def write(self, rel, data, mode=0o644):
        path = self.p(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if isinstance(data, str):
            data = data.encode()
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)

    def attr(self, rel, value, mode=0o444):
        """A sysfs attribute: value plus newline."""
        self.write(rel, "%s\n" % value, mode)

    def symlink(self, rel, target_rel):
        """Relative symlink at rel pointing at target_rel, written the way the
        kernel writes sysfs links: up to the target's parent, then its name."""
        link_dir = os.path.dirname(rel)
        up = os.path.relpath(os.path.dirname(target_rel) or ".", link_dir or ".")
        target = os.path.basename(target_rel) if up == "." else \
            os.path.join(up, os.path.basename(target_rel))
        path = self.p(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(target, path)


def parse_bars(s, where):
    """bars=16M,32G:pref64,128:io -> [(size, kind) or None per BAR register]"""
    regs = []
    for item in [x for x in s.split(",") if x]:
        size_s, _, kind = item.partition(":")
        kind = kind or "mem32"
        num, suf = size_s.rstrip("KMGT"), size_s[len(size_s.rstrip("KMGT")):]
        if kind not in BAR_KINDS or not num.isdigit() or suf not in SIZE_SUFFIX:
            raise FixtureError("%s: bars: '%s' is not SIZE[:mem32|pref32|mem64|pref64|io]"
                               % (where, item))
        size = int(num) * SIZE_SUFFIX[suf]
        if size < 16 and kind != "io" or size & (size - 1):
            raise FixtureError("%s: bars: %s is not a power of two of at least 16" % (where, item))
        regs.append((size, kind))
        if BAR_KINDS[kind][1]:
            regs.append(None)   # the upper half of a 64-bit BAR
    if len(regs) > 6:
        raise FixtureError("%s: bars: more than 6 BAR registers" % where)
    return regs


# ------------------------------------------------------------------ model

class Dev:
    def __init__(self, addr, where):
        self.addr = addr
        self.name = fmt_addr(addr)
        self.where = where
        self.o = {}
        self.children = []
        self.vfs = []
        self.parent = None
        self.pf = None
        self.path = None
        self.secondary = None
        self.subordinate = None

    # parsed views of the options ---------------------------------------
    def setup(self, host):
        o, w = self.o, self.where
        if "class" not in o or "id" not in o:
            raise FixtureError("%s: dev %s needs class= and id=" % (w, self.name))
        c = o["class"]
        if len(c) != 6:
            raise FixtureError("%s: class must be 6 hex digits (e.g. 030000)" % w)
        self.cls = parse_hexid(c, w, 24)
        v, d = (o["id"].split(":") + [""])[:2]
        self.vendor, self.device = parse_hexid(v, w), parse_hexid(d, w)
        if "sub" in o:
            sv, sd = (o["sub"].split(":") + [""])[:2]
            self.svendor, self.sdevice = parse_hexid(sv, w), parse_hexid(sd, w)
        else:
            self.svendor, self.sdevice = 0, 0
        self.rev = parse_hexid(o.get("rev", "00"), w, 8)
        self.is_bridge = (self.cls >> 8) in (0x0604, 0x0609)
        self.group = int(o["group"]) if "group" in o else None
        self.driver = o.get("driver")
        self.override = o.get("override")
        self.boot_vga = o.get("boot_vga", "0") == "1"
        if self.boot_vga and (self.cls >> 8) != 0x0300:
            raise FixtureError("%s: boot_vga=1 on a device that is not class 0300" % w)
        self.numa = int(o.get("numa", "-1"))
        self.irq = int(o.get("irq", "0"))
        self.reset = [m for m in o.get("reset", "").split(",") if m and m != "none"]
        self.reset_attr = self.flag("reset_attr", "1")
        self.nosoftrst = self.flag("nosoftrst", "1")
        self.stuck = self.flag("stuck", "0")
        self.power = o.get("power", "D0")
        if self.power not in ("D0", "D1", "D2", "D3hot", "D3cold", "unknown"):
            raise FixtureError("%s: power must be D0, D1, D2, D3hot or D3cold" % w)
        self.acs = o.get("acs", "none")
        if self.acs not in ("enabled", "disabled", "partial", "none"):
            raise FixtureError("%s: acs must be enabled, disabled, partial or none" % w)
        self.totalvfs = int(o.get("totalvfs", "0"))
        self.numvfs = int(o.get("vfs", "0"))
        if self.numvfs > self.totalvfs:
            raise FixtureError("%s: vfs=%d exceeds totalvfs=%d" % (w, self.numvfs, self.totalvfs))
        self.drm = [x for x in o.get("drm", "").split(",") if x]
        self.fb = int(o["fb"]) if o.get("fb") else None  # "fb=" unsets an included one
        self.config_size = int(o["config"]) if "config" in o else None
        if self.config_size is not None and self.config_size not in (64, 256, 4096):
            raise FixtureError("%s: config must be 64, 256 or 4096" % w)
        self.bars = parse_bars(o.get("bars", ""), w)
        self.link = parse_link(o["link"], w) if "link" in o else None
        self.maxlink = parse_link(o["maxlink"], w) if "maxlink" in o else self.link

    def flag(self, key, dflt):
        v = self.o.get(key, dflt)
        if v not in ("0", "1"):
            raise FixtureError("%s: %s must be 0 or 1" % (self.where, key))
        return v == "1"

    def pcie_type(self):
        t = self.o.get("pcie")
        if t is None:
            if (self.cls >> 8) == 0x0600:
                t = "none"
            elif self.is_bridge:
                if self.parent is None:
                    t = "rootport"
                elif self.parent.pcie_type() in ("rootport", "downstream"):
                    t = "upstream"
                else:
                    t = "downstream"
            elif self.parent is None:
                t = "rciep"
            elif self.parent.pcie_type() == "pcibridge":
                t = "none"
            else:
                t = "endpoint"
        if t not in PCIE_TYPES:
            raise FixtureError("%s: unknown pcie type '%s'" % (self.where, t))
        return t

    @property
    def is_pcie(self):
        return PCIE_TYPES[self.pcie_type()] is not None

    @property
    def header_type(self):
        return 1 if self.is_bridge else 0


class Host:
    def __init__(self):
        self.devs = {}
        self.order = []
        self.defaults = {}
        self.cmdline = "BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=UUID=6b1e1c52-7a5e-4a8e-9a53-0f6bd3f2c9a1 ro quiet"
        self.kernel = "6.1.0-18-amd64"
        self.cpu = {"vendor": "GenuineIntel", "cores": "4", "threads": "2"}
        self.kvm = "present"
        self.iommu = "intel"
        self.irq_remap = "yes"
        self.modules = {"loaded": [], "available": [], "builtin": []}
        self.modules_support = True
        self.hugepages = {}
        self.ovmf = "no"
        self.libvirt = "no"
        self.qemu = "no"
        self.fbs = []
        self.vtcon = None
        self.mem_kb = 16 * 1024 * 1024
        self.nodes = {}
        self.bootloader = None
        self.acpi = None
        self.node_hugepages = {}    # (node, "2M"|"1G") -> (total, free, where)
        self.mdev_types = []    # (parent, id, kv, where)
        self.mdevs = []         # (uuid, kv, where)
        self.mdevctl = []       # (parent, uuid, kv, where)
        self.dmi = {}           # chassis=, vendor=, product=
        self.batteries = []     # power_supply names of type Battery
        self.processes = []     # (pid, kv, where)
        self.usb = []           # (name, kv, where)
        self.rootdisk = None    # (addr, majmin, where)
        self.routes = []        # (iface, addr, where)
        self.smbios_slots = []  # (designation, kv, where): SMBIOS type 9 entries
        self.pci_slots = []     # (name, kv, where): bus/pci/slots/NAME
        self.bar_next = {"m32": 0xe0000000, "m64": 0x6000000000, "io": 0x3000}

    # ------------------------------------------------------- parsing
    def parse_file(self, path, depth=0):
        if depth > 8:
            raise FixtureError("%s: include nesting too deep" % path)
        try:
            with open(path) as f:
                lines = f.read().split("\n")
        except OSError as e:
            raise FixtureError("%s: %s" % (path, e.strerror))
        buf, start = "", 0
        for n, line in enumerate(lines, 1):
            if not buf:
                start = n
            if line.rstrip().endswith("\\"):
                buf += line.rstrip()[:-1] + " "
                continue
            buf += line
            where = "%s:%d" % (os.path.basename(path), start)
            try:
                words = shlex.split(buf, comments=True)
            except ValueError as e:
                raise FixtureError("%s: %s" % (where, e))
            buf = ""
            if words:
                self.parse_line(words, where, os.path.dirname(path), depth)

    @staticmethod
    def kv(words, where, allowed=None):
        out = {}
        for w in words:
            if "=" not in w:
                raise FixtureError("%s: expected key=value, got '%s'" % (where, w))
            k, v = w.split("=", 1)
            if allowed is not None and k not in allowed:
                raise FixtureError("%s: unknown key '%s'" % (where, k))
            out[k] = v
        return out

    def one_of(self, words, where, choices):
        if len(words) != 2 or words[1] not in choices:
            raise FixtureError("%s: %s takes one of: %s" % (where, words[0], ", ".join(choices)))
        return words[1]

    def parse_line(self, words, where, basedir, depth):
        kw = words[0]
        if kw == "include":
            if len(words) != 2:
                raise FixtureError("%s: include takes one file name" % where)
            self.parse_file(os.path.join(basedir, words[1]), depth + 1)
        elif kw == "dev":
            if len(words) < 2:
                raise FixtureError("%s: dev needs an address" % where)
            addr = parse_addr(words[1], where)
            opts = self.kv(words[2:], where, DEV_KEYS)
            d = self.devs.get(addr)
            if d is None:
                d = Dev(addr, where)
                self.devs[addr] = d
                self.order.append(d)
            d.o.update(opts)
        elif kw == "nodev":
            addr = parse_addr(words[1], where) if len(words) == 2 else None
            if addr not in self.devs:
                raise FixtureError("%s: nodev of an unknown device" % where)
            self.order.remove(self.devs.pop(addr))
        elif kw == "default":
            self.defaults.update(self.kv(words[1:], where, DEV_KEYS))
        elif kw == "cmdline":
            self.cmdline = " ".join(words[1:])
        elif kw == "kernel":
            if len(words) != 2:
                raise FixtureError("%s: kernel takes a release string" % where)
            self.kernel = words[1]
        elif kw == "cpu":
            self.cpu.update(self.kv(words[1:], where,
                                    {"vendor", "model", "family", "modelnum", "flags",
                                     "cores", "threads", "sockets", "mhz", "dies", "l3",
                                     "physbits"}))
            if self.cpu["vendor"] not in ("GenuineIntel", "AuthenticAMD"):
                raise FixtureError("%s: cpu vendor must be GenuineIntel or AuthenticAMD" % where)
            if not self.cpu.get("physbits", "39").isdigit() or \
                    not 32 <= int(self.cpu.get("physbits", "39")) <= 64:
                raise FixtureError("%s: cpu physbits must be a number from 32 to 64" % where)
        elif kw == "kvm":
            self.kvm = self.one_of(words, where, ("present", "absent", "pvm"))
        elif kw == "iommu":
            self.iommu = self.one_of(words, where, ("intel", "amd", "off"))
        elif kw == "irq_remap":
            self.irq_remap = self.one_of(words, where, ("yes", "no"))
        elif kw == "modules":
            if words[1:] == ["none"]:
                self.modules_support = False
                return
            self.modules_support = True
            for k, v in self.kv(words[1:], where, {"loaded", "available", "builtin"}).items():
                self.modules[k] = [m.replace("-", "_") for m in v.split(",") if m]
        elif kw == "hugepages":
            if len(words) < 2 or words[1] not in ("2M", "1G"):
                raise FixtureError("%s: hugepages 2M|1G total=N free=N" % where)
            kv = self.kv(words[2:], where, {"total", "free", "node"})
            total = int(kv.get("total", "0"))
            if "node" in kv:    # per-node pool; the global counts are the sums
                self.node_hugepages[(int(kv["node"]), words[1])] = \
                    (total, int(kv.get("free", total)), where)
            else:
                self.hugepages[words[1]] = (total, int(kv.get("free", total)))
        elif kw == "ovmf":
            self.ovmf = self.one_of(words, where, ("yes", "no"))
        elif kw == "libvirt":
            self.libvirt = self.one_of(words, where, ("yes", "no"))
        elif kw == "qemu":
            self.qemu = self.one_of(words, where, ("yes", "no"))
        elif kw == "fb":
            kv = self.kv(words[1:], where, {"name", "index", "device"})
            self.fbs.append(kv)
        elif kw == "vtcon":
            kv = self.kv(words[1:], where, {"bind"})
            self.vtcon = kv.get("bind", "1")
        elif kw == "mem":
            self.mem_kb = int(self.kv(words[1:], where, {"total_kb"})["total_kb"])
        elif kw == "node":
            if len(words) < 2:
                raise FixtureError("%s: node N cpus=LIST" % where)
            kv = self.kv(words[2:], where, {"cpus", "mem_kb"})
            self.nodes[int(words[1])] = kv
        elif kw == "bootloader":
            self.bootloader = self.one_of(words, where, ("grub", "systemd-boot"))
        elif kw == "acpi":
            self.acpi = [t for t in words[1:] if t != "none"]
        elif kw == "mdevtype":
            if len(words) < 3:
                raise FixtureError("%s: mdevtype PARENT ID available=N [name=..] "
                                   "[description=..] [api=..]" % where)
            self.mdev_types.append((words[1], words[2],
                                    self.kv(words[3:], where, MDEVTYPE_KEYS), where))
        elif kw == "mdev":
            if len(words) < 2:
                raise FixtureError("%s: mdev UUID parent=P type=ID group=N" % where)
            self.mdevs.append((words[1].lower(), self.kv(words[2:], where, MDEV_KEYS), where))
        elif kw == "mdevctl":
            if len(words) < 3:
                raise FixtureError("%s: mdevctl PARENT UUID type=ID [start=auto|manual]" % where)
            self.mdevctl.append((words[1], words[2].lower(),
                                 self.kv(words[3:], where, MDEVCTL_KEYS), where))
        elif kw == "dmi":
            self.dmi.update(self.kv(words[1:], where, {"chassis", "vendor", "product"}))
        elif kw == "battery":
            if len(words) != 2:
                raise FixtureError("%s: battery takes a power_supply name (BAT0)" % where)
            self.batteries.append(words[1])
        elif kw == "process":
            if len(words) < 2 or not words[1].isdigit():
                raise FixtureError("%s: process PID comm=NAME [fds=/dev/a,/dev/b]" % where)
            self.processes.append((int(words[1]), self.kv(words[2:], where, {"comm", "fds"}),
                                   where))
        elif kw == "usb":
            if len(words) < 2:
                raise FixtureError("%s: usb NAME controller=ADDR id=VVVV:PPPP dev=N" % where)
            self.usb.append((words[1], self.kv(words[2:], where, USB_KEYS), where))
        elif kw == "rootdisk":
            if len(words) < 2:
                raise FixtureError("%s: rootdisk ADDR [majmin=259:2]" % where)
            kv = self.kv(words[2:], where, {"majmin"})
            self.rootdisk = (parse_addr(words[1], where), kv.get("majmin", "259:2"), where)
        elif kw == "smbios-slot":
            if len(words) < 2:
                raise FixtureError("%s: smbios-slot NAME [port=ADDR|bdf=ADDR] [gen=N] [width=N] "
                                   "[type=pcie|m2|pci] [usage=..] [id=N] [version=..]" % where)
            self.smbios_slots.append((words[1], self.kv(words[2:], where, SMBIOS_SLOT_KEYS), where))
        elif kw == "pcislot":
            if len(words) < 2 or "/" in words[1] or words[1].startswith("."):
                raise FixtureError("%s: pcislot NAME port=ADDR|address=TEXT" % where)
            self.pci_slots.append((words[1], self.kv(words[2:], where, {"port", "address"}), where))
        elif kw == "route":
            if len(words) != 3:
                raise FixtureError("%s: route IFACE ADDR" % where)
            self.routes.append((words[1], parse_addr(words[2], where), where))
        else:
            raise FixtureError("%s: unknown line '%s'" % (where, kw))

    # ------------------------------------------------------- model
    def resolve(self):
        for d in self.order:
            for k, v in self.defaults.items():
                d.o.setdefault(k, v)
            d.setup(self)
        for d in self.order:
            if "physfn" in d.o:
                pf = self.devs.get(parse_addr(d.o["physfn"], d.where))
                if pf is None:
                    raise FixtureError("%s: physfn %s not declared" % (d.where, d.o["physfn"]))
                d.pf = pf
                pf.vfs.append(d)
                if "parent" not in d.o and "parent" in pf.o:
                    d.o["parent"] = pf.o["parent"]
            if "parent" in d.o:
                p = self.devs.get(parse_addr(d.o["parent"], d.where))
                if p is None:
                    raise FixtureError("%s: parent %s not declared" % (d.where, d.o["parent"]))
                if not p.is_bridge:
                    raise FixtureError("%s: parent %s is not a bridge" % (d.where, p.name))
                d.parent = p
                p.children.append(d)
        for d in self.order:
            if d.vfs and len(d.vfs) != d.numvfs:
                raise FixtureError("%s: vfs=%d but %d VFs declare physfn=%s"
                                   % (d.where, d.numvfs, len(d.vfs), d.name))
            if d.numvfs and not d.vfs:
                raise FixtureError("%s: vfs=%d but no dev line has physfn=%s"
                                   % (d.where, d.numvfs, d.name))
            if self.iommu == "off" and d.group is not None:
                raise FixtureError("%s: group= on a host with 'iommu off'" % d.where)
            d.vfs.sort(key=lambda v: v.addr)
            d.children.sort(key=lambda c: c.addr)
        # bus numbers: a bridge's secondary bus is its children's bus
        used = {(d.addr[0], d.addr[1]) for d in self.order}
        for d in self.order:
            if d.is_bridge and d.children:
                buses = {c.addr[1] for c in d.children}
                if len(buses) != 1 or any(c.addr[0] != d.addr[0] for c in d.children):
                    raise FixtureError("%s: children of %s are on different buses"
                                       % (d.where, d.name))
                d.secondary = buses.pop()
                if d.secondary <= d.addr[1]:
                    raise FixtureError("%s: children of %s must be on a higher bus"
                                       % (d.where, d.name))
        for d in self.order:
            if d.is_bridge and not d.children:
                b = max(bus for dom, bus in used if dom == d.addr[0]) + 1
                used.add((d.addr[0], b))
                d.secondary = b

        def subordinate(d):
            s = d.secondary
            for c in d.children:
                if c.is_bridge:
                    s = max(s, subordinate(c))
            d.subordinate = s
            return s
        for d in self.order:
            if d.is_bridge and d.parent is None:
                subordinate(d)
        for d in self.order:
            if d.is_bridge and d.subordinate is None:
                subordinate(d)
        # sysfs paths
        for d in self.order:
            chain, p = [], d
            while p is not None:
                chain.append(p.name)
                if p.parent is None:
                    chain.append("pci%04x:%02x" % (p.addr[0], p.addr[1]))
                p = p.parent
                if len(chain) > 64:
                    raise FixtureError("%s: parent loop" % d.where)
            d.path = "sys/devices/" + "/".join(reversed(chain))
        # cpus
        self.ncpus = int(self.cpu.get("cores", "4")) * int(self.cpu.get("threads", "1")) * \
            int(self.cpu.get("sockets", "1"))
        if not self.nodes:
            self.nodes = {0: {"cpus": "0-%d" % (self.ncpus - 1)}}
        cores = int(self.cpu.get("cores", "4"))
        for k in ("dies", "l3"):
            per = int(self.cpu.get(k, "1"))
            if per < 1 or cores % per:
                raise FixtureError("cpu %s=%d must divide cores=%d" % (k, per, cores))
        for size in ("2M", "1G"):
            per_node = [(n, v) for (n, sz), v in self.node_hugepages.items() if sz == size]
            for n, v in per_node:
                if n not in self.nodes:
                    raise FixtureError("%s: hugepages node=%d: no such node" % (v[2], n))
            if per_node:
                if size in self.hugepages:
                    raise FixtureError("%s: hugepages %s given both per node and for the "
                                       "whole host" % (per_node[0][1][2], size))
                self.hugepages[size] = (sum(v[0] for _, v in per_node),
                                        sum(v[1] for _, v in per_node))
        self.order.sort(key=lambda d: d.addr)

    def multifunction(self, d):
        if d.pf is not None:
            return False
        return any(o is not d and o.pf is None and o.addr[:3] == d.addr[:3] for o in self.order)

    def vga_path(self, d):
        """True when the boot VGA device is below bridge d (VGA Enable)."""
        for c in d.children:
            if c.boot_vga or (c.is_bridge and self.vga_path(c)):
                return True
        return False

    # ------------------------------------------------------- config space
    def config_space(self, d):
        pcie = d.is_pcie
        size = 4096 if pcie else 256
        cfg = bytearray(size)

        def w8(off, v):
            cfg[off] = v & 0xff

        def w16(off, v):
            struct.pack_into("<H", cfg, off, v & 0xffff)

        def w32(off, v):
            struct.pack_into("<I", cfg, off, v & 0xffffffff)

        if d.pf is not None:     # SR-IOV VFs read 0xffff as vendor/device
            w16(0x00, 0xffff)
            w16(0x02, 0xffff)
        else:
            w16(0x00, d.vendor)
            w16(0x02, d.device)
        bound = d.driver is not None
        w16(0x04, 0x0407 if (bound or d.is_bridge) else (0x0003 if d.boot_vga else 0x0000))
        w16(0x06, 0x0010)                     # capabilities list
        w8(0x08, d.rev)
        w8(0x09, d.cls & 0xff)
        w8(0x0a, (d.cls >> 8) & 0xff)
        w8(0x0b, (d.cls >> 16) & 0xff)
        w8(0x0c, 0x10)                        # cache line size
        w8(0x0e, d.header_type | (0x80 if self.multifunction(d) else 0))
        w8(0x3c, d.irq & 0xff)
        w8(0x3d, 0 if d.pf is not None else 1)
        if d.header_type == 1:
            w8(0x18, d.addr[1])
            w8(0x19, d.secondary)
            w8(0x1a, d.subordinate)
            w8(0x1c, 0xf0)                    # I/O window closed
            w8(0x1d, 0x00)
            w16(0x20, 0xfff0)                 # memory window closed
            w16(0x22, 0x0000)
            w16(0x24, 0xfff1)                 # 64-bit prefetchable window closed
            w16(0x26, 0x0001)
            w16(0x3e, 0x0018 if self.vga_path(d) else 0x0000)   # VGA Enable + VGA16
        else:
            w16(0x2c, d.svendor)
            w16(0x2e, d.sdevice)
            for i, (start, _, flags) in enumerate(self.bar_layout(d)[:6]):
                if flags & 0x100:       # I/O: bit 0 set
                    w32(0x10 + 4 * i, start | 1)
                elif flags:             # memory: type and prefetchable bits as the flags say
                    w32(0x10 + 4 * i, start | (flags & 0xf))
                    if flags & 0x4:
                        w32(0x14 + 4 * i, start >> 32)

        # standard capabilities: PM -> MSI -> PCIe -> SSVID (bridges)
        caps = [0x40, 0x50]
        if pcie:
            caps.append(0x60)
        if d.header_type == 1 and (d.svendor or d.sdevice):
            caps.append(0xa0)
        w8(0x34, caps[0])

        def link_next(i):
            return caps[i + 1] if i + 1 < len(caps) else 0

        pmstate = {"D0": 0, "D1": 1, "D2": 2, "D3hot": 3, "D3cold": 3, "unknown": 0}[d.power]
        w8(0x40, 0x01)
        w8(0x41, link_next(0))
        w16(0x42, 0xc803)                     # PM version 3, PME from D0/D3hot/D3cold
        w16(0x44, (0x0008 if d.nosoftrst else 0) | pmstate)   # NoSoftRst, power state
        w8(0x50, 0x05)
        w8(0x51, link_next(1))
        w16(0x52, 0x0080 | (1 if bound else 0))  # 64-bit MSI
        if pcie:
            self.pcie_cap(d, cfg, 0x60, link_next(2))
        if 0xa0 in caps:
            w8(0xa0, 0x0d)
            w8(0xa1, 0)
            w16(0xa4, d.svendor)
            w16(0xa6, d.sdevice)

        if pcie and d.pcie_type() not in ("rciep", "rcec"):
            self.ext_caps(d, cfg)
        elif pcie and (d.acs != "none" or d.totalvfs):
            self.ext_caps(d, cfg)

        if d.power == "D3cold" or d.stuck:    # the device does not answer
            cfg = bytearray(b"\xff" * size)
        if d.config_size is not None:
            cfg = cfg[:d.config_size]
        return bytes(cfg)

    def pcie_cap(self, d, cfg, off, nxt):
        t = d.pcie_type()
        port = t in ("rootport", "downstream")
        cap = 0x0002 | (PCIE_TYPES[t] << 4) | (0x0100 if port else 0)
        struct.pack_into("<BBH", cfg, off, 0x10, nxt, cap)
        devcap = 0x1 | (1 << 15) | ((1 << 28) if "flr" in d.reset else 0)
        struct.pack_into("<I", cfg, off + 0x04, devcap)
        struct.pack_into("<H", cfg, off + 0x08, 0x2030)
        if t not in ("rciep", "rcec"):
            mx = d.maxlink or ("8.0", 1)
            cur = d.link or mx
            lnkcap = SPEEDS[mx[0]] | (mx[1] << 4) | (0x3 << 10) | (d.addr[2] << 24)
            if port:
                lnkcap |= 1 << 20             # data link layer active reporting
            struct.pack_into("<I", cfg, off + 0x0c, lnkcap)
            struct.pack_into("<H", cfg, off + 0x10, 0x0040)
            lnksta = SPEEDS[cur[0]] | (cur[1] << 4) | (1 << 12) | ((1 << 13) if port else 0)
            struct.pack_into("<H", cfg, off + 0x12, lnksta)
            struct.pack_into("<I", cfg, off + 0x2c, ((1 << SPEEDS[mx[0]]) - 1) << 1)
            struct.pack_into("<H", cfg, off + 0x30, SPEEDS[mx[0]])
        if port:
            slot = int(d.o.get("slot", str(d.addr[2] + 1)))
            struct.pack_into("<I", cfg, off + 0x14, (slot << 19) | 0x60)
        devcap2 = 0x81f | (0x20 if d.is_bridge else 0)
        struct.pack_into("<I", cfg, off + 0x24, devcap2)

    def ext_caps(self, d, cfg):
        caps = []
        aer = bytearray(0x48)
        struct.pack_into("<I", aer, 0x08, 0x00462030)     # uncorrectable severity
        caps.append((0x0001, 2, aer))
        if d.acs != "none":
            acs = bytearray(8)
            acap = 0x001f                                 # SV TB RR CR UF
            actl = {"enabled": 0x001d, "disabled": 0x0000, "partial": 0x0001}[d.acs]
            struct.pack_into("<HH", acs, 0x04, acap, actl)
            caps.append((0x000d, 1, acs))
        if d.totalvfs:
            sr = bytearray(0x40)
            first, stride, vfdev = 1, 1, d.device
            if d.vfs:
                rid = lambda a: (a[1] << 8) | (a[2] << 3) | a[3]
                first = rid(d.vfs[0].addr) - rid(d.addr)
                if len(d.vfs) > 1:
                    stride = rid(d.vfs[1].addr) - rid(d.vfs[0].addr)
                vfdev = d.vfs[0].device
            d.sriov_offset, d.sriov_stride, d.sriov_vfdev = first, stride, vfdev
            ctl = 0x0019 if d.numvfs else 0
            struct.pack_into("<IHHHHHHHHHHII", sr, 0x04, 0x2, ctl, 0, d.totalvfs,
                             d.totalvfs, d.numvfs, 0, first & 0xffff, stride, 0, vfdev,
                             0x553, 0x1)
            caps.append((0x0010, 1, sr))
        off = 0x100
        for i, (cid, ver, body) in enumerate(caps):
            nxt = off + len(body) if i + 1 < len(caps) else 0
            cfg[off:off + len(body)] = body
            struct.pack_into("<I", cfg, off, cid | (ver << 16) | (nxt << 20))
            off = nxt

    # ------------------------------------------------------- writing
    def cpus_of(self, d):
        if "cpus" in d.o:
            return parse_cpulist(d.o["cpus"])
        if d.numa >= 0 and d.numa in self.nodes:
            return parse_cpulist(self.nodes[d.numa].get("cpus", ""))
        return set(range(self.ncpus))

    def driver_module(self, drv):
        if drv in DRIVER_MODULES:
            return DRIVER_MODULES[drv]
        return drv.replace("-", "_")

    def loaded_modules(self):
        loaded = list(self.modules["loaded"])
        for d in self.order:
            if d.driver:
                m = self.driver_module(d.driver)
                if m and m not in loaded and m not in self.modules["builtin"]:
                    loaded.append(m)
        if self.kvm == "present":
            for m in ("kvm", "kvm_intel" if self.cpu["vendor"] == "GenuineIntel" else "kvm_amd"):
                if m not in loaded and m not in self.modules["builtin"]:
                    loaded.append(m)
        return loaded

    def write(self, out):
        t = Tree(out)
        self.write_pci(t)
        self.write_iommu(t)
        self.write_mdev(t)
        self.write_modules(t)
        self.write_cpu(t)
        self.write_proc(t)
        self.write_display(t)
        self.write_misc(t)
        self.write_platform(t)
        self.write_slots(t)
        self.write_usb(t)
        self.write_host_needs(t)

    def dev_at(self, addr, where):
        d = self.devs.get(addr)
        if d is None:
            raise FixtureError("%s: no device %s declared" % (where, fmt_addr(addr)))
        return d

    def write_usb(self, t):
        """USB devices below their controllers, each a bus/usb/devices link; a
        root hub usbN for every bus used that has none declared."""
        declared = {name for name, _, _ in self.usb}
        hubs = []
        for name, kv, where in self.usb:
            if "controller" not in kv:
                raise FixtureError("%s: usb needs controller=ADDR" % where)
            bus = name[3:] if name.startswith("usb") else name.split("-", 1)[0]
            if not bus.isdigit():
                raise FixtureError("%s: usb name '%s' is not usbN or BUS-PORT[.PORT]" % (where, name))
            root = "usb" + bus
            if root not in declared and root not in [h[0] for h in hubs]:
                hubs.append((root, {"controller": kv["controller"], "id": "1d6b:0002",
                                    "dev": "1", "class": "09", "product": "xHCI Host Controller",
                                    "manufacturer": "Linux 6.1.0-18-amd64 xhci-hcd"}, where))
        for name, kv, where in hubs + self.usb:
            ctrl = self.dev_at(parse_addr(kv["controller"], where), where)
            bus = name[3:] if name.startswith("usb") else name.split("-", 1)[0]
            port = "0" if name.startswith("usb") else name.split("-", 1)[1]
            vendor = parse_hexid(kv.get("id", "").split(":")[0], where)
            product = parse_hexid(kv.get("id", ":").split(":")[1], where)
            p = "%s/usb%s" % (ctrl.path, bus) + ("" if name.startswith("usb") else "/" + name)
            t.attr(p + "/idVendor", "%04x" % vendor)
            t.attr(p + "/idProduct", "%04x" % product)
            t.attr(p + "/busnum", bus)
            t.attr(p + "/devnum", kv.get("dev", "1"))
            t.attr(p + "/devpath", port)
            t.attr(p + "/bDeviceClass", kv.get("class", "00"))
            for key in ("manufacturer", "product"):
                if key in kv:
                    t.attr(p + "/" + key, kv[key])
            t.symlink("sys/bus/usb/devices/" + name, p)

    def write_host_needs(self, t):
        """What the host cannot lose: the root filesystem on an NVMe drive
        (mountinfo, dev/block/MAJ:MIN down to the partition), the default
        route's interfaces (proc/net/route, net/IFACE/device)."""
        if self.rootdisk:
            addr, majmin, where = self.rootdisk
            d = self.dev_at(addr, where)
            part = d.path + "/nvme/nvme0/nvme0n1/nvme0n1p2"
            t.attr(part + "/dev", majmin)
            t.symlink("sys/dev/block/" + majmin, part)
            t.write("proc/self/mountinfo",
                    "22 1 %s / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n"
                    "23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
                    % majmin, 0o444)
        if self.routes:
            route = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
            for iface, addr, where in self.routes:
                d = self.dev_at(addr, where)
                n = d.path + "/net/" + iface
                t.attr(n + "/ifindex", str(2 + len(route.splitlines())))
                t.symlink(n + "/device", d.path)
                t.symlink("sys/class/net/" + iface, n)
                route += "%s\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n" % iface
            t.write("proc/net/route", route, 0o444)

    def write_platform(self, t):
        """DMI identity, batteries and processes with open device nodes."""
        if self.dmi:
            d = "sys/devices/virtual/dmi/id"
            for key, name in (("chassis", "chassis_type"), ("vendor", "sys_vendor"),
                              ("product", "product_name")):
                if key in self.dmi:
                    t.attr("%s/%s" % (d, name), self.dmi[key])
            t.symlink("sys/class/dmi/id", d)
        for bat in self.batteries:
            d = "sys/devices/LNXSYSTM:00/LNXSYBUS:00/PNP0C0A:00/power_supply/" + bat
            t.attr(d + "/type", "Battery")
            t.attr(d + "/status", "Discharging")
            t.symlink("sys/class/power_supply/" + bat, d)
        for pid, kv, where in self.processes:
            comm = kv.get("comm", "proc%d" % pid)
            t.attr("proc/%d/comm" % pid, comm)
            t.attr("proc/%d/stat" % pid, "%d (%s) S 1 %d %d 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0"
                   % (pid, comm, pid, pid))
            t.mkdir("proc/%d/fd" % pid)
            # fd links name the node as the process sees it: absolute, never
            # followed (readlink only), as /proc shows them
            for i, node in enumerate([f for f in kv.get("fds", "").split(",") if f]):
                if not node.startswith("/dev/"):
                    raise FixtureError("%s: fds are /dev/ paths, got '%s'" % (where, node))
                os.symlink(node, t.p("proc/%d/fd/%d" % (pid, i + 3)))

    def smbios_slot_raw(self, n, name, kv, where):
        """One SMBIOS type 9 structure (SMBIOS 3.7, 7.10): the formatted area
        as long as the version has it, then the string set."""
        flen = {"2.0": 0x0c, "2.1": 0x0d, "2.6": 0x11, "3.4": 0x17}.get(kv.get("version", "2.6"))
        if flen is None:
            raise FixtureError("%s: smbios-slot version is 2.0, 2.1, 2.6 or 3.4" % where)
        gen, width = int(kv.get("gen", "0")), int(kv.get("width", "0"))
        lanes = [0, 1, 2, 4, 8, 16]
        kind = kv.get("type", "pcie")
        if kind == "m2":
            stype = 0x17                    # M.2 Socket 3
        elif kind == "pci":
            stype = 0x06
        elif kind != "pcie" or not 0 <= gen <= 6:
            raise FixtureError("%s: smbios-slot type is pcie, m2 or pci; gen 0-6" % where)
        elif gen == 6:
            stype = 0xc4
        elif gen:
            stype = [0xa5, 0xab, 0xb1, 0xb8, 0xbe][gen - 1] + (lanes.index(width) if width in lanes else 0)
        else:
            stype = 0xa5
        bus_width = {1: 8, 2: 9, 4: 0xa, 8: 0xb, 12: 0xc, 16: 0xd, 32: 0xe}.get(width, 2)
        port = self.dev_at(parse_addr(kv["port"], where), where) if "port" in kv else None
        if "bdf" in kv:
            seg, bus, dev, fn = (0xffff, 0xff, 0x1f, 7) if kv["bdf"] == "none" else \
                parse_addr(kv["bdf"], where)
        elif port is not None:
            seg, bus, dev, fn = port.addr[0], port.secondary, 0, 0
        else:
            seg, bus, dev, fn = 0xffff, 0xff, 0x1f, 7
        usage = kv.get("usage", "auto")
        if usage == "auto":
            usage = "inuse" if port is not None and port.children else "available"
        usage = {"available": 3, "inuse": 4, "unknown": 2}[usage]
        raw = bytearray(0x17)
        struct.pack_into("<BBHBBBBBHBB", raw, 0, 9, flen, 0x0900 + n, 1, stype, bus_width, usage,
                         0x04, int(kv.get("id", str(n + 1))), 0x0c, 0x01)
        struct.pack_into("<HBB", raw, 0x0d, seg, bus, (dev << 3) | fn)
        struct.pack_into("<BBBBH", raw, 0x11, width, 0, gen, bus_width, 0)
        return bytes(raw[:flen]) + name.encode() + b"\0\0"

    def write_slots(self, t):
        """SMBIOS type 9 entries (firmware/dmi/entries/9-N) and the kernel's PCI slots."""
        for n, (name, kv, where) in enumerate(self.smbios_slots):
            e = "sys/firmware/dmi/entries/9-%d" % n
            raw = self.smbios_slot_raw(n, name, kv, where)
            t.write(e + "/raw", raw, 0o444)
            t.attr(e + "/type", "9")
            t.attr(e + "/handle", str(0x0900 + n))
            t.attr(e + "/length", str(raw[1]))
            t.attr(e + "/instance", str(n))
        for name, kv, where in self.pci_slots:
            if "address" in kv:
                addr = kv["address"]
            elif "port" in kv:
                port = self.dev_at(parse_addr(kv["port"], where), where)
                addr = "%04x:%02x:00" % (port.addr[0], port.secondary)
            else:
                raise FixtureError("%s: pcislot needs port= or address=" % where)
            t.attr("sys/bus/pci/slots/%s/address" % name, addr)

    def write_pci(self, t):
        t.mkdir("sys/bus/pci/devices")
        t.mkdir("sys/bus/pci/drivers")
        t.mkdir("sys/bus/pci/slots")
        t.write("sys/bus/pci/drivers_probe", "", 0o200)
        t.write("sys/bus/pci/rescan", "", 0o200)
        t.attr("sys/bus/pci/drivers_autoprobe", "1", 0o644)
        t.write("sys/bus/pci/resource_alignment", "\n", 0o644)
        t.write("sys/bus/pci/uevent", "", 0o200)
        roots = set()
        drivers = {}
        for d in self.order:
            if d.parent is None:
                roots.add((d.addr[0], d.addr[1]))
            self.write_device(t, d)
            if d.driver:
                drivers.setdefault(d.driver, []).append(d)
        for dom, bus in sorted(roots):
            rb = "sys/devices/pci%04x:%02x" % (dom, bus)
            t.write(rb + "/uevent", "", 0o644)
            self.write_pci_bus(t, rb, dom, bus)
        for m in self.loaded_modules():
            if m in MODULE_PCI_DRIVERS:
                drivers.setdefault(MODULE_PCI_DRIVERS[m], [])
        for drv, devs in sorted(drivers.items()):
            dd = "sys/bus/pci/drivers/" + drv
            t.mkdir(dd)
            for f in ("bind", "unbind", "uevent"):
                t.write(dd + "/" + f, "", 0o200)
            for f in ("new_id", "remove_id"):
                t.write(dd + "/" + f, "", 0o200)
            m = self.driver_module(drv)
            if m:
                t.symlink(dd + "/module", "sys/module/" + m)
                t.symlink("sys/module/%s/drivers/pci:%s" % (m, drv), dd)
            for d in devs:
                t.symlink(dd + "/" + d.name, d.path)

    def bar_layout(self, d):
        """(start, end, flags) per BAR register of `bars=`, placed one after
        another (32-bit ones below 4 GiB, 64-bit ones from 384 GiB, I/O from
        0x3000), each aligned to its size; (0, 0, 0) for none. Made once."""
        if getattr(d, "layout", None) is None:
            d.layout = []
            for bar in d.bars:
                if bar is None:
                    d.layout.append((0, 0, 0))
                    continue
                size, kind = bar
                flags, wide = BAR_KINDS[kind]
                key = "io" if kind == "io" else "m64" if wide else "m32"
                start = (self.bar_next[key] + size - 1) // size * size
                self.bar_next[key] = start + size
                d.layout.append((start, start + size - 1, flags))
        return d.layout

    def resource_lines(self, d, nres):
        """`resource`: "start end flags" per line, the kernel's format."""
        lines = self.bar_layout(d) + [(0, 0, 0)] * (nres - len(d.bars))
        return "".join("0x%016x 0x%016x 0x%016x\n" % x for x in lines)

    def write_pci_bus(self, t, parent_path, dom, bus):
        name = "%04x:%02x" % (dom, bus)
        pb = parent_path + "/pci_bus/" + name
        t.attr(pb + "/cpuaffinity", fmt_cpumask(set(range(self.ncpus)), self.ncpus))
        t.attr(pb + "/cpulistaffinity", fmt_cpulist(set(range(self.ncpus))))
        t.write(pb + "/rescan", "", 0o200)
        t.symlink("sys/class/pci_bus/" + name, pb)

    def write_device(self, t, d):
        p = d.path
        t.mkdir(p)
        t.write(p + "/config", self.config_space(d), 0o644)
        t.attr(p + "/vendor", "0x%04x" % d.vendor)
        t.attr(p + "/device", "0x%04x" % d.device)
        t.attr(p + "/subsystem_vendor", "0x%04x" % d.svendor)
        t.attr(p + "/subsystem_device", "0x%04x" % d.sdevice)
        t.attr(p + "/class", "0x%06x" % d.cls)
        t.attr(p + "/revision", "0x%02x" % d.rev)
        t.attr(p + "/irq", str(d.irq))
        nres = 17 if d.is_bridge else 13
        t.write(p + "/resource", self.resource_lines(d, nres), 0o444)
        t.attr(p + "/enable", "1" if (d.driver or d.is_bridge) else "0", 0o644)
        t.attr(p + "/numa_node", str(d.numa), 0o644)
        cpus = self.cpus_of(d)
        t.attr(p + "/local_cpulist", fmt_cpulist(cpus))
        t.attr(p + "/local_cpus", fmt_cpumask(cpus, self.ncpus))
        modalias = "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X" % (
            d.vendor, d.device, d.svendor, d.sdevice, d.cls >> 16, (d.cls >> 8) & 0xff,
            d.cls & 0xff)
        t.attr(p + "/modalias", modalias)
        uevent = ""
        if d.driver:
            uevent += "DRIVER=%s\n" % d.driver
        uevent += "PCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\n" \
                  "PCI_SLOT_NAME=%s\nMODALIAS=%s\n" % (d.cls, d.vendor, d.device, d.svendor,
                                                      d.sdevice, d.name, modalias)
        t.write(p + "/uevent", uevent, 0o644)
        t.attr(p + "/driver_override", d.override if d.override else "(null)", 0o644)
        t.attr(p + "/msi_bus", "1", 0o644)
        t.attr(p + "/broken_parity_status", "0", 0o644)
        t.attr(p + "/dma_mask_bits", "64")
        t.attr(p + "/consistent_dma_mask_bits", "64")
        t.attr(p + "/ari_enabled", "1" if d.totalvfs else "0")
        t.write(p + "/remove", "", 0o200)
        t.write(p + "/rescan", "", 0o200)
        if d.power != "unknown":
            t.attr(p + "/power_state", d.power)
        suspended = d.power in ("D3hot", "D3cold")
        t.attr(p + "/power/control", "auto" if suspended else "on", 0o644)
        t.attr(p + "/power/runtime_status", d.o.get("runtime",
                                                  "suspended" if suspended else "active"))
        t.symlink(p + "/subsystem", "sys/bus/pci")
        t.symlink("sys/bus/pci/devices/" + d.name, p)
        if (d.cls >> 8) == 0x0300:
            t.attr(p + "/boot_vga", "1" if d.boot_vga else "0")
        if d.reset:
            if d.reset_attr:
                t.attr(p + "/reset_method", " ".join(d.reset), 0o644)
            t.write(p + "/reset", "", 0o200)
        if d.is_pcie:
            t.attr(p + "/d3cold_allowed", "1", 0o644)
            if d.pcie_type() in ("rciep", "rcec"):
                t.attr(p + "/current_link_speed", "Unknown")
                t.attr(p + "/max_link_speed", "Unknown")
                t.attr(p + "/current_link_width", "0")
                t.attr(p + "/max_link_width", "0")
            else:
                mx = d.maxlink or ("8.0", 1)
                cur = d.link or mx
                if d.power == "D3cold":   # link down: the kernel reads all-ones
                    t.attr(p + "/current_link_speed", "Unknown")
                    t.attr(p + "/current_link_width", "63")
                else:
                    t.attr(p + "/current_link_speed", "%s GT/s PCIe" % cur[0])
                    t.attr(p + "/current_link_width", str(cur[1]))
                t.attr(p + "/max_link_speed", "%s GT/s PCIe" % mx[0])
                t.attr(p + "/max_link_width", str(mx[1]))
        if d.is_bridge:
            t.attr(p + "/secondary_bus_number", str(d.secondary))
            t.attr(p + "/subordinate_bus_number", str(d.subordinate))
            self.write_pci_bus(t, p, d.addr[0], d.secondary)
        if d.totalvfs:
            t.attr(p + "/sriov_totalvfs", str(d.totalvfs))
            t.attr(p + "/sriov_numvfs", str(d.numvfs), 0o644)
            t.attr(p + "/sriov_drivers_autoprobe", "1", 0o644)
            t.attr(p + "/sriov_offset", str(getattr(d, "sriov_offset", 1)))
            t.attr(p + "/sriov_stride", str(getattr(d, "sriov_stride", 1)))
            t.attr(p + "/sriov_vf_device", "%x" % getattr(d, "sriov_vfdev", d.device))
            for i, vf in enumerate(d.vfs):
                t.symlink("%s/virtfn%d" % (p, i), vf.path)
        if d.pf is not None:
            t.symlink(p + "/physfn", d.pf.path)
        if "vgpu_types" in d.o:     # NVIDIA vGPU 17+ per-VF interface
            lines = []
            for item in [x for x in d.o["vgpu_types"].split(",") if x.strip()]:
                tid, _, tname = item.partition(":")
                if not tid.strip().isdigit() or not tname.strip():
                    raise FixtureError("%s: vgpu_types wants ID:NAME,... ('%s')" % (d.where, item))
                lines.append("%s : %s\n" % (tid.strip(), tname.strip()))
            t.write(p + "/nvidia/creatable_vgpu_types", "".join(lines), 0o444)
            t.attr(p + "/nvidia/current_vgpu_type", d.o.get("vgpu_current", "0"), 0o644)
        if d.driver:
            t.symlink(p + "/driver", "sys/bus/pci/drivers/" + d.driver)
        if d.group is not None:
            g = "sys/kernel/iommu_groups/%d" % d.group
            t.symlink(p + "/iommu_group", g)
            t.symlink(g + "/devices/" + d.name, p)
        for i, card in enumerate(d.drm):
            cd = p + "/drm/" + card
            minor = int(card[len("renderD"):]) if card.startswith("renderD") else \
                int(card[len("card"):]) if card.startswith("card") else i
            t.attr(cd + "/dev", "226:%d" % minor)
            t.write(cd + "/uevent", "MAJOR=226\nMINOR=%d\nDEVNAME=dri/%s\n" % (minor, card))
            t.symlink(cd + "/device", p)
            t.symlink(cd + "/subsystem", "sys/class/drm")
            t.symlink("sys/class/drm/" + card, cd)
            t.write("dev/dri/" + card, "", 0o660)
        if d.fb is not None:
            fd = "%s/graphics/fb%d" % (p, d.fb)
            name = d.o.get("fbname", "%sdrmfb" % (d.driver or "simple"))
            t.attr(fd + "/name", name)
            t.attr(fd + "/dev", "29:%d" % d.fb)
            t.symlink(fd + "/device", p)
            t.symlink("sys/class/graphics/fb%d" % d.fb, fd)
            t.write("dev/fb%d" % d.fb, "", 0o660)

    def mdev_parent_path(self, name, where):
        """sysfs directory of an mdev parent: a declared PCI device, or a
        virtual device such as the sample drivers' mtty, mbochs, mdpy."""
        try:
            addr = parse_addr(name, where)
        except FixtureError:
            addr = None
        if addr is not None:
            d = self.devs.get(addr)
            if d is None:
                raise FixtureError("%s: mdev parent %s not declared" % (where, name))
            return d.name, d.path
        if not all(c.isalnum() or c in "._-" for c in name):
            raise FixtureError("%s: bad mdev parent name '%s'" % (where, name))
        return name, "sys/devices/virtual/%s/%s" % (name, name)

    def write_mdev(self, t):
        """Classic mediated devices: mdev_supported_types below each parent,
        the mdev_bus class links, instances with their own IOMMU groups, and
        mdevctl's definition files (etc/mdevctl.d/PARENT/UUID)."""
        types = {}
        for parent, tid, kv, where in self.mdev_types:
            pname, ppath = self.mdev_parent_path(parent, where)
            if not all(c.isalnum() or c in "._-" for c in tid):
                raise FixtureError("%s: bad mdev type id '%s'" % (where, tid))
            td = "%s/mdev_supported_types/%s" % (ppath, tid)
            if "name" in kv:
                t.attr(td + "/name", kv["name"])
            if "description" in kv:
                t.attr(td + "/description", kv["description"].replace("\\n", "\n"))
            t.attr(td + "/available_instances", str(int(kv.get("available", "0"))))
            t.attr(td + "/device_api", kv.get("api", "vfio-pci"))
            t.write(td + "/create", "", 0o200)
            t.mkdir(td + "/devices")
            t.symlink("sys/class/mdev_bus/" + pname, ppath)
            types[(pname, tid)] = td
        if self.mdev_types or self.mdevs:
            t.mkdir("sys/bus/mdev/devices")
            t.mkdir("sys/bus/mdev/drivers")
            t.mkdir("sys/class/mdev_bus")
        for uuid, kv, where in self.mdevs:
            if len(uuid) != 36 or uuid.count("-") != 4:
                raise FixtureError("%s: bad mdev UUID '%s'" % (where, uuid))
            for k in ("parent", "type", "group"):
                if k not in kv:
                    raise FixtureError("%s: mdev needs %s=" % (where, k))
            pname, ppath = self.mdev_parent_path(kv["parent"], where)
            td = types.get((pname, kv["type"]))
            if td is None:
                raise FixtureError("%s: parent %s has no mdevtype %s" % (where, pname, kv["type"]))
            md = "%s/%s" % (ppath, uuid)
            t.symlink(md + "/mdev_type", td)
            t.write(md + "/remove", "", 0o200)
            t.write(md + "/uevent", "MDEV_TYPE=%s\n" % kv["type"], 0o644)
            t.symlink(md + "/subsystem", "sys/bus/mdev")
            t.symlink("sys/bus/mdev/devices/" + uuid, md)
            t.symlink(td + "/devices/" + uuid, md)
            g = "sys/kernel/iommu_groups/%d" % int(kv["group"])
            if any(d.group == int(kv["group"]) for d in self.order):
                raise FixtureError("%s: group %s belongs to a PCI device" % (where, kv["group"]))
            t.mkdir(g + "/devices")
            t.attr(g + "/type", "unknown", 0o644)    # no default domain
            t.symlink(md + "/iommu_group", g)
            t.symlink(g + "/devices/" + uuid, md)
            t.write("dev/vfio/%d" % int(kv["group"]), "", 0o600)
            if "driver" in kv:
                t.mkdir("sys/bus/mdev/drivers/" + kv["driver"])
                t.symlink(md + "/driver", "sys/bus/mdev/drivers/" + kv["driver"])
                t.symlink("sys/bus/mdev/drivers/%s/%s" % (kv["driver"], uuid), md)
        for parent, uuid, kv, where in self.mdevctl:
            if "type" not in kv:
                raise FixtureError("%s: mdevctl needs type=" % where)
            start = kv.get("start", "auto")
            if start not in ("auto", "manual"):
                raise FixtureError("%s: start must be auto or manual" % where)
            attrs = [a.split("=", 1) for a in kv.get("attrs", "").split(",") if "=" in a]
            body = ",\n".join('    { "%s": "%s" }' % (k, v) for k, v in attrs)
            t.write("etc/mdevctl.d/%s/%s" % (parent, uuid),
                    '{\n  "mdev_type": "%s",\n  "start": "%s",\n  "attrs": [%s]\n}\n'
                    % (kv["type"], start, "\n" + body + "\n  " if body else ""))

    def write_iommu(self, t):
        t.mkdir("sys/kernel/iommu_groups")
        t.mkdir("sys/class/iommu")
        if self.iommu == "off":
            return
        identity = "iommu=pt" in self.cmdline.split()
        groups = sorted({d.group for d in self.order if d.group is not None})
        for g in groups:
            gp = "sys/kernel/iommu_groups/%d" % g
            t.mkdir(gp + "/devices")
            t.attr(gp + "/type", "identity" if identity else "DMA-FQ", 0o644)
            t.write(gp + "/reserved_regions",
                    "0x00000000fee00000 0x00000000feefffff msi\n", 0o444)
        if self.iommu == "intel":
            name, ip = "dmar0", "sys/devices/virtual/iommu/dmar0"
            ecap = 0xf050da if self.irq_remap == "yes" else 0xf050d2
            t.attr(ip + "/intel-iommu/version", "1:0")
            t.attr(ip + "/intel-iommu/cap", "d2008c40660462")
            t.attr(ip + "/intel-iommu/ecap", "%x" % ecap)
            t.attr(ip + "/intel-iommu/address", "fed90000")
        else:
            name = "ivhd0"
            host = self.devs.get((0, 0, 0, 2))
            ip = (host.path if host else "sys/devices/virtual") + "/iommu/ivhd0"
            efr = 0x58f77ef22294a5a if self.irq_remap == "yes" else 0x58f77ef22294a52
            t.attr(ip + "/amd-iommu/cap", "0x%x" % 0x190b640)
            t.attr(ip + "/amd-iommu/features", "%x" % efr)
        t.symlink("sys/class/iommu/" + name, ip)
        for d in self.order:
            if d.group is not None:
                t.symlink(d.path + "/iommu", ip)
                t.symlink(ip + "/devices/" + d.name, d.path)
        # /dev/vfio/N for groups whose devices are bound to vfio-pci
        if "vfio" in self.loaded_modules() or "vfio" in self.modules["builtin"]:
            t.write("dev/vfio/vfio", "", 0o666)
        for g in groups:
            if any(d.group == g and is_vfio_driver(d.driver) for d in self.order):
                t.write("dev/vfio/%d" % g, "", 0o600)

    def write_modules(self, t):
        loaded = self.loaded_modules()
        builtin = list(self.modules["builtin"])
        if self.kvm == "pvm":
            for m in ("kvm", "kvm_pvm"):
                if m not in builtin and m not in loaded:
                    builtin.append(m)
        t.mkdir("sys/module")
        for m in builtin:
            t.attr("sys/module/%s/uevent" % m, "", 0o200)
            t.mkdir("sys/module/%s/parameters" % m)
        for m in loaded:
            md = "sys/module/" + m
            t.attr(md + "/initstate", "live")
            users = [u for u in loaded if m in MODULE_DEPS.get(u, [])]
            t.attr(md + "/refcnt", str(len(users)))
            t.mkdir(md + "/holders")
            for u in users:
                t.symlink(md + "/holders/" + u, "sys/module/" + u)
            t.mkdir(md + "/parameters")
            t.attr(md + "/coresize", "16384")
            t.attr(md + "/taint", "OE" if m.startswith("nvidia") or m == "gim" else "")
        if "kvm_intel" in loaded:
            t.attr("sys/module/kvm_intel/parameters/nested", "Y")
        if "kvm_amd" in loaded:
            t.attr("sys/module/kvm_amd/parameters/nested", "1")
        if "kvm_pvm" in builtin:
            t.attr("sys/module/kvm_pvm/parameters/pvm_native", "Y")
        if "vfio_pci" in loaded:
            t.attr("sys/module/vfio_pci/parameters/ids", "")
            t.attr("sys/module/vfio_pci/parameters/disable_vga", "N")
        if "vfio_iommu_type1" in loaded:
            t.attr("sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "N")
        if not self.modules_support:
            return
        lines = []
        for m in reversed(loaded):
            users = [u for u in loaded if m in MODULE_DEPS.get(u, [])]
            lines.append("%s 16384 %d %s Live 0x0000000000000000%s\n" % (
                m, len(users), ",".join(users) + "," if users else "-",
                " (OE)" if m.startswith("nvidia") or m == "gim" else ""))
        t.write("proc/modules", "".join(lines), 0o444)
        md = "lib/modules/" + self.kernel
        ondisk = []
        for m in loaded + self.modules["available"]:
            if m not in ondisk and m not in builtin:
                ondisk.append(m)
        dep_lines, order = [], []

        def path_of(m):
            return MODULE_PATHS.get(m, "kernel/drivers/misc/%s.ko" % m)
        for m in ondisk:
            t.write(md + "/" + path_of(m), "\x7fELF fixture placeholder for %s\n" % m)
            deps = [path_of(x) for x in MODULE_DEPS.get(m, []) if x not in builtin]
            dep_lines.append("%s:%s\n" % (path_of(m), "".join(" " + x for x in deps)))
            order.append(path_of(m) + "\n")
        t.write(md + "/modules.dep", "".join(dep_lines))
        t.write(md + "/modules.order", "".join(order))
        t.write(md + "/modules.builtin", "".join(path_of(m) + "\n" for m in builtin))
        t.write(md + "/modules.alias", "# Aliases extracted from modules themselves.\n" + "".join(
            "alias vfio_pci:%s %s\n" % (a, m)
            for m in ondisk for a in MODULE_VFIO_ALIASES.get(m, [])))

    def write_cpu(self, t):
        n = self.ncpus
        allc = fmt_cpulist(set(range(n)))
        base = "sys/devices/system/cpu"
        for f in ("online", "possible", "present"):
            t.attr(base + "/" + f, allc)
        threads = int(self.cpu.get("threads", "1"))
        cores = int(self.cpu.get("cores", "4"))
        dies = int(self.cpu.get("dies", "1"))
        l3 = int(self.cpu.get("l3", "1"))

        def core_of(c):
            return (c % (n // threads)) if threads > 1 else c

        def l3_of(c):       # L3 domain: cores/l3 consecutive cores of a package
            core = core_of(c)
            return (core // cores) * l3 + (core % cores) // (cores // l3)
        for c in range(n):
            core = core_of(c)
            sibs = sorted(core + k * (n // threads) for k in range(threads))
            tp = "%s/cpu%d/topology" % (base, c)
            t.attr(tp + "/core_id", str(core % cores))
            t.attr(tp + "/physical_package_id", str(core // cores))
            t.attr(tp + "/die_id", str((core % cores) // (cores // dies)))
            t.attr(tp + "/thread_siblings_list", fmt_cpulist(set(sibs)))
            t.attr(tp + "/core_cpus_list", fmt_cpulist(set(sibs)))
            t.attr("%s/cpu%d/online" % (base, c), "1", 0o644)
            # caches: L1d, L1i, L2 per core; L3 per domain (cpu l3=N per package)
            shared = [set(sibs), set(sibs), set(sibs),
                      {x for x in range(n) if l3_of(x) == l3_of(c)}]
            for i, (level, typ, size, ident) in enumerate((
                    (1, "Data", "48K", core), (1, "Instruction", "32K", core),
                    (2, "Unified", "1280K", core), (3, "Unified", "32768K", l3_of(c)))):
                cd = "%s/cpu%d/cache/index%d" % (base, c, i)
                t.attr(cd + "/level", str(level))
                t.attr(cd + "/type", typ)
                t.attr(cd + "/size", size)
                t.attr(cd + "/id", str(ident))
                t.attr(cd + "/shared_cpu_list", fmt_cpulist(shared[i]))
        nodes = "sys/devices/system/node"
        t.attr(nodes + "/online", fmt_cpulist(set(self.nodes)))
        t.attr(nodes + "/possible", fmt_cpulist(set(self.nodes)))
        for nid, kv in sorted(self.nodes.items()):
            t.attr("%s/node%d/cpulist" % (nodes, nid), kv.get("cpus", ""))
            memkb = int(kv.get("mem_kb", self.mem_kb // len(self.nodes)))
            t.write("%s/node%d/meminfo" % (nodes, nid),
                    "Node %d MemTotal:       %8d kB\nNode %d MemFree:        %8d kB\n"
                    % (nid, memkb, nid, memkb // 2))
            # per-node pools: as given per node, else the whole pool on the first node
            sizes = [("2M", 2048)]
            if "pdpe1gb" in self.cpu_flags():
                sizes.append(("1G", 1048576))
            for size, kb in sizes:
                if any(sz == size for _, sz in self.node_hugepages):
                    tot, free = self.node_hugepages.get((nid, size), (0, 0, None))[:2]
                elif nid == min(self.nodes):
                    tot, free = self.hugepages.get(size, (0, 0))
                else:
                    tot, free = 0, 0
                hp = "%s/node%d/hugepages/hugepages-%dkB" % (nodes, nid, kb)
                t.attr(hp + "/nr_hugepages", str(tot), 0o644)
                t.attr(hp + "/free_hugepages", str(free))
                t.attr(hp + "/surplus_hugepages", "0")

    def cpu_flags(self):
        flags = list(BASE_CPU_FLAGS)
        extra = [f for f in self.cpu.get("flags", "").split(",") if f]
        for f in extra:
            if f.startswith("-"):
                if f[1:] in flags:
                    flags.remove(f[1:])
            elif f not in flags:
                flags.append(f)
        return flags

    def write_proc(self, t):
        t.write("proc/cmdline", self.cmdline + "\n", 0o444)
        t.write("proc/sys/kernel/osrelease", self.kernel + "\n", 0o444)
        t.write("proc/version", "Linux version %s (debian-kernel@lists.debian.org) "
                "(gcc-12 (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) "
                "#1 SMP PREEMPT_DYNAMIC Debian\n" % self.kernel, 0o444)
        # cpuinfo
        intel = self.cpu["vendor"] == "GenuineIntel"
        model = self.cpu.get("model", "Intel(R) Core(TM) i7-9700K CPU @ 3.60GHz" if intel
                             else "AMD Ryzen 9 5950X 16-Core Processor")
        flags = self.cpu_flags()
        n, threads = self.ncpus, int(self.cpu.get("threads", "1"))
        cores = int(self.cpu.get("cores", "4"))
        out = []
        for c in range(n):
            core = (c % (n // threads)) if threads > 1 else c
            out.append(
                "processor\t: %d\nvendor_id\t: %s\ncpu family\t: %s\nmodel\t\t: %s\n"
                "model name\t: %s\nstepping\t: 2\nmicrocode\t: 0xf8\ncpu MHz\t\t: %s\n"
                "cache size\t: 16384 KB\nphysical id\t: %d\nsiblings\t: %d\ncore id\t\t: %d\n"
                "cpu cores\t: %d\napicid\t\t: %d\ninitial apicid\t: %d\nfpu\t\t: yes\n"
                "fpu_exception\t: yes\ncpuid level\t: 22\nwp\t\t: yes\nflags\t\t: %s\n"
                % (c, self.cpu["vendor"], self.cpu.get("family", "6" if intel else "25"),
                   self.cpu.get("modelnum", "158" if intel else "33"), model,
                   self.cpu.get("mhz", "3600.000"), core // cores, cores * threads,
                   core % cores, cores, c, c, " ".join(flags)))
            if intel and "vmx" in flags:
                out.append("vmx flags\t: vnmi preemption_timer invvpid ept_x_only ept_ad "
                           "ept_1gb flexpriority tsc_offset vtpr mtf vapic ept vpid "
                           "unrestricted_guest ple\n")
            out.append("bugs\t\t: spectre_v1 spectre_v2 spec_store_bypass\n"
                       "bogomips\t: 7200.00\nclflush size\t: 64\ncache_alignment\t: 64\n"
                       "address sizes\t: %s bits physical, 48 bits virtual\n"
                       "power management:\n\n" % self.cpu.get("physbits", "39"))
        t.write("proc/cpuinfo", "".join(out), 0o444)
        # meminfo + hugepages
        total_kb = self.mem_kb
        h2 = self.hugepages.get("2M", (0, 0))
        h1 = self.hugepages.get("1G", (0, 0))
        huge_kb = h2[0] * 2048 + h1[0] * 1048576
        free_kb = max(0, total_kb // 2 - huge_kb)
        t.write("proc/meminfo",
                "MemTotal:       %8d kB\nMemFree:        %8d kB\nMemAvailable:   %8d kB\n"
                "Buffers:          123456 kB\nCached:         %8d kB\nSwapCached:             0 kB\n"
                "SwapTotal:       2097148 kB\nSwapFree:        2097148 kB\n"
                "AnonHugePages:         0 kB\nShmemHugePages:        0 kB\n"
                "HugePages_Total:   %5d\nHugePages_Free:    %5d\nHugePages_Rsvd:        0\n"
                "HugePages_Surp:        0\nHugepagesize:       2048 kB\nHugetlb:        %8d kB\n"
                "DirectMap4k:      456789 kB\nDirectMap2M:    %8d kB\n"
                % (total_kb, free_kb, free_kb + total_kb // 4, total_kb // 4, h2[0], h2[1],
                   huge_kb, total_kb // 2), 0o444)
        sizes = [("hugepages-2048kB", h2)]
        if "pdpe1gb" in flags:
            sizes.append(("hugepages-1048576kB", h1))
        for name, (tot, free) in sizes:
            hp = "sys/kernel/mm/hugepages/" + name
            t.attr(hp + "/nr_hugepages", str(tot), 0o644)
            t.attr(hp + "/free_hugepages", str(free))
            t.attr(hp + "/resv_hugepages", "0")
            t.attr(hp + "/surplus_hugepages", "0")
            t.attr(hp + "/nr_overcommit_hugepages", "0", 0o644)
        t.attr("sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never", 0o644)
        mounts = ("sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
                  "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
                  "udev /dev devtmpfs rw,nosuid,relatime,size=8141128k,mode=755 0 0\n"
                  "/dev/nvme0n1p2 / ext4 rw,relatime,errors=remount-ro 0 0\n")
        if h2[0] or h1[0]:
            mounts += "hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n"
            t.mkdir("dev/hugepages")
        t.write("proc/mounts", mounts, 0o444)
        # interrupts
        ncol = min(n, 8)
        ir = self.irq_remap == "yes" and self.iommu != "off"
        pre = "IR-" if ir else ""
        lines = ["           " + "".join("CPU%-8d" % i for i in range(ncol)).rstrip() + "\n"]

        def row(irq, chip, hw, name):
            return "%4s: %s %-12s %s %s\n" % (irq, "".join("%10d " % 0 for _ in range(ncol)),
                                            chip, hw, name)
        lines.append(row("0", pre + "IO-APIC", "  2-edge", "    timer"))
        lines.append(row("1", pre + "IO-APIC", "  1-edge", "    i8042"))
        lines.append(row("9", pre + "IO-APIC", "  9-fasteoi", " acpi"))
        irq = 120
        if self.iommu == "intel":
            lines.append(row(str(irq), "DMAR-MSI", "  0-edge", "    dmar0"))
            irq += 1
        elif self.iommu == "amd":
            lines.append(row(str(irq), "PCI-MSI", "  2-edge", "    AMD-Vi"))
            irq += 1
        for d in self.order:
            if d.driver and not d.is_bridge:
                hw = (d.addr[0] << 27) | (((d.addr[1] << 8) | (d.addr[2] << 3) | d.addr[3]) << 11)
                lines.append(row(str(irq), pre + "PCI-MSI", " %d-edge" % hw, "     " + d.driver))
                irq += 1
        lines.append(" NMI: " + "".join("%10d " % 0 for _ in range(ncol)) +
                     "  Non-maskable interrupts\n")
        t.write("proc/interrupts", "".join(lines), 0o444)

    def write_display(self, t):
        t.mkdir("sys/class/graphics")
        t.mkdir("sys/class/drm")
        for i, fb in enumerate(self.fbs):
            idx = int(fb.get("index", i))
            dev = fb.get("device", "efi-framebuffer.0")
            fd = "sys/devices/platform/%s/graphics/fb%d" % (dev, idx)
            t.attr(fd + "/name", fb.get("name", "EFI VGA"))
            t.attr(fd + "/dev", "29:%d" % idx)
            t.symlink(fd + "/device", "sys/devices/platform/" + dev)
            t.symlink("sys/class/graphics/fb%d" % idx, fd)
            t.write("dev/fb%d" % idx, "", 0o660)
            if dev.startswith("efi-framebuffer") or dev.startswith("simple-framebuffer"):
                drv = "efi-framebuffer" if dev.startswith("efi") else "simple-framebuffer"
                t.symlink("sys/devices/platform/%s/driver" % dev,
                          "sys/bus/platform/drivers/" + drv)
                for f in ("bind", "unbind", "uevent"):
                    t.write("sys/bus/platform/drivers/%s/%s" % (drv, f), "", 0o200)
                t.symlink("sys/devices/platform/%s/subsystem" % dev, "sys/bus/platform")
                t.symlink("sys/bus/platform/devices/" + dev, "sys/devices/platform/" + dev)
                t.symlink("sys/bus/platform/drivers/%s/%s" % (drv, dev),
                          "sys/devices/platform/" + dev)
        vc = "sys/devices/virtual/vtconsole"
        t.attr(vc + "/vtcon0/name", "(S) dummy device")
        t.attr(vc + "/vtcon0/bind", "0" if self.vtcon == "1" else "1", 0o644)
        t.symlink("sys/class/vtconsole/vtcon0", vc + "/vtcon0")
        if self.vtcon is not None:
            t.attr(vc + "/vtcon1/name", "(M) frame buffer device")
            t.attr(vc + "/vtcon1/bind", self.vtcon, 0o644)
            t.symlink("sys/class/vtconsole/vtcon1", vc + "/vtcon1")

    def write_misc(self, t):
        if self.kvm in ("present", "pvm"):
            t.write("dev/kvm", "", 0o660)
        acpi = self.acpi
        if acpi is None:
            if self.iommu == "amd" or (self.iommu == "off" and self.cpu["vendor"] != "GenuineIntel"):
                acpi = ["IVRS"]
            else:
                acpi = ["DMAR"]
        for tbl in ("DSDT", "FACP", "APIC", "MCFG") + tuple(acpi):
            t.write("sys/firmware/acpi/tables/" + tbl, tbl.encode() + b"\x00" * 32, 0o400)
        t.mkdir("sys/firmware/efi/efivars")
        if self.ovmf == "yes":
            for f in ("OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd", "OVMF_CODE_4M.ms.fd",
                      "OVMF_VARS_4M.ms.fd"):
                t.write("usr/share/OVMF/" + f, b"\x00" * 64)
            for name, code, vars_, feats in (
                    ("50-edk2-x86_64-securecboot.json", "OVMF_CODE_4M.ms.fd",
                     "OVMF_VARS_4M.ms.fd", '"requires-smm", "secure-boot", '
                     '"enrolled-keys", '),
                    ("60-edk2-x86_64.json", "OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd", "")):
                t.write("usr/share/qemu/firmware/" + name, """{
    "description": "UEFI firmware for x86_64",
    "interface-types": ["uefi"],
    "mapping": {
        "device": "flash",
        "executable": {"filename": "/usr/share/OVMF/%s", "format": "raw"},
        "nvram-template": {"filename": "/usr/share/OVMF/%s", "format": "raw"}
    },
    "targets": [{"architecture": "x86_64", "machines": ["pc-q35-*"]}],
    "features": [%s"acpi-s3", "verbose-dynamic"],
    "tags": []
}
""" % (code, vars_, feats))
        if self.libvirt == "yes":
            t.write("run/libvirt/libvirt-sock", "", 0o666)
            t.write("run/libvirt/libvirt-sock-ro", "", 0o666)
            t.write("usr/sbin/libvirtd", "#!/bin/sh\nexit 0\n", 0o755)
        if self.qemu == "yes" or self.libvirt == "yes":
            t.write("usr/bin/qemu-system-x86_64", "#!/bin/sh\nexit 0\n", 0o755)
        t.write("etc/os-release", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'
                'NAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n')
        if self.bootloader == "grub":
            args = [a for a in self.cmdline.split()
                    if not a.startswith(("BOOT_IMAGE=", "root=")) and a != "ro"]
            t.write("etc/default/grub", 'GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\n'
                    'GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n'
                    'GRUB_CMDLINE_LINUX_DEFAULT="%s"\nGRUB_CMDLINE_LINUX=""\n' % " ".join(args))
        elif self.bootloader == "systemd-boot":
            args = [a for a in self.cmdline.split() if not a.startswith("BOOT_IMAGE=")]
            t.write("etc/kernel/cmdline", " ".join(args) + "\n")
            t.write("boot/efi/loader/loader.conf", "timeout 3\n")
        t.mkdir("run/vfiokit")
        t.mkdir("etc/vfiokit")


def main(argv):
    if len(argv) != 3 or argv[1] in ("-h", "--help"):
        sys.stderr.write("usage: mkhost.py HOSTFILE OUTDIR\n")
        return 2
    host = Host()
    try:
        host.parse_file(argv[1])
        host.resolve()
        os.makedirs(argv[2], exist_ok=True)
        host.write(argv[2])
    except FixtureError as e:
        sys.stderr.write("mkhost: %s\n" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
