/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Another host, read through libvirt: its PCI node devices and its CPU
 * topology written as a small sysfs-shaped tree in a private directory, so
 * that the inventory and the plan read it as they read this host
 * (vfk_ctx_new_remote() in vfiokit.h). What libvirt does not tell (config
 * space capabilities, ACS, boot VGA, BARs) is left out: the IOMMU groups are
 * the remote kernel's own, as libvirt reports them.
 */
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

#include "core/xml-dl.h"
#include "launch/launch.h"
#include "launch/libvirt-dl.h"

struct rnode {
	char name[64];		/* pci_0000_01_00_0 */
	char parent[64];
	char addr[16];		/* 0000:01:00.0 */
	char driver[64];
	char dir[256];		/* devices/pciDDDD:00/[PARENT/]ADDR below sys */
	unsigned int vendor, device, class;
	int group, numa;
};

struct snap {
	const struct xml_api *x;
	char root[PATH_MAX];
	const char *uri;
	char *err;
	size_t errsize;
};

static int snap_fail(struct snap *s, int err, const char *what)
{
	return launch_fail(s->err, s->errsize, err, "writing the snapshot of the remote host: %s: %s",
			   what, strerror(err));
}

/* mkdir -p @root/@rel */
static int snap_mkdir(struct snap *s, const char *rel)
{
	char path[PATH_MAX], *p;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", s->root, rel) >= sizeof(path))
		return snap_fail(s, ENAMETOOLONG, rel);
	for (p = path + strlen(s->root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return snap_fail(s, errno, rel);
		*p = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return snap_fail(s, errno, rel);
	return 0;
}

/* @root/@rel with @len bytes of @data, its directory made. */
static int snap_write(struct snap *s, const char *rel, const void *data, size_t len)
{
	char path[PATH_MAX], dir[PATH_MAX], *slash;
	FILE *f;
	int r;

	snprintf(dir, sizeof(dir), "%s", rel);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		if ((r = snap_mkdir(s, dir)) < 0)
			return r;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", s->root, rel) >= sizeof(path))
		return snap_fail(s, ENAMETOOLONG, rel);
	f = fopen(path, "we");
	if (!f)
		return snap_fail(s, errno, rel);
	if (len && fwrite(data, 1, len, f) != len) {
		fclose(f);
		return snap_fail(s, EIO, rel);
	}
	if (fclose(f) != 0)
		return snap_fail(s, errno, rel);
	return 0;
}

static int snap_printf(struct snap *s, const char *rel, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int snap_printf(struct snap *s, const char *rel, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return snap_write(s, rel, buf, strlen(buf));
}

/* A relative symlink @rel -> @target (both below the tree's sys/). */
static int snap_link(struct snap *s, const char *rel, const char *target)
{
	char path[PATH_MAX], up[PATH_MAX] = "";
	const char *p;

	for (p = strchr(rel, '/'); p; p = strchr(p + 1, '/'))
		strcat(up, "../");
	if ((size_t)snprintf(path, sizeof(path), "%s/sys/%s", s->root, rel) >= sizeof(path) ||
	    strlen(up) + strlen(target) >= sizeof(up))
		return snap_fail(s, ENAMETOOLONG, rel);
	strcat(up, target);
	if (symlink(up, path) < 0 && errno != EEXIST)
		return snap_fail(s, errno, rel);
	return 0;
}

/* ------------------------------------------------------------ reading XML */

static xmlNodePtr child(const struct xml_api *x, xmlNodePtr n, const char *name)
{
	for (n = n ? n->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && x->xmlStrEqual(n->name, BAD_CAST name))
			return n;
	return NULL;
}

/* The text of @n (or of its attribute @attr) into @buf; false when absent. */
static bool text_of(const struct xml_api *x, xmlNodePtr n, const char *attr, char *buf,
		    size_t size)
{
	xmlChar *t;

	if (!n)
		return false;
	t = attr ? x->xmlGetProp(n, BAD_CAST attr) : x->xmlNodeGetContent(n);
	if (t)
		snprintf(buf, size, "%s", (const char *)t);
	(*x->xmlFree)(t);
	return t != NULL;
}

static bool num_of(const struct xml_api *x, xmlNodePtr n, const char *attr, unsigned long max,
		   unsigned int *out)
{
	char buf[64], *end;
	unsigned long v;

	if (!text_of(x, n, attr, buf, sizeof(buf)))
		return false;
	errno = 0;
	v = strtoul(buf, &end, 0);
	if (errno || end == buf || *end || v > max)
		return false;
	*out = (unsigned int)v;
	return true;
}

/* One node device's XML: false when it is not a PCI function (or is malformed). */
static bool parse_pci(const struct xml_api *x, const char *xml, struct rnode *d)
{
	xmlDocPtr doc = x->xmlReadMemory(xml, (int)strlen(xml), "nodedev.xml", NULL,
					 XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlNodePtr root = doc ? x->xmlDocGetRootElement(doc) : NULL, cap, n;
	unsigned int dom, bus, slot, fn, v;
	bool ok = false;

	memset(d, 0, sizeof(*d));
	d->group = d->numa = -1;
	for (cap = root ? root->children : NULL; cap; cap = cap->next) {
		char type[16];
		if (cap->type == XML_ELEMENT_NODE && x->xmlStrEqual(cap->name, BAD_CAST "capability") &&
		    text_of(x, cap, "type", type, sizeof(type)) && streq(type, "pci"))
			break;
	}
	if (!cap || !num_of(x, child(x, cap, "domain"), NULL, 0xffff, &dom) ||
	    !num_of(x, child(x, cap, "bus"), NULL, 0xff, &bus) ||
	    !num_of(x, child(x, cap, "slot"), NULL, 0x1f, &slot) ||
	    !num_of(x, child(x, cap, "function"), NULL, 7, &fn) ||
	    !num_of(x, child(x, cap, "vendor"), "id", 0xffff, &d->vendor) ||
	    !num_of(x, child(x, cap, "product"), "id", 0xffff, &d->device) ||
	    !num_of(x, child(x, cap, "class"), NULL, 0xffffff, &d->class))
		goto out;
	snprintf(d->addr, sizeof(d->addr), "%04x:%02x:%02x.%x", dom, bus, slot, fn);
	text_of(x, child(x, root, "name"), NULL, d->name, sizeof(d->name));
	text_of(x, child(x, root, "parent"), NULL, d->parent, sizeof(d->parent));
	text_of(x, child(x, child(x, root, "driver"), "name"), NULL, d->driver, sizeof(d->driver));
	if ((n = child(x, cap, "iommuGroup")) && num_of(x, n, "number", 1u << 20, &v))
		d->group = (int)v;
	if ((n = child(x, cap, "numa")) && num_of(x, n, "node", 1024, &v))
		d->numa = (int)v;
	ok = true;
out:
	if (doc)
		x->xmlFreeDoc(doc);
	return ok;
}

/* ------------------------------------------------------------ PCI */

/* The parent's address when @d's parent is a PCI function of @all. */
static const struct rnode *parent_of(const struct rnode *d, const struct rnode *all, size_t n)
{
	size_t i;

	for (i = 0; *d->parent && i < n; i++)
		if (streq(all[i].name, d->parent))
			return &all[i];
	return NULL;
}

/* The first 64 bytes of config space: ids, class, header type; no capabilities. */
static int write_config(struct snap *s, const struct rnode *d)
{
	unsigned char cfg[64] = { 0 };
	char rel[320];

	cfg[0] = (unsigned char)d->vendor;
	cfg[1] = (unsigned char)(d->vendor >> 8);
	cfg[2] = (unsigned char)d->device;
	cfg[3] = (unsigned char)(d->device >> 8);
	cfg[9] = (unsigned char)d->class;
	cfg[10] = (unsigned char)(d->class >> 8);
	cfg[11] = (unsigned char)(d->class >> 16);
	cfg[14] = (d->class >> 8) == 0x0604 ? 1 : 0;
	snprintf(rel, sizeof(rel), "sys/%s/config", d->dir);
	return snap_write(s, rel, cfg, sizeof(cfg));
}

static int write_device(struct snap *s, const struct rnode *d)
{
	char rel[512], target[128];
	int r;

	snprintf(rel, sizeof(rel), "sys/%s/vendor", d->dir);
	if ((r = snap_printf(s, rel, "0x%04x\n", d->vendor)) < 0)
		return r;
	snprintf(rel, sizeof(rel), "sys/%s/device", d->dir);
	if ((r = snap_printf(s, rel, "0x%04x\n", d->device)) < 0)
		return r;
	snprintf(rel, sizeof(rel), "sys/%s/class", d->dir);
	if ((r = snap_printf(s, rel, "0x%06x\n", d->class)) < 0)
		return r;
	snprintf(rel, sizeof(rel), "sys/%s/numa_node", d->dir);
	if ((r = snap_printf(s, rel, "%d\n", d->numa)) < 0 || (r = write_config(s, d)) < 0)
		return r;
	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s", d->addr);
	if ((r = snap_mkdir(s, "sys/" VFK_SYS_PCI_DEVICES)) < 0 || (r = snap_link(s, rel, d->dir)) < 0)
		return r;
	if (*d->driver && !strchr(d->driver, '/') && !streq(d->driver, "..")) {
		snprintf(target, sizeof(target), VFK_SYS_PCI_DRIVERS "/%s", d->driver);
		snprintf(rel, sizeof(rel), "sys/%s", target);
		if ((r = snap_mkdir(s, rel)) < 0)
			return r;
		snprintf(rel, sizeof(rel), "%s/driver", d->dir);
		if ((r = snap_link(s, rel, target)) < 0)
			return r;
	}
	if (d->group >= 0) {
		snprintf(target, sizeof(target), VFK_SYS_IOMMU_GROUPS "/%d", d->group);
		snprintf(rel, sizeof(rel), "sys/%s/devices", target);
		if ((r = snap_mkdir(s, rel)) < 0)
			return r;
		snprintf(rel, sizeof(rel), "%s/iommu_group", d->dir);
		if ((r = snap_link(s, rel, target)) < 0)
			return r;
		snprintf(rel, sizeof(rel), "%s/devices/%s", target, d->addr);
		if ((r = snap_link(s, rel, d->dir)) < 0)
			return r;
	}
	return 0;
}

/* Every PCI node device of @c into the tree; their number. */
static int snap_pci(struct snap *s, const struct libvirt_api *lv, virConnectPtr c)
{
	virNodeDevicePtr *devs = NULL;
	struct rnode *all;
	size_t n = 0, i;
	int k, nd, r = 0;

	/* no flags: libvirt's test driver refuses even the capability filter */
	nd = lv->virConnectListAllNodeDevices(c, &devs, 0);
	if (nd < 0)
		return launch_fail(s->err, s->errsize, EIO, "cannot list the node devices of %s: %s",
				   s->uri, lv->virGetLastErrorMessage());
	all = calloc((size_t)nd + 1, sizeof(*all));
	for (k = 0; k < nd; k++) {
		char *xml = all ? lv->virNodeDeviceGetXMLDesc(devs[k], 0) : NULL;

		if (xml && parse_pci(s->x, xml, &all[n]))
			n++;
		free(xml);
		lv->virNodeDeviceFree(devs[k]);
	}
	free(devs);
	if (!all)
		return snap_fail(s, ENOMEM, "node devices");
	for (i = 0; i < n; i++) {
		const struct rnode *p = parent_of(&all[i], all, n);

		if (p)
			snprintf(all[i].dir, sizeof(all[i].dir), "devices/pci%.4s:00/%s/%s", all[i].addr,
				 p->addr, all[i].addr);
		else
			snprintf(all[i].dir, sizeof(all[i].dir), "devices/pci%.4s:00/%s", all[i].addr,
				 all[i].addr);
	}
	for (i = 0; i < n && r == 0; i++)
		r = write_device(s, &all[i]);
	free(all);
	return r < 0 ? r : (int)n;
}

/* ------------------------------------------------------------ CPUs */

/* CPU @cpu of package @pkg, die @die, core @core, its thread siblings @sibs. */
static int write_cpu(struct snap *s, unsigned int cpu, unsigned int pkg, unsigned int die,
		     unsigned int core, const char *sibs, struct sbuf *online)
{
	char rel[160];
	int r;

	snprintf(rel, sizeof(rel), "sys/devices/system/cpu/cpu%u/topology/physical_package_id", cpu);
	if ((r = snap_printf(s, rel, "%u\n", pkg)) < 0)
		return r;
	snprintf(rel, sizeof(rel), "sys/devices/system/cpu/cpu%u/topology/die_id", cpu);
	if ((r = snap_printf(s, rel, "%u\n", die)) < 0)
		return r;
	snprintf(rel, sizeof(rel), "sys/devices/system/cpu/cpu%u/topology/core_id", cpu);
	if ((r = snap_printf(s, rel, "%u\n", core)) < 0)
		return r;
	snprintf(rel, sizeof(rel), "sys/devices/system/cpu/cpu%u/topology/thread_siblings_list", cpu);
	if ((r = snap_printf(s, rel, "%s\n", sibs)) < 0)
		return r;
	sbuf_addf(online, "%s%u", online->len ? "," : "", cpu);
	return 0;
}

static int write_node_cpus(struct snap *s, unsigned int node, const char *list)
{
	char rel[80];

	snprintf(rel, sizeof(rel), "sys/devices/system/node/node%u/cpulist", node);
	return snap_printf(s, rel, "%s\n", list);
}

/* The capabilities' NUMA cells: the CPUs written; 0 when there are none. */
static int cpus_from_cells(struct snap *s, xmlNodePtr cells, struct sbuf *online)
{
	const struct xml_api *x = s->x;
	xmlNodePtr cell, cpu;
	int n = 0, r;

	for (cell = cells ? cells->children : NULL; cell; cell = cell->next) {
		struct sbuf list = { 0 };
		unsigned int id, cid, pkg = 0, die = 0, core;
		char sibs[256];

		if (cell->type != XML_ELEMENT_NODE || !num_of(x, cell, "id", 1023, &id))
			continue;
		for (cpu = child(x, child(x, cell, "cpus"), "cpu"); cpu; cpu = cpu->next) {
			if (cpu->type != XML_ELEMENT_NODE || !num_of(x, cpu, "id", VFK_MAX_CPUS - 1, &cid))
				continue;
			num_of(x, cpu, "socket_id", 1u << 20, &pkg);
			num_of(x, cpu, "die_id", 1u << 20, &die);
			core = cid;
			num_of(x, cpu, "core_id", 1u << 20, &core);
			if (!text_of(x, cpu, "siblings", sibs, sizeof(sibs)))
				snprintf(sibs, sizeof(sibs), "%u", cid);
			r = write_cpu(s, cid, pkg, die, core, sibs, online);
			if (r < 0) {
				sbuf_free(&list);
				return r;
			}
			sbuf_addf(&list, "%s%u", list.len ? "," : "", cid);
			n++;
		}
		r = write_node_cpus(s, id, list.len ? list.s : "");
		sbuf_free(&list);
		if (r < 0)
			return r;
	}
	return n;
}

/* Without cells (libvirt's test driver has none): virNodeGetInfo's counts,
 * numbered node by node, socket by socket, core by core. */
static int cpus_from_info(struct snap *s, const virNodeInfo *info, struct sbuf *online)
{
	unsigned int nodes = info->nodes ? info->nodes : 1, node, sock, core, t, cpu = 0;
	int r;

	if ((unsigned long long)nodes * info->sockets * info->cores * info->threads > VFK_MAX_CPUS)
		return launch_fail(s->err, s->errsize, EIO, "%s reports more CPUs than vfiokit plans for",
				   s->uri);
	for (node = 0; node < nodes; node++) {
		struct sbuf list = { 0 };

		for (sock = 0; sock < info->sockets; sock++)
			for (core = 0; core < info->cores; core++) {
				char sibs[32];

				snprintf(sibs, sizeof(sibs), "%u-%u", cpu, cpu + info->threads - 1);
				for (t = 0; t < info->threads; t++, cpu++) {
					r = write_cpu(s, cpu, node * info->sockets + sock, 0, core, sibs,
						      online);
					if (r < 0) {
						sbuf_free(&list);
						return r;
					}
					sbuf_addf(&list, "%s%u", list.len ? "," : "", cpu);
				}
			}
		r = write_node_cpus(s, node, list.len ? list.s : "");
		sbuf_free(&list);
		if (r < 0)
			return r;
	}
	return (int)cpu;
}

/* Does a guest of the capabilities run under KVM? */
static bool caps_have_kvm(const struct xml_api *x, xmlNodePtr root)
{
	xmlNodePtr g, a, d;
	char type[16];

	for (g = root ? root->children : NULL; g; g = g->next) {
		if (g->type != XML_ELEMENT_NODE || !x->xmlStrEqual(g->name, BAD_CAST "guest"))
			continue;
		for (a = child(x, g, "arch"); a; a = a->next)
			for (d = a->type == XML_ELEMENT_NODE ? a->children : NULL; d; d = d->next)
				if (d->type == XML_ELEMENT_NODE &&
				    x->xmlStrEqual(d->name, BAD_CAST "domain") &&
				    text_of(x, d, "type", type, sizeof(type)) && streq(type, "kvm"))
					return true;
	}
	return false;
}

/* CPU topology, NUMA nodes, CPU vendor, memory and /dev/kvm. */
static int snap_host(struct snap *s, const struct libvirt_api *lv, virConnectPtr c)
{
	const struct xml_api *x = s->x;
	_cleanup_free_ char *caps = lv->virConnectGetCapabilities(c);
	xmlDocPtr doc;
	xmlNodePtr root, host;
	struct sbuf online = { 0 };
	virNodeInfo info;
	char vendor[64] = "";
	int r, n;

	if (!caps || lv->virNodeGetInfo(c, &info) < 0)
		return launch_fail(s->err, s->errsize, EIO, "cannot read the capabilities of %s: %s",
				   s->uri, lv->virGetLastErrorMessage());
	doc = x->xmlReadMemory(caps, (int)strlen(caps), "capabilities.xml", NULL,
			       XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	root = doc ? x->xmlDocGetRootElement(doc) : NULL;
	if (!root) {
		if (doc)
			x->xmlFreeDoc(doc);
		return launch_fail(s->err, s->errsize, EIO, "the capabilities of %s do not parse", s->uri);
	}
	host = child(x, root, "host");
	text_of(x, child(x, child(x, host, "cpu"), "vendor"), NULL, vendor, sizeof(vendor));
	n = cpus_from_cells(s, child(x, child(x, host, "topology"), "cells"), &online);
	if (n == 0)
		n = cpus_from_info(s, &info, &online);
	r = n < 0 ? n : snap_printf(s, "sys/devices/system/cpu/online", "%s\n",
				    online.len ? online.s : "");
	if (r == 0)
		r = snap_printf(s, "proc/cpuinfo", "processor\t: 0\nvendor_id\t: %s\n\n",
				streq(vendor, "Intel") ? "GenuineIntel"
				: streq(vendor, "AMD") ? "AuthenticAMD" : vendor);
	if (r == 0)
		r = snap_printf(s, "proc/meminfo", "MemTotal:       %lu kB\nMemFree:        %lu kB\n"
				"MemAvailable:   %lu kB\n", info.memory, info.memory, info.memory);
	if (r == 0 && caps_have_kvm(x, root))
		r = snap_write(s, "dev/kvm", "", 0);
	x->xmlFreeDoc(doc);
	sbuf_free(&online);
	return r;
}

/* ------------------------------------------------------------ API */

static int remove_entry(const char *path, const struct stat *st _unused_, int flag _unused_,
			struct FTW *ftw _unused_)
{
	remove(path);
	return 0;
}

/* The snapshot of @uri in a new directory @s->root. */
static int snapshot(struct snap *s)
{
	const struct libvirt_api *lv;
	const char *tmp = secure_getenv("TMPDIR");
	char why[512];
	virConnectPtr c;
	int r;

	s->x = xml_api(why, sizeof(why));
	if (!s->x)
		return launch_fail(s->err, s->errsize, ELIBACC, "%s", why);
	c = lv_connect(s->uri, &lv, s->err, s->errsize);
	if (!c)
		return lv ? -ECONNREFUSED : -ELIBACC;
	snprintf(s->root, sizeof(s->root), "%s/vfiokit-remote.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(s->root)) {
		r = snap_fail(s, errno, s->root);
		s->root[0] = '\0';
	} else {
		r = snap_pci(s, lv, c);
		if (r >= 0)
			r = snap_host(s, lv, c);
		if (r < 0)
			nftw(s->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	lv->virConnectClose(c);
	return r < 0 ? r : 0;
}

bool vfk_libvirt_uri_is_local(const char *uri)
{
	return lv_uri_is_local(uri);
}

int vfk_ctx_new_remote(struct vfk_ctx *local, const char *uri, struct vfk_ctx **out, char *err,
		       size_t errsize)
{
	struct snap s = { .uri = uri, .err = err, .errsize = errsize };
	struct vfk_ctx *ctx;
	int r;

	if (err && errsize)
		err[0] = '\0';
	if (!local || !uri || !out)
		return launch_fail(err, errsize, EINVAL, "no host context or URI");
	*out = NULL;
	r = snapshot(&s);
	if (r < 0)
		return r;
	r = vfk_ctx_new(s.root, &ctx);
	if (r == 0 && !(ctx->remote_uri = strdup(uri))) {
		vfk_ctx_unref(ctx);
		r = -ENOMEM;
	}
	if (r < 0) {
		nftw(s.root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
		return launch_fail(err, errsize, -r, "a context on the snapshot of %s: %s", uri,
				   strerror(-r));
	}
	ctx->local = vfk_ctx_ref(local);
	/* the snapshot describes that host; the VMs' records stay in @local */
	vfk_ctx_set_user_mode(ctx, false, NULL, NULL);
	ctx->log_fn = local->log_fn;
	ctx->log_data = local->log_data;
	ctx->log_priority = local->log_priority;
	*out = ctx;
	return 0;
}
