// SPDX-License-Identifier: BSD-2-Clause
/*
 * The condition parser: recursive descent over cond_lex.c's tokens (docs/conditions.md).
 * A syntax error stops the parse of that condition (what follows would be guesswork); type and
 * name errors are all reported.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "engine/cond_internal.h"

static const char *const func_names[] = { "burn", "mwu_p", NULL };

static int parse_or(struct parser *p);

static int lookup(struct parser *p, const char *name, int off, bool implicit)
{
	const struct fc_cond_env *e = p->env;
	const char *near;

	for (int i = 0; e->names && e->names[i]; i++)
		if (!strcmp(e->names[i], name))
			return i;
	if (implicit && e->implicit_quiet)
		return -1;
	near = e->names ? fc_closest(name, e->names) : NULL;
	cond_perr(p, off, "undefined metric '%s'%s%s%s%s", name, near ? " (did you mean '" : "",
		  near ?: "", near ? "'?)" : "", e->undefined_hint ?: "");
	return -1;
}

static int make_ref(struct parser *p, const char *name, int off, enum fc_scope scope, bool implicit)
{
	int i = cond_mk(p, FC_OP_REF, off, -1, -1);
	struct fc_cond_node *n;

	if (i < 0)
		return -1;
	n = NODE(p, i);
	n->scope = scope;
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->implicit = implicit;
	n->metric = lookup(p, name, off, implicit);
	n->type = n->metric >= 0 && p->env->types ? p->env->types[n->metric] : FC_VT_NUMBER;
	if (n->type == FC_VT_BOOL)
		n->type = FC_VT_NUMBER;
	if (scope == FC_SCOPE_BASELINE)
		p->c->uses_baseline = true;
	if (scope == FC_SCOPE_CONTROL) {
		p->c->uses_control = true;
		if (!p->env->have_control)
			cond_perr(p, off, "control.%s needs a control: cell", name);
		else if (n->metric >= 0 && p->env->control_key && p->env->control_key[n->metric])
			cond_perr(
			    p, off,
			    "control.%s: '%s' is a probe of the service, not of a cell, so "
			    "it has no control side (give it %s: to measure the control cell)",
			    name, name, p->env->control_key[n->metric]);
	}
	return i;
}

/* A time literal (over D, burn(W)) → scaled ns; -1 after reporting why not. */
static int64_t duration_arg(struct parser *p, const struct tok *t, const char *what)
{
	double scale = p->env->time_scale > 0 ? p->env->time_scale : 1;
	double ns;

	if (t->k != T_NUM || t->unit != FC_VT_TIME) {
		cond_perr(p, t->off, "%s needs a duration like 5m", what);
		return -1;
	}
	if (t->num <= 0) {
		cond_perr(p, t->off, "%s %.*s: must be longer than zero", what, t->len,
			  p->s + t->off);
		return -1;
	}
	if (t->num > FC_COND_MAX_SPAN) {
		cond_perr(p, t->off, "%s %.*s: longer than 24h, the most history kept", what,
			  t->len, p->s + t->off);
		return -1;
	}
	ns = t->num * scale * 1e9;
	if (p->env->window_ns && ns < p->env->window_ns) {
		cond_perr(p, t->off, "%s %.*s: shorter than one window", what, t->len,
			  p->s + t->off);
		return -1;
	}
	return (int64_t)(ns + 0.5);
}

