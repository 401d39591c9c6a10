/*
 * client.h - smartproxy-client's shared state (inside the company network).
 *
 * One struct client per process, owned by main(): the control connection to
 * the server (dialled out, server key pinned by its Proxy ID), the backend
 * poller holding the newest runtime configuration, and the pipes that join a
 * session's tunnel data connection to the inside OFTP2 server.
 */
#ifndef SP_CLIENT_H
#define SP_CLIENT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

#include "core/bootstrap.h"
#include "core/conn.h"
#include "core/loop.h"
#include "core/net.h"
#include "core/tls.h"

/* Output buffer bound of a pipe's connections (allocated lazily). */
#define SP_PIPE_OUT_MAX (512u * 1024)

/* Backend request latency buckets (ms), heartbeat.c. */
#define BACKEND_BUCKETS 11
extern const unsigned backend_buckets_ms[BACKEND_BUCKETS];

struct backend;
struct ckeys;
struct pipe;
struct route_listener;

enum ctl_state { CTL_IDLE, CTL_CONNECTING, CTL_HELLO, CTL_UP };

struct client {
	struct sp_loop *loop;
	struct sp_client_conf conf;
	const char *conf_path;         /* argv's: SIGHUP re-reads its logging */
	struct sp_identity id;
	struct sp_addr server_addr;
	struct sp_addr inside_addr;
	char server_text[SP_ADDR_TEXT];

	/* control connection */
	struct sp_conn *ctl;
	enum ctl_state ctl_state;
	struct sp_buf ctl_in;
	struct sp_timer ctl_timer;     /* reconnect backoff, hello timeout, keepalive */
	unsigned ctl_failures;
	uint64_t ctl_last_rx;
	struct sp_defer ctl_reap;
	struct sp_conn *ctl_dead;      /* closed, freed by ctl_reap */

	/* configuration from the backend */
	json_object *config;           /* newest revision, or NULL */
	long long revision;
	long long pushed;              /* revision last sent to the server */
	long long applied;             /* revision the server acknowledged, or -1 */

	struct backend *be;
	struct crl_fetch *crl;

	/* server requests refused by dmz.c, not yet reported as an event */
	unsigned long dmz_refused;
	uint64_t dmz_reported_at;      /* loop clock of the last report, 0: none */
	char dmz_last[256];
	struct sp_timer dmz_timer;

	struct ckeys *keyless;         /* listener keys held here (keyless.c) */
	/* heartbeat (heartbeat.c) and the client's own counters */
	struct sp_timer hb_timer;
	bool hb_waiting;               /* live_get sent, no answer yet */
	json_object *live;             /* the server's last checked snapshot */
	uint64_t tunnel_connects;      /* control connections that came up */
	bool stopping;                 /* the last report says "not connected" */
	uint64_t be_count, be_sum_ms, be_failures;
	uint64_t be_counts[BACKEND_BUCKETS];  /* per bucket, not cumulative */

	struct pipe *pipes;
	unsigned npipes;
	struct route_listener *routes;
	size_t nroutes;
	bool draining;                 /* SIGTERM: see sig.c */
};

/* sig.c: SIGHUP reloads, SIGTERM/SIGINT drains (see sig.c). */
struct client_sig {
	struct client *cl;
	int fd;                        /* signalfd, owned */
	struct sp_timer poll;          /* draining: has the last pipe closed? */
	struct sp_timer drain;         /* draining: drain_timeout */
};
int client_signals_start(struct client *cl, const sigset_t *mask, struct client_sig *cs);
void client_signals_stop(struct client_sig *cs);

/* control.c */
void control_start(struct client *cl);
void control_stop(struct client *cl);
/* A new configuration arrived from the backend: push it if connected. */
void control_config_changed(struct client *cl);
int control_send(struct client *cl, json_object *msg);

/* backend.c */
int backend_start(struct client *cl, char *err, size_t errlen);
void backend_stop(struct client *cl);
/* SIGHUP: read backend.token_file again; on error the old token stays. */
int backend_reload_token(struct client *cl, char *err, size_t errlen);
/* POST a document for the backend (queued, in order): the client's own, or
 * one of the server's that dmz_post() let through. */
