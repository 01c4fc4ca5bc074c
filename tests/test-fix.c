/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host preparation as files and commands (issue 15, first part: the plan
 * and its --dry-run). Fixture roots shaped like four distributions, on the
 * same Intel desktop (RTX 4090 + its audio on nvidia/snd_hda_intel, a
 * running command line with neither intel_iommu=on nor iommu=pt):
 * Debian (GRUB, initramfs-tools), Fedora (grub2 with BLS entries, dracut),
 * Arch (systemd-boot, mkinitcpio), Pop!_OS (kernelstub, initramfs-tools).
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "vfiokit.h"

#define RUNNING "BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=UUID=6b1e ro quiet splash\n"
#define IDS "10de:2684,10de:22ba"

static void drop_file(const char *root, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	unlink(path);
}

enum distro { DEBIAN, FEDORA, ARCH, POP };

/* The desktop fixture made to look like @d's boot setup. */
static char *distro_root(enum distro d)
{
	char *root = fixture_host("desktop-dgpu-igpu");

	if (!root)
		return NULL;
	put_file(root, "proc/cmdline", RUNNING);
	if (d != DEBIAN)
		drop_file(root, "etc/default/grub");
	switch (d) {
	case DEBIAN:
		put_file(root, "etc/default/grub", "GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\n"
			 "GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n"
			 "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\nGRUB_CMDLINE_LINUX=\"\"\n");
		put_file(root, "usr/sbin/update-grub", "#!/bin/sh\n");
		put_file(root, "usr/sbin/update-initramfs", "#!/bin/sh\n");
		put_file(root, "etc/initramfs-tools/modules", "# List of modules\n# one per line\n");
		break;
	case FEDORA:
		put_file(root, "etc/default/grub", "GRUB_TIMEOUT=5\nGRUB_DISTRIBUTOR=\"$(sed "
			 "'s, release .*$,,g' /etc/system-release)\"\nGRUB_DEFAULT=saved\n"
			 "GRUB_CMDLINE_LINUX=\"rhgb quiet\"\nGRUB_ENABLE_BLSCFG=true\n");
		put_file(root, "usr/sbin/grub2-mkconfig", "#!/bin/sh\n");
		put_file(root, "usr/bin/dracut", "#!/bin/sh\n");
		put_file(root, "boot/loader/entries/abc-6.5.6-300.fc39.x86_64.conf",
			 "title Fedora Linux\nversion 6.5.6-300.fc39.x86_64\n"
			 "options root=UUID=6b1e ro rhgb quiet\n");
		break;
	case ARCH:
		put_file(root, "boot/loader/entries/arch.conf", "title Arch Linux\nlinux /vmlinuz-linux\n"
			 "initrd /initramfs-linux.img\noptions root=UUID=6b1e rw quiet\n");
		put_file(root, "usr/bin/mkinitcpio", "#!/bin/sh\n");
		put_file(root, "etc/mkinitcpio.conf", "# vim:set ft=sh\nMODULES=(btrfs)\n"
			 "BINARIES=()\nHOOKS=(base udev autodetect modconf block filesystems fsck)\n");
		break;
	case POP:
		put_file(root, "etc/kernelstub/configuration", "{\n  \"default\": {\n"
			 "    \"kernel_options\": [\"quiet\", \"splash\"],\n    \"esp_path\": \"/boot/efi\"\n"
			 "  },\n  \"user\": {\n    \"kernel_options\": [\"quiet\", \"splash\"],\n"
			 "    \"esp_path\": \"/boot/efi\"\n  }\n}\n");
		put_file(root, "usr/sbin/update-initramfs", "#!/bin/sh\n");
		put_file(root, "etc/initramfs-tools/modules", "# List of modules\n");
		break;
	}
	return root;
}

struct fixenv {
	char *root;
	struct vfk_ctx *ctx;
	struct vfk_checks *checks;
	struct vfk_fix *fix;
	char err[1024];
};

static int plan_fix_opts(struct fixenv *e, char *root, const struct vfk_fix_options *o)
{
	memset(e, 0, sizeof(*e));
	e->root = root;
	if (!root || vfk_ctx_new(root, &e->ctx) < 0 || vfk_checks_run(e->ctx, &e->checks) < 0)
		return -EIO;
	return vfk_fix_new(e->ctx, e->checks, o, &e->fix, e->err, sizeof(e->err));
}

static int plan_fix(struct fixenv *e, char *root, const char *gpu)
{
	const struct vfk_fix_options o = { .gpu = gpu };

	return plan_fix_opts(e, root, &o);
}

static void fix_close(struct fixenv *e)
{
	vfk_fix_free(e->fix);
	vfk_checks_free(e->checks);
	vfk_ctx_unref(e->ctx);
	free(e->root);
}

