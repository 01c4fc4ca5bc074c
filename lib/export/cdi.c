/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Container Device Interface: a CDI spec (JSON) for /etc/cdi or /var/run/cdi,
 * from which a container runtime (containerd, CRI-O, Podman) or a DRA
 * driver adds a device's VFIO nodes to a container, for the VMM inside it
 * (KubeVirt's virt-launcher, Kata Containers) to open. Written by json-c,
 * which escapes every string.
 *
 *  - cdiVersion "0.5.0": CDI's loader refuses a spec whose version is older
 *    than the features it uses need (specs-go/version.go); device names that
 *    start with a digit came with 0.5.0. No annotations (0.6.0): the CDI
 *    loaders of 2022-23 (podman 4.3 in Debian 12, CDI 0.5.x) refuse any
 *    version they do not know and any field they do not know, and newer
 *    loaders read older versions, so the lowest version is the one that
 *    works everywhere.
 *  - kind VENDOR/vfio: VENDOR is VFK_EXPORT_CDI_VENDOR or the resource
 *    prefix; a container asks for VENDOR/vfio=NAME.
 *  - one device per IOMMU group that can go, NAME its device's PCI address
 *    ("0000:01:00.0": hex digits, ':' and '.', all a CDI device name may
 *    hold); in the container, VFIOKIT_GROUP_N=ADDRESSES (every function that
 *    goes, comma-separated; named by the group, so two devices in one
 *    container do not overwrite each other), as KubeVirt's PCI_RESOURCE_*
 *    tell a VMM which addresses it was given.
 *  - the device nodes, one mode for the whole spec (a container given two
 *    devices must not get both kinds), in the container as
 *    VFIOKIT_VFIO_MODE: "iommufd" when the host has /dev/iommu and each
 *    function of each device its VFIO cdev: /dev/iommu in the spec's edits
 *    (for any device), /dev/vfio/devices/vfioN per function in the device's;
 *    else "legacy": /dev/vfio/vfio in the spec's edits, /dev/vfio/GROUP in
 *    the device's. The nodes need not exist when the spec is written, only
 *    when a container is made: the devices must be on vfio-pci by then.
 *  - CDI refuses a spec without devices: when nothing can go, no spec
 *    (-ENODATA).
 */
#include <stdio.h>
#include <json-c/json.h>

#include "export/export.h"

#define CDI_VERSION "0.5.0"
#define CDI_CLASS "vfio"

/* Add @v to object @o as @key, or free it; false when either is missing. */
static bool put(json_object *o, const char *key, json_object *v)
{
	if (!o || !v || json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return false;
	}
	return true;
}

static bool put_str(json_object *o, const char *key, const char *value)
{
	return value && put(o, key, json_object_new_string(value));
}

static bool append(json_object *a, json_object *v)
{
	if (!a || !v || json_object_array_add(a, v) < 0) {
		json_object_put(v);
		return false;
	}
	return true;
}

/* {"path": PATH}: REL below the host's device directory, as the host names it. */
static json_object *dev_node(const char *rel)
{
	_cleanup_free_ char *path = vfk_root_host_path(VFK_ROOT_DEV, rel);
	json_object *o = json_object_new_object();

	if (!put_str(o, "path", path)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* {"env": ["VFIOKIT_VFIO_MODE=@mode"], "deviceNodes": [...]} holding the
 * node below /dev named by @rel. */
static json_object *edits_of(const char *rel, const char *mode)
{
	json_object *o = json_object_new_object(), *nodes = json_object_new_array();
	json_object *env = json_object_new_array();
	_cleanup_free_ char *var = strdupf("VFIOKIT_VFIO_MODE=%s", mode);
	bool ok = append(nodes, dev_node(rel));

	ok = var && append(env, json_object_new_string(var)) && ok;
	ok = put(o, "env", env) && ok;
	ok = put(o, "deviceNodes", nodes) && ok;
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* The device nodes of @e: its functions' cdevs, or its group. */
static json_object *device_nodes(const struct export_dev *e, bool iommufd)
{
	json_object *nodes = json_object_new_array();
	char rel[64];
	size_t i;

	if (!iommufd) {
		snprintf(rel, sizeof(rel), "vfio/%d", vfk_group_get_id(e->group));
		if (!append(nodes, dev_node(rel)))
			goto fail;
		return nodes;
	}
	for (i = 0; i < export_function_count(e); i++) {
		const char *cdev = vfk_device_get_vfio_cdev(export_function(e, i));

		if (!cdev)
			goto fail;
		snprintf(rel, sizeof(rel), "vfio/devices/%s", cdev);
		if (!append(nodes, dev_node(rel)))
			goto fail;
	}
	return nodes;
fail:
	json_object_put(nodes);
	return NULL;
}

/* ["VFIOKIT_GROUP_N=ADDR,ADDR"]: which functions the container was given. */
static json_object *device_env(const struct export_dev *e)
{
	json_object *env = json_object_new_array();
	struct sbuf b = { 0 };
	_cleanup_free_ char *v = NULL;
	size_t i;

	sbuf_addf(&b, "VFIOKIT_GROUP_%d=", vfk_group_get_id(e->group));
	for (i = 0; i < export_function_count(e); i++)
		sbuf_addf(&b, "%s%s", i ? "," : "", vfk_device_get_address(export_function(e, i)));
	v = sbuf_take(&b);
	if (!v || !append(env, json_object_new_string(v))) {
		json_object_put(env);
		return NULL;
	}
	return env;
}

static json_object *device(const struct export_dev *e, bool iommufd)
{
	json_object *o = json_object_new_object(), *edits = json_object_new_object();
	bool ok = put_str(o, "name", vfk_device_get_address(e->dev));

	ok = put(edits, "env", device_env(e)) && ok;
	ok = put(edits, "deviceNodes", device_nodes(e, iommufd)) && ok;
	ok = put(o, "containerEdits", edits) && ok;
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Every device and each of its functions can go through iommufd. */
static bool all_iommufd(const struct export_sel *s)
{
	size_t i;

	for (i = 0; i < s->ndevs; i++)
		if (!export_iommufd_ready(s, &s->devs[i]))
			return false;
	return s->ndevs > 0;
}

/* iommufd asked for and not possible: which device, or the host, stands in the way. */
static int refuse_iommufd(const struct export_sel *s)
{
	_cleanup_free_ char *node = vfk_root_host_path(VFK_ROOT_DEV, "iommu");
	size_t i, k;

	if (!vfk_host_has_iommufd(s->host))
		return export_error(s->ctx, ENODEV, "iommufd mode: the host has no %s (a kernel "
				    "without CONFIG_IOMMUFD, or modprobe iommufd)", node ? node : "iommu");
	for (i = 0; i < s->ndevs; i++)
		for (k = 0; k < export_function_count(&s->devs[i]); k++)
			if (!vfk_device_get_vfio_cdev(export_function(&s->devs[i], k)))
				return export_error(s->ctx, ENODEV, "iommufd mode: %s has no VFIO "
						    "cdev (bind it to its VFIO driver first, on a "
						    "kernel with CONFIG_VFIO_DEVICE_CDEV)",
						    vfk_device_get_address(export_function(&s->devs[i], k)));
	return export_error(s->ctx, ENODEV, "iommufd mode: no device to give");
}

int export_cdi(struct export_sel *s)
{
	const char *vendor = s->opts->resource_prefix ? s->opts->resource_prefix
						      : VFK_EXPORT_CDI_VENDOR;
	enum vfk_vfio_mode mode = s->opts->vfio_mode;
	bool iommufd = mode != VFK_VFIO_MODE_LEGACY && all_iommufd(s);
	json_object *spec, *devices;
	_cleanup_free_ char *kind = NULL;
	const char *text;
	size_t i;
	bool ok;

	if (!s->ndevs)
		return export_error(s->ctx, ENODATA, "nothing %scan be given away%s: a CDI spec "
				    "names at least one device, none is written (vfio-ls shows the "
				    "verdicts)", s->opts->gpus_only ? "of the GPUs " : "",
				    s->opts->device ? " in that device's group" : "");
	if (mode == VFK_VFIO_MODE_IOMMUFD && !iommufd)
		return refuse_iommufd(s);
	kind = strdupf("%s/%s", vendor, CDI_CLASS);
	spec = json_object_new_object();
	devices = json_object_new_array();
	/* put() and append() own what they are given, added or freed */
	ok = put_str(spec, "cdiVersion", CDI_VERSION);
	ok = put_str(spec, "kind", kind) && ok;
	for (i = 0; ok && i < s->ndevs; i++)
		ok = append(devices, device(&s->devs[i], iommufd));
	ok = put(spec, "devices", devices) && ok;
	ok = put(spec, "containerEdits", edits_of(iommufd ? "iommu" : "vfio/vfio",
						     iommufd ? "iommufd" : "legacy")) && ok;
	text = ok ? json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PRETTY |
							 JSON_C_TO_STRING_SPACED |
							 JSON_C_TO_STRING_NOSLASHESCAPE)
		  : NULL;
	if (text)
		sbuf_addf(&s->out, "%s\n", text);
	json_object_put(spec);
	return text && !s->out.failed ? 0 : neg_errno(ENOMEM);
}
