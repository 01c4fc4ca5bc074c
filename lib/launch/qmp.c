/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A minimal QMP client: enough to ask QEMU for its status, power it down
 * and make it quit. Messages are one JSON object per line; asynchronous
 * events may arrive between a command and its answer and are skipped.
 */
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <time.h>

#include "launch/launch.h"
#include "launch/qmp.h"

/* Read one line (one QMP message) into a json object. */
static int read_message(int fd, long long deadline, json_object **out)
{
	char buf[65536];	/* device-list-properties of vfio-pci runs to ~8 KiB */
	size_t len = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_ms();
		ssize_t n;
		char c;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? -ECONNRESET : -errno;
		if (c == '\n') {
			buf[len] = '\0';
			*out = json_tokener_parse(buf);
			return *out ? 0 : -EPROTO;
		}
		if (len + 1 >= sizeof(buf))
			return -EMSGSIZE;
		buf[len++] = c;
	}
}

static int send_command(int fd, const char *command, json_object *args)
{
	json_object *o = json_object_new_object();
	const char *s;
	size_t len, off = 0;
	int r = 0;

	json_object_object_add(o, "execute", json_object_new_string(command));
	if (args)
		json_object_object_add(o, "arguments", json_object_get(args));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	len = strlen(s);
	while (off < len) {
		ssize_t n = write(fd, s + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (r == 0 && write(fd, "\n", 1) != 1)
		r = -EIO;
	json_object_put(o);
	return r;
}

int qmp_query(int fd, const char *command, unsigned int timeout_ms, json_object **ret,
	      char *err, size_t errsize)
{
	return qmp_query_args(fd, command, NULL, timeout_ms, ret, err, errsize);
}

int qmp_query_args(int fd, const char *command, json_object *args, unsigned int timeout_ms,
		   json_object **ret, char *err, size_t errsize)
{
	long long deadline = now_ms() + timeout_ms;
	int r;

	if (ret)
		*ret = NULL;
	if (err && errsize)
		err[0] = '\0';
	r = send_command(fd, command, args);
	if (r < 0)
		return r;
	for (;;) {
		json_object *msg = NULL, *v;
		r = read_message(fd, deadline, &msg);
		if (r < 0)
			return r;
		if (json_object_object_get_ex(msg, "return", &v)) {
			if (ret)
				*ret = json_object_get(v);
			json_object_put(msg);
			return 0;
		}
		if (json_object_object_get_ex(msg, "error", &v)) {
			json_object *desc;
			if (err && errsize && json_object_object_get_ex(v, "desc", &desc))
				snprintf(err, errsize, "%s", json_object_get_string(desc));
			json_object_put(msg);
			return -EIO;
		}
		json_object_put(msg);	/* an event: keep waiting for our answer */
	}
}

int qmp_execute(int fd, const char *command, unsigned int timeout_ms, char *status,
		size_t status_size, char *err, size_t errsize)
{
	json_object *ret = NULL, *st;
	int r = qmp_query(fd, command, timeout_ms, &ret, err, errsize);

	if (r == 0 && status && status_size && json_object_object_get_ex(ret, "status", &st))
		snprintf(status, status_size, "%s", json_object_get_string(st));
	json_object_put(ret);
	return r;
}

int qmp_handshake(int fd, long long deadline)
{
	json_object *greeting = NULL;
	int r = read_message(fd, deadline, &greeting);

	if (r == 0 && !json_object_object_get_ex(greeting, "QMP", NULL))
		r = -EPROTO;
	json_object_put(greeting);
	if (r == 0)
		r = qmp_execute(fd, "qmp_capabilities", (unsigned int)(deadline - now_ms() > 0 ? deadline - now_ms() : 1),
				NULL, 0, NULL, 0);
	return r;
}

int qmp_open(const char *path, unsigned int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	int fd, r;

	/* QEMU makes the socket a moment after it starts: not there yet, or
	 * not listening yet, is asked again until the deadline */
	while ((fd = launch_unix_socket(path, false)) < 0) {
		if ((fd != -ENOENT && fd != -ECONNREFUSED) || now_ms() >= deadline)
			return fd;
		poll(NULL, 0, 50);
	}
	r = qmp_handshake(fd, deadline);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}
