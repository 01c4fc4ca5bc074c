#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Oracle for vfio-mdev's JSON, run inside the test guest (scenarios mdev, sriov).

Rebuilds what vfio-mdev should say from the kernel's sysfs and compares. Prints
PASS:/FAIL:/INFO: lines (guest/lib.sh's relay counts them).

  mdev_json.py types FILE
      FILE is `vfio-mdev types --json`. Every parent in /sys/class/mdev_bus must be
      listed (name, kind "mdev", driver) with every type of its mdev_supported_types:
      id = the type's directory name, name = its `name` file (the id when it has none),
      description, available_instances, device_api, instances = entries in devices/.
  mdev_json.py list FILE [--expect UUID=PARENT:TYPE]... [--none]
      FILE is `vfio-mdev list --json`. Every device in /sys/bus/mdev/devices must be an
      active instance with its parent, type, IOMMU group and sysfs path; no active
      instance may be missing from sysfs. --expect names instances that must be there,
      --none says there must be no active instance at all.
  mdev_json.py sriov FILE PF
      FILE is `vfio-mdev sriov PF --json`: the PF's driver, totalvfs, numvfs,
      drivers_autoprobe, and its VFs (index, address from virtfnN, driver, IOMMU group)
      as sysfs has them.
"""
import json
import os
import sys

MDEV_BUS = '/sys/class/mdev_bus'
MDEV_DEVS = '/sys/bus/mdev/devices'
PCI = '/sys/bus/pci/devices'
fails = 0


def ok(msg):
    print('PASS: ' + msg)


def bad(msg):
    global fails
    fails += 1
    print('FAIL: ' + msg)


def info(msg):
    print('INFO: ' + msg)


def rd(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def link_base(path):
    try:
        return os.path.basename(os.readlink(path))
    except OSError:
        return None


def load(path, what):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        bad('%s: not JSON: %s' % (what, e))
        return None


def expect(desc, got, want):
    if got == want:
        ok('%s: %r' % (desc, want))
    else:
        bad('%s: got %r, want %r' % (desc, got, want))


def sysfs_types():
    parents = {}
    for p in sorted(os.listdir(MDEV_BUS)) if os.path.isdir(MDEV_BUS) else []:
        tdir = os.path.join(MDEV_BUS, p, 'mdev_supported_types')
        types = {}
        for t in sorted(os.listdir(tdir)) if os.path.isdir(tdir) else []:
            d = os.path.join(tdir, t)
            devs = os.path.join(d, 'devices')
            types[t] = {
                'name': rd(os.path.join(d, 'name')) or t,
                'description': rd(os.path.join(d, 'description')),
                'available_instances': int(rd(os.path.join(d, 'available_instances')) or -1),
                'device_api': rd(os.path.join(d, 'device_api')),
                'instances': len(os.listdir(devs)) if os.path.isdir(devs) else 0,
            }
        parents[p] = {'driver': link_base(os.path.join(MDEV_BUS, p, 'driver')), 'types': types}
    return parents


def cmd_types(path):
    j = load(path, 'vfio-mdev types --json')
    if j is None:
        return
    want = sysfs_types()
    got = {p.get('name'): p for p in j.get('parents', [])}
    expect('types --json: parents = /sys/class/mdev_bus', sorted(got), sorted(want))
    for pname, wp in want.items():
        gp = got.get(pname)
        if gp is None:
            continue
        if gp.get('kind') != 'mdev':
            bad('types --json: parent %s kind %r, want "mdev"' % (pname, gp.get('kind')))
        if gp.get('driver') != wp['driver']:
            bad('types --json: parent %s driver %r, sysfs says %r' % (pname, gp.get('driver'), wp['driver']))
        gt = {t.get('id'): t for t in gp.get('types', [])}
        if sorted(gt) != sorted(wp['types']):
            bad('types --json: %s types %s, sysfs has %s' % (pname, sorted(gt), sorted(wp['types'])))
            continue
        diffs = []
        for tid, wt in wp['types'].items():
            for k, v in wt.items():
                if gt[tid].get(k) != v:
                    diffs.append('%s.%s=%r (sysfs %r)' % (tid, k, gt[tid].get(k), v))
        if diffs:
            bad('types --json: %s: %s' % (pname, ', '.join(diffs)))
        else:
            ok('types --json: %s types %s with name, description, available_instances (%s), '
               'instances, device_api = sysfs' % (
                   pname, ' '.join(sorted(gt)),
                   ' '.join('%s=%d' % (t, wp['types'][t]['available_instances']) for t in sorted(gt))))


def cmd_list(path, expects, none):
    j = load(path, 'vfio-mdev list --json')
    if j is None:
        return
    active = {i.get('id'): i for i in j.get('instances', []) if i.get('active')}
    sysdevs = sorted(os.listdir(MDEV_DEVS)) if os.path.isdir(MDEV_DEVS) else []
    expect('list --json: active instances = /sys/bus/mdev/devices', sorted(active), sysdevs)
    for u in sysdevs:
        i = active.get(u)
        if i is None:
            continue
        d = os.path.join(MDEV_DEVS, u)
        want = {
            'kind': 'mdev',
            'parent': os.path.basename(os.path.dirname(os.path.realpath(d))),
            'type': link_base(os.path.join(d, 'mdev_type')),
            'iommu_group': int(link_base(os.path.join(d, 'iommu_group')) or -1),
            'sysfs_path': os.path.realpath(d),
        }
        # any path naming the device will do (/sys/bus/mdev/devices/U or the real one)
        if i.get('sysfs_path') and os.path.realpath(i['sysfs_path']) == want['sysfs_path']:
            want['sysfs_path'] = i['sysfs_path']
        diffs = ['%s=%r (sysfs %r)' % (k, i.get(k), v) for k, v in want.items() if i.get(k) != v]
        if diffs:
            bad('list --json: %s: %s' % (u, ', '.join(diffs)))
        else:
            ok('list --json: %s parent %s type %s group %d, sysfs_path %s = sysfs' % (
                u, want['parent'], want['type'], want['iommu_group'], want['sysfs_path']))
    for e in expects:
        u, pt = e.split('=', 1)
        p, t = pt.split(':', 1)
        i = active.get(u)
        if i and i.get('parent') == p and i.get('type') == t:
            ok('list --json shows %s as %s on %s' % (u, t, p))
        else:
            bad('list --json: want %s as %s on %s, got %r' % (u, t, p, i))
    if none:
        expect('list --json: no active instance left', sorted(active), [])


def cmd_sriov(path, pf):
    j = load(path, 'vfio-mdev sriov --json')
    if j is None:
        return
    pfs = {p.get('address'): p for p in j.get('pfs', [])}
    if pf not in pfs:
        bad('sriov --json: PF %s not listed (got %s)' % (pf, sorted(pfs)))
        return
    p = pfs[pf]
    d = os.path.join(PCI, pf)
    want = {
        'driver': link_base(os.path.join(d, 'driver')),
        'totalvfs': int(rd(os.path.join(d, 'sriov_totalvfs'))),
        'numvfs': int(rd(os.path.join(d, 'sriov_numvfs'))),
        'drivers_autoprobe': rd(os.path.join(d, 'sriov_drivers_autoprobe')) == '1',
    }
    vfs = []
    n = 0
    while os.path.exists(os.path.join(d, 'virtfn%d' % n)):
        vf = link_base(os.path.join(d, 'virtfn%d' % n))
        vd = os.path.join(PCI, vf)
        g = link_base(os.path.join(vd, 'iommu_group'))
        vfs.append({'index': n, 'address': vf, 'driver': link_base(os.path.join(vd, 'driver')),
                    'iommu_group': int(g) if g else None})
        n += 1
    diffs = ['%s=%r (sysfs %r)' % (k, p.get(k), v) for k, v in want.items() if p.get(k) != v]
    gvfs = [{k: v.get(k) for k in ('index', 'address', 'driver', 'iommu_group')} for v in p.get('vfs', [])]
    if gvfs != vfs:
        diffs.append('vfs=%r (sysfs %r)' % (gvfs, vfs))
    if diffs:
        bad('sriov --json %s: %s' % (pf, ', '.join(diffs)))
    else:
        ok('sriov --json %s: driver %s, %d of %d VFs, autoprobe %s, VFs [%s] = sysfs' % (
            pf, want['driver'], want['numvfs'], want['totalvfs'],
            'on' if want['drivers_autoprobe'] else 'off',
            ', '.join('%s group %s driver %s' % (v['address'], v['iommu_group'], v['driver']) for v in vfs)))


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    if argv[1] == 'types':
        cmd_types(argv[2])
    elif argv[1] == 'list':
        exp, none, a = [], False, argv[3:]
        while a:
            if a[0] == '--expect' and len(a) > 1:
                exp.append(a[1])
                a = a[2:]
            elif a[0] == '--none':
                none = True
                a = a[1:]
            else:
                sys.exit('mdev_json.py list: bad argument %r' % a[0])
        cmd_list(argv[2], exp, none)
    elif argv[1] == 'sriov' and len(argv) == 4:
        cmd_sriov(argv[2], argv[3])
    else:
        sys.exit(__doc__)
    return 1 if fails else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
