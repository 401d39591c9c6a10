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

struct backend;
struct ckeys;
struct pipe;
struct route_listener;

enum ctl_state { CTL_IDLE, CTL_CONNECTING, CTL_HELLO, CTL_UP };

struct client {
	struct sp_loop *loop;
	struct sp_client_conf conf;
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

	/* server requests refused by dmz.c, not yet reported as an event */
	unsigned long dmz_refused;
	uint64_t dmz_reported_at;      /* loop clock of the last report, 0: none */
	char dmz_last[256];
	struct sp_timer dmz_timer;

	struct ckeys *keyless;         /* listener keys held here (keyless.c) */

	struct pipe *pipes;
	unsigned npipes;
	struct route_listener *routes;
	size_t nroutes;
};

/* control.c */
void control_start(struct client *cl);
void control_stop(struct client *cl);
/* A new configuration arrived from the backend: push it if connected. */
void control_config_changed(struct client *cl);
int control_send(struct client *cl, json_object *msg);

/* backend.c */
int backend_start(struct client *cl, char *err, size_t errlen);
void backend_stop(struct client *cl);
/* POST a document for the backend (queued, in order): the client's own, or
 * one of the server's that dmz_post() let through. */
void backend_post(struct client *cl, const char *path, const char *body);
/* POST a question from the server; its answer goes back as an "answer" message. */
void backend_ask(struct client *cl, long long id, const char *path, const char *body);
/* Answer question `id` of the server (status -1: not asked, body NULL). */
void backend_answer(struct client *cl, long long id, long status, const char *body);

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
