// SPDX-License-Identifier: BSD-2-Clause
/*
 * faultcell inject TYPE --cell CELL --duration D [fault options]: an ad-hoc fault, in the
 * foreground, with counters once a second. Ctrl-C/SIGTERM or `faultcell abort` roll back
 * (exit 5); the deadline ends it (exit 0).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/log.h"
#include "core/util.h"
#include "engine/session.h"

/* Friendly flags → spec keys; everything else goes through --set key=value. */
static const struct {
	const char *flag, *key;
} flag_keys[] = {
	{ "probability", "probability" },
	{ "count", "count" },
	{ "direction", "direction" },
	{ "model", "model" },
	{ "proto", "match.proto" },
	{ "ports", "match.ports" },
	{ "port", "match.ports" },
	{ "local-ports", "match.local_ports" },
	{ "cidrs", "match.cidrs" },
	{ "cidr", "match.cidrs" },
	{ "errno", "errno" },
	{ "devices", "devices" },
	{ "device", "devices" },
	{ "tc", "tc" },
	{ "signal", "signal" },
	{ "of", "of" },
	{ "select", "select" },
	{ "restore", "restore" },
	{ "recovery", "recovery" },
	{ "pause", "pause" },
	{ "delay", "delay" },
	{ "jitter", "jitter" },
	{ "distribution", "distribution" },
	{ "path", "path" },
	{ "operations", "operations" },
	{ "mechanism", "mechanism" },
	{ "function", "function" },
};

static void usage(FILE *f)
{
	const char *types[32];

	fc_fault_types(types, 32);
	fprintf(f, "Usage: faultcell inject TYPE --cell CELL --duration D [OPTIONS]\n"
		   "Inject one fault into a cell now, in the foreground, and roll it back at the\n"
		   "deadline, on Ctrl-C/SIGTERM, or on 'faultcell abort'. Counters once a second.\n"
		   "\nTypes:");
	for (int i = 0; types[i]; i++)
		fprintf(f, " %s", types[i]);
	fprintf(
	    f,
	    "\n\nOptions:\n"
	    "  --cell CELL          cgroup path (absolute or below the cgroup2 mount), pid:N,\n"
	    "                       or unit:NAME (where systemd runs)\n"
	    "  --pid N              the cell of process N\n"
	    "  --duration D         how long (e.g. 30s, 5m); over 1h needs --max-duration\n"
	    "  --max-duration D     allow durations up to D\n"
	    "  --netns PATH         attach tc in this network namespace (e.g. /run/netns/x)\n"
	    "  --probability P      0..1 or percent (12.5%%)\n"
	    "  --count N            at most N injections in total\n"
	    "  --direction D        in, out, both (network faults)\n"
	    "  --proto P --ports L --local-ports L --cidrs L --errno E --model M --devices L\n"
	    "  --count N|all --of M --select S --signal SIG --restore CMD --recovery D\n"
	    "                       process-kill and pod-kill ('inject TYPE --help': keys)\n"
	    "  --pause D            cell-pause: thaw after D (default: at the end)\n"
	    "  --delay D --jitter J --distribution uniform|normal\n"
	    "                       network-latency (EDT + sch_fq on --devices)\n"
	    "  --path PREFIX --operations open,read,write --mechanism M\n"
	    "                       file-error (--force: every path of the cell)\n"
	    "  --set KEY=VALUE      any fault key (see docs/faults.md), e.g. gilbert.p=0.01\n"
	    "  --interval D         counter line period (default 1s)\n"
	    "  --force              allow a cell holding PID 1 or faultcell's own ancestors\n"
	    "  --json               counter lines as JSON objects\n"
	    "Exit: 0 ran to its deadline, 1 a killed process/pod not restored in time, 2 bad\n"
	    "input, 3 refused (cell, guard, lock, root, of mismatch), 4 kernel lacks the\n"
	    "mechanism, 5 aborted, 6 rollback incomplete, 7 internal.\n"
	    "Examples:\n"
	    "  faultcell inject network-loss --cell payments.slice --probability 5%% "
	    "--duration 2m\n"
	    "  faultcell inject network-loss --cell /sys/fs/cgroup/cell3 --proto tcp --ports "
	    "5432 \\\n      --probability 30%% --direction both --duration 30s\n"
	    "  faultcell inject network-blackhole --pid 4242 --cidrs 10.1.0.0/16 --duration 1m\n"
	    "  faultcell inject connect-error --cell cell3 --errno ECONNREFUSED:3,ETIMEDOUT:1 \\\n"
	    "      --probability 10%% --ports 443 --duration 5m\n"
	    "  faultcell inject pod-kill --cell payments.slice --count 1 --of 3 \\\n"
	    "      --restore 'systemctl start payments.target' --recovery 1m --duration 2m\n"
	    "  faultcell inject cell-pause --cell cell3 --pause 5s --duration 30s\n"
	    "  faultcell inject network-latency --cell cell3 --delay 100ms --jitter 10ms \\\n"
	    "      --devices eth0 --duration 1m\n"
	    "  faultcell inject file-error --cell cell3 --path /var/lib/db --errno EIO \\\n"
	    "      --operations read,write --probability 1%% --duration 5m\n");
}

