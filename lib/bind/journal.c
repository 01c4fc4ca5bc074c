/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The binding journal: one line per device vfiokit holds, written before the
 * first change to the device, so `vfio-bind restore` can put it back even
 * after the binder was killed halfway through.
 *
 *   # vfiokit journal v2
 *   0000:01:00.0 state=bound driver=nvidia override= owner=vfio-bind since=1732590000
 *   0000:02:00.2 state=bound driver=mlx5_core override= owner=vm1 since=1732590000 vfio=mlx5_vfio_pci
 *   # end entries=1 crc32=e303fff1
 *
 * It is the only record of which driver a device must go back to, so it is
 * read strictly: a file that does not parse completely is refused whole, in
 * one line naming the file, the line and what is wrong, and nothing is done
 * from it (`vfio-bind restore --from-scan` recovers, lib/bind/recover.c). Refused:
 * a NUL byte, a last line without its newline, a missing or unknown header,
 * an entry without state= or with a bad field, a device listed twice, and in
 * v2 a missing trailer, a trailer whose count or checksum does not match,
 * or anything after it. Unknown key=value fields are skipped (a newer vfiokit
 * may add some); the checksum covers them. vfio= (the vendor's variant VFIO
 * driver the device was given to) came later within v2: a line without it,
 * or with it empty, means vfio-pci, so it is written only for a variant (a
 * journal of vfio-pci devices reads the same to every build), and older
 * builds skip it. left= (why a restore left the device on its VFIO driver:
 * "no-reset", "reset-failed"; lib/bind/restore.c) came later still, written
 * only when set: an older build skips it and would give the device back.
 * user=UID:GID and node=GROUP:UID:GID:MODE (vfio-bind --for-user: whom the
 * group's node was given to, and its owner and octal mode before; lib/bind/
 * grant.c) came later still, written only together and only when granted:
 * an older build skips them, and the node goes when its devices leave VFIO.
 * user=UID:GID fds=GROUP (vfio-bind --via-fds: granted by descriptor, no
 * node changed, nothing to put back) came after: user= goes with exactly
 * one of node= and fds=. An older build refuses such a line (user= without
 * node=) rather than take it for a node's grant it would "put back".
 * v1 (no trailer, written by earlier vfiokit builds) is still read when it
 * parses completely, so an upgrade does not strand the devices it holds;
 * the next save writes v2.
 * Written whole, atomically (vfk_host_write_file: temp file, fsync, rename).
 */
#include <ctype.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "bind/journal.h"
#include "core/errmsg.h"

#define JOURNAL_MAGIC "# vfiokit journal v"
#define JOURNAL_VERSION 2
#define TRAILER_PREFIX "# end "
/* About 80 bytes a device: room for every function a host can have, and a
 * bound on what a corrupt or planted file makes us allocate. */
#define JOURNAL_MAX_SIZE (64 << 20)

bool journal_value_ok(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.:-+@", *s))
			return false;
	return true;
}

/*
 * CRC-32 as zlib, gzip and PNG compute it (reflected polynomial 0xEDB88320,
 * initial and final value ~0), so a journal can be checked by hand with
 * python3's zlib.crc32. A checksum, not a signature: it is there to catch a
 * torn write or an edit, and whoever can write /run/vfiokit is root anyway.
 * Every burst of up to 32 changed bits is caught, longer damage all but once
 * in 2^32. The table is built per call (2k shifts, nothing shared between
 * threads); a journal is checked once per command.
 */
