/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-vm: from a short profile to a tuned VM.
 *
 *   vfio-vm plan PROFILE [--connect URI] [--json]       what the VM will be, and why
 *   vfio-vm gen PROFILE --format libvirt|qemu [-o FILE] the VM definition
 *   vfio-vm up PROFILE [--backend libvirt|qemu] [--wait]  bind, create, start
 *   vfio-vm down NAME|PROFILE                          stop, restore the host
 *   vfio-vm status [NAME] [--json]                     what vfiokit started
 *   vfio-vm wait NAME                                  restore once the guest stops
 *
 * main() dispatches through a table of subcommands; each parses its own
 * options after the shared ones (--sysroot, --set, -v, ...).
 *
 * Run by a normal user, every command but release works in user mode (the
 * library decides: vfk_ctx_set_user_mode()): the user's VMs, kept in the
 * user's directories, on qemu:///session; one that needs host devices is
 * refused in one line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "common.h"

enum cmd_kind { CMD_PLAN, CMD_GEN, CMD_UP, CMD_DOWN, CMD_STATUS, CMD_WAIT, CMD_RELEASE };

struct vm_opts {
	struct common_opts c;
	enum cmd_kind kind;
	const char *profile;	/* or, for down/status/wait, the VM name */
	const char *format;	/* gen: "libvirt" or "qemu" */
	const char *output;	/* gen -o */
	const char **sets;	/* --set SECTION.KEY=VALUE, in order */
	size_t nsets;
	struct vfk_vm_options vm;	/* up/down */
	bool wait;		/* up --wait */
	bool stale;		/* release --stale */
};

struct subcommand {
	const char *name;
	const char *args;
	const char *summary;
	int (*run)(int argc, char **argv);
};

static int cmd_plan(int argc, char **argv);
static int cmd_gen(int argc, char **argv);
static int cmd_up(int argc, char **argv);
static int cmd_down(int argc, char **argv);
static int cmd_status(int argc, char **argv);
static int cmd_wait(int argc, char **argv);
static int cmd_release(int argc, char **argv);

static const struct subcommand subcommands[] = {
	{ "plan", "PROFILE [--connect URI] [--json]", "show the plan: GPU mode and why, the GPUs ranked, pinning, memory, devices",
	  cmd_plan },
	{ "gen", "PROFILE --format libvirt|qemu [-o FILE] [--connect URI]",
	  "write the VM as libvirt domain XML or a QEMU command line", cmd_gen },
	{ "up", "PROFILE [--backend libvirt|qemu] [--connect URI] [--wait] [--redefine] [--installed]\n"
		"              [--run-as USER]",
	  "bind the devices, create the mdev, start the VM (all undone on failure);\n"
	  "        libvirt: defines the domain once, then starts it as defined", cmd_up },
	{ "down", "NAME|PROFILE [--timeout S] [--undefine]",
	  "ACPI shutdown (forced after the timeout), restore drivers, remove mdevs;\n"
	  "        the domain and its NVRAM stay unless --undefine", cmd_down },
	{ "status", "[NAME] [--json]", "the VMs vfiokit started, their state and devices",
	  cmd_status },
	{ "wait", "NAME|PROFILE", "wait until the VM stops by itself, then restore the host",
	  cmd_wait },
	{ "release", "NAME|--stale", "libvirt's hook: the VM has stopped, restore the host (no libvirt call);\n"
	  "        --stale: at boot, every VM that is gone with the host not restored",
	  cmd_release },
};

static void usage(int status)
{
	FILE *f = status == EXIT_OK ? stdout : stderr;
	size_t i;

	fprintf(f, "Usage: %s COMMAND PROFILE [OPTIONS]\n"
		"Turn a VM profile (vfiokit.ini(5)) into a VM tuned for this host.\n\n"
		"Commands:\n", program_name);
	for (i = 0; i < ARRAY_SIZE(subcommands); i++)
		fprintf(f, "  %-5s %-40s\n        %s\n", subcommands[i].name, subcommands[i].args,
			subcommands[i].summary);
	fprintf(f, "\nOptions:\n"
		"      --format FMT    gen: libvirt (domain XML) or qemu (shell-quoted argv)\n"
		"  -o, --output FILE   gen: write to FILE (replaced atomically) instead of stdout\n"
		"      --set S.K=V     override key K of section S of the profile (repeatable)\n"
		"      --installed     plan, gen, up: the OS is installed ([vm] installed = yes):\n"
		"                      [disk.installer] and Setup's driver ISO are left out, and\n"
		"                      taken out of a domain kept from before (other edits stay)\n"
		"      --json          plan, status: machine-readable output (schema in vfio-vm(1));\n"
		"                      the other commands refuse it\n"
		"      --backend B     up: libvirt (default) or qemu (QEMU directly, QMP socket)\n"
		"  -c, --connect URI   plan, gen, up: libvirt URI (default qemu:///system, for a\n"
		"                      normal user qemu:///session); another\n"
		"                      host is planned from its libvirt node devices and\n"
		"                      capabilities, its devices bound by libvirt (managed='yes')\n"
		"      --transient     up: libvirt domain created, not defined\n"
		"      --redefine      up: replace the existing domain's definition with the\n"
		"                      profile's (edits made to it since are lost)\n"
		"      --wait          up: stay until the guest stops, then restore the host\n"
		"      --console-log F up: copy the guest's serial console to file F\n"
		"      --single-gpu    up: allow the host's only/console GPU (consoles released)\n"
		"      --run-as USER   up, qemu backend, as root: QEMU runs as USER; root binds,\n"
		"                      opens the disks, firmware, log, QMP socket and (iommufd\n"
		"                      backend) the VFIO descriptors and passes them, and sets\n"
		"                      QEMU's memlock limit to what VFIO pins\n"
		"      --force         up: override vfio-bind's host guards\n"
		"      --timeout S     down: seconds of ACPI shutdown before forcing (default 60)\n"
		"      --undefine      down: also undefine the domain with its NVRAM and TPM\n"
		"                      (qemu backend: remove the VM's NVRAM and TPM state);\n"
		"                      also for a VM that is not up (with --backend/--connect)\n"
		"      --stale         release: every VM whose process is gone and nothing restores\n"
		COMMON_HELP
		"\nAs a normal user (not root) the VMs are the user's own: records and sockets in\n"
		"$XDG_RUNTIME_DIR/vfiokit, NVRAM and TPM state in $XDG_STATE_HOME/vfiokit\n"
		"(~/.local/state/vfiokit), libvirt at qemu:///session; a VM with host devices\n"
		"(passthrough, mdev, [hostdev]) needs root. vfio-check --user lists what this\n"
		"user still needs (/dev/kvm, the kvm group, session libvirt, memlock).\n"
		"\nExit status: 0 done, 1 the profile cannot be met on this host (no such GPU,\n"
		"ambiguous selector, mode not possible, binding refused, no such VM), 2 usage\n"
		"error or invalid profile, 3 the host could not be read, the output not written,\n"
		"or a launch step failed (everything done was undone).\n");
	exit(status);
}

