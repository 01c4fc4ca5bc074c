/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Outputs of a plan: libvirt XML (validated against libvirt's schema with
 * virt-xml-validate, defined on libvirt's test driver, parsed back with
 * libxml2), the QEMU argv and its shell quoting, hostile strings in both.
 */
#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "vmtest.h"

/* ------------------------------------------------------------ XML */

struct shipped {
	const char *config, *host;
};
static const struct shipped shipped[] = {
	{ "configs/gaming-passthrough.ini", "ready" },
	{ "configs/render-vgpu.ini", "intel-gvtg" },
	{ "configs/desktop-virtio.ini", "single-gpu" },
	{ "configs/demo.ini", "testbed-l2" },
	{ "configs/gpu-server.ini", "hgx-h100" },
};

static int plan_file(struct vmenv *e, const char *config, const char *host)
{
	char *root = fixture_host_shared(host);
	int r;

	memset(e, 0, sizeof(*e));
	r = vfk_profile_load(src_path(config), &e->prof, e->err, sizeof(e->err));
	if (r < 0 || !root) {
		free(root);
		return r < 0 ? r : -ENOENT;
	}
	e->root = root;
	if ((r = vfk_ctx_new(root, &e->ctx)) < 0 || (r = vfk_host_scan(e->ctx, &e->host)) < 0)
		return r;
	return vfk_plan_new(e->host, e->prof, &e->plan, e->err, sizeof(e->err));
}

TEST(emit_xml_shipped_profiles_validate, "every shipped profile gives schema-valid libvirt XML on its fixture host")
{
	size_t i;

	for (i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++) {
		struct vmenv e;
		char *xml;

		if (plan_file(&e, shipped[i].config, shipped[i].host) < 0) {
			test_fail_(__FILE__, __LINE__, "%s on %s: %s", shipped[i].config, shipped[i].host, e.err);
			vm_close(&e);
			continue;
		}
		xml = vm_xml(&e);
		if (xml)
			xml_validates(xml, shipped[i].config);
		free(xml);
		vm_close(&e);
	}
}

TEST(emit_xml_gaming_profile_elements, "gaming profile: parsed back, the XML holds the GPU, pinning, huge pages, LG, Hyper-V, TPM")
{
	struct vmenv e;
	xmlDocPtr doc;
	char *xml;

	REQUIRE(plan_file(&e, "configs/gaming-passthrough.ini", "ready") == 0);
	xml = vm_xml(&e);
	REQUIRE(xml);
	doc = xparse(xml);
	REQUIRE(doc);
	CHECK_XSTR(doc, "/domain/name", "win11-gaming");
	CHECK_XSTR(doc, "/domain/@type", "kvm");
	CHECK_XSTR(doc, "/domain/memory", "16384");
	CHECK_XSTR(doc, "/domain/vcpu", "18");
	CHECK_INT(xcount(doc, "/domain/cputune/vcpupin"), 18);
	CHECK_XSTR(doc, "/domain/cputune/emulatorpin/@cpuset", "0,10");
	CHECK_XSTR(doc, "/domain/cpu/@mode", "host-passthrough");
	CHECK_XSTR(doc, "/domain/cpu/topology/@cores", "9");
	CHECK_XSTR(doc, "/domain/cpu/topology/@threads", "2");
	CHECK_XSTR(doc, "/domain/os/loader/@secure", "yes");
	CHECK_XSTR(doc, "/domain/os/nvram/@template", "/usr/share/OVMF/OVMF_VARS_4M.ms.fd");
	CHECK_INT(xcount(doc, "/domain/features/hyperv/*"), 10);
	CHECK_INT(xcount(doc, "/domain/devices/tpm[@model='tpm-crb']"), 1);
	CHECK_XSTR(doc, "/domain/devices/shmem[@name='looking-glass']/size", "64");
	CHECK_INT(xcount(doc, "/domain/devices/hostdev[@type='pci'][@managed='no']"), 2);
	CHECK_INT(xcount(doc, "/domain/devices/hostdev[@managed='yes']"), 0);
	CHECK_INT(xcount(doc, "/domain/devices/disk[@device='cdrom']/target[@bus='sata']"), 1);
	CHECK_XSTR(doc, "/domain/devices/interface[@type='network']/source/@network", "default");
	CHECK_XSTR(doc, "/domain/devices/memballoon/@model", "none");
	CHECK_XSTR(doc, "/domain/devices/audio/@type", "spice");
	xmlFreeDoc(doc);
	free(xml);
	vm_close(&e);
}