static uint32_t crc32_of(const char *buf, size_t len)
{
	uint32_t table[256], c;
	size_t i;
	int k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
	c = 0xFFFFFFFFu;
	for (i = 0; i < len; i++)
		c = table[(c ^ (unsigned char)buf[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

/* ------------------------------------------------------------ parsing */

struct jparser {
	struct vfk_journal *j;
	char *err;		/* "line N: what"; NULL when salvaging */
	size_t errsize;
	unsigned int line;
	unsigned int *lines;	/* the line of each entry, for "listed twice" */
	size_t lines_cap;
};

__attribute__((format(printf, 2, 3)))
static int jfail(struct jparser *p, const char *fmt, ...)
{
	char what[300];
	va_list ap;

	if (p->err && p->errsize) {
		va_start(ap, fmt);
		vsnprintf(what, sizeof(what), fmt, ap);
		va_end(ap);
		snprintf(p->err, p->errsize, "line %u: %s", p->line, what);
	}
	return neg_errno(EINVAL);
}

/* Length of the token at @s: up to a blank or @end. */
static size_t token_len(const char *s, const char *end)
{
	const char *t = s;

	while (t < end && *t != ' ' && *t != '\t')
		t++;
	return (size_t)(t - s);
}

static int set_field(struct jparser *p, char *dst, size_t size, const char *key,
		     const char *val, size_t len)
{
	char tmp[128], b[48];

	if (len >= size || len >= sizeof(tmp))
		return jfail(p, "%s=%s...: longer than %zu characters", key,
			     vfk_shown_n(val, len, b, sizeof(b)), size - 1);
	memcpy(tmp, val, len);
	tmp[len] = '\0';
	/* a driver name becomes a path component (drivers/NAME/bind) */
	if (!journal_value_ok(tmp) || streq(tmp, ".") || streq(tmp, ".."))
		return jfail(p, "%s=%s is not a name ([A-Za-z0-9_.:+@-], not . or ..)", key,
			     vfk_shown_n(val, len, b, sizeof(b)));
	memcpy(dst, tmp, len + 1);
	return 0;
}

static int set_since(struct jparser *p, struct vfk_journal_entry *e, const char *val, size_t len)
{
	char num[24], b[48], *end;

	if (len == 0 || len >= sizeof(num))
		return jfail(p, "since=%s is not a time", vfk_shown_n(val, len, b, sizeof(b)));
	memcpy(num, val, len);
	num[len] = '\0';
	errno = 0;
	e->since = strtoll(num, &end, 10);
	if (*end || errno || e->since < 0 || !isdigit((unsigned char)num[0]))
		return jfail(p, "since=%s is not a time", vfk_shown_n(val, len, b, sizeof(b)));
	return 0;
}

static int set_state(struct jparser *p, struct vfk_journal_entry *e, const char *val, size_t len)
{
	char b[48];

	if (len == 5 && !strncmp(val, "bound", 5))
		e->state = 1;
	else if (len == 7 && !strncmp(val, "pending", 7))
		e->state = 0;
	else
		return jfail(p, "unknown state '%s' (bound or pending)",
			     vfk_shown_n(val, len, b, sizeof(b)));
	return 0;
}

/* "N:N[:N[:N]]" of decimal numbers (the last in octal when @octal_last)
 * into @v[0..@n); true when it is exactly that. */
static bool numbers(const char *val, size_t len, unsigned int *v, size_t n, bool octal_last)
{
	char buf[64], *s = buf, *end;
	unsigned long x;
	size_t i;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, val, len);
	buf[len] = '\0';
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)*s))
			return false;
		errno = 0;
		x = strtoul(s, &end, octal_last && i == n - 1 ? 8 : 10);
		if (errno || x > 0xfffffffeUL || end == s || *end != (i == n - 1 ? '\0' : ':'))
			return false;
		v[i] = (unsigned int)x;
		s = end + 1;
	}
	return true;
}

static int set_grant(struct jparser *p, struct vfk_journal_entry *e, const char *key,
		     const char *val, size_t len)
{
	unsigned int v[4];
	char b[48];

	if (streq(key, "user")) {
		if (!numbers(val, len, v, 2, false))
			return jfail(p, "user=%s is not UID:GID", vfk_shown_n(val, len, b, sizeof(b)));
		e->grant_uid = v[0];
		e->grant_gid = v[1];
		return 0;
	}
	if (streq(key, "fds")) {
		if (!numbers(val, len, v, 1, false) || v[0] > INT_MAX)
			return jfail(p, "fds=%s is not a group number", vfk_shown_n(val, len, b, sizeof(b)));
		e->group = (int)v[0];
		return 0;
	}
	if (!numbers(val, len, v, 4, true) || v[0] > INT_MAX || v[3] > 07777)
		return jfail(p, "node=%s is not GROUP:UID:GID:MODE", vfk_shown_n(val, len, b, sizeof(b)));
	e->group = (int)v[0];
	e->node_uid = v[1];
	e->node_gid = v[2];
	e->node_mode = v[3];
	return 0;
}