/* ------------------------------------------------------------ options */

static void parse_options(int argc, char **argv, struct vm_opts *o, enum cmd_kind kind)
{
	enum { OPT_FORMAT = 0x100, OPT_SET, OPT_BACKEND, OPT_TRANSIENT, OPT_WAIT, OPT_LOG,
	       OPT_SINGLE, OPT_FORCE, OPT_TIMEOUT, OPT_STALE, OPT_REDEFINE, OPT_UNDEFINE,
	       OPT_INSTALLED, OPT_RUNAS };
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "output", required_argument, NULL, 'o' },
		{ "set", required_argument, NULL, OPT_SET },
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ "connect", required_argument, NULL, 'c' },
		{ "transient", no_argument, NULL, OPT_TRANSIENT },
		{ "wait", no_argument, NULL, OPT_WAIT },
		{ "console-log", required_argument, NULL, OPT_LOG },
		{ "single-gpu", no_argument, NULL, OPT_SINGLE },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "stale", no_argument, NULL, OPT_STALE },
		{ "redefine", no_argument, NULL, OPT_REDEFINE },
		{ "installed", no_argument, NULL, OPT_INSTALLED },
		{ "run-as", required_argument, NULL, OPT_RUNAS },
		{ "undefine", no_argument, NULL, OPT_UNDEFINE },
		COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "plan", "gen", "up", "down", "status", "wait",
					     "release" };
	const char *cmd = names[kind];
	bool gen = kind == CMD_GEN, up = kind == CMD_UP;
	char *end;
	long v;
	int c;

	o->kind = kind;
	optind = 0;
	while ((c = common_getopt(argc, argv, COMMON_SHORTOPTS "o:c:", longopts, &o->c,
				  usage)) != -1) {
		switch (c) {
		case OPT_FORMAT:
			if (!gen)
				die(EXIT_USAGE, "--format is an option of 'gen'");
			if (strcmp(optarg, "libvirt") && strcmp(optarg, "qemu"))
				die(EXIT_USAGE, "--format must be libvirt or qemu, not '%s'", optarg);
			o->format = optarg;
			break;
		case 'o':
			if (!gen)
				die(EXIT_USAGE, "-o is an option of 'gen'");
			o->output = optarg;
			break;
		case OPT_SET:
		case OPT_INSTALLED:	/* the key, as --set would give it */
			if (kind > CMD_UP)
				die(EXIT_USAGE, "%s is an option of plan, gen and up",
				    c == OPT_SET ? "--set" : "--installed");
			o->sets = realloc(o->sets, (o->nsets + 1) * sizeof(*o->sets));
			if (!o->sets)
				die(EXIT_FAILURE_OP, "out of memory");
			o->sets[o->nsets++] = c == OPT_SET ? optarg : (char *)"vm.installed=yes";
			break;
		case OPT_BACKEND:
			if (!up && kind != CMD_DOWN)
				die(EXIT_USAGE, "--backend is an option of 'up' (and of down --undefine)");
			if (!strcmp(optarg, "libvirt"))
				o->vm.backend = VFK_BACKEND_LIBVIRT;
			else if (!strcmp(optarg, "qemu"))
				o->vm.backend = VFK_BACKEND_QEMU;
			else
				die(EXIT_USAGE, "--backend must be libvirt or qemu, not '%s'", optarg);
			break;
		case 'c':
			if (kind > CMD_UP && kind != CMD_DOWN)
				die(EXIT_USAGE, "--connect is an option of plan, gen and up (and of "
				    "down --undefine)");
			o->vm.uri = optarg;
			break;
		case OPT_TRANSIENT:
		case OPT_WAIT:
		case OPT_LOG:
		case OPT_SINGLE:
		case OPT_FORCE:
		case OPT_RUNAS:
			if (!up)
				die(EXIT_USAGE, "%s is an option of 'up'", argv[optind - 1]);
			if (c == OPT_TRANSIENT)
				o->vm.transient = true;
			else if (c == OPT_WAIT)
				o->wait = o->vm.unwatched = true;	/* this process waits */
			else if (c == OPT_LOG)
				o->vm.console_log = optarg;
			else if (c == OPT_SINGLE)
				o->vm.bind_flags |= VFK_BIND_SINGLE_GPU;
			else if (c == OPT_RUNAS)
				o->vm.run_as = optarg;
			else
				o->vm.bind_flags |= VFK_BIND_FORCE;
			break;
		case OPT_TIMEOUT:
			if (kind != CMD_DOWN)
				die(EXIT_USAGE, "--timeout is an option of 'down'");
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v <= 0 || v > 86400)
				die(EXIT_USAGE, "--timeout: '%s' is not a number of seconds", optarg);
			o->vm.shutdown_timeout = (unsigned int)v;
			break;
		case OPT_REDEFINE:
			if (!up)
				die(EXIT_USAGE, "--redefine is an option of 'up'");
			o->vm.redefine = true;
			break;
		case OPT_UNDEFINE:
			if (kind != CMD_DOWN)
				die(EXIT_USAGE, "--undefine is an option of 'down'");
			o->vm.undefine = true;
			break;
		case OPT_STALE:
			if (kind != CMD_RELEASE)
				die(EXIT_USAGE, "--stale is an option of 'release'");
			o->stale = true;
			break;
		default:
			usage_hint();
		}
	}
	if (kind <= CMD_UP && o->vm.uri && !vfk_libvirt_uri_is_local(o->vm.uri) &&
	    o->vm.backend == VFK_BACKEND_QEMU)
		die(EXIT_USAGE, "--connect %s is another host: the qemu backend starts QEMU on this "
		    "one", o->vm.uri);
	if (o->vm.transient && o->vm.backend == VFK_BACKEND_QEMU)
		die(EXIT_USAGE, "--transient is for the libvirt backend");
	if (o->vm.transient && o->vm.redefine)
		die(EXIT_USAGE, "--redefine replaces a definition; --transient defines none");
	if (kind == CMD_DOWN && !o->vm.undefine && (o->vm.uri || o->vm.backend))
		die(EXIT_USAGE, "down finds the backend and URI of a VM that is up itself; "
		    "--backend and --connect go with down --undefine");
	if (o->stale && optind < argc)
		die(EXIT_USAGE, "release --stale takes no VM name: it looks at every VM");
	if (optind < argc)
		o->profile = argv[optind++];
	else if (kind != CMD_STATUS && !o->stale)
		die(EXIT_USAGE, "%s needs a %s", cmd, kind <= CMD_UP ? "PROFILE" : "VM NAME or PROFILE");
	if (optind < argc)
		die(EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
	if (gen && !o->format)
		die(EXIT_USAGE, "gen needs --format libvirt or --format qemu");
	if (o->c.json && kind != CMD_PLAN && kind != CMD_STATUS)
		die(EXIT_USAGE, "--json goes with plan and status (%s prints no JSON%s)", cmd,
		    gen ? ": gen writes XML or a command line" : "");
	if (o->c.json && o->c.quiet)
		o->c.quiet = false;
}

