/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VM profiles: INI files read with inih into struct vfk_profile. Every key is
 * in one table below (its section, type, and where it lands); every value is
 * checked when read, and an error names the file, the line and the key.
 * Unknown sections and keys, repeated keys and continuation lines are errors.
 */
#include <ctype.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "vm.h"

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
static const char *const mode_names[] = { "auto", "passthrough", "mdev", "virtio", "emulated",
					  "none", NULL };

const char *vfk_gpu_mode_to_string(enum vfk_gpu_mode mode)
{
	return (unsigned int)mode < VFK_GPU_MODE_COUNT ? mode_names[mode] : "unknown";
}

/* ------------------------------------------------------------ key table */

enum scope { S_VM, S_TUNING, S_DISPLAY, S_INPUT, S_AUDIO, S_GPU, S_DISK, S_NET, _S_MAX };
static const char *const scope_names[] = { "vm", "tuning", "display", "input", "audio", "gpu",
					   "disk", "network" };

enum ktype {
	K_STR,		/* text: UTF-8, no control characters */
	K_NAME,		/* text without '/' */
	K_PATH,		/* a file; relative to the profile's directory */
	K_SIZE,		/* memory size -> MiB */
	K_UINT,
	K_BOOL,
	K_TRI,		/* auto | yes | no */
	K_ENUM,
	K_VCPUS,	/* auto | N */
	K_RES,		/* WIDTHxHEIGHT */
	K_MAC,
	K_VENDOR,	/* Hyper-V vendor id: 1-12 printable ASCII characters */
	K_ADDR,		/* listen address */
	K_IFNAME,	/* network interface name */
	K_SELECTOR,	/* GPU selector */
};

struct keydef {
	enum scope scope;
	const char *name;
	enum ktype type;
	size_t off;
	const char *const *choices;	/* K_ENUM */
	unsigned int min, max;		/* K_UINT, K_VCPUS */
};

#define P(f) offsetof(struct vfk_profile, f)
#define D(f) offsetof(struct prof_disk, f)
#define N(f) offsetof(struct prof_net, f)

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
	{ S_VM, "serial", K_ENUM, P(serial), serial_names, 0, 0 },

	{ S_TUNING, "cpu-model", K_ENUM, P(cpu_model), cpu_model_names, 0, 0 },
	{ S_TUNING, "pinning", K_BOOL, P(pinning), NULL, 0, 0 },
	{ S_TUNING, "host-cores", K_UINT, P(host_cores), NULL, 0, 64 },
	{ S_TUNING, "hugepages", K_ENUM, P(hugepages), huge_names, 0, 0 },
	{ S_TUNING, "iothreads", K_UINT, P(iothreads), NULL, 0, 16 },
	{ S_TUNING, "hyperv", K_TRI, P(hyperv), NULL, 0, 0 },
	{ S_TUNING, "kvm-hidden", K_BOOL, P(kvm_hidden), NULL, 0, 0 },
	{ S_TUNING, "vendor-id", K_VENDOR, P(vendor_id), NULL, 0, 0 },

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
	{ S_GPU, "mdev-type", K_NAME, P(mdev_type), NULL, 0, 0 },
	{ S_GPU, "rom", K_PATH, P(rom), NULL, 0, 0 },
	{ S_GPU, "virgl", K_TRI, P(virgl), NULL, 0, 0 },

	{ S_DISK, "path", K_PATH, D(path), NULL, 0, 0 },
	{ S_DISK, "format", K_ENUM, D(format), disk_fmt_names, 0, 0 },
	{ S_DISK, "bus", K_ENUM, D(bus), disk_bus_names, 0, 0 },
	{ S_DISK, "media", K_ENUM, D(media), disk_media_names, 0, 0 },
	{ S_DISK, "cache", K_ENUM, D(cache), disk_cache_names, 0, 0 },
	{ S_DISK, "readonly", K_BOOL, D(readonly), NULL, 0, 0 },

	{ S_NET, "type", K_ENUM, N(type), net_type_names, 0, 0 },
	{ S_NET, "bridge", K_IFNAME, N(bridge), NULL, 0, 0 },
	{ S_NET, "network", K_NAME, N(network), NULL, 0, 0 },
	{ S_NET, "model", K_ENUM, N(model), net_model_names, 0, 0 },
	{ S_NET, "mac", K_MAC, N(mac), NULL, 0, 0 },
};

