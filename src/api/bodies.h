/*
 * bodies.h - validation of the request bodies smartproxy-api takes from the
 * proxy (docs/api.md 5.1-5.3, 5.5 and 5.6): POST /v1/events,
 * /v1/sessions, /v1/status, /v1/decisions/ssid and /v1/blocks. The server in the DMZ is assumed
 * compromisable and the client posts what it is handed, so these bytes are
 * hostile: they are parsed and checked here, apart from the HTTP daemon, so
 * that the fuzz target (tests/fuzz/fuzz_api_bodies.c) runs the very code the
 * handlers run.
 *
 * Every function returns SP_OK, or SP_ERR_INVALID with one line for the
 * 400 answer in `err` (naming the member), or SP_ERR_NOMEM.
 *
 * Ownership: sp_body_parse() hands out a new json-c object (the caller puts
 * it). The strings the validators hand out point into that object and live
 * as long as it does; sp_body_session() may replace members of the object
 * (the normalised `ended`).
 */
#ifndef SP_API_BODIES_H
#define SP_API_BODIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define SP_BODY_MAX_DEPTH 32
#define SP_BODY_EVENT_MESSAGE_MAX 2048
#define SP_BODY_SESSION_FILES_MAX 10000

/* Write the 400 line into err and return SP_ERR_INVALID: every body
 * validator's one way to refuse. */
int sp_body_invalid(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Exactly one JSON object (strict RFC 8259 syntax), nesting at most
 * SP_BODY_MAX_DEPTH, then only whitespace. */
int sp_body_parse(const void *data, size_t len, json_object **out, char *err,
    size_t errlen);

/*
 * Member `key` of `o` as a string of minlen..maxlen bytes without NUL.
 * *out is NULL when the member is absent or null (an error when `req`).
 */
int sp_body_str(json_object *o, const char *key, bool req, size_t minlen,
    size_t maxlen, const char **out, char *err, size_t errlen);

/* POST /v1/events: the members the event script sees (NULL: absent). */
struct sp_body_event {
	const char *type, *severity, *time, *message, *partner,
	    *source_address, *session;
};
int sp_body_event(json_object *o, struct sp_body_event *ev, char *err,
    size_t errlen);

/* POST /v1/sessions: checks the record and normalises its `ended`. */
int sp_body_session(json_object *o, char *err, size_t errlen);

/* POST /v1/status. Replaces the members "live" and "client" by the clean
 * copies of the two functions below. */
int sp_body_status(json_object *o, char *err, size_t errlen);

/*
 * live_body.c: the live part of a status report (docs/api.md 5.3). On
 * SP_OK *clean is a new object (the caller puts it) holding only the
 * documented members of `in`, checked and bounded; else *clean is NULL.
 * The client runs sp_body_live() on the server's "live" message, the api
 * on every report.
 */
#define SP_BODY_LIVE_SESSIONS_MAX 200
#define SP_BODY_LIVE_NAMES_MAX 32
#define SP_BODY_LIVE_NAME_MAX 31
#define SP_BODY_LIVE_BUCKETS_MAX 32
int sp_body_live(json_object *in, json_object **clean, char *err,
    size_t errlen);
/* The client's own counters ("client"): tunnel, backend request latency. */
int sp_body_client_counters(json_object *in, json_object **clean, char *err,
    size_t errlen);

/* POST /v1/decisions/ssid: the question (NULL: absent or null). */
struct sp_body_question {
	const char *odette_id, *source_address, *certificate_sha256,
	    *listener, *session;
};
int sp_body_question(json_object *o, struct sp_body_question *q, char *err,
    size_t errlen);

/* POST /v1/blocks: a brake block the partner module reports (blocks.h). */
struct sp_body_block {
	const char *address;
	char blocked_until[21];                 /* normalised */
	int64_t failures, window_ms, block_ms;  /* 0 when absent */
};
int sp_body_block(json_object *o, struct sp_body_block *b, char *err,
    size_t errlen);

/* PUT /v1/partners/<id>/oftp2: switch names of the oftp2 module (api/oftp2.h)
 * each true, false or null. */
int sp_body_oftp2_switches(json_object *o, char *err, size_t errlen);

#endif
