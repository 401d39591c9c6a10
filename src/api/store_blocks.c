/*
 * store_blocks.c - the brake blocks the proxy reports, in the store's
 * database (see blocks.h). Not configuration: no revision, imports and
 * renders never read or replace this table.
 */
#include "config.h"

#include "api/db.h"

#include "api/blocks.h"
#include "api/store_int.h"
#include "core/err.h"

static int
ensure_table(struct sp_store *st)
{
	return sp_store_exec(st, "CREATE TABLE IF NOT EXISTS brake_blocks ("
	    "address TEXT PRIMARY KEY, blocked_until TEXT NOT NULL, "
	    "failures INTEGER NOT NULL, window_ms INTEGER NOT NULL, "
	    "block_ms INTEGER NOT NULL, reported_by TEXT, "
	    "reported TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')))");
}

int
sp_store_brake_block_add(struct sp_store *st, const char *address,
    const char *blocked_until, int64_t failures, int64_t window_ms,
    int64_t block_ms, const char *reported_by)
{
	struct sp_db_stmt *s;
	int r;

	if ((r = ensure_table(st)) != 0)
		return r;
	if (sp_db_prepare(st->db, "INSERT INTO brake_blocks "
	    "(address, blocked_until, failures, window_ms, block_ms, "
	    "reported_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
	    "ON CONFLICT (address) DO UPDATE SET "
	    "blocked_until = excluded.blocked_until, "
	    "failures = excluded.failures, window_ms = excluded.window_ms, "
	    "block_ms = excluded.block_ms, reported_by = excluded.reported_by, "
	    "reported = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')", &s) != 0)
		return SP_ERR_SYSTEM;
	if (sp_db_bind_text(s, 1, address) != 0 ||
	    sp_db_bind_text(s, 2, blocked_until) !=
	    0 ||
	    sp_db_bind_int64(s, 3, failures) != 0 ||
	    sp_db_bind_int64(s, 4, window_ms) != 0 ||
	    sp_db_bind_int64(s, 5, block_ms) != 0 ||
	    sp_db_bind_text(s, 6, reported_by) !=
	    0) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	r = sp_db_step(s);
	sp_db_finalize(s);
	return r == SP_DB_DONE ? SP_OK : SP_ERR_SYSTEM;
}

int
sp_store_brake_blocks(struct sp_store *st, const char *now, json_object **arr)
{
	static const char *const cols[] = { "address", "blocked_until",
		"failures", "window_ms", "block_ms", "reported_by", "reported" };
	struct sp_db_stmt *s;
	json_object *o;
	int r, i;

	*arr = NULL;
	if ((r = ensure_table(st)) != 0)
		return r;
	/* Housekeeping: a block that ended is history (the proxy's log). */
	if (sp_db_prepare(st->db, "DELETE FROM brake_blocks WHERE "
	    "blocked_until <= ?1", &s) != 0)
		return SP_ERR_SYSTEM;
	sp_db_bind_text(s, 1, now);
	r = sp_db_step(s);
	sp_db_finalize(s);
	if (r != SP_DB_DONE)
		return SP_ERR_SYSTEM;
	if (sp_db_prepare(st->db, "SELECT address, blocked_until, "
	    "failures, window_ms, block_ms, reported_by, reported FROM "
	    "brake_blocks ORDER BY blocked_until, address", &s) != 0)
		return SP_ERR_SYSTEM;
	if ((*arr = json_object_new_array()) == NULL) {
		sp_db_finalize(s);
		return SP_ERR_NOMEM;
	}
	while ((r = sp_db_step(s)) == SP_DB_ROW) {
		o = json_object_new_object();
		for (i = 0; i < 7; i++) {
			if (i >= 2 && i <= 4)
				json_object_object_add(o, cols[i],
				    json_object_new_int64(sp_db_column_int64(s,
				    i)));
			else
				json_object_object_add(o, cols[i],
				    sp_db_column_null(s, i) ?
				    NULL : json_object_new_string(sp_db_column_text(s, i)));
		}
		json_object_array_add(*arr, o);
	}
	sp_db_finalize(s);
	if (r != SP_DB_DONE) {
		json_object_put(*arr);
		*arr = NULL;
		return SP_ERR_SYSTEM;
	}
	return SP_OK;
}
