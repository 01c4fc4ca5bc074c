/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The binding journal as state to trust (issue 21, point 2): format v2 ends in
 * a "# end entries=N crc32=X" trailer; a torn, edited or contradictory journal
 * is refused in one line naming the file and the line, and nothing — no sysfs
 * attribute, not the journal — is written because of it. A complete v1
 * journal (before the trailer) is still read. `restore --from-scan` gives the
 * devices a damaged journal names back to the kernel and keeps the damaged
 * file as journal.damaged. tests/ksim.c plays the kernel.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "kenv.h"
#include "vfiokit.h"

#define GPU "0000:01:00.0"	/* desktop-dgpu-igpu: the RTX 4090, on nvidia, group 9 */
#define AUDIO "0000:01:00.1"	/* its HDMI audio, on snd_hda_intel, group 9 */
#define NIC "0000:03:00.0"	/* igc, another group */
#define JOURNAL "run/vfiokit/journal"
#define DAMAGED "run/vfiokit/journal.damaged"
#define V1 "# vfiokit journal v1\n"
#define V2 "# vfiokit journal v2\n"
#define GPU_LINE GPU " state=bound driver=nvidia override= owner=test since=1732590000\n"
#define AUDIO_LINE AUDIO " state=bound driver=snd_hda_intel override= owner=test since=1732590000\n"

/* A literal with its length, NUL bytes included. */
#define BYTES(s) s, sizeof(s) - 1

/* CRC-32 bit by bit, as zlib defines it: an implementation of its own, so
 * the library's table-driven one is checked against the definition. */
static uint32_t crc32_bits(const char *s, size_t len)
{
	uint32_t c = 0xFFFFFFFFu;
	size_t i;
	int k;

	for (i = 0; i < len; i++) {
		c ^= (unsigned char)s[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
	}
	return ~c;
}

/* @body (header and entries) with the trailer vfiokit would write for
 * @entries entries: malloc'ed. */
static char *signed_text(const char *body, unsigned int entries)
{
	char *s = NULL;

	if (asprintf(&s, "%s# end entries=%u crc32=%08x\n", body, entries,
		     (unsigned int)crc32_bits(body, strlen(body))) < 0)
		return NULL;
	return s;
}

static char *path_in(const struct kenv *e, const char *rel)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", e->root, rel) < 0)
		return NULL;
	return p;
}

static void put_bytes(const struct kenv *e, const char *rel, const char *text, size_t len)
{
	char *p = path_in(e, rel);
	FILE *f = p ? fopen(p, "w") : NULL;

	if (!f || fwrite(text, 1, len, f) != len)
		test_fail_(__FILE__, __LINE__, "cannot write %s", rel);
	if (f)
		fclose(f);
	free(p);
}

/* Is the file @rel exactly these @len bytes? */
static bool file_is(const struct kenv *e, const char *rel, const char *text, size_t len)
{
	char *p = path_in(e, rel), buf[8192];
	FILE *f = p ? fopen(p, "r") : NULL;
	size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;

	if (f)
		fclose(f);
	free(p);
	return f && n == len && !memcmp(buf, text, len);
}

/* Every PCI device's driver_override and driver link: what any bind or
 * restore would change. malloc'ed. */
static char *pci_state(const struct kenv *e)
{
	char *dir = path_in(e, "sys/bus/pci/devices"), *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;

	while (d && f && (de = readdir(d))) {
		char drv[64], ovr[64];
		if (de->d_name[0] == '.')
			continue;
		fprintf(f, "%s %s %s\n", de->d_name, ksim_driver(e->root, de->d_name, drv, sizeof(drv)),
			ksim_override(e->root, de->d_name, ovr, sizeof(ovr)));
	}
	if (d)
		closedir(d);
	if (f)
		fclose(f);
	free(dir);
	return out;
}

static bool jopen(struct kenv *e)
{
	char *run;

	if (!kenv_open(e, "desktop-dgpu-igpu"))
		return false;
	run = path_in(e, "run/vfiokit");
	if (!run || (mkdir(run, 0700) < 0 && errno != EEXIST)) {
		free(run);
		return false;
	}
	free(run);
	return vfk_host_scan(e->ctx, &e->host) == 0;
}

