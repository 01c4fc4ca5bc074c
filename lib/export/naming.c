/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The names the exports give devices and types, and the checks of names a
 * user or the host supplies. A name from pci.ids, the hwdb or the kernel is
 * never written as it is where the format has rules: it is reduced to the
 * characters the format's names may hold, or refused.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>

#include "export/export.h"

#define NAME_MAX_LEN 63		/* a Kubernetes name, the part after the '/' */

struct export_name {
	uint16_t vendor, device;
	char base[NAME_MAX_LEN + 1];
	char *name;		/* base, or base_VVVV_DDDD when another pair has it too */
};

static bool is_alnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* "AD102 [GeForce RTX 4090]" -> "AD102_GEFORCE_RTX_4090" into @out (64 bytes). */
static void base_name(const char *s, char *out, size_t max)
{
	size_t n = 0;
	bool gap = false;

	for (; *s && n < max; s++) {
		if (is_alnum(*s)) {
			if (gap && n)
				out[n++] = '_';
			if (n < max)
				out[n++] = (char)toupper((unsigned char)*s);
			gap = false;
		} else {
			gap = true;
		}
	}
	while (n && out[n - 1] == '_')
		n--;
	out[n] = '\0';
	if (!n)
		snprintf(out, max + 1, "DEVICE");
}

static struct export_name *name_of(const struct export_sel *s, uint16_t vendor, uint16_t device)
{
	size_t i;

	for (i = 0; i < s->nnames; i++)
		if (s->names[i].vendor == vendor && s->names[i].device == device)
			return &s->names[i];
	return NULL;
}

static int name_add(struct export_sel *s, size_t *cap, const struct vfk_device *d)
{
	struct export_name *n;

	if (!d || name_of(s, vfk_device_get_vendor_id(d), vfk_device_get_device_id(d)))
		return 0;
	if (GROW_ARRAY(s->names, *cap, s->nnames + 1) < 0)
		return neg_errno(ENOMEM);
	n = &s->names[s->nnames++];
	memset(n, 0, sizeof(*n));
	n->vendor = vfk_device_get_vendor_id(d);
	n->device = vfk_device_get_device_id(d);
	base_name(vfk_device_get_device_name(d), n->base, NAME_MAX_LEN);
	return 0;
}

int export_names_build(struct export_sel *s)
{
	size_t cap = 0, i, j;
	int r = 0;

	for (i = 0; i < s->ndevs && r == 0; i++)
		r = name_add(s, &cap, s->devs[i].dev);
	for (i = 0; i < s->nmtypes && r == 0; i++)
		r = name_add(s, &cap, s->mtypes[i].pdev);
	for (i = 0; i < s->nnames && r == 0; i++) {
		struct export_name *n = &s->names[i];
		bool shared = false;

		for (j = 0; j < s->nnames && !shared; j++)
			shared = j != i && streq(s->names[j].base, n->base);
		if (!shared) {
			n->name = strdup(n->base);
		} else {
			char cut[NAME_MAX_LEN + 1];
			size_t len = strlen(n->base);

			/* room for "_VVVV_DDDD" in 63 characters */
			if (len > NAME_MAX_LEN - 10)
				len = NAME_MAX_LEN - 10;
			while (len && n->base[len - 1] == '_')
				len--;
			snprintf(cut, sizeof(cut), "%.*s", (int)len, n->base);
			n->name = strdupf("%s_%04X_%04X", cut, n->vendor, n->device);
		}
		if (!n->name)
			r = neg_errno(ENOMEM);
	}
	return r;
}

void export_names_free(struct export_sel *s)
{
	size_t i;

	for (i = 0; i < s->nnames; i++)
		free(s->names[i].name);
	free(s->names);
	s->names = NULL;
	s->nnames = 0;
}

const char *export_device_name(const struct export_sel *s, const struct vfk_device *d)
{
	const struct export_name *n = name_of(s, vfk_device_get_vendor_id(d),
					      vfk_device_get_device_id(d));

	return n && n->name ? n->name : "DEVICE";
}

const char *export_domain(const struct export_sel *s, uint16_t vendor)
{
	if (s->opts->resource_prefix)
		return s->opts->resource_prefix;
	switch (vendor) {
	case 0x10de:
		return "nvidia.com";
	case 0x1002:	/* ATI, AMD's graphics */
	case 0x1022:	/* AMD */
		return "amd.com";
	case 0x8086:
		return "intel.com";
	}
	return VFK_EXPORT_DEFAULT_DOMAIN;
}

