/*
 * fuzz_api_bodies.c - libFuzzer target for the request bodies smartproxy-api
 * takes from the proxy (src/api/bodies.c): POST /v1/events, /v1/sessions,
 * /v1/status, /v1/decisions/ssid and /v1/blocks (the DMZ server is assumed
 * compromised, so every byte of these bodies is hostile), and an operator's
 * PUT /v1/partners/<id>/oftp2.
 *
 * Input: the first octet picks the endpoint (modulo 6: events, sessions,
 * status, decision, block, oftp2 switches), the rest is the body, run through the handlers' own
 * parse and validation. Besides the sanitizers, what is checked: a body
 * that passed is stored as the store does (plain JSON text) and must come
 * back from that text as an object that passes again with the same verdict
 * and the same strings (the listings and the event script read it back),
 * and that text must be JSON a strict parser accepts (no NaN/Infinity that
 * other consumers of GET /v1/sessions and /v1/status would choke on).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/bodies.h"
#include "core/err.h"

enum { EP_EVENTS, EP_SESSIONS, EP_STATUS, EP_DECISION, EP_BLOCK, EP_OFTP2, EP_COUNT };

static int
validate(int ep, json_object *o, const char **key, char *err, size_t errlen)
{
	struct sp_body_event ev;
	struct sp_body_question q;
	struct sp_body_block b;
	int r;

	*key = NULL;
	switch (ep) {
	case EP_EVENTS:
		r = sp_body_event(o, &ev, err, errlen);
		*key = ev.message;
		return r;
	case EP_SESSIONS:
		return sp_body_session(o, err, errlen);
	case EP_STATUS:
		return sp_body_status(o, err, errlen);
	case EP_BLOCK:
		r = sp_body_block(o, &b, err, errlen);
		*key = b.address;
		return r;
	case EP_OFTP2:
		return sp_body_oftp2_switches(o, err, errlen);
	default:
		r = sp_body_question(o, &q, err, errlen);
		*key = q.odette_id;
		return r;
	}
}

static void
fail(const char *what, const char *text)
{
	fprintf(stderr, "fuzz_api_bodies: %s: %.300s\n", what, text);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *o = NULL, *back = NULL, *strict = NULL;
	struct json_tokener *tok;
	const char *text, *k1, *k2;
	char err[160], err2[160];
	int ep, r;

	if (size < 1)
		return 0;
	ep = data[0] % EP_COUNT;
	err[0] = '\0';
	r = sp_body_parse(data + 1, size - 1, &o, err, sizeof(err));
	if (r != 0) {
		if (o != NULL || r != SP_ERR_INVALID || err[0] == '\0')
			fail("parse: error without its message", err);
		return 0;
	}
	err[0] = '\0';
	r = validate(ep, o, &k1, err, sizeof(err));
	if (r != 0) {
		if (r != SP_ERR_INVALID || err[0] == '\0')
			fail("validation: error without its message", err);
		json_object_put(o);
		return 0;
	}
	/* As the store keeps it, and as the listings read it back. */
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (sp_body_parse(text, strlen(text), &back, err2, sizeof(err2)) != 0)
		fail("stored text does not parse back", text);
	if (validate(ep, back, &k2, err2, sizeof(err2)) != 0)
		fail("stored record no longer valid", err2);
	if ((k1 == NULL) != (k2 == NULL) || (k1 && strcmp(k1, k2) != 0))
		fail("stored record changed", text);
	if ((tok = json_tokener_new_ex(SP_BODY_MAX_DEPTH)) == NULL)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	strict = json_tokener_parse_ex(tok, text, (int)strlen(text));
	if (strict == NULL ||
	    json_tokener_get_error(tok) != json_tokener_success)
		fail("stored text is not strict JSON", text);
	json_tokener_free(tok);
	json_object_put(strict);
	json_object_put(back);
	json_object_put(o);
	return 0;
}
