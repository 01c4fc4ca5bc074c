/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kmod-style test runner: every TEST() registers itself from a constructor;
 * main() runs each selected test in a forked child, collects its failure
 * messages or skip reason through a pipe, and prints PASS/FAIL/SKIP lines and
 * the closing "N passed, N failed, N skipped".
 *
 *   run-tests [--list] [--no-fork] [NAME|PREFIX*]...
 *
 * Environment: VFK_SRCDIR (source tree; default: found from the binary),
 * VFK_BIN (tools; default <BUILD>/bin next to <BUILD>/tests/run-tests),
 * TMPDIR (scratch space), VFK_TEST_KEEP=1 (keep scratch dirs),
 * VFK_TEST_TIMEOUT (seconds per test, default 120), VFK_TEST_NOFORK=1 (same
 * as --no-fork: run in-process, for gdb/valgrind on a single test).
 */
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define SKIP_EXIT 77

static struct test *tests_head, *tests_tail;
int test_failures;

/* In the child: where failure messages and the skip reason go. */
static int msg_fd = -1;
/* Scratch root of the running test (created by the parent before fork). */
static char scratch_root[PATH_MAX];
static int fixture_seq;

void test_register(struct test *t)
{
	t->next = NULL;
	if (tests_tail)
		tests_tail->next = t;
	else
		tests_head = t;
	tests_tail = t;
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* Messages to the parent are "F text\n" (failure) or "S text\n" (skip). */
static void send_msg(char kind, const char *text)
{
	char *line = NULL;
	int n;

	if (msg_fd < 0) {
		if (kind == 'F')
			fprintf(stderr, "  %s\n", text);
		else
			fprintf(stderr, "  skip: %s\n", text);
		return;
	}
	n = asprintf(&line, "%c %s\n", kind, text);
	if (n > 0) {
		/* multi-line messages stay one record: newlines become \x01 */
		for (int i = 2; i < n - 1; i++)
			if (line[i] == '\n')
				line[i] = '\x01';
		write_all(msg_fd, line, (size_t)n);
	}
	free(line);
}

void test_fail_(const char *file, int line, const char *fmt, ...)
{
	char *msg = NULL, *full = NULL;
	const char *base = strrchr(file, '/');
	va_list ap;

	test_failures++;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (asprintf(&full, "%s:%d: %s", base ? base + 1 : file, line, msg ? msg : fmt) < 0)
		full = NULL;
	send_msg('F', full ? full : fmt);
	free(full);
	free(msg);
}

void test_skip_(const char *reason)
{
	send_msg('S', reason);
	fflush(stdout);
	fflush(stderr);
	exit(SKIP_EXIT);
}

/* snprintf into a path buffer; false (and errno ENAMETOOLONG) when it does
 * not fit, so a truncated path is never used. */
static bool __attribute__((format(printf, 3, 4))) pathf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return false;
	}
	return true;
}

/* ------------------------------------------------------------ paths */

static char exe_dir[PATH_MAX];	/* directory of run-tests */

static void init_exe_dir(const char *argv0)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	char *slash;

	if (n > 0) {
		buf[n] = '\0';
	} else if (!realpath(argv0, buf)) {
		(void)pathf(buf, sizeof(buf), "%s", argv0);
	}
	slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
	else
		(void)pathf(buf, sizeof(buf), ".");
	(void)pathf(exe_dir, sizeof(exe_dir), "%s", buf);
}

static bool is_srcdir(const char *dir)
{
	char p[PATH_MAX];

	(void)pathf(p, sizeof(p), "%s/tests/mkhost.py", dir);
	return access(p, R_OK) == 0;
}

static const char *srcdir(void)
{
	static char dir[PATH_MAX];
	char cur[PATH_MAX];
	const char *env = getenv("VFK_SRCDIR");
	int i;

	if (dir[0])
		return dir;
	if (env && *env) {
		(void)pathf(dir, sizeof(dir), "%s", env);
		return dir;
	}
	/* <repo>/<BUILD>/tests/run-tests: walk up from the binary */
	(void)pathf(cur, sizeof(cur), "%s", exe_dir[0] ? exe_dir : ".");
	for (i = 0; i < 6; i++) {
		char *slash;

		if (is_srcdir(cur)) {
			(void)pathf(dir, sizeof(dir), "%s", cur);
			return dir;
		}
		slash = strrchr(cur, '/');
		if (!slash || slash == cur)
			break;
		*slash = '\0';
	}
	if (getcwd(cur, sizeof(cur)) && is_srcdir(cur)) {
		(void)pathf(dir, sizeof(dir), "%s", cur);
		return dir;
	}
	(void)pathf(dir, sizeof(dir), ".");
	return dir;
}

