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
					     "configs/desktop-virtio.ini", "configs/demo.ini",
					     "configs/gpu-server.ini" };
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

TEST(profile_unknown_section, "an unknown section is an error at its header, with or without keys")
{
	expect_error("[vm]\nname = a\n\n[graphics]\ntype = spice\n",
		     "vm.ini:4: unknown section [graphics] (sections: vm, tuning");
	expect_error("[gpu.extra]\nmode = auto\n", "vm.ini:1: unknown section [gpu.extra] (only [disk.NAME]");
	/* inih calls no handler for a section without keys */
	expect_error("[vm]\nname = a\n[bogus]\n", "vm.ini:3: unknown section [bogus]");
	expect_error("[VM]\n", "vm.ini:1: unknown section [VM]");
	expect_error("[disk.]\npath = /a\n", "vm.ini:1: unknown section [disk.]");
	expect_error("[ vm ]\n", "vm.ini:1: unknown section [ vm ]");
}

TEST(profile_key_outside_section, "a key before any [section] is an error")
{
	expect_error("name = a\n", "vm.ini:1: name: outside any section");
}

TEST(profile_bad_values_name_the_key, "each value type rejects bad input with file, line and key")
{
	expect_error("[vm]\nmemory = lots\n", "vm.ini:2: [vm] memory: 'lots' is not a size");
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
	CHECK_CONTAINS(err, "--set vm.memory: [vm] memory: 'huge' is not a size");
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
		"serial = pty\ndrivers = /isos/virtio-win.iso\ninstalled = no\n"
		"[tuning]\ncpu-model = host-passthrough\npinning = yes\nhost-cores = 1\nhugepages = 2M\n"
		"iothreads = 2\nhyperv = no\nkvm-hidden = no\nvendor-id = vfiokit\n"
		"prealloc-threads = 4\npci-hole64 = 64G\n"
		"[display]\ntype = spice\nlooking-glass = no\nresolution = 1280x720\nlisten = ::1\n"
		"[input]\nkeyboard = /dev/input/by-id/kbd\nmouse = /dev/input/by-id/mouse\n"
		"grab-toggle = scrolllock\ntablet = yes\n"
		"[audio]\ntype = pulseaudio\nmodel = ich6\n"
		"[gpu]\nmode = auto\ndevice = RTX\nmdev-type = nvidia-63\nrom = /roms/gpu.rom\nvirgl = auto\n"
		"[disk]\npath = /img/a.qcow2\nformat = qcow2\nbus = virtio\nmedia = disk\ncache = writeback\n"
		"readonly = no\nsize = 64G\n"
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
	CHECK_INT(nsections, 11);	/* vm ... gpu, vfio, disk, network, hostdev, usb */
	free(doc);
}

/* ------------------------------------------------------------ what consumers carry */

struct bad_case {
	const char *ini;	/* the bad key is always on line 2 */
	const char *key;	/* "[section] key: " as the message must name it */
	const char *why;	/* a part of the explanation */
};

static void expect_bad_cases(const struct bad_case *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct vfk_profile *p = NULL;
		char err[1024] = "", want[256];
		int r = vfk_profile_parse(c[i].ini, "/etc/vfiokit/vm.ini", &p, err, sizeof(err));

		snprintf(want, sizeof(want), "/etc/vfiokit/vm.ini:2: %s: ", c[i].key);
		if (r != -EINVAL || !strstr(err, want) || !strstr(err, c[i].why) || strchr(err, '\n'))
			test_fail_(__FILE__, __LINE__, "%s: %d, \"%s\"; expected -EINVAL naming \"%s\" "
				   "and \"%s\"", c[i].ini, r, err, want, c[i].why);
		vfk_profile_free(p);
	}
}

