/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vfio-bind: hand devices to their VFIO drivers (vfio-pci or a vendor's
 * variant) as whole groups, and give them back. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "common.h"

#define COMMANDS "bind, restore, status, persist, unpersist, persisted, pass-fds"

struct bind_opts {
	struct common_opts c;
	unsigned int flags;
	unsigned int timeout_ms;
	const char *owner;
	const char *driver;	/* --driver: every device to this VFIO driver */
	const char *for_user;	/* --for-user: the groups' nodes to this user */
	const char *listen;	/* pass-fds --listen: the socket to make */
	bool all, rebind, from_scan;
	const char *gpus[64];
	size_t ngpus;
	long groups[64];
	size_t ngroups;
	json_object *writes, *steps;	/* --dry-run --json: what the run would do */
};

static void usage(int status)
{
	FILE *f = status == EXIT_OK ? stdout : stderr;

	fprintf(f,
		"Usage: %s bind [OPTIONS] [ADDR...] [--gpu ADDR] [--group N]\n"
		"                 [--driver NAME] [--for-user NAME [--via-fds]]\n"
		"       %s restore [OPTIONS] ADDR...|--all\n"
		"       %s restore --from-scan [OPTIONS] [ADDR...]\n"
		"       %s status [--json]\n"
		"       %s persist ADDR...  |  unpersist ADDR...  |  persisted\n"
		"       %s pass-fds [--listen PATH]\n"
		"Move PCI devices to VFIO as whole IOMMU groups, in one transaction that is\n"
		"rolled back on any failure, and put them back on their original drivers.\n"
		"Each device goes to the VFIO driver libvirt would pick: the vendor's variant\n"
		"driver (mlx5_vfio_pci, nvgrace_gpu_vfio_pci, xe-vfio-pci, ...) whose\n"
		"vfio_pci: alias in the running kernel's modules.alias matches it most\n"
		"specifically, else vfio-pci; bind says which and why.\n\n"
		"Commands:\n"
		"  bind        hand the devices (and their whole IOMMU groups) to their VFIO\n"
		"              drivers\n"
		"  restore     return devices to the drivers recorded in the journal (a card\n"
		"              whose reset is broken stays on vfio-pci, one line says why); with\n"
		"              --from-scan, when the journal is damaged: every device it still\n"
		"              names (and each ADDR) that is on a VFIO driver goes back to the\n"
		"              driver its modalias selects, and the journal is kept as\n"
		"              journal.damaged\n"
		"  status      what vfiokit holds, since when, the original and the VFIO drivers\n"
		"  persist     bind these devices at every boot (udev hook)\n"
		"  unpersist   stop binding them at boot\n"
		"  persisted   list the devices bound at boot\n"
		"  pass-fds    root's descriptor service: hand a user's vfio-vm /dev/iommu and\n"
		"              the VFIO cdevs of the devices granted to that user (bind\n"
		"              --for-user NAME --via-fds); one request on standard input (the\n"
		"              vfiokit-fds.socket unit), or every request at --listen PATH\n\n"
		"Options:\n"
		"      --gpu ADDR        take every function of the GPU at ADDR\n"
		"      --group N         take every endpoint of IOMMU group N\n"
		"      --driver NAME     bind: every device to VFIO driver NAME (vfio-pci, or a\n"
		"                        variant such as mlx5_vfio_pci), not the one chosen\n"
		"      --for-user NAME   bind: give each group's /dev/vfio/N to user NAME (owner,\n"
		"                        mode 0600) so NAME's own QEMU can open it (vfio-vm up as\n"
		"                        NAME); its owner and mode before are journalled and put\n"
		"                        back by restore\n"
		"      --via-fds         bind --for-user: grant by descriptor instead: no node\n"
		"                        changes owner; root's vfio-bind pass-fds hands NAME's\n"
		"                        vfio-vm /dev/iommu and the cdevs (needs iommufd and\n"
		"                        CONFIG_VFIO_DEVICE_CDEV); restore ends the grant\n"
		"      --include-shared  also take the other endpoints of a shared group\n"
		"      --force           override the host guards (root disk, default route, console)\n"
		"      --single-gpu      deliberately take the host's only or console GPU\n"
		"  -n, --dry-run         print every write as 'path <- value', change nothing\n"
		"      --timeout MS      bound on each waiting step of bind, restore, udev-hook\n"
		"                        --rebind (default 10000)\n"
		"      --owner NAME      who holds the devices (shown by status)\n"
		"      --all             restore: every device vfiokit holds\n"
		"      --from-scan       restore: recover from a damaged journal (see above)\n"
		"      --force-native    restore: give back even a card whose reset is broken\n"
		"                        (the AMD reset bug, or one that stopped answering),\n"
		"                        which restore otherwise leaves on vfio-pci\n"
		"      --listen PATH     pass-fds: make the socket PATH (mode 0666: the kernel says\n"
		"                        who asks) and answer there until stopped\n"
		"      --json            status, persisted, bind/restore --dry-run (the writes):\n"
		"                        machine-readable; other commands refuse it\n"
		COMMON_HELP
		"\nExit status: 0 done, 1 refused (guard, shared group, not held), 2 usage error,\n"
		"3 a step failed (everything done was rolled back), or vfio-bind.conf or the\n"
		"journal is damaged (one line names file and line; nothing written, nothing\n"
		"bound at boot).\n",
		program_name, program_name, program_name, program_name, program_name,
		program_name);
	exit(status);
}

