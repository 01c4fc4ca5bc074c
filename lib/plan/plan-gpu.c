/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The plan's GPU mode. Every mode is evaluated, so that the plan says why
 * each one not chosen was not: passthrough (an isolated GPU that is neither
 * the host's only GPU nor its console, or the one the [gpu] device selector
 * names), mdev (a parent with a free instance of an acceptable type),
 * virtio-gpu (virgl when the host has a render node), emulated (QXL). "auto"
 * takes the first possible one in that order. A passed-through GPU may
 * come with a ROM image.
 */
#include <ctype.h>
#include <stdio.h>

#include "plan/plan-internal.h"
#include "mdev/mdev.h"

/* ------------------------------------------------------------ small helpers */

/* A UUID (RFC 9562 version 8, "custom") derived from @key. */
static void stable_uuid(const char *key, char *out, size_t size)
{
	uint64_t a = plan_fnv1a(key, UINT64_C(0xcbf29ce484222325));
	uint64_t b = plan_fnv1a(key, UINT64_C(0x84222325cbf29ce4) ^ a);
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

/* ------------------------------------------------------------ GPU selection */

bool plan_gpu_has_function(const struct vfk_gpu *g, const struct vfk_device *d)
{
	size_t i;

	for (i = 0; i < vfk_gpu_function_count(g); i++)
		if (vfk_gpu_function(g, i) == d)
			return true;
	return false;
}

static bool gpu_matches(const struct vfk_gpu *g, const char *sel)
{
	return plan_device_matches(vfk_gpu_get_device(g), sel);
}

static void list_gpus(const struct vfk_host *h, struct sbuf *b, const char *sel)
{
	size_t i, n = 0;

	for (i = 0; i < vfk_host_gpu_count(h); i++) {
		const struct vfk_gpu *g = vfk_host_gpu(h, i);
		_cleanup_free_ char *name = NULL;

		if (sel && !gpu_matches(g, sel))
			continue;
		name = plan_device_name(vfk_gpu_get_device(g));
		sbuf_addf(b, "%s%s", n++ ? "; " : "", name ? name : "?");
	}
	if (!n)
		sbuf_add(b, "none");
}

/*
 * Resolve the [gpu] device selector: a PCI address (of the GPU or one of its
 * functions), vendor:device ids, or a fragment of the name.
 */
int plan_select_gpu(const struct vfk_host *h, const char *sel, struct vfk_gpu **out,
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
			plan_set_error(errbuf, errsize, "[gpu] device = %s: no such PCI device", sel);
			return neg_errno(ENODEV);
		}
		for (i = 0; i < vfk_host_gpu_count(h); i++)
			if (vfk_gpu_get_device(vfk_host_gpu(h, i)) == d) {
				*out = vfk_host_gpu(h, i);
				return 0;
			}
		for (i = 0; i < vfk_host_gpu_count(h); i++)
			if (plan_gpu_has_function(vfk_host_gpu(h, i), d)) {
				*out = vfk_host_gpu(h, i);
				return 0;
			}
		plan_set_error(errbuf, errsize, "[gpu] device = %s: %s is not a GPU or a GPU's function",
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
		plan_set_error(errbuf, errsize, "[gpu] device = %s: no GPU matches (GPUs: %s)", sel,
			  list ? list : "?");
		return neg_errno(ENODEV);
	}
	{
		_cleanup_free_ char *list = NULL;

		list_gpus(h, &b, sel);
		list = sbuf_take(&b);
		plan_set_error(errbuf, errsize, "[gpu] device = %s: ambiguous, %zu GPUs match: %s; "
			  "name one by its address", sel, n, list ? list : "?");
	}
	return neg_errno(ENOTUNIQ);
}

/* ------------------------------------------------------------ mode evaluation */

struct mode_eval {
	bool ok;
	char *why;	/* ok: what the mode would use; else why it cannot be used */
};

/* Why no candidate can be given away, each GPU with its obstacle. */
static char *no_gpu_text(const struct vfk_plan *pl)
{
	const char *hint = NULL;	/* an isolated GPU the host uses: can be named */
	struct sbuf b = { 0 };
	size_t i;

	sbuf_add(&b, "no GPU can be given away: ");
	for (i = 0; i < pl->ncands; i++) {
		const struct plan_candidate *c = &pl->cands[i];
		const char *addr = vfk_device_get_address(vfk_gpu_get_device(c->gpu));

		sbuf_addf(&b, "%s%s %s", i ? "; " : "", addr,
			  c->reasons.n ? c->reasons.v[c->reasons.n - 1] : "?");
		if (!hint && vfk_gpu_is_isolated(c->gpu))
			hint = addr;
	}
	if (hint)
		sbuf_addf(&b, " (to pass it through anyway, name it: [gpu] device = %s)", hint);
	return sbuf_take(&b);
}

