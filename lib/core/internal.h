/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private declarations shared inside lib/. Tools never include this. */
#ifndef VFK_INTERNAL_H
#define VFK_INTERNAL_H

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "vfiokit.h"
#include "core/macro.h"

/* ---- rooted filesystem access (path.c): the only code that knows the
 *      real locations of sysfs, procfs, devfs and vfiokit's state dirs. */
enum vfk_root {
	VFK_ROOT_TOP = 0,	/* the sysroot itself */
	VFK_ROOT_SYS,		/* <sysroot>/sys */
	VFK_ROOT_PROC,		/* <sysroot>/proc */
	VFK_ROOT_DEV,		/* <sysroot>/dev */
	VFK_ROOT_RUN,		/* <sysroot>/run/vfiokit (state, journal, locks) */
	VFK_ROOT_ETC,		/* <sysroot>/etc/vfiokit (persistent config) */
	VFK_ROOT_MDEVCTL,	/* <sysroot>/etc/mdevctl.d (mdevctl's defined mdevs) */
	VFK_ROOT_STATE,		/* <sysroot>/var/lib/vfiokit (state kept across boots: TPMs) */
	/* The VMs' own places: VFK_ROOT_RUN and VFK_ROOT_STATE in system mode;
	 * in user mode (vfk_ctx_set_user_mode) $XDG_RUNTIME_DIR/vfiokit and
	 * $XDG_STATE_HOME/vfiokit of the running host, outside any sysroot. */
	VFK_ROOT_VM_RUN,	/* VM records, QMP sockets, each VM's run dir */
	VFK_ROOT_VM_STATE,	/* UEFI variable stores, TPM states, kept domain XML */
	_VFK_ROOT_MAX,
};

/* Well-known places below VFK_ROOT_SYS, relative so they never escape. */
#define VFK_SYS_PCI_DEVICES	"bus/pci/devices"
#define VFK_SYS_PCI_DRIVERS	"bus/pci/drivers"
#define VFK_SYS_PCI_BUS		"bus/pci"
#define VFK_SYS_IOMMU_GROUPS	"kernel/iommu_groups"
#define VFK_SYS_CLASS_IOMMU	"class/iommu"
#define VFK_SYS_MODULE		"module"
#define VFK_SYS_CLASS_MDEV_BUS	"class/mdev_bus"
#define VFK_SYS_MDEV_DEVICES	"bus/mdev/devices"
#define VFK_SYS_USB_DEVICES	"bus/usb/devices"
#define VFK_SYS_PCI_SLOTS	"bus/pci/slots"		/* hotplug and ACPI slots */
#define VFK_SYS_DMI_ENTRIES	"firmware/dmi/entries"	/* SMBIOS structures, TYPE-N/raw */

/* Open a directory below one of the roots (rel may be "" or NULL for the
 * root itself). Returns an O_PATH|O_DIRECTORY-free fd usable with *at(),
 * or a negative errno. Absolute or ".."-containing rel is -EINVAL. */
int vfk_root_open_dir(struct vfk_ctx *ctx, enum vfk_root root, const char *rel);
/* Full path string of a place below a root (for libraries that want paths).
 * Returns a malloc'ed string or NULL (errno set). */
char *vfk_root_path(struct vfk_ctx *ctx, enum vfk_root root, const char *rel);
/* The path of a place below a root on the target host itself, without the
 * sysroot ("/dev/hugepages"): what VM definitions refer to. malloc'ed or NULL. */
char *vfk_root_host_path(enum vfk_root root, const char *rel);
/* The same for @ctx: a VM root of a user-mode context is the user's own
 * directory; every other root as vfk_root_host_path(). malloc'ed or NULL
 * (errno set; ENOENT when the user's directory cannot be used). */
char *vfk_ctx_host_path(struct vfk_ctx *ctx, enum vfk_root root, const char *rel);

