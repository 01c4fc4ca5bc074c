/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-ls --export: what a host can give away, as KubeVirt, nova, Proxmox VE,
 * Node Feature Discovery, the Container Device Interface and Kubernetes DRA
 * take it. Each fixture host's documents are compared byte for byte with
 * tests/fixtures/export/HOST.FORMAT (a host with no device to give has no
 * .cdi: CDI has no empty spec, vfio-ls refuses), and every golden file (and
 * every document a test makes) is read back by tests/export-parse.py with
 * the parsers and schemas those stacks use.
 *
 * Regenerate the golden files after a deliberate change, then read each diff
 * before committing it:
 *     VFK_UPDATE_GOLDEN=1 build/tests/run-tests 'export*'
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vfiokit.h"
#include "harness.h"

#define PYTHON "/usr/bin/python3"

static const char *const formats[] = { "kubevirt", "nova", "proxmox", "nfd", "cdi", "dra" };
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

struct run {
	char *out, *err;
	int status;
};

static void run_close(struct run *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}
#define RUN __attribute__((cleanup(run_close))) struct run
#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void freestr(char **p)
{
	free(*p);
}
#define STR __attribute__((cleanup(freestr))) char *

/* vfio-ls --sysroot ROOT ARGS... */
static void ls(struct run *r, const char *root, const char *const *args)
{
	const char *argv[20] = { "vfio-ls", "--sysroot", root };
	size_t n = 3;

	memset(r, 0, sizeof(*r));
	for (; args && *args && n < 19; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	r->status = run_tool(&r->out, &r->err, argv);
}

/* tests/export-parse.py FILE...: 0 when each parses and has its stack's shape. */
static int parse_check(const char *const *files, char **out)
{
	const char *argv[64] = { PYTHON };
	char script[4096];
	size_t n = 2;

	snprintf(script, sizeof(script), "%s/tests/export-parse.py", test_srcdir());
	argv[1] = script;
	for (; files && *files && n < 63; files++)
		argv[n++] = *files;
	argv[n] = NULL;
	return run_tool(out, NULL, argv);
}

/* Write @text to a scratch file named NAME.FORMAT and have it parsed. */
static bool parses(const char *text, const char *fmt)
{
	char dir[] = "/tmp/vfk-export-XXXXXX", path[256];
	STR out = NULL;
	FILE *f;
	int st;

	if (!text || !mkdtemp(dir))
		return false;
	snprintf(path, sizeof(path), "%s/doc.%s", dir, fmt);
	f = fopen(path, "w");
	if (!f)
		return false;
	fputs(text, f);
	fclose(f);
	st = parse_check((const char *const[]){ path, NULL }, &out);
	unlink(path);
	rmdir(dir);
	if (st != 0)
		test_fail_(__FILE__, __LINE__, "export-parse.py refuses the %s document (%d):\n%s\n%s",
			   fmt, st, out ? out : "", text);
	return st == 0;
}

/* A private copy of fixture @name with tests/fixtures/export/pci.ids as its
 * pci.ids: device names that do not follow this machine's pci.ids. */
static char *export_host(const char *name)
{
	char path[4096];
	char *root = fixture_host(name), *ids;
	bool ok;

	if (!root)
		return NULL;
	snprintf(path, sizeof(path), "%s/tests/fixtures/export/pci.ids", test_srcdir());
	ids = read_file(path);
	ok = ids && put_file(root, "usr/share/misc/pci.ids", ids);
	free(ids);
	if (!ok) {
		test_fail_(__FILE__, __LINE__, "cannot put %s into %s", path, root);
		free(root);
		return NULL;
	}
	return root;
}

static bool update_golden(void)
{
	const char *v = getenv("VFK_UPDATE_GOLDEN");

	return v && *v && strcmp(v, "0") != 0;
}

/* The document of `vfio-ls --export FMT ARGS` on the tree @root of fixture
 * @host equals tests/fixtures/export/@golden_name.FMT (written instead with
 * VFK_UPDATE_GOLDEN=1). cdi with nothing to give: no document and no golden
 * file, exit 1 and the reason in one line. */
static void golden(const char *root, const char *host, const char *golden_name, const char *fmt,
		   const char *const *extra)
{
	const char *args[16] = { "--export", fmt };
	char path[4096];
	STR want = NULL;
	size_t n = 2;
	RUN r;

	if (strcmp(fmt, "proxmox") == 0 || strcmp(fmt, "dra") == 0) {
		args[n++] = "--node";
		args[n++] = strcmp(fmt, "dra") == 0 ? "node1" : "pve1";
	}
	for (; extra && *extra && n < 15; extra++)
		args[n++] = *extra;
	args[n] = NULL;
	ls(&r, root, args);
	snprintf(path, sizeof(path), "%s/tests/fixtures/export/%s.%s", test_srcdir(), golden_name,
		 fmt);
	if (strcmp(fmt, "cdi") == 0 && r.status == 1 && r.out && !*r.out) {
		CHECK_CONTAINS(r.err, "a CDI spec names at least one device");
		CHECK(r.err && strchr(r.err, '\n') == r.err + strlen(r.err) - 1);
		if (update_golden())
			unlink(path);
		else if (access(path, F_OK) == 0)
			test_fail_(__FILE__, __LINE__, "vfio-ls --export cdi on %s wrote nothing, but "
				   "%s exists: %s", host, path, r.err ? r.err : "");
		return;
	}
	CHECK_INT(r.status, 0);
	REQUIRE(r.out != NULL);
	if (update_golden()) {
		FILE *f = fopen(path, "w");

		REQUIRE(f != NULL);
		fputs(r.out, f);
		REQUIRE(fclose(f) == 0);
		fprintf(stderr, "golden file written: %s\n", path);
		return;
	}
	want = read_file(path);
	if (!want) {
		test_fail_(__FILE__, __LINE__, "no golden file %s (VFK_UPDATE_GOLDEN=1 writes it)",
			   path);
		return;
	}
	if (strcmp(want, r.out) != 0)
		test_fail_(__FILE__, __LINE__, "vfio-ls --export %s on %s differs from %s:\n%s", fmt,
			   host, path, r.out);
}

/* Every format of fixture @host, on one private tree. */
static void golden_all(const char *host, const char *golden_name, const char *const *extra)
{
	STR root = export_host(host);
	size_t i;

	REQUIRE(root != NULL);
	for (i = 0; i < NFORMATS; i++)
		golden(root, host, golden_name, formats[i], extra);
}

/* ------------------------------------------------------------ golden files */

TEST(export_desktop_gives_the_dgpu_and_keeps_the_console_igpu_root_disk_and_route_nic,
     "desktop: the RTX 4090 (with its audio function) goes, not the iGPU on the console, the root NVMe or the default route's NIC")
{
	golden_all("hostdev-desk", "hostdev-desk", NULL);
}

TEST(export_shared_group_host_writes_valid_empty_documents,
     "a host whose only dGPU shares the chipset's group gives nothing away: empty but valid documents (no CDI spec: CDI has none), a note on stderr")
{
	STR root = fixture_host_shared("chipset-only-dgpu");
	RUN r;

	golden_all("chipset-only-dgpu", "chipset-only-dgpu", NULL);
	REQUIRE(root != NULL);
	ls(&r, root, ARGS("--export", "kubevirt"));
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "pciHostDevices: []");
	CHECK_CONTAINS(r.out, "mediatedDevices: []");
	CHECK_CONTAINS(r.err, "nothing can be given away");
	run_close(&r);
	ls(&r, root, ARGS("--export", "kubevirt", "-q"));
	CHECK_INT(r.status, 0);
	CHECK_STREQ(r.err, "");
}

