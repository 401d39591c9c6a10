/* sign.c - keyless TLS sign requests and answers; see sign.h. */
#include "tunnel/sign.h"
#include "tunnel/msg.h"
#include "core/err.h"

#include <stdio.h>
#include <string.h>
#include <gnutls/crypto.h>

static json_object *
hex_string(const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char buf[2 * SP_SIG_MAX + 1];
	size_t i;

	if (n > SP_SIG_MAX)
		return NULL;
	for (i = 0; i < n; i++) {
		buf[2 * i] = digits[p[i] >> 4];
		buf[2 * i + 1] = digits[p[i] & 15];
	}
	buf[2 * n] = '\0';
	return json_object_new_string_len(buf, (int)(2 * n));
}

static int
nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Lowercase hex of at most max bytes, at least one. */
static int
unhex(json_object *o, const char *key, uint8_t *out, size_t max, size_t *len)
{
	json_object *v = sp_json_get(o, key, json_type_string);
	const char *s;
	size_t n, i;

	if (v == NULL)
		return SP_ERR_INVALID;
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n == 0 || n % 2 != 0 || n / 2 > max)
		return SP_ERR_INVALID;
	for (i = 0; i < n / 2; i++) {
		int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return SP_ERR_INVALID;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return SP_OK;
}

json_object *
sp_sign_req_new(long long id, const char *listener, gnutls_sign_algorithm_t algo,
    const uint8_t *data, size_t len)
{
	const char *name = gnutls_sign_get_name(algo);
	json_object *m, *d;

	if (name == NULL || len == 0 || len > SP_SIGN_DATA_MAX || (d = hex_string(data, len)) == NULL)
		return NULL;
	if ((m = json_object_new_object()) == NULL) {
		json_object_put(d);
		return NULL;
	}
	json_object_object_add(m, "type", json_object_new_string("sign"));
	json_object_object_add(m, "id", json_object_new_int64(id));
	json_object_object_add(m, "listener", json_object_new_string(listener));
	json_object_object_add(m, "algorithm", json_object_new_string(name));
	json_object_object_add(m, "digest", d);
	return m;
}

/* DigestInfo prefixes (RFC 8017 9.2 note 1) of the hashes TLS uses. */
static const struct {
	gnutls_digest_algorithm_t hash;
	uint8_t prefix[19];
} digest_info[] = {
	{ GNUTLS_DIG_SHA256, { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	    0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 } },
	{ GNUTLS_DIG_SHA384, { 0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	    0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30 } },
	{ GNUTLS_DIG_SHA512, { 0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	    0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40 } },
};

int
sp_sign_digest_check(gnutls_sign_algorithm_t algo, const uint8_t *d, size_t n)
{
	size_t i;

	switch (algo) {
	case GNUTLS_SIGN_ECDSA_SHA256:
	case GNUTLS_SIGN_ECDSA_SECP256R1_SHA256:
	case GNUTLS_SIGN_RSA_PSS_RSAE_SHA256:
	case GNUTLS_SIGN_RSA_PSS_SHA256:
		return n == 32 ? SP_OK : SP_ERR_DENIED;
	case GNUTLS_SIGN_ECDSA_SHA384:
	case GNUTLS_SIGN_ECDSA_SECP384R1_SHA384:
	case GNUTLS_SIGN_RSA_PSS_RSAE_SHA384:
	case GNUTLS_SIGN_RSA_PSS_SHA384:
		return n == 48 ? SP_OK : SP_ERR_DENIED;
	case GNUTLS_SIGN_ECDSA_SHA512:
	case GNUTLS_SIGN_ECDSA_SECP521R1_SHA512:
	case GNUTLS_SIGN_RSA_PSS_RSAE_SHA512:
	case GNUTLS_SIGN_RSA_PSS_SHA512:
		return n == 64 ? SP_OK : SP_ERR_DENIED;
	case GNUTLS_SIGN_RSA_RAW:
		/* TLS 1.2 RSA PKCS#1 v1.5: a DigestInfo of a SHA-2 hash, never raw
		 * bytes (which would make the key a general RSA oracle). */
		for (i = 0; i < sizeof(digest_info) / sizeof(digest_info[0]); i++) {
			size_t hl = gnutls_hash_get_len(digest_info[i].hash);

			if (n == sizeof(digest_info[i].prefix) + hl &&
			    memcmp(d, digest_info[i].prefix, sizeof(digest_info[i].prefix)) == 0)
				return SP_OK;
		}
		return SP_ERR_DENIED;
	default:
		return SP_ERR_DENIED;
	}
}

int
sp_sign_req_parse(json_object *msg, struct sp_sign_req *out, char *why, size_t n)
{
	json_object *id = sp_json_get(msg, "id", json_type_int);
	const char *algo = sp_json_str(msg, "algorithm", NULL);

	memset(out, 0, sizeof(*out));
	out->listener = sp_json_str(msg, "listener", NULL);
	if (id == NULL || (out->id = json_object_get_int64(id)) <= 0) {
		snprintf(why, n, "no request id");
		return SP_ERR_INVALID;
	}
	if (out->listener == NULL || out->listener[0] == '\0' ||
	    strlen(out->listener) > SP_SIGN_LISTENER_MAX) {
		snprintf(why, n, "no listener name");
		return SP_ERR_INVALID;
	}
	if (algo == NULL || (out->algo = gnutls_sign_get_id(algo)) == GNUTLS_SIGN_UNKNOWN) {
		snprintf(why, n, "unknown signature algorithm");
		return SP_ERR_INVALID;
	}
	if (unhex(msg, "digest", out->data, sizeof(out->data), &out->len) != 0) {
		snprintf(why, n, "digest is not 1 to %d octets in lowercase hex", SP_SIGN_DATA_MAX);
		return SP_ERR_INVALID;
	}
	if (sp_sign_digest_check(out->algo, out->data, out->len) != 0) {
		snprintf(why, n, "%s over %zu octets is not a TLS handshake signature",
		    gnutls_sign_get_name(out->algo), out->len);
		return SP_ERR_DENIED;
	}
	return SP_OK;
}

json_object *
sp_sign_resp_new(long long id, const uint8_t *sig, size_t len, const char *error)
{
	json_object *m = json_object_new_object(), *s = NULL;

	if (m == NULL)
		return NULL;
	if (sig != NULL && (s = hex_string(sig, len)) == NULL) {
		json_object_put(m);
		return NULL;
	}
	json_object_object_add(m, "type", json_object_new_string("signature"));
	json_object_object_add(m, "id", json_object_new_int64(id));
	if (s != NULL)
		json_object_object_add(m, "signature", s);
	else
		json_object_object_add(m, "error", json_object_new_string(error ? error : "refused"));
	return m;
}

int
sp_sign_resp_parse(json_object *msg, long long *id, uint8_t *sig, size_t max, size_t *len,
    const char **error)
{
	json_object *i = sp_json_get(msg, "id", json_type_int);

	*id = i != NULL ? json_object_get_int64(i) : 0;
	*len = 0;
	*error = NULL;
	if (*id <= 0)
		return SP_ERR_INVALID;
	if ((*error = sp_json_str(msg, "error", NULL)) != NULL)
		return SP_ERR_DENIED;
	return unhex(msg, "signature", sig, max, len);
}
