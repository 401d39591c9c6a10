/*
 * pwhash.h - partner passwords as salted PBKDF2-HMAC-SHA256 hashes, and the
 * SHA-256 of bearer tokens.
 *
 * Hash format (docs/api.md): "pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>"
 * with a 16-octet random salt and a 32-octet hash, all hex lowercase.
 * Verification recomputes and compares in constant time.
 *
 * Ownership: callers own every buffer; nothing is allocated here. Secrets
 * passing through local buffers are zeroed before returning.
 */
#ifndef SP_API_PWHASH_H
#define SP_API_PWHASH_H

#include <stddef.h>
#include <stdint.h>

#define SP_PWHASH_ITERATIONS 100000u
#define SP_PWHASH_MAX_ITERATIONS 10000000u
/* The fewest iterations a stored hash may have (docs/api.md; the partner
 * module refuses a revision with fewer). */
#define SP_PWHASH_MIN_ITERATIONS 10000u
#define SP_PWHASH_SALT_LEN 16
#define SP_PWHASH_LEN 32
/* "pbkdf2-sha256$" + 8 digits + "$" + 32 + "$" + 64 + NUL */
#define SP_PWHASH_TEXT_MAX 128

/* Hash `pw` (len bytes) with a fresh salt into `out` (SP_PWHASH_TEXT_MAX). */
int sp_pwhash_make(const char *pw, size_t len, unsigned iterations,
    char *out, size_t outlen);
/* Same with a given salt (tests, known answers). */
int sp_pwhash_make_salted(const char *pw, size_t len, unsigned iterations,
    const uint8_t salt[SP_PWHASH_SALT_LEN], char *out, size_t outlen);
/* SP_OK on a match, SP_ERR_DENIED on a mismatch, SP_ERR_INVALID for a
 * malformed hash string. */
int sp_pwhash_verify(const char *pw, size_t len, const char *hash);
/* SP_OK when `hash` is well-formed. */
int sp_pwhash_check_format(const char *hash);

/* SHA-256 of `data` as 64 lowercase hex digits + NUL (65 bytes). */
int sp_sha256_hex(const void *data, size_t len, char out[65]);
/* Constant-time equality of two equal-length byte strings. */
int sp_ct_equal(const void *a, const void *b, size_t len);

void sp_hex_encode(const uint8_t *p, size_t n, char *out);
/* Exactly 2*n hex digits (either case) into n bytes; -1 otherwise. */
int sp_hex_decode(const char *s, size_t slen, uint8_t *out, size_t n);

#endif
