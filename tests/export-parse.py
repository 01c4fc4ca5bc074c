#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Read vfio-ls --export documents back with the parsers their consumers use,
and check the fields and value shapes those consumers document.

    export-parse.py FILE...      the format is the file name's last suffix:
                                 .kubevirt .nova .proxmox .nfd .cdi .dra

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
  cdi       JSON validated with python3-jsonschema against the CDI schema
            (schema/schema.json and defs.json of the Go module, Debian
            golang-github-container-orchestrated-devices-container-device-
            interface-dev), then what CDI's Go loader checks beyond it: a
            known cdiVersion, the lowest one the features used need
            (specs-go/version.go: annotations and a '.' in the class 0.6.0,
            names starting with a digit and hostPath 0.5.0, ...), the kind's
            vendor and class, device names (pkg/parser), annotation keys as
            Kubernetes qualified names, at least one device, none twice, no
            device without edits; and vfiokit's shape: one vfio mode
            (VFIOKIT_VFIO_MODE in the spec's env), each device's group and
            functions (VFIOKIT_GROUP_N=ADDRESSES in its env), the mode's
            nodes (legacy: /dev/vfio/vfio and /dev/vfio/GROUP; iommufd:
            /dev/iommu and one /dev/vfio/devices/vfioN per function).
  dra       PyYAML: a resource.k8s.io/v1 ResourceSlice as the API server
            validates it (pkg/apis/resource/validation): driver a DNS
            subdomain of at most 63 characters, exactly one of nodeName,
            nodeSelector, allNodes, perDeviceNodeSelection, the pool's name,
            generation and slice count, at most 128 devices named by DNS
            labels, none twice, at most 32 attributes each, named by a C
            identifier (at most 32 characters) with an optional domain,
            each value exactly one of int, bool, string (at most 64
            characters), version (semver); the standard attributes'
            values (resource.kubernetes.io/pciBusID, pcieRoot, numaNode)
            and vfiokit's (vendorID, deviceID, iommuGroup, iommuFDEnabled).

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


# ---------------------------------------------------------------- CDI

CDI_PACKAGE = "golang-github-container-orchestrated-devices-container-device-interface-dev"
CDI_SCHEMA_GLOBS = (
    "/usr/share/gocode/src/github.com/container-orchestrated-devices/"
    "container-device-interface/schema/schema.json",
    "/usr/share/gocode/src/tags.cncf.io/container-device-interface/schema/schema.json",
    "/usr/share/gocode/src/*/*/container-device-interface/schema/schema.json",
)
# specs-go/version.go: the released versions, oldest first
CDI_VERSIONS = ["0.1.0", "0.2.0", "0.3.0", "0.4.0", "0.5.0", "0.6.0", "0.7.0", "0.8.0",
                "1.0.0", "1.1.0"]
CDI_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.:-]*[A-Za-z0-9])?$")
CDI_VENDOR_CLASS = re.compile(r"^[A-Za-z]([A-Za-z0-9_.-]*[A-Za-z0-9])?$")
K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$")
_cdi_validator = None


def cdi_validator():
    """A Draft-07 validator of CDI's schema, defs.json resolved next to it."""
    global _cdi_validator
    if _cdi_validator is not None:
        return _cdi_validator
    import glob
    import os
    import warnings
    try:
        import jsonschema
    except ImportError:
        sys.stderr.write("export-parse: python3-jsonschema is missing (scripts/packages.list)\n")
        sys.exit(2)
    found = [p for g in CDI_SCHEMA_GLOBS for p in sorted(glob.glob(g))]
    if not found:
        sys.stderr.write("export-parse: the CDI schema is missing (Debian %s, "
                         "scripts/packages.list)\n" % CDI_PACKAGE)
        sys.exit(2)
    path = found[0]
    with open(path) as f:
        schema = json.load(f)
    with open(os.path.join(os.path.dirname(path), "defs.json")) as f:
        defs = json.load(f)
    base = "file://" + os.path.dirname(path) + "/"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        resolver = jsonschema.RefResolver(base + "schema.json", schema,
                                          store={base + "defs.json": defs,
                                                 base + "schema.json": schema})
        _cdi_validator = jsonschema.Draft7Validator(schema, resolver=resolver)
    return _cdi_validator


def qualified_name(key):
    """A Kubernetes qualified name (annotation keys: case does not matter)."""
    key = key.lower()
    prefix, _, name = key.rpartition("/")
    if "/" in prefix:
        return False
    if prefix and not dns_subdomain(prefix):
        return False
    return 0 < len(name) <= 63 and K8S_NAME.match(name) is not None


