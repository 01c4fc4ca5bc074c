/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The picture's layout: a file tree of boxes, each level one indent to the
 * right, one box under the other. Of the ways to draw a tree this one stays
 * as wide as the tree is deep (four or five levels on real hosts) however
 * many functions it holds, where a tidy tree with its leaves side by side
 * is as wide as the host has endpoints: 300 functions read by scrolling
 * down, as a file manager is read, never sideways.
 *
 * What is drawn: the devices the options select (all; --gpus the paths to
 * the GPUs and fabric devices; --device the path to it and what is below),
 * as vfio-ls --tree shows them. On a host larger than SVG_FOLD_ABOVE drawn
 * functions, the siblings below one parent with nothing worth a box in
 * them become one "N more functions" box. Worth a box: a GPU or one of its
 * functions, a fabric device, a device on a VFIO driver (or with one in
 * driver_override), the bridge where a shared group starts, every member of
 * a group that holds one of those (what shares a GPU's group is what the
 * reader looks for), the device --device names, the port of an empty
 * slot (where a card could go), and every bridge above one of them. A
 * small host is drawn whole: its picture fits on a screen.
 *
 * Slot names (vfk_device_get_slot()) go on the first function of what sits
 * in a slot, not on every function below it; an empty slot's name on the
 * port it hangs from.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>

#include "export/svg.h"
#include "inventory/inventory.h"

#define SVG_FOLD_ABOVE	48

size_t svg_dev_index(const struct svg_view *v, const struct vfk_device *d)
{
	return (size_t)(d - v->host->devices);
}

size_t svg_group_index(const struct svg_view *v, const struct vfk_device *d)
{
	size_t lo = 0, hi = v->host->ngroups;

	while (d->group >= 0 && lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->host->groups[mid].id == d->group)
			return mid;
		if (v->host->groups[mid].id < d->group)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

/* @d and the bridges above it get @flag; the walk stops at one that has it. */
static void mark_path(struct svg_view *v, const struct vfk_device *d, unsigned char flag)
{
	for (; d && !(v->flags[svg_dev_index(v, d)] & flag); d = d->parent)
		v->flags[svg_dev_index(v, d)] |= flag;
}

static bool is_below(const struct vfk_device *d, const struct vfk_device *top)
{
	for (; d; d = d->parent)
		if (d == top)
			return true;
	return false;
}

/* The options' selection, as vfio-ls --tree makes it. */
static void select_shown(struct svg_view *v)
{
	const struct vfk_host *h = v->host;
	size_t i, j;

	if (!v->s->opts->gpus_only && !v->s->only) {
		for (i = 0; i < h->ndevices; i++)
			v->flags[i] |= SVG_SHOWN;
		return;
	}
	if (v->s->opts->gpus_only) {
		for (i = 0; i < h->ngpus; i++)
			for (j = 0; j < h->gpus[i].nfunctions; j++)
				if (!v->s->only || is_below(h->gpus[i].functions[j], v->s->only))
					mark_path(v, h->gpus[i].functions[j], SVG_SHOWN);
		for (i = 0; i < h->nfabric; i++)
			if (!v->s->only || is_below(h->fabric[i], v->s->only))
				mark_path(v, h->fabric[i], SVG_SHOWN);
		return;
	}
	for (i = 0; i < h->ndevices; i++)
		if (is_below(&h->devices[i], v->s->only))
			mark_path(v, &h->devices[i], SVG_SHOWN);
}

static bool on_vfio(const struct vfk_device *d)
{
	const char *drv = vfk_device_get_driver(d), *ovr = vfk_device_get_driver_override(d);

	return (drv && vfk_driver_is_vfio(drv)) || (ovr && vfk_driver_is_vfio(ovr));
}

/* Worth a box by itself, its group aside. */
static bool notable(const struct svg_view *v, const struct vfk_device *d)
{
	return v->gpu_at[svg_dev_index(v, d)] || vfk_device_get_fabric_role(d) ||
	       vfk_device_get_group_merge(d) || d == v->s->only;
}

/* SVG_KEEP on what is worth a box and the bridges above it. */
static void mark_kept(struct svg_view *v)
{
	const struct vfk_host *h = v->host;
	size_t i, j;

	for (i = 0; i < h->ngroups; i++) {
		const struct vfk_group *g = &h->groups[i];
		bool worth = false;
		for (j = 0; j < g->ndevices && !worth; j++)
			worth = notable(v, g->devices[j]);
		for (j = 0; j < g->ndevices && worth; j++)
			mark_path(v, g->devices[j], SVG_KEEP);
	}
	for (i = 0; i < h->ndevices; i++)
		if (notable(v, &h->devices[i]) || on_vfio(&h->devices[i]) || v->empty_slot[i])
			mark_path(v, &h->devices[i], SVG_KEEP);
}

/* The name of the empty slot below each port, where the board has one. */
static void find_empty_slots(struct svg_view *v)
{
	size_t i, n = vfk_host_slot_count(v->host);

	for (i = 0; i < n; i++) {
		const struct vfk_slot *sl = vfk_host_slot(v->host, i);
		const struct vfk_device *port = vfk_slot_get_port(sl);
		if (port && !vfk_slot_in_use(sl) && !v->empty_slot[svg_dev_index(v, port)])
			v->empty_slot[svg_dev_index(v, port)] = vfk_slot_get_name(sl);
	}
}

static int add_node(struct svg_view *v, enum svg_kind kind, const struct vfk_device *d,
		    size_t count, size_t parent, unsigned int depth)
{
	struct svg_node *n;

	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		struct svg_node *p = realloc(v->nodes, cap * sizeof(*p));
		if (!p)
			return neg_errno(ENOMEM);
		v->nodes = p;
		v->cap = cap;
	}
	n = &v->nodes[v->n++];
	*n = (struct svg_node){ .kind = kind, .dev = d, .count = count, .parent = parent,
				.depth = depth };
	return 0;
}

