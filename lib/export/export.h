/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the files of export/ share: the selection of what the host can give
 * away (select.c), the names the formats give it (naming.c), and one writer
 * per format (kubevirt.c, nova.c, proxmox.c, nfd.c, cdi.c, dra.c) that
 * export.c calls. A writer only reads the selection and appends to one
 * buffer. The picture (svg.c, svg-layout.c, private header svg.h) draws the
 * whole tree instead: it makes no selection.
 */
#ifndef VFK_EXPORT_H
#define VFK_EXPORT_H

#include "core/internal.h"
#include "core/errmsg.h"
#include "core/strbuf.h"

struct export_name;

/* A device the host can give away: with its whole IOMMU group. */
struct export_dev {
	struct vfk_device *dev;		/* the GPU, or the group's one endpoint */
	struct vfk_gpu *gpu;		/* its GPU, or NULL */
	const struct vfk_group *group;	/* its IOMMU group: it goes whole */
	const char *nova_type;		/* "type-PCI", "type-PF" or "type-VF" */
};

/* An mdev type that goes: an instance of it exists or can be made now. */
struct export_mtype {
	struct vfk_mdev_parent *parent;
	struct vfk_device *pdev;	/* the parent's PCI device; NULL for a virtual parent */
	struct vfk_mdev_type *type;
};

struct export_sel {
	struct vfk_host *host;
	struct vfk_ctx *ctx;
	const struct vfk_export_options *opts;	/* never NULL */
	struct vfk_mdevs *mdevs;
	struct export_dev *devs;	/* address order */
	size_t ndevs, devs_cap;
	size_t ngpus;			/* of devs, the GPUs */
	struct export_mtype *mtypes;	/* classic mdev: parent order, then type order */
	size_t nmtypes, mtypes_cap;
	struct export_mtype *vftypes;	/* NVIDIA's per-VF interface: the same */
	size_t nvftypes, vftypes_cap;
	const struct vfk_device *only;	/* opts->device, found */
	struct export_name *names;	/* naming.c: NAME of each vendor:device */
	size_t nnames;
	struct sbuf out;
};

/* ---- the selection (select.c) */

/* Fill @s->devs, mtypes and vftypes from @s->host as @s->opts asks. 0,
 * -ENODEV (opts->device is none of the host's) or -ENOMEM. */
int export_select(struct export_sel *s);
void export_sel_free(struct export_sel *s);
/* @d is the first of its vendor:device in the selection (the formats that
 * pool devices by their ids write one entry for it). */
bool export_first_of_id(const struct export_sel *s, size_t i);
/* The mdev parents the classic types come from, each once, in order: @i-th
 * type's parent is new. */
bool export_first_of_parent(const struct export_mtype *t, size_t i);
/* The functions that go with @e: the endpoints of its group (bridges stay),
 * in address order, @e's device among them. */
size_t export_function_count(const struct export_dev *e);
struct vfk_device *export_function(const struct export_dev *e, size_t i);
/* Can @e go through iommufd: the host has /dev/iommu and each of its
 * functions its VFIO cdev (vfk_device_get_vfio_cdev())? */
bool export_iommufd_ready(const struct export_sel *s, const struct export_dev *e);

/* ---- names (naming.c) */

/* NAME of every vendor:device of the selection (its devices and mdev
 * parents), collisions resolved; 0 or -ENOMEM. */
int export_names_build(struct export_sel *s);
void export_names_free(struct export_sel *s);

/*
 * NAME of vendor:device as the formats pool it: its pci.ids name upper-cased,
 * runs of characters other than A-Z, 0-9 one '_', at most 63 characters; a
 * NAME that two vendor:device pairs of the selection share gets
 * "_VVVV_DDDD". Never NULL ("DEVICE" when nothing is left). Owned by @s.
 */
const char *export_device_name(const struct export_sel *s, const struct vfk_device *d);
/* The resource domain of @vendor (nvidia.com, amd.com, intel.com, else
 * VFK_EXPORT_DEFAULT_DOMAIN), or opts->resource_prefix. */
const char *export_domain(const struct export_sel *s, uint16_t vendor);
/* The domain of an mdev type: its parent device's vendor, else the default. */
const char *export_mtype_domain(const struct export_sel *s, const struct export_mtype *t);
/* The kernel's name of an mdev type made a resource name: runs of characters
 * other than A-Z a-z 0-9 . _ - one '_', starting and ending alphanumeric, at
 * most 63 characters; the type id when nothing is left. Into @buf. */
const char *export_mtype_resource(const struct vfk_mdev_type *t, char *buf, size_t size);
/* An mdev type id fit for ini section names, lists and labels: [A-Za-z0-9._-],
 * 1 to 50 characters (the kernel's ids are). */
bool export_type_id_plain(const char *id);
/* Is @s a DNS subdomain (RFC 1123: lower-case labels of a-z 0-9 '-', each
 * 1-63, at most 253 in all)? */
bool export_dns_subdomain(const char *s);
/* Decode one UTF-8 sequence at @s (NUL-terminated): its length, or 0 when
 * it is none (a stray byte, an overlong form, a surrogate, past U+10FFFF). */
size_t export_utf8_decode(const unsigned char *s, uint32_t *cp);
/* Append @s as a YAML double-quoted scalar: quotes and backslashes escaped, every
 * character outside printable ASCII as \xXX, \uXXXX or \UXXXXXXXX (a byte
 * that is no UTF-8 as U+FFFD). */
void export_yaml_quoted(struct sbuf *b, const char *s);
/* The host name, proc/sys/kernel/hostname below the sysroot, into @buf: its
 * length, or -errno (0 is -ENOENT). */
int export_host_name(const struct export_sel *s, char *buf, size_t size);
/* Append @text as comment text: printable ASCII, anything else '?'. */
void export_comment(struct sbuf *b, const char *text);
/* "# " + printf + "\n", the text made plain as export_comment() does. */
void export_commentf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One line in ctx's error (vfk_ctx_get_error()); returns -@err. */
int export_error(struct vfk_ctx *ctx, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- the formats: append the whole document to s->out; 0 or -errno */
int export_kubevirt(struct export_sel *s);
int export_nova(struct export_sel *s);
int export_proxmox(struct export_sel *s);
int export_nfd(struct export_sel *s);
int export_cdi(struct export_sel *s);
int export_dra(struct export_sel *s);
/* svg.c: the PCI tree as a picture; s->ndevs the functions drawn in boxes */
int export_svg(struct export_sel *s);

#endif
