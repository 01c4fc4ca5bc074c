/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reset between guests (issue 20 point 3, "reset quirks") on the
 * reset-quirks fixture: one card per kind of reset (FLR, a bus reset alone
 * or on a shared bus, the AMD reset bug's rows, a kernel without
 * reset_method, unreadable config space, a card that stopped answering),
 * each verdict and reason from the library, as vfio-ls --json and vfio-check
 * --gpu show it, as a plan warns of it; and restore leaving a card that does
 * not reset on vfio-pci (journal left=), a bind taking it over, and
 * --force-native giving it back.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "kenv.h"
#include "vmtest.h"
#include "vfiokit.h"

#define HOST "reset-quirks"
#define NAVI21 "0000:01:00.0"
#define NAVI21_AUDIO "0000:01:00.1"
#define POLARIS "0000:02:00.0"
#define GTX1080 "0000:03:00.0"		/* no FLR, alone below 00:01.2 */
#define GT610 "0000:05:00.0"		/* no FLR, bus 05 shared with a NIC */
#define PCI_NIC "0000:05:01.0"
#define RTX4090 "0000:06:00.0"		/* FLR */
#define A4000 "0000:07:00.0"		/* FLR, no reset_method attribute */
#define GTX1660 "0000:08:00.0"		/* config space cut to 64 bytes */
#define ARC "0000:09:00.0"		/* stopped answering, on vfio-pci */
#define NAVI44 "0000:0a:00.0"		/* RX 9060 XT */
#define V620 "0000:0b:00.0"		/* Navi 21 silicon, class 0380 */
#define JOURNAL "run/vfiokit/journal"

static void free_str(char **p) { free(*p); }
#define AUTOFREE __attribute__((cleanup(free_str))) char *

/* The fixture tree built once per run, read only; kept in a static so the
 * path stays reachable (not a leak) until the test's process ends. */
static const char *shared(void)
{
	static char *root;

	if (!root)
		root = fixture_host_shared(HOST);
	return root;
}

/* The shared fixture, scanned; the device at @addr. */
struct fx {
	struct vfk_ctx *ctx;
	struct vfk_host *host;
};

static bool fx_open(struct fx *f, const char *root)
{
	memset(f, 0, sizeof(*f));
	return root && vfk_ctx_new(root, &f->ctx) == 0 && vfk_host_scan(f->ctx, &f->host) == 0;
}

static void fx_close(struct fx *f)
{
	vfk_host_unref(f->host);
	vfk_ctx_unref(f->ctx);
}

static struct vfk_device *dev(const struct fx *f, const char *addr)
{
	struct vfk_device *d = NULL;

	if (vfk_host_find_device(f->host, addr, &d) < 0)
		test_fail_(__FILE__, __LINE__, "no device %s", addr);
	return d;
}

/* The verdict, quirk and (part of the) reason of one device, checked. */
static void check_reset(const struct fx *f, const char *addr, enum vfk_reset_verdict v,
			enum vfk_reset_quirk q, const char *reason)
{
	struct vfk_device *d = dev(f, addr);

	if (!d)
		return;
	if (vfk_device_get_reset_verdict(d) != v || vfk_device_get_reset_quirk(d) != q)
		test_fail_(__FILE__, __LINE__, "%s: verdict %s quirk %s, expected %s %s (%s)", addr,
			   vfk_reset_verdict_to_string(vfk_device_get_reset_verdict(d)),
			   vfk_reset_quirk_to_string(vfk_device_get_reset_quirk(d)),
			   vfk_reset_verdict_to_string(v), vfk_reset_quirk_to_string(q),
			   vfk_device_get_reset_reason(d));
	CHECK_CONTAINS(vfk_device_get_reset_reason(d), reason);
}

/* ------------------------------------------------------------ verdicts */

