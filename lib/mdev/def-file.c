/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One definition file in mdevctl's JSON schema: read strictly, since boot
 * starts vGPUs from it unattended, and formatted as mdevctl writes it.
 */
#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>

#include "core/errmsg.h"
#include "mdev/mdev.h"

#define DEF_MAX 16384		/* mdevctl writes a few hundred bytes */
#define ATTR_VALUE_MAX 4095	/* what one sysfs write carries (a page, NUL-terminated) */

/*
 * mdevctl's JSON, read strictly and for this schema only: every byte must
 * belong to it, every error names its line. A general JSON parser would
 * take a duplicate key silently (the last wins) and knows no lines.
 */
struct jin {
	const char *p, *end;
	struct vfk_where at;	/* file and line, for messages */
};

/* The definition is refused: "PATH:LINE: what", -EBADMSG. */
#define jfail(j, ...) vfk_fail_at(&(j)->at, EBADMSG, __VA_ARGS__)

static void jblank(struct jin *j)
{
	for (; j->p < j->end; j->p++) {
		if (*j->p == '\n')
			j->at.line++;
		else if (*j->p != ' ' && *j->p != '\t' && *j->p != '\r')
			break;
	}
}

/* Take @c if it comes next, after blanks. */
static bool jtake(struct jin *j, char c)
{
	jblank(j);
	if (j->p < j->end && *j->p == c) {
		j->p++;
		return true;
	}
	return false;
}

/* What comes next, for "expected X, found Y". */
static const char *jnext(const struct jin *j)
{
	if (j->p >= j->end)
		return "the end of the file (cut short?)";
	switch (*j->p) {
	case '"': return "a string";
	case '{': return "an object";
	case '[': return "an array";
	case 't': case 'f': return "a boolean";
	case 'n': return "null";
	case '}': return "'}'";
	case ']': return "']'";
	case ',': return "','";
	case ':': return "':'";
	default:
		return *j->p == '-' || isdigit((unsigned char)*j->p) ? "a number" : "a byte that is not JSON";
	}
}

static int junescape(struct jin *j, const char *what, unsigned int *c)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *at;
	char hex[5], *end;

	if (j->p >= j->end)
		return jfail(j, "%s: the string is not closed (cut short?)", what);
	if (*j->p != 'u') {
		if (!*j->p || !(at = strchr(from, *j->p)))
			return jfail(j, "%s: unknown escape in a string", what);
		*c = (unsigned char)to[at - from];
		j->p++;
		return 0;
	}
	if (j->end - j->p < 5)
		return jfail(j, "%s: the string is not closed (cut short?)", what);
	memcpy(hex, j->p + 1, 4);
	hex[4] = '\0';
	*c = (unsigned int)strtoul(hex, &end, 16);
	if (end != hex + 4 || !isxdigit((unsigned char)hex[0]))
		return jfail(j, "%s: \\u needs four hex digits", what);
	j->p += 5;
	return 0;
}