/* A dry run with --json: each "PATH <- VALUE" a write, anything else a step. */
static void json_progress(struct bind_opts *o, const char *msg)
{
	const char *arrow = strstr(msg, " <- ");
	json_object *w;

	if (!arrow) {
		json_object_array_add(o->steps, json_object_new_string(msg));
		return;
	}
	w = json_object_new_object();
	json_object_object_add(w, "path", json_object_new_string_len(msg, (int)(arrow - msg)));
	json_object_object_add(w, "value", json_object_new_string(arrow + 4));
	json_object_array_add(o->writes, w);
}

static void progress(void *data, const char *msg)
{
	struct bind_opts *o = data;

	if (o->writes)
		json_progress(o, msg);
	else
		common_progress(&o->c, o->flags & VFK_BIND_DRY_RUN, stdout, msg);
}

/* --json is honoured by status, persisted and a dry run of bind/restore;
 * any other command refuses it rather than print text. */
static void json_allowed(struct bind_opts *o, const char *cmd)
{
	bool dry = o->flags & VFK_BIND_DRY_RUN;

	if (!o->c.json || !strcmp(cmd, "status") || !strcmp(cmd, "persisted"))
		return;
	if ((!strcmp(cmd, "bind") || !strcmp(cmd, "restore")) && dry) {
		o->writes = json_object_new_array();
		o->steps = json_object_new_array();
		return;
	}
	die(EXIT_USAGE, "--json goes with status, persisted, and bind or restore with --dry-run "
	    "(%s%s prints no JSON)", cmd, dry ? " --dry-run" : "");
}

/* The dry run's writes and steps as one object on stdout. */
static void json_dry_run_print(struct bind_opts *o, const char *cmd)
{
	json_object *root;

	if (!o->writes)
		return;
	root = json_object_new_object();
	json_object_object_add(root, "command", json_object_new_string(cmd));
	json_object_object_add(root, "dry_run", json_object_new_boolean(true));
	json_object_object_add(root, "writes", o->writes);
	json_object_object_add(root, "steps", o->steps);
	puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	o->writes = o->steps = NULL;
}

static void require_root(const struct bind_opts *o, const char *what)
{
	common_require_root(&o->c, o->flags & VFK_BIND_DRY_RUN, what,
			    "changes drivers of host devices");
}

static int exit_for(int r)
{
	switch (r) {
	case -EBUSY:
	case -EPERM:
	case -EEXIST:
	case -EALREADY:
	case -ENOENT:
	case -ENODEV:
		return EXIT_NOT_SO;
	case -EINVAL:
		return EXIT_USAGE;
	default:
		return EXIT_FAILURE_OP;
	}
}

/* A journal the library refuses is one line naming file, line and what is
 * wrong (vfk_ctx_get_error), exit 3, before anything is read or written. */
static noreturn void die_journal(struct vfk_ctx *ctx)
{
	char why[600];

	snprintf(why, sizeof(why), "%s", vfk_ctx_get_error(ctx));
	vfk_ctx_unref(ctx);
	die(EXIT_FAILURE_OP, "%s (vfio-bind restore --from-scan recovers)", why);
}

/* Refused journal: die_journal(). Other failures (not root) are left to the
 * command, which says them in its own words. */
static void check_journal(struct vfk_ctx *ctx)
{
	struct vfk_journal *j;
	int r = vfk_journal_load(ctx, &j);

	if (r == 0)
		vfk_journal_free(j);
	else if (r == -EINVAL && vfk_ctx_get_error(ctx))
		die_journal(ctx);
}