/* What a command works on; session_end() releases it. */
struct session {
	struct vfk_ctx *ctx;
	struct vfk_host *host;
	struct vfk_profile *prof;
	struct vfk_plan *plan;
};

static void session_end(struct session *s, struct vm_opts *o)
{
	vfk_plan_free(s->plan);
	vfk_profile_free(s->prof);
	vfk_host_unref(s->host);
	vfk_ctx_unref(s->ctx);
	free(o->sets);
}

/* A normal user's VMs live in the user's directories: without them (no
 * XDG_RUNTIME_DIR) one line says what to do, before anything is read. */
static void require_vm_dirs(struct vfk_ctx *ctx)
{
	if (vfk_ctx_get_user_mode_error(ctx))
		die(EXIT_FAILURE_OP, "%s", vfk_ctx_get_user_mode_error(ctx));
}

/* Which mode the VMs of @ctx run in and why: "user mode: state in ..., libvirt
 * qemu:///session: not root (uid 1000)"; malloc'ed. */
static char *run_mode_line(struct vfk_ctx *ctx, const struct vm_opts *o)
{
	const char *uri = o->vm.uri ? o->vm.uri : vfk_ctx_get_libvirt_uri(ctx);
	const char *why = vfk_ctx_get_user_mode_reason(ctx), *env = getenv("VFK_USER_MODE");
	char *line = NULL;

	if (!why)
		why = geteuid() == 0 ? "root" : env && !strcmp(env, "0") ? "VFK_USER_MODE=0"
									  : "a --sysroot tree";
	if (asprintf(&line, "%s mode: state in %s and %s, libvirt %s%s: %s",
		     vfk_ctx_is_user_mode(ctx) ? "user" : "system",
		     vfk_ctx_get_vm_dir(ctx, VFK_VM_DIR_RUNTIME),
		     vfk_ctx_get_vm_dir(ctx, VFK_VM_DIR_STATE), uri, o->vm.uri ? " (--connect)" : "",
		     why) < 0)
		die(EXIT_FAILURE_OP, "out of memory");
	return line;
}

/* Load the profile, apply --set, scan the host, plan. Dies on failure. */
static struct vfk_plan *make_plan(struct vm_opts *o, struct vfk_ctx **ctxp,
				  struct vfk_host **hostp, struct vfk_profile **profp)
{
	char err[1024] = "";
	struct vfk_plan *plan;
	size_t i;
	int r;

	r = vfk_profile_load(o->profile, profp, err, sizeof(err));
	if (r == -EINVAL)
		die(EXIT_USAGE, "%s", err);
	if (r < 0)
		die_result(EXIT_FAILURE_OP, r, err);
	for (i = 0; i < o->nsets; i++) {
		const char *eq = strchr(o->sets[i], '=');
		char *key;

		if (!eq)
			die(EXIT_USAGE, "--set %s: expected SECTION.KEY=VALUE", o->sets[i]);
		key = strndup(o->sets[i], (size_t)(eq - o->sets[i]));
		if (!key)
			die(EXIT_FAILURE_OP, "out of memory");
		r = vfk_profile_set(*profp, key, eq + 1, err, sizeof(err));
		free(key);
		if (r < 0)
			die(r == -ENOMEM ? EXIT_FAILURE_OP : EXIT_USAGE, "%s", err);
	}
	*ctxp = common_ctx_new(&o->c);
	require_vm_dirs(*ctxp);
	if (o->vm.uri && !vfk_libvirt_uri_is_local(o->vm.uri)) {
		/* another host: planned from what its libvirt says of it */
		struct vfk_ctx *remote;

		r = vfk_ctx_new_remote(*ctxp, o->vm.uri, &remote, err, sizeof(err));
		if (r < 0)
			die(EXIT_FAILURE_OP, "%s", err[0] ? err : strerror(-r));
		vfk_ctx_unref(*ctxp);
		*ctxp = remote;
	}
	*hostp = common_host_scan(*ctxp);
	r = vfk_plan_new(*hostp, *profp, &plan, err, sizeof(err));
	if (r == 0) {	/* [vfio] backend: the emulator that will run it says */
		struct vfk_vm_options vm = o->vm;

		if (o->format)
			vm.backend = strcmp(o->format, "qemu") ? VFK_BACKEND_LIBVIRT : VFK_BACKEND_QEMU;
		r = vfk_plan_ask_vmm(plan, &vm, err, sizeof(err));
	}
	if (r == -ENODEV || r == -ENOTUNIQ)
		die(EXIT_NOT_SO, "%s: %s", o->profile, err);
	if (r < 0)
		die(EXIT_FAILURE_OP, "%s: %s", o->profile, err[0] ? err : strerror(-r));
	return plan;
}

