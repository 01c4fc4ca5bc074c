/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM plan: the profile resolved against the host.
 *
 *  - GPU mode. "auto" tries, in order: passthrough (an isolated GPU that is
 *    neither the host's only GPU nor its console, or the one the selector
 *    names), mdev (a parent with a free instance of an acceptable type),
 *    virtio-gpu (virgl when the host has a render node), emulated (QXL). Every
 *    mode is evaluated, so the plan says why each other one was not chosen.
 *  - Tuning from the host: vCPU pinning (topo.c), memory on the vCPUs' NUMA
 *    node, huge pages when enough are free, Hyper-V enlightenments for
 *    Windows, KVM or TCG, OVMF from QEMU's firmware descriptors.
 *  - Devices: the GPU's functions as one multifunction device, Looking Glass
 *    shared memory, evdev input, audio, disks, NICs.
 * emit-xml.c and emit-qemu.c turn the same plan into libvirt XML and argv.
 *
 * Layer plan/: owns profiles (profile.c), vCPU pinning (pin.c) and the plan
 * that resolves a profile against the host (plan.c). May call mdev/, bind/,
 * check/, inventory/ and core/ (lib/README.md).
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "plan/plan.h"
#include "mdev/mdev.h"

/* Persistent per-VM state of the QEMU output (NVRAM copies). */
#define VFK_STATE_DIR "/var/lib/vfiokit"

/* ------------------------------------------------------------ small helpers */

unsigned int vfk_looking_glass_size_mib(unsigned int width, unsigned int height)
{
	uint64_t bytes = (uint64_t)width * height * 4 * 2 + (UINT64_C(10) << 20);
	uint64_t mib = (bytes + (1 << 20) - 1) >> 20;
	unsigned int p = 1;

	while (p < mib && p < (1u << 30))
		p <<= 1;
	return p;
}

/* 64-bit FNV-1a; stable identifiers (UUIDs, MACs) from names. */
static uint64_t fnv1a(const char *s, uint64_t h)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

/* A UUID (RFC 9562 version 8, "custom") derived from @key. */
static void stable_uuid(const char *key, char *out, size_t size)
{
	uint64_t a = fnv1a(key, UINT64_C(0xcbf29ce484222325));
	uint64_t b = fnv1a(key, UINT64_C(0x84222325cbf29ce4) ^ a);
	unsigned char u[16];
	int i;

	for (i = 0; i < 8; i++) {
		u[i] = (unsigned char)(a >> (56 - 8 * i));
		u[8 + i] = (unsigned char)(b >> (56 - 8 * i));
	}
	u[6] = (u[6] & 0x0f) | 0x80;
	u[8] = (u[8] & 0x3f) | 0x80;
	snprintf(out, size,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
		 u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
		 u[14], u[15]);
}

static char *xstrdup_or(const char *s)
{
	return s ? strdup(s) : NULL;
}

static char *dev_name(const struct vfk_device *d)
{
	return strdupf("%s %s %s", vfk_device_get_address(d), vfk_device_get_vendor_name(d),
		       vfk_device_get_device_name(d));
}

static void set_error(char *errbuf, size_t errsize, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_error(char *errbuf, size_t errsize, const char *fmt, ...)
{
	va_list ap;

	if (!errbuf || !errsize)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errsize, fmt, ap);
	va_end(ap);
}

/* A file below the sysroot, by its host path. */
static bool host_file_exists(struct vfk_ctx *ctx, const char *path, struct stat *st)
{
	_cleanup_close_ int top = vfk_root_open_dir(ctx, VFK_ROOT_TOP, NULL);
	struct stat tmp;

	if (top < 0 || !path || path[0] != '/' || strstr(path, "/../"))
		return false;
	return fstatat(top, path[1] ? path + 1 : ".", st ? st : &tmp, 0) == 0;
}

