/*
 * bodies.c - validation of the bodies the proxy posts to smartproxy-api
 * (bodies.h). The handlers (events.c, sessions.c, status.c, decide.c) turn a
 * failure into 400 bad_request with the message written here.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/bodies.h"
#include "api/oftp2.h"
#include "api/site.h"
#include "core/err.h"
#include "core/log.h"

int
sp_body_invalid(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return SP_ERR_INVALID;
}

int
sp_body_parse(const void *data, size_t len, json_object **out, char *err,
    size_t errlen)
{
	const char *p = data;
	struct json_tokener *tok;
	enum json_tokener_error e;
	json_object *o;
	size_t used;

	*out = NULL;
	if (len > (size_t)INT32_MAX)
		return sp_body_invalid(err, errlen, "the body is too large");
	if ((tok = json_tokener_new_ex(SP_BODY_MAX_DEPTH)) == NULL)
		return SP_ERR_NOMEM;
	/*
	 * Strict: json-c's lenient mode takes what no other parser does
	 * (leading zeros like 04, NaN, single quotes, comments) and writes
	 * such numbers back as it read them, so a posted status or session
	 * record would make GET /v1/status and /v1/sessions answer text that
	 * is not JSON to everyone else (found by fuzz_api_bodies).
	 */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, p, (int)len);
	e = json_tokener_get_error(tok);
	used = (size_t)json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (o == NULL || e != json_tokener_success) {
		json_object_put(o);
		/* A body that ends inside the value is "continue", not an error
		 * to json-c; to us it is malformed all the same. */
		return sp_body_invalid(err, errlen, "malformed JSON: %s",
		    json_tokener_error_desc(e == json_tokener_success ?
		    json_tokener_continue : e));
	}
	for (; used < len; used++)
		if (strchr(" \t\r\n", p[used]) == NULL || p[used] == '\0')
			break;
	if (used < len || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return sp_body_invalid(err, errlen, "the body must be one JSON object");
	}
	*out = o;
	return SP_OK;
}

int
sp_body_str(json_object *o, const char *key, bool req, size_t minlen,
    size_t maxlen, const char **out, char *err, size_t errlen)
{
	json_object *v;
	size_t n;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL) {
		if (req)
			return sp_body_invalid(err, errlen, "'%s' is required", key);
		return SP_OK;
	}
	if (!json_object_is_type(v, json_type_string))
		return sp_body_invalid(err, errlen, "'%s' must be a string", key);
	*out = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n != strlen(*out) || n < minlen || n > maxlen) {
		*out = NULL;
		return sp_body_invalid(err, errlen, "'%s' must have %zu to %zu "
		    "characters", key, minlen, maxlen);
	}
	return SP_OK;
}

/* Absent, or of type t (null allowed when `nullable`). */
static bool
typed(json_object *o, const char *key, json_type t, bool nullable)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return true;
	if (v == NULL)
		return nullable;
	return json_object_is_type(v, t);
}

/* ---- POST /v1/events ---- */

