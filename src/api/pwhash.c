/*
 * pwhash.c - PBKDF2 password hashes and token digests (see pwhash.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "api/pwhash.h"
#include "core/err.h"

static const char PREFIX[] = "pbkdf2-sha256$";

void
sp_hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
sp_hex_decode(const char *s, size_t slen, uint8_t *out, size_t n)
{
	size_t i;
	int hi, lo;

	if (slen != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		if ((hi = hexval(s[2 * i])) < 0 || (lo = hexval(s[2 * i + 1])) < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int
sp_ct_equal(const void *a, const void *b, size_t len)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;
	size_t i;

	for (i = 0; i < len; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

int
sp_sha256_hex(const void *data, size_t len, char out[65])
{
	uint8_t md[32];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, md) != 0)
		return SP_ERR_TLS;
	sp_hex_encode(md, sizeof(md), out);
	return SP_OK;
}

static int
derive(const char *pw, size_t len, unsigned iterations, const uint8_t *salt,
    uint8_t key[SP_PWHASH_LEN])
{
	gnutls_datum_t k = { (unsigned char *)(uintptr_t)pw, (unsigned)len };
	gnutls_datum_t s = { (unsigned char *)(uintptr_t)salt, SP_PWHASH_SALT_LEN };

	if (gnutls_pbkdf2(GNUTLS_MAC_SHA256, &k, &s, iterations, key,
	    SP_PWHASH_LEN) != 0)
		return SP_ERR_TLS;
	return SP_OK;
}

int
sp_pwhash_make_salted(const char *pw, size_t len, unsigned iterations,
    const uint8_t salt[SP_PWHASH_SALT_LEN], char *out, size_t outlen)
{
	uint8_t key[SP_PWHASH_LEN];
	char salthex[2 * SP_PWHASH_SALT_LEN + 1], keyhex[2 * SP_PWHASH_LEN + 1];
	int r, n;

	if (iterations < 1 || iterations > SP_PWHASH_MAX_ITERATIONS)
		return SP_ERR_INVALID;
	if ((r = derive(pw, len, iterations, salt, key)) != 0)
		return r;
	sp_hex_encode(salt, SP_PWHASH_SALT_LEN, salthex);
	sp_hex_encode(key, SP_PWHASH_LEN, keyhex);
	gnutls_memset(key, 0, sizeof(key));
	n = snprintf(out, outlen, "%s%u$%s$%s", PREFIX, iterations, salthex,
	    keyhex);
	return n < 0 || (size_t)n >= outlen ? SP_ERR_LIMIT : SP_OK;
}

int
sp_pwhash_make(const char *pw, size_t len, unsigned iterations, char *out,
    size_t outlen)
{
	uint8_t salt[SP_PWHASH_SALT_LEN];

	if (gnutls_rnd(GNUTLS_RND_NONCE, salt, sizeof(salt)) != 0)
		return SP_ERR_TLS;
	return sp_pwhash_make_salted(pw, len, iterations ? iterations :
	    SP_PWHASH_ITERATIONS, salt, out, outlen);
}

/* Split a hash string; SP_ERR_INVALID unless it is exactly the format. */
static int
parse(const char *hash, unsigned *iterations, uint8_t salt[SP_PWHASH_SALT_LEN],
    uint8_t key[SP_PWHASH_LEN])
{
	const char *p = hash, *d1, *d2;
	unsigned long it = 0;

	if (strncmp(p, PREFIX, sizeof(PREFIX) - 1) != 0)
		return SP_ERR_INVALID;
	p += sizeof(PREFIX) - 1;
	if ((d1 = strchr(p, '$')) == NULL || d1 == p || d1 - p > 8)
		return SP_ERR_INVALID;
	for (; p < d1; p++) {
		if (*p < '0' || *p > '9')
			return SP_ERR_INVALID;
		it = it * 10 + (unsigned long)(*p - '0');
	}
	if (it < 1 || it > SP_PWHASH_MAX_ITERATIONS)
		return SP_ERR_INVALID;
	p = d1 + 1;
	if ((d2 = strchr(p, '$')) == NULL ||
	    sp_hex_decode(p, (size_t)(d2 - p), salt, SP_PWHASH_SALT_LEN) != 0 ||
	    sp_hex_decode(d2 + 1, strlen(d2 + 1), key, SP_PWHASH_LEN) != 0)
		return SP_ERR_INVALID;
	*iterations = (unsigned)it;
	return SP_OK;
}

int
sp_pwhash_check_format(const char *hash)
{
	uint8_t salt[SP_PWHASH_SALT_LEN], key[SP_PWHASH_LEN];
	unsigned it;

	return parse(hash, &it, salt, key);
}

int
sp_pwhash_verify(const char *pw, size_t len, const char *hash)
{
	uint8_t salt[SP_PWHASH_SALT_LEN], want[SP_PWHASH_LEN], got[SP_PWHASH_LEN];
	unsigned it;
	int r;

	if ((r = parse(hash, &it, salt, want)) != 0)
		return r;
	if ((r = derive(pw, len, it, salt, got)) != 0)
		return r;
	r = sp_ct_equal(got, want, SP_PWHASH_LEN) ? SP_OK : SP_ERR_DENIED;
	gnutls_memset(got, 0, sizeof(got));
	return r;
}
