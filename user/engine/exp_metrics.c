// SPDX-License-Identifier: BSD-2-Clause
/*
 * A metric definition: `name: { source: bpf|command|http|prometheus, ... }`, the same in the
 * experiment and in a binding. Each source has its own keys; the type (time, ratio, count,
 * number) comes from `unit:` or from the source, so conditions are checked before the run.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "engine/exp_internal.h"
#include "engine/probes.h"
#include "metrics/registry.h"

static const char *const sources[] = { "bpf", "command", "http", "prometheus", NULL };

static const char *const bpf_base_keys[] = { "source",	  "kind",	 "stat", "unit",
					     "aggregate", "min_samples", NULL };
static const char *const command_keys[] = { "source", "command",   "value",	      "timeout",
					    "unit",   "aggregate", "control_command", NULL };
static const char *const http_keys[] = { "source", "url",	"stat",	       "timeout",
					 "unit",   "aggregate", "control_url", NULL };
static const char *const prom_keys[] = { "source", "url",	"query",	 "timeout",
					 "unit",   "aggregate", "control_query", NULL };

static const char *const stats[] = { "count", "rate", "mean", "max", "p50",
				     "p90",   "p99",  "p999", NULL };
static const char *const unit_names[] = { "number", "time", "ratio", "count", NULL };
static const char *const agg_names[] = { "mean", "sum", "max", "min", "last", NULL };

/* One of @choices, or a diagnostic with the nearest. Returns the index or -1. */
static int choose(const struct fc_ynode *n, const char *what, const char *const *choices,
		  struct fc_diags *d)
{
	const char *near;
	char list[160] = "";
	size_t pos = 0;
	int i;

	if (exp_scalar(n, what, d))
		return -1;
	for (i = 0; choices[i]; i++)
		if (!strcmp(n->s, choices[i]))
			return i;
	for (i = 0; choices[i] && pos < sizeof(list); i++)
		pos += snprintf(list + pos, sizeof(list) - pos, "%s%s", i ? ", " : "", choices[i]);
	near = fc_closest(n->s, choices);
	if (near)
		DIAG_AT(d, n, "%s: unknown '%s' (did you mean '%s'?)", what, n->s, near);
	else
		DIAG_AT(d, n, "%s: unknown '%s' (one of: %s)", what, n->s, list);
	return -1;
}

static int add_param(struct fc_metric *m, const char *key, const struct fc_ynode *n,
		     const char *what, struct fc_diags *d)
{
	struct fc_kv *kv;
	size_t pos = 0;

	if (m->nparams >= FC_EXP_MAX_PARAMS)
		return -E2BIG;
	kv = &m->params[m->nparams];
	memset(kv, 0, sizeof(*kv));
	snprintf(kv->key, sizeof(kv->key), "%s", key);
	kv->line = n->line;
	kv->col = n->col;
	if (n->kind == FC_Y_SEQ) {
		for (int i = 0; i < n->n && pos < sizeof(kv->val); i++) {
			if (exp_scalar(n->v[i], what, d))
				return -EINVAL;
			pos += snprintf(kv->val + pos,
					pos < sizeof(kv->val) ? sizeof(kv->val) - pos : 0, "%s%s",
					i ? "," : "", n->v[i]->s);
		}
	} else {
		if (exp_scalar(n, what, d))
			return -EINVAL;
		pos = snprintf(kv->val, sizeof(kv->val), "%s", n->s);
	}
	if (pos >= sizeof(kv->val) || !pos) {
		DIAG_AT(d, n, "%s: %s", what, pos ? "too long" : "empty list");
		return -EINVAL;
	}
	m->nparams++;
	return 0;
}

/* The key a kind takes in the file, from the tracer's registry. */
static const char *kind_key(const struct fc_metric_kind *k)
{
	switch (k->keys) {
	case FC_KEYS_SYSCALLS:
		return "syscalls";
	case FC_KEYS_FUNCTION:
		return "function";
	case FC_KEYS_FIXED:
		return "keys";
	default:
		return NULL;
	}
}

static int fixed_keys(const struct fc_metric_kind *k, const struct fc_ynode *n, const char *what,
		      struct fc_diags *d)
{
	const struct fc_ynode *v;
	int i, j, err = 0;

