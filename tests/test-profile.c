/* SPDX-License-Identifier: GPL-2.0-or-later */
/* VM profiles: every key read, every error naming file, line and key. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "vmtest.h"

/* Parse @ini and expect failure with a message containing @want. */
static void expect_error(const char *ini, const char *want)
{
	struct vfk_profile *p = (struct vfk_profile *)0x1;
	char err[1024] = "";
	int r;

	r = vfk_profile_parse(ini, "/etc/vfiokit/vm.ini", &p, err, sizeof(err));
	CHECK_INT(r, -EINVAL);
	CHECK(p == NULL);
	CHECK_CONTAINS(err, want);
}

static struct vfk_profile *parse_ok(const char *ini)
{
	struct vfk_profile *p = NULL;
	char err[1024] = "";
	int r = vfk_profile_parse(ini, "/etc/vfiokit/vm.ini", &p, err, sizeof(err));

	if (r < 0)
		test_fail_(__FILE__, __LINE__, "parse failed: %s", err);
	return p;
}

TEST(profile_shipped_configs_load, "every profile in configs/ loads without error")
{
	static const char *const files[] = { "configs/gaming-passthrough.ini",
					     "configs/render-vgpu.ini",
					     "configs/desktop-virtio.ini", "configs/demo.ini" };
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct vfk_profile *p = NULL;
		char err[1024] = "";
		int r = vfk_profile_load(src_path(files[i]), &p, err, sizeof(err));

		if (r < 0)
			test_fail_(__FILE__, __LINE__, "%s: %s", files[i], err);
		vfk_profile_free(p);
	}
}

TEST(profile_unknown_key_names_file_line_key, "an unknown key is an error naming file:line, section and key, listing the valid keys")
{
	expect_error("[vm]\nname = a\nmemroy = 8G\n",
		     "/etc/vfiokit/vm.ini:3: [vm] memroy: unknown key (keys of [vm]: name, description, memory");
}

TEST(profile_unknown_section, "an unknown section is an error at its first key")
{
	expect_error("[vm]\nname = a\n\n[graphics]\ntype = spice\n",
		     "vm.ini:5: [graphics] type: unknown section [graphics]");
	expect_error("[gpu.extra]\nmode = auto\n", "vm.ini:2: [gpu.extra] mode: unknown section");
}

TEST(profile_key_outside_section, "a key before any [section] is an error")
{
	expect_error("name = a\n", "vm.ini:1: name: outside any section");
}

TEST(profile_bad_values_name_the_key, "each value type rejects bad input with file, line and key")
{
	expect_error("[vm]\nmemory = lots\n", "vm.ini:2: [vm] memory: 'lots' is not a memory size");
	expect_error("[vm]\nmemory = 16Q\n", "vm.ini:2: [vm] memory:");
	expect_error("[vm]\nmemory = 16\n", "at least 32 MiB");
	expect_error("[vm]\nvcpus = many\n", "vm.ini:2: [vm] vcpus: 'many' is neither auto nor a number");
	expect_error("[vm]\nvcpus = 0\n", "[vm] vcpus:");
	expect_error("[tuning]\nhost-cores = 99\n", "[tuning] host-cores: '99' is not a number from 0 to 64");
	expect_error("[tuning]\npinning = maybe\n", "[tuning] pinning: 'maybe' is not yes or no");
	expect_error("[vm]\ntpm = perhaps\n", "[vm] tpm: 'perhaps' is not auto, yes or no");
	expect_error("[display]\nresolution = 1920*1080\n", "[display] resolution: '1920*1080' is not WIDTHxHEIGHT");
	expect_error("[network]\nmac = 01:00:5e:00:00:01\n", "[network] mac: '01:00:5e:00:00:01' is a multicast address");
	expect_error("[network]\nmac = 52:54:00:zz:00:01\n", "is not a MAC address");
	expect_error("[tuning]\nvendor-id = thirteenchars\n", "[tuning] vendor-id: 'thirteenchars' is longer than 12");
	expect_error("[display]\nlisten = 127.0.0.1;rm\n", "[display] listen:");
	expect_error("[vm]\nname = a/b\n", "[vm] name: 'a/b' contains '/'");
	expect_error("[vm]\nname =\n", "[vm] name: needs a value");
}

