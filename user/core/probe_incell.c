// SPDX-License-Identifier: BSD-2-Clause
/*
 * Programs triggered by a child inside the scratch cell: cgroup_skb, sock_addr +
 * bpf_set_retval, sk_msg and the TCP tracepoints the metrics use (over lo of the scratch
 * netns), lsm_cgroup, and the task-context cell match. Where a program acts, the child reports
 * what its call returned, and the mechanism counts only when that is exactly what the program
 * chose.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/probe.h"
#include "core/util.h"
#include "probe.skel.h"

static void loopback(struct sockaddr_in *a, int port)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

/* ---- child triggers: each returns 0 or the -errno its call saw ---- */

/* connect() a socket of @type to port 9 of loopback */
static int connect9(int type)
{
	struct sockaddr_in to;
	int fd, err = 0;

	loopback(&to, 9);
	fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)))
		err = -errno;
	close(fd);
	return err;
}

static int udp_connect(void *arg)
{
	(void)arg;
	return connect9(SOCK_DGRAM);
}

static int udp_sendto(void *arg)
{
	struct sockaddr_in to;
	int fd, err = 0;

	(void)arg;
	loopback(&to, 9);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, "fc", 2, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* A connected TCP pair over lo; fds in @fd: listener, client, accepted. */
static int tcp_pair(int fd[3])
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int err;

	fd[0] = fd[1] = fd[2] = -1;
	loopback(&a, 0);
	fd[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd[0] < 0 || bind(fd[0], (struct sockaddr *)&a, sizeof(a)) || listen(fd[0], 4) ||
	    getsockname(fd[0], (struct sockaddr *)&a, &len))
		goto err_out;
	fd[1] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd[1] < 0 || connect(fd[1], (struct sockaddr *)&a, sizeof(a)))
		goto err_out;
	fd[2] = accept(fd[0], NULL, NULL);
	if (fd[2] < 0)
		goto err_out;
	return 0;
err_out:
	err = -errno;
	for (int i = 0; i < 3; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	return err;
}

static void tcp_close(int fd[3])
{
	for (int i = 0; i < 3; i++)
		close(fd[i]);
}

static int tcp_send(void *arg)
{
	int fd[3], err;

	(void)arg;
	err = tcp_pair(fd);
	if (err)
		return err;
	if (send(fd[1], "fc", 2, MSG_NOSIGNAL) < 0)
		err = -errno;
	tcp_close(fd);
	return err;
}

static int tcp_connect(void *arg)
{
	int fd[3], err;

	(void)arg;
	err = tcp_pair(fd);
	if (!err)
		tcp_close(fd);
	return err;
}

/* Nothing listens on port 9 of the scratch netns: the SYN gets a RST. */
static int tcp_refused(void *arg)
{
	(void)arg;
	return connect9(SOCK_STREAM);
}

/* One byte over a pair whose first data segment the cell drops: it arrives by retransmit. */
static int tcp_lossy(void *arg)
{
	struct pollfd pfd;
	int fd[3], err;
	char b;

	(void)arg;
	err = tcp_pair(fd);
	if (err)
		return err;
	pfd.fd = fd[2];
	pfd.events = POLLIN;
	if (send(fd[1], "f", 1, MSG_NOSIGNAL) < 0)
		err = -errno;
	else if (poll(&pfd, 1, 5000) != 1)
		err = -ETIMEDOUT;
	else if (recv(fd[2], &b, 1, 0) != 1)
		err = -EIO;
	tcp_close(fd);
	return err;
}

