// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfk_vm_up and vfk_vm_down on fixture trees, up to starting QEMU: what a
 * VM refuses before touching the host, and what it keeps between ups: the qemu backend's UEFI
 * variable store and socket directory (launch/vmfiles.c) and the XML a
 * libvirt domain was defined from (launch/domain.c). The launch suite
 * (tests/launch/keep.sh, uefi.sh) boots the same with real QEMU and libvirt.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "vmtest.h"

/* /bin/false as QEMU: up gets as far as starting it, then undoes itself */
#define UEFI_VM "[vm]\nname = t\nfirmware = uefi\nemulator = /bin/false\n[gpu]\nmode = virtio\n" \
		"virgl = no\n[display]\ntype = none\n"

/* vfio-vm up --backend qemu of @e's plan; its error line in @err. */
static int up_qemu(struct vmenv *e, char *err, size_t size)
{
	struct vfk_vm_options o = { .backend = VFK_BACKEND_QEMU, .unwatched = true,
				    .start_check_ms = 3000 };

	return vfk_vm_up(e->plan, &o, err, size);
}
#define TEMPLATE "OVMF variable template\001\002\003"

static char *slurp(const char *root, const char *rel, mode_t *mode)
{
	char path[4096], *buf = calloc(1, 4096);
	struct stat st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (!buf || stat(path, &st) < 0 || !(f = fopen(path, "r"))) {
		free(buf);
		return NULL;
	}
	n = fread(buf, 1, 4095, f);
	buf[n] = '\0';
	fclose(f);
	if (mode)
		*mode = st.st_mode & 07777;
	return buf;
}

static bool exists(const char *root, const char *rel)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return access(path, F_OK) == 0;
}

TEST(vm_files_uefi_store_made_from_the_template_once,
     "qemu backend: up copies the firmware's variable template to the VM's store (0600) and makes "
     "its socket directory (0700) before QEMU starts; the next up keeps the store as the guest "
     "changed it; a QEMU that fails leaves no record and no sockets")
{
	char *root = fixture_host("desktop-dgpu-igpu"), err[512] = "", *text;
	struct vmenv e;
	mode_t mode = 0;

	REQUIRE(root);
	REQUIRE(put_file(root, "usr/share/OVMF/OVMF_CODE_4M.fd", "code"));
	REQUIRE(put_file(root, "usr/share/OVMF/OVMF_VARS_4M.fd", TEMPLATE));
	REQUIRE(vm_plan_root(&e, root, UEFI_VM) == 0);
	CHECK_INT(up_qemu(&e, err, sizeof(err)), -EIO);
	CHECK_CONTAINS(err, "QEMU exited at start");
	text = slurp(root, "var/lib/vfiokit/nvram/t_VARS.fd", &mode);
	CHECK_STREQ(text, TEMPLATE);
	CHECK_INT(mode, 0600);
	free(text);
	text = slurp(root, "var/lib/vfiokit/nvram", &mode);
	CHECK_INT(mode, 0700);
	free(text);
	CHECK(!exists(root, "run/vfiokit/vms/t"));
	CHECK(!exists(root, "run/vfiokit/vm/t"));
	/* the guest wrote its boot entries: a second up keeps them */
	REQUIRE(put_file(root, "var/lib/vfiokit/nvram/t_VARS.fd", "Windows Boot Manager"));
	CHECK_INT(up_qemu(&e, err, sizeof(err)), -EIO);
	text = slurp(root, "var/lib/vfiokit/nvram/t_VARS.fd", NULL);
	CHECK_STREQ(text, "Windows Boot Manager");
	free(text);
	vm_close(&e);
	free(root);
}

