/*
 * keyless.c - the client's half of keyless TLS: it holds the private keys of
 * listeners marked `key: inside` and signs handshakes for the server.
 *
 * Keys come from the bootstrap file (`keyless.keys`: listener name -> a PEM
 * file of mode 0600, or a pkcs11: URL that p11-kit resolves, so an HSM or
 * softhsm2 can hold the key). The server is in the DMZ and may be in an
 * attacker's hands, so a request is signed only if: it parses, it is a TLS
 * handshake digest (a TLS signature algorithm, a digest of its hash's size:
 * tunnel/sign.h), the listener is one
 * of the current revision's keyless listeners and has a key here, the
 * algorithm fits the key, and the listener's rate (keyless.signatures_per_minute,
 * a burst of one second's worth) is not spent. Every refusal is answered and logged.
 *
 * Signing runs on the loop: an ECDSA P-256 signature costs tens of
 * microseconds; a slow HSM would want a worker thread (not built yet).
 *
 * Ownership: struct ckeys belongs to the client (keyless_load/free) and owns
 * the key handles.
 */
#include "client/client.h"
#include "core/err.h"
#include "core/log.h"
#include "tunnel/msg.h"
#include "tunnel/sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/abstract.h>
#include <gnutls/pkcs11.h>

struct ckey {
	const char *listener;       /* in the bootstrap conf */
	gnutls_privkey_t key;
	gnutls_pk_algorithm_t pk;
	char key_id[SP_KEY_ID_HEX];
	double tokens;
	uint64_t refill_ms;
	unsigned long nsigned;
};

struct ckeys {
	struct ckey *k;
	size_t n;
	unsigned per_minute;
	double burst;
	long long checked;          /* revision whose listeners were checked */
};

static void
hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
load_one(struct ckey *ck, const char *source, char *err, size_t errlen)
{
	gnutls_pubkey_t pub = NULL;
	unsigned char id[32];
	size_t idlen = sizeof(id);
	unsigned bits;
	int g, r = SP_ERR_CONFIG;

	if (gnutls_privkey_init(&ck->key) != 0)
		return SP_ERR_NOMEM;
	if (strncmp(source, "pkcs11:", 7) == 0) {
		/* p11-kit's module list; a PIN in the URL (pin-value, pin-source). */
		if ((g = gnutls_privkey_import_url(ck->key, source, 0)) < 0) {
			snprintf(err, errlen, "keyless.keys.%s: %s: %s", ck->listener, source,
			    gnutls_strerror(g));
			return SP_ERR_CONFIG;
		}
	} else {
		char *pem = NULL, e2[256];
		gnutls_datum_t d;

		if (source[0] != '/') {
			snprintf(err, errlen, "keyless.keys.%s: expected an absolute path or a pkcs11: URL",
			    ck->listener);
			return SP_ERR_CONFIG;
		}
		if ((r = sp_read_private_file(source, &pem, e2, sizeof(e2))) != 0) {
			snprintf(err, errlen, "keyless.keys.%s: %s", ck->listener, e2);
			return SP_ERR_CONFIG;
		}
		d.data = (unsigned char *)pem;
		d.size = (unsigned)strlen(pem);
		g = gnutls_privkey_import_x509_raw(ck->key, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
		sp_free_secret(pem);
		if (g < 0) {
			snprintf(err, errlen, "keyless.keys.%s: %s: %s", ck->listener, source,
			    gnutls_strerror(g));
			return SP_ERR_CONFIG;
		}
	}
	ck->pk = (gnutls_pk_algorithm_t)gnutls_privkey_get_pk_algorithm(ck->key, &bits);
	if (ck->pk != GNUTLS_PK_ECDSA && ck->pk != GNUTLS_PK_RSA) {
		snprintf(err, errlen, "keyless.keys.%s: an ECDSA or RSA key is needed", ck->listener);
		return SP_ERR_CONFIG;
	}
	/* The key id the listener's certificate must carry (SHA-256 of SPKI). */
	/* A token may hold the private object alone (no public key or
	 * certificate beside it): then the match cannot be checked here. */
	if (gnutls_pubkey_init(&pub) != 0 ||
	    gnutls_pubkey_import_privkey(pub, ck->key, 0, 0) != 0 ||
	    gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, id, &idlen) != 0 || idlen != 32)
		snprintf(ck->key_id, sizeof(ck->key_id), "unknown");
	else
		hex(id, idlen, ck->key_id);
	r = SP_OK;
	if (pub != NULL)
		gnutls_pubkey_deinit(pub);
	return r;
}

