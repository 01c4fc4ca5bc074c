/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel command line as the checks read it: split into words the way
 * the kernel splits it, and asked for parameters and their values.
 */
#include <ctype.h>

#include "check/check.h"

void check_read_cmdline(struct probe *p, int procfd)
{
	char *s, *dd;

	s = check_read_text_at(p->ctx, procfd, "cmdline", 65536);
	if (!s)
		return;
	s[strcspn(s, "\n")] = '\0';
	/* everything after a lone "--" belongs to init */
	if (streq(s, "--") || startswith(s, "-- "))
		s[0] = '\0';
	dd = strstr(s, " -- ");
	if (dd)
		*dd = '\0';
	else if (strlen(s) >= 3 && streq(s + strlen(s) - 3, " --"))
		s[strlen(s) - 3] = '\0';
	p->cmdline = s;
}

/* Double quotes keep spaces inside a word, as the kernel's own parser does. */
const char *check_cmdline_next_word(const char **s, size_t *len)
{
	const char *w, *e;
	bool quoted = false;

	while (isspace((unsigned char)**s))
		(*s)++;
	if (!**s)
		return NULL;
	w = *s;
	for (e = w; *e && (quoted || !isspace((unsigned char)*e)); e++)
		if (*e == '"')
			quoted = !quoted;
	*s = e;
	*len = (size_t)(e - w);
	return w;
}

/* Does the kernel command line hold parameter @key (a "key=value" word's
 * key, or a bare flag)? Returns its value ("" for a flag) or NULL. The last
 * occurrence wins, as in the kernel. */
const char *check_cmdline_get(const struct probe *p, const char *key, char *buf, size_t size)
{
	const char *s = p->cmdline, *found = NULL, *w;
	size_t klen = strlen(key), n;

	if (!s)
		return NULL;
	while ((w = check_cmdline_next_word(&s, &n))) {
		size_t vlen;
		const char *v;

		if (n < klen || strncmp(w, key, klen) != 0 || (n != klen && w[klen] != '='))
			continue;
		vlen = n == klen ? 0 : n - klen - 1;
		v = w + klen + (n == klen ? 0 : 1);
		if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
			v++;
			vlen -= 2;
		}
		if (vlen >= size)
			vlen = size - 1;
		memcpy(buf, v, vlen);
		buf[vlen] = '\0';
		found = buf;
	}
	return found;
}

/* Is @word one of the comma-separated items of @list? */
bool check_list_has(const char *list, const char *word)
{
	size_t wl = strlen(word);

	while (list && *list) {
		size_t n = strcspn(list, ",");
		if (n == wl && strncmp(list, word, wl) == 0)
			return true;
		list += n;
		if (*list == ',')
			list++;
	}
	return false;
}

bool check_cmdline_has_value(const struct probe *p, const char *key, const char *value)
{
	char buf[256];
	const char *v = check_cmdline_get(p, key, buf, sizeof(buf));

	return v && check_list_has(v, value);
}

bool check_cmdline_has_flag(const struct probe *p, const char *key)
{
	char buf[8];

	return check_cmdline_get(p, key, buf, sizeof(buf)) != NULL;
}

/* Is "key=value" (or a bare flag) on the command line, value as one item? */
bool check_cmdline_has_word(const struct probe *p, const char *word)
{
	const char *eq = strchr(word, '=');
	char key[64];

	if (!eq)
		return check_cmdline_has_flag(p, word);
	if ((size_t)(eq - word) >= sizeof(key))
		return false;
	memcpy(key, word, (size_t)(eq - word));
	key[eq - word] = '\0';
	return check_cmdline_has_value(p, key, eq + 1);
}