/* What the fix writes to @path, or NULL when it leaves the file alone. */
static const char *new_text(const struct fixenv *e, const char *path)
{
	size_t i;

	for (i = 0; i < vfk_fix_file_count(e->fix); i++) {
		char *p = vfk_fix_file_path(e->fix, i);
		bool match = p && !strcmp(p, path);

		free(p);
		if (match)
			return vfk_fix_file_new(e->fix, i);
	}
	return NULL;
}

/* The commands, "a b c; d e" (static buffer). */
static const char *commands(const struct fixenv *e)
{
	static char buf[1024];
	size_t i, k, len = 0;

	buf[0] = '\0';
	for (i = 0; i < vfk_fix_command_count(e->fix); i++)
		for (k = 0; vfk_fix_command(e->fix, i)[k]; k++)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
						k ? " " : i ? "; " : "", vfk_fix_command(e->fix, i)[k]);
	return buf;
}

static const char modprobe_conf[] =
	"# written by vfio-check --fix (vfio-check --revert puts back what was here):\n"
	"# vfio-pci takes these devices before their native drivers\n"
	"options vfio-pci ids=" IDS "\n"
	"softdep nvidia pre: vfio-pci\n"
	"softdep snd_hda_intel pre: vfio-pci\n";

TEST(fix_debian_grub_default_line_modprobe_and_initramfs_tools, "Debian: the GRUB default "
     "line gains intel_iommu=on iommu=pt vfio-pci.ids=, the other lines stay byte for byte; "
     "modprobe.d softdeps, initramfs-tools' modules; update-grub then update-initramfs")
{
	struct fixenv e;

	REQUIRE(plan_fix(&e, distro_root(DEBIAN), "0000:01:00.0") == 0);
	CHECK_STREQ(vfk_fix_get_loader(e.fix), "grub");
	CHECK_STREQ(vfk_fix_get_initramfs(e.fix), "update-initramfs");
	CHECK_STREQ(new_text(&e, "/etc/default/grub"), "GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\n"
		    "GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n"
		    "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash intel_iommu=on iommu=pt "
		    "vfio-pci.ids=" IDS "\"\nGRUB_CMDLINE_LINUX=\"\"\n");
	CHECK_STREQ(new_text(&e, "/etc/modprobe.d/vfiokit.conf"), modprobe_conf);
	CHECK_STREQ(new_text(&e, "/etc/initramfs-tools/modules"),
		    "# List of modules\n# one per line\nvfio_pci\nvfio\nvfio_iommu_type1\n");
	CHECK_STREQ(commands(&e), "update-grub; update-initramfs -u -k all");
	fix_close(&e);
}

TEST(fix_fedora_grub2_bls_grubby_and_dracut, "Fedora: GRUB_CMDLINE_LINUX (there is no "
     "_DEFAULT) gains the parameters, a $(...) elsewhere in the file is left alone; grubby "
     "edits the BLS entries, grub2-mkconfig, a dracut.conf.d file and dracut")
{
	struct fixenv e;

	REQUIRE(plan_fix(&e, distro_root(FEDORA), "0000:01:00.0") == 0);
	CHECK_STREQ(vfk_fix_get_loader(e.fix), "grub-bls");
	CHECK_STREQ(vfk_fix_get_initramfs(e.fix), "dracut");
	CHECK_CONTAINS(new_text(&e, "/etc/default/grub"),
		       "GRUB_CMDLINE_LINUX=\"rhgb quiet intel_iommu=on iommu=pt vfio-pci.ids=" IDS
		       "\"\nGRUB_ENABLE_BLSCFG=true\n");
	CHECK_CONTAINS(new_text(&e, "/etc/default/grub"), "GRUB_DISTRIBUTOR=\"$(sed ");
	CHECK_STREQ(new_text(&e, "/etc/dracut.conf.d/vfiokit.conf"),
		    "# written by vfio-check --fix: vfio-pci in the initramfs, before the native "
		    "drivers\nforce_drivers+=\" vfio_pci vfio vfio_iommu_type1 \"\n"
		    "install_items+=\" /etc/modprobe.d/vfiokit.conf \"\n");
	CHECK_STREQ(commands(&e), "grubby --update-kernel=ALL --args=intel_iommu=on iommu=pt "
		    "vfio-pci.ids=" IDS "; grub2-mkconfig -o /boot/grub2/grub.cfg; "
		    "dracut -f --regenerate-all");
	fix_close(&e);
}

