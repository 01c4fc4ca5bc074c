/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Devices handed to vfio-pci at boot, kept in <sysroot>/etc/vfiokit/vfio-bind.conf:
 *
 *   # comment
 *   [device 0000:01:00.0]
 *   id = 10de:2684
 *
 * The udev hook binds from this file at every boot, so it is read strictly:
 * a file that does not parse completely, or holds contradictory entries, is
 * refused whole and nothing is taken from it. The reason, "PATH:LINE: what",
 * goes to vfk_ctx_get_error(). Written whole and atomically.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "core/errmsg.h"
#include "inventory/inventory.h"

#define PERSIST_FILE "vfio-bind.conf"
#define PERSIST_MAX (1 << 18)	/* ~4000 entries; more is not a config someone wrote */
#define PERSIST_LINE_MAX 256	/* a section or id line is ~30 characters */

struct persist_list {
	char (*addr)[16];	/* canonical address, unique */
	char (*id)[16];		/* "vvvv:dddd" */
	unsigned int *line;	/* line of its id, for messages (0: added, not read) */
	size_t n, cap;
};

/* Parser state: where we are and what the current section said. */
struct persist_parser {
	struct persist_list *l;
	struct vfk_where at;	/* file and line, for messages */
	size_t cur;		/* entry of the current section; l->n before the first */
	unsigned int sec_line;	/* line of the current section header */
	unsigned int id_line;	/* line of its id, 0 while it has none */
};

static void persist_free(struct persist_list *l)
{
	free(l->addr);
	free(l->id);
	free(l->line);
	memset(l, 0, sizeof(*l));
}

static int persist_grow(struct persist_list *l)
{
	size_t ncap = l->cap ? l->cap * 2 : 8;
	void *p;

	if (l->n < l->cap)
		return 0;
	if (!(p = realloc(l->addr, ncap * sizeof(*l->addr))))
		return neg_errno(ENOMEM);
	l->addr = p;
	if (!(p = realloc(l->id, ncap * sizeof(*l->id))))
		return neg_errno(ENOMEM);
	l->id = p;
	if (!(p = realloc(l->line, ncap * sizeof(*l->line))))
		return neg_errno(ENOMEM);
	l->line = p;
	l->cap = ncap;
	return 0;
}

static size_t persist_find(const struct persist_list *l, const char *addr)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (streq(l->addr[i], addr))
			break;
	return i;
}

/* One line into @err; -@e. */
__attribute__((format(printf, 4, 5)))
static int fail(char *err, size_t errsize, int e, const char *fmt, ...)
{
	va_list ap;

	if (err && errsize) {
		va_start(ap, fmt);
		vsnprintf(err, errsize, fmt, ap);
		va_end(ap);
	}
	return neg_errno(e);
}

/* The file is refused: "PATH:LINE: what", -EINVAL. */
#define parse_fail(p, ...) vfk_fail_at(&(p)->at, EINVAL, __VA_ARGS__)

/* A section ends at the next one or at the end of the file: it must have said its id. */
static int section_end(struct persist_parser *p)
{
	if (p->cur == p->l->n || p->id_line)
		return 0;
	p->at.line = p->sec_line;
	return parse_fail(p, "[device %s] has no 'id = VVVV:DDDD' line", p->l->addr[p->cur]);
}

/* "[device ADDR]": @s is the trimmed line. */
static int parse_section(struct persist_parser *p, char *s)
{
	struct vfk_pci_addr a;
	size_t len = strlen(s);
	char norm[16], *addr, b[48];
	int r;

	if ((r = section_end(p)) < 0)
		return r;
	if (len < 2 || s[len - 1] != ']')
		return parse_fail(p, "section header without its closing ']'");
	s[--len] = '\0';
	while (len > 1 && strchr(" \t", s[len - 1]))
		s[--len] = '\0';
	addr = s + 1 + strspn(s + 1, " \t");
	if (!startswith(addr, "device") || (addr[6] && !strchr(" \t", addr[6])))
		return parse_fail(p, "unknown section [%s] (only [device ADDR])",
				  vfk_shown(s + 1, b, sizeof(b)));
	addr += 6 + strspn(addr + 6, " \t");
	if (!*addr)
		return parse_fail(p, "[device] names no PCI address");
	if (vfk_pci_addr_parse(addr, &a) < 0)
		return parse_fail(p, "[device %s]: not a PCI address ([DDDD:]BB:DD.F)",
				  vfk_shown(addr, b, sizeof(b)));
	/* one device under two spellings is one entry (01:00.0 and 0000:01:00.0),
	 * or unpersist would drop one and leave the other */
	vfk_pci_addr_format(&a, norm, sizeof(norm));
	p->cur = persist_find(p->l, norm);
	p->sec_line = p->at.line;
	p->id_line = 0;
	if (p->cur < p->l->n)
		return 0;
	if ((r = persist_grow(p->l)) < 0)
		return r;
	memcpy(p->l->addr[p->cur], norm, sizeof(norm));
	p->l->id[p->cur][0] = '\0';
	p->l->n++;
	return 0;
}

