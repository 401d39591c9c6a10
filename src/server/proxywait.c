/*
 * proxywait.c - the PROXY protocol stage of a partner connection that came
 * through a load balancer (listener option proxy_protocol, docs/api.md).
 *
 * Between accept and session_accept_from(): the connection must come from one of
 * the listener's trusted networks, and its first bytes must be a PROXY v2 (or
 * v1) header, read before a single TLS byte and within the handshake timeout
 * (a balancer that connects and sends nothing must not hold a slot). The
 * header is read exactly `needed` bytes at a time (core/proxyhdr.h) so the
 * ClientHello behind it stays in the socket for TLS. From then on the address
 * the header carries is the partner's address for every check, limit, brake,
 * log line and audit record; the balancer's appears only in this stage's
 * lines and the session's first line.
 *
 * Ownership: a struct pwait owns its fd, its header buffer and one reference
 * to the revision it was accepted under, until it hands the fd to
 * session_accept_from() or closes it. The server's list (srv->pwaits) owns the
 * structs; listeners_close() drops them all (fail closed).
 */
#include "server/server.h"
#include "core/err.h"
#include "core/log.h"
#include "core/proxyhdr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pwait {
	struct pwait *next, *prev;
	struct server *srv;
	struct rtconf *rt;
	size_t lidx;
	int fd;
	char btext[SP_ADDR_TEXT];
	struct sp_buf hdr;           /* the header so far, at most SP_PROXYHDR_MAX */
	struct sp_timer timer;
};

static void
pw_free(struct pwait *pw)
{
	struct server *srv = pw->srv;

	sp_timer_stop(srv->loop, &pw->timer);
	if (pw->fd >= 0) {
		sp_loop_del(srv->loop, pw->fd);
		close(pw->fd);
	}
	if (pw->prev != NULL)
		pw->prev->next = pw->next;
	else
		srv->pwaits = pw->next;
	if (pw->next != NULL)
		pw->next->prev = pw->prev;
	srv->npwait--;
	sp_buf_free(&pw->hdr);
	rtconf_unref(pw->rt);
	free(pw);
}

static const char *
lname(const struct pwait *pw)
{
	return pw->rt->listeners[pw->lidx].name;
}

/* A trusted balancer sent something that is not a header: refuse, say so. */
static void
pw_refuse(struct pwait *pw, const char *event, const char *what)
{
	/*
	 * Not matched by the fail2ban filter: the address is the balancer's,
	 * and banning it would lock every partner out.
	 */
	sp_logkv(SP_LOG_WARN, "security", SP_LOG_KV({ "event", event }, { "src", pw->btext },
	    { "listener", lname(pw) }),
	    "%s from %s: %s on listener %s; connection closed before TLS", event, pw->btext,
	    what, lname(pw));
	pw_free(pw);
}

static void
pw_timeout(struct sp_loop *loop, struct sp_timer *t, void *arg)
{
	struct pwait *pw = arg;
	char what[80];

	(void)loop;
	(void)t;
	snprintf(what, sizeof(what), "no complete PROXY header within %u ms (%zu bytes)",
	    pw->rt->handshake_ms, sp_buf_len(&pw->hdr));
	pw_refuse(pw, "proxy_header_missing", what);
}

static void
pw_done(struct pwait *pw, const struct sp_proxyhdr *h)
{
	struct server *srv = pw->srv;
	struct rtconf *rt = rtconf_ref(pw->rt);
	struct sp_addr peer = h->src;
	char btext[SP_ADDR_TEXT];
	size_t lidx = pw->lidx;
	int fd = pw->fd;

	if (h->local) {
		/*
		 * LOCAL (v2) or UNKNOWN (v1): the balancer's own health check,
		 * no partner behind it. Closed quietly: as a session it would be
		 * refused with the balancer's address in a security line, and a
		 * fail2ban watching those would lock every partner out.
		 */
		sp_log(SP_LOG_DEBUG, "listener", "%s: PROXY header without a partner (health check) "
		    "on %s: closed", pw->btext, lname(pw));
		rtconf_unref(rt);
		pw_free(pw);
		return;
	}
	memcpy(btext, pw->btext, sizeof(btext));
	sp_loop_del(srv->loop, fd);
	pw->fd = -1;
	pw_free(pw);
	session_accept_from(srv, rt, lidx, fd, &peer, btext);
	rtconf_unref(rt);
}

