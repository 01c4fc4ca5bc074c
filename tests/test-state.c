/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * State files read at boot, parsed strictly (issue 21, point 2): the
 * persistence file etc/vfiokit/vfio-bind.conf and the mdev definitions
 * (mdevctl's etc/mdevctl.d/PARENT/UUID, vfiokit's etc/vfiokit/vgpu/VF).
 * A damaged file is refused with one line naming the file and the line, and
 * nothing is written because of it; a start that fails after its create
 * removes what it created.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "harness.h"
#include "kenv.h"
#include "vfiokit.h"

#define GPU "0000:01:00.0"	/* desktop-dgpu-igpu: the NVIDIA GPU, on nvidia */
#define CONF "etc/vfiokit/vfio-bind.conf"

#define T4_UUID "5b2f4e1c-8a7d-4c3e-9f60-1d2e3f4a5b6c"	/* nvidia-vgpu: running, defined auto */
#define NEW_UUID "11111111-2222-4333-8444-555555555555"
#define BAD_UUID "22222222-2222-4333-8444-555555555555"
#define IDLE_T4 "0000:d8:00.0"
#define DEFDIR "etc/mdevctl.d/" IDLE_T4 "/"

/* A literal with its length, NUL bytes included. */
#define BYTES(s) s, sizeof(s) - 1

static char *pathf(const char *root, const char *rel)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", root, rel) < 0)
		return NULL;
	return p;
}

static void put_bytes(const char *root, const char *rel, const char *text, size_t len)
{
	char *p = pathf(root, rel);
	FILE *f = p ? fopen(p, "w") : NULL;

	if (!f || fwrite(text, 1, len, f) != len)
		test_fail_(__FILE__, __LINE__, "cannot write %s", p ? p : rel);
	if (f)
		fclose(f);
	free(p);
}

static void mkdir_in(const char *root, const char *rel)
{
	char *p = pathf(root, rel);

	if (!p || (mkdir(p, 0755) < 0 && errno != EEXIST))
		test_fail_(__FILE__, __LINE__, "mkdir %s: %s", rel, strerror(errno));
	free(p);
}

static char *slurp(const char *root, const char *rel)
{
	char *p = pathf(root, rel), *text = p ? read_file(p) : NULL;

	free(p);
	return text;
}

/* Lines of @s (a trailing newline ends the last one). */
static int count_lines(const char *s)
{
	int n = 0;

	for (; s && *s; s++)
		if (*s == '\n' || !s[1])
			n++;
	return n;
}

/* Lines of @s that start with @prefix: the tool's messages, not its ":: " steps. */
static int count_prefixed(const char *s, const char *prefix)
{
	int n = 0;

	for (; s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : "")
		n += !strncmp(s, prefix, strlen(prefix));
	return n;
}

/* Every PCI device's driver_override and driver link, as one string: what
 * any bind would change. */
