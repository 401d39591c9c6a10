/*
 * listener.c - partner listeners, opened only from a runtime configuration
 * and closed whenever the control connection is lost (fail closed).
 *
 * Applying a revision is all or nothing: new sockets are bound first; if one
 * fails, those just opened are closed and the old set stays as it was. A
 * listener whose address did not change keeps its socket and only switches
 * to the new revision's certificate for new sessions; running sessions keep
 * the revision they started with.
 */
#include "server/server.h"
#include "server/session.h"
#include "core/err.h"
#include "core/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ACCEPT_BURST 64

static void
on_accept(struct sp_loop *loop, int lfd, unsigned events, void *arg)
{
	struct plistener *pl = arg;
	struct sp_addr peer;
	int fd, i, r;

	for (i = 0; i < ACCEPT_BURST; i++) {
		if ((r = sp_accept(lfd, &fd, &peer)) == SP_ERR_AGAIN)
			return;
		if (r != SP_OK) {
			/* Out of descriptors: the acceptor pauses the listener. */
			if (acceptor_failed(&pl->acc, errno))
				return;
			continue;
		}
		acceptor_ok(&pl->acc);
		if (pl->rt->listeners[pl->idx].proxy_protocol) {
			/*
			 * Behind a balancer: the PROXY header first (proxywait.c);
			 * admission (admit.c) follows once it names the partner.
			 */
			proxywait_accept(pl, fd, &peer);
			continue;
		}
		session_accept(pl, fd, &peer);
	}
}

static void
pl_close(struct server *srv, struct plistener *pl)
{
	/* Also for a socket handed to the next revision's slot: its watch and
	 * pause timer belong to this slot. */
	acceptor_stop(&pl->acc);
	if (pl->fd >= 0) {
		close(pl->fd);
		sp_log(SP_LOG_INFO, "listener", "closed partner listener %s on %s", pl->name,
		    pl->addr_text);
	}
	free(pl->name);
	rtconf_unref(pl->rt);
	memset(pl, 0, sizeof(*pl));
	pl->fd = -1;
}

void
listeners_close(struct server *srv)
{
	size_t i;

	/* Connections still waiting for their PROXY header go with them. */
	proxywait_drop_all(srv);
	for (i = 0; i < srv->npl; i++)
		pl_close(srv, &srv->pl[i]);
	free(srv->pl);
	srv->pl = NULL;
	srv->npl = 0;
}

static struct plistener *
find_same(struct server *srv, const struct rt_listener *l)
{
	size_t i;

	for (i = 0; i < srv->npl; i++)
		if (strcmp(srv->pl[i].name, l->name) == 0 &&
		    strcmp(srv->pl[i].addr_text, l->addr_text) == 0)
			return &srv->pl[i];
	return NULL;
}

int
listeners_apply(struct server *srv, struct rtconf *rt, char *err, size_t errlen)
{
	struct plistener *npl;
	size_t i, j;
	int r;

	/* Stopping gracefully: a new revision is taken, no port opens again. */
	if (srv->draining) {
		listeners_close(srv);
		sp_log(SP_LOG_NOTICE, "listener", "draining: the partner listeners stay closed");
		return SP_OK;
	}
	npl = rt->nlisteners ? calloc(rt->nlisteners, sizeof(*npl)) : NULL;
	if (rt->nlisteners && npl == NULL)
		return SP_ERR_NOMEM;
	for (i = 0; i < rt->nlisteners; i++)
		npl[i].fd = -1;
	/* Phase 1: bind what is new; keep what stays. */
	for (i = 0; i < rt->nlisteners; i++) {
		const struct rt_listener *l = &rt->listeners[i];
		struct plistener *old = find_same(srv, l);

		npl[i].srv = srv;
		npl[i].addr = l->addr;
		memcpy(npl[i].addr_text, l->addr_text, sizeof(npl[i].addr_text));
		npl[i].idx = i;
		if (old != NULL)
			continue;
		if ((r = sp_listen(&l->addr, 512, &npl[i].fd)) != 0) {
			snprintf(err, errlen, "listeners[%zu]: cannot listen on %s: %s", i,
			    l->addr_text, strerror(errno));
			goto undo;
		}
	}
	/* Phase 2: commit. */
	for (i = 0; i < rt->nlisteners; i++) {
		const struct rt_listener *l = &rt->listeners[i];
		struct plistener *old = find_same(srv, l);

		if (old != NULL) {
			npl[i].fd = old->fd;
			old->fd = -1;
		} else {
			sp_log(SP_LOG_NOTICE, "listener", "opened partner listener %s on %s",
			    l->name, l->addr_text);
		}
		npl[i].name = strdup(l->name);
		npl[i].rt = rtconf_ref(rt);
	}
	for (j = 0; j < srv->npl; j++)
		pl_close(srv, &srv->pl[j]);
	free(srv->pl);
	srv->pl = npl;
	srv->npl = rt->nlisteners;
	for (i = 0; i < srv->npl; i++) {
		char what[SP_ADDR_TEXT + 96];

		if (srv->pl[i].name == NULL) {
			snprintf(err, errlen, "out of memory");
			return SP_ERR_NOMEM;
		}
		/* The loop may still hold the fd from the old slot's pointer. */
		sp_loop_del(srv->loop, srv->pl[i].fd);
		snprintf(what, sizeof(what), "partner listener %s on %s", srv->pl[i].name,
		    srv->pl[i].addr_text);
		if ((r = acceptor_start(&srv->pl[i].acc, srv->loop, srv->pl[i].fd, on_accept,
		    &srv->pl[i], what)) != 0) {
			snprintf(err, errlen, "cannot watch listener %s", srv->pl[i].name);
			return r;
		}
	}
	return SP_OK;
undo:
	for (i = 0; i < rt->nlisteners; i++)
		if (npl[i].fd >= 0)
			close(npl[i].fd);
	free(npl);
	return SP_ERR_CONFIG;
}
