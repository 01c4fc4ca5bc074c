/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The vfio-modules check: are vfio, vfio_pci and vfio_iommu_type1 loaded or
 * built in, and if not, are they on disk (asked of libkmod, or of depmod's
 * text indexes where a tree has no binary ones) and is anything on the
 * kernel command line keeping them from loading.
 */
#include <stdarg.h>
#include <stdio.h>

#include "core/kmod-dl.h"
#include "core/modtree.h"

#include "check/check.h"

static const char *const vfio_modules[] = { "vfio", "vfio_pci", "vfio_iommu_type1" };
#define N_VFIO_MODULES ARRAY_SIZE(vfio_modules)

enum mod_avail {
	MOD_MISSING = 0,
	MOD_FILE,	/* a .ko in the module tree */
	MOD_BUILTIN,	/* modules.builtin */
};

/* Text fallback when the binary indexes (depmod's *.bin) are missing, as
 * in a hand-made tree: modules.dep / modules.builtin list paths ending in
 * "/NAME.ko[.xz|.zst|.gz]" with '-' and '_' equivalent. */
static bool modfile_lists(struct probe *p, int mdirfd, const char *file, const char *name, bool dep)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0, nl = strlen(name);

	f = check_fopen_at(p->ctx, mdirfd, file);
	if (!f)
		return false;
	while (getline(&line, &cap, f) > 0) {
		char *end = dep ? strchr(line, ':') : line + strcspn(line, "\n");
		char *base, *dot;
		size_t i;

		if (!end)
			continue;
		*end = '\0';
		base = strrchr(line, '/');
		base = base ? base + 1 : line;
		dot = strstr(base, ".ko");
		if (!dot || (size_t)(dot - base) != nl)
			continue;
		for (i = 0; i < nl; i++) {
			char a = base[i] == '-' ? '_' : base[i];
			char b = name[i] == '-' ? '_' : name[i];
			if (a != b)
				break;
		}
		if (i == nl)
			return true;
	}
	return false;
}

/* libkmod on the tree at @rel (core/modtree.c). *@out is NULL when libkmod
 * cannot start: the text indexes answer then. 0 or -ENOMEM. */
static int kmod_open(struct probe *p, const struct kmod_api *km, const char *rel,
		     struct kmod_ctx **out)
{
	*out = NULL;
	if (!km)
		return 0;
	*out = modtree_kmod_new(p->ctx, km, rel);
	if (!*out && errno == ENOMEM) {
		probe_oom(p);
		return -ENOMEM;
	}
	return 0;
}

/* What libkmod knows of @name: MOD_MISSING when it knows nothing. */
static enum mod_avail kmod_avail(const struct kmod_api *km, struct kmod_ctx *kctx,
				 const char *name)
{
	struct kmod_list *list = NULL, *it;
	bool file = false;

	if (!kctx || km->kmod_module_new_from_lookup(kctx, name, &list) < 0 || !list)
		return MOD_MISSING;
	KMOD_FOREACH(km, it, list) {
		struct kmod_module *mod = km->kmod_module_get_module(it);
		if (km->kmod_module_get_path(mod))
			file = true;
		km->kmod_module_unref(mod);
	}
	km->kmod_module_unref_list(list);
	return file ? MOD_FILE : MOD_BUILTIN;
}

static enum mod_avail text_index_avail(struct probe *p, int mdirfd, const char *name)
{
	if (modfile_lists(p, mdirfd, "modules.dep", name, true))
		return MOD_FILE;
	if (modfile_lists(p, mdirfd, "modules.builtin", name, false))
		return MOD_BUILTIN;
	return MOD_MISSING;
}

static void modules_available(struct probe *p, enum mod_avail *avail,
			      char *release, size_t rsize, bool *have_tree)
{
	_cleanup_close_ int mdirfd = -1;
	const struct kmod_api *km = kmod_api(NULL, 0);	/* NULL: the text indexes answer */
	struct kmod_ctx *kctx = NULL;
	char rel[300];
	size_t i;

	*have_tree = false;
	if (modtree_release(p->ctx, release, rsize) < 0)
		return;
	mdirfd = modtree_open(p->ctx, release, rel, sizeof(rel));
	if (mdirfd < 0)
		return;
	*have_tree = true;
	if (kmod_open(p, km, rel, &kctx) < 0)
		return;
	for (i = 0; i < N_VFIO_MODULES; i++) {
		avail[i] = kmod_avail(km, kctx, vfio_modules[i]);
		if (avail[i] != MOD_MISSING) {
			dbg(p->ctx, "libkmod: %s %s", vfio_modules[i],
			    avail[i] == MOD_FILE ? "module file" : "built-in");
			continue;
		}
		avail[i] = text_index_avail(p, mdirfd, vfio_modules[i]);
		dbg(p->ctx, "text indexes: %s avail=%d", vfio_modules[i], avail[i]);
	}
	if (kctx)
		km->kmod_unref(kctx);
}

