// SPDX-License-Identifier: BSD-2-Clause
/* The YAML reader: libyaml events → struct fc_ynode tree, with the limits of exp_yaml.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "engine/exp_yaml.h"

struct anchor {
	char *name;
	struct fc_ynode *node;
};

struct reader {
	yaml_parser_t p;
	struct fc_yaml *y;
	struct fc_diags *d;
	const char *buf;
	size_t len;
	struct fc_ynode *stack[FC_YAML_MAX_DEPTH];
	struct fc_ynode *key[FC_YAML_MAX_DEPTH]; /* a mapping's key waiting for its value */
	int depth;
	struct anchor *anchors;
	int nanchors, capanchors;
	unsigned int aliased;
	int docs;
	bool stop; /* a limit or syntax error: no point reading further */
};

/* Line and column (1-based, in characters) of byte @off: what an editor shows. */
static void byte_pos(const char *buf, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

/* Byte offset of a libyaml mark (0-based line, column in characters). */
static size_t mark_byte(const char *buf, size_t len, const yaml_mark_t *m)
{
	size_t i = 0, line = 0, col = 0;

	while (i < len && line < m->line)
		if (buf[i++] == '\n')
			line++;
	while (i < len && col < m->column) {
		i++;
		while (i < len && ((unsigned char)buf[i] & 0xc0) == 0x80)
			i++;
		col++;
	}
	return i;
}

/* Length of the UTF-8 sequence at @s (at most @n bytes), 0 when invalid. */
static int utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	int len, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	/* overlong forms and surrogates are refused through the second byte's range */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if ((size_t)len > n)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* libyaml reads UTF-16 too and reports bad bytes by offset only: check UTF-8 first, exactly. */
static int check_bytes(const char *buf, size_t len, struct fc_diags *d)
{
	const unsigned char *s = (const unsigned char *)buf;
	int line, col, n;

	for (size_t i = 0; i < len; i += n) {
		if (!s[i]) {
			byte_pos(buf, i, &line, &col);
			fc_diag(d, line, col, "binary data (a NUL byte): not a YAML text file");
			return -EINVAL;
		}
		n = utf8_len(s + i, len - i);
		if (!n) {
			byte_pos(buf, i, &line, &col);
			fc_diag(d, line, col, "invalid UTF-8 (byte 0x%02x): the file must be UTF-8",
				s[i]);
			return -EINVAL;
		}
	}
	return 0;
}

static void yaml_error(struct reader *r)
{
	const yaml_parser_t *p = &r->p;
	int line = p->problem_mark.line + 1, col = p->problem_mark.column + 1;
	const char *problem = p->problem ?: "malformed";
	size_t off;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		fc_diag(r->d, 0, 0, "out of memory reading the YAML");
		return;
	case YAML_READER_ERROR:
		byte_pos(r->buf, p->problem_offset < r->len ? p->problem_offset : r->len, &line,
			 &col);
		fc_diag(r->d, line, col, "invalid YAML: %s", problem);
		return;
	default:
		break;
	}
	off = mark_byte(r->buf, r->len, &p->problem_mark);
	if ((off < r->len && r->buf[off] == '\t') || strstr(problem, "tab")) {
		fc_diag(r->d, line, col, "tab character: YAML indents with spaces only");
		return;
	}
	if (off < r->len && strchr(">|%@`", r->buf[off]) && strstr(problem, "cannot start"))
		fc_diag(
		    r->d, line, col,
		    "invalid YAML: a value cannot start with '%c' unless quoted (like expected: "
		    "\">= 0.999\")",
		    r->buf[off]);
	else if (p->context)
		fc_diag(r->d, line, col, "invalid YAML: %s %s (line %d)", problem, p->context,
			(int)p->context_mark.line + 1);
	else
		fc_diag(r->d, line, col, "invalid YAML: %s", problem);
}

static void limit(struct reader *r, const yaml_mark_t *m, const char *fmt, long v)
{
	fc_diag(r->d, m->line + 1, m->column + 1, fmt, v);
	r->stop = true;
}

static struct fc_ynode *new_node(struct reader *r, enum fc_ykind kind, const yaml_mark_t *m)
{
	struct fc_ynode *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->kind = kind;
	n->line = m->line + 1;
	n->col = m->column + 1;
	n->weight = 1;
	n->next_alloc = r->y->all;
	r->y->all = n;
	return n;
}

