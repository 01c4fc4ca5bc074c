/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What installing Windows needs besides its own ISO: Windows Setup has no
 * driver for virtio disks (nor NICs), so on a virtio disk it finds no drive
 * to install to. While the installer is attached ([disk.installer]), the
 * virtio-win driver ISO goes in as a second CD-ROM: [vm] drivers, else where
 * distributions put it. Without one the plan says what Setup will do and
 * what to do about it. Both must be CD images: a file that is not (a disk
 * image, a download cut short) boots to an empty CD-ROM drive, so up
 * refuses it, saying what the file is.
 */
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan/plan-internal.h"

/* Where the virtio-win ISO lands: Fedora's and RHEL's virtio-win package,
 * and the images directories libvirt users download it to. */
static const char *const iso_paths[] = {
	"/usr/share/virtio-win/virtio-win.iso",
	"/var/lib/libvirt/images/virtio-win.iso",
	"/var/lib/libvirt/boot/virtio-win.iso",
};

/* ISO 9660 and UDF volume descriptors are 2048 bytes each from 32 KiB on,
 * their identifier at byte 1: "CD001" for ISO 9660 (a UDF-bridge image such
 * as Windows' has it too), "NSR02"/"NSR03" after "BEA01" for UDF alone. */
#define VD_START 32768
#define VD_SIZE 2048
#define VD_SCAN 8

static bool has_volume_descriptor(const unsigned char *vd, size_t len)
{
	static const char *const ids[] = { "CD001", "NSR02", "NSR03" };
	size_t i, k;

	for (i = 0; i * VD_SIZE + 6 <= len; i++)
		for (k = 0; k < ARRAY_SIZE(ids); k++)
			if (!memcmp(vd + i * VD_SIZE + 1, ids[k], 5))
				return true;
	return false;
}

/*
 * What the file @path is, when it is no CD image, into @why; false when it
 * is one, or when it cannot be read here: one that does not exist is said
 * elsewhere, and a device (an optical drive) holds whatever disc is in it.
 */
static bool not_a_cd_image(struct vfk_ctx *ctx, const char *path, char *why, size_t size)
{
	_cleanup_free_ unsigned char *vd = malloc(VD_SCAN * VD_SIZE);
	const char *slash = strrchr(path, '/');
	_cleanup_close_ int dir = -1, fd = -1;
	char rel[4096];
	struct stat st;
	ssize_t n;

	if (!vd || path[0] != '/' || strstr(path, "/../") || (size_t)(slash - path) >= sizeof(rel))
		return false;
	snprintf(rel, sizeof(rel), "%.*s", (int)(slash - path - 1 > 0 ? slash - path - 1 : 0),
		 path + 1);
	dir = vfk_root_open_dir(ctx, VFK_ROOT_TOP, rel);
	fd = dir < 0 ? dir : vfk_open_file_in(ctx, dir, slash + 1);
	if (fd < 0 || fstat(fd, &st) < 0)
		return false;
	n = pread(fd, vd, VD_SCAN * VD_SIZE, VD_START);
	if (n > 0 && has_volume_descriptor(vd, (size_t)n))
		return false;
	if (st.st_size < VD_START + VD_SIZE)
		snprintf(why, size, "it is %lld bytes long, and an ISO's first volume descriptor "
			 "ends at 34 KiB", (long long)st.st_size);
	else if (pread(fd, vd, 4, 0) == 4 && !memcmp(vd, "QFI\xfb", 4))
		snprintf(why, size, "it is a qcow2 disk image");
	else
		snprintf(why, size, "no ISO 9660 or UDF volume descriptor at 32 KiB");
	return true;
}

/* Up refuses @what (its file @path) when it is no CD image; another host's
 * files are not read from here. */
static int check_cd_image(struct vfk_plan *pl, const char *what, const char *path)
{
	char why[128];

	if (pl->ctx->remote_uri || !not_a_cd_image(pl->ctx, path, why, sizeof(why)))
		return 0;
	return plan_refuse_disk(pl, "%s %s is not an ISO 9660 or UDF image: %s", what, path, why);
}

static const struct prof_disk *installer_of(const struct vfk_profile *p)
{
	size_t i;

	if (p->installed)
		return NULL;
	for (i = 0; i < p->ndisks; i++)
		if (streq(p->disks[i].id, "installer"))
			return &p->disks[i];
	return NULL;
}

/* "the disk on bus = virtio", "network 0 (virtio)": what Setup has no
 * driver for, into @buf; false when nothing. */
static bool needs_virtio(const struct vfk_plan *pl, char *buf, size_t size)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < pl->ndisks && !n; i++)
		if (!pl->disks[i].cdrom && pl->disks[i].bus == BUS_VIRTIO)
			n += (size_t)snprintf(buf, size, "the disk %s on bus = virtio",
					      pl->disks[i].src->path);
	for (i = 0; i < pl->nnets; i++)
		if (pl->nets[i].src->model == NIC_VIRTIO) {
			snprintf(buf + n, size - (n < size ? n : size), "%snetwork %zu (virtio)",
				 n ? " and " : "", i);
			return true;
		}
	return n > 0;
}