TEST(emit_xml_gpu_one_multifunction_device, "the GPU's functions form one multifunction device in slot 0 of one root port")
{
	struct vmenv e;
	xmlDocPtr doc;
	char *xml;

	REQUIRE(vm_plan(&e, "nvidia-4fn", "[gpu]\nmode = passthrough\ndevice = RTX 2080 Ti\nrom = /roms/tu102.rom\n") == 0);
	xml = vm_xml(&e);
	REQUIRE(xml);
	xml_validates(xml, "nvidia-4fn");
	doc = xparse(xml);
	REQUIRE(doc);
	CHECK_INT(xcount(doc, "/domain/devices/controller[@type='pci'][@index='1'][@model='pcie-root-port']"), 1);
	CHECK_INT(xcount(doc, "/domain/devices/hostdev/address[@type='pci'][@bus='0x01'][@slot='0x00']"), 4);
	CHECK_INT(xcount(doc, "/domain/devices/hostdev/address[@function='0x0'][@multifunction='on']"), 1);
	CHECK_INT(xcount(doc, "/domain/devices/hostdev/address[@function='0x3']"), 1);
	CHECK_INT(xcount(doc, "/domain/devices/hostdev/rom"), 1);
	CHECK_XSTR(doc, "/domain/devices/hostdev[1]/rom/@file", "/roms/tu102.rom");
	CHECK_XSTR(doc, "/domain/devices/hostdev[1]/source/address/@bus", "0x07");
	CHECK_XSTR(doc, "/domain/devices/hostdev[4]/source/address/@function", "0x3");
	xmlFreeDoc(doc);
	free(xml);
	vm_close(&e);
}

/* Many generated variants, each validated against the schema. */
TEST(emit_xml_variants_validate, "profiles across hosts, modes, firmware, buses, networks, displays all validate")
{
	static const struct { const char *host, *ini; } v[] = {
		{ "desktop-dgpu-igpu", "[vm]\nname = a\n" },
		{ "desktop-dgpu-igpu", "[vm]\nos = windows\nfirmware = uefi-secure\n[display]\nlooking-glass = yes\n" },
		{ "desktop-dgpu-igpu", "[vm]\nfirmware = bios\n[gpu]\nmode = emulated\n[display]\ntype = vnc\nlisten = 0.0.0.0\n" },
		{ "desktop-dgpu-igpu", "[gpu]\nmode = none\n[display]\ntype = none\n[vm]\nserial = stdio\n" },
		{ "single-gpu", "[gpu]\nmode = virtio\n[display]\ntype = spice\n[audio]\ntype = spice\n" },
		{ "single-gpu", "[gpu]\nmode = virtio\n[display]\ntype = vnc\n" },
		{ "single-gpu", "[gpu]\nmode = virtio\n[display]\ntype = none\n" },
		{ "single-gpu", "[gpu]\nmode = virtio\n[display]\ntype = sdl\n[audio]\ntype = pulseaudio\nmodel = usb\n" },
		{ "single-gpu", "[gpu]\nmode = virtio\nvirgl = no\n[audio]\ntype = pulseaudio\nmodel = ich6\n" },
		{ "intel-gvtg", "[gpu]\nmode = mdev\n[vm]\nos = windows\n" },
		{ "intel-gvtg", "[gpu]\nmode = mdev\n[display]\ntype = none\n" },
		{ "nvidia-vgpu17-vf", "[gpu]\nmode = mdev\n" },
		{ "threadripper-numa", "[vm]\nmemory = 8G\nvcpus = 8\n" },
		{ "threadripper-numa", "[vm]\nmemory = 16G\nvcpus = 20\n[tuning]\niothreads = 4\n" },
		{ "ryzen-2ccd", "[vm]\nmemory = 16G\n[tuning]\nhost-cores = 2\n" },
		{ "ryzen-2ccd", "[tuning]\npinning = no\ncpu-model = qemu64\n" },
		{ "pvm", "[vm]\nos = windows\n" },
		{ "ready", "[vm]\nos = windows\n[tuning]\nkvm-hidden = yes\nvendor-id = abcdef\n" },
		{ "ready", "[disk]\npath = /img/a.qcow2\n[disk.b]\npath = /img/b.raw\nbus = sata\n"
			   "[disk.c]\npath = /img/c.img\nbus = scsi\ncache = writeback\n[disk.d]\npath = /img/d.iso\n"
			   "[disk.e]\npath = /img/e.raw\nbus = usb\nreadonly = yes\n" },
		{ "ready", "[network]\ntype = bridge\nbridge = br0\nmodel = e1000e\n[network.b]\ntype = network\n"
			   "network = lan\nmac = 52:54:00:00:00:01\n[network.c]\ntype = user\nmodel = rtl8139\n" },
		{ "ready", "[network]\ntype = none\n[tuning]\niothreads = 0\n" },
		{ "ready", "[vm]\nkernel = /boot/vmlinuz\ninitrd = /boot/initrd.img\ncmdline = console=ttyS0 root=/dev/vda1\n"
			   "[disk]\npath = /img/root.raw\n" },
		{ "ready", "[input]\nkeyboard = /dev/input/by-id/kbd-event-kbd\nmouse = /dev/input/by-id/mouse-event-mouse\n"
			   "grab-toggle = scrolllock\ntablet = no\n[display]\nlooking-glass = yes\n" },
		{ "testbed-l2", "[gpu]\ndevice = 1234:1111\n[vm]\nfirmware = bios\nmemory = 256M\n" },
		{ "sriov-server", "[gpu]\ndevice = 0000:01:02.1\n" },
		{ "laptop-0302", "[vm]\nname = laptop\n" },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct vmenv e;
		char *xml, what[64];

		snprintf(what, sizeof(what), "variant %zu (%s)", i, v[i].host);
		if (vm_plan(&e, v[i].host, v[i].ini) < 0) {
			test_fail_(__FILE__, __LINE__, "%s: %s", what, e.err);
			vm_close(&e);
			continue;
		}
		xml = vm_xml(&e);
		if (xml)
			xml_validates(xml, what);
		free(xml);
		vm_close(&e);
	}
}