/* A name safe for file names: letters, digits, '.', '_', '-'. */
static char *make_slug(const char *name)
{
	char *s = strdup(name), *p;

	if (!s)
		return NULL;
	for (p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			*p = '_';
	if (s[0] == '.')
		s[0] = '_';
	return s;
}

/* ------------------------------------------------------------ GPU selection */

static bool gpu_has_function(const struct vfk_gpu *g, const struct vfk_device *d)
{
	size_t i;

	for (i = 0; i < vfk_gpu_function_count(g); i++)
		if (vfk_gpu_function(g, i) == d)
			return true;
	return false;
}

static bool is_vendor_device(const char *s)
{
	size_t i;

	if (strlen(s) != 9 || s[4] != ':')
		return false;
	for (i = 0; i < 9; i++)
		if (i != 4 && !isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool gpu_matches(const struct vfk_gpu *g, const char *sel)
{
	const struct vfk_device *d = vfk_gpu_get_device(g);
	char full[512];

	if (is_vendor_device(sel)) {
		unsigned int v = (unsigned int)strtoul(sel, NULL, 16);
		unsigned int id = (unsigned int)strtoul(sel + 5, NULL, 16);

		return vfk_device_get_vendor_id(d) == v && vfk_device_get_device_id(d) == id;
	}
	snprintf(full, sizeof(full), "%s %s", vfk_device_get_vendor_name(d),
		 vfk_device_get_device_name(d));
	return strcasestr(full, sel) != NULL;
}

static void list_gpus(const struct vfk_host *h, struct sbuf *b, const char *sel)
{
	size_t i, n = 0;

	for (i = 0; i < vfk_host_gpu_count(h); i++) {
		const struct vfk_gpu *g = vfk_host_gpu(h, i);
		_cleanup_free_ char *name = NULL;

		if (sel && !gpu_matches(g, sel))
			continue;
		name = dev_name(vfk_gpu_get_device(g));
		sbuf_addf(b, "%s%s", n++ ? "; " : "", name ? name : "?");
	}
	if (!n)
		sbuf_add(b, "none");
}

/*
 * Resolve the [gpu] device selector: a PCI address (of the GPU or one of its
 * functions), vendor:device ids, or a fragment of the name.
 */
static int select_gpu(const struct vfk_host *h, const char *sel, struct vfk_gpu **out,
		      char *errbuf, size_t errsize)
{
	struct vfk_pci_addr a;
	struct vfk_gpu *found = NULL;
	struct sbuf b = { 0 };
	size_t i, n = 0;

	*out = NULL;
	if (vfk_pci_addr_parse(sel, &a) == 0) {
		struct vfk_device *d;

		if (vfk_host_find_device(h, sel, &d) < 0) {
			set_error(errbuf, errsize, "[gpu] device = %s: no such PCI device", sel);
			return neg_errno(ENODEV);
		}
		for (i = 0; i < vfk_host_gpu_count(h); i++)
			if (vfk_gpu_get_device(vfk_host_gpu(h, i)) == d) {
				*out = vfk_host_gpu(h, i);
				return 0;
			}
		for (i = 0; i < vfk_host_gpu_count(h); i++)
			if (gpu_has_function(vfk_host_gpu(h, i), d)) {
				*out = vfk_host_gpu(h, i);
				return 0;
			}
		set_error(errbuf, errsize, "[gpu] device = %s: %s is not a GPU or a GPU's function",
			  sel, vfk_device_get_class_name(d));
		return neg_errno(ENODEV);
	}
	for (i = 0; i < vfk_host_gpu_count(h); i++)
		if (gpu_matches(vfk_host_gpu(h, i), sel)) {
			found = vfk_host_gpu(h, i);
			n++;
		}
	if (n == 1) {
		*out = found;
		return 0;
	}
	if (n == 0) {
		_cleanup_free_ char *list = NULL;

		list_gpus(h, &b, NULL);
		list = sbuf_take(&b);
		set_error(errbuf, errsize, "[gpu] device = %s: no GPU matches (GPUs: %s)", sel,
			  list ? list : "?");
		return neg_errno(ENODEV);
	}
	{
		_cleanup_free_ char *list = NULL;

		list_gpus(h, &b, sel);
		list = sbuf_take(&b);
		set_error(errbuf, errsize, "[gpu] device = %s: ambiguous, %zu GPUs match: %s; "
			  "name one by its address", sel, n, list ? list : "?");
	}
	return neg_errno(ENOTUNIQ);
}

/* ------------------------------------------------------------ mode evaluation */

struct mode_eval {
	bool ok;
	char *why;	/* ok: what the mode would use; else why it cannot be used */
};

static char *group_text(const struct vfk_gpu *g)
{
	const struct vfk_device *d = vfk_gpu_get_device(g);
	struct sbuf b = { 0 };
	size_t i;

	sbuf_addf(&b, "%s shares IOMMU group %d with", vfk_device_get_address(d),
		  vfk_device_get_iommu_group(d));
	for (i = 0; i < vfk_gpu_blocker_count(g); i++)
		sbuf_addf(&b, "%s %s", i ? "," : "", vfk_device_get_address(vfk_gpu_blocker(g, i)));
	if (vfk_gpu_get_reason(g))
		sbuf_addf(&b, " (%s)", vfk_gpu_get_reason(g));
	return sbuf_take(&b);
}

/* Why @g cannot be given away automatically, or NULL when it can. */
static char *passthrough_obstacle(const struct vfk_gpu *g, bool selected)
{
	const struct vfk_device *d = vfk_gpu_get_device(g);

	if (vfk_device_get_iommu_group(d) < 0)
		return strdupf("%s is in no IOMMU group", vfk_device_get_address(d));
	if (!vfk_gpu_is_isolated(g)) {
		if (vfk_gpu_blocker_count(g) == 0)
			return strdupf("%s cannot be isolated: %s", vfk_device_get_address(d),
				   vfk_gpu_get_reason(g) ? vfk_gpu_get_reason(g) : "unknown reason");
		return group_text(g);
	}
	if (selected)
		return NULL;
	if (vfk_gpu_is_only_gpu(g))
		return strdupf("%s is the host's only GPU", vfk_device_get_address(d));
	if (vfk_gpu_console_in_use(g))
		return strdupf("%s drives the host console", vfk_device_get_address(d));
	if (vfk_gpu_is_boot_vga(g))
		return strdupf("%s is the boot display of the host", vfk_device_get_address(d));
	return NULL;
}

static void eval_passthrough(struct vfk_plan *pl, struct vfk_gpu *sel, struct mode_eval *ev)
{
	struct vfk_host *h = pl->host;
	struct sbuf why = { 0 };
	const char *hint = NULL;	/* an isolated GPU the host uses: can be named */
	size_t i, nskip = 0;

	if (!vfk_host_iommu_enabled(h)) {
		ev->why = strdup("the IOMMU is off: the kernel made no IOMMU groups (vfio-check "
				 "tells how to turn it on)");
		return;
	}
	if (vfk_host_gpu_count(h) == 0) {
		ev->why = strdup("the host has no GPU");
		return;
	}
	if (sel) {
		char *obstacle = passthrough_obstacle(sel, true);

		if (obstacle) {
			ev->why = obstacle;
			return;
		}
		pl->gpu = sel;
	} else {
		for (i = 0; i < vfk_host_gpu_count(h); i++) {
			struct vfk_gpu *g = vfk_host_gpu(h, i);
			char *obstacle;

			if (vfk_device_is_vf(vfk_gpu_get_device(g)))
				continue;	/* SR-IOV VFs only when named */
			obstacle = passthrough_obstacle(g, false);
			if (!obstacle) {
				if (!pl->gpu)
					pl->gpu = g;
				else
					strv_addf(&pl->notes, "GPU %s could be passed through as well "
						  "(name it with [gpu] device)",
						  vfk_device_get_address(vfk_gpu_get_device(g)));
				continue;
			}
			sbuf_addf(&why, "%s%s", nskip++ ? "; " : "", obstacle);
			free(obstacle);
			if (!hint && vfk_gpu_is_isolated(g))
				hint = vfk_device_get_address(vfk_gpu_get_device(g));
		}
		if (!pl->gpu) {
			_cleanup_free_ char *all = sbuf_take(&why);

			ev->why = strdupf("no GPU can be given away: %s%s%s%s", all ? all : "?",
				      hint ? " (to pass it through anyway, name it: [gpu] device = " : "",
				      hint ? hint : "", hint ? ")" : "");
			return;
		}
		sbuf_free(&why);
	}
	{
		/* ids, not names: naming reads all of pci.ids, and gen needs none */
		const struct vfk_device *d = vfk_gpu_get_device(pl->gpu);
		size_t n = vfk_gpu_function_count(pl->gpu);

		ev->ok = true;
		ev->why = strdupf("%s [%04x:%04x] is isolated (IOMMU group %d, %zu function%s)",
				  vfk_device_get_address(d), vfk_device_get_vendor_id(d),
				  vfk_device_get_device_id(d), vfk_device_get_iommu_group(d), n,
				  n == 1 ? "" : "s");
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in a directory (no dot entries). */
static int list_dir(struct vfk_ctx *ctx, int dirfd, const char *rel, struct strv *out)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int fd;

	fd = vfk_open_dir_in(ctx, dirfd, rel);
	if (fd < 0)
		return neg_errno(errno);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return neg_errno(errno);
	}
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && strv_add(out, de->d_name) < 0)
			return neg_errno(ENOMEM);
	qsort_safe(out->v, out->n, sizeof(*out->v), cmp_str);
	return 0;
}

/*
 * NVIDIA's per-VF vGPUs: the first VF of @pf that is free and lists the
 * type's number in nvidia/creatable_vgpu_types (what vfio-mdev's create
 * would take). Returns the VF's address or NULL.
 */
static const char *free_vgpu_vf(struct vfk_plan *pl, const char *pf, const char *type_id)
{
	_cleanup_close_ int devfd = vfk_root_open_dir(pl->ctx, VFK_ROOT_SYS, VFK_SYS_PCI_DEVICES);
	const char *num = strrchr(type_id, '-');
	struct vfk_device *pfdev;
	size_t i;

	num = num ? num + 1 : type_id;
	if (devfd < 0 || vfk_host_find_device(pl->host, pf, &pfdev) < 0)
		return NULL;
	for (i = 0; i < vfk_device_vf_count(pfdev); i++) {
		const char *vf = vfk_device_get_address(vfk_device_vf(pfdev, i));
		char rel[128], text[4096], *line, *save = NULL;
		unsigned int cur = 1;

		if (!vgpu_vf_present(pl->ctx, vf, &cur) || cur != 0)
			continue;
		snprintf(rel, sizeof(rel), "%s/nvidia/creatable_vgpu_types", vf);
		if (vfk_read_in(pl->ctx, devfd, rel, text, sizeof(text)) < 0)
			continue;
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			while (*line == ' ')
				line++;
			if (strtoul(line, NULL, 10) == strtoul(num, NULL, 10) && isdigit((unsigned char)*line))
				return vf;
		}
	}
	return NULL;
}

/* A mediated device (vGPU) through the vfk_mdevs API: the type asked for
 * (mdev-type), else the smallest free one, on @parent or any parent. */
static void eval_mdev(struct vfk_plan *pl, const char *parent, struct mode_eval *ev)
{
	const char *want = pl->prof->mdev_type;
	struct vfk_mdevs *m = NULL;
	struct vfk_mdev_type *t = NULL;
	struct vfk_mdev_parent *par;
	const char *pname, *api, *vf = NULL;
	int r;

	r = vfk_mdevs_scan(pl->ctx, &m);
	if (r < 0) {
		ev->why = strdupf("reading mediated devices failed: %s", strerror(-r));
		return;
	}
	if (vfk_mdevs_parent_count(m) == 0) {
		ev->why = strdup("no GPU offers mediated devices (no mdev parents: GVT-g needs "
				 "i915.enable_gvt=1, NVIDIA and AMD vGPUs their host drivers)");
		goto out;
	}
	if (parent && vfk_mdevs_find_parent(m, parent, &par) < 0) {
		ev->why = strdupf("%s offers no mediated devices", parent);
		goto out;
	}
	if (want) {
		r = vfk_mdevs_find_type(m, parent, want, &t);
		if (r < 0) {
			ev->why = strdupf("no mediated device type matches mdev-type = %s%s%s", want,
				      parent ? " on " : "", parent ? parent : "");
			goto out;
		}
		if (!vfk_mdev_type_get_available(t)) {
			ev->why = strdupf("type %s on %s has no free instance (available_instances 0)",
				      vfk_mdev_type_get_id(t),
				      vfk_mdev_parent_get_name(vfk_mdev_type_get_parent(t)));
			goto out;
		}
	} else {
		r = vfk_mdevs_pick_type(m, parent, 0, 0, &t);
		if (r < 0) {
			ev->why = strdupf("no mediated device type has a free instance%s%s",
				      parent ? " on " : "", parent ? parent : "");
			goto out;
		}
	}
	api = vfk_mdev_type_get_device_api(t);
	pname = vfk_mdev_parent_get_name(vfk_mdev_type_get_parent(t));
	if (api && !streq(api, "vfio-pci")) {
		ev->why = strdupf("type %s on %s is a %s device, not vfio-pci", vfk_mdev_type_get_id(t),
			      pname, api);
		goto out;
	}
	if (vfk_mdev_parent_get_kind(vfk_mdev_type_get_parent(t)) == VFK_MDEV_NVIDIA_VF) {
		vf = free_vgpu_vf(pl, pname, vfk_mdev_type_get_id(t));
		if (!vf) {
			ev->why = strdupf("no free VF of %s takes type %s", pname, vfk_mdev_type_get_id(t));
			goto out;
		}
	}
	{
		char key[512], uuid[40];

		snprintf(key, sizeof(key), "vfiokit:%s/%s/%s", pl->prof->name, pname,
			 vfk_mdev_type_get_id(t));
		stable_uuid(key, uuid, sizeof(uuid));
		pl->mdev.parent = strdup(pname);
		pl->mdev.type = strdup(vfk_mdev_type_get_id(t));
		pl->mdev.type_name = strdup(vfk_mdev_type_get_name(t));
		pl->mdev.uuid = strdup(uuid);
		pl->mdev.vf = xstrdup_or(vf);
		pl->mdev.available = vfk_mdev_type_get_available(t);
	}
	ev->ok = true;
	ev->why = strdupf("type %s (%s) on %s%s%s, %u instance%s free", vfk_mdev_type_get_id(t),
		      vfk_mdev_type_get_name(t), pname, vf ? ", VF " : "", vf ? vf : "",
		      vfk_mdev_type_get_available(t),
		      vfk_mdev_type_get_available(t) == 1 ? "" : "s");
out:
	vfk_mdevs_unref(m);
}

/* The first render node (dri/renderDN) of a host GPU that stays with the host. */
static char *find_render_node(struct vfk_plan *pl)
{
	_cleanup_close_ int drm = vfk_root_open_dir(pl->ctx, VFK_ROOT_SYS, "class/drm");
	_cleanup_close_ int devfd = vfk_root_open_dir(pl->ctx, VFK_ROOT_DEV, NULL);
	struct strv names = { 0 };
	char *found = NULL;
	size_t i;

	if (drm < 0 || devfd < 0 || list_dir(pl->ctx, drm, ".", &names) < 0) {
		strv_free(&names);
		return NULL;
	}
	for (i = 0; i < names.n && !found; i++) {
		char rel[300], addr[64];
		struct vfk_device *d;

		if (!startswith(names.v[i], "renderD"))
			continue;
		snprintf(rel, sizeof(rel), "%s/device", names.v[i]);
		if (pl->gpu && vfk_readlink_base_at(drm, rel, addr, sizeof(addr)) > 0 &&
		    vfk_host_find_device(pl->host, addr, &d) == 0 && gpu_has_function(pl->gpu, d))
			continue;	/* goes to the guest */
		snprintf(rel, sizeof(rel), "dri/%s", names.v[i]);
		if (vfk_exists_at(devfd, rel))
			found = vfk_root_host_path(VFK_ROOT_DEV, rel);
	}
	strv_free(&names);
	return found;
}

static void eval_virtio(struct vfk_plan *pl, struct mode_eval *ev)
{
	const struct vfk_profile *p = pl->prof;

	if (p->os == OS_WINDOWS) {
		ev->why = strdup("Windows has no virtio-gpu 3D driver (viogpudo is 2D only)");
		return;
	}
	free(pl->render_node);
	pl->render_node = find_render_node(pl);
	if (p->virgl == TRI_YES && !pl->render_node) {
		ev->why = strdup("virgl = yes, but the host has no render node (dri/renderD*) of "
				 "its own");
		return;
	}
	pl->virgl = p->virgl != TRI_NO && pl->render_node;
	ev->ok = true;
	if (!pl->virgl && pl->render_node && p->virgl == TRI_NO) {
		free(pl->render_node);
		pl->render_node = NULL;
		ev->why = strdup("virtio-gpu, 2D (virgl = no)");
		return;
	}
	if (pl->virgl)
		ev->why = strdupf("virtio-gpu with virgl 3D on the host's render node %s",
			      pl->render_node);
	else if (p->virgl == TRI_NO)
		ev->why = strdup("virtio-gpu, 2D (virgl = no)");
	else
		ev->why = strdup("virtio-gpu, 2D: the host has no render node for virgl");
}

/* ------------------------------------------------------------ mode choice */

static const int auto_order[] = { VFK_GPU_MODE_PASSTHROUGH, VFK_GPU_MODE_MDEV,
				  VFK_GPU_MODE_VIRTIO, VFK_GPU_MODE_EMULATED };

static bool is_mdev_parent(struct vfk_plan *pl, const char *name)
{
	struct vfk_mdevs *m = NULL;
	struct vfk_mdev_parent *par;
	bool found;

	if (vfk_mdevs_scan(pl->ctx, &m) < 0)
		return false;
	found = vfk_mdevs_find_parent(m, name, &par) == 0;
	vfk_mdevs_unref(m);
	return found;
}

static int choose_mode(struct vfk_plan *pl, char *errbuf, size_t errsize)
{
	const struct vfk_profile *p = pl->prof;
	struct mode_eval ev[VFK_GPU_MODE_COUNT] = { 0 };
	struct vfk_gpu *sel = NULL;
	const char *parent = NULL;
	int want = p->mode, chosen = -1, r = 0;
	size_t i;

	if (p->device) {
		if (want == VFK_GPU_MODE_VIRTIO || want == VFK_GPU_MODE_EMULATED ||
		    want == VFK_GPU_MODE_NONE) {
			strv_addf(&pl->notes, "[gpu] device = %s is ignored: mode = %s uses no host "
				  "GPU", p->device, vfk_gpu_mode_to_string(want));
		} else {
			r = select_gpu(pl->host, p->device, &sel, errbuf, errsize);
			if (r == -ENODEV && want == VFK_GPU_MODE_MDEV && is_mdev_parent(pl, p->device)) {
				/* a parent that is no PCI GPU: GVT-g's i915 is one, the
				 * kernel's sample drivers (mbochs, mdpy, mtty) are not */
				parent = p->device;
				r = 0;
				if (errbuf && errsize)
					errbuf[0] = '\0';
			} else if (r < 0) {
				return r;
			} else {
				parent = vfk_device_get_address(vfk_gpu_get_device(sel));
			}
		}
	}
	eval_passthrough(pl, sel, &ev[VFK_GPU_MODE_PASSTHROUGH]);
	eval_mdev(pl, parent, &ev[VFK_GPU_MODE_MDEV]);
	eval_virtio(pl, &ev[VFK_GPU_MODE_VIRTIO]);
	ev[VFK_GPU_MODE_EMULATED].ok = true;
	ev[VFK_GPU_MODE_EMULATED].why = strdup("QXL, emulated by QEMU");
	if (want == VFK_GPU_MODE_NONE) {
		ev[VFK_GPU_MODE_NONE].ok = true;
		ev[VFK_GPU_MODE_NONE].why = strdup("no display device");
	} else {
		ev[VFK_GPU_MODE_NONE].why = strdup(want == VFK_GPU_MODE_AUTO
			? "auto never leaves the guest without a display device"
			: "a GPU mode was asked for");
	}

	if (want == VFK_GPU_MODE_AUTO) {
		for (i = 0; i < ARRAY_SIZE(auto_order) && chosen < 0; i++)
			if (ev[auto_order[i]].ok)
				chosen = auto_order[i];
		pl->mode_reason = strdupf("auto: %s", ev[chosen].why ? ev[chosen].why : "");
	} else if (!ev[want].ok) {
		set_error(errbuf, errsize, "mode = %s is not possible on this host: %s",
			  vfk_gpu_mode_to_string(want), ev[want].why ? ev[want].why : "?");
		r = neg_errno(ENODEV);
		goto out;
	} else {
		chosen = want;
		pl->mode_reason = strdupf("the profile asks for mode = %s: %s",
				      vfk_gpu_mode_to_string(want), ev[want].why ? ev[want].why : "");
	}
	pl->mode = chosen;
	for (i = 1; i < VFK_GPU_MODE_COUNT; i++) {
		if ((int)i == chosen)
			continue;
		if (want != VFK_GPU_MODE_AUTO)
			pl->rejected[i] = ev[i].ok || i == VFK_GPU_MODE_NONE
				? strdupf("not asked for (mode = %s)", vfk_gpu_mode_to_string(want))
				: strdupf("not asked for (mode = %s); not possible either: %s",
				      vfk_gpu_mode_to_string(want), ev[i].why ? ev[i].why : "?");
		else if (ev[i].ok)
			pl->rejected[i] = strdupf("possible (%s), but %s comes first", ev[i].why,
					      vfk_gpu_mode_to_string(chosen));
		else
			pl->rejected[i] = xstrdup_or(ev[i].why);
	}
	/* what belongs to the modes not chosen goes */
	if (chosen != VFK_GPU_MODE_PASSTHROUGH)
		pl->gpu = NULL;
	if (chosen != VFK_GPU_MODE_MDEV) {
		free(pl->mdev.parent);
		free(pl->mdev.type);
		free(pl->mdev.type_name);
		free(pl->mdev.uuid);
		free(pl->mdev.vf);
		memset(&pl->mdev, 0, sizeof(pl->mdev));
	}
	if (chosen != VFK_GPU_MODE_VIRTIO) {
		pl->virgl = false;
		free(pl->render_node);
		pl->render_node = NULL;
	}
	if (chosen == VFK_GPU_MODE_PASSTHROUGH) {
		const struct vfk_gpu *g = pl->gpu;
		const char *addr = vfk_device_get_address(vfk_gpu_get_device(g));

		if (vfk_gpu_is_only_gpu(g) || vfk_gpu_console_in_use(g))
			strv_addf(&pl->notes, "single-GPU passthrough: %s is %s; starting the VM "
				  "releases it (vfio-bind --single-gpu) and leaves the host without "
				  "a display until the VM stops", addr,
				  vfk_gpu_is_only_gpu(g) ? "the host's only GPU" : "the host console's GPU");
		if (vfk_device_get_driver(vfk_gpu_get_device(g)) &&
		    !streq(vfk_device_get_driver(vfk_gpu_get_device(g)), "vfio-pci"))
			strv_addf(&pl->notes, "%s is on %s now; vfiokit hands its functions to "
				  "vfio-pci when the VM starts", addr,
				  vfk_device_get_driver(vfk_gpu_get_device(g)));
	}
	if (chosen == VFK_GPU_MODE_MDEV && pl->mdev.vf)
		strv_addf(&pl->notes, "vGPU of type %s on VF %s of %s is set up when the VM starts",
			  pl->mdev.type, pl->mdev.vf, pl->mdev.parent);
	else if (chosen == VFK_GPU_MODE_MDEV)
		strv_addf(&pl->notes, "mdev %s of type %s on %s is created when the VM starts",
			  pl->mdev.uuid, pl->mdev.type, pl->mdev.parent);
out:
	for (i = 0; i < VFK_GPU_MODE_COUNT; i++)
		free(ev[i].why);
	if (!pl->mode_reason && r == 0)
		return neg_errno(ENOMEM);
	return r;
}

/* ------------------------------------------------------------ memory */

struct hp_count {
	long nr, free;
	bool present;
};

static struct hp_count read_hugepages(struct vfk_ctx *ctx, int node, unsigned long kib)
{
	struct hp_count c = { 0 };
	char rel[160];
	_cleanup_close_ int fd = -1;

	if (node >= 0)
		snprintf(rel, sizeof(rel), "devices/system/node/node%d/hugepages/hugepages-%lukB",
			 node, kib);
	else
		snprintf(rel, sizeof(rel), "kernel/mm/hugepages/hugepages-%lukB", kib);
	fd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, rel);
	if (fd < 0) {
		if (node >= 0)
			return read_hugepages(ctx, -1, kib);
		return c;
	}
	c.present = true;
	if (vfk_read_long_in(ctx, fd, "nr_hugepages", &c.nr) < 0)
		c.nr = 0;
	if (vfk_read_long_in(ctx, fd, "free_hugepages", &c.free) < 0)
		c.free = 0;
	return c;
}

