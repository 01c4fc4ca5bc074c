/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Other programs vfiokit runs to finish a job (a fix's update-grub or
 * dracut, qemu-img creating a disk): a child with stdin from /dev/null and
 * its output in a pipe, of which the last line is kept to say why it
 * failed; every wait bounded, a child past its time killed with its
 * process group. An argv, never a shell.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/internal.h"

static pid_t spawn(const char *const *argv, int out)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	setpgid(0, 0);
	{
		int null = vfk_open_null(O_RDONLY);

		if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
			_exit(127);
	}
	execvp(argv[0], (char *const *)argv);
	dprintf(2, "%s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* The last non-empty line of @buf (@len bytes) into @why. */
static void last_line(const char *buf, size_t len, char *why, size_t size)
{
	size_t end = len, start;

	while (end && (buf[end - 1] == '\n' || buf[end - 1] == '\r'))
		end--;
	for (start = end; start && buf[start - 1] != '\n'; start--)
		;
	snprintf(why, size, "%.*s", (int)(end - start), buf + start);
}

int vfk_run_program(const char *const *argv, unsigned int ms, char *why, size_t whysize)
{
	char tail[4096];
	size_t len = 0;
	long long deadline = now_ms() + ms;
	int p[2], status = 0, r = 0;
	pid_t pid;

	if (why && whysize)
		why[0] = '\0';
	if (pipe2(p, O_CLOEXEC) < 0)
		return neg_errno(errno);
	pid = spawn(argv, p[1]);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return neg_errno(errno);
	}
	for (;;) {	/* read until the child closes its end, or time is up */
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		long long left = deadline - now_ms();
		char chunk[1024];
		ssize_t n;

		if (left <= 0) {
			r = neg_errno(ETIMEDOUT);
			break;
		}
		if (poll(&pfd, 1, (int)(left < 1000 ? left : 1000)) <= 0)
			continue;
		n = read(p[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (len + (size_t)n > sizeof(tail)) {	/* keep the end (chunk < tail) */
			size_t drop = len + (size_t)n - sizeof(tail);

			memmove(tail, tail + drop, len - drop);
			len -= drop;
		}
		memcpy(tail + len, chunk, (size_t)n);
		len += (size_t)n;
	}
	close(p[0]);
	if (r == -ETIMEDOUT) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (why && whysize)
		last_line(tail, len, why, whysize);
	if (r < 0)
		return r;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (why && whysize && !why[0])
		snprintf(why, whysize, "%s %d", WIFEXITED(status) ? "exit status" : "signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return neg_errno(ECANCELED);
}
