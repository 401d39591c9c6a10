/*
 * crl.h - certificate revocation lists for one CA bundle: read PEM CRLs,
 * check that a CA of the bundle signed each, and remember when each one
 * stops being current (nextUpdate).
 *
 * One copy of this mechanism for every side that handles CRLs: the partner
 * module and the server's outgoing routes (when a revision is applied), the
 * client (a CRL it fetched from a distribution point) and smartproxy-api (a
 * CRL posted to it). It depends on GnuTLS and err.h only, so a module can
 * compile it in (as it does src/api/pwhash.c) without linking the core.
 *
 * Ownership: a struct sp_crl_set owns its CRLs until sp_crl_set_take() hands
 * them to a GnuTLS trust list; it always owns its `info` array. Free with
 * sp_crl_set_free().
 */
#ifndef SP_CORE_CRL_H
#define SP_CORE_CRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gnutls/x509.h>

#define SP_CRL_MAX 64                /* CRLs per bundle */
#define SP_CRL_ISSUER_MAX 256        /* an issuer DN as text, truncated */

/* What a check needs after the CRLs went into a trust list. */
struct sp_crl_info {
	time_t this_update;
	time_t next_update;          /* -1: the CRL names none */
	int64_t number;              /* cRLNumber, -1 when absent or too long */
	gnutls_datum_t issuer_raw;   /* DER of the issuer name (owned) */
	char issuer[SP_CRL_ISSUER_MAX];
};

struct sp_crl_set {
	gnutls_x509_crl_t *crls;     /* NULL after sp_crl_set_take() */
	struct sp_crl_info *info;
	size_t n;
};

/*
 * Read every CRL of `crl_pem` and check that a CA of `ca_pem` signed it.
 * A CRL past its nextUpdate (or not yet current) is still taken: whether it
 * may be used is the caller's policy, and refusing it would refuse the whole
 * configuration. SP_ERR_CONFIG with one line in err when the text holds no
 * CRL, a CRL that does not parse or one no CA of the bundle signed;
 * SP_ERR_NOMEM.
 */
int sp_crl_load(const char *ca_pem, const char *crl_pem, struct sp_crl_set *out,
    char *err, size_t errlen);
/* The CRLs for gnutls_x509_trust_list_add_crls(), which takes them over. */
gnutls_x509_crl_t *sp_crl_set_take(struct sp_crl_set *s);
void sp_crl_set_free(struct sp_crl_set *s);

/*
 * The CRL of the set issued by the issuer of `der` (a DER certificate), or
 * NULL: a check of that certificate against the set used this CRL.
 */
const struct sp_crl_info *sp_crl_for_cert(const struct sp_crl_set *s,
    const uint8_t *der, size_t len);
/* Is the CRL past its nextUpdate at `now`? */
bool sp_crl_expired(const struct sp_crl_info *ci, time_t now);

/*
 * A CRL as fetched (PEM text, or DER as distribution points serve it) into
 * NUL-terminated PEM text: *out is malloc'd, the caller frees it.
 * SP_ERR_INVALID when the bytes are neither, SP_ERR_NOMEM.
 */
int sp_crl_to_pem(const void *data, size_t len, char **out);

/* Serial number (hex) and issuer DN of a DER certificate, for log lines. */
int sp_crl_cert_names(const uint8_t *der, size_t len, char *serial, size_t serial_len,
    char *issuer, size_t issuer_len);

/* "YYYY-MM-DDTHH:MM:SSZ" of t ("none" for -1). */
void sp_crl_time(time_t t, char out[21]);

#endif
