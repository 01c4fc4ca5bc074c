/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whether a process (QEMU, swtpm) still runs, as /proc below the sysroot says. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "core/internal.h"

/* num_threads of a /proc/PID/stat line, @fields starting at its state field */
static long stat_threads(const char *fields)
{
	const char *p = fields;
	int i;

	/* state is field 3, num_threads field 20 */
	for (i = 3; i < 20 && p; i++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return p ? strtol(p, NULL, 10) : 0;
}

bool proc_alive(struct vfk_ctx *ctx, int pid)
{
	_cleanup_close_ int procfd = -1;
	char rel[32], stat[1024], *p;

	if (pid <= 0)
		return false;
	/* our own child that exited is a zombie until reaped: reap it */
	if (waitpid(pid, NULL, WNOHANG) == pid)
		return false;
	if (kill(pid, 0) < 0 && errno != EPERM)
		return false;
	/*
	 * Someone else's zombie (a QEMU whose starter exited, not yet reaped by
	 * init) has exited all the same — but only once it is the last thread:
	 * after SIGKILL the group leader shows 'Z' while its vCPU threads are
	 * still tearing down and hold the VFIO device files, and restoring then
	 * meets a device the kernel still calls busy.
	 */
	procfd = vfk_root_open_dir(ctx, VFK_ROOT_PROC, "");
	snprintf(rel, sizeof(rel), "%d/stat", pid);
	if (procfd >= 0 && vfk_read_in(ctx, procfd, rel, stat, sizeof(stat)) > 0 &&
	    (p = strrchr(stat, ')')) && p[1] == ' ' && p[2] == 'Z')
		return stat_threads(p + 2) > 1;
	return true;
}

int proc_comm(struct vfk_ctx *ctx, int pid, char *buf, size_t size)
{
	_cleanup_close_ int procfd = -1;
	char rel[32];
	int n;

	if (pid <= 0 || size == 0)
		return neg_errno(EINVAL);
	procfd = vfk_root_open_dir(ctx, VFK_ROOT_PROC, "");
	if (procfd < 0)
		return procfd;
	snprintf(rel, sizeof(rel), "%d/comm", pid);
	n = vfk_read_in(ctx, procfd, rel, buf, size);
	if (n < 0)
		return n;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}
