/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mediated devices (vGPUs) behind one model, for the two interfaces a host
 * may have:
 *
 *  classic     <sysroot>/sys/class/mdev_bus/<parent>/mdev_supported_types/<id>/
 *                  name description available_instances device_api create devices/
 *              <sysroot>/sys/bus/mdev/devices/<uuid> -> .../<parent>/<uuid>/
 *                  mdev_type -> ../mdev_supported_types/<id>, iommu_group, remove
 *  nvidia-vf   <sysroot>/sys/bus/pci/devices/<VF>/nvidia/
 *                  creatable_vgpu_types ("1414 : NVIDIA L4-2Q" lines)
 *                  current_vgpu_type    (0 = free; write an id to create, 0 to free)
 *
 * Everything is read through directory fds below the sysroot; every write
 * passes vfk_host_write*() so dry runs and tests see it. Definitions are
 * mdevctl's JSON files (etc/mdevctl.d/<parent>/<uuid>) and, for per-VF
 * vGPUs, the same schema in etc/vfiokit/vgpu/<VF>. They are read strictly,
 * since boot starts vGPUs from them unattended: a damaged file is kept as
 * "broken" with "PATH:LINE: what", reported, and never acted on.
 *
 * Layer mdev/: owns mediated devices (vGPUs) and SR-IOV VFs. May call bind/
 * (the lock, the journal's devices), inventory/ and core/ (lib/README.md).
 */
#include <ctype.h>
#include <dirent.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <uuid/uuid.h>

#include "bind/journal.h"
#include "mdev/mdev.h"

#define VGPU_DIR "vgpu"			/* below VFK_ROOT_ETC */

struct vgpu_vf {
	char addr[16];
	unsigned int current;	/* vGPU type id, 0 = free */
	int group;
	unsigned int *creatable;
	size_t ncreatable;
};

struct vfk_mdev_type {
	struct vfk_mdev_parent *parent;
	char *id, *name, *description, *device_api;
	unsigned int available, instances;
	unsigned int fb_mb, heads, max_instances;
	unsigned int vgpu_id;	/* per-VF interface: the numeric id */
};

struct vfk_mdev_parent {
	char *name, *driver;
	enum vfk_mdev_kind kind;
	struct vfk_mdev_type **types;
	size_t ntypes;
	struct vgpu_vf *vfs;	/* per-VF interface only */
	size_t nvfs;
};

struct vfk_mdev_instance {
	char id[VFK_MDEV_ID_SIZE];
	enum vfk_mdev_kind kind;
	char *parent, *type_id, *type_name, *sysfs_path;
	int group;
	bool active, defined, autostart;
};

/* A definition file refused: reported, never acted on. */
struct mdev_bad {
	enum vfk_mdev_kind kind;
	char parent[64];	/* the directory's name; a per-VF vGPU's PF once scanned */
	char id[VFK_MDEV_ID_SIZE];
	char name[VFK_MDEV_ID_SIZE];	/* the file's name as on disk */
	char *error;		/* "PATH:LINE: what" */
};

struct vfk_mdevs {
	int refcount;
	struct vfk_ctx *ctx;
	struct vfk_mdev_parent **parents;
	size_t nparents;
	struct vfk_mdev_instance **instances;
	size_t ninstances;
	struct mdev_bad *bad;
	size_t nbad;
};

/* One of mdevctl's attrs: written to the new mdev's sysfs file @name. */
struct mdev_attr {
	char name[64];
	char *value;
};

/* A definition file, mdevctl's schema. */
struct mdev_def {
	enum vfk_mdev_kind kind;
	char parent[64];
	char id[VFK_MDEV_ID_SIZE];
	char name[VFK_MDEV_ID_SIZE];	/* the file's name as on disk */
	char type[128];
	bool autostart;
	struct mdev_attr *attrs;	/* owned, written in this order */
	size_t nattrs;
};

/* Every definition file: those that parsed and those refused. */
struct mdev_defs {
	struct mdev_def *v;
	size_t n;
	struct mdev_bad *bad;
	size_t nbad;
};

/* ------------------------------------------------------------ helpers */

int op_error(char *buf, size_t size, int err, const char *fmt, ...)
{
	va_list ap;

	if (buf && size) {
		va_start(ap, fmt);
		vsnprintf(buf, size, fmt, ap);
		va_end(ap);
	}
	return neg_errno(err);
}

static int narrate_hook(void *data, const char *path, const char *value)
{
	struct vfk_ctx *ctx = data;
	const char *nl = strchr(value, '\n');

	if (nl && nl[1])
		vfk_progress(ctx, "%s <- (file, %zu bytes)", path, strlen(value));
	else
		vfk_progress(ctx, "%s <- %.*s", path, (int)strcspn(value, "\n"), value);
	return 1;
}

void op_begin(struct vfk_ctx *ctx, bool dry, struct op_hook *save)
{
	save->hook = ctx->write_hook;
	save->data = ctx->write_data;
	save->dry = dry;
	if (dry)
		vfk_ctx_set_write_hook(ctx, narrate_hook, ctx);
}

void op_end(struct vfk_ctx *ctx, const struct op_hook *save)
{
	vfk_ctx_set_write_hook(ctx, save->hook, save->data);
}

/* Parent and type names end up in paths: a plain sysfs name, nothing else. */
static bool name_ok(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (n == 0 || n >= max || streq(s, ".") || streq(s, ".."))
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr(":._-", s[i]))
			return false;
	return true;
}

/* Canonical lower-case UUID into @out (37 bytes); -EINVAL when malformed. */
static int uuid_norm(const char *in, char *out)
{
	uuid_t u;

	if (strlen(in) != 36 || uuid_parse(in, u) < 0)
		return neg_errno(EINVAL);
	uuid_unparse_lower(u, out);
	return 0;
}

static bool is_uuid(const char *s)
{
	char tmp[37];

	return uuid_norm(s, tmp) == 0;
}

/* A PCI address in canonical form into @out (16 bytes). */
static bool pci_norm(const char *in, char *out)
{
	struct vfk_pci_addr a;

	if (vfk_pci_addr_parse(in, &a) < 0)
		return false;
	vfk_pci_addr_format(&a, out, 16);
	return true;
}

static char *xstrdup0(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int cmp_version(const char *a, const char *b)
{
	return strverscmp(a, b);
}

/*
 * Read a sysfs text file below @dfd into a new string: NULL when absent or
 * unreadable, which includes a FIFO or anything else that is no regular file
 * and, on a captured tree, a file that lies outside the sysroot.
 */
static char *read_str(struct vfk_ctx *ctx, int dfd, const char *rel, size_t max)
{
	_cleanup_free_ char *buf = malloc(max);

	if (!buf || vfk_read_in(ctx, dfd, rel, buf, max) < 0)
		return NULL;
	return TAKE_PTR(buf);
}

static int read_uint(struct vfk_ctx *ctx, int dfd, const char *rel, unsigned int *out)
{
	long v;
	int r = vfk_read_long_in(ctx, dfd, rel, &v);

	if (r < 0)
		return r;
	if (v < 0 || v > (long)UINT_MAX)
		return neg_errno(ERANGE);
	*out = (unsigned int)v;
	return 0;
}

static int link_group(int dfd, const char *rel)
{
	char buf[32], *end;
	long v;

	if (vfk_readlink_base_at(dfd, rel, buf, sizeof(buf)) < 0)
		return -1;
	v = strtol(buf, &end, 10);
	return (*end || v < 0 || v > INT_MAX) ? -1 : (int)v;
}

/* ----------------------------------------------------- types and parents */

static void type_free(struct vfk_mdev_type *t)
{
	if (!t)
		return;
	free(t->id);
	free(t->name);
	free(t->description);
	free(t->device_api);
	free(t);
}

static void parent_free(struct vfk_mdev_parent *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->ntypes; i++)
		type_free(p->types[i]);
	for (i = 0; i < p->nvfs; i++)
		free(p->vfs[i].creatable);
	free(p->types);
	free(p->vfs);
	free(p->name);
	free(p->driver);
	free(p);
}

static void parent_freep(struct vfk_mdev_parent **p)
{
	parent_free(*p);
}

static struct vfk_mdev_parent *parent_new(const char *name, enum vfk_mdev_kind kind,
					  const char *driver)
{
	struct vfk_mdev_parent *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->kind = kind;
	p->name = strdup(name);
	p->driver = xstrdup0(driver);
	if (!p->name || (driver && !p->driver)) {
		parent_free(p);
		return NULL;
	}
	return p;
}

static struct vfk_mdev_type *parent_type_by_id(const struct vfk_mdev_parent *p, const char *id)
{
	size_t i;

	for (i = 0; i < p->ntypes; i++)
		if (streq(p->types[i]->id, id))
			return p->types[i];
	return NULL;
}

static struct vfk_mdev_type *parent_add_type(struct vfk_mdev_parent *p, const char *id)
{
	struct vfk_mdev_type *t, **n;

	t = parent_type_by_id(p, id);
	if (t)
		return t;
	n = realloc(p->types, (p->ntypes + 1) * sizeof(*n));
	if (!n)
		return NULL;
	p->types = n;
	t = calloc(1, sizeof(*t));
	if (!t || !(t->id = strdup(id))) {
		free(t);
		return NULL;
	}
	t->parent = p;
	p->types[p->ntypes++] = t;
	return t;
}

/* Id, then name (any case), then the id's part after the driver prefix. */
static struct vfk_mdev_type *parent_match_type(const struct vfk_mdev_parent *p, const char *want)
{
	size_t i;

	if (!want || !*want)
		return NULL;
	for (i = 0; i < p->ntypes; i++)
		if (streq(p->types[i]->id, want))
			return p->types[i];
	for (i = 0; i < p->ntypes; i++)
		if (p->types[i]->name && !strcasecmp(p->types[i]->name, want))
			return p->types[i];
	for (i = 0; i < p->ntypes; i++) {
		const char *dash = strchr(p->types[i]->id, '-');
		if (dash && streq(dash + 1, want))
			return p->types[i];
	}
	return NULL;
}

static unsigned int num_after(const char *s, const char *key)
{
	const char *p = strstr(s, key);

	return p ? (unsigned int)strtoul(p + strlen(key), NULL, 10) : 0;
}

/* Sizes and heads, from what each driver family puts in its description. */
static void type_derive(struct vfk_mdev_type *t)
{
	const char *d = t->description ? t->description : "";
	const char *p;

	if ((p = strstr(d, "framebuffer="))) {
		char *end;
		unsigned long v = strtoul(p + 12, &end, 10);
		t->fb_mb = (unsigned int)(*end == 'G' ? v * 1024 : v);
	}
	t->heads = num_after(d, "num_heads=");
	t->max_instances = num_after(d, "max_instance=");
	if (strstr(d, "low_gm_size:") && strstr(d, "high_gm_size:")) {	/* GVT-g */
		t->fb_mb = num_after(d, "low_gm_size:") + num_after(d, "high_gm_size:");
		t->heads = 1;
	}
	if (!t->fb_mb) {	/* "virtual display, 4 MB video memory" */
		for (p = d; *p; p++)
			if (isdigit((unsigned char)*p) && (p == d || !isalnum((unsigned char)p[-1]))) {
				char *end;
				unsigned long v = strtoul(p, &end, 10);
				while (*end == ' ')
					end++;
				if (startswith(end, "MB")) {
					t->fb_mb = (unsigned int)v;
					break;
				}
				p = end - 1;
			}
	}
	if (!t->heads && strstr(d, "display"))
		t->heads = 1;
	/* NVIDIA names carry the size: "GRID T4-2Q" (GB), "NVIDIA A100-1-5C" */
	if (startswith(t->id, "nvidia-") && t->name && (p = strrchr(t->name, '-')) &&
	    isdigit((unsigned char)p[1])) {
		char *end;
		unsigned long v = strtoul(p + 1, &end, 10);
		if (isalpha((unsigned char)*end)) {
			if (!t->fb_mb)
				t->fb_mb = (unsigned int)v * 1024;
			if (!t->description)	/* per-VF: no num_heads; C = compute */
				t->heads = toupper((unsigned char)*end) == 'C' ? 0 : 1;
		}
	}
	if (!t->max_instances)
		t->max_instances = t->available + t->instances;
}

