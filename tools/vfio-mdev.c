/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vfio-mdev: vGPU types and instances (mdev and NVIDIA's per-VF interface), SR-IOV VFs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "common.h"

#define COMMANDS "types, list, create, remove, define, undefine, start, start-defined, sriov"

struct mdev_opts {
	struct common_opts c;
	const char *uuid;
	unsigned int flags;	/* VFK_MDEV_* */
	bool define, no_autoprobe, autoprobe, force;
};

static void usage(int status)
{
	FILE *f = status == EXIT_OK ? stdout : stderr;

	fprintf(f,
		"Usage: %s types [PARENT] [--json]\n"
		"       %s list [--json]\n"
		"       %s create PARENT TYPE [--uuid UUID] [--define [--manual]]\n"
		"       %s remove ID\n"
		"       %s define ID | define PARENT TYPE [--uuid UUID] [--manual]\n"
		"       %s undefine ID  |  start ID  |  start-defined [PARENT]\n"
		"       %s sriov [PF] [--json]  |  sriov PF COUNT [--[no-]autoprobe] [--force]\n"
		"Mediated devices (vGPU slices: NVIDIA vGPU, Intel GVT-g, ...) and SR-IOV VFs.\n"
		"The classic mdev interface and NVIDIA's per-VF interface (vGPU 17+, kernel 6.8+)\n"
		"look the same here: ID is an mdev UUID or, per-VF, the VF's PCI address.\n\n"
		"Commands:\n"
		"  types          parents and their types: id, name, free instances, size\n"
		"  list           instances: active ones and those defined for boot\n"
		"  create         make an instance of TYPE (id, name or short id) on PARENT\n"
		"  remove         end an active instance (its definition stays)\n"
		"  define         keep an instance across reboots (mdevctl's format)\n"
		"  undefine       drop the definition (an active instance stays)\n"
		"  start          create a defined instance now\n"
		"  start-defined  create every instance defined with start=auto (boot, udev)\n"
		"  sriov          show PFs and their VFs, or set a PF's number of VFs\n\n"
		"Options:\n"
		"      --uuid UUID       the instance's UUID (default: a new random one)\n"
		"      --define          create: also define it for boot\n"
		"      --manual          define: do not create it at boot\n"
		"      --no-autoprobe    sriov: sriov_drivers_autoprobe=0 first, VFs come up unbound\n"
		"      --autoprobe       sriov: sriov_drivers_autoprobe=1 first, VFs get drivers again\n"
		"      --force           sriov: drop VFs even if vfiokit holds them or they carry vGPUs\n"
		"  -n, --dry-run         print every write as 'path <- value', change nothing\n"
		"      --json            types, list, sriov [PF]: machine-readable (schema in\n"
		"                        vfio-mdev(1)); the commands that change the host refuse it\n"
		COMMON_HELP
		"\nExit status: 0 done, 1 refused or not so (no such parent, type or instance, no\n"
		"free instance, VF in use), 2 usage error, 3 an operation failed or a definition\n"
		"file is damaged (list, start, start-defined: one line each, naming file and line).\n",
		program_name, program_name, program_name, program_name, program_name, program_name,
		program_name);
	exit(status);
}

/* Steps go to stderr: stdout carries the ids scripts read. */
static void progress(void *data, const char *msg)
{
	const struct mdev_opts *o = data;

	common_progress(&o->c, o->flags & VFK_MDEV_DRY_RUN, stderr, msg);
}

static int exit_for(int r)
{
	switch (r) {
	case -ENODEV:
	case -ENOENT:
	case -ENOSPC:
	case -EEXIST:
	case -EBUSY:
	case -EOPNOTSUPP:
	case -ERANGE:
		return EXIT_NOT_SO;
	case -EINVAL:
		return EXIT_USAGE;
	default:
		return EXIT_FAILURE_OP;
	}
}

static noreturn void die_op(int r, const char *err)
{
	die_result(exit_for(r), r, err);
}

static void require_root(const struct mdev_opts *o, const char *what)
{
	common_require_root(&o->c, o->flags & VFK_MDEV_DRY_RUN, what, "changes the host's devices");
}

static struct vfk_ctx *ctx_new(struct mdev_opts *o)
{
	struct vfk_ctx *ctx = common_ctx_new(&o->c);

	vfk_ctx_set_progress_fn(ctx, progress, o);
	return ctx;
}

static struct vfk_mdevs *scan(struct vfk_ctx *ctx)
{
	struct vfk_mdevs *m;
	int r = vfk_mdevs_scan(ctx, &m);

	if (r < 0)
		die_errno(EXIT_FAILURE_OP, r, "reading mediated devices under '%s'",
			  vfk_ctx_get_sysroot(ctx));
	return m;
}

/* ----------------------------------------------------------------- types */

static json_object *type_json(const struct vfk_mdev_type *t)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(vfk_mdev_type_get_id(t)));
	json_object_object_add(o, "name", json_object_new_string(vfk_mdev_type_get_name(t)));
	json_object_object_add(o, "description", json_str_or_null(vfk_mdev_type_get_description(t)));
	json_object_object_add(o, "available_instances",
			       json_object_new_int((int)vfk_mdev_type_get_available(t)));
	json_object_object_add(o, "instances",
			       json_object_new_int((int)vfk_mdev_type_get_instance_count(t)));
	json_object_object_add(o, "max_instances",
			       json_object_new_int((int)vfk_mdev_type_get_max_instances(t)));
	json_object_object_add(o, "framebuffer_mb",
			       json_object_new_int((int)vfk_mdev_type_get_framebuffer_mb(t)));
	json_object_object_add(o, "heads", json_object_new_int((int)vfk_mdev_type_get_heads(t)));
	json_object_object_add(o, "device_api", json_object_new_string(vfk_mdev_type_get_device_api(t)));
	return o;
}

