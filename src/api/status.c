/*
 * status.c - POST/GET /v1/status: the latest proxy status as the client
 * reports it (connected or not, server address, Proxy ID, revision applied,
 * sessions), kept as one document that each report replaces (docs/api.md 5).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "api/ops.h"
#include "api/store_ops.h"
#include "core/err.h"
#include "core/log.h"

static bool
typed(json_object *o, const char *key, json_type t, bool nullable)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return true;
	return v == NULL ? nullable : json_object_is_type(v, t);
}

void
api_h_status_post(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	json_object *o, *v;
	const char *s;
	int r;

	if ((o = body_object(c, rq, out)) == NULL)
		return;
	if (!json_object_object_get_ex(o, "connected", &v) ||
	    !json_object_is_type(v, json_type_boolean)) {
		api_error(out, 400, "bad_request", "'connected' (boolean) is "
		    "required");
		goto done;
	}
	if (member_str(o, "server", false, 0, 80, &s, out) != 0 ||
	    member_str(o, "proxy_id", false, 0, 64, &s, out) != 0)
		goto done;
	if (!typed(o, "revision_applied", json_type_int, true) ||
	    !typed(o, "sessions", json_type_int, true) ||
	    !typed(o, "since", json_type_string, true)) {
		api_error(out, 400, "bad_request", "'revision_applied' and "
		    "'sessions' must be integers or null, 'since' a string");
		goto done;
	}
	pthread_mutex_lock(&a->dbmu);
	r = sp_store_status_set(a->st, json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), rq->token);
	pthread_mutex_unlock(&a->dbmu);
	if (r != 0) {
		internal(out, "status", r);
		goto done;
	}
	out->status = 204;
done:
	json_object_put(o);
}

void
api_h_status_get(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	json_object *st = NULL, *o;
	int64_t rev;
	int r;

	pthread_mutex_lock(&a->dbmu);
	r = sp_store_status_get(a->st, &st);
	pthread_mutex_unlock(&a->dbmu);
	if (r != 0) {
		internal(out, "status", r);
		return;
	}
	pthread_mutex_lock(&a->mu);
	rev = a->rev;
	pthread_mutex_unlock(&a->mu);
	o = json_object_new_object();
	json_object_object_add(o, "revision", json_object_new_int64(rev));
	json_object_object_add(o, "proxy", st);
	out->status = 200;
	out->body = o;
}
