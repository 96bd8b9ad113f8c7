/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `faultcell probe`: which mechanisms of design.md §4–5 this kernel really has, decided by
 * loading *and triggering* a tiny program per mechanism (bpf/probe.bpf.c) and counting its
 * hits — never from config files or helper lists (both lie on 6.18). Then which fault types
 * and metric sources follow from them, by which mechanism, or why not.
 *
 * Everything the probe creates is fd-bound, lives in a network namespace only this process
 * holds, or is the scratch cgroup fc-probe-<pid> (removed at the end, and swept by the next
 * probe if a crash left it): a probe leaves nothing behind.
 *
 *	struct fc_probe *p = fc_probe_new(NULL);
 *	err = fc_probe_run(p);
 *	r = fc_probe_find(p, "tcx"); ... r->available, r->error ...
 *	fc_probe_free(p);
 */
#ifndef FC_PROBE_H
#define FC_PROBE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fc_control.h"

struct fc_probe_result {
	const char *name;   /* "tcx" */
	const char *what;   /* what was loaded and how it was triggered */
	bool probed;	    /* false when --only left it out */
	bool available;	    /* loaded, attached, ran (hits > 0) and had its effect */
	uint64_t hits;	    /* times the program ran for our trigger */
	uint64_t attach_ns; /* attach (or create) duration */
	uint64_t detach_ns; /* detach (or remove) duration */
	char via[48];	    /* the attach used: "TCX link", "clsact", "tp_btf", "raw_tp" */
	char error[160];    /* "load: Operation not permitted"; empty when available */
	char detail[256];   /* the verifier's or libbpf's own last line, when there is one */
};

struct fc_verdict {
	const char *name; /* "network-loss", "tcp_connect_latency" */
	bool probed;	  /* every mechanism it depends on was probed */
	bool available;
	char how[256]; /* the mechanism that will be used, or why not */
};

enum { FC_PROBE_NFAULTS = 10, FC_PROBE_NMETRICS = 7 };

struct fc_probe_opts {
	size_t sz;
	const char *only; /* probe just this mechanism (and what it needs) */
};
#define fc_probe_opts__last_field only

struct fc_probe_priv;

struct fc_probe {
	struct fc_probe_result *mech;
	int nmech;
	struct fc_verdict faults[FC_PROBE_NFAULTS];
	struct fc_verdict metrics[FC_PROBE_NMETRICS];
	char kernel[128];  /* uname -r */
	char lsm[256];	   /* active LSM list, "" when it could not be read */
	char lsm_err[128]; /* why it could not be read */
	char run_id[FC_RUN_ID_LEN];
	uint64_t total_ns;
	int leftover; /* inventory items of this run still alive at the end (should be 0) */
	struct fc_probe_priv *priv;
};

/* NULL with errno set on failure; -EINVAL when opts->only names no mechanism. */
struct fc_probe *fc_probe_new(const struct fc_probe_opts *opts);
/* Probe every selected mechanism, then the verdicts. 0 even when mechanisms are missing;
 * -errno only when the probe itself could not run. */
int fc_probe_run(struct fc_probe *p);
void fc_probe_free(struct fc_probe *p);

const struct fc_probe_result *fc_probe_find(const struct fc_probe *p, const char *name);
/* The mechanism names, in probe order (NULL-terminated). */
const char *const *fc_probe_mech_names(void);
bool fc_probe_known(const char *name);

/* Internal to user/core/probe*.c ------------------------------------------------------------ */

struct probe_bpf;
struct fc_probe_mech {
	const char *name;
	const char *what;
	unsigned int needs; /* PROBE_NEED_* */
	int (*run)(struct fc_probe *p, struct fc_probe_result *r);
};
#define PROBE_NEED_CELL 1 /* the scratch cgroup */
#define PROBE_NEED_NET	2 /* the scratch netns */

struct fc_probe_priv {
	char cg_path[PATH_MAX]; /* scratch cell, "" when none */
	uint64_t cg_id;
	uint32_t cg_level;
	char cg_err[128]; /* why there is no scratch cell */
	int orig_netns;	  /* fd of the netns to return to, -1 when not switched */
	char net_err[128];
	char *log_buf; /* verifier log of the program being loaded */
	size_t log_size;
};

/* A helper process: joins the scratch cell, waits for "go", runs fn, reports its result. */
typedef int (*probe_child_fn)(void *arg);
struct probe_child {
	int pid;
	int go_fd, res_fd;
};
int probe_child_start(struct fc_probe *p, bool in_cell, probe_child_fn fn, void *arg,
		      struct probe_child *c);