static char *pci_state(const char *root)
{
	char *dir = pathf(root, "sys/bus/pci/devices"), *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *e;

	while (d && f && (e = readdir(d))) {
		char p[4096], link[4096];
		char *ovr;
		ssize_t n;
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s/driver_override", dir, e->d_name);
		ovr = read_file(p);
		snprintf(p, sizeof(p), "%s/%s/driver", dir, e->d_name);
		n = readlink(p, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
		fprintf(f, "%s override=%s driver=%s\n", e->d_name, ovr ? ovr : "-", link);
		free(ovr);
	}
	if (d)
		closedir(d);
	if (f)
		fclose(f);
	free(dir);
	return out;
}

static int count_writes(void *data, const char *path, const char *value)
{
	(void)path, (void)value;
	++*(int *)data;
	return 1;	/* and skip it */
}

/* ------------------------------------------------ the persistence file */

struct damaged {
	const char *what, *text;
	size_t len;		/* 0: strlen(text); BYTES() for text with a NUL */
	int line;
	const char *says;
};

static const struct damaged persist_table[] = {
	{ "cut id", "[device 0000:01:00.0]\nid = 10de:26\n", 0, 2, "not a vendor:device id" },
	{ "section without id", "# boot\n[device 0000:01:00.0]\n\n[device 0000:01:00.1]\n"
	  "id = 10de:228b\n", 0, 2, "has no 'id = VVVV:DDDD' line" },
	{ "last section without id", "[device 0000:01:00.1]\nid = 10de:228b\n[device 01:00.0]\n",
	  0, 3, "has no 'id" },
	{ "[device] without an address", "[device]\nid = 10de:2684\n", 0, 1, "names no PCI address" },
	{ "bad address", "[device 0000:01:00.9]\nid = 10de:2684\n", 0, 1, "not a PCI address" },
	{ "unknown section", "[devices 0000:01:00.0]\nid = 10de:2684\n", 0, 1, "unknown section" },
	{ "unknown key", "[device 0000:01:00.0]\nid = 10de:2684\ndriver = vfio-pci\n", 0, 3,
	  "unknown key 'driver'" },
	{ "key outside a section", "id = 10de:2684\n", 0, 1, "outside a [device ADDR] section" },
	{ "line that is no key", "[device 0000:01:00.0]\nid 10de:2684\n", 0, 2,
	  "is not a section" },
	{ "id with sign", "[device 0000:02:00.0]\nid = -1:+2\n", 0, 2, "not a vendor:device id" },
	{ "id with five digits", "[device 0000:01:00.0]\nid = 10de:26840\n", 0, 2,
	  "not a vendor:device id" },
	{ "duplicate id in one section", "[device 0000:01:00.0]\nid = 10de:2684\nid = 10de:2684\n",
	  0, 3, "second id (the first on line 2)" },
	{ "contradictory entries", "[device 01:00.0]\nid = 10de:2684\n\n[device 0000:01:00.0]\n"
	  "id = 10de:1eb8\n", 0, 5, "contradicts id = 10de:2684 on line 2" },
	{ "NUL byte", BYTES("[device 0000:01:00.0]\nid = 10de:2684\n\0[device 0000:01:00.1]\n"),
	  3, "NUL byte" },
	{ "NUL inside the id", BYTES("[device 0000:01:00.0]\nid = 10de\0:2684\n"), 2, "NUL byte" },
	{ "section not closed", "[device 0000:01:00.0\nid = 10de:2684\n", 0, 1,
	  "without its closing ']'" },
};

static bool persist_open(struct kenv *e, int *writes)
{
	if (!kenv_open(e, "desktop-dgpu-igpu"))
		return false;
	*writes = 0;
	vfk_ctx_set_write_hook(e->ctx, count_writes, writes);
	mkdir_in(e->root, "etc/vfiokit");
	return vfk_host_scan(e->ctx, &e->host) == 0;
}

/* Every call refuses the file the same way and writes nothing. */
static void persist_refused(struct kenv *e, const int *writes, const char *where,
			    const char *says, const char *label)
{
	struct vfk_device *d;
	char **list = NULL;
	size_t n = 0;

	if (vfk_host_find_device(e->host, GPU, &d) < 0) {
		test_fail_(__FILE__, __LINE__, "%s: no %s", label, GPU);
		return;
	}
	if (vfk_persist_contains(e->ctx, GPU) != -EINVAL ||
	    !vfk_ctx_get_error(e->ctx) || !strstr(vfk_ctx_get_error(e->ctx), where) ||
	    !strstr(vfk_ctx_get_error(e->ctx), says))
		test_fail_(__FILE__, __LINE__, "%s: contains() did not refuse it naming '%s' and "
			   "'%s': %s", label, where, says,
			   vfk_ctx_get_error(e->ctx) ? vfk_ctx_get_error(e->ctx) : "(no error)");
	if (vfk_persist_list(e->ctx, &list, &n) != -EINVAL || !vfk_ctx_get_error(e->ctx))
		test_fail_(__FILE__, __LINE__, "%s: list() accepted it", label);
	if (vfk_persist_add(e->host, d) != -EINVAL || !vfk_ctx_get_error(e->ctx))
		test_fail_(__FILE__, __LINE__, "%s: add() did not refuse it", label);
	if (vfk_persist_remove(e->ctx, GPU) != -EINVAL || !vfk_ctx_get_error(e->ctx))
		test_fail_(__FILE__, __LINE__, "%s: remove() did not refuse it", label);
	if (*writes)
		test_fail_(__FILE__, __LINE__, "%s: %d writes", label, *writes);
}

TEST(persist_damaged_files_are_refused_naming_file_and_line, "a cut id, a section without id, "
     "an unknown key or section, a duplicate id, contradictory entries for one device, NUL "
     "bytes: contains/list/add/remove all fail with -EINVAL, vfk_ctx_get_error() says "
     "PATH:LINE: what, and nothing is written")
{
	size_t i;

	for (i = 0; i < sizeof(persist_table) / sizeof(persist_table[0]); i++) {
		const struct damaged *t = &persist_table[i];
		size_t len = t->len ? t->len : strlen(t->text);
		struct kenv e;
		int writes;
		char where[64], *now;
		if (!persist_open(&e, &writes)) {
			test_fail_(__FILE__, __LINE__, "fixture");
			return;
		}
		put_bytes(e.root, CONF, t->text, len);
		snprintf(where, sizeof(where), "/" CONF ":%d: ", t->line);
		persist_refused(&e, &writes, where, t->says, t->what);
		now = slurp(e.root, CONF);
		/* as far as a C string goes: the NUL cases end there */
		if (!now || strncmp(now, t->text, strlen(t->text)))
			test_fail_(__FILE__, __LINE__, "%s: the file changed", t->what);
		free(now);
		kenv_close(&e);
	}
}

TEST(persist_fifo_directory_or_symlink_is_refused, "a FIFO (nothing blocks), a directory and "
     "a symlink to a good file outside the tree in place of vfio-bind.conf are refused naming "
     "the file; the file outside is neither read into a binding nor written")
{
	static const char good[] = "[device 0000:01:00.0]\nid = 10de:2684\n";
	struct kenv e;
	int writes;
	char *conf, *outside = NULL, *now;

	REQUIRE(persist_open(&e, &writes));
	conf = pathf(e.root, CONF);
	REQUIRE(conf);
	REQUIRE(mkfifo(conf, 0644) == 0);
	persist_refused(&e, &writes, "/" CONF ": ", "is a FIFO", "FIFO");
	unlink(conf);
	REQUIRE(mkdir(conf, 0755) == 0);
	persist_refused(&e, &writes, "/" CONF ": ", "is a directory", "directory");
	rmdir(conf);
	/* a good file, but beside the tree: vfiokit never makes a symlink there */
	outside = pathf(e.root, "../outside-vfio-bind.conf");
	REQUIRE(outside);
	put_bytes(e.root, "../outside-vfio-bind.conf", good, strlen(good));
	REQUIRE(symlink(outside, conf) == 0);
	persist_refused(&e, &writes, "/" CONF ": ", "symbolic link", "symlink");
	now = read_file(outside);
	CHECK(now && !strcmp(now, good));
	free(now);
	unlink(outside);
	free(outside);
	free(conf);
	kenv_close(&e);
}

TEST(persist_accepts_what_people_and_vfiokit_write, "comments (# and ;, whole-line or after a "
     "value), blank lines, CRLF, upper-case hex and one device under two spellings with one id "
     "parse; what persist writes parses back")
{
	static const char text[] =
		"# hand-written\r\n; another comment\n\n[device 01:00.0]\nid = 10DE:2684 ; the GPU\n"
		"[ device 0000:01:00.0 ]\n  id=10de:2684\n[device 0000:01:00.1]\nid = 10de:228b\n";
	struct kenv e;
	struct vfk_device *d;
	int writes;
	char **list;
	size_t n;

	REQUIRE(persist_open(&e, &writes));
	put_bytes(e.root, CONF, text, strlen(text));
	REQUIRE(vfk_persist_list(e.ctx, &list, &n) == 0);
	CHECK_INT(n, 2);
	while (n--)
		free(list[n]);
	free(list);
	CHECK_INT(vfk_persist_contains(e.ctx, "01:00.1"), 1);
	/* a real write this time: what persist writes must read back */
	vfk_ctx_set_write_hook(e.ctx, NULL, NULL);
	{
		char *conf = pathf(e.root, CONF);
		CHECK(conf && unlink(conf) == 0);
		free(conf);
	}
	REQUIRE(vfk_host_find_device(e.host, GPU, &d) == 0);
	CHECK_INT(vfk_persist_add(e.host, d), 0);
	CHECK_INT(vfk_persist_contains(e.ctx, GPU), 1);
	kenv_close(&e);
}

/* Run vfio-bind on @root; returns the exit status. */
static int bind_tool(const char *root, char **out, char **err, const char *a, const char *b,
		     const char *c)
{
	const char *argv[] = { "vfio-bind", "--sysroot", root, a, b, c, NULL };

	*out = *err = NULL;
	return run_tool(out, err, argv);
}

TEST(vfio_bind_damaged_persist_file_is_one_line_exit_3, "persisted, persist and unpersist on "
     "a damaged vfio-bind.conf exit 3 with one line naming file and line, and leave the file "
     "as it was")
{
	static const char text[] = "[device 0000:01:00.0]\nid = 10de:2684\n\n[device 0000:01:00.1]\n"
				   "id = 10de:22\n";
	static const char *const cmds[][2] = { { "persisted", NULL }, { "persist", "01:00.1" },
					       { "unpersist", "01:00.0" } };
	char *root = fixture_host("desktop-dgpu-igpu");
	size_t i;

	REQUIRE(root);
	mkdir_in(root, "etc/vfiokit");
	put_bytes(root, CONF, text, strlen(text));
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char *out, *err, *now;
		int st = bind_tool(root, &out, &err, cmds[i][0], cmds[i][1], NULL);
		CHECK_INT(st, 3);
		CHECK_INT(count_lines(err), 1);
		CHECK_CONTAINS(err, "/" CONF ":5: id = 10de:22: not a vendor:device id");
		CHECK(!out || !*out);
		now = slurp(root, CONF);
		CHECK(now && !strcmp(now, text));
		free(now);
		free(out);
		free(err);
	}
	free(root);
}

