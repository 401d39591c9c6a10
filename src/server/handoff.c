/*
 * handoff.c - the control plane's side of sessions, on the main loop:
 * admission and the counts it keeps (admit.c), the choice of a session loop,
 * handing a session its fd or tunnel connection, and what a session sends
 * back (its end, its questions and documents for the backend, its part of a
 * live snapshot). The session itself runs on its loop (session.c); this
 * file knows it only by id (sloop.h explains the messages).
 *
 * Ownership: srv->session_ids maps a live session's id to a struct sref,
 * allocated here when the session is admitted and freed when its end
 * arrives. Its counts (srv->nsessions, nunverified, the per-address counts,
 * the loop's `assigned`) are taken here and given back here, so admission
 * never reads another thread's state.
 */
#include "server/server.h"
#include "server/session.h"
#include "server/sloop.h"
#include "server/stats.h"
#include "core/err.h"
#include "core/log.h"
#include "core/memtrim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What main knows of a live session. */
struct sref {
	uint64_t id;
	struct sloop *sl;
	char peer[SP_ADDR_TEXT];
	bool unverified;            /* counted in srv->nunverified */
	bool addr_counted;          /* counted for its peer address (admit.c) */
};

/* The process's count of sessions, for giving memory back after bursts. */
static struct sp_memtrim session_trim;

static struct sref *
sref_find(struct server *srv, uint64_t id)
{
	return sp_hmap_get(&srv->session_ids, &id, sizeof(id));
}

/* A new session on the least busy loop. NULL if out of memory. */
static struct sref *
sref_new(struct server *srv)
{
	struct sref *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->id = ++srv->next_session;
	r->sl = sloop_pick(srv);
	if (sp_hmap_put(&srv->session_ids, &r->id, sizeof(r->id), r) != SP_OK) {
		free(r);
		return NULL;
	}
	srv->nsessions++;
	r->sl->assigned++;
	r->sl->carried++;
	sp_memtrim_up(&session_trim, srv->nsessions);
	stats_session_started(srv);
	return r;
}

/* It leaves the limits of unverified sessions (admit.c). */
static void
sref_verified(struct server *srv, struct sref *r)
{
	if (r->unverified) {
		r->unverified = false;
		srv->nunverified--;
		if (r->addr_counted)
			admit_verified(srv, r->peer);
	}
}

static void
sref_gone(struct server *srv, struct sref *r)
{
	sref_verified(srv, r);
	if (r->addr_counted)
		admit_leave(srv, r->peer);
	(void)sp_hmap_del(&srv->session_ids, &r->id, sizeof(r->id));
	srv->nsessions--;
	r->sl->assigned--;
	free(r);
	/* After a burst, give the heap the sessions used back (memtrim.h). */
	sp_memtrim_note(&session_trim, srv->loop, srv->nsessions);
}

void
sessions_trim_stop(void)
{
	sp_memtrim_stop(&session_trim);
}

bool
session_known(struct server *srv, uint64_t sid)
{
	return sref_find(srv, sid) != NULL;
}

/* ---- to a session loop ---- */

void
session_accept_from(struct server *srv, struct rtconf *rt, size_t lidx, int fd,
    const struct sp_addr *peer, const char *balancer)
{
	char a[SP_ADDR_TEXT];
	struct sref *r;
	struct xmsg *x;

	/*
	 * Admission (admit.c) with the partner's address: behind a balancer
	 * this is the one the PROXY header carried, so per-address limits
	 * count partners, not the balancer (proxywait.c calls this once the
	 * header is read).
	 */
	sp_addr_host(peer, a, sizeof(a));
	if (srv->loops_gone || admit_incoming(srv, rt, a) != 0 || admit_enter(srv, a) != 0) {
		close(fd);
		return;
	}
	if ((r = sref_new(srv)) == NULL) {
		admit_verified(srv, a);
		admit_leave(srv, a);
		close(fd);
		return;
	}
	snprintf(r->peer, sizeof(r->peer), "%s", a);
	r->addr_counted = true;
	r->unverified = true;
	srv->nunverified++;
	if ((x = xmsg_new(srv, session_msg_incoming)) == NULL ||
	    (balancer != NULL && (x->s1 = strdup(balancer)) == NULL)) {
		xmsg_free(x);
		sref_gone(srv, r);
		close(fd);
		return;
	}
	x->sid = r->id;
	x->rt = rtconf_ref(rt);
	x->idx = lidx;
	x->fd = fd;
	x->addr = *peer;
	xmsg_to_loop(r->sl, x);
}

