/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host-preparation object: the set of files a fix writes (each with
 * what it holds now and what it will hold) and the commands to run after
 * them, built from the checks' findings for this host's boot loader and
 * initramfs tool. Nothing here writes: vfio-check --fix --dry-run shows the
 * set as unified diffs.
 */
#include <stdarg.h>
#include <stdio.h>

#include "check/check.h"
#include "fix/fix.h"

#define FIX_MAX_FILE (256 * 1024)	/* config files, not images */

bool fix_exists(struct vfk_fix *f, const char *path)
{
	_cleanup_close_ int top = vfk_root_open_dir(f->ctx, VFK_ROOT_TOP, NULL);

	return top >= 0 && vfk_exists_at(top, path);
}

static struct fix_file *find(struct vfk_fix *f, const char *path)
{
	size_t i;

	for (i = 0; i < f->nfiles; i++)
		if (streq(f->files[i].path, path))
			return &f->files[i];
	return NULL;
}

static int read_now(struct vfk_fix *f, const char *path, char **text)
{
	_cleanup_close_ int top = vfk_root_open_dir(f->ctx, VFK_ROOT_TOP, NULL);
	size_t len;
	int r;

	*text = NULL;
	if (top < 0)
		return top;
	r = vfk_read_file_in(f->ctx, top, path, FIX_MAX_FILE, text, &len);
	if (r == 0 && strlen(*text) != len) {	/* a NUL in a config file: not text */
		free(*text);
		*text = NULL;
		return neg_errno(EINVAL);
	}
	return r;
}

int fix_text(struct vfk_fix *f, const char *path, char **text)
{
	struct fix_file *ff = find(f, path);

	if (ff) {
		*text = strdup(ff->new);
		return *text ? 0 : neg_errno(ENOMEM);
	}
	return read_now(f, path, text);
}

int fix_set(struct vfk_fix *f, const char *path, const char *text)
{
	struct fix_file *ff = find(f, path);
	char *old = NULL, *copy;
	int r;

	if (ff) {
		if (!(copy = strdup(text)))
			return neg_errno(ENOMEM);
		free(ff->new);
		ff->new = copy;
		return 1;
	}
	r = read_now(f, path, &old);
	if (r < 0 && r != -ENOENT)
		return r;
	if (old && streq(old, text)) {
		free(old);
		return 0;
	}
	if (GROW_ARRAY(f->files, f->files_cap, f->nfiles + 1) < 0 ||
	    !(f->files[f->nfiles].path = strdup(path)) ||
	    !(f->files[f->nfiles].new = strdup(text))) {
		if (f->nfiles < f->files_cap)
			free(f->files[f->nfiles].path);
		free(old);
		return neg_errno(ENOMEM);
	}
	f->files[f->nfiles++].old = old;
	return 1;
}

char **fix_argv_dup(const char *const *argv)
{
	size_t n = 0, i;
	char **copy;

	while (argv[n])
		n++;
	copy = calloc(n + 1, sizeof(*copy));
	for (i = 0; copy && i < n; i++)
		if (!(copy[i] = strdup(argv[i]))) {
			while (i--)
				free(copy[i]);
			free(copy);
			return NULL;
		}
	return copy;
}

