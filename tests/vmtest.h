/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the VM tests (test-profile.c, test-plan.c, test-emit.c). */
#ifndef VFK_TEST_VMTEST_H
#define VFK_TEST_VMTEST_H

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

#include "vfiokit.h"

struct vmenv {
	char *root;			/* fixture tree */
	struct vfk_ctx *ctx;
	struct vfk_host *host;
	struct vfk_profile *prof;
	struct vfk_plan *plan;
	char err[2048];
};

/*
 * Plan the profile @ini (INI text, named "/profiles/test.ini") on the fixture
 * host @fixture (built once per run and shared: read-only). Returns the
 * result of vfk_profile_parse() when it fails, else of vfk_plan_new(); the
 * message is in e->err. Release with vm_close().
 */
int vm_plan(struct vmenv *e, const char *fixture, const char *ini);
/* The same on a tree the caller owns (e.g. fixture_host() after edits). */
int vm_plan_root(struct vmenv *e, const char *root, const char *ini);
void vm_close(struct vmenv *e);

/*
 * Plan @ini on a private copy of @fixture whose kernel writes go to the
 * simulator @k (failing its @fail_at-th write; 0: none), then commit the
 * plan's bind for @owner. Returns the first failure or the commit's result;
 * the bind's error line goes to @err (may be NULL). Release with vm_close().
 */
struct ksim;
int vm_plan_bind(struct vmenv *e, struct ksim *k, const char *fixture, const char *ini,
		 const char *owner, int fail_at, char *err, size_t size);
/* A note of the plan containing @needle, or NULL. */
const char *vm_note(const struct vmenv *e, const char *needle);
/* Outputs of the plan (malloc'ed; NULL on failure, which fails the test). */
char *vm_xml(const struct vmenv *e);
char **vm_argv(const struct vmenv *e);
/* Index of @flag followed by an argument containing @value, or -1. */
int argv_find(char *const *argv, const char *flag, const char *value);
/* How many times @flag is followed by an argument starting with @prefix. */
int argv_count(char *const *argv, const char *flag, const char *prefix);

/* The libvirt XML of a plan read back with libxml2 (test-emit.c, test-hostdev.c). */
/* Run argv (a real program, not a tool); 0..255 exit status, output in *@out. */
int run_prog(char **out, const char *const argv[]);
/* virt-xml-validate (libvirt's own schema) on @xml; true when valid, else the
 * test fails naming @what. */
bool xml_validates(const char *xml, const char *what);
/* Parsed, or NULL after failing the test. */
xmlDocPtr xparse(const char *xml);
/* XPath count of @expr in @doc, -1 when it does not evaluate. */
int xcount(xmlDocPtr doc, const char *expr);
/* String value of @expr (first node), malloc'ed, or NULL. */
char *xstr(xmlDocPtr doc, const char *expr);
#define CHECK_XSTR(doc, expr, want)                                 \
	do {                                                        \
		char *_v = xstr(doc, expr);                         \
		CHECK_STREQ(_v, want);                              \
		free(_v);                                           \
	} while (0)

/* A run of a tool: its output, errors and exit status. */
struct tool_run {
	char *out, *err;
	int status;
};
/* vfio-vm CMD PROFILE --sysroot ROOT ARG... (NULL ends them, at most 6);
 * what @r held before is freed. */
void vfio_vm(struct tool_run *r, const char *cmd, const char *prof, const char *root, ...);
/* Exit @status, one line on stderr containing @want. */
void check_one_line(const struct tool_run *r, int status, const char *want);

/* Write @text to a file in a fresh scratch directory; malloc'ed path. */
char *write_temp(const char *name, const char *text);
/* A QMP speaker standing in for QEMU when asked whether it takes iommufd: as
 * QEMU 10 with it (@yes) or 8.1 without it answers. Its path, malloc'ed. */
char *fake_qemu_iommufd(bool yes);
/* Absolute path of a file in the source tree (static buffer). */
const char *src_path(const char *rel);
/* Is @prog on $PATH? */

#endif
