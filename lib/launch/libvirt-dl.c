/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvirt's client library loaded on first use: see libvirt-dl.h. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "core/internal.h"
#include "launch/libvirt-dl.h"

#define LIBVIRT_SONAME "libvirt.so.0"

static struct libvirt_api api;
static char load_error[512];
static bool loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Every symbol the launch layer calls, where it goes in struct libvirt_api. */
#define SYM(name) { #name, offsetof(struct libvirt_api, name) }
static const struct { const char *name; size_t offset; } symbols[] = {
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
	void *h = dlopen(LIBVIRT_SONAME, RTLD_NOW | RTLD_LOCAL);
	size_t i;

	if (!h) {
		snprintf(load_error, sizeof(load_error), "libvirt's client library cannot be "
			 "loaded (%s; Debian package libvirt0)", dlerror());
		return;
	}
	for (i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
		void *p = dlsym(h, symbols[i].name);

		if (!p) {
			snprintf(load_error, sizeof(load_error), "%s lacks %s: libvirt too old",
				 LIBVIRT_SONAME, symbols[i].name);
			dlclose(h);
			return;
		}
		/* data and function pointers share one size on every ABI dlsym serves */
		memcpy((char *)&api + symbols[i].offset, &p, sizeof(p));
	}
	loaded = true;		/* the handle stays open for the process */
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
