// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>

#include "core/diag.h"
#include "core/ksym.h"

int fc_kernel_func_check(const char *name, char *near, size_t len)
{
	size_t w = strlen(name), n = 0, cap = 0, lim = w / 3 + 1;
	const char **c = NULL, **nc, *best;
	struct btf *btf;
	int i, cnt;

	if (len)
		near[0] = 0;
	btf = btf__load_vmlinux_btf();
	if (!btf)
		return -EOPNOTSUPP;
	if (btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) >= 0) {
		btf__free(btf);
		return 0;
	}
	cnt = btf__type_cnt(btf);
	for (i = 1; i < cnt; i++) {
		const struct btf_type *t = btf__type_by_id(btf, i);
		const char *s;
		size_t l;

		if (!btf_is_func(t))
			continue;
		s = btf__name_by_offset(btf, t->name_off);
		l = strlen(s);
		/* fc_closest allows w/3 + 1 edits: only names of about that length can be near */
		if (l > w + lim || l + lim < w)
			continue;
		if (n + 1 >= cap) {
			cap = cap ? cap * 2 : 256;
			nc = realloc(c, cap * sizeof(*c));
			if (!nc)
				break;
			c = nc;
		}
		c[n++] = s;
	}
	if (c) {
		c[n] = NULL;
		best = fc_closest(name, c);
		if (best)
			snprintf(near, len, "%s", best);
	}
	free(c);
	btf__free(btf);
	return -ENOENT;
}
