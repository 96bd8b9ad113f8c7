// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/cgroup.h"
#include "core/control.h"
#include "core/inventory.h"
#include "core/qdisc.h"
#include "core/recover.h"
#include "core/tc.h"
#include "core/util.h"

#define logf(...)                                                                                  \
	do {                                                                                       \
		size_t __u = strlen(log);                                                          \
		if (__u < loglen)                                                                  \
			snprintf(log + __u, loglen - __u, __VA_ARGS__);                            \
	} while (0)

int fc_undo_state(const struct fc_state *st, char *log, size_t loglen)
{
	int first = 0, err, r, self_ns;
	char run[FC_RUN_ID_LEN];

	if (loglen)
		log[0] = 0;
	/* One map write makes every fault of the run inert before anything is torn down. */
	if (st->control_map_id) {
		err = fc_control_disable_by_id(st->control_map_id);
		if (!err)
			logf("cleared enabled in control map %u\n", st->control_map_id);
	}
	/* Thaw first: a frozen cell is the most visible harm. Reverse order of creation. */
	for (r = st->nrecs - 1; r >= 0; r--) {
		const struct fc_rec *rec = &st->recs[r];

		if (rec->kind != REC_FREEZE)
			continue;
		err = fc_cgroup_freeze(rec->path, false, 1000);
		if (err == -ENOENT) {
			logf("cgroup %s is gone: nothing to thaw\n", rec->path);
			continue;
		}
		if (err && !first)
			first = err;
		logf("%s %s\n", err ? "FAILED to thaw" : "thawed", rec->path);
	}
	/* recorded ifindexes belong to the run's netns: undo the tc records from inside it */
	if (fc_netns_enter(st->netns, &self_ns)) {
		logf("netns %s is gone: its devices and their filters went with it\n", st->netns);
		goto out_ns;
	}
	for (r = st->nrecs - 1; r >= 0; r--) {
		const struct fc_rec *rec = &st->recs[r];
		int prog;

		if (rec->kind != REC_TC_FILTER)
			continue;
		prog = fc_tc_filter_prog_id(rec->ifindex, rec->egress, rec->handle, rec->prio);
		if (prog <= 0)
			continue;
		/* the same handle/prio could be somebody else's by now: check the program's tag */
		if (fc_prog_run_id(prog, run, sizeof(run)) || strcmp(run, st->run_id)) {
			logf(
			    "left tc filter ifindex %d prio %u: its program %d is not this run's\n",
			    rec->ifindex, rec->prio, prog);
			continue;
		}
		err = fc_tc_filter_remove(rec->ifindex, rec->egress, rec->handle, rec->prio);
		if (err && !first)
			first = err;
		logf("%s tc filter ifindex %d %s prio %u\n", err ? "FAILED to remove" : "removed",
		     rec->ifindex, rec->egress ? "egress" : "ingress", rec->prio);
	}
	/* our fq/mq root: deleting it makes the kernel re-create its own default */
	for (r = st->nrecs - 1; r >= 0; r--) {
		if (st->recs[r].kind != REC_QDISC)
			continue;
		err = fc_qdisc_restore(&st->recs[r], log, loglen);
		if (err && !first)
			first = err;
	}
	for (r = st->nrecs - 1; r >= 0; r--) {
		const struct fc_rec *rec = &st->recs[r];

		if (rec->kind != REC_CLSACT || !fc_tc_clsact_exists(rec->ifindex))
			continue;
		err = fc_tc_clsact_remove_if_empty(rec->ifindex);
		if (err == -EBUSY) {
			logf("kept clsact on %s: other filters live there\n", rec->ifname);
			continue;
		}
		if (err && !first)
			first = err;
		logf("%s clsact qdisc on %s\n", err ? "FAILED to remove" : "removed", rec->ifname);
	}
out_ns:
	fc_netns_restore(self_ns);
	return first;
}

int fc_verify_gone(const char *run_id, int wait_ms, char *left, size_t leftlen)
{
	struct fc_inventory none = {}, inv;
	__u64 deadline = fc_now_ns() + (__u64)wait_ms * 1000000;
	int n = 0, err;

	for (;;) {
		err = fc_inventory_collect(&inv, run_id);
		if (err)
			return err;
		/* the state file itself does not count: it is removed once this says 0 */
		n = 0;
		for (int i = 0; i < inv.n; i++)
			if (inv.items[i].kind == INV_STATE)
				inv.items[i--] = inv.items[--inv.n];
		n = fc_inventory_new_items(&none, &inv, left, leftlen);
		fc_inventory_free(&inv);
		/* wall time, not a count of sleeps: collecting is slow on a loaded or emulated CPU
		 */
		if (!n || fc_now_ns() >= deadline)
			return n;
		usleep(10000);
	}
}

int fc_recover_run(const char *run_id, char *log, size_t loglen)
{
	struct fc_state st;
	char left[2048];
	int err, n;

	err = fc_state_load(run_id, &st);
	if (err)
		return err;
	err = fc_undo_state(&st, log, loglen);
	n = fc_verify_gone(run_id, FC_VERIFY_WAIT_MS, left, sizeof(left));
	if (n < 0)
		return n;
	if (n) {
		logf("NOT verified: %d item(s) of run %s remain: %s\n", n, run_id, left);
		return -EAGAIN;
	}
	logf("verified: nothing of run %s remains\n", run_id);
	fc_state_remove(&st);
	return err;
}
