/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared helpers for the libFuzzer targets in fuzz/. Each target is one
 * fuzz-NAME.c with LLVMFuzzerTestOneInput(); some #include a lib/ source file to
 * reach its static parser (the archive's copy of that file is then never
 * linked). Built with clang -fsanitize=fuzzer,address,undefined by
 * `make fuzz` (see scripts/fuzz.sh).
 */
#ifndef VFK_FUZZ_H
#define VFK_FUZZ_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfiokit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A broken invariant: report it and abort so libFuzzer saves the input. */
#define FUZZ_ASSERT(cond)                                                          \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, \
				__LINE__, #cond);                                  \
			abort();                                                   \
		}                                                                  \
	} while (0)

/* The input as a NUL-terminated string (embedded NULs end it early, as they
 * would for a file the library reads). */
static inline char *fuzz_strdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Split the input at the first occurrence of @sep (a few bytes): returns the
 * length of the first part and sets *@rest / *@rest_size to what follows. */
static inline size_t fuzz_split(const uint8_t *data, size_t size, const char *sep,
				const uint8_t **rest, size_t *rest_size)
{
	size_t n = strlen(sep), i;

	for (i = 0; n && i + n <= size; i++)
		if (!memcmp(data + i, sep, n)) {
			*rest = data + i + n;
			*rest_size = size - i - n;
			return i;
		}
	*rest = data + size;
	*rest_size = 0;
	return size;
}

/* Log sink: format every message (so format bugs surface) and drop it. */
static inline void fuzz_log(void *data, int priority, const char *file, int line, const char *fn,
			    const char *format, va_list args)
{
	char buf[1024];

	(void)data, (void)priority, (void)file, (void)line, (void)fn;
	vsnprintf(buf, sizeof(buf), format, args);
}

/* Scratch space for targets that need files: $TMPDIR/vfk-fuzz-XXXXXX,
 * removed at exit. */
static char fuzz_scratch_dir[4096];

static int fuzz_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void fuzz_scratch_cleanup(void)
{
	if (fuzz_scratch_dir[0])
		nftw(fuzz_scratch_dir, fuzz_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static inline const char *fuzz_scratch(void)
{
	const char *tmp = getenv("TMPDIR");

	if (fuzz_scratch_dir[0])
		return fuzz_scratch_dir;
	snprintf(fuzz_scratch_dir, sizeof(fuzz_scratch_dir), "%s/vfk-fuzz-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(fuzz_scratch_dir)) {
		perror("fuzz: mkdtemp");
		exit(1);
	}
	atexit(fuzz_scratch_cleanup);
	return fuzz_scratch_dir;
}

/* Create every directory of @path (relative to @dirfd). */
static inline void fuzz_mkdirs(int dirfd, const char *path)
{
	char p[4096], *s;

	snprintf(p, sizeof(p), "%s", path);
	for (s = p; (s = strchr(s + 1, '/'));) {
		*s = '\0';
		mkdirat(dirfd, p, 0755);
		*s = '/';
	}
	mkdirat(dirfd, p, 0755);
}

/* Replace the file @name below @dirfd with exactly @len bytes of @data. */
static inline void fuzz_put(int dirfd, const char *name, const void *data, size_t len)
{
	int fd;

	/* the same inode when there is one: creating files is the slow part */
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
	if (fd < 0) {
		unlinkat(dirfd, name, 0);
		fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	}
	if (fd < 0) {
		fprintf(stderr, "fuzz: create %s: %s\n", name, strerror(errno));
		abort();
	}
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n <= 0)
			abort();
		data = (const char *)data + n;
		len -= (size_t)n;
	}
	close(fd);
}

/* Replace @name below @dirfd with a symlink to @target (any bytes up to the
 * first NUL; an empty target leaves no link at all). */
static inline void fuzz_link(int dirfd, const char *name, const char *target)
{
	char cur[4096];
	ssize_t n = readlinkat(dirfd, name, cur, sizeof(cur) - 1);

	if (n >= 0 && (cur[n] = '\0', !strcmp(cur, target)))
		return;	/* already so */
	unlinkat(dirfd, name, 0);
	if (*target)
		symlinkat(target, dirfd, name);
}

/* A byte-stream reader, FuzzedDataProvider style: length-prefixed chunks. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline unsigned int fuzz_byte(struct fuzz_in *in)
{
	unsigned int b;

	if (!in->n)
		return 0;
	b = in->p[0];
	in->p++;
	in->n--;
	return b;
}

/* Next chunk: one length byte (two with @wide), then that many bytes (fewer
 * at the end of the input). */
static inline size_t fuzz_chunk(struct fuzz_in *in, bool wide, const uint8_t **out)
{
	size_t len = fuzz_byte(in);

	if (wide)
		len = len << 8 | fuzz_byte(in);
	if (len > in->n)
		len = in->n;
	*out = in->p;
	in->p += len;
	in->n -= len;
	return len;
}

/* The next chunk as a NUL-terminated string in @buf. */
static inline const char *fuzz_chunk_str(struct fuzz_in *in, char *buf, size_t size)
{
	const uint8_t *p;
	size_t len = fuzz_chunk(in, false, &p);

	if (len >= size)
		len = size - 1;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return buf;
}

#endif
