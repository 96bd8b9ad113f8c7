// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer target: the experiment loader end to end (YAML reader, schema, binding, fault specs
 * through the registered modules' parsers, conditions, defaults, printing). Input after a line
 * "#--bind--" is the binding. Nothing here touches the kernel.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "engine/experiment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sep[] = "\n#--bind--\n";
	static FILE *null;
	struct fc_exp_opts o = { .path = "fuzz.yaml", .buf = (const char *)data, .len = size };
	struct fc_experiment *e = NULL;
	const char *b = memmem(data, size, sep, sizeof(sep) - 1);

	if (!null)
		null = fopen("/dev/null", "w");
	if (b) {
		o.len = b - (const char *)data;
		o.bind_path = "fuzz.bind.yaml";
		o.bind_buf = b + sizeof(sep) - 1;
		o.bind_len = size - o.len - (sizeof(sep) - 1);
	}
	if (size > 2 && data[size - 1] == '!')
		o.time_scale = 0.01;
	if (fc_experiment_load(&o, &e) == -ENOMEM)
		return 0;
	if (null) {
		fc_experiment_print_diags(e, null);
		fc_experiment_json(e, null);
		if (!fc_experiment_errors(e))
			fc_experiment_summary(e, null);
	}
	fc_experiment_free(e);
	return 0;
}
