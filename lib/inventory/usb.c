/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * USB devices from sysfs: each entry of bus/usb/devices that is a device (a
 * root hub "usbN" or "BUS-PORT[.PORT...]", not an interface "1-1:1.0") with
 * its ids (idVendor, idProduct), bus and address (busnum, devnum), port path
 * (devpath), class (bDeviceClass) and the strings it gives (manufacturer,
 * product). Read when a plan matches a profile's [usb] sections.
 */
#include <dirent.h>
#include <stdio.h>

#include "inventory/usb.h"

/* A device's entry name: "usbN" or digits, '-', digits and dots; no ':'. */
static bool is_device_name(const char *s)
{
	if (startswith(s, "usb"))
		s += 3;
	else if (!strchr(s, '-'))
		return false;
	return *s && strspn(s, "0123456789-.") == strlen(s) && strlen(s) < 30;
}

static int read_hex(struct vfk_ctx *ctx, int fd, const char *name, unsigned int max,
		    unsigned int *out)
{
	char buf[16], *end;
	unsigned long v;

	if (vfk_read_in(ctx, fd, name, buf, sizeof(buf)) <= 0)
		return -1;
	v = strtoul(buf, &end, 16);
	if (*end || v > max)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

static int read_uint(struct vfk_ctx *ctx, int fd, const char *name, unsigned int *out)
{
	long v;

	if (vfk_read_long_in(ctx, fd, name, &v) < 0 || v < 0 || v > 0xffff)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

/* " @name's text" appended to @desc, bytes other than printable ASCII as '?'. */
static void add_string(struct vfk_ctx *ctx, int fd, const char *name, char *desc, size_t size)
{
	char buf[128], *c;
	size_t len = strlen(desc);

	if (vfk_read_in(ctx, fd, name, buf, sizeof(buf)) <= 0)
		return;
	for (c = buf; *c; c++)
		if (*c < ' ' || *c > '~')
			*c = '?';
	snprintf(desc + len, size - len, "%s%s", len ? " " : "", buf);
}

/* One entry into @u; false when it is no device or a value is missing. */
static bool read_device(struct vfk_ctx *ctx, int dirfd, const char *name, struct usb_device *u)
{
	_cleanup_close_ int fd = -1;
	unsigned int vendor, product;

	if (!is_device_name(name))
		return false;
	fd = vfk_open_dir_in(ctx, dirfd, name);
	memset(u, 0, sizeof(*u));
	if (fd < 0 || read_hex(ctx, fd, "idVendor", 0xffff, &vendor) < 0 ||
	    read_hex(ctx, fd, "idProduct", 0xffff, &product) < 0 ||
	    read_uint(ctx, fd, "busnum", &u->bus) < 0 || read_uint(ctx, fd, "devnum", &u->devnum) < 0 ||
	    vfk_read_in(ctx, fd, "devpath", u->port, sizeof(u->port)) <= 0 ||
	    strspn(u->port, "0123456789.") != strlen(u->port))
		return false;
	if (read_hex(ctx, fd, "bDeviceClass", 0xff, &u->cls) < 0)
		u->cls = 0;
	u->vendor = (uint16_t)vendor;
	u->product = (uint16_t)product;
	snprintf(u->name, sizeof(u->name), "%.*s", (int)sizeof(u->name) - 1, name);
	add_string(ctx, fd, "manufacturer", u->desc, sizeof(u->desc));
	add_string(ctx, fd, "product", u->desc, sizeof(u->desc));
	return true;
}

static int usb_cmp(const void *pa, const void *pb)
{
	const struct usb_device *a = pa, *b = pb;

	if (a->bus != b->bus)
		return a->bus < b->bus ? -1 : 1;
	return strverscmp(a->port, b->port);
}

int usb_devices_read(struct vfk_ctx *ctx, struct usb_list *out)
{
	_cleanup_close_ int fd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_USB_DEVICES);
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;

	memset(out, 0, sizeof(*out));
	d = vfk_opendir_in(ctx, fd, NULL);
	if (!d)
		return 0;	/* no USB: nothing to match */
	while ((e = readdir(d))) {
		if (GROW_ARRAY(out->v, out->cap, out->n + 1) < 0) {
			usb_list_free(out);
			return neg_errno(ENOMEM);
		}
		if (read_device(ctx, fd, e->d_name, &out->v[out->n]))
			out->n++;
	}
	qsort_safe(out->v, out->n, sizeof(*out->v), usb_cmp);
	return 0;
}

void usb_list_free(struct usb_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}