static bool
valid_type(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

int
sp_body_event(json_object *o, struct sp_body_event *ev, char *err,
    size_t errlen)
{
	int level, r;

	memset(ev, 0, sizeof(*ev));
	if ((r = sp_body_str(o, "type", true, 1, 64, &ev->type, err,
	    errlen)) != 0 ||
	    (r = sp_body_str(o, "severity", false, 1, 16, &ev->severity, err,
	    errlen)) != 0 ||
	    (r = sp_body_str(o, "time", false, 1, 40, &ev->time, err,
	    errlen)) != 0 ||
	    (r = sp_body_str(o, "message", true, 0, SP_BODY_EVENT_MESSAGE_MAX,
	    &ev->message, err, errlen)) != 0 ||
	    (r = sp_body_str(o, "partner", false, 0, 64, &ev->partner, err,
	    errlen)) != 0 ||
	    (r = sp_body_str(o, "source_address", false, 0, 64,
	    &ev->source_address, err, errlen)) != 0 ||
	    (r = sp_body_str(o, "session", false, 0, 64, &ev->session, err,
	    errlen)) != 0)
		return r;
	if (!valid_type(ev->type))
		return sp_body_invalid(err, errlen, "'type' must be 1 to 64 of "
		    "A-Z a-z 0-9 _ . -");
	if (ev->severity != NULL &&
	    sp_log_level_from_name(ev->severity, &level) != 0)
		return sp_body_invalid(err, errlen, "'severity' must be one of "
		    "debug info notice warn err crit");
	return SP_OK;
}

/* ---- POST /v1/sessions ---- */

int
sp_body_session(json_object *o, char *err, size_t errlen)
{
	static const char *const counters[] = { "bytes_from_partner",
	    "bytes_to_partner", "duration_ms" };
	static const char *const texts[] = { "direction", "listener",
	    "source_address", "tls_version", "tls_cipher", "started",
	    "end_reason", "end_text" };
	const char *s;
	json_object *files, *v, *t_obj;
	char t[21];
	size_t i, n;
	int r;

	if ((r = sp_body_str(o, "session", true, 1, 64, &s, err, errlen)) != 0 ||
	    (r = sp_body_str(o, "partner", false, 0, 64, &s, err, errlen)) != 0 ||
	    (r = sp_body_str(o, "ended", true, 1, 40, &s, err, errlen)) != 0)
		return r;
	if (sp_site_time_normalise(s, t) != 0)
		return sp_body_invalid(err, errlen, "'ended' must be a time "
		    "YYYY-MM-DDTHH:MM:SSZ");
	if ((t_obj = json_object_new_string(t)) == NULL)
		return SP_ERR_NOMEM;
	json_object_object_add(o, "ended", t_obj);
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (!typed(o, texts[i], json_type_string, true))
			return sp_body_invalid(err, errlen, "'%s' must be a string",
			    texts[i]);
	/* The ESID that ended the session (optional, both or neither). */
	if ((r = sp_body_str(o, "esid", false, 2, 2, &s, err, errlen)) != 0)
		return r;
	if (s != NULL && (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9'))
		return sp_body_invalid(err, errlen, "'esid' must be two digits");
	if ((r = sp_body_str(o, "esid_from", s != NULL, 1, 8, &s, err,
	    errlen)) != 0)
		return r;
	if (s != NULL && strcmp(s, "partner") != 0 && strcmp(s, "inside") != 0 &&
	    strcmp(s, "proxy") != 0)
		return sp_body_invalid(err, errlen, "'esid_from' must be partner, inside "
		    "or proxy");
	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		if (!typed(o, counters[i], json_type_int, false) ||
		    (json_object_object_get_ex(o, counters[i], &v) &&
		    json_object_get_int64(v) < 0))
			return sp_body_invalid(err, errlen, "'%s' must be an integer "
			    ">= 0", counters[i]);
	if (!json_object_object_get_ex(o, "files", &files) || files == NULL)
		return SP_OK;
	if (!json_object_is_type(files, json_type_array) ||
	    (n = json_object_array_length(files)) > SP_BODY_SESSION_FILES_MAX)
		return sp_body_invalid(err, errlen, "'files' must be an array of at "
		    "most %d objects", SP_BODY_SESSION_FILES_MAX);
	for (i = 0; i < n; i++)
		if (!json_object_is_type(json_object_array_get_idx(files, i),
		    json_type_object))
			return sp_body_invalid(err, errlen, "'files[%zu]' must be an "
			    "object", i);
	return SP_OK;
}

/* ---- POST /v1/status ---- */

int
sp_body_status(json_object *o, char *err, size_t errlen)
{
	json_object *v;
	const char *s;
	int r;

	if (!json_object_object_get_ex(o, "connected", &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return sp_body_invalid(err, errlen, "'connected' (boolean) is required");
	if ((r = sp_body_str(o, "server", false, 0, 80, &s, err, errlen)) != 0 ||
	    (r = sp_body_str(o, "proxy_id", false, 0, 64, &s, err,
	    errlen)) != 0)
		return r;
	if (!typed(o, "revision_applied", json_type_int, true) ||
	    !typed(o, "sessions", json_type_int, true) ||
	    !typed(o, "since", json_type_string, true))
		return sp_body_invalid(err, errlen, "'revision_applied' and 'sessions' "
		    "must be integers or null, 'since' a string");
	if (!typed(o, "heartbeat_ms", json_type_int, true) ||
	    (json_object_object_get_ex(o, "heartbeat_ms", &v) && v != NULL &&
	    (json_object_get_int64(v) < 1000 || json_object_get_int64(v) > 300000)))
		return sp_body_invalid(err, errlen, "'heartbeat_ms' must be an integer "
		    "of 1000..300000 or null");
	/* The DMZ's snapshot and the client's counters: clean copies only. */
	if (json_object_object_get_ex(o, "live", &v) && v != NULL) {
		json_object *clean;

		if ((r = sp_body_live(v, &clean, err, errlen)) != 0)
			return r;
		json_object_object_add(o, "live", clean);
	}
	if (json_object_object_get_ex(o, "client", &v) && v != NULL) {
		json_object *clean;

		if ((r = sp_body_client_counters(v, &clean, err, errlen)) != 0)
			return r;
		json_object_object_add(o, "client", clean);
	}
	return SP_OK;
}

/* ---- POST /v1/decisions/ssid ---- */

int
sp_body_question(json_object *o, struct sp_body_question *q, char *err,
    size_t errlen)
{
	int r;

	memset(q, 0, sizeof(*q));
	if ((r = sp_body_str(o, "odette_id", true, 1, 25, &q->odette_id, err,
	    errlen)) != 0 ||
	    (r = sp_body_str(o, "source_address", false, 0, 64,
	    &q->source_address, err, errlen)) != 0 ||
	    (r = sp_body_str(o, "certificate_sha256", false, 0, 64,
	    &q->certificate_sha256, err, errlen)) != 0 ||
	    (r = sp_body_str(o, "listener", false, 0, 64, &q->listener, err,
	    errlen)) != 0 ||
	    (r = sp_body_str(o, "session", false, 0, 64, &q->session, err,
	    errlen)) != 0)
		return r;
	if (sp_site_valid_odette_id(q->odette_id) != 0)
		return sp_body_invalid(err, errlen, "'odette_id' must be 1 to 25 of A-Z "
		    "and 0-9");
	return SP_OK;
}

/* ---- POST /v1/blocks ---- */

int
sp_body_block(json_object *o, struct sp_body_block *b, char *err,
    size_t errlen)
{
	static const char *const counters[] = { "failures", "window_ms",
		"block_ms" };
	int64_t *outs[] = { &b->failures, &b->window_ms, &b->block_ms };
	json_object *v;
	const char *until;
	size_t i;
	int r;

	memset(b, 0, sizeof(*b));
	if ((r = sp_body_str(o, "address", true, 1, 45, &b->address, err,
	    errlen)) != 0 ||
	    (r = sp_body_str(o, "blocked_until", true, 1, 32, &until, err,
	    errlen)) != 0)
		return r;
	/* A numeric address of the proxy's own making: nothing else. */
	if (strspn(b->address, "0123456789abcdefABCDEF.:") != strlen(b->address))
		return sp_body_invalid(err, errlen, "'address' must be a numeric address");
	if (sp_site_time_normalise(until, b->blocked_until) != 0)
		return sp_body_invalid(err, errlen, "'blocked_until' must be a time "
		    "YYYY-MM-DDTHH:MM:SSZ");
	for (i = 0; i < 3; i++) {
		if (!json_object_object_get_ex(o, counters[i], &v) || v == NULL)
			continue;
		if (!json_object_is_type(v, json_type_int) ||
		    (*outs[i] = json_object_get_int64(v)) < 0)
			return sp_body_invalid(err, errlen, "'%s' must be an integer >= 0",
			    counters[i]);
	}
	return SP_OK;
}

/* ---- PUT /v1/partners/<id>/oftp2 ---- */

int
sp_body_oftp2_switches(json_object *o, char *err, size_t errlen)
{
	const char *why;

	if (!json_object_is_type(o, json_type_object))
		return sp_body_invalid(err, errlen, "expected a JSON object");
	/* Checked whole: the module refuses a revision with a bad key, which
	 * would stop every later change from reaching the proxy. */
	json_object_object_foreach(o, key, v) {
		if ((why = sp_oftp2_switch_problem(key)) != NULL)
			return sp_body_invalid(err, errlen, "'%.64s' %s", key, why);
		if (v != NULL && !json_object_is_type(v, json_type_boolean))
			return sp_body_invalid(err, errlen, "'%.64s' must be true, false "
			    "or null", key);
	}
	return SP_OK;
}
