/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A VM profile resolved against fixture hosts and written out: vfio-vm's
 * whole path from untrusted INI to the files and commands it produces.
 * Input byte 0 picks the host (a desktop ready for passthrough, a vGPU
 * server, a NUMA workstation); the rest is the profile. Invariants: the
 * JSON parses, the libvirt XML is well-formed (libxml2), and the QEMU argv
 * quoted for a shell (vfk_argv_to_shell) reads back, word for word, as the
 * same argv — no value can break out of its word.
 */
#include <json-c/json.h>
#include <libxml/parser.h>

#include "fuzz.h"

static const char *const hosts[] = { "ready", "nvidia-vgpu", "threadripper-numa" };
#define NHOSTS (sizeof(hosts) / sizeof(hosts[0]))
static struct vfk_host *host[NHOSTS];

static void quiet(void *ctx, const char *msg, ...)
{
	(void)ctx, (void)msg;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *src = getenv("VFK_SRCDIR");
	char cmd[8192], root[4200];
	size_t i;

	(void)argc, (void)argv;
	if (!src || !*src)
		src = ".";
	for (i = 0; i < NHOSTS; i++) {
		struct vfk_ctx *ctx;
		snprintf(root, sizeof(root), "%s/%s", fuzz_scratch(), hosts[i]);
		snprintf(cmd, sizeof(cmd), "python3 %s/tests/mkhost.py %s/tests/fixtures/hosts/%s.host %s",
			 src, src, hosts[i], root);
		if (system(cmd) != 0 || vfk_ctx_new(root, &ctx) < 0) {
			fprintf(stderr, "fuzz-plan: '%s' failed (run from the source tree or set VFK_SRCDIR)\n",
				cmd);
			exit(1);
		}
		if (!getenv("VFK_FUZZ_VERBOSE"))
			vfk_ctx_set_log_fn(ctx, fuzz_log, NULL);
		if (vfk_host_scan(ctx, &host[i]) < 0)
			abort();
		vfk_ctx_unref(ctx);
	}
	xmlSetGenericErrorFunc(NULL, quiet);
	return 0;
}

/* Read back what vfk_argv_to_shell() wrote, as a POSIX shell would: plain
 * words of the characters it leaves unquoted, '...' strings, \' between
 * them, backslash-newline between words. Returns the words or NULL when the
 * text holds anything else (a character a shell would interpret). */
static char **unshell(const char *s, size_t *n)
{
	char **words = calloc(strlen(s) + 2, sizeof(*words));
	char *w = NULL;
	size_t len = 0;
	bool in_word = false;

	*n = 0;
	if (!words)
		abort();
	for (;;) {
		char c = *s;
		if (c == '\0' || c == ' ' || c == '\n' || (c == '\\' && s[1] == '\n')) {
			if (in_word) {
				w[len] = '\0';
				words[(*n)++] = w;
				w = NULL;
				in_word = false;
			}
			if (c == '\0')
				break;
			s += c == '\\' ? 2 : 1;
			continue;
		}
		if (!in_word) {
			w = malloc(strlen(s) + 1);
			if (!w)
				abort();
			len = 0;
			in_word = true;
		}
		if (c == '\'') {
			const char *end = strchr(s + 1, '\'');
			if (!end)
				goto bad;
			memcpy(w + len, s + 1, (size_t)(end - s - 1));
			len += (size_t)(end - s - 1);
			s = end + 1;
		} else if (c == '\\' && s[1] == '\'') {
			w[len++] = '\'';
			s += 2;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			   strchr("%+,-./:=@_^", c)) {
			w[len++] = c;
			s++;
		} else {
			goto bad;	/* unquoted shell syntax */
		}
	}
	return words;
bad:
	free(w);
	while (*n)
		free(words[--*n]);
	free(words);
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vfk_host *h = host[size ? data[0] % NHOSTS : 0];
	struct vfk_profile *p = NULL;
	struct vfk_plan *pl = NULL;
	char *text, *out = NULL, **argv = NULL, **back, err[512];
	size_t i, n;

	if (size)
		data++, size--;
	text = fuzz_strdup(data, size);
	if (vfk_profile_parse(text, "/fuzz/profiles/vm.ini", &p, err, sizeof(err)) < 0)
		goto out;
	if (vfk_plan_new(h, p, &pl, err, sizeof(err)) < 0) {
		FUZZ_ASSERT(*err && !strchr(err, '\n'));
		goto out;
	}
	for (i = 0; i < vfk_plan_note_count(pl); i++)
		FUZZ_ASSERT(vfk_plan_note(pl, i));
	for (i = 0; i < VFK_GPU_MODE_COUNT; i++)
		(void)vfk_plan_get_rejection(pl, (enum vfk_gpu_mode)i);

	FUZZ_ASSERT(vfk_plan_to_json(pl, &out) == 0);
	{
		json_object *j = json_tokener_parse(out);
		FUZZ_ASSERT(j);
		json_object_put(j);
	}
	free(out);
	out = NULL;

	FUZZ_ASSERT(vfk_plan_to_libvirt_xml(pl, &out) == 0);
	{
		xmlDocPtr doc = xmlReadMemory(out, (int)strlen(out), "domain.xml", NULL,
					      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
		FUZZ_ASSERT(doc);
		xmlFreeDoc(doc);
	}
	free(out);
	out = NULL;

	FUZZ_ASSERT(vfk_plan_to_qemu_argv(pl, &argv) == 0);
	FUZZ_ASSERT(vfk_argv_to_shell((const char *const *)argv, &out) == 0);
	back = unshell(out, &n);
	FUZZ_ASSERT(back);
	for (i = 0; argv[i]; i++) {
		FUZZ_ASSERT(i < n);
		FUZZ_ASSERT(!strcmp(argv[i], back[i]));
	}
	FUZZ_ASSERT(i == n);
	for (i = 0; i < n; i++)
		free(back[i]);
	free(back);
out:
	free(out);
	vfk_argv_free(argv);
	vfk_plan_free(pl);
	vfk_profile_free(p);
	free(text);
	return 0;
}
