/*
 * tunnel.c - the server's side of the tunnel: mutual TLS with paired clients,
 * the control connection, and data connections handed to sessions.
 *
 * Every tunnel connection starts the same way: TLS with a client certificate
 * whose key id must be in the pairing file, then one hello message naming its
 * role. The latest control connection wins (a client that reconnects after a
 * silent network failure replaces its stale predecessor). Losing the control
 * connection closes the partner listeners at once and forgets the runtime
 * configuration: the DMZ fails closed until a client is back.
 */
#include "server/server.h"
#include "server/session.h"
#include "server/stats.h"
#include "core/err.h"
#include "core/log.h"
#include "tunnel/msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HELLO_TIMEOUT_MS 10000
#define STANDBY_MS 120000   /* a warm data connection waits this long for work */
#define STANDBY_MAX 16
#define PING_EVERY_MS 15000
#define CONTROL_DEAD_MS 45000
/*
 * Connections still in their TLS handshake (not yet shown a paired key): at
 * most this many in all and from one address. Anyone holding them costs us a
 * descriptor each until HELLO_TIMEOUT_MS. The paired client needs many at
 * once under a partner flood (a data connection per starting session, its
 * warm pool), so the address of the current control connection has its own
 * allowance, UNAUTH_CLIENT, outside the strangers' UNAUTH_MAX: strangers
 * cannot starve it, and it cannot starve them. Without a control connection
 * every address is a stranger (the client's reconnect needs one handshake).
 */
#define UNAUTH_MAX 256
#define UNAUTH_PER_ADDRESS 32
#define UNAUTH_CLIENT 128
/*
 * Every partner session costs the tunnel one data connection, and so one
 * full TLS handshake with a client certificate on the main thread, which
 * carries the whole control plane: with several session loops that made the
 * main thread the larger part of a set-up's CPU (docs/performance.md 12).
 * Its handshake steps therefore run on a pool with one thread per session
 * loop (the mechanism keyless listeners use, core/conn.h); the main thread
 * keeps the I/O, the pairing check and the hello. Its queue holds more than
 * every handshake the limits above allow at once, so it never refuses one.
 */
#define TUNNEL_HS_QUEUE (2 * (UNAUTH_MAX + UNAUTH_CLIENT))

enum tc_state { TC_HANDSHAKE, TC_HELLO, TC_CONTROL, TC_GONE };

struct tunconn {
	struct tunconn *next, *prev;
	struct server *srv;
	struct sp_conn *c;          /* owned until handed to a session */
	enum tc_state state;
	struct sp_buf in;
	char peer[SP_ADDR_TEXT];
	char key_id[SP_KEY_ID_HEX];
	struct sp_timer timer;
	struct sp_defer reap;
	uint64_t last_rx;
	bool standby;               /* warm: said hello, waits for its real role */
	bool hs_counted;            /* counted in srv->tunnel_hs_from */
	/* Handed to a session: it goes to the session's loop from tc_reap,
	 * once the connection's own callback has returned (hand_over). */
	struct sp_conn *handoff;
	uint64_t handoff_sid;       /* data: the session it is the inside leg of */
	struct rtconf *handoff_rt;  /* outgoing: the revision (a reference) */
	size_t handoff_ri;          /* outgoing: the route */
};

static void tc_close(struct tunconn *tc, const char *why);

/* Tunnel handshakes in progress from addr: a lookup per accept (unauth_room). */
static unsigned
hs_from(const struct server *srv, const char *addr)
{
	const unsigned *n = sp_hmap_get(&srv->tunnel_hs_from, addr, strlen(addr));

	return n != NULL ? *n : 0;
}

