/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading below the sysroot as the checks need it: stdio streams, whole small
 * files and directory streams, all opened through the path layer so that a
 * fixture tree is read exactly like the running host.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>

#include "check/check.h"

FILE *fopen_at(struct vfk_ctx *ctx, int dirfd, const char *name)
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

char *read_text_at(struct vfk_ctx *ctx, int dirfd, const char *name, size_t max)
{
	_cleanup_fclose_ FILE *f = NULL;
	char *buf;
	size_t len = 0, n;

	f = fopen_at(ctx, dirfd, name);
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

DIR *opendir_at(struct vfk_ctx *ctx, int dirfd, const char *rel)
{
	int fd;
	DIR *d;

	fd = vfk_open_dir_in(ctx, dirfd, rel && *rel ? rel : ".");
	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (!d)
		close(fd);
	return d;
}

char *shown_path(struct probe *p, enum vfk_root root, const char *rel)
{
	char *s = vfk_root_path(p->ctx, root, rel);

	if (!s)
		s = xasprintf(p, "%s", rel);
	return s;
}
