/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What bind.c (the transaction) and restore.c (putting devices back) share,
 * private to lib/bind/: the sysfs steps both take (common.c) and the one
 * device put back that a rollback and a restore both do (restore.c); and
 * what recovery from a damaged journal (recover.c) reuses of them.
 */
#ifndef VFK_BIND_INTERNAL_H
#define VFK_BIND_INTERNAL_H

#include "core/internal.h"

struct udev;
struct udev_monitor;

/* How long a native driver's probe may take to settle after a restore. */
#define PROBE_SETTLE_MS 1000

/* Kernel uevents for PCI, so a wait ends when the driver changes instead of
 * on the next poll. Only on the live host: a fixture tree has no kernel. */
struct waiter {
	struct udev *udev;
	struct udev_monitor *mon;
};

/* What commit and restore hold while they change the host: in a dry run the
 * dry hook in place of the caller's write hook, else the vfiokit lock; and
 * the uevent waiter. */
struct session {
	struct vfk_ctx *ctx;
	vfk_write_hook saved_hook;
	void *saved_data;
	struct waiter w;
	int lockfd;
	long holder;		/* the lock's holder when it could not be taken */
};

/* The driver @addr is on ("" for none), below @devfd (bus/pci/devices). */
void bind_driver_at(int devfd, const char *addr, char *buf, size_t size);
/* Wait until @addr is bound to @want ("" = bound to nothing). */
int bind_wait_driver(struct vfk_ctx *ctx, struct waiter *w, const char *addr, const char *want,
		     unsigned int ms);
/* -errno (the lock not taken, its holder in @s->holder) or 0; either way
 * bind_session_end() undoes it. */
int bind_session_begin(struct session *s, struct vfk_ctx *ctx, bool dry, unsigned int timeout_ms);
void bind_session_end(struct session *s);
/* One device back to @orig_driver and @orig_override; on failure -errno and
 * the reason in @err. */
int bind_restore_device(struct vfk_ctx *ctx, struct waiter *w, const char *addr,
			const char *orig_driver, const char *orig_override, unsigned int ms,
			bool dry_run, char *err, size_t errsize);
/* The driver @addr is on ("" for none); -errno when bus/pci/devices is unreadable. */
int current_driver(struct vfk_ctx *ctx, const char *addr, char *buf, size_t size);
/* driver_override of @addr, "" when unset or not a name; @devfd is
 * bus/pci/devices (< 0: unreadable, nothing is read). */
void read_override(struct vfk_ctx *ctx, int devfd, const char *addr, char *buf, size_t size);
/* The dry-run write hook: shows each write through the progress function, skips it. */
int dry_hook(void *data, const char *path, const char *value);

/* grant.c: a group's node given to a user (vfio-bind --for-user) and back,
 * or a grant by descriptor (--via-fds) that changes no node */
struct vfk_journal_entry;
int grant_record(struct vfk_ctx *ctx, struct vfk_journal_entry *e, int group, unsigned int uid,
		 unsigned int gid);
void grant_record_fds(struct vfk_journal_entry *e, int group, unsigned int uid, unsigned int gid);
int grant_apply(struct vfk_ctx *ctx, const struct vfk_journal_entry *e);
int grant_revoke(struct vfk_ctx *ctx, const struct vfk_journal_entry *e);
/* One line on a node a grant could not change or put back, into @buf. */
void grant_error(int group, int err, char *buf, size_t size);
bool grant_group_seen(int *done, size_t *n, size_t cap, int group);
#endif
