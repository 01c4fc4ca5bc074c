/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vfio-check: is this host ready for PCI/GPU passthrough, and what exactly to fix. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "common.h"

static void usage(int status)
{
	FILE *f = status == EXIT_OK ? stdout : stderr;

	fprintf(f,
		"Usage: %s [OPTIONS]\n"
		"Check whether this host is ready for VFIO PCI/GPU passthrough: CPU\n"
		"virtualization, KVM, IOMMU, kernel command line, interrupt remapping,\n"
		"VFIO modules, huge pages, OVMF, libvirt and the GPU fabric (NVSwitches:\n"
		"which passthrough model applies). Every check that does not pass comes\n"
		"with the exact fix. Then the VFIO backend VMs can use: groups, or iommufd\n"
		"and VFIO cdevs where the kernel has them and qemu-system-x86_64 (asked\n"
		"over QMP) or libvirt at qemu:///system (its domain capabilities) takes it.\n\n"
		"Options:\n"
		"      --json          machine-readable output (schema in vfio-check(1))\n"
		"      --fix           prepare the host: the kernel parameters the checks ask\n"
		"                      for, where this host's boot loader keeps them (GRUB,\n"
		"                      systemd-boot, kernelstub), then the boot loader's and\n"
		"                      initramfs' commands; every file journalled first\n"
		"      --gpu ADDR      also check the GPU at ADDR: its group and which slot\n"
		"                      would isolate it (gpu-group), its PCIe link (gpu-link),\n"
		"                      how it resets between guests (gpu-reset: FLR, a bus\n"
		"                      reset, the AMD reset bug);\n"
		"                      with --fix: the GPU at ADDR to vfio-pci at boot\n"
		"                      (vfio-pci.ids=, modprobe.d softdeps, the initramfs)\n"
		"      --hugepages SIZE[:1G]  with --fix: reserve SIZE (16G, 8192M) of huge\n"
		"                      pages at boot: 2 MiB pages in /etc/sysctl.d, or with\n"
		"                      :1G 1 GiB pages on the kernel command line\n"
		"      --user          also check what stands between this user and a VM of\n"
		"                      their own: the user's VM directories ($XDG_RUNTIME_DIR),\n"
		"                      /dev/kvm opened read-write, the kvm group, session libvirt,\n"
		"                      the memlock limit (automatic when not run as root)\n"
		"      --revert        put back every file --fix changed, byte for byte\n"
		"      --dry-run       with --fix: unified diffs and commands, nothing written;\n"
		"                      with --revert: the files it would put back\n"
		COMMON_HELP
		"                      (-q: print only the checks that did not pass)\n"
		"\nExit status: 0 ready (no check failed; warnings allowed), 1 not ready,\n"
		"2 usage error, 3 the checks could not be run. With --fix or --revert:\n"
		"0 done (or nothing to do), 1 it cannot be done or a step failed.\n",
		program_name);
	exit(status);
}

static const char *status_label(enum vfk_check_status s)
{
	switch (s) {
	case VFK_CHECK_PASS:
		return "PASS";
	case VFK_CHECK_WARN:
		return "WARN";
	case VFK_CHECK_FAIL:
		return "FAIL";
	}
	return "????";
}

/* Fix text, every line indented under the check; the first line says "fix:". */
static void print_fix(const char *fix)
{
	const char *s = fix;
	bool first = true;

	while (*s) {
		size_t n = strcspn(s, "\n");
		char line[4096], safe[4096];

		/* fixes quote the host: slot names are the firmware's text */
		snprintf(line, sizeof(line), "%.*s", (int)n, s);
		printf("      %s%s\n", first ? "fix: " : "     ",
		       common_printable(line, safe, sizeof(safe)));
		first = false;
		s += n;
		if (*s == '\n')
			s++;
	}
}

