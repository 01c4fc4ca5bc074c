/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-ls --svg and vfk_export(VFK_EXPORT_SVG): the PCI tree as a picture.
 * Each document is read back with libxml2 and judged by what it holds: a
 * standalone SVG 1.1 root, a box per function with its labels, one fill per
 * IOMMU group, the marks of verdicts and shared groups, hostile names
 * escaped, boxes that do not overlap, a large host folded to a bounded
 * size. What a real renderer makes of it is tests/svg-render.sh's part.
 *
 * Golden label lists (every <text>'s content, sorted, one a line) are kept
 * in tests/fixtures/svg/HOST.labels. Regenerate them after a deliberate
 * change, then read each diff before committing it:
 *     VFK_UPDATE_GOLDEN=1 build/tests/run-tests 'svg*'
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "vfiokit.h"
#include "harness.h"

#define PYTHON "/usr/bin/python3"
#define SVG_NS "http://www.w3.org/2000/svg"

static void freestr(char **p)
{
	free(*p);
}
#define STR __attribute__((cleanup(freestr))) char *
#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* ------------------------------------------------------------ reading back */

struct box {
	double x, y, w, h;
	char cls[64], fill[16];
	char *texts;		/* the <text>s of its <g>, one a line; "" without */
};

struct pic {
	xmlDocPtr doc;
	double width, height;
	struct box *boxes;	/* rects of class node (tree boxes) and legend */
	size_t nboxes;
	char **texts;		/* every <text>'s content, in document order */
	size_t ntexts;
};

static void pic_free(struct pic *p)
{
	size_t i;

	for (i = 0; i < p->nboxes; i++)
		free(p->boxes[i].texts);
	for (i = 0; i < p->ntexts; i++)
		free(p->texts[i]);
	free(p->boxes);
	free(p->texts);
	if (p->doc)
		xmlFreeDoc(p->doc);
	memset(p, 0, sizeof(*p));
}
#define PIC __attribute__((cleanup(pic_free))) struct pic

static char *attr(xmlNodePtr n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	char *s = strdup(v ? (const char *)v : "");

	xmlFree(v);
	return s;
}

static double num_attr(xmlNodePtr n, const char *name)
{
	STR v = attr(n, name);

	return v && *v ? strtod(v, NULL) : -1;
}

static bool is_el(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* The <text>s among @g's children, one a line. */
static char *group_texts(xmlNodePtr g)
{
	size_t len = 0;
	char *all = calloc(1, 1);
	xmlNodePtr c;

	for (c = g ? g->children : NULL; c && all; c = c->next) {
		xmlChar *t;
		char *more;
		if (!is_el(c, "text"))
			continue;
		t = xmlNodeGetContent(c);
		more = realloc(all, len + strlen((const char *)t) + 2);
		if (more) {
			len += (size_t)sprintf(more + len, "%s\n", (const char *)t);
			all = more;
		}
		xmlFree(t);
	}
	return all;
}

static void add_box(struct pic *p, xmlNodePtr n, const char *cls)
{
	struct box *b, *more = realloc(p->boxes, (p->nboxes + 1) * sizeof(*p->boxes));
	STR fill = attr(n, "fill");

	if (!more)
		return;
	p->boxes = more;
	b = &p->boxes[p->nboxes++];
	memset(b, 0, sizeof(*b));
	b->x = num_attr(n, "x");
	b->y = num_attr(n, "y");
	b->w = num_attr(n, "width");
	b->h = num_attr(n, "height");
	snprintf(b->cls, sizeof(b->cls), "%s", cls);
	snprintf(b->fill, sizeof(b->fill), "%s", fill ? fill : "");
	b->texts = is_el(n->parent, "g") ? group_texts(n->parent) : strdup("");
}

static void walk(struct pic *p, xmlNodePtr n)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (is_el(n, "text")) {
			xmlChar *t = xmlNodeGetContent(n);
			char **more = realloc(p->texts, (p->ntexts + 1) * sizeof(*p->texts));
			if (more) {
				p->texts = more;
				p->texts[p->ntexts++] = strdup((const char *)t);
			}
			xmlFree(t);
		} else if (is_el(n, "rect")) {
			STR cls = attr(n, "class");
			if (cls && (strncmp(cls, "node", 4) == 0 || strcmp(cls, "legend") == 0))
				add_box(p, n, cls);
		}
		walk(p, n->children);
	}
}

/* Parse @svg strictly (no recovery, no network, no entities from outside) and
 * check its root: an SVG 1.1 <svg> in the SVG namespace, width and height,
 * and a viewBox of the same size. */