static int cmp_type(const void *a, const void *b)
{
	return cmp_version((*(struct vfk_mdev_type *const *)a)->id,
			   (*(struct vfk_mdev_type *const *)b)->id);
}

/* A directory stream over @rel below @dfd ("" = @dfd itself), leaving @dfd
 * open for *at() calls. NULL when absent, unreadable or outside the sysroot. */
static DIR *dir_at(struct vfk_ctx *ctx, int dfd, const char *rel)
{
	DIR *d;
	int fd;

	if (dfd < 0)
		return NULL;
	fd = vfk_open_dir_in(ctx, dfd, rel);
	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (!d)
		close(fd);
	return d;
}

static int count_entries(struct vfk_ctx *ctx, int dfd, const char *rel)
{
	_cleanup_closedir_ DIR *d = dir_at(ctx, dfd, rel);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	return n;
}

/* A classic parent from its directory (class/mdev_bus/<name>, links followed). */
static int load_classic(struct vfk_ctx *ctx, const char *name, int pfd,
			struct vfk_mdev_parent **out)
{
	_cleanup_(parent_freep) struct vfk_mdev_parent *p = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	char drv[64];
	_cleanup_close_ int tfd = -1;

	if (vfk_readlink_base_at(pfd, "driver", drv, sizeof(drv)) < 0)
		drv[0] = '\0';
	p = parent_new(name, VFK_MDEV_CLASSIC, *drv ? drv : NULL);
	if (!p)
		return neg_errno(ENOMEM);
	tfd = vfk_open_dir_in(ctx, pfd, "mdev_supported_types");
	d = dir_at(ctx, tfd, "");
	while (d && (e = readdir(d))) {
		struct vfk_mdev_type *t;
		char rel[320];
		if (e->d_name[0] == '.' || !name_ok(e->d_name, 128))
			continue;
		t = parent_add_type(p, e->d_name);
		if (!t)
			return neg_errno(ENOMEM);
		snprintf(rel, sizeof(rel), "%s/name", e->d_name);
		t->name = read_str(ctx, tfd, rel, 256);
		snprintf(rel, sizeof(rel), "%s/description", e->d_name);
		t->description = read_str(ctx, tfd, rel, 2048);
		snprintf(rel, sizeof(rel), "%s/device_api", e->d_name);
		t->device_api = read_str(ctx, tfd, rel, 64);
		snprintf(rel, sizeof(rel), "%s/available_instances", e->d_name);
		if (read_uint(ctx, tfd, rel, &t->available) < 0)
			dbg(ctx, "%s: %s has no readable available_instances", name, e->d_name);
		snprintf(rel, sizeof(rel), "%s/devices", e->d_name);
		t->instances = (unsigned int)count_entries(ctx, tfd, rel);
		if (t->name && !*t->name) {
			free(t->name);
			t->name = NULL;
		}
		type_derive(t);
	}
	qsort_safe(p->types, p->ntypes, sizeof(*p->types), cmp_type);
	*out = TAKE_PTR(p);
	return 0;
}

/* "1414 : NVIDIA L4-2Q" lines; each id (and name, if new) into @p. */
static int parse_creatable(struct vfk_mdev_parent *p, struct vgpu_vf *vf, const char *text)
{
	const char *line = text;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[256], id[32], *colon, *name;
		unsigned long v;
		struct vfk_mdev_type *t;

		snprintf(buf, sizeof(buf), "%.*s", (int)(len < 255 ? len : 255), line);
		line = nl ? nl + 1 : NULL;
		colon = strchr(buf, ':');
		if (!colon)
			continue;
		*colon = '\0';
		v = strtoul(buf, NULL, 10);
		if (v == 0 || v > 0xffffffUL)
			continue;
		for (name = colon + 1; *name == ' ' || *name == '\t'; name++)
			;
		name[strcspn(name, "\r")] = '\0';
		snprintf(id, sizeof(id), "nvidia-%lu", v);
		t = parent_add_type(p, id);
		if (!t)
			return -ENOMEM;
		t->vgpu_id = (unsigned int)v;
		if (!t->name && *name && !(t->name = strdup(name)))
			return -ENOMEM;
		if (vf) {
			unsigned int *n = realloc(vf->creatable, (vf->ncreatable + 1) * sizeof(*n));
			if (!n)
				return -ENOMEM;
			vf->creatable = n;
			vf->creatable[vf->ncreatable++] = (unsigned int)v;
		}
	}
	return 0;
}

bool vgpu_vf_present(struct vfk_ctx *ctx, const char *addr, unsigned int *current)
{
	_cleanup_close_ int dfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_PCI_DEVICES);
	char rel[96];
	unsigned int cur = 0;

	if (dfd < 0)
		return false;
	snprintf(rel, sizeof(rel), "%s/nvidia/creatable_vgpu_types", addr);
	if (!vfk_exists_at(dfd, rel))
		return false;
	snprintf(rel, sizeof(rel), "%s/nvidia/current_vgpu_type", addr);
	if (read_uint(ctx, dfd, rel, &cur) < 0)
		cur = 0;
	if (current)
		*current = cur;
	return true;
}

static int add_vf(struct vfk_ctx *ctx, struct vfk_mdev_parent *p, int devfd, const char *addr)
{
	struct vgpu_vf *n, *vf;
	_cleanup_free_ char *text = NULL;
	char rel[96];
	int r;

	n = realloc(p->vfs, (p->nvfs + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	p->vfs = n;
	vf = &p->vfs[p->nvfs++];
	memset(vf, 0, sizeof(*vf));
	snprintf(vf->addr, sizeof(vf->addr), "%s", addr);
	snprintf(rel, sizeof(rel), "%s/nvidia/current_vgpu_type", addr);
	if (read_uint(ctx, devfd, rel, &vf->current) < 0)
		vf->current = 0;
	snprintf(rel, sizeof(rel), "%s/iommu_group", addr);
	vf->group = link_group(devfd, rel);
	snprintf(rel, sizeof(rel), "%s/nvidia/creatable_vgpu_types", addr);
	text = read_str(ctx, devfd, rel, 16384);
	r = parse_creatable(p, vf, text ? text : "");
	if (r < 0)
		return r;
	if (vf->current) {
		struct vfk_mdev_type *t;
		snprintf(rel, sizeof(rel), "nvidia-%u", vf->current);
		t = parent_add_type(p, rel);
		if (!t)
			return -ENOMEM;
		t->vgpu_id = vf->current;
		t->instances++;
	} else {
		size_t i;
		for (i = 0; i < vf->ncreatable; i++) {
			snprintf(rel, sizeof(rel), "nvidia-%u", vf->creatable[i]);
			parent_type_by_id(p, rel)->available++;
		}
	}
	return 0;
}

static int cmp_vf(const void *a, const void *b)
{
	return strcmp(((const struct vgpu_vf *)a)->addr, ((const struct vgpu_vf *)b)->addr);
}

/*
 * The per-VF parent @pf: every device whose physfn is @pf (or @pf itself)
 * and that carries nvidia/creatable_vgpu_types; with @only_vf just that VF.
 * -ENODEV when none does.
 */
static int load_vf_parent(struct vfk_ctx *ctx, const char *pf, const char *only_vf,
			  struct vfk_mdev_parent **out)
{
	_cleanup_(parent_freep) struct vfk_mdev_parent *p = NULL;
	_cleanup_close_ int devfd = -1;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	char drv[64], rel[96], phys[32];
	size_t i;
	int r;

	devfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_PCI_DEVICES);
	if (devfd < 0)
		return neg_errno(ENODEV);
	snprintf(rel, sizeof(rel), "%s/driver", pf);
	if (vfk_readlink_base_at(devfd, rel, drv, sizeof(drv)) < 0)
		drv[0] = '\0';
	p = parent_new(pf, VFK_MDEV_NVIDIA_VF, *drv ? drv : NULL);
	if (!p)
		return neg_errno(ENOMEM);
	d = dir_at(ctx, devfd, "");
	while (d && (e = readdir(d))) {
		char addr[16];
		if (!pci_norm(e->d_name, addr) || !streq(addr, e->d_name) ||
		    (only_vf && !streq(addr, only_vf)))
			continue;
		snprintf(rel, sizeof(rel), "%s/nvidia/creatable_vgpu_types", addr);
		if (!vfk_exists_at(devfd, rel))
			continue;
		snprintf(rel, sizeof(rel), "%s/physfn", addr);
		if (vfk_readlink_base_at(devfd, rel, phys, sizeof(phys)) < 0)
			snprintf(phys, sizeof(phys), "%s", addr);
		if (!streq(phys, pf))
			continue;
		r = add_vf(ctx, p, devfd, addr);
		if (r < 0)
			return neg_errno(r);
	}
	if (!p->nvfs)
		return neg_errno(ENODEV);
	qsort_safe(p->vfs, p->nvfs, sizeof(*p->vfs), cmp_vf);
	for (i = 0; i < p->ntypes; i++)
		type_derive(p->types[i]);
	qsort_safe(p->types, p->ntypes, sizeof(*p->types), cmp_type);
	*out = TAKE_PTR(p);
	return 0;
}

/* The PF of @addr when @addr carries the per-VF files, or of its VFs. */
static bool vf_parent_of(struct vfk_ctx *ctx, const char *addr, char *pf, size_t size,
			 bool *is_vf)
{
	_cleanup_close_ int devfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_PCI_DEVICES);
	char rel[96], vf[32];

	if (devfd < 0)
		return false;
	if (vgpu_vf_present(ctx, addr, NULL)) {
		snprintf(rel, sizeof(rel), "%s/physfn", addr);
		if (vfk_readlink_base_at(devfd, rel, pf, size) < 0)
			snprintf(pf, size, "%s", addr);
		*is_vf = !streq(pf, addr);
		return true;
	}
	snprintf(rel, sizeof(rel), "%s/virtfn0", addr);
	if (vfk_readlink_base_at(devfd, rel, vf, sizeof(vf)) > 0 && vgpu_vf_present(ctx, vf, NULL)) {
		snprintf(pf, size, "%s", addr);
		*is_vf = false;
		return true;
	}
	return false;
}

/* ------------------------------------------------------ definitions */

#define DEF_MAX 16384		/* mdevctl writes a few hundred bytes */
#define ATTR_VALUE_MAX 4095	/* what one sysfs write carries (a page, NUL-terminated) */

static void def_clear(struct mdev_def *d)
{
	size_t i;

	for (i = 0; i < d->nattrs; i++)
		free(d->attrs[i].value);
	free(d->attrs);
	d->attrs = NULL;
	d->nattrs = 0;
}

static void bads_free(struct mdev_bad *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(b[i].error);
	free(b);
}

static void defs_free(struct mdev_defs *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		def_clear(&s->v[i]);
	free(s->v);
	bads_free(s->bad, s->nbad);
	memset(s, 0, sizeof(*s));
}

/* Up to 40 bytes of file text for a message, control and non-ASCII bytes as
 * '?': a damaged file must not drive the terminal the error is shown on. */
