/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

/*
 * A link as the kernel makes it in sysfs: relative, from the directory the
 * link really is in to where the target really is (by '..'), so it resolves
 * the same inside the sysroot as on a real host.
 */
static int symlink_rel(const char *target, const char *link)
{
	char dir[PATH_MAX], rdir[PATH_MAX], rt[PATH_MAX], out[PATH_MAX] = "";
	size_t common = 0, i;
	char *slash;

	snprintf(dir, sizeof(dir), "%s", link);
	slash = strrchr(dir, '/');
	if (!slash)
		return symlink(target, link);
	*slash = '\0';
	if (!realpath(dir, rdir))
		return -1;
	if (!realpath(target, rt))
		snprintf(rt, sizeof(rt), "%s", target);
	/* the longest common prefix that ends at a component boundary */
	for (i = 0; rdir[i] && rdir[i] == rt[i]; i++)
		if (rdir[i] == '/')
			common = i;
	if (!rdir[i] && (rt[i] == '/' || !rt[i]))
		common = i;
	for (i = common; rdir[i]; i++)
		if (rdir[i] == '/')
			strcat(out, "../");
	strncat(out, rt[common] == '/' ? rt + common + 1 : rt + common,
		sizeof(out) - strlen(out) - 1);
	return symlink(out, link);
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
	/* vfio-pci and the variant drivers (mlx5_vfio_pci, xe-vfio-pci) alike */
	for (i = 0; i < k->nnative; i++)
		if (group_of(k->root, k->native_addr[i]) == group &&
		    vfk_driver_is_vfio(ksim_driver(k->root, k->native_addr[i], drv, sizeof(drv))))
			any = true;
	snprintf(p, sizeof(p), "%s/dev/vfio/%d", k->root, group);
	if (any) {
		struct stat st;
		bool made = lstat(p, &st) < 0;
		int fd = open(p, O_CREAT | O_WRONLY, 0600);
		if (fd >= 0)
			close(fd);
		if (made && k->node_mode && (chown(p, 0, k->node_gid) < 0 || chmod(p, k->node_mode) < 0))
			fprintf(stderr, "ksim: cannot set up %s\n", p);
	} else {
		unlink(p);
	}
}

/*
 * The kernel makes a device's uevent from its state when it is read: DRIVER=
 * first while a driver is bound, none otherwise. The inventory takes the
 * driver from there, so a bind here rewrites it with the link.
 */
static void write_text(const char *path, const char *text);

static void set_uevent_driver(const char *dir, const char *drv)
{
	char p[PATH_MAX], old[4096], out[4096 + 80], *line, *save = NULL;
	size_t n = 0, len = 0;
	FILE *f;

	snprintf(p, sizeof(p), "%s/uevent", dir);
	f = fopen(p, "r");
	if (!f)
		return;	/* a tree captured without uevent */
	n = fread(old, 1, sizeof(old) - 1, f);
	fclose(f);
	old[n] = '\0';
	out[0] = '\0';
	if (drv && *drv)
		len = (size_t)snprintf(out, sizeof(out), "DRIVER=%s\n", drv);
	for (line = strtok_r(old, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "DRIVER=", 7) != 0 && len < sizeof(out))
			len += (size_t)snprintf(out + len, sizeof(out) - len, "%s\n", line);
	write_text(p, out);
}

