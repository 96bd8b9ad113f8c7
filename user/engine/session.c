// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/guard.h"
#include "core/log.h"
#include "core/recover.h"
#include "core/util.h"
#include "engine/recovery.h"
#include "engine/session.h"

/*
 * With the lock held, any state file belongs to a run whose loader is gone (a live loader
 * holds the lock until its state is removed): a crash whose guard has not finished, or could
 * not. Finish that recovery before starting — nothing of a crashed run stays behind a new
 * one — and refuse if something of it cannot be removed.
 */
static int recover_left_runs(struct fc_session *s)
{
	static char ids[64][FC_RUN_ID_LEN];
	char log[8192], by[FC_RUN_ID_LEN + 16];
	int n = fc_state_list(ids, 64), err;

	snprintf(by, sizeof(by), "next run %s", s->run_id);
	for (int i = 0; i < n; i++) {
		pr_warn("run %s left state behind (its loader is gone): recovering it first",
			ids[i]);
		err = fc_recover_journaled(ids[i], by, log, sizeof(log));
		if (err && err != -ENOENT) {
			snprintf(s->why, sizeof(s->why),
				 "run %s left items that could not be removed (%s): see 'faultcell "
				 "status', then 'faultcell recover'",
				 ids[i], err == -EAGAIN ? "still there" : strerror(-err));
			return FC_EXIT_REFUSED;
		}
	}
	return 0;
}

int fc_session_begin(struct fc_session *s, const struct fc_session_opts *o)
{
	struct fc_guard_opts go = {};
	int holder = 0, err;

	memset(s, 0, sizeof(*s));
	s->lock = -1;
	s->st.fd = -1;
	s->netns_saved = -1;
	s->core.control_fd = s->core.events_fd = -1;
	fc_make_run_id(s->run_id, sizeof(s->run_id));
	s->max_gap_ns = o->max_gap_ns;
	/* the deadline is fixed now, so the guard knows it; arming later only shortens the run */
	s->deadline_ns = fc_now_coarse_ns() + o->duration_ns;
	/* the netns first: the guard and the `recover` it runs must see the same ifindexes */
	err = fc_netns_enter(o->netns, &s->netns_saved);
	if (err) {
		snprintf(s->why, sizeof(s->why), "cannot enter netns %s: %s", o->netns,
			 strerror(-err));
		return FC_EXIT_REFUSED;
	}
	/* the guard before any BPF fd and before the lock (a forked child shares the flock) */
	go.run_id = s->run_id;
	go.deadline_ns = s->deadline_ns;
	go.self_exe = o->self_exe;
	s->guard = fc_guard_start(&go);
	if (s->guard < 0) {
		snprintf(s->why, sizeof(s->why), "cannot start the guard process: %s",
			 strerror(-s->guard));
		s->guard = 0;
		return FC_EXIT_INTERNAL;
	}
	s->lock = fc_lock_take(&holder);
	if (s->lock < 0) {
		snprintf(s->why, sizeof(s->why),
			 s->lock == -EBUSY ? "another faultcell run (pid %d) holds the lock in %s "
					     "(one experiment per host; wait, or 'faultcell abort')"
					   : "cannot take the run lock (pid %d) in %s",
			 holder, fc_run_dir());
		return FC_EXIT_REFUSED;
	}
	err = recover_left_runs(s);
	if (err)
		return err;
	err = fc_core_open(&s->core, s->run_id, 0);
	err = err ?: fc_core_add_cell(&s->core, o->cell);
	if (err) {
		snprintf(s->why, sizeof(s->why), "cannot create the control map: %s",
			 strerror(-err));
		return err == -EPERM ? FC_EXIT_KERNEL : FC_EXIT_INTERNAL;
	}
	snprintf(s->st.run_id, sizeof(s->st.run_id), "%s", s->run_id);
	s->st.pid = getpid();
	s->st.deadline_ns = s->deadline_ns;
	s->st.control_map_id = s->core.control_map_id;
	snprintf(s->st.cell, sizeof(s->st.cell), "%s", o->cell->rel);
	if (o->netns)
		snprintf(s->st.netns, sizeof(s->st.netns), "%s", o->netns);
	if (o->journal)
		snprintf(s->st.journal, sizeof(s->st.journal), "%s", o->journal);
	err = fc_state_create(&s->st);
	if (err) {
		snprintf(s->why, sizeof(s->why), "cannot write the state file in %s: %s",
			 fc_run_dir(), strerror(-err));
		return FC_EXIT_INTERNAL;
	}
	return 0;
}

int fc_session_add(struct fc_session *s, struct fc_fault *f)
{
	int err;

	if (s->nfaults >= FC_SESSION_MAX_FAULTS) {
		fc_fault_free(f);
		snprintf(s->why, sizeof(s->why), "at most %d faults at once",
			 FC_SESSION_MAX_FAULTS);
		return FC_EXIT_USAGE;
	}
	s->faults[s->nfaults++] = f;
	f->core = &s->core;
	err = f->ops->open(f);
	if (!err)
		return 0;
	if (err == -FC_FAULT_REFUSED) {
		snprintf(s->why, sizeof(s->why), "refused %s: %s", f->ops->type, f->why);
		return FC_EXIT_REFUSED;
	}
	snprintf(s->why, sizeof(s->why), "cannot load %s: %s", f->ops->type,
		 f->why[0] ? f->why : strerror(-err));
	return err == -EOPNOTSUPP ? FC_EXIT_KERNEL : FC_EXIT_INTERNAL;
}

