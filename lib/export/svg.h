/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The picture of the PCI tree (VFK_EXPORT_SVG), shared by its two files:
 * svg-layout.c chooses what is drawn, folds what is not worth a box and
 * places every box; svg.c writes the document. Both take a box's text from
 * svg_box_text(), so a box is as tall as the lines written into it.
 */
#ifndef VFK_EXPORT_SVG_H
#define VFK_EXPORT_SVG_H

#include "export/export.h"

/* Geometry, in SVG user units (pixels at 100 %) */
#define SVG_MARGIN	24
#define SVG_TITLE_H	64	/* title and summary line above the tree */
#define SVG_INDENT	28	/* one level of the tree */
#define SVG_BOX_W	360
#define SVG_SMALL_W	220	/* root bus headers, folds */
#define SVG_SMALL_H	22
#define SVG_LINE_H	15
#define SVG_PAD		6	/* above the first line and below the last */
#define SVG_GAP		8	/* between two boxes, one above the other */
#define SVG_LEGEND_W	330
#define SVG_MAX_DEPTH	32	/* deeper levels are one box: no real host has them */

/* Longest text in a box, in characters: a name at 12 px, a note at 11 px,
 * for the box's width in a generic sans-serif font */
#define SVG_NAME_CHARS	46
#define SVG_NOTE_CHARS	50
#define SVG_NOTE_LINES	4	/* a wrapped reason, then "…" */

enum svg_kind {
	SVG_ROOTBUS,	/* "pci0000:00": the root bus the devices below hang off */
	SVG_DEVICE,	/* one PCI function */
	SVG_FOLD,	/* "N more functions": siblings with nothing to pass through */
	SVG_DEEP,	/* what is below the deepest level drawn */
};

struct svg_node {
	enum svg_kind kind;
	const struct vfk_device *dev;	/* DEVICE; ROOTBUS: its first top device */
	size_t count;			/* FOLD, DEEP: the functions it stands for */
	size_t parent;			/* the node it hangs from; SIZE_MAX: none */
	unsigned int depth;
	int x, y, h;
};

/* How a line of a box is drawn */
enum svg_style {
	SVG_HEAD,	/* address (monospace, bold) and "group N" at the right */
	SVG_NAME,	/* the short name */
	SVG_PLAIN,	/* driver, ACS, link, slot */
	SVG_GOOD,	/* "GPU: isolated", ACS that isolates */
	SVG_WARN,	/* GPUs together, a link below what it could do */
	SVG_BAD,	/* a verdict against passthrough, where a shared group starts */
	SVG_BAD_TEXT,	/* the reason under an SVG_BAD line */
	SVG_SMALL,	/* the one line of a root bus or a fold */
};

#define SVG_MAX_LINES	16
#define SVG_LINE_BYTES	(SVG_NOTE_CHARS * 4 + 8)	/* UTF-8, "…" */

struct svg_line {
	enum svg_style style;
	bool badge;		/* on a pill of its colour: a verdict */
	char text[SVG_LINE_BYTES];
	char right[24];		/* SVG_HEAD: "group 12" */
};

struct svg_lines {
	size_t n;
	struct svg_line line[SVG_MAX_LINES];
};

/* Per device (by index in the host) */
#define SVG_SHOWN	0x1	/* selected by the options (or no option selects) */
#define SVG_KEEP	0x2	/* it or something below it is worth a box */

struct svg_view {
	struct export_sel *s;
	const struct vfk_host *host;
	const struct vfk_gpu **gpu_at;	/* the GPU a device is a function of */
	unsigned char *flags;
	size_t *below;			/* the shown functions of its subtree */
	int *group_rank;		/* per group index: its colour, -1 not drawn */
	const char **empty_slot;	/* per device: the empty slot below a port */
	bool fold;			/* large enough that folding pays */
	struct svg_node *nodes;		/* in drawing order: depth first */
	size_t n, cap;
	size_t ndevices, ngroups;	/* drawn */
	size_t nfolded, nfolds;		/* functions folded, in boxes */
	size_t ngpus, nisolated;	/* GPUs drawn, isolated ones */
	int tree_w, width, height;
};

/* ---- svg-layout.c */

/* Choose, fold and place: fill @v->nodes and the sizes. 0, -ENODEV (the
 * options' device is none of the host's) or -ENOMEM. */
int svg_layout(struct svg_view *v, struct export_sel *s);
void svg_view_free(struct svg_view *v);
/* The lines of node @n, clean UTF-8 without control characters, clipped. */
void svg_box_text(const struct svg_view *v, const struct svg_node *n, struct svg_lines *out);
/* Index of @d among the host's devices, and of its group (SIZE_MAX: none). */
size_t svg_dev_index(const struct svg_view *v, const struct vfk_device *d);
size_t svg_group_index(const struct svg_view *v, const struct vfk_device *d);

/* ---- svg.c */

/* Copy at most @max characters of @src into @dst as clean UTF-8: a control
 * character or a non-character '?', a byte that is no UTF-8 U+FFFD, "…"
 * where it was cut. */
void svg_clean(const char *src, size_t max, char *dst, size_t size);

#endif
