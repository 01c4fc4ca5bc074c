/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VM profiles: INI files read with inih into struct vfk_profile. Every key is
 * in one table below (its section, type, and where it lands); every value is
 * checked when read against what its consumers carry (QEMU's option parsers,
 * libvirt's domain schema, the kernel: profile-values.c), and an error names
 * the file, the line and the key. inih does the splitting; the line reader
 * and the key handler (profile-ini.c) refuse what inih would take but
 * vfiokit.ini(5) does not: indented lines, "key: value", text after a
 * [section], unknown sections without keys. Unknown keys and repeated keys
 * are errors too, and so are keys that contradict each other.
 */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "plan/profile-internal.h"

/* ------------------------------------------------------------ value names */

const char *const prof_os_names[] = { "linux", "windows", "other", NULL };
const char *const prof_fw_names[] = { "uefi", "uefi-secure", "bios", NULL };
static const char *const accel_names[] = { "auto", "kvm", "tcg", NULL };
static const char *const huge_names[] = { "auto", "no", "2M", "1G", NULL };
static const char *const cpu_model_names[] = { "auto", "host-passthrough", "max", "qemu64", NULL };
const char *const prof_display_names[] = { "auto", "none", "spice", "vnc", "sdl", NULL };
const char *const prof_audio_names[] = { "none", "spice", "pulseaudio", NULL };
const char *const prof_sound_names[] = { "ich9", "ich6", "usb", NULL };
static const char *const serial_names[] = { "auto", "no", "pty", "stdio", NULL };
const char *const disk_bus_names[] = { "virtio", "sata", "scsi", "usb", NULL };
static const char *const disk_fmt_names[] = { "auto", "raw", "qcow2", NULL };
static const char *const disk_media_names[] = { "auto", "disk", "cdrom", NULL };
const char *const disk_cache_names[] = { "none", "writeback", "writethrough", "directsync",
					 "unsafe", NULL };
const char *const net_type_names[] = { "user", "bridge", "network", "none", NULL };
const char *const net_model_names[] = { "virtio", "e1000e", "rtl8139", NULL };
const char *const grab_toggle_names[] = { "ctrl-ctrl", "alt-alt", "shift-shift", "meta-meta",
					  "scrolllock", "ctrl-scrolllock", NULL };
const char *const prof_vfio_names[] = { "auto", "group", "iommufd", NULL };
static const char *const mode_names[] = { "auto", "passthrough", "mdev", "virtio", "emulated",
					  "none", NULL };

const char *vfk_gpu_mode_to_string(enum vfk_gpu_mode mode)
{
	return (unsigned int)mode < VFK_GPU_MODE_COUNT ? mode_names[mode] : "unknown";
}

/* ------------------------------------------------------------ key table */

static const char *const scope_names[] = { "vm", "tuning", "display", "input", "audio", "gpu",
					   "vfio", "disk", "network", "hostdev", "usb" };

#define P(f) offsetof(struct vfk_profile, f)
#define D(f) offsetof(struct prof_disk, f)
#define N(f) offsetof(struct prof_net, f)
#define H(f) offsetof(struct prof_hostdev, f)
#define U(f) offsetof(struct prof_usb, f)

static const struct keydef keys[] = {
	{ S_VM, "name", K_NAME, P(name), NULL, 0, 0 },
	{ S_VM, "description", K_STR, P(description), NULL, 0, 0 },
	{ S_VM, "memory", K_SIZE, P(memory_mib), NULL, 0, 0 },
	{ S_VM, "vcpus", K_VCPUS, P(vcpus), NULL, 1, 1024 },
	{ S_VM, "os", K_ENUM, P(os), prof_os_names, 0, 0 },
	{ S_VM, "firmware", K_ENUM, P(firmware), prof_fw_names, 0, 0 },
	{ S_VM, "tpm", K_TRI, P(tpm), NULL, 0, 0 },
	{ S_VM, "accel", K_ENUM, P(accel), accel_names, 0, 0 },
	{ S_VM, "emulator", K_PATH, P(emulator), NULL, 0, 0 },
	{ S_VM, "kernel", K_PATH, P(kernel), NULL, 0, 0 },
	{ S_VM, "initrd", K_PATH, P(initrd), NULL, 0, 0 },
	{ S_VM, "cmdline", K_STR, P(cmdline), NULL, 0, 0 },
	{ S_VM, "drivers", K_PATH, P(drivers), NULL, 0, 0 },
	{ S_VM, "installed", K_BOOL, P(installed), NULL, 0, 0 },
	{ S_VM, "serial", K_ENUM, P(serial), serial_names, 0, 0 },

	{ S_TUNING, "cpu-model", K_ENUM, P(cpu_model), cpu_model_names, 0, 0 },
	{ S_TUNING, "pinning", K_BOOL, P(pinning), NULL, 0, 0 },
	{ S_TUNING, "host-cores", K_UINT, P(host_cores), NULL, 0, 64 },
	{ S_TUNING, "hugepages", K_ENUM, P(hugepages), huge_names, 0, 0 },
	{ S_TUNING, "prealloc-threads", K_VCPUS, P(prealloc_threads), NULL, 1, 64 },
	{ S_TUNING, "iothreads", K_UINT, P(iothreads), NULL, 0, 16 },
	{ S_TUNING, "hyperv", K_TRI, P(hyperv), NULL, 0, 0 },
	{ S_TUNING, "kvm-hidden", K_BOOL, P(kvm_hidden), NULL, 0, 0 },
	{ S_TUNING, "vendor-id", K_VENDOR, P(vendor_id), NULL, 0, 0 },
	{ S_TUNING, "pci-hole64", K_SIZE, P(pci_hole64_mib), NULL, 0, 0 },

	{ S_DISPLAY, "type", K_ENUM, P(display), prof_display_names, 0, 0 },
	{ S_DISPLAY, "looking-glass", K_BOOL, P(looking_glass), NULL, 0, 0 },
	{ S_DISPLAY, "resolution", K_RES, P(res), NULL, 0, 0 },
	{ S_DISPLAY, "listen", K_ADDR, P(listen), NULL, 0, 0 },

	{ S_INPUT, "keyboard", K_PATH, P(keyboard), NULL, 0, 0 },
	{ S_INPUT, "mouse", K_PATH, P(mouse), NULL, 0, 0 },
	{ S_INPUT, "grab-toggle", K_ENUM, P(grab_toggle), grab_toggle_names, 0, 0 },
	{ S_INPUT, "tablet", K_TRI, P(tablet), NULL, 0, 0 },

	{ S_AUDIO, "type", K_ENUM, P(audio), prof_audio_names, 0, 0 },
	{ S_AUDIO, "model", K_ENUM, P(sound), prof_sound_names, 0, 0 },

	{ S_GPU, "mode", K_ENUM, P(mode), mode_names, 0, 0 },
	{ S_GPU, "device", K_SELECTOR, P(device), NULL, 0, 0 },
	{ S_GPU, "count", K_UINT, P(gpu_count), NULL, 1, PROF_MAX_GPUS },
	{ S_GPU, "fabric", K_BOOL, P(fabric), NULL, 0, 0 },
	{ S_GPU, "mdev-type", K_NAME, P(mdev_type), NULL, 0, 0 },
	{ S_GPU, "rom", K_PATH, P(rom), NULL, 0, 0 },
	{ S_GPU, "virgl", K_TRI, P(virgl), NULL, 0, 0 },

	{ S_VFIO, "backend", K_ENUM, P(vfio_backend), prof_vfio_names, 0, 0 },

	{ S_DISK, "path", K_PATH, D(path), NULL, 0, 0 },
	{ S_DISK, "format", K_ENUM, D(format), disk_fmt_names, 0, 0 },
	{ S_DISK, "bus", K_ENUM, D(bus), disk_bus_names, 0, 0 },
	{ S_DISK, "media", K_ENUM, D(media), disk_media_names, 0, 0 },
	{ S_DISK, "cache", K_ENUM, D(cache), disk_cache_names, 0, 0 },
	{ S_DISK, "readonly", K_BOOL, D(readonly), NULL, 0, 0 },
	{ S_DISK, "size", K_SIZE, D(size_mib), NULL, 0, 0 },

	{ S_NET, "type", K_ENUM, N(type), net_type_names, 0, 0 },
	{ S_NET, "bridge", K_IFNAME, N(bridge), NULL, 0, 0 },
	{ S_NET, "network", K_NAME, N(network), NULL, 0, 0 },
	{ S_NET, "model", K_ENUM, N(model), net_model_names, 0, 0 },
	{ S_NET, "mac", K_MAC, N(mac), NULL, 0, 0 },

	{ S_HOSTDEV, "device", K_DEVICE, H(device), NULL, 0, 0 },
	{ S_HOSTDEV, "rom", K_PATH, H(rom), NULL, 0, 0 },

	{ S_USB, "device", K_USB_ID, U(device), NULL, 0, 0 },
	{ S_USB, "bus", K_UINT, U(bus), NULL, 1, 999 },
	{ S_USB, "port", K_USB_PORT, U(port), NULL, 0, 0 },
};

/* ------------------------------------------------------------ the profile */

static void profile_defaults(struct vfk_profile *p)
{
	p->memory_mib = 4096;
	p->os = OS_LINUX;
	p->firmware = FW_UEFI;
	p->tpm = TRI_AUTO;
	p->accel = ACCEL_AUTO;
	p->serial = SERIAL_AUTO;
	p->pinning = 1;
	p->host_cores = 1;
	p->hugepages = HUGE_AUTO;
	p->iothreads = 1;
	p->hyperv = TRI_AUTO;
	p->display = DISP_AUTO;
	p->res[0] = 1920;
	p->res[1] = 1080;
	p->tablet = TRI_AUTO;
	p->audio = AUDIO_NONE;
	p->sound = SOUND_ICH9;
	p->mode = VFK_GPU_MODE_AUTO;
	p->virgl = TRI_AUTO;
}

void vfk_profile_free(struct vfk_profile *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->nentries; i++) {
		free(p->entries[i].section);
		free(p->entries[i].key);
		free(p->entries[i].value);
	}
	free(p->entries);
	for (i = 0; i < p->ndisks; i++) {
		free(p->disks[i].id);
		free(p->disks[i].path);
	}
	free(p->disks);
	for (i = 0; i < p->nnets; i++) {
		free(p->nets[i].id);
		free(p->nets[i].bridge);
		free(p->nets[i].network);
		free(p->nets[i].mac);
	}
	free(p->nets);
	for (i = 0; i < p->nhostdevs; i++) {
		free(p->hostdevs[i].id);
		free(p->hostdevs[i].device);
		free(p->hostdevs[i].rom);
	}
	free(p->hostdevs);
	for (i = 0; i < p->nusbs; i++) {
		free(p->usbs[i].id);
		free(p->usbs[i].device);
		free(p->usbs[i].port);
	}
	free(p->usbs);
	free(p->path);
	free(p->basedir);
	free(p->name);
	free(p->description);
	free(p->emulator);
	free(p->kernel);
	free(p->initrd);
	free(p->drivers);
	free(p->cmdline);
	free(p->vendor_id);
	free(p->listen);
	free(p->keyboard);
	free(p->mouse);
	free(p->device);
	free(p->mdev_type);
	free(p->rom);
	free(p);
}

