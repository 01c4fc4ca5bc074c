/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * systemd units through sd-bus: see units.h. The bus socket is connected
 * through the path layer (vfk_connect_unix_in), so a sysroot's bus is the
 * one spoken to and nothing outside the sysroot is. Every call and every
 * wait is bounded.
 */
#include <poll.h>
#include <stdio.h>

#include "core/sdbus-dl.h"
#include "core/units.h"

#define SYSTEMD_DEST "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define MANAGER_IFACE "org.freedesktop.systemd1.Manager"
#define UNIT_IFACE "org.freedesktop.systemd1.Unit"
#define CALL_TIMEOUT_US (10ULL * 1000 * 1000)

struct units {
	const struct sdbus_api *sd;
	sd_bus *bus;
};

/* A connected socket to <sysroot>/run/dbus/system_bus_socket. */
static int bus_socket(struct vfk_ctx *ctx)
{
	_cleanup_close_ int dfd = vfk_root_open_dir(ctx, VFK_ROOT_TOP, "run/dbus");
	int fd;

	if (dfd < 0)
		return -ENOENT;
	fd = vfk_connect_unix_in(ctx, dfd, "system_bus_socket");
	return fd == -ENOTSOCK || fd == -ELOOP ? -ENOENT : fd;
}

int units_open(struct vfk_ctx *ctx, struct units **out, char *err, size_t errsize)
{
	struct units *u;
	int fd, r;

	*out = NULL;
	fd = bus_socket(ctx);
	if (fd < 0)
		return fd;
	u = calloc(1, sizeof(*u));
	if (!u || !(u->sd = sdbus_api(err, errsize))) {
		close(fd);
		free(u);
		return u ? -ELIBACC : -ENOMEM;
	}
	r = u->sd->sd_bus_new(&u->bus);
	if (r >= 0)
		r = u->sd->sd_bus_set_fd(u->bus, fd, fd);
	if (r < 0)
		close(fd);	/* the bus owns it only once set */
	if (r >= 0)
		r = u->sd->sd_bus_set_bus_client(u->bus, 1);
	if (r >= 0)
		r = u->sd->sd_bus_set_method_call_timeout(u->bus, CALL_TIMEOUT_US);
	if (r >= 0)
		r = u->sd->sd_bus_start(u->bus);
	if (r < 0) {
		snprintf(err, errsize, "cannot talk to systemd on the system bus: %s", strerror(-r));
		units_close(u);
		return r;
	}
	*out = u;
	return 0;
}

void units_close(struct units *u)
{
	if (!u)
		return;
	if (u->bus)
		u->sd->sd_bus_flush_close_unref(u->bus);
	free(u);
}

/* The object path of the loaded unit @name; -ENOENT when none is loaded. */
static int unit_path(struct units *u, const char *name, char *path, size_t size)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *p;
	int r;

	r = u->sd->sd_bus_call_method(u->bus, SYSTEMD_DEST, SYSTEMD_PATH, MANAGER_IFACE,
				      "GetUnit", &e, &reply, "s", name);
	if (r >= 0)
		r = u->sd->sd_bus_message_read(reply, "o", &p);
	if (r >= 0)
		snprintf(path, size, "%s", p);
	else if (u->sd->sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit"))
		r = -ENOENT;
	u->sd->sd_bus_message_unref(reply);
	u->sd->sd_bus_error_free(&e);
	return r < 0 ? r : 0;
}

static int unit_property(struct units *u, const char *path, const char *prop, char *buf,
			 size_t size)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char *s = NULL;
	int r;

	r = u->sd->sd_bus_get_property_string(u->bus, SYSTEMD_DEST, path, UNIT_IFACE, prop, &e, &s);
	if (r >= 0)
		snprintf(buf, size, "%s", s);
	free(s);
	u->sd->sd_bus_error_free(&e);
	return r < 0 ? r : 0;
}

int units_lookup(struct units *u, const char *name, char *id, size_t idsize, char *state,
		 size_t statesize)
{
	char path[256];
	int r;

	r = unit_path(u, name, path, sizeof(path));
	if (r >= 0)
		r = unit_property(u, path, "Id", id, idsize);
	if (r >= 0)
		r = unit_property(u, path, "ActiveState", state, statesize);
	return r;
}

/* Has @id reached what @start asks for? A unit that is no longer loaded
 * after a stop has stopped. */
static bool unit_settled(struct units *u, const char *id, bool start, bool last)
{
	char real[256], state[32];

	if (units_lookup(u, id, real, sizeof(real), state, sizeof(state)) < 0)
		return !start;
	if (start)
		return streq(state, "active") || (last && streq(state, "activating"));
	return streq(state, "inactive") || streq(state, "failed");
}

int units_change(struct units *u, const char *id, bool start, unsigned int timeout_ms,
		 char *err, size_t errsize)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	long long deadline = now_ms() + timeout_ms;
	int r;

	r = u->sd->sd_bus_call_method(u->bus, SYSTEMD_DEST, SYSTEMD_PATH, MANAGER_IFACE,
				      start ? "StartUnit" : "StopUnit", &e, &reply, "ss", id,
				      "replace");
	if (r < 0)
		snprintf(err, errsize, "systemd did not %s %s: %s", start ? "start" : "stop", id,
			 e.message ? e.message : strerror(-r));
	u->sd->sd_bus_message_unref(reply);
	u->sd->sd_bus_error_free(&e);
	if (r < 0)
		return r;
	while (!unit_settled(u, id, start, false)) {
		if (now_ms() >= deadline) {
			if (unit_settled(u, id, start, true))
				return 0;
			snprintf(err, errsize, "%s did not %s within %u ms", id,
				 start ? "start" : "stop", timeout_ms);
			return -ETIMEDOUT;
		}
		poll(NULL, 0, 100);
	}
	return 0;
}
