// SPDX-License-Identifier: BSD-2-Clause
/*
 * Cells and bindings. A cell is written as { cgroup: PATH } | { unit: NAME } | { pid: N }, or
 * { service: NAME } resolved through a binding: `cells:` (service → cell) and `metrics:` (name →
 * source), given with --bind FILE or inline, so the seed's game-day file runs unmodified.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "engine/exp_internal.h"

static const char *const cell_keys[] = { "cgroup", "unit", "pid", "service", "restore", NULL };
static const char *const binding_keys[] = { "cells", "metrics", NULL };

static int check_path(const struct fc_ynode *n, const char *what, struct fc_diags *d,
		      const char *path)
{
	const char *p = path;

	if (!*p) {
		DIAG_AT(d, n, "%s: empty cgroup path", what);
		return -EINVAL;
	}
	/* a cell is a subtree we name exactly: no way out of it through '..' */
	for (; *p; p = strchr(p, '/') ? strchr(p, '/') + 1 : p + strlen(p)) {
		if (!strncmp(p, "..", 2) && (p[2] == '/' || !p[2])) {
			DIAG_AT(d, n, "%s: '%s': '..' is not allowed in a cgroup path", what, path);
			return -EINVAL;
		}
	}
	return 0;
}

static int set_cell(struct fc_cellref *out, enum fc_cellref_kind kind, const struct fc_ynode *n,
		    const char *what, struct fc_diags *d, const char *value)
{
	char *end;
	long pid;

	out->kind = kind;
	out->pos = (struct fc_pos){ n->line, n->col };
	if (strlen(value) >= sizeof(out->value)) {
		DIAG_AT(d, n, "%s: longer than %zu characters", what, sizeof(out->value) - 1);
		return -EINVAL;
	}
	snprintf(out->value, sizeof(out->value), "%s", value);
	switch (kind) {
	case FC_CELLREF_CGROUP:
		return check_path(n, what, d, value);
	case FC_CELLREF_UNIT:
		if (!*value || strchr(value, '/')) {
			DIAG_AT(d, n, "%s: '%s' is not a systemd unit name (like payments.service)",
				what, value);
			return -EINVAL;
		}
		return 0;
	case FC_CELLREF_PID:
		pid = strtol(value, &end, 10);
		if (end == value || *end || pid <= 0 || pid > 4194304) {
			DIAG_AT(d, n, "%s: '%s' is not a process id", what, value);
			return -EINVAL;
		}
		return 0;
	default:
		return 0;
	}
}

int exp_cellref(const struct fc_ynode *n, const char *what, struct fc_diags *d,
		struct fc_cellref *out, bool allow_service)
{
	static const char *const kinds[] = { "cgroup", "unit", "pid", "service" };
	const struct fc_ynode *v, *which = NULL;
	int nkinds = 0, k = -1, err = 0;
	char w[96];

	memset(out, 0, sizeof(*out));
	if (n && n->kind == FC_Y_SCALAR && !fc_y_null(n)) {
		if (!strncmp(n->s, "unit:", 5))
			return set_cell(out, FC_CELLREF_UNIT, n, what, d, n->s + 5);
		if (!strncmp(n->s, "pid:", 4))
			return set_cell(out, FC_CELLREF_PID, n, what, d, n->s + 4);
		return set_cell(out, FC_CELLREF_CGROUP, n, what, d, n->s);
	}
	if (n && n->kind == FC_Y_MAP) {
		fc_y_check_keys(n, cell_keys, what, d);
		for (int i = 0; i < 4; i++) {
			if (!(v = fc_y_get(n, kinds[i])))
				continue;
			nkinds++;
			k = i;
			which = v;
		}
	}
	if (nkinds != 1 || (k == 3 && !allow_service)) {
		DIAG_AT(d, n, "%s: give exactly one of cgroup:, unit:, pid:%s", what,
			allow_service ? " or service:" : "");
		return -EINVAL;
	}
	snprintf(w, sizeof(w), "%s %s", what, kinds[k]);
	if (exp_scalar(which, w, d))
		return -EINVAL;
	if (k == 3) {
		if (strlen(which->s) >= sizeof(out->service)) {
			DIAG_AT(d, which, "%s: too long", w);
			return -EINVAL;
		}
		snprintf(out->service, sizeof(out->service), "%s", which->s);
		out->pos = (struct fc_pos){ which->line, which->col };
	} else {
		err = set_cell(out, k + 1, which, w, d, which->s);
	}
	if ((v = fc_y_get(n, "restore"))) {
		snprintf(w, sizeof(w), "%s restore", what);
		if (v->kind == FC_Y_SEQ) {
			size_t pos = 0;

			for (int i = 0; i < v->n && pos < sizeof(out->restore); i++) {
				if (exp_scalar(v->v[i], w, d))
					return -EINVAL;
				pos += snprintf(
				    out->restore + pos,
				    pos < sizeof(out->restore) ? sizeof(out->restore) - pos : 0,
				    "%s%s", i ? " " : "", v->v[i]->s);
			}
			if (pos >= sizeof(out->restore) || !pos) {
				DIAG_AT(d, v, "%s: empty or too long", w);
				err = -EINVAL;
			}
		} else if (exp_copy(v, w, d, out->restore, sizeof(out->restore))) {
			err = -EINVAL;
		}
	}
	return err;
}