	for (i = 0; i < (n->kind == FC_Y_SEQ ? n->n : 1); i++) {
		v = n->kind == FC_Y_SEQ ? n->v[i] : n;
		if (v->kind != FC_Y_SCALAR)
			continue; /* add_param says so */
		for (j = 0; k->fixed_keys[j] && strcmp(k->fixed_keys[j], v->s); j++)
			;
		if (!k->fixed_keys[j]) {
			DIAG_AT(d, v, "%s: %s has no key '%s' (its %s keys: %s%s%s)", what, k->name,
				v->s, k->key_label, k->fixed_keys[0], k->fixed_keys[1] ? ", " : "",
				k->fixed_keys[1] ?: "");
			err = -EINVAL;
		}
	}
	return err;
}

static int bpf_metric(struct fc_metric *m, const struct fc_ynode *def, const char *where,
		      struct fc_diags *d)
{
	const struct fc_metric_kind *k;
	const struct fc_ynode *n;
	const char *keys[ARRAY_SIZE(bpf_base_keys) + 1], *key;
	char what[128], near[160];
	bool latency;
	int s, err = 0;
	size_t i;

	n = fc_y_get(def, "kind");
	if (!n) {
		DIAG_AT(d, def, "%s: a bpf metric needs kind: (see 'faultcell trace --list')",
			where);
		return -EINVAL;
	}
	snprintf(what, sizeof(what), "%s kind", where);
	if (exp_scalar(n, what, d))
		return -EINVAL;
	k = fc_metric_kind_find(n->s);
	if (!k) {
		fc_metric_kind_suggest(n->s, near, sizeof(near));
		DIAG_AT(d, n, "%s: unknown bpf kind '%s'%s%s%s", what, n->s,
			near[0] ? " (did you mean " : "", near, near[0] ? "?)" : "");
		return -EINVAL;
	}
	snprintf(m->kind, sizeof(m->kind), "%s", k->name);
	/* each kind takes its own key: syscalls, function or a subset of fixed keys */
	key = kind_key(k);
	for (i = 0; bpf_base_keys[i]; i++)
		keys[i] = bpf_base_keys[i];
	keys[i++] = key;
	keys[i] = NULL;
	fc_y_check_keys(def, keys, where, d);
	latency = k->npow && !strcmp(k->unit, "ns");
	snprintf(what, sizeof(what), "%s stat", where);
	n = fc_y_get(def, "stat");
	s = n ? choose(n, what, stats, d) : latency ? 6 /* p99 */ : 0 /* count */;
	if (s < 0)
		return -EINVAL;
	snprintf(m->stat, sizeof(m->stat), "%s", stats[s]);
	if (!strcmp(m->stat, "count")) {
		m->type = FC_VT_COUNT;
		m->agg = FC_AGG_SUM;
	} else if (!strcmp(m->stat, "rate")) {
		m->type = FC_VT_NUMBER;
	} else {
		m->type = latency ? FC_VT_TIME : FC_VT_COUNT;
		m->agg = !strcmp(m->stat, "max") ? FC_AGG_MAX : FC_AGG_MEAN;
	}
	if (key && k->keys != FC_KEYS_FIXED && !fc_y_get(def, key)) {
		DIAG_AT(d, def, "%s: %s needs %s:%s", where, k->name, key,
			k->keys == FC_KEYS_FUNCTION ? " BINARY:SYMBOL" : " [names...]");
		err = -EINVAL;
	}
	for (int j = 0; j < def->n; j++) {
		key = def->k[j]->s;
		if (strcmp(key, "syscalls") && strcmp(key, "function") && strcmp(key, "keys") &&
		    strcmp(key, "min_samples"))
			continue;
		snprintf(what, sizeof(what), "%s %s", where, key);
		if (add_param(m, key, def->v[j], what, d))
			err = -EINVAL;
		else if (!strcmp(key, "keys") && k->keys == FC_KEYS_FIXED &&
			 fixed_keys(k, def->v[j], what, d))
			err = -EINVAL;
	}
	return err;
}

/* An http:// URL a probe can reach without blocking the window loop. */
static int probe_url(struct fc_experiment *e, const struct fc_ynode *n, const char *what,
		     struct fc_diags *d, const char **out)
{
	char host[256], path[1024];
	int port;