static void print_parent(const struct vfk_mdev_parent *p, int verbose)
{
	size_t i;

	printf("%s  %s%s", vfk_mdev_parent_get_name(p),
	       vfk_mdev_parent_get_driver(p) ? vfk_mdev_parent_get_driver(p) : "no driver",
	       vfk_mdev_parent_get_kind(p) == VFK_MDEV_NVIDIA_VF ? ", NVIDIA per-VF vGPU" : "");
	if (vfk_mdev_parent_get_kind(p) == VFK_MDEV_NVIDIA_VF)
		printf(" (%zu VFs)", vfk_mdev_parent_vf_count(p));
	printf("\n");
	if (!vfk_mdev_parent_type_count(p)) {
		printf("  (no types offered now)\n");
		return;
	}
	printf("  %-18s %-20s %5s %5s %7s %5s  %s\n", "TYPE", "NAME", "AVAIL", "USED", "FB",
	       "HEADS", "API");
	for (i = 0; i < vfk_mdev_parent_type_count(p); i++) {
		const struct vfk_mdev_type *t = vfk_mdev_parent_type(p, i);
		char fb[16];
		if (vfk_mdev_type_get_framebuffer_mb(t))
			snprintf(fb, sizeof(fb), "%uM", vfk_mdev_type_get_framebuffer_mb(t));
		else
			snprintf(fb, sizeof(fb), "-");
		printf("  %-18s %-20s %5u %5u %7s %5u  %s\n", vfk_mdev_type_get_id(t),
		       vfk_mdev_type_get_name(t), vfk_mdev_type_get_available(t),
		       vfk_mdev_type_get_instance_count(t), fb, vfk_mdev_type_get_heads(t),
		       vfk_mdev_type_get_device_api(t));
		if (verbose && vfk_mdev_type_get_description(t)) {
			const char *d = vfk_mdev_type_get_description(t);
			while (*d) {
				size_t n = strcspn(d, "\n");
				printf("      %.*s\n", (int)n, d);
				d += n;
				if (*d)
					d++;
			}
		}
	}
}