/*
 * Reads below a directory of @ctx's root. The file must be a regular file
 * (sysfs and procfs attributes are): a FIFO, socket or device is -EINVAL, a
 * directory -EISDIR, and nothing blocks. On a sysroot other than "/" it must
 * also lie inside the sysroot however it was reached (symlinks, last or on
 * the way): -EXDEV otherwise. Returns an fd (O_RDONLY|O_NONBLOCK) or -errno.
 */
int vfk_open_file_in(struct vfk_ctx *ctx, int dirfd, const char *name);
/* A directory below @dirfd, inside @ctx's sysroot as above ("" or NULL: @dirfd). */
int vfk_open_dir_in(struct vfk_ctx *ctx, int dirfd, const char *name);
/* A stream over a directory fd the path layer opened: fdopendir() that
 * closes @fd when it fails, and NULL for a negative @fd (errno set either
 * way), so an open and its listing are one step. */
DIR *vfk_fdopendir(int fd);
/* A stream over the directory @name below @dirfd, opened as vfk_open_dir_in()
 * does; NULL (errno set) also for a negative @dirfd, so that a parent that
 * could not be opened needs no check of its own. */
DIR *vfk_opendir_in(struct vfk_ctx *ctx, int dirfd, const char *name);
/* Read a small file as vfk_open_file_in() opens it into buf (NUL-terminated,
 * trailing newlines and blanks stripped). Returns the length or -errno. */
int vfk_read_in(struct vfk_ctx *ctx, int dirfd, const char *name, char *buf, size_t size);
/* Parse a file holding one integer (base 0: "0x10de", "42"). */
int vfk_read_long_in(struct vfk_ctx *ctx, int dirfd, const char *name, long *out);
/*
 * vfk_read_in() and vfk_read_long_in() of the file @rel below @root
 * ("bus/pci/devices/ADDR/uevent" below VFK_ROOT_SYS), resolved from the
 * sysroot itself as vfk_root_open_dir() resolves directories (RESOLVE_IN_ROOT):
 * a symlink on the way or last that points out of the tree, absolute or by
 * "..", lands inside it, as at a real "/"; nothing outside is opened, so no
 * per-file check (readlink of /proc/self/fd) is needed. A regular file only,
 * opened O_PATH and checked before it is opened for reading, as
 * vfk_open_file_in() does. For the reads made per device: one openat2 and no
 * directory fd to open and close.
 */
int vfk_root_read(struct vfk_ctx *ctx, enum vfk_root root, const char *rel, char *buf,
		  size_t size);
int vfk_root_read_long(struct vfk_ctx *ctx, enum vfk_root root, const char *rel, long *out);
/*
 * vfk_root_read() for the attributes a scan reads per device (uevent): where
 * nothing below @root can be a device node that opens (the running host's
 * sysfs, or a tree on a filesystem mounted nodev), one openat2 kept on that
 * filesystem (RESOLVE_NO_XDEV) and one read, instead of an O_PATH open, its
 * check and a reopen; a FIFO there reads as empty. Elsewhere, or when the
 * path leaves that filesystem, exactly vfk_root_read().
 */
int vfk_root_read_attr(struct vfk_ctx *ctx, enum vfk_root root, const char *rel, char *buf,
		       size_t size);
/*
 * A directory below @root whose attributes vfk_root_read_attr_at() may read
 * directly: vfk_root_open_dir(), on a filesystem where no device node opens
 * (sysfs, or mounted nodev); else -EOPNOTSUPP.
 */
int vfk_root_open_attr_dir(struct vfk_ctx *ctx, enum vfk_root root, const char *rel);
/*
 * vfk_root_read_attr() of @rel below @dirfd, from vfk_root_open_attr_dir():
 * a short lookup instead of one from the sysroot through the bus/pci/devices
 * link (a scan reads each bus's functions from the bus's directory). Only
 * where the lookup stays beneath @dirfd and on its filesystem: else -EXDEV
 * (or -EOPNOTSUPP without openat2), and the caller reads by the rooted path.
 */