static int parse_call(struct parser *p, int name_off, int name_len)
{
	char fn[32];
	int args[4], nargs = 0, i;
	struct tok argtok[4];
	const char *near;
	int64_t ns;

	snprintf(fn, sizeof(fn), "%.*s", name_len, p->s + name_off);
	cond_next(p); /* ( */
	if (p->t.k != T_RP) {
		for (;;) {
			if (nargs < 4)
				argtok[nargs] = p->t;
			i = parse_or(p);
			if (p->failed)
				return -1;
			if (nargs < 4)
				args[nargs] = i;
			nargs++;
			if (p->t.k != T_COMMA)
				break;
			cond_next(p);
		}
	}
	if (p->t.k != T_RP) {
		cond_syntax(p, "')' or ','");
		return -1;
	}
	cond_next(p);
	if (!strcmp(fn, "mwu_p")) {
		/* exactly this text: the contract names it */
		cond_perr_raw(p, name_off, "not yet available: mwu_p");
		return cond_mk(p, FC_OP_NUM, name_off, -1, -1);
	}
	if (strcmp(fn, "burn")) {
		near = fc_closest(fn, func_names);
		cond_perr(p, name_off, "unknown function '%s'%s%s%s", fn,
			  near ? " (did you mean '" : "", near ?: "", near ? "'?)" : "");
		return cond_mk(p, FC_OP_NUM, name_off, -1, -1);
	}
	i = cond_mk(p, FC_OP_BURN, name_off, -1, -1);
	if (i < 0)
		return -1;
	p->c->uses_burn = true;
	if (!p->env->have_slo)
		cond_perr(p, name_off, "burn() needs an slo: block (objective, errors, total)");
	if (nargs != 1 || NODE(p, args[0])->op != FC_OP_NUM) {
		cond_perr(p, name_off, "burn() takes one duration, like burn(1h)");
		return i;
	}
	ns = duration_arg(p, &argtok[0], "burn()");
	NODE(p, i)->off = argtok[0].off; /* the duration as written, for printing */
	NODE(p, i)->len = argtok[0].len;
	if (ns > 0) {
		NODE(p, i)->ns = ns;
		if ((uint64_t)ns > p->c->max_span_ns)
			p->c->max_span_ns = ns;
	}
	return i;
}

static int parse_atom(struct parser *p)
{
	struct tok t = p->t;
	char name[128];
	const char *dot;
	int i;

	switch (t.k) {
	case T_NUM:
		cond_next(p);
		i = cond_mk(p, FC_OP_NUM, t.off, -1, -1);
		if (i >= 0) {
			NODE(p, i)->num = t.num;
			NODE(p, i)->type = t.unit;
			NODE(p, i)->len = t.len;
		}
		return i;
	case T_LP:
		if (++p->depth > FC_COND_MAX_DEPTH) {
			cond_perr(p, t.off, "nested deeper than %d parentheses", FC_COND_MAX_DEPTH);
			p->failed = true;
			return -1;
		}
		cond_next(p);
		i = parse_or(p);
		p->depth--;
		if (p->failed)
			return -1;
		if (p->t.k != T_RP) {
			cond_syntax(p, "')'");
			return -1;
		}
		cond_next(p);
		return i;
	case T_NAME:
		cond_next(p);
		if (p->t.k == T_LP && !memchr(p->s + t.off, '.', t.len))
			return parse_call(p, t.off, t.len);
		if (t.len >= (int)sizeof(name)) {
			cond_perr(p, t.off, "name '%.20s...' is too long", p->s + t.off);
			return cond_mk(p, FC_OP_NUM, t.off, -1, -1);
		}
		snprintf(name, sizeof(name), "%.*s", t.len, p->s + t.off);
		dot = strchr(name, '.');
		if (!dot)
			return make_ref(p, name, t.off, FC_SCOPE_CELL, false);
		if (!strncmp(name, "baseline.", 9) && name[9] && !strchr(name + 9, '.'))
			return make_ref(p, name + 9, t.off, FC_SCOPE_BASELINE, false);
		if (!strncmp(name, "control.", 8) && name[8] && !strchr(name + 8, '.'))
			return make_ref(p, name + 8, t.off, FC_SCOPE_CONTROL, false);
		cond_perr(p, t.off, "'%s': only baseline.NAME and control.NAME may have a dot",
			  name);
		return cond_mk(p, FC_OP_NUM, t.off, -1, -1);
	case T_ERR:
		p->failed = true;
		return -1;
	default:
		cond_syntax(p, "a number, a metric or '('");
		return -1;
	}
}