TEST(profile_bad_value_per_key_refused_naming_key, "for every key, values its consumers (QEMU, "
     "libvirt's schema, the kernel) cannot carry are refused at load with file, line and key")
{
	static const struct bad_case bad[] = {
		{ "[vm]\nname = a/b\n", "[vm] name", "contains '/'" },
		{ "[vm]\nname = a\xef\xbf\xbe" "b\n", "[vm] name", "noncharacter (U+FFFE" },
		{ "[vm]\nname = 0123456789012345678901234567890123456789012345678901234567890123456789"
		  "012345678901234567890123456789x\n", "[vm] name", "longer than 100" },
		{ "[vm]\ndescription = a\xef\xbf\xbf\n", "[vm] description", "noncharacter (U+FFFF" },
		{ "[vm]\ndescription = \xc2\x9b" "31m\n", "[vm] description", "control characters" },
		{ "[vm]\nmemory = 16P\n", "[vm] memory", "not a size of at least 32 MiB" },
		{ "[vm]\nmemory = 17T\n", "[vm] memory", "at most 16 TiB" },
		{ "[vm]\nmemory = 31M\n", "[vm] memory", "at least 32 MiB" },
		{ "[vm]\nmemory = 1.5G\n", "[vm] memory", "not a size of at least 32 MiB" },
		{ "[vm]\nmemory = -1G\n", "[vm] memory", "not a size of at least 32 MiB" },
		{ "[vm]\nvcpus = 1025\n", "[vm] vcpus", "from 1 to 1024" },
		{ "[vm]\nvcpus = 0\n", "[vm] vcpus", "from 1 to 1024" },
		{ "[vm]\nvcpus = +4\n", "[vm] vcpus", "neither auto nor" },
		{ "[vm]\nos = win\n", "[vm] os", "not one of: linux, windows, other" },
		{ "[vm]\nfirmware = efi\n", "[vm] firmware", "not one of" },
		{ "[vm]\ntpm = 2\n", "[vm] tpm", "not auto, yes or no" },
		{ "[vm]\naccel = hvf\n", "[vm] accel", "not one of" },
		{ "[vm]\nemulator = /\n", "[vm] emulator", "root directory" },
		{ "[vm]\nkernel = ../../../../../../..\n", "[vm] kernel", "root directory" },
		{ "[vm]\ninitrd = /boot/i\x7fnitrd\n", "[vm] initrd", "control characters" },
		{ "[vm]\ncmdline = a\tb\n", "[vm] cmdline", "control characters" },
		{ "[vm]\nserial = tty\n", "[vm] serial", "not one of" },
		{ "[tuning]\ncpu-model = host\n", "[tuning] cpu-model", "not one of" },
		{ "[tuning]\npinning = auto\n", "[tuning] pinning", "not yes or no" },
		{ "[tuning]\nhost-cores = 65\n", "[tuning] host-cores", "from 0 to 64" },
		{ "[tuning]\nhugepages = 4K\n", "[tuning] hugepages", "not one of" },
		{ "[tuning]\niothreads = 17\n", "[tuning] iothreads", "from 0 to 16" },
		{ "[tuning]\nhyperv = on-ish\n", "[tuning] hyperv", "not auto, yes or no" },
		{ "[tuning]\nkvm-hidden = auto\n", "[tuning] kvm-hidden", "not yes or no" },
		{ "[tuning]\nvendor-id = ab,c\n", "[tuning] vendor-id", "without spaces or commas" },
		{ "[tuning]\nvendor-id = ,\n", "[tuning] vendor-id", "without spaces or commas" },
		{ "[tuning]\nvendor-id = ab c\n", "[tuning] vendor-id", "without spaces" },
		{ "[tuning]\nvendor-id = caf\xc3\xa9\n", "[tuning] vendor-id", "printable ASCII" },
		{ "[tuning]\nvendor-id = 0123456789abc\n", "[tuning] vendor-id", "longer than 12" },
		{ "[display]\ntype = rdp\n", "[display] type", "not one of" },
		{ "[display]\nlooking-glass = maybe\n", "[display] looking-glass", "not yes or no" },
		{ "[display]\nresolution = 319x200\n", "[display] resolution", "WIDTHxHEIGHT" },
		{ "[display]\nresolution = 16385x200\n", "[display] resolution", "WIDTHxHEIGHT" },
		{ "[display]\nresolution = 1920x\n", "[display] resolution", "WIDTHxHEIGHT" },
		{ "[display]\nlisten = 999.1.1.1\n", "[display] listen", "not an IPv4 or IPv6" },
		{ "[display]\nlisten = 1.2.3\n", "[display] listen", "not an IPv4 or IPv6" },
		{ "[display]\nlisten = 01.2.3.4\n", "[display] listen", "not an IPv4 or IPv6" },
		{ "[display]\nlisten = localhost\n", "[display] listen", "not an IPv4 or IPv6" },
		{ "[display]\nlisten = [::1]\n", "[display] listen", "not an IPv4 or IPv6" },
		{ "[display]\nlisten = fe80::1%eth0\n", "[display] listen", "not an IPv4 or IPv6" },
		{ "[display]\nlisten = 1::2::3\n", "[display] listen", "not an IPv4 or IPv6" },
		{ "[display]\nlisten = 127.0.0.1,port=1\n", "[display] listen", "not an IPv4 or IPv6" },
		{ "[input]\nkeyboard = /\n", "[input] keyboard", "root directory" },
		{ "[input]\nmouse = /dev/input/\xc0\xae\n", "[input] mouse", "invalid UTF-8" },
		{ "[input]\ngrab-toggle = ctrl-alt\n", "[input] grab-toggle", "not one of" },
		{ "[input]\ntablet = 1x\n", "[input] tablet", "not auto, yes or no" },
		{ "[audio]\ntype = alsa\n", "[audio] type", "not one of" },
		{ "[audio]\nmodel = ac97\n", "[audio] model", "not one of" },
		{ "[gpu]\nmode = vgpu\n", "[gpu] mode", "not one of" },
		{ "[gpu]\ndevice = 01:00\n", "[gpu] device", "neither a PCI address" },
		{ "[gpu]\ndevice = 0000:01:20.0\n", "[gpu] device", "neither a PCI address" },
		{ "[gpu]\ndevice = 0000:01:00.8\n", "[gpu] device", "neither a PCI address" },
		{ "[gpu]\ndevice = 10de:268\n", "[gpu] device", "vendor:device ids" },
		{ "[gpu]\nmdev-type = nvidia/558\n", "[gpu] mdev-type", "contains '/'" },
		{ "[gpu]\nrom = /roms/\xef\xb7\x90.rom\n", "[gpu] rom", "noncharacter (U+FDD0" },
		{ "[gpu]\nvirgl = please\n", "[gpu] virgl", "not auto, yes or no" },
		{ "[disk]\npath = /\n", "[disk] path", "root directory" },
		{ "[disk]\nformat = vmdk\n", "[disk] format", "not one of" },
		{ "[disk]\nbus = ide\n", "[disk] bus", "not one of" },
		{ "[disk]\nmedia = floppy\n", "[disk] media", "not one of" },
		{ "[disk]\ncache = default\n", "[disk] cache", "not one of" },
		{ "[disk]\nreadonly = ro\n", "[disk] readonly", "not yes or no" },
		{ "[network]\ntype = tap\n", "[network] type", "not one of" },
		{ "[network]\nbridge = br0:1\n", "[network] bridge", "not a network interface name" },
		{ "[network]\nbridge = ..\n", "[network] bridge", "not a network interface name" },
		{ "[network]\nbridge = .\n", "[network] bridge", "not a network interface name" },
		{ "[network]\nbridge = a123456789abcdef\n", "[network] bridge", "at most 15" },
		{ "[network]\nnetwork = a/b\n", "[network] network", "contains '/'" },
		{ "[network]\nmodel = ne2k\n", "[network] model", "not one of" },
		{ "[network]\nmac = 00:00:00:00:00:00\n", "[network] mac", "all zeros" },
		{ "[network]\nmac = ff:ff:ff:ff:ff:ff\n", "[network] mac", "multicast" },
		{ "[network]\nmac = 52:54:00:12:34:5\n", "[network] mac", "not a MAC address" },
		{ "[network]\nmac = 52-54-00-12-34-56\n", "[network] mac", "not a MAC address" },
		{ "[disk.a]\npath = /x/\xf0\x9f\xbf\xbf\n", "[disk.a] path", "noncharacter (U+1FFFF" },
		{ "[hostdev]\ndevice = 0000:05:00\n", "[hostdev] device", "neither a PCI address" },
		{ "[hostdev.a]\ndevice = 1,2\n", "[hostdev.a] device", "one device per section" },
		{ "[hostdev]\nrom = /\n", "[hostdev] rom", "root directory" },
		{ "[usb]\ndevice = 046d-c52b\n", "[usb] device", "not USB vendor:product ids" },
		{ "[usb]\nbus = 1000\n", "[usb] bus", "from 1 to 999" },
		{ "[usb]\nport = 1.\n", "[usb] port", "not a USB port path" },
	};

	expect_bad_cases(bad, sizeof(bad) / sizeof(bad[0]));
}

