// SPDX-License-Identifier: BSD-2-Clause
/*
 * `fc-test --worker holder ...`: a minimal loader built only from the safety core, used by the
 * core tests to stand in for `run`/`inject` (which later issues build on the same calls):
 * guard → lock → state → core → load the test program → attach → arm → heartbeat.
 *
 *   holder --cell PATH [--attach-cg PATH] --mode skb|rawtp|tpbtf|clsact|tcx|freeze
 *          [--netns PATH --ifname DEV] [--deadline-ms N] [--max-gap-ms N] [--hb-ms N]
 *          [--guard] [--lock] [--linger]
 *
 * Prints "ready run=ID control=ID stats=ID" once armed, rolls back at the deadline (unless
 * --linger: keep the links and the heartbeat) or on SIGTERM, then prints "done".
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "core/cgroup.h"
#include "core/control.h"
#include "core/guard.h"
#include "core/recover.h"
#include "core/state.h"
#include "core/tc.h"
#include "core/util.h"
#include "lib/host.h"
#include "lib/test.h"
#include "selftest.skel.h"

struct holder_opts {
	const char *cell, *attach_cg, *mode, *netns, *ifname;
	uint64_t deadline_ms, max_gap_ms, hb_ms;
	bool guard, lock, linger;
};

static int map_id(struct bpf_map *m)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(bpf_map__fd(m), &info, &len) ? 0 : (int)info.id;
}

static int holder(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "cell", 1, NULL, 'c' },	{ "attach-cg", 1, NULL, 'a' },
		{ "mode", 1, NULL, 'm' },	{ "netns", 1, NULL, 'n' },
		{ "ifname", 1, NULL, 'i' },	{ "deadline-ms", 1, NULL, 'd' },
		{ "max-gap-ms", 1, NULL, 'g' }, { "hb-ms", 1, NULL, 'b' },
		{ "guard", 0, NULL, 'G' },	{ "lock", 0, NULL, 'L' },
		{ "linger", 0, NULL, 'l' },	{},
	};
	struct holder_opts o = {
		.mode = "skb", .deadline_ms = 60000, .max_gap_ms = 1000, .hb_ms = 50
	};
	struct fc_state st = { .fd = -1 };
	struct fc_tc_attach at = {};
	struct selftest_bpf *skel = NULL;
	struct bpf_link *link = NULL;
	struct fc_core core = { .control_fd = -1, .events_fd = -1 };
	struct fc_cell cell, acg;
	char run[FC_RUN_ID_LEN], why[256], left[1024];
	uint64_t deadline;
	int c, err, lock = -1, cgfd = -1;
	pid_t guard = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.cell = optarg;
			break;
		case 'a':
			o.attach_cg = optarg;
			break;
		case 'm':
			o.mode = optarg;
			break;
		case 'n':
			o.netns = optarg;
			break;
		case 'i':
			o.ifname = optarg;
			break;
		case 'd':
			o.deadline_ms = strtoull(optarg, NULL, 0);
			break;
		case 'g':
			o.max_gap_ms = strtoull(optarg, NULL, 0);
			break;
		case 'b':
			o.hb_ms = strtoull(optarg, NULL, 0);
			break;
		case 'G':
			o.guard = true;
			break;
		case 'L':
			o.lock = true;
			break;
		case 'l':
			o.linger = true;
			break;
		default:
			return 2;
		}
	}
	fc_install_exit_handlers();
	err = fc_cell_resolve(o.cell, &cell, why, sizeof(why));
	if (err) {
		fprintf(stderr, "holder: %s\n", why);
		return 3;
	}
	/* the netns first: the guard and its `recover` must see the same ifindexes */
	if (o.netns && tnet_enter(o.netns))
		return 4;
	fc_make_run_id(run, sizeof(run));
	deadline = fc_now_coarse_ns() + o.deadline_ms * NSEC_PER_MSEC;
	if (o.guard) {
		struct fc_guard_opts go = { .run_id = run,
					    .deadline_ns = deadline,
					    .self_exe = test__faultcell() };

		guard = fc_guard_start(&go);
		if (guard < 0)
			return 5;
	}
	if (o.lock) {
		lock = fc_lock_take(NULL);
		if (lock < 0) {
			printf("locked\n");
			return 3;
		}
	}
	err = fc_core_open(&core, run, 0);
	err = err ?: fc_core_add_cell(&core, &cell);
	if (err)
		goto out;
	snprintf(st.run_id, sizeof(st.run_id), "%s", run);
	st.pid = getpid();
	st.deadline_ns = deadline;
	st.control_map_id = core.control_map_id;
	snprintf(st.cell, sizeof(st.cell), "%s", cell.rel);
	err = fc_state_create(&st);
	if (err)
		goto out;
	skel = selftest_bpf__open();
	if (!skel) {
		err = -errno;
		goto out;
	}
	err = fc_core_prepare(&core, skel->obj);
	if (err)
		goto out;
	bpf_program__set_autoload(skel->progs.fc_selftest_skb, !strcmp(o.mode, "skb"));
	bpf_program__set_autoload(skel->progs.fc_selftest_rawtp, !strcmp(o.mode, "rawtp"));
	bpf_program__set_autoload(skel->progs.fc_selftest_tpbtf, !strcmp(o.mode, "tpbtf"));
	bpf_program__set_autoload(skel->progs.fc_selftest_tc,
				  !strcmp(o.mode, "clsact") || !strcmp(o.mode, "tcx"));
	err = selftest_bpf__load(skel);
	if (err)
		goto out;
	if (!strcmp(o.mode, "skb")) {
		err = fc_cell_resolve(o.attach_cg ?: o.cell, &acg, why, sizeof(why));
		if (err)
			goto out;
		cgfd = open(acg.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cgfd < 0) {
			err = -errno;
			goto out;
		}
		link = bpf_program__attach_cgroup(skel->progs.fc_selftest_skb, cgfd);
	} else if (!strcmp(o.mode, "rawtp")) {
		link = bpf_program__attach(skel->progs.fc_selftest_rawtp);
	} else if (!strcmp(o.mode, "tpbtf")) {
		link = bpf_program__attach(skel->progs.fc_selftest_tpbtf);
	} else if (!strcmp(o.mode, "clsact") || !strcmp(o.mode, "tcx")) {
		int ifindex = o.ifname ? (int)if_nametoindex(o.ifname) : 0;

		if (!ifindex) {
			err = -ENODEV;
			goto out;
		}
		err = fc_tc_attach(&st, bpf_program__fd(skel->progs.fc_selftest_tc), ifindex, true,
				   !strcmp(o.mode, "tcx") ? FC_TC_TCX : FC_TC_CLSACT, &at);
		if (err)
			goto out;
	} else if (!strcmp(o.mode, "freeze")) {
		struct fc_rec rec = { .kind = REC_FREEZE };

		snprintf(rec.path, sizeof(rec.path), "%s", cell.path);
		err = fc_state_append(&st, &rec);
		err = err ?: fc_cgroup_freeze(cell.path, true, 2000);
		if (err)
			goto out;
	}
	if ((!strcmp(o.mode, "skb") || !strcmp(o.mode, "rawtp") || !strcmp(o.mode, "tpbtf")) &&
	    !link) {
		err = -errno;
		goto out;
	}
	err = fc_core_arm(&core, deadline, o.max_gap_ms * NSEC_PER_MSEC);
	if (err)
		goto out;
	printf("ready run=%s control=%u stats=%d guard=%d\n", run, core.control_map_id,
	       map_id(skel->maps.fc_stats), guard);
	fflush(stdout);
	while (!fc_exiting) {
		usleep(o.hb_ms * 1000);
		if (!o.linger && fc_now_coarse_ns() >= deadline)
			break;
		fc_core_heartbeat(&core);
	}
out:
	/* rollback in the contract's order: inert, links gone, recorded state undone, verify */
	if (core.control_fd >= 0)
		fc_core_disable(&core);
	bpf_link__destroy(link);
	if (at.used)
		fc_tc_detach(&at);
	selftest_bpf__destroy(skel);
	if (cgfd >= 0)
		close(cgfd);
	if (st.fd >= 0) {
		char log[2048];

		fc_undo_state(&st, log, sizeof(log));
		if (fc_verify_gone(run, 2000, left, sizeof(left)) == 0)
			fc_state_remove(&st);
		else
			fprintf(stderr, "holder: rollback not verified: %s\n", left);
	}
	fc_core_close(&core);
	fc_lock_release(lock);
	fc_guard_stop(guard);
	if (err)
		fprintf(stderr, "holder: %s\n", strerror(-err));
	printf("done err=%d\n", err);
	return err ? 1 : 0;
}
FC_WORKER(holder, holder);
