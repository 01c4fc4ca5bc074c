#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""PF-side setup of NVMe SR-IOV VFs, without nvme-cli (scenario sriov, inside the guest).

An NVMe VF is a secondary controller of the PF's primary controller; it has no queues
and no interrupt vectors until the primary assigns them (NVMe Virtualization
Management, admin opcode 1Ch) and sets it online. Before that, the nvme driver sees a
controller that never becomes ready (CSTS=0x2). This is what `nvme virt-mgmt` does.

  nvme_admin.py /dev/nvmeN list
      Identify CNS 15h: one line per secondary controller,
      "scid=S vfn=V online=0|1 vq=N vi=N"
  nvme_admin.py /dev/nvmeN assign VFN VQ VI
      assign VQ queues and VI interrupt vectors to the secondary controller of VF
      number VFN (1-based, as the spec counts), then set it online
Exit status: 0 done, 1 the controller refused (NVMe status printed), 2 usage or I/O error.
"""
import ctypes
import fcntl
import os
import struct
import sys

# struct nvme_passthru_cmd (linux/nvme_ioctl.h): opcode flags rsvd1 nsid cdw2 cdw3
# metadata addr metadata_len data_len cdw10..cdw15 timeout_ms result
CMD = struct.Struct('<BBHIIIQQIIIIIIIIII')
NVME_IOCTL_ADMIN_CMD = (3 << 30) | (CMD.size << 16) | (ord('N') << 8) | 0x41
OP_IDENTIFY, OP_VIRT_MGMT = 0x06, 0x1C
CNS_SECONDARY_LIST = 0x15
ACT_ASSIGN, ACT_ONLINE = 8, 9
RT_VQ, RT_VI = 0, 1


def admin(fd, opcode, cdw10, cdw11=0, buf=None):
    addr = ctypes.addressof(buf) if buf is not None else 0
    size = ctypes.sizeof(buf) if buf is not None else 0
    raw = bytearray(CMD.pack(opcode, 0, 0, 0, 0, 0, 0, addr, 0, size,
                             cdw10, cdw11, 0, 0, 0, 0, 0, 0))
    status = fcntl.ioctl(fd, NVME_IOCTL_ADMIN_CMD, raw, True)
    return status


def secondaries(fd):
    buf = ctypes.create_string_buffer(4096)
    st = admin(fd, OP_IDENTIFY, CNS_SECONDARY_LIST, buf=buf)
    if st:
        raise RuntimeError('Identify secondary controller list: NVMe status 0x%x' % st)
    data = buf.raw
    out = []
    for i in range(data[0]):
        off = 32 + 32 * i
        scid, _pcid, scs = struct.unpack_from('<HHB', data, off)
        vfn, nvq, nvi = struct.unpack_from('<HHH', data, off + 8)
        out.append({'scid': scid, 'vfn': vfn, 'online': scs & 1, 'vq': nvq, 'vi': nvi})
    return out


def virt_mgmt(fd, scid, act, rt, nr):
    st = admin(fd, OP_VIRT_MGMT, (scid << 16) | (rt << 8) | act, nr)
    if st:
        raise RuntimeError('Virtualization Management cntlid=%d act=%d rt=%d nr=%d: NVMe '
                           'status 0x%x' % (scid, act, rt, nr, st))


def main(argv):
    if len(argv) < 3 or argv[2] not in ('list', 'assign') or (argv[2] == 'assign' and len(argv) != 6):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        fd = os.open(argv[1], os.O_RDWR)
    except OSError as e:
        print('%s: %s' % (argv[1], e), file=sys.stderr)
        return 2
    try:
        if argv[2] == 'list':
            for s in secondaries(fd):
                print('scid=%(scid)d vfn=%(vfn)d online=%(online)d vq=%(vq)d vi=%(vi)d' % s)
            return 0
        vfn, vq, vi = (int(x) for x in argv[3:6])
        sec = [s for s in secondaries(fd) if s['vfn'] == vfn]
        if not sec:
            print('no secondary controller for VF number %d' % vfn, file=sys.stderr)
            return 1
        scid = sec[0]['scid']
        virt_mgmt(fd, scid, ACT_ASSIGN, RT_VQ, vq)
        virt_mgmt(fd, scid, ACT_ASSIGN, RT_VI, vi)
        virt_mgmt(fd, scid, ACT_ONLINE, 0, 0)
        print('VF %d: secondary controller %d got %d queues and %d interrupts, online' % (vfn, scid, vq, vi))
        return 0
    except RuntimeError as e:
        print(e, file=sys.stderr)
        return 1
    except OSError as e:
        print('%s: ioctl: %s' % (argv[1], e), file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