int
keyless_load(struct client *cl, char *err, size_t errlen)
{
	char **kv = cl->conf.keyless.keys;
	struct ckeys *ks;
	size_t n = 0, i;
	int r;

	if (kv == NULL)
		return SP_OK;
	while (kv[2 * n] != NULL)
		n++;
	if ((ks = calloc(1, sizeof(*ks))) == NULL || (ks->k = calloc(n ? n : 1, sizeof(*ks->k))) == NULL) {
		free(ks);
		return SP_ERR_NOMEM;
	}
	ks->per_minute = (unsigned)cl->conf.keyless.per_minute;
	ks->burst = ks->per_minute >= 60 ? ks->per_minute / 60.0 : 1.0;
	ks->checked = -1;
	cl->keyless = ks;
	for (i = 0; i < n; i++) {
		struct ckey *ck = &ks->k[i];

		ck->listener = kv[2 * i];
		ck->tokens = ks->burst;
		ks->n = i + 1;
		if ((r = load_one(ck, kv[2 * i + 1], err, errlen)) != 0)
			return r;
		sp_log(SP_LOG_NOTICE, "tls", "keyless: the key of listener %s is held here (key id %s)",
		    ck->listener, ck->key_id);
	}
	return SP_OK;
}

void
keyless_free(struct client *cl)
{
	struct ckeys *ks = cl->keyless;
	size_t i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->n; i++)
		if (ks->k[i].key != NULL)
			gnutls_privkey_deinit(ks->k[i].key);
	free(ks->k);
	free(ks);
	cl->keyless = NULL;
}

static struct ckey *
find_key(struct client *cl, const char *listener)
{
	struct ckeys *ks = cl->keyless;
	size_t i;

	for (i = 0; ks != NULL && i < ks->n; i++)
		if (strcmp(ks->k[i].listener, listener) == 0)
			return &ks->k[i];
	return NULL;
}

/* The revision's listener `name`, if it is keyless; its certificate chain. */
static const char *
keyless_chain(json_object *config, const char *name)
{
	json_object *ls = sp_json_get(config, "listeners", json_type_array);
	size_t i;

	for (i = 0; ls != NULL && i < json_object_array_length(ls); i++) {
		json_object *l = json_object_array_get_idx(ls, i);
		json_object *tls = sp_json_get(l, "tls", json_type_object);

		if (strcmp(sp_json_str(l, "name", ""), name) == 0 &&
		    strcmp(sp_json_str(tls, "key", ""), "inside") == 0)
			return sp_json_str(tls, "certificate_chain", NULL);
	}
	return NULL;
}

void
keyless_check_config(struct client *cl, json_object *config, long long revision)
{
	json_object *ls = sp_json_get(config, "listeners", json_type_array);
	struct ckeys *ks = cl->keyless;
	size_t i;

	if (ks != NULL && ks->checked == revision)
		return;
	if (ks != NULL)
		ks->checked = revision;
	for (i = 0; ls != NULL && i < json_object_array_length(ls); i++) {
		json_object *l = json_object_array_get_idx(ls, i);
		const char *name = sp_json_str(l, "name", "");
		const char *chain = keyless_chain(config, name);
		struct ckey *ck = find_key(cl, name);
		char id[SP_KEY_ID_HEX];

		if (chain == NULL)
			continue;
		if (ck == NULL)
			sp_log(SP_LOG_ERR, "tls", "keyless: listener %s keeps its key inside, but keyless.keys names no key for it: its handshakes will fail",
			    name);
		else if (strcmp(ck->key_id, "unknown") == 0)
			sp_log(SP_LOG_NOTICE, "tls", "keyless: listener %s: the token holds no public key beside the private one: whether it fits the certificate shows at the first handshake",
			    name);
		else if (sp_cert_key_id_pem(chain, id) != 0 || !sp_key_id_equal(id, ck->key_id))
			sp_log(SP_LOG_ERR, "tls", "keyless: listener %s: the certificate's key (%s) is not the key held here (%s): its handshakes will fail",
			    name, id, ck->key_id);
	}
}

