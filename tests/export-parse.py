#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Read vfio-ls --export documents back with the parsers their consumers use,
and check the fields and value shapes those consumers document.

    export-parse.py FILE...      the format is the file name's last suffix:
                                 .kubevirt .nova .proxmox .nfd

  kubevirt  PyYAML (python3-yaml): spec.configuration.permittedHostDevices
            with pciHostDevices {pciVendorSelector "VVVV:DDDD",
            resourceName DOMAIN/NAME, externalResourceProvider bool} and
            mediatedDevices {mdevNameSelector, resourceName,
            externalResourceProvider} (KubeVirt's V1PciHostDevice and
            V1MediatedHostDevice); resource names as Kubernetes takes
            extended resources (a DNS subdomain not in kubernetes.io, '/', a
            qualified name of at most 63 characters).
  nova      oslo.config (python3-oslo.config) with nova's options: [pci]
            device_spec and alias MultiStrOpt, each value JSON with nova's
            keys (vendor_id, product_id 4 hex digits, address; alias name,
            device_type type-PCI|type-PF|type-VF); [devices]
            enabled_mdev_types ListOpt, then [mdev_TYPE] device_addresses as
            nova registers them, no address under two types.
  proxmox   a reader of PVE::SectionConfig's shape (an id line, tab-indented
            "key value" lines, '#' comments) with PVE::Mapping::PCI's
            schema: keys map/description/mdev, map a property string of
            node, id, path, iommugroup, subsystem-id with their patterns.
  nfd       nfd-worker's local source format: "name[=value]" lines and
            '#' comments, names and values as Kubernetes validates labels.