void
session_accept(struct plistener *pl, int fd, const struct sp_addr *peer)
{
	session_accept_from(pl->srv, pl->rt, pl->idx, fd, peer, NULL);
}

static void
refuse_conn(struct sp_conn *c)
{
	sp_conn_close(c);
	free(c);
}

void
session_outgoing(struct server *srv, struct rtconf *rt, size_t ri, struct sp_conn *c,
    struct sp_buf *early)
{
	const struct rt_route *rr = &rt->routes[ri];
	struct sref *r;
	struct xmsg *x;

	if (srv->draining || srv->loops_gone) {
		sp_log(SP_LOG_NOTICE, "session", "outgoing call on route %s refused: the server is stopping",
		    rr->name);
		refuse_conn(c);
		return;
	}
	if (srv->nsessions >= rt->max_sessions) {
		sp_log(SP_LOG_WARN, "session", "outgoing call on route %s refused: %u sessions is the limit",
		    rr->name, rt->max_sessions);
		refuse_conn(c);
		return;
	}
	if (sp_conn_detach(c) != 0 || (x = xmsg_new(srv, session_msg_outgoing)) == NULL) {
		refuse_conn(c);
		return;
	}
	x->conn = c;
	if (early != NULL && sp_buf_len(early) > 0) {
		sp_buf_init(&x->buf, sp_buf_len(early));
		if (sp_buf_put(&x->buf, sp_buf_ptr(early), sp_buf_len(early)) != 0) {
			xmsg_free(x);
			return;
		}
	}
	if ((r = sref_new(srv)) == NULL) {
		xmsg_free(x);
		return;
	}
	x->sid = r->id;
	x->rt = rtconf_ref(rt);
	x->idx = ri;
	xmsg_to_loop(r->sl, x);
}

void
session_attach_inside(struct server *srv, uint64_t sid, struct sp_conn *c, struct sp_buf *early)
{
	struct sref *r = sref_find(srv, sid);
	struct xmsg *x;

	if (r == NULL || srv->loops_gone || sp_conn_detach(c) != 0 ||
	    (x = xmsg_new(srv, session_msg_attach)) == NULL) {
		refuse_conn(c);
		return;
	}
	x->conn = c;
	x->sid = sid;
	if (early != NULL && sp_buf_len(early) > 0) {
		sp_buf_init(&x->buf, sp_buf_len(early));
		if (sp_buf_put(&x->buf, sp_buf_ptr(early), sp_buf_len(early)) != 0) {
			xmsg_free(x);
			return;
		}
	}
	xmsg_to_loop(r->sl, x);
}

/* Tell session r it ends with reason and text (on its loop). */
static void
end_session(struct server *srv, struct sref *r, const char *reason, const char *text)
{
	struct xmsg *x;

	/* Stopping: the control connection outlives the loops (tunnel.c,
	 * tunnel_quiesce); their sessions are gone or going. */
	if (srv->loops_gone)
		return;
	if ((x = xmsg_new(srv, session_msg_inside_failed)) == NULL ||
	    (x->s1 = strdup(reason)) == NULL || (x->s2 = strdup(text)) == NULL) {
		xmsg_free(x);
		return;   /* out of memory: its inside timeout ends it */
	}
	x->sid = r->id;
	xmsg_to_loop(r->sl, x);
}

void
session_inside_failed(struct server *srv, uint64_t sid, const char *why)
{
	struct sref *r = sref_find(srv, sid);

	if (r != NULL)
		end_session(srv, r, "inside_unreachable", why);
}