static const char *shown(const char *s, char *buf, size_t size)
{
	size_t i;

	for (i = 0; s[i] && i < 40 && i + 1 < size; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

/*
 * mdevctl's JSON, read strictly and for this schema only: every byte must
 * belong to it, every error names its line. A general JSON parser would
 * take a duplicate key silently (the last wins) and knows no lines.
 */
struct jin {
	const char *p, *end;
	unsigned int line;
	const char *path;
	char *err;
	size_t errsize;
};

/* "PATH:LINE: what" into the error buffer; -EBADMSG. */
__attribute__((format(printf, 2, 3)))
static int jfail(struct jin *j, const char *fmt, ...)
{
	char what[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(j->err, j->errsize, "%s:%u: %s", j->path, j->line, what);
	return neg_errno(EBADMSG);
}

static void jblank(struct jin *j)
{
	for (; j->p < j->end; j->p++) {
		if (*j->p == '\n')
			j->line++;
		else if (*j->p != ' ' && *j->p != '\t' && *j->p != '\r')
			break;
	}
}

/* Take @c if it comes next, after blanks. */
static bool jtake(struct jin *j, char c)
{
	jblank(j);
	if (j->p < j->end && *j->p == c) {
		j->p++;
		return true;
	}
	return false;
}

/* What comes next, for "expected X, found Y". */
static const char *jnext(const struct jin *j)
{
	if (j->p >= j->end)
		return "the end of the file (cut short?)";
	switch (*j->p) {
	case '"': return "a string";
	case '{': return "an object";
	case '[': return "an array";
	case 't': case 'f': return "a boolean";
	case 'n': return "null";
	case '}': return "'}'";
	case ']': return "']'";
	case ',': return "','";
	case ':': return "':'";
	default:
		return *j->p == '-' || isdigit((unsigned char)*j->p) ? "a number" : "a byte that is not JSON";
	}
}

static int junescape(struct jin *j, const char *what, unsigned int *c)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *at;
	char hex[5], *end;

	if (j->p >= j->end)
		return jfail(j, "%s: the string is not closed (cut short?)", what);
	if (*j->p != 'u') {
		if (!*j->p || !(at = strchr(from, *j->p)))
			return jfail(j, "%s: unknown escape in a string", what);
		*c = (unsigned char)to[at - from];
		j->p++;
		return 0;
	}
	if (j->end - j->p < 5)
		return jfail(j, "%s: the string is not closed (cut short?)", what);
	memcpy(hex, j->p + 1, 4);
	hex[4] = '\0';
	*c = (unsigned int)strtoul(hex, &end, 16);
	if (end != hex + 4 || !isxdigit((unsigned char)hex[0]))
		return jfail(j, "%s: \\u needs four hex digits", what);
	j->p += 5;
	return 0;
}

/* A JSON string into @out: ASCII, as everything in the schema is. */
static int jstring(struct jin *j, char *out, size_t size, const char *what)
{
	size_t n = 0;
	int r;

	if (!jtake(j, '"'))
		return jfail(j, "%s: expected a string, found %s", what, jnext(j));
	for (;;) {
		unsigned int c;
		if (j->p >= j->end)
			return jfail(j, "%s: the string is not closed (cut short?)", what);
		c = (unsigned char)*j->p++;
		if (c == '"')
			break;
		if (c < 0x20)
			return jfail(j, "%s: control byte 0x%02x inside a string", what, c);
		if (c == '\\' && (r = junescape(j, what, &c)) < 0)
			return r;
		if (c == 0 || c > 0x7f)
			return jfail(j, "%s: a NUL or a character that is not ASCII", what);
		if (n + 1 >= size)
			return jfail(j, "%s: longer than %zu characters", what, size - 1);
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

static int def_type(struct jin *j, struct mdev_def *d)
{
	char b[48];
	int r = jstring(j, d->type, sizeof(d->type), "mdev_type");

	if (r == 0 && !name_ok(d->type, sizeof(d->type)))
		return jfail(j, "mdev_type \"%s\" is not a type id", shown(d->type, b, sizeof(b)));
	return r;
}

static int def_start(struct jin *j, struct mdev_def *d)
{
	char v[16], b[48];
	int r = jstring(j, v, sizeof(v), "start");

	if (r < 0)
		return r;
	if (!streq(v, "auto") && !streq(v, "manual"))
		return jfail(j, "start is \"%s\", not \"auto\" or \"manual\"", shown(v, b, sizeof(b)));
	d->autostart = streq(v, "auto");
	return 0;
}

/*
 * The files the mdev core itself puts in every instance's directory, never
 * an attribute: "remove" would end the instance, "uevent" fakes events, the
 * rest are links or directories.
 */
static bool attr_name_ok(const char *name)
{
	static const char *const core[] = { "remove", "uevent", "mdev_type", "iommu_group",
					    "driver", "subsystem", "power" };
	size_t i;

	if (!name_ok(name, sizeof(((struct mdev_attr *)0)->name)))
		return false;
	for (i = 0; i < ARRAY_SIZE(core); i++)
		if (streq(name, core[i]))
			return false;
	return true;
}

/* Printable ASCII, as vendor drivers' attributes take: no NUL to cut the
 * write short, no newline to make one value two. */
static bool attr_value_ok(const char *v)
{
	if (!*v)
		return false;
	for (; *v; v++)
		if (*v < 0x20 || *v > 0x7e)
			return false;
	return true;
}

static int def_add_attr(struct mdev_def *d, const char *name, const char *value)
{
	struct mdev_attr *a = realloc(d->attrs, (d->nattrs + 1) * sizeof(*a));

	if (!a)
		return neg_errno(ENOMEM);
	d->attrs = a;
	a += d->nattrs;
	snprintf(a->name, sizeof(a->name), "%s", name);
	if (!(a->value = strdup(value)))
		return neg_errno(ENOMEM);
	d->nattrs++;
	return 0;
}

/* One element of attrs: {"name": "value"}, exactly one member. */
static int def_attr(struct jin *j, struct mdev_def *d)
{
	char name[64], value[ATTR_VALUE_MAX + 1], what[96], b[48];
	size_t i = d->nattrs;
	int r;

	if (!jtake(j, '{'))
		return jfail(j, "attrs[%zu]: expected an object {\"name\": \"value\"}, found %s", i,
			     jnext(j));
	snprintf(what, sizeof(what), "attrs[%zu] name", i);
	if ((r = jstring(j, name, sizeof(name), what)) < 0)
		return r;
	if (!attr_name_ok(name))
		return jfail(j, "attrs[%zu]: \"%s\" is not an attribute an mdev's definition may set",
			     i, shown(name, b, sizeof(b)));
	if (!jtake(j, ':'))
		return jfail(j, "attrs[%zu]: expected ':' after \"%s\"", i, name);
	snprintf(what, sizeof(what), "attrs[%zu] %s", i, name);
	if ((r = jstring(j, value, sizeof(value), what)) < 0)
		return r;
	if (!attr_value_ok(value))
		return jfail(j, "%s: the value must be 1 to %d characters of printable ASCII", what,
			     ATTR_VALUE_MAX);
	if (jtake(j, ','))
		return jfail(j, "attrs[%zu]: one attribute per object in mdevctl's format", i);
	if (!jtake(j, '}'))
		return jfail(j, "attrs[%zu]: expected '}', found %s", i, jnext(j));
	return def_add_attr(d, name, value);
}

static int def_attrs(struct jin *j, struct mdev_def *d)
{
	int r;

	if (!jtake(j, '['))
		return jfail(j, "attrs: expected an array [{\"name\": \"value\"}, ...], found %s",
			     jnext(j));
	if (jtake(j, ']'))
		return 0;
	/* the per-VF interface has no mdev to write them to: they would be ignored */
	if (d->kind == VFK_MDEV_NVIDIA_VF)
		return jfail(j, "attrs: a per-VF vGPU takes no attributes");
	do
		if ((r = def_attr(j, d)) < 0)
			return r;
	while (jtake(j, ','));
	if (!jtake(j, ']'))
		return jfail(j, "attrs: expected ',' or ']', found %s", jnext(j));
	return 0;
}

/* One member of the top object; @seen holds the line each key was given on. */
static int def_member(struct jin *j, struct mdev_def *d, unsigned int seen[3])
{
	static const char *const keys[] = { "mdev_type", "start", "attrs" };
	char key[64], b[48];
	size_t k;
	int r;

	if ((r = jstring(j, key, sizeof(key), "key")) < 0)
		return r;
	for (k = 0; k < ARRAY_SIZE(keys) && !streq(key, keys[k]); k++)
		;
	if (k == ARRAY_SIZE(keys))
		return jfail(j, "unknown key \"%s\" (mdev_type, start, attrs)", shown(key, b, sizeof(b)));
	if (seen[k])
		return jfail(j, "%s given twice (first on line %u)", key, seen[k]);
	seen[k] = j->line;
	if (!jtake(j, ':'))
		return jfail(j, "expected ':' after \"%s\"", key);
	return k == 0 ? def_type(j, d) : k == 1 ? def_start(j, d) : def_attrs(j, d);
}

/*
 * Parse a definition: {"mdev_type": ID, "start": "auto"|"manual",
 * "attrs": [{NAME: VALUE}, ...]} (attrs optional, as mdevctl has it).
 * 0, -EBADMSG with "PATH:LINE: what" in @j->err, or -ENOMEM.
 */
static int def_parse(struct jin *j, struct mdev_def *d)
{
	unsigned int seen[3] = { 0 };
	int r;

	if (!jtake(j, '{'))
		return jfail(j, "expected a JSON object {\"mdev_type\": ..., \"start\": ...}, found %s",
			     jnext(j));
	if (!jtake(j, '}')) {
		do
			if ((r = def_member(j, d, seen)) < 0)
				return r;
		while (jtake(j, ','));
		if (!jtake(j, '}'))
			return jfail(j, "expected ',' or '}', found %s", jnext(j));
	}
	jblank(j);
	if (j->p < j->end)
		return jfail(j, "text after the definition's closing '}'");
	if (!seen[0])
		return jfail(j, "no mdev_type");
	if (!seen[1])
		return jfail(j, "no start (\"auto\" or \"manual\")");
	return 0;
}

/*
 * Read and parse the definition file @name below @dfd. It must be a regular
 * file inside the sysroot: a FIFO would block the boot, a symlink may point
 * anywhere (vfiokit and mdevctl write the files themselves). 0, -ENOMEM, or
 * -EBADMSG with the reason in @err.
 */
static int def_load(struct vfk_ctx *ctx, int dfd, const char *name, const char *path,
		    struct mdev_def *d, char *err, size_t errsize)
{
	_cleanup_free_ char *text = NULL;
	struct jin j = { .line = 1, .path = path, .err = err, .errsize = errsize };
	const char *why;
	size_t n = 0;
	int r;

	r = vfk_read_file_in(ctx, dfd, name, DEF_MAX - 1, &text, &n);
	switch (r) {
	case 0:
		j.p = text;
		j.end = text + n;
		return def_parse(&j, d);
	case -ENOMEM:
		return r;
	case -ELOOP: why = "is a symbolic link, not the file itself"; break;
	case -EISDIR: why = "is a directory, not a regular file"; break;
	case -EINVAL: why = "is a FIFO or special file, not a regular file"; break;
	case -EXDEV: why = "lies outside the sysroot"; break;
	case -EAGAIN: why = "changed while it was read"; break;
	case -EFBIG:
		return op_error(err, errsize, EBADMSG, "%s: larger than %d bytes", path, DEF_MAX - 1);
	default:
		why = strerror(-r);
		break;
	}
	return op_error(err, errsize, EBADMSG, "%s: %s", path, why);
}

static char *def_format(const struct mdev_def *d)
{
	json_object *root = json_object_new_object(), *attrs = json_object_new_array();
	char *text = NULL;
	size_t i;

	if (!root || !attrs) {
		json_object_put(root);
		json_object_put(attrs);
		return NULL;
	}
	json_object_object_add(root, "mdev_type", json_object_new_string(d->type));
	json_object_object_add(root, "start", json_object_new_string(d->autostart ? "auto" : "manual"));
	for (i = 0; i < d->nattrs; i++) {
		json_object *a = json_object_new_object();
		json_object_object_add(a, d->attrs[i].name, json_object_new_string(d->attrs[i].value));
		json_object_array_add(attrs, a);
	}
	json_object_object_add(root, "attrs", attrs);
	if (asprintf(&text, "%s\n",
		     json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							  JSON_C_TO_STRING_SPACED |
							  JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
		text = NULL;
	json_object_put(root);
	return text;
}

static int defs_add(struct mdev_defs *s, const struct mdev_def *d)
{
	struct mdev_def *nd = realloc(s->v, (s->n + 1) * sizeof(*nd));

	if (!nd)
		return neg_errno(ENOMEM);
	s->v = nd;
	nd[s->n++] = *d;
	return 0;
}

static int defs_add_bad(struct mdev_defs *s, const struct mdev_def *d, const char *error)
{
	struct mdev_bad *nb = realloc(s->bad, (s->nbad + 1) * sizeof(*nb));

	if (!nb)
		return neg_errno(ENOMEM);
	s->bad = nb;
	nb += s->nbad;
	nb->kind = d->kind;
	snprintf(nb->parent, sizeof(nb->parent), "%s", d->parent);
	snprintf(nb->id, sizeof(nb->id), "%s", d->id);
	snprintf(nb->name, sizeof(nb->name), "%s", d->name);
	if (!(nb->error = strdup(error)))
		return neg_errno(ENOMEM);
	s->nbad++;
	return 0;
}

/* Where a definition lives, for messages: the path on this host, sysroot included. */
static char *def_path(struct vfk_ctx *ctx, const struct mdev_def *d)
{
	char rel[160];

	if (d->kind == VFK_MDEV_NVIDIA_VF) {
		snprintf(rel, sizeof(rel), VGPU_DIR "/%s", d->name);
		return vfk_root_path(ctx, VFK_ROOT_ETC, rel);
	}
	snprintf(rel, sizeof(rel), "%s/%s", d->parent, d->name);
	return vfk_root_path(ctx, VFK_ROOT_MDEVCTL, rel);
}

/* Read every file of one directory of definitions; @parent NULL for per-VF ones. */
static int defs_read_dir(struct vfk_ctx *ctx, int dfd, enum vfk_mdev_kind kind, const char *parent,
			 struct mdev_defs *s)
{
	_cleanup_closedir_ DIR *d = dir_at(ctx, dfd, "");
	struct dirent *e;
	int r;

	while (d && (e = readdir(d))) {
		struct mdev_def def = { .kind = kind };
		_cleanup_free_ char *path = NULL;
		char err[512];
		if (e->d_name[0] == '.')
			continue;
		/* not a definition at all (mdevctl's scripts.d, an editor's backup) */
		if (kind == VFK_MDEV_CLASSIC ? uuid_norm(e->d_name, def.id) < 0
					     : !pci_norm(e->d_name, def.id)) {
			dbg(ctx, "ignoring %s/%s: not named by %s", parent ? parent : VGPU_DIR,
			    e->d_name, kind == VFK_MDEV_CLASSIC ? "a UUID" : "a PCI address");
			continue;
		}
		/* a UUID or an address: shorter than the buffer, as the check above made sure */
		snprintf(def.name, sizeof(def.name), "%.*s", (int)sizeof(def.name) - 1, e->d_name);
		snprintf(def.parent, sizeof(def.parent), "%s", parent ? parent : def.id);
		if (!(path = def_path(ctx, &def)))
			return neg_errno(ENOMEM);
		r = def_load(ctx, dfd, e->d_name, path, &def, err, sizeof(err));
		if (r == -EBADMSG) {
			dbg(ctx, "%s", err);	/* reported by the callers, once */
			r = defs_add_bad(s, &def, err);
			def_clear(&def);
		} else if (r == 0) {
			r = defs_add(s, &def);
		}
		if (r < 0) {
			def_clear(&def);
			return r;
		}
	}
	return 0;
}

/* One UUID defined on two parents: which one is meant cannot be told, so neither is used. */
static int defs_refuse_twins(struct vfk_ctx *ctx, struct mdev_defs *s)
{
	_cleanup_free_ size_t *twin = calloc(s->n + 1, sizeof(*twin));	/* its twin + 1, or 0 */
	size_t i, k, keep = 0;
	int r = 0;

	if (!twin)
		return neg_errno(ENOMEM);
	for (i = 0; i < s->n; i++)
		for (k = 0; k < s->n && !twin[i]; k++)
			if (k != i && streq(s->v[k].id, s->v[i].id) &&
			    !streq(s->v[k].parent, s->v[i].parent))
				twin[i] = k + 1;
	for (i = 0; i < s->n && r == 0; i++)
		if (twin[i]) {
			_cleanup_free_ char *path = def_path(ctx, &s->v[i]);
			char err[512];
			snprintf(err, sizeof(err), "%s: %s is also defined on %s: one UUID, one parent",
				 path ? path : s->v[i].name, s->v[i].id, s->v[twin[i] - 1].parent);
			r = defs_add_bad(s, &s->v[i], err);
		}
	for (i = 0; i < s->n; i++) {
		if (twin[i])
			def_clear(&s->v[i]);
		else
			s->v[keep++] = s->v[i];
	}
	s->n = keep;
	return r;
}

static int cmp_bad(const void *a, const void *b)
{
	const struct mdev_bad *x = a, *y = b;
	int c = cmp_version(x->parent, y->parent);

	return c ? c : strcmp(x->id, y->id);
}

/* Every definition: mdevctl's, then vfiokit's per-VF ones. Only -ENOMEM fails. */
static int defs_load(struct vfk_ctx *ctx, struct mdev_defs *s)
{
	_cleanup_close_ int mfd = vfk_root_open_dir(ctx, VFK_ROOT_MDEVCTL, "");
	_cleanup_close_ int vfd = vfk_root_open_dir(ctx, VFK_ROOT_ETC, VGPU_DIR);
	_cleanup_closedir_ DIR *d = dir_at(ctx, mfd, "");
	struct dirent *e;
	int r = 0;

	memset(s, 0, sizeof(*s));
	while (d && (e = readdir(d)) && r == 0) {
		_cleanup_close_ int pfd = -1;
		if (e->d_name[0] == '.' || !name_ok(e->d_name, 64))
			continue;
		pfd = vfk_open_dir_in(ctx, mfd, e->d_name);
		if (pfd >= 0)
			r = defs_read_dir(ctx, pfd, VFK_MDEV_CLASSIC, e->d_name, s);
		else
			dbg(ctx, "ignoring definitions under %s: %s", e->d_name, strerror(-pfd));
	}
	if (r == 0 && vfd >= 0)
		r = defs_read_dir(ctx, vfd, VFK_MDEV_NVIDIA_VF, NULL, s);
	if (r == 0)
		r = defs_refuse_twins(ctx, s);
	if (r < 0)
		defs_free(s);
	else	/* readdir's order is the disk's: messages in a stable one */
		qsort_safe(s->bad, s->nbad, sizeof(*s->bad), cmp_bad);
	return r;
}

/* ------------------------------------------------------------ snapshot */

static void instance_free(struct vfk_mdev_instance *i)
{
	if (!i)
		return;
	free(i->parent);
	free(i->type_id);
	free(i->type_name);
	free(i->sysfs_path);
	free(i);
}

static struct vfk_mdev_instance *add_instance(struct vfk_mdevs *m, const char *id,
					      enum vfk_mdev_kind kind, const char *parent,
					      const char *type_id)
{
	struct vfk_mdev_instance *i, **n;

	n = realloc(m->instances, (m->ninstances + 1) * sizeof(*n));
	if (!n)
		return NULL;
	m->instances = n;
	i = calloc(1, sizeof(*i));
	if (!i)
		return NULL;
	snprintf(i->id, sizeof(i->id), "%s", id);
	i->kind = kind;
	i->group = -1;
	i->parent = strdup(parent);
	i->type_id = strdup(type_id);
	if (!i->parent || !i->type_id) {
		instance_free(i);
		return NULL;
	}
	m->instances[m->ninstances++] = i;
	return i;
}

static int add_parent(struct vfk_mdevs *m, struct vfk_mdev_parent *p)
{
	struct vfk_mdev_parent **n = realloc(m->parents, (m->nparents + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	m->parents = n;
	m->parents[m->nparents++] = p;
	return 0;
}

static int scan_classic_parents(struct vfk_mdevs *m)
{
	_cleanup_close_ int dfd = vfk_root_open_dir(m->ctx, VFK_ROOT_SYS, VFK_SYS_CLASS_MDEV_BUS);
	_cleanup_closedir_ DIR *d = dir_at(m->ctx, dfd, "");
	struct dirent *e;
	int r;

	while (d && (e = readdir(d))) {
		_cleanup_close_ int pfd = -1;
		struct vfk_mdev_parent *p;
		if (e->d_name[0] == '.' || !name_ok(e->d_name, 64))
			continue;
		pfd = vfk_open_dir_in(m->ctx, dfd, e->d_name);
		if (pfd < 0)
			continue;
		r = load_classic(m->ctx, e->d_name, pfd, &p);
		if (r < 0)
			return r;
		if ((r = add_parent(m, p)) < 0) {
			parent_free(p);
			return r;
		}
	}
	return 0;
}

static bool have_parent(const struct vfk_mdevs *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nparents; i++)
		if (streq(m->parents[i]->name, name))
			return true;
	return false;
}

static int scan_vf_parents(struct vfk_mdevs *m)
{
	_cleanup_close_ int devfd = vfk_root_open_dir(m->ctx, VFK_ROOT_SYS, VFK_SYS_PCI_DEVICES);
	_cleanup_closedir_ DIR *d = dir_at(m->ctx, devfd, "");
	struct dirent *e;
	int r;

	while (d && (e = readdir(d))) {
		struct vfk_mdev_parent *p;
		char pf[32], rel[96], addr[16];
		size_t k;
		if (!pci_norm(e->d_name, addr) || !streq(addr, e->d_name) ||
		    !vgpu_vf_present(m->ctx, addr, NULL))
			continue;
		snprintf(rel, sizeof(rel), "%s/physfn", addr);
		if (vfk_readlink_base_at(devfd, rel, pf, sizeof(pf)) < 0)
			snprintf(pf, sizeof(pf), "%s", addr);
		if (have_parent(m, pf))
			continue;
		r = load_vf_parent(m->ctx, pf, NULL, &p);
		if (r < 0)
			return r == -ENODEV ? 0 : r;
		if ((r = add_parent(m, p)) < 0) {
			parent_free(p);
			return r;
		}
		for (k = 0; k < p->nvfs; k++) {
			struct vfk_mdev_instance *i;
			char tid[32];
			if (!p->vfs[k].current)
				continue;
			snprintf(tid, sizeof(tid), "nvidia-%u", p->vfs[k].current);
			i = add_instance(m, p->vfs[k].addr, VFK_MDEV_NVIDIA_VF, p->name, tid);
			if (!i)
				return -ENOMEM;
			i->active = true;
			i->group = p->vfs[k].group;
			snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s", p->vfs[k].addr);
			i->sysfs_path = vfk_root_host_path(VFK_ROOT_SYS, rel);
		}
	}
	return 0;
}

/* bus/mdev/devices/<uuid> -> ../../../devices/.../<parent>/<uuid> */
static int scan_classic_instances(struct vfk_mdevs *m)
{
	_cleanup_close_ int dfd = vfk_root_open_dir(m->ctx, VFK_ROOT_SYS, VFK_SYS_MDEV_DEVICES);
	_cleanup_closedir_ DIR *d = dir_at(m->ctx, dfd, "");
	struct dirent *e;

	while (d && (e = readdir(d))) {
		struct vfk_mdev_instance *i;
		char uuid[37], target[PATH_MAX], type[128], rel[128], *last, *parent;
		if (e->d_name[0] == '.' || uuid_norm(e->d_name, uuid) < 0 || strcmp(uuid, e->d_name))
			continue;
		if (vfk_readlink_at(dfd, e->d_name, target, sizeof(target)) < 0 ||
		    !(last = strrchr(target, '/')))
			continue;
		*last = '\0';
		parent = strrchr(target, '/');
		parent = parent ? parent + 1 : target;
		snprintf(rel, sizeof(rel), "%s/mdev_type", uuid);
		if (vfk_readlink_base_at(dfd, rel, type, sizeof(type)) < 0)
			snprintf(type, sizeof(type), "unknown");
		i = add_instance(m, uuid, VFK_MDEV_CLASSIC, parent, type);
		if (!i)
			return -ENOMEM;
		i->active = true;
		snprintf(rel, sizeof(rel), "%s/iommu_group", uuid);
		i->group = link_group(dfd, rel);
		snprintf(rel, sizeof(rel), "%s/mdev_type/name", uuid);
		i->type_name = read_str(m->ctx, dfd, rel, 256);
		snprintf(rel, sizeof(rel), VFK_SYS_MDEV_DEVICES "/%s", uuid);
		i->sysfs_path = vfk_root_host_path(VFK_ROOT_SYS, rel);
	}
	return 0;
}

static struct vfk_mdev_instance *find_instance_in(const struct vfk_mdevs *m, const char *id,
						  const char *parent)
{
	size_t i;

	for (i = 0; i < m->ninstances; i++)
		if (streq(m->instances[i]->id, id) &&
		    (!parent || streq(m->instances[i]->parent, parent)))
			return m->instances[i];
	return NULL;
}

static int merge_defs(struct vfk_mdevs *m)
{
	struct mdev_defs s;
	size_t k;
	int r;

	r = defs_load(m->ctx, &s);
	if (r < 0)
		return r;
	for (k = 0; k < s.n; k++) {
		struct mdev_def *d = &s.v[k];
		struct vfk_mdev_instance *i = find_instance_in(m, d->id, d->kind == VFK_MDEV_CLASSIC
									    ? d->parent : NULL);
		if (!i) {
			char pf[32];
			bool is_vf;
			const char *parent = d->parent;
			/* per-VF definitions are kept by VF; the parent shown is the PF */
			if (d->kind == VFK_MDEV_NVIDIA_VF &&
			    vf_parent_of(m->ctx, d->id, pf, sizeof(pf), &is_vf))
				parent = pf;
			i = add_instance(m, d->id, d->kind, parent, d->type);
			if (!i) {
				defs_free(&s);
				return -ENOMEM;
			}
		}
		i->defined = true;
		i->autostart = d->autostart;
	}
	for (k = 0; k < s.nbad; k++) {
		char pf[32];
		bool is_vf;
		if (s.bad[k].kind == VFK_MDEV_NVIDIA_VF &&
		    vf_parent_of(m->ctx, s.bad[k].id, pf, sizeof(pf), &is_vf))
			snprintf(s.bad[k].parent, sizeof(s.bad[k].parent), "%s", pf);
	}
	m->bad = TAKE_PTR(s.bad);
	m->nbad = s.nbad;
	s.nbad = 0;
	defs_free(&s);
	return 0;
}

static int cmp_parent(const void *a, const void *b)
{
	return cmp_version((*(struct vfk_mdev_parent *const *)a)->name,
			   (*(struct vfk_mdev_parent *const *)b)->name);
}

static int cmp_instance(const void *a, const void *b)
{
	const struct vfk_mdev_instance *x = *(struct vfk_mdev_instance *const *)a;
	const struct vfk_mdev_instance *y = *(struct vfk_mdev_instance *const *)b;
	int c = cmp_version(x->parent, y->parent);

	return c ? c : strcmp(x->id, y->id);
}

static const struct vfk_mdev_parent *parent_by_name(const struct vfk_mdevs *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nparents; i++)
		if (streq(m->parents[i]->name, name))
			return m->parents[i];
	return NULL;
}

int vfk_mdevs_scan(struct vfk_ctx *ctx, struct vfk_mdevs **out)
{
	struct vfk_mdevs *m;
	size_t k;
	int r;

	if (!ctx || !out)
		return neg_errno(EINVAL);
	m = calloc(1, sizeof(*m));
	if (!m)
		return neg_errno(ENOMEM);
	m->refcount = 1;
	m->ctx = vfk_ctx_ref(ctx);
	if ((r = scan_classic_parents(m)) < 0 || (r = scan_vf_parents(m)) < 0 ||
	    (r = scan_classic_instances(m)) < 0 || (r = merge_defs(m)) < 0) {
		vfk_mdevs_unref(m);
		return neg_errno(r);
	}
	qsort_safe(m->parents, m->nparents, sizeof(*m->parents), cmp_parent);
	qsort_safe(m->instances, m->ninstances, sizeof(*m->instances), cmp_instance);
	for (k = 0; k < m->ninstances; k++) {
		struct vfk_mdev_instance *i = m->instances[k];
		const struct vfk_mdev_parent *p = parent_by_name(m, i->parent);
		const struct vfk_mdev_type *t = p ? parent_type_by_id(p, i->type_id) : NULL;
		if (!i->type_name && t && t->name)
			i->type_name = strdup(t->name);
	}
	dbg(ctx, "%zu mdev parents, %zu instances", m->nparents, m->ninstances);
	*out = m;
	return 0;
}

struct vfk_mdevs *vfk_mdevs_ref(struct vfk_mdevs *m)
{
	if (m)
		m->refcount++;
	return m;
}

struct vfk_mdevs *vfk_mdevs_unref(struct vfk_mdevs *m)
{
	size_t i;

	if (!m || --m->refcount > 0)
		return NULL;
	for (i = 0; i < m->nparents; i++)
		parent_free(m->parents[i]);
	for (i = 0; i < m->ninstances; i++)
		instance_free(m->instances[i]);
	free(m->parents);
	free(m->instances);
	bads_free(m->bad, m->nbad);
	vfk_ctx_unref(m->ctx);
	free(m);
	return NULL;
}

size_t vfk_mdevs_parent_count(const struct vfk_mdevs *m) { return m->nparents; }
size_t vfk_mdevs_broken_count(const struct vfk_mdevs *m) { return m->nbad; }
const char *vfk_mdevs_broken_id(const struct vfk_mdevs *m, size_t i)
{
	return i < m->nbad ? m->bad[i].id : NULL;
}
const char *vfk_mdevs_broken_parent(const struct vfk_mdevs *m, size_t i)
{
	return i < m->nbad ? m->bad[i].parent : NULL;
}
const char *vfk_mdevs_broken_error(const struct vfk_mdevs *m, size_t i)
{
	return i < m->nbad ? m->bad[i].error : NULL;
}
struct vfk_mdev_parent *vfk_mdevs_parent(const struct vfk_mdevs *m, size_t i)
{
	return i < m->nparents ? m->parents[i] : NULL;
}
size_t vfk_mdevs_instance_count(const struct vfk_mdevs *m) { return m->ninstances; }
struct vfk_mdev_instance *vfk_mdevs_instance(const struct vfk_mdevs *m, size_t i)
{
	return i < m->ninstances ? m->instances[i] : NULL;
}

int vfk_mdevs_find_parent(const struct vfk_mdevs *m, const char *name, struct vfk_mdev_parent **out)
{
	char addr[16];
	size_t i, k;

	if (!name)
		return neg_errno(EINVAL);
	if (!pci_norm(name, addr))
		addr[0] = '\0';
	for (i = 0; i < m->nparents; i++) {
		struct vfk_mdev_parent *p = m->parents[i];
		if (streq(p->name, name) || streq(p->name, addr)) {
			*out = p;
			return 0;
		}
		for (k = 0; k < p->nvfs; k++)
			if (streq(p->vfs[k].addr, addr)) {
				*out = p;
				return 0;
			}
	}
	return neg_errno(ENODEV);
}

int vfk_mdevs_find_instance(const struct vfk_mdevs *m, const char *id, struct vfk_mdev_instance **out)
{
	char norm[VFK_MDEV_ID_SIZE];
	struct vfk_mdev_instance *i;

	if (!id || (uuid_norm(id, norm) < 0 && !pci_norm(id, norm)))
		return neg_errno(EINVAL);
	i = find_instance_in(m, norm, NULL);
	if (!i)
		return neg_errno(ENOENT);
	*out = i;
	return 0;
}

int vfk_mdevs_find_type(const struct vfk_mdevs *m, const char *parent, const char *type,
			struct vfk_mdev_type **out)
{
	struct vfk_mdev_type *first = NULL;
	size_t i;

	for (i = 0; i < m->nparents; i++) {
		struct vfk_mdev_parent *p = m->parents[i], *want = NULL;
		struct vfk_mdev_type *t;
		if (parent && (vfk_mdevs_find_parent(m, parent, &want) < 0 || want != p))
			continue;
		t = parent_match_type(p, type);
		if (!t)
			continue;
		if (t->available) {
			*out = t;
			return 0;
		}
		if (!first)
			first = t;
	}
	if (!first)
		return neg_errno(ENOENT);
	*out = first;
	return 0;
}

int vfk_mdevs_pick_type(const struct vfk_mdevs *m, const char *parent, unsigned int min_fb_mb,
			unsigned int flags, struct vfk_mdev_type **out)
{
	struct vfk_mdev_type *best = NULL;
	struct vfk_mdev_parent *only = NULL;
	size_t i, k;

	if (parent && vfk_mdevs_find_parent(m, parent, &only) < 0)
		return neg_errno(ENODEV);
	if (!m->nparents)
		return neg_errno(ENODEV);
	for (i = 0; i < m->nparents; i++) {
		if (only && m->parents[i] != only)
			continue;
		for (k = 0; k < m->parents[i]->ntypes; k++) {
			struct vfk_mdev_type *t = m->parents[i]->types[k];
			if (!t->available || (min_fb_mb && t->fb_mb < min_fb_mb) ||
			    ((flags & VFK_MDEV_PICK_DISPLAY) && !t->heads))
				continue;
			/* unknown size sorts after known ones */
			if (!best ||
			    (t->fb_mb ? t->fb_mb : UINT_MAX) < (best->fb_mb ? best->fb_mb : UINT_MAX) ||
			    ((t->fb_mb ? t->fb_mb : UINT_MAX) == (best->fb_mb ? best->fb_mb : UINT_MAX) &&
			     t->available > best->available))
				best = t;
		}
	}
	if (!best)
		return neg_errno(ENOSPC);
	*out = best;
	return 0;
}

const char *vfk_mdev_kind_to_string(enum vfk_mdev_kind kind)
{
	return kind == VFK_MDEV_NVIDIA_VF ? "nvidia-vf" : "mdev";
}

const char *vfk_mdev_parent_get_name(const struct vfk_mdev_parent *p) { return p->name; }
enum vfk_mdev_kind vfk_mdev_parent_get_kind(const struct vfk_mdev_parent *p) { return p->kind; }
const char *vfk_mdev_parent_get_driver(const struct vfk_mdev_parent *p) { return p->driver; }
size_t vfk_mdev_parent_type_count(const struct vfk_mdev_parent *p) { return p->ntypes; }
struct vfk_mdev_type *vfk_mdev_parent_type(const struct vfk_mdev_parent *p, size_t i)
{
	return i < p->ntypes ? p->types[i] : NULL;
}
size_t vfk_mdev_parent_vf_count(const struct vfk_mdev_parent *p) { return p->nvfs; }

struct vfk_mdev_parent *vfk_mdev_type_get_parent(const struct vfk_mdev_type *t) { return t->parent; }
const char *vfk_mdev_type_get_id(const struct vfk_mdev_type *t) { return t->id; }
const char *vfk_mdev_type_get_name(const struct vfk_mdev_type *t) { return t->name ? t->name : t->id; }
const char *vfk_mdev_type_get_description(const struct vfk_mdev_type *t) { return t->description; }
const char *vfk_mdev_type_get_device_api(const struct vfk_mdev_type *t)
{
	return t->device_api ? t->device_api : "vfio-pci";
}
unsigned int vfk_mdev_type_get_available(const struct vfk_mdev_type *t) { return t->available; }
unsigned int vfk_mdev_type_get_instance_count(const struct vfk_mdev_type *t) { return t->instances; }
unsigned int vfk_mdev_type_get_framebuffer_mb(const struct vfk_mdev_type *t) { return t->fb_mb; }
unsigned int vfk_mdev_type_get_heads(const struct vfk_mdev_type *t) { return t->heads; }
unsigned int vfk_mdev_type_get_max_instances(const struct vfk_mdev_type *t) { return t->max_instances; }

static bool vf_can_take(const struct vgpu_vf *vf, unsigned int type)
{
	size_t i;

	for (i = 0; i < vf->ncreatable; i++)
		if (vf->creatable[i] == type)
			return true;
	return false;
}

const char *vfk_mdev_type_get_free_vf(const struct vfk_mdev_type *t)
{
	const struct vfk_mdev_parent *p = t->parent;
	size_t k;

	for (k = 0; p->kind == VFK_MDEV_NVIDIA_VF && k < p->nvfs; k++)
		if (!p->vfs[k].current && vf_can_take(&p->vfs[k], t->vgpu_id))
			return p->vfs[k].addr;
	return NULL;
}

const char *vfk_mdev_instance_get_id(const struct vfk_mdev_instance *i) { return i->id; }
enum vfk_mdev_kind vfk_mdev_instance_get_kind(const struct vfk_mdev_instance *i) { return i->kind; }
const char *vfk_mdev_instance_get_parent(const struct vfk_mdev_instance *i) { return i->parent; }
const char *vfk_mdev_instance_get_type_id(const struct vfk_mdev_instance *i) { return i->type_id; }
const char *vfk_mdev_instance_get_type_name(const struct vfk_mdev_instance *i)
{
	return i->type_name ? i->type_name : i->type_id;
}
int vfk_mdev_instance_get_iommu_group(const struct vfk_mdev_instance *i) { return i->group; }
const char *vfk_mdev_instance_get_sysfs_path(const struct vfk_mdev_instance *i) { return i->sysfs_path; }
bool vfk_mdev_instance_is_active(const struct vfk_mdev_instance *i) { return i->active; }
bool vfk_mdev_instance_is_defined(const struct vfk_mdev_instance *i) { return i->defined; }
bool vfk_mdev_instance_is_autostart(const struct vfk_mdev_instance *i) { return i->autostart; }

/* --------------------------------------------------------- live parents */

/* The vendor driver that offers vGPU types for a vendor id, for messages. */
static const char *vendor_driver(unsigned int vendor)
{
	switch (vendor) {
	case 0x10de: return "nvidia";
	case 0x8086: return "i915";
	default: return NULL;
	}
}

/* Why @name offers no types: one line into @err; -ENODEV. */
static int explain_not_parent(struct vfk_ctx *ctx, const char *name, char *err, size_t size)
{
	_cleanup_close_ int devfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_PCI_DEVICES);
	_cleanup_close_ int dfd = -1;
	char addr[16], drv[64];
	unsigned int vendor = 0, total = 0, numvfs = 0;
	const char *want;

	if (!pci_norm(name, addr))
		return op_error(err, size, ENODEV,
				"%s is not a mediated-device parent (none by that name under "
				"class/mdev_bus; 'vfio-mdev types' lists them)", name);
	if (devfd >= 0)
		dfd = vfk_open_dir_in(ctx, devfd, addr);
	if (dfd < 0)
		return op_error(err, size, ENODEV, "no PCI device %s on this host", addr);
	if (vfk_readlink_base_at(dfd, "driver", drv, sizeof(drv)) < 0)
		drv[0] = '\0';
	read_uint(ctx, dfd, "vendor", &vendor);
	want = vendor_driver(vendor);
	if (read_uint(ctx, dfd, "sriov_totalvfs", &total) == 0 && total && want &&
	    streq(want, "nvidia") && read_uint(ctx, dfd, "sriov_numvfs", &numvfs) == 0 &&
	    numvfs == 0 && streq(drv, "nvidia"))
		return op_error(err, size, ENODEV,
				"%s offers no vGPU types: its SR-IOV VFs are not enabled (vGPUs of "
				"this GPU live on VFs: /usr/lib/nvidia/sriov-manage -e %s, or "
				"vfio-mdev sriov %s %u)", addr, addr, addr, total);
	if (!*drv || (want && !streq(drv, want)))
		return op_error(err, size, ENODEV,
				"%s is bound to %s, not to its vendor driver%s%s%s: only the vendor's "
				"vGPU host driver offers mediated device types%s", addr,
				*drv ? drv : "no driver", want ? " (" : "", want ? want : "",
				want ? ")" : "",
				streq(drv, "vfio-pci") ? " (vfio-bind restore it first)" : "");
	if (streq(drv, "nvidia"))
		return op_error(err, size, ENODEV,
				"the nvidia driver on %s offers no vGPU types: it takes NVIDIA's vGPU "
				"host driver (vGPU Manager), not the desktop driver, on a GPU that "
				"supports vGPU", addr);
	if (streq(drv, "i915"))
		return op_error(err, size, ENODEV,
				"i915 on %s offers no GVT-g types: boot with i915.enable_gvt=1 and "
				"load kvmgt (GVT-g covers Broadwell to Comet Lake graphics)", addr);
	return op_error(err, size, ENODEV, "%s (driver %s) offers no mediated device types", addr,
			drv);
}

/*
 * The live parent @name, classic or per-VF. For the per-VF interface a VF's
 * address loads just that VF (*@one_vf true).
 */
static int load_live_parent(struct vfk_ctx *ctx, const char *name, struct vfk_mdev_parent **out,
			    bool *one_vf, char *err, size_t size)
{
	_cleanup_close_ int cfd = -1, pfd = -1;
	char addr[16], pf[32];
	bool is_vf = false;

	*one_vf = false;
	if (!name || !name_ok(name, 64))
		return op_error(err, size, EINVAL, "'%s' is not a device name", name ? name : "");
	cfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_CLASS_MDEV_BUS);
	if (cfd >= 0) {
		pfd = vfk_open_dir_in(ctx, cfd, name);
		if (pfd < 0 && pci_norm(name, addr))
			pfd = vfk_open_dir_in(ctx, cfd, addr);
		if (pfd >= 0)
			return load_classic(ctx, pci_norm(name, addr) ? addr : name, pfd, out);
	}
	if (pci_norm(name, addr) && vf_parent_of(ctx, addr, pf, sizeof(pf), &is_vf)) {
		*one_vf = is_vf;
		return load_vf_parent(ctx, pf, is_vf ? addr : NULL, out);
	}
	return explain_not_parent(ctx, name, err, size);
}

int vfk_mdev_parent_check(struct vfk_ctx *ctx, const char *name, char *errbuf, size_t errsize)
{
	_cleanup_(parent_freep) struct vfk_mdev_parent *p = NULL;
	bool one_vf;
	int r;

	if (errbuf && errsize)
		errbuf[0] = '\0';
	r = load_live_parent(ctx, name, &p, &one_vf, errbuf, errsize);
	if (r < 0)
		return r;
	return p->ntypes ? 0 : explain_not_parent(ctx, name, errbuf, errsize);
}

/* "nvidia-231 GRID T4-2Q, nvidia-232 GRID T4-4Q" into @buf. */
static void list_types(const struct vfk_mdev_parent *p, bool free_only, char *buf, size_t size)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < p->ntypes && len + 1 < size; i++) {
		const struct vfk_mdev_type *t = p->types[i];
		int n;
		if (free_only && !t->available)
			continue;
		n = snprintf(buf + len, size - len, "%s%s%s%s", len ? ", " : "", t->id,
			     t->name ? " " : "", t->name ? t->name : "");
		if (n < 0 || (size_t)n >= size - len) {
			snprintf(buf + (size > 5 ? size - 5 : 0), size > 5 ? 5 : size, "...");
			return;
		}
		len += (size_t)n;
	}
	if (!len)
		snprintf(buf, size, "none");
}

/* "1 x nvidia-231 (GRID T4-2Q)" for the types in use on @p. */
static void list_in_use(const struct vfk_mdev_parent *p, char *buf, size_t size)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < p->ntypes && len + 1 < size; i++) {
		const struct vfk_mdev_type *t = p->types[i];
		int n;
		if (!t->instances)
			continue;
		n = snprintf(buf + len, size - len, "%s%u x %s%s%s%s", len ? ", " : "", t->instances,
			     t->id, t->name ? " (" : "", t->name ? t->name : "", t->name ? ")" : "");
		if (n < 0 || (size_t)n >= size - len)
			return;
		len += (size_t)n;
	}
}

