/*
 * acceptor.c - listening sockets that pause on descriptor shortage
 * (acceptor.h says why).
 */
#include "server/acceptor.h"
#include "core/err.h"
#include "core/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void
resume(struct sp_loop *loop, struct sp_timer *t, void *arg)
{
	struct acceptor *a = arg;

	if (a->loop == NULL || a->watching)
		return;
	if (sp_loop_add(a->loop, a->fd, SP_EV_READ, a->cb, a->arg) != 0) {
		sp_timer_start(loop, &a->timer, ACCEPTOR_PAUSE_MS);
		return;
	}
	a->watching = true;
}

int
acceptor_start(struct acceptor *a, struct sp_loop *loop, int fd, sp_io_cb *cb,
    void *arg, const char *what)
{
	int r;

	memset(a, 0, sizeof(*a));
	a->loop = loop;
	a->fd = fd;
	a->cb = cb;
	a->arg = arg;
	snprintf(a->what, sizeof(a->what), "%s", what);
	sp_timer_init(&a->timer, resume, a);
	if ((r = sp_loop_add(loop, fd, SP_EV_READ, cb, arg)) != 0) {
		a->loop = NULL;
		return r;
	}
	a->watching = true;
	return SP_OK;
}

void
acceptor_stop(struct acceptor *a)
{
	if (a->loop == NULL)
		return;
	sp_timer_stop(a->loop, &a->timer);
	if (a->watching)
		sp_loop_del(a->loop, a->fd);
	a->watching = false;
	a->loop = NULL;
}

bool
acceptor_failed(struct acceptor *a, int err)
{
	uint64_t now;

	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
		/* Anything else concerns that one connection: go on. */
		sp_log(SP_LOG_WARN, "listener", "accept on %s: %s", a->what, strerror(err));
		return false;
	}
	if (a->loop == NULL)
		return true;
	now = sp_loop_now(a->loop);
	if (!a->shortage || now - a->last_fail >= ACCEPTOR_QUIET_MS) {
		a->shortage = true;
		a->told_ok = false;
		a->pauses = 0;
		a->since = now;
		sp_log(SP_LOG_ERR, "listener", "accept on %s: %s; pausing it %u ms at a time "
		    "until descriptors are free (connections wait in the backlog)", a->what,
		    strerror(err), ACCEPTOR_PAUSE_MS);
	}
	a->pauses++;
	a->last_fail = now;
	if (a->watching)
		sp_loop_del(a->loop, a->fd);
	a->watching = false;
	sp_timer_start(a->loop, &a->timer, ACCEPTOR_PAUSE_MS);
	return true;
}

void
acceptor_ok(struct acceptor *a)
{
	uint64_t now;

	if (!a->shortage || a->loop == NULL)
		return;
	now = sp_loop_now(a->loop);
	if (!a->told_ok) {
		sp_log(SP_LOG_NOTICE, "listener", "accepting on %s again after %u pause(s), "
		    "%llu ms (a shortage within %u s from now is not logged again)", a->what,
		    a->pauses, (unsigned long long)(now - a->since), ACCEPTOR_QUIET_MS / 1000);
		a->told_ok = true;
	}
	if (now - a->last_fail >= ACCEPTOR_QUIET_MS)
		a->shortage = false;
}
