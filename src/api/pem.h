/*
 * pem.h - checks of certificates and keys that arrive through the API
 * (PUT /v1/listeners/<name>/tls, tls.ca_bundle of PUT /v1/partners/<id>),
 * so that what the store accepts loads in the DMZ too: the same checks
 * --import makes with GnuTLS before it writes anything.
 *
 * Ownership: nothing is kept; `why` is the caller's buffer.
 */
#ifndef SP_API_PEM_H
#define SP_API_PEM_H

#include <stddef.h>

/* Largest PEM text accepted (as in the site file). */
#define SP_API_PEM_MAX (256 * 1024)

/* A bundle of one or more X.509 certificates (CA bundle): 0, or -1 with
 * the reason in `why`. */
int sp_api_pem_certs_check(const char *pem, char *why, size_t whylen);
/* A certificate chain and the private key of its first certificate: 0, or
 * -1 with the reason. */
int sp_api_pem_pair_check(const char *chain, const char *key, char *why,
    size_t whylen);
/* SHA-256 over the DER of the first certificate of `pem` (64 hex + NUL). */
int sp_api_pem_leaf_sha256(const char *pem, char out[65]);

#endif
