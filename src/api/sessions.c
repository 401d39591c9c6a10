/*
 * sessions.c - POST/GET /v1/sessions: the audit record smartproxy-server
 * sends at the end of every session (through the client), stored as it came
 * and listed by partner and time (docs/api.md 5).
 *
 * Validation checks the members the list depends on and the types of the
 * documented ones; members a newer proxy adds are kept unchanged.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "api/bodies.h"
#include "api/ops.h"
#include "api/store_ops.h"
#include "core/err.h"
#include "core/log.h"

#define SESSIONS_LIST_MAX 1000

void
api_h_sessions_post(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out)
{
	json_object *o, *res;
	int64_t id = 0;
	char err[160];
	int r;

	if ((o = body_object(c, rq, out)) == NULL)
		return;
	if (body_verdict(sp_body_session(o, err, sizeof(err)), err, out) != 0)
		goto done;
	/*
	 * The DMZ node the record comes from is the token its client used (one
	 * client, one token per node: docs/deployment.md); whatever `node` the
	 * DMZ wrote itself is replaced, since a DMZ must not name another.
	 */
	json_object_object_add(o, "node", rq->token != NULL ?
	    json_object_new_string(rq->token) : NULL);
	pthread_mutex_lock(&a->dbmu);
	r = sp_store_session_add(a->st, o, rq->token, &id);
	pthread_mutex_unlock(&a->dbmu);
	if (r != 0) {
		internal(out, "session audit", r);
		goto done;
	}
	res = json_object_new_object();
	json_object_object_add(res, "id", json_object_new_int64(id));
	out->status = 201;
	out->body = res;
done:
	json_object_put(o);
}

void
api_h_sessions_list(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out)
{
	const char *partner = MHD_lookup_connection_value(c,
	    MHD_GET_ARGUMENT_KIND, "partner"), *since, *until;
	json_object *arr = NULL, *o;
	char sbuf[21], ubuf[21];
	int limit, r;

	if (partner != NULL && (partner[0] == '\0' || strlen(partner) > 64)) {
		api_error(out, 400, "bad_request", "'partner' must be 1 to 64 "
		    "characters");
		return;
	}
	if (api_query_time(c, "since", sbuf, &since, out) != 0 ||
	    api_query_time(c, "until", ubuf, &until, out) != 0 ||
	    api_query_limit(c, 100, SESSIONS_LIST_MAX, &limit, out) != 0)
		return;
	pthread_mutex_lock(&a->dbmu);
	r = sp_store_sessions(a->st, partner, since, until, limit, &arr);
	pthread_mutex_unlock(&a->dbmu);
	if (r != 0) {
		internal(out, "sessions", r);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "sessions", arr);
	out->status = 200;
	out->body = o;
}
