/*
 * tls.h - GnuTLS policy and helpers shared by every program.
 *
 * One priority string for the whole product (TLS 1.2 and 1.3 only, AEAD
 * ciphers, ECDHE), identity keys for the tunnel (created on first start,
 * mode 0600), and fingerprints: a Proxy ID or pairing key is the SHA-256 of
 * the SubjectPublicKeyInfo, written as 64 lowercase hex digits, so it stays
 * the same when a certificate is re-issued for the same key.
 *
 * Ownership: sp_identity owns its PEM strings and credentials; free with
 * sp_identity_free(), which zeroes the key.
 */
#ifndef SP_TLS_H
#define SP_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define SP_TLS_PRIORITY \
	"SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:" \
	"+AES-128-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:" \
	"+ECDHE-RSA:%SERVER_PRECEDENCE"

#define SP_KEY_ID_HEX 65 /* 64 hex digits + NUL */

int sp_tls_init(void);
void sp_tls_deinit(void);

struct sp_identity {
	char *cert_pem;
	char *key_pem;
	char key_id[SP_KEY_ID_HEX];
	gnutls_certificate_credentials_t creds;
};

/*
 * Load <dir>/<name>.key and <dir>/<name>.crt, or create both (ECDSA P-256,
 * self-signed, CN=<name>) if neither exists. *created tells which happened.
 * A key file readable by group or others is refused.
 */
int sp_identity_load_or_create(const char *dir, const char *name,
    struct sp_identity *id, bool *created, char *err, size_t errlen);
/* Build an identity from PEM strings in memory (copied). */
int sp_identity_from_pem(const char *cert_pem, const char *key_pem,
    struct sp_identity *id, char *err, size_t errlen);
void sp_identity_free(struct sp_identity *id);

/* Read a key file of at most 64 KiB, refused if group or others may read
 * it. *out is the caller's: zero it and free it (sp_free_secret). */
int sp_read_private_file(const char *path, char **out, char *err, size_t errlen);
void sp_free_secret(char *s);

/* SHA-256 of the certificate's public key (SPKI), in hex. */
int sp_cert_key_id(gnutls_x509_crt_t crt, char out[SP_KEY_ID_HEX]);
int sp_cert_key_id_pem(const char *pem, char out[SP_KEY_ID_HEX]);
/* SHA-256 of the whole DER certificate, in hex (certificate pins). */
int sp_cert_sha256_der(const unsigned char *der, size_t len, char out[SP_KEY_ID_HEX]);

/* The certificate's subject as an RFC 4514 string, truncated to fit. */
int sp_cert_subject_der(const unsigned char *der, size_t len, char *out, size_t n);

/* Key id of the peer's leaf certificate, SP_ERR_NOT_FOUND if it sent none. */
int sp_tls_peer_key_id(gnutls_session_t s, char out[SP_KEY_ID_HEX]);

/* New sessions with the product's priority string, non-blocking ready. */
int sp_tls_new_server(gnutls_certificate_credentials_t creds,
    gnutls_certificate_request_t client_cert, gnutls_session_t *out);
int sp_tls_new_client(gnutls_certificate_credentials_t creds, const char *server_name,
    gnutls_session_t *out);

/* "TLS1.3" and the cipher suite name, for logs and audit. */
const char *sp_tls_version(gnutls_session_t s);
const char *sp_tls_cipher(gnutls_session_t s);

/* Constant-time comparison of two hex ids. */
bool sp_key_id_equal(const char *a, const char *b);

#endif
