/*
 * stats.c - counters and the live snapshot of smartproxy-server (stats.h).
 *
 * Bytes: a running session's bytes are read from its legs when a snapshot
 * is taken and move into the totals when it ends, so the totals in the
 * snapshots grow during a transfer and never step back.
 */
#include "server/stats.h"
#include "server/session.h"
#include "core/err.h"
#include "core/log.h"
#include "tunnel/msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void
count(struct stats_named *t, const char *raw, uint64_t n)
{
	char name[STATS_NAME_LEN + 1];
	size_t i;

	/* The client refuses a whole snapshot with a name outside
	 * [A-Za-z0-9_.-] (docs/api.md 5.3): a module's odd event name must
	 * not cost the report, so it is mended here. */
	snprintf(name, sizeof(name), "%s", raw != NULL && raw[0] != '\0' ? raw : "unknown");
	for (i = 0; name[i] != '\0'; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '_' || name[i] == '-' ||
		    name[i] == '.'))
			name[i] = '_';
	for (i = 0; i < t->len; i++)
		if (strcmp(t->name[i], name) == 0) {
			t->n[i] += n;
			return;
		}
	/* The last slot is kept for "other". */
	if (t->len >= STATS_NAMES_MAX - 1 || strlen(name) >= STATS_NAME_LEN)
		snprintf(name, sizeof(name), "other");
	for (i = 0; i < t->len; i++)
		if (strcmp(t->name[i], name) == 0) {
			t->n[i] += n;
			return;
		}
	if (t->len >= STATS_NAMES_MAX)
		return;
	snprintf(t->name[t->len], STATS_NAME_LEN, "%s", name);
	t->n[t->len++] = n;
}

/* Every security line (category "security", field "event"), whatever a
 * later filter does with its level. */
static void
security_filter(struct sp_log_record *rec, void *arg)
{
	struct server *srv = arg;
	const struct sp_log_field *f;

	if (srv->stats == NULL || strcmp(rec->category, "security") != 0 ||
	    rec->fields == NULL)
		return;
	for (f = rec->fields; f->key != NULL; f++)
		if (strcmp(f->key, "event") == 0) {
			count(&srv->stats->security, f->value, 1);
			return;
		}
}

int
stats_start(struct server *srv)
{
	if ((srv->stats = calloc(1, sizeof(*srv->stats))) == NULL)
		return SP_ERR_NOMEM;
	return sp_log_filter_add(security_filter, srv);
}

void
stats_stop(struct server *srv)
{
	(void)sp_log_filter_remove(security_filter, srv);
	free(srv->stats);
	srv->stats = NULL;
}

void
stats_session_started(struct server *srv)
{
	if (srv->stats != NULL)
		srv->stats->started++;
}

static uint64_t
leg_in(const struct session *s)
{
	const struct sp_conn *o = s->leg[SP_LEG_OUTSIDE];

	return o != NULL ? o->bytes_in : 0;
}

static uint64_t
leg_out(const struct session *s)
{
	const struct sp_conn *o = s->leg[SP_LEG_OUTSIDE];

	return o != NULL ? o->bytes_out : 0;
}

void
stats_session_ended(struct server *srv, struct session *s)
{
	struct server_stats *st = srv->stats;
	const char *esid = session_fact(s, "oftp2.end_esid"),
	    *from = session_fact(s, "oftp2.end_esid_from"),
	    *files = session_fact(s, "oftp2.files");
	json_object *arr;
	size_t i, n;

	if (st == NULL)
		return;
	count(&st->ended, s->reason, 1);
	/* A refusal is an ESID the proxy sent, not one a side sent. */
	if (esid != NULL && from != NULL && strcmp(from, "proxy") == 0)
		count(&st->esid, esid, 1);
	st->bytes_from_partner += leg_in(s);
	st->bytes_to_partner += leg_out(s);
	if (files == NULL || (arr = json_tokener_parse(files)) == NULL)
		return;
	n = json_object_is_type(arr, json_type_array) ?
	    json_object_array_length(arr) : 0;
	for (i = 0; i < n; i++) {
		json_object *f = json_object_array_get_idx(arr, i);

		/* Only a positive end-to-end answer makes a file done. */
		count(strcmp(sp_json_str(f, "result", ""), "EFPA") == 0 ? &st->files :
		    &st->files_failed, sp_json_str(f, "direction", "unknown"), 1);
	}
	json_object_put(arr);
}

