/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unified diffs of what a fix writes, as diff -u prints them (three lines
 * of context, hunks joined when their context meets), from the longest
 * common subsequence of lines. Config files are small; past a million line
 * pairs the whole file is one hunk.
 */
#include <stdio.h>

#include "fix/fix.h"

#define CONTEXT 3
#define MAX_CELLS (1024 * 1024)

struct lines {
	const char **v;		/* starts of lines, in the text */
	size_t *len;		/* with the newline */
	size_t n;
};

static int split(const char *text, struct lines *l)
{
	const char *s;
	size_t cap = 1;

	for (s = text ? text : ""; *s; s++)
		cap += *s == '\n';
	l->v = calloc(cap + 1, sizeof(*l->v));
	l->len = calloc(cap + 1, sizeof(*l->len));
	l->n = 0;
	if (!l->v || !l->len)
		return neg_errno(ENOMEM);
	for (s = text ? text : ""; *s;) {
		const char *eol = strchr(s, '\n');
		size_t n = eol ? (size_t)(eol - s) + 1 : strlen(s);

		l->v[l->n] = s;
		l->len[l->n++] = n;
		s += n;
	}
	return 0;
}

static bool same(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return a->len[i] == b->len[j] && !memcmp(a->v[i], b->v[j], a->len[i]);
}

/* ops[k]: ' ' both, '-' only old, '+' only new, in order; returns the count. */
static size_t script(const struct lines *a, const struct lines *b, char *ops)
{
	size_t i, j, k = 0, w = b->n + 1;
	unsigned int *t;

	if ((a->n + 1) * (b->n + 1) > MAX_CELLS || !(t = calloc((a->n + 1) * w, sizeof(*t)))) {
		memset(ops, '-', a->n);
		memset(ops + a->n, '+', b->n);
		return a->n + b->n;
	}
	for (i = a->n; i-- > 0;)
		for (j = b->n; j-- > 0;)
			t[i * w + j] = same(a, i, b, j) ? t[(i + 1) * w + j + 1] + 1
				       : t[(i + 1) * w + j] > t[i * w + j + 1] ? t[(i + 1) * w + j]
				       : t[i * w + j + 1];
	for (i = 0, j = 0; i < a->n || j < b->n;) {
		if (i < a->n && j < b->n && same(a, i, b, j)) {
			ops[k++] = ' ';
			i++, j++;
		} else if (i < a->n && (j == b->n || t[(i + 1) * w + j] >= t[i * w + j + 1])) {
			ops[k++] = '-';	/* removals first, as diff -u shows them */
			i++;
		} else {
			ops[k++] = '+';
			j++;
		}
	}
	free(t);
	return k;
}

static void line_out(struct sbuf *b, char op, const struct lines *l, size_t i)
{
	sbuf_addf(b, "%c%.*s", op, (int)l->len[i], l->v[i]);
	if (!l->len[i] || l->v[i][l->len[i] - 1] != '\n')
		sbuf_add(b, "\n\\ No newline at end of file\n");
}

/* The hunk of ops[from, to): its header, then its lines; @ai and @ci are
 * the old and new line numbers (0-based) at @from. */
static void hunk(struct sbuf *b, const char *ops, size_t from, size_t to, const struct lines *a,
		 const struct lines *c, size_t ai, size_t ci)
{
	size_t k, na = 0, nc = 0;

	for (k = from; k < to; k++) {
		na += ops[k] != '+';
		nc += ops[k] != '-';
	}
	sbuf_addf(b, "@@ -%zu,%zu +%zu,%zu @@\n", na ? ai + 1 : ai, na, nc ? ci + 1 : ci, nc);
	for (k = from; k < to; k++) {
		if (ops[k] == '+') {
			line_out(b, '+', c, ci++);
			continue;
		}
		line_out(b, ops[k], a, ai++);
		ci += ops[k] == ' ';
	}
}

/* The first change at or after @k, or @n. */
static size_t next_change(const char *ops, size_t k, size_t n)
{
	while (k < n && ops[k] == ' ')
		k++;
	return k;
}

/* The end of the run of changes that starts at @k. */
static size_t change_end(const char *ops, size_t k, size_t n)
{
	while (k < n && ops[k] != ' ')
		k++;
	return k;
}

char *fix_diff(const char *path, const char *old, const char *new)
{
	struct lines a = { 0 }, c = { 0 };
	struct sbuf b = { 0 };
	size_t n, k, from, to, ai = 0, ci = 0, pos = 0;
	char *ops = NULL;

	if (split(old, &a) < 0 || split(new, &c) < 0 || !(ops = malloc(a.n + c.n + 1)))
		goto out;
	n = script(&a, &c, ops);
	sbuf_addf(&b, "--- %s\n+++ %s\n", old ? path : "/dev/null", path);
	for (k = next_change(ops, 0, n); k < n; k = next_change(ops, to, n)) {
		/* changes whose context would meet go in one hunk */
		from = k > CONTEXT ? k - CONTEXT : 0;
		if (from < pos)
			from = pos;
		to = change_end(ops, k, n);
		while (next_change(ops, to, n) < n && next_change(ops, to, n) - to <= 2 * CONTEXT)
			to = change_end(ops, next_change(ops, to, n), n);
		to = to + CONTEXT < n ? to + CONTEXT : n;
		for (; pos < from; pos++) {	/* line numbers up to the hunk */
			ai += ops[pos] != '+';
			ci += ops[pos] != '-';
		}
		hunk(&b, ops, from, to, &a, &c, ai, ci);
		for (; pos < to; pos++) {
			ai += ops[pos] != '+';
			ci += ops[pos] != '-';
		}
	}
out:
	free(ops);
	free(a.v);
	free(a.len);
	free(c.v);
	free(c.len);
	return sbuf_take(&b);
}
