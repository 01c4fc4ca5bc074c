/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * From installing to daily use ([vm] installed = yes, vfio-vm up
 * --installed): the plan leaves the installer out, and a domain kept from
 * before still holds it. Its installation media — CD-ROMs whose image is
 * [disk.installer]'s or a driver ISO the plan attached — are taken out of
 * its definition, one device at a time through libvirt, so every other edit
 * made to the domain stays, and the boot order is what is left.
 */
#include <ctype.h>
#include <stdio.h>

#include "core/xml-dl.h"
#include "launch/launch.h"
#include "launch/libvirt-dl.h"

#define MAX_MEDIA 8

static xmlNodePtr child(const struct xml_api *x, xmlNodePtr n, const char *name)
{
	for (n = n ? n->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && x->xmlStrEqual(n->name, BAD_CAST name))
			return n;
	return NULL;
}

static bool prop_is(const struct xml_api *x, xmlNodePtr n, const char *name, const char *const *any,
		    size_t nany)
{
	xmlChar *v = n ? x->xmlGetProp(n, BAD_CAST name) : NULL;
	bool hit = false;
	size_t i;

	for (i = 0; v && i < nany && !hit; i++)
		hit = x->xmlStrEqual(v, BAD_CAST any[i]);
	(*x->xmlFree)(v);
	return hit;
}

/* The target dev ("sdb") of each CD-ROM of @xml whose image is in @media,
 * into @devs (at most @max, plain names only). */
static size_t media_targets(const struct xml_api *x, const char *xml, const char *const *media,
			    size_t nmedia, char devs[][16], size_t max)
{
	static const char *const cdrom[] = { "cdrom" };
	xmlDocPtr doc = x->xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
					 XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlNodePtr n;
	size_t k = 0;

	for (n = doc ? child(x, child(x, x->xmlDocGetRootElement(doc), "devices"), "disk") : NULL;
	     n && k < max; n = n->next) {
		xmlChar *dev;

		if (n->type != XML_ELEMENT_NODE || !x->xmlStrEqual(n->name, BAD_CAST "disk") ||
		    !prop_is(x, n, "device", cdrom, 1) ||
		    !prop_is(x, child(x, n, "source"), "file", media, nmedia))
			continue;
		dev = x->xmlGetProp(child(x, n, "target"), BAD_CAST "dev");
		if (dev && strlen((const char *)dev) < 16 &&
		    strspn((const char *)dev, "abcdefghijklmnopqrstuvwxyz0123456789") ==
			    strlen((const char *)dev))
			snprintf(devs[k++], 16, "%s", (const char *)dev);
		(*x->xmlFree)(dev);
	}
	if (doc)
		x->xmlFreeDoc(doc);
	return k;
}

int lv_drop_install_media(const struct libvirt_api *lv, const struct vfk_plan *plan,
			  virDomainPtr dom, char *errbuf, size_t errsize)
{
	const char *media[MAX_MEDIA];
	size_t nmedia = plan_install_media(plan, media, MAX_MEDIA), n, i;
	char why[512], devs[MAX_MEDIA][16], disk[192];
	const struct xml_api *x;
	char *xml;

	if (!plan->prof->installed || !nmedia)
		return 0;
	x = xml_api(why, sizeof(why));
	if (!x)
		return launch_fail(errbuf, errsize, ELIBACC, "%s", why);
	xml = lv->virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
	if (!xml)
		return launch_fail(errbuf, errsize, EIO, "libvirt gave no definition of %s: %s",
				   plan->prof->name, lv->virGetLastErrorMessage());
	n = media_targets(x, xml, media, nmedia, devs, MAX_MEDIA);
	free(xml);
	for (i = 0; i < n; i++) {
		/* libvirt finds the disk to detach by its target */
		snprintf(disk, sizeof(disk), "<disk device='cdrom'><target dev='%s'/></disk>", devs[i]);
		if (lv->virDomainDetachDeviceFlags(dom, disk, VIR_DOMAIN_AFFECT_CONFIG) < 0)
			return launch_fail(errbuf, errsize, EIO, "taking the installation media %s out "
					   "of %s failed: %s", devs[i], plan->prof->name,
					   lv->virGetLastErrorMessage());
		vfk_progress(plan->ctx, "installed: the installation media on %s taken out of the "
			     "domain %s", devs[i], plan->prof->name);
	}
	return (int)n;
}