static int full_error(const struct vfk_mdev_parent *p, const struct vfk_mdev_type *t, char *err,
		      size_t size)
{
	char used[400];
	bool nvidia = startswith(t->id, "nvidia-");

	list_in_use(p, used, sizeof(used));
	return op_error(err, size, ENOSPC, "no free instance of %s%s%s%s on %s: %s%s%s%s", t->id,
			t->name ? " (" : "", t->name ? t->name : "", t->name ? ")" : "", p->name,
			p->kind == VFK_MDEV_NVIDIA_VF ? "no free VF can take it now"
						      : "available_instances is 0",
			*used ? "; in use: " : "", used,
			nvidia && *used ? "; time-sliced NVIDIA vGPUs on one GPU must all have the "
					  "same framebuffer size" : "");
}

/* ----------------------------------------------------------- operations */

static int create_classic(struct vfk_ctx *ctx, const struct vfk_mdev_parent *p,
			  const struct vfk_mdev_type *t, const char *uuid, bool dry, char *id,
			  char *err, size_t size)
{
	_cleanup_close_ int bfd = -1;
	char u[37], rel[384];
	int r;

	if (uuid) {
		if (uuid_norm(uuid, u) < 0)
			return op_error(err, size, EINVAL, "'%s' is not a UUID", uuid);
	} else {
		uuid_t raw;
		uuid_generate_random(raw);
		uuid_unparse_lower(raw, u);
	}
	bfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_MDEV_DEVICES);
	if (bfd >= 0 && vfk_exists_at(bfd, u))
		return op_error(err, size, EEXIST, "a mediated device %s exists already", u);
	vfk_progress(ctx, "creating %s (%s) on %s as %s", t->id, vfk_mdev_type_get_name(t), p->name, u);
	snprintf(rel, sizeof(rel), VFK_SYS_CLASS_MDEV_BUS "/%s/mdev_supported_types/%s/create",
		 p->name, t->id);
	r = vfk_host_write(ctx, VFK_ROOT_SYS, rel, u);
	if (r == -EUSERS || r == -ENOSPC)
		return full_error(p, t, err, size);
	if (r == -EEXIST)
		return op_error(err, size, EEXIST, "a mediated device %s exists already", u);
	if (r < 0)
		return op_error(err, size, -r, "creating %s on %s failed: %s", t->id, p->name,
				strerror(-r));
	if (!dry) {
		_cleanup_close_ int again = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_MDEV_DEVICES);
		if (again < 0 || !vfk_exists_at(again, u))
			return op_error(err, size, EIO,
					"the kernel took the UUID but %s/%s did not appear",
					VFK_SYS_MDEV_DEVICES, u);
	}
	if (id)
		snprintf(id, VFK_MDEV_ID_SIZE, "%s", u);
	return 0;
}

