/*
 * control.c - the client's control connection to the server.
 *
 * The client always dials out (the DMZ never opens a connection inwards),
 * checks that the server's key is the pinned Proxy ID before saying a word,
 * says hello, pushes the newest configuration revision, answers pings and
 * opens a pipe for every session the server asks for. When the connection
 * fails it retries with exponential backoff and jitter.
 */
#include "client/client.h"
#include "core/err.h"
#include "core/log.h"
#include "core/notify.h"
#include "tunnel/msg.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HELLO_TIMEOUT_MS 10000
#define PING_EVERY_MS 15000
#define SERVER_DEAD_MS 45000

static void ctl_cb(struct sp_conn *c, enum sp_conn_event ev, void *arg);

unsigned
client_backoff_ms(unsigned failures)
{
	unsigned base = 500, r;

	while (failures-- > 0 && base < 30000)
		base *= 2;
	if (base > 30000)
		base = 30000;
	if (gnutls_rnd(GNUTLS_RND_NONCE, &r, sizeof(r)) != 0)
		r = 0;
	return base / 2 + r % (base + 1);
}

int
client_tls_session(struct client *cl, gnutls_session_t *out)
{
	return sp_tls_new_client(cl->id.creds, NULL, out);
}

bool
client_server_pinned(struct client *cl, struct sp_conn *c)
{
	char id[SP_KEY_ID_HEX];

	if (sp_tls_peer_key_id(c->tls, id) != 0) {
		sp_log(SP_LOG_ERR, "tunnel", "server %s sent no certificate: refusing it", cl->server_text);
		return false;
	}
	if (!sp_key_id_equal(id, cl->conf.server.proxy_id)) {
		sp_logkv(SP_LOG_ERR, "security", SP_LOG_KV({ "event", "server_not_pinned" },
		    { "dst", cl->server_text }, { "key", id }),
		    "server %s presented key %s, but the pinned Proxy ID is %s: refusing it",
		    cl->server_text, id, cl->conf.server.proxy_id);
		return false;
	}
	return true;
}

/*
 * The DMZ node this client serves went away: an event, so the backend's
 * event script hears of it (with several DMZ nodes behind a balancer the
 * partners still get through, and nobody would notice otherwise).
 */
static void
report_node_lost(struct client *cl, const char *why)
{
	json_object *ev = json_object_new_object();
	char msg[300];

	snprintf(msg, sizeof(msg), "DMZ node %s (Proxy ID %.16s...) lost: %s; its running "
	    "sessions ended, reconnecting", cl->server_text, cl->conf.server.proxy_id, why);
	json_object_object_add(ev, "type", json_object_new_string("node_lost"));
	json_object_object_add(ev, "severity", json_object_new_string("crit"));
	json_object_object_add(ev, "message", json_object_new_string(msg));
	json_object_object_add(ev, "source_address", json_object_new_string(cl->server_text));
	backend_post(cl, "v1/events", json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN));
	json_object_put(ev);
}

static void
ctl_reap(struct sp_loop *loop, struct sp_defer *d, void *arg)
{
	struct client *cl = arg;

	free(cl->ctl_dead);
	cl->ctl_dead = NULL;
}

static void
ctl_schedule(struct client *cl)
{
	unsigned ms = client_backoff_ms(cl->ctl_failures);

	if (cl->ctl_failures < 16)
		cl->ctl_failures++;
	cl->ctl_state = CTL_IDLE;
	sp_timer_start(cl->loop, &cl->ctl_timer, ms);
	sp_log(SP_LOG_INFO, "tunnel", "reconnecting to %s in %u ms", cl->server_text, ms);
}

static void
ctl_drop(struct client *cl, const char *why)
{
	if (cl->ctl == NULL)
		return;
	warm_stop(cl);
	if (cl->ctl_state == CTL_UP) {
		sp_log(SP_LOG_WARN, "tunnel", "control connection to %s lost: %s", cl->server_text, why);
		cl->ctl_state = CTL_IDLE;
		cl->applied = -1;
		heartbeat_lost(cl);
		status_report(cl, "disconnected");
		report_node_lost(cl, why);
		sp_notify_status("control connection to %s lost, reconnecting", cl->server_text);
	} else
		sp_log(SP_LOG_WARN, "tunnel", "cannot connect to %s: %s", cl->server_text, why);
	sp_conn_close(cl->ctl);
	free(cl->ctl_dead);
	cl->ctl_dead = cl->ctl;
	cl->ctl = NULL;
	sp_defer_queue(cl->loop, &cl->ctl_reap);
	sp_buf_free(&cl->ctl_in);
	cl->pushed = -1;
	sp_timer_stop(cl->loop, &cl->ctl_timer);
	ctl_schedule(cl);
}