TEST(fix_arch_systemd_boot_entries_kernel_cmdline_mkinitcpio, "Arch: every loader entry's "
     "options line and a new /etc/kernel/cmdline (from the running line, without "
     "BOOT_IMAGE=); the vfio modules first in MODULES=(); mkinitcpio -P")
{
	struct fixenv e;

	REQUIRE(plan_fix(&e, distro_root(ARCH), "0000:01:00.0") == 0);
	CHECK_STREQ(vfk_fix_get_loader(e.fix), "systemd-boot");
	CHECK_STREQ(new_text(&e, "/boot/loader/entries/arch.conf"), "title Arch Linux\n"
		    "linux /vmlinuz-linux\ninitrd /initramfs-linux.img\noptions root=UUID=6b1e rw "
		    "quiet intel_iommu=on iommu=pt vfio-pci.ids=" IDS "\n");
	CHECK_STREQ(new_text(&e, "/etc/kernel/cmdline"), "root=UUID=6b1e ro quiet splash "
		    "intel_iommu=on iommu=pt vfio-pci.ids=" IDS "\n");
	CHECK_CONTAINS(new_text(&e, "/etc/mkinitcpio.conf"),
		       "\nMODULES=(vfio_pci vfio vfio_iommu_type1 btrfs)\nBINARIES=()\n");
	CHECK_STREQ(commands(&e), "mkinitcpio -P");
	fix_close(&e);
}

TEST(fix_pop_kernelstub_user_options, "Pop!_OS: kernelstub's user kernel_options gain the "
     "parameters (its defaults stay), then kernelstub; initramfs-tools as on Debian")
{
	struct fixenv e;
	const char *t;

	REQUIRE(plan_fix(&e, distro_root(POP), NULL) == 0);
	CHECK_STREQ(vfk_fix_get_loader(e.fix), "kernelstub");
	t = new_text(&e, "/etc/kernelstub/configuration");
	REQUIRE(t);
	CHECK_CONTAINS(t, "\"kernel_options\":[\n      \"quiet\",\n      \"splash\",\n      "
			  "\"intel_iommu=on\",\n      \"iommu=pt\"\n    ]");
	CHECK_CONTAINS(t, "\"default\":{\n    \"kernel_options\":[\n      \"quiet\",\n      "
			  "\"splash\"\n    ]");
	CHECK(new_text(&e, "/etc/modprobe.d/vfiokit.conf") == NULL);	/* no --gpu */
	CHECK_STREQ(commands(&e), "kernelstub");
	fix_close(&e);
}

TEST(fix_applied_and_rebooted_changes_nothing, "once the planned files are in place and the "
     "running line has the parameters, a second plan changes no file and runs nothing; an "
     "old vfio-pci.ids= keeps its ids and is not repeated")
{
	struct fixenv e;
	char *root = distro_root(DEBIAN);
	size_t i;

	REQUIRE(plan_fix(&e, root ? strdup(root) : NULL, "0000:01:00.0") == 0);
	for (i = 0; i < vfk_fix_file_count(e.fix); i++) {
		char *p = vfk_fix_file_path(e.fix, i);

		put_file(root, p + 1, vfk_fix_file_new(e.fix, i));
		free(p);
	}
	fix_close(&e);
	put_file(root, "proc/cmdline", "BOOT_IMAGE=/boot/vmlinuz root=UUID=6b1e ro quiet splash "
		 "intel_iommu=on iommu=pt vfio-pci.ids=" IDS "\n");
	REQUIRE(plan_fix(&e, strdup(root), "0000:01:00.0") == 0);
	CHECK_INT(vfk_fix_file_count(e.fix), 0);
	CHECK_INT(vfk_fix_command_count(e.fix), 0);
	fix_close(&e);

	/* another card's ids in the file: merged into one vfio-pci.ids= */
	put_file(root, "etc/default/grub", "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet vfio-pci.ids="
		 "1002:73bf,10de:22ba splash\"\n");
	REQUIRE(plan_fix(&e, root, "0000:01:00.0") == 0);
	CHECK_STREQ(new_text(&e, "/etc/default/grub"), "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash "
		    "vfio-pci.ids=1002:73bf,10de:22ba,10de:2684\"\n");
	fix_close(&e);
}