static bool pic_read(struct pic *p, const char *svg)
{
	xmlNodePtr root;
	STR ver = NULL;
	STR vb = NULL;
	char want[64];

	memset(p, 0, sizeof(*p));
	if (!svg)
		return false;
	p->doc = xmlReadMemory(svg, (int)strlen(svg), "tree.svg", "UTF-8",
			       XML_PARSE_NONET | XML_PARSE_NOWARNING);
	if (!p->doc) {
		test_fail_(__FILE__, __LINE__, "libxml2 cannot parse the SVG:\n%.2000s", svg);
		return false;
	}
	root = xmlDocGetRootElement(p->doc);
	if (!is_el(root, "svg") || !root->ns || strcmp((const char *)root->ns->href, SVG_NS)) {
		test_fail_(__FILE__, __LINE__, "the root is no <svg> in the SVG namespace");
		return false;
	}
	ver = attr(root, "version");
	vb = attr(root, "viewBox");
	p->width = num_attr(root, "width");
	p->height = num_attr(root, "height");
	snprintf(want, sizeof(want), "0 0 %.0f %.0f", p->width, p->height);
	CHECK_STREQ(ver, "1.1");
	CHECK_STREQ(vb, want);
	CHECK(p->width > 0 && p->height > 0);
	walk(p, root);
	return true;
}

/* ------------------------------------------------------------ making them */

/* A private copy of fixture @name naming its devices after
 * tests/fixtures/svg/pci.ids and called @hostname. */
static char *svg_host(const char *name, const char *hostname)
{
	char path[4096];
	char *root = fixture_host(name), *ids;
	bool ok;

	if (!root)
		return NULL;
	snprintf(path, sizeof(path), "%s/tests/fixtures/svg/pci.ids", test_srcdir());
	ids = read_file(path);
	ok = ids && put_file(root, "usr/share/misc/pci.ids", ids) &&
	     (!hostname || put_file(root, "proc/sys/kernel/hostname", hostname));
	free(ids);
	if (!ok) {
		test_fail_(__FILE__, __LINE__, "cannot put pci.ids or the host name into %s", root);
		free(root);
		return NULL;
	}
	return root;
}