int vfk_root_read_attr_at(struct vfk_ctx *ctx, int dirfd, const char *rel, char *buf,
			  size_t size);
/*
 * A scan that reads one attribute of each of thousands of devices: between
 * these two, vfk_root_read_attr() keeps the files it read open and closes
 * them a few dozen at a time (close_range(2) on the runs of numbers it
 * holds), one call instead of one per file. _end() closes what is left;
 * every _begin() needs its _end() before the context is freed.
 */
void vfk_attr_batch_begin(struct vfk_ctx *ctx);
void vfk_attr_batch_end(struct vfk_ctx *ctx);
int vfk_root_read_bytes(struct vfk_ctx *ctx, enum vfk_root root, const char *rel, void *buf,
			size_t size);
/*
 * A state file vfiokit writes itself, always by rename (journal, persist
 * file, mdev definitions), read whole: as vfk_open_file_in() opens it, and
 * a last component that is a symlink is -ELOOP. At most @max bytes (else
 * -EFBIG); -EAGAIN if it grew while read. *@text is malloc'ed and
 * NUL-terminated; *@len (if not NULL) counts the bytes read, NULs included.
 */
int vfk_read_file_in(struct vfk_ctx *ctx, int dirfd, const char *name, size_t max, char **text,
		     size_t *len);
/* Basename of a symlink's target, without following it. Returns the length
 * or a negative errno (-ENOENT when there is no such link). */
int vfk_readlink_base_at(int dirfd, const char *name, char *buf, size_t size);
/* The whole target of a symlink, not followed. */
int vfk_readlink_at(int dirfd, const char *name, char *buf, size_t size);
/* Write a whole string to an existing file (sysfs attribute). One write(2);
 * a short write is -EIO. Returns 0 or a negative errno. */
int vfk_write_at(int dirfd, const char *name, const char *value);
bool vfk_exists_at(int dirfd, const char *name);
/* A stream socket connected to the UNIX socket @name below @dirfd (a system
 * bus), checked as vfk_open_file_in() checks files: inside the sysroot, not a
 * symlink, a socket (-ENOTSOCK otherwise). The connected fd or -errno. */
int vfk_connect_unix_in(struct vfk_ctx *ctx, int dirfd, const char *name);
/* /dev/null of the running system (for processes vfiokit starts). */
int vfk_open_null(int flags);
/* Atomically replace a regular file: temp file in the same dir, fsync,
 * rename, fsync dir. mode applies to the new file. */
int vfk_write_file_atomic_at(int dirfd, const char *name, const char *data, size_t len,
			     mode_t mode);

