// SPDX-License-Identifier: BSD-2-Clause
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "metrics/export.h"

int fc_label_parse(const char *s, struct fc_label *l)
{
	const char *eq = strchr(s, '=');
	size_t i, n;

	if (!eq || eq == s || (size_t)(eq - s) >= sizeof(l->name))
		return -EINVAL;
	n = eq - s;
	for (i = 0; i < n; i++)
		if (!(isalpha((unsigned char)s[i]) || s[i] == '_' ||
		      (i && isdigit((unsigned char)s[i]))))
			return -EINVAL;
	/* labels starting with __ are reserved for Prometheus itself */
	if (n >= 2 && s[0] == '_' && s[1] == '_')
		return -EINVAL;
	snprintf(l->name, sizeof(l->name), "%.*s", (int)n, s);
	snprintf(l->value, sizeof(l->value), "%s", eq + 1);
	return 0;
}

static int emit(struct fc_export *x, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *nb;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(x->buf + x->len, x->cap - x->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -EIO;
		if (x->len + n < x->cap) {
			x->len += n;
			return 0;
		}
		nb = realloc(x->buf, x->cap * 2 + n + 1);
		if (!nb)
			return -ENOMEM;
		x->buf = nb;
		x->cap = x->cap * 2 + n + 1;
	}
}

/* A label value with \, " and newline escaped (the exposition format's only escapes). */
static int emit_escaped(struct fc_export *x, const char *v)
{
	int err = 0;

	for (; *v && !err; v++) {
		if (*v == '\\' || *v == '"')
			err = emit(x, "\\%c", *v);
		else if (*v == '\n')
			err = emit(x, "\\n");
		else
			err = emit(x, "%c", *v);
	}
	return err;
}

static int emit_labels(struct fc_export *x, const struct fc_series *s, const char *extra_name,
		       const char *extra_val)
{
	int err, i;

	err = emit(x, "{cell=\"");
	err = err ?: emit_escaped(x, x->cell_names[s->cell]);
	if (!err && s->kind->key_label[0] && s->key[0]) {
		err = emit(x, "\",%s=\"", s->kind->key_label);
		err = err ?: emit_escaped(x, s->key);
	}
	for (i = 0; !err && i < x->nlabels; i++) {
		err = emit(x, "\",%s=\"", x->labels[i].name);
		err = err ?: emit_escaped(x, x->labels[i].value);
	}
	if (!err && extra_name) {
		err = emit(x, "\",%s=\"", extra_name);
		err = err ?: emit_escaped(x, extra_val);
	}
	return err ?: emit(x, "\"}");
}

void fc_export_le(uint64_t ns, char *buf, size_t len)
{
	char *p;

	/* integer nanoseconds as an exact decimal: both sides parse the same string */
	snprintf(buf, len, "%llu.%09llu", (unsigned long long)(ns / 1000000000ULL),
		 (unsigned long long)(ns % 1000000000ULL));
	p = buf + strlen(buf) - 1;
	while (*p == '0')
		*p-- = 0;
	if (*p == '.')
		*p = 0;
}

/* Has a series of this kind been written before index @i? (one HELP/TYPE per family) */
static bool seen_kind(const struct fc_window *w, int i)
{
	for (int j = 0; j < i; j++)
		if (w->s[j].kind == w->s[i].kind)
			return true;
	return false;
}