#define MAX_LINE 200	/* inih's INI_MAX_LINE, newline included */

/* ------------------------------------------------------------ values */

/*
 * UTF-8 without control characters (what libxml2 and QEMU take as is):
 * shortest forms only, no surrogates, nothing above U+10FFFF — libxml2
 * writes such bytes through and no XML parser reads them back.
 */
static bool text_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned int c = *p, n, i;

		if (c < 0x20 || c == 0x7f)
			return false;
		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, c &= 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, c &= 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, c &= 0x07;
		else
			return false;
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			c = (c << 6) | (p[i] & 0x3f);
		}
		if ((n == 2 && c < 0x800) || (n == 3 && c < 0x10000) ||
		    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
			return false;
		p += n + 1;
	}
	return true;
}

static int parse_bool(const char *v)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(v, yes[i]))
			return 1;
		if (!strcasecmp(v, no[i]))
			return 0;
	}
	return -1;
}

static int parse_uint(const char *v, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long n;

	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || *end || n > max)
		return -1;
	*out = n;
	return 0;
}

/* "16G", "16 GiB", "512M", "4096" (MiB) -> MiB */
static int parse_size_mib(const char *v, unsigned long long *out)
{
	static const struct { const char *suffix; unsigned long long mul; } units[] = {
		{ "", 1 }, { "m", 1 }, { "mib", 1 }, { "mb", 1 }, { "g", 1024 }, { "gib", 1024 },
		{ "gb", 1024 }, { "t", 1024 * 1024 }, { "tib", 1024 * 1024 }, { "tb", 1024 * 1024 },
	};
	char *end;
	unsigned long long n;
	size_t i;

	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno)
		return -1;
	while (*end == ' ')
		end++;
	for (i = 0; i < ARRAY_SIZE(units); i++)
		if (!strcasecmp(end, units[i].suffix)) {
			if (n > (16ULL << 20) / units[i].mul)
				return -1;
			*out = n * units[i].mul;
			return 0;
		}
	return -1;
}

static bool chars_in(const char *v, const char *extra)
{
	for (; *v; v++)
		if (!isalnum((unsigned char)*v) && !strchr(extra, *v))
			return false;
	return true;
}

static char *join_choices(const char *const *choices)
{
	struct sbuf b = { 0 };
	size_t i;

	for (i = 0; choices[i]; i++)
		sbuf_addf(&b, "%s%s", i ? ", " : "", choices[i]);
	return sbuf_take(&b);
}

