/*
 * sloop.c - the session loops: their threads, their pools, the choice of a
 * loop for a new session, and the messages that cross (see sloop.h).
 */
#include "server/sloop.h"
#include "server/server.h"
#include "server/session.h"
#include "core/cpus.h"
#include "core/err.h"
#include "core/log.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RUN_ASYNC_THREADS 2   /* host->run_async threads of one loop */
#define RUN_ASYNC_QUEUE 1024
#define HS_THREADS 2          /* keyless handshake threads of one loop */
#define HS_QUEUE 1024

unsigned
sloops_count(const char *conf)
{
	long n;

	if (conf == NULL || strcmp(conf, "auto") == 0) {
		n = (long)sp_cpus_usable();
		/* Said once, so an operator sees why a container got fewer. */
		sp_log(SP_LOG_INFO, "core", "loops: auto: %ld CPU(s) usable (affinity mask and cgroup quota), %ld loop(s)",
		    n, n > SLOOPS_MAX ? (long)SLOOPS_MAX : n);
	} else {
		n = strtol(conf, NULL, 10);
	}
	return n < 1 ? 1u : n > SLOOPS_MAX ? SLOOPS_MAX : (unsigned)n;
}

bool
server_on_main(const struct server *srv)
{
	return sp_loop_current() == srv->loop;
}

struct xmsg *
xmsg_new(struct server *srv, sp_msg_cb *cb)
{
	struct xmsg *x;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	sp_msg_init(&x->m, cb);
	x->srv = srv;
	x->fd = -1;
	sp_buf_init(&x->buf, 0);
	return x;
}

void
xmsg_free(struct xmsg *x)
{
	if (x == NULL)
		return;
	if (x->fd >= 0)
		close(x->fd);
	if (x->conn != NULL) {
		sp_conn_close(x->conn);
		free(x->conn);
	}
	sp_buf_free(&x->buf);
	free(x->s1);
	free(x->s2);
	free(x->s3);
	rtconf_unref(x->rt);
	free(x);
}

void
xmsg_to_loop(struct sloop *sl, struct xmsg *x)
{
	x->sl = sl;
	sp_loop_post(sl->loop, &x->m);
}

void
xmsg_to_main(struct server *srv, struct xmsg *x)
{
	sp_loop_post(srv->loop, &x->m);
}

struct sloop *
sloop_pick(struct server *srv)
{
	struct sloop *best = NULL;
	unsigned i, k;

	/* Fewest sessions now; a tie goes round the loops. */
	for (k = 0; k < srv->nsloops; k++) {
		i = (srv->sloop_next + k) % srv->nsloops;
		if (best == NULL || srv->sloops[i].assigned < best->assigned)
			best = &srv->sloops[i];
	}
	srv->sloop_next = (best->idx + 1) % srv->nsloops;
	return best;
}

/* ---- a loop's thread ---- */

static void
on_stop(struct sp_loop *loop, struct sp_msg *m, bool cancelled)
{
	struct sloop *sl = (struct sloop *)((char *)m - offsetof(struct sloop, stop));

	if (!cancelled) {
		sessions_end_loop(sl, "shutdown", "the server is stopping");
		sp_loop_stop(loop);
	}
}

/* The loop's sessions are ending: let them say goodbye (each is bounded by
 * its linger time), then give the pools back. */
static void
sloop_wind_down(struct sloop *sl)
{
	while (sl->nsessions > 0)
		sp_loop_once(sl->loop, 10);
	sp_loop_once(sl->loop, 0);
	sp_workers_free(sl->workers);
	sl->workers = NULL;
	if (sl->hs_owned)
		sp_workers_free(sl->hs);
	sl->hs = NULL;
	/* What the pools' last results left to reap. */
	sp_loop_once(sl->loop, 0);
}

static void *
sloop_thread(void *arg)
{
	struct sloop *sl = arg;

	(void)sp_loop_run(sl->loop);
	sloop_wind_down(sl);
	return NULL;
}

int
sloops_start(struct server *srv, unsigned n)
{
	char name[16];
	unsigned i;

	if ((srv->sloops = calloc(n, sizeof(*srv->sloops))) == NULL)
		return SP_ERR_NOMEM;
	srv->nsloops = n;
	for (i = 0; i < n; i++) {
		struct sloop *sl = &srv->sloops[i];

		sl->srv = srv;
		sl->idx = i;
		sl->threaded = n > 1;
		if (!sl->threaded)
			sl->loop = srv->loop;
		else if (sp_loop_new(&sl->loop) != 0)
			return SP_ERR_SYSTEM;
		/* Pools whose results land on this loop, so that a module's
		 * done and a keyless handshake step come back to its thread. */
		if (sp_workers_new(sl->loop, RUN_ASYNC_THREADS, RUN_ASYNC_QUEUE, &sl->workers) != 0)
			return SP_ERR_SYSTEM;
		if (!sl->threaded) {
			sl->hs = keyless_workers(srv);
		} else if (srv->keyless != NULL) {
			if (sp_workers_new(sl->loop, HS_THREADS, HS_QUEUE, &sl->hs) != 0)
				return SP_ERR_SYSTEM;
			sl->hs_owned = true;
		}
	}
	for (i = 0; i < n && n > 1; i++) {
		struct sloop *sl = &srv->sloops[i];

		if (pthread_create(&sl->thread, NULL, sloop_thread, sl) != 0) {
			sl->threaded = false;    /* nothing to join */
			sp_log(SP_LOG_ERR, "core", "cannot start the thread of session loop %u", i);
			return SP_ERR_SYSTEM;
		}
		sl->started = true;
		/* Named from here, before the sandbox: the thread itself
		 * would need prctl(), which the filter refuses. */
		snprintf(name, sizeof(name), "sp-loop-%u", i);
		(void)pthread_setname_np(sl->thread, name);
	}
	sp_log(SP_LOG_INFO, "core", "%u session loop(s)%s", n,
	    n > 1 ? ", one thread each" : " (the main loop)");
	return SP_OK;
}

void
sloops_stop(struct server *srv)
{
	unsigned i;

	if (srv->sloops == NULL)
		return;
	for (i = 0; i < srv->nsloops; i++) {
		struct sloop *sl = &srv->sloops[i];

		/* Embedded, not allocated: without it the join below would
		 * wait for ever. */
		if (!sl->started)
			continue;
		sp_msg_init(&sl->stop, on_stop);
		sp_loop_post(sl->loop, &sl->stop);
	}
	for (i = 0; i < srv->nsloops; i++) {
		struct sloop *sl = &srv->sloops[i];

		if (sl->started)
			pthread_join(sl->thread, NULL);
		else if (sl->loop != NULL && sl->loop == srv->loop) {
			sessions_end_loop(sl, "shutdown", "the server is stopping");
			sloop_wind_down(sl);
		} else if (sl->loop != NULL) {
			sp_workers_free(sl->workers);
			if (sl->hs_owned)
				sp_workers_free(sl->hs);
		}
		sp_log(SP_LOG_INFO, "core", "session loop %u carried %llu session(s)", sl->idx,
		    (unsigned long long)sl->carried);
	}
	srv->loops_gone = true;
	for (i = 0; i < srv->nsloops; i++) {
		struct sloop *sl = &srv->sloops[i];

		if (sl->loop != NULL && sl->loop != srv->loop)
			sp_loop_free(sl->loop);
		sp_hmap_free(&sl->ids);
	}
	free(srv->sloops);
	srv->sloops = NULL;
	srv->nsloops = 0;
}