static json_object *
named(const struct stats_named *t)
{
	json_object *o = json_object_new_object();
	size_t i;

	for (i = 0; i < t->len; i++)
		json_object_object_add(o, t->name[i],
		    json_object_new_int64((int64_t)t->n[i]));
	return o;
}

static const char *
state_name(const struct session *s)
{
	switch (s->state) {
	case S_TLS: return "handshake";
	case S_RELAY:
		if (session_fact((struct session *)s, "partner") == NULL)
			return "authenticating";
		return "active";
	case S_ENDING:
	case S_DEAD: return "ending";
	}
	return "unknown";
}

static json_object *
str_or_null(const char *v)
{
	return v != NULL && v[0] != '\0' ? json_object_new_string(v) : NULL;
}

/* One entry of the live list (docs/api.md 5.3, "live.sessions"). */
static json_object *
live_session(struct session *s)
{
	json_object *o = json_object_new_object(), *file = NULL;
	const char *cur = session_fact(s, "oftp2.file"),
	    *files = session_fact(s, "oftp2.files");
	time_t t = (time_t)(s->started_ms / 1000);
	struct tm tm;
	char when[32];

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(o, "session", json_object_new_string(s->idtext));
	json_object_object_add(o, "direction",
	    json_object_new_string(s->outgoing ? "outgoing" : "incoming"));
	json_object_object_add(o, "via", str_or_null(s->via));
	json_object_object_add(o, "partner", str_or_null(session_fact(s, "partner")));
	json_object_object_add(o, "source_address", str_or_null(s->peer));
	json_object_object_add(o, "state", json_object_new_string(state_name(s)));
	json_object_object_add(o, "started", json_object_new_string(when));
	json_object_object_add(o, "bytes_from_partner", json_object_new_int64((int64_t)leg_in(s)));
	json_object_object_add(o, "bytes_to_partner", json_object_new_int64((int64_t)leg_out(s)));
	/* The OFTP2 module keeps the file in transfer as a JSON fact. */
	if (cur != NULL && cur[0] != '\0' && (file = json_tokener_parse(cur)) != NULL &&
	    !json_object_is_type(file, json_type_object)) {
		json_object_put(file);
		file = NULL;
	}
	json_object_object_add(o, "file", file);
	if (files != NULL && (file = json_tokener_parse(files)) != NULL) {
		json_object_object_add(o, "files_done", json_object_new_int64(
		    json_object_is_type(file, json_type_array) ?
		    (int64_t)json_object_array_length(file) : 0));
		json_object_put(file);
	} else
		json_object_object_add(o, "files_done", json_object_new_int64(0));
	return o;
}

json_object *
stats_live(struct server *srv)
{
	json_object *m = json_object_new_object(), *list = json_object_new_array(),
	    *c = json_object_new_object();
	struct server_stats zero, *st = srv->stats != NULL ? srv->stats : &zero;
	uint64_t bin = 0, bout = 0;
	struct session *s;
	size_t n = 0;

	memset(&zero, 0, sizeof(zero));
	for (s = srv->sessions; s != NULL; s = s->next) {
		bin += leg_in(s);
		bout += leg_out(s);
		if (n++ < STATS_LIVE_MAX)
			json_object_array_add(list, live_session(s));
	}
	json_object_object_add(m, "type", json_object_new_string("live"));
	json_object_object_add(m, "sessions", list);
	json_object_object_add(m, "sessions_total", json_object_new_int64((int64_t)srv->nsessions));
	json_object_object_add(c, "sessions_active", json_object_new_int64((int64_t)srv->nsessions));
	json_object_object_add(c, "sessions_started", json_object_new_int64((int64_t)st->started));
	json_object_object_add(c, "sessions_ended", named(&st->ended));
	json_object_object_add(c, "esid_sent", named(&st->esid));
	json_object_object_add(c, "security_events", named(&st->security));
	json_object_object_add(c, "files", named(&st->files));
	json_object_object_add(c, "files_failed", named(&st->files_failed));
	json_object_object_add(c, "bytes_from_partner",
	    json_object_new_int64((int64_t)(st->bytes_from_partner + bin)));
	json_object_object_add(c, "bytes_to_partner",
	    json_object_new_int64((int64_t)(st->bytes_to_partner + bout)));
	json_object_object_add(c, "revision_active",
	    srv->rt != NULL ? json_object_new_int64(srv->rt->revision) : NULL);
	json_object_object_add(m, "counters", c);
	return m;
}
