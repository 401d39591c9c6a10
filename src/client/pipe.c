/*
 * pipe.c - one verified session's way in: a tunnel data connection to the
 * server joined to a plain TCP connection to the inside OFTP2 server.
 *
 * The client dials the inside server first and the tunnel only once the
 * inside answered, so a dead inside server costs the DMZ no handshake (and
 * leaves no half-done handshake for intrusion detection to see). The data connection's
 * first bytes are its hello; only then are bytes relayed, so nothing the
 * inside server says can overtake it. A pipe owns both connections and frees
 * itself from deferred work once both are closed.
 */
#include "client/client.h"
#include "core/err.h"
#include "core/log.h"
#include "core/memtrim.h"
#include "core/relay.h"
#include "tunnel/msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PIPE_OUT_MAX SP_PIPE_OUT_MAX
#define PIPE_CONNECT_MS 10000
#define PIPE_LINGER_MS 5000

enum { P_TUN = 0, P_IN = 1 };

struct pipe {
	struct pipe *next, *prev;
	struct client *cl;
	uint64_t session;
	char *route;                  /* outgoing call on this route, else NULL */
	struct sp_conn *c[2];
	bool ready[2];
	bool done[2];
	bool relaying, ending, dead;
	struct sp_timer timer;
	struct sp_defer reap;
	uint64_t bytes[2];
};

/* The process's count of pipes, for giving memory back after bursts. */
static struct sp_memtrim pipe_trim;

static void
pipe_reap(struct sp_loop *loop, struct sp_defer *d, void *arg)
{
	struct pipe *p = arg;
	struct client *cl = p->cl;

	free(p->c[0]);
	free(p->c[1]);
	free(p->route);
	free(p);
	/* After a burst, give the heap the pipes used back (memtrim.h). */
	sp_memtrim_note(&pipe_trim, cl->loop, cl->npipes);
}

static void
pipe_destroy(struct pipe *p)
{
	struct client *cl = p->cl;

	if (p->dead)
		return;
	p->dead = true;
	sp_timer_stop(cl->loop, &p->timer);
	sp_conn_close(p->c[P_TUN]);
	sp_conn_close(p->c[P_IN]);
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		cl->pipes = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	cl->npipes--;
	sp_log(SP_LOG_INFO, "pipe", "session %llu: pipe closed (%llu bytes in, %llu bytes out)",
	    (unsigned long long)p->session, (unsigned long long)p->c[P_TUN]->bytes_out,
	    (unsigned long long)p->c[P_IN]->bytes_out);
	sp_defer_queue(cl->loop, &p->reap);
}

static void
maybe_done(struct pipe *p)
{
	if (p->done[P_TUN] && p->done[P_IN])
		pipe_destroy(p);
}

/* Close one side; flush and close the other behind it. */
static void
pipe_end(struct pipe *p, int side, bool failed)
{
	int other = 1 - side;

	p->done[side] = true;
	sp_conn_close(p->c[side]);
	if (!p->ending) {
		p->ending = true;
		sp_timer_start(p->cl->loop, &p->timer, PIPE_LINGER_MS);
	}
	if (!p->done[other]) {
		if (failed || !p->ready[other]) {
			p->done[other] = true;
			sp_conn_close(p->c[other]);
		} else {
			sp_conn_want_read(p->c[other], false);
			sp_conn_shutdown(p->c[other]);
		}
	}
	maybe_done(p);
}

/* One direction of a pipe as a relay sink: what `side` reads goes to the
 * other side's connection. */
struct pipe_way {
	struct pipe *p;
	int side;
};

static size_t
way_room(void *arg)
{
	struct pipe_way *w = arg;
	struct pipe *p = w->p;

	if (!p->relaying || p->ending)
		return 0;
	return sp_conn_out_room(p->c[1 - w->side]);
}

static bool
way_put(void *arg, const uint8_t *b, size_t n)
{
	struct pipe_way *w = arg;

	if (sp_conn_write(w->p->c[1 - w->side], b, n) != 0) {
		pipe_end(w->p, w->side, true);
		return false;
	}
	return true;
}

static void
update_reading(struct pipe *p, int side)
{
	struct pipe_way w = { p, side };
	struct sp_relay_sink k = { way_room, way_put, &w, PIPE_OUT_MAX / 2 };

	if (!p->relaying || p->done[side] || p->ending)
		return;
	sp_relay_want_read(p->c[side], &k, true);
}