void backend_post(struct client *cl, const char *path, const char *body);
/* POST a question from the server; its answer goes back as an "answer" message. */
void backend_ask(struct client *cl, long long id, const char *path, const char *body);
/* Documents still waiting to be posted. */
size_t backend_pending(struct client *cl);
/* Answer question `id` of the server (status -1: not asked, body NULL). */
void backend_answer(struct client *cl, long long id, long status, const char *body);

/* heartbeat.c: the status report (POST /v1/status) and its timer. */
void heartbeat_start(struct client *cl);
void heartbeat_stop(struct client *cl);
/* Report now; `event` says why ("connected", "heartbeat", ...). */
void status_report(struct client *cl, const char *event);
/* The server's answer to live_get (the message; not taken). */
void heartbeat_live(struct client *cl, json_object *msg);
/* The control connection went: forget the snapshot. */
void heartbeat_lost(struct client *cl);
/* On the way out: report "stopping" (not connected) and give the backend
 * up to GOODBYE_MS to take it, so status says so at once, not only after
 * three periods. */
void heartbeat_goodbye(struct client *cl);
/* One finished backend request (POST or question), for the histogram. */
void backend_latency_note(struct client *cl, uint64_t ms, bool ok);

/* dmz.c: the server's requests for the backend, checked against the DMZ
 * surface (src/api/surface.h) before backend_post / backend_ask. */
void dmz_start(struct client *cl);
void dmz_stop(struct client *cl);
void dmz_post(struct client *cl, const char *path, const char *body);
void dmz_ask(struct client *cl, long long id, const char *path, const char *body);

/* keyless.c: listener keys that never go to the DMZ */
int keyless_load(struct client *cl, char *err, size_t errlen);
void keyless_free(struct client *cl);
/* Log the revision's keyless listeners this client cannot sign for. */
void keyless_check_config(struct client *cl, json_object *config, long long revision);
/* A "sign" request of the server: answered with a signature or a refusal. */
void keyless_sign(struct client *cl, json_object *msg);
/*
 * The client's own requests, on the backend's curl loop (never the server's:
 * what the DMZ asks goes through backend_post/backend_ask above).
 * backend_run: `easy` (a CURL *, set up by the caller) runs; done() is called
 * once with its CURLcode, then the caller owns `easy` again (clean it up).
 * backend_abort: take it back without done().
 * backend_own_post: POST `json` to <backend>/<path> with our token, once;
 * done (may be NULL) gets the HTTP status (-1: none) and body.
 */
typedef void backend_job_done(struct client *cl, void *easy, int res, void *arg);
typedef void backend_own_done(struct client *cl, long status, const char *body, void *arg);
int backend_run(struct client *cl, void *easy, backend_job_done *done, void *arg);
void backend_abort(struct client *cl, void *easy);
int backend_own_post(struct client *cl, const char *path, const char *json,
    backend_own_done *done, void *arg);

/* crl.c: fetch the CRLs of the configuration's CA bundles */
int crl_start(struct client *cl);
/* A new configuration: its CA bundles and distribution points. */
void crl_config_changed(struct client *cl);
void crl_stop(struct client *cl);

/* pipe.c */
void pipe_open(struct client *cl, uint64_t session, const char *listener);
/* The inside server called route `route` on fd: carry it to the server. */
void pipe_open_outgoing(struct client *cl, int fd, const char *route);

/* warm.c: tunnel data connections dialled in advance */
void warm_start(struct client *cl);
void warm_stop(struct client *cl);
void warm_shutdown(struct client *cl);
/* A handshaken, pinned connection that said "standby", or NULL. The caller
 * owns it and sets its callback. */
struct sp_conn *warm_take(struct client *cl);

/* routes.c: listeners for the inside server's outgoing calls */
void routes_apply(struct client *cl, json_object *config);
void routes_close(struct client *cl);
void pipes_close_all(struct client *cl);

/* A pinned TLS client session to the server. */
int client_tls_session(struct client *cl, gnutls_session_t *out);
/* Does the server's certificate carry the pinned Proxy ID? Logs if not. */
bool client_server_pinned(struct client *cl, struct sp_conn *c);
/* Backoff with jitter: 0.5 s doubling to 30 s, times 0.5..1.5. */
unsigned client_backoff_ms(unsigned failures);

#endif
