// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "engine/journal.h"

const char *fc_journal_default_dir(void)
{
	const char *d = getenv("FAULTCELL_JOURNAL_DIR");

	return d && *d ? d : "/var/lib/faultcell/journal";
}

int fc_journal_open(struct fc_journal *j, const char *dir, const char *run_id)
{
	int err;

	memset(j, 0, sizeof(*j));
	err = fc_mkdir_p(dir, 0750);
	if (err)
		return err;
	snprintf(j->path, sizeof(j->path), "%s/%s.jsonl", dir, run_id);
	j->f = fopen(j->path, "wxe");
	return j->f ? 0 : -errno;
}

int fc_journal_append(struct fc_journal *j, const char *path)
{
	memset(j, 0, sizeof(*j));
	snprintf(j->path, sizeof(j->path), "%s", path);
	j->f = fopen(path, "ae");
	return j->f ? 0 : -errno;
}

void fc_journal_close(struct fc_journal *j)
{
	if (j->f)
		fclose(j->f);
	j->f = NULL;
}

void fc_jescape(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void key(struct fc_journal *j, const char *k)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	if (k) {
		fc_jescape(j->f, k);
		fputc(':', j->f);
	}
}

void fc_jbegin(struct fc_journal *j, const char *type)
{
	if (!j->f)
		return;
	j->depth = 0;
	j->first[0] = true;
	fputc('{', j->f);
	fc_jstr(j, "type", type);
	fc_jint(j, "wall_ms", (long long)(fc_wall_ns() / 1000000));
}

void fc_jend(struct fc_journal *j)
{
	if (!j->f)
		return;
	fputs("}\n", j->f);
	fflush(j->f);
	/* on disk before the run goes on: a kill now still leaves this line */
	fsync(fileno(j->f));
}

static void open_nested(struct fc_journal *j, const char *k, char c)
{
	if (!j->f || j->depth >= 7)
		return;
	key(j, k);
	fputc(c, j->f);
	j->first[++j->depth] = true;
}

void fc_jobj(struct fc_journal *j, const char *k)
{
	open_nested(j, k, '{');
}

void fc_jarr(struct fc_journal *j, const char *k)
{
	open_nested(j, k, '[');
}

void fc_jclose(struct fc_journal *j, char bracket)
{
	if (!j->f || !j->depth)
		return;
	fputc(bracket, j->f);
	j->depth--;
}

void fc_jstr(struct fc_journal *j, const char *k, const char *v)
{
	if (!j->f)
		return;
	key(j, k);
	if (v)
		fc_jescape(j->f, v);
	else
		fputs("null", j->f);
}

void fc_jnum(struct fc_journal *j, const char *k, double v)
{
	if (!j->f)
		return;
	key(j, k);
	if (isnan(v) || isinf(v))
		fputs("null", j->f);
	else
		fprintf(j->f, "%.9g", v);
}

void fc_jint(struct fc_journal *j, const char *k, long long v)
{
	if (!j->f)
		return;
	key(j, k);
	fprintf(j->f, "%lld", v);
}

void fc_jbool(struct fc_journal *j, const char *k, bool v)
{
	if (!j->f)
		return;
	key(j, k);
	fputs(v ? "true" : "false", j->f);
}
