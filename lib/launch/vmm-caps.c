/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Does the emulator on this host take iommufd? Asked of the emulator itself,
 * never guessed from a version string: a distribution may build QEMU without
 * it (--disable-iommufd) or backport it.
 *  - QEMU: started with no machine and QMP on a socket pair; its QOM types
 *    must have "iommufd" (the backend object, QEMU 8.2+) and vfio-pci must
 *    have the "iommufd" property.
 *  - libvirt: its domain capabilities list an "iommufd" enum with the value
 *    "yes" under <hostdev> (libvirt 12.1+, the <driver iommufd='yes'/> of a
 *    PCI hostdev).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "core/xml-dl.h"
#include "launch/launch.h"
#include "launch/libvirt-dl.h"
#include "launch/qmp.h"

#define QEMU_ASK_MS 20000	/* a TCG guest's QEMU over 9p takes seconds to start */

/* In the child: QEMU with QMP on stdin/stdout (the socket @fd), nothing else. */
static void __attribute__((noreturn)) exec_probe(const char *emulator, int fd)
{
	char *const argv[] = { (char *)emulator, (char *)"-machine", (char *)"none",
			       (char *)"-nodefaults", (char *)"-display", (char *)"none",
			       (char *)"-qmp", (char *)"stdio", NULL };
	int null = vfk_open_null(O_WRONLY);

	if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || null < 0 || dup2(null, 2) < 0)
		_exit(127);
	execvp(emulator, argv);
	_exit(127);
}

static bool list_has_name(json_object *list, const char *name)
{
	size_t i, n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	json_object *v;

	for (i = 0; i < n; i++)
		if (json_object_object_get_ex(json_object_array_get_idx(list, i), "name", &v) &&
		    streq(json_object_get_string(v), name))
			return true;
	return false;
}

/* The questions, on a negotiated QMP connection: 1 yes, 0 no (@why). */
static int ask_qemu(int fd, const char *emulator, long long deadline, char *why, size_t whysize)
{
	json_object *args = json_object_new_object(), *ret = NULL, *v, *q;
	char version[32] = "QEMU";
	bool object = false, prop = false;
	unsigned int left;
	int r;

	if (!args)
		return -ENOMEM;
	left = (unsigned int)(deadline > now_ms() ? deadline - now_ms() : 1);
	if (qmp_query(fd, "query-version", left, &ret, NULL, 0) == 0 &&
	    json_object_object_get_ex(ret, "qemu", &q)) {
		int n[3] = { 0, 0, 0 };

		if (json_object_object_get_ex(q, "major", &v))
			n[0] = json_object_get_int(v);
		if (json_object_object_get_ex(q, "minor", &v))
			n[1] = json_object_get_int(v);
		if (json_object_object_get_ex(q, "micro", &v))
			n[2] = json_object_get_int(v);
		snprintf(version, sizeof(version), "QEMU %d.%d.%d", n[0], n[1], n[2]);
	}
	json_object_put(ret);
	json_object_object_add(args, "implements", json_object_new_string("iommufd"));
	r = qmp_query_args(fd, "qom-list-types", args, left, &ret, NULL, 0);
	object = r == 0 && list_has_name(ret, "iommufd");
	json_object_put(ret);
	json_object_put(args);
	args = json_object_new_object();
	if (r == 0 && object && args) {
		json_object_object_add(args, "typename", json_object_new_string("vfio-pci"));
		r = qmp_query_args(fd, "device-list-properties", args, left, &ret, NULL, 0);
		prop = r == 0 && list_has_name(ret, "iommufd");
		json_object_put(ret);
	}
	json_object_put(args);
	if (r < 0 && r != -EIO)
		return r;
	snprintf(why, whysize, object && prop ? "%s (%s) has the iommufd object and vfio-pci's "
		 "iommufd property" : object ? "%s (%s) has the iommufd object but vfio-pci has no "
		 "iommufd property" : "%s (%s) has no iommufd object type (QOM)", version, emulator);
	return object && prop;
}

int vfk_qemu_takes_iommufd(const char *emulator, char *why, size_t whysize)
{
	long long deadline = now_ms() + QEMU_ASK_MS;
	int sv[2], r, status = 0;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid = fork();
	if (pid == 0)
		exec_probe(emulator, sv[1]);
	close(sv[1]);
	if (pid < 0) {
		r = -errno;
		close(sv[0]);
		return r;
	}
	r = qmp_handshake(sv[0], deadline);
	if (r == 0)
		r = ask_qemu(sv[0], emulator, deadline, why, whysize);
	if (r >= 0)
		qmp_execute(sv[0], "quit", 2000, NULL, 0, NULL, 0);
	close(sv[0]);
	if (r < 0)	/* it never answered: it goes now */
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		snprintf(why, whysize, "%s did not answer over QMP (%s)", emulator,
			 WIFEXITED(status) && WEXITSTATUS(status) == 127 ? "cannot run it" :
			 strerror(-r));
	return r;
}

