/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel command line, where this host's boot loader keeps it:
 *   - Pop!_OS kernelstub: the user's kernel_options in
 *     /etc/kernelstub/configuration, then `kernelstub` writes the entry;
 *   - GRUB: GRUB_CMDLINE_LINUX_DEFAULT (else GRUB_CMDLINE_LINUX) in
 *     /etc/default/grub, then update-grub, or grub2-mkconfig where GRUB 2
 *     is packaged as grub2 (Fedora); with Boot Loader Specification entries
 *     (GRUB_ENABLE_BLSCFG=true) grubby edits every entry's options too;
 *   - systemd-boot and kernel-install: /etc/kernel/cmdline (written from the
 *     running line when absent, for the kernels installed next) and the
 *     options line of every loader entry.
 * A value it cannot edit without a shell (expansions, quotes it cannot
 * pair, continuation lines) is refused with the edit to make by hand.
 */
#include <ctype.h>
#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>

#include "check/check.h"
#include "fix/fix.h"

static const char *const entry_dirs[] = { "boot/loader/entries", "boot/efi/loader/entries",
					  "efi/loader/entries", NULL };

/* "w1 w2" for messages */
static char *words(const char *const *v)
{
	struct sbuf b = { 0 };
	size_t i;

	for (i = 0; v[i]; i++)
		sbuf_addf(&b, "%s%s", i ? " " : "", v[i]);
	return sbuf_take(&b);
}

#define IDS_KEY "vfio-pci.ids="

/*
 * check_cmdline_edit(), but vfio-pci.ids= is one list: the ids a line has
 * already (one word or several) join the new ones, theirs first, and one
 * word remains; a device another fix gave to vfio-pci stays there.
 */
static void edit_line(struct sbuf *b, const char *old, const char *const *drop,
		      const char *const *add, bool skip_boot_words)
{
	const char *adds[24] = { 0 }, *drops[24] = { 0 }, *s = old ? old : "", *w;
	struct strv olds = { 0 };
	struct sbuf ids = { 0 };
	_cleanup_free_ char *merged = NULL;
	size_t i, n, na = 0, nd = 0;

	for (i = 0; drop[i] && nd + 1 < ARRAY_SIZE(drops); i++)
		drops[nd++] = drop[i];
	while ((w = check_cmdline_next_word(&s, &n)))
		if (n > strlen(IDS_KEY) && !strncmp(w, IDS_KEY, strlen(IDS_KEY)) &&
		    strv_addf(&olds, "%.*s", (int)n, w) == 0) {
			sbuf_addf(&ids, "%s%s", ids.len ? "," : "", olds.v[olds.n - 1] + strlen(IDS_KEY));
			if (nd + 1 < ARRAY_SIZE(drops))
				drops[nd++] = olds.v[olds.n - 1];
		}
	for (i = 0; add[i] && na + 1 < ARRAY_SIZE(adds); i++) {
		const char *id;

		if (strncmp(add[i], IDS_KEY, strlen(IDS_KEY)) || !ids.s) {
			adds[na++] = add[i];
			continue;
		}
		for (id = add[i] + strlen(IDS_KEY); *id; id += *id == ',') {
			size_t k = strcspn(id, ",");
			char one[32];

			snprintf(one, sizeof(one), "%.*s", (int)(k < 31 ? k : 31), id);
			if (!check_list_has(ids.s, one))
				sbuf_addf(&ids, ",%s", one);
			id += k;
		}
		merged = strdupf(IDS_KEY "%s", ids.s);
		adds[na++] = merged ? merged : add[i];
	}
	check_cmdline_edit(b, old, drops, adds, skip_boot_words);
	strv_free(&olds);
	sbuf_free(&ids);
}

/* ------------------------------------------------------------ GRUB */

struct assign {
	const char *line;	/* the line of the last assignment, in the text */
	size_t len;		/* its length without the newline */
	const char *val;	/* the value, quotes included */
	size_t vlen;
};

/* The last "NAME=" line of a shell-style file (leading blanks allowed). */
static bool find_assign(const char *text, const char *name, struct assign *a)
{
	const char *s = text;
	size_t n = strlen(name);
	bool found = false;

	while (*s) {
		const char *eol = strchr(s, '\n'), *p = s;
		size_t len = eol ? (size_t)(eol - s) : strlen(s);

		while (p < s + len && (*p == ' ' || *p == '\t'))
			p++;
		if ((size_t)(s + len - p) > n && !strncmp(p, name, n) && p[n] == '=') {
			a->line = s;
			a->len = len;
			a->val = p + n + 1;
			a->vlen = (size_t)(s + len - a->val);
			found = true;
		}
		s += len + (eol ? 1 : 0);
	}
	return found;
}