/* The hugetlbfs mount for @kib pages from the proc mounts table, as a host path. */
static char *hugetlbfs_mount(struct vfk_ctx *ctx, unsigned long kib)
{
	_cleanup_close_ int procfd = vfk_root_open_dir(ctx, VFK_ROOT_PROC, NULL);
	_cleanup_fclose_ FILE *f = NULL;
	char line[1024], want[32];
	int fd;

	snprintf(want, sizeof(want), "pagesize=%s", kib == 1048576 ? "1G" : "2M");
	if (procfd < 0)
		return NULL;
	fd = vfk_open_file_in(ctx, procfd, "mounts");
	if (fd < 0 || !(f = fdopen(fd, "r"))) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while (fgets(line, sizeof(line), f)) {
		char src[256], dir[512], type[64], opts[512];

		if (sscanf(line, "%255s %511s %63s %511s", src, dir, type, opts) != 4 ||
		    !streq(type, "hugetlbfs"))
			continue;
		if (strstr(opts, want) || (kib == 2048 && !strstr(opts, "pagesize=")))
			return strdup(dir);
	}
	return NULL;
}

static void plan_hugepages(struct vfk_plan *pl)
{
	const struct vfk_profile *p = pl->prof;
	unsigned long long mib = pl->memory_mib;
	int node = pl->memory_node;
	struct hp_count g1 = read_hugepages(pl->ctx, node, 1048576);
	struct hp_count m2 = read_hugepages(pl->ctx, node, 2048);
	unsigned long long need1 = mib / 1024, need2 = mib / 2;
	char where[48] = "";
	bool ok1 = g1.nr > 0 && mib % 1024 == 0 && (unsigned long long)g1.free >= need1;
	bool ok2 = mib % 2 == 0 && (unsigned long long)m2.free >= need2;

	if (node >= 0)
		snprintf(where, sizeof(where), " on node %d", node);
	switch (p->hugepages) {
	case HUGE_NO:
		strv_addf(&pl->notes, "hugepages = no: guest memory uses normal pages");
		return;
	case HUGE_1G:
		pl->hugepage_kib = 1048576;
		if (!g1.present)
			strv_addf(&pl->notes, "hugepages = 1G, but this CPU or kernel has no 1 GiB "
				  "pages (pdpe1gb): the VM will not start");
		else if (!ok1)
			strv_addf(&pl->notes, "hugepages = 1G: %llu pages needed, %ld free%s now; "
				  "reserve more before starting (hugepagesz=1G hugepages=N on the kernel "
				  "command line)", need1, g1.free, where);
		break;
	case HUGE_2M:
		pl->hugepage_kib = 2048;
		if (!ok2)
			strv_addf(&pl->notes, "hugepages = 2M: %llu pages needed, %ld free%s now; "
				  "reserve more before starting (sysctl vm.nr_hugepages)", need2,
				  m2.free, where);
		break;
	default:
		if (ok1) {
			pl->hugepage_kib = 1048576;
			strv_addf(&pl->notes, "memory: 1 GiB huge pages (%llu needed, %ld free%s)",
				  need1, g1.free, where);
		} else if (ok2) {
			pl->hugepage_kib = 2048;
			strv_addf(&pl->notes, "memory: 2 MiB huge pages (%llu needed, %ld free%s)%s",
				  need2, m2.free, where,
				  g1.nr > 0 ? "; too few 1 GiB pages free" : "");
		} else {
			strv_addf(&pl->notes, "memory: normal pages: not enough free huge pages%s "
				  "(%llu x 2 MiB needed, %ld free; %llu x 1 GiB needed, %ld free); "
				  "reserve them for better performance (sysctl vm.nr_hugepages=%llu, or "
				  "hugepagesz=1G hugepages=%llu on the kernel command line)", where, need2,
				  m2.free, need1 ? need1 : 1, g1.free, need2, need1 ? need1 : 1);
			return;
		}
	}
	pl->hugepage_path = hugetlbfs_mount(pl->ctx, pl->hugepage_kib);
	if (!pl->hugepage_path) {
		pl->hugepage_path = vfk_root_host_path(VFK_ROOT_DEV, pl->hugepage_kib == 2048
						       ? "hugepages" : "hugepages1G");
		strv_addf(&pl->notes, "no hugetlbfs mount with %s pages: QEMU expects one at %s",
			  pl->hugepage_kib == 2048 ? "2 MiB" : "1 GiB",
			  pl->hugepage_path ? pl->hugepage_path : "?");
	}
}