/* GPU and audio to vfio-pci through the library, ksim playing the kernel. */
static int bind_gpu(struct kenv *e)
{
	struct vfk_device *d;
	struct vfk_bind *b;
	int r;

	r = vfk_bind_new(e->host, "test", 0, &b);
	if (r < 0)
		return r;
	vfk_bind_set_timeout(b, 300);
	if (vfk_host_find_device(e->host, GPU, &d) == 0)
		vfk_bind_add_device(b, d);
	if (vfk_host_find_device(e->host, AUDIO, &d) == 0)
		vfk_bind_add_device(b, d);
	r = vfk_bind_commit(b);
	if (r < 0)
		snprintf(e->err, sizeof(e->err), "%s", vfk_bind_get_error(b) ? vfk_bind_get_error(b) : "");
	vfk_bind_free(b);
	return r;
}

static const char *drv(const struct kenv *e, const char *addr)
{
	static char buf[4][64];
	static int n;

	n = (n + 1) % 4;
	return ksim_driver(e->root, addr, buf[n], sizeof(buf[n]));
}

static const char *ovr(const struct kenv *e, const char *addr)
{
	static char buf[64];

	return ksim_override(e->root, addr, buf, sizeof(buf));
}

/*
 * The journal holds @len bytes of @text: every entry point that reads it —
 * load, restore of all and of one device, restore by owner, bind — refuses
 * it with -EINVAL and "<root>/run/vfiokit/journal: line @line: @says" in the
 * context's error; no write reaches the write hook (sysfs or journal), the
 * devices are as they were and the file is unchanged.
 */
static void check_refused(const char *text, size_t len, int line, const char *says,
			  const char *label)
{
	static const char *const one[] = { GPU };
	struct kenv e;
	struct vfk_journal *j = NULL;
	char where[4200], *before, *after;

	if (!jopen(&e)) {
		test_fail_(__FILE__, __LINE__, "%s: fixture", label);
		return;
	}
	vfk_ctx_set_log_priority(e.ctx, 0);
	put_bytes(&e, JOURNAL, text, len);
	before = pci_state(&e);
	snprintf(where, sizeof(where), "%s/" JOURNAL ": line %d: ", e.root, line);
	if (vfk_journal_load(e.ctx, &j) != -EINVAL || !vfk_ctx_get_error(e.ctx) ||
	    strncmp(vfk_ctx_get_error(e.ctx), where, strlen(where)) ||
	    !strstr(vfk_ctx_get_error(e.ctx), says))
		test_fail_(__FILE__, __LINE__, "%s: load did not refuse it as '%s%s': %s", label,
			   where, says, vfk_ctx_get_error(e.ctx) ? vfk_ctx_get_error(e.ctx) : "(none)");
	if (vfk_restore(e.ctx, NULL, 0, 0, e.err, sizeof(e.err)) != -EINVAL)
		test_fail_(__FILE__, __LINE__, "%s: restore --all did not refuse it", label);
	if (vfk_restore(e.ctx, one, 1, 0, e.err, sizeof(e.err)) != -EINVAL)
		test_fail_(__FILE__, __LINE__, "%s: restore %s did not refuse it", label, GPU);
	if (vfk_restore_owner(e.ctx, "test", 0, e.err, sizeof(e.err)) != -EINVAL)
		test_fail_(__FILE__, __LINE__, "%s: restore by owner did not refuse it", label);
	if (bind_gpu(&e) != -EINVAL)
		test_fail_(__FILE__, __LINE__, "%s: bind did not refuse it", label);
	if (e.k.writes)
		test_fail_(__FILE__, __LINE__, "%s: %d writes, the first '%s'", label, e.k.writes,
			   e.k.log[0]);
	after = pci_state(&e);
	if (!before || !after || strcmp(before, after))
		test_fail_(__FILE__, __LINE__, "%s: the devices changed:\n%s", label, after);
	if (!file_is(&e, JOURNAL, text, len))
		test_fail_(__FILE__, __LINE__, "%s: the journal changed", label);
	free(before);
	free(after);
	kenv_close(&e);
}

/* A v2 body signed for @entries entries, then refused as above. */
static void check_signed_refused(const char *body, unsigned int entries, int line,
				 const char *says, const char *label)
{
	char *text = signed_text(body, entries);

	if (!text) {
		test_fail_(__FILE__, __LINE__, "out of memory");
		return;
	}
	check_refused(text, strlen(text), line, says, label);
	free(text);
}

/* ------------------------------------------------------------ refusals */

TEST(journal_cut_mid_line_is_refused_and_nothing_written, "a journal whose last line stops "
     "mid-value (driver=nvi, no newline) is refused by load, restore, restore by owner and "
     "bind naming line 3; no write, devices and file unchanged")
{
	check_refused(BYTES(V2 GPU_LINE AUDIO " state=bound driver=snd_h"), 3,
		      "entry cut short (no newline at end of file)", "cut entry");
	check_refused(BYTES(V2 GPU_LINE "# end entries=1 crc32=1c2"), 3,
		      "trailer cut short", "cut trailer");
	check_refused(BYTES("# vfiokit jour"), 1, "header cut short", "cut header");
}

