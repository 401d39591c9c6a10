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

#include <pthread.h>
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

/* Security lines are logged on every loop's thread: their counter has its
 * own lock (off the data path: a line is rare). */
static pthread_mutex_t security_mu = PTHREAD_MUTEX_INITIALIZER;

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
			pthread_mutex_lock(&security_mu);
			count(&srv->stats->security, f->value, 1);
			pthread_mutex_unlock(&security_mu);
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
stats_session_ended(struct server *srv, const char *reason, const uint64_t *sum)
{
	struct server_stats *st = srv->stats;
	char code[4];

	if (st == NULL)
		return;
	count(&st->ended, reason, 1);
	if (sum[SUM_ESID] > 0) {
		snprintf(code, sizeof(code), "%02u", (unsigned)(sum[SUM_ESID] - 1) % 100);
		count(&st->esid, code, 1);
	}
	st->bytes_from_partner += sum[SUM_BYTES_FROM];
	st->bytes_to_partner += sum[SUM_BYTES_TO];
	if (sum[SUM_FILES_FROM] > 0)
		count(&st->files, "from_partner", sum[SUM_FILES_FROM]);
	if (sum[SUM_FILES_TO] > 0)
		count(&st->files, "to_partner", sum[SUM_FILES_TO]);
	if (sum[SUM_FAILED_FROM] > 0)
		count(&st->files_failed, "from_partner", sum[SUM_FAILED_FROM]);
	if (sum[SUM_FAILED_TO] > 0)
		count(&st->files_failed, "to_partner", sum[SUM_FAILED_TO]);
}

json_object *
stats_file_json(const struct sp_chain_file *f, bool live)
{
	json_object *o = json_object_new_object();
	char fmt[2] = { f->format, '\0' };

	json_object_object_add(o, "name", json_object_new_string(f->name));
	json_object_object_add(o, "direction", json_object_new_string(
	    f->dir == SP_FILE_FROM_PARTNER ? "from_partner" : "to_partner"));
	if (live) {
		json_object_object_add(o, "size_kib", json_object_new_int64((int64_t)f->size_kib));
		json_object_object_add(o, "restart_offset",
		    json_object_new_int64((int64_t)f->restart_offset));
		json_object_object_add(o, "octets", json_object_new_int64((int64_t)f->octets));
	} else {
		json_object_object_add(o, "format", json_object_new_string(fmt));
		json_object_object_add(o, "size", json_object_new_int64((int64_t)f->octets));
		json_object_object_add(o, "result", json_object_new_string(f->result));
	}
	return o;
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
json_object *
stats_live_session(struct session *s)
{
	json_object *o = json_object_new_object();
	const struct sp_chain_notes *nt = sp_chain_notes(&s->chain);
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
	/* The file in transfer, as the protocol module noted it. */
	json_object_object_add(o, "file", nt->has_current ? stats_file_json(&nt->current, true) : NULL);
	json_object_object_add(o, "files_done",
	    json_object_new_int64((int64_t)(nt->nfiles + nt->files_dropped)));
	return o;
}

json_object *
stats_live(struct server *srv, json_object *list, uint64_t bin, uint64_t bout)
{
	json_object *m = json_object_new_object(), *c = json_object_new_object();
	struct server_stats zero, *st = srv->stats != NULL ? srv->stats : &zero;

	memset(&zero, 0, sizeof(zero));
	json_object_object_add(m, "type", json_object_new_string("live"));
	json_object_object_add(m, "sessions", list);
	json_object_object_add(m, "sessions_total", json_object_new_int64((int64_t)srv->nsessions));
	json_object_object_add(c, "sessions_active", json_object_new_int64((int64_t)srv->nsessions));
	json_object_object_add(c, "sessions_started", json_object_new_int64((int64_t)st->started));
	json_object_object_add(c, "sessions_ended", named(&st->ended));
	json_object_object_add(c, "esid_sent", named(&st->esid));
	pthread_mutex_lock(&security_mu);
	json_object_object_add(c, "security_events", named(&st->security));
	pthread_mutex_unlock(&security_mu);
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
