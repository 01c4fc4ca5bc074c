/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The libvirt backend: a VM is a persistent domain, defined once from the
 * plan and afterwards started as it is defined, so that what its owner
 * changed in virt-manager or with virsh edit (and the boot entries Windows
 * wrote into its NVRAM) survives down and up; replaced only when asked
 * (up --redefine), undefined only when asked (down --undefine). domain.c
 * keeps the XML each domain was defined from, to say what a profile changed.
 */
#include <poll.h>
#include <stdio.h>

#include "core/xml-dl.h"
#include "emit/emit.h"
#include "launch/launch.h"
#include "launch/libvirt-dl.h"

static void libvirt_quiet(void *data, virErrorPtr error)
{
	(void)data;
	(void)error;	/* errors are read with lv->virGetLastErrorMessage() */
}

/* The libvirt API once loaded; every libvirt_*() function below runs after
 * libvirt_open() or libvirt_load() succeeded. */
static const struct libvirt_api *lv;

static bool libvirt_load(char *errbuf, size_t errsize)
{
	char why[512];

	if (!lv)
		lv = libvirt_api(why, sizeof(why));
	if (!lv)
		launch_fail(errbuf, errsize, ELIBACC, "%s", why);
	return lv != NULL;
}

static virConnectPtr libvirt_open(const char *uri, char *errbuf, size_t errsize)
{
	virConnectPtr c;

	if (!libvirt_load(errbuf, errsize))
		return NULL;
	lv->virSetErrorFunc(NULL, libvirt_quiet);
	c = lv->virConnectOpenAuth(uri, *lv->virConnectAuthPtrDefault, 0);
	if (!c)
		launch_fail(errbuf, errsize, ECONNREFUSED, "cannot connect to libvirt at %s: %s", uri,
		     lv->virGetLastErrorMessage());
	return c;
}

virConnectPtr lv_connect(const char *uri, const struct libvirt_api **api, char *errbuf,
			 size_t errsize)
{
	virConnectPtr c = libvirt_open(uri, errbuf, errsize);

	*api = lv;
	return c;
}

/* <log file='@log'/> on the first serial of @doc's devices (a pty serial if none). */
static void console_log_add(const struct xml_api *x, xmlDocPtr doc, const char *log)
{
	xmlNodePtr root = x->xmlDocGetRootElement(doc), devs = NULL, serial = NULL, n;

	for (n = root ? root->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && x->xmlStrEqual(n->name, BAD_CAST "devices"))
			devs = n;
	if (!devs && root)
		devs = x->xmlNewChild(root, NULL, BAD_CAST "devices", NULL);
	for (n = devs ? devs->children : NULL; n && !serial; n = n->next)
		if (n->type == XML_ELEMENT_NODE && x->xmlStrEqual(n->name, BAD_CAST "serial"))
			serial = n;
	if (!serial && devs) {
		serial = x->xmlNewChild(devs, NULL, BAD_CAST "serial", NULL);
		x->xmlNewProp(serial, BAD_CAST "type", BAD_CAST "pty");
		n = x->xmlNewChild(serial, NULL, BAD_CAST "target", NULL);
		x->xmlNewProp(n, BAD_CAST "port", BAD_CAST "0");
	} else if (serial) {
		/* stdio has no place to log to in a daemon: make it a pty */
		xmlChar *type = x->xmlGetProp(serial, BAD_CAST "type");
		if (type && x->xmlStrEqual(type, BAD_CAST "stdio"))
			x->xmlSetProp(serial, BAD_CAST "type", BAD_CAST "pty");
		(*x->xmlFree)(type);
	}
	n = x->xmlNewChild(serial, NULL, BAD_CAST "log", NULL);
	x->xmlNewProp(n, BAD_CAST "file", BAD_CAST log);
	x->xmlNewProp(n, BAD_CAST "append", BAD_CAST "off");
}

/*
 * The console goes to a file too: *@xml read back with libxml2, which is
 * loaded here (the only XML vfiokit reads), and replaced by the edited text.
 */