TEST(fix_refuses_unknown_loader_shell_values_and_bad_gpu, "no boot loader it knows, a GRUB "
     "line that needs a shell, a --gpu that is no GPU: one line each, naming the problem")
{
	struct fixenv e;
	char *root = distro_root(ARCH);

	drop_file(root, "boot/loader/entries/arch.conf");
	CHECK_INT(plan_fix(&e, root, NULL), -ENOENT);
	CHECK_CONTAINS(e.err, "no boot loader vfio-check --fix knows");
	CHECK(!strchr(e.err, '\n'));
	fix_close(&e);

	root = distro_root(DEBIAN);
	put_file(root, "etc/default/grub", "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet $EXTRA\"\n");
	CHECK_INT(plan_fix(&e, root, NULL), -EINVAL);
	CHECK_CONTAINS(e.err, "/etc/default/grub: GRUB_CMDLINE_LINUX_DEFAULT=\"quiet $EXTRA\" "
			      "needs a shell to read");
	CHECK_CONTAINS(e.err, "add 'intel_iommu=on iommu=pt' there by hand");
	fix_close(&e);

	CHECK_INT(plan_fix(&e, distro_root(DEBIAN), "0000:00:1f.3"), -ENODEV);
	CHECK_CONTAINS(e.err, "--gpu 0000:00:1f.3: ");
	CHECK_CONTAINS(e.err, "is not a GPU");
	fix_close(&e);
	CHECK_INT(plan_fix(&e, distro_root(DEBIAN), "0000:09:00.0"), -ENODEV);
	CHECK_CONTAINS(e.err, "--gpu 0000:09:00.0: no such PCI device");
	fix_close(&e);
}

TEST(fix_diffs_are_unified_diffs, "the diff of the GRUB file: labels, one hunk with three "
     "lines of context, the old line then the new; a new file against /dev/null")
{
	struct fixenv e;
	size_t i;
	bool grub = false, created = false;

	REQUIRE(plan_fix(&e, distro_root(DEBIAN), "0000:01:00.0") == 0);
	for (i = 0; i < vfk_fix_file_count(e.fix); i++) {
		char *p = vfk_fix_file_path(e.fix, i), *d = vfk_fix_file_diff(e.fix, i);

		if (p && d && !strcmp(p, "/etc/default/grub")) {
			grub = true;
			CHECK_STREQ(d, "--- /etc/default/grub\n+++ /etc/default/grub\n@@ -1,5 +1,5 @@\n"
				    " GRUB_DEFAULT=0\n GRUB_TIMEOUT=5\n GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null"
				    " || echo Debian`\n-GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\n"
				    "+GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash intel_iommu=on "
				    "iommu=pt vfio-pci.ids=" IDS "\"\n GRUB_CMDLINE_LINUX=\"\"\n");
		}
		if (p && d && !strcmp(p, "/etc/modprobe.d/vfiokit.conf")) {
			static const char want[] = "--- /dev/null\n+++ /etc/modprobe.d/vfiokit.conf\n"
						   "@@ -0,0 +1,5 @@\n+# written by";

			created = true;
			CHECK(vfk_fix_file_old(e.fix, i) == NULL);
			CHECK(!strncmp(d, want, strlen(want)));
		}
		free(p);
		free(d);
	}
	CHECK(grub && created);
	fix_close(&e);
}

