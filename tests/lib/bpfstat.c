// SPDX-License-Identifier: BSD-2-Clause
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/bpfstat.h"

uint64_t tstat(uint32_t map_id, uint32_t slot)
{
	int ncpu = libbpf_num_possible_cpus(), fd = bpf_map_get_fd_by_id(map_id);
	uint64_t *v, sum = 0;

	if (fd < 0 || ncpu <= 0)
		return 0;
	v = calloc(ncpu, sizeof(*v));
	if (v && !bpf_map_lookup_elem(fd, &slot, v))
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
	free(v);
	close(fd);
	return sum;
}
