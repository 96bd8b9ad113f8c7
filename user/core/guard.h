/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The guard process (design.md §3). Forked before any BPF fd exists and before the run lock is
 * taken (a forked child would share the flock), in its own session, holding a pidfd on the
 * loader. When the loader dies it clears `enabled` through the recorded map id and runs
 * `<self> recover --run ID` as a child. At the deadline (+ grace), if the loader lives but has
 * not rolled back (stopped, wedged), it undoes the recorded state itself, without the lock,
 * and keeps guarding until the loader exits.
 */
#ifndef FC_GUARD_H
#define FC_GUARD_H

#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

struct fc_guard_opts {
	const char *run_id;
	uint64_t deadline_ns; /* CLOCK_MONOTONIC; 0 = none */
	uint64_t grace_ns;    /* after the deadline before the guard acts itself; default 1 s */
	const char *self_exe; /* binary to run `recover` with; default /proc/self/exe */
	sigset_t saved_mask;  /* internal: the loader's mask, restored in both after the fork */
};

/* Fork the guard. Returns its pid (> 0) in the loader, or -errno. Never returns in the guard. */
pid_t fc_guard_start(const struct fc_guard_opts *opts);
/* The loader finished its own verified rollback: let the guard go (it exits on its own too). */
void fc_guard_stop(pid_t guard);

#endif
