// SPDX-License-Identifier: BSD-2-Clause
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/test.h"
#include "unit/exp_testlib.h"

const char *exp_repo_file(const char *rel, char *buf, size_t len)
{
	char self[PATH_MAX];

	if (!access(rel, R_OK)) {
		snprintf(buf, len, "%s", rel);
		return buf;
	}
	snprintf(self, sizeof(self), "%s", test__self());
	snprintf(buf, len, "%s/../%s", dirname(self), rel);
	return buf;
}

int exp_load_str(const char *yaml, const char *bind, double scale, struct fc_experiment **out)
{
	struct fc_exp_opts o = {
		.path = "test.yaml", .buf = yaml, .len = strlen(yaml), .time_scale = scale
	};

	if (bind) {
		o.bind_path = "test.bind.yaml";
		o.bind_buf = bind;
		o.bind_len = strlen(bind);
	}
	return fc_experiment_load(&o, out);
}

static bool in(const struct fc_diags *d, int line, int col, const char *msg)
{
	for (int i = 0; i < d->n; i++)
		if ((!line || d->d[i].line == line) && (!col || d->d[i].col == col) &&
		    strstr(d->d[i].msg, msg))
			return true;
	return false;
}

bool exp_has_diag(const struct fc_experiment *e, int line, int col, const char *msg)
{
	return e && (in(&e->diags, line, col, msg) || in(&e->bind_diags, line, col, msg));
}