static int cmd_types(struct mdev_opts *o, char **args, int nargs)
{
	struct vfk_ctx *ctx;
	struct vfk_mdevs *m;
	struct vfk_mdev_parent *only = NULL;
	json_object *root = NULL, *arr = NULL;
	size_t i;

	if (nargs > 1)
		die(EXIT_USAGE, "types takes at most one parent");
	ctx = ctx_new(o);
	m = scan(ctx);
	if (nargs == 1 && vfk_mdevs_find_parent(m, args[0], &only) < 0) {
		char err[512];
		int r = vfk_mdev_parent_check(ctx, args[0], err, sizeof(err));
		die_op(r < 0 ? r : -ENODEV, r < 0 ? err : "no such mediated-device parent");
	}
	if (o->c.json) {
		root = json_object_new_object();
		arr = json_object_new_array();
	} else if (!vfk_mdevs_parent_count(m)) {
		printf("no mediated-device parents (no vGPU host driver offers types)\n");
	}
	for (i = 0; i < vfk_mdevs_parent_count(m); i++) {
		struct vfk_mdev_parent *p = vfk_mdevs_parent(m, i);
		size_t k;
		if (only && p != only)
			continue;
		if (!o->c.json) {
			if (i && !only)
				printf("\n");
			print_parent(p, o->c.verbose);
			continue;
		}
		json_object *po = json_object_new_object(), *types = json_object_new_array();
		json_object_object_add(po, "name", json_object_new_string(vfk_mdev_parent_get_name(p)));
		json_object_object_add(po, "kind", json_object_new_string(
					       vfk_mdev_kind_to_string(vfk_mdev_parent_get_kind(p))));
		json_object_object_add(po, "driver", json_str_or_null(vfk_mdev_parent_get_driver(p)));
		if (vfk_mdev_parent_get_kind(p) == VFK_MDEV_NVIDIA_VF)
			json_object_object_add(po, "vfs",
					       json_object_new_int((int)vfk_mdev_parent_vf_count(p)));
		for (k = 0; k < vfk_mdev_parent_type_count(p); k++)
			json_object_array_add(types, type_json(vfk_mdev_parent_type(p, k)));
		json_object_object_add(po, "types", types);
		json_object_array_add(arr, po);
	}
	if (root) {
		json_object_object_add(root, "parents", arr);
		common_json_print(root);
	}
	vfk_mdevs_unref(m);
	vfk_ctx_unref(ctx);
	return EXIT_OK;
}

/* ------------------------------------------------------------------ list */

/*
 * Definition files the library refused: a row each (state "broken"), in
 * --json a "broken" array, and the reason on stderr, one line each. The
 * good ones are listed all the same; the exit status says something is wrong.
 */
static int list_broken(const struct vfk_mdevs *m, json_object *root)
{
	json_object *arr = root ? json_object_new_array() : NULL;
	size_t i, n = vfk_mdevs_broken_count(m);

	for (i = 0; i < n; i++) {
		const char *id = vfk_mdevs_broken_id(m, i), *parent = vfk_mdevs_broken_parent(m, i);
		warnx_("%s", vfk_mdevs_broken_error(m, i));
		if (!arr) {
			printf("%-36s  %-12s  %-30s %5s  %s\n", id, parent, "-", "-", "broken definition");
			continue;
		}
		json_object *b = json_object_new_object();
		json_object_object_add(b, "id", json_object_new_string(id));
		json_object_object_add(b, "parent", json_object_new_string(parent));
		json_object_object_add(b, "error", json_object_new_string(vfk_mdevs_broken_error(m, i)));
		json_object_array_add(arr, b);
	}
	if (root)
		json_object_object_add(root, "broken", arr);
	return n ? EXIT_FAILURE_OP : EXIT_OK;
}

