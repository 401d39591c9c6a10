/*
 * store_decide.c - the online blocks of decide.h in the store's database.
 * Not part of the configuration model: no revision is bumped, renders and
 * imports never read or replace this table. Ownership: nothing is kept.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "api/db.h"

#include "api/decide.h"
#include "api/store_int.h"
#include "core/err.h"

static int
ensure_table(struct sp_store *st)
{
	return sp_store_exec(st, "CREATE TABLE IF NOT EXISTS online_blocks ("
	    "odette_id TEXT PRIMARY KEY, esid_reason TEXT NOT NULL, "
	    "since TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')))");
}

int
sp_store_online_block_get(struct sp_store *st, const char *odette_id,
    bool *blocked, char esid[3])
{
	struct sp_db_stmt *s;
	const char *e;
	int r;

	*blocked = false;
	if ((r = ensure_table(st)) != 0)
		return r;
	if (sp_db_prepare(st->db, "SELECT esid_reason FROM online_blocks "
	    "WHERE odette_id = ?1", &s) != 0)
		return SP_ERR_SYSTEM;
	if (sp_db_bind_text(s, 1, odette_id) != 0) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	r = sp_db_step(s);
	if (r == SP_DB_ROW) {
		e = sp_db_column_text(s, 0);
		*blocked = true;
		snprintf(esid, 3, "%s", e != NULL && strlen((const char *)e) == 2 ?
		    (const char *)e : "03");
		r = SP_DB_DONE;
	}
	sp_db_finalize(s);
	return r == SP_DB_DONE ? SP_OK : SP_ERR_SYSTEM;
}

int
sp_store_online_block_set(struct sp_store *st, const char *odette_id,
    const char *esid)
{
	struct sp_db_stmt *s;
	int r;

	if ((r = ensure_table(st)) != 0)
		return r;
	if (sp_db_prepare(st->db, esid != NULL ?
	    "INSERT INTO online_blocks (odette_id, esid_reason) "
	    "VALUES (?1, ?2) ON CONFLICT (odette_id) DO UPDATE SET "
	    "esid_reason = excluded.esid_reason, "
	    "since = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')" : "DELETE FROM online_blocks WHERE odette_id = ?1", &s) != 0)
		return SP_ERR_SYSTEM;
	if (sp_db_bind_text(s, 1, odette_id) != 0 ||
	    (esid != NULL &&
	    sp_db_bind_text(s, 2, esid) != 0)) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	r = sp_db_step(s);
	sp_db_finalize(s);
	return r == SP_DB_DONE ? SP_OK : SP_ERR_SYSTEM;
}

/* Every online block: [{"odette_id", "esid_reason", "since"}], by ID. */
int
sp_store_online_blocks(struct sp_store *st, json_object **arr)
{
	static const char *const cols[] = { "odette_id", "esid_reason",
		"since" };
	struct sp_db_stmt *s;
	json_object *o;
	int r, i;

	*arr = NULL;
	if ((r = ensure_table(st)) != 0)
		return r;
	if (sp_db_prepare(st->db, "SELECT odette_id, esid_reason, since "
	    "FROM online_blocks ORDER BY odette_id", &s) != 0)
		return SP_ERR_SYSTEM;
	if ((*arr = json_object_new_array()) == NULL) {
		sp_db_finalize(s);
		return SP_ERR_NOMEM;
	}

	while ((r = sp_db_step(s)) == SP_DB_ROW) {
		o = json_object_new_object();
		for (i = 0; i < 3; i++)
			json_object_object_add(o, cols[i], json_object_new_string(
			    sp_db_column_text(s, i)));
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
