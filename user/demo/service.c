// SPDX-License-Identifier: BSD-2-Clause
/*
 * The demo's payments service: a supervisor keeping 3 workers per cell (each in its own pod
 * cgroup) and the ledger they call for every checkout. Plain blocking C on 127.0.0.1: the
 * point is a real service that real faults hurt, not a fast one.
 *
 * Protocol, one request per connection (so connect faults and lost SYNs matter):
 *   client → worker  "PAY <id>\n"          worker → client  "OK <cell>/<pod>\n" | "ERR <why>\n"
 *   worker → ledger  "DEBIT <id>\n"        ledger → worker  "OK\n"
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "demo/demo.h"

/* the worker's budget for the ledger; one retry (a real client's) fits in the caller's 1 s */
#define LEDGER_TIMEOUT_MS 250
#define READY_TIMEOUT_MS  5000
#define LEDGER_MAX_CONNS  1024

int fc_demo_listen(int port, int backlog, int flags)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, s, err;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET,
		   SOCK_STREAM | SOCK_CLOEXEC | (flags & FC_DEMO_NONBLOCK ? SOCK_NONBLOCK : 0), 0);
	if (s < 0)
		return -errno;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (flags & FC_DEMO_REUSEPORT)
		setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, backlog)) {
		err = -errno;
		close(s);
		return err;
	}
	return s;
}

void fc_demo_ready(void)
{
	if (write(1, "ready\n", 6) != 6)
		exit(1);
	/* the pipe closes: later output goes where the demo's own errors go */
	dup2(2, 1);
}

static void set_timeouts(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* SO_SNDTIMEO also bounds a blocking connect() */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Read up to a newline (or @len - 1 bytes, or EOF). Bytes read, or -errno. */
static int read_line(int fd, char *buf, size_t len)
{
	size_t u = 0;
	ssize_t n;

	while (u + 1 < len) {
		n = read(fd, buf + u, len - 1 - u);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		u += n;
		if (memchr(buf, '\n', u))
			break;
	}
	buf[u] = 0;
	return u;
}

/* ---- ledger ---- */

static int ledger_call(const char *id)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(FC_DEMO_PORT_LEDGER) };
	char req[96], ans[32];
	int s, n, err = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	set_timeouts(s, LEDGER_TIMEOUT_MS);
	n = snprintf(req, sizeof(req), "DEBIT %.64s\n", id);
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) || write(s, req, n) != n)
		err = errno == EINPROGRESS ? -ETIMEDOUT : -errno;
	else if ((n = read_line(s, ans, sizeof(ans))) < 0)
		err = n == -EAGAIN ? -ETIMEDOUT : n;
	else if (strncmp(ans, "OK", 2))
		err = -EPROTO;
	close(s);
	return err;
}

