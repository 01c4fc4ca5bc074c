/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A GPU's PCIe link to its slot: how fast and wide it trained against what
 * the card and the port above it can do (the kernel's current_link_* and
 * max_link_* attributes, read with the device's details), and the verdict.
 * A card that trains below what both ends do is the "why is my VM slow"
 * report; but GPUs drop their link to 2.5 GT/s when idle, which is power
 * management, not a fault, and a card in a slot wired for fewer lanes than
 * it has is the board's limit, not the card's.
 */
#include <stdio.h>

#include "inventory/inventory.h"
#include "inventory/pcilib.h"

#define PCIE_TYPE_UPSTREAM	0x5
#define PCIE_TYPE_DOWNSTREAM	0x6
#define LOWEST_MTS		2500	/* 2.5 GT/s: PCIe 1, where idle GPUs park */

unsigned int vfk_link_speed_mts(const char *s)
{
	unsigned int whole = 0, frac = 0, digits = 0;

	if (!s)
		return 0;
	for (; *s >= '0' && *s <= '9' && whole < 1000; s++, digits++)
		whole = whole * 10 + (unsigned int)(*s - '0');
	if (!digits || whole >= 1000)
		return 0;
	if (*s == '.') {
		s++;
		if (*s >= '0' && *s <= '9')
			frac = (unsigned int)(*s - '0');
		while (*s >= '0' && *s <= '9')
			s++;
	}
	while (*s == ' ')
		s++;
	return startswith(s, "GT/s") ? whole * 1000 + frac * 100 : 0;
}

/* A bridge of the GPU's vendor of the PCIe type @type, when config space
 * says (else the vendor alone decides). */
static bool card_bridge(const struct vfk_device *gpu, struct vfk_device *b, int type)
{
	if (!b || b->vendor_id != gpu->vendor_id || !vfk_device_is_bridge(b))
		return false;
	device_read_caps(b);
	return b->pcie_type == type || b->pcie_type < 0;
}

/*
 * The card's end of its link: the GPU, or the upstream port of a switch on
 * the card (the RX 6800's 1478/1479, Intel Arc's): the link behind that
 * switch is internal and reports whatever it likes. A root port (no parent)
 * is the board's, never the card's.
 */
static struct vfk_device *card_end(struct vfk_device *gpu)
{
	struct vfk_device *down = gpu->parent, *up = down ? down->parent : NULL;

	if (card_bridge(gpu, down, PCIE_TYPE_DOWNSTREAM) && card_bridge(gpu, up, PCIE_TYPE_UPSTREAM) &&
	    up->parent)
		return up;
	return gpu;
}

struct link_facts {
	unsigned int cur_s, cur_w, max_s, max_w;	/* the card's end */
	unsigned int port_s, port_w;			/* the port's max; 0 unknown */
	bool low_power;					/* the GPU is not in D0 */
};

static const char *speed_text(unsigned int mts, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u GT/s", mts / 1000, mts % 1000 / 100);
	return buf;
}

static unsigned int at_most(unsigned int card, unsigned int port)
{
	return port && port < card ? port : card;
}

/* "the slot is x4 (electrically); the card is x16", or "" when the slot is not the limit. */
static void slot_text(const struct link_facts *f, char *buf, size_t size)
{
	char a[24], b[24];
	size_t len = 0;

	buf[0] = '\0';
	if (f->port_w && f->port_w < f->max_w)
		len = (size_t)snprintf(buf, size, "the slot is x%u (electrically); the card is x%u",
				       f->port_w, f->max_w);
	if (f->port_s && f->port_s < f->max_s && len < size)
		snprintf(buf + len, size - len, "%sthe slot does %s; the card %s", len ? "; " : "",
			 speed_text(f->port_s, a, sizeof(a)), speed_text(f->max_s, b, sizeof(b)));
}

static enum vfk_link_verdict judge(const struct link_facts *f, char *buf, size_t size)
{
	unsigned int cap_s = at_most(f->max_s, f->port_s), cap_w = at_most(f->max_w, f->port_w);
	bool width_low = f->cur_w < cap_w, speed_low = f->cur_s < cap_s;
	bool idle = speed_low && !width_low && (f->cur_s <= LOWEST_MTS || f->low_power);
	char slot[160], a[24], b[24];

	slot_text(f, slot, sizeof(slot));
	if (width_low || (speed_low && !idle)) {
		if (width_low)
			snprintf(buf, size, "trained at x%u although both ends do x%u%s%s", f->cur_w,
				 cap_w, *slot ? "; " : "", slot);
		else
			snprintf(buf, size, "trained at %s although both ends do %s%s%s",
				 speed_text(f->cur_s, a, sizeof(a)), speed_text(cap_s, b, sizeof(b)),
				 *slot ? "; " : "", slot);
		return VFK_LINK_DEGRADED;
	}
	if (idle)
		snprintf(buf, size, "%s%sat %s now, %s possible: may be idle power saving, check "
			 "under load", slot, *slot ? "; " : "", speed_text(f->cur_s, a, sizeof(a)),
			 speed_text(cap_s, b, sizeof(b)));
	else if (*slot)
		snprintf(buf, size, "%s", slot);
	else
		snprintf(buf, size, "%s x%u, the most both ends do", speed_text(f->cur_s, a, sizeof(a)),
			 f->cur_w);
	return *slot ? VFK_LINK_SLOT_LIMITED : idle ? VFK_LINK_IDLE : VFK_LINK_OK;
}

/* Why no verdict: no link of its own, or a link that is not reported. */
static const char *no_link(struct vfk_gpu *gpu)
{
	const char *ps = vfk_device_get_power_state(gpu->dev);

	if (gpu->dev->is_vf)
		return "an SR-IOV VF: the link is its PF's";
	if (!gpu->dev->parent || vfk_gpu_is_integrated(gpu))
		return "integrated: no PCIe link of its own";
	if (ps && streq(ps, "D3cold"))
		return "in D3cold: its link is down";
	return "its link speed and width are not reported";
}

static void link_judge(const struct vfk_gpu *cgpu)
{
	struct vfk_gpu *gpu = (struct vfk_gpu *)cgpu;	/* a cache */
	struct vfk_device *end;
	struct link_facts f = { 0 };
	const char *ps;
	char buf[320];

	if (gpu->link_judged)
		return;
	gpu->link_judged = true;
	gpu->link_verdict = VFK_LINK_UNKNOWN;
	if (!gpu->dev->is_vf && gpu->dev->parent && !vfk_gpu_is_integrated(gpu)) {
		end = card_end(gpu->dev);
		gpu->link_dev = end;
		gpu->link_port = end->parent;
		f.cur_s = vfk_link_speed_mts(vfk_device_get_link_speed(end));
		f.max_s = vfk_link_speed_mts(vfk_device_get_max_link_speed(end));
		f.cur_w = vfk_device_get_link_width(end);
		f.max_w = vfk_device_get_max_link_width(end);
		f.port_s = vfk_link_speed_mts(vfk_device_get_max_link_speed(end->parent));
		f.port_w = vfk_device_get_max_link_width(end->parent);
		ps = vfk_device_get_power_state(gpu->dev);
		f.low_power = ps && !streq(ps, "D0");
	}
	if (!f.cur_s || !f.cur_w || !f.max_s || !f.max_w) {
		gpu->link_reason = no_link(gpu);
		return;
	}
	gpu->link_verdict = judge(&f, buf, sizeof(buf));
	gpu->link_reason = strpool_intern(&gpu->dev->host->strings, buf);
	if (!gpu->link_reason)
		gpu->link_reason = "?";
}

enum vfk_link_verdict vfk_gpu_get_link_verdict(const struct vfk_gpu *gpu)
{
	link_judge(gpu);
	return gpu->link_verdict;
}

const char *vfk_gpu_get_link_reason(const struct vfk_gpu *gpu)
{
	link_judge(gpu);
	return gpu->link_reason;
}

struct vfk_device *vfk_gpu_get_link_device(const struct vfk_gpu *gpu)
{
	link_judge(gpu);
	return gpu->link_dev;
}

struct vfk_device *vfk_gpu_get_link_port(const struct vfk_gpu *gpu)
{
	link_judge(gpu);
	return gpu->link_port;
}

const char *vfk_link_verdict_to_string(enum vfk_link_verdict v)
{
	switch (v) {
	case VFK_LINK_OK:
		return "ok";
	case VFK_LINK_IDLE:
		return "idle";
	case VFK_LINK_SLOT_LIMITED:
		return "slot-limited";
	case VFK_LINK_DEGRADED:
		return "degraded";
	case VFK_LINK_UNKNOWN:
		break;
	}
	return "unknown";
}