/* One key=value of an entry; @seen has a bit per known key, for repeats. */
static int parse_field(struct jparser *p, struct vfk_journal_entry *e, const char *s, size_t n,
		       unsigned int *seen)
{
	static const char *const keys[] = { "state", "driver", "override", "owner", "since", "vfio",
					    "left", "user", "node", "fds" };
	const char *eq = memchr(s, '=', n), *val;
	size_t klen, vlen, k;
	char b[48];

	if (!eq || eq == s)
		return jfail(p, "'%s' is not key=value", vfk_shown_n(s, n, b, sizeof(b)));
	klen = (size_t)(eq - s);
	val = eq + 1;
	vlen = n - klen - 1;
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if (strlen(keys[k]) == klen && !strncmp(s, keys[k], klen))
			break;
	if (k == sizeof(keys) / sizeof(keys[0]))
		return 0;	/* from a newer vfiokit: keep going */
	if (*seen & (1u << k))
		return jfail(p, "%s= given twice", keys[k]);
	*seen |= 1u << k;
	switch (k) {
	case 0: return set_state(p, e, val, vlen);
	case 1: return set_field(p, e->driver, sizeof(e->driver), "driver", val, vlen);
	case 2: return set_field(p, e->override, sizeof(e->override), "override", val, vlen);
	case 3: return set_field(p, e->owner, sizeof(e->owner), "owner", val, vlen);
	case 4: return set_since(p, e, val, vlen);
	case 5: return set_field(p, e->vfio_driver, sizeof(e->vfio_driver), "vfio", val, vlen);
	case 6: return set_field(p, e->left, sizeof(e->left), "left", val, vlen);
	default: return set_grant(p, e, keys[k], val, vlen);
	}
}

/* An entry: "ADDR key=value...", blanks between; @len excludes the newline. */
static int parse_line(struct jparser *p, const char *line, size_t len, struct vfk_journal_entry *e)
{
	struct vfk_pci_addr a;
	const char *s = line, *end = line + len;
	unsigned int seen = 0;
	size_t n = token_len(s, end);
	char b[48];
	int r;

	memset(e, 0, sizeof(*e));
	if (n >= sizeof(e->address))
		return jfail(p, "'%s' is not a PCI address", vfk_shown_n(s, n, b, sizeof(b)));
	memcpy(e->address, s, n);
	e->address[n] = '\0';
	if (vfk_pci_addr_parse(e->address, &a) < 0)
		return jfail(p, "'%s' is not a PCI address", vfk_shown_n(s, n, b, sizeof(b)));
	vfk_pci_addr_format(&a, e->address, sizeof(e->address));
	for (s += n; s < end; s += n) {
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		n = token_len(s, end);
		if (n && (r = parse_field(p, e, s, n, &seen)) < 0)
			return r;
	}
	if (!(seen & 1))
		return jfail(p, "%s has no state= (bound or pending)", e->address);
	/* a grant is whom and how: by node, with what was there before (one
	 * without the other could not be taken back exactly), or by
	 * descriptor; never both, never a way without a user */
	if ((seen & 1u << 8) && (seen & 1u << 9))
		return jfail(p, "%s has node= and fds=: a grant is by node or by descriptor, not both",
			     e->address);
	if ((seen & 1u << 7) && !(seen & (1u << 8 | 1u << 9)))
		return jfail(p, "%s has user= without node= or fds=", e->address);
	if (!(seen & 1u << 7) && (seen & (1u << 8 | 1u << 9)))
		return jfail(p, "%s has %s= without user=", e->address, seen & 1u << 8 ? "node" : "fds");
	e->granted = seen & 1u << 7;
	e->grant_fds = seen & 1u << 9;
	if (!e->vfio_driver[0])	/* written before variant drivers: vfio-pci */
		snprintf(e->vfio_driver, sizeof(e->vfio_driver), "%s", VFIO_PCI_DRIVER);
	return 0;
}

/* ------------------------------------------------ the index by address */

static size_t addr_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

/* @address's slot: the one naming its entry, else the free one it would take. */
static size_t *index_slot(const struct vfk_journal *j, const char *address)
{
	size_t mask = j->index_size - 1, i;

	for (i = addr_hash(address) & mask; j->index[i]; i = (i + 1) & mask)
		if (streq(j->e[j->index[i] - 1].address, address))
			break;
	return &j->index[i];
}

static void index_drop(struct vfk_journal *j)
{
	free(j->index);
	j->index = NULL;
	j->index_size = 0;
}

