/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VFK_EXPORT_SVG: the PCI tree vfio-ls --tree prints, as a picture for a
 * forum post or a purchase decision. svg-layout.c says what goes where;
 * this file writes it as one standalone SVG 1.1 document:
 *
 *  - a box per function with its address, short name, driver, IOMMU group
 *    and what the tree view says of it (ACS on bridges, GPU verdicts and
 *    links, where a shared group starts and why), filled with its group's
 *    colour: hues a golden angle apart, so that any number of groups stay
 *    apart, light fills under dark text. The colour never carries a fact
 *    alone: the group's number is in the box.
 *  - verdicts on pills and borders: thick green for an isolated GPU, red
 *    for one that is not, dashed red where a shared group starts.
 *  - the title with the host's name, a summary line, a legend.
 *
 * Everything the host names (pci.ids names, drivers, the host name, the
 * reasons that quote them) is made clean UTF-8 without control characters
 * and XML-escaped, so that a hostile pci.ids cannot break the document.
 * Fonts are the generic families only: the picture renders anywhere.
 */
#include <stdio.h>
#include <stdint.h>

#include "export/svg.h"

#define C_TEXT		"#111111"
#define C_LINE		"#6b6b6b"
#define C_GOOD		"#1a7f37"
#define C_WARN		"#9a6700"
#define C_BAD		"#b3261e"
#define C_NOGROUP	"#f2f2f2"

static const char style_sheet[] =
	"text{fill:" C_TEXT "}"
	".a{font-family:monospace;font-weight:bold}"
	".r{text-anchor:end;font-weight:bold}"
	".p,.g,.w,.b,.bt,.s,.k{font-size:11px}"
	".p{fill:#333}.s{fill:#333;font-style:italic}"
	".g{fill:#11552a;font-weight:bold}.w{fill:#6b4700;font-weight:bold}"
	".b{fill:#8c1d18;font-weight:bold}.bt{fill:#8c1d18}"
	".t{font-size:20px;font-weight:bold}.st{fill:#333}.lh{font-size:13px;font-weight:bold}"
	".node,.key{stroke:#555;stroke-width:1}.small{fill:#fff;stroke:#888;stroke-dasharray:4,3}"
	".legend{fill:#fafafa;stroke:#ccc}"
	".bus{fill:#e8e8e8;stroke:#888}"
	".iso{stroke:" C_GOOD ";stroke-width:4}.gbad{stroke:" C_BAD ";stroke-width:3}"
	".gwarn{stroke:" C_WARN ";stroke-width:3}"
	".merge{stroke:" C_BAD ";stroke-width:2.5;stroke-dasharray:7,3}"
	".pg{fill:#d3f2dc}.pw{fill:#fcecc8}.pb{fill:#fbdedc}"
	".tree{fill:none;stroke:" C_LINE ";stroke-width:1.5}";

/* ---------------------------------------------------------------- text */

/* A code point XML 1.0 carries and a reader sees: no C0 or C1 control, no
 * non-character; tabs and newlines are none of ours either. */
static bool plain_char(uint32_t cp)
{
	return cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp < 0xa0) &&
	       !(cp >= 0xfdd0 && cp <= 0xfdef) && (cp & 0xfffe) != 0xfffe;
}

void svg_clean(const char *src, size_t max, char *dst, size_t size)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t len = 0, chars = 0;

	if (!size)
		return;
	while (*p && chars < max && len + 8 < size) {
		uint32_t cp;
		size_t n = export_utf8_decode(p, &cp);
		const char *put = (const char *)p;
		size_t k = n;

		if (!n) {
			put = "\xef\xbf\xbd";	/* U+FFFD */
			k = 3;
			n = 1;
		} else if (!plain_char(cp)) {
			put = "?";
			k = 1;
		}
		/* the last character that fits is "…" when more follow */
		if (chars + 1 == max && p[n]) {
			put = "\xe2\x80\xa6";
			k = 3;
		}
		memcpy(dst + len, put, k);
		len += k;
		chars++;
		p += n;
	}
	dst[len] = '\0';
}

/* @s (clean UTF-8 from svg_clean()) as XML character data or an attribute. */
static void esc(struct sbuf *b, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;"
			      : *s == '"' ? "&quot;" : *s == '\'' ? "&apos;" : NULL;
		if (!e)
			continue;
		sbuf_addn(b, run, (size_t)(s - run));
		sbuf_add(b, e);
		run = s + 1;
	}
	sbuf_add(b, run);
}

/* Host text, cleaned then escaped: at most @max characters. */
static void esc_host(struct sbuf *b, const char *s, size_t max)
{
	char clean[1024];

	svg_clean(s ? s : "", max, clean, sizeof(clean));
	esc(b, clean);
}

