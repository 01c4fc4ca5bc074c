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

/* --run-as: swtpm runs as the user too (it parses what the guest sends), so
 * the TPM's state directory and what is in it become the user's. */
static int state_to_user(struct vfk_ctx *ctx, const char *rel, const struct vfk_user *u)
{
	_cleanup_closedir_ DIR *d = vfk_fdopendir(vfk_root_open_dir(ctx, VFK_ROOT_VM_STATE, rel));
	struct dirent *e;

	if (!d)
		return -errno;
	if (fchown(dirfd(d), u->uid, u->gid) < 0)
		return -errno;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    fchownat(dirfd(d), e->d_name, u->uid, u->gid, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	return 0;
}

/* For a user's swtpm, which could not reach them where root keeps them
 * (0700 directories, which stay so): the control socket, bound and
 * listening, the log and the state directory, opened here and passed
 * (--ctrl type=unixio,fd=N; --log fd=M; the directory by its descriptor's
 * name in swtpm's own process, which reaches it whatever its parents). */
static int user_fds(struct vfk_ctx *ctx, const char *staterel, const char *sock,
		    const char *logpath, char *statearg, char *ctrlarg, char *logarg,
		    size_t argsize, int fds[3])
{
	_cleanup_free_ char *self = vfk_root_host_path(VFK_ROOT_PROC, "self/fd");

	fds[0] = launch_unix_socket(sock, true);
	if (fds[0] < 0)
		return fds[0];
	fds[1] = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fds[1] < 0)
		return -errno;
	fds[2] = vfk_root_open_dir(ctx, VFK_ROOT_VM_STATE, staterel);
	if (fds[2] < 0)
		return fds[2];
	if (!self)
		return -ENOMEM;
	snprintf(statearg, argsize, "dir=%s/%d,mode=0600", self, fds[2]);
	snprintf(ctrlarg, argsize, "type=unixio,fd=%d", fds[0]);
	snprintf(logarg, argsize, "fd=%d", fds[1]);
	return 0;
}

int swtpm_start(struct vfk_ctx *ctx, const struct vfk_plan *pl, const char *name,
		const struct vfk_user *user, pid_t *pid, char *err, size_t errsize)
{
	int ufds[3] = { -1, -1, -1 };
	char uid[16];
	size_t i;
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
	if (user) {
		snprintf(rel, sizeof(rel), "swtpm/%s", name);
		snprintf(uid, sizeof(uid), "%u", user->uid);
		r = state_to_user(ctx, rel, user);
		if (r == 0)
			r = user_fds(ctx, rel, sock, logpath, statearg, ctrlarg, logarg,
				     sizeof(ctrlarg), ufds);
		if (r < 0) {
			for (i = 0; i < ARRAY_SIZE(ufds); i++)
				if (ufds[i] >= 0)
					close(ufds[i]);
			snprintf(err, errsize, "cannot prepare the TPM of %s for user %s: %s", name,
				 user->name, strerror(-r));
			return r;
		}
	}

	child = fork();
	if (child < 0) {
		r = -errno;
		snprintf(err, errsize, "fork: %s", strerror(-r));
		return r;
	}
	if (child == 0) {
		const char *argv[] = { "swtpm", "socket", "--tpm2", "--tpmstate", statearg,
				       "--ctrl", ctrlarg, "--log", logarg, "--terminate",
				       user ? "--runas" : NULL, uid, NULL };
		int null = vfk_open_null(O_RDWR);

		setsid();
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(127);
		for (i = 0; user && i < ARRAY_SIZE(ufds); i++)
			if (fcntl(ufds[i], F_SETFD, 0) < 0)
				_exit(127);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (i = 0; user && i < ARRAY_SIZE(ufds); i++)
		close(ufds[i]);	/* swtpm has them now */
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
