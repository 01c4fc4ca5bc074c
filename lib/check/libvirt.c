/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The libvirt check: is there a libvirt daemon socket, and on the running
 * host, does it answer. Without one vfio-vm still starts QEMU directly, so
 * this check only ever warns.
 */
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "check/check.h"

static const char *const libvirt_sockets[] = { "virtqemud-sock", "libvirt-sock" };

/* connect(2) to a UNIX socket of the running host; 0 or a negative errno. */
static int unix_connect(const char *path)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EAGAIN &&
	    errno != EINPROGRESS)
		return -errno;
	return 0;
}

static int connect_libvirt(struct probe *p, const char *name)
{
	_cleanup_free_ char *path = NULL;
	char rel[64];

	snprintf(rel, sizeof(rel), "run/libvirt/%s", name);
	path = vfk_root_path(p->ctx, VFK_ROOT_TOP, rel);
	return path ? unix_connect(path) : -ENOMEM;
}

/* The socket to judge: in a tree the first that exists; on the running host
 * the first that answers, else the last one there, its error in *@r. */
static const char *find_libvirt_socket(struct probe *p, int topfd, int *r)
{
	_cleanup_close_ int lfd = -1;
	const char *found = NULL;
	size_t i;

	*r = 0;
	lfd = topfd >= 0 ? vfk_open_dir_in(p->ctx, topfd, "run/libvirt") : -1;
	for (i = 0; lfd >= 0 && i < ARRAY_SIZE(libvirt_sockets); i++) {
		struct stat st;

		if (fstatat(lfd, libvirt_sockets[i], &st, 0) < 0)
			continue;
		if (p->live && !S_ISSOCK(st.st_mode))
			continue;
		found = libvirt_sockets[i];
		if (!p->live)
			break;
		*r = connect_libvirt(p, found);
		if (*r == 0)
			break;
	}
	return found;
}

void check_libvirt(struct probe *p, struct check_impl *c, int topfd)
{
	struct sbuf fix = { 0 };
	int r;
	const char *found = find_libvirt_socket(p, topfd, &r);

	if (found && r == 0) {
		_cleanup_free_ char *rel = check_xasprintf(p, "run/libvirt/%s", found);
		_cleanup_free_ char *path = rel ? check_shown_path(p, VFK_ROOT_TOP, rel) : NULL;

		check_set_result(c, VFK_CHECK_PASS,
				 check_xasprintf(p, "%s %s", path ? path : found,
						 p->live ? "answers" : "present (not connected: sysroot is not the running host)"),
				 NULL);
		return;
	}
	if (found && (r == -EACCES || r == -EPERM)) {
		sbuf_addf(&fix, "run as root, or add your user to the libvirt group: usermod -aG libvirt \"$USER\" (then log in again)");
		check_set_result(c, VFK_CHECK_WARN,
				 check_xasprintf(p, "libvirt socket %s: %s", found, strerror(-r)),
				 check_sbuf_take(p, &fix));
		return;
	}
	sbuf_addf(&fix, "%s", found ? "" : "install libvirt:\n  Debian/Ubuntu: apt install libvirt-daemon-system\n  Fedora/RHEL: dnf install libvirt-daemon-kvm\n");
	sbuf_addf(&fix, "start it: systemctl enable --now libvirtd   (modular daemons: systemctl enable --now virtqemud.socket)\n");
	sbuf_addf(&fix, "without libvirt, vfio-vm starts QEMU directly");
	check_set_result(c, VFK_CHECK_WARN,
			 found ? check_xasprintf(p, "libvirt socket %s exists but does not answer (%s): daemon not running",
						 found, strerror(-r))
			 : check_xasprintf(p, "no libvirt socket (run/libvirt/virtqemud-sock or libvirt-sock)"),
			 check_sbuf_take(p, &fix));
}
