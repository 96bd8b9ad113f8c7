// SPDX-License-Identifier: BSD-2-Clause
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "lib/host.h"
#include "lib/net.h"
#include "lib/test.h"

static long long proc_net_field(const char *netns, const char *file, const char *proto,
				const char *field);

long long tsnmp(const char *netns, const char *proto, const char *field)
{
	return proc_net_field(netns, "snmp", proto, field);
}

long long tnetstat(const char *netns, const char *proto, const char *field)
{
	return proc_net_field(netns, "netstat", proto, field);
}

static long long proc_net_field(const char *netns, const char *file, const char *proto,
				const char *field)
{
	char hdr[4096], val[4096], path[64], *h, *v, *hs = NULL, *vs = NULL;
	size_t pl = strlen(proto);
	long long out = -1;
	int saved;
	FILE *f;

	/* /proc/thread-self/net follows the thread's netns: enter it, read, come back */
	if (fc_netns_enter(netns, &saved))
		return -1;
	snprintf(path, sizeof(path), "/proc/thread-self/net/%s", file);
	f = fopen(path, "r");
	fc_netns_restore(saved);
	if (!f)
		return -1;
	/* pairs of lines: "Udp: Name Name ...", then "Udp: 1 2 ..." */
	while (fgets(hdr, sizeof(hdr), f) && fgets(val, sizeof(val), f)) {
		if (strncmp(hdr, proto, pl) || hdr[pl] != ':')
			continue;
		h = strtok_r(hdr + pl + 1, " \n", &hs);
		v = strtok_r(val + pl + 1, " \n", &vs);
		for (; h && v; h = strtok_r(NULL, " \n", &hs), v = strtok_r(NULL, " \n", &vs))
			if (!strcmp(h, field))
				out = atoll(v);
		break;
	}
	fclose(f);
	return out;
}

bool tinject_start(struct tinject *t, char *const argv[])
{
	char *a[48] = { "inject" }, line[512];
	int i;

	memset(t, 0, sizeof(*t));
	for (i = 0; argv[i] && i < 44; i++)
		a[i + 1] = argv[i];
	a[i + 1] = "--json";
	a[i + 2] = NULL;
	t->pid = tspawn_fc(a, &t->out, NULL);
	if (!ASSERT_GT(t->pid, 0, "spawn inject"))
		return false;
	for (;;) {
		if (tread_line(t->out, line, sizeof(line), 20000)) {
			test__fail(__FILE__, __LINE__, "inject did not arm: %s", t->text);
			return false;
		}
		strncat(t->text, line, sizeof(t->text) - strlen(t->text) - 2);
		strcat(t->text, "\n");
		sscanf(line, "inject: %*s on cell %*s for %*s (run %63[^)])", t->run);
		if (strstr(line, "rolls back now"))
			return true;
	}
}

bool tinject_stop(struct tinject *t, int sig)
{
	char *p, *line;
	size_t used;

	if (sig)
		kill(t->pid, sig);
	used = strlen(t->text);
	tread_all(t->out, t->text + used, sizeof(t->text) - used, 30000);
	close(t->out);
	t->status = twait(t->pid, 30000);
	/* the last JSON line marked final */
	for (line = t->text; (p = strstr(line, "\"final\":true")); line = p + 1) {
		char *start = p;

		while (start > t->text && start[-1] != '\n')
			start--;
		sscanf(start,
		       "{\"t\":%*f,\"fault\":\"%*[^\"]\",\"final\":true,\"seen\":%lld,\"matched\":%"
		       "lld,"
		       "\"injected\":%lld,\"inert_disabled\":%lld,\"inert_deadline\":%lld,"
		       "\"inert_heartbeat\":%lld}",
		       &t->seen, &t->matched, &t->injected, &t->inert_disabled, &t->inert_deadline,
		       &t->inert_heartbeat);
	}
	if ((p = strstr(t->text, "first call passed untouched ")))
		t->first_inert_us = atof(p + strlen("first call passed untouched "));
	if ((p = strstr(t->text, "first injection ")))
		t->first_hit_ms = atof(p + strlen("first injection "));
	if ((p = strstr(t->text, "(links gone ")))
		t->links_gone_ms = atof(p + strlen("(links gone "));
	return t->status >= 0;
}