TEST(profile_enum_lists_choices, "a value outside an enumeration lists the accepted ones")
{
	expect_error("[vm]\nos = macos\n", "vm.ini:2: [vm] os: 'macos' is not one of: linux, windows, other");
	expect_error("[gpu]\nmode = turbo\n",
		     "[gpu] mode: 'turbo' is not one of: auto, passthrough, mdev, virtio, emulated, none");
	expect_error("[disk]\npath = /a\nbus = ide\n", "vm.ini:3: [disk] bus: 'ide' is not one of: virtio, sata, scsi, usb");
}

TEST(profile_repeated_key_is_error, "a key set twice in a section is an error naming both lines")
{
	expect_error("[vm]\nname = a\nmemory = 4G\n\n[vm]\nmemory = 8G\n",
		     "vm.ini:6: [vm] memory: set twice (first on line 3)");
}

TEST(profile_syntax_error_names_line, "a line that is neither a section, a key nor a comment is a syntax error at its line")
{
	expect_error("[vm]\nname = a\nthis is not ini\n", "vm.ini:3: syntax error");
	expect_error("[vm\nname = a\n", "vm.ini:1: syntax error");
}

TEST(profile_continuation_line_is_error, "an indented line (inih's continuation) is an error, not a silent append")
{
	expect_error("[vm]\nname = a\n  memory = 8G\n",
		     "vm.ini:3: [vm] name: indented line continues the value of 'name'");
}

TEST(profile_line_too_long, "a line longer than inih's limit is an error at that line")
{
	char ini[1024];

	snprintf(ini, sizeof(ini), "[vm]\nname = a\ncmdline = %0250d\n", 0);
	expect_error(ini, "vm.ini:3: line longer than");
}

TEST(profile_comments_and_inline_comments, "# and ; comments are skipped, ' ;' ends a value")
{
	struct vfk_profile *p = parse_ok("# a profile\n; another comment\n[vm]\n"
					 "name = box ; the VM's name\nmemory = 2G\n");

	REQUIRE(p);
	CHECK_STREQ(vfk_profile_get(p, "vm", "name"), "box");
	CHECK_STREQ(vfk_profile_get_name(p), "box");
	vfk_profile_free(p);
}

TEST(profile_cross_key_checks, "keys that contradict each other are errors at the offending key")
{
	expect_error("[vm]\nname = a\ninitrd = /boot/initrd.img\n", "vm.ini:3: [vm] initrd: needs kernel");
	expect_error("[vm]\ncmdline = quiet\n", "vm.ini:2: [vm] cmdline: needs kernel");
	expect_error("[gpu]\nmode = virtio\nrom = /x.rom\n", "vm.ini:3: [gpu] rom: only for mode = passthrough");
	expect_error("[gpu]\nmode = passthrough\nmdev-type = nvidia-63\n", "vm.ini:3: [gpu] mdev-type: only for mode = mdev or auto");
	expect_error("[gpu]\nmode = emulated\nvirgl = yes\n", "[gpu] virgl: only for mode = virtio or auto");
	expect_error("[gpu]\nmode = virtio\n[display]\nlooking-glass = yes\n",
		     "vm.ini:4: [display] looking-glass: needs a GPU of its own");
	expect_error("[vm]\naccel = tcg\n[tuning]\nkvm-hidden = yes\n", "vm.ini:4: [tuning] kvm-hidden: hides KVM, but accel = tcg");
	expect_error("[disk.data]\nformat = raw\n", "[disk.data] path: missing: every disk needs a path");
	expect_error("[disk]\npath = /a.iso\nmedia = cdrom\nbus = virtio\n", "vm.ini:4: [disk] bus: a cdrom cannot be on virtio");
	expect_error("[network]\ntype = bridge\n", "[network] bridge: missing: type = bridge needs bridge = NAME");
	expect_error("[network.lan]\ntype = user\nnetwork = default\n", "vm.ini:3: [network.lan] network: only for type = network");
}

TEST(profile_invalid_text_rejected, "control characters and invalid UTF-8 in values are errors")
{
	expect_error("[vm]\nname = a\x01" "b\n", "vm.ini:2: [vm] name: control characters or invalid UTF-8");
	expect_error("[vm]\ndescription = caf\xc3(\n", "[vm] description: control characters or invalid UTF-8");
}

TEST(profile_name_defaults_to_file_name, "without [vm] name the VM is named after the file")
{
	struct vfk_profile *p = NULL;
	char err[256];

	REQUIRE(vfk_profile_parse("[vm]\nmemory = 1G\n", "/x/y/my-box.ini", &p, err, sizeof(err)) == 0);
	CHECK_STREQ(vfk_profile_get_name(p), "my-box");
	CHECK_STREQ(vfk_profile_get_path(p), "/x/y/my-box.ini");
	CHECK(vfk_profile_get(p, "vm", "name") == NULL);
	vfk_profile_free(p);
}

