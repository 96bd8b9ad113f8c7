/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fault interface. Each fault family is one module (user/faults/<x>.c + bpf/<x>.bpf.c +
 * include/fc_<x>.h) that registers its ops with FC_FAULT; the CLI and the engine find them by
 * type name and never touch a skeleton. The same parse serves the YAML file and `inject`'s
 * flags: both become a flat key/value spec ("probability", "match.ports", ...), with positions
 * when they came from a file.
 *
 * Lifecycle (libbpf's split): parse (no kernel) → open (load = the verifier's check, nothing
 * attached; -EOPNOTSUPP with `why` when this kernel lacks the mechanism) → attach (records
 * non-fd-bound objects in the state file first) → counters … → detach → close.
 */
#ifndef FC_FAULT_H
#define FC_FAULT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/control.h"
#include "core/diag.h"
#include "core/state.h"

#define FC_SPEC_MAX 48

struct fc_kv {
	char key[48];
	char val[512]; /* scalar; a list is joined with "," */
	int line, col;
	bool used;
};

struct fc_fault_spec {
	char type[32];
	int line, col; /* of the type, for messages */
	int nkv;
	struct fc_kv kv[FC_SPEC_MAX];
};

/* Look up a key (marks it used, so unknown keys can be reported afterwards). */
struct fc_kv *fc_spec_get(struct fc_fault_spec *s, const char *key);
int fc_spec_set(struct fc_fault_spec *s, const char *key, const char *val, int line, int col);
/* Report every key not used by the parser, with "did you mean" from @known. */
void fc_spec_unused(struct fc_fault_spec *s, const char *const *known, struct fc_diags *d);

/* Typed getters: on a bad value they add a diagnostic and return -EINVAL. */
int fc_kv_prob(struct fc_kv *kv, struct fc_diags *d, double *out); /* "5%", "0.05" */
int fc_kv_u64(struct fc_kv *kv, struct fc_diags *d, uint64_t min, uint64_t max, uint64_t *out);
int fc_kv_duration(struct fc_kv *kv, struct fc_diags *d, uint64_t *ns);
/*
 * An errno list: "EIO" or weighted "EIO:3,ENOSPC:1", names from <errno.h> (with "did you
 * mean"). Fills err[]/weight[] (at most @max) and *n; @examples goes into the error message.
 */
int fc_kv_errnos(struct fc_kv *kv, struct fc_diags *d, int *err, unsigned int *weight, int max,
		 int *n, const char *examples);
/*
 * The BPF side of a weighted errno list: cumulative thresholds for one bpf_get_prandom_u32()
 * draw, the last ending at 2^32 exactly so every draw lands somewhere.
 */
void fc_errno_thresholds(const unsigned int *weight, int n, unsigned long long *cum);
/* Fixed-point probability for BPF: p × 2^32 (2^32 = always), drawn against one prandom u32. */
unsigned long long fc_prob_fixed(double p);

struct fc_fault_counters {
	uint64_t seen;	   /* calls/packets the programs looked at */
	uint64_t matched;  /* in the cell and matching the filter */
	uint64_t injected; /* dropped / refused / killed: what the user asked for */
	uint64_t armed;	   /* passed the control check */
	uint64_t inert[FC_INERT_MAX];
	uint64_t first_hit_ns; /* CLOCK_MONOTONIC of the first injection (P7), 0 if none */
	uint64_t first_inert_ns;
	uint64_t rb_fail;
};

struct fc_fault;

struct fc_fault_ops {
	const char *type;
	const char *aliases[4];
	const char *summary;
	const char *keys_help;	 /* for --help: the spec keys with one line each */
	const char *const *keys; /* every key parse accepts (for "did you mean") */
	size_t cfg_size;
	int (*parse)(struct fc_fault_spec *spec, void *cfg, struct fc_diags *d);
	/* One sentence: what it does, to whom, at what rate (plan, journal, inject banner). */
	void (*describe)(const void *cfg, char *buf, size_t len);
	int (*open)(struct fc_fault *f);
	int (*attach)(struct fc_fault *f, struct fc_state *st);
	int (*counters)(struct fc_fault *f, struct fc_fault_counters *c);
	void (*detach)(struct fc_fault *f);
	void (*close)(struct fc_fault *f);
	/*
	 * Optional, after rollback, for faults that kill: run the `restore` command if one was
	 * given, then wait up to @timeout_ns (0 = the fault's own `recovery`) for `of` to be
	 * back. 0 = back, or nothing was killed (@msg says what came back); -EAGAIN = not back,
	 * @msg starts with "restore failed: " (exit 1); other -errno = could not check.
	 */
	int (*verify_restored)(struct fc_fault *f, uint64_t timeout_ns, char *msg, size_t len);
	/*
	 * Optional, while armed, at least every 100 ms (CLOCK_MONOTONIC): for faults that end
	 * before the deadline (a pause shorter than the run). Without calls they end at detach.
	 */
	void (*tick)(struct fc_fault *f, uint64_t now_ns);
};

/*
 * open/attach return -FC_FAULT_REFUSED, with `why` set and nothing done, when the cell is not
 * what the fault was told (`of` mismatch, frozen by someone else): a refusal, exit 3.
 */
#define FC_FAULT_REFUSED ECANCELED

struct fc_fault {
	const struct fc_fault_ops *ops;
	void *cfg;
	void *priv;
	struct fc_core *core;
	char mechanism[160]; /* chosen at open/attach: "tc egress (TCX) on lo, eth0" */
	char why[256];	     /* why open failed (kernel lacks X) */
};

/*
 * Counters of a fault object whose family keeps seen, matched and injected in the first three
 * family slots (FC_STAT_FAMILY on), as every BPF-based fault does. 0 or -errno.
 */
int fc_fault_obj_counters(struct bpf_object *obj, struct fc_fault_counters *out);

#define FC_FAULT(name)                                                                             \
	static const struct fc_fault_ops *const __fc_fault_##name                                  \
	    __attribute__((section("fc_faults"), used, aligned(8))) = &name

const struct fc_fault_ops *fc_fault_find(const char *type);
/* NULL-terminated list of every registered type name, for messages. */
void fc_fault_types(const char **out, int max);

/* Parse @spec for its type into a new fault (cfg allocated). 0, or -EINVAL with diagnostics. */
int fc_fault_new(struct fc_fault_spec *spec, struct fc_core *core, struct fc_diags *d,
		 struct fc_fault **out);
void fc_fault_free(struct fc_fault *f);

#endif
