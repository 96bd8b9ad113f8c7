/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Host-test helpers: scratch cells (a parent cgroup with the workload in a child — cells are
 * subtrees), network namespaces with veth pairs entered with setns (never `ip netns exec`,
 * which remounts /sys and hides cgroupfs), workers spawned into a cgroup and netns with a
 * readiness pipe, and cleanup that runs on failure too.
 *
 * Every name carries the test process's pid ("fc-test-<pid>-..."), so the runner sweeps
 * whatever a crashed test left behind.
 */
#ifndef FC_TEST_HOST_H
#define FC_TEST_HOST_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "core/cgroup.h"

struct tcell {
	char parent[PATH_MAX]; /* the cell: fc-test-<pid>-<name> below the cgroup2 root */
	char child[PATH_MAX];  /* where the workload runs: <parent>/work */
	struct fc_cell cell;   /* resolved parent */
};

/* Create <root>/fc-test-<pid>-<name> (or below @under when non-NULL) and its "work" child. */
int tcell_create(struct tcell *c, const char *name, const char *under);
/* Create a cgroup directory at @path (below the mount, relative) and resolve it. */
int tcg_mkdir(const char *rel, struct fc_cell *out);
/* Kill everything inside, thaw, remove the directories bottom-up. Safe to call twice. */
void tcell_destroy(struct tcell *c);
void tcg_remove_tree(const char *abs_path);

struct tnet {
	char name[64]; /* netns name under /run/netns */
	char path[PATH_MAX];
	char dev_a[16], dev_b[16]; /* veth pair: a in the netns, b in a peer netns */
	char peer_name[64], peer_path[PATH_MAX];
	int ifindex_a, ifindex_b;
};

/*
 * Two netns joined by a veth pair: "a" side 10.200.0.1/24 + fd00:fc::1/64, "b" side
 * 10.200.0.2/24 + fd00:fc::2/64. Addresses exist only inside the namespaces.
 */
int tnet_create(struct tnet *n, const char *name);
void tnet_destroy(struct tnet *n);
/* setns into a netns by path; 0 or -errno. */
int tnet_enter(const char *path);

/*
 * Fork a worker: join cgroup @cg_abs (may be NULL) and netns @netns_path (may be NULL), then
 * exec `fc-test --worker argv...`. Its stdout is a pipe returned in *out_fd (may be NULL).
 */
pid_t tspawn(const char *cg_abs, const char *netns_path, char *const argv[], int *out_fd);
/* Fork and exec faultcell itself with argv (argv[0] = command); stderr into the same pipe. */
pid_t tspawn_fc_merged(char *const argv[], int *out_fd);
/* Fork and exec faultcell itself with argv (argv[0] = command). */
pid_t tspawn_fc(char *const argv[], int *out_fd, int *err_fd);
/* Read a line from @fd with a timeout (ms); 0 or -ETIMEDOUT / -EPIPE. */
int tread_line(int fd, char *buf, size_t len, int timeout_ms);
/* Read everything until EOF (or timeout); returns bytes. */
int tread_all(int fd, char *buf, size_t len, int timeout_ms);
/* waitpid with a timeout; returns the exit status (>= 0), 128+sig, or -ETIMEDOUT. */
int twait(pid_t pid, int timeout_ms);
/* Run a shell command quietly; returns its exit status. */
int tsh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run faultcell with argv to completion, capture stdout+stderr; returns its exit status. */
int trun_fc(char *out, size_t outlen, char *const argv[]);

/* Poll @pred every 10 ms up to @cap_ms; returns elapsed ms or -ETIMEDOUT. */
int tpoll(bool (*pred)(void *), void *arg, int cap_ms);

struct fc_inventory;
/*
 * Assert the inventory is back to @before: programs go after an RCU grace period, so it polls
 * up to 5 s (never a fixed sleep) and logs what is left when it is not.
 */
bool tinventory_as_before(const struct fc_inventory *before, const char *what);

/* Remove everything named for @pid (cgroups, netns): the runner's sweep after each test. */
void tsweep(pid_t pid);

#endif
