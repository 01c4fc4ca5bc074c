/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VFK_JOURNAL_H
#define VFK_JOURNAL_H
#include "core/internal.h"

#define JOURNAL_FILE "journal"
#define LOCK_FILE "lock"
#define VFIO_PCI_DRIVER "vfio-pci"

/* A zeroed struct is an empty journal. */
struct vfk_journal {
	size_t n, cap;
	struct vfk_journal_entry *e;
	/* open addressing by address: position in e[] + 1, 0 free; NULL until a
	 * lookup needs it, dropped when entries move (so finding is O(1)) */
	size_t *index;
	size_t index_size;	/* a power of two, at least twice n */
};

/*
 * Parse @len bytes of journal text strictly (format in journal.c) into @j,
 * which must be empty. On a refusal @j stays empty, @err gets one line
 * "line N: what" and the result is -EINVAL; -ENOMEM when memory ran out.
 */
int journal_parse(const char *text, size_t len, struct vfk_journal *j, char *err, size_t errsize);
/*
 * What a damaged text still says, for recovery: one entry per device named by
 * a line whose first token is a PCI address (the first such line wins), that
 * line's fields when they parse, else the address alone. Never refuses;
 * 0 or -ENOMEM. @j must be empty.
 */
int journal_salvage(const char *text, size_t len, struct vfk_journal *j);
/* Serialise, trailer and checksum included; returns malloc'ed text. */
char *journal_format(const struct vfk_journal *j);
int journal_save(struct vfk_ctx *ctx, const struct vfk_journal *j);
/*
 * The journal file whole: 0 with *@text malloc'ed (@len bytes, NULs
 * included), -ENOENT when there is none, else -errno with the reason in
 * ctx->error ("PATH: what"; a file that is no regular file is -EINVAL).
 */
int journal_read(struct vfk_ctx *ctx, char **text, size_t *len);
/* Rename the journal to a free "journal.damaged[.N]" (its name in @aside),
 * through the write hook. 0, 1 when the hook skipped it, or -errno. */
int journal_set_aside(struct vfk_ctx *ctx, char *aside, size_t size);
/* What vfk_journal_load() returning @r means, in words: the file and line
 * it set in the context's error, else strerror. */
const char *journal_why(struct vfk_ctx *ctx, int r);
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