static int
hs_enter(struct tunconn *tc)
{
	struct server *srv = tc->srv;
	unsigned *n = sp_hmap_get(&srv->tunnel_hs_from, tc->peer, strlen(tc->peer));

	if (n == NULL) {
		if ((n = calloc(1, sizeof(*n))) == NULL)
			return SP_ERR_NOMEM;
		if (sp_hmap_put(&srv->tunnel_hs_from, tc->peer, strlen(tc->peer), n) != SP_OK) {
			free(n);
			return SP_ERR_NOMEM;
		}
	}
	(*n)++;
	srv->tunnel_nhs++;
	tc->hs_counted = true;
	return SP_OK;
}

/* Its handshake is over (done, failed or abandoned); idempotent. */
static void
hs_leave(struct tunconn *tc)
{
	struct server *srv = tc->srv;
	unsigned *n;

	if (!tc->hs_counted)
		return;
	tc->hs_counted = false;
	srv->tunnel_nhs--;
	n = sp_hmap_get(&srv->tunnel_hs_from, tc->peer, strlen(tc->peer));
	if (n != NULL && --*n == 0)
		free(sp_hmap_del(&srv->tunnel_hs_from, tc->peer, strlen(tc->peer)));
}

static void
tc_reap(struct sp_loop *loop, struct sp_defer *d, void *arg)
{
	struct tunconn *tc = arg;

	(void)loop;
	(void)d;
	if (tc->handoff != NULL && tc->handoff_rt != NULL) {
		session_outgoing(tc->srv, tc->handoff_rt, tc->handoff_ri, tc->handoff, &tc->in);
		rtconf_unref(tc->handoff_rt);
	} else if (tc->handoff != NULL) {
		session_attach_inside(tc->srv, tc->handoff_sid, tc->handoff, &tc->in);
	}
	free(tc->c);
	sp_buf_free(&tc->in);
	free(tc);
}

/* Tell process-level module hooks which revision is current (NULL: none). */
static void
announce_config(struct server *srv, struct rtconf *rt)
{
	size_t i;

	for (i = 0; i < srv->nchain; i++) {
		const struct chain_entry *ce = &srv->chain[i];
		if (ce->m->config_apply != NULL)
			ce->m->config_apply(ce->mctx, rt != NULL && rt->modcfg ? rt->modcfg[i] : NULL);
	}
}

static void
control_lost(struct server *srv, const char *why)
{
	srv->control = NULL;
	if (srv->stopping)
		return;
	/* CRIT: without the client no partner can reach us (an event). */
	sp_log(SP_LOG_CRIT, "tunnel", "control connection lost (%s): partner listeners closed until a client is back", why);
	listeners_close(srv);
	bridge_fail_asks(srv);
	keyless_fail_all(srv, "control connection lost");
	announce_config(srv, NULL);
	rtconf_unref(srv->rt);
	srv->rt = NULL;
}

static void
tc_close(struct tunconn *tc, const char *why)
{
	struct server *srv = tc->srv;

	if (tc->state == TC_GONE)
		return;
	hs_leave(tc);
	if (tc == srv->control)
		control_lost(srv, why);
	else if (why != NULL && tc->state != TC_CONTROL)
		sp_log(SP_LOG_INFO, "tunnel", "tunnel connection from %s closed: %s", tc->peer, why);
	tc->state = TC_GONE;
	sp_timer_stop(srv->loop, &tc->timer);
	if (tc->c != NULL)
		sp_conn_close(tc->c);
	if (tc->prev != NULL)
		tc->prev->next = tc->next;
	else
		srv->tunconns = tc->next;
	if (tc->next != NULL)
		tc->next->prev = tc->prev;
	sp_defer_queue(srv->loop, &tc->reap);
}

static void
send_msg(struct tunconn *tc, json_object *m)
{
	if (sp_tmsg_write(tc->c, m) != 0)
		tc_close(tc, "cannot queue a message");
	json_object_put(m);
}

void
tunnel_send(struct server *srv, json_object *msg)
{
	if (srv->control != NULL)
		send_msg(srv->control, msg);
	else
		json_object_put(msg);
}

