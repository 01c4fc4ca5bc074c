/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The TPM 2.0 of a VM the qemu backend runs (libvirt starts swtpm itself for
 * its domains). The TPM's state lives in <sysroot>/var/lib/vfiokit/swtpm/NAME
 * so that what a Windows guest seals in it (BitLocker, Windows Hello) survives
 * the VM's restarts; the control socket is the one the plan hands QEMU.
 * swtpm runs with --terminate: it ends when QEMU's connection does.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/macro.h"
#include "launch/launch.h"

#define SWTPM_START_MS 5000

/* The first line of swtpm's log, to name why it did not come up. */
static void log_head(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;

	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

int swtpm_start(struct vfk_ctx *ctx, const struct vfk_plan *pl, const char *name, pid_t *pid,
		char *err, size_t errsize)
{
	_cleanup_free_ char *state = NULL, *logpath = NULL;
	char rel[160], statearg[PATH_MAX + 32], ctrlarg[PATH_MAX + 32], logarg[PATH_MAX + 32];
	const char *sock = pl->tpm_socket;
	long long deadline;
	struct stat st;
	pid_t child;
	int r;

	*pid = 0;
	if (!pl->tpm)
		return 0;
	/* swtpm splits its options at commas: no path of ours may hold one */
	snprintf(rel, sizeof(rel), "swtpm/%s", name);
	r = vfk_root_mkdirs(ctx, VFK_ROOT_VM_STATE, rel, 0700);
	state = r < 0 ? NULL : vfk_root_path(ctx, VFK_ROOT_VM_STATE, rel);
	if (!state) {
		snprintf(err, errsize, "cannot create the TPM state directory for %s: %s", name,
			 strerror(r < 0 ? -r : ENOMEM));
		return r < 0 ? r : -ENOMEM;
	}
	snprintf(rel, sizeof(rel), "vm/%s", pl->slug);
	r = vfk_root_mkdirs(ctx, VFK_ROOT_VM_RUN, rel, 0700);
	snprintf(rel, sizeof(rel), "vms/%s.swtpm.log", name);
	logpath = vfk_root_path(ctx, VFK_ROOT_VM_RUN, rel);
	if (r < 0 || !logpath || !sock) {
		snprintf(err, errsize, "cannot prepare the TPM socket of %s: %s", name,
			 strerror(r < 0 ? -r : ENOMEM));
		return r < 0 ? r : -ENOMEM;
	}
	if (strchr(state, ',') || strchr(sock, ',') || strchr(logpath, ',')) {
		snprintf(err, errsize, "TPM paths of %s contain a comma, which swtpm cannot take", name);
		return -EINVAL;
	}
	snprintf(statearg, sizeof(statearg), "dir=%s,mode=0600", state);
	snprintf(ctrlarg, sizeof(ctrlarg), "type=unixio,path=%s,mode=0600", sock);
	snprintf(logarg, sizeof(logarg), "file=%s,truncate", logpath);
	unlink(sock);

	child = fork();
	if (child < 0) {
		r = -errno;
		snprintf(err, errsize, "fork: %s", strerror(-r));
		return r;
	}
	if (child == 0) {
		const char *argv[] = { "swtpm", "socket", "--tpm2", "--tpmstate", statearg,
				       "--ctrl", ctrlarg, "--log", logarg, "--terminate", NULL };
		int null = vfk_open_null(O_RDWR);

		setsid();
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(127);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	deadline = now_ms() + SWTPM_START_MS;
	for (;;) {
		int status;

		if (stat(sock, &st) == 0 && S_ISSOCK(st.st_mode)) {
			*pid = child;
			return 0;
		}
		if (waitpid(child, &status, WNOHANG) == child) {
			char why[200];

			log_head(logpath, why, sizeof(why));
			snprintf(err, errsize, "swtpm for %s exited at start (status %d): %s", name,
				 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
				 *why ? why
				      : WIFEXITED(status) && WEXITSTATUS(status) == 127
					    ? "not installed? (the swtpm package)"
					    : "no message");
			return -EIO;
		}
		if (now_ms() >= deadline)
			break;
		poll(NULL, 0, 50);
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	snprintf(err, errsize, "swtpm for %s made no socket within %d s", name, SWTPM_START_MS / 1000);
	return -ETIMEDOUT;
}

void swtpm_stop(struct vfk_ctx *ctx, pid_t pid)
{
	long long deadline = now_ms() + 3000;

	if (pid <= 0 || !proc_alive(ctx, pid))
		return;
	/* with --terminate it is normally gone with QEMU already */
	kill(pid, SIGTERM);
	while (proc_alive(ctx, pid) && now_ms() < deadline)
		poll(NULL, 0, 50);
	if (proc_alive(ctx, pid))
		kill(pid, SIGKILL);
}
