/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VM profiles: INI files read with inih into struct vfk_profile. Every key is
 * in one table below (its section, type, and where it lands); every value is
 * checked when read against what its consumers carry (QEMU's option parsers,
 * libvirt's domain schema, the kernel), and an error names the file, the line
 * and the key. inih does the splitting; the line reader and the key handler
 * refuse what inih would take but vfiokit.ini(5) does not: indented lines,
 * "key: value", text after a [section], unknown sections without keys.
 * Unknown keys and repeated keys are errors too.
 */
#include <ctype.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdarg.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include "plan/profile.h"

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
	K_STR,		/* text: UTF-8, no control characters or noncharacters */
	K_NAME,		/* text without '/', at most 100 bytes */
	K_PATH,		/* a file; relative to the profile's directory; not "/" */
	K_SIZE,		/* memory size -> MiB, 32 MiB to 16 TiB */
	K_UINT,
	K_BOOL,
	K_TRI,		/* auto | yes | no */
	K_ENUM,
	K_VCPUS,	/* auto | N */
	K_RES,		/* WIDTHxHEIGHT */
	K_MAC,		/* unicast, not all zeros */
	K_VENDOR,	/* Hyper-V vendor id: 1-12 printable ASCII, no space or ',' */
	K_ADDR,		/* listen address: IPv4 or IPv6, no host name */
	K_IFNAME,	/* network interface name */
	K_SELECTOR,	/* GPU selector; address-like ones must parse */
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
 * Text every consumer carries as is, or the reason it is not: UTF-8 in
 * shortest form without surrogates or anything above U+10FFFF (libxml2 writes
 * such bytes through and no XML parser reads them back), without control
 * characters (C0, DEL, and C1, which XML 1.0 discourages and some terminals
 * obey: U+009B is CSI), and without Unicode noncharacters: U+FFFE and U+FFFF
 * are no XML Char (xmllint refuses the document), and XML 1.0 section 2.2
 * asks documents to avoid the other 64 (U+FDD0-U+FDEF, U+xxFFFE, U+xxFFFF).
 */
static const char *text_problem(const char *s, char *buf, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned int c = *p, n, i;

		if (c < 0x20 || c == 0x7f)
			return "control characters or invalid UTF-8";
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
			return "control characters or invalid UTF-8";
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return "control characters or invalid UTF-8";
			c = (c << 6) | (p[i] & 0x3f);
		}
		if ((n == 2 && c < 0x800) || (n == 3 && c < 0x10000) ||
		    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff || (c >= 0x80 && c <= 0x9f))
			return "control characters or invalid UTF-8";
		if ((c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe) {
			snprintf(buf, size, "a Unicode noncharacter (U+%04X, which XML cannot "
				 "carry)", c);
			return buf;
		}
		p += n + 1;
	}
	return NULL;
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

/* -EINVAL with *@why a malloc'ed explanation (NULL when out of memory). */
static int bad(char **why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(char **why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	*why = vstrdupf(fmt, ap);
	va_end(ap);
	return neg_errno(EINVAL);
}

/*
 * A file: absolute after joining. libvirt's schema takes a path only as
 * absFilePath, "/" and at least one more character, so "/" itself (a
 * directory anyway) is refused.
 */
static int check_path(const struct vfk_profile *p, const char *v, char **out, char **why)
{
	_cleanup_free_ char *full = path_join(p->basedir, v);

	if (!full)
		return neg_errno(ENOMEM);
	if (streq(full, "/"))
		return bad(why, "'%s' is the root directory, not a file", v);
	if (strlen(full) >= PATH_MAX)
		return bad(why, "path too long");
	*out = TAKE_PTR(full);
	return 0;
}

/* WIDTHxHEIGHT; copied whole or refused, so nothing after a cut is ignored. */
static int parse_res(const char *v, unsigned int res[2], char **why)
{
	unsigned long long w, h;
	char buf[16], *x;

	if (strlen(v) >= sizeof(buf))
		goto fail;
	snprintf(buf, sizeof(buf), "%s", v);
	x = strpbrk(buf, "xX");
	if (!x)
		goto fail;
	*x++ = '\0';
	if (parse_uint(buf, 16384, &w) < 0 || parse_uint(x, 16384, &h) < 0 || w < 320 || h < 200)
		goto fail;
	res[0] = (unsigned int)w;
	res[1] = (unsigned int)h;
	return 0;
fail:
	return bad(why, "'%s' is not WIDTHxHEIGHT (320x200 to 16384x16384)", v);
}

/*
 * A unicast MAC other than all zeros: QEMU takes 00:00:00:00:00:00 as "unset"
 * and makes up its own, libvirt refuses multicast addresses.
 */
static int check_mac(const char *v, char **why)
{
	unsigned int o[6];
	char end;

	if (strlen(v) != 17 ||
	    sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5],
		   &end) != 6 || !chars_in(v, ":"))
		return bad(why, "'%s' is not a MAC address (52:54:00:12:34:56)", v);
	if (o[0] & 1)
		return bad(why, "'%s' is a multicast address", v);
	if (!(o[0] | o[1] | o[2] | o[3] | o[4] | o[5]))
		return bad(why, "'%s' is no address: QEMU takes all zeros as \"make one up\"", v);
	return 0;
}

