/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Launch and lifecycle: a plan becomes a running VM (devices bound, mdev
 * created, libvirt domain or QEMU process started) and a stopped VM becomes a
 * clean host again. Each VM vfiokit started has a record under
 * <sysroot>/run/vfiokit/vms/NAME (a normal user's: $XDG_RUNTIME_DIR/vfiokit/vms/NAME,
 * see vfk_ctx_set_user_mode()), written before the VM starts, so `down`
 * and crash recovery know what to undo.
 *
 * Layer launch/: owns starting and stopping VMs: libvirt, QEMU with QMP
 * (qmp.c, qemu-pin.c), swtpm (swtpm.c), the VM records under run/vfiokit/vms.
 * May call every layer below (lib/README.md).
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "launch/qmp.h"
#include "core/xml-dl.h"
#include "emit/emit.h"
#include "launch/launch.h"
#include "launch/libvirt-dl.h"

#define QMP_START_TIMEOUT_MS 30000

int launch_fail(char *errbuf, size_t errsize, int err, const char *fmt, ...)
{
	va_list ap;

	if (errbuf && errsize) {
		va_start(ap, fmt);
		vsnprintf(errbuf, errsize, fmt, ap);
		va_end(ap);
	}
	return neg_errno(err);
}

static char *qmp_path(struct vfk_ctx *ctx, const char *name)
{
	char rel[160];

	snprintf(rel, sizeof(rel), VMS_DIR "/%s.qmp", name);
	return vfk_root_path(ctx, VFK_ROOT_VM_RUN, rel);
}

/* ---------------------------------------------------------------- qemu */

/* "pty,id=charserial0" -> "pty,id=charserial0,logfile=PATH,logappend=off";
 * commas in QEMU option values are written twice. */
static char *chardev_with_log(const char *chardev, const char *path)
{
	struct sbuf b = { 0 };
	const char *p;

	sbuf_add(&b, chardev);
	sbuf_add(&b, ",logfile=");
	for (p = path; *p; p++) {
		sbuf_addn(&b, p, 1);
		if (*p == ',')
			sbuf_addn(&b, p, 1);
	}
	sbuf_add(&b, ",logappend=off");
	return sbuf_take(&b);
}

/* The @n entries of @argv into @full; the serial chardev also writes
 * everything to the console log. -ENOMEM leaves @argv for the caller to free. */
static int copy_argv_logging_serial(char **argv, size_t n, char **full, const char *console_log)
{
	size_t i;

	for (i = 0; i < n; i++) {
		full[i] = argv[i];
		if (console_log && i > 0 && streq(argv[i - 1], "-chardev") &&
		    strstr(argv[i], "id=charserial0")) {
			char *withlog = chardev_with_log(argv[i], console_log);
			if (!withlog)
				return -ENOMEM;
			free(argv[i]);
			argv[i] = full[i] = withlog;
		}
	}
	return 0;
}

/* The plan's QEMU argv (@argv owns the strings) and @full, the same with two
 * free slots at its end for -qmp and a NULL after them. */
static int qemu_argv(struct vfk_plan *plan, const struct vfk_vm_options *o, char ***argvp,
		     char ***fullp, size_t *np, char *errbuf, size_t errsize)
{
	char **argv = NULL, **full;
	size_t n = 0;
	int r;

	r = vfk_plan_to_qemu_argv(plan, &argv);
	if (r < 0)
		return launch_fail(errbuf, errsize, -r, "generating the QEMU command line failed");
	while (argv[n])
		n++;
	full = calloc(n + 3, sizeof(*full));
	if (!full) {
		vfk_argv_free(argv);
		return -ENOMEM;
	}
	if (copy_argv_logging_serial(argv, n, full, o->console_log) < 0) {
		free(full);
		vfk_argv_free(argv);
		return -ENOMEM;
	}
	*argvp = argv;
	*fullp = full;
	*np = n;
	return 0;
}

static int tpm_start(struct vfk_ctx *ctx, const struct vfk_plan *plan, const struct runas *ra,
		     struct vfk_vm_record *rec, char *errbuf, size_t errsize)
{
	char terr[400];
	pid_t tpm;
	int r;

