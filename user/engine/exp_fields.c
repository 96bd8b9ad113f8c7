// SPDX-License-Identifier: BSD-2-Clause
/* Typed fields of the experiment schema: each says what it wanted and what it got. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "engine/exp_internal.h"

const char *exp_str(struct fc_experiment *e, const char *s)
{
	char *copy;

	if (e->nstrs == e->capstrs) {
		int cap = e->capstrs ? e->capstrs * 2 : 32;
		char **n = realloc(e->strs, cap * sizeof(*n));

		if (!n)
			return NULL;
		e->strs = n;
		e->capstrs = cap;
	}
	copy = strdup(s);
	if (copy)
		e->strs[e->nstrs++] = copy;
	return copy;
}

int exp_scalar(const struct fc_ynode *n, const char *what, struct fc_diags *d)
{
	if (n && n->kind == FC_Y_SCALAR && !fc_y_null(n))
		return 0;
	DIAG_AT(d, n, "%s: expected a value, got %s", what, fc_ykind_name(n));
	return -EINVAL;
}

int exp_map(const struct fc_ynode *n, const char *what, struct fc_diags *d)
{
	if (n && n->kind == FC_Y_MAP)
		return 0;
	DIAG_AT(d, n, "%s: expected a mapping (key: value), got %s", what, fc_ykind_name(n));
	return -EINVAL;
}

int exp_text(struct fc_experiment *e, const struct fc_ynode *n, const char *what,
	     struct fc_diags *d, const char **out)
{
	if (exp_scalar(n, what, d))
		return -EINVAL;
	*out = exp_str(e, n->s);
	return *out ? 0 : -ENOMEM;
}

int exp_copy(const struct fc_ynode *n, const char *what, struct fc_diags *d, char *buf, size_t len)
{
	if (exp_scalar(n, what, d))
		return -EINVAL;
	if (n->len >= len) {
		DIAG_AT(d, n, "%s: longer than %zu characters", what, len - 1);
		return -EINVAL;
	}
	memcpy(buf, n->s, n->len + 1);
	return 0;
}

/* Metric names appear in conditions, so they are identifiers and not keywords. */
int exp_name(const struct fc_ynode *n, const char *what, struct fc_diags *d, char *buf, size_t len)
{
	static const char *const reserved[] = { "and",	   "or",      "not",	"over",
						"for",	   "windows", "window", "baseline",
						"control", "burn",    "mwu_p",	NULL };
	const char *s;

	if (exp_copy(n, what, d, buf, len))
		return -EINVAL;
	s = buf;
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		goto bad;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
		      (*s >= '0' && *s <= '9')))
			goto bad;
	for (int i = 0; reserved[i]; i++) {
		if (!strcasecmp(buf, reserved[i])) {
			DIAG_AT(d, n, "%s: '%s' is a word of the condition language", what, buf);
			return -EINVAL;
		}
	}
	return 0;
bad:
	DIAG_AT(d, n, "%s: '%s' is not a name (letters, digits and _, not starting with a digit)",
		what, buf);
	return -EINVAL;
}

static int duration(const struct fc_ynode *n, const char *what, struct fc_diags *d,
		    struct fc_dur *out, double scale)
{
	double scaled;
	uint64_t ns;
	char *end;
	int err;

	if (exp_scalar(n, what, d))
		return -EINVAL;
	if (n->s[0] == '-') {
		DIAG_AT(d, n, "%s: %s is negative: give a positive duration", what, n->s);
		return -EINVAL;
	}
	err = fc_parse_duration(n->s, &ns);
	if (err == -ERANGE) {
		DIAG_AT(d, n, "%s: %s is too long (overflows 64-bit nanoseconds)", what, n->s);
		return -EINVAL;
	}
	if (err) {
		strtod(n->s, &end);
		if (end != n->s && !*end)
			DIAG_AT(d, n, "%s: %s has no unit (write it like 30s or 5m)", what, n->s);
		else
			DIAG_AT(d, n,
				"%s: '%s' is not a duration (a number with ns, us, ms, s, m or h)",
				what, n->s);
		return -EINVAL;
	}
	if (!ns) {
		DIAG_AT(d, n, "%s: %s must be longer than zero", what, n->s);
		return -EINVAL;
	}
	scaled = (double)ns * scale;
	if (scaled >= 1.8e19) {
		DIAG_AT(d, n, "%s: %s x %g is too long", what, n->s, scale);
		return -EINVAL;
	}
	if (scaled < 1) {
		DIAG_AT(d, n, "%s: %s x %g rounds to zero", what, n->s, scale);
		return -EINVAL;
	}
	out->ns = (uint64_t)(scaled + 0.5);
	out->pos = (struct fc_pos){ n->line, n->col };
	out->given = true;
	return 0;
}

