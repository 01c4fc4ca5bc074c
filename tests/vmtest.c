/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "ksim.h"
#include "vmtest.h"

int vm_plan_root(struct vmenv *e, const char *root, const char *ini)
{
	int r;

	memset(e, 0, sizeof(*e));
	if (!root)
		return -ENOENT;
	e->root = strdup(root);
	r = vfk_profile_parse(ini, "/profiles/test.ini", &e->prof, e->err, sizeof(e->err));
	if (r < 0)
		return r;
	r = vfk_ctx_new(e->root, &e->ctx);
	if (r < 0)
		return r;
	r = vfk_host_scan(e->ctx, &e->host);
	if (r < 0)
		return r;
	return vfk_plan_new(e->host, e->prof, &e->plan, e->err, sizeof(e->err));
}

int vm_plan(struct vmenv *e, const char *fixture, const char *ini)
{
	char *root = fixture_host_shared(fixture);
	int r = vm_plan_root(e, root, ini);

	free(root);
	return r;
}

void vm_close(struct vmenv *e)
{
	vfk_plan_free(e->plan);
	vfk_profile_free(e->prof);
	vfk_host_unref(e->host);
	vfk_ctx_unref(e->ctx);
	free(e->root);
	memset(e, 0, sizeof(*e));
}

int vm_plan_bind(struct vmenv *e, struct ksim *k, const char *fixture, const char *ini,
		 const char *owner, int fail_at, char *err, size_t size)
{
	struct vfk_bind *b;
	char *root = fixture_host(fixture);
	int r;

	memset(e, 0, sizeof(*e));
	r = root ? vm_plan_root(e, root, ini) : -ENOMEM;
	free(root);
	if (r < 0)
		return r;
	ksim_init(k, e->root);
	k->fail_at = fail_at;
	vfk_ctx_set_write_hook(e->ctx, ksim_hook, k);
	r = vfk_bind_new(e->host, owner, 0, &b);
	if (r < 0)
		return r;
	vfk_bind_set_timeout(b, 300);
	r = vfk_plan_add_to_bind(e->plan, b);
	if (r == 0)
		r = vfk_bind_commit(b);
	if (err && size)
		snprintf(err, size, "%s", vfk_bind_get_error(b) ? vfk_bind_get_error(b) : "");
	vfk_bind_free(b);
	return r;
}

const char *vm_note(const struct vmenv *e, const char *needle)
{
	size_t i;

	for (i = 0; i < vfk_plan_note_count(e->plan); i++)
		if (strstr(vfk_plan_note(e->plan, i), needle))
			return vfk_plan_note(e->plan, i);
	return NULL;
}

char *vm_xml(const struct vmenv *e)
{
	char *xml = NULL;

	if (vfk_plan_to_libvirt_xml(e->plan, &xml) < 0)
		test_fail_(__FILE__, __LINE__, "vfk_plan_to_libvirt_xml failed");
	return xml;
}

char **vm_argv(const struct vmenv *e)
{
	char **argv = NULL;

	if (vfk_plan_to_qemu_argv(e->plan, &argv) < 0)
		test_fail_(__FILE__, __LINE__, "vfk_plan_to_qemu_argv failed");
	return argv;
}

int argv_find(char *const *argv, const char *flag, const char *value)
{
	int i;

	for (i = 0; argv && argv[i]; i++)
		if (!strcmp(argv[i], flag) && argv[i + 1] && strstr(argv[i + 1], value))
			return i;
	return -1;
}

int argv_count(char *const *argv, const char *flag, const char *prefix)
{
	int i, n = 0;

	for (i = 0; argv && argv[i]; i++)
		if (!strcmp(argv[i], flag) && argv[i + 1] &&
		    !strncmp(argv[i + 1], prefix, strlen(prefix)))
			n++;
	return n;
}

int run_prog(char **out, const char *const argv[])
{
	char *err = NULL;
	int rc = run_tool(out, &err, argv);

	if (rc != 0 && err && *err)
		fprintf(stderr, "  %s: %s", argv[0], err);
	free(err);
	return rc;
}

bool xml_validates(const char *xml, const char *what)
{
	char *file, *out = NULL;
	int rc;

	if (access("/usr/bin/virt-xml-validate", X_OK) != 0) {
		test_fail_(__FILE__, __LINE__, "/usr/bin/virt-xml-validate is missing (Debian package "
			   "libvirt-clients, scripts/packages.list)");
		return false;
	}
	file = write_temp("domain.xml", xml);
	if (!file)
		return false;
	{
		const char *argv[] = { "/usr/bin/virt-xml-validate", file, "domain", NULL };

		rc = run_prog(&out, argv);
	}
	if (rc != 0)
		test_fail_(__FILE__, __LINE__, "%s: virt-xml-validate failed (%d):\n%s\n%s", what, rc,
			   out ? out : "", xml);
	free(out);
	unlink(file);
	free(file);
	return rc == 0;
}

