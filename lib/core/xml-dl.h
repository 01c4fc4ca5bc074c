/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libxml2, loaded when an XML document is first read (xml-dl.c): vfiokit
 * writes its XML itself (emit/xml-tree.c) and reads XML only when it edits a
 * domain before launch, while linking libxml2 (ICU and libstdc++ with it on
 * Debian 12) cost every start of every tool. The API is libxml2's own,
 * called through the table.
 */
#ifndef VFK_XML_DL_H
#define VFK_XML_DL_H

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "core/dl.h"

struct xml_api {
	DL_FN(xmlReadMemory);
	DL_FN(xmlFreeDoc);
	DL_FN(xmlDocGetRootElement);
	DL_FN(xmlStrEqual);
	DL_FN(xmlNewChild);
	DL_FN(xmlNewProp);
	DL_FN(xmlGetProp);
	DL_FN(xmlSetProp);
	DL_FN(xmlDocDumpFormatMemory);
	DL_FN(xmlNodeGetContent);
	xmlFreeFunc *xmlFree;	/* a variable: (*x->xmlFree)(p) frees what libxml2 allocated */
};

/* The API, loaded once (thread-safe); NULL with one line in @errbuf when
 * libxml2.so.2 cannot be loaded. */
const struct xml_api *xml_api(char *errbuf, size_t errsize);

#endif
