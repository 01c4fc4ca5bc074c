/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which GPU to give away when the profile names none, as the user would
 * choose: every GPU of the host is a candidate with its reasons, and among
 * those that can be given away the ranking is
 *   1. one the host already hands to vfio-pci (bound, driver_override,
 *      vfio-pci.ids= or modprobe.d, a vfio-bind persist entry): the user's
 *      intent could not be clearer;
 *   2. a discrete card before integrated graphics (inventory's placement);
 *   3. address order, so that of two identical cards the first is taken.
 * Never one that drives the console, is the boot display or is the host's
 * only GPU unless the profile names it. Integrated graphics, once chosen or
 * named, bring notes on what passing them through needs (GVT-d, a VBIOS).
 */
#include <stdio.h>

#include "plan/plan-internal.h"
#include "bind/guards.h"
#include "inventory/inventory.h"

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

/* What keeps @g from a VM because of the host's use of it; NULL when named. */
static char *host_use_obstacle(const struct vfk_gpu *g, bool named)
{
	const char *use = named ? NULL : gpu_host_use(g);

	return use ? strdupf("%s %s", vfk_device_get_address(vfk_gpu_get_device(g)), use) : NULL;
}

char *plan_gpu_obstacle(const struct vfk_gpu *g, bool named)
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
	return host_use_obstacle(g, named);
}

char *plan_gpu_set_obstacle(const struct vfk_gpu *g, bool named)
{
	if (vfk_gpu_get_verdict(g) != VFK_GPU_TOGETHER)
		return plan_gpu_obstacle(g, named);
	return host_use_obstacle(g, named);
}

/* Why the host already gives @g to vfio-pci, in @buf; false when it does not. */
static bool vfio_intent(struct vfk_plan *pl, const struct vfk_gpu *g, char *buf, size_t size)
{
	const struct vfk_device *d = vfk_gpu_get_device(g);
	const char *drv = vfk_device_get_driver(d), *ovr = vfk_device_get_driver_override(d);

	if (vfk_driver_is_vfio(drv))	/* vfio-pci or a vendor's variant */
		snprintf(buf, size, "already on %s", drv);
	else if (vfk_driver_is_vfio(ovr))
		snprintf(buf, size, "driver_override is %s", ovr);
	else if (guard_vfio_claim(pl->host, d, buf, size) == 1)
		;
	else if (vfk_persist_contains(pl->ctx, vfk_device_get_address(d)) == 1)
		snprintf(buf, size, "in vfio-bind's persist list");
	else
		return false;
	return true;
}

/* The facts that rank @c, as its first reasons. */
static void describe(struct vfk_plan *pl, struct plan_candidate *c)
{
	const struct vfk_device *d = vfk_gpu_get_device(c->gpu);
	size_t n = vfk_gpu_function_count(c->gpu);
	char why[256];

	c->integrated = vfk_gpu_is_integrated(c->gpu);
	strv_add(&c->reasons, c->integrated ? "integrated" : "discrete");
	c->vfio = vfio_intent(pl, c->gpu, why, sizeof(why));
	if (c->vfio)
		strv_add(&c->reasons, why);
	if (vfk_device_get_class(d) >> 8 == 0x0302)
		strv_add(&c->reasons, "3D controller, no display outputs");
	strv_addf(&c->reasons, "%zu function%s", n, n == 1 ? "" : "s");
}

/* Ranking order: the host's vfio-pci intent, then discrete, then address. */
static int rank_cmp(const struct plan_candidate *a, const struct plan_candidate *b)
{
	if (a->eligible != b->eligible)
		return a->eligible ? -1 : 1;
	if (!a->eligible)
		return a->index < b->index ? -1 : 1;
	if (a->vfio != b->vfio)
		return a->vfio ? -1 : 1;
	if (a->integrated != b->integrated)
		return a->integrated ? 1 : -1;
	return a->index < b->index ? -1 : a->index > b->index;
}

static void sort_candidates(struct plan_candidate *c, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++)		/* a handful of GPUs: insertion sort, stable */
		for (j = i; j > 0 && rank_cmp(&c[j], &c[j - 1]) < 0; j--) {
			struct plan_candidate t = c[j];

			c[j] = c[j - 1];
			c[j - 1] = t;
		}
}

