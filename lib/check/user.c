/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What stands between the calling user and a VM of their own (vfio-check
 * --user, or vfio-check run by a normal user): the user's VM directories
 * (user mode, core/usermode.c), /dev/kvm opened for reading and writing,
 * the kvm group, a session libvirt, the locked-memory limit. The host checks
 * say whether the host can run VMs at all; these say whether this user can.
 *
 * The user is this process (its uid and groups); the host's files (the
 * group database, /dev/kvm, libvirt's daemons) are read below the sysroot,
 * so a fixture tree judges a test user deterministically. /dev/kvm is opened
 * only on the running host; on a tree its mode bits are asked (faccessat).
 */
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "check/check.h"

#define GROUP_FILE "etc/group"
#define KVM_GROUP "kvm"
/* the daemons that serve qemu:///session: the modular one, then the old */
static const char *const session_daemons[] = { "usr/sbin/virtqemud", "usr/sbin/libvirtd" };

/* The user's name for fixes ("usermod -aG kvm NAME"), or "uid N". */
static void user_name(char *buf, size_t size)
{
	struct passwd *pw = getpwuid(geteuid());

	if (pw && pw->pw_name && *pw->pw_name)
		snprintf(buf, size, "%s", pw->pw_name);
	else
		snprintf(buf, size, "uid %u", (unsigned int)geteuid());
}

static void check_user_dirs(struct probe *p, struct check_impl *c)
{
	const char *err = vfk_ctx_get_user_mode_error(p->ctx);
	const char *run = vfk_ctx_get_vm_dir(p->ctx, VFK_VM_DIR_RUNTIME);
	const char *state = vfk_ctx_get_vm_dir(p->ctx, VFK_VM_DIR_STATE);

	if (err) {
		const char *fix = strchr(err, ';');

		check_set_result(c, VFK_CHECK_FAIL, check_xasprintf(p, "%.*s",
				 fix ? (int)(fix - err) : (int)strlen(err), err),
				 check_xasprintf(p, "%s", fix ? fix + 2 : err));
		return;
	}
	check_set_result(c, VFK_CHECK_PASS,
			 check_xasprintf(p, "%s mode: records in %s, state in %s",
					 vfk_ctx_is_user_mode(p->ctx) ? "user" : "system",
					 run ? run : "?", state ? state : "?"),
			 NULL);
}