int
control_send(struct client *cl, json_object *msg)
{
	int r = SP_ERR_CLOSED;

	if (cl->ctl != NULL && cl->ctl_state == CTL_UP)
		r = sp_tmsg_write(cl->ctl, msg);
	json_object_put(msg);
	return r;
}

static void
push_config(struct client *cl)
{
	json_object *m;

	if (cl->config == NULL || cl->ctl_state != CTL_UP || cl->pushed == cl->revision)
		return;
	keyless_check_config(cl, cl->config, cl->revision);
	m = json_object_new_object();
	json_object_object_add(m, "type", json_object_new_string("config"));
	json_object_object_add(m, "config", json_object_get(cl->config));
	if (control_send(cl, m) == 0) {
		cl->pushed = cl->revision;
		sp_log(SP_LOG_INFO, "config", "revision %lld sent to the server", cl->revision);
	}
}

void
control_config_changed(struct client *cl)
{
	push_config(cl);
}

static void
handle(struct client *cl, json_object *msg)
{
	const char *type = sp_tmsg_type(msg);

	if (cl->ctl_state == CTL_HELLO) {
		if (strcmp(type, "hello_ok") != 0) {
			ctl_drop(cl, "server did not answer the hello");
			return;
		}
		cl->ctl_state = CTL_UP;
		cl->ctl_failures = 0;
		cl->tunnel_connects++;
		sp_log(SP_LOG_NOTICE, "tunnel", "connected to server %s (Proxy ID %s)", cl->server_text,
		    cl->conf.server.proxy_id);
		sp_timer_start(cl->loop, &cl->ctl_timer, PING_EVERY_MS);
		push_config(cl);
		warm_start(cl);
		status_report(cl, "connected");
		/* The service is ready when the DMZ can reach the inside. */
		sp_notify("READY=1");
		sp_notify_status("connected to server %s", cl->server_text);
		return;
	}
	if (strcmp(type, "open") == 0) {
		pipe_open(cl, (uint64_t)sp_json_int(msg, "session", 0), sp_json_str(msg, "listener", ""));
	} else if (strcmp(type, "ping") == 0) {
		json_object *m = json_object_new_object();
		json_object_object_add(m, "type", json_object_new_string("pong"));
		control_send(cl, m);
	} else if (strcmp(type, "sign") == 0) {
		keyless_sign(cl, msg);
	} else if (strcmp(type, "ask") == 0) {
		dmz_ask(cl, sp_json_int(msg, "id", 0), sp_json_str(msg, "path", ""),
		    sp_json_str(msg, "body", "{}"));
	} else if (strcmp(type, "backend_post") == 0) {
		dmz_post(cl, sp_json_str(msg, "path", ""), sp_json_str(msg, "body", "{}"));
	} else if (strcmp(type, "live") == 0) {
		heartbeat_live(cl, msg);
	} else if (strcmp(type, "config_ack") == 0) {
		cl->applied = sp_json_int(msg, "revision", -1);
		sp_log(SP_LOG_NOTICE, "config", "server applied revision %lld", cl->applied);
		status_report(cl, "config_applied");
	} else if (strcmp(type, "config_nak") == 0) {
		sp_log(SP_LOG_ERR, "config", "server refused revision %lld: %s",
		    sp_json_int(msg, "revision", -1), sp_json_str(msg, "error", "?"));
		status_report(cl, "config_refused");
	} else if (strcmp(type, "pong") != 0) {
		sp_log(SP_LOG_DEBUG, "tunnel", "ignoring message of type '%s'", type);
	}
}

static void
ctl_read(struct client *cl)
{
	int rounds;

	for (rounds = 0; rounds < 16 && cl->ctl != NULL; rounds++) {
		uint8_t *w;
		size_t room, got;
		json_object *msg;
		int r;

		if (sp_buf_reserve(&cl->ctl_in, 64 * 1024, &w, &room) != 0) {
			ctl_drop(cl, "message too large");
			return;
		}
		r = sp_conn_read(cl->ctl, w, room, &got);
		if (r == SP_ERR_AGAIN)
			return;
		if (r != SP_OK) {
			ctl_drop(cl, r == SP_ERR_CLOSED ? "closed by the server" : cl->ctl->errtext);
			return;
		}
		sp_buf_commit(&cl->ctl_in, got);
		cl->ctl_last_rx = sp_loop_now(cl->loop);
		while (cl->ctl != NULL) {
			r = sp_tmsg_take(&cl->ctl_in, &msg);
			if (r == SP_ERR_SHORT)
				break;
			if (r != SP_OK) {
				ctl_drop(cl, "bad message from the server");
				return;
			}
			handle(cl, msg);
			json_object_put(msg);
		}
	}
}