TEST(export_vgpu_host_offers_mdev_types_not_the_parent_gpus,
     "NVIDIA vGPU (classic mdev) on two T4s: the types with a free or running instance go, the T4s only as mdev parents")
{
	golden_all("nvidia-vgpu", "nvidia-vgpu", NULL);
}

TEST(export_virtual_mdev_parents_go_where_the_format_can_name_them,
     "mbochs/mdpy sample parents: KubeVirt and NFD get their types, nova and Proxmox (PCI addresses only) say why not")
{
	golden_all("testbed-mdev", "testbed-mdev", NULL);
}

TEST(export_sriov_server_gives_vfs_not_the_pfs_that_have_them,
     "V620 and ConnectX-5 VFs go (type-VF), their PFs with VFs enabled and the BMC's console VGA stay")
{
	golden_all("sriov-server", "sriov-server", NULL);
}

TEST(export_gpus_only_leaves_out_the_nic_vfs,
     "--gpus: only the V620 VFs, not the ConnectX-5 VFs")
{
	golden_all("sriov-server", "sriov-server.gpus", ARGS("--gpus"));
}

TEST(export_hgx_gives_isolated_h100s_not_shared_pairs_or_nvswitches,
     "HGX H100: socket 0's four GPUs go; socket 1's pairs in shared groups and the NVSwitches do not")
{
	golden_all("hgx-h100", "hgx-h100", NULL);
}

TEST(export_per_vf_vgpus_are_labelled_not_passed_through,
     "NVIDIA vGPU 17 per-VF interface: the VF slots are no PCI devices to give; NFD labels their types, the idle L4 goes whole as type-PF")
{
	golden_all("nvidia-vgpu17-vf", "nvidia-vgpu17-vf", NULL);
}

TEST(export_golden_files_parse_with_the_consumers_parsers,
     "every tests/fixtures/export file reads back with PyYAML, oslo.config, a PVE section-config reader, NFD's label rules, CDI's JSON schema and rules, and the ResourceSlice validation")
{
	char dir[4096];
	const char *files[126];
	char *names[126];
	size_t n = 0, i;
	DIR *d;
	struct dirent *e;
	STR out = NULL;
	int st;

	REQUIRE_PROGRAM(PYTHON, "python3");
	snprintf(dir, sizeof(dir), "%s/tests/fixtures/export", test_srcdir());
	d = opendir(dir);
	REQUIRE(d != NULL);
	while ((e = readdir(d)) && n < 125) {
		const char *dot = strrchr(e->d_name, '.');
		size_t k;
		bool fmt = false;

		for (k = 0; dot && k < NFORMATS; k++)
			fmt = fmt || strcmp(dot + 1, formats[k]) == 0;
		if (e->d_name[0] == '.' || !fmt)
			continue;	/* pci.ids: the names, no document */
		names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
		REQUIRE(names[n] != NULL);
		sprintf(names[n], "%s/%s", dir, e->d_name);
		files[n] = names[n];
		n++;
	}
	closedir(d);
	files[n] = NULL;
	CHECK(n >= 46);
	st = parse_check(files, &out);
	if (st == 2)
		test_fail_(__FILE__, __LINE__, "a parser is missing: %s", out ? out : "");
	else if (st != 0)
		test_fail_(__FILE__, __LINE__, "export-parse.py: %s", out ? out : "");
	for (i = 0; i < n; i++)
		free(names[i]);
}