/* The words inside a value GRUB's shell sourcing would take literally: "..."
 * or '...' or one bare word, and a trailing comment. NULL when it needs a
 * shell (a $, `, \, an unpaired quote). */
static char *plain_value(const struct assign *a, char *quote)
{
	const char *v = a->val, *end = a->val + a->vlen, *close;

	*quote = '"';
	if (v < end && (*v == '"' || *v == '\'')) {
		*quote = *v;
		close = memchr(v + 1, *v, (size_t)(end - v - 1));
		if (!close)
			return NULL;
		for (const char *t = close + 1; t < end; t++)
			if (!isspace((unsigned char)*t)) {
				if (*t == '#')
					break;
				return NULL;
			}
		if (*quote == '"' && memchr(v + 1, '$', (size_t)(close - v - 1)))
			return NULL;
		if (memchr(v + 1, '`', (size_t)(close - v - 1)) ||
		    memchr(v + 1, '\\', (size_t)(close - v - 1)))
			return NULL;
		return strndup(v + 1, (size_t)(close - v - 1));
	}
	for (const char *t = v; t < end; t++)
		if (strchr("$`\\\"' \t;&|<>()", *t))
			return NULL;
	return strndup(v, (size_t)(end - v));
}

/* @text with the assignment @a replaced by NAME=<quote>@value<quote>, or a
 * new line at the end when @a->line is NULL. */
static char *replace_assign(const char *text, const struct assign *a, const char *name,
			    const char *value, char quote)
{
	struct sbuf b = { 0 };

	if (!a->line) {
		size_t n = strlen(text);

		sbuf_add(&b, text);
		if (n && text[n - 1] != '\n')
			sbuf_add(&b, "\n");
		sbuf_addf(&b, "%s=%c%s%c\n", name, quote, value, quote);
		return sbuf_take(&b);
	}
	sbuf_addn(&b, text, (size_t)(a->line - text));
	sbuf_addn(&b, a->line, (size_t)(a->val - a->line));
	sbuf_addf(&b, "%c%s%c", quote, value, quote);
	sbuf_add(&b, a->line + a->len);
	return sbuf_take(&b);
}

/* One GRUB variable edited: @add (may be empty) and @drop. */
static int grub_edit_var(struct vfk_fix *f, char **text, const char *name,
			 const char *const *add, const char *const *drop, bool create,
			 char *errbuf, size_t errsize)
{
	struct assign a = { 0 };
	_cleanup_free_ char *old = NULL, *all = NULL;
	struct sbuf val = { 0 };
	char quote = '"', *edited;

	if (!find_assign(*text, name, &a)) {
		if (!create)
			return 0;
	} else if (!(old = plain_value(&a, &quote))) {
		all = words(add);
		snprintf(errbuf, errsize, "/etc/default/grub: %s=%.*s needs a shell to read "
			 "(expansions, escapes or quotes): nothing changed; add '%s' there by hand",
			 name, (int)a.vlen, a.val, all ? all : "");
		return neg_errno(EINVAL);
	}
	edit_line(&val, old ? old : "", drop, add, false);
	if (old && streq(val.s ? val.s : "", old)) {
		sbuf_free(&val);
		return 0;
	}
	edited = replace_assign(*text, &a, name, val.s ? val.s : "", quote);
	sbuf_free(&val);
	if (!edited)
		return neg_errno(ENOMEM);
	free(*text);
	*text = edited;
	(void)f;
	return 0;
}

static bool grub_bls(const char *text)
{
	struct assign a;
	char q;
	_cleanup_free_ char *v = NULL;

	if (!find_assign(text, "GRUB_ENABLE_BLSCFG", &a))
		return false;
	v = plain_value(&a, &q);
	return v && streq(v, "true");
}

