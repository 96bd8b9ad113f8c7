// SPDX-License-Identifier: BSD-2-Clause
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/holder.h"
#include "lib/host.h"
#include "lib/test.h"

bool holder_start(struct held *h, char *const extra[])
{
	char *argv[32] = { "holder" }, line[256];
	int i;

	for (i = 0; extra[i] && i < 30; i++)
		argv[i + 1] = extra[i];
	argv[i + 1] = NULL;
	memset(h, 0, sizeof(*h));
	h->pid = tspawn(NULL, NULL, argv, &h->out);
	if (!ASSERT_GT(h->pid, 0, "spawn holder"))
		return false;
	if (!ASSERT_OK(tread_line(h->out, line, sizeof(line), 20000), "holder ready line"))
		return false;
	if (!ASSERT_EQ(sscanf(line, "ready run=%39s control=%u stats=%u guard=%d", h->run,
			      &h->control, &h->stats, &h->guard),
		       4, line))
		return false;
	return true;
}

void holder_end(struct held *h)
{
	if (h->pid <= 0)
		return;
	kill(h->pid, SIGCONT);
	kill(h->pid, SIGTERM);
	if (twait(h->pid, 10000) < 0) {
		kill(h->pid, SIGKILL);
		twait(h->pid, 5000);
	}
	close(h->out);
	h->pid = 0;
}
