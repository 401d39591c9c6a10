/*
 * live_body.c - the live part of a status report (docs/api.md 5.3): the
 * server's sessions and counters as the client relays them on its
 * heartbeat, and the client's own counters.
 *
 * The server in the DMZ is assumed compromised, so its snapshot is hostile.
 * The client runs sp_body_live() on the server's "live" message before
 * anything of it leaves, and smartproxy-api runs it again on every report;
 * both keep only the clean copy it builds: the documented members, of the
 * documented types, bounded in number and length. A member a newer server
 * adds is dropped (not refused), so old clients and backends keep working.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/bodies.h"
#include "core/err.h"

static int
bad(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "'live': %s", what);
	return SP_ERR_INVALID;
}

/* Copy member `key` if it is a string of at most `max` bytes (or null). */
static int
copy_str(json_object *from, json_object *to, const char *key, size_t max,
    char *err, size_t errlen)
{
	json_object *v;
	char what[96];

	if (!json_object_object_get_ex(from, key, &v) || v == NULL) {
		json_object_object_add(to, key, NULL);
		return SP_OK;
	}
	if (!json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) > max ||
	    strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v)) {
		snprintf(what, sizeof(what), "'%s' must be a string of at most %zu bytes", key, max);
		return bad(err, errlen, what);
	}
	json_object_object_add(to, key, json_object_new_string(json_object_get_string(v)));
	return SP_OK;
}

/* Copy member `key` if it is an integer >= 0 (absent: 0; null if allowed). */
static int
copy_count(json_object *from, json_object *to, const char *key, bool nullable,
    char *err, size_t errlen)
{
	json_object *v;
	char what[96];

	if (!json_object_object_get_ex(from, key, &v) || (v == NULL && nullable)) {
		json_object_object_add(to, key, nullable ? NULL : json_object_new_int64(0));
		return SP_OK;
	}
	if (v == NULL || !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0) {
		snprintf(what, sizeof(what), "'%s' must be an integer >= 0", key);
		return bad(err, errlen, what);
	}
	json_object_object_add(to, key, json_object_new_int64(json_object_get_int64(v)));
	return SP_OK;
}

static bool
name_ok(const char *k)
{
	size_t n = strlen(k), i;

	if (n == 0 || n > SP_BODY_LIVE_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') ||
		    (k[i] >= '0' && k[i] <= '9') || k[i] == '_' || k[i] == '-' || k[i] == '.'))
			return false;
	return true;
}

/* A table of named counters: {"normal": 3, "tls_failed": 1}. */
static int
copy_named(json_object *from, json_object *to, const char *key, char *err,
    size_t errlen)
{
	json_object *v, *o;
	size_t n = 0;

	if (!json_object_object_get_ex(from, key, &v) || v == NULL) {
		json_object_object_add(to, key, json_object_new_object());
		return SP_OK;
	}
	if (!json_object_is_type(v, json_type_object))
		return bad(err, errlen, "a counter table must be an object");
	o = json_object_new_object();
	json_object_object_add(to, key, o);
	json_object_object_foreach(v, k, val) {
		if (++n > SP_BODY_LIVE_NAMES_MAX || !name_ok(k) || val == NULL ||
		    !json_object_is_type(val, json_type_int) || json_object_get_int64(val) < 0)
			return bad(err, errlen, "a counter table holds at most 32 "
			    "names of [A-Za-z0-9_.-]{1,31} with integers >= 0");
		json_object_object_add(o, k, json_object_new_int64(json_object_get_int64(val)));
	}
	return SP_OK;
}

static int
copy_file(json_object *from, json_object *to, char *err, size_t errlen)
{
	json_object *v, *f;
	int r;

	if (!json_object_object_get_ex(from, "file", &v) || v == NULL) {
		json_object_object_add(to, "file", NULL);
		return SP_OK;
	}
	if (!json_object_is_type(v, json_type_object))
		return bad(err, errlen, "'file' must be an object or null");
	f = json_object_new_object();
	json_object_object_add(to, "file", f);
	if ((r = copy_str(v, f, "name", 64, err, errlen)) != 0 ||
	    (r = copy_str(v, f, "direction", 16, err, errlen)) != 0 ||
	    (r = copy_count(v, f, "size_kib", false, err, errlen)) != 0 ||
	    (r = copy_count(v, f, "restart_offset", false, err, errlen)) != 0 ||
	    (r = copy_count(v, f, "octets", false, err, errlen)) != 0)
		return r;
	return SP_OK;
}

static int
copy_session(json_object *from, json_object *arr, char *err, size_t errlen)
{
	json_object *o;
	json_object *id;
	int r;

	if (from == NULL || !json_object_is_type(from, json_type_object))
		return bad(err, errlen, "every session must be an object");
	if (!json_object_object_get_ex(from, "session", &id) || id == NULL)
		return bad(err, errlen, "every session needs 'session'");
	o = json_object_new_object();
	json_object_array_add(arr, o);
	if ((r = copy_str(from, o, "session", 64, err, errlen)) != 0 ||
	    (r = copy_str(from, o, "direction", 16, err, errlen)) != 0 ||
	    (r = copy_str(from, o, "via", 64, err, errlen)) != 0 ||
	    (r = copy_str(from, o, "partner", 64, err, errlen)) != 0 ||
	    (r = copy_str(from, o, "source_address", 64, err, errlen)) != 0 ||
	    (r = copy_str(from, o, "state", 16, err, errlen)) != 0 ||
	    (r = copy_str(from, o, "started", 32, err, errlen)) != 0 ||
	    (r = copy_count(from, o, "bytes_from_partner", false, err, errlen)) != 0 ||
	    (r = copy_count(from, o, "bytes_to_partner", false, err, errlen)) != 0 ||
	    (r = copy_count(from, o, "files_done", false, err, errlen)) != 0 ||
	    (r = copy_file(from, o, err, errlen)) != 0)
		return r;
	return SP_OK;
}

