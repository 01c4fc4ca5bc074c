/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Devices handed to vfio-pci at boot, kept in <sysroot>/etc/vfiokit/vfio-bind.conf:
 *
 *   [device 0000:01:00.0]
 *   id = 10de:2684
 *
 * Read with inih; written whole and atomically. The udev hook asks
 * vfk_persist_contains() for each PCI device as it appears.
 */
#include <ini.h>
#include <stdio.h>

#include "inventory.h"

#define PERSIST_FILE "vfio-bind.conf"

struct persist_list {
	char (*addr)[16];
	char (*id)[16];
	size_t n, cap;
	int error;
};

static int persist_handler(void *user, const char *section, const char *name, const char *value)
{
	struct persist_list *l = user;
	struct vfk_pci_addr a;
	char norm[16];
	size_t i;

	if (!startswith(section, "device ") || vfk_pci_addr_parse(section + 7, &a) < 0) {
		l->error = -EINVAL;
		return 0;
	}
	/* compare normalised: [device 01:00.0] and [device 0000:01:00.0] are one
	 * device, or unpersist would drop one spelling and leave the other */
	vfk_pci_addr_format(&a, norm, sizeof(norm));
	for (i = 0; i < l->n; i++)
		if (!strcmp(l->addr[i], norm))
			break;
	if (i == l->n) {
		if (l->n == l->cap) {
			size_t ncap = l->cap ? l->cap * 2 : 8;
			void *na = realloc(l->addr, ncap * sizeof(*l->addr));
			void *ni;
			if (!na)
				return 0;
			l->addr = na;
			ni = realloc(l->id, ncap * sizeof(*l->id));
			if (!ni)
				return 0;
			l->id = ni;
			l->cap = ncap;
		}
		vfk_pci_addr_format(&a, l->addr[l->n], sizeof(l->addr[0]));
		l->id[l->n][0] = '\0';
		l->n++;
	}
	if (streq(name, "id")) {
		unsigned int v, d;
		char end;
		/* hex digits only: sscanf's %x would take "-1" and the rewrite of
		 * the file would then hold an id it cannot read back */
		if (strspn(value, "0123456789abcdefABCDEF:") != strlen(value) ||
		    sscanf(value, "%4x:%4x%c", &v, &d, &end) != 2) {
			l->error = -EINVAL;
			return 0;
		}
		snprintf(l->id[i], sizeof(l->id[0]), "%04x:%04x", v, d);
	} else {
		l->error = -EINVAL;	/* unknown key */
		return 0;
	}
	return 1;
}

static int persist_load(struct vfk_ctx *ctx, struct persist_list *l)
{
	_cleanup_close_ int dfd = -1;
	_cleanup_free_ char *text = NULL;
	int r;

	memset(l, 0, sizeof(*l));
	dfd = vfk_root_open_dir(ctx, VFK_ROOT_ETC, "");
	if (dfd == -ENOENT)
		return 0;	/* nothing persisted */
	if (dfd < 0)
		return dfd;
	text = malloc(1 << 18);
	if (!text)
		return neg_errno(ENOMEM);
	r = vfk_read_at(dfd, PERSIST_FILE, text, 1 << 18);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	r = ini_parse_string(text, persist_handler, l);
	if (r != 0 || l->error) {
		err(ctx, "%s: line %d is malformed", PERSIST_FILE, r);
		free(l->addr);
		free(l->id);
		memset(l, 0, sizeof(*l));
		return neg_errno(EINVAL);
	}
	return 0;
}

static void persist_free(struct persist_list *l)
{
	free(l->addr);
	free(l->id);
}

