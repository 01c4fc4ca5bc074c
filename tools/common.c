/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "common.h"

const char *program_name = "vfiokit";

void common_init(int argc, char **argv)
{
	const char *slash;

	if (argc > 0 && argv[0]) {
		slash = strrchr(argv[0], '/');
		program_name = slash ? slash + 1 : argv[0];
	}
}

noreturn void usage_hint(void)
{
	fprintf(stderr, "Try '%s --help' for more information.\n", program_name);
	exit(EXIT_USAGE);
}

/* stdout may hold a dry run's buffered lines: they came first */
static void vmsg(const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "%s: ", program_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

noreturn void die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(status);
}

void warnx_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

noreturn void die_errno(int status, int negerr, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", program_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(negerr < 0 ? -negerr : negerr));
	exit(status);
}

noreturn void die_result(int status, int r, const char *err)
{
	die(status, "%s", err && *err ? err : strerror(-r));
}

/*
 * A real run's steps are flushed one by one: a write the kernel blocks on
 * must show which step it is. A dry run's lines are a listing (four per
 * device, 64,000 for a group of 16,000): stdio buffers them and writes a
 * block at a time; they reach stdout before anything goes to stderr (see
 * vmsg) and at exit.
 */
void common_progress(const struct common_opts *o, bool dry_run, FILE *steps, const char *msg)
{
	if (dry_run && strstr(msg, " <- ")) {
		fputs(msg, stdout);
		putchar('\n');
	} else if (!o->quiet || dry_run) {
		if (steps != stdout)
			fflush(stdout);
		fprintf(steps, ":: %s\n", msg);
		if (!dry_run)
			fflush(steps);
	}
}

void common_require_root(const struct common_opts *o, bool dry_run, const char *what,
			 const char *why)
{
	if (geteuid() != 0 && (!o->sysroot || !strcmp(o->sysroot, "/")) && !dry_run)
		die(EXIT_FAILURE_OP, "%s %s: run it as root", what, why);
}

static bool common_parse_option(int c, struct common_opts *o, void (*usage)(int status))
{
	switch (c) {
	case COMMON_OPT_SYSROOT:
		if (!*optarg)
			die(EXIT_USAGE, "--sysroot needs a directory");
		o->sysroot = optarg;
		return true;
	case COMMON_OPT_JSON:
		o->json = true;
		return true;
	case 'v':
		o->verbose++;
		return true;
	case 'q':
		o->quiet = true;
		return true;
	case 'h':
		usage(EXIT_OK);
		return true;
	case 'V':
		printf("%s (vfiokit) %s\n", program_name, vfk_version());
		exit(EXIT_OK);
	default:
		return false;
	}
}

int common_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
		  struct common_opts *o, void (*usage)(int status))
{
	int c;

	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1)
		if (!common_parse_option(c, o, usage))
			return c;
	return -1;
}

const char *common_command(int *argc, char ***argv, const char *commands)
{
	const char *cmd;

	if (optind >= *argc)
		die(EXIT_USAGE, "no command given (%s)", commands);
	cmd = (*argv)[optind++];
	*argv += optind;
	*argc -= optind;
	return cmd;
}

struct vfk_ctx *common_ctx_new(const struct common_opts *o)
{
	struct vfk_ctx *ctx;
	const char *root = o->sysroot ? o->sysroot : "/";
	int r;

	r = vfk_ctx_new(root, &ctx);
	if (r < 0)
		die_errno(EXIT_USAGE, r, "sysroot '%s'", root);
	if (o->verbose >= 2)
		vfk_ctx_set_log_priority(ctx, LOG_DEBUG);
	else if (o->verbose == 1 && vfk_ctx_get_log_priority(ctx) < LOG_INFO)
		vfk_ctx_set_log_priority(ctx, LOG_INFO);
	return ctx;
}

struct vfk_host *common_host_scan(struct vfk_ctx *ctx)
{
	struct vfk_host *host;
	int r;

	r = vfk_host_scan(ctx, &host);
	if (r == -ENOENT)
		die(EXIT_FAILURE_OP, "no PCI bus under '%s' (missing %s/sys/bus/pci/devices)",
		    vfk_ctx_get_sysroot(ctx),
		    strcmp(vfk_ctx_get_sysroot(ctx), "/") ? vfk_ctx_get_sysroot(ctx) : "");
	if (r < 0 && vfk_ctx_get_error(ctx))
		die(EXIT_FAILURE_OP, "scanning PCI devices under '%s': %s", vfk_ctx_get_sysroot(ctx),
		    vfk_ctx_get_error(ctx));
	if (r < 0)
		die_errno(EXIT_FAILURE_OP, r, "scanning PCI devices under '%s'",
			  vfk_ctx_get_sysroot(ctx));
	return host;
}

void common_json_print(json_object *root)
{
	puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
						  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}

json_object *json_str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* Asked once per stream: a listing asks for each GPU it prints, and a
 * stream does not become a terminal while the tool runs. */
bool common_color(FILE *f)
{
	static signed char known[3] = { -1, -1, -1 };
	const char *no = getenv("NO_COLOR");
	int fd = fileno(f);

	if (no && *no)
		return false;
	if (fd < 0 || fd > 2)
		return isatty(fd);
	if (known[fd] < 0)
		known[fd] = (signed char)isatty(fd);
	return known[fd];
}

const char *common_printable(const char *s, char *buf, size_t size)
{
	size_t i = 0;

	if (!size)
		return "";
	for (; s && *s && i + 1 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == 0xc2 && (unsigned char)s[1] >= 0x80 && (unsigned char)s[1] <= 0x9f) {
			s++;		/* U+0080..U+009F: C1 controls, CSI among them */
			c = '?';
		} else if (c < 0x20 || c == 0x7f) {
			c = '?';
		}
		buf[i++] = (char)c;
	}
	buf[i] = '\0';
	return buf;
}
