// SPDX-License-Identifier: BSD-2-Clause
/* Around the window loop: preflight, the objects, rollback, the verdict and on_abort. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "engine/run_internal.h"
#include "metrics/tracer.h"

static const char *const exit_words[] = {
	"hypothesis held",	"hypothesis disproved",	    "invalid input",
	"refused by preflight", "kernel lacks a mechanism", "aborted by the operator",
	"rollback incomplete",	"internal error",
};

static int resolve(const struct fc_cellref *ref, struct fc_cell *out, const char *what)
{
	char spec[600], why[512];

	fc_cellref_spec(ref, spec, sizeof(spec));
	if (fc_cell_resolve(spec, out, why, sizeof(why))) {
		pr_warn("cannot run: the %s: %s", what, why);
		return FC_EXIT_REFUSED;
	}
	return 0;
}

static int confirm(struct run *r)
{
	char line[512];

	if (r->o->yes)
		return 0;
	if (!r->o->interactive) {
		pr_warn("refusing a supervised run without a terminal: pass --yes for an "
			"unattended run (a timer, CI)");
		return FC_EXIT_REFUSED;
	}
	printf("\nAbout to inject into cell %s. Type the cell's name (%s) to start: ", r->cell.rel,
	       strrchr(r->cell.rel, '/') + 1);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return FC_EXIT_OPERATOR;
	line[strcspn(line, "\n")] = 0;
	if (strcmp(line, strrchr(r->cell.rel, '/') + 1) && strcmp(line, r->cell.rel)) {
		pr_warn("not started: '%s' is not the cell's name", line);
		return FC_EXIT_OPERATOR;
	}
	return 0;
}

static int start_tracer(struct run *r)
{
	struct fc_metric_req reqs[FC_EXP_MAX_METRICS];
	struct fc_tracer_opts to = { .sz = sizeof(to), .core = &r->mcore, .reqs = reqs };
	char why[512], mrun[FC_RUN_ID_LEN];
	int n = 0, err;

	for (int m = 0; m < r->e->nmetrics; m++) {
		const struct fc_metric *mt = &r->e->metrics[m];

		if (mt->source != FC_MSRC_BPF)
			continue;
		reqs[n].kind = mt->kind;
		reqs[n].key = NULL;
		for (int k = 0; k < mt->nparams; k++) {
			if (!strcmp(mt->params[k].key, "min_samples"))
				to.min_samples = strtoull(mt->params[k].val, NULL, 10);
			else
				reqs[n].key = mt->params[k].val;
		}
		n++;
	}
	if (!n)
		return 0;
	to.nreqs = n;
	snprintf(mrun, sizeof(mrun), "%.30s.m", r->s.run_id);
	err = fc_core_open(&r->mcore, mrun, 0);
	err = err ?: fc_core_add_cell(&r->mcore, &r->cell);
	if (!err && r->has_control)
		err = fc_core_add_cell(&r->mcore, &r->control);
	if (err) {
		pr_warn("cannot set up the metrics: %s", strerror(-err));
		return FC_EXIT_INTERNAL;
	}
	r->tracer = fc_tracer__new(&to, why, sizeof(why));
	if (!r->tracer) {
		pr_warn("cannot set up the metrics: %s", why);
		return FC_EXIT_USAGE;
	}
	err = fc_tracer__load(r->tracer);
	err = err ?: fc_tracer__attach(r->tracer);
	if (err) {
		pr_warn("cannot load the metric programs: %s", fc_tracer__error(r->tracer));
		return err == -EOPNOTSUPP ? FC_EXIT_KERNEL : FC_EXIT_INTERNAL;
	}
	if (r->o->metrics_listen || r->o->textfile) {
		static const char *names[2];

		names[0] = r->cell.rel;
		names[1] = r->has_control ? r->control.rel : "";
		if (fc_export_open(&r->exp, r->o->metrics_listen, r->o->textfile, NULL, 0, names,
				   why, sizeof(why))) {
			pr_warn("cannot export metrics: %s", why);
			return FC_EXIT_USAGE;
		}
		r->export_open = true;
	}
	return 0;
}

/* Where burn(W) comes from, once the server's first answer settled it. */
void fc_run_journal_burn(struct run *r)
{
	fc_jbegin(&r->j, "burn_source");
	fc_jstr(&r->j, "source", r->burn_mode == FC_BURN_PROMETHEUS ? "prometheus" : "windows");
	fc_jstr(&r->j, "why", r->burn_why);
	fc_jend(&r->j);
}

