/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the VM tests (test-profile.c, test-plan.c, test-emit.c). */
#ifndef VFK_TEST_VMTEST_H
#define VFK_TEST_VMTEST_H

#include <stdbool.h>

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

/* A note of the plan containing @needle, or NULL. */
const char *vm_note(const struct vmenv *e, const char *needle);
/* Outputs of the plan (malloc'ed; NULL on failure, which fails the test). */
char *vm_xml(const struct vmenv *e);
char **vm_argv(const struct vmenv *e);
/* Index of @flag followed by an argument containing @value, or -1. */
int argv_find(char *const *argv, const char *flag, const char *value);
/* How many times @flag is followed by an argument starting with @prefix. */
int argv_count(char *const *argv, const char *flag, const char *prefix);

/* Write @text to a file in a fresh scratch directory; malloc'ed path. */
char *write_temp(const char *name, const char *text);
/* Absolute path of a file in the source tree (static buffer). */
const char *src_path(const char *rel);
/* Is @prog on $PATH? */

#endif
