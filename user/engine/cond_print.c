// SPDX-License-Identifier: BSD-2-Clause
/* Printing conditions: an S-expression for tests, infix words for plan and the journal. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine/cond.h"

struct out {
	char *buf;
	size_t len, pos;
};

static void __attribute__((format(printf, 2, 3))) put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->pos >= o->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos = o->pos + n < o->len ? o->pos + n : o->len;
}

static const char *op_text(enum fc_cond_op op)
{
	static const char *const t[] = {
		[FC_OP_NEG] = "-",   [FC_OP_ADD] = "+", [FC_OP_SUB] = "-",     [FC_OP_MUL] = "*",
		[FC_OP_DIV] = "/",   [FC_OP_LT] = "<",	[FC_OP_LE] = "<=",     [FC_OP_GT] = ">",
		[FC_OP_GE] = ">=",   [FC_OP_EQ] = "==", [FC_OP_NE] = "!=",     [FC_OP_NOT] = "NOT",
		[FC_OP_AND] = "AND", [FC_OP_OR] = "OR", [FC_OP_OVER] = "over", [FC_OP_FOR] = "for",
	};

	return op < sizeof(t) / sizeof(t[0]) && t[op] ? t[op] : "?";
}

static void ref_text(const struct fc_cond_node *n, struct out *o)
{
	put(o, "%s%s",
	    n->scope == FC_SCOPE_BASELINE  ? "baseline."
	    : n->scope == FC_SCOPE_CONTROL ? "control."
					   : "",
	    n->name);
}

static void token(const struct fc_cond *c, const struct fc_cond_node *n, struct out *o)
{
	put(o, "%.*s", n->len, c->text + n->off);
}

static void sexpr(const struct fc_cond *c, int i, struct out *o)
{
	const struct fc_cond_node *n = &c->nodes[i];

	switch (n->op) {
	case FC_OP_NUM:
		token(c, n, o);
		return;
	case FC_OP_REF:
		ref_text(n, o);
		return;
	case FC_OP_BURN:
		put(o, "(burn ");
		token(c, n, o);
		put(o, ")");
		return;
	case FC_OP_OVER:
		put(o, "(over ");
		token(c, n, o);
		put(o, " ");
		sexpr(c, n->a, o);
		put(o, ")");
		return;
	case FC_OP_FOR:
		put(o, "(for %d ", n->nwin);
		sexpr(c, n->a, o);
		put(o, ")");
		return;
	case FC_OP_NEG:
	case FC_OP_NOT:
		put(o, "(%s ", n->op == FC_OP_NOT ? "not" : "-");
		sexpr(c, n->a, o);
		put(o, ")");
		return;
	default:
		put(o, "(%s ",
		    n->op == FC_OP_AND	? "and"
		    : n->op == FC_OP_OR ? "or"
					: op_text(n->op));
		sexpr(c, n->a, o);
		put(o, " ");
		sexpr(c, n->b, o);
		put(o, ")");
	}
}

int fc_cond_sexpr(const struct fc_cond *c, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };

	if (!len)
		return 0;
	buf[0] = 0;
	sexpr(c, c->root, &o);
	return (int)o.pos;
}

/* Binding strength, as in the grammar: OR < AND < NOT < over/for < comparison < + < * < -x. */
static int prec(enum fc_cond_op op)
{
	switch (op) {
	case FC_OP_OR:
		return 1;
	case FC_OP_AND:
		return 2;
	case FC_OP_NOT:
		return 3;
	case FC_OP_OVER:
	case FC_OP_FOR:
		return 4;
	case FC_OP_LT:
	case FC_OP_LE:
	case FC_OP_GT:
	case FC_OP_GE:
	case FC_OP_EQ:
	case FC_OP_NE:
		return 5;
	case FC_OP_ADD:
	case FC_OP_SUB:
		return 6;
	case FC_OP_MUL:
	case FC_OP_DIV:
		return 7;
	case FC_OP_NEG:
		return 8;
	default:
		return 9;
	}
}

static void infix(const struct fc_cond *c, int i, struct out *o);

static void child(const struct fc_cond *c, int i, int min, struct out *o)
{
	bool paren = prec(c->nodes[i].op) < min;

	if (paren)
		put(o, "(");
	infix(c, i, o);
	if (paren)
		put(o, ")");
}

static void infix(const struct fc_cond *c, int i, struct out *o)
{
	const struct fc_cond_node *n = &c->nodes[i];
	int p = prec(n->op);

	switch (n->op) {
	case FC_OP_NUM:
		token(c, n, o);
		return;
	case FC_OP_REF:
		ref_text(n, o);
		return;
	case FC_OP_BURN:
		put(o, "burn(");
		token(c, n, o);
		put(o, ")");
		return;
	case FC_OP_NEG:
		put(o, "-");
		child(c, n->a, p, o);
		return;
	case FC_OP_NOT:
		put(o, "NOT ");
		child(c, n->a, p + 1, o);
		return;
	case FC_OP_OVER:
		child(c, n->a, 5, o);
		put(o, " over ");
		token(c, n, o);
		return;
	case FC_OP_FOR:
		/* parentheses always: "(a AND b) for 3 windows" reads unambiguously */
		put(o, "(");
		infix(c, n->a, o);
		put(o, ") for %d window%s%s", n->nwin, n->nwin == 1 ? "" : "s",
		    n->implicit ? " (default)" : "");
		return;
	default:
		/* left-associative: the right operand of - and / needs parentheses at equal rank */
		child(c, n->a, p, o);
		put(o, " %s ", op_text(n->op));
		child(c, n->b, p + (p >= 5), o);
	}
}

int fc_cond_format(const struct fc_cond *c, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };

	if (!len)
		return 0;
	buf[0] = 0;
	infix(c, c->root, &o);
	return (int)o.pos;
}
