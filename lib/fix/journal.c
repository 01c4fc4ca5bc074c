/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fix journal, /var/lib/vfiokit/fix/journal: what vfio-check --fix
 * changed, so that --revert can put it back byte for byte. Written whole
 * (by rename) before each change it records:
 *
 *   vfiokit-fix-journal 1
 *   file N PATH MODE OLD NEW    PATH below the root, %-escaped; MODE octal;
 *                               OLD "none" (the file was new) or the FNV-1a
 *                               64 sum of its bytes, kept in N.old; NEW the
 *                               sum of what was written, kept in N.new
 *   dir PATH                    a directory the fix created (for a file)
 *   run WORD...                 a command --revert runs after putting the files
 *                               back (the same, or its opposite), %-escaped
 *
 * The sums catch a backup that is not what was saved; whether a file is
 * still what the fix wrote is decided on its bytes, not its sum. A line
 * that does not parse makes the whole journal an error naming the line:
 * a revert never guesses.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>

#include "fix/fix.h"

#define MAGIC "vfiokit-fix-journal 1"
#define MAX_JOURNAL (1024 * 1024)

uint64_t fix_sum(const char *data, size_t len)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)data[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

/* Bytes outside [A-Za-z0-9._/+:,=-] as %XX: a word never holds a blank. */
static void escape(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		if (isalnum((unsigned char)*s) || strchr("._/+:,=-", *s))
			sbuf_addn(b, s, 1);
		else
			sbuf_addf(b, "%%%02X", (unsigned char)*s);
	}
}

static char *unescape(const char *w, size_t n)
{
	char *out = malloc(n + 1), *o = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned int x;

		if (w[i] != '%') {
			*o++ = w[i];
			continue;
		}
		if (i + 2 >= n || !isxdigit((unsigned char)w[i + 1]) ||
		    !isxdigit((unsigned char)w[i + 2]) || sscanf(w + i + 1, "%2x", &x) != 1 || !x) {
			free(out);
			return NULL;
		}
		*o++ = (char)x;
		i += 2;
	}
	*o = '\0';
	return out;
}

/* A path the journal may name: relative, no "." or ".." level, no blank. */
bool fix_path_ok(const char *p)
{
	const char *s = p;

	if (!*p || *p == '/' || strlen(p) > 512)
		return false;
	while (*s) {
		size_t n = strcspn(s, "/");

		if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		s += n + (s[n] == '/');
	}
	return true;
}

void fix_journal_free(struct fix_journal *j)
{
	size_t i;

	for (i = 0; i < j->nfiles; i++)
		free(j->files[i].path);
	free(j->files);
	for (i = 0; i < j->nruns; i++)
		fix_argv_free(j->runs[i]);
	free(j->runs);
	strv_free(&j->dirs);
	memset(j, 0, sizeof(*j));
}

static int add_run(struct fix_journal *j, char **argv)
{
	if (GROW_ARRAY(j->runs, j->runs_cap, j->nruns + 1) < 0)
		return neg_errno(ENOMEM);
	j->runs[j->nruns++] = argv;
	return 0;
}

int fix_journal_add_run(struct fix_journal *j, const char *const *argv)
{
	char **copy = fix_argv_dup(argv);

	if (!copy || add_run(j, copy) < 0) {
		fix_argv_free(copy);
		return neg_errno(ENOMEM);
	}
	return 0;
}

int fix_journal_add_dir(struct fix_journal *j, const char *path)
{
	if (!fix_path_ok(path))
		return neg_errno(EINVAL);
	return strv_add(&j->dirs, path) < 0 ? neg_errno(ENOMEM) : 0;
}

int fix_journal_add_file(struct fix_journal *j, const struct fix_jfile *e)
{
	if (!fix_path_ok(e->path) || GROW_ARRAY(j->files, j->files_cap, j->nfiles + 1) < 0)
		return neg_errno(fix_path_ok(e->path) ? ENOMEM : EINVAL);
	j->files[j->nfiles] = *e;
	if (!(j->files[j->nfiles].path = strdup(e->path)))
		return neg_errno(ENOMEM);
	j->nfiles++;
	return 0;
}

/* ------------------------------------------------------------ text */

char *fix_journal_text(const struct fix_journal *j)
{
	struct sbuf b = { 0 };
	size_t i, k;

	sbuf_add(&b, MAGIC "\n");
	for (i = 0; i < j->nfiles; i++) {
		const struct fix_jfile *e = &j->files[i];

		sbuf_addf(&b, "file %u ", e->n);
		escape(&b, e->path);
		sbuf_addf(&b, " %04o ", (unsigned int)(e->mode & 07777));
		if (e->had_old)
			sbuf_addf(&b, "%016" PRIx64, e->oldsum);
		else
			sbuf_add(&b, "none");
		sbuf_addf(&b, " %016" PRIx64 "\n", e->newsum);
	}
	for (i = 0; i < j->dirs.n; i++) {
		sbuf_add(&b, "dir ");
		escape(&b, j->dirs.v[i]);
		sbuf_add(&b, "\n");
	}
	for (i = 0; i < j->nruns; i++) {
		sbuf_add(&b, "run");
		for (k = 0; j->runs[i][k]; k++) {
			sbuf_add(&b, " ");
			escape(&b, j->runs[i][k]);
		}
		sbuf_add(&b, "\n");
	}
	return sbuf_take(&b);
}

