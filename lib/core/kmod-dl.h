/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkmod, loaded when a module is first looked up or loaded (kmod-dl.c):
 * it pulls in libcrypto, liblzma and libzstd, which plan, gen and status
 * never need. The API is libkmod's own, called through the table.
 */
#ifndef VFK_KMOD_DL_H
#define VFK_KMOD_DL_H

#include <libkmod.h>

#include "core/dl.h"

struct kmod_api {
	DL_FN(kmod_new);
	DL_FN(kmod_unref);
	DL_FN(kmod_set_log_fn);
	DL_FN(kmod_set_log_priority);
	DL_FN(kmod_list_next);
	DL_FN(kmod_module_new_from_name);
	DL_FN(kmod_module_new_from_lookup);
	DL_FN(kmod_module_probe_insert_module);
	DL_FN(kmod_module_unref);
	DL_FN(kmod_module_unref_list);
	DL_FN(kmod_module_get_module);
	DL_FN(kmod_module_get_name);
	DL_FN(kmod_module_get_path);
	DL_FN(kmod_module_get_initstate);
};

/* The API, loaded once (thread-safe); NULL with one line in @errbuf when
 * libkmod.so.2 cannot be loaded. */
const struct kmod_api *kmod_api(char *errbuf, size_t errsize);

/* kmod_list_foreach() through the table */
#define KMOD_FOREACH(km, it, list) for ((it) = (list); (it); (it) = (km)->kmod_list_next((list), (it)))

#endif
