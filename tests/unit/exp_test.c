// SPDX-License-Identifier: BSD-2-Clause
/* The experiment loader: the seed's file with and without a binding, specs, defaults, scale. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/util.h"
#include "engine/experiment.h"
#include "faults/fault.h"
#include "lib/test.h"
#include "unit/exp_testlib.h"

#define MINIMAL                                                                                    \
	"title: t\n"                                                                               \
	"cell: { cgroup: a/b }\n"                                                                  \
	"metrics:\n"                                                                               \
	"  p99: { source: bpf, kind: tcp_connect_latency, stat: p99 }\n"                           \
	"steady_state: { metric: p99, expected: \"< 800ms over 30s\" }\n"                          \
	"abort_when: \"p99 > 2 * baseline.p99\"\n"

static const struct fc_exp_note *note(const struct fc_experiment *e, const char *what)
{
	for (int i = 0; i < e->ndefaults; i++)
		if (!strcmp(e->defaults[i].what, what))
			return &e->defaults[i];
	return NULL;
}

static const struct fc_kv *kv(const struct fc_exp_fault *f, const char *key)
{
	for (int i = 0; i < f->spec.nkv; i++)
		if (!strcmp(f->spec.kv[i].key, key))
			return &f->spec.kv[i];
	return NULL;
}

static const char *kvval(const struct fc_exp_fault *f, const char *key)
{
	const struct fc_kv *k = kv(f, key);

	return k ? k->val : "(none)";
}

FC_TEST(exp_seed_unbound, TIER_UNIT)
{
	struct fc_experiment *e = NULL;
	struct fc_exp_opts o = {};
	char path[PATH_MAX];

	o.path = exp_repo_file("experiments/seed-game-day.yaml", path, sizeof(path));
	ASSERT_EQ(fc_experiment_load(&o, &e), -EINVAL, "invalid without a binding");
	if (!ASSERT_OK_PTR(e, "loaded"))
		return;
	/* exactly what is unbound, where it is used */
	ASSERT_TRUE(exp_has_diag(e, 4, 11,
				 "steady_state metric: undefined metric 'checkout_success_rate' "
				 "(define it under metrics: or bind it with --bind FILE)"),
		    "the steady-state metric");
	ASSERT_TRUE(exp_has_diag(e, 8, 22, "service 'payments' is not bound to a cell"),
		    "the target service");
	ASSERT_TRUE(exp_has_diag(e, 12, 14, "abort_when: undefined metric 'checkout_success_rate'"),
		    "the abort condition's metric");
	/* and nothing else, but the fault type while process faults are not built */
	ASSERT_EQ(e->diags.n, fc_fault_find("pod-kill") ? 3 : 4, "no other error");
	if (e->diags.n > 4)
		fc_experiment_print_diags(e, stderr);
	fc_experiment_free(e);
}