int
tunnel_request_inside(struct server *srv, uint64_t sid, const char *listener, const char *peer)
{
	json_object *m;

	if (srv->control == NULL)
		return SP_ERR_CLOSED;
	m = json_object_new_object();
	json_object_object_add(m, "type", json_object_new_string("open"));
	json_object_object_add(m, "session", json_object_new_int64((int64_t)sid));
	json_object_object_add(m, "listener", json_object_new_string(listener));
	json_object_object_add(m, "peer", json_object_new_string(peer));
	send_msg(srv->control, m);
	return srv->control != NULL ? SP_OK : SP_ERR_CLOSED;
}

/* Two descriptors a session (the partner, its leg through the tunnel), and
 * room for the tunnel's handshakes in progress and 128 more for listeners,
 * logs and the loops' own. Said before "applied", so a test that sees that
 * line knows whether this one came. */
#define NOFILE_BASE (UNAUTH_MAX + UNAUTH_CLIENT + 128ull)

static void
nofile_check(const struct server *srv, const struct rtconf *rt)
{
	unsigned long long need = 2ull * rt->max_sessions + NOFILE_BASE;

	if (srv->nofile == 0 || need <= srv->nofile)
		return;
	sp_log(SP_LOG_WARN, "config", "limits.max_sessions %u needs about %llu open files, this process "
	    "may open %llu: beyond about %llu sessions new connections wait in the backlog "
	    "(raise the hard limit: LimitNOFILE= in the unit, ulimit -Hn)", rt->max_sessions, need,
	    srv->nofile, srv->nofile > NOFILE_BASE ? (srv->nofile - NOFILE_BASE) / 2 : 0ull);
}

static void
apply_config(struct tunconn *tc, json_object *msg)
{
	struct server *srv = tc->srv;
	json_object *doc = sp_json_get(msg, "config", json_type_object), *reply;
	struct rtconf *rt = NULL;
	char err[512] = "";
	long long rev = sp_json_int(doc, "revision", -1);
	int r;

	if (doc == NULL) {
		snprintf(err, sizeof(err), "config: missing object");
		r = SP_ERR_CONFIG;
	} else if ((r = rtconf_parse(srv, doc, &rt, err, sizeof(err))) == 0 &&
	    (r = listeners_apply(srv, rt, err, sizeof(err))) != 0) {
		rtconf_unref(rt);
		rt = NULL;
	}
	reply = json_object_new_object();
	json_object_object_add(reply, "revision", json_object_new_int64(rev));
	if (r != 0) {
		sp_log(SP_LOG_ERR, "config", "revision %lld refused: %s; %s", rev, err,
		    srv->rt ? "the previous revision stays" : "no revision is active");
		json_object_object_add(reply, "type", json_object_new_string("config_nak"));
		json_object_object_add(reply, "error", json_object_new_string(err));
	} else {
		nofile_check(srv, rt);
		sp_log(SP_LOG_NOTICE, "config", "revision %lld applied: %zu listener(s)", rev,
		    rt->nlisteners);
		announce_config(srv, rt);
		rtconf_unref(srv->rt);
		srv->rt = rt;
		json_object_object_add(reply, "type", json_object_new_string("config_ack"));
	}
	send_msg(tc, reply);
}

static void
control_msg(struct tunconn *tc, json_object *msg)
{
	const char *type = sp_tmsg_type(msg);

	if (strcmp(type, "config") == 0) {
		apply_config(tc, msg);
	} else if (strcmp(type, "ping") == 0) {
		json_object *m = json_object_new_object();
		json_object_object_add(m, "type", json_object_new_string("pong"));
		send_msg(tc, m);
	} else if (strcmp(type, "pong") == 0) {
		/* last_rx is enough */
	} else if (strcmp(type, "live_get") == 0) {
		/* The client's heartbeat: it reports our sessions and counters
		 * to the backend after checking them (docs/api.md 5.3). */
		sessions_live(tc->srv);
	} else if (strcmp(type, "answer") == 0) {
		bridge_answer(tc->srv, msg);
	} else if (strcmp(type, "signature") == 0) {
		keyless_answer(tc->srv, msg);
	} else if (strcmp(type, "open_failed") == 0) {
		session_inside_failed(tc->srv, (uint64_t)sp_json_int(msg, "session", 0),
		    sp_json_str(msg, "error", "client could not open the inside"));
	} else {
		/* Newer clients may say more; an old server just does not act on it. */
		sp_log(SP_LOG_DEBUG, "tunnel", "ignoring control message of type '%s'", type);
	}
}

