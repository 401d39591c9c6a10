/*
 * dmz.c - what the server in the DMZ may have the client send to the
 * backend. The server is assumed compromised (docs/threat-model.md 3.2), and
 * the client's token is a bearer token the backend trusts, so the client
 * forwards only the lines of the DMZ surface (src/api/surface.c: audit
 * records, events, the SSID question), each body checked by the validator
 * smartproxy-api itself runs, before it leaves. Anything else is dropped,
 * written as one `server_request_refused` security line per request, and
 * reported to the backend as an event: at once for the first refusal, then
 * at most one event per REPORT_EVERY_MS carrying how many were refused, so a
 * flood of refusals cannot become a flood of event scripts.
 */
#include "api/surface.h"
#include "client/client.h"
#include "core/err.h"
#include "core/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define REPORT_EVERY_MS 60000

static void
report(struct client *cl, const char *last)
{
	json_object *ev = json_object_new_object();
	char t[32], msg[512];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(msg, sizeof(msg), "the server %s asked for %lu request(s) to "
	    "the backend outside the DMZ surface (last: %s): refused; is the "
	    "DMZ host compromised?", cl->server_text, cl->dmz_refused, last);
	json_object_object_add(ev, "type",
	    json_object_new_string("server_request_refused"));
	json_object_object_add(ev, "severity", json_object_new_string("crit"));
	json_object_object_add(ev, "time", json_object_new_string(t));
	json_object_object_add(ev, "message", json_object_new_string(msg));
	json_object_object_add(ev, "count",
	    json_object_new_int64((int64_t)cl->dmz_refused));
	/* The client's own post: it does not pass through dmz_check. */
	backend_post(cl, "v1/events",
	    json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN));
	json_object_put(ev);
	cl->dmz_refused = 0;
	cl->dmz_reported_at = sp_loop_now(cl->loop);
	cl->dmz_last[0] = '\0';
}

static void
report_fire(struct sp_loop *loop, struct sp_timer *t, void *arg)
{
	struct client *cl = arg;

	if (cl->dmz_refused > 0)
		report(cl, cl->dmz_last);
}

static void
dmz_refuse(struct client *cl, const char *what, const char *why)
{
	uint64_t now = sp_loop_now(cl->loop);

	sp_logkv(SP_LOG_WARN, "security", SP_LOG_KV({ "event",
	    "server_request_refused" }, { "dst", cl->server_text }),
	    "server_request_refused from %s: %s: %s", cl->server_text, what,
	    why);
	cl->dmz_refused++;
	snprintf(cl->dmz_last, sizeof(cl->dmz_last), "%s", why);
	if (cl->dmz_reported_at == 0 ||
	    now - cl->dmz_reported_at >= REPORT_EVERY_MS)
		report(cl, cl->dmz_last);
	else if (cl->dmz_timer.slot == 0)   /* not armed (loop.h) */
		sp_timer_start(cl->loop, &cl->dmz_timer,
		    cl->dmz_reported_at + REPORT_EVERY_MS - now);
}

void
dmz_post(struct client *cl, const char *path, const char *body)
{
	char err[256];

	if (sp_surface_dmz_check(SP_DMZ_POST, path, body, err,
	    sizeof(err)) != 0) {
		dmz_refuse(cl, "document dropped", err);
		return;
	}
	backend_post(cl, path, body);
}

void
dmz_ask(struct client *cl, long long id, const char *path, const char *body)
{
	char err[256];

	if (sp_surface_dmz_check(SP_DMZ_ASK, path, body, err,
	    sizeof(err)) != 0) {
		dmz_refuse(cl, "question not asked", err);
		backend_answer(cl, id, -1, NULL);
		return;
	}
	backend_ask(cl, id, path, body);
}

void
dmz_start(struct client *cl)
{
	sp_timer_init(&cl->dmz_timer, report_fire, cl);
}

void
dmz_stop(struct client *cl)
{
	sp_timer_stop(cl->loop, &cl->dmz_timer);
	if (cl->dmz_refused > 0)
		sp_log(SP_LOG_WARN, "backend", "stopping: %lu refused server "
		    "request(s) not reported to the backend", cl->dmz_refused);
}
