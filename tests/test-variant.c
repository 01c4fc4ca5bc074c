/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Vendor "variant" VFIO drivers (issue 20 point 2) on the variant-server
 * fixture: the VFIO driver of each device chosen as libvirt chooses it, from
 * a module tree depmod built out of stand-in modules whose .modinfo carries
 * the upstream drivers' real vfio_pci: aliases (and, where a test needs a
 * rival, a clearly made-up module: acme_vfio_pci, zzz_vfio_pci); binding to
 * it with tests/ksim.c playing the kernel, the journal naming it, restore
 * giving the native driver back; devices already on a variant counting as on
 * VFIO; NVIDIA vGPU VFs never rebound.
 */
#include <errno.h>
#include <ftw.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "ksim.h"
#include "vmtest.h"
#include "vfiokit.h"

#define HOST "variant-server"
#define REL "6.19.0-1-amd64"
#define MDIR "lib/modules/" REL

#define XE_PF "0000:03:00.0"
#define XE_VF "0000:03:00.1"		/* free */
#define XE_VF_BOUND "0000:03:00.2"	/* on xe-vfio-pci already */
#define CX_VF "0000:04:00.1"
#define CX_VF2 "0000:04:00.2"
#define GH200 "0000:05:00.0"
#define H100 "0000:06:00.0"

#define MLX5_ALIAS "vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*"
#define GH200_ALIAS "vfio_pci:v000010DEd00002342sv*sd*bc*sc*i*"
#define XE_ALIAS "vfio_pci:v00008086d0000E212sv*sd*bc*sc*i*"

/* A stand-in module: its name and its vfio_pci: aliases (NULL-terminated). */
struct module {
	const char *name, *dir;
	const char *aliases[8];
};

/* The upstream drivers, with aliases from their id tables: vfio_pci's
 * match-all (PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID, PCI_ANY_ID)),
 * mlx5vf_pci_table, nvgrace_gpu_vfio_pci_table and a part of xe-vfio-pci's
 * (INTEL_BMG_IDS: e20b, e20c, e211, e212; INTEL_PTL_IDS: b080). */
static const struct module upstream[] = {
	{ "vfio-pci", "kernel/drivers/vfio/pci", { "vfio_pci:v*d*sv*sd*bc*sc*i*" } },
	{ "mlx5-vfio-pci", "kernel/drivers/vfio/pci/mlx5", { MLX5_ALIAS } },
	{ "nvgrace-gpu-vfio-pci", "kernel/drivers/vfio/pci/nvgrace-gpu",
	  { GH200_ALIAS, "vfio_pci:v000010DEd00002345sv*sd*bc*sc*i*",
	    "vfio_pci:v000010DEd00002348sv*sd*bc*sc*i*",
	    "vfio_pci:v000010DEd00002941sv*sd*bc*sc*i*" } },
	{ "xe-vfio-pci", "kernel/drivers/vfio/pci/xe",
	  { "vfio_pci:v00008086d0000E20Bsv*sd*bc*sc*i*", "vfio_pci:v00008086d0000E20Csv*sd*bc*sc*i*",
	    "vfio_pci:v00008086d0000E211sv*sd*bc*sc*i*", XE_ALIAS,
	    "vfio_pci:v00008086d0000B080sv*sd*bc*sc*i*" } },
};

/* Made-up rivals (no such drivers exist), for the ranking: acme_vfio_pci
 * sorts before every real one, zzz_vfio_pci after. */
static const struct module rivals[] = {
	/* the ConnectX VF's vendor only: 1 field pinned, less than mlx5's 2;
	 * the GH200's device and class: 2 pinned, as many as nvgrace's */
	{ "acme_vfio_pci", "extra", { "vfio_pci:v000015B3d*sv*sd*bc*sc*i*",
				      "vfio_pci:v*d00002342sv*sd*bc03sc*i*" } },
	/* the B50 VF with its subsystem ids: 4 pinned, more than xe's 2 */
	{ "zzz_vfio_pci", "extra", { "vfio_pci:v00008086d0000E212sv00008086sd00001114bc*sc*i*" } },
};

/* An ELF object whose .modinfo says @m's name and aliases: enough for depmod. */
static bool build_module(const char *root, const struct module *m)
{
	char rel[256], code[2048], src[PATH_MAX], ko[PATH_MAX];
	size_t i, len;

	len = (size_t)snprintf(code, sizeof(code),
			       "__attribute__((section(\".modinfo\"), used)) static const char "
			       "mi[] = \"license=GPL\\0");
	for (i = 0; m->aliases[i]; i++)
		len += (size_t)snprintf(code + len, sizeof(code) - len, "alias=%s\\0", m->aliases[i]);
	snprintf(code + len, sizeof(code) - len, "name=%s\";\n", m->name);
	snprintf(rel, sizeof(rel), MDIR "/src/%s.c", m->name);
	if (!put_file(root, rel, code))
		return false;
	snprintf(rel, sizeof(rel), MDIR "/%s/%s.ko", m->dir, m->name);
	if (!put_file(root, rel, ""))
		return false;
	snprintf(src, sizeof(src), "%s/" MDIR "/src/%s.c", root, m->name);
	snprintf(ko, sizeof(ko), "%s/" MDIR "/%s/%s.ko", root, m->dir, m->name);
	return run_tool(NULL, NULL, (const char *const[]){ "/usr/bin/cc", "-c", "-o", ko, src,
							   NULL }) == 0;
}