static void journal_start(struct run *r)
{
	struct fc_experiment *e = r->e;
	struct utsname u;
	char host[256] = "";

	uname(&u);
	gethostname(host, sizeof(host) - 1);
	fc_jbegin(&r->j, "start");
	fc_jstr(&r->j, "run", r->s.run_id);
	fc_jstr(&r->j, "experiment", e->path);
	fc_jstr(&r->j, "title", e->title);
	fc_jstr(&r->j, "hypothesis", e->hypothesis);
	fc_jstr(&r->j, "host", host);
	fc_jstr(&r->j, "kernel", u.release);
	fc_jstr(&r->j, "cell", r->cell.rel);
	fc_jstr(&r->j, "control", r->has_control ? r->control.rel : NULL);
	fc_jobj(&r->j, "labels");
	for (int i = 0; i < e->nlabels; i++)
		fc_jstr(&r->j, e->labels[i].key, e->labels[i].val);
	fc_jclose(&r->j, '}');
	fc_jstr(&r->j, "blast_radius", e->blast.scope);
	fc_jstr(&r->j, "steady_state", e->steady.expected);
	fc_jstr(&r->j, "steady_state_metric", e->steady.metric);
	fc_jnum(&r->j, "window_s", e->window.ns / 1e9);
	fc_jnum(&r->j, "baseline_s", e->baseline.ns / 1e9);
	fc_jnum(&r->j, "duration_s", e->duration.ns / 1e9);
	fc_jnum(&r->j, "recovery_s", e->recovery.ns / 1e9);
	fc_jnum(&r->j, "max_gap_s", e->max_gap.ns / 1e9);
	fc_jarr(&r->j, "abort_when");
	for (int q = 0; q < e->nrules; q++) {
		char buf[1024];

		fc_jobj(&r->j, NULL);
		fc_jstr(&r->j, "name", e->rules[q].name);
		fc_cond_format(e->rules[q].cond, buf, sizeof(buf));
		fc_jstr(&r->j, "rule", buf);
		fc_jint(&r->j, "windows", e->rules[q].nwin);
		fc_jclose(&r->j, '}');
	}
	fc_jclose(&r->j, ']');
	fc_jarr(&r->j, "faults");
	for (int i = 0; i < r->s.nfaults; i++) {
		char desc[768];

		r->s.faults[i]->ops->describe(r->s.faults[i]->cfg, desc, sizeof(desc));
		fc_jobj(&r->j, NULL);
		fc_jstr(&r->j, "type", r->s.faults[i]->ops->type);
		fc_jstr(&r->j, "what", desc);
		fc_jclose(&r->j, '}');
	}
	fc_jclose(&r->j, ']');
	fc_jarr(&r->j, "defaults");
	for (int i = 0; i < e->ndefaults; i++) {
		fc_jobj(&r->j, NULL);
		fc_jstr(&r->j, "what", e->defaults[i].what);
		fc_jstr(&r->j, "value", e->defaults[i].value);
		fc_jstr(&r->j, "why", e->defaults[i].why);
		fc_jclose(&r->j, '}');
	}
	fc_jclose(&r->j, ']');
	fc_jarr(&r->j, "deviations");
	for (int i = 0; i < e->ndeviations; i++) {
		fc_jobj(&r->j, NULL);
		fc_jstr(&r->j, "what", e->deviations[i].what);
		fc_jstr(&r->j, "value", e->deviations[i].value);
		fc_jstr(&r->j, "why", e->deviations[i].why);
		fc_jclose(&r->j, '}');
	}
	fc_jclose(&r->j, ']');
	fc_jstr(&r->j, "auto_rollback", e->auto_rollback);
	fc_jstr(&r->j, "schedule", e->schedule);
	fc_jstr(&r->j, "learning_record", e->learning_record);
	fc_jend(&r->j);
}

