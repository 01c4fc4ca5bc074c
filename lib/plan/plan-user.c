/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A normal user's VM (user mode, core/usermode.c): what it may have, said
 * at plan time so that up refuses before anything is touched. KVM and QEMU
 * need no root for a VM of its own; what does is the host's part: binding
 * GPUs, NVSwitches and [hostdev] devices to VFIO and making mediated devices
 * (root does that with vfio-bind --for-user, which gives the user each
 * group's node: the user's VM then takes devices on VFIO whose group node is
 * the user's own, and nothing is bound or given back by the user), and a tap
 * on a bridge, which only qemu-bridge-helper (setuid root) makes for a user,
 * where the admin's ACL allows that bridge. VFIO pins the guest's RAM against
 * the user's RLIMIT_MEMLOCK, which only root raises: a hard limit too small
 * is said with the limits.d line that fixes it.
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "core/strbuf.h"
#include "plan/plan-internal.h"

/* qemu-bridge-helper's ACL, as QEMU's CONFIG_QEMU_CONFDIR names it */
#define BRIDGE_CONF_DIR "etc/qemu"
#define BRIDGE_CONF "bridge.conf"
#define ACL_INCLUDE_DEPTH 4
/* where distributions install the helper (QEMU's CONFIG_QEMU_HELPERDIR) */
static const char *const helper_paths[] = {
	"/usr/lib/qemu/qemu-bridge-helper",	/* Debian, Ubuntu, Arch */
	"/usr/libexec/qemu-bridge-helper",	/* Fedora, openSUSE */
};

enum acl_verdict { ACL_UNKNOWN, ACL_DENIED, ACL_ALLOWED };

struct acl {
	bool allowed, denied;	/* deny wins, as in qemu-bridge-helper */
	int unreadable;		/* errno of a file that could not be read, 0 */
	char unreadable_path[160];
};

/* Read the ACL file @rel (below the sysroot) into @a for @bridge, following
 * its "include" lines as the helper does. */
static void acl_read(struct vfk_ctx *ctx, const char *rel, const char *bridge, struct acl *a,
		     int depth)
{
	_cleanup_close_ int dfd = -1;
	char dir[160], text[8192], *line, *save = NULL;
	const char *slash = strrchr(rel, '/');
	int r;

	if (!slash || depth > ACL_INCLUDE_DEPTH)
		return;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - rel), rel);
	dfd = vfk_root_open_dir(ctx, VFK_ROOT_TOP, dir);
	r = dfd < 0 ? dfd : vfk_read_in(ctx, dfd, slash + 1, text, sizeof(text));
	if (r < 0) {
		/* ENOENT of the main file: nothing allowed; of others: the
		 * helper (root) may read what we cannot */
		if (r != -ENOENT && !a->unreadable) {
			a->unreadable = -r;
			snprintf(a->unreadable_path, sizeof(a->unreadable_path), "/%s", rel);
		}
		return;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char word[16], arg[128];

		if (sscanf(line, " %15s %127s", word, arg) != 2 || word[0] == '#')
			continue;
		if (streq(word, "allow") && (streq(arg, "all") || streq(arg, bridge)))
			a->allowed = true;
		else if (streq(word, "deny") && (streq(arg, "all") || streq(arg, bridge)))
			a->denied = true;
		else if (streq(word, "include") && arg[0] == '/')
			acl_read(ctx, arg + 1, bridge, a, depth + 1);
	}
}

/* Which helper is installed below the sysroot: its path, or NULL; *@setuid
 * whether it can make taps for a user (or file capabilities might). */
static const char *bridge_helper(struct vfk_ctx *ctx, bool *setuid)
{
	struct stat st;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(helper_paths); i++)
		if (plan_host_file_exists(ctx, helper_paths[i], &st)) {
			*setuid = (st.st_mode & S_ISUID) && st.st_uid == 0;
			return helper_paths[i];
		}
	return NULL;
}

