/* conn.c - non-blocking plain/TLS connection; see conn.h for the contract. */
#include "conn.h"
#include "err.h"
#include "workers.h"

#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Largest plaintext handed to one gnutls_record_send (one TLS record). */
#define TLS_CHUNK 16384
/* One recv() for GnuTLS reads this much: several records, not a header and
 * then a body per record. */
#define TLS_RBUF 65536
/* flush() encrypts records into a write buffer of this size and sends them
 * with one send(): a record of TLS_CHUNK plaintext grows by its header, tag
 * and (TLS 1.2 CBC) padding, well under TLS_RECORD_GROWTH. */
#define TLS_RECORD_GROWTH 512
#define TLS_WBUF (4 * (TLS_CHUNK + TLS_RECORD_GROWTH))
/* wbuf for records that only wait behind others (a KeyUpdate answered
 * while bulk records are still queued): small ones need no TLS_WBUF. */
#define TLS_WBUF_SMALL 4096

static void update_interest(struct sp_conn *c);
static void handshake(struct sp_conn *c);
static void on_io(struct sp_loop *loop, int fd, unsigned events, void *arg);
static ssize_t conn_recv(struct sp_conn *c, void *p, size_t n);

/* GnuTLS pull function: serve from rbuf, refill it with one recv(). */
static ssize_t
conn_pull(gnutls_transport_ptr_t p, void *data, size_t len)
{
	struct sp_conn *c = p;
	size_t n;

	if (c->rbuf_len == 0) {
		ssize_t r;

		if (len >= TLS_RBUF)
			return recv(c->fd, data, len, 0);
		if (c->rbuf == NULL && (c->rbuf = malloc(TLS_RBUF)) == NULL)
			return recv(c->fd, data, len, 0);
		if ((r = recv(c->fd, c->rbuf, TLS_RBUF, 0)) <= 0)
			return r;
		c->rbuf_off = 0;
		c->rbuf_len = (size_t)r;
	}
	n = len < c->rbuf_len ? len : c->rbuf_len;
	memcpy(data, c->rbuf + c->rbuf_off, n);
	c->rbuf_off += n;
	c->rbuf_len -= n;
	return (ssize_t)n;
}

/*
 * GnuTLS push function of an open connection. While flush() encrypts
 * (corked), and whenever earlier records still wait in wbuf (a KeyUpdate
 * answered while reading must not overtake them), the records go to wbuf;
 * otherwise straight to the socket. Refuses (EAGAIN) only a record that
 * would not fit a corked wbuf, which flush() never asks for.
 */