/* The fixture's module tree rebuilt by depmod out of the upstream stand-ins
 * (and the rivals when @with_rivals): binary indexes and modules.alias as on
 * a real host. */
static bool depmod_tree(const char *root, bool with_rivals)
{
	size_t i;

	remove_path(root, MDIR);
	for (i = 0; i < sizeof(upstream) / sizeof(upstream[0]); i++)
		if (!build_module(root, &upstream[i]))
			return false;
	for (i = 0; with_rivals && i < sizeof(rivals) / sizeof(rivals[0]); i++)
		if (!build_module(root, &rivals[i]))
			return false;
	remove_path(root, MDIR "/src");
	if (!put_file(root, MDIR "/modules.order", ""))
		return false;
	if (run_tool(NULL, NULL, (const char *const[]){ "/usr/sbin/depmod", "-b", root, REL,
							NULL }) != 0)
		return false;
	return path_exists(root, MDIR "/modules.alias.bin");
}

struct env {
	char *root;
	struct ksim k;
	struct vfk_ctx *ctx;
	struct vfk_host *host;
};

/* A private variant-server with a depmod-built tree, the simulator as its kernel. */
static bool env_open(struct env *e, bool with_rivals)
{
	memset(e, 0, sizeof(*e));
	e->root = fixture_host(HOST);
	if (!e->root || !depmod_tree(e->root, with_rivals))
		return false;
	ksim_init(&e->k, e->root);
	if (vfk_ctx_new(e->root, &e->ctx) < 0)
		return false;
	vfk_ctx_set_write_hook(e->ctx, ksim_hook, &e->k);
	return vfk_host_scan(e->ctx, &e->host) == 0;
}

static void env_close(struct env *e)
{
	vfk_host_unref(e->host);
	vfk_ctx_unref(e->ctx);
	free(e->root);
}

static struct vfk_device *dev(struct env *e, const char *addr)
{
	struct vfk_device *d = NULL;

	if (vfk_host_find_device(e->host, addr, &d) < 0)
		test_fail_(__FILE__, __LINE__, "no device %s", addr);
	return d;
}

/* "DRIVER (WHY)" of @addr's choice (static buffer). */
static const char *choice(struct env *e, const char *addr)
{
	static char buf[400];
	char name[64], why[320];
	struct vfk_device *d = dev(e, addr);

	if (!d || vfk_device_vfio_driver(d, name, sizeof(name), why, sizeof(why)) < 0)
		return "(error)";
	snprintf(buf, sizeof(buf), "%s (%s)", name, why);
	return buf;
}

static const char *drv(struct env *e, const char *addr)
{
	static char buf[2][64];
	static int n;

	n = !n;
	return ksim_driver(e->root, addr, buf[n], sizeof(buf[n]));
}

static const char *ovr(struct env *e, const char *addr)
{
	static char buf[64];

	return ksim_override(e->root, addr, buf, sizeof(buf));
}

/* Bind @addr through the library, @driver forced unless NULL. */
static int bind_dev(struct env *e, const char *addr, const char *driver, char *err, size_t size)
{
	struct vfk_bind *b;
	int r;

	r = vfk_bind_new(e->host, "test", 0, &b);
	if (r < 0)
		return r;
	vfk_bind_set_timeout(b, 300);
	r = vfk_bind_add_device(b, dev(e, addr));
	if (r == 0 && driver)
		r = vfk_bind_set_vfio_driver(b, driver);
	if (r == 0)
		r = vfk_bind_commit(b);
	snprintf(err, size, "%s", vfk_bind_get_error(b) ? vfk_bind_get_error(b) : "");
	vfk_bind_free(b);
	return r;
}

/* vfio-bind --sysroot ROOT ARGS...: exit status, output, errors. */
static int vfio_bind(const char *root, char **out, char **err, const char *a1, const char *a2,
		     const char *a3, const char *a4, const char *a5)
{
	const char *argv[] = { "vfio-bind", "--sysroot", root, a1, a2, a3, a4, a5, NULL };

	return run_tool(out, err, argv);
}

