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
 * With several DMZ nodes each node (the token its client reports with) is
 * judged on its own: its last report (node_status) and when this process
 * received it (a->beats). The live list merges the fresh nodes' sessions,
 * each naming its node; "proxy" in GET /v1/status stays the latest report
 * of any node.
 *
 * The watcher thread raises "proxy_stale" (crit) when a node that was
 * beating falls silent, and "proxy_resumed" (notice) when it beats again;
 * both events carry the node.
 *
 * Ownership: the thread's state lives in this file (one daemon per
 * process); api_live_stop() joins it. It waits on a->cv under a->mu, which
 * also guards a->beats.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/ops.h"
#include "api/store_ops.h"
#include "core/loop.h"
#include "core/err.h"
#include "core/log.h"

#define LIVE_PERIODS 3
#define LIVE_TICK_MS 250

static struct {
	pthread_t thread;
	bool running;
} watcher;

/* Under mu: the slot of `node`, made when `make` and there is room. */
static struct api_beat *
beat_of(struct api *a, const char *node, bool make)
{
	struct api_beat *b;
	size_t i;

	if (node == NULL)
		node = "";
	for (i = 0; i < a->nbeats; i++)
		if (strcmp(a->beats[i].node, node) == 0)
			return &a->beats[i];
	if (!make || a->nbeats >= API_NODES_MAX)
		return NULL;
	b = &a->beats[a->nbeats++];
	memset(b, 0, sizeof(*b));
	snprintf(b->node, sizeof(b->node), "%s", node);
	return b;
}

void
api_live_note(struct api *a, const char *node, int64_t heartbeat_ms)
{
	struct api_beat *b;

	pthread_mutex_lock(&a->mu);
	if ((b = beat_of(a, node, true)) != NULL) {
		b->at_ms = sp_wall_ms();
		b->period_ms = heartbeat_ms;
	}
	pthread_mutex_unlock(&a->mu);
	/* Past API_NODES_MAX tokens a node is judged from its stored receive
	 * time and not watched; tokens are the operator's list, so that many
	 * nodes is a configuration no one runs. */
}

/* When this process last heard from `node` (wall ms); 0: not since it
 * started. */