FC_TEST(exp_seed_bound, TIER_UNIT)
{
	struct fc_experiment *e = NULL;
	struct fc_exp_opts o = {};
	char path[PATH_MAX], bpath[PATH_MAX], buf[256];
	const struct fc_exp_note *n;
	int err;

	o.path = exp_repo_file("experiments/seed-game-day.yaml", path, sizeof(path));
	o.bind_path = exp_repo_file("experiments/seed-game-day.bind.yaml", bpath, sizeof(bpath));
	err = fc_experiment_load(&o, &e);
	if (!ASSERT_OK_PTR(e, "loaded"))
		return;
	if (!fc_fault_find("pod-kill")) {
		ASSERT_TRUE(exp_has_diag(e, 7, 9, "unknown fault type 'pod-kill'"),
			    "only the type");
		ASSERT_EQ(fc_experiment_errors(e), 1, "nothing else is wrong");
		test__skip("pod-kill is not registered yet (process faults, issue 5)");
		goto out;
	}
	if (!ASSERT_OK(err, "valid with the binding")) {
		fc_experiment_print_diags(e, stderr);
		goto out;
	}
out:
	/* what the binding gave, whether or not the module is there */
	ASSERT_EQ(e->cell.kind, FC_CELLREF_CGROUP, "cell from the binding");
	ASSERT_STREQ(e->cell.value, "system.slice/payments-cell3.slice", "cell path");
	ASSERT_STREQ(e->cell.service, "payments", "bound from the service");
	ASSERT_STREQ(e->faults[0].type, "pod-kill", "the alias as written");
	ASSERT_STREQ(kvval(&e->faults[0], "target.count"), "1", "target.count");
	ASSERT_STREQ(kvval(&e->faults[0], "target.of"), "3", "target.of");
	ASSERT_TRUE(kv(&e->faults[0], "target.service") == NULL, "the service is the engine's");
	if (kv(&e->faults[0], "target.of")) {
		ASSERT_EQ(kv(&e->faults[0], "target.of")->line, 8, "position kept");
		ASSERT_EQ(kv(&e->faults[0], "target.of")->col, 42, "column of the key");
	}
	/* free text verbatim, for the journal */
	ASSERT_STREQ(e->blast.scope, "cell-3 only (8% of traffic)", "scope");
	ASSERT_STREQ(e->schedule, "Tue 14:00, on-call + service owner present", "schedule");
	ASSERT_STREQ(e->auto_rollback, "restore pod + remove fault injection", "auto_rollback");
	ASSERT_STREQ(e->learning_record, "did it hold? what surprised us? what do we fix?",
		     "learning");
	/* every default used, for plan */
	if (e->steady.cond) {
		n = note(e, "window");
		ASSERT_TRUE(n && !strcmp(n->value, "1s"), "window 1s");
		n = note(e, "baseline");
		ASSERT_TRUE(n && !strcmp(n->value, "5m"), "baseline = longest over");
		n = note(e, "duration");
		ASSERT_TRUE(n && !strcmp(n->value, "1m"), "duration 1m");
		n = note(e, "recovery");
		ASSERT_TRUE(n && !strcmp(n->value, "5m"), "recovery = baseline");
		n = note(e, "max_gap");
		ASSERT_TRUE(n && !strcmp(n->value, "3s"), "max_gap");
		n = note(e, "abort_when");
		ASSERT_TRUE(n && !strcmp(n->value, "for 3 windows"), "bare abort_when");
		ASSERT_EQ(e->rules[0].nwin, 3, "N");
		fc_cond_format(e->rules[0].cond, buf, sizeof(buf));
		ASSERT_STREQ(buf, "(checkout_success_rate < 0.99) for 3 windows (default)", "rule");
		fc_cond_format(e->steady.cond, buf, sizeof(buf));
		ASSERT_STREQ(buf, "checkout_success_rate >= 0.999 over 5m", "steady state");
	}
	fc_experiment_free(e);
}

FC_TEST(exp_fault_spec_flattening, TIER_UNIT)
{
	static const char yaml[] = MINIMAL "fault:\n"
					   "  type: network-loss\n"
					   "  probability: 5%\n"
					   "  match: { proto: tcp, ports: [80, 443] }\n";
	struct fc_experiment *e = NULL;
	const struct fc_kv *k;

	if (!ASSERT_OK(exp_load_str(yaml, NULL, 0, &e), "valid")) {
		if (e)
			fc_experiment_print_diags(e, stderr);
		goto out;
	}
	k = kv(&e->faults[0], "match.proto");
	if (ASSERT_OK_PTR(k, "match.proto")) {
		ASSERT_STREQ(k->val, "tcp", "value");
		ASSERT_EQ(k->line, 10, "line");
		ASSERT_EQ(k->col, 12, "column of proto");
	}
	k = kv(&e->faults[0], "match.ports");
	if (ASSERT_OK_PTR(k, "match.ports"))
		ASSERT_STREQ(k->val, "80,443", "list joined");
	ASSERT_OK_PTR(e->faults[0].fault, "parsed by its module");
out:
	fc_experiment_free(e);
}

FC_TEST(exp_fault_errors_from_module, TIER_UNIT)
{
	static const char yaml[] =
	    MINIMAL "faults:\n"
		    "  - { type: network-los, probability: 5% }\n"
		    "  - { type: network-loss, probability: 5%, directon: out }\n"
		    "  - { type: network-loss, probability: 150% }\n"
		    "  - { type: network-loss, match: { ports: [] } }\n";
	struct fc_experiment *e = NULL;

	ASSERT_EQ(exp_load_str(yaml, NULL, 0, &e), -EINVAL, "invalid");
	if (!ASSERT_OK_PTR(e, "loaded"))
		return;
	ASSERT_TRUE(exp_has_diag(e, 8, 13,
				 "unknown fault type 'network-los' (did you mean 'network-loss'?)"),
		    "type");
	ASSERT_TRUE(exp_has_diag(e, 9, 44,
				 "unknown key 'directon' for fault network-loss (did you mean "
				 "'direction'?)"),
		    "key");
	ASSERT_TRUE(exp_has_diag(e, 10, 27, "probability: 150% is out of range"), "value");
	ASSERT_TRUE(exp_has_diag(e, 11, 36, "match.ports is an empty list"), "empty list");
	fc_experiment_free(e);
}