/* Send "go", wait up to @timeout_ms for fn's result, reap. 0 or -errno (-ETIMEDOUT). */
int probe_child_run(struct probe_child *c, int timeout_ms, int *result);
/* Kill (if still running) and reap. Safe on a stopped or never-started child. */
void probe_child_stop(struct probe_child *c);

/*
 * Open the probe object with only @progs (space-separated names) loadable, tagged with the run
 * id; r->error says "open:" or "load:" when it fails. NULL on failure.
 */
struct probe_bpf *probe_load(struct fc_probe *p, struct fc_probe_result *r, const char *progs);
/* Record "@stage: strerror(-err)" plus libbpf's or the verifier's last line; returns err. */
int probe_fail(struct fc_probe_result *r, const char *stage, int err);
/* Forget what libbpf said so far: the next failure's detail is about the next step. */
void probe_log_mark(void);
int probe_prog_fd(struct probe_bpf *skel, const char *name);
struct bpf_link;
struct bpf_program;
/* Attach (to @cgroup_fd when >= 0, else by section name), timing it into r->attach_ns. */
int probe_attach(struct fc_probe_result *r, struct bpf_link **link, struct bpf_program *prog,
		 int cgroup_fd);
/* Destroy the link (NULL is fine), timing it into r->detach_ns. */
void probe_detach(struct fc_probe_result *r, struct bpf_link **link);
/* Open the scratch cell's directory (for cgroup attach); -errno. */
int probe_cell_fd(struct fc_probe *p);

/* Child triggers shared by families: UDP datagrams to 127.0.0.1:9. 0 or -errno. */
int probe_udp_burst(void *arg);

/* Mechanisms, by family. */
int probe_cgroup2(struct fc_probe *p, struct fc_probe_result *r);
int probe_cgroup_freeze(struct fc_probe *p, struct fc_probe_result *r);
int probe_cgroup_kill(struct fc_probe *p, struct fc_probe_result *r);
int probe_pidfd(struct fc_probe *p, struct fc_probe_result *r);
int probe_cgroup_skb(struct fc_probe *p, struct fc_probe_result *r);
int probe_tc_clsact(struct fc_probe *p, struct fc_probe_result *r);
int probe_tcx(struct fc_probe *p, struct fc_probe_result *r);
int probe_skb_anc(struct fc_probe *p, struct fc_probe_result *r);
int probe_skb_tstamp(struct fc_probe *p, struct fc_probe_result *r);
int probe_sch_fq(struct fc_probe *p, struct fc_probe_result *r);
int probe_netem(struct fc_probe *p, struct fc_probe_result *r);
int probe_sock_addr(struct fc_probe *p, struct fc_probe_result *r);
int probe_sock_sendmsg(struct fc_probe *p, struct fc_probe_result *r);
int probe_sk_msg(struct fc_probe *p, struct fc_probe_result *r);
int probe_tcp_state(struct fc_probe *p, struct fc_probe_result *r);
int probe_tcp_reset(struct fc_probe *p, struct fc_probe_result *r);
int probe_tcp_retrans(struct fc_probe *p, struct fc_probe_result *r);
int probe_raw_tp(struct fc_probe *p, struct fc_probe_result *r);
int probe_tp_btf(struct fc_probe *p, struct fc_probe_result *r);
int probe_task_anc(struct fc_probe *p, struct fc_probe_result *r);
int probe_uprobe(struct fc_probe *p, struct fc_probe_result *r);
int probe_kprobe(struct fc_probe *p, struct fc_probe_result *r);
int probe_fentry(struct fc_probe *p, struct fc_probe_result *r);
int probe_fexit(struct fc_probe *p, struct fc_probe_result *r);
int probe_fmod_ret(struct fc_probe *p, struct fc_probe_result *r);
int probe_lsm(struct fc_probe *p, struct fc_probe_result *r);
int probe_lsm_cgroup(struct fc_probe *p, struct fc_probe_result *r);
int probe_override(struct fc_probe *p, struct fc_probe_result *r);
int probe_send_signal(struct fc_probe *p, struct fc_probe_result *r);
int probe_ringbuf(struct fc_probe *p, struct fc_probe_result *r);
int probe_timer(struct fc_probe *p, struct fc_probe_result *r);

/* Scratch cell and netns (probe_cell.c, probe_net.c). */
int probe_cell_setup(struct fc_probe *p);
void probe_cell_teardown(struct fc_probe *p);
int probe_netns_enter(struct fc_probe *p);
void probe_netns_leave(struct fc_probe *p);
int probe_read_lsm(struct fc_probe *p);

/* Verdicts (probe_verdict.c). */
void probe_verdicts(struct fc_probe *p);

#endif
