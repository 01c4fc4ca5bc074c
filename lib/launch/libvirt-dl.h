/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirt's client library, loaded when a command first talks to libvirt
 * (libvirt-dl.c): plan and gen never connect, and linking libvirt made every
 * start of vfio-vm pay for its 60-odd libraries and their constructors. The
 * API is libvirt's own, called through pointers of the real prototypes.
 */
#ifndef VFK_LIBVIRT_DL_H
#define VFK_LIBVIRT_DL_H

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "core/dl.h"

#define LV_FN(name) DL_FN(name)
struct libvirt_api {
	LV_FN(virConnectOpenAuth);
	LV_FN(virConnectClose);
	LV_FN(virConnectGetCapabilities);
	LV_FN(virConnectGetDomainCapabilities);
	LV_FN(virConnectListAllNodeDevices);
	LV_FN(virConnectDomainEventRegisterAny);
	LV_FN(virConnectDomainEventDeregisterAny);
	LV_FN(virDomainCreate);
	LV_FN(virDomainCreateXML);
	LV_FN(virDomainDefineXML);
	LV_FN(virDomainDestroy);
	LV_FN(virDomainDetachDeviceFlags);
	LV_FN(virDomainFree);
	LV_FN(virDomainGetMetadata);
	LV_FN(virDomainGetName);
	LV_FN(virDomainGetXMLDesc);
	LV_FN(virDomainGetUUIDString);
	LV_FN(virDomainIsActive);
	LV_FN(virDomainLookupByName);
	LV_FN(virDomainShutdown);
	LV_FN(virDomainUndefine);
	LV_FN(virDomainUndefineFlags);
	LV_FN(virEventRegisterDefaultImpl);
	LV_FN(virEventRunDefaultImpl);
	LV_FN(virGetLastErrorMessage);
	LV_FN(virNodeDeviceFree);
	LV_FN(virNodeDeviceGetXMLDesc);
	LV_FN(virNodeGetInfo);
	LV_FN(virSetErrorFunc);
	LV_FN(virStoragePoolCreateXML);		/* newdisk.c: disks made through libvirt */
	LV_FN(virStoragePoolDestroy);
	LV_FN(virStoragePoolFree);
	LV_FN(virStoragePoolGetName);
	LV_FN(virStoragePoolIsActive);
	LV_FN(virStoragePoolLookupByTargetPath);
	LV_FN(virStoragePoolRefresh);
	LV_FN(virStorageVolCreateXML);
	LV_FN(virStorageVolFree);
	virConnectAuthPtr *virConnectAuthPtrDefault;
};
#undef LV_FN

/*
 * The API, loaded once (thread-safe); NULL when libvirt.so.0 cannot be
 * loaded or lacks a symbol, with one line saying so in @errbuf.
 */
const struct libvirt_api *libvirt_api(char *errbuf, size_t errsize);

/* libvirt.c: a connection to @uri and the API it was made with (*@api), or
 * NULL with one line in @errbuf (libvirt missing or @uri unreachable). */
virConnectPtr lv_connect(const char *uri, const struct libvirt_api **api, char *errbuf,
			 size_t errsize);

/* installed.c: with [vm] installed = yes, the installation media out of
 * the kept domain @dom's definition; how many, or -errno with @errbuf. */
struct vfk_plan;
int lv_drop_install_media(const struct libvirt_api *lv, const struct vfk_plan *plan,
			  virDomainPtr dom, char *errbuf, size_t errsize);

#endif