TEST(journal_with_nul_bytes_is_refused_not_read_as_empty, "a journal of NUL bytes (a zeroed "
     "block after a crash) or with one NUL inside an entry is refused naming the line, not "
     "read as 'holds no devices'; nothing written")
{
	static const char zeros[64];

	check_refused(zeros, sizeof(zeros), 1, "contains a NUL byte", "all NUL");
	check_refused(BYTES(V2 GPU_LINE "0000:01:00.1 state=bo\0und driver=snd_hda_intel\n"), 3,
		      "contains a NUL byte", "NUL inside an entry");
}

TEST(journal_listing_a_device_twice_identically_is_refused, "two identical lines for one "
     "device (or one device under two spellings) are contradictory state, refused even under "
     "a valid checksum; nothing written")
{
	check_signed_refused(V2 GPU_LINE AUDIO_LINE GPU_LINE, 3, 4,
			     GPU " listed twice (first on line 2)", "identical twice");
	check_signed_refused(V2 GPU_LINE "01:00.0 state=bound driver=nvidia override= owner=test "
			     "since=1732590000\n", 2, 3, GPU " listed twice (first on line 2)",
			     "two spellings");
	check_refused(BYTES(V1 GPU_LINE GPU_LINE), 3, GPU " listed twice", "v1 twice");
}

TEST(journal_listing_a_device_twice_with_different_drivers_is_refused, "two lines for one "
     "device naming nvidia and nouveau are refused naming both drivers and both lines; "
     "nothing written")
{
	check_signed_refused(V2 GPU_LINE AUDIO_LINE GPU " state=bound driver=nouveau override= "
			     "owner=test since=1732590000\n", 3, 4,
			     GPU " listed twice with different drivers (nvidia, nouveau; first on "
			     "line 2)", "different drivers");
}

TEST(journal_with_bad_checksum_is_refused, "a v2 journal edited after it was written "
     "(nvidia -> nouveau, same length or not) fails its crc32 and is refused at the trailer; "
     "nothing written")
{
	char *text = signed_text(V2 GPU_LINE AUDIO_LINE, 2), *p;

	REQUIRE(text);
	p = strstr(text, "nvidia");
	REQUIRE(p);
	memcpy(p, "nvidix", 6);
	check_refused(text, strlen(text), 4, "checksum mismatch: the file was changed or torn",
		      "one byte changed");
	free(text);
	text = signed_text(V2 GPU_LINE, 1);
	REQUIRE(text);
	p = strstr(text, "crc32=");
	REQUIRE(p);
	p[6] = p[6] == '0' ? '1' : '0';
	check_refused(text, strlen(text), 3, "checksum mismatch", "checksum changed");
	free(text);
}

TEST(journal_trailer_count_mismatch_is_refused, "a trailer counting two entries over a file "
     "holding one (a line lost) is refused naming both counts; nothing written")
{
	check_signed_refused(V2 GPU_LINE, 2, 3, "the trailer counts 2 entries, the file holds 1",
			     "count");
}

TEST(journal_v2_without_trailer_is_refused, "a v2 journal whose lines are whole but whose "
     "trailer is missing (cut at a line end) or garbled is refused; nothing written")
{
	check_refused(BYTES(V2 GPU_LINE AUDIO_LINE), 3, "no '# end entries=N crc32=X' trailer",
		      "no trailer");
	check_refused(BYTES(V2), 1, "no '# end entries=N crc32=X' trailer", "header only");
	check_refused(BYTES(V2 GPU_LINE "# end entries=1 crc32=1C291CA3\n"), 3,
		      "garbled trailer", "upper-case checksum");
	check_refused(BYTES(V2 GPU_LINE "# end entries=1\n"), 3, "garbled trailer", "no checksum");
}

TEST(journal_with_text_after_trailer_is_refused, "anything after the trailer (a line "
     "appended by hand, a second trailer) is refused naming its line; nothing written")
{
	char *text = signed_text(V2 GPU_LINE, 1), *more = NULL;

	REQUIRE(text);
	REQUIRE(asprintf(&more, "%s%s", text, AUDIO_LINE) > 0);
	check_refused(more, strlen(more), 4, "text after the trailer", "entry after");
	free(more);
	REQUIRE(asprintf(&more, "%s%s", text, text + strlen(V2 GPU_LINE)) > 0);
	check_refused(more, strlen(more), 4, "text after the trailer", "second trailer");
	free(more);
	REQUIRE(asprintf(&more, "%s\n", text) > 0);
	check_refused(more, strlen(more), 4, "text after the trailer", "blank line after");
	free(more);
	free(text);
}