/* @rel below @dir unless absolute, with "." and ".." resolved lexically. */
static char *path_join(const char *dir, const char *rel)
{
	_cleanup_free_ char *s = NULL;
	char *out, *tok, *save = NULL;
	size_t len = 0;

	if (asprintf(&s, "%s/%s", rel[0] == '/' ? "" : dir, rel) < 0) {
		s = NULL;
		return NULL;
	}
	out = calloc(1, strlen(s) + 2);
	if (!out)
		return NULL;
	for (tok = strtok_r(s, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (streq(tok, "."))
			continue;
		if (streq(tok, "..")) {
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
			out[len] = '\0';
			continue;
		}
		out[len++] = '/';
		strcpy(out + len, tok);
		len += strlen(tok);
	}
	if (!len)
		strcpy(out, "/");
	return out;
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
 * Check @v for @k and store it at @base + k->off. On a bad value returns
 * -EINVAL with *@why set to a malloc'ed explanation.
 */
static int set_value(const struct vfk_profile *p, const struct keydef *k, void *base,
		     const char *v, char **why)
{
	char *slot = (char *)base + k->off;
	unsigned long long n;
	int b;

#define BAD(...) do { if (asprintf(why, __VA_ARGS__) < 0) *why = NULL; return neg_errno(EINVAL); } while (0)
	if (!*v)
		BAD("needs a value");
	if (!text_ok(v))
		BAD("control characters or invalid UTF-8 in the value");
	switch (k->type) {
	case K_STR:
		return set_string((char **)slot, v);
	case K_NAME:
		if (strchr(v, '/'))
			BAD("'%s' contains '/'", v);
		if (strlen(v) > 100)
			BAD("longer than 100 characters");
		return set_string((char **)slot, v);
	case K_SELECTOR:
		if (strlen(v) > 100)
			BAD("longer than 100 characters");
		return set_string((char **)slot, v);
	case K_PATH: {
		_cleanup_free_ char *full = path_join(p->basedir, v);

		if (!full)
			return neg_errno(ENOMEM);
		if (strlen(full) >= PATH_MAX)
			BAD("path too long");
		return set_string((char **)slot, full);
	}
	case K_SIZE:
		if (parse_size_mib(v, &n) < 0 || n < 32)
			BAD("'%s' is not a memory size of at least 32 MiB (e.g. 16G, 512M, 4096)", v);
		*(unsigned long long *)slot = n;
		return 0;
	case K_UINT:
		if (parse_uint(v, k->max, &n) < 0 || n < k->min)
			BAD("'%s' is not a number from %u to %u", v, k->min, k->max);
		*(unsigned int *)slot = (unsigned int)n;
		return 0;
	case K_VCPUS:
		if (!strcasecmp(v, "auto")) {
			*(unsigned int *)slot = 0;
			return 0;
		}
		if (parse_uint(v, k->max, &n) < 0 || n < k->min)
			BAD("'%s' is neither auto nor a number from %u to %u", v, k->min, k->max);
		*(unsigned int *)slot = (unsigned int)n;
		return 0;
	case K_BOOL:
		if ((b = parse_bool(v)) < 0)
			BAD("'%s' is not yes or no", v);
		*(int *)slot = b;
		return 0;
	case K_TRI:
		if (!strcasecmp(v, "auto"))
			b = TRI_AUTO;
		else if ((b = parse_bool(v)) < 0)
			BAD("'%s' is not auto, yes or no", v);
		*(int *)slot = b;
		return 0;
	case K_ENUM: {
		size_t i;

		for (i = 0; k->choices[i]; i++)
			if (!strcasecmp(v, k->choices[i])) {
				*(int *)slot = (int)i;
				return 0;
			}
		{
			_cleanup_free_ char *list = join_choices(k->choices);
			BAD("'%s' is not one of: %s", v, list ? list : "?");
		}
	}
	case K_RES: {
		unsigned int *res = (unsigned int *)slot;
		unsigned long long w, h;
		char buf[64], *x;

		snprintf(buf, sizeof(buf), "%s", v);
		x = strpbrk(buf, "xX");
		if (x)
			*x++ = '\0';
		if (!x || parse_uint(buf, 16384, &w) < 0 || parse_uint(x, 16384, &h) < 0 || w < 320 ||
		    h < 200)
			BAD("'%s' is not WIDTHxHEIGHT (320x200 to 16384x16384)", v);
		res[0] = (unsigned int)w;
		res[1] = (unsigned int)h;
		return 0;
	}
	case K_MAC: {
		unsigned int o[6];
		char end;

		if (strlen(v) != 17 ||
		    sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5],
			   &end) != 6 || !chars_in(v, ":"))
			BAD("'%s' is not a MAC address (52:54:00:12:34:56)", v);
		if (o[0] & 1)
			BAD("'%s' is a multicast address", v);
		return set_string((char **)slot, v);
	}
	case K_VENDOR: {
		const char *c;

		if (strlen(v) > 12)
			BAD("'%s' is longer than 12 characters", v);
		for (c = v; *c; c++)
			if (*c <= ' ' || *c > '~')
				BAD("'%s': only printable ASCII without spaces", v);
		return set_string((char **)slot, v);
	}
	case K_ADDR:
		if (!chars_in(v, ".:-") || strlen(v) > 64)
			BAD("'%s' is not an address (127.0.0.1, ::1, 0.0.0.0)", v);
		return set_string((char **)slot, v);
	case K_IFNAME:
		if (!chars_in(v, "._-") || strlen(v) > 15)
			BAD("'%s' is not a network interface name", v);
		return set_string((char **)slot, v);
	}
#undef BAD
	return neg_errno(EINVAL);
}

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
	free(p->path);
	free(p->basedir);
	free(p->name);
	free(p->description);
	free(p->emulator);
	free(p->kernel);
	free(p->initrd);
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

