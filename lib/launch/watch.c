/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The watcher: what restores the host when a QEMU that vfio-vm started ends
 * by itself — the guest powered off, QEMU crashed or was killed — with no
 * terminal kept open. It is a process of its own, in its own session, named
 * "vfk-watch", that holds a pidfd of QEMU (taken while QEMU is still the
 * starter's child, so the pid cannot have been reused) and sleeps in poll()
 * until QEMU is gone. Then it does what down does after stopping a VM. down
 * ends it first (SIGTERM: no cleanup) and cleans up alone, so that the two
 * never undo one VM at once.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>

#include "launch/launch.h"

#define WATCHER_NAME "vfk-watch"

static int pidfd_of(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	errno = ENOSYS;
	return -1;
#endif
}

/* Until @pid has ended: its pidfd when the kernel has them, else a look
 * every half second. Then until its last thread is gone (proc_alive()). */
static void wait_gone(struct vfk_ctx *ctx, pid_t pid, int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	if (pidfd >= 0)
		while (poll(&p, 1, -1) < 0 && errno == EINTR)
			;
	while (proc_alive(ctx, pid))
		poll(NULL, 0, pidfd >= 0 ? 50 : 500);
}

/* Out of the starter's session, its terminal and its pipes. */
static void detach(void)
{
	int null = vfk_open_null(O_RDWR);

	setsid();
	prctl(PR_SET_NAME, WATCHER_NAME, 0, 0, 0);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
}

static void __attribute__((noreturn)) watcher_main(struct vfk_ctx *ctx, const char *name,
						   pid_t qemu, int pidfd, int ready)
{
	struct vfk_vm_record rec;
	char err[512];
	int i;

	detach();
	/* named now: the starter may return, and status will know this process */
	if (write(ready, "1", 1) < 0)
		_exit(0);
	close(ready);
	/* the starter names this process in the record; until then it is not
	 * armed, and a starter that failed leaves it nothing to do */
	for (i = 0; i < 500; i++) {
		if (record_load(ctx, name, &rec) < 0)
			_exit(0);
		if (rec.pid == qemu && rec.watcher_pid == getpid())
			break;
		poll(NULL, 0, 10);
	}
	if (i == 500)
		_exit(0);
	wait_gone(ctx, qemu, pidfd);
	/* down may have finished the VM already: then its record is gone */
	if (record_load(ctx, name, &rec) < 0 || rec.pid != qemu || rec.watcher_pid != getpid())
		_exit(0);
	_exit(vm_finish(ctx, &rec, err, sizeof(err)) < 0 ? 1 : 0);
}

int watch_qemu(struct vfk_ctx *ctx, struct vfk_vm_record *rec, char *errbuf, size_t errsize)
{
	int pidfd = pidfd_of(rec->pid);
	pid_t pid;

	int ready[2] = { -1, -1 };

	if (pipe2(ready, O_CLOEXEC) < 0)
		pid = -1;
	else
		pid = fork();
	if (pid < 0) {
		int e = errno;

		if (pidfd >= 0)
			close(pidfd);
		if (ready[0] >= 0) {
			close(ready[0]);
			close(ready[1]);
		}
		if (errbuf && errsize)
			snprintf(errbuf, errsize, "cannot start the watcher of %s: %s", rec->name,
				 strerror(e));
		return neg_errno(e);
	}
	if (pid == 0) {
		close(ready[0]);
		watcher_main(ctx, rec->name, rec->pid, pidfd, ready[1]);
	}
	close(ready[1]);
	{
		/* until the child has its name (status tells a watcher by it): a
		 * moment, bounded; a child that died first reads as end of file */
		struct pollfd p = { .fd = ready[0], .events = POLLIN };
		char c;

		if (poll(&p, 1, 5000) <= 0 || read(ready[0], &c, 1) != 1)
			dbg(ctx, "the watcher of %s did not say it was named", rec->name);
		close(ready[0]);
	}
	if (pidfd >= 0)
		close(pidfd);
	rec->watcher_pid = pid;
	snprintf(rec->armed, sizeof(rec->armed), "watcher (pid %d)", pid);
	return 0;
}

bool watch_alive(struct vfk_ctx *ctx, const struct vfk_vm_record *rec)
{
	char comm[32];

	return rec->watcher_pid > 0 && proc_alive(ctx, rec->watcher_pid) &&
	       proc_comm(ctx, rec->watcher_pid, comm, sizeof(comm)) == 0 &&
	       streq(comm, WATCHER_NAME);
}

void watch_stop(struct vfk_ctx *ctx, const struct vfk_vm_record *rec)
{
	int i;

	if (!watch_alive(ctx, rec))
		return;
	kill(rec->watcher_pid, SIGTERM);
	for (i = 0; i < 100 && proc_alive(ctx, rec->watcher_pid); i++)
		poll(NULL, 0, 20);
}