static bool same_model(const struct vfk_gpu *a, const struct vfk_gpu *b)
{
	const struct vfk_device *x = vfk_gpu_get_device(a), *y = vfk_gpu_get_device(b);

	return vfk_device_get_vendor_id(x) == vfk_device_get_vendor_id(y) &&
	       vfk_device_get_device_id(x) == vfk_device_get_device_id(y) &&
	       vfk_device_get_subsystem_vendor_id(x) == vfk_device_get_subsystem_vendor_id(y) &&
	       vfk_device_get_subsystem_device_id(x) == vfk_device_get_subsystem_device_id(y);
}

static const char *why_after(const struct plan_candidate *c, const struct plan_candidate *first)
{
	if (first->vfio && !c->vfio)
		return "the host gives that one to vfio-pci already";
	if (!first->integrated && c->integrated)
		return "a discrete card before integrated graphics";
	return "first by address";
}

/* The last reason of each candidate but the chosen one: why not. */
static void explain_ranking(struct vfk_plan *pl, struct vfk_gpu *named)
{
	struct plan_candidate *first = pl->ncands && pl->cands[0].eligible ? &pl->cands[0] : NULL;
	const char *chosen = first ? vfk_device_get_address(vfk_gpu_get_device(first->gpu)) : NULL;
	size_t i;

	if (first)
		first->chosen = true;
	for (i = first ? 1 : 0; i < pl->ncands; i++) {
		struct plan_candidate *c = &pl->cands[i];
		const char *addr = vfk_device_get_address(vfk_gpu_get_device(c->gpu));

		if (!c->eligible)
			continue;	/* its obstacle is its last reason already */
		if (named)
			strv_addf(&c->reasons, "[gpu] device names %s", chosen);
		else if (same_model(c->gpu, first->gpu))
			strv_addf(&c->reasons, "identical to %s, which comes first by address; to "
				  "take this one, set [gpu] device = %s", chosen, addr);
		else
			strv_addf(&c->reasons, "ranked after %s (%s); to take this one, set [gpu] "
				  "device = %s", chosen, why_after(c, first), addr);
	}
}

static bool in_list(const struct vfk_gpu *g, struct vfk_gpu *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == g)
			return true;
	return false;
}

static int add_candidate(struct vfk_plan *pl, struct vfk_gpu *g, const struct plan_named *nm)
{
	struct plan_candidate *c = &pl->cands[pl->ncands];
	bool named = in_list(g, nm->gpus, nm->n);
	char *obstacle;

	memset(c, 0, sizeof(*c));
	c->gpu = g;
	c->index = pl->ncands++;
	describe(pl, c);
	if (nm->n && !named) {
		c->eligible = false;
		strv_addf(&c->reasons, "[gpu] device names %s", nm->text);
		return 0;
	}
	obstacle = nm->sets ? plan_gpu_set_obstacle(g, named) : plan_gpu_obstacle(g, named);
	c->eligible = !obstacle;
	if (obstacle) {
		/* "0000:00:02.0 drives the host console": the address is the line's */
		const char *addr = vfk_device_get_address(vfk_gpu_get_device(g));
		size_t len = strlen(addr);

		strv_add(&c->reasons, strncmp(obstacle, addr, len) || obstacle[len] != ' '
				      ? obstacle : obstacle + len + 1);
		free(obstacle);
	}
	if (named)
		strv_add(&c->reasons, "named by [gpu] device");
	return 0;
}

int plan_rank_gpus(struct vfk_plan *pl, const struct plan_named *nm)
{
	size_t i, n = vfk_host_gpu_count(pl->host);
	bool kept;

	pl->cands = calloc(n ? n : 1, sizeof(*pl->cands));
	if (!pl->cands)
		return neg_errno(ENOMEM);
	/* the kernel command line and modprobe.d, read once for all GPUs */
	kept = !pl->host->guard_facts && guard_facts_keep(pl->host) == 0;
	for (i = 0; i < n; i++) {
		struct vfk_gpu *g = vfk_host_gpu(pl->host, i);

		if (vfk_device_is_vf(vfk_gpu_get_device(g)) && !in_list(g, nm->gpus, nm->n))
			continue;	/* SR-IOV VFs only when named */
		add_candidate(pl, g, nm);
	}
	if (kept)
		guard_facts_drop(pl->host);
	sort_candidates(pl->cands, pl->ncands);
	if (!nm->sets)		/* sets are explained where they are chosen */
		explain_ranking(pl, nm->n ? nm->gpus[0] : NULL);
	return 0;
}