static int fix_grub(struct vfk_fix *f, const char *const *add, const char *const *drop,
		    char *errbuf, size_t errsize)
{
	static const char *const none[] = { NULL };
	_cleanup_free_ char *text = NULL;
	struct assign a;
	const char *var;
	bool grub2 = fix_exists(f, "usr/sbin/grub2-mkconfig") || fix_exists(f, "usr/bin/grub2-mkconfig");
	int r;

	r = fix_text(f, "etc/default/grub", &text);
	if (r < 0)
		return r;
	/* the parameters go where the distribution keeps them; both lose @drop */
	var = find_assign(text, "GRUB_CMDLINE_LINUX_DEFAULT", &a) || !find_assign(text, "GRUB_CMDLINE_LINUX", &a)
	      ? "GRUB_CMDLINE_LINUX_DEFAULT" : "GRUB_CMDLINE_LINUX";
	r = grub_edit_var(f, &text, var, add, drop, true, errbuf, errsize);
	if (r == 0 && streq(var, "GRUB_CMDLINE_LINUX_DEFAULT"))
		r = grub_edit_var(f, &text, "GRUB_CMDLINE_LINUX", none, drop, false, errbuf, errsize);
	if (r == 0)
		r = fix_set(f, "etc/default/grub", text);
	f->loader = grub2 && grub_bls(text) ? "grub-bls" : "grub";
	if (r <= 0)
		return r;	/* an error, or nothing to change: nothing to run */
	if (grub2 && grub_bls(text)) {
		_cleanup_free_ char *args = words(add), *rm = words(drop);
		_cleanup_free_ char *a1 = strdupf("--args=%s", args ? args : "");
		_cleanup_free_ char *a2 = strdupf("--remove-args=%s", rm ? rm : "");

		_cleanup_free_ char *u1 = strdupf("--args=%s", rm ? rm : "");
		_cleanup_free_ char *u2 = strdupf("--remove-args=%s", args ? args : "");
		/* grubby edits the entries themselves: the revert is the opposite edit */
		const char *argv[] = { "grubby", "--update-kernel=ALL", a1, drop[0] ? a2 : NULL, NULL };
		const char *undo[] = { "grubby", "--update-kernel=ALL", u2, drop[0] ? u1 : NULL, NULL };

		if (!a1 || !a2 || !u1 || !u2)
			return neg_errno(ENOMEM);
		r = fix_command_argv(f, argv, undo);
		if (r < 0)
			return r;
	}
	if (grub2)
		return fix_command(f, "grub2-mkconfig", "-o", "/boot/grub2/grub.cfg", NULL);
	if (fix_exists(f, "usr/sbin/update-grub"))
		return fix_command(f, "update-grub", NULL);
	return fix_command(f, "grub-mkconfig", "-o", "/boot/grub/grub.cfg", NULL);
}

/* ------------------------------------------------------------ systemd-boot */

/* Every "options" line of a loader entry edited. */
static int fix_entry(struct vfk_fix *f, const char *path, const char *const *add,
		     const char *const *drop)
{
	_cleanup_free_ char *text = NULL;
	struct sbuf out = { 0 };
	const char *s;
	int r = fix_text(f, path, &text);

	if (r < 0)
		return r;
	for (s = text; *s;) {
		const char *eol = strchr(s, '\n');
		size_t len = eol ? (size_t)(eol - s) + 1 : strlen(s);

		if (len > 8 && !strncmp(s, "options", 7) && (s[7] == ' ' || s[7] == '\t')) {
			_cleanup_free_ char *old = strndup(s + 8, len - 8 - (eol ? 1 : 0));

			if (!old)
				return neg_errno(ENOMEM);
			sbuf_add(&out, "options ");
			edit_line(&out, old, drop, add, false);
			sbuf_add(&out, eol ? "\n" : "");
		} else {
			sbuf_addn(&out, s, len);
		}
		s += len;
	}
	r = fix_set(f, path, out.s ? out.s : "");
	sbuf_free(&out);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int sorted_entries(struct vfk_fix *f, const char *dir, struct strv *out)
{
	_cleanup_close_ int top = vfk_root_open_dir(f->ctx, VFK_ROOT_TOP, NULL);
	_cleanup_close_ int dfd = top >= 0 ? vfk_open_dir_in(f->ctx, top, dir) : -1;
	DIR *d;
	struct dirent *de;

	if (dfd < 0)
		return 0;
	d = fdopendir(dfd);
	if (!d)
		return neg_errno(errno);
	dfd = -1;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n > 5 && streq(de->d_name + n - 5, ".conf") && de->d_name[0] != '.')
			strv_addf(out, "%s/%s", dir, de->d_name);
	}
	closedir(d);
	qsort_safe(out->v, out->n, sizeof(*out->v), cmp_str);
	return 0;
}