static struct prof_entry *find_entry(const struct vfk_profile *p, const char *section,
				     const char *key)
{
	size_t i;

	for (i = 0; i < p->nentries; i++)
		if (streq(p->entries[i].section, section) && streq(p->entries[i].key, key))
			return &p->entries[i];
	return NULL;
}

int profile_line(const struct vfk_profile *p, const char *section, const char *key)
{
	const struct prof_entry *e = find_entry(p, section, key);

	return e ? e->line : 0;
}

const char *vfk_profile_get(const struct vfk_profile *p, const char *section, const char *key)
{
	const struct prof_entry *e;

	if (!p || !section || !key)
		return NULL;
	e = find_entry(p, section, key);
	return e ? e->value : NULL;
}

const char *vfk_profile_get_name(const struct vfk_profile *p) { return p ? p->name : NULL; }
const char *vfk_profile_get_path(const struct vfk_profile *p) { return p ? p->path : NULL; }

/*
 * [disk.NAME], [network.NAME], [hostdev.NAME] and [usb.NAME] sections land in
 * arrays of the profile: where an element keeps its name and the line the
 * section starts on.
 */
struct named_array {
	size_t size, id_off, line_off;
};

static const struct named_array disk_array = { sizeof(struct prof_disk), D(id), D(line) };
static const struct named_array net_array = { sizeof(struct prof_net), N(id), N(line) };
static const struct named_array hostdev_array = { sizeof(struct prof_hostdev), H(id), H(line) };
static const struct named_array usb_array = { sizeof(struct prof_usb), U(id), U(line) };