struct vfk_gpu *plan_ranked_first(const struct vfk_plan *pl)
{
	return pl->ncands && pl->cands[0].chosen ? pl->cands[0].gpu : NULL;
}

void plan_candidates_unchoose(struct vfk_plan *pl)
{
	size_t i;

	for (i = 0; i < pl->ncands; i++)
		pl->cands[i].chosen = false;
}

void plan_candidates_free(struct vfk_plan *pl)
{
	size_t i;

	for (i = 0; i < pl->ncands; i++)
		strv_free(&pl->cands[i].reasons);
	free(pl->cands);
	pl->cands = NULL;
	pl->ncands = 0;
}

/* ------------------------------------------------------------ integrated GPUs */

#define PCI_VENDOR_INTEL	0x8086
#define PCI_VENDOR_AMD_ATI	0x1002

static void note_intel_igd(struct vfk_plan *pl, const char *addr)
{
	pl->igd = true;
	strv_addf(&pl->notes, "%s is Intel integrated graphics (GVT-d): it goes to guest address "
		  "00:02.0, where Intel's drivers look for it, with QEMU's x-igd-opregion=on so "
		  "the guest finds the OpRegion (display setup and backlight); QEMU's legacy "
		  "mode (i440fx, SeaBIOS) is not used on q35", addr);
	if (!pl->prof->rom)
		strv_addf(&pl->notes, "no picture before the guest's driver loads: OVMF needs the "
			  "IGD's GOP ROM for that; set [gpu] rom = FILE (a ROM built for GVT-d) if "
			  "you need the firmware screens");
}

#define VFCT_DIR "firmware/acpi/tables"	/* under sys: the VBIOS copy of the firmware */

static void note_amd_apu(struct vfk_plan *pl, const char *addr)
{
	_cleanup_close_ int dfd = -1;
	_cleanup_free_ char *vfct = NULL;

	if (pl->prof->rom)
		return;
	dfd = vfk_root_open_dir(pl->ctx, VFK_ROOT_SYS, VFCT_DIR);
	if (dfd >= 0 && vfk_exists_at(dfd, "VFCT"))
		vfct = vfk_root_host_path(VFK_ROOT_SYS, VFCT_DIR "/VFCT");
	strv_addf(&pl->notes, "warning: %s is AMD APU graphics, which do not come up in a guest "
		  "without their VBIOS; set [gpu] rom = FILE%s%s%s", addr,
		  vfct ? " (the firmware's copy is in the ACPI VFCT table, " : "",
		  vfct ? vfct : "", vfct ? ": extract the image from it)" : "");
}

static const struct vfk_device *integrated_peer(const struct vfk_plan *pl,
						const struct vfk_gpu *except)
{
	size_t i;

	for (i = 0; i < pl->ncands; i++)
		if (pl->cands[i].gpu != except && pl->cands[i].integrated)
			return vfk_gpu_get_device(pl->cands[i].gpu);
	return NULL;
}

/* The VFIO drivers @g's functions go to ("vfio-pci", "nvgrace_gpu_vfio_pci",
 * "xe-vfio-pci, vfio-pci"), each once, into @b. */
static const char *vfio_drivers_of(const struct vfk_gpu *g, struct sbuf *b)
{
	size_t i, n = vfk_gpu_function_count(g);
	char name[64], seen[256] = ",";

	for (i = 0; i < n; i++) {
		char key[70];
		if (vfk_device_vfio_driver(vfk_gpu_function(g, i), name, sizeof(name), NULL, 0) < 0)
			continue;
		snprintf(key, sizeof(key), ",%s,", name);
		if (strstr(seen, key))
			continue;
		snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s,", name);
		sbuf_addf(b, "%s%s", b->len ? ", " : "", name);
	}
	return b->s ? b->s : "vfio-pci";
}