/* ------------------------------------------------------------ firmware */

struct fw_pick {
	char *code, *vars;
	int score;
};

static bool json_array_has(struct json_object *arr, const char *s)
{
	size_t i;

	if (!arr || !json_object_is_type(arr, json_type_array))
		return false;
	for (i = 0; i < json_object_array_length(arr); i++) {
		const char *v = json_object_get_string(json_object_array_get_idx(arr, i));

		if (v && streq(v, s))
			return true;
	}
	return false;
}

static const char *json_path_str(struct json_object *o, const char *a, const char *b)
{
	struct json_object *x, *y;

	if (!json_object_object_get_ex(o, a, &x) || !json_object_object_get_ex(x, b, &y))
		return NULL;
	return json_object_get_string(y);
}

static bool targets_q35(struct json_object *root)
{
	struct json_object *targets, *arch, *machines;
	size_t i, j;

	if (!json_object_object_get_ex(root, "targets", &targets) ||
	    !json_object_is_type(targets, json_type_array))
		return false;
	for (i = 0; i < json_object_array_length(targets); i++) {
		struct json_object *t = json_object_array_get_idx(targets, i);

		if (!json_object_object_get_ex(t, "architecture", &arch) ||
		    !streq(json_object_get_string(arch) ?: "", "x86_64"))
			continue;
		if (!json_object_object_get_ex(t, "machines", &machines) ||
		    !json_object_is_type(machines, json_type_array))
			continue;
		for (j = 0; j < json_object_array_length(machines); j++)
			if (startswith(json_object_get_string(json_object_array_get_idx(machines, j)) ?: "",
				       "pc-q35"))
				return true;
	}
	return false;
}

