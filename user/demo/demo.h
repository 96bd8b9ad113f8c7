/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `faultcell demo`: a small payments service to run game days against, built into the binary.
 *
 *   <cgroup2>/faultcell-demo/
 *     supervisor/        the supervisor: keeps 3 pods per cell, restarts a dead one (a ReplicaSet)
 *     ledger/            the payments' downstream (127.0.0.1:18390), shared by both cells
 *     loadgen/           checkouts to both cells at a steady rate; metrics on 127.0.0.1:18399
 *     cell-3/pod-{1,2,3} payments workers on 127.0.0.1:18303: the cell under test
 *     cell-1/pod-{1,2,3} the same service on 127.0.0.1:18301: the control
 *
 * The supervisor, ledger and load generator sit outside both cells, so a fault on a cell never
 * reaches them and `of: 3` counts only the workers. Every process is `faultcell demo-role ...`
 * (the binary re-executed at once after fork), started before the run loads any BPF object
 * (design.md §3). Teardown is one cgroup.kill on faultcell-demo, then rmdir bottom-up.
 */
#ifndef FC_DEMO_H
#define FC_DEMO_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#define FC_DEMO_CGROUP	     "faultcell-demo"
#define FC_DEMO_DIR	     "/run/faultcell-demo"
#define FC_DEMO_PORT_CELL1   18301
#define FC_DEMO_PORT_CELL3   18303
#define FC_DEMO_PORT_LEDGER  18390
#define FC_DEMO_PORT_METRICS 18399
#define FC_DEMO_PODS	     3

struct fc_demo_opts {
	const char *self_exe; /* the binary to re-execute with a role */
	uint64_t window_ns;   /* the load generator's metric window: the experiment's window */
	double time_scale;    /* scales the service's own timings (restart delay, timeouts) */
	unsigned int rate;    /* checkouts per second per cell; 0 = from the window */
};

struct fc_demo {
	char root[PATH_MAX]; /* absolute path of faultcell-demo */
	pid_t supervisor, loadgen;
	unsigned int rate, timeout_ms, restart_ms;
	int cgroups; /* created, for the teardown line */
};

/*
 * Create the cgroups and start the supervisor (its pods and the ledger) and the load
 * generator; return once every pod serves and the load generator has answers from both
 * cells. 0, or an exit code of design.md §7 with the reason printed (nothing left behind).
 */
int fc_demo_up(struct fc_demo *d, const struct fc_demo_opts *o);
/*
 * Stop everything (cgroup.kill on the demo's subtree), remove the cgroups and the run
 * directory. Safe to call on a partial set-up. 0, or -errno when something could not be
 * removed; @what says what was done or what is left.
 */
int fc_demo_down(struct fc_demo *d, char *what, size_t len);

/* Roles, run as `faultcell demo-role NAME ARGS...` (user/cli/demo.c); each returns an exit code. */
int fc_demo_supervisor(int argc, char **argv);
int fc_demo_worker(int argc, char **argv);
int fc_demo_ledger(int argc, char **argv);
int fc_demo_loadgen(int argc, char **argv);

/* Shared by the roles (service.c). */
#define FC_DEMO_REUSEPORT 1 /* the pods of a cell share one port, like pods behind a Service */
#define FC_DEMO_NONBLOCK  2
/* A TCP listener on 127.0.0.1:@port. The fd, or -errno. */
int fc_demo_listen(int port, int backlog, int flags);
/* Tell the parent this role serves: "ready" on stdout, then stdout goes to stderr. */
void fc_demo_ready(void);

#endif