/* ------------------------------------------------------------ plan */

/* The GPUs considered for passthrough, ranked, one line each. */
static void print_candidates(const struct vfk_plan *plan)
{
	size_t i, k, n = vfk_plan_candidate_count(plan);

	/* one GPU: the lines above say it all; no passthrough: "not
	 * passthrough" says why each GPU could not be given away */
	if (n < 2 || vfk_plan_get_mode(plan) != VFK_GPU_MODE_PASSTHROUGH)
		return;
	printf("  GPUs considered:\n");
	for (i = 0; i < n; i++) {
		printf("    %s  %s: ",
		       vfk_device_get_address(vfk_gpu_get_device(vfk_plan_candidate_gpu(plan, i))),
		       vfk_plan_candidate_is_chosen(plan, i) ? "chosen" : "not chosen");
		for (k = 0; k < vfk_plan_candidate_reason_count(plan, i); k++)
			printf("%s%s", k ? ", " : "", vfk_plan_candidate_reason(plan, i, k));
		putchar('\n');
	}
}

/*
 * The VFIO driver each of @n devices goes to and why: one line when they all
 * go to the same one for the same reason ("vfio driver: vfio-pci (no variant
 * driver matches)"), else one per device.
 */
static void print_vfio_drivers(struct vfk_device *const *devs, size_t n)
{
	char first[64] = "", first_why[320] = "", name[64], why[320];
	bool same = true;
	size_t k;

	for (k = 0; k < n; k++) {
		if (vfk_device_vfio_driver(devs[k], name, sizeof(name), why, sizeof(why)) < 0) {
			snprintf(name, sizeof(name), "?");
			snprintf(why, sizeof(why), "unknown");
		}
		if (k == 0) {
			snprintf(first, sizeof(first), "%s", name);
			snprintf(first_why, sizeof(first_why), "%s", why);
		} else if (strcmp(name, first) || strcmp(why, first_why)) {
			same = false;
		}
	}
	if (n == 0)
		return;
	if (same) {
		printf("    vfio driver: %s (%s)\n", first, first_why);
		return;
	}
	for (k = 0; k < n; k++) {
		if (vfk_device_vfio_driver(devs[k], name, sizeof(name), why, sizeof(why)) < 0) {
			snprintf(name, sizeof(name), "?");
			snprintf(why, sizeof(why), "unknown");
		}
		printf("    vfio driver of %s: %s (%s)\n", vfk_device_get_address(devs[k]), name, why);
	}
}

static void print_gpu(const struct vfk_plan *plan, size_t i)
{
	const struct vfk_gpu *gpu = vfk_plan_gpu(plan, i);
	const struct vfk_device *g = vfk_gpu_get_device(gpu);
	size_t k;

	printf("  GPU %s: %s %s", vfk_device_get_address(g), vfk_device_get_vendor_name(g),
	       vfk_device_get_device_name(g));
	if (vfk_plan_gpu_clique(plan, i) >= 0)
		printf(" (peer-to-peer clique %d)", vfk_plan_gpu_clique(plan, i));
	printf("\n    in the guest:");
	for (k = 0; k < vfk_gpu_function_count(gpu); k++) {
		char guest[32];

		printf(" %s -> %s", vfk_device_get_address(vfk_gpu_function(gpu, k)),
		       vfk_plan_gpu_function_guest_address(plan, i, k, guest, sizeof(guest)));
	}
	putchar('\n');
	{
		size_t n = vfk_gpu_function_count(gpu);
		struct vfk_device **fns = calloc(n ? n : 1, sizeof(*fns));

		for (k = 0; fns && k < n; k++)
			fns[k] = vfk_gpu_function(gpu, k);
		if (fns)
			print_vfio_drivers(fns, n);
		free(fns);
	}
}

/* The [hostdev] and [usb] devices: what goes with each, where in the guest. */
static void print_extra_devices(const struct vfk_plan *plan)
{
	size_t i, k;

	for (i = 0; i < vfk_plan_hostdev_count(plan); i++) {
		const struct vfk_device *d = vfk_plan_hostdev(plan, i);

		printf("  [%s] %s: %s %s\n    %s\n    in the guest:",
		       vfk_plan_hostdev_section(plan, i), vfk_device_get_address(d),
		       vfk_device_get_vendor_name(d), vfk_device_get_device_name(d),
		       vfk_plan_hostdev_verdict(plan, i));
		for (k = 0; k < vfk_plan_hostdev_function_count(plan, i); k++) {
			char guest[32];

			printf(" %s -> %s",
			       vfk_device_get_address(vfk_plan_hostdev_function(plan, i, k)),
			       vfk_plan_hostdev_function_guest_address(plan, i, k, guest,
								       sizeof(guest)));
		}
		putchar('\n');
		{
			size_t n = vfk_plan_hostdev_function_count(plan, i);
			struct vfk_device **fns = calloc(n ? n : 1, sizeof(*fns));

			for (k = 0; fns && k < n; k++)
				fns[k] = vfk_plan_hostdev_function(plan, i, k);
			if (fns)
				print_vfio_drivers(fns, n);
			free(fns);
		}
	}
	for (i = 0; i < vfk_plan_usb_count(plan); i++) {
		struct vfk_usb_device_info u;

		if (vfk_plan_usb_device(plan, i, &u) < 0)
			continue;
		printf("  [%s] USB %04x:%04x on bus %u port %s (address %u)%s%s\n",
		       vfk_plan_usb_section(plan, i), u.vendor_id, u.product_id, u.bus, u.port,
		       u.address, *u.name ? ": " : "", u.name);
	}
}

