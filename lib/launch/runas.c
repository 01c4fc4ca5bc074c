/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QEMU as a user, started by root (vfio-vm up --run-as NAME). Root does the
 * host step — binding, the iommufd and VFIO cdev descriptors (vfio-fds.c), the
 * locked-memory limit — and QEMU never has root: it is exec'ed with the
 * user's uid, gid and groups and a memlock limit of what VFIO pins, set
 * from root's side (a prlimit, not the user's own limit).
 *
 * Every file QEMU would open by path — disks, CD-ROMs, firmware, the UEFI
 * variables, the serial log — root opens and hands over as a descriptor set
 * (-add-fd, file=.../fdset/N: one read-write and one read-only descriptor,
 * as QEMU reopens an image read-only for its locks), as libvirt does; the
 * QMP socket is root's listening socket, passed. So no device node or file
 * changes owner, and the user is given only what the profile root chose
 * names; the TPM's socket root connects and passes (swtpm runs as the user
 * too, swtpm.c). What QEMU would still open or create by path itself (a
 * SPICE socket, the group nodes of the legacy VFIO API) is refused up front,
 * in one line.
 */
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "launch/launch.h"

#define QMP_ID "vfkqmp"

/* What --run-as cannot hand over, or NULL. */
static const char *runas_refusal(const struct vfk_plan *pl)
{
	if (pl->display == DISP_SPICE && pl->virgl)
		return "SPICE with virgl makes a socket QEMU creates itself; use display = "
		       "egl-headless or vnc, or start the VM without --run-as";
	if (vfk_plan_get_mode(pl) == VFK_GPU_MODE_MDEV)
		return "a mediated device is opened by QEMU through its group node; start the VM "
		       "without --run-as, or bind a whole function";
	if (plan_binds_devices(pl) && pl->vfio_backend != VFIO_IOMMUFD)
		return "host devices are handed over as VFIO cdev descriptors, which needs "
		       "[vfio] backend = iommufd (Linux 6.2+ with CONFIG_VFIO_DEVICE_CDEV, QEMU "
		       "9.0+); on the group backend bind them with vfio-bind --for-user NAME and "
		       "run vfio-vm up as that user";
	return NULL;
}

int runas_check(struct vfk_plan *pl, const struct vfk_vm_options *o, struct runas *ra,
		char *errbuf, size_t errsize)
{
	const char *why;
	int r, n;

	memset(ra, 0, sizeof(*ra));
	if (!o->run_as)
		return 0;
	if (o->backend != VFK_BACKEND_QEMU)
		return launch_fail(errbuf, errsize, EINVAL, "--run-as is for --backend qemu: "
				   "libvirt runs QEMU as the user its qemu.conf names");
	if (geteuid() != 0 || vfk_ctx_is_user_mode(pl->ctx))
		return launch_fail(errbuf, errsize, EPERM, "--run-as is root's: root opens what "
				   "QEMU gets and starts it as that user");
	r = vfk_user_lookup(pl->ctx, o->run_as, &ra->user);
	if (r < 0)
		return launch_fail(errbuf, errsize, -r, "--run-as %s: %s", o->run_as,
				   r == -ENOENT ? "no such user" : strerror(-r));
	if (ra->user.uid == 0)
		return launch_fail(errbuf, errsize, EINVAL, "--run-as %s: that is root; QEMU runs "
				   "as root without it", o->run_as);
	why = runas_refusal(pl);
	if (why)
		return launch_fail(errbuf, errsize, EOPNOTSUPP, "--run-as %s: %s", o->run_as, why);
	n = (int)ARRAY_SIZE(ra->groups);
	if (getgrouplist(ra->user.name, ra->user.gid, ra->groups, &n) < 0)
		return launch_fail(errbuf, errsize, E2BIG, "--run-as %s: in more than %zu groups",
				   o->run_as, ARRAY_SIZE(ra->groups));
	ra->ngroups = (size_t)n;
	ra->on = true;
	return 0;
}

/* @fd (or -errno) kept, to be passed and closed with @ra */
static int keep(struct runas *ra, int fd)
{
	if (fd < 0)
		return fd;
	if (ra->nfds == ARRAY_SIZE(ra->fds)) {
		close(fd);
		return -E2BIG;
	}
	ra->fds[ra->nfds++] = fd;
	return fd;
}

static char *own(struct runas *ra, char *s)
{
	if (s && ra->nown < ARRAY_SIZE(ra->own))
		return ra->own[ra->nown++] = s;
	free(s);
	return NULL;
}

