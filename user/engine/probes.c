// SPDX-License-Identifier: BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "engine/probes.h"

#define DEFAULT_TIMEOUT_NS NSEC_PER_SEC

void fc_probe_init(struct fc_probe *p, const struct fc_metric *m)
{
	memset(p, 0, sizeof(*p));
	p->m = m;
	p->fd = -1;
	p->pid = -1;
}

int fc_url_split(const char *url, char *host, size_t hl, int *port, char *path, size_t pl)
{
	const char *h, *slash, *colon;
	size_t n;

	if (strncmp(url, "http://", 7))
		return -EINVAL;
	h = url + 7;
	slash = strchr(h, '/');
	n = slash ? (size_t)(slash - h) : strlen(h);
	if (h[0] == '[') { /* [::1]:9090 */
		const char *end = memchr(h, ']', n);

		if (!end || (size_t)(end - h - 1) >= hl)
			return -EINVAL;
		snprintf(host, hl, "%.*s", (int)(end - h - 1), h + 1);
		colon = end + 1 < h + n && end[1] == ':' ? end + 1 : NULL;
	} else {
		colon = memchr(h, ':', n);
		if ((size_t)((colon ? colon : h + n) - h) >= hl)
			return -EINVAL;
		snprintf(host, hl, "%.*s", (int)((colon ? colon : h + n) - h), h);
	}
	*port = colon ? atoi(colon + 1) : 80;
	snprintf(path, pl, "%s", slash ? slash : "/");
	return *port > 0 && *port < 65536 && host[0] ? 0 : -EINVAL;
}

bool fc_url_host_ok(const char *host)
{
	struct in6_addr a6;

	return inet_pton(AF_INET, host, &a6) == 1 || inet_pton(AF_INET6, host, &a6) == 1 ||
	       !strcmp(host, "localhost");
}

/* 0, or -ENAMETOOLONG when @s does not fit encoded (never a silently cut query) */
static int urlencode(const char *s, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t u = 0;

	for (; *s; s++) {
		if (u + 4 >= len) {
			out[u] = 0;
			return -ENAMETOOLONG;
		}
		unsigned char c = *s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-_.~", c)) {
			out[u++] = c;
		} else {
			out[u++] = '%';
			out[u++] = hex[c >> 4];
			out[u++] = hex[c & 15];
		}
	}
	out[u] = 0;
	return 0;
}

static int start_http(struct fc_probe *p)
{
	struct sockaddr_storage ss = {};
	char host[256], path[1024], q[7000];
	socklen_t sl;
	int port, fam;

	if (fc_url_split(p->m->url, host, sizeof(host), &port, path, sizeof(path))) {
		snprintf(p->err, sizeof(p->err), "bad url %s", p->m->url);
		return -EINVAL;
	}
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		fam = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		fam = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		sl = sizeof(struct sockaddr_in6);
	} else if (!strcmp(host, "localhost")) {
		fam = AF_INET;
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
		sl = sizeof(struct sockaddr_in);
	} else {
		/* a DNS lookup would block the loop: addresses only (documented) */
		snprintf(p->err, sizeof(p->err), "host '%s' is not an address", host);
		return -EINVAL;
	}
	ss.ss_family = fam;
	if (p->m->source == FC_MSRC_PROMETHEUS) {
		if (urlencode(p->m->query, q, sizeof(q))) {
			snprintf(p->err, sizeof(p->err), "query too long");
			return -ENAMETOOLONG;
		}
		p->reqlen = snprintf(p->req, sizeof(p->req),
				     "GET %s%sapi/v1/query?query=%s HTTP/1.0\r\nHost: %s\r\n"
				     "Connection: close\r\n\r\n",
				     path, path[strlen(path) - 1] == '/' ? "" : "/", q, host);
	} else {
		p->reqlen = snprintf(p->req, sizeof(p->req),
				     "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n",
				     path, host);
	}
	if (p->reqlen >= sizeof(p->req)) {
		snprintf(p->err, sizeof(p->err), "request too long");
		return -ENAMETOOLONG;
	}
	p->fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0)
		return -errno;
	if (connect(p->fd, (struct sockaddr *)&ss, sl) && errno != EINPROGRESS) {
		snprintf(p->err, sizeof(p->err), "connect: %s", strerror(errno));
		return -errno;
	}
	p->phase = 0;
	return 0;
}