static void print_plan(const struct vfk_plan *plan, const struct vfk_profile *prof)
{
	unsigned int s, d, c, t, i, n = vfk_plan_get_vcpus(plan);
	enum vfk_gpu_mode m;
	size_t k;

	printf("VM %s (profile %s)\n\n", vfk_plan_get_name(plan), vfk_profile_get_path(prof));
	printf("GPU mode: %s\n  why: %s\n", vfk_gpu_mode_to_string(vfk_plan_get_mode(plan)),
	       vfk_plan_get_mode_reason(plan));
	for (m = VFK_GPU_MODE_PASSTHROUGH; m < VFK_GPU_MODE_COUNT; m++)
		if (vfk_plan_get_rejection(plan, m))
			printf("  not %s: %s\n", vfk_gpu_mode_to_string(m),
			       vfk_plan_get_rejection(plan, m));
	for (i = 0; i < vfk_plan_gpu_count(plan); i++)
		print_gpu(plan, i);
	for (i = 0; i < vfk_plan_fabric_count(plan); i++) {
		const struct vfk_device *f = vfk_plan_fabric_device(plan, i);

		printf("  NVSwitch %s: %s %s\n", vfk_device_get_address(f),
		       vfk_device_get_vendor_name(f), vfk_device_get_device_name(f));
		print_vfio_drivers((struct vfk_device *const[]){ vfk_plan_fabric_device(plan, i) }, 1);
	}
	print_candidates(plan);
	print_extra_devices(plan);
	if (vfk_plan_get_mdev_uuid(plan))
		printf("  mdev %s: type %s on %s\n", vfk_plan_get_mdev_uuid(plan),
		       vfk_plan_get_mdev_type(plan), vfk_plan_get_mdev_parent(plan));
	if (vfk_plan_get_vfio_backend(plan))
		printf("VFIO backend: %s\n  why: %s\n", vfk_plan_get_vfio_backend(plan),
		       vfk_plan_get_vfio_reason(plan));

	vfk_plan_get_topology(plan, &s, &d, &c, &t);
	printf("\nCPU: %u vCPU%s (%u socket, %u core%s x %u thread%s), %s\n", n, n == 1 ? "" : "s",
	       s, c, c == 1 ? "" : "s", t, t == 1 ? "" : "s",
	       vfk_plan_uses_kvm(plan) ? "KVM" : "TCG");
	if (vfk_plan_get_vcpu_pin(plan, 0) >= 0) {
		printf("  pinning:");
		for (i = 0; i < n; i++)
			printf("%s %u->%d", i && i % 8 == 0 ? "\n          " : "", i,
			       vfk_plan_get_vcpu_pin(plan, i));
		putchar('\n');
	}
	if (vfk_plan_get_emulator_cpus(plan))
		printf("  emulator and I/O threads: CPUs %s\n", vfk_plan_get_emulator_cpus(plan));
	printf("Memory: %llu MiB", vfk_plan_get_memory_mib(plan));
	if (vfk_plan_get_memory_node(plan) >= 0)
		printf(" on NUMA node %d", vfk_plan_get_memory_node(plan));
	if (vfk_plan_get_hugepage_kib(plan))
		printf(", %s huge pages", vfk_plan_get_hugepage_kib(plan) == 2048 ? "2 MiB" : "1 GiB");
	putchar('\n');
	if (vfk_plan_get_firmware_code(plan))
		printf("Firmware: %s\n", vfk_plan_get_firmware_code(plan));
	else
		printf("Firmware: BIOS (SeaBIOS)\n");
	if (vfk_plan_get_ivshmem_mib(plan))
		printf("Looking Glass: %u MiB ivshmem\n", vfk_plan_get_ivshmem_mib(plan));
	if (vfk_plan_note_count(plan)) {
		printf("\nNotes:\n");
		for (k = 0; k < vfk_plan_note_count(plan); k++)
			printf("  - %s\n", vfk_plan_note(plan, k));
	}
}

/*
 * How the plan compares with the one vfiokit last defined the VM's libvirt
 * domain from: "none" (not defined), "same" or "changed" with *@diff.
 */
static const char *definition_state(struct vfk_plan *plan, char **diff)
{
	int r = vfk_vm_definition_diff(plan, diff);

	return r == 0 ? "same" : r == 1 ? "changed" : "none";
}

static void print_definition(struct vfk_plan *plan)
{
	_cleanup_free_ char *diff = NULL;
	const char *state = definition_state(plan, &diff), *name = vfk_plan_get_name(plan);

	if (streq(state, "same"))
		printf("\nDomain: %s is defined from this plan; up starts it as defined\n", name);
	else if (streq(state, "changed"))
		printf("\nDomain: %s was defined from another plan; up starts it as defined (edits "
		       "made since are kept), up --redefine applies this one:\n%s", name, diff);
}

