/*
 * cert.c - may this partner present this client certificate: a pin (SHA-256
 * of the leaf's DER) or a chain to one of its CAs, checked against its CRLs,
 * that names this partner (tls.bind: subject CN, a DNS-name SAN or the exact
 * subject DN). A CA such as Odette's issues certificates to every one of its
 * customers: without the binding, any of them would pass the certificate step
 * of every partner that trusts it.
 *
 * The core hands modules the leaf only, so a partner's ca_bundle must hold
 * every CA up to the one that issued the leaf (intermediates included); each
 * certificate in the bundle is a trust anchor. Ownership: the trust list made
 * by pm_trust_load() belongs to the partner (freed in pm_config_free()).
 */
#include "partner.h"

#include "api/pwhash.h"
#include "core/err.h"

#include <gnutls/gnutls.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

static size_t
count_pem(const char *pem, const char *label)
{
	size_t n = 0;
	const char *p = pem;

	while ((p = strstr(p, label)) != NULL) {
		n++;
		p += strlen(label);
	}
	return n;
}

int
pm_trust_load(const char *ca_pem, const char *crl_pem,
    gnutls_x509_trust_list_t *out, struct sp_crl_set *crl, char *err, size_t errlen)
{
	gnutls_x509_trust_list_t tl;
	gnutls_datum_t ca = { (unsigned char *)(uintptr_t)ca_pem, (unsigned)strlen(ca_pem) };
	gnutls_x509_crl_t *crls;
	size_t want;
	int r;

	*out = NULL;
	memset(crl, 0, sizeof(*crl));
	if (gnutls_x509_trust_list_init(&tl, 0) < 0)
		return SP_ERR_NOMEM;
	want = count_pem(ca_pem, "-----BEGIN CERTIFICATE-----");
	r = gnutls_x509_trust_list_add_trust_mem(tl, &ca, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
	if (r <= 0 || (size_t)r != want) {
		snprintf(err, errlen, "ca_bundle: not a PEM bundle of certificates%s%s",
		    r < 0 ? ": " : "", r < 0 ? gnutls_strerror(r) : "");
		gnutls_x509_trust_list_deinit(tl, 1);
		return SP_ERR_CONFIG;
	}
	if (crl_pem != NULL) {
		/* Only CRLs signed by a CA of the bundle: a CRL we dropped silently
		 * would let revoked certificates through, so refuse. An expired one
		 * is kept (with its nextUpdate): the partner's policy decides. */
		if ((r = sp_crl_load(ca_pem, crl_pem, crl, err, errlen)) != SP_OK) {
			gnutls_x509_trust_list_deinit(tl, 1);
			return r;
		}
		crls = sp_crl_set_take(crl);
		r = gnutls_x509_trust_list_add_crls(tl, crls, (unsigned)crl->n, 0, 0);
		gnutls_free(crls);      /* the list took the CRLs, not the array */
		if (r < 0 || (size_t)r != crl->n) {
			snprintf(err, errlen, "crl: not taken into the trust list");
			gnutls_x509_trust_list_deinit(tl, 1);
			sp_crl_set_free(crl);
			return SP_ERR_CONFIG;
		}
	}
	*out = tl;
	return SP_OK;
}

static bool
pinned(const struct pm_partner *p, const uint8_t *der, size_t derlen,
    const char *sha256)
{
	char own[65];
	size_t i;
	bool hit = false;

	if (sha256 == NULL || strlen(sha256) != 64) {
		if (sp_sha256_hex(der, derlen, own) != 0)
			return false;
		sha256 = own;
	}
	for (i = 0; i < p->npins; i++)
		hit |= sp_ct_equal(p->pins[i], sha256, 64);
	return hit;
}

/* GnuTLS status of the leaf against the partner's CAs and CRLs; 0 = good.
 * The nextUpdate of a CRL is not looked at here (GnuTLS does not either). */
static unsigned
chain_status(const struct pm_partner *p, gnutls_x509_crt_t crt)
{
	gnutls_typed_vdata_st purpose = {
		GNUTLS_DT_KEY_PURPOSE_OID, (unsigned char *)(uintptr_t)GNUTLS_KP_TLS_WWW_CLIENT, 0
	};
	unsigned status = GNUTLS_CERT_INVALID;

	if (gnutls_x509_trust_list_verify_crt2(p->trust, &crt, 1, &purpose, 1,
	    0, &status, NULL) < 0)
		return GNUTLS_CERT_INVALID;
	return status;
}

/* The leaf, imported once for the chain and the binding; NULL if unusable. */
static gnutls_x509_crt_t
import(const uint8_t *der, size_t derlen)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)der, (unsigned)derlen };

	if (gnutls_x509_crt_init(&crt) < 0)
		return NULL;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		return NULL;
	}
	return crt;
}

