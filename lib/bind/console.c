/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Single-GPU passthrough: before the host's console GPU can go to vfio-pci,
 * the virtual consoles must let go of the framebuffer and the firmware
 * framebuffer (efifb, simplefb, vesafb) must leave the device. What was
 * released is recorded in <sysroot>/run/vfiokit/consoles so restore can
 * re-attach it, also after a crash.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>

#include "bind/console.h"
#include "bind/journal.h"

#define CONSOLES_FILE "consoles"

static const char *const platform_fbs[] = {
	"efi-framebuffer", "simple-framebuffer", "vesa-framebuffer",
};

static int append(char **buf, size_t *len, const char *line)
{
	size_t n = strlen(line);
	char *nb = realloc(*buf, *len + n + 2);

	if (!nb)
		return -ENOMEM;
	memcpy(nb + *len, line, n);
	nb[*len + n] = '\n';
	nb[*len + n + 1] = '\0';
	*buf = nb;
	*len += n + 1;
	return 0;
}

int console_release(struct vfk_ctx *ctx)
{
	_cleanup_free_ char *record = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	size_t len = 0, i;
	char rel[300], buf[600];
	int fd, r;

	fd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, "class/vtconsole");
	if (fd >= 0 && (d = fdopendir(fd))) {
		while ((e = readdir(d))) {
			long bound;
			if (!startswith(e->d_name, "vtcon") || !journal_value_ok(e->d_name))
				continue;
			snprintf(rel, sizeof(rel), "%s/name", e->d_name);
			if (vfk_read_in(ctx, dirfd(d), rel, buf, sizeof(buf)) <= 0 ||
			    !strstr(buf, "frame buffer"))
				continue;
			snprintf(rel, sizeof(rel), "%s/bind", e->d_name);
			if (vfk_read_long_in(ctx, dirfd(d), rel, &bound) < 0 || bound != 1)
				continue;
			snprintf(rel, sizeof(rel), "class/vtconsole/%s/bind", e->d_name);
			vfk_progress(ctx, "releasing virtual console %s from the framebuffer", e->d_name);
			r = vfk_host_write(ctx, VFK_ROOT_SYS, rel, "0");
			if (r < 0)
				return r;
			snprintf(buf, sizeof(buf), "vtcon %s", e->d_name);
			if (append(&record, &len, buf) < 0)
				return -ENOMEM;
		}
	} else if (fd >= 0) {
		close(fd);
	}
	for (i = 0; i < ARRAY_SIZE(platform_fbs); i++) {
		_cleanup_closedir_ DIR *pd = NULL;
		snprintf(rel, sizeof(rel), "bus/platform/drivers/%s", platform_fbs[i]);
		pd = vfk_fdopendir(vfk_root_open_dir(ctx, VFK_ROOT_SYS, rel));
		if (!pd)
			continue;
		while ((e = readdir(pd))) {
			char wrel[320];
			if (!startswith(e->d_name, platform_fbs[i]) || !journal_value_ok(e->d_name))
				continue;
			snprintf(wrel, sizeof(wrel), "%s/unbind", rel);
			vfk_progress(ctx, "detaching firmware framebuffer %s", e->d_name);
			r = vfk_host_write(ctx, VFK_ROOT_SYS, wrel, e->d_name);
			if (r < 0)
				return r;
			snprintf(buf, sizeof(buf), "platform %s %s", platform_fbs[i], e->d_name);
			if (append(&record, &len, buf) < 0)
				return -ENOMEM;
		}
	}
	if (!record)
		return 0;
	r = vfk_host_write_file(ctx, VFK_ROOT_RUN, CONSOLES_FILE, record, 0600);
	return r < 0 ? r : 0;
}

int console_reattach(struct vfk_ctx *ctx)
{
	_cleanup_close_ int dfd = -1;
	char text[4096], *line, *save = NULL;
	int r, first = 0;

	dfd = vfk_root_open_dir(ctx, VFK_ROOT_RUN, "");
	if (dfd < 0 || vfk_read_in(ctx, dfd, CONSOLES_FILE, text, sizeof(text)) <= 0)
		return 0;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char a[64], b[64], rel[300];
		size_t i;
		if (sscanf(line, "vtcon %63s", a) == 1 && journal_value_ok(a) &&
		    startswith(a, "vtcon")) {
			snprintf(rel, sizeof(rel), "class/vtconsole/%s/bind", a);
			vfk_progress(ctx, "re-attaching virtual console %s", a);
			r = vfk_host_write(ctx, VFK_ROOT_SYS, rel, "1");
		} else if (sscanf(line, "platform %63s %63s", a, b) == 2 && journal_value_ok(b)) {
			for (i = 0; i < ARRAY_SIZE(platform_fbs); i++)
				if (streq(a, platform_fbs[i]))
					break;
			if (i == ARRAY_SIZE(platform_fbs))
				continue;
			snprintf(rel, sizeof(rel), "bus/platform/drivers/%s/bind", platform_fbs[i]);
			vfk_progress(ctx, "re-attaching firmware framebuffer %s", b);
			r = vfk_host_write(ctx, VFK_ROOT_SYS, rel, b);
		} else {
			continue;
		}
		if (r < 0 && !first)
			first = r;
	}
	if (!first)
		r = vfk_host_write_file(ctx, VFK_ROOT_RUN, CONSOLES_FILE, "", 0600);
	return first;
}