FC_TEST(exp_time_scale_and_inline_binding, TIER_UNIT)
{
	static const char yaml[] =
	    "title: t\n"
	    "cells: { web: { unit: web.service } }\n"
	    "cell: { service: web }\n"
	    "metrics:\n"
	    "  ok: { source: http, url: \"http://127.0.0.1:8080/health\", timeout: 500ms }\n"
	    "steady_state: { metric: ok, expected: \">= 99% over 1m\" }\n"
	    "fault: { type: network-loss, probability: 1% }\n"
	    "window: 2s\n"
	    "duration: 10m\n"
	    "blast_radius: { max_duration: 20m, traffic: 10% }\n"
	    "abort_when: [\"ok < 90%\", \"(ok < 95%) for 5 windows\"]\n";
	struct fc_experiment *e = NULL;

	if (!ASSERT_OK(exp_load_str(yaml, NULL, 0.1, &e), "valid")) {
		if (e)
			fc_experiment_print_diags(e, stderr);
		goto out;
	}
	ASSERT_EQ(e->cell.kind, FC_CELLREF_UNIT, "inline binding");
	ASSERT_EQ(e->window.ns, 200 * NSEC_PER_MSEC, "window scaled");
	ASSERT_EQ(e->duration.ns, 60 * NSEC_PER_SEC, "duration scaled");
	ASSERT_EQ(e->blast.max_duration.ns, 120 * NSEC_PER_SEC, "max_duration scaled");
	ASSERT_EQ(e->baseline.ns, 6 * NSEC_PER_SEC, "baseline = the scaled over");
	ASSERT_EQ(e->max_gap.ns, 3 * NSEC_PER_SEC, "max_gap floor is not scaled");
	ASSERT_EQ(e->metrics[0].timeout_ns, 500 * NSEC_PER_MSEC, "probe timeouts are real time");
	ASSERT_EQ(e->metrics[0].type, FC_VT_RATIO, "http up is a ratio");
	ASSERT_EQ(e->ndeviations, 1, "one deviation");
	ASSERT_STREQ(e->deviations[0].value, "x0.1", "recorded");
	ASSERT_EQ(e->nrules, 2, "two rules");
	ASSERT_TRUE(e->rules[0].default_for && !e->rules[1].default_for, "bare vs explicit");
	ASSERT_EQ(e->rules[1].nwin, 5, "explicit N");
	ASSERT_TRUE(e->blast.traffic > 0.099 && e->blast.traffic < 0.101, "traffic");
out:
	fc_experiment_free(e);
}

FC_TEST(exp_binding_errors_in_binding_file, TIER_UNIT)
{
	static const char yaml[] = "title: t\n"
				   "cell: { service: web }\n"
				   "steady_state: { metric: ok, expected: \">= 0.99\" }\n"
				   "fault: { type: network-loss, probability: 1% }\n"
				   "abort_when: \"ok < 0.9\"\n";
	static const char bind[] = "cells:\n"
				   "  web: { cgroup: ../etc }\n"
				   "metrics:\n"
				   "  ok: { source: prometheus, url: ftp://x, query: up }\n"
				   "metric: {}\n";
	struct fc_experiment *e = NULL;

	ASSERT_EQ(exp_load_str(yaml, bind, 0, &e), -EINVAL, "invalid");
	if (!ASSERT_OK_PTR(e, "loaded"))
		return;
	ASSERT_TRUE(exp_has_diag(e, 2, 18, "'..' is not allowed"), "path in the binding");
	ASSERT_TRUE(exp_has_diag(e, 4, 34, "is not an http://HOST[:PORT][/PATH] URL"), "url");
	ASSERT_TRUE(exp_has_diag(e, 5, 1,
				 "unknown key 'metric' in the binding (did you mean "
				 "'metrics'?)"),
		    "binding keys");
	ASSERT_EQ(e->bind_diags.n, 3, "all in the binding file");
	ASSERT_STREQ(e->bind_diags.file, "test.bind.yaml", "named as the binding");
	/* the service's binding was reported there: no second message in the experiment */
	ASSERT_EQ(e->diags.n, 0, "nothing more in the file");
	fc_experiment_free(e);
}

