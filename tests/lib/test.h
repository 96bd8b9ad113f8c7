/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * faultcell's own small test runner (style.md §9): tests register themselves into a linker
 * section, so adding a test is adding a file. Bool ASSERT_* macros return whether they held:
 *	if (!ASSERT_OK(err, "attach")) goto out;
 */
#ifndef FC_TEST_H
#define FC_TEST_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum fc_tier { TIER_UNIT = 1, TIER_HOST = 2, TIER_E2E = 4 };
#define FC_T_VM	  0x100 /* also run inside the Debian guests (make vmtest) */
#define FC_T_ROOT 0x200 /* needs root: skipped with a reason otherwise */

struct fc_test {
	const char *name;
	unsigned int flags; /* tier | FC_T_* */
	void (*fn)(void);
	const char *file;
};

#define FC_TEST(fname, tflags)                                                                     \
	static void fname(void);                                                                   \
	static const struct fc_test __fc_test_##fname                                              \
	    __attribute__((section("fc_tests"), used, aligned(8))) = {                             \
		    .name = #fname, .flags = (tflags), .fn = fname, .file = __FILE__               \
	    };                                                                                     \
	static void fname(void)

/* Subtests: `if (test__start_subtest("v6")) { ... }` — filtered by name, counted apart. */
bool test__start_subtest(const char *name);
/* Mark the current (sub)test skipped, with the reason printed and counted. */
void test__skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void test__fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void test__log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Record a measured figure for bench/ (appended to $FC_TEST_RECORD as "name value unit"). */
void test__record(const char *name, double value, const char *unit);
/* Path of the faultcell binary under test. */
const char *test__faultcell(void);
/* Path of the test binary itself (for helper workloads: fc-test --worker NAME ...). */
const char *test__self(void);

#define ASSERT_TRUE(c, what)                                                                       \
	({                                                                                         \
		bool __ok = !!(c);                                                                 \
		if (!__ok)                                                                         \
			test__fail(__FILE__, __LINE__, "%s: expected true: %s", what, #c);         \
		__ok;                                                                              \
	})
#define ASSERT_FALSE(c, what) ASSERT_TRUE(!(c), what)

#define __ASSERT_CMP(a, b, op, what)                                                               \
	({                                                                                         \
		long long __a = (long long)(a), __b = (long long)(b);                              \
		bool __ok = __a op __b;                                                            \
		if (!__ok)                                                                         \
			test__fail(__FILE__, __LINE__, "%s: expected %s %s %s, got %lld vs %lld",  \
				   what, #a, #op, #b, __a, __b);                                   \
		__ok;                                                                              \
	})
#define ASSERT_EQ(a, b, what)  __ASSERT_CMP(a, b, ==, what)
#define ASSERT_NEQ(a, b, what) __ASSERT_CMP(a, b, !=, what)
#define ASSERT_LT(a, b, what)  __ASSERT_CMP(a, b, <, what)
#define ASSERT_LE(a, b, what)  __ASSERT_CMP(a, b, <=, what)
#define ASSERT_GT(a, b, what)  __ASSERT_CMP(a, b, >, what)
#define ASSERT_GE(a, b, what)  __ASSERT_CMP(a, b, >=, what)
#define ASSERT_OK(err, what)                                                                       \
	({                                                                                         \
		long long __e = (long long)(err);                                                  \
		bool __ok = __e == 0;                                                              \
		if (!__ok)                                                                         \
			test__fail(__FILE__, __LINE__, "%s: unexpected error %lld (%s)", what,     \
				   __e, strerror(__e < 0 ? (int)-__e : (int)__e));                 \
		__ok;                                                                              \
	})
#define ASSERT_OK_PTR(p, what)                                                                     \
	({                                                                                         \
		bool __ok = (p) != NULL;                                                           \
		if (!__ok)                                                                         \
			test__fail(__FILE__, __LINE__, "%s: unexpected NULL (errno %d: %s)", what, \
				   errno, strerror(errno));                                        \
		__ok;                                                                              \
	})
#define ASSERT_STREQ(a, b, what)                                                                   \
	({                                                                                         \
		const char *__a = (a), *__b = (b);                                                 \
		bool __ok = __a && __b && !strcmp(__a, __b);                                       \
		if (!__ok)                                                                         \
			test__fail(__FILE__, __LINE__, "%s: expected \"%s\", got \"%s\"", what,    \
				   __b ?: "(null)", __a ?: "(null)");                              \
		__ok;                                                                              \
	})
#define ASSERT_STRSTR(hay, needle, what)                                                           \
	({                                                                                         \
		const char *__h = (hay), *__n = (needle);                                          \
		bool __ok = __h && __n && strstr(__h, __n);                                        \
		if (!__ok)                                                                         \
			test__fail(__FILE__, __LINE__, "%s: \"%s\" not found in \"%s\"", what,     \
				   __n ?: "(null)", __h ?: "(null)");                              \
		__ok;                                                                              \
	})

/* Helper workloads the tests spawn as `fc-test --worker NAME args...`. */
struct fc_worker {
	const char *name;
	int (*fn)(int argc, char **argv);
};
#define FC_WORKER(wname, wfn)                                                                      \
	static const struct fc_worker __fc_worker_##wname                                          \
	    __attribute__((section("fc_workers"), used, aligned(8))) = { .name = #wname,           \
									 .fn = wfn }

#endif
