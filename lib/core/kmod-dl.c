/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libkmod loaded on first use: see kmod-dl.h. */
#include <stdio.h>

#include "core/internal.h"
#include "core/kmod-dl.h"

static struct kmod_api api;

#define SYM(name) DL_SYM(struct kmod_api, name)
static const struct dl_symbol symbols[] = {
	SYM(kmod_new), SYM(kmod_unref), SYM(kmod_set_log_fn), SYM(kmod_set_log_priority),
	SYM(kmod_list_next), SYM(kmod_module_new_from_name), SYM(kmod_module_new_from_lookup),
	SYM(kmod_module_probe_insert_module), SYM(kmod_module_unref), SYM(kmod_module_unref_list),
	SYM(kmod_module_get_module), SYM(kmod_module_get_name), SYM(kmod_module_get_path),
	SYM(kmod_module_get_initstate),
};
#undef SYM

static struct dl_lazy lib = {
	"libkmod.so.2", "libkmod2", symbols, ARRAY_SIZE(symbols), &api, false, false, "",
};

const struct kmod_api *kmod_api(char *errbuf, size_t errsize)
{
	return dl_lazy_get(&lib, errbuf, errsize);
}
