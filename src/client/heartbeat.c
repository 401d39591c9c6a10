/*
 * heartbeat.c - the client's own report to the backend (POST /v1/status,
 * docs/api.md 5.3): on connect, disconnect and configuration changes, and
 * every backend.heartbeat seconds.
 *
 * On each beat the client asks the server for its live snapshot
 * ("live_get"); the answer ("live": sessions, counters) is checked and
 * copied with the api's own validator (sp_body_live) before it is added to
 * the report, so nothing of the DMZ's choosing reaches the backend unchecked.
 * A beat whose question found no answer by the next beat is reported
 * without the snapshot ("live": null). The backend calls the proxy stale
 * when no report came for three periods: a client that was stopped stops
 * beating, which is the point.
 *
 * This is not on the DMZ surface (src/api/surface.c): the server answers
 * the client's question; it never posts the status itself.
 */
#include "client/client.h"
#include "api/bodies.h"
#include "core/err.h"
#include "core/log.h"
#include "tunnel/msg.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define GOODBYE_MS 2000

const unsigned backend_buckets_ms[BACKEND_BUCKETS] = {
	5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000
};

void
backend_latency_note(struct client *cl, uint64_t ms, bool ok)
{
	size_t i;

	cl->be_count++;
	cl->be_sum_ms += ms;
	if (!ok)
		cl->be_failures++;
	for (i = 0; i < BACKEND_BUCKETS; i++)
		if (ms <= backend_buckets_ms[i]) {
			cl->be_counts[i]++;
			break;
		}
}

/* The client's own counters, histogram buckets cumulative (le). */
static json_object *
client_counters(struct client *cl)
{
	json_object *o = json_object_new_object(), *h = json_object_new_object(),
	    *le = json_object_new_array(), *cnt = json_object_new_array();
	uint64_t acc = 0;
	size_t i;

	json_object_object_add(o, "tunnel_up", json_object_new_boolean(cl->ctl_state == CTL_UP));
	json_object_object_add(o, "tunnel_connects", json_object_new_int64((int64_t)cl->tunnel_connects));
	json_object_object_add(o, "backend_failures", json_object_new_int64((int64_t)cl->be_failures));
	for (i = 0; i < BACKEND_BUCKETS; i++) {
		acc += cl->be_counts[i];
		json_object_array_add(le, json_object_new_int64(backend_buckets_ms[i]));
		json_object_array_add(cnt, json_object_new_int64((int64_t)acc));
	}
	json_object_object_add(h, "buckets_ms", le);
	json_object_object_add(h, "counts", cnt);
	json_object_object_add(h, "count", json_object_new_int64((int64_t)cl->be_count));
	json_object_object_add(h, "sum_ms", json_object_new_int64((int64_t)cl->be_sum_ms));
	json_object_object_add(o, "backend_requests", h);
	return o;
}

void
status_report(struct client *cl, const char *event)
{
	json_object *doc = json_object_new_object(), *n;
	bool up = cl->ctl_state == CTL_UP && !cl->stopping;
	char t[32];
	time_t now = time(NULL);
	struct tm tm;
	long long sessions = cl->npipes;

	gmtime_r(&now, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (up && cl->live != NULL && json_object_object_get_ex(cl->live, "sessions_total", &n))
		sessions = json_object_get_int64(n);
	json_object_object_add(doc, "time", json_object_new_string(t));
	json_object_object_add(doc, "event", json_object_new_string(event));
	json_object_object_add(doc, "connected", json_object_new_boolean(up));
	json_object_object_add(doc, "server", json_object_new_string(cl->server_text));
	json_object_object_add(doc, "proxy_id", json_object_new_string(cl->conf.server.proxy_id));
	json_object_object_add(doc, "client_key_id", json_object_new_string(cl->id.key_id));
	json_object_object_add(doc, "revision_backend", cl->config ? json_object_new_int64(cl->revision) : NULL);
	json_object_object_add(doc, "revision_applied", cl->applied >= 0 ? json_object_new_int64(cl->applied) : NULL);
	json_object_object_add(doc, "sessions", json_object_new_int64(sessions));
	json_object_object_add(doc, "heartbeat_ms", json_object_new_int64((int64_t)cl->conf.backend.heartbeat * 1000));
	json_object_object_add(doc, "live", up && cl->live != NULL ? json_object_get(cl->live) : NULL);
	json_object_object_add(doc, "client", client_counters(cl));
	backend_post(cl, "v1/status", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
	json_object_put(doc);
}

void
heartbeat_live(struct client *cl, json_object *msg)
{
	json_object *clean = NULL;
	char err[200];

	cl->hb_waiting = false;
	json_object_put(cl->live);
	cl->live = NULL;
	if (sp_body_live(msg, &clean, err, sizeof(err)) != 0) {
		/* The DMZ sent what it must not: report the beat without it. */
		sp_logkv(SP_LOG_WARN, "security", SP_LOG_KV({ "event", "server_live_refused" },
		    { "dst", cl->server_text }),
		    "server_live_refused from %s: live snapshot dropped: %s", cl->server_text, err);
	} else
		cl->live = clean;
	status_report(cl, "heartbeat");
}

void
heartbeat_lost(struct client *cl)
{
	cl->hb_waiting = false;
	json_object_put(cl->live);
	cl->live = NULL;
}

static void
beat(struct sp_loop *loop, struct sp_timer *t, void *arg)
{
	struct client *cl = arg;
	json_object *m;

	sp_timer_start(loop, t, (uint64_t)cl->conf.backend.heartbeat * 1000);
	if (cl->ctl_state != CTL_UP) {
		status_report(cl, "heartbeat");
		return;
	}
	if (cl->hb_waiting) {
		/* No answer for a whole period: say so rather than stay silent. */
		json_object_put(cl->live);
		cl->live = NULL;
		status_report(cl, "heartbeat");
	}
	m = json_object_new_object();
	json_object_object_add(m, "type", json_object_new_string("live_get"));
	cl->hb_waiting = control_send(cl, m) == 0;
}

void
heartbeat_goodbye(struct client *cl)
{
	uint64_t until = sp_loop_now(cl->loop) + GOODBYE_MS;

	cl->stopping = true;
	sp_timer_stop(cl->loop, &cl->hb_timer);
	status_report(cl, "stopping");
	/* Bounded: a backend that is away must not hold up the stop. */
	while (backend_pending(cl) > 0 && sp_loop_now(cl->loop) < until)
		sp_loop_once(cl->loop, 50);
}

void
heartbeat_start(struct client *cl)
{
	sp_timer_init(&cl->hb_timer, beat, cl);
	sp_timer_start(cl->loop, &cl->hb_timer, (uint64_t)cl->conf.backend.heartbeat * 1000);
}

void
heartbeat_stop(struct client *cl)
{
	sp_timer_stop(cl->loop, &cl->hb_timer);
	heartbeat_lost(cl);
}
