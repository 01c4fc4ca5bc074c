/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The XML writer of the domain XML (see xml-tree.h). Why not libxml2: libvirt
 * itself formats its domain XML with its own buffer and escaping (virBuffer,
 * virBufferEscapeString) and uses libxml2 only to parse. Writing is a small
 * job, and linking libxml2 (on Debian 12 it pulls in ICU and libstdc++) cost
 * every start of every tool more than generating the whole domain.
 *
 * The text is what libxml2's xmlSaveDoc() with XML_SAVE_FORMAT|XML_SAVE_NO_DECL
 * wrote for the same tree, byte for byte, so the output did not change when
 * the writer did: two spaces per level, <empty/>, a newline at the end; in
 * text & < > and CR escaped, in attribute values also " and tab, newline and
 * CR as character references (a parser reads a raw one there as a space).
 * Where libxml2 wrote what no parser reads back, this writer does not: a C0
 * control fails the output, a namespace URI is escaped like any value.
 */
#include "core/strbuf.h"
#include "emit/xml-tree.h"

struct xml_attr {
	struct xml_attr *next;
	const char *name, *value;	/* in data[] */
	char data[];
};

struct xml_node {
	struct xml_node *next, *children, *last_child;
	struct xml_attr *nsdefs, *attrs;
	const char *prefix, *name, *text;	/* in data[]; prefix and text may be NULL */
	char data[];
};

/* Copy @s (NULL stays NULL) to *@at, moving *@at past it. */
static const char *put(char **at, const char *s)
{
	char *p = *at;
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	memcpy(p, s, n);
	*at = p + n;
	return p;
}

static size_t size_of(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

static struct xml_node *node_new(const char *prefix, const char *name, const char *text)
{
	struct xml_node *n = calloc(1, sizeof(*n) + size_of(prefix) + size_of(name) +
				       size_of(text));
	char *at;

	if (!n)
		return NULL;
	at = n->data;
	n->prefix = put(&at, prefix);
	n->name = put(&at, name);
	n->text = put(&at, text);
	return n;
}

struct xml_node *xml_new_root(const char *name)
{
	return node_new(NULL, name, NULL);
}

struct xml_node *xml_add_child(struct xml_node *parent, const char *prefix, const char *name,
			       const char *text)
{
	struct xml_node *n = node_new(prefix, name, text);

	if (!n)
		return NULL;
	if (parent->last_child)
		parent->last_child->next = n;
	else
		parent->children = n;
	parent->last_child = n;
	return n;
}

/* Append @name="@value" to the list at *@list. */
static int attr_append(struct xml_attr **list, const char *name, const char *value)
{
	struct xml_attr *a;
	char *at;

	if (!value)
		value = "";
	a = malloc(sizeof(*a) + size_of(name) + size_of(value));
	if (!a)
		return neg_errno(ENOMEM);
	at = a->data;
	a->next = NULL;
	a->name = put(&at, name);
	a->value = put(&at, value);
	while (*list)
		list = &(*list)->next;
	*list = a;
	return 0;
}

int xml_set_attr(struct xml_node *n, const char *name, const char *value)
{
	return attr_append(&n->attrs, name, value);
}

int xml_declare_ns(struct xml_node *n, const char *prefix, const char *href)
{
	return attr_append(&n->nsdefs, prefix, href);
}

static void attrs_free(struct xml_attr *a)
{
	struct xml_attr *next;

	for (; a; a = next) {
		next = a->next;
		free(a);
	}
}

void xml_free(struct xml_node *root)
{
	struct xml_node *c, *next;

	if (!root)
		return;
	for (c = root->children; c; c = next) {
		next = c->next;
		xml_free(c);
	}
	attrs_free(root->nsdefs);
	attrs_free(root->attrs);
	free(root);
}

/* ------------------------------------------------------------- writing */

/* C0 controls but tab, newline and CR: no XML 1.0 document can hold them. */
#define C0_NOT_XML "\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f" \
	"\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"
/* The bytes written as something else in text and in attribute values. */
static const char text_special[] = "&<>\r" C0_NOT_XML;
static const char attr_special[] = "&<>\"\t\n\r" C0_NOT_XML;

struct xml_out {
	struct sbuf b;
	int err;
};

static const char *entity(char c)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\t': return "&#9;";
	case '\n': return "&#10;";
	case '\r': return "&#13;";
	default: return NULL;
	}
}

/* @s with the bytes of @special escaped; a byte with no escape fails the output. */
static void put_escaped(struct xml_out *o, const char *s, const char *special)
{
	const char *e;
	size_t n;

	for (;;) {
		n = strcspn(s, special);
		sbuf_addn(&o->b, s, n);
		s += n;
		if (!*s)
			return;
		e = entity(*s++);
		if (!e) {
			o->err = neg_errno(EINVAL);
			return;
		}
		sbuf_add(&o->b, e);
	}
}

/* " @before@name="@value"" for each attribute of @a. */
static void put_attrs(struct xml_out *o, const struct xml_attr *a, const char *before)
{
	for (; a; a = a->next) {
		sbuf_add(&o->b, " ");
		sbuf_add(&o->b, before);
		sbuf_add(&o->b, a->name);
		sbuf_add(&o->b, "=\"");
		put_escaped(o, a->value, attr_special);
		sbuf_add(&o->b, "\"");
	}
}

/* "<" or "</", then prefix:name */
static void put_tag(struct xml_out *o, const char *open, const struct xml_node *n)
{
	sbuf_add(&o->b, open);
	if (n->prefix) {
		sbuf_add(&o->b, n->prefix);
		sbuf_add(&o->b, ":");
	}
	sbuf_add(&o->b, n->name);
}

static void put_newline_indent(struct xml_out *o, unsigned int level)
{
	sbuf_add(&o->b, "\n");
	while (level--)
		sbuf_add(&o->b, "  ");
}

/*
 * @n at depth @level, as libxml2 formats: children on lines of their own,
 * indented, unless the element has text (mixed content keeps its spacing).
 */
static void put_node(struct xml_out *o, const struct xml_node *n, unsigned int level)
{
	const struct xml_node *c;

	put_tag(o, "<", n);
	put_attrs(o, n->nsdefs, "xmlns:");
	put_attrs(o, n->attrs, "");
	if (!n->text && !n->children) {
		sbuf_add(&o->b, "/>");
		return;
	}
	sbuf_add(&o->b, ">");
	if (n->text)
		put_escaped(o, n->text, text_special);
	for (c = n->children; c; c = c->next) {
		if (!n->text)
			put_newline_indent(o, level + 1);
		put_node(o, c, level + 1);
	}
	if (!n->text && n->children)
		put_newline_indent(o, level);
	put_tag(o, "</", n);
	sbuf_add(&o->b, ">");
}

int xml_format(const struct xml_node *root, char **out)
{
	struct xml_out o = { 0 };

	*out = NULL;
	put_node(&o, root, 0);
	sbuf_add(&o.b, "\n");
	if (o.err) {
		sbuf_free(&o.b);
		return o.err;
	}
	*out = sbuf_take(&o.b);
	return *out ? 0 : neg_errno(ENOMEM);
}