static void text_at(struct sbuf *b, int x, int y, const char *cls, const char *clean)
{
	sbuf_addf(b, "<text x=\"%d\" y=\"%d\"%s%s%s>", x, y, cls ? " class=\"" : "",
		  cls ? cls : "", cls ? "\"" : "");
	esc(b, clean);
	sbuf_add(b, "</text>\n");
}

/* ---------------------------------------------------------------- colour */

/*
 * The fill of the @rank-th group drawn: its hue the golden angle (137.5°)
 * on from the one before, so that every new group lands in the largest gap
 * left; lightness in three steps, light enough for dark text on it.
 */
static void group_fill(int rank, char *buf, size_t size)
{
	static const double light[] = { 0.87, 0.80, 0.835 };
	unsigned int hue10 = (unsigned int)rank * 1375u % 3600u;	/* tenths of degrees */
	double l = light[rank % 3], s = 0.62, c = (1 - (2 * l - 1 > 0 ? 2 * l - 1 : 1 - 2 * l)) * s;
	double frac = (double)(hue10 % 600) / 600.0, x, r = 0, g = 0, bl = 0, m;
	unsigned int sector = hue10 / 600;

	x = c * (sector % 2 ? 1 - frac : frac);
	switch (sector) {
	case 0: r = c; g = x; break;
	case 1: r = x; g = c; break;
	case 2: g = c; bl = x; break;
	case 3: g = x; bl = c; break;
	case 4: r = x; bl = c; break;
	default: r = c; bl = x; break;
	}
	m = l - c / 2;
	snprintf(buf, size, "#%02x%02x%02x", (unsigned int)((r + m) * 255 + 0.5),
		 (unsigned int)((g + m) * 255 + 0.5), (unsigned int)((bl + m) * 255 + 0.5));
}

/* ---------------------------------------------------------------- boxes */

static const char *const line_class[] = {
	[SVG_HEAD] = "a", [SVG_NAME] = NULL, [SVG_PLAIN] = "p", [SVG_GOOD] = "g",
	[SVG_WARN] = "w", [SVG_BAD] = "b", [SVG_BAD_TEXT] = "bt", [SVG_SMALL] = "s",
};

/* The border that tells a device's verdict before its text is read. */
static const char *verdict_class(const struct svg_view *v, const struct vfk_device *d)
{
	const struct vfk_gpu *g = v->gpu_at[svg_dev_index(v, d)];

	if (vfk_device_get_group_merge(d))
		return " merge";
	if (!g || vfk_gpu_get_device(g) != d)
		return "";
	switch (vfk_gpu_get_verdict(g)) {
	case VFK_GPU_ISOLATED:
		return " iso";
	case VFK_GPU_TOGETHER:
		return " gwarn";
	case VFK_GPU_SHARED:
	case VFK_GPU_NO_GROUP:
		break;
	}
	return " gbad";
}

/* A line on a pill: the pill's width from the (ASCII, bold) verdict's length. */
static void pill(struct sbuf *b, const struct svg_line *ln, int x, int base)
{
	const char *cls = ln->style == SVG_GOOD ? "pg" : ln->style == SVG_WARN ? "pw" : "pb";

	sbuf_addf(b, "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"15\" rx=\"7\"/>\n",
		  cls, x - 5, base - 11, (int)strlen(ln->text) * 7 + 10);
}

static void box_lines(struct sbuf *b, const struct svg_node *n, const struct svg_lines *l)
{
	int x = n->x + 8;
	size_t k;

	for (k = 0; k < l->n; k++) {
		const struct svg_line *ln = &l->line[k];
		int base = n->y + SVG_PAD + (int)(k + 1) * SVG_LINE_H - 4;

		if (n->kind != SVG_DEVICE)
			base = n->y + 15;
		if (ln->badge)
			pill(b, ln, x + 4, base);
		text_at(b, ln->badge ? x + 4 : x, base, line_class[ln->style], ln->text);
		if (ln->style == SVG_HEAD && ln->right[0])
			text_at(b, n->x + SVG_BOX_W - 8, base, "r", ln->right);
	}
}