	vfk_progress(ctx, "starting the TPM of %s (swtpm)", rec->name);
	r = swtpm_start(ctx, plan, rec->name, ra->on ? &ra->user : NULL, &tpm, terr, sizeof(terr));
	if (r < 0)
		return launch_fail(errbuf, errsize, -r, "%s", terr);
	rec->swtpm_pid = tpm;
	return 0;
}

/* In the forked child: QEMU in its own session, stdin from /dev/null, stdout
 * to the console log (or /dev/null), stderr to @errlog, its locked-memory
 * limit at least @memlock bytes; with --run-as, as that user. */
static void __attribute__((noreturn)) qemu_exec(const struct vfk_vm_options *o,
						const char *errlog, char **full,
						unsigned long long memlock,
						const struct vfio_fds *fds, const struct runas *ra)
{
	int in = vfk_open_null(O_RDONLY);
	int out = o->console_log
			  ? open(o->console_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)
			  : vfk_open_null(O_WRONLY);
	int errfd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int r;

	setsid();
	if (in < 0 || out < 0 || errfd < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
	    dup2(errfd, 2) < 0)
		_exit(127);
	vfio_fds_inherit(fds);
	if (ra->on) {
		r = runas_become(ra, memlock);
		if (r < 0) {
			dprintf(2, "vfiokit: cannot become user %s for QEMU: %s\n", ra->user.name,
				strerror(-r));
			_exit(127);
		}
		full = ra->argv;
	} else if (memlock_raise(memlock, 2) < 0) {
		_exit(127);
	}
	execvp(full[0], full);
	_exit(127);
}

/* The first line of what QEMU wrote to run/vfiokit/vms/NAME.log, "" if none. */
static void qemu_error_line(struct vfk_ctx *ctx, const char *name, char *tail, size_t size)
{
	_cleanup_close_ int dfd = vfk_root_open_dir(ctx, VFK_ROOT_VM_RUN, VMS_DIR);
	char file[120];

	snprintf(file, sizeof(file), "%s.log", name);
	if (dfd >= 0 && vfk_read_in(ctx, dfd, file, tail, size) > 0) {
		char *nl;
		while ((nl = strrchr(tail, '\n')) && !nl[1])
			*nl = '\0';
		nl = strchr(tail, '\n');
		if (nl)
			*nl = '\0';
	}
}

/* a wrong option or a busy device makes QEMU exit at once: report it */
static int qemu_check_started(struct vfk_ctx *ctx, const struct vfk_vm_options *o,
			      const struct vfk_vm_record *rec, pid_t pid, char *errbuf,
			      size_t errsize)
{
	long long deadline = now_ms() + (o->start_check_ms ? o->start_check_ms : 1500);

	while (now_ms() < deadline) {
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			char tail[400] = "";
			qemu_error_line(ctx, rec->name, tail, sizeof(tail));
			swtpm_stop(ctx, rec->swtpm_pid);
			return launch_fail(errbuf, errsize, EIO, "QEMU exited at start (status %d): %s",
				    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
				    *tail ? tail : "no message");
		}
		poll(NULL, 0, 50);
	}
	return 0;
}

/* vCPU threads to their CPUs through QMP; a QEMU that cannot be pinned is
 * killed. */
static int qemu_pin(struct vfk_ctx *ctx, const struct vfk_plan *plan,
		    const struct vfk_vm_record *rec, const char *qmp, pid_t pid, char *errbuf,
		    size_t errsize)
{
	char perr[256] = "", cpus[256];
	/* QEMU greets on QMP only once its machine is built: mapping a passed-
	 * through device's memory for the IOMMU can take many seconds on a busy
	 * or emulated host, so the bound is generous but still a bound */
	int fd = qmp_open(qmp, QMP_START_TIMEOUT_MS);
	int r;

	r = fd < 0 ? fd : qemu_pin_threads(ctx, plan, fd, pid, perr, sizeof(perr));
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		swtpm_stop(ctx, rec->swtpm_pid);
		if (!*perr)
			snprintf(perr, sizeof(perr), "no QMP connection: %s", strerror(-r));
		return launch_fail(errbuf, errsize, -r, "%s", perr);
	}
	vfk_progress(ctx, "vCPU threads pinned to CPUs %s, QEMU's other threads to %s",
		     cpuset_format(&plan->pin.guest, cpus, sizeof(cpus)),
		     plan->host_cpus ? plan->host_cpus : "any");
	return 0;
}