/* Every command's context: --timeout bounds each of its steps. */
static struct vfk_ctx *bind_ctx_new(struct bind_opts *o)
{
	struct vfk_ctx *ctx = common_ctx_new(&o->c);

	vfk_ctx_set_timeout(ctx, o->timeout_ms);
	return ctx;
}

/* --for-user NAME: a user of this host (its etc/passwd, or NSS), not root,
 * whose QEMU gets the groups' nodes. Refused in one line before anything. */
static void bind_for_user(struct vfk_ctx *ctx, struct vfk_bind *b, const char *name)
{
	struct vfk_user u;
	char shown[80];
	int r = vfk_user_lookup(ctx, name, &u);

	if (r == -ENOENT || r == -EINVAL)
		die(EXIT_USAGE, "--for-user: no user '%s' on this host",
		    common_printable(name, shown, sizeof(shown)));
	if (r < 0)
		die_errno(EXIT_FAILURE_OP, r, "--for-user: looking up user");
	if (u.uid == 0)
		die(EXIT_USAGE, "--for-user: %s is root (uid 0), who needs no grant", u.name);
	vfk_bind_set_user(b, &u);
}

static int cmd_bind(struct bind_opts *o, char **args, int nargs)
{
	struct vfk_ctx *ctx = bind_ctx_new(o);
	struct vfk_host *host;
	struct vfk_bind *b;
	size_t i;
	int r;

	if (nargs == 0 && o->ngpus == 0 && o->ngroups == 0)
		die(EXIT_USAGE, "bind: name the devices (ADDR, --gpu ADDR or --group N)");
	for (i = 0; i < (size_t)nargs; i++) {
		struct vfk_pci_addr a;
		if (vfk_pci_addr_parse(args[i], &a) < 0)
			die(EXIT_USAGE, "'%s' is not a PCI address ([DDDD:]BB:DD.F)", args[i]);
	}
	require_root(o, "bind");
	check_journal(ctx);
	vfk_ctx_set_progress_fn(ctx, progress, o);
	host = common_host_scan(ctx);
	r = vfk_bind_new(host, o->owner ? o->owner : "vfio-bind", o->flags, &b);
	if (r < 0)
		die_errno(EXIT_FAILURE_OP, r, "bind");
	if (o->for_user)
		bind_for_user(ctx, b, o->for_user);
	/* a name that is no VFIO driver's is a usage error (2); one this host
	 * does not have is refused (1) */
	if (o->driver && (r = vfk_bind_set_vfio_driver(b, o->driver)) < 0)
		die_result(exit_for(r), r, vfk_bind_get_error(b));
	for (i = 0; i < (size_t)nargs; i++) {
		struct vfk_device *d;
		if (vfk_host_find_device(host, args[i], &d) < 0)
			die(EXIT_NOT_SO, "no PCI device %s on this host", args[i]);
		vfk_bind_add_device(b, d);
	}
	for (i = 0; i < o->ngpus; i++) {
		struct vfk_device *d;
		size_t k;
		bool found = false;
		if (vfk_host_find_device(host, o->gpus[i], &d) < 0)
			die(EXIT_NOT_SO, "no PCI device %s on this host", o->gpus[i]);
		for (k = 0; k < vfk_host_gpu_count(host); k++)
			if (vfk_gpu_get_device(vfk_host_gpu(host, k)) == d) {
				vfk_bind_add_gpu(b, vfk_host_gpu(host, k));
				found = true;
			}
		if (!found)
			die(EXIT_NOT_SO, "%s is not a GPU (class %04x)", o->gpus[i],
			    vfk_device_get_class(d) >> 8);
	}
	for (i = 0; i < o->ngroups; i++) {
		struct vfk_group *g;
		if (vfk_host_find_group(host, (int)o->groups[i], &g) < 0)
			die(EXIT_NOT_SO, "no IOMMU group %ld on this host", o->groups[i]);
		vfk_bind_add_group(b, g);
	}
	r = vfk_bind_prepare(b);
	if (r < 0)
		die_result(exit_for(r), r, vfk_bind_get_error(b));
	for (i = 0; i < vfk_bind_warning_count(b); i++)
		warnx_("warning: %s", vfk_bind_warning(b, i));
	r = vfk_bind_commit(b);
	if (r < 0)
		die(exit_for(r) == EXIT_USAGE ? EXIT_FAILURE_OP : exit_for(r), "%s%s",
		    vfk_bind_get_error(b) ? vfk_bind_get_error(b) : strerror(-r),
		    r == -EALREADY || r == -EWOULDBLOCK ? "" : " (all changes rolled back)");
	vfk_bind_free(b);
	vfk_host_unref(host);
	vfk_ctx_unref(ctx);
	json_dry_run_print(o, "bind");
	return EXIT_OK;
}

