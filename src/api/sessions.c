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

#include "api/ops.h"
#include "api/store_ops.h"
#include "core/err.h"
#include "core/log.h"

#define SESSIONS_LIST_MAX 1000
#define FILES_MAX 10000

static bool
type_ok(json_object *o, const char *key, json_type t, bool nullable)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return true;
	if (v == NULL)
		return nullable;
	return json_object_is_type(v, t);
}

/* 0, or -1 with a 400 in `out`. */
static int
check_record(json_object *o, struct api_reply *out)
{
	static const char *const counters[] = { "bytes_from_partner",
	    "bytes_to_partner", "duration_ms" };
	static const char *const texts[] = { "direction", "listener",
	    "source_address", "tls_version", "tls_cipher", "started",
	    "end_reason", "end_text" };
	const char *s;
	json_object *files, *v;
	char t[21];
	size_t i, n;

	if (member_str(o, "session", true, 1, 64, &s, out) != 0 ||
	    member_str(o, "partner", false, 0, 64, &s, out) != 0 ||
	    member_str(o, "ended", true, 1, 40, &s, out) != 0)
		return -1;
	if (sp_site_time_normalise(s, t) != 0) {
		api_error(out, 400, "bad_request", "'ended' must be a time "
		    "YYYY-MM-DDTHH:MM:SSZ");
		return -1;
	}
	json_object_object_add(o, "ended", json_object_new_string(t));
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (!type_ok(o, texts[i], json_type_string, true)) {
			api_error(out, 400, "bad_request", "'%s' must be a string",
			    texts[i]);
			return -1;
		}
	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		if (!type_ok(o, counters[i], json_type_int, false) ||
		    (json_object_object_get_ex(o, counters[i], &v) &&
		    json_object_get_int64(v) < 0)) {
			api_error(out, 400, "bad_request", "'%s' must be an "
			    "integer >= 0", counters[i]);
			return -1;
		}
	if (!json_object_object_get_ex(o, "files", &files) || files == NULL)
		return 0;
	if (!json_object_is_type(files, json_type_array) ||
	    (n = json_object_array_length(files)) > FILES_MAX) {
		api_error(out, 400, "bad_request", "'files' must be an array of at "
		    "most %d objects", FILES_MAX);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (!json_object_is_type(json_object_array_get_idx(files, i),
		    json_type_object)) {
			api_error(out, 400, "bad_request", "'files[%zu]' must be "
			    "an object", i);
			return -1;
		}
	return 0;
}

void
api_h_sessions_post(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out)
{
	json_object *o, *res;
	int64_t id = 0;
	int r;

	if ((o = body_object(c, rq, out)) == NULL)
		return;
	if (check_record(o, out) != 0)
		goto done;
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