static int qemu_start(struct vfk_plan *plan, const struct vfk_vm_options *o, struct runas *ra,
		      struct vfk_vm_record *rec, char *errbuf, size_t errsize)
{
	struct vfk_ctx *ctx = plan->ctx;
	_cleanup_free_ char *qmp = qmp_path(ctx, rec->name);
	_cleanup_free_ char *errlog = NULL;
	char **argv = NULL, **full = NULL;
	char rel[160], qmparg[PATH_MAX + 64];
	struct vfio_fds fds = { .nfds = 0 };
	size_t n = 0;
	pid_t pid;
	int r;

	if (!qmp)
		return -ENOMEM;
	r = qemu_argv(plan, o, &argv, &full, &n, errbuf, errsize);
	if (r < 0)
		return r;
	snprintf(qmparg, sizeof(qmparg), "unix:%s,server=on,wait=off", qmp);
	full[n] = (char *)"-qmp";
	full[n + 1] = qmparg;
	snprintf(rel, sizeof(rel), VMS_DIR "/%s.log", rec->name);
	errlog = vfk_root_path(ctx, VFK_ROOT_VM_RUN, rel);
	unlink(qmp);

	if ((r = vfio_fds_pass(plan, full, n, &fds, errbuf, errsize)) < 0 ||
	    (r = vm_files_prepare(ctx, plan, errbuf, errsize)) < 0 ||
	    (plan->tpm && (r = tpm_start(ctx, plan, ra, rec, errbuf, errsize)) < 0) ||
	    (r = runas_rewrite(plan, ra, full, qmp, errbuf, errsize)) < 0) {
		swtpm_stop(ctx, rec->swtpm_pid);
		vfio_fds_close(&fds);
		runas_free(ra);
		free(full);
		vfk_argv_free(argv);
		return r;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		vfio_fds_close(&fds);
		runas_free(ra);
		free(full);
		vfk_argv_free(argv);
		swtpm_stop(ctx, rec->swtpm_pid);
		return launch_fail(errbuf, errsize, -r, "fork: %s", strerror(-r));
	}
	if (pid == 0)
		qemu_exec(o, errlog, full, vfk_plan_get_memlock_bytes(plan), &fds, ra);
	vfio_fds_close(&fds);	/* QEMU has them now */
	runas_free(ra);
	free(full);
	vfk_argv_free(argv);
	rec->pid = pid;
	r = qemu_check_started(ctx, o, rec, pid, errbuf, errsize);
	if (r < 0)
		return r;
	if (plan->pin.pinned)
		return qemu_pin(ctx, plan, rec, qmp, pid, errbuf, errsize);
	return 0;
}

static int qemu_stop(struct vfk_ctx *ctx, const struct vfk_vm_record *rec, unsigned int timeout_s,
		     char *errbuf, size_t errsize)
{
	_cleanup_free_ char *qmp = qmp_path(ctx, rec->name);
	long long deadline;
	int fd;

	if (!proc_alive(ctx, rec->pid)) {
		swtpm_stop(ctx, rec->swtpm_pid);
		return 0;
	}
	fd = qmp ? qmp_open(qmp, 3000) : -ENOMEM;
	if (fd >= 0) {
		qmp_execute(fd, "system_powerdown", 3000, NULL, 0, NULL, 0);
		deadline = now_ms() + (long long)timeout_s * 1000;
		while (proc_alive(ctx, rec->pid) && now_ms() < deadline)
			poll(NULL, 0, 100);
		if (proc_alive(ctx, rec->pid))
			qmp_execute(fd, "quit", 3000, NULL, 0, NULL, 0);
		close(fd);
	}
	deadline = now_ms() + 5000;
	while (proc_alive(ctx, rec->pid) && now_ms() < deadline)
		poll(NULL, 0, 50);
	if (proc_alive(ctx, rec->pid)) {
		kill(rec->pid, SIGKILL);
		deadline = now_ms() + 5000;
		while (proc_alive(ctx, rec->pid) && now_ms() < deadline)
			poll(NULL, 0, 50);
	}
	if (proc_alive(ctx, rec->pid))
		return launch_fail(errbuf, errsize, EBUSY, "QEMU (pid %d) of %s does not exit", rec->pid,
			    rec->name);
	if (qmp)
		unlink(qmp);
	swtpm_stop(ctx, rec->swtpm_pid);
	return 0;
}