TEST(udev_hook_binds_nothing_from_a_refused_file, "udev-hook --rebind on a damaged, FIFO or "
     "symlinked vfio-bind.conf exits 3, prints no VFIOKIT_PERSIST, says why in one line, and "
     "no driver_override or driver changes; a good file still says VFIOKIT_PERSIST=1")
{
	static const char good[] = "[device 0000:01:00.0]\nid = 10de:2684\n";
	char *root = fixture_host("desktop-dgpu-igpu"), *before, *after, *conf, *out, *err;
	const size_t ntable = sizeof(persist_table) / sizeof(persist_table[0]);
	size_t i;
	int st;

	REQUIRE(root);
	mkdir_in(root, "etc/vfiokit");
	conf = pathf(root, CONF);
	before = pci_state(root);
	REQUIRE(before && conf);
	for (i = 0; i < ntable + 2; i++) {
		unlink(conf);
		if (i == ntable)
			CHECK(mkfifo(conf, 0644) == 0);
		else if (i > ntable)
			CHECK(symlink("/etc/hostname", conf) == 0);
		else
			put_bytes(root, CONF, persist_table[i].text,
				 persist_table[i].len ? persist_table[i].len
						      : strlen(persist_table[i].text));
		st = bind_tool(root, &out, &err, "udev-hook", "--rebind", GPU);
		if (st != 3 || (out && strstr(out, "VFIOKIT_PERSIST")) || count_lines(err) != 1 ||
		    !strstr(err, "nothing bound at boot: ") || !strstr(err, "/" CONF))
			test_fail_(__FILE__, __LINE__, "case %zu: exit %d, stdout '%s', stderr '%s'",
				   i, st, out ? out : "", err ? err : "");
		free(out);
		free(err);
		after = pci_state(root);
		if (!after || strcmp(before, after))
			test_fail_(__FILE__, __LINE__, "case %zu changed the devices:\n%s", i, after);
		free(after);
	}
	unlink(conf);
	put_bytes(root, CONF, good, strlen(good));
	st = bind_tool(root, &out, &err, "udev-hook", GPU, NULL);
	CHECK_INT(st, 0);
	CHECK_CONTAINS(out, "VFIOKIT_PERSIST=1");
	free(out);
	free(err);
	free(before);
	free(conf);
	free(root);
}

