// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/errnames.h"
#include "core/util.h"
#include "faults/fault.h"

extern const struct fc_fault_ops *const __start_fc_faults[], *const __stop_fc_faults[];

const struct fc_fault_ops *fc_fault_find(const char *type)
{
	const struct fc_fault_ops *const *p;

	for (p = __start_fc_faults; p < __stop_fc_faults; p++) {
		if (!strcmp((*p)->type, type))
			return *p;
		for (int i = 0; i < 4 && (*p)->aliases[i]; i++)
			if (!strcmp((*p)->aliases[i], type))
				return *p;
	}
	return NULL;
}

void fc_fault_types(const char **out, int max)
{
	const struct fc_fault_ops *const *p;
	int n = 0;

	for (p = __start_fc_faults; p < __stop_fc_faults && n < max - 1; p++)
		out[n++] = (*p)->type;
	out[n] = NULL;
}

struct fc_kv *fc_spec_get(struct fc_fault_spec *s, const char *key)
{
	for (int i = 0; i < s->nkv; i++) {
		if (strcmp(s->kv[i].key, key))
			continue;
		s->kv[i].used = true;
		return &s->kv[i];
	}
	return NULL;
}

int fc_spec_set(struct fc_fault_spec *s, const char *key, const char *val, int line, int col)
{
	struct fc_kv *kv = NULL;

	for (int i = 0; i < s->nkv; i++)
		if (!strcmp(s->kv[i].key, key))
			kv = &s->kv[i];
	if (!kv) {
		if (s->nkv >= FC_SPEC_MAX)
			return -E2BIG;
		kv = &s->kv[s->nkv++];
	}
	if (strlen(key) >= sizeof(kv->key) || strlen(val) >= sizeof(kv->val))
		return -ENAMETOOLONG;
	memset(kv, 0, sizeof(*kv));
	strcpy(kv->key, key);
	strcpy(kv->val, val);
	kv->line = line;
	kv->col = col;
	return 0;
}

void fc_spec_unused(struct fc_fault_spec *s, const char *const *known, struct fc_diags *d)
{
	for (int i = 0; i < s->nkv; i++) {
		const char *near;

		if (s->kv[i].used)
			continue;
		near = fc_closest(s->kv[i].key, known);
		if (near)
			fc_diag(d, s->kv[i].line, s->kv[i].col,
				"unknown key '%s' for fault %s (did you mean '%s'?)", s->kv[i].key,
				s->type, near);
		else
			fc_diag(d, s->kv[i].line, s->kv[i].col, "unknown key '%s' for fault %s",
				s->kv[i].key, s->type);
	}
}