/* ------------------------------------------------------------ lifecycle */

/* Undo what up did, in reverse: mdev, devices, record. */
int vm_finish(struct vfk_ctx *ctx, const struct vfk_vm_record *rec, char *errbuf,
	      size_t errsize)
{
	char err[512];
	int r, first = 0;

	swtpm_stop(ctx, rec->swtpm_pid);
	if (rec->backend == VFK_BACKEND_QEMU)
		vm_files_release(ctx, rec->name);
	if (rec->mdev[0]) {
		/* vfk_mdev_remove() narrates the removal itself */
		r = vfk_mdev_remove(ctx, rec->mdev, 0, err, sizeof(err));
		if (r < 0 && r != -ENOENT && !first)
			first = launch_fail(errbuf, errsize, -r, "%s", err);
	}
	/* a VM on another host bound nothing here, nor did a normal user's
	 * (root bound its devices for the user, and root gives them back): the
	 * host's journal is not touched, and a user could not read it */
	r = lv_uri_is_local(rec->uri) && !vfk_ctx_is_user_mode(ctx)
		    ? vfk_restore_owner(ctx, rec->name, 0, err, sizeof(err)) : 0;
	if (r < 0 && !first)
		first = launch_fail(errbuf, errsize, -r, "%s", err);
	if (!first)
		record_drop(ctx, rec->name);
	return first;
}

/*
 * What restores the host when the VM stops by itself: for QEMU a watcher
 * process; for libvirt its release hook, which only libvirtd on this host
 * runs, and only when it was installed before libvirtd started.
 */
/* Is the hook that calls vfio-vm release there, and executable? */
static bool libvirt_hook_installed(struct vfk_ctx *ctx)
{
	_cleanup_close_ int dfd = -1;
	const char *slash = strrchr(VFK_LIBVIRT_HOOK, '/');
	char dir[128];

	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - VFK_LIBVIRT_HOOK), VFK_LIBVIRT_HOOK);
	dfd = vfk_root_open_dir(ctx, VFK_ROOT_TOP, dir);
	return dfd >= 0 && faccessat(dfd, slash + 1, X_OK, 0) == 0;
}

static void arm_restore(struct vfk_ctx *ctx, const struct vfk_vm_options *o,
			struct vfk_vm_record *rec)
{
	char err[512];

	rec->armed[0] = '\0';
	if (o->backend == VFK_BACKEND_QEMU) {
		if (o->unwatched)
			return;
		if (watch_qemu(ctx, rec, err, sizeof(err)) < 0)
			vfk_progress(ctx, "warning: %s", err);
		return;
	}
	if (!lv_uri_is_local(rec->uri)) {
		vfk_progress(ctx, "%s runs on %s: libvirt there gives its devices back when it "
			     "stops (managed hostdevs); vfio-vm down %s stops it and forgets it here",
			     rec->name, rec->uri, rec->name);
		snprintf(rec->armed, sizeof(rec->armed), "libvirt of that host (managed hostdevs)");
		return;
	}
	if (vfk_ctx_is_user_mode(ctx))
		return;	/* a user's VM holds nothing of the host's to give back */
	if (!startswith(rec->uri, "qemu:///system")) {
		vfk_progress(ctx, "%s: the host is restored by vfio-vm down or wait (a libvirt hook "
			     "runs only on the host it is installed on, and only for qemu:///system)",
			     rec->name);
		return;
	}
	if (!libvirt_hook_installed(ctx)) {
		vfk_progress(ctx, "warning: /%s is not installed: when %s stops by itself the "
			     "host is not restored until vfio-vm down (make install installs the "
			     "hook; restart libvirtd after)", VFK_LIBVIRT_HOOK, rec->name);
		return;
	}
	snprintf(rec->armed, sizeof(rec->armed), "libvirt hook /%s", VFK_LIBVIRT_HOOK);
}

