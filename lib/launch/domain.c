/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What each libvirt domain was defined from: the XML vfiokit generated when
 * it defined the domain, kept in <sysroot>/var/lib/vfiokit/domains/NAME.xml.
 * A later up starts the domain as it is defined (its owner may have edited
 * it since); comparing that XML with the one the profile gives now says
 * whether the profile changed, and how, without asking libvirt, whose own
 * copy also carries every edit and every default it filled in.
 */
#include <stdio.h>

#include "emit/emit.h"
#include "fix/fix.h"
#include "launch/launch.h"

#define DOMAINS_DIR "domains"
#define DOMAIN_XML_MAX (4u << 20)

/* A remote host's context is a snapshot of that host: what vfiokit keeps
 * about its domains stays on this host, as its VM records do. */
static struct vfk_ctx *state_ctx(struct vfk_ctx *ctx)
{
	return ctx->local ? ctx->local : ctx;
}

static void rel_of(const char *name, char *rel, size_t size)
{
	snprintf(rel, size, DOMAINS_DIR "/%s.xml", name);
}

/* The XML @name was defined from, malloc'ed in *@xml; -ENOENT when none. */
static int domain_saved(struct vfk_ctx *ctx, const char *name, char **xml)
{
	_cleanup_close_ int dfd = -1;
	char file[96];

	ctx = state_ctx(ctx);
	dfd = vfk_root_open_dir(ctx, VFK_ROOT_VM_STATE, DOMAINS_DIR);
	*xml = NULL;
	if (dfd < 0)
		return dfd;
	snprintf(file, sizeof(file), "%s.xml", name);
	return vfk_read_file_in(ctx, dfd, file, DOMAIN_XML_MAX, xml, NULL);
}

void domain_record(struct vfk_ctx *ctx, const char *name, const char *xml)
{
	char rel[128];

	ctx = state_ctx(ctx);
	rel_of(name, rel, sizeof(rel));
	if (vfk_root_mkdirs(ctx, VFK_ROOT_VM_STATE, DOMAINS_DIR, 0700) < 0 ||
	    vfk_host_replace_file(ctx, VFK_ROOT_VM_STATE, rel, xml, strlen(xml), 0600) < 0)
		vfk_progress(ctx, "warning: cannot keep the XML %s was defined from: a later up "
			     "cannot say whether the profile changed", name);
}

void domain_forget(struct vfk_ctx *ctx, const char *name)
{
	char rel[128];

	ctx = state_ctx(ctx);
	rel_of(name, rel, sizeof(rel));
	vfk_host_remove_file(ctx, VFK_ROOT_VM_STATE, rel);
}

bool domain_differs(struct vfk_plan *plan, const char *xml)
{
	_cleanup_free_ char *old = NULL;

	return domain_saved(plan->ctx, vfk_plan_get_name(plan), &old) >= 0 && !streq(old, xml);
}

int vfk_vm_definition_diff(struct vfk_plan *plan, char **diff)
{
	_cleanup_free_ char *old = NULL, *xml = NULL;
	char label[128];
	int r;

	if (!plan || !diff)
		return neg_errno(EINVAL);
	*diff = NULL;
	r = domain_saved(plan->ctx, vfk_plan_get_name(plan), &old);
	if (r < 0)
		return r == -ENOENT ? r : neg_errno(-r);
	r = vfk_plan_to_libvirt_xml(plan, &xml);
	if (r < 0)
		return r;
	if (streq(old, xml))
		return 0;
	snprintf(label, sizeof(label), "%s.xml", vfk_plan_get_name(plan));
	*diff = fix_diff(label, old, xml);
	return *diff ? 1 : neg_errno(ENOMEM);
}