/*
 * Hyper-V vendor id: QEMU keeps 12 characters, and its -cpu parser splits
 * on every ',' (it does not unescape ",,"), while libvirt's schema says
 * [^,]{0,12}. Spaces and non-ASCII are ours: the guest reads CPUID bytes.
 */
static int check_vendor(const char *v, char **why)
{
	const char *c;

	if (strlen(v) > 12)
		return bad(why, "'%s' is longer than 12 characters", v);
	for (c = v; *c; c++)
		if (*c <= ' ' || *c > '~' || *c == ',')
			return bad(why, "'%s': only printable ASCII without spaces or commas "
				   "(QEMU's -cpu cannot carry a comma)", v);
	return 0;
}

/*
 * An IPv4 or IPv6 address, no host name: what QEMU binds SPICE and VNC to
 * and libvirt's <listen address>. IPv4 as inet_pton() takes it (a dotted
 * quad, each part 0-255 without leading zeros: libvirt's ipv4Addr), IPv6 in
 * inet_ntop()'s spelling, which libvirt's ipv6Addr pattern always matches
 * (some valid spellings, such as 1:2::3:1.2.3.4, it does not).
 */
static int parse_listen(const char *v, char **out, char **why)
{
	unsigned char a[sizeof(struct in6_addr)];
	char buf[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET, v, a) == 1) {
		*out = strdup(v);
	} else if (inet_pton(AF_INET6, v, a) == 1 && inet_ntop(AF_INET6, a, buf, sizeof(buf))) {
		*out = strdup(buf);
	} else {
		return bad(why, "'%s' is not an IPv4 or IPv6 address (127.0.0.1, 0.0.0.0, ::1, ::)",
			   v);
	}
	return *out ? 0 : neg_errno(ENOMEM);
}

/* The kernel's dev_valid_name(): at most IFNAMSIZ - 1 bytes, not "." or "..". */
static int check_ifname(const char *v, char **why)
{
	if (!chars_in(v, "._-") || strlen(v) > 15 || streq(v, ".") || streq(v, ".."))
		return bad(why, "'%s' is not a network interface name (at most 15 letters, "
			   "digits, '.', '_' and '-')", v);
	return 0;
}

/*
 * Hex digits, ':' and '.' with a ':' in them mean a PCI address or
 * vendor:device ids, never a part of a GPU's name: such a selector that
 * vfk_pci_addr_parse() refuses is a typo ("01:00", "0000:01:20.0").
 */