int fc_run_prepare(struct run *r)
{
	struct fc_experiment *e = r->e;
	struct fc_session_opts so = {};
	char why[512], jdir[PATH_MAX];
	int rc, cap;

	if ((rc = resolve(&e->cell, &r->cell, "cell")))
		return rc;
	if (e->control.kind != FC_CELLREF_NONE) {
		if ((rc = resolve(&e->control, &r->control, "control cell")))
			return rc;
		r->has_control = true;
	}
	if (!r->o->force && fc_cell_guard(&r->cell, why, sizeof(why))) {
		pr_warn("refusing to run against %s: %s (pass --force if you mean it)", r->cell.rel,
			why);
		return FC_EXIT_REFUSED;
	}
	if (!access(fc_freeze_path(), F_OK)) {
		pr_warn("refusing to run: experiments are frozen since an abort asked for it (%s); "
			"review the journal, then remove that file",
			fc_freeze_path());
		return FC_EXIT_REFUSED;
	}
	if ((rc = confirm(r)))
		return rc;
	cap = (e->baseline.ns + e->duration.ns + e->recovery.ns) / e->window.ns + 16;
	if (fc_run_alloc_series(r, cap))
		return FC_EXIT_INTERNAL;
	/* the guard's deadline covers the whole run; the faults' own starts at inject */
	so.cell = &r->cell;
	so.netns = r->o->netns;
	so.duration_ns = e->baseline.ns + e->duration.ns + 2 * e->max_gap.ns;
	so.max_gap_ns = e->max_gap.ns;
	so.self_exe = r->o->self_exe;
	snprintf(jdir, sizeof(jdir), "%s", r->o->journal_dir ?: fc_journal_default_dir());
	/* the journal's name needs the run id, which begin makes: open it right after */
	r->began = true;
	rc = fc_session_begin(&r->s, &so);
	if (rc) {
		pr_warn("cannot run: %s", r->s.why);
		return rc;
	}
	if (fc_journal_open(&r->j, jdir, r->s.run_id)) {
		pr_warn("cannot write the journal in %s: %s (give --journal DIR)", jdir,
			strerror(errno));
		return FC_EXIT_REFUSED;
	}
	/* recorded, so `recover` appends to this journal */
	snprintf(r->s.st.journal, sizeof(r->s.st.journal), "%s", r->j.path);
	dprintf(r->s.st.fd, "journal %s\n", r->j.path);
	fsync(r->s.st.fd);
	for (int i = 0; i < e->nfaults; i++) {
		struct fc_diags d = {};
		struct fc_fault *f;

		if (fc_fault_new(&e->faults[i].spec, &r->s.core, &d, &f)) {
			fc_diags_print(&d, stderr);
			return FC_EXIT_USAGE;
		}
		rc = fc_session_add(&r->s, f);
		if (rc) {
			pr_warn("cannot run: %s", r->s.why);
			return rc;
		}
		r->s.start_ns[r->s.nfaults - 1] = e->faults[i].start.ns;
	}
	if ((rc = start_tracer(r)))
		return rc;
	journal_start(r);
	printf("run %s: %s\n  cell %s%s%s\n  journal %s\n", r->s.run_id, e->title, r->cell.rel,
	       r->has_control ? ", control " : "", r->has_control ? r->control.rel : "", r->j.path);
	fflush(stdout);
	r->next_window_ns = fc_now_ns() + e->window.ns;
	return 0;
}