static ssize_t
conn_vec_push(gnutls_transport_ptr_t p, const giovec_t *iov, int iovcnt)
{
	struct sp_conn *c = p;
	size_t total = 0, need;
	int i;

	if (!c->corked && c->wbuf_len == 0) {
		struct msghdr mh;

		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = (struct iovec *)(uintptr_t)iov;
		mh.msg_iovlen = (size_t)iovcnt;
		return sendmsg(c->fd, &mh, MSG_NOSIGNAL);
	}
	for (i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (c->wbuf_off > 0 && c->wbuf_len > 0)
		memmove(c->wbuf, c->wbuf + c->wbuf_off, c->wbuf_len);
	c->wbuf_off = 0;
	need = c->wbuf_len + total;
	if (need > c->wbuf_cap) {
		size_t cap = need <= TLS_WBUF_SMALL ? TLS_WBUF_SMALL :
		    need <= TLS_WBUF ? TLS_WBUF : need;
		uint8_t *nb;

		if (c->corked && need > TLS_WBUF) {
			gnutls_transport_set_errno(c->tls, EAGAIN);
			return -1;
		}
		if ((nb = realloc(c->wbuf, cap)) == NULL) {
			gnutls_transport_set_errno(c->tls, ENOMEM);
			return -1;
		}
		c->wbuf = nb;
		c->wbuf_cap = cap;
	}
	for (i = 0; i < iovcnt; i++) {
		memcpy(c->wbuf + c->wbuf_len, iov[i].iov_base, iov[i].iov_len);
		c->wbuf_len += iov[i].iov_len;
	}
	return (ssize_t)total;
}

/* A quiet connection keeps no write buffer either. */
static void
wbuf_release(struct sp_conn *c)
{
	if (c->wbuf_len == 0) {
		free(c->wbuf);
		c->wbuf = NULL;
		c->wbuf_off = c->wbuf_cap = 0;
	}
}

static int
conn_pull_timeout(gnutls_transport_ptr_t p, unsigned int ms)
{
	struct sp_conn *c = p;
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

	if (c->rbuf_len > 0)
		return 1;
	return poll(&pfd, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
}

/* Decrypted or still encrypted bytes that epoll will not announce. */
static bool
tls_pending(struct sp_conn *c)
{
	return c->tls != NULL &&
	    (c->rbuf_len > 0 || gnutls_record_check_pending(c->tls) > 0);
}

/* A quiet connection keeps no read-ahead storage. */
static void
rbuf_release(struct sp_conn *c)
{
	if (c->rbuf_len == 0) {
		free(c->rbuf);
		c->rbuf = NULL;
		c->rbuf_off = 0;
	}
}

static void
fail(struct sp_conn *c, enum sp_conn_err err, int code, const char *what, const char *detail)
{
	c->err = err;
	c->code = code;
	snprintf(c->errtext, sizeof(c->errtext), "%.40s: %.110s", what, detail);
	sp_loop_del(c->loop, c->fd);
	c->state = SP_CONN_S_DEAD;
	c->cb(c, SP_CONN_ERROR, c->arg);
}

static void
on_pending(struct sp_loop *loop, struct sp_defer *d, void *arg)
{
	struct sp_conn *c = arg;

	if (c->state != SP_CONN_S_OPEN || !c->want_read)
		return;
	c->cb(c, SP_CONN_READABLE, c->arg);
	/* The reader may stop before GnuTLS's buffer is empty (it reads a
	 * bounded amount per turn): epoll will not tell, so come back. */
	if (c->state == SP_CONN_S_OPEN && c->want_read && tls_pending(c))
		sp_defer_queue(c->loop, &c->pending);
}

static void
on_kick(struct sp_loop *loop, struct sp_defer *d, void *arg)
{
	struct sp_conn *c = arg;

	if (c->state == SP_CONN_S_HANDSHAKE)
		handshake(c);
}

int
sp_conn_init(struct sp_conn *c, struct sp_loop *loop, int fd, bool connecting,
    size_t out_max, sp_conn_cb *cb, void *arg)
{
	int fl, r;

	memset(c, 0, sizeof(*c));
	c->loop = loop;
	c->fd = fd;
	c->cb = cb;
	c->arg = arg;
	sp_buf_init(&c->out, out_max);
	sp_defer_init(&c->pending, on_pending, c);
	sp_defer_init(&c->kick, on_kick, c);
	c->state = connecting ? SP_CONN_S_CONNECTING : SP_CONN_S_OPEN;
	if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		r = SP_ERR_SYSTEM;
	else
		r = sp_loop_add(loop, fd, connecting ? SP_EV_WRITE : 0, on_io, c);
	if (r != SP_OK) {
		/* The one owner of fd is the connection (conn.h): close it here,
		 * keeping errno for the caller's log line. */
		int e = errno;

		if (fd >= 0)
			close(fd);
		c->fd = -1;
		c->state = SP_CONN_S_DEAD;
		errno = e;
		return r;
	}
	return SP_OK;
}

/* What one gnutls_handshake() step said, acted on the loop's thread. */
static void
handshake_result(struct sp_conn *c, int r)
{
	if (r == GNUTLS_E_SUCCESS) {
		/* From now on records are written through wbuf (conn_vec_push):
		 * set here, on the loop thread, once no worker runs a step. */
		gnutls_transport_set_ptr2(c->tls, c, c);
		gnutls_transport_set_vec_push_function(c->tls, conn_vec_push);
		c->state = SP_CONN_S_OPEN;
		update_interest(c);
		/* Application data may have come with the last flight. */
		if (tls_pending(c))
			sp_defer_queue(c->loop, &c->pending);
		rbuf_release(c);
		c->cb(c, SP_CONN_READY, c->arg);
		return;
	}
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal(r)) {
		rbuf_release(c);
		update_interest(c);
		return;
	}
	if (r == GNUTLS_E_FATAL_ALERT_RECEIVED || r == GNUTLS_E_WARNING_ALERT_RECEIVED) {
		char t[96];
		snprintf(t, sizeof(t), "alert received: %s",
		    gnutls_alert_get_name(gnutls_alert_get(c->tls)));
		fail(c, SP_CONN_ERR_HANDSHAKE, SP_ERR_TLS, "handshake", t);
		return;
	}
	/* Our side failed (a signature that did not come, say): tell the peer
	 * with an alert rather than a bare close. Best effort, non-blocking.
	 * One alert per connection: a handshake that fails never reaches
	 * finish_shutdown, so close_alert (the alert an open session ends
	 * with) is sent here if the owner set one, else the error's own. */
	if (c->close_alert != 0)
		(void)gnutls_alert_send(c->tls, GNUTLS_AL_FATAL,
		    (gnutls_alert_description_t)c->close_alert);
	else
		(void)gnutls_alert_send_appropriate(c->tls, r);
	fail(c, SP_CONN_ERR_HANDSHAKE, SP_ERR_TLS, "handshake", gnutls_strerror(r));
}

/*
 * An offloaded step. While it runs, the worker alone touches `tls` and `fd`;
 * if the connection is closed meanwhile (`orphan`), the job owns both and
 * releases them when the step returns. GnuTLS reads through the job
 * (hs_pull), not the connection: once orphaned, the connection and its
 * read-ahead may be freed by their owner while the step still runs (a
 * keyless step that got its signature after the handshake timer ended the
 * session), so the step reads nothing more.
 */
struct hs_job {
	struct sp_conn *c;
	gnutls_session_t tls;
	int fd;
	int result;
	bool waited;              /* the step made its remote wait */
	pthread_mutex_t mu;       /* orphan, and c while a pull uses it */
	bool orphan;
	void *held;
	void (*release)(void *);
};

static ssize_t
hs_pull(gnutls_transport_ptr_t p, void *data, size_t len)
{
	struct hs_job *j = p;
	ssize_t r;

	pthread_mutex_lock(&j->mu);
	if (j->orphan) {
		errno = ECONNABORTED;
		r = -1;
	} else
		r = conn_pull(j->c, data, len);
	pthread_mutex_unlock(&j->mu);
	return r;
}

static int
hs_pull_timeout(gnutls_transport_ptr_t p, unsigned int ms)
{
	struct hs_job *j = p;
	struct pollfd pfd = { .fd = j->fd, .events = POLLIN };
	bool buffered;

	pthread_mutex_lock(&j->mu);
	if (j->orphan) {
		pthread_mutex_unlock(&j->mu);
		errno = ECONNABORTED;
		return -1;
	}
	buffered = j->c->rbuf_len > 0;
	pthread_mutex_unlock(&j->mu);
	/* The fd is the job's until hs_done: poll it without the lock. */
	return buffered ? 1 : poll(&pfd, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
}

/* Where GnuTLS reads from: the connection on the loop, the job on a worker. */
static void
tls_reads_from(gnutls_session_t tls, void *ptr, int fd, gnutls_pull_func pull,
    gnutls_pull_timeout_func pull_timeout)
{
	gnutls_transport_set_ptr2(tls, ptr, (gnutls_transport_ptr_t)(intptr_t)fd);
	gnutls_transport_set_pull_function(tls, pull);
	gnutls_transport_set_pull_timeout_function(tls, pull_timeout);
}

/* Set by sp_conn_handshake_waited() during the step running on this thread. */
static __thread bool hs_waited;

void
sp_conn_handshake_waited(void)
{
	hs_waited = true;
}

static void
hs_work(void *arg)
{
	struct hs_job *j = arg;

	hs_waited = false;
	j->result = gnutls_handshake(j->tls);
	j->waited = hs_waited;
}

static void
hs_done(void *arg, bool cancelled)
{
	struct hs_job *j = arg;
	struct sp_conn *c = j->c;
	int r;

	pthread_mutex_destroy(&j->mu);
	if (j->orphan) {
		gnutls_deinit(j->tls);
		close(j->fd);
		if (j->release != NULL)
			j->release(j->held);
		free(j);
		return;
	}
	tls_reads_from(c->tls, c, c->fd, conn_pull, conn_pull_timeout);
	r = j->result;
	if (j->waited)
		c->hs_workers = NULL;   /* the rest runs on the loop */
	c->hs_job = NULL;
	free(j);
	if (cancelled) {
		fail(c, SP_CONN_ERR_HANDSHAKE, SP_ERR_CLOSED, "handshake", "stopped");
		return;
	}
	handshake_result(c, r);
}

static void
handshake(struct sp_conn *c)
{
	struct hs_job *j;

	if (c->hs_workers == NULL) {
		handshake_result(c, gnutls_handshake(c->tls));
		return;
	}
	if (c->hs_job != NULL)
		return;   /* a step is running; its end decides what comes next */
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		fail(c, SP_CONN_ERR_HANDSHAKE, SP_ERR_NOMEM, "handshake", "out of memory");
		return;
	}
	j->c = c;
	j->tls = c->tls;
	j->fd = c->fd;
	pthread_mutex_init(&j->mu, NULL);
	tls_reads_from(c->tls, j, c->fd, hs_pull, hs_pull_timeout);
	if (sp_workers_submit(c->hs_workers, hs_work, hs_done, j) != 0) {
		tls_reads_from(c->tls, c, c->fd, conn_pull, conn_pull_timeout);
		pthread_mutex_destroy(&j->mu);
		free(j);
		(void)gnutls_alert_send(c->tls, GNUTLS_AL_FATAL, GNUTLS_A_INTERNAL_ERROR);
		fail(c, SP_CONN_ERR_HANDSHAKE, SP_ERR_LIMIT, "handshake", "no handshake worker free");
		return;
	}
	c->hs_job = j;
	sp_loop_set(c->loop, c->fd, 0);
}

void
sp_conn_offload_handshake(struct sp_conn *c, struct sp_workers *w,
    void *(*hold)(void *), void (*release)(void *), void *arg)
{
	c->hs_workers = w;
	c->hs_hold = hold;
	c->hs_release = release;
	c->hs_arg = arg;
}

int
sp_conn_start_tls(struct sp_conn *c, gnutls_session_t tls)
{
	c->tls = tls;
	/* Reads through conn_pull (read-ahead); writes straight to the fd until
	 * the handshake is done, then through conn_vec_push (several records a
	 * send). */
	tls_reads_from(tls, c, c->fd, conn_pull, conn_pull_timeout);
	if (c->state == SP_CONN_S_OPEN) {
		c->state = SP_CONN_S_HANDSHAKE;
		update_interest(c);
		/* Start on the next turn: a client's ClientHello goes out then. */
		sp_defer_queue(c->loop, &c->kick);
	}
	return SP_OK;
}

static void
update_interest(struct sp_conn *c)
{
	unsigned ev = 0;

	switch (c->state) {
	case SP_CONN_S_CONNECTING:
		ev = SP_EV_WRITE;
		break;
	case SP_CONN_S_HANDSHAKE:
		ev = gnutls_record_get_direction(c->tls) ? SP_EV_WRITE : SP_EV_READ;
		break;
	case SP_CONN_S_OPEN:
	case SP_CONN_S_CLOSING:
		if (c->want_read && c->state == SP_CONN_S_OPEN)
			ev |= SP_EV_READ;
		if (sp_buf_len(&c->out) > 0 || c->tls_send_pending > 0 ||
		    c->wbuf_len > 0 || c->state == SP_CONN_S_CLOSING)
			ev |= SP_EV_WRITE;
		break;
	case SP_CONN_S_DONE:
	case SP_CONN_S_DEAD:
		return;
	}
	sp_loop_set(c->loop, c->fd, ev);
}

/* Send what waits in wbuf. SP_OK once it is empty. */
static int
send_wbuf(struct sp_conn *c)
{
	while (c->wbuf_len > 0) {
		ssize_t w = send(c->fd, c->wbuf + c->wbuf_off, c->wbuf_len, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return SP_ERR_AGAIN;
			snprintf(c->errtext, sizeof(c->errtext), "send: %s", strerror(errno));
			return SP_ERR_SYSTEM;
		}
		c->wbuf_off += (size_t)w;
		c->wbuf_len -= (size_t)w;
	}
	c->wbuf_off = 0;
	return SP_OK;
}

/*
 * TLS: encrypt src[0..len) record by record into wbuf and send the records
 * with one send() whenever it is full; *used says how much of src went into
 * records. Four full records to a system call instead of one (the default
 * GnuTLS push writes every record by itself). A record GnuTLS could not push
 * (SP_ERR_AGAIN with tls_send_pending set) counts as unused: it must be
 * offered again, the same octets, from the head of `out`. Before the
 * handshake is done nothing is sent here, so records only ever go through
 * conn_vec_push.
 */
static int
tls_send_span(struct sp_conn *c, const uint8_t *src, size_t len, size_t *used)
{
	int r;

	*used = 0;
	for (;;) {
		bool stalled = false;

		if ((r = send_wbuf(c)) != SP_OK)
			return r;
		if (*used == len)
			return SP_OK;
		/* One record goes straight out (no wbuf for an OFTP2 command);
		 * more are gathered. */
		c->corked = len - *used > TLS_CHUNK;
		while (*used < len &&
		    c->wbuf_len + TLS_CHUNK + TLS_RECORD_GROWTH <= TLS_WBUF) {
			size_t n = len - *used;
			ssize_t w;

			if (c->tls_send_pending > 0)
				n = c->tls_send_pending;
			else if (n > TLS_CHUNK)
				n = TLS_CHUNK;
			w = gnutls_record_send(c->tls, src + *used, n);
			if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED) {
				c->tls_send_pending = n;
				stalled = true;
				break;
			}
			c->tls_send_pending = 0;
			if (w < 0) {
				c->corked = false;
				snprintf(c->errtext, sizeof(c->errtext), "send: %s",
				    gnutls_strerror((int)w));
				return SP_ERR_TLS;
			}
			*used += (size_t)w;
			c->bytes_out += (uint64_t)w;
		}
		c->corked = false;
		if (stalled && c->wbuf_len == 0)
			return SP_ERR_AGAIN;
	}
}