static void print_human(const struct vfk_checks *checks, const struct common_opts *o)
{
	size_t i, n = vfk_checks_count(checks), nwarn = 0, nfail = 0;
	char safe[4096];

	for (i = 0; i < n; i++) {
		const struct vfk_check *c = vfk_checks_get(checks, i);

		nwarn += c->status == VFK_CHECK_WARN;
		nfail += c->status == VFK_CHECK_FAIL;
		if (o->quiet && c->status == VFK_CHECK_PASS)
			continue;
		printf("%s  %-12s  %-36s  %s\n", status_label(c->status), c->id, c->title,
		       common_printable(c->detail, safe, sizeof(safe)));
		if (c->status != VFK_CHECK_PASS && c->fix)
			print_fix(c->fix);
	}
	if (o->quiet)
		return;
	if (nfail)
		printf("\nNot ready: %zu check%s failed, %zu warning%s.\n", nfail, nfail == 1 ? "" : "s",
		       nwarn, nwarn == 1 ? "" : "s");
	else if (nwarn)
		printf("\nReady, with %zu warning%s.\n", nwarn, nwarn == 1 ? "" : "s");
	else
		printf("\nReady.\n");
}

/* What each part says about iommufd: 1 yes, 0 no, <0 unknown; one line each. */
struct backend_facts {
	int kernel, qemu, libvirt;
	char kwhy[300], qwhy[400], lwhy[400];
};

static json_object *backend_json(const struct backend_facts *f);

static int print_json(const struct vfk_checks *checks, const struct backend_facts *f)
{
	json_object *root = json_object_new_object(), *arr = json_object_new_array();
	size_t i, n = vfk_checks_count(checks);
	const char *s;

	if (!root || !arr) {
		json_object_put(root);
		json_object_put(arr);
		return -ENOMEM;
	}
	json_object_object_add(root, "ready",
			       json_object_new_boolean(vfk_checks_worst(checks) != VFK_CHECK_FAIL));
	for (i = 0; i < n; i++) {
		const struct vfk_check *c = vfk_checks_get(checks, i);
		json_object *o = json_object_new_object();

		json_object_object_add(o, "id", json_object_new_string(c->id));
		json_object_object_add(o, "title", json_object_new_string(c->title));
		json_object_object_add(o, "status",
				       json_object_new_string(vfk_check_status_to_string(c->status)));
		json_object_object_add(o, "detail", json_object_new_string(c->detail));
		json_object_object_add(o, "fix", c->fix ? json_object_new_string(c->fix) : NULL);
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "checks", arr);
	json_object_object_add(root, "vfio_backend", backend_json(f));
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							 JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s) {
		json_object_put(root);
		return -ENOMEM;
	}
	puts(s);
	json_object_put(root);
	return 0;
}

/* ------------------------------------------------------------ VFIO backend */


/* The kernel first (below the sysroot); the emulators are asked only when it
 * could take iommufd, since starting them costs time and says nothing then. */
static void backend_facts(struct vfk_host *host, struct backend_facts *f)
{
	f->qemu = f->libvirt = -ENOENT;
	snprintf(f->qwhy, sizeof(f->qwhy), "not asked: the kernel cannot");
	snprintf(f->lwhy, sizeof(f->lwhy), "not asked: the kernel cannot");
	if (!vfk_host_has_iommufd(host)) {
		f->kernel = 0;
		snprintf(f->kwhy, sizeof(f->kwhy), "no /dev/iommu (CONFIG_IOMMUFD, Linux 6.2+; "
			 "modprobe iommufd)");
	} else {
		f->kernel = vfk_host_vfio_cdev_support(host, f->kwhy, sizeof(f->kwhy));
	}
	if (f->kernel == 0)
		return;
	f->qemu = vfk_qemu_takes_iommufd("qemu-system-x86_64", f->qwhy, sizeof(f->qwhy));
	f->libvirt = vfk_libvirt_takes_iommufd("qemu:///system", f->lwhy, sizeof(f->lwhy));
}

static const char *yes_no(int v)
{
	return v > 0 ? "yes" : v == 0 ? "no" : "unknown";
}

static void print_backend_human(const struct backend_facts *f)
{
	printf("\nVFIO backend: %s\n", f->kernel != 0 && (f->qemu > 0 || f->libvirt > 0)
	       ? "iommufd possible ([vfio] backend = auto uses it where the emulator takes it)"
	       : "groups (/dev/vfio/N); iommufd is not possible here");
	printf("  kernel   %-7s  %s\n", yes_no(f->kernel), f->kwhy);
	printf("  QEMU     %-7s  %s\n", yes_no(f->qemu), f->qwhy);
	printf("  libvirt  %-7s  %s\n", yes_no(f->libvirt), f->lwhy);
}

