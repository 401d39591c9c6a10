/*
 * keyless.c - listener keys that stay inside: the server terminates TLS with
 * a GnuTLS external private key whose signatures the client makes.
 *
 * GnuTLS calls a key's sign callback from inside gnutls_handshake() and wants
 * the signature when it returns; it cannot suspend a handshake half-way. So
 * handshakes of keyless listeners run their gnutls_handshake() steps on a
 * pool of handshake threads (sp_conn_offload_handshake), and only the step
 * that signs waits, on its thread, for the client's answer. The loop thread
 * never waits: it moves requests from the threads to the tunnel and answers
 * from the tunnel back to the threads.
 *
 *   handshake thread           loop thread                 client
 *   sign callback: queue ----> eventfd: send "sign" -----> signs
 *   wait (cond, deadline)      "signature": wake it <----- answer
 *
 * Fail closed: no control connection, a refusal, or no answer within
 * SIGN_TIMEOUT_MS, and the callback fails; GnuTLS ends the handshake and the
 * partner gets an alert (conn.c). Every such failure is logged here, on the
 * loop thread, with the reason.
 *
 * Ownership: struct keyless belongs to the server (keyless_start/stop). A
 * request belongs to the thread that waits for it; the loop thread touches
 * it only under the mutex while it is on one of the two lists.
 */
#include "server/server.h"
#include "core/conn.h"
#include "core/err.h"
#include "core/log.h"
#include "tunnel/msg.h"
#include "tunnel/sign.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/abstract.h>

#define SIGN_TIMEOUT_MS 5000
#define HS_THREADS 4
#define HS_QUEUE 1024

struct sreq {
	struct sreq *next;
	long long id;
	char listener[SP_SIGN_LISTENER_MAX + 1];
	gnutls_sign_algorithm_t algo;
	uint8_t data[SP_SIGN_DATA_MAX];
	size_t len;
	pthread_cond_t cv;
	bool done;
	char error[120];            /* empty on success */
	uint8_t sig[SP_SIG_MAX];
	size_t siglen;
};

struct keyless {
	struct server *srv;
	pthread_mutex_t mu;
	struct sreq *outbox;        /* queued by threads, not yet sent */
	struct sreq *sent;          /* sent, waiting for the answer */
	long long next_id;
	unsigned timeouts;          /* waits given up, not yet logged */
	int efd;
	bool stopping;
	pthread_t loop_thread;
	struct sp_workers *hs;      /* handshake threads */
};

/* The key handle's userdata: which listener and what kind of key. */
struct lkey {
	struct keyless *k;
	char listener[SP_SIGN_LISTENER_MAX + 1];
	gnutls_pk_algorithm_t pk;
	unsigned bits;
};

static void
unlink_req(struct sreq **list, struct sreq *r)
{
	for (; *list != NULL; list = &(*list)->next) {
		if (*list == r) {
			*list = r->next;
			return;
		}
	}
}

/* Under k->mu: finish r with an error and wake its thread. */
static void
finish_locked(struct sreq *r, const char *error)
{
	snprintf(r->error, sizeof(r->error), "%s", error);
	r->done = true;
	pthread_cond_signal(&r->cv);
}

/* ---- on a handshake thread ---- */

/* GnuTLS hashes the handshake content and hands us the digest (for RSA
 * PKCS#1 v1.5 a DigestInfo, algo RSA-RAW): that is what the client signs. */