static void set_driver(struct ksim *k, const char *addr, const char *drv)
{
	char p[PATH_MAX], t[PATH_MAX];

	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/%s", k->root, addr);
	set_uevent_driver(p, drv);
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/%s/driver", k->root, addr);
	unlink(p);
	if (drv && *drv) {
		snprintf(t, sizeof(t), "%s/sys/bus/pci/drivers/%s", k->root, drv);
		if (symlink_rel(t, p) < 0)
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

/* ---- mediated devices, NVIDIA's per-VF vGPU files and SR-IOV (vfio-mdev) */

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static void rm_rf(const char *p)
{
	nftw(p, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static long read_num(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%li", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void write_num(const char *path, long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld\n", v);
	write_text(path, buf);
}

static void copy_file(const char *from, const char *to)
{
	char buf[8192];
	FILE *in = fopen(from, "rb"), *out;
	size_t n;

	if (!in)
		return;
	out = fopen(to, "wb");
	if (out) {
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
			fwrite(buf, 1, n, out);
		fclose(out);
	}
	fclose(in);
}

/* Directory part of @path into @out, links resolved. */
static bool real_dir(const char *path, char *out)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s", path);
	if (!strrchr(p, '/'))
		return false;
	*strrchr(p, '/') = '\0';
	return realpath(p, out) != NULL;
}

static const char *base_of(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* A new IOMMU group: one past the highest, as the kernel's IDA hands out. */
static int new_group(struct ksim *k, const char *devdir, const char *name)
{
	char p[PATH_MAX], t[PATH_MAX];
	DIR *d;
	struct dirent *e;
	int g = -1;

	snprintf(p, sizeof(p), "%s/sys/kernel/iommu_groups", k->root);
	d = opendir(p);
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' && atoi(e->d_name) > g)
			g = atoi(e->d_name);
	if (d)
		closedir(d);
	g++;
	snprintf(p, sizeof(p), "%s/sys/kernel/iommu_groups/%d", k->root, g);
	mkdir(p, 0755);
	snprintf(t, sizeof(t), "%s/devices", p);
	mkdir(t, 0755);
	snprintf(t, sizeof(t), "%s/devices/%s", p, name);
	if (symlink_rel(devdir, t) < 0)
		return -1;
	snprintf(t, sizeof(t), "%s/iommu_group", devdir);
	if (symlink_rel(p, t) < 0)
		return -1;
	return g;
}

static void drop_group(struct ksim *k, const char *devdir)
{
	char p[PATH_MAX], t[PATH_MAX];
	ssize_t n;

	snprintf(p, sizeof(p), "%s/iommu_group", devdir);
	n = readlink(p, t, sizeof(t) - 1);
	if (n <= 0)
		return;
	t[n] = '\0';
	snprintf(p, sizeof(p), "%s/sys/kernel/iommu_groups/%s", k->root, base_of(t));
	rm_rf(p);
	snprintf(p, sizeof(p), "%s/dev/vfio/%s", k->root, base_of(t));
	unlink(p);
}

/* .../mdev_supported_types/<type>/create <- UUID */
static int sim_mdev_create(struct ksim *k, const char *path, const char *uuid)
{
	char typedir[PATH_MAX], parent[PATH_MAX], p[PATH_MAX], md[PATH_MAX];
	struct stat st;
	long avail;
	int g;

	if (!real_dir(path, typedir))
		return -ENOENT;
	snprintf(p, sizeof(p), "%s/../..", typedir);
	if (!realpath(p, parent))
		return -ENOENT;
	if (strlen(uuid) != 36 || uuid[8] != '-' || uuid[13] != '-')
		return -EINVAL;
	snprintf(p, sizeof(p), "%s/sys/bus/mdev/devices/%s", k->root, uuid);
	if (lstat(p, &st) == 0)
		return -EEXIST;
	snprintf(p, sizeof(p), "%s/available_instances", typedir);
	avail = read_num(p);
	if (avail <= 0)
		return -EUSERS;	/* what mdev_device_create() returns for a full type */
	write_num(p, avail - 1);
	snprintf(md, sizeof(md), "%s/%s", parent, uuid);
	mkdir(md, 0755);
	snprintf(p, sizeof(p), "%s/mdev_type", md);
	if (symlink_rel(typedir, p) < 0)
		return -EIO;
	snprintf(p, sizeof(p), "%s/remove", md);
	write_text(p, "");
	g = new_group(k, md, uuid);
	snprintf(p, sizeof(p), "%s/sys/bus/mdev", k->root);
	mkdir(p, 0755);
	strcat(p, "/devices");
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/sys/bus/mdev/devices/%s", k->root, uuid);
	if (symlink_rel(md, p) < 0)
		return -EIO;
	snprintf(p, sizeof(p), "%s/devices/%s", typedir, uuid);
	if (symlink_rel(md, p) < 0)
		return -EIO;
	snprintf(p, sizeof(p), "%s/dev/vfio/%d", k->root, g);
	write_text(p, "");
	return 1;
}

/* bus/mdev/devices/<uuid>/remove <- 1 */
static int sim_mdev_remove(struct ksim *k, const char *path)
{
	char md[PATH_MAX], typedir[PATH_MAX], p[PATH_MAX];
	long avail;

	if (!real_dir(path, md))
		return -ENOENT;
	snprintf(p, sizeof(p), "%s/mdev_type", md);
	if (!realpath(p, typedir))
		return -ENODEV;
	snprintf(p, sizeof(p), "%s/devices/%s", typedir, base_of(md));
	unlink(p);
	snprintf(p, sizeof(p), "%s/sys/bus/mdev/devices/%s", k->root, base_of(md));
	unlink(p);
	drop_group(k, md);
	rm_rf(md);
	snprintf(p, sizeof(p), "%s/available_instances", typedir);
	avail = read_num(p);
	write_num(p, avail + 1);
	return 1;
}

/* bus/pci/devices/<VF>/nvidia/current_vgpu_type <- ID (0 frees the VF) */
static int sim_vgpu_type(const char *path, const char *value)
{
	char p[PATH_MAX], line[256];
	long want = strtol(value, NULL, 10), cur = read_num(path);
	bool ok = false;
	FILE *f;

	if (want == 0) {
		write_num(path, 0);
		return 1;
	}
	if (cur > 0)
		return -EBUSY;
	snprintf(p, sizeof(p), "%s", path);
	*strrchr(p, '/') = '\0';
	strcat(p, "/creatable_vgpu_types");
	f = fopen(p, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strtol(line, NULL, 10) == want)
			ok = true;
	if (f)
		fclose(f);
	if (!ok)
		return -EINVAL;
	write_num(path, want);
	return 1;
}

static void vf_destroy(struct ksim *k, const char *pfdir, long i)
{
	char link[PATH_MAX], vfdir[PATH_MAX], p[PATH_MAX], t[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "%s/virtfn%ld", pfdir, i);
	if (!realpath(link, vfdir))
		return;
	snprintf(p, sizeof(p), "%s/driver", vfdir);
	n = readlink(p, t, sizeof(t) - 1);
	if (n > 0) {
		t[n] = '\0';
		snprintf(p, sizeof(p), "%s/sys/bus/pci/drivers/%s/%s", k->root, base_of(t),
			 base_of(vfdir));
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/%s", k->root, base_of(vfdir));
	unlink(p);
	drop_group(k, vfdir);
	rm_rf(vfdir);
	unlink(link);
}

/* A VF as the kernel adds it: beside the PF, routing id offset + i * stride. */
static void vf_create(struct ksim *k, const char *pfdir, long i, bool autoprobe, const char *drv)
{
	static const char *const copied[] = {
		"vendor", "class", "revision", "subsystem_vendor", "subsystem_device", "resource",
		"numa_node", "local_cpulist", "local_cpus", "current_link_speed",
		"current_link_width", "max_link_speed", "max_link_width", "power_state", "config",
	};
	char p[PATH_MAX], q[PATH_MAX], vfdir[PATH_MAX], name[16], dev[32] = "ffff";
	unsigned int dom, bus, slot, fn, rid;
	long off, stride;
	size_t c;
	FILE *f;

	if (sscanf(base_of(pfdir), "%x:%x:%x.%x", &dom, &bus, &slot, &fn) != 4)
		return;
	snprintf(p, sizeof(p), "%s/sriov_offset", pfdir);
	off = read_num(p);
	snprintf(p, sizeof(p), "%s/sriov_stride", pfdir);
	stride = read_num(p);
	rid = (bus << 8 | slot << 3 | fn) + (unsigned int)(off + i * stride);
	snprintf(name, sizeof(name), "%04x:%02x:%02x.%x", dom, rid >> 8, (rid >> 3) & 0x1f, rid & 7);
	snprintf(vfdir, sizeof(vfdir), "%s", pfdir);
	*strrchr(vfdir, '/') = '\0';
	snprintf(vfdir + strlen(vfdir), sizeof(vfdir) - strlen(vfdir), "/%s", name);
	mkdir(vfdir, 0755);
	for (c = 0; c < sizeof(copied) / sizeof(copied[0]); c++) {
		snprintf(p, sizeof(p), "%s/%s", pfdir, copied[c]);
		snprintf(q, sizeof(q), "%s/%s", vfdir, copied[c]);
		copy_file(p, q);
	}
	snprintf(p, sizeof(p), "%s/sriov_vf_device", pfdir);
	f = fopen(p, "r");
	if (f && fscanf(f, "%31s", dev) == 1) {
		snprintf(q, sizeof(q), "%s/device", vfdir);
		snprintf(p, sizeof(p), "0x%s\n", dev);
		write_text(q, p);
	}
	if (f)
		fclose(f);
	{	/* uevent as the kernel fills it for the new VF */
		long vendor, class, sv, sd;
		snprintf(p, sizeof(p), "%s/vendor", pfdir);
		vendor = read_num(p);
		snprintf(p, sizeof(p), "%s/class", pfdir);
		class = read_num(p);
		snprintf(p, sizeof(p), "%s/subsystem_vendor", pfdir);
		sv = read_num(p);
		snprintf(p, sizeof(p), "%s/subsystem_device", pfdir);
		sd = read_num(p);
		snprintf(q, sizeof(q), "%s/uevent", vfdir);
		snprintf(p, sizeof(p), "%s%s%sPCI_CLASS=%lX\nPCI_ID=%04lX:%04lX\n"
			 "PCI_SUBSYS_ID=%04lX:%04lX\nPCI_SLOT_NAME=%s\n",
			 autoprobe && *drv ? "DRIVER=" : "", autoprobe && *drv ? drv : "",
			 autoprobe && *drv ? "\n" : "", class, vendor, strtol(dev, NULL, 16), sv, sd,
			 name);
		write_text(q, p);
	}
	snprintf(q, sizeof(q), "%s/config", vfdir);	/* VFs read all-ones vendor/device */
	f = fopen(q, "r+b");
	if (f) {
		fwrite("\xff\xff\xff\xff", 1, 4, f);
		fclose(f);
	}
	snprintf(q, sizeof(q), "%s/driver_override", vfdir);
	write_text(q, "(null)\n");
	snprintf(q, sizeof(q), "%s/physfn", vfdir);
	if (symlink_rel(pfdir, q) < 0)
		return;
	snprintf(q, sizeof(q), "%s/virtfn%ld", pfdir, i);
	if (symlink_rel(vfdir, q) < 0)
		return;
	snprintf(q, sizeof(q), "%s/subsystem", vfdir);
	snprintf(p, sizeof(p), "%s/sys/bus/pci", k->root);
	if (symlink_rel(p, q) < 0)
		return;
	snprintf(q, sizeof(q), "%s/sys/bus/pci/devices/%s", k->root, name);
	if (symlink_rel(vfdir, q) < 0)
		return;
	new_group(k, vfdir, name);
	if (autoprobe && *drv) {	/* the stand-in binds VFs to their PF's driver */
		snprintf(q, sizeof(q), "%s/driver", vfdir);
		snprintf(p, sizeof(p), "%s/sys/bus/pci/drivers/%s", k->root, drv);
		if (symlink_rel(p, q) < 0)
			return;
	}
	if (k->nnative < KSIM_MAX_DEV) {	/* known to drivers_probe and /dev/vfio upkeep */
		snprintf(k->native_addr[k->nnative], 16, "%s", name);
		snprintf(k->native_drv[k->nnative], 64, "%s", autoprobe ? drv : "");
		k->nnative++;
	}
}

/* bus/pci/devices/<PF>/sriov_numvfs <- N, with the kernel's refusals */
static int sim_numvfs(struct ksim *k, const char *path, const char *value)
{
	char pfdir[PATH_MAX], p[PATH_MAX], t[PATH_MAX];
	long n = strtol(value, NULL, 10), cur = read_num(path), total, i;
	bool autoprobe;
	ssize_t len;

	if (!real_dir(path, pfdir))
		return -ENOENT;
	snprintf(p, sizeof(p), "%s/sriov_totalvfs", pfdir);
	total = read_num(p);
	snprintf(p, sizeof(p), "%s/sriov_drivers_autoprobe", pfdir);
	autoprobe = read_num(p) != 0;
	snprintf(p, sizeof(p), "%s/driver", pfdir);
	len = readlink(p, t, sizeof(t) - 1);
	if (len <= 0)
		return -ENOENT;	/* "no driver bound to device; cannot configure SR-IOV" */
	t[len] = '\0';
	if (n < 0 || n > total)
		return -ERANGE;
	if (n == cur)
		return 1;
	if (cur > 0 && n > 0)
		return -EBUSY;	/* "%d VFs already enabled. Disable before enabling %d VFs" */
	for (i = 0; i < cur; i++)
		vf_destroy(k, pfdir, i);
	for (i = 0; i < n; i++)
		vf_create(k, pfdir, i, autoprobe, base_of(t));
	write_num(path, n);
	return 1;
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
		if (k->busy_probes > 0 && !vfk_driver_is_vfio(drv)) {
			k->busy_probes--;
			return -EBUSY;	/* the probe's error comes back from bind */
		}
		set_driver(k, v, drv);
		return 1;
	}
	if (ends_with(rel, "bus/pci/drivers_probe")) {
		const char *want;
		if (ksim_driver(k->root, v, drv, sizeof(drv))[0])
			return 1;	/* already bound: probing is a no-op */
		ksim_override(k->root, v, ovr, sizeof(ovr));
		want = ovr[0] ? ovr : native_of(k, v);
		if (*want && !vfk_driver_is_vfio(want) && k->busy_probes > 0) {
			k->busy_probes--;
			return 1;	/* a failed probe leaves the device driverless */
		}
		if (*want && driver_exists(k, want))
			set_driver(k, v, want);
		return 1;
	}
	if (ends_with(rel, "/create") && strstr(rel, "/mdev_supported_types/"))
		return sim_mdev_create(k, path, v);
	if (ends_with(rel, "/remove") && strstr(rel, "bus/mdev/devices/"))
		return sim_mdev_remove(k, path);
	if (ends_with(rel, "/nvidia/current_vgpu_type"))
		return sim_vgpu_type(path, v);
	if (ends_with(rel, "/sriov_numvfs"))
		return sim_numvfs(k, path, v);
	if (ends_with(rel, "/driver_override")) {
		/* the kernel replaces the value; a lone newline clears it */
		char p[PATH_MAX];
		FILE *f;
		snprintf(p, sizeof(p), "%s/%s", k->root, rel);
		f = fopen(p, "w");
		if (!f)
			return -errno;
		fprintf(f, "%s\n", v[0] ? v : "(null)");
		fclose(f);
		return 1;
	}
	return 0;	/* state files, consoles: let the write happen */
}
