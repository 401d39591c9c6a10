/*
 * status.c - POST/GET /v1/status: the latest proxy status as the client
 * reports it (connected or not, server address, Proxy ID, revision applied,
 * sessions), kept as one document that each report replaces (docs/api.md 5),
 * and one per DMZ node: the token its client reports with names the node.
 * GET adds how fresh each is (live.c): "stale" and "age_ms".
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "api/bodies.h"
#include "api/ops.h"
#include "api/store_ops.h"
#include "core/err.h"
#include "core/log.h"

static int64_t
sp_json_int64(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && v != NULL ?
	    json_object_get_int64(v) : 0;
}

void
api_h_status_post(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	json_object *o;
	char err[160];
	int r;

	if ((o = body_object(c, rq, out)) == NULL)
		return;
	if (body_verdict(sp_body_status(o, err, sizeof(err)), err, out) != 0)
		goto done;
	pthread_mutex_lock(&a->dbmu);
	r = sp_store_status_set(a->st, json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), rq->token);
	pthread_mutex_unlock(&a->dbmu);
	if (r != 0) {
		internal(out, "status", r);
		goto done;
	}
	api_live_note(a, rq->token, sp_json_int64(o, "heartbeat_ms"));
	out->status = 204;
done:
	json_object_put(o);
}

void
api_h_status_get(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	json_object *st = NULL, *nodes = NULL, *o;
	int64_t rev;
	int r;

	pthread_mutex_lock(&a->dbmu);
	r = sp_store_status_get(a->st, &st);
	pthread_mutex_unlock(&a->dbmu);
	if (r == 0)
		r = api_live_nodes(a, &nodes);
	if (r != 0) {
		json_object_put(st);
		internal(out, "status", r);
		return;
	}
	pthread_mutex_lock(&a->mu);
	rev = a->rev;
	pthread_mutex_unlock(&a->mu);
	(void)api_live_judge(a, st);
	o = json_object_new_object();
	json_object_object_add(o, "revision", json_object_new_int64(rev));
	json_object_object_add(o, "proxy", st);
	json_object_object_add(o, "nodes", nodes);
	out->status = 200;
	out->body = o;
}