static int cmd_list(struct mdev_opts *o, int nargs)
{
	struct vfk_ctx *ctx;
	struct vfk_mdevs *m;
	json_object *root = NULL, *arr = NULL;
	size_t i;
	int r;

	if (nargs)
		die(EXIT_USAGE, "list takes no arguments");
	ctx = ctx_new(o);
	m = scan(ctx);
	if (o->c.json) {
		root = json_object_new_object();
		arr = json_object_new_array();
	} else if (!vfk_mdevs_instance_count(m) && !vfk_mdevs_broken_count(m)) {
		printf("no mediated devices or per-VF vGPUs (active or defined)\n");
	} else {
		printf("%-36s  %-12s  %-30s %5s  %s\n", "ID", "PARENT", "TYPE", "GROUP", "STATE");
	}
	for (i = 0; i < vfk_mdevs_instance_count(m); i++) {
		const struct vfk_mdev_instance *in = vfk_mdevs_instance(m, i);
		int g = vfk_mdev_instance_get_iommu_group(in);
		const char *start = !vfk_mdev_instance_is_defined(in) ? NULL
				    : vfk_mdev_instance_is_autostart(in) ? "auto" : "manual";
		if (!o->c.json) {
			char type[128], group[16], state[64];
			if (strcmp(vfk_mdev_instance_get_type_name(in), vfk_mdev_instance_get_type_id(in)))
				snprintf(type, sizeof(type), "%s (%s)", vfk_mdev_instance_get_type_id(in),
					 vfk_mdev_instance_get_type_name(in));
			else
				snprintf(type, sizeof(type), "%s", vfk_mdev_instance_get_type_id(in));
			snprintf(group, sizeof(group), g >= 0 ? "%d" : "-", g);
			snprintf(state, sizeof(state), "%s%s%s%s",
				 vfk_mdev_instance_is_active(in) ? "active" : "",
				 vfk_mdev_instance_is_active(in) && start ? ", " : "",
				 start ? "defined " : "",
				 start ? (!strcmp(start, "auto") ? "(boot)" : "(manual)") : "");
			printf("%-36s  %-12s  %-30s %5s  %s\n", vfk_mdev_instance_get_id(in),
			       vfk_mdev_instance_get_parent(in), type, group, state);
			continue;
		}
		json_object *io = json_object_new_object();
		json_object_object_add(io, "id", json_object_new_string(vfk_mdev_instance_get_id(in)));
		json_object_object_add(io, "kind", json_object_new_string(
					       vfk_mdev_kind_to_string(vfk_mdev_instance_get_kind(in))));
		json_object_object_add(io, "parent",
				       json_object_new_string(vfk_mdev_instance_get_parent(in)));
		json_object_object_add(io, "type", json_object_new_string(vfk_mdev_instance_get_type_id(in)));
		json_object_object_add(io, "type_name",
				       json_object_new_string(vfk_mdev_instance_get_type_name(in)));
		json_object_object_add(io, "iommu_group", g >= 0 ? json_object_new_int(g) : NULL);
		json_object_object_add(io, "active",
				       json_object_new_boolean(vfk_mdev_instance_is_active(in)));
		json_object_object_add(io, "defined",
				       json_object_new_boolean(vfk_mdev_instance_is_defined(in)));
		json_object_object_add(io, "start", json_str_or_null(start));
		json_object_object_add(io, "sysfs_path",
				       json_str_or_null(vfk_mdev_instance_get_sysfs_path(in)));
		json_object_array_add(arr, io);
	}
	if (root)
		json_object_object_add(root, "instances", arr);
	r = list_broken(m, root);
	if (root)
		common_json_print(root);
	vfk_mdevs_unref(m);
	vfk_ctx_unref(ctx);
	return r;
}

/* ------------------------------------------------------- create, remove */

static bool looks_like_pci(const char *s)
{
	struct vfk_pci_addr a;

	return vfk_pci_addr_parse(s, &a) == 0;
}

static int cmd_create(struct mdev_opts *o, char **args, int nargs)
{
	struct vfk_ctx *ctx;
	char id[VFK_MDEV_ID_SIZE], err[768];
	int r;

	if (nargs != 2)
		die(EXIT_USAGE, "create needs a parent and a type");
	require_root(o, "create");
	ctx = ctx_new(o);
	r = vfk_mdev_create(ctx, args[0], args[1], o->uuid, o->flags, id, err, sizeof(err));
	if (r < 0)
		die_op(r, err);
	if (o->define) {
		/* per-VF: the definition belongs to the VF the vGPU landed on */
		r = vfk_mdev_define(ctx, id, looks_like_pci(id) ? id : args[0], args[1], o->flags,
				    NULL, err, sizeof(err));
		if (r < 0) {
			warnx_("%s was created but not defined: %s", id, err);
			vfk_ctx_unref(ctx);
			return EXIT_FAILURE_OP;
		}
	}
	/* the id is the result, not narration: -q keeps it (U=$(vfio-mdev -q create ...)) */
	if (!(o->flags & VFK_MDEV_DRY_RUN))
		printf("%s\n", id);
	vfk_ctx_unref(ctx);
	return EXIT_OK;
}

