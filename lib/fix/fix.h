/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host preparation as files and commands (vfio-check --fix): what the
 * checks ask for, written for the boot loader and the initramfs tool this
 * host has. fix.c holds the object and the file set, loader.c the kernel
 * command line per boot loader, early.c vfio-pci before the native drivers
 * (modprobe.d, the initramfs), diff.c the unified diffs --dry-run shows;
 * apply.c writes them with a journal (journal.c) and takes them back,
 * running the commands through core's vfk_run_program().
 *
 * Layer fix/: calls bind/ (the lock), check/ (what is wanted), inventory/
 * (a GPU's ids and drivers) and core/ (lib/README.md).
 */
#ifndef VFK_FIX_H
#define VFK_FIX_H

#include <stdint.h>
#include <sys/stat.h>

#include "core/internal.h"
#include "core/strbuf.h"

/* A file the fix writes: its path below the sysroot ("etc/default/grub"),
 * what it holds now (NULL: it does not exist) and what it will hold. */
struct fix_file {
	char *path;
	char *old, *new;
};

struct vfk_fix {
	struct vfk_ctx *ctx;
	const char *loader;		/* "grub", "grub-bls", "systemd-boot", "kernelstub" */
	const char *initramfs;		/* "update-initramfs", "dracut", "mkinitcpio", NULL */
	struct fix_file *files;
	size_t nfiles, files_cap;
	char ***cmds;			/* each a NULL-terminated argv */
	char ***undo;			/* what --revert runs for it, or NULL */
	size_t ncmds, cmds_cap, undo_cap;
	struct strv notes;
};

/* fix.c: the file set */
/* What @path (below the sysroot) will hold: the pending new text, else the
 * file's (malloc'ed in *@text); -ENOENT when it does not exist. */
int fix_text(struct vfk_fix *f, const char *path, char **text);
/* @path gets @text (copied); a file changed twice keeps its first old text.
 * Returns 1 when the file is in the set now, 0 when @text is what it holds
 * already (nothing to change), or -errno. */
int fix_set(struct vfk_fix *f, const char *path, const char *text);
/* A command to run after the files are written, and what --revert runs for
 * it (NULL: nothing); fix_command() runs the same again (a command that
 * makes boot files from the config files). NULL-terminated arguments. */
int fix_command_argv(struct vfk_fix *f, const char *const *argv, const char *const *undo);
/* A NULL-terminated argv copied (NULL on ENOMEM), and freed. */
char **fix_argv_dup(const char *const *argv);
void fix_argv_free(char **argv);
int fix_command(struct vfk_fix *f, const char *arg0, ...) __attribute__((sentinel));
bool fix_exists(struct vfk_fix *f, const char *path);

/* guard.c: OSTree, a read-only /etc, UKIs under Secure Boot: one line in
 * @errbuf and -EROFS/-EPERM; 0 when the host may be changed. */
int fix_refuse_unsafe(struct vfk_fix *f, char *errbuf, size_t errsize);

/* loader.c: the kernel command line */
int fix_cmdline(struct vfk_fix *f, const char *running, const char *const *add,
		const char *const *drop, char *errbuf, size_t errsize);

/* early.c: vfio-pci first for the GPU's functions */
struct fix_gpu {
	const char *ids;		/* "10de:2684,10de:22ba" */
	const char *drivers[8];		/* native drivers to come after vfio-pci */
};
int fix_early_vfio(struct vfk_fix *f, const struct fix_gpu *g);


/* journal.c: what --fix changed, below VFK_ROOT_STATE */
#define FIX_DIR "fix"
struct fix_jfile {
	unsigned int n;			/* backups FIX_DIR/N.old, N.new */
	char *path;			/* below the root, "etc/default/grub" */
	mode_t mode;			/* of the file written */
	bool had_old;			/* false: the fix created the file */
	uint64_t oldsum, newsum;
};
struct fix_journal {
	struct fix_jfile *files;
	size_t nfiles, files_cap;
	char ***runs;			/* commands run, NULL-terminated argv */
	size_t nruns, runs_cap;
	struct strv dirs;		/* directories the fix created, parents first */
};
uint64_t fix_sum(const char *data, size_t len);
bool fix_path_ok(const char *path);
/* 0, -ENOENT when there is none, or -EINVAL with the line in @err. */
int fix_journal_load(struct vfk_ctx *ctx, struct fix_journal *j, char *err, size_t errsize);
int fix_journal_save(struct vfk_ctx *ctx, const struct fix_journal *j);
char *fix_journal_text(const struct fix_journal *j);
int fix_journal_add_file(struct fix_journal *j, const struct fix_jfile *e);
int fix_journal_add_run(struct fix_journal *j, const char *const *argv);
int fix_journal_add_dir(struct fix_journal *j, const char *path);
void fix_journal_free(struct fix_journal *j);

/* diff.c */
/* A unified diff of @old (NULL: /dev/null) against @new, labelled @path. */
char *fix_diff(const char *path, const char *old, const char *new);

#endif