/* ------------------------------------------------- mdev definitions */

/* Rows the later tests take by name. */
enum { CUT_JSON = 0, TYPE_NUMBER = 4, VALUE_NUMBER = 11, ATTR_REMOVE = 16 };

static const struct damaged mdev_table[] = {
	{ "cut JSON", "{\n  \"mdev_type\": \"nvidia-231\",\n  \"start\": \"au", 0, 3,
	  "start: the string is not closed" },
	{ "cut after a value", "{\"mdev_type\": \"nvidia-231\", \"start\": \"auto\"", 0, 1,
	  "expected ',' or '}', found the end of the file" },
	{ "empty file", "", 0, 1, "expected a JSON object" },
	{ "not an object", "[\"nvidia-231\"]\n", 0, 1, "expected a JSON object" },
	{ "type is a number", "{\"mdev_type\": 231, \"start\": \"auto\"}", 0, 1,
	  "mdev_type: expected a string, found a number" },
	{ "start is a boolean", "{\"mdev_type\": \"nvidia-231\",\n\"start\": true}", 0, 2,
	  "start: expected a string, found a boolean" },
	{ "start is neither", "{\"mdev_type\": \"nvidia-231\", \"start\": \"boot\"}", 0, 1,
	  "not \"auto\" or \"manual\"" },
	{ "no start", "{\"mdev_type\": \"nvidia-231\"}", 0, 1, "no start" },
	{ "no type", "{\"start\": \"auto\", \"attrs\": []}", 0, 1, "no mdev_type" },
	{ "type not an id", "{\"mdev_type\": \"../../remove\", \"start\": \"auto\"}", 0, 1,
	  "is not a type id" },
	{ "attrs is an object", "{\"mdev_type\": \"nvidia-231\", \"start\": \"auto\",\n"
	  "\"attrs\": {\"vgpu_params\": \"x\"}}", 0, 2, "attrs: expected an array" },
	{ "attr value a number", "{\"mdev_type\": \"nvidia-231\", \"start\": \"auto\", \"attrs\": [\n"
	  "  {\"vgpu_params\": 0}\n]}", 0, 2, "attrs[0] vgpu_params: expected a string, found a number" },
	{ "two attrs in one object", "{\"mdev_type\": \"nvidia-231\", \"start\": \"auto\", \"attrs\": "
	  "[{\"a\": \"1\", \"b\": \"2\"}]}", 0, 1, "one attribute per object" },
	{ "attr element not an object", "{\"mdev_type\": \"nvidia-231\", \"start\": \"auto\", "
	  "\"attrs\": [\"vgpu_params=1\"]}", 0, 1, "attrs[0]: expected an object" },
	{ "unknown key", "{\"mdev_type\": \"nvidia-231\",\n\"start\": \"auto\",\n\"atrs\": []}", 0, 3,
	  "unknown key \"atrs\"" },
	{ "key given twice", "{\"mdev_type\": \"nvidia-231\",\n\"start\": \"auto\",\n"
	  "\"mdev_type\": \"nvidia-232\"}", 0, 3, "mdev_type given twice (first on line 1)" },
	{ "attribute remove", "{\"mdev_type\": \"nvidia-231\", \"start\": \"auto\", \"attrs\": "
	  "[{\"remove\": \"1\"}]}", 0, 1, "\"remove\" is not an attribute" },
	{ "attribute with a path", "{\"mdev_type\": \"nvidia-231\", \"start\": \"auto\", \"attrs\": "
	  "[{\"../../../remove\": \"1\"}]}", 0, 1, "is not an attribute" },
	{ "attribute in a subdirectory", "{\"mdev_type\": \"nvidia-231\", \"start\": \"auto\", "
	  "\"attrs\": [{\"nvidia/vgpu_params\": \"x\"}]}", 0, 1, "is not an attribute" },
	{ "empty value", "{\"mdev_type\": \"nvidia-231\", \"start\": \"auto\", \"attrs\": "
	  "[{\"vgpu_params\": \"\"}]}", 0, 1, "printable ASCII" },
	{ "value with a newline", "{\"mdev_type\": \"nvidia-231\", \"start\": \"auto\", \"attrs\": "
	  "[{\"vgpu_params\": \"a\\nb\"}]}", 0, 1, "printable ASCII" },
	{ "value with an escaped NUL", "{\"mdev_type\": \"nvidia-231\", \"start\": \"auto\", "
	  "\"attrs\": [{\"vgpu_params\": \"a\\u0000b\"}]}", 0, 1, "a NUL or a character" },
	{ "value not ASCII", "{\"mdev_type\": \"nvidia-231\", \"start\": \"auto\", \"attrs\": "
	  "[{\"vgpu_params\": \"caf\xc3\xa9\"}]}", 0, 1, "not ASCII" },
	{ "NUL byte", BYTES("{\"mdev_type\": \"nvidia-231\",\n\"start\": \"auto\"}\n\0\n"), 3,
	  "text after the definition's closing '}'" },
	{ "text after the object", "{\"mdev_type\": \"nvidia-231\", \"start\": \"auto\"}\n{}\n", 0,
	  2, "text after" },
	{ "trailing comma", "{\"mdev_type\": \"nvidia-231\", \"start\": \"auto\",}", 0, 1,
	  "key: expected a string" },
};

