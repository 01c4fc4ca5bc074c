// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Root's descriptor service (issue 23, point 2, the iommufd way): after root's
 * vfio-bind bind --for-user NAME --via-fds, vfk_fds_serve() hands NAME's
 * process /dev/iommu and the devices' VFIO cdevs over a local socket, and
 * only NAME's: who asks is what the kernel says (SO_PEERCRED), the grant is
 * the journal's. The asker here is a forked child that drops to its uid
 * before it connects, as a user's vfio-vm would be; the descriptors it gets
 * are checked by what they read (the fixture's nodes are plain files saying
 * which node they are).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "kenv.h"
#include "vmtest.h"

#define GPU "0000:01:00.0"
#define HDA "0000:01:00.1"
#define PASSWD "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n" \
	       "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
#define CDEV_CONFIG "CONFIG_IOMMUFD=m\nCONFIG_VFIO_DEVICE_CDEV=y\n"

/* desktop-dgpu-igpu as an iommufd kernel shows itself, the dGPU's two
 * functions bound for @user by descriptor, each then with its cdev (sysfs
 * vfio-dev/vfioN/dev and the node, a file naming itself). */
static bool granted_host(struct kenv *e, const char *user)
{
	char rel[192], *release;
	struct vfk_user u;
	struct vfk_bind *b;
	struct vfk_gpu *g = NULL;
	size_t i;
	int r;

	if (!kenv_open(e, "desktop-dgpu-igpu"))
		return false;
	kenv_put(e, "etc/passwd", PASSWD);
	if (!put_file(e->root, "dev/iommu", "iommu"))
		return false;
	release = kenv_slurp(e, "proc/sys/kernel/osrelease");
	if (!release)
		return false;
	release[strcspn(release, "\n")] = '\0';
	snprintf(rel, sizeof(rel), "boot/config-%s", release);
	free(release);
	if (!put_file(e->root, rel, CDEV_CONFIG))
		return false;
	if (vfk_host_scan(e->ctx, &e->host) < 0)
		return false;
	for (i = 0; i < vfk_host_gpu_count(e->host); i++)
		if (!strcmp(vfk_device_get_address(vfk_gpu_get_device(vfk_host_gpu(e->host, i))), GPU))
			g = vfk_host_gpu(e->host, i);
	if (!g || vfk_user_lookup(e->ctx, user, &u) < 0 ||
	    vfk_bind_new(e->host, "test", VFK_BIND_GRANT_FDS, &b) < 0)
		return false;
	vfk_bind_set_timeout(b, 300);
	vfk_bind_set_user(b, &u);
	r = vfk_bind_add_gpu(b, g);
	if (r == 0)
		r = vfk_bind_commit(b);
	if (r < 0)
		test_fail_(__FILE__, __LINE__, "bind: %s", vfk_bind_get_error(b) ? vfk_bind_get_error(b) : strerror(-r));
	vfk_bind_free(b);
	return r == 0 && put_file(e->root, "sys/bus/pci/devices/" GPU "/vfio-dev/vfio0/dev", "511:0\n") &&
	       put_file(e->root, "sys/bus/pci/devices/" HDA "/vfio-dev/vfio1/dev", "511:1\n") &&
	       put_file(e->root, "dev/vfio/devices/vfio0", "cdev of " GPU) &&
	       put_file(e->root, "dev/vfio/devices/vfio1", "cdev of " HDA);
}

/* The asking side, in a child as uid @uid: @request written, then the
 * answer's line and what each descriptor reads, into @out ("ok 2 | iommu |
 * cdev of ..."). */
