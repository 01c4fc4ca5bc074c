/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ksim.h"

const char *ksim_driver(const char *root, const char *addr, char *buf, size_t size)
{
	char p[PATH_MAX], t[PATH_MAX];
	ssize_t n;
	const char *base;

	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/%s/driver", root, addr);
	n = readlink(p, t, sizeof(t) - 1);
	buf[0] = '\0';
	if (n <= 0)
		return buf;
	t[n] = '\0';
	base = strrchr(t, '/');
	snprintf(buf, size, "%s", base ? base + 1 : t);
	return buf;
}

const char *ksim_override(const char *root, const char *addr, char *buf, size_t size)
{
	char p[PATH_MAX];
	FILE *f;
	size_t n;

	buf[0] = '\0';
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/%s/driver_override", root, addr);
	f = fopen(p, "r");
	if (!f)
		return buf;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n'))
		buf[--n] = '\0';
	if (!strcmp(buf, "(null)"))
		buf[0] = '\0';
	return buf;
}

static int group_of(const char *root, const char *addr)
{
	char p[PATH_MAX], t[PATH_MAX];
	ssize_t n;
	const char *base;

	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/%s/iommu_group", root, addr);
	n = readlink(p, t, sizeof(t) - 1);
	if (n <= 0)
		return -1;
	t[n] = '\0';
	base = strrchr(t, '/');
	return atoi(base ? base + 1 : t);
}

void ksim_init(struct ksim *k, const char *root)
{
	char p[PATH_MAX];
	DIR *d;
	struct dirent *e;

	memset(k, 0, sizeof(*k));
	snprintf(k->root, sizeof(k->root), "%s", root);
	snprintf(p, sizeof(p), "%s/sys/bus/pci/drivers/vfio-pci", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/dev/vfio", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices", root);
	d = opendir(p);
	while (d && (e = readdir(d)) && k->nnative < KSIM_MAX_DEV) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(k->native_addr[k->nnative], 16, "%s", e->d_name);
		ksim_driver(root, e->d_name, k->native_drv[k->nnative], 64);
		k->nnative++;
	}
	if (d)
		closedir(d);
}

static const char *native_of(struct ksim *k, const char *addr)
{
	int i;

	for (i = 0; i < k->nnative; i++)
		if (!strcmp(k->native_addr[i], addr))
			return k->native_drv[i];
	return "";
}

static void update_vfio_node(struct ksim *k, int group)
{
	char p[PATH_MAX], drv[64];
	bool any = false;
	int i;

	if (group < 0)
		return;
	for (i = 0; i < k->nnative; i++)
		if (group_of(k->root, k->native_addr[i]) == group &&
		    !strcmp(ksim_driver(k->root, k->native_addr[i], drv, sizeof(drv)), "vfio-pci"))
			any = true;
	snprintf(p, sizeof(p), "%s/dev/vfio/%d", k->root, group);
	if (any) {
		int fd = open(p, O_CREAT | O_WRONLY, 0600);
		if (fd >= 0)
			close(fd);
	} else {
		unlink(p);
	}
}

static void set_driver(struct ksim *k, const char *addr, const char *drv)
{
	char p[PATH_MAX], t[PATH_MAX];

	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/%s/driver", k->root, addr);
	unlink(p);
	if (drv && *drv) {
		snprintf(t, sizeof(t), "%s/sys/bus/pci/drivers/%s", k->root, drv);
		if (symlink(t, p) < 0)
			return;
	}
	update_vfio_node(k, group_of(k->root, addr));
}

static bool driver_exists(struct ksim *k, const char *drv)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s/sys/bus/pci/drivers/%s", k->root, drv);
	return stat(p, &st) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

int ksim_hook(void *data, const char *path, const char *value)
{
	struct ksim *k = data;
	const char *rel = path;
	char drv[64], ovr[64];
	char v[64];
	size_t rl = strlen(k->root);

	if (!strncmp(path, k->root, rl))
		rel = path + rl + 1;
	k->writes++;
	if (k->nlog < KSIM_MAX_LOG) {
		const char *nl = strchr(value, '\n');
		snprintf(k->log[k->nlog++], sizeof(k->log[0]), "%s <- %.200s", rel,
			 nl && nl[1] ? "(file)" : value);
	}
	if (k->kill_at && k->writes == k->kill_at)
		raise(SIGKILL);
	if (k->fail_at && k->writes == k->fail_at)
		return -EIO;
	snprintf(v, sizeof(v), "%s", value);
	if (strchr(v, '\n'))
		*strchr(v, '\n') = '\0';

	if (ends_with(rel, "/unbind") && strstr(rel, "bus/pci/drivers/")) {
		if (k->hang_unbind)
			return -ETIMEDOUT;
		set_driver(k, v, "");
		return 1;
	}
	if (ends_with(rel, "/bind") && strstr(rel, "bus/pci/drivers/")) {
		const char *d = rel + strlen("sys/bus/pci/drivers/");
		snprintf(drv, sizeof(drv), "%.*s", (int)(strchr(d, '/') - d), d);
		if (ksim_driver(k->root, v, ovr, sizeof(ovr))[0])
			return -EBUSY;
		set_driver(k, v, drv);
		return 1;
	}
	if (ends_with(rel, "bus/pci/drivers_probe")) {
		const char *want;
		if (ksim_driver(k->root, v, drv, sizeof(drv))[0])
			return 1;	/* already bound: probing is a no-op */
		ksim_override(k->root, v, ovr, sizeof(ovr));
		want = ovr[0] ? ovr : native_of(k, v);
		if (*want && driver_exists(k, want))
			set_driver(k, v, want);
		return 1;
	}
	return 0;	/* driver_override, state files, consoles: let the write happen */
}