TEST(profile_edge_values_accepted, "values at the edges of what consumers carry are accepted: a "
     "12-character vendor-id, IPv6 listen, 32M and 16T, 1024 vCPUs, 15-character bridges")
{
	static const char *const good[] = {
		"[tuning]\nvendor-id = 0123456789ab\n",
		"[tuning]\nvendor-id = A!\"#$%&'()*=\n",	/* 12 characters */
		"[tuning]\nvendor-id = a=b;c\n",		/* ';' after no blank: no comment */
		"[display]\nlisten = ::1\n",
		"[display]\nlisten = ::\n",
		"[display]\nlisten = 0.0.0.0\n",
		"[display]\nlisten = 255.255.255.255\n",
		"[display]\nlisten = ::ffff:192.168.1.2\n",
		"[display]\nlisten = FE80::ABCD\n",
		"[display]\nlisten = 1:2::3:1.2.3.4\n",		/* stored as 1:2::3:102:304 */
		"[display]\nresolution = 320x200\n",
		"[display]\nresolution = 16384X16384\n",
		"[vm]\nmemory = 32M\n",
		"[vm]\nmemory = 16T\n",
		"[vm]\nmemory = 16 GiB\n",
		"[vm]\nmemory = 4gb\n",
		"[vm]\nvcpus = 1024\n",
		"[vm]\nvcpus = AUTO\n",
		"[vm]\nname = 0123456789012345678901234567890123456789012345678901234567890123456789"
		"012345678901234567890123456789\n",		/* 100 */
		"[vm]\nname = caf\xc3\xa9, \"the\" <best> & 'co'\n",
		"[vm]\ndescription = \xef\xbf\xbd \xef\xb7\x8f \xef\xb7\xb0 \xf4\x8f\xbf\xbd \xc2\xa0\n",
		"[vm]\nkernel = /boot/a b,c=d\n",
		"[gpu]\ndevice = 01:00.1\n",
		"[gpu]\ndevice = 0000:c1:1f.7\n",
		"[gpu]\ndevice = 10DE:2684\n",
		"[gpu]\ndevice = RTX 4090\n",
		"[gpu]\ndevice = mbochs\n",
		"[gpu]\nmdev-type = GRID T4-2Q\n",
		"[network]\ntype = bridge\nbridge = a123456789abcde\n",
		"[network]\ntype = bridge\nbridge = ...\n",
		"[network]\nmac = 02:00:00:00:00:00\n",
		"[network]\ntype = network\nnetwork = my net\n",
		"[tuning]\nhost-cores = 0\niothreads = 16\n",
		"[disk.abcdefghijklmnopqrstuvwxyz012345]\npath = /a\n",	/* a NAME of 32 */
		"[vm] ; the VM\nname = a ; a comment\n",
		"\xef\xbb\xbf[vm]\nname = bom\n",
		"[vm]\r\nname = crlf\r\n",
		"[vm]\n   \n\t\nname = blank-lines-with-blanks\n",
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct vfk_profile *p = NULL;
		char err[1024] = "";

		if (vfk_profile_parse(good[i], "/etc/vfiokit/vm.ini", &p, err, sizeof(err)) < 0)
			test_fail_(__FILE__, __LINE__, "refused: %s", err);
		vfk_profile_free(p);
	}
	{
		struct vfk_profile *p = parse_ok("[vm] ; c\nname = a ; c\n[tuning]\nvendor-id = a=b;c\n");

		REQUIRE(p);
		CHECK_STREQ(vfk_profile_get_name(p), "a");
		CHECK_STREQ(vfk_profile_get(p, "tuning", "vendor-id"), "a=b;c");
		vfk_profile_free(p);
	}
}

