// SPDX-License-Identifier: BSD-2-Clause
/*
 * process-kill and pod-kill: `count` of the cell's `of` members die at attach — processes
 * (thread-group leaders of the subtree) through pinned pidfds, or pods (child cgroups) through
 * their own cgroup.kill; `count: all` kills the whole cell with its cgroup.kill. Nothing is
 * undone at detach: rollback runs the `restore` command, and verify_restored checks that `of`
 * are back within the recovery timeout (design.md §4).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "faults/fault.h"
#include "faults/proc.h"

#define KILL_MAX	    100000
/* a member restarting while we look is not a mismatch: wait this long for `of` to hold */
#define OF_WAIT_NS	    (2 * NSEC_PER_SEC)
#define RECOVERY_DEFAULT_NS (30 * NSEC_PER_SEC)

struct kill_cfg {
	bool pods;
	bool all;	    /* count: all — the whole cell through its cgroup.kill */
	uint64_t count, of; /* of = 0: not checked */
	int sig;
	enum fc_select select;
	char restore[512];
	uint64_t recovery_ns;
};

struct kill_priv {
	uint64_t seen, chosen, killed, first_hit_ns;
	uint64_t want;	     /* members that must be back: of, or what selection saw */
	struct fc_cell cell; /* ours: verify_restored runs after the session is closed */
};

static const char *const kill_keys[] = { "count",  "of",      "target.count", "target.of", "signal",
					 "select", "restore", "recovery",     NULL };

/* `count` or the seed's `target.count`, never both. */
static struct fc_kv *either(struct fc_fault_spec *s, const char *key, struct fc_diags *d, int *err)
{
	char tkey[32];
	struct fc_kv *a, *b;

	snprintf(tkey, sizeof(tkey), "target.%s", key);
	a = fc_spec_get(s, key);
	b = fc_spec_get(s, tkey);
	if (a && b) {
		fc_diag(d, b->line, b->col, "give %s or %s, not both", key, tkey);
		*err = -EINVAL;
	}
	return a ?: b;
}

static int kill_parse(struct fc_fault_spec *spec, struct kill_cfg *c, struct fc_diags *d)
{
	struct fc_kv *kv, *count;
	int err = 0, sig;

	c->count = 1;
	c->sig = SIGKILL;
	c->recovery_ns = RECOVERY_DEFAULT_NS;
	count = either(spec, "count", d, &err);
	if (count && !strcmp(count->val, "all"))
		c->all = true;
	else if (count && fc_kv_u64(count, d, 1, KILL_MAX, &c->count))
		err = -EINVAL;
	if ((kv = either(spec, "of", d, &err)) && fc_kv_u64(kv, d, 1, KILL_MAX, &c->of))
		err = -EINVAL;
	if (!err && count && !c->all && c->of && c->count > c->of) {
		fc_diag(d, count->line, count->col, "%s: count %llu is more than of %llu",
			spec->type, (unsigned long long)c->count, (unsigned long long)c->of);
		err = -EINVAL;
	}
	if ((kv = fc_spec_get(spec, "signal"))) {
		sig = fc_signal_parse(kv->val);
		if (sig < 0) {
			fc_diag(d, kv->line, kv->col,
				"signal: '%s' is not a signal (e.g. SIGKILL, SIGTERM, 9)", kv->val);
			err = -EINVAL;
		} else if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
			/* a stopped process still counts as back, and nothing would continue it */
			fc_diag(d, kv->line, kv->col,
				"signal: %s stops processes and nothing would resume them; use "
				"cell-pause to pause the cell for a bounded time",
				kv->val);
			err = -EINVAL;
		} else if (sig != SIGKILL && (c->pods || c->all)) {
			fc_diag(d, kv->line, kv->col,
				"signal: %s: %s uses cgroup.kill, which sends SIGKILL only; %s",
				kv->val, c->pods ? "pod-kill" : "count: all",
				c->pods ? "for another signal use process-kill"
					: "give a number to send another signal");
			err = -EINVAL;
		}
		c->sig = sig;
	}
	if ((kv = fc_spec_get(spec, "select")) && fc_select_parse(kv->val, &c->select)) {
		fc_diag(d, kv->line, kv->col, "select: '%s' is not random, oldest or newest",
			kv->val);
		err = -EINVAL;
	}
	if ((kv = fc_spec_get(spec, "restore"))) {
		if (!kv->val[0] || strlen(kv->val) >= sizeof(c->restore)) {
			fc_diag(d, kv->line, kv->col, "restore: empty or too long");
			err = -EINVAL;
		}
		snprintf(c->restore, sizeof(c->restore), "%s", kv->val);
	}
	if ((kv = fc_spec_get(spec, "recovery")) && fc_kv_duration(kv, d, &c->recovery_ns))
		err = -EINVAL;
	return err;
}