TEST(reset_navi21_does_not_reset_and_stays_on_vfio_with_its_audio,
     "an RX 6800 XT (Navi 21, 1002:73bf) is broken (quirk no-reset) although it advertises "
     "FLR; it and its HDMI audio function must stay on VFIO after a guest")
{
	struct fx f;

	REQUIRE(fx_open(&f, shared()));
	check_reset(&f, NAVI21, VFK_RESET_BROKEN, VFK_RESET_QUIRK_NO_RESET,
		    "AMD Navi 21 does not reset (the AMD reset bug)");
	CHECK_INT(vfk_device_get_flr(dev(&f, NAVI21)), 1);
	CHECK_CONTAINS(vfk_device_get_reset_advice(dev(&f, NAVI21)), "keep it on vfio-pci");
	CHECK_CONTAINS(vfk_device_get_reset_advice(dev(&f, NAVI21)), "Boot the host on another GPU");
	CHECK_CONTAINS(vfk_device_get_reset_advice(dev(&f, NAVI21)), "disables the card before it shuts down");
	CHECK(vfk_device_reset_keeps_on_vfio(dev(&f, NAVI21)));
	CHECK(vfk_device_reset_keeps_on_vfio(dev(&f, NAVI21_AUDIO)));
	fx_close(&f);
}

TEST(reset_polaris_needs_vendor_reset_until_device_specific_is_selected,
     "an RX 580 (Polaris 10) is broken with quirk vendor-reset and the advice names "
     "vendor-reset and device_specific; with reset_method 'device_specific bus' it is ok "
     "and may go back")
{
	AUTOFREE root = fixture_host(HOST);
	struct fx f;

	REQUIRE(fx_open(&f, root));
	check_reset(&f, POLARIS, VFK_RESET_BROKEN, VFK_RESET_QUIRK_VENDOR_RESET,
		    "AMD Polaris 10 does not reset without help");
	CHECK_CONTAINS(vfk_device_get_reset_advice(dev(&f, POLARIS)),
		       "load the vendor-reset module early");
	CHECK_CONTAINS(vfk_device_get_reset_advice(dev(&f, POLARIS)),
		       "echo device_specific > /sys/bus/pci/devices/" POLARIS "/reset_method");
	CHECK_INT(vfk_device_get_flr(dev(&f, POLARIS)), 0);
	CHECK(vfk_device_reset_keeps_on_vfio(dev(&f, POLARIS)));
	fx_close(&f);
	REQUIRE(put_file(root, "sys/bus/pci/devices/" POLARIS "/reset_method",
			 "device_specific bus\n"));
	REQUIRE(fx_open(&f, root));
	check_reset(&f, POLARIS, VFK_RESET_OK, VFK_RESET_QUIRK_VENDOR_RESET,
		    "reset by the vendor-reset module");
	CHECK(!vfk_device_reset_keeps_on_vfio(dev(&f, POLARIS)));
	fx_close(&f);
}

TEST(reset_rx9060xt_navi44_resets_once_per_boot,
     "an RX 9060 XT (Navi 44, 1002:7590) is unreliable with quirk once-per-boot and stays "
     "on VFIO after a guest")
{
	struct fx f;

	REQUIRE(fx_open(&f, shared()));
	check_reset(&f, NAVI44, VFK_RESET_UNRELIABLE, VFK_RESET_QUIRK_ONCE_PER_BOOT,
		    "AMD Navi 44 resets once per boot");
	CHECK(vfk_device_reset_keeps_on_vfio(dev(&f, NAVI44)));
	CHECK_CONTAINS(vfk_device_get_reset_advice(dev(&f, NAVI44)), "stop the VM with an ACPI shutdown");
	fx_close(&f);
}

TEST(reset_nvidia_without_flr_alone_on_its_bus_is_bus_reset_only,
     "a GTX 1080 without FLR (no reset_method: its audio shares the bus) alone below its "
     "root port: bus-reset-only by a bus reset of 00:01.2, nothing to keep")
{
	struct fx f;

	REQUIRE(fx_open(&f, shared()));
	check_reset(&f, GTX1080, VFK_RESET_BUS_ONLY, VFK_RESET_QUIRK_NO_FLR,
		    "an NVIDIA GPU without FLR: reset by a bus reset of 0000:00:01.2");
	CHECK_INT(vfk_device_get_flr(dev(&f, GTX1080)), 0);
	CHECK(vfk_device_get_reset_method(dev(&f, GTX1080)) == NULL);
	CHECK(!vfk_device_reset_keeps_on_vfio(dev(&f, GTX1080)));
	fx_close(&f);
}

TEST(reset_nvidia_without_flr_sharing_its_bus_is_unreliable,
     "a conventional PCI GT 610 without FLR on bus 05 with a PCI NIC: unreliable, the reason "
     "and the advice name the NIC")
{
	struct fx f;

	REQUIRE(fx_open(&f, shared()));
	check_reset(&f, GT610, VFK_RESET_UNRELIABLE, VFK_RESET_QUIRK_NO_FLR,
		    "but that bus also holds " PCI_NIC);
	CHECK_CONTAINS(vfk_device_get_reset_advice(dev(&f, GT610)), "give " PCI_NIC);
	CHECK(!vfk_device_reset_keeps_on_vfio(dev(&f, GT610)));
	fx_close(&f);
}