static int start_command(struct fc_probe *p)
{
	int pfd[2];

	if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	p->pid = fork();
	if (p->pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (p->pid == 0) {
		/* exec at once: until then this child holds every link fd of the loader */
		dup2(pfd[1], 1);
		fcntl(1, F_SETFL, 0);
		setpgid(0, 0);
		execvp(p->m->argv[0], (char *const *)p->m->argv);
		_exit(127);
	}
	close(pfd[1]);
	p->fd = pfd[0];
	return 0;
}

int fc_probe_start(struct fc_probe *p)
{
	uint64_t timeout = p->m->timeout_ns ?: DEFAULT_TIMEOUT_NS;
	int err;

	if (p->running)
		fc_probe_finish(p);
	p->len = 0;
	p->reqsent = 0;
	p->ok = false;
	p->err[0] = 0;
	p->started_ns = fc_now_ns();
	p->done_ns = 0;
	p->deadline_ns = p->started_ns + timeout;
	err = p->m->source == FC_MSRC_COMMAND ? start_command(p) : start_http(p);
	if (err) {
		if (!p->err[0])
			snprintf(p->err, sizeof(p->err), "%s", strerror(-err));
		if (p->fd >= 0)
			close(p->fd);
		p->fd = -1;
		return err;
	}
	p->running = true;
	return 0;
}

static void read_some(struct fc_probe *p, bool *eof)
{
	ssize_t n;

	while (p->len + 1 < sizeof(p->buf)) {
		n = read(p->fd, p->buf + p->len, sizeof(p->buf) - 1 - p->len);
		if (n > 0) {
			p->len += n;
			continue;
		}
		if (n == 0)
			*eof = true;
		break;
	}
	p->buf[p->len] = 0;
	if (p->len + 1 >= sizeof(p->buf))
		*eof = true; /* enough: a metric is a number, not a download */
}

int fc_prom_parse(const char *body, double *out)
{
	/* {"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[T,"V"]}]}}
	 */
	const char *v = strstr(body, "\"value\":[");
	char *end;

	if (!strstr(body, "\"status\":\"success\"")) {
		return -ENODATA;
	}
	if (!v) {
		/* scalar results carry "result":[T,"V"] */
		v = strstr(body, "\"resultType\":\"scalar\"");
		v = v ? strstr(v, "\"result\":[") : NULL;
		if (!v)
			return -ENODATA;
		v += strlen("\"result\":[");
	} else {
		v += strlen("\"value\":[");
	}
	v = strchr(v, ',');
	if (!v)
		return -ENODATA;
	v++;
	if (*v == '"')
		v++;
	*out = strtod(v, &end);
	if (end == v || isnan(*out))
		return -ENODATA;
	return 0;
}

static void finish_http(struct fc_probe *p)
{
	char *body = strstr(p->buf, "\r\n\r\n");
	int status = 0;

	if (sscanf(p->buf, "HTTP/%*s %d", &status) != 1) {
		snprintf(p->err, sizeof(p->err), "no HTTP answer");
		if (!strcmp(p->m->stat, "up")) {
			/* down is a value for "up", not the absence of one */
			p->value = 0;
			p->ok = true;
		}
		return;
	}
	if (p->m->source == FC_MSRC_PROMETHEUS) {
		if (status != 200 || !body || fc_prom_parse(body + 4, &p->value)) {
			snprintf(p->err, sizeof(p->err), "prometheus: HTTP %d, no sample", status);
			return;
		}
		p->ok = true;
		return;
	}
	if (!strcmp(p->m->stat, "status"))
		p->value = status;
	else if (!strcmp(p->m->stat, "latency"))
		/* to the answer's end, not to the window's end where it is collected */
		p->value = ((p->done_ns ?: fc_now_ns()) - p->started_ns) / 1e9;
	else
		p->value = status >= 200 && status < 400;
	p->ok = true;
}

bool fc_probe_poll(struct fc_probe *p)
{
	bool eof = false;

	if (!p->running || p->done_ns)
		return true;
	if (p->m->source == FC_MSRC_COMMAND) {
		read_some(p, &eof);
		/* its answer is complete when it has exited, not when it closed its output */
		if (eof && waitpid(p->pid, &p->status, WNOHANG) == p->pid) {
			p->done_ns = fc_now_ns();
			return true;
		}
		return fc_now_ns() >= p->deadline_ns;
	}
	if (p->phase == 0) {
		int soerr = 0;
		socklen_t l = sizeof(soerr);

		getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &soerr, &l);
		if (soerr && soerr != EINPROGRESS) {
			snprintf(p->err, sizeof(p->err), "connect: %s", strerror(soerr));
			return true;
		}
		ssize_t n = send(p->fd, p->req + p->reqsent, p->reqlen - p->reqsent, MSG_NOSIGNAL);

		if (n > 0)
			p->reqsent += n;
		else if (errno != EAGAIN && errno != ENOTCONN && errno != EINPROGRESS) {
			snprintf(p->err, sizeof(p->err), "send: %s", strerror(errno));
			return true;
		}
		if (p->reqsent < p->reqlen)
			return false;
		p->phase = 2;
	}
	read_some(p, &eof);
	if (eof)
		p->done_ns = fc_now_ns();
	return eof || fc_now_ns() >= p->deadline_ns;
}

void fc_probe_finish(struct fc_probe *p)
{
	bool done, late;
	int status;

	fc_probe_poll(p);
	if (!p->running)
		return;
	p->running = false;
	/* an answer after the probe's timeout counts as none, even within the window */
	done = p->done_ns != 0;
	late = done && p->done_ns > p->deadline_ns;
	if (p->m->source == FC_MSRC_COMMAND) {
		if (!done) {
			/* still running: its answer would come too late to count */
			kill(-p->pid, SIGKILL);
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &status, 0);
		}
		if (!done || late) {
			snprintf(p->err, sizeof(p->err), "timed out");
			goto out;
		}
		status = p->status;
		if (p->m->use_status) {
			p->value = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			p->ok = true;
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			char *end;

			p->value = strtod(p->buf, &end);
			p->ok = end != p->buf && !isnan(p->value);
			if (!p->ok)
				snprintf(p->err, sizeof(p->err), "printed no number");
		} else {
			snprintf(p->err, sizeof(p->err), "exited %d",
				 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		}
	} else if (done && !late) {
		finish_http(p);
	} else {
		snprintf(p->err, sizeof(p->err), "timed out");
		if (!strcmp(p->m->stat, "up") && p->m->source == FC_MSRC_HTTP) {
			p->value = 0;
			p->ok = true;
		}
	}
out:
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->pid = -1;
}

void fc_probe_close(struct fc_probe *p)
{
	if (p->running)
		fc_probe_finish(p);
}