struct inject_opts {
	const char *cell, *netns;
	uint64_t duration_ns, max_duration_ns, interval_ns;
	bool force, json;
	struct fc_fault_spec spec;
};

static void print_counters(const struct fc_session *s, double t, bool json, bool final)
{
	struct fc_fault_counters c;

	for (int i = 0; i < s->nfaults; i++) {
		struct fc_fault *f = s->faults[i];

		if (!f->priv || f->ops->counters(f, &c))
			continue;
		if (json)
			printf("{\"t\":%.1f,\"fault\":\"%s\",\"final\":%s,\"seen\":%llu,"
			       "\"matched\":%llu,\"injected\":%llu,\"inert_disabled\":%llu,"
			       "\"inert_deadline\":%llu,\"inert_heartbeat\":%llu}\n",
			       t, f->ops->type, final ? "true" : "false",
			       (unsigned long long)c.seen, (unsigned long long)c.matched,
			       (unsigned long long)c.injected,
			       (unsigned long long)c.inert[FC_INERT_DISABLED],
			       (unsigned long long)c.inert[FC_INERT_DEADLINE],
			       (unsigned long long)c.inert[FC_INERT_HEARTBEAT]);
		else
			printf("%7.1fs  %-18s seen %-9llu matched %-9llu injected %-9llu "
			       "inert %llu/%llu/%llu\n",
			       t, f->ops->type, (unsigned long long)c.seen,
			       (unsigned long long)c.matched, (unsigned long long)c.injected,
			       (unsigned long long)c.inert[FC_INERT_DISABLED],
			       (unsigned long long)c.inert[FC_INERT_DEADLINE],
			       (unsigned long long)c.inert[FC_INERT_HEARTBEAT]);
	}
	fflush(stdout);
}

/* The restore command, then `of` back within the recovery timeout; frees the faults. */
static bool restore_verified(struct fc_fault **faults, int n)
{
	char msg[1024];
	bool ok = true;
	int err;

	for (int i = 0; i < n; i++) {
		err = faults[i]->ops->verify_restored(faults[i], 0, msg, sizeof(msg));
		if (err && !msg[0])
			snprintf(msg, sizeof(msg), "restore failed: cannot count the cell: %s",
				 strerror(-err));
		if (msg[0])
			printf("%s: %s\n", faults[i]->ops->type, msg);
		ok = ok && !err;
		fc_fault_free(faults[i]);
	}
	fflush(stdout);
	return ok;
}