TEST(reset_card_with_flr_is_ok_and_reads_no_soft_reset,
     "an RTX 4090 with FLR is ok (reason FLR), its PM No_Soft_Reset read as clear; a Radeon "
     "Pro V620 (Navi 21 silicon, class 0380) is not in the consumer rows")
{
	struct fx f;

	REQUIRE(fx_open(&f, shared()));
	check_reset(&f, RTX4090, VFK_RESET_OK, VFK_RESET_QUIRK_NONE, "FLR (Function Level Reset)");
	CHECK_INT(vfk_device_get_flr(dev(&f, RTX4090)), 1);
	CHECK_INT(vfk_device_get_no_soft_reset(dev(&f, RTX4090)), 0);
	CHECK(vfk_device_get_reset_advice(dev(&f, RTX4090)) == NULL);
	check_reset(&f, V620, VFK_RESET_OK, VFK_RESET_QUIRK_NONE, "FLR");
	fx_close(&f);
}

TEST(reset_kernel_without_reset_method_is_judged_from_config_space,
     "an RTX A4000 on a kernel without reset_method (the reset file only): methods unknown, "
     "FLR read from DevCap, ok")
{
	struct fx f;

	REQUIRE(fx_open(&f, shared()));
	CHECK(vfk_device_get_reset_method(dev(&f, A4000)) == NULL);
	CHECK(vfk_device_has_reset(dev(&f, A4000)));
	CHECK_INT(vfk_device_get_flr(dev(&f, A4000)), 1);
	check_reset(&f, A4000, VFK_RESET_OK, VFK_RESET_QUIRK_NONE, "FLR");
	fx_close(&f);
}

TEST(reset_unreadable_config_space_is_unknown,
     "a GTX 1660 whose config space reads 64 bytes (non-root) and without reset_method: "
     "FLR and No_Soft_Reset -1, verdict unknown saying config space is not readable")
{
	struct fx f;

	REQUIRE(fx_open(&f, shared()));
	CHECK_INT(vfk_device_get_flr(dev(&f, GTX1660)), -1);
	CHECK_INT(vfk_device_get_no_soft_reset(dev(&f, GTX1660)), -1);
	check_reset(&f, GTX1660, VFK_RESET_UNKNOWN, VFK_RESET_QUIRK_NONE,
		    "config space is not readable (run as root)");
	CHECK(!vfk_device_reset_keeps_on_vfio(dev(&f, GTX1660)));
	fx_close(&f);
}

TEST(reset_device_that_stopped_answering_is_broken,
     "an Arc A770 whose config space reads all ones while power_state says D0: broken, its "
     "last reset failed, it stays on VFIO")
{
	struct fx f;

	REQUIRE(fx_open(&f, shared()));
	check_reset(&f, ARC, VFK_RESET_BROKEN, VFK_RESET_QUIRK_NONE,
		    "does not answer config reads although powered (D0): its last reset failed");
	CHECK(vfk_device_reset_keeps_on_vfio(dev(&f, ARC)));
	fx_close(&f);
}

/* ------------------------------------------------------------ vfio-ls */

static json_object *key(json_object *o, const char *k)
{
	json_object *v = NULL;

	if (!o || !json_object_object_get_ex(o, k, &v))
		test_fail_(__FILE__, __LINE__, "JSON key \"%s\" missing", k);
	return v;
}

static json_object *by_address(json_object *arr, const char *addr)
{
	size_t i;

	for (i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i), *a = NULL;
		if (json_object_object_get_ex(o, "address", &a) &&
		    !strcmp(json_object_get_string(a), addr))
			return o;
	}
	test_fail_(__FILE__, __LINE__, "%s not in the JSON array", addr);
	return NULL;
}

static json_object *ls_json(const char *root, const char *extra)
{
	const char *argv[] = { "vfio-ls", "--sysroot", root, "--json", extra, NULL };
	char *out = NULL, *err = NULL;
	json_object *j = NULL;

	if (run_tool(&out, &err, argv) == 0)
		j = json_tokener_parse(out ? out : "");
	if (!j)
		test_fail_(__FILE__, __LINE__, "vfio-ls --json failed: %s", err ? err : "");
	free(out);
	free(err);
	return j;
}