/* Score a QEMU firmware descriptor for @fw; -1 when unusable. */
static void consider_descriptor(struct vfk_plan *pl, int dirfd, const char *name,
				struct fw_pick *best)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *text = NULL;
	struct json_object *root, *mapping, *feat = NULL, *types = NULL;
	const char *code, *vars, *dev, *fmtc;
	bool secure, keys;
	struct stat st;
	int score;
	ssize_t n;

	fd = vfk_open_file_in(pl->ctx, dirfd, name);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > 65536)
		return;
	text = calloc(1, (size_t)st.st_size + 1);
	if (!text || (n = read(fd, text, (size_t)st.st_size)) < 0)
		return;
	root = json_tokener_parse(text);
	if (!root)
		return;
	json_object_object_get_ex(root, "interface-types", &types);
	json_object_object_get_ex(root, "features", &feat);
	if (!json_array_has(types, "uefi") || !targets_q35(root) ||
	    !json_object_object_get_ex(root, "mapping", &mapping))
		goto out;
	dev = json_path_str(root, "mapping", "device");
	code = json_path_str(mapping, "executable", "filename");
	vars = json_path_str(mapping, "nvram-template", "filename");
	fmtc = json_path_str(mapping, "executable", "format");
	if (!dev || !streq(dev, "flash") || !code || !vars || (fmtc && !streq(fmtc, "raw")) ||
	    !host_file_exists(pl->ctx, code, NULL) || !host_file_exists(pl->ctx, vars, NULL))
		goto out;
	secure = json_array_has(feat, "secure-boot");
	keys = json_array_has(feat, "enrolled-keys");
	if (pl->firmware == FW_UEFI_SECURE)
		score = secure ? (keys ? 3 : 2) : -1;
	else
		score = secure ? (keys ? 1 : 2) : 3;
	if (score > best->score) {
		free(best->code);
		free(best->vars);
		best->code = strdup(code);
		best->vars = strdup(vars);
		best->score = score;
	}
out:
	json_object_put(root);
}

/* Fallback when no descriptor names OVMF: well-known file pairs. */
static const char *const ovmf_plain[][2] = {
	{ "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd" },
	{ "/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd" },
	{ "/usr/share/edk2/ovmf/OVMF_CODE.fd", "/usr/share/edk2/ovmf/OVMF_VARS.fd" },
	{ "/usr/share/edk2/x64/OVMF_CODE.4m.fd", "/usr/share/edk2/x64/OVMF_VARS.4m.fd" },
};
static const char *const ovmf_secure[][2] = {
	{ "/usr/share/OVMF/OVMF_CODE_4M.ms.fd", "/usr/share/OVMF/OVMF_VARS_4M.ms.fd" },
	{ "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", "/usr/share/OVMF/OVMF_VARS_4M.ms.fd" },
	{ "/usr/share/edk2/ovmf/OVMF_CODE.secboot.fd", "/usr/share/edk2/ovmf/OVMF_VARS.secboot.fd" },
	{ "/usr/share/edk2/x64/OVMF_CODE.secboot.4m.fd", "/usr/share/edk2/x64/OVMF_VARS.4m.fd" },
};