static int xml_with_console_log(char **xml, const char *log, char *errbuf, size_t errsize)
{
	char why[512];
	const struct xml_api *x = xml_api(why, sizeof(why));
	xmlDocPtr doc;
	xmlChar *out = NULL;
	char *res = NULL;
	int len = 0;

	if (!x)
		return launch_fail(errbuf, errsize, ELIBACC, "%s", why);
	doc = x->xmlReadMemory(*xml, (int)strlen(*xml), "domain.xml", NULL,
			       XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc) {
		console_log_add(x, doc, log);
		x->xmlDocDumpFormatMemory(doc, &out, &len, 1);
		x->xmlFreeDoc(doc);
	}
	if (out)
		res = strdup((const char *)out);
	(*x->xmlFree)(out);
	if (!res)
		return launch_fail(errbuf, errsize, ENOMEM, "adding the console log to the domain XML failed");
	free(*xml);
	*xml = res;
	return 0;
}

static bool libvirt_active(virConnectPtr c, const char *name, bool *exists)
{
	virDomainPtr dom = lv->virDomainLookupByName(c, name);
	int active;

	*exists = dom != NULL;
	if (!dom)
		return false;
	active = lv->virDomainIsActive(dom);
	lv->virDomainFree(dom);
	return active == 1;
}

bool lv_uri_is_local(const char *uri)
{
	return !uri || !*uri || startswith(uri, "qemu:///") || startswith(uri, "qemu+unix:///");
}

/* Is @dom one vfiokit defined (its metadata element is there)? */
static bool domain_is_ours(virDomainPtr dom)
{
	char *md = lv->virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, VFK_XMLNS,
					    VIR_DOMAIN_AFFECT_CONFIG);

	free(md);
	return md != NULL;
}

/* Undefine @dom with what libvirt keeps for it: NVRAM, managed save, and
 * the TPM's state where libvirt knows that flag (9.0: unknown flags fail). */
static int domain_undefine_all(virDomainPtr dom)
{
	unsigned int flags = VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_MANAGED_SAVE;

	if (lv->virDomainUndefineFlags(dom, flags | VIR_DOMAIN_UNDEFINE_TPM) == 0 ||
	    lv->virDomainUndefineFlags(dom, flags) == 0)
		return 0;
	return lv->virDomainUndefine(dom);
}

/*
 * @xml with the UUID of @old, which the guest sees as its system UUID
 * (Windows ties its activation to it): the profile's XML has none, and a
 * define without one would get a new UUID, which libvirt also refuses for
 * a name it knows. malloc'ed, or NULL.
 */
static char *xml_with_uuid(virDomainPtr old, const char *xml)
{
	char uuid[VIR_UUID_STRING_BUFLEN], *out = NULL;
	const char *end = strstr(xml, "</name>");

	if (!end || strstr(xml, "<uuid>") || lv->virDomainGetUUIDString(old, uuid) < 0)
		return strdup(xml);
	end += strlen("</name>");
	if (asprintf(&out, "%.*s\n  <uuid>%s</uuid>%s", (int)(end - xml), xml, uuid, end) < 0)
		return NULL;
	return out;
}

/* Define @xml, replacing @old (NULL: a new domain) in place. */
static virDomainPtr domain_redefine(virConnectPtr c, virDomainPtr old, const char *xml)
{
	_cleanup_free_ char *same = old ? xml_with_uuid(old, xml) : NULL;

	if (old && !same)
		return NULL;
	return lv->virDomainDefineXML(c, same ? same : xml);
}

/* Start the defined @dom; with a console log, as its own definition plus the
 * log, for this run only (a live definition: the persistent one is kept). */
static int domain_start(virConnectPtr c, virDomainPtr dom, const char *console_log,
			char *errbuf, size_t errsize)
{
	_cleanup_free_ char *xml = NULL;
	virDomainPtr live;
	int r;

	if (!console_log)
		return lv->virDomainCreate(dom) < 0 ? -EIO : 0;
	xml = lv->virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
	if (!xml)
		return -EIO;
	r = xml_with_console_log(&xml, console_log, errbuf, errsize);
	if (r < 0)
		return r;
	live = lv->virDomainCreateXML(c, xml, 0);
	if (!live)
		return -EIO;
	lv->virDomainFree(live);
	return 0;
}

/*
 * The domain @rec->name, defined from @xml when there is none (or when
 * asked to replace it), then started. A domain that is not vfiokit's is
 * never replaced unasked; one that is, is started as defined, and a profile
 * changed since is named, not applied. A definition this call made is
 * undone when the start fails; one that was there is left as it was.
 */