/* Strictly, or the device bound at boot would not be the one meant. */
static bool id_parse(const char *s, char *out)
{
	size_t i;

	if (!vfk_pci_id_valid(s))
		return false;
	for (i = 0; i < 10; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	return true;
}

/* "id = VVVV:DDDD": @s is the trimmed line. */
static int parse_key(struct persist_parser *p, char *s)
{
	char *eq = strchr(s, '='), *key = s, *value, id[16], b[48];
	size_t n;

	if (!eq)
		return parse_fail(p, "'%s' is not a section, a 'key = value' line or a comment",
				  vfk_shown(s, b, sizeof(b)));
	*eq = '\0';
	value = eq + 1 + strspn(eq + 1, " \t");
	for (n = strlen(key); n && strchr(" \t", key[n - 1]); n--)
		key[n - 1] = '\0';
	if (!streq(key, "id"))
		return parse_fail(p, "unknown key '%s' (only id)", vfk_shown(key, b, sizeof(b)));
	if (p->cur == p->l->n)
		return parse_fail(p, "id outside a [device ADDR] section");
	if (!id_parse(value, id))
		return parse_fail(p, "id = %s: not a vendor:device id (VVVV:DDDD, hex)",
				  vfk_shown(value, b, sizeof(b)));
	if (p->id_line)
		return parse_fail(p, "[device %s] has a second id (the first on line %u)",
				  p->l->addr[p->cur], p->id_line);
	if (p->l->id[p->cur][0] && !streq(p->l->id[p->cur], id))
		return parse_fail(p, "[device %s] id = %s contradicts id = %s on line %u",
				  p->l->addr[p->cur], id, p->l->id[p->cur], p->l->line[p->cur]);
	if (!p->l->id[p->cur][0]) {
		snprintf(p->l->id[p->cur], sizeof(p->l->id[0]), "%s", id);
		p->l->line[p->cur] = p->at.line;
	}
	p->id_line = p->at.line;
	return 0;
}

/* Comments: '#' or ';' first on a line, or ';'/'#' after blank space (as inih had it). */
static char *line_trim(char *s)
{
	char *c;
	size_t n;

	s += strspn(s, " \t\r");
	for (c = s; *c; c++)
		if ((*c == ';' || *c == '#') && (c == s || c[-1] == ' ' || c[-1] == '\t')) {
			*c = '\0';
			break;
		}
	for (n = strlen(s); n && strchr(" \t\r", s[n - 1]); n--)
		s[n - 1] = '\0';
	return s;
}

/* One line, @len bytes at @start (not NUL-terminated). */
static int parse_line(struct persist_parser *p, const char *start, size_t len)
{
	char buf[PERSIST_LINE_MAX], *s;
	size_t skip = 0;

	while (skip < len && strchr(" \t\r", start[skip]))	/* no NUL here: checked before */
		skip++;
	if (skip < len && (start[skip] == '#' || start[skip] == ';'))
		return 0;	/* comments may be long */
	if (len >= sizeof(buf))
		return parse_fail(p, "line longer than %d characters", PERSIST_LINE_MAX - 1);
	memcpy(buf, start, len);
	buf[len] = '\0';
	s = line_trim(buf);
	if (!*s)
		return 0;
	return *s == '[' ? parse_section(p, s) : parse_key(p, s);
}

/*
 * Parse @len bytes of @text into @l (emptied first). Every line must parse;
 * on error @l is empty and @err holds "PATH:LINE: what". 0 or -EINVAL.
 */
static int persist_parse(const char *text, size_t len, const char *path, struct persist_list *l,
			 char *err, size_t errsize)
{
	struct persist_parser p = { .l = l, .at = { .path = path, .err = err, .errsize = errsize } };
	const char *s = text, *end = text + len, *nul = memchr(text, '\0', len);
	int r = 0;

	memset(l, 0, sizeof(*l));
	while (s < end && r == 0) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
		p.at.line++;
		/* C strings end at a NUL: what follows it would be read by nobody */
		if (nul && nul < s + n + 1)
			r = parse_fail(&p, "holds a NUL byte");
		else
			r = parse_line(&p, s, n);
		s += n + 1;
	}
	if (r == 0)
		r = section_end(&p);
	if (r < 0)
		persist_free(l);
	return r;
}

/*
 * The file itself, refused unless it is a regular file: a FIFO would block
 * the boot, a directory or device is no config, and a symlink may point
 * anywhere (vfiokit replaces the file by rename, so it never made one).
 * 0 with *@text (malloc'ed, @len bytes), -ENOENT when absent, else an error
 * with the reason in @err.
 */
static int persist_read(struct vfk_ctx *ctx, int dfd, const char *path, char **text,
			size_t *len, char *err, size_t errsize)
{
	int r = vfk_read_file_in(ctx, dfd, PERSIST_FILE, PERSIST_MAX - 1, text, len);

	switch (r) {
	case 0:
	case -ENOENT:
	case -ENOMEM:
		return r;
	case -ELOOP:
		return fail(err, errsize, EINVAL, "%s: is a symbolic link, not the file itself", path);
	case -EISDIR:
		return fail(err, errsize, EINVAL, "%s: is a directory, not a regular file", path);
	case -EINVAL:
		return fail(err, errsize, EINVAL, "%s: is a FIFO or special file, not a regular file",
			    path);
	case -EFBIG:
	case -EAGAIN:
		return fail(err, errsize, EINVAL, "%s: larger than %d bytes", path, PERSIST_MAX - 1);
	default:
		return fail(err, errsize, -r, "%s: %s", path, strerror(-r));
	}
}