TEST(emit_xml_libvirt_test_driver_defines, "libvirt itself accepts the XML: virsh define on the test driver")
{
	struct vmenv e;
	char *xml, *file, *out = NULL;
	int rc;

	REQUIRE_PROGRAM("/usr/bin/virsh", "libvirt-clients");
	REQUIRE(plan_file(&e, "configs/gaming-passthrough.ini", "ready") == 0);
	xml = vm_xml(&e);
	REQUIRE(xml);
	file = write_temp("gaming.xml", xml);
	REQUIRE(file);
	{
		const char *argv[] = { "/usr/bin/virsh", "-q", "-c", "test:///default", "define", file, NULL };

		rc = run_prog(&out, argv);
	}
	CHECK_INT(rc, 0);
	free(out);
	free(file);
	free(xml);
	vm_close(&e);
}

static const char hostile_ini[] =
	"[vm]\n"
	"name = my \"evil\" <vm> & 'co', x\n"
	"description = </description><script>alert(1)</script> & more\n"
	"kernel = /boot/vm linuz's,1\n"
	"cmdline = console=ttyS0 init=\"/bin/sh -c 'echo <&>'\"\n"
	"[disk]\n"
	"path = /images/a dir/it's <a>,b&c.qcow2\n";

TEST(emit_xml_hostile_strings_escaped, "quotes, <, &, spaces and commas in names and paths come back verbatim from the XML")
{
	struct vmenv e;
	xmlDocPtr doc;
	char *xml;

	REQUIRE(vm_plan(&e, "ready", hostile_ini) == 0);
	xml = vm_xml(&e);
	REQUIRE(xml);
	CHECK(!strstr(xml, "<script>"));
	xml_validates(xml, "hostile");
	doc = xparse(xml);
	REQUIRE(doc);
	CHECK_XSTR(doc, "/domain/name", "my \"evil\" <vm> & 'co', x");
	CHECK_XSTR(doc, "/domain/description", "</description><script>alert(1)</script> & more");
	CHECK_XSTR(doc, "/domain/os/kernel", "/boot/vm linuz's,1");
	CHECK_XSTR(doc, "/domain/os/cmdline", "console=ttyS0 init=\"/bin/sh -c 'echo <&>'\"");
	CHECK_XSTR(doc, "/domain/devices/disk/source/@file", "/images/a dir/it's <a>,b&c.qcow2");
	CHECK_INT(xcount(doc, "/domain/script"), 0);
	xmlFreeDoc(doc);
	free(xml);
	vm_close(&e);
}