static const char *jstr(json_object *o, const char *k)
{
	json_object *v = key(o, k);

	return v ? json_object_get_string(v) : NULL;
}

TEST(reset_vfio_ls_json_gives_each_gpu_a_reset_object,
     "vfio-ls --json: gpus[].reset has flr, no_soft_reset, methods[], verdict, quirk, reason, "
     "advice, keep_on_vfio, with null where the kernel or config space says nothing")
{
	json_object *j = ls_json(shared(), NULL), *gpus, *r, *m;

	REQUIRE(j != NULL);
	gpus = key(j, "gpus");
	r = key(by_address(gpus, NAVI21), "reset");
	REQUIRE(r != NULL);
	CHECK(json_object_get_boolean(key(r, "flr")));
	CHECK(json_object_get_boolean(key(r, "no_soft_reset")));
	m = key(r, "methods");
	REQUIRE(json_object_is_type(m, json_type_array) && json_object_array_length(m) == 2);
	CHECK_STREQ(json_object_get_string(json_object_array_get_idx(m, 0)), "flr");
	CHECK_STREQ(json_object_get_string(json_object_array_get_idx(m, 1)), "bus");
	CHECK_STREQ(jstr(r, "verdict"), "broken");
	CHECK_STREQ(jstr(r, "quirk"), "no-reset");
	CHECK_CONTAINS(jstr(r, "reason"), "AMD Navi 21 does not reset");
	CHECK_CONTAINS(jstr(r, "advice"), "keep it on vfio-pci");
	CHECK(json_object_get_boolean(key(r, "keep_on_vfio")));
	r = key(by_address(gpus, GTX1080), "reset");
	CHECK_STREQ(jstr(r, "verdict"), "bus-reset-only");
	CHECK(key(r, "methods") == NULL);
	CHECK(!json_object_get_boolean(key(r, "flr")));
	r = key(by_address(gpus, GTX1660), "reset");
	CHECK_STREQ(jstr(r, "verdict"), "unknown");
	CHECK(key(r, "flr") == NULL && key(r, "no_soft_reset") == NULL);
	r = key(by_address(gpus, A4000), "reset");
	CHECK(key(r, "methods") == NULL);
	CHECK_STREQ(jstr(r, "verdict"), "ok");
	CHECK(key(r, "advice") == NULL);
	json_object_put(j);
}

/* A device of groups[].devices. */
static json_object *group_device(json_object *j, const char *addr)
{
	json_object *groups = key(j, "groups");
	size_t i, k;

	for (i = 0; groups && i < json_object_array_length(groups); i++) {
		json_object *devs = key(json_object_array_get_idx(groups, i), "devices");
		for (k = 0; devs && k < json_object_array_length(devs); k++) {
			json_object *d = json_object_array_get_idx(devs, k);
			if (!strcmp(jstr(d, "address"), addr))
				return d;
		}
	}
	test_fail_(__FILE__, __LINE__, "%s in no group", addr);
	return NULL;
}

TEST(reset_vfio_ls_verbose_json_and_text_give_every_device_its_reset_facts,
     "vfio-ls -v --json: each device has flr, no_soft_reset, reset_verdict and reset_reason "
     "next to reset_method and reset; vfio-ls -v prints FLReset/NoSoftRst and the verdict")
{
	const char *root = shared();
	json_object *j = ls_json(root, "-v"), *d;
	const char *argv[] = { "vfio-ls", "--sysroot", root, "-v", "--device", RTX4090, NULL };
	char *out = NULL, *err = NULL;

	REQUIRE(j != NULL);
	d = group_device(j, NAVI21_AUDIO);
	REQUIRE(d != NULL);
	CHECK(json_object_is_type(key(d, "reset"), json_type_boolean));	/* as before */
	CHECK(json_object_get_boolean(key(d, "flr")));
	CHECK_STREQ(jstr(d, "reset_verdict"), "ok");
	d = group_device(j, GTX1660);
	REQUIRE(d != NULL);
	CHECK(key(d, "flr") == NULL);
	CHECK_STREQ(jstr(d, "reset_verdict"), "unknown");
	CHECK_CONTAINS(jstr(d, "reset_reason"), "not readable");
	json_object_put(j);
	CHECK_INT(run_tool(&out, &err, argv), 0);
	CHECK_CONTAINS(out, "reset: flr bus, FLReset+ NoSoftRst-");
	CHECK_CONTAINS(out, "reset verdict: ok — FLR (Function Level Reset)");
	free(out);
	free(err);
}