/* ------------------------------------------------------------ selection */

TEST(export_device_limits_the_document_to_that_group,
     "--device names one group: the 4090 alone; the console iGPU gives an empty document and a note")
{
	STR root = export_host("hostdev-desk");
	RUN r;

	REQUIRE(root != NULL);
	ls(&r, root, ARGS("--export", "nova", "--device", "01:00.0"));
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "\"address\":\"0000:01:00.0\"");
	CHECK(strstr(r.out ? r.out : "", "0000:05:00.0") == NULL);
	CHECK_STREQ(r.err, "");
	run_close(&r);
	ls(&r, root, ARGS("--export", "kubevirt", "--device", "0000:00:02.0"));
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "pciHostDevices: []");
	CHECK_CONTAINS(r.err, "in that device's group");
	CHECK(parses(r.out, "kubevirt"));
	run_close(&r);
	ls(&r, root, ARGS("--export", "kubevirt", "--device", "0000:77:00.0"));
	CHECK_INT(r.status, 1);
	CHECK_CONTAINS(r.err, "no PCI device 0000:77:00.0");
}

TEST(export_vfio_bound_device_goes_and_the_hosts_own_controllers_stay,
     "a lone endpoint goes only when the host hands it to VFIO: the WD NVMe on nvme stays, bound to vfio-pci it goes")
{
	STR root = export_host("hostdev-desk");
	RUN r;

	REQUIRE(root != NULL);
	ls(&r, root, ARGS("--export", "kubevirt"));
	CHECK_INT(r.status, 0);
	CHECK(strstr(r.out ? r.out : "", "15B7:5011") == NULL);
	run_close(&r);
	REQUIRE(put_file(root, "sys/bus/pci/devices/0000:05:00.0/driver_override", "vfio-pci\n"));
	ls(&r, root, ARGS("--export", "kubevirt"));
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "pciVendorSelector: \"15B7:5011\"");
	CHECK_CONTAINS(r.out, "resourceName: \"vfiokit.local/WD_PC_SN810_BLACK_SN850_NVME_SSD\"");
	/* the root filesystem's NVMe stays, whatever its override says */
	run_close(&r);
	REQUIRE(put_file(root, "sys/bus/pci/devices/0000:02:00.0/driver_override", "vfio-pci\n"));
	ls(&r, root, ARGS("--export", "kubevirt"));
	CHECK(strstr(r.out ? r.out : "", "144D:A80A") == NULL);
}

TEST(export_api_counts_what_it_exports,
     "vfk_export() returns the number of devices and mdev types (cdi, dra: devices), and refuses a format it does not know")
{
	STR root = fixture_host_shared("nvidia-vgpu");
	struct vfk_ctx *ctx = NULL;
	struct vfk_host *host = NULL;
	struct vfk_export_options o = { .gpus_only = true };
	enum vfk_export_format f;
	char *doc = NULL;

	REQUIRE(root != NULL);
	REQUIRE(vfk_ctx_new(root, &ctx) == 0);
	REQUIRE(vfk_host_scan(ctx, &host) == 0);
	/* 3b:00.0 offers its four 2 GB types, d8:00.0 all sixteen */
	CHECK_INT(vfk_export(host, VFK_EXPORT_KUBEVIRT, &o, &doc), 20);
	CHECK_CONTAINS(doc, "mdevNameSelector: \"GRID T4-2Q\"");
	free(doc);
	doc = NULL;
	CHECK_INT(vfk_export(host, (enum vfk_export_format)42, NULL, &doc), -EINVAL);
	CHECK(doc == NULL);
	CHECK_INT(vfk_export_format_from_string("yaml", &f), -EINVAL);
	CHECK_INT(vfk_export_format_from_string("nfd", &f), 0);
	CHECK_INT(f, VFK_EXPORT_NFD);
	CHECK_STREQ(vfk_export_format_to_string(VFK_EXPORT_PROXMOX), "proxmox");
	CHECK_INT(vfk_export_format_from_string("cdi", &f), 0);
	CHECK_INT(f, VFK_EXPORT_CDI);
	CHECK_STREQ(vfk_export_format_to_string(VFK_EXPORT_DRA), "dra");
	/* CDI and DRA hold devices, no mdev types: the T4s are mdev parents */
	CHECK_INT(vfk_export(host, VFK_EXPORT_CDI, &o, &doc), -ENODATA);
	CHECK(doc == NULL);
	CHECK_CONTAINS(vfk_ctx_get_error(ctx), "a CDI spec names at least one device");
	o.node = "node1";
	CHECK_INT(vfk_export(host, VFK_EXPORT_DRA, &o, &doc), 0);
	CHECK_CONTAINS(doc, "  devices: []\n");
	CHECK_CONTAINS(doc, "# not exported: the mdev types of 0000:3b:00.0");
	free(doc);
	vfk_host_unref(host);
	vfk_ctx_unref(ctx);
}