TEST(journal_with_bad_or_missing_header_is_refused, "no header, a garbled one, an empty file "
     "and a format newer than this vfiokit are refused at line 1, a v2 journal relabelled v1 "
     "at its trailer; nothing written")
{
	check_refused(BYTES(GPU_LINE), 1, "missing header '# vfiokit journal v2'", "no header");
	check_refused(BYTES("# vfiokit journal\n" GPU_LINE), 1, "missing header", "garbled");
	check_refused(BYTES("# vfiokit journal v2 \n" GPU_LINE), 1, "missing header", "blank");
	check_refused("", 0, 1, "missing header '# vfiokit journal v2' (empty file)", "empty");
	check_refused(BYTES("# vfiokit journal v3\n" GPU_LINE), 1,
		      "journal format v3 is newer than this vfiokit reads (v2)", "newer");
	check_refused(BYTES("# vfiokit journal v0\n" GPU_LINE), 1, "missing header", "v0");
	{	/* a v2 journal relabelled v1 to get past its checksum */
		char *text = signed_text(V2 GPU_LINE, 1);
		REQUIRE(text);
		text[strlen(V2) - 2] = '1';
		check_refused(text, strlen(text), 3, "a trailer in a v1 journal", "relabelled v1");
		free(text);
	}
}

TEST(journal_bad_fields_are_refused_naming_the_line, "an unknown state, no state=, a key given "
     "twice, a value that is no name, text that is no key=value and an address that is no "
     "PCI address are refused naming the line, even under a valid checksum")
{
	check_signed_refused(V2 GPU " state=gone driver=nvidia\n", 1, 2,
			     "unknown state 'gone' (bound or pending)", "unknown state");
	check_signed_refused(V2 GPU " driver=nvidia owner=test\n", 1, 2,
			     GPU " has no state= (bound or pending)", "no state");
	check_signed_refused(V2 GPU " state=bound driver=nvidia driver=nouveau\n", 1, 2,
			     "driver= given twice", "key twice");
	check_signed_refused(V2 GPU " state=bound driver=../../evil\n", 1, 2,
			     "driver=../../evil is not a name", "path as driver");
	check_signed_refused(V2 GPU " state=bound nvidia\n", 1, 2, "'nvidia' is not key=value",
			     "no key");
	check_signed_refused(V2 "0000:01:00.9 state=bound\n", 1, 2,
			     "'0000:01:00.9' is not a PCI address", "bad address");
	check_refused(BYTES(V1 GPU_LINE AUDIO " state=maybe driver=snd_hda_intel\n"), 3,
		      "unknown state 'maybe'", "v1 unknown state");
}

TEST(journal_damaged_between_prepare_and_commit_stops_the_bind, "a journal that is fine when "
     "a bind is prepared and cut before it commits is read again under the lock and refused "
     "before vfio-pci is asked for anything: no write, devices and file unchanged")
{
	static const char cut[] = V2 NIC " state=bound driver=ig";
	struct kenv e;
	struct vfk_device *d;
	struct vfk_bind *b;
	char *before, *after;

	REQUIRE(jopen(&e));
	REQUIRE(vfk_bind_new(e.host, "test", 0, &b) == 0);
	REQUIRE(vfk_host_find_device(e.host, GPU, &d) == 0);
	vfk_bind_add_device(b, d);
	REQUIRE(vfk_host_find_device(e.host, AUDIO, &d) == 0);
	vfk_bind_add_device(b, d);
	REQUIRE(vfk_bind_prepare(b) == 0);
	put_bytes(&e, JOURNAL, BYTES(cut));
	before = pci_state(&e);
	CHECK_INT(vfk_bind_commit(b), -EINVAL);
	CHECK_CONTAINS(vfk_bind_get_error(b), "cannot read the binding journal");
	CHECK_CONTAINS(vfk_ctx_get_error(e.ctx), "/" JOURNAL ": line 2: entry cut short");
	CHECK_INT(e.k.writes, 0);
	after = pci_state(&e);
	CHECK(before && after && !strcmp(before, after));
	CHECK(file_is(&e, JOURNAL, BYTES(cut)));
	free(before);
	free(after);
	vfk_bind_free(b);
	kenv_close(&e);
}

/* --------------------------------------------------------- acceptance */

