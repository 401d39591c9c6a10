/*
 * conn.h - a non-blocking stream connection, plain or TLS (GnuTLS), on a loop.
 *
 * The connection owns its fd, its GnuTLS session (once handed over with
 * sp_conn_start_tls) and a bounded output buffer. The user reads with
 * sp_conn_read() when told READABLE and queues output with sp_conn_write();
 * the connection flushes it as the socket allows and reports DRAINED when
 * room was freed, which is how relays implement backpressure. Records that
 * GnuTLS already decrypted but the user has not read yet are delivered through
 * a deferred READABLE, since epoll cannot see them.
 *
 * Events are delivered to one callback. The callback may call
 * sp_conn_close(); the struct itself belongs to the user (usually embedded in
 * a session) and must stay valid until the current callback stack unwinds:
 * free it from deferred work (sp_defer), never inside the callback.
 */
#ifndef SP_CONN_H
#define SP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gnutls/gnutls.h>

#include "buf.h"
#include "loop.h"

enum sp_conn_event {
	SP_CONN_READY,    /* TCP connected and TLS handshake (if any) done */
	SP_CONN_READABLE, /* sp_conn_read() will return data, EOF or an error */
	SP_CONN_DRAINED,  /* output was flushed; sp_conn_out_room() grew */
	SP_CONN_FINISHED, /* graceful shutdown completed: close now */
	SP_CONN_ERROR     /* fatal: c->err says what failed, c->errtext why; close now */
};

/*
 * What failed on a connection, for callers that decide on it (a handshake
 * failure is tls_failed, a refused connect partner_unreachable). Decide on
 * this, never on the text of c->errtext, which is for people.
 */
enum sp_conn_err {
	SP_CONN_ERR_NONE = 0,
	SP_CONN_ERR_CONNECT,   /* the TCP connect did not complete */
	SP_CONN_ERR_HANDSHAKE, /* the TLS handshake did not complete (alert,
	                        * certificate, garbage, no worker, stopped) */
	SP_CONN_ERR_READ,      /* receiving failed (a socket error, a bad TLS
	                        * record, renegotiation asked; a reset is EOF) */
	SP_CONN_ERR_WRITE      /* sending failed */
};

struct sp_conn;
struct sp_workers;
struct hs_job;
typedef void sp_conn_cb(struct sp_conn *c, enum sp_conn_event ev, void *arg);

enum sp_conn_state {
	SP_CONN_S_CONNECTING, SP_CONN_S_HANDSHAKE, SP_CONN_S_OPEN,
	SP_CONN_S_CLOSING, SP_CONN_S_DONE, SP_CONN_S_DEAD
};

struct sp_conn {
	struct sp_loop *loop;
	int fd;
	gnutls_session_t tls;
	enum sp_conn_state state;
	struct sp_buf out;
	size_t tls_send_pending;  /* size of a gnutls_record_send that said AGAIN */
	bool want_read;
	bool unclean_eof;         /* peer closed TLS without close_notify */
	enum sp_conn_err err;     /* set with errtext when something failed */
	int code;                 /* the SP_ERR_* of that failure */
	char errtext[160];
	sp_conn_cb *cb;
	void *arg;
	struct sp_defer pending;  /* deferred READABLE for buffered TLS records */
	struct sp_defer kick;     /* starts a handshake outside the caller's stack */
	struct sp_workers *hs_workers; /* non-NULL: handshake steps run there */
	struct hs_job *hs_job;    /* the step in flight on a worker, or NULL */
	void *(*hs_hold)(void *);
	void (*hs_release)(void *);
	void *hs_arg;
	uint64_t bytes_in, bytes_out;
	unsigned close_alert;     /* 0: close_notify; else the fatal alert
	                           * sp_conn_shutdown() sends instead */
	/* TLS: bytes read from the socket that GnuTLS has not taken yet (one
	 * recv() serves several records); NULL while the connection is quiet. */
	uint8_t *rbuf;
	size_t rbuf_off, rbuf_len;
	/* TLS, once open: records encrypted but not yet on the socket, so that
	 * one send() carries several of them. Holds ciphertext only; allocated
	 * by the first batch, kept while the connection is busy and freed with
	 * rbuf when a read finds it quiet. `corked` while flush() encrypts
	 * into it. */
	uint8_t *wbuf;
	size_t wbuf_off, wbuf_len, wbuf_cap;
	bool corked;
};

