/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* QEMU's locked-memory limit, raised for VFIO by the QEMU backend (memlock.c). */
#ifndef VFK_MEMLOCK_H
#define VFK_MEMLOCK_H

/*
 * In QEMU's forked child, before exec: RLIMIT_MEMLOCK raised to @bytes (the
 * plan's memlock figure; 0: nothing to do), the hard limit too when it is
 * lower. 0, also when it cannot be raised but the process holds CAP_IPC_LOCK
 * (VFIO does not count what it locks); else -errno, with one line on @errfd.
 */
int memlock_raise(unsigned long long bytes, int errfd);

#endif
