/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "kenv.h"

static void on_progress(void *data, const char *msg)
{
	struct kenv *e = data;
	size_t len = strlen(e->progress);

	snprintf(e->progress + len, sizeof(e->progress) - len, "%s\n", msg);
}

bool kenv_open(struct kenv *e, const char *fixture)
{
	memset(e, 0, sizeof(*e));
	e->root = fixture_host(fixture);
	if (!e->root)
		return false;
	ksim_init(&e->k, e->root);
	if (vfk_ctx_new(e->root, &e->ctx) < 0)
		return false;
	vfk_ctx_set_write_hook(e->ctx, ksim_hook, &e->k);
	vfk_ctx_set_progress_fn(e->ctx, on_progress, e);
	return true;
}

void kenv_close(struct kenv *e)
{
	vfk_mdevs_unref(e->m);
	vfk_host_unref(e->host);
	vfk_ctx_unref(e->ctx);
	free(e->root);
	memset(e, 0, sizeof(*e));
}

int kenv_log_index(const struct kenv *e, const char *line)
{
	int i;

	for (i = 0; i < e->k.nlog; i++)
		if (!strcmp(e->k.log[i], line))
			return i;
	return -1;
}

bool kenv_exists(const struct kenv *e, const char *rel)
{
	char p[4096];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", e->root, rel);
	return lstat(p, &st) == 0;
}

char *kenv_slurp(const struct kenv *e, const char *rel)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/%s", e->root, rel);
	return read_file(p);
}

void kenv_put(const struct kenv *e, const char *rel, const char *text)
{
	char p[4096];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", e->root, rel);
	f = fopen(p, "w");
	if (!f) {
		test_fail_(__FILE__, __LINE__, "cannot write %s", p);
		return;
	}
	fputs(text, f);
	fclose(f);
}