/* ------------------------------------------------------------ QEMU */

TEST(emit_qemu_argv_matches_xml, "the QEMU argv holds the same VM: GPU functions, vCPUs, memory, disks, NICs")
{
	struct vmenv e;
	char **argv;

	REQUIRE(vm_plan(&e, "nvidia-4fn", "[vm]\nmemory = 8G\nvcpus = 8\n[gpu]\nmode = passthrough\ndevice = 07:00.0\n"
				      "[disk]\npath = /img/a.qcow2\n[network]\ntype = user\n") == 0);
	argv = vm_argv(&e);
	REQUIRE(argv);
	CHECK_STREQ(argv[0], "/usr/bin/qemu-system-x86_64");
	CHECK(argv_find(argv, "-device", "vfio-pci,host=0000:07:00.0,id=hostdev0,bus=rp1,addr=0x0.0,multifunction=on") >= 0);
	CHECK(argv_find(argv, "-device", "vfio-pci,host=0000:07:00.3,id=hostdev3,bus=rp1,addr=0x0.3") >= 0);
	CHECK_INT(argv_count(argv, "-device", "vfio-pci,"), 4);
	CHECK(argv_find(argv, "-smp", "8,sockets=1,dies=1,cores=4,threads=2") >= 0);
	CHECK(argv_find(argv, "-m", "8192M") >= 0);
	CHECK(argv_find(argv, "-cpu", "host,migratable=off") >= 0);
	CHECK(argv_find(argv, "-cpu", "topoext=on") >= 0);
	CHECK(argv_find(argv, "-drive", "file=/img/a.qcow2,if=none,id=drive-vda,format=qcow2,cache=none,aio=native") >= 0);
	CHECK(argv_find(argv, "-device", "virtio-blk-pci,drive=drive-vda,id=vda") >= 0);
	CHECK_INT(argv_count(argv, "-netdev", "user,"), 1);
	CHECK(argv_find(argv, "-machine", "q35,accel=kvm") >= 0);
	vfk_argv_free(argv);
	vm_close(&e);
}