/* ------------------------------------------------------------ refusals */

TEST(export_refuses_an_unknown_format_in_one_line,
     "--export yaml: exit 2, one line naming 'yaml' and the formats, nothing on stdout")
{
	STR root = fixture_host_shared("hostdev-desk");
	RUN r;

	REQUIRE(root != NULL);
	ls(&r, root, ARGS("--export", "yaml"));
	CHECK_INT(r.status, 2);
	CHECK_STREQ(r.out, "");
	CHECK_STREQ(r.err, "vfio-ls: --export: no format 'yaml' (kubevirt, nova, proxmox, nfd, cdi, "
		    "dra)\n");
}

TEST(export_refuses_options_it_has_no_use_for,
     "--export with --json, --brief or --group, --node but for proxmox and dra, --resource-prefix for nova or proxmox: exit 2")
{
	static const char *const cases[][5] = {
		{ "--export", "kubevirt", "--json", NULL },
		{ "--export", "nova", "--brief", NULL },
		{ "--export", "nfd", "--group", "9", NULL },
		{ "--export", "kubevirt", "--node", "pve1", NULL },
		{ "--export", "cdi", "--node", "node1", NULL },
		{ "--export", "nova", "--resource-prefix", "example.com", NULL },
		{ "--export", "proxmox", "--resource-prefix", "example.com", NULL },
		{ "--export", "dra", "--json", NULL },
		{ "--node", "pve1", NULL },
	};
	STR root = fixture_host_shared("hostdev-desk");
	size_t i;

	REQUIRE(root != NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		RUN r;

		ls(&r, root, cases[i]);
		CHECK_INT(r.status, 2);
		CHECK_STREQ(r.out, "");
		CHECK(r.err && strchr(r.err, '\n') == r.err + strlen(r.err) - 1);
	}
}

TEST(export_refuses_a_resource_prefix_that_is_no_domain_or_kubernetes_own,
     "--resource-prefix: 'Bad_Domain' and 'kubernetes.io' refused (exit 2); feature.node.kubernetes.io allowed for nfd only")
{
	STR root = export_host("hostdev-desk");
	RUN r;

	REQUIRE(root != NULL);
	ls(&r, root, ARGS("--export", "kubevirt", "--resource-prefix", "Bad_Domain"));
	CHECK_INT(r.status, 2);
	CHECK_CONTAINS(r.err, "no DNS subdomain");
	run_close(&r);
	ls(&r, root, ARGS("--export", "kubevirt", "--resource-prefix", "gpu.kubernetes.io"));
	CHECK_INT(r.status, 2);
	CHECK_CONTAINS(r.err, "Kubernetes' own");
	run_close(&r);
	ls(&r, root, ARGS("--export", "kubevirt", "--resource-prefix", "feature.node.kubernetes.io"));
	CHECK_INT(r.status, 2);
	run_close(&r);
	ls(&r, root, ARGS("--export", "nfd", "--resource-prefix", "feature.node.kubernetes.io"));
	CHECK_INT(r.status, 0);
	run_close(&r);
	ls(&r, root, ARGS("--export", "kubevirt", "--resource-prefix", "gpus.example.com"));
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "resourceName: \"gpus.example.com/AD102_GEFORCE_RTX_4090\"");
	CHECK(parses(r.out, "kubevirt"));
	run_close(&r);
	ls(&r, root, ARGS("--export", "nfd", "--resource-prefix", "gpus.example.com"));
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "gpus.example.com/vfiokit.isolated-gpus=1\n");
	CHECK(parses(r.out, "nfd"));
}

TEST(export_proxmox_node_is_the_host_name_up_to_its_first_dot,
     "without --node the Proxmox node is proc/sys/kernel/hostname below the sysroot, its first label")
{
	STR root = export_host("hostdev-desk");
	RUN r;

	REQUIRE(root != NULL);
	REQUIRE(put_file(root, "proc/sys/kernel/hostname", "pve7.lab.example.com\n"));
	ls(&r, root, ARGS("--export", "proxmox"));
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "\tmap id=10de:2684,iommugroup=9,node=pve7,path=0000:01:00,"
		       "subsystem-id=1043:889d\n");
	CHECK(parses(r.out, "proxmox"));
}

TEST(export_proxmox_refuses_a_hostile_host_name_or_node,
     "a host name or --node Proxmox cannot carry ('evil\\n\\tmap ...', 'a_b') is refused with exit 2, shown harmlessly")
{
	STR root = fixture_host("hostdev-desk");
	RUN r;

	REQUIRE(root != NULL);
	REQUIRE(put_file(root, "proc/sys/kernel/hostname",
			 "evil\n\tmap id=dead:beef,node=evil,path=0000:00:00.0\n"));
	ls(&r, root, ARGS("--export", "proxmox"));
	CHECK_INT(r.status, 2);
	CHECK_STREQ(r.out, "");
	CHECK_CONTAINS(r.err, "no Proxmox node name");
	CHECK(r.err && strchr(r.err, '\n') == r.err + strlen(r.err) - 1);
	CHECK(r.err && !strchr(r.err, '\t'));
	run_close(&r);
	ls(&r, root, ARGS("--export", "proxmox", "--node", "a_b"));
	CHECK_INT(r.status, 2);
	CHECK_CONTAINS(r.err, "'a_b' is no Proxmox node name");
	run_close(&r);
	/* no host name at all: say how to name the node */
	{
		char path[4096];

		snprintf(path, sizeof(path), "%s/proc/sys/kernel/hostname", root);
		REQUIRE(unlink(path) == 0 || errno == ENOENT);
	}
	ls(&r, root, ARGS("--export", "proxmox"));
	CHECK_INT(r.status, 3);
	CHECK_CONTAINS(r.err, "--node");
}

