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
		"with the exact fix.\n\n"
		"Options:\n"
		"      --json          machine-readable output (schema in vfio-check(1))\n"
		COMMON_HELP
		"                      (-q: print only the checks that did not pass)\n"
		"\nExit status: 0 ready (no check failed; warnings allowed), 1 not ready,\n"
		"2 usage error, 3 the checks could not be run.\n",
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

		printf("      %s%.*s\n", first ? "fix: " : "     ", (int)n, s);
		first = false;
		s += n;
		if (*s == '\n')
			s++;
	}
}

static void print_human(const struct vfk_checks *checks, const struct common_opts *o)
{
	size_t i, n = vfk_checks_count(checks), nwarn = 0, nfail = 0;

	for (i = 0; i < n; i++) {
		const struct vfk_check *c = vfk_checks_get(checks, i);

		nwarn += c->status == VFK_CHECK_WARN;
		nfail += c->status == VFK_CHECK_FAIL;
		if (o->quiet && c->status == VFK_CHECK_PASS)
			continue;
		printf("%s  %-12s  %-36s  %s\n", status_label(c->status), c->id, c->title, c->detail);
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

static int print_json(const struct vfk_checks *checks)
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

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct common_opts o = { 0 };
	struct vfk_ctx *ctx;
	struct vfk_checks *checks;
	int r;
	bool ready;

	common_init(argc, argv);
	if (common_getopt(argc, argv, COMMON_SHORTOPTS, longopts, &o, usage) != -1)
		usage_hint();
	if (optind < argc) {
		warnx_("unexpected argument '%s'", argv[optind]);
		usage_hint();
	}

	ctx = common_ctx_new(&o);
	r = vfk_checks_run(ctx, &checks);
	if (r < 0)
		die_errno(EXIT_FAILURE_OP, r, "running the host checks under '%s'",
			  vfk_ctx_get_sysroot(ctx));
	ready = vfk_checks_worst(checks) != VFK_CHECK_FAIL;

	if (o.json)
		r = print_json(checks);
	else
		print_human(checks, &o);
	vfk_checks_free(checks);
	vfk_ctx_unref(ctx);
	if (r < 0)
		die_errno(EXIT_FAILURE_OP, r, "writing JSON");
	if (fflush(stdout) != 0 || ferror(stdout))
		die_errno(EXIT_FAILURE_OP, -errno, "writing output");
	return ready ? EXIT_OK : EXIT_NOT_SO;
}
