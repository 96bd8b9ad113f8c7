// SPDX-License-Identifier: BSD-2-Clause
/* The YAML reader: positions, exact columns, aliases, and the limits libyaml does not have. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/exp_yaml.h"
#include "lib/test.h"

static int parse(const char *s, struct fc_yaml *y, struct fc_diags *d)
{
	memset(d, 0, sizeof(*d));
	return fc_yaml_parse(s, strlen(s), y, d);
}

FC_TEST(exp_yaml_positions, TIER_UNIT)
{
	static const char doc[] = "a: plain\n"
				  "b:\n"
				  "  c: \"quoted x\"\n"
				  "  d: 'it''s'\n"
				  "  e: \"esc\\tape\"\n"
				  "f: >-\n"
				  "  folded\n"
				  "  text\n"
				  "g: [1, ~, null, '']\n"
				  "h: !!str 12\n";
	struct fc_ynode *b, *n;
	struct fc_diags d;
	struct fc_yaml y;

	if (!ASSERT_OK(parse(doc, &y, &d), "parse"))
		return;
	n = fc_y_get(y.root, "a");
	ASSERT_TRUE(n && n->line == 1 && n->col == 4 && n->vcol == 4 && n->exact && n->plain,
		    "plain scalar");
	b = fc_y_get(y.root, "b");
	ASSERT_TRUE(b && b->kind == FC_Y_MAP && b->line == 3 && b->col == 3, "block mapping");
	ASSERT_TRUE(b && b->k[0]->line == 3 && b->k[0]->col == 3, "key position");
	n = fc_y_get(b, "c");
	ASSERT_TRUE(n && n->col == 6 && n->vcol == 7 && n->exact && !n->plain, "double-quoted");
	n = fc_y_get(b, "d");
	ASSERT_TRUE(n && !strcmp(n->s, "it's") && !n->exact, "'' escape: columns shift");
	n = fc_y_get(b, "e");
	ASSERT_TRUE(n && !n->exact, "backslash escape: columns shift");
	n = fc_y_get(y.root, "f");
	ASSERT_TRUE(n && !strcmp(n->s, "folded text") && !n->exact, "folded block");
	n = fc_y_get(y.root, "g");
	ASSERT_TRUE(n && n->kind == FC_Y_SEQ && n->n == 4, "flow list");
	if (n && n->n == 4) {
		ASSERT_FALSE(fc_y_null(n->v[0]), "1");
		ASSERT_TRUE(fc_y_null(n->v[1]) && fc_y_null(n->v[2]), "~ and null");
		ASSERT_FALSE(fc_y_null(n->v[3]), "'' is an empty string, not null");
	}
	n = fc_y_get(y.root, "h");
	ASSERT_TRUE(n && !n->plain, "!!str is a string");
	fc_yaml_free(&y);
}

FC_TEST(exp_yaml_aliases, TIER_UNIT)
{
	struct fc_diags d;
	struct fc_yaml y;
	char *s;
	size_t pos = 0;

	if (!ASSERT_OK(parse("a: &x { b: 1 }\nc: *x\n", &y, &d), "parse"))
		return;
	ASSERT_TRUE(fc_y_get(y.root, "a") == fc_y_get(y.root, "c"), "an alias shares the node");
	fc_yaml_free(&y);

	/* 1999 uses of a scalar fit; 2001 do not */
	s = malloc(20 * 2100);
	if (!ASSERT_OK_PTR(s, "alloc"))
		return;
	pos = sprintf(s, "a: &x 1\nl: [");
	for (int i = 0; i < 1999; i++)
		pos += sprintf(s + pos, "*x, ");
	sprintf(s + pos, "2]\n");
	ASSERT_OK(parse(s, &y, &d), "under the cap");
	fc_yaml_free(&y);
	pos = sprintf(s, "a: &x 1\nl: [");
	for (int i = 0; i < 2001; i++)
		pos += sprintf(s + pos, "*x, ");
	sprintf(s + pos, "2]\n");
	ASSERT_EQ(parse(s, &y, &d), -EINVAL, "over the cap");
	ASSERT_STRSTR(d.n ? d.d[0].msg : "", "an alias bomb", "message");
	fc_yaml_free(&y);
	free(s);
}

FC_TEST(exp_yaml_limits, TIER_UNIT)
{
	struct fc_diags d;
	struct fc_yaml y;
	char *s = malloc(64 * 1024);
	size_t pos = 0;

	if (!ASSERT_OK_PTR(s, "alloc"))
		return;
	/* duplicate keys: every one reported, parsing goes on */
	ASSERT_OK(parse("a: 1\nb: 2\na: 3\nb: 4\n", &y, &d), "duplicates: the tree is usable");
	ASSERT_EQ(d.n, 2, "both");
	ASSERT_TRUE(y.root && y.root->n == 4, "the document is still read");
	fc_yaml_free(&y);

	for (int i = 0; i < 513; i++)
		pos += sprintf(s + pos, "k%d: 1\n", i);
	ASSERT_EQ(parse(s, &y, &d), -EINVAL, "key cap");
	ASSERT_STRSTR(d.n ? d.d[0].msg : "", "more than 512 keys", "key cap message");
	fc_yaml_free(&y);

	ASSERT_EQ(parse("a: 1\n---\nb: 2\n", &y, &d), -EINVAL, "two documents");
	fc_yaml_free(&y);
	ASSERT_OK(parse("# nothing\n", &y, &d), "comments only");
	ASSERT_TRUE(y.root == NULL, "no document");
	fc_yaml_free(&y);
	ASSERT_OK(parse("a: !!binary aGk=\n", &y, &d), "a tag is reported, the tree stays");
	ASSERT_STRSTR(d.n ? d.d[0].msg : "", "unsupported YAML tag", "tag outside the core schema");
	fc_yaml_free(&y);
	/* a NUL byte inside: binary, at its position */
	memcpy(s, "a: 1\nb: x\0y\n", 12);
	memset(&d, 0, sizeof(d));
	ASSERT_EQ(fc_yaml_parse(s, 12, &y, &d), -EINVAL, "NUL");
	ASSERT_TRUE(d.n && d.d[0].line == 2 && d.d[0].col == 5, "NUL position");
	fc_yaml_free(&y);
	free(s);
}
