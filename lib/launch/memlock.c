/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QEMU's locked-memory limit for the QEMU backend (libvirt sets its own):
 * VFIO pins guest RAM and charges it to RLIMIT_MEMLOCK unless the process
 * holds CAP_IPC_LOCK, and a limit too small ends the VM with VFIO_MAP_DMA
 * failing ENOMEM. The plan says how much (vfk_plan_get_memlock_bytes());
 * this runs in the forked child, before QEMU is executed.
 */
#include <linux/capability.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "core/internal.h"
#include "launch/memlock.h"

static bool has_cap_ipc_lock(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return d[CAP_TO_INDEX(CAP_IPC_LOCK)].effective & CAP_TO_MASK(CAP_IPC_LOCK);
}

/* "64 KiB", "8 MiB" */
static const char *size_str(unsigned long long b, char *buf, size_t size)
{
	snprintf(buf, size, b >= (1ULL << 20) ? "%llu MiB" : "%llu KiB",
		 b >= (1ULL << 20) ? b >> 20 : b >> 10);
	return buf;
}

int memlock_raise(unsigned long long bytes, int errfd)
{
	struct rlimit rl, want;
	char now[32], need[32];
	int e;

	if (!bytes || getrlimit(RLIMIT_MEMLOCK, &rl) < 0)
		return 0;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= bytes)
		return 0;
	want.rlim_cur = bytes;
	want.rlim_max = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= bytes ? rl.rlim_max : bytes;
	if (setrlimit(RLIMIT_MEMLOCK, &want) == 0)
		return 0;
	e = errno;
	if (has_cap_ipc_lock())
		return 0;	/* VFIO does not count what such a process locks */
	dprintf(errfd, "vfiokit: the locked-memory limit (RLIMIT_MEMLOCK) of %s cannot be raised "
		"to the %s VFIO needs (%s); give QEMU CAP_IPC_LOCK or a memlock limit of that "
		"size\n", size_str(rl.rlim_cur, now, sizeof(now)), size_str(bytes, need, sizeof(need)),
		strerror(e));
	return neg_errno(e);
}
