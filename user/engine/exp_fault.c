// SPDX-License-Identifier: BSD-2-Clause
/*
 * Faults in the file become the fault registry's flat specs (faults/fault.h): nested mappings
 * flatten with dots (match: { proto: tcp } → match.proto), lists of scalars join with commas
 * (ports: [80, 443] → "80,443"), every key keeps its line:col. `target.service` and
 * `start` are the engine's: the service names the cell through the binding, start delays the
 * fault within the inject phase; neither reaches the module.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine/exp_internal.h"

static int set(struct fc_experiment *e, struct fc_exp_fault *f, const char *key, const char *val,
	       const struct fc_ynode *at)
{
	int err = fc_spec_set(&f->spec, key, val, at->line, at->col);

	if (err == -E2BIG)
		DIAG_AT(&e->diags, at, "fault %s: more than %d keys", f->type, FC_SPEC_MAX);
	else if (err == -ENAMETOOLONG)
		DIAG_AT(&e->diags, at, "fault %s: '%.60s': %s too long", f->type, key,
			strlen(key) >= sizeof(f->spec.kv[0].key) ? "key" : "value");
	return err ? -EINVAL : 0;
}

static int flatten(struct fc_experiment *e, struct fc_exp_fault *f, const char *key,
		   const struct fc_ynode *at, const struct fc_ynode *v, int depth)
{
	char sub[128], val[sizeof(f->spec.kv[0].val)];
	size_t pos = 0;
	int err = 0, i;

	if (!v || fc_y_null(v)) {
		DIAG_AT(&e->diags, at, "fault %s: %s has no value", f->type, key);
		return -EINVAL;
	}
	if (v->kind == FC_Y_SCALAR)
		return set(e, f, key, v->s, at);
	if (v->kind == FC_Y_MAP) {
		for (i = 0; i < v->n; i++) {
			if ((size_t)snprintf(sub, sizeof(sub), "%s.%s", key, v->k[i]->s) >=
			    sizeof(sub)) {
				DIAG_AT(&e->diags, v->k[i], "fault %s: key too long", f->type);
				err = -EINVAL;
				continue;
			}
			if (flatten(e, f, sub, v->k[i], v->v[i], depth + 1))
				err = -EINVAL;
		}
		return err;
	}
	if (!v->n) {
		DIAG_AT(&e->diags, at, "fault %s: %s is an empty list", f->type, key);
		return -EINVAL;
	}
	/* a list of mappings: key.0.sub, key.1.sub (weighted errno lists) */
	if (v->v[0]->kind == FC_Y_MAP) {
		for (i = 0; i < v->n; i++) {
			if (v->v[i]->kind != FC_Y_MAP) {
				DIAG_AT(&e->diags, v->v[i],
					"fault %s: %s mixes mappings and values", f->type, key);
				return -EINVAL;
			}
			snprintf(sub, sizeof(sub), "%.100s.%d", key, i);
			if (flatten(e, f, sub, v->v[i], v->v[i], depth + 1))
				err = -EINVAL;
		}
		return err;
	}
	/* stop at the first overflow: val + pos past the end is undefined even for 0 bytes */
	for (i = 0; i < v->n && pos < sizeof(val); i++) {
		if (v->v[i]->kind != FC_Y_SCALAR || fc_y_null(v->v[i])) {
			DIAG_AT(
			    &e->diags, v->v[i],
			    "fault %s: %s: expected values in the list (like [80, 443]), got %s",
			    f->type, key, fc_ykind_name(v->v[i]));
			return -EINVAL;
		}
		pos += snprintf(val + pos, pos < sizeof(val) ? sizeof(val) - pos : 0, "%s%s",
				i ? "," : "", v->v[i]->s);
	}
	if (pos >= sizeof(val)) {
		DIAG_AT(&e->diags, at, "fault %s: %s: list too long", f->type, key);
		return -EINVAL;
	}
	return set(e, f, key, val, at);
}

/* fc_spec_get would mark the key used and hide it from the unknown-key check */
static bool has_key(const struct fc_fault_spec *s, const char *key)
{
	for (int i = 0; i < s->nkv; i++)
		if (!strcmp(s->kv[i].key, key))
			return true;
	return false;
}

static bool same_cell(const struct fc_cellref *a, const struct fc_cellref *b)
{
	return a->kind == b->kind && !strcmp(a->value, b->value);
}