static json_object *fact_json(int v, const char *why)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "iommufd", v < 0 ? NULL : json_object_new_boolean(v > 0));
	json_object_object_add(o, "detail", json_object_new_string(why));
	return o;
}

static json_object *backend_json(const struct backend_facts *f)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "iommufd_possible",
			       json_object_new_boolean(f->kernel != 0 && (f->qemu > 0 || f->libvirt > 0)));
	json_object_object_add(o, "kernel", fact_json(f->kernel, f->kwhy));
	json_object_object_add(o, "qemu", fact_json(f->qemu, f->qwhy));
	json_object_object_add(o, "libvirt", fact_json(f->libvirt, f->lwhy));
	return o;
}

/* ------------------------------------------------------------ --fix */

/* One command on one line, each word quoted for a shell as needed. */
static void print_command(const char *const *argv)
{
	size_t k;

	for (k = 0; argv[k]; k++) {
		const char *one[] = { argv[k], NULL };
		char *w = NULL;

		if (vfk_argv_to_shell(one, &w) < 0)
			die_errno(EXIT_FAILURE_OP, -ENOMEM, "quoting a command");
		w[strcspn(w, "\n")] = '\0';
		printf("%s%s", k ? " " : "  ", w);
		free(w);
	}
	putchar('\n');
}

static void print_fix_plan(const struct vfk_fix *f)
{
	size_t i;

	if (!vfk_fix_file_count(f) && !vfk_fix_command_count(f)) {
		printf("Nothing to change: the boot configuration has what the checks ask for.\n");
		return;
	}
	for (i = 0; i < vfk_fix_file_count(f); i++) {
		char *d = vfk_fix_file_diff(f, i);

		if (!d)
			die_errno(EXIT_FAILURE_OP, -ENOMEM, "making a diff");
		fputs(d, stdout);
		free(d);
	}
	if (vfk_fix_command_count(f))
		printf("\nthen run:\n");
	for (i = 0; i < vfk_fix_command_count(f); i++)
		print_command(vfk_fix_command(f, i));
	for (i = 0; i < vfk_fix_note_count(f); i++)
		printf("note: %s\n", vfk_fix_note(f, i));
	printf("(dry run: nothing was written)\n");
}

static json_object *fix_json(const struct vfk_fix *f, bool applied)
{
	json_object *o = json_object_new_object(), *files = json_object_new_array();
	json_object *cmds = json_object_new_array(), *notes = json_object_new_array();
	size_t i, k;

	json_object_object_add(o, "loader", vfk_fix_get_loader(f) ?
			       json_object_new_string(vfk_fix_get_loader(f)) : NULL);
	json_object_object_add(o, "initramfs", vfk_fix_get_initramfs(f) ?
			       json_object_new_string(vfk_fix_get_initramfs(f)) : NULL);
	for (i = 0; i < vfk_fix_file_count(f); i++) {
		json_object *fo = json_object_new_object();
		char *path = vfk_fix_file_path(f, i), *diff = vfk_fix_file_diff(f, i);

		json_object_object_add(fo, "path", path ? json_object_new_string(path) : NULL);
		json_object_object_add(fo, "created", json_object_new_boolean(!vfk_fix_file_old(f, i)));
		json_object_object_add(fo, "new", json_object_new_string(vfk_fix_file_new(f, i)));
		json_object_object_add(fo, "diff", diff ? json_object_new_string(diff) : NULL);
		json_object_array_add(files, fo);
		free(path);
		free(diff);
	}
	for (i = 0; i < vfk_fix_command_count(f); i++) {
		json_object *a = json_object_new_array();

		for (k = 0; vfk_fix_command(f, i)[k]; k++)
			json_object_array_add(a, json_object_new_string(vfk_fix_command(f, i)[k]));
		json_object_array_add(cmds, a);
	}
	for (i = 0; i < vfk_fix_note_count(f); i++)
		json_object_array_add(notes, json_object_new_string(vfk_fix_note(f, i)));
	json_object_object_add(o, "files", files);
	json_object_object_add(o, "commands", cmds);
	json_object_object_add(o, "notes", notes);
	json_object_object_add(o, "applied", json_object_new_boolean(applied));
	return o;
}