static int open_null(void *arg)
{
	int fd;

	(void)arg;
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int syscalls(void *arg)
{
	(void)arg;
	for (int i = 0; i < 3; i++)
		syscall(SYS_getppid);
	return 0;
}

/* ---- one probe: load, attach to the cell, trigger in a child, check counts and effect ---- */

struct spec {
	probe_child_fn fn;
	const char *call; /* what the child did, for messages */
	int expect;	  /* its result when the program acted */
	int timeout_ms;
	__u32 drops;
	__u32 shots;
	__u64 (*hits)(struct probe_bpf *);
	__u64 (*also)(struct probe_bpf *); /* a second program that must have run */
	const char *also_name;
	bool sk_msg;
};

static bool cgroup_section(const struct bpf_program *prog)
{
	const char *sec = bpf_program__section_name(prog);

	return !strncmp(sec, "cgroup", 6) || !strncmp(sec, "lsm_cgroup", 10) ||
	       !strcmp(sec, "sockops");
}

static int run_spec(struct fc_probe *p, struct fc_probe_result *r, const struct spec *s,
		    const char *progs)
{
	struct bpf_link *links[4] = {};
	struct bpf_program *prog;
	struct probe_child c;
	struct probe_bpf *skel;
	int err, res = 0, cgfd = -1, msg_fd = -1, map_fd = -1, nl = 0;
	uint64_t t0;

	err = probe_child_start(p, true, s->fn, NULL, &c);
	if (err)
		return probe_fail(r, "child", err);
	skel = probe_load(p, r, progs);
	if (!skel) {
		err = -EINVAL;
		goto out_child;
	}
	skel->bss->target_tgid = c.pid;
	skel->bss->target_cgid = p->priv->cg_id;
	skel->bss->target_level = p->priv->cg_level;
	skel->bss->drops_left = s->drops;
	skel->bss->shots = s->shots;
	cgfd = probe_cell_fd(p);
	if (cgfd < 0) {
		err = probe_fail(r, "cell", cgfd);
		goto out;
	}
	/* sk_msg first: a socket takes the map's programs when it is added, not later */
	if (s->sk_msg) {
		msg_fd = probe_prog_fd(skel, "p_sk_msg");
		map_fd = bpf_map__fd(skel->maps.probe_socks);
		t0 = fc_now_ns();
		if (bpf_prog_attach(msg_fd, map_fd, BPF_SK_MSG_VERDICT, 0)) {
			err = probe_fail(r, "attach sk_msg", -errno);
			msg_fd = -1;
			goto out;
		}
		r->attach_ns += fc_now_ns() - t0;
	}
	bpf_object__for_each_program(prog, skel->obj)
	{
		if (!bpf_program__autoload(prog) || !strcmp(bpf_program__name(prog), "p_sk_msg"))
			continue;
		err = probe_attach(r, &links[nl++], prog, cgroup_section(prog) ? cgfd : -1);
		if (err)
			goto out;
	}
	err = probe_child_run(&c, s->timeout_ms, &res);
	if (err) {
		probe_fail(r, "trigger", err);
		goto out;
	}
	r->hits = s->hits(skel);
	if (!r->hits) {
		/* never ran: the caller's result says nothing about the program */
		if (s->also)
			snprintf(r->error, sizeof(r->error),
				 "trigger: attached but never ran (%s ran %llu times, %s got %s)",
				 s->also_name, (unsigned long long)s->also(skel), s->call,
				 res ? strerror(-res) : "success");
	} else if (res != s->expect) {
		snprintf(r->error, sizeof(r->error), "effect: %s got %s, expected %s", s->call,
			 res ? strerror(-res) : "success",
			 s->expect ? strerror(-s->expect) : "success");
		err = -EPROTO;
	} else if (s->also && !s->also(skel)) {
		snprintf(r->error, sizeof(r->error), "trigger: %s never ran", s->also_name);
		err = -EPROTO;
	} else {
		r->available = r->hits > 0;
	}
out:
	for (int i = 0; i < nl; i++)
		probe_detach(r, &links[i]);
	if (msg_fd >= 0) {
		t0 = fc_now_ns();
		bpf_prog_detach2(msg_fd, map_fd, BPF_SK_MSG_VERDICT);
		r->detach_ns += fc_now_ns() - t0;
	}
	if (cgfd >= 0)
		close(cgfd);
	probe_bpf__destroy(skel);
out_child:
	probe_child_stop(&c);
	return err;
}

static void reset(struct fc_probe_result *r)
{
	r->hits = r->attach_ns = r->detach_ns = 0;
	r->error[0] = r->detail[0] = r->via[0] = 0;
}

/*
 * Tracepoints: tp_btf (typed arguments, cheapest), else raw_tp on the same tracepoint. When
 * both fail, the detail keeps why tp_btf did.
 */
static int run_tp(struct fc_probe *p, struct fc_probe_result *r, const struct spec *s,
		  const char *btf_progs, const char *raw_progs)
{
	char btf_err[sizeof(r->error)];
	int err;

	err = run_spec(p, r, s, btf_progs);
	if (r->available) {
		snprintf(r->via, sizeof(r->via), "tp_btf");
		return 0;
	}
	if (strncmp(r->error, "load:", 5) && strncmp(r->error, "attach:", 7))
		return err;
	snprintf(btf_err, sizeof(btf_err), "%s", r->error);
	reset(r);
	err = run_spec(p, r, s, raw_progs);
	snprintf(r->via, sizeof(r->via), "raw_tp");
	if (!r->available)
		snprintf(r->detail, sizeof(r->detail), "tp_btf: %s", btf_err);
	return err;
}

#define HITS(field)                                                                                \
	static __u64 hits_##field(struct probe_bpf *s)                                             \
	{                                                                                          \
		return s->bss->hit_##field;                                                        \
	}
HITS(cgroup_skb)
HITS(connect4)
HITS(sendmsg4)
HITS(sockops)
HITS(sk_msg)
HITS(tcp_state)
HITS(tcp_reset)
HITS(tcp_retrans)
HITS(drop)
HITS(lsm_cgroup)
HITS(task_anc)

int probe_cgroup_skb(struct fc_probe *p, struct fc_probe_result *r)
{
	static const struct spec s = {
		.fn = probe_udp_burst,
		.call = "sendto()",
		.timeout_ms = 2000,
		.hits = hits_cgroup_skb,
	};

	snprintf(r->via, sizeof(r->via), "cgroup link");
	return run_spec(p, r, &s, "p_cgroup_skb");
}

int probe_sock_addr(struct fc_probe *p, struct fc_probe_result *r)
{
	static const struct spec s = {
		.fn = udp_connect,
		.call = "connect()",
		.expect = -ECONNREFUSED,
		.timeout_ms = 2000,
		.hits = hits_connect4,
	};

	snprintf(r->via, sizeof(r->via), "cgroup link");
	return run_spec(p, r, &s, "p_connect4");
}

int probe_sock_sendmsg(struct fc_probe *p, struct fc_probe_result *r)
{
	static const struct spec s = {
		.fn = udp_sendto,
		.call = "sendto()",
		.expect = -ENETUNREACH,
		.timeout_ms = 2000,
		.hits = hits_sendmsg4,
	};

	snprintf(r->via, sizeof(r->via), "cgroup link");
	return run_spec(p, r, &s, "p_sendmsg4");
}

int probe_sk_msg(struct fc_probe *p, struct fc_probe_result *r)
{
	static const struct spec s = {
		.fn = tcp_send,
		.call = "send()",
		.expect = -EACCES,
		.timeout_ms = 2000,
		.hits = hits_sk_msg,
		.also = hits_sockops,
		.also_name = "sock_ops",
		.sk_msg = true,
	};

	snprintf(r->via, sizeof(r->via), "sockhash + cgroup sock_ops");
	return run_spec(p, r, &s, "p_sockops p_sk_msg");
}

int probe_tcp_state(struct fc_probe *p, struct fc_probe_result *r)
{
	static const struct spec s = {
		.fn = tcp_connect,
		.call = "TCP connect",
		.timeout_ms = 2000,
		.hits = hits_tcp_state,
	};

	return run_tp(p, r, &s, "p_tcp_state_btf", "p_tcp_state_raw");
}

int probe_tcp_reset(struct fc_probe *p, struct fc_probe_result *r)
{
	static const struct spec s = {
		.fn = tcp_refused,
		.call = "TCP connect to a closed port",
		.expect = -ECONNREFUSED,
		.timeout_ms = 2000,
		.hits = hits_tcp_reset,
	};

	return run_tp(p, r, &s, "p_tcp_reset_btf", "p_tcp_reset_raw");
}

/* Costs one retransmit timeout (~0.2-0.4 s on lo): the only way to see a real retransmit. */
int probe_tcp_retrans(struct fc_probe *p, struct fc_probe_result *r)
{
	static const struct spec s = {
		.fn = tcp_lossy,
		.call = "TCP send over a lossy pair",
		.timeout_ms = 5000,
		.drops = 1,
		.hits = hits_tcp_retrans,
		.also = hits_drop,
		.also_name = "the cgroup_skb/ingress drop",
	};

	return run_tp(p, r, &s, "p_tcp_retrans_btf p_drop_data", "p_tcp_retrans_raw p_drop_data");
}

/* Deny one open of the child in the cell: 0 from an lsm_cgroup program means EPERM. */
int probe_lsm_cgroup(struct fc_probe *p, struct fc_probe_result *r)
{
	static const struct spec s = {
		.fn = open_null,
		.call = "open()",
		.expect = -EPERM,
		.timeout_ms = 2000,
		.shots = 1,
		.hits = hits_lsm_cgroup,
	};

	snprintf(r->via, sizeof(r->via), "cgroup link");
	return run_spec(p, r, &s, "p_lsm_cgroup");
}

int probe_task_anc(struct fc_probe *p, struct fc_probe_result *r)
{
	static const struct spec s = {
		.fn = syscalls,
		.call = "getppid()",
		.timeout_ms = 2000,
		.hits = hits_task_anc,
	};

	snprintf(r->via, sizeof(r->via), "raw_tp");
	return run_spec(p, r, &s, "p_task_anc");
}