static void print_plan_json(struct vfk_plan *plan, json_object *run)
{
	_cleanup_free_ char *json = NULL, *diff = NULL;
	json_object *root, *def;
	int r = vfk_plan_to_json(plan, &json);

	if (r < 0)
		die_errno(EXIT_FAILURE_OP, r, "JSON output");
	root = json_tokener_parse(json);
	if (!root)
		die(EXIT_FAILURE_OP, "JSON output: the plan's JSON does not parse");
	def = json_object_new_object();
	json_object_object_add(def, "state", json_object_new_string(definition_state(plan, &diff)));
	json_object_object_add(def, "diff", diff ? json_object_new_string(diff) : NULL);
	json_object_object_add(root, "definition", def);
	json_object_object_add(root, "run", run);
	puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
						  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}

/* The mode the VM runs in (the local context's: a remote plan's VM is
 * recorded here) and what up would refuse. */
static void print_run_mode(struct vfk_ctx *ctx, const struct vfk_plan *plan,
			   const struct vm_opts *o)
{
	_cleanup_free_ char *line = run_mode_line(ctx, o);

	printf("\nRuns in %s\n", line);
	if (vfk_plan_get_up_refusal(plan))
		printf("  up refuses it: %s\n", vfk_plan_get_up_refusal(plan));
}

static json_object *run_mode_json(struct vfk_ctx *ctx, const struct vfk_plan *plan,
				  const struct vm_opts *o)
{
	_cleanup_free_ char *line = run_mode_line(ctx, o);
	json_object *m = json_object_new_object();

	json_object_object_add(m, "mode", json_object_new_string(vfk_ctx_is_user_mode(ctx)
								  ? "user" : "system"));
	json_object_object_add(m, "reason", json_str_or_null(vfk_ctx_get_user_mode_reason(ctx)));
	json_object_object_add(m, "summary", json_object_new_string(line));
	json_object_object_add(m, "runtime_dir",
			       json_str_or_null(vfk_ctx_get_vm_dir(ctx, VFK_VM_DIR_RUNTIME)));
	json_object_object_add(m, "state_dir",
			       json_str_or_null(vfk_ctx_get_vm_dir(ctx, VFK_VM_DIR_STATE)));
	json_object_object_add(m, "libvirt_uri", json_object_new_string(o->vm.uri ? o->vm.uri
							: vfk_ctx_get_libvirt_uri(ctx)));
	json_object_object_add(m, "up_refused", json_str_or_null(vfk_plan_get_up_refusal(plan)));
	return m;
}

/* A remote host's context: the VM's record is kept in this host's. */
static struct vfk_ctx *local_ctx(struct vfk_ctx *ctx)
{
	return vfk_ctx_get_local(ctx) ? vfk_ctx_get_local(ctx) : ctx;
}

static int cmd_plan(int argc, char **argv)
{
	struct vm_opts o = { 0 };
	struct session s = { 0 };

	parse_options(argc, argv, &o, CMD_PLAN);
	s.plan = make_plan(&o, &s.ctx, &s.host, &s.prof);
	if (o.c.json) {
		print_plan_json(s.plan, run_mode_json(local_ctx(s.ctx), s.plan, &o));
	} else if (!o.c.quiet) {
		print_plan(s.plan, s.prof);
		print_run_mode(local_ctx(s.ctx), s.plan, &o);
		print_definition(s.plan);
	}
	session_end(&s, &o);
	return EXIT_OK;
}

/* ------------------------------------------------------------ gen */

/* Write @data to @path atomically: a temp file next to it, then rename. */
static int write_output(const char *path, const char *data)
{
	_cleanup_free_ char *tmp = NULL;
	size_t len = strlen(data), off = 0;
	int fd;

	if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
		tmp = NULL;
		return -ENOMEM;
	}
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		off += (size_t)n;
	}
	if (fchmod(fd, 0644) < 0 || fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail: {
	int e = errno;

	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -e;
}
}

static int cmd_gen(int argc, char **argv)
{
	struct vm_opts o = { 0 };
	struct session s = { 0 };
	struct vfk_plan *plan;
	char *text = NULL;
	int r;

	parse_options(argc, argv, &o, CMD_GEN);
	plan = s.plan = make_plan(&o, &s.ctx, &s.host, &s.prof);
	if (!strcmp(o.format, "libvirt")) {
		r = vfk_plan_to_libvirt_xml(plan, &text);
	} else {
		char **av = NULL;

		r = vfk_plan_to_qemu_argv(plan, &av);
		if (r == 0)
			r = vfk_argv_to_shell((const char *const *)av, &text);
		vfk_argv_free(av);
	}
	if (r < 0)
		die_errno(EXIT_FAILURE_OP, r, "generating %s output", o.format);
	if (o.output) {
		r = write_output(o.output, text);
		if (r < 0)
			die_errno(EXIT_FAILURE_OP, r, "writing %s", o.output);
	} else {
		fputs(text, stdout);
		if (fflush(stdout) != 0)
			die(EXIT_FAILURE_OP, "writing standard output: %s", strerror(errno));
	}
	if (!o.c.quiet && o.c.verbose)
		for (size_t k = 0; k < vfk_plan_note_count(plan); k++)
			fprintf(stderr, "%s: note: %s\n", program_name, vfk_plan_note(plan, k));
	free(text);
	session_end(&s, &o);
	return EXIT_OK;
}

/* ------------------------------------------------------------ up, down, status, wait */

static void progress(void *data, const char *msg)
{
	const struct vm_opts *o = data;

	common_progress(&o->c, false, stdout, msg);
}

static void require_root(const struct vm_opts *o, const char *what)
{
	common_require_root(&o->c, false, what, "binds host devices and starts VMs");
}

static int exit_for(int r)
{
	switch (r) {
	case -EBUSY: case -EPERM: case -EEXIST: case -EALREADY: case -ENOENT: case -ENODEV:
	case -ENOSPC: case -EREMOTE:
		return EXIT_NOT_SO;
	case -EINVAL:
		return EXIT_USAGE;
	default:
		return EXIT_FAILURE_OP;
	}
}