/*
 * What cannot be done on the host @o names: a plan of this host's sysfs
 * started elsewhere, a remote host's plan started here or with QEMU, and on
 * a remote host what only the host itself does (vfiokit creates mdevs and
 * releases consoles through that host's sysfs). One line, -EREMOTE.
 */
static int refuse_remote(const struct vfk_plan *plan, const struct vfk_vm_options *o,
			 char *errbuf, size_t errsize)
{
	const char *remote = plan->ctx->remote_uri, *name = vfk_plan_get_name(plan);

	if (!remote) {
		/* the plan read this host's sysfs, and binding would write it */
		if (o->backend == VFK_BACKEND_LIBVIRT && !lv_uri_is_local(o->uri) &&
		    (plan_binds_devices(plan) || vfk_plan_get_mode(plan) == VFK_GPU_MODE_MDEV))
			return launch_fail(errbuf, errsize, EREMOTE, "%s is not this host: the host "
					   "devices of %s were planned from this host's sysfs and would "
					   "be bound here; plan on that host (--connect %s)", o->uri,
					   name, o->uri);
		return 0;
	}
	if (o->backend == VFK_BACKEND_QEMU)
		return launch_fail(errbuf, errsize, EREMOTE, "%s is not this host: the qemu backend "
				   "starts QEMU here; use the libvirt backend", remote);
	if (o->uri && !streq(o->uri, remote))
		return launch_fail(errbuf, errsize, EREMOTE, "the plan of %s was made for %s, not %s",
				   name, remote, o->uri);
	if (vfk_plan_get_mode(plan) == VFK_GPU_MODE_MDEV)
		return launch_fail(errbuf, errsize, EREMOTE, "%s is not this host: vfiokit creates "
				   "mediated devices through the sysfs of the host it runs on; run "
				   "vfio-vm on that host", remote);
	if (o->bind_flags & VFK_BIND_SINGLE_GPU)
		return launch_fail(errbuf, errsize, EREMOTE, "%s is not this host: --single-gpu "
				   "releases the console of the host vfiokit runs on; run vfio-vm on "
				   "that host", remote);
	return 0;
}

/*
 * A normal user's VM (user mode) runs with the user's rights only: without
 * its directories, or needing what only root gives (host devices, a bridge
 * the helper's ACL refuses: the plan says which), it is refused before
 * anything is written. One line, nothing touched.
 */
static int refuse_user(struct vfk_ctx *ctx, const struct vfk_plan *plan,
		       const struct vfk_vm_options *o, char *errbuf, size_t errsize)
{
	if (!vfk_ctx_is_user_mode(ctx))
		return 0;
	if (vfk_ctx_get_user_mode_error(ctx))
		return launch_fail(errbuf, errsize, EACCES, "%s", vfk_ctx_get_user_mode_error(ctx));
	/* the descriptors are handed to vfio-vm, which passes them to the QEMU
	 * it starts; session libvirt opens its devices itself */
	if (plan->user_via_fds && o->backend != VFK_BACKEND_QEMU)
		return launch_fail(errbuf, errsize, EPERM, "devices granted by descriptor go to a "
				   "QEMU vfio-vm starts: use --backend qemu");
	if (vfk_plan_get_user_refusal(plan))
		return launch_fail(errbuf, errsize, EPERM, "%s", vfk_plan_get_user_refusal(plan));
	return 0;
}

/* A disk the plan should make and cannot (no directory, no room): refused
 * before anything is touched; else the missing disks made, first. */