const char *test_srcdir(void)
{
	return srcdir();
}

static char dir[PATH_MAX];	/* tools_dir(): found once, or set */

const char *tools_dir(void)
{
	const char *env = getenv("VFK_BIN");

	if (dir[0])
		return dir;
	if (env && *env) {
		(void)pathf(dir, sizeof(dir), "%s", env);
	} else {
		/* <BUILD>/tests/run-tests -> <BUILD>/bin */
		char up[PATH_MAX];
		char *slash;

		(void)pathf(up, sizeof(up), "%s", exe_dir[0] ? exe_dir : ".");
		slash = strrchr(up, '/');
		if (slash && strcmp(slash + 1, "tests") == 0) {
			*slash = '\0';
			(void)pathf(dir, sizeof(dir), "%s/bin", up);
		} else {
			(void)pathf(dir, sizeof(dir), "%s/build/bin", srcdir());
		}
	}
	return dir;
}

void tools_dir_set(const char *path)
{
	(void)pathf(dir, sizeof(dir), "%s", path);
}

/* ------------------------------------------------------------ scratch */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void rm_rf(const char *path)
{
	/* make everything writable/searchable first so chmod'ed fixtures go too */
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void remove_path(const char *root, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	rm_rf(path);
}

bool path_exists(const char *root, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return lstat(path, &st) == 0;
}

static int make_scratch_root(char *buf, size_t size)
{
	const char *tmp = getenv("TMPDIR");

	if (!tmp || !*tmp)
		tmp = "/tmp";
	if (!pathf(buf, size, "%s/vfk-test-XXXXXX", tmp) || !mkdtemp(buf)) {
		fprintf(stderr, "run-tests: mkdtemp in %s: %s\n", tmp, strerror(errno));
		buf[0] = '\0';
		return -1;
	}
	return 0;
}

static void chmod_tree_writable(const char *path);

static int chmod_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_D || flag == FTW_DNR)
		chmod(path, (st->st_mode & 07777) | 0700);
	return 0;
}

static void chmod_tree_writable(const char *path)
{
	nftw(path, chmod_entry, 16, FTW_PHYS);
}