TEST(reset_vfio_ls_gpu_block_warns_of_a_reset_that_is_not_plain,
     "vfio-ls --gpus: the Navi 21's block says 'reset: broken' and what to do, the GTX 1080's "
     "'reset: bus-reset-only'; the RTX 4090's (FLR) says nothing about its reset")
{
	const char *argv[] = { "vfio-ls", "--sysroot", shared(), "--gpus", NULL };
	char *out = NULL, *err = NULL, *block;

	CHECK_INT(run_tool(&out, &err, argv), 0);
	CHECK_CONTAINS(out, "    reset: broken — AMD Navi 21 does not reset (the AMD reset bug)");
	CHECK_CONTAINS(out, "      keep it on vfio-pci");
	CHECK_CONTAINS(out, "    reset: bus-reset-only — an NVIDIA GPU without FLR");
	block = out ? strstr(out, "  " RTX4090 " ") : NULL;
	REQUIRE(block != NULL);
	block = strstr(block + 1, "\n  0000:");	/* up to the next GPU */
	CHECK(block != NULL);
	if (block) {
		const char *start = strstr(out, "  " RTX4090 " ");
		CHECK(memmem(start, (size_t)(block - start), "reset:", 6) == NULL);
	}
	free(out);
	free(err);
}

/* ------------------------------------------------------------ vfio-check */

struct run {
	char *out, *err;
	int status;
};

static void check_gpu(struct run *r, const char *root, const char *addr, const char *extra)
{
	const char *argv[] = { "vfio-check", "--sysroot", root, "--gpu", addr, extra, NULL };

	r->status = run_tool(&r->out, &r->err, argv);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

TEST(reset_vfio_check_gpu_gives_the_reset_verdict_and_what_to_do,
     "vfio-check --gpu ADDR adds gpu-reset: WARN with the verdict and the fix for the Navi "
     "21, PASS for the RTX 4090, FAIL (exit 1) for the card that stopped answering; in JSON "
     "too")
{
	const char *root = shared();
	struct run r = { 0 };
	json_object *j, *checks, *c;

	check_gpu(&r, root, "01:00.0", NULL);
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "WARN  gpu-reset     GPU reset between guests              "
			      NAVI21 ": broken — AMD Navi 21 does not reset");
	CHECK_CONTAINS(r.out, "      fix: keep it on vfio-pci (a VM restart can have it again) and "
			      "reboot to give it back to amdgpu");
	run_free(&r);
	check_gpu(&r, root, RTX4090, NULL);
	CHECK_CONTAINS(r.out, "PASS  gpu-reset     GPU reset between guests              "
			      RTX4090 ": ok — FLR");
	run_free(&r);
	check_gpu(&r, root, ARC, "-q");
	CHECK_INT(r.status, 1);
	CHECK_CONTAINS(r.out, "FAIL  gpu-reset");
	CHECK_CONTAINS(r.out, "its last reset failed");
	run_free(&r);
	check_gpu(&r, root, POLARIS, "--json");
	j = json_tokener_parse(r.out ? r.out : "");
	REQUIRE(j != NULL);
	checks = key(j, "checks");
	c = json_object_array_get_idx(checks, json_object_array_length(checks) - 1);
	CHECK_STREQ(jstr(c, "id"), "gpu-reset");
	CHECK_STREQ(jstr(c, "status"), "warn");
	CHECK_CONTAINS(jstr(c, "fix"), "vendor-reset");
	json_object_put(j);
	run_free(&r);
}

TEST(reset_vfio_check_gpu_refuses_what_is_no_gpu,
     "vfio-check --gpu on a NIC exits 1 with one line naming it; a malformed address is a "
     "usage error (2)")
{
	const char *root = shared();
	struct run r = { 0 };

	check_gpu(&r, root, PCI_NIC, NULL);
	CHECK_INT(r.status, 1);
	CHECK_STREQ(r.err, "vfio-check: --gpu: no GPU at " PCI_NIC " (class 0300, 0302 or 0380)\n");
	run_free(&r);
	check_gpu(&r, root, "01:00", NULL);
	CHECK_INT(r.status, 2);
	CHECK_CONTAINS(r.err, "is not a PCI address");
	run_free(&r);
}

