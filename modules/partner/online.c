/*
 * online.c - the partner module's online decision, the parts that need no
 * host: the question sent to the backend (host->backend_ask) once the local
 * SSID checks passed, and the reading of its answer (docs/api.md,
 * POST /v1/decisions/ssid). Anything but a well-formed 200 answer is "no
 * answer", which the caller turns into a refusal: the decision fails closed.
 *
 * Ownership: pm_online_question() returns a malloc'd string the caller
 * frees; pm_online_read() keeps nothing of what it reads.
 */
#include "partner.h"

#include <json-c/json.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PM_ANSWER_DEPTH 8       /* a decision is one flat object */

static json_object *
str_or_null(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}

char *
pm_online_question(const char *id, const char *addr, const char *cert_sha,
    const char *listener, const char *session)
{
	json_object *o = json_object_new_object();
	char *text = NULL;

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "odette_id", str_or_null(id));
	json_object_object_add(o, "source_address", str_or_null(addr));
	json_object_object_add(o, "certificate_sha256", str_or_null(cert_sha));
	json_object_object_add(o, "listener", str_or_null(listener));
	json_object_object_add(o, "session", str_or_null(session));
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return text;
}

/* The backend's words go into our log: printable ASCII, bounded, one line. */
static void
printable(const char *in, char *out, size_t n)
{
	size_t i;

	for (i = 0; in[i] != '\0' && i + 1 < n; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
}

enum pm_online_verdict
pm_online_read(int status, const char *body, char esid[3], char *detail,
    size_t detaillen)
{
	struct json_tokener *tok;
	json_object *o = NULL, *allow, *v;
	enum pm_online_verdict verdict = PM_ONLINE_NO_ANSWER;
	char why[101] = "";
	const char *e;

	snprintf(esid, 3, "08");
	if (status < 0) {
		snprintf(detail, detaillen, "no answer from the backend in time, "
		    "or no tunnel");
		return PM_ONLINE_NO_ANSWER;
	}
	if (status != 200) {
		snprintf(detail, detaillen, "the backend answered HTTP %d", status);
		return PM_ONLINE_NO_ANSWER;
	}
	if (body == NULL || (tok = json_tokener_new_ex(PM_ANSWER_DEPTH)) == NULL) {
		snprintf(detail, detaillen, "the backend's answer is empty");
		return PM_ONLINE_NO_ANSWER;
	}
	/* The client bounds the answer (and NUL-terminates it); so does this. */
	o = json_tokener_parse_ex(tok, body, (int)strnlen(body, 1u << 20) + 1);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "allow", &allow) ||
	    !json_object_is_type(allow, json_type_boolean)) {
		snprintf(detail, detaillen, "the backend's answer is no decision "
		    "(a JSON object with a boolean 'allow')");
		goto out;
	}
	if (json_object_object_get_ex(o, "reason", &v) &&
	    json_object_is_type(v, json_type_string))
		printable(json_object_get_string(v), why, sizeof(why));
	if (json_object_get_boolean(allow)) {
		snprintf(detail, detaillen, "allowed by the backend%s%s",
		    why[0] ? ": " : "", why);
		verdict = PM_ONLINE_ALLOW;
		goto out;
	}
	/* A refusal stays a refusal; only the ESID it names may fall back. */
	e = json_object_object_get_ex(o, "esid_reason", &v) &&
	    json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
	snprintf(esid, 3, "%s", strcmp(e, "04") == 0 || strcmp(e, "08") == 0 ?
	    e : "03");
	snprintf(detail, detaillen, "refused by the backend%s%s", why[0] ? ": " : "",
	    why);
	verdict = PM_ONLINE_REFUSE;
out:
	json_object_put(o);
	return verdict;
}