/* One NIC on @bridge: a note, and *@refuse (malloc'ed) when it cannot be. */
static int bridge_verdict(struct vfk_plan *pl, size_t i, const char *bridge, char **refuse)
{
	struct acl a = { 0 };
	const char *helper;
	bool setuid = false;

	helper = bridge_helper(pl->ctx, &setuid);
	if (!helper) {
		*refuse = strdupf("network %zu joins bridge %s: a normal user's QEMU needs "
				  "qemu-bridge-helper for that, and it is not installed (Debian: "
				  "qemu-system-common); or use [network] type = user", i, bridge);
		return *refuse ? 0 : neg_errno(ENOMEM);
	}
	acl_read(pl->ctx, BRIDGE_CONF_DIR "/" BRIDGE_CONF, bridge, &a, 0);
	if (a.denied || (!a.allowed && !a.unreadable)) {
		*refuse = strdupf("network %zu joins bridge %s: /" BRIDGE_CONF_DIR "/" BRIDGE_CONF
				  " does not allow it for qemu-bridge-helper; the admin adds the line "
				  "'allow %s' there, or use [network] type = user", i, bridge, bridge);
		return *refuse ? 0 : neg_errno(ENOMEM);
	}
	if (!a.allowed)
		strv_addf(&pl->notes, "network %zu joins bridge %s through %s (user mode): %s cannot "
			  "be read here (%s); it must say 'allow %s'", i, bridge, helper,
			  a.unreadable_path, strerror(a.unreadable), bridge);
	else
		strv_addf(&pl->notes, "network %zu joins bridge %s through %s (user mode): /"
			  BRIDGE_CONF_DIR "/" BRIDGE_CONF " allows it", i, bridge, helper);
	if (!setuid)
		strv_addf(&pl->notes, "%s is not setuid root: it makes taps for a normal user only "
			  "with file capabilities (cap_net_admin)", helper);
	return 0;
}

/* The host devices the VM needs, "GPU 0000:01:00.0, [hostdev] ..." into @b. */
static void host_devices(const struct vfk_plan *pl, struct sbuf *b)
{
	size_t i;

	for (i = 0; i < pl->ngpus; i++)
		sbuf_addf(b, "%sGPU %s passed through", b->len ? ", " : "",
			  vfk_device_get_address(vfk_gpu_get_device(pl->gpus[i])));
	for (i = 0; i < pl->nfabric; i++)
		sbuf_addf(b, "%sNVSwitch %s", b->len ? ", " : "",
			  vfk_device_get_address(pl->fabric[i]));
	if (pl->mdev.uuid)
		sbuf_addf(b, "%smediated device %s on %s", b->len ? ", " : "", pl->mdev.type,
			  pl->mdev.vf ? pl->mdev.vf : pl->mdev.parent);
	for (i = 0; i < pl->nhostdevs; i++)
		sbuf_addf(b, "%s[%s] %s", b->len ? ", " : "", pl->hostdevs[i].section,
			  vfk_device_get_address(pl->hostdevs[i].dev));
}

/* The user's name for messages: the host's, else "uid N". */
static void user_label(const struct vfk_plan *pl, char *buf, size_t size)
{
	struct vfk_user u;
	unsigned int uid = vfk_ctx_get_user_uid(pl->ctx);

	if (vfk_user_by_uid(pl->ctx, uid, &u) == 0)
		snprintf(buf, size, "%s", u.name);
	else
		snprintf(buf, size, "%u", uid);
}

/* Is @d's group root's gift to this user: every endpoint of it on a VFIO
 * driver (a group is usable only whole) and, with @node, its node the
 * user's, read and write? NULL, or why not (malloc'ed; "" when out of
 * memory). */