/* `vfio-ls --sysroot ROOT --svg - ARGS`: the document (exit 0 checked). */
static char *svg_of(const char *root, const char *const *args)
{
	const char *argv[20] = { "vfio-ls", "--sysroot", root, "--svg", "-" };
	char *out = NULL, *err = NULL;
	size_t n = 5;
	int st;

	for (; args && *args && n < 19; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	st = run_tool(&out, &err, argv);
	if (st != 0)
		test_fail_(__FILE__, __LINE__, "vfio-ls --svg on %s: exit %d: %s", root, st,
			   err ? err : "");
	free(err);
	return out;
}

/* The tree box whose <g> holds the text @addr, or NULL. */
static const struct box *box_of(const struct pic *p, const char *addr)
{
	char line[64];
	size_t i;

	snprintf(line, sizeof(line), "%s\n", addr);
	for (i = 0; i < p->nboxes; i++)
		if (strncmp(p->boxes[i].texts, line, strlen(line)) == 0)
			return &p->boxes[i];
	return NULL;
}

static bool has_text(const struct pic *p, const char *s)
{
	size_t i;

	for (i = 0; i < p->ntexts; i++)
		if (strcmp(p->texts[i], s) == 0)
			return true;
	return false;
}

static size_t count_class(const struct pic *p, const char *word)
{
	size_t i, n = 0;

	for (i = 0; i < p->nboxes; i++) {
		const char *c = strstr(p->boxes[i].cls, word);
		size_t k = strlen(word);
		n += c && (c == p->boxes[i].cls || c[-1] == ' ') && (c[k] == ' ' || !c[k]);
	}
	return n;
}

static bool has_class(const struct box *b, const char *word)
{
	struct pic one = { .boxes = (struct box *)b, .nboxes = 1 };

	return b && count_class(&one, word) == 1;
}

/* Code points of UTF-8 @s. */
static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* No two boxes (the legend's frame among them) overlap, all lie inside the
 * picture, and no line of a box is longer than its width holds. */
static void check_layout(const struct pic *p, const char *what)
{
	size_t i, j;

	for (i = 0; i < p->nboxes; i++) {
		const struct box *a = &p->boxes[i];
		const char *t;
		if (a->x < 0 || a->y < 0 || a->w <= 0 || a->h <= 0 || a->x + a->w > p->width ||
		    a->y + a->h > p->height)
			test_fail_(__FILE__, __LINE__, "%s: box %zu (%g,%g %gx%g) outside %gx%g", what,
				   i, a->x, a->y, a->w, a->h, p->width, p->height);
		for (j = i + 1; j < p->nboxes; j++) {
			const struct box *b = &p->boxes[j];
			if (a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h &&
			    b->y < a->y + a->h)
				test_fail_(__FILE__, __LINE__, "%s: boxes overlap: %s(%g,%g %gx%g) and "
					   "%s(%g,%g %gx%g)\n%s%s", what, a->cls, a->x, a->y, a->w, a->h,
					   b->cls, b->x, b->y, b->w, b->h, a->texts, b->texts);
		}
		for (t = a->texts; *t;) {
			size_t len = strcspn(t, "\n");
			char line[1024];
			snprintf(line, sizeof(line), "%.*s", (int)len, t);
			if (chars(line) > 50)
				test_fail_(__FILE__, __LINE__, "%s: a line too long for its box: %s", what,
					   line);
			t += len + (t[len] == '\n');
		}
	}
}

/* ------------------------------------------------------------ tests */

static const char *const hosts[] = {
	"desktop-dgpu-igpu", "shared-chipset", "amd-switch", "hgx-h100", "sriov-server",
	"iommu-off", "nvidia-4fn", "plx-8gpu", "shared-chipset-nonroot", "apu-laptop",
};

TEST(svg_is_a_standalone_svg_1_1_document_that_libxml2_reads,
     "on ten fixture hosts: an <svg> root in the SVG namespace, version 1.1, width, height and viewBox, generic fonts, no box overlapping another or leaving the picture")
{
	size_t i;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		STR root = fixture_host_shared(hosts[i]);
		STR svg = NULL;
		PIC p;

		REQUIRE(root != NULL);
		svg = svg_of(root, NULL);
		if (!pic_read(&p, svg))
			continue;
		CHECK_CONTAINS(svg, "font-family=\"sans-serif\"");
		CHECK(strstr(svg, "<!DOCTYPE") == NULL);
		CHECK(count_class(&p, "dev") > 0);
		CHECK(count_class(&p, "bus") > 0);
		check_layout(&p, hosts[i]);
	}
}

TEST(svg_every_function_has_a_box_with_its_labels,
     "shared-chipset (21 functions, drawn whole): each function a box with its address, its short name, its driver and its group")
{
	STR root = svg_host("shared-chipset", "z390\n");
	STR svg = NULL;
	struct vfk_ctx *ctx = NULL;
	struct vfk_host *host = NULL;
	size_t i;
	PIC p;

	REQUIRE(root != NULL);
	svg = svg_of(root, NULL);
	REQUIRE(pic_read(&p, svg));
	REQUIRE(vfk_ctx_new(root, &ctx) == 0);
	REQUIRE(vfk_host_scan(ctx, &host) == 0);
	CHECK_INT(count_class(&p, "dev"), vfk_host_device_count(host));
	for (i = 0; i < vfk_host_device_count(host); i++) {
		struct vfk_device *d = vfk_host_device(host, i);
		const struct box *b = box_of(&p, vfk_device_get_address(d) + 5);
		char grp[32];

		if (!b) {
			test_fail_(__FILE__, __LINE__, "no box for %s", vfk_device_get_address(d));
			continue;
		}
		snprintf(grp, sizeof(grp), "\ngroup %d\n", vfk_device_get_iommu_group(d));
		CHECK_CONTAINS(b->texts, grp);
		CHECK_CONTAINS(b->texts, vfk_device_get_driver(d) ? vfk_device_get_driver(d)
								  : "no driver");
	}
	CHECK_CONTAINS(box_of(&p, "02:00.0")->texts, "\nNVIDIA GeForce GTX 970\n");
	CHECK_CONTAINS(box_of(&p, "00:1c.0")->texts, "\npcieport · no ACS\n");
	CHECK_CONTAINS(box_of(&p, "02:00.1")->texts, "\nfunction of GPU 02:00.0\n");
	CHECK(has_text(&p, "PCIe tree of z390"));
	CHECK(has_text(&p, "pci0000:00"));
	CHECK(has_text(&p, "Legend"));
	vfk_host_unref(host);
	vfk_ctx_unref(ctx);
}

/* The number of "group N" in a box's labels, or -1. */
static int group_in(const struct box *b)
{
	const char *g = strstr(b->texts, "\ngroup ");

	return g ? atoi(g + 7) : -1;
}

TEST(svg_each_group_has_its_own_fill,
     "every box of a group has the group's fill, no two groups one fill, on a desktop, a shared chipset and a GPU server of 70 groups")
{
	static const char *const names[] = { "desktop-dgpu-igpu", "shared-chipset", "hgx-h100" };
	size_t h, i, j;

	for (h = 0; h < 3; h++) {
		STR root = fixture_host_shared(names[h]);
		STR svg = NULL;
		size_t ndev = 0;
		PIC p;

		REQUIRE(root != NULL);
		svg = svg_of(root, NULL);
		REQUIRE(pic_read(&p, svg));
		for (i = 0; i < p.nboxes; i++) {
			const struct box *a = &p.boxes[i];
			if (!has_class(a, "dev") || group_in(a) < 0)
				continue;
			ndev++;
			CHECK(a->fill[0] == '#' && strlen(a->fill) == 7);
			for (j = i + 1; j < p.nboxes; j++) {
				const struct box *b = &p.boxes[j];
				if (!has_class(b, "dev") || group_in(b) < 0)
					continue;
				if ((group_in(a) == group_in(b)) != (strcmp(a->fill, b->fill) == 0))
					test_fail_(__FILE__, __LINE__, "%s: group %d %s, group %d %s",
						   names[h], group_in(a), a->fill, group_in(b), b->fill);
			}
		}
		CHECK(ndev > 10);
	}
}

TEST(svg_marks_where_a_shared_group_starts_and_why,
     "the bridges where a shared group starts: a dashed red border and the reason from vfk_device_get_group_merge(); bridges say their ACS")
{
	STR root = fixture_host_shared("shared-chipset");
	STR root2 = fixture_host_shared("amd-switch");
	STR svg = NULL;
	STR svg2 = NULL;
	const struct box *b;
	PIC p;
	PIC p2;

	REQUIRE(root && root2);
	svg = svg_of(root, NULL);
	REQUIRE(pic_read(&p, svg));
	CHECK_INT(count_class(&p, "merge"), 3);	/* 00:1c.0, 1c.2, 1c.4: the group's top bridges */
	b = box_of(&p, "00:1c.0");
	REQUIRE(b != NULL);
	CHECK(has_class(b, "merge"));
	CHECK_CONTAINS(b->texts, "\nshared group 6 starts here\n");
	CHECK_CONTAINS(b->texts, "\nroot ports without ACS: 0000:00:1c.0,\n0000:00:1c.2, 0000:00:1c.4\n");
	CHECK(!has_class(box_of(&p, "00:01.0"), "merge"));
	svg2 = svg_of(root2, NULL);
	REQUIRE(pic_read(&p2, svg2));
	b = box_of(&p2, "02:00.0");
	REQUIRE(b != NULL);
	CHECK(has_class(b, "merge"));
	CHECK_CONTAINS(b->texts, "downstream ports without ACS: 0000:03:08.0,");
	CHECK_CONTAINS(box_of(&p2, "0c:00.0")->texts, "ACS: isolates below");
}

TEST(svg_highlights_isolated_gpus_and_shows_the_other_verdicts,
     "isolated GPUs: a thick border and 'GPU: isolated'; not isolated, together: their own border and words, with the reason")
{
	STR root = fixture_host_shared("shared-chipset");
	STR root2 = fixture_host_shared("hgx-h100");
	STR svg = NULL;
	STR svg2 = NULL;
	const struct box *b;
	PIC p;
	PIC p2;

	REQUIRE(root && root2);
	svg = svg_of(root, NULL);
	REQUIRE(pic_read(&p, svg));
	b = box_of(&p, "01:00.0");
	REQUIRE(b != NULL);
	CHECK(has_class(b, "iso"));
	CHECK_CONTAINS(b->texts, "\nGPU: isolated\n");
	CHECK_CONTAINS(b->texts, "\nlink 8.0 GT/s x16: ok\n");
	b = box_of(&p, "02:00.0");
	REQUIRE(b != NULL);
	CHECK(has_class(b, "gbad"));
	CHECK_CONTAINS(b->texts, "\nGPU: NOT isolated\n");
	CHECK(!has_class(box_of(&p, "02:00.1"), "iso"));
	svg2 = svg_of(root2, NULL);
	REQUIRE(pic_read(&p2, svg2));
	CHECK_INT(count_class(&p2, "iso"), 5);	/* socket 0's four H100s, the BMC's VGA */
	CHECK_INT(count_class(&p2, "gwarn"), 4);
	CHECK_CONTAINS(box_of(&p2, "9a:00.0")->texts, "\nGPU: together with 1 other\n");
	CHECK(has_text(&p2, "isolated GPU: can go to a VM alone") ||
	      has_text(&p2, "GPU: isolated, can go to a VM alone"));
}

/* No byte a reader must not see: C0 controls but the newline, DEL, C1
 * controls, and only well-formed UTF-8 (libxml2 already refuses the rest). */
static bool plain_bytes(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
			return false;
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0)
			return false;
	}
	return true;
}

