/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The binding journal: one line per device vfiokit holds, written before the
 * first change to the device, so `vfio-bind restore` can put it back even
 * after the binder was killed halfway through.
 *
 *   # vfiokit journal v1
 *   0000:01:00.0 state=bound driver=nvidia override= owner=vfio-bind since=1732590000
 */
#include <ctype.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "journal.h"

#define JOURNAL_HEADER "# vfiokit journal v1\n"
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

static int set_field(char *dst, size_t size, const char *val, size_t len)
{
	char tmp[128];

	if (len >= size || len >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, val, len);
	tmp[len] = '\0';
	/* a driver name becomes a path component (drivers/NAME/bind) */
	if (!journal_value_ok(tmp) || streq(tmp, ".") || streq(tmp, ".."))
		return -EINVAL;
	memcpy(dst, tmp, len + 1);
	return 0;
}

static int parse_line(const char *line, size_t len, struct vfk_journal_entry *e)
{
	struct vfk_pci_addr a;
	const char *p = line, *end = line + len;
	size_t n;
	bool have_state = false;

	memset(e, 0, sizeof(*e));
	n = strcspn(p, " \t");
	if (n > len || n >= sizeof(e->address))
		return -EINVAL;
	memcpy(e->address, p, n);
	e->address[n] = '\0';
	if (vfk_pci_addr_parse(e->address, &a) < 0)
		return -EINVAL;
	vfk_pci_addr_format(&a, e->address, sizeof(e->address));
	p += n;
	while (p < end) {
		const char *eq, *val;
		size_t klen, vlen;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p >= end)
			break;
		n = strcspn(p, " \t");
		if (p + n > end)
			n = (size_t)(end - p);
		eq = memchr(p, '=', n);
		if (!eq)
			return -EINVAL;
		klen = (size_t)(eq - p);
		val = eq + 1;
		vlen = n - klen - 1;
		if (klen == 5 && !strncmp(p, "state", 5)) {
			if (vlen == 5 && !strncmp(val, "bound", 5))
				e->state = 1;
			else if (vlen == 7 && !strncmp(val, "pending", 7))
				e->state = 0;
			else
				return -EINVAL;
			have_state = true;
		} else if (klen == 6 && !strncmp(p, "driver", 6)) {
			if (set_field(e->driver, sizeof(e->driver), val, vlen) < 0)
				return -EINVAL;
		} else if (klen == 8 && !strncmp(p, "override", 8)) {
			if (set_field(e->override, sizeof(e->override), val, vlen) < 0)
				return -EINVAL;
		} else if (klen == 5 && !strncmp(p, "owner", 5)) {
			if (set_field(e->owner, sizeof(e->owner), val, vlen) < 0)
				return -EINVAL;
		} else if (klen == 5 && !strncmp(p, "since", 5)) {
			char num[24], *nend;
			if (vlen == 0 || vlen >= sizeof(num))
				return -EINVAL;
			memcpy(num, val, vlen);
			num[vlen] = '\0';
			e->since = strtoll(num, &nend, 10);
			if (*nend || e->since < 0)
				return -EINVAL;
		}
		/* unknown keys are from a newer vfiokit: keep going */
		p += n;
	}
	return have_state ? 0 : -EINVAL;
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

int journal_parse(const char *text, struct vfk_journal *j, unsigned int *bad_line)
{
	const char *p = text;
	unsigned int lineno = 0;

	while (*p) {
		size_t len = strcspn(p, "\n");
		struct vfk_journal_entry e;
		const char *q = p;
		lineno++;
		while (q < p + len && (*q == ' ' || *q == '\t'))
			q++;
		if (q < p + len && *q != '#') {
			if (parse_line(q, len - (size_t)(q - p), &e) < 0) {
				if (bad_line)
					*bad_line = lineno;
				return -EINVAL;
			}
			if (!journal_find(j, e.address) && journal_add(j, &e) < 0)
				return -ENOMEM;
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	return 0;
}

char *journal_format(const struct vfk_journal *j)
{
	char *buf = NULL;
	size_t size = 0, i;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	fputs(JOURNAL_HEADER, f);
	for (i = 0; i < j->n; i++) {
		const struct vfk_journal_entry *e = &j->e[i];
		fprintf(f, "%s state=%s driver=%s override=%s owner=%s since=%lld\n", e->address,
			e->state ? "bound" : "pending", e->driver, e->override, e->owner, e->since);
	}
	if (fclose(f) != 0) {
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
 * and a cut-off journal would forget devices it holds. Malloc'ed text in
 * *@out, or -errno (no file: empty text).
 */
static int read_text(struct vfk_ctx *ctx, int dfd, char **out)
{
	int r = vfk_read_file_in(ctx, dfd, JOURNAL_FILE, JOURNAL_MAX_SIZE, out, NULL);

	if (r == -ENOENT) {
		*out = strdup("");
		return *out ? 0 : neg_errno(ENOMEM);
	}
	return r;
}

int vfk_journal_load(struct vfk_ctx *ctx, struct vfk_journal **out)
{
	_cleanup_close_ int dfd = -1;
	struct vfk_journal *j;
	char *text = NULL;
	unsigned int bad = 0;
	int r;

	j = calloc(1, sizeof(*j));
	if (!j)
		return neg_errno(ENOMEM);
	dfd = vfk_root_open_dir(ctx, VFK_ROOT_RUN, "");
	if (dfd == -ENOENT) {
		*out = j;	/* no state dir: nothing held */
		return 0;
	}
	if (dfd < 0) {	/* not root: say so, never "nothing held" */
		free(j);
		return neg_errno(dfd);
	}
	r = read_text(ctx, dfd, &text);
	if (r >= 0 && (r = journal_parse(text, j, &bad)) == -EINVAL)
		err(ctx, "journal line %u is malformed", bad);
	free(text);
	if (r < 0) {
		vfk_journal_free(j);
		return neg_errno(r);
	}
	*out = j;
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