static int plan_firmware(struct vfk_plan *pl)
{
	static const char *const dirs[] = { "etc/qemu/firmware", "usr/share/qemu/firmware" };
	_cleanup_close_ int top = vfk_root_open_dir(pl->ctx, VFK_ROOT_TOP, NULL);
	struct fw_pick best = { .score = -1 };
	const char *const (*pairs)[2];
	size_t i, j;
	char slugvars[300];

	if (pl->firmware == FW_BIOS)
		return 0;
	for (i = 0; top >= 0 && i < ARRAY_SIZE(dirs); i++) {
		_cleanup_close_ int dfd = vfk_open_dir_in(pl->ctx, top, dirs[i]);
		struct strv names = { 0 };

		if (dfd < 0)
			continue;
		if (list_dir(pl->ctx, dfd, ".", &names) == 0)
			for (j = 0; j < names.n; j++)
				if (strlen(names.v[j]) > 5 &&
				    streq(names.v[j] + strlen(names.v[j]) - 5, ".json"))
					consider_descriptor(pl, dfd, names.v[j], &best);
		strv_free(&names);
	}
	pairs = pl->firmware == FW_UEFI_SECURE ? ovmf_secure : ovmf_plain;
	for (i = 0; !best.code && i < ARRAY_SIZE(ovmf_plain); i++)
		if (host_file_exists(pl->ctx, pairs[i][0], NULL) &&
		    host_file_exists(pl->ctx, pairs[i][1], NULL)) {
			best.code = strdup(pairs[i][0]);
			best.vars = strdup(pairs[i][1]);
		}
	if (!best.code) {
		best.code = strdup(pairs[0][0]);
		best.vars = strdup(pairs[0][1]);
		strv_addf(&pl->notes, "OVMF%s not found under the sysroot: install it (Debian: "
			  "ovmf, Fedora: edk2-ovmf, Arch: edk2-ovmf); assuming %s",
			  pl->firmware == FW_UEFI_SECURE ? " with Secure Boot" : "",
			  best.code ? best.code : "?");
	}
	pl->fw_code = best.code;
	pl->fw_vars = best.vars;
	snprintf(slugvars, sizeof(slugvars), "%s/nvram/%s_VARS.fd", VFK_STATE_DIR, pl->slug);
	pl->nvram = strdup(slugvars);
	if (!pl->fw_code || !pl->fw_vars || !pl->nvram)
		return neg_errno(ENOMEM);
	return 0;
}

/* ------------------------------------------------------------ devices */

static const char *ext_of(const char *path)
{
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');

	return dot && (!slash || dot > slash) ? dot + 1 : "";
}

static int plan_disks(struct vfk_plan *pl)
{
	const struct vfk_profile *p = pl->prof;
	unsigned int nvd = 0, nsd = 0;
	size_t i;

	pl->disks = calloc(p->ndisks ? p->ndisks : 1, sizeof(*pl->disks));
	if (!pl->disks)
		return neg_errno(ENOMEM);
	for (i = 0; i < p->ndisks; i++) {
		const struct prof_disk *s = &p->disks[i];
		struct plan_disk *d = &pl->disks[pl->ndisks++];
		struct stat st;
		int bus = s->bus;

		d->src = s;
		d->cdrom = s->media == MEDIA_CDROM ||
			   (s->media == MEDIA_AUTO && !strcasecmp(ext_of(s->path), "iso"));
		if (d->cdrom && bus == BUS_VIRTIO)
			bus = BUS_SATA;
		d->readonly = d->cdrom || s->readonly;
		if (s->format != FMT_AUTO)
			d->format = s->format;
		else
			d->format = !strcasecmp(ext_of(s->path), "qcow2") ? FMT_QCOW2 : FMT_RAW;
		if (host_file_exists(pl->ctx, s->path, &st))
			d->block = S_ISBLK(st.st_mode);
		else
			strv_addf(&pl->notes, "disk %s does not exist (yet)", s->path);
		if (bus == BUS_VIRTIO)
			snprintf(d->target, sizeof(d->target), "vd%c", 'a' + (nvd++ % 26));
		else
			snprintf(d->target, sizeof(d->target), "sd%c", 'a' + (nsd++ % 26));
		if (bus == BUS_SCSI)
			pl->scsi = true;
		d->boot = (unsigned int)i + 1;
		d->bus = bus;
	}
	return 0;
}

static int plan_nets(struct vfk_plan *pl)
{
	static const struct prof_net default_net = { .id = (char *)"", .type = NET_USER,
						     .model = NIC_VIRTIO };
	const struct vfk_profile *p = pl->prof;
	size_t i, n = p->net_given ? p->nnets : 1;

	pl->nets = calloc(n ? n : 1, sizeof(*pl->nets));
	if (!pl->nets)
		return neg_errno(ENOMEM);
	for (i = 0; i < n; i++) {
		const struct prof_net *s = p->net_given ? &p->nets[i] : &default_net;
		struct plan_net *d;
		char key[256];
		uint64_t h;

		if (s->type == NET_NONE)
			continue;
		d = &pl->nets[pl->nnets];
		d->src = s;
		if (s->mac) {
			snprintf(d->mac, sizeof(d->mac), "%s", s->mac);
		} else {
			snprintf(key, sizeof(key), "vfiokit-mac:%s/%zu", p->name, pl->nnets);
			h = fnv1a(key, UINT64_C(0xcbf29ce484222325));
			snprintf(d->mac, sizeof(d->mac), "52:54:00:%02x:%02x:%02x",
				 (unsigned int)(h >> 16) & 0xff, (unsigned int)(h >> 8) & 0xff,
				 (unsigned int)h & 0xff);
		}
		if (s->type == NET_BRIDGE) {
			d->bridge = s->bridge;
		} else if (s->type == NET_NETWORK) {
			d->bridge = s->bridge ? s->bridge : "virbr0";
			strv_addf(&pl->notes, "network %s: the QEMU command joins bridge %s "
				  "(libvirt networks exist only for libvirt; set bridge = to change)",
				  s->network ? s->network : "default", d->bridge);
		}
		pl->nnets++;
	}
	return 0;
}

static char *find_emulator(struct vfk_plan *pl)
{
	static const char *const candidates[] = { "/usr/bin/qemu-system-x86_64",
						  "/usr/libexec/qemu-kvm", "/usr/bin/qemu-kvm" };
	size_t i;

	if (pl->prof->emulator)
		return strdup(pl->prof->emulator);
	for (i = 0; i < ARRAY_SIZE(candidates); i++)
		if (host_file_exists(pl->ctx, candidates[i], NULL))
			return strdup(candidates[i]);
	strv_addf(&pl->notes, "QEMU not found under the sysroot (qemu-system-x86_64): install "
		  "qemu-system-x86");
	return strdup(candidates[0]);
}

