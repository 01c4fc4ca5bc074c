/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Slots and slot advice (issue 24 point 3): the board's SMBIOS type 9 table
 * and the kernel's PCI slots read through the sysroot, each tied to its
 * port; which slot would give a GPU in a shared group one of its own, on a
 * desktop with CPU and chipset slots (desktop-slots), a workstation with a
 * PCIe switch (workstation-switch) and a laptop without a slot table
 * (laptop-noslots); as vfio-ls --device/--gpus and vfio-check --gpu show it;
 * and firmware tables that lie: cut short, strings missing, lengths past
 * the end, a bus with nothing on it, 10,000 entries, control characters.
 *
 * The advice and the slot table of each fixture are golden files,
 * tests/fixtures/slots/HOST.advice; after a deliberate change:
 *     VFK_UPDATE_GOLDEN=1 build/tests/run-tests 'slots*'
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "vfiokit.h"

static void free_str(char **p) { free(*p); }
#define AUTOFREE __attribute__((cleanup(free_str))) char *

/* The fixture trees built once per run, read only; kept in statics so the
 * paths stay reachable (not a leak) until the test's process ends. */
static const char *shared(const char *name)
{
	static struct {
		const char *name;
		char *root;
	} built[8];
	size_t i;

	for (i = 0; i < 8 && built[i].name; i++)
		if (strcmp(built[i].name, name) == 0)
			return built[i].root;
	if (i == 8)
		return NULL;
	built[i].name = name;
	built[i].root = fixture_host_shared(name);
	return built[i].root;
}

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

static struct vfk_gpu *gpu(const struct fx *f, const char *addr)
{
	size_t i;

	for (i = 0; i < vfk_host_gpu_count(f->host); i++)
		if (strcmp(vfk_device_get_address(vfk_gpu_get_device(vfk_host_gpu(f->host, i))),
			   addr) == 0)
			return vfk_host_gpu(f->host, i);
	test_fail_(__FILE__, __LINE__, "no GPU %s", addr);
	return NULL;
}

static struct vfk_slot *slot(const struct fx *f, const char *name)
{
	size_t i;

	for (i = 0; i < vfk_host_slot_count(f->host); i++)
		if (strcmp(vfk_slot_get_name(vfk_host_slot(f->host, i)), name) == 0)
			return vfk_host_slot(f->host, i);
	test_fail_(__FILE__, __LINE__, "no slot %s", name);
	return NULL;
}

static const char *addr_of(const struct vfk_device *d)
{
	return d ? vfk_device_get_address(d) : "(none)";
}

/* ------------------------------------------------------------ reading */

TEST(slots_desktop_table_is_read_and_tied_to_its_ports,
     "desktop-slots: four SMBIOS slots, each on its port, with width, generation (3.4's "
     "slot information), kind (M.2), occupant, attach (CPU, chipset) and isolation")
{
	struct fx f;
	struct vfk_slot *s;

	REQUIRE(fx_open(&f, shared("desktop-slots")));
	CHECK_INT(vfk_host_slot_count(f.host), 4);
	CHECK(vfk_host_slot_note(f.host) == NULL);
	REQUIRE((s = slot(&f, "PCIEX16_1")));
	CHECK_STREQ(addr_of(vfk_slot_get_port(s)), "0000:00:01.0");
	CHECK_STREQ(addr_of(vfk_slot_get_device(s)), "0000:01:00.0");
	CHECK_INT(vfk_slot_get_width(s), 16);
	CHECK_INT(vfk_slot_get_generation(s), 5);
	CHECK(vfk_slot_in_use(s));
	CHECK_INT(vfk_slot_get_kind(s), VFK_SLOT_KIND_PCIE);
	CHECK_INT(vfk_slot_get_source(s), VFK_SLOT_SOURCE_SMBIOS);
	CHECK_INT(vfk_slot_get_attach(s), VFK_SLOT_ATTACH_CPU);
	CHECK_INT(vfk_slot_get_isolation(s), VFK_SLOT_ISOLATION_ACS);
	REQUIRE((s = slot(&f, "PCIEX16_2")));
	CHECK(!vfk_slot_in_use(s));
	CHECK(vfk_slot_get_device(s) == NULL);
	CHECK_INT(vfk_slot_get_width(s), 8);
	REQUIRE((s = slot(&f, "M2_1")));
	CHECK_INT(vfk_slot_get_kind(s), VFK_SLOT_KIND_M2);
	REQUIRE((s = slot(&f, "PCIEX4_1")));
	CHECK_INT(vfk_slot_get_attach(s), VFK_SLOT_ATTACH_CHIPSET);
	CHECK_INT(vfk_slot_get_isolation(s), VFK_SLOT_ISOLATION_SHARED);
	CHECK_STREQ(vfk_slot_isolation_to_string(vfk_slot_get_isolation(s)), "shared");
	/* a device and the card it belongs to name their slot; the NIC on the board none */
	CHECK_STREQ(vfk_device_get_slot(dev(&f, "0000:01:00.1")), "PCIEX16_1");
	CHECK_STREQ(vfk_device_get_slot(dev(&f, "0000:04:00.0")), "PCIEX4_1");
	CHECK(vfk_device_get_slot(dev(&f, "0000:03:00.0")) == NULL);
	CHECK(vfk_device_get_slot(dev(&f, "0000:00:01.0")) == NULL);
	fx_close(&f);
}

