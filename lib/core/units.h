/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * systemd units, through systemd's own D-Bus API on the system bus below the
 * sysroot (units.c): what single-GPU passthrough needs to stop the display
 * manager before the console GPU goes and to start it again afterwards.
 */
#ifndef VFK_UNITS_H
#define VFK_UNITS_H

#include "core/internal.h"

struct units;

/* Connect to systemd on <sysroot>/run/dbus/system_bus_socket. -ENOENT when
 * there is no bus there (no systemd, a fixture tree); -ELIBACC (reason in
 * @err) when libsystemd cannot be loaded. */
int units_open(struct vfk_ctx *ctx, struct units **out, char *err, size_t errsize);
void units_close(struct units *u);
/* The unit @name stands for (an alias such as display-manager.service is
 * followed to gdm.service) and its ActiveState ("active", "inactive", ...).
 * -ENOENT when no such unit is loaded. */
int units_lookup(struct units *u, const char *name, char *id, size_t idsize, char *state,
		 size_t statesize);
/* Stop (@start false) or start unit @id and wait, at most @timeout_ms, until
 * it has: inactive or failed after a stop, active after a start (still
 * activating at the deadline counts: the job is queued and runs on). */
int units_change(struct units *u, const char *id, bool start, unsigned int timeout_ms,
		 char *err, size_t errsize);

#endif