TEST(journal_v1_complete_is_still_accepted, "a v1 journal as the previous vfiokit wrote it "
     "(no trailer, every line ending in a newline; comments and unknown keys tolerated) "
     "loads, restore puts its devices back from it, and the rewrite is v2")
{
	struct kenv e;
	struct vfk_journal *j = NULL;
	char *text;

	REQUIRE(jopen(&e));
	REQUIRE(bind_gpu(&e) == 0);
	CHECK_STREQ(drv(&e, GPU), "vfio-pci");
	/* what vfiokit 0.1 had written for this bind */
	put_bytes(&e, JOURNAL, BYTES(V1 "# a comment\n" GPU_LINE AUDIO " state=bound "
				     "driver=snd_hda_intel override= owner=test since=1732590000 "
				     "future=1\n"));
	REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
	CHECK_INT(vfk_journal_count(j), 2);
	CHECK_STREQ(vfk_journal_get(j, 1)->driver, "snd_hda_intel");
	vfk_journal_free(j);
	CHECK_INT(vfk_restore(e.ctx, (const char *const[]){ AUDIO }, 1, 0, e.err, sizeof(e.err)), 0);
	CHECK_STREQ(drv(&e, AUDIO), "snd_hda_intel");
	text = kenv_slurp(&e, JOURNAL);
	CHECK(text && !strncmp(text, V2 GPU_LINE, strlen(V2 GPU_LINE)));
	CHECK_CONTAINS(text, "# end entries=1 crc32=");
	free(text);
	CHECK_INT(vfk_restore(e.ctx, NULL, 0, 0, e.err, sizeof(e.err)), 0);
	CHECK_STREQ(drv(&e, GPU), "nvidia");
	CHECK_STREQ(ovr(&e, GPU), "");
	kenv_close(&e);
}

TEST(journal_v1_torn_is_refused, "a v1 journal whose last line has no newline (torn) is "
     "refused like a v2 one: the old format is no way around the checks; nothing written")
{
	check_refused(BYTES(V1 GPU_LINE AUDIO " state=bound driver=snd_hda_in"), 3,
		      "entry cut short (no newline at end of file)", "v1 torn");
	check_refused(BYTES(V1 GPU " state=bound driver=nvidia override= owner=test"), 2,
		      "entry cut short", "v1 torn first entry");
}

TEST(journal_round_trip_bind_writes_valid_trailer_and_restore_empties_it, "bind writes a v2 "
     "journal whose trailer counts its entries and whose crc32 (checked bit by bit here "
     "against zlib's definition) covers every byte before it; restore reads it and empties it")
{
	struct kenv e;
	char *text, *trailer, want[64];

	/* the definition's check value, so crc32_bits() is zlib's CRC-32 */
	CHECK_INT(crc32_bits("123456789", 9), 0xCBF43926u);
	REQUIRE(jopen(&e));
	REQUIRE(bind_gpu(&e) == 0);
	text = kenv_slurp(&e, JOURNAL);
	REQUIRE(text);
	CHECK(!strncmp(text, V2, strlen(V2)));
	trailer = strstr(text, "# end ");
	REQUIRE(trailer);
	snprintf(want, sizeof(want), "# end entries=2 crc32=%08x\n",
		 (unsigned int)crc32_bits(text, (size_t)(trailer - text)));
	CHECK_STREQ(trailer, want);
	free(text);
	CHECK_INT(vfk_restore(e.ctx, NULL, 0, 0, e.err, sizeof(e.err)), 0);
	CHECK_STREQ(drv(&e, GPU), "nvidia");
	CHECK_STREQ(drv(&e, AUDIO), "snd_hda_intel");
	text = kenv_slurp(&e, JOURNAL);
	trailer = signed_text(V2, 0);
	CHECK(text && trailer && !strcmp(text, trailer));
	free(trailer);
	free(text);
	kenv_close(&e);
}

/* ------------------------------------------------------------ the tool */

static int bind_tool(const char *root, char **out, char **err, const char *a, const char *b,
		     const char *c)
{
	const char *argv[] = { "vfio-bind", "--sysroot", root, a, b, c, NULL };

	*out = *err = NULL;
	return run_tool(out, err, argv);
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; s && *s; s++)
		if (*s == '\n' || !s[1])
			n++;
	return n;
}