TEST(slots_workstation_merges_hotplug_slots_and_notes_a_bus_of_nothing,
     "workstation-switch: the switch's hotplug slots 1, 3, 5, 7 join their SMBIOS entries "
     "(SLOT5, an SMBIOS 2.1 entry without a bus, by its slot ID); SLOT9 names a bus with "
     "nothing and says so; slots behind the switch are 'switch' and isolate by ACS")
{
	struct fx f;
	struct vfk_slot *s;

	REQUIRE(fx_open(&f, shared("workstation-switch")));
	CHECK_INT(vfk_host_slot_count(f.host), 6);
	REQUIRE((s = slot(&f, "SLOT1")));
	CHECK_STREQ(vfk_slot_get_hotplug_name(s), "1");
	CHECK_INT(vfk_slot_get_attach(s), VFK_SLOT_ATTACH_SWITCH);
	CHECK_INT(vfk_slot_get_isolation(s), VFK_SLOT_ISOLATION_ACS);
	REQUIRE((s = slot(&f, "SLOT5")));
	CHECK_STREQ(vfk_slot_get_hotplug_name(s), "5");
	CHECK_STREQ(addr_of(vfk_slot_get_port(s)), "0000:18:10.0");
	CHECK_STREQ(addr_of(vfk_slot_get_device(s)), "0000:1b:00.0");
	REQUIRE((s = slot(&f, "SLOT9")));
	CHECK(vfk_slot_get_port(s) == NULL);
	CHECK_CONTAINS(vfk_slot_get_note(s), "0000:42:00.0 is below no port and holds no device");
	CHECK_INT(vfk_slot_get_isolation(s), VFK_SLOT_ISOLATION_UNKNOWN);
	CHECK(!vfk_slot_in_use(s));
	REQUIRE((s = slot(&f, "SLOT6")));
	CHECK_INT(vfk_slot_get_attach(s), VFK_SLOT_ATTACH_CHIPSET);
	CHECK_STREQ(vfk_device_get_slot(dev(&f, "0000:1b:00.1")), "SLOT5");
	fx_close(&f);
}

TEST(slots_laptop_without_table_has_none,
     "laptop-noslots: no SMBIOS type 9 entries and no PCI slots: no slot, no note, no "
     "device names one")
{
	struct fx f;

	REQUIRE(fx_open(&f, shared("laptop-noslots")));
	CHECK_INT(vfk_host_slot_count(f.host), 0);
	CHECK(vfk_host_slot(f.host, 0) == NULL);
	CHECK(vfk_host_slot_note(f.host) == NULL);
	CHECK(vfk_device_get_slot(dev(&f, "0000:01:00.0")) == NULL);
	fx_close(&f);
}

/* ------------------------------------------------------------ advice */

