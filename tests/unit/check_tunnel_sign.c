/*
 * check_tunnel_sign.c - keyless sign requests as the client checks them: only
 * TLS signature algorithms over a digest of their hash's size (a SHA-2
 * DigestInfo for RSA-RAW), and a signature made by a real key over what the
 * server sent verifies with the certificate's public key.
 */
#include "core/err.h"
#include "tunnel/msg.h"
#include "tunnel/sign.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

static const uint8_t di256[19] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };

START_TEST(digest_shapes)
{
	uint8_t d[96];

	memset(d, 0xab, sizeof(d));
	ck_assert_int_eq(sp_sign_digest_check(GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, d, 32), SP_OK);
	ck_assert_int_eq(sp_sign_digest_check(GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, d, 33), SP_ERR_DENIED);
	ck_assert_int_eq(sp_sign_digest_check(GNUTLS_SIGN_ECDSA_SHA384, d, 48), SP_OK);
	ck_assert_int_eq(sp_sign_digest_check(GNUTLS_SIGN_RSA_PSS_RSAE_SHA512, d, 64), SP_OK);
	ck_assert_int_eq(sp_sign_digest_check(GNUTLS_SIGN_RSA_PSS_RSAE_SHA512, d, 32), SP_ERR_DENIED);
	/* Not what a TLS 1.2/1.3 server signs with. */
	ck_assert_int_eq(sp_sign_digest_check(GNUTLS_SIGN_RSA_SHA1, d, 20), SP_ERR_DENIED);
	ck_assert_int_eq(sp_sign_digest_check(GNUTLS_SIGN_ECDSA_SHA1, d, 20), SP_ERR_DENIED);
	ck_assert_int_eq(sp_sign_digest_check(GNUTLS_SIGN_EDDSA_ED25519, d, 64), SP_ERR_DENIED);
	/* RSA-RAW: a SHA-256 DigestInfo, never arbitrary bytes. */
	memcpy(d, di256, sizeof(di256));
	ck_assert_int_eq(sp_sign_digest_check(GNUTLS_SIGN_RSA_RAW, d, 19 + 32), SP_OK);
	ck_assert_int_eq(sp_sign_digest_check(GNUTLS_SIGN_RSA_RAW, d, 19 + 31), SP_ERR_DENIED);
	d[10] ^= 1;
	ck_assert_int_eq(sp_sign_digest_check(GNUTLS_SIGN_RSA_RAW, d, 19 + 32), SP_ERR_DENIED);
}
END_TEST

START_TEST(request_parse)
{
	uint8_t h[32];
	struct sp_sign_req rq;
	char why[160];
	json_object *m;

	memset(h, 7, sizeof(h));
	m = sp_sign_req_new(9, "partners", GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, h, sizeof(h));
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(sp_sign_req_parse(m, &rq, why, sizeof(why)), SP_OK);
	ck_assert_int_eq(rq.id, 9);
	ck_assert_str_eq(rq.listener, "partners");
	ck_assert_int_eq(rq.len, 32);
	ck_assert_int_eq(memcmp(rq.data, h, 32), 0);
	/* Uppercase hex, odd length, a short digest, no id: refused with a reason. */
	json_object_object_add(m, "digest", json_object_new_string("ABAB"));
	ck_assert_int_eq(sp_sign_req_parse(m, &rq, why, sizeof(why)), SP_ERR_INVALID);
	json_object_object_add(m, "digest", json_object_new_string("abc"));
	ck_assert_int_eq(sp_sign_req_parse(m, &rq, why, sizeof(why)), SP_ERR_INVALID);
	json_object_object_add(m, "digest", json_object_new_string("abab"));
	ck_assert_int_eq(sp_sign_req_parse(m, &rq, why, sizeof(why)), SP_ERR_DENIED);
	ck_assert_ptr_nonnull(strstr(why, "not a TLS handshake signature"));
	json_object_object_del(m, "id");
	ck_assert_int_eq(sp_sign_req_parse(m, &rq, why, sizeof(why)), SP_ERR_INVALID);
	json_object_put(m);
}
END_TEST

/* The whole round trip with a real key: what the client signs verifies. */
START_TEST(signature_verifies)
{
	gnutls_privkey_t key;
	gnutls_pubkey_t pub;
	uint8_t h[32], sig[SP_SIG_MAX];
	gnutls_datum_t d = { h, sizeof(h) }, s = { NULL, 0 }, s2;
	struct sp_sign_req rq;
	char why[160];
	const char *error;
	long long id;
	size_t len;
	json_object *m, *a;

	ck_assert_int_eq(gnutls_privkey_init(&key), 0);
	ck_assert_int_eq(gnutls_privkey_generate(key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
	ck_assert_int_eq(gnutls_hash_fast(GNUTLS_DIG_SHA256, "transcript", 10, h), 0);
	m = sp_sign_req_new(1, "l", GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, h, sizeof(h));
	ck_assert_int_eq(sp_sign_req_parse(m, &rq, why, sizeof(why)), SP_OK);
	d.data = rq.data;
	d.size = (unsigned)rq.len;
	ck_assert_int_eq(gnutls_privkey_sign_hash2(key, rq.algo, 0, &d, &s), 0);
	a = sp_sign_resp_new(rq.id, s.data, s.size, NULL);
	ck_assert_int_eq(sp_sign_resp_parse(a, &id, sig, sizeof(sig), &len, &error), SP_OK);
	ck_assert_int_eq(id, 1);
	ck_assert_int_eq(len, s.size);
	ck_assert_int_eq(gnutls_pubkey_init(&pub), 0);
	ck_assert_int_eq(gnutls_pubkey_import_privkey(pub, key, 0, 0), 0);
	s2.data = sig;
	s2.size = (unsigned)len;
	d.data = h;
	d.size = sizeof(h);
	ck_assert_int_eq(gnutls_pubkey_verify_hash2(pub, GNUTLS_SIGN_ECDSA_SECP256R1_SHA256,
	    0, &d, &s2), 0);
	json_object_put(a);
	/* A refusal comes back as the client's words. */
	a = sp_sign_resp_new(2, NULL, 0, "rate limit");
	ck_assert_int_eq(sp_sign_resp_parse(a, &id, sig, sizeof(sig), &len, &error), SP_ERR_DENIED);
	ck_assert_str_eq(error, "rate limit");
	json_object_put(a);
	json_object_put(m);
	gnutls_free(s.data);
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(key);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tunnel_sign");
	TCase *tc = tcase_create("keyless");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, digest_shapes);
	tcase_add_test(tc, request_parse);
	tcase_add_test(tc, signature_verifies);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
