/*
 * fuzz_crl.c - the CRL reader on arbitrary bytes (src/core/crl.c): what a
 * distribution point serves (PEM or DER, outside bytes fetched by
 * smartproxy-client) and what is posted to POST /v1/crls. The input is
 * "<CA bundle PEM>\n====\n<CRL bytes>"; without the separator it is all CRL,
 * checked against a bundle that cannot have signed it. Every input must give
 * SP_OK or an error line, and a loaded set must answer its questions.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/crl.h"
#include "core/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char no_ca[] =
	"-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sep = size >= 6 ? memmem(data, size, "\n====\n", 6) : NULL;
	const uint8_t *crl = sep ? sep + 6 : data;
	size_t crllen = sep ? size - (size_t)(crl - data) : size;
	struct sp_crl_set set;
	char *ca, *pem = NULL, err[200] = "", t[21];
	size_t i;

	if (sep != NULL) {
		if ((ca = malloc((size_t)(sep - data) + 1)) == NULL)
			return 0;
		memcpy(ca, data, (size_t)(sep - data));
		ca[sep - data] = '\0';
	} else if ((ca = strdup(no_ca)) == NULL) {
		return 0;
	}
	if (sp_crl_to_pem(crl, crllen, &pem) == SP_OK) {
		if (sp_crl_load(ca, pem, &set, err, sizeof(err)) == SP_OK) {
			for (i = 0; i < set.n; i++) {
				(void)sp_crl_expired(&set.info[i], 0);
				sp_crl_time(set.info[i].next_update, t);
			}
			(void)sp_crl_for_cert(&set, crl, crllen);
			sp_crl_set_free(&set);
		} else if (err[0] == '\0') {
			abort();        /* a refusal always says why */
		}
	}
	free(pem);
	free(ca);
	return 0;
}
