/*
 * sig.c - what smartproxy-server does on signals (docs/operations.md,
 * "Reload" and "Drain").
 *
 * SIGHUP re-reads the pairing file through the directory handle kept from
 * before the chroot, reopens the log files (logrotate) and says what it did;
 * it never stops the process. SIGTERM or SIGINT drains: the partner
 * listeners close (and stay closed when a revision arrives), outgoing calls
 * are refused, running sessions go on; the loop stops when the last one
 * ended, or after drain_timeout seconds, when the rest are ended with the
 * reason "shutdown" (the OFTP2 module sends ESID 05, local site emergency
 * close down). A second SIGTERM ends them at once the same way.
 */
#include "server/server.h"
#include "core/err.h"
#include "core/log.h"
#include "core/signals.h"

#include <stdio.h>
#include <sys/signalfd.h>
#include <unistd.h>

/* How often the drain looks whether the last session has ended. */
#define DRAIN_POLL_MS 100

static void
reload(struct server_sig *ss)
{
	struct server *srv = ss->srv;
	char err[512];
	int nlog;

	nlog = sp_log_reopen();
	if (pairing_load(srv, NULL, err, sizeof(err)) == 0)
		sp_log(SP_LOG_NOTICE, "core", "SIGHUP: pairing file reloaded: %zu client key(s) from %s; "
		    "%d log file(s) reopened%s", srv->npairing, srv->pairing_path, nlog < 0 ? -nlog : nlog,
		    nlog < 0 ? " FAILED (see stderr)" : "");
	else
		sp_log(SP_LOG_ERR, "core", "SIGHUP: pairing file not reloaded, the %zu key(s) read "
		    "before stay: %s; %d log file(s) reopened%s", srv->npairing, err,
		    nlog < 0 ? -nlog : nlog, nlog < 0 ? " FAILED (see stderr)" : "");
}

static void
end_now(struct server_sig *ss, const char *why)
{
	struct server *srv = ss->srv;

	/* Done with draining: neither timer may speak after this line. */
	sp_timer_stop(srv->loop, &ss->poll);
	sp_timer_stop(srv->loop, &ss->drain);
	sp_log(SP_LOG_NOTICE, "core", "%s: ending %u session(s) now (ESID 05); stopping", why,
	    srv->nsessions);
	sessions_end_all(srv, "shutdown");
	sp_loop_stop(srv->loop);
}

static void
drain_poll(struct sp_loop *loop, struct sp_timer *t, void *arg)
{
	struct server_sig *ss = arg;

	if (ss->srv->nsessions == 0) {
		sp_timer_stop(loop, &ss->drain);
		sp_log(SP_LOG_NOTICE, "core", "drained: every session has ended; stopping");
		sp_loop_stop(loop);
		return;
	}
	sp_timer_start(loop, t, DRAIN_POLL_MS);
}

static void
drain_expired(struct sp_loop *loop, struct sp_timer *t, void *arg)
{
	struct server_sig *ss = arg;
	char why[64];

	(void)loop;
	(void)t;
	snprintf(why, sizeof(why), "drain_timeout of %d s reached", ss->srv->conf.drain_timeout);
	end_now(ss, why);
}

static void
stop(struct server_sig *ss, unsigned signo)
{
	struct server *srv = ss->srv;

	if (srv->draining) {
		char why[64];

		snprintf(why, sizeof(why), "signal %u again", signo);
		end_now(ss, why);
		return;
	}
	srv->draining = true;
	listeners_close(srv);
	if (srv->nsessions == 0) {
		sp_log(SP_LOG_NOTICE, "core", "signal %u: stopping (no session running)", signo);
		sp_loop_stop(srv->loop);
		return;
	}
	sp_log(SP_LOG_NOTICE, "core", "signal %u: draining: partner listeners closed, %u session(s) "
	    "running; stopping when they have ended or in %d s (drain_timeout); the signal again "
	    "ends them now", signo, srv->nsessions, srv->conf.drain_timeout);
	sp_timer_start(srv->loop, &ss->poll, DRAIN_POLL_MS);
	sp_timer_start(srv->loop, &ss->drain, (uint64_t)srv->conf.drain_timeout * 1000);
}

static void
on_signal(struct sp_loop *loop, int fd, unsigned events, void *arg)
{
	struct server_sig *ss = arg;
	struct signalfd_siginfo si;

	(void)loop;
	(void)events;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			reload(ss);
		else
			stop(ss, si.ssi_signo);
	}
}

int
server_signals_start(struct server *srv, const sigset_t *mask, struct server_sig *ss)
{
	ss->srv = srv;
	ss->fd = -1;
	sp_timer_init(&ss->poll, drain_poll, ss);
	sp_timer_init(&ss->drain, drain_expired, ss);
	return sp_signals_watch(srv->loop, mask, on_signal, ss, &ss->fd);
}

void
server_signals_stop(struct server_sig *ss)
{
	if (ss->srv == NULL)
		return;
	sp_timer_stop(ss->srv->loop, &ss->poll);
	sp_timer_stop(ss->srv->loop, &ss->drain);
	if (ss->fd >= 0) {
		sp_loop_del(ss->srv->loop, ss->fd);
		close(ss->fd);
	}
	ss->fd = -1;
}
