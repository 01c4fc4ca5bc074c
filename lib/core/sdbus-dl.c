/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sd-bus loaded on first use: see sdbus-dl.h. */
#include <stdio.h>

#include "core/internal.h"
#include "core/sdbus-dl.h"

static struct sdbus_api api;

#define SYM(name) DL_SYM(struct sdbus_api, name)
static const struct dl_symbol symbols[] = {
	SYM(sd_bus_new), SYM(sd_bus_set_fd), SYM(sd_bus_set_bus_client),
	SYM(sd_bus_set_method_call_timeout), SYM(sd_bus_start), SYM(sd_bus_flush_close_unref),
	SYM(sd_bus_call_method), SYM(sd_bus_get_property_string), SYM(sd_bus_message_read),
	SYM(sd_bus_message_unref), SYM(sd_bus_error_free), SYM(sd_bus_error_has_name),
};
#undef SYM

static struct dl_lazy lib = {
	"libsystemd.so.0", "libsystemd0", symbols, ARRAY_SIZE(symbols), &api, false, false, "",
};

const struct sdbus_api *sdbus_api(char *errbuf, size_t errsize)
{
	return dl_lazy_get(&lib, errbuf, errsize);
}
