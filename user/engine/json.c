// SPDX-License-Identifier: BSD-2-Clause
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/json.h"

struct pr {
	const char *p;
	int depth;
};

static void ws(struct pr *r)
{
	while (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')
		r->p++;
}

static char *str(struct pr *r)
{
	size_t cap = 32, n = 0;
	char *out = malloc(cap);

	if (!out || *r->p != '"')
		goto bad;
	r->p++;
	while (*r->p && *r->p != '"') {
		char c = *r->p++;

		if (c == '\\') {
			c = *r->p++;
			switch (c) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case 'u': {
				unsigned v = strtoul(
				    (char[5]){ r->p[0], r->p[1], r->p[2], r->p[3], 0 }, NULL, 16);

				if (strlen(r->p) < 4)
					goto bad;
				r->p += 4;
				c = v < 0x80 ? (char)v
					     : '?'; /* we only write control chars this way */
				break;
			}
			case 0:
				goto bad;
			default:
				break;
			}
		}
		if (n + 2 > cap) {
			char *p = realloc(out, cap *= 2);

			if (!p)
				goto bad;
			out = p;
		}
		out[n++] = c;
	}
	if (*r->p != '"')
		goto bad;
	r->p++;
	out[n] = 0;
	return out;
bad:
	free(out);
	return NULL;
}

static bool value(struct pr *r, struct fc_jv *v);
static void free_kids(struct fc_jv *v);

static bool add_kid(struct fc_jv *v, struct fc_jv *kid)
{
	struct fc_jv *k = realloc(v->kids, (v->nkids + 1) * sizeof(*k));

	if (!k)
		return false;
	v->kids = k;
	v->kids[v->nkids++] = *kid;
	return true;
}

static bool container(struct pr *r, struct fc_jv *v, char close)
{
	if (++r->depth > 32)
		return false;
	r->p++;
	ws(r);
	if (*r->p == close) {
		r->p++;
		r->depth--;
		return true;
	}
	for (;;) {
		struct fc_jv kid = {};

		ws(r);
		if (close == '}') {
			kid.key = str(r);
			ws(r);
			if (!kid.key || *r->p++ != ':') {
				free(kid.key);
				return false;
			}
		}
		ws(r);
		if (!value(r, &kid) || !add_kid(v, &kid)) {
			free_kids(&kid);
			free(kid.key);
			free(kid.s);
			return false;
		}
		ws(r);
		if (*r->p == ',') {
			r->p++;
			continue;
		}
		if (*r->p++ != close)
			return false;
		r->depth--;
		return true;
	}
}

static bool value(struct pr *r, struct fc_jv *v)
{
	char *end;

	ws(r);
	switch (*r->p) {
	case '{':
		v->t = FC_J_OBJ;
		return container(r, v, '}');
	case '[':
		v->t = FC_J_ARR;
		return container(r, v, ']');
	case '"':
		v->t = FC_J_STR;
		return (v->s = str(r)) != NULL;
	case 't':
	case 'f':
		v->t = FC_J_BOOL;
		v->n = *r->p == 't';
		if (strncmp(r->p, v->n ? "true" : "false", v->n ? 4 : 5))
			return false;
		r->p += v->n ? 4 : 5;
		return true;
	case 'n':
		v->t = FC_J_NULL;
		if (strncmp(r->p, "null", 4))
			return false;
		r->p += 4;
		return true;
	default:
		v->t = FC_J_NUM;
		v->n = strtod(r->p, &end);
		if (end == r->p)
			return false;
		r->p = end;
		return true;
	}
}

static void free_kids(struct fc_jv *v)
{
	for (int i = 0; i < v->nkids; i++) {
		free_kids(&v->kids[i]);
		free(v->kids[i].key);
		free(v->kids[i].s);
	}
	free(v->kids);
	v->kids = NULL;
	v->nkids = 0;
}

void fc_json_free(struct fc_jv *v)
{
	if (!v)
		return;
	free_kids(v);
	free(v->s);
	free(v->key);
	free(v);
}

struct fc_jv *fc_json_parse(const char *text)
{
	struct fc_jv *v = calloc(1, sizeof(*v));
	struct pr r = { .p = text };

	if (!v)
		return NULL;
	if (!value(&r, v)) {
		fc_json_free(v);
		return NULL;
	}
	ws(&r);
	if (*r.p) {
		fc_json_free(v);
		return NULL;
	}
	return v;
}

const struct fc_jv *fc_jget(const struct fc_jv *o, const char *key)
{
	if (!o || o->t != FC_J_OBJ)
		return NULL;
	for (int i = 0; i < o->nkids; i++)
		if (!strcmp(o->kids[i].key, key))
			return &o->kids[i];
	return NULL;
}

const char *fc_jgets(const struct fc_jv *o, const char *key)
{
	const struct fc_jv *v = fc_jget(o, key);

	return v && v->t == FC_J_STR ? v->s : NULL;
}

double fc_jgetn(const struct fc_jv *o, const char *key, double dflt)
{
	const struct fc_jv *v = fc_jget(o, key);

	return v && (v->t == FC_J_NUM || v->t == FC_J_BOOL) ? v->n : dflt;
}