TEST(vfio_check_fix_dry_run_fix_and_revert_tool, "vfio-check --fix --dry-run prints the "
     "diffs and commands and writes nothing; --json carries them; --fix writes (commands "
     "named, not run, under a sysroot) and --revert puts the file back; --fix with --revert "
     "and --gpu without --fix are usage errors")
{
	char *root = distro_root(DEBIAN), *out = NULL, *err = NULL, *before = NULL, *after = NULL;
	char grub[PATH_MAX];
	int st;

	REQUIRE(root);
	snprintf(grub, sizeof(grub), "%s/etc/default/grub", root);
	before = read_file(grub);
	{
		const char *argv[] = { "vfio-check", "--sysroot", root, "--fix", "--dry-run", "--gpu",
				       "01:00.0", NULL };
		st = run_tool(&out, &err, argv);
	}
	CHECK_INT(st, 0);
	CHECK_CONTAINS(out, "+GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash intel_iommu=on iommu=pt");
	CHECK_CONTAINS(out, "then run:\n  update-grub\n  update-initramfs -u -k all\n");
	CHECK_CONTAINS(out, "(dry run: nothing was written)");
	after = read_file(grub);
	CHECK(before && after && !strcmp(before, after));
	free(after);
	free(out);
	free(err);
	{
		const char *argv[] = { "vfio-check", "--sysroot", root, "--fix", "--dry-run", "--json",
				       NULL };
		st = run_tool(&out, &err, argv);
	}
	CHECK_INT(st, 0);
	CHECK_CONTAINS(out, "\"loader\": \"grub\"");
	CHECK_CONTAINS(out, "\"path\": \"/etc/default/grub\"");
	CHECK_CONTAINS(out, "\"applied\": false");
	free(out);
	free(err);
	{
		const char *argv[] = { "vfio-check", "--sysroot", root, "--fix", "--revert", NULL };
		st = run_tool(&out, &err, argv);
	}
	CHECK_INT(st, 2);
	CHECK_CONTAINS(err, "--fix and --revert exclude each other");
	free(out);
	free(err);
	{
		const char *argv[] = { "vfio-check", "--sysroot", root, "--fix", "--gpu", "01:00.0",
				       NULL };
		st = run_tool(&out, &err, argv);
	}
	CHECK_INT(st, 0);
	CHECK_CONTAINS(out, "Done: 3 files changed");
	CHECK_CONTAINS(err, ":: changed /etc/default/grub\n");
	CHECK_CONTAINS(err, ":: not run: update-grub (the sysroot is not the running system");
	free(out);
	free(err);
	{
		const char *argv[] = { "vfio-check", "--sysroot", root, "--revert", NULL };
		st = run_tool(&out, &err, argv);
	}
	CHECK_INT(st, 0);
	CHECK_CONTAINS(out, "Reverted: every file is back as it was");
	CHECK_CONTAINS(err, ":: put back /etc/default/grub\n");
	free(out);
	free(err);
	after = read_file(grub);
	CHECK(before && after && !strcmp(before, after));
	free(after);
	{
		const char *argv[] = { "vfio-check", "--sysroot", root, "--revert", NULL };
		st = run_tool(&out, &err, argv);
	}
	CHECK_INT(st, 0);
	CHECK_CONTAINS(out, "Nothing to revert");
	free(out);
	free(err);
	{
		/* --gpu alone adds the gpu-reset check (test-reset.c); --hugepages
		 * means nothing without --fix */
		const char *argv[] = { "vfio-check", "--sysroot", root, "--hugepages", "16G", NULL };
		st = run_tool(&out, &err, argv);
	}
	CHECK_INT(st, 2);
	CHECK_CONTAINS(err, "--hugepages needs --fix");
	free(out);
	free(err);
	for (size_t k = 0; k < 3; k++) {
		static const char *const bad[] = { "0", "16X", "16G:2M" };
		const char *argv[] = { "vfio-check", "--sysroot", root, "--fix", "--dry-run",
				       "--hugepages", bad[k], NULL };

		st = run_tool(&out, &err, argv);
		CHECK_INT(st, 2);
		CHECK_CONTAINS(err, "want SIZE[:1G], SIZE as 16G or 8192M");
		free(out);
		free(err);
	}
	free(before);
	free(root);
}

/* ------------------------------------------------------------ the diff itself */

/* Apply a unified diff (as fix_diff() writes it) to @old; malloc'ed, NULL when
 * a context or removed line does not match. */
static char *apply(const char *old, const char *diff)
{
	const char *d = strstr(diff, "\n+++ "), *o = old;
	size_t oline = 1, cap = strlen(old) + strlen(diff) + 1, len = 0;
	char *out = malloc(cap);

	if (!out || !d)
		return free(out), NULL;
	d = strchr(d + 1, '\n') + 1;
	while (*d) {
		unsigned long a, an, c, cn;
		const char *eol = strchr(d, '\n');
		size_t n = eol ? (size_t)(eol - d) + 1 : strlen(d);

		if (sscanf(d, "@@ -%lu,%lu +%lu,%lu @@", &a, &an, &c, &cn) == 4) {
			unsigned long to = an ? a : a + 1;	/* first old line of the hunk */

			for (; oline < to && *o; oline++) {	/* copy up to it */
				size_t m = strcspn(o, "\n") + (o[strcspn(o, "\n")] == '\n');

				memcpy(out + len, o, m), len += m, o += m;
			}
		} else if (*d == ' ' || *d == '-') {
			if (strncmp(o, d + 1, n - 1))
				return free(out), NULL;
			if (*d == ' ')
				memcpy(out + len, o, n - 1), len += n - 1;
			o += n - 1, oline++;
		} else if (*d == '+') {
			memcpy(out + len, d + 1, n - 1), len += n - 1;
		} else {
			return free(out), NULL;
		}
		d += n;
	}
	memcpy(out + len, o, strlen(o) + 1);
	return out;
}

char *fix_diff(const char *path, const char *old, const char *new);

