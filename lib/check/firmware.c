/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ovmf check: is UEFI firmware for x86_64 guests installed, as an OVMF
 * image where distributions put one or as a QEMU firmware descriptor whose
 * image exists.
 */
#include <stdio.h>

#include <json-c/json.h>

#include "check/check.h"

/* Where distributions put OVMF images, relative to the sysroot. */
static const char *const ovmf_dirs[] = {
	"usr/share/OVMF",		/* Debian, Ubuntu */
	"usr/share/edk2/ovmf",		/* Fedora, RHEL */
	"usr/share/edk2/x64",		/* Arch */
	"usr/share/edk2-ovmf/x64",	/* older Arch */
	"usr/share/edk2-ovmf",		/* Gentoo */
	"usr/share/qemu",		/* openSUSE (ovmf-x86_64-*.bin) */
};

static const char *const fw_descriptor_dirs[] = {
	"etc/qemu/firmware",
	"usr/share/qemu/firmware",
};

static bool is_ovmf_image(const char *dir, const char *name)
{
	size_t n = strlen(name);

	if (startswith(name, "OVMF_CODE") && n > 3 && streq(name + n - 3, ".fd"))
		return true;
	if (streq(dir, "usr/share/qemu"))
		return startswith(name, "ovmf-x86_64") && strstr(name, "code") && n > 4 &&
		       streq(name + n - 4, ".bin");
	return false;
}

/* Does the array @key of @root hold the string @value? */
static bool json_array_has_string(struct json_object *root, const char *key, const char *value)
{
	struct json_object *o;
	size_t i;

	if (!json_object_object_get_ex(root, key, &o) || !json_object_is_type(o, json_type_array))
		return false;
	for (i = 0; i < json_object_array_length(o); i++)
		if (streq(json_object_get_string(json_object_array_get_idx(o, i)) ?: "", value))
			return true;
	return false;
}

static bool targets_x86_64(struct json_object *root)
{
	struct json_object *o;
	size_t i;

	if (!json_object_object_get_ex(root, "targets", &o) || !json_object_is_type(o, json_type_array))
		return false;
	for (i = 0; i < json_object_array_length(o); i++) {
		struct json_object *arch;
		if (json_object_object_get_ex(json_object_array_get_idx(o, i), "architecture", &arch) &&
		    streq(json_object_get_string(arch) ?: "", "x86_64"))
			return true;
	}
	return false;
}

/* The image a descriptor maps, or NULL. */
static const char *descriptor_image(struct json_object *root)
{
	struct json_object *mapping, *exe, *fn = NULL;

	if (!json_object_object_get_ex(root, "mapping", &mapping))
		return NULL;
	if (json_object_object_get_ex(mapping, "executable", &exe))
		json_object_object_get_ex(exe, "filename", &fn);
	else
		json_object_object_get_ex(mapping, "filename", &fn);	/* "memory" device */
	return fn ? json_object_get_string(fn) : NULL;
}

/* A QEMU firmware descriptor for x86_64 UEFI whose executable exists below the sysroot. */
static bool descriptor_usable(struct probe *p, int topfd, int dirfd, const char *name)
{
	_cleanup_free_ char *text = NULL;
	struct json_object *root;
	const char *file;
	bool ok = false;

	text = check_read_text_at(p->ctx, dirfd, name, 65536);
	if (!text)
		return false;
	root = json_tokener_parse(text);
	if (!root)
		return false;
	if (json_array_has_string(root, "interface-types", "uefi") && targets_x86_64(root)) {
		file = descriptor_image(root);
		/* the path is absolute on the target host: look below the sysroot */
		if (file && file[0] == '/' && !strstr(file, ".."))
			ok = vfk_exists_at(topfd, file + 1);
	}
	json_object_put(root);
	return ok;
}

struct ovmf_images {
	int count;
	char first[300];	/* the one shown */
	char first_dir[64];
};