TEST(profile_noncharacters_and_c1_controls_refused, "every Unicode noncharacter (not XML text) and "
     "every C1 control is refused; their neighbours pass")
{
	static const unsigned int bad[] = { 0x80, 0x85, 0x9b, 0x9f, 0xfdd0, 0xfdef, 0xfffe, 0xffff,
					    0x1fffe, 0x2ffff, 0x10fffe, 0x10ffff };
	static const unsigned int good[] = { 0xa0, 0xfdcf, 0xfdf0, 0xfffd, 0x1fffd, 0x10fffd,
					     0x10000 };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]) + sizeof(good) / sizeof(good[0]); i++) {
		bool is_bad = i < sizeof(bad) / sizeof(bad[0]);
		unsigned int c = is_bad ? bad[i] : good[i - sizeof(bad) / sizeof(bad[0])];
		char ini[64], u[5] = "";
		struct vfk_profile *p = NULL;
		char err[512] = "";
		int r;

		if (c < 0x800)
			snprintf(u, sizeof(u), "%c%c", 0xc0 | c >> 6, 0x80 | (c & 0x3f));
		else if (c < 0x10000)
			snprintf(u, sizeof(u), "%c%c%c", 0xe0 | c >> 12, 0x80 | (c >> 6 & 0x3f),
				 0x80 | (c & 0x3f));
		else
			snprintf(u, sizeof(u), "%c%c%c%c", 0xf0 | c >> 18, 0x80 | (c >> 12 & 0x3f),
				 0x80 | (c >> 6 & 0x3f), 0x80 | (c & 0x3f));
		snprintf(ini, sizeof(ini), "[vm]\nname = a%sb\n", u);
		r = vfk_profile_parse(ini, "/etc/vfiokit/vm.ini", &p, err, sizeof(err));
		if (is_bad && (r != -EINVAL || !strstr(err, "vm.ini:2: [vm] name: ")))
			test_fail_(__FILE__, __LINE__, "U+%04X accepted (%d, %s)", c, r, err);
		if (!is_bad && r != 0)
			test_fail_(__FILE__, __LINE__, "U+%04X refused: %s", c, err);
		vfk_profile_free(p);
	}
}