static int push_child(struct fc_ynode *parent, struct fc_ynode *k, struct fc_ynode *v)
{
	if (parent->n == parent->cap) {
		int cap = parent->cap ? parent->cap * 2 : 4;
		struct fc_ynode **nk = NULL, **nv;

		nv = realloc(parent->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		parent->v = nv;
		if (parent->kind == FC_Y_MAP) {
			nk = realloc(parent->k, cap * sizeof(*nk));
			if (!nk)
				return -ENOMEM;
			parent->k = nk;
		}
		parent->cap = cap;
	}
	if (parent->kind == FC_Y_MAP)
		parent->k[parent->n] = k;
	parent->v[parent->n++] = v;
	return 0;
}

/* Attach a finished node (or an alias's target) where the open collection expects it. */
static int attach(struct reader *r, struct fc_ynode *n, const yaml_mark_t *m)
{
	struct fc_ynode *parent;
	int i;

	if (!r->depth) {
		r->y->root = n;
		return 0;
	}
	parent = r->stack[r->depth - 1];
	if (parent->kind == FC_Y_SEQ)
		return push_child(parent, NULL, n);
	if (!r->key[r->depth - 1]) {
		if (n->kind != FC_Y_SCALAR) {
			fc_diag(r->d, n->line, n->col, "a mapping key must be a plain name, not %s",
				fc_ykind_name(n));
			r->stop = true;
			return -EINVAL;
		}
		if (!strcmp(n->s, "<<")) {
			fc_diag(r->d, n->line, n->col,
				"merge keys (<<) are not supported: write the keys out");
			r->stop = true;
			return -EINVAL;
		}
		if (parent->n >= FC_YAML_MAX_KEYS) {
			limit(r, m, "more than %ld keys in one mapping", FC_YAML_MAX_KEYS);
			return -EINVAL;
		}
		for (i = 0; i < parent->n; i++)
			if (!strcmp(parent->k[i]->s, n->s))
				fc_diag(r->d, n->line, n->col,
					"duplicate key '%s' (first at line %d)", n->s,
					parent->k[i]->line);
		r->key[r->depth - 1] = n;
		return 0;
	}
	i = push_child(parent, r->key[r->depth - 1], n);
	r->key[r->depth - 1] = NULL;
	return i;
}

static int add_anchor(struct reader *r, const yaml_char_t *name, struct fc_ynode *n)
{
	struct anchor *a;

	if (!name)
		return 0;
	for (int i = 0; i < r->nanchors; i++) {
		if (!strcmp(r->anchors[i].name, (const char *)name)) {
			r->anchors[i].node = n; /* YAML lets a later anchor take the name over */
			return 0;
		}
	}
	if (r->nanchors == r->capanchors) {
		int cap = r->capanchors ? r->capanchors * 2 : 8;

		a = realloc(r->anchors, cap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		r->anchors = a;
		r->capanchors = cap;
	}
	a = &r->anchors[r->nanchors];
	a->name = strdup((const char *)name);
	if (!a->name)
		return -ENOMEM;
	a->node = n;
	r->nanchors++;
	return 0;
}

/* Core-schema tags only; a local tag would mean something we do not implement. */
static int check_tag(struct reader *r, const yaml_char_t *tag, const yaml_mark_t *m, bool *str)
{
	static const char *const ok[] = { "str", "int", "float", "bool", "null", "map", "seq" };
	const char *t = (const char *)tag;

	if (!t)
		return 0;
	if (!strncmp(t, "tag:yaml.org,2002:", 18)) {
		for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
			if (!strcmp(t + 18, ok[i])) {
				*str = !strcmp(ok[i], "str");
				return 0;
			}
		}
	}
	fc_diag(r->d, m->line + 1, m->column + 1, "unsupported YAML tag '%s'", t);
	return -EINVAL;
}

static int on_scalar(struct reader *r, yaml_event_t *e)
{
	const yaml_mark_t *s = &e->start_mark, *end = &e->end_mark;
	struct fc_ynode *n;
	bool str = false;
	size_t chars = 0;

	if (e->data.scalar.length > FC_YAML_MAX_SCALAR) {
		limit(r, s, "a value longer than %ld bytes (the limit for one scalar)",
		      FC_YAML_MAX_SCALAR);
		return -EINVAL;
	}
	check_tag(r, e->data.scalar.tag, s, &str);
	n = new_node(r, FC_Y_SCALAR, s);
	if (!n)
		return -ENOMEM;
	n->s = malloc(e->data.scalar.length + 1);
	if (!n->s)
		return -ENOMEM;
	memcpy(n->s, e->data.scalar.value, e->data.scalar.length);
	n->s[e->data.scalar.length] = 0;
	/* a scalar "a\0b" would be cut at the NUL: refuse rather than read something else */
	n->len = strlen(n->s);
	if (n->len != e->data.scalar.length) {
		fc_diag(r->d, n->line, n->col, "a NUL character inside a string");
		r->stop = true;
	}
	n->plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !str;
	n->vcol = n->col;
	if (e->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
	    e->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
		n->vcol++;
	for (size_t i = 0; i < n->len; i++)
		chars += ((unsigned char)n->s[i] & 0xc0) != 0x80;
	/* exact columns: one line, and as many characters as the source span (no escapes) */
	n->exact = (e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ||
		    e->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
		    e->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE) &&
		   s->line == end->line &&
		   (size_t)(end->column - s->column) ==
		       chars + 2 * (e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE);
	n->done = true;
	if (add_anchor(r, e->data.scalar.anchor, n))
		return -ENOMEM;
	return attach(r, n, s);
}

static int on_start(struct reader *r, yaml_event_t *e, enum fc_ykind kind)
{
	const yaml_char_t *anchor, *tag;
	struct fc_ynode *n;
	bool str = false;

	if (r->depth >= FC_YAML_MAX_DEPTH) {
		limit(r, &e->start_mark, "nested deeper than %ld levels", FC_YAML_MAX_DEPTH);
		return -EINVAL;
	}
	if (kind == FC_Y_MAP) {
		anchor = e->data.mapping_start.anchor;
		tag = e->data.mapping_start.tag;
	} else {
		anchor = e->data.sequence_start.anchor;
		tag = e->data.sequence_start.tag;
	}
	check_tag(r, tag, &e->start_mark, &str);
	n = new_node(r, kind, &e->start_mark);
	if (!n || add_anchor(r, anchor, n))
		return -ENOMEM;
	r->key[r->depth] = NULL;
	r->stack[r->depth++] = n;
	return 0;
}

static int on_end(struct reader *r, yaml_event_t *e)
{
	struct fc_ynode *n = r->stack[--r->depth];
	unsigned long w = 1;

	for (int i = 0; i < n->n; i++)
		w += n->v[i]->weight + (n->k ? n->k[i]->weight : 0);
	if (w > FC_YAML_MAX_NODES) {
		limit(r, &e->start_mark, "more than %ld nodes (aliases expanded)",
		      FC_YAML_MAX_NODES);
		return -EINVAL;
	}
	n->weight = w;
	n->done = true;
	return attach(r, n, &e->start_mark);
}

static int on_alias(struct reader *r, yaml_event_t *e)
{
	const char *name = (const char *)e->data.alias.anchor;
	const yaml_mark_t *m = &e->start_mark;
	struct fc_ynode *n = NULL;

	for (int i = 0; i < r->nanchors; i++)
		if (!strcmp(r->anchors[i].name, name))
			n = r->anchors[i].node;
	if (!n) {
		fc_diag(r->d, m->line + 1, m->column + 1, "undefined alias '*%s'", name);
		r->stop = true;
		return -EINVAL;
	}
	if (!n->done) {
		fc_diag(r->d, m->line + 1, m->column + 1,
			"alias '*%s' refers to a node that contains it", name);
		r->stop = true;
		return -EINVAL;
	}
	/* billion laughs: count what every use would expand to, not what is stored */
	r->aliased += n->weight;
	if (r->aliased > FC_YAML_MAX_ALIASED) {
		limit(r, m, "aliases expand to more than %ld nodes (an alias bomb?)",
		      FC_YAML_MAX_ALIASED);
		return -EINVAL;
	}
	return attach(r, n, m);
}

static int handle(struct reader *r, yaml_event_t *e)
{
	switch (e->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++r->docs > 1) {
			limit(r, &e->start_mark, "more than one YAML document (found document %ld)",
			      r->docs);
			return -EINVAL;
		}
		return 0;
	case YAML_SCALAR_EVENT:
		return on_scalar(r, e);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(r, e, FC_Y_SEQ);
	case YAML_MAPPING_START_EVENT:
		return on_start(r, e, FC_Y_MAP);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(r, e);
	case YAML_ALIAS_EVENT:
		return on_alias(r, e);
	default:
		return 0;
	}
}

int fc_yaml_parse(const char *buf, size_t len, struct fc_yaml *y, struct fc_diags *d)
{
	struct reader r = { .y = y, .d = d, .buf = buf, .len = len };
	int n0 = d->n, err = 0;
	yaml_event_t e;
	bool end = false;

	memset(y, 0, sizeof(*y));
	if (len > FC_YAML_MAX_BYTES) {
		fc_diag(d, 0, 0, "file larger than %d bytes", FC_YAML_MAX_BYTES);
		return -EINVAL;
	}
	if (check_bytes(buf, len, d))
		return -EINVAL;
	if (!yaml_parser_initialize(&r.p))
		return -ENOMEM;
	yaml_parser_set_input_string(&r.p, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&r.p, YAML_UTF8_ENCODING);
	while (!end && !r.stop) {
		if (!yaml_parser_parse(&r.p, &e)) {
			yaml_error(&r);
			r.stop = true;
			break;
		}
		end = e.type == YAML_STREAM_END_EVENT;
		err = handle(&r, &e);
		yaml_event_delete(&e);
		if (err == -ENOMEM)
			break;
	}
	yaml_parser_delete(&r.p);
	for (int i = 0; i < r.nanchors; i++)
		free(r.anchors[i].name);
	free(r.anchors);
	if (err == -ENOMEM) {
		fc_yaml_free(y);
		return -ENOMEM;
	}
	/* duplicate keys leave a readable tree: the schema goes on and reports the rest */
	if (r.stop || (d->n > n0 && !y->root))
		return -EINVAL;
	return 0;
}

int fc_yaml_load(const char *path, struct fc_yaml *y, struct fc_diags *d)
{
	size_t cap = FC_YAML_MAX_BYTES + 1, len = 0;
	struct stat st;
	ssize_t n;
	char *buf;
	int fd, err;

	memset(y, 0, sizeof(*y));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return -EISDIR;
	}
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	/* read one byte past the limit, so a larger file (or a pipe) is told apart */
	while (len < cap && (n = read(fd, buf + len, cap - len)) > 0)
		len += n;
	err = n < 0 ? -errno : 0;
	close(fd);
	if (!err)
		err = fc_yaml_parse(buf, len, y, d);
	free(buf);
	return err;
}

