/*
 * event_script.c - the event-script bridge: every critical record becomes an
 * event document for the backend, which runs the operator's event script
 * (docs/api.md, POST /v1/events).
 *
 * on_log sees each record of WARN and above after the modules before it in
 * the chain; so this module must come after log_ignore in the bootstrap file.
 * A record that is still CRIT with escalate set is turned into one JSON
 * document and handed to host->backend_post(NULL, "v1/events", ...): the core
 * sends it through the tunnel, or keeps it in its bounded outbox while the
 * tunnel is down and reports what it had to drop. The record itself is left
 * unchanged.
 *
 * The document (docs/api.md, "POST /v1/events"):
 *   {"type", "severity": "crit", "time", "time_ms", "category", "function",
 *    "message", "partner", "source_address", "session", "fields": {...}}
 * `type` is the record's `event` field when a module raised it with
 * host->event(), otherwise "log.<category>". partner, source_address and
 * session come from the fields "partner", "src" (or "peer") and "session",
 * null when absent.
 *
 * Ownership: nothing is kept between calls; the document is built and freed
 * within on_log. Threads: on_log may run on any logging thread and touches
 * only its arguments and the immutable module state.
 */
#include <smartproxy/module.h>

#include <json-c/json.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ES_PATH "v1/events"

struct es_mod {
	const struct sp_host *host;
};

static const char *
es_field(const struct sp_log_entry *rec, const char *key)
{
	const char *const *f;

	for (f = rec->fields; f != NULL && f[0] != NULL; f += 2)
		if (strcmp(f[0], key) == 0)
			return f[1] != NULL && f[1][0] != '\0' ? f[1] : NULL;
	return NULL;
}

static json_object *
es_str_or_null(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}

static void
es_time(int64_t ms, char *out, size_t outlen)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, outlen, "1970-01-01T00:00:00Z");
}

/* The event document of a record; NULL when out of memory. */
static json_object *
es_document(const struct sp_log_entry *rec)
{
	json_object *doc, *fields;
	const char *const *f;
	const char *type = es_field(rec, "event"), *src;
	char t[32], typebuf[96];

	if ((doc = json_object_new_object()) == NULL)
		return NULL;
	if ((fields = json_object_new_object()) == NULL) {
		json_object_put(doc);
		return NULL;
	}
	if (type == NULL) {
		snprintf(typebuf, sizeof(typebuf), "log.%s",
		    rec->category != NULL ? rec->category : "core");
		type = typebuf;
	}
	if ((src = es_field(rec, "src")) == NULL)
		src = es_field(rec, "peer");
	es_time(rec->time_ms, t, sizeof(t));
	json_object_object_add(doc, "type", json_object_new_string(type));
	json_object_object_add(doc, "severity", json_object_new_string("crit"));
	json_object_object_add(doc, "time", json_object_new_string(t));
	json_object_object_add(doc, "time_ms", json_object_new_int64(rec->time_ms));
	json_object_object_add(doc, "category", es_str_or_null(rec->category));
	json_object_object_add(doc, "function", es_str_or_null(rec->function));
	json_object_object_add(doc, "message",
	    json_object_new_string(rec->message != NULL ? rec->message : ""));
	json_object_object_add(doc, "partner", es_str_or_null(es_field(rec, "partner")));
	json_object_object_add(doc, "source_address", es_str_or_null(src));
	json_object_object_add(doc, "session", es_str_or_null(es_field(rec, "session")));
	for (f = rec->fields; f != NULL && f[0] != NULL; f += 2)
		json_object_object_add(fields, f[0],
		    json_object_new_string(f[1] != NULL ? f[1] : ""));
	json_object_object_add(doc, "fields", fields);
	return doc;
}

static void
es_on_log(void *mctx, struct sp_log_entry *rec)
{
	struct es_mod *m = mctx;
	json_object *doc;

	if (rec->level != SP_LEVEL_CRIT || !rec->escalate)
		return;
	if ((doc = es_document(rec)) == NULL) {
		m->host->log(NULL, SP_LEVEL_ERR, "event lost (out of memory): %s",
		    rec->message != NULL ? rec->message : "");
		return;
	}
	/* The core counts and reports what its outbox had to drop. */
	(void)m->host->backend_post(NULL, ES_PATH,
	    json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
}

static int
es_init(const struct sp_host *host, const struct sp_module_args *args,
    void **mctx)
{
	struct es_mod *m;

	if (host->struct_size < offsetof(struct sp_host, backend_post) +
	    sizeof(host->backend_post) || host->backend_post == NULL) {
		host->log(NULL, SP_LEVEL_ERR, "%s: this smartproxy cannot post "
		    "to the backend", args->name);
		return -ENOTSUP;
	}
	if (args->options != NULL && args->options[0] != NULL) {
		host->log(NULL, SP_LEVEL_ERR, "%s: unknown option '%s' (the "
		    "script is configured in the backend's api.yaml)", args->name,
		    args->options[0]);
		return -EINVAL;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -ENOMEM;
	m->host = host;
	*mctx = m;
	return 0;
}

static void
es_fini(void *mctx)
{
	free(mctx);
}

__attribute__((visibility("default")))
const struct sp_module sp_module_v1 = {
	SP_MODULE_HEADER,
	.name = "event_script",
	.version = "1.0",
	.init = es_init,
	.fini = es_fini,
	.on_log = es_on_log,
};
