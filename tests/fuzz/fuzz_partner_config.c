/*
 * fuzz_partner_config.c - libFuzzer target for the partner module's
 * configuration parser (modules/partner/config.c): the `modules.partner`
 * section arrives from outside the DMZ as JSON. Parse one input; when it is
 * accepted, ask the parsed configuration what the module asks it (find each
 * partner, match an address against its networks) and free it.
 */
#include "config.h"

#include <stdint.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include "modules/partner/partner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pm_config *cfg = NULL;
	char err[256];
	char *text;
	uint8_t addr[16] = { 192, 0, 2, 7 };
	size_t i;

	if (size > 256 * 1024 || (text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (pm_config_parse(text, &cfg, err, sizeof(err)) == 0) {
		for (i = 0; i < cfg->npartners; i++) {
			if (pm_config_find(cfg, cfg->partners[i].id) != &cfg->partners[i])
				abort();   /* duplicates were refused */
			(void)pm_partner_allows(&cfg->partners[i], AF_INET, addr);
		}
		pm_config_free(cfg);
	} else if (cfg != NULL || memchr(err, '\n', strnlen(err, sizeof(err))) != NULL)
		abort();           /* a refusal is one line and no object */
	free(text);
	return 0;
}