static void ask_as(const char *sock, unsigned int uid, const char *request, char *out,
		   size_t size)
{
	int pipefd[2], status;
	pid_t pid;
	ssize_t n;

	out[0] = '\0';
	if (pipe(pipefd) < 0)
		return;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		char line[512] = "", cbuf[CMSG_SPACE(sizeof(int) * 8)], text[1024] = "";
		struct iovec iov = { .iov_base = line, .iov_len = sizeof(line) - 1 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c;
		int fd;

		close(pipefd[0]);
		if ((uid && (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0)) ||
		    (fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
			_exit(2);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    write(fd, request, strlen(request)) < 0)
			_exit(3);
		n = recvmsg(fd, &m, 0);
		if (n > 0)
			line[n] = '\0';
		line[strcspn(line, "\n")] = '\0';
		snprintf(text, sizeof(text), "%s", line);
		for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			size_t k, got = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (k = 0; k < got; k++) {
				char body[64] = "";
				int d;

				memcpy(&d, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
				if (pread(d, body, sizeof(body) - 1, 0) < 0)
					snprintf(body, sizeof(body), "unreadable");
				snprintf(text + strlen(text), sizeof(text) - strlen(text), " | %s", body);
			}
		}
		if (write(pipefd[1], text, strlen(text)) < 0)
			_exit(4);
		_exit(0);
	}
	close(pipefd[1]);
	n = read(pipefd[0], out, size - 1);	/* after the service answered */
	out[n > 0 ? n : 0] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
}

struct served {
	const char *sock;
	unsigned int uid;
	const char *request;
	char answer[1024];
	int r;		/* vfk_fds_serve()'s */
	char who[64];
};

/* One request of @s->uid served: listen, the child asks, serve its one
 * connection, then read what it got. */
static void serve_one(struct kenv *e, struct served *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), conn, pipefd[2], status;
	pid_t pid;
	ssize_t n;

	s->r = -1;
	unlink(s->sock);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->sock);
	REQUIRE(lfd >= 0 && bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		chmod(s->sock, 0666) == 0 && listen(lfd, 1) == 0);
	REQUIRE(pipe(pipefd) == 0);
	fflush(stdout);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		char out[1024];

		close(pipefd[0]);
		ask_as(s->sock, s->uid, s->request, out, sizeof(out));
		if (write(pipefd[1], out, strlen(out)) < 0)
			_exit(1);
		_exit(0);
	}
	close(pipefd[1]);
	conn = accept(lfd, NULL, NULL);
	close(lfd);
	if (conn >= 0) {
		s->r = vfk_fds_serve(e->ctx, conn, s->who, sizeof(s->who));
		close(conn);
	}
	n = read(pipefd[0], s->answer, sizeof(s->answer) - 1);
	s->answer[n > 0 ? n : 0] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
}

/* A short path: a socket's name has 107 bytes. */
static void sock_path(char *buf, size_t size)
{
	snprintf(buf, size, "/tmp/vfk-fds-%d.sock", (int)getpid());
}