/* Every element's name in the document, for elements a name must not make. */
static bool has_element(xmlNodePtr n, const char *name)
{
	for (; n; n = n->next)
		if (is_el(n, name) || has_element(n->children, name))
			return true;
	return false;
}

TEST(svg_escapes_hostile_names_from_pci_ids_and_the_host_name,
     "a pci.ids whose names hold <script>, &, quotes, control characters, C1 controls and bytes that are no UTF-8, and such a host name: the document still parses, holds no such element, no control byte, and shows the names as text")
{
	static const char ids[] =
		"10de  Evil <script>alert(1)</script> & \"Co\" 'x'\x01\x1b[31m\x7f\n"
		"\t13c2  GM204 [<b>GTX</b> & 970 \xc2\x85\xff\xfe]\n"
		"\t0fbb  audio ]]> <![CDATA[ x &amp; &#0; \x08\n";
	STR root = fixture_host("shared-chipset");
	STR svg = NULL;
	const struct box *b;
	xmlNodePtr top;
	PIC p;

	REQUIRE(root != NULL);
	REQUIRE(put_file(root, "usr/share/misc/pci.ids", ids));
	REQUIRE(put_file(root, "proc/sys/kernel/hostname", "evil<host>&\"'\x07\n"));
	svg = svg_of(root, NULL);
	REQUIRE(svg != NULL);
	CHECK(plain_bytes(svg));
	REQUIRE(pic_read(&p, svg));
	top = xmlDocGetRootElement(p.doc);
	CHECK(!has_element(top, "script"));
	CHECK(!has_element(top, "b"));
	CHECK(has_text(&p, "PCIe tree of evil<host>&\"'?"));
	b = box_of(&p, "02:00.0");
	REQUIRE(b != NULL);
	CHECK_CONTAINS(b->texts, "\nEvil <b>GTX</b> & 970 ?\xef\xbf\xbd\xef\xbf\xbd\n");
	b = box_of(&p, "02:00.1");
	REQUIRE(b != NULL);
	CHECK_CONTAINS(b->texts, "\nEvil audio ]]> <![CDATA[ x &amp; &#0; ?\n");
	/* the whole name, in the box's tooltip */
	CHECK_CONTAINS(svg, "Evil &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot; "
			    "&apos;x&apos;??[31m?");
	check_layout(&p, "hostile");
}