/*
 * The element named @id of the *@n elements at *@arr, else a new one, zeroed
 * but for its name and @line, appended (*@arr may move). NULL when out of
 * memory.
 */
static void *named_element(const struct named_array *a, void **arr, size_t *n, const char *id,
			   int line)
{
	char *v = *arr, *e;
	size_t i;

	for (i = 0; i < *n; i++)
		if (streq(*(char **)(v + i * a->size + a->id_off), id))
			return v + i * a->size;
	v = realloc(v, (*n + 1) * a->size);
	if (!v)
		return NULL;
	*arr = v;
	e = v + *n * a->size;
	memset(e, 0, a->size);
	*(char **)(e + a->id_off) = strdup(id);
	if (!*(char **)(e + a->id_off))
		return NULL;
	*(int *)(e + a->line_off) = line;
	(*n)++;
	return e;
}

/* Where the keys of a section of scope @sc land. */
static void *section_target(struct vfk_profile *p, enum scope sc, const char *id, int line)
{
	void *arr, *e;

	if (sc == S_DISK) {
		arr = p->disks;
		e = named_element(&disk_array, &arr, &p->ndisks, id, line);
		p->disks = arr;
		return e;
	}
	if (sc == S_NET) {
		p->net_given = true;
		arr = p->nets;
		e = named_element(&net_array, &arr, &p->nnets, id, line);
		p->nets = arr;
		return e;
	}
	if (sc == S_HOSTDEV) {
		arr = p->hostdevs;
		e = named_element(&hostdev_array, &arr, &p->nhostdevs, id, line);
		p->hostdevs = arr;
		return e;
	}
	if (sc == S_USB) {
		arr = p->usbs;
		e = named_element(&usb_array, &arr, &p->nusbs, id, line);
		p->usbs = arr;
		return e;
	}
	return p;
}