/* May this process read and write /dev/kvm? 0 or -errno. */
static int kvm_access(struct probe *p, int devfd)
{
	int fd;

	if (devfd < 0)
		return -ENOENT;
	if (!p->live)
		return faccessat(devfd, "kvm", R_OK | W_OK, AT_EACCESS) < 0 ? -errno : 0;
	fd = openat(devfd, "kvm", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static void check_user_kvm(struct probe *p, struct check_impl *c, int kvm, const char *name)
{
	_cleanup_free_ char *dev = vfk_root_host_path(VFK_ROOT_DEV, "kvm");
	const char *node = dev ? dev : "kvm";

	if (kvm == 0) {
		check_set_result(c, VFK_CHECK_PASS,
				 check_xasprintf(p, "%s opens for reading and writing", node), NULL);
	} else if (kvm == -ENOENT) {
		check_set_result(c, VFK_CHECK_FAIL, check_xasprintf(p, "no %s", node),
				 check_xasprintf(p, "see the kvm check above: KVM must be there first"));
	} else {
		check_set_result(c, VFK_CHECK_FAIL,
				 check_xasprintf(p, "%s cannot be opened for reading and "
						 "writing: %s", node, strerror(-kvm)),
				 check_xasprintf(p, "sudo usermod -aG " KVM_GROUP " %s\nthen log out "
						 "and in again (the group counts from the next login)",
						 name));
	}
}

/* Is @gid this process's, effective or supplementary? */
static bool process_has_group(gid_t gid)
{
	gid_t groups[256];
	int i, n;

	if (getegid() == gid)
		return true;
	n = getgroups((int)ARRAY_SIZE(groups), groups);
	for (i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/* The kvm line of the sysroot's group database: its gid and whether @name
 * is listed; false when there is no such group (or no file). */
static bool kvm_group(struct probe *p, int topfd, const char *name, gid_t *gid, bool *listed)
{
	_cleanup_free_ char *text = check_read_text_at(p->ctx, topfd, GROUP_FILE, 1 << 20);
	char *line, *save = NULL;

	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[4] = { NULL }, *q = line, *m, *msave = NULL;
		size_t k;

		for (k = 0; k < 4 && q; k++) {
			f[k] = q;
			q = strchr(q, ':');
			if (q)
				*q++ = '\0';
		}
		if (!f[2] || !streq(f[0], KVM_GROUP))
			continue;
		*gid = (gid_t)strtoul(f[2], NULL, 10);
		*listed = false;
		for (m = f[3] ? strtok_r(f[3], ",", &msave) : NULL; m; m = strtok_r(NULL, ",", &msave))
			if (streq(m, name))
				*listed = true;
		return true;
	}
	return false;
}

static void check_user_kvm_group(struct probe *p, struct check_impl *c, int topfd, int kvm,
				 const char *name)
{
	bool listed = false;
	gid_t gid = 0;

	if (geteuid() == 0) {
		check_set_result(c, VFK_CHECK_PASS, check_xasprintf(p, "root needs no group"), NULL);
		return;
	}
	if (!kvm_group(p, topfd, name, &gid, &listed)) {
		check_set_result(c, kvm == 0 ? VFK_CHECK_PASS : VFK_CHECK_WARN,
				 check_xasprintf(p, "no group " KVM_GROUP " in /" GROUP_FILE "%s",
						 kvm == 0 ? "; the KVM device is open to you anyway" : ""),
				 check_xasprintf(p, "give %s read and write access to the KVM device "
						 "(the distribution's group for it, or a udev rule)", name));
		return;
	}
	if (process_has_group(gid)) {
		check_set_result(c, VFK_CHECK_PASS,
				 check_xasprintf(p, "%s is in group " KVM_GROUP " (gid %u)", name,
						 (unsigned int)gid), NULL);
	} else if (listed) {
		check_set_result(c, VFK_CHECK_WARN,
				 check_xasprintf(p, "%s was added to group " KVM_GROUP " (gid %u) "
						 "after this session began: it does not count yet",
						 name, (unsigned int)gid),
				 check_xasprintf(p, "log out and in again (or run: newgrp " KVM_GROUP
						 ")"));
	} else {
		/* logind gives the seat's user /dev/kvm by ACL (uaccess): enough */
		check_set_result(c, kvm == 0 ? VFK_CHECK_PASS : VFK_CHECK_FAIL,
				 check_xasprintf(p, "%s is not in group " KVM_GROUP " (gid %u)%s", name,
						 (unsigned int)gid, kvm == 0 ? "; the KVM device is "
						 "open to you anyway (its mode or an ACL)" : ""),
				 check_xasprintf(p, "sudo usermod -aG " KVM_GROUP " %s\nthen log out "
						 "and in again", name));
	}
}

static void check_user_libvirt(struct probe *p, struct check_impl *c, int topfd)
{
	const char *runtime = secure_getenv("XDG_RUNTIME_DIR"), *daemon = NULL;
	_cleanup_free_ char *sockdir = NULL;
	struct stat st;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(session_daemons) && !daemon; i++)
		if (topfd >= 0 && fstatat(topfd, session_daemons[i], &st, 0) == 0 &&
		    S_ISREG(st.st_mode))
			daemon = session_daemons[i];
	if (!daemon) {
		check_set_result(c, VFK_CHECK_WARN,
				 check_xasprintf(p, "neither virtqemud nor libvirtd is installed: "
						 "qemu:///session cannot run VMs"),
				 check_xasprintf(p, "sudo apt install libvirt-daemon (Fedora: dnf "
						 "install libvirt-daemon-driver-qemu)\nor start VMs "
						 "without libvirt: vfio-vm up PROFILE --backend qemu"));
		return;
	}
	/* the session daemon is started by the first connection and leaves its
	 * sockets in $XDG_RUNTIME_DIR/libvirt */
	if (runtime && runtime[0] == '/')
		sockdir = check_xasprintf(p, "%s/libvirt", runtime);
	check_set_result(c, VFK_CHECK_PASS,
			 check_xasprintf(p, "/%s for qemu:///session; %s", daemon,
					 sockdir && stat(sockdir, &st) == 0 && S_ISDIR(st.st_mode)
					 ? "its session sockets are in $XDG_RUNTIME_DIR/libvirt"
					 : "not running yet: the first connection starts it"),
			 NULL);
}

/* "8 MiB", "unlimited" */
static const char *limit_str(rlim_t v, char *buf, size_t size)
{
	if (v == RLIM_INFINITY)
		snprintf(buf, size, "unlimited");
	else if (v >= (1ULL << 20))
		snprintf(buf, size, "%llu MiB", (unsigned long long)v >> 20);
	else
		snprintf(buf, size, "%llu KiB", (unsigned long long)v >> 10);
	return buf;
}

static void check_user_memlock(struct probe *p, struct check_impl *c, const char *name)
{
	char soft[32], hard[32];
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0) {
		check_set_result(c, VFK_CHECK_WARN, check_xasprintf(p, "getrlimit: %s",
				 strerror(errno)), NULL);
		return;
	}
	limit_str(rl.rlim_cur, soft, sizeof(soft));
	limit_str(rl.rlim_max, hard, sizeof(hard));
	if (rl.rlim_max == RLIM_INFINITY || geteuid() == 0) {
		check_set_result(c, VFK_CHECK_PASS,
				 check_xasprintf(p, "soft %s, hard %s%s", soft, hard,
						 geteuid() == 0 ? " (root raises it)" : ""), NULL);
		return;
	}
	/* VFIO pins all guest RAM; emulated devices pin nothing */
	check_set_result(c, VFK_CHECK_WARN,
			 check_xasprintf(p, "soft %s, hard %s: enough for VMs without host devices; "
					 "one with host devices locks all its RAM", soft, hard),
			 check_xasprintf(p, "for VMs with host devices, in "
					 "/etc/security/limits.d/vfiokit.conf:\n  %s soft memlock "
					 "unlimited\n  %s hard memlock unlimited\nthen log in again",
					 name, name));
}

void check_user(struct probe *p, struct check_impl c[CHK_USER_COUNT], int topfd, int devfd)
{
	char name[64];
	int kvm = kvm_access(p, devfd);

	user_name(name, sizeof(name));
	check_user_dirs(p, &c[0]);
	check_user_kvm(p, &c[1], kvm, name);
	check_user_kvm_group(p, &c[2], topfd, kvm, name);
	check_user_libvirt(p, &c[3], topfd);
	check_user_memlock(p, &c[4], name);
}
