/*
 * store_users.c - panel users in the store's database (users.h). The table
 * is created on first use, so no schema version is spent on it.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "api/db.h"

#include "api/store_int.h"
#include "api/users.h"
#include "core/err.h"

static int
ensure_table(struct sp_store *st)
{
	return sp_store_exec(st, "CREATE TABLE IF NOT EXISTS panel_users ("
	    "name TEXT PRIMARY KEY, role TEXT NOT NULL, "
	    "password_hash TEXT NOT NULL, "
	    "changed TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')))");
}

int
sp_store_user_set(struct sp_store *st, const char *name, enum sp_role role,
    const char *hash)
{
	struct sp_db_stmt *s;
	int r;

	if (role != SP_ROLE_ADMIN && role != SP_ROLE_READ)
		return SP_ERR_INVALID;
	if ((r = ensure_table(st)) != 0)
		return r;
	if (sp_db_prepare(st->db, "INSERT INTO panel_users "
	    "(name, role, password_hash) VALUES (?1, ?2, ?3) "
	    "ON CONFLICT (name) DO UPDATE SET role = excluded.role, "
	    "password_hash = excluded.password_hash, "
	    "changed = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')", &s) != 0)
		return SP_ERR_SYSTEM;
	if (sp_db_bind_text(s, 1, name) != 0 ||
	    sp_db_bind_text(s, 2, sp_role_name(role)) !=
	    0 ||
	    sp_db_bind_text(s, 3, hash) != 0) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	r = sp_db_step(s);
	sp_db_finalize(s);
	return r == SP_DB_DONE ? SP_OK : SP_ERR_SYSTEM;
}

int
sp_store_user_get(struct sp_store *st, const char *name, enum sp_role *role,
    char *hash, size_t hashlen)
{
	const char *ro, *h;
	struct sp_db_stmt *s;
	int r;

	if ((r = ensure_table(st)) != 0)
		return r;
	if (sp_db_prepare(st->db, "SELECT role, password_hash FROM "
	    "panel_users WHERE name = ?1", &s) != 0)
		return SP_ERR_SYSTEM;
	if (sp_db_bind_text(s, 1, name) != 0) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	if ((r = sp_db_step(s)) != SP_DB_ROW) {
		sp_db_finalize(s);
		return r == SP_DB_DONE ? SP_ERR_NOT_FOUND : SP_ERR_SYSTEM;
	}
	ro = sp_db_column_text(s, 0);
	h = sp_db_column_text(s, 1);
	r = SP_OK;
	if (ro != NULL && strcmp(ro, "admin") == 0)
		*role = SP_ROLE_ADMIN;
	else if (ro != NULL && strcmp(ro, "read") == 0)
		*role = SP_ROLE_READ;
	else
		r = SP_ERR_INVALID;
	if (r == 0 && (h == NULL || (size_t)snprintf(hash, hashlen, "%s", h) >=
	    hashlen))
		r = SP_ERR_INVALID;
	sp_db_finalize(s);
	return r;
}