static char *not_granted(const struct vfk_plan *pl, const struct vfk_device *d, bool node)
{
	const char *addr = vfk_device_get_address(d), *drv = vfk_device_get_driver(d);
	int g = vfk_device_get_iommu_group(d);
	struct vfk_group *grp = NULL;
	struct stat st;
	char rel[32], who[80];
	size_t i;
	int r;

	user_label(pl, who, sizeof(who));
	if (g < 0 || vfk_host_find_group(pl->host, g, &grp) < 0)
		return strdupf("%s has no IOMMU group", addr);
	if (!drv || !vfk_driver_is_vfio(drv))
		return strdupf("%s (group %d) is not bound for you: it is on %s; root runs vfio-bind "
			       "bind %s --for-user %s", addr, g, drv ? drv : "no driver", addr, who);
	for (i = 0; i < vfk_group_device_count(grp); i++) {
		const struct vfk_device *m = vfk_group_device(grp, i);
		const char *md = vfk_device_get_driver(m);
		if (!vfk_device_is_bridge(m) && md && !vfk_driver_is_vfio(md))
			return strdupf("%s (group %d) is not bound for you: %s is on %s; root runs "
				       "vfio-bind bind %s --for-user %s", addr, g,
				       vfk_device_get_address(m), md, addr, who);
	}
	if (!node)
		return NULL;
	snprintf(rel, sizeof(rel), "vfio/%d", g);
	r = vfk_host_stat_node(pl->ctx, VFK_ROOT_DEV, rel, &st);
	if (r < 0)
		return strdupf("%s (group %d): its node %s: %s", addr, g, rel,
			       r == -ELOOP || r == -EINVAL ? "not a device node" : strerror(-r));
	if (st.st_uid != vfk_ctx_get_user_uid(pl->ctx) || (st.st_mode & 0600) != 0600)
		return strdupf("%s (group %d) is not granted to %s: its node belongs to uid %u (mode "
			       "%04o); root runs vfio-bind bind %s --for-user %s", addr, g, who,
			       (unsigned int)st.st_uid, (unsigned int)st.st_mode & 07777, addr, who);
	return NULL;
}

/* Every device the VM takes through VFIO: the first one not granted, or NULL. */
static char *first_not_granted(const struct vfk_plan *pl, bool node)
{
	char *why = NULL;
	size_t i, k;

	for (i = 0; i < pl->ngpus && !why; i++)
		for (k = 0; k < vfk_gpu_function_count(pl->gpus[i]) && !why; k++)
			why = not_granted(pl, vfk_gpu_function(pl->gpus[i], k), node);
	for (i = 0; i < pl->nfabric && !why; i++)
		why = not_granted(pl, pl->fabric[i], node);
	for (i = 0; i < pl->nhostdevs && !why; i++)
		for (k = 0; k < pl->hostdevs[i].nfns && !why; k++)
			why = not_granted(pl, pl->hostdevs[i].fns[k], node);
	return why;
}

/*
 * Can the devices come as descriptors from root's service instead (iommufd,
 * vfio-bind bind --for-user NAME --via-fds)? Only the service can tell
 * whether root granted them, since the journal is root's: the plan sees that
 * the host and the profile allow the way, and that the service listens.
 * NULL, or why not (malloc'ed).
 */
static char *fds_way_closed(const struct vfk_plan *pl)
{
	_cleanup_free_ char *sock = vfk_fds_socket_path(pl->ctx);
	char why[256];
	struct stat st;

	if (pl->prof->vfio_backend == VFIO_GROUP)
		return strdupf("[vfio] backend = group");
	if (pl->mdev.uuid || pl->mdev.vf)
		return strdupf("a mediated device goes through its group");
	if (!vfk_host_has_iommufd(pl->host))
		return strdupf("the host has no /dev/iommu");
	if (vfk_host_vfio_cdev_support(pl->host, why, sizeof(why)) <= 0)
		return strdupf("%s", why);
	if (!sock || stat(sock, &st) < 0 || !S_ISSOCK(st.st_mode))
		return strdupf("root's descriptor service does not listen at %s (root: "
			       "systemctl enable --now vfiokit-fds.socket)", sock ? sock : "?");
	return NULL;
}

/*
 * A normal user's host devices the descriptor way: each on VFIO (the only
 * part of the grant the user can see; root's service checks the rest), and
 * the way open. NULL, or the refusal (malloc'ed). @why_node: why the group
 * way is closed, NULL with [vfio] backend = iommufd.
 */
static char *via_fds(struct vfk_plan *pl, const char *devs, const char *why_node)
{
	_cleanup_free_ char *why = first_not_granted(pl, false), *closed = NULL;

	if (why)
		return strdupf("%s needs host devices (%s): %s", pl->prof->name, devs, why);
	closed = fds_way_closed(pl);
	if (closed)
		return why_node ? strdupf("%s needs host devices (%s): %s", pl->prof->name, devs,
					  why_node)
				: strdupf("%s needs host devices (%s): [vfio] backend = iommufd: %s",
					  pl->prof->name, devs, closed);
	pl->user_via_fds = true;
	strv_addf(&pl->notes, "host devices in a normal user's VM: %s, as descriptors of "
		  "/dev/iommu and their VFIO cdevs from root's descriptor service (vfio-bind "
		  "pass-fds), which hands over only what root granted you (vfio-bind bind "
		  "--for-user --via-fds); no device node changes owner; up binds nothing and down "
		  "gives nothing back (root: vfio-bind restore)", devs);
	return NULL;
}