static bool mdev_open(struct kenv *e)
{
	return kenv_open(e, "nvidia-vgpu");
}

TEST(mdev_damaged_definitions_are_broken_with_file_and_line, "cut JSON, wrong types, unknown "
     "or repeated keys, attributes that are no plain sysfs name or are the mdev core's own, "
     "values a sysfs write cannot carry: the file is listed as broken with PATH:LINE: what, "
     "is no instance, and the good definitions are still read")
{
	size_t i;

	for (i = 0; i < sizeof(mdev_table) / sizeof(mdev_table[0]); i++) {
		const struct damaged *t = &mdev_table[i];
		struct kenv e;
		char where[128];
		struct vfk_mdev_instance *in;
		if (!mdev_open(&e)) {
			test_fail_(__FILE__, __LINE__, "fixture");
			return;
		}
		put_bytes(e.root, DEFDIR BAD_UUID, t->text, t->len ? t->len : strlen(t->text));
		if (vfk_mdevs_scan(e.ctx, &e.m) < 0) {
			test_fail_(__FILE__, __LINE__, "%s: scan failed", t->what);
			kenv_close(&e);
			continue;
		}
		snprintf(where, sizeof(where), "/" DEFDIR BAD_UUID ":%d: ", t->line);
		if (vfk_mdevs_broken_count(e.m) != 1 ||
		    !strstr(vfk_mdevs_broken_error(e.m, 0), where) ||
		    !strstr(vfk_mdevs_broken_error(e.m, 0), t->says))
			test_fail_(__FILE__, __LINE__, "%s: expected '%s' and '%s', got %zu broken: %s",
				   t->what, where, t->says, vfk_mdevs_broken_count(e.m),
				   vfk_mdevs_broken_count(e.m) ? vfk_mdevs_broken_error(e.m, 0) : "");
		else if (strcmp(vfk_mdevs_broken_id(e.m, 0), BAD_UUID) ||
			 strcmp(vfk_mdevs_broken_parent(e.m, 0), IDLE_T4))
			test_fail_(__FILE__, __LINE__, "%s: id/parent %s %s", t->what,
				   vfk_mdevs_broken_id(e.m, 0), vfk_mdevs_broken_parent(e.m, 0));
		if (vfk_mdevs_find_instance(e.m, BAD_UUID, &in) == 0)
			test_fail_(__FILE__, __LINE__, "%s: a broken definition is an instance", t->what);
		if (vfk_mdevs_instance_count(e.m) != 2)
			test_fail_(__FILE__, __LINE__, "%s: the good definitions were lost", t->what);
		if (strchr(vfk_mdevs_broken_error(e.m, 0) ? vfk_mdevs_broken_error(e.m, 0) : "", '\n'))
			test_fail_(__FILE__, __LINE__, "%s: the error is not one line", t->what);
		kenv_close(&e);
	}
}