static int run_argv(const char *path, char *const argv[])
{
	pid_t pid;
	int status;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execvp(path, argv);
		fprintf(stderr, "exec %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

char *fixture_host(const char *name)
{
	char hostfile[PATH_MAX], out[PATH_MAX];
	char *argv[5];
	int r;

	if (!name || !*name || strchr(name, '/') || strstr(name, "..")) {
		test_fail_(__FILE__, __LINE__, "fixture_host: bad fixture name '%s'",
			   name ? name : "(null)");
		return NULL;
	}
	if (!scratch_root[0] && make_scratch_root(scratch_root, sizeof(scratch_root)) < 0) {
		test_fail_(__FILE__, __LINE__, "fixture_host: no scratch directory");
		return NULL;
	}
	if (!pathf(hostfile, sizeof(hostfile), "%s/tests/fixtures/hosts/%s.host", srcdir(), name) ||
	    access(hostfile, R_OK) < 0) {
		test_fail_(__FILE__, __LINE__, "fixture_host: %s: %s", hostfile, strerror(errno));
		return NULL;
	}
	if (!pathf(out, sizeof(out), "%s/%s-%d", scratch_root, name, ++fixture_seq)) {
		test_fail_(__FILE__, __LINE__, "fixture_host: scratch path too long");
		return NULL;
	}
	{
		char script[PATH_MAX];

		(void)pathf(script, sizeof(script), "%s/tests/mkhost.py", srcdir());
		argv[0] = (char *)"python3";
		argv[1] = script;
		argv[2] = hostfile;
		argv[3] = out;
		argv[4] = NULL;
		r = run_argv("python3", argv);
	}
	if (r != 0) {
		test_fail_(__FILE__, __LINE__, "fixture_host: mkhost.py %s failed (status %d)",
			   name, r);
		return NULL;
	}
	return strdup(out);
}

/* Run-wide cache of read-only fixture trees (made by the parent process). */
static char cache_root[PATH_MAX];

char *fixture_host_shared(const char *name)
{
	char path[PATH_MAX], tmp[PATH_MAX], hostfile[PATH_MAX], script[PATH_MAX];
	char *argv[5];
	struct stat st;
	int r;

	if (!cache_root[0])
		return fixture_host(name);
	if (!name || !*name || strchr(name, '/') || strstr(name, "..")) {
		test_fail_(__FILE__, __LINE__, "fixture_host_shared: bad fixture name '%s'",
			   name ? name : "(null)");
		return NULL;
	}
	if (!pathf(path, sizeof(path), "%s/%s", cache_root, name) ||
	    !pathf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", cache_root, name)) {
		test_fail_(__FILE__, __LINE__, "fixture_host_shared: cache path too long");
		return NULL;
	}
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return strdup(path);
	if (!pathf(hostfile, sizeof(hostfile), "%s/tests/fixtures/hosts/%s.host", srcdir(), name) ||
	    access(hostfile, R_OK) < 0) {
		test_fail_(__FILE__, __LINE__, "fixture_host_shared: %s: %s", hostfile,
			   strerror(errno));
		return NULL;
	}
	/* build aside, then rename into place: a crashed build leaves no half tree */
	if (!mkdtemp(tmp)) {
		test_fail_(__FILE__, __LINE__, "fixture_host_shared: mkdtemp: %s", strerror(errno));
		return NULL;
	}
	(void)pathf(script, sizeof(script), "%s/tests/mkhost.py", srcdir());
	argv[0] = (char *)"python3";
	argv[1] = script;
	argv[2] = hostfile;
	argv[3] = tmp;
	argv[4] = NULL;
	r = run_argv("python3", argv);
	if (r != 0) {
		test_fail_(__FILE__, __LINE__, "fixture_host_shared: mkhost.py %s failed (status %d)",
			   name, r);
		rm_rf(tmp);
		return NULL;
	}
	if (rename(tmp, path) < 0) {
		rm_rf(tmp);
		if (stat(path, &st) < 0) {
			test_fail_(__FILE__, __LINE__, "fixture_host_shared: rename: %s",
				   strerror(errno));
			return NULL;
		}
	}
	return strdup(path);
}

/* ------------------------------------------------------------ tools */

struct buf {
	char *data;
	size_t len, cap;
};

static int buf_append(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->data, cap);
		if (!p)
			return -ENOMEM;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int run_tool(char **out, char **errout, const char *const argv[])
{
	char path[PATH_MAX];
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 };
	struct buf bo = { 0 }, be = { 0 };
	struct pollfd fds[2];
	pid_t pid;
	int status, open_fds;

	if (out)
		*out = NULL;
	if (errout)
		*errout = NULL;
	if (!argv || !argv[0])
		return -EINVAL;
	if (strchr(argv[0], '/'))
		(void)pathf(path, sizeof(path), "%s", argv[0]);
	else if (!pathf(path, sizeof(path), "%s/%s", tools_dir(), argv[0]))
		return -ENAMETOOLONG;
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		test_fail_(__FILE__, __LINE__, "run_tool: pipe: %s", strerror(errno));
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		test_fail_(__FILE__, __LINE__, "run_tool: fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		dup2(po[1], STDOUT_FILENO);
		dup2(pe[1], STDERR_FILENO);
		execv(path, (char *const *)argv);
		fprintf(stderr, "run_tool: exec %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	fds[0] = (struct pollfd){ .fd = po[0], .events = POLLIN };
	fds[1] = (struct pollfd){ .fd = pe[0], .events = POLLIN };
	open_fds = 2;
	while (open_fds > 0) {
		int i;

		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < 2; i++) {
			char chunk[8192];
			ssize_t n;

			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(fds[i].fd, chunk, sizeof(chunk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
				continue;
			}
			buf_append(i == 0 ? &bo : &be, chunk, (size_t)n);
		}
	}
	for (int i = 0; i < 2; i++)
		if (fds[i].fd >= 0)
			close(fds[i].fd);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			status = 0x7f00;	/* treat as exit 127 */
			break;
		}
	}
	if (!bo.data)
		buf_append(&bo, "", 0);
	if (!be.data)
		buf_append(&be, "", 0);
	if (out)
		*out = bo.data;
	else
		free(bo.data);
	if (errout)
		*errout = be.data;
	else
		free(be.data);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

bool put_file(const char *root, const char *rel, const char *content)
{
	char path[PATH_MAX], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	unlink(path);	/* fixture attributes may be read-only */
	f = fopen(path, "w");
	if (!f)
		return false;
	fputs(content, f);
	return fclose(f) == 0;
}

char *read_file(const char *path)
{
	struct buf b = { 0 };
	char chunk[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(b.data);
			close(fd);
			return NULL;
		}
		if (n == 0)
			break;
		if (buf_append(&b, chunk, (size_t)n) < 0) {
			free(b.data);
			close(fd);
			return NULL;
		}
	}
	close(fd);
	if (!b.data)
		buf_append(&b, "", 0);
	return b.data;
}

/* ------------------------------------------------------------ runner */

enum result { R_PASS, R_FAIL, R_SKIP };

/* ---- running as an unprivileged user (test-privilege.c, test-rootless.c) */

#define NOBODY 65534

static const char *const tools[] = { "vfio-ls", "vfio-check", "vfio-bind", "vfio-mdev", "vfio-vm" };

/*
 * The built tools, copied where an unprivileged user can run them: a clone
 * under /root (mode 0700, the usual place for root on a fresh machine) is not
 * searchable by anyone else. Same binaries, another directory. Returns the
 * directory (static) or NULL.
 */
static const char *user_tools(void)
{
	static char copies_dir[64];
	char from[4096], to[4096];
	size_t i;

	snprintf(copies_dir, sizeof(copies_dir), "/tmp/vfk-user-tools-XXXXXX");
	if (!mkdtemp(copies_dir) || chmod(copies_dir, 0755) < 0)
		return NULL;
	for (i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		char *data;
		FILE *f;
		size_t n = 0;

		snprintf(from, sizeof(from), "%s/%s", tools_dir(), tools[i]);
		snprintf(to, sizeof(to), "%s/%s", copies_dir, tools[i]);
		f = fopen(from, "rb");
		if (!f)
			return NULL;
		data = malloc(64 << 20);
		if (data)
			n = fread(data, 1, 64 << 20, f);
		fclose(f);
		f = data ? fopen(to, "wb") : NULL;
		if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0 || chmod(to, 0755) < 0) {
			free(data);
			return NULL;
		}
		free(data);
	}
	return copies_dir;
}