FC_TEST(exp_cross_checks, TIER_UNIT)
{
	static const char yaml[] = "title: t\n"
				   "cell: { cgroup: a/b }\n"
				   "control: { cgroup: a/b }\n"
				   "metrics:\n"
				   "  ok: { source: command, command: [/bin/check], timeout: 5s }\n"
				   "steady_state: { metric: ok, expected: \">= 0.99 over 5m\" }\n"
				   "fault: { type: network-loss, probability: 1% }\n"
				   "baseline: 1m\n"
				   "duration: 15m\n"
				   "blast_radius: { max_duration: 10m }\n"
				   "abort_when: \"ok < 0.9\"\n";
	struct fc_experiment *e = NULL;

	ASSERT_EQ(exp_load_str(yaml, NULL, 0, &e), -EINVAL, "invalid");
	if (!ASSERT_OK_PTR(e, "loaded"))
		return;
	ASSERT_TRUE(exp_has_diag(e, 3, 20, "the same cell as the experiment's"), "control");
	ASSERT_TRUE(exp_has_diag(e, 8, 11,
				 "baseline: 1m is shorter than the steady state's "
				 "'over' 5m"),
		    "baseline vs over");
	ASSERT_TRUE(exp_has_diag(e, 9, 11,
				 "duration 15m is longer than blast_radius "
				 "max_duration 10m"),
		    "max_duration");
	ASSERT_TRUE(exp_has_diag(e, 5, 58,
				 "max_gap 3s must be longer than the window 1s plus "
				 "the probe timeout 5s (metric 'ok')"),
		    "max_gap");
	fc_experiment_free(e);
}

FC_TEST(exp_json_output, TIER_UNIT)
{
	static const char yaml[] = MINIMAL "fault: { type: network-loss, probability: 5% }\n"
					   "schedule: \"Tue \\\"14:00\\\"\\n\"\n";
	struct fc_experiment *e = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (!ASSERT_OK(exp_load_str(yaml, NULL, 0, &e), "valid"))
		goto out;
	f = open_memstream(&buf, &len);
	if (!ASSERT_OK_PTR(f, "memstream"))
		goto out;
	fc_experiment_json(e, f);
	fclose(f);
	ASSERT_STRSTR(buf, "\"valid\":true,\"errors\":[]", "valid");
	ASSERT_STRSTR(buf, "\"condition\":\"(p99 > 2 * baseline.p99) for 3 windows (default)\"",
		      "rule");
	ASSERT_STRSTR(buf, "{\"what\":\"window\",\"value\":\"1s\",\"why\":\"not given\"}",
		      "defaults");
	ASSERT_STRSTR(buf, "\"describe\":\"drop 5% of outgoing", "the module's describe");
	free(buf);
	buf = NULL;
	fc_experiment_free(e);
	e = NULL;

	/* invalid: every error with file, line, col; quotes escaped */
	ASSERT_EQ(exp_load_str("title: t\nwindow: \"5\\\"x\"\n", NULL, 0, &e), -EINVAL, "invalid");
	f = open_memstream(&buf, &len);
	if (!ASSERT_OK_PTR(f, "memstream"))
		goto out;
	fc_experiment_json(e, f);
	fclose(f);
	ASSERT_STRSTR(buf, "\"valid\":false", "invalid");
	ASSERT_STRSTR(buf,
		      "{\"file\":\"test.yaml\",\"line\":2,\"col\":9,\"message\":\"window: "
		      "'5\\\"x' is not a duration",
		      "escaped message");
out:
	free(buf);
	fc_experiment_free(e);
}

