/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The binding journal (<sysroot>/run/vfiokit/journal): restore builds
 * drivers/NAME/bind paths from it, so a parsed entry must hold a canonical
 * address and values from the conservative charset, never "." or "..".
 * Whatever parses must format and parse back to the same entries, and the
 * formatted text must be refused when torn (any strict prefix) or when any
 * one byte of it changes: that is what its trailer and checksum are for.
 * Salvage (restore --from-scan) takes any bytes and names only canonical
 * addresses, each once, every one a parse would have found among them.
 */
#include "fuzz.h"
#include "bind/journal.h"

static void check_entry(const struct vfk_journal_entry *e)
{
	struct vfk_pci_addr a;
	char norm[16];

	FUZZ_ASSERT(vfk_pci_addr_parse(e->address, &a) == 0);
	FUZZ_ASSERT(!strcmp(vfk_pci_addr_format(&a, norm, sizeof(norm)), e->address));
	FUZZ_ASSERT(journal_value_ok(e->driver) && journal_value_ok(e->override) &&
		    journal_value_ok(e->owner) && journal_value_ok(e->vfio_driver) &&
		    journal_value_ok(e->left));
	FUZZ_ASSERT(strcmp(e->vfio_driver, ".") && strcmp(e->vfio_driver, ".."));
	FUZZ_ASSERT(strcmp(e->driver, ".") && strcmp(e->driver, ".."));
	FUZZ_ASSERT(strcmp(e->override, ".") && strcmp(e->override, ".."));
	FUZZ_ASSERT(!strchr(e->driver, '/') && !strchr(e->override, '/'));
	FUZZ_ASSERT(e->state == 0 || e->state == 1);
	FUZZ_ASSERT(e->since >= 0);
}

static bool refused(const char *text, size_t len)
{
	struct vfk_journal j = { 0 };
	char err[400];
	int r = journal_parse(text, len, &j, err, sizeof(err));

	FUZZ_ASSERT(r == 0 || (j.n == 0 && !strncmp(err, "line ", 5)));
	journal_clear(&j);
	return r < 0;
}

/* What vfiokit wrote, torn at one point or with one byte changed, both
 * chosen by the input: never accepted. */
static void check_damage_is_caught(const char *again, const uint8_t *data, size_t size)
{
	size_t len = strlen(again), pos;
	char *copy;

	FUZZ_ASSERT(refused(again, size % len));
	copy = malloc(len);
	FUZZ_ASSERT(copy);
	memcpy(copy, again, len);
	pos = (size * 31 + (size ? data[0] : 0)) % len;
	copy[pos] ^= (char)(size ? data[size - 1] | 1 : 1);
	FUZZ_ASSERT(refused(copy, len));
	free(copy);
}

static void check_round_trip(struct vfk_journal *j, const uint8_t *data, size_t size)
{
	struct vfk_journal k = { 0 };
	char err[400], *again = journal_format(j);
	size_t i;

	FUZZ_ASSERT(again);
	FUZZ_ASSERT(journal_parse(again, strlen(again), &k, err, sizeof(err)) == 0);
	FUZZ_ASSERT(k.n == j->n);
	for (i = 0; i < j->n; i++) {
		const struct vfk_journal_entry *x = &j->e[i], *y = &k.e[i];
		FUZZ_ASSERT(!strcmp(x->address, y->address) && !strcmp(x->driver, y->driver) &&
			    !strcmp(x->override, y->override) && !strcmp(x->owner, y->owner) &&
			    x->since == y->since && x->state == y->state &&
			    !strcmp(x->vfio_driver, y->vfio_driver) && !strcmp(x->left, y->left));
	}
	check_damage_is_caught(again, data, size);
	journal_clear(&k);
	free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct vfk_journal j = { 0 }, s = { 0 };
	char err[400];
	size_t i;

	FUZZ_ASSERT(journal_salvage(text, size, &s) == 0);
	for (i = 0; i < s.n; i++) {
		check_entry(&s.e[i]);
		FUZZ_ASSERT(journal_find(&s, s.e[i].address) == &s.e[i]);
	}
	if (journal_parse(text, size, &j, err, sizeof(err)) == 0) {
		for (i = 0; i < j.n; i++) {
			check_entry(&j.e[i]);
			/* no vfio= (or an empty one) reads as vfio-pci */
			FUZZ_ASSERT(j.e[i].vfio_driver[0]);
			/* one entry per device, and salvage finds each */
			FUZZ_ASSERT(journal_find(&j, j.e[i].address) == &j.e[i]);
			FUZZ_ASSERT(journal_find(&s, j.e[i].address));
		}
		check_round_trip(&j, data, size);
		/* removing every entry leaves an empty journal */
		while (j.n)
			journal_remove(&j, j.e[0].address);
	} else {
		FUZZ_ASSERT(j.n == 0 && !strncmp(err, "line ", 5));
	}
	journal_clear(&j);
	journal_clear(&s);
	return 0;
}
