/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small XML element tree and its writer (xml-tree.c), for the libvirt
 * domain XML. Elements have a name (with an optional namespace prefix),
 * attributes in the order set, xmlns:PREFIX declarations, and either text or
 * child elements. Every string is copied in; every value is escaped on the
 * way out, so nothing put in can end an attribute or an element.
 */
#ifndef VFK_XML_TREE_H
#define VFK_XML_TREE_H

struct xml_node;

/* A new element without parent, the document's root; NULL on ENOMEM. */
struct xml_node *xml_new_root(const char *name);
/*
 * A new last child of @parent named @prefix:@name (@prefix NULL: no prefix)
 * with text content @text (NULL: none, written <name/>; "": <name></name>).
 * The node belongs to @parent. NULL on ENOMEM.
 */
struct xml_node *xml_add_child(struct xml_node *parent, const char *prefix, const char *name,
			       const char *text);
/* Append the attribute @name="@value" (@value NULL: empty). 0 or -ENOMEM. */
int xml_set_attr(struct xml_node *n, const char *name, const char *value);
/* Declare xmlns:@prefix="@href" on @n (written before its attributes). 0 or -ENOMEM. */
int xml_declare_ns(struct xml_node *n, const char *prefix, const char *href);

/*
 * @root as a document without declaration, indented by two spaces, ending
 * with a newline, in *@out (malloc'ed). -EINVAL when a value holds a control
 * character XML 1.0 cannot carry even as a reference (C0 but tab, newline,
 * carriage return); -ENOMEM.
 */
int xml_format(const struct xml_node *root, char **out);
/* @root and all below it; NULL is fine. */
void xml_free(struct xml_node *root);

#endif