TEST(slots_advice_desktop_moves_the_chipset_card_to_a_cpu_slot,
     "desktop-slots: the GTX 1660 in the chipset slot is told to move to the CPU's slots "
     "(x16 first, then the free x8), never to the M.2 socket; the isolated GPUs get none")
{
	struct fx f;
	struct vfk_gpu *g;

	REQUIRE(fx_open(&f, shared("desktop-slots")));
	REQUIRE((g = gpu(&f, "0000:04:00.0")));
	CHECK_STREQ(vfk_gpu_get_slot_advice(g),
		    "move the card from PCIEX4_1 (chipset, x4 Gen3) to PCIEX16_1 (CPU, x16 Gen5, "
		    "own group by ACS, occupied by 0000:01:00.0); or to PCIEX16_2 (CPU, x8 Gen5, "
		    "own group by ACS, free)");
	CHECK_INT(vfk_gpu_slot_advice_count(g), 2);
	CHECK_STREQ(vfk_slot_get_name(vfk_gpu_slot_advice(g, 0)), "PCIEX16_1");
	CHECK_STREQ(vfk_slot_get_name(vfk_gpu_slot_advice(g, 1)), "PCIEX16_2");
	CHECK(vfk_gpu_slot_advice(g, 2) == NULL);
	CHECK(vfk_gpu_get_slot_advice(gpu(&f, "0000:01:00.0")) == NULL);
	CHECK_INT(vfk_gpu_slot_advice_count(gpu(&f, "0000:00:02.0")), 0);
	fx_close(&f);
}

TEST(slots_advice_workstation_names_the_switch_slots_free_first,
     "workstation-switch: the Quadro P400 in the chipset's SLOT6 is told to move behind the "
     "switch: the free x16 SLOT3 first, then the occupied x16 slots, SLOT7 (x8) counted")
{
	struct fx f;
	struct vfk_gpu *g;

	REQUIRE(fx_open(&f, shared("workstation-switch")));
	REQUIRE((g = gpu(&f, "0000:01:00.0")));
	CHECK_CONTAINS(vfk_gpu_get_slot_advice(g), "move the card from SLOT6 (chipset, x4 Gen3) to "
		       "SLOT3 (switch, x16 Gen3, own group by ACS, free)");
	CHECK_CONTAINS(vfk_gpu_get_slot_advice(g), "(and 1 more)");
	CHECK_INT(vfk_gpu_slot_advice_count(g), 4);
	CHECK_STREQ(vfk_slot_get_name(vfk_gpu_slot_advice(g, 3)), "SLOT7");
	fx_close(&f);
}

TEST(slots_advice_laptop_says_no_table_and_states_the_acs_override_risk,
     "laptop-noslots: no slot table, a laptop's GPU cannot move; what is left is the ACS "
     "override patch, with its risk (peer-to-peer DMA, the guest reaches the other "
     "devices' memory) said plainly")
{
	struct fx f;
	const char *a;

	REQUIRE(fx_open(&f, shared("laptop-noslots")));
	a = vfk_gpu_get_slot_advice(gpu(&f, "0000:01:00.0"));
	CHECK_CONTAINS(a, "the firmware gives no slot table (no SMBIOS type 9 entries, no PCI slots)");
	CHECK_CONTAINS(a, "the GPU of a laptop is soldered to the board and cannot move");
	CHECK_CONTAINS(a, "ACS override patch");
	CHECK_CONTAINS(a, "peer-to-peer DMA");
	CHECK_CONTAINS(a, "read and write the memory of the devices it shares the group with");
	CHECK_CONTAINS(a, "security and stability risk");
	CHECK_INT(vfk_gpu_slot_advice_count(gpu(&f, "0000:01:00.0")), 0);
	fx_close(&f);
}

TEST(slots_advice_without_table_speaks_in_port_addresses,
     "shared-chipset (no slot table, a desktop): the GTX 970 behind the PCH is told the "
     "port whose group holds nothing else, 0000:00:01.0, by its address")
{
	struct fx f;
	struct vfk_gpu *g;

	REQUIRE(fx_open(&f, shared("shared-chipset")));
	REQUIRE((g = gpu(&f, "0000:02:00.0")));
	CHECK_STREQ(vfk_gpu_get_slot_advice(g),
		    "the firmware gives no slot table (no SMBIOS type 9 entries, no PCI slots), so "
		    "by port (a port may lead to a device on the board rather than a slot): move the card from the slot of 0000:00:1c.0 (chipset, x4 Gen3) to the "
		    "slot of 0000:00:01.0 (CPU, x16 Gen3, own group on this host, occupied by "
		    "0000:01:00.0)");
	CHECK_INT(vfk_slot_get_source(vfk_gpu_slot_advice(g, 0)), VFK_SLOT_SOURCE_PORT);
	CHECK_INT(vfk_slot_get_isolation(vfk_gpu_slot_advice(g, 0)), VFK_SLOT_ISOLATION_ALONE);
	CHECK_INT(vfk_host_slot_count(f.host), 0);
	fx_close(&f);
}

