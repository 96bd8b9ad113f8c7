// SPDX-License-Identifier: BSD-2-Clause
/*
 * burn(W) from Prometheus (design.md §6): when the slo's errors and total are both Prometheus
 * metrics on one server, each window asks that server for the ratio over W itself, so a burn
 * over an hour is known from the run's first window instead of after an hour of windows:
 *
 *   sum(sum_over_time((ERRORS)[W:S])) / sum(sum_over_time((TOTAL)[W:S]))
 *
 * S is the run's window (at least W/1000): the same sum of per-window values the window history
 * takes, evaluated by Prometheus over its own history. The mode is settled by the server's
 * first answer: HTTP 200 keeps it; a refusal (HTTP 4xx: the endpoint does not evaluate
 * subqueries, as the demo's does not) falls back to the window history, said on stdout and in
 * the journal. Unanswered queries are no data (unknown), as for any probe.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "engine/run_internal.h"

static bool burn_known(struct run *r, uint64_t ns)
{
	for (int i = 0; i < r->nburn; i++)
		if (r->burn[i].ns == ns)
			return true;
	return false;
}

static void collect(struct run *r, const struct fc_cond *c)
{
	for (int i = 0; c && i < c->n; i++)
		if (c->nodes[i].op == FC_OP_BURN && r->nburn < FC_RUN_MAX_BURN &&
		    !burn_known(r, c->nodes[i].ns))
			r->burn[r->nburn++].ns = c->nodes[i].ns;
}

/* PromQL duration in milliseconds: exact for every time-scaled span */
static void promdur(char *buf, size_t len, uint64_t ns)
{
	uint64_t ms = ns / 1000000;

	snprintf(buf, len, "%llums", (unsigned long long)(ms ? ms : 1));
}

int fc_run_burn_setup(struct run *r, int cap)
{
	struct fc_experiment *e = r->e;
	const struct fc_metric *me, *mt;
	char span[32], step[32];
	uint64_t s;

	r->burn_mode = FC_BURN_WINDOWS;
	if (!e->slo.set)
		return 0;
	me = &e->metrics[e->slo.ierrors];
	mt = &e->metrics[e->slo.itotal];
	if (me->source != FC_MSRC_PROMETHEUS || mt->source != FC_MSRC_PROMETHEUS ||
	    strcmp(me->url, mt->url)) {
		snprintf(r->burn_why, sizeof(r->burn_why),
			 "slo errors and total are not both Prometheus queries on one server");
		return 0;
	}
	collect(r, e->steady.cond);
	for (int k = 0; k < e->nrules; k++)
		collect(r, e->rules[k].cond);
	if (!r->nburn)
		return 0;
	r->burn_mode = FC_BURN_UNSETTLED;
	for (int i = 0; i < r->nburn; i++) {
		struct fc_run_burn *b = &r->burn[i];

		s = e->window.ns > b->ns / 1000 ? e->window.ns : b->ns / 1000;
		promdur(span, sizeof(span), b->ns);
		promdur(step, sizeof(step), s);
		if (snprintf(b->query, sizeof(b->query),
			     "sum(sum_over_time((%s)[%s:%s])) / sum(sum_over_time((%s)[%s:%s]))",
			     me->query, span, step, mt->query, span, step) >= (int)sizeof(b->query))
			return -ENAMETOOLONG;
		b->m = *me;
		b->m.query = b->query;
		snprintf(b->m.name, sizeof(b->m.name), "burn");
		b->v = calloc(cap, sizeof(*b->v));
		b->ok = calloc(cap, sizeof(*b->ok));
		if (!b->v || !b->ok)
			return -ENOMEM;
		fc_probe_init(&b->p, &b->m);
	}
	return 0;
}

void fc_run_burn_start(struct run *r)
{
	if (r->burn_mode == FC_BURN_WINDOWS)
		return;
	for (int i = 0; i < r->nburn; i++)
		fc_probe_start(&r->burn[i].p);
}

bool fc_run_burn_poll(struct run *r)
{
	bool all = true;

	if (r->burn_mode == FC_BURN_WINDOWS)
		return true;
	for (int i = 0; i < r->nburn; i++)
		all &= fc_probe_poll(&r->burn[i].p);
	return all;
}

/* The HTTP status of a finished answer, 0 when there was none. */
static int answer_status(const struct fc_probe *p)
{
	int status = 0;

	if (p->len && sscanf(p->buf, "HTTP/%*s %d", &status) == 1)
		return status;
	return 0;
}

/* At the window's end: each span's ratio for window @w, and the mode once the server said. */
void fc_run_burn_finish(struct run *r, int w)
{
	int status;

	if (r->burn_mode == FC_BURN_WINDOWS)
		return;
	for (int i = 0; i < r->nburn; i++) {
		struct fc_run_burn *b = &r->burn[i];

		fc_probe_finish(&b->p);
		b->ok[w] = b->p.ok && isfinite(b->p.value) && b->p.value >= 0;
		b->v[w] = b->ok[w] ? b->p.value : NAN;
		if (r->burn_mode != FC_BURN_UNSETTLED)
			continue;
		status = answer_status(&b->p);
		if (status == 200) {
			r->burn_mode = FC_BURN_PROMETHEUS;
			snprintf(r->burn_why, sizeof(r->burn_why),
				 "the server evaluates the range itself (its history before the "
				 "run counts)");
		} else if (status >= 400 && status < 500) {
			r->burn_mode = FC_BURN_WINDOWS;
			snprintf(r->burn_why, sizeof(r->burn_why),
				 "%s refused the range query (HTTP %d): burn() uses this run's "
				 "windows",
				 b->m.url, status);
		}
		if (r->burn_mode != FC_BURN_UNSETTLED) {
			printf("burn(): %s: %s\n",
			       r->burn_mode == FC_BURN_PROMETHEUS ? "from Prometheus"
								  : "from windows",
			       r->burn_why);
			fflush(stdout);
			fc_run_journal_burn(r);
		}
	}
}

int fc_run_burn_ratio(uint64_t span_ns, int w, double *ratio, void *arg)
{
	struct run *r = arg;
	int abs = w + r->view_from;

	/* unsettled: the window history answers, as it will if the server refuses */
	if (r->burn_mode != FC_BURN_PROMETHEUS)
		return -EOPNOTSUPP;
	if (abs < 0 || abs >= r->nw)
		return -ENODATA;
	for (int i = 0; i < r->nburn; i++) {
		if (r->burn[i].ns != span_ns)
			continue;
		if (!r->burn[i].ok[abs])
			return -ENODATA;
		*ratio = r->burn[i].v[abs];
		return 0;
	}
	return -EOPNOTSUPP;
}

void fc_run_burn_free(struct run *r)
{
	for (int i = 0; i < r->nburn; i++) {
		fc_probe_close(&r->burn[i].p);
		free(r->burn[i].v);
		free(r->burn[i].ok);
	}
	r->nburn = 0;
}