static int parse_unary(struct parser *p)
{
	int off = p->t.off, a, i;

	if (p->t.k != T_MINUS)
		return parse_atom(p);
	cond_next(p);
	a = parse_atom(p);
	if (a < 0)
		return -1;
	i = cond_mk(p, FC_OP_NEG, off, a, -1);
	if (i >= 0) {
		NODE(p, i)->type = NODE(p, a)->type;
		if (NODE(p, a)->type == FC_VT_BOOL)
			cond_perr(p, off, "'-' needs a value, not a condition");
	}
	return i;
}

static int parse_binary(struct parser *p, int (*sub)(struct parser *), enum tok_kind k1,
			enum fc_cond_op op1, enum tok_kind k2, enum fc_cond_op op2)
{
	int a = sub(p), b, i, off;
	enum fc_cond_op op;

	while (a >= 0 && (p->t.k == k1 || p->t.k == k2)) {
		op = p->t.k == k1 ? op1 : op2;
		off = p->t.off;
		cond_next(p);
		b = sub(p);
		if (b < 0)
			return -1;
		i = cond_mk(p, op, off, a, b);
		if (i < 0)
			return -1;
		NODE(p, i)->type = cond_type_binary(p, op, off, a, b);
		a = i;
	}
	return a;
}

static int parse_prod(struct parser *p)
{
	return parse_binary(p, parse_unary, T_STAR, FC_OP_MUL, T_SLASH, FC_OP_DIV);
}

static int parse_sum(struct parser *p)
{
	return parse_binary(p, parse_prod, T_PLUS, FC_OP_ADD, T_MINUS, FC_OP_SUB);
}

static int parse_cmp(struct parser *p)
{
	int a, b, i, off;
	enum fc_cond_op op;

	if (p->ntok == 1 && p->t.k == T_CMP && p->env->implicit_lhs) {
		/* ">= 0.999 over 5m": the comparison applies to steady_state.metric */
		a = make_ref(p, p->env->implicit_lhs, p->t.off, FC_SCOPE_CELL, true);
	} else {
		a = parse_sum(p);
	}
	if (a < 0 || p->t.k != T_CMP)
		return a;
	op = p->t.cmp;
	off = p->t.off;
	cond_next(p);
	b = parse_sum(p);
	if (b < 0)
		return -1;
	if (p->t.k == T_CMP) {
		cond_perr(p, p->t.off, "comparisons do not chain: write a < b AND b < c");
		p->failed = true;
		return -1;
	}
	i = cond_mk(p, op, off, a, b);
	if (i >= 0)
		NODE(p, i)->type = cond_type_binary(p, op, off, a, b);
	return i;
}

static int parse_temporal(struct parser *p)
{
	int a = parse_cmp(p), i, off;
	struct tok t;
	int64_t ns;

	if (a < 0 || (p->t.k != T_OVER && p->t.k != T_FOR))
		return a;
	off = p->t.off;
	if (p->t.k == T_OVER) {
		cond_next(p);
		t = p->t;
		if (t.k != T_NUM) {
			cond_syntax(p, "a duration after 'over' (like 5m)");
			return -1;
		}
		cond_next(p);
		i = cond_mk(p, FC_OP_OVER, off, a, -1);
		if (i < 0)
			return -1;
		NODE(p, i)->type = FC_VT_BOOL;
		NODE(p, i)->len = t.len;
		NODE(p, i)->off = t.off; /* the duration, for printing */
		cond_want_bool(p, a, "'over'");
		ns = duration_arg(p, &t, "over");
		if (ns > 0) {
			NODE(p, i)->ns = ns;
			if ((uint64_t)ns > p->c->max_over_ns)
				p->c->max_over_ns = ns;
			if ((uint64_t)ns > p->c->max_span_ns)
				p->c->max_span_ns = ns;
		}
		return i;
	}
	cond_next(p);
	t = p->t;
	if (t.k != T_NUM) {
		cond_syntax(p, "a number of windows after 'for' (like 'for 3 windows')");
		return -1;
	}
	cond_next(p);
	if (p->t.k != T_WINDOWS) {
		cond_syntax(p, "'windows'");
		return -1;
	}
	cond_next(p);
	i = cond_mk(p, FC_OP_FOR, off, a, -1);
	if (i < 0)
		return -1;
	NODE(p, i)->type = FC_VT_BOOL;
	cond_want_bool(p, a, "'for'");
	if (t.has_unit || t.num != floor(t.num) || t.num < 1 || t.num > FC_COND_MAX_WINDOWS)
		cond_perr(p, t.off, "for %.*s windows: give a whole number from 1 to %d", t.len,
			  p->s + t.off, FC_COND_MAX_WINDOWS);
	else
		NODE(p, i)->nwin = (int)t.num;
	return i;
}

