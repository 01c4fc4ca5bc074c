/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The files QEMU needs from the host, found for the plan: OVMF from QEMU's
 * firmware descriptors (or well-known places), the per-VM variable store,
 * and the emulator itself.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <sys/stat.h>

#include "plan/plan-internal.h"

/* ------------------------------------------------------------ firmware */

struct fw_pick {
	char *code, *vars;
	int score;
};

static bool json_array_has(struct json_object *arr, const char *s)
{
	size_t i;

	if (!arr || !json_object_is_type(arr, json_type_array))
		return false;
	for (i = 0; i < json_object_array_length(arr); i++) {
		const char *v = json_object_get_string(json_object_array_get_idx(arr, i));

		if (v && streq(v, s))
			return true;
	}
	return false;
}

static const char *json_path_str(struct json_object *o, const char *a, const char *b)
{
	struct json_object *x, *y;

	if (!json_object_object_get_ex(o, a, &x) || !json_object_object_get_ex(x, b, &y))
		return NULL;
	return json_object_get_string(y);
}

static bool targets_q35(struct json_object *root)
{
	struct json_object *targets, *arch, *machines;
	size_t i, j;

	if (!json_object_object_get_ex(root, "targets", &targets) ||
	    !json_object_is_type(targets, json_type_array))
		return false;
	for (i = 0; i < json_object_array_length(targets); i++) {
		struct json_object *t = json_object_array_get_idx(targets, i);

		if (!json_object_object_get_ex(t, "architecture", &arch) ||
		    !streq(json_object_get_string(arch) ?: "", "x86_64"))
			continue;
		if (!json_object_object_get_ex(t, "machines", &machines) ||
		    !json_object_is_type(machines, json_type_array))
			continue;
		for (j = 0; j < json_object_array_length(machines); j++)
			if (startswith(json_object_get_string(json_object_array_get_idx(machines, j)) ?: "",
				       "pc-q35"))
				return true;
	}
	return false;
}

/* Score a QEMU firmware descriptor for @fw; -1 when unusable. */
static void consider_descriptor(struct vfk_plan *pl, int dirfd, const char *name,
				struct fw_pick *best)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *text = NULL;
	struct json_object *root, *mapping, *feat = NULL, *types = NULL;
	const char *code, *vars, *dev, *fmtc;
	bool secure, keys;
	struct stat st;
	int score;
	ssize_t n;

	fd = vfk_open_file_in(pl->ctx, dirfd, name);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > 65536)
		return;
	text = calloc(1, (size_t)st.st_size + 1);
	if (!text || (n = read(fd, text, (size_t)st.st_size)) < 0)
		return;
	root = json_tokener_parse(text);
	if (!root)
		return;
	json_object_object_get_ex(root, "interface-types", &types);
	json_object_object_get_ex(root, "features", &feat);
	if (!json_array_has(types, "uefi") || !targets_q35(root) ||
	    !json_object_object_get_ex(root, "mapping", &mapping))
		goto out;
	dev = json_path_str(root, "mapping", "device");
	code = json_path_str(mapping, "executable", "filename");
	vars = json_path_str(mapping, "nvram-template", "filename");
	fmtc = json_path_str(mapping, "executable", "format");
	if (!dev || !streq(dev, "flash") || !code || !vars || (fmtc && !streq(fmtc, "raw")) ||
	    !plan_host_file_exists(pl->ctx, code, NULL) || !plan_host_file_exists(pl->ctx, vars, NULL))
		goto out;
	secure = json_array_has(feat, "secure-boot");
	keys = json_array_has(feat, "enrolled-keys");
	if (pl->firmware == FW_UEFI_SECURE)
		score = secure ? (keys ? 3 : 2) : -1;
	else
		score = secure ? (keys ? 1 : 2) : 3;
	if (score > best->score) {
		free(best->code);
		free(best->vars);
		best->code = strdup(code);
		best->vars = strdup(vars);
		best->score = score;
	}
out:
	json_object_put(root);
}

/* Fallback when no descriptor names OVMF: well-known file pairs. */
static const char *const ovmf_plain[][2] = {
	{ "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd" },
	{ "/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd" },
	{ "/usr/share/edk2/ovmf/OVMF_CODE.fd", "/usr/share/edk2/ovmf/OVMF_VARS.fd" },
	{ "/usr/share/edk2/x64/OVMF_CODE.4m.fd", "/usr/share/edk2/x64/OVMF_VARS.4m.fd" },
};
static const char *const ovmf_secure[][2] = {
	{ "/usr/share/OVMF/OVMF_CODE_4M.ms.fd", "/usr/share/OVMF/OVMF_VARS_4M.ms.fd" },
	{ "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", "/usr/share/OVMF/OVMF_VARS_4M.ms.fd" },
	{ "/usr/share/edk2/ovmf/OVMF_CODE.secboot.fd", "/usr/share/edk2/ovmf/OVMF_VARS.secboot.fd" },
	{ "/usr/share/edk2/x64/OVMF_CODE.secboot.4m.fd", "/usr/share/edk2/x64/OVMF_VARS.4m.fd" },
};