int exp_duration(struct fc_experiment *e, const struct fc_ynode *n, const char *what,
		 struct fc_diags *d, struct fc_dur *out)
{
	return duration(n, what, d, out, e->time_scale > 0 ? e->time_scale : 1);
}

/* Timeouts measure real programs, so --time-scale leaves them alone. */
int exp_duration_real(const struct fc_ynode *n, const char *what, struct fc_diags *d,
		      struct fc_dur *out)
{
	return duration(n, what, d, out, 1);
}

int exp_prob(const struct fc_ynode *n, const char *what, struct fc_diags *d, double *out)
{
	char *end;
	double v;

	if (exp_scalar(n, what, d))
		return -EINVAL;
	errno = 0;
	v = strtod(n->s, &end);
	if (end == n->s || errno || (*end && strcmp(end, "%")) || !isfinite(v)) {
		DIAG_AT(d, n,
			"%s: '%s' is not a probability (give 0..1 or a percentage like 12.5%%)",
			what, n->s);
		return -EINVAL;
	}
	if (*end == '%')
		v /= 100;
	if (v < 0 || v > 1) {
		DIAG_AT(d, n, "%s: %s is out of range (0%% to 100%%)", what, n->s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int exp_bool(const struct fc_ynode *n, const char *what, struct fc_diags *d, bool *out)
{
	if (exp_scalar(n, what, d))
		return -EINVAL;
	if (n->plain && (!strcmp(n->s, "true") || !strcmp(n->s, "True") || !strcmp(n->s, "TRUE"))) {
		*out = true;
		return 0;
	}
	if (n->plain &&
	    (!strcmp(n->s, "false") || !strcmp(n->s, "False") || !strcmp(n->s, "FALSE"))) {
		*out = false;
		return 0;
	}
	DIAG_AT(d, n, "%s: expected true or false, got '%s'", what, n->s);
	return -EINVAL;
}

int exp_argv(struct fc_experiment *e, const struct fc_ynode *n, const char *what,
	     struct fc_diags *d, const char **argv, int *argc)
{
	char buf[FC_YAML_MAX_SCALAR + 1], *save = NULL, *tok;

	*argc = 0;
	if (n && n->kind == FC_Y_SEQ) {
		if (!n->n || n->n >= FC_EXP_MAX_ARGV) {
			DIAG_AT(d, n, "%s: a command of 1 to %d words", what, FC_EXP_MAX_ARGV - 1);
			return -EINVAL;
		}
		for (int i = 0; i < n->n; i++) {
			if (exp_scalar(n->v[i], what, d))
				return -EINVAL;
			argv[(*argc)++] = exp_str(e, n->v[i]->s);
		}
		return 0;
	}
	if (exp_scalar(n, what, d))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", n->s);
	for (tok = strtok_r(buf, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
		if (*argc >= FC_EXP_MAX_ARGV - 1) {
			DIAG_AT(d, n, "%s: a command of 1 to %d words", what, FC_EXP_MAX_ARGV - 1);
			return -EINVAL;
		}
		argv[(*argc)++] = exp_str(e, tok);
	}
	if (!*argc) {
		DIAG_AT(d, n, "%s: empty command", what);
		return -EINVAL;
	}
	return 0;
}

void exp_note(struct fc_experiment *e, bool deviation, const char *what, const char *value,
	      const char *fmt, ...)
{
	int *n = deviation ? &e->ndeviations : &e->ndefaults;
	struct fc_exp_note *note;
	va_list ap;

	if (*n >= FC_EXP_MAX_NOTES)
		return;
	note = deviation ? &e->deviations[(*n)++] : &e->defaults[(*n)++];
	snprintf(note->what, sizeof(note->what), "%s", what);
	snprintf(note->value, sizeof(note->value), "%s", value);
	va_start(ap, fmt);
	vsnprintf(note->why, sizeof(note->why), fmt, ap);
	va_end(ap);
}