static int
sign_hash(gnutls_privkey_t key, gnutls_sign_algorithm_t algo, void *userdata,
    unsigned flags, const gnutls_datum_t *data, gnutls_datum_t *signature)
{
	struct lkey *lk = userdata;
	struct keyless *k = lk->k;
	struct sreq *r;
	struct timespec until;
	uint64_t one = 1;
	int ret = GNUTLS_E_PK_SIGN_FAILED;

	(void)key;
	(void)flags;
	/* Never wait on a loop's thread (the main one or a session loop's): a
	 * keyless key must be used only by offloaded handshakes. */
	if (pthread_equal(pthread_self(), k->loop_thread) || sp_loop_current() != NULL ||
	    data->size == 0 ||
	    data->size > SP_SIGN_DATA_MAX)
		return GNUTLS_E_PK_SIGN_FAILED;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return GNUTLS_E_MEMORY_ERROR;
	memcpy(r->listener, lk->listener, sizeof(r->listener));
	r->algo = algo;
	memcpy(r->data, data->data, data->size);
	r->len = data->size;
	{
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&r->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += SIGN_TIMEOUT_MS / 1000;
	until.tv_nsec += (long)(SIGN_TIMEOUT_MS % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&k->mu);
	if (k->stopping) {
		pthread_mutex_unlock(&k->mu);
		goto out;
	}
	r->id = ++k->next_id;
	r->next = k->outbox;
	k->outbox = r;
	(void)!write(k->efd, &one, sizeof(one));
	while (!r->done) {
		if (pthread_cond_timedwait(&r->cv, &k->mu, &until) == ETIMEDOUT && !r->done) {
			/* The loop thread logs it when the late answer comes, or
			 * finds it gone; here we only stop waiting. */
			unlink_req(&k->outbox, r);
			unlink_req(&k->sent, r);
			snprintf(r->error, sizeof(r->error), "timeout");
			/* Logged by the loop thread (on_wake): the log is its. */
			k->timeouts++;
			(void)!write(k->efd, &one, sizeof(one));
			break;
		}
	}
	pthread_mutex_unlock(&k->mu);
	sp_conn_handshake_waited();
	if (r->done && r->error[0] == '\0' && r->siglen > 0) {
		if ((signature->data = gnutls_malloc(r->siglen)) == NULL) {
			ret = GNUTLS_E_MEMORY_ERROR;
			goto out;
		}
		memcpy(signature->data, r->sig, r->siglen);
		signature->size = (unsigned)r->siglen;
		ret = 0;
	}
out:
	pthread_cond_destroy(&r->cv);
	free(r);
	return ret;
}

static int
key_info(gnutls_privkey_t key, unsigned flags, void *userdata)
{
	struct lkey *lk = userdata;

	(void)key;
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO)
		return (int)lk->pk;
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO_BITS)
		return (int)lk->bits;
	if (flags & GNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO) {
		gnutls_sign_algorithm_t s = (gnutls_sign_algorithm_t)GNUTLS_FLAGS_TO_SIGN_ALGO(flags);
		/* RSA keys sign RSA-PSS with rsaEncryption too (TLS 1.3). */
		return gnutls_sign_supports_pk_algorithm(s, lk->pk) ? 1 : 0;
	}
	return GNUTLS_E_UNKNOWN_PK_ALGORITHM;
}

static void
key_deinit(gnutls_privkey_t key, void *userdata)
{
	(void)key;
	free(userdata);
}

/* ---- on the loop thread ---- */

static void
on_wake(struct sp_loop *loop, int fd, unsigned events, void *arg)
{
	struct keyless *k = arg;
	struct server *srv = k->srv;
	struct sreq *list, *r;
	uint64_t n;

	(void)loop;
	(void)events;
	(void)!read(fd, &n, sizeof(n));
	pthread_mutex_lock(&k->mu);
	n = k->timeouts;
	k->timeouts = 0;
	pthread_mutex_unlock(&k->mu);
	if (n > 0)
		sp_log(SP_LOG_WARN, "tls", "%llu handshake(s) got no signature from the client within %d ms: they fail",
		    (unsigned long long)n, SIGN_TIMEOUT_MS);
	for (;;) {
		json_object *m = NULL;
		char listener[SP_SIGN_LISTENER_MAX + 1];
		long long id;

		pthread_mutex_lock(&k->mu);
		list = k->outbox;
		if (list == NULL) {
			pthread_mutex_unlock(&k->mu);
			return;
		}
		r = list;
		k->outbox = r->next;
		id = r->id;
		memcpy(listener, r->listener, sizeof(listener));
		if (srv->control == NULL) {
			finish_locked(r, "no client connected");
		} else if ((m = sp_sign_req_new(r->id, r->listener, r->algo, r->data,
		    r->len)) == NULL) {
			finish_locked(r, "cannot build the request");
		} else {
			r->next = k->sent;
			k->sent = r;
		}
		pthread_mutex_unlock(&k->mu);
		if (m == NULL) {
			sp_log(SP_LOG_WARN, "tls", "listener %s: no signature for a handshake (request %lld): %s",
			    listener, id, srv->control == NULL ? "no client connected" : "out of memory");
			continue;
		}
		sp_log(SP_LOG_DEBUG, "tls", "listener %s: signature request %lld sent to the client",
		    listener, id);
		tunnel_send(srv, m);
	}
}