static char *key_list(enum scope sc)
{
	struct sbuf b = { 0 };
	bool first = true;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (keys[i].scope == sc) {
			sbuf_addf(&b, "%s%s", first ? "" : ", ", keys[i].name);
			first = false;
		}
	return sbuf_take(&b);
}

/*
 * @s for a message: bytes other than printable ASCII as '?', so that a
 * section or key name cannot bring terminal escapes onto stderr.
 */
char *profile_printable(const char *s)
{
	char *out = strdup(s), *c;

	for (c = out; c && *c; c++)
		if (*c < ' ' || *c > '~')
			*c = '?';
	return out;
}

#define SECTION_ID_MAX 32	/* inih keeps 49 bytes of a section name and cuts the rest */

/*
 * The scope of section name @section ("disk.data": S_DISK with *@id
 * "data"), or _S_MAX with *@what saying which sections there are.
 */
enum scope profile_section_scope(const char *section, const char **id, const char **what)
{
	const char *dot = strchr(section, '.');
	size_t len = dot ? (size_t)(dot - section) : strlen(section);
	enum scope sc;

	*id = dot ? dot + 1 : "";
	for (sc = 0; sc < _S_MAX; sc++)
		if (strlen(scope_names[sc]) == len && !strncmp(section, scope_names[sc], len))
			break;
	if (sc == _S_MAX) {
		*what = "(sections: vm, tuning, display, input, audio, gpu, vfio, disk, network, "
			"hostdev, usb; disk.NAME, network.NAME, hostdev.NAME and usb.NAME for more)";
		return _S_MAX;
	}
	if (dot && (sc < S_DISK || !**id || !profile_chars_in(*id, "_-") ||
		    strlen(*id) > SECTION_ID_MAX)) {
		*what = "(only [disk.NAME], [network.NAME], [hostdev.NAME] and [usb.NAME] take a "
			"NAME: 1 to 32 letters, digits, '_' and '-')";
		return _S_MAX;
	}
	return sc;
}