static void eval_passthrough(struct vfk_plan *pl, struct vfk_gpu *sel, struct mode_eval *ev)
{
	struct vfk_host *h = pl->host;

	if (!vfk_host_iommu_enabled(h)) {
		ev->why = strdup("the IOMMU is off: the kernel made no IOMMU groups (vfio-check "
				 "tells how to turn it on)");
		return;
	}
	if (vfk_host_gpu_count(h) == 0) {
		ev->why = strdup("the host has no GPU");
		return;
	}
	if (pl->several) {
		ev->ok = plan_choose_gpus(pl, &ev->why) == 0;
		return;
	}
	{
		const struct plan_named nm = { &sel, sel ? 1 : 0, pl->prof->device, false };

		if (plan_rank_gpus(pl, &nm) < 0)
			return;	/* no memory: no reason either, vfk_plan_new fails */
	}
	pl->gpu = plan_ranked_first(pl);
	if (sel && !pl->gpu) {
		ev->why = plan_gpu_obstacle(sel, true);
		return;
	}
	if (!pl->gpu) {
		ev->why = no_gpu_text(pl);
		return;
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

/* The type asked for (mdev-type), else the smallest free one, on @parent or
 * any parent; NULL with ev->why set when there is none. */
static struct vfk_mdev_type *pick_mdev_type(struct vfk_plan *pl, const struct vfk_mdevs *m,
					    const char *parent, struct mode_eval *ev)
{
	const char *want = pl->prof->mdev_type;
	struct vfk_mdev_type *t = NULL;

	if (!want) {
		if (vfk_mdevs_pick_type(m, parent, 0, 0, &t) < 0) {
			ev->why = strdupf("no mediated device type has a free instance%s%s",
				      parent ? " on " : "", parent ? parent : "");
			return NULL;
		}
		return t;
	}
	if (vfk_mdevs_find_type(m, parent, want, &t) < 0) {
		ev->why = strdupf("no mediated device type matches mdev-type = %s%s%s", want,
			      parent ? " on " : "", parent ? parent : "");
		return NULL;
	}
	if (!vfk_mdev_type_get_available(t)) {
		ev->why = strdupf("type %s on %s has no free instance (available_instances 0)",
			      vfk_mdev_type_get_id(t),
			      vfk_mdev_parent_get_name(vfk_mdev_type_get_parent(t)));
		return NULL;
	}
	return t;
}

/* The mdev the plan creates: its UUID stays the same for the same profile
 * name, parent and type, so that a VM keeps its vGPU across plans. */
static void record_mdev(struct vfk_plan *pl, const struct vfk_mdev_type *t, const char *pname,
			const char *vf)
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

/* A mediated device (vGPU) through the vfk_mdevs API, on @parent or any parent. */
static void eval_mdev(struct vfk_plan *pl, const char *parent, struct mode_eval *ev)
{
	struct vfk_mdevs *m = NULL;
	struct vfk_mdev_type *t;
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
	t = pick_mdev_type(pl, m, parent, ev);
	if (!t)
		goto out;
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
	record_mdev(pl, t, pname, vf);
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

	if (drm < 0 || devfd < 0 || plan_list_dir(pl->ctx, drm, ".", &names) < 0) {
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
		    vfk_host_find_device(pl->host, addr, &d) == 0 && plan_gpu_has_function(pl->gpu, d))
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

/*
 * The GPU and the mdev parent the [gpu] device selector names, if any. A
 * selector that is no PCI GPU may still name an mdev parent.
 */
/* One GPU of a group that holds others: the group goes whole, say how. */
static int together_error(const struct vfk_gpu *g, char *errbuf, size_t errsize)
{
	const struct vfk_device *d = vfk_gpu_get_device(g);
	struct sbuf others = { 0 }, all = { 0 };
	size_t i;

	sbuf_add(&all, vfk_device_get_address(d));
	for (i = 0; i < vfk_gpu_together_count(g); i++) {
		const char *o = vfk_device_get_address(vfk_gpu_get_device(vfk_gpu_together(g, i)));

		sbuf_addf(&others, "%s%s", i ? ", " : "", o);
		sbuf_addf(&all, ", %s", o);
	}
	plan_set_error(errbuf, errsize, "[gpu] device = %s shares IOMMU group %d with the GPU%s %s: "
		       "a group goes to one VM whole; [gpu] device = %s gives them together",
		       vfk_device_get_address(d), vfk_device_get_iommu_group(d),
		       vfk_gpu_together_count(g) == 1 ? "" : "s", others.s ? others.s : "?",
		       all.s ? all.s : "?");
	sbuf_free(&others);
	sbuf_free(&all);
	return neg_errno(EINVAL);
}

static int resolve_selector(struct vfk_plan *pl, struct vfk_gpu **sel, const char **parent,
			    char *errbuf, size_t errsize)
{
	const struct vfk_profile *p = pl->prof;
	int want = p->mode, r;

	*sel = NULL;
	*parent = NULL;
	if (!p->device && !pl->several)
		return 0;
	if (want == VFK_GPU_MODE_VIRTIO || want == VFK_GPU_MODE_EMULATED ||
	    want == VFK_GPU_MODE_NONE) {
		strv_addf(&pl->notes, "[gpu] device = %s is ignored: mode = %s uses no host "
			  "GPU", p->device, vfk_gpu_mode_to_string(want));
		return 0;
	}
	if (pl->several) {
		if (want == VFK_GPU_MODE_MDEV) {
			plan_set_error(errbuf, errsize, "[gpu] %s asks for several GPUs: only "
				       "mode = passthrough gives a VM more than one",
				       p->gpu_count > 1 ? "count" : "device");
			return neg_errno(EINVAL);
		}
		return plan_resolve_gpus(pl, errbuf, errsize);
	}
	r = plan_select_gpu(pl->host, p->device, sel, errbuf, errsize);
	if (r == -ENODEV && want == VFK_GPU_MODE_MDEV && is_mdev_parent(pl, p->device)) {
		/* a parent that is no PCI GPU: GVT-g's i915 is one, the
		 * kernel's sample drivers (mbochs, mdpy, mtty) are not */
		*parent = p->device;
		if (errbuf && errsize)
			errbuf[0] = '\0';
		return 0;
	}
	if (r < 0)
		return r;
	if (want != VFK_GPU_MODE_MDEV && vfk_gpu_get_verdict(*sel) == VFK_GPU_TOGETHER)
		return together_error(*sel, errbuf, errsize);
	*parent = vfk_device_get_address(vfk_gpu_get_device(*sel));
	return 0;
}

static void evaluate_modes(struct vfk_plan *pl, struct vfk_gpu *sel, const char *parent,
			   struct mode_eval *ev)
{
	int want = pl->prof->mode;

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
}

/* The mode asked for, or auto's first possible one; -ENODEV when the one
 * asked for is not possible. */
static int pick_mode(struct vfk_plan *pl, const struct mode_eval *ev, char *errbuf, size_t errsize)
{
	int want = pl->prof->mode, chosen = -1;
	size_t i;

	if (want == VFK_GPU_MODE_AUTO && pl->several && !ev[VFK_GPU_MODE_PASSTHROUGH].ok) {
		/* a VM asked to have several GPUs never falls back to an emulated one */
		plan_set_error(errbuf, errsize, "%s", ev[VFK_GPU_MODE_PASSTHROUGH].why
			       ? ev[VFK_GPU_MODE_PASSTHROUGH].why : "several GPUs cannot be given");
		return neg_errno(ENODEV);
	}
	if (want == VFK_GPU_MODE_AUTO) {
		for (i = 0; i < ARRAY_SIZE(auto_order) && chosen < 0; i++)
			if (ev[auto_order[i]].ok)
				chosen = auto_order[i];
		pl->mode_reason = strdupf("auto: %s", ev[chosen].why ? ev[chosen].why : "");
		return chosen;
	}
	if (!ev[want].ok) {
		plan_set_error(errbuf, errsize, "mode = %s is not possible on this host: %s",
			       vfk_gpu_mode_to_string(want), ev[want].why ? ev[want].why : "?");
		return neg_errno(ENODEV);
	}
	pl->mode_reason = strdupf("the profile asks for mode = %s: %s",
			      vfk_gpu_mode_to_string(want), ev[want].why ? ev[want].why : "");
	return want;
}

/* Why each mode but @chosen was not chosen. */
static void explain_rejections(struct vfk_plan *pl, const struct mode_eval *ev, int chosen)
{
	int want = pl->prof->mode;
	size_t i;

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
}

/* Evaluating a mode fills its part of the plan; the parts of the modes not chosen go. */
static void drop_unchosen(struct vfk_plan *pl, int chosen)
{
	if (chosen != VFK_GPU_MODE_PASSTHROUGH) {
		pl->gpu = NULL;
		plan_gpus_free(pl);
		plan_candidates_unchoose(pl);
	}
	if (chosen != VFK_GPU_MODE_MDEV)
		plan_drop_mdev(pl);
	if (chosen != VFK_GPU_MODE_VIRTIO) {
		pl->virgl = false;
		free(pl->render_node);
		pl->render_node = NULL;
	}
}

/* What starting the VM will do to the host for the chosen mode. */
static void note_chosen(struct vfk_plan *pl, int chosen)
{
	if (chosen == VFK_GPU_MODE_PASSTHROUGH) {
		const struct vfk_gpu *g = pl->gpu;
		const char *addr = vfk_device_get_address(vfk_gpu_get_device(g));

		if (vfk_gpu_is_only_gpu(g) || vfk_gpu_console_in_use(g))
			strv_addf(&pl->notes, "single-GPU passthrough: %s is %s; starting the VM "
				  "releases it (vfio-bind --single-gpu) and leaves the host without "
				  "a display until the VM stops", addr,
				  vfk_gpu_is_only_gpu(g) ? "the host's only GPU" : "the host console's GPU");
		plan_note_gpu_kind(pl);	/* also what holds it on its host driver */
	}
	if (chosen == VFK_GPU_MODE_MDEV && pl->mdev.vf)
		strv_addf(&pl->notes, "vGPU of type %s on VF %s of %s is set up when the VM starts",
			  pl->mdev.type, pl->mdev.vf, pl->mdev.parent);
	else if (chosen == VFK_GPU_MODE_MDEV)
		strv_addf(&pl->notes, "mdev %s of type %s on %s is created when the VM starts",
			  pl->mdev.uuid, pl->mdev.type, pl->mdev.parent);
}

int plan_choose_mode(struct vfk_plan *pl, char *errbuf, size_t errsize)
{
	struct mode_eval ev[VFK_GPU_MODE_COUNT] = { 0 };
	struct vfk_gpu *sel;
	const char *parent;
	int chosen;
	size_t i;

	pl->several = plan_wants_several(pl);
	chosen = resolve_selector(pl, &sel, &parent, errbuf, errsize);
	if (chosen < 0)
		return chosen;
	evaluate_modes(pl, sel, parent, ev);
	chosen = pick_mode(pl, ev, errbuf, errsize);
	if (chosen >= 0) {
		pl->mode = chosen;
		explain_rejections(pl, ev, chosen);
		drop_unchosen(pl, chosen);
		note_chosen(pl, chosen);
		if (chosen == VFK_GPU_MODE_PASSTHROUGH) {
			int r = plan_gpus_finish(pl, errbuf, errsize);

			if (r < 0)
				chosen = r;
		}
	}
	for (i = 0; i < VFK_GPU_MODE_COUNT; i++)
		free(ev[i].why);
	if (chosen < 0)
		return chosen;
	return pl->mode_reason ? 0 : neg_errno(ENOMEM);
}

/* ------------------------------------------------------------ ROM */

/* A ROM image for the GPU passed through; no other mode has a use for one. */
int plan_rom(struct vfk_plan *pl)
{
	const char *rom = pl->prof->rom;

	if (!rom)
		return 0;
	if (pl->mode != VFK_GPU_MODE_PASSTHROUGH) {
		strv_addf(&pl->notes, "rom ignored: mode is %s", vfk_gpu_mode_to_string(pl->mode));
		return 0;
	}
	pl->rom = strdup(rom);
	if (!pl->rom)
		return neg_errno(ENOMEM);
	if (!plan_host_file_exists(pl->ctx, pl->rom, NULL))
		strv_addf(&pl->notes, "rom %s does not exist (yet)", pl->rom);
	return 0;
}