static int cmd_remove(struct mdev_opts *o, char **args, int nargs)
{
	struct vfk_ctx *ctx;
	struct vfk_mdevs *m;
	struct vfk_mdev_instance *in;
	char err[512];
	int r;

	if (nargs != 1)
		die(EXIT_USAGE, "remove needs one instance (UUID or VF address)");
	require_root(o, "remove");
	ctx = ctx_new(o);
	r = vfk_mdev_remove(ctx, args[0], o->flags, err, sizeof(err));
	if (r < 0)
		die_op(r, err);
	m = scan(ctx);
	if (vfk_mdevs_find_instance(m, args[0], &in) == 0 && vfk_mdev_instance_is_autostart(in) &&
	    !o->c.quiet)
		warnx_("%s is still defined and comes back at boot (vfio-mdev undefine %s)",
		       vfk_mdev_instance_get_id(in), vfk_mdev_instance_get_id(in));
	vfk_mdevs_unref(m);
	vfk_ctx_unref(ctx);
	return EXIT_OK;
}

/* --------------------------------------------------------- definitions */

static int cmd_define(struct mdev_opts *o, char **args, int nargs)
{
	struct vfk_ctx *ctx;
	char id[VFK_MDEV_ID_SIZE], err[768];
	int r;

	if (nargs != 1 && nargs != 2)
		die(EXIT_USAGE, "define needs an instance, or a parent and a type");
	if (nargs == 1 && o->uuid)
		die(EXIT_USAGE, "--uuid goes with 'define PARENT TYPE'");
	require_root(o, "define");
	ctx = ctx_new(o);
	r = nargs == 1 ? vfk_mdev_define(ctx, args[0], NULL, NULL, o->flags, id, err, sizeof(err))
		       : vfk_mdev_define(ctx, o->uuid, args[0], args[1], o->flags, id, err,
					 sizeof(err));
	if (r < 0)
		die_op(r, err);
	/* the id is the result, not narration: -q keeps it (U=$(vfio-mdev -q create ...)) */
	if (!(o->flags & VFK_MDEV_DRY_RUN))
		printf("%s\n", id);
	vfk_ctx_unref(ctx);
	return EXIT_OK;
}

static int cmd_undefine_start(struct mdev_opts *o, char **args, int nargs, bool start)
{
	struct vfk_ctx *ctx;
	char err[768];
	int r;

	if (nargs != 1)
		die(EXIT_USAGE, "%s needs one instance (UUID or VF address)", start ? "start" : "undefine");
	require_root(o, start ? "start" : "undefine");
	ctx = ctx_new(o);
	r = start ? vfk_mdev_start(ctx, args[0], o->flags, err, sizeof(err))
		  : vfk_mdev_undefine(ctx, args[0], o->flags, err, sizeof(err));
	if (r < 0)
		die_op(r, err);
	vfk_ctx_unref(ctx);
	return EXIT_OK;
}

/*
 * Boot (udev): the library has started every good definition already; each
 * damaged file and failed start is one line here, and the exit status says
 * something failed.
 */
static int cmd_start_defined(struct mdev_opts *o, char **args, int nargs)
{
	struct vfk_ctx *ctx;
	char err[8192];
	int r;

	if (nargs > 1)
		die(EXIT_USAGE, "start-defined takes at most one parent");
	require_root(o, "start-defined");
	ctx = ctx_new(o);
	r = vfk_mdev_start_defined(ctx, nargs ? args[0] : NULL, o->flags, err, sizeof(err));
	if (r < 0 && !*err)
		die_op(r, NULL);
	if (r < 0) {
		char *line = err, *nl;
		for (; line; line = nl ? nl + 1 : NULL) {
			if ((nl = strchr(line, '\n')))
				*nl = '\0';
			warnx_("%s", line);
		}
		vfk_ctx_unref(ctx);
		return EXIT_FAILURE_OP;
	}
	if (!o->c.quiet)
		fprintf(stderr, ":: %d defined instance%s started\n", r, r == 1 ? "" : "s");
	vfk_ctx_unref(ctx);
	return EXIT_OK;
}

/* ------------------------------------------------------------- SR-IOV */

static bool is_pf(const struct vfk_device *d)
{
	return vfk_device_get_sriov_totalvfs(d) > 0;
}

