/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sd-bus, systemd's D-Bus client (libsystemd.so.0), loaded the first time a
 * command talks to systemd (sdbus-dl.c): only single-GPU binds and restores
 * stop and start the display manager, and no other command should map it.
 * The API is sd-bus's own, called through pointers of the real prototypes.
 */
#ifndef VFK_SDBUS_DL_H
#define VFK_SDBUS_DL_H

#include <systemd/sd-bus.h>

#include "core/dl.h"

struct sdbus_api {
	DL_FN(sd_bus_new);
	DL_FN(sd_bus_set_fd);
	DL_FN(sd_bus_set_bus_client);
	DL_FN(sd_bus_set_method_call_timeout);
	DL_FN(sd_bus_start);
	DL_FN(sd_bus_flush_close_unref);
	DL_FN(sd_bus_call_method);
	DL_FN(sd_bus_get_property_string);
	DL_FN(sd_bus_message_read);
	DL_FN(sd_bus_message_unref);
	DL_FN(sd_bus_error_free);
	DL_FN(sd_bus_error_has_name);
};

/* The API, loaded once (thread-safe); NULL with one line in @errbuf when
 * libsystemd.so.0 cannot be loaded. */
const struct sdbus_api *sdbus_api(char *errbuf, size_t errsize);

#endif