static int render_hist(struct fc_export *x, const struct fc_window *w, int i)
{
	const struct fc_series *s = &w->s[i];
	const struct fc_hsnap *h = s->total;
	unsigned int n = fc_export_nbounds(h), b;
	uint64_t bound[1 + FC_EXPORT_PER_POW * 64], cum[1 + FC_EXPORT_PER_POW * 64];
	const char *name = s->kind->name;
	char le[32];
	int err = 0;

	if (!seen_kind(w, i))
		err = emit(
		    x, "# HELP faultcell_%s_seconds %s\n# TYPE faultcell_%s_seconds histogram\n",
		    name, s->kind->summary, name);
	fc_export_buckets(h, bound, cum);
	for (b = 0; !err && b < n; b++) {
		fc_export_le(bound[b], le, sizeof(le));
		err = emit(x, "faultcell_%s_seconds_bucket", name);
		err = err ?: emit_labels(x, s, "le", le);
		err = err ?: emit(x, " %llu\n", (unsigned long long)cum[b]);
	}
	err = err ?: emit(x, "faultcell_%s_seconds_bucket", name);
	err = err ?: emit_labels(x, s, "le", "+Inf");
	err = err ?: emit(x, " %llu\n", (unsigned long long)h->count);
	err = err ?: emit(x, "faultcell_%s_seconds_sum", name);
	err = err ?: emit_labels(x, s, NULL, NULL);
	err = err ?: emit(x, " %.9f\n", (double)h->sum / 1e9);
	err = err ?: emit(x, "faultcell_%s_seconds_count", name);
	err = err ?: emit_labels(x, s, NULL, NULL);
	err = err ?: emit(x, " %llu\n", (unsigned long long)h->count);
	return err;
}

/*
 * The last window's percentiles as one gauge per percentile (a "quantile" label is reserved to
 * summaries, whose _count and _sum would have to be cumulative); a percentile without enough
 * samples in the window is left out rather than written as a guess.
 */
static int render_window(struct fc_export *x, const struct fc_window *w, int i, int p)
{
	const struct fc_series *s = &w->s[i];
	const char *name = s->kind->name, *pn = fc_pct_name[p];
	int err = 0;

	if (!seen_kind(w, i))
		err = emit(x,
			   "# HELP faultcell_%s_window_%s_seconds %s of the last window\n"
			   "# TYPE faultcell_%s_window_%s_seconds gauge\n",
			   name, pn, pn, name, pn);
	if (err || (s->sum.no_data & (1U << p)))
		return err;
	err = emit(x, "faultcell_%s_window_%s_seconds", name, pn);
	err = err ?: emit_labels(x, s, NULL, NULL);
	return err ?: emit(x, " %.9g\n", s->sum.pct[p] / 1e9);
}

static int render_counter(struct fc_export *x, const struct fc_window *w, int i)
{
	const struct fc_series *s = &w->s[i];
	int err = 0;

	if (!seen_kind(w, i))
		err = emit(x, "# HELP faultcell_%s_total %s\n# TYPE faultcell_%s_total counter\n",
			   s->kind->name, s->kind->summary, s->kind->name);
	err = err ?: emit(x, "faultcell_%s_total", s->kind->name);
	err = err ?: emit_labels(x, s, NULL, NULL);
	return err ?: emit(x, " %llu\n", (unsigned long long)s->total->count);
}

int fc_export_render(struct fc_export *x, const struct fc_window *w)
{
	int i, err = 0;

	x->len = 0;
	if (!x->buf) {
		x->cap = 64 * 1024;
		x->buf = malloc(x->cap);
		if (!x->buf)
			return -ENOMEM;
	}
	x->buf[0] = 0;
	for (i = 0; !err && i < w->n; i++)
		if (w->s[i].kind->npow)
			err = render_hist(x, w, i);
	for (int p = 0; p < FC_NPCT; p++)
		for (i = 0; !err && i < w->n; i++)
			if (w->s[i].kind->npow)
				err = render_window(x, w, i, p);
	for (i = 0; !err && i < w->n; i++)
		if (!w->s[i].kind->npow)
			err = render_counter(x, w, i);
	err = err
		  ?: emit(x,
			  "# HELP faultcell_ringbuf_failed_reserves_total events lost to a full "
			  "ring buffer\n# TYPE faultcell_ringbuf_failed_reserves_total counter\n"
			  "faultcell_ringbuf_failed_reserves_total %llu\n"
			  "# HELP faultcell_windows_total windows closed since start\n"
			  "# TYPE faultcell_windows_total counter\nfaultcell_windows_total %llu\n",
			  (unsigned long long)w->rb_fail_total, (unsigned long long)w->seq);
	return err;
}

