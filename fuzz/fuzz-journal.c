/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The binding journal (<sysroot>/run/vfiokit/journal): restore builds
 * drivers/NAME/bind paths from it, so a parsed entry must hold a canonical
 * address and values from the conservative charset, never "." or "..".
 * Whatever parses must format and parse back to the same entries.
 */
#include "fuzz.h"
#include "journal.h"

static void check_entry(const struct vfk_journal_entry *e)
{
	struct vfk_pci_addr a;
	char norm[16];

	FUZZ_ASSERT(vfk_pci_addr_parse(e->address, &a) == 0);
	FUZZ_ASSERT(!strcmp(vfk_pci_addr_format(&a, norm, sizeof(norm)), e->address));
	FUZZ_ASSERT(journal_value_ok(e->driver) && journal_value_ok(e->override) &&
		    journal_value_ok(e->owner));
	FUZZ_ASSERT(strcmp(e->driver, ".") && strcmp(e->driver, ".."));
	FUZZ_ASSERT(strcmp(e->override, ".") && strcmp(e->override, ".."));
	FUZZ_ASSERT(!strchr(e->driver, '/') && !strchr(e->override, '/'));
	FUZZ_ASSERT(e->state == 0 || e->state == 1);
	FUZZ_ASSERT(e->since >= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strdup(data, size), *again;
	struct vfk_journal j = { 0 }, k = { 0 };
	unsigned int bad = 0;
	size_t i;

	if (journal_parse(text, &j, &bad) == 0) {
		for (i = 0; i < j.n; i++) {
			check_entry(&j.e[i]);
			/* one entry per device */
			FUZZ_ASSERT(journal_find(&j, j.e[i].address) == &j.e[i]);
		}
		again = journal_format(&j);
		FUZZ_ASSERT(again);
		FUZZ_ASSERT(journal_parse(again, &k, &bad) == 0);
		FUZZ_ASSERT(k.n == j.n);
		for (i = 0; i < j.n; i++) {
			const struct vfk_journal_entry *x = &j.e[i], *y = &k.e[i];
			FUZZ_ASSERT(!strcmp(x->address, y->address) && !strcmp(x->driver, y->driver) &&
				    !strcmp(x->override, y->override) && !strcmp(x->owner, y->owner) &&
				    x->since == y->since && x->state == y->state);
		}
		/* removing every entry leaves an empty journal */
		while (j.n)
			journal_remove(&j, j.e[0].address);
		free(again);
	} else {
		FUZZ_ASSERT(bad >= 1);
	}
	journal_clear(&j);
	journal_clear(&k);
	free(text);
	return 0;
}