static void progress(void *data, const char *msg)
{
	common_progress(data, false, stderr, msg);
}

/* --hugepages SIZE[:1G]: SIZE a whole number of M or G (MiB, GiB). */
static void parse_hugepages(const char *arg, struct vfk_fix_options *fo)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(arg, &end, 10);
	if (errno || end == arg || !n || *arg == '-')
		goto bad;
	if (*end == 'G' || *end == 'g') {
		n *= 1024;
		end++;
	} else if (*end == 'M' || *end == 'm') {
		end++;
	} else {
		goto bad;
	}
	if (!strcmp(end, ":1G") || !strcmp(end, ":1g"))
		fo->gigantic = true;
	else if (*end)
		goto bad;
	if (n > 64ULL * 1024 * 1024)	/* 64 TiB */
		goto bad;
	fo->hugepages_mib = n;
	return;
bad:
	die(EXIT_USAGE, "--hugepages '%s': want SIZE[:1G], SIZE as 16G or 8192M", arg);
}

/* --fix: plan, then show (--dry-run) or apply. */
static int fix_host(struct vfk_ctx *ctx, const struct vfk_checks *checks,
		    const struct vfk_fix_options *fo, bool dry, const struct common_opts *o)
{
	struct vfk_fix *f;
	char err[1024];
	int r = vfk_fix_new(ctx, checks, fo, &f, err, sizeof(err));

	if (r < 0)
		die(r == -ENOMEM ? EXIT_FAILURE_OP : EXIT_NOT_SO, "--fix: %s", err);
	if (!dry) {
		vfk_ctx_set_progress_fn(ctx, progress, (void *)o);
		r = vfk_fix_apply(f, err, sizeof(err));
		if (r < 0) {
			vfk_fix_free(f);
			die(EXIT_NOT_SO, "--fix: %s", err);
		}
	}
	if (o->json) {
		json_object *j = fix_json(f, !dry);
		const char *s = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
							       JSON_C_TO_STRING_SPACED |
							       JSON_C_TO_STRING_NOSLASHESCAPE);
		r = s ? (puts(s), 0) : -ENOMEM;
		json_object_put(j);
	} else if (dry) {
		print_fix_plan(f);
	} else if (!vfk_fix_file_count(f)) {
		printf("Nothing to change: the boot configuration has what the checks ask for.\n");
	} else {
		printf("Done: %zu file%s changed; reboot for the kernel parameters to apply.\n"
		       "To undo: vfio-check --revert\n", vfk_fix_file_count(f),
		       vfk_fix_file_count(f) == 1 ? "" : "s");
	}
	vfk_fix_free(f);
	return r;
}

/* --revert [--dry-run] */
static int revert(struct vfk_ctx *ctx, bool dry, const struct common_opts *o)
{
	char err[1024];
	int r;

	vfk_ctx_set_progress_fn(ctx, progress, (void *)o);
	r = vfk_fix_revert(ctx, dry, err, sizeof(err));
	if (r == -ENOENT) {
		printf("Nothing to revert: vfio-check --fix changed nothing (or it was reverted).\n");
		return EXIT_OK;
	}
	if (r < 0)
		die(r == -ENOMEM ? EXIT_FAILURE_OP : EXIT_NOT_SO, "--revert: %s", err);
	printf(dry ? "(dry run: nothing was written)\n"
		   : "Reverted: every file is back as it was; reboot for the kernel parameters.\n");
	return EXIT_OK;
}

/* --gpu ADDR without --fix: the GPU's gpu-reset check after the others. */
static void add_gpu_check(struct vfk_ctx *ctx, struct vfk_checks *checks, const char *addr)
{
	char err[256];
	int r = vfk_checks_add_gpu(ctx, checks, addr, err, sizeof(err));

	if (r < 0)
		die(r == -EINVAL ? EXIT_USAGE : r == -ENODEV ? EXIT_NOT_SO : EXIT_FAILURE_OP,
		    "--gpu: %s", *err ? err : strerror(-r));
}