/*
 * The connection leaves the tunnel's care for a session: tc goes, and its
 * reap (deferred work, once this callback of the connection has returned)
 * hands the connection and its leftover bytes (tc->in) over: it leaves this
 * loop there, never from inside its own callback, which may still touch it.
 */
/* A connection between hand_over and its reap hears nothing: what it
 * reads meanwhile stays in GnuTLS and the socket for the session. */
static void
parked(struct sp_conn *c, enum sp_conn_event ev, void *arg)
{
	(void)c;
	(void)ev;
	(void)arg;
}

static void
hand_over(struct tunconn *tc)
{
	sp_timer_stop(tc->srv->loop, &tc->timer);
	tc->handoff = tc->c;
	tc->handoff->cb = parked;
	tc->c = NULL;
	tc_close(tc, NULL);
}

/* Returns false when tc must not be touched any more. */
static bool
hello_msg(struct tunconn *tc, json_object *msg)
{
	struct server *srv = tc->srv;
	const char *role = sp_json_str(msg, "role", "");
	json_object *m;

	if (strcmp(sp_tmsg_type(msg), "hello") != 0 ||
	    sp_json_int(msg, "version", 0) != SP_TUNNEL_VERSION) {
		tc_close(tc, "first message is not a hello of tunnel version 1");
		return false;
	}
	if (strcmp(role, "standby") == 0 && !tc->standby) {
		struct tunconn *t;
		unsigned n = 0;

		for (t = srv->tunconns; t != NULL; t = t->next)
			n += t->standby;
		if (n >= STANDBY_MAX) {
			tc_close(tc, "too many warm connections");
			return false;
		}
		/* Kept ready for the next session: its second hello says which. */
		tc->standby = true;
		sp_timer_start(srv->loop, &tc->timer, STANDBY_MS);
		sp_log(SP_LOG_DEBUG, "tunnel", "warm data connection from %s on standby", tc->peer);
		return true;
	}
	if (strcmp(role, "control") == 0) {
		if (srv->control != NULL) {
			struct tunconn *old = srv->control;

			sp_log(SP_LOG_NOTICE, "tunnel", "new control connection from %s replaces the one from %s",
			    tc->peer, old->peer);
			/* Not "lost": a successor is here, so the listeners stay open. */
			srv->control = NULL;
			tc_close(old, "replaced by a newer control connection");
		}
		srv->control = tc;
		tc->state = TC_CONTROL;
		sp_timer_start(srv->loop, &tc->timer, PING_EVERY_MS);
		sp_log(SP_LOG_NOTICE, "tunnel", "client %s connected from %s (control)", tc->key_id, tc->peer);
		m = json_object_new_object();
		json_object_object_add(m, "type", json_object_new_string("hello_ok"));
		json_object_object_add(m, "version", json_object_new_int(SP_TUNNEL_VERSION));
		json_object_object_add(m, "proxy_id", json_object_new_string(srv->id.key_id));
		send_msg(tc, m);
		if (srv->rt == NULL && tc->state == TC_CONTROL)
			sp_log(SP_LOG_NOTICE, "config", "waiting for the client to deliver a configuration revision; no partner listener until then");
		bridge_flush(srv);
		return tc->state == TC_CONTROL;
	}
	if (strcmp(role, "data") == 0) {
		uint64_t sid = (uint64_t)sp_json_int(msg, "session", 0);

		/* Whether it still waits for its leg, its own loop decides. */
		if (!session_known(srv, sid)) {
			tc_close(tc, "data connection for no waiting session");
			return false;
		}
		tc->handoff_sid = sid;
		hand_over(tc);
		return false;
	}
	if (strcmp(role, "outgoing") == 0) {
		const char *route = sp_json_str(msg, "route", "");
		struct rtconf *rt = srv->rt;
		size_t i;

		/* Fail closed: no client control connection, no configuration, no calls. */
		if (srv->control == NULL || rt == NULL) {
			tc_close(tc, "outgoing call while no configuration is active");
			return false;
		}
		for (i = 0; i < rt->nroutes; i++)
			if (strcmp(rt->routes[i].name, route) == 0)
				break;
		if (i == rt->nroutes) {
			sp_log(SP_LOG_WARN, "tunnel", "outgoing call for unknown route '%.64s' refused", route);
			tc_close(tc, "unknown route");
			return false;
		}
		tc->handoff_rt = rtconf_ref(rt);
		tc->handoff_ri = i;
		hand_over(tc);
		return false;
	}
	tc_close(tc, "hello with an unknown role");
	return false;
}

