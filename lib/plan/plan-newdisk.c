/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A disk of the profile that does not exist yet is made by up (launch
 * layer): [disk] size, else a size an installer of that OS is content with.
 * The plan says what will be made, or why it cannot be: its directory is
 * missing, or it has less room than the disk may grow to (qcow2 and raw
 * files start sparse, but a guest that fills its disk on a full file system
 * pauses or loses writes). A CD-ROM is never made.
 */
#include <stdarg.h>
#include <stdio.h>
#include <sys/statvfs.h>

#include "plan/plan-internal.h"

/* Windows 11 asks for 64 GB; with updates and a game or two, twice that */
#define DEFAULT_WINDOWS_MIB (128ull << 10)
#define DEFAULT_OTHER_MIB (32ull << 10)

/* "128 GiB", "1536 MiB" */
static const char *mib_text(unsigned long long mib, char *buf, size_t size)
{
	if (mib >= 1024 && mib % 1024 == 0)
		snprintf(buf, size, "%llu GiB", mib >> 10);
	else if (mib >= 1024)
		snprintf(buf, size, "%.1f GiB", (double)mib / 1024);
	else
		snprintf(buf, size, "%llu MiB", mib);
	return buf;
}

/* Free MiB of the file system of the directory @dir (an absolute path on
 * the host, below the sysroot): 0 with *@free, or -errno. */
static int free_mib(struct vfk_ctx *ctx, const char *dir, unsigned long long *free)
{
	_cleanup_close_ int fd = vfk_root_open_dir(ctx, VFK_ROOT_TOP, dir[1] ? dir + 1 : "");
	struct statvfs sv;

	if (fd < 0)
		return fd;
	if (fstatvfs(fd, &sv) < 0)
		return neg_errno(errno);
	*free = (unsigned long long)sv.f_bavail * sv.f_frsize >> 20;
	return 0;
}

int plan_refuse_disk(struct vfk_plan *pl, const char *fmt, ...)
{
	va_list ap;

	if (pl->disk_refusal)	/* the first disk refused says it */
		return 0;
	va_start(ap, fmt);
	pl->disk_refusal = vstrdupf(fmt, ap);
	va_end(ap);
	return pl->disk_refusal ? 0 : neg_errno(ENOMEM);
}

int plan_new_disk(struct vfk_plan *pl, struct plan_disk *d)
{
	const struct prof_disk *s = d->src;
	unsigned long long want, room = 0;
	char dir[4096], a[32], b[32];
	const char *slash = strrchr(s->path, '/');
	int r;

	if (d->cdrom || pl->ctx->remote_uri) {
		strv_addf(&pl->notes, "disk %s does not exist (yet)%s", s->path, d->cdrom
			  ? ": a CD-ROM image is never made"
			  : ": vfiokit makes missing disks only on the host it runs on");
		return 0;
	}
	want = s->size_mib ? s->size_mib
			   : pl->prof->os == OS_WINDOWS ? DEFAULT_WINDOWS_MIB : DEFAULT_OTHER_MIB;
	snprintf(dir, sizeof(dir), "%.*s", slash && slash > s->path ? (int)(slash - s->path) : 1,
		 s->path);
	r = free_mib(pl->ctx, dir, &room);
	if (r < 0)
		return plan_refuse_disk(pl, "disk %s does not exist and cannot be made: its "
					"directory %s: %s", s->path, dir, strerror(-r));
	if (room < want)
		return plan_refuse_disk(pl, "disk %s: %s wanted, %s free in %s; make room, or set "
					"[disk] size = to less", s->path,
					mib_text(want, a, sizeof(a)), mib_text(room, b, sizeof(b)),
					dir);
	d->create_mib = want;
	strv_addf(&pl->notes, "disk %s does not exist: up makes it, %s %s (%s; %s free there), "
		  "which the guest sees empty; it starts sparse, and discard=unmap gives back "
		  "what the guest frees", s->path, mib_text(want, a, sizeof(a)),
		  d->format == FMT_QCOW2 ? "qcow2" : "raw",
		  s->size_mib ? "[disk] size" : pl->prof->os == OS_WINDOWS
			  ? "the default for os = windows" : "the default",
		  mib_text(room, b, sizeof(b)));
	return 0;
}