static void
ctl_cb(struct sp_conn *c, enum sp_conn_event ev, void *arg)
{
	struct client *cl = arg;
	json_object *m;

	switch (ev) {
	case SP_CONN_READY:
		if (!client_server_pinned(cl, c)) {
			ctl_drop(cl, "server key does not match the pinned Proxy ID");
			return;
		}
		cl->ctl_state = CTL_HELLO;
		sp_conn_want_read(c, true);
		m = json_object_new_object();
		json_object_object_add(m, "type", json_object_new_string("hello"));
		json_object_object_add(m, "version", json_object_new_int(SP_TUNNEL_VERSION));
		json_object_object_add(m, "role", json_object_new_string("control"));
		if (sp_tmsg_write(c, m) != 0)
			ctl_drop(cl, "cannot send hello");
		json_object_put(m);
		break;
	case SP_CONN_READABLE:
		ctl_read(cl);
		break;
	case SP_CONN_DRAINED:
		break;
	case SP_CONN_FINISHED:
		ctl_drop(cl, "finished");
		break;
	case SP_CONN_ERROR:
		ctl_drop(cl, c->errtext);
		break;
	}
}

static void
ctl_connect(struct client *cl)
{
	gnutls_session_t tls;
	bool inprog;
	int fd;

	if (sp_connect(&cl->server_addr, NULL, &fd, &inprog) != 0) {
		sp_log(SP_LOG_WARN, "tunnel", "cannot connect to %s: %s", cl->server_text, strerror(errno));
		ctl_schedule(cl);
		return;
	}
	if ((cl->ctl = calloc(1, sizeof(*cl->ctl))) == NULL)
		close(fd);   /* no connection to own it */
	/* Past sp_conn_init the connection owns fd, even when it fails. */
	if (cl->ctl == NULL ||
	    sp_conn_init(cl->ctl, cl->loop, fd, inprog, 16u * 1024 * 1024, ctl_cb, cl) != 0 ||
	    client_tls_session(cl, &tls) != 0) {
		if (cl->ctl != NULL)
			sp_conn_close(cl->ctl);
		free(cl->ctl);
		cl->ctl = NULL;
		ctl_schedule(cl);
		return;
	}
	sp_conn_start_tls(cl->ctl, tls);
	sp_buf_init(&cl->ctl_in, SP_TMSG_MAX + 4);
	cl->ctl_state = CTL_CONNECTING;
	cl->ctl_last_rx = sp_loop_now(cl->loop);
	sp_timer_start(cl->loop, &cl->ctl_timer, HELLO_TIMEOUT_MS);
}

static void
ctl_timer(struct sp_loop *loop, struct sp_timer *t, void *arg)
{
	struct client *cl = arg;
	json_object *m;

	switch (cl->ctl_state) {
	case CTL_IDLE:
		ctl_connect(cl);
		break;
	case CTL_CONNECTING:
	case CTL_HELLO:
		ctl_drop(cl, "no answer in time");
		break;
	case CTL_UP:
		if (sp_loop_now(loop) - cl->ctl_last_rx > SERVER_DEAD_MS) {
			ctl_drop(cl, "server silent for too long");
			break;
		}
		m = json_object_new_object();
		json_object_object_add(m, "type", json_object_new_string("ping"));
		control_send(cl, m);
		sp_timer_start(loop, &cl->ctl_timer, PING_EVERY_MS);
		break;
	}
}

void
control_start(struct client *cl)
{
	sp_timer_init(&cl->ctl_timer, ctl_timer, cl);
	sp_defer_init(&cl->ctl_reap, ctl_reap, cl);
	cl->pushed = -1;
	cl->applied = -1;
	ctl_connect(cl);
}

void
control_stop(struct client *cl)
{
	warm_shutdown(cl);
	sp_timer_stop(cl->loop, &cl->ctl_timer);
	if (cl->ctl != NULL) {
		sp_conn_close(cl->ctl);
		free(cl->ctl);
		cl->ctl = NULL;
	}
	cl->ctl_state = CTL_IDLE;   /* nothing is pushed, nothing re-dials */
	sp_buf_free(&cl->ctl_in);
	sp_defer_cancel(cl->loop, &cl->ctl_reap);
	free(cl->ctl_dead);
	cl->ctl_dead = NULL;
}