/* ------------------------------------------------------------ the plan */

TEST(reset_plan_warns_of_a_gpu_whose_reset_is_broken,
     "vfio-vm's plan for the Navi 21 has a 'warning:' note with its reset verdict, reason and "
     "advice; the plan for the RTX 4090 has none")
{
	struct vmenv e;
	const char *n;

	REQUIRE(vm_plan(&e, HOST, "[vm]\nname = t\n[gpu]\ndevice = " NAVI21 "\n") == 0);
	n = vm_note(&e, "reset between guests");
	CHECK_STREQ(n ? strstr(n, "warning: ") : NULL, n);
	CHECK_CONTAINS(n, "warning: " NAVI21 "'s reset between guests is broken: AMD Navi 21 does "
		       "not reset");
	CHECK_CONTAINS(n, "; keep it on vfio-pci");
	vm_close(&e);
	REQUIRE(vm_plan(&e, HOST, "[vm]\nname = t\n[gpu]\ndevice = " RTX4090 "\n") == 0);
	CHECK(vm_note(&e, "reset between guests") == NULL);
	vm_close(&e);
}

/* ------------------------------------------------------------ restore */

static int bind_gpu(struct kenv *e, const char *addr, const char *owner)
{
	struct vfk_bind *b = NULL;
	struct vfk_device *d;
	size_t i;
	int r;

	vfk_host_unref(e->host);
	e->host = NULL;
	if ((r = vfk_host_scan(e->ctx, &e->host)) < 0 ||
	    (r = vfk_host_find_device(e->host, addr, &d)) < 0 ||
	    (r = vfk_bind_new(e->host, owner, 0, &b)) < 0)
		return r;
	vfk_bind_set_timeout(b, 300);
	for (i = 0; i < vfk_host_gpu_count(e->host); i++)
		if (vfk_gpu_get_device(vfk_host_gpu(e->host, i)) == d)
			vfk_bind_add_gpu(b, vfk_host_gpu(e->host, i));
	r = vfk_bind_commit(b);
	snprintf(e->err, sizeof(e->err), "%s", vfk_bind_get_error(b) ? vfk_bind_get_error(b) : "");
	vfk_bind_free(b);
	return r;
}

static const char *drv(struct kenv *e, const char *addr)
{
	static char buf[4][64];
	static int n;

	n = (n + 1) % 4;
	return ksim_driver(e->root, addr, buf[n], sizeof(buf[n]));
}

static const struct vfk_journal_entry *entry(struct vfk_journal *j, const char *addr)
{
	size_t i;

	for (i = 0; j && i < vfk_journal_count(j); i++)
		if (!strcmp(vfk_journal_get(j, i)->address, addr))
			return vfk_journal_get(j, i);
	return NULL;
}

TEST(reset_restore_leaves_a_navi21_on_vfio_pci_and_marks_the_journal,
     "after a bind, restore --all leaves the Navi 21 and its audio on vfio-pci, returns 0, "
     "says 'left 0000:01:00.0 on vfio-pci: AMD Navi 21 does not reset; reboot to give it back "
     "to amdgpu', and the journal keeps both with left=no-reset")
{
	struct kenv e;
	struct vfk_journal *j = NULL;
	AUTOFREE text = NULL;

	REQUIRE(kenv_open(&e, HOST));
	REQUIRE(bind_gpu(&e, NAVI21, "vm1") == 0);
	CHECK_STREQ(drv(&e, NAVI21), "vfio-pci");
	e.progress[0] = '\0';
	CHECK_INT(vfk_restore(e.ctx, NULL, 0, 0, e.err, sizeof(e.err)), 0);
	CHECK_STREQ(drv(&e, NAVI21), "vfio-pci");
	CHECK_STREQ(drv(&e, NAVI21_AUDIO), "vfio-pci");
	CHECK_CONTAINS(e.progress, "left " NAVI21 " on vfio-pci: AMD Navi 21 does not reset; "
				   "reboot to give it back to amdgpu\n");
	CHECK_CONTAINS(e.progress, "left " NAVI21_AUDIO " on vfio-pci: a function of " NAVI21
				   " (AMD Navi 21), which does not reset; reboot to give it back "
				   "to snd_hda_intel\n");
	CHECK(strstr(e.progress, "restoring ") == NULL);
	REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
	CHECK_INT(vfk_journal_count(j), 2);
	CHECK(entry(j, NAVI21) && !strcmp(entry(j, NAVI21)->left, "no-reset"));
	CHECK(entry(j, NAVI21) && !strcmp(entry(j, NAVI21)->driver, "amdgpu"));
	vfk_journal_free(j);
	text = kenv_slurp(&e, JOURNAL);
	CHECK_CONTAINS(text, NAVI21 " state=bound driver=amdgpu override= owner=vm1 since=");
	CHECK_CONTAINS(text, " left=no-reset\n");
	kenv_close(&e);
}

