/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The board's physical slots: what the firmware's SMBIOS table says (type 9
 * "System Slots", one structure per slot as the kernel exports it in
 * firmware/dmi/entries/9-N/raw) and what the kernel knows as PCI slots
 * (bus/pci/slots/NAME/address, hotplug and ACPI slots), each tied to the
 * port it hangs from. Firmware tables lie and get cut short: every length
 * is checked against the bytes read, a structure that does not add up is
 * left out with a note, and a slot whose bus names nothing keeps its name
 * and says why it matches no port. Read on first use: most callers never
 * ask.
 */
#include <stdio.h>

#include "inventory/inventory.h"
#include "inventory/pcilib.h"

#define MAX_SLOTS	256	/* a real board has a few dozen */
#define MAX_NAMES	65536	/* directory entries looked at, at most */
#define RAW_MAX		4096	/* formatted area (255) and strings, generously */
#define NAME_MAX_LEN	64
#define SMBIOS_TYPE_SLOT 9
#define PCIE_TYPE_ROOT_PORT	0x4
#define PCIE_TYPE_DOWNSTREAM	0x6

/* ------------------------------------------------------------ text */

/* Length of the valid UTF-8 sequence at @s (at most @n bytes), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* Firmware text as a name: control bytes, DEL, C1 controls and broken UTF-8
 * become '?', blanks at the ends go (firmware pads), at most NAME_MAX_LEN. */
