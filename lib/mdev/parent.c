/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parents and the types they offer, whichever interface filled them in:
 * built, matched against what a user typed, sized from their descriptions,
 * and named in messages.
 */
#include <ctype.h>
#include <stdio.h>

#include "mdev/mdev.h"

static void type_free(struct vfk_mdev_type *t)
{
	if (!t)
		return;
	free(t->id);
	free(t->name);
	free(t->description);
	free(t->device_api);
	free(t);
}

void mdev_parent_free(struct vfk_mdev_parent *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->ntypes; i++)
		type_free(p->types[i]);
	for (i = 0; i < p->nvfs; i++)
		free(p->vfs[i].creatable);
	free(p->types);
	free(p->vfs);
	free(p->name);
	free(p->driver);
	free(p);
}

void mdev_parent_freep(struct vfk_mdev_parent **p)
{
	mdev_parent_free(*p);
}

static char *xstrdup0(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct vfk_mdev_parent *mdev_parent_new(const char *name, enum vfk_mdev_kind kind,
					const char *driver)
{
	struct vfk_mdev_parent *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->kind = kind;
	p->name = strdup(name);
	p->driver = xstrdup0(driver);
	if (!p->name || (driver && !p->driver)) {
		mdev_parent_free(p);
		return NULL;
	}
	return p;
}

struct vfk_mdev_type *mdev_parent_type_by_id(const struct vfk_mdev_parent *p, const char *id)
{
	size_t i;

	for (i = 0; i < p->ntypes; i++)
		if (streq(p->types[i]->id, id))
			return p->types[i];
	return NULL;
}

struct vfk_mdev_type *mdev_parent_add_type(struct vfk_mdev_parent *p, const char *id)
{
	struct vfk_mdev_type *t, **n;

	t = mdev_parent_type_by_id(p, id);
	if (t)
		return t;
	n = realloc(p->types, (p->ntypes + 1) * sizeof(*n));
	if (!n)
		return NULL;
	p->types = n;
	t = calloc(1, sizeof(*t));
	if (!t || !(t->id = strdup(id))) {
		free(t);
		return NULL;
	}
	t->parent = p;
	p->types[p->ntypes++] = t;
	return t;
}

struct vfk_mdev_type *mdev_parent_match_type(const struct vfk_mdev_parent *p, const char *want)
{
	struct vfk_mdev_type *t;
	size_t i;

	if (!want || !*want)
		return NULL;
	if ((t = mdev_parent_type_by_id(p, want)))
		return t;
	for (i = 0; i < p->ntypes; i++)
		if (p->types[i]->name && !strcasecmp(p->types[i]->name, want))
			return p->types[i];
	for (i = 0; i < p->ntypes; i++) {
		const char *dash = strchr(p->types[i]->id, '-');
		if (dash && streq(dash + 1, want))
			return p->types[i];
	}
	return NULL;
}

static unsigned int num_after(const char *s, const char *key)
{
	const char *p = strstr(s, key);

	return p ? (unsigned int)strtoul(p + strlen(key), NULL, 10) : 0;
}

/* "virtual display, 4 MB video memory": the first number followed by MB. */
static unsigned int mb_in_text(const char *d)
{
	const char *p;

	for (p = d; *p; p++)
		if (isdigit((unsigned char)*p) && (p == d || !isalnum((unsigned char)p[-1]))) {
			char *end;
			unsigned long v = strtoul(p, &end, 10);
			while (*end == ' ')
				end++;
			if (startswith(end, "MB"))
				return (unsigned int)v;
			p = end - 1;
		}
	return 0;
}

/* NVIDIA names carry the size: "GRID T4-2Q" (GB), "NVIDIA A100-1-5C" */
static void type_derive_nvidia_name(struct vfk_mdev_type *t)
{
	const char *p;
	char *end;
	unsigned long v;

	if (!startswith(t->id, "nvidia-") || !t->name || !(p = strrchr(t->name, '-')) ||
	    !isdigit((unsigned char)p[1]))
		return;
	v = strtoul(p + 1, &end, 10);
	if (isalpha((unsigned char)*end)) {
		if (!t->fb_mb)
			t->fb_mb = (unsigned int)v * 1024;
		if (!t->description)	/* per-VF: no num_heads; C = compute */
			t->heads = toupper((unsigned char)*end) == 'C' ? 0 : 1;
	}
}

void mdev_type_derive(struct vfk_mdev_type *t)
{
	const char *d = t->description ? t->description : "";
	const char *p;

	if ((p = strstr(d, "framebuffer="))) {
		char *end;
		unsigned long v = strtoul(p + 12, &end, 10);
		t->fb_mb = (unsigned int)(*end == 'G' ? v * 1024 : v);
	}
	t->heads = num_after(d, "num_heads=");
	t->max_instances = num_after(d, "max_instance=");
	if (strstr(d, "low_gm_size:") && strstr(d, "high_gm_size:")) {	/* GVT-g */
		t->fb_mb = num_after(d, "low_gm_size:") + num_after(d, "high_gm_size:");
		t->heads = 1;
	}
	if (!t->fb_mb)
		t->fb_mb = mb_in_text(d);
	if (!t->heads && strstr(d, "display"))
		t->heads = 1;
	type_derive_nvidia_name(t);
	if (!t->max_instances)
		t->max_instances = t->available + t->instances;
}

int mdev_cmp_type(const void *a, const void *b)
{
	return mdev_cmp_version((*(struct vfk_mdev_type *const *)a)->id,
				(*(struct vfk_mdev_type *const *)b)->id);
}

void mdev_list_types(const struct vfk_mdev_parent *p, bool free_only, char *buf, size_t size)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < p->ntypes && len + 1 < size; i++) {
		const struct vfk_mdev_type *t = p->types[i];
		int n;
		if (free_only && !t->available)
			continue;
		n = snprintf(buf + len, size - len, "%s%s%s%s", len ? ", " : "", t->id,
			     t->name ? " " : "", t->name ? t->name : "");
		if (n < 0 || (size_t)n >= size - len) {
			snprintf(buf + (size > 5 ? size - 5 : 0), size > 5 ? 5 : size, "...");
			return;
		}
		len += (size_t)n;
	}
	if (!len)
		snprintf(buf, size, "none");
}