static int write_textfile(struct fc_export *x)
{
	char tmp[4200];
	int fd, err = 0;

	/* tmp file + rename in the same directory: a reader sees the old or the new file */
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", x->textfile, getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, x->buf, x->len) != (ssize_t)x->len)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, x->textfile))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int fc_export_update(struct fc_export *x, const struct fc_window *w)
{
	int err = fc_export_render(x, w);

	if (!err && x->textfile[0])
		err = write_textfile(x);
	return err;
}

static int listen_on(const char *addr, char *why, size_t len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *ai = NULL;
	char host[256], *port;
	int fd = -1, one = 1, err;

	snprintf(host, sizeof(host), "%s", addr);
	port = strrchr(host, ':');
	if (!port || !port[1]) {
		snprintf(why, len, "bad --metrics-listen '%s': expected HOST:PORT or :PORT", addr);
		return -EINVAL;
	}
	*port++ = 0;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = 0;
	}
	err = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
	if (err) {
		snprintf(why, len, "bad --metrics-listen '%s': %s", addr, gai_strerror(err));
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 16)) {
		err = -errno;
		snprintf(why, len, "cannot listen on '%s': %s", addr, strerror(errno));
		close(fd);
		fd = -1;
	}
out:
	freeaddrinfo(ai);
	return fd >= 0 ? fd : err;
}

int fc_export_open(struct fc_export *x, const char *listen, const char *textfile,
		   const struct fc_label *labels, int nlabels, const char *const *cell_names,
		   char *why, size_t whylen)
{
	memset(x, 0, sizeof(*x));
	x->listen_fd = -1;
	x->labels = labels;
	x->nlabels = nlabels;
	x->cell_names = cell_names;
	if (textfile)
		snprintf(x->textfile, sizeof(x->textfile), "%s", textfile);
	if (listen) {
		x->listen_fd = listen_on(listen, why, whylen);
		if (x->listen_fd < 0)
			return x->listen_fd;
	}
	return 0;
}

/* One scrape: read the request line, answer /metrics (anything else 404), close. */
static void answer(struct fc_export *x, int c)
{
	struct pollfd p = { .fd = c, .events = POLLIN };
	char req[2048], hdr[256];
	size_t got = 0;
	ssize_t n;
	int len;

	/* a scraper sends its request at once; never let a slow client stall the windows */
	while (got < sizeof(req) - 1 && poll(&p, 1, 200) == 1) {
		n = read(c, req + got, sizeof(req) - 1 - got);
		if (n <= 0)
			break;
		got += n;
		req[got] = 0;
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[got] = 0;
	if (strncmp(req, "GET /metrics", 12) && strncmp(req, "GET / ", 6)) {
		len = snprintf(hdr, sizeof(hdr),
			       "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nConnection: close"
			       "\r\n\r\n");
		if (write(c, hdr, len) < 0)
			return;
		return;
	}
	len = snprintf(hdr, sizeof(hdr),
		       "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8"
		       "\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		       x->len);
	if (write(c, hdr, len) != len)
		return;
	for (size_t off = 0; off < x->len;) {
		p.events = POLLOUT;
		if (poll(&p, 1, 500) != 1)
			return;
		n = write(c, x->buf + off, x->len - off);
		if (n <= 0)
			return;
		off += n;
	}
}

int fc_export_serve(struct fc_export *x, int timeout_ms)
{
	struct pollfd p = { .fd = x->listen_fd, .events = POLLIN };
	int c, flags;

	if (x->listen_fd < 0) {
		if (timeout_ms > 0)
			poll(NULL, 0, timeout_ms);
		return 0;
	}
	if (poll(&p, 1, timeout_ms) <= 0)
		return 0;
	while ((c = accept4(x->listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		flags = fcntl(c, F_GETFL);
		fcntl(c, F_SETFL, flags | O_NONBLOCK);
		if (x->buf)
			answer(x, c);
		close(c);
	}
	return 0;
}

void fc_export_close(struct fc_export *x)
{
	if (x->listen_fd >= 0)
		close(x->listen_fd);
	x->listen_fd = -1;
	free(x->buf);
	x->buf = NULL;
}