static bool begins(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

TEST(pass_fds_hands_the_granted_user_iommufd_and_the_cdevs_and_nobody_else,
     "after bind --for-user nobody --via-fds: nobody asking for both functions gets 3 "
     "descriptors, /dev/iommu then each cdev in the order asked; alice (uid 1000) asking for "
     "the same gets one 'not granted' line and none; root is sent to the nodes; a device "
     "not bound by vfio-bind is refused; the journal's grant is what counts")
{
	struct kenv e = { 0 };
	struct served s = { 0 };
	char sock[64];

	sock_path(sock, sizeof(sock));
	REQUIRE(granted_host(&e, "nobody"));
	s.sock = sock;
	s.uid = 65534;
	s.request = "vfiokit-fds 1\ndevice " HDA "\ndevice 01:00.0\n.\n";
	serve_one(&e, &s);
	CHECK_INT(s.r, 2);
	CHECK_STREQ(s.answer, "ok 2 | iommu | cdev of " HDA " | cdev of " GPU);
	CHECK(strstr(s.who, "uid 65534") != NULL);

	s.uid = 1000;
	serve_one(&e, &s);
	CHECK_INT(s.r, -EPERM);
	CHECK(begins(s.answer, "error " HDA " is not granted to uid 1000"));
	CHECK(strchr(s.answer, '|') == NULL);
	CHECK(strstr(vfk_ctx_get_error(e.ctx), "not granted") != NULL);

	s.uid = 0;
	serve_one(&e, &s);
	CHECK_INT(s.r, -EPERM);
	CHECK_STREQ(s.answer, "error root opens the nodes itself");

	s.uid = 65534;
	s.request = "vfiokit-fds 1\ndevice 00:02.0\n.\n";
	serve_one(&e, &s);
	CHECK_INT(s.r, -EPERM);
	CHECK(begins(s.answer, "error 0000:00:02.0 is not bound to VFIO by vfio-bind"));
	unlink(sock);
	kenv_close(&e);
}

TEST(pass_fds_refuses_a_bad_request_in_one_line_and_hands_nothing,
     "a request that is not vfiokit's, names no device, a line that is not an address, or "
     "more than 32 devices: one 'error' line, no descriptor, -EPROTO or -E2BIG")
{
	static const struct {
		const char *request, *answer;
		int r;
	} bad[] = {
		{ "GET / HTTP/1.0\n.\n", "error not a vfiokit request", -EPROTO },
		{ "vfiokit-fds 1\n.\n", "error no device asked for", -EPROTO },
		{ "vfiokit-fds 1\ndevice ../../etc\n.\n", "error 'device ../../etc' is not a "
		  "request line", -EPROTO },
	};
	struct kenv e = { 0 };
	struct served s = { 0 };
	char many[4096], sock[64];
	size_t i, len;

	sock_path(sock, sizeof(sock));
	REQUIRE(granted_host(&e, "nobody"));
	s.sock = sock;
	s.uid = 65534;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s.request = bad[i].request;
		serve_one(&e, &s);
		CHECK_INT(s.r, bad[i].r);
		CHECK_STREQ(s.answer, bad[i].answer);
	}
	len = (size_t)snprintf(many, sizeof(many), "vfiokit-fds 1\n");
	for (i = 0; i < 33; i++)
		len += (size_t)snprintf(many + len, sizeof(many) - len, "device 01:00.%zu\n", i % 8);
	snprintf(many + len, sizeof(many) - len, ".\n");
	s.request = many;
	serve_one(&e, &s);
	CHECK_INT(s.r, -E2BIG);
	CHECK_STREQ(s.answer, "error more than 32 devices");
	unlink(sock);
	kenv_close(&e);
}

/* nobody's vfio-vm plan of the dGPU on @root with the QEMU @qemu and [vfio]
 * backend @backend; its exit status, stdout and stderr into the file @out
 * (the child is gone when the parent reads). */
struct user_plan {
	const char *root, *qemu, *backend, *cmd;	/* cmd: NULL plan, else up on libvirt */
	char out[64];
};

static void plan_child(void *arg)
{
	struct user_plan *p = arg;
	struct tool_run r = { 0 };
	char xdg[64] = "/tmp/vfk-fds-XXXXXX", state[128], prof[128];
	FILE *f;

	if (!user_tools_runnable())
		_exit(77);
	if (!mkdtemp(xdg))
		_exit(1);
	snprintf(state, sizeof(state), "%s/state", xdg);
	setenv("XDG_RUNTIME_DIR", xdg, 1);
	setenv("XDG_STATE_HOME", state, 1);
	setenv("VFK_USER_MODE", "1", 1);
	snprintf(prof, sizeof(prof), "%s/vm.ini", xdg);
	f = fopen(prof, "w");
	if (!f)
		_exit(1);
	fprintf(f, "[vm]\nname = fds-gpu\nemulator = %s\nmemory = 1G\n[gpu]\nmode = passthrough\n"
		"device = " GPU "\n[display]\ntype = none\n[vfio]\nbackend = %s\n", p->qemu,
		p->backend);
	fclose(f);
	/* libvirt named by its socket: a session daemon is not spawned for a
	 * plan (libvirt 9.0 leaks the spawn's command line) */
	if (p->cmd)
		vfio_vm(&r, p->cmd, prof, p->root, "--backend", "libvirt", "--connect",
			"qemu:///session?socket=/nonexistent", NULL);
	else
		vfio_vm(&r, "plan", prof, p->root, "--connect",
			"qemu:///session?socket=/nonexistent", NULL);
	f = fopen(p->out, "w");
	if (!f)
		_exit(1);
	fprintf(f, "%d %s %s", r.status, r.out ? r.out : "", r.err ? r.err : "");
	fclose(f);
	free(r.out);
	free(r.err);
}