static void
tc_read(struct tunconn *tc)
{
	int rounds;

	for (rounds = 0; rounds < 16; rounds++) {
		uint8_t *w;
		size_t room, got;
		json_object *msg;
		int r;

		if ((r = sp_buf_reserve(&tc->in, 64 * 1024, &w, &room)) != 0) {
			tc_close(tc, "message too large");
			return;
		}
		r = sp_conn_read(tc->c, w, room, &got);
		if (r == SP_ERR_AGAIN)
			return;
		if (r != SP_OK) {
			tc_close(tc, r == SP_ERR_CLOSED ? "closed by the client" : tc->c->errtext);
			return;
		}
		sp_buf_commit(&tc->in, got);
		tc->last_rx = sp_loop_now(tc->srv->loop);
		while (tc->state == TC_HELLO || tc->state == TC_CONTROL) {
			r = sp_tmsg_take(&tc->in, &msg);
			if (r == SP_ERR_SHORT)
				break;
			if (r != SP_OK) {
				sp_log(SP_LOG_WARN, "tunnel", "bad message from %s: %s", tc->peer,
				    sp_strerror(r));
				tc_close(tc, "bad message");
				return;
			}
			if (tc->state == TC_HELLO) {
				bool alive = hello_msg(tc, msg);
				json_object_put(msg);
				if (!alive)
					return;
			} else {
				control_msg(tc, msg);
				json_object_put(msg);
			}
		}
		if (tc->state == TC_GONE)
			return;
	}
}

static void
tc_ready(struct tunconn *tc)
{
	struct server *srv = tc->srv;

	hs_leave(tc);
	if (sp_tls_peer_key_id(tc->c->tls, tc->key_id) != 0) {
		tc_close(tc, "no client certificate");
		return;
	}
	if (!pairing_allows(srv, tc->key_id)) {
		sp_logkv(SP_LOG_WARN, "security", SP_LOG_KV({ "event", "tunnel_unpaired" },
		    { "src", tc->peer }, { "key", tc->key_id }),
		    "tunnel: refused client key %s from %s: not in the pairing file",
		    tc->key_id, tc->peer);
		tc_close(tc, NULL);
		return;
	}
	/* Its pool is the main thread's: nothing of it may follow the
	 * connection to a session loop. */
	sp_conn_offload_handshake(tc->c, NULL, NULL, NULL, NULL);
	tc->state = TC_HELLO;
	sp_conn_want_read(tc->c, true);
}

