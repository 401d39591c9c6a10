/*
 * sig.c - what smartproxy-client does on signals (docs/operations.md,
 * "Reload" and "Drain").
 *
 * SIGHUP re-reads the backend token file (a bad one keeps the token read
 * before) and the bootstrap file's logging section (files opened anew: the
 * reopen logrotate wants), and says what it did; it never stops the process. SIGTERM or SIGINT drains: the route listeners close (the
 * inside server's outgoing calls are refused) and the control connection is
 * closed, so the server stops taking partner sessions (it fails closed, as
 * for any lost client) and asks for no new data connection; the running
 * sessions' pipes go on. The loop stops when the last pipe closed, or after
 * drain_timeout seconds, when the rest are closed; a second SIGTERM closes
 * them at once. The client carries bytes and speaks no OFTP2: a session it
 * cuts ends at the server, whose OFTP2 module tells the partner.
 */
#include "client/client.h"
#include "core/err.h"
#include "core/log.h"
#include "core/signals.h"

#include <stdio.h>
#include <sys/signalfd.h>
#include <unistd.h>

/* How often the drain looks whether the last pipe has closed. */
#define DRAIN_POLL_MS 100

/*
 * The logging section of the bootstrap file, applied anew (levels, formats,
 * targets; files opened again, which is the reopen logrotate wants). The
 * logger belongs to the loop thread and the client has no other thread that
 * logs, so replacing the targets here is safe. Other keys need a restart.
 * Returns the reopen count as sp_log_reopen() does.
 */
static int
reload_logging(struct client *cl, char *what, size_t whatlen)
{
	struct sp_client_conf nc;
	char err[512];
	size_t i;
	int n = 0;

	if (sp_bootstrap_load(cl->conf_path, &sp_client_schema, &nc, err, sizeof(err)) != 0) {
		snprintf(what, whatlen, " (logging section not re-read: %s)", err);
		return sp_log_reopen();
	}
	if (sp_log_configure(&nc.logging) != 0) {
		snprintf(what, whatlen, " (logging section of %s refused by the logger)",
		    cl->conf_path);
		sp_client_conf_free(&nc);
		return sp_log_reopen();
	}
	for (i = 0; i < nc.logging.ntargets; i++)
		n += nc.logging.targets[i].type == SP_LOG_TARGET_FILE;
	snprintf(what, whatlen, " (logging section re-read from %s: %zu target(s))",
	    cl->conf_path, nc.logging.ntargets ? nc.logging.ntargets : 1);
	sp_client_conf_free(&nc);
	return n;
}

static void
reload(struct client_sig *cs)
{
	struct client *cl = cs->cl;
	char err[512], what[700];
	int nlog, ntok;

	nlog = reload_logging(cl, what, sizeof(what));
	ntok = backend_reload_token(cl, err, sizeof(err));
	if (ntok == 0)
		sp_log(SP_LOG_NOTICE, "core", "SIGHUP: backend token reloaded from %s; %d log file(s) "
		    "reopened%s%s", cl->conf.backend.token_file, nlog < 0 ? -nlog : nlog,
		    nlog < 0 ? " FAILED (see stderr)" : "", what);
	else
		sp_log(SP_LOG_ERR, "core", "SIGHUP: backend token not reloaded, the one read before "
		    "stays: %s; %d log file(s) reopened%s%s", err, nlog < 0 ? -nlog : nlog,
		    nlog < 0 ? " FAILED (see stderr)" : "", what);
}

static void
end_now(struct client_sig *cs, const char *why)
{
	struct client *cl = cs->cl;

	/* Done with draining: neither timer may speak after this line. */
	sp_timer_stop(cl->loop, &cs->poll);
	sp_timer_stop(cl->loop, &cs->drain);
	sp_log(SP_LOG_NOTICE, "core", "%s: closing %u session pipe(s) now; stopping", why, cl->npipes);
	pipes_close_all(cl);
	sp_loop_stop(cl->loop);
}

static void
drain_poll(struct sp_loop *loop, struct sp_timer *t, void *arg)
{
	struct client_sig *cs = arg;

	if (cs->cl->npipes == 0) {
		sp_timer_stop(loop, &cs->drain);
		sp_log(SP_LOG_NOTICE, "core", "drained: every session pipe has closed; stopping");
		sp_loop_stop(loop);
		return;
	}
	sp_timer_start(loop, t, DRAIN_POLL_MS);
}

static void
drain_expired(struct sp_loop *loop, struct sp_timer *t, void *arg)
{
	struct client_sig *cs = arg;
	char why[64];

	(void)loop;
	(void)t;
	snprintf(why, sizeof(why), "drain_timeout of %d s reached", cs->cl->conf.drain_timeout);
	end_now(cs, why);
}

static void
stop(struct client_sig *cs, unsigned signo)
{
	struct client *cl = cs->cl;

	if (cl->draining) {
		char why[64];

		snprintf(why, sizeof(why), "signal %u again", signo);
		end_now(cs, why);
		return;
	}
	cl->draining = true;
	routes_close(cl);
	control_stop(cl);
	if (cl->npipes == 0) {
		sp_log(SP_LOG_NOTICE, "core", "signal %u: stopping (no session running)", signo);
		sp_loop_stop(cl->loop);
		return;
	}
	sp_log(SP_LOG_NOTICE, "core", "signal %u: draining: route listeners and the control "
	    "connection closed, %u session pipe(s) running; stopping when they have closed or in "
	    "%d s (drain_timeout); the signal again closes them now", signo, cl->npipes,
	    cl->conf.drain_timeout);
	sp_timer_start(cl->loop, &cs->poll, DRAIN_POLL_MS);
	sp_timer_start(cl->loop, &cs->drain, (uint64_t)cl->conf.drain_timeout * 1000);
}

static void
on_signal(struct sp_loop *loop, int fd, unsigned events, void *arg)
{
	struct client_sig *cs = arg;
	struct signalfd_siginfo si;

	(void)loop;
	(void)events;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			reload(cs);
		else
			stop(cs, si.ssi_signo);
	}
}

int
client_signals_start(struct client *cl, const sigset_t *mask, struct client_sig *cs)
{
	cs->cl = cl;
	cs->fd = -1;
	sp_timer_init(&cs->poll, drain_poll, cs);
	sp_timer_init(&cs->drain, drain_expired, cs);
	return sp_signals_watch(cl->loop, mask, on_signal, cs, &cs->fd);
}

void
client_signals_stop(struct client_sig *cs)
{
	if (cs->cl == NULL)
		return;
	sp_timer_stop(cs->cl->loop, &cs->poll);
	sp_timer_stop(cs->cl->loop, &cs->drain);
	if (cs->fd >= 0) {
		sp_loop_del(cs->cl->loop, cs->fd);
		close(cs->fd);
	}
	cs->fd = -1;
}
