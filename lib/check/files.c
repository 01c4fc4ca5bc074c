/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading below the sysroot as the checks need it: stdio streams and whole
 * small files, opened through the path layer so that a fixture tree is read
 * exactly like the running host (directory streams: vfk_opendir_in()).
 */
#include <fcntl.h>
#include <stdio.h>

#include "check/check.h"

FILE *check_fopen_at(struct vfk_ctx *ctx, int dirfd, const char *name)
{
	int fd;
	FILE *f;

	fd = vfk_open_file_in(ctx, dirfd, name);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "re");
	if (!f)
		close(fd);
	return f;
}

char *check_read_text_at(struct vfk_ctx *ctx, int dirfd, const char *name, size_t max)
{
	_cleanup_fclose_ FILE *f = NULL;
	char *buf;
	size_t len = 0, n;

	f = check_fopen_at(ctx, dirfd, name);
	if (!f)
		return NULL;
	buf = malloc(max + 1);
	if (!buf)
		return NULL;
	while (len < max && (n = fread(buf + len, 1, max - len, f)) > 0)
		len += n;
	buf[len] = '\0';
	return buf;
}

bool check_module_present(int sysfd, const char *name)
{
	char rel[128];

	snprintf(rel, sizeof(rel), VFK_SYS_MODULE "/%s", name);
	return vfk_exists_at(sysfd, rel);
}
