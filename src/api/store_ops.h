/*
 * store_ops.h - the operations side of smartproxy-api's SQLite store: session
 * audit records, events as passed to the event script, the latest proxy
 * status, and the purge of expired log-ignore rules (docs/api.md 5,
 * docs/operations.md).
 *
 * These tables are not part of the configuration data model: writing them
 * never bumps the revision (only the purge, which changes rules, does). They
 * come with schema version 2 (store.c upgrades a version-1 file in place).
 *
 * Ownership: as in store.h; json-c objects handed out belong to the caller,
 * input strings are copied by SQLite.
 */
#ifndef SP_API_STORE_OPS_H
#define SP_API_STORE_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

struct sp_store;

/* Schema version 2 (executed inside store.c's migration transaction). */
extern const char sp_store_schema_v2[];

/* Most rows kept per table; older rows are deleted as new ones arrive. */
#define SP_STORE_SESSIONS_MAX 100000
#define SP_STORE_EVENTS_MAX 10000

/*
 * One audit record (already validated by the caller, an object as in
 * docs/api.md "POST /v1/sessions"); *id gets its row id.
 */
int sp_store_session_add(struct sp_store *st, json_object *rec,
    const char *token, int64_t *id);
/* Records with `partner` (or all), ended in [since, until) (NULL: open),
 * oldest first, at most `limit`. */
int sp_store_sessions(struct sp_store *st, const char *partner,
    const char *since, const char *until, int limit, json_object **arr);

/* One event as handed to the script (or counted); *id gets its row id. */
struct sp_store_event {
	const char *time, *type, *severity, *partner, *source_address,
	    *session, *message, *outcome;
	const char *node;       /* the DMZ node (token name); NULL: the api's */
	int64_t count;
};
int sp_store_event_add(struct sp_store *st, const struct sp_store_event *ev,
    int64_t *id);
int sp_store_event_set_outcome(struct sp_store *st, int64_t id,
    const char *outcome);
int sp_store_events(struct sp_store *st, const char *since, int limit,
    json_object **arr);

/*
 * Schema version 8: event_claims, the de-duplication windows that several
 * instances on one database share (events.c). Its own block in store.c.
 */
extern const char sp_store_schema_v8[];

/*
 * Claim the window of one kind of event (`kind`: a digest of what makes
 * events the same) for `instance` until until_ms (Unix ms). *won: this
 * instance runs the script for it; false when another instance holds an
 * unexpired claim (now_ms), then it is that instance's to run. Atomic
 * across instances: one statement under the unique key.
 */
int sp_store_event_claim(struct sp_store *st, const char *kind,
    const char *instance, int64_t now_ms, int64_t until_ms, bool *won);

/* The latest status document (replaces the previous one). */
int sp_store_status_set(struct sp_store *st, const char *doc,
    const char *token);
/* *arr: [{"node": token name, "received", "status": {...}}], one per node. */
int sp_store_node_status(struct sp_store *st, json_object **arr);
/* *obj: {"received", "reported_by", "status": {...}} or NULL if none yet. */
int sp_store_status_get(struct sp_store *st, json_object **obj);

/*
 * Delete every rule whose valid_until is at or before `now` (a time string
 * of docs/api.md) in one transaction with one new revision; `each` is called
 * for every purged rule before the commit. *n gets the number purged (0: no
 * transaction, no revision), *rev the new revision.
 */
int sp_store_rules_purge(struct sp_store *st, const char *now,
    void (*each)(void *arg, int64_t id, const char *match,
    const char *valid_until), void *arg, int *n, int64_t *rev);
/* The earliest valid_until of any rule after `now`, or "" if none. */
int sp_store_rules_next_expiry(struct sp_store *st, const char *now,
    char out[21]);

#endif