/* ---- context */
struct vfk_ctx {
	int refcount;
	char *sysroot;
	char *root_real;	/* the sysroot as /proc/self/fd names it (path.c), lazily */
	int rootfd[_VFK_ROOT_MAX];	/* lazily opened; -1 until then */
	vfk_log_fn log_fn;
	void *log_data;
	int log_priority;
	vfk_write_hook write_hook;
	void *write_data;
	vfk_progress_fn progress_fn;
	void *progress_data;
	char error[512];	/* vfk_ctx_get_error() */
	unsigned int timeout_ms;	/* vfk_ctx_set_timeout(): one step's bound */
	bool no_openat2;	/* path.c: the kernel said ENOSYS to openat2 once */
	int8_t attr_direct;	/* path.c: vfk_root_read_attr() may open directly: 0 unknown, 1 yes, -1 no */
	/* path.c: between vfk_attr_batch_begin() and _end(), the files
	 * vfk_root_read_attr() read, still open, to be closed together */
	bool attr_batching;
	uint8_t n_attr_fds;
	int attr_fds[64];
	/* launch/remote.c: a context on a snapshot of the libvirt host
	 * @remote_uri, in the private tree @sysroot (removed with the context);
	 * @local is the context of this host, which keeps the VM records */
	char *remote_uri;
	struct vfk_ctx *local;
	/* ctx.c: user mode (vfk_ctx_set_user_mode): the VM roots are
	 * @user_dir[VFK_VM_DIR_*], absolute paths of the running host, NULL
	 * when unusable (@user_error says why); @user_real: as /proc/self/fd
	 * names them (path.c, lazily); @vm_dir: vfk_ctx_get_vm_dir()'s answers */
	bool user_mode;
	unsigned int user_uid;	/* vfk_ctx_get_user_uid() */
	char user_why[64];
	char user_error[400];
	char *user_dir[2];
	char *user_real[2];
	char *vm_dir[2];
	/* inventory.c: the newest host snapshot of this context while someone
	 * holds it (not a reference: its unref clears this), for readers that
	 * may share it (host_snapshot_held()) */
	struct vfk_host *snapshot;
};
/* ctx.c: forget the cached VM root fds and paths (user mode switched) */
void ctx_vm_roots_reset(struct vfk_ctx *ctx);
/* usermode.c: user mode as vfk_ctx_new() decides it (VFK_USER_MODE, euid) */
void ctx_user_mode_init(struct vfk_ctx *ctx);

/* ---- writes to the host (write.c): every one passes the write hook */
/* Write @value to the file @rel below @root (e.g. "bus/pci/devices/ADDR/
 * driver_override"). Returns 0, 1 when the hook skipped it, or -errno. */
int vfk_host_write(struct vfk_ctx *ctx, enum vfk_root root, const char *rel, const char *value);
/* A change made through another program's API rather than a file (systemd
 * stopping a unit): the write hook sees it as "@what <- @value", so a dry run
 * shows it and a test can fail it. 0 to go on, 1 skipped, or -errno. */
int vfk_host_action(struct vfk_ctx *ctx, const char *what, const char *value);
/* The same, done by a child process so a write that blocks in the kernel
 * (unbind of a busy device) costs -ETIMEDOUT after @ms, not a hung tool. */
int vfk_host_write_timeout(struct vfk_ctx *ctx, enum vfk_root root, const char *rel,
			   const char *value, unsigned int ms);
/* Atomically replace a state file below @root, through the hook. */
int vfk_host_write_file(struct vfk_ctx *ctx, enum vfk_root root, const char *name,
			const char *data, mode_t mode);
/* Atomically replace @dir/@name below @root (run, etc or mdevctl), creating
 * @dir (one level) when missing; the hook sees the full path of the file. */
int vfk_host_write_file_in(struct vfk_ctx *ctx, enum vfk_root root, const char *dir,
			   const char *name, const char *data, mode_t mode);
/* Atomically replace the file @rel ("etc/default/grub") below @root with
 * @len bytes, its parent directories created (0755) when missing; the hook
 * sees the whole text. 0, 1 when the hook skipped it, or -errno. */
int vfk_host_replace_file(struct vfk_ctx *ctx, enum vfk_root root, const char *rel,
			  const char *data, size_t len, mode_t mode);
/* The owner and mode of the node @rel below @root ("vfio/12" below
 * VFK_ROOT_DEV) without following a symlink: 0, -ELOOP for a symlink,
 * -EINVAL for anything but a character device or a plain file (a fixture's
 * node), or -errno (-ENOENT). */
int vfk_host_stat_node(struct vfk_ctx *ctx, enum vfk_root root, const char *rel, struct stat *st);
/* Give that node to @uid:@gid with @mode (permission bits), through the hook
 * ("owner UID:GID mode 0MODE"). 0, 1 when the hook skipped it, or -errno as
 * vfk_host_stat_node(); -ESTALE when the name changed under the change. */
int vfk_host_set_owner(struct vfk_ctx *ctx, enum vfk_root root, const char *rel,
		       unsigned int uid, unsigned int gid, unsigned int mode);