/* Twice the slots there are entries (probes stay short), and never full. */
static int index_build(struct vfk_journal *j)
{
	size_t size = 64, i;

	while (size < 2 * j->n + 2)
		size *= 2;
	index_drop(j);
	j->index = calloc(size, sizeof(*j->index));
	if (!j->index)
		return -ENOMEM;
	j->index_size = size;
	for (i = 0; i < j->n; i++) {
		size_t *slot = index_slot(j, j->e[i].address);
		if (!*slot)	/* a duplicate: the first one answers, as a scan would */
			*slot = i + 1;
	}
	return 0;
}

struct vfk_journal_entry *journal_find(struct vfk_journal *j, const char *address)
{
	size_t *slot, i;

	if (j->n == 0)
		return NULL;
	if (j->index || index_build(j) == 0) {
		slot = index_slot(j, address);
		return *slot ? &j->e[*slot - 1] : NULL;
	}
	/* out of memory for the index: slower, but never a wrong "not held" */
	for (i = 0; i < j->n; i++)
		if (streq(j->e[i].address, address))
			return &j->e[i];
	return NULL;
}

/* ----------------------------------------------------------- entries */

int journal_add(struct vfk_journal *j, const struct vfk_journal_entry *e)
{
	if (j->n == j->cap) {
		size_t ncap = j->cap ? j->cap * 2 : 8;
		struct vfk_journal_entry *ne = realloc(j->e, ncap * sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		j->e = ne;
		j->cap = ncap;
	}
	j->e[j->n++] = *e;
	if (j->index && 2 * j->n + 2 > j->index_size)
		index_drop(j);	/* rebuilt twice as large by the next lookup */
	if (j->index) {
		size_t *slot = index_slot(j, e->address);
		if (!*slot)
			*slot = j->n;
	}
	return 0;
}

/* A device in the journal once: a second line for it, even an identical
 * one, is contradictory state (which one did the binder mean?). */
static int add_entry(struct jparser *p, const struct vfk_journal_entry *e)
{
	const struct vfk_journal_entry *old = journal_find(p->j, e->address);

	if (old) {
		unsigned int first = p->lines[old - p->j->e];
		if (!streq(old->driver, e->driver))
			return jfail(p, "%s listed twice with different drivers (%s, %s; first on "
				     "line %u)", e->address, *old->driver ? old->driver : "none",
				     *e->driver ? e->driver : "none", first);
		return jfail(p, "%s listed twice (first on line %u)", e->address, first);
	}
	if (GROW_ARRAY(p->lines, p->lines_cap, p->j->n + 1) < 0 || journal_add(p->j, e) < 0)
		return neg_errno(ENOMEM);
	p->lines[p->j->n - 1] = p->line;
	return 0;
}

/* The first line, "# vfiokit journal vN": N (1 or 2), or a refusal. */
static int parse_header(struct jparser *p, const char *s, size_t n)
{
	size_t m = strlen(JOURNAL_MAGIC), i = m;
	char b[48];

	if (n > m && !strncmp(s, JOURNAL_MAGIC, m) && s[m] != '0') {
		while (i < n && isdigit((unsigned char)s[i]))
			i++;
		if (i == n && n == m + 1 && s[m] <= '2')
			return s[m] - '0';
		if (i == n)
			return jfail(p, "journal format v%s is newer than this vfiokit reads (v%d)",
				     vfk_shown_n(s + m, n - m, b, sizeof(b)), JOURNAL_VERSION);
	}
	return jfail(p, "missing header '" JOURNAL_MAGIC "%d' (found '%s')", JOURNAL_VERSION,
		     vfk_shown_n(s, n, b, sizeof(b)));
}

/* "# end entries=N crc32=XXXXXXXX", checking every byte before it. */
static int parse_trailer(struct jparser *p, const char *text, const char *s, size_t n)
{
	char buf[64], want[64], b[48];
	unsigned long count;
	unsigned int sum;

	if (n >= sizeof(buf))
		goto garbled;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (sscanf(buf, TRAILER_PREFIX "entries=%lu crc32=%x", &count, &sum) != 2)
		goto garbled;
	/* exactly as journal_format() writes it: no sign, blank or upper case */
	snprintf(want, sizeof(want), TRAILER_PREFIX "entries=%lu crc32=%08x", count, sum);
	if (!streq(buf, want))
		goto garbled;
	if (count != p->j->n)
		return jfail(p, "the trailer counts %lu entries, the file holds %zu (the file was "
			     "changed or torn)", count, p->j->n);
	if (sum != crc32_of(text, (size_t)(s - text)))
		return jfail(p, "checksum mismatch: the file was changed or torn");
	return 0;
garbled:
	return jfail(p, "garbled trailer '%s' (want '" TRAILER_PREFIX "entries=N crc32=XXXXXXXX')",
		     vfk_shown_n(s, n, b, sizeof(b)));
}

/* A line after the header: an entry, a comment or blank. */
static int parse_body_line(struct jparser *p, const char *s, size_t n)
{
	struct vfk_journal_entry e;
	const char *end = s + n;
	int r;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s == end || *s == '#')
		return 0;
	r = parse_line(p, s, (size_t)(end - s), &e);
	return r < 0 ? r : add_entry(p, &e);
}

