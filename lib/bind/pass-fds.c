/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Root's descriptor service (vfio-bind pass-fds): a normal user's VM gets
 * /dev/iommu and the VFIO cdevs of the devices root granted that user
 * (vfio-bind bind --for-user, the journal's grant), opened here and passed
 * over a local socket, as Kata Containers' privileged runtime passes them to
 * an unprivileged QEMU. No device node changes owner or mode, so nothing is
 * widened for anyone else, and a restore (which drops the journal's entry)
 * ends the grant. The wire format is in pass-fds.h.
 */
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>

#include "bind/bind-internal.h"
#include "core/errmsg.h"
#include "inventory/inventory.h"
#include "bind/journal.h"
#include "bind/pass-fds.h"

struct fds_request {
	char addrs[FDS_MAX_DEVICES][16];
	size_t n;
};

/* The request, up to its "." line, within FDS_TIMEOUT_MS: the asker cannot
 * hold the service by writing slowly or not at all. */
static int read_request(int conn, char *buf, size_t size)
{
	long long end = now_ms() + FDS_TIMEOUT_MS;
	size_t len = 0;

	while (len + 1 < size) {
		struct pollfd p = { .fd = conn, .events = POLLIN };
		long long left = end - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) == 0)
			return neg_errno(ETIMEDOUT);
		n = read(conn, buf + len, size - 1 - len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return neg_errno(n < 0 ? errno : EPIPE);
		len += (size_t)n;
		buf[len] = '\0';
		if (len >= 2 && (streq(buf + len - 2, "\n.") || strstr(buf, "\n.\n")))
			return 0;
	}
	return neg_errno(E2BIG);
}

static int parse_request(char *text, struct fds_request *req, char *why, size_t size)
{
	char *line, *save = NULL;
	bool hello = false, end = false;

	req->n = 0;
	for (line = strtok_r(text, "\n", &save); line && !end; line = strtok_r(NULL, "\n", &save)) {
		struct vfk_pci_addr a;
		char canon[16], shown[48];

		if (!hello) {
			if (!streq(line, FDS_HELLO))
				return snprintf(why, size, "not a vfiokit request"), -EPROTO;
			hello = true;
		} else if (streq(line, ".")) {
			end = true;
		} else if (startswith(line, "device ") &&
			   vfk_pci_addr_parse(line + 7, &a) == 0) {
			if (req->n == FDS_MAX_DEVICES)
				return snprintf(why, size, "more than %d devices", FDS_MAX_DEVICES),
				       -E2BIG;
			vfk_pci_addr_format(&a, canon, sizeof(canon));
			snprintf(req->addrs[req->n++], sizeof(req->addrs[0]), "%s", canon);
		} else {
			return snprintf(why, size, "'%s' is not a request line",
					vfk_shown(line, shown, sizeof(shown))),
			       -EPROTO;
		}
	}
	if (!end || !req->n)
		return snprintf(why, size, end ? "no device asked for" : "request cut short"),
		       -EPROTO;
	return 0;
}

/* Is @addr bound by vfiokit and granted to @uid? NULL, or why not. */
static const char *not_granted(const struct vfk_journal *j, const char *addr, uid_t uid,
			       char *why, size_t size)
{
	size_t i;

	for (i = 0; i < vfk_journal_count(j); i++) {
		const struct vfk_journal_entry *e = vfk_journal_get(j, i);

		if (!streq(e->address, addr))
			continue;
		if (e->state != 1)
			break;
		if (!e->granted || e->grant_uid != (unsigned int)uid) {
			snprintf(why, size, "%s is not granted to uid %u (root: vfio-bind bind %s "
				 "--for-user NAME --via-fds)", addr, (unsigned int)uid, addr);
			return why;
		}
		return NULL;
	}
	snprintf(why, size, "%s is not bound to VFIO by vfio-bind (root: vfio-bind bind %s "
		 "--for-user NAME --via-fds)", addr, addr);
	return why;
}

/* Each device granted to @uid, or the first that is not. */
static int check_grants(struct vfk_ctx *ctx, const struct fds_request *req, uid_t uid,
			char *why, size_t size)
{
	struct vfk_journal *j = NULL;
	size_t i;
	int r;

	if (uid == 0)
		return snprintf(why, size, "root opens the nodes itself"), -EPERM;
	r = vfk_journal_load(ctx, &j);
	if (r < 0)
		return snprintf(why, size, "the journal cannot be read: %.400s",
				*ctx->error ? ctx->error : strerror(-r)), r;
	for (i = 0, r = 0; i < req->n && r == 0; i++)
		if (not_granted(j, req->addrs[i], uid, why, size))
			r = -EPERM;
	vfk_journal_free(j);
	return r;
}

/* /dev/iommu and each cdev into @fds[0..n]; the ones opened stay there. */
static int open_all(struct vfk_ctx *ctx, const struct fds_request *req, int *fds, char *why,
		    size_t size)
{
	char cdev[NAME_MAX];
	bool per_process;
	size_t i;

	fds[0] = vfio_open_iommufd(ctx, &per_process);
	if (fds[0] < 0)
		return snprintf(why, size, "/dev/iommu: %s", strerror(-fds[0])), fds[0];
	for (i = 0; i < req->n; i++) {
		fds[i + 1] = vfio_open_cdev(ctx, req->addrs[i], cdev, sizeof(cdev));
		if (fds[i + 1] < 0)
			return snprintf(why, size, "%s: %s", req->addrs[i],
					fds[i + 1] == -ENOENT ? "no VFIO cdev (the kernel lacks "
					"CONFIG_VFIO_DEVICE_CDEV)" : strerror(-fds[i + 1])),
			       fds[i + 1];
	}
	return 0;
}

/* "ok N" with the descriptors, or the one line of a refusal without. */
static int answer(int conn, const char *line, const int *fds, size_t nfds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * (FDS_MAX_DEVICES + 1))];
	struct iovec iov = { .iov_base = (void *)line, .iov_len = strlen(line) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	ssize_t n;

	if (nfds) {
		memset(cbuf, 0, sizeof(cbuf));
		m.msg_control = cbuf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(conn, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)iov.iov_len ? 0 : neg_errno(n < 0 ? errno : EPIPE);
}

int vfk_fds_serve(struct vfk_ctx *ctx, int conn, char *who, size_t whosize)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct fds_request req;
	char text[FDS_REQUEST_MAX], why[512], line[600];
	int fds[FDS_MAX_DEVICES + 1], r;
	size_t i;

	ctx->error[0] = '\0';
	if (who && whosize)
		who[0] = '\0';
	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return snprintf(ctx->error, sizeof(ctx->error), "not a local socket: %s",
				strerror(errno)), neg_errno(errno);
	if (who && whosize)
		snprintf(who, whosize, "uid %u (pid %d)", (unsigned int)cred.uid, (int)cred.pid);
	for (i = 0; i <= FDS_MAX_DEVICES; i++)
		fds[i] = -1;
	r = read_request(conn, text, sizeof(text));
	if (r < 0)
		snprintf(why, sizeof(why), "no request: %s", strerror(-r));
	else
		r = parse_request(text, &req, why, sizeof(why));
	if (r == 0)
		r = check_grants(ctx, &req, cred.uid, why, sizeof(why));
	if (r == 0)
		r = open_all(ctx, &req, fds, why, sizeof(why));
	if (r == 0) {
		snprintf(line, sizeof(line), "ok %zu\n", req.n);
		r = answer(conn, line, fds, req.n + 1);
		if (r < 0)
			snprintf(ctx->error, sizeof(ctx->error), "answering %s: %s",
				 who ? who : "the asker", strerror(-r));
	} else {
		snprintf(ctx->error, sizeof(ctx->error), "%s", why);
		snprintf(line, sizeof(line), "error %s\n", why);
		answer(conn, line, NULL, 0);
	}
	for (i = 0; i <= FDS_MAX_DEVICES; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return r < 0 ? neg_errno(r) : (int)req.n;
}

char *vfk_fds_socket_path(struct vfk_ctx *ctx)
{
	return vfk_root_path(ctx, VFK_ROOT_TOP, FDS_SOCKET);
}