static int parse_args(int argc, char **argv, struct inject_opts *o, struct fc_diags *d)
{
	static struct option opts[64];
	const struct fc_fault_ops *ops;
	int c, n = 0, idx, err = 0;
	bool help = false;
	char pidcell[32];

	static const struct option base[] = {
		{ "cell", 1, NULL, 'c' },     { "pid", 1, NULL, 'p' },
		{ "duration", 1, NULL, 'd' }, { "max-duration", 1, NULL, 'M' },
		{ "netns", 1, NULL, 'n' },    { "set", 1, NULL, 's' },
		{ "interval", 1, NULL, 'i' }, { "force", 0, NULL, 'F' },
		{ "json", 0, NULL, 'j' },     { "help", 0, NULL, 'h' },
		{ "verbose", 0, NULL, 'v' },
	};

	for (size_t i = 0; i < ARRAY_SIZE(base); i++)
		opts[n++] = base[i];
	for (size_t i = 0; i < ARRAY_SIZE(flag_keys); i++)
		opts[n++] = (struct option){ flag_keys[i].flag, 1, NULL, 1000 + (int)i };
	opts[n] = (struct option){};
	o->interval_ns = NSEC_PER_SEC;
	while ((c = getopt_long(argc, argv, "hv", opts, &idx)) != -1) {
		if (cli_common_opt(c))
			continue;
		if (c >= 1000) {
			if (fc_spec_set(&o->spec, flag_keys[c - 1000].key, optarg, 0, 0))
				fc_diag(d, 0, 0, "--%s: value too long", flag_keys[c - 1000].flag);
			continue;
		}
		switch (c) {
		case 'c':
			o->cell = optarg;
			break;
		case 'p':
			snprintf(pidcell, sizeof(pidcell), "pid:%.20s", optarg);
			o->cell = strdup(pidcell);
			break;
		case 'd':
		case 'M':
		case 'i': {
			uint64_t ns;

			if (fc_parse_duration(optarg, &ns) || !ns) {
				fc_diag(d, 0, 0,
					"--%s: '%s' is not a positive duration (e.g. 30s, 5m, 1h)",
					c == 'd'   ? "duration"
					: c == 'M' ? "max-duration"
						   : "interval",
					optarg);
				break;
			}
			*(c == 'd'   ? &o->duration_ns
			  : c == 'M' ? &o->max_duration_ns
				     : &o->interval_ns) = ns;
			break;
		}
		case 'n':
			o->netns = optarg;
			break;
		case 's': {
			char *eq = strchr(optarg, '=');

			if (!eq || eq == optarg) {
				fc_diag(d, 0, 0, "--set: '%s' is not KEY=VALUE", optarg);
				break;
			}
			*eq = 0;
			if (fc_spec_set(&o->spec, optarg, eq + 1, 0, 0))
				fc_diag(d, 0, 0, "--set %s: too many keys or too long", optarg);
			break;
		}
		case 'F':
			o->force = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			help = true;
			break;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (help) {
		usage(stdout);
		/* `inject TYPE --help`: that fault's own keys too */
		if (optind < argc && (ops = fc_fault_find(argv[optind])))
			printf(
			    "\n%s: %s\nKeys (--KEY where a flag exists, else --set KEY=VALUE):\n%s",
			    ops->type, ops->summary, ops->keys_help ?: "");
		return 1;
	}
	if (optind >= argc) {
		fc_diag(d, 0, 0, "inject: which fault? (see 'faultcell inject --help')");
		return -EINVAL;
	}
	if (optind + 1 < argc)
		fc_diag(d, 0, 0, "inject: unexpected argument '%s'", argv[optind + 1]);
	snprintf(o->spec.type, sizeof(o->spec.type), "%s", argv[optind]);
	if (!o->cell)
		fc_diag(d, 0, 0, "inject: --cell or --pid is required (which cgroup to fault)");
	if (!o->duration_ns)
		fc_diag(d, 0, 0, "inject: --duration is required (a fault never runs unbounded)");
	else if (o->duration_ns > (o->max_duration_ns ?: 3600 * NSEC_PER_SEC))
		fc_diag(d, 0, 0, "inject: --duration is over %s: pass --max-duration to allow it",
			o->max_duration_ns ? "--max-duration" : "1h");
	return err ?: (d->n ? -EINVAL : 0);
}

static int do_inject(int argc, char **argv)
{
	struct inject_opts o = {};
	struct fc_diags d = {};
	struct fc_session_opts so = {};
	struct fc_rollback_report rb;
	struct fc_session s = { .lock = -1,
				.st.fd = -1,
				.core.control_fd = -1,
				.core.events_fd = -1,
				.netns_saved = -1 };
	struct fc_fault *f = NULL;
	const struct fc_fault_ops *ops;
	struct fc_cell cell;
	char why[512], desc[768], dur[32];
	uint64_t start, next_print, now;
	int rc, err;
	struct fc_fault *kept[FC_SESSION_MAX_FAULTS];
	int nkept = 0;
	bool began = false;

	err = parse_args(argc, argv, &o, &d);
	if (err > 0)
		return FC_EXIT_OK;
	/* faults with a scope of their own (file-error's path) take --force as a key too */
	if (o.force && (ops = fc_fault_find(o.spec.type)))
		for (int i = 0; ops->keys && ops->keys[i]; i++)
			if (!strcmp(ops->keys[i], "force"))
				fc_spec_set(&o.spec, "force", "true", 0, 0);
	/* validate the fault before touching anything: bad input → exit 2, nothing attached */
	if (!err || o.spec.type[0]) {
		if (fc_fault_new(&o.spec, NULL, &d, &f) && !d.n)
			fc_diag(&d, 0, 0, "inject: invalid %s", o.spec.type);
	}
	if (d.n) {
		fc_diags_print(&d, stderr);
		fc_fault_free(f);
		return FC_EXIT_USAGE;
	}
	if ((rc = cli_require_root("inject a fault")))
		goto out_free;
	err = fc_cell_resolve(o.cell, &cell, why, sizeof(why));
	if (err) {
		pr_warn("cannot inject %s: %s", o.spec.type, why);
		rc = FC_EXIT_REFUSED;
		goto out_free;
	}
	if (!o.force && fc_cell_guard(&cell, why, sizeof(why))) {
		pr_warn("refusing to inject into %s: %s (pass --force if you mean it)", cell.rel,
			why);
		rc = FC_EXIT_REFUSED;
		goto out_free;
	}
	so.cell = &cell;
	so.netns = o.netns;
	so.duration_ns = o.duration_ns;
	/* max_gap = max(3 × the heartbeat period, 3 s): design.md §3 */
	so.max_gap_ns = 3 * o.interval_ns > 3 * NSEC_PER_SEC ? 3 * o.interval_ns : 3 * NSEC_PER_SEC;
	fc_install_exit_handlers();
	began = true;
	rc = fc_session_begin(&s, &so);
	if (rc)
		goto out_fail;
	rc = fc_session_add(&s, f);
	f = NULL; /* the session owns it now */
	if (rc)
		goto out_fail;
	rc = fc_session_arm(&s);
	if (rc)
		goto out_rollback;
	start = s.armed_at_ns;
	s.faults[0]->ops->describe(s.faults[0]->cfg, desc, sizeof(desc));
	fc_format_duration(o.duration_ns, dur, sizeof(dur));
	printf("inject: %s on cell %s for %s (run %s)\n  what: %s\n  how: %s\n"
	       "  Ctrl-C or 'faultcell abort' rolls back now\n",
	       s.faults[0]->ops->type, cell.rel, dur, s.run_id, desc, s.faults[0]->mechanism);
	fflush(stdout);
	next_print = start + o.interval_ns;
	/* one evaluation cycle = read the counters; the heartbeat follows a completed one */
	while (!fc_exiting) {
		usleep(50000);
		now = fc_now_ns();
		if (fc_now_coarse_ns() >= s.deadline_ns)
			break;
		if (now >= next_print) {
			print_counters(&s, (now - start) / 1e9, o.json, false);
			next_print += o.interval_ns;
		}
		for (int i = 0; i < s.nfaults; i++)
			if (s.faults[i]->ops->tick)
				s.faults[i]->ops->tick(s.faults[i], now);
		fc_session_heartbeat(&s);
	}
	rc = fc_exiting ? FC_EXIT_OPERATOR : FC_EXIT_OK;
out_rollback:
	fc_session_rollback(&s, &rb);
	now = fc_now_ns();
	print_counters(&s, (now - (s.armed_at_ns ?: now)) / 1e9, o.json, true);
	if (s.nfaults && s.armed_at_ns) {
		struct fc_fault_counters c;
		struct fc_fault *f0 = s.faults[0];

		/* P7: arming → the first packet or call the fault acted on (BPF clock) */
		if (f0->priv && !f0->ops->counters(f0, &c) && c.first_hit_ns >= s.armed_at_ns)
			printf("inject: first injection %.3f ms after arming\n",
			       (c.first_hit_ns - s.armed_at_ns) / 1e6);
	}
	nkept = fc_session_take_restorable(&s, kept, FC_SESSION_MAX_FAULTS);
	err = fc_session_finish(&s, &rb);
	if (rb.log[0])
		fputs(rb.log, stdout);
	if (err) {
		pr_warn("rollback incomplete: %s (a human is needed: 'faultcell status', then "
			"'faultcell recover')",
			rb.left);
		rc = FC_EXIT_ROLLBACK;
	} else {
		printf("rollback: verified, nothing of run %s remains (links gone %.2f ms after "
		       "disable%s)\n",
		       s.run_id, (rb.links_gone_ns - rb.disabled_at_ns) / 1e6,
		       rb.first_inert_ns ? "" : "; no traffic passed after it");
		if (rb.first_inert_ns && rb.first_inert_ns >= rb.disabled_at_ns)
			printf("rollback: first call passed untouched %.1f us after disable\n",
			       (rb.first_inert_ns - rb.disabled_at_ns) / 1e3);
	}
	if (rc == FC_EXIT_OPERATOR)
		printf("inject: aborted by the operator; rolled back\n");
	if (rc && rc != FC_EXIT_OPERATOR && rc != FC_EXIT_ROLLBACK)
		pr_warn("inject failed: %s", s.why);
	/* rollback verified but the cell is not whole again: the human must know (§7: 1) */
	if (!restore_verified(kept, nkept) && (rc == FC_EXIT_OK || rc == FC_EXIT_OPERATOR))
		rc = FC_EXIT_DISPROVED;
	fc_session_end(&s);
	return rc;
out_fail:
	pr_warn("cannot inject %s: %s", o.spec.type, s.why);
	if (began && s.st.fd >= 0)
		goto out_rollback;
	fc_session_end(&s);
out_free:
	fc_fault_free(f);
	return rc;
}

FC_COMMAND(inject, "inject one fault into a cell now, bounded by --duration", do_inject);