/* A synthetic host of bench/mksynth.py (@args then the directory) in a
 * scratch directory: its root (malloc'ed), or NULL. */
static char *synth_host(const char *const *args, char *dir)
{
	const char *argv[8] = { PYTHON };
	char script[4096], out[4200];
	char *o = NULL, *e = NULL;
	size_t n = 2;
	int st;

	snprintf(script, sizeof(script), "%s/bench/mksynth.py", test_srcdir());
	argv[1] = script;
	for (; *args && n < 6; args++)
		argv[n++] = *args;
	snprintf(out, sizeof(out), "%s/h", dir);
	argv[n++] = out;
	argv[n] = NULL;
	st = run_tool(&o, &e, argv);
	if (st != 0)
		test_fail_(__FILE__, __LINE__, "mksynth.py: exit %d: %s", st, e ? e : "");
	free(o);
	free(e);
	return st == 0 ? strdup(out) : NULL;
}

TEST(svg_folds_a_300_function_host_to_a_readable_picture,
     "bench/mksynth.py's GPU server and HGX board of 300 functions: what holds no GPU, no VFIO device and no shared group folds into 'N more functions' boxes; under 60 boxes, 100 kB and 6,000 px, nothing overlaps")
{
	static const char *const kinds[][3] = { { "300", NULL }, { "--hgx", "300", NULL } };
	size_t k;

	REQUIRE_PROGRAM(PYTHON, "python3");
	for (k = 0; k < 2; k++) {
		char dir[] = "/tmp/vfk-svg-XXXXXX";
		STR root = NULL;
		STR svg = NULL;
		PIC p;

		REQUIRE(mkdtemp(dir) != NULL);
		root = synth_host(kinds[k], dir);
		if (root && (svg = svg_of(root, NULL)) && pic_read(&p, svg)) {
			size_t dev = count_class(&p, "dev");
			CHECK(count_class(&p, "small") > 0);
			CHECK(dev > 0 && dev < 60);
			CHECK(strlen(svg) < 100 * 1000);
			CHECK(p.height < 6000 && p.width < 1200);
			CHECK_CONTAINS(svg, " folded · ");
			check_layout(&p, kinds[k][0]);
			if (k == 1)
				CHECK_INT(count_class(&p, "iso"), 5);	/* 4 H100s and the BMC's VGA */
		}
		pic_free(&p);
		remove_path(dir, "h");
		rmdir(dir);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every <text>'s content, sorted, one a line. */
static char *labels(const struct pic *p)
{
	char **v = calloc(p->ntexts + 1, sizeof(*v)), *all;
	size_t i, len = 0;

	if (!v)
		return NULL;
	memcpy(v, p->texts, p->ntexts * sizeof(*v));
	qsort(v, p->ntexts, sizeof(*v), cmp_str);
	for (i = 0; i < p->ntexts; i++)
		len += strlen(v[i]) + 1;
	all = calloc(1, len + 1);
	for (i = 0, len = 0; all && i < p->ntexts; i++)
		len += (size_t)sprintf(all + len, "%s\n", v[i]);
	free(v);
	return all;
}

static bool update_golden(void)
{
	const char *v = getenv("VFK_UPDATE_GOLDEN");

	return v && *v && strcmp(v, "0") != 0;
}

/* The labels of fixture @host's picture (named after tests/fixtures/svg/pci.ids,
 * the host called @hostname) equal tests/fixtures/svg/@host.labels. */
static void golden(const char *host, const char *hostname)
{
	STR root = svg_host(host, hostname);
	STR svg = NULL;
	STR got = NULL;
	STR want = NULL;
	char path[4096];
	PIC p;

	REQUIRE(root != NULL);
	svg = svg_of(root, NULL);
	REQUIRE(pic_read(&p, svg));
	got = labels(&p);
	REQUIRE(got != NULL);
	snprintf(path, sizeof(path), "%s/tests/fixtures/svg/%s.labels", test_srcdir(), host);
	if (update_golden()) {
		FILE *f = fopen(path, "w");

		REQUIRE(f != NULL);
		fputs(got, f);
		REQUIRE(fclose(f) == 0);
		fprintf(stderr, "golden file written: %s\n", path);
		return;
	}
	want = read_file(path);
	if (!want)
		test_fail_(__FILE__, __LINE__, "no golden file %s (VFK_UPDATE_GOLDEN=1 writes it)",
			   path);
	else if (strcmp(want, got) != 0)
		test_fail_(__FILE__, __LINE__, "the labels of %s's picture differ from %s:\n%s", host,
			   path, got);
}

TEST(svg_golden_labels_desktop_with_dgpu_and_igpu,
     "Alder Lake desktop: the RTX 4090 isolated behind the CPU's PEG port with ACS, the UHD 770 on the console")
{
	golden("desktop-dgpu-igpu", "desk\n");
}

TEST(svg_golden_labels_shared_chipset,
     "Z390 desktop: the GTX 970 in the chipset's shared group 6, where it starts and why; the GTX 1080 isolated")
{
	golden("shared-chipset", "z390\n");
}

TEST(svg_golden_labels_gpu_server,
     "HGX H100: four switches, socket 0's GPUs isolated, socket 1's pairs together behind ports without ACS enabled, the NVSwitches")
{
	golden("hgx-h100", "hgx-node-1\n");
}

TEST(svg_gpus_and_device_select_as_the_tree_does,
     "--gpus: only the GPUs, their functions and the bridges above them; --device ADDR: its path and what is below it; the summary says so")
{
	STR root = fixture_host_shared("shared-chipset");
	STR svg = NULL;
	STR svg2 = NULL;
	PIC p;
	PIC p2;

	REQUIRE(root != NULL);
	svg = svg_of(root, ARGS("--gpus"));
	REQUIRE(pic_read(&p, svg));
	CHECK_INT(count_class(&p, "dev"), 7);	/* 3 GPUs, 2 audio functions, 00:01.0, 00:1c.0 */
	CHECK(box_of(&p, "01:00.1") && box_of(&p, "00:1c.0") && box_of(&p, "00:02.0"));
	CHECK(box_of(&p, "00:17.0") == NULL);
	CHECK(box_of(&p, "03:00.0") == NULL);
	CHECK_CONTAINS(svg, "only the GPUs and the bridges above them");
	svg2 = svg_of(root, ARGS("--device", "00:1c.2"));
	REQUIRE(pic_read(&p2, svg2));
	CHECK_INT(count_class(&p2, "dev"), 2);
	CHECK(box_of(&p2, "00:1c.2") && box_of(&p2, "03:00.0"));
	CHECK_CONTAINS(svg2, "only 0000:00:1c.2, the bridges above it and what is below");
}

TEST(svg_tool_writes_the_file_and_refuses_in_one_line,
     "--svg FILE writes what --svg - prints; a FILE that cannot be written is one line and exit 3; --svg with --json or --group, and --export svg, are usage errors")
{
	STR root = fixture_host_shared("desktop-dgpu-igpu");
	char dir[] = "/tmp/vfk-svg-XXXXXX", path[64];
	char *out = NULL, *err = NULL;
	STR svg = NULL;
	STR file = NULL;

	REQUIRE(root != NULL);
	REQUIRE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/t.svg", dir);
	svg = svg_of(root, NULL);
	CHECK_INT(run_tool(&out, &err, ARGS("vfio-ls", "--sysroot", root, "--svg", path)), 0);
	CHECK_STREQ(out, "");
	CHECK_STREQ(err, "");
	file = read_file(path);
	CHECK_STREQ(file, svg);
	unlink(path);
	rmdir(dir);
	free(out);
	free(err);
	CHECK_INT(run_tool(&out, &err, ARGS("vfio-ls", "--sysroot", root, "--svg", path)), 3);
	CHECK_STREQ(out, "");
	CHECK_CONTAINS(err, "--svg: cannot write");
	CHECK_CONTAINS(err, "No such file or directory");
	CHECK(err && strchr(err, '\n') == err + strlen(err) - 1);
	free(out);
	free(err);
	CHECK_INT(run_tool(&out, &err, ARGS("vfio-ls", "--sysroot", root, "--svg", "-", "--json")), 2);
	CHECK_CONTAINS(err, "it takes no --json");
	free(out);
	free(err);
	CHECK_INT(run_tool(&out, &err, ARGS("vfio-ls", "--sysroot", root, "--svg", "-", "--group",
					    "1")), 2);
	free(out);
	free(err);
	CHECK_INT(run_tool(&out, &err, ARGS("vfio-ls", "--sysroot", root, "--export", "svg")), 2);
	CHECK_CONTAINS(err, "--svg FILE");
	free(out);
	free(err);
	CHECK_INT(run_tool(&out, &err, ARGS("vfio-ls", "--sysroot", root, "--svg", "-", "--device",
					    "77:00.0")), 1);
	CHECK_CONTAINS(err, "no PCI device");
	free(out);
	free(err);
}

TEST(svg_export_api_returns_the_boxes_drawn,
     "vfk_export(VFK_EXPORT_SVG): the number of functions in boxes; 'svg' by name; a resource prefix or an unknown device refused")
{
	STR root = fixture_host_shared("shared-chipset");
	struct vfk_ctx *ctx = NULL;
	struct vfk_host *host = NULL;
	struct vfk_export_options o = { .node = "named-node" };
	enum vfk_export_format f;
	char *doc = NULL;

	REQUIRE(root != NULL);
	REQUIRE(vfk_ctx_new(root, &ctx) == 0);
	REQUIRE(vfk_host_scan(ctx, &host) == 0);
	CHECK_INT(vfk_export(host, VFK_EXPORT_SVG, &o, &doc), 21);
	CHECK_CONTAINS(doc, ">PCIe tree of named-node</text>");
	free(doc);
	doc = NULL;
	o.gpus_only = true;
	CHECK_INT(vfk_export(host, VFK_EXPORT_SVG, &o, &doc), 7);
	free(doc);
	doc = NULL;
	CHECK_INT(vfk_export_format_from_string("svg", &f), 0);
	CHECK_INT(f, VFK_EXPORT_SVG);
	CHECK_STREQ(vfk_export_format_to_string(VFK_EXPORT_SVG), "svg");
	o.resource_prefix = "example.com";
	CHECK_INT(vfk_export(host, VFK_EXPORT_SVG, &o, &doc), -EINVAL);
	CHECK(doc == NULL);
	o.resource_prefix = NULL;
	o.device = "0000:77:00.0";
	CHECK_INT(vfk_export(host, VFK_EXPORT_SVG, &o, &doc), -ENODEV);
	CHECK(doc == NULL);
	CHECK_CONTAINS(vfk_ctx_get_error(ctx), "no PCI device 0000:77:00.0");
	vfk_host_unref(host);
	vfk_ctx_unref(ctx);
}

TEST(svg_names_the_slots_the_firmware_lists,
     "desktop-slots and workstation-switch (SMBIOS type 9): the slot's name on the first function in it, an empty slot's on its port; laptop-noslots has none")
{
	STR root = fixture_host_shared("desktop-slots");
	STR root2 = fixture_host_shared("workstation-switch");
	STR root3 = fixture_host_shared("laptop-noslots");
	STR svg = NULL;
	STR svg2 = NULL;
	STR svg3 = NULL;
	PIC p;
	PIC p2;

	REQUIRE(root && root2 && root3);
	svg = svg_of(root, NULL);
	REQUIRE(pic_read(&p, svg));
	CHECK_CONTAINS(box_of(&p, "01:00.0")->texts, "\nslot PCIEX16_1\n");
	CHECK(strstr(box_of(&p, "01:00.1")->texts, "slot") == NULL);	/* once a card */
	CHECK(strstr(box_of(&p, "00:01.0")->texts, "slot") == NULL);
	CHECK_CONTAINS(box_of(&p, "00:01.1")->texts, "\nslot PCIEX16_2: empty\n");
	svg2 = svg_of(root2, NULL);
	REQUIRE(pic_read(&p2, svg2));
	CHECK(has_text(&p2, "slot SLOT1"));
	CHECK(has_text(&p2, "slot SLOT3: empty"));
	CHECK(has_text(&p2, "slot SLOT6"));
	check_layout(&p2, "workstation-switch");
	svg3 = svg_of(root3, NULL);
	CHECK(svg3 && strstr(svg3, ">slot ") == NULL);
}

TEST(svg_golden_labels_slot_hosts,
     "the slot fixtures: a desktop board with CPU and chipset slots, a workstation with a PCIe switch, a laptop without a slot table")
{
	golden("desktop-slots", "desk-slots\n");
	golden("workstation-switch", "ws-x299\n");
	golden("laptop-noslots", "laptop\n");
}

TEST(svg_draws_a_crafted_deep_tree_to_its_depth_limit,
     "a chain of 40 bridges and a GPU (no real host has one): the boxes stop at 32 levels, one box says how many functions are below, the picture stays narrow")
{
	char dir[] = "/tmp/vfk-svg-XXXXXX", hostfile[64], script[4096], tree[64];
	char *o = NULL, *e = NULL;
	STR svg = NULL;
	FILE *f;
	int i;
	PIC p;

	REQUIRE(mkdtemp(dir) != NULL);
	snprintf(hostfile, sizeof(hostfile), "%s/deep.host", dir);
	snprintf(tree, sizeof(tree), "%s/h", dir);
	snprintf(script, sizeof(script), "%s/tests/mkhost.py", test_srcdir());
	f = fopen(hostfile, "w");
	REQUIRE(f != NULL);
	fputs("kernel 6.1.0-18-amd64\niommu intel\n", f);
	fputs("dev 0000:00:01.0 class=060400 id=8086:460d group=0 driver=pcieport acs=none\n", f);
	for (i = 1; i < 40; i++)
		fprintf(f, "dev 0000:%02x:00.0 parent=0000:%02x:%02x.0 class=060400 id=8086:460d "
			"group=0 driver=pcieport acs=none\n", i, i - 1, i == 1 ? 1 : 0);
	fputs("dev 0000:28:00.0 parent=0000:27:00.0 class=030000 id=10de:2684 group=0 "
	      "driver=nvidia\n", f);
	fclose(f);
	CHECK_INT(run_tool(&o, &e, ARGS(PYTHON, script, hostfile, tree)), 0);
	free(o);
	free(e);
	svg = svg_of(tree, NULL);
	if (pic_read(&p, svg)) {
		/* the root bus is the first level, 31 bridges the others */
		CHECK_INT(count_class(&p, "dev"), 31);
		CHECK(has_text(&p, "10 more below: deeper than 32 levels"));
		CHECK(p.width < 24 + 33 * 28 + 360 + 40 + 330 + 24 + 1);
		check_layout(&p, "deep");
	}
	remove_path(dir, "h");
	unlink(hostfile);
	rmdir(dir);
}
