/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The journal (design.md §3): one JSON object a line, appended and fsync'd as the run goes, so
 * a SIGKILL or an OOM kill still leaves the record up to that moment; `recover` appends what it
 * undid; `faultcell report` renders the final JSON and Markdown from these lines. Schema in
 * docs/journal.md.
 */
#ifndef FC_JOURNAL_H
#define FC_JOURNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

struct fc_journal {
	FILE *f;
	char path[PATH_MAX];
	int depth;
	bool first[8]; /* per nesting level: no comma before the next member */
};

/* $FAULTCELL_JOURNAL_DIR or /var/lib/faultcell/journal. */
const char *fc_journal_default_dir(void);
/* Create <dir>/<run_id>.jsonl. 0 or -errno. */
int fc_journal_open(struct fc_journal *j, const char *dir, const char *run_id);
/* Append to an existing journal (recover). */
int fc_journal_append(struct fc_journal *j, const char *path);
void fc_journal_close(struct fc_journal *j);

/* One record: begin(type) … members … end() (which flushes and fsyncs). */
void fc_jbegin(struct fc_journal *j, const char *type);
void fc_jend(struct fc_journal *j);
void fc_jobj(struct fc_journal *j, const char *key);		      /* "key":{ … fc_jclose */
void fc_jarr(struct fc_journal *j, const char *key);		      /* "key":[ … fc_jclose */
void fc_jclose(struct fc_journal *j, char bracket);		      /* '}' or ']' */
void fc_jstr(struct fc_journal *j, const char *key, const char *val); /* NULL → null */
void fc_jnum(struct fc_journal *j, const char *key, double v);	      /* NaN → null */
void fc_jint(struct fc_journal *j, const char *key, long long v);
void fc_jbool(struct fc_journal *j, const char *key, bool v);
/* A JSON string with escapes, to any stream. */
void fc_jescape(FILE *f, const char *s);

#endif