static int process_parse(struct fc_fault_spec *spec, void *cfg, struct fc_diags *d)
{
	return kill_parse(spec, cfg, d);
}

static int pod_parse(struct fc_fault_spec *spec, void *cfg, struct fc_diags *d)
{
	((struct kill_cfg *)cfg)->pods = true;
	return kill_parse(spec, cfg, d);
}

static void kill_describe(const void *cfg, char *buf, size_t len)
{
	const struct kill_cfg *c = cfg;
	const char *what = c->pods ? "pods" : "processes";
	char sig[32], of[32] = "", rec[32], then[600];

	if (c->of)
		snprintf(of, sizeof(of), "%llu ", (unsigned long long)c->of);
	fc_format_duration(c->recovery_ns, rec, sizeof(rec));
	if (c->restore[0])
		snprintf(then, sizeof(then), "; rollback runs '%s' and expects them back within %s",
			 c->restore, rec);
	else
		snprintf(then, sizeof(then), "; rollback expects them back within %s", rec);
	if (c->all)
		snprintf(buf, len, "kill all the cell's %s%s at once with cgroup.kill%s", of, what,
			 then);
	else if (c->pods)
		snprintf(buf, len, "kill %llu of the cell's %s%s (%s) with cgroup.kill%s",
			 (unsigned long long)c->count, of, what, fc_select_name(c->select), then);
	else
		snprintf(buf, len, "send %s to %llu of the cell's %s%s (%s)%s",
			 fc_signal_name(c->sig, sig, sizeof(sig)), (unsigned long long)c->count, of,
			 what, fc_select_name(c->select), then);
}

static int kill_open(struct fc_fault *f)
{
	struct kill_cfg *c = f->cfg;
	struct kill_priv *p;
	char path[PATH_MAX + 32];

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	f->priv = p;
	/* no BPF: the mechanism is the kernel's cgroup.kill (5.14) or pidfds (5.3) */
	if ((c->pods || c->all) && f->core && f->core->ncells) {
		snprintf(path, sizeof(path), "%s/cgroup.kill", f->core->cells[0].path);
		if (access(path, F_OK)) {
			snprintf(f->why, sizeof(f->why),
				 "this kernel has no cgroup.kill (Linux 5.14 or later)");
			return -EOPNOTSUPP;
		}
	}
	snprintf(f->mechanism, sizeof(f->mechanism), "%s",
		 c->all	   ? "cgroup.kill on the cell"
		 : c->pods ? "cgroup.kill on each chosen pod (child cgroup of the cell)"
			   : "pidfd_send_signal to pinned thread-group leaders of the cell");
	return 0;
}

/* Members now: pinned processes or populated pods. Returns how many, or -errno. */
static int count_members(const struct kill_cfg *c, const struct fc_cell *cell)
{
	struct fc_proc_list pl;
	struct fc_pod_list dl;
	int err, n;

	if (c->pods) {
		err = fc_pod_list_cell(cell, &dl);
		n = dl.n;
		fc_pod_list_free(&dl);
	} else {
		err = fc_proc_list_cell(cell, &pl, NULL, NULL);
		n = pl.n;
		fc_proc_list_free(&pl);
	}
	return err ?: n;
}

/*
 * List members until `of` holds, for up to OF_WAIT_NS but never past the run's deadline (a
 * kill after it would be a fault outliving its deadline). 0, or -FC_FAULT_REFUSED with why.
 */
static int list_checked(struct fc_fault *f, const struct fc_state *st, struct fc_proc_list *pl,
			struct fc_pod_list *dl)
{
	struct kill_cfg *c = f->cfg;
	const struct fc_cell *cell = &((struct kill_priv *)f->priv)->cell;
	uint64_t until = fc_now_coarse_ns() + OF_WAIT_NS;
	const char *what = c->pods ? "pods" : "processes";
	int err, n;