void fix_argv_free(char **argv)
{
	size_t i;

	for (i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

int fix_command_argv(struct vfk_fix *f, const char *const *argv, const char *const *undo)
{
	char **a, **u = NULL;

	if (GROW_ARRAY(f->cmds, f->cmds_cap, f->ncmds + 1) < 0 ||
	    GROW_ARRAY(f->undo, f->undo_cap, f->ncmds + 1) < 0)
		return neg_errno(ENOMEM);
	a = fix_argv_dup(argv);
	if (!a || (undo && !(u = fix_argv_dup(undo)))) {
		fix_argv_free(a);
		return neg_errno(ENOMEM);
	}
	f->undo[f->ncmds] = u;
	f->cmds[f->ncmds++] = a;
	return 0;
}

int fix_command(struct vfk_fix *f, const char *arg0, ...)
{
	const char *argv[16];
	size_t n = 0;
	va_list ap;

	va_start(ap, arg0);
	for (argv[n++] = arg0; n < ARRAY_SIZE(argv) - 1 && (argv[n] = va_arg(ap, const char *));)
		n++;
	va_end(ap);
	argv[n] = NULL;
	/* a command that makes boot files from the config runs again on revert */
	return fix_command_argv(f, argv, argv);
}

/* ------------------------------------------------------------ the GPU */

/* --gpu ADDR: the ids of every function of its slot, and their drivers. */
static int gpu_facts(struct vfk_fix *f, const char *addr, struct sbuf *ids, struct fix_gpu *g,
		     struct vfk_host **hostp, char *errbuf, size_t errsize)
{
	struct vfk_device *d;
	struct vfk_gpu *gpu = NULL;
	size_t i, nd = 0;
	int r;

	r = vfk_host_scan(f->ctx, hostp);
	if (r < 0) {
		snprintf(errbuf, errsize, "cannot read the host's PCI devices: %s", strerror(-r));
		return r;
	}
	if (vfk_host_find_device(*hostp, addr, &d) < 0) {
		snprintf(errbuf, errsize, "--gpu %s: no such PCI device", addr);
		return neg_errno(ENODEV);
	}
	for (i = 0; i < vfk_host_gpu_count(*hostp) && !gpu; i++)
		if (vfk_gpu_get_device(vfk_host_gpu(*hostp, i)) == d)
			gpu = vfk_host_gpu(*hostp, i);
	if (!gpu) {
		snprintf(errbuf, errsize, "--gpu %s: %s is not a GPU", addr,
			 vfk_device_get_class_name(d));
		return neg_errno(ENODEV);
	}
	for (i = 0; i < vfk_gpu_function_count(gpu); i++) {
		const struct vfk_device *fn = vfk_gpu_function(gpu, i);
		const char *drv = vfk_device_get_driver(fn);
		char id[16];
		size_t k;
		bool seen = false;

		snprintf(id, sizeof(id), "%04x:%04x", vfk_device_get_vendor_id(fn),
			 vfk_device_get_device_id(fn));
		if (!ids->s || !check_list_has(ids->s, id))
			sbuf_addf(ids, "%s%s", ids->len ? "," : "", id);
		if (!drv || vfk_driver_is_vfio(drv) || streq(drv, "pci-stub"))
			continue;
		for (k = 0; k < nd; k++)
			seen |= streq(g->drivers[k], drv);
		if (!seen && nd + 1 < ARRAY_SIZE(g->drivers))
			g->drivers[nd++] = drv;
	}
	g->ids = ids->s;
	return ids->s ? 0 : neg_errno(ENOMEM);
}

/* ------------------------------------------------------------ the API */

void vfk_fix_free(struct vfk_fix *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->nfiles; i++) {
		free(f->files[i].path);
		free(f->files[i].old);
		free(f->files[i].new);
	}
	free(f->files);
	for (i = 0; i < f->ncmds; i++) {
		fix_argv_free(f->cmds[i]);
		fix_argv_free(f->undo[i]);
	}
	free(f->cmds);
	free(f->undo);
	strv_free(&f->notes);
	vfk_ctx_unref(f->ctx);
	free(f);
}

/* The running kernel's command line, or NULL when /proc does not say. */
static char *running_cmdline(struct vfk_ctx *ctx)
{
	char buf[8192];

	if (vfk_root_read(ctx, VFK_ROOT_PROC, "cmdline", buf, sizeof(buf)) < 0)
		return NULL;
	buf[strcspn(buf, "\n")] = '\0';
	return strdup(buf);
}

/* 1 GiB pages on the command line (the only time they can be had reliably);
 * 2 MiB pages in sysctl.d, applied now by sysctl too. */
static int hugepages(struct vfk_fix *f, const struct vfk_fix_options *o, const char **add,
		     size_t *n, char *words, size_t wsize, char *errbuf, size_t errsize)
{
	char text[256];
	int r;

	if (!o->hugepages_mib)
		return 0;
	if (o->gigantic) {
		if (o->hugepages_mib % 1024) {
			snprintf(errbuf, errsize, "--hugepages: 1 GiB pages take a whole number of GiB "
				 "(%llu MiB is not)", o->hugepages_mib);
			return neg_errno(EINVAL);
		}
		snprintf(words, wsize, "hugepages=%llu", o->hugepages_mib / 1024);
		add[(*n)++] = "default_hugepagesz=1G";
		add[(*n)++] = "hugepagesz=1G";
		add[(*n)++] = words;
		return 0;
	}
	snprintf(text, sizeof(text), "# written by vfio-check --fix: huge pages for guest memory "
		 "(%llu MiB)\nvm.nr_hugepages = %llu\n", o->hugepages_mib, (o->hugepages_mib + 1) / 2);
	r = fix_set(f, "etc/sysctl.d/80-vfiokit-hugepages.conf", text);
	if (r > 0) {
		/* nothing to run on revert: the pages reserved now stay until reboot */
		static const char *const argv[] = { "sysctl", "-p",
						    "/etc/sysctl.d/80-vfiokit-hugepages.conf", NULL };

		r = fix_command_argv(f, argv, NULL);
	}
	return r < 0 ? r : 0;
}

int vfk_fix_new(struct vfk_ctx *ctx, const struct vfk_checks *checks,
		const struct vfk_fix_options *opts, struct vfk_fix **out, char *errbuf,
		size_t errsize)
{
	const struct vfk_fix_options none = { 0 }, *o = opts ? opts : &none;
	const char *wanted_add[16] = { 0 }, *const *add, *const *drop;
	_cleanup_free_ char *running = NULL, *idword = NULL;
	char hpwords[32];
	struct vfk_host *host = NULL;
	struct fix_gpu g = { 0 };
	struct sbuf ids = { 0 };
	struct vfk_fix *f;
	size_t n = 0;
	int r;

	if (errbuf && errsize)
		errbuf[0] = '\0';
	if (!ctx || !checks || !out)
		return neg_errno(EINVAL);
	*out = NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return neg_errno(ENOMEM);
	f->ctx = vfk_ctx_ref(ctx);
	check_cmdline_wanted(checks, &add, &drop);
	for (; add[n] && n + 5 < ARRAY_SIZE(wanted_add); n++)
		wanted_add[n] = add[n];
	running = running_cmdline(ctx);
	r = o->gpu ? gpu_facts(f, o->gpu, &ids, &g, &host, errbuf, errsize) : 0;
	if (r == 0 && g.ids) {
		idword = strdupf("vfio-pci.ids=%s", g.ids);
		wanted_add[n++] = idword;
	}
	if (r == 0 && (wanted_add[0] || drop[0] || o->hugepages_mib))
		r = fix_refuse_unsafe(f, errbuf, errsize);
	if (r == 0)
		r = hugepages(f, o, wanted_add, &n, hpwords, sizeof(hpwords), errbuf, errsize);
	if (r == 0 && (wanted_add[0] || drop[0]))
		r = fix_cmdline(f, running, wanted_add, drop, errbuf, errsize);
	if (r == 0 && g.ids)
		r = fix_early_vfio(f, &g);
	sbuf_free(&ids);
	vfk_host_unref(host);
	if (r < 0) {
		if (errbuf && errsize && !errbuf[0])
			snprintf(errbuf, errsize, "%s", strerror(-r));
		vfk_fix_free(f);
		return r;
	}
	*out = f;
	return 0;
}

const char *vfk_fix_get_loader(const struct vfk_fix *f) { return f ? f->loader : NULL; }
const char *vfk_fix_get_initramfs(const struct vfk_fix *f) { return f ? f->initramfs : NULL; }
size_t vfk_fix_file_count(const struct vfk_fix *f) { return f ? f->nfiles : 0; }
size_t vfk_fix_command_count(const struct vfk_fix *f) { return f ? f->ncmds : 0; }
size_t vfk_fix_note_count(const struct vfk_fix *f) { return f ? f->notes.n : 0; }

const char *vfk_fix_note(const struct vfk_fix *f, size_t i)
{
	return f && i < f->notes.n ? f->notes.v[i] : NULL;
}

char *vfk_fix_file_path(const struct vfk_fix *f, size_t i)
{
	return f && i < f->nfiles ? strdupf("/%s", f->files[i].path) : NULL;
}

const char *vfk_fix_file_old(const struct vfk_fix *f, size_t i)
{
	return f && i < f->nfiles ? f->files[i].old : NULL;
}

const char *vfk_fix_file_new(const struct vfk_fix *f, size_t i)
{
	return f && i < f->nfiles ? f->files[i].new : NULL;
}

char *vfk_fix_file_diff(const struct vfk_fix *f, size_t i)
{
	_cleanup_free_ char *path = vfk_fix_file_path(f, i);

	return path ? fix_diff(path, f->files[i].old, f->files[i].new) : NULL;
}

const char *const *vfk_fix_command(const struct vfk_fix *f, size_t i)
{
	return f && i < f->ncmds ? (const char *const *)f->cmds[i] : NULL;
}