TEST(profile_indented_lines_refused, "an indented line is an error whatever it holds: a header, a "
     "key after a header, a comment, a continuation")
{
	expect_error("  [vm]\nname = a\n", "vm.ini:1: indented line");
	expect_error("[vm]\nname = a\n\t[tuning]\npinning = no\n",
		     "vm.ini:3: [vm] name: indented line continues the value of 'name'");
	expect_error("[vm]\n  name = a\n", "vm.ini:2: [vm] name: indented line: keys start in the first column");
	expect_error("[vm]\nname = a\n  # a comment\n", "vm.ini:3: indented line");
	expect_error("[vm]\n\tname = a\n", "vm.ini:2: [vm] name: indented line");
	expect_error("[vm]\n\f[gpu]\n", "vm.ini:2: indented line");
}

TEST(profile_syntax_beyond_inih_refused, "'key: value', text after a [section], a key without a "
     "name and a key before any section are errors inih would let through")
{
	expect_error("[vm]\nname: a\n", "vm.ini:2: [vm] name: expected 'name = value' (':' is no separator)");
	expect_error("[vm]\ncmdline: console=ttyS0\n", "vm.ini:2: [vm] cmdline: expected");
	expect_error("[vm] junk\nname = a\n", "vm.ini:1: syntax error: text after [vm]");
	expect_error("[vm]]\n", "vm.ini:1: syntax error: text after [vm]");
	expect_error("[vm];c\n", "vm.ini:1: syntax error: text after [vm]");
	expect_error("[vm] # c\n", "vm.ini:1: syntax error: text after [vm]");
	expect_error("[vm]\n= a\n", "vm.ini:2: syntax error: no key before '='");
	expect_error("memory = 4G\n[vm]\n", "vm.ini:1: memory: outside any section");
	expect_error("[disk.abcdefghijklmnopqrstuvwxyz0123456]\npath = /a\n",
		     "vm.ini:1: unknown section [disk.abcdefghijklmnopqrstuvwxyz0123456]");
}

