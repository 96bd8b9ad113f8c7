// SPDX-License-Identifier: BSD-2-Clause
/*
 * tcp_connect_latency (with outcome), tcp_retransmits, tcp_resets: bpf/trace_tcp.bpf.c, tp_btf
 * programs attributed by the socket's cgroup.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics/family.h"
#include "trace_tcp.skel.h"

static const char *const connect_keys[] = { "ok", "failed", NULL };
static const char *const reset_keys[] = { "sent", "received", NULL };

/* The family argument (enum fc_tcp_slot) of fixed key @i of @k. */
static uint32_t tcp_arg(const struct fc_metric_kind *k, int i)
{
	switch (k->id) {
	case FC_M_TCP_CONNECT_LATENCY:
		return i ? FC_TCP_CONNECT_FAILED : FC_TCP_CONNECT_OK;
	case FC_M_TCP_RESETS:
		return i ? FC_TCP_RST_RECV : FC_TCP_RST_SENT;
	default:
		return FC_TCP_RETRANS;
	}
}

static int tcp_parse(struct fc_tracer *t, const struct fc_metric_kind *k, const char *key,
		     char *why, size_t len)
{
	char *dup, *tok, *save = NULL, near[128];
	size_t nk;
	int i;

	if (k->keys == FC_KEYS_NONE) {
		if (key && key[0]) {
			snprintf(why, len, "metric '%s' takes no key (got '%s')", k->name, key);
			return -EINVAL;
		}
		return fc_tracer_add_slot(t, k, "", tcp_arg(k, 0)) ? 0 : -E2BIG;
	}
	if (!key || !key[0]) {
		for (i = 0; k->fixed_keys[i]; i++)
			if (!fc_tracer_add_slot(t, k, k->fixed_keys[i], tcp_arg(k, i)))
				return -E2BIG;
		return 0;
	}
	dup = strdup(key);
	if (!dup)
		return -ENOMEM;
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; k->fixed_keys[i] && strcmp(k->fixed_keys[i], tok); i++)
			;
		if (!k->fixed_keys[i]) {
			for (nk = 0; k->fixed_keys[nk]; nk++)
				;
			fc_suggest(tok, k->fixed_keys, nk, 3, near, sizeof(near));
			snprintf(why, len, "metric '%s': unknown %s '%s' (one of: %s%s%s)", k->name,
				 k->key_label, tok, k->fixed_keys[0], nk > 1 ? ", " : "",
				 nk > 1 ? k->fixed_keys[1] : "");
			free(dup);
			return -EINVAL;
		}
		if (!fc_tracer_add_slot(t, k, tok, tcp_arg(k, i))) {
			free(dup);
			return -E2BIG;
		}
	}
	free(dup);
	return 0;
}

static int tcp_open(struct fc_family *f)
{
	struct trace_tcp_bpf *skel = trace_tcp_bpf__open();

	if (!skel)
		return -errno;
	f->skel = skel;
	f->obj = skel->obj;
	return 0;
}

/* Which program serves which fc_tcp_slot. */
static struct bpf_program *tcp_prog(struct trace_tcp_bpf *skel, uint32_t slot)
{
	switch (slot) {
	case FC_TCP_CONNECT_OK:
	case FC_TCP_CONNECT_FAILED:
		return skel->progs.fc_tcp_state;
	case FC_TCP_RETRANS:
		return skel->progs.fc_tcp_retrans;
	case FC_TCP_RST_SENT:
		return skel->progs.fc_tcp_rst_sent;
	default:
		return skel->progs.fc_tcp_rst_recv;
	}
}

static int tcp_configure(struct fc_family *f, struct fc_tslot *const *slots, int n)
{
	struct trace_tcp_bpf *skel = f->skel;
	struct bpf_program *p;
	int i;

	/* load only the programs an asked metric needs */
	bpf_object__for_each_program(p, skel->obj) bpf_program__set_autoload(p, false);
	for (i = 0; i < n; i++) {
		skel->rodata->fc_tcp_slot[slots[i]->arg] = slots[i]->hs;
		bpf_program__set_autoload(tcp_prog(skel, slots[i]->arg), true);
	}
	return 0;
}