static int check_selector(const char *v, char **why)
{
	struct vfk_pci_addr a;
	size_t i;

	if (strlen(v) > 100)
		return bad(why, "longer than 100 characters");
	if (!strchr(v, ':') || strspn(v, "0123456789abcdefABCDEF:.") != strlen(v))
		return 0;
	if (vfk_pci_addr_parse(v, &a) == 0)
		return 0;
	if (strlen(v) == 9 && v[4] == ':') {
		for (i = 0; i < 9 && (i == 4 || isxdigit((unsigned char)v[i])); i++)
			;
		if (i == 9)
			return 0;
	}
	return bad(why, "'%s' is neither a PCI address (0000:01:00.0, 01:00.1) nor "
		   "vendor:device ids (10de:2684)", v);
}

static int set_enum(const struct keydef *k, int *slot, const char *v, char **why)
{
	_cleanup_free_ char *list = NULL;
	size_t i;

	for (i = 0; k->choices[i]; i++)
		if (!strcasecmp(v, k->choices[i])) {
			*slot = (int)i;
			return 0;
		}
	list = join_choices(k->choices);
	return bad(why, "'%s' is not one of: %s", v, list ? list : "?");
}

/* Text keys: checked, then copied (paths and addresses in their stored form). */
static int set_text(const struct vfk_profile *p, const struct keydef *k, char **slot,
		    const char *v, char **why)
{
	char *copy = NULL;
	int r = 0;

	switch (k->type) {
	case K_NAME:
		if (strchr(v, '/'))
			return bad(why, "'%s' contains '/'", v);
		if (strlen(v) > 100)
			return bad(why, "longer than 100 characters");
		break;
	case K_SELECTOR:
		r = check_selector(v, why);
		break;
	case K_PATH:
		r = check_path(p, v, &copy, why);
		break;
	case K_MAC:
		r = check_mac(v, why);
		break;
	case K_VENDOR:
		r = check_vendor(v, why);
		break;
	case K_ADDR:
		r = parse_listen(v, &copy, why);
		break;
	case K_IFNAME:
		r = check_ifname(v, why);
		break;
	default:	/* K_STR */
		break;
	}
	if (r < 0)
		return r;
	if (!copy && !(copy = strdup(v)))
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
	char *slot = (char *)base + k->off, buf[96];
	const char *problem;
	unsigned long long n;
	int b;

	if (!*v)
		return bad(why, "needs a value");
	/* inih strips them from a file's values; vfk_profile_set() must not
	 * bring in what no file can say */
	if (isspace((unsigned char)v[0]) || isspace((unsigned char)v[strlen(v) - 1]))
		return bad(why, "blanks around the value");
	problem = text_problem(v, buf, sizeof(buf));
	if (problem)
		return bad(why, "%s in the value", problem);
	switch (k->type) {
	case K_SIZE:
		if (parse_size_mib(v, &n) < 0 || n < 32)
			return bad(why, "'%s' is not a memory size of at least 32 MiB and at most "
				   "16 TiB (e.g. 16G, 512M, 4096)", v);
		*(unsigned long long *)slot = n;
		return 0;
	case K_VCPUS:
		if (!strcasecmp(v, "auto")) {
			*(unsigned int *)slot = 0;
			return 0;
		}
		if (parse_uint(v, k->max, &n) < 0 || n < k->min)
			return bad(why, "'%s' is neither auto nor a number from %u to %u", v,
				   k->min, k->max);
		*(unsigned int *)slot = (unsigned int)n;
		return 0;
	case K_UINT:
		if (parse_uint(v, k->max, &n) < 0 || n < k->min)
			return bad(why, "'%s' is not a number from %u to %u", v, k->min, k->max);
		*(unsigned int *)slot = (unsigned int)n;
		return 0;
	case K_BOOL:
		if ((b = parse_bool(v)) < 0)
			return bad(why, "'%s' is not yes or no", v);
		*(int *)slot = b;
		return 0;
	case K_TRI:
		if (!strcasecmp(v, "auto"))
			b = TRI_AUTO;
		else if ((b = parse_bool(v)) < 0)
			return bad(why, "'%s' is not auto, yes or no", v);
		*(int *)slot = b;
		return 0;
	case K_ENUM:
		return set_enum(k, (int *)slot, v, why);
	case K_RES:
		return parse_res(v, (unsigned int *)slot, why);
	default:
		return set_text(p, k, (char **)slot, v, why);
	}
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
 * @s for a message: bytes other than printable ASCII as '?', so that a
 * section or key name cannot bring terminal escapes onto stderr.
 */
static char *printable(const char *s)
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
static enum scope section_scope(const char *section, const char **id, const char **what)
{
	const char *dot = strchr(section, '.');
	size_t len = dot ? (size_t)(dot - section) : strlen(section);
	enum scope sc;

	*id = dot ? dot + 1 : "";
	for (sc = 0; sc < _S_MAX; sc++)
		if (strlen(scope_names[sc]) == len && !strncmp(section, scope_names[sc], len))
			break;
	if (sc == _S_MAX) {
		*what = "(sections: vm, tuning, display, input, audio, gpu, disk, network; "
			"disk.NAME and network.NAME for more)";
		return _S_MAX;
	}
	if (dot && ((sc != S_DISK && sc != S_NET) || !**id || !chars_in(*id, "_-") ||
		    strlen(*id) > SECTION_ID_MAX)) {
		*what = "(only [disk.NAME] and [network.NAME] take a NAME: 1 to 32 letters, "
			"digits, '_' and '-')";
		return _S_MAX;
	}
	return sc;
}

/*
 * Apply one "key = value" of @section. @line 0 means set programmatically:
 * an earlier value is replaced rather than reported as set twice.
 * Returns 0, or a negative errno with *@why set ("[vm] memory: ...").
 */
static int profile_apply(struct vfk_profile *p, const char *section, const char *key,
			 const char *value, int line, char **why)
{
	_cleanup_free_ char *msg = NULL, *psec = printable(section), *pkey = printable(key);
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
	sc = section_scope(section, &id, &what);
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
	const char *cur;	/* the line inih is on, as read */
	int line;
	int bad_line;		/* first line refused here (inih lets it through), 0: none */
	char *bad_why;		/* its message; NULL with bad_line set: out of memory */
};

static void reader_fail(struct reader *rd, char *why)
{
	if (rd->bad_line) {
		free(why);
		return;
	}
	rd->bad_line = rd->line;
	rd->bad_why = why;
}

/* @s without the UTF-8 byte order mark inih skips on the first line. */
static const char *skip_bom(const struct reader *rd, const char *s)
{
	return rd->line == 1 && startswith(s, "\xef\xbb\xbf") ? s + 3 : s;
}

/* "[name]", then nothing but blanks or a "; comment" after a blank. */
static void check_header(struct reader *rd, const char *s, const char *end)
{
	_cleanup_free_ char *name = NULL, *shown = NULL;
	const char *close = memchr(s, ']', (size_t)(end - s)), *rest, *id, *what;

	if (!close)
		return;		/* inih's syntax error */
	name = strndup(s + 1, (size_t)(close - s - 1));
	shown = name ? printable(name) : NULL;
	if (!shown) {
		reader_fail(rd, NULL);
		return;
	}
	rest = close + 1;
	while (rest < end && (*rest == ' ' || *rest == '\t'))
		rest++;
	if (rest < end && !(*rest == ';' && rest > close + 1))
		reader_fail(rd, strdupf("syntax error: text after [%s]", shown));
	else if (section_scope(name, &id, &what) == _S_MAX)
		reader_fail(rd, strdupf("unknown section [%s] %s", shown, what));
}

/*
 * What inih takes but vfiokit.ini(5) does not: indented lines (inih strips
 * the indentation, or appends the line to the value above), text after a
 * [section] header, and unknown sections (inih reports nothing for a section
 * without keys, and cuts long names).
 */
static void check_line(struct reader *rd, const char *s, size_t n)
{
	const char *end = s + n;

	s = skip_bom(rd, s);
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	if (s == end)
		return;		/* a blank line */
	if (isspace((unsigned char)*s))
		reader_fail(rd, strdup("indented line: keys, [section] headers and comments "
				       "start in the first column"));
	else if (*s == '[')
		check_header(rd, s, end);
}

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
		reader_fail(rd, strdupf("line longer than %d characters", MAX_LINE - 2));
		len = 0;	/* hand inih an empty line; the error is reported below */
	} else {
		len = n;
		memcpy(str, rd->pos, len);
		check_line(rd, rd->pos, n);
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

/*
 * inih hands an indented line to the handler as the value of the key above:
 * @value is then all of the line @raw (which runs on into the next lines).
 */
static bool is_continuation(const char *raw, const char *value)
{
	size_t n = strlen(value);

	while (*raw == ' ' || *raw == '\t' || *raw == '\v' || *raw == '\f' || *raw == '\r')
		raw++;
	if (strncmp(raw, value, n))
		return false;
	for (raw += n; *raw && *raw != '\n'; raw++)
		if (!isspace((unsigned char)*raw))
			return false;
	return true;
}

/*
 * The line of a key as the handler sees it: 0 when fine, else -EINVAL with
 * *@why the problem, or -ENOMEM. inih also takes "key: value" and an
 * indented key; we do not.
 */
static int check_key_line(struct parse_state *st, const char *section, const char *name,
			  const char *value, char **why)
{
	_cleanup_free_ char *psec = printable(section), *pname = printable(name);
	const char *raw = skip_bom(&st->rd, st->rd.cur), *sep;

	*why = NULL;
	if (!psec || !pname)
		return neg_errno(ENOMEM);
	if (isspace((unsigned char)*raw) && is_continuation(raw, value))
		*why = strdupf("[%s] %s: indented line continues the value of '%s'; "
			       "continuation lines are not supported", psec, pname, pname);
	else if (isspace((unsigned char)*raw))
		*why = strdupf("[%s] %s: indented line: keys start in the first column", psec,
			       pname);
	else if (!*name)
		*why = strdup("syntax error: no key before '='");
	else {
		for (sep = raw + strlen(name); *sep == ' ' || *sep == '\t'; sep++)
			;
		if (*sep == '=')
			return 0;
		*why = strdupf("[%s] %s: expected '%s = value' (':' is no separator)", psec,
			       pname, pname);
	}
	return neg_errno(*why ? EINVAL : ENOMEM);
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	char *why = NULL;
	int r;

	if (st->err || st->oom || (st->rd.bad_line && st->rd.bad_line < st->rd.line))
		return 1;
	r = check_key_line(st, section, name, value, &why);
	if (r == 0)
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

/* The first problem of a parse; on one line the handler's, which names the key. */
static void parse_error(const struct parse_state *st, int r, const char *file, char *errbuf,
			size_t errsize)
{
	const char *msg = st->err;
	int line = st->err_line;

	if (st->rd.bad_line && (!msg || st->rd.bad_line < line)) {
		msg = st->rd.bad_why;
		line = st->rd.bad_line;
	}
	if (r > 0 && (!msg || r < line)) {
		msg = "syntax error: expected [section], key = value, or a comment";
		line = r;
	}
	set_err(errbuf, errsize, file, line, msg);
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

	problem = filename ? text_problem(filename, buf, sizeof(buf)) : NULL;
	if (!problem)
		return 0;
	shown = printable(filename);
	if (errbuf && errsize)
		snprintf(errbuf, errsize, "%s: %s in the file name", shown ? shown : "?", problem);
	return neg_errno(EINVAL);
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
	r = file_name_problem(filename, errbuf, errsize);
	if (r < 0)
		return r;
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
	if (st.oom || r == -2 || (st.rd.bad_line && !st.rd.bad_why)) {
		free(st.err);
		free(st.rd.bad_why);
		vfk_profile_free(st.p);
		return neg_errno(ENOMEM);
	}
	if (st.err || st.rd.bad_line || r > 0) {
		parse_error(&st, r, file, errbuf, errsize);
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
	free(st.rd.bad_why);
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
