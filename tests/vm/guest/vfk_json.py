#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Oracle for the JSON of vfiokit's tools, run inside the test guest.

It rebuilds what the tools should say from the kernel's own sysfs view and compares.
Prints PASS:/FAIL:/INFO: lines (guest/lib.sh relays them into the scenario's counts).

  vfk_json.py ls FILE [--functions GPU=A,B] [--blocked GPU=A,B] [--isolated GPU]
                      [--driver BDF=NAME] [--only]
      FILE is `vfio-ls --json` output. Checks the stable schema of issue 2:
      {"iommu":{"enabled":bool}, "groups":[{"id":int,"devices":[{"address","class",
      "vendor","device","name","driver","bridge"}]}], "gpus":[{"address","group",
      "functions":[...],"blockers":[...],"isolated","boot_vga"}]}
      against /sys/kernel/iommu_groups and /sys/bus/pci/devices, and the GPU model rules:
      GPUs are classes 0300/0302/0380; functions = every function of the GPU's slot
      except SR-IOV VFs; blockers = endpoints in the GPU's group or a group of one of its
      functions that are not its functions, never bridges (0604) or host bridges (0600).
      The --functions/--blocked/--isolated/--driver expectations are checked too;
      --only checks just those.
  vfk_json.py check FILE
      FILE is `vfio-check --json` output: the IOMMU check must be PASS.
"""
import json
import os
import sys

SYS = '/sys/bus/pci/devices'
GROUPS = '/sys/kernel/iommu_groups'
GPU_CLASSES = ('0300', '0302', '0380')
NEVER_BLOCK = ('0600', '0604')

fails = 0


def ok(msg):
    print('PASS: ' + msg)


def bad(msg):
    global fails
    fails += 1
    print('FAIL: ' + msg)


def info(msg):
    print('INFO: ' + msg)


def rd(bdf, attr):
    try:
        with open(os.path.join(SYS, bdf, attr)) as f:
            return f.read().strip()
    except OSError:
        return None


def sysfs_devices():
    devs = {}
    for bdf in sorted(os.listdir(SYS)):
        link = os.path.join(SYS, bdf, 'driver')
        grp = os.path.join(SYS, bdf, 'iommu_group')
        devs[bdf] = {
            'class': rd(bdf, 'class')[2:6],
            'vendor': rd(bdf, 'vendor')[2:],
            'device': rd(bdf, 'device')[2:],
            'driver': os.path.basename(os.readlink(link)) if os.path.islink(link) else None,
            'group': int(os.path.basename(os.readlink(grp))) if os.path.islink(grp) else None,
            'vf': os.path.exists(os.path.join(SYS, bdf, 'physfn')),
            'boot_vga': rd(bdf, 'boot_vga') == '1',
        }
    return devs


def sysfs_groups():
    if not os.path.isdir(GROUPS):
        return {}
    return {int(g): set(os.listdir(os.path.join(GROUPS, g, 'devices')))
            for g in os.listdir(GROUPS)}


def load(path, what):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        bad('%s output is not valid JSON: %s' % (what, e))
        return None


def kv_args(args, flag):
    out = {}
    for i, a in enumerate(args):
        if a == flag:
            k, _, v = args[i + 1].partition('=')
            out[k] = [x for x in v.split(',') if x] if v else []
    return out


def cmd_ls(path, args):
    doc = load(path, 'vfio-ls --json')
    if doc is None:
        return
    devs = sysfs_devices()
    kgroups = sysfs_groups()
    tgroups, tdevs = {}, {}
    for g in doc.get('groups') or []:
        tgroups[g.get('id')] = set(d.get('address') for d in g.get('devices') or [])
        for d in g.get('devices') or []:
            tdevs[d.get('address')] = d
    tgpus = {g.get('address'): g for g in doc.get('gpus') or []}
    if '--only' not in args:
        check_model(devs, kgroups, doc, tgroups, tdevs, tgpus)
    check_expectations(args, tdevs, tgpus)


def check_model(devs, kgroups, doc, tgroups, tdevs, tgpus):
    enabled = (doc.get('iommu') or {}).get('enabled')
    if enabled is (len(kgroups) > 0):
        ok('vfio-ls: iommu.enabled=%s agrees with /sys/kernel/iommu_groups' % enabled)
    else:
        bad('vfio-ls: iommu.enabled=%r but the kernel has %d IOMMU groups' % (enabled, len(kgroups)))

    # groups and their members, exactly as the kernel has them
    if tgroups == kgroups:
        ok('vfio-ls: %d groups with the same members as /sys/kernel/iommu_groups' % len(kgroups))
    else:
        diff = ['group %s: tool %s kernel %s' % (g, sorted(tgroups.get(g, [])), sorted(kgroups.get(g, [])))
                for g in sorted(set(tgroups) | set(kgroups), key=str)
                if tgroups.get(g) != kgroups.get(g)]
        bad('vfio-ls: groups differ from the kernel: ' + '; '.join(diff[:4]))

    # per-device facts
    mism = []
    for bdf, t in sorted(tdevs.items(), key=lambda x: str(x[0])):
        k = devs.get(bdf)
        if k is None:
            mism.append('%s not in sysfs' % bdf)
            continue
        for key in ('class', 'vendor', 'device', 'driver'):
            if t.get(key) != k[key]:
                mism.append('%s %s=%r (sysfs %r)' % (bdf, key, t.get(key), k[key]))
        if not isinstance(t.get('name'), str):
            mism.append('%s name=%r is not a string' % (bdf, t.get('name')))
        if k['class'] == '0604' and t.get('bridge') is not True:
            mism.append('%s is a PCI bridge but bridge=%r' % (bdf, t.get('bridge')))
        if not k['class'].startswith('06') and t.get('bridge') is not False:
            mism.append('%s is an endpoint but bridge=%r' % (bdf, t.get('bridge')))
    if not tdevs:
        bad('vfio-ls: no devices listed')
    elif mism:
        bad('vfio-ls: device facts differ from sysfs: ' + '; '.join(mism[:6]))
    else:
        ok('vfio-ls: class, vendor, device, driver and bridge of all %d devices match sysfs' % len(tdevs))

    # GPU model
    want_gpus = sorted(b for b, d in devs.items() if d['class'] in GPU_CLASSES)
    if sorted(tgpus, key=str) == want_gpus:
        ok('vfio-ls: GPUs %s (every 0300/0302/0380 function)' % ' '.join(want_gpus))
    else:
        bad('vfio-ls: gpus %s, want %s' % (sorted(tgpus, key=str), want_gpus))
    for bdf in want_gpus:
        t = tgpus.get(bdf)
        if t is None:
            continue
        slot = bdf.rsplit('.', 1)[0]
        funcs = sorted(b for b, d in devs.items() if b.rsplit('.', 1)[0] == slot and not d['vf'])
        members = set()
        for f in funcs:
            if devs[f]['group'] is not None:
                members |= kgroups.get(devs[f]['group'], set())
        blockers = sorted(b for b in members if b not in funcs and devs[b]['class'] not in NEVER_BLOCK)
        got = {'group': t.get('group'), 'functions': sorted(t.get('functions') or []),
               'blockers': sorted(t.get('blockers') or []), 'isolated': t.get('isolated'),
               'boot_vga': t.get('boot_vga')}
        want = {'group': devs[bdf]['group'], 'functions': funcs, 'blockers': blockers,
                'isolated': not blockers, 'boot_vga': devs[bdf]['boot_vga']}
        diff = ['%s=%r (want %r)' % (k, got[k], want[k]) for k in want if got[k] != want[k]]
        if diff:
            bad('vfio-ls: GPU %s: %s' % (bdf, ', '.join(diff)))
        else:
            ok('vfio-ls: GPU %s group %s functions [%s] blockers [%s] isolated=%s agree with the kernel'
               % (bdf, want['group'], ' '.join(funcs), ' '.join(blockers), want['isolated']))



def check_expectations(args, tdevs, tgpus):
    """What the scenario's topology was built to show."""
    for g, fl in kv_args(args, '--functions').items():
        got = sorted((tgpus.get(g) or {}).get('functions') or [])
        (ok if got == sorted(fl) else bad)('vfio-ls: GPU %s has functions [%s] (want [%s])'
                                           % (g, ' '.join(got), ' '.join(sorted(fl))))
    for g, bl in kv_args(args, '--blocked').items():
        t = tgpus.get(g) or {}
        got = sorted(t.get('blockers') or [])
        good = got == sorted(bl) and t.get('isolated') is False
        (ok if good else bad)('vfio-ls: shared-group GPU %s is not isolated, blockers [%s] (want [%s])'
                              % (g, ' '.join(got), ' '.join(sorted(bl))))
    for i, a in enumerate(args):
        if a == '--isolated':
            t = tgpus.get(args[i + 1]) or {}
            (ok if t.get('isolated') is True and not t.get('blockers') else bad)(
                'vfio-ls: GPU %s isolated=%r blockers=%r' % (args[i + 1], t.get('isolated'), t.get('blockers')))
    for b, dl in kv_args(args, '--driver').items():
        got = (tdevs.get(b) or {}).get('driver')
        (ok if got == (dl[0] if dl else None) else bad)('vfio-ls: %s driver %r (want %r)'
                                                        % (b, got, dl[0] if dl else None))


def walk(o):
    if isinstance(o, dict):
        yield o
        for v in o.values():
            yield from walk(v)
    elif isinstance(o, list):
        for v in o:
            yield from walk(v)


def cmd_check(path, args):
    doc = load(path, 'vfio-check --json')
    if doc is None:
        return
    cands = []
    for o in walk(doc):
        name = next((o[k] for k in ('id', 'name', 'check', 'key') if isinstance(o.get(k), str)), None)
        status = next((o[k] for k in ('status', 'result', 'state', 'level') if isinstance(o.get(k), str)), None)
        if name and status and 'iommu' in name.lower():
            cands.append((name, status))
    # prefer the check named just "iommu"; else the first that is not about the cmdline
    cands.sort(key=lambda c: (c[0].lower() != 'iommu', 'cmdline' in c[0].lower() or 'command' in c[0].lower()))
    if not cands:
        bad('vfio-check --json: no check about the IOMMU found (looked for objects with an '
            'id/name containing "iommu" and a status)')
        return
    info('vfio-check iommu-related checks: ' + ', '.join('%s=%s' % c for c in cands))
    name, status = cands[0]
    (ok if status.upper() == 'PASS' else bad)('vfio-check --json: %s is %s (IOMMU groups exist in this guest)'
                                             % (name, status))


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ('ls', 'check'):
        sys.exit(__doc__)
    {'ls': cmd_ls, 'check': cmd_check}[sys.argv[1]](sys.argv[2], sys.argv[3:])
    sys.exit(1 if fails else 0)


if __name__ == '__main__':
    main()