	if (st->deadline_ns && st->deadline_ns < until)
		until = st->deadline_ns;
	for (;;) {
		err =
		    c->pods ? fc_pod_list_cell(cell, dl) : fc_proc_list_cell(cell, pl, NULL, NULL);
		if (err)
			return err;
		n = c->pods ? dl->n : pl->n;
		if ((c->of ? (uint64_t)n == c->of : n > 0) || fc_now_coarse_ns() >= until)
			break;
		c->pods ? fc_pod_list_free(dl) : fc_proc_list_free(pl);
		usleep(20000);
	}
	if (c->of && (uint64_t)n != c->of)
		snprintf(f->why, sizeof(f->why),
			 "the cell %s has %d %s, the fault says of %llu (check the cell, or "
			 "omit of to kill among whatever is there)",
			 cell->rel, n, what, (unsigned long long)c->of);
	else if (st->deadline_ns && fc_now_coarse_ns() >= st->deadline_ns)
		snprintf(f->why, sizeof(f->why),
			 "the run's deadline passed before the kill (the cell %s has %d %s): "
			 "nothing killed",
			 cell->rel, n, what);
	else if (!n)
		snprintf(f->why, sizeof(f->why), "the cell %s has no %s to kill%s", cell->rel, what,
			 c->pods ? " (pods are child cgroups with processes in them)" : "");
	else if (!c->all && c->count > (uint64_t)n)
		snprintf(f->why, sizeof(f->why), "the cell %s has %d %s, fewer than count %llu",
			 cell->rel, n, what, (unsigned long long)c->count);
	else
		return 0;
	c->pods ? fc_pod_list_free(dl) : fc_proc_list_free(pl);
	return -FC_FAULT_REFUSED;
}

/* The victims go into the mechanism line: "how" in the banner and the journal. */
static void note_victim(struct fc_fault *f, const char *victim)
{
	size_t u = strlen(f->mechanism);

	if (u < sizeof(f->mechanism))
		snprintf(f->mechanism + u, sizeof(f->mechanism) - u, " %s", victim);
}

static int kill_attach(struct fc_fault *f, struct fc_state *st)
{
	struct kill_cfg *c = f->cfg;
	struct kill_priv *p = f->priv;
	const struct fc_cell *cell = &p->cell;
	struct fc_proc_list pl = {};
	struct fc_pod_list dl = {};
	char sig[32];
	int err, n;

	/* a kill leaves nothing of ours in the kernel: nothing to record in @st */
	p->cell = f->core->cells[0];
	if (c->all && fc_cell_contains_pid(cell, getpid())) {
		snprintf(f->why, sizeof(f->why),
			 "count: all would kill faultcell itself (it runs in the cell)");
		return -FC_FAULT_REFUSED;
	}
	err = list_checked(f, st, &pl, &dl);
	if (err)
		return err;
	n = c->pods ? dl.n : pl.n;
	p->seen = n;
	p->want = c->of ?: (uint64_t)n;
	if (c->all) {
		p->chosen = n;
		err = fc_cgroup_kill(cell->path);
		if (!err) {
			p->killed = n;
			p->first_hit_ns = fc_now_ns();
		}
		snprintf(f->mechanism, sizeof(f->mechanism), "cgroup.kill on %s (%d %s)", cell->rel,
			 n, c->pods ? "pods" : "processes");
		goto out;
	}
	fc_signal_name(c->sig, sig, sizeof(sig));
	if (c->pods) {
		fc_select_order(dl.p, dl.n, sizeof(dl.p[0]), c->select, fc_pod_age);
		snprintf(f->mechanism, sizeof(f->mechanism), "cgroup.kill on pod");
	} else {
		fc_select_order(pl.p, pl.n, sizeof(pl.p[0]), c->select, fc_proc_age);
		snprintf(f->mechanism, sizeof(f->mechanism), "pidfd_send_signal(%s) to", sig);
	}
	/* a member that exited by itself since the listing does not count: take the next one */
	for (int i = 0; i < n && p->killed < c->count; i++) {
		err = c->pods ? fc_pod_kill(&dl.p[i]) : fc_proc_signal(&pl.p[i], c->sig);
		if (err == -ESRCH || err == -ENOENT || err == -ENODEV)
			continue;
		if (err)
			break;
		p->chosen++;
		if (!p->killed++)
			p->first_hit_ns = fc_now_ns();
		if (c->pods) {
			note_victim(f, dl.p[i].name);
		} else {
			char v[48];

			snprintf(v, sizeof(v), "%s[%d]", pl.p[i].comm, pl.p[i].pid);
			note_victim(f, v);
		}
	}
	if (!err && p->killed < c->count) {
		snprintf(f->why, sizeof(f->why),
			 "only %llu of %llu %s could be killed: the rest "
			 "exited meanwhile",
			 (unsigned long long)p->killed, (unsigned long long)c->count,
			 c->pods ? "pods" : "processes");
		err = -ESRCH;
	}
out:
	if (err && !f->why[0])
		snprintf(f->why, sizeof(f->why), "cannot kill in %s: %s", cell->rel,
			 strerror(-err));
	c->pods ? fc_pod_list_free(&dl) : fc_proc_list_free(&pl);
	return err;
}