/* A pci.ids below the sysroot names the devices: every name is hostile. */
static const char hostile_ids[] =
	"10de  NVIDIA \"Corp\" \\ # not: a comment\n"
	"\t2684  AD102 \"4090\" \\back\\ # x: [y], {z} \x1b[31m \xc3\xbc\xff\x7f\t end\n"
	"\t22ba  AD102 audio\n"
	"1043  ASUS\n"
	"8086  Intel\n"
	"\t4680  iGPU\n";

TEST(export_escapes_hostile_pci_ids_names_in_every_format,
     "names with quotes, backslashes, '#', ':', an escape sequence, DEL, a tab, UTF-8 and invalid bytes: YAML escapes them, nova/Proxmox/NFD keep them out of values, every document still parses")
{
	STR root = fixture_host("hostdev-desk");
	size_t i;

	REQUIRE(root != NULL);
	REQUIRE(put_file(root, "usr/share/misc/pci.ids", hostile_ids));
	for (i = 0; i < NFORMATS; i++) {
		RUN r;
		const char *p;

		ls(&r, root, strcmp(formats[i], "proxmox") == 0 || strcmp(formats[i], "dra") == 0
				     ? ARGS("--export", formats[i], "--node", "pve1")
				     : ARGS("--export", formats[i]));
		CHECK_INT(r.status, 0);
		REQUIRE(r.out != NULL);
		/* nothing but printable ASCII, tabs and newlines reaches the file */
		for (p = r.out; *p; p++)
			if (!((*p >= 0x20 && *p < 0x7f) || *p == '\n' || *p == '\t')) {
				test_fail_(__FILE__, __LINE__, "%s: byte 0x%02x at offset %zu",
					   formats[i], (unsigned char)*p, (size_t)(p - r.out));
				break;
			}
		CHECK(parses(r.out, formats[i]));
		if (strcmp(formats[i], "kubevirt") == 0) {
			CHECK_CONTAINS(r.out, "resourceName: \"nvidia.com/AD102_4090_BACK_X_Y_Z_31M_END\"");
			CHECK_CONTAINS(r.out, "# NVIDIA \"Corp\" \\ # not: a comment AD102 \"4090\"");
		}
		if (strcmp(formats[i], "proxmox") == 0) {
			CHECK_CONTAINS(r.out, "\nad102-4090-back-x-y-z-31m-end\n\tmap id=10de:2684,");
			CHECK_CONTAINS(r.out, "\tdescription NVIDIA \"Corp\" \\ # not: a comment AD102");
		}
		if (strcmp(formats[i], "nova") == 0)
			CHECK_CONTAINS(r.out, "alias = {\"name\":\"AD102_4090_BACK_X_Y_Z_31M_END\",");
		if (strcmp(formats[i], "cdi") == 0)	/* names nowhere: addresses only */
			CHECK(strstr(r.out ? r.out : "", "Corp") == NULL);
		if (strcmp(formats[i], "dra") == 0)
			CHECK_CONTAINS(r.out, "  # NVIDIA \"Corp\" \\ # not: a comment AD102 \"4090\"");
	}
}

TEST(export_names_two_models_share_get_their_ids,
     "two vendor:device pairs whose pci.ids names reduce to one NAME get _VVVV_DDDD each, so no resource pools both")
{
	STR root = fixture_host("sriov-server");
	RUN r;

	REQUIRE(root != NULL);
	REQUIRE(put_file(root, "usr/share/misc/pci.ids",
			 "1002  AMD\n\t73ae  Same Name\n15b3  Mellanox\n\t1018  Same-Name\n"));
	ls(&r, root, ARGS("--export", "kubevirt"));
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "resourceName: \"amd.com/SAME_NAME_1002_73AE\"");
	CHECK_CONTAINS(r.out, "resourceName: \"vfiokit.local/SAME_NAME_15B3_1018\"");
	CHECK(parses(r.out, "kubevirt"));
	run_close(&r);
	ls(&r, root, ARGS("--export", "proxmox", "--node", "pve1"));
	CHECK_CONTAINS(r.out, "\nsame-name-1002-73ae\n");
	CHECK_CONTAINS(r.out, "\nsame-name-15b3-1018\n");
	CHECK(parses(r.out, "proxmox"));
}