static void *section_target(struct vfk_profile *p, enum scope sc, const char *id, int line)
{
	size_t i;

	if (sc == S_DISK) {
		struct prof_disk *d;

		for (i = 0; i < p->ndisks; i++)
			if (streq(p->disks[i].id, id))
				return &p->disks[i];
		d = realloc(p->disks, (p->ndisks + 1) * sizeof(*d));
		if (!d)
			return NULL;
		p->disks = d;
		d = &p->disks[p->ndisks];
		memset(d, 0, sizeof(*d));
		d->id = strdup(id);
		if (!d->id)
			return NULL;
		d->line = line;
		p->ndisks++;
		return d;
	}
	if (sc == S_NET) {
		struct prof_net *n;

		p->net_given = true;
		for (i = 0; i < p->nnets; i++)
			if (streq(p->nets[i].id, id))
				return &p->nets[i];
		n = realloc(p->nets, (p->nnets + 1) * sizeof(*n));
		if (!n)
			return NULL;
		p->nets = n;
		n = &p->nets[p->nnets];
		memset(n, 0, sizeof(*n));
		n->id = strdup(id);
		if (!n->id)
			return NULL;
		n->line = line;
		p->nnets++;
		return n;
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
 * Apply one "key = value" of @section. @line 0 means set programmatically:
 * an earlier value is replaced rather than reported as set twice.
 * Returns 0, or a negative errno with *@why set ("[vm] memory: ...").
 */
static int profile_apply(struct vfk_profile *p, const char *section, const char *key,
			 const char *value, int line, char **why)
{
	_cleanup_free_ char *base = NULL, *msg = NULL;
	const char *id = "";
	const struct keydef *k = NULL;
	struct prof_entry *e;
	enum scope sc;
	void *target;
	size_t i;
	char *dot;
	int r;

	*why = NULL;
	base = strdup(section);
	if (!base)
		return neg_errno(ENOMEM);
	dot = strchr(base, '.');
	if (dot) {
		*dot = '\0';
		id = dot + 1;
	}
	for (sc = 0; sc < _S_MAX; sc++)
		if (streq(base, scope_names[sc]))
			break;
	if (!*section) {
		r = asprintf(why, "%s: outside any section (start with [vm])", key);
		return neg_errno(r < 0 ? ENOMEM : EINVAL);
	}
	if (sc == _S_MAX) {
		r = asprintf(why, "[%s] %s: unknown section [%s] (sections: vm, tuning, display, "
			     "input, audio, gpu, disk, network; disk.NAME and network.NAME for more)",
			     section, key, section);
		return neg_errno(r < 0 ? ENOMEM : EINVAL);
	}
	if (dot && ((sc != S_DISK && sc != S_NET) || !*id || !chars_in(id, "_-"))) {
		r = asprintf(why, "[%s] %s: unknown section [%s] (only [disk.NAME] and "
			     "[network.NAME] take a NAME of letters, digits, '_' and '-')",
			     section, key, section);
		return neg_errno(r < 0 ? ENOMEM : EINVAL);
	}
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (keys[i].scope == sc && streq(keys[i].name, key)) {
			k = &keys[i];
			break;
		}
	if (!k) {
		_cleanup_free_ char *list = key_list(sc);

		r = asprintf(why, "[%s] %s: unknown key (keys of [%s]: %s)", section, key,
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
	r = set_value(p, k, target, value, &msg);
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
	for (i = 0; i < p->ndisks; i++) {
		struct prof_disk *d = &p->disks[i];
		_cleanup_free_ char *sec = NULL;

		if (asprintf(&sec, "disk%s%s", *d->id ? "." : "", d->id) < 0)
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
		_cleanup_free_ char *sec = NULL;

		if (asprintf(&sec, "network%s%s", *n->id ? "." : "", n->id) < 0)
			return neg_errno(ENOMEM);
		if (n->type == NET_BRIDGE && !n->bridge)
			FAIL(sec, "bridge", "missing: type = bridge needs bridge = NAME");
		if (n->network && n->type != NET_NETWORK)
			FAIL(sec, "network", "only for type = network");
	}
#undef FAIL
	return 0;
}

/* ------------------------------------------------------------ reading INI */

struct reader {
	const char *pos;
	const char *cur;	/* the line inih is on */
	int line;
	int too_long;		/* first line longer than MAX_LINE - 1, 0: none */
};

/* One line per call, as fgets() does; the line counter is inih's. */
static char *read_line(char *str, int num, void *stream)
{
	struct reader *rd = stream;
	size_t len = 0, n;
	const char *nl;

	if (!*rd->pos)
		return NULL;
	rd->cur = rd->pos;
	rd->line++;
	nl = strchr(rd->pos, '\n');
	n = nl ? (size_t)(nl - rd->pos) + 1 : strlen(rd->pos);
	if (n > (size_t)num - 1) {
		if (!rd->too_long)
			rd->too_long = rd->line;
		len = 0;	/* hand inih an empty line; the error is reported below */
	} else {
		len = n;
		memcpy(str, rd->pos, len);
	}
	str[len] = '\0';
	rd->pos += n;
	return str;
}

struct parse_state {
	struct vfk_profile *p;
	struct reader rd;
	char *err;		/* first error, "[sec] key: what" */
	int err_line;
	int oom;
};

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	char *why = NULL;
	int r;

	if (st->err || st->oom)
		return 1;
	if (st->rd.cur && (*st->rd.cur == ' ' || *st->rd.cur == '\t')) {
		if (asprintf(&st->err, "[%s] %s: indented line continues the value of '%s'; "
			     "continuation lines are not supported", section, name, name) < 0)
			st->err = NULL;
		st->err_line = st->rd.line;
		return 0;
	}
	r = profile_apply(st->p, section, name, value, st->rd.line, &why);
	if (r == -ENOMEM) {
		st->oom = 1;
		free(why);
		return 0;
	}
	if (r < 0) {
		st->err = why;
		st->err_line = st->rd.line;
		return 0;
	}
	return 1;
}

static void set_err(char *errbuf, size_t errsize, const char *file, int line, const char *msg)
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

int vfk_profile_parse(const char *text, const char *filename, struct vfk_profile **out,
		      char *errbuf, size_t errsize)
{
	struct parse_state st = { 0 };
	const char *file = filename ? filename : "<string>";
	char *check_why = NULL;
	int r, check_line = 0;

	if (!text || !out)
		return neg_errno(EINVAL);
	*out = NULL;
	st.p = calloc(1, sizeof(*st.p));
	if (!st.p)
		return neg_errno(ENOMEM);
	profile_defaults(st.p);
	st.p->path = strdup(file);
	st.p->basedir = dir_of(filename);
	if (!st.p->path || !st.p->basedir) {
		vfk_profile_free(st.p);
		return neg_errno(ENOMEM);
	}
	st.rd.pos = text;
	r = ini_parse_stream(read_line, &st.rd, on_key, &st);
	if (st.oom || r == -2) {
		free(st.err);
		vfk_profile_free(st.p);
		return neg_errno(ENOMEM);
	}
	if (st.rd.too_long && (!st.err || st.rd.too_long <= st.err_line)) {
		char msg[96];

		snprintf(msg, sizeof(msg), "line longer than %d characters", MAX_LINE - 2);
		set_err(errbuf, errsize, file, st.rd.too_long, msg);
		goto invalid;
	}
	if (r > 0 && (!st.err || r < st.err_line)) {
		set_err(errbuf, errsize, file, r,
			"syntax error: expected [section], key = value, or a comment");
		goto invalid;
	}
	if (st.err) {
		set_err(errbuf, errsize, file, st.err_line, st.err);
		goto invalid;
	}
	if (!st.p->name && !(st.p->name = name_from_file(filename))) {
		vfk_profile_free(st.p);
		return neg_errno(ENOMEM);
	}
	r = profile_check(st.p, &check_line, &check_why);
	if (r < 0) {
		set_err(errbuf, errsize, file, check_line, check_why ? check_why : "invalid");
		free(check_why);
		goto invalid;
	}
	*out = st.p;
	return 0;
invalid:
	free(st.err);
	vfk_profile_free(st.p);
	return neg_errno(EINVAL);
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

		set_err(errbuf, errsize, path, 0, strerror(e));
		return neg_errno(e);
	}
	if (!S_ISREG(st.st_mode) || st.st_size > 1024 * 1024) {
		set_err(errbuf, errsize, path, 0, S_ISREG(st.st_mode) ? "larger than 1 MiB" :
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

			set_err(errbuf, errsize, path, 0, strerror(e));
			return neg_errno(e);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	text[len] = '\0';
	if (strlen(text) != len) {
		set_err(errbuf, errsize, path, 0, "NUL byte in the file");
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