/* restore --from-scan [ADDR...]: every device the journal names, and ADDR. */
static int cmd_recover(struct bind_opts *o, char **args, int nargs)
{
	struct vfk_ctx *ctx;
	char err[512];
	int r;

	require_root(o, "restore --from-scan");
	ctx = bind_ctx_new(o);
	vfk_ctx_set_progress_fn(ctx, progress, o);
	r = vfk_restore_from_scan(ctx, (const char *const *)args, (size_t)nargs, o->flags, err,
				  sizeof(err));
	if (r < 0)
		die_result(EXIT_FAILURE_OP, r, err);
	vfk_ctx_unref(ctx);
	json_dry_run_print(o, "restore");
	return EXIT_OK;
}

static int cmd_restore(struct bind_opts *o, char **args, int nargs)
{
	struct vfk_ctx *ctx;
	char err[512];
	int r;

	for (int i = 0; i < nargs; i++) {
		struct vfk_pci_addr a;
		if (vfk_pci_addr_parse(args[i], &a) < 0)
			die(EXIT_USAGE, "'%s' is not a PCI address ([DDDD:]BB:DD.F)", args[i]);
	}
	if (o->from_scan)	/* the journal's devices always; --all adds nothing */
		return cmd_recover(o, args, nargs);
	if (!o->all && nargs == 0)
		die(EXIT_USAGE, "restore: name the devices or use --all");
	if (o->all && nargs)
		die(EXIT_USAGE, "restore: --all and addresses are exclusive");
	require_root(o, "restore");
	ctx = bind_ctx_new(o);
	check_journal(ctx);
	vfk_ctx_set_progress_fn(ctx, progress, o);
	r = vfk_restore(ctx, o->all ? NULL : (const char *const *)args, (size_t)nargs, o->flags, err,
			sizeof(err));
	if (r < 0)
		die_result(exit_for(r), r, err);
	vfk_ctx_unref(ctx);
	json_dry_run_print(o, "restore");
	return EXIT_OK;
}

static void driver_now(struct vfk_host *host, const char *addr, char *buf, size_t size)
{
	struct vfk_device *d;

	snprintf(buf, size, "%s", "absent");
	if (host && vfk_host_find_device(host, addr, &d) == 0)
		snprintf(buf, size, "%s", vfk_device_get_driver(d) ? vfk_device_get_driver(d) : "none");
}

/* Whom root gave the device's group node to: "name" or "uid N" when the
 * host no longer knows the uid. */
static const char *grant_user(struct vfk_ctx *ctx, const struct vfk_journal_entry *e, char *buf,
			      size_t size)
{
	struct vfk_user u;

	if (vfk_user_by_uid(ctx, e->grant_uid, &u) == 0)
		snprintf(buf, size, "%s", u.name);
	else
		snprintf(buf, size, "uid %u", e->grant_uid);
	return buf;
}

/* "  for user alice (uid 1000): /dev/vfio/12", or for a grant by descriptor
 * "  for user alice (uid 1000): group 12 (by descriptor)": no node is hers */
static const char *grant_text(struct vfk_ctx *ctx, const struct vfk_journal_entry *e, char *buf,
			      size_t size)
{
	char who[80];

	if (!e->granted)
		return "";
	snprintf(buf, size, "  for user %s (uid %u): %s%d%s", grant_user(ctx, e, who, sizeof(who)),
		 e->grant_uid, e->grant_fds ? "group " : "/dev/vfio/", e->group,
		 e->grant_fds ? " (by descriptor)" : "");
	return buf;
}

static json_object *grant_json(struct vfk_ctx *ctx, const struct vfk_journal_entry *e)
{
	json_object *u;
	char who[80], node[32];

	if (!e->granted)
		return NULL;
	u = json_object_new_object();
	grant_user(ctx, e, who, sizeof(who));
	snprintf(node, sizeof(node), "/dev/vfio/%d", e->group);
	json_object_object_add(u, "name", strncmp(who, "uid ", 4) ? json_object_new_string(who) : NULL);
	json_object_object_add(u, "uid", json_object_new_int64(e->grant_uid));
	/* a grant by descriptor gave no node: null, the way and the group say it */
	json_object_object_add(u, "node", e->grant_fds ? NULL : json_object_new_string(node));
	json_object_object_add(u, "grant", json_object_new_string(e->grant_fds ? "descriptor"
									       : "node"));
	json_object_object_add(u, "group", json_object_new_int(e->group));
	return u;
}

