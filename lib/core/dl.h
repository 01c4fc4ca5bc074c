/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Libraries loaded when first needed (dl.c): a command that never talks to
 * libvirt or loads a module should not pay for mapping and relocating those
 * libraries and everything they pull in at every start. Their C APIs are
 * called through a table of pointers declared with the real prototypes.
 */
#ifndef VFK_DL_H
#define VFK_DL_H

#include <stdbool.h>
#include <stddef.h>

/* A pointer of @name's own type, for a table of a library's functions. */
#define DL_FN(name) __typeof__(name) *name

/* One symbol and where its address goes in the table. */
struct dl_symbol {
	const char *name;
	size_t offset;
};
#define DL_SYM(type, name) { #name, offsetof(type, name) }

/*
 * dlopen(@soname) and fill @table from @syms; 0, or -ELIBACC with one line
 * in @err naming the library (and @package, the Debian package that has it)
 * or the missing symbol. The library stays loaded for the process.
 */
int dl_load_table(const char *soname, const char *package, const struct dl_symbol *syms,
		  size_t nsyms, void *table, char *err, size_t errsize);

/* A library loaded on first use, once per process (dl_lazy_get()). */
struct dl_lazy {
	const char *soname, *package;
	const struct dl_symbol *syms;
	size_t nsyms;
	void *table;
	bool tried, loaded;
	char error[512];
};

/* @l's table once loaded (thread-safe); NULL with the reason in @err. */
const void *dl_lazy_get(struct dl_lazy *l, char *err, size_t errsize);

#endif
