// SPDX-License-Identifier: BSD-2-Clause
/*
 * Condition nodes and the type checker: units are checked when the file is validated, so a
 * time is never added to a ratio at run time (design.md §6).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "engine/cond_internal.h"

int cond_mk(struct parser *p, enum fc_cond_op op, int off, int a, int b)
{
	struct fc_cond *c = p->c;
	struct fc_cond_node *n;
	int col = 1;

	if (c->n >= FC_COND_MAX_NODES) {
		if (!p->failed)
			cond_perr(p, off, "condition too long (more than %d terms)",
				  FC_COND_MAX_NODES);
		p->failed = true;
		return -1;
	}
	for (int i = 0; i < off && p->s[i]; i++)
		col += ((unsigned char)p->s[i] & 0xc0) != 0x80;
	n = &c->nodes[c->n];
	memset(n, 0, sizeof(*n));
	n->op = op;
	n->a = a;
	n->b = b;
	n->off = off;
	n->col = col;
	n->metric = -1;
	return c->n++;
}

/* A number written without a unit: never silently seconds. */
static bool bare_literal(struct parser *p, int i)
{
	struct fc_cond_node *n = NODE(p, i);

	if (n->op == FC_OP_NEG)
		n = NODE(p, n->a);
	return n->op == FC_OP_NUM && n->type == FC_VT_NUMBER;
}

enum fc_vtype cond_type_binary(struct parser *p, enum fc_cond_op op, int off, int a, int b)
{
	enum fc_vtype ta = NODE(p, a)->type, tb = NODE(p, b)->type;
	static const char *const opname[] = {
		[FC_OP_ADD] = "+", [FC_OP_SUB] = "-", [FC_OP_MUL] = "*", [FC_OP_DIV] = "/",
		[FC_OP_LT] = "<",  [FC_OP_LE] = "<=", [FC_OP_GT] = ">",	 [FC_OP_GE] = ">=",
		[FC_OP_EQ] = "==", [FC_OP_NE] = "!=",
	};
	static const char *const verb[] = {
		[FC_OP_ADD] = "add",
		[FC_OP_SUB] = "subtract",
		[FC_OP_MUL] = "multiply",
		[FC_OP_DIV] = "divide",
	};
	bool cmp = op >= FC_OP_LT && op <= FC_OP_NE;

	if (ta == FC_VT_BOOL || tb == FC_VT_BOOL) {
		cond_perr(p, off, "'%s' needs values on both sides, not a condition", opname[op]);
		return cmp ? FC_VT_BOOL : FC_VT_NUMBER;
	}
	if (op == FC_OP_ADD || op == FC_OP_SUB || cmp) {
		if ((ta == FC_VT_TIME && bare_literal(p, b)) ||
		    (tb == FC_VT_TIME && bare_literal(p, a))) {
			cond_perr(
			    p, NODE(p, bare_literal(p, b) ? b : a)->off,
			    "a number without a unit next to a time: give it one (ms, s, ...)");
			return cmp ? FC_VT_BOOL : FC_VT_TIME;
		}
		if (ta == tb || tb == FC_VT_NUMBER || ta == FC_VT_NUMBER) {
			if (cmp)
				return FC_VT_BOOL;
			return ta == FC_VT_NUMBER ? tb : ta;
		}
		if (cmp)
			cond_perr(p, off, "cannot compare %s with %s", fc_vtype_name(ta),
				  fc_vtype_name(tb));
		else
			cond_perr(p, off, "cannot %s %s %s %s", verb[op], fc_vtype_name(tb),
				  op == FC_OP_ADD ? "to" : "from", fc_vtype_name(ta));
		return cmp ? FC_VT_BOOL : ta;
	}
	if (op == FC_OP_MUL) {
		if (ta == FC_VT_NUMBER || ta == FC_VT_RATIO)
			return tb == FC_VT_NUMBER ? ta : tb;
		if (tb == FC_VT_NUMBER || tb == FC_VT_RATIO)
			return ta;
	} else {
		if (tb == FC_VT_NUMBER || (tb == FC_VT_RATIO && ta != FC_VT_NUMBER))
			return ta;
		if (ta == tb)
			return FC_VT_RATIO; /* errors / total, p99 / baseline.p99 */
		if (tb == FC_VT_TIME && ta != FC_VT_RATIO)
			return FC_VT_NUMBER; /* a rate */
		if (ta == FC_VT_NUMBER)
			return FC_VT_NUMBER;
	}
	cond_perr(p, off, "cannot %s %s by %s", verb[op], fc_vtype_name(ta), fc_vtype_name(tb));
	return ta;
}

void cond_want_bool(struct parser *p, int i, const char *what)
{
	if (NODE(p, i)->type != FC_VT_BOOL)
		cond_perr(p, NODE(p, i)->off,
			  "%s needs a condition (a comparison like x > 1), not %s", what,
			  fc_vtype_name(NODE(p, i)->type));
}

/*
 * Work for one evaluation, in steps: nested `for` multiplies, `over` and burn() walk their
 * span. Bounded so a condition cannot stall the loop that refreshes the heartbeat.
 */
double cond_cost(const struct parser *p, int i, double span)
{
	const struct fc_cond_node *n = &p->c->nodes[i];
	double w = p->env->window_ns ? (double)p->env->window_ns : 1e9;

	switch (n->op) {
	case FC_OP_NUM:
		return 1;
	case FC_OP_REF:
		return span;
	case FC_OP_BURN:
		return 2 * (n->ns / w + 1);
	case FC_OP_OVER:
		return 1 + cond_cost(p, n->a, n->ns / w + 1);
	case FC_OP_FOR:
		return 1 + n->nwin * cond_cost(p, n->a, span);
	default:
		return 1 + (n->a >= 0 ? cond_cost(p, n->a, span) : 0) +
		       (n->b >= 0 ? cond_cost(p, n->b, span) : 0);
	}
}

/* Where an expression starts in the text (a binary node's offset is its operator's). */
int cond_leftmost(const struct fc_cond *c, int i)
{
	int off = c->nodes[i].off;

	while (c->nodes[i].a >= 0 && c->nodes[i].op != FC_OP_NEG && c->nodes[i].op != FC_OP_NOT) {
		i = c->nodes[i].a;
		if (c->nodes[i].off < off)
			off = c->nodes[i].off;
	}
	return off;
}