static int cmd_status(struct bind_opts *o)
{
	struct vfk_ctx *ctx = bind_ctx_new(o);
	struct vfk_journal *j;
	struct vfk_host *host = NULL;
	size_t i;
	int r;

	r = vfk_journal_load(ctx, &j);
	if (r == -EACCES)
		die(EXIT_FAILURE_OP, "cannot read the binding journal (run/vfiokit is root's): "
		    "run it as root to see what vfiokit holds");
	if (r == -EINVAL && vfk_ctx_get_error(ctx))
		die_journal(ctx);
	if (r < 0)
		die_errno(EXIT_FAILURE_OP, r, "reading the binding journal");
	if (vfk_journal_count(j))
		vfk_host_scan(ctx, &host);	/* for the current drivers; optional */
	if (o->c.json) {
		json_object *root = json_object_new_object(), *arr = json_object_new_array();
		for (i = 0; i < vfk_journal_count(j); i++) {
			const struct vfk_journal_entry *e = vfk_journal_get(j, i);
			json_object *d = json_object_new_object();
			char now[64];
			driver_now(host, e->address, now, sizeof(now));
			json_object_object_add(d, "address", json_object_new_string(e->address));
			json_object_object_add(d, "state", json_object_new_string(e->state ? "bound" : "pending"));
			json_object_object_add(d, "driver", json_object_new_string(now));
			json_object_object_add(d, "original_driver", *e->driver ? json_object_new_string(e->driver) : NULL);
			json_object_object_add(d, "original_override", *e->override ? json_object_new_string(e->override) : NULL);
			json_object_object_add(d, "vfio_driver", json_object_new_string(e->vfio_driver));
			json_object_object_add(d, "left", json_str_or_null(*e->left ? e->left : NULL));
			json_object_object_add(d, "owner", json_object_new_string(e->owner));
			json_object_object_add(d, "user", grant_json(ctx, e));
			json_object_object_add(d, "since", json_object_new_int64(e->since));
			json_object_array_add(arr, d);
		}
		json_object_object_add(root, "held", arr);
		common_json_print(root);
	} else if (vfk_journal_count(j) == 0) {
		printf("vfiokit holds no devices\n");
	} else {
		printf("%-13s %-8s %-12s %-14s %-14s %s\n", "DEVICE", "STATE", "DRIVER", "ORIGINAL",
		       "OWNER", "SINCE");
		for (i = 0; i < vfk_journal_count(j); i++) {
			const struct vfk_journal_entry *e = vfk_journal_get(j, i);
			char now[64], since[32], grant[160];
			time_t t = (time_t)e->since;
			struct tm tm;
			driver_now(host, e->address, now, sizeof(now));
			strftime(since, sizeof(since), "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
			printf("%-13s %-8s %-12s %-14s %-14s %s%s%s%s\n", e->address,
			       *e->left ? "left" : e->state ? "bound" : "pending", now,
			       *e->driver ? e->driver : "(none)", e->owner, since,
			       *e->left ? "  left by restore: " : "", e->left,
			       grant_text(ctx, e, grant, sizeof(grant)));
		}
	}
	vfk_host_unref(host);
	vfk_journal_free(j);
	vfk_ctx_unref(ctx);
	return EXIT_OK;
}

/* A persistence file the library refused is one line naming the file and
 * line (vfk_ctx_get_error); nothing was written. */
static noreturn void die_persist(struct vfk_ctx *ctx, int r, const char *what)
{
	char why[600];

	snprintf(why, sizeof(why), "%s", vfk_ctx_get_error(ctx) ? vfk_ctx_get_error(ctx)
								 : strerror(-r));
	vfk_ctx_unref(ctx);
	die(EXIT_FAILURE_OP, "%s: %s", what, why);
}

static int cmd_persist(struct bind_opts *o, char **args, int nargs, bool add)
{
	struct vfk_ctx *ctx;
	struct vfk_host *host = NULL;
	int i, r;

	if (nargs == 0)
		die(EXIT_USAGE, "%s: name the devices", add ? "persist" : "unpersist");
	for (i = 0; i < nargs; i++) {
		struct vfk_pci_addr a;
		if (vfk_pci_addr_parse(args[i], &a) < 0)
			die(EXIT_USAGE, "'%s' is not a PCI address ([DDDD:]BB:DD.F)", args[i]);
	}
	if (geteuid() != 0 && (!o->c.sysroot || !strcmp(o->c.sysroot, "/")))
		die(EXIT_FAILURE_OP, "%s writes /etc/vfiokit: run it as root",
		    add ? "persist" : "unpersist");
	ctx = bind_ctx_new(o);
	if (add)
		host = common_host_scan(ctx);
	for (i = 0; i < nargs; i++) {
		if (add) {
			struct vfk_device *d;
			if (vfk_host_find_device(host, args[i], &d) < 0)
				die(EXIT_NOT_SO, "no PCI device %s on this host", args[i]);
			r = vfk_persist_add(host, d);
		} else {
			r = vfk_persist_remove(ctx, args[i]);
			if (r == -ENOENT)
				die(EXIT_NOT_SO, "%s is not persisted", args[i]);
		}
		if (r < 0) {
			char what[64];
			snprintf(what, sizeof(what), "%s %s", add ? "persist" : "unpersist", args[i]);
			die_persist(ctx, r, what);
		}
		if (!o->c.quiet)
			printf("%s %s\n", args[i], add ? "will be bound to vfio-pci at boot"
						       : "no longer bound at boot");
	}
	vfk_host_unref(host);
	vfk_ctx_unref(ctx);
	return EXIT_OK;
}

/* One request answered, and a line on it for the service's log. */
static int serve(struct vfk_ctx *ctx, int conn)
{
	char who[64];
	int r = vfk_fds_serve(ctx, conn, who, sizeof(who));

	if (r >= 0)
		fprintf(stderr, "%s: %s: %d device%s handed over\n", program_name, who, r,
			r == 1 ? "" : "s");
	else
		fprintf(stderr, "%s: %s: refused: %s\n", program_name, *who ? who : "?",
			vfk_ctx_get_error(ctx));
	return r;
}

/* The socket at @path, listening, for anyone: the service asks the kernel who
 * connected. A socket left there by an earlier run is replaced, nothing else. */
static int listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		die(EXIT_USAGE, "--listen: '%s' is too long for a socket's name", path);
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
		die(EXIT_FAILURE_OP, "--listen: %s exists and is not a socket", path);
	unlink(path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0666) < 0 ||
	    listen(fd, 16) < 0)
		die(EXIT_FAILURE_OP, "--listen: %s: %s", path, strerror(errno));
	return fd;
}