static int kill_counters(struct fc_fault *f, struct fc_fault_counters *out)
{
	struct kill_priv *p = f->priv;

	if (!p)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->seen = p->seen;
	out->matched = p->chosen;
	out->injected = p->killed;
	out->armed = p->killed;
	out->first_hit_ns = p->first_hit_ns;
	return 0;
}

static int kill_verify_restored(struct fc_fault *f, uint64_t timeout_ns, char *msg, size_t len)
{
	struct kill_cfg *c = f->cfg;
	struct kill_priv *p = f->priv;
	const char *what = c->pods ? "pods" : "processes";
	char why[512] = "", dur[32];
	uint64_t t0 = fc_now_ns(), until;
	int n = 0, rerr = 0;

	msg[0] = 0;
	if (!p || !p->killed)
		return 0;
	timeout_ns = timeout_ns ?: c->recovery_ns;
	until = t0 + timeout_ns;
	if (c->restore[0])
		rerr = fc_restore_run(c->restore, timeout_ns, why, sizeof(why));
	for (;;) {
		n = count_members(c, &p->cell);
		if (n >= 0 && (uint64_t)n >= p->want) {
			snprintf(msg, len,
				 "restored: %d of %llu %s back in the cell after %.2f s%s%s%s", n,
				 (unsigned long long)p->want, what, (fc_now_ns() - t0) / 1e9,
				 rerr ? " (the restore command failed: " : "", rerr ? why : "",
				 rerr ? ")" : "");
			return 0;
		}
		if (fc_now_ns() >= until)
			break;
		usleep(20000);
	}
	fc_format_duration(timeout_ns, dur, sizeof(dur));
	if (!c->restore[0])
		snprintf(why, sizeof(why), "no restore command was given");
	else if (!rerr)
		snprintf(why, sizeof(why), "'%s' exited 0", c->restore);
	snprintf(msg, len, "restore failed: %d of %llu %s back in the cell after %s (%s)",
		 n < 0 ? 0 : n, (unsigned long long)p->want, what, dur, why);
	return -EAGAIN;
}

static void kill_detach(struct fc_fault *f)
{
	(void)f; /* a kill cannot be undone; verify_restored checks the cell came back */
}

static void kill_close(struct fc_fault *f)
{
	free(f->priv);
	f->priv = NULL;
}

#define KILL_HELP_COMMON                                                                           \
	"  count N|all        how many to kill (default 1); all = cgroup.kill on the cell\n"       \
	"  of M               how many the cell must have (else refused, exit 3); omit to skip\n"  \
	"  select S           random (default), oldest or newest\n"                                \
	"  restore CMD        run at rollback to bring them back (split at spaces, no shell)\n"    \
	"  recovery D         how long rollback waits for of to be back (default 30s), else\n"     \
	"                     exit 1 with \"restore failed\"\n"

static const struct fc_fault_ops process_kill_ops = {
	.type = "process-kill",
	.aliases = { "kill-process" },
	.summary = "signal count of the cell's of processes (thread-group leaders), race-free",
	.keys_help = KILL_HELP_COMMON "  signal SIG         SIGKILL (default), SIGTERM, 15, ...\n",
	.keys = kill_keys,
	.cfg_size = sizeof(struct kill_cfg),
	.parse = process_parse,
	.describe = kill_describe,
	.open = kill_open,
	.attach = kill_attach,
	.counters = kill_counters,
	.detach = kill_detach,
	.close = kill_close,
	.verify_restored = kill_verify_restored,
};
FC_FAULT(process_kill_ops);

static const struct fc_fault_ops pod_kill_ops = {
	.type = "pod-kill",
	.aliases = { "kill-pod" },
	.summary = "kill count of the cell's of pods (child cgroups) with their cgroup.kill",
	.keys_help = KILL_HELP_COMMON,
	.keys = kill_keys,
	.cfg_size = sizeof(struct kill_cfg),
	.parse = pod_parse,
	.describe = kill_describe,
	.open = kill_open,
	.attach = kill_attach,
	.counters = kill_counters,
	.detach = kill_detach,
	.close = kill_close,
	.verify_restored = kill_verify_restored,
};
FC_FAULT(pod_kill_ops);