static bool is_trailer(const char *s, size_t n)
{
	return n >= strlen(TRAILER_PREFIX) && !strncmp(s, TRAILER_PREFIX, strlen(TRAILER_PREFIX));
}

/* What follows the lines: nothing after a trailer; a v2 file must have one. */
static int parse_end(struct jparser *p, int version, bool trailer, bool more)
{
	if (p->line == 0) {
		p->line = 1;
		return jfail(p, "missing header '" JOURNAL_MAGIC "%d' (empty file)", JOURNAL_VERSION);
	}
	if (trailer && more) {
		p->line++;
		return jfail(p, "text after the trailer");
	}
	if (version >= 2 && !trailer)
		return jfail(p, "no '" TRAILER_PREFIX "entries=N crc32=X' trailer after the last line "
			     "(the file was cut short)");
	return 0;
}

int journal_parse(const char *text, size_t len, struct vfk_journal *j, char *err, size_t errsize)
{
	struct jparser p = { .j = j, .err = err, .errsize = errsize };
	const char *s = text, *end = text + len, *nul = memchr(text, '\0', len);
	bool trailer = false;
	int version = 0, r = 0;
	size_t n = 0;

	if (err && errsize)
		err[0] = '\0';
	/* C strings end at a NUL: what follows it would be read by nobody */
	for (; nul && s < nul; s++)
		p.line += *s == '\n';
	if (nul) {
		p.line++;
		return jfail(&p, "contains a NUL byte");
	}
	for (s = text; s < end && r >= 0 && !trailer; s += n + 1) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		p.line++;
		if (!nl) {
			n = (size_t)(end - s);
			r = jfail(&p, "%s cut short (no newline at end of file)",
				  p.line == 1 ? "header" : is_trailer(s, n) ? "trailer" : "entry");
			break;
		}
		n = (size_t)(nl - s);
		if (p.line == 1) {
			r = version = parse_header(&p, s, n);
		} else if (version >= 2 && is_trailer(s, n)) {
			r = parse_trailer(&p, text, s, n);
			trailer = true;
		} else if (is_trailer(s, n)) {
			/* v1 never had one: a v2 file whose header was changed */
			r = jfail(&p, "a trailer in a v1 journal (the header was changed?)");
		} else {
			r = parse_body_line(&p, s, n);
		}
	}
	if (r >= 0)
		r = parse_end(&p, version, trailer, s < end);
	free(p.lines);
	if (r < 0)
		journal_clear(j);
	return r < 0 ? r : 0;
}

int journal_salvage(const char *text, size_t len, struct vfk_journal *j)
{
	const char *s = text, *end = text + len;

	while (s < end) {
		const char *q = s, *lend = s;
		struct vfk_journal_entry e = { .state = 1 };
		struct vfk_pci_addr a;
		size_t t;

		/* lines end at a newline, and at a NUL: a zeroed block hides nothing after it */
		while (lend < end && *lend != '\n' && *lend != '\0')
			lend++;
		while (q < lend && (*q == ' ' || *q == '\t'))
			q++;
		t = token_len(q, lend);
		if (t && t < sizeof(e.address)) {
			memcpy(e.address, q, t);
			if (vfk_pci_addr_parse(e.address, &a) == 0) {
				vfk_pci_addr_format(&a, e.address, sizeof(e.address));
				if (!journal_find(j, e.address) && journal_add(j, &e) < 0)
					return neg_errno(ENOMEM);
			}
		}
		if (lend == end)
			break;
		s = lend + 1;
	}
	return 0;
}