TEST(export_escapes_a_hostile_mdev_type_name,
     "an mdev type named with a quote, a newline, a tab, '#', UTF-8 and an invalid byte is escaped in KubeVirt's mdevNameSelector and made a plain resource name")
{
	STR root = export_host("nvidia-vgpu");
	RUN r;

	REQUIRE(root != NULL);
	REQUIRE(put_file(root, "sys/bus/pci/devices/0000:3b:00.0/mdev_supported_types/nvidia-231/name",
			 "GRID \"T4\"\n-2Q\t# x \xc3\xbc \xff\n"));
	REQUIRE(put_file(root, "sys/bus/pci/devices/0000:d8:00.0/mdev_supported_types/nvidia-231/name",
			 "GRID \"T4\"\n-2Q\t# x \xc3\xbc \xff\n"));
	ls(&r, root, ARGS("--export", "kubevirt"));
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "- mdevNameSelector: \"GRID \\\"T4\\\"\\x0A-2Q\\x09# x \\xFC \\uFFFD\"\n"
		       "        resourceName: \"nvidia.com/GRID_T4_-2Q_x\"\n");
	CHECK(parses(r.out, "kubevirt"));
	run_close(&r);
	ls(&r, root, ARGS("--export", "nova"));
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "[mdev_nvidia-231]\n# GRID \"T4\"?-2Q?# x ?? ?\n");
	CHECK(parses(r.out, "nova"));
}

/* ------------------------------------------------------------ cdi and dra */

/* Give the functions of hostdev-desk's RTX 4090 (group 9) their VFIO cdevs,
 * vfio3 and vfio4, as the kernel does once they are on vfio-pci. */
static bool give_cdevs(const char *root, bool both)
{
	return put_file(root, "sys/bus/pci/devices/0000:01:00.0/vfio-dev/vfio3/dev", "511:3\n") &&
	       put_file(root, "dev/vfio/devices/vfio3", "") &&
	       (!both ||
		(put_file(root, "sys/bus/pci/devices/0000:01:00.1/vfio-dev/vfio4/dev", "511:4\n") &&
		 put_file(root, "dev/vfio/devices/vfio4", "")));
}

TEST(export_cdi_vfio_mode_forces_legacy_or_refuses_iommufd_naming_why,
     "--vfio-mode legacy gives the group nodes although iommufd is possible; --vfio-mode "
     "iommufd without /dev/iommu, or with a function short of its cdev, is exit 1 naming it; "
     "--vfio-mode for another format or a bad value is exit 2")
{
	STR root = export_host("hostdev-desk");
	RUN r;

	REQUIRE(root != NULL);
	ls(&r, root, ARGS("--export", "cdi", "--vfio-mode", "iommufd"));
	CHECK_INT(r.status, 1);
	CHECK_CONTAINS(r.err, "iommufd mode: the host has no /dev/iommu");
	CHECK_STREQ(r.out, "");
	run_close(&r);
	REQUIRE(put_file(root, "dev/iommu", ""));
	REQUIRE(give_cdevs(root, false));
	ls(&r, root, ARGS("--export", "cdi", "--vfio-mode", "iommufd"));
	CHECK_INT(r.status, 1);
	CHECK_CONTAINS(r.err, "iommufd mode: 0000:01:00.1 has no VFIO cdev");
	run_close(&r);
	REQUIRE(give_cdevs(root, true));
	ls(&r, root, ARGS("--export", "cdi", "--vfio-mode", "iommufd"));
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "\"VFIOKIT_VFIO_MODE=iommufd\"");
	run_close(&r);
	ls(&r, root, ARGS("--export", "cdi", "--vfio-mode", "legacy"));
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "\"VFIOKIT_VFIO_MODE=legacy\"");
	CHECK_CONTAINS(r.out, "\"path\": \"/dev/vfio/9\"");
	CHECK(strstr(r.out ? r.out : "", "/dev/iommu") == NULL);
	CHECK(parses(r.out, "cdi"));
	run_close(&r);
	ls(&r, root, ARGS("--export", "nova", "--vfio-mode", "legacy"));
	CHECK_INT(r.status, 2);
	CHECK_CONTAINS(r.err, "--vfio-mode is for --export cdi");
	run_close(&r);
	ls(&r, root, ARGS("--export", "cdi", "--vfio-mode", "cdev"));
	CHECK_INT(r.status, 2);
	CHECK_CONTAINS(r.err, "--vfio-mode must be auto, legacy or iommufd, not 'cdev'");
}

TEST(export_cdi_iommufd_mode_when_dev_iommu_and_every_function_has_its_cdev,
     "hostdev-desk with /dev/iommu and vfio-dev/vfioN on both 4090 functions: /dev/iommu and the two cdevs (golden hostdev-desk.iommufd); without /dev/iommu or one cdev short: legacy")
{
	STR root = export_host("hostdev-desk");
	STR plain = export_host("hostdev-desk");
	RUN r;

	REQUIRE(root != NULL && plain != NULL);
	/* cdevs but no /dev/iommu: the groups */
	REQUIRE(give_cdevs(plain, true));
	ls(&r, plain, ARGS("--export", "cdi"));
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "\"VFIOKIT_VFIO_MODE=legacy\"");
	CHECK_CONTAINS(r.out, "\"path\": \"/dev/vfio/9\"");
	CHECK(strstr(r.out ? r.out : "", "/dev/iommu") == NULL);
	run_close(&r);
	/* /dev/iommu, one function without its cdev: the groups still */
	REQUIRE(put_file(root, "dev/iommu", ""));
	REQUIRE(give_cdevs(root, false));
	ls(&r, root, ARGS("--export", "cdi"));
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "\"VFIOKIT_VFIO_MODE=legacy\"");
	CHECK(strstr(r.out ? r.out : "", "vfio3") == NULL);
	run_close(&r);
	ls(&r, root, ARGS("--export", "dra", "--node", "node1"));
	CHECK_CONTAINS(r.out, "      iommuFDEnabled: {bool: false}\n");
	run_close(&r);
	/* both: iommufd, in the CDI spec and the DRA attribute */
	REQUIRE(give_cdevs(root, true));
	golden(root, "hostdev-desk", "hostdev-desk.iommufd", "cdi", NULL);
	golden(root, "hostdev-desk", "hostdev-desk.iommufd", "dra", NULL);
	ls(&r, root, ARGS("--export", "cdi"));
	CHECK_CONTAINS(r.out, "\"VFIOKIT_VFIO_MODE=iommufd\"");
	CHECK_CONTAINS(r.out, "\"path\": \"/dev/vfio/devices/vfio3\"");
	CHECK_CONTAINS(r.out, "\"path\": \"/dev/vfio/devices/vfio4\"");
	CHECK_CONTAINS(r.out, "\"path\": \"/dev/iommu\"");
	CHECK(strstr(r.out ? r.out : "", "/dev/vfio/vfio\"") == NULL);
	CHECK(strstr(r.out ? r.out : "", "/dev/vfio/9") == NULL);
}