TEST(emit_qemu_sandbox_unless_a_bridge_helper_runs, "QEMU runs under -sandbox on with obsolete, "
     "elevateprivileges, spawn and resourcecontrol denied; an SDL window may spawn; a VM on a "
     "bridge (qemu-bridge-helper is setuid) has no -sandbox and the plan says why")
{
	static const struct { const char *ini; const char *want; } c[] = {
		{ "[network]\ntype = user\n",
		  "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny" },
		{ "[display]\ntype = sdl\n",
		  "on,obsolete=deny,elevateprivileges=deny,spawn=allow,resourcecontrol=deny" },
		{ "[network]\ntype = bridge\nbridge = br0\n", NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct vmenv e;
		char **argv;

		REQUIRE(vm_plan(&e, "ready", c[i].ini) == 0);
		argv = vm_argv(&e);
		REQUIRE(argv);
		if (c[i].want) {
			CHECK(argv_find(argv, "-sandbox", c[i].want) >= 0);
		} else {
			CHECK_INT(argv_count(argv, "-sandbox", ""), 0);
			CHECK(vm_note(&e, "runs without -sandbox: joining bridge br0 takes "
					    "qemu-bridge-helper, which is setuid"));
		}
		vfk_argv_free(argv);
		vm_close(&e);
	}
}

TEST(emit_qemu_values_escaped, "commas in QEMU option values are doubled; -append and -kernel stay plain strings")
{
	struct vmenv e;
	char **argv;

	REQUIRE(vm_plan(&e, "ready", hostile_ini) == 0);
	argv = vm_argv(&e);
	REQUIRE(argv);
	CHECK(argv_find(argv, "-name", "guest=my \"evil\" <vm> & 'co',, x,debug-threads=on") >= 0);
	CHECK(argv_find(argv, "-drive", "file=/images/a dir/it's <a>,,b&c.qcow2,if=none") >= 0);
	CHECK(argv_find(argv, "-kernel", "/boot/vm linuz's,1") >= 0);
	CHECK(argv_find(argv, "-append", "console=ttyS0 init=\"/bin/sh -c 'echo <&>'\"") >= 0);
	vfk_argv_free(argv);
	vm_close(&e);
}

TEST(emit_qemu_numa_hugepages_backend, "NUMA binding and huge pages become a memory backend on the machine")
{
	struct vmenv e;
	char **argv;

	REQUIRE(vm_plan(&e, "threadripper-numa", "[vm]\nmemory = 8G\nvcpus = 4\n") == 0);
	argv = vm_argv(&e);
	CHECK(argv_find(argv, "-object", "memory-backend-file,id=mem0,size=8192M,mem-path=/dev/hugepages1G,prealloc=on,prealloc-threads=4,host-nodes=1,policy=bind") >= 0);
	CHECK(argv_find(argv, "-machine", "memory-backend=mem0") >= 0);
	vfk_argv_free(argv);
	vm_close(&e);
}

/* Shell-quote @argv, let /bin/sh split it again, compare. */
static void check_shell_roundtrip(char *const *argv)
{
	char *text = NULL, *script = NULL, *out = NULL;
	size_t i, off = 0;
	int rc;

	REQUIRE(vfk_argv_to_shell((const char *const *)argv, &text) == 0);
	REQUIRE(asprintf(&script, "p() { for a; do printf '%%s\\001' \"$a\"; done; }; p %s", text) > 0);
	{
		const char *sh[] = { "/bin/sh", "-c", script, NULL };

		rc = run_prog(&out, sh);
	}
	CHECK_INT(rc, 0);
	for (i = 0; argv[i] && out; i++) {
		size_t n = strlen(argv[i]);

		if (strncmp(out + off, argv[i], n) != 0 || out[off + n] != '\001') {
			test_fail_(__FILE__, __LINE__, "argument %zu '%s' did not survive the shell:\n%s",
				   i, argv[i], text);
			break;
		}
		off += n + 1;
	}
	CHECK(out && out[off] == '\0');
	free(out);
	free(script);
	free(text);
}

TEST(emit_shell_quoting_roundtrip, "vfk_argv_to_shell output, run through /bin/sh, gives back the exact argv")
{
	char *hostile[] = { (char *)"/usr/bin/qemu", (char *)"-name", (char *)"a b", (char *)"-x",
			    (char *)"it's", (char *)"-y", (char *)"$(rm -rf /)", (char *)"-z",
			    (char *)"\"q\" <a> & b; c | d `e` \\ f", (char *)"", (char *)"-end",
			    (char *)"tab\there\nnewline", NULL };
	struct vmenv e;
	char **argv;

	check_shell_roundtrip(hostile);
	REQUIRE(vm_plan(&e, "ready", hostile_ini) == 0);
	argv = vm_argv(&e);
	REQUIRE(argv);
	check_shell_roundtrip(argv);
	vfk_argv_free(argv);
	vm_close(&e);
}

TEST(emit_shell_format, "one option per line with its value, continued with backslashes; plain words unquoted")
{
	const char *argv[] = { "qemu", "-m", "512M", "-name", "a b", "-nodefaults", NULL };
	char *text = NULL;

	REQUIRE(vfk_argv_to_shell(argv, &text) == 0);
	CHECK_STREQ(text, "qemu \\\n  -m 512M \\\n  -name 'a b' \\\n  -nodefaults\n");
	free(text);
}

/* Start QEMU with the argv (plus -S: do not run the guest) and see it parse. */
TEST(emit_qemu_argv_accepted_by_qemu, "QEMU accepts the generated argv (TCG, frozen with -S, stopped after 2 s)")
{
	struct vmenv e;
	char **argv, *disk[3], ini[4096], *log, *logtext;
	char **full;
	size_t n, i;
	pid_t pid;
	int status = 0, waited = 0, fd;

	REQUIRE_PROGRAM("/usr/bin/qemu-system-x86_64", "qemu-system-x86");
	for (i = 0; i < 3; i++) {
		disk[i] = write_temp("disk, one.raw", "");
		REQUIRE(disk[i]);
		REQUIRE(truncate(disk[i], 1 << 20) == 0);
	}
	snprintf(ini, sizeof(ini),
		 "[vm]\nname = qemu \"check\", 1\nmemory = 128M\nvcpus = 2\nfirmware = bios\naccel = tcg\n"
		 "serial = no\n[gpu]\nmode = virtio\nvirgl = no\n[display]\ntype = none\n"
		 "[disk]\npath = %s\nformat = raw\ncache = writeback\n[disk.b]\npath = %s\nbus = sata\n"
		 "format = raw\ncache = writeback\n[disk.c]\npath = %s\nbus = scsi\nreadonly = yes\n"
		 "format = raw\ncache = writeback\n[network]\ntype = user\n[tuning]\nhugepages = no\n",
		 disk[0], disk[1], disk[2]);
	REQUIRE(vm_plan(&e, "single-gpu", ini) == 0);
	argv = vm_argv(&e);
	REQUIRE(argv);
	for (n = 0; argv[n]; n++)
		;
	full = calloc(n + 2, sizeof(*full));
	REQUIRE(full);
	full[0] = (char *)"qemu-system-x86_64";	/* the fixture's emulator path is the host's */
	for (i = 1; i < n; i++)
		full[i] = argv[i];
	full[n] = (char *)"-S";
	log = write_temp("qemu.log", "");
	REQUIRE(log);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
		}
		fd = open(log, O_WRONLY | O_TRUNC);
		if (fd >= 0)
			dup2(fd, 2);
		execvp(full[0], full);
		_exit(127);
	}
	while (waited < 2000 && waitpid(pid, &status, WNOHANG) == 0) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		waited += 50;
	}
	if (waited >= 2000) {
		kill(pid, SIGKILL);	/* still running: the argv was accepted */
		waitpid(pid, &status, 0);
	} else {
		logtext = read_file(log);
		test_fail_(__FILE__, __LINE__, "QEMU exited at once (status %d) on the argv: %s", status,
			   logtext ? logtext : "");
		free(logtext);
	}
	logtext = read_file(log);
	CHECK(logtext && !strstr(logtext, "warning"));
	if (logtext && *logtext)
		fprintf(stderr, "  qemu: %s", logtext);
	free(logtext);
	unlink(log);
	free(log);
	free(full);
	vfk_argv_free(argv);
	vm_close(&e);
	for (i = 0; i < 3; i++) {
		unlink(disk[i]);
		free(disk[i]);
	}
}

