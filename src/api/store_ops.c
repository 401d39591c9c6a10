/*
 * store_ops.c - session audit, events, proxy status and the rule purge in
 * smartproxy-api's store (see store_ops.h).
 *
 * Audit records and status documents are kept as the JSON text that arrived
 * (validated by the handlers), with the columns we search on next to it, so a
 * member the proxy adds later is kept and listed without a schema change.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/db.h"

#include "api/store.h"
#include "api/store_int.h"
#include "api/store_ops.h"
#include "core/err.h"

const char sp_store_schema_v2[] =
	"CREATE TABLE sessions ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  received TEXT NOT NULL, token TEXT NOT NULL,"
	"  partner TEXT, ended TEXT NOT NULL, doc TEXT NOT NULL);"
	"CREATE INDEX sessions_partner ON sessions (partner, ended);"
	"CREATE INDEX sessions_ended ON sessions (ended);"
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  received TEXT NOT NULL, time TEXT NOT NULL, type TEXT NOT NULL,"
	"  severity TEXT NOT NULL, partner TEXT, source_address TEXT,"
	"  session TEXT, message TEXT NOT NULL, count INTEGER NOT NULL,"
	"  outcome TEXT NOT NULL);"
	"CREATE TABLE status ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  received TEXT NOT NULL, token TEXT NOT NULL, doc TEXT NOT NULL);";

const char sp_store_schema_v8[] =
	"CREATE TABLE event_claims ("
	"  kind TEXT PRIMARY KEY, instance TEXT NOT NULL,"
	"  until_ms INTEGER NOT NULL)";

/*
 * Insert the claim, or take over an expired one; a live claim of another
 * instance stays (the WHERE of the upsert fails: no row changed). Expired
 * claims of other kinds go first, so the table stays small.
 */
int
sp_store_event_claim(struct sp_store *st, const char *kind,
    const char *instance, int64_t now_ms, int64_t until_ms, bool *won)
{
	struct sp_db_stmt *s;
	int rc;

	*won = false;
	if (sp_db_prepare(st->db, "DELETE FROM event_claims WHERE "
	    "until_ms <= ?1 AND kind <> ?2", &s) != 0)
		return SP_ERR_SYSTEM;
	if (sp_db_bind_int64(s, 1, now_ms) != 0 ||
	    sp_db_bind_text(s, 2, kind) != 0 || sp_db_step(s) != SP_DB_DONE) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	sp_db_finalize(s);
	if (sp_db_prepare(st->db, "INSERT INTO event_claims VALUES "
	    "(?1, ?2, ?3) ON CONFLICT (kind) DO UPDATE SET "
	    "instance = excluded.instance, until_ms = excluded.until_ms "
	    "WHERE event_claims.until_ms <= ?4", &s) != 0)
		return SP_ERR_SYSTEM;
	if (sp_db_bind_text(s, 1, kind) != 0 ||
	    sp_db_bind_text(s, 2, instance) != 0 ||
	    sp_db_bind_int64(s, 3, until_ms) != 0 ||
	    sp_db_bind_int64(s, 4, now_ms) != 0) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	rc = sp_db_step(s);
	sp_db_finalize(s);
	if (rc != SP_DB_DONE)
		return SP_ERR_SYSTEM;
	*won = sp_db_changes(st->db) == 1;
	return SP_OK;
}

#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"

static int
bind_opt(struct sp_db_stmt *s, int i, const char *v)
{
	return (v != NULL ? sp_db_bind_text(s, i, v) :
	    sp_db_bind_null(s, i)) == 0 ? 0 : -1;
}

static int
finish(struct sp_db_stmt *s)
{
	int rc = sp_db_step(s);

	sp_db_finalize(s);
	return rc == SP_DB_DONE ? SP_OK : SP_ERR_SYSTEM;
}

/* Keep the newest `max` rows of `table` (a fixed name from this file). */
static int
trim(struct sp_store *st, const char *table, int64_t max)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id <= "
	    "(SELECT MAX(id) FROM %s) - %lld", table, table, (long long)max);
	return sp_store_exec(st, sql);
}