static bool parse_sum(const char *w, size_t n, uint64_t *out)
{
	char buf[17], *end;

	if (n != 16 || strspn(w, "0123456789abcdef") < 16)
		return false;
	memcpy(buf, w, 16);
	buf[16] = '\0';
	*out = strtoull(buf, &end, 16);
	return *end == '\0';
}

/* The words of one line: at most @max, each (start, length). */
static size_t split_words(const char *s, size_t len, const char **w, size_t *wl, size_t max)
{
	size_t n = 0, i = 0;

	while (i < len && n < max) {
		size_t k;

		if (s[i] == ' ') {
			i++;
			continue;
		}
		for (k = i; k < len && s[k] != ' '; k++)
			;
		w[n] = s + i;
		wl[n++] = k - i;
		i = k;
	}
	return n;
}

static int parse_file(struct fix_journal *j, const char **w, const size_t *wl, size_t n)
{
	struct fix_jfile e = { 0 };
	char num[16], mode[8], *end;
	int r;

	if (n != 6 || wl[1] >= sizeof(num) || wl[3] != 4)
		return neg_errno(EINVAL);
	snprintf(num, sizeof(num), "%.*s", (int)wl[1], w[1]);
	e.n = (unsigned int)strtoul(num, &end, 10);
	if (*end || !isdigit((unsigned char)num[0]) || e.n > 100000)
		return neg_errno(EINVAL);
	snprintf(mode, sizeof(mode), "%.*s", (int)wl[3], w[3]);
	e.mode = (mode_t)strtoul(mode, &end, 8);
	if (*end || strspn(mode, "01234567") != 4)
		return neg_errno(EINVAL);
	e.had_old = !(wl[4] == 4 && !strncmp(w[4], "none", 4));
	if ((e.had_old && !parse_sum(w[4], wl[4], &e.oldsum)) || !parse_sum(w[5], wl[5], &e.newsum))
		return neg_errno(EINVAL);
	e.path = unescape(w[2], wl[2]);
	if (!e.path)
		return neg_errno(EINVAL);
	r = fix_journal_add_file(j, &e);
	free(e.path);
	return r;
}

static int parse_run(struct fix_journal *j, const char **w, const size_t *wl, size_t n)
{
	char **argv;
	size_t i;

	if (n < 2)
		return neg_errno(EINVAL);
	argv = calloc(n, sizeof(*argv));
	if (!argv)
		return neg_errno(ENOMEM);
	for (i = 1; i < n; i++)
		if (!(argv[i - 1] = unescape(w[i], wl[i]))) {
			while (--i > 0)
				free(argv[i - 1]);
			free(argv);
			return neg_errno(EINVAL);
		}
	if (add_run(j, argv) < 0) {
		for (i = 0; argv[i]; i++)
			free(argv[i]);
		free(argv);
		return neg_errno(ENOMEM);
	}
	return 0;
}

static int parse_dir(struct fix_journal *j, const char *w, size_t n)
{
	_cleanup_free_ char *path = unescape(w, n);

	return path ? fix_journal_add_dir(j, path) : neg_errno(EINVAL);
}

int fix_journal_load(struct vfk_ctx *ctx, struct fix_journal *j, char *err, size_t errsize)
{
	_cleanup_close_ int dfd = vfk_root_open_dir(ctx, VFK_ROOT_STATE, FIX_DIR);
	_cleanup_free_ char *text = NULL;
	const char *s;
	size_t len, line = 0;
	int r;

	memset(j, 0, sizeof(*j));
	if (dfd < 0)
		return dfd;
	r = vfk_read_file_in(ctx, dfd, "journal", MAX_JOURNAL, &text, &len);
	if (r < 0)
		return r;
	for (s = text; *s;) {
		const char *eol = strchr(s, '\n'), *w[64];
		size_t n = eol ? (size_t)(eol - s) : strlen(s), wl[64], nw;

		line++;
		if (!eol || (line == 1 && (n != strlen(MAGIC) || strncmp(s, MAGIC, n)))) {
			r = neg_errno(EINVAL);
		} else if (line > 1) {
			nw = split_words(s, n, w, wl, ARRAY_SIZE(w));
			if (nw && wl[0] == 4 && !strncmp(w[0], "file", 4))
				r = parse_file(j, w, wl, nw);
			else if (nw && wl[0] == 3 && !strncmp(w[0], "run", 3))
				r = parse_run(j, w, wl, nw);
			else if (nw == 2 && wl[0] == 3 && !strncmp(w[0], "dir", 3))
				r = parse_dir(j, w[1], wl[1]);
			else
				r = neg_errno(EINVAL);
		}
		if (r < 0) {
			snprintf(err, errsize, "/var/lib/vfiokit/" FIX_DIR "/journal line %zu: %s", line,
				 r == -ENOMEM ? "out of memory" : "not a journal line; nothing changed");
			fix_journal_free(j);
			return r;
		}
		s += n + 1;
	}
	if (!line) {
		snprintf(err, errsize, "/var/lib/vfiokit/" FIX_DIR "/journal is empty");
		return neg_errno(EINVAL);
	}
	return 0;
}

int fix_journal_save(struct vfk_ctx *ctx, const struct fix_journal *j)
{
	_cleanup_free_ char *text = fix_journal_text(j);

	if (!text)
		return neg_errno(ENOMEM);
	return vfk_host_replace_file(ctx, VFK_ROOT_STATE, FIX_DIR "/journal", text, strlen(text),
				     0600);
}
