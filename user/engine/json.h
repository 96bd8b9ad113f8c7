/* SPDX-License-Identifier: BSD-2-Clause */
/* A small JSON reader for our own journal lines (objects, arrays, strings, numbers, literals). */
#ifndef FC_JSON_H
#define FC_JSON_H

#include <stdbool.h>
#include <stddef.h>

enum fc_jt { FC_J_NULL, FC_J_BOOL, FC_J_NUM, FC_J_STR, FC_J_ARR, FC_J_OBJ };

struct fc_jv {
	enum fc_jt t;
	char *key; /* member name inside an object */
	char *s;   /* FC_J_STR */
	double n;  /* FC_J_NUM; FC_J_BOOL: 0/1 */
	int nkids;
	struct fc_jv *kids;
};

/* Parse one document; NULL on malformed input (a torn last line after a crash). */
struct fc_jv *fc_json_parse(const char *text);
void fc_json_free(struct fc_jv *v);
/* Member of an object, or NULL. */
const struct fc_jv *fc_jget(const struct fc_jv *o, const char *key);
const char *fc_jgets(const struct fc_jv *o, const char *key); /* string member or NULL */
double fc_jgetn(const struct fc_jv *o, const char *key, double dflt);

#endif