/* A JSON string into @out: ASCII, as everything in the schema is. */
static int jstring(struct jin *j, char *out, size_t size, const char *what)
{
	size_t n = 0;
	int r;

	if (!jtake(j, '"'))
		return jfail(j, "%s: expected a string, found %s", what, jnext(j));
	for (;;) {
		unsigned int c;
		if (j->p >= j->end)
			return jfail(j, "%s: the string is not closed (cut short?)", what);
		c = (unsigned char)*j->p++;
		if (c == '"')
			break;
		if (c < 0x20)
			return jfail(j, "%s: control byte 0x%02x inside a string", what, c);
		if (c == '\\' && (r = junescape(j, what, &c)) < 0)
			return r;
		if (c == 0 || c > 0x7f)
			return jfail(j, "%s: a NUL or a character that is not ASCII", what);
		if (n + 1 >= size)
			return jfail(j, "%s: longer than %zu characters", what, size - 1);
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

static int def_type(struct jin *j, struct mdev_def *d)
{
	char b[48];
	int r = jstring(j, d->type, sizeof(d->type), "mdev_type");

	if (r == 0 && !mdev_name_ok(d->type, sizeof(d->type)))
		return jfail(j, "mdev_type \"%s\" is not a type id",
			     vfk_shown(d->type, b, sizeof(b)));
	return r;
}

static int def_start(struct jin *j, struct mdev_def *d)
{
	char v[16], b[48];
	int r = jstring(j, v, sizeof(v), "start");

	if (r < 0)
		return r;
	if (!streq(v, "auto") && !streq(v, "manual"))
		return jfail(j, "start is \"%s\", not \"auto\" or \"manual\"",
			     vfk_shown(v, b, sizeof(b)));
	d->autostart = streq(v, "auto");
	return 0;
}

/*
 * The files the mdev core itself puts in every instance's directory, never
 * an attribute: "remove" would end the instance, "uevent" fakes events, the
 * rest are links or directories.
 */
static bool attr_name_ok(const char *name)
{
	static const char *const core[] = { "remove", "uevent", "mdev_type", "iommu_group",
					    "driver", "subsystem", "power" };
	size_t i;

	if (!mdev_name_ok(name, sizeof(((struct mdev_attr *)0)->name)))
		return false;
	for (i = 0; i < ARRAY_SIZE(core); i++)
		if (streq(name, core[i]))
			return false;
	return true;
}

/* Printable ASCII, as vendor drivers' attributes take: no NUL to cut the
 * write short, no newline to make one value two. */
static bool attr_value_ok(const char *v)
{
	if (!*v)
		return false;
	for (; *v; v++)
		if (*v < 0x20 || *v > 0x7e)
			return false;
	return true;
}

static int def_add_attr(struct mdev_def *d, const char *name, const char *value)
{
	struct mdev_attr *a = realloc(d->attrs, (d->nattrs + 1) * sizeof(*a));

	if (!a)
		return neg_errno(ENOMEM);
	d->attrs = a;
	a += d->nattrs;
	snprintf(a->name, sizeof(a->name), "%s", name);
	if (!(a->value = strdup(value)))
		return neg_errno(ENOMEM);
	d->nattrs++;
	return 0;
}

/* One element of attrs: {"name": "value"}, exactly one member. */
static int def_attr(struct jin *j, struct mdev_def *d)
{
	char name[64], value[ATTR_VALUE_MAX + 1], what[96], b[48];
	size_t i = d->nattrs;
	int r;

	if (!jtake(j, '{'))
		return jfail(j, "attrs[%zu]: expected an object {\"name\": \"value\"}, found %s", i,
			     jnext(j));
	snprintf(what, sizeof(what), "attrs[%zu] name", i);
	if ((r = jstring(j, name, sizeof(name), what)) < 0)
		return r;
	if (!attr_name_ok(name))
		return jfail(j, "attrs[%zu]: \"%s\" is not an attribute an mdev's definition may set",
			     i, vfk_shown(name, b, sizeof(b)));
	if (!jtake(j, ':'))
		return jfail(j, "attrs[%zu]: expected ':' after \"%s\"", i, name);
	snprintf(what, sizeof(what), "attrs[%zu] %s", i, name);
	if ((r = jstring(j, value, sizeof(value), what)) < 0)
		return r;
	if (!attr_value_ok(value))
		return jfail(j, "%s: the value must be 1 to %d characters of printable ASCII", what,
			     ATTR_VALUE_MAX);
	if (jtake(j, ','))
		return jfail(j, "attrs[%zu]: one attribute per object in mdevctl's format", i);
	if (!jtake(j, '}'))
		return jfail(j, "attrs[%zu]: expected '}', found %s", i, jnext(j));
	return def_add_attr(d, name, value);
}

static int def_attrs(struct jin *j, struct mdev_def *d)
{
	int r;

	if (!jtake(j, '['))
		return jfail(j, "attrs: expected an array [{\"name\": \"value\"}, ...], found %s",
			     jnext(j));
	if (jtake(j, ']'))
		return 0;
	/* the per-VF interface has no mdev to write them to: they would be ignored */
	if (d->kind == VFK_MDEV_NVIDIA_VF)
		return jfail(j, "attrs: a per-VF vGPU takes no attributes");
	do
		if ((r = def_attr(j, d)) < 0)
			return r;
	while (jtake(j, ','));
	if (!jtake(j, ']'))
		return jfail(j, "attrs: expected ',' or ']', found %s", jnext(j));
	return 0;
}

/* One member of the top object; @seen holds the line each key was given on. */
static int def_member(struct jin *j, struct mdev_def *d, unsigned int seen[3])
{
	static const char *const keys[] = { "mdev_type", "start", "attrs" };
	char key[64], b[48];
	size_t k;
	int r;

	if ((r = jstring(j, key, sizeof(key), "key")) < 0)
		return r;
	for (k = 0; k < ARRAY_SIZE(keys) && !streq(key, keys[k]); k++)
		;
	if (k == ARRAY_SIZE(keys))
		return jfail(j, "unknown key \"%s\" (mdev_type, start, attrs)",
			     vfk_shown(key, b, sizeof(b)));
	if (seen[k])
		return jfail(j, "%s given twice (first on line %u)", key, seen[k]);
	seen[k] = j->at.line;
	if (!jtake(j, ':'))
		return jfail(j, "expected ':' after \"%s\"", key);
	return k == 0 ? def_type(j, d) : k == 1 ? def_start(j, d) : def_attrs(j, d);
}

/*
 * Parse a definition: {"mdev_type": ID, "start": "auto"|"manual",
 * "attrs": [{NAME: VALUE}, ...]} (attrs optional, as mdevctl has it).
 * 0, -EBADMSG with "PATH:LINE: what" in @j->at.err, or -ENOMEM.
 */
static int def_parse(struct jin *j, struct mdev_def *d)
{
	unsigned int seen[3] = { 0 };
	int r;

	if (!jtake(j, '{'))
		return jfail(j, "expected a JSON object {\"mdev_type\": ..., \"start\": ...}, found %s",
			     jnext(j));
	if (!jtake(j, '}')) {
		do
			if ((r = def_member(j, d, seen)) < 0)
				return r;
		while (jtake(j, ','));
		if (!jtake(j, '}'))
			return jfail(j, "expected ',' or '}', found %s", jnext(j));
	}
	jblank(j);
	if (j->p < j->end)
		return jfail(j, "text after the definition's closing '}'");
	if (!seen[0])
		return jfail(j, "no mdev_type");
	if (!seen[1])
		return jfail(j, "no start (\"auto\" or \"manual\")");
	return 0;
}

/*
 * The file must be a regular file inside the sysroot: a FIFO would block the
 * boot, a symlink may point anywhere (vfiokit and mdevctl write the files
 * themselves).
 */
int mdev_def_load(struct vfk_ctx *ctx, int dfd, const char *name, const char *path,
		  struct mdev_def *d, char *err, size_t errsize)
{
	_cleanup_free_ char *text = NULL;
	struct jin j = { .at = { .path = path, .line = 1, .err = err, .errsize = errsize } };
	const char *why;
	size_t n = 0;
	int r;

	r = vfk_read_file_in(ctx, dfd, name, DEF_MAX - 1, &text, &n);
	switch (r) {
	case 0:
		j.p = text;
		j.end = text + n;
		return def_parse(&j, d);
	case -ENOMEM:
		return r;
	case -ELOOP: why = "is a symbolic link, not the file itself"; break;
	case -EISDIR: why = "is a directory, not a regular file"; break;
	case -EINVAL: why = "is a FIFO or special file, not a regular file"; break;
	case -EXDEV: why = "lies outside the sysroot"; break;
	case -EAGAIN: why = "changed while it was read"; break;
	case -EFBIG:
		return op_error(err, errsize, EBADMSG, "%s: larger than %d bytes", path, DEF_MAX - 1);
	default:
		why = strerror(-r);
		break;
	}
	return op_error(err, errsize, EBADMSG, "%s: %s", path, why);
}

char *mdev_def_format(const struct mdev_def *d)
{
	json_object *root = json_object_new_object(), *attrs = json_object_new_array();
	char *text = NULL;
	size_t i;

	if (!root || !attrs) {
		json_object_put(root);
		json_object_put(attrs);
		return NULL;
	}
	json_object_object_add(root, "mdev_type", json_object_new_string(d->type));
	json_object_object_add(root, "start", json_object_new_string(d->autostart ? "auto" : "manual"));
	for (i = 0; i < d->nattrs; i++) {
		json_object *a = json_object_new_object();
		json_object_object_add(a, d->attrs[i].name, json_object_new_string(d->attrs[i].value));
		json_object_array_add(attrs, a);
	}
	json_object_object_add(root, "attrs", attrs);
	if (asprintf(&text, "%s\n",
		     json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							  JSON_C_TO_STRING_SPACED |
							  JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
		text = NULL;
	json_object_put(root);
	return text;
}
