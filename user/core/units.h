/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Numbers as a person reads them (terminal, Markdown, HTML): times in ns/µs/ms/s/min/h with 3
 * significant digits, ratios as percentages that never round a miss up to 100 %, counts with
 * thousands separators. JSON never goes through these: it stays raw, in SI base units.
 */
#ifndef FC_UNITS_H
#define FC_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* What a number measures; the engine knows it per metric (cond_type.c). */
enum fc_unit {
	FC_UNIT_NONE = 0, /* a plain number: 3 significant digits */
	FC_UNIT_SECONDS,  /* a duration or latency, in seconds */
	FC_UNIT_RATIO,	  /* 0..1, shown as a percentage */
	FC_UNIT_COUNT,	  /* a whole number of things: thousands separators */
};

/* 0.000841 → "841 µs", 1.5 → "1.50 s", 5400 → "1.50 h". Negative values keep their sign. */
char *fc_fmt_seconds(double s, char *buf, size_t len);
/*
 * 0.0512 → "5.12%", 0.999 → "99.9%", 0.99995 → "99.995%" (digits are added until a value
 * below 1 no longer reads as 100%, and above 0 no longer reads as 0%).
 */
char *fc_fmt_ratio(double r, char *buf, size_t len);
/* 1234567 → "1,234,567". */
char *fc_fmt_count(uint64_t n, char *buf, size_t len);
/* 3 significant digits, "%.3g" without an exponent below 1e6. */
char *fc_fmt_number(double v, char *buf, size_t len);
/* Dispatch on @u; NaN is "no data" whatever the unit. Returns @buf. */
char *fc_fmt_value(double v, enum fc_unit u, char *buf, size_t len);

#endif