/* <hostdev> of the domain capabilities holds <enum name='iommufd'> with
 * <value>yes</value>? */
static bool domcaps_iommufd(const struct xml_api *x, xmlNodePtr n, int depth)
{
	for (; n; n = n->next) {
		xmlChar *name;
		bool hit;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (x->xmlStrEqual(n->name, BAD_CAST "value") && depth == 3) {
			xmlChar *text = x->xmlNodeGetContent(n);

			hit = text && x->xmlStrEqual(text, BAD_CAST "yes");
			(*x->xmlFree)(text);
			if (hit)
				return true;
			continue;
		}
		if (depth == 2) {
			name = x->xmlGetProp(n, BAD_CAST "name");
			hit = x->xmlStrEqual(n->name, BAD_CAST "enum") && name &&
			      x->xmlStrEqual(name, BAD_CAST "iommufd");
			(*x->xmlFree)(name);
			if (hit && domcaps_iommufd(x, n->children, 3))
				return true;
			continue;
		}
		if ((depth == 0 && x->xmlStrEqual(n->name, BAD_CAST "devices")) ||
		    (depth == 1 && x->xmlStrEqual(n->name, BAD_CAST "hostdev")))
			if (domcaps_iommufd(x, n->children, depth + 1))
				return true;
	}
	return false;
}

int vfk_libvirt_takes_iommufd(const char *uri, char *why, size_t whysize)
{
	const struct libvirt_api *lv;
	const struct xml_api *x = xml_api(why, whysize);
	virConnectPtr c = x ? lv_connect(uri, &lv, why, whysize) : NULL;
	char *caps = c ? lv->virConnectGetDomainCapabilities(c, NULL, NULL, NULL, NULL, 0) : NULL;
	xmlDocPtr doc = NULL;
	bool yes;

	if (c && !caps)
		snprintf(why, whysize, "libvirt at %s gave no domain capabilities: %s", uri,
			 lv->virGetLastErrorMessage());
	if (c)
		lv->virConnectClose(c);
	if (!caps)
		return -EIO;
	doc = x->xmlReadMemory(caps, (int)strlen(caps), "domcaps.xml", NULL,
			       XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	free(caps);
	yes = doc && domcaps_iommufd(x, x->xmlDocGetRootElement(doc)->children, 0);
	if (doc)
		x->xmlFreeDoc(doc);
	snprintf(why, whysize, yes ? "libvirt at %s offers <driver iommufd='yes'/> for PCI "
		 "hostdevs (domain capabilities)" : "libvirt at %s does not offer iommufd for PCI "
		 "hostdevs (no iommufd enum in its domain capabilities; libvirt 12.1+ has it)", uri);
	return yes;
}

int vfk_plan_ask_vmm(struct vfk_plan *pl, const struct vfk_vm_options *o, char *errbuf,
		     size_t errsize)
{
	const char *uri = o && o->uri ? o->uri : vfk_ctx_get_libvirt_uri(pl ? pl->ctx : NULL);
	/* devices granted by descriptor go to a QEMU vfio-vm starts, never to
	 * libvirt (up refuses that backend for them): QEMU is the one to ask */
	bool libvirt = o && o->backend == VFK_BACKEND_LIBVIRT && !(pl && pl->user_via_fds);
	char why[1024] = "";
	int r;

	if (!pl)
		return -EINVAL;
	/* nothing to ask: no device, groups asked for or the only way, the
	 * kernel said no, or another host (its kernel is not read here) */
	if (pl->vfio_backend == VFIO_AUTO || pl->prof->vfio_backend == VFIO_GROUP ||
	    pl->mdev.uuid || (pl->vfio_kernel == 0 && !pl->user_via_fds) ||
	    (pl->vfio_kernel < 0 && pl->prof->vfio_backend == VFIO_AUTO) || pl->ctx->remote_uri)
		return 0;
	vfk_progress(pl->ctx, "asking %s whether it takes iommufd", libvirt ? uri : pl->emulator);
	r = libvirt ? vfk_libvirt_takes_iommufd(uri, why, sizeof(why))
		    : vfk_qemu_takes_iommufd(pl->emulator, why, sizeof(why));
	if (libvirt && r < 0 && r != -ENOMEM) {
		/* no libvirt to ask (plan on a host that starts QEMU itself): its QEMU */
		char lwhy[400];
		size_t n;

		snprintf(lwhy, sizeof(lwhy), "%s", why);
		vfk_progress(pl->ctx, "asking %s whether it takes iommufd", pl->emulator);
		r = vfk_qemu_takes_iommufd(pl->emulator, why, sizeof(why) / 2);
		n = strlen(why);
		snprintf(why + n, sizeof(why) - n, " (libvirt not asked: %s)", lwhy);
	}
	if (r == -ENOMEM)
		return r;
	return plan_vfio_settle(pl, r > 0, why, errbuf, errsize);
}
