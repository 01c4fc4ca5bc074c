/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which slot would give a GPU an IOMMU group of its own: the question asked
 * before moving or buying hardware. The kernel groups a device with its
 * port's group unless that port and every port above it have ACS enabled
 * (pci_device_group(); an upstream switch port needs none), so a slot
 * isolates a card by ACS, or because its port's group holds nothing else on
 * this host (an ACS-less CPU port alone in its group). Where a slot is
 * wired matters too: the CPU's root ports, the chipset's (an Intel PCH's
 * root ports, AMD's chipset switch), or another switch on the board. The
 * answer is a list of places and one line of advice, worded here like the
 * other verdicts; a board without a slot table is spoken of by its ports.
 */
#include <stdio.h>

#include "inventory/inventory.h"
#include "inventory/pcilib.h"

#define PCIE_TYPE_UPSTREAM	0x5
#define MAX_PLACES	16	/* places kept per GPU */
#define MAX_NAMED	3	/* places named in the advice line */
#define PCI_VENDOR_INTEL	0x8086
#define PCI_VENDOR_AMD		0x1022

static const char acs_override[] =
	"the ACS override patch (pcie_acs_override=downstream,multifunction), which only makes "
	"the kernel believe the devices are isolated: they can still reach each other by "
	"peer-to-peer DMA, so the guest can read and write the memory of the devices it shares "
	"the group with, and a fault in one can take down the others (a security and stability "
	"risk; never on a machine whose other devices hold data that matters)";

/* ------------------------------------------------------------ one slot */

/* Intel's PCH root ports: 00:1a-1d on bus 0 (the CPU's are 00:01, 00:06). */
static bool intel_pch_port(const struct vfk_device *p)
{
	return p->vendor_id == PCI_VENDOR_INTEL && !p->parent && p->addr.bus == 0 &&
	       p->addr.dev >= 0x1a && p->addr.dev <= 0x1d;
}

static enum vfk_slot_attach port_attach(struct vfk_device *p)
{
	struct vfk_device *x;
	size_t depth = 0;

	if (!p)
		return VFK_SLOT_ATTACH_UNKNOWN;
	/* AMD's chipsets (X570, B550, X670) are a switch of AMD's behind a CPU
	 * root port; Intel's PCH shows its ports as root ports of bus 0 */
	for (x = p; x && depth++ < 256; x = x->parent) {
		if (intel_pch_port(x))
			return VFK_SLOT_ATTACH_CHIPSET;
		device_read_caps(x);
		if (x->pcie_type == PCIE_TYPE_UPSTREAM && x->vendor_id == PCI_VENDOR_AMD)
			return VFK_SLOT_ATTACH_CHIPSET;
	}
	return p->parent ? VFK_SLOT_ATTACH_SWITCH : VFK_SLOT_ATTACH_CPU;
}

/* The port and every port above isolate with ACS (pci_acs_path_enabled()). */
static bool acs_path(struct vfk_device *p)
{
	size_t depth = 0;

	for (; p && depth++ < 256; p = p->parent) {
		device_read_caps(p);
		if (p->pcie_type != PCIE_TYPE_UPSTREAM && p->acs != VFK_ACS_ENABLED)
			return false;
	}
	return true;
}

static bool below(const struct vfk_device *d, const struct vfk_device *top)
{
	size_t depth = 0;

	for (d = d->parent; d && depth++ < 256; d = d->parent)
		if (d == top)
			return true;
	return false;
}

/* The endpoints of @p's group outside its slot (at most 2 named in @buf):
 * what a card there would share with. Their count, capped at 3. */
static size_t group_others(const struct vfk_device *p, char *buf, size_t size)
{
	struct vfk_group *g;
	size_t i, n = 0, len;

	len = (size_t)snprintf(buf, size, "group %d with", p->group);
	if (vfk_host_find_group(p->host, p->group, &g) < 0)
		return 0;
	for (i = 0; i < g->ndevices && n < 3; i++) {
		const struct vfk_device *d = g->devices[i];
		if (vfk_device_is_bridge(d) || below(d, p))
			continue;
		if (n < 2 && len < size)
			len += (size_t)snprintf(buf + len, size - len, "%s %s", n ? "," : "",
						d->address);
		n++;
	}
	if (n > 2 && len < size)
		snprintf(buf + len, size - len, " and more");
	return n;
}

static void slot_judge(const struct vfk_slot *cs)
{
	struct vfk_slot *s = (struct vfk_slot *)cs;	/* a cache */
	char buf[160];

	if (s->judged)
		return;
	s->judged = true;
	s->attach = port_attach(s->port);
	s->isolation = VFK_SLOT_ISOLATION_UNKNOWN;
	if (!s->port || s->port->group < 0)
		return;
	if (acs_path(s->port)) {
		s->isolation = VFK_SLOT_ISOLATION_ACS;
	} else if (!group_others(s->port, buf, sizeof(buf))) {
		s->isolation = VFK_SLOT_ISOLATION_ALONE;
	} else {
		s->isolation = VFK_SLOT_ISOLATION_SHARED;
		s->shares = strpool_intern(&s->host->strings, buf);
	}
}

enum vfk_slot_attach vfk_slot_get_attach(const struct vfk_slot *slot)
{
	slot_judge(slot);
	return slot->attach;
}

enum vfk_slot_isolation vfk_slot_get_isolation(const struct vfk_slot *slot)
{
	slot_judge(slot);
	return slot->isolation;
}

const char *vfk_slot_attach_to_string(enum vfk_slot_attach a)
{
	switch (a) {
	case VFK_SLOT_ATTACH_CPU:
		return "CPU";
	case VFK_SLOT_ATTACH_CHIPSET:
		return "chipset";
	case VFK_SLOT_ATTACH_SWITCH:
		return "switch";
	case VFK_SLOT_ATTACH_UNKNOWN:
		break;
	}
	return "unknown";
}

const char *vfk_slot_isolation_to_string(enum vfk_slot_isolation iso)
{
	switch (iso) {
	case VFK_SLOT_ISOLATION_SHARED:
		return "shared";
	case VFK_SLOT_ISOLATION_ACS:
		return "acs";
	case VFK_SLOT_ISOLATION_ALONE:
		return "alone";
	case VFK_SLOT_ISOLATION_UNKNOWN:
		break;
	}
	return "unknown";
}

/* ------------------------------------------------------------ places */

/* Bridges that are the card's end of a GPU's link (a switch on the card):
 * the ports below them are the card's, not the board's. */
static unsigned char *card_switches(struct vfk_host *h)
{
	unsigned char *mark = calloc(h->ndevices ? h->ndevices : 1, 1);
	size_t i;

	for (i = 0; mark && i < h->ngpus; i++) {
		struct vfk_device *end = vfk_gpu_get_link_device(&h->gpus[i]);
		if (end && end != h->gpus[i].dev)
			mark[end - h->devices] = 1;
	}
	return mark;
}

static bool under_mark(const struct vfk_device *d, const unsigned char *mark)
{
	size_t depth = 0;

	for (; d && depth++ < 256; d = d->parent)
		if (mark[d - d->host->devices])
			return true;
	return false;
}

/* A port of the board a card could sit in: not inside a card, and not the
 * way to a switch of the board (the chipset's, a PLX's) */
static bool board_port(struct vfk_device *d, const unsigned char *mark)
{
	struct vfk_device *c;

	if ((d->class >> 8) != 0x0604 || under_mark(d, mark))
		return false;
	device_read_caps(d);
	if (d->pcie_type != 0x4 && d->pcie_type != 0x6 && !(d->pcie_type == PCILIB_UNKNOWN && !d->parent))
		return false;
	c = d->nchildren ? d->host->children[d->child0] : NULL;
	return !c || !vfk_device_is_bridge(c) || mark[c - d->host->devices];
}

/* On a board without a slot table: its ports, as places (built once). */
static void places_build(struct vfk_host *h)
{
	_cleanup_free_ unsigned char *mark = NULL;
	size_t i, cap = 0;

	if (h->places_known)
		return;
	h->places_known = true;
	mark = card_switches(h);
	for (i = 0; mark && i < h->ndevices; i++) {
		struct vfk_device *d = &h->devices[i];
		struct vfk_slot *s;

		if (!board_port(d, mark) || GROW_ARRAY(h->places, cap, h->nplaces + 1) < 0)
			continue;
		s = &h->places[h->nplaces++];
		memset(s, 0, sizeof(*s));
		s->host = h;
		s->source = VFK_SLOT_SOURCE_PORT;
		s->name = d->address;
		s->port = d;
		s->device = d->nchildren ? h->children[d->child0] : NULL;
	}
}

void slot_advice_free(struct vfk_host *h)
{
	size_t i;

	for (i = 0; i < h->ngpus; i++)
		free(h->gpus[i].advice);
	free(h->places);
}

/* ------------------------------------------------------------ advice */

static int attach_rank(enum vfk_slot_attach a)
{
	return a == VFK_SLOT_ATTACH_CPU ? 0 : a == VFK_SLOT_ATTACH_SWITCH ? 1
	     : a == VFK_SLOT_ATTACH_UNKNOWN ? 2 : 3;
}

/* Best first: the CPU's, wider, newer, free, then the table's order. */
static int cmp_place(const void *a, const void *b)
{
	const struct vfk_slot *x = *(struct vfk_slot *const *)a, *y = *(struct vfk_slot *const *)b;
	unsigned int wx = vfk_slot_get_width(x), wy = vfk_slot_get_width(y);
	unsigned int gx = vfk_slot_get_generation(x), gy = vfk_slot_get_generation(y);

	if (attach_rank(x->attach) != attach_rank(y->attach))
		return attach_rank(x->attach) - attach_rank(y->attach);
	if (wx != wy)
		return wx > wy ? -1 : 1;
	if (gx != gy)
		return gx > gy ? -1 : 1;
	if (vfk_slot_in_use(x) != vfk_slot_in_use(y))
		return vfk_slot_in_use(x) ? 1 : -1;
	return x < y ? -1 : x > y;
}

/* A place the GPU could move to: a card slot other than its own that isolates. */
static bool candidate(struct vfk_slot *s, const struct vfk_device *own_port)
{
	if (!s->port || s->port == own_port ||
	    (s->kind != VFK_SLOT_KIND_PCIE && s->kind != VFK_SLOT_KIND_UNKNOWN))
		return false;
	slot_judge(s);
	return s->isolation == VFK_SLOT_ISOLATION_ACS || s->isolation == VFK_SLOT_ISOLATION_ALONE;
}

static int collect(struct vfk_gpu *gpu, struct vfk_slot *v, size_t n, const struct vfk_device *own)
{
	size_t i, cap = 0, total = 0;

	for (i = 0; i < n; i++) {
		if (!candidate(&v[i], own))
			continue;
		if (GROW_ARRAY(gpu->advice, cap, gpu->nadvice + 1) < 0)
			return -ENOMEM;
		gpu->advice[gpu->nadvice++] = &v[i];
		total++;
	}
	qsort_safe(gpu->advice, gpu->nadvice, sizeof(*gpu->advice), cmp_place);
	if (gpu->nadvice > MAX_PLACES)
		gpu->nadvice = MAX_PLACES;
	return (int)(total > INT32_MAX ? INT32_MAX : total);
}

/* "PCIE1", "slot 5" (a kernel slot named by its number), "the slot of 0000:00:01.0". */
static const char *place_name(const struct vfk_slot *s, char *buf, size_t size)
{
	if (s->source == VFK_SLOT_SOURCE_PORT)
		snprintf(buf, size, "the slot of %s", s->name);
	else if (s->name[strspn(s->name, "0123456789")] == '\0')
		snprintf(buf, size, "slot %s", s->name);
	else
		snprintf(buf, size, "%s", s->name);
	return buf;
}

/* "CPU, x16 Gen4": how the place is wired; "" when nothing is known. */
static size_t wiring(struct vfk_slot *s, char *buf, size_t size)
{
	unsigned int w = vfk_slot_get_width(s), g = vfk_slot_get_generation(s);
	size_t len = 0;

	buf[0] = '\0';
	slot_judge(s);
	if (s->attach != VFK_SLOT_ATTACH_UNKNOWN)
		len = (size_t)snprintf(buf, size, "%s", vfk_slot_attach_to_string(s->attach));
	if (w && len < size)
		len += (size_t)snprintf(buf + len, size - len, "%sx%u", len ? ", " : "", w);
	if (g && len < size)
		len += (size_t)snprintf(buf + len, size - len, "%sGen%u", w ? " " : len ? ", " : "", g);
	return len < size ? len : size - 1;
}

static size_t clamp_len(int n, size_t size)
{
	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

/* "PCIE1 (CPU, x16 Gen4, own group by ACS, occupied by 0000:01:00.0)" */
static size_t place_text(struct vfk_slot *s, char *buf, size_t size)
{
	char name[96], wire[64], occ[48];
	size_t w = wiring(s, wire, sizeof(wire));

	if (s->device)
		snprintf(occ, sizeof(occ), "occupied by %s", s->device->address);
	else
		snprintf(occ, sizeof(occ), "%s", vfk_slot_in_use(s) ? "occupied" : "free");
	return clamp_len(snprintf(buf, size, "%s (%s%sown group %s, %s)",
				  place_name(s, name, sizeof(name)), wire, w ? ", " : "",
				  s->isolation == VFK_SLOT_ISOLATION_ACS ? "by ACS" : "on this host",
				  occ), size);
}

/* Where the GPU sits: "PCIE3 (chipset, x4 Gen3)", "the slot of 0000:00:1c.0
 * (chipset, x4 Gen3)"; "" without a port. */
static void own_text(struct vfk_gpu *gpu, struct vfk_device *port, char *buf, size_t size)
{
	struct vfk_host *h = gpu->dev->host;
	struct vfk_slot tmp = { .host = h, .source = VFK_SLOT_SOURCE_PORT }, *s = &tmp;
	char name[96], wire[64];

	buf[0] = '\0';
	if (!port)
		return;
	if (h->slot_at && h->slot_at[port - h->devices] && h->slot_at[port - h->devices]->port == port)
		s = h->slot_at[port - h->devices];
	tmp.name = port->address;
	tmp.port = port;
	if (wiring(s, wire, sizeof(wire)))
		snprintf(buf, size, "%s (%s)", place_name(s, name, sizeof(name)), wire);
	else
		snprintf(buf, size, "%s", place_name(s, name, sizeof(name)));
}

/* "move the card from OWN to A; or to B (and 2 more)" */
static size_t move_text(struct vfk_gpu *gpu, const char *own, int total, char *buf, size_t size)
{
	char one[256];
	size_t i, len;

	len = clamp_len(snprintf(buf, size, "move the card%s%s to ", *own ? " from " : "", own), size);
	for (i = 0; i < gpu->nadvice && i < MAX_NAMED; i++) {
		place_text(gpu->advice[i], one, sizeof(one));
		len += clamp_len(snprintf(buf + len, size - len, "%s%s", i ? "; or to " : "", one),
				 size - len);
	}
	if (total > MAX_NAMED)
		len += clamp_len(snprintf(buf + len, size - len, " (and %d more)", total - MAX_NAMED),
				 size - len);
	return len;
}

/* No place would do: say where it is and what is left. */
static void none_text(bool table, bool laptop, const char *own, char *buf, size_t size)
{
	if (laptop)
		snprintf(buf, size, "the GPU of a laptop is soldered to the board and cannot move; "
			 "what is left: %s", acs_override);
	else
		snprintf(buf, size, "no %s of this board would give it a group of its own: %s%s%sno "
			 "other has ACS all the way to the CPU or a group to itself; what is left: "
			 "a different board, one whose CPU slots have ACS, or %s",
			 table ? "slot" : "port", *own ? "it sits in " : "", own, *own ? ", and " : "",
			 acs_override);
}

static void advise(struct vfk_gpu *gpu)
{
	struct vfk_host *h = gpu->dev->host;
	struct vfk_device *port;
	bool table, laptop;
	char buf[2048], own[192];
	size_t len = 0;
	int total = 0;

	gpu->advice_judged = true;
	if (vfk_gpu_get_verdict(gpu) != VFK_GPU_SHARED || gpu->dev->is_vf ||
	    vfk_gpu_is_integrated(gpu))
		return;
	port = vfk_gpu_get_link_port(gpu);
	host_slots_read(h);
	table = h->nslots > 0;
	laptop = !table && vfk_host_is_laptop(h);
	if (table) {
		total = collect(gpu, h->slots, h->nslots, port);
	} else if (!laptop) {
		places_build(h);
		total = collect(gpu, h->places, h->nplaces, port);
	}
	own_text(gpu, port, own, sizeof(own));
	if (!table)
		len = clamp_len(snprintf(buf, sizeof(buf), "the firmware gives no slot table (no "
					 "SMBIOS type 9 entries, no PCI slots)%s",
					 laptop ? "; " : ", so by port (a port may lead to a device "
					 "on the board rather than a slot): "), sizeof(buf));
	if (total > 0)
		move_text(gpu, own, total, buf + len, sizeof(buf) - len);
	else
		none_text(table, laptop, own, buf + len, sizeof(buf) - len);
	gpu->slot_advice = total < 0 ? NULL : strpool_intern(&h->strings, buf);
	if (!gpu->slot_advice)		/* out of memory: still an answer */
		gpu->slot_advice = "move the card to a slot whose port has ACS";
}

size_t vfk_gpu_slot_advice_count(const struct vfk_gpu *gpu)
{
	if (!gpu->advice_judged)
		advise((struct vfk_gpu *)gpu);	/* a cache */
	return gpu->nadvice;
}

struct vfk_slot *vfk_gpu_slot_advice(const struct vfk_gpu *gpu, size_t i)
{
	return i < vfk_gpu_slot_advice_count(gpu) ? gpu->advice[i] : NULL;
}

const char *vfk_gpu_get_slot_advice(const struct vfk_gpu *gpu)
{
	vfk_gpu_slot_advice_count(gpu);
	return gpu->slot_advice;
}