static int cmd_pass_fds(struct bind_opts *o, int nargs)
{
	struct vfk_ctx *ctx;
	int lfd, conn;

	if (nargs)
		die(EXIT_USAGE, "pass-fds takes no arguments");
	if (geteuid() != 0)
		die(EXIT_NOT_SO, "pass-fds is root's: it opens /dev/iommu and the VFIO cdevs "
		    "for the users root granted devices to");
	ctx = bind_ctx_new(o);
	if (!o->listen) {
		int r = serve(ctx, STDIN_FILENO);

		vfk_ctx_unref(ctx);
		return r < 0 ? EXIT_NOT_SO : EXIT_OK;
	}
	lfd = listen_at(o->listen);
	for (;;) {	/* a service: until it is stopped */
		conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die(EXIT_FAILURE_OP, "pass-fds: %s: %s", o->listen, strerror(errno));
		}
		serve(ctx, conn);
		close(conn);
	}
}

static int cmd_persisted(struct bind_opts *o)
{
	struct vfk_ctx *ctx = bind_ctx_new(o);
	char **list;
	size_t n, i;
	int r;

	r = vfk_persist_list(ctx, &list, &n);
	if (r < 0)
		die_persist(ctx, r, "persisted");
	if (o->c.json) {
		json_object *root = json_object_new_object(), *arr = json_object_new_array();

		for (i = 0; i < n; i++)
			json_object_array_add(arr, json_object_new_string(list[i]));
		json_object_object_add(root, "persisted", arr);
		puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							  JSON_C_TO_STRING_SPACED));
		json_object_put(root);
	}
	for (i = 0; i < n; i++) {
		if (!o->c.json)
			puts(list[i]);
		free(list[i]);
	}
	free(list);
	vfk_ctx_unref(ctx);
	return EXIT_OK;
}

/*
 * The persistence file cannot be read or was refused: bind nothing. udevd
 * keeps a program's stderr at debug level only, so on the host the reason
 * also goes to syslog, where a boot that lost its passthrough can be read.
 */