TEST(mdev_definitions_as_mdevctl_writes_them_parse, "mdevctl's own files parse: no attrs key, "
     "an empty attrs array, repeated attribute names in order, escaped slashes, pretty-printed")
{
	static const char ap[] =
		"{\n  \"mdev_type\": \"vfio_ap-passthrough\",\n  \"start\": \"manual\",\n  \"attrs\": [\n"
		"    {\n      \"assign_adapter\": \"5\"\n    },\n    {\n      \"assign_adapter\": \"6\"\n"
		"    },\n    {\n      \"assign_domain\": \"0xab\"\n    }\n  ]\n}";
	static const char bare[] = "{\"mdev_type\":\"i915-GVTg_V5_8\",\"start\":\"auto\"}";
	static const char slash[] = "{\"mdev_type\": \"nvidia-231\", \"start\": \"auto\", \"attrs\": "
				    "[{\"vgpu_params\": \"a\\/b \\\"c\\\"\"}]}\n";
	struct kenv e;

	REQUIRE(mdev_open(&e));
	put_bytes(e.root, DEFDIR NEW_UUID, ap, strlen(ap));
	put_bytes(e.root, DEFDIR BAD_UUID, bare, strlen(bare));
	put_bytes(e.root, DEFDIR "33333333-2222-4333-8444-555555555555", slash, strlen(slash));
	REQUIRE(vfk_mdevs_scan(e.ctx, &e.m) == 0);
	CHECK_INT(vfk_mdevs_broken_count(e.m), 0);
	if (vfk_mdevs_broken_count(e.m))
		test_fail_(__FILE__, __LINE__, "%s", vfk_mdevs_broken_error(e.m, 0));
	CHECK_INT(vfk_mdevs_instance_count(e.m), 5);
	kenv_close(&e);
}

TEST(mdev_definition_that_is_no_regular_file_is_broken, "a symlink to a good definition "
     "outside the tree, a FIFO (nothing blocks) and a directory named by a UUID are broken, "
     "named by their path")
{
	static const char good[] = "{\"mdev_type\": \"nvidia-231\", \"start\": \"auto\"}";
	struct kenv e;
	char *p, *outside;
	size_t i;
	static const char *const says[] = { "symbolic link", "is a FIFO", "is a directory" };

	REQUIRE(mdev_open(&e));
	outside = pathf(e.root, "../outside-def");
	put_bytes(e.root, "../outside-def", good, strlen(good));
	p = pathf(e.root, DEFDIR NEW_UUID);
	REQUIRE(p && outside && symlink(outside, p) == 0);
	free(p);
	p = pathf(e.root, DEFDIR BAD_UUID);
	REQUIRE(p && mkfifo(p, 0644) == 0);
	free(p);
	mkdir_in(e.root, DEFDIR "33333333-2222-4333-8444-555555555555");
	REQUIRE(vfk_mdevs_scan(e.ctx, &e.m) == 0);
	REQUIRE(vfk_mdevs_broken_count(e.m) == 3);
	for (i = 0; i < 3; i++) {
		CHECK_CONTAINS(vfk_mdevs_broken_error(e.m, i), "/" DEFDIR);
		CHECK_CONTAINS(vfk_mdevs_broken_error(e.m, i), says[i]);
	}
	CHECK_INT(vfk_mdevs_instance_count(e.m), 2);
	unlink(outside);
	free(outside);
	kenv_close(&e);
}

TEST(mdev_uuid_defined_on_two_parents_is_broken_on_both, "one UUID with a definition under "
     "each T4 is contradictory: both files are broken, neither is started")
{
	static const char def[] = "{\"mdev_type\": \"nvidia-231\", \"start\": \"auto\"}\n";
	struct kenv e;

	REQUIRE(mdev_open(&e));
	put_bytes(e.root, DEFDIR NEW_UUID, def, strlen(def));
	put_bytes(e.root, "etc/mdevctl.d/0000:3b:00.0/" NEW_UUID, def, strlen(def));
	REQUIRE(vfk_mdevs_scan(e.ctx, &e.m) == 0);
	REQUIRE(vfk_mdevs_broken_count(e.m) == 2);
	CHECK_CONTAINS(vfk_mdevs_broken_error(e.m, 0), "is also defined on " IDLE_T4);
	CHECK_CONTAINS(vfk_mdevs_broken_error(e.m, 1), "is also defined on 0000:3b:00.0");
	CHECK_INT(vfk_mdev_start(e.ctx, NEW_UUID, 0, e.err, sizeof(e.err)), -EBADMSG);
	CHECK_INT(vfk_mdev_start_defined(e.ctx, NULL, 0, e.err, sizeof(e.err)), -EBADMSG);
	CHECK_INT(e.k.writes, 0);
	kenv_close(&e);
}

TEST(mdev_start_of_a_broken_definition_creates_nothing, "start of a definition with an "
     "invalid attribute (or any damage) is -EBADMSG naming file and line, before any write: "
     "no create, no mdev")
{
	struct kenv e;
	size_t i;

	REQUIRE(mdev_open(&e));
	for (i = 0; i < sizeof(mdev_table) / sizeof(mdev_table[0]); i++) {
		const struct damaged *t = &mdev_table[i];
		char where[128];
		put_bytes(e.root, DEFDIR BAD_UUID, t->text, t->len ? t->len : strlen(t->text));
		snprintf(where, sizeof(where), "/" DEFDIR BAD_UUID ":%d: ", t->line);
		if (vfk_mdev_start(e.ctx, BAD_UUID, 0, e.err, sizeof(e.err)) != -EBADMSG ||
		    !strstr(e.err, where))
			test_fail_(__FILE__, __LINE__, "%s: %s", t->what, e.err);
	}
	CHECK_INT(e.k.writes, 0);
	CHECK(!kenv_exists(&e, "sys/bus/mdev/devices/" BAD_UUID));
	kenv_close(&e);
}

