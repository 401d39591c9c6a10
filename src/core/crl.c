/*
 * crl.c - CRLs of one CA bundle: parsed, signature checked against the
 * bundle, nextUpdate remembered (crl.h).
 */
#include "core/crl.h"

#include "core/err.h"

#include <gnutls/gnutls.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CRL_LABEL "-----BEGIN X509 CRL-----"
#define CRT_LABEL "-----BEGIN CERTIFICATE-----"

static size_t
count_label(const char *pem, const char *label)
{
	size_t n = 0;
	const char *p = pem;

	while ((p = strstr(p, label)) != NULL) {
		n++;
		p += strlen(label);
	}
	return n;
}

static int
fail(char *err, size_t errlen, const char *what, int gr)
{
	snprintf(err, errlen, "%s%s%s", what, gr < 0 ? ": " : "", gr < 0 ? gnutls_strerror(gr) : "");
	return SP_ERR_CONFIG;
}

static int64_t
crl_number(gnutls_x509_crl_t crl)
{
	unsigned char b[16];
	size_t len = sizeof(b), i;
	unsigned int crit = 0;
	int64_t v = 0;

	if (gnutls_x509_crl_get_number(crl, b, &len, &crit) < 0 || len == 0 || len > 7)
		return -1;
	for (i = 0; i < len; i++)
		v = (v << 8) | b[i];
	return v;
}

static int
fill_info(gnutls_x509_crl_t crl, struct sp_crl_info *ci)
{
	size_t len = sizeof(ci->issuer);

	ci->this_update = gnutls_x509_crl_get_this_update(crl);
	ci->next_update = gnutls_x509_crl_get_next_update(crl);
	if (ci->next_update == (time_t)-1)
		ci->next_update = -1;
	ci->number = crl_number(crl);
	if (gnutls_x509_crl_get_raw_issuer_dn(crl, &ci->issuer_raw) < 0)
		return SP_ERR_NOMEM;
	/* The text is for log lines only: a name too long is cut. */
	if (gnutls_x509_crl_get_issuer_dn(crl, ci->issuer, &len) < 0)
		snprintf(ci->issuer, sizeof(ci->issuer), "(unreadable issuer)");
	return SP_OK;
}

int
sp_crl_load(const char *ca_pem, const char *crl_pem, struct sp_crl_set *out,
    char *err, size_t errlen)
{
	gnutls_datum_t cad = { (unsigned char *)(uintptr_t)ca_pem, (unsigned)strlen(ca_pem) };
	gnutls_datum_t crld = { (unsigned char *)(uintptr_t)crl_pem, (unsigned)strlen(crl_pem) };
	gnutls_x509_crt_t *cas = NULL;
	gnutls_x509_crl_t *crls = NULL;
	unsigned ncas = 0, ncrls = 0, i, status;
	size_t want = count_label(crl_pem, CRL_LABEL);
	int r, gr;

	memset(out, 0, sizeof(*out));
	if (want == 0)
		return fail(err, errlen, "crl: no PEM CRL in it", 0);
	if (want > SP_CRL_MAX) {
		snprintf(err, errlen, "crl: more than %d CRLs", SP_CRL_MAX);
		return SP_ERR_CONFIG;
	}
	gr = gnutls_x509_crt_list_import2(&cas, &ncas, &cad, GNUTLS_X509_FMT_PEM, 0);
	if (gr < 0 || ncas == 0 || ncas != count_label(ca_pem, CRT_LABEL)) {
		/* Some may have been read: free them (found by fuzz_crl). */
		r = fail(err, errlen, "crl: the CA bundle is not a PEM bundle of certificates", gr);
		goto out;
	}
	gr = gnutls_x509_crl_list_import2(&crls, &ncrls, &crld, GNUTLS_X509_FMT_PEM, 0);
	if (gr < 0 || ncrls != want) {
		r = fail(err, errlen, "crl: not a PEM list of CRLs", gr);
		goto out;
	}
	for (i = 0; i < ncrls; i++) {
		/* The signature is what makes a CRL ours; whether a stale one may
		 * still be used is the policy of whoever checks with it. */
		const unsigned dated = GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED |
		    GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE;

		gr = gnutls_x509_crl_verify(crls[i], cas, ncas, 0, &status);
		/* GnuTLS adds INVALID to a time finding: drop it with them. */
		if (status & dated)
			status &= ~(dated | (unsigned)GNUTLS_CERT_INVALID);
		if (gr < 0 || status != 0) {
			snprintf(err, errlen, "crl: CRL %u is not signed by a CA of the bundle", i + 1);
			r = SP_ERR_CONFIG;
			goto out;
		}
	}
	if ((out->info = calloc(ncrls, sizeof(*out->info))) == NULL) {
		r = SP_ERR_NOMEM;
		goto out;
	}
	out->n = ncrls;
	for (i = 0; i < ncrls; i++)
		if ((r = fill_info(crls[i], &out->info[i])) != SP_OK)
			goto out;
	out->crls = crls;
	crls = NULL;
	r = SP_OK;
out:
	for (i = 0; i < ncas; i++)
		gnutls_x509_crt_deinit(cas[i]);
	gnutls_free(cas);
	if (crls != NULL) {
		for (i = 0; i < ncrls; i++)
			gnutls_x509_crl_deinit(crls[i]);
		gnutls_free(crls);
	}
	if (r != SP_OK)
		sp_crl_set_free(out);
	return r;
}