TEST(reset_restore_force_native_gives_the_navi21_back_to_amdgpu,
     "restore with VFK_RESTORE_FORCE_NATIVE of a Navi 21 left on vfio-pci puts it on amdgpu "
     "and its audio on snd_hda_intel, and empties the journal")
{
	struct kenv e;
	struct vfk_journal *j = NULL;

	REQUIRE(kenv_open(&e, HOST));
	REQUIRE(bind_gpu(&e, NAVI21, "vm1") == 0);
	REQUIRE(vfk_restore(e.ctx, NULL, 0, 0, e.err, sizeof(e.err)) == 0);
	REQUIRE(!strcmp(drv(&e, NAVI21), "vfio-pci"));
	CHECK_INT(vfk_restore(e.ctx, NULL, 0, VFK_RESTORE_FORCE_NATIVE, e.err, sizeof(e.err)), 0);
	CHECK_STREQ(drv(&e, NAVI21), "amdgpu");
	CHECK_STREQ(drv(&e, NAVI21_AUDIO), "snd_hda_intel");
	REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
	CHECK_INT(vfk_journal_count(j), 0);
	vfk_journal_free(j);
	kenv_close(&e);
}

TEST(reset_restore_gives_back_a_card_with_flr_as_before,
     "the RTX 4090 (FLR, no quirk) goes back to nvidia after a bind and restore")
{
	struct kenv e;

	REQUIRE(kenv_open(&e, HOST));
	REQUIRE(bind_gpu(&e, RTX4090, "vm1") == 0);
	CHECK_INT(vfk_restore(e.ctx, NULL, 0, 0, e.err, sizeof(e.err)), 0);
	CHECK_STREQ(drv(&e, RTX4090), "nvidia");
	CHECK(strstr(e.progress, "left ") == NULL);
	kenv_close(&e);
}

TEST(reset_restore_leaves_a_device_that_stopped_answering,
     "a journalled Arc A770 on vfio-pci that no longer answers config reads is left there "
     "with left=reset-failed, nothing written to it")
{
	struct kenv e;
	struct vfk_journal *j = NULL;

	REQUIRE(kenv_open(&e, HOST));
	kenv_put(&e, JOURNAL, "# vfiokit journal v1\n" ARC " state=bound driver=i915 override= "
			      "owner=vm1 since=1732590000\n");
	CHECK_INT(vfk_restore(e.ctx, NULL, 0, 0, e.err, sizeof(e.err)), 0);
	CHECK_STREQ(drv(&e, ARC), "vfio-pci");
	CHECK_CONTAINS(e.progress, "left " ARC " on vfio-pci: it did not come back from its last "
				   "reset (it does not answer config reads); reboot to give it "
				   "back to i915\n");
	REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
	CHECK(entry(j, ARC) && !strcmp(entry(j, ARC)->left, "reset-failed"));
	vfk_journal_free(j);
	for (int i = 0; i < e.k.nlog; i++)
		if (strstr(e.k.log[i], ARC) && !strstr(e.k.log[i], "journal"))
			test_fail_(__FILE__, __LINE__, "written: %s", e.k.log[i]);
	kenv_close(&e);
}

