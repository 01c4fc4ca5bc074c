/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The XML vfiokit writes itself (lib/emit/xml-tree.c): hostile values come
 * out escaped, and libxml2, loaded on first use as the library loads it
 * (lib/core/xml-dl.c), reads every value back as it went in; vfio-vm gen
 * never loads libxml2. The writer and the loader are internal: the Makefile
 * links their objects into run-tests.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vmtest.h"
#include "core/xml-dl.h"
#include "emit/xml-tree.h"

/* ------------------------------------------------------------ helpers */

/* The first child element of @n named @name (local name), or NULL. */
static xmlNodePtr child(xmlNodePtr n, const char *name)
{
	for (n = n ? n->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name))
			return n;
	return NULL;
}

/* The element at @path ("devices/disk/source") below @n. */
static xmlNodePtr at(xmlNodePtr n, const char *path)
{
	char buf[256], *save = NULL, *name;

	snprintf(buf, sizeof(buf), "%s", path);
	for (name = strtok_r(buf, "/", &save); n && name; name = strtok_r(NULL, "/", &save))
		n = child(n, name);
	return n;
}

/* The text of @n, its text children joined (static buffer; NULL without @n). */
static const char *text_of(xmlNodePtr n)
{
	static char buf[4096];
	size_t len = 0;

	if (!n)
		return NULL;
	buf[0] = '\0';
	for (n = n->children; n; n = n->next)
		if (n->type == XML_TEXT_NODE && n->content)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s",
						(const char *)n->content);
	return buf;
}

/* The attribute @name of @n (static buffer; NULL when absent). */
static const char *attr_of(const struct xml_api *x, xmlNodePtr n, const char *name)
{
	static char buf[4096];
	xmlChar *v = n ? x->xmlGetProp(n, BAD_CAST name) : NULL;

	if (!v)
		return NULL;
	snprintf(buf, sizeof(buf), "%s", (const char *)v);
	(*x->xmlFree)(v);
	return buf;
}

static const struct xml_api *loaded_xml_api(void)
{
	char why[512] = "";
	const struct xml_api *x = xml_api(why, sizeof(why));

	if (!x)
		test_fail_(__FILE__, __LINE__, "libxml2 not loaded: %s", why);
	return x;
}

static xmlDocPtr parse(const struct xml_api *x, const char *xml)
{
	xmlDocPtr doc = x->xmlReadMemory(xml, (int)strlen(xml), "t.xml", NULL,
					 XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);

	if (!doc)
		test_fail_(__FILE__, __LINE__, "libxml2 cannot parse:\n%s", xml);
	return doc;
}

/* ------------------------------------------------------------ the writer */

/* Each byte XML gives a meaning to, alone and in company, markup that
 * would break out of a value, references that must stay text, UTF-8. */
static const char *const hostile[] = {
	"&", "<", ">", "\"", "'", "\t", "\n", "\r", "\r\n", "",
	"a & b < c > d \" e ' f", "</v><injected a=\"1\"/>", "\" injected=\"1", "]]>",
	"<!-- x -->", "<?pi x?>", "<![CDATA[x]]>", "&amp;", "&#10;", "&lt;",
	"tab\there, newline\nthere, cr\rthere", "  spaced  ", "é 日本 🎮 ü ©",
};
#define NHOSTILE (sizeof(hostile) / sizeof(hostile[0]))

/* <t xmlns:p="urn:t"> with one <v a=S>S</v> and one <p:w a=S/> per string. */
static struct xml_node *hostile_tree(void)
{
	struct xml_node *root = xml_new_root("t"), *v;
	size_t i;

	if (!root || xml_declare_ns(root, "p", "urn:t") < 0)
		return NULL;
	for (i = 0; i < NHOSTILE; i++) {
		v = xml_add_child(root, NULL, "v", hostile[i]);
		if (!v || xml_set_attr(v, "a", hostile[i]) < 0)
			return NULL;
		v = xml_add_child(root, "p", "w", NULL);
		if (!v || xml_set_attr(v, "a", hostile[i]) < 0)
			return NULL;
	}
	return root;
}