/* down/wait take a VM name or the profile it was started from. */
static const char *vm_name_of(struct vm_opts *o, struct vfk_profile **prof)
{
	char err[1024];
	struct stat st;

	*prof = NULL;
	if (vfk_vm_name_valid(o->profile) && stat(o->profile, &st) < 0)
		return o->profile;
	if (vfk_profile_load(o->profile, prof, err, sizeof(err)) < 0)
		die(EXIT_USAGE, "'%s' is neither a VM name nor a readable profile: %s", o->profile, err);
	return vfk_profile_get_name(*prof);
}

static int cmd_up(int argc, char **argv)
{
	struct vm_opts o = { 0 };
	struct session s = { 0 };
	char err[1024];
	int r;

	parse_options(argc, argv, &o, CMD_UP);
	s.plan = make_plan(&o, &s.ctx, &s.host, &s.prof);
	vfk_ctx_set_progress_fn(s.ctx, progress, &o);
	if (!vfk_plan_uses_kvm(s.plan) && !o.c.quiet)
		fprintf(stderr, "%s: warning: KVM cannot run this guest here; it runs under TCG "
			"(emulation, much slower)\n", program_name);
	if (!o.c.quiet) {
		printf(":: plan: GPU mode %s: %s\n", vfk_gpu_mode_to_string(vfk_plan_get_mode(s.plan)),
		       vfk_plan_get_mode_reason(s.plan));
		if (vfk_ctx_is_user_mode(local_ctx(s.ctx))) {
			_cleanup_free_ char *line = run_mode_line(local_ctx(s.ctx), &o);
			printf(":: %s\n", line);
		}
		fflush(stdout);
	}
	r = vfk_vm_up(s.plan, &o.vm, err, sizeof(err));
	if (r < 0)
		die(exit_for(r), "%s", err[0] ? err : strerror(-r));
	if (o.wait) {
		progress(&o, "waiting for the guest to stop (Ctrl-C leaves it running)");
		r = vfk_vm_wait(s.ctx, vfk_plan_get_name(s.plan), err, sizeof(err));
		if (r < 0)
			die(exit_for(r), "%s", err[0] ? err : strerror(-r));
		progress(&o, "host restored");
	}
	session_end(&s, &o);
	return EXIT_OK;
}

/* release --stale: at boot (vfiokit-restore.service), every VM that is gone
 * with nothing left to restore the host after it. */
static int release_stale(struct vm_opts *o)
{
	struct vfk_ctx *ctx;
	char err[1024];
	int r;

	require_root(o, "release --stale");
	ctx = common_ctx_new(&o->c);
	vfk_ctx_set_progress_fn(ctx, progress, o);
	r = vfk_vm_release_stale(ctx, err, sizeof(err));
	vfk_ctx_unref(ctx);
	if (r < 0)
		die(exit_for(r), "%s", err[0] ? err : strerror(-r));
	snprintf(err, sizeof(err), "host restored for %d VM%s that had gone", r, r == 1 ? "" : "s");
	progress(o, r ? err : "no VM had gone unrestored");
	return EXIT_OK;
}

/* down, wait and release all end with the host restored; down stops the
 * guest first, wait lets it stop, release runs after libvirt stopped it. */
static int stop_vm(int argc, char **argv, enum cmd_kind cmd)
{
	struct vm_opts o = { 0 };
	struct vfk_vm_record *rec = NULL;
	struct vfk_profile *prof;
	struct vfk_ctx *ctx;
	const char *name;
	bool was_up = false;
	char err[1024];
	int r;

	parse_options(argc, argv, &o, cmd);
	if (o.stale)
		return release_stale(&o);
	/* libvirt's hook runs for every domain: a name no VM of vfiokit can
	 * have is not ours, and never read as a profile */
	if (cmd == CMD_RELEASE && !vfk_vm_name_valid(o.profile))
		return EXIT_OK;
	/* libvirt's hook: the host's VMs, restored as root */
	if (cmd == CMD_RELEASE)
		require_root(&o, "release");
	name = vm_name_of(&o, &prof);
	ctx = common_ctx_new(&o.c);
	require_vm_dirs(ctx);
	vfk_ctx_set_progress_fn(ctx, progress, &o);
	if (cmd == CMD_DOWN && vfk_vm_list(ctx, name, &rec) > 0)
		was_up = true;
	free(rec);
	if (cmd == CMD_DOWN)
		r = vfk_vm_down(ctx, name, &o.vm, err, sizeof(err));
	else if (cmd == CMD_WAIT)
		r = vfk_vm_wait(ctx, name, err, sizeof(err));
	else
		r = vfk_vm_release(ctx, name, err, sizeof(err));
	if (r < 0)
		die(exit_for(r), "%s", err[0] ? err : strerror(-r));
	if (cmd == CMD_DOWN && !was_up)
		progress(&o, "forgotten (it was not up)");
	else if (cmd == CMD_DOWN)
		progress(&o, vfk_ctx_is_user_mode(ctx) ? "stopped" : "host restored");
	vfk_profile_free(prof);
	vfk_ctx_unref(ctx);
	free(o.sets);
	return EXIT_OK;
}

static int cmd_down(int argc, char **argv)
{
	return stop_vm(argc, argv, CMD_DOWN);
}

static int cmd_wait(int argc, char **argv)
{
	return stop_vm(argc, argv, CMD_WAIT);
}

static int cmd_release(int argc, char **argv)
{
	return stop_vm(argc, argv, CMD_RELEASE);
}