TEST(reset_bind_takes_over_a_navi21_a_restore_left,
     "a second bind of the Navi 21 left by a restore succeeds for its new owner, keeps "
     "amdgpu as the driver to return to and clears left=; restoring leaves it again")
{
	struct kenv e;
	struct vfk_journal *j = NULL;

	REQUIRE(kenv_open(&e, HOST));
	REQUIRE(bind_gpu(&e, NAVI21, "vm1") == 0);
	REQUIRE(vfk_restore(e.ctx, NULL, 0, 0, e.err, sizeof(e.err)) == 0);
	CHECK_INT(bind_gpu(&e, NAVI21, "vm2"), 0);
	CHECK_STREQ(e.err, "");
	REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
	CHECK_INT(vfk_journal_count(j), 2);
	REQUIRE(entry(j, NAVI21) != NULL);
	CHECK_STREQ(entry(j, NAVI21)->owner, "vm2");
	CHECK_STREQ(entry(j, NAVI21)->driver, "amdgpu");
	CHECK_STREQ(entry(j, NAVI21)->left, "");
	vfk_journal_free(j);
	e.progress[0] = '\0';
	CHECK_INT(vfk_restore_owner(e.ctx, "vm2", 0, e.err, sizeof(e.err)), 0);
	CHECK_CONTAINS(e.progress, "left " NAVI21 " on vfio-pci: AMD Navi 21 does not reset");
	CHECK_STREQ(drv(&e, NAVI21), "vfio-pci");
	kenv_close(&e);
}

TEST(reset_bind_rollback_of_a_taken_over_navi21_keeps_it_on_vfio_and_left,
     "a bind that takes over the left Navi 21 and fails at its first write rolls back "
     "without handing it to amdgpu: still on vfio-pci, its journal entry left= as before")
{
	struct kenv e;
	struct vfk_journal *j = NULL;

	REQUIRE(kenv_open(&e, HOST));
	REQUIRE(bind_gpu(&e, NAVI21, "vm1") == 0);
	REQUIRE(vfk_restore(e.ctx, NULL, 0, 0, e.err, sizeof(e.err)) == 0);
	e.k.fail_at = e.k.writes + 3;	/* the journal, the GPU's override, then this */
	CHECK(bind_gpu(&e, NAVI21, "vm2") < 0);
	e.k.fail_at = 0;
	CHECK_STREQ(drv(&e, NAVI21), "vfio-pci");
	CHECK_STREQ(drv(&e, NAVI21_AUDIO), "vfio-pci");
	REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
	CHECK_INT(vfk_journal_count(j), 2);
	REQUIRE(entry(j, NAVI21) != NULL);
	CHECK_STREQ(entry(j, NAVI21)->owner, "vm1");
	CHECK_STREQ(entry(j, NAVI21)->left, "no-reset");
	CHECK_STREQ(entry(j, NAVI21)->driver, "amdgpu");
	vfk_journal_free(j);
	kenv_close(&e);
}

TEST(reset_vfio_bind_restore_leaves_the_navi21_and_force_native_returns_it,
     "vfio-bind -n restore --all prints the 'left ... on vfio-pci' line and no write for the "
     "Navi 21; with --force-native it unbinds it; status shows it left; --force-native "
     "elsewhere is a usage error")
{
	struct kenv e;
	struct run r = { 0 };
	const char *dry[] = { "vfio-bind", "--sysroot", NULL, "-n", "restore", "--all", NULL, NULL };
	const char *status[] = { "vfio-bind", "--sysroot", NULL, "status", NULL };
	const char *bad[] = { "vfio-bind", "--sysroot", NULL, "status", "--force-native", NULL };

	REQUIRE(kenv_open(&e, HOST));
	REQUIRE(bind_gpu(&e, NAVI21, "vm1") == 0);
	dry[2] = status[2] = bad[2] = e.root;
	r.status = run_tool(&r.out, &r.err, dry);
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, ":: left " NAVI21 " on vfio-pci: AMD Navi 21 does not reset; "
			      "reboot to give it back to amdgpu\n");
	CHECK(strstr(r.out, "unbind <- " NAVI21) == NULL);
	run_free(&r);
	dry[6] = "--force-native";
	r.status = run_tool(&r.out, &r.err, dry);
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "/sys/bus/pci/drivers/vfio-pci/unbind <- " NAVI21);
	CHECK(strstr(r.out, "left ") == NULL);
	run_free(&r);
	REQUIRE(vfk_restore(e.ctx, NULL, 0, 0, e.err, sizeof(e.err)) == 0);
	r.status = run_tool(&r.out, &r.err, status);
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, NAVI21 "  left     vfio-pci     amdgpu");
	CHECK_CONTAINS(r.out, "left by restore: no-reset");
	run_free(&r);
	r.status = run_tool(&r.out, &r.err, bad);
	CHECK_INT(r.status, 2);
	run_free(&r);
	kenv_close(&e);
}
