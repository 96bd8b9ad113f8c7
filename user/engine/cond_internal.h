/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared by the condition tokenizer, type checker and parser only (cond_*.c). */
#ifndef FC_COND_INTERNAL_H
#define FC_COND_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/cond.h"

enum tok_kind {
	T_END,
	T_NUM,
	T_NAME,
	T_LP,
	T_RP,
	T_COMMA,
	T_PLUS,
	T_MINUS,
	T_STAR,
	T_SLASH,
	T_CMP,
	T_AND,
	T_OR,
	T_NOT,
	T_OVER,
	T_FOR,
	T_WINDOWS,
	T_ERR,
};

struct tok {
	enum tok_kind k;
	int off, len;
	enum fc_cond_op cmp;
	double num;	    /* in base units */
	enum fc_vtype unit; /* NUMBER, TIME or RATIO */
	bool has_unit;
};

struct parser {
	const char *s;
	int pos, ntok;
	struct tok t;
	struct fc_cond *c;
	const struct fc_cond_env *env;
	struct fc_diags *d;
	int depth;
	bool failed; /* a syntax error: stop */
	int errors;
};

#define NODE(p, i) (&(p)->c->nodes[i])

/* cond_lex.c: the tokenizer and error reporting */
void cond_next(struct parser *p);
/* Report at byte @off of the text, mapped into the file when the columns are exact. */
void cond_perr(struct parser *p, int off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same without the "abort_when: " prefix, for messages whose text is fixed. */
void cond_perr_raw(struct parser *p, int off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cond_syntax(struct parser *p, const char *expected);

/* cond_type.c: nodes and the type checker */
int cond_mk(struct parser *p, enum fc_cond_op op, int off, int a, int b);
enum fc_vtype cond_type_binary(struct parser *p, enum fc_cond_op op, int off, int a, int b);
void cond_want_bool(struct parser *p, int i, const char *what);
double cond_cost(const struct parser *p, int i, double span);
int cond_leftmost(const struct fc_cond *c, int i);

#endif