static int cmd_sriov_show(struct mdev_opts *o, struct vfk_ctx *ctx, const char *only)
{
	struct vfk_host *host = common_host_scan(ctx);
	struct vfk_mdevs *m = scan(ctx);
	struct vfk_device *want = NULL;
	json_object *root = NULL, *arr = NULL;
	size_t i, k, shown = 0;

	if (only) {
		if (vfk_host_find_device(host, only, &want) < 0)
			die(EXIT_NOT_SO, "no PCI device %s on this host", only);
		if (!is_pf(want))
			die(EXIT_NOT_SO, "%s is not an SR-IOV physical function%s%s", only,
			    vfk_device_get_physfn(want) ? "; its PF is " : "",
			    vfk_device_get_physfn(want) ? vfk_device_get_address(vfk_device_get_physfn(want)) : "");
	}
	if (o->c.json) {
		root = json_object_new_object();
		arr = json_object_new_array();
	}
	for (i = 0; i < vfk_host_device_count(host); i++) {
		struct vfk_device *pf = vfk_host_device(host, i);
		const char *addr = vfk_device_get_address(pf);
		int ap;
		if (!is_pf(pf) || (want && pf != want))
			continue;
		ap = vfk_sriov_get_drivers_autoprobe(ctx, addr);
		shown++;
		if (!o->c.json) {
			printf("%s%s %s %s [%04x:%04x] (%s): %u of %u VFs, drivers_autoprobe %s\n",
			       shown > 1 ? "\n" : "", addr, vfk_device_get_vendor_name(pf),
			       vfk_device_get_device_name(pf), vfk_device_get_vendor_id(pf),
			       vfk_device_get_device_id(pf),
			       vfk_device_get_driver(pf) ? vfk_device_get_driver(pf) : "no driver",
			       vfk_device_get_sriov_numvfs(pf), vfk_device_get_sriov_totalvfs(pf),
			       ap < 0 ? "?" : ap ? "on" : "off");
		}
		json_object *po = NULL, *vfs = NULL;
		if (o->c.json) {
			po = json_object_new_object();
			vfs = json_object_new_array();
			json_object_object_add(po, "address", json_object_new_string(addr));
			json_object_object_add(po, "driver", json_str_or_null(vfk_device_get_driver(pf)));
			json_object_object_add(po, "totalvfs",
					       json_object_new_int((int)vfk_device_get_sriov_totalvfs(pf)));
			json_object_object_add(po, "numvfs",
					       json_object_new_int((int)vfk_device_get_sriov_numvfs(pf)));
			json_object_object_add(po, "drivers_autoprobe",
					       ap < 0 ? NULL : json_object_new_boolean(ap));
		}
		for (k = 0; k < vfk_device_vf_count(pf); k++) {
			struct vfk_device *vf = vfk_device_vf(pf, k);
			struct vfk_mdev_instance *in = NULL;
			int g = vfk_device_get_iommu_group(vf);
			const char *drv = vfk_device_get_driver(vf);
			if (vfk_mdevs_find_instance(m, vfk_device_get_address(vf), &in) < 0 ||
			    !vfk_mdev_instance_is_active(in))
				in = NULL;
			if (!o->c.json) {
				printf("  VF %-3zu %s  group %-4d %s%s%s\n", k, vfk_device_get_address(vf),
				       g, drv ? drv : "(no driver)", in ? ", vGPU " : "",
				       in ? vfk_mdev_instance_get_type_name(in) : "");
				continue;
			}
			json_object *vo = json_object_new_object();
			json_object_object_add(vo, "index", json_object_new_int((int)k));
			json_object_object_add(vo, "address",
					       json_object_new_string(vfk_device_get_address(vf)));
			json_object_object_add(vo, "driver", json_str_or_null(drv));
			json_object_object_add(vo, "iommu_group", g >= 0 ? json_object_new_int(g) : NULL);
			json_object_object_add(vo, "vgpu_type",
					       in ? json_object_new_string(vfk_mdev_instance_get_type_id(in))
						  : NULL);
			json_object_array_add(vfs, vo);
		}
		if (po) {
			json_object_object_add(po, "vfs", vfs);
			json_object_array_add(arr, po);
		}
	}
	if (root) {
		json_object_object_add(root, "pfs", arr);
		common_json_print(root);
	} else if (!shown) {
		printf("no SR-IOV physical functions\n");
	}
	vfk_mdevs_unref(m);
	vfk_host_unref(host);
	return EXIT_OK;
}