TEST(vfio_bind_damaged_journal_is_one_line_exit_3, "restore --all, restore ADDR, status and "
     "bind on a cut journal exit 3 with one line naming file, line and what is wrong, ending "
     "in the --from-scan hint; no device and not the file changes")
{
	static const char text[] = V2 GPU_LINE AUDIO " state=bound driver=snd_h";
	static const char *const cmds[][3] = {
		{ "restore", "--all", NULL }, { "restore", GPU, NULL }, { "status", NULL, NULL },
		{ "bind", AUDIO, NULL }, { "status", "--json", NULL },
	};
	struct kenv e;
	char *before, *after, want[4200];
	size_t i;

	REQUIRE(jopen(&e));
	put_bytes(&e, JOURNAL, BYTES(text));
	before = pci_state(&e);
	snprintf(want, sizeof(want), "vfio-bind: %s/" JOURNAL ": line 3: entry cut short (no "
		 "newline at end of file) (vfio-bind restore --from-scan recovers)\n", e.root);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char *out, *err;
		int st = bind_tool(e.root, &out, &err, cmds[i][0], cmds[i][1], cmds[i][2]);
		if (st != 3 || count_lines(err) != 1 || !err || strcmp(err, want) || (out && *out))
			test_fail_(__FILE__, __LINE__, "%s %s: exit %d, stdout '%s', stderr '%s'",
				   cmds[i][0], cmds[i][1] ? cmds[i][1] : "", st, out ? out : "",
				   err ? err : "");
		free(out);
		free(err);
	}
	after = pci_state(&e);
	CHECK(before && after && !strcmp(before, after));
	CHECK(file_is(&e, JOURNAL, BYTES(text)));
	free(before);
	free(after);
	kenv_close(&e);
}

/* ------------------------------------------------------------ recovery */

/* GPU and audio on vfio-pci, then the journal cut mid-line as a crash
 * would leave it: returns the damaged text's length (in @text). */
static size_t bind_and_cut(struct kenv *e, char *text, size_t size)
{
	char *full;
	size_t len;

	if (bind_gpu(e) < 0 || !(full = kenv_slurp(e, JOURNAL)))
		return 0;
	/* cut in the middle of the second entry's driver= */
	len = (size_t)(strstr(full, "driver=snd_h") - full) + strlen("driver=snd_h");
	if (len >= size)
		len = size - 1;
	memcpy(text, full, len);
	free(full);
	put_bytes(e, JOURNAL, text, len);
	return len;
}

TEST(recover_from_scan_returns_devices_and_keeps_damaged_journal, "after a bind whose journal "
     "is cut mid-line, restore refuses and writes nothing; --from-scan clears the overrides, "
     "unbinds both devices from vfio-pci and probes them back onto nvidia and snd_hda_intel, "
     "renames the damaged file journal.damaged (the same bytes) and leaves no journal")
{
	struct kenv e;
	char text[1024];
	size_t len;
	int writes;

	REQUIRE(jopen(&e));
	len = bind_and_cut(&e, text, sizeof(text));
	REQUIRE(len > 0);
	REQUIRE(!strcmp(drv(&e, GPU), "vfio-pci") && !strcmp(drv(&e, AUDIO), "vfio-pci"));
	writes = e.k.writes;
	CHECK_INT(vfk_restore(e.ctx, NULL, 0, 0, e.err, sizeof(e.err)), -EINVAL);
	CHECK_INT(e.k.writes, writes);
	CHECK_STREQ(drv(&e, GPU), "vfio-pci");
	e.progress[0] = '\0';
	CHECK_INT(vfk_restore_from_scan(e.ctx, NULL, 0, 0, e.err, sizeof(e.err)), 0);
	CHECK_STREQ(e.err, "");
	CHECK_STREQ(drv(&e, GPU), "nvidia");
	CHECK_STREQ(drv(&e, AUDIO), "snd_hda_intel");
	CHECK_STREQ(ovr(&e, GPU), "");
	CHECK_STREQ(ovr(&e, AUDIO), "");
	CHECK(!kenv_exists(&e, "dev/vfio/9"));
	CHECK(kenv_log_index(&e, "sys/bus/pci/drivers/vfio-pci/unbind <- " GPU) >= 0);
	CHECK(kenv_log_index(&e, "sys/bus/pci/drivers_probe <- " AUDIO) >= 0);
	CHECK_CONTAINS(e.progress, "the journal is damaged (line 3: entry cut short");
	CHECK_CONTAINS(e.progress, GPU ": back with the host, now on nvidia");
	CHECK_CONTAINS(e.progress, AUDIO ": back with the host, now on snd_hda_intel");
	CHECK_CONTAINS(e.progress, "the damaged journal is kept as journal.damaged");
	CHECK(file_is(&e, DAMAGED, text, len));
	CHECK(!kenv_exists(&e, JOURNAL));
	/* and the state is trusted again: nothing held, a new bind works */
	CHECK_INT(vfk_restore(e.ctx, NULL, 0, 0, e.err, sizeof(e.err)), 0);
	CHECK_INT(bind_gpu(&e), 0);
	kenv_close(&e);
}