static int make_disks(struct vfk_plan *plan, const struct vfk_vm_options *o, char *errbuf,
		      size_t errsize)
{
	if (plan->disk_refusal)
		return launch_fail(errbuf, errsize, ENOSPC, "%s", plan->disk_refusal);
	return plan->ctx->remote_uri ? 0 : launch_make_disks(plan, o, errbuf, errsize);
}

int vfk_vm_up(struct vfk_plan *plan, const struct vfk_vm_options *o, char *errbuf, size_t errsize)
{
	/* a remote host's plan: its VM's record is kept on this host */
	struct vfk_ctx *ctx = plan->ctx->local ? plan->ctx->local : plan->ctx;
	const char *uri = plan->ctx->remote_uri ? plan->ctx->remote_uri : o->uri;
	struct vfk_vm_record rec = { 0 }, old;
	struct runas ra;
	const char *name = vfk_plan_get_name(plan);
	char err[512];
	int r;

	if (errbuf && errsize)
		errbuf[0] = '\0';
	if (!vfk_vm_name_valid(name))
		return launch_fail(errbuf, errsize, EINVAL, "'%s' cannot be a VM name ([A-Za-z0-9_.-])", name);
	if (record_load(ctx, name, &old) == 0)
		return launch_fail(errbuf, errsize, EEXIST, "VM %s is already up (vfio-vm down %s)", name, name);
	r = refuse_remote(plan, o, errbuf, errsize);
	if (r < 0)
		return r;
	r = refuse_user(ctx, plan, o, errbuf, errsize);
	if (r < 0)
		return r;
	r = runas_check(plan, o, &ra, errbuf, errsize);
	if (r < 0)
		return r;
	r = make_disks(plan, o, errbuf, errsize);
	if (r < 0)
		return r;
	snprintf(rec.name, sizeof(rec.name), "%s", name);
	rec.backend = o->backend;
	snprintf(rec.uri, sizeof(rec.uri), "%s", uri ? uri : vfk_ctx_get_libvirt_uri(ctx));
	rec.since = (long long)time(NULL);
	if (ra.on)
		snprintf(rec.run_as, sizeof(rec.run_as), "%s", ra.user.name);

	/* the record first: whatever happens next, down knows what to undo */
	r = record_save(ctx, &rec);
	if (r < 0)
		return launch_fail(errbuf, errsize, EIO, "cannot write the VM record under %s: %s",
				   vfk_ctx_get_vm_dir(ctx, VFK_VM_DIR_RUNTIME)
					   ? vfk_ctx_get_vm_dir(ctx, VFK_VM_DIR_RUNTIME) : "?",
				   strerror(-r));

	/* on a remote host libvirt binds the devices (managed='yes' hostdevs);
	 * a normal user's were bound for them by root (vfio-bind --for-user) */
	if (plan_binds_devices(plan) && !plan->ctx->remote_uri && !vfk_ctx_is_user_mode(ctx)) {
		struct vfk_bind *b;
		r = vfk_bind_new(plan->host, name, o->bind_flags, &b);
		if (r == 0) {
			/* every GPU, NVSwitch and [hostdev] device in one transaction: all or none */
			r = vfk_plan_add_to_bind(plan, b);
			if (r == 0)
				r = vfk_bind_commit(b);
			if (r < 0)
				launch_fail(errbuf, errsize, -r, "%s", vfk_bind_get_error(b) ? vfk_bind_get_error(b) : strerror(-r));
			vfk_bind_free(b);
		}
		if (r < 0)
			goto undo;
	}
	if (vfk_plan_get_mode(plan) == VFK_GPU_MODE_MDEV) {
		char id[64];
		vfk_progress(ctx, "creating mediated device %s on %s", vfk_plan_get_mdev_type(plan),
			     vfk_plan_get_mdev_parent(plan));
		/* NVIDIA's per-VF vGPUs are created on the VF the plan picked */
		r = vfk_mdev_create(ctx, vfk_plan_get_mdev_vf(plan) ? vfk_plan_get_mdev_vf(plan)
								    : vfk_plan_get_mdev_parent(plan),
				    vfk_plan_get_mdev_type(plan),
				    vfk_plan_get_mdev_uuid(plan), 0, id, err, sizeof(err));
		if (r < 0) {
			launch_fail(errbuf, errsize, -r, "%s", err);
			goto undo;
		}
		snprintf(rec.mdev, sizeof(rec.mdev), "%s", id);
		record_save(ctx, &rec);
	}

	vfk_progress(ctx, "starting %s (%s%s)", name,
		     o->backend == VFK_BACKEND_QEMU ? "qemu" : "libvirt ",
		     o->backend == VFK_BACKEND_QEMU ? "" : rec.uri);
	if (o->backend == VFK_BACKEND_QEMU)
		r = qemu_start(plan, o, &ra, &rec, errbuf, errsize);
	else
		r = lv_start(plan, o, &rec, errbuf, errsize);
	if (r < 0)
		goto undo;
	arm_restore(ctx, o, &rec);
	r = record_save(ctx, &rec);
	if (r < 0) {
		launch_fail(errbuf, errsize, EIO, "cannot update the VM record");
		goto stop;
	}
	vfk_progress(ctx, "%s is running", name);
	return 0;

stop:
	if (o->backend == VFK_BACKEND_QEMU)
		qemu_stop(ctx, &rec, 0, err, sizeof(err));
	else
		lv_stop(&rec, 0, err, sizeof(err));
undo:
	vfk_progress(ctx, "undoing: %s", errbuf ? errbuf : "failure");
	vm_finish(ctx, &rec, err, sizeof(err));
	return neg_errno(r);
}

