// SPDX-License-Identifier: BSD-2-Clause
/*
 * Command probes against their timeout: an answer counts only when the command has exited
 * within it; a command that closed its output but is still running, or answers after its
 * timeout (even inside the window), is "no data: timed out" — never its kill status.
 */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "engine/probes.h"
#include "lib/test.h"

/* Run one probe as a window of @window_ms would: poll until its end, then finish. */
static void window_of(struct fc_probe *p, const struct fc_metric *m, int window_ms)
{
	uint64_t end;

	fc_probe_init(p, m);
	end = fc_now_ns() + (uint64_t)window_ms * 1000000;
	if (!ASSERT_OK(fc_probe_start(p), "probe started"))
		return;
	while (fc_now_ns() < end)
		usleep(fc_probe_poll(p) ? 5000 : 1000);
	fc_probe_finish(p);
}

static void command(struct fc_metric *m, const char *script, bool status, int timeout_ms)
{
	memset(m, 0, sizeof(*m));
	m->source = FC_MSRC_COMMAND;
	m->argv[0] = "sh";
	m->argv[1] = "-c";
	m->argv[2] = script;
	m->argc = 3;
	m->use_status = status;
	m->timeout_ns = (uint64_t)timeout_ms * 1000000;
}

FC_TEST(probe_command_timeout, TIER_UNIT)
{
	struct fc_metric m;
	struct fc_probe p;

	if (test__start_subtest("answer_in_time")) {
		command(&m, "echo 42", false, 1000);
		window_of(&p, &m, 300);
		ASSERT_TRUE(p.ok && p.value == 42, "the number it printed");
	}
	if (test__start_subtest("exit_status")) {
		command(&m, "exit 3", true, 1000);
		window_of(&p, &m, 300);
		ASSERT_TRUE(p.ok && p.value == 3, "its exit status");
	}
	if (test__start_subtest("output_closed_still_running")) {
		/* EOF at once, exit never: killed at the window's end, not "status 137" */
		command(&m, "exec >&-; sleep 5", true, 200);
		window_of(&p, &m, 400);
		ASSERT_FALSE(p.ok, "no data");
		ASSERT_STREQ(p.err, "timed out", "says why");
	}
	if (test__start_subtest("late_inside_the_window")) {
		/* answers at ~300 ms: after its 100 ms timeout, though before the window's end */
		command(&m, "sleep 0.3; echo 1", false, 100);
		window_of(&p, &m, 700);
		ASSERT_FALSE(p.ok, "an answer after the timeout is no data");
		ASSERT_STREQ(p.err, "timed out", "says why");
	}
}