static int persist_save(struct vfk_ctx *ctx, const struct persist_list *l)
{
	char *buf = NULL;
	size_t size = 0, i;
	FILE *f = open_memstream(&buf, &size);
	int r;

	if (!f)
		return neg_errno(ENOMEM);
	fputs("# Devices vfio-bind hands to vfio-pci at boot (vfio-bind persist / unpersist).\n", f);
	for (i = 0; i < l->n; i++)
		fprintf(f, "\n[device %s]\nid = %s\n", l->addr[i], l->id[i]);
	if (fclose(f) != 0) {
		free(buf);
		return neg_errno(ENOMEM);
	}
	r = vfk_host_write_file(ctx, VFK_ROOT_ETC, PERSIST_FILE, buf, 0644);
	free(buf);
	return r < 0 ? r : 0;
}

int vfk_persist_add(struct vfk_host *host, struct vfk_device *dev)
{
	struct persist_list l;
	size_t i;
	int r;

	if (vfk_device_is_bridge(dev))
		return neg_errno(EINVAL);
	r = persist_load(host->ctx, &l);
	if (r < 0)
		return r;
	for (i = 0; i < l.n; i++)
		if (streq(l.addr[i], dev->address)) {
			persist_free(&l);
			return 0;
		}
	if (l.n == l.cap) {
		size_t ncap = l.cap ? l.cap * 2 : 8;
		void *na = realloc(l.addr, ncap * sizeof(*l.addr)), *ni;
		if (na)
			l.addr = na;
		ni = na ? realloc(l.id, ncap * sizeof(*l.id)) : NULL;
		if (!ni) {
			persist_free(&l);
			return neg_errno(ENOMEM);
		}
		l.id = ni;
		l.cap = ncap;
	}
	snprintf(l.addr[l.n], sizeof(l.addr[0]), "%s", dev->address);
	snprintf(l.id[l.n], sizeof(l.id[0]), "%04x:%04x", dev->vendor_id, dev->device_id);
	l.n++;
	r = persist_save(host->ctx, &l);
	persist_free(&l);
	return r;
}

int vfk_persist_remove(struct vfk_ctx *ctx, const char *address)
{
	struct persist_list l;
	struct vfk_pci_addr a;
	char norm[16];
	size_t i;
	int r;

	if (vfk_pci_addr_parse(address, &a) < 0)
		return neg_errno(EINVAL);
	vfk_pci_addr_format(&a, norm, sizeof(norm));
	r = persist_load(ctx, &l);
	if (r < 0)
		return r;
	for (i = 0; i < l.n; i++)
		if (streq(l.addr[i], norm))
			break;
	if (i == l.n) {
		persist_free(&l);
		return neg_errno(ENOENT);
	}
	memmove(&l.addr[i], &l.addr[i + 1], (l.n - i - 1) * sizeof(l.addr[0]));
	memmove(&l.id[i], &l.id[i + 1], (l.n - i - 1) * sizeof(l.id[0]));
	l.n--;
	r = persist_save(ctx, &l);
	persist_free(&l);
	return r;
}

int vfk_persist_contains(struct vfk_ctx *ctx, const char *address)
{
	struct persist_list l;
	struct vfk_pci_addr a;
	char norm[16];
	size_t i;
	int r, found = 0;

	if (vfk_pci_addr_parse(address, &a) < 0)
		return neg_errno(EINVAL);
	vfk_pci_addr_format(&a, norm, sizeof(norm));
	r = persist_load(ctx, &l);
	if (r < 0)
		return r;
	for (i = 0; i < l.n; i++)
		if (streq(l.addr[i], norm))
			found = 1;
	persist_free(&l);
	return found;
}

int vfk_persist_list(struct vfk_ctx *ctx, char ***list, size_t *n)
{
	struct persist_list l;
	char **out;
	size_t i;
	int r;

	r = persist_load(ctx, &l);
	if (r < 0)
		return r;
	out = calloc(l.n + 1, sizeof(*out));
	if (!out) {
		persist_free(&l);
		return neg_errno(ENOMEM);
	}
	for (i = 0; i < l.n; i++)
		if (!(out[i] = strdup(l.addr[i]))) {
			while (i--)
				free(out[i]);
			free(out);
			persist_free(&l);
			return neg_errno(ENOMEM);
		}
	*list = out;
	*n = l.n;
	persist_free(&l);
	return 0;
}