static int write_vgpu_type(struct vfk_ctx *ctx, const char *vf, unsigned int type, bool dry,
			   unsigned int ms)
{
	char rel[96], val[16];
	unsigned int now = 0;
	int r;

	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s/nvidia/current_vgpu_type", vf);
	snprintf(val, sizeof(val), "%u", type);
	r = ms ? vfk_host_write_timeout(ctx, VFK_ROOT_SYS, rel, val, ms)
	       : vfk_host_write(ctx, VFK_ROOT_SYS, rel, val);
	if (r < 0 || dry)
		return r < 0 ? r : 0;
	if (!vgpu_vf_present(ctx, vf, &now) || now != type)
		return neg_errno(EIO);
	return 0;
}

static int create_vf(struct vfk_ctx *ctx, const struct vfk_mdev_parent *p,
		     const struct vfk_mdev_type *t, bool one_vf, bool dry, char *id, char *err,
		     size_t size)
{
	long holder = 0;
	int lockfd = -1, r;
	size_t k;
	unsigned int cur = 0;
	const struct vgpu_vf *vf = NULL;

	if (!dry) {
		lockfd = vfk_lock_take(ctx, ctx->timeout_ms, &holder);
		if (lockfd < 0)
			return op_error(err, size, -lockfd,
					"another vfiokit operation is running (pid %ld)", holder);
	}
	/* the snapshot was read before the lock: check the chosen VF again */
	for (k = 0; k < p->nvfs && !vf; k++)
		if (!p->vfs[k].current && vf_can_take(&p->vfs[k], t->vgpu_id) &&
		    vgpu_vf_present(ctx, p->vfs[k].addr, &cur) && cur == 0)
			vf = &p->vfs[k];
	if (!vf) {
		if (one_vf && p->vfs[0].current) {
			char cid[32];
			const struct vfk_mdev_type *ct;
			snprintf(cid, sizeof(cid), "nvidia-%u", p->vfs[0].current);
			ct = parent_type_by_id(p, cid);
			r = op_error(err, size, EBUSY, "VF %s has a vGPU already (%s%s%s): "
				     "vfio-mdev remove %s first", p->vfs[0].addr, cid,
				     ct && ct->name ? " " : "", ct && ct->name ? ct->name : "",
				     p->vfs[0].addr);
		} else {
			r = full_error(p, t, err, size);
		}
		goto out;
	}
	vfk_progress(ctx, "setting vGPU type %u (%s) on VF %s of %s", t->vgpu_id,
		     vfk_mdev_type_get_name(t), vf->addr, p->name);
	r = write_vgpu_type(ctx, vf->addr, t->vgpu_id, dry, 0);
	if (r == -EIO)
		r = op_error(err, size, EIO, "VF %s did not take vGPU type %u (current_vgpu_type "
			     "did not change)", vf->addr, t->vgpu_id);
	else if (r < 0)
		r = op_error(err, size, -r, "setting vGPU type %u on VF %s failed: %s", t->vgpu_id,
			     vf->addr, strerror(-r));
	else if (id)
		snprintf(id, VFK_MDEV_ID_SIZE, "%s", vf->addr);
out:
	if (lockfd >= 0)
		close(lockfd);
	return r;
}