TEST(profile_file_name_must_be_text, "a profile whose file name XML cannot carry (the libvirt XML "
     "records the path, the VM's name may come from it) is refused naming the problem")
{
	struct vfk_profile *p = NULL;
	char err[512] = "";

	CHECK_INT(vfk_profile_parse("[vm]\nmemory = 1G\n", "/x/a\x01.ini", &p, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "/x/a?.ini: control characters or invalid UTF-8 in the file name");
	CHECK_INT(vfk_profile_parse("[vm]\nmemory = 1G\n", "/x/\xef\xbf\xbe.ini", &p, err, sizeof(err)),
		  -EINVAL);
	CHECK_CONTAINS(err, "a Unicode noncharacter (U+FFFE, which XML cannot carry) in the file name");
	CHECK(p == NULL);
	CHECK_INT(vfk_profile_parse("[vm]\nmemory = 1G\n", "/x/caf\xc3\xa9.ini", &p, err, sizeof(err)), 0);
	CHECK_STREQ(vfk_profile_get_name(p), "caf\xc3\xa9");
	vfk_profile_free(p);
}

TEST(profile_error_echoes_only_printable_names, "an unknown key or section is echoed with '?' for "
     "bytes that are not printable ASCII: no terminal escapes on stderr")
{
	expect_error("[vm]\n\x1b]0;pwned\x07 = 1\n", "vm.ini:2: [vm] ?]0;pwned?: unknown key");
	expect_error("[\x1b[2J]\n", "vm.ini:1: unknown section [?[2J]");
}

TEST(profile_resolution_long_value_not_cut, "a resolution whose tail a fixed buffer would cut off "
     "is refused, not read as its first part")
{
	expect_error("[display]\nresolution = 1920x000000000000000000000000000000000000000000000000"
		     "0001080junk\n", "vm.ini:2: [display] resolution:");
	expect_error("[display]\nresolution = 1920x1080 1\n", "vm.ini:2: [display] resolution:");
}

TEST(profile_hugepages_need_whole_pages, "hugepages = 1G or 2M with a memory size that is not a "
     "whole number of pages is an error at hugepages")
{
	struct vfk_profile *p;

	expect_error("[vm]\nmemory = 1500M\n[tuning]\nhugepages = 1G\n",
		     "vm.ini:4: [tuning] hugepages: 1G pages need a memory size in whole GiB (memory is 1500 MiB)");
	expect_error("[vm]\nmemory = 512M\n[tuning]\nhugepages = 1G\n", "[tuning] hugepages:");
	expect_error("[vm]\nmemory = 4097M\n[tuning]\nhugepages = 2M\n", "vm.ini:4: [tuning] hugepages: 2M pages");
	p = parse_ok("[vm]\nmemory = 4098M\n[tuning]\nhugepages = 2M\n");
	vfk_profile_free(p);
	p = parse_ok("[vm]\nmemory = 1500M\n[tuning]\nhugepages = auto\n");
	vfk_profile_free(p);
}

TEST(profile_set_checks_like_the_file, "vfk_profile_set refuses what a file cannot say (blanks "
     "around a value) and every value check of the file")
{
	struct vfk_profile *p = parse_ok("[vm]\nname = a\n");
	char err[512] = "";

	REQUIRE(p);
	CHECK_INT(vfk_profile_set(p, "vm.name", " b", err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "--set vm.name: [vm] name: blanks around the value");
	CHECK_INT(vfk_profile_set(p, "tuning.vendor-id", "a,b", err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "--set tuning.vendor-id: [tuning] vendor-id:");
	CHECK_INT(vfk_profile_set(p, "display.listen", "999.1.1.1", err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "[display] listen: '999.1.1.1' is not an IPv4 or IPv6 address");
	CHECK_INT(vfk_profile_set(p, "vm.description", "a\nb", err, sizeof(err)), -EINVAL);
	CHECK_INT(vfk_profile_set(p, "tuning.hugepages", "1G", err, sizeof(err)), 0);
	CHECK_INT(vfk_profile_set(p, "vm.memory", "1500M", err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "[tuning] hugepages: 1G pages need");
	CHECK_STREQ(vfk_profile_get_name(p), "a");
	vfk_profile_free(p);
}

TEST(profile_accepted_edges_make_valid_outputs, "a profile of accepted edge values (12-character "
     "vendor-id, IPv6 listen in an odd spelling, non-ASCII name) gives libvirt XML its schema "
     "takes and QEMU options that carry each value verbatim")
{
	struct vmenv e;
	char *xml = NULL, **argv = NULL;

	REQUIRE(vm_plan(&e, "ready", "[vm]\nname = caf\xc3\xa9 <&> \"x\", 'y'\nos = windows\n"
			"description = \xef\xbf\xbd\xef\xb7\x8f\xf4\x8f\xbf\xbd\n"
			"[tuning]\nkvm-hidden = yes\nvendor-id = A!\"#$%&'()*=\n"
			"[display]\ntype = spice\nlisten = 1:2::3:1.2.3.4\n"
			"[network]\nmac = 02:00:00:00:00:01\n") == 0);
	xml = vm_xml(&e);
	argv = vm_argv(&e);
	REQUIRE(xml && argv);
	CHECK(xml_validates(xml, "accepted edge values"));
	CHECK_CONTAINS(xml, "value=\"A!&quot;#$%&amp;'()*=\"");
	CHECK_CONTAINS(xml, "address=\"1:2::3:102:304\"");
	CHECK(argv_find(argv, "-cpu", ",hv-vendor-id=A!\"#$%&'()*=,") >= 0);
	CHECK(argv_find(argv, "-spice", "addr=1:2::3:102:304,") >= 0);
	CHECK(argv_find(argv, "-name", "guest=caf\xc3\xa9 <&> \"x\",, 'y',") >= 0);
	vfk_argv_free(argv);
	free(xml);
	vm_close(&e);
}
