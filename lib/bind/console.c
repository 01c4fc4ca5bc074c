/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Single-GPU passthrough: before the host's console GPU can go to vfio-pci,
 * what draws on it must let go, outermost first: the display manager
 * (stopped through systemd, which knows how to stop it and its session),
 * the virtual consoles bound to the framebuffer, then the firmware
 * framebuffer (efifb, simplefb and simpledrm, vesafb) must leave the device.
 *
 * Each step is added to <sysroot>/run/vfiokit/consoles BEFORE it is taken,
 * as the binding journal is: killed halfway, the record names at least what
 * was done, and giving back a step that was never taken is harmless (binding
 * a bound console, starting an active unit). Re-attaching walks the record
 * backwards: framebuffer, consoles, display manager last.
 *
 * fbcon takes a console back only when a framebuffer registers: once
 * unbound, writing 1 to the vtconsole's bind is accepted and does nothing
 * (Linux 6.1 drops the console's framebuffer mapping on unbind). Normally the
 * GPU's driver returns first and its framebuffer takes the console then; if
 * the GPU never left its driver (a bind killed between the two), re-attaching
 * re-probes it on that driver so that its framebuffer registers again. The
 * record's first line names that GPU ("gpu ADDR").
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>

#include "bind/bind-internal.h"
#include "bind/console.h"
#include "bind/journal.h"
#include "core/units.h"

#define CONSOLES_FILE "consoles"
#define DM_UNIT "display-manager.service"	/* the alias every display manager's unit has */
#define DM_TIMEOUT_MS 30000			/* a display manager ends its sessions first */
#define MAX_STEPS 64

static const char *const platform_fbs[] = {
	"efi-framebuffer", "simple-framebuffer", "vesa-framebuffer",
};

struct record {
	char *text;
	size_t len;
};

/* Add @line to the record and write it out, before the step it names. */
static int record_step(struct vfk_ctx *ctx, struct record *rec, const char *line)
{
	size_t n = strlen(line);
	char *nb = realloc(rec->text, rec->len + n + 2);
	int r;

	if (!nb)
		return -ENOMEM;
	memcpy(nb + rec->len, line, n);
	nb[rec->len + n] = '\n';
	nb[rec->len + n + 1] = '\0';
	rec->text = nb;
	rec->len += n + 1;
	r = vfk_host_write_file(ctx, VFK_ROOT_RUN, CONSOLES_FILE, rec->text, 0600);
	return r < 0 ? r : 0;
}

/* The display manager, when systemd runs one: stopped, recorded as "unit ID". */
static int stop_display_manager(struct vfk_ctx *ctx, struct record *rec, char *err,
				size_t errsize)
{
	struct units *u = NULL;
	char id[256], state[32], line[300];
	int r;

	r = units_open(ctx, &u, err, errsize);
	if (r == -ENOENT) {
		vfk_progress(ctx, "no systemd on the system bus: a display manager, if one runs, "
			     "is not stopped");
		return 0;
	}
	if (r < 0)
		return r;
	r = units_lookup(u, DM_UNIT, id, sizeof(id), state, sizeof(state));
	if (r == -ENOENT || (r >= 0 && !streq(state, "active") && !streq(state, "activating")) ||
	    (r >= 0 && !journal_value_ok(id))) {
		units_close(u);
		return 0;	/* none runs (or a name the record could not hold) */
	}
	if (r < 0) {
		snprintf(err, errsize, "cannot ask systemd about %s: %s", DM_UNIT, strerror(-r));
		units_close(u);
		return r;
	}
	snprintf(line, sizeof(line), "unit %s", id);
	r = record_step(ctx, rec, line);
	if (r >= 0)
		r = vfk_host_action(ctx, "systemd stop", id);
	if (r == 0) {
		vfk_progress(ctx, "stopping the display manager %s (systemd)", id);
		r = units_change(u, id, false, DM_TIMEOUT_MS, err, errsize);
	}
	units_close(u);
	return r < 0 ? r : 0;
}

/* Virtual consoles drawn by a framebuffer: unbound, recorded as "vtcon NAME". */
static int release_vtconsoles(struct vfk_ctx *ctx, struct record *rec)
{
	_cleanup_closedir_ DIR *d = vfk_fdopendir(vfk_root_open_dir(ctx, VFK_ROOT_SYS,
								    "class/vtconsole"));
	struct dirent *e;
	char rel[300], buf[600];
	int r;

	while (d && (e = readdir(d))) {
		long bound;
		if (!startswith(e->d_name, "vtcon") || !journal_value_ok(e->d_name))
			continue;
		snprintf(rel, sizeof(rel), "%s/name", e->d_name);
		if (vfk_read_in(ctx, dirfd(d), rel, buf, sizeof(buf)) <= 0 ||
		    !strstr(buf, "frame buffer"))
			continue;
		snprintf(rel, sizeof(rel), "%s/bind", e->d_name);
		if (vfk_read_long_in(ctx, dirfd(d), rel, &bound) < 0 || bound != 1)
			continue;
		snprintf(buf, sizeof(buf), "vtcon %s", e->d_name);
		r = record_step(ctx, rec, buf);
		if (r < 0)
			return r;
		snprintf(rel, sizeof(rel), "class/vtconsole/%s/bind", e->d_name);
		vfk_progress(ctx, "releasing virtual console %s from the framebuffer", e->d_name);
		r = vfk_host_write(ctx, VFK_ROOT_SYS, rel, "0");
		if (r < 0)
			return r;
	}
	return 0;
}

/* Firmware framebuffers: detached from their platform driver, recorded as
 * "platform DRIVER DEVICE". */
static int release_framebuffers(struct vfk_ctx *ctx, struct record *rec)
{
	char rel[300], wrel[320], buf[600];
	struct dirent *e;
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(platform_fbs); i++) {
		_cleanup_closedir_ DIR *pd = NULL;
		snprintf(rel, sizeof(rel), "bus/platform/drivers/%s", platform_fbs[i]);
		pd = vfk_fdopendir(vfk_root_open_dir(ctx, VFK_ROOT_SYS, rel));
		while (pd && (e = readdir(pd))) {
			if (!startswith(e->d_name, platform_fbs[i]) || !journal_value_ok(e->d_name))
				continue;
			snprintf(buf, sizeof(buf), "platform %s %s", platform_fbs[i], e->d_name);
			r = record_step(ctx, rec, buf);
			if (r < 0)
				return r;
			snprintf(wrel, sizeof(wrel), "%s/unbind", rel);
			vfk_progress(ctx, "detaching firmware framebuffer %s", e->d_name);
			r = vfk_host_write(ctx, VFK_ROOT_SYS, wrel, e->d_name);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int console_release(struct vfk_ctx *ctx, const char *gpu, char *err, size_t errsize)
{
	struct record rec = { 0 };
	char line[64];
	int r;

	err[0] = '\0';
	snprintf(line, sizeof(line), "gpu %s", gpu);
	r = journal_value_ok(gpu) ? record_step(ctx, &rec, line) : -EINVAL;
	if (r >= 0)
		r = stop_display_manager(ctx, &rec, err, errsize);
	if (r >= 0)
		r = release_vtconsoles(ctx, &rec);
	if (r >= 0)
		r = release_framebuffers(ctx, &rec);
	if (r < 0 && !err[0])
		snprintf(err, errsize, "%s", strerror(-r));
	free(rec.text);
	return r;
}

/* Is the vtconsole @name bound now? */
static bool vt_bound(struct vfk_ctx *ctx, const char *name)
{
	char rel[320];
	long v;

	snprintf(rel, sizeof(rel), "class/vtconsole/%s/bind", name);
	return vfk_root_read_long(ctx, VFK_ROOT_SYS, rel, &v) == 0 && v == 1;
}

/* The console GPU @gpu re-probed on the driver it is on, so that its
 * framebuffer registers and fbcon takes the consoles back. */
static int reprobe_console_gpu(struct vfk_ctx *ctx, const char *gpu, const char *vt)
{
	long long deadline = now_ms() + PROBE_SETTLE_MS;
	char drv[64], rel[160];
	int r;

	if (!*gpu || current_driver(ctx, gpu, drv, sizeof(drv)) < 0 || !*drv ||
	    vfk_driver_is_vfio(drv) || !journal_value_ok(drv))
		return 0;	/* no driver whose framebuffer could take it */
	vfk_progress(ctx, "re-probing %s on %s: its framebuffer takes the console back", gpu, drv);
	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DRIVERS "/%s/unbind", drv);
	r = vfk_host_write_timeout(ctx, VFK_ROOT_SYS, rel, gpu, ctx->timeout_ms);
	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DRIVERS "/%s/bind", drv);
	if (r >= 0)
		r = vfk_host_write(ctx, VFK_ROOT_SYS, rel, gpu);
	while (r == 0 && !vt_bound(ctx, vt) && now_ms() < deadline)
		poll(NULL, 0, 50);
	return r < 0 ? r : 0;
}

/* Give back one recorded step; @u is connected to systemd on first need. */
static int reattach_step(struct vfk_ctx *ctx, const char *line, const char *gpu,
			 struct units **u)
{
	char a[260], b[64], rel[300], err[512];
	size_t i;
	int r;

	if (sscanf(line, "unit %255s", a) == 1 && journal_value_ok(a)) {
		if (!*u && (r = units_open(ctx, u, err, sizeof(err))) < 0)
			return r == -ENOENT ? 0 : r;	/* no systemd left to ask */
		r = vfk_host_action(ctx, "systemd start", a);
		if (r != 0)
			return r < 0 ? r : 0;
		vfk_progress(ctx, "starting the display manager %s again (systemd)", a);
		return units_change(*u, a, true, DM_TIMEOUT_MS, err, sizeof(err));
	}
	if (sscanf(line, "vtcon %63s", a) == 1 && journal_value_ok(a) && startswith(a, "vtcon")) {
		snprintf(rel, sizeof(rel), "class/vtconsole/%s/bind", a);
		vfk_progress(ctx, "re-attaching virtual console %s", a);
		r = vfk_host_write(ctx, VFK_ROOT_SYS, rel, "1");
		if (r == 0 && !vt_bound(ctx, a))
			r = reprobe_console_gpu(ctx, gpu, a);
		if (r == 0 && !vt_bound(ctx, a))
			return -EIO;	/* no framebuffer took it back */
		return r;
	}
	if (sscanf(line, "platform %63s %63s", a, b) == 2 && journal_value_ok(b)) {
		for (i = 0; i < ARRAY_SIZE(platform_fbs); i++)
			if (streq(a, platform_fbs[i]))
				break;
		if (i == ARRAY_SIZE(platform_fbs))
			return 0;
		snprintf(rel, sizeof(rel), "bus/platform/drivers/%s/bind", platform_fbs[i]);
		vfk_progress(ctx, "re-attaching firmware framebuffer %s", b);
		return vfk_host_write(ctx, VFK_ROOT_SYS, rel, b);
	}
	return 0;	/* a line this version does not know */
}

int console_reattach(struct vfk_ctx *ctx)
{
	_cleanup_close_ int dfd = -1;
	struct units *u = NULL;
	char text[8192], *line, *save = NULL, *steps[MAX_STEPS], gpu[32] = "";
	size_t n = 0;
	int r, first = 0;

	dfd = vfk_root_open_dir(ctx, VFK_ROOT_RUN, "");
	if (dfd < 0 || vfk_read_in(ctx, dfd, CONSOLES_FILE, text, sizeof(text)) <= 0)
		return 0;
	for (line = strtok_r(text, "\n", &save); line && n < MAX_STEPS;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "gpu %31s", gpu) != 1)
			steps[n++] = line;
	}
	if (!journal_value_ok(gpu))
		gpu[0] = '\0';
	while (n-- > 0) {	/* the last released, the first given back */
		r = reattach_step(ctx, steps[n], gpu, &u);
		if (r < 0 && !first)
			first = r;
	}
	units_close(u);
	if (!first)
		r = vfk_host_write_file(ctx, VFK_ROOT_RUN, CONSOLES_FILE, "", 0600);
	return first;
}