TEST(export_cdi_refuses_a_host_with_nothing_to_give_in_one_line,
     "CDI has no empty spec: nothing to give (shared group, mdev parents only, --device of the console iGPU) is exit 1, no document, one line saying why")
{
	STR shared = fixture_host_shared("chipset-only-dgpu");
	STR vgpu = fixture_host_shared("nvidia-vgpu");
	STR desk = fixture_host_shared("hostdev-desk");
	const char *roots[] = { shared, vgpu };
	size_t i;

	REQUIRE(shared != NULL && vgpu != NULL && desk != NULL);
	for (i = 0; i < 2; i++) {
		RUN r;

		ls(&r, roots[i], ARGS("--export", "cdi"));
		CHECK_INT(r.status, 1);
		CHECK_STREQ(r.out, "");
		CHECK_CONTAINS(r.err, "nothing can be given away: a CDI spec names at least one "
			       "device, none is written");
		CHECK(r.err && strchr(r.err, '\n') == r.err + strlen(r.err) - 1);
	}
	{
		RUN r;

		ls(&r, desk, ARGS("--export", "cdi", "--device", "00:02.0", "-q"));
		CHECK_INT(r.status, 1);
		CHECK_STREQ(r.out, "");
		CHECK_CONTAINS(r.err, "nothing can be given away in that device's group");
	}
}

TEST(export_cdi_resource_prefix_is_the_kind_vendor,
     "--resource-prefix gpus.example.com makes the kind gpus.example.com/vfio; a prefix that does not start with a letter is no CDI vendor (exit 2)")
{
	STR root = fixture_host_shared("hostdev-desk");
	RUN r;

	REQUIRE(root != NULL);
	ls(&r, root, ARGS("--export", "cdi", "--resource-prefix", "gpus.example.com"));
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "\"kind\": \"gpus.example.com/vfio\",\n");
	CHECK_CONTAINS(r.out, "\"VFIOKIT_VFIO_MODE=legacy\"");
	CHECK(parses(r.out, "cdi"));
	run_close(&r);
	ls(&r, root, ARGS("--export", "cdi", "--resource-prefix", "4gpu.example.com"));
	CHECK_INT(r.status, 2);
	CHECK_STREQ(r.out, "");
	CHECK_CONTAINS(r.err, "is no CDI vendor");
	run_close(&r);
	ls(&r, root, ARGS("--export", "cdi", "--resource-prefix", "vfio.k8s.io"));
	CHECK_INT(r.status, 2);
	CHECK_CONTAINS(r.err, "Kubernetes' own");
}

TEST(export_dra_node_is_the_whole_host_name_lower_cased,
     "without --node the ResourceSlice's node and pool are proc/sys/kernel/hostname below the sysroot, all of it, lower-cased as the kubelet names its node")
{
	STR root = export_host("hostdev-desk");
	RUN r;

	REQUIRE(root != NULL);
	REQUIRE(put_file(root, "proc/sys/kernel/hostname", "Desk7.Lab.Example.com\n"));
	ls(&r, root, ARGS("--export", "dra"));
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "metadata:\n  name: \"desk7.lab.example.com.vfio.vfiokit.org\"\n");
	CHECK_CONTAINS(r.out, "  nodeName: \"desk7.lab.example.com\"\n  pool:\n"
		       "    name: \"desk7.lab.example.com\"\n");
	CHECK(parses(r.out, "dra"));
}