TEST(xml_writer_escapes_hostile_values_and_libxml2_reads_them_back,
     "& < > \" ' tab newline CR, markup and UTF-8 in element text and attribute values come "
     "out escaped, and libxml2 (loaded on first use) reads each back byte for byte")
{
	const struct xml_api *x = loaded_xml_api();
	struct xml_node *root = hostile_tree();
	xmlNodePtr t, n;
	xmlDocPtr doc;
	char *xml = NULL;
	size_t i = 0, nv = 0, nw = 0;

	REQUIRE(x && root);
	REQUIRE(xml_format(root, &xml) == 0);
	xml_free(root);
	/* what libxml2's own writer wrote for the same values */
	CHECK_CONTAINS(xml, "<t xmlns:p=\"urn:t\">\n  <v a=\"&amp;\">&amp;</v>\n");
	CHECK_CONTAINS(xml, "\n  <v a=\"&#9;\">\t</v>\n  <p:w a=\"&#9;\"/>\n");
	CHECK_CONTAINS(xml, "\n  <v a=\"&#10;\">\n</v>\n");
	CHECK_CONTAINS(xml, "\n  <v a=\"&#13;&#10;\">&#13;\n</v>\n");
	CHECK_CONTAINS(xml, "\n  <v a=\"\"></v>\n  <p:w a=\"\"/>\n");
	CHECK_CONTAINS(xml, "<v a=\"&quot; injected=&quot;1\">\" injected=\"1</v>");
	CHECK_CONTAINS(xml, "<v a=\"&lt;/v&gt;&lt;injected a=&quot;1&quot;/&gt;\">"
			    "&lt;/v&gt;&lt;injected a=\"1\"/&gt;</v>");
	CHECK_CONTAINS(xml, "<v a=\"&amp;#10;\">&amp;#10;</v>");
	CHECK_CONTAINS(xml, "<v a=\"é 日本 🎮 ü ©\">é 日本 🎮 ü ©</v>");
	CHECK(xml[strlen(xml) - 1] == '\n' && !strstr(xml, "<?xml"));

	doc = parse(x, xml);
	REQUIRE(doc);
	t = x->xmlDocGetRootElement(doc);
	for (n = t ? t->children : NULL; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!strcmp((const char *)n->name, "v")) {
			i = nv++;
			if (i < NHOSTILE)
				CHECK_STREQ(text_of(n), hostile[i]);
		} else {
			CHECK_STREQ((const char *)n->name, "w");
			CHECK(n->ns && !strcmp((const char *)n->ns->href, "urn:t"));
			i = nw++;
		}
		if (i < NHOSTILE)
			CHECK_STREQ(attr_of(x, n, "a"), hostile[i]);
		CHECK(!child(n, "injected"));
	}
	CHECK_INT(nv, NHOSTILE);
	CHECK_INT(nw, NHOSTILE);
	x->xmlFreeDoc(doc);
	free(xml);
}

TEST(xml_writer_refuses_controls_xml_cannot_carry,
     "a C0 control but tab, newline and CR has no XML 1.0 form: the writer fails with -EINVAL, "
     "writing nothing")
{
	static const char *const bad[] = { "\x01", "a\x1b[2Jb", "\x7f\x08" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct xml_node *root = xml_new_root("t");
		char unset[] = "unset", *xml = unset;

		REQUIRE(root);
		if (i % 2)
			REQUIRE(xml_add_child(root, NULL, "v", bad[i]));
		else
			REQUIRE(xml_set_attr(root, "a", bad[i]) == 0);
		CHECK_INT(xml_format(root, &xml), -EINVAL);
		CHECK(xml == NULL);
		xml_free(root);
	}
}

/* ------------------------------------------------------------ the domain */

