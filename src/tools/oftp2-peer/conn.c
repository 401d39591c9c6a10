/* conn.c - plain or TLS transport of oftp2-peer (see conn.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/x509.h>

#include "core/err.h"
#include "conn.h"
#include "msg.h"
#include "opts.h"

/* TLS 1.2 and 1.3 only, strong suites. */
#define PEER_TLS_PRIORITY "SECURE192:+SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events until deadline; SP_ERR_TIMEOUT when it passes. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd;
	long long left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return SP_ERR_TIMEOUT;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return SP_ERR_SYSTEM;
	}
}

int
peer_tls_init(struct peer_tls *t, const struct peer_opts *o)
{
	const char *errpos = NULL;
	int g;

	memset(t, 0, sizeof(*t));
	t->server = o->mode == PEER_MODE_LISTEN;
	t->require_client_cert = o->require_client_cert;
	if ((g = gnutls_certificate_allocate_credentials(&t->cred)) < 0)
		goto gnutls_fail;
	if (o->cert != NULL && (g = gnutls_certificate_set_x509_key_file(t->cred,
	    o->cert, o->key, GNUTLS_X509_FMT_PEM)) < 0) {
		peer_error("cannot load certificate %s / key %s: %s", o->cert,
		    o->key, gnutls_strerror(g));
		return SP_ERR_TLS;
	}
	if (o->ca != NULL) {
		if ((g = gnutls_certificate_set_x509_trust_file(t->cred, o->ca,
		    GNUTLS_X509_FMT_PEM)) <= 0) {
			peer_error("cannot load CA file %s: %s", o->ca,
			    g == 0 ? "no certificate in it" : gnutls_strerror(g));
			return SP_ERR_TLS;
		}
		t->have_ca = 1;
	}
	if ((g = gnutls_priority_init(&t->prio, PEER_TLS_PRIORITY, &errpos)) < 0)
		goto gnutls_fail;
	return 0;
gnutls_fail:
	peer_error("TLS setup: %s", gnutls_strerror(g));
	return SP_ERR_TLS;
}

void
peer_tls_free(struct peer_tls *t)
{
	if (t->prio != NULL)
		gnutls_priority_deinit(t->prio);
	if (t->cred != NULL)
		gnutls_certificate_free_credentials(t->cred);
	memset(t, 0, sizeof(*t));
}

void
peer_conn_init(struct peer_conn *c, int fd, int timeout_ms)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->timeout_ms = timeout_ms;
}

/* Server side with --ca but no --require-client-cert: check what is sent. */
static int
verify_optional_client_cert(struct peer_conn *c)
{
	unsigned int status = 0, n = 0;
	gnutls_datum_t out;
	int g;

	if (gnutls_certificate_get_peers(c->tls, &n) == NULL || n == 0)
		return 0;
	if ((g = gnutls_certificate_verify_peers3(c->tls, NULL, &status)) < 0) {
		peer_error("TLS client certificate: %s", gnutls_strerror(g));
		return SP_ERR_TLS;
	}
	if (status != 0) {
		if (gnutls_certificate_verification_status_print(status,
		    GNUTLS_CRT_X509, &out, 0) == 0) {
			peer_error("TLS client certificate refused: %s", out.data);
			gnutls_free(out.data);
		} else
			peer_error("TLS client certificate refused");
		return SP_ERR_TLS;
	}
	return 0;
}

static void
trace_tls(struct peer_conn *c)
{
	unsigned int n = 0;
	char *desc;

	if (!peer_msg_verbose())
		return;
	desc = gnutls_session_get_desc(c->tls);
	peer_trace("TLS established: %s", desc != NULL ? desc : "?");
	gnutls_free(desc);
	if (gnutls_certificate_get_peers(c->tls, &n) != NULL && n > 0)
		peer_trace("TLS peer certificate chain: %u certificate(s), verified", n);
	else
		peer_trace("TLS peer sent no certificate");
}

int
peer_conn_start_tls(struct peer_conn *c, struct peer_tls *t, const char *servername)
{
	long long deadline = now_ms() + c->timeout_ms;
	int g, r;

	if ((g = gnutls_init(&c->tls, (t->server ? GNUTLS_SERVER : GNUTLS_CLIENT) |
	    GNUTLS_NONBLOCK)) < 0)
		goto fail;
	if ((g = gnutls_priority_set(c->tls, t->prio)) < 0 ||
	    (g = gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, t->cred)) < 0)
		goto fail;
	gnutls_transport_set_int(c->tls, c->fd);
	if (t->server) {
		if (t->require_client_cert) {
			gnutls_certificate_server_set_request(c->tls, GNUTLS_CERT_REQUIRE);
			gnutls_session_set_verify_cert(c->tls, NULL, 0);
		} else if (t->have_ca) {
			gnutls_certificate_server_set_request(c->tls, GNUTLS_CERT_REQUEST);
			c->verify_client = 1;
		}
	} else {
		/* An IP address in servername is checked against iPAddress SANs. */
		gnutls_session_set_verify_cert(c->tls, servername, 0);
		if (servername != NULL && strchr(servername, ':') == NULL &&
		    strspn(servername, "0123456789.") != strlen(servername))
			(void)gnutls_server_name_set(c->tls, GNUTLS_NAME_DNS,
			    servername, strlen(servername));
	}
	for (;;) {
		g = gnutls_handshake(c->tls);
		if (g == GNUTLS_E_SUCCESS)
			break;
		if (g == GNUTLS_E_AGAIN || g == GNUTLS_E_INTERRUPTED) {
			r = wait_fd(c->fd, gnutls_record_get_direction(c->tls) ?
			    POLLOUT : POLLIN, deadline);
			if (r == SP_ERR_TIMEOUT) {
				peer_error("TLS handshake timed out");
				return r;
			}
			continue;
		}
		if (gnutls_error_is_fatal(g))
			goto fail;
	}
	if (c->verify_client && (r = verify_optional_client_cert(c)) != 0)
		return r;
	trace_tls(c);
	return 0;