/* Does the kernel command line keep @name from loading? Returns the word. */
static const char *module_blocked(const struct probe *p, const char *name)
{
	static const char *const keys[] = { "module_blacklist", "modprobe.blacklist" };
	char buf[512];
	size_t i;

	if (check_cmdline_has_flag(p, "nomodule"))
		return "nomodule";
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *v = check_cmdline_get(p, keys[i], buf, sizeof(buf));
		if (v && check_list_has(v, name))
			return keys[i];
	}
	return NULL;
}

/* What the vfio modules lack, gathered module by module. */
struct mod_findings {
	char missing[64];	/* " NAME" for each neither loaded nor on disk */
	char unloaded[64];	/* " NAME" for each on disk but not loaded */
	const char *blocked;	/* the command-line word that keeps one from loading */
	struct sbuf det;
};

static void append_name(char *list, size_t size, const char *name)
{
	snprintf(list + strlen(list), size - strlen(list), " %s", name);
}

static void judge_module(struct probe *p, struct mod_findings *m, int sysfd, const char *name,
			 enum mod_avail avail, bool first)
{
	char rel[128];
	bool loaded, builtin;

	loaded = sysfd >= 0 && check_module_present(sysfd, name);
	snprintf(rel, sizeof(rel), VFK_SYS_MODULE "/%s/initstate", name);
	/* a built-in module has a sysfs directory but no initstate */
	builtin = (loaded && !vfk_exists_at(sysfd, rel)) || avail == MOD_BUILTIN;
	if (builtin)
		loaded = true;
	if (!loaded && avail == MOD_MISSING)
		append_name(m->missing, sizeof(m->missing), name);
	else if (!loaded)
		append_name(m->unloaded, sizeof(m->unloaded), name);
	if (!loaded && !m->blocked)
		m->blocked = module_blocked(p, name);
	sbuf_addf(&m->det, "%s%s %s", first ? "" : ", ", name,
		  builtin ? "built-in" : loaded ? "loaded" :
		  avail == MOD_FILE ? "available (not loaded)" : "missing");
}

static void fix_install_modules(struct sbuf *fix, const char *release)
{
	sbuf_addf(fix, "install the modules of the running kernel%s%s, or boot a kernel built with CONFIG_VFIO, CONFIG_VFIO_PCI and CONFIG_VFIO_IOMMU_TYPE1:\n",
		  release[0] ? " " : "", release);
	if (release[0] && strstr(release, "-generic"))
		sbuf_addf(fix, "  Ubuntu: apt install linux-modules-%s\n", release);
	else
		sbuf_addf(fix, "  Debian/Ubuntu: apt install linux-image-%s\n",
			  release[0] ? release : "$(uname -r)");
	sbuf_addf(fix, "  Fedora/RHEL: dnf install kernel-modules-core-$(uname -r)\n");
}

static void fix_blocked(struct probe *p, struct mod_findings *m, struct sbuf *fix, int topfd)
{
	const char *const add[] = { NULL };
	const char *const drop[] = { "nomodule", NULL };

	sbuf_addf(&m->det, "; '%s' on the kernel command line keeps modules from loading", m->blocked);
	if (streq(m->blocked, "nomodule"))
		check_fix_cmdline_edit(p, fix, topfd, add, drop);
	else
		sbuf_addf(fix, "remove the vfio modules from %s= on the kernel command line (GRUB and systemd-boot edits: see cmdline)\nreboot", m->blocked);
	sbuf_addf(fix, "\n");
}

void check_vfio_modules(struct probe *p, struct check_impl *c, int procfd, int sysfd, int topfd)
{
	struct mod_findings m = { 0 };
	struct sbuf fix = { 0 };
	enum mod_avail avail[N_VFIO_MODULES] = { MOD_MISSING };
	char release[128] = "";
	bool have_tree;
	size_t i;

	modules_available(p, avail, release, sizeof(release), &have_tree);
	for (i = 0; i < N_VFIO_MODULES; i++)
		judge_module(p, &m, sysfd, vfio_modules[i], avail[i], i == 0);
	if (!m.missing[0] && !m.unloaded[0]) {
		check_set_result(c, VFK_CHECK_PASS, check_sbuf_take(p, &m.det), NULL);
		return;
	}
	if (m.missing[0]) {
		if (!have_tree)
			sbuf_addf(&m.det, "; no module tree for %s", release[0] ? release : "this kernel");
		fix_install_modules(&fix, release);
	}
	if (m.blocked)
		fix_blocked(p, &m, &fix, topfd);
	sbuf_addf(&fix, "load now: modprobe -a%s%s\n", m.missing, m.unloaded);
	sbuf_addf(&fix, "load at every boot: printf 'vfio\\nvfio_iommu_type1\\nvfio_pci\\n' > /etc/modules-load.d/vfio.conf");
	check_set_result(c, m.missing[0] || m.blocked ? VFK_CHECK_FAIL : VFK_CHECK_WARN,
			 check_sbuf_take(p, &m.det), check_sbuf_take(p, &fix));
}