/* QEMU's option string @opts: where the option @key starts ([*@b, *@e) is
 * "key=value", commas in the value written twice); false when absent. */
static bool opt_find(const char *opts, const char *key, size_t *b, size_t *e)
{
	size_t klen = strlen(key), i = 0;

	while (opts[i]) {
		size_t j = i;

		while (opts[j] && !(opts[j] == ',' && opts[j + 1] != ','))
			j += opts[j] == ',' ? 2 : 1;
		if (strncmp(opts + i, key, klen) == 0 && opts[i + klen] == '=') {
			*b = i;
			*e = j;
			return true;
		}
		i = opts[j] ? j + 1 : j;
	}
	return false;
}

/* The value of [@b, @e) ("key=value"), doubled commas made single. */
static char *opt_value(const char *opts, size_t b, size_t e)
{
	const char *v = memchr(opts + b, '=', e - b) + 1;
	char *out = malloc(e - b + 1), *p = out;

	while (out && v < opts + e) {
		*p++ = *v;
		v += v[0] == ',' ? 2 : 1;
	}
	if (out)
		*p = '\0';
	return out;
}

static bool opt_is(const char *opts, const char *key, const char *val)
{
	size_t b, e, klen = strlen(key);

	return opt_find(opts, key, &b, &e) && e - b == klen + 1 + strlen(val) &&
	       strncmp(opts + b + klen + 1, val, strlen(val)) == 0;
}

/* Descriptor set @set: @path opened for each of @modes (-1 ends them);
 * "-add-fd" "fd=N,set=S" for each into @out at *@k. */
static int add_fdset(struct vfk_plan *pl, struct runas *ra, const char *path, const int *modes,
		     unsigned int set, char **out, size_t *k, struct stat *st)
{
	_cleanup_free_ char *full = path[0] == '/' ? vfk_root_path(pl->ctx, VFK_ROOT_TOP, path + 1)
						   : strdup(path);
	int fd;

	if (!full)
		return -ENOMEM;
	for (; *modes >= 0; modes++) {
		fd = open(full, *modes | O_CLOEXEC | O_NOCTTY, 0640);
		fd = keep(ra, fd < 0 ? -errno : fd);
		if (fd < 0)
			return fd;
		if (fstat(fd, st) < 0)
			return -errno;
		out[(*k)++] = (char *)"-add-fd";
		if (!(out[(*k)++] = own(ra, strdupf("fd=%d,set=%u", fd, set))))
			return -ENOMEM;
	}
	return 0;
}

/* @opts with its @key=PATH replaced by the descriptor set @set (QEMU's
 * name for it is its path below the device directory: fdset/N). */
static char *with_fdset(const char *opts, const char *key, size_t b, size_t e, unsigned int set,
			bool blockdev)
{
	_cleanup_free_ char *fdset = vfk_root_host_path(VFK_ROOT_DEV, "fdset");

	return fdset ? strdupf("%.*s%s%s%s/%u%s", (int)b, opts,
			       blockdev ? "file.driver=host_device," : "",
			       blockdev ? "file.filename=" : key, fdset, set, opts + e) : NULL;
}

/* One -drive or serial -chardev whose file QEMU would open: opened here. */
static int pass_file(struct vfk_plan *pl, struct runas *ra, const char *key, char **slot,
		     char **out, size_t *k, char *errbuf, size_t errsize)
{
	static const int rw[] = { O_RDWR, O_RDONLY, -1 }, ro[] = { O_RDONLY, -1 },
			 log[] = { O_WRONLY | O_CREAT | O_TRUNC, -1 };
	const int *modes = streq(key, "logfile") ? log
			   : opt_is(*slot, "readonly", "on") || opt_is(*slot, "media", "cdrom") ? ro
			   : rw;
	_cleanup_free_ char *path = NULL;
	char keyeq[16];
	struct stat st;
	size_t b, e;
	int r;

	if (!opt_find(*slot, key, &b, &e))
		return 0;
	path = opt_value(*slot, b, e);
	if (!path)
		return -ENOMEM;
	r = add_fdset(pl, ra, path, modes, ++ra->nsets, out, k, &st);
	if (r < 0)
		return launch_fail(errbuf, errsize, -r, "--run-as: cannot open %s for %s's QEMU: %s",
				   path, ra->user.name, strerror(-r));
	snprintf(keyeq, sizeof(keyeq), "%s=", key);
	*slot = own(ra, with_fdset(*slot, keyeq, b, e, ra->nsets, S_ISBLK(st.st_mode)));
	return *slot ? 0 : -ENOMEM;
}

