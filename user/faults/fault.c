// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
	if (!err)
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