/* Plain: send src[0..len) as far as the socket takes it. */
static int
plain_send_span(struct sp_conn *c, const uint8_t *src, size_t len, size_t *used)
{
	*used = 0;
	while (*used < len) {
		ssize_t w = send(c->fd, src + *used, len - *used, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return SP_ERR_AGAIN;
			snprintf(c->errtext, sizeof(c->errtext), "send: %s",
			    strerror(errno));
			return SP_ERR_SYSTEM;
		}
		*used += (size_t)w;
		c->bytes_out += (uint64_t)w;
	}
	return SP_OK;
}

/* Write as much of `out` as the socket takes. Returns SP_OK, SP_ERR_AGAIN or a failure. */
static int
flush(struct sp_conn *c)
{
	size_t used;
	int r;

	r = c->tls != NULL ?
	    tls_send_span(c, sp_buf_ptr(&c->out), sp_buf_len(&c->out), &used) :
	    plain_send_span(c, sp_buf_ptr(&c->out), sp_buf_len(&c->out), &used);
	if (used > 0)
		(void)sp_buf_consume(&c->out, used);
	/* Keep the storage for the next write (freeing and allocating it on
	 * every drain cost 13 % of the server's CPU); zero what it carried.
	 * sp_conn_read() releases it when the connection goes quiet. */
	if (r == SP_OK)
		sp_buf_wipe_if_empty(&c->out);
	return r;
}