static void
pw_readable(struct sp_loop *loop, int fd, unsigned events, void *arg)
{
	struct pwait *pw = arg;
	struct sp_proxyhdr h;
	size_t used = 0, need = 0, got;
	uint8_t *dst;
	ssize_t n;
	int r;

	(void)loop;
	(void)events;
	for (;;) {
		r = sp_proxyhdr_parse(sp_buf_ptr(&pw->hdr), sp_buf_len(&pw->hdr), &h, &used, &need);
		if (r == SP_OK) {
			pw_done(pw, &h);
			return;
		}
		if (r != SP_ERR_SHORT) {
			pw_refuse(pw, "proxy_header_bad", r == SP_ERR_LIMIT ?
			    "PROXY header longer than the limit" : "not a valid PROXY header");
			return;
		}
		/* Exactly what the header still needs: never the TLS behind it. */
		if (sp_buf_reserve(&pw->hdr, need, &dst, &got) != 0 || got < need) {
			pw_refuse(pw, "proxy_header_bad", "PROXY header longer than the limit");
			return;
		}
		n = read(fd, dst, need);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n <= 0 && sp_buf_len(&pw->hdr) == 0) {
			/* A plain TCP health check: connect, close or reset. Not an attack. */
			sp_log(SP_LOG_DEBUG, "listener", "%s closed before sending anything on %s",
			    pw->btext, lname(pw));
			pw_free(pw);
			return;
		}
		if (n <= 0) {
			pw_refuse(pw, "proxy_header_bad", n == 0 ?
			    "connection closed inside the PROXY header" : "read error in the PROXY header");
			return;
		}
		sp_buf_commit(&pw->hdr, (size_t)n);
	}
}

void
proxywait_accept(struct plistener *pl, int fd, const struct sp_addr *from)
{
	struct server *srv = pl->srv;
	struct rtconf *rt = pl->rt;
	size_t lidx = pl->idx;
	const struct rt_listener *l = &rt->listeners[lidx];
	struct pwait *pw;

	/*
	 * The totals only (admit.c's per-address limits need the partner's
	 * address, known once the header is read: session_accept_from() calls
	 * admit_incoming() with it). Headers still to come count as sessions
	 * without a verified partner. No security line: the address here is
	 * the balancer's.
	 */
	if (srv->nsessions + srv->npwait >= rt->max_sessions) {
		sp_log(SP_LOG_WARN, "session", "refused a connection on %s: %u sessions is the limit",
		    l->name, rt->max_sessions);
		close(fd);
		return;
	}
	if (srv->nunverified + srv->npwait >= rt->max_unverified) {
		sp_log(SP_LOG_WARN, "session", "refused a connection on %s: %u sessions without a "
		    "verified partner is the limit", l->name, rt->max_unverified);
		close(fd);
		return;
	}
	if (!sp_cidr_match_any(l->trusted, l->ntrusted, from)) {
		char a[SP_ADDR_TEXT];

		sp_addr_host(from, a, sizeof(a));
		sp_logkv(SP_LOG_WARN, "security", SP_LOG_KV({ "event", "proxy_untrusted" }, { "src", a },
		    { "listener", l->name }),
		    "proxy_untrusted from %s: not a trusted balancer of listener %s; connection "
		    "closed before reading", a, l->name);
		close(fd);
		return;
	}
	if ((pw = calloc(1, sizeof(*pw))) == NULL) {
		close(fd);
		return;
	}
	pw->srv = srv;
	pw->rt = rtconf_ref(rt);
	pw->lidx = lidx;
	pw->fd = fd;
	sp_addr_host(from, pw->btext, sizeof(pw->btext));
	sp_buf_init(&pw->hdr, SP_PROXYHDR_MAX);
	sp_timer_init(&pw->timer, pw_timeout, pw);
	pw->next = srv->pwaits;
	if (srv->pwaits != NULL)
		srv->pwaits->prev = pw;
	srv->pwaits = pw;
	srv->npwait++;
	if (sp_loop_add(srv->loop, fd, SP_EV_READ, pw_readable, pw) != 0 ||
	    sp_timer_start(srv->loop, &pw->timer, rt->handshake_ms) != 0) {
		sp_log(SP_LOG_ERR, "listener", "cannot watch a connection from %s", pw->btext);
		pw_free(pw);
	}
}

void
proxywait_drop_all(struct server *srv)
{
	while (srv->pwaits != NULL)
		pw_free(srv->pwaits);
}
