/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A group's device node given to a user (vfio-bind --for-user): root binds,
 * the user's own QEMU opens the group's VFIO node. The node's owner and mode as
 * the kernel made them are journalled before the change, with the user, and
 * every way a device is given back (restore, a failed commit's rollback)
 * puts them back first, so the node is never left the user's. The node goes
 * to the user alone (mode 0600): a group or world bit the node had would
 * hand the device to others too.
 *
 * Or by descriptor (vfio-bind --via-fds, the iommufd way): the grant is
 * journalled and nothing else changes; root's descriptor service (pass-fds.c)
 * opens /dev/iommu and the devices' cdevs for the user's VM after checking
 * the journal. No node to change means nothing to put back: ending the grant
 * is the entry leaving the journal.
 */
#include <stdio.h>

#include "bind/bind-internal.h"
#include "bind/journal.h"

#define GRANT_MODE 0600

static void node_rel(int group, char *rel, size_t size)
{
	snprintf(rel, size, "vfio/%d", group);
}

/* The node of @group as it is now into @e, with the user: what a restore
 * puts back. 0 or -errno (-ELOOP: a symlink; -EINVAL: not a device node). */
int grant_record(struct vfk_ctx *ctx, struct vfk_journal_entry *e, int group, unsigned int uid,
		 unsigned int gid)
{
	struct stat st;
	char rel[32];
	int r;

	node_rel(group, rel, sizeof(rel));
	r = vfk_host_stat_node(ctx, VFK_ROOT_DEV, rel, &st);
	if (r < 0)
		return r;
	e->granted = true;
	e->grant_uid = uid;
	e->grant_gid = gid;
	e->group = group;
	e->node_uid = (unsigned int)st.st_uid;
	e->node_gid = (unsigned int)st.st_gid;
	e->node_mode = (unsigned int)st.st_mode & 07777;
	return 0;
}

/* A grant by descriptor into @e: the user and the group, no node looked at
 * (none will change, so there is nothing to record of it). */
void grant_record_fds(struct vfk_journal_entry *e, int group, unsigned int uid, unsigned int gid)
{
	e->granted = true;
	e->grant_fds = true;
	e->grant_uid = uid;
	e->grant_gid = gid;
	e->group = group;
	e->node_uid = e->node_gid = e->node_mode = 0;
}

/* The node to the user of @e (recorded by grant_record, or in a dry run
 * only shown to the write hook). 0, 1 skipped, or -errno; a grant by
 * descriptor changes no node: 1. */
int grant_apply(struct vfk_ctx *ctx, const struct vfk_journal_entry *e)
{
	char rel[32];

	if (e->grant_fds)
		return 1;
	node_rel(e->group, rel, sizeof(rel));
	return vfk_host_set_owner(ctx, VFK_ROOT_DEV, rel, e->grant_uid, e->node_gid, GRANT_MODE);
}

/* The node back to its owner and mode before the grant of @e. A node that
 * is gone went with its devices: nothing to put back; nor after a grant by
 * descriptor, which changed none (its node_* mean nothing). 0, 1, or -errno. */
int grant_revoke(struct vfk_ctx *ctx, const struct vfk_journal_entry *e)
{
	struct stat st;
	char rel[32];
	int r;

	if (e->grant_fds)
		return 0;
	node_rel(e->group, rel, sizeof(rel));
	r = vfk_host_stat_node(ctx, VFK_ROOT_DEV, rel, &st);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	return vfk_host_set_owner(ctx, VFK_ROOT_DEV, rel, e->node_uid, e->node_gid, e->node_mode);
}

/* One line on a node a grant could not change or put back: the node's path
 * and what it has become (a symlink, not a device node) or the error. */
void grant_error(int group, int err, char *buf, size_t size)
{
	_cleanup_free_ char *node = NULL;
	char rel[32];

	node_rel(group, rel, sizeof(rel));
	node = vfk_root_host_path(VFK_ROOT_DEV, rel);
	snprintf(buf, size, "%s: %s", node ? node : rel,
		 err == ELOOP ? "a symlink, not the group's node: it was moved; nothing changed there"
		 : err == EINVAL ? "not a device node: it was moved; nothing changed there"
		 : err == ESTALE ? "replaced while its owner was changed"
		 : strerror(err));
}

/* Of the groups in @done[0..*@n), is @group one? Else added (room for @cap).
 * Few groups are granted at once: a list is enough. */
bool grant_group_seen(int *done, size_t *n, size_t cap, int group)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (done[i] == group)
			return true;
	if (*n < cap)
		done[(*n)++] = group;
	return false;
}