static int64_t
heard_at(struct api *a, const char *node)
{
	struct api_beat *b;
	int64_t at;

	pthread_mutex_lock(&a->mu);
	at = (b = beat_of(a, node, false)) != NULL ? b->at_ms : 0;
	pthread_mutex_unlock(&a->mu);
	return at;
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
	age = at >= 0 ? sp_wall_ms() - at : -1;
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

/* Judges `st` by the node named in its member `key`. */
static bool
judge_by(struct api *a, json_object *st, const char *key)
{
	json_object *v;
	int64_t at;

	if (st == NULL)
		return false;
	at = heard_at(a, json_object_object_get_ex(st, key, &v) && v != NULL ?
	    json_object_get_string(v) : "");
	if (at == 0)
		return judge(st, stored_at(st), 1000);
	return judge(st, at, 0);
}

bool
api_live_judge(struct api *a, json_object *st)
{
	return judge_by(a, st, "reported_by");
}

bool
api_live_judge_node(struct api *a, json_object *node)
{
	return judge_by(a, node, "node");
}

int
api_live_nodes(struct api *a, json_object **arr)
{
	size_t i;
	int r;

	pthread_mutex_lock(&a->dbmu);
	r = sp_store_node_status(a->st, arr);
	pthread_mutex_unlock(&a->dbmu);
	if (r != 0) {
		*arr = NULL;
		return r;
	}
	for (i = 0; i < json_object_array_length(*arr); i++)
		(void)api_live_judge_node(a, json_object_array_get_idx(*arr, i));
	return SP_OK;
}

/* What the watcher tells once it let go of mu. */
struct beat_news {
	char node[65];
	bool stale;
	char msg[200];
};

static void *
watch_thread(void *arg)
{
	struct api *a = arg;
	struct timespec until;
	struct beat_news news[API_NODES_MAX];
	struct api_beat *b;
	size_t i, n;
	int64_t now, age;

	pthread_mutex_lock(&a->mu);
	while (!a->stopping) {
		now = sp_wall_ms();
		for (i = n = 0; i < a->nbeats; i++) {
			b = &a->beats[i];
			if (b->period_ms <= 0)
				continue;
			age = now - b->at_ms;
			if (!b->stale && age > LIVE_PERIODS * b->period_ms) {
				b->stale = true;
				snprintf(news[n].msg, sizeof(news[n].msg), "proxy stale: node %s "
				    "sent no status report for %" PRId64 " s (heartbeat every %"
				    PRId64 " s)", b->node, age / 1000, b->period_ms / 1000);
			} else if (b->stale && age <= LIVE_PERIODS * b->period_ms) {
				b->stale = false;
				snprintf(news[n].msg, sizeof(news[n].msg), "proxy reports again: "
				    "node %s (heartbeat every %" PRId64 " s)", b->node,
				    b->period_ms / 1000);
			} else
				continue;
			news[n].stale = b->stale;
			snprintf(news[n].node, sizeof(news[n].node), "%s", b->node);
			n++;
		}
		pthread_mutex_unlock(&a->mu);
		/* Each node on its own: one falling silent is an event even while
		 * another reports. */
		for (i = 0; i < n; i++) {
			sp_log(news[i].stale ? SP_LOG_WARN : SP_LOG_NOTICE, "api", "%s",
			    news[i].msg);
			(void)api_event_raise(a, news[i].stale ? "proxy_stale" :
			    "proxy_resumed", news[i].stale ? "crit" : "notice",
			    news[i].msg, news[i].node);
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

/* One node's part of the live list: its sessions (each stamped with the
 * node) are appended to `list` while its report is fresh and connected;
 * returns its summary for "nodes". *total grows by its sessions_total. */
static json_object *
live_node(json_object *n, json_object *list, int64_t *total, bool *fresh,
    bool *current)
{
	json_object *sum = json_object_new_object(), *status = NULL, *live = NULL,
	    *sessions = NULL, *v, *name = NULL;
	bool stale, connected;
	size_t i;

	(void)json_object_object_get_ex(n, "node", &name);
	stale = json_object_object_get_ex(n, "stale", &v) && v != NULL &&
	    json_object_get_boolean(v);
	(void)json_object_object_get_ex(n, "status", &status);
	connected = status != NULL && json_object_object_get_ex(status,
	    "connected", &v) && json_object_get_boolean(v);
	if (status != NULL)
		(void)json_object_object_get_ex(status, "live", &live);
	json_object_object_add(sum, "node", json_object_get(name));
	json_object_object_add(sum, "received", json_object_object_get_ex(n,
	    "received", &v) ? json_object_get(v) : NULL);
	json_object_object_add(sum, "age_ms", json_object_object_get_ex(n,
	    "age_ms", &v) ? json_object_get(v) : NULL);
	json_object_object_add(sum, "stale", json_object_new_boolean(stale));
	json_object_object_add(sum, "connected",
	    json_object_new_boolean(connected && !stale));
	*fresh = !stale;
	*current = false;
	/* Stale or disconnected: what the node last said is no longer so. */
	if (stale || !connected || live == NULL ||
	    !json_object_object_get_ex(live, "sessions", &sessions) ||
	    sessions == NULL || !json_object_is_type(sessions, json_type_array)) {
		json_object_object_add(sum, "sessions_total", NULL);
		return sum;
	}
	*current = true;
	for (i = 0; i < json_object_array_length(sessions); i++) {
		json_object *s = json_object_array_get_idx(sessions, i);

		json_object_object_add(s, "node", json_object_get(name));
		json_object_array_add(list, json_object_get(s));
	}
	v = NULL;
	(void)json_object_object_get_ex(live, "sessions_total", &v);
	*total += v != NULL ? json_object_get_int64(v) :
	    (int64_t)json_object_array_length(sessions);
	json_object_object_add(sum, "sessions_total", json_object_new_int64(
	    v != NULL ? json_object_get_int64(v) :
	    (int64_t)json_object_array_length(sessions)));
	return sum;
}

/*
 * GET /v1/sessions/live: the sessions of every node's last report, while
 * that report is fresh, merged (each session names its node); "stale" when
 * no node's report is fresh, "connected" when one node's is and says so.
 */
void
api_h_sessions_live(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out)
{
	json_object *st = NULL, *nodes = NULL, *o, *list, *per, *v;
	bool fresh, current, any_fresh = false, any_current = false;
	int64_t total = 0;
	size_t i;
	int r;

	pthread_mutex_lock(&a->dbmu);
	r = sp_store_status_get(a->st, &st);
	pthread_mutex_unlock(&a->dbmu);
	if (r == 0)
		r = api_live_nodes(a, &nodes);
	if (r != 0) {
		json_object_put(st);
		internal(out, "status", r);
		return;
	}
	(void)api_live_judge(a, st);
	list = json_object_new_array();
	per = json_object_new_array();
	for (i = 0; i < json_object_array_length(nodes); i++) {
		json_object_array_add(per, live_node(json_object_array_get_idx(nodes,
		    i), list, &total, &fresh, &current));
		any_fresh = any_fresh || fresh;
		any_current = any_current || current;
	}
	o = json_object_new_object();
	/* The latest report of any node: when the backend last heard. */
	json_object_object_add(o, "received", st != NULL &&
	    json_object_object_get_ex(st, "received", &v) ? json_object_get(v) : NULL);
	json_object_object_add(o, "age_ms", st != NULL &&
	    json_object_object_get_ex(st, "age_ms", &v) ? json_object_get(v) : NULL);
	json_object_object_add(o, "stale", json_object_new_boolean(
	    json_object_array_length(nodes) > 0 && !any_fresh));
	json_object_object_add(o, "connected", json_object_new_boolean(any_current));
	json_object_object_add(o, "sessions_total", any_current ?
	    json_object_new_int64(total) : NULL);
	json_object_object_add(o, "sessions", list);
	json_object_object_add(o, "nodes", per);
	json_object_put(nodes);
	json_object_put(st);
	out->status = 200;
	out->body = o;
}
