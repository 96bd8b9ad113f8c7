/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The registry of metric kinds (design.md §5): name, unit, value range, which keys a kind
 * takes, its mechanism and how to check this kernel supports it. Each family file registers its
 * kinds with FC_METRIC_KIND; `validate`, `plan` and `trace` iterate the section, so adding a
 * metric is adding a file.
 */
#ifndef FC_METRICS_REGISTRY_H
#define FC_METRICS_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fc_family_ops;

enum fc_key_type {
	FC_KEYS_NONE = 0,     /* one series per cell */
	FC_KEYS_SYSCALLS = 1, /* comma-separated syscall names, required */
	FC_KEYS_FUNCTION = 2, /* BINARY:SYMBOL, required */
	FC_KEYS_FIXED = 3, /* a fixed set (fixed_keys); default all, or a comma-separated subset */
};

struct fc_metric_kind {
	const char *name;
	uint32_t id;	  /* enum fc_metric_id: the ABI id in events */
	const char *unit; /* "ns" for latencies, "count" for counters */
	const char *summary;
	const char *mechanism;
	enum fc_key_type keys;
	const char *key_label;	       /* the label naming the key: "syscall", "outcome", ... */
	const char *const *fixed_keys; /* FC_KEYS_FIXED, NULL-terminated */
	uint8_t lo_pow, npow;	       /* range [2^lo_pow, 2^(lo_pow+npow)) ns; npow 0: counter */
	const char *range;	       /* the range in words, for `plan` and --list */
	const struct fc_family_ops *family;
};

#define FC_METRIC_KIND(var)                                                                        \
	static const struct fc_metric_kind var                                                     \
	    __attribute__((section("fc_metric_kinds"), used, aligned(8)))

extern const struct fc_metric_kind __start_fc_metric_kinds[], __stop_fc_metric_kinds[];
#define fc_for_each_metric_kind(k)                                                                 \
	for (const struct fc_metric_kind *k = __start_fc_metric_kinds; k < __stop_fc_metric_kinds; \
	     k++)

const struct fc_metric_kind *fc_metric_kind_find(const char *name);
const struct fc_metric_kind *fc_metric_kind_by_id(uint32_t id);
/* Up to 3 registered names nearest to @name, ", "-separated, into @buf ("" when none). */
void fc_metric_kind_suggest(const char *name, char *buf, size_t len);
/*
 * Does this kernel have the kind's mechanism? Loads the family's real programs (the only test
 * that holds here, kernel-facts.md). 0, or -EOPNOTSUPP with @why set.
 */
int fc_metric_kind_check(const struct fc_metric_kind *k, char *why, size_t len);
/* Kernel memory of one key of this kind for @ncpus CPUs (design.md §5 formula). */
uint64_t fc_metric_kind_key_bytes(const struct fc_metric_kind *k, unsigned int ncpus);

/*
 * Nearest matches: the up-to-@max candidates closest to @word by edit distance (a prefix or
 * substring match counts as close), ", "-separated into @buf.
 */
void fc_suggest(const char *word, const char *const *cands, size_t n, unsigned int max, char *buf,
		size_t len);

#endif