TEST(slots_advice_when_no_slot_would_do_names_what_is_left,
     "desktop-slots whose table lists only the M.2 socket and the chipset slot: no slot "
     "would do; the advice says where the card is and names another board and the ACS "
     "override patch with its risk")
{
	AUTOFREE root = fixture_host("desktop-slots");
	struct fx f;
	const char *a;

	REQUIRE(root);
	remove_path(root, "sys/firmware/dmi/entries/9-0");
	remove_path(root, "sys/firmware/dmi/entries/9-1");
	REQUIRE(fx_open(&f, root));
	a = vfk_gpu_get_slot_advice(gpu(&f, "0000:04:00.0"));
	CHECK_STREQ(a, "no slot of this board would give it a group of its own: it sits in "
		       "PCIEX4_1 (chipset, x4 Gen3), and no other has ACS all the way to the CPU or "
		       "a group to itself; what is left: a different board, one whose CPU slots have ACS, "
		       "or the ACS override patch (pcie_acs_override=downstream,multifunction), which "
		       "only makes the kernel believe the devices are isolated: they can still reach "
		       "each other by peer-to-peer DMA, so the guest can read and write the memory of "
		       "the devices it shares the group with, and a fault in one can take down the "
		       "others (a security and stability risk; never on a machine whose other "
		       "devices hold data that matters)");
	CHECK_INT(vfk_gpu_slot_advice_count(gpu(&f, "0000:04:00.0")), 0);
	fx_close(&f);
}

/* ------------------------------------------------------------ goldens */

static bool update_golden(void)
{
	const char *v = getenv("VFK_UPDATE_GOLDEN");

	return v && *v && strcmp(v, "0") != 0;
}

/* What vfio-ls --device says about slots for @addr: its "slots:" line and
 * the board's table after it. */
static char *slot_lines(const char *out)
{
	const char *line = strstr(out, "\n    slots: "), *table = strstr(out, "\n    slots of this board:");
	size_t n1 = line ? strcspn(line + 1, "\n") + 1 : 0;
	char *s = malloc(n1 + (table ? strlen(table) : 0) + 2);

	if (!s)
		return NULL;
	snprintf(s, n1 + 1, "%s", line ? line + 1 : "");
	if (table)
		strcat(s, table + 1);
	return s;
}

static void golden(const char *host, const char *addr)
{
	const char *root = shared(host);
	const char *argv[] = { "vfio-ls", "--sysroot", root, "--device", addr, NULL };
	AUTOFREE out = NULL;
	AUTOFREE err = NULL;
	AUTOFREE got = NULL;
	AUTOFREE want = NULL;
	char path[4096];
	FILE *f;

	REQUIRE(root);
	CHECK_INT(run_tool(&out, &err, argv), 0);
	REQUIRE(out && (got = slot_lines(out)));
	snprintf(path, sizeof(path), "%s/tests/fixtures/slots/%s.advice", test_srcdir(), host);
	if (update_golden()) {
		f = fopen(path, "w");
		REQUIRE(f && fputs(got, f) >= 0 && fclose(f) == 0);
		return;
	}
	want = read_file(path);
	if (!want)
		test_fail_(__FILE__, __LINE__, "no golden file %s (VFK_UPDATE_GOLDEN=1 writes it)", path);
	else if (strcmp(want, got) != 0)
		test_fail_(__FILE__, __LINE__, "vfio-ls --device %s on %s differs from %s:\n%s", addr,
			   host, path, got);
}