TEST(fix_diff_applies_back_exactly, "400 random edits of a 24-line file (lines removed, "
     "added, changed, near and far apart): applying each diff to the old text gives the new "
     "one, and equal texts give no hunk")
{
	unsigned int seed = 12345;
	int t;

	for (t = 0; t < 400; t++) {
		char old[4096] = "", new[4096] = "", *d, *back;
		int i;

		for (i = 0; i < 24; i++) {
			char line[32];
			int r;

			seed = seed * 1103515245u + 12345u;
			r = (int)((seed >> 16) % 10);
			snprintf(line, sizeof(line), "line %d\n", i);
			if (r != 0)
				strcat(old, line);
			if (r == 1)
				continue;			/* removed */
			if (r == 2)
				strcat(new, "changed\n");	/* changed */
			else
				strcat(new, line);
			if (r == 3)
				strcat(new, "added\n");		/* added */
		}
		d = fix_diff("/f", old, new);
		REQUIRE(d);
		back = apply(old, d);
		if (!back || strcmp(back, new)) {
			CHECK_STREQ(back ? back : "(does not apply)", new);
			test_fail_(__FILE__, __LINE__, "diff:\n%s", d);
			free(d);
			free(back);
			break;
		}
		CHECK((strcmp(old, new) == 0) == (strstr(d, "@@") == NULL));
		free(d);
		free(back);
	}
}

/* ------------------------------------------------------------ apply and revert */


/* nftw() takes no data pointer: the listing being built */
static struct { char *s; size_t len, cap; } listing;

static int list_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	char line[PATH_MAX + 64];
	char *text = flag == FTW_F ? read_file(path) : NULL;
	unsigned long long h = 1469598103934665603ULL;
	size_t n;

	(void)ftw;
	for (const char *p = text; p && *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	n = (size_t)snprintf(line, sizeof(line), "%s %o %llx\n", path, st->st_mode & 07777, h);
	free(text);
	if (listing.len + n + 1 > listing.cap) {
		listing.cap = (listing.len + n + 1) * 2;
		listing.s = realloc(listing.s, listing.cap);
	}
	memcpy(listing.s + listing.len, line, n + 1);
	listing.len += n;
	return 0;
}

/* Every file and directory below ROOT/etc and ROOT/boot with mode and a hash
 * of its bytes (malloc'ed): what a revert must give back. */
static char *tree_listing(const char *root)
{
	static const char *const dirs[] = { "etc", "boot" };
	char path[PATH_MAX];

	listing.s = NULL;
	listing.len = listing.cap = 0;
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
		nftw(path, list_one, 16, FTW_PHYS);
	}
	return listing.s ? listing.s : strdup("");
}

struct failer {
	int writes, fail_at;
};

static int fail_nth(void *data, const char *path, const char *value)
{
	struct failer *fl = data;

	(void)path;
	(void)value;
	return ++fl->writes == fl->fail_at ? -EIO : 0;
}

/* Plan and apply on @root (a hook that fails the @fail_at-th write, 0 none);
 * the apply's result; the writes seen in *@writes. */
static int apply_on(const char *root, int fail_at, int *writes, char *err, size_t errsize)
{
	struct fixenv e;
	struct failer fl = { 0, fail_at };
	int r = plan_fix(&e, strdup(root), "0000:01:00.0");

	if (r == 0) {
		vfk_ctx_set_write_hook(e.ctx, fail_nth, &fl);
		r = vfk_fix_apply(e.fix, err, errsize);
	} else {
		snprintf(err, errsize, "%s", e.err);
	}
	if (writes)
		*writes = fl.writes;
	fix_close(&e);
	return r;
}

static int revert_on(const char *root, bool dry, char *err, size_t errsize)
{
	struct vfk_ctx *ctx;
	int r = vfk_ctx_new(root, &ctx);

	if (r < 0)
		return r;
	r = vfk_fix_revert(ctx, dry, err, errsize);
	vfk_ctx_unref(ctx);
	return r;
}

TEST(fix_apply_then_revert_is_byte_identical_on_four_distros, "on Debian, Fedora, Arch and "
     "Pop!_OS roots: --fix writes exactly the planned files (modes kept, a journal with "
     "copies), a second --fix changes nothing, --revert gives back every file and mode byte "
     "for byte, removes what it created and its journal")
{
	static const enum distro all[] = { DEBIAN, FEDORA, ARCH, POP };

	for (size_t d = 0; d < 4; d++) {
		char *root = distro_root(all[d]), err[1024], grubpath[PATH_MAX];
		char *before, *fixed, *again, *after, *journal;
		int writes = 0;

		REQUIRE(root);
		snprintf(grubpath, sizeof(grubpath), "%s/etc/default/grub", root);
		chmod(grubpath, 0640);
		before = tree_listing(root);
		CHECK_INT(apply_on(root, 0, &writes, err, sizeof(err)), 0);
		CHECK(writes > 2);
		fixed = tree_listing(root);
		CHECK(strcmp(before, fixed) != 0);
		if (all[d] == DEBIAN || all[d] == FEDORA)
			CHECK(strstr(fixed, "/etc/default/grub 640 ") != NULL);
		snprintf(grubpath, sizeof(grubpath), "%s/var/lib/vfiokit/fix/journal", root);
		journal = read_file(grubpath);
		CHECK(journal && !strncmp(journal, "vfiokit-fix-journal 1\nfile 1 ", 29));
		CHECK_INT(apply_on(root, 0, &writes, err, sizeof(err)), 0);
		CHECK_INT(writes, 0);		/* nothing left to change */
		again = tree_listing(root);
		CHECK_STREQ(again, fixed);
		CHECK_INT(revert_on(root, false, err, sizeof(err)), 0);
		after = tree_listing(root);
		CHECK_STREQ(after, before);
		CHECK(access(grubpath, F_OK) < 0);
		CHECK_INT(revert_on(root, false, err, sizeof(err)), -ENOENT);
		free(before);
		free(fixed);
		free(again);
		free(after);
		free(journal);
		free(root);
	}
}