/* Resolve @type on the live parent and create it. */
static int create_on(struct vfk_ctx *ctx, const char *parent, const char *type, const char *uuid,
		     bool dry, char *id, char *err, size_t size)
{
	_cleanup_(parent_freep) struct vfk_mdev_parent *p = NULL;
	struct vfk_mdev_type *t;
	bool one_vf;
	char types[600];
	int r;

	if (!type || !*type || strlen(type) >= 128)
		return op_error(err, size, EINVAL, "no type given");
	r = load_live_parent(ctx, parent, &p, &one_vf, err, size);
	if (r < 0)
		return r;
	if (!p->ntypes)
		return explain_not_parent(ctx, parent, err, size);
	t = parent_match_type(p, type);
	if (!t && p->kind == VFK_MDEV_NVIDIA_VF) {
		char used[400];
		list_types(p, true, types, sizeof(types));
		list_in_use(p, used, sizeof(used));
		return op_error(err, size, ENOENT, "%s cannot create vGPU type '%s' now (creatable "
				"now: %s)%s%s%s", p->name, type, types, *used ? "; in use: " : "",
				used, *used ? "; time-sliced NVIDIA vGPUs on one GPU must all have "
				"the same framebuffer size" : "");
	}
	if (!t) {
		list_types(p, false, types, sizeof(types));
		return op_error(err, size, ENOENT, "%s has no type '%s' (types: %s)", p->name, type,
				types);
	}
	if (!t->available && p->kind == VFK_MDEV_CLASSIC)
		return full_error(p, t, err, size);
	if (p->kind == VFK_MDEV_NVIDIA_VF) {
		if (uuid)
			info(ctx, "per-VF vGPUs have no UUID: ignoring %s", uuid);
		return create_vf(ctx, p, t, one_vf, dry, id, err, size);
	}
	return create_classic(ctx, p, t, uuid, dry, id, err, size);
}