void
sessions_end_all(struct server *srv, const char *reason)
{
	unsigned i;

	for (i = 0; i < srv->nsloops && !srv->loops_gone; i++) {
		struct xmsg *x = xmsg_new(srv, session_msg_end_all);

		if (x == NULL || (x->s1 = strdup(reason)) == NULL ||
		    (x->s2 = strdup("the server is stopping")) == NULL) {
			xmsg_free(x);
			continue;
		}
		xmsg_to_loop(&srv->sloops[i], x);
	}
}

/* ---- from a session loop ---- */

void
handoff_msg_ended(struct sp_loop *loop, struct sp_msg *m, bool cancelled)
{
	struct xmsg *x = (struct xmsg *)m;
	struct server *srv = x->srv;
	struct sref *r = sref_find(srv, x->sid);

	(void)loop;
	(void)cancelled;   /* on main either way: the counts go back all the same */
	if (r != NULL)
		sref_gone(srv, r);
	stats_session_ended(srv, x->s1 != NULL ? x->s1 : "internal", x->u);
	if (x->s2 != NULL)
		(void)bridge_post(srv, "v1/sessions", x->s2);
	xmsg_free(x);      /* and with it the session's revision reference */
}

void
handoff_msg_request_inside(struct sp_loop *loop, struct sp_msg *m, bool cancelled)
{
	struct xmsg *x = (struct xmsg *)m;
	struct server *srv = x->srv;
	struct sref *r = sref_find(srv, x->sid);

	(void)loop;
	if (r != NULL) {
		sref_verified(srv, r);
		if (!cancelled && x->s1 != NULL &&
		    tunnel_request_inside(srv, x->sid, x->s1, x->s2) != 0)
			end_session(srv, r, "no_client", "no tunnel client to reach the inside");
	}
	xmsg_free(x);
}

void
handoff_msg_ask(struct sp_loop *loop, struct sp_msg *m, bool cancelled)
{
	struct xmsg *x = (struct xmsg *)m;

	(void)loop;
	if (cancelled)
		x->answer(NULL, x->arg, -1, NULL);
	else
		bridge_ask(x->srv, x->sl, x->sid, x->idx, x->s1, x->s2, x->n, x->answer, x->arg);
	xmsg_free(x);
}

void
handoff_msg_post(struct sp_loop *loop, struct sp_msg *m, bool cancelled)
{
	struct xmsg *x = (struct xmsg *)m;

	(void)loop;
	(void)cancelled;
	(void)bridge_post(x->srv, x->s1, x->s2);
	xmsg_free(x);
}

/* ---- the live snapshot: every loop says its part ---- */

struct live {
	unsigned waiting;           /* loops that have not answered yet */
	json_object *list;
	uint64_t bin, bout;
};

void
sessions_live(struct server *srv)
{
	struct live *g;
	unsigned i;

	if (srv->loops_gone || (g = calloc(1, sizeof(*g))) == NULL)
		return;
	g->list = json_object_new_array();
	g->waiting = srv->nsloops;
	for (i = 0; i < srv->nsloops; i++) {
		struct xmsg *x = xmsg_new(srv, session_msg_live);

		if (x == NULL) {
			g->waiting--;
			continue;
		}
		x->ctx = g;
		x->arg = json_object_new_array();
		x->n = STATS_LIVE_MAX;
		xmsg_to_loop(&srv->sloops[i], x);
	}
	if (g->waiting == 0) {
		json_object_put(g->list);
		free(g);
	}
}

void
handoff_msg_live_done(struct sp_loop *loop, struct sp_msg *m, bool cancelled)
{
	struct xmsg *x = (struct xmsg *)m;
	struct server *srv = x->srv;
	struct live *g = x->ctx;
	size_t i, n = x->arg != NULL ? json_object_array_length(x->arg) : 0;

	(void)loop;
	for (i = 0; i < n && json_object_array_length(g->list) < STATS_LIVE_MAX; i++)
		json_object_array_add(g->list, json_object_get(json_object_array_get_idx(x->arg, i)));
	g->bin += x->u[0];
	g->bout += x->u[1];
	json_object_put(x->arg);
	xmsg_free(x);
	if (--g->waiting > 0)
		return;
	if (!cancelled && srv->control != NULL)
		tunnel_send(srv, stats_live(srv, g->list, g->bin, g->bout));
	else
		json_object_put(g->list);
	free(g);
}
