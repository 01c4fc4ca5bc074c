/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The conversation between a normal user's vfio-vm and root's descriptor
 * service (vfio-bind pass-fds, pass-fds.c; the asking side is
 * launch/fds-client.c). One request, one answer, on a local stream socket:
 *
 *   -> "vfiokit-fds 1\n" then "device ADDR\n" per device, then ".\n"
 *   <- "ok N\n" carrying N + 1 descriptors (SCM_RIGHTS): /dev/iommu first,
 *      then each device's VFIO cdev in the order asked; or "error TEXT\n"
 *      carrying none.
 *
 * The asker is who the kernel says it is (SO_PEERCRED), never what it
 * writes: the service hands a device only to the uid root granted it to.
 */
#ifndef VFK_BIND_PASS_FDS_H
#define VFK_BIND_PASS_FDS_H

#define FDS_HELLO "vfiokit-fds 1"
#define FDS_SOCKET "run/vfiokit-fds.sock"	/* below the sysroot */
#define FDS_MAX_DEVICES 32
#define FDS_REQUEST_MAX 4096
#define FDS_TIMEOUT_MS 10000			/* each side's wait for the other */

#endif