/* ------------------------------------------------------------ the tool */

TEST(emit_gen_deterministic_and_atomic, "vfio-vm gen is deterministic; -o writes the file whole")
{
	char *root = fixture_host_shared("ready");
	char *out1 = NULL, *out2 = NULL, *err = NULL, *file = NULL, outfile[4200];
	const char *cfg = src_path("configs/gaming-passthrough.ini");
	char cfgbuf[4200];
	int rc;

	REQUIRE(root);
	snprintf(cfgbuf, sizeof(cfgbuf), "%s", cfg);
	{
		const char *argv[] = { "vfio-vm", "gen", cfgbuf, "--format", "libvirt", "--sysroot", root, NULL };

		CHECK_INT(run_tool(&out1, &err, argv), 0);
		free(err);
		CHECK_INT(run_tool(&out2, &err, argv), 0);
		free(err);
	}
	CHECK_STREQ(out1, out2);
	file = write_temp("x", "");
	REQUIRE(file);
	snprintf(outfile, sizeof(outfile), "%s.xml", file);
	{
		const char *argv[] = { "vfio-vm", "gen", cfgbuf, "--format", "libvirt", "-o", outfile,
				       "--sysroot", root, NULL };
		char *o = NULL, *contents;

		rc = run_tool(&o, &err, argv);
		CHECK_INT(rc, 0);
		CHECK_STREQ(o, "");
		contents = read_file(outfile);
		CHECK_STREQ(contents, out1);
		free(contents);
		free(o);
		free(err);
	}
	unlink(outfile);
	free(out1);
	free(out2);
	free(file);
	free(root);
}

TEST(emit_gen_qemu_shell_quoted, "vfio-vm gen --format qemu prints the argv shell-quoted")
{
	char *root = fixture_host_shared("ready");
	char *ini = write_temp("q.ini", hostile_ini);
	char *out = NULL, *err = NULL;

	REQUIRE(root && ini);
	{
		const char *argv[] = { "vfio-vm", "gen", ini, "--format", "qemu", "--sysroot", root, NULL };

		CHECK_INT(run_tool(&out, &err, argv), 0);
	}
	CHECK_CONTAINS(out, "/usr/bin/qemu-system-x86_64 \\\n  -name 'guest=my \"evil\" <vm> & '\\''co'\\'',, x,debug-threads=on' \\\n");
	CHECK_CONTAINS(out, "  -kernel '/boot/vm linuz'\\''s,1' \\\n");
	free(out);
	free(err);
	free(ini);
	free(root);
}