static void printable_name(const unsigned char *s, size_t n, char *buf)
{
	size_t i = 0, len = 0, k;

	while (n && s[n - 1] == ' ')
		n--;
	while (i < n && s[i] == ' ')
		i++;
	while (i < n && len < NAME_MAX_LEN) {
		k = s[i] >= 0x80 ? utf8_len(s + i, n - i) : 0;
		if (k && len + k <= NAME_MAX_LEN && !(s[i] == 0xc2 && s[i + 1] < 0xa0)) {
			memcpy(buf + len, s + i, k);
			len += k;
			i += k;
			continue;
		}
		buf[len++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
		i += k ? k : 1;
	}
	buf[len] = '\0';
}

/* ------------------------------------------------------------ SMBIOS */

/* Width from SMBIOS 7.10.2 "Slot Data Bus Width": 08h x1 ... 0Eh x32. */
static unsigned int enum_width(uint8_t v)
{
	static const unsigned int lanes[] = { 1, 2, 4, 8, 12, 16, 32 };

	return v >= 0x08 && v <= 0x0e ? lanes[v - 0x08] : 0;
}

/* Kind, generation and width from SMBIOS 7.10.1 "Slot Type". */
static enum vfk_slot_kind slot_type(uint8_t t, unsigned int *gen, unsigned int *width)
{
	static const unsigned int lanes[] = { 0, 1, 2, 4, 8, 16 };
	/* first type of each PCIe generation's run of six: PCIe, x1 ... x16 */
	static const uint8_t runs[] = { 0xa5, 0xab, 0xb1, 0xb8, 0xbe };
	size_t i;

	*gen = *width = 0;
	for (i = 0; i < ARRAY_SIZE(runs); i++)
		if (t >= runs[i] && t < runs[i] + 6) {
			*gen = (unsigned int)i + 1;
			*width = lanes[t - runs[i]];
			return VFK_SLOT_KIND_PCIE;
		}
	switch (t) {
	case 0xc4:		/* PCI Express 6+ */
		*gen = 6;
		return VFK_SLOT_KIND_PCIE;
	case 0x1f: case 0x20: case 0x24: case 0x25:	/* U.2 bays, Gen 2 to 5 */
		*gen = t == 0x1f ? 2 : t == 0x20 ? 3 : t == 0x24 ? 4 : 5;
		return VFK_SLOT_KIND_PCIE;
	case 0x21: case 0x22: case 0x23:	/* PCI Express Mini */
	case 0xc5: case 0xc6:			/* EDSFF */
		return VFK_SLOT_KIND_PCIE;
	case 0x14: case 0x15: case 0x16: case 0x17:
		return VFK_SLOT_KIND_M2;
	case 0x06: case 0x0e: case 0x0f: case 0x10: case 0x11: case 0x12: case 0x13:
		return VFK_SLOT_KIND_PCI;
	case 0x00: case 0x01: case 0x02:
		return VFK_SLOT_KIND_UNKNOWN;
	}
	return VFK_SLOT_KIND_OTHER;
}

/* String @index of the set after the formatted area ("" for 0 or missing). */
static void smbios_string(const uint8_t *raw, size_t flen, size_t len, uint8_t index,
			  char *buf)
{
	size_t pos = flen, n;
	uint8_t k;

	buf[0] = '\0';
	if (!index)
		return;
	for (k = 1; pos < len; k++) {
		n = strnlen((const char *)raw + pos, len - pos);
		if (n == 0 || pos + n == len)	/* end of set, or no terminator */
			return;
		if (k == index) {
			printable_name(raw + pos, n, buf);
			return;
		}
		pos += n + 1;
	}
}

/*
 * One type 9 structure of @len bytes into @s; 0, or -EINVAL with why in
 * @why. Offsets per SMBIOS 3.7 section 7.10: 2.0 has up to the slot ID and
 * characteristics (0Ch bytes), 2.6 adds segment, bus and device/function
 * (11h), 3.2 the peer groups, 3.4 the slot information (the generation).
 */
static int parse_type9(const uint8_t *raw, size_t len, struct vfk_slot *s, char *name,
		       char *why, size_t whysize)
{
	size_t flen, info;
	unsigned int w;

	if (len < 4) {
		snprintf(why, whysize, "%zu bytes, not even a header", len);
		return -EINVAL;
	}
	flen = raw[1];
	if (raw[0] != SMBIOS_TYPE_SLOT) {
		snprintf(why, whysize, "type %u, not 9", raw[0]);
		return -EINVAL;
	}
	if (flen > len) {
		snprintf(why, whysize, "length %zu past the end of its %zu bytes", flen, len);
		return -EINVAL;
	}
	if (flen < 0x0c) {
		snprintf(why, whysize, "length %zu, shorter than SMBIOS 2.0's 12", flen);
		return -EINVAL;
	}
	s->handle = (uint16_t)(raw[2] | raw[3] << 8);
	smbios_string(raw, flen, len, raw[4], name);
	s->kind = slot_type(raw[5], &s->fw_gen, &s->fw_width);
	w = enum_width(raw[6]);
	if (w)
		s->fw_width = w;
	s->usage = raw[7];
	s->id = (uint16_t)(raw[9] | raw[10] << 8);
	/* 2.6+: FFh bus and device/function (and FFFFh segment) mean none */
	if (flen >= 0x11 && raw[0x0f] != 0xff && raw[0x10] != 0xff &&
	    !(raw[0x0d] == 0xff && raw[0x0e] == 0xff)) {
		s->has_addr = true;
		s->addr.domain = (uint16_t)(raw[0x0d] | raw[0x0e] << 8);
		s->addr.bus = raw[0x0f];
		s->addr.dev = raw[0x10] >> 3;
		s->addr.fn = raw[0x10] & 7;
	}
	/* 3.4: after 5 bytes per peer group, the slot information: the PCIe
	 * generation of a PCIe slot */
	if (flen >= 0x13) {
		info = 0x13 + 5 * (size_t)raw[0x12];
		if (info < flen && s->kind == VFK_SLOT_KIND_PCIE && raw[info] >= 1 && raw[info] <= 6)
			s->fw_gen = raw[info];
	}
	return 0;
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

/* The instance numbers N of the 9-N entries, sorted (firmware order). */
static size_t list_type9(struct vfk_ctx *ctx, unsigned int **out)
{
	_cleanup_closedir_ DIR *d = NULL;
	unsigned int *v = NULL;
	size_t n = 0, cap = 0, seen = 0;
	struct dirent *e;

	*out = NULL;
	d = vfk_fdopendir(vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_DMI_ENTRIES));
	while (d && (e = readdir(d)) && seen++ < MAX_NAMES) {
		char *end;
		unsigned long k;

		if (!startswith(e->d_name, "9-") || e->d_name[2] < '0' || e->d_name[2] > '9')
			continue;
		k = strtoul(e->d_name + 2, &end, 10);
		if (*end || k > 0xffff || GROW_ARRAY(v, cap, n + 1) < 0)
			continue;
		v[n++] = (unsigned int)k;
	}
	qsort_safe(v, n, sizeof(*v), cmp_uint);
	*out = v;
	return n;
}

struct reading {
	struct vfk_host *host;
	size_t cap, bad, extra;
	char first_bad[160];
};

static struct vfk_slot *slot_add(struct reading *r)
{
	struct vfk_host *h = r->host;

	if (h->nslots >= MAX_SLOTS) {
		r->extra++;
		return NULL;
	}
	if (GROW_ARRAY(h->slots, r->cap, h->nslots + 1) < 0)
		return NULL;
	memset(&h->slots[h->nslots], 0, sizeof(h->slots[0]));
	h->slots[h->nslots].host = h;
	return &h->slots[h->nslots++];
}

static const char *intern(struct vfk_host *h, const char *s)
{
	const char *p = strpool_intern(&h->strings, s);

	return p ? p : "?";
}

static void read_smbios(struct reading *r)
{
	struct vfk_host *h = r->host;
	_cleanup_free_ unsigned int *inst = NULL;
	_cleanup_free_ uint8_t *raw = malloc(RAW_MAX);
	size_t n = list_type9(h->ctx, &inst), i;

	for (i = 0; raw && i < n; i++) {
		struct vfk_slot tmp = { .host = h, .source = VFK_SLOT_SOURCE_SMBIOS }, *s;
		char rel[64], name[NAME_MAX_LEN + 1], why[128];
		int len;

		snprintf(rel, sizeof(rel), VFK_SYS_DMI_ENTRIES "/9-%u/raw", inst[i]);
		len = vfk_root_read_bytes(h->ctx, VFK_ROOT_SYS, rel, raw, RAW_MAX);
		if (len < 0)
			snprintf(why, sizeof(why), "%s", strerror(-len));
		if (len < 0 || parse_type9(raw, (size_t)len, &tmp, name, why, sizeof(why)) < 0) {
			if (!r->bad++)
				snprintf(r->first_bad, sizeof(r->first_bad), "9-%u: %s", inst[i], why);
			continue;
		}
		if (!*name) {	/* no string, or its index past the set */
			if (tmp.id)
				snprintf(name, sizeof(name), "slot ID %u", tmp.id);
			else
				snprintf(name, sizeof(name), "slot 0x%04x", tmp.handle);
		}
		tmp.name = intern(h, name);
		s = slot_add(r);
		if (s)
			*s = tmp;
	}
}

/* ------------------------------------------------------------ kernel */

/* "0000:03:00" or "0000:03" (a slot of the whole bus) from its address file. */
static bool parse_slot_address(const char *s, struct vfk_pci_addr *a)
{
	unsigned int dom, bus, dev = 0;
	int n, used = 0;

	n = sscanf(s, "%4x:%2x:%2x%n", &dom, &bus, &dev, &used);
	if (n != 3) {
		used = 0;
		if (sscanf(s, "%4x:%2x%n", &dom, &bus, &used) != 2)
			return false;
		dev = 0;
	}
	if (s[used] || dev > 31)
		return false;
	memset(a, 0, sizeof(*a));
	a->domain = (uint16_t)dom;
	a->bus = (uint8_t)bus;
	a->dev = (uint8_t)dev;
	return true;
}

/* Kernel slot names in order: numbers by value ("2" before "10"), then by bytes. */
static int cmp_slot_name(const void *a, const void *b)
{
	const char *x = ((const struct vfk_slot *)a)->name, *y = ((const struct vfk_slot *)b)->name;
	size_t nx = strspn(x, "0123456789"), ny = strspn(y, "0123456789");

	if (nx && ny && !x[nx] && !y[ny] && nx != ny)
		return nx < ny ? -1 : 1;
	return strcmp(x, y);
}

static void read_pci_slots(struct reading *r)
{
	struct vfk_host *h = r->host;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	size_t seen = 0, first = h->nslots;

	d = vfk_fdopendir(vfk_root_open_dir(h->ctx, VFK_ROOT_SYS, VFK_SYS_PCI_SLOTS));
	while (d && (e = readdir(d)) && seen++ < MAX_NAMES) {
		char rel[NAME_MAX_LEN + 16], text[64], name[NAME_MAX_LEN + 1];
		struct vfk_pci_addr a;
		struct vfk_slot *s;

		if (e->d_name[0] == '.' || strlen(e->d_name) > NAME_MAX_LEN)
			continue;
		snprintf(rel, sizeof(rel), "%s/address", e->d_name);
		if (vfk_read_in(h->ctx, dirfd(d), rel, text, sizeof(text)) <= 0 ||
		    !parse_slot_address(text, &a))
			continue;
		s = slot_add(r);
		if (!s)
			continue;
		printable_name((const unsigned char *)e->d_name, strlen(e->d_name), name);
		s->source = VFK_SLOT_SOURCE_PCI;
		s->name = s->hotplug = intern(h, name);
		s->has_addr = true;
		s->addr = a;
	}
	qsort_safe(h->slots + first, h->nslots - first, sizeof(*h->slots), cmp_slot_name);
}

/* ------------------------------------------------------------ matching */

int bridge_secondary_bus(const struct vfk_device *b)
{
	struct vfk_ctx *ctx = b->host->ctx;
	uint8_t cfg[0x1a];
	char rel[96];
	long v;

	if ((b->class >> 8) != 0x0604)
		return -1;
	if (b->nchildren)	/* in address order: the first is on the secondary bus */
		return b->host->children[b->child0]->addr.bus;
	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s/secondary_bus_number", b->address);
	if (vfk_root_read_long(ctx, VFK_ROOT_SYS, rel, &v) == 0 && v >= 0 && v <= 0xff)
		return (int)v;
	/* kernels before 4.14 have no such attribute: the type 1 header has it */
	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s/config", b->address);
	if (vfk_root_read_bytes(ctx, VFK_ROOT_SYS, rel, cfg, sizeof(cfg)) == (int)sizeof(cfg) &&
	    (cfg[0x0e] & 0x7f) == 1 && !(cfg[0] == 0xff && cfg[1] == 0xff))
		return cfg[0x19];
	return -1;
}

/* A port a slot can hang from: a root or downstream port; where config
 * space cannot say (not root), a bridge on a root bus is a root port. */
static bool is_port(struct vfk_device *d)
{
	if ((d->class >> 8) != 0x0604)
		return false;
	device_read_caps(d);
	return d->pcie_type == PCIE_TYPE_ROOT_PORT || d->pcie_type == PCIE_TYPE_DOWNSTREAM ||
	       (d->pcie_type == PCILIB_UNKNOWN && !d->parent);
}

struct bridge_bus {
	struct vfk_device *bridge;
	int bus;
};

/* Every bridge but a switch's upstream port with its secondary bus, once. */
static size_t list_bridges(struct vfk_host *h, struct bridge_bus **out)
{
	struct bridge_bus *v = NULL;
	size_t i, n = 0, cap = 0;

	for (i = 0; i < h->ndevices; i++) {
		struct vfk_device *d = &h->devices[i];
		int bus;

		if ((d->class >> 8) != 0x0604)
			continue;
		device_read_caps(d);
		if (d->pcie_type == 0x5 || (bus = bridge_secondary_bus(d)) < 0)
			continue;
		if (GROW_ARRAY(v, cap, n + 1) < 0)
			break;
		v[n].bridge = d;
		v[n++].bus = bus;
	}
	*out = v;
	return n;
}

static struct vfk_device *first_child(const struct vfk_device *p)
{
	return p->nchildren ? p->host->children[p->child0] : NULL;
}

static void slot_match(struct vfk_slot *s, const struct bridge_bus *b, size_t nb)
{
	struct vfk_host *h = s->host;
	struct vfk_pci_addr a0 = s->addr;
	struct vfk_device *d;
	char buf[128];
	size_t i;

	if (!s->has_addr) {
		s->note = "no bus number: SMBIOS before 2.6, or none given";
		return;
	}
	a0.fn = 0;
	d = host_lookup(h, &s->addr);
	if (!d)
		d = host_lookup(h, &a0);
	/* SMBIOS names the device in the slot: its bus is the port's secondary */
	for (i = 0; i < nb; i++)
		if (b[i].bus == s->addr.bus && b[i].bridge->addr.domain == s->addr.domain &&
		    b[i].bridge != d && is_port(b[i].bridge)) {
			s->port = b[i].bridge;
			s->device = d && d->parent == s->port ? d : first_child(s->port);
			return;
		}
	if (d && is_port(d)) {		/* some firmware names the port itself */
		s->port = d;
		s->device = first_child(d);
	} else if (d) {			/* on a root bus, or below what is no port */
		s->port = d->parent && is_port(d->parent) ? d->parent : NULL;
		s->device = d;
	} else {
		snprintf(buf, sizeof(buf), "%04x:%02x:%02x.%u is below no port and holds no device",
			 s->addr.domain, s->addr.bus, s->addr.dev, s->addr.fn);
		s->note = intern(h, buf);
	}
}

/* A kernel slot that is an SMBIOS slot too: its name is added to that one.
 * The same port, or an SMBIOS slot without a bus whose slot ID is its name
 * (pciehp and ACPI name slots by their physical slot number). */
static struct vfk_slot *smbios_twin(struct vfk_host *h, const struct vfk_slot *p)
{
	char num[8];
	size_t i;

	for (i = 0; i < h->nslots; i++) {
		struct vfk_slot *s = &h->slots[i];
		if (s->source != VFK_SLOT_SOURCE_SMBIOS || s->hotplug)
			continue;
		snprintf(num, sizeof(num), "%u", s->id);
		if ((p->port && s->port == p->port) || (!s->has_addr && s->id && streq(num, p->name)))
			return s;
	}
	return NULL;
}

static void merge_twins(struct vfk_host *h)
{
	size_t i, n = 0;

	for (i = 0; i < h->nslots; i++) {
		struct vfk_slot *p = &h->slots[i], *s;

		if (p->source == VFK_SLOT_SOURCE_PCI && (s = smbios_twin(h, p))) {
			s->hotplug = p->name;
			if (!s->has_addr) {
				s->has_addr = true;
				s->addr = p->addr;
				s->port = p->port;
				s->device = p->device;
				s->note = p->note;
			}
			continue;
		}
		h->slots[n++] = *p;
	}
	h->nslots = n;
}

/* slot_at: the slot of each port, and of each function of a slot on a root bus. */
static void index_slots(struct vfk_host *h)
{
	size_t i, j;

	if (!h->nslots || !(h->slot_at = calloc(h->ndevices ? h->ndevices : 1, sizeof(*h->slot_at))))
		return;
	for (i = 0; i < h->nslots; i++) {
		struct vfk_slot *s = &h->slots[i];
		struct vfk_device *d = s->port;

		if (d && !h->slot_at[d - h->devices])
			h->slot_at[d - h->devices] = s;
		if (d || !s->device)
			continue;
		for (j = (size_t)(s->device - h->devices); j > 0 &&
		     h->devices[j - 1].addr.domain == s->device->addr.domain &&
		     h->devices[j - 1].addr.bus == s->device->addr.bus &&
		     h->devices[j - 1].addr.dev == s->device->addr.dev; j--)
			;
		for (; j < h->ndevices && h->devices[j].addr.domain == s->device->addr.domain &&
		     h->devices[j].addr.bus == s->device->addr.bus &&
		     h->devices[j].addr.dev == s->device->addr.dev; j++)
			if (!h->slot_at[j])
				h->slot_at[j] = s;
	}
}

static void note_left_out(struct reading *r)
{
	char buf[320];
	size_t len = 0;

	buf[0] = '\0';
	if (r->bad)
		len = (size_t)snprintf(buf, sizeof(buf), "%zu SMBIOS slot entr%s unreadable (%s)",
				       r->bad, r->bad == 1 ? "y" : "ies", r->first_bad);
	if (r->extra && len < sizeof(buf))
		snprintf(buf + len, sizeof(buf) - len, "%s%zu slots past the first %d left out",
			 len ? "; " : "", r->extra, MAX_SLOTS);
	if (*buf)
		r->host->slots_note = intern(r->host, buf);
}

void host_slots_read(const struct vfk_host *chost)
{
	struct vfk_host *h = (struct vfk_host *)chost;	/* a cache */
	struct reading r = { .host = h };
	_cleanup_free_ struct bridge_bus *b = NULL;
	size_t i, nb;

	if (h->slots_known)
		return;
	h->slots_known = true;
	read_smbios(&r);
	read_pci_slots(&r);
	if (h->nslots) {
		nb = list_bridges(h, &b);
		for (i = 0; i < h->nslots; i++)
			slot_match(&h->slots[i], b, nb);
		merge_twins(h);
		index_slots(h);
	}
	note_left_out(&r);
	dbg(h->ctx, "%zu slots%s%s", h->nslots, h->slots_note ? ": " : "",
	    h->slots_note ? h->slots_note : "");
}

void slots_free(struct vfk_host *h)
{
	free(h->slots);
	free(h->slot_at);
}

/* ------------------------------------------------------------ API */

size_t vfk_host_slot_count(const struct vfk_host *host)
{
	host_slots_read(host);
	return host->nslots;
}

struct vfk_slot *vfk_host_slot(const struct vfk_host *host, size_t i)
{
	host_slots_read(host);
	return i < host->nslots ? &host->slots[i] : NULL;
}

const char *vfk_host_slot_note(const struct vfk_host *host)
{
	host_slots_read(host);
	return host->slots_note;
}

const char *vfk_slot_source_to_string(enum vfk_slot_source s)
{
	switch (s) {
	case VFK_SLOT_SOURCE_SMBIOS:
		return "smbios";
	case VFK_SLOT_SOURCE_PCI:
		return "pci";
	case VFK_SLOT_SOURCE_PORT:
		return "port";
	}
	return "unknown";
}

const char *vfk_slot_kind_to_string(enum vfk_slot_kind kind)
{
	switch (kind) {
	case VFK_SLOT_KIND_PCIE:
		return "pcie";
	case VFK_SLOT_KIND_M2:
		return "m2";
	case VFK_SLOT_KIND_PCI:
		return "pci";
	case VFK_SLOT_KIND_OTHER:
		return "other";
	case VFK_SLOT_KIND_UNKNOWN:
		break;
	}
	return "unknown";
}

enum vfk_slot_source vfk_slot_get_source(const struct vfk_slot *s) { return s->source; }
const char *vfk_slot_get_name(const struct vfk_slot *s) { return s->name; }
const char *vfk_slot_get_hotplug_name(const struct vfk_slot *s) { return s->hotplug; }
enum vfk_slot_kind vfk_slot_get_kind(const struct vfk_slot *s) { return s->kind; }
struct vfk_device *vfk_slot_get_port(const struct vfk_slot *s) { return s->port; }
struct vfk_device *vfk_slot_get_device(const struct vfk_slot *s) { return s->device; }
const char *vfk_slot_get_note(const struct vfk_slot *s) { return s->note; }

unsigned int vfk_slot_get_width(const struct vfk_slot *s)
{
	unsigned int w = s->port ? vfk_device_get_max_link_width(s->port) : 0;

	return w ? w : s->fw_width;
}

unsigned int vfk_slot_get_generation(const struct vfk_slot *s)
{
	static const unsigned int mts[] = { 2500, 5000, 8000, 16000, 32000, 64000 };
	unsigned int v = s->port ? vfk_link_speed_mts(vfk_device_get_max_link_speed(s->port)) : 0;
	size_t i;

	for (i = 0; v && i < ARRAY_SIZE(mts); i++)
		if (v == mts[i])
			return (unsigned int)i + 1;
	return s->fw_gen;
}

bool vfk_slot_in_use(const struct vfk_slot *s)
{
	if (s->device)
		return true;
	if (s->port || s->source == VFK_SLOT_SOURCE_PORT)
		return false;
	return s->usage == 4;	/* SMBIOS "in use"; a kernel slot unmatched: not known */
}

const char *vfk_device_get_slot(const struct vfk_device *dev)
{
	const struct vfk_host *h = dev->host;
	const struct vfk_device *x;
	struct vfk_slot *s;
	size_t depth = 0;

	host_slots_read(h);
	if (!h->slot_at)
		return NULL;
	/* the nearest port above with a slot; parent loops were broken by the scan */
	for (x = dev; x && depth++ < 256; x = x->parent) {
		s = h->slot_at[x - h->devices];
		if (s && !s->port && s->device)	/* x sits in a slot on a root bus */
			return s->name;
		s = x->parent ? h->slot_at[x->parent - h->devices] : NULL;
		if (s && s->port == x->parent)
			return s->name;
	}
	return NULL;
}
