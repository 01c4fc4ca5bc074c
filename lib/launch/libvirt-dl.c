/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvirt's client library loaded on first use: see libvirt-dl.h. */
#include <stdio.h>

#include "core/internal.h"
#include "core/dl.h"
#include "launch/libvirt-dl.h"

static struct libvirt_api api;

#define SYM(name) DL_SYM(struct libvirt_api, name)
static const struct dl_symbol symbols[] = {
	SYM(virConnectOpenAuth), SYM(virConnectClose), SYM(virConnectGetCapabilities),
	SYM(virConnectGetDomainCapabilities),
	SYM(virConnectListAllNodeDevices), SYM(virConnectDomainEventRegisterAny),
	SYM(virConnectDomainEventDeregisterAny), SYM(virDomainCreate), SYM(virDomainCreateXML),
	SYM(virDomainDefineXML), SYM(virDomainDestroy), SYM(virDomainDetachDeviceFlags),
	SYM(virDomainFree),
	SYM(virDomainGetMetadata), SYM(virDomainGetName), SYM(virDomainGetXMLDesc), SYM(virDomainGetUUIDString), SYM(virDomainIsActive),
	SYM(virDomainLookupByName), SYM(virDomainShutdown), SYM(virDomainUndefine),
	SYM(virDomainUndefineFlags), SYM(virEventRegisterDefaultImpl),
	SYM(virEventRunDefaultImpl), SYM(virGetLastErrorMessage),
	SYM(virNodeDeviceFree), SYM(virNodeDeviceGetXMLDesc), SYM(virNodeGetInfo), SYM(virSetErrorFunc),
	SYM(virStoragePoolCreateXML), SYM(virStoragePoolDestroy), SYM(virStoragePoolFree),
	SYM(virStoragePoolGetName), SYM(virStoragePoolIsActive),
	SYM(virStoragePoolLookupByTargetPath), SYM(virStoragePoolRefresh),
	SYM(virStorageVolCreateXML), SYM(virStorageVolFree),
	SYM(virConnectAuthPtrDefault),
};
#undef SYM

static struct dl_lazy lib = {
	"libvirt.so.0", "libvirt0", symbols, ARRAY_SIZE(symbols), &api, false, false, "",
};

const struct libvirt_api *libvirt_api(char *errbuf, size_t errsize)
{
	return dl_lazy_get(&lib, errbuf, errsize);
}