/* nobody's plan, its words one blank apart (the text is wrapped), exit
 * status first; malloc'ed or NULL. */
static char *user_plan(struct kenv *e, const char *qemu, const char *backend, const char *cmd)
{
	struct user_plan p = { .root = e->root, .qemu = qemu, .backend = backend, .cmd = cmd };
	char *text;
	size_t i, n = 0;

	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

	snprintf(p.out, sizeof(p.out), "/tmp/vfk-fds-plan-%d.out", (int)getpid());
	unlink(p.out);
	if (geteuid() == 0)	/* nobody's limit: the VM's memory is not what is tested */
		(void)setrlimit(RLIMIT_MEMLOCK, &rl);
	as_user(plan_child, &p);
	text = read_file(p.out);
	unlink(p.out);
	for (i = 0; text && text[i]; i++) {
		char c = text[i] == '\n' ? ' ' : text[i];

		if (c != ' ' || (n && text[n - 1] != ' '))
			text[n++] = c;
	}
	if (text)
		text[n] = '\0';
	return text;
}

TEST(pass_fds_user_plan_takes_the_descriptor_way_only_where_root_s_service_listens,
     "nobody's plan of the GPU granted by descriptor: with no service listening, auto is "
     "refused naming the group node and iommufd naming the socket unit to enable; with a "
     "socket at run/vfiokit-fds.sock, auto and iommufd plan iommufd with descriptors from "
     "root's service; the descriptor way on session libvirt's backend is refused at up")
{
	struct kenv e = { 0 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *made = fake_qemu_iommufd(true), *text, *out, parent[4096], *slash, qemu[64];
	int fd;

	/* where nobody may run it: the harness's scratch directory is root's */
	REQUIRE(made && (text = read_file(made)));
	snprintf(qemu, sizeof(qemu), "/tmp/vfk-fds-qemu-%d", (int)getpid());
	REQUIRE(put_file("/", qemu + 1, text) && chmod(qemu, 0755) == 0);
	free(text);
	free(made);
	REQUIRE(granted_host(&e, "nobody"));
	snprintf(parent, sizeof(parent), "%s", e.root);
	if ((slash = strrchr(parent, '/')))
		*slash = '\0';
	chmod(parent, 0755);
	chmod(e.root, 0755);
	out = user_plan(&e, qemu, "auto", NULL);
	REQUIRE(out);
	CHECK(strstr(out, GPU " (group 9) is not granted to nobody: its node belongs to uid 0") != NULL);
	free(out);
	out = user_plan(&e, qemu, "iommufd", NULL);
	REQUIRE(out);
	CHECK(strstr(out, "[vfio] backend = iommufd: root's descriptor service does not listen at") != NULL);
	CHECK(strstr(out, "systemctl enable --now vfiokit-fds.socket") != NULL);
	free(out);
	/* the service's socket (listening or not: the plan only looks) */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/run/vfiokit-fds.sock", e.root);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	REQUIRE(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	out = user_plan(&e, qemu, "auto", NULL);
	REQUIRE(out);
	CHECK(strncmp(out, "0 ", 2) == 0);
	CHECK(strstr(out, "descriptors from root's service") != NULL);
	CHECK(strstr(out, "no device node changes owner") != NULL);
	CHECK(strstr(out, "not granted") == NULL);
	free(out);
	out = user_plan(&e, qemu, "iommufd", NULL);
	REQUIRE(out);
	CHECK(strstr(out, "[vfio] backend = iommufd: /dev/iommu and the devices' VFIO cdevs as "
		      "descriptors from root's service") != NULL);
	free(out);
	out = user_plan(&e, qemu, "iommufd", "up");
	REQUIRE(out);
	CHECK(strncmp(out, "0 ", 2) != 0);
	CHECK(strstr(out, "devices granted by descriptor go to a QEMU vfio-vm starts: use "
		      "--backend qemu") != NULL);
	free(out);
	close(fd);
	unlink(qemu);
	kenv_close(&e);
}
