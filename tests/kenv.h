/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A private fixture host with tests/ksim.c as the kernel: the context's write
 * hook is the stand-in and progress messages are collected, for tests that
 * change a host (vGPUs, SR-IOV).
 */
#ifndef VFK_TEST_KENV_H
#define VFK_TEST_KENV_H
#include <stdbool.h>
#include "ksim.h"
#include "vfiokit.h"

struct kenv {
	char *root;			/* private copy of the fixture tree */
	struct ksim k;			/* the write hook; its log and counters */
	struct vfk_ctx *ctx;
	struct vfk_host *host;		/* scanned by the test when it needs one */
	struct vfk_mdevs *m;		/* likewise */
	char err[1024];			/* for the library's errbuf */
	char progress[4096];		/* every progress message, one per line */
};

/* Build the fixture, hook ksim in, collect progress. false on failure. */
bool kenv_open(struct kenv *e, const char *fixture);
/* Drops host, mdevs and the context. */
void kenv_close(struct kenv *e);
/* Index of "rel/path <- value" in the write log, or -1. */
int kenv_log_index(const struct kenv *e, const char *line);
/* Does rel (below the root) exist, as a link or otherwise? */
bool kenv_exists(const struct kenv *e, const char *rel);
/* Whole file below the root (malloc'ed) or NULL. */
char *kenv_slurp(const struct kenv *e, const char *rel);
/* Replace a file below the root with @text (a test failure if it cannot). */
void kenv_put(const struct kenv *e, const char *rel, const char *text);
#endif