static void
finish_shutdown(struct sp_conn *c)
{
	if (c->tls != NULL) {
		/* A fatal alert tells the peer why (certificate_revoked); it ends
		 * the TLS session as close_notify would. */
		int r = c->close_alert != 0 ?
		    gnutls_alert_send(c->tls, GNUTLS_AL_FATAL, (gnutls_alert_description_t)c->close_alert) :
		    gnutls_bye(c->tls, GNUTLS_SHUT_WR);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			update_interest(c);
			return;
		}
	}
	shutdown(c->fd, SHUT_WR);
	c->state = SP_CONN_S_DONE;
	sp_loop_set(c->loop, c->fd, 0);
	c->cb(c, SP_CONN_FINISHED, c->arg);
}

static void
on_io(struct sp_loop *loop, int fd, unsigned events, void *arg)
{
	struct sp_conn *c = arg;
	int r;

	if (c->state == SP_CONN_S_CONNECTING) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
			soerr = errno;
		if (soerr != 0) {
			errno = soerr;
			fail(c, SP_CONN_ERR_CONNECT, SP_ERR_SYSTEM, "connect", strerror(soerr));
			return;
		}
		if (!(events & (SP_EV_WRITE | SP_EV_ERROR)))
			return;
		if (c->tls != NULL) {
			c->state = SP_CONN_S_HANDSHAKE;
			handshake(c);
			return;
		}
		c->state = SP_CONN_S_OPEN;
		update_interest(c);
		c->cb(c, SP_CONN_READY, c->arg);
		return;
	}
	if (c->state == SP_CONN_S_HANDSHAKE) {
		handshake(c);
		return;
	}
	if (c->state != SP_CONN_S_OPEN && c->state != SP_CONN_S_CLOSING)
		return;
	if ((events & SP_EV_WRITE) || (events & SP_EV_ERROR)) {
		size_t before = sp_buf_len(&c->out);

		r = flush(c);
		if (r != SP_OK && r != SP_ERR_AGAIN) {
			char t[sizeof(c->errtext)];
			memcpy(t, c->errtext, sizeof(t));
			fail(c, SP_CONN_ERR_WRITE, r, "write", t);
			return;
		}
		if (c->state == SP_CONN_S_CLOSING && r == SP_OK) {
			finish_shutdown(c);
			return;
		}
		update_interest(c);
		if (sp_buf_len(&c->out) < before) {
			c->cb(c, SP_CONN_DRAINED, c->arg);
			if (c->state == SP_CONN_S_DEAD)
				return;
		}
	}
	if ((events & (SP_EV_READ | SP_EV_ERROR)) && c->want_read &&
	    c->state == SP_CONN_S_OPEN) {
		c->cb(c, SP_CONN_READABLE, c->arg);
		if (c->state == SP_CONN_S_DEAD)
			return;
		if (c->want_read && tls_pending(c))
			sp_defer_queue(c->loop, &c->pending);
	}
}

