/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Inside the tracer: one family per BPF object (syscalls, tcp, functions). The tracer lays out
 * the rows of every slot; a family opens its skeleton, writes its slot descriptors into .rodata,
 * loads and attaches its programs. Not for use outside user/metrics/.
 */
#ifndef FC_METRICS_FAMILY_H
#define FC_METRICS_FAMILY_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fc_metrics.h"
#include "metrics/registry.h"

struct bpf_object;
struct bpf_link;
struct fc_family;
struct fc_tracer;

/* One (metric, key): rows for every cell at hs.base + cell * hs.stride. */
struct fc_tslot {
	const struct fc_metric_kind *kind;
	char key[512]; /* label value: a function key can be a long path */
	uint32_t arg;  /* family's: syscall nr, tcp slot, function cookie */
	char *path;    /* function: the resolved binary */
	char *sym;     /* function: the symbol */
	struct fc_hist_slot hs;
	struct fc_family *fam;
};

struct fc_family_ops {
	const char *name;
	/* Parse @key of @k into slots (fc_tracer_add_slot). -EINVAL/-ENOENT with @why set. */
	int (*parse)(struct fc_tracer *t, const struct fc_metric_kind *k, const char *key,
		     char *why, size_t len);
	/* Open the skeleton into f->obj (and f->skel). */
	int (*open)(struct fc_family *f);
	/* Before load: write the descriptors of this family's slots, choose autoloads. */
	int (*configure)(struct fc_family *f, struct fc_tslot *const *slots, int n);
	/* Load the skeleton; set f->gen to its fc_hist_gen. */
	int (*load)(struct fc_family *f);
	int (*attach)(struct fc_family *f, struct fc_tslot *const *slots, int n);
	void (*destroy)(struct fc_family *f);
	/* Kernel support: load the real programs. 0 or -EOPNOTSUPP with @why. */
	int (*check)(char *why, size_t len);
};

struct fc_family {
	const struct fc_family_ops *ops;
	void *skel;
	struct bpf_object *obj;
	volatile __u64 *gen; /* the object's fc_hist_gen in its mmap'ed .bss */
	struct bpf_link *links[2 * FC_FN_MAX + 8];
	int nlinks;
	uint32_t rows; /* rows of fc_hist */
	int hist_fd;
	char why[256];
};

/* For parse(): add a slot of @k with label @key and family argument @arg. NULL on -ENOMEM. */
struct fc_tslot *fc_tracer_add_slot(struct fc_tracer *t, const struct fc_metric_kind *k,
				    const char *key, uint32_t arg);
/* Slots of kind @k added so far (function cookies number them). */
int fc_tracer_count_slots(struct fc_tracer *t, const struct fc_metric_kind *k);

/* Function symbols of an ELF file (symtab and dynsym), for checks and suggestions. */
int fc_elf_func_syms(const char *path, char ***names, size_t *n);
void fc_strv_free(char **v, size_t n);

#endif
