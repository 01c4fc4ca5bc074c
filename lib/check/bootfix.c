/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How to change the kernel command line: the exact GRUB and systemd-boot
 * edits, written from the files the host has now, so a fix can be pasted.
 */
#include <ctype.h>

#include "check/check.h"

/* Is @word (a "key=value" or flag) to be dropped from a command line? */
static bool word_conflicts(const char *w, size_t n, const char *const *drop)
{
	size_t i;

	for (i = 0; drop[i]; i++)
		if (strlen(drop[i]) == n && strncmp(w, drop[i], n) == 0)
			return true;
	return false;
}

/* Loaders add these themselves: written into their config they would repeat. */
static bool is_boot_word(const char *w, size_t n)
{
	return (n > 11 && strncmp(w, "BOOT_IMAGE=", 11) == 0) ||
	       (n > 7 && strncmp(w, "initrd=", 7) == 0);
}

void check_cmdline_edit(struct sbuf *b, const char *old, const char *const *drop,
			const char *const *add, bool skip_boot_words)
{
	const char *s = old ? old : "", *w;
	bool first = true;
	size_t i, n;

	while ((w = check_cmdline_next_word(&s, &n))) {
		if (word_conflicts(w, n, drop) || word_conflicts(w, n, add))
			continue;
		if (skip_boot_words && is_boot_word(w, n))
			continue;
		sbuf_addf(b, "%s%.*s", first ? "" : " ", (int)n, w);
		first = false;
	}
	for (i = 0; add[i]; i++) {
		sbuf_addf(b, "%s%s", first ? "" : " ", add[i]);
		first = false;
	}
}

/* Current value of GRUB_CMDLINE_LINUX_DEFAULT in <sysroot>/etc/default/grub:
 * malloc'ed, NULL when the file or the variable is absent. */
static char *grub_current(struct probe *p, int topfd)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	char *val = NULL;

	if (topfd < 0)
		return NULL;
	f = check_fopen_at(p->ctx, topfd, "etc/default/grub");
	if (!f)
		return NULL;
	while (getline(&line, &cap, f) > 0) {
		char *s = line, *v;
		size_t n;

		while (isspace((unsigned char)*s))
			s++;
		if (!startswith(s, "GRUB_CMDLINE_LINUX_DEFAULT="))
			continue;
		v = s + strlen("GRUB_CMDLINE_LINUX_DEFAULT=");
		v[strcspn(v, "\n")] = '\0';
		n = strlen(v);
		if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
			v[n - 1] = '\0';
			v++;
		}
		free(val);
		val = strdup(v);
	}
	return val;
}

/* The first line: which parameters go in and which come out. */
static void fix_param_summary(struct probe *p, struct sbuf *fix, const char *const *add,
			      const char *const *drop)
{
	bool any = false, shown = false;
	size_t i;

	if (add[0]) {
		sbuf_addf(fix, "kernel parameters to add:");
		for (i = 0; add[i]; i++)
			sbuf_addf(fix, " %s", add[i]);
	}
	/* name the parameters to remove that are really there (all when none is) */
	for (i = 0; drop[i]; i++)
		any |= check_cmdline_has_word(p, drop[i]);
	for (i = 0; drop[i]; i++) {
		if (any && !check_cmdline_has_word(p, drop[i]))
			continue;
		sbuf_addf(fix, "%s%s", shown ? " " : add[0] ? "; to remove: " : "kernel parameters to remove: ",
			  drop[i]);
		shown = true;
	}
	sbuf_addf(fix, "\n");
}

static void fix_grub(struct probe *p, struct sbuf *fix, int topfd, const char *const *add,
		     const char *const *drop)
{
	_cleanup_free_ char *grub = grub_current(p, topfd);
	size_t i;

	if (grub) {
		/* the exact new line, from the file's current value */
		sbuf_addf(fix, "GRUB: in /etc/default/grub set\n  GRUB_CMDLINE_LINUX_DEFAULT=\"");
		check_cmdline_edit(fix, grub, drop, add, false);
		sbuf_addf(fix, "\"\n");
		if (drop[0])
			sbuf_addf(fix, "  (and remove the same from GRUB_CMDLINE_LINUX if it is there)\n");
	} else {
		sbuf_addf(fix, "GRUB: in /etc/default/grub");
		if (add[0]) {
			sbuf_addf(fix, " append '");
			for (i = 0; add[i]; i++)
				sbuf_addf(fix, "%s%s", i ? " " : "", add[i]);
			sbuf_addf(fix, "' inside the quotes of GRUB_CMDLINE_LINUX_DEFAULT=\"...\"");
		}
		if (drop[0]) {
			sbuf_addf(fix, "%s remove ", add[0] ? ", and" : "");
			for (i = 0; drop[i]; i++)
				sbuf_addf(fix, "%s%s", i ? " / " : "", drop[i]);
			sbuf_addf(fix, " from GRUB_CMDLINE_LINUX_DEFAULT and GRUB_CMDLINE_LINUX");
		}
		sbuf_addf(fix, "\n");
	}
	sbuf_addf(fix, "  then run: update-grub   (Fedora/RHEL/openSUSE: grub2-mkconfig -o /boot/grub2/grub.cfg)\n");
}

/* From /etc/kernel/cmdline when there is one, else from the running line. */
static void fix_systemd_boot(struct probe *p, struct sbuf *fix, int topfd, const char *const *add,
			     const char *const *drop)
{
	_cleanup_free_ char *kcmd = NULL;

	if (topfd >= 0)
		kcmd = check_read_text_at(p->ctx, topfd, "etc/kernel/cmdline", 8192);
	if (kcmd)
		kcmd[strcspn(kcmd, "\n")] = '\0';
	sbuf_addf(fix, "systemd-boot: write /etc/kernel/cmdline as\n  ");
	check_cmdline_edit(fix, kcmd ? kcmd : p->cmdline, drop, add, true);
	sbuf_addf(fix, "\n  then run: kernel-install add \"$(uname -r)\" \"/usr/lib/modules/$(uname -r)/vmlinuz\"\n");
	sbuf_addf(fix, "  (or make the same change on the 'options' line of the boot entry in <ESP>/loader/entries/*.conf; 'bootctl list' shows which file)\n");
}

void check_fix_cmdline_edit(struct probe *p, struct sbuf *fix, int topfd, const char *const *add,
			    const char *const *drop)
{
	fix_param_summary(p, fix, add, drop);
	fix_grub(p, fix, topfd, add, drop);
	fix_systemd_boot(p, fix, topfd, add, drop);
	sbuf_addf(fix, "reboot");
}