int launch_unix_socket(const char *path, bool listening)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (listening ? bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
				listen(fd, 8) < 0
		      : connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* "-qmp unix:PATH,server=on,wait=off": root's socket, listening, passed. */
static int pass_qmp(struct runas *ra, const char *qmp, char **out, size_t *k, char *errbuf,
		    size_t errsize)
{
	int fd = launch_unix_socket(qmp, true);

	if (fd < 0 || (fd = keep(ra, fd)) < 0)
		return launch_fail(errbuf, errsize, -fd, "QMP socket %s: %s", qmp, strerror(-fd));
	out[(*k)++] = (char *)"-chardev";
	out[(*k)++] = own(ra, strdupf("socket,id=" QMP_ID ",fd=%d,server=on,wait=off", fd));
	out[(*k)++] = (char *)"-mon";
	out[(*k)++] = (char *)"chardev=" QMP_ID ",mode=control";
	return out[*k - 3] ? 0 : -ENOMEM;
}

/* "-chardev socket,id=ID,path=SOCK" (the TPM's): connected here, passed. */
static int pass_socket(struct runas *ra, char **slot, char *errbuf, size_t errsize)
{
	_cleanup_free_ char *path = NULL;
	size_t b, e;
	int fd;

	if (!startswith(*slot, "socket,") || !opt_find(*slot, "path", &b, &e))
		return 0;
	path = opt_value(*slot, b, e);
	if (!path)
		return -ENOMEM;
	fd = launch_unix_socket(path, false);
	if (fd < 0 || (fd = keep(ra, fd)) < 0)
		return launch_fail(errbuf, errsize, -fd, "--run-as: cannot connect to %s for "
				   "%s's QEMU: %s", path, ra->user.name, strerror(-fd));
	*slot = own(ra, strdupf("%.*sfd=%d%s", (int)b, *slot, fd, *slot + e));
	return *slot ? 0 : -ENOMEM;
}

int runas_rewrite(struct vfk_plan *pl, struct runas *ra, char **full, const char *qmp,
		  char *errbuf, size_t errsize)
{
	size_t n = 0, i, k = 0;
	int r = 0;

	if (!ra->on)
		return 0;
	while (full[n])
		n++;
	/* each argument may gain two -add-fd pairs before it; -qmp becomes four */
	ra->argv = calloc(5 * n + 8, sizeof(*ra->argv));
	if (!ra->argv)
		return -ENOMEM;
	for (i = 0; i < n && r == 0; i++) {
		const char *key = streq(full[i], "-drive") ? "file"
				  : streq(full[i], "-chardev") ? "logfile" : NULL;
		char *val = i + 1 < n ? full[i + 1] : NULL;

		if (streq(full[i], "-qmp") && val) {
			r = pass_qmp(ra, qmp, ra->argv, &k, errbuf, errsize);
			i++;
			continue;
		}
		ra->argv[k++] = full[i];
		if (!key || !val)
			continue;
		/* the descriptor sets go before the option that names them */
		k--;
		r = pass_file(pl, ra, key, &val, ra->argv, &k, errbuf, errsize);
		if (r == 0 && streq(key, "logfile"))
			r = pass_socket(ra, &val, errbuf, errsize);
		ra->argv[k++] = full[i++];
		ra->argv[k++] = val;
	}
	if (r < 0)
		runas_free(ra);
	return r;
}

int runas_become(const struct runas *ra, unsigned long long memlock)
{
	struct rlimit rl = { memlock, memlock };
	size_t i;

	if (memlock && setrlimit(RLIMIT_MEMLOCK, &rl) < 0)
		return -errno;
	if (setgroups(ra->ngroups, ra->groups) < 0 ||
	    setresgid(ra->user.gid, ra->user.gid, ra->user.gid) < 0 ||
	    setresuid(ra->user.uid, ra->user.uid, ra->user.uid) < 0)
		return -errno;
	if (getuid() != ra->user.uid || geteuid() != ra->user.uid || setuid(0) == 0)
		return -EPERM;	/* not dropped, or not for good */
	for (i = 0; i < ra->nfds; i++)
		fcntl(ra->fds[i], F_SETFD, 0);
	return 0;
}

void runas_free(struct runas *ra)
{
	size_t i;

	for (i = 0; i < ra->nfds; i++)
		close(ra->fds[i]);
	for (i = 0; i < ra->nown; i++)
		free(ra->own[i]);
	free(ra->argv);
	ra->argv = NULL;
	ra->nfds = ra->nown = 0;
}
