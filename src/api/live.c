/*
 * live.c - the proxy's heartbeat in smartproxy-api (docs/api.md 5.3, 5.8):
 * how fresh the last status report is, the watcher that turns a missing
 * heartbeat into an event, and GET /v1/sessions/live.
 *
 * The client reports every heartbeat_ms (default 10 s) and says so in its
 * report. A report older than three periods makes the proxy `stale`: a
 * stopped client, a hung one or a cut network all look the same from here,
 * and in every case the status it last sent ("connected", the sessions) no
 * longer describes the proxy. The freshness is judged from the time this
 * process received the report, or, after a restart of the api, from the
 * stored receive time (whole seconds, so one second of slack is allowed).
 *
 * With several DMZ nodes each node's last report (node_status, by the token
 * its client uses) is judged the same way from its stored receive time; the
 * "proxy" report, the watcher and the live list follow the latest report
 * of any node.
 *
 * The watcher thread raises "proxy_stale" (crit) when a proxy that was
 * beating falls silent, and "proxy_resumed" (notice) when it beats again.
 *
 * Ownership: the thread's state lives in this file (one daemon per
 * process); api_live_stop() joins it. It waits on a->cv under a->mu.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/ops.h"
#include "api/store_ops.h"
#include "core/err.h"
#include "core/log.h"

#define LIVE_PERIODS 3
#define LIVE_TICK_MS 250

static struct {
	pthread_t thread;
	bool running;
} watcher;

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
api_live_note(struct api *a, int64_t heartbeat_ms)
{
	pthread_mutex_lock(&a->mu);
	a->hb_at_ms = wall_ms();
	a->hb_period_ms = heartbeat_ms;
	pthread_mutex_unlock(&a->mu);
}

/* "YYYY-MM-DDTHH:MM:SSZ" as ms since the epoch; -1 when malformed. */
static int64_t
text_ms(const char *t)
{
	struct tm tm;
	int n = 0;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n != 20)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000;
}

/* Adds "age_ms" and "stale" to st, judged from `at` (ms, -1: unknown). */
static bool
judge(json_object *st, int64_t at, int64_t slack)
{
	json_object *status = NULL, *v;
	int64_t period = 0, age;
	bool stale;

	if (json_object_object_get_ex(st, "status", &status) && status != NULL &&
	    json_object_object_get_ex(status, "heartbeat_ms", &v) && v != NULL)
		period = json_object_get_int64(v);
	age = at >= 0 ? wall_ms() - at : -1;
	json_object_object_add(st, "age_ms", age >= 0 ? json_object_new_int64(age) : NULL);
	if (period <= 0 || age < 0) {
		/* A client that announces no heartbeat cannot be judged. */
		json_object_object_add(st, "stale", NULL);
		return false;
	}
	stale = age > LIVE_PERIODS * period + slack;
	json_object_object_add(st, "stale", json_object_new_boolean(stale));
	return stale;
}

/* The stored receive time: whole seconds, so one second of slack. */
static int64_t
stored_at(json_object *st)
{
	json_object *v;

	return json_object_object_get_ex(st, "received", &v) ?
	    text_ms(json_object_get_string(v)) : -1;
}

bool
api_live_judge(struct api *a, json_object *st)
{
	int64_t at;

	if (st == NULL)
		return false;
	pthread_mutex_lock(&a->mu);
	at = a->hb_at_ms;
	pthread_mutex_unlock(&a->mu);
	if (at == 0)
		return judge(st, stored_at(st), 1000);
	return judge(st, at, 0);
}

bool
api_live_judge_node(json_object *node)
{
	if (node == NULL)
		return false;
	return judge(node, stored_at(node), 1000);
}

static void *
watch_thread(void *arg)
{
	struct api *a = arg;
	struct timespec until;
	bool was_stale = false;
	int64_t at, period, age;
	char msg[200];

	pthread_mutex_lock(&a->mu);
	while (!a->stopping) {
		at = a->hb_at_ms;
		period = a->hb_period_ms;
		pthread_mutex_unlock(&a->mu);
		if (at != 0 && period > 0) {
			age = wall_ms() - at;
			if (!was_stale && age > LIVE_PERIODS * period) {
				was_stale = true;
				snprintf(msg, sizeof(msg), "proxy stale: no status report for %"
				    PRId64 " s (heartbeat every %" PRId64 " s)", age / 1000,
				    period / 1000);
				sp_log(SP_LOG_WARN, "api", "%s", msg);
				(void)api_event_raise(a, "proxy_stale", "crit", msg);
			} else if (was_stale && age <= LIVE_PERIODS * period) {
				was_stale = false;
				snprintf(msg, sizeof(msg), "proxy reports again (heartbeat "
				    "every %" PRId64 " s)", period / 1000);
				sp_log(SP_LOG_NOTICE, "api", "%s", msg);
				(void)api_event_raise(a, "proxy_resumed", "notice", msg);
			}
		}
		pthread_mutex_lock(&a->mu);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += LIVE_TICK_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!a->stopping &&
		    pthread_cond_timedwait(&a->cv, &a->mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

int
api_live_start(struct api *a, char *err, size_t errlen)
{
	int e;

	if ((e = pthread_create(&watcher.thread, NULL, watch_thread, a)) != 0) {
		snprintf(err, errlen, "cannot start the heartbeat watcher: %s",
		    strerror(e));
		return SP_ERR_SYSTEM;
	}
	watcher.running = true;
	return SP_OK;
}

void
api_live_stop(struct api *a)
{
	if (!watcher.running)
		return;
	pthread_mutex_lock(&a->mu);
	a->stopping = true;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	pthread_join(watcher.thread, NULL);
	watcher.running = false;
}

/* GET /v1/sessions/live: the sessions of the last report, while fresh. */
void
api_h_sessions_live(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out)
{
	json_object *st = NULL, *o, *status = NULL, *live = NULL, *v, *list = NULL;
	bool stale, connected = false;
	int r;

	pthread_mutex_lock(&a->dbmu);
	r = sp_store_status_get(a->st, &st);
	pthread_mutex_unlock(&a->dbmu);
	if (r != 0) {
		internal(out, "status", r);
		return;
	}
	stale = api_live_judge(a, st);
	o = json_object_new_object();
	if (st != NULL && json_object_object_get_ex(st, "status", &status) && status != NULL) {
		connected = json_object_object_get_ex(status, "connected", &v) &&
		    json_object_get_boolean(v);
		(void)json_object_object_get_ex(status, "live", &live);
	}
	json_object_object_add(o, "received", st != NULL &&
	    json_object_object_get_ex(st, "received", &v) ? json_object_get(v) : NULL);
	json_object_object_add(o, "age_ms", st != NULL &&
	    json_object_object_get_ex(st, "age_ms", &v) ? json_object_get(v) : NULL);
	json_object_object_add(o, "stale", json_object_new_boolean(stale));
	json_object_object_add(o, "connected", json_object_new_boolean(connected && !stale));
	/* Stale or disconnected: what the proxy last said is no longer so. */
	if (!stale && connected && live != NULL &&
	    json_object_object_get_ex(live, "sessions", &list) && list != NULL) {
		json_object_object_add(o, "sessions", json_object_get(list));
		json_object_object_add(o, "sessions_total",
		    json_object_object_get_ex(live, "sessions_total", &v) ?
		    json_object_get(v) : NULL);
	} else {
		json_object_object_add(o, "sessions", json_object_new_array());
		json_object_object_add(o, "sessions_total", NULL);
	}
	json_object_put(st);
	out->status = 200;
	out->body = o;
}