void fc_yaml_free(struct fc_yaml *y)
{
	struct fc_ynode *n = y->all, *next;

	for (; n; n = next) {
		next = n->next_alloc;
		free(n->s);
		free(n->k);
		free(n->v);
		free(n);
	}
	memset(y, 0, sizeof(*y));
}

const char *fc_ykind_name(const struct fc_ynode *n)
{
	if (!n)
		return "nothing";
	switch (n->kind) {
	case FC_Y_MAP:
		return "a mapping";
	case FC_Y_SEQ:
		return "a list";
	default:
		return fc_y_null(n) ? "nothing (null)" : "a scalar";
	}
}

bool fc_y_null(const struct fc_ynode *n)
{
	if (!n)
		return true;
	if (n->kind != FC_Y_SCALAR || !n->plain)
		return false;
	return !n->len || !strcmp(n->s, "~") || !strcmp(n->s, "null") || !strcmp(n->s, "Null") ||
	       !strcmp(n->s, "NULL");
}

struct fc_ynode *fc_y_get(const struct fc_ynode *map, const char *key)
{
	if (!map || map->kind != FC_Y_MAP)
		return NULL;
	for (int i = 0; i < map->n; i++)
		if (!strcmp(map->k[i]->s, key))
			return map->v[i];
	return NULL;
}

void fc_y_check_keys(const struct fc_ynode *map, const char *const *known, const char *where,
		     struct fc_diags *d)
{
	const char *near;
	int i, j;

	if (!map || map->kind != FC_Y_MAP)
		return;
	for (i = 0; i < map->n; i++) {
		for (j = 0; known[j]; j++)
			if (!strcmp(map->k[i]->s, known[j]))
				break;
		if (known[j])
			continue;
		near = fc_closest(map->k[i]->s, known);
		if (near)
			fc_diag(d, map->k[i]->line, map->k[i]->col,
				"unknown key '%s' in %s (did you mean '%s'?)", map->k[i]->s, where,
				near);
		else
			fc_diag(d, map->k[i]->line, map->k[i]->col, "unknown key '%s' in %s",
				map->k[i]->s, where);
	}
}