TEST(vm_files_down_undefine_removes_store_and_tpm_of_a_vm_not_up,
     "down --undefine (qemu backend) of a VM that is not up removes its variable store and its "
     "TPM's state, dot files included, and nothing of another VM")
{
	char *root = fixture_host("desktop-dgpu-igpu"), err[512] = "";
	struct vfk_vm_options o = { .backend = VFK_BACKEND_QEMU, .undefine = true };
	struct vfk_ctx *ctx;

	REQUIRE(root);
	REQUIRE(put_file(root, "var/lib/vfiokit/nvram/t_VARS.fd", "vars"));
	REQUIRE(put_file(root, "var/lib/vfiokit/nvram/u_VARS.fd", "vars of u"));
	REQUIRE(put_file(root, "var/lib/vfiokit/swtpm/t/tpm2-00.permall", "sealed"));
	REQUIRE(put_file(root, "var/lib/vfiokit/swtpm/t/.lock", ""));
	REQUIRE(vfk_ctx_new(root, &ctx) == 0);
	CHECK_INT(vfk_vm_down(ctx, "t", &o, err, sizeof(err)), 0);
	CHECK(!exists(root, "var/lib/vfiokit/nvram/t_VARS.fd"));
	CHECK(!exists(root, "var/lib/vfiokit/swtpm/t"));
	CHECK(exists(root, "var/lib/vfiokit/nvram/u_VARS.fd"));
	/* a name that is not a VM name reaches no path */
	CHECK_INT(vfk_vm_down(ctx, "../nvram/u", &o, err, sizeof(err)), -EINVAL);
	CHECK(exists(root, "var/lib/vfiokit/nvram/u_VARS.fd"));
	/* without --undefine, a VM that is not up is an error */
	o.undefine = false;
	CHECK_INT(vfk_vm_down(ctx, "u", &o, err, sizeof(err)), -ENOENT);
	CHECK(exists(root, "var/lib/vfiokit/nvram/u_VARS.fd"));
	vfk_ctx_unref(ctx);
	free(root);
}

TEST(vm_files_missing_template_is_one_line_naming_it,
     "no firmware template under the sysroot: up fails in one line naming the template, before "
     "QEMU, and leaves no record, no store, no socket directory")
{
	char *root = fixture_host("desktop-dgpu-igpu"), err[512] = "", path[4096];
	struct vmenv e;

	REQUIRE(root);
	snprintf(path, sizeof(path), "%s/usr/share/OVMF/OVMF_VARS_4M.fd", root);
	REQUIRE(unlink(path) == 0);
	snprintf(path, sizeof(path), "%s/usr/share/OVMF/OVMF_VARS_4M.ms.fd", root);
	REQUIRE(unlink(path) == 0);
	REQUIRE(vm_plan_root(&e, root, UEFI_VM) == 0);
	CHECK(vm_note(&e, "OVMF not found under the sysroot") != NULL);
	CHECK_INT(up_qemu(&e, err, sizeof(err)), -ENOENT);
	CHECK_CONTAINS(err, "cannot make the UEFI variable store of t from /usr/share/OVMF/");
	CHECK(strchr(err, '\n') == NULL);
	CHECK(!exists(root, "var/lib/vfiokit/nvram/t_VARS.fd"));
	CHECK(!exists(root, "run/vfiokit/vms/t"));
	CHECK(!exists(root, "run/vfiokit/vm/t"));
	vm_close(&e);
	free(root);
}

TEST(vm_definition_diff_shows_what_the_profile_changed,
     "no definition recorded: -ENOENT; the same plan: 0; memory changed in the profile: 1 with a "
     "unified diff of the memory lines")
{
	char *root = fixture_host("desktop-dgpu-igpu"), *xml, *diff = NULL;
	struct vmenv e, e2;

	REQUIRE(root);
	REQUIRE(vm_plan_root(&e, root, "[vm]\nname = t\nmemory = 4G\n[gpu]\nmode = virtio\n") == 0);
	CHECK_INT(vfk_vm_definition_diff(e.plan, &diff), -ENOENT);
	CHECK(diff == NULL);
	xml = vm_xml(&e);
	REQUIRE(xml);
	/* what libvirt.c records when it defines the domain */
	REQUIRE(put_file(root, "var/lib/vfiokit/domains/t.xml", xml));
	free(xml);
	CHECK_INT(vfk_vm_definition_diff(e.plan, &diff), 0);
	CHECK(diff == NULL);
	REQUIRE(vm_plan_root(&e2, root, "[vm]\nname = t\nmemory = 8G\n[gpu]\nmode = virtio\n") == 0);
	CHECK_INT(vfk_vm_definition_diff(e2.plan, &diff), 1);
	REQUIRE(diff);
	CHECK_CONTAINS(diff, "--- t.xml");
	CHECK_CONTAINS(diff, "\n-  <memory unit=\"MiB\">4096</memory>");
	CHECK_CONTAINS(diff, "\n+  <memory unit=\"MiB\">8192</memory>");
	free(diff);
	vm_close(&e2);
	vm_close(&e);
	free(root);
}