	if (exp_text(e, n, what, d, out))
		return -EINVAL;
	if (!strncmp(*out, "https://", 8)) {
		/* refused now rather than "no data" every window once the fault is armed */
		DIAG_AT(d, n,
			"%s: https:// is not supported (the loader speaks plain HTTP): give an "
			"http:// endpoint on this host, or a command: probe that runs curl",
			what);
		return -EINVAL;
	}
	if (fc_url_split(*out, host, sizeof(host), &port, path, sizeof(path))) {
		DIAG_AT(d, n, "%s: '%s' is not an http://HOST[:PORT][/PATH] URL", what, *out);
		return -EINVAL;
	}
	if (!fc_url_host_ok(host)) {
		/* a DNS lookup would block the window loop */
		DIAG_AT(d, n,
			"%s: host '%s' is not an IP address (name lookups are not done; give the "
			"address, e.g. http://127.0.0.1:9090)",
			what, host);
		return -EINVAL;
	}
	return 0;
}

static int prom_query(struct fc_experiment *e, const struct fc_ynode *n, const char *what,
		      struct fc_diags *d, const char **out)
{
	if (exp_text(e, n, what, d, out))
		return -EINVAL;
	if (strlen(*out) > FC_PROM_MAX_QUERY) {
		DIAG_AT(d, n,
			"%s: %zu characters, more than %d (record a rule in Prometheus and query "
			"that)",
			what, strlen(*out), FC_PROM_MAX_QUERY);
		return -EINVAL;
	}
	return 0;
}

const char *fc_metric_control_key(const struct fc_metric *m)
{
	switch (m->source) {
	case FC_MSRC_COMMAND:
		return m->control_argc ? NULL : "control_command";
	case FC_MSRC_HTTP:
		return m->control_url ? NULL : "control_url";
	case FC_MSRC_PROMETHEUS:
		return m->control_query ? NULL : "control_query";
	default:
		return NULL; /* bpf: the tracer measures every cell it is given */
	}
}

static int probe_metric(struct fc_experiment *e, struct fc_metric *m, const struct fc_ynode *def,
			const char *where, struct fc_diags *d)
{
	static const char *const http_stats[] = { "up", "status", "latency", NULL };
	static const char *const values[] = { "output", "status", NULL };
	const struct fc_ynode *n;
	struct fc_dur t = { .ns = NSEC_PER_SEC };
	char what[128];
	int err = 0, i;

	m->type = FC_VT_NUMBER;
	if (m->source == FC_MSRC_COMMAND) {
		snprintf(what, sizeof(what), "%s command", where);
		if (!(n = fc_y_get(def, "command"))) {
			DIAG_AT(d, def, "%s: a command metric needs command: [program, args...]",
				where);
			err = -EINVAL;
		} else if (exp_argv(e, n, what, d, m->argv, &m->argc)) {
			err = -EINVAL;
		}
		snprintf(what, sizeof(what), "%s value", where);
		if ((n = fc_y_get(def, "value"))) {
			i = choose(n, what, values, d);
			if (i < 0)
				err = -EINVAL;
			m->use_status = i == 1;
		}
		/* the control cell's side: the same program with other arguments */
		snprintf(what, sizeof(what), "%s control_command", where);
		if ((n = fc_y_get(def, "control_command")) &&
		    exp_argv(e, n, what, d, m->control_argv, &m->control_argc))
			err = -EINVAL;
	} else {
		snprintf(what, sizeof(what), "%s url", where);
		if (!(n = fc_y_get(def, "url"))) {
			DIAG_AT(d, def, "%s: needs url:", where);
			err = -EINVAL;
		} else if (probe_url(e, n, what, d, &m->url)) {
			err = -EINVAL;
		}
		snprintf(what, sizeof(what), "%s control_url", where);
		if (m->source == FC_MSRC_HTTP && (n = fc_y_get(def, "control_url")) &&
		    probe_url(e, n, what, d, &m->control_url))
			err = -EINVAL;
	}
	if (m->source == FC_MSRC_PROMETHEUS) {
		snprintf(what, sizeof(what), "%s query", where);
		if (!(n = fc_y_get(def, "query"))) {
			DIAG_AT(d, def, "%s: a prometheus metric needs query: (PromQL)", where);
			err = -EINVAL;
		} else if (prom_query(e, n, what, d, &m->query)) {
			err = -EINVAL;
		}
		snprintf(what, sizeof(what), "%s control_query", where);
		if ((n = fc_y_get(def, "control_query")) &&
		    prom_query(e, n, what, d, &m->control_query))
			err = -EINVAL;
	}
	if (m->source == FC_MSRC_HTTP) {
		snprintf(what, sizeof(what), "%s stat", where);
		i = (n = fc_y_get(def, "stat")) ? choose(n, what, http_stats, d) : 0;
		if (i < 0)
			err = -EINVAL;
		snprintf(m->stat, sizeof(m->stat), "%s", http_stats[i < 0 ? 0 : i]);
		m->type = i == 0 ? FC_VT_RATIO : i == 2 ? FC_VT_TIME : FC_VT_NUMBER;
	}
	snprintf(what, sizeof(what), "%s timeout", where);
	if ((n = fc_y_get(def, "timeout")) && exp_duration_real(n, what, d, &t))
		err = -EINVAL;
	m->timeout_ns = t.ns;
	if (n)
		m->timeout_pos = (struct fc_pos){ n->line, n->col };
	return err;
}

