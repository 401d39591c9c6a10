/*
 * ops.h - the operations endpoints of smartproxy-api (events and the event
 * script, session audit, proxy status) and its two background threads: the
 * event-script runner (events.c) and the purge of expired log-ignore rules
 * (purge.c). docs/api.md section 5 and docs/operations.md describe them.
 *
 * The request helpers declared last live in handlers.c and are shared by
 * every endpoint file.
 *
 * Ownership: struct api_ops belongs to struct api (a->ops), made by
 * api_ops_start() and freed by api_ops_stop(), which also stops the threads,
 * kills running scripts and reaps them.
 */
#ifndef SP_API_OPS_H
#define SP_API_OPS_H

#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"

/* Start the runner and the purge thread (after the store is open). */
int api_ops_start(struct api *a, char *err, size_t errlen);
/* Stop both; safe when api_ops_start failed or never ran. */
void api_ops_stop(struct api *a);

/* Finished event-script runs by outcome (events.c), for /metrics. */
enum api_run_outcome {
	API_RUN_OK, API_RUN_FAILED, API_RUN_SIGNAL, API_RUN_TIMEOUT,
	API_RUN_SPAWN_FAILED, API_RUN_NO_SCRIPT, API_RUN_OUTCOMES
};
extern const char *const api_run_outcome_names[API_RUN_OUTCOMES];
void api_ops_runs(struct api *a, uint64_t out[API_RUN_OUTCOMES]);
/* An event of the backend's own (a node went stale): recorded and given
 * to the event script like a posted one; `node` is the DMZ node it is
 * about (NULL: none). Returns the outcome word. */
const char *api_event_raise(struct api *a, const char *type,
    const char *severity, const char *message, const char *node);

/* live.c: the proxy's heartbeat, started and stopped by the two above
 * (after the purge, which sets a->stopping). */
int api_live_start(struct api *a, char *err, size_t errlen);
void api_live_stop(struct api *a);
/* A status report of DMZ node `node` (its client's token name) arrived
 * now, announcing heartbeat_ms (0: none). */
void api_live_note(struct api *a, const char *node, int64_t heartbeat_ms);
/*
 * Freshness of the stored status `st` ({"received", "reported_by",
 * "status"}): adds "stale" (true, false, or null when the client announces
 * no heartbeat) and "age_ms" to st. Returns true when stale.
 */
bool api_live_judge(struct api *a, json_object *st);
/* The same for one DMZ node's stored status ({"node", "received",
 * "status"}): from when this process received it, else (after a restart)
 * from its stored receive time with one second of slack. */
bool api_live_judge_node(struct api *a, json_object *node);
/* Every node's stored status, judged ([{"node", "received", "age_ms",
 * "stale", "status"}], by name); *arr NULL on error (SP_ERR_*). */
int api_live_nodes(struct api *a, json_object **arr);
void api_h_sessions_live(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);
/* metrics.c: GET /metrics (Prometheus text format). */
void api_h_metrics(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);

/* purge.c, started and stopped by the two above. */
int api_purge_start(struct api *a, char *err, size_t errlen);
void api_purge_stop(struct api *a);

/* Endpoints (route table in handlers.c). */
void api_h_events_post(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);
void api_h_events_list(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);
void api_h_sessions_post(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);
void api_h_sessions_list(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);
void api_h_status_post(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);
void api_h_status_get(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);
/* crls.c: POST /v1/crls (the client's fetched CRLs), GET /v1/crls. */
void api_h_crls_post(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);
void api_h_crls_list(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);
void api_h_listeners_list(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);
void api_h_listener_set_tls(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);

/* ---- helpers of handlers.c ---- */

/* The request body as a JSON object; replies 4xx itself on failure. */
json_object *body_object(struct MHD_Connection *c, struct api_req *rq,
    struct api_reply *out);
/* A bodies.h validator's result: 0, or -1 with a 400 (500) reply. */
int body_verdict(int r, const char *err, struct api_reply *rp);
/* Member `key` as a string of minlen..maxlen; -1 with a 400 reply. */
int member_str(json_object *o, const char *key, bool req, size_t minlen,
    size_t maxlen, const char **out, struct api_reply *rp);
/* Query parameters: a time (normalised into out) or absent; `limit`. */
int api_query_time(struct MHD_Connection *c, const char *key, char out[21],
    const char **val, struct api_reply *rp);
int api_query_limit(struct MHD_Connection *c, int def, int max, int *out,
    struct api_reply *rp);
/* 500 internal, details only in the log. */
void internal(struct api_reply *out, const char *what, int r);

#endif
