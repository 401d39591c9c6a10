/*
 * api.h - the running smartproxy-api daemon: its configuration, the cached
 * rendered configuration document shared by all request threads, and the
 * route table of the HTTP endpoints.
 *
 * Threads: libmicrohttpd runs one thread per connection (bounded by
 * max_waiting + a margin), so a long poll simply waits on `cv`. Another
 * thread (the watcher) polls the database revision four times a second and,
 * when another process (`--import`, another instance) committed a change,
 * renders the new document and wakes the waiters; on PostgreSQL it waits
 * for the store's notification instead (LISTEN), polling every
 * WATCH_SAFETY_MS only in case one was lost with a broken connection. Handlers that change data do the same
 * right after their commit. `mu` guards the cache; `dbmu` serialises use of
 * the request threads' shared store connection.
 *
 * Ownership: struct api is owned by main; the cached document string is
 * replaced under `mu` and freed by whoever replaces it (or api_free).
 */
#ifndef SP_API_API_H
#define SP_API_API_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>
#include <microhttpd.h>

#include "api/conf.h"
#include "api/store.h"
#include "core/buf.h"

#define SP_API_MAX_BODY (1024 * 1024)
#define SP_API_MAX_WAIT 60

/* One DMZ node's heartbeat (live.c): its client's token names the node. */
#define API_NODES_MAX 64
struct api_beat {
	char node[65];        /* the token's name */
	int64_t at_ms;        /* wall clock of its last report */
	int64_t period_ms;    /* its heartbeat_ms; 0: the client sends none */
	bool stale;           /* the watcher raised proxy_stale for it */
};

struct api {
	const struct sp_api_conf *conf;
	/* The bearer tokens; SIGHUP swaps them under tokmu. A request keeps the
	 * name of its token (a pointer into the array), so replaced arrays are
	 * kept in `retired` until exit. */
	pthread_mutex_t tokmu;
	struct sp_api_tokens tokens;
	struct sp_api_tokens *retired;
	size_t nretired;
	unsigned pbkdf2_iterations;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	int64_t rev;          /* revision of `doc` */
	char *doc;            /* rendered document, NUL-terminated */
	char etag[32];
	int waiting;          /* long polls now waiting */
	bool stopping;

	pthread_mutex_t dbmu;
	struct sp_store *st;  /* request threads' connection */

	pthread_t watcher;
	bool watcher_running;
	int watch_wake[2];    /* pipe: stop a watcher waiting on PostgreSQL */
	struct MHD_Daemon *mhd;
	struct api_ops *ops;  /* events, event script, purge (ops.h) */
	struct api_guard *guard;  /* deadlines of slow clients (guard.c) */
	struct api_panel *panel;  /* logins and files of the panel (panel.h) */

	/* each DMZ node's heartbeat as this process received it (live.c),
	 * under mu: one slot per reporting token, API_NODES_MAX at most */
	struct api_beat beats[API_NODES_MAX];
	size_t nbeats;
};

/* Per request (MHD con_cls). */
struct api_req {
	struct sp_buf body;
	bool too_large;
	const char *token;    /* name of the token used, NULL: none */
	enum sp_role role;    /* its role (0: no token) */
	char who[80];         /* "panel:<user>" when a panel login called */
};

/* What a handler answers; the dispatcher turns it into an MHD response. */
struct api_reply {
	unsigned status;
	json_object *body;    /* owned; NULL: no body */
	char *raw;            /* owned; pre-rendered body instead of `body` */
	char etag[32];        /* "" = none */
	char allow[64];       /* for 405; "" = none */
	const char *ctype;    /* static; NULL: application/json */
	char cookie[192];     /* a Set-Cookie value; "" = none */
	unsigned retry_after; /* s for a Retry-After header; 0 = none */
};

typedef void (*api_handler)(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);

struct api_route {
	const char *method;
	const char *pattern;  /* "*" matches one path segment (the arg) */
	bool auth;
	api_handler fn;
};

extern const struct api_route api_routes[];

/* Fill `out` with the error document of docs/api.md section 2. */
void api_error(struct api_reply *out, unsigned status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Render from `st` and publish if the revision changed (or force). */
int api_refresh(struct api *a, struct sp_store *st, bool force);

/* Start/stop the HTTPS daemon on listen fd `fd` (taken over). */
int api_http_start(struct api *a, int fd, const char *cert_pem,
    const char *key_pem, char *err, size_t errlen);
void api_http_stop(struct api *a);

/*
 * guard.c: header and body deadlines per connection (limits in api.yaml).
 * Start before api_http_start(), stop after api_http_stop().
 */
enum api_guard_phase {
	API_GUARD_HEADERS,    /* waiting for (the next) request's headers */
	API_GUARD_BODY,       /* headers in, waiting for the body */
	API_GUARD_NONE        /* the request is complete: a handler works */
};
int api_guard_start(struct api *a, char *err, size_t errlen);
void api_guard_stop(struct api *a);
/* MHD_OPTION_NOTIFY_CONNECTION callback (cls: struct api). */
void api_guard_notify(void *cls, struct MHD_Connection *c,
    void **socket_context, enum MHD_ConnectionNotificationCode toe);
void api_guard_set(struct api *a, struct MHD_Connection *c,
    enum api_guard_phase p);

int api_watcher_start(struct api *a, char *err, size_t errlen);
void api_watcher_stop(struct api *a);

#endif