def cdi_required_version(doc):
    """The oldest version the features of @doc need (specs-go/version.go)."""
    devices = doc.get("devices") or []
    edits = [d.get("containerEdits") or {} for d in devices] + [doc.get("containerEdits") or {}]
    if any(e.get("netDevices") for e in edits) or \
            any((e.get("intelRdt") or {}).get("schemata") or
                (e.get("intelRdt") or {}).get("enableMonitoring") for e in edits):
        return "1.1.0"
    if any("intelRdt" in e or e.get("additionalGids") for e in edits):
        return "0.7.0"
    if doc.get("annotations") or any(d.get("annotations") for d in devices) or \
            "." in doc.get("kind", "").partition("/")[2]:
        return "0.6.0"
    if any(d.get("name", "")[:1].isdigit() for d in devices) or \
            any(n.get("hostPath") for e in edits for n in e.get("deviceNodes") or []):
        return "0.5.0"
    if any(m.get("type") for e in edits for m in e.get("mounts") or []):
        return "0.4.0"
    return "0.3.0"


def cdi_annotations(path, where, ann):
    if ann is None:
        return {}
    if not isinstance(ann, dict):
        problem(path, "%s: annotations are no object" % where)
        return {}
    size = 0
    for k, v in ann.items():
        if not isinstance(v, str):
            problem(path, "%s: annotation %s is no string" % (where, k))
            continue
        if not qualified_name(k):
            problem(path, "%s: annotation key %r is no qualified name" % (where, k))
        size += len(k) + len(v)
    if size > 256 * 1024:
        problem(path, "%s: annotations over 256 kB" % where)
    return ann


def cdi_env(path, where, edits):
    """The "KEY=VALUE" strings of @edits' env as a dict; each must be one."""
    out = {}
    for e in (edits or {}).get("env") or []:
        key, eq, value = e.partition("=")
        if not eq or not C_IDENTIFIER.match(key) or key in out:
            problem(path, "%s: env entry %r" % (where, e))
        out[key] = value
    return out


def check_cdi(path, text):
    validator = cdi_validator()
    try:
        doc = json.loads(text)
    except ValueError as e:
        problem(path, "not JSON: %s" % e)
        return
    if not isinstance(doc, dict):
        problem(path, "not a JSON object")
        return
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.path)))
    for e in errors:
        problem(path, "schema: %s at %s" % (e.message, "/".join(map(str, e.path)) or "top"))
    if errors:
        return
    version = doc["cdiVersion"].lstrip("v")
    if version not in CDI_VERSIONS:
        problem(path, "cdiVersion %r is no CDI version" % doc["cdiVersion"])
    elif version != cdi_required_version(doc):
        problem(path, "cdiVersion %s, but the features used need %s (the lowest is wanted)"
                % (version, cdi_required_version(doc)))
    vendor, slash, cls = doc["kind"].partition("/")
    if not slash or not CDI_VENDOR_CLASS.match(vendor) or not CDI_VENDOR_CLASS.match(cls) \
            or "/" in cls:
        problem(path, "kind %r is no VENDOR/CLASS" % doc["kind"])
    cdi_annotations(path, "spec", doc.get("annotations"))
    spec_env = cdi_env(path, "spec", doc.get("containerEdits"))
    mode = spec_env.get("VFIOKIT_VFIO_MODE")
    if mode not in ("legacy", "iommufd"):
        problem(path, "VFIOKIT_VFIO_MODE %r" % mode)
    api = "/dev/iommu" if mode == "iommufd" else "/dev/vfio/vfio"
    spec_nodes = [n.get("path") for n in (doc.get("containerEdits") or {}).get("deviceNodes", [])]
    if spec_nodes != [api]:
        problem(path, "the spec's device nodes %r, not [%r]" % (spec_nodes, api))
    if not doc["devices"]:
        problem(path, "no devices (CDI refuses the spec)")
    names = set()
    for i, d in enumerate(doc["devices"]):
        where = "devices[%d]" % i
        name = d["name"]
        if not CDI_NAME.match(name):
            problem(path, "%s: name %r is no CDI device name" % (where, name))
        if name in names:
            problem(path, "%s: name %s twice" % (where, name))
        names.add(name)
        edits = d.get("containerEdits") or {}
        if not any(edits.get(k) for k in ("env", "deviceNodes", "hooks", "mounts", "netDevices",
                                          "intelRdt", "additionalGids")):
            problem(path, "%s: no container edits" % where)
        cdi_annotations(path, where, d.get("annotations"))
        env = cdi_env(path, where, edits)
        groups = [k for k in env if k.startswith("VFIOKIT_GROUP_")]
        group = groups[0][len("VFIOKIT_GROUP_"):] if len(groups) == 1 else ""
        addrs = env.get(groups[0], "").split(",") if len(groups) == 1 else []
        if not re.match(r"^(0|[1-9][0-9]*)$", group):
            problem(path, "%s: no one VFIOKIT_GROUP_N in its env: %r" % (where, sorted(env)))
        if not all(PCI_ADDR.match(a) for a in addrs) or name not in addrs:
            problem(path, "%s: VFIOKIT_GROUP_%s=%r" % (where, group, addrs))
        nodes = [n.get("path", "") for n in edits.get("deviceNodes") or []]
        if not all(n.startswith("/") for n in nodes):
            problem(path, "%s: a device node path that is not absolute: %r" % (where, nodes))
        if mode == "legacy" and nodes != ["/dev/vfio/" + group]:
            problem(path, "%s: legacy nodes %r, not /dev/vfio/%s" % (where, nodes, group))
        if mode == "iommufd" and (len(nodes) != len(addrs) or len(set(nodes)) != len(nodes) or
                                  not all(re.match(r"^/dev/vfio/devices/vfio[0-9]+$", n)
                                          for n in nodes)):
            problem(path, "%s: iommufd nodes %r for %r" % (where, nodes, addrs))