/* target: { service: NAME, ... }: the service picks the experiment's cell. */
static int target(struct fc_experiment *e, struct fc_exp_fault *f, const struct fc_ynode *key,
		  const struct fc_ynode *t)
{
	const struct fc_ynode *svc = fc_y_get(t, "service");
	const struct fc_cellref *c;
	const struct fc_fault_ops *ops;
	int err = 0;

	for (int i = 0; i < t->n; i++) {
		char sub[128];

		if (!strcmp(t->k[i]->s, "service"))
			continue;
		snprintf(sub, sizeof(sub), "%s.%.100s", key->s, t->k[i]->s);
		if (flatten(e, f, sub, t->k[i], t->v[i], 1))
			err = -EINVAL;
	}
	if (!svc)
		return err;
	if (exp_copy(svc, "target service", &e->diags, f->service, sizeof(f->service)))
		return -EINVAL;
	c = exp_service(e, f->service, svc);
	if (!c)
		return -EINVAL;
	if (e->cell.kind == FC_CELLREF_NONE) {
		e->cell = *c;
	} else if (!same_cell(&e->cell, c)) {
		DIAG_AT(&e->diags, svc,
			"fault %s targets service '%s' (cell %s), but the experiment's cell is %s: "
			"one experiment, one cell",
			f->type, f->service, c->value, e->cell.value);
		return -EINVAL;
	}
	/* the binding knows how to bring a killed pod back; the module asks for it by name */
	ops = fc_fault_find(f->type);
	if (c->restore[0] && ops && ops->keys && !has_key(&f->spec, "restore")) {
		for (int i = 0; ops->keys[i]; i++)
			if (!strcmp(ops->keys[i], "restore") &&
			    set(e, f, "restore", c->restore, svc))
				err = -EINVAL;
	}
	return err;
}

int exp_fault(struct fc_experiment *e, const struct fc_ynode *n)
{
	struct fc_exp_fault *f;
	const struct fc_ynode *t;
	int err = 0;

	if (exp_map(n, "fault", &e->diags))
		return -EINVAL;
	if (e->nfaults >= FC_EXP_MAX_FAULTS) {
		DIAG_AT(&e->diags, n, "more than %d faults", FC_EXP_MAX_FAULTS);
		return -EINVAL;
	}
	f = &e->faults[e->nfaults++];
	memset(f, 0, sizeof(*f));
	f->pos = (struct fc_pos){ n->line, n->col };
	t = fc_y_get(n, "type");
	if (!t) {
		DIAG_AT(&e->diags, n, "fault: missing type: (like network-loss or pod-kill)");
		return -EINVAL;
	}
	if (exp_copy(t, "fault type", &e->diags, f->type, sizeof(f->type)))
		return -EINVAL;
	memcpy(f->spec.type, f->type, sizeof(f->spec.type));
	f->spec.line = t->line;
	f->spec.col = t->col;
	for (int i = 0; i < n->n; i++) {
		const struct fc_ynode *k = n->k[i], *v = n->v[i];

		if (!strcmp(k->s, "type"))
			continue;
		/* the engine's: when in the inject phase this fault arms (time-scaled) */
		if (!strcmp(k->s, "start")) {
			if (exp_duration(e, v, "fault start", &e->diags, &f->start))
				err = -EINVAL;
			continue;
		}
		if (!strcmp(k->s, "target") && v->kind == FC_Y_MAP ? target(e, f, k, v)
								   : flatten(e, f, k->s, k, v, 0))
			err = -EINVAL;
	}
	return err ? -EINVAL : 0;
}

/* Each module parses its own keys: unknown types and keys with "did you mean", bad values. */
int exp_faults_parse(struct fc_experiment *e)
{
	int err = 0;

	for (int i = 0; i < e->nfaults; i++) {
		struct fc_exp_fault *f = &e->faults[i];
		struct fc_diags d = { .file = e->diags.file };

		if (!f->spec.type[0])
			continue;
		/* a private diags: fc_fault_new refuses when any error is already there */
		if (fc_fault_new(&f->spec, NULL, &d, &f->fault))
			err = -EINVAL;
		for (int k = 0; k < d.n; k++)
			fc_diag(&e->diags, d.d[k].line, d.d[k].col, "%s", d.d[k].msg);
	}
	return err;
}
