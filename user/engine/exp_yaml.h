/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A small YAML document tree with positions, built from libyaml's event API (the document API
 * keeps no per-node marks we can rely on for keys). libyaml checks syntax and UTF-8; it does not
 * detect duplicate keys, alias bombs or runaway nesting, so this reader does, within the
 * documented limits below (docs/experiment-format.md). Every node carries its 1-based line:col.
 */
#ifndef FC_EXP_YAML_H
#define FC_EXP_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "core/diag.h"

#define FC_YAML_MAX_BYTES   (1024 * 1024) /* file size */
#define FC_YAML_MAX_DEPTH   32		  /* nested mappings and lists */
#define FC_YAML_MAX_SCALAR  4096	  /* bytes in one scalar */
#define FC_YAML_MAX_KEYS    512		  /* entries in one mapping */
#define FC_YAML_MAX_NODES   20000	  /* nodes in the document, aliases expanded */
#define FC_YAML_MAX_ALIASED 2000	  /* nodes reached through aliases, counted per use */

enum fc_ykind { FC_Y_SCALAR = 1, FC_Y_MAP, FC_Y_SEQ };

struct fc_ynode {
	enum fc_ykind kind;
	int line, col; /* 1-based, where the node starts */
	/* scalar */
	char *s;
	size_t len;
	bool plain; /* unquoted flow scalar: may be null/bool/number */
	int vcol;   /* column of s[0] in the file (after an opening quote) */
	bool exact; /* s[i] is at column vcol + i (one line, no escapes, ASCII) */
	/* mapping (k[i]: v[i]) or list (v[i]) */
	int n, cap;
	struct fc_ynode **k, **v;
	/* reader bookkeeping */
	unsigned int weight; /* nodes in this subtree, aliases expanded */
	bool done;
	struct fc_ynode *next_alloc;
};

struct fc_yaml {
	struct fc_ynode *root; /* NULL when the file had no document */
	struct fc_ynode *all;  /* every node allocated, for fc_yaml_free */
};

/*
 * Parse @len bytes (no NUL needed). 0 with @y->root set (NULL for an empty stream) — @d may
 * then hold duplicate keys, reported while the tree stays usable (the first one counts) — or
 * -EINVAL when reading stopped (syntax, encoding, a limit) with the reason in @d, or -ENOMEM.
 */
int fc_yaml_parse(const char *buf, size_t len, struct fc_yaml *y, struct fc_diags *d);
/* Read @path (at most FC_YAML_MAX_BYTES) and parse it. -errno when it cannot be read. */
int fc_yaml_load(const char *path, struct fc_yaml *y, struct fc_diags *d);
void fc_yaml_free(struct fc_yaml *y);

/* Helpers for schema code. */
const char *fc_ykind_name(const struct fc_ynode *n); /* "a mapping", "a list", "a string" */
bool fc_y_null(const struct fc_ynode *n);	     /* ~, null, or nothing at all */
struct fc_ynode *fc_y_get(const struct fc_ynode *map, const char *key);
/* Report every key of @map not in @known (NULL-terminated), with "did you mean". */
void fc_y_check_keys(const struct fc_ynode *map, const char *const *known, const char *where,
		     struct fc_diags *d);

#endif