static const char *
str_member(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int
sp_store_session_add(struct sp_store *st, json_object *rec, const char *token,
    int64_t *id)
{
	struct sp_db_stmt *s;
	int r;

	if (sp_db_prepare(st->db, "INSERT INTO sessions (received, token, "
	    "partner, ended, doc) VALUES (" NOW_SQL ", ?1, ?2, ?3, ?4)", &s) != 0)
		return SP_ERR_SYSTEM;
	if (bind_opt(s, 1, token ? token : "") ||
	    bind_opt(s, 2, str_member(rec, "partner")) ||
	    bind_opt(s, 3, str_member(rec, "ended") ? str_member(rec, "ended") : "") ||
	    bind_opt(s, 4, json_object_to_json_string_ext(rec,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE))) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	if ((r = finish(s)) != 0)
		return r;
	*id = sp_db_last_insert_id(st->db);
	return trim(st, "sessions", SP_STORE_SESSIONS_MAX);
}

int
sp_store_sessions(struct sp_store *st, const char *partner, const char *since,
    const char *until, int limit, json_object **arr)
{
	struct sp_db_stmt *s;
	json_object *a, *o;
	int rc;

	*arr = NULL;
	if (sp_db_prepare(st->db, "SELECT id, received, doc FROM sessions "
	    "WHERE (CAST(?1 AS TEXT) IS NULL OR partner = ?1) AND "
	    "(CAST(?2 AS TEXT) IS NULL OR ended >= ?2) AND "
	    "(CAST(?3 AS TEXT) IS NULL OR ended < ?3) "
	    "ORDER BY ended, id LIMIT ?4", &s) != 0)
		return SP_ERR_SYSTEM;
	if (bind_opt(s, 1, partner) || bind_opt(s, 2, since) ||
	    bind_opt(s, 3, until) || sp_db_bind_int64(s, 4, limit) != 0 ||
	    (a = json_object_new_array()) == NULL) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	while ((rc = sp_db_step(s)) == SP_DB_ROW) {
		o = json_tokener_parse(sp_db_column_text(s, 2));
		if (o == NULL || !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			continue;
		}
		json_object_object_add(o, "id",
		    json_object_new_int64(sp_db_column_int64(s, 0)));
		json_object_object_add(o, "received", json_object_new_string(
		    sp_db_column_text(s, 1)));
		json_object_array_add(a, o);
	}
	sp_db_finalize(s);
	if (rc != SP_DB_DONE) {
		json_object_put(a);
		return SP_ERR_SYSTEM;
	}
	*arr = a;
	return SP_OK;
}

int
sp_store_event_add(struct sp_store *st, const struct sp_store_event *ev,
    int64_t *id)
{
	struct sp_db_stmt *s;
	int r;

	if (sp_db_prepare(st->db, "INSERT INTO events (received, time, "
	    "type, severity, partner, source_address, session, message, count, "
	    "outcome, node) VALUES (" NOW_SQL ", ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
	    "?9, ?10)", &s) != 0)
		return SP_ERR_SYSTEM;
	if (bind_opt(s, 1, ev->time) || bind_opt(s, 2, ev->type) ||
	    bind_opt(s, 3, ev->severity) || bind_opt(s, 4, ev->partner) ||
	    bind_opt(s, 5, ev->source_address) || bind_opt(s, 6, ev->session) ||
	    bind_opt(s, 7, ev->message) ||
	    sp_db_bind_int64(s, 8, ev->count) != 0 ||
	    bind_opt(s, 9, ev->outcome) || bind_opt(s, 10, ev->node)) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	if ((r = finish(s)) != 0)
		return r;
	*id = sp_db_last_insert_id(st->db);
	return trim(st, "events", SP_STORE_EVENTS_MAX);
}

int
sp_store_event_set_outcome(struct sp_store *st, int64_t id, const char *outcome)
{
	struct sp_db_stmt *s;

	if (sp_db_prepare(st->db, "UPDATE events SET outcome = ?1 WHERE "
	    "id = ?2", &s) != 0)
		return SP_ERR_SYSTEM;
	if (bind_opt(s, 1, outcome) || sp_db_bind_int64(s, 2, id) != 0) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	return finish(s);
}

static void
add_col(json_object *o, struct sp_db_stmt *s, int col, const char *key)
{
	const char *v = sp_db_column_text(s, col);

	json_object_object_add(o, key, v != NULL ? json_object_new_string(v) : NULL);
}

int
sp_store_events(struct sp_store *st, const char *since, int limit,
    json_object **arr)
{
	static const char *const cols[] = { "received", "time", "type",
	    "severity", "partner", "source_address", "session", "message" };
	struct sp_db_stmt *s;
	json_object *a, *o;
	size_t i;
	int rc;

	*arr = NULL;
	/* The newest `limit`, listed oldest first. */
	if (sp_db_prepare(st->db, "SELECT * FROM (SELECT id, received, "
	    "time, type, severity, partner, source_address, session, message, "
	    "count, outcome, node FROM events WHERE "
	    "(CAST(?1 AS TEXT) IS NULL OR received >= ?1) "
	    "ORDER BY id DESC LIMIT ?2) AS recent ORDER BY id", &s) != 0)
		return SP_ERR_SYSTEM;
	if (bind_opt(s, 1, since) || sp_db_bind_int64(s, 2, limit) != 0 ||
	    (a = json_object_new_array()) == NULL) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	while ((rc = sp_db_step(s)) == SP_DB_ROW) {
		if ((o = json_object_new_object()) == NULL)
			break;
		json_object_object_add(o, "id",
		    json_object_new_int64(sp_db_column_int64(s, 0)));
		for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
			add_col(o, s, (int)i + 1, cols[i]);
		json_object_object_add(o, "count",
		    json_object_new_int64(sp_db_column_int64(s, 9)));
		add_col(o, s, 10, "outcome");
		add_col(o, s, 11, "node");
		json_object_array_add(a, o);
	}
	sp_db_finalize(s);
	if (rc != SP_DB_DONE) {
		json_object_put(a);
		return SP_ERR_SYSTEM;
	}
	*arr = a;
	return SP_OK;
}

int
sp_store_status_set(struct sp_store *st, const char *doc, const char *token)
{
	struct sp_db_stmt *s;
	int rc;

	if (sp_db_prepare(st->db, "INSERT INTO status VALUES "
	    "(1, " NOW_SQL ", ?1, ?2) ON CONFLICT (id) DO UPDATE SET "
	    "received = excluded.received, token = excluded.token, "
	    "doc = excluded.doc", &s) != 0)
		return SP_ERR_SYSTEM;
	if (bind_opt(s, 1, token ? token : "") || bind_opt(s, 2, doc)) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	if ((rc = finish(s)) != 0)
		return rc;
	/* And per node (the reporting token), so several DMZ nodes stay apart. */
	if (sp_db_prepare(st->db, "INSERT INTO node_status VALUES "
	    "(?1, " NOW_SQL ", ?2) ON CONFLICT (token) DO UPDATE SET "
	    "received = excluded.received, doc = excluded.doc", &s) != 0)
		return SP_ERR_SYSTEM;
	if (bind_opt(s, 1, token ? token : "") || bind_opt(s, 2, doc)) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	return finish(s);
}

int
sp_store_node_status(struct sp_store *st, json_object **arr)
{
	struct sp_db_stmt *s;
	json_object *a, *o, *doc;
	int rc;

	if ((a = json_object_new_array()) == NULL)
		return SP_ERR_NOMEM;
	if (sp_db_prepare(st->db, "SELECT token, received, doc FROM "
	    "node_status ORDER BY token", &s) != 0) {
		json_object_put(a);
		return SP_ERR_SYSTEM;
	}
	while ((rc = sp_db_step(s)) == SP_DB_ROW) {
		doc = json_tokener_parse(sp_db_column_text(s, 2));
		if ((o = json_object_new_object()) == NULL) {
			json_object_put(doc);
			continue;
		}
		add_col(o, s, 0, "node");
		add_col(o, s, 1, "received");
		json_object_object_add(o, "status", doc);
		json_object_array_add(a, o);
	}
	sp_db_finalize(s);
	if (rc != SP_DB_DONE) {
		json_object_put(a);
		return SP_ERR_SYSTEM;
	}
	*arr = a;
	return SP_OK;
}

int
sp_store_status_get(struct sp_store *st, json_object **obj)
{
	struct sp_db_stmt *s;
	json_object *o = NULL, *doc;
	int rc;

	*obj = NULL;
	if (sp_db_prepare(st->db, "SELECT received, token, doc FROM status "
	    "WHERE id = 1", &s) != 0)
		return SP_ERR_SYSTEM;
	if ((rc = sp_db_step(s)) == SP_DB_ROW) {
		doc = json_tokener_parse(sp_db_column_text(s, 2));
		if ((o = json_object_new_object()) != NULL) {
			add_col(o, s, 0, "received");
			add_col(o, s, 1, "reported_by");
			json_object_object_add(o, "status", doc);
		} else
			json_object_put(doc);
	}
	sp_db_finalize(s);
	if (rc != SP_DB_ROW && rc != SP_DB_DONE)
		return SP_ERR_SYSTEM;
	*obj = o;
	return SP_OK;
}

int
sp_store_rules_purge(struct sp_store *st, const char *now,
    void (*each)(void *, int64_t, const char *, const char *), void *arg,
    int *n, int64_t *rev)
{
	struct sp_db_stmt *s = NULL;
	int rc, r = SP_ERR_SYSTEM;

	*n = 0;
	if (sp_db_begin_write(st->db) != 0)
		return SP_ERR_SYSTEM;
	if (sp_db_prepare(st->db, "SELECT id, match_text, valid_until FROM "
	    "rules WHERE valid_until IS NOT NULL AND valid_until <= ?1 ORDER BY "
	    "id", &s) != 0 || bind_opt(s, 1, now))
		goto fail;
	while ((rc = sp_db_step(s)) == SP_DB_ROW) {
		if (each != NULL)
			each(arg, sp_db_column_int64(s, 0),
			    sp_db_column_text(s, 1),
			    sp_db_column_text(s, 2));
		(*n)++;
	}
	sp_db_finalize(s);
	s = NULL;
	if (rc != SP_DB_DONE)
		goto fail;
	if (*n == 0) {
		sp_db_rollback(st->db);
		return SP_OK;
	}
	if (sp_db_prepare(st->db, "DELETE FROM rules WHERE valid_until IS "
	    "NOT NULL AND valid_until <= ?1", &s) != 0 ||
	    bind_opt(s, 1, now))
		goto fail;
	r = finish(s);
	s = NULL;
	if (r != 0 || (r = sp_store_bump(st, rev)) != 0 ||
	    (r = sp_db_commit(st->db)) != 0)
		goto fail;
	return SP_OK;
fail:
	sp_db_finalize(s);
	sp_db_rollback(st->db);
	*n = 0;
	return r ? r : SP_ERR_SYSTEM;
}

int
sp_store_rules_next_expiry(struct sp_store *st, const char *now, char out[21])
{
	struct sp_db_stmt *s;
	const char *v;
	int rc;

	out[0] = '\0';
	if (sp_db_prepare(st->db, "SELECT MIN(valid_until) FROM rules "
	    "WHERE valid_until IS NOT NULL AND valid_until > ?1", &s) != 0)
		return SP_ERR_SYSTEM;
	if (bind_opt(s, 1, now)) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	if ((rc = sp_db_step(s)) == SP_DB_ROW &&
	    (v = sp_db_column_text(s, 0)) != NULL &&
	    strlen(v) == 20)
		memcpy(out, v, 21);
	sp_db_finalize(s);
	return rc == SP_DB_ROW || rc == SP_DB_DONE ? SP_OK : SP_ERR_SYSTEM;
}