int fc_cellref_spec(const struct fc_cellref *c, char *buf, size_t len)
{
	int n;

	switch (c->kind) {
	case FC_CELLREF_UNIT:
		n = snprintf(buf, len, "unit:%s", c->value);
		break;
	case FC_CELLREF_PID:
		n = snprintf(buf, len, "pid:%s", c->value);
		break;
	case FC_CELLREF_CGROUP:
		n = snprintf(buf, len, "%s", c->value);
		break;
	default:
		return -ENOENT;
	}
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int exp_cells_block(struct fc_experiment *e, const struct fc_ynode *cells, struct fc_diags *d,
		    bool from_binding)
{
	struct fc_cellref *c;
	char what[96];
	int err = 0;

	if (exp_map(cells, "cells", d))
		return -EINVAL;
	for (int i = 0; i < cells->n; i++) {
		const struct fc_ynode *k = cells->k[i];

		snprintf(what, sizeof(what), "cells: %.64s", k->s);
		for (int j = 0; j < e->ncells; j++) {
			if (strcmp(e->cells[j].service, k->s))
				continue;
			DIAG_AT(d, k, "service '%s' is already bound %s (line %d)", k->s,
				e->cells[j].from_binding ? "in the binding" : "in the experiment",
				e->cells[j].pos.line);
			err = -EINVAL;
		}
		if (e->ncells >= FC_EXP_MAX_CELLS) {
			DIAG_AT(d, k, "more than %d services in cells:", FC_EXP_MAX_CELLS);
			return -EINVAL;
		}
		if (k->len >= sizeof(c->service) || !k->len) {
			DIAG_AT(d, k, "cells: service name empty or too long");
			err = -EINVAL;
			continue;
		}
		c = &e->cells[e->ncells];
		if (exp_cellref(cells->v[i], what, d, c, false)) {
			/* kept without a cell: its users need not hear it is unbound */
			memset(c, 0, sizeof(*c));
			err = -EINVAL;
		}
		snprintf(c->service, sizeof(c->service), "%s", k->s);
		c->pos = (struct fc_pos){ k->line, k->col };
		c->from_binding = from_binding;
		e->ncells++;
	}
	return err;
}

int exp_binding(struct fc_experiment *e, const struct fc_ynode *root)
{
	struct fc_diags *d = &e->bind_diags;
	const struct fc_ynode *n;
	int err = 0;

	if (!root) {
		fc_diag(d, 0, 0, "empty binding: expected cells: and metrics:");
		return -EINVAL;
	}
	if (root->kind != FC_Y_MAP) {
		DIAG_AT(d, root, "a binding is a mapping with cells: and metrics:, not %s",
			fc_ykind_name(root));
		return -EINVAL;
	}
	fc_y_check_keys(root, binding_keys, "the binding", d);
	if ((n = fc_y_get(root, "cells")) && exp_cells_block(e, n, d, true))
		err = -EINVAL;
	if ((n = fc_y_get(root, "metrics"))) {
		if (exp_map(n, "metrics", d))
			return -EINVAL;
		for (int i = 0; i < n->n; i++)
			if (exp_metric(e, n->k[i], n->v[i], d, true))
				err = -EINVAL;
	}
	return err;
}

const struct fc_cellref *exp_service(struct fc_experiment *e, const char *name,
				     const struct fc_ynode *at)
{
	for (int i = 0; i < e->ncells; i++)
		if (!strcmp(e->cells[i].service, name))
			return e->cells[i].kind ? &e->cells[i] : NULL;
	if (e->bind_unread)
		DIAG_AT(&e->diags, at, "service '%s' is not bound: the binding could not be read",
			name);
	else if (e->bind_path)
		DIAG_AT(&e->diags, at,
			"service '%s' is not bound to a cell: %s has no cells: entry "
			"for it",
			name, e->bind_path);
	else
		DIAG_AT(&e->diags, at,
			"service '%s' is not bound to a cell (give --bind FILE with cells: { %s: "
			"CGROUP }, or a cells: block here)",
			name, name);
	return NULL;
}
