/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Libraries loaded when first needed: see dl.h. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "core/internal.h"
#include "core/dl.h"

int dl_load_table(const char *soname, const char *package, const struct dl_symbol *syms,
		  size_t nsyms, void *table, char *err, size_t errsize)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	size_t i;

	if (!h) {
		snprintf(err, errsize, "%s cannot be loaded (%s; Debian package %s)", soname,
			 dlerror(), package);
		return neg_errno(ELIBACC);
	}
	for (i = 0; i < nsyms; i++) {
		void *p = dlsym(h, syms[i].name);

		if (!p) {
			snprintf(err, errsize, "%s lacks %s: too old", soname, syms[i].name);
			dlclose(h);
			return neg_errno(ELIBACC);
		}
		/* data and function pointers share one size on every ABI dlsym serves */
		memcpy((char *)table + syms[i].offset, &p, sizeof(p));
	}
	return 0;
}

const void *dl_lazy_get(struct dl_lazy *l, char *err, size_t errsize)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

	pthread_mutex_lock(&lock);
	if (!l->tried)
		l->loaded = dl_load_table(l->soname, l->package, l->syms, l->nsyms, l->table,
					  l->error, sizeof(l->error)) == 0;
	l->tried = true;
	pthread_mutex_unlock(&lock);
	if (l->loaded)
		return l->table;
	if (err && errsize)
		snprintf(err, errsize, "%s", l->error);
	return NULL;
}