/* down --undefine: what vfiokit keeps of a stopped VM between ups goes too. */
static int vm_forget(struct vfk_ctx *ctx, const char *name, enum vfk_backend backend,
		     const char *uri, char *errbuf, size_t errsize)
{
	int r;

	if (backend == VFK_BACKEND_QEMU) {
		vm_files_forget(ctx, name);
		return 0;
	}
	r = lv_undefine(ctx, uri ? uri : vfk_ctx_get_libvirt_uri(ctx), name, errbuf, errsize);
	return r == -ENOENT ? 0 : r;
}

int vfk_vm_down(struct vfk_ctx *ctx, const char *name, const struct vfk_vm_options *o,
		char *errbuf, size_t errsize)
{
	struct vfk_vm_record rec, was;
	unsigned int timeout = o && o->shutdown_timeout ? o->shutdown_timeout : 60;
	bool undefine = o && o->undefine;
	int r;

	if (errbuf && errsize)
		errbuf[0] = '\0';
	if (!vfk_vm_name_valid(name))
		return launch_fail(errbuf, errsize, EINVAL, "'%s' cannot be a VM name", name);
	if (record_load(ctx, name, &rec) < 0) {
		/* a VM that is not up can still be forgotten */
		if (undefine)
			return vm_forget(ctx, name, o->backend, o->uri, errbuf, errsize);
		return launch_fail(errbuf, errsize, ENOENT, "vfiokit did not start a VM named %s", name);
	}
	was = rec;
	vfk_progress(ctx, "shutting down %s (ACPI, up to %u s, then forced)", name, timeout);
	if (rec.backend == VFK_BACKEND_QEMU) {
		watch_stop(ctx, &rec);	/* down cleans up alone */
		r = qemu_stop(ctx, &rec, timeout, errbuf, errsize);
	} else {
		r = lv_stop(&rec, timeout, errbuf, errsize);
	}
	/* libvirt's release hook may have restored the host during the stop */
	if (r == 0 && record_load(ctx, name, &rec) == 0)
		r = vm_finish(ctx, &rec, errbuf, errsize);
	if (r == 0 && undefine)
		r = vm_forget(ctx, name, was.backend, was.uri, errbuf, errsize);
	return r;
}

/* QEMU has ended and its watcher restores the host: until it has (bounded:
 * each of its steps is). */