static void
relay(struct pipe *p, int side)
{
	struct pipe_way w = { p, side };
	struct sp_relay_sink k = { way_room, way_put, &w, PIPE_OUT_MAX / 2 };

	switch (sp_relay_pump(p->c[side], &k)) {
	case SP_RELAY_FULL:
		update_reading(p, side);
		break;
	case SP_RELAY_EOF:
		pipe_end(p, side, false);
		break;
	case SP_RELAY_FAILED:
		pipe_end(p, side, true);
		break;
	case SP_RELAY_YIELD:
	case SP_RELAY_EMPTY:
	case SP_RELAY_STOPPED:
		break;
	}
}

static void
start_relay(struct pipe *p)
{
	json_object *m;

	if (!p->ready[P_TUN] || !p->ready[P_IN] || p->relaying)
		return;
	m = json_object_new_object();
	json_object_object_add(m, "type", json_object_new_string("hello"));
	json_object_object_add(m, "version", json_object_new_int(SP_TUNNEL_VERSION));
	if (p->route != NULL) {
		json_object_object_add(m, "role", json_object_new_string("outgoing"));
		json_object_object_add(m, "route", json_object_new_string(p->route));
	} else {
		json_object_object_add(m, "role", json_object_new_string("data"));
		json_object_object_add(m, "session", json_object_new_int64((int64_t)p->session));
	}
	if (sp_tmsg_write(p->c[P_TUN], m) != 0) {
		json_object_put(m);
		pipe_end(p, P_TUN, true);
		return;
	}
	json_object_put(m);
	sp_timer_stop(p->cl->loop, &p->timer);
	p->relaying = true;
	sp_log(SP_LOG_DEBUG, "pipe", "session %llu: relaying", (unsigned long long)p->session);
	update_reading(p, P_TUN);
	update_reading(p, P_IN);
}

static void
tell_server_failed(struct pipe *p, const char *why)
{
	json_object *m = json_object_new_object();

	json_object_object_add(m, "type", json_object_new_string("open_failed"));
	json_object_object_add(m, "session", json_object_new_int64((int64_t)p->session));
	json_object_object_add(m, "error", json_object_new_string(why));
	control_send(p->cl, m);
}

static void conn_cb(struct sp_conn *c, enum sp_conn_event ev, void *arg);

static void
dial_tunnel(struct pipe *p)
{
	struct client *cl = p->cl;
	struct sp_conn *warm = warm_take(cl);
	gnutls_session_t tls;
	bool inprog;
	int fd;

	if (warm != NULL) {
		sp_log(SP_LOG_DEBUG, "pipe", "session %llu: using a warm data connection",
		    (unsigned long long)p->session);
		free(p->c[P_TUN]);
		p->c[P_TUN] = warm;
		warm->cb = conn_cb;
		warm->arg = p;
		p->ready[P_TUN] = true;
		start_relay(p);
		return;
	}
	if (sp_connect(&cl->server_addr, NULL, &fd, &inprog) != 0) {
		pipe_end(p, P_IN, true);
		return;
	}
	/* The connection owns fd even when sp_conn_init fails: pipe_end
	 * closes it (once) with the rest of the pipe. */
	if (sp_conn_init(p->c[P_TUN], cl->loop, fd, inprog, PIPE_OUT_MAX, conn_cb, p) != 0 ||
	    client_tls_session(cl, &tls) != 0) {
		pipe_end(p, P_IN, true);
		return;
	}
	sp_conn_start_tls(p->c[P_TUN], tls);
}

static void
conn_cb(struct sp_conn *c, enum sp_conn_event ev, void *arg)
{
	struct pipe *p = arg;
	int side = c == p->c[P_TUN] ? P_TUN : P_IN;
	char why[256];

	switch (ev) {
	case SP_CONN_READY:
		if (side == P_TUN && !client_server_pinned(p->cl, c)) {
			pipe_end(p, P_TUN, true);
			return;
		}
		p->ready[side] = true;
		if (side == P_IN)
			dial_tunnel(p);
		else
			start_relay(p);
		break;
	case SP_CONN_READABLE:
		relay(p, side);
		break;
	case SP_CONN_DRAINED:
		update_reading(p, 1 - side);
		break;
	case SP_CONN_FINISHED:
		p->done[side] = true;
		sp_conn_close(c);
		maybe_done(p);
		break;
	case SP_CONN_ERROR:
		if (side == P_IN && !p->ready[P_IN]) {
			char addr[SP_ADDR_TEXT];
			sp_addr_format(&p->cl->inside_addr, addr, sizeof(addr));
			snprintf(why, sizeof(why), "inside server %s: %s", addr, c->errtext);
			sp_log(SP_LOG_ERR, "pipe", "session %llu: %s", (unsigned long long)p->session, why);
			tell_server_failed(p, why);
		} else if (side == P_TUN && !p->ready[P_TUN]) {
			sp_log(SP_LOG_ERR, "pipe", "session %llu: data connection to the server: %s",
			    (unsigned long long)p->session, c->errtext);
		}
		pipe_end(p, side, true);
		break;
	}
}