TEST(profile_hostile_name_kept_verbatim, "names with quotes, <, & and spaces are accepted as written")
{
	struct vfk_profile *p = parse_ok("[vm]\nname = my \"evil\" <vm> & 'co'\n");

	REQUIRE(p);
	CHECK_STREQ(vfk_profile_get_name(p), "my \"evil\" <vm> & 'co'");
	vfk_profile_free(p);
}

TEST(profile_set_overrides_and_validates, "vfk_profile_set replaces a value and checks it like the file does")
{
	struct vfk_profile *p = parse_ok("[vm]\nname = a\nmemory = 4G\n");
	char err[512] = "";

	REQUIRE(p);
	CHECK_INT(vfk_profile_set(p, "vm.memory", "8G", err, sizeof(err)), 0);
	CHECK_STREQ(vfk_profile_get(p, "vm", "memory"), "8G");
	CHECK_INT(vfk_profile_set(p, "disk.data.path", "/img/data.raw", err, sizeof(err)), 0);
	CHECK_STREQ(vfk_profile_get(p, "disk.data", "path"), "/img/data.raw");
	CHECK_INT(vfk_profile_set(p, "vm.memroy", "8G", err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "--set vm.memroy: [vm] memroy: unknown key");
	CHECK_INT(vfk_profile_set(p, "vm.memory", "huge", err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "--set vm.memory: [vm] memory: 'huge' is not a memory size");
	CHECK_INT(vfk_profile_set(p, "memory", "8G", err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "expected SECTION.KEY=VALUE");
	CHECK_STREQ(vfk_profile_get(p, "vm", "memory"), "8G");
	vfk_profile_free(p);
}

TEST(profile_load_missing_file, "loading a file that does not exist names it and returns -ENOENT")
{
	struct vfk_profile *p = NULL;
	char err[512] = "";

	CHECK_INT(vfk_profile_load("/nonexistent/vm.ini", &p, err, sizeof(err)), -ENOENT);
	CHECK_CONTAINS(err, "/nonexistent/vm.ini: No such file or directory");
}

TEST(profile_every_documented_key_parses, "every key of vfiokit.ini(5) is accepted with a valid value")
{
	struct vfk_profile *p = parse_ok(
		"[vm]\nname = all\ndescription = every key\nmemory = 6G\nvcpus = 4\nos = linux\n"
		"firmware = uefi\ntpm = no\naccel = kvm\nemulator = /usr/bin/qemu-system-x86_64\n"
		"kernel = /boot/vmlinuz\ninitrd = /boot/initrd.img\ncmdline = console=ttyS0 quiet\n"
		"serial = pty\n"
		"[tuning]\ncpu-model = host-passthrough\npinning = yes\nhost-cores = 1\nhugepages = 2M\n"
		"iothreads = 2\nhyperv = no\nkvm-hidden = no\nvendor-id = vfiokit\n"
		"[display]\ntype = spice\nlooking-glass = no\nresolution = 1280x720\nlisten = ::1\n"
		"[input]\nkeyboard = /dev/input/by-id/kbd\nmouse = /dev/input/by-id/mouse\n"
		"grab-toggle = scrolllock\ntablet = yes\n"
		"[audio]\ntype = pulseaudio\nmodel = ich6\n"
		"[gpu]\nmode = auto\ndevice = RTX\nmdev-type = nvidia-63\nrom = /roms/gpu.rom\nvirgl = auto\n"
		"[disk]\npath = /img/a.qcow2\nformat = qcow2\nbus = virtio\nmedia = disk\ncache = writeback\n"
		"readonly = no\n"
		"[network]\ntype = bridge\nbridge = br0\nmodel = e1000e\nmac = 52:54:00:aa:bb:cc\n");

	vfk_profile_free(p);
}

TEST(profile_relative_paths_from_profile_dir, "relative paths are taken from the profile's directory, normalised")
{
	struct vfk_profile *p = NULL;
	char err[512];

	REQUIRE(vfk_profile_parse("[disk]\npath = ../images/./a.qcow2\n[vm]\nkernel = vmlinuz\n",
				  "/srv/vms/profiles/a.ini", &p, err, sizeof(err)) == 0);
	CHECK_STREQ(vfk_profile_get(p, "disk", "path"), "../images/./a.qcow2");
	vfk_profile_free(p);
	/* the resolved path shows in the plan's outputs (test-emit) */
}

TEST(profile_tool_rejects_bad_profile_writes_nothing, "vfio-vm gen with a bad profile exits 2, names file:line:key and writes no output")
{
	char *ini = write_temp("bad.ini", "[vm]\nname = x\nmemroy = 4G\n");
	char *out = NULL, *errout = NULL, outfile[4200];
	struct stat st;
	int rc;

	REQUIRE(ini);
	snprintf(outfile, sizeof(outfile), "%s.xml", ini);
	{
		const char *argv[] = { "vfio-vm", "gen", ini, "--format", "libvirt", "-o", outfile, NULL };

		rc = run_tool(&out, &errout, argv);
	}
	CHECK_INT(rc, 2);
	CHECK_CONTAINS(errout, "bad.ini:3: [vm] memroy: unknown key");
	CHECK(stat(outfile, &st) < 0 && errno == ENOENT);
	free(out);
	free(errout);
	free(ini);
}

TEST(profile_tool_usage_errors, "vfio-vm without a command, with an unknown one or an unknown option exits 2")
{
	char *out = NULL, *errout = NULL;
	const char *a1[] = { "vfio-vm", NULL };
	const char *a2[] = { "vfio-vm", "frobnicate", NULL };
	const char *a3[] = { "vfio-vm", "plan", "x.ini", "--bogus", NULL };
	const char *a4[] = { "vfio-vm", "gen", "x.ini", NULL };
	const char *a5[] = { "vfio-vm", "--help", NULL };

	CHECK_INT(run_tool(&out, &errout, a1), 2);
	CHECK_CONTAINS(errout, "Try 'vfio-vm --help'");
	free(out);
	free(errout);
	CHECK_INT(run_tool(&out, &errout, a2), 2);
	CHECK_CONTAINS(errout, "unknown command 'frobnicate'");
	free(out);
	free(errout);
	CHECK_INT(run_tool(&out, &errout, a3), 2);
	CHECK_CONTAINS(errout, "Try 'vfio-vm --help'");
	free(out);
	free(errout);
	CHECK_INT(run_tool(&out, &errout, a4), 2);
	CHECK_CONTAINS(errout, "gen needs --format");
	free(out);
	free(errout);
	CHECK_INT(run_tool(&out, &errout, a5), 0);
	CHECK_CONTAINS(out, "plan");
	CHECK_CONTAINS(out, "gen");
	free(out);
	free(errout);
}

/* The keys of @section the parser knows, from its "unknown key" message. */
static char *parser_keys(const char *section)
{
	struct vfk_profile *p = NULL;
	char ini[128], err[2048] = "", *start, *end;

	snprintf(ini, sizeof(ini), "[%s]\nno-such-key = 1\n", section);
	if (vfk_profile_parse(ini, "k.ini", &p, err, sizeof(err)) != -EINVAL)
		return NULL;
	start = strstr(err, "]: ");
	end = strrchr(err, ')');
	if (!start || !end || end < start)
		return NULL;
	return strndup(start + 3, (size_t)(end - start - 3));
}

TEST(profile_doc_and_parser_agree, "vfiokit.ini(5) documents exactly the keys the parser accepts, section by section")
{
	char *doc = read_file(src_path("docs/vfiokit.ini.5.scd"));
	char section[32] = "", documented[2048] = "";
	char *line, *save = NULL;
	int nsections = 0;

	REQUIRE(doc);
	for (line = strtok_r(doc, "\n", &save);; line = strtok_r(NULL, "\n", &save)) {
		/* a new "# [section]" heading (or the end) closes the previous one */
		if (!line || (line[0] == '#' && line[1] == ' ')) {
			if (section[0]) {
				char *keys = parser_keys(section);

				nsections++;
				CHECK_STREQ(documented, keys ? keys : "(parser rejects the section)");
				free(keys);
			}
			section[0] = documented[0] = '\0';
			if (!line)
				break;
			if (sscanf(line, "# [%31[a-z]]", section) != 1)
				section[0] = '\0';
			continue;
		}
		if (section[0] && line[0] == '*') {
			char *p = line;

			while ((p = strchr(p, '*'))) {
				char key[64];
				int n = 0;

				if (sscanf(p, "*%63[a-z0-9-]* =%n", key, &n) == 1 && n > 0) {
					snprintf(documented + strlen(documented),
						 sizeof(documented) - strlen(documented), "%s%s",
						 documented[0] ? ", " : "", key);
					p += n;
				} else {
					p++;
				}
			}
		}
	}
	CHECK_INT(nsections, 8);
	free(doc);
}
