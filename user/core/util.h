/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef FC_UTIL_H
#define FC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NSEC_PER_SEC  1000000000ULL
#define NSEC_PER_MSEC 1000000ULL

/* Set by signal handlers: the second piece of global mutable state (design.md §2). */
extern volatile sig_atomic_t fc_exiting;

/* Exit codes, design.md §7. */
enum fc_exit {
	FC_EXIT_OK = 0,
	FC_EXIT_DISPROVED = 1,
	FC_EXIT_USAGE = 2,
	FC_EXIT_REFUSED = 3,
	FC_EXIT_KERNEL = 4,
	FC_EXIT_OPERATOR = 5,
	FC_EXIT_ROLLBACK = 6,
	FC_EXIT_INTERNAL = 7,
};

uint64_t fc_now_ns(void);	 /* CLOCK_MONOTONIC */
uint64_t fc_now_coarse_ns(void); /* CLOCK_MONOTONIC_COARSE: what the control map holds */
uint64_t fc_wall_ns(void);

/* "1.5s", "300ms", "2m", "10us" → ns. Returns 0 or -EINVAL / -ERANGE. */
int fc_parse_duration(const char *s, uint64_t *ns);
/* Prints ns as the shortest exact unit form ("300ms"). */
void fc_format_duration(uint64_t ns, char *buf, size_t len);

int fc_read_file(const char *path, char *buf, size_t len); /* NUL-terminated; bytes or -errno */
int fc_write_file(const char *path, const char *s);	   /* 0 or -errno */
int fc_mkdir_p(const char *path, unsigned int mode);
bool fc_pid_alive(int pid);

/* A random run id: "YYYYmmddTHHMMSS-xxxxxx". */
void fc_make_run_id(char *buf, size_t len);

/* Install handlers for SIGINT/SIGTERM that set fc_exiting. */
void fc_install_exit_handlers(void);

/* Run argv (no shell), capture its stdout into buf. 0 when it exited 0, else -errno/-ECHILD. */
int fc_run_capture(char *const argv[], char *buf, size_t len);

/*
 * Enter the network namespace at @path (no-op for "" or NULL). *saved gets the handle for
 * fc_netns_restore (-1 when nothing was entered). 0 or -errno.
 */
int fc_netns_enter(const char *path, int *saved);
void fc_netns_restore(int saved);

#endif