int vfk_mdev_create(struct vfk_ctx *ctx, const char *parent, const char *type, const char *uuid,
		    unsigned int flags, char *id, char *errbuf, size_t errsize)
{
	struct op_hook save;
	int r;

	if (errbuf && errsize)
		errbuf[0] = '\0';
	op_begin(ctx, flags & VFK_MDEV_DRY_RUN, &save);
	r = create_on(ctx, parent, type, uuid, flags & VFK_MDEV_DRY_RUN, id, errbuf, errsize);
	op_end(ctx, &save);
	return r;
}

static int remove_classic(struct vfk_ctx *ctx, const char *u, bool dry, char *err, size_t size)
{
	char rel[128];
	int r;

	vfk_progress(ctx, "removing mediated device %s", u);
	snprintf(rel, sizeof(rel), VFK_SYS_MDEV_DEVICES "/%s/remove", u);
	r = vfk_host_write_timeout(ctx, VFK_ROOT_SYS, rel, "1", ctx->timeout_ms);
	if (r == -ETIMEDOUT)
		return op_error(err, size, ETIMEDOUT, "removing %s did not finish in %u ms: is a VM "
				"still using it?", u, ctx->timeout_ms);
	if (r < 0)
		return op_error(err, size, -r, "removing %s failed: %s", u, strerror(-r));
	if (!dry) {
		_cleanup_close_ int bfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_MDEV_DEVICES);
		if (bfd >= 0 && vfk_exists_at(bfd, u))
			return op_error(err, size, EIO, "%s is still there after remove", u);
	}
	return 0;
}

static int remove_on(struct vfk_ctx *ctx, const char *id, bool dry, char *err, size_t size)
{
	char norm[VFK_MDEV_ID_SIZE];
	unsigned int cur = 0;
	int r;

	if (id && uuid_norm(id, norm) == 0) {
		_cleanup_close_ int bfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_MDEV_DEVICES);
		if (bfd < 0 || !vfk_exists_at(bfd, norm))
			return op_error(err, size, ENOENT, "no active mediated device %s", norm);
		return remove_classic(ctx, norm, dry, err, size);
	}
	if (!id || !pci_norm(id, norm))
		return op_error(err, size, EINVAL, "'%s' is neither a UUID nor a VF address",
				id ? id : "");
	if (!vgpu_vf_present(ctx, norm, &cur))
		return op_error(err, size, ENOENT, "%s has no NVIDIA per-VF vGPU interface", norm);
	if (!cur)
		return op_error(err, size, ENOENT, "VF %s has no vGPU", norm);
	vfk_progress(ctx, "freeing VF %s (vGPU type %u)", norm, cur);
	r = write_vgpu_type(ctx, norm, 0, dry, ctx->timeout_ms);
	if (r == -ETIMEDOUT)
		return op_error(err, size, ETIMEDOUT, "freeing VF %s did not finish in %u ms: is a VM "
				"still using it?", norm, ctx->timeout_ms);
	if (r < 0)
		return op_error(err, size, -r, "freeing VF %s failed: %s", norm, strerror(-r));
	return 0;
}

int vfk_mdev_remove(struct vfk_ctx *ctx, const char *id, unsigned int flags, char *errbuf,
		    size_t errsize)
{
	struct op_hook save;
	int r;

	if (errbuf && errsize)
		errbuf[0] = '\0';
	op_begin(ctx, flags & VFK_MDEV_DRY_RUN, &save);
	r = remove_on(ctx, id, flags & VFK_MDEV_DRY_RUN, errbuf, errsize);
	op_end(ctx, &save);
	return r;
}

/* ---------------------------------------------------------- definitions */

static struct mdev_def *defs_find(struct mdev_def *defs, size_t n, const char *id, size_t from)
{
	size_t i;

	for (i = from; i < n; i++)
		if (streq(defs[i].id, id))
			return &defs[i];
	return NULL;
}

static int def_write(struct vfk_ctx *ctx, const struct mdev_def *d)
{
	_cleanup_free_ char *text = def_format(d);

	if (!text)
		return neg_errno(ENOMEM);
	if (d->kind == VFK_MDEV_NVIDIA_VF)
		return vfk_host_write_file_in(ctx, VFK_ROOT_ETC, VGPU_DIR, d->id, text, 0644);
	return vfk_host_write_file_in(ctx, VFK_ROOT_MDEVCTL, d->parent, d->id, text, 0644);
}

/* A refused definition file of @id, or NULL. */
static const struct mdev_bad *defs_find_bad(const struct mdev_defs *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->nbad; i++)
		if (streq(s->bad[i].id, id))
			return &s->bad[i];
	return NULL;
}

/* Parent and type of the active instance @id into @d. */
static int def_from_active(struct vfk_ctx *ctx, const char *id, struct mdev_def *d, char *err,
			   size_t size)
{
	struct vfk_mdevs *m = NULL;
	struct vfk_mdev_instance *i;
	int r;

	r = vfk_mdevs_scan(ctx, &m);
	if (r < 0)
		return op_error(err, size, -r, "reading mediated devices failed: %s", strerror(-r));
	r = vfk_mdevs_find_instance(m, id, &i);
	if (r < 0 || !i->active) {
		vfk_mdevs_unref(m);
		return op_error(err, size, r == -EINVAL ? EINVAL : ENOENT,
				"%s is not an active instance (name PARENT and TYPE to define one "
				"that is not created yet)", id);
	}
	d->kind = i->kind;
	snprintf(d->id, sizeof(d->id), "%s", i->id);
	snprintf(d->parent, sizeof(d->parent), "%s", i->kind == VFK_MDEV_NVIDIA_VF ? i->id : i->parent);
	snprintf(d->type, sizeof(d->type), "%s", i->type_id);
	vfk_mdevs_unref(m);
	return 0;
}

/* Parent and type given: resolve against the live parent when it is there. */
static int def_from_args(struct vfk_ctx *ctx, const char *id, const char *parent, const char *type,
			 struct mdev_def *d, char *err, size_t size)
{
	_cleanup_(parent_freep) struct vfk_mdev_parent *p = NULL;
	const struct vfk_mdev_type *t = NULL;
	bool one_vf = false;
	char addr[16];

	if (!parent || !type || !name_ok(parent, sizeof(d->parent)) || !*type || strlen(type) >= 128)
		return op_error(err, size, EINVAL, "define needs a parent and a type");
	if (load_live_parent(ctx, parent, &p, &one_vf, NULL, 0) == 0 && p->ntypes) {
		t = parent_match_type(p, type);
		if (!t) {
			char types[600];
			list_types(p, false, types, sizeof(types));
			return op_error(err, size, ENOENT, "%s has no type '%s' (types: %s)", p->name,
					type, types);
		}
	}
	if (p && p->kind == VFK_MDEV_NVIDIA_VF) {
		if (!t)
			return op_error(err, size, ENOENT, "%s offers no vGPU type now", p->name);
		if (!one_vf)
			return op_error(err, size, EINVAL, "per-VF vGPUs are defined per VF: name one "
					"of %s's VFs as the parent", p->name);
		d->kind = VFK_MDEV_NVIDIA_VF;
		pci_norm(parent, addr);
		if (id && (!pci_norm(id, d->id) || !streq(d->id, addr)))
			return op_error(err, size, EINVAL, "a per-VF vGPU's id is its VF (%s)", addr);
		snprintf(d->id, sizeof(d->id), "%s", addr);
		snprintf(d->parent, sizeof(d->parent), "%s", addr);
		snprintf(d->type, sizeof(d->type), "%s", t->id);
		return 0;
	}
	/* classic; a parent that is not there now is taken as written (mdevctl does too) */
	d->kind = VFK_MDEV_CLASSIC;
	if (id) {
		if (uuid_norm(id, d->id) < 0)
			return op_error(err, size, EINVAL, "'%s' is not a UUID", id);
	} else {
		uuid_t raw;
		uuid_generate_random(raw);
		uuid_unparse_lower(raw, d->id);
	}
	snprintf(d->parent, sizeof(d->parent), "%s",
		 p ? p->name : pci_norm(parent, addr) ? addr : parent);
	snprintf(d->type, sizeof(d->type), "%s", t ? t->id : type);
	if (!name_ok(d->type, sizeof(d->type)))
		return op_error(err, size, EINVAL, "'%s' is not a type id", type);
	if (!t)
		info(ctx, "parent %s is not present now: defining type %s as given", parent, type);
	return 0;
}

static int define_on(struct vfk_ctx *ctx, const char *id, const char *parent, const char *type,
		     unsigned int flags, char *id_out, char *err, size_t size)
{
	struct mdev_def d = { 0 }, *old;
	const struct mdev_bad *bad;
	struct mdev_defs s;
	int r;

	if (!parent && !type) {
		if (!id)
			return op_error(err, size, EINVAL, "define needs an instance or a parent and a type");
		r = def_from_active(ctx, id, &d, err, size);
	} else {
		r = def_from_args(ctx, id, parent, type, &d, err, size);
	}
	if (r < 0)
		return r;
	d.autostart = !(flags & VFK_MDEV_MANUAL);
	r = defs_load(ctx, &s);
	if (r < 0)
		return op_error(err, size, -r, "reading definitions failed: %s", strerror(-r));
	/* its attrs would be lost with the file: the user fixes or undefines it */
	if ((bad = defs_find_bad(&s, d.id))) {
		r = op_error(err, size, EBADMSG, "%s (fix it or vfio-mdev undefine %s first)",
			     bad->error, d.id);
		goto out;
	}
	old = defs_find(s.v, s.n, d.id, 0);
	if (old && !streq(old->parent, d.parent)) {
		r = op_error(err, size, EEXIST, "%s is defined on %s already (vfio-mdev undefine %s "
			     "first)", d.id, old->parent, d.id);
		goto out;
	}
	if (old) {	/* keep attributes set with mdevctl */
		d.attrs = TAKE_PTR(old->attrs);
		d.nattrs = old->nattrs;
		old->nattrs = 0;
	}
	vfk_progress(ctx, "defining %s: %s on %s, %s", d.id, d.type, d.parent,
		     d.autostart ? "created at boot" : "started by hand");
	r = def_write(ctx, &d);
	if (r < 0) {
		r = op_error(err, size, -r, "writing the definition of %s failed: %s", d.id,
			     strerror(-r));
		goto out;
	}
	if (id_out)
		snprintf(id_out, VFK_MDEV_ID_SIZE, "%s", d.id);
	r = 0;
out:
	def_clear(&d);
	defs_free(&s);
	return r;
}