char *journal_format(const struct vfk_journal *j)
{
	char *buf = NULL;
	size_t size = 0, i;
	FILE *f = open_memstream(&buf, &size);
	bool bad;

	if (!f)
		return NULL;
	fprintf(f, JOURNAL_MAGIC "%d\n", JOURNAL_VERSION);
	for (i = 0; i < j->n; i++) {
		const struct vfk_journal_entry *e = &j->e[i];
		bool variant = *e->vfio_driver && !streq(e->vfio_driver, VFIO_PCI_DRIVER);
		fprintf(f, "%s state=%s driver=%s override=%s owner=%s since=%lld%s%s%s%s",
			e->address, e->state ? "bound" : "pending", e->driver, e->override, e->owner,
			e->since, variant ? " vfio=" : "", variant ? e->vfio_driver : "",
			*e->left ? " left=" : "", e->left);
		if (e->granted && e->grant_fds)
			fprintf(f, " user=%u:%u fds=%d", e->grant_uid, e->grant_gid, e->group);
		else if (e->granted)
			fprintf(f, " user=%u:%u node=%d:%u:%u:%04o", e->grant_uid, e->grant_gid,
				e->group, e->node_uid, e->node_gid, e->node_mode & 07777);
		fputc('\n', f);
	}
	/* the checksum covers every byte before the trailer: flushed, they are buf[0..size) */
	if (fflush(f) == 0)
		fprintf(f, TRAILER_PREFIX "entries=%zu crc32=%08x\n", j->n,
			(unsigned int)crc32_of(buf, size));
	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		free(buf);
		return NULL;
	}
	return buf;
}

void journal_remove(struct vfk_journal *j, const char *address)
{
	struct vfk_journal_entry *e = journal_find(j, address);
	size_t i;

	if (!e)
		return;
	i = (size_t)(e - j->e);
	memmove(&j->e[i], &j->e[i + 1], (j->n - i - 1) * sizeof(*j->e));
	j->n--;
	index_drop(j);	/* positions moved */
}

void journal_remove_marked(struct vfk_journal *j, const bool *drop)
{
	size_t i, n = 0;

	for (i = 0; i < j->n; i++)
		if (!drop[i])
			j->e[n++] = j->e[i];
	if (n != j->n)
		index_drop(j);
	j->n = n;
}

void journal_clear(struct vfk_journal *j)
{
	free(j->e);
	free(j->index);
	memset(j, 0, sizeof(*j));
}

int journal_save(struct vfk_ctx *ctx, const struct vfk_journal *j)
{
	_cleanup_free_ char *text = NULL;
	int r;

	text = journal_format(j);
	if (!text)
		return neg_errno(ENOMEM);
	r = vfk_host_write_file(ctx, VFK_ROOT_RUN, JOURNAL_FILE, text, 0600);
	return r < 0 ? r : 0;
}

/*
 * The whole journal, however long: a group of 16k endpoints writes 1.3 MB,
 * and a cut-off journal would forget devices it holds.
 */
int journal_read(struct vfk_ctx *ctx, char **text, size_t *len)
{
	_cleanup_close_ int dfd = -1;
	_cleanup_free_ char *path = vfk_root_path(ctx, VFK_ROOT_RUN, JOURNAL_FILE);
	const char *why = NULL;
	int r;

	if (!path)
		return neg_errno(ENOMEM);
	dfd = vfk_root_open_dir(ctx, VFK_ROOT_RUN, "");
	r = dfd < 0 ? dfd : vfk_read_file_in(ctx, dfd, JOURNAL_FILE, JOURNAL_MAX_SIZE, text, len);
	switch (r) {
	case 0:
	case -ENOENT:	/* no state dir or no file: nothing held */
	case -ENOMEM:
		return r;
	case -ELOOP: why = "is a symbolic link, not the file itself"; break;
	case -EISDIR: why = "is a directory, not a regular file"; break;
	case -EINVAL: why = "is a FIFO or special file, not a regular file"; break;
	case -EFBIG:
	case -EAGAIN: why = "larger than 64 MiB, or growing while read"; break;
	default:	/* not root: say so, never "nothing held" */
		snprintf(ctx->error, sizeof(ctx->error), "%s: %s", path, strerror(-r));
		return r;
	}
	snprintf(ctx->error, sizeof(ctx->error), "%s: %s", path, why);
	return neg_errno(EINVAL);
}

const char *journal_why(struct vfk_ctx *ctx, int r)
{
	return r != -ENOMEM && ctx->error[0] ? ctx->error : strerror(-r);
}

