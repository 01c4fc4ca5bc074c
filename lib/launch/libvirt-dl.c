/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvirt's client library loaded on first use: see libvirt-dl.h. */
#include <pthread.h>
#include <stdio.h>

#include "core/internal.h"
#include "core/dl.h"
#include "launch/libvirt-dl.h"

static struct libvirt_api api;
static char load_error[512];
static bool loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define SYM(name) DL_SYM(struct libvirt_api, name)
static const struct dl_symbol symbols[] = {
	SYM(virConnectOpenAuth), SYM(virConnectClose), SYM(virConnectDomainEventRegisterAny),
	SYM(virConnectDomainEventDeregisterAny), SYM(virDomainCreate), SYM(virDomainCreateXML),
	SYM(virDomainDefineXML), SYM(virDomainDestroy), SYM(virDomainFree), SYM(virDomainGetName),
	SYM(virDomainIsActive), SYM(virDomainLookupByName), SYM(virDomainShutdown),
	SYM(virDomainUndefine), SYM(virDomainUndefineFlags), SYM(virEventRegisterDefaultImpl),
	SYM(virEventRunDefaultImpl), SYM(virGetLastErrorMessage), SYM(virSetErrorFunc),
	SYM(virConnectAuthPtrDefault),
};
#undef SYM

static void load(void)
{
	loaded = dl_load_table("libvirt.so.0", "libvirt0", symbols, ARRAY_SIZE(symbols), &api,
			       load_error, sizeof(load_error)) == 0;
}

const struct libvirt_api *libvirt_api(char *errbuf, size_t errsize)
{
	pthread_once(&once, load);
	if (loaded)
		return &api;
	if (errbuf && errsize)
		snprintf(errbuf, errsize, "%s", load_error);
	return NULL;
}