static void
answer(struct client *cl, long long id, const uint8_t *sig, size_t len, const char *error)
{
	json_object *m = sp_sign_resp_new(id, sig, len, error);

	if (m != NULL)
		control_send(cl, m);
}

static void
refuse(struct client *cl, long long id, const char *listener, const char *why)
{
	sp_logkv(SP_LOG_WARN, "security", SP_LOG_KV({ "event", "keyless_refused" },
	    { "listener", listener }),
	    "keyless signature refused for listener %.64s (request %lld): %s", listener, id, why);
	answer(cl, id, NULL, 0, why);
}

/* Token bucket: per_minute tokens a minute, at most `burst` saved up. */
static bool
take_token(struct client *cl, struct ckey *ck)
{
	uint64_t now = sp_loop_now(cl->loop);
	double cap = cl->keyless->burst;

	if (ck->refill_ms == 0)
		ck->refill_ms = now;
	if (now > ck->refill_ms) {
		ck->tokens += (double)(now - ck->refill_ms) * cl->keyless->per_minute / 60000.0;
		if (ck->tokens > cap)
			ck->tokens = cap;
		ck->refill_ms = now;
	}
	if (ck->tokens < 1.0)
		return false;
	ck->tokens -= 1.0;
	return true;
}

void
keyless_sign(struct client *cl, json_object *msg)
{
	struct sp_sign_req rq;
	struct ckey *ck;
	char why[160];
	gnutls_datum_t d, sig = { NULL, 0 };
	long long id = sp_json_int(msg, "id", 0);
	const char *listener = sp_json_str(msg, "listener", "?");
	int g;

	if (sp_sign_req_parse(msg, &rq, why, sizeof(why)) != 0) {
		refuse(cl, id, listener, why);
		return;
	}
	if ((ck = find_key(cl, rq.listener)) == NULL) {
		refuse(cl, id, rq.listener, "no key held here for this listener");
		return;
	}
	if (cl->config == NULL || keyless_chain(cl->config, rq.listener) == NULL) {
		refuse(cl, id, rq.listener, "not a keyless listener of the current revision");
		return;
	}
	if (rq.algo == GNUTLS_SIGN_RSA_RAW ? ck->pk != GNUTLS_PK_RSA :
	    !gnutls_sign_supports_pk_algorithm(rq.algo, ck->pk)) {
		snprintf(why, sizeof(why), "algorithm %s does not fit the key", gnutls_sign_get_name(rq.algo));
		refuse(cl, id, rq.listener, why);
		return;
	}
	if (!take_token(cl, ck)) {
		snprintf(why, sizeof(why), "rate limit (%u signatures per minute)",
		    cl->keyless->per_minute);
		refuse(cl, id, rq.listener, why);
		return;
	}
	d.data = rq.data;
	d.size = (unsigned)rq.len;
	g = rq.algo == GNUTLS_SIGN_RSA_RAW ?
	    gnutls_privkey_sign_hash(ck->key, 0, GNUTLS_PRIVKEY_SIGN_FLAG_TLS1_RSA, &d, &sig) :
	    gnutls_privkey_sign_hash2(ck->key, rq.algo, 0, &d, &sig);
	if (g < 0) {
		snprintf(why, sizeof(why), "signing failed: %s", gnutls_strerror(g));
		refuse(cl, id, rq.listener, why);
		return;
	}
	ck->nsigned++;
	sp_log(SP_LOG_DEBUG, "tls", "keyless: signed request %lld for listener %s (%s)", id,
	    rq.listener, gnutls_sign_get_name(rq.algo));
	if (sig.size <= SP_SIG_MAX)
		answer(cl, id, sig.data, sig.size, NULL);
	else
		refuse(cl, id, rq.listener, "signature too large");
	gnutls_free(sig.data);
}