static int attach_one(struct fc_session *s, int i)
{
	struct fc_fault *f = s->faults[i];
	int err = f->ops->attach(f, &s->st);

	if (err == -FC_FAULT_REFUSED) {
		snprintf(s->why, sizeof(s->why), "refused %s: %s", f->ops->type, f->why);
		return FC_EXIT_REFUSED;
	}
	if (err) {
		snprintf(s->why, sizeof(s->why), "cannot attach %s: %s", f->ops->type,
			 f->why[0] ? f->why : strerror(-err));
		return FC_EXIT_INTERNAL;
	}
	s->attached[i] = true;
	return 0;
}

int fc_session_arm_due(struct fc_session *s, uint64_t since_arm_ns, int *armed)
{
	int rc;

	*armed = 0;
	for (int i = 0; i < s->nfaults; i++) {
		if (!s->faults[i] || s->attached[i] || s->start_ns[i] > since_arm_ns)
			continue;
		rc = attach_one(s, i);
		if (rc)
			return rc;
		(*armed)++;
	}
	return 0;
}

int fc_session_arm(struct fc_session *s)
{
	int err, n;

	/* the faults due at once; a later start attaches to programs already enabled */
	err = fc_session_arm_due(s, 0, &n);
	if (err)
		return err;
	s->armed_at_ns = fc_now_ns();
	err = fc_core_arm(&s->core, s->deadline_ns, s->max_gap_ns);
	if (err) {
		snprintf(s->why, sizeof(s->why), "cannot enable the faults: %s", strerror(-err));
		return FC_EXIT_INTERNAL;
	}
	return 0;
}

int fc_session_heartbeat(struct fc_session *s)
{
	return fc_core_heartbeat(&s->core);
}

int fc_session_rollback(struct fc_session *s, struct fc_rollback_report *r)
{
	struct fc_fault_counters c;
	int err = 0;

	memset(r, 0, sizeof(*r));
	/*
	 * 1. one map write: every program inert within microseconds. `faultcell abort` may have
	 * written it already from outside; then its own timestamp is the true start.
	 */
	if (s->core.control_fd >= 0) {
		struct fc_control ctl;

		fc_core_disable(&s->core);
		if (!fc_core_read(&s->core, &ctl) && ctl.disabled_at_ns)
			r->disabled_at_ns = ctl.disabled_at_ns;
		else
			r->disabled_at_ns = fc_now_ns();
	}
	/* the programs' own clock says when the first call passed untouched (P4) */
	for (int i = 0; i < s->nfaults; i++) {
		struct fc_fault *f = s->faults[i];

		if (f->priv && f->ops->counters && !f->ops->counters(f, &c) && c.first_inert_ns &&
		    (!r->first_inert_ns || c.first_inert_ns < r->first_inert_ns))
			r->first_inert_ns = c.first_inert_ns;
	}
	/* 2. links gone, objects closed (their programs freed) */
	for (int i = 0; i < s->nfaults; i++) {
		if (s->faults[i]->priv)
			s->faults[i]->ops->detach(s->faults[i]);
	}
	r->links_gone_ns = fc_now_ns();
	/* 3. undo what the state file recorded (clsact, freezes) */
	if (s->st.fd >= 0)
		err = fc_undo_state(&s->st, r->log, sizeof(r->log));
	if (err)
		pr_warn("rollback: %s", strerror(-err));
	return 0;
}

int fc_session_take_restorable(struct fc_session *s, struct fc_fault **out, int max)
{
	int n = 0;

	for (int i = 0; i < s->nfaults && n < max; i++) {
		struct fc_fault *f = s->faults[i];

		/* a fault whose start never came killed nothing: nothing to see restored */
		if (!f || !f->priv || !f->ops->verify_restored || !s->attached[i])
			continue;
		out[n++] = f;
		s->faults[i] = NULL;
	}
	return n;
}

/* Counters must be read before this: it closes the objects. */
static int session_verify(struct fc_session *s, struct fc_rollback_report *r)
{
	for (int i = 0; i < s->nfaults; i++) {
		fc_fault_free(s->faults[i]);
		s->faults[i] = NULL;
	}
	s->nfaults = 0;
	fc_core_close(&s->core);
	/* 4. verify against the kernel: nothing tagged with this run may remain */
	r->remaining = fc_verify_gone(s->run_id, FC_VERIFY_WAIT_MS, r->left, sizeof(r->left));
	r->verified_ns = fc_now_ns();
	if (r->remaining)
		return FC_EXIT_ROLLBACK;
	fc_state_remove(&s->st);
	return 0;
}

int fc_session_finish(struct fc_session *s, struct fc_rollback_report *r)
{
	return session_verify(s, r);
}

void fc_session_end(struct fc_session *s)
{
	for (int i = 0; i < s->nfaults; i++)
		fc_fault_free(s->faults[i]);
	s->nfaults = 0;
	fc_core_close(&s->core);
	fc_state_close(&s->st);
	fc_lock_release(s->lock);
	s->lock = -1;
	/* the guard goes last: until here it would still undo a crash of ours */
	fc_guard_stop(s->guard);
	s->guard = 0;
	fc_netns_restore(s->netns_saved);
	s->netns_saved = -1;
}