static int cmd_sriov(struct mdev_opts *o, char **args, int nargs)
{
	struct vfk_ctx *ctx;
	unsigned int flags = 0;
	char err[768], *end;
	long n;
	int r;

	if (nargs > 2)
		die(EXIT_USAGE, "sriov takes a PF and a count at most");
	ctx = ctx_new(o);
	if (nargs < 2) {
		r = cmd_sriov_show(o, ctx, nargs ? args[0] : NULL);
		vfk_ctx_unref(ctx);
		return r;
	}
	errno = 0;
	n = strtol(args[1], &end, 10);
	if (errno || end == args[1] || *end || n < 0 || n > 65535)
		die(EXIT_USAGE, "'%s' is not a number of VFs", args[1]);
	require_root(o, "sriov");
	if (o->no_autoprobe && o->autoprobe)
		die(EXIT_USAGE, "--autoprobe and --no-autoprobe exclude each other");
	if (o->no_autoprobe)
		flags |= VFK_SRIOV_NO_AUTOPROBE;
	if (o->autoprobe)
		flags |= VFK_SRIOV_AUTOPROBE;
	if (o->force)
		flags |= VFK_SRIOV_FORCE;
	if (o->flags & VFK_MDEV_DRY_RUN)
		flags |= VFK_SRIOV_DRY_RUN;
	r = vfk_sriov_set_numvfs(ctx, args[0], (unsigned int)n, flags, err, sizeof(err));
	if (r < 0)
		die_op(r, err);
	vfk_ctx_unref(ctx);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	enum { OPT_UUID = 0x100, OPT_DEFINE, OPT_MANUAL, OPT_NO_AUTOPROBE, OPT_AUTOPROBE,
	       OPT_FORCE };
	static const struct option longopts[] = {
		{ "uuid", required_argument, NULL, OPT_UUID },
		{ "define", no_argument, NULL, OPT_DEFINE },
		{ "manual", no_argument, NULL, OPT_MANUAL },
		{ "no-autoprobe", no_argument, NULL, OPT_NO_AUTOPROBE },
		{ "autoprobe", no_argument, NULL, OPT_AUTOPROBE },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "dry-run", no_argument, NULL, 'n' },
		COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct mdev_opts o = { 0 };
	const char *cmd;
	int c;

	common_init(argc, argv);
	while ((c = common_getopt(argc, argv, "n" COMMON_SHORTOPTS, longopts, &o.c, usage)) != -1) {
		switch (c) {
		case OPT_UUID: o.uuid = optarg; break;
		case OPT_DEFINE: o.define = true; break;
		case OPT_MANUAL: o.flags |= VFK_MDEV_MANUAL; break;
		case OPT_NO_AUTOPROBE: o.no_autoprobe = true; break;
		case OPT_AUTOPROBE: o.autoprobe = true; break;
		case OPT_FORCE: o.force = true; break;
		case 'n': o.flags |= VFK_MDEV_DRY_RUN; break;
		default:
			usage_hint();
		}
	}
	cmd = common_command(&argc, &argv, COMMANDS);
	/* --json is honoured by the listings; a command that changes the host
	 * refuses it rather than print text */
	if (o.c.json && strcmp(cmd, "types") && strcmp(cmd, "list") &&
	    !(!strcmp(cmd, "sriov") && argc <= 1))
		die(EXIT_USAGE, "--json goes with types, list and sriov [PF] (%s%s prints no JSON)",
		    cmd, strcmp(cmd, "sriov") ? "" : " PF COUNT");
	if (!strcmp(cmd, "types"))
		return cmd_types(&o, argv, argc);
	if (!strcmp(cmd, "list"))
		return cmd_list(&o, argc);
	if (!strcmp(cmd, "create"))
		return cmd_create(&o, argv, argc);
	if (!strcmp(cmd, "remove"))
		return cmd_remove(&o, argv, argc);
	if (!strcmp(cmd, "define"))
		return cmd_define(&o, argv, argc);
	if (!strcmp(cmd, "undefine"))
		return cmd_undefine_start(&o, argv, argc, false);
	if (!strcmp(cmd, "start"))
		return cmd_undefine_start(&o, argv, argc, true);
	if (!strcmp(cmd, "start-defined"))
		return cmd_start_defined(&o, argv, argc);
	if (!strcmp(cmd, "sriov"))
		return cmd_sriov(&o, argv, argc);
	die(EXIT_USAGE, "unknown command '%s' (%s)", cmd, COMMANDS);
}