TEST(export_dra_refuses_a_node_kubernetes_cannot_name,
     "a host name or --node that is no DNS subdomain ('evil\\n  nodeName: x', 'a_b', 'Node1') is refused with exit 2, shown harmlessly; no host name at all is exit 3 naming --node")
{
	STR root = fixture_host("hostdev-desk");
	char path[4096];
	RUN r;

	REQUIRE(root != NULL);
	REQUIRE(put_file(root, "proc/sys/kernel/hostname", "evil\n  nodeName: \"x\"\n"));
	ls(&r, root, ARGS("--export", "dra"));
	CHECK_INT(r.status, 2);
	CHECK_STREQ(r.out, "");
	CHECK_CONTAINS(r.err, "no Kubernetes node name");
	CHECK(r.err && strchr(r.err, '\n') == r.err + strlen(r.err) - 1);
	run_close(&r);
	ls(&r, root, ARGS("--export", "dra", "--node", "a_b"));
	CHECK_INT(r.status, 2);
	CHECK_CONTAINS(r.err, "'a_b' is no Kubernetes node name");
	run_close(&r);
	ls(&r, root, ARGS("--export", "dra", "--node", "Node1"));
	CHECK_INT(r.status, 2);
	run_close(&r);
	snprintf(path, sizeof(path), "%s/proc/sys/kernel/hostname", root);
	REQUIRE(unlink(path) == 0 || errno == ENOENT);
	ls(&r, root, ARGS("--export", "dra"));
	CHECK_INT(r.status, 3);
	CHECK_CONTAINS(r.err, "--node");
}

TEST(export_dra_resource_prefix_is_the_driver_name,
     "--resource-prefix gpus.example.com is spec.driver (and the slice's name); one over 63 characters is no DRA driver name (exit 2)")
{
	STR root = fixture_host_shared("hostdev-desk");
	RUN r;

	REQUIRE(root != NULL);
	ls(&r, root, ARGS("--export", "dra", "--node", "n1", "--resource-prefix", "gpus.example.com"));
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "  name: \"n1.gpus.example.com\"\nspec:\n  driver: \"gpus.example.com\"\n");
	CHECK(parses(r.out, "dra"));
	run_close(&r);
	ls(&r, root, ARGS("--export", "dra", "--node", "n1", "--resource-prefix",
			  "a123456789b123456789c123456789d123456789e123456789f1234567.example.com"));
	CHECK_INT(r.status, 2);
	CHECK_STREQ(r.out, "");
	CHECK_CONTAINS(r.err, "too long for a DRA driver name");
}

TEST(export_dra_numa_node_only_when_sysfs_knows_it,
     "resource.kubernetes.io/numaNode is left out for numa_node -1 (as Kubernetes asks) and written from sysfs otherwise; pcieRoot is the root bus of the device's sysfs path")
{
	STR root = export_host("hostdev-desk");
	RUN r;

	REQUIRE(root != NULL);
	ls(&r, root, ARGS("--export", "dra", "--node", "n1"));
	CHECK_INT(r.status, 0);
	CHECK(strstr(r.out ? r.out : "", "numaNode") == NULL);
	CHECK_CONTAINS(r.out, "      resource.kubernetes.io/pcieRoot: {string: \"pci0000:00\"}\n");
	run_close(&r);
	REQUIRE(put_file(root, "sys/bus/pci/devices/0000:01:00.0/numa_node", "1\n"));
	ls(&r, root, ARGS("--export", "dra", "--node", "n1"));
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "      resource.kubernetes.io/numaNode: {int: 1}\n");
	CHECK(parses(r.out, "dra"));
}

TEST(export_inventory_reads_dev_iommu_vfio_cdevs_and_pcie_roots,
     "vfk_host_has_iommufd(), vfk_device_get_vfio_cdev() and vfk_device_get_pcie_root() read the sysroot's /dev/iommu, vfio-dev/vfioN (nothing else) and the root bus of the sysfs path")
{
	STR root = fixture_host("hostdev-desk");
	struct vfk_ctx *ctx = NULL;
	struct vfk_host *host = NULL;
	struct vfk_device *gpu = NULL, *audio = NULL, *nvme = NULL;

	REQUIRE(root != NULL);
	REQUIRE(put_file(root, "sys/bus/pci/devices/0000:01:00.0/vfio-dev/vfio12/dev", "511:12\n"));
	/* not the kernel's names: vfio-dev/vfio (no number), vfio1x */
	REQUIRE(put_file(root, "sys/bus/pci/devices/0000:01:00.1/vfio-dev/vfio/dev", ""));
	REQUIRE(put_file(root, "sys/bus/pci/devices/0000:01:00.1/vfio-dev/vfio1x/dev", ""));
	REQUIRE(vfk_ctx_new(root, &ctx) == 0);
	REQUIRE(vfk_host_scan(ctx, &host) == 0);
	CHECK(!vfk_host_has_iommufd(host));
	REQUIRE(vfk_host_find_device(host, "0000:01:00.0", &gpu) == 0);
	REQUIRE(vfk_host_find_device(host, "0000:01:00.1", &audio) == 0);
	REQUIRE(vfk_host_find_device(host, "0000:05:00.0", &nvme) == 0);
	CHECK_STREQ(vfk_device_get_vfio_cdev(gpu), "vfio12");
	CHECK(vfk_device_get_vfio_cdev(audio) == NULL);
	CHECK(vfk_device_get_vfio_cdev(nvme) == NULL);
	CHECK_STREQ(vfk_device_get_pcie_root(gpu), "pci0000:00");
	CHECK_STREQ(vfk_device_get_pcie_root(nvme), "pci0000:00");
	vfk_host_unref(host);
	host = NULL;
	/* a new snapshot sees /dev/iommu */
	REQUIRE(put_file(root, "dev/iommu", ""));
	REQUIRE(vfk_host_scan(ctx, &host) == 0);
	CHECK(vfk_host_has_iommufd(host));
	vfk_host_unref(host);
	vfk_ctx_unref(ctx);
}