void fc_run_journal_faults(struct run *r, const char *key)
{
	struct fc_fault_counters c;

	fc_jarr(&r->j, key);
	for (int i = 0; i < r->s.nfaults; i++) {
		struct fc_fault *f = r->s.faults[i];

		if (!f || !f->priv || f->ops->counters(f, &c))
			continue;
		fc_jobj(&r->j, NULL);
		fc_jstr(&r->j, "type", f->ops->type);
		fc_jstr(&r->j, "mechanism", f->mechanism);
		fc_jbool(&r->j, "armed", r->s.attached[i]);
		if (r->s.start_ns[i])
			fc_jnum(&r->j, "start_s", r->s.start_ns[i] / 1e9);
		fc_jint(&r->j, "seen", c.seen);
		fc_jint(&r->j, "matched", c.matched);
		fc_jint(&r->j, "injected", c.injected);
		fc_jint(&r->j, "inert_disabled", c.inert[FC_INERT_DISABLED]);
		fc_jint(&r->j, "inert_deadline", c.inert[FC_INERT_DEADLINE]);
		fc_jint(&r->j, "inert_heartbeat", c.inert[FC_INERT_HEARTBEAT]);
		if (c.first_hit_ns && c.first_hit_ns >= r->s.armed_at_ns)
			fc_jnum(&r->j, "arm_to_first_hit_ms",
				(c.first_hit_ns - r->s.armed_at_ns) / 1e6);
		fc_jclose(&r->j, '}');
	}
	fc_jclose(&r->j, ']');
}

int fc_run_rollback(struct run *r, int why)
{
	struct fc_rollback_report *rb = &r->rb;
	struct fc_fault *kept[FC_SESSION_MAX_FAULTS];
	int rc, nkept;

	printf("rollback: %s\n", why ? r->reason : "duration reached");
	fc_session_rollback(&r->s, rb);
	/* final counters while the objects are still open */
	fc_jbegin(&r->j, "rollback");
	fc_jstr(&r->j, "cause", why ? r->reason : "duration reached");
	fc_run_journal_faults(r, "faults");
	if (rb->first_inert_ns >= rb->disabled_at_ns && rb->first_inert_ns)
		fc_jnum(&r->j, "abort_to_inert_us",
			(rb->first_inert_ns - rb->disabled_at_ns) / 1e3);
	fc_jnum(&r->j, "abort_to_links_gone_ms", (rb->links_gone_ns - rb->disabled_at_ns) / 1e6);
	/* faults that killed hold nothing in the kernel: their restore is checked after this */
	nkept = fc_session_take_restorable(&r->s, kept, FC_SESSION_MAX_FAULTS);
	rc = fc_session_finish(&r->s, rb);
	fc_jbool(&r->j, "verified", !rc);
	fc_jstr(&r->j, "undone", rb->log);
	if (rc)
		fc_jstr(&r->j, "remaining", rb->left);
	fc_jend(&r->j);
	r->armed = false;
	/* the killed processes or pods must come back (restore command, recovery timeout) */
	for (int i = 0; i < nkept; i++) {
		char msg[1024];
		int err = kept[i]->ops->verify_restored(kept[i], 0, msg, sizeof(msg));

		if (err && !msg[0])
			snprintf(msg, sizeof(msg), "restore failed: %s", strerror(-err));
		fc_jbegin(&r->j, "restore");
		fc_jstr(&r->j, "fault", kept[i]->ops->type);
		fc_jbool(&r->j, "restored", !err);
		fc_jstr(&r->j, "detail", msg);
		fc_jend(&r->j);
		printf("%s: %s\n", kept[i]->ops->type, msg[0] ? msg : "restored");
		if (err) {
			r->restore_failed = true;
			snprintf(r->reason, sizeof(r->reason), "%s", msg);
		}
		fc_fault_free(kept[i]);
	}
	if (rc) {
		pr_warn("rollback incomplete: %s (a human is needed: 'faultcell status', then "
			"'faultcell recover')",
			rb->left);
		return FC_EXIT_ROLLBACK;
	}
	printf("rollback: verified, no fault of run %s remains (links gone %.1f ms after "
	       "disable)\n",
	       r->s.run_id, (rb->links_gone_ns - rb->disabled_at_ns) / 1e6);
	return 0;
}