/* The ISO to attach: [vm] drivers, else the first of iso_paths there. */
static const char *find_iso(struct vfk_plan *pl)
{
	struct stat st;
	size_t i;

	if (pl->prof->drivers) {
		if (!plan_host_file_exists(pl->ctx, pl->prof->drivers, &st))
			strv_addf(&pl->notes, "[vm] drivers: %s does not exist (yet): Windows Setup "
				  "needs it to see virtio devices", pl->prof->drivers);
		return pl->prof->drivers;
	}
	for (i = 0; i < ARRAY_SIZE(iso_paths); i++)
		if (plan_host_file_exists(pl->ctx, iso_paths[i], &st))
			return iso_paths[i];
	return NULL;
}

/* The ISO as one more SATA CD-ROM, after every disk of the profile. */
static int attach(struct vfk_plan *pl, const char *iso, const struct prof_disk *installer)
{
	struct plan_disk *d, *grown;
	unsigned int nsd = 0;
	size_t i;

	grown = realloc(pl->disks, (pl->ndisks + 1) * sizeof(*pl->disks));
	if (!grown)
		return neg_errno(ENOMEM);
	pl->disks = grown;
	pl->drivers.id = (char *)"drivers";
	pl->drivers.path = strdup(iso);
	if (!pl->drivers.path)
		return neg_errno(ENOMEM);
	pl->drivers.media = MEDIA_CDROM;
	pl->drivers.bus = BUS_SATA;
	pl->drivers.cache = installer->cache;	/* an ISO where the installer's is */
	pl->drivers.readonly = 1;
	for (i = 0; i < pl->ndisks; i++)
		nsd += pl->disks[i].bus != BUS_VIRTIO;
	d = &pl->disks[pl->ndisks++];
	memset(d, 0, sizeof(*d));
	d->src = &pl->drivers;
	d->cdrom = d->readonly = true;
	d->format = FMT_RAW;
	d->bus = BUS_SATA;
	snprintf(d->target, sizeof(d->target), "sd%c", 'a' + (nsd % 26));
	d->boot = (unsigned int)pl->ndisks;
	return 0;
}

size_t plan_install_media(const struct vfk_plan *pl, const char **out, size_t max)
{
	const struct vfk_profile *p = pl->prof;
	struct stat st;
	size_t i, n = 0;

	for (i = 0; i < p->ndisks && n < max; i++)
		if (streq(p->disks[i].id, "installer"))
			out[n++] = p->disks[i].path;
	if (p->drivers && n < max)
		out[n++] = p->drivers;
	for (i = 0; i < ARRAY_SIZE(iso_paths) && n < max; i++)
		if (plan_host_file_exists(pl->ctx, iso_paths[i], &st))
			out[n++] = iso_paths[i];
	return n;
}

/* [disk.installer] as a CD-ROM image, when it is one (not a USB stick's image). */
static int check_installer(struct vfk_plan *pl, const struct prof_disk *installer)
{
	size_t i;

	for (i = 0; i < pl->ndisks; i++)
		if (pl->disks[i].src == installer && pl->disks[i].cdrom &&
		    pl->disks[i].format == FMT_RAW)
			return check_cd_image(pl, "[disk.installer]", installer->path);
	return 0;
}

int plan_install_drivers(struct vfk_plan *pl)
{
	const struct prof_disk *installer = installer_of(pl->prof);
	const char *iso;
	char what[300];
	int r;

	if (!installer)
		return 0;
	r = check_installer(pl, installer);
	if (r < 0)
		return r;
	if (pl->prof->os != OS_WINDOWS || !needs_virtio(pl, what, sizeof(what)))
		return 0;
	iso = find_iso(pl);
	if (!iso) {
		strv_addf(&pl->notes, "Windows Setup has no driver for %s: it will find no drive to "
			  "install to. Attach the virtio-win driver ISO (virtio-win.iso, from the "
			  "virtio-win project; Fedora's virtio-win package puts it in "
			  "/usr/share/virtio-win) with [vm] drivers = PATH, or install with [disk] "
			  "bus = sata and switch to virtio once Windows has the viostor driver", what);
		return 0;
	}
	r = attach(pl, iso, installer);
	if (r == 0)
		r = check_cd_image(pl, pl->prof->drivers ? "[vm] drivers" : "the virtio-win ISO", iso);
	if (r < 0)
		return r;
	strv_addf(&pl->notes, "Windows Setup has no driver for %s: the virtio-win ISO %s goes in "
		  "as a second CD-ROM (%s) while [disk.installer] is there; in Setup, 'Load driver' "
		  "from it: viostor\\w11\\amd64 (disk) and NetKVM\\w11\\amd64 (network), w10 for Windows 10", what, iso,
		  pl->disks[pl->ndisks - 1].target);
	return 0;
}