int xcount(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr c = xmlXPathNewContext(doc);
	xmlXPathObjectPtr o = c ? xmlXPathEvalExpression((const xmlChar *)expr, c) : NULL;
	int n = o && o->nodesetval ? o->nodesetval->nodeNr : -1;

	xmlXPathFreeObject(o);
	xmlXPathFreeContext(c);
	return n;
}

char *xstr(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr c = xmlXPathNewContext(doc);
	xmlXPathObjectPtr o = c ? xmlXPathEvalExpression((const xmlChar *)expr, c) : NULL;
	char *s = NULL;

	if (o && o->nodesetval && o->nodesetval->nodeNr > 0) {
		xmlChar *v = xmlNodeGetContent(o->nodesetval->nodeTab[0]);

		s = v ? strdup((const char *)v) : NULL;
		xmlFree(v);
	}
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(c);
	return s;
}

xmlDocPtr xparse(const char *xml)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL, XML_PARSE_NONET);

	if (!doc)
		test_fail_(__FILE__, __LINE__, "libxml2 cannot parse the output:\n%s", xml);
	return doc;
}

char *write_temp(const char *name, const char *text)
{
	char dir[PATH_MAX], *path = NULL;
	const char *tmp = getenv("TMPDIR");
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/vfk-vmtest-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir) || asprintf(&path, "%s/%s", dir, name) < 0)
		return NULL;
	f = fopen(path, "w");
	if (!f) {
		free(path);
		return NULL;
	}
	fputs(text, f);
	fclose(f);
	return path;
}

const char *src_path(const char *rel)
{
	static char buf[PATH_MAX];
	const char *env = getenv("VFK_SRCDIR");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		snprintf(buf, sizeof(buf), "%s/%s", env, rel);
		return buf;
	}
	/* <src>/<BUILD>/tests/run-tests */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *s;
		int up;

		exe[n] = '\0';
		for (up = 0; up < 3 && (s = strrchr(exe, '/')); up++)
			*s = '\0';
		snprintf(buf, sizeof(buf), "%s/%s", exe, rel);
		if (access(buf, F_OK) == 0)
			return buf;
	}
	snprintf(buf, sizeof(buf), "%s", rel);
	return buf;
}


void vfio_vm(struct tool_run *r, const char *cmd, const char *prof, const char *root, ...)
{
	const char *argv[12] = { "vfio-vm", cmd, prof, "--sysroot", root };
	size_t n = 5;
	va_list ap;

	va_start(ap, root);
	while (n < 11 && (argv[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	free(r->out);
	free(r->err);
	r->status = run_tool(&r->out, &r->err, argv);
}

void check_one_line(const struct tool_run *r, int status, const char *want)
{
	CHECK_INT(r->status, status);
	CHECK_CONTAINS(r->err, want);
	CHECK(r->err && strchr(r->err, '\n') == r->err + strlen(r->err) - 1);
}

/* A QMP speaker standing in for QEMU: answers query-version, qom-list-types
 * (implements) and device-list-properties as QEMU 10 with iommufd (@yes) or
 * QEMU 8.1 without it does. Its path, malloc'ed. */
char *fake_qemu_iommufd(bool yes)
{
	char text[2048];
	char *path;

	snprintf(text, sizeof(text),
		 "#!/usr/bin/python3\n"
		 "import json, sys\n"
		 "YES = %s\n"
		 "assert sys.argv[1:3] == ['-machine', 'none'] and '-qmp' in sys.argv\n"
		 "v = {'qemu': {'major': 10 if YES else 8, 'minor': 0 if YES else 1, 'micro': 2}}\n"
		 "print(json.dumps({'QMP': {'version': v, 'capabilities': []}}), flush=True)\n"
		 "for line in sys.stdin:\n"
		 "    c = json.loads(line); e = c['execute']; a = c.get('arguments', {})\n"
		 "    r = {}\n"
		 "    if e == 'query-version': r = dict(v, package='')\n"
		 "    elif e == 'qom-list-types':\n"
		 "        r = [{'name': 'iommufd'}] if YES and a.get('implements') == 'iommufd' else []\n"
		 "    elif e == 'device-list-properties':\n"
		 "        r = [{'name': 'host'}] + ([{'name': 'iommufd'}] if YES else [])\n"
		 "    print(json.dumps({'return': r}), flush=True)\n"
		 "    if e == 'quit': break\n",
		 yes ? "True" : "False");
	path = write_temp(yes ? "qemu-10" : "qemu-8.1", text);
	if (path && chmod(path, 0755) < 0) {
		free(path);
		return NULL;
	}
	return path;
}