static void
tc_cb(struct sp_conn *c, enum sp_conn_event ev, void *arg)
{
	struct tunconn *tc = arg;

	switch (ev) {
	case SP_CONN_READY:
		tc_ready(tc);
		break;
	case SP_CONN_READABLE:
		tc_read(tc);
		break;
	case SP_CONN_DRAINED:
		break;
	case SP_CONN_FINISHED:
		tc_close(tc, "finished");
		break;
	case SP_CONN_ERROR:
		if (tc->state == TC_HANDSHAKE)
			sp_logkv(SP_LOG_WARN, "security", SP_LOG_KV({ "event", "tunnel_tls_failed" },
			    { "src", tc->peer }),
			    "tunnel: TLS error %d during connect try from %s: %s", c->code, tc->peer,
			    c->errtext);
		tc_close(tc, c->errtext);
		break;
	}
}

static void
tc_timer(struct sp_loop *loop, struct sp_timer *t, void *arg)
{
	struct tunconn *tc = arg;
	json_object *m;

	if (tc->state != TC_CONTROL) {
		tc_close(tc, tc->standby ? "warm connection not used in time" : "no hello in time");
		return;
	}
	if (sp_loop_now(loop) - tc->last_rx > CONTROL_DEAD_MS) {
		tc_close(tc, "client silent for too long");
		return;
	}
	m = json_object_new_object();
	json_object_object_add(m, "type", json_object_new_string("ping"));
	send_msg(tc, m);
	if (tc->state == TC_CONTROL)
		sp_timer_start(loop, &tc->timer, PING_EVERY_MS);
}

/* May one more unauthenticated connection from addr start its handshake? */
static bool
unauth_room(struct server *srv, const char *addr)
{
	const char *client = srv->control != NULL ? srv->control->peer : NULL;
	unsigned from = hs_from(srv, addr);
	unsigned strangers = srv->tunnel_nhs - (client != NULL ? hs_from(srv, client) : 0);
	if (client != NULL && strcmp(addr, client) == 0) {
		/* Not a security line: fail2ban must never ban the client. */
		if (from < UNAUTH_CLIENT)
			return true;
		sp_log(SP_LOG_WARN, "tunnel", "refused a connection from %s, the paired client's "
		    "address: %u handshakes is its limit", addr, UNAUTH_CLIENT);
		return false;
	}
	if (from >= UNAUTH_PER_ADDRESS) {
		sp_logkv(SP_LOG_WARN, "security", SP_LOG_KV({ "event", "tunnel_limit" }, { "src", addr }),
		    "tunnel: refused a connection from %s: %u handshakes from this address "
		    "is the limit", addr, UNAUTH_PER_ADDRESS);
		return false;
	}
	if (strangers >= UNAUTH_MAX) {
		sp_log(SP_LOG_WARN, "tunnel", "refused a connection from %s: %u handshakes "
		    "is the limit", addr, UNAUTH_MAX);
		return false;
	}
	return true;
}

static void
on_tunnel_accept(struct sp_loop *loop, int lfd, unsigned events, void *arg)
{
	struct server *srv = arg;
	struct sp_addr peer;
	char addr[SP_ADDR_TEXT];
	int fd, i, r;

	for (i = 0; i < 32; i++) {
		struct tunconn *tc;
		gnutls_session_t tls;

		if ((r = sp_accept(lfd, &fd, &peer)) == SP_ERR_AGAIN)
			return;
		if (r != SP_OK) {
			if (acceptor_failed(&srv->tunnel_acc, errno))
				return;
			continue;
		}
		acceptor_ok(&srv->tunnel_acc);
		sp_addr_host(&peer, addr, sizeof(addr));
		if (!unauth_room(srv, addr)) {
			close(fd);
			continue;
		}
		if ((tc = calloc(1, sizeof(*tc))) == NULL || (tc->c = calloc(1, sizeof(*tc->c))) == NULL) {
			free(tc);
			close(fd);
			continue;
		}
		tc->srv = srv;
		tc->state = TC_HANDSHAKE;
		tc->last_rx = sp_loop_now(loop);
		memcpy(tc->peer, addr, sizeof(tc->peer));
		sp_buf_init(&tc->in, SP_TMSG_MAX + 4);
		sp_timer_init(&tc->timer, tc_timer, tc);
		sp_defer_init(&tc->reap, tc_reap, tc);
		tc->next = srv->tunconns;
		if (tc->next != NULL)
			tc->next->prev = tc;
		srv->tunconns = tc;
		/* sp_conn_init owns fd even when it fails: tc_close closes it
		 * once, whichever step failed. */
		if (sp_conn_init(tc->c, loop, fd, false, SP_TMSG_MAX + 4, tc_cb, tc) != 0 ||
		    hs_enter(tc) != SP_OK ||
		    sp_tls_new_server(srv->id.creds, GNUTLS_CERT_REQUIRE, &tls) != 0) {
			tc_close(tc, "setup failed");
			continue;
		}
		if (srv->tunnel_hs != NULL)
			sp_conn_offload_handshake(tc->c, srv->tunnel_hs, NULL, NULL, NULL);
		sp_conn_start_tls(tc->c, tls);
		/* Handshake and hello together must not take longer than this. */
		sp_timer_start(loop, &tc->timer, HELLO_TIMEOUT_MS);
	}
}