static int set_string(char **slot, const char *v)
{
	char *copy = strdup(v);

	if (!copy)
		return neg_errno(ENOMEM);
	free(*slot);
	*slot = copy;
	return 0;
}

/*
 * Apply one "key = value" of @section. @line 0 means set programmatically:
 * an earlier value is replaced rather than reported as set twice.
 * Returns 0, or a negative errno with *@why set ("[vm] memory: ...").
 */
int profile_apply(struct vfk_profile *p, const char *section, const char *key, const char *value,
		  int line, char **why)
{
	_cleanup_free_ char *msg = NULL, *psec = profile_printable(section),
			    *pkey = profile_printable(key);
	const char *id, *what = "";
	const struct keydef *k = NULL;
	struct prof_entry *e;
	enum scope sc;
	void *target;
	size_t i;
	int r;

	*why = NULL;
	if (!psec || !pkey)
		return neg_errno(ENOMEM);
	sc = profile_section_scope(section, &id, &what);
	if (!*section) {
		r = asprintf(why, "%s: outside any section (start with [vm])", pkey);
		return neg_errno(r < 0 ? ENOMEM : EINVAL);
	}
	if (sc == _S_MAX) {
		r = asprintf(why, "[%s] %s: unknown section [%s] %s", psec, pkey, psec, what);
		return neg_errno(r < 0 ? ENOMEM : EINVAL);
	}
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (keys[i].scope == sc && streq(keys[i].name, key)) {
			k = &keys[i];
			break;
		}
	if (!k) {
		_cleanup_free_ char *list = key_list(sc);

		r = asprintf(why, "[%s] %s: unknown key (keys of [%s]: %s)", psec, pkey,
			     scope_names[sc], list ? list : "?");
		return neg_errno(r < 0 ? ENOMEM : EINVAL);
	}
	e = find_entry(p, section, key);
	if (e && line > 0 && e->line > 0) {
		r = asprintf(why, "[%s] %s: set twice (first on line %d)", section, key, e->line);
		return neg_errno(r < 0 ? ENOMEM : EINVAL);
	}
	target = section_target(p, sc, id, line);
	if (!target)
		return neg_errno(ENOMEM);
	r = profile_set_value(p, k, target, value, &msg);
	if (r < 0) {
		if (r == -EINVAL && asprintf(why, "[%s] %s: %s", section, key, msg ? msg : "bad value") < 0)
			*why = NULL;
		return r;
	}
	if (!e) {
		e = realloc(p->entries, (p->nentries + 1) * sizeof(*e));
		if (!e)
			return neg_errno(ENOMEM);
		p->entries = e;
		e = &p->entries[p->nentries];
		memset(e, 0, sizeof(*e));
		if (!(e->section = strdup(section)) || !(e->key = strdup(key))) {
			free(e->section);
			free(e->key);
			return neg_errno(ENOMEM);
		}
		p->nentries++;
	}
	e->line = line;
	return set_string(&e->value, value);
}

/* ------------------------------------------------------------ whole-profile checks */

static bool mode_in(int mode, unsigned int mask) { return (mask >> mode) & 1; }
#define M(x) (1u << VFK_GPU_MODE_##x)