const char *
pm_bind_name(enum pm_bind b)
{
	switch (b) {
	case PM_BIND_CN: return "cn";
	case PM_BIND_SAN: return "san";
	case PM_BIND_DN: return "dn";
	case PM_BIND_NONE: return "none";
	}
	return "?";
}

/* Some CN of the subject is the ID, exactly (IDs are A-Z 0-9: no case games). */
static bool
cn_names(gnutls_x509_crt_t crt, const char *id)
{
	char buf[256];
	size_t n;
	unsigned i;
	int r;

	for (i = 0; i < 16; i++) {
		n = sizeof(buf);
		r = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, i,
		    0, buf, &n);
		if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			return false;
		/* A CN longer than buf or with an embedded NUL is no ODETTE ID. */
		if (r == 0 && n == strlen(buf) && strcmp(buf, id) == 0)
			return true;
	}
	return false;
}

/* Some DNS-name SAN is the ID; DNS names compare without case. */
static bool
san_names(gnutls_x509_crt_t crt, const char *id)
{
	char buf[256];
	size_t n;
	unsigned i;
	int r;

	for (i = 0; i < 64; i++) {
		n = sizeof(buf) - 1;
		r = gnutls_x509_crt_get_subject_alt_name(crt, i, buf, &n, NULL);
		if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			return false;
		if (r != GNUTLS_SAN_DNSNAME)
			continue;
		buf[n] = '\0';
		if (n == strlen(buf) && strcasecmp(buf, id) == 0)
			return true;
	}
	return false;
}

static bool
dn_is(gnutls_x509_crt_t crt, const char *want)
{
	gnutls_datum_t dn = { NULL, 0 };
	bool ok;

	if (gnutls_x509_crt_get_dn3(crt, &dn, 0) < 0)
		return false;
	ok = dn.size == strlen(want) && memcmp(dn.data, want, dn.size) == 0;
	gnutls_free(dn.data);
	return ok;
}

static bool
bound(const struct pm_partner *p, gnutls_x509_crt_t crt)
{
	switch (p->bind) {
	case PM_BIND_CN: return cn_names(crt, p->id);
	case PM_BIND_SAN: return san_names(crt, p->id);
	case PM_BIND_DN: return p->bind_dn != NULL && dn_is(crt, p->bind_dn);
	case PM_BIND_NONE: return true;
	}
	return false;
}

bool
pm_cert_bound(const struct pm_partner *p, const uint8_t *der, size_t derlen)
{
	gnutls_x509_crt_t crt;
	bool ok;

	if (p->bind == PM_BIND_NONE)
		return true;
	if ((crt = import(der, derlen)) == NULL)
		return false;
	ok = bound(p, crt);
	gnutls_x509_crt_deinit(crt);
	return ok;
}

enum pm_cert_verdict
pm_cert_check(const struct pm_partner *p, const uint8_t *der, size_t derlen,
    const char *sha256, const struct sp_crl_info **stale)
{
	const struct sp_crl_info *ci;
	gnutls_x509_crt_t crt;
	unsigned status;
	bool ok;

	if (stale != NULL)
		*stale = NULL;
	if (!p->require_cert)
		return PM_CERT_OK;
	if (der == NULL || derlen == 0)
		return PM_CERT_MISSING;
	if (p->npins > 0 && pinned(p, der, derlen, sha256))
		return PM_CERT_OK;
	if (p->trust == NULL || (crt = import(der, derlen)) == NULL)
		return PM_CERT_NO_MATCH;
	status = chain_status(p, crt);
	ok = status == 0 && bound(p, crt);
	gnutls_x509_crt_deinit(crt);
	if (status & GNUTLS_CERT_REVOKED)
		return PM_CERT_REVOKED;
	if (status != 0)
		return PM_CERT_NO_MATCH;
	if (!ok)
		return PM_CERT_UNBOUND;
	ci = sp_crl_for_cert(&p->crl, der, derlen);
	if (sp_crl_expired(ci, time(NULL))) {
		if (stale != NULL)
			*stale = ci;
		if (!p->crl_fail_open)
			return PM_CERT_CRL_EXPIRED;
	}
	return PM_CERT_OK;
}