static noreturn void udev_hook_refuse(const struct bind_opts *o, struct vfk_ctx *ctx,
				      const char *addr, int r)
{
	char msg[768];

	snprintf(msg, sizeof(msg), "udev-hook %s: nothing bound at boot: %s", addr,
		 vfk_ctx_get_error(ctx) ? vfk_ctx_get_error(ctx) : strerror(-r));
	vfk_ctx_unref(ctx);
	if (!o->c.sysroot || !strcmp(o->c.sysroot, "/")) {
		openlog("vfio-bind", LOG_PID, LOG_DAEMON);
		syslog(LOG_ERR, "%s", msg);
		closelog();
	}
	die(EXIT_FAILURE_OP, "%s", msg);
}

/*
 * Called by udev for every PCI device that appears (udev/60-vfiokit.rules):
 * prints VFIOKIT_PERSIST=1 and VFIOKIT_DRIVER (vfio-pci or the vendor's
 * variant the kernel's modules.alias names for it) for persisted devices,
 * so the rule sets driver_override before the native driver's module loads. With --rebind it
 * moves a device that a built-in driver took first.
 */
static int cmd_udev_hook(struct bind_opts *o, char **args, int nargs)
{
	struct vfk_ctx *ctx;
	int r;

	if (nargs != 1)
		die(EXIT_USAGE, "udev-hook: needs exactly one device address");
	{
		struct vfk_pci_addr a;
		if (vfk_pci_addr_parse(args[0], &a) < 0)
			die(EXIT_USAGE, "udev-hook: '%s' is not a PCI address", args[0]);
	}
	ctx = bind_ctx_new(o);
	r = vfk_persist_contains(ctx, args[0]);
	if (r < 0)
		udev_hook_refuse(o, ctx, args[0], r);
	if (r == 1) {
		struct vfk_host *host = NULL;
		struct vfk_device *d = NULL;
		char drv[64] = "vfio-pci", why[300];

		/* the VFIO driver the rule writes into driver_override and loads
		 * (its module's name is the driver's, '-' and '_' alike to kmod):
		 * a vendor's variant where the kernel has one for the device. A
		 * host that cannot be read, or a name udev could not carry as
		 * one value, leaves vfio-pci: the device is still bound at boot */
		if (vfk_host_scan(ctx, &host) == 0 && vfk_host_find_device(host, args[0], &d) == 0 &&
		    (vfk_device_vfio_driver(d, drv, sizeof(drv), why, sizeof(why)) < 0 ||
		     drv[strspn(drv, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")]))
			snprintf(drv, sizeof(drv), "vfio-pci");
		printf("VFIOKIT_PERSIST=1\nVFIOKIT_DRIVER=%s\n", drv);
		if (o->rebind && !host)
			warnx_("udev-hook: %s: the host's PCI devices could not be read", args[0]);
		if (o->rebind && d && !vfk_driver_is_vfio(vfk_device_get_driver(d))) {
			struct vfk_bind *b;
			if (vfk_bind_new(host, "boot", VFK_BIND_INCLUDE_SHARED, &b) == 0) {
				vfk_bind_add_device(b, d);
				if (vfk_bind_commit(b) < 0)
					warnx_("udev-hook: %s", vfk_bind_get_error(b));
				vfk_bind_free(b);
			}
		}
		vfk_host_unref(host);
	}
	vfk_ctx_unref(ctx);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	enum { OPT_GPU = 0x100, OPT_GROUP, OPT_SHARED, OPT_FORCE, OPT_SINGLE, OPT_TIMEOUT,
	       OPT_OWNER, OPT_ALL, OPT_REBIND, OPT_FROM_SCAN, OPT_DRIVER, OPT_FORCE_NATIVE,
	       OPT_FOR_USER, OPT_VIA_FDS, OPT_LISTEN };
	static const struct option longopts[] = {
		{ "gpu", required_argument, NULL, OPT_GPU },
		{ "group", required_argument, NULL, OPT_GROUP },
		{ "include-shared", no_argument, NULL, OPT_SHARED },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "single-gpu", no_argument, NULL, OPT_SINGLE },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "owner", required_argument, NULL, OPT_OWNER },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "rebind", no_argument, NULL, OPT_REBIND },
		{ "from-scan", no_argument, NULL, OPT_FROM_SCAN },
		{ "force-native", no_argument, NULL, OPT_FORCE_NATIVE },
		{ "driver", required_argument, NULL, OPT_DRIVER },
		{ "for-user", required_argument, NULL, OPT_FOR_USER },
		{ "via-fds", no_argument, NULL, OPT_VIA_FDS },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct bind_opts o = { .timeout_ms = 10000 };
	const char *cmd;
	char *end;
	long v;
	int c;

	common_init(argc, argv);
	/* GNU getopt permutes: options may come before or after the command */
	while ((c = common_getopt(argc, argv, "n" COMMON_SHORTOPTS, longopts, &o.c, usage)) != -1) {
		switch (c) {
		case OPT_GPU: {
			struct vfk_pci_addr a;
			if (vfk_pci_addr_parse(optarg, &a) < 0)
				die(EXIT_USAGE, "--gpu: '%s' is not a PCI address ([DDDD:]BB:DD.F)", optarg);
			if (o.ngpus == 64)
				die(EXIT_USAGE, "too many --gpu options");
			o.gpus[o.ngpus++] = optarg;
			break;
		}
		case OPT_GROUP:
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 0 || v > 0x7fffffff)
				die(EXIT_USAGE, "--group: '%s' is not a group number", optarg);
			if (o.ngroups == 64)
				die(EXIT_USAGE, "too many --group options");
			o.groups[o.ngroups++] = v;
			break;
		case OPT_SHARED: o.flags |= VFK_BIND_INCLUDE_SHARED; break;
		case OPT_FORCE: o.flags |= VFK_BIND_FORCE; break;
		case OPT_SINGLE: o.flags |= VFK_BIND_SINGLE_GPU; break;
		case 'n': o.flags |= VFK_BIND_DRY_RUN; break;
		case OPT_TIMEOUT:
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v <= 0 || v > 3600000)
				die(EXIT_USAGE, "--timeout: '%s' is not a number of milliseconds", optarg);
			o.timeout_ms = (unsigned int)v;
			break;
		case OPT_OWNER: o.owner = optarg; break;
		case OPT_ALL: o.all = true; break;
		case OPT_REBIND: o.rebind = true; break;
		case OPT_FROM_SCAN: o.from_scan = true; break;
		case OPT_FORCE_NATIVE: o.flags |= VFK_RESTORE_FORCE_NATIVE; break;
		case OPT_DRIVER:
			if (!*optarg)
				die(EXIT_USAGE, "--driver: name a VFIO driver (vfio-pci, mlx5_vfio_pci, ...)");
			o.driver = optarg;
			break;
		case OPT_FOR_USER: o.for_user = optarg; break;
		case OPT_VIA_FDS: o.flags |= VFK_BIND_GRANT_FDS; break;
		case OPT_LISTEN:
			if (!*optarg)
				die(EXIT_USAGE, "--listen: name the socket to make");
			o.listen = optarg;
			break;
		default:
			usage_hint();
		}
	}
	cmd = common_command(&argc, &argv, COMMANDS);
	json_allowed(&o, cmd);
	if (o.from_scan && strcmp(cmd, "restore"))
		die(EXIT_USAGE, "--from-scan goes with restore");
	if (o.driver && strcmp(cmd, "bind"))
		die(EXIT_USAGE, "--driver goes with bind");
	if (o.for_user && strcmp(cmd, "bind"))
		die(EXIT_USAGE, "--for-user goes with bind");
	if ((o.flags & VFK_BIND_GRANT_FDS) && (strcmp(cmd, "bind") || !o.for_user))
		die(EXIT_USAGE, "--via-fds goes with bind --for-user NAME");
	if (o.listen && strcmp(cmd, "pass-fds"))
		die(EXIT_USAGE, "--listen goes with pass-fds");
	if ((o.flags & VFK_RESTORE_FORCE_NATIVE) && (strcmp(cmd, "restore") || o.from_scan))
		die(EXIT_USAGE, "--force-native goes with restore (not --from-scan)");
	if (!strcmp(cmd, "bind"))
		return cmd_bind(&o, argv, argc);
	if (!strcmp(cmd, "restore"))
		return cmd_restore(&o, argv, argc);
	if (!strcmp(cmd, "status")) {
		if (argc)
			die(EXIT_USAGE, "status takes no arguments");
		return cmd_status(&o);
	}
	if (!strcmp(cmd, "persist"))
		return cmd_persist(&o, argv, argc, true);
	if (!strcmp(cmd, "unpersist"))
		return cmd_persist(&o, argv, argc, false);
	if (!strcmp(cmd, "persisted"))
		return cmd_persisted(&o);
	if (!strcmp(cmd, "pass-fds"))
		return cmd_pass_fds(&o, argc);
	if (!strcmp(cmd, "udev-hook"))
		return cmd_udev_hook(&o, argv, argc);
	die(EXIT_USAGE, "unknown command '%s' (%s)", cmd, COMMANDS);
}