int plan_firmware(struct vfk_plan *pl)
{
	static const char *const dirs[] = { "etc/qemu/firmware", "usr/share/qemu/firmware" };
	_cleanup_close_ int top = vfk_root_open_dir(pl->ctx, VFK_ROOT_TOP, NULL);
	struct fw_pick best = { .score = -1 };
	const char *const (*pairs)[2];
	size_t i, j;
	char slugvars[300];

	if (pl->firmware == FW_BIOS)
		return 0;
	for (i = 0; top >= 0 && i < ARRAY_SIZE(dirs); i++) {
		_cleanup_close_ int dfd = vfk_open_dir_in(pl->ctx, top, dirs[i]);
		struct strv names = { 0 };

		if (dfd < 0)
			continue;
		if (plan_list_dir(pl->ctx, dfd, ".", &names) == 0)
			for (j = 0; j < names.n; j++)
				if (strlen(names.v[j]) > 5 &&
				    streq(names.v[j] + strlen(names.v[j]) - 5, ".json"))
					consider_descriptor(pl, dfd, names.v[j], &best);
		strv_free(&names);
	}
	pairs = pl->firmware == FW_UEFI_SECURE ? ovmf_secure : ovmf_plain;
	for (i = 0; !best.code && i < ARRAY_SIZE(ovmf_plain); i++)
		if (plan_host_file_exists(pl->ctx, pairs[i][0], NULL) &&
		    plan_host_file_exists(pl->ctx, pairs[i][1], NULL)) {
			best.code = strdup(pairs[i][0]);
			best.vars = strdup(pairs[i][1]);
		}
	if (!best.code) {
		best.code = strdup(pairs[0][0]);
		best.vars = strdup(pairs[0][1]);
		strv_addf(&pl->notes, "OVMF%s not found under the sysroot: install it (Debian: "
			  "ovmf, Fedora: edk2-ovmf, Arch: edk2-ovmf); assuming %s",
			  pl->firmware == FW_UEFI_SECURE ? " with Secure Boot" : "",
			  best.code ? best.code : "?");
	}
	pl->fw_code = best.code;
	pl->fw_vars = best.vars;
	/* the VMs' state: the host's, or in user mode the user's own */
	snprintf(slugvars, sizeof(slugvars), "nvram/%s_VARS.fd", pl->slug);
	pl->nvram = vfk_ctx_host_path(pl->ctx, VFK_ROOT_VM_STATE, slugvars);
	if (!pl->fw_code || !pl->fw_vars || !pl->nvram)
		return neg_errno(ENOMEM);
	return 0;
}

/* ------------------------------------------------------------ emulator */

static char *find_emulator(struct vfk_plan *pl)
{
	static const char *const candidates[] = { "/usr/bin/qemu-system-x86_64",
						  "/usr/libexec/qemu-kvm", "/usr/bin/qemu-kvm" };
	size_t i;

	if (pl->prof->emulator)
		return strdup(pl->prof->emulator);
	for (i = 0; i < ARRAY_SIZE(candidates); i++)
		if (plan_host_file_exists(pl->ctx, candidates[i], NULL))
			return strdup(candidates[i]);
	strv_addf(&pl->notes, "QEMU not found under the sysroot (qemu-system-x86_64): install "
		  "qemu-system-x86");
	return strdup(candidates[0]);
}

int plan_emulator(struct vfk_plan *pl)
{
	pl->emulator = find_emulator(pl);
	return pl->emulator ? 0 : neg_errno(ENOMEM);
}

/* SeaBIOS and a passed-through VGA GPU: the screen stays dark until the guest's driver. */
int plan_bios_note(struct vfk_plan *pl)
{
	if (pl->prof->firmware == FW_BIOS && pl->mode == VFK_GPU_MODE_PASSTHROUGH &&
	    (vfk_device_get_class(vfk_gpu_get_device(pl->gpu)) >> 8) == 0x0300)
		strv_addf(&pl->notes, "firmware = bios: SeaBIOS does not show its output on the "
			  "passed-through GPU; the guest's own driver takes it over at boot");
	return 0;
}
