// SPDX-License-Identifier: BSD-2-Clause
/* The CLI's contract for bad input (design.md §7): usage errors exit 2, not root exits 3. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/inventory.h"
#include "lib/host.h"
#include "lib/test.h"

FC_TEST(cli_bad_input, TIER_HOST | FC_T_ROOT)
{
	char out[4096];

	if (test__start_subtest("unknown_command")) {
		char *a[] = { "frobnicate", NULL };

		ASSERT_EQ(trun_fc(out, sizeof(out), a), 2, "exit 2");
		ASSERT_STRSTR(out, "unknown command 'frobnicate'", "names the bad command");
	}
	if (test__start_subtest("unknown_option")) {
		char *a[] = { "recover", "--frob", NULL };

		ASSERT_EQ(trun_fc(out, sizeof(out), a), 2, "exit 2");
		ASSERT_STRSTR(out, "Usage: faultcell recover", "prints usage");
	}
	if (test__start_subtest("unknown_global_option")) {
		char *a[] = { "--frob", NULL };

		ASSERT_EQ(trun_fc(out, sizeof(out), a), 2, "exit 2");
	}
	if (test__start_subtest("help_has_examples")) {
		char *a[] = { "--help", NULL }, *b[] = { "recover", "--help", NULL };

		ASSERT_EQ(trun_fc(out, sizeof(out), a), 0, "--help exits 0");
		ASSERT_STRSTR(out, "Examples:", "top-level examples");
		ASSERT_EQ(trun_fc(out, sizeof(out), b), 0, "recover --help exits 0");
		ASSERT_STRSTR(out, "Examples:", "command examples");
	}
	if (test__start_subtest("not_root")) {
		int p[2], st;
		pid_t pid;

		if (!ASSERT_OK(pipe(p), "pipe"))
			return;
		pid = fork();
		if (pid == 0) {
			dup2(p[1], 2);
			dup2(p[1], 1);
			if (setgid(65534) || setuid(65534))
				_exit(100);
			execl(test__faultcell(), "faultcell", "recover", NULL);
			_exit(127);
		}
		close(p[1]);
		tread_all(p[0], out, sizeof(out), 10000);
		close(p[0]);
		waitpid(pid, &st, 0);
		ASSERT_EQ(WEXITSTATUS(st), 3, "not root: exit 3");
		ASSERT_STRSTR(out, "not root", "says what is needed");
	}
}
