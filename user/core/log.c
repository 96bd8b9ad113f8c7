// SPDX-License-Identifier: BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>

#include "core/log.h"

int fc_verbosity = FC_LOG_INFO;

/* libbpf's own messages are noise next to ours except at -vv (style.md: xdp-tools). */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (fc_verbosity < FC_LOG_DEBUG + (level == LIBBPF_DEBUG))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void fc_log_init(void)
{
	libbpf_set_print(libbpf_print);
}

void fc_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > fc_verbosity)
		return;
	va_start(ap, fmt);
	fputs("faultcell: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
