/*
 * oftp2/deviation.c - names of the deviations the codec and the module admit
 * (OFTP2_TOL_* and OFTP2_DEV_* bits): one stable token each, used in the
 * `oftp2_deviation` log line, in events and by `partners diagnose`.
 */
#include "oftp2/codec.h"

#include <stddef.h>

static const struct {
	unsigned bit;
	const char *rule;
} rules[] = {
	{ OFTP2_TOL_NO_CR, "missing_cr" },
	{ OFTP2_TOL_BARE_CDT, "bare_cdt" },
	{ OFTP2_TOL_NUMERIC_SPACES, "numeric_spaces" },
	{ OFTP2_TOL_LOWERCASE, "lowercase" },
	{ OFTP2_TOL_X_CHARSET, "x_charset" },
	{ OFTP2_TOL_TIME_COUNTER0, "time_counter0" },
	{ OFTP2_TOL_STH_OCTET0, "sth_octet0" },
	{ OFTP2_TOL_SR_ANY, "sr_any" },
	{ OFTP2_TOL_REST_AND, "restart_and" },
	{ OFTP2_TOL_EFID_NO_CREDIT, "efid_no_credit" },
	{ OFTP2_TOL_LF_TRAILER, "lf_trailer" },
	{ OFTP2_TOL_DATA_PAD, "data_padding" },
	{ OFTP2_TOL_ESID_EARLY, "esid_early" },
	{ OFTP2_DEV_RESERVED, "reserved_not_spaces" },
};

const char *
oftp2_dev_rule(unsigned bit)
{
	size_t i;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].bit == bit)
			return rules[i].rule;
	return NULL;
}

const char *
oftp2_dev_field(const struct oftp2_dev *dev, unsigned bit)
{
	size_t i;

	for (i = 0; i < OFTP2_DEV_NFIELD && dev->field[i] != NULL; i++)
		if (dev->field_bit[i] == bit)
			return dev->field[i];
	return "-";
}