TEST(slots_golden_advice_of_each_fixture,
     "vfio-ls --device on the GPU in a shared group prints the advice line and the board's "
     "slot table as tests/fixtures/slots/HOST.advice says, for desktop-slots, "
     "workstation-switch, laptop-noslots and shared-chipset")
{
	golden("desktop-slots", "04:00.0");
	golden("workstation-switch", "01:00.0");
	golden("laptop-noslots", "01:00.0");
	golden("shared-chipset", "02:00.0");
}

/* ------------------------------------------------------------ tools */

static json_object *key(json_object *o, const char *k)
{
	json_object *v = NULL;

	return json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static const char *jstr(json_object *o, const char *k)
{
	return json_object_get_string(key(o, k));
}

TEST(slots_vfio_ls_gpus_shows_the_slot_and_one_advice_line,
     "vfio-ls --gpus: the shared GPU's block has one 'slots:' line, the isolated ones none; "
     "every GPU line names its slot; --json carries gpus[].slot, gpus[].slot_advice and the "
     "board's slots[]")
{
	const char *root = shared("desktop-slots");
	const char *argv[] = { "vfio-ls", "--sysroot", root, "--gpus", NULL };
	const char *jargv[] = { "vfio-ls", "--sysroot", root, "--device", "04:00.0", "--json", NULL };
	AUTOFREE out = NULL;
	AUTOFREE err = NULL;
	AUTOFREE jout = NULL;
	AUTOFREE jerr = NULL;
	json_object *j, *g, *adv, *places;
	const char *p;
	int n = 0;

	REQUIRE(root);
	CHECK_INT(run_tool(&out, &err, argv), 0);
	REQUIRE(out);
	for (p = out; (p = strstr(p, "\n    slots: ")); p++)
		n++;
	CHECK_INT(n, 1);
	CHECK_CONTAINS(out, "upstream port 0000:00:1c.4, slot PCIEX4_1\n");
	CHECK_CONTAINS(out, "upstream port 0000:00:01.0, slot PCIEX16_1\n");
	CHECK(strstr(out, "slots of this board") == NULL);
	CHECK_INT(run_tool(&jout, &jerr, jargv), 0);
	REQUIRE((j = json_tokener_parse(jout ? jout : "")));
	g = json_object_array_get_idx(key(j, "gpus"), 0);
	CHECK_STREQ(jstr(g, "slot"), "PCIEX4_1");
	adv = key(g, "slot_advice");
	CHECK_CONTAINS(jstr(adv, "text"), "to PCIEX16_1 (CPU, x16 Gen5");
	places = key(adv, "places");
	CHECK_INT(json_object_array_length(places), 2);
	CHECK_STREQ(jstr(json_object_array_get_idx(places, 1), "isolation"), "acs");
	CHECK_STREQ(jstr(json_object_array_get_idx(places, 1), "attach"), "CPU");
	CHECK_INT(json_object_get_int(key(json_object_array_get_idx(places, 1), "width")), 8);
	CHECK_INT(json_object_array_length(key(j, "slots")), 4);
	CHECK(key(j, "slot_note") == NULL);
	json_object_put(j);
}

TEST(slots_vfio_check_gpu_adds_group_and_link_checks,
     "vfio-check --gpu ADDR: gpu-group (WARN, the slot advice as its fix), gpu-link "
     "(WARN slot-limited) and gpu-reset last; in JSON in that order; an isolated GPU passes "
     "gpu-group")
{
	const char *root = shared("desktop-slots");
	const char *argv[] = { "vfio-check", "--sysroot", root, "--gpu", "04:00.0", NULL };
	const char *jargv[] = { "vfio-check", "--sysroot", root, "--gpu", "01:00.0", "--json", NULL };
	AUTOFREE out = NULL;
	AUTOFREE err = NULL;
	AUTOFREE jout = NULL;
	AUTOFREE jerr = NULL;
	json_object *j, *checks;
	size_t n;

	REQUIRE(root);
	CHECK_INT(run_tool(&out, &err, argv), 0);
	CHECK_CONTAINS(out, "WARN  gpu-group     GPU in an IOMMU group of its own      0000:04:00.0: "
			    "NOT isolated — no ACS on 0000:00:1c.4");
	CHECK_CONTAINS(out, "      fix: move the card from PCIEX4_1 (chipset, x4 Gen3) to PCIEX16_1");
	CHECK_CONTAINS(out, "WARN  gpu-link      GPU PCIe link                         0000:04:00.0: "
			    "slot-limited — the slot is x4 (electrically); the card is x16");
	CHECK_CONTAINS(out, "gpu-reset");
	CHECK_INT(run_tool(&jout, &jerr, jargv), 0);
	REQUIRE((j = json_tokener_parse(jout ? jout : "")));
	checks = key(j, "checks");
	n = json_object_array_length(checks);
	REQUIRE(n >= 3);
	CHECK_STREQ(jstr(json_object_array_get_idx(checks, n - 3), "id"), "gpu-group");
	CHECK_STREQ(jstr(json_object_array_get_idx(checks, n - 3), "status"), "pass");
	CHECK_STREQ(jstr(json_object_array_get_idx(checks, n - 2), "id"), "gpu-link");
	CHECK_STREQ(jstr(json_object_array_get_idx(checks, n - 1), "id"), "gpu-reset");
	json_object_put(j);
}

/* ------------------------------------------------------------ bad input */

/* Write @n bytes to ROOT/REL, parents made (put_file for binary). */
static bool put_bytes(const char *root, const char *rel, const void *data, size_t n)
{
	char path[4096];
	FILE *f;

	if (!put_file(root, rel, ""))
		return false;
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "wb");
	if (!f)
		return false;
	if (fwrite(data, 1, n, f) != n) {
		fclose(f);
		return false;
	}
	return fclose(f) == 0;
}