static int start_persistent(struct vfk_plan *plan, const struct vfk_vm_options *o,
			    virConnectPtr c, struct vfk_vm_record *rec, const char *xml,
			    char *errbuf, size_t errsize)
{
	struct vfk_ctx *ctx = plan->ctx;
	virDomainPtr dom = lv->virDomainLookupByName(c, rec->name), def;
	bool fresh = !dom;
	int r;

	if (dom && lv->virDomainIsActive(dom) == 1) {
		lv->virDomainFree(dom);
		return launch_fail(errbuf, errsize, EBUSY, "the domain %s is running already, not started "
			    "by vfiokit (stop it first: virsh shutdown %s)", rec->name, rec->name);
	}
	if (dom && !o->redefine && !domain_is_ours(dom)) {
		lv->virDomainFree(dom);
		return launch_fail(errbuf, errsize, EEXIST, "a domain named %s exists that vfiokit did not "
			    "define: up --redefine replaces it with the profile's, or choose another "
			    "[vm] name", rec->name);
	}
	if (dom && !o->redefine) {
		r = lv_drop_install_media(lv, plan, dom, errbuf, errsize);
		if (r < 0) {
			lv->virDomainFree(dom);
			return r;
		}
		if (r > 0)	/* the definition is now the profile's, installed */
			domain_record(ctx, rec->name, xml);
		if (domain_differs(plan, xml))
			vfk_progress(ctx, "warning: the profile's plan for %s differs from the one its "
				     "domain was defined from (vfio-vm plan shows how); starting the "
				     "domain as defined: up --redefine applies the profile", rec->name);
		else
			vfk_progress(ctx, "starting the domain %s as defined (changes made to it "
				     "since are kept)", rec->name);
		def = dom;
	} else {
		if (dom)
			vfk_progress(ctx, "redefining %s from the profile (up --redefine)", rec->name);
		def = domain_redefine(c, dom, xml);
		if (dom)
			lv->virDomainFree(dom);
		if (!def)
			return launch_fail(errbuf, errsize, EIO, "libvirt could not define %s: %s", rec->name,
				    lv->virGetLastErrorMessage());
		domain_record(ctx, rec->name, xml);
	}
	rec->defined = true;
	r = domain_start(c, def, o->console_log, errbuf, errsize);
	if (r < 0 && r != -EIO)
		fresh = false;	/* not libvirt's refusal: errbuf says why */
	if (r == -EIO)
		launch_fail(errbuf, errsize, EIO, "libvirt could not start %s: %s", rec->name,
		     lv->virGetLastErrorMessage());
	if (r < 0 && fresh) {
		domain_undefine_all(def);
		domain_forget(ctx, rec->name);
		rec->defined = false;
	}
	lv->virDomainFree(def);
	return r;
}

int lv_start(struct vfk_plan *plan, const struct vfk_vm_options *o, struct vfk_vm_record *rec,
	     char *errbuf, size_t errsize)
{
	_cleanup_free_ char *xml = NULL;
	virConnectPtr c;
	virDomainPtr dom;
	int r;

	r = vfk_plan_to_libvirt_xml(plan, &xml);
	if (r < 0)
		return launch_fail(errbuf, errsize, -r, "generating the domain XML failed");
	c = libvirt_open(rec->uri, errbuf, errsize);
	if (!c)
		return -ECONNREFUSED;
	if (!o->transient) {
		r = start_persistent(plan, o, c, rec, xml, errbuf, errsize);
		lv->virConnectClose(c);
		return r;
	}
	rec->defined = false;
	if (o->console_log && (r = xml_with_console_log(&xml, o->console_log, errbuf, errsize)) < 0) {
		lv->virConnectClose(c);
		return r;
	}
	dom = lv->virDomainCreateXML(c, xml, 0);
	if (!dom)
		r = launch_fail(errbuf, errsize, EIO, "libvirt could not create %s: %s", rec->name,
			 lv->virGetLastErrorMessage());
	else
		lv->virDomainFree(dom);
	lv->virConnectClose(c);
	return r;
}

