/*
 * oftp2_switches.c - the names of the OFTP2 module's per-partner switches
 * (api/oftp2.h). Apart from the store so that the client, which checks
 * bodies with bodies.c, links no SQLite.
 */
#include "config.h"

#include <string.h>

#include "api/oftp2.h"

/* The switches of modules/oftp2/config.c a partner entry may carry. */
static const char *const switches[] = {
	"tolerate_missing_cr", "tolerate_bare_cdt", "tolerate_numeric_spaces",
	"tolerate_lowercase", "tolerate_x_charset", "tolerate_time_counter0",
	"tolerate_sth_octet0", "tolerate_sr_any", "tolerate_restart_and",
	"tolerate_efid_no_credit", "tolerate_lf_trailer",
	"tolerate_data_padding", "tolerate_esid_early", "check_efid_counts",
	"detect", NULL
};

const char *
sp_oftp2_switch_problem(const char *key)
{
	size_t i;

	for (i = 0; switches[i] != NULL; i++)
		if (strcmp(key, switches[i]) == 0)
			return NULL;
	return "is not a switch of the oftp2 module";
}