/*
 * The persisted devices; an absent file is an empty list. A file refused
 * (see persist_parse() and persist_read()) is -EINVAL with the reason in
 * the context's error; nothing is taken from it.
 */
static int persist_load(struct vfk_ctx *ctx, struct persist_list *l)
{
	_cleanup_close_ int dfd = -1;
	_cleanup_free_ char *text = NULL, *path = NULL;
	size_t len = 0;
	int r;

	memset(l, 0, sizeof(*l));
	dfd = vfk_root_open_dir(ctx, VFK_ROOT_ETC, "");
	if (dfd == -ENOENT)
		return 0;	/* nothing persisted */
	if (dfd < 0)
		return dfd;
	path = vfk_root_path(ctx, VFK_ROOT_ETC, PERSIST_FILE);
	if (!path)
		return neg_errno(ENOMEM);
	r = persist_read(ctx, dfd, path, &text, &len, ctx->error, sizeof(ctx->error));
	if (r == -ENOENT)
		return 0;
	if (r == 0)
		r = persist_parse(text, len, path, l, ctx->error, sizeof(ctx->error));
	if (r < 0)
		dbg(ctx, "%s", ctx->error);	/* the caller reports it: one line, not two */
	return r;
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
	int r;

	host->ctx->error[0] = '\0';
	if (vfk_device_is_bridge(dev))
		return neg_errno(EINVAL);
	r = persist_load(host->ctx, &l);
	if (r < 0)
		return r;
	if (persist_find(&l, dev->address) < l.n) {
		persist_free(&l);
		return 0;
	}
	r = persist_grow(&l);
	if (r == 0) {
		snprintf(l.addr[l.n], sizeof(l.addr[0]), "%s", dev->address);
		snprintf(l.id[l.n], sizeof(l.id[0]), "%04x:%04x", dev->vendor_id, dev->device_id);
		l.line[l.n] = 0;
		l.n++;
		r = persist_save(host->ctx, &l);
	}
	persist_free(&l);
	return r;
}

/* @address in canonical form into @norm (16 bytes); -EINVAL when it is none. */
static int addr_norm(const char *address, char *norm)
{
	struct vfk_pci_addr a;

	if (!address || vfk_pci_addr_parse(address, &a) < 0)
		return neg_errno(EINVAL);
	vfk_pci_addr_format(&a, norm, 16);
	return 0;
}

/* The file's entries in *@l and the index of @address among them (l->n when
 * absent); -EINVAL for an address that is none, or the load's error. */
static int load_and_find(struct vfk_ctx *ctx, const char *address, struct persist_list *l,
			 size_t *i)
{
	char norm[16];
	int r;

	ctx->error[0] = '\0';
	if (addr_norm(address, norm) < 0)
		return neg_errno(EINVAL);
	r = persist_load(ctx, l);
	if (r < 0)
		return r;
	*i = persist_find(l, norm);
	return 0;
}

int vfk_persist_remove(struct vfk_ctx *ctx, const char *address)
{
	struct persist_list l;
	size_t i, rest;
	int r;

	r = load_and_find(ctx, address, &l, &i);
	if (r < 0)
		return r;
	if (i == l.n) {
		persist_free(&l);
		return neg_errno(ENOENT);
	}
	rest = l.n - i - 1;
	memmove(&l.addr[i], &l.addr[i + 1], rest * sizeof(l.addr[0]));
	memmove(&l.id[i], &l.id[i + 1], rest * sizeof(l.id[0]));
	memmove(&l.line[i], &l.line[i + 1], rest * sizeof(l.line[0]));
	l.n--;
	r = persist_save(ctx, &l);
	persist_free(&l);
	return r;
}

int vfk_persist_contains(struct vfk_ctx *ctx, const char *address)
{
	struct persist_list l;
	size_t i;
	int r;

	r = load_and_find(ctx, address, &l, &i);
	if (r < 0)
		return r;
	r = i < l.n;
	persist_free(&l);
	return r;
}

int vfk_persist_list(struct vfk_ctx *ctx, char ***list, size_t *n)
{
	struct persist_list l;
	char **out;
	size_t i;
	int r;

	ctx->error[0] = '\0';
	r = persist_load(ctx, &l);
	if (r < 0)
		return r;
	out = calloc(l.n + 1, sizeof(*out));
	for (i = 0; out && i < l.n; i++)
		if (!(out[i] = strdup(l.addr[i])))
			break;
	if (out && i == l.n) {
		*list = out;
		*n = l.n;
		r = 0;
	} else {
		while (out && i--)
			free(out[i]);
		free(out);
		r = neg_errno(ENOMEM);
	}
	persist_free(&l);
	return r;
}