int fc_demo_ledger(int argc, char **argv)
{
	static char buf[LEDGER_MAX_CONNS][64];
	static int len[LEDGER_MAX_CONNS];
	static uint64_t since[LEDGER_MAX_CONNS];
	struct epoll_event ev, evs[64];
	uint64_t swept = 0;
	int s, ep, n, port;

	if (argc < 2)
		return FC_EXIT_USAGE;
	port = atoi(argv[1]);
	prctl(PR_SET_NAME, "ledger");
	signal(SIGPIPE, SIG_IGN);
	s = fc_demo_listen(port, 512, FC_DEMO_NONBLOCK);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (s < 0 || ep < 0) {
		fprintf(stderr, "demo ledger: cannot listen on 127.0.0.1:%d: %s\n", port,
			strerror(s < 0 ? -s : errno));
		return FC_EXIT_INTERNAL;
	}
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = s };
	epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
	fc_demo_ready();
	/* one process for both cells: a slow worker connection must never stall the others */
	for (;;) {
		n = epoll_wait(ep, evs, ARRAY_SIZE(evs), 1000);
		/* a caller that vanished mid-request (its FIN dropped by a fault) is dropped too */
		if (fc_now_ns() - swept > NSEC_PER_SEC) {
			swept = fc_now_ns();
			for (int fd = 0; fd < LEDGER_MAX_CONNS; fd++) {
				if (since[fd] && swept - since[fd] > 5 * NSEC_PER_SEC) {
					close(fd);
					since[fd] = 0;
				}
			}
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd, c;
			ssize_t r;

			if (fd == s) {
				while ((c = accept4(s, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >=
				       0) {
					if (c >= LEDGER_MAX_CONNS) {
						close(c);
						continue;
					}
					len[c] = 0;
					since[c] = fc_now_ns();
					ev =
					    (struct epoll_event){ .events = EPOLLIN, .data.fd = c };
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				}
				continue;
			}
			r = read(fd, buf[fd] + len[fd], sizeof(buf[fd]) - 1 - len[fd]);
			if (r > 0)
				len[fd] += r;
			if (r > 0 && !memchr(buf[fd], '\n', len[fd]) &&
			    len[fd] + 1 < (int)sizeof(buf[fd]))
				continue;
			if (r < 0 && errno == EAGAIN)
				continue;
			if (r > 0)
				(void)!write(fd, "OK\n", 3);
			close(fd); /* also drops it from the epoll set */
			since[fd] = 0;
		}
	}
	return 0;
}

/* ---- worker ---- */

static void serve(int c, const char *who)
{
	char req[128], ans[160], *id;
	int n, err;

	set_timeouts(c, 1000);
	n = read_line(c, req, sizeof(req));
	if (n <= 0)
		return;
	req[strcspn(req, "\r\n")] = 0;
	if (strncmp(req, "PAY ", 4)) {
		n = snprintf(ans, sizeof(ans), "ERR bad request\n");
	} else {
		id = req + 4;
		/* a real client retries a failed call to its dependency once */
		err = ledger_call(id);
		if (err)
			err = ledger_call(id);
		if (err)
			n = snprintf(ans, sizeof(ans), "ERR ledger: %s\n", strerror(-err));
		else
			n = snprintf(ans, sizeof(ans), "OK %s\n", who);
	}
	if (write(c, ans, n) != n)
		return;
}

int fc_demo_worker(int argc, char **argv)
{
	char who[64];
	int s, c;

	if (argc < 4)
		return FC_EXIT_USAGE;
	snprintf(who, sizeof(who), "%s/%s", argv[1], argv[2]);
	prctl(PR_SET_NAME, "payments");
	signal(SIGPIPE, SIG_IGN);
	s = fc_demo_listen(atoi(argv[3]), 128, FC_DEMO_REUSEPORT);
	if (s < 0) {
		fprintf(stderr, "demo worker %s: cannot listen on 127.0.0.1:%s: %s\n", who, argv[3],
			strerror(-s));
		return FC_EXIT_INTERNAL;
	}
	fc_demo_ready();
	/* one request at a time: a stalled dependency stalls this pod, as it would a real one */
	for (;;) {
		c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno != EINTR && errno != ECONNABORTED)
				usleep(10000);
			continue;
		}
		serve(c, who);
		close(c);
	}
	return 0;
}

/* ---- supervisor ---- */

struct member {
	const char *role;
	char cell[16], pod[16], port[8];
	char cg[PATH_MAX + 32]; /* its cgroup's cgroup.procs */
	pid_t pid;
	uint64_t restart_at; /* 0: running, or not due */
};

/*
 * Fork and exec `faultcell demo-role ROLE ...` in the member's cgroup; wait for its "ready".
 * The child joins the cgroup before exec, so nothing of it ever runs outside.
 */
static int spawn(struct member *m, pid_t parent)
{
	struct pollfd pfd = { .events = POLLIN };
	char line[16] = "";
	int p[2], n = 0, status;
	sigset_t all;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid == 0) {
		/* a dead supervisor takes its pods along: nothing outlives the demo */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent || fc_write_file(m->cg, "0"))
			_exit(127);
		dup2(p[1], 1);
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		if (!strcmp(m->role, "ledger"))
			execl("/proc/self/exe", "faultcell", "demo-role", "ledger", m->port, NULL);
		else
			execl("/proc/self/exe", "faultcell", "demo-role", "worker", m->cell, m->pod,
			      m->port, NULL);
		_exit(127);
	}
	close(p[1]);
	pfd.fd = p[0];
	if (poll(&pfd, 1, READY_TIMEOUT_MS) == 1)
		n = read(p[0], line, sizeof(line) - 1);
	close(p[0]);
	if (n <= 0 || strncmp(line, "ready", 5)) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -EIO;
	}
	m->pid = pid;
	m->restart_at = 0;
	return 0;
}

static void describe(const struct member *m, char *buf, size_t len)
{
	if (!strcmp(m->role, "ledger"))
		snprintf(buf, len, "ledger");
	else
		snprintf(buf, len, "payments %s/%s", m->cell, m->pod);
}

