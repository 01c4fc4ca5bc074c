/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A normal user's VM on iommufd asks root's descriptor service (vfio-bind
 * pass-fds, bind/pass-fds.c) for /dev/iommu and the VFIO cdevs of its
 * devices: root granted them (vfio-bind bind --for-user NAME --via-fds),
 * the service checks that against who the kernel says is asking, opens them
 * and passes the descriptors. The user opens no device node and none
 * changes owner. One request, one answer, each wait bounded.
 */
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>

#include "bind/pass-fds.h"
#include "launch/launch.h"

static int send_request(int fd, char addrs[][32], size_t n)
{
	char req[FDS_REQUEST_MAX];
	size_t len, i;
	ssize_t w;

	len = (size_t)snprintf(req, sizeof(req), FDS_HELLO "\n");
	for (i = 0; i < n && len < sizeof(req); i++)
		len += (size_t)snprintf(req + len, sizeof(req) - len, "device %s\n", addrs[i]);
	if (len + 3 > sizeof(req))
		return neg_errno(E2BIG);
	len += (size_t)snprintf(req + len, sizeof(req) - len, ".\n");
	do
		w = send(fd, req, len, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	return w == (ssize_t)len ? 0 : neg_errno(w < 0 ? errno : EPIPE);
}

/* The answer's line into @line and its descriptors into @fds (room for
 * @max); *@nfds how many came. 0 or -errno. */
static int receive(int fd, char *line, size_t size, int *fds, size_t max, size_t *nfds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * (FDS_MAX_DEVICES + 1))];
	struct iovec iov = { .iov_base = line, .iov_len = size - 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct cmsghdr *c;
	ssize_t n;

	*nfds = 0;
	if (poll(&p, 1, FDS_TIMEOUT_MS) == 0)
		return neg_errno(ETIMEDOUT);
	do
		n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return neg_errno(n < 0 ? errno : EPIPE);
	line[n] = '\0';
	line[strcspn(line, "\n")] = '\0';
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		size_t k, got;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		got = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < got; k++) {
			int d;

			memcpy(&d, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
			if (*nfds < max)
				fds[(*nfds)++] = d;
			else
				close(d);
		}
	}
	/* cut descriptors are closed by the kernel; an answer that lost some
	 * is not one to start a VM with */
	return m.msg_flags & MSG_CTRUNC ? neg_errno(EPROTO) : 0;
}

int fds_ask_root(struct vfk_ctx *ctx, char addrs[][32], size_t n, int *fds, char *errbuf,
		 size_t errsize)
{
	_cleanup_free_ char *path = vfk_fds_socket_path(ctx);
	_cleanup_close_ int sock = -1;
	char line[600];
	size_t got = 0, i;
	unsigned long want;
	char *end;
	int r;

	if (!path)
		return launch_fail(errbuf, errsize, ENOMEM, "out of memory");
	if (n > FDS_MAX_DEVICES)
		return launch_fail(errbuf, errsize, E2BIG, "more than %d VFIO devices",
				   FDS_MAX_DEVICES);
	sock = launch_unix_socket(path, false);
	if (sock < 0)
		return launch_fail(errbuf, errsize, -sock, "root's descriptor service does not answer "
				   "at %s (%s): root runs systemctl enable --now vfiokit-fds.socket, "
				   "or vfio-bind pass-fds --listen %s", path, strerror(-sock), path);
	r = send_request(sock, addrs, n);
	if (r == 0)
		r = receive(sock, line, sizeof(line), fds, n + 1, &got);
	if (r < 0)
		return launch_fail(errbuf, errsize, -r, "root's descriptor service at %s: %s", path,
				   strerror(-r));
	if (startswith(line, "error "))
		return launch_fail(errbuf, errsize, EPERM, "root's descriptor service refused: %s",
				   line + 6);
	errno = 0;
	want = startswith(line, "ok ") ? strtoul(line + 3, &end, 10) : 0;
	if (!startswith(line, "ok ") || errno || *end || want != n || got != n + 1) {
		for (i = 0; i < got; i++) {
			close(fds[i]);
			fds[i] = -1;
		}
		return launch_fail(errbuf, errsize, EPROTO, "root's descriptor service at %s "
				   "answered %zu descriptors for %zu devices", path, got, n);
	}
	vfk_progress(ctx, "iommufd and %zu VFIO cdev%s from root's descriptor service", n,
		     n == 1 ? "" : "s");
	return 0;
}