static int tcp_load(struct fc_family *f)
{
	struct trace_tcp_bpf *skel = f->skel;
	int err = trace_tcp_bpf__load(skel);

	if (err)
		return err;
	f->gen = &skel->bss->fc_hist_gen;
	return 0;
}

static int tcp_attach(struct fc_family *f, struct fc_tslot *const *slots, int n)
{
	struct trace_tcp_bpf *skel = f->skel;
	struct bpf_program *p;

	(void)slots;
	(void)n;
	bpf_object__for_each_program(p, skel->obj)
	{
		if (!bpf_program__autoload(p))
			continue;
		f->links[f->nlinks] = bpf_program__attach(p);
		if (!f->links[f->nlinks])
			return -errno;
		f->nlinks++;
	}
	return 0;
}

static void tcp_destroy(struct fc_family *f)
{
	int i;

	for (i = 0; i < f->nlinks; i++)
		bpf_link__destroy(f->links[i]);
	f->nlinks = 0;
	trace_tcp_bpf__destroy(f->skel);
	f->skel = NULL;
	f->obj = NULL;
}

static int tcp_check(char *why, size_t len)
{
	struct trace_tcp_bpf *skel;
	int err;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(why, len, "tp_btf needs kernel BTF (/sys/kernel/btf/vmlinux is missing)");
		return -EOPNOTSUPP;
	}
	skel = trace_tcp_bpf__open_and_load();
	err = skel ? 0 : -errno;
	trace_tcp_bpf__destroy(skel);
	if (err)
		snprintf(why, len, "tp_btf inet_sock_set_state/tcp_retransmit_skb did not load: %s",
			 strerror(-err));
	return err ? -EOPNOTSUPP : 0;
}

static const struct fc_family_ops tcp_ops = {
	.name = "tcp",
	.parse = tcp_parse,
	.open = tcp_open,
	.configure = tcp_configure,
	.load = tcp_load,
	.attach = tcp_attach,
	.destroy = tcp_destroy,
	.check = tcp_check,
};

/* 1 µs (2^10 ns) .. 137 s: a connect is never faster than a microsecond. */
FC_METRIC_KIND(kind_tcp_connect) = {
	.name = "tcp_connect_latency",
	.id = FC_M_TCP_CONNECT_LATENCY,
	.unit = "ns",
	.summary =
	    "SYN_SENT to ESTABLISHED (ok) or to CLOSE (failed: refused, timed out), by outcome",
	.mechanism = "tp_btf inet_sock_set_state, by the socket's cgroup",
	.keys = FC_KEYS_FIXED,
	.key_label = "outcome",
	.fixed_keys = connect_keys,
	.lo_pow = 10,
	.npow = 27,
	.range = "1us-137s",
	.family = &tcp_ops,
};

FC_METRIC_KIND(kind_tcp_retransmits) = {
	.name = "tcp_retransmits",
	.id = FC_M_TCP_RETRANSMITS,
	.unit = "count",
	.summary = "TCP segments retransmitted by the cell's sockets (timer context included)",
	.mechanism = "tp_btf tcp_retransmit_skb, by the socket's cgroup",
	.keys = FC_KEYS_NONE,
	.key_label = "",
	.range = "count",
	.family = &tcp_ops,
};

FC_METRIC_KIND(kind_tcp_resets) = {
	.name = "tcp_resets",
	.id = FC_M_TCP_RESETS,
	.unit = "count",
	.summary = "TCP resets sent or received by the cell's sockets, by direction",
	.mechanism = "tp_btf tcp_send_reset/tcp_receive_reset, by the socket's cgroup",
	.keys = FC_KEYS_FIXED,
	.key_label = "direction",
	.fixed_keys = reset_keys,
	.range = "count",
	.family = &tcp_ops,
};