int lv_stop(const struct vfk_vm_record *rec, unsigned int timeout_s, char *errbuf, size_t errsize)
{
	virConnectPtr c = libvirt_open(rec->uri, errbuf, errsize);
	virDomainPtr dom;
	long long deadline;
	int r = 0;

	if (!c)
		return -ECONNREFUSED;
	dom = lv->virDomainLookupByName(c, rec->name);
	if (dom && lv->virDomainIsActive(dom) == 1) {
		if (lv->virDomainShutdown(dom) == 0) {
			deadline = now_ms() + (long long)timeout_s * 1000;
			while (lv->virDomainIsActive(dom) == 1 && now_ms() < deadline)
				poll(NULL, 0, 200);
		}
		if (lv->virDomainIsActive(dom) == 1 && lv->virDomainDestroy(dom) < 0)
			r = launch_fail(errbuf, errsize, EIO, "cannot stop %s: %s", rec->name,
				 lv->virGetLastErrorMessage());
	}
	if (dom)
		lv->virDomainFree(dom);
	lv->virConnectClose(c);
	return r;
}

int lv_undefine(struct vfk_ctx *ctx, const char *uri, const char *name, char *errbuf,
		size_t errsize)
{
	virConnectPtr c = libvirt_open(uri, errbuf, errsize);
	virDomainPtr dom;
	int r = 0;

	if (!c)
		return -ECONNREFUSED;
	dom = lv->virDomainLookupByName(c, name);
	if (!dom)
		r = -ENOENT;
	else if (!domain_is_ours(dom))
		r = launch_fail(errbuf, errsize, EPERM, "the domain %s was not defined by vfiokit: "
			 "not undefined (virsh undefine %s)", name, name);
	else if (lv->virDomainIsActive(dom) == 1)
		r = launch_fail(errbuf, errsize, EBUSY, "the domain %s is running: not undefined", name);
	else if (domain_undefine_all(dom) < 0)
		r = launch_fail(errbuf, errsize, EIO, "cannot undefine %s: %s", name,
			 lv->virGetLastErrorMessage());
	else
		vfk_progress(ctx, "undefined the domain %s and its NVRAM", name);
	if (dom)
		lv->virDomainFree(dom);
	lv->virConnectClose(c);
	if (r == 0 || r == -ENOENT)
		domain_forget(ctx, name);
	return r;
}

const char *lv_state(const char *uri, const char *name, char *buf, size_t size)
{
	virConnectPtr c = libvirt_open(uri, NULL, 0);
	bool exists = false;

	if (!c)
		snprintf(buf, size, "unreachable");
	else
		snprintf(buf, size, "%s", libvirt_active(c, name, &exists) ? "running"
					  : exists ? "shut off" : "gone");
	if (c)
		lv->virConnectClose(c);
	return buf;
}

struct lifecycle {
	const char *name;
	bool stopped;
};

static void lifecycle_cb(virConnectPtr c, virDomainPtr dom, int event, int detail, void *opaque)
{
	struct lifecycle *l = opaque;

	(void)c;
	(void)detail;
	if (streq(lv->virDomainGetName(dom), l->name) &&
	    (event == VIR_DOMAIN_EVENT_STOPPED || event == VIR_DOMAIN_EVENT_UNDEFINED))
		l->stopped = true;
}

int lv_wait(const struct vfk_vm_record *rec, char *errbuf, size_t errsize)
{
	static bool event_impl;
	struct lifecycle l = { .name = rec->name };
	virConnectPtr c;
	bool exists;
	int id;

	if (!libvirt_load(errbuf, errsize))
		return -ELIBACC;
	if (!event_impl) {
		if (lv->virEventRegisterDefaultImpl() < 0)
			return launch_fail(errbuf, errsize, EIO, "libvirt event loop: %s", lv->virGetLastErrorMessage());
		event_impl = true;
	}
	c = libvirt_open(rec->uri, errbuf, errsize);
	if (!c)
		return -ECONNREFUSED;
	id = lv->virConnectDomainEventRegisterAny(c, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
					      VIR_DOMAIN_EVENT_CALLBACK(lifecycle_cb), &l, NULL);
	if (id < 0) {
		lv->virConnectClose(c);
		return launch_fail(errbuf, errsize, EIO, "cannot watch %s: %s", rec->name,
			    lv->virGetLastErrorMessage());
	}
	/* it may have stopped before we listened */
	while (!l.stopped && libvirt_active(c, rec->name, &exists))
		if (lv->virEventRunDefaultImpl() < 0)
			break;
	lv->virConnectDomainEventDeregisterAny(c, id);
	lv->virConnectClose(c);
	return 0;
}