int vfk_mdev_define(struct vfk_ctx *ctx, const char *id, const char *parent, const char *type,
		    unsigned int flags, char *id_out, char *errbuf, size_t errsize)
{
	struct op_hook save;
	int r;

	if (errbuf && errsize)
		errbuf[0] = '\0';
	op_begin(ctx, flags & VFK_MDEV_DRY_RUN, &save);
	r = define_on(ctx, id, parent, type, flags, id_out, errbuf, errsize);
	op_end(ctx, &save);
	return r;
}

static int undefine_file(struct vfk_ctx *ctx, enum vfk_mdev_kind kind, const char *parent,
			 const char *name)
{
	char rel[160];

	int r;

	if (kind == VFK_MDEV_NVIDIA_VF) {
		snprintf(rel, sizeof(rel), VGPU_DIR "/%s", name);
		r = vfk_host_remove_file(ctx, VFK_ROOT_ETC, rel);
	} else {
		snprintf(rel, sizeof(rel), "%s/%s", parent, name);
		r = vfk_host_remove_file(ctx, VFK_ROOT_MDEVCTL, rel);
	}
	return r < 0 ? r : 0;	/* 1: a dry run's hook skipped it */
}

/* Every file of @id goes, refused ones too: removing a damaged definition is how it is fixed. */
static int undefine_on(struct vfk_ctx *ctx, const char *id, char *err, size_t size)
{
	struct mdev_defs s;
	struct mdev_def *d;
	char norm[VFK_MDEV_ID_SIZE];
	size_t from = 0, i;
	int r = 0, done = 0;

	if (!id || (uuid_norm(id, norm) < 0 && !pci_norm(id, norm)))
		return op_error(err, size, EINVAL, "'%s' is neither a UUID nor a VF address",
				id ? id : "");
	r = defs_load(ctx, &s);
	if (r < 0)
		return op_error(err, size, -r, "reading definitions failed: %s", strerror(-r));
	while (r == 0 && (d = defs_find(s.v, s.n, norm, from))) {
		from = (size_t)(d - s.v) + 1;
		vfk_progress(ctx, "undefining %s (%s on %s)", d->id, d->type, d->parent);
		r = undefine_file(ctx, d->kind, d->parent, d->name);
		done += r == 0;
	}
	for (i = 0; r == 0 && i < s.nbad; i++) {
		const struct mdev_bad *b = &s.bad[i];
		if (!streq(b->id, norm))
			continue;
		vfk_progress(ctx, "undefining %s (damaged definition on %s)", b->id, b->parent);
		r = undefine_file(ctx, b->kind, b->parent, b->name);
		done += r == 0;
	}
	defs_free(&s);
	if (r < 0)
		return op_error(err, size, -r, "removing the definition of %s failed: %s", norm,
				strerror(-r));
	return done ? 0 : op_error(err, size, ENOENT, "%s is not defined", norm);
}

int vfk_mdev_undefine(struct vfk_ctx *ctx, const char *id, unsigned int flags, char *errbuf,
		      size_t errsize)
{
	struct op_hook save;
	int r;

	if (errbuf && errsize)
		errbuf[0] = '\0';
	op_begin(ctx, flags & VFK_MDEV_DRY_RUN, &save);
	r = undefine_on(ctx, id, errbuf, errsize);
	op_end(ctx, &save);
	return r;
}

/* mdevctl's attrs, in order after create; names and values were checked when
 * the file was parsed. A missing attribute fails its write (-ENOENT). */
static int apply_attrs(struct vfk_ctx *ctx, const struct mdev_def *d, char *err, size_t size)
{
	size_t i;

	for (i = 0; i < d->nattrs; i++) {
		char rel[192];
		int r;
		snprintf(rel, sizeof(rel), VFK_SYS_MDEV_DEVICES "/%s/%s", d->id, d->attrs[i].name);
		r = vfk_host_write(ctx, VFK_ROOT_SYS, rel, d->attrs[i].value);
		if (r < 0)
			return op_error(err, size, -r, "%s: writing attribute %s failed: %s", d->id,
					d->attrs[i].name, strerror(-r));
	}
	return 0;
}

/* Is the definition running already? 1 yes, 0 no, -EEXIST with another type. */
static int def_active(struct vfk_ctx *ctx, const struct mdev_def *d, char *err, size_t size)
{
	char rel[128], type[128];
	unsigned int cur = 0;

	if (d->kind == VFK_MDEV_NVIDIA_VF) {
		if (!vgpu_vf_present(ctx, d->id, &cur) || !cur)
			return 0;
		snprintf(type, sizeof(type), "nvidia-%u", cur);
	} else {
		_cleanup_close_ int bfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_MDEV_DEVICES);
		snprintf(rel, sizeof(rel), "%s/mdev_type", d->id);
		if (bfd < 0 || !vfk_exists_at(bfd, d->id))
			return 0;
		if (vfk_readlink_base_at(bfd, rel, type, sizeof(type)) < 0)
			type[0] = '\0';
	}
	if (streq(type, d->type))
		return 1;
	return op_error(err, size, EEXIST, "%s is active with type %s, defined as %s", d->id, type,
			d->type);
}

/*
 * A step after the create failed: the instance goes again (as mdevctl does),
 * so no half-configured vGPU is left for a VM to take. Says so in @err.
 */
static void start_undo(struct vfk_ctx *ctx, const struct mdev_def *d, bool dry, char *err,
		       size_t size)
{
	size_t len = strlen(err);
	char e[256];

	if (remove_classic(ctx, d->id, dry, e, sizeof(e)) < 0)
		snprintf(err + len, size - len, "; removing the mdev created for it failed too: %s", e);
	else
		snprintf(err + len, size - len, "; the mdev created for it was removed again");
}

/* 1 created, 0 active already, or a negative errno. */
static int start_def(struct vfk_ctx *ctx, const struct mdev_def *d, bool dry, char *err,
		     size_t size)
{
	int r = def_active(ctx, d, err, size);

	if (r != 0)
		return r < 0 ? r : 0;
	r = create_on(ctx, d->kind == VFK_MDEV_NVIDIA_VF ? d->id : d->parent, d->type,
		      d->kind == VFK_MDEV_CLASSIC ? d->id : NULL, dry, NULL, err, size);
	/* mdevctl's udev rule may have started it meanwhile: that is fine */
	if (r == -EEXIST && def_active(ctx, d, NULL, 0) == 1)
		return 0;
	if (r < 0)
		return r;
	r = d->kind == VFK_MDEV_CLASSIC ? apply_attrs(ctx, d, err, size) : 0;
	if (r < 0)
		start_undo(ctx, d, dry, err, size);
	return r < 0 ? r : 1;
}

static bool parent_present(struct vfk_ctx *ctx, const struct mdev_def *d)
{
	_cleanup_close_ int cfd = -1;

	if (d->kind == VFK_MDEV_NVIDIA_VF)
		return vgpu_vf_present(ctx, d->id, NULL);
	cfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_CLASS_MDEV_BUS);
	return cfd >= 0 && vfk_exists_at(cfd, d->parent);
}

/* Is a definition kept under @dparent on @pnorm? A per-VF one also is on its PF. */
static bool def_on_parent(struct vfk_ctx *ctx, enum vfk_mdev_kind kind, const char *dparent,
			  const char *id, const char *pnorm)
{
	char pf[32];
	bool is_vf;

	if (streq(dparent, pnorm))
		return true;
	return kind == VFK_MDEV_NVIDIA_VF && vf_parent_of(ctx, id, pf, sizeof(pf), &is_vf) &&
	       streq(pf, pnorm);
}

/* One more line of a list of failures. */
static void err_add(char *err, size_t size, const char *line)
{
	size_t len;

	if (!err || !size)
		return;
	len = strlen(err);
	if (len + 2 < size)
		snprintf(err + len, size - len, "%s%s", len ? "\n" : "", line);
}

/* start ID: a damaged file of that id means nothing is created (which one was meant?). */
static int start_one(struct vfk_ctx *ctx, const struct mdev_defs *s, const char *id, bool dry,
		     char *err, size_t size)
{
	const struct mdev_bad *bad = defs_find_bad(s, id);
	struct mdev_def *d = defs_find(s->v, s->n, id, 0);
	int r;

	if (bad)
		return op_error(err, size, EBADMSG, "%s", bad->error);
	if (!d)
		return op_error(err, size, ENOENT, "%s is not defined", id);
	vfk_progress(ctx, "starting %s (%s on %s)", d->id, d->type, d->parent);
	r = start_def(ctx, d, dry, err, size);
	return r < 0 ? r : 0;
}

/*
 * start-defined: every damaged file on @parent is one line of @err, and the
 * good definitions are started all the same (a boot must not lose every
 * vGPU for one bad file). The number started, or the first error.
 */
static int start_all(struct vfk_ctx *ctx, const struct mdev_defs *s, const char *parent,
		     bool dry, char *err, size_t size)
{
	int r, first = 0, started = 0;
	size_t i;

	for (i = 0; i < s->nbad; i++)
		if (!parent || def_on_parent(ctx, s->bad[i].kind, s->bad[i].parent, s->bad[i].id,
					     parent)) {
			err_add(err, size, s->bad[i].error);
			first = first ? first : neg_errno(EBADMSG);
		}
	for (i = 0; i < s->n; i++) {
		const struct mdev_def *d = &s->v[i];
		char e[768] = "";
		if (!d->autostart || (parent && !def_on_parent(ctx, d->kind, d->parent, d->id, parent)))
			continue;
		if (!parent_present(ctx, d)) {
			dbg(ctx, "%s: parent %s not present", d->id, d->parent);
			continue;
		}
		vfk_progress(ctx, "starting %s (%s on %s)", d->id, d->type, d->parent);
		r = start_def(ctx, d, dry, e, sizeof(e));
		if (r < 0) {
			err_add(err, size, e);
			first = first ? first : r;
			continue;
		}
		started += r;
	}
	return first ? first : started;
}

static int start_on(struct vfk_ctx *ctx, const char *id, const char *parent, bool dry,
		    char *err, size_t size)
{
	struct mdev_defs s;
	char norm[VFK_MDEV_ID_SIZE], pnorm[64];
	int r;

	if (id && uuid_norm(id, norm) < 0 && !pci_norm(id, norm))
		return op_error(err, size, EINVAL, "'%s' is neither a UUID nor a VF address", id);
	if (parent && !pci_norm(parent, pnorm))
		snprintf(pnorm, sizeof(pnorm), "%s", parent);
	r = defs_load(ctx, &s);
	if (r < 0)
		return op_error(err, size, -r, "reading definitions failed: %s", strerror(-r));
	r = id ? start_one(ctx, &s, norm, dry, err, size)
	       : start_all(ctx, &s, parent ? pnorm : NULL, dry, err, size);
	defs_free(&s);
	return r;
}

int vfk_mdev_start(struct vfk_ctx *ctx, const char *id, unsigned int flags, char *errbuf,
		   size_t errsize)
{
	struct op_hook save;
	int r;

	if (errbuf && errsize)
		errbuf[0] = '\0';
	if (!id)
		return op_error(errbuf, errsize, EINVAL, "start needs an instance id");
	op_begin(ctx, flags & VFK_MDEV_DRY_RUN, &save);
	r = start_on(ctx, id, NULL, flags & VFK_MDEV_DRY_RUN, errbuf, errsize);
	op_end(ctx, &save);
	return r < 0 ? r : 0;
}

int vfk_mdev_start_defined(struct vfk_ctx *ctx, const char *parent, unsigned int flags,
			   char *errbuf, size_t errsize)
{
	struct op_hook save;
	int r;

	if (errbuf && errsize)
		errbuf[0] = '\0';
	op_begin(ctx, flags & VFK_MDEV_DRY_RUN, &save);
	r = start_on(ctx, NULL, parent, flags & VFK_MDEV_DRY_RUN, errbuf, errsize);
	op_end(ctx, &save);
	return r;
}

bool mdev_children(struct vfk_ctx *ctx, const char *addr, char *uuid)
{
	_cleanup_close_ int devfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_PCI_DEVICES);
	_cleanup_closedir_ DIR *d = dir_at(ctx, devfd, addr);
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (is_uuid(e->d_name)) {
			if (uuid)
				uuid_norm(e->d_name, uuid);
			return true;
		}
	return false;
}