int exp_metric(struct fc_experiment *e, const struct fc_ynode *key, const struct fc_ynode *def,
	       struct fc_diags *d, bool from_binding)
{
	static const char *const *const keys[] = {
		[FC_MSRC_BPF] = NULL,
		[FC_MSRC_COMMAND] = command_keys,
		[FC_MSRC_HTTP] = http_keys,
		[FC_MSRC_PROMETHEUS] = prom_keys,
	};
	struct fc_metric *m;
	const struct fc_ynode *n;
	char where[FC_EXP_NAME_LEN + 16], name[FC_EXP_NAME_LEN];
	int i, err;

	if (exp_name(key, "metric name", d, name, sizeof(name)))
		return -EINVAL;
	snprintf(where, sizeof(where), "metric '%s'", name);
	if ((i = fc_exp_metric(e, name)) >= 0) {
		DIAG_AT(d, key, "%s is already defined %s (line %d)", where,
			e->metrics[i].from_binding ? "in the binding" : "in the experiment",
			e->metrics[i].pos.line);
		return -EINVAL;
	}
	if (e->nmetrics >= FC_EXP_MAX_METRICS) {
		DIAG_AT(d, key, "more than %d metrics", FC_EXP_MAX_METRICS);
		return -EINVAL;
	}
	if (exp_map(def, where, d))
		return -EINVAL;
	n = fc_y_get(def, "source");
	if (!n) {
		DIAG_AT(d, def, "%s: missing source: (bpf, command, http or prometheus)", where);
		return -EINVAL;
	}
	snprintf(where + strlen(where), sizeof(where) - strlen(where), " source");
	i = choose(n, where, sources, d);
	where[strlen(where) - 7] = 0;
	if (i < 0)
		return -EINVAL;
	m = &e->metrics[e->nmetrics];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->source = i + 1;
	m->pos = (struct fc_pos){ key->line, key->col };
	m->from_binding = from_binding;
	if (keys[m->source]) /* bpf: the keys depend on the kind */
		fc_y_check_keys(def, keys[m->source], where, d);
	err = m->source == FC_MSRC_BPF ? bpf_metric(m, def, where, d)
				       : probe_metric(e, m, def, where, d);
	if ((n = fc_y_get(def, "unit"))) {
		snprintf(where + strlen(where), sizeof(where) - strlen(where), " unit");
		i = choose(n, where, unit_names, d);
		where[strlen(where) - 5] = 0;
		if (i < 0)
			err = -EINVAL;
		else
			m->type = i == 0   ? FC_VT_NUMBER
				  : i == 1 ? FC_VT_TIME
				  : i == 2 ? FC_VT_RATIO
					   : FC_VT_COUNT;
	}
	if ((n = fc_y_get(def, "aggregate"))) {
		snprintf(where + strlen(where), sizeof(where) - strlen(where), " aggregate");
		i = choose(n, where, agg_names, d);
		if (i < 0)
			err = -EINVAL;
		else
			m->agg = i;
	}
	/* keep the name even when invalid: references to it are not "undefined" */
	e->nmetrics++;
	return err;
}

int fc_exp_metric(const struct fc_experiment *e, const char *name)
{
	for (int i = 0; i < e->nmetrics; i++)
		if (!strcmp(e->metrics[i].name, name))
			return i;
	return -1;
}

const char *fc_msrc_name(enum fc_msrc s)
{
	return s >= FC_MSRC_BPF && s <= FC_MSRC_PROMETHEUS ? sources[s - 1] : "?";
}

void fc_exp_eval_ctx(const struct fc_experiment *e, struct fc_eval_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->window_ns = e->window.ns;
	ctx->nmetrics = e->nmetrics;
	ctx->slo_errors = e->slo.set ? e->slo.ierrors : -1;
	ctx->slo_total = e->slo.set ? e->slo.itotal : -1;
	ctx->slo_objective = e->slo.objective;
}
