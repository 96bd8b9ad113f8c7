// SPDX-License-Identifier: BSD-2-Clause
#include <math.h>

#include "core/units.h"
#include "core/util.h"
#include "lib/test.h"

FC_TEST(units_format, TIER_UNIT)
{
	static const struct {
		double v;
		enum fc_unit u;
		const char *want;
	} cases[] = {
		{ 0.000841, FC_UNIT_SECONDS, "841 µs" },
		{ 0.0008414, FC_UNIT_SECONDS, "841 µs" },
		{ 1.5, FC_UNIT_SECONDS, "1.50 s" },
		{ 0.0123, FC_UNIT_SECONDS, "12.3 ms" },
		{ 0.0009996, FC_UNIT_SECONDS, "1.00 ms" }, /* rounds up into the next unit */
		{ 350e-9, FC_UNIT_SECONDS, "350 ns" },
		{ 999.4, FC_UNIT_SECONDS, "999 s" },
		{ 1200, FC_UNIT_SECONDS, "20.0 min" },
		{ 5400, FC_UNIT_SECONDS, "1.50 h" },
		{ 0, FC_UNIT_SECONDS, "0 s" },
		{ -0.002, FC_UNIT_SECONDS, "-2.00 ms" },
		{ NAN, FC_UNIT_SECONDS, "no data" },
		{ 0.0512, FC_UNIT_RATIO, "5.12%" },
		{ 0.999, FC_UNIT_RATIO, "99.9%" },
		{ 0.99995, FC_UNIT_RATIO, "99.995%" }, /* never "100%" below 1 */
		{ 1, FC_UNIT_RATIO, "100%" },
		{ 0.00001, FC_UNIT_RATIO, "0.00100%" },
		{ 0, FC_UNIT_RATIO, "0.00%" },
		{ 1234567, FC_UNIT_COUNT, "1,234,567" },
		{ 999, FC_UNIT_COUNT, "999" },
		{ 1000, FC_UNIT_COUNT, "1,000" },
		{ 2.5, FC_UNIT_COUNT, "2.50" },
		{ 0.5, FC_UNIT_NONE, "0.500" },
		{ 0.05, FC_UNIT_NONE, "0.0500" },
		{ 123.4, FC_UNIT_NONE, "123" },
		{ 2e7, FC_UNIT_NONE, "2e+07" },
	};
	char buf[64];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		ASSERT_STREQ(fc_fmt_value(cases[i].v, cases[i].u, buf, sizeof(buf)), cases[i].want,
			     cases[i].want);
}
