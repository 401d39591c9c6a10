/*
 * store_blocks.c - the brake blocks the proxy reports, in the store's
 * database (see blocks.h). Not configuration: no revision, imports and
 * renders never read or replace this table.
 */
#include "config.h"

#include <sqlite3.h>

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
	sqlite3_stmt *s;
	int r;

	if ((r = ensure_table(st)) != 0)
		return r;
	if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO brake_blocks "
	    "(address, blocked_until, failures, window_ms, block_ms, "
	    "reported_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &s, NULL) !=
	    SQLITE_OK)
		return SP_ERR_SYSTEM;
	if (sqlite3_bind_text(s, 1, address, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(s, 2, blocked_until, -1, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, failures) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 4, window_ms) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 5, block_ms) != SQLITE_OK ||
	    sqlite3_bind_text(s, 6, reported_by, -1, SQLITE_STATIC) !=
	    SQLITE_OK) {
		sqlite3_finalize(s);
		return SP_ERR_SYSTEM;
	}
	r = sqlite3_step(s);
	sqlite3_finalize(s);
	return r == SQLITE_DONE ? SP_OK : SP_ERR_SYSTEM;
}

int
sp_store_brake_blocks(struct sp_store *st, const char *now, json_object **arr)
{
	static const char *const cols[] = { "address", "blocked_until",
		"failures", "window_ms", "block_ms", "reported_by", "reported" };
	sqlite3_stmt *s;
	json_object *o;
	int r, i;

	*arr = NULL;
	if ((r = ensure_table(st)) != 0)
		return r;
	/* Housekeeping: a block that ended is history (the proxy's log). */
	if (sqlite3_prepare_v2(st->db, "DELETE FROM brake_blocks WHERE "
	    "blocked_until <= ?1", -1, &s, NULL) != SQLITE_OK)
		return SP_ERR_SYSTEM;
	sqlite3_bind_text(s, 1, now, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	sqlite3_finalize(s);
	if (r != SQLITE_DONE)
		return SP_ERR_SYSTEM;
	if (sqlite3_prepare_v2(st->db, "SELECT address, blocked_until, "
	    "failures, window_ms, block_ms, reported_by, reported FROM "
	    "brake_blocks ORDER BY blocked_until, address", -1, &s, NULL) !=
	    SQLITE_OK)
		return SP_ERR_SYSTEM;
	if ((*arr = json_object_new_array()) == NULL) {
		sqlite3_finalize(s);
		return SP_ERR_NOMEM;
	}
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		o = json_object_new_object();
		for (i = 0; i < 7; i++) {
			if (i >= 2 && i <= 4)
				json_object_object_add(o, cols[i],
				    json_object_new_int64(sqlite3_column_int64(s,
				    i)));
			else
				json_object_object_add(o, cols[i],
				    sqlite3_column_type(s, i) == SQLITE_NULL ?
				    NULL : json_object_new_string((const char *)
				    sqlite3_column_text(s, i)));
		}
		json_object_array_add(*arr, o);
	}
	sqlite3_finalize(s);
	if (r != SQLITE_DONE) {
		json_object_put(*arr);
		*arr = NULL;
		return SP_ERR_SYSTEM;
	}
	return SP_OK;
}