fail:
	if (g == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR && c->tls != NULL) {
		gnutls_datum_t out;
		unsigned int status = gnutls_session_get_verify_cert_status(c->tls);

		if (gnutls_certificate_verification_status_print(status,
		    GNUTLS_CRT_X509, &out, 0) == 0) {
			peer_error("TLS handshake failed: %s", out.data);
			gnutls_free(out.data);
			return SP_ERR_TLS;
		}
	}
	peer_error("TLS handshake failed: %s", gnutls_strerror(g));
	return SP_ERR_TLS;
}

int
peer_conn_read_full(struct peer_conn *c, void *p, size_t n)
{
	long long deadline = now_ms() + c->timeout_ms;
	unsigned char *dst = p;
	ssize_t got;
	int r;

	while (n > 0) {
		if (c->tls != NULL) {
			got = gnutls_record_recv(c->tls, dst, n);
			if (got == GNUTLS_E_AGAIN || got == GNUTLS_E_INTERRUPTED) {
				if ((r = wait_fd(c->fd, POLLIN, deadline)) != 0)
					return r;
				continue;
			}
			if (got == 0 || got == GNUTLS_E_PREMATURE_TERMINATION)
				return SP_ERR_CLOSED;
			if (got < 0) {
				if (!gnutls_error_is_fatal((int)got))
					continue;
				/* Name the alert: it says why the other side ended it. */
				if (got == GNUTLS_E_FATAL_ALERT_RECEIVED)
					peer_error("TLS receive: %s: %s", gnutls_strerror((int)got),
					    gnutls_alert_get_name(gnutls_alert_get(c->tls)));
				else
					peer_error("TLS receive: %s", gnutls_strerror((int)got));
				return SP_ERR_TLS;
			}
		} else {
			got = recv(c->fd, dst, n, 0);
			if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
				if ((r = wait_fd(c->fd, POLLIN, deadline)) != 0)
					return r;
				continue;
			}
			if (got == 0)
				return SP_ERR_CLOSED;
			if (got < 0)
				return errno == ECONNRESET ? SP_ERR_CLOSED : SP_ERR_SYSTEM;
		}
		dst += got;
		n -= (size_t)got;
	}
	return 0;
}

int
peer_conn_write_all(struct peer_conn *c, const void *p, size_t n)
{
	long long deadline = now_ms() + c->timeout_ms;
	const unsigned char *src = p;
	ssize_t put;
	int r;

	while (n > 0) {
		if (c->tls != NULL) {
			put = gnutls_record_send(c->tls, src, n);
			if (put == GNUTLS_E_AGAIN || put == GNUTLS_E_INTERRUPTED) {
				if ((r = wait_fd(c->fd, POLLOUT, deadline)) != 0)
					return r;
				/* GnuTLS wants the same data again after AGAIN. */
				continue;
			}
			if (put < 0) {
				peer_error("TLS send: %s", gnutls_strerror((int)put));
				return SP_ERR_TLS;
			}
		} else {
			put = send(c->fd, src, n, MSG_NOSIGNAL);
			if (put < 0 && (errno == EAGAIN || errno == EINTR)) {
				if ((r = wait_fd(c->fd, POLLOUT, deadline)) != 0)
					return r;
				continue;
			}
			if (put < 0)
				return errno == EPIPE || errno == ECONNRESET ?
				    SP_ERR_CLOSED : SP_ERR_SYSTEM;
		}
		src += put;
		n -= (size_t)put;
	}
	return 0;
}

void
peer_conn_close(struct peer_conn *c)
{
	long long deadline;
	int g;

	if (c->tls != NULL) {
		/* Bounded close alert: a peer that stopped reading must not block us. */
		deadline = now_ms() + (c->timeout_ms < 2000 ? c->timeout_ms : 2000);
		while ((g = gnutls_bye(c->tls, GNUTLS_SHUT_WR)) == GNUTLS_E_AGAIN ||
		    g == GNUTLS_E_INTERRUPTED)
			if (wait_fd(c->fd, POLLOUT, deadline) != 0)
				break;
		gnutls_deinit(c->tls);
		c->tls = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}