enum { OPT_FIX = 0x2000, OPT_DRY_RUN, OPT_GPU, OPT_REVERT, OPT_HUGEPAGES, OPT_USER };

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		COMMON_LONGOPTS,
		{ "fix", no_argument, NULL, OPT_FIX },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "gpu", required_argument, NULL, OPT_GPU },
		{ "revert", no_argument, NULL, OPT_REVERT },
		{ "hugepages", required_argument, NULL, OPT_HUGEPAGES },
		{ "user", no_argument, NULL, OPT_USER },
		{ NULL, 0, NULL, 0 },
	};
	struct common_opts o = { 0 };
	struct vfk_ctx *ctx;
	struct vfk_checks *checks;
	struct vfk_fix_options fo = { 0 };
	struct backend_facts facts;
	struct vfk_host *host = NULL;
	bool fix = false, dry = false, undo = false, user = false;
	int r, c;
	bool ready;

	common_init(argc, argv);
	while ((c = common_getopt(argc, argv, COMMON_SHORTOPTS, longopts, &o, usage)) != -1) {
		switch (c) {
		case OPT_FIX:
			fix = true;
			break;
		case OPT_DRY_RUN:
			dry = true;
			break;
		case OPT_GPU:
			fo.gpu = optarg;
			break;
		case OPT_HUGEPAGES:
			parse_hugepages(optarg, &fo);
			break;
		case OPT_REVERT:
			undo = true;
			break;
		case OPT_USER:
			user = true;
			break;
		default:
			usage_hint();
		}
	}
	if (optind < argc) {
		warnx_("unexpected argument '%s'", argv[optind]);
		usage_hint();
	}
	if (fix && undo)
		die(EXIT_USAGE, "--fix and --revert exclude each other");
	if (undo && o.json)
		die(EXIT_USAGE, "--revert has no JSON output (--json is for the checks and --fix)");
	if (user && (fix || undo))
		die(EXIT_USAGE, "--user checks this user; --fix and --revert prepare the host");
	if (fo.hugepages_mib && !fix)
		die(EXIT_USAGE, "--hugepages needs --fix");
	if (dry && !fix && !undo)
		die(EXIT_USAGE, "--dry-run needs --fix or --revert");
	if ((fix || undo) && !dry)
		common_require_root(&o, false, fix ? "--fix" : "--revert",
				    "changes the boot configuration");
	if (undo) {
		ctx = common_ctx_new(&o);
		r = revert(ctx, dry, &o);
		vfk_ctx_unref(ctx);
		return r;
	}

	ctx = common_ctx_new(&o);
	/* one scan for the checks and the VFIO backend facts: the checks read
	 * the snapshot held here instead of taking their own */
	if (!fix)
		host = common_host_scan(ctx);
	r = vfk_checks_run(ctx, &checks);
	if (r < 0)
		die_errno(EXIT_FAILURE_OP, r, "running the host checks under '%s'",
			  vfk_ctx_get_sysroot(ctx));
	/* a normal user on the running host asks what stands in their way too */
	if (!user && !fix && geteuid() != 0 && !strcmp(vfk_ctx_get_sysroot(ctx), "/"))
		user = true;
	if (user) {
		r = vfk_checks_add_user(ctx, checks);
		if (r < 0)
			die_errno(EXIT_FAILURE_OP, r, "checking this user");
	}
	if (fo.gpu && !fix)
		add_gpu_check(ctx, checks, fo.gpu);
	ready = vfk_checks_worst(checks) != VFK_CHECK_FAIL;
	if (fix) {
		r = fix_host(ctx, checks, &fo, dry, &o);
		vfk_checks_free(checks);
		vfk_ctx_unref(ctx);
		if (r < 0 || fflush(stdout) != 0 || ferror(stdout))
			die_errno(EXIT_FAILURE_OP, r < 0 ? r : -errno, "writing output");
		return EXIT_OK;
	}

	backend_facts(host, &facts);
	vfk_host_unref(host);
	if (o.json) {
		r = print_json(checks, &facts);
	} else {
		print_human(checks, &o);
		if (!o.quiet)
			print_backend_human(&facts);
	}
	vfk_checks_free(checks);
	vfk_ctx_unref(ctx);
	if (r < 0)
		die_errno(EXIT_FAILURE_OP, r, "writing JSON");
	if (fflush(stdout) != 0 || ferror(stdout))
		die_errno(EXIT_FAILURE_OP, -errno, "writing output");
	return ready ? EXIT_OK : EXIT_NOT_SO;
}