/* KVM unless the profile says tcg, there is no usable kvm device, or it is kvm-pvm. */
static void plan_accel(struct vfk_plan *pl)
{
	_cleanup_close_ int devfd = vfk_root_open_dir(pl->ctx, VFK_ROOT_DEV, NULL);
	_cleanup_close_ int sysfd = vfk_root_open_dir(pl->ctx, VFK_ROOT_SYS, NULL);
	bool kvm = devfd >= 0 && vfk_exists_at(devfd, "kvm");
	bool pvm = sysfd >= 0 && vfk_exists_at(sysfd, "module/kvm_pvm");

	switch (pl->prof->accel) {
	case ACCEL_TCG:
		pl->kvm = false;
		strv_addf(&pl->notes, "accel = tcg: QEMU emulates the CPU (slow)");
		break;
	case ACCEL_KVM:
		pl->kvm = true;
		if (!kvm || pvm)
			strv_addf(&pl->notes, "accel = kvm, but %s: the VM will not start",
				  pvm ? "this host's KVM is kvm-pvm (PVM guests only)"
				      : "the host has no kvm device");
		break;
	default:
		pl->kvm = kvm && !pvm;
		if (!pl->kvm)
			strv_addf(&pl->notes, "KVM cannot run this guest (%s): falling back to TCG, "
				  "much slower; the CPU is QEMU's 'max' model",
				  pvm ? "kvm-pvm runs PVM guests only" : "no kvm device");
	}
}

static int plan_cpu(struct vfk_plan *pl)
{
	const struct vfk_profile *p = pl->prof;
	struct topo_pin_request req = { .vcpus = p->vcpus, .host_cores = p->host_cores,
					.pin = p->pinning != 0 };
	struct cpuset local;
	const struct vfk_device *gdev = NULL;
	struct vfk_device *mdev_parent = NULL;
	int r;

	r = host_topo(pl->host, &pl->topo);
	if (r < 0 && r != -ENOENT)
		return r;
	if (pl->gpu)
		gdev = vfk_gpu_get_device(pl->gpu);
	else if (pl->mdev.parent && vfk_host_find_device(pl->host, pl->mdev.parent, &mdev_parent) == 0)
		gdev = mdev_parent;
	if (gdev && vfk_device_get_local_cpulist(gdev) &&
	    cpuset_parse(vfk_device_get_local_cpulist(gdev), &local) == 0)
		req.local = &local;
	r = topo_pin(pl->topo, &req, &pl->pin, &pl->notes);
	if (r < 0)
		return r;
	if (pl->pin.pinned && cpuset_count(&pl->pin.host)) {
		char buf[4096];

		pl->host_cpus = strdup(cpuset_format(&pl->pin.host, buf, sizeof(buf)));
		if (!pl->host_cpus)
			return neg_errno(ENOMEM);
	}
	pl->cpu_model = p->cpu_model != CPU_AUTO ? p->cpu_model : pl->kvm ? CPU_HOST : CPU_MAX;
	if (pl->cpu_model == CPU_HOST && !pl->kvm) {
		pl->cpu_model = CPU_MAX;
		strv_addf(&pl->notes, "cpu-model = host-passthrough needs KVM: QEMU's max model instead");
	}
	pl->topoext = pl->topo && streq(pl->topo->vendor, "AuthenticAMD") && pl->cpu_model == CPU_HOST &&
		      pl->pin.threads > 1;
	if (pl->cpu_model != CPU_HOST && pl->pin.threads > 1) {
		/* QEMU's own models know no SMT topology without topoext: plain cores */
		pl->pin.cores = pl->pin.nvcpus;
		pl->pin.threads = 1;
	}
	pl->iothreads = p->iothreads;

	/* memory follows the vCPUs (or the GPU) on multi-node hosts */
	pl->memory_node = -1;
	if (pl->topo && pl->topo->nnodes > 1) {
		if (pl->pin.pinned && pl->pin.node >= 0)
			pl->memory_node = pl->pin.node;
		else if (gdev && vfk_device_get_numa_node(gdev) >= 0)
			pl->memory_node = vfk_device_get_numa_node(gdev);
		if (pl->memory_node >= 0)
			strv_addf(&pl->notes, "memory: bound to NUMA node %d%s", pl->memory_node,
				  gdev && vfk_device_get_numa_node(gdev) == pl->memory_node
				  ? " (the GPU's node)" : "");
	}
	return 0;
}

static void plan_features(struct vfk_plan *pl)
{
	const struct vfk_profile *p = pl->prof;

	pl->hyperv = p->hyperv == TRI_AUTO ? p->os == OS_WINDOWS : p->hyperv == TRI_YES;
	if (pl->hyperv && !pl->kvm) {
		pl->hyperv = false;
		strv_addf(&pl->notes, "Hyper-V enlightenments need KVM: left out under TCG");
	}
	pl->kvm_hidden = p->kvm_hidden == 1 && pl->kvm;
	if (p->vendor_id && !pl->hyperv)
		strv_addf(&pl->notes, "vendor-id = %s is ignored: it is a Hyper-V setting and "
			  "hyperv is off", p->vendor_id);
	pl->tpm = p->tpm == TRI_AUTO ? p->firmware == FW_UEFI_SECURE : p->tpm == TRI_YES;
	pl->serial = p->serial != SERIAL_AUTO ? p->serial
					      : (p->os == OS_WINDOWS ? SERIAL_NO : SERIAL_PTY);
}

static int plan_display(struct vfk_plan *pl)
{
	const struct vfk_profile *p = pl->prof;
	char rel[300];

	/* the display (how a human sees the guest) */
	if (p->display != DISP_AUTO)
		pl->display = p->display;
	else if (pl->mode == VFK_GPU_MODE_NONE)
		pl->display = DISP_NONE;
	else if (pl->mode == VFK_GPU_MODE_PASSTHROUGH)
		pl->display = p->looking_glass ? DISP_SPICE : DISP_NONE;
	else
		pl->display = DISP_SPICE;
	/* the guest's emulated video device */
	switch (pl->mode) {
	case VFK_GPU_MODE_VIRTIO:
		pl->video = VIDEO_VIRTIO;
		break;
	case VFK_GPU_MODE_EMULATED:
		pl->video = VIDEO_QXL;
		break;
	case VFK_GPU_MODE_MDEV:
		pl->video = pl->display == DISP_NONE ? VIDEO_NONE
			    : p->os == OS_WINDOWS ? VIDEO_QXL : VIDEO_VIRTIO;
		break;
	default:
		pl->video = VIDEO_NONE;
	}
	pl->tablet = p->tablet == TRI_AUTO ? pl->display != DISP_NONE : p->tablet == TRI_YES;
	if (pl->virgl && pl->display == DISP_SPICE) {
		snprintf(rel, sizeof(rel), "vm/%s/spice.sock", pl->slug);
		pl->spice_socket = vfk_root_host_path(VFK_ROOT_RUN, rel);
		if (!pl->spice_socket)
			return neg_errno(ENOMEM);
	}
	if (pl->virgl && pl->display == DISP_VNC)
		strv_addf(&pl->notes, "virgl renders headless (egl-headless); VNC shows the result");
	if (p->looking_glass) {
		if (pl->mode == VFK_GPU_MODE_PASSTHROUGH || pl->mode == VFK_GPU_MODE_MDEV) {
			pl->lg_mib = vfk_looking_glass_size_mib(p->res[0], p->res[1]);
			pl->lg_path = vfk_root_host_path(VFK_ROOT_DEV, "shm/looking-glass");
			if (!pl->lg_path)
				return neg_errno(ENOMEM);
			strv_addf(&pl->notes, "Looking Glass: %u MiB of shared memory (ivshmem) for "
				  "%ux%u", pl->lg_mib, p->res[0], p->res[1]);
		} else {
			strv_addf(&pl->notes, "looking-glass ignored: mode %s gives the guest no GPU "
				  "of its own", vfk_gpu_mode_to_string(pl->mode));
		}
	}
	if (pl->tpm) {
		snprintf(rel, sizeof(rel), "vm/%s/swtpm.sock", pl->slug);
		pl->tpm_socket = vfk_root_host_path(VFK_ROOT_RUN, rel);
		if (!pl->tpm_socket)
			return neg_errno(ENOMEM);
	}
	return 0;
}

