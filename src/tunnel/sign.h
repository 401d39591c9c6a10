/*
 * sign.h - the tunnel messages of keyless TLS: the server asks the client for
 * a signature with a listener's private key, which never leaves the inside.
 *
 *   server -> client  {"type":"sign","id":N,"listener":"NAME",
 *                      "algorithm":"ECDSA-SECP256R1-SHA256","digest":"<hex>"}
 *   client -> server  {"type":"signature","id":N,"signature":"<hex>"}
 *                  or {"type":"signature","id":N,"error":"why"}
 *
 * What travels is a digest: GnuTLS hashes the handshake content itself and
 * hands an external key only the hash (for ECDSA and RSA; RSA PKCS#1 v1.5 as
 * a DigestInfo, algorithm "RSA-RAW"). The client treats a request as hostile
 * input (the DMZ may be in an attacker's hands): sp_sign_req_parse() accepts
 * only the signature algorithms TLS 1.2 and 1.3 servers use with SHA-2, and
 * a digest of exactly that hash's size (a DigestInfo of SHA-256/384/512 for
 * RSA-RAW). It cannot prove the digest is of a handshake; docs/threat-model.md
 * says what follows from that.
 *
 * Ownership: parsed strings point into the message; data is copied into the
 * caller's struct. New messages are the caller's to json_object_put().
 */
#ifndef SP_TUNNEL_SIGN_H
#define SP_TUNNEL_SIGN_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include <gnutls/gnutls.h>

#define SP_SIGN_DATA_MAX 96      /* largest digest (a SHA-512 DigestInfo: 83) */
#define SP_SIG_MAX 1024          /* RSA 8192 */
#define SP_SIGN_LISTENER_MAX 64

struct sp_sign_req {
	long long id;
	const char *listener;
	gnutls_sign_algorithm_t algo;
	uint8_t data[SP_SIGN_DATA_MAX];
	size_t len;
};

/* A sign request; NULL when out of memory or the sizes are out of bounds. */
json_object *sp_sign_req_new(long long id, const char *listener,
    gnutls_sign_algorithm_t algo, const uint8_t *data, size_t len);
/* Parse and check a sign request; `why` says what is wrong (SP_ERR_INVALID
 * for a malformed message, SP_ERR_DENIED for an algorithm or digest a TLS
 * server does not sign). */
int sp_sign_req_parse(json_object *msg, struct sp_sign_req *out, char *why, size_t n);
/* Is `algo` a TLS server's signature algorithm and d a digest that fits it?
 * SP_OK or SP_ERR_DENIED. */
int sp_sign_digest_check(gnutls_sign_algorithm_t algo, const uint8_t *d, size_t n);

/* An answer: a signature, or (sig NULL) an error text. */
json_object *sp_sign_resp_new(long long id, const uint8_t *sig, size_t len, const char *error);
/* Parse an answer: *id always; then either sig/len (SP_OK) or *error
 * (SP_ERR_DENIED, the client's words) or SP_ERR_INVALID. */
int sp_sign_resp_parse(json_object *msg, long long *id, uint8_t *sig, size_t max,
    size_t *len, const char **error);

#endif