static int cmd_status(int argc, char **argv)
{
	struct vm_opts o = { 0 };
	struct vfk_profile *prof = NULL;
	struct vfk_vm_record *recs = NULL;
	struct vfk_journal *j = NULL;
	struct vfk_ctx *ctx;
	const char *name = NULL;
	int n, i;
	size_t k;

	parse_options(argc, argv, &o, CMD_STATUS);
	if (o.profile)
		name = vm_name_of(&o, &prof);
	ctx = common_ctx_new(&o.c);
	require_vm_dirs(ctx);
	n = vfk_vm_list(ctx, name, &recs);
	if (n == -ENOENT)
		die(EXIT_NOT_SO, "vfiokit did not start a VM named %s", name);
	if (n < 0)
		die_errno(EXIT_FAILURE_OP, n, "reading the VM records in %s",
			  vfk_ctx_get_vm_dir(ctx, VFK_VM_DIR_RUNTIME));
	/* a normal user's VMs hold no host devices (nor may the user read the
	 * host's journal) */
	if (vfk_ctx_is_user_mode(ctx) || vfk_journal_load(ctx, &j) < 0)
		j = NULL;
	if (o.c.json) {
		json_object *root = json_object_new_object(), *vms = json_object_new_array();
		for (i = 0; i < n; i++) {
			json_object *vm = json_object_new_object(), *devs = json_object_new_array();
			bool q = recs[i].backend == VFK_BACKEND_QEMU;
			json_object_object_add(vm, "name", json_object_new_string(recs[i].name));
			json_object_object_add(vm, "backend", json_object_new_string(q ? "qemu" : "libvirt"));
			json_object_object_add(vm, "uri", q ? NULL : json_object_new_string(recs[i].uri));
			json_object_object_add(vm, "state", json_object_new_string(recs[i].state));
			json_object_object_add(vm, "pid", q ? json_object_new_int(recs[i].pid) : NULL);
			json_object_object_add(vm, "run_as", recs[i].run_as[0]
						? json_object_new_string(recs[i].run_as) : NULL);
			json_object_object_add(vm, "swtpm_pid", q && recs[i].swtpm_pid
						? json_object_new_int(recs[i].swtpm_pid) : NULL);
			json_object_object_add(vm, "since", json_object_new_int64(recs[i].since));
			json_object_object_add(vm, "mdev", recs[i].mdev[0] ? json_object_new_string(recs[i].mdev) : NULL);
			json_object_object_add(vm, "restore", recs[i].armed[0]
						? json_object_new_string(recs[i].armed) : NULL);
			for (k = 0; j && k < vfk_journal_count(j); k++) {
				const struct vfk_journal_entry *e = vfk_journal_get(j, k);
				json_object *d;
				if (strcmp(e->owner, recs[i].name))
					continue;
				d = json_object_new_object();
				json_object_object_add(d, "address", json_object_new_string(e->address));
				json_object_object_add(d, "original_driver",
						       e->driver[0] ? json_object_new_string(e->driver) : NULL);
				json_object_array_add(devs, d);
			}
			json_object_object_add(vm, "devices", devs);
			json_object_array_add(vms, vm);
		}
		json_object_object_add(root, "vms", vms);
		puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(root);
	} else if (n == 0) {
		printf("vfiokit started no VMs\n");
	} else {
		for (i = 0; i < n; i++) {
			printf("%s: %s (%s%s%s), since %lld\n", recs[i].name, recs[i].state,
			       recs[i].backend == VFK_BACKEND_QEMU ? "qemu" : "libvirt",
			       recs[i].backend == VFK_BACKEND_QEMU ? "" : " ",
			       recs[i].backend == VFK_BACKEND_QEMU ? "" : recs[i].uri, recs[i].since);
			if (recs[i].mdev[0])
				printf("  mdev %s\n", recs[i].mdev);
			if (recs[i].run_as[0])
				printf("  QEMU (pid %d) runs as user %s\n", recs[i].pid, recs[i].run_as);
			if (recs[i].swtpm_pid)
				printf("  TPM: swtpm pid %d\n", recs[i].swtpm_pid);
			if (recs[i].armed[0])
				printf("  when it stops: the host is restored by the %s\n", recs[i].armed);
			else if (vfk_ctx_is_user_mode(ctx))
				printf("  when it stops: nothing of the host to restore (a normal "
				       "user's VM); vfio-vm down %s forgets it\n", recs[i].name);
			else
				printf("  when it stops: nothing restores the host until vfio-vm down %s\n",
				       recs[i].name);
			for (k = 0; j && k < vfk_journal_count(j); k++) {
				const struct vfk_journal_entry *e = vfk_journal_get(j, k);
				if (!strcmp(e->owner, recs[i].name))
					printf("  %s held (original driver %s)\n", e->address,
					       e->driver[0] ? e->driver : "none");
			}
		}
	}
	vfk_journal_free(j);
	free(recs);
	vfk_profile_free(prof);
	vfk_ctx_unref(ctx);
	free(o.sets);
	return EXIT_OK;
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	static const struct option longopts[] = { COMMON_LONGOPTS, { NULL, 0, NULL, 0 } };
	struct common_opts c = { 0 };
	size_t i;

	common_init(argc, argv);
	/* options before the command: only the generic ones (-h, -V) make sense */
	if (common_getopt(argc, argv, "+" COMMON_SHORTOPTS, longopts, &c, usage) != -1)
		usage_hint();
	if (optind >= argc) {
		fprintf(stderr, "%s: missing command\n", program_name);
		usage_hint();
	}
	for (i = 0; i < ARRAY_SIZE(subcommands); i++)
		if (!strcmp(argv[optind], subcommands[i].name)) {
			/* the command's argv: its name, then everything after it; options
			 * given before the command are passed on */
			int n = argc - optind, k, j = 0;
			char **sub = calloc((size_t)argc + 1, sizeof(*sub));

			if (!sub)
				die(EXIT_FAILURE_OP, "out of memory");
			sub[j++] = argv[optind];
			for (k = 1; k < optind; k++)
				sub[j++] = argv[k];
			for (k = 1; k < n; k++)
				sub[j++] = argv[optind + k];
			k = subcommands[i].run(j, sub);
			free(sub);
			return k;
		}
	fprintf(stderr, "%s: unknown command '%s'\n", program_name, argv[optind]);
	usage_hint();
}