static void device_box(struct sbuf *b, const struct svg_view *v, const struct svg_node *n,
		       const struct svg_lines *l)
{
	const struct vfk_device *d = n->dev;
	size_t gi = svg_group_index(v, d);
	char fill[16] = C_NOGROUP;

	if (gi != SIZE_MAX && v->group_rank[gi] >= 0)
		group_fill(v->group_rank[gi], fill, sizeof(fill));
	/* the whole name, where the box has only its short form: a tooltip */
	sbuf_add(b, "<g>\n<title>");
	esc_host(b, vfk_device_get_address(d), 16);
	sbuf_add(b, ": ");
	esc_host(b, vfk_device_get_vendor_name(d), 200);
	sbuf_add(b, " ");
	esc_host(b, vfk_device_get_device_name(d), 200);
	sbuf_addf(b, "</title>\n<rect class=\"node dev%s\" x=\"%d\" y=\"%d\" width=\"%d\" "
		  "height=\"%d\" rx=\"5\" fill=\"%s\"/>\n", verdict_class(v, d), n->x, n->y,
		  SVG_BOX_W, n->h, fill);
	box_lines(b, n, l);
	sbuf_add(b, "</g>\n");
}

static void small_box(struct sbuf *b, const struct svg_node *n, const struct svg_lines *l)
{
	sbuf_addf(b, "<rect class=\"node %s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
		  "rx=\"4\"/>\n", n->kind == SVG_ROOTBUS ? "bus" : "small", n->x, n->y,
		  SVG_SMALL_W, n->h);
	box_lines(b, n, l);
}

/* The lines from each box to its children: a stub to each child, one
 * trunk from the parent's bottom down to its last child's stub. */
static int connectors(struct sbuf *b, const struct svg_view *v)
{
	int *last = calloc(v->n + 1, sizeof(*last));
	size_t i;

	if (!last)
		return neg_errno(ENOMEM);
	sbuf_add(b, "<path class=\"tree\" d=\"");
	for (i = 0; i < v->n; i++) {
		const struct svg_node *n = &v->nodes[i], *p;
		if (n->parent == SIZE_MAX)
			continue;
		p = &v->nodes[n->parent];
		last[n->parent] = n->y + 11;
		sbuf_addf(b, "M%d %dH%d", p->x + 14, n->y + 11, n->x);
	}
	for (i = 0; i < v->n; i++)
		if (last[i])
			sbuf_addf(b, "M%d %dV%d", v->nodes[i].x + 14, v->nodes[i].y + v->nodes[i].h,
				  last[i]);
	sbuf_add(b, "\"/>\n");
	free(last);
	return 0;
}

static int draw_tree(struct sbuf *b, const struct svg_view *v)
{
	struct svg_lines l;
	size_t i;
	int r = connectors(b, v);

	for (i = 0; i < v->n && r == 0; i++) {
		svg_box_text(v, &v->nodes[i], &l);
		if (v->nodes[i].kind == SVG_DEVICE)
			device_box(b, v, &v->nodes[i], &l);
		else
			small_box(b, &v->nodes[i], &l);
	}
	return r;
}

/* ---------------------------------------------------------------- legend */

#define KEY_H	26

static void key(struct sbuf *b, int x, int *y, const char *cls, const char *fill,
		const char *text)
{
	sbuf_addf(b, "<rect class=\"key%s\" x=\"%d\" y=\"%d\" width=\"30\" height=\"16\" rx=\"4\" "
		  "fill=\"%s\"/>\n", cls, x, *y, fill ? fill : "#ffffff");
	text_at(b, x + 42, *y + 12, "k", text);
	*y += KEY_H;
}

/* The legend right of the tree; its bottom. */
static int legend(struct sbuf *b, const struct svg_view *v, int x, int y)
{
	char f0[16], f1[16], f2[16];
	int top = y, h = 16 + 7 * KEY_H + 8 + (v->nfolds ? KEY_H : 0);

	group_fill(0, f0, sizeof(f0));
	group_fill(1, f1, sizeof(f1));
	group_fill(2, f2, sizeof(f2));
	sbuf_addf(b, "<rect class=\"legend\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"6\"/>\n",
		  x, top, SVG_LEGEND_W, h);
	x += 12;
	text_at(b, x, y += 20, "lh", "Legend");
	y += 10;
	key(b, x, &y, " iso", f0, "GPU: isolated, can go to a VM alone");
	key(b, x, &y, " gwarn", f1, "GPUs whose group holds only GPUs");
	key(b, x, &y, " gbad", f2, "GPU: NOT isolated, or in no group");
	key(b, x, &y, " merge", f1, "where a shared IOMMU group starts, and why");
	if (v->nfolds)
		key(b, x, &y, " small", NULL, "N more functions: nothing to pass through");
	sbuf_addf(b, "<rect class=\"key\" x=\"%d\" y=\"%d\" width=\"10\" height=\"16\" fill=\"%s\"/>"
		  "<rect class=\"key\" x=\"%d\" y=\"%d\" width=\"10\" height=\"16\" fill=\"%s\"/>"
		  "<rect class=\"key\" x=\"%d\" y=\"%d\" width=\"10\" height=\"16\" fill=\"%s\"/>\n",
		  x, y, f0, x + 10, y, f1, x + 20, y, f2);
	text_at(b, x + 42, y + 12, "k", "fill: the IOMMU group, named in the box");
	y += KEY_H;
	text_at(b, x, y + 12, "g", "ACS: isolates below");
	text_at(b, x + 150, y + 12, "w", "no ACS");
	y += KEY_H - 6;
	text_at(b, x, y + 12, "k", "bridges: whether ACS keeps what is below apart");
	return top + h;
}