void
keyless_answer(struct server *srv, json_object *msg)
{
	struct keyless *k = srv->keyless;
	struct sreq *r;
	uint8_t sig[SP_SIG_MAX];
	size_t len = 0;
	long long id;
	const char *error = NULL;
	char listener[SP_SIGN_LISTENER_MAX + 1] = "";
	int pr;

	if (k == NULL)
		return;
	pr = sp_sign_resp_parse(msg, &id, sig, sizeof(sig), &len, &error);
	pthread_mutex_lock(&k->mu);
	for (r = k->sent; r != NULL && r->id != id; r = r->next)
		;
	if (r != NULL) {
		unlink_req(&k->sent, r);
		memcpy(listener, r->listener, sizeof(listener));
		if (pr == SP_OK) {
			memcpy(r->sig, sig, len);
			r->siglen = len;
			r->done = true;
			pthread_cond_signal(&r->cv);
		} else {
			finish_locked(r, pr == SP_ERR_DENIED ? "refused by the client" :
			    "malformed answer");
		}
	}
	pthread_mutex_unlock(&k->mu);
	if (r == NULL)
		sp_log(SP_LOG_WARN, "tls", "signature answer %lld matches no waiting handshake (too late: over %d ms)",
		    id, SIGN_TIMEOUT_MS);
	else if (pr == SP_OK)
		sp_log(SP_LOG_DEBUG, "tls", "listener %s: signature %lld handed to its handshake", listener, id);
	else if (pr != SP_OK)
		sp_log(SP_LOG_WARN, "tls", "listener %s: no signature for a handshake (request %lld): %s%s%.100s",
		    listener, id, pr == SP_ERR_DENIED ? "the client refused" : "malformed answer",
		    error != NULL ? ": " : "", error != NULL ? error : "");
}

void
keyless_fail_all(struct server *srv, const char *why)
{
	struct keyless *k = srv->keyless;
	struct sreq *r;
	unsigned n = 0;

	if (k == NULL)
		return;
	pthread_mutex_lock(&k->mu);
	while ((r = k->sent) != NULL || (r = k->outbox) != NULL) {
		unlink_req(r == k->sent ? &k->sent : &k->outbox, r);
		finish_locked(r, why);
		n++;
	}
	pthread_mutex_unlock(&k->mu);
	if (n > 0)
		sp_log(SP_LOG_WARN, "tls", "%u handshake(s) waiting for a signature fail: %s", n, why);
}

struct sp_workers *
keyless_workers(struct server *srv)
{
	return srv->keyless != NULL ? srv->keyless->hs : NULL;
}