/* run.c: @argv (searched in PATH) with stdin from /dev/null, its output
 * kept; at most @ms. 0 when it exited 0; else -errno (-ETIMEDOUT) or the
 * exit status as -ECANCELED, with what it said last in @why. */
int vfk_run_program(const char *const *argv, unsigned int ms, char *why, size_t whysize);
/* Remove the empty directory @rel below @root (-ENOTEMPTY otherwise); the
 * hook sees VFK_WRITE_REMOVE. 0, 1 when the hook skipped it, or -errno. */
int vfk_host_remove_dir(struct vfk_ctx *ctx, enum vfk_root root, const char *rel);
/* Remove the state file @rel below @root; the hook sees @value VFK_WRITE_REMOVE.
 * Returns 0, 1 when the hook skipped it, or -errno (-ENOENT when absent). */
int vfk_host_remove_file(struct vfk_ctx *ctx, enum vfk_root root, const char *rel);
/* Create <sysroot>/run/vfiokit, <sysroot>/etc/vfiokit, <sysroot>/etc/mdevctl.d or a
 * VM root (user mode: the user's vfiokit directories, 0700) when missing. */
int vfk_root_ensure(struct vfk_ctx *ctx, enum vfk_root root);
/* Create @rel ("a/b/c") below @root, each level resolved in the sysroot;
 * new levels get @mode. Existing ones are left as they are. */
int vfk_root_mkdirs(struct vfk_ctx *ctx, enum vfk_root root, const char *rel, mode_t mode);
bool vfk_ctx_is_live(const struct vfk_ctx *ctx);	/* sysroot is "/" */
/* inventory.c: the host's CPU topology, part of the snapshot like the
 * inventory: read on the first call, shared by every plan made on @host. */
int host_topo(struct vfk_host *host, const struct vfk_topo **out);
/* inventory.c: a new reference to the newest snapshot of @ctx that its
 * caller still holds, or NULL: a read-only check run right after a scan
 * (vfio-check's) reads that one instead of scanning the host again. */
struct vfk_host *host_snapshot_held(struct vfk_ctx *ctx);
void vfk_progress(struct vfk_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void vfk_log(struct vfk_ctx *ctx, int priority, const char *file, int line,
	     const char *fn, const char *format, ...) __attribute__((format(printf, 6, 7)));

#define vfk_log_cond(ctx, prio, ...)                                               \
	do {                                                                       \
		if ((ctx) && vfk_ctx_get_log_priority(ctx) >= (prio))              \
			vfk_log(ctx, prio, __FILE__, __LINE__, __func__, __VA_ARGS__); \
	} while (0)
#define dbg(ctx, ...)  vfk_log_cond(ctx, LOG_DEBUG, __VA_ARGS__)
#define info(ctx, ...) vfk_log_cond(ctx, LOG_INFO, __VA_ARGS__)
#define warn(ctx, ...) vfk_log_cond(ctx, LOG_WARNING, __VA_ARGS__)
#define err(ctx, ...)  vfk_log_cond(ctx, LOG_ERR, __VA_ARGS__)

/* pciaddr.c: @s is a vendor:device id, "VVVV:DDDD" with exactly four hex
 * digits each (sscanf's %x would also take "-1", "+2" or "26"). */
bool vfk_pci_id_valid(const char *s);

/* proc.c: @pid still runs (a zombie whose last thread has exited does not;
 * our own exited children are reaped). */
bool proc_alive(struct vfk_ctx *ctx, int pid);
/* The name the kernel gives @pid (/proc/PID/comm, newline dropped). */
int proc_comm(struct vfk_ctx *ctx, int pid, char *buf, size_t size);

/* Return a negative errno and set errno to match. */
static inline int neg_errno(int e)
{
	if (e > 0)
		e = -e;
	errno = -e;
	return e;
}

#endif
