/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kmod-style test harness. Each TEST() registers itself; run-tests forks a
 * child per test, prints "PASS: name", "FAIL: name" or "SKIP: name", and ends
 * with "N passed, N failed, N skipped".
 *
 *   TEST(inventory_reads_vendor_ids, "vendor/device ids come from sysfs") {
 *           ...
 *           CHECK(x == 1);                 // records a failure, continues
 *           CHECK_STREQ(got, "nvidia");
 *           REQUIRE(host != NULL);         // fails and returns at once
 *           SKIP_IF(geteuid() != 0, "needs root");
 *   }
 *
 * run-tests [--list] [NAME...]   (NAME may end with '*' as a prefix match)
 */
#ifndef VFK_TEST_HARNESS_H
#define VFK_TEST_HARNESS_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct test {
	const char *name;
	const char *description;
	void (*fn)(void);
	struct test *next;
};

void test_register(struct test *t);
void test_fail_(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void test_skip_(const char *reason) __attribute__((noreturn));
extern int test_failures;	/* failures recorded in the current test */

#define TEST(tname, desc)                                                  \
	static void test_fn_##tname(void);                                 \
	static struct test test_##tname = { #tname, desc, test_fn_##tname, NULL }; \
	__attribute__((constructor)) static void test_reg_##tname(void)    \
	{                                                                  \
		test_register(&test_##tname);                              \
	}                                                                  \
	static void test_fn_##tname(void)

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			test_fail_(__FILE__, __LINE__, "CHECK(%s)", #cond);    \
	} while (0)
#define REQUIRE(cond)                                                          \
	do {                                                                   \
		if (!(cond)) {                                                 \
			test_fail_(__FILE__, __LINE__, "REQUIRE(%s)", #cond);  \
			return;                                                \
		}                                                              \
	} while (0)
#define CHECK_INT(a, b)                                                        \
	do {                                                                   \
		long long _a = (long long)(a), _b = (long long)(b);            \
		if (_a != _b)                                                  \
			test_fail_(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", \
				   #a, _a, #b, _b);                            \
	} while (0)
#define CHECK_STREQ(a, b)                                                      \
	do {                                                                   \
		const char *_a = (a), *_b = (b);                               \
		if (!_a || !_b || strcmp(_a, _b) != 0)                         \
			test_fail_(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", \
				   #a, _a ? _a : "(null)", _b ? _b : "(null)"); \
	} while (0)
#define CHECK_CONTAINS(hay, needle)                                            \
	do {                                                                   \
		const char *_h = (hay), *_n = (needle);                        \
		if (!_h || !strstr(_h, _n))                                    \
			test_fail_(__FILE__, __LINE__, "%s does not contain \"%s\":\n%s", \
				   #hay, _n, _h ? _h : "(null)");              \
	} while (0)
#define SKIP_IF(cond, reason)                                                  \
	do {                                                                   \
		if (cond)                                                      \
			test_skip_(reason);                                    \
	} while (0)

/* A program the test drives comes from a package of scripts/packages.list, which
 * make check installs: its absence is a failure naming the package, never a skip. */
#define REQUIRE_PROGRAM(path, pkg)                                             \
	do {                                                                   \
		if (access(path, X_OK) != 0) {                                 \
			test_fail_(__FILE__, __LINE__,                         \
				   "%s is missing (Debian package %s, scripts/packages.list)", \
				   path, pkg);                                 \
			return;                                                \
		}                                                              \
	} while (0)

/* ---- helpers for fixture hosts and tools (harness.c) */

/* Build the fixture host tests/fixtures/hosts/NAME.host into a fresh
 * scratch directory and return its path (malloc'ed; removed at exit). */
/* The source tree (VFK_SRCDIR, or found from the binary). */
const char *test_srcdir(void);
char *fixture_host(const char *name);
/* The same tree, built once per run-tests invocation and shared by every
 * test that asks for it: for tests that only READ the tree (much faster).
 * Never write into it; use fixture_host() for a private copy. */
char *fixture_host_shared(const char *name);
/* Directory of the built tools (build/bin or $VFK_BIN). */
const char *tools_dir(void);
/* Run the tools from @path instead from now on. */
void tools_dir_set(const char *path);
/* Run a tool (argv[0] is the tool's name, looked up in tools_dir()),
 * capture stdout and stderr (malloc'ed, NUL-terminated), return its exit
 * status (or 128+signal). */
int run_tool(char **out, char **errout, const char *const argv[]);
/* Read a whole file (malloc'ed) or NULL. */
char *read_file(const char *path);
/* Write @content to ROOT/REL (a fixture tree), creating parent directories
 * and replacing what is there (read-only attributes too). */
bool put_file(const char *root, const char *rel, const char *content);
/* rm -rf ROOT/REL */
void remove_path(const char *root, const char *rel);
/* ROOT/REL exists (a link counts, dangling or not) */
bool path_exists(const char *root, const char *rel);

/* Run @fn as an unprivileged user; its CHECKs report as usual. When the
 * suite runs as root, a forked child drops to nobody (65534, no
 * supplementary groups) and runs copies of the tools in a scratch directory
 * it can reach; as a normal user @fn simply runs. @fn may _exit(77) when
 * user_tools_runnable() is false. */
void as_user(void (*fn)(void *), void *arg);
/* Can this (unprivileged) process run the tools at all? */
bool user_tools_runnable(void);

#endif