/* An SMBIOS 2.6 type 9 structure of @flen bytes (a Gen3 x16 slot, designation
 * string @name_index, slot ID @id, the device on @bus), then @strings (@slen
 * bytes, the set's terminators included). Its length in @buf. */
static size_t raw_slot(uint8_t *buf, uint8_t flen, uint8_t name_index, uint16_t id, uint8_t bus,
		       const char *strings, size_t slen)
{
	uint8_t f[0x11] = { 9, 0, 0x00, 0x09, 0, 0xb6, 0x0d, 0x03, 0x04, 0, 0, 0x0c, 0x01,
			    0x00, 0x00, 0, 0x00 };

	f[1] = flen;
	f[4] = name_index;
	f[9] = (uint8_t)(id & 0xff);
	f[10] = (uint8_t)(id >> 8);
	f[0x0f] = bus;
	memcpy(buf, f, sizeof(f));
	memcpy(buf + sizeof(f), strings, slen);
	return sizeof(f) + slen;
}

/* A copy of desktop-slots whose table is only what the test writes. */
static char *bare_desktop(void)
{
	char *root = fixture_host("desktop-slots");

	if (root)
		remove_path(root, "sys/firmware/dmi/entries");
	return root;
}

TEST(slots_bad_truncated_and_overlong_entries_are_left_out_with_a_note,
     "a raw entry of 3 bytes, one cut inside its formatted area (length 0x11, 10 bytes), "
     "one whose length runs past the file and one of another type are left out; the note "
     "counts them and names the first; the good entry is still read")
{
	AUTOFREE root = bare_desktop();
	uint8_t b[128];
	size_t n;
	struct fx f;

	REQUIRE(root);
	REQUIRE(put_bytes(root, "sys/firmware/dmi/entries/9-0/raw", "\x09\x11\x00", 3));
	n = raw_slot(b, 0x11, 1, 1, 0x01, "CUT\0\0", 5);
	REQUIRE(put_bytes(root, "sys/firmware/dmi/entries/9-1/raw", b, 10));
	n = raw_slot(b, 0x40, 1, 2, 0x01, "LONG\0\0", 6);
	REQUIRE(put_bytes(root, "sys/firmware/dmi/entries/9-2/raw", b, n));
	n = raw_slot(b, 0x11, 1, 3, 0x01, "TYPE\0\0", 6);
	b[0] = 8;
	REQUIRE(put_bytes(root, "sys/firmware/dmi/entries/9-3/raw", b, n));
	n = raw_slot(b, 0x11, 1, 4, 0x01, "GOOD\0\0", 6);
	REQUIRE(put_bytes(root, "sys/firmware/dmi/entries/9-4/raw", b, n));
	REQUIRE(fx_open(&f, root));
	CHECK_INT(vfk_host_slot_count(f.host), 1);
	CHECK_STREQ(vfk_slot_get_name(vfk_host_slot(f.host, 0)), "GOOD");
	CHECK_STREQ(addr_of(vfk_slot_get_port(vfk_host_slot(f.host, 0))), "0000:00:01.0");
	CHECK_CONTAINS(vfk_host_slot_note(f.host), "4 SMBIOS slot entries unreadable "
		       "(9-0: 3 bytes, not even a header)");
	fx_close(&f);
	/* each alone says why */
	remove_path(root, "sys/firmware/dmi/entries/9-0");
	REQUIRE(fx_open(&f, root));
	CHECK_CONTAINS(vfk_host_slot_note(f.host), "9-1: length 17 past the end of its 10 bytes");
	fx_close(&f);
	remove_path(root, "sys/firmware/dmi/entries/9-1");
	REQUIRE(fx_open(&f, root));
	CHECK_CONTAINS(vfk_host_slot_note(f.host), "9-2: length 64 past the end of its 23 bytes");
	fx_close(&f);
	remove_path(root, "sys/firmware/dmi/entries/9-2");
	REQUIRE(fx_open(&f, root));
	CHECK_CONTAINS(vfk_host_slot_note(f.host), "9-3: type 8, not 9");
	fx_close(&f);
}

