// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "host/trace_util.h"
#include "lib/test.h"

bool ttracer_start(struct ttracer *tt, const struct tcell *a, const struct tcell *b,
		   const struct fc_metric_req *reqs, int n, fc_event_fn fn, void *ctx)
{
	struct fc_tracer_opts o = {
		.sz = sizeof(o), .reqs = reqs, .nreqs = n, .on_event = fn, .ctx = ctx
	};
	char run[FC_RUN_ID_LEN], why[512];
	int err;

	memset(tt, 0, sizeof(*tt));
	fc_make_run_id(run, sizeof(run));
	if (!ASSERT_OK(fc_core_open(&tt->core, run, 0), "core"))
		return false;
	tt->open = true;
	fc_core_add_cell(&tt->core, &a->cell);
	if (b)
		fc_core_add_cell(&tt->core, &b->cell);
	o.core = &tt->core;
	tt->t = fc_tracer__new(&o, why, sizeof(why));
	if (!ASSERT_OK_PTR(tt->t, "tracer")) {
		test__log("%s", why);
		return false;
	}
	err = fc_tracer__load(tt->t);
	err = err ?: fc_tracer__attach(tt->t);
	if (!ASSERT_OK(err, "load and attach")) {
		test__log("%s", fc_tracer__error(tt->t));
		return false;
	}
	return true;
}

void ttracer_stop(struct ttracer *tt)
{
	fc_tracer__destroy(tt->t);
	tt->t = NULL;
	if (tt->open)
		fc_core_close(&tt->core);
	tt->open = false;
}

static int parse(const char *line, struct wstats *st)
{
	unsigned long long n, a, b, c, d, m;
	unsigned int pid;

	if (sscanf(line, "n=%llu p50=%llu p90=%llu p99=%llu p999=%llu max=%llu pid=%u", &n, &a, &b,
		   &c, &d, &m, &pid) != 7)
		return -EPROTO;
	*st = (struct wstats){ n, { a, b, c, d }, m, pid };
	return 0;
}

int trun_worker(const char *cg, char *const argv[], struct wstats *st, const char *cg2,
		char *const argv2[], struct wstats *st2)
{
	char line[512], line2[512];
	int fd = -1, fd2 = -1, err;
	pid_t p, p2 = -1;

	p = tspawn(cg, NULL, argv, &fd);
	if (p < 0)
		return p;
	if (cg2) {
		p2 = tspawn(cg2, NULL, argv2, &fd2);
		if (p2 < 0) {
			err = p2;
			goto out;
		}
	}
	err = tread_line(fd, line, sizeof(line), 120000);
	err = err ?: parse(line, st);
	if (!err && cg2) {
		err = tread_line(fd2, line2, sizeof(line2), 120000);
		err = err ?: parse(line2, st2);
	}
out:
	if (fd >= 0)
		close(fd);
	if (fd2 >= 0)
		close(fd2);
	twait(p, 10000);
	if (p2 > 0)
		twait(p2, 10000);
	return err;
}