/* For every device, the shown functions of its subtree (itself too): each
 * shown one counts for the devices above it. A walk up, not down: no
 * recursion however deep a crafted tree goes. */
static int count_below(struct svg_view *v)
{
	const struct vfk_host *h = v->host;
	size_t i;

	v->below = calloc(h->ndevices + 1, sizeof(*v->below));
	if (!v->below)
		return neg_errno(ENOMEM);
	for (i = 0; i < h->ndevices; i++) {
		const struct vfk_device *d;
		if (!(v->flags[i] & SVG_SHOWN))
			continue;
		for (d = &h->devices[i]; d; d = d->parent)
			v->below[svg_dev_index(v, d)]++;
	}
	return 0;
}

/* ---------------------------------------------------------------- the text */

static struct svg_line *line_add(struct svg_lines *l, enum svg_style st)
{
	struct svg_line *ln = &l->line[l->n < SVG_MAX_LINES ? l->n++ : SVG_MAX_LINES - 1];

	ln->style = st;
	ln->badge = false;
	ln->text[0] = ln->right[0] = '\0';
	return ln;
}

static void line_text(struct svg_lines *l, enum svg_style st, size_t max, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void line_text(struct svg_lines *l, enum svg_style st, size_t max, const char *fmt, ...)
{
	struct svg_line *ln = line_add(l, st);
	char raw[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	svg_clean(raw, max, ln->text, sizeof(ln->text));
}

/* Bytes of the first @n characters of clean UTF-8 @s (fewer when it is shorter). */
static size_t char_bytes(const char *s, size_t n)
{
	size_t i = 0;

	while (s[i] && n) {
		i++;
		while ((s[i] & 0xc0) == 0x80)
			i++;
		n--;
	}
	return i;
}

/* @text in lines of SVG_NOTE_CHARS, broken at spaces, at most @max of them. */
static void line_wrap(struct svg_lines *l, enum svg_style st, const char *text, size_t max)
{
	char clean[SVG_NOTE_CHARS * SVG_NOTE_LINES * 4 + 16];
	const char *p = clean;
	size_t k;

	svg_clean(text, SVG_NOTE_CHARS * SVG_NOTE_LINES + 1, clean, sizeof(clean));
	for (k = 0; *p && k < max; k++) {
		size_t n = char_bytes(p, SVG_NOTE_CHARS), cut = n;
		struct svg_line *ln = line_add(l, st);
		if (p[n] && k + 1 < max) {
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = n;
		}
		if (k + 1 == max) {
			svg_clean(p, SVG_NOTE_CHARS, ln->text, sizeof(ln->text));
			return;
		}
		snprintf(ln->text, sizeof(ln->text), "%.*s", (int)cut, p);
		p += cut;
		while (*p == ' ')
			p++;
	}
}

/* "x" of "Long name [x]", the last bracket, when it holds anything. */
static bool bracketed(const char *s, char *buf, size_t size)
{
	const char *lb = strrchr(s, '['), *rb = lb ? strchr(lb, ']') : NULL;

	if (!rb || rb == lb + 1)
		return false;
	snprintf(buf, size, "%.*s", (int)(rb - lb - 1), lb + 1);
	return true;
}

/* pci.ids brackets a marketing name after a chip's code name ("AD102
 * [GeForce RTX 4090]", "MT2910 Family [ConnectX-7]"), but also a mode after
 * a description ("... SATA Controller [AHCI Mode]"): the bracket is the
 * model's name only after one or two words. */
static bool model_bracketed(const char *s, char *buf, size_t size)
{
	const char *lb = strrchr(s, '['), *p;
	size_t words = 0;
	bool in = false;

	for (p = s; lb && p < lb; p++) {
		words += !in && *p != ' ';
		in = *p != ' ';
	}
	return lb && words <= 2 && bracketed(s, buf, size);
}

/* Words long names of bridges spend their room on, in a shorter form:
 * "12th Gen Core Processor PCI Express x16 Controller #1" keeps its "#1". */
static void squeeze(char *s)
{
	static const char *const from[] = { "PCI Express", " Processor" },
			  *const to[] = { "PCIe", "" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(from); i++) {
		char *p;
		while ((p = strstr(s, from[i]))) {
			size_t n = strlen(from[i]), k = strlen(to[i]);
			memcpy(p, to[i], k);
			memmove(p + k, p + n, strlen(p + n) + 1);
		}
	}
}

/* "NVIDIA GeForce RTX 4090": the vendor's short name (its bracket, else its
 * first word), the model's (see model_bracketed(), else its whole name). */
static void short_name(const struct vfk_device *d, char *buf, size_t size)
{
	const char *vn = vfk_device_get_vendor_name(d), *dn = vfk_device_get_device_name(d);
	char vendor[128], model[512];

	if (!bracketed(vn, vendor, sizeof(vendor)))
		snprintf(vendor, sizeof(vendor), "%.*s", (int)strcspn(vn, " ,"), vn);
	if (!model_bracketed(dn, model, sizeof(model)))
		snprintf(model, sizeof(model), "%s", dn);
	squeeze(model);
	if (startswith(model, vendor) && model[strlen(vendor)] == ' ')
		snprintf(buf, size, "%s", model);
	else
		snprintf(buf, size, "%s %s", vendor, model);
}

/* Whether ACS isolates what is below a bridge, in a few words (vfio-ls --tree's). */
static const char *acs_words(enum vfk_acs acs, enum svg_style *st)
{
	*st = acs == VFK_ACS_ENABLED ? SVG_GOOD : acs == VFK_ACS_UNKNOWN ? SVG_PLAIN : SVG_WARN;
	return vfk_acs_describe(acs);
}

static void link_end(const char *speed, unsigned int width, char *buf, size_t size)
{
	unsigned int mts = vfk_link_speed_mts(speed);

	if (mts)
		snprintf(buf, size, "%u.%u GT/s x%u", mts / 1000, mts % 1000 / 100, width);
	else
		snprintf(buf, size, "? GT/s x%u", width);
}

/* "link 16.0 GT/s x16: ok", or the verdict and why it is not. */
static void gpu_link(struct svg_lines *l, const struct vfk_gpu *g)
{
	const struct vfk_device *e = vfk_gpu_get_link_device(g);
	enum vfk_link_verdict lv = vfk_gpu_get_link_verdict(g);
	char cur[48];

	if (!e || lv == VFK_LINK_UNKNOWN)
		return;
	link_end(vfk_device_get_link_speed(e), vfk_device_get_link_width(e), cur, sizeof(cur));
	line_text(l, lv == VFK_LINK_OK ? SVG_PLAIN : SVG_WARN, SVG_NOTE_CHARS, "link %s: %s", cur,
		  vfk_link_verdict_to_string(lv));
	if (lv != VFK_LINK_OK)
		line_wrap(l, SVG_PLAIN, vfk_gpu_get_link_reason(g), SVG_NOTE_LINES);
}

/* The last line added, set on a pill: a verdict the eye looks for. */
static void as_badge(struct svg_lines *l)
{
	if (l->n)
		l->line[l->n - 1].badge = true;
}

static void gpu_verdict(struct svg_lines *l, const struct vfk_gpu *g)
{
	size_t n = vfk_gpu_together_count(g);

	switch (vfk_gpu_get_verdict(g)) {
	case VFK_GPU_ISOLATED:
		line_text(l, SVG_GOOD, SVG_NOTE_CHARS, "GPU: isolated");
		as_badge(l);
		break;
	case VFK_GPU_TOGETHER:
		line_text(l, SVG_WARN, SVG_NOTE_CHARS, "GPU: together with %zu other%s", n,
			  n == 1 ? "" : "s");
		as_badge(l);
		line_wrap(l, SVG_PLAIN, vfk_gpu_get_reason(g), SVG_NOTE_LINES);
		break;
	case VFK_GPU_SHARED:
	case VFK_GPU_NO_GROUP:
		line_text(l, SVG_BAD, SVG_NOTE_CHARS, "GPU: %s", vfk_gpu_get_verdict(g) ==
			  VFK_GPU_SHARED ? "NOT isolated" : "no group");
		as_badge(l);
		line_wrap(l, SVG_BAD_TEXT, vfk_gpu_get_reason(g), SVG_NOTE_LINES);
		break;
	}
	gpu_link(l, g);
}

static const char *short_addr(const struct vfk_device *d)
{
	return d->addr.domain == 0 ? d->address + 5 : d->address;
}

/* "slot PCIE1" on the first function in a slot (its parent is outside it);
 * "slot PCIE3: empty" on the port of an empty one. */
static void slot_text(const struct svg_view *v, const struct vfk_device *d, struct svg_lines *l)
{
	const char *slot = vfk_device_get_slot(d), *up = d->parent ? vfk_device_get_slot(d->parent)
								   : NULL;

	if (slot && d->addr.fn == 0 && !(up && streq(up, slot)))
		line_text(l, SVG_PLAIN, SVG_NOTE_CHARS, "slot %s", slot);
	if (v->empty_slot[svg_dev_index(v, d)])
		line_text(l, SVG_PLAIN, SVG_NOTE_CHARS, "slot %s: empty",
			  v->empty_slot[svg_dev_index(v, d)]);
}

static void device_text(const struct svg_view *v, const struct vfk_device *d,
			struct svg_lines *l)
{
	const struct vfk_gpu *g = v->gpu_at[svg_dev_index(v, d)];
	const char *drv = vfk_device_get_driver(d), *merge = vfk_device_get_group_merge(d);
	struct svg_line *head = line_add(l, SVG_HEAD);
	enum svg_style st = SVG_PLAIN;
	char name[640];

	snprintf(head->text, sizeof(head->text), "%s", short_addr(d));
	if (d->group >= 0)
		snprintf(head->right, sizeof(head->right), "group %d", d->group);
	else
		snprintf(head->right, sizeof(head->right), "no group");
	short_name(d, name, sizeof(name));
	line_text(l, SVG_NAME, SVG_NAME_CHARS, "%s", name);
	if (vfk_device_is_bridge(d) && (d->class >> 8) != 0x0600) {
		const char *acs = acs_words(vfk_device_get_acs(d), &st);
		line_text(l, st, SVG_NOTE_CHARS, "%s · %s", drv ? drv : "no driver", acs);
	} else {
		line_text(l, SVG_PLAIN, SVG_NOTE_CHARS, "%s", drv ? drv : "no driver");
	}
	slot_text(v, d, l);
	if (g && vfk_gpu_get_device(g) == d)
		gpu_verdict(l, g);
	else if (g)
		line_text(l, SVG_PLAIN, SVG_NOTE_CHARS, "function of GPU %s",
			  short_addr(vfk_gpu_get_device(g)));
	if (vfk_device_get_fabric_role(d))
		line_text(l, SVG_PLAIN, SVG_NOTE_CHARS, "%s: GPU fabric",
			  vfk_device_get_fabric_role(d));
	if (merge) {
		line_text(l, SVG_BAD, SVG_NOTE_CHARS, "shared group %d starts here", d->group);
		as_badge(l);
		line_wrap(l, SVG_BAD_TEXT, merge, SVG_NOTE_LINES);
	}
}

/* "pci0000:00": the root bus a top device hangs off (vfio-ls --tree's header). */
static const char *root_name(const struct vfk_device *d, char *buf, size_t size)
{
	const char *r = vfk_device_get_pcie_root(d);

	if (r)
		snprintf(buf, size, "%s", r);
	else
		snprintf(buf, size, "pci%04x:%02x", d->addr.domain, d->addr.bus);
	return buf;
}

void svg_box_text(const struct svg_view *v, const struct svg_node *n, struct svg_lines *out)
{
	char name[32];

	out->n = 0;
	switch (n->kind) {
	case SVG_DEVICE:
		device_text(v, n->dev, out);
		break;
	case SVG_ROOTBUS:
		line_text(out, SVG_SMALL, SVG_NOTE_CHARS, "%s", root_name(n->dev, name, sizeof(name)));
		break;
	case SVG_FOLD:
		line_text(out, SVG_SMALL, SVG_NOTE_CHARS, "%zu more function%s", n->count,
			  n->count == 1 ? "" : "s");
		break;
	case SVG_DEEP:
		line_text(out, SVG_SMALL, SVG_NOTE_CHARS, "%zu more below: deeper than %d levels",
			  n->count, SVG_MAX_DEPTH);
		break;
	}
}

/* ---------------------------------------------------------------- the walk */

static bool drawn(const struct svg_view *v, const struct vfk_device *d)
{
	unsigned char f = v->flags[svg_dev_index(v, d)];

	return (f & SVG_SHOWN) && (!v->fold || (f & SVG_KEEP));
}

static size_t folded_of(const struct svg_view *v, const struct vfk_device *d)
{
	return v->flags[svg_dev_index(v, d)] & SVG_SHOWN ? v->below[svg_dev_index(v, d)] : 0;
}

/* @d's box, its drawn children's below it, then one for the rest. */
static int walk(struct svg_view *v, const struct vfk_device *d, size_t parent, unsigned int depth)
{
	size_t me = v->n, i, folded = 0;
	int r = add_node(v, SVG_DEVICE, d, 0, parent, depth);

	if (r == 0 && depth + 1 >= SVG_MAX_DEPTH) {
		folded = v->below[svg_dev_index(v, d)] - 1;
		return folded ? add_node(v, SVG_DEEP, d, folded, me, depth + 1) : 0;
	}
	for (i = 0; i < d->nchildren && r == 0; i++) {
		const struct vfk_device *c = vfk_device_child(d, i);
		if (drawn(v, c))
			r = walk(v, c, me, depth + 1);
		else
			folded += folded_of(v, c);
	}
	if (r == 0 && folded)
		r = add_node(v, SVG_FOLD, d, folded, me, depth + 1);
	return r;
}

/* Each root bus: its header, its top devices, then one box for the rest. */
static int walk_roots(struct svg_view *v)
{
	const struct vfk_host *h = v->host;
	size_t i, j, k;
	int r = 0;

	for (i = 0; i < h->nroots && r == 0; i = j) {
		size_t bus = v->n, folded = 0, shown = 0;
		char a[32], b[32];

		root_name(h->roots[i], a, sizeof(a));
		for (j = i; j < h->nroots && streq(root_name(h->roots[j], b, sizeof(b)), a); j++)
			shown += folded_of(v, h->roots[j]);
		if (!shown)
			continue;
		r = add_node(v, SVG_ROOTBUS, h->roots[i], 0, SIZE_MAX, 0);
		for (k = i; k < j && r == 0; k++) {
			if (drawn(v, h->roots[k]))
				r = walk(v, h->roots[k], bus, 1);
			else
				folded += folded_of(v, h->roots[k]);
		}
		if (r == 0 && folded)
			r = add_node(v, SVG_FOLD, NULL, folded, bus, 1);
	}
	return r;
}

/* ---------------------------------------------------------------- placing */

/* One colour per group drawn, in the order of their numbers. */
static void rank_groups(struct svg_view *v)
{
	size_t i, k = 0;

	for (i = 0; i < v->host->ngroups; i++)
		v->group_rank[i] = -1;
	for (i = 0; i < v->n; i++) {
		size_t gi;
		if (v->nodes[i].kind == SVG_DEVICE &&
		    (gi = svg_group_index(v, v->nodes[i].dev)) != SIZE_MAX)
			v->group_rank[gi] = 0;
	}
	for (i = 0; i < v->host->ngroups; i++)
		if (v->group_rank[i] >= 0)
			v->group_rank[i] = (int)k++;
	v->ngroups = k;
}

/* One box under the other; the counts the summary gives. */
static void place(struct svg_view *v)
{
	struct svg_lines l;
	int y = SVG_MARGIN + SVG_TITLE_H;
	size_t i;

	for (i = 0; i < v->n; i++) {
		struct svg_node *n = &v->nodes[i];
		int w = n->kind == SVG_DEVICE ? SVG_BOX_W : SVG_SMALL_W;

		n->x = SVG_MARGIN + (int)n->depth * SVG_INDENT;
		n->y = y;
		n->h = SVG_SMALL_H;
		if (n->kind == SVG_DEVICE) {
			const struct vfk_gpu *g = v->gpu_at[svg_dev_index(v, n->dev)];
			svg_box_text(v, n, &l);
			n->h = 2 * SVG_PAD + (int)l.n * SVG_LINE_H;
			v->ndevices++;
			if (g && vfk_gpu_get_device(g) == n->dev) {
				v->ngpus++;
				v->nisolated += vfk_gpu_get_verdict(g) == VFK_GPU_ISOLATED;
			}
		} else if (n->kind != SVG_ROOTBUS) {
			v->nfolds++;
			v->nfolded += n->count;
		}
		y += n->h + SVG_GAP;
		if (n->x + w > v->tree_w)
			v->tree_w = n->x + w;
	}
	v->height = y;	/* the tree's bottom; svg.c adds the legend's */
}

int svg_layout(struct svg_view *v, struct export_sel *s)
{
	const struct vfk_host *h = s->host;
	size_t i, j, nshown = 0;
	int r;

	memset(v, 0, sizeof(*v));
	v->s = s;
	v->host = h;
	v->gpu_at = calloc(h->ndevices + 1, sizeof(*v->gpu_at));
	v->flags = calloc(h->ndevices + 1, 1);
	v->group_rank = calloc(h->ngroups + 1, sizeof(*v->group_rank));
	v->empty_slot = calloc(h->ndevices + 1, sizeof(*v->empty_slot));
	if (!v->gpu_at || !v->flags || !v->group_rank || !v->empty_slot)
		return neg_errno(ENOMEM);
	find_empty_slots(v);
	for (i = 0; i < h->ngpus; i++)
		for (j = 0; j < h->gpus[i].nfunctions; j++)
			v->gpu_at[svg_dev_index(v, h->gpus[i].functions[j])] = &h->gpus[i];
	select_shown(v);
	mark_kept(v);
	r = count_below(v);
	if (r < 0)
		return r;
	for (i = 0; i < h->ndevices; i++)
		nshown += (v->flags[i] & SVG_SHOWN) != 0;
	v->fold = nshown > SVG_FOLD_ABOVE;
	r = walk_roots(v);
	if (r < 0)
		return r;
	rank_groups(v);
	place(v);
	return 0;
}

void svg_view_free(struct svg_view *v)
{
	free(v->gpu_at);
	free(v->flags);
	free(v->below);
	free(v->group_rank);
	free(v->empty_slot);
	free(v->nodes);
	memset(v, 0, sizeof(*v));
}
