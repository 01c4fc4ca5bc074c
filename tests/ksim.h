/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A stand-in for the kernel's reaction to vfiokit's writes on a fixture tree:
 * unbind removes the driver link, drivers_probe binds the override or the
 * device's native driver, vfio-pci creates /dev/vfio/<group>. It is the write
 * hook of the context, records every write and can fail the Nth one.
 */
#ifndef VFK_TEST_KSIM_H
#define VFK_TEST_KSIM_H
#include <limits.h>
#include "vfiokit.h"

#define KSIM_MAX_LOG 256
#define KSIM_MAX_DEV 64

struct ksim {
	char root[PATH_MAX];
	int writes;		/* writes seen so far */
	int fail_at;		/* fail the Nth write with -EIO (1-based), 0 = never */
	int kill_at;		/* raise SIGKILL at the Nth write, 0 = never */
	int hang_unbind;	/* unbind writes "hang" (return -ETIMEDOUT) */
	int busy_probes;	/* so many native-driver probes fail with -EBUSY, as
				 * while an exiting VFIO user still holds the BARs */
	/* the group nodes it makes: gid and mode as a distribution's udev rule
	 * would set them (0: root's group, 0600) */
	unsigned int node_gid, node_mode;
	char log[KSIM_MAX_LOG][320];	/* "relative/path <- value" */
	int nlog;
	char native_addr[KSIM_MAX_DEV][16];	/* drivers the devices had at start */
	char native_drv[KSIM_MAX_DEV][64];
	int nnative;
};

/* Prepare a simulator for the fixture tree at @root: remembers native
 * drivers and makes sure bus/pci/drivers/vfio-pci exists. */
void ksim_init(struct ksim *k, const char *root);
int ksim_hook(void *data, const char *path, const char *value);
/* Driver of a device in the tree now ("" when none). */
const char *ksim_driver(const char *root, const char *addr, char *buf, size_t size);
/* driver_override as the kernel would show it ("" when unset). */
const char *ksim_override(const char *root, const char *addr, char *buf, size_t size);
#endif
