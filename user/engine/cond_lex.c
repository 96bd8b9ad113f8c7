// SPDX-License-Identifier: BSD-2-Clause
/* The condition tokenizer, and errors reported at their column (grammar: docs/conditions.md). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "engine/cond_internal.h"

static const struct {
	const char *name;
	double mult;
	enum fc_vtype type;
} units[] = {
	{ "ns", 1e-9, FC_VT_TIME }, { "us", 1e-6, FC_VT_TIME }, { "ms", 1e-3, FC_VT_TIME },
	{ "s", 1, FC_VT_TIME },	    { "m", 60, FC_VT_TIME },	{ "h", 3600, FC_VT_TIME },
	{ "%", 0.01, FC_VT_RATIO },
};
static const char *const unit_names[] = { "ns", "us", "ms", "s", "m", "h", "%", NULL };

const char *fc_vtype_name(enum fc_vtype t)
{
	switch (t) {
	case FC_VT_TIME:
		return "a time";
	case FC_VT_RATIO:
		return "a ratio";
	case FC_VT_COUNT:
		return "a count";
	case FC_VT_BOOL:
		return "a condition";
	default:
		return "a number";
	}
}

static void vreport(struct parser *p, int off, bool prefix, const char *fmt, va_list ap)
{
	const struct fc_cond_env *e = p->env;
	const char *what = prefix && e->what ? e->what : NULL;
	char msg[256];
	int ccol = 1;

	for (int i = 0; i < off && p->s[i]; i++)
		ccol += ((unsigned char)p->s[i] & 0xc0) != 0x80;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	p->errors++;
	if (e->exact || !e->line)
		fc_diag(p->d, e->line, e->exact ? e->col + ccol - 1 : ccol, "%s%s%s", what ?: "",
			what ? ": " : "", msg);
	else
		fc_diag(p->d, e->line, e->col, "%s%s%s (column %d of the condition)", what ?: "",
			what ? ": " : "", msg, ccol);
}

/* Report at byte @off of the text, mapped into the file when the columns are exact. */
void cond_perr(struct parser *p, int off, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(p, off, true, fmt, ap);
	va_end(ap);
}

/* The same without the "abort_when: " prefix, for messages whose text is fixed. */
void cond_perr_raw(struct parser *p, int off, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(p, off, false, fmt, ap);
	va_end(ap);
}

void cond_syntax(struct parser *p, const char *expected)
{
	if (p->failed)
		return;
	if (p->t.k == T_END)
		cond_perr(p, p->t.off, "expected %s at the end of the condition", expected);
	else
		cond_perr(p, p->t.off, "expected %s, got '%.*s'", expected, p->t.len,
			  p->s + p->t.off);
	p->failed = true;
}

static bool is_name(int ch, bool first)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
	       (!first && ((ch >= '0' && ch <= '9') || ch == '.'));
}

static void lex_number(struct parser *p, struct tok *t)
{
	const char *s = p->s;
	int i = p->pos, u;
	char num[64], unit[16];
	size_t n;

	while (s[i] >= '0' && s[i] <= '9')
		i++;
	if (s[i] == '.' && s[i + 1] >= '0' && s[i + 1] <= '9')
		for (i++; s[i] >= '0' && s[i] <= '9'; i++)
			;
	if ((s[i] == 'e' || s[i] == 'E') &&
	    ((s[i + 1] >= '0' && s[i + 1] <= '9') ||
	     ((s[i + 1] == '-' || s[i + 1] == '+') && s[i + 2] >= '0' && s[i + 2] <= '9')))
		for (i += 2; s[i] >= '0' && s[i] <= '9'; i++)
			;
	n = i - p->pos;
	u = i;
	while (is_name(s[i], true) || s[i] == '%')
		i++;
	t->len = i - t->off;
	p->pos = i;
	if (n >= sizeof(num) || (size_t)(i - u) >= sizeof(unit)) {
		cond_perr(p, t->off, "number '%.*s' is too long", t->len, s + t->off);
		t->k = T_ERR;
		return;
	}
	memcpy(num, s + t->off, n);
	num[n] = 0;
	memcpy(unit, s + u, i - u);
	unit[i - u] = 0;
	errno = 0;
	t->num = strtod(num, NULL);
	if (errno == ERANGE || !isfinite(t->num)) {
		cond_perr(p, t->off, "number '%s' is out of range", num);
		t->k = T_ERR;
		return;
	}
	t->unit = FC_VT_NUMBER;
	if (!unit[0])
		return;
	for (size_t k = 0; k < ARRAY_SIZE(units); k++) {
		if (strcmp(unit, units[k].name))
			continue;
		t->num *= units[k].mult;
		t->unit = units[k].type;
		t->has_unit = true;
		return;
	}
	{
		const char *near = fc_closest(unit, unit_names);

		cond_perr(p, u, "unknown unit '%s' (units: ns, us, ms, s, m, h, %%)%s%s%s", unit,
			  near ? "; did you mean '" : "", near ?: "", near ? "'?" : "");
	}
	t->k = T_ERR;
}

