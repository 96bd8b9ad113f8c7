// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/state.h"
#include "core/util.h"
#include "lib/test.h"

FC_TEST(duration_parse, TIER_UNIT)
{
	static const struct {
		const char *in;
		int err;
		uint64_t ns;
	} cases[] = {
		{ "300ms", 0, 300000000ULL }, { "1s", 0, 1000000000ULL },
		{ "1.5s", 0, 1500000000ULL }, { "2m", 0, 120000000000ULL },
		{ "10us", 0, 10000ULL },      { "1h", 0, 3600000000000ULL },
		{ "5", -EINVAL, 0 },	      { "-1s", -EINVAL, 0 },
		{ "1x", -EINVAL, 0 },	      { "", -EINVAL, 0 },
		{ "1e30h", -ERANGE, 0 },      { "ms", -EINVAL, 0 },
	};
	uint64_t ns;
	char buf[32];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		ns = 0;
		ASSERT_EQ(fc_parse_duration(cases[i].in, &ns), cases[i].err, cases[i].in);
		if (!cases[i].err)
			ASSERT_EQ(ns, cases[i].ns, cases[i].in);
	}
	fc_format_duration(300000000ULL, buf, sizeof(buf));
	ASSERT_STREQ(buf, "300ms", "format ms");
	fc_format_duration(120000000000ULL, buf, sizeof(buf));
	ASSERT_STREQ(buf, "2m", "format minutes");
	fc_format_duration(1500000000ULL, buf, sizeof(buf));
	ASSERT_STREQ(buf, "1500ms", "format: largest exact unit");
}

FC_TEST(state_file_roundtrip, TIER_UNIT)
{
	char dir[] = "/tmp/fc-state-XXXXXX", path[PATH_MAX];
	struct fc_state st = { .fd = -1 }, back;
	struct fc_rec r1 = { .kind = REC_CLSACT, .ifindex = 7, .ifname = "eth0" };
	struct fc_rec r2 = {
		.kind = REC_TC_FILTER, .ifindex = 7, .egress = true, .handle = 0xfc, .prio = 49153
	};
	struct fc_rec r3 = { .kind = REC_FREEZE, .path = "/sys/fs/cgroup/a b/c" };
	char ids[4][FC_RUN_ID_LEN];
	FILE *f;

	if (!ASSERT_OK_PTR(mkdtemp(dir), "mkdtemp"))
		return;
	setenv("FAULTCELL_RUN_DIR", dir, 1);
	fc_make_run_id(st.run_id, sizeof(st.run_id));
	st.pid = 1234;
	st.deadline_ns = 987654321012ULL;
	st.control_map_id = 42;
	snprintf(st.cell, sizeof(st.cell), "/cells/c3");
	ASSERT_OK(fc_state_create(&st), "create");
	ASSERT_OK(fc_state_append(&st, &r1), "append clsact");
	ASSERT_OK(fc_state_append(&st, &r2), "append filter");
	ASSERT_OK(fc_state_append(&st, &r3), "append freeze");
	fc_state_close(&st);
	/* a torn last line, as a crash mid-write leaves it, must not break loading */
	fc_state_path(st.run_id, path, sizeof(path));
	f = fopen(path, "a");
	fputs("tc_fil", f);
	fclose(f);
	ASSERT_OK(fc_state_load(st.run_id, &back), "load");
	ASSERT_STREQ(back.run_id, st.run_id, "run id");
	ASSERT_EQ(back.pid, 1234, "pid");
	ASSERT_EQ(back.deadline_ns, st.deadline_ns, "deadline");
	ASSERT_EQ(back.control_map_id, 42, "map id");
	ASSERT_STREQ(back.cell, "/cells/c3", "cell");
	ASSERT_EQ(back.nrecs, 3, "records");
	ASSERT_EQ(back.recs[1].prio, 49153, "prio");
	ASSERT_TRUE(back.recs[1].egress, "direction");
	ASSERT_STREQ(back.recs[2].path, "/sys/fs/cgroup/a b/c", "path with a space");
	ASSERT_EQ(fc_state_list(ids, 4), 1, "listed");
	ASSERT_OK(fc_state_remove(&back), "remove");
	ASSERT_EQ(fc_state_list(ids, 4), 0, "gone");
	unsetenv("FAULTCELL_RUN_DIR");
	rmdir(dir);
}