TEST(slots_bad_strings_missing_or_out_of_range_get_a_made_up_name,
     "a designation index past the string set, a set without its terminator, index 0 and "
     "an old 2.0 entry (12 bytes, no bus) each give a slot named after its ID or handle; "
     "nothing is read past the file")
{
	AUTOFREE root = bare_desktop();
	uint8_t b[128];
	size_t n;
	struct fx f;

	REQUIRE(root);
	n = raw_slot(b, 0x11, 5, 7, 0x01, "ONLY\0\0", 6);
	REQUIRE(put_bytes(root, "sys/firmware/dmi/entries/9-0/raw", b, n));
	n = raw_slot(b, 0x11, 1, 8, 0x05, "NOEND", 5);
	REQUIRE(put_bytes(root, "sys/firmware/dmi/entries/9-1/raw", b, n));
	n = raw_slot(b, 0x11, 0, 0, 0x05, "\0\0", 2);
	REQUIRE(put_bytes(root, "sys/firmware/dmi/entries/9-2/raw", b, n));
	n = raw_slot(b, 0x0c, 1, 9, 0x05, "OLD\0\0", 5);
	memmove(b + 0x0c, b + 0x11, 5);
	REQUIRE(put_bytes(root, "sys/firmware/dmi/entries/9-3/raw", b, 0x0c + 5));
	REQUIRE(fx_open(&f, root));
	REQUIRE(vfk_host_slot_count(f.host) == 4);
	CHECK_STREQ(vfk_slot_get_name(vfk_host_slot(f.host, 0)), "slot ID 7");
	CHECK_STREQ(vfk_slot_get_name(vfk_host_slot(f.host, 1)), "slot ID 8");
	CHECK_STREQ(vfk_slot_get_name(vfk_host_slot(f.host, 2)), "slot 0x0900");
	CHECK_STREQ(vfk_slot_get_name(vfk_host_slot(f.host, 3)), "OLD");
	CHECK_CONTAINS(vfk_slot_get_note(vfk_host_slot(f.host, 3)), "no bus number");
	CHECK(vfk_slot_get_port(vfk_host_slot(f.host, 3)) == NULL);
	fx_close(&f);
}

