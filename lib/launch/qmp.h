/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VFK_QMP_H
#define VFK_QMP_H
#include <json-c/json.h>

#include "core/internal.h"

/* Connect to QEMU's QMP socket at @path and negotiate capabilities.
 * Returns an fd or -errno. */
int qmp_open(const char *path, unsigned int timeout_ms);
/* Run @command (no arguments); 0 when QEMU answered "return", -EIO on
 * "error" (message in @err), -ETIMEDOUT, or -errno. When @status is set it
 * gets the "status" member of the answer (query-status). */
int qmp_execute(int fd, const char *command, unsigned int timeout_ms, char *status,
		size_t status_size, char *err, size_t errsize);
/* Run @command and hand back its "return" value (a new reference, to be
 * put by the caller); errors as qmp_execute. */
int qmp_query(int fd, const char *command, unsigned int timeout_ms, json_object **ret,
	      char *err, size_t errsize);
/* The same with @args as the command's "arguments" (not taken over). */
int qmp_query_args(int fd, const char *command, json_object *args, unsigned int timeout_ms,
		   json_object **ret, char *err, size_t errsize);
/* On a fresh connection @fd: QEMU's greeting read, capabilities negotiated,
 * by @deadline (now_ms() clock). 0 or -errno. */
int qmp_handshake(int fd, long long deadline);
#endif
