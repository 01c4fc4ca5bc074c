/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Extra USB devices: each [usb] section names a device by its vendor:product
 * ids, and by bus and port path when the ids alone do not tell it from
 * others. It must be plugged in when the VM is planned: one device must
 * match, and a hub is refused (its devices go one by one). QEMU and libvirt
 * pass it through themselves (usb-host, <hostdev type='usb'>) on the xHCI
 * controller every VM has; nothing is bound.
 */
#include <stdio.h>

#include "plan/plan-internal.h"

#define LIST_MAX 8	/* devices a message lists at most */

static bool usb_matches(const struct usb_device *u, unsigned int vendor, unsigned int product,
			const struct prof_usb *src)
{
	return u->vendor == vendor && u->product == product && (!src->bus || u->bus == src->bus) &&
	       (!src->port || streq(u->port, src->port));
}

/* With @ids, "bus 1 port 1.2, ..." of the devices of @l with these ids; else
 * "046d:c52b on bus 1 port 1.2 (Logitech USB Receiver), ..." of all but hubs. */
static char *list_usb(const struct usb_list *l, unsigned int vendor, unsigned int product,
		      bool ids)
{
	struct sbuf b = { 0 };
	size_t i, n = 0;

	for (i = 0; i < l->n; i++) {
		const struct usb_device *u = &l->v[i];

		if (ids && (u->vendor != vendor || u->product != product))
			continue;
		if (u->cls == USB_CLASS_HUB && !ids)
			continue;	/* the hubs would crowd out what was meant */
		if (n++ == LIST_MAX) {
			sbuf_add(&b, ", ...");
			break;
		}
		if (!ids)
			sbuf_addf(&b, "%s%04x:%04x on bus %u port %s%s%s%s", n > 1 ? ", " : "",
				  u->vendor, u->product, u->bus, u->port, *u->desc ? " (" : "",
				  u->desc, *u->desc ? ")" : "");
		else
			sbuf_addf(&b, "%sbus %u port %s", n > 1 ? ", " : "", u->bus, u->port);
	}
	if (!n)
		sbuf_add(&b, "none");
	return sbuf_take(&b);
}

/* Section @src's device into @out; -ENODEV or -ENOTUNIQ with @errbuf set. */
static int find_usb(const struct usb_list *l, const struct prof_usb *src, const char *sec,
		    struct usb_device *out, char *errbuf, size_t errsize)
{
	unsigned int vendor = (unsigned int)strtoul(src->device, NULL, 16);
	unsigned int product = (unsigned int)strtoul(src->device + 5, NULL, 16);
	_cleanup_free_ char *list = NULL, *where = NULL;
	size_t i, n = 0;

	for (i = 0; i < l->n; i++)
		if (usb_matches(&l->v[i], vendor, product, src) && n++ == 0)
			*out = l->v[i];
	if (src->bus)
		where = strdupf(" on bus %u%s%s", src->bus, src->port ? " port " : "",
				src->port ? src->port : "");
	if (n == 1 && out->cls == USB_CLASS_HUB) {
		plan_set_error(errbuf, errsize, "[%s] device = %s: bus %u port %s is a USB hub: give "
			       "the devices behind it, one [usb.NAME] section each", sec, src->device,
			       out->bus, out->port);
		return neg_errno(ENODEV);
	}
	if (n == 1)
		return 0;
	list = list_usb(l, vendor, product, n > 1 || src->bus);
	if (n > 1) {
		plan_set_error(errbuf, errsize, "[%s] device = %s: ambiguous, %zu USB devices have "
			       "these ids%s: %s; say which with bus = and port =", sec, src->device,
			       n, where ? where : "", list ? list : "?");
		return neg_errno(ENOTUNIQ);
	}
	if (src->bus)
		plan_set_error(errbuf, errsize, "[%s] device = %s: no such USB device%s (devices with "
			       "these ids: %s)", sec, src->device, where ? where : "",
			       list ? list : "?");
	else
		plan_set_error(errbuf, errsize, "[%s] device = %s: no such USB device is plugged in "
			       "(USB devices: %s)", sec, src->device, list ? list : "?");
	return neg_errno(ENODEV);
}

int plan_usbs(struct vfk_plan *pl, char *errbuf, size_t errsize)
{
	const struct vfk_profile *p = pl->prof;
	struct usb_list l;
	size_t i, k;
	int r;

	if (!p->nusbs)
		return 0;
	r = usb_devices_read(pl->ctx, &l);
	if (r < 0)
		return r;
	pl->usbs = calloc(p->nusbs, sizeof(*pl->usbs));
	if (!pl->usbs)
		r = neg_errno(ENOMEM);
	for (i = 0; i < p->nusbs && r == 0; i++) {
		struct plan_usb *u = &pl->usbs[pl->nusbs];

		u->src = &p->usbs[i];
		u->section = profile_section_name("usb", u->src->id);
		pl->nusbs++;
		if (!u->section) {
			r = neg_errno(ENOMEM);
			break;
		}
		r = find_usb(&l, u->src, u->section, &u->dev, errbuf, errsize);
		for (k = 0; r == 0 && k + 1 < pl->nusbs; k++)
			if (pl->usbs[k].dev.bus == u->dev.bus && streq(pl->usbs[k].dev.port, u->dev.port)) {
				plan_set_error(errbuf, errsize, "[%s] device = %s: [%s] names the "
					       "device on bus %u port %s already", u->section,
					       u->src->device, pl->usbs[k].section, u->dev.bus,
					       u->dev.port);
				r = neg_errno(EINVAL);
			}
	}
	usb_list_free(&l);
	return r;
}

void plan_usbs_free(struct vfk_plan *pl)
{
	size_t i;

	for (i = 0; i < pl->nusbs; i++)
		free(pl->usbs[i].section);
	free(pl->usbs);
	pl->usbs = NULL;
	pl->nusbs = 0;
}