int
keyless_creds(struct server *srv, const char *listener, const char *chain_pem,
    gnutls_certificate_credentials_t *out, char *err, size_t errlen)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)chain_pem, (unsigned)strlen(chain_pem) };
	gnutls_pcert_st *pcerts = NULL;
	unsigned npcerts = 16, i;
	gnutls_privkey_t pkey = NULL;
	struct lkey *lk = NULL;
	int g, r = SP_ERR_CONFIG;

	*out = NULL;
	if (srv->keyless == NULL || strlen(listener) > SP_SIGN_LISTENER_MAX) {
		snprintf(err, errlen, "keyless TLS is not available");
		return SP_ERR_CONFIG;
	}
	if ((pcerts = calloc(npcerts, sizeof(*pcerts))) == NULL ||
	    (lk = calloc(1, sizeof(*lk))) == NULL) {
		free(pcerts);
		return SP_ERR_NOMEM;
	}
	if ((g = gnutls_pcert_list_import_x509_raw(pcerts, &npcerts, &d, GNUTLS_X509_FMT_PEM, 0)) < 0 ||
	    npcerts == 0) {
		snprintf(err, errlen, "certificate_chain: %s", g < 0 ? gnutls_strerror(g) : "empty");
		npcerts = 0;
		goto fail;
	}
	lk->k = srv->keyless;
	snprintf(lk->listener, sizeof(lk->listener), "%s", listener);
	lk->pk = (gnutls_pk_algorithm_t)gnutls_pubkey_get_pk_algorithm(pcerts[0].pubkey, &lk->bits);
	if (lk->pk != GNUTLS_PK_ECDSA && lk->pk != GNUTLS_PK_RSA) {
		snprintf(err, errlen, "certificate_chain: keyless TLS needs an ECDSA or RSA key");
		goto fail;
	}
	if (gnutls_certificate_allocate_credentials(out) != 0 || gnutls_privkey_init(&pkey) != 0) {
		r = SP_ERR_NOMEM;
		goto fail;
	}
	/* The key handle owns lk from here (key_deinit). */
	if ((g = gnutls_privkey_import_ext4(pkey, lk, NULL, sign_hash, NULL, key_deinit,
	    key_info, GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE)) < 0) {
		snprintf(err, errlen, "external key: %s", gnutls_strerror(g));
		goto fail;
	}
	lk = NULL;
	/* Whether the key fits the certificate is the client's check (it holds
	 * the key); here it would cost a remote signature on the loop. */
	gnutls_certificate_set_flags(*out, GNUTLS_CERTIFICATE_SKIP_KEY_CERT_MATCH);
	/* The credentials own the certificates and the key handle from here. */
	if ((g = gnutls_certificate_set_key(*out, NULL, 0, pcerts, (int)npcerts, pkey)) < 0) {
		snprintf(err, errlen, "certificate and key handle: %s", gnutls_strerror(g));
		goto fail;
	}
	free(pcerts);
	return SP_OK;
fail:
	for (i = 0; i < npcerts; i++)
		gnutls_pcert_deinit(&pcerts[i]);
	free(pcerts);
	if (pkey != NULL)
		gnutls_privkey_deinit(pkey);
	free(lk);
	if (*out != NULL)
		gnutls_certificate_free_credentials(*out);
	*out = NULL;
	return r;
}

int
keyless_start(struct server *srv, bool pool)
{
	struct keyless *k;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return SP_ERR_NOMEM;
	k->srv = srv;
	k->loop_thread = pthread_self();
	pthread_mutex_init(&k->mu, NULL);
	if ((k->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		free(k);
		return SP_ERR_SYSTEM;
	}
	if ((pool && sp_workers_new(srv->loop, HS_THREADS, HS_QUEUE, &k->hs) != 0) ||
	    sp_loop_add(srv->loop, k->efd, SP_EV_READ, on_wake, k) != 0) {
		if (k->hs != NULL)
			sp_workers_free(k->hs);
		close(k->efd);
		free(k);
		return SP_ERR_SYSTEM;
	}
	srv->keyless = k;
	return SP_OK;
}

void
keyless_refuse(struct server *srv)
{
	struct keyless *k = srv->keyless;

	if (k == NULL)
		return;
	pthread_mutex_lock(&k->mu);
	k->stopping = true;
	pthread_mutex_unlock(&k->mu);
	keyless_fail_all(srv, "the server stops");
}

void
keyless_stop(struct server *srv)
{
	struct keyless *k = srv->keyless;

	if (k == NULL)
		return;
	keyless_refuse(srv);
	/* Joins the threads: none waits any more. */
	sp_workers_free(k->hs);
	sp_loop_del(srv->loop, k->efd);
	close(k->efd);
	pthread_mutex_destroy(&k->mu);
	free(k);
	srv->keyless = NULL;
}