static size_t lines(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* ------------------------------------------------------------ the choice */

TEST(variant_most_specific_alias_wins_over_name_order, "of the modules whose vfio_pci: alias "
     "matches, the one pinning the most fields wins whatever its name: mlx5_vfio_pci (v, d) "
     "over acme_vfio_pci (v only, first by name) for the ConnectX VF, zzz_vfio_pci (v, d, sv, "
     "sd) over xe_vfio_pci (v, d) for the B50 VF")
{
	struct env e;

	REQUIRE(env_open(&e, true));
	CHECK_STREQ(choice(&e, CX_VF), "mlx5_vfio_pci (modules.alias " MLX5_ALIAS ")");
	CHECK_STREQ(choice(&e, XE_VF), "zzz_vfio_pci (modules.alias "
		    "vfio_pci:v00008086d0000E212sv00008086sd00001114bc*sc*i*)");
	env_close(&e);
}

TEST(variant_tie_goes_to_the_module_name_first, "two matching aliases pinning as many fields "
     "(nvgrace_gpu_vfio_pci's v+d, acme_vfio_pci's d+bc for the GH200): the module first in "
     "byte order wins, so the choice never depends on file order")
{
	struct env e;

	REQUIRE(env_open(&e, true));
	CHECK_STREQ(choice(&e, GH200), "acme_vfio_pci (modules.alias "
		    "vfio_pci:v*d00002342sv*sd*bc03sc*i*)");
	env_close(&e);
}

TEST(variant_upstream_drivers_are_chosen_for_their_devices, "with the upstream modules only: "
     "GH200 -> nvgrace_gpu_vfio_pci, ConnectX VF -> mlx5_vfio_pci, B50 VF -> xe-vfio-pci (the "
     "PCI driver name read from sys/module/xe_vfio_pci/drivers/pci:xe-vfio-pci, not the "
     "module's), each with the alias that matched")
{
	struct env e;

	REQUIRE(env_open(&e, false));
	CHECK_STREQ(choice(&e, GH200), "nvgrace_gpu_vfio_pci (modules.alias " GH200_ALIAS ")");
	CHECK_STREQ(choice(&e, CX_VF), "mlx5_vfio_pci (modules.alias " MLX5_ALIAS ")");
	CHECK_STREQ(choice(&e, XE_VF), "xe-vfio-pci (modules.alias " XE_ALIAS ")");
	/* the answer is kept: asked again, the same */
	CHECK_STREQ(choice(&e, XE_VF), "xe-vfio-pci (modules.alias " XE_ALIAS ")");
	env_close(&e);
}

TEST(variant_device_matching_no_variant_gets_vfio_pci, "the H100 PCIe and the ConnectX PF "
     "match only vfio_pci's own alias: vfio-pci, 'no variant driver matches'")
{
	struct env e;

	REQUIRE(env_open(&e, false));
	CHECK_STREQ(choice(&e, H100), "vfio-pci (no variant driver matches)");
	CHECK_STREQ(choice(&e, "0000:04:00.0"), "vfio-pci (no variant driver matches)");
	env_close(&e);
}

TEST(variant_tree_without_binary_index_or_below_usr_lib, "a tree as mkhost.py writes it (text "
     "modules.alias, no depmod indexes) still gives mlx5_vfio_pci from the text; a depmod tree "
     "under usr/lib/modules is found; no module tree at all is vfio-pci saying why")
{
	char *root = fixture_host(HOST), from[PATH_MAX], to[PATH_MAX];
	struct vfk_ctx *ctx = NULL;
	struct vfk_host *host = NULL;
	struct vfk_device *d;
	char name[64], why[320];

	REQUIRE(root);
	REQUIRE(!path_exists(root, MDIR "/modules.alias.bin"));
	REQUIRE(vfk_ctx_new(root, &ctx) == 0 && vfk_host_scan(ctx, &host) == 0);
	REQUIRE(vfk_host_find_device(host, CX_VF, &d) == 0);
	CHECK_INT(vfk_device_vfio_driver(d, name, sizeof(name), why, sizeof(why)), 0);
	CHECK_STREQ(name, "mlx5_vfio_pci");
	CHECK_STREQ(why, "modules.alias " MLX5_ALIAS);
	vfk_host_unref(host);

	REQUIRE(depmod_tree(root, false));
	snprintf(from, sizeof(from), "%s/" MDIR, root);
	REQUIRE(put_file(root, "usr/lib/modules/.keep", ""));
	snprintf(to, sizeof(to), "%s/usr/lib/modules/" REL, root);
	REQUIRE(rename(from, to) == 0);
	REQUIRE(vfk_host_scan(ctx, &host) == 0);
	REQUIRE(vfk_host_find_device(host, GH200, &d) == 0);
	CHECK_INT(vfk_device_vfio_driver(d, name, sizeof(name), why, sizeof(why)), 0);
	CHECK_STREQ(name, "nvgrace_gpu_vfio_pci");
	vfk_host_unref(host);

	remove_path(root, "usr/lib/modules/" REL);
	REQUIRE(vfk_host_scan(ctx, &host) == 0);
	REQUIRE(vfk_host_find_device(host, GH200, &d) == 0);
	CHECK_INT(vfk_device_vfio_driver(d, name, sizeof(name), why, sizeof(why)), 0);
	CHECK_STREQ(name, "vfio-pci");
	CHECK_STREQ(why, "no module tree for " REL);
	/* a buffer too small is said, not cut silently */
	CHECK_INT(vfk_device_vfio_driver(d, name, 4, NULL, 0), -ENOSPC);
	vfk_host_unref(host);
	vfk_ctx_unref(ctx);
	free(root);
}

TEST(variant_predicate_names_every_vfio_driver, "vfk_driver_is_vfio: vfio-pci, the upstream "
     "variants (module and driver names), not native drivers, pci-stub or NULL")
{
	static const char *const yes[] = { "vfio-pci", "vfio_pci", "mlx5_vfio_pci",
		"hisi_acc_vfio_pci", "pds_vfio_pci", "nvgrace_gpu_vfio_pci", "virtio_vfio_pci",
		"qat_vfio_pci", "xe-vfio-pci", "xe_vfio_pci" };
	static const char *const no[] = { "nvidia", "mlx5_core", "xe", "pci-stub", "vfio",
		"vfio_pci_core", "vfio-pci-core", "" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!vfk_driver_is_vfio(yes[i]))
			test_fail_(__FILE__, __LINE__, "%s is not taken for a VFIO driver", yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (vfk_driver_is_vfio(no[i]))
			test_fail_(__FILE__, __LINE__, "%s is taken for a VFIO driver", no[i]);
	CHECK(!vfk_driver_is_vfio(NULL));
}

/* --------------------------------------------------------------- binding */

TEST(variant_bind_ends_on_the_variant_and_journals_it, "a bind of the ConnectX VF writes "
     "mlx5_vfio_pci into driver_override, waits for that driver, gets /dev/vfio/9; the "
     "journal records vfio=mlx5_vfio_pci and status --json shows it")
{
	struct env e;
	struct vfk_journal *j;
	char err[512], *text, *out = NULL, path[PATH_MAX];

	REQUIRE(env_open(&e, false));
	CHECK_INT(bind_dev(&e, CX_VF, NULL, err, sizeof(err)), 0);
	CHECK_STREQ(err, "");
	CHECK_STREQ(ovr(&e, CX_VF), "mlx5_vfio_pci");
	CHECK_STREQ(drv(&e, CX_VF), "mlx5_vfio_pci");
	CHECK(path_exists(e.root, "dev/vfio/9"));
	REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
	REQUIRE(vfk_journal_count(j) == 1);
	CHECK_STREQ(vfk_journal_get(j, 0)->driver, "mlx5_core");
	CHECK_STREQ(vfk_journal_get(j, 0)->vfio_driver, "mlx5_vfio_pci");
	vfk_journal_free(j);
	snprintf(path, sizeof(path), "%s/run/vfiokit/journal", e.root);
	text = read_file(path);
	CHECK_CONTAINS(text, CX_VF " state=bound driver=mlx5_core override= owner=test since=");
	CHECK_CONTAINS(text, " vfio=mlx5_vfio_pci\n");
	free(text);
	CHECK_INT(vfio_bind(e.root, &out, NULL, "status", "--json", NULL, NULL, NULL), 0);
	CHECK_CONTAINS(out, "\"original_driver\":\"mlx5_core\"");
	CHECK_CONTAINS(out, "\"vfio_driver\":\"mlx5_vfio_pci\"");
	free(out);
	env_close(&e);
}

TEST(variant_restore_returns_the_native_driver, "restore after a bind to mlx5_vfio_pci puts "
     "the VF back on mlx5_core (its original driver, not a VFIO one), override cleared, journal "
     "empty, /dev/vfio node gone")
{
	struct env e;
	struct vfk_journal *j;
	char err[512];

	REQUIRE(env_open(&e, false));
	REQUIRE(bind_dev(&e, CX_VF, NULL, err, sizeof(err)) == 0);
	CHECK_INT(vfk_restore(e.ctx, NULL, 0, 0, err, sizeof(err)), 0);
	CHECK_STREQ(drv(&e, CX_VF), "mlx5_core");
	CHECK_STREQ(ovr(&e, CX_VF), "");
	CHECK(!path_exists(e.root, "dev/vfio/9"));
	REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
	CHECK_INT(vfk_journal_count(j), 0);
	vfk_journal_free(j);
	env_close(&e);
}

TEST(variant_forced_driver_is_used_and_journalled_as_vfio_pci, "vfk_bind_set_vfio_driver "
     "\"vfio-pci\" on the ConnectX VF: driver_override vfio-pci, on vfio-pci, and the journal "
     "line as a vfiokit before variants wrote it (no vfio=), which loads as vfio-pci")
{
	struct env e;
	struct vfk_journal *j;
	char err[512], *text, path[PATH_MAX];

	REQUIRE(env_open(&e, false));
	CHECK_INT(bind_dev(&e, CX_VF, "vfio-pci", err, sizeof(err)), 0);
	CHECK_STREQ(ovr(&e, CX_VF), "vfio-pci");
	CHECK_STREQ(drv(&e, CX_VF), "vfio-pci");
	snprintf(path, sizeof(path), "%s/run/vfiokit/journal", e.root);
	text = read_file(path);
	CHECK(text && !strstr(text, "vfio="));
	free(text);
	REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
	REQUIRE(vfk_journal_count(j) == 1);
	CHECK_STREQ(vfk_journal_get(j, 0)->vfio_driver, "vfio-pci");
	vfk_journal_free(j);
	env_close(&e);
}

TEST(variant_driver_option_forces_and_refuses_in_one_line, "vfio-bind --driver vfio-pci binds "
     "the ConnectX VF to vfio-pci ('asked for'); a VFIO driver this host lacks is one line, "
     "exit 1, nothing written; a name that is no VFIO driver's one line, exit 2; --driver "
     "with restore exit 2")
{
	char *root = fixture_host(HOST), *out = NULL, *err = NULL;

	REQUIRE(root && depmod_tree(root, false));
	CHECK_INT(vfio_bind(root, &out, &err, "-n", "bind", CX_VF, "--driver", "vfio-pci"), 0);
	CHECK_CONTAINS(out, ":: binding " CX_VF " (mlx5_core) to vfio-pci (asked for (--driver))\n");
	CHECK_CONTAINS(out, "/sys/bus/pci/devices/" CX_VF "/driver_override <- vfio-pci\n");
	free(out);
	free(err);

	CHECK_INT(vfio_bind(root, &out, &err, "bind", CX_VF, "--driver", "pds_vfio_pci", NULL), 1);
	CHECK_INT(lines(err), 1);
	CHECK_CONTAINS(err, "no VFIO driver pds_vfio_pci on this host: not loaded (no "
		       "/sys/bus/pci/drivers/pds_vfio_pci) and no module pds_vfio_pci in /" MDIR);
	CHECK(!path_exists(root, "run/vfiokit/journal"));
	free(out);
	free(err);

	CHECK_INT(vfio_bind(root, &out, &err, "bind", CX_VF, "--driver", "mlx5_core", NULL), 2);
	CHECK_INT(lines(err), 1);
	CHECK_CONTAINS(err, "mlx5_core is not a VFIO driver");
	free(out);
	free(err);

	CHECK_INT(vfio_bind(root, &out, &err, "restore", "--all", "--driver", "vfio-pci", NULL), 2);
	CHECK_CONTAINS(err, "--driver goes with bind");
	free(out);
	free(err);
	CHECK_STREQ(ksim_driver(root, CX_VF, (char[64]){ 0 }, 64), "mlx5_core");
	free(root);
}

TEST(variant_dry_run_says_which_module_it_would_load_and_use, "vfio-bind -n bind of the "
     "GH200 and the H100: 'would load kernel module nvgrace_gpu_vfio_pci' (on disk, not loaded), "
     "each device's driver and why, the writes naming the driver, the summary counting both")
{
	char *root = fixture_host(HOST), *out = NULL, *err = NULL;

	REQUIRE(root && depmod_tree(root, false));
	CHECK_INT(vfio_bind(root, &out, &err, "-n", "bind", GH200, H100, NULL), 0);
	CHECK_CONTAINS(out, ":: would load kernel module nvgrace_gpu_vfio_pci\n");
	CHECK(!strstr(out, "would load kernel module vfio_pci"));	/* loaded already */
	CHECK_CONTAINS(out, ":: binding " GH200 " (nvidia) to nvgrace_gpu_vfio_pci (modules.alias "
		       GH200_ALIAS ")\n");
	CHECK_CONTAINS(out, "/sys/bus/pci/devices/" GH200 "/driver_override <- nvgrace_gpu_vfio_pci\n");
	CHECK_CONTAINS(out, ":: binding " H100 " (nvidia) to vfio-pci (no variant driver matches)\n");
	CHECK_CONTAINS(out, "/sys/bus/pci/devices/" H100 "/driver_override <- vfio-pci\n");
	CHECK_CONTAINS(out, ":: 2 devices on nvgrace_gpu_vfio_pci, vfio-pci\n");
	CHECK(!path_exists(root, "run/vfiokit/journal"));
	free(out);
	free(err);
	/* a real bind on a tree where the module is not loaded: one line, rolled back */
	CHECK_INT(vfio_bind(root, &out, &err, "bind", GH200, NULL, NULL, NULL), 1);
	CHECK_CONTAINS(err, "the nvgrace_gpu_vfio_pci driver is not loaded in the host tree");
	free(out);
	free(err);
	free(root);
}

/* --------------------------------------------- already on a variant driver */

TEST(variant_device_on_a_variant_counts_as_on_vfio, "the B50 VF on xe-vfio-pci: no host driver "
     "to release (vfio-ls --json host_driver null, the PF's xe not), a bind leaves it where it "
     "is (override only, no unbind); a GH200 moved onto nvgrace_gpu_vfio_pci is the plan's "
     "first choice, 'already on nvgrace_gpu_vfio_pci'")
{
	struct env e;
	char *out = NULL, *err = NULL, *ini;
	json_object *o, *gpus, *g, *x;
	size_t i, seen = 0;
	char p[PATH_MAX], t[PATH_MAX];

	REQUIRE(env_open(&e, false));
	CHECK_INT(run_tool(&out, &err, (const char *const[]){ "vfio-ls", "--sysroot", e.root,
							      "--json", NULL }), 0);
	o = json_tokener_parse(out ? out : "");
	REQUIRE(o && json_object_object_get_ex(o, "gpus", &gpus));
	for (i = 0; i < json_object_array_length(gpus); i++) {
		const char *addr;
		g = json_object_array_get_idx(gpus, i);
		if (!json_object_object_get_ex(g, "address", &x))
			continue;
		addr = json_object_get_string(x);
		json_object_object_get_ex(g, "host_driver", &x);
		if (!strcmp(addr, XE_VF_BOUND)) {
			CHECK(x == NULL);
			seen++;
		} else if (!strcmp(addr, XE_PF)) {
			CHECK_STREQ(json_object_get_string(x), "xe");
			seen++;
		}
	}
	CHECK_INT(seen, 2);
	json_object_put(o);
	free(out);
	free(err);

	CHECK_INT(vfio_bind(e.root, &out, &err, "-n", "bind", XE_VF_BOUND, NULL, NULL), 0);
	CHECK_CONTAINS(out, ":: binding " XE_VF_BOUND " (xe-vfio-pci) to xe-vfio-pci (modules.alias "
		       XE_ALIAS ")\n");
	CHECK(!strstr(out, "unbind"));
	free(out);
	free(err);

	/* the GH200 on its variant, as after a bind by another tool */
	snprintf(p, sizeof(p), "%s/sys/bus/pci/drivers/nvgrace_gpu_vfio_pci", e.root);
	REQUIRE(mkdir(p, 0755) == 0);
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/" GH200 "/driver", e.root);
	snprintf(t, sizeof(t), "../../../bus/pci/drivers/nvgrace_gpu_vfio_pci");
	REQUIRE(unlink(p) == 0 && symlink(t, p) == 0);
	{	/* and its uevent, which the kernel makes from the bound driver */
		char *ue, *nl, text[4096];
		snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/" GH200 "/uevent", e.root);
		ue = read_file(p);
		REQUIRE(ue && strncmp(ue, "DRIVER=", 7) == 0 && (nl = strchr(ue, '\n')));
		snprintf(text, sizeof(text), "DRIVER=nvgrace_gpu_vfio_pci%s", nl);
		free(ue);
		REQUIRE(put_file(e.root, "sys/bus/pci/devices/" GH200 "/uevent", text));
	}
	ini = write_temp("v.ini", "[vm]\nname = v\nmemory = 4G\nvcpus = 2\n");
	REQUIRE(ini);
	CHECK_INT(run_tool(&out, &err, (const char *const[]){ "vfio-vm", "plan", ini, "--sysroot",
							      e.root, NULL }), 0);
	CHECK_CONTAINS(out, "    " GH200 "  chosen: discrete, already on nvgrace_gpu_vfio_pci, ");
	CHECK_CONTAINS(out, "    vfio driver: nvgrace_gpu_vfio_pci (modules.alias " GH200_ALIAS ")\n");
	free(out);
	free(err);
	free(ini);
	env_close(&e);
}

TEST(variant_plan_says_each_devices_vfio_driver_and_why, "vfio-vm plan with the GH200 and the "
     "ConnectX VF as [hostdev]: a 'vfio driver:' line for each with the alias, the note naming "
     "nvgrace_gpu_vfio_pci; --json carries functions[].vfio_driver {name, why}")
{
	char *root = fixture_host(HOST), *out = NULL, *err = NULL, *ini;
	json_object *o, *a, *f, *v, *x;

	REQUIRE(root && depmod_tree(root, false));
	ini = write_temp("p.ini", "[vm]\nname = gh\nmemory = 8G\nvcpus = 4\n[gpu]\ndevice = "
			 "05:00.0\n[hostdev.nic]\ndevice = 04:00.1\n");
	REQUIRE(ini);
	CHECK_INT(run_tool(&out, &err, (const char *const[]){ "vfio-vm", "plan", ini, "--sysroot",
							      root, NULL }), 0);
	CHECK_CONTAINS(out, "  GPU " GH200 ": ");
	CHECK_CONTAINS(out, "    vfio driver: nvgrace_gpu_vfio_pci (modules.alias " GH200_ALIAS ")\n");
	CHECK_CONTAINS(out, "    vfio driver: mlx5_vfio_pci (modules.alias " MLX5_ALIAS ")\n");
	CHECK_CONTAINS(out, GH200 " is on nvidia now; vfiokit hands its functions to "
		       "nvgrace_gpu_vfio_pci when the VM starts");
	free(out);
	free(err);
	CHECK_INT(run_tool(&out, &err, (const char *const[]){ "vfio-vm", "plan", ini, "--json",
							      "--sysroot", root, NULL }), 0);
	o = json_tokener_parse(out ? out : "");
	REQUIRE(o);
	REQUIRE(json_object_object_get_ex(o, "gpus", &a));
	f = json_object_array_get_idx(a, 0);
	REQUIRE(f && json_object_object_get_ex(f, "functions", &a));
	f = json_object_array_get_idx(a, 0);
	REQUIRE(f && json_object_object_get_ex(f, "vfio_driver", &v));
	CHECK(json_object_object_get_ex(v, "name", &x));
	CHECK_STREQ(json_object_get_string(x), "nvgrace_gpu_vfio_pci");
	CHECK(json_object_object_get_ex(v, "why", &x));
	CHECK_STREQ(json_object_get_string(x), "modules.alias " GH200_ALIAS);
	REQUIRE(json_object_object_get_ex(o, "hostdevs", &a));
	f = json_object_array_get_idx(a, 0);
	REQUIRE(f && json_object_object_get_ex(f, "functions", &a));
	f = json_object_array_get_idx(a, 0);
	REQUIRE(f && json_object_object_get_ex(f, "vfio_driver", &v));
	CHECK(json_object_object_get_ex(v, "name", &x));
	CHECK_STREQ(json_object_get_string(x), "mlx5_vfio_pci");
	json_object_put(o);
	free(out);
	free(err);
	free(ini);
	free(root);
}

TEST(variant_up_binds_the_plans_devices_to_their_variants, "the plan's bind (what vfio-vm up "
     "commits) moves the ConnectX VF [hostdev] to mlx5_vfio_pci and the H100 to vfio-pci in one "
     "transaction")
{
	struct vmenv e;
	struct ksim k;
	char err[512], *root = fixture_host(HOST);

	/* vm_plan_bind() builds its own copy: give it the depmod tree through a
	 * fixture of ours instead */
	REQUIRE(root && depmod_tree(root, false));
	ksim_init(&k, root);
	REQUIRE(vm_plan_root(&e, root, "[vm]\nname = h\nmemory = 8G\nvcpus = 4\n[gpu]\ndevice = "
			     "06:00.0\n[hostdev.nic]\ndevice = 04:00.2\n") == 0);
	vfk_ctx_set_write_hook(e.ctx, ksim_hook, &k);
	{
		struct vfk_bind *b;
		REQUIRE(vfk_bind_new(e.host, "h", 0, &b) == 0);
		vfk_bind_set_timeout(b, 300);
		CHECK_INT(vfk_plan_add_to_bind(e.plan, b), 0);
		CHECK_INT(vfk_bind_commit(b), 0);
		snprintf(err, sizeof(err), "%s", vfk_bind_get_error(b) ? vfk_bind_get_error(b) : "");
		CHECK_STREQ(err, "");
		vfk_bind_free(b);
	}
	CHECK_STREQ(ksim_driver(root, CX_VF2, (char[64]){ 0 }, 64), "mlx5_vfio_pci");
	CHECK_STREQ(ksim_driver(root, H100, (char[64]){ 0 }, 64), "vfio-pci");
	vm_close(&e);
	free(root);
}

/* ------------------------------------------------- what is never rebound */

TEST(variant_nvidia_vgpu_vf_is_never_rebound, "on nvidia-vgpu17-vf a VF running a vGPU and a "
     "free one are refused in one line (exit 1), stay on nvidia, no journal; their VFIO driver "
     "is nvidia itself")
{
	char *root = fixture_host("nvidia-vgpu17-vf"), *out = NULL, *err = NULL;
	struct vfk_ctx *ctx = NULL;
	struct vfk_host *host = NULL;
	struct vfk_device *d;
	char name[64], why[320];
	static const char *const vfs[] = { "0000:41:00.4", "0000:41:00.5" };
	size_t i;

	REQUIRE(root);
	for (i = 0; i < 2; i++) {
		CHECK_INT(vfio_bind(root, &out, &err, "bind", vfs[i], NULL, NULL, NULL), 1);
		CHECK_INT(lines(err), 1);
		CHECK_CONTAINS(err, "is an NVIDIA vGPU VF: the nvidia driver is its VFIO driver");
		CHECK_STREQ(ksim_driver(root, vfs[i], (char[64]){ 0 }, 64), "nvidia");
		free(out);
		free(err);
	}
	CHECK(!path_exists(root, "run/vfiokit/journal"));
	REQUIRE(vfk_ctx_new(root, &ctx) == 0 && vfk_host_scan(ctx, &host) == 0);
	REQUIRE(vfk_host_find_device(host, vfs[0], &d) == 0);
	CHECK_INT(vfk_device_vfio_driver(d, name, sizeof(name), why, sizeof(why)), 0);
	CHECK_STREQ(name, "nvidia");
	CHECK_CONTAINS(why, "NVIDIA vGPU VF");
	vfk_host_unref(host);
	vfk_ctx_unref(ctx);
	free(root);
}

/* ----------------------------------------------------------- the journal */

TEST(variant_journal_without_vfio_field_means_vfio_pci, "a journal written before variant "
     "drivers (no vfio=) loads with vfio-pci as each device's VFIO driver; vfio=mlx5_vfio_pci "
     "loads as such; restore from either returns the native driver")
{
	struct env e;
	struct vfk_journal *j;
	char err[512];

	REQUIRE(env_open(&e, false));
	REQUIRE(bind_dev(&e, CX_VF, NULL, err, sizeof(err)) == 0);
	/* v1 has no checksum to fake: the same state as an older vfiokit wrote it */
	REQUIRE(put_file(e.root, "run/vfiokit/journal", "# vfiokit journal v1\n" CX_VF
			 " state=bound driver=mlx5_core override= owner=old since=1\n"));
	REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
	REQUIRE(vfk_journal_count(j) == 1);
	CHECK_STREQ(vfk_journal_get(j, 0)->vfio_driver, "vfio-pci");
	vfk_journal_free(j);
	REQUIRE(put_file(e.root, "run/vfiokit/journal", "# vfiokit journal v1\n" CX_VF
			 " state=bound driver=mlx5_core override= owner=old since=1 "
			 "vfio=mlx5_vfio_pci\n"));
	REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
	CHECK_STREQ(vfk_journal_get(j, 0)->vfio_driver, "mlx5_vfio_pci");
	vfk_journal_free(j);
	CHECK_INT(vfk_restore(e.ctx, NULL, 0, 0, err, sizeof(err)), 0);
	CHECK_STREQ(drv(&e, CX_VF), "mlx5_core");
	/* a vfio= value that is no name is refused like any field */
	REQUIRE(put_file(e.root, "run/vfiokit/journal", "# vfiokit journal v1\n" CX_VF
			 " state=bound driver=mlx5_core override= owner=old since=1 vfio=..\n"));
	CHECK_INT(vfk_journal_load(e.ctx, &j), -EINVAL);
	CHECK_CONTAINS(vfk_ctx_get_error(e.ctx), "vfio=.. is not a name");
	env_close(&e);
}

TEST(variant_recovery_from_scan_takes_devices_off_variants, "restore --from-scan with a "
     "damaged journal naming the ConnectX VF on mlx5_vfio_pci: override cleared, unbound from "
     "mlx5_vfio_pci, probed back to mlx5_core")
{
	struct env e;
	char err[512];

	REQUIRE(env_open(&e, false));
	REQUIRE(bind_dev(&e, CX_VF, NULL, err, sizeof(err)) == 0);
	REQUIRE(put_file(e.root, "run/vfiokit/journal", CX_VF " state=bou"));
	CHECK_INT(vfk_restore_from_scan(e.ctx, NULL, 0, 0, err, sizeof(err)), 0);
	CHECK_STREQ(err, "");
	CHECK_STREQ(drv(&e, CX_VF), "mlx5_core");
	CHECK_STREQ(ovr(&e, CX_VF), "");
	CHECK(path_exists(e.root, "run/vfiokit/journal.damaged"));
	env_close(&e);
}

TEST(variant_udev_hook_names_the_variant_driver_for_boot,
     "udev-hook of a persisted device prints VFIOKIT_DRIVER=mlx5_vfio_pci for the ConnectX VF "
     "and vfio-pci for the H100, which no variant matches: the boot rule writes that into "
     "driver_override and loads it; an unpersisted device gets neither line")
{
	char *root = fixture_host(HOST), *out = NULL, *err = NULL;

	REQUIRE(root && depmod_tree(root, false));
	REQUIRE(vfio_bind(root, &out, &err, "persist", CX_VF, NULL, NULL, NULL) == 0);
	free(out);
	free(err);
	REQUIRE(vfio_bind(root, &out, &err, "persist", H100, NULL, NULL, NULL) == 0);
	free(out);
	free(err);
	CHECK_INT(vfio_bind(root, &out, &err, "udev-hook", CX_VF, NULL, NULL, NULL), 0);
	CHECK_STREQ(out, "VFIOKIT_PERSIST=1\nVFIOKIT_DRIVER=mlx5_vfio_pci\n");
	free(out);
	free(err);
	CHECK_INT(vfio_bind(root, &out, &err, "udev-hook", H100, NULL, NULL, NULL), 0);
	CHECK_STREQ(out, "VFIOKIT_PERSIST=1\nVFIOKIT_DRIVER=vfio-pci\n");
	free(out);
	free(err);
	CHECK_INT(vfio_bind(root, &out, &err, "udev-hook", CX_VF2, NULL, NULL, NULL), 0);
	CHECK_STREQ(out ? out : "", "");
	free(out);
	free(err);
	free(root);
}