TEST(fix_failing_at_each_write_is_undone_by_revert, "Debian with --gpu: the apply fails at "
     "its 1st, 2nd, ... last write (copies, journal, files) in turn; each time --revert "
     "leaves every file as it was before the fix")
{
	char *root = distro_root(DEBIAN), err[1024];
	char *before;
	int writes = 0, k;

	REQUIRE(root);
	before = tree_listing(root);
	CHECK_INT(apply_on(root, 0, &writes, err, sizeof(err)), 0);
	CHECK_INT(revert_on(root, false, err, sizeof(err)), 0);
	REQUIRE(writes >= 9);	/* 3 files: 2 copies + journal + the file, minus 1 new */
	for (k = 1; k <= writes; k++) {
		char *after;
		int r = apply_on(root, k, NULL, err, sizeof(err));

		CHECK_INT(r, -EIO);
		CHECK_CONTAINS(err, "vfio-check --revert puts back what was changed");
		r = revert_on(root, false, err, sizeof(err));
		CHECK(r == 0 || r == -ENOENT);
		after = tree_listing(root);
		if (strcmp(after, before))
			test_fail_(__FILE__, __LINE__, "after a failure at write %d and --revert "
				   "the tree differs:\n%s\nwant:\n%s", k, after, before);
		free(after);
	}
	free(before);
	free(root);
}

