/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libxml2 loaded on first use: see xml-dl.h. */
#include <stdio.h>

#include "core/internal.h"
#include "core/xml-dl.h"

static struct xml_api api;

#define SYM(name) DL_SYM(struct xml_api, name)
static const struct dl_symbol symbols[] = {
	SYM(xmlReadMemory), SYM(xmlFreeDoc), SYM(xmlDocGetRootElement), SYM(xmlStrEqual),
	SYM(xmlNewChild), SYM(xmlNewProp), SYM(xmlGetProp), SYM(xmlSetProp),
	SYM(xmlDocDumpFormatMemory), SYM(xmlNodeGetContent), SYM(xmlFree),
};
#undef SYM

static struct dl_lazy lib = {
	"libxml2.so.2", "libxml2", symbols, ARRAY_SIZE(symbols), &api, false, false, "",
};

const struct xml_api *xml_api(char *errbuf, size_t errsize)
{
	return dl_lazy_get(&lib, errbuf, errsize);
}