Exit 0 when every file passes; 1 with one line per problem; 2 when a
parser is missing (naming its Debian package).
"""
import json
import re
import sys

DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS_SUBDOMAIN = re.compile(r"^%s(\.%s)*$" % (DNS_LABEL, DNS_LABEL))
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
HEX4 = re.compile(r"^[0-9a-f]{4}$")
PCI_ADDR = re.compile(r"^[0-9a-f]{4}:[0-9a-f]{2}:[01][0-9a-f]\.[0-7]$")

problems = []


def problem(path, what):
    problems.append("%s: %s" % (path, what))


def dns_subdomain(s):
    return len(s) <= 253 and DNS_SUBDOMAIN.match(s) is not None \
        and all(len(label) <= 63 for label in s.split("."))


def k8s_own(domain):
    return domain == "kubernetes.io" or domain.endswith(".kubernetes.io") \
        or domain == "k8s.io" or domain.endswith(".k8s.io")


def resource_name(path, where, name):
    """An extended resource name as Kubernetes validates it."""
    if not isinstance(name, str) or name.count("/") != 1:
        problem(path, "%s: resourceName %r is not DOMAIN/NAME" % (where, name))
        return
    domain, short = name.split("/")
    if not dns_subdomain(domain) or k8s_own(domain):
        problem(path, "%s: resourceName domain %r" % (where, domain))
    if len(short) > 63 or not QUALIFIED_NAME.match(short):
        problem(path, "%s: resourceName name %r" % (where, short))


# ---------------------------------------------------------------- KubeVirt

def check_kubevirt(path, text):
    try:
        import yaml
    except ImportError:
        sys.stderr.write("export-parse: python3-yaml is missing (scripts/packages.list)\n")
        sys.exit(2)
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        problem(path, "not YAML: %s" % e)
        return
    try:
        phd = doc["spec"]["configuration"]["permittedHostDevices"]
    except (KeyError, TypeError):
        problem(path, "no spec.configuration.permittedHostDevices")
        return
    if list(doc) != ["spec"] or list(doc["spec"]) != ["configuration"] or \
            list(doc["spec"]["configuration"]) != ["permittedHostDevices"]:
        problem(path, "more than the permittedHostDevices fragment")
    if not isinstance(phd, dict) or set(phd) - {"pciHostDevices", "mediatedDevices", "usb"}:
        problem(path, "permittedHostDevices keys: %r" % (phd,))
        return
    seen = set()
    for i, e in enumerate(phd.get("pciHostDevices") or []):
        where = "pciHostDevices[%d]" % i
        if not isinstance(e, dict) or set(e) != {"pciVendorSelector", "resourceName",
                                                 "externalResourceProvider"}:
            problem(path, "%s: keys %r" % (where, e))
            continue
        if not re.match(r"^[0-9A-F]{4}:[0-9A-F]{4}$", str(e["pciVendorSelector"])):
            problem(path, "%s: pciVendorSelector %r" % (where, e["pciVendorSelector"]))
        if e["pciVendorSelector"] in seen:
            problem(path, "%s: pciVendorSelector %s twice" % (where, e["pciVendorSelector"]))
        seen.add(e["pciVendorSelector"])
        resource_name(path, where, e["resourceName"])
        if e["externalResourceProvider"] is not False:
            problem(path, "%s: externalResourceProvider is not false" % where)
    names, resources = set(), set()
    for i, e in enumerate(phd.get("mediatedDevices") or []):
        where = "mediatedDevices[%d]" % i
        if not isinstance(e, dict) or set(e) != {"mdevNameSelector", "resourceName",
                                                 "externalResourceProvider"}:
            problem(path, "%s: keys %r" % (where, e))
            continue
        if not isinstance(e["mdevNameSelector"], str) or not e["mdevNameSelector"]:
            problem(path, "%s: mdevNameSelector %r" % (where, e["mdevNameSelector"]))
        # KubeVirt matches the name with spaces made '_': one entry per name
        key = str(e["mdevNameSelector"]).replace(" ", "_")
        if key in names:
            problem(path, "%s: mdevNameSelector %r twice" % (where, e["mdevNameSelector"]))
        names.add(key)
        resource_name(path, where, e["resourceName"])
        if e["resourceName"] in resources:
            problem(path, "%s: resourceName %s twice" % (where, e["resourceName"]))
        resources.add(e["resourceName"])
        if e["externalResourceProvider"] is not False:
            problem(path, "%s: externalResourceProvider is not false" % where)


# ---------------------------------------------------------------- nova

def check_nova(path, text):
    try:
        from oslo_config import cfg
    except ImportError:
        sys.stderr.write("export-parse: python3-oslo.config is missing (scripts/packages.list)\n")
        sys.exit(2)
    conf = cfg.ConfigOpts()
    conf.register_opts([cfg.MultiStrOpt("device_spec", default=[]),
                        cfg.MultiStrOpt("alias", default=[])], group="pci")
    conf.register_opts([cfg.ListOpt("enabled_mdev_types", default=[])], group="devices")
    try:
        conf(args=["--config-file", path], project="nova", default_config_files=[])
    except Exception as e:  # oslo.config's parse errors have no common base
        problem(path, "oslo.config: %s" % e)
        return
    ids = set()
    for v in conf.pci.device_spec:
        try:
            spec = json.loads(v)
        except ValueError as e:
            problem(path, "device_spec %r is not JSON: %s" % (v, e))
            continue
        if not isinstance(spec, dict) or set(spec) != {"vendor_id", "product_id", "address"}:
            problem(path, "device_spec keys: %r" % (spec,))
            continue
        if not HEX4.match(spec["vendor_id"]) or not HEX4.match(spec["product_id"]):
            problem(path, "device_spec ids: %r" % (spec,))
        if not PCI_ADDR.match(spec["address"]):
            problem(path, "device_spec address: %r" % (spec,))
        ids.add((spec["vendor_id"], spec["product_id"]))
    aliased, anames = set(), set()
    for v in conf.pci.alias:
        try:
            alias = json.loads(v)
        except ValueError as e:
            problem(path, "alias %r is not JSON: %s" % (v, e))
            continue
        if not isinstance(alias, dict) or \
                set(alias) != {"name", "vendor_id", "product_id", "device_type"}:
            problem(path, "alias keys: %r" % (alias,))
            continue
        if not HEX4.match(alias["vendor_id"]) or not HEX4.match(alias["product_id"]):
            problem(path, "alias ids: %r" % (alias,))
        if alias["device_type"] not in ("type-PCI", "type-PF", "type-VF"):
            problem(path, "alias device_type: %r" % (alias,))
        # a flavor asks for "pci_passthrough:alias" = "NAME:COUNT[,NAME:COUNT]"
        if not alias["name"] or re.search(r"[:,\s]", alias["name"]):
            problem(path, "alias name %r" % alias["name"])
        if alias["name"] in anames:
            problem(path, "alias name %s twice" % alias["name"])
        anames.add(alias["name"])
        aliased.add((alias["vendor_id"], alias["product_id"]))
    for i in sorted(ids - aliased):
        problem(path, "no alias for device_spec ids %s:%s" % i)
    # nova registers [mdev_TYPE] device_addresses for every enabled type
    owner = {}
    for t in conf.devices.enabled_mdev_types:
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", t):
            problem(path, "enabled_mdev_types: %r" % t)
            continue
        conf.register_opt(cfg.ListOpt("device_addresses", default=[]), group="mdev_%s" % t)
        conf.register_opt(cfg.StrOpt("mdev_class", default="VGPU",
                                     regex=r"^(VGPU|CUSTOM_[A-Z0-9_]+)$"), group="mdev_%s" % t)
        addrs = conf["mdev_%s" % t].device_addresses
        if not addrs:
            problem(path, "[mdev_%s] has no device_addresses" % t)
        for a in addrs:
            if not PCI_ADDR.match(a):
                problem(path, "[mdev_%s] address %r" % (t, a))
            if a in owner:
                problem(path, "%s under mdev types %s and %s" % (a, owner[a], t))
            owner[a] = t
    sections = re.findall(r"^\[([^\]]*)\]\s*$", text, re.M)
    for s in sections:
        if s.startswith("mdev_") and s[5:] not in conf.devices.enabled_mdev_types:
            problem(path, "[%s] is no enabled type's" % s)
        elif not s.startswith("mdev_") and s not in ("pci", "devices"):
            problem(path, "unexpected section [%s]" % s)


# ---------------------------------------------------------------- Proxmox VE

PCI_RE = r"[a-f0-9]{4,}:[a-f0-9]{2}:[a-f0-9]{2}(?:\.[a-f0-9])?"
MAP_KEYS = {
    "node": re.compile(r"^([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)$"),
    # PVE's pattern takes either case; sysfs gives lower case and PVE compares strings
    "id": re.compile(r"^[0-9a-f]{4}:[0-9a-f]{4}$"),
    "subsystem-id": re.compile(r"^[0-9a-f]{4}:[0-9a-f]{4}$"),
    "path": re.compile(r"^(?:%s;)*%s$" % (PCI_RE, PCI_RE)),
    "iommugroup": re.compile(r"^[+-]?\d+$"),
    "description": re.compile(r"^[^,]{0,4096}$"),
}
CONFIGID = re.compile(r"^[a-z][a-z0-9_-]+$", re.I)


def check_proxmox(path, text):
    sections = {}
    cur = None
    for n, line in enumerate(text.split("\n"), 1):
        where = "line %d" % n
        if re.match(r"^\s*#", line):
            continue
        if not line:
            cur = None
            continue
        if cur is None:
            m = re.match(r"^(\S+)\s*$", line)
            if not m:
                problem(path, "%s: no section id: %r" % (where, line))
                continue
            if not CONFIGID.match(m.group(1)):
                problem(path, "%s: section id %r is no pve-configid" % (where, m.group(1)))
            if m.group(1) in sections:
                problem(path, "%s: section %s twice" % (where, m.group(1)))
            cur = sections.setdefault(m.group(1), {"map": []})
            continue
        m = re.match(r"^\s+(\S+)(\s+(.*\S))?\s*$", line)
        if not m or not line.startswith("\t"):
            problem(path, "%s: not a property line: %r" % (where, line))
            continue
        k, v = m.group(1), m.group(3) or ""
        if k == "map":
            cur["map"].append((where, v))
        elif k in ("description", "mdev"):
            if k in cur:
                problem(path, "%s: %s twice" % (where, k))
            cur[k] = v
        else:
            problem(path, "%s: unknown property %r" % (where, k))
    for sid, sec in sections.items():
        if not sec["map"]:
            problem(path, "%s: no map (required)" % sid)
        if "mdev" in sec and sec["mdev"] not in ("0", "1"):
            problem(path, "%s: mdev %r" % (sid, sec["mdev"]))
        if "description" in sec and (len(sec["description"]) > 4096 or
                                     re.search(r"[\x00-\x1f\x7f]", sec["description"])):
            problem(path, "%s: description %r" % (sid, sec["description"]))
        for where, v in sec["map"]:
            props = {}
            for part in v.split(","):
                m = re.match(r"^([^=]+)=(.+)$", part)
                if not m:
                    problem(path, "%s: map part %r" % (where, part))
                    continue
                if m.group(1) in props:
                    problem(path, "%s: %s twice" % (where, m.group(1)))
                props[m.group(1)] = m.group(2)
            for k, val in props.items():
                if k not in MAP_KEYS:
                    problem(path, "%s: unknown map key %r" % (where, k))
                elif not MAP_KEYS[k].match(val):
                    problem(path, "%s: map %s=%r" % (where, k, val))
            for k in ("node", "id", "path"):
                if k not in props:
                    problem(path, "%s: map without %s" % (where, k))


# ---------------------------------------------------------------- NFD

def check_nfd(path, text):
    if len(text.encode()) > 64 * 1024:
        problem(path, "over NFD's 64 kB feature file limit")
    seen = set()
    for n, line in enumerate(text.split("\n"), 1):
        where = "line %d" % n
        if not line or line.startswith("#"):
            if line.startswith("# +"):
                problem(path, "%s: a comment NFD takes for a directive" % where)
            continue
        key, _, value = line.partition("=")
        if "/" not in key:
            problem(path, "%s: label %r without a prefix" % (where, key))
            continue
        prefix, name = key.split("/", 1)
        if not dns_subdomain(prefix):
            problem(path, "%s: prefix %r" % (where, prefix))
        if k8s_own(prefix) and prefix not in ("feature.node.kubernetes.io",
                                              "profile.node.kubernetes.io"):
            problem(path, "%s: prefix %r is one NFD drops" % (where, prefix))
        if len(name) > 63 or not QUALIFIED_NAME.match(name):
            problem(path, "%s: label name %r" % (where, name))
        if len(value) > 63 or not LABEL_VALUE.match(value):
            problem(path, "%s: label value %r" % (where, value))
        if key in seen:
            problem(path, "%s: %s twice" % (where, key))
        seen.add(key)


CHECKS = {"kubevirt": check_kubevirt, "nova": check_nova, "proxmox": check_proxmox,
          "nfd": check_nfd}


def main(argv):
    if len(argv) < 2:
        sys.stderr.write("usage: export-parse.py FILE.{kubevirt,nova,proxmox,nfd}...\n")
        return 2
    for path in argv[1:]:
        fmt = path.rsplit(".", 1)[-1]
        if fmt not in CHECKS:
            problem(path, "unknown format .%s" % fmt)
            continue
        with open(path, "rb") as f:
            raw = f.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            problem(path, "not UTF-8: %s" % e)
            continue
        if fmt in ("nova", "nfd") and re.search(r"[^\x20-\x7e\n]", text):
            problem(path, "a byte outside printable ASCII and newline")
        if fmt == "proxmox" and re.search(r"[^\x20-\x7e\n\t]", text):
            problem(path, "a byte outside printable ASCII, tab and newline")
        if not text.endswith("\n"):
            problem(path, "no newline at the end")
        CHECKS[fmt](path, text)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