/*
 * Take over fd (made non-blocking here). `connecting` is true for an fd whose
 * connect() is in progress: READY is reported when it completes (or at the end
 * of the handshake if sp_conn_start_tls is called first).
 *
 * The connection owns fd from this call on, whatever it returns: on failure
 * fd is already closed and c is a closed connection (c->fd == -1), so the
 * caller never closes fd itself and may call sp_conn_close(c) either way.
 */
int sp_conn_init(struct sp_conn *c, struct sp_loop *loop, int fd, bool connecting,
    size_t out_max, sp_conn_cb *cb, void *arg);
/* Hand over a configured GnuTLS session (ownership passes to the conn). */
int sp_conn_start_tls(struct sp_conn *c, gnutls_session_t tls);

/*
 * Run every gnutls_handshake() step of this connection on a worker of `w`
 * (set before sp_conn_start_tls). For credentials whose private key signs
 * elsewhere (keyless listeners): the step that signs waits for a remote
 * answer, and that wait must not stall the loop. While a step is in flight
 * the loop does not watch the fd; sp_conn_close() then hands the fd and the
 * GnuTLS session to the step, which releases them when it returns, together
 * with what hold(arg) returned at that moment (what the GnuTLS session still
 * uses, such as its credentials): release() runs on the loop thread.
 */
void sp_conn_offload_handshake(struct sp_conn *c, struct sp_workers *w,
    void *(*hold)(void *), void (*release)(void *), void *arg);
/*
 * Called by whatever waited inside an offloaded step (the keyless sign
 * callback), on the worker: the handshake's one remote wait is over, so its
 * remaining steps run on the loop again and cost no thread hop. A later wait
 * on the loop thread must fail at once instead (the sign callback does).
 */
void sp_conn_handshake_waited(void);

/* Returns SP_OK with *got > 0, SP_ERR_AGAIN, SP_ERR_CLOSED, or a failure. */
int sp_conn_read(struct sp_conn *c, void *p, size_t n, size_t *got);
/*
 * Queue all n bytes or none (SP_ERR_LIMIT when out of room). With nothing
 * queued ahead on an open connection they go to the socket at once, from p,
 * and only the rest is copied. SP_ERR_NOMEM may come after part of them went
 * out: the stream is then cut and the connection must be closed.
 */
int sp_conn_write(struct sp_conn *c, const void *p, size_t n);
static inline size_t sp_conn_out_room(const struct sp_conn *c) { return sp_buf_room(&c->out); }
static inline size_t sp_conn_out_len(const struct sp_conn *c) { return sp_buf_len(&c->out); }
/* Anything written that has not reached the socket yet: queued plaintext,
 * encrypted records waiting in the write buffer, or a record GnuTLS holds. */
static inline bool sp_conn_unsent(const struct sp_conn *c)
{ return sp_buf_len(&c->out) > 0 || c->wbuf_len > 0 || c->tls_send_pending > 0; }
void sp_conn_want_read(struct sp_conn *c, bool on);
/* Change the output bound (a connection handed to a new owner); it never
 * drops queued bytes: the bound becomes at least what is queued. */
static inline void sp_conn_set_out_max(struct sp_conn *c, size_t max)
{ c->out.max = max > c->out.len ? max : c->out.len; }

/*
 * Move an open connection to another loop (a tunnel data connection that
 * becomes a session's leg on that session's thread). On the old loop's
 * thread, sp_conn_detach() stops watching it there: SP_ERR_INVALID unless
 * it is open with no handshake step in flight (the caller keeps it and may
 * close it). Until sp_conn_attach() the connection belongs to no loop: hand
 * it over (a message, loop.h) and call sp_conn_attach() on the new loop's
 * thread, with the new callback; it is watched as before (queued output,
 * reading on or off). sp_conn_close() works in between too (a connection
 * nobody will take any more) and after a failed attach.
 */
int sp_conn_detach(struct sp_conn *c);
int sp_conn_attach(struct sp_conn *c, struct sp_loop *loop, sp_conn_cb *cb, void *arg);

/* Flush output, say goodbye (TLS close_notify, or c->close_alert), then
 * report FINISHED. */
void sp_conn_shutdown(struct sp_conn *c);
/* Release fd and TLS now. Safe to call twice. */
void sp_conn_close(struct sp_conn *c);

static inline bool sp_conn_is_open(const struct sp_conn *c)
{ return c->state == SP_CONN_S_OPEN; }

#endif