/* Shortest name first, then alphabetical: the plainest image is shown. */
static bool plainer(const char *name, const char *than)
{
	return strlen(name) < strlen(than) || (strlen(name) == strlen(than) && strcmp(name, than) < 0);
}

static void find_ovmf_images(struct probe *p, int topfd, struct ovmf_images *o)
{
	size_t i;

	for (i = 0; topfd >= 0 && i < ARRAY_SIZE(ovmf_dirs); i++) {
		_cleanup_closedir_ DIR *d = vfk_opendir_in(p->ctx, topfd, ovmf_dirs[i]);
		struct dirent *de;

		while (d && (de = readdir(d))) {
			if (!is_ovmf_image(ovmf_dirs[i], de->d_name))
				continue;
			o->count++;
			/* only the first directory with an image is shown */
			if (!o->first[0] || (streq(o->first_dir, ovmf_dirs[i]) && plainer(de->d_name, o->first))) {
				if (!o->first[0])
					snprintf(o->first_dir, sizeof(o->first_dir), "%s", ovmf_dirs[i]);
				snprintf(o->first, sizeof(o->first), "%s", de->d_name);
			}
		}
	}
}

static int count_descriptors(struct probe *p, int topfd)
{
	int n_usable = 0;
	size_t i;

	for (i = 0; topfd >= 0 && i < ARRAY_SIZE(fw_descriptor_dirs); i++) {
		_cleanup_closedir_ DIR *d = vfk_opendir_in(p->ctx, topfd, fw_descriptor_dirs[i]);
		struct dirent *de;

		while (d && (de = readdir(d))) {
			size_t n = strlen(de->d_name);

			if (is_dot(de->d_name) || n < 6 || !streq(de->d_name + n - 5, ".json"))
				continue;
			if (descriptor_usable(p, topfd, dirfd(d), de->d_name))
				n_usable++;
		}
	}
	return n_usable;
}

static void pass_ovmf(struct probe *p, struct check_impl *c, const struct ovmf_images *o, int descriptors)
{
	char more[32] = "", desc[96] = "";

	if (o->count > 1)
		snprintf(more, sizeof(more), " (+%d more)", o->count - 1);
	if (descriptors > 0)
		snprintf(desc, sizeof(desc), "%s%d QEMU firmware descriptor%s for x86_64 UEFI",
			 o->count ? "; " : "", descriptors, descriptors == 1 ? "" : "s");
	if (o->count > 0)
		check_set_result(c, VFK_CHECK_PASS,
				 check_xasprintf(p, "/%s/%s%s%s", o->first_dir, o->first, more, desc), NULL);
	else
		check_set_result(c, VFK_CHECK_PASS, check_xasprintf(p, "%s", desc), NULL);
}

void check_ovmf(struct probe *p, struct check_impl *c, int topfd)
{
	struct sbuf fix = { 0 };
	struct ovmf_images images = { 0 };
	int descriptors;

	find_ovmf_images(p, topfd, &images);
	descriptors = count_descriptors(p, topfd);
	if (images.count > 0 || descriptors > 0) {
		pass_ovmf(p, c, &images, descriptors);
		return;
	}
	sbuf_addf(&fix, "install the OVMF UEFI firmware (modern GPUs need a UEFI guest):\n");
	sbuf_addf(&fix, "  Debian/Ubuntu: apt install ovmf\n");
	sbuf_addf(&fix, "  Fedora/RHEL: dnf install edk2-ovmf\n");
	sbuf_addf(&fix, "  Arch: pacman -S edk2-ovmf\n");
	sbuf_addf(&fix, "  openSUSE: zypper install qemu-ovmf-x86_64");
	check_set_result(c, VFK_CHECK_FAIL,
			 check_xasprintf(p, "no OVMF image (OVMF_CODE*.fd) and no x86_64 UEFI firmware descriptor found"),
			 check_sbuf_take(p, &fix));
}