int
sp_conn_read(struct sp_conn *c, void *p, size_t n, size_t *got)
{
	ssize_t r;

	*got = 0;
	if (c->state != SP_CONN_S_OPEN)
		return c->state == SP_CONN_S_DEAD ? SP_ERR_CLOSED : SP_ERR_AGAIN;
	r = conn_recv(c, p, n);
	if (r == SP_ERR_AGAIN) {
		/* Nothing to read: quiet connections keep no read-ahead and,
		 * with nothing queued, no output storage. */
		rbuf_release(c);
		if (c->tls_send_pending == 0) {
			sp_buf_release_if_empty(&c->out);
			wbuf_release(c);
		}
	}
	if (r > 0) {
		c->bytes_in += (uint64_t)r;
		*got = (size_t)r;
		return SP_OK;
	}
	return (int)r;
}

/* One read: > 0 octets, or an SP_ERR_* code. */
static ssize_t
conn_recv(struct sp_conn *c, void *p, size_t n)
{
	ssize_t r;

	if (c->tls != NULL) {
		for (int tries = 0; tries < 4; tries++) {
			r = gnutls_record_recv(c->tls, p, n);
			if (r > 0)
				break;
			if (r == 0)
				return SP_ERR_CLOSED;
			if (r == GNUTLS_E_AGAIN)
				return SP_ERR_AGAIN;
			if (r == GNUTLS_E_PREMATURE_TERMINATION) {
				c->unclean_eof = true;
				return SP_ERR_CLOSED;
			}
			if (r == GNUTLS_E_REHANDSHAKE) {
				/* We never renegotiate: it only widens the attack surface. */
				c->err = SP_CONN_ERR_READ;
				c->code = SP_ERR_TLS;
				snprintf(c->errtext, sizeof(c->errtext),
				    "recv: peer asked for renegotiation");
				return SP_ERR_TLS;
			}
			if (r == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal((int)r))
				continue;
			c->err = SP_CONN_ERR_READ;
			c->code = SP_ERR_TLS;
			snprintf(c->errtext, sizeof(c->errtext), "recv: %s",
			    gnutls_strerror((int)r));
			return SP_ERR_TLS;
		}
		if (r <= 0)
			return SP_ERR_AGAIN;
	} else {
		r = recv(c->fd, p, n, 0);
		if (r == 0)
			return SP_ERR_CLOSED;
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return SP_ERR_AGAIN;
			if (errno == ECONNRESET) {
				c->unclean_eof = true;
				return SP_ERR_CLOSED;
			}
			c->err = SP_CONN_ERR_READ;
			c->code = SP_ERR_SYSTEM;
			snprintf(c->errtext, sizeof(c->errtext), "recv: %s", strerror(errno));
			return SP_ERR_SYSTEM;
		}
	}
	return r;
}