static void
pipe_timer(struct sp_loop *loop, struct sp_timer *t, void *arg)
{
	struct pipe *p = arg;

	if (!p->ending) {
		sp_log(SP_LOG_ERR, "pipe", "session %llu: connections not up in %d ms",
		    (unsigned long long)p->session, PIPE_CONNECT_MS);
		if (!p->ready[P_IN])
			tell_server_failed(p, "inside server did not answer in time");
	}
	p->done[P_TUN] = p->done[P_IN] = true;
	pipe_destroy(p);
}

/* A pipe in the client's list with two unopened connections and its
 * connect timer running; NULL when out of memory. */
static struct pipe *
pipe_new(struct client *cl)
{
	struct pipe *p;
	int i;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	for (i = 0; i < 2; i++) {
		if ((p->c[i] = calloc(1, sizeof(struct sp_conn))) == NULL) {
			free(p->c[0]);
			free(p);
			return NULL;
		}
		p->c[i]->fd = -1;
	}
	p->cl = cl;
	sp_timer_init(&p->timer, pipe_timer, p);
	sp_defer_init(&p->reap, pipe_reap, p);
	p->next = cl->pipes;
	if (p->next != NULL)
		p->next->prev = p;
	cl->pipes = p;
	cl->npipes++;
	sp_memtrim_up(&pipe_trim, cl->npipes);
	sp_timer_start(cl->loop, &p->timer, PIPE_CONNECT_MS);
	return p;
}

void
pipe_open(struct client *cl, uint64_t session, const char *listener)
{
	struct pipe *p;
	bool inprog;
	int fd;

	if ((p = pipe_new(cl)) == NULL)
		return;
	p->session = session;
	sp_log(SP_LOG_INFO, "pipe", "session %llu: opening (listener %s)", (unsigned long long)session,
	    listener);
	/* Inside first: if it is down, the server hears so at once. */
	if (sp_connect(&cl->inside_addr, NULL, &fd, &inprog) != 0) {
		char why[160];
		snprintf(why, sizeof(why), "inside server: %s", strerror(errno));
		tell_server_failed(p, why);
		p->done[0] = p->done[1] = true;
		pipe_destroy(p);
		return;
	}
	if (sp_conn_init(p->c[P_IN], cl->loop, fd, inprog, PIPE_OUT_MAX, conn_cb, p) != 0) {
		p->done[0] = p->done[1] = true;
		pipe_destroy(p);
		return;
	}
	if (!inprog) {
		p->ready[P_IN] = true;
		dial_tunnel(p);
	}
}

void
pipe_open_outgoing(struct client *cl, int fd, const char *route)
{
	struct pipe *p;

	if ((p = pipe_new(cl)) == NULL) {
		close(fd);
		return;
	}
	if ((p->route = strdup(route)) == NULL) {
		close(fd);
		p->done[0] = p->done[1] = true;
		pipe_destroy(p);
		return;
	}
	sp_log(SP_LOG_INFO, "pipe", "outgoing call on route %s from the inside", route);
	if (sp_conn_init(p->c[P_IN], cl->loop, fd, false, PIPE_OUT_MAX, conn_cb, p) != 0) {
		p->done[0] = p->done[1] = true;
		pipe_destroy(p);
		return;
	}
	p->ready[P_IN] = true;
	dial_tunnel(p);
}

void
pipes_close_all(struct client *cl)
{
	while (cl->pipes != NULL) {
		struct pipe *p = cl->pipes;
		p->done[0] = p->done[1] = true;
		pipe_destroy(p);
	}
	/* The loop goes away next: no trim may stay armed in it. */
	sp_memtrim_stop(&pipe_trim);
}