gnutls_x509_crl_t *
sp_crl_set_take(struct sp_crl_set *s)
{
	gnutls_x509_crl_t *c = s->crls;

	s->crls = NULL;
	return c;
}

void
sp_crl_set_free(struct sp_crl_set *s)
{
	size_t i;

	for (i = 0; s->info != NULL && i < s->n; i++)
		gnutls_free(s->info[i].issuer_raw.data);
	free(s->info);
	if (s->crls != NULL) {
		for (i = 0; i < s->n; i++)
			gnutls_x509_crl_deinit(s->crls[i]);
	}
	gnutls_free(s->crls);
	memset(s, 0, sizeof(*s));
}

int
sp_crl_to_pem(const void *data, size_t len, char **out)
{
	gnutls_x509_crl_t crl;
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)data, (unsigned)len }, pem = { NULL, 0 };
	int r = SP_ERR_INVALID;

	*out = NULL;
	if (len == 0 || len > UINT32_MAX)
		return SP_ERR_INVALID;
	if (len > 10 && memcmp(data, "-----BEGIN", 10) == 0) {
		/* PEM stays as it came; sp_crl_load() reads it. No NUL inside. */
		if (memchr(data, '\0', len) != NULL)
			return SP_ERR_INVALID;
		if ((*out = malloc(len + 1)) == NULL)
			return SP_ERR_NOMEM;
		memcpy(*out, data, len);
		(*out)[len] = '\0';
		return SP_OK;
	}
	if (gnutls_x509_crl_init(&crl) < 0)
		return SP_ERR_NOMEM;
	if (gnutls_x509_crl_import(crl, &d, GNUTLS_X509_FMT_DER) >= 0 &&
	    gnutls_x509_crl_export2(crl, GNUTLS_X509_FMT_PEM, &pem) >= 0) {
		if ((*out = malloc(pem.size + 1)) == NULL) {
			r = SP_ERR_NOMEM;
		} else {
			memcpy(*out, pem.data, pem.size);
			(*out)[pem.size] = '\0';
			r = SP_OK;
		}
	}
	gnutls_free(pem.data);
	gnutls_x509_crl_deinit(crl);
	return r;
}

const struct sp_crl_info *
sp_crl_for_cert(const struct sp_crl_set *s, const uint8_t *der, size_t len)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)der, (unsigned)len }, iss = { NULL, 0 };
	const struct sp_crl_info *hit = NULL;
	size_t i;

	if (s->n == 0 || gnutls_x509_crt_init(&crt) < 0)
		return NULL;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) >= 0 &&
	    gnutls_x509_crt_get_raw_issuer_dn(crt, &iss) >= 0) {
		for (i = 0; i < s->n && hit == NULL; i++)
			if (s->info[i].issuer_raw.size == iss.size &&
			    memcmp(s->info[i].issuer_raw.data, iss.data, iss.size) == 0)
				hit = &s->info[i];
	}
	gnutls_free(iss.data);
	gnutls_x509_crt_deinit(crt);
	return hit;
}

bool
sp_crl_expired(const struct sp_crl_info *ci, time_t now)
{
	return ci != NULL && ci->next_update != -1 && ci->next_update < now;
}

int
sp_crl_cert_names(const uint8_t *der, size_t len, char *serial, size_t serial_len,
    char *issuer, size_t issuer_len)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)der, (unsigned)len };
	unsigned char sn[64];
	size_t snlen = sizeof(sn), i, ilen = issuer_len;
	int r = SP_ERR_INVALID;

	snprintf(serial, serial_len, "?");
	snprintf(issuer, issuer_len, "?");
	if (gnutls_x509_crt_init(&crt) < 0)
		return SP_ERR_NOMEM;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0)
		goto out;
	if (gnutls_x509_crt_get_serial(crt, sn, &snlen) >= 0 && serial_len > 2 * snlen) {
		for (i = 0; i < snlen; i++)
			snprintf(serial + 2 * i, serial_len - 2 * i, "%02x", sn[i]);
	}
	if (gnutls_x509_crt_get_issuer_dn(crt, issuer, &ilen) < 0)
		snprintf(issuer, issuer_len, "?");
	r = SP_OK;
out:
	gnutls_x509_crt_deinit(crt);
	return r;
}

void
sp_crl_time(time_t t, char out[21])
{
	struct tm tm;

	if (t == (time_t)-1 || gmtime_r(&t, &tm) == NULL) {
		snprintf(out, 21, "none");
		return;
	}
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