TEST(vm_up_remote_uri_with_host_devices_is_refused,
     "up --connect to another host with a GPU to pass through: one line naming the URI, exit "
     "class 'not so' (-EREMOTE), and neither a record nor a journal on this host; a VM without "
     "host devices is not refused for it")
{
	char *root = fixture_host("desktop-dgpu-igpu"), err[512] = "";
	struct vfk_vm_options o = { .uri = "qemu+ssh://other/system" };
	struct vmenv e;

	REQUIRE(root);
	REQUIRE(vm_plan_root(&e, root, "[vm]\nname = t\n[gpu]\nmode = passthrough\n") == 0);
	CHECK_INT(vfk_vm_up(e.plan, &o, err, sizeof(err)), -EREMOTE);
	CHECK_CONTAINS(err, "qemu+ssh://other/system is not this host");
	CHECK(strchr(err, '\n') == NULL);
	CHECK(!exists(root, "run/vfiokit/vms/t"));
	CHECK(!exists(root, "run/vfiokit/journal"));
	vm_close(&e);
	/* test:/// is libvirt's test driver, not this host either */
	o.uri = "test:///default";
	REQUIRE(vm_plan_root(&e, root, "[vm]\nname = t\n[gpu]\nmode = passthrough\n") == 0);
	CHECK_INT(vfk_vm_up(e.plan, &o, err, sizeof(err)), -EREMOTE);
	vm_close(&e);
	free(root);
}

TEST(vm_up_run_as_refusals_touch_nothing,
     "up --run-as refused before anything is written, each in one line: the libvirt backend, "
     "root, a user the host does not have, a GPU on the group backend (QEMU would open the "
     "group node itself: iommufd named); no record, no journal, nothing bound (run by a non-root "
     "caller: refused as root's for every one)")
{
	static const struct { const char *user; enum vfk_backend backend; int err;
			      const char *says; } c[] = {
		{ "ann", VFK_BACKEND_LIBVIRT, -EINVAL, "--run-as is for --backend qemu" },
		{ "root", VFK_BACKEND_QEMU, -EINVAL, "--run-as root: that is root" },
		{ "nosuchuser", VFK_BACKEND_QEMU, -ENOENT, "--run-as nosuchuser: no such user" },
		{ "ann", VFK_BACKEND_QEMU, -EOPNOTSUPP, "needs [vfio] backend = iommufd" },
	};
	char *root = fixture_host("desktop-dgpu-igpu"), err[512];
	size_t i;

	REQUIRE(root);
	REQUIRE(put_file(root, "etc/passwd", "root:x:0:0::/root:/bin/sh\n"
			 "ann:x:1500:1500::/home/ann:/bin/sh\n"));
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct vfk_vm_options o = { .backend = c[i].backend, .run_as = c[i].user,
					    .unwatched = true };
		struct vmenv e;

		REQUIRE(vm_plan_root(&e, root, "[vm]\nname = t\n[gpu]\nmode = passthrough\n"
				     "[vfio]\nbackend = group\n") == 0);
		err[0] = '\0';
		if (geteuid() == 0) {
			CHECK_INT(vfk_vm_up(e.plan, &o, err, sizeof(err)), c[i].err);
			CHECK_CONTAINS(err, c[i].says);
		} else {
			CHECK_INT(vfk_vm_up(e.plan, &o, err, sizeof(err)), -EPERM);
			CHECK_CONTAINS(err, "--run-as is root's");
		}
		CHECK(strchr(err, '\n') == NULL);
		CHECK(!exists(root, "run/vfiokit/vms/t"));
		CHECK(!exists(root, "run/vfiokit/journal"));
		vm_close(&e);
	}
	free(root);
}