# ---------------------------------------------------------------- DRA

C_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                    r"(-(0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(\.(0|[1-9]\d*|\d*[a-zA-Z-]"
                    r"[0-9a-zA-Z-]*))*)?(\+[0-9a-zA-Z-]+(\.[0-9a-zA-Z-]+)*)?$")
BDF = re.compile(r"^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-9a-f]$")
STANDARD = "resource.kubernetes.io/"


def dns_label(s):
    return isinstance(s, str) and len(s) <= 63 and re.match("^%s$" % DNS_LABEL, s) is not None


def driver_name(s):
    return isinstance(s, str) and len(s) <= 63 and dns_subdomain(s)


def attribute_name(name):
    """A QualifiedName: a C identifier, or DOMAIN/C identifier."""
    parts = name.split("/")
    if len(parts) > 2 or (len(parts) == 2 and not driver_name(parts[0])):
        return False
    return len(parts[-1]) <= 32 and C_IDENTIFIER.match(parts[-1]) is not None


def attribute_value(path, where, v):
    """Exactly one of int, bool, string, version, of its type: the value, or None."""
    if not isinstance(v, dict) or len(v) != 1 or \
            next(iter(v)) not in ("int", "bool", "string", "version"):
        problem(path, "%s: not exactly one of int, bool, string, version: %r" % (where, v))
        return None
    kind, value = next(iter(v.items()))
    if kind == "int" and (type(value) is not int or not -2**63 <= value < 2**63):
        problem(path, "%s: int %r" % (where, value))
    elif kind == "bool" and type(value) is not bool:
        problem(path, "%s: bool %r" % (where, value))
    elif kind in ("string", "version") and (not isinstance(value, str) or len(value) > 64):
        problem(path, "%s: %s %r (a string of at most 64 characters)" % (where, kind, value))
    elif kind == "version" and not SEMVER.match(value):
        problem(path, "%s: version %r is no semver" % (where, value))
    return value


# the attributes vfiokit writes: their kind and the shape of their values
DRA_ATTRIBUTES = {
    STANDARD + "pciBusID": ("string", lambda v: BDF.match(v)),
    STANDARD + "pcieRoot": ("string", lambda v: re.match(r"^pci[0-9a-f]{4,}:[0-9a-f]{2}$", v)),
    STANDARD + "numaNode": ("int", lambda v: v >= 0),
    "vendorID": ("string", lambda v: re.match(r"^0x[0-9a-f]{4}$", v)),
    "deviceID": ("string", lambda v: re.match(r"^0x[0-9a-f]{4}$", v)),
    "iommuGroup": ("int", lambda v: v >= 0),
    "iommuFDEnabled": ("bool", lambda v: True),
}