int
tunnel_start(struct server *srv, char *err, size_t errlen)
{
	struct sp_addr a;
	char text[300];
	int r;

	snprintf(text, sizeof(text), "%s%s%s:%u",
	    strchr(srv->conf.tunnel.listen.host, ':') ? "[" : "", srv->conf.tunnel.listen.host,
	    strchr(srv->conf.tunnel.listen.host, ':') ? "]" : "", srv->conf.tunnel.listen.port);
	if (sp_addr_parse(text, &a) != 0) {
		snprintf(err, errlen, "tunnel.listen: %s is not a numeric address", text);
		return SP_ERR_CONFIG;
	}
	if (srv->nsloops > 1 && srv->tunnel_hs == NULL &&
	    sp_workers_new(srv->loop, srv->nsloops, TUNNEL_HS_QUEUE, &srv->tunnel_hs) != 0) {
		snprintf(err, errlen, "tunnel: cannot start its handshake threads");
		return SP_ERR_SYSTEM;
	}
	if ((r = sp_listen(&a, 64, &srv->tunnel_fd)) != 0) {
		snprintf(err, errlen, "tunnel.listen: cannot listen on %s: %s", text, strerror(errno));
		return r;
	}
	if ((r = acceptor_start(&srv->tunnel_acc, srv->loop, srv->tunnel_fd, on_tunnel_accept,
	    srv, "the tunnel port")) != 0) {
		snprintf(err, errlen, "tunnel: cannot watch the listener");
		return r;
	}
	if (sp_sock_local(srv->tunnel_fd, &a) == 0)
		sp_addr_format(&a, text, sizeof(text));
	sp_log(SP_LOG_NOTICE, "tunnel", "listening for the client on %s (Proxy ID %s)", text,
	    srv->id.key_id);
	return SP_OK;
}

void
tunnel_quiesce(struct server *srv)
{
	struct tunconn *tc, *next;

	for (tc = srv->tunconns; tc != NULL; tc = next) {
		next = tc->next;
		if (tc != srv->control)
			tc_close(tc, NULL);
	}
	if (srv->tunnel_fd >= 0) {
		acceptor_stop(&srv->tunnel_acc);
		close(srv->tunnel_fd);
		srv->tunnel_fd = -1;
	}
	/* After the connections: a step still running belongs to its
	 * (orphaned) job, which the pool's end releases. */
	sp_workers_free(srv->tunnel_hs);
	srv->tunnel_hs = NULL;
}

bool
tunnel_flushing(const struct server *srv)
{
	const struct sp_conn *c = srv->control != NULL ? srv->control->c : NULL;

	return c != NULL && sp_conn_is_open(c) && sp_conn_unsent(c);
}

void
tunnel_stop(struct server *srv)
{
	tunnel_quiesce(srv);
	while (srv->tunconns != NULL)
		tc_close(srv->tunconns, NULL);
	sp_hmap_free(&srv->tunnel_hs_from);   /* empty: every connection left it */
}
