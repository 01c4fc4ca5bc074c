/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A profile's INI text, split by inih into "key = value" for profile.c. The
 * line reader and the key handler refuse what inih would take but
 * vfiokit.ini(5) does not: indented lines, "key: value", text after a
 * [section], unknown sections without keys. The first problem of a file is
 * the one reported, with its line.
 */
#include <ctype.h>
#include <ini.h>
#include <stdio.h>

#include "plan/profile-internal.h"

#define MAX_LINE 200	/* inih's INI_MAX_LINE, newline included */

struct reader {
	const char *pos;
	const char *cur;	/* the line inih is on, as read */
	int line;
	int bad_line;		/* first line refused here (inih lets it through), 0: none */
	char *bad_why;		/* its message; NULL with bad_line set: out of memory */
};

static void reader_fail(struct reader *rd, char *why)
{
	if (rd->bad_line) {
		free(why);
		return;
	}
	rd->bad_line = rd->line;
	rd->bad_why = why;
}

/* @s without the UTF-8 byte order mark inih skips on the first line. */
static const char *skip_bom(const struct reader *rd, const char *s)
{
	return rd->line == 1 && startswith(s, "\xef\xbb\xbf") ? s + 3 : s;
}

/* "[name]", then nothing but blanks or a "; comment" after a blank. */
static void check_header(struct reader *rd, const char *s, const char *end)
{
	_cleanup_free_ char *name = NULL, *shown = NULL;
	const char *close = memchr(s, ']', (size_t)(end - s)), *rest, *id, *what;

	if (!close)
		return;		/* inih's syntax error */
	name = strndup(s + 1, (size_t)(close - s - 1));
	shown = name ? profile_printable(name) : NULL;
	if (!shown) {
		reader_fail(rd, NULL);
		return;
	}
	rest = close + 1;
	while (rest < end && (*rest == ' ' || *rest == '\t'))
		rest++;
	if (rest < end && !(*rest == ';' && rest > close + 1))
		reader_fail(rd, strdupf("syntax error: text after [%s]", shown));
	else if (profile_section_scope(name, &id, &what) == _S_MAX)
		reader_fail(rd, strdupf("unknown section [%s] %s", shown, what));
}

/*
 * What inih takes but vfiokit.ini(5) does not: indented lines (inih strips
 * the indentation, or appends the line to the value above), text after a
 * [section] header, and unknown sections (inih reports nothing for a section
 * without keys, and cuts long names).
 */
static void check_line(struct reader *rd, const char *s, size_t n)
{
	const char *end = s + n;

	s = skip_bom(rd, s);
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	if (s == end)
		return;		/* a blank line */
	if (isspace((unsigned char)*s))
		reader_fail(rd, strdup("indented line: keys, [section] headers and comments "
				       "start in the first column"));
	else if (*s == '[')
		check_header(rd, s, end);
}

/* One line per call, as fgets() does; the line counter is inih's. */
static char *read_line(char *str, int num, void *stream)
{
	struct reader *rd = stream;
	size_t len = 0, n;
	const char *nl;

	if (!*rd->pos)
		return NULL;
	rd->cur = rd->pos;
	rd->line++;
	nl = strchr(rd->pos, '\n');
	n = nl ? (size_t)(nl - rd->pos) + 1 : strlen(rd->pos);
	if (n > (size_t)num - 1) {
		reader_fail(rd, strdupf("line longer than %d characters", MAX_LINE - 2));
		len = 0;	/* hand inih an empty line; the error is reported below */
	} else {
		len = n;
		memcpy(str, rd->pos, len);
		check_line(rd, rd->pos, n);
	}
	str[len] = '\0';
	rd->pos += n;
	return str;
}

struct parse_state {
	struct vfk_profile *p;
	struct reader rd;
	char *err;		/* first error, "[sec] key: what" */
	int err_line;
	int oom;
};

/*
 * inih hands an indented line to the handler as the value of the key above:
 * @value is then all of the line @raw (which runs on into the next lines).
 */
static bool is_continuation(const char *raw, const char *value)
{
	size_t n = strlen(value);

	while (*raw == ' ' || *raw == '\t' || *raw == '\v' || *raw == '\f' || *raw == '\r')
		raw++;
	if (strncmp(raw, value, n))
		return false;
	for (raw += n; *raw && *raw != '\n'; raw++)
		if (!isspace((unsigned char)*raw))
			return false;
	return true;
}

/*
 * The line of a key as the handler sees it: 0 when fine, else -EINVAL with
 * *@why the problem, or -ENOMEM. inih also takes "key: value" and an
 * indented key; we do not.
 */
static int check_key_line(struct parse_state *st, const char *section, const char *name,
			  const char *value, char **why)
{
	_cleanup_free_ char *psec = profile_printable(section), *pname = profile_printable(name);
	const char *raw = skip_bom(&st->rd, st->rd.cur), *sep;

	*why = NULL;
	if (!psec || !pname)
		return neg_errno(ENOMEM);
	if (isspace((unsigned char)*raw) && is_continuation(raw, value))
		*why = strdupf("[%s] %s: indented line continues the value of '%s'; "
			       "continuation lines are not supported", psec, pname, pname);
	else if (isspace((unsigned char)*raw))
		*why = strdupf("[%s] %s: indented line: keys start in the first column", psec,
			       pname);
	else if (!*name)
		*why = strdup("syntax error: no key before '='");
	else {
		for (sep = raw + strlen(name); *sep == ' ' || *sep == '\t'; sep++)
			;
		if (*sep == '=')
			return 0;
		*why = strdupf("[%s] %s: expected '%s = value' (':' is no separator)", psec,
			       pname, pname);
	}
	return neg_errno(*why ? EINVAL : ENOMEM);
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	char *why = NULL;
	int r;

	if (st->err || st->oom || (st->rd.bad_line && st->rd.bad_line < st->rd.line))
		return 1;
	r = check_key_line(st, section, name, value, &why);
	if (r == 0)
		r = profile_apply(st->p, section, name, value, st->rd.line, &why);
	if (r == -ENOMEM) {
		st->oom = 1;
		free(why);
		return 0;
	}
	if (r < 0) {
		st->err = why;
		st->err_line = st->rd.line;
		return 0;
	}
	return 1;
}

/* The first problem of a parse; on one line the handler's, which names the key. */
static void parse_error(const struct parse_state *st, int r, const char *file, char *errbuf,
			size_t errsize)
{
	const char *msg = st->err;
	int line = st->err_line;

	if (st->rd.bad_line && (!msg || st->rd.bad_line < line)) {
		msg = st->rd.bad_why;
		line = st->rd.bad_line;
	}
	if (r > 0 && (!msg || r < line)) {
		msg = "syntax error: expected [section], key = value, or a comment";
		line = r;
	}
	profile_set_err(errbuf, errsize, file, line, msg);
}

int profile_read_ini(struct vfk_profile *p, const char *text, const char *file, char *errbuf,
		     size_t errsize)
{
	struct parse_state st = { .p = p };
	int r;

	st.rd.pos = text;
	r = ini_parse_stream(read_line, &st.rd, on_key, &st);
	if (st.oom || r == -2 || (st.rd.bad_line && !st.rd.bad_why)) {
		r = neg_errno(ENOMEM);
	} else if (st.err || st.rd.bad_line || r > 0) {
		parse_error(&st, r, file, errbuf, errsize);
		r = neg_errno(EINVAL);
	} else {
		r = 0;
	}
	free(st.err);
	free(st.rd.bad_why);
	return r;
}