/* Host devices in a normal user's VM: granted by root, or the refusal. */
static int user_devices(struct vfk_plan *pl)
{
	struct sbuf b = { 0 };
	_cleanup_free_ char *why = NULL, *devs = NULL;

	host_devices(pl, &b);
	if (!b.len)
		return 0;
	devs = sbuf_take(&b);
	if (!devs)
		return neg_errno(ENOMEM);
	if (pl->mdev.uuid)	/* made in sysfs at up, by whoever runs it */
		pl->user_refusal = strdupf("%s needs host devices: %s; making a mediated device "
					   "needs root: run vfio-vm up as root", pl->prof->name, devs);
	else if (pl->prof->vfio_backend == VFIO_IOMMUFD || (why = first_not_granted(pl, true)))
		pl->user_refusal = via_fds(pl, devs, why);
	else
		strv_addf(&pl->notes, "host devices in a normal user's VM: %s, on VFIO with their "
			  "groups' nodes given to this user by root (vfio-bind --for-user); up binds "
			  "nothing and down gives nothing back (root: vfio-bind restore)", devs);
	return 0;
}

/* "64 KiB", "8 MiB", "unlimited" */
static const char *limit_text(unsigned long long v, char *buf, size_t size)
{
	if (v == (unsigned long long)RLIM_INFINITY)
		return "unlimited";
	if (v < (1ull << 20))
		snprintf(buf, size, "%llu KiB", v >> 10);
	else
		snprintf(buf, size, "%llu MiB", v >> 20);
	return buf;
}

int plan_user_memlock(struct vfk_plan *pl)
{
	unsigned long long need = vfk_plan_get_memlock_bytes(pl);
	struct rlimit rl;
	char who[80], have[32], want[32];

	if (!vfk_ctx_is_user_mode(pl->ctx) || pl->user_refusal || !plan_binds_devices(pl) || !need)
		return 0;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0)
		return neg_errno(errno);
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need) {
		strv_addf(&pl->notes, "locked memory: the VM pins %s; your hard limit %s covers it "
			  "(QEMU's soft limit is raised to it at up)", limit_text(need, want,
			  sizeof(want)), limit_text(rl.rlim_max, have, sizeof(have)));
		return 0;
	}
	user_label(pl, who, sizeof(who));
	/* whole MiB, up: limits.d takes KiB */
	pl->user_refusal = strdupf("%s pins %s of guest RAM and device memory for VFIO, above your "
				   "hard locked-memory limit (%s), which only root raises: root adds "
				   "/etc/security/limits.d/vfiokit-%s.conf with the line '%s hard "
				   "memlock %llu' (KiB), then you log in again", pl->prof->name,
				   limit_text(need, want, sizeof(want)),
				   limit_text(rl.rlim_max, have, sizeof(have)), who, who,
				   ((need + (1 << 20) - 1) >> 20) << 10);
	return pl->user_refusal ? 0 : neg_errno(ENOMEM);
}

int plan_user(struct vfk_plan *pl)
{
	size_t i;
	int r;

	if (!vfk_ctx_is_user_mode(pl->ctx))
		return 0;
	r = user_devices(pl);
	if (r < 0 || pl->user_refusal)
		return r;
	for (i = 0; i < pl->nnets && !pl->user_refusal; i++) {
		if (!pl->nets[i].bridge)
			continue;	/* user networking: QEMU's own, no privilege */
		r = bridge_verdict(pl, i, pl->nets[i].bridge, &pl->user_refusal);
		if (r < 0)
			return r;
		if (pl->nets[i].src->type == NET_NETWORK)
			strv_addf(&pl->notes, "network %zu: session libvirt (qemu:///session) has no "
				  "libvirt network '%s' of the system's; type = bridge with bridge = %s "
				  "joins its bridge through the helper", i,
				  pl->nets[i].src->network ? pl->nets[i].src->network : "default",
				  pl->nets[i].bridge);
	}
	return 0;
}
