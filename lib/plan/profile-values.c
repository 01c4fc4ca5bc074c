/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One value of one profile key, checked against what its consumers carry
 * (QEMU's option parsers, libvirt's domain schema, the kernel) and stored
 * where the key table says; a refusal says why in words for the message.
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <arpa/inet.h>

#include "plan/profile-internal.h"

/*
 * Text every consumer carries as is, or the reason it is not: UTF-8 in
 * shortest form without surrogates or anything above U+10FFFF (the XML writer
 * passes such bytes through and no XML parser reads them back), without control
 * characters (C0, DEL, and C1, which XML 1.0 discourages and some terminals
 * obey: U+009B is CSI), and without Unicode noncharacters: U+FFFE and U+FFFF
 * are no XML Char (xmllint refuses the document), and XML 1.0 section 2.2
 * asks documents to avoid the other 64 (U+FDD0-U+FDEF, U+xxFFFE, U+xxFFFF).
 */
const char *profile_text_problem(const char *s, char *buf, size_t size)
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

bool profile_chars_in(const char *v, const char *extra)
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
		   &end) != 6 || !profile_chars_in(v, ":"))
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
	if (!profile_chars_in(v, "._-") || strlen(v) > 15 || streq(v, ".") || streq(v, ".."))
		return bad(why, "'%s' is not a network interface name (at most 15 letters, "
			   "digits, '.', '_' and '-')", v);
	return 0;
}

bool profile_is_vendor_device(const char *s)
{
	return vfk_pci_id_valid(s);
}

size_t profile_selector_count(const char *device)
{
	size_t n = 1;

	for (; *device; device++)
		n += *device == ',';
	return n;
}

/*
 * Hex digits, ':' and '.' with a ':' in them mean a PCI address or
 * vendor:device ids, never a part of a GPU's name: such a selector that
 * vfk_pci_addr_parse() refuses is a typo ("01:00", "0000:01:20.0").
 */
static int check_one_selector(const char *v, char **why)
{
	struct vfk_pci_addr a;

	if (!*v)
		return bad(why, "an empty GPU in the list");
	if (strlen(v) > 100)
		return bad(why, "longer than 100 characters");
	if (!strchr(v, ':') || strspn(v, "0123456789abcdefABCDEF:.") != strlen(v))
		return 0;
	if (vfk_pci_addr_parse(v, &a) == 0 || profile_is_vendor_device(v))
		return 0;
	return bad(why, "'%s' is neither a PCI address (0000:01:00.0, 01:00.1) nor "
		   "vendor:device ids (10de:2684)", v);
}

/* One GPU or several, comma-separated; stored as "a,b" without the blanks. */
static int check_selector(const char *v, char **out, char **why)
{
	struct sbuf b = { 0 };
	const char *p = v;
	size_t n = 0;

	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		_cleanup_free_ char *item = NULL;
		int r;

		while (len && isspace((unsigned char)*p))
			p++, len--;
		while (len && isspace((unsigned char)p[len - 1]))
			len--;
		item = strndup(p, len);
		if (!item)
			r = neg_errno(ENOMEM);
		else if (++n > PROF_MAX_GPUS)
			r = bad(why, "more than %d GPUs", PROF_MAX_GPUS);
		else
			r = check_one_selector(item, why);
		if (r < 0) {
			sbuf_free(&b);
			return r;
		}
		sbuf_addf(&b, "%s%s", n > 1 ? "," : "", item);
		if (!end)
			break;
		p = end + 1;
	}
	*out = sbuf_take(&b);
	return *out ? 0 : neg_errno(ENOMEM);
}

/* One PCI device ([hostdev] device): one selector, as one GPU of [gpu] device. */
static int check_device(const char *v, char **why)
{
	if (strchr(v, ','))
		return bad(why, "'%s' names several devices: one device per section, more in "
			   "[hostdev.NAME] sections", v);
	return check_one_selector(v, why);
}

/* USB ids as lsusb prints them: four hex digits each, "046d:c52b". */
static int check_usb_id(const char *v, char **why)
{
	if (!vfk_pci_id_valid(v))
		return bad(why, "'%s' is not USB vendor:product ids (046d:c52b, as lsusb shows "
			   "them)", v);
	return 0;
}

/* A USB port path as sysfs's devpath and QEMU's hostport take it: a port
 * number of the root hub, then one per hub below it ("1", "1.4", "2.1.3";
 * ports 1-255 without leading zeros, at most 7 levels, USB's limit). */
static int check_usb_port(const char *v, char **why)
{
	const char *p = v;
	unsigned int levels = 0;

	while (*p) {
		char *end;
		unsigned long n;

		if (!isdigit((unsigned char)*p) || *p == '0')
			break;
		n = strtoul(p, &end, 10);
		if (n > 255 || end - p > 3 || ++levels > 7)
			break;
		p = end;
		if (*p == '.' && p[1])
			p++;
		else if (*p)
			break;
	}
	if (*p || !levels)
		return bad(why, "'%s' is not a USB port path (1, 1.4, 2.1.3: port numbers 1-255 "
			   "from the root hub down, at most 7)", v);
	return 0;
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
		r = check_selector(v, &copy, why);
		break;
	case K_DEVICE:
		r = check_device(v, why);
		break;
	case K_USB_ID:
		r = check_usb_id(v, why);
		break;
	case K_USB_PORT:
		r = check_usb_port(v, why);
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
int profile_set_value(const struct vfk_profile *p, const struct keydef *k, void *base,
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
	problem = profile_text_problem(v, buf, sizeof(buf));
	if (problem)
		return bad(why, "%s in the value", problem);
	switch (k->type) {
	case K_SIZE:
		if (parse_size_mib(v, &n) < 0 || n < 32)
			return bad(why, "'%s' is not a size of at least 32 MiB and at most 16 TiB "
				   "(e.g. 16G, 512M, 4096 for MiB)", v);
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