int vfk_journal_load(struct vfk_ctx *ctx, struct vfk_journal **out)
{
	_cleanup_free_ char *text = NULL;
	struct vfk_journal *j;
	char why[400];
	size_t len = 0;
	int r;

	ctx->error[0] = '\0';
	j = calloc(1, sizeof(*j));
	if (!j)
		return neg_errno(ENOMEM);
	r = journal_read(ctx, &text, &len);
	if (r == 0) {
		r = journal_parse(text, len, j, why, sizeof(why));
		if (r == -EINVAL) {
			_cleanup_free_ char *path = vfk_root_path(ctx, VFK_ROOT_RUN, JOURNAL_FILE);
			snprintf(ctx->error, sizeof(ctx->error), "%s: %s", path ? path : JOURNAL_FILE,
				 why);
		}
	}
	if (r < 0 && r != -ENOENT) {
		dbg(ctx, "%s", ctx->error);	/* the caller reports it: one line, not two */
		vfk_journal_free(j);
		return neg_errno(r);
	}
	*out = j;
	return 0;
}

int journal_set_aside(struct vfk_ctx *ctx, char *aside, size_t size)
{
	_cleanup_close_ int dfd = vfk_root_open_dir(ctx, VFK_ROOT_RUN, "");
	_cleanup_free_ char *path = NULL, *value = NULL;
	unsigned int i;
	int r;

	if (dfd < 0)
		return dfd;
	/* an older damaged journal is evidence too: never replaced */
	for (i = 1; i < 100; i++) {
		if (i == 1)
			snprintf(aside, size, "%s.damaged", JOURNAL_FILE);
		else
			snprintf(aside, size, "%s.damaged.%u", JOURNAL_FILE, i);
		if (!vfk_exists_at(dfd, aside))
			break;
	}
	if (i == 100)
		return neg_errno(EEXIST);
	/* write.c has no rename: the hook sees it here, as it sees every change */
	if (ctx->write_hook) {
		path = vfk_root_path(ctx, VFK_ROOT_RUN, JOURNAL_FILE);
		if (!path || asprintf(&value, "(rename to %s)", aside) < 0)
			return neg_errno(ENOMEM);
		r = ctx->write_hook(ctx->write_data, path, value);
		if (r != 0)
			return r;
	}
	if (renameat2(dfd, JOURNAL_FILE, dfd, aside, RENAME_NOREPLACE) < 0 &&
	    (errno != EINVAL || renameat(dfd, JOURNAL_FILE, dfd, aside) < 0))
		return neg_errno(errno);
	if (fsync(dfd) < 0)
		dbg(ctx, "fsync of the state directory: %m");
	return 0;
}

void vfk_journal_free(struct vfk_journal *j)
{
	if (!j)
		return;
	journal_clear(j);
	free(j);
}

size_t vfk_journal_count(const struct vfk_journal *j) { return j->n; }

const struct vfk_journal_entry *vfk_journal_get(const struct vfk_journal *j, size_t i)
{
	return i < j->n ? &j->e[i] : NULL;
}

int vfk_lock_take(struct vfk_ctx *ctx, unsigned int ms, long *holder)
{
	struct timespec start, now;
	char pid[24];
	int dfd, fd, r;

	r = vfk_root_ensure(ctx, VFK_ROOT_RUN);
	if (r < 0)
		return r;
	dfd = vfk_root_open_dir(ctx, VFK_ROOT_RUN, "");
	if (dfd < 0)
		return dfd;
	fd = openat(dfd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	if (fd < 0) {
		r = neg_errno(errno);
		close(dfd);
		return r;
	}
	/* the pid is written into it: only ever into our own plain file, never
	 * through a FIFO or a hard link someone put in its place */
	{
		struct stat st;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
			r = neg_errno(EPERM);
			goto fail;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		long waited;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			r = neg_errno(errno);
			goto fail;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (waited >= (long)ms) {
			if (holder) {
				char buf[24];
				*holder = vfk_read_in(ctx, dfd, LOCK_FILE, buf, sizeof(buf)) > 0 ? atol(buf) : 0;
			}
			r = neg_errno(EWOULDBLOCK);
			goto fail;
		}
		poll(NULL, 0, 50);
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, strlen(pid), 0) < 0)
		dbg(ctx, "cannot record lock holder");
	close(dfd);
	return fd;
fail:
	close(fd);
	close(dfd);
	return r;
}