static int wait_for_watcher(struct vfk_ctx *ctx, const struct vfk_vm_record *rec, char *errbuf,
			    size_t errsize)
{
	struct vfk_vm_record now;
	int i;

	vfk_progress(ctx, "%s stopped: its watcher restores the host", rec->name);
	for (i = 0; i < 1200 && watch_alive(ctx, rec); i++)
		poll(NULL, 0, 100);
	if (record_load(ctx, rec->name, &now) == 0)
		return launch_fail(errbuf, errsize, EIO, "the watcher of %s did not restore the host; "
			    "vfio-vm down %s does", rec->name, rec->name);
	return 0;
}

int vfk_vm_release(struct vfk_ctx *ctx, const char *name, char *errbuf, size_t errsize)
{
	struct vfk_vm_record rec;

	if (errbuf && errsize)
		errbuf[0] = '\0';
	if (!vfk_vm_name_valid(name))
		return launch_fail(errbuf, errsize, EINVAL, "'%s' cannot be a VM name", name);
	if (record_load(ctx, name, &rec) < 0 || rec.backend != VFK_BACKEND_LIBVIRT)
		return 0;	/* not a VM vfiokit started on libvirt */
	vfk_progress(ctx, "%s stopped (libvirt release): restoring the host", name);
	return vm_finish(ctx, &rec, errbuf, errsize);
}

int vfk_vm_wait(struct vfk_ctx *ctx, const char *name, char *errbuf, size_t errsize)
{
	struct vfk_vm_record rec;
	int r;

	if (record_load(ctx, name, &rec) < 0)
		return launch_fail(errbuf, errsize, ENOENT, "vfiokit did not start a VM named %s", name);
	if (rec.backend == VFK_BACKEND_QEMU) {
		while (proc_alive(ctx, rec.pid))
			poll(NULL, 0, 200);
		if (watch_alive(ctx, &rec))
			return wait_for_watcher(ctx, &rec, errbuf, errsize);
	} else {
		r = lv_wait(&rec, errbuf, errsize);
		if (r < 0)
			return r;
	}
	vfk_progress(ctx, "%s stopped: restoring the host", name);
	if (rec.backend == VFK_BACKEND_LIBVIRT) {
		r = lv_stop(&rec, 1, errbuf, errsize);
		if (r < 0)
			return r;
		/* libvirt's release hook may have restored the host already */
		if (record_load(ctx, name, &rec) < 0)
			return 0;
	}
	return vm_finish(ctx, &rec, errbuf, errsize);
}

static void record_state(struct vfk_ctx *ctx, struct vfk_vm_record *r)
{
	/* a watcher that was killed restores nothing: say so */
	if (r->backend == VFK_BACKEND_QEMU && r->watcher_pid && !watch_alive(ctx, r))
		r->armed[0] = '\0';
	if (r->backend == VFK_BACKEND_QEMU) {
		_cleanup_free_ char *qmp = qmp_path(ctx, r->name);
		int fd;
		snprintf(r->state, sizeof(r->state), "%s", proc_alive(ctx, r->pid) ? "running" : "gone");
		if (qmp && proc_alive(ctx, r->pid) && (fd = qmp_open(qmp, 1000)) >= 0) {
			qmp_execute(fd, "query-status", 1000, r->state, sizeof(r->state), NULL, 0);
			close(fd);
		}
	} else {
		lv_state(r->uri, r->name, r->state, sizeof(r->state));
	}
}

int vfk_vm_list(struct vfk_ctx *ctx, const char *name, struct vfk_vm_record **out)
{
	struct strv names = { 0 };
	struct vfk_vm_record *recs;
	size_t i, n = 0;
	int r;

	*out = NULL;
	r = name ? strv_add(&names, name) : record_names(ctx, &names);
	if (r < 0 || names.n == 0) {
		strv_free(&names);
		return r < 0 ? r : 0;
	}
	recs = calloc(names.n, sizeof(*recs));
	for (i = 0; recs && i < names.n; i++) {
		if (record_load(ctx, names.v[i], &recs[n]) < 0)
			continue;
		record_state(ctx, &recs[n]);
		n++;
	}
	strv_free(&names);
	if (!recs)
		return -ENOMEM;
	if (name && n == 0) {
		free(recs);
		return -ENOENT;
	}
	*out = recs;
	return (int)n;
}
