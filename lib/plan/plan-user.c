/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A normal user's VM (user mode, core/usermode.c): what it may have, said
 * at plan time so that up refuses before anything is touched. KVM and QEMU
 * need no root for a VM of its own; what does is the host's part: binding
 * GPUs, NVSwitches and [hostdev] devices to VFIO and making mediated devices
 * (a user's passthrough, with vfio-bind --for-user doing the root step, is
 * not there yet), and a tap on a bridge, which only qemu-bridge-helper
 * (setuid root) makes for a user, where the admin's ACL allows that bridge.
 */
#include <stdio.h>
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

int plan_user(struct vfk_plan *pl)
{
	struct sbuf b = { 0 };
	size_t i;
	int r;

	if (!vfk_ctx_is_user_mode(pl->ctx))
		return 0;
	host_devices(pl, &b);
	if (b.len) {
		char *devs = sbuf_take(&b);

		pl->user_refusal = devs ? strdupf("%s needs host devices: %s; binding them to VFIO "
						  "needs root: run vfio-vm up as root (a normal "
						  "user's VM with host devices is not supported yet)",
						  pl->prof->name, devs) : NULL;
		free(devs);
		return pl->user_refusal ? 0 : neg_errno(ENOMEM);
	}
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