TEST(fix_revert_refuses_a_file_changed_since_and_a_damaged_journal, "a GRUB file edited "
     "after --fix: --revert refuses naming it and touches nothing; a journal line that does "
     "not parse: refused naming the line")
{
	char *root = distro_root(DEBIAN), err[1024], path[PATH_MAX];
	char *fixed, *after;

	REQUIRE(root);
	CHECK_INT(apply_on(root, 0, NULL, err, sizeof(err)), 0);
	put_file(root, "etc/default/grub", "GRUB_CMDLINE_LINUX_DEFAULT=\"edited\"\n");
	fixed = tree_listing(root);
	CHECK_INT(revert_on(root, false, err, sizeof(err)), -EBUSY);
	CHECK_CONTAINS(err, "/etc/default/grub was changed since vfio-check --fix wrote it: "
			    "nothing reverted");
	after = tree_listing(root);
	CHECK_STREQ(after, fixed);
	free(after);
	free(fixed);

	snprintf(path, sizeof(path), "%s/var/lib/vfiokit/fix/journal", root);
	put_file(root, "var/lib/vfiokit/fix/journal", "vfiokit-fix-journal 1\nfile 1 "
		 "etc/default/grub 0644 none\n");
	CHECK_INT(revert_on(root, false, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "/var/lib/vfiokit/fix/journal line 2: not a journal line");
	free(root);
}

/* ------------------------------------------------------------ huge pages, refusals */

TEST(fix_hugepages_in_sysctl_or_on_the_kernel_line, "--hugepages 16G: vm.nr_hugepages = "
     "8192 in sysctl.d and sysctl -p; 16G:1G: default_hugepagesz=1G hugepagesz=1G "
     "hugepages=16 on the GRUB line; 1536M:1G is not whole GiB and is refused")
{
	struct vfk_fix_options o = { .hugepages_mib = 16384 };
	struct fixenv e;

	REQUIRE(plan_fix_opts(&e, distro_root(DEBIAN), &o) == 0);
	CHECK_STREQ(new_text(&e, "/etc/sysctl.d/80-vfiokit-hugepages.conf"),
		    "# written by vfio-check --fix: huge pages for guest memory (16384 MiB)\n"
		    "vm.nr_hugepages = 8192\n");
	CHECK_STREQ(commands(&e), "sysctl -p /etc/sysctl.d/80-vfiokit-hugepages.conf; update-grub");
	fix_close(&e);

	o.gigantic = true;
	REQUIRE(plan_fix_opts(&e, distro_root(DEBIAN), &o) == 0);
	CHECK_CONTAINS(new_text(&e, "/etc/default/grub"), "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet "
		       "splash intel_iommu=on iommu=pt default_hugepagesz=1G hugepagesz=1G "
		       "hugepages=16\"");
	CHECK(new_text(&e, "/etc/sysctl.d/80-vfiokit-hugepages.conf") == NULL);
	fix_close(&e);

	o.hugepages_mib = 1536;
	CHECK_INT(plan_fix_opts(&e, distro_root(DEBIAN), &o), -EINVAL);
	CHECK_CONTAINS(e.err, "1 GiB pages take a whole number of GiB (1536 MiB is not)");
	fix_close(&e);
}

TEST(fix_refuses_ostree_and_signed_unified_kernel_images, "an OSTree root and unified kernel "
     "images under Secure Boot are refused in one line naming why; UKIs without Secure "
     "Boot get /etc/kernel/cmdline and a note")
{
	static const char sb_var[] = "sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-"
				     "aa0d-e5fbdc9ab3b0";
	struct fixenv e;
	char *root = distro_root(DEBIAN);

	REQUIRE(root);
	put_file(root, "run/ostree-booted", "");
	CHECK_INT(plan_fix(&e, root, NULL), -EROFS);
	CHECK_CONTAINS(e.err, "OSTree deployment");
	CHECK_CONTAINS(e.err, "rpm-ostree kargs");
	CHECK(!strchr(e.err, '\n'));
	fix_close(&e);

	root = distro_root(ARCH);
	REQUIRE(root);
	put_file(root, "etc/kernel/install.conf", "layout=uki\n");
	put_file(root, sb_var, "");	/* its directories; the bytes are written below */
	{
		char path[PATH_MAX];
		FILE *fp;

		snprintf(path, sizeof(path), "%s/%s", root, sb_var);
		fp = fopen(path, "wb");
		REQUIRE(fp);
		fwrite("\x06\x00\x00\x00\x01", 1, 5, fp);
		fclose(fp);
	}
	CHECK_INT(plan_fix(&e, strdup(root), NULL), -EPERM);
	CHECK_CONTAINS(e.err, "Secure Boot is on and the kernels are unified kernel images");
	fix_close(&e);
	{
		char path[PATH_MAX];
		FILE *fp;

		snprintf(path, sizeof(path), "%s/%s", root, sb_var);
		fp = fopen(path, "wb");
		REQUIRE(fp);
		fwrite("\x06\x00\x00\x00\x00", 1, 5, fp);	/* Secure Boot off */
		fclose(fp);
	}
	REQUIRE(plan_fix(&e, root, NULL) == 0);
	CHECK(new_text(&e, "/etc/kernel/cmdline") != NULL);
	CHECK(vfk_fix_note_count(e.fix) == 1 &&
	      strstr(vfk_fix_note(e.fix, 0), "unified kernel images") != NULL);
	fix_close(&e);
}

TEST(fix_journal_keeps_what_revert_runs, "Fedora with --gpu and --hugepages 8G: the journal "
     "keeps grubby's opposite edit (the added parameters removed), grub2-mkconfig and dracut "
     "to run again, and nothing for sysctl (the pages stay until reboot)")
{
	const struct vfk_fix_options o = { .gpu = "0000:01:00.0", .hugepages_mib = 8192 };
	char *root = distro_root(FEDORA), err[1024], path[PATH_MAX], *journal;
	struct fixenv e;

	REQUIRE(root);
	REQUIRE(plan_fix_opts(&e, strdup(root), &o) == 0);
	CHECK_INT(vfk_fix_apply(e.fix, err, sizeof(err)), 0);
	fix_close(&e);
	snprintf(path, sizeof(path), "%s/var/lib/vfiokit/fix/journal", root);
	journal = read_file(path);
	REQUIRE(journal);
	CHECK_CONTAINS(journal, "\nrun grubby --update-kernel=ALL --remove-args=intel_iommu=on"
			        "%20iommu=pt%20vfio-pci.ids=10de:2684,10de:22ba\n");
	CHECK_CONTAINS(journal, "\nrun grub2-mkconfig -o /boot/grub2/grub.cfg\n");
	CHECK_CONTAINS(journal, "\nrun dracut -f --regenerate-all\n");
	CHECK(!strstr(journal, "run sysctl"));
	CHECK_CONTAINS(journal, "etc/sysctl.d/80-vfiokit-hugepages.conf 0644 none ");
	free(journal);
	CHECK_INT(revert_on(root, false, err, sizeof(err)), 0);
	free(root);
}
