/*
 * conn.h - one OFTP2 transport connection of oftp2-peer: plain TCP or TLS.
 *
 * The descriptor is non-blocking; every wait is a poll() bounded by the
 * connection's timeout, so a silent peer ends in SP_ERR_TIMEOUT, never a hang.
 * struct peer_tls holds the GnuTLS credentials shared by all sessions of a
 * process; a struct peer_conn owns its descriptor and its GnuTLS session and
 * peer_conn_close() releases both.
 */
#ifndef PEER_CONN_H
#define PEER_CONN_H

#include <stddef.h>
#include <gnutls/gnutls.h>

struct peer_opts;

struct peer_tls {
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	int server;
	int have_ca;
	int require_client_cert;
};

struct peer_conn {
	int fd;
	gnutls_session_t tls;   /* NULL on plain TCP */
	int timeout_ms;
	int verify_client;      /* server side: verify a client certificate if sent */
};

/* Load credentials for the mode in opts. peer_tls_free() in any case. */
int peer_tls_init(struct peer_tls *t, const struct peer_opts *o);
void peer_tls_free(struct peer_tls *t);

/* Take ownership of fd (made non-blocking). */
void peer_conn_init(struct peer_conn *c, int fd, int timeout_ms);
/*
 * TLS handshake on the connection. servername (client only) is the name or
 * IP address the server certificate must be valid for.
 */
int peer_conn_start_tls(struct peer_conn *c, struct peer_tls *t,
    const char *servername);
/* Read exactly n bytes. SP_ERR_CLOSED on a clean end of stream before. */
int peer_conn_read_full(struct peer_conn *c, void *p, size_t n);
int peer_conn_write_all(struct peer_conn *c, const void *p, size_t n);
/* Send the TLS close alert (bounded) and close everything. Idempotent. */
void peer_conn_close(struct peer_conn *c);

#endif