static int
copy_counters(json_object *from, json_object *to, char *err, size_t errlen)
{
	json_object *v, *c;
	int r;

	if (!json_object_object_get_ex(from, "counters", &v) || v == NULL ||
	    !json_object_is_type(v, json_type_object))
		return bad(err, errlen, "'counters' (object) is required");
	c = json_object_new_object();
	json_object_object_add(to, "counters", c);
	if ((r = copy_count(v, c, "sessions_active", false, err, errlen)) != 0 ||
	    (r = copy_count(v, c, "sessions_started", false, err, errlen)) != 0 ||
	    (r = copy_count(v, c, "bytes_from_partner", false, err, errlen)) != 0 ||
	    (r = copy_count(v, c, "bytes_to_partner", false, err, errlen)) != 0 ||
	    (r = copy_count(v, c, "revision_active", true, err, errlen)) != 0 ||
	    (r = copy_named(v, c, "sessions_ended", err, errlen)) != 0 ||
	    (r = copy_named(v, c, "esid_sent", err, errlen)) != 0 ||
	    (r = copy_named(v, c, "security_events", err, errlen)) != 0 ||
	    (r = copy_named(v, c, "files", err, errlen)) != 0 ||
	    (r = copy_named(v, c, "files_failed", err, errlen)) != 0)
		return r;
	return SP_OK;
}

int
sp_body_live(json_object *in, json_object **clean, char *err, size_t errlen)
{
	json_object *out, *v, *arr;
	size_t i, n;
	int r;

	*clean = NULL;
	if (in == NULL || !json_object_is_type(in, json_type_object))
		return bad(err, errlen, "must be an object");
	if (!json_object_object_get_ex(in, "sessions", &v) || v == NULL ||
	    !json_object_is_type(v, json_type_array))
		return bad(err, errlen, "'sessions' (array) is required");
	if ((n = json_object_array_length(v)) > SP_BODY_LIVE_SESSIONS_MAX)
		return bad(err, errlen, "more than 200 sessions listed");
	if ((out = json_object_new_object()) == NULL)
		return SP_ERR_NOMEM;
	arr = json_object_new_array();
	json_object_object_add(out, "sessions", arr);
	for (i = 0; i < n; i++)
		if ((r = copy_session(json_object_array_get_idx(v, i), arr, err, errlen)) != 0)
			goto fail;
	if ((r = copy_count(in, out, "sessions_total", false, err, errlen)) != 0 ||
	    (r = copy_counters(in, out, err, errlen)) != 0)
		goto fail;
	if (json_object_object_get_ex(out, "sessions_total", &v) &&
	    json_object_get_int64(v) < (int64_t)n) {
		r = bad(err, errlen, "'sessions_total' is below the sessions listed");
		goto fail;
	}
	*clean = out;
	return SP_OK;
fail:
	json_object_put(out);
	return r;
}

/* The client's own counters: tunnel and backend request latency. */
int
sp_body_client_counters(json_object *in, json_object **clean, char *err,
    size_t errlen)
{
	json_object *out, *h, *v, *b;
	size_t i, n;
	int r;
	static const char *arrays[] = { "buckets_ms", "counts" };

	*clean = NULL;
	if (in == NULL || !json_object_is_type(in, json_type_object)) {
		snprintf(err, errlen, "'client' must be an object");
		return SP_ERR_INVALID;
	}
	out = json_object_new_object();
	if ((r = copy_count(in, out, "tunnel_connects", false, err, errlen)) != 0 ||
	    (r = copy_count(in, out, "backend_failures", false, err, errlen)) != 0)
		goto fail;
	json_object_object_add(out, "tunnel_up", json_object_new_boolean(
	    json_object_object_get_ex(in, "tunnel_up", &v) && v != NULL &&
	    json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v)));
	if (json_object_object_get_ex(in, "backend_requests", &h) && h != NULL) {
		json_object *ho = json_object_new_object();
		size_t len[2] = { 0, 0 }, k;

		json_object_object_add(out, "backend_requests", ho);
		if (!json_object_is_type(h, json_type_object) ||
		    (r = copy_count(h, ho, "count", false, err, errlen)) != 0 ||
		    (r = copy_count(h, ho, "sum_ms", false, err, errlen)) != 0) {
			if (r == 0)
				r = bad(err, errlen, "'client.backend_requests' must be an object");
			goto fail;
		}
		for (k = 0; k < 2; k++) {
			if (!json_object_object_get_ex(h, arrays[k], &v) || v == NULL ||
			    !json_object_is_type(v, json_type_array) ||
			    (n = json_object_array_length(v)) > SP_BODY_LIVE_BUCKETS_MAX) {
				r = bad(err, errlen, "'client.backend_requests' needs arrays "
				    "'buckets_ms' and 'counts' of at most 32 integers");
				goto fail;
			}
			b = json_object_new_array();
			json_object_object_add(ho, arrays[k], b);
			for (i = 0; i < n; i++) {
				json_object *e = json_object_array_get_idx(v, i);
				if (e == NULL || !json_object_is_type(e, json_type_int) ||
				    json_object_get_int64(e) < 0) {
					r = bad(err, errlen, "'client.backend_requests' arrays "
					    "hold integers >= 0");
					goto fail;
				}
				json_object_array_add(b, json_object_new_int64(json_object_get_int64(e)));
			}
			len[k] = n;
		}
		if (len[0] != len[1]) {
			r = bad(err, errlen, "'buckets_ms' and 'counts' differ in length");
			goto fail;
		}
	}
	*clean = out;
	return SP_OK;
fail:
	json_object_put(out);
	return r;
}