TEST(recover_from_scan_dry_run_writes_nothing, "--from-scan with VFK_BIND_DRY_RUN shows the "
     "override clear, the unbind, the probe, the rename and no journal write through the "
     "progress function, and changes nothing: devices on vfio-pci, damaged journal in place, "
     "no journal.damaged")
{
	struct kenv e;
	char text[1024], *before, *after;
	size_t len;
	int writes;

	REQUIRE(jopen(&e));
	len = bind_and_cut(&e, text, sizeof(text));
	REQUIRE(len > 0);
	before = pci_state(&e);
	writes = e.k.writes;
	e.progress[0] = '\0';
	CHECK_INT(vfk_restore_from_scan(e.ctx, NULL, 0, VFK_BIND_DRY_RUN, e.err, sizeof(e.err)), 0);
	CHECK_INT(e.k.writes, writes);
	after = pci_state(&e);
	CHECK(before && after && !strcmp(before, after));
	CHECK(file_is(&e, JOURNAL, text, len));
	CHECK(!kenv_exists(&e, DAMAGED));
	CHECK_CONTAINS(e.progress, "/sys/bus/pci/devices/" GPU "/driver_override <- \\n");
	CHECK_CONTAINS(e.progress, "/sys/bus/pci/drivers/vfio-pci/unbind <- " GPU);
	CHECK_CONTAINS(e.progress, "/sys/bus/pci/drivers_probe <- " AUDIO);
	CHECK_CONTAINS(e.progress, "/" JOURNAL " <- (rename to journal.damaged)");
	CHECK_CONTAINS(e.progress, "the damaged journal would be kept as journal.damaged");
	free(before);
	free(after);
	kenv_close(&e);
}

TEST(recover_from_scan_leaves_devices_off_vfio_alone, "a device a damaged journal names that "
     "is on its own driver (the NIC on igc) gets no write; a device named on the command line "
     "that is on vfio-pci is given back too; a second damaged journal is kept beside the "
     "first as journal.damaged.2")
{
	struct kenv e;
	char text[1024];
	size_t len;
	int i;

	REQUIRE(jopen(&e));
	/* the GPU on vfio-pci, the audio function too, only the GPU and the NIC in the journal */
	REQUIRE(bind_gpu(&e) == 0);
	len = (size_t)snprintf(text, sizeof(text), V2 GPU_LINE NIC " state=bound driver=igc ov");
	put_bytes(&e, JOURNAL, text, len);
	put_bytes(&e, DAMAGED, BYTES("an older damaged journal\n"));
	e.k.nlog = 0;
	CHECK_INT(vfk_restore_from_scan(e.ctx, (const char *const[]){ "01:00.1" }, 1, 0, e.err,
					sizeof(e.err)), 0);
	for (i = 0; i < e.k.nlog; i++)
		if (strstr(e.k.log[i], NIC))
			test_fail_(__FILE__, __LINE__, "a write for the NIC: %s", e.k.log[i]);
	CHECK_STREQ(drv(&e, NIC), "igc");
	CHECK_STREQ(drv(&e, GPU), "nvidia");
	CHECK_STREQ(drv(&e, AUDIO), "snd_hda_intel");
	CHECK_CONTAINS(e.progress, NIC ": on igc, not held for vfio-pci: left as it is");
	CHECK(file_is(&e, DAMAGED, BYTES("an older damaged journal\n")));
	CHECK(file_is(&e, DAMAGED ".2", text, len));
	CHECK(!kenv_exists(&e, JOURNAL));
	kenv_close(&e);
}