/* "1 x nvidia-231 (GRID T4-2Q)" for the types in use on @p. */
static void list_in_use(const struct vfk_mdev_parent *p, char *buf, size_t size)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < p->ntypes && len + 1 < size; i++) {
		const struct vfk_mdev_type *t = p->types[i];
		int n;
		if (!t->instances)
			continue;
		n = snprintf(buf + len, size - len, "%s%u x %s%s%s%s", len ? ", " : "", t->instances,
			     t->id, t->name ? " (" : "", t->name ? t->name : "", t->name ? ")" : "");
		if (n < 0 || (size_t)n >= size - len)
			return;
		len += (size_t)n;
	}
}

void mdev_in_use_note(const struct vfk_mdev_parent *p, bool nvidia, char *buf, size_t size)
{
	char used[400];

	list_in_use(p, used, sizeof(used));
	snprintf(buf, size, "%s%s%s", *used ? "; in use: " : "", used,
		 nvidia && *used ? "; time-sliced NVIDIA vGPUs on one GPU must all have the "
				   "same framebuffer size" : "");
}

int mdev_full_error(const struct vfk_mdev_parent *p, const struct vfk_mdev_type *t, char *err,
		    size_t size)
{
	char note[600];

	mdev_in_use_note(p, startswith(t->id, "nvidia-"), note, sizeof(note));
	return op_error(err, size, ENOSPC, "no free instance of %s%s%s%s on %s: %s%s", t->id,
			t->name ? " (" : "", t->name ? t->name : "", t->name ? ")" : "", p->name,
			p->kind == VFK_MDEV_NVIDIA_VF ? "no free VF can take it now"
						      : "available_instances is 0",
			note);
}

int mdev_unknown_type_error(const struct vfk_mdev_parent *p, const char *type, char *err,
			    size_t size)
{
	char types[600];

	mdev_list_types(p, false, types, sizeof(types));
	return op_error(err, size, ENOENT, "%s has no type '%s' (types: %s)", p->name, type,
			types);
}

/* ------------------------------------------------------------- getters */

const char *vfk_mdev_parent_get_name(const struct vfk_mdev_parent *p) { return p->name; }
enum vfk_mdev_kind vfk_mdev_parent_get_kind(const struct vfk_mdev_parent *p) { return p->kind; }
const char *vfk_mdev_parent_get_driver(const struct vfk_mdev_parent *p) { return p->driver; }
size_t vfk_mdev_parent_type_count(const struct vfk_mdev_parent *p) { return p->ntypes; }
struct vfk_mdev_type *vfk_mdev_parent_type(const struct vfk_mdev_parent *p, size_t i)
{
	return i < p->ntypes ? p->types[i] : NULL;
}
size_t vfk_mdev_parent_vf_count(const struct vfk_mdev_parent *p) { return p->nvfs; }

struct vfk_mdev_parent *vfk_mdev_type_get_parent(const struct vfk_mdev_type *t) { return t->parent; }
const char *vfk_mdev_type_get_id(const struct vfk_mdev_type *t) { return t->id; }
const char *vfk_mdev_type_get_name(const struct vfk_mdev_type *t) { return t->name ? t->name : t->id; }
const char *vfk_mdev_type_get_description(const struct vfk_mdev_type *t) { return t->description; }
const char *vfk_mdev_type_get_device_api(const struct vfk_mdev_type *t)
{
	return t->device_api ? t->device_api : "vfio-pci";
}
unsigned int vfk_mdev_type_get_available(const struct vfk_mdev_type *t) { return t->available; }
unsigned int vfk_mdev_type_get_instance_count(const struct vfk_mdev_type *t) { return t->instances; }
unsigned int vfk_mdev_type_get_framebuffer_mb(const struct vfk_mdev_type *t) { return t->fb_mb; }
unsigned int vfk_mdev_type_get_heads(const struct vfk_mdev_type *t) { return t->heads; }
unsigned int vfk_mdev_type_get_max_instances(const struct vfk_mdev_type *t) { return t->max_instances; }