static void reap(struct member *ms, int n, uint64_t delay_ns)
{
	char what[64], how[48];
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < n; i++) {
			if (ms[i].pid != pid)
				continue;
			ms[i].pid = 0;
			ms[i].restart_at = fc_now_ns() + delay_ns;
			describe(&ms[i], what, sizeof(what));
			if (WIFSIGNALED(status))
				snprintf(how, sizeof(how), "killed by SIG%s",
					 sigabbrev_np(WTERMSIG(status)) ?: "?");
			else
				snprintf(how, sizeof(how), "exited %d", WEXITSTATUS(status));
			fprintf(stderr, "  supervisor: %s (pid %d) %s; restarting it in %.1fs\n",
				what, pid, how, delay_ns / 1e9);
		}
	}
}

static int restart_due(struct member *ms, int n, bool now)
{
	uint64_t t = fc_now_ns();
	char what[64];
	int err;

	for (int i = 0; i < n; i++) {
		if (ms[i].pid || !ms[i].restart_at || (!now && ms[i].restart_at > t))
			continue;
		describe(&ms[i], what, sizeof(what));
		err = spawn(&ms[i], getpid());
		if (err) {
			fprintf(stderr, "  supervisor: cannot restart %s: %s; trying again\n", what,
				strerror(-err));
			ms[i].restart_at = t + NSEC_PER_SEC;
			continue;
		}
		fprintf(stderr, "  supervisor: %s is back (pid %d)\n", what, ms[i].pid);
	}
	return 0;
}

/* argv: supervisor CGROUP_ROOT RESTART_MS */
int fc_demo_supervisor(int argc, char **argv)
{
	struct member ms[1 + 2 * FC_DEMO_PODS] = {};
	static const int cells[] = { 3, 1 };
	uint64_t delay_ns;
	int n = 0, sfd, err;
	sigset_t set;

	if (argc < 3)
		return FC_EXIT_USAGE;
	delay_ns = strtoull(argv[2], NULL, 10) * NSEC_PER_MSEC;
	prctl(PR_SET_NAME, "demo-supervisor");
	/* whoever reads our messages may be gone: that is no reason to drop the pods */
	signal(SIGPIPE, SIG_IGN);
	ms[n].role = "ledger";
	snprintf(ms[n].port, sizeof(ms[n].port), "%d", FC_DEMO_PORT_LEDGER);
	snprintf(ms[n++].cg, sizeof(ms[0].cg), "%s/ledger/cgroup.procs", argv[1]);
	for (int c = 0; c < 2; c++) {
		for (int p = 1; p <= FC_DEMO_PODS; p++, n++) {
			ms[n].role = "worker";
			snprintf(ms[n].cell, sizeof(ms[n].cell), "cell-%d", cells[c]);
			snprintf(ms[n].pod, sizeof(ms[n].pod), "pod-%d", p);
			snprintf(ms[n].port, sizeof(ms[n].port), "%d",
				 cells[c] == 3 ? FC_DEMO_PORT_CELL3 : FC_DEMO_PORT_CELL1);
			snprintf(ms[n].cg, sizeof(ms[n].cg), "%s/%s/%s/cgroup.procs", argv[1],
				 ms[n].cell, ms[n].pod);
		}
	}
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		return FC_EXIT_INTERNAL;
	for (int i = 0; i < n; i++) {
		err = spawn(&ms[i], getpid());
		if (err) {
			char what[64];

			describe(&ms[i], what, sizeof(what));
			fprintf(stderr, "demo supervisor: cannot start %s: %s\n", what,
				strerror(-err));
			return FC_EXIT_INTERNAL;
		}
	}
	fc_demo_ready();
	for (;;) {
		struct pollfd pfd = { .fd = sfd, .events = POLLIN };
		struct signalfd_siginfo si;
		uint64_t next = 0, t = fc_now_ns();
		int timeout = -1;

		for (int i = 0; i < n; i++)
			if (!ms[i].pid && ms[i].restart_at && (!next || ms[i].restart_at < next))
				next = ms[i].restart_at;
		if (next)
			timeout = next > t ? (int)((next - t) / NSEC_PER_MSEC) + 1 : 0;
		if (poll(&pfd, 1, timeout) == 1 && read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
				break;
			if (si.ssi_signo == SIGCHLD)
				reap(ms, n, delay_ns);
			/* SIGUSR1: the binding's restore command asks for the pods now */
			restart_due(ms, n, si.ssi_signo == SIGUSR1);
			continue;
		}
		restart_due(ms, n, false);
	}
	for (int i = 0; i < n; i++)
		if (ms[i].pid)
			kill(ms[i].pid, SIGKILL);
	while (wait(NULL) > 0)
		;
	return 0;
}