TEST(recover_from_scan_keeps_the_entry_of_a_device_it_could_not_free, "when the unbind of a "
     "device fails, --from-scan reports it, the others are still given back, and the fresh "
     "v2 journal holds that device alone (the damaged file kept aside)")
{
	struct kenv e;
	struct vfk_journal *j = NULL;
	char text[1024], *line, *save = NULL;
	int i, gpu_unbind = -1;

	REQUIRE(jopen(&e));
	REQUIRE(bind_and_cut(&e, text, sizeof(text)) > 0);
	/* dry run first, to learn which write is the GPU's unbind */
	e.progress[0] = '\0';
	REQUIRE(vfk_restore_from_scan(e.ctx, NULL, 0, VFK_BIND_DRY_RUN, e.err, sizeof(e.err)) == 0);
	/* the writes are the progress lines with " <- ", in order */
	for (i = 0, line = strtok_r(e.progress, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (strstr(line, " <- ") && ++i && strstr(line, "vfio-pci/unbind <- " GPU))
			gpu_unbind = i;
	REQUIRE(gpu_unbind > 0);
	e.k.fail_at = e.k.writes + gpu_unbind;
	CHECK(vfk_restore_from_scan(e.ctx, NULL, 0, 0, e.err, sizeof(e.err)) < 0);
	CHECK_CONTAINS(e.err, GPU ": unbinding from vfio-pci failed");
	CHECK_STREQ(drv(&e, GPU), "vfio-pci");
	CHECK_STREQ(drv(&e, AUDIO), "snd_hda_intel");
	CHECK(kenv_exists(&e, DAMAGED));
	REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
	CHECK_INT(vfk_journal_count(j), 1);
	if (vfk_journal_count(j) == 1)
		CHECK_STREQ(vfk_journal_get(j, 0)->address, GPU);
	vfk_journal_free(j);
	/* the next run finishes the job */
	e.k.fail_at = 0;
	CHECK_INT(vfk_restore_from_scan(e.ctx, NULL, 0, 0, e.err, sizeof(e.err)), 0);
	CHECK_STREQ(drv(&e, GPU), "nvidia");
	CHECK(!kenv_exists(&e, JOURNAL));
	kenv_close(&e);
}

TEST(vfio_bind_restore_from_scan_dry_run_changes_nothing, "vfio-bind restore --from-scan -n "
     "on a damaged journal prints the writes it would make, exits 0, and the tree (devices, "
     "journal) is as it was")
{
	static const char text[] = V2 GPU " state=bound driver=nvidia override= owner=test "
				   "since=1732590000\n" AUDIO " state=bo";
	struct kenv e;
	char *out, *err, *before, *after;
	const char *argv[] = { "vfio-bind", "--sysroot", NULL, "restore", "--from-scan", "-n",
			       NULL };
	int st;

	REQUIRE(jopen(&e));
	/* the GPU as a bind leaves it, by hand: the tool runs without ksim */
	REQUIRE(bind_gpu(&e) == 0);
	put_bytes(&e, JOURNAL, BYTES(text));
	before = pci_state(&e);
	argv[2] = e.root;
	st = run_tool(&out, &err, argv);
	CHECK_INT(st, 0);
	CHECK_CONTAINS(out, "/sys/bus/pci/drivers/vfio-pci/unbind <- " GPU);
	CHECK_CONTAINS(out, "/sys/bus/pci/drivers_probe <- " AUDIO);
	CHECK_CONTAINS(out, "/" JOURNAL " <- (rename to journal.damaged)");
	after = pci_state(&e);
	CHECK(before && after && !strcmp(before, after));
	CHECK(file_is(&e, JOURNAL, BYTES(text)));
	CHECK(!kenv_exists(&e, DAMAGED));
	free(out);
	free(err);
	free(before);
	free(after);
	kenv_close(&e);
}

static long long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

TEST(vfio_bind_restore_honours_timeout_while_the_lock_is_held, "while another process holds "
     "the vfiokit lock, 'vfio-bind --timeout 300 restore --all' and 'restore --from-scan' "
     "give up after about 300 ms (not the default 10 s), exit non-zero naming the holder, "
     "and the device stays where it was")
{
	struct kenv e;
	char *out, *err, lock[4096];
	const char *all[] = { "vfio-bind", "--sysroot", NULL, "--timeout", "300", "restore",
			      "--all", NULL };
	const char *scan[] = { "vfio-bind", "--sysroot", NULL, "--timeout", "300", "restore",
			       "--from-scan", NULL };
	const char **cmds[] = { all, scan };
	size_t i;
	int fd;

	REQUIRE(jopen(&e));
	REQUIRE(bind_gpu(&e) == 0);
	CHECK_INT(vfk_ctx_get_timeout(e.ctx), VFK_DEFAULT_TIMEOUT_MS);
	snprintf(lock, sizeof(lock), "%s/run/vfiokit/lock", e.root);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	REQUIRE(fd >= 0);
	REQUIRE(write(fd, "4242\n", 5) == 5);
	REQUIRE(flock(fd, LOCK_EX) == 0);
	for (i = 0; i < 2; i++) {
		long long t0 = ms_now(), took;
		int st;

		cmds[i][2] = e.root;
		st = run_tool(&out, &err, cmds[i]);
		took = ms_now() - t0;
		CHECK(st != 0);
		CHECK_CONTAINS(err, "4242");
		if (took < 250 || took > 3000)
			test_fail_(__FILE__, __LINE__, "restore %s gave up after %lld ms, not ~300",
				   cmds[i][6], took);
		CHECK_STREQ(drv(&e, GPU), "vfio-pci");
		free(out);
		free(err);
	}
	close(fd);
	kenv_close(&e);
}
