// SPDX-License-Identifier: BSD-2-Clause
/*
 * cell-pause: cgroup.freeze on the cell for a bounded time. The freeze is recorded in the state
 * file before it is written, so rollback, `recover` and the guard (at the deadline, or when
 * faultcell dies) thaw exactly it. `pause D` thaws after D (from the run's tick); without it
 * the cell stays frozen until the fault ends.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "faults/fault.h"

#define FREEZE_WAIT_MS 2000

struct pause_cfg {
	uint64_t pause_ns; /* 0: until the fault ends */
};

struct pause_priv {
	bool frozen;
	uint64_t procs, frozen_at, thawed_at;
};

static const char *const pause_keys[] = { "pause", NULL };

static int pause_parse(struct fc_fault_spec *spec, void *cfg, struct fc_diags *d)
{
	struct pause_cfg *c = cfg;
	struct fc_kv *kv = fc_spec_get(spec, "pause");

	return kv ? fc_kv_duration(kv, d, &c->pause_ns) : 0;
}

static void pause_describe(const void *cfg, char *buf, size_t len)
{
	const struct pause_cfg *c = cfg;
	char dur[32];

	if (!c->pause_ns) {
		snprintf(buf, len,
			 "freeze every process of the cell until the fault ends, then thaw");
		return;
	}
	fc_format_duration(c->pause_ns, dur, sizeof(dur));
	snprintf(buf, len,
		 "freeze every process of the cell for %s (or until the fault ends, if "
		 "sooner), then thaw",
		 dur);
}

static int pause_open(struct fc_fault *f)
{
	char path[PATH_MAX + 32];

	f->priv = calloc(1, sizeof(struct pause_priv));
	if (!f->priv)
		return -ENOMEM;
	if (f->core && f->core->ncells) {
		snprintf(path, sizeof(path), "%s/cgroup.freeze", f->core->cells[0].path);
		if (access(path, F_OK)) {
			snprintf(f->why, sizeof(f->why),
				 "this kernel has no cgroup.freeze (Linux 5.2 or later)");
			return -EOPNOTSUPP;
		}
	}
	snprintf(f->mechanism, sizeof(f->mechanism),
		 "cgroup.freeze, recorded first; the guard thaws it at the deadline or if "
		 "faultcell dies");
	return 0;
}

/* Someone else's freeze must stay theirs: thawing at the end would undo it. */
static int refuse_frozen(struct fc_fault *f, const struct fc_cell *cell)
{
	char path[PATH_MAX + 32], val[16];

	snprintf(path, sizeof(path), "%s/cgroup.freeze", cell->path);
	if (fc_read_file(path, val, sizeof(val)) > 0 && val[0] == '1') {
		snprintf(f->why, sizeof(f->why),
			 "the cell %s is already frozen by someone else (cgroup.freeze is 1): "
			 "thawing it afterwards would undo their freeze",
			 cell->rel);
		return -FC_FAULT_REFUSED;
	}
	if (fc_cgroup_is_frozen(cell->path) == 1) {
		snprintf(f->why, sizeof(f->why),
			 "the cell %s is frozen through an ancestor cgroup: pausing it means "
			 "nothing until that ancestor thaws",
			 cell->rel);
		return -FC_FAULT_REFUSED;
	}
	return 0;
}

static int pause_attach(struct fc_fault *f, struct fc_state *st)
{
	struct pause_priv *p = f->priv;
	const struct fc_cell *cell = &f->core->cells[0];
	struct fc_rec rec = { .kind = REC_FREEZE };
	pid_t *pids;
	int err, n;

	/* a frozen loader cannot thaw: even --force does not allow pausing ourselves */
	if (fc_cell_contains_pid(cell, getpid())) {
		snprintf(f->why, sizeof(f->why),
			 "the cell %s holds faultcell itself: it would freeze its own rollback",
			 cell->rel);
		return -FC_FAULT_REFUSED;
	}
	err = refuse_frozen(f, cell);
	if (err)
		return err;
	pids = malloc(65536 * sizeof(*pids));
	n = pids ? fc_cell_pids(cell, pids, 65536) : -ENOMEM;
	free(pids);
	p->procs = n > 0 ? n : 0;
	/* on disk before the kernel sees it: a crash in between leaves a record, never a freeze */
	snprintf(rec.path, sizeof(rec.path), "%s", cell->path);
	err = fc_state_append(st, &rec);
	if (err) {
		snprintf(f->why, sizeof(f->why), "cannot record the freeze in the state file: %s",
			 strerror(-err));
		return err;
	}
	p->frozen = true;
	err = fc_cgroup_freeze(cell->path, true, FREEZE_WAIT_MS);
	p->frozen_at = fc_now_ns();
	if (err == -ETIMEDOUT) {
		/* tasks in uninterruptible sleep freeze when they leave it: the pause has begun */
		snprintf(f->mechanism, sizeof(f->mechanism),
			 "cgroup.freeze on %s (still freezing after %d ms: tasks in D state); the "
			 "guard thaws it at the deadline or if faultcell dies",
			 cell->rel, FREEZE_WAIT_MS);
		return 0;
	}
	if (err) {
		snprintf(f->why, sizeof(f->why), "cannot freeze %s: %s", cell->rel, strerror(-err));
		return err; /* the record stays: rollback thaws whatever half-happened */
	}
	snprintf(f->mechanism, sizeof(f->mechanism),
		 "cgroup.freeze on %s (%llu processes); the guard thaws it at the deadline or if "
		 "faultcell dies",
		 cell->rel, (unsigned long long)p->procs);
	return 0;
}

static void thaw(struct fc_fault *f)
{
	struct pause_priv *p = f->priv;

	if (!p || !p->frozen)
		return;
	/* rollback's fc_undo_state thaws the record again and reports a failure there */
	fc_cgroup_freeze(f->core->cells[0].path, false, 1000);
	p->frozen = false;
	p->thawed_at = fc_now_ns();
}

static void pause_tick(struct fc_fault *f, uint64_t now_ns)
{
	struct pause_cfg *c = f->cfg;
	struct pause_priv *p = f->priv;

	if (c->pause_ns && p && p->frozen && now_ns - p->frozen_at >= c->pause_ns)
		thaw(f);
}

static int pause_counters(struct fc_fault *f, struct fc_fault_counters *out)
{
	struct pause_priv *p = f->priv;

	if (!p)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->seen = out->matched = p->procs;
	out->injected = p->frozen_at ? p->procs : 0;
	out->armed = p->frozen_at ? 1 : 0;
	out->first_hit_ns = p->frozen_at;
	return 0;
}

static void pause_close(struct fc_fault *f)
{
	thaw(f);
	free(f->priv);
	f->priv = NULL;
}

static const struct fc_fault_ops cell_pause_ops = {
	.type = "cell-pause",
	.aliases = { "pause", "freeze" },
	.summary = "freeze every process of the cell (cgroup.freeze) for a bounded time",
	.keys_help = "  pause D            thaw after D (default: when the fault ends)\n",
	.keys = pause_keys,
	.cfg_size = sizeof(struct pause_cfg),
	.parse = pause_parse,
	.describe = pause_describe,
	.open = pause_open,
	.attach = pause_attach,
	.counters = pause_counters,
	.detach = thaw,
	.close = pause_close,
	.tick = pause_tick,
};
FC_FAULT(cell_pause_ops);