void cond_next(struct parser *p)
{
	static const struct {
		const char *w;
		enum tok_kind k;
	} words[] = {
		{ "and", T_AND },	 { "or", T_OR },   { "not", T_NOT },
		{ "over", T_OVER },	 { "for", T_FOR }, { "windows", T_WINDOWS },
		{ "window", T_WINDOWS },
	};
	const char *s = p->s;
	struct tok *t = &p->t;
	int c;

	while (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' || s[p->pos] == '\r')
		p->pos++;
	memset(t, 0, sizeof(*t));
	t->off = p->pos;
	t->len = 1;
	p->ntok++;
	c = s[p->pos];
	if (!c) {
		t->k = T_END;
		t->len = 0;
		return;
	}
	if ((c >= '0' && c <= '9') || (c == '.' && s[p->pos + 1] >= '0' && s[p->pos + 1] <= '9')) {
		t->k = T_NUM;
		lex_number(p, t);
		return;
	}
	if (is_name(c, true)) {
		while (is_name(s[p->pos], false))
			p->pos++;
		t->len = p->pos - t->off;
		t->k = T_NAME;
		for (size_t i = 0; i < ARRAY_SIZE(words); i++)
			if ((size_t)t->len == strlen(words[i].w) &&
			    !strncasecmp(s + t->off, words[i].w, t->len))
				t->k = words[i].k;
		return;
	}
	p->pos++;
	switch (c) {
	case '(':
		t->k = T_LP;
		return;
	case ')':
		t->k = T_RP;
		return;
	case ',':
		t->k = T_COMMA;
		return;
	case '+':
		t->k = T_PLUS;
		return;
	case '-':
		t->k = T_MINUS;
		return;
	case '*':
		t->k = T_STAR;
		return;
	case '/':
		t->k = T_SLASH;
		return;
	case '<':
	case '>':
		t->k = T_CMP;
		t->cmp = c == '<' ? FC_OP_LT : FC_OP_GT;
		if (s[p->pos] == '=') {
			p->pos++;
			t->len = 2;
			t->cmp = c == '<' ? FC_OP_LE : FC_OP_GE;
		}
		return;
	case '=':
	case '!':
		if (s[p->pos] == '=') {
			p->pos++;
			t->len = 2;
			t->k = T_CMP;
			t->cmp = c == '=' ? FC_OP_EQ : FC_OP_NE;
			return;
		}
		cond_perr(p, t->off,
			  c == '=' ? "'=' is not a comparison (use ==)"
				   : "'!' is not an operator (use NOT or !=)");
		break;
	case '&':
	case '|':
		cond_perr(p, t->off, "'%c' is not an operator (use %s)", c,
			  c == '&' ? "AND" : "OR");
		break;
	default:
		if (c >= 0x20 && c < 0x7f)
			cond_perr(p, t->off, "unexpected character '%c'", c);
		else
			cond_perr(p, t->off, "unexpected character (byte 0x%02x)",
				  (unsigned char)c);
	}
	t->k = T_ERR;
}