/* The stand-in kernel has no vendor attributes: an attribute write the
 * "driver" refuses. */
static int refusing_hook(void *data, const char *path, const char *value)
{
	if (strstr(path, "/vgpu_params"))
		return -EACCES;
	return ksim_hook(data, path, value);
}

static void start_rolls_back(bool missing)
{
	static const char def[] = "{\"mdev_type\": \"nvidia-231\", \"start\": \"manual\", \"attrs\": "
				  "[{\"vgpu_params\": \"frame_rate_limiter=0\"}]}\n";
	struct kenv e;
	char *avail_before, *avail_after;
	int at_create, at_remove;

	REQUIRE(mdev_open(&e));
	if (!missing)
		vfk_ctx_set_write_hook(e.ctx, refusing_hook, &e.k);
	put_bytes(e.root, DEFDIR NEW_UUID, def, strlen(def));
	avail_before = slurp(e.root, "sys/class/mdev_bus/" IDLE_T4
			     "/mdev_supported_types/nvidia-231/available_instances");
	CHECK_INT(vfk_mdev_start(e.ctx, NEW_UUID, 0, e.err, sizeof(e.err)),
		  missing ? -ENOENT : -EACCES);
	CHECK_CONTAINS(e.err, "writing attribute vgpu_params failed");
	CHECK_CONTAINS(e.err, "the mdev created for it was removed again");
	CHECK(!strchr(e.err, '\n'));
	at_create = kenv_log_index(&e, "sys/class/mdev_bus/" IDLE_T4
				   "/mdev_supported_types/nvidia-231/create <- " NEW_UUID);
	at_remove = kenv_log_index(&e, "sys/bus/mdev/devices/" NEW_UUID "/remove <- 1");
	CHECK(at_create >= 0);
	CHECK(at_remove > at_create);
	CHECK(!kenv_exists(&e, "sys/bus/mdev/devices/" NEW_UUID));
	avail_after = slurp(e.root, "sys/class/mdev_bus/" IDLE_T4
			    "/mdev_supported_types/nvidia-231/available_instances");
	CHECK(avail_before && avail_after && !strcmp(avail_before, avail_after));
	free(avail_before);
	free(avail_after);
	kenv_close(&e);
}

TEST(mdev_start_removes_the_mdev_when_an_attribute_write_fails, "the driver refuses an "
     "attribute after the create: the new mdev is removed (remove <- 1) and the error says so")
{
	start_rolls_back(false);
}

TEST(mdev_start_removes_the_mdev_when_an_attribute_is_missing, "an attribute the new mdev "
     "does not have (its write is -ENOENT) removes the mdev again, as mdevctl does")
{
	start_rolls_back(true);
}

TEST(mdev_start_defined_reports_each_broken_file_and_starts_the_good_ones, "at boot the good "
     "definition is created although two files on the same parent are damaged; the result "
     "is -EBADMSG and errbuf has one PATH:LINE line per damaged file")
{
	struct kenv e;

	REQUIRE(mdev_open(&e));
	REQUIRE(vfk_mdev_remove(e.ctx, T4_UUID, 0, e.err, sizeof(e.err)) == 0);
	put_bytes(e.root, "etc/mdevctl.d/0000:3b:00.0/" NEW_UUID, mdev_table[CUT_JSON].text,
		 strlen(mdev_table[CUT_JSON].text));
	put_bytes(e.root, "etc/mdevctl.d/0000:3b:00.0/" BAD_UUID, mdev_table[ATTR_REMOVE].text,
		 strlen(mdev_table[ATTR_REMOVE].text));
	CHECK_INT(vfk_mdev_start_defined(e.ctx, "3b:00.0", 0, e.err, sizeof(e.err)), -EBADMSG);
	CHECK_INT(count_lines(e.err), 2);
	CHECK_CONTAINS(e.err, "/etc/mdevctl.d/0000:3b:00.0/" NEW_UUID ":3: ");
	CHECK_CONTAINS(e.err, "/etc/mdevctl.d/0000:3b:00.0/" BAD_UUID ":1: ");
	CHECK(kenv_log_index(&e, "sys/class/mdev_bus/0000:3b:00.0/mdev_supported_types/nvidia-231/"
			     "create <- " T4_UUID) >= 0);
	CHECK(kenv_exists(&e, "sys/bus/mdev/devices/" T4_UUID));
	/* another parent's damage is not this parent's boot */
	CHECK_INT(vfk_mdev_start_defined(e.ctx, IDLE_T4, 0, e.err, sizeof(e.err)), 0);
	kenv_close(&e);
}

