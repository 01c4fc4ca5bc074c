/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by every vfiokit tool: option handling, messages, exit codes. */
#ifndef VFK_TOOLS_COMMON_H
#define VFK_TOOLS_COMMON_H

#include <getopt.h>
#include <stdbool.h>
#include <stdnoreturn.h>
#include <json-c/json.h>

#include "vfiokit.h"
#include "core/macro.h"

/* Exit codes shared by all tools (documented in each man page). */
enum {
	EXIT_OK = 0,
	EXIT_NOT_SO = 1,	/* the thing asked about is not so (host not ready, ...) */
	EXIT_USAGE = 2,
	EXIT_FAILURE_OP = 3,	/* an operation failed */
};

/* Options every tool accepts; set by common_parse_option(). */
struct common_opts {
	const char *sysroot;	/* --sysroot, default "/" */
	bool json;		/* --json */
	int verbose;		/* -v, repeatable */
	bool quiet;		/* -q */
};

extern const char *program_name;

/* Long options shared by all tools; append to a tool's table with COMMON_LONGOPTS. */
#define COMMON_OPT_SYSROOT 0x1000
#define COMMON_OPT_JSON    0x1001
#define COMMON_LONGOPTS                                                   \
	{ "sysroot", required_argument, NULL, COMMON_OPT_SYSROOT },        \
	{ "json", no_argument, NULL, COMMON_OPT_JSON },                    \
	{ "verbose", no_argument, NULL, 'v' },                             \
	{ "quiet", no_argument, NULL, 'q' },                               \
	{ "help", no_argument, NULL, 'h' },                                \
	{ "version", no_argument, NULL, 'V' }
#define COMMON_SHORTOPTS "vqhV"

/* Help text lines for the shared options, for usage(). */
#define COMMON_HELP                                                              \
	"      --sysroot DIR   inspect the host tree under DIR instead of /\n"      \
	"  -v, --verbose       more detail (repeat for library debug messages)\n"  \
	"  -q, --quiet         print only errors\n"                                \
	"  -h, --help          show this help and exit\n"                          \
	"  -V, --version       show the version and exit\n"

void common_init(int argc, char **argv);
/* getopt_long() that takes the shared options into @o itself (--help calls
 * usage(EXIT_OK), --version prints and exits): returns the next option of
 * the tool's own (or '?'), -1 after the last. */
int common_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
		  struct common_opts *o, void (*usage)(int status));
/* The command word after the options, or "no command given (@commands)"
 * and exit(EXIT_USAGE); *@argc and *@argv are left at its arguments. */
const char *common_command(int *argc, char ***argv, const char *commands);
/* "Try 'TOOL --help' for more information." and exit(EXIT_USAGE). */
noreturn void usage_hint(void);
/* "TOOL: message" on stderr, exit(status). */
noreturn void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One-line error for a negative errno result: "TOOL: what: strerror" and exit. */
noreturn void die_errno(int status, int negerr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A library call failed with @r: its own error line @err, or strerror(-@r)
 * when it wrote none (@err NULL or ""), and exit(@status). */
noreturn void die_result(int status, int r, const char *err);

/* Create the context for --sysroot, with the log level raised by -v;
 * dies with one clear line when the sysroot is unusable. */
struct vfk_ctx *common_ctx_new(const struct common_opts *o);
/* One step of a long operation: ":: MSG" on @steps, unless -q. A dry run's
 * "path <- value" lines are its output: always on stdout, bare. A real run's
 * steps are flushed as they come; a dry run's lines on stdout are buffered,
 * and flushed before any message on stderr and at exit. */
void common_progress(const struct common_opts *o, bool dry_run, FILE *steps, const char *msg);
/* Writing commands on the live host need root: say so before any change
 * (@why: "changes drivers of host devices"); a --sysroot tree or a dry run
 * does not. */
void common_require_root(const struct common_opts *o, bool dry_run, const char *what,
			 const char *why);

/* Scan the host or die with one clear line. */
struct vfk_host *common_host_scan(struct vfk_ctx *ctx);

/* Colour on @f: only on a terminal, and never when NO_COLOR is set to
 * anything but "" (no-color.org). */
bool common_color(FILE *f);
/* @s with every control character (C0, DEL, and C1 as UTF-8) as '?', into
 * @buf: names from pci.ids or sysfs can hold a terminal's escapes. */
const char *common_printable(const char *s, char *buf, size_t size);

/* --json output: @root on one line of stdout, then released. */
void common_json_print(json_object *root);
/* A JSON string, or JSON null for NULL. */
json_object *json_str_or_null(const char *s);
/* json_object_object_add() of a key that is a string literal, added once:
 * neither copied nor looked for first (a listing adds a dozen a device). */
static inline void json_add_new(json_object *o, const char *literal_key, json_object *v)
{
	json_object_object_add_ex(o, literal_key, v,
				  JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_KEY_IS_CONSTANT);
}

#endif