static int check_fail(const struct vfk_profile *p, int *line, char **why, const char *sec,
		      const char *key, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int check_fail(const struct vfk_profile *p, int *line, char **why, const char *sec,
		      const char *key, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	*line = profile_line(p, sec, key);
	va_start(ap, fmt);
	msg = vstrdupf(fmt, ap);
	va_end(ap);
	*why = strdupf("[%s] %s: %s", sec, key, msg ? msg : "invalid");
	return neg_errno(EINVAL);
}

char *profile_section_name(const char *kind, const char *id)
{
	return strdupf("%s%s%s", kind, *id ? "." : "", id);
}

/* Contradictions between keys; *@why names the key at fault. */
static int profile_check(struct vfk_profile *p, int *line, char **why)
{
	size_t i;

#define FAIL(sec, key, ...) return check_fail(p, line, why, sec, key, __VA_ARGS__)

	if (p->initrd && !p->kernel)
		FAIL("vm", "initrd", "needs kernel (direct kernel boot)");
	if (p->cmdline && !p->kernel)
		FAIL("vm", "cmdline", "needs kernel (direct kernel boot)");
	if (p->rom && !mode_in(p->mode, M(AUTO) | M(PASSTHROUGH)))
		FAIL("gpu", "rom", "only for mode = passthrough (mode is %s)", mode_names[p->mode]);
	if (p->gpu_count && !mode_in(p->mode, M(AUTO) | M(PASSTHROUGH)))
		FAIL("gpu", "count", "only for mode = passthrough or auto (mode is %s)",
		     mode_names[p->mode]);
	if (p->fabric && !mode_in(p->mode, M(AUTO) | M(PASSTHROUGH)))
		FAIL("gpu", "fabric", "only for mode = passthrough or auto (mode is %s)",
		     mode_names[p->mode]);
	if (p->gpu_count && p->device && profile_selector_count(p->device) != p->gpu_count)
		FAIL("gpu", "count", "is %u, but device names %zu GPU%s", p->gpu_count,
		     profile_selector_count(p->device),
		     profile_selector_count(p->device) == 1 ? "" : "s");
	if (p->mdev_type && !mode_in(p->mode, M(AUTO) | M(MDEV)))
		FAIL("gpu", "mdev-type", "only for mode = mdev or auto (mode is %s)",
		     mode_names[p->mode]);
	if (p->virgl == TRI_YES && !mode_in(p->mode, M(AUTO) | M(VIRTIO)))
		FAIL("gpu", "virgl", "only for mode = virtio or auto (mode is %s)",
		     mode_names[p->mode]);
	if (p->looking_glass && !mode_in(p->mode, M(AUTO) | M(PASSTHROUGH) | M(MDEV)))
		FAIL("display", "looking-glass", "needs a GPU of its own in the guest: mode = "
		     "passthrough, mdev or auto (mode is %s)", mode_names[p->mode]);
	if (p->kvm_hidden == 1 && p->accel == ACCEL_TCG)
		FAIL("tuning", "kvm-hidden", "hides KVM, but accel = tcg");
	/* QEMU refuses a memory backend smaller than one page and rounds others
	 * up to whole pages the guest never sees; the plan counts whole pages */
	if (p->hugepages == HUGE_1G && p->memory_mib % 1024)
		FAIL("tuning", "hugepages", "1G pages need a memory size in whole GiB (memory is "
		     "%llu MiB)", p->memory_mib);
	if (p->hugepages == HUGE_2M && p->memory_mib % 2)
		FAIL("tuning", "hugepages", "2M pages need a memory size in whole 2 MiB (memory is "
		     "%llu MiB)", p->memory_mib);
	for (i = 0; i < p->ndisks; i++) {
		struct prof_disk *d = &p->disks[i];
		_cleanup_free_ char *sec = profile_section_name("disk", d->id);

		if (!sec)
			return neg_errno(ENOMEM);
		if (!d->path)
			FAIL(sec, "path", "missing: every disk needs a path");
		if (d->media == MEDIA_CDROM && d->bus == BUS_VIRTIO && profile_line(p, sec, "bus"))
			FAIL(sec, "bus", "a cdrom cannot be on virtio (use sata or scsi)");
		if (d->readonly && d->bus == BUS_SATA && d->media != MEDIA_CDROM)
			FAIL(sec, "readonly", "a SATA disk cannot be read-only (use virtio, scsi, "
			     "or media = cdrom)");
	}
	for (i = 0; i < p->nnets; i++) {
		struct prof_net *n = &p->nets[i];
		_cleanup_free_ char *sec = profile_section_name("network", n->id);

		if (!sec)
			return neg_errno(ENOMEM);
		if (n->type == NET_BRIDGE && !n->bridge)
			FAIL(sec, "bridge", "missing: type = bridge needs bridge = NAME");
		if (n->network && n->type != NET_NETWORK)
			FAIL(sec, "network", "only for type = network");
	}
	for (i = 0; i < p->nhostdevs; i++) {
		const struct prof_hostdev *h = &p->hostdevs[i];
		_cleanup_free_ char *sec = profile_section_name("hostdev", h->id);

		if (!sec)
			return neg_errno(ENOMEM);
		if (!h->device)
			FAIL(sec, "device", "missing: every host device needs device = ADDRESS, "
			     "VENDOR:DEVICE or a part of its name");
	}
	for (i = 0; i < p->nusbs; i++) {
		const struct prof_usb *u = &p->usbs[i];
		_cleanup_free_ char *sec = profile_section_name("usb", u->id);

		if (!sec)
			return neg_errno(ENOMEM);
		if (!u->device)
			FAIL(sec, "device", "missing: every USB device needs device = VENDOR:PRODUCT");
		if (u->port && !u->bus)
			FAIL(sec, "port", "needs bus = N: a port path is one bus's");
	}
#undef FAIL
	return 0;
}

/* ------------------------------------------------------------ reading a profile */

void profile_set_err(char *errbuf, size_t errsize, const char *file, int line, const char *msg)
{
	if (!errbuf || !errsize)
		return;
	if (line > 0)
		snprintf(errbuf, errsize, "%s:%d: %s", file, line, msg);
	else
		snprintf(errbuf, errsize, "%s: %s", file, msg);
}

static char *dir_of(const char *filename)
{
	char cwd[PATH_MAX];
	const char *slash = filename ? strrchr(filename, '/') : NULL;
	_cleanup_free_ char *dir = NULL;
	char *abs;

	if (slash == filename && slash)
		return strdup("/");
	dir = slash ? strndup(filename, (size_t)(slash - filename)) : strdup(".");
	if (!dir)
		return NULL;
	if (dir[0] == '/')
		return TAKE_PTR(dir);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	if (streq(dir, "."))
		return strdup(cwd);
	if (asprintf(&abs, "%s/%s", streq(cwd, "/") ? "" : cwd, dir) < 0)
		return NULL;
	return abs;
}

static char *name_from_file(const char *filename)
{
	const char *base = filename ? strrchr(filename, '/') : NULL;
	size_t n;

	base = base ? base + 1 : (filename ? filename : "vm");
	n = strlen(base);
	if (n > 4 && streq(base + n - 4, ".ini"))
		n -= 4;
	if (!n || n > 100)
		return strdup("vm");
	return strndup(base, n);
}

/*
 * The libvirt XML records the profile's path, and the VM's name may come
 * from it: it must be text as much as a value.
 */
static int file_name_problem(const char *filename, char *errbuf, size_t errsize)
{
	_cleanup_free_ char *shown = NULL;
	const char *problem;
	char buf[96];

	problem = filename ? profile_text_problem(filename, buf, sizeof(buf)) : NULL;
	if (!problem)
		return 0;
	shown = profile_printable(filename);
	if (errbuf && errsize)
		snprintf(errbuf, errsize, "%s: %s in the file name", shown ? shown : "?", problem);
	return neg_errno(EINVAL);
}

int vfk_profile_parse(const char *text, const char *filename, struct vfk_profile **out,
		      char *errbuf, size_t errsize)
{
	struct vfk_profile *p;
	const char *file = filename ? filename : "<string>";
	char *check_why = NULL;
	int r, check_line = 0;

	if (!text || !out)
		return neg_errno(EINVAL);
	*out = NULL;
	r = file_name_problem(filename, errbuf, errsize);
	if (r < 0)
		return r;
	p = calloc(1, sizeof(*p));
	if (!p)
		return neg_errno(ENOMEM);
	profile_defaults(p);
	p->path = strdup(file);
	p->basedir = dir_of(filename);
	if (!p->path || !p->basedir) {
		r = neg_errno(ENOMEM);
		goto fail;
	}
	r = profile_read_ini(p, text, file, errbuf, errsize);
	if (r < 0)
		goto fail;
	if (!p->name && !(p->name = name_from_file(filename))) {
		r = neg_errno(ENOMEM);
		goto fail;
	}
	r = profile_check(p, &check_line, &check_why);
	if (r < 0) {
		profile_set_err(errbuf, errsize, file, check_line, check_why ? check_why : "invalid");
		free(check_why);
		r = neg_errno(EINVAL);
		goto fail;
	}
	*out = p;
	return 0;
fail:
	vfk_profile_free(p);
	return r;
}

int vfk_profile_load(const char *path, struct vfk_profile **out, char *errbuf, size_t errsize)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *text = NULL;
	struct stat st;
	size_t len = 0;
	ssize_t n;

	if (!path || !out)
		return neg_errno(EINVAL);
	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;

		profile_set_err(errbuf, errsize, path, 0, strerror(e));
		return neg_errno(e);
	}
	if (!S_ISREG(st.st_mode) || st.st_size > 1024 * 1024) {
		profile_set_err(errbuf, errsize, path, 0, S_ISREG(st.st_mode) ? "larger than 1 MiB" :
			"not a regular file");
		return neg_errno(EINVAL);
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text)
		return neg_errno(ENOMEM);
	while (len < (size_t)st.st_size) {
		n = read(fd, text + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			profile_set_err(errbuf, errsize, path, 0, strerror(e));
			return neg_errno(e);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	text[len] = '\0';
	if (strlen(text) != len) {
		profile_set_err(errbuf, errsize, path, 0, "NUL byte in the file");
		return neg_errno(EINVAL);
	}
	return vfk_profile_parse(text, path, out, errbuf, errsize);
}

int vfk_profile_set(struct vfk_profile *p, const char *key, const char *value, char *errbuf,
		    size_t errsize)
{
	_cleanup_free_ char *section = NULL, *why = NULL;
	char *dot;
	int r, line = 0;

	if (!p || !key || !value)
		return neg_errno(EINVAL);
	section = strdup(key);
	if (!section)
		return neg_errno(ENOMEM);
	dot = strrchr(section, '.');
	if (!dot || dot == section || !dot[1]) {
		if (errbuf && errsize)
			snprintf(errbuf, errsize, "--set %s: expected SECTION.KEY=VALUE", key);
		return neg_errno(EINVAL);
	}
	*dot = '\0';
	r = profile_apply(p, section, dot + 1, value, 0, &why);
	if (r < 0) {
		if (errbuf && errsize)
			snprintf(errbuf, errsize, "--set %s: %s", key, why ? why : strerror(-r));
		return r;
	}
	free(why);
	why = NULL;
	r = profile_check(p, &line, &why);
	if (r < 0) {
		if (errbuf && errsize) {
			if (line > 0)
				snprintf(errbuf, errsize, "%s:%d: %s", p->path, line, why ? why : "invalid");
			else
				snprintf(errbuf, errsize, "--set %s: %s", key, why ? why : "invalid");
		}
		return r;
	}
	return 0;
}

/* The rule for VM names; launch and swtpm derive file names from them. */
bool vfk_vm_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0, i;

	if (n == 0 || n > 64 || name[0] == '.' || name[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
			return false;
	return true;
}