/* ------------------------------------------------------------ the plan */

void vfk_plan_free(struct vfk_plan *pl)
{
	size_t i;

	if (!pl)
		return;
	vfk_host_unref(pl->host);
	free(pl->slug);
	free(pl->mode_reason);
	for (i = 0; i < ARRAY_SIZE(pl->rejected); i++)
		free(pl->rejected[i]);
	free(pl->rom);
	free(pl->mdev.parent);
	free(pl->mdev.type);
	free(pl->mdev.type_name);
	free(pl->mdev.uuid);
	free(pl->mdev.vf);
	free(pl->render_node);
	topo_pinning_free(&pl->pin);
	free(pl->host_cpus);
	free(pl->hugepage_path);
	free(pl->fw_code);
	free(pl->fw_vars);
	free(pl->nvram);
	free(pl->tpm_socket);
	free(pl->lg_path);
	free(pl->spice_socket);
	free(pl->emulator);
	free(pl->disks);
	free(pl->nets);
	strv_free(&pl->notes);
	free(pl);
}

int vfk_plan_new(struct vfk_host *host, const struct vfk_profile *profile, struct vfk_plan **out,
		 char *errbuf, size_t errsize)
{
	struct vfk_plan *pl;
	int r;

	if (!host || !profile || !out)
		return neg_errno(EINVAL);
	*out = NULL;
	set_error(errbuf, errsize, "%s", "");
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return neg_errno(ENOMEM);
	pl->host = vfk_host_ref(host);
	pl->ctx = vfk_host_get_ctx(host);
	pl->prof = profile;
	pl->firmware = profile->firmware;
	pl->memory_mib = profile->memory_mib;
	pl->slug = make_slug(profile->name);
	if (!pl->slug)
		goto oom;

	r = choose_mode(pl, errbuf, errsize);
	if (r < 0)
		goto fail;
	if (profile->rom && pl->mode == VFK_GPU_MODE_PASSTHROUGH) {
		pl->rom = strdup(profile->rom);
		if (!pl->rom)
			goto oom;
		if (!host_file_exists(pl->ctx, pl->rom, NULL))
			strv_addf(&pl->notes, "rom %s does not exist (yet)", pl->rom);
	} else if (profile->rom) {
		strv_addf(&pl->notes, "rom ignored: mode is %s", vfk_gpu_mode_to_string(pl->mode));
	}
	plan_accel(pl);
	r = plan_cpu(pl);
	if (r < 0)
		goto fail;
	plan_hugepages(pl);
	plan_features(pl);
	r = plan_firmware(pl);
	if (r < 0)
		goto fail;
	r = plan_display(pl);
	if (r < 0)
		goto fail;
	pl->emulator = find_emulator(pl);
	if (!pl->emulator)
		goto oom;
	r = plan_disks(pl);
	if (r < 0)
		goto fail;
	r = plan_nets(pl);
	if (r < 0)
		goto fail;
	if (profile->firmware == FW_BIOS && pl->mode == VFK_GPU_MODE_PASSTHROUGH &&
	    (vfk_device_get_class(vfk_gpu_get_device(pl->gpu)) >> 8) == 0x0300)
		strv_addf(&pl->notes, "firmware = bios: SeaBIOS does not show its output on the "
			  "passed-through GPU; the guest's own driver takes it over at boot");
	*out = pl;
	return 0;
oom:
	r = neg_errno(ENOMEM);
fail:
	if (r == -ENOMEM)
		set_error(errbuf, errsize, "out of memory");
	vfk_plan_free(pl);
	return r;
}

/* ------------------------------------------------------------ getters */

const char *vfk_plan_get_name(const struct vfk_plan *pl) { return pl ? pl->prof->name : NULL; }
enum vfk_gpu_mode vfk_plan_get_mode(const struct vfk_plan *pl)
{
	return pl ? (enum vfk_gpu_mode)pl->mode : VFK_GPU_MODE_AUTO;
}
const char *vfk_plan_get_mode_reason(const struct vfk_plan *pl) { return pl ? pl->mode_reason : NULL; }
const char *vfk_plan_get_rejection(const struct vfk_plan *pl, enum vfk_gpu_mode mode)
{
	return pl && (unsigned int)mode < VFK_GPU_MODE_COUNT ? pl->rejected[mode] : NULL;
}
struct vfk_gpu *vfk_plan_get_gpu(const struct vfk_plan *pl) { return pl ? pl->gpu : NULL; }
const char *vfk_plan_get_mdev_parent(const struct vfk_plan *pl) { return pl ? pl->mdev.parent : NULL; }
const char *vfk_plan_get_mdev_type(const struct vfk_plan *pl) { return pl ? pl->mdev.type : NULL; }
const char *vfk_plan_get_mdev_uuid(const struct vfk_plan *pl) { return pl ? pl->mdev.uuid : NULL; }
const char *vfk_plan_get_mdev_vf(const struct vfk_plan *pl) { return pl ? pl->mdev.vf : NULL; }
bool vfk_plan_get_virgl(const struct vfk_plan *pl) { return pl && pl->virgl; }
const char *vfk_plan_get_render_node(const struct vfk_plan *pl) { return pl ? pl->render_node : NULL; }
bool vfk_plan_uses_kvm(const struct vfk_plan *pl) { return pl && pl->kvm; }
unsigned int vfk_plan_get_vcpus(const struct vfk_plan *pl) { return pl ? pl->pin.nvcpus : 0; }

int vfk_plan_get_vcpu_pin(const struct vfk_plan *pl, unsigned int vcpu)
{
	if (!pl || vcpu >= pl->pin.nvcpus || !pl->pin.pinned)
		return -1;
	return pl->pin.vcpu_cpu[vcpu];
}

const char *vfk_plan_get_emulator_cpus(const struct vfk_plan *pl)
{
	return pl ? pl->host_cpus : NULL;
}

void vfk_plan_get_topology(const struct vfk_plan *pl, unsigned int *sockets, unsigned int *dies,
			   unsigned int *cores, unsigned int *threads)
{
	if (sockets)
		*sockets = pl ? pl->pin.sockets : 0;
	if (dies)
		*dies = pl ? pl->pin.dies : 0;
	if (cores)
		*cores = pl ? pl->pin.cores : 0;
	if (threads)
		*threads = pl ? pl->pin.threads : 0;
}

unsigned long long vfk_plan_get_memory_mib(const struct vfk_plan *pl) { return pl ? pl->memory_mib : 0; }
int vfk_plan_get_memory_node(const struct vfk_plan *pl) { return pl ? pl->memory_node : -1; }
unsigned long vfk_plan_get_hugepage_kib(const struct vfk_plan *pl) { return pl ? pl->hugepage_kib : 0; }
unsigned int vfk_plan_get_ivshmem_mib(const struct vfk_plan *pl) { return pl ? pl->lg_mib : 0; }
const char *vfk_plan_get_firmware_code(const struct vfk_plan *pl) { return pl ? pl->fw_code : NULL; }
const char *vfk_plan_get_firmware_vars(const struct vfk_plan *pl) { return pl ? pl->fw_vars : NULL; }
size_t vfk_plan_note_count(const struct vfk_plan *pl) { return pl ? pl->notes.n : 0; }
const char *vfk_plan_note(const struct vfk_plan *pl, size_t i)
{
	return pl && i < pl->notes.n ? pl->notes.v[i] : NULL;
}
