/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private declarations of lib/mdev/. The first part is also what sriov.c and
 * plan/ use; the rest is the model the mdev files share (mdev.c says which
 * file does what).
 */
#ifndef VFK_MDEV_H
#define VFK_MDEV_H
#include "core/internal.h"

/* Operations that may write: begin empties the caller's error buffer, and in
 * a dry run swaps in a hook that narrates each write through the progress
 * function and skips it; end restores the hook and returns @r, the
 * operation's result. */
struct op_hook {
	vfk_write_hook hook;
	void *data;
	bool dry;
};
void op_begin(struct vfk_ctx *ctx, bool dry, char *errbuf, size_t errsize, struct op_hook *save);
int op_end(struct vfk_ctx *ctx, const struct op_hook *save, int r);

/* One line into @buf (may be NULL); returns -@err and sets errno. */
int op_error(char *buf, size_t size, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Does PCI device @addr carry NVIDIA's per-VF vGPU files? With @current,
 * its current_vgpu_type (0 = free). */
bool vgpu_vf_present(struct vfk_ctx *ctx, const char *addr, unsigned int *current);
/* Does any device below sys have mdev instances as children of @addr? The
 * first UUID goes to @uuid (VFK_MDEV_ID_SIZE). */
bool mdev_children(struct vfk_ctx *ctx, const char *addr, char *uuid);

/* ------------------------------------------------------------ the model */

struct vgpu_vf {
	char addr[16];
	unsigned int current;	/* vGPU type id, 0 = free */
	int group;
	unsigned int *creatable;
	size_t ncreatable;
};

struct vfk_mdev_type {
	struct vfk_mdev_parent *parent;
	char *id, *name, *description, *device_api;
	unsigned int available, instances;
	unsigned int fb_mb, heads, max_instances;
	unsigned int vgpu_id;	/* per-VF interface: the numeric id */
};

struct vfk_mdev_parent {
	char *name, *driver;
	enum vfk_mdev_kind kind;
	struct vfk_mdev_type **types;
	size_t ntypes;
	struct vgpu_vf *vfs;	/* per-VF interface only */
	size_t nvfs;
};

struct vfk_mdev_instance {
	char id[VFK_MDEV_ID_SIZE];
	enum vfk_mdev_kind kind;
	char *parent, *type_id, *type_name, *sysfs_path;
	int group;
	bool active, defined, autostart;
};

/* A definition file refused: reported, never acted on. */
struct mdev_bad {
	enum vfk_mdev_kind kind;
	char parent[64];	/* the directory's name; a per-VF vGPU's PF once scanned */
	char id[VFK_MDEV_ID_SIZE];
	char name[VFK_MDEV_ID_SIZE];	/* the file's name as on disk */
	char *error;		/* "PATH:LINE: what" */
};

struct vfk_mdevs {
	int refcount;
	struct vfk_ctx *ctx;
	struct vfk_mdev_parent **parents;
	size_t nparents;
	struct vfk_mdev_instance **instances;
	size_t ninstances;
	struct mdev_bad *bad;
	size_t nbad;
};

/* One of mdevctl's attrs: written to the new mdev's sysfs file @name. */
struct mdev_attr {
	char name[64];
	char *value;
};

/* A definition file, mdevctl's schema. */
struct mdev_def {
	enum vfk_mdev_kind kind;
	char parent[64];
	char id[VFK_MDEV_ID_SIZE];
	char name[VFK_MDEV_ID_SIZE];	/* the file's name as on disk */
	char type[128];
	bool autostart;
	struct mdev_attr *attrs;	/* owned, written in this order */
	size_t nattrs;
};

/* Every definition file: those that parsed and those refused. */
struct mdev_defs {
	struct mdev_def *v;
	size_t n;
	struct mdev_bad *bad;
	size_t nbad;
};

/* ---- common.c: names, ids and sysfs reads */

/* Parent and type names end up in paths: a plain sysfs name, nothing else. */
bool mdev_name_ok(const char *s, size_t max);
/* Canonical lower-case UUID into @out (37 bytes); -EINVAL when malformed. */
int mdev_uuid_norm(const char *in, char *out);
/* As mdev_uuid_norm(), or a new random UUID when @in is NULL. */
int mdev_uuid_or_new(const char *in, char *out);
/* A PCI address in canonical form into @out (16 bytes). */
bool mdev_pci_norm(const char *in, char *out);
/* An instance id, a UUID or a VF's address, canonical into @out
 * (VFK_MDEV_ID_SIZE); false for NULL or anything else. */
bool mdev_id_norm(const char *in, char *out);

static inline int mdev_cmp_version(const char *a, const char *b)
{
	return strverscmp(a, b);
}

/* A sysfs text file below @dfd as a new string; NULL when absent, unreadable,
 * no regular file or outside the sysroot. */
char *mdev_read_str(struct vfk_ctx *ctx, int dfd, const char *rel, size_t max);
int mdev_read_uint(struct vfk_ctx *ctx, int dfd, const char *rel, unsigned int *out);
/* The group number an iommu_group link names, or -1. */
int mdev_link_group(int dfd, const char *rel);
/* The name of the driver the link @rel below @dfd names, "" when unbound. */
void mdev_read_driver(int dfd, const char *rel, char *drv, size_t size);
/* Each entry of the directory @rel below sys (dot entries aside), to @fn
 * with the directory's fd for *at() calls. The first error @fn returns ends
 * the scan and is returned; a positive return ends it as done (0). An
 * absent or unreadable directory has no entries. */
int mdev_scan_sys(struct vfk_mdevs *m, const char *rel,
		  int (*fn)(struct vfk_mdevs *m, int dfd, const char *name));

/* ---- parent.c: parents and their types */

struct vfk_mdev_parent *mdev_parent_new(const char *name, enum vfk_mdev_kind kind,
					const char *driver);
void mdev_parent_free(struct vfk_mdev_parent *p);
void mdev_parent_freep(struct vfk_mdev_parent **p);
struct vfk_mdev_type *mdev_parent_type_by_id(const struct vfk_mdev_parent *p, const char *id);
/* The type @id of @p, added when new; NULL when out of memory. */
struct vfk_mdev_type *mdev_parent_add_type(struct vfk_mdev_parent *p, const char *id);
/* Id, then name (any case), then the id's part after the driver prefix. */
struct vfk_mdev_type *mdev_parent_match_type(const struct vfk_mdev_parent *p, const char *want);
/* Sizes and heads, from what each driver family puts in its description. */
void mdev_type_derive(struct vfk_mdev_type *t);
int mdev_cmp_type(const void *a, const void *b);
/* "nvidia-231 GRID T4-2Q, nvidia-232 GRID T4-4Q" into @buf. */
void mdev_list_types(const struct vfk_mdev_parent *p, bool free_only, char *buf, size_t size);
/* "; in use: 1 x nvidia-231 (GRID T4-2Q)" and, with @nvidia, why other sizes
 * cannot join; "" when no type of @p is in use. */
void mdev_in_use_note(const struct vfk_mdev_parent *p, bool nvidia, char *buf, size_t size);
/* @p has no type @type: one line listing those it has into @err; -ENOENT. */
int mdev_unknown_type_error(const struct vfk_mdev_parent *p, const char *type, char *err,
			    size_t size);
/* No free instance of @t on @p: one line into @err; -ENOSPC. */
int mdev_full_error(const struct vfk_mdev_parent *p, const struct vfk_mdev_type *t, char *err,
		    size_t size);

/* ---- mdev.c: the snapshot */

/* @m takes @p; when it cannot (ENOMEM), @p is freed. */
int mdev_add_parent(struct vfk_mdevs *m, struct vfk_mdev_parent *p);
struct vfk_mdev_instance *mdev_add_instance(struct vfk_mdevs *m, const char *id,
					    enum vfk_mdev_kind kind, const char *parent,
					    const char *type_id);
const struct vfk_mdev_parent *mdev_parent_by_name(const struct vfk_mdevs *m, const char *name);

/* ---- classic.c: the kernel's mdev interface */

/* A classic parent from its directory (class/mdev_bus/<name>, links followed). */
int mdev_load_classic(struct vfk_ctx *ctx, const char *name, int pfd,
		      struct vfk_mdev_parent **out);
int mdev_scan_classic_parents(struct vfk_mdevs *m);
int mdev_scan_classic_instances(struct vfk_mdevs *m);
/* Is the classic instance @uuid active? Its type id into @type ("" when
 * unreadable). */
bool mdev_classic_type(struct vfk_ctx *ctx, const char *uuid, char *type, size_t size);
int mdev_create_classic(struct vfk_ctx *ctx, const struct vfk_mdev_parent *p,
			const struct vfk_mdev_type *t, const char *uuid, bool dry, char *id,
			char *err, size_t size);
/* Is the classic instance @uuid there (below bus/mdev/devices)? */
bool mdev_classic_exists(struct vfk_ctx *ctx, const char *uuid);
int mdev_remove_classic(struct vfk_ctx *ctx, const char *uuid, bool dry, char *err, size_t size);

/* ---- vgpu.c: NVIDIA's per-VF interface */

/*
 * The per-VF parent @pf: every device whose physfn is @pf (or @pf itself)
 * and that carries nvidia/creatable_vgpu_types; with @only_vf just that VF.
 * -ENODEV when none does.
 */
int mdev_load_vf_parent(struct vfk_ctx *ctx, const char *pf, const char *only_vf,
			struct vfk_mdev_parent **out);
/* The PF of @addr when @addr carries the per-VF files, or of its VFs;
 * @is_vf (may be NULL): @addr is a VF. */
bool mdev_vf_parent_of(struct vfk_ctx *ctx, const char *addr, char *pf, size_t size,
		       bool *is_vf);
int mdev_scan_vf_parents(struct vfk_mdevs *m);
/* Does VF @vf carry a vGPU? Its type id into @type. */
bool mdev_vf_type(struct vfk_ctx *ctx, const char *vf, char *type, size_t size);
int mdev_create_vf(struct vfk_ctx *ctx, const struct vfk_mdev_parent *p,
		   const struct vfk_mdev_type *t, bool one_vf, bool dry, char *id, char *err,
		   size_t size);
/* Free VF @vf (canonical address) of its vGPU. */
int mdev_remove_vf(struct vfk_ctx *ctx, const char *vf, bool dry, char *err, size_t size);

/* ---- create.c: create and remove on the live host */

/*
 * The live parent @name, classic or per-VF. For the per-VF interface a VF's
 * address loads just that VF (*@one_vf true).
 */
int mdev_load_live_parent(struct vfk_ctx *ctx, const char *name, struct vfk_mdev_parent **out,
			  bool *one_vf, char *err, size_t size);
/* Resolve @type on the live parent and create it. */
int mdev_create_on(struct vfk_ctx *ctx, const char *parent, const char *type, const char *uuid,
		   bool dry, char *id, char *err, size_t size);

/* ---- def-file.c: one definition file */

/*
 * Read and parse the definition file @name below @dfd. 0, -ENOMEM, or
 * -EBADMSG with "PATH:LINE: what" in @err (@path names the file).
 */
int mdev_def_load(struct vfk_ctx *ctx, int dfd, const char *name, const char *path,
		  struct mdev_def *d, char *err, size_t errsize);
/* The file's text as mdevctl writes it; NULL when out of memory. */
char *mdev_def_format(const struct mdev_def *d);

/* ---- defs.c: every definition on disk */

void mdev_def_clear(struct mdev_def *d);
void mdev_bads_free(struct mdev_bad *b, size_t n);
void mdev_defs_free(struct mdev_defs *s);
/* Every definition: mdevctl's, then vfiokit's per-VF ones. Only -ENOMEM fails. */
int mdev_defs_load(struct vfk_ctx *ctx, struct mdev_defs *s);
/* mdev_defs_load() for an operation: a failure is one line in @err. */
int mdev_defs_read(struct vfk_ctx *ctx, struct mdev_defs *s, char *err, size_t size);
struct mdev_def *mdev_defs_find(struct mdev_def *defs, size_t n, const char *id, size_t from);
/* A refused definition file of @id, or NULL. */
const struct mdev_bad *mdev_defs_find_bad(const struct mdev_defs *s, const char *id);
int mdev_def_write(struct vfk_ctx *ctx, const struct mdev_def *d);
/* Remove the file @name of a definition; 0 also when a dry run skipped it. */
int mdev_def_remove(struct vfk_ctx *ctx, enum vfk_mdev_kind kind, const char *parent,
		    const char *name);
#endif