TEST(mdev_undefine_takes_a_broken_definition_and_define_does_not_overwrite_it, "undefine "
     "removes a damaged file (that is how it is fixed); define over one is refused, its "
     "attrs would be lost")
{
	struct kenv e;

	REQUIRE(mdev_open(&e));
	put_bytes(e.root, DEFDIR BAD_UUID, mdev_table[VALUE_NUMBER].text,
		 strlen(mdev_table[VALUE_NUMBER].text));
	CHECK_INT(vfk_mdev_define(e.ctx, BAD_UUID, IDLE_T4, "nvidia-231", 0, NULL, e.err,
				  sizeof(e.err)), -EBADMSG);
	CHECK_CONTAINS(e.err, "/" DEFDIR BAD_UUID ":2: ");
	CHECK(kenv_exists(&e, DEFDIR BAD_UUID));
	CHECK_INT(vfk_mdev_undefine(e.ctx, BAD_UUID, 0, e.err, sizeof(e.err)), 0);
	CHECK(!kenv_exists(&e, DEFDIR BAD_UUID));
	CHECK_INT(vfk_mdev_define(e.ctx, BAD_UUID, IDLE_T4, "nvidia-231", 0, NULL, e.err,
				  sizeof(e.err)), 0);
	kenv_close(&e);
}

/* ------------------------------------------------------ vfio-mdev */

static int mdev_tool(const char *root, char **out, char **err, const char *a, const char *b)
{
	const char *argv[] = { "vfio-mdev", "--sysroot", root, a, b, NULL };

	*out = *err = NULL;
	return run_tool(out, err, argv);
}

TEST(vfio_mdev_list_shows_broken_definitions_and_exits_3, "list: a broken definition is a "
     "row 'broken definition', its reason one stderr line, --json a 'broken' array with id, "
     "parent, error; the good ones are listed; exit 3")
{
	char *root = fixture_host("nvidia-vgpu"), *out, *err;
	json_object *j = NULL, *arr, *b, *v;

	REQUIRE(root);
	put_bytes(root, DEFDIR BAD_UUID, mdev_table[CUT_JSON].text, strlen(mdev_table[CUT_JSON].text));
	CHECK_INT(mdev_tool(root, &out, &err, "list", NULL), 3);
	CHECK_CONTAINS(out, BAD_UUID "  " IDLE_T4);
	CHECK_CONTAINS(out, "broken definition");
	CHECK_CONTAINS(out, T4_UUID);
	CHECK_INT(count_lines(err), 1);
	CHECK_CONTAINS(err, "/" DEFDIR BAD_UUID ":3: start: the string is not closed");
	free(out);
	free(err);
	CHECK_INT(mdev_tool(root, &out, &err, "list", "--json"), 3);
	REQUIRE(out && (j = json_tokener_parse(out)));
	CHECK(json_object_object_get_ex(j, "instances", &arr) && json_object_array_length(arr) == 2);
	REQUIRE(json_object_object_get_ex(j, "broken", &arr) && json_object_array_length(arr) == 1);
	b = json_object_array_get_idx(arr, 0);
	CHECK(json_object_object_get_ex(b, "id", &v) && !strcmp(json_object_get_string(v), BAD_UUID));
	CHECK(json_object_object_get_ex(b, "parent", &v) &&
	      !strcmp(json_object_get_string(v), IDLE_T4));
	CHECK(json_object_object_get_ex(b, "error", &v) &&
	      strstr(json_object_get_string(v), ":3: start"));
	json_object_put(j);
	free(out);
	free(err);
	free(root);
}

TEST(vfio_mdev_start_and_start_defined_on_broken_files_exit_3, "start of a broken definition "
     "exits 3 with one line and writes no create; start-defined names each broken file on "
     "its own line and exits 3")
{
	char *root = fixture_host("nvidia-vgpu"), *out, *err, *create_before, *create_after;
	static const char create[] = "sys/class/mdev_bus/" IDLE_T4
				     "/mdev_supported_types/nvidia-231/create";

	REQUIRE(root);
	put_bytes(root, DEFDIR BAD_UUID, mdev_table[ATTR_REMOVE].text,
		 strlen(mdev_table[ATTR_REMOVE].text));
	put_bytes(root, DEFDIR NEW_UUID, mdev_table[TYPE_NUMBER].text,
		 strlen(mdev_table[TYPE_NUMBER].text));
	create_before = slurp(root, create);
	CHECK_INT(mdev_tool(root, &out, &err, "start", BAD_UUID), 3);
	CHECK_INT(count_lines(err), 1);
	CHECK_CONTAINS(err, "/" DEFDIR BAD_UUID ":1: attrs[0]: \"remove\" is not an attribute");
	free(out);
	free(err);
	CHECK_INT(mdev_tool(root, &out, &err, "start-defined", NULL), 3);
	CHECK_INT(count_prefixed(err, "vfio-mdev: "), 2);
	CHECK_CONTAINS(err, "/" DEFDIR BAD_UUID ":1: ");
	CHECK_CONTAINS(err, "/" DEFDIR NEW_UUID ":1: mdev_type: expected a string");
	free(out);
	free(err);
	create_after = slurp(root, create);
	CHECK(create_before && create_after && !strcmp(create_before, create_after));
	free(create_before);
	free(create_after);
	free(root);
}
