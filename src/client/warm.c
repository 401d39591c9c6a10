/*
 * warm.c - a small pool of tunnel data connections, handshaken and pinned in
 * advance, so a session's way in costs no TLS handshake at the moment a
 * partner is waiting.
 *
 * A warm connection says hello with the role "standby"; the pipe that takes it
 * sends the real hello (data or outgoing) on it. The server closes a standby
 * connection after two minutes, so each one is replaced before that. The pool
 * exists only while the control connection is up.
 */
#include "client/client.h"
#include "core/err.h"
#include "core/log.h"
#include "tunnel/msg.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WARM_MAX 2
#define WARM_REFRESH_MS 100000
#define WARM_RETRY_MS 2000

struct warm {
	struct client *cl;
	struct sp_conn *c;
	bool ready;
	struct sp_timer timer;
};

static struct warm pool[WARM_MAX];
static struct sp_conn *graveyard[2 * WARM_MAX];
static struct sp_defer reaper;
static bool reaper_init;

static void warm_cb(struct sp_conn *c, enum sp_conn_event ev, void *arg);

static void
reap(struct sp_loop *loop, struct sp_defer *d, void *arg)
{
	size_t i;

	for (i = 0; i < sizeof(graveyard) / sizeof(graveyard[0]); i++) {
		free(graveyard[i]);
		graveyard[i] = NULL;
	}
}

/* Close and free (later: we may be inside its callback). */
static void
drop(struct warm *w)
{
	size_t i;

	if (w->c == NULL)
		return;
	sp_conn_close(w->c);
	for (i = 0; i < sizeof(graveyard) / sizeof(graveyard[0]); i++) {
		if (graveyard[i] == NULL) {
			graveyard[i] = w->c;
			break;
		}
	}
	if (i == sizeof(graveyard) / sizeof(graveyard[0]))
		free(w->c); /* cannot happen: at most two drops per slot per turn */
	sp_defer_queue(w->cl->loop, &reaper);
	w->c = NULL;
	w->ready = false;
}

static void
dial(struct warm *w)
{
	struct client *cl = w->cl;
	gnutls_session_t tls;
	bool inprog;
	int fd;

	if (cl->ctl_state != CTL_UP || w->c != NULL)
		return;
	if (sp_connect(&cl->server_addr, NULL, &fd, &inprog) != 0) {
		sp_timer_start(cl->loop, &w->timer, WARM_RETRY_MS);
		return;
	}
	if ((w->c = calloc(1, sizeof(*w->c))) == NULL)
		close(fd);   /* no connection to own it */
	/* Past sp_conn_init the connection owns fd, even when it fails. */
	if (w->c == NULL ||
	    sp_conn_init(w->c, cl->loop, fd, inprog, SP_PIPE_OUT_MAX, warm_cb, w) != 0 ||
	    client_tls_session(cl, &tls) != 0) {
		if (w->c != NULL)
			sp_conn_close(w->c);
		free(w->c);
		w->c = NULL;
		sp_timer_start(cl->loop, &w->timer, WARM_RETRY_MS);
		return;
	}
	sp_conn_start_tls(w->c, tls);
	sp_timer_start(cl->loop, &w->timer, WARM_REFRESH_MS);
}

static void
warm_cb(struct sp_conn *c, enum sp_conn_event ev, void *arg)
{
	struct warm *w = arg;
	json_object *m;
	uint8_t b[64];
	size_t got;
	int r;

	switch (ev) {
	case SP_CONN_READY:
		if (!client_server_pinned(w->cl, c)) {
			drop(w);
			sp_timer_start(w->cl->loop, &w->timer, WARM_RETRY_MS);
			return;
		}
		m = json_object_new_object();
		json_object_object_add(m, "type", json_object_new_string("hello"));
		json_object_object_add(m, "version", json_object_new_int(SP_TUNNEL_VERSION));
		json_object_object_add(m, "role", json_object_new_string("standby"));
		r = sp_tmsg_write(c, m);
		json_object_put(m);
		if (r != 0) {
			drop(w);
			return;
		}
		w->ready = true;
		/* Reading tells us when the server gives up on it. */
		sp_conn_want_read(c, true);
		break;
	case SP_CONN_READABLE:
		r = sp_conn_read(c, b, sizeof(b), &got);
		if (r == SP_ERR_AGAIN)
			break;
		/* The server never speaks first on a data connection: anything
		 * else is its close. Replace the connection. */
		drop(w);
		sp_timer_start(w->cl->loop, &w->timer, WARM_RETRY_MS);
		break;
	case SP_CONN_DRAINED:
		break;
	case SP_CONN_FINISHED:
	case SP_CONN_ERROR:
		drop(w);
		sp_timer_start(w->cl->loop, &w->timer, WARM_RETRY_MS);
		break;
	}
}

static void
warm_timer(struct sp_loop *loop, struct sp_timer *t, void *arg)
{
	struct warm *w = arg;

	/* Refresh before the server's standby limit, or retry after a failure. */
	drop(w);
	dial(w);
}

void
warm_start(struct client *cl)
{
	size_t i;

	if (!reaper_init) {
		sp_defer_init(&reaper, reap, NULL);
		reaper_init = true;
	}
	for (i = 0; i < WARM_MAX; i++) {
		if (pool[i].cl == NULL) {
			pool[i].cl = cl;
			sp_timer_init(&pool[i].timer, warm_timer, &pool[i]);
		}
		dial(&pool[i]);
	}
}

void
warm_stop(struct client *cl)
{
	size_t i;

	for (i = 0; i < WARM_MAX; i++) {
		if (pool[i].cl == NULL)
			continue;
		sp_timer_stop(cl->loop, &pool[i].timer);
		drop(&pool[i]);
	}
}

void
warm_shutdown(struct client *cl)
{
	warm_stop(cl);
	if (reaper_init) {
		sp_defer_cancel(cl->loop, &reaper);
		reap(cl->loop, &reaper, NULL);
	}
}

struct sp_conn *
warm_take(struct client *cl)
{
	size_t i;

	for (i = 0; i < WARM_MAX; i++) {
		struct warm *w = &pool[i];
		struct sp_conn *c;

		if (w->c == NULL || !w->ready)
			continue;
		c = w->c;
		w->c = NULL;
		w->ready = false;
		sp_conn_want_read(c, false);
		/* Replace it at once, for the next session. */
		sp_timer_start(cl->loop, &w->timer, 0);
		return c;
	}
	return NULL;
}