static void user_tools_remove(const char *copies)
{
	char p[4096];
	size_t i;

	for (i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", copies, tools[i]);
		unlink(p);
	}
	rmdir(copies);
}

/* Run @fn as an unprivileged user; its CHECKs report as usual. */
void as_user(void (*fn)(void *), void *arg)
{
	const char *copies;
	pid_t pid;
	int status;

	if (geteuid() != 0) {
		fn(arg);
		return;
	}
	copies = user_tools();
	if (!copies) {
		test_fail_(__FILE__, __LINE__, "cannot copy the tools to a scratch dir: %s", strerror(errno));
		return;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		test_fail_(__FILE__, __LINE__, "fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0 ||
		    setuid(0) == 0) {
			test_fail_(__FILE__, __LINE__, "cannot drop root: %s", strerror(errno));
			_exit(1);
		}
		tools_dir_set(copies);
		fn(arg);
		_exit(test_failures ? 1 : 0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	user_tools_remove(copies);
	if (!WIFEXITED(status))
		test_fail_(__FILE__, __LINE__, "unprivileged child died (status 0x%x)", status);
	else if (WEXITSTATUS(status) == 77)
		test_fail_(__FILE__, __LINE__, "the unprivileged user cannot run the tools' copies "
			   "in %s", copies);
	else if (WEXITSTATUS(status) != 0 && !test_failures)
		test_fail_(__FILE__, __LINE__, "unprivileged child exited %d", WEXITSTATUS(status));
}

/* Can this (unprivileged) process run the tools at all? */
bool user_tools_runnable(void)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/vfio-ls", tools_dir());
	return access(path, X_OK) == 0;
}

static bool selected(const struct test *t, int nsel, char **sel)
{
	int i;

	if (nsel == 0)
		return true;
	for (i = 0; i < nsel; i++) {
		size_t len = strlen(sel[i]);

		if (len > 0 && sel[i][len - 1] == '*') {
			if (strncmp(t->name, sel[i], len - 1) == 0)
				return true;
		} else if (strcmp(t->name, sel[i]) == 0) {
			return true;
		}
	}
	return false;
}

static unsigned int test_timeout(void)
{
	const char *env = getenv("VFK_TEST_TIMEOUT");
	long v = env ? strtol(env, NULL, 10) : 0;

	return v > 0 ? (unsigned int)v : 120;
}

static bool keep_scratch(void)
{
	const char *env = getenv("VFK_TEST_KEEP");

	return env && *env && strcmp(env, "0") != 0;
}

static void finish_scratch(const char *name, bool failed)
{
	if (!scratch_root[0])
		return;
	if (keep_scratch()) {
		fprintf(stderr, "  (%s: scratch kept in %s)\n", name, scratch_root);
	} else {
		(void)failed;
		chmod_tree_writable(scratch_root);
		rm_rf(scratch_root);
	}
	scratch_root[0] = '\0';
}

static const char *nofork_name;

/* --no-fork: a SKIP exits the process; still remove the scratch dir. */
static void nofork_atexit(void)
{
	if (nofork_name)
		finish_scratch(nofork_name, false);
}

static enum result run_in_process(struct test *t)
{
	static bool registered;

	if (!registered) {
		atexit(nofork_atexit);
		registered = true;
	}
	test_failures = 0;
	msg_fd = -1;
	t->fn();
	return test_failures ? R_FAIL : R_PASS;
}

/* Print a message record from the child, indented, newlines restored. */
static void print_record(const char *text)
{
	fputs("  ", stdout);
	for (const char *p = text; *p; p++) {
		if (*p == '\x01')
			fputs("\n    ", stdout);
		else
			fputc(*p, stdout);
	}
	fputc('\n', stdout);
}

static enum result run_forked(struct test *t, struct buf *fails, char *skip, size_t skipsz)
{
	int p[2];
	pid_t pid;
	int status;
	struct buf in = { 0 };
	char chunk[4096];

	skip[0] = '\0';
	if (make_scratch_root(scratch_root, sizeof(scratch_root)) < 0)
		scratch_root[0] = '\0';
	if (pipe2(p, O_CLOEXEC) < 0) {
		buf_append(fails, "pipe failed\n", 12);
		return R_FAIL;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		buf_append(fails, "fork failed\n", 12);
		return R_FAIL;
	}
	if (pid == 0) {
		close(p[0]);
		msg_fd = p[1];
		test_failures = 0;
		fixture_seq = 0;
		signal(SIGPIPE, SIG_IGN);
		alarm(test_timeout());
		t->fn();
		fflush(stdout);
		fflush(stderr);
		exit(test_failures ? 1 : 0);
	}
	close(p[1]);
	for (;;) {
		ssize_t n = read(p[0], chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf_append(&in, chunk, (size_t)n);
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			break;

	/* split records */
	for (char *line = in.data, *nl; line && *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			nl = line + strlen(line);
		if (line[0] == 'F' && line[1] == ' ') {
			buf_append(fails, line + 2, (size_t)(nl - line - 2));
			buf_append(fails, "\n", 1);
		} else if (line[0] == 'S' && line[1] == ' ') {
			snprintf(skip, skipsz, "%.*s", (int)(nl - line - 2), line + 2);
		}
		if (!*nl)
			break;
	}
	free(in.data);

	if (WIFSIGNALED(status)) {
		char msg[128];
		int sig = WTERMSIG(status);

		snprintf(msg, sizeof(msg), "killed by signal %d (%s)%s\n", sig, strsignal(sig),
			 sig == SIGALRM ? ": timed out" : "");
		buf_append(fails, msg, strlen(msg));
		return R_FAIL;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == SKIP_EXIT && !fails->len)
		return R_SKIP;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !fails->len)
		return R_PASS;
	if (!fails->len) {
		snprintf(chunk, sizeof(chunk), "exited with status %d\n",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		buf_append(fails, chunk, strlen(chunk));
	}
	return R_FAIL;
}

static pid_t main_pid;

/* Remove the shared fixture cache when the runner (not a test child) exits. */
static void drop_cache(void)
{
	if (getpid() != main_pid || !cache_root[0])
		return;
	if (keep_scratch()) {
		fprintf(stderr, "(shared fixtures kept in %s)\n", cache_root);
		return;
	}
	chmod_tree_writable(cache_root);
	rm_rf(cache_root);
	cache_root[0] = '\0';
}

static void usage(FILE *f)
{
	fprintf(f, "usage: run-tests [--list] [--no-fork] [NAME|PREFIX*]...\n"
		   "Runs each selected test in its own process; prints PASS/FAIL/SKIP lines\n"
		   "and \"N passed, N failed, N skipped\". Exit 1 when a test failed.\n");
}

int main(int argc, char **argv)
{
	bool list = false, nofork = false;
	char **sel;
	int nsel = 0, passed = 0, failed = 0, skipped = 0, i;
	struct test *t;
	const char *env = getenv("VFK_TEST_NOFORK");

	if (env && *env && strcmp(env, "0") != 0)
		nofork = true;
	init_exe_dir(argv[0]);
	main_pid = getpid();
	sel = calloc((size_t)argc, sizeof(*sel));
	if (!sel)
		return 2;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--list") == 0 || strcmp(argv[i], "-l") == 0) {
			list = true;
		} else if (strcmp(argv[i], "--no-fork") == 0) {
			nofork = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "run-tests: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		} else {
			sel[nsel++] = argv[i];
		}
	}
	for (i = 0; i < nsel; i++) {
		bool any = false;

		for (t = tests_head; t && !any; t = t->next)
			any = selected(t, 1, &sel[i]);
		if (!any) {
			fprintf(stderr, "run-tests: no test matches '%s' (see --list)\n", sel[i]);
			free(sel);
			return 2;
		}
	}
	if (list) {
		for (t = tests_head; t; t = t->next)
			if (selected(t, nsel, sel))
				printf("%-48s %s\n", t->name, t->description);
		free(sel);
		return 0;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	{
		const char *tmp = getenv("TMPDIR");

		if (!pathf(cache_root, sizeof(cache_root), "%s/vfk-fixtures-XXXXXX",
			   tmp && *tmp ? tmp : "/tmp") || !mkdtemp(cache_root))
			cache_root[0] = '\0';	/* fixture_host_shared() falls back */
		else
			atexit(drop_cache);
	}
	for (t = tests_head; t; t = t->next) {
		struct buf fails = { 0 };
		char skip[512] = "";
		enum result r;

		if (!selected(t, nsel, sel))
			continue;
		if (nofork) {
			if (make_scratch_root(scratch_root, sizeof(scratch_root)) < 0)
				scratch_root[0] = '\0';
			nofork_name = t->name;
			r = run_in_process(t);
		} else {
			r = run_forked(t, &fails, skip, sizeof(skip));
		}
		switch (r) {
		case R_PASS:
			printf("PASS: %s\n", t->name);
			passed++;
			break;
		case R_SKIP:
			printf("SKIP: %s (%s)\n", t->name, skip[0] ? skip : "no reason given");
			skipped++;
			break;
		case R_FAIL:
			printf("FAIL: %s\n", t->name);
			for (char *line = fails.data, *nl; line && *line; line = nl + 1) {
				nl = strchr(line, '\n');
				if (nl)
					*nl = '\0';
				print_record(line);
				if (!nl)
					break;
			}
			failed++;
			break;
		}
		finish_scratch(t->name, r == R_FAIL);
		free(fails.data);
	}
	printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	free(sel);
	return failed ? 1 : 0;
}
