// SPDX-License-Identifier: BSD-2-Clause
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/units.h"

/* Decimals that give 3 significant digits once @a (≥ 0) is rounded: 1.23, 12.3, 123. */
static int sig3_decimals(double a)
{
	return a >= 99.95 ? 0 : a >= 9.995 ? 1 : 2;
}

char *fc_fmt_seconds(double s, char *buf, size_t len)
{
	static const struct {
		double scale; /* seconds per unit */
		double from;  /* smallest |s| shown in this unit (after 3-digit rounding) */
		const char *name;
	} units[] = {
		{ 1e-9, 0, "ns" },    { 1e-6, 999.5e-9, "µs" }, { 1e-3, 999.5e-6, "ms" },
		{ 1, 999.5e-3, "s" }, { 60, 999.5, "min" },	{ 3600, 59.95 * 60, "h" },
	};
	double a = fabs(s), v;
	int i;

	if (isnan(s))
		return snprintf(buf, len, "no data"), buf;
	if (a == 0)
		return snprintf(buf, len, "0 s"), buf;
	for (i = (int)(sizeof(units) / sizeof(units[0])) - 1; i > 0 && a < units[i].from; i--)
		;
	v = a / units[i].scale;
	snprintf(buf, len, "%s%.*f %s", s < 0 ? "-" : "", sig3_decimals(v), v, units[i].name);
	return buf;
}

char *fc_fmt_ratio(double r, char *buf, size_t len)
{
	double pct = r * 100;
	int d;

	if (isnan(r))
		return snprintf(buf, len, "no data"), buf;
	/*
	 * 3 significant digits, then more until a near miss no longer reads as its bound:
	 * 0.99995 is "99.995%", not "100%" — the digits an SLO is written in.
	 */
	d = sig3_decimals(fabs(pct));
	if (pct != 0 && fabs(pct) < 1)
		d = 2 - (int)floor(log10(fabs(pct)));
	for (; d < 6; d++) {
		char t[64];
		double back;

		snprintf(t, sizeof(t), "%.*f", d, pct);
		back = strtod(t, NULL);
		if (r > 0 && r < 1 && (back >= 100 || back <= 0))
			continue;
		if ((r > 1 && back <= 100) || (r < 0 && back >= 0))
			continue;
		break;
	}
	snprintf(buf, len, "%.*f%%", d, pct);
	return buf;
}

char *fc_fmt_count(uint64_t n, char *buf, size_t len)
{
	char digits[32], out[48];
	int nd, o = 0;

	nd = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)n);
	for (int i = 0; i < nd; i++) {
		if (i && (nd - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = 0;
	snprintf(buf, len, "%s", out);
	return buf;
}

char *fc_fmt_number(double v, char *buf, size_t len)
{
	double a = fabs(v);

	if (isnan(v))
		return snprintf(buf, len, "no data"), buf;
	if (a == 0)
		snprintf(buf, len, "0");
	else if (a >= 1 && a < 1e6)
		snprintf(buf, len, "%.*f", sig3_decimals(a), v);
	else if (a >= 1e-3 && a < 1)
		snprintf(buf, len, "%.*f", 2 - (int)floor(log10(a)), v);
	else
		snprintf(buf, len, "%.3g", v);
	return buf;
}

char *fc_fmt_value(double v, enum fc_unit u, char *buf, size_t len)
{
	if (isnan(v))
		return snprintf(buf, len, "no data"), buf;
	switch (u) {
	case FC_UNIT_SECONDS:
		return fc_fmt_seconds(v, buf, len);
	case FC_UNIT_RATIO:
		return fc_fmt_ratio(v, buf, len);
	case FC_UNIT_COUNT:
		if (v >= 0 && v < 1.8e19 && v == floor(v))
			return fc_fmt_count((uint64_t)v, buf, len);
		return fc_fmt_number(v, buf, len);
	case FC_UNIT_NONE:
		break;
	}
	return fc_fmt_number(v, buf, len);
}