def check_dra(path, text):
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
    if not isinstance(doc, dict) or set(doc) != {"apiVersion", "kind", "metadata", "spec"}:
        problem(path, "not apiVersion, kind, metadata and spec: %r" % (doc,))
        return
    if doc["apiVersion"] != "resource.k8s.io/v1" or doc["kind"] != "ResourceSlice":
        problem(path, "%s %s is no resource.k8s.io/v1 ResourceSlice" % (doc["apiVersion"],
                                                                       doc["kind"]))
    meta = doc["metadata"]
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or \
            not dns_subdomain(meta["name"]):
        problem(path, "metadata.name: %r" % (meta,))
    spec = doc["spec"]
    if not isinstance(spec, dict):
        problem(path, "spec is no mapping")
        return
    unknown = set(spec) - {"driver", "pool", "nodeName", "nodeSelector", "allNodes",
                           "perDeviceNodeSelection", "devices", "sharedCounters"}
    if unknown:
        problem(path, "spec: unknown fields %r" % sorted(unknown))
    if not driver_name(spec.get("driver")):
        problem(path, "spec.driver %r is no DNS subdomain of at most 63 characters"
                % spec.get("driver"))
    node_fields = [k for k in ("nodeName", "nodeSelector", "allNodes", "perDeviceNodeSelection")
                   if spec.get(k) not in (None, False, "")]
    if len(node_fields) != 1:
        problem(path, "spec: exactly one of nodeName, nodeSelector, allNodes, "
                      "perDeviceNodeSelection, not %r" % node_fields)
    if "nodeName" in spec and not (isinstance(spec["nodeName"], str) and
                                   dns_subdomain(spec["nodeName"])):
        problem(path, "spec.nodeName %r is no node name" % spec["nodeName"])
    pool = spec.get("pool")
    if not isinstance(pool, dict) or set(pool) != {"name", "generation", "resourceSliceCount"}:
        problem(path, "spec.pool: %r" % (pool,))
    else:
        if not isinstance(pool["name"], str) or len(pool["name"]) > 253 or \
                not all(dns_subdomain(p) for p in pool["name"].split("/")):
            problem(path, "spec.pool.name %r" % pool["name"])
        if type(pool["generation"]) is not int or pool["generation"] < 0:
            problem(path, "spec.pool.generation %r" % pool["generation"])
        if type(pool["resourceSliceCount"]) is not int or pool["resourceSliceCount"] < 1:
            problem(path, "spec.pool.resourceSliceCount %r" % pool["resourceSliceCount"])
    devices = spec.get("devices")
    if devices is None:
        devices = []
    if not isinstance(devices, list) or len(devices) > 128:
        problem(path, "spec.devices: a list of at most 128 devices")
        return
    names = set()
    for i, d in enumerate(devices):
        where = "spec.devices[%d]" % i
        if not isinstance(d, dict) or set(d) - {"name", "attributes", "capacity"}:
            problem(path, "%s: fields %r" % (where, d))
            continue
        if not dns_label(d.get("name")):
            problem(path, "%s: name %r is no DNS label" % (where, d.get("name")))
        if d.get("name") in names:
            problem(path, "%s: name %s twice" % (where, d.get("name")))
        names.add(d.get("name"))
        attrs = d.get("attributes") or {}
        if not isinstance(attrs, dict):
            problem(path, "%s: attributes are no mapping" % where)
            continue
        if len(attrs) + len(d.get("capacity") or {}) > 32:
            problem(path, "%s: over 32 attributes and capacities" % where)
        for name, v in attrs.items():
            if not isinstance(name, str) or not attribute_name(name):
                problem(path, "%s: attribute name %r" % (where, name))
                continue
            value = attribute_value(path, "%s.%s" % (where, name), v)
            if name.startswith(STANDARD) and name not in DRA_ATTRIBUTES:
                problem(path, "%s: %s is no standard attribute" % (where, name))
            if name in DRA_ATTRIBUTES and value is not None:
                kind, ok = DRA_ATTRIBUTES[name]
                if next(iter(v)) != kind or not ok(value):
                    problem(path, "%s: %s %r" % (where, name, v))
        for name in ("resource.kubernetes.io/pciBusID", "vendorID", "deviceID", "iommuGroup",
                     "iommuFDEnabled"):
            if name not in attrs:
                problem(path, "%s: no attribute %s" % (where, name))


CHECKS = {"kubevirt": check_kubevirt, "nova": check_nova, "proxmox": check_proxmox,
          "nfd": check_nfd, "cdi": check_cdi, "dra": check_dra}


def main(argv):
    if len(argv) < 2:
        sys.stderr.write("usage: export-parse.py FILE.{kubevirt,nova,proxmox,nfd,cdi,dra}...\n")
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
        if fmt in ("nova", "nfd", "cdi", "dra") and re.search(r"[^\x20-\x7e\n]", text):
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
