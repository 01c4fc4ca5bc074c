/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A plan rendered as libvirt domain XML, a QEMU argv, or JSON.
 *
 * Layer emit/: owns a plan written as libvirt XML, a QEMU argv or JSON.
 * May call plan/ (the plan's shapes), inventory/ (device getters) and core/
 * (lib/README.md).
 */
#ifndef VFK_EMIT_H
#define VFK_EMIT_H

#include "plan/plan.h"

/* The namespace of the <metadata> element every domain vfiokit writes carries:
 * how a domain is known to be vfiokit's. */
#define VFK_XMLNS "https://vfiokit.org/xmlns/vm/1"

/* The id of the iommufd object of a VM on the iommufd backend; every
 * vfio-pci device names it (iommufd=...). */
#define QEMU_IOMMUFD_ID "iommufd0"

/* Render into a NUL-terminated malloc'ed string / NULL-terminated argv. */
int plan_emit_xml(const struct vfk_plan *plan, char **out);
int plan_emit_qemu(const struct vfk_plan *plan, char ***argv);
int plan_emit_json(const struct vfk_plan *plan, char **out);

#endif
