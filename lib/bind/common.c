/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sysfs steps a bind and a restore take alike, kept in one place so both
 * read a device's driver, wait for it to change and hold the lock (or the
 * dry-run hook) the same way.
 */
#include <libudev.h>
#include <poll.h>
#include <stdio.h>

#include "bind/bind-internal.h"
#include "bind/journal.h"

/* The driver @addr is on ("" for none), below @devfd (bus/pci/devices). */
void bind_driver_at(int devfd, const char *addr, char *buf, size_t size)
{
	char rel[64];

	buf[0] = '\0';
	snprintf(rel, sizeof(rel), "%s/driver", addr);
	if (devfd < 0 || vfk_readlink_base_at(devfd, rel, buf, size) < 0)
		buf[0] = '\0';
}

int current_driver(struct vfk_ctx *ctx, const char *addr, char *buf, size_t size)
{
	_cleanup_close_ int fd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_PCI_DEVICES);

	bind_driver_at(fd, addr, buf, size);
	return fd < 0 ? fd : 0;
}

void read_override(struct vfk_ctx *ctx, int devfd, const char *addr, char *buf, size_t size)
{
	char rel[64];

	buf[0] = '\0';
	/* by its path in the sysroot (one openat2 per device, no check per file);
	 * @devfd < 0: bus/pci/devices is unreadable, so nothing below it is read */
	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s/driver_override", addr);
	if (devfd < 0 || vfk_root_read(ctx, VFK_ROOT_SYS, rel, buf, size) < 0 ||
	    streq(buf, "(null)") || !journal_value_ok(buf))
		buf[0] = '\0';
}

static void waiter_open(struct vfk_ctx *ctx, struct waiter *w)
{
	memset(w, 0, sizeof(*w));
	if (!vfk_ctx_is_live(ctx))
		return;
	w->udev = udev_new();
	if (!w->udev)
		return;
	w->mon = udev_monitor_new_from_netlink(w->udev, "kernel");
	if (w->mon && (udev_monitor_filter_add_match_subsystem_devtype(w->mon, "pci", NULL) < 0 ||
		       udev_monitor_enable_receiving(w->mon) < 0)) {
		udev_monitor_unref(w->mon);
		w->mon = NULL;
	}
	dbg(ctx, "uevent monitor %s", w->mon ? "on" : "unavailable, polling");
}

static void waiter_close(struct waiter *w)
{
	if (w->mon)
		udev_monitor_unref(w->mon);
	if (w->udev)
		udev_unref(w->udev);
}

static void waiter_sleep(struct waiter *w, long long remaining)
{
	int ms = remaining > 50 ? 50 : (int)remaining;

	if (w->mon) {
		struct pollfd p = { .fd = udev_monitor_get_fd(w->mon), .events = POLLIN };
		if (poll(&p, 1, ms) > 0) {
			struct udev_device *d;
			while ((d = udev_monitor_receive_device(w->mon)))
				udev_device_unref(d);
		}
	} else {
		poll(NULL, 0, ms < 10 ? ms : 10);
	}
}

/* Wait until @addr is bound to @want ("" = bound to nothing). */
int bind_wait_driver(struct vfk_ctx *ctx, struct waiter *w, const char *addr, const char *want,
		     unsigned int ms)
{
	long long deadline = now_ms() + ms;
	char cur[64];

	for (;;) {
		current_driver(ctx, addr, cur, sizeof(cur));
		if (streq(cur, want))
			return 0;
		if (now_ms() >= deadline)
			return neg_errno(ETIMEDOUT);
		waiter_sleep(w, deadline - now_ms());
	}
}

int dry_hook(void *data, const char *path, const char *value)
{
	struct vfk_ctx *ctx = data;

	/* the saved hook was stashed by commit: show it the write, then skip */
	if (ctx->progress_fn) {
		char msg[700];
		const char *nl = strchr(value, '\n');
		if (nl && nl[1])	/* a whole state file, not a sysfs value */
			snprintf(msg, sizeof(msg), "%s <- (file, %zu bytes)", path, strlen(value));
		else
			snprintf(msg, sizeof(msg), "%s <- %s", path, streq(value, "\n") ? "\\n" : value);
		ctx->progress_fn(ctx->progress_data, msg);
	}
	return 1;
}

/* -errno (the lock not taken, its holder in @s->holder) or 0; either way
 * bind_session_end() undoes it. */
int bind_session_begin(struct session *s, struct vfk_ctx *ctx, bool dry, unsigned int timeout_ms)
{
	memset(s, 0, sizeof(*s));
	s->ctx = ctx;
	s->saved_hook = ctx->write_hook;
	s->saved_data = ctx->write_data;
	s->lockfd = -1;
	if (dry)
		vfk_ctx_set_write_hook(ctx, dry_hook, ctx);
	waiter_open(ctx, &s->w);
	if (!dry) {
		s->lockfd = vfk_lock_take(ctx, timeout_ms, &s->holder);
		if (s->lockfd < 0)
			return s->lockfd;
	}
	return 0;
}

void bind_session_end(struct session *s)
{
	waiter_close(&s->w);
	if (s->lockfd >= 0)
		close(s->lockfd);
	vfk_ctx_set_write_hook(s->ctx, s->saved_hook, s->saved_data);
}