/* Lists joined into a fixed buffer stop at the first overflow (found by fuzz_exp). */
FC_TEST(exp_long_lists, TIER_UNIT)
{
	char *yaml = malloc(16384), *bind = malloc(8192);
	struct fc_experiment *e = NULL;
	size_t n = 0, b = 0;

	if (!ASSERT_TRUE(yaml && bind, "alloc"))
		goto out;
	n += sprintf(yaml + n, "title: t\ncell: { cgroup: a/b }\n"
			       "steady_state: { metric: s, expected: \"< 1s\" }\n"
			       "abort_when: \"s > 2s\"\n"
			       "metrics:\n  s: { source: bpf, kind: syscall_latency, syscalls: [");
	for (int i = 0; i < 300; i++)
		n += sprintf(yaml + n, "%sread", i ? ", " : "");
	n += sprintf(yaml + n, "] }\nfault: { type: network-loss, probability: 1%%, match: { "
			       "ports: [");
	for (int i = 0; i < 300; i++)
		n += sprintf(yaml + n, "%s%d", i ? ", " : "", 1000 + i);
	sprintf(yaml + n, "] } }\n");
	b += sprintf(bind, "cells:\n  x: { cgroup: a, restore: [");
	for (int i = 0; i < 300; i++)
		b += sprintf(bind + b, "%sword", i ? ", " : "");
	sprintf(bind + b, "] }\n");
	ASSERT_EQ(exp_load_str(yaml, bind, 0, &e), -EINVAL, "invalid");
	ASSERT_TRUE(exp_has_diag(e, 0, 0, "match.ports: list too long"), "fault list");
	ASSERT_TRUE(exp_has_diag(e, 0, 0, "syscalls: too long"), "metric list");
	ASSERT_TRUE(exp_has_diag(e, 0, 0, "restore: empty or too long"), "binding list");
out:
	fc_experiment_free(e);
	free(yaml);
	free(bind);
}

/*
 * A probe measures the service, not a cell: control.X of one is refused (it would be unknown
 * every window and fail closed) unless control_command/_url/_query says how to measure it.
 */
FC_TEST(exp_probe_control_side, TIER_UNIT)
{
	static const char bad[] =
	    "title: t\n"
	    "cell: { cgroup: a/b }\n"
	    "control: { cgroup: a/c }\n"
	    "metrics:\n"
	    "  ok: { source: prometheus, url: \"http://127.0.0.1:9090\", query: up }\n"
	    "  st: { source: http, url: \"http://127.0.0.1:80/\", control_query: up }\n"
	    "steady_state: { metric: ok, expected: \">= 1\" }\n"
	    "fault: { type: network-loss, probability: 1% }\n"
	    "abort_when: \"ok < control.ok - 0.1\"\n";
	static const char good[] =
	    "title: t\n"
	    "cell: { cgroup: a/b }\n"
	    "control: { cgroup: a/c }\n"
	    "metrics:\n"
	    "  ok: { source: prometheus, url: \"http://127.0.0.1:9090\", query: 'up{c=\"3\"}',\n"
	    "        control_query: 'up{c=\"1\"}' }\n"
	    "  st: { source: http, url: \"http://127.0.0.1:80/\", control_url: "
	    "\"http://127.0.0.1:81/\" }\n"
	    "  n: { source: command, command: [echo, 1], control_command: [echo, 2] }\n"
	    "steady_state: { metric: ok, expected: \">= 1\" }\n"
	    "fault: { type: network-loss, probability: 1% }\n"
	    "abort_when: \"ok < control.ok - 0.1 OR st < control.st OR n > control.n\"\n";
	struct fc_experiment *e = NULL;

	ASSERT_EQ(exp_load_str(bad, NULL, 0, &e), -EINVAL, "control.X of a probe refused");
	if (ASSERT_OK_PTR(e, "loaded")) {
		ASSERT_TRUE(
		    exp_has_diag(e, 9, 19,
				 "control.ok: 'ok' is a probe of the service, not of a cell, "
				 "so it has no control side (give it control_query: to "
				 "measure the control cell)"),
		    "says which key would give it one, at its column");
		ASSERT_TRUE(exp_has_diag(e, 6, 52,
					 "unknown key 'control_query' in metric 'st' (did you mean "
					 "'control_url'?)"),
			    "each source takes its own control key");
	}
	fc_experiment_free(e);
	e = NULL;
	if (!ASSERT_OK(exp_load_str(good, NULL, 0, &e), "valid with control sides")) {
		if (e)
			fc_experiment_print_diags(e, stdout);
		fc_experiment_free(e);
		return;
	}
	ASSERT_STREQ(e->metrics[0].control_query, "up{c=\"1\"}", "control_query");
	ASSERT_STREQ(e->metrics[1].control_url, "http://127.0.0.1:81/", "control_url");
	ASSERT_EQ(e->metrics[2].control_argc, 2, "control_command argv");
	ASSERT_STREQ(e->metrics[2].control_argv[1], "2", "control_command's argument");
	ASSERT_TRUE(!fc_metric_control_key(&e->metrics[0]) &&
			!fc_metric_control_key(&e->metrics[2]),
		    "each has a control side");
	fc_experiment_free(e);
}