/* A GPU on a host driver: what must let go of it before up can take it. */
static void note_host_driver(struct vfk_plan *pl, const struct vfk_gpu *g)
{
	const char *addr = vfk_device_get_address(vfk_gpu_get_device(g));
	const char *drv = vfk_gpu_get_host_driver(g);
	size_t i, n = vfk_gpu_holder_count(g);
	struct sbuf who = { 0 }, drivers = { 0 };

	if (!drv)
		return;
	for (i = 0; i < n; i++)
		sbuf_addf(&who, "%s%s(%d)", i ? ", " : "", vfk_gpu_holder_name(g, i),
			  vfk_gpu_holder_pid(g, i));
	if (n && who.s)
		strv_addf(&pl->notes, "%s is on the host's %s driver and held open by %s: stop "
			  "them before vfio-vm up, whose unbind from %s waits for them", addr, drv,
			  who.s, drv);
	else if (!vfk_ctx_is_user_mode(pl->ctx))	/* a user's up binds nothing: root does */
		strv_addf(&pl->notes, "%s is on %s now; vfiokit hands its functions to %s when the "
			  "VM starts", addr, drv, vfio_drivers_of(g, &drivers));
	sbuf_free(&who);
	sbuf_free(&drivers);
}

/* A GPU that does not come back clean after a guest (the AMD reset bug, no
 * FLR on a shared bus, a card that stopped answering): said before the VM
 * runs, since vfio-vm down then leaves it on vfio-pci. */
static void note_reset(struct vfk_plan *pl, const struct vfk_gpu *g)
{
	const struct vfk_device *d = vfk_gpu_get_device(g);
	enum vfk_reset_verdict v = vfk_device_get_reset_verdict(d);
	const char *advice = vfk_device_get_reset_advice(d);

	if (v != VFK_RESET_BROKEN && v != VFK_RESET_UNRELIABLE)
		return;
	strv_addf(&pl->notes, "warning: %s's reset between guests is %s: %s%s%s",
		  vfk_device_get_address(d), vfk_reset_verdict_to_string(v),
		  vfk_device_get_reset_reason(d), advice ? "; " : "", advice ? advice : "");
}

void plan_note_gpu_kind(struct vfk_plan *pl)
{
	const struct vfk_device *d = vfk_gpu_get_device(pl->gpu), *igpu;
	const char *addr = vfk_device_get_address(d);

	if (vfk_gpu_is_integrated(pl->gpu)) {
		if (vfk_device_get_vendor_id(d) == PCI_VENDOR_INTEL)
			note_intel_igd(pl, addr);
		else if (vfk_device_get_vendor_id(d) == PCI_VENDOR_AMD_ATI)
			note_amd_apu(pl, addr);
		else
			strv_addf(&pl->notes, "%s is the board's own display (%s); the guest gets "
				  "what it draws, without 3D acceleration", addr,
				  vfk_gpu_get_placement(pl->gpu));
	}
	if (vfk_gpu_get_role(pl->gpu) == VFK_GPU_ROLE_LAPTOP_DGPU) {
		igpu = integrated_peer(pl, pl->gpu);
		strv_addf(&pl->notes, "%s is a 3D controller without display outputs: on this "
			  "laptop (a muxless design) its frames reach the screen through the "
			  "integrated GPU%s%s, which stays with the host; see the guest with Looking "
			  "Glass ([looking-glass]) or a remote display (Sunshine/Moonlight, RDP)",
			  addr, igpu ? " " : "", igpu ? vfk_device_get_address(igpu) : "");
	} else if (vfk_gpu_get_role(pl->gpu) == VFK_GPU_ROLE_COMPUTE) {
		strv_addf(&pl->notes, "%s is a compute GPU without display outputs: the guest's "
			  "screen, if it needs one, is emulated or remote", addr);
	}
	if (!pl->ngpus) {
		note_host_driver(pl, pl->gpu);
		note_reset(pl, pl->gpu);
	}
	for (size_t i = 0; i < pl->ngpus; i++) {
		note_host_driver(pl, pl->gpus[i]);
		note_reset(pl, pl->gpus[i]);
	}
}
