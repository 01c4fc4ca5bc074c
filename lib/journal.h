/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VFK_JOURNAL_H
#define VFK_JOURNAL_H
#include "internal.h"

#define JOURNAL_FILE "journal"
#define LOCK_FILE "lock"

/* A zeroed struct is an empty journal. */
struct vfk_journal {
	size_t n, cap;
	struct vfk_journal_entry *e;
	/* open addressing by address: position in e[] + 1, 0 free; NULL until a
	 * lookup needs it, dropped when entries move (so finding is O(1)) */
	size_t *index;
	size_t index_size;	/* a power of two, at least twice n */
};

/* Parse journal text; malformed lines are -EINVAL with the line number in *@bad_line. */
int journal_parse(const char *text, struct vfk_journal *j, unsigned int *bad_line);
/* Serialise; returns malloc'ed text. */
char *journal_format(const struct vfk_journal *j);
int journal_save(struct vfk_ctx *ctx, const struct vfk_journal *j);
/* The entry of the canonical @address, or NULL; O(1). */
struct vfk_journal_entry *journal_find(struct vfk_journal *j, const char *address);
int journal_add(struct vfk_journal *j, const struct vfk_journal_entry *e);
/* Remove one entry: O(n), so never in a loop over the journal; there use
 * journal_remove_marked(). */
void journal_remove(struct vfk_journal *j, const char *address);
/* Remove every entry i with @drop[i] set, the others keeping their order: O(n). */
void journal_remove_marked(struct vfk_journal *j, const bool *drop);
void journal_clear(struct vfk_journal *j);
/* Characters allowed in journal values: a driver, override or owner name. */
bool journal_value_ok(const char *s);

/* The lock serialising vfiokit invocations; waits up to @ms. Returns an fd
 * (close to release) or -EWOULDBLOCK with the holder's pid in *@holder. */
int vfk_lock_take(struct vfk_ctx *ctx, unsigned int ms, long *holder);
#endif