static int parse_not(struct parser *p)
{
	int off = p->t.off, a, i;

	if (p->t.k != T_NOT)
		return parse_temporal(p);
	cond_next(p);
	a = parse_temporal(p);
	if (a < 0)
		return -1;
	i = cond_mk(p, FC_OP_NOT, off, a, -1);
	if (i >= 0) {
		NODE(p, i)->type = FC_VT_BOOL;
		cond_want_bool(p, a, "NOT");
	}
	return i;
}

static int parse_logic(struct parser *p, int (*sub)(struct parser *), enum tok_kind k,
		       enum fc_cond_op op, const char *word)
{
	int a = sub(p), b, i, off;

	while (a >= 0 && p->t.k == k) {
		off = p->t.off;
		cond_next(p);
		b = sub(p);
		if (b < 0)
			return -1;
		i = cond_mk(p, op, off, a, b);
		if (i < 0)
			return -1;
		NODE(p, i)->type = FC_VT_BOOL;
		cond_want_bool(p, a, word);
		cond_want_bool(p, b, word);
		a = i;
	}
	return a;
}

static int parse_and(struct parser *p)
{
	return parse_logic(p, parse_not, T_AND, FC_OP_AND, "AND");
}

static int parse_or(struct parser *p)
{
	return parse_logic(p, parse_and, T_OR, FC_OP_OR, "OR");
}

int fc_cond_parse(const char *text, const struct fc_cond_env *env, struct fc_diags *d,
		  struct fc_cond **out)
{
	struct parser p = { .s = text, .env = env, .d = d };
	size_t len = strlen(text);
	int root;

	*out = NULL;
	if (len > FC_COND_MAX_TEXT) {
		cond_perr(&p, 0, "condition longer than %d bytes", FC_COND_MAX_TEXT);
		return -EINVAL;
	}
	p.c = calloc(1, sizeof(*p.c));
	if (!p.c)
		return -ENOMEM;
	p.c->text = strdup(text);
	if (!p.c->text) {
		free(p.c);
		return -ENOMEM;
	}
	cond_next(&p);
	if (p.t.k == T_END) {
		cond_perr(&p, 0, "empty condition");
		goto fail;
	}
	root = parse_or(&p);
	if (p.failed || root < 0)
		goto fail;
	if (p.t.k != T_END) {
		if (p.t.k != T_ERR)
			cond_perr(&p, p.t.off, "unexpected '%.*s' after the condition", p.t.len,
				  text + p.t.off);
		goto fail;
	}
	if (p.c->nodes[root].type != FC_VT_BOOL)
		cond_perr(&p, cond_leftmost(p.c, root),
			  "this is %s, not a condition: compare it (like x > 1)",
			  fc_vtype_name(p.c->nodes[root].type));
	if (!p.errors && cond_cost(&p, root, 1) > FC_COND_MAX_COST)
		cond_perr(&p, 0,
			  "too much work per window (about %.3g steps; nested 'for' multiply, "
			  "long 'over' spans add; the limit is %g)",
			  cond_cost(&p, root, 1), (double)FC_COND_MAX_COST);
	if (p.errors)
		goto fail;
	p.c->root = root;
	*out = p.c;
	return 0;
fail:
	fc_cond_free(p.c);
	return -EINVAL;
}

void fc_cond_free(struct fc_cond *c)
{
	if (!c)
		return;
	free(c->text);
	free(c);
}