TEST(slots_bad_bus_or_address_naming_nothing_is_noted,
     "an SMBIOS slot on bus 0x7e and a PCI slot whose address names bus 0x7f match no port: "
     "each keeps its name and says why; a PCI slot address that is no address is skipped; "
     "the GPU's advice is unchanged")
{
	AUTOFREE root = bare_desktop();
	uint8_t b[128];
	size_t n;
	struct fx f;
	struct vfk_slot *s;

	REQUIRE(root);
	n = raw_slot(b, 0x11, 1, 1, 0x7e, "GHOST\0\0", 7);
	REQUIRE(put_bytes(root, "sys/firmware/dmi/entries/9-0/raw", b, n));
	REQUIRE(put_file(root, "sys/bus/pci/slots/12/address", "0000:7f:00\n"));
	REQUIRE(put_file(root, "sys/bus/pci/slots/13/address", "garbage\n"));
	REQUIRE(put_file(root, "sys/bus/pci/slots/14/address", "0000:04:99\n"));
	REQUIRE(fx_open(&f, root));
	CHECK_INT(vfk_host_slot_count(f.host), 2);
	REQUIRE((s = slot(&f, "GHOST")));
	CHECK_CONTAINS(vfk_slot_get_note(s), "0000:7e:00.0 is below no port and holds no device");
	REQUIRE((s = slot(&f, "12")));
	CHECK_INT(vfk_slot_get_source(s), VFK_SLOT_SOURCE_PCI);
	CHECK_CONTAINS(vfk_slot_get_note(s), "0000:7f:00.0 is below no port");
	/* no slot of the table would do: the advice says so, and nothing crashes */
	CHECK_CONTAINS(vfk_gpu_get_slot_advice(gpu(&f, "0000:04:00.0")),
		       "no slot of this board would give it a group of its own");
	fx_close(&f);
}

TEST(slots_bad_control_characters_in_a_designation_never_reach_the_terminal,
     "a designation with ESC, BEL, a C1 control and broken UTF-8 comes out with '?' in "
     "their place from the library, in vfio-ls's text and as valid JSON")
{
	AUTOFREE root = bare_desktop();
	const char *argv[] = { "vfio-ls", "--sysroot", root, "--device", "04:00.0", NULL };
	const char *jargv[] = { "vfio-ls", "--sysroot", root, "--device", "04:00.0", "--json", NULL };
	AUTOFREE out = NULL;
	AUTOFREE err = NULL;
	AUTOFREE jout = NULL;
	AUTOFREE jerr = NULL;
	uint8_t b[128];
	size_t n;
	struct fx f;
	json_object *j;

	REQUIRE(root);
	n = raw_slot(b, 0x11, 1, 1, 0x01, "X\x1b[31mY\x07\xc2\x9bZ\xff\0\0", 13);
	REQUIRE(put_bytes(root, "sys/firmware/dmi/entries/9-0/raw", b, n));
	REQUIRE(fx_open(&f, root));
	CHECK_STREQ(vfk_slot_get_name(vfk_host_slot(f.host, 0)), "X?[31mY??Z?");
	fx_close(&f);
	CHECK_INT(run_tool(&out, &err, argv), 0);
	CHECK(out && !strchr(out, '\x1b') && !strchr(out, '\x07'));
	CHECK_CONTAINS(out, "X?[31mY??Z?");
	CHECK_INT(run_tool(&jout, &jerr, jargv), 0);
	j = json_tokener_parse(jout ? jout : "");
	CHECK(j != NULL);
	json_object_put(j);
}

TEST(slots_bad_ten_thousand_entries_are_capped,
     "10,000 type 9 entries: the first 256 by instance number are read, the rest counted in "
     "the note, in well under a few seconds")
{
	AUTOFREE root = bare_desktop();
	uint8_t b[128];
	char rel[96], name[16];
	size_t n, i;
	struct fx f;
	struct timespec t0, t1;
	double secs;

	REQUIRE(root);
	for (i = 0; i < 10000; i++) {
		int k = snprintf(name, sizeof(name), "S%zu", i);
		memcpy(name + k, "\0\0", 2);
		n = raw_slot(b, 0x11, 1, (uint16_t)i, 0x01, name, (size_t)k + 2);
		snprintf(rel, sizeof(rel), "sys/firmware/dmi/entries/9-%zu/raw", i);
		REQUIRE(put_bytes(root, rel, b, n));
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	REQUIRE(fx_open(&f, root));
	CHECK_INT(vfk_host_slot_count(f.host), 256);
	CHECK_STREQ(vfk_slot_get_name(vfk_host_slot(f.host, 255)), "S255");
	CHECK_CONTAINS(vfk_host_slot_note(f.host), "9744 slots past the first 256 left out");
	CHECK(vfk_gpu_get_slot_advice(gpu(&f, "0000:04:00.0")) != NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	CHECK(secs < 5.0);
	fx_close(&f);
}