int
sp_conn_write(struct sp_conn *c, const void *p, size_t n)
{
	size_t used = 0;
	int r;

	if (c->state == SP_CONN_S_DEAD || c->state == SP_CONN_S_DONE)
		return SP_ERR_CLOSED;
	if (n > sp_buf_room(&c->out))
		return SP_ERR_LIMIT;
	/* Nothing queued ahead and the connection up: encrypt (or send)
	 * straight from the caller's octets, and queue only what the socket
	 * did not take. A relayed chunk then never passes through `out` (one
	 * copy and one wipe less per octet). With something ahead the socket
	 * was full and EPOLLOUT will come. Errors surface through the event
	 * path: what was not sent is queued, and flush() meets the error. */
	if (c->state == SP_CONN_S_OPEN && !sp_conn_unsent(c))
		(void)(c->tls != NULL ? tls_send_span(c, p, n, &used) :
		    plain_send_span(c, p, n, &used));
	if ((r = sp_buf_put(&c->out, (const uint8_t *)p + used, n - used)) != 0)
		return r;
	update_interest(c);
	return SP_OK;
}

void
sp_conn_want_read(struct sp_conn *c, bool on)
{
	if (c->want_read == on)
		return;
	c->want_read = on;
	update_interest(c);
	if (on && c->state == SP_CONN_S_OPEN && tls_pending(c))
		sp_defer_queue(c->loop, &c->pending);
}