/* on_abort: after the rollback, tell the human (the seed's "page"), optionally freeze. */
static void on_abort(struct run *r, int rc)
{
	struct fc_experiment *e = r->e;
	char code[16];
	int st = -1;
	pid_t p;

	if (e->on_abort.freeze) {
		int fd, err;

		err = fc_mkdir_p(getenv("FAULTCELL_STATE_DIR") ?: "/var/lib/faultcell", 0750);
		fd = err ? -1
			 : open(fc_freeze_path(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
		if (fd >= 0) {
			dprintf(fd, "run %s aborted: %s\njournal %s\n", r->s.run_id, r->reason,
				r->j.path);
			close(fd);
			printf("on_abort: experiments frozen (%s) until a human removes it\n",
			       fc_freeze_path());
		}
		fc_jbegin(&r->j, "freeze");
		fc_jstr(&r->j, "path", fc_freeze_path());
		fc_jbool(&r->j, "written", fd >= 0);
		fc_jend(&r->j);
	}
	if (!e->on_abort.argc)
		return;
	snprintf(code, sizeof(code), "%d", rc);
	fflush(NULL);
	p = fork();
	if (p == 0) {
		setenv("FAULTCELL_RUN", r->s.run_id, 1);
		setenv("FAULTCELL_REASON", r->reason, 1);
		setenv("FAULTCELL_JOURNAL", r->j.path, 1);
		setenv("FAULTCELL_EXIT", code, 1);
		execvp(e->on_abort.argv[0], (char *const *)e->on_abort.argv);
		_exit(127);
	}
	if (p > 0) {
		/* bounded: a hung pager must not hold the verdict forever */
		for (int i = 0; i < 3000 && waitpid(p, &st, WNOHANG) == 0; i++)
			usleep(10000);
		if (waitpid(p, &st, WNOHANG) == 0) {
			kill(p, SIGKILL);
			waitpid(p, &st, 0);
		}
	}
	fc_jbegin(&r->j, "notify");
	fc_jstr(&r->j, "command", e->on_abort.argv[0]);
	fc_jint(&r->j, "exit", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	fc_jend(&r->j);
	printf("on_abort: notified %s (exit %d)\n", e->on_abort.argv[0],
	       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int fc_run_finish(struct run *r, int rc)
{
	/* the machine rolled back on its own: page the human (an operator abort has one) */
	bool aborted = r->aborted || rc == FC_EXIT_INTERNAL;

	if (r->armed)
		rc = fc_run_rollback(r, rc) ?: rc;
	if (r->j.f) {
		if (aborted)
			on_abort(r, rc);
		fc_jbegin(&r->j, "end");
		fc_jint(&r->j, "exit", rc);
		fc_jstr(&r->j, "verdict", exit_words[rc]);
		fc_jstr(&r->j, "reason", r->reason[0] ? r->reason : NULL);
		fc_jint(&r->j, "windows", r->nw);
		/* for humans the next morning: left empty on purpose */
		fc_jobj(&r->j, "learning");
		fc_jstr(&r->j, "prompt", r->e->learning_record);
		fc_jstr(&r->j, "did_it_hold", "");
		fc_jstr(&r->j, "what_surprised_us", "");
		fc_jstr(&r->j, "what_we_fix", "");
		fc_jclose(&r->j, '}');
		fc_jend(&r->j);
		printf("verdict: %s%s%s (exit %d)\n  journal: %s (faultcell report %s)\n",
		       exit_words[rc], r->reason[0] ? ": " : "", r->reason, rc, r->j.path,
		       r->j.path);
	}
	return rc;
}

void fc_run_cleanup(struct run *r)
{
	for (int m = 0; m < r->e->nmetrics; m++) {
		fc_probe_close(&r->probes[m]);
		if (r->kprobe_on[m])
			fc_probe_close(&r->kprobes[m]);
	}
	if (r->export_open)
		fc_export_close(&r->exp);
	/* metric programs detach last (design.md §3): after the recovery window */
	fc_tracer__destroy(r->tracer);
	fc_core_close(&r->mcore);
	if (r->began) {
		/* nothing armed reaches here (rollback ran); a failed prepare may hold objects */
		if (r->s.nfaults || r->s.st.fd >= 0) {
			struct fc_rollback_report rb;

			fc_session_rollback(&r->s, &rb);
			fc_session_finish(&r->s, &rb);
		}
		fc_session_end(&r->s);
	}
	fc_journal_close(&r->j);
}