static const char hostile_profile[] =
	"[vm]\n"
	"name = my \"evil\" <vm> & 'co', é 日本 🎮\n"
	"description = </description><script>x</script> & ]]> <!-- \"q\" 'a' ©\n"
	"kernel = /boot/vm linuz's,1 ñ\n"
	"cmdline = console=ttyS0 init=\"/bin/sh -c 'echo <&>'\" ß\n"
	"[disk]\n"
	"path = /images/a dir/it's <a>,b&c \"q\" é.qcow2\n"
	"[input]\n"
	"keyboard = /dev/input/by-id/k<&>\"'é-event-kbd\n";

TEST(emit_xml_hostile_profile_values_read_back_through_lazy_libxml2,
     "the domain XML of a profile with & < > \" ' and UTF-8 in name, description, kernel, "
     "cmdline, disk and keyboard: escaped, and libxml2 (loaded on first use) reads each back")
{
	const struct xml_api *x = loaded_xml_api();
	struct vmenv e;
	xmlDocPtr doc;
	xmlNodePtr dom, n;
	char *xml;

	REQUIRE(x);
	if (vm_plan(&e, "ready", hostile_profile) < 0) {
		test_fail_(__FILE__, __LINE__, "the profile was refused: %s", e.err);
		vm_close(&e);
		return;
	}
	xml = vm_xml(&e);
	REQUIRE(xml);
	CHECK_CONTAINS(xml, "<name>my \"evil\" &lt;vm&gt; &amp; 'co', é 日本 🎮</name>");
	CHECK_CONTAINS(xml, "<source file=\"/images/a dir/it's &lt;a&gt;,b&amp;c &quot;q&quot; "
			    "é.qcow2\"/>");
	CHECK(!strstr(xml, "<script>"));
	doc = parse(x, xml);
	REQUIRE(doc);
	dom = x->xmlDocGetRootElement(doc);
	CHECK_STREQ(text_of(at(dom, "name")), "my \"evil\" <vm> & 'co', é 日本 🎮");
	CHECK_STREQ(text_of(at(dom, "description")),
		    "</description><script>x</script> & ]]> <!-- \"q\" 'a' ©");
	CHECK_STREQ(text_of(at(dom, "os/kernel")), "/boot/vm linuz's,1 ñ");
	CHECK_STREQ(text_of(at(dom, "os/cmdline")), "console=ttyS0 init=\"/bin/sh -c 'echo <&>'\" ß");
	CHECK_STREQ(attr_of(x, at(dom, "devices/disk/source"), "file"),
		    "/images/a dir/it's <a>,b&c \"q\" é.qcow2");
	for (n = at(dom, "devices/input"); n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && child(n, "source"))
			break;
	CHECK_STREQ(attr_of(x, child(n, "source"), "dev"), "/dev/input/by-id/k<&>\"'é-event-kbd");
	CHECK(!child(dom, "script"));
	x->xmlFreeDoc(doc);
	free(xml);
	vm_close(&e);
}

/* ------------------------------------------------------------ the tool */

TEST(vfio_vm_gen_never_loads_libxml2,
     "vfio-vm gen --format libvirt maps neither libxml2 nor what it pulls in (ICU), "
     "at start or later (the dynamic loader's own account, LD_DEBUG=libs)")
{
	char *root = fixture_host_shared("ready");
	char *out = NULL, *err = NULL;
	int rc;

	REQUIRE(root);
	setenv("LD_DEBUG", "libs", 1);	/* this test's own process, forked for it */
	{
		const char *argv[] = { "vfio-vm", "gen", src_path("configs/gaming-passthrough.ini"),
				       "--format", "libvirt", "--sysroot", root, NULL };

		rc = run_tool(&out, &err, argv);
	}
	unsetenv("LD_DEBUG");
	CHECK_INT(rc, 0);
	CHECK(out && !strncmp(out, "<domain ", 8));
	CHECK_CONTAINS(err, "libc.so.6");	/* the account was given */
	CHECK(err && !strstr(err, "libxml2") && !strstr(err, "libicu"));
	free(out);
	free(err);
	free(root);
}