void
sp_conn_shutdown(struct sp_conn *c)
{
	if (c->state != SP_CONN_S_OPEN && c->state != SP_CONN_S_HANDSHAKE &&
	    c->state != SP_CONN_S_CONNECTING)
		return;
	if (c->state != SP_CONN_S_OPEN) {
		/* Nothing was said yet: there is no one to say goodbye to. */
		c->state = SP_CONN_S_DONE;
		sp_loop_set(c->loop, c->fd, 0);
		c->cb(c, SP_CONN_FINISHED, c->arg);
		return;
	}
	c->state = SP_CONN_S_CLOSING;
	update_interest(c);
}

int
sp_conn_detach(struct sp_conn *c)
{
	if (c->fd < 0 || c->hs_job != NULL || c->state != SP_CONN_S_OPEN)
		return SP_ERR_INVALID;
	sp_defer_cancel(c->loop, &c->pending);
	sp_defer_cancel(c->loop, &c->kick);
	sp_loop_del(c->loop, c->fd);
	c->loop = NULL;
	return SP_OK;
}

int
sp_conn_attach(struct sp_conn *c, struct sp_loop *loop, sp_conn_cb *cb, void *arg)
{
	int r;

	c->loop = loop;
	c->cb = cb;
	c->arg = arg;
	if ((r = sp_loop_add(loop, c->fd, 0, on_io, c)) != SP_OK)
		return r;
	update_interest(c);
	/* Records GnuTLS decrypted before the move: epoll will not say. */
	if (c->want_read && tls_pending(c))
		sp_defer_queue(c->loop, &c->pending);
	return SP_OK;
}

void
sp_conn_close(struct sp_conn *c)
{
	if (c->fd < 0)
		return;
	if (c->loop != NULL) {   /* NULL: detached, on its way to a loop */
		sp_defer_cancel(c->loop, &c->pending);
		sp_defer_cancel(c->loop, &c->kick);
		sp_loop_del(c->loop, c->fd);
	}
	if (c->hs_job != NULL) {
		/* A worker is inside gnutls_handshake(): it releases both, and
		 * reads nothing more through c once this is set. */
		pthread_mutex_lock(&c->hs_job->mu);
		c->hs_job->orphan = true;
		pthread_mutex_unlock(&c->hs_job->mu);
		if (c->hs_hold != NULL) {
			c->hs_job->held = c->hs_hold(c->hs_arg);
			c->hs_job->release = c->hs_release;
		}
		c->hs_job = NULL;
		c->tls = NULL;
		c->fd = -1;
	}
	if (c->tls != NULL) {
		gnutls_deinit(c->tls);
		c->tls = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = SP_CONN_S_DEAD;
	sp_buf_free(&c->out);
	free(c->rbuf);
	c->rbuf = NULL;
	c->rbuf_off = c->rbuf_len = 0;
	free(c->wbuf);
	c->wbuf = NULL;
	c->wbuf_off = c->wbuf_len = c->wbuf_cap = 0;
}