int fc_kv_prob(struct fc_kv *kv, struct fc_diags *d, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(kv->val, &end);
	if (end == kv->val || errno || (*end && strcmp(end, "%")) || isnan(v)) {
		fc_diag(d, kv->line, kv->col,
			"%s: '%s' is not a probability (give 0..1 or a percentage like 12.5%%)",
			kv->key, kv->val);
		return -EINVAL;
	}
	if (*end == '%')
		v /= 100;
	if (v < 0 || v > 1) {
		fc_diag(d, kv->line, kv->col, "%s: %s is out of range (0%% to 100%%)", kv->key,
			kv->val);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int fc_kv_u64(struct fc_kv *kv, struct fc_diags *d, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(kv->val, &end, 10);
	if (end == kv->val || *end || errno || kv->val[0] == '-') {
		fc_diag(d, kv->line, kv->col, "%s: '%s' is not a whole number", kv->key, kv->val);
		return -EINVAL;
	}
	if (v < min || v > max) {
		fc_diag(d, kv->line, kv->col, "%s: %llu is out of range (%llu to %llu)", kv->key, v,
			(unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int fc_kv_duration(struct fc_kv *kv, struct fc_diags *d, uint64_t *ns)
{
	int err = fc_parse_duration(kv->val, ns);

	if (err == -ERANGE)
		fc_diag(d, kv->line, kv->col, "%s: %s is too long", kv->key, kv->val);
	else if (err)
		fc_diag(d, kv->line, kv->col,
			"%s: '%s' is not a duration (a number with ns, us, ms, s, m or h)", kv->key,
			kv->val);
	else if (!*ns) {
		fc_diag(d, kv->line, kv->col, "%s: must be greater than zero", kv->key);
		err = -EINVAL;
	}
	return err;
}

int fc_fault_new(struct fc_fault_spec *spec, struct fc_core *core, struct fc_diags *d,
		 struct fc_fault **out)
{
	const struct fc_fault_ops *ops = fc_fault_find(spec->type);
	struct fc_fault *f;
	const char *types[32], *near;
	int err;

	if (!ops) {
		fc_fault_types(types, 32);
		near = fc_closest(spec->type, types);
		fc_diag(d, spec->line, spec->col, "unknown fault type '%s'%s%s%s", spec->type,
			near ? " (did you mean '" : "", near ?: "", near ? "'?)" : "");
		return -EINVAL;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->ops = ops;
	f->core = core;
	f->cfg = calloc(1, ops->cfg_size);
	if (!f->cfg) {
		free(f);
		return -ENOMEM;
	}
	err = ops->parse(spec, f->cfg, d);
	/*
	 * Report a misspelt key beside a parse error too, so the user fixes both in one pass. A
	 * parse that failed early never reached (marked) the keys after the bad one: a listed key
	 * counts as known then. A parse that succeeded marked every key it takes, so an unmarked
	 * one is unknown to this type even when a sibling type shares the list.
	 */
	for (int i = 0; err && i < spec->nkv; i++)
		for (int k = 0; ops->keys && ops->keys[k]; k++)
			if (!strcmp(ops->keys[k], spec->kv[i].key))
				spec->kv[i].used = true;
	fc_spec_unused(spec, ops->keys, d);
	if (err || d->n) {
		fc_fault_free(f);
		return -EINVAL;
	}
	*out = f;
	return 0;
}

void fc_fault_free(struct fc_fault *f)
{
	if (!f)
		return;
	if (f->ops->close && f->priv)
		f->ops->close(f);
	free(f->cfg);
	free(f);
}

int fc_kv_errnos(struct fc_kv *kv, struct fc_diags *d, int *err, unsigned int *weight, int max,
		 int *n, const char *examples)
{
	char buf[sizeof(kv->val)], *save = NULL, *tok, *colon, *end;
	const char *near;
	unsigned long w;
	int e;

	*n = 0;
	snprintf(buf, sizeof(buf), "%s", kv->val);
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		w = 1;
		colon = strchr(tok, ':');
		if (colon) {
			*colon = 0;
			w = strtoul(colon + 1, &end, 10);
			if (*end || !colon[1] || !w || w > 1000000) {
				fc_diag(d, kv->line, kv->col,
					"errno: weight '%s' of %s is not a whole number 1..1000000",
					colon + 1, tok);
				return -EINVAL;
			}
		}
		e = fc_errno_by_name(tok);
		if (e < 0) {
			near = fc_closest(tok, fc_errno_names());
			if (near)
				fc_diag(d, kv->line, kv->col,
					"errno: unknown errno name '%s' (did you mean %s?)", tok,
					near);
			else
				fc_diag(d, kv->line, kv->col,
					"errno: unknown errno name '%s' (e.g. %s)", tok, examples);
			return -EINVAL;
		}
		if (*n >= max) {
			fc_diag(d, kv->line, kv->col, "errno: at most %d errnos", max);
			return -EINVAL;
		}
		err[*n] = e;
		weight[(*n)++] = w;
	}
	if (!*n) {
		fc_diag(d, kv->line, kv->col, "errno: empty list");
		return -EINVAL;
	}
	return 0;
}

void fc_errno_thresholds(const unsigned int *weight, int n, unsigned long long *cum)
{
	unsigned long long total = 0, acc = 0;

	for (int i = 0; i < n; i++)
		total += weight[i];
	for (int i = 0; i < n; i++) {
		acc += weight[i];
		cum[i] = i == n - 1 ? 1ULL << 32 : (acc << 32) / total;
	}
}

int fc_fault_obj_counters(struct bpf_object *obj, struct fc_fault_counters *out)
{
	uint64_t s[FC_STAT_MAX];
	int err = fc_obj_stats(obj, s);

	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	out->seen = s[FC_STAT_FAMILY];
	out->matched = s[FC_STAT_FAMILY + 1];
	out->injected = s[FC_STAT_FAMILY + 2];
	out->armed = s[FC_STAT_ARMED];
	for (int i = 0; i < FC_INERT_MAX; i++)
		out->inert[i] = s[i];
	out->first_hit_ns = s[FC_STAT_FIRST_HIT_NS];
	out->first_inert_ns = s[FC_STAT_FIRST_INERT_NS];
	out->rb_fail = s[FC_STAT_RB_FAIL];
	return 0;
}

unsigned long long fc_prob_fixed(double p)
{
	if (p <= 0)
		return 0;
	if (p >= 1)
		return 1ULL << 32;
	return (unsigned long long)(p * 4294967296.0 + 0.5);
}