const char *export_mtype_domain(const struct export_sel *s, const struct export_mtype *t)
{
	return t->pdev ? export_domain(s, vfk_device_get_vendor_id(t->pdev))
		       : export_domain(s, 0);
}

static bool is_resource_char(char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '-';
}

/* Runs of characters a Kubernetes name cannot hold made one '_', the ends
 * alphanumeric, at most 63 characters. False when nothing is left. */
static bool resource_name(const char *s, char *buf, size_t size)
{
	size_t n = 0, max = size - 1 < NAME_MAX_LEN ? size - 1 : NAME_MAX_LEN;
	bool gap = false;

	while (*s && !is_alnum(*s))
		s++;
	for (; *s && n < max; s++) {
		if (is_resource_char(*s)) {
			if (gap && n < max)
				buf[n++] = '_';
			if (n < max)
				buf[n++] = *s;
			gap = false;
		} else {
			gap = true;
		}
	}
	while (n && !is_alnum(buf[n - 1]))
		n--;
	buf[n] = '\0';
	return n > 0;
}

const char *export_mtype_resource(const struct vfk_mdev_type *t, char *buf, size_t size)
{
	if (!resource_name(vfk_mdev_type_get_name(t), buf, size) &&
	    !resource_name(vfk_mdev_type_get_id(t), buf, size))
		snprintf(buf, size, "MDEV");
	return buf;
}

bool export_type_id_plain(const char *id)
{
	size_t n = strlen(id), i;

	if (n < 1 || n > 50 || !is_alnum(id[0]) || !is_alnum(id[n - 1]))
		return false;
	for (i = 0; i < n; i++)
		if (!is_resource_char(id[i]))
			return false;
	return true;
}

bool export_dns_subdomain(const char *s)
{
	size_t n = strlen(s), label = 0, i;

	if (n < 1 || n > 253)
		return false;
	for (i = 0; i <= n; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			/* a label: 1-63 characters, alphanumeric at both ends */
			if (label < 1 || label > 63 || s[i - 1] == '-' || s[i - label] == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

size_t export_utf8_decode(const unsigned char *s, uint32_t *cp)
{
	size_t n, i;
	uint32_t c;

	if (s[0] < 0x80)
		return *cp = s[0], 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

void export_yaml_quoted(struct sbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	sbuf_add(b, "\"");
	while (*p) {
		uint32_t cp;
		size_t n = export_utf8_decode(p, &cp);

		if (!n) {
			sbuf_add(b, "\\uFFFD");
			p++;
			continue;
		}
		p += n;
		if (cp == '"' || cp == '\\')
			sbuf_addf(b, "\\%c", (char)cp);
		else if (cp >= 0x20 && cp < 0x7f)
			sbuf_addf(b, "%c", (char)cp);
		else if (cp < 0x100)
			sbuf_addf(b, "\\x%02X", cp);
		else if (cp < 0x10000)
			sbuf_addf(b, "\\u%04X", cp);
		else
			sbuf_addf(b, "\\U%08X", cp);
	}
	sbuf_add(b, "\"");
}

int export_host_name(const struct export_sel *s, char *buf, size_t size)
{
	int r = vfk_root_read(s->ctx, VFK_ROOT_PROC, "sys/kernel/hostname", buf, size);

	return r == 0 ? neg_errno(ENOENT) : r;
}

void export_comment(struct sbuf *b, const char *text)
{
	char c[2] = { 0, 0 };

	for (; *text; text++) {
		c[0] = (*text >= 0x20 && *text < 0x7f) ? *text : '?';
		sbuf_add(b, c);
	}
}

void export_commentf(struct sbuf *b, const char *fmt, ...)
{
	_cleanup_free_ char *text = NULL;
	va_list ap;

	va_start(ap, fmt);
	text = vstrdupf(fmt, ap);
	va_end(ap);
	if (!text) {
		b->failed = true;
		return;
	}
	sbuf_add(b, "# ");
	export_comment(b, text);
	sbuf_add(b, "\n");
}

int export_error(struct vfk_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->error, sizeof(ctx->error), fmt, ap);
	va_end(ap);
	return neg_errno(err);
}
