/*
 * pem.c - GnuTLS checks of PEM that arrives through the API (see pem.h).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "api/pem.h"
#include "core/err.h"
#include "core/tls.h"

int
sp_api_pem_certs_check(const char *pem, char *why, size_t whylen)
{
	gnutls_x509_crt_t *crts = NULL;
	gnutls_datum_t d;
	unsigned n = 0, i;
	int r;

	if (pem == NULL || strlen(pem) > SP_API_PEM_MAX ||
	    strstr(pem, "-----BEGIN CERTIFICATE-----") == NULL) {
		snprintf(why, whylen, "holds no PEM CERTIFICATE");
		return -1;
	}
	d.data = (unsigned char *)(uintptr_t)pem;
	d.size = (unsigned)strlen(pem);
	r = gnutls_x509_crt_list_import2(&crts, &n, &d, GNUTLS_X509_FMT_PEM, 0);
	if (r < 0) {
		snprintf(why, whylen, "is not a readable certificate bundle: %s",
		    gnutls_strerror(r));
		return -1;
	}
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	return n > 0 ? 0 : -1;
}

int
sp_api_pem_pair_check(const char *chain, const char *key, char *why,
    size_t whylen)
{
	struct sp_identity id;

	if (chain == NULL || key == NULL || strlen(chain) > SP_API_PEM_MAX ||
	    strlen(key) > SP_API_PEM_MAX) {
		snprintf(why, whylen, "a certificate chain and its key are needed");
		return -1;
	}
	if (sp_api_pem_certs_check(chain, why, whylen) != 0)
		return -1;
	memset(&id, 0, sizeof(id));
	if (sp_identity_from_pem(chain, key, &id, why, whylen) != 0)
		return -1;
	sp_identity_free(&id);
	return 0;
}

int
sp_api_pem_leaf_sha256(const char *pem, char out[65])
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d, der = { NULL, 0 };
	int r = SP_ERR_INVALID;

	out[0] = '\0';
	if (gnutls_x509_crt_init(&crt) < 0)
		return SP_ERR_NOMEM;
	d.data = (unsigned char *)(uintptr_t)pem;
	d.size = (unsigned)strlen(pem);
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) >= 0 &&
	    gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der) >= 0) {
		r = sp_cert_sha256_der(der.data, der.size, out);
		gnutls_free(der.data);
	}
	gnutls_x509_crt_deinit(crt);
	return r;
}