static int fix_systemd_boot(struct vfk_fix *f, const char *running, const char *const *add,
			    const char *const *drop, struct strv *entries)
{
	_cleanup_free_ char *kcmd = NULL;
	struct sbuf b = { 0 };
	size_t i;
	int r;

	r = fix_text(f, "etc/kernel/cmdline", &kcmd);
	if (r < 0 && r != -ENOENT)
		return r;
	if (kcmd)
		kcmd[strcspn(kcmd, "\n")] = '\0';
	else if (!running)
		return neg_errno(ENODATA);	/* nothing to write it from: said by the caller */
	edit_line(&b, kcmd ? kcmd : running, drop, add, true);
	sbuf_add(&b, "\n");
	r = b.s ? fix_set(f, "etc/kernel/cmdline", b.s) : neg_errno(ENOMEM);
	sbuf_free(&b);
	for (i = 0; r >= 0 && i < entries->n; i++)
		r = fix_entry(f, entries->v[i], add, drop);
	f->loader = "systemd-boot";
	return r < 0 ? r : 0;
}

/* ------------------------------------------------------------ kernelstub */

static int fix_kernelstub(struct vfk_fix *f, const char *const *add, const char *const *drop,
			  char *errbuf, size_t errsize)
{
	static const char path[] = "etc/kernelstub/configuration";
	_cleanup_free_ char *text = NULL;
	json_object *root, *user, *opts, *edited;
	struct sbuf old = { 0 }, val = { 0 };
	const char *s, *w;
	size_t i, n;
	int r;

	r = fix_text(f, path, &text);
	if (r < 0)
		return r;
	root = json_tokener_parse(text);
	if (!root || !json_object_object_get_ex(root, "user", &user) ||
	    !json_object_object_get_ex(user, "kernel_options", &opts) ||
	    !json_object_is_type(opts, json_type_array)) {
		json_object_put(root);
		snprintf(errbuf, errsize, "/%s: no user.kernel_options list in it: nothing "
			 "changed; use kernelstub -a by hand", path);
		return neg_errno(EINVAL);
	}
	for (i = 0; i < json_object_array_length(opts); i++)
		sbuf_addf(&old, "%s%s", i ? " " : "",
			  json_object_get_string(json_object_array_get_idx(opts, i)));
	edit_line(&val, old.s ? old.s : "", drop, add, false);
	edited = json_object_new_array();
	for (s = val.s ? val.s : ""; edited && (w = check_cmdline_next_word(&s, &n));)
		json_object_array_add(edited, json_object_new_string_len(w, (int)n));
	json_object_object_add(user, "kernel_options", edited);
	sbuf_free(&old);
	sbuf_free(&val);
	{
		_cleanup_free_ char *out = strdupf("%s\n", json_object_to_json_string_ext(
			root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));

		json_object_put(root);
		r = out ? fix_set(f, path, out) : neg_errno(ENOMEM);
	}
	f->loader = "kernelstub";
	return r <= 0 ? r : fix_command(f, "kernelstub", NULL);
}

/* ------------------------------------------------------------ which */

int fix_cmdline(struct vfk_fix *f, const char *running, const char *const *add,
		const char *const *drop, char *errbuf, size_t errsize)
{
	struct strv entries = { 0 };
	size_t i;
	int r = 0;

	if (fix_exists(f, "etc/kernelstub/configuration"))
		return fix_kernelstub(f, add, drop, errbuf, errsize);
	if (fix_exists(f, "etc/default/grub"))
		return fix_grub(f, add, drop, errbuf, errsize);
	for (i = 0; entry_dirs[i] && r == 0; i++)
		r = sorted_entries(f, entry_dirs[i], &entries);
	if (r == 0 && (entries.n || fix_exists(f, "etc/kernel/cmdline"))) {
		r = fix_systemd_boot(f, running, add, drop, &entries);
		if (r == -ENODATA)
			snprintf(errbuf, errsize, "the running kernel's command line cannot be read, "
				 "and /etc/kernel/cmdline is written from it: nothing changed");
	}
	else if (r == 0) {
		snprintf(errbuf, errsize, "no boot loader vfio-check --fix knows: none of "
			 "/etc/kernelstub/configuration, /etc/default/grub, /etc/kernel/cmdline or "
			 "a loader entry (/boot/loader/entries/*.conf); nothing changed");
		r = neg_errno(ENOENT);
	}
	strv_free(&entries);
	return r;
}