/* ---------------------------------------------------------------- document */

static void host_title(const struct export_sel *s, char *buf, size_t size)
{
	if (s->opts->node)
		snprintf(buf, size, "%s", s->opts->node);
	else if (export_host_name(s, buf, size) < 0)
		snprintf(buf, size, "this host");
}

/* "IOMMU on · 300 PCI functions, 41 in boxes, 259 folded · ..." */
static void summary(struct sbuf *b, const struct svg_view *v)
{
	const struct export_sel *s = v->s;
	size_t total = vfk_host_device_count(s->host);
	char only[64] = "";

	sbuf_addf(b, "IOMMU %s · %zu PCI function%s", vfk_host_iommu_enabled(s->host) ? "on" : "off",
		  total, total == 1 ? "" : "s");
	if (v->nfolded)
		sbuf_addf(b, ", %zu in boxes, %zu folded", v->ndevices, v->nfolded);
	sbuf_addf(b, " · %zu IOMMU group%s · %zu GPU%s, %zu isolated", v->ngroups,
		  v->ngroups == 1 ? "" : "s", v->ngpus, v->ngpus == 1 ? "" : "s", v->nisolated);
	if (s->only)
		svg_clean(vfk_device_get_address(s->only), 16, only, sizeof(only));
	if (s->opts->gpus_only && s->only)
		sbuf_addf(b, " · only the GPUs at or below %s and the bridges above", only);
	else if (s->opts->gpus_only)
		sbuf_add(b, " · only the GPUs and the bridges above them");
	else if (s->only)
		sbuf_addf(b, " · only %s, the bridges above it and what is below", only);
}

static int document(struct sbuf *out, const struct svg_view *v)
{
	struct sbuf body = { 0 }, sum = { 0 };
	char name[256], clean[1024];
	int width, height, bottom;
	int r;

	host_title(v->s, name, sizeof(name));
	r = draw_tree(&body, v);
	bottom = legend(&body, v, v->tree_w + 40, SVG_MARGIN + SVG_TITLE_H);
	width = v->tree_w + 40 + SVG_LEGEND_W + SVG_MARGIN;
	width = width < 780 ? 780 : width;
	height = (v->height > bottom ? v->height : bottom) + SVG_MARGIN;
	summary(&sum, v);
	sbuf_addf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		  "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
		  "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
		  "<title>PCIe tree of ", width, height, width, height);
	esc_host(out, name, 60);
	sbuf_addf(out, "</title>\n<style type=\"text/css\">%s</style>\n"
		  "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
		  style_sheet, width, height);
	svg_clean(name, 60, clean, sizeof(clean));
	sbuf_addf(out, "<text x=\"%d\" y=\"%d\" class=\"t\">PCIe tree of ", SVG_MARGIN,
		  SVG_MARGIN + 20);
	esc(out, clean);
	sbuf_add(out, "</text>\n");
	text_at(out, SVG_MARGIN, SVG_MARGIN + 44, "st", sum.s ? sum.s : "");
	if (body.s)
		sbuf_addn(out, body.s, body.len);
	sbuf_add(out, "</svg>\n");
	if (r == 0 && (body.failed || sum.failed))
		r = neg_errno(ENOMEM);
	sbuf_free(&body);
	sbuf_free(&sum);
	return r;
}

int export_svg(struct export_sel *s)
{
	struct svg_view v;
	int r;

	if (s->opts->device) {
		struct vfk_device *only = NULL;
		char shown[64];

		if (vfk_host_find_device(s->host, s->opts->device, &only) < 0)
			return export_error(s->ctx, ENODEV, "no PCI device %s on this host",
					    vfk_shown(s->opts->device, shown, sizeof(shown)));
		s->only = only;
	}
	r = svg_layout(&v, s);
	if (r == 0)
		r = document(&s->out, &v);
	s->ndevs = v.ndevices;
	svg_view_free(&v);
	return r;
}
